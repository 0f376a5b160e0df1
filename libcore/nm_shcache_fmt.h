/* nm_shcache_fmt - the layout of the daemon's cache file (SOCKET.cache),
 * for nm_shcache and the tests that write bad files. */
#ifndef NM_SHCACHE_FMT_H
#define NM_SHCACHE_FMT_H

#include <stdint.h>

#include "nm_dns.h"

#define SHC_MAGIC   0x6e6d5348u /* "nmSH" */
#define SHC_VERSION 2u
#define SHC_TTL_MAX (7u * 24 * 3600) /* as nm_conf allows */

/* What turns an answer into a key, as the daemon's configuration says. */
struct shc_shape {
	uint32_t prefer, min_ttl, max_ttl, hosts_ttl, negative_ttl, tempfail_ttl, servfail_ttl;
};

struct shc_head {
	uint32_t magic, version, slots, slot_size;
	uint32_t seq;	     /* odd while generation and shape are written */
	uint32_t generation; /* a slot of another one is void (0 is never one) */
	struct shc_shape shape;
};

/* An answer as the file holds it: fixed-width fields, flags as bytes (a
 * bool read from a file could hold any byte). */
struct shc_addr {
	uint32_t family, ttl;
	uint8_t addr[16];
};

struct shc_answer {
	uint32_t status, naddr, ttl;
	uint8_t from_hosts, partial, from_nss, numeric;
	struct shc_addr addr[NM_DNS_MAX_ADDRS];
	char why[sizeof(((struct nm_dns_answer *)0)->why)];
};

struct shc_slot {
	uint32_t seq;	     /* odd while the slot is written */
	uint32_t generation; /* 0: void */
	uint8_t want4, want6;
	char name[NM_DNS_NAME_MAX + 1];
	int64_t resolved_ms, expires_ms;
	struct shc_answer ans;
};

#endif
