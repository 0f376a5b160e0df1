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

#include "nm_err.h"

/* The user option names nfsmig owns in utab. */
#define NM_UTAB_OPT_SERVER "x-nfsmig.server"
#define NM_UTAB_OPT_FROM   "x-nfsmig.from"

/* Set x-nfsmig.server=server for the mount at mountpoint (the live mount
 * table), through libmount's update of utab under its lock.  server must
 * pass nm_target_host_name_ok (-EINVAL otherwise: nothing written).
 * -ENOENT when nothing is mounted at mountpoint. */
int nm_utab_set(const char *mountpoint, const char *server, struct nm_err *err);

/* The same, with x-nfsmig.from=from too (NULL or "": none, and an older
 * x-nfsmig.from is removed). */
int nm_utab_set_moved(const char *mountpoint, const char *server, const char *from,
		      struct nm_err *err);

/* Pure: the user options old (a comma-separated list as libmount keeps it,
 * NULL or "" for none) with every x-nfsmig.* option removed and
 * x-nfsmig.server=server (and x-nfsmig.from=from when not NULL or "")
 * appended.  Both names must pass nm_target_host_name_ok (-EINVAL).  *out
 * is a new string. */
int nm_utab_merge_opts(const char *old, const char *server, const char *from, char **out,
		       struct nm_err *err);

#endif
