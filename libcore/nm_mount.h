/* nm_mount - NFS mounts from the mount table (libmount). */
#ifndef NM_MOUNT_H
#define NM_MOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "nm_err.h"
#include "nm_mpath.h"

#define NM_MOUNTINFO_DEFAULT "/proc/self/mountinfo"

struct nm_mount {
	char *target;	   /* mount point */
	char *source;	   /* as in the table: server:/export */
	char *fstype;	   /* nfs or nfs4 */
	char *root;	   /* the mountinfo root field ("/" unless a bind) */
	char *source_host; /* the server part of source, brackets removed */
	char *export_path; /* the path part of source */
	char *server;	   /* where the kernel sends RPCs now: addr=, else source_host */
	char *clientaddr;  /* clientaddr= or NULL */
	char *sec;	   /* sec= or "sys" */
	unsigned port;	   /* port= or 0 (2049) */
	int vers;	   /* major version: 4, 3, or 0 when the table does not say */
	int minor;	   /* minor version, -1 when the table does not say */
	int id, parent_id; /* mountinfo's mount IDs (0 when not from mountinfo) */
	unsigned dev_major, dev_minor; /* mountinfo's st_dev of the mount */
};

/*
 * The deepest mount that holds path.  mountinfo NULL means the live table:
 * a relative path starts at the current directory, and symbolic links are
 * followed where no NFS mount covers them (nm_mpath_resolve); below an NFS
 * mount the path is matched as text, so a server that does not answer
 * cannot hang the caller.  With a saved table path must be absolute and is
 * matched as text.  A mount that is not NFSv4 is an error.
 */
int nm_mount_find(const char *mountinfo, const char *path, struct nm_mount *out, char **server_path,
		  struct nm_err *err);

/* nm_mount_find over a table given as text (mountinfo or fstab format),
 * the path placed from cwd with ops (NULL: text only): a pure function,
 * for tests. */
int nm_mount_find_text(const char *table, const char *path, const char *cwd,
		       const struct nm_mpath_ops *ops, struct nm_mount *out, char **server_path,
		       struct nm_err *err);

/* path placed in the table as nm_mount_find does (*abs malloc'd), and
 * whether a hands-off mount (NFS, or any file system not known to be
 * local: nm_mpath_fs_local) covers it or is one of its entries: either way
 * listing it as a directory with stat(2)s of its entries could hang. */
int nm_mount_place(const char *mountinfo, const char *path, char **abs, bool *nfs,
		   struct nm_err *err);

/* Fill out from one entry's fields; exposed for tests. */
int nm_mount_from_fields(const char *target, const char *source, const char *fstype,
			 const char *root, const char *options, struct nm_mount *out,
			 struct nm_err *err);

/* Every NFS mount of the table (NFSv3 ones too: callers filter), in table
 * order.  *out is an array of *n mounts; free with nm_mount_list_free. */
int nm_mount_list(const char *mountinfo, struct nm_mount **out, size_t *n, struct nm_err *err);

/* The NFS mount of list[] that list[i] is mounted on when their servers
 * differ (the kernel mounted list[i] itself on crossing a referral), or
 * NULL. */
const struct nm_mount *nm_mount_referral_parent(const struct nm_mount *list, size_t n, size_t i);

void nm_mount_list_free(struct nm_mount *m, size_t n);

void nm_mount_free(struct nm_mount *m);

#endif
