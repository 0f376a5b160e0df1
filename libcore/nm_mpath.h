/* nm_mpath - a path named on the command line, placed among the mounts
 * without touching NFS: a server that does not answer must not hang a
 * command that was only given a path below its mount. */
#ifndef NM_MPATH_H
#define NM_MPATH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "nm_err.h"

/* How many symbolic links one resolution follows (the kernel's limit). */
#define NM_MPATH_MAX_LINKS 40

/* How long a placed path may grow: a relative path (under PATH_MAX, as the
 * kernel wants it) below a current directory (under PATH_MAX too). */
#define NM_MPATH_MAX (2 * PATH_MAX)

/* One entry of a mount table, as far as placing a path needs it.  nfs:
 * hands off, a file system not known to be local (NFS, and autofs, fuse,
 * overlay, cifs... which may reach a server or mount one when looked at). */
struct nm_mpath_mount {
	const char *target;
	bool nfs;
};

/* Is a file system of this type (mountinfo's) known to be local, safe to
 * lstat(2) in?  Anything not on the list is not. */
bool nm_mpath_fs_local(const char *type);

struct nm_mpath_ops {
	/* Look at abs, which no NFS mount covers: 1 and a symbolic link's
	 * target in *target (malloc'd), 0 for anything else that exists, or a
	 * negative errno (-ENOENT...). */
	int (*link)(const char *abs, char **target, void *arg);
	void *arg;
};

/* The lstat(2)/readlink(2) of the live system, for nm_mpath_resolve. */
extern const struct nm_mpath_ops nm_mpath_live_ops;

/*
 * path as an absolute path without "." or ".." components or repeated
 * slashes.  A relative path is taken from cwd.  With ops, a symbolic link
 * is followed (through ops->link) wherever no NFS mount of mounts[] covers
 * the component; below an NFS mount the path is matched as text and ops is
 * never called, so no server is asked.  ops NULL: text only.  *out is
 * malloc'd.  path is bounded by PATH_MAX, the result by NM_MPATH_MAX, the
 * links by NM_MPATH_MAX_LINKS.
 */
int nm_mpath_resolve(const struct nm_mpath_mount *mounts, size_t n, const char *path,
		     const char *cwd, const struct nm_mpath_ops *ops, char **out,
		     struct nm_err *err);

/* Is target a mount point at or above abs, component-wise? */
bool nm_mpath_covers(const char *target, const char *abs);

/* Does a hands-off mount (nfs set) of mounts[] cover abs? */
bool nm_mpath_on_nfs(const struct nm_mpath_mount *mounts, size_t n, const char *abs);

/* One directory entry; dir from the entry's d_type (no stat); unknown
 * when readdir did not say (a file system without d_type): maybe a
 * directory, offered as a name without '/'. */
struct nm_mpath_entry {
	char *name;
	bool dir;
	bool unknown;
};

struct nm_mpath_list_opts {
	int timeout_ms;
	size_t max; /* entries at most (bounded at 100000) */
	/* Run by the lister before it lists: a non-zero return is the errno
	 * reported.  NULL in use; tests make the lister hang or look at
	 * itself with it. */
	int (*prepare)(const char *dir, void *arg);
	void *arg;
};

/*
 * The entries of dir (without "." and ".."), at most o->max of them, in
 * readdir order, read by another process (a grandchild, so it is never
 * left a zombie of the caller; default signal handlers; no inherited
 * descriptors) within o->timeout_ms: a directory on NFS whose server does
 * not answer costs the deadline, not the command, and the lister is killed.
 * -ETIMEDOUT when the deadline passed, -EINTR when a signal (Ctrl-C)
 * ended the wait.  Free with nm_mpath_entries_free.
 */
int nm_mpath_list_with(const char *dir, const struct nm_mpath_list_opts *o,
		       struct nm_mpath_entry **out, size_t *n, struct nm_err *err);

/* nm_mpath_list_with without a prepare. */
int nm_mpath_list(const char *dir, int timeout_ms, size_t max, struct nm_mpath_entry **out,
		  size_t *n, struct nm_err *err);

void nm_mpath_entries_free(struct nm_mpath_entry *e, size_t n);

#endif
