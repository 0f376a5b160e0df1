/* The upcall's parts without the kernel: DNS replies (good, hostile,
 * truncated), key descriptions and callouts, payload choice, TTLs, the
 * configuration file and the control socket's lines. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nm_conf.h"
#include "nm_ctl.h"
#include "nm_dns.h"
#include "nm_evlog.h"
#include "nm_shcache.h"
#include "nm_shcache_fmt.h"
#include "nm_time.h"
#include "nm_upcall.h"
#include "unit.h"

/* --- a DNS message builder ------------------------------------------------ */

struct msg {
	unsigned char b[4096];
	size_t n;
};

static void put16(struct msg *m, unsigned v)
{
	m->b[m->n++] = (unsigned char)(v >> 8);
	m->b[m->n++] = (unsigned char)v;
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

static void put_name(struct msg *m, const char *name)
{
	while (*name) {
		size_t l = strcspn(name, ".");

		m->b[m->n++] = (unsigned char)l;
		memcpy(m->b + m->n, name, l);
		m->n += l;
		name += l;
		if (*name == '.')
			name++;
	}
	m->b[m->n++] = 0;
}

static void header(struct msg *m, unsigned id, unsigned rcode, unsigned an)
{
	m->n = 0;
	put16(m, id);
	put16(m, 0x8180 | rcode); /* QR RD RA */
	put16(m, 1);
	put16(m, an);
	put16(m, 0);
	put16(m, 0);
}

static void question(struct msg *m, const char *name, unsigned type)
{
	put_name(m, name);
	put16(m, type);
	put16(m, ns_c_in);
}

static void rr(struct msg *m, const char *name, unsigned type, uint32_t ttl, const void *data,
	       unsigned len)
{
	put_name(m, name);
	put16(m, type);
	put16(m, ns_c_in);
	put32(m, ttl);
	put16(m, len);
	memcpy(m->b + m->n, data, len);
	m->n += len;
}

static void rr_cname(struct msg *m, const char *name, uint32_t ttl, const char *target)
{
	struct msg t = { .n = 0 };

	put_name(&t, target);
	rr(m, name, ns_t_cname, ttl, t.b, (unsigned)t.n);
}

static enum nm_dns_status parse(const struct msg *m, const char *q, int type, unsigned id,
				struct nm_dns_answer *a)
{
	memset(a, 0, sizeof(*a));
	a->ttl = UINT32_MAX;
	return nm_dns_parse_reply(m->b, m->n, q, type, id, a);
}

static void test_dns(struct unit *u)
{
	struct msg m;
	struct nm_dns_answer a;
	unsigned char v4[4] = { 192, 0, 2, 7 }, v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	enum nm_dns_status st;
	char text[64];

	header(&m, 0x1234, 0, 2);
	question(&m, "srv.example", ns_t_a);
	rr(&m, "srv.example", ns_t_a, 300, v4, 4);
	rr(&m, "srv.example", ns_t_a, 120, (unsigned char[]){ 192, 0, 2, 8 }, 4);
	st = parse(&m, "srv.example", ns_t_a, 0x1234, &a);
	nm_dns_addr_str(&a.addr[0], text, sizeof(text));
	UNIT_CHECK(u,
		   st == NM_DNS_OK && a.naddr == 2 && a.ttl == 120 &&
			   strcmp(text, "192.0.2.7") == 0,
		   "dns: two A records, the smaller TTL (%u)", a.ttl);
	UNIT_CHECK(u, parse(&m, "srv.example", ns_t_a, 0x1235, &a) == NM_DNS_SERVFAIL,
		   "dns: a reply with another id is refused");
	UNIT_CHECK(u, parse(&m, "other.example", ns_t_a, 0x1234, &a) == NM_DNS_SERVFAIL,
		   "dns: a reply to another question is refused");
	UNIT_CHECK(u, parse(&m, "srv.example", ns_t_aaaa, 0x1234, &a) == NM_DNS_SERVFAIL,
		   "dns: a reply for another type is refused");

	/* Records about other names are ignored: no poisoning. */
	header(&m, 1, 0, 2);
	question(&m, "srv.example", ns_t_a);
	rr(&m, "evil.example", ns_t_a, 300, v4, 4);
	rr(&m, "srv.example", ns_t_aaaa, 300, v6, 16);
	UNIT_CHECK(u, parse(&m, "srv.example", ns_t_a, 1, &a) == NM_DNS_NODATA && a.naddr == 0,
		   "dns: A records of other names are not taken");

	header(&m, 2, ns_r_nxdomain, 0);
	question(&m, "nx.example", ns_t_a);
	UNIT_CHECK(u, parse(&m, "nx.example", ns_t_a, 2, &a) == NM_DNS_NXDOMAIN, "dns: NXDOMAIN");
	header(&m, 3, ns_r_servfail, 0);
	question(&m, "x.example", ns_t_a);
	UNIT_CHECK(u, parse(&m, "x.example", ns_t_a, 3, &a) == NM_DNS_SERVFAIL, "dns: SERVFAIL");

	/* An A record whose data is not 4 bytes. */
	header(&m, 4, 0, 1);
	question(&m, "srv.example", ns_t_a);
	rr(&m, "srv.example", ns_t_a, 300, v6, 5);
	UNIT_CHECK(u, parse(&m, "srv.example", ns_t_a, 4, &a) == NM_DNS_SERVFAIL,
		   "dns: an A record of 5 bytes is refused");

	/* CNAME chain, and a CNAME loop that must end. */
	header(&m, 5, 0, 2);
	question(&m, "alias.example", ns_t_aaaa);
	rr_cname(&m, "alias.example", 30, "real.example");
	rr(&m, "real.example", ns_t_aaaa, 300, v6, 16);
	st = parse(&m, "alias.example", ns_t_aaaa, 5, &a);
	UNIT_CHECK(u, st == NM_DNS_OK && a.naddr == 1 && a.ttl == 30,
		   "dns: CNAME followed, its TTL counts (%u)", a.ttl);
	header(&m, 6, 0, 2);
	question(&m, "a.example", ns_t_a);
	rr_cname(&m, "a.example", 30, "b.example");
	rr_cname(&m, "b.example", 30, "a.example");
	UNIT_CHECK(u, parse(&m, "a.example", ns_t_a, 6, &a) == NM_DNS_NODATA,
		   "dns: a CNAME loop ends");

	/* A flood of records: bounded. */
	header(&m, 7, 0, 100);
	question(&m, "many.example", ns_t_a);
	for (int i = 0; i < 100; i++)
		rr(&m, "many.example", ns_t_a, 60, (unsigned char[]){ 10, 0, 0, (unsigned char)i },
		   4);
	UNIT_CHECK(u,
		   parse(&m, "many.example", ns_t_a, 7, &a) == NM_DNS_OK &&
			   a.naddr == NM_DNS_MAX_ADDRS,
		   "dns: 100 addresses are kept to %d", NM_DNS_MAX_ADDRS);

	/* Every truncation and every corrupted byte: no crash, a status. */
	header(&m, 8, 0, 2);
	question(&m, "alias.example", ns_t_a);
	rr_cname(&m, "alias.example", 30, "real.example");
	rr(&m, "real.example", ns_t_a, 300, v4, 4);
	int ok = 0, bad = 0;
	for (size_t cut = 0; cut < m.n; cut++) {
		struct msg t = m;

		t.n = cut;
		if (parse(&t, "alias.example", ns_t_a, 8, &a) == NM_DNS_OK)
			bad++;
	}
	UNIT_CHECK(u, bad == 0, "dns: all %zu truncations fail (%d answered)", m.n, bad);
	bad = 0;
	for (size_t pos = 0; pos < m.n; pos++) {
		struct msg t = m;

		t.b[pos] ^= 0xff;
		st = parse(&t, "alias.example", ns_t_a, 8, &a);
		ok += st == NM_DNS_OK;
		/* An answer has its one address; a failure leaves none behind. */
		bad += st == NM_DNS_OK ? a.naddr != 1 : a.naddr != 0;
	}
	UNIT_CHECK(u, bad == 0,
		   "dns: %zu corrupted copies answer one address or none (%d answered, %d not so)",
		   m.n, ok, bad);

	/* A reply refused half-way (its second record is bad) adds nothing:
	 * the other family's answer must not take its first address. */
	header(&m, 9, 0, 2);
	question(&m, "srv.example", ns_t_a);
	rr(&m, "srv.example", ns_t_a, 300, v4, 4);
	rr(&m, "srv.example", ns_t_a, 300, v6, 5);
	st = parse(&m, "srv.example", ns_t_a, 9, &a);
	UNIT_CHECK(u, st == NM_DNS_SERVFAIL && a.naddr == 0,
		   "dns: a reply refused half-way leaves no address (%zu)", a.naddr);

	/* The same address twice: once, with the smaller TTL; a TTL per
	 * address, the CNAMEs before it counted. */
	header(&m, 10, 0, 4);
	question(&m, "alias.example", ns_t_a);
	rr_cname(&m, "alias.example", 200, "real.example");
	rr(&m, "real.example", ns_t_a, 300, v4, 4);
	rr(&m, "real.example", ns_t_a, 100, (unsigned char[]){ 192, 0, 2, 8 }, 4);
	rr(&m, "real.example", ns_t_a, 250, v4, 4);
	st = parse(&m, "alias.example", ns_t_a, 10, &a);
	UNIT_CHECK(u,
		   st == NM_DNS_OK && a.naddr == 2 && a.addr[0].ttl == 200 &&
			   a.addr[1].ttl == 100 && a.ttl == 100,
		   "dns: duplicates merged, TTL per address (%zu: %u %u)", a.naddr, a.addr[0].ttl,
		   a.addr[1].ttl);
}

static void test_names(struct unit *u)
{
	char long_label[80], long_name[300];

	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	memset(long_name, 'a', 299);
	for (int i = 60; i < 299; i += 61)
		long_name[i] = '.';
	long_name[299] = '\0';
	UNIT_CHECK(u, nm_dns_valid_name("srv-1.example_x.test"), "name: letters, digits, - _ .");
	UNIT_CHECK(u, nm_dns_valid_name("2001:db8::1") && nm_dns_valid_name("192.0.2.1"),
		   "name: numeric addresses");
	UNIT_CHECK(u,
		   !nm_dns_valid_name("") && !nm_dns_valid_name("a..b") &&
			   !nm_dns_valid_name(".a") && !nm_dns_valid_name("-a.b") &&
			   !nm_dns_valid_name("a b") && !nm_dns_valid_name("a;rm") &&
			   !nm_dns_valid_name("a\nb"),
		   "name: empty labels, spaces, shell and control characters refused");
	UNIT_CHECK(u, !nm_dns_valid_name(long_label), "name: a 64-byte label is refused");
	UNIT_CHECK(u, !nm_dns_valid_name(long_name), "name: 299 bytes are refused");
}

static void test_requests(struct unit *u)
{
	struct nm_upcall_req r;
	struct nm_err err;

	UNIT_CHECK(u,
		   nm_upcall_parse("srv.example", "", &r, &err) == 0 && r.legacy && r.want4 &&
			   r.want6 && !r.list,
		   "request: the NFS client's empty callout asks both families, one address");
	UNIT_CHECK(u, nm_upcall_parse("a:srv.example", "", &r, &err) == 0 && r.want4 && !r.want6,
		   "request: a: asks IPv4");
	UNIT_CHECK(u,
		   nm_upcall_parse("aaaa:srv.example", "list", &r, &err) == 0 && !r.want4 &&
			   r.want6 && r.list,
		   "request: aaaa: with list");
	UNIT_CHECK(u,
		   nm_upcall_parse("2001:db8::1", "", &r, &err) == 0 &&
			   strcmp(r.name, "2001:db8::1") == 0,
		   "request: an IPv6 literal is a name, not a query type");
	{
		/* IPv6 literals whose first group is all letters, "aaaa" too:
		 * names for both families, never a query type. */
		static const char *const lit[] = { "abcd::1", "dead:beef::1", "aaaa::1", "a::1" };

		for (size_t i = 0; i < sizeof(lit) / sizeof(lit[0]); i++)
			UNIT_CHECK(u,
				   nm_upcall_parse(lit[i], "", &r, &err) == 0 &&
					   strcmp(r.name, lit[i]) == 0 && r.want4 && r.want6,
				   "request: IPv6 literal %s is a name: %s", lit[i],
				   nm_upcall_parse(lit[i], "", &r, &err) == 0 ? "ok" : err.msg);
	}
	UNIT_CHECK(u,
		   nm_upcall_parse("afsdb:cell.example", "", &r, &err) == -EINVAL &&
			   strstr(err.msg, "afsdb"),
		   "request: other query types are refused: %s", err.msg);
	UNIT_CHECK(u, nm_upcall_parse("srv.example", "ipv4 ttl", &r, &err) == -EINVAL,
		   "request: unknown callout options are refused: %s", err.msg);
	UNIT_CHECK(u, nm_upcall_parse("x\x01y", "", &r, &err) == -EINVAL,
		   "request: control bytes are refused");

	/* Who serves a request: nfsmigd, or key.dns_resolver (AFS, CIFS...). */
	static const struct {
		const char *desc, *callout;
		bool foreign;
	} who[] = {
		{ "srv.example", "", false },
		{ "srv.example", NULL, false },
		{ "a:srv.example", "ipv4", false },
		{ "aaaa:srv.example", " list  ipv6 ", false },
		{ "2001:db8::1", "", false },
		{ "abcd::1", "", false },  /* an IPv6 literal, not the type "abcd" */
		{ "bad!name", "", false }, /* ours, and refused by nm_upcall_parse */
		{ "afsdb:cell.example", "", true },
		{ "afsdb:cell.example", "srv=1", true },
		{ "srv.example", "srv=1", true },
		{ "srv.example", "ipv4 ttl", true },
		{ "srv:cell.example", "ipv4", true },
		{ "AFSDB:cell.example", "", false }, /* not a type: a bad name */
		{ "aaaaa:srv.example", "", true },
		{ "a:srv.example", "listx", true },
	};
	for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++)
		UNIT_CHECK(u, nm_upcall_is_foreign(who[i].desc, who[i].callout) == who[i].foreign,
			   "request: '%s' '%s' is %s", who[i].desc,
			   who[i].callout ? who[i].callout : "(null)",
			   who[i].foreign ? "another user's" : "ours");
}

static void test_payloads(struct unit *u)
{
	struct nm_conf c;
	struct nm_upcall_req r;
	struct nm_dns_answer a = { .status = NM_DNS_OK, .ttl = 5 };
	struct nm_err err;
	char buf[NM_UPCALL_PAYLOAD_MAX];
	size_t len;

	nm_conf_defaults(&c);
	a.addr[0].family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::9", &a.addr[0].u.v6);
	a.addr[1].family = AF_INET;
	inet_pton(AF_INET, "192.0.2.9", &a.addr[1].u.v4);
	a.naddr = 2;
	nm_upcall_parse("n.example", "", &r, &err);
	UNIT_CHECK(u,
		   nm_upcall_payload(&r, &c, &a, buf, sizeof(buf), &len) == 0 &&
			   strcmp(buf, "192.0.2.9") == 0 && len == 10,
		   "payload: one address, IPv4 first, NUL counted (%s)", buf);
	c.prefer = NM_PREFER_IPV6;
	UNIT_CHECK(u,
		   nm_upcall_payload(&r, &c, &a, buf, sizeof(buf), &len) == 0 &&
			   strcmp(buf, "2001:db8::9") == 0,
		   "payload: prefer = ipv6");
	nm_upcall_parse("n.example", "list", &r, &err);
	c.prefer = NM_PREFER_IPV4;
	UNIT_CHECK(u,
		   nm_upcall_payload(&r, &c, &a, buf, sizeof(buf), &len) == 0 &&
			   strcmp(buf, "192.0.2.9,2001:db8::9") == 0,
		   "payload: list, comma-separated, preferred family first");
	UNIT_CHECK(u,
		   nm_upcall_payload(&r, &c, &a, buf, 12, &len) == 0 &&
			   strcmp(buf, "192.0.2.9") == 0,
		   "payload: a list is cut at the room there is");
	nm_upcall_parse("a:n.example", "", &r, &err);
	a.naddr = 1; /* the IPv6 address only */
	UNIT_CHECK(u, nm_upcall_payload(&r, &c, &a, buf, sizeof(buf), &len) == -ENODATA,
		   "payload: a: of an IPv6-only name has nothing");

	nm_conf_defaults(&c);
	c.min_ttl = 30;
	c.max_ttl = 100;
	a.ttl = 5;
	UNIT_CHECK(u, nm_upcall_timeout(&c, &a) == 30, "ttl: raised to min_ttl");
	a.ttl = 1000;
	UNIT_CHECK(u, nm_upcall_timeout(&c, &a) == 100, "ttl: lowered to max_ttl");
	a.from_hosts = true;
	UNIT_CHECK(u, nm_upcall_timeout(&c, &a) == c.hosts_ttl,
		   "ttl: hosts answers use default_ttl");
	/* A TTL of 0 never becomes a key timeout of 0 (never expires), not
	 * even with a configuration that was not read through nm_conf_load. */
	a.from_hosts = false;
	c.min_ttl = 0;
	a.ttl = 0;
	UNIT_CHECK(u, nm_upcall_timeout(&c, &a) == NM_UPCALL_MIN_TIMEOUT,
		   "ttl: a DNS TTL of 0 is raised to %d s (%u)", NM_UPCALL_MIN_TIMEOUT,
		   nm_upcall_timeout(&c, &a));
	a.from_hosts = true;
	c.hosts_ttl = 0;
	UNIT_CHECK(u, nm_upcall_timeout(&c, &a) == NM_UPCALL_MIN_TIMEOUT,
		   "ttl: default_ttl 0 is raised too");
	a.from_hosts = false;
	c.negative_ttl = c.tempfail_ttl = c.servfail_ttl = 0;
	for (enum nm_dns_status st = NM_DNS_NXDOMAIN; st <= NM_DNS_SERVFAIL; st++) {
		a.status = st;
		UNIT_CHECK(u, nm_upcall_timeout(&c, &a) == NM_UPCALL_MIN_TIMEOUT,
			   "ttl: a rejection for '%s' never lasts 0 s", nm_dns_status_name(st));
	}
	nm_conf_defaults(&c);
	a.status = NM_DNS_TEMPFAIL;
	UNIT_CHECK(u, nm_upcall_timeout(&c, &a) == 1 && nm_upcall_reject_errno(a.status) == EAGAIN,
		   "reject: temporary failure, 1 s, EAGAIN");
	a.status = NM_DNS_NXDOMAIN;
	UNIT_CHECK(u,
		   nm_upcall_timeout(&c, &a) == 60 && nm_upcall_reject_errno(a.status) == ENODATA,
		   "reject: no such name, 60 s, ENODATA");
}

/* An answer from a list "ADDR/TTL ADDR/TTL". */
static void make_answer(struct nm_dns_answer *a, enum nm_dns_status st, const char *list,
			bool hosts)
{
	char copy[256], *save = NULL;

	memset(a, 0, sizeof(*a));
	a->status = st;
	a->from_hosts = hosts;
	a->ttl = UINT32_MAX;
	snprintf(copy, sizeof(copy), "%s", list);
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		struct nm_dns_addr *d = &a->addr[a->naddr++];
		char *slash = strchr(t, '/');

		*slash = '\0';
		d->ttl = (unsigned)atoi(slash + 1);
		d->family = strchr(t, ':') ? AF_INET6 : AF_INET;
		inet_pton(d->family, t, &d->u);
		if (d->ttl < a->ttl)
			a->ttl = d->ttl;
	}
	if (st != NM_DNS_OK)
		a->ttl = 0;
}

/* The one mapping from a DNS answer to a key answer, from a table. */
static void test_answers(struct unit *u)
{
	static const struct {
		const char *desc, *callout;
		enum nm_dns_status st;
		const char *addrs;
		bool hosts, prefer6;
		bool ok;
		const char *payload;
		unsigned timeout;
		int error;
	} rows[] = {
		/* one address: the TTL of that address, not the smallest of all */
		{ "n", "", NM_DNS_OK, "192.0.2.1/300 2001:db8::1/20", false, false, true,
		  "192.0.2.1", 300, 0 },
		{ "n", "", NM_DNS_OK, "192.0.2.1/300 2001:db8::1/20", false, true, true,
		  "2001:db8::1", 20, 0 },
		/* a list: the smallest TTL of what it holds */
		{ "n", "list", NM_DNS_OK, "192.0.2.1/300 192.0.2.2/40 2001:db8::1/20", false, false,
		  true, "192.0.2.1,192.0.2.2,2001:db8::1", 20, 0 },
		{ "n", "ipv4 list", NM_DNS_OK, "192.0.2.1/300 192.0.2.2/40 2001:db8::1/20", false,
		  false, true, "192.0.2.1,192.0.2.2", 40, 0 },
		/* clamps: 0 and huge TTLs */
		{ "n", "", NM_DNS_OK, "192.0.2.1/0", false, false, true, "192.0.2.1", 1, 0 },
		{ "n", "", NM_DNS_OK, "192.0.2.1/999999", false, false, true, "192.0.2.1", 3600,
		  0 },
		/* the hosts file: default_ttl */
		{ "n", "", NM_DNS_OK, "192.0.2.1/0", true, false, true, "192.0.2.1", 600, 0 },
		/* nothing of the family asked: no data */
		{ "a:n", "", NM_DNS_OK, "2001:db8::1/20", false, false, false, "", 60, ENODATA },
		/* failures */
		{ "n", "", NM_DNS_NXDOMAIN, "", false, false, false, "", 60, ENODATA },
		{ "n", "", NM_DNS_NODATA, "", false, false, false, "", 60, ENODATA },
		{ "n", "", NM_DNS_TEMPFAIL, "", false, false, false, "", 1, EAGAIN },
		{ "n", "", NM_DNS_SERVFAIL, "", false, false, false, "", 10, ECONNREFUSED },
	};
	struct nm_conf c;
	struct nm_upcall_req r;
	struct nm_dns_answer a;
	struct nm_upcall_result res;
	struct nm_err err;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		nm_conf_defaults(&c);
		c.prefer = rows[i].prefer6 ? NM_PREFER_IPV6 : NM_PREFER_IPV4;
		nm_upcall_parse(rows[i].desc, rows[i].callout, &r, &err);
		make_answer(&a, rows[i].st, rows[i].addrs, rows[i].hosts);
		nm_upcall_answer(&r, &c, &a, &res);
		UNIT_CHECK(u,
			   res.ok == rows[i].ok && strcmp(res.payload, rows[i].payload) == 0 &&
				   res.timeout == rows[i].timeout && res.error == rows[i].error &&
				   (!res.ok || res.len == strlen(res.payload) + 1),
			   "answer %zu: '%s' '%s' %s [%s] -> %s '%s' %u s errno %d", i,
			   rows[i].desc, rows[i].callout, nm_dns_status_name(rows[i].st),
			   rows[i].addrs, res.ok ? "ok" : "rejected", res.payload, res.timeout,
			   res.error);
	}
}

/* The daemon's share of an upcall's deadline leaves the upcall time of its
 * own, and the daemon's DNS fits inside that share. */
static void test_shares(struct unit *u)
{
	static const int deadlines[] = { 100, 250, 500, 1000, 2000, 5000, 60000 };
	struct nm_conf c;

	nm_conf_defaults(&c);
	for (size_t i = 0; i < sizeof(deadlines) / sizeof(deadlines[0]); i++) {
		int left = deadlines[i] - 150, share = nm_upcall_daemon_share_ms(left);

		c.deadline_ms = deadlines[i];
		UNIT_CHECK(u,
			   left <= 0 ||
				   (share > 0 && share <= left / 2 + 1 && left - share >= left / 2),
			   "share: deadline %d ms: the daemon gets %d of %d ms, the upcall keeps "
			   "the rest",
			   deadlines[i], share, left);
		UNIT_CHECK(u,
			   nm_upcall_daemon_dns_ms(&c) > 0 &&
				   (left <= 20 || nm_upcall_daemon_dns_ms(&c) < share),
			   "share: deadline %d ms: the daemon's DNS (%d ms) ends inside its share",
			   deadlines[i], nm_upcall_daemon_dns_ms(&c));
	}
}

/* How long the daemon keeps an answer. */
static void test_cache_secs(struct unit *u)
{
	struct nm_dns_answer a = { .status = NM_DNS_OK, .naddr = 1, .ttl = 300 };
	struct nm_conf c;

	nm_conf_defaults(&c);
	UNIT_CHECK(u, nm_upcall_cache_secs(&c, &a) == 300, "cache: a whole answer for its TTL");
	a.partial = true;
	UNIT_CHECK(u, nm_upcall_cache_secs(&c, &a) == c.tempfail_ttl,
		   "cache: one family timed out: tempfail_ttl (%u)", nm_upcall_cache_secs(&c, &a));
	a.ttl = 1;
	c.tempfail_ttl = 5;
	UNIT_CHECK(u, nm_upcall_cache_secs(&c, &a) == 1,
		   "cache: never longer than the answer's own TTL");
}

static void test_conf(struct unit *u)
{
	char path[] = "/tmp/nfsmig-conf-XXXXXX";
	int fd = mkstemp(path);
	struct nm_conf c;
	struct nm_err err;
	static const struct {
		const char *text;
		const char *want;
	} bad[] = {
		{ "[resolver]\nprefer = ipv5\n", ":2: prefer: 'ipv5'" },
		{ "[resolver]\n\nnameservers = 192.0.2.1#99999\n", ":3: nameservers:" },
		{ "[resolver]\ndeadline = 0\n", ":2: deadline:" },
		{ "[resolver]\nmin_ttl = -4\n", ":2: min_ttl:" },
		{ "[resolver]\nmin_ttl = 0\n",
		  ":2: min_ttl: '0' is not a number of seconds (1 to" },
		{ "[resolver]\ndefault_ttl = 0\n", ":2: default_ttl: '0'" },
		{ "[resolver]\nnegative_ttl = 0\n", ":2: negative_ttl: '0'" },
		{ "[resolver]\ntempfail_ttl = 0\n", ":2: tempfail_ttl: '0'" },
		{ "[resolver]\nservfail_ttl = 0\n", ":2: servfail_ttl: '0'" },
		{ "[resolver]\nmax_ttl = 0\n", ":2: max_ttl: '0'" },
		{ "[daemon]\nsocket = relative.sock\n", ":2: socket:" },
		{ "nameservers = 1.2.3.4\n", ":1: 'nameservers' is outside any section" },
		{ "[resolver\nx = 1\n", ":1:" },
		{ "[resolver]\nmin_ttl = 10\nmax_ttl = 5\n", "min_ttl (10) is above max_ttl (5)" },
	};

	UNIT_CHECK(u, fd >= 0, "conf: temp file");
	if (fd < 0)
		return;
	close(fd);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = fopen(path, "w");

		fputs(bad[i].text, f);
		fclose(f);
		nm_conf_defaults(&c);
		memset(&err, 0, sizeof(err));
		UNIT_CHECK(u,
			   nm_conf_load(&c, path, false, &err) == -EINVAL &&
				   strstr(err.msg, bad[i].want),
			   "conf: bad file %zu: %s", i, err.msg);
	}
	FILE *f = fopen(path, "w");
	fputs("# comment\n[resolver]\nnameservers = 192.0.2.1 [2001:db8::1]:5353 "
	      "198.51.100.1#53\nprefer = ipv6\ndeadline = 0.5\n[daemon]\n"
	      "ask_daemon_timeout = 0.1\n",
	      f);
	fclose(f);
	nm_conf_defaults(&c);
	UNIT_CHECK(u,
		   nm_conf_load(&c, path, false, &err) == 0 && c.nns == 3 &&
			   c.prefer == NM_PREFER_IPV6 && c.deadline_ms == 500 &&
			   c.daemon_wait_ms == 100 &&
			   ntohs(((struct sockaddr_in6 *)&c.ns[1])->sin6_port) == 5353,
		   "conf: a good file");
	unlink(path);
	nm_conf_defaults(&c);
	UNIT_CHECK(u, nm_conf_load(&c, "/nonexistent/nfsmig.conf", true, &err) == 0,
		   "conf: a missing default file is no error");
	UNIT_CHECK(u, nm_conf_load(&c, "/nonexistent/nfsmig.conf", false, &err) == -ENOENT,
		   "conf: a missing named file is");
}

static void test_ctl(struct unit *u)
{
	struct nm_ctl_reply r = { .ok = true, .timeout = 300 }, back;
	char line[NM_CTL_LINE_MAX], req[] = "RESOLVE\tsrv.example\tlist", *d, *c;

	snprintf(r.payload, sizeof(r.payload), "192.0.2.1");
	snprintf(r.text, sizeof(r.text), "dns");
	UNIT_CHECK(u, nm_ctl_format_reply(&r, line, sizeof(line)) > 0, "ctl: format a reply");
	line[strcspn(line, "\n")] = '\0';
	UNIT_CHECK(u,
		   nm_ctl_parse_reply(line, &back) == 0 && back.ok && back.timeout == 300 &&
			   strcmp(back.payload, "192.0.2.1") == 0,
		   "ctl: the reply reads back");
	UNIT_CHECK(u,
		   nm_ctl_parse_request(req, &d, &c) == 0 && strcmp(d, "srv.example") == 0 &&
			   strcmp(c, "list") == 0,
		   "ctl: a request splits");
	static const char *garbage[] = { "",
					 "OK",
					 "OK\t",
					 "OK\t-5\tx",
					 "OK\t5\t",
					 "MAYBE\t5\tx",
					 "FAIL\t5\t0\tw",
					 "FAIL\t5\t99999\tw",
					 "OK\t99999999999\tx" };
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
		UNIT_CHECK(u, nm_ctl_parse_reply(garbage[i], &back) == -EBADMSG,
			   "ctl: garbled reply %zu refused", i);
	char bad[] = "RESOLVE\ta\tb\tc";
	UNIT_CHECK(u, nm_ctl_parse_request(bad, &d, &c) == -EINVAL,
		   "ctl: an extra field is refused");
	snprintf(r.text, sizeof(r.text), "tab\there");
	UNIT_CHECK(u, nm_ctl_format_reply(&r, line, sizeof(line)) < 0,
		   "ctl: a field with a tab is never sent");
}

/* STATUS, both sides: the request, the reply formatted and read back; a
 * reply from an older or newer daemon (keys unknown) still reads; garbage
 * is refused. */
static void test_ctl_status(struct unit *u)
{
	struct nm_ctl_status st = { .pid = 4242,
				    .started = 1795596000,
				    .cache = 3,
				    .lookups = 10,
				    .hits = 7,
				    .scans = 99,
				    .jobs = 2,
				    .fails = 1 },
			     back;
	char line[NM_CTL_LINE_MAX];

	snprintf(st.sources, sizeof(st.sources), "tracefs,uevent,rescan");
	UNIT_CHECK(u,
		   nm_ctl_is_status("STATUS") && !nm_ctl_is_status("STATUS\tx") &&
			   !nm_ctl_is_status("RESOLVE\ta\tb") && !nm_ctl_is_status("status"),
		   "ctl: STATUS is a request of its own");
	UNIT_CHECK(u, nm_ctl_format_status(&st, line, sizeof(line)) > 0, "ctl: format a status");
	line[strcspn(line, "\n")] = '\0';
	UNIT_CHECK(u,
		   nm_ctl_parse_status(line, &back) == 0 && back.pid == 4242 &&
			   back.started == 1795596000 && back.cache == 3 && back.lookups == 10 &&
			   back.hits == 7 && back.scans == 99 && back.jobs == 2 &&
			   back.fails == 1 && strcmp(back.sources, "tracefs,uevent,rescan") == 0,
		   "ctl: the status reads back: %s", line);
	UNIT_CHECK(u,
		   nm_ctl_parse_status("STATUS\tpid=7\tnewkey=x", &back) == 0 && back.pid == 7 &&
			   strcmp(back.sources, "none") == 0,
		   "ctl: a key of another version is skipped; no sources is none");
	static const char *garbage[] = { "",
					 "STATUS",
					 "STATUS\t",
					 "STATUS\tcache=3",
					 "STATUS\tpid=0",
					 "STATUS\tpid=-1",
					 "STATUS\tpid=12x",
					 "STATUS\tpid=1\tcache=-3",
					 "STATUS\tpid=1\tsources=a b",
					 "STATUS\tpid=1\tnovalue",
					 "STATUS\tpid=1\thits=99999999999999999999999",
					 "OK\t5\t192.0.2.1\tdns" };
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
		UNIT_CHECK(u, nm_ctl_parse_status(garbage[i], &back) == -EBADMSG,
			   "ctl: garbled status %zu refused", i);
	snprintf(st.sources, sizeof(st.sources), "a b");
	UNIT_CHECK(u, nm_ctl_format_status(&st, line, sizeof(line)) == -EINVAL,
		   "ctl: sources with a blank are never sent");
}

/* The upcall record: a FIFO or a link in its place is refused at once (a
 * FIFO nobody reads would block the writer for ever). */
static void test_record(struct unit *u)
{
	char dir[] = "/tmp/nm-evlog-XXXXXX", path[64], buf[512];
	struct nm_err err = { 0 };
	FILE *f;
	int rc;

	if (!mkdtemp(dir)) {
		UNIT_CHECK(u, false, "record: mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/upcalls.log", dir);
	UNIT_CHECK(u, nm_evlog_upcall(dir, "n", "", "192.0.2.1", 5, "ok", "upcall", &err) == 0,
		   "record: a line in a new file: %s", err.msg);
	f = fopen(path, "r");
	UNIT_CHECK(u, f && fgets(buf, sizeof(buf), f) && strstr(buf, "\"answer\":\"192.0.2.1\""),
		   "record: the line is there");
	if (f)
		fclose(f);
	unlink(path);
	mkfifo(path, 0600);
	alarm(5); /* the old code blocked here: a failure, not a hang */
	rc = nm_evlog_upcall(dir, "n", "", "", 5, "ok", "upcall", &err);
	alarm(0);
	UNIT_CHECK(u, rc < 0 && strstr(err.msg, "upcalls.log"), "record: a FIFO is refused: %s",
		   err.msg);
	unlink(path);
	rc = symlink("/dev/null", path) == 0
		     ? nm_evlog_upcall(dir, "n", "", "", 5, "ok", "upcall", &err)
		     : 0; /* no link made: the check below fails */
	UNIT_CHECK(u, rc < 0, "record: a symbolic link is refused: %s", err.msg);
	unlink(path);
	rmdir(dir);
}

/* Who may name the program root runs for other requests. */
static void test_handler_trust(struct unit *u)
{
	char dir[] = "/tmp/nm-handler-XXXXXX", conf[64], prog[64];
	struct nm_err err = { 0 };
	bool root = geteuid() == 0;
	FILE *f;

	if (!mkdtemp(dir)) {
		UNIT_CHECK(u, false, "handler: mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(conf, sizeof(conf), "%s/nfsmig.conf", dir);
	snprintf(prog, sizeof(prog), "%s/handler", dir);
	if ((f = fopen(conf, "w")))
		fclose(f);
	if ((f = fopen(prog, "w")))
		fclose(f);
	chmod(conf, 0644);
	chmod(prog, 0755);
	UNIT_CHECK(u, (nm_upcall_handler_trusted(conf, prog, &err) == 0) == root,
		   "handler: root's own files are trusted only as root: %s", err.msg);
	chmod(prog, 0775);
	UNIT_CHECK(u,
		   nm_upcall_handler_trusted(NULL, prog, &err) == -EPERM && strstr(err.msg, prog),
		   "handler: a group-writable handler is refused: %s", err.msg);
	chmod(prog, 0757);
	UNIT_CHECK(u, nm_upcall_handler_trusted(NULL, prog, &err) == -EPERM,
		   "handler: a world-writable handler is refused: %s", err.msg);
	chmod(prog, 0755);
	chmod(conf, 0666);
	UNIT_CHECK(u,
		   nm_upcall_handler_trusted(conf, prog, &err) == -EPERM && strstr(err.msg, conf),
		   "handler: a world-writable configuration is refused: %s", err.msg);
	chmod(conf, 0644);
	if (root && chown(prog, 65534, 65534) == 0)
		UNIT_CHECK(u, nm_upcall_handler_trusted(conf, prog, &err) == -EPERM,
			   "handler: another user's handler is refused: %s", err.msg);
	UNIT_CHECK(u, nm_upcall_handler_trusted(conf, dir, &err) < 0,
		   "handler: a directory is refused: %s", err.msg);
	unlink(conf);
	unlink(prog);
	rmdir(dir);
}

/* A writer changing one slot all the time: a reader gets whole answers or
 * none, never half of each. */
struct shc_race {
	struct nm_shcache *sc;
	const char *name;
	volatile int stop;
};

static void race_answer(struct nm_dns_answer *a, int which)
{
	memset(a, 0, sizeof(*a));
	a->status = NM_DNS_OK;
	a->naddr = 1;
	a->ttl = which ? 200 : 100;
	a->addr[0].family = AF_INET;
	a->addr[0].ttl = a->ttl;
	inet_pton(AF_INET, which ? "192.0.2.2" : "192.0.2.1", &a->addr[0].u.v4);
}

static void *race_writer(void *arg)
{
	struct shc_race *r = arg;
	struct nm_dns_answer a[2];
	int64_t now = nm_time_boot_ms();

	race_answer(&a[0], 0);
	race_answer(&a[1], 1);
	for (unsigned i = 0; !r->stop; i++)
		nm_shcache_put(r->sc, r->name, true, false, now, now + 60000, &a[i & 1]);
	return NULL;
}

static void test_shcache_race(struct unit *u, struct nm_shcache *sc, const char *path)
{
	struct shc_race r = { .sc = sc, .name = "race.example.test" };
	struct nm_upcall_req req = { .want4 = true, .legacy = true };
	struct nm_dns_answer got;
	struct nm_conf c;
	struct nm_err err = { 0 };
	int hits = 0, torn = 0;
	int64_t t0;
	pthread_t t;

	snprintf(req.name, sizeof(req.name), "%s", r.name);
	nm_conf_defaults(&c);
	t0 = nm_time_ms();
	if (pthread_create(&t, NULL, race_writer, &r) != 0) {
		UNIT_CHECK(u, false, "shcache: no writer thread");
		return;
	}
	for (int i = 0; i < 20000; i++) {
		if (nm_shcache_lookup(path, &req, &c, &got, &err) != 1)
			continue;
		hits++;
		uint32_t a = ntohl(got.addr[0].u.v4.s_addr) & 0xff;
		/* Aged by the seconds since the put, at most those since t0 (a
		 * loaded machine may take long over the loop): the address and
		 * its TTLs must still be one answer's. */
		unsigned aged = (unsigned)((nm_time_ms() - t0) / 1000) + 1;
		if (got.naddr != 1 || got.ttl != got.addr[0].ttl ||
		    !((a == 1 && got.ttl <= 100 && got.ttl + aged >= 100) ||
		      (a == 2 && got.ttl <= 200 && got.ttl + aged >= 200)) ||
		    aged >= 100 /* the two answers' windows would meet */)
			torn++;
	}
	r.stop = 1;
	pthread_join(t, NULL);
	UNIT_CHECK(u, hits > 0 && torn == 0,
		   "shcache: read while written, whole answers only (%d read, %d torn)", hits,
		   torn);
}

/* The daemon's cache as the upcalls read it: the answer and the daemon's
 * shaping values; a void, expired or other slot is a miss; a file no
 * daemon holds, one others may write or one that is not a file is not
 * read. */
static void test_shcache(struct unit *u)
{
	char dir[] = "/tmp/nm-shcache-XXXXXX", path[64], link[64];
	struct nm_conf dc, c;
	struct nm_upcall_req req = { .want4 = true, .legacy = true }, other;
	struct nm_dns_answer a = { .status = NM_DNS_OK, .naddr = 1, .ttl = 300 }, got;
	struct nm_upcall_result res;
	struct nm_shcache *sc;
	struct nm_err err = { 0 };
	int64_t now = nm_time_boot_ms();
	int rc;

	if (!mkdtemp(dir)) {
		UNIT_CHECK(u, false, "shcache: mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/s.sock.cache", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	UNIT_CHECK(u,
		   nm_shcache_path("/run/nfsmig/nfsmigd.sock", link, sizeof(link)) == 0 &&
			   strcmp(link, "/run/nfsmig/nfsmigd.sock.cache") == 0,
		   "shcache: SOCKET.cache");
	snprintf(link, sizeof(link), "%s/link", dir);
	a.addr[0].family = AF_INET;
	a.addr[0].ttl = 300;
	inet_pton(AF_INET, "192.0.2.7", &a.addr[0].u.v4);
	snprintf(req.name, sizeof(req.name), "srv.example.test");
	nm_conf_defaults(&dc);
	dc.max_ttl = 100; /* the daemon's: the key is shaped as it would shape it */
	nm_conf_defaults(&c);
	rc = nm_shcache_lookup(path, &req, &c, &got, &err);
	UNIT_CHECK(u, rc == -ENOENT, "shcache: no file, no answer (%d)", rc);
	if (nm_shcache_create(path, &dc, &sc, &err) < 0) {
		UNIT_CHECK(u, false, "shcache: create: %s", err.msg);
		rmdir(dir);
		return;
	}
	rc = nm_shcache_lookup(path, &req, &c, &got, &err);
	UNIT_CHECK(u, rc == 0, "shcache: an empty cache misses (%d)", rc);
	nm_shcache_put(sc, req.name, true, false, now - 10500, now + 60000, &a);
	rc = nm_shcache_lookup(path, &req, &c, &got, &err);
	nm_upcall_answer(&req, &c, &got, &res);
	UNIT_CHECK(u, rc == 1 && res.ok && strcmp(res.payload, "192.0.2.7") == 0,
		   "shcache: the answer is read back (%d)", rc);
	UNIT_CHECK(u, rc == 1 && got.ttl == 290 && got.addr[0].ttl == 290,
		   "shcache: its TTLs aged by the time since it came (%u)", got.ttl);
	UNIT_CHECK(u, c.max_ttl == 100 && res.timeout == 100,
		   "shcache: shaped with the daemon's max_ttl (%u)", res.timeout);
	other = req;
	other.want6 = true;
	UNIT_CHECK(u, nm_shcache_lookup(path, &other, &c, &got, &err) == 0,
		   "shcache: other families miss");
	snprintf(other.name, sizeof(other.name), "srv.example.tes");
	other.want6 = false;
	UNIT_CHECK(u, nm_shcache_lookup(path, &other, &c, &got, &err) == 0,
		   "shcache: another name misses");
	nm_shcache_del(sc, other.name, true, false);
	UNIT_CHECK(u, nm_shcache_lookup(path, &req, &c, &got, &err) == 1,
		   "shcache: removing a name that is not there leaves the slot");
	nm_shcache_del(sc, req.name, true, false);
	UNIT_CHECK(u, nm_shcache_lookup(path, &req, &c, &got, &err) == 0,
		   "shcache: a removed name misses");
	nm_shcache_put(sc, req.name, true, false, now, now + 60000, &a);
	dc.max_ttl = 50;
	nm_shcache_clear(sc, &dc);
	UNIT_CHECK(u, nm_shcache_lookup(path, &req, &c, &got, &err) == 0,
		   "shcache: cleared (SIGHUP), every slot misses");
	nm_shcache_put(sc, req.name, true, false, now, now + 60000, &a);
	nm_conf_defaults(&c);
	rc = nm_shcache_lookup(path, &req, &c, &got, &err);
	UNIT_CHECK(u, rc == 1 && c.max_ttl == 50, "shcache: the new shape after a clear (%u)",
		   c.max_ttl);
	nm_shcache_put(sc, req.name, true, false, now - 5000, nm_time_boot_ms() - 1, &a);
	UNIT_CHECK(u, nm_shcache_lookup(path, &req, &c, &got, &err) == 0,
		   "shcache: an expired answer misses");
	test_shcache_race(u, sc, path);
	nm_shcache_put(sc, req.name, true, false, now, now + 60000, &a);
	chmod(path, 0620);
	rc = nm_shcache_lookup(path, &req, &c, &got, &err);
	UNIT_CHECK(u, rc == -EPERM, "shcache: a file others may write is not read: %s", err.msg);
	chmod(path, 0600);
	if (symlink(path, link) == 0) {
		rc = nm_shcache_lookup(link, &req, &c, &got, &err);
		UNIT_CHECK(u, rc < 0, "shcache: a symbolic link is not followed (%d)", rc);
		unlink(link);
	}
	/* A directory others may change: not read, unless root's and sticky. */
	chmod(dir, 0777);
	rc = nm_shcache_lookup(path, &req, &c, &got, &err);
	UNIT_CHECK(u, rc == -EPERM, "shcache: not read from a directory others may write: %s",
		   err.msg);
	{
		struct nm_shcache *sc3 = NULL;
		char p3[80];

		snprintf(p3, sizeof(p3), "%s/other.cache", dir);
		rc = nm_shcache_create(p3, &dc, &sc3, &err);
		UNIT_CHECK(u, rc == -EPERM && !sc3 && access(p3, F_OK) < 0,
			   "shcache: not made in a directory others may write: %s", err.msg);
		if (sc3)
			nm_shcache_close(sc3, true);
	}
	if (geteuid() == 0) {
		chmod(dir, 01777);
		rc = nm_shcache_lookup(path, &req, &c, &got, &err);
		UNIT_CHECK(u, rc == 1, "shcache: read from root's sticky directory (%d)", rc);
	}
	chmod(dir, 0700);
	/* A FIFO in its place: refused at once, never waited on (a test that
	 * would block ends by the alarm). */
	snprintf(link, sizeof(link), "%s/fifo.cache", dir);
	if (mkfifo(link, 0600) == 0) {
		alarm(10);
		rc = nm_shcache_lookup(link, &req, &c, &got, &err);
		alarm(0);
		UNIT_CHECK(u, rc == -EPERM, "shcache: a FIFO is refused without blocking: %s",
			   err.msg);
		unlink(link);
	}
	/* A second daemon: the live one's file is left as it is. */
	{
		struct nm_shcache *sc2 = NULL;

		rc = nm_shcache_create(path, &dc, &sc2, &err);
		UNIT_CHECK(u, rc == -EBUSY && !sc2,
			   "shcache: a file a live daemon holds is not replaced: %s", err.msg);
		UNIT_CHECK(u, nm_shcache_lookup(path, &req, &c, &got, &err) == 1,
			   "shcache: the live daemon's answers still read");
		if (sc2)
			nm_shcache_close(sc2, false);
	}
	nm_shcache_close(sc, false);
	rc = nm_shcache_lookup(path, &req, &c, &got, &err);
	UNIT_CHECK(u, rc == -ESRCH, "shcache: a file no daemon holds is not read: %s", err.msg);
	if (nm_shcache_create(path, &dc, &sc, &err) == 0) {
		UNIT_CHECK(u, nm_shcache_lookup(path, &req, &c, &got, &err) == 0,
			   "shcache: a new daemon's cache starts empty");
		nm_shcache_close(sc, true);
	}
	UNIT_CHECK(u, access(path, F_OK) < 0, "shcache: removed when the daemon stops");
	/* Stopping, a daemon removes its own file only, not one put in its
	 * place meanwhile. */
	if (nm_shcache_create(path, &dc, &sc, &err) == 0) {
		char moved[80];
		int fd;

		snprintf(moved, sizeof(moved), "%s/old.cache", dir);
		rename(path, moved);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd >= 0)
			close(fd);
		nm_shcache_close(sc, true);
		UNIT_CHECK(u, access(path, F_OK) == 0,
			   "shcache: a file that replaced ours is not removed");
		unlink(path);
		unlink(moved);
	}
	mkdir(path, 0700);
	rc = nm_shcache_create(path, &dc, &sc, &err);
	UNIT_CHECK(u, rc < 0 && strstr(err.msg, "not a regular file"),
		   "shcache: what is not a file is left alone: %s", err.msg);
	rmdir(path);
	rmdir(dir);
}

static void skip(struct unit *u, const char *why)
{
	u->n++;
	printf("ok %d # SKIP %s\n", u->n, why);
}

/* A file system too small for the cache: no file, an error (the daemon
 * then runs without it), never a sparse file whose writes fault. */
static void test_shcache_full(struct unit *u)
{
	char dir[] = "/tmp/nm-shfull-XXXXXX", path[64];
	struct nm_shcache *sc = NULL;
	struct nm_conf dc;
	struct nm_err err = { 0 };
	int rc;

	if (geteuid() != 0 || !mkdtemp(dir)) {
		skip(u, "shcache: full file system (needs root to mount a tmpfs)");
		return;
	}
	if (mount("nmtest", dir, "tmpfs", 0, "size=1m,mode=0700") < 0) {
		skip(u, "shcache: full file system (no tmpfs)");
		rmdir(dir);
		return;
	}
	snprintf(path, sizeof(path), "%s/s.sock.cache", dir);
	nm_conf_defaults(&dc);
	rc = nm_shcache_create(path, &dc, &sc, &err);
	UNIT_CHECK(u, rc == -ENOSPC && !sc && access(path, F_OK) < 0,
		   "shcache: no room on the file system: no cache, no file (%d: %s)", rc, err.msg);
	if (sc)
		nm_shcache_close(sc, true);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

/* The judge of what was read: every value a daemon never writes makes the
 * file bad (-EBADMSG), not an answer. */
static void test_shcache_decode(struct unit *u)
{
	struct shc_head h0 = { .magic = SHC_MAGIC,
			       .version = SHC_VERSION,
			       .slots = NM_SHCACHE_SLOTS,
			       .slot_size = sizeof(struct shc_slot),
			       .generation = 3,
			       .shape = { NM_PREFER_IPV4, 1, 3600, 300, 60, 10, 30 } };
	struct shc_slot s0;
	struct nm_upcall_req req = { .want4 = true, .legacy = true };
	const int64_t now = 10000000;
	struct nm_upcall_result res;
	struct nm_dns_answer ans;
	struct nm_conf c;
	struct nm_err err = { 0 };
	static const struct {
		const char *what;
		int field;
		int64_t value;
	} bad[] = {
		{ "min_ttl 0xffffffff", 1, 0xffffffffLL },
		{ "max_ttl 0xffffffff", 2, 0xffffffffLL },
		{ "max_ttl 604801", 2, 604801 },
		{ "min_ttl 0", 1, 0 },
		{ "min_ttl above max_ttl", 1, 3601 },
		{ "negative_ttl 0", 3, 0 },
		{ "servfail_ttl 0xffffffff", 4, 0xffffffffLL },
		{ "prefer 2", 5, 2 },
		{ "expires_ms INT64_MAX", 6, INT64_MAX },
		{ "expires_ms before resolved_ms", 6, now - 20000 },
		{ "resolved_ms in the future", 7, now + 1000 },
		{ "resolved_ms negative (no overflow)", 7, INT64_MIN + 5 },
		{ "status 9", 8, 9 },
		{ "naddr 33", 9, NM_DNS_MAX_ADDRS + 1 },
		{ "family 0", 10, 0 },
		{ "from_hosts 2", 11, 2 },
		{ "partial 2", 12, 2 },
		{ "numeric 255", 13, 255 },
		{ "why unterminated", 14, 'x' },
		{ "name unterminated", 15, 'x' },
	};

	memset(&s0, 0, sizeof(s0));
	s0.generation = 3;
	s0.want4 = 1;
	snprintf(s0.name, sizeof(s0.name), "srv.example.test");
	snprintf(req.name, sizeof(req.name), "srv.example.test");
	s0.resolved_ms = now - 10000;
	s0.expires_ms = now + 60000;
	s0.ans.status = NM_DNS_OK;
	s0.ans.naddr = 1;
	s0.ans.ttl = 300;
	s0.ans.addr[0].family = AF_INET;
	s0.ans.addr[0].ttl = 300;
	memcpy(s0.ans.addr[0].addr, "\xc0\x00\x02\x07", 4);
	nm_conf_defaults(&c);
	UNIT_CHECK(u,
		   nm_shcache_decode(&h0, sizeof(h0), &s0, sizeof(s0), &req, now, &c, &ans, &err) ==
			   1,
		   "shcache decode: a good slot is an answer: %s", err.msg);
	nm_upcall_answer(&req, &c, &ans, &res);
	UNIT_CHECK(u, res.ok && res.timeout == 290 && strcmp(res.payload, "192.0.2.7") == 0,
		   "shcache decode: aged and shaped (%u %s)", res.timeout, res.payload);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct shc_head h = h0;
		struct shc_slot s = s0;
		int rc;

		switch (bad[i].field) {
		case 1: h.shape.min_ttl = (uint32_t)bad[i].value; break;
		case 2: h.shape.max_ttl = (uint32_t)bad[i].value; break;
		case 3: h.shape.negative_ttl = (uint32_t)bad[i].value; break;
		case 4: h.shape.servfail_ttl = (uint32_t)bad[i].value; break;
		case 5: h.shape.prefer = (uint32_t)bad[i].value; break;
		case 6: s.expires_ms = bad[i].value; break;
		case 7: s.resolved_ms = bad[i].value; break;
		case 8: s.ans.status = (uint32_t)bad[i].value; break;
		case 9: s.ans.naddr = (uint32_t)bad[i].value; break;
		case 10: s.ans.addr[0].family = (uint32_t)bad[i].value; break;
		case 11: s.ans.from_hosts = (uint8_t)bad[i].value; break;
		case 12: s.ans.partial = (uint8_t)bad[i].value; break;
		case 13: s.ans.numeric = (uint8_t)bad[i].value; break;
		case 14: memset(s.ans.why, (int)bad[i].value, sizeof(s.ans.why)); break;
		case 15:
			memset(s.name + strlen(s.name), (int)bad[i].value,
			       sizeof(s.name) - strlen(s.name));
			break;
		}
		memset(&ans, 0, sizeof(ans));
		rc = nm_shcache_decode(&h, sizeof(h), &s, sizeof(s), &req, now, &c, &ans, &err);
		/* An unterminated name is another name's: a miss. */
		UNIT_CHECK(u, bad[i].field == 15 ? rc == 0 : rc == -EBADMSG,
			   "shcache decode: %s is refused (%d: %s)", bad[i].what, rc, err.msg);
	}
	{
		struct shc_slot s = s0;

		s.generation = 2;
		s.ans.status = 77; /* a void slot's leftovers are not looked at */
		UNIT_CHECK(u,
			   nm_shcache_decode(&h0, sizeof(h0), &s, sizeof(s), &req, now, &c, &ans,
					     &err) == 0,
			   "shcache decode: another generation's slot misses");
		UNIT_CHECK(u,
			   nm_shcache_decode(&h0, sizeof(h0) - 1, &s0, sizeof(s0), &req, now, &c,
					     &ans, &err) == -EBADMSG,
			   "shcache decode: a short header is bad");
	}
}

int main(void)
{
	struct unit u = { 0 };

	unit_start();
	test_dns(&u);
	test_names(&u);
	test_requests(&u);
	test_payloads(&u);
	test_answers(&u);
	test_shares(&u);
	test_cache_secs(&u);
	test_conf(&u);
	test_ctl(&u);
	test_ctl_status(&u);
	test_record(&u);
	test_handler_trust(&u);
	test_shcache(&u);
	test_shcache_decode(&u);
	test_shcache_full(&u);
	return unit_done(&u);
}
