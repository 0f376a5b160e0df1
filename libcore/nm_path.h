/* nm_path - server-side paths as lists of components. */
#ifndef NM_PATH_H
#define NM_PATH_H

#include <stddef.h>

#include "nfs4_prot.h"
#include "nm_err.h"

#define NM_PATH_MAX_COMPONENTS 128
#define NM_PATH_MAX_NAME       255

struct nm_path {
	char **comp;
	size_t n;
};

/* The next component of the path at *p, slashes before it skipped: its
 * start, its length in *len (0 at the end); *p moves past it. */
const char *nm_path_next(const char **p, size_t *len);

/* Split an absolute path ("/a//b/./c/../d" -> a, b, d).  ".." stops at the
 * root; empty and "." components are dropped.  Bounded in count and in
 * each component's length. */
int nm_path_split(const char *path, struct nm_path *out, struct nm_err *err);

/* "/" + the first n components joined by "/"; NULL when out of memory. */
char *nm_path_join(const struct nm_path *p, size_t n);

/* A pathname4 from the wire as "/a/b" (what is not printable UTF-8, and
 * the backslash, escaped as \xNN by nm_esc); NULL when out of memory. */
char *nm_path_from_wire(const pathname4 *p);

void nm_path_free(struct nm_path *p);

/* Copy wire bytes into a printable NUL-terminated string (nm_esc with
 * NM_ESC_BACKSLASH: \xNN escapes). */
char *nm_path_printable(const char *bytes, size_t len);

#endif
