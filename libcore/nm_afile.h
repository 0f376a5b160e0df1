/* nm_afile - replace a system file atomically, as a whole.
 *
 * Used for the tables nfsmig rewrites (/etc/mtab, /etc/fstab, autofs
 * maps): read them bounded and without following a symbolic link, and put
 * the new text in place through a temporary file in the same directory
 * (O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC), written, fsync'd, given the old
 * file's mode and owner, renamed over it, and the directory fsync'd.  A
 * file changed by someone else between the read and the rename is not
 * replaced (-ESTALE).  A temporary left by a replace killed before its
 * rename (".NAME.nfsmig-" and 12 hex digits, ours, a minute old) is
 * removed by the next replace in that directory.  Extended attributes and
 * ACLs of the old file are not carried over (the mode and owner are). */
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

/* path (absolute) in the tree at root, symbolic links resolved as if root
 * were "/" (openat2 RESOLVE_IN_ROOT: none leads out of the tree); where
 * openat2 is refused, a link is not followed (-ELOOP). */
int nm_afile_read_in(const char *root, const char *path, size_t max, struct nm_afile *f,
		     struct nm_err *err);

/* nm_afile_replace: the file was replaced (and its backup kept, named),
 * but the directory's fsync failed: the rename may not survive a crash. */
#define NM_AFILE_UNSYNCED 1

/* Replace path with text (len bytes).  f is what nm_afile_read gave: the
 * file must still be that one, unchanged (inode, size, mtime), else
 * -ESTALE.  backup_suffix not NULL: the old file is kept, hard-linked (or
 * copied where links are refused) as PATH + backup_suffix (+ "-N" when that
 * name is taken); *backup (when not NULL) gets that name, malloc'd.
 * Returns 0, NM_AFILE_UNSYNCED (replaced; err says the directory was not
 * synced; *backup set) or a negative errno (nothing replaced). */
int nm_afile_replace(const char *path, const struct nm_afile *f, const char *text, size_t len,
		     const char *backup_suffix, char **backup, struct nm_err *err);

void nm_afile_free(struct nm_afile *f);

/* The temporary-file steps of a replace, for a writer of a file of its own
 * (nm_prom): nm_afile_open_temp creates ".BASE.TAG-" and 12 hex digits in
 * dirfd (O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, mode 0600), its name into
 * name; returns the fd or a negative errno.  nm_afile_sweep_temps removes
 * such temporaries a writer killed before its rename left: regular files
 * of our user, untouched for a minute.  nm_afile_write_all: all of p, or a
 * negative errno. */
int nm_afile_open_temp(int dirfd, const char *base, const char *tag, char *name, size_t cap);
void nm_afile_sweep_temps(int dirfd, const char *base, const char *tag);
int nm_afile_write_all(int fd, const char *p, size_t len);

#endif
