/* nm_utab - what libmount's users see of a mount after it moved.
 *
 * The kernel keeps a migrated NFS mount's source as it was mounted
 * ("old:/export"): /proc/self/mountinfo cannot be changed.  libmount keeps
 * the userspace mount options of each mount in its own table
 * (/run/mount/utab) and merges them into what findmnt, mount(8) and every
 * libmount user show.  nfsmig puts the current server there, as a user
 * option: x-nfsmig.server=SERVER, and the one it moved from,
 * x-nfsmig.from=OLD.  The other user options are kept; older x-nfsmig.*
 * values are replaced.  The entry goes when the file system is unmounted
 * by umount(8) (libmount removes it). */
#ifndef NM_UTAB_H
#define NM_UTAB_H

#include <stddef.h>

#include "nm_err.h"

/* The user option names nfsmig owns in utab. */
#define NM_UTAB_OPT_SERVER "x-nfsmig.server"
#define NM_UTAB_OPT_FROM   "x-nfsmig.from"

/* Set x-nfsmig.server=server for the mount at mountpoint (the live mount
 * table) in libmount's utab ($LIBMOUNT_UTAB when not setuid, else
 * /run/mount/utab), read, changed and replaced under libmount's own lock
 * (flock on UTAB.lock, at most 5 s waited: -ENOLCK), then read back (-EIO
 * when the option is not there).  server must
 * pass nm_target_host_name_ok (-EINVAL otherwise: nothing written).
 * -ENOENT when nothing is mounted at mountpoint; -ENOTSUP where libmount
 * was built to keep a regular /etc/mtab instead of utab (nm_mtab_update
 * keeps that one). */
int nm_utab_set(const char *mountpoint, const char *server, struct nm_err *err);

/* The same, with x-nfsmig.from=from too (NULL or "": none, and an older
 * x-nfsmig.from is removed). */
int nm_utab_set_moved(const char *mountpoint, const char *server, const char *from,
		      struct nm_err *err);

/* After mountpoint was unmounted without libmount (the kernel expiring a
 * referral's submount, umount2(2) called directly): its utab entry, which
 * umount(8) would have removed, is removed.  0 when removed or there was
 * none; -EBUSY while something is still mounted there (the entry is that
 * mount's). */
int nm_utab_forget(const char *mountpoint, struct nm_err *err);

/* Pure: the targets of utab's text (len bytes) that carry an x-nfsmig.*
 * user option and are not in mounted[0..nmounted) (every mount point of
 * the live table, unmangled): entries an unmount without libmount left
 * behind (a referral's submount expired, umount -l of a child, umount2(2)).
 * Each target once, into *targets (a new array of new strings, *n of
 * them; nm_utab_targets_free).  Lines that are not utab's (no TARGET=)
 * are skipped. */
int nm_utab_stale(const char *text, size_t len, const char *const *mounted, size_t nmounted,
		  char ***targets, size_t *n, struct nm_err *err);
void nm_utab_targets_free(char **targets, size_t n);

/* Every stale entry of nfsmig's (nm_utab_stale against the live table)
 * forgotten with nm_utab_forget, which checks again that nothing is
 * mounted there (never an entry of a mounted file system).  Returns how
 * many were removed, or a negative errno (the utab or the table could
 * not be read; no utab is 0). */
int nm_utab_sweep(struct nm_err *err);

/* Pure: the user options old (a comma-separated list as libmount keeps it,
 * NULL or "" for none) with every x-nfsmig.* option removed and
 * x-nfsmig.server=server (and x-nfsmig.from=from when not NULL or "")
 * appended.  Both names must pass nm_target_host_name_ok (-EINVAL).  *out
 * is a new string. */
int nm_utab_merge_opts(const char *old, const char *server, const char *from, char **out,
		       struct nm_err *err);

/* Pure: utab's text (len bytes) with the last entry of mountpoint given
 * the x-nfsmig.* options (nm_utab_merge_opts on its OPTS), only that
 * value's bytes changed (ATTRS and every other field and line kept); no
 * entry: one added as mount(8) writes it (SRC=source TARGET= ROOT=root
 * OPTS=).  *out is a new string of *outlen bytes. */
int nm_utab_rewrite_text(const char *text, size_t len, const char *mountpoint, const char *source,
			 const char *root, const char *server, const char *from, char **out,
			 size_t *outlen, struct nm_err *err);

#endif
