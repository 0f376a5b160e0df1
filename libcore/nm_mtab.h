/* nm_mtab - /etc/mtab when it is a file of its own.
 *
 * On current systems /etc/mtab is a symbolic link to /proc/self/mounts and
 * shows what the kernel says: nothing to do.  Where it is still a regular
 * file (old installations, some containers), the mount's line names the
 * source as it was mounted; after a move it is rewritten with the current
 * server, keeping the export path and every other byte of the file. */
#ifndef NM_MTAB_H
#define NM_MTAB_H

#include <stddef.h>

#include "nm_err.h"

/* In the file mtab_path, the source of the mount at mountpoint (fields
 * matched after the fstab-style octal escapes are decoded) becomes
 * server:/export (the export path kept as written; an IPv6 server in
 * brackets).  The file is replaced atomically: a temporary file in the
 * same directory (O_NOFOLLOW|O_CLOEXEC|O_EXCL), its mode and owner kept,
 * written, fsync'd, renamed over it, the directory fsync'd.
 * Returns 0 when updated (or already naming server), 1 when mtab_path is
 * not a regular file (a symbolic link, missing): left alone; -ENOENT when
 * the file has no NFS line for mountpoint; -EINVAL for a server that fails
 * nm_target_host_name_ok. */
int nm_mtab_update(const char *mtab_path, const char *mountpoint, const char *server,
		   struct nm_err *err);

/* Pure: the table text (len bytes) with the source of the last NFS line
 * whose mount point is mountpoint (the mount on top) given the new server
 * (only the host part of SERVER:/PATH changes).  Returns 1 and *out
 * (malloc'd, *outlen bytes) the new text; 0 when the line names server
 * already (*out NULL); -ENOENT when there is no such line. */
int nm_mtab_rewrite_text(const char *text, size_t len, const char *mountpoint, const char *server,
			 char **out, size_t *outlen, struct nm_err *err);

#endif
