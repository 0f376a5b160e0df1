#include "nm_dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <resolv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nm_time.h"

#define NM_DNS_MAX_CNAME  8
#define NM_DNS_MAX_SEARCH 6
#define NM_DNS_UDP_MAX	  4096

const char *nm_dns_status_name(enum nm_dns_status s)
{
	switch (s) {
	case NM_DNS_OK: return "ok";
	case NM_DNS_NXDOMAIN: return "no such name";
	case NM_DNS_NODATA: return "no address of that family";
	case NM_DNS_TEMPFAIL: return "no answer in time";
	case NM_DNS_SERVFAIL: return "server failure";
	}
	return "?";
}

void nm_dns_addr_str(const struct nm_dns_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, &a->u, buf, (socklen_t)len) && len)
		buf[0] = '\0';
}

bool nm_dns_valid_name(const char *name)
{
	size_t len = strlen(name), label = 0;
	struct in6_addr a6;

	if (len == 0 || len > NM_DNS_NAME_MAX)
		return false;
	if (inet_pton(AF_INET6, name, &a6) == 1)
		return true;
	for (const char *p = name; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
		if (++label > 63)
			return false;
	}
	return name[0] != '-';
}

static bool add_addr(struct nm_dns_answer *out, int family, const void *a)
{
	struct nm_dns_addr n = { .family = family };

	memcpy(&n.u, a, family == AF_INET ? 4 : 16);
	for (size_t i = 0; i < out->naddr; i++)
		if (out->addr[i].family == family && memcmp(&out->addr[i].u, &n.u, 16) == 0)
			return true;
	if (out->naddr == NM_DNS_MAX_ADDRS)
		return false;
	out->addr[out->naddr++] = n;
	return true;
}

/* --- the hosts file ------------------------------------------------------ */

static bool from_hosts(const char *file, const char *name, bool want4, bool want6,
		       struct nm_dns_answer *out)
{
	FILE *f = fopen(file, "re");
	char line[1024];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *addr, *tok;
		unsigned char buf[16];
		int fam;

		line[strcspn(line, "#\n")] = '\0';
		addr = strtok_r(line, " \t", &save);
		if (!addr)
			continue;
		if (inet_pton(AF_INET, addr, buf) == 1)
			fam = AF_INET;
		else if (inet_pton(AF_INET6, addr, buf) == 1)
			fam = AF_INET6;
		else
			continue;
		while ((tok = strtok_r(NULL, " \t", &save))) {
			if (strcasecmp(tok, name) != 0)
				continue;
			found = true;
			if ((fam == AF_INET && want4) || (fam == AF_INET6 && want6))
				add_addr(out, fam, buf);
			break;
		}
	}
	fclose(f);
	return found;
}

/* --- resolv.conf --------------------------------------------------------- */

struct servers {
	struct sockaddr_storage ns[NM_CONF_MAX_NS];
	socklen_t len[NM_CONF_MAX_NS];
	int n;
	char search[NM_DNS_MAX_SEARCH][NM_DNS_NAME_MAX + 1];
	int nsearch;
};

static void read_resolv_conf(const struct nm_conf *c, struct servers *s)
{
	FILE *f = fopen(c->resolv_conf, "re");
	char line[1024];

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < c->nns; i++) {
		s->ns[i] = c->ns[i];
		s->len[i] = c->ns_len[i];
	}
	s->n = c->nns;
	if (!f)
		goto fallback;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *k, *v;

		line[strcspn(line, "#;\n")] = '\0';
		k = strtok_r(line, " \t", &save);
		if (!k)
			continue;
		if (strcmp(k, "nameserver") == 0 && c->nns == 0 && s->n < 3) {
			v = strtok_r(NULL, " \t", &save);
			if (v && nm_conf_parse_ns(v, &s->ns[s->n], &s->len[s->n]) == 0)
				s->n++;
		} else if (strcmp(k, "search") == 0 || strcmp(k, "domain") == 0) {
			s->nsearch = 0;
			while ((v = strtok_r(NULL, " \t", &save)) && s->nsearch < NM_DNS_MAX_SEARCH)
				if (strlen(v) <= NM_DNS_NAME_MAX)
					strcpy(s->search[s->nsearch++], v);
		}
	}
	fclose(f);
fallback:
	if (s->n == 0)
		nm_conf_parse_ns("127.0.0.1", &s->ns[0], &s->len[0]), s->n = 1;
}

/* --- queries --------------------------------------------------------------- */

/* A standard query with RD set; returns its length or -1. */
static int make_query(unsigned char *buf, size_t cap, unsigned id, const char *name, int qtype)
{
	unsigned char *p = buf + 12;
	const char *s = name;

	if (strlen(name) + 18 > cap)
		return -1;
	memset(buf, 0, 12);
	buf[0] = (unsigned char)(id >> 8);
	buf[1] = (unsigned char)id;
	buf[2] = 0x01; /* RD */
	buf[5] = 1;    /* QDCOUNT */
	while (*s) {
		size_t n = strcspn(s, ".");

		if (n == 0 || n > 63)
			return -1;
		*p++ = (unsigned char)n;
		memcpy(p, s, n);
		p += n;
		s += n;
		if (*s == '.')
			s++;
	}
	*p++ = 0;
	*p++ = (unsigned char)(qtype >> 8);
	*p++ = (unsigned char)qtype;
	*p++ = 0;
	*p++ = ns_c_in;
	return (int)(p - buf);
}

enum nm_dns_status nm_dns_parse_reply(const unsigned char *msg, size_t len, const char *qname,
				      int qtype, unsigned id, struct nm_dns_answer *out)
{
	ns_msg h;
	ns_rr rr;
	char want[NS_MAXDNAME], name[NS_MAXDNAME];
	int rcode, n, hops = 0;
	bool found = false;

	if (len > NM_DNS_UDP_MAX * 16 || ns_initparse(msg, (int)len, &h) < 0)
		return NM_DNS_SERVFAIL;
	if (ns_msg_id(h) != id || !ns_msg_getflag(h, ns_f_qr) || ns_msg_count(h, ns_s_qd) != 1)
		return NM_DNS_SERVFAIL;
	if (ns_parserr(&h, ns_s_qd, 0, &rr) < 0 || (int)ns_rr_type(rr) != qtype ||
	    ns_rr_class(rr) != ns_c_in || strcasecmp(ns_rr_name(rr), qname) != 0)
		return NM_DNS_SERVFAIL;
	rcode = ns_msg_getflag(h, ns_f_rcode);
	if (rcode == ns_r_nxdomain)
		return NM_DNS_NXDOMAIN;
	if (rcode != ns_r_noerror)
		return NM_DNS_SERVFAIL;
	snprintf(want, sizeof(want), "%s", qname);
	n = ns_msg_count(h, ns_s_an);
	/* Follow the CNAME chain from the name asked, a bounded number of hops;
	 * records about other names are ignored. */
	for (bool again = true; again && hops <= NM_DNS_MAX_CNAME;) {
		again = false;
		for (int i = 0; i < n; i++) {
			if (ns_parserr(&h, ns_s_an, i, &rr) < 0)
				return NM_DNS_SERVFAIL;
			if (ns_rr_class(rr) != ns_c_in || strcasecmp(ns_rr_name(rr), want) != 0)
				continue;
			if (ns_rr_type(rr) == ns_t_cname) {
				if (ns_name_uncompress(ns_msg_base(h), ns_msg_end(h),
						       ns_rr_rdata(rr), name, sizeof(name)) < 0)
					return NM_DNS_SERVFAIL;
				if (ns_rr_ttl(rr) < out->ttl)
					out->ttl = ns_rr_ttl(rr);
				snprintf(want, sizeof(want), "%s", name);
				hops++;
				again = true;
				break;
			}
			if ((int)ns_rr_type(rr) != qtype)
				continue;
			if ((qtype == ns_t_a && ns_rr_rdlen(rr) != 4) ||
			    (qtype == ns_t_aaaa && ns_rr_rdlen(rr) != 16))
				return NM_DNS_SERVFAIL;
			add_addr(out, qtype == ns_t_a ? AF_INET : AF_INET6, ns_rr_rdata(rr));
			if (ns_rr_ttl(rr) < out->ttl)
				out->ttl = ns_rr_ttl(rr);
			found = true;
		}
	}
	return found ? NM_DNS_OK : NM_DNS_NODATA;
}

/* One question (name, type) asked of the servers in turn, sharing a poll
 * loop with the other question. */
struct question {
	const char *name;
	int qtype;
	unsigned id;
	int fd;
	int server;	  /* index of the server asked now */
	int64_t next_try; /* when to ask the next server */
	enum nm_dns_status status;
	bool done;
	unsigned char query[NM_DNS_NAME_MAX + 32];
	int qlen;
};

static void ask(struct question *q, const struct servers *s)
{
	const struct sockaddr *sa = (const struct sockaddr *)&s->ns[q->server];

	if (q->fd >= 0)
		close(q->fd);
	q->fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (q->fd >= 0 && connect(q->fd, sa, s->len[q->server]) == 0)
		(void)send(q->fd, q->query, (size_t)q->qlen, 0);
}

static void run_questions(struct question *q, int nq, const struct servers *s, int64_t end,
			  struct nm_dns_answer *out)
{
	int64_t per_try;
	unsigned char buf[NM_DNS_UDP_MAX];

	per_try = (end - nm_time_ms()) / (s->n > 1 ? s->n : 2);
	if (per_try < 100)
		per_try = 100;
	for (int i = 0; i < nq; i++) {
		q[i].server = 0;
		ask(&q[i], s);
		q[i].next_try = nm_time_ms() + per_try;
	}
	for (;;) {
		struct pollfd pfd[2];
		int64_t now = nm_time_ms(), wake = end;
		int pending = 0;

		for (int i = 0; i < nq; i++) {
			pfd[i].fd = q[i].done ? -1 : q[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
			if (!q[i].done) {
				pending++;
				if (q[i].next_try < wake)
					wake = q[i].next_try;
			}
		}
		if (pending == 0 || now >= end)
			break;
		if (poll(pfd, (nfds_t)nq, (int)(wake - now > 0 ? wake - now : 0)) < 0 &&
		    errno != EINTR)
			break;
		now = nm_time_ms();
		for (int i = 0; i < nq; i++) {
			if (q[i].done)
				continue;
			if (pfd[i].revents & (POLLIN | POLLERR)) {
				ssize_t n = recv(q[i].fd, buf, sizeof(buf), 0);
				enum nm_dns_status st;

				/* connect() on the UDP socket: only the server
				 * asked can answer it. */
				st = n > 0 ? nm_dns_parse_reply(buf, (size_t)n, q[i].name,
								q[i].qtype, q[i].id, out)
					   : NM_DNS_SERVFAIL;
				if (st == NM_DNS_OK || st == NM_DNS_NXDOMAIN ||
				    st == NM_DNS_NODATA || q[i].server + 1 >= s->n) {
					q[i].status = st;
					q[i].done = true;
					continue;
				}
				q[i].next_try = now; /* failure: ask the next one now */
			}
			if (now >= q[i].next_try) {
				q[i].server = (q[i].server + 1) % s->n;
				ask(&q[i], s);
				q[i].next_try = now + per_try;
			}
		}
	}
	for (int i = 0; i < nq; i++) {
		if (!q[i].done)
			q[i].status = NM_DNS_TEMPFAIL;
		if (q[i].fd >= 0)
			close(q[i].fd);
		q[i].fd = -1;
	}
}

static int dns_lookup(const struct servers *s, const char *name, bool want4, bool want6,
		      int64_t end, struct nm_dns_answer *out)
{
	struct question q[2];
	int nq = 0;
	uint32_t rnd[2] = { 0, 0 };

	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd)) {
		rnd[0] = (uint32_t)nm_time_us();
		rnd[1] = rnd[0] * 2654435761u;
	}
	memset(q, 0, sizeof(q));
	if (want4)
		q[nq++] = (struct question){ .name = name, .qtype = ns_t_a, .fd = -1 };
	if (want6)
		q[nq++] = (struct question){ .name = name, .qtype = ns_t_aaaa, .fd = -1 };
	for (int i = 0; i < nq; i++) {
		q[i].id = rnd[i] & 0xffff;
		q[i].qlen = make_query(q[i].query, sizeof(q[i].query), q[i].id, name, q[i].qtype);
		if (q[i].qlen < 0)
			return -EINVAL;
	}
	out->naddr = 0;
	out->ttl = UINT32_MAX;
	run_questions(q, nq, s, end, out);
	/* Any address is success; otherwise the most telling failure. */
	static const enum nm_dns_status rank[] = { NM_DNS_NXDOMAIN, NM_DNS_TEMPFAIL,
						   NM_DNS_SERVFAIL };
	out->status = out->naddr > 0 ? NM_DNS_OK : NM_DNS_NODATA;
	for (size_t r = 0; r < sizeof(rank) / sizeof(rank[0]) && out->status == NM_DNS_NODATA; r++)
		for (int i = 0; i < nq; i++)
			if (q[i].status == rank[r])
				out->status = rank[r];
	return 0;
}

int nm_dns_resolve(const struct nm_conf *c, const char *name, bool want4, bool want6,
		   int deadline_ms, struct nm_dns_answer *out, struct nm_err *err)
{
	struct servers s;
	unsigned char a[16];
	int64_t end = nm_time_ms() + deadline_ms;
	char fq[NM_DNS_NAME_MAX + 2];

	memset(out, 0, sizeof(*out));
	out->ttl = UINT32_MAX;
	if (!nm_dns_valid_name(name))
		return nm_err_set(err, -EINVAL, "'%.64s' is not a valid host name", name);
	if (inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1) {
		int fam = strchr(name, ':') ? AF_INET6 : AF_INET;

		add_addr(out, fam, a);
		out->status = (fam == AF_INET ? want4 : want6) ? NM_DNS_OK : NM_DNS_NODATA;
		if (out->status != NM_DNS_OK)
			out->naddr = 0;
		out->ttl = c->max_ttl;
		snprintf(out->why, sizeof(out->why), "numeric address");
		return 0;
	}
	if (from_hosts(c->hosts, name, want4, want6, out)) {
		out->from_hosts = true;
		out->ttl = c->hosts_ttl;
		out->status = out->naddr ? NM_DNS_OK : NM_DNS_NODATA;
		snprintf(out->why, sizeof(out->why), "%.150s", c->hosts);
		return 0;
	}
	read_resolv_conf(c, &s);
	/* A name without a dot goes through the search list first. */
	if (!strchr(name, '.')) {
		for (int i = 0; i < s.nsearch && nm_time_ms() < end; i++) {
			snprintf(fq, sizeof(fq), "%s.%s", name, s.search[i]);
			if (strlen(fq) > NM_DNS_NAME_MAX)
				continue;
			if (dns_lookup(&s, fq, want4, want6, end, out) == 0 &&
			    out->status == NM_DNS_OK) {
				snprintf(out->why, sizeof(out->why), "DNS as %.150s", fq);
				return 0;
			}
		}
	}
	if (dns_lookup(&s, name, want4, want6, end, out) < 0)
		return nm_err_set(err, -EINVAL, "'%.64s' cannot be put in a DNS query", name);
	snprintf(out->why, sizeof(out->why), "DNS: %s", nm_dns_status_name(out->status));
	if (out->status != NM_DNS_OK)
		out->ttl = 0;
	return 0;
}
