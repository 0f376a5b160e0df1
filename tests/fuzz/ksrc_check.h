/* What every kernel source keeps of what the kernel sent (nm_kev.h): a
 * host name or escapes only, a message with no control byte, a numeric
 * address, a port.  A broken invariant aborts (a finding). */
#ifndef NM_KSRC_CHECK_H
#define NM_KSRC_CHECK_H

#include <arpa/inet.h>
#include <errno.h>

#include "fuzz.h"
#include "nm_kev.h"
#include "nm_target.h"

#define KSRC_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static inline void ksrc_check(const struct nm_kev *ev)
{
	unsigned char a[16];

	KSRC_ASSERT(memchr(ev->host, '\0', sizeof(ev->host)) &&
		    memchr(ev->text, '\0', sizeof(ev->text)) &&
		    memchr(ev->peer, '\0', sizeof(ev->peer)) &&
		    memchr(ev->name, '\0', sizeof(ev->name)));
	if (!nm_target_host_name_ok(ev->host))
		for (const char *h = ev->host; *h; h++)
			KSRC_ASSERT(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					   "0123456789._:-\\",
					   *h));
	for (const char *t = ev->text; *t; t++)
		KSRC_ASSERT((unsigned char)*t >= 0x20 && *t != 0x7f);
	for (const char *t = ev->name; *t; t++)
		KSRC_ASSERT((unsigned char)*t >= 0x20 && *t != 0x7f);
	KSRC_ASSERT(!ev->peer[0] || inet_pton(AF_INET, ev->peer, a) == 1 ||
		    inet_pton(AF_INET6, ev->peer, a) == 1);
	KSRC_ASSERT(ev->port <= 65535);
	KSRC_ASSERT(ev->kind >= NM_KEV_NONE && ev->kind <= NM_KEV_XPRT_REPLACE);
}

#endif
