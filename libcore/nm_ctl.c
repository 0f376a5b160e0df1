#include "nm_ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "nm_sock.h"
#include "nm_time.h"

int nm_ctl_parse_request(char *line, char **desc, char **callout)
{
	char *t1, *t2;

	if (strncmp(line, "RESOLVE\t", 8) != 0)
		return -EINVAL;
	t1 = line + 8;
	t2 = strchr(t1, '\t');
	if (!t2 || strchr(t2 + 1, '\t'))
		return -EINVAL;
	*t2 = '\0';
	*desc = t1;
	*callout = t2 + 1;
	return 0;
}

static bool clean(const char *s)
{
	return !strpbrk(s, "\t\n");
}

int nm_ctl_format_reply(const struct nm_ctl_reply *r, char *buf, size_t cap)
{
	int n;

	if (!clean(r->payload) || !clean(r->text))
		return -EINVAL;
	if (r->ok)
		n = snprintf(buf, cap, "OK\t%u\t%s\t%s\n", r->timeout, r->payload, r->text);
	else
		n = snprintf(buf, cap, "FAIL\t%u\t%d\t%s\n", r->timeout, r->error, r->text);
	return n < 0 || (size_t)n >= cap ? -EMSGSIZE : n;
}

int nm_ctl_parse_reply(const char *line, struct nm_ctl_reply *r)
{
	char copy[NM_CTL_LINE_MAX], *f[4], *save = NULL, *end;
	unsigned long t;
	int n = 0;

	memset(r, 0, sizeof(*r));
	if (strlen(line) >= sizeof(copy))
		return -EBADMSG;
	strcpy(copy, line);
	for (char *tok = strtok_r(copy, "\t", &save); tok && n < 4;
	     tok = strtok_r(NULL, "\t", &save))
		f[n++] = tok;
	if (n < 3)
		return -EBADMSG;
	t = strtoul(f[1], &end, 10);
	if (*end || t > 7 * 24 * 3600)
		return -EBADMSG;
	r->timeout = (unsigned)t;
	if (strcmp(f[0], "OK") == 0) {
		if (strlen(f[2]) >= sizeof(r->payload) || f[2][0] == '\0')
			return -EBADMSG;
		r->ok = true;
		strcpy(r->payload, f[2]);
	} else if (strcmp(f[0], "FAIL") == 0) {
		long e = strtol(f[2], &end, 10);

		if (*end || e <= 0 || e > 4095)
			return -EBADMSG;
		r->error = (int)e;
	} else {
		return -EBADMSG;
	}
	if (n == 4)
		snprintf(r->text, sizeof(r->text), "%s", f[3]);
	return 0;
}

/* Connect to the daemon at path (root's or ours only), send req, read one
 * reply line into line (newline removed). */
static int exchange(const char *path, const char *req, int connect_ms, int answer_ms, char *line,
		    size_t cap, struct nm_err *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ucred cr = { .uid = (uid_t)-1 };
	socklen_t crlen = sizeof(cr);
	size_t got = 0, n = strlen(req);
	int fd, rc;
	int64_t end;

	if (strlen(path) >= sizeof(sun.sun_path))
		return nm_err_set(err, -ENAMETOOLONG, "%s: socket path too long", path);
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nm_err_set(err, -errno, "socket: %s", strerror(errno));
	rc = nm_sock_connect(fd, (struct sockaddr *)&sun, sizeof(sun), connect_ms);
	if (rc < 0) {
		close(fd);
		return nm_err_set(err, rc, "%s: %s", path, strerror(-rc));
	}
	/* Only root's daemon (or our own user's) answers for us: anyone can
	 * listen on a path left free. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0 ||
	    (cr.uid != 0 && cr.uid != geteuid())) {
		close(fd);
		return nm_err_set(err, -EPERM, "%s: the daemon there is not root's (uid %u)", path,
				  (unsigned)cr.uid);
	}
	if (send(fd, req, n, MSG_NOSIGNAL) != (ssize_t)n) {
		close(fd);
		return nm_err_set(err, -ECONNRESET, "%s: cannot send the request", path);
	}
	end = nm_time_ms() + answer_ms;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = end - nm_time_ms();
		ssize_t k;

		if (left <= 0) {
			close(fd);
			return nm_err_set(err, -ETIMEDOUT, "%s: no answer within %d ms", path,
					  answer_ms);
		}
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		k = recv(fd, line + got, cap - 1 - got, 0);
		if (k <= 0) {
			close(fd);
			return nm_err_set(err, -ECONNRESET, "%s: the daemon went away", path);
		}
		got += (size_t)k;
		line[got] = '\0';
		if (strchr(line, '\n'))
			break;
		if (got == cap - 1) {
			close(fd);
			return nm_err_set(err, -EBADMSG, "%s: reply too long", path);
		}
	}
	close(fd);
	line[strcspn(line, "\n")] = '\0';
	return 0;
}

int nm_ctl_ask(const char *path, const char *desc, const char *callout, int connect_ms,
	       int answer_ms, struct nm_ctl_reply *r, struct nm_err *err)
{
	char req[NM_CTL_LINE_MAX], line[NM_CTL_LINE_MAX];
	int n, rc;

	if (!clean(desc) || !clean(callout))
		return nm_err_set(err, -EINVAL, "request holds a tab or newline");
	n = snprintf(req, sizeof(req), "RESOLVE\t%s\t%s\n", desc, callout);
	if (n < 0 || (size_t)n >= sizeof(req))
		return nm_err_set(err, -ECONNRESET, "%s: cannot send the request", path);
	rc = exchange(path, req, connect_ms, answer_ms, line, sizeof(line), err);
	if (rc < 0)
		return rc;
	if (nm_ctl_parse_reply(line, r) < 0)
		return nm_err_set(err, -EBADMSG, "%s: garbled reply", path);
	return 0;
}

bool nm_ctl_is_status(const char *line)
{
	return strcmp(line, "STATUS") == 0;
}

int nm_ctl_format_status(const struct nm_ctl_status *s, char *buf, size_t cap)
{
	int n;

	if (!s->sources[0] || strpbrk(s->sources, " \t\n"))
		return -EINVAL;
	n = snprintf(buf, cap,
		     "STATUS\tpid=%ld\tstarted=%" PRId64 "\tcache=%lu\tlookups=%lu\thits=%lu"
		     "\tsources=%s\tscans=%lu\tjobs=%lu\tfails=%lu\n",
		     s->pid, s->started, s->cache, s->lookups, s->hits, s->sources, s->scans,
		     s->jobs, s->fails);
	return n < 0 || (size_t)n >= cap ? -EMSGSIZE : n;
}

static int num(const char *v, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return *end || errno || *out > max ? -1 : 0;
}

int nm_ctl_parse_status(const char *line, struct nm_ctl_status *s)
{
	char copy[NM_CTL_LINE_MAX], *save = NULL, *tok;
	bool pid = false;

	memset(s, 0, sizeof(*s));
	if (strlen(line) >= sizeof(copy) || strncmp(line, "STATUS\t", 7) != 0)
		return -EBADMSG;
	strcpy(copy, line + 7);
	for (tok = strtok_r(copy, "\t", &save); tok; tok = strtok_r(NULL, "\t", &save)) {
		char *eq = strchr(tok, '=');
		unsigned long long v;

		if (!eq)
			return -EBADMSG;
		*eq++ = '\0';
		if (strcmp(tok, "sources") == 0) {
			if (!*eq || strlen(eq) >= sizeof(s->sources) || strchr(eq, ' '))
				return -EBADMSG;
			strcpy(s->sources, eq);
			continue;
		}
		static const struct {
			const char *key;
			size_t off;
		} nums[] = {
			{ "cache", offsetof(struct nm_ctl_status, cache) },
			{ "lookups", offsetof(struct nm_ctl_status, lookups) },
			{ "hits", offsetof(struct nm_ctl_status, hits) },
			{ "scans", offsetof(struct nm_ctl_status, scans) },
			{ "jobs", offsetof(struct nm_ctl_status, jobs) },
			{ "fails", offsetof(struct nm_ctl_status, fails) },
		};
		if (strcmp(tok, "pid") == 0) {
			if (num(eq, 4194304, &v) < 0 || v == 0)
				return -EBADMSG;
			s->pid = (long)v;
			pid = true;
			continue;
		}
		if (strcmp(tok, "started") == 0) {
			if (num(eq, INT64_MAX, &v) < 0)
				return -EBADMSG;
			s->started = (int64_t)v;
			continue;
		}
		for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]); k++)
			if (strcmp(tok, nums[k].key) == 0) {
				if (num(eq, ULONG_MAX, &v) < 0)
					return -EBADMSG;
				*(unsigned long *)((char *)s + nums[k].off) = (unsigned long)v;
			}
	}
	if (!pid)
		return -EBADMSG;
	if (!s->sources[0])
		strcpy(s->sources, "none");
	return 0;
}

int nm_ctl_status(const char *path, int connect_ms, int answer_ms, struct nm_ctl_status *s,
		  struct nm_err *err)
{
	char line[NM_CTL_LINE_MAX];
	int rc = exchange(path, "STATUS\n", connect_ms, answer_ms, line, sizeof(line), err);

	if (rc < 0)
		return rc;
	if (nm_ctl_parse_status(line, s) < 0)
		return nm_err_set(err, -EBADMSG, "%s: garbled status", path);
	return 0;
}
