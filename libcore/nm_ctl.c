#include "nm_ctl.h"

#include <errno.h>
#include <fcntl.h>
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

int nm_ctl_ask(const char *path, const char *desc, const char *callout, int connect_ms,
	       int answer_ms, struct nm_ctl_reply *r, struct nm_err *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char line[NM_CTL_LINE_MAX];
	struct ucred cr = { .uid = (uid_t)-1 };
	socklen_t crlen = sizeof(cr);
	size_t got = 0;
	int fd, rc, n;
	int64_t end;

	if (strlen(path) >= sizeof(sun.sun_path))
		return nm_err_set(err, -ENAMETOOLONG, "%s: socket path too long", path);
	if (!clean(desc) || !clean(callout))
		return nm_err_set(err, -EINVAL, "request holds a tab or newline");
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
	n = snprintf(line, sizeof(line), "RESOLVE\t%s\t%s\n", desc, callout);
	if (n < 0 || (size_t)n >= sizeof(line) || send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
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
		k = recv(fd, line + got, sizeof(line) - 1 - got, 0);
		if (k <= 0) {
			close(fd);
			return nm_err_set(err, -ECONNRESET, "%s: the daemon went away", path);
		}
		got += (size_t)k;
		line[got] = '\0';
		if (strchr(line, '\n'))
			break;
		if (got == sizeof(line) - 1) {
			close(fd);
			return nm_err_set(err, -EBADMSG, "%s: reply too long", path);
		}
	}
	close(fd);
	line[strcspn(line, "\n")] = '\0';
	if (nm_ctl_parse_reply(line, r) < 0)
		return nm_err_set(err, -EBADMSG, "%s: garbled reply", path);
	return 0;
}
