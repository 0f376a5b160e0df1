/* nm_reach - resolve server names and check each address for reach. */
#ifndef NM_REACH_H
#define NM_REACH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "nm_err.h"

#define NM_REACH_MAX_HOSTS 256
#define NM_REACH_MAX_ADDRS 16 /* per host */

struct nm_reach_addr {
	struct sockaddr_storage sa;
	socklen_t len;
	char text[64]; /* numeric address */
	int result;    /* 0 reached, else negative errno (-ETIMEDOUT ...) */
	int64_t us;    /* connect time when reached */
};

struct nm_reach_host {
	char *name;
	int resolve_error; /* 0, or an EAI_* code */
	struct nm_reach_addr *addr;
	size_t naddr;
};

/* Resolve each name to all its addresses (in parallel), then TCP-connect to
 * port on every address at once; each phase waits at most deadline_ms.
 * hosts[i].name must be set; the rest is filled in. */
int nm_reach_check(struct nm_reach_host *hosts, size_t n, unsigned port, int deadline_ms,
		   struct nm_err *err);

/* "ok 0.3 ms", "refused", "timeout", "unreachable", "error: ..." */
void nm_reach_describe(const struct nm_reach_addr *a, char *buf, size_t len);

void nm_reach_free(struct nm_reach_host *hosts, size_t n);

#endif
