/* nm_target - "SERVER[:PORT]:/PATH" as given on a command line. */
#ifndef NM_TARGET_H
#define NM_TARGET_H

#include <stdbool.h>

#include "nm_err.h"

struct nm_target {
	char *host;    /* a name, an IPv4 address, or an IPv6 address without [] */
	unsigned port; /* 0 when not given */
	char *path;    /* absolute */
};

/* Does arg name a server path rather than a local file?  ("host:/p") */
bool nm_target_is_remote(const char *arg);

/* Parse host:/path, host:port:/path, [v6]:/path, [v6]:port:/path. */
int nm_target_parse(const char *arg, struct nm_target *out, struct nm_err *err);

void nm_target_free(struct nm_target *t);

/* Is name acceptable as a host name or address (length, characters)? */
bool nm_target_valid_host(const char *name);

/* Is name a server name nfsmig may keep, offer and resolve as it is: a
 * host name per RFC 1123 (labels of letters, digits and inner hyphens, 1-63
 * bytes each, 253 in all, an optional final dot), a dotted-quad IPv4
 * address or an IPv6 address (no brackets, no zone)?  What a server sends
 * that is not (fs_locations) is kept only escaped (nm_esc, NM_ESC_SHELL). */
bool nm_target_host_name_ok(const char *name);

#endif
