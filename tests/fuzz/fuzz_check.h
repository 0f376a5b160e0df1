/* What the harnesses of the NFSv4 client check of a decoded answer,
 * beyond "no crash": what nfsmig keeps of a server's answer holds what its
 * callers rely on.  A broken invariant aborts (a finding). */
#ifndef NM_FUZZ_CHECK_H
#define NM_FUZZ_CHECK_H

#include "fuzz.h"
#include "nm_fattr.h"
#include "nm_fsloc.h"
#include "nm_target.h"

#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Counts of decoded fs_locations within the XDR bounds. */
static inline void fuzz_check_fattr(const struct nm_fattr *f)
{
	const fs_locations4 *l = &f->fs_locations;

	FUZZ_ASSERT(l->fs_root.pathname4_len <= NM_XDR_MAX_COMPONENTS);
	FUZZ_ASSERT(l->locations.locations_len <= NM_XDR_MAX_LOCATIONS);
	for (unsigned i = 0; i < l->locations.locations_len; i++) {
		FUZZ_ASSERT(l->locations.locations_val[i].server.server_len <= NM_XDR_MAX_SERVERS);
		FUZZ_ASSERT(l->locations.locations_val[i].rootpath.pathname4_len <=
			    NM_XDR_MAX_COMPONENTS);
	}
}

/* Every server name kept is a host name or address, or else escaped (a
 * backslash in it, no control byte). */
static inline void fuzz_check_fsloc(const struct nm_fsloc_result *r)
{
	FUZZ_ASSERT(r->nloc <= NM_XDR_MAX_LOCATIONS);
	for (size_t i = 0; i < r->nloc; i++) {
		FUZZ_ASSERT(r->loc[i].nservers <= NM_XDR_MAX_SERVERS);
		for (size_t j = 0; j < r->loc[i].nservers; j++) {
			const char *s = r->loc[i].servers[j];

			FUZZ_ASSERT(s);
			if (nm_target_host_name_ok(s))
				continue;
			FUZZ_ASSERT(strchr(s, '\\'));
			for (const unsigned char *p = (const unsigned char *)s; *p; p++)
				FUZZ_ASSERT(*p >= 0x20 && *p != 0x7f);
		}
	}
}

/* A root's handle is 1..NFS4_FHSIZE bytes; its attributes within bounds. */
static inline void fuzz_check_root(const struct nm_fsloc_root *r)
{
	FUZZ_ASSERT(r->fhlen >= 1 && r->fhlen <= NFS4_FHSIZE);
	fuzz_check_fattr(&r->attrs);
}

#endif
