/* nm_served - where a mount's file system is served now, by the record.
 *
 * After a move the kernel's server (addr=) is a recorded location's, and
 * the file system sits at that location's rootpath there, not at the
 * source's export path: every query to the new server must use it. */
#ifndef NM_SERVED_H
#define NM_SERVED_H

#include <stdbool.h>

#include "nm_store.h"

/* Does name (a host name or address) resolve to the numeric address addr,
 * through the hosts file and NSS, within deadline_ms?  False for a name
 * that is neither (nm_target_host_name_ok) and for no answer in time. */
bool nm_served_by(const char *name, const char *addr, int deadline_ms);

/* The server part of a recorded location "server:/path" ([v6]:/path) when
 * it is a host name or an address (nm_fsloc_location_host), else NULL (or
 * out of memory).  The caller frees it. */
char *nm_served_location_server(const char *loc);

/* The rootpath of the recorded location on server (the kernel's addr=),
 * or NULL when no recorded location is there.  Points into rec. */
const char *nm_served_rootpath(const struct nm_record *rec, const char *server, int deadline_ms);

/* The server-side path spath (the source's export path and below) as it is
 * on server: the export path swapped for the location's rootpath when the
 * record knows one there.  A new string, or NULL when out of memory. */
char *nm_served_path(const struct nm_record *rec, const char *server, const char *spath,
		     int deadline_ms);

#endif
