/* nm_afile - replace a system file atomically, as a whole.
 *
 * Used for the tables nfsmig rewrites (/etc/mtab, /etc/fstab, autofs
 * maps): read them bounded and without following a symbolic link, and put
 * the new text in place through a temporary file in the same directory
 * (O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC), written, fsync'd, given the old
 * file's mode and owner, renamed over it, and the directory fsync'd.  A
 * file changed by someone else between the read and the rename is not
 * replaced (-ESTALE). */
#ifndef NM_AFILE_H
#define NM_AFILE_H

#include <stddef.h>
#include <sys/stat.h>

#include "nm_err.h"

struct nm_afile {
	char *text; /* the bytes read, NUL-terminated */
	size_t len;
	struct stat st; /* of the file read */
};

/* Read path (a regular file, not a symbolic link: -ELOOP; not a regular
 * file: -EINVAL), at most max bytes (-EFBIG beyond). */
int nm_afile_read(const char *path, size_t max, struct nm_afile *f, struct nm_err *err);

/* Replace path with text (len bytes).  f is what nm_afile_read gave: the
 * file must still be that one, unchanged (inode, size, mtime), else
 * -ESTALE.  backup_suffix not NULL: the old file is kept, hard-linked (or
 * copied where links are refused) as PATH + backup_suffix (+ "-N" when that
 * name is taken); *backup (when not NULL) gets that name, malloc'd. */
int nm_afile_replace(const char *path, const struct nm_afile *f, const char *text, size_t len,
		     const char *backup_suffix, char **backup, struct nm_err *err);

void nm_afile_free(struct nm_afile *f);

#endif
