/* nm_upcall - the dns_resolver key request: description, callout, payload.
 *
 * Pure functions (no keys, no network): the daemon and the upcall program
 * share them, and tests call them directly. */
#ifndef NM_UPCALL_H
#define NM_UPCALL_H

#include <stdbool.h>
#include <stddef.h>

#include "nm_conf.h"
#include "nm_dns.h"
#include "nm_err.h"

/* The kernel bounds a dns_resolver payload (kernel: 1 page less some). */
#define NM_UPCALL_PAYLOAD_MAX 1024

struct nm_upcall_req {
	char name[NM_DNS_NAME_MAX + 1];
	bool want4, want6; /* families to look up */
	bool list;	   /* all addresses, comma-separated */
	bool legacy;	   /* empty callout (the NFS client): exactly one address */
};

/* Is this a request nfsmigd does not serve, for another user of the
 * kernel's dns_resolver: a query type other than a: and aaaa: (AFS's
 * "afsdb:CELL"), or a callout option other than ipv4, ipv6 and list (AFS's
 * "srv=1")?  Those go to key.dns_resolver, as if nfsmig were not there. */
bool nm_upcall_is_foreign(const char *desc, const char *callout);

/* May root run handler (other_requests) named in config?  Only when both
 * are root's and nobody else may write them: the file would otherwise make
 * whoever can write it choose what root runs.  config NULL or missing: no
 * file named the handler (the built-in default).  0 or -EPERM with why. */
int nm_upcall_handler_trusted(const char *config, const char *handler, struct nm_err *err);

/* Parse a key description ("NAME", "a:NAME", "aaaa:NAME") and its callout
 * options ("ipv4 ipv6 list", space-separated).  Anything else is -EINVAL
 * with a message saying what. */
int nm_upcall_parse(const char *desc, const char *callout, struct nm_upcall_req *req,
		    struct nm_err *err);

/* The payload for an answer: one address (preference from conf) or the
 * list; NUL-terminated, *len counting the NUL.  -ENODATA when the answer
 * has no address the request can use. */
int nm_upcall_payload(const struct nm_upcall_req *req, const struct nm_conf *c,
		      const struct nm_dns_answer *ans, char *buf, size_t cap, size_t *len);

/* The shortest key timeout ever set (s).  keyctl_set_timeout(key, 0) and
 * keyctl_reject(key, 0, ...) make a key that never expires: a DNS TTL of 0
 * (common on failover names) must not pin an address for good. */
#define NM_UPCALL_MIN_TIMEOUT 1

/* The key timeout for an answer: its TTL clamped to [min_ttl, max_ttl], the
 * hosts TTL for hosts answers, the cause's timeout for failures; never
 * below NM_UPCALL_MIN_TIMEOUT, whatever the configuration says. */
unsigned nm_upcall_timeout(const struct nm_conf *c, const struct nm_dns_answer *ans);

/* A cached answer, secs after it came: its TTLs count down as DNS's do
 * (hosts and NSS answers have none of their own). */
void nm_upcall_age(struct nm_dns_answer *a, unsigned secs);

/* Seconds the daemon keeps ans in its cache: the key's timeout, but no more
 * than tempfail_ttl when a family asked got no answer in time (the next
 * request asks again rather than live on half an answer). */
unsigned nm_upcall_cache_secs(const struct nm_conf *c, const struct nm_dns_answer *ans);

/* What a key gets for a DNS answer: the one mapping from an answer to a
 * key, shared by the upcall and the daemon. */
struct nm_upcall_result {
	bool ok;			     /* instantiate with payload, else reject */
	char payload[NM_UPCALL_PAYLOAD_MAX]; /* NUL-terminated */
	size_t len;			     /* counting the NUL */
	unsigned timeout;		     /* key timeout (s), never 0 */
	int error;			     /* the errno of a rejection */
	enum nm_dns_status status;	     /* NODATA when no address fits the request */
};

/* The key for ans: the payload and, for a DNS answer, the smallest TTL of
 * the addresses put in it (clamped, as nm_upcall_timeout); a rejection
 * with its errno and timeout when there is no address to give. */
void nm_upcall_answer(const struct nm_upcall_req *req, const struct nm_conf *c,
		      const struct nm_dns_answer *ans, struct nm_upcall_result *res);

/* The share of an upcall's deadline (ms left) it waits for the daemon:
 * half, so that the upcall still has time to resolve by itself when the
 * daemon is alive but stuck (stopped, swapping, blocked). */
int nm_upcall_daemon_share_ms(int left_ms);

/* The time the daemon gives DNS for one request: inside the share an
 * upcall waits for it (deadline from its own configuration), less a
 * margin to send the reply. */
int nm_upcall_daemon_dns_ms(const struct nm_conf *c);

/* The errno a key is rejected with for a failed answer (as key.dns_resolver:
 * ENODATA, EAGAIN, ECONNREFUSED). */
int nm_upcall_reject_errno(enum nm_dns_status s);

#endif
