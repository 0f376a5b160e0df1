#include "nm_conf.h"
#include "nm_prom.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nm_conf_defaults(struct nm_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->prefer = NM_PREFER_IPV4;
	c->min_ttl = 1;
	c->max_ttl = 3600;
	c->hosts_ttl = 600;
	c->negative_ttl = 60; /* as key.dns_resolver: no such name, no data */
	c->tempfail_ttl = 1;  /* as key.dns_resolver: try again */
	c->servfail_ttl = 10; /* as key.dns_resolver: no recovery */
	c->deadline_ms = 5000;
	c->daemon_wait_ms = 250;
	snprintf(c->hosts, sizeof(c->hosts), "/etc/hosts");
	snprintf(c->resolv_conf, sizeof(c->resolv_conf), "/etc/resolv.conf");
	snprintf(c->other_requests, sizeof(c->other_requests), "/sbin/key.dns_resolver");
	snprintf(c->socket, sizeof(c->socket), "/run/nfsmig/nfsmigd.sock");
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/nfsmig");
	c->event_max_bytes = 4u << 20;
	snprintf(c->hooks_dir, sizeof(c->hooks_dir), "/etc/nfsmig/hooks.d");
	c->hook_timeout_ms = 10000;
	c->watch_tracefs = c->watch_uevent = c->watch_kmsg = c->watch_mountinfo = true;
	c->watch_upcall = c->watch_verify = true;
	c->watch_rescan_s = 60;
	snprintf(c->metrics_textfile, sizeof(c->metrics_textfile), "%s", NM_PROM_DEFAULT_PATH);
}

/* "65536", "64K", "4M", "1G" (binary units) -> bytes in [min, max]. */
static int size_value(const char *s, size_t min, size_t max, size_t *out)
{
	unsigned long long v, mul = 1;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		mul = 1ull << 10, end++;
	else if (*end == 'M' || *end == 'm')
		mul = 1ull << 20, end++;
	else if (*end == 'G' || *end == 'g')
		mul = 1ull << 30, end++;
	if (*end != '\0' || v > (unsigned long long)max / mul || v * mul < min)
		return -EINVAL;
	*out = (size_t)(v * mul);
	return 0;
}

int nm_conf_parse_seconds(const char *s, int min_ms, int max_ms)
{
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	v = strtod(s, &end);
	if (*end != '\0' || !isfinite(v) || v * 1000.0 < min_ms || v * 1000.0 > max_ms)
		return -EINVAL;
	return (int)(v * 1000.0);
}

int nm_conf_parse_ns(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port = NULL;
	unsigned long p = 53;
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (!e || (size_t)(e - s - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, (size_t)(e - s - 1));
		host[e - s - 1] = '\0';
		if (e[1] == ':')
			port = e + 2;
		else if (e[1] != '\0')
			return -EINVAL;
	} else {
		const char *h = strchr(s, '#');
		size_t n = h ? (size_t)(h - s) : strlen(s);

		if (n >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, n);
		host[n] = '\0';
		if (h)
			port = h + 1;
	}
	if (port) {
		char *end;

		p = strtoul(port, &end, 10);
		if (*port == '\0' || *end != '\0' || p == 0 || p > 65535)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)p);
		*len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

struct parse {
	struct nm_conf *c;
	char msg[NM_ERR_MSG_MAX];
};

/* Keep the first error's message; returning 0 tells libinih it failed. */
static __attribute__((format(printf, 2, 3))) int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->msg[0]) {
		va_start(ap, fmt);
		vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* A key TTL: 1 s to a week.  0 is refused: the kernel reads a key timeout
 * of 0 as "never expires", and the server would never be resolved again. */
static int seconds(const char *v, unsigned *out)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (*v == '\0' || *v == '-' || *end != '\0' || n < 1 || n > 7 * 24 * 3600)
		return -1;
	*out = (unsigned)n;
	return 0;
}

static int path_value(const char *v, char *out)
{
	if (v[0] != '/' || strlen(v) >= NM_CONF_PATH_MAX)
		return -1;
	strcpy(out, v);
	return 0;
}

static int on_resolver(struct parse *p, const char *name, const char *v)
{
	struct nm_conf *c = p->c;

	if (strcmp(name, "nameservers") == 0) {
		char buf[1024], *save = NULL, *tok;

		if (strlen(v) >= sizeof(buf))
			return fail(p, "%s: too long ('%.40s...')", name, v);
		strcpy(buf, v);
		c->nns = 0;
		for (tok = strtok_r(buf, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
			if (c->nns == NM_CONF_MAX_NS)
				return fail(p, "%s: at most 8 nameservers", name);
			if (nm_conf_parse_ns(tok, &c->ns[c->nns], &c->ns_len[c->nns]) < 0)
				return fail(
					p,
					"nameservers: '%s' is not ADDR, ADDR#PORT or [ADDR]:PORT",
					tok);
			c->nns++;
		}
		return 1;
	}
	if (strcmp(name, "prefer") == 0) {
		if (strcmp(v, "ipv4") == 0)
			c->prefer = NM_PREFER_IPV4;
		else if (strcmp(v, "ipv6") == 0)
			c->prefer = NM_PREFER_IPV6;
		else
			return fail(p, "prefer: '%s' is neither ipv4 nor ipv6", v);
		return 1;
	}
	if (strcmp(name, "resolver") == 0) {
		if (strcmp(v, "dns") == 0)
			c->resolver = NM_RESOLVER_DNS;
		else if (strcmp(v, "nss") == 0)
			c->resolver = NM_RESOLVER_NSS;
		else
			return fail(p, "resolver: '%s' is neither dns nor nss", v);
		return 1;
	}
	static const struct {
		const char *name;
		size_t off;
	} ttls[] = {
		{ "min_ttl", offsetof(struct nm_conf, min_ttl) },
		{ "max_ttl", offsetof(struct nm_conf, max_ttl) },
		{ "default_ttl", offsetof(struct nm_conf, hosts_ttl) },
		{ "negative_ttl", offsetof(struct nm_conf, negative_ttl) },
		{ "tempfail_ttl", offsetof(struct nm_conf, tempfail_ttl) },
		{ "servfail_ttl", offsetof(struct nm_conf, servfail_ttl) },
	};
	for (size_t i = 0; i < sizeof(ttls) / sizeof(ttls[0]); i++) {
		if (strcmp(name, ttls[i].name) == 0) {
			if (seconds(v, (unsigned *)((char *)c + ttls[i].off)) < 0)
				return fail(p, "%s: '%s' is not a number of seconds (1 to 604800)",
					    name, v);
			return 1;
		}
	}
	if (strcmp(name, "deadline") == 0) {
		c->deadline_ms = nm_conf_parse_seconds(v, 100, 60000);
		if (c->deadline_ms < 0)
			return fail(p, "deadline: '%s' is not seconds from 0.1 to 60", v);
		return 1;
	}
	if (strcmp(name, "hosts") == 0) {
		if (path_value(v, c->hosts) < 0)
			return fail(p, "hosts: '%s' is not an absolute path", v);
		return 1;
	}
	if (strcmp(name, "resolv_conf") == 0) {
		if (path_value(v, c->resolv_conf) < 0)
			return fail(p, "resolv_conf: '%s' is not an absolute path", v);
		return 1;
	}
	if (strcmp(name, "other_requests") == 0) {
		if (path_value(v, c->other_requests) < 0)
			return fail(p, "other_requests: '%s' is not an absolute path", v);
		return 1;
	}
	return fail(p, "unknown key '%s' in [resolver]", name);
}

static int on_daemon(struct parse *p, const char *name, const char *v)
{
	struct nm_conf *c = p->c;

	if (strcmp(name, "socket") == 0) {
		if (path_value(v, c->socket) < 0 || strlen(v) >= 108)
			return fail(p, "socket: '%s' is not an absolute path of at most 107 bytes",
				    v);
		return 1;
	}
	if (strcmp(name, "state_dir") == 0) {
		if (path_value(v, c->state_dir) < 0)
			return fail(p, "state_dir: '%s' is not an absolute path", v);
		return 1;
	}
	if (strcmp(name, "ask_daemon_timeout") == 0) {
		c->daemon_wait_ms = nm_conf_parse_seconds(v, 1, 5000);
		if (c->daemon_wait_ms < 0)
			return fail(p, "ask_daemon_timeout: '%s' is not seconds from 0.001 to 5",
				    v);
		return 1;
	}
	return fail(p, "unknown key '%s' in [daemon]", name);
}

/* [events] and [hooks]: the event log and the hooks of nfsmigd. */
static int on_events(struct parse *p, const char *section, const char *name, const char *v)
{
	struct nm_conf *c = p->c;

	if (strcmp(section, "events") == 0 && strcmp(name, "max_bytes") == 0) {
		if (size_value(v, 65536, 1ul << 30, &c->event_max_bytes) < 0)
			return fail(p, "max_bytes: '%s' is not a size from 64K to 1G", v);
		return 1;
	}
	if (strcmp(section, "hooks") == 0 && strcmp(name, "dir") == 0) {
		if (path_value(v, c->hooks_dir) < 0)
			return fail(p, "dir: '%s' is not an absolute path", v);
		return 1;
	}
	if (strcmp(section, "hooks") == 0 && strcmp(name, "timeout") == 0) {
		c->hook_timeout_ms = nm_conf_parse_seconds(v, 100, 3600000);
		if (c->hook_timeout_ms < 0)
			return fail(p, "timeout: '%s' is not seconds from 0.1 to 3600", v);
		return 1;
	}
	return fail(p, "unknown key '%s' in [%s]", name, section);
}

/* [watch]: nfsmigd's watcher. */
static int on_watch(struct parse *p, const char *name, const char *v)
{
	static const struct {
		const char *key;
		size_t off;
	} flags[] = {
		{ "tracefs", offsetof(struct nm_conf, watch_tracefs) },
		{ "uevent", offsetof(struct nm_conf, watch_uevent) },
		{ "kmsg", offsetof(struct nm_conf, watch_kmsg) },
		{ "mountinfo", offsetof(struct nm_conf, watch_mountinfo) },
		{ "upcall", offsetof(struct nm_conf, watch_upcall) },
		{ "verify", offsetof(struct nm_conf, watch_verify) },
	};
	struct nm_conf *c = p->c;
	char *end;
	long n;

	for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
		if (strcmp(name, flags[k].key) != 0)
			continue;
		bool *b = (bool *)((char *)c + flags[k].off);

		if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
			*b = true;
		else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
			*b = false;
		else
			return fail(p, "%s: '%s' is not yes or no", name, v);
		return 1;
	}
	if (strcmp(name, "rescan") == 0) {
		errno = 0;
		n = strtol(v, &end, 10);
		if (!*v || *end || errno || n < 0 || n > 86400)
			return fail(p, "rescan: '%s' is not seconds from 0 (none) to 86400", v);
		c->watch_rescan_s = (int)n;
		return 1;
	}
	if (strcmp(name, "mountinfo_path") == 0) {
		if (path_value(v, c->watch_mountinfo_path) < 0)
			return fail(p, "mountinfo_path: '%s' is not an absolute path", v);
		return 1;
	}
	return fail(p, "unknown key '%s' in [watch]", name);
}

/* [metrics]: the file nfsmigd writes for node_exporter. */
static int on_metrics(struct parse *p, const char *name, const char *v)
{
	if (strcmp(name, "textfile") == 0) {
		if (!*v) {
			p->c->metrics_textfile[0] = '\0'; /* none */
			return 1;
		}
		if (path_value(v, p->c->metrics_textfile) < 0)
			return fail(p, "textfile: '%s' is not an absolute path (or empty: none)",
				    v);
		return 1;
	}
	return fail(p, "unknown key '%s' in [metrics]", name);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;

	if (strcmp(section, "metrics") == 0)
		return name ? on_metrics(p, name, value) : 1;

	if (strcmp(section, "watch") == 0)
		return name ? on_watch(p, name, value) : 1;

	if (strcmp(section, "events") == 0 || strcmp(section, "hooks") == 0)
		return name ? on_events(p, section, name, value) : 1;

	if (!name) /* a section header alone */
		return strcmp(section, "resolver") == 0 || strcmp(section, "daemon") == 0
			       ? 1
			       : fail(p, "unknown section [%s]", section);
	if (strcmp(section, "resolver") == 0)
		return on_resolver(p, name, value);
	if (strcmp(section, "daemon") == 0)
		return on_daemon(p, name, value);
	if (section[0] == '\0')
		return fail(p, "'%s' is outside any section", name);
	return fail(p, "unknown section [%s]", section);
}

int nm_conf_load(struct nm_conf *c, const char *path, bool missing_ok, struct nm_err *err)
{
	struct parse p = { .c = c };
	FILE *f = fopen(path, "re");
	int line;

	if (!f) {
		if (errno == ENOENT && missing_ok)
			return 0;
		return nm_err_set(err, -errno, "%s: %s", path, strerror(errno));
	}
	line = ini_parse_file(f, handler, &p);
	fclose(f);
	if (line < 0)
		return nm_err_set(err, -EIO, "%s: cannot read", path);
	if (line > 0)
		return nm_err_set(err, -EINVAL, "%s:%d: %s", path, line,
				  p.msg[0] ? p.msg : "syntax error");
	if (c->min_ttl > c->max_ttl)
		return nm_err_set(err, -EINVAL, "%s: min_ttl (%u) is above max_ttl (%u)", path,
				  c->min_ttl, c->max_ttl);
	return 0;
}
