#include "nm_dns.h"

/* ares_search, ares_getsock, ares_process_fd and ares_set_servers_ports are
 * deprecated from c-ares 1.28 on (and still there); their replacements are
 * not in the c-ares of Debian 12 (1.18).  Without this, -Werror breaks. */
#define CARES_NO_DEPRECATED
#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <resolv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nm_time.h"

#define NM_DNS_MAX_CNAME 8
#define NM_DNS_UDP_MAX	 4096

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

const char *nm_dns_source_name(const struct nm_dns_answer *a)
{
	return a->from_hosts ? "hosts" : a->from_nss ? "nss" : a->numeric ? "numeric" : "dns";
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

/* Add an address with its TTL; a duplicate keeps the smaller TTL. */
static bool add_addr(struct nm_dns_answer *out, int family, const void *a, unsigned ttl)
{
	struct nm_dns_addr n = { .family = family, .ttl = ttl };

	memcpy(&n.u, a, family == AF_INET ? 4 : 16);
	for (size_t i = 0; i < out->naddr; i++)
		if (out->addr[i].family == family && memcmp(&out->addr[i].u, &n.u, 16) == 0) {
			if (ttl < out->addr[i].ttl)
				out->addr[i].ttl = ttl;
			return true;
		}
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
				add_addr(out, fam, buf, 0);
			break;
		}
	}
	fclose(f);
	return found;
}

static enum nm_dns_status parse_reply(const unsigned char *msg, size_t len, const char *qname,
				      int qtype, unsigned id, struct nm_dns_answer *out);

/* All or nothing: a reply refused half-way adds no address. */
enum nm_dns_status nm_dns_parse_reply(const unsigned char *msg, size_t len, const char *qname,
				      int qtype, unsigned id, struct nm_dns_answer *out)
{
	struct nm_dns_answer tmp = *out;
	enum nm_dns_status st = parse_reply(msg, len, qname, qtype, id, &tmp);

	if (st == NM_DNS_OK)
		*out = tmp;
	return st;
}

static enum nm_dns_status parse_reply(const unsigned char *msg, size_t len, const char *qname,
				      int qtype, unsigned id, struct nm_dns_answer *out)
{
	ns_msg h;
	ns_rr rr;
	char want[NS_MAXDNAME], name[NS_MAXDNAME];
	int rcode, n, hops = 0;
	bool found = false;
	unsigned chain = UINT32_MAX; /* the smallest TTL of the CNAMEs followed */

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
			unsigned ttl;

			if (ns_parserr(&h, ns_s_an, i, &rr) < 0)
				return NM_DNS_SERVFAIL;
			if (ns_rr_class(rr) != ns_c_in || strcasecmp(ns_rr_name(rr), want) != 0)
				continue;
			if (ns_rr_type(rr) == ns_t_cname) {
				if (ns_name_uncompress(ns_msg_base(h), ns_msg_end(h),
						       ns_rr_rdata(rr), name, sizeof(name)) < 0)
					return NM_DNS_SERVFAIL;
				if (ns_rr_ttl(rr) < chain)
					chain = ns_rr_ttl(rr);
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
			ttl = ns_rr_ttl(rr) < chain ? ns_rr_ttl(rr) : chain;
			add_addr(out, qtype == ns_t_a ? AF_INET : AF_INET6, ns_rr_rdata(rr), ttl);
			if (ttl < out->ttl)
				out->ttl = ttl;
			found = true;
		}
	}
	return found ? NM_DNS_OK : NM_DNS_NODATA;
}

/* --- DNS, through c-ares ----------------------------------------------------
 *
 * c-ares carries the queries: several servers in turn, EDNS0, TCP when an
 * answer is truncated, answers matched to their query (id, question,
 * server) so that stray datagrams are dropped, the search list and ndots
 * of resolv.conf.  We read what it hands back with nm_dns_parse_reply: the
 * CNAME chain from the name asked, a TTL per address. */

struct question {
	int qtype;
	bool done;
	enum nm_dns_status status;
	struct nm_dns_answer *out;
	char asked[NM_DNS_NAME_MAX + 2]; /* the name the answer was for */
};

/* The name in an answer's question, lowered dots and all; false when the
 * answer has none we can read. */
static bool question_name(const unsigned char *msg, int len, char *name, size_t cap)
{
	ns_msg h;
	ns_rr rr;

	if (ns_initparse(msg, len, &h) < 0 || ns_msg_count(h, ns_s_qd) != 1 ||
	    ns_parserr(&h, ns_s_qd, 0, &rr) < 0 || strlen(ns_rr_name(rr)) >= cap)
		return false;
	strcpy(name, ns_rr_name(rr));
	return true;
}

static enum nm_dns_status from_ares(int status)
{
	switch (status) {
	case ARES_ENOTFOUND: return NM_DNS_NXDOMAIN;
	case ARES_ENODATA: return NM_DNS_NODATA;
	case ARES_ETIMEOUT:
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION: return NM_DNS_TEMPFAIL;
	default: return NM_DNS_SERVFAIL; /* refused, SERVFAIL, garbage, no server */
	}
}

enum nm_dns_status nm_dns_read_answer(const unsigned char *abuf, size_t alen, int qtype,
				      char *asked, size_t cap, struct nm_dns_answer *out)
{
	if (!abuf || alen < 12 || alen > INT32_MAX || !question_name(abuf, (int)alen, asked, cap)) {
		if (cap)
			asked[0] = '\0';
		return NM_DNS_SERVFAIL;
	}
	/* c-ares matched the answer to the query: its id and question are
	 * those of the query by construction. */
	return nm_dns_parse_reply(abuf, alen, asked, qtype, (unsigned)(abuf[0] << 8 | abuf[1]),
				  out);
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct question *q = arg;

	(void)timeouts;
	q->done = true;
	if (status != ARES_SUCCESS || alen < 0) {
		q->status = from_ares(status);
		return;
	}
	q->status = nm_dns_read_answer(abuf, (size_t)alen, q->qtype, q->asked, sizeof(q->asked),
				       q->out);
}

/* A channel whose every try of each server gets its slice of budget_ms:
 * c-ares doubles the timeout at each round, hence the 3 (two tries).
 * Newer c-ares (1.2x) adapts the timeout of each try to the latency it
 * measured of the server, within this one: whatever it does, run_channel's
 * end is the limit. */
static int channel_init(const struct nm_conf *c, int budget_ms, int servers, ares_channel *ch)
{
	struct ares_options opt = { 0 };
	int mask;

	opt.timeout = budget_ms / ((servers > 0 ? servers : 1) * 3);
	if (opt.timeout < 50)
		opt.timeout = 50;
	opt.tries = 2;
	opt.flags = ARES_FLAG_EDNS;
	opt.ednspsz = 1232;	   /* no fragmented UDP (DNS flag day 2020) */
	opt.lookups = (char *)"b"; /* DNS only: the hosts file is ours */
	opt.resolvconf_path = (char *)c->resolv_conf;
	mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ |
	       ARES_OPT_LOOKUPS | ARES_OPT_RESOLVCONF | ARES_OPT_NOROTATE;
	return ares_init_options(ch, &opt, mask);
}

/* The servers c-ares will ask (resolv.conf's when the configuration names
 * none). */
static int count_servers(ares_channel ch)
{
	struct ares_addr_port_node *list = NULL;
	int n = 0;

	if (ares_get_servers_ports(ch, &list) != ARES_SUCCESS)
		return 0;
	for (struct ares_addr_port_node *p = list; p; p = p->next)
		n++;
	ares_free_data(list);
	return n;
}

static int channel_open(const struct nm_conf *c, int budget_ms, ares_channel *ch,
			struct nm_err *err)
{
	struct ares_addr_port_node node[NM_CONF_MAX_NS];
	int rc, servers;

	if (c->nns == 0) {
		/* resolv.conf's servers: counted once c-ares has read it, then
		 * the channel opened again with the timeout for that many (one
		 * server gets the whole budget, not a third of it). */
		rc = channel_init(c, budget_ms, 1, ch);
		if (rc == ARES_SUCCESS && (servers = count_servers(*ch)) > 1) {
			ares_destroy(*ch);
			rc = channel_init(c, budget_ms, servers, ch);
		}
		if (rc != ARES_SUCCESS)
			return nm_err_set(err, rc == ARES_ENOMEM ? -ENOMEM : -EIO,
					  "cannot start the DNS client: %s", ares_strerror(rc));
		return 0;
	}
	rc = channel_init(c, budget_ms, c->nns, ch);
	if (rc != ARES_SUCCESS)
		return nm_err_set(err, rc == ARES_ENOMEM ? -ENOMEM : -EIO,
				  "cannot start the DNS client: %s", ares_strerror(rc));
	memset(node, 0, sizeof(node));
	for (int i = 0; i < c->nns; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&c->ns[i];

		node[i].next = i + 1 < c->nns ? &node[i + 1] : NULL;
		node[i].family = sa->sa_family;
		if (sa->sa_family == AF_INET) {
			const struct sockaddr_in *in = (const void *)sa;

			memcpy(&node[i].addr.addr4, &in->sin_addr, 4);
			node[i].udp_port = node[i].tcp_port = ntohs(in->sin_port);
		} else {
			const struct sockaddr_in6 *in6 = (const void *)sa;

			memcpy(&node[i].addr.addr6, &in6->sin6_addr, 16);
			node[i].udp_port = node[i].tcp_port = ntohs(in6->sin6_port);
		}
	}
	rc = ares_set_servers_ports(*ch, node);
	if (rc != ARES_SUCCESS) {
		ares_destroy(*ch);
		return nm_err_set(err, -EINVAL, "nameservers: %s", ares_strerror(rc));
	}
	return 0;
}

/* Run the channel until every question is answered or end passes; then
 * what is left is cancelled (TEMPFAIL). */
static void run_channel(ares_channel ch, int64_t end)
{
	for (;;) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		struct timeval tv, *tvp, max;
		int64_t left = end - nm_time_ms();
		unsigned bits;
		int npfd = 0, wait_ms, rc;

		if (left <= 0)
			break;
		/* ARES_GETSOCK_WRITABLE shifts an int into its sign bit: the
		 * bits are read unsigned here. */
		bits = (unsigned)ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		for (unsigned i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev =
				(short)((bits & (1u << i) ? POLLIN : 0) |
					(bits & (1u << (i + ARES_GETSOCK_MAXNUM)) ? POLLOUT : 0));

			if (!ev)
				continue;
			pfd[npfd++] = (struct pollfd){ .fd = socks[i], .events = ev };
		}
		if (npfd == 0)
			break; /* nothing in flight: every question is done */
		max.tv_sec = left / 1000;
		max.tv_usec = (left % 1000) * 1000;
		tvp = ares_timeout(ch, &max, &tv);
		wait_ms = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
		rc = poll(pfd, (nfds_t)npfd, wait_ms);
		if (rc < 0 && errno != EINTR)
			break;
		if (rc <= 0) {
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts */
			continue;
		}
		for (int k = 0; k < npfd; k++) {
			bool r = pfd[k].revents & (POLLIN | POLLERR | POLLHUP);
			bool w = pfd[k].revents & POLLOUT;

			if (r || w)
				ares_process_fd(ch, r ? pfd[k].fd : ARES_SOCKET_BAD,
						w ? pfd[k].fd : ARES_SOCKET_BAD);
		}
	}
	ares_cancel(ch);
}

static int dns_lookup(const struct nm_conf *c, const char *name, bool want4, bool want6,
		      int64_t end, struct nm_dns_answer *out, struct nm_err *err)
{
	struct question q[2];
	ares_channel ch;
	int nq = 0, rc;

	rc = channel_open(c, (int)(end - nm_time_ms()), &ch, err);
	if (rc < 0)
		return rc;
	memset(q, 0, sizeof(q));
	if (want4)
		q[nq++] = (struct question){ .qtype = ns_t_a, .out = out };
	if (want6)
		q[nq++] = (struct question){ .qtype = ns_t_aaaa, .out = out };
	out->naddr = 0;
	out->ttl = UINT32_MAX;
	for (int i = 0; i < nq; i++)
		ares_search(ch, name, ns_c_in, q[i].qtype, on_answer, &q[i]);
	run_channel(ch, end);
	ares_destroy(ch);
	/* Any address is success; otherwise the most telling failure. */
	static const enum nm_dns_status rank[] = { NM_DNS_NXDOMAIN, NM_DNS_TEMPFAIL,
						   NM_DNS_SERVFAIL };
	out->status = out->naddr > 0 ? NM_DNS_OK : NM_DNS_NODATA;
	for (size_t r = 0; r < sizeof(rank) / sizeof(rank[0]) && out->status == NM_DNS_NODATA; r++)
		for (int i = 0; i < nq; i++)
			if ((q[i].done ? q[i].status : NM_DNS_TEMPFAIL) == rank[r])
				out->status = rank[r];
	for (int i = 0; i < nq; i++)
		if (out->status == NM_DNS_OK && (!q[i].done || q[i].status == NM_DNS_TEMPFAIL))
			out->partial = true;
	for (int i = 0; i < nq; i++)
		if (q[i].done && q[i].status == NM_DNS_OK && q[i].asked[0])
			snprintf(out->why, sizeof(out->why), "DNS as %.150s", q[i].asked);
	return 0;
}

/* --- the name service switch (resolver = nss) ------------------------------
 *
 * For names from NIS or LDAP: getaddrinfo, as every other program resolves
 * them, under our deadline (getaddrinfo_a); no TTL comes back, so the key
 * gets default_ttl. */
/* A request glibc's resolver thread writes into: on the heap, because it may
 * outlive the call (see below). */
struct nss_req {
	struct gaicb cb;
	struct addrinfo hints;
	char name[NM_DNS_NAME_MAX + 2];
};

static int nss_lookup(const struct nm_conf *c, const char *name, bool want4, bool want6,
		      int64_t end, struct nm_dns_answer *out, struct nm_err *err)
{
	struct nss_req *q = calloc(1, sizeof(*q));
	struct gaicb *list[1];
	struct addrinfo *ai;
	int rc;

	if (!q)
		return nm_err_set(err, -ENOMEM, "out of memory");
	snprintf(q->name, sizeof(q->name), "%s", name);
	q->hints.ai_socktype = SOCK_STREAM;
	q->hints.ai_family = want4 && want6 ? AF_UNSPEC : want4 ? AF_INET : AF_INET6;
	q->cb.ar_name = q->name;
	q->cb.ar_request = &q->hints;
	list[0] = &q->cb;
	rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	while (rc == 0 && gai_error(&q->cb) == EAI_INPROGRESS) {
		int64_t left = end - nm_time_ms();
		struct timespec ts = { left / 1000, (left % 1000) * 1000000 };
		const struct gaicb *const wait[1] = { &q->cb };

		if (left <= 0)
			break;
		gai_suspend(wait, 1, &ts);
	}
	if (rc == 0)
		rc = gai_error(&q->cb);
	if (rc == EAI_INPROGRESS) {
		int cancel = gai_cancel(&q->cb);

		/* EAI_ALLDONE: it ended between our last look and the cancel;
		 * its result is there and q is ours again. */
		rc = cancel == EAI_ALLDONE    ? gai_error(&q->cb)
		     : cancel == EAI_CANCELED ? EAI_CANCELED
					      : EAI_INPROGRESS;
	}
	if (rc == EAI_INPROGRESS) {
		/* glibc's thread still runs the lookup and will write into q:
		 * q is left to it (one small block per lookup that outran its
		 * deadline; the upcall exits, the daemon keeps few). */
		out->status = NM_DNS_TEMPFAIL;
		snprintf(out->why, sizeof(out->why), "name service: no answer in time");
		return 0;
	}
	out->status = rc == 0		 ? NM_DNS_OK
		      : rc == EAI_NONAME ? NM_DNS_NXDOMAIN
		      : rc == EAI_NODATA ? NM_DNS_NODATA
		      : rc == EAI_AGAIN || rc == EAI_CANCELED || rc == EAI_INPROGRESS
			      ? NM_DNS_TEMPFAIL
			      : NM_DNS_SERVFAIL;
	snprintf(out->why, sizeof(out->why), "name service: %s", rc ? gai_strerror(rc) : "ok");
	if (rc == 0) {
		for (ai = q->cb.ar_result; ai; ai = ai->ai_next) {
			if (ai->ai_family == AF_INET && want4)
				add_addr(out, AF_INET,
					 &((struct sockaddr_in *)ai->ai_addr)->sin_addr,
					 c->hosts_ttl);
			else if (ai->ai_family == AF_INET6 && want6)
				add_addr(out, AF_INET6,
					 &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr,
					 c->hosts_ttl);
		}
		freeaddrinfo(q->cb.ar_result);
		out->status = out->naddr ? NM_DNS_OK : NM_DNS_NODATA;
		out->ttl = c->hosts_ttl;
		out->from_nss = true;
	}
	free(q);
	return 0;
}

int nm_dns_init(struct nm_err *err)
{
	int rc = ares_library_init(ARES_LIB_INIT_ALL);

	if (rc != ARES_SUCCESS)
		return nm_err_set(err, -ENOMEM, "cannot start the DNS client: %s",
				  ares_strerror(rc));
	return 0;
}

void nm_dns_cleanup(void)
{
	ares_library_cleanup();
}

int nm_dns_resolve(const struct nm_conf *c, const char *name, bool want4, bool want6,
		   int deadline_ms, struct nm_dns_answer *out, struct nm_err *err)
{
	unsigned char a[16];
	int64_t end = nm_time_ms() + deadline_ms;
	char bare[NM_DNS_NAME_MAX + 1];
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	out->ttl = UINT32_MAX;
	if (!nm_dns_valid_name(name))
		return nm_err_set(err, -EINVAL, "'%.64s' is not a valid host name", name);
	/* "name." is the absolute name: the hosts file knows it without the
	 * dot; DNS asks it as given (no search list). */
	len = strlen(name);
	snprintf(bare, sizeof(bare), "%.*s", (int)(len > 1 && name[len - 1] == '.' ? len - 1 : len),
		 name);
	if (inet_pton(AF_INET, bare, a) == 1 || inet_pton(AF_INET6, bare, a) == 1) {
		int fam = strchr(bare, ':') ? AF_INET6 : AF_INET;

		add_addr(out, fam, a, c->max_ttl);
		out->status = (fam == AF_INET ? want4 : want6) ? NM_DNS_OK : NM_DNS_NODATA;
		if (out->status != NM_DNS_OK)
			out->naddr = 0;
		out->ttl = c->max_ttl;
		out->numeric = true;
		snprintf(out->why, sizeof(out->why), "numeric address");
		return 0;
	}
	if (from_hosts(c->hosts, bare, want4, want6, out)) {
		out->from_hosts = true;
		out->ttl = c->hosts_ttl;
		for (size_t i = 0; i < out->naddr; i++)
			out->addr[i].ttl = c->hosts_ttl;
		out->status = out->naddr ? NM_DNS_OK : NM_DNS_NODATA;
		snprintf(out->why, sizeof(out->why), "%.150s", c->hosts);
		return 0;
	}
	if (c->resolver == NM_RESOLVER_NSS)
		return nss_lookup(c, name, want4, want6, end, out, err);
	rc = dns_lookup(c, name, want4, want6, end, out, err);
	if (rc < 0)
		return rc;
	if (!out->why[0])
		snprintf(out->why, sizeof(out->why), "DNS: %s", nm_dns_status_name(out->status));
	if (out->status != NM_DNS_OK)
		out->ttl = 0;
	return 0;
}
