/* nm_dns - host name to addresses with their DNS TTLs, under a deadline.
 *
 * The hosts file first (as the system resolver does), then A and AAAA
 * queries in parallel through c-ares (several servers, EDNS0, TCP when
 * truncated, the search list) to the configured nameservers or those of
 * resolv.conf; or, with resolver = nss, getaddrinfo.  Answers are read with
 * libresolv: question echoed, CNAME chain followed from the name asked, a
 * TTL per address (the smallest of its record and the CNAMEs before it). */
#ifndef NM_DNS_H
#define NM_DNS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "nm_conf.h"
#include "nm_err.h"

#define NM_DNS_MAX_ADDRS 32
#define NM_DNS_NAME_MAX	 253

enum nm_dns_status {
	NM_DNS_OK,
	NM_DNS_NXDOMAIN, /* no such name */
	NM_DNS_NODATA,	 /* the name exists, without addresses of that family */
	NM_DNS_TEMPFAIL, /* no answer in time: try again soon */
	NM_DNS_SERVFAIL, /* servers failed or refused, or answered garbage */
};

struct nm_dns_addr {
	int family;   /* AF_INET or AF_INET6 */
	unsigned ttl; /* of this address (the CNAMEs to it included) */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} u;
};

struct nm_dns_answer {
	enum nm_dns_status status;
	struct nm_dns_addr addr[NM_DNS_MAX_ADDRS];
	size_t naddr;
	unsigned ttl;	 /* smallest TTL among the records used */
	bool from_hosts; /* answered by the hosts file (ttl is then default_ttl) */
	bool partial;	 /* OK, but a family asked got no answer in time */
	bool from_nss;	 /* from getaddrinfo (resolver = nss): ttl is default_ttl */
	bool numeric;	 /* the name was an address */
	char why[192];	 /* what happened, for logs */
};

/* Is name a host name nfsmig will look up (letters, digits, '-', '_', '.',
 * labels of 1-63 bytes, 253 in all) or a numeric address? */
bool nm_dns_valid_name(const char *name);

/* Once per program, before any thread resolves (c-ares' global init). */
int nm_dns_init(struct nm_err *err);
void nm_dns_cleanup(void);

/* Resolve name for the families asked; never longer than deadline_ms.
 * "name." is absolute (no search list). */
int nm_dns_resolve(const struct nm_conf *c, const char *name, bool want4, bool want6,
		   int deadline_ms, struct nm_dns_answer *out, struct nm_err *err);

/* Parse one DNS reply for the question (qname, qtype); exposed for tests.
 * Adds addresses to out (bounded), lowers out->ttl; returns a status. */
enum nm_dns_status nm_dns_parse_reply(const unsigned char *msg, size_t len, const char *qname,
				      int qtype, unsigned id, struct nm_dns_answer *out);

/* An answer as c-ares hands it over (matched to its query): the name in its
 * question into asked, then nm_dns_parse_reply for qtype; exposed for the
 * fuzz harness. */
enum nm_dns_status nm_dns_read_answer(const unsigned char *abuf, size_t alen, int qtype,
				      char *asked, size_t cap, struct nm_dns_answer *out);

const char *nm_dns_status_name(enum nm_dns_status s);

/* Where an answer came from, for logs and records: "hosts", "nss",
 * "numeric" or "dns". */
const char *nm_dns_source_name(const struct nm_dns_answer *a);

void nm_dns_addr_str(const struct nm_dns_addr *a, char *buf, size_t len);

#endif
