/* nm_uevent - SUBSYSTEM=sunrpc uevents from the kernel (see nm_uevent.h).
 *
 * The kernel's objects (net/sunrpc/sysfs.c) live under /sys/kernel/sunrpc:
 *   /kernel/sunrpc/xprt-switches/switch-N
 *   /kernel/sunrpc/xprt-switches/switch-N/xprt-M-PROTO
 *   /kernel/sunrpc/rpc-clients/clnt-N
 * The socket is read without libudev: libudev's monitor of "kernel" events
 * is this same socket, and its "udev" events need udevd. */
#include <errno.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nm_uevent.h"

int nm_uevent_open(struct nm_err *err)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int fd, one = 1, rcv = 1 << 20;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return nm_err_set(err, -errno, "uevent socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = -errno;

		close(fd);
		return nm_err_set(err, e, "uevent socket: %s", strerror(-e));
	}
	/* Room for a burst (many mounts at boot); as root beyond rmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	return fd;
}

int nm_uevent_recv(int fd, char *buf, size_t cap, size_t *len, unsigned long *skipped,
		   struct nm_err *err)
{
	for (;;) {
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct ucred))];
		} ctl;
		struct sockaddr_nl sa;
		struct iovec iov = { .iov_base = buf, .iov_len = cap };
		struct msghdr m = { .msg_name = &sa,
				    .msg_namelen = sizeof(sa),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = &ctl,
				    .msg_controllen = sizeof(ctl) };
		struct cmsghdr *c;
		const struct ucred *cred = NULL;
		ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) { /* overrun: messages lost */
				if (skipped)
					(*skipped)++;
				continue;
			}
			return nm_err_set(err, -errno, "uevent socket: %s", strerror(errno));
		}
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
			    c->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
				cred = (const struct ucred *)(void *)CMSG_DATA(c);
		/* The kernel's own: netlink port 0 and uid 0; whole. */
		if (n == 0 || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
		    m.msg_namelen != sizeof(sa) || sa.nl_family != AF_NETLINK || sa.nl_pid != 0 ||
		    !cred || cred->uid != 0) {
			if (skipped)
				(*skipped)++;
			continue;
		}
		*len = (size_t)n;
		return 1;
	}
}

int nm_uevent_read(int fd, int (*cb)(const struct nm_kev *, void *), void *arg, struct nm_err *err)
{
	char buf[NM_UEVENT_MSG_MAX];

	for (;;) {
		struct nm_kev ev;
		size_t len;
		int r = nm_uevent_recv(fd, buf, sizeof(buf), &len, NULL, err);

		if (r <= 0)
			return r;
		if (nm_uevent_parse(buf, len, &ev) != 0)
			continue;
		r = cb(&ev, arg);
		if (r)
			return r;
	}
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* "PREFIX" then digits, exactly n bytes. */
static bool named_number(const char *s, size_t n, const char *prefix)
{
	size_t p = strlen(prefix);

	return n > p && memcmp(s, prefix, p) == 0 && all_digits(s + p, n - p);
}

/* "xprt-M-PROTO": PROTO of letters and digits. */
static bool xprt_name(const char *s, size_t n)
{
	const char *dash;
	size_t i;

	if (n <= 5 || memcmp(s, "xprt-", 5) != 0)
		return false;
	dash = memchr(s + 5, '-', n - 5);
	if (!dash || !all_digits(s + 5, (size_t)(dash - s) - 5))
		return false;
	i = (size_t)(dash - s) + 1;
	if (i >= n || n - i > 16)
		return false;
	for (; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

/* The sunrpc object of devpath p (n bytes): its group ("xprt-switches",
 * "rpc-clients") and the rest, or false when it is none of lab.md 3b's. */
static bool sunrpc_object(const char *p, size_t n, const char **group, const char **rest,
			  size_t *rest_len)
{
	static const char base[] = "/kernel/sunrpc/";
	static const char *const groups[] = { "xprt-switches/", "rpc-clients/" };
	const size_t bl = sizeof(base) - 1;

	if (n <= bl || memcmp(p, base, bl) != 0)
		return false;
	for (size_t g = 0; g < 2; g++) {
		size_t gl = strlen(groups[g]);
		const char *r = p + bl + gl, *slash;
		size_t rl;

		if (n <= bl + gl || memcmp(p + bl, groups[g], gl) != 0)
			continue;
		rl = n - bl - gl;
		slash = memchr(r, '/', rl);
		if (g == 1) {
			if (slash || !named_number(r, rl, "clnt-"))
				return false;
		} else if (slash) {
			size_t a = (size_t)(slash - r);

			if (!named_number(r, a, "switch-") || !xprt_name(slash + 1, rl - a - 1))
				return false;
		} else if (!named_number(r, rl, "switch-")) {
			return false;
		}
		*group = groups[g];
		*rest = r;
		*rest_len = rl;
		return true;
	}
	return false;
}

int nm_uevent_parse(const char *buf, size_t len, struct nm_kev *ev)
{
	static const char libudev[] = "libudev"; /* its magic, with the NUL */
	const char *hdr_end, *at, *subsystem = NULL, *action = NULL, *devpath = NULL;
	const char *group, *rest;
	size_t sub_len = 0, action_len = 0, devpath_len = 0, rest_len, i, glen;
	char name[sizeof(ev->name)];

	nm_kev_init(ev, NM_KEV_NONE, "uevent", "");
	if (!buf || len == 0)
		return -EINVAL;
	if (len >= sizeof(libudev) && memcmp(buf, libudev, sizeof(libudev)) == 0)
		return 1;
	hdr_end = memchr(buf, '\0', len);
	if (!hdr_end)
		return -EINVAL;
	at = memchr(buf, '@', (size_t)(hdr_end - buf));
	if (!at || at == buf || at + 1 == hdr_end)
		return -EINVAL;
	/* KEY=VALUE\0 ... (the last one may lack its NUL). */
	for (i = (size_t)(hdr_end - buf) + 1; i < len;) {
		const char *kv = buf + i, *nul = memchr(kv, '\0', len - i), *eq;
		size_t kl = nul ? (size_t)(nul - kv) : len - i;

		i += kl + 1;
		if (kl == 0)
			continue;
		eq = memchr(kv, '=', kl);
		if (!eq || eq == kv)
			return -EINVAL;
#define KEY(k, p, l)                                                                               \
	if ((size_t)(eq - kv) == sizeof(k) - 1 && memcmp(kv, k, sizeof(k) - 1) == 0) {             \
		p = eq + 1;                                                                        \
		l = kl - (size_t)(eq - kv) - 1;                                                    \
	}
		KEY("SUBSYSTEM", subsystem, sub_len)
		KEY("ACTION", action, action_len)
		KEY("DEVPATH", devpath, devpath_len)
#undef KEY
	}
	if (!subsystem || !action || !devpath)
		return -EINVAL;
	/* The header says the same as the keys. */
	if ((size_t)(at - buf) != action_len || memcmp(buf, action, action_len) != 0 ||
	    (size_t)(hdr_end - at - 1) != devpath_len || memcmp(at + 1, devpath, devpath_len) != 0)
		return -EINVAL;
	if (sub_len != 6 || memcmp(subsystem, "sunrpc", 6) != 0)
		return 1;
	if (action_len > 16)
		return -EINVAL;
	for (i = 0; i < action_len; i++)
		if (action[i] < 'a' || action[i] > 'z')
			return -EINVAL;
	if (!sunrpc_object(devpath, devpath_len, &group, &rest, &rest_len))
		return 1;
	glen = strlen(group) - 1; /* without its '/' */
	snprintf(name, sizeof(name), "%.*s %.*s", (int)action_len, action, (int)glen, group);
	nm_kev_init(ev, NM_KEV_XPRT_SWITCH, "uevent", name);
	nm_kev_set_text(ev, rest, rest_len);
	return 0;
}
