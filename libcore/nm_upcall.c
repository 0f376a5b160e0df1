#include "nm_upcall.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sys/socket.h>
#include <sys/stat.h>

/* The query type of a description ("afsdb" of "afsdb:cell"), its length
 * in *n; NULL when it has none (a plain name, or an IPv6 literal). */
static const char *query_type(const char *desc, size_t *n)
{
	const char *colon = strchr(desc, ':');
	struct in6_addr a6;

	if (!colon || colon == desc || inet_pton(AF_INET6, desc, &a6) == 1)
		return NULL;
	*n = (size_t)(colon - desc);
	if (strspn(desc, "abcdefghijklmnopqrstuvwxyz0123456789_-") != *n)
		return NULL;
	return desc;
}

bool nm_upcall_is_foreign(const char *desc, const char *callout)
{
	const char *t;
	size_t n = 0;

	if (!desc)
		return false;
	t = query_type(desc, &n);
	if (t && !(n == 1 && t[0] == 'a') && !(n == 4 && strncmp(t, "aaaa", 4) == 0))
		return true;
	for (const char *p = callout ? callout : ""; *p;) {
		size_t k;

		p += strspn(p, " ");
		k = strcspn(p, " ");
		if (k && !(k == 4 && strncmp(p, "ipv4", 4) == 0) &&
		    !(k == 4 && strncmp(p, "ipv6", 4) == 0) &&
		    !(k == 4 && strncmp(p, "list", 4) == 0))
			return true;
		p += k;
	}
	return false;
}

/* Root's, and writable by nobody else. */
static bool root_only(const struct stat *st)
{
	return st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

int nm_upcall_handler_trusted(const char *config, const char *handler, struct nm_err *err)
{
	struct stat st;

	if (config && stat(config, &st) == 0 && !root_only(&st))
		return nm_err_set(err, -EPERM,
				  "%.200s is not root's alone (owner %u, mode %04o): its "
				  "other_requests is not run",
				  config, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
	if (stat(handler, &st) < 0)
		return nm_err_set(err, -errno, "%.200s: %s", handler, strerror(errno));
	if (!S_ISREG(st.st_mode) || !root_only(&st))
		return nm_err_set(
			err, -EPERM,
			"%.200s is not a file root's alone (owner %u, mode %04o): not run", handler,
			(unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
	return 0;
}

int nm_upcall_parse(const char *desc, const char *callout, struct nm_upcall_req *req,
		    struct nm_err *err)
{
	const char *name = desc, *colon;
	char opts[256];
	char *save = NULL, *tok;
	struct in6_addr a6;

	memset(req, 0, sizeof(*req));
	if (!desc || strlen(desc) > NM_DNS_NAME_MAX + 8)
		return nm_err_set(err, -EINVAL, "key description too long");
	/* "a:" and "aaaa:" select a family; an IPv6 literal has colons too
	 * ("abcd::1", "aaaa::1"): a whole literal is a name, as for
	 * nm_upcall_is_foreign. */
	colon = inet_pton(AF_INET6, desc, &a6) == 1 ? NULL : strchr(desc, ':');
	if (colon && strspn(desc, "abcdefghijklmnopqrstuvwxyz") == (size_t)(colon - desc)) {
		size_t n = (size_t)(colon - desc);

		if (n == 1 && desc[0] == 'a')
			req->want4 = true;
		else if (n == 4 && strncmp(desc, "aaaa", 4) == 0)
			req->want6 = true;
		else
			return nm_err_set(err, -EINVAL,
					  "query type '%.*s' is not supported (only a: and aaaa:)",
					  (int)(n > 16 ? 16 : n), desc);
		name = colon + 1;
	}
	if (!nm_dns_valid_name(name))
		return nm_err_set(err, -EINVAL, "'%.64s' is not a valid host name", name);
	snprintf(req->name, sizeof(req->name), "%s", name);
	if (!callout)
		callout = "";
	if (strlen(callout) >= sizeof(opts))
		return nm_err_set(err, -EINVAL, "callout options too long");
	strcpy(opts, callout);
	req->legacy = strspn(opts, " ") == strlen(opts);
	for (tok = strtok_r(opts, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (strcmp(tok, "ipv4") == 0)
			req->want4 = true;
		else if (strcmp(tok, "ipv6") == 0)
			req->want6 = true;
		else if (strcmp(tok, "list") == 0)
			req->list = true;
		else
			return nm_err_set(err, -EINVAL, "unknown callout option '%.32s'", tok);
	}
	if (!req->want4 && !req->want6)
		req->want4 = req->want6 = true;
	return 0;
}

/* The payload, and the smallest TTL of the addresses in it. */
static int payload(const struct nm_upcall_req *req, const struct nm_conf *c,
		   const struct nm_dns_answer *ans, char *buf, size_t cap, size_t *len,
		   unsigned *ttl)
{
	int first = c->prefer == NM_PREFER_IPV6 ? AF_INET6 : AF_INET;
	int second = first == AF_INET ? AF_INET6 : AF_INET;
	int order[2] = { first, second };
	size_t off = 0;
	int n = 0;

	if (cap == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (int f = 0; f < 2; f++) {
		for (size_t i = 0; i < ans->naddr; i++) {
			const struct nm_dns_addr *a = &ans->addr[i];
			char text[64];
			size_t tl;

			if (a->family != order[f] || (a->family == AF_INET && !req->want4) ||
			    (a->family == AF_INET6 && !req->want6))
				continue;
			nm_dns_addr_str(a, text, sizeof(text));
			tl = strlen(text);
			if (off + tl + (n ? 1 : 0) + 1 > cap)
				break; /* the list is cut at the size the kernel takes */
			if (n)
				buf[off++] = ',';
			memcpy(buf + off, text, tl + 1);
			off += tl;
			n++;
			if (a->ttl < *ttl)
				*ttl = a->ttl;
			/* The NFS client parses the whole payload as ONE address. */
			if (!req->list)
				goto done;
		}
	}
done:
	if (n == 0)
		return -ENODATA;
	*len = off + 1;
	return 0;
}

int nm_upcall_payload(const struct nm_upcall_req *req, const struct nm_conf *c,
		      const struct nm_dns_answer *ans, char *buf, size_t cap, size_t *len)
{
	unsigned ttl = UINT32_MAX;

	return payload(req, c, ans, buf, cap, len, &ttl);
}

static unsigned ttl_for(const struct nm_conf *c, const struct nm_dns_answer *ans)
{
	unsigned t;

	switch (ans->status) {
	case NM_DNS_OK:
		if (ans->from_hosts || ans->from_nss)
			return c->hosts_ttl; /* no TTL came: default_ttl, as it is */
		t = ans->ttl;
		if (t < c->min_ttl)
			t = c->min_ttl;
		if (t > c->max_ttl)
			t = c->max_ttl;
		return t;
	case NM_DNS_NXDOMAIN:
	case NM_DNS_NODATA: return c->negative_ttl;
	case NM_DNS_TEMPFAIL: return c->tempfail_ttl;
	case NM_DNS_SERVFAIL: return c->servfail_ttl;
	}
	return c->servfail_ttl;
}

unsigned nm_upcall_timeout(const struct nm_conf *c, const struct nm_dns_answer *ans)
{
	unsigned t = ttl_for(c, ans);

	return t < NM_UPCALL_MIN_TIMEOUT ? NM_UPCALL_MIN_TIMEOUT : t;
}

void nm_upcall_age(struct nm_dns_answer *a, unsigned secs)
{
	if (a->from_hosts || a->from_nss)
		return;
	a->ttl = a->ttl > secs ? a->ttl - secs : 0;
	for (size_t i = 0; i < a->naddr && i < NM_DNS_MAX_ADDRS; i++)
		a->addr[i].ttl = a->addr[i].ttl > secs ? a->addr[i].ttl - secs : 0;
}

unsigned nm_upcall_cache_secs(const struct nm_conf *c, const struct nm_dns_answer *ans)
{
	unsigned t = nm_upcall_timeout(c, ans);

	if (ans->partial && t > c->tempfail_ttl)
		t = c->tempfail_ttl;
	return t;
}

void nm_upcall_answer(const struct nm_upcall_req *req, const struct nm_conf *c,
		      const struct nm_dns_answer *ans, struct nm_upcall_result *res)
{
	struct nm_dns_answer a = *ans;
	unsigned ttl = UINT32_MAX;

	memset(res, 0, sizeof(*res));
	res->status = ans->status;
	if (ans->status == NM_DNS_OK &&
	    payload(req, c, ans, res->payload, sizeof(res->payload), &res->len, &ttl) == 0) {
		res->ok = true;
		/* The TTL of what the key holds, not of every address DNS gave. */
		a.ttl = ttl;
		res->timeout = nm_upcall_timeout(c, &a);
		return;
	}
	res->payload[0] = '\0';
	res->len = 0;
	if (a.status == NM_DNS_OK)
		a.status = NM_DNS_NODATA; /* nothing of the families asked */
	res->status = a.status;
	res->timeout = nm_upcall_timeout(c, &a);
	res->error = nm_upcall_reject_errno(a.status);
}

int nm_upcall_daemon_share_ms(int left_ms)
{
	return left_ms > 0 ? left_ms / 2 : 0;
}

int nm_upcall_daemon_dns_ms(const struct nm_conf *c)
{
	/* The upcall's margin to settle its key (150 ms) comes off first. */
	int share = nm_upcall_daemon_share_ms(c->deadline_ms - 150);
	int margin = share > 500 ? 100 : share / 5;

	return share - margin > 10 ? share - margin : 10;
}

int nm_upcall_reject_errno(enum nm_dns_status s)
{
	switch (s) {
	case NM_DNS_NXDOMAIN:
	case NM_DNS_NODATA: return ENODATA;
	case NM_DNS_TEMPFAIL: return EAGAIN;
	default: return ECONNREFUSED;
	}
}
