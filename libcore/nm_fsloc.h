/* nm_fsloc - ask a server for the fs_locations and fsid of a path. */
#ifndef NM_FSLOC_H
#define NM_FSLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_err.h"
#include "nm_fattr.h"
#include "nm_nfs4.h"

struct nm_fsloc_location {
	char **servers; /* one or more names of the same server, each a host
			   name or address, or else escaped (nm_fsloc_server) */
	size_t nservers;
	char *rootpath;
};

struct nm_fsloc_result {
	char *path;	     /* the path asked about, normalized */
	char *fs_path;	     /* the file system described: path or the prefix
				where the server answered MOVED */
	char *rest;	     /* path below fs_path ("" when none) */
	bool absent;	     /* the server says fs_path is not here (MOVED):
				a referral or a file system migrated away */
	nfs_opnum4 moved_op; /* the operation that answered MOVED, if any */
	bool have_fsid;
	uint64_t fsid_major, fsid_minor;
	bool have_locations; /* the server returned fs_locations at all */
	char *fs_root;
	struct nm_fsloc_location *loc;
	size_t nloc;
	unsigned minor;	    /* NFSv4 minor version used */
	unsigned compounds; /* COMPOUNDs this query took */
};

int nm_fsloc_query(struct nm_nfs4 *c, const char *path, struct nm_fsloc_result *out,
		   struct nm_err *err);

/* Fill out from decoded attributes (used by the query and by tests). */
int nm_fsloc_from_fattr(const struct nm_fattr *f, struct nm_fsloc_result *out, struct nm_err *err);

/* What a registration keeps of a file system's root. */
struct nm_fsloc_root {
	unsigned char fh[NFS4_FHSIZE];
	unsigned fhlen;
	struct nm_fattr attrs; /* fsid, fileid, fh_expire_type, fs_locations */
};

/* PUTROOTFH, LOOKUP path, GETFH, GETATTR(fsid, fileid, fh_expire_type,
 * fs_locations).  A path that is absent (MOVED) is -EREMOTE. */
int nm_fsloc_root(struct nm_nfs4 *c, const char *path, struct nm_fsloc_root *out,
		  struct nm_err *err);

void nm_fsloc_result_free(struct nm_fsloc_result *r);

/* A server name from fs_locations as nfsmig keeps it: the name itself when
 * it is a host name or an address (nm_target_host_name_ok), else escaped
 * with NM_ESC_SHELL (its first byte too when nothing else needed it), so
 * it is inert in a shell and on a terminal, always holds a backslash, and
 * never reads as a host name or address.  NULL when out of memory. */
char *nm_fsloc_server(const char *bytes, size_t len);

/* "server:/rootpath" ("[v6]:/rootpath") of a location's j-th server, as a
 * record keeps it; NULL when out of memory. */
char *nm_fsloc_location_string(const fs_location4 *l, unsigned j);

/* The server of a kept "server:/rootpath", when it is a host name or an
 * address (a new string); NULL when it is not, or out of memory. */
char *nm_fsloc_location_host(const char *loc);

#endif
