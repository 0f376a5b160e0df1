/* nm_kmsg - the NFS client's failure messages from /dev/kmsg (see
 * nm_kmsg.h).  The texts are the kernel's (fs/nfs/nfs4state.c):
 *   pr_err("NFS: migration recovery failed (server %s)\n", ...)
 *   pr_err("NFS: volatile file handles not supported (server %s)\n", ...)
 *   pr_warn_ratelimited("NFS: state manager%s%s failed on NFSv4 server %s"
 *                       " with error %d\n", ": ", section, ..., -status)
 * with section "migration" or "lease moved". */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nm_kmsg.h"

#define MSG_MAX 2048 /* the message, unescaped, as far as it is looked at */

int nm_kmsg_open(struct nm_err *err)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		int e = -errno;

		return nm_err_set(err, e, "/dev/kmsg: %s%s", strerror(-e),
				  e == -EPERM ? " (kernel.dmesg_restrict: CAP_SYSLOG needed)" : "");
	}
	if (lseek(fd, 0, SEEK_END) < 0) {
		int e = -errno;

		close(fd);
		return nm_err_set(err, e, "/dev/kmsg: seek to the end: %s", strerror(-e));
	}
	return fd;
}

/* The decimal digits at s[*i..end) (at most max of them) into *v: how
 * many there were, 0 when none or too many. */
static size_t digits(const char *s, size_t end, size_t *i, size_t max, uint64_t *v)
{
	size_t n = 0;

	*v = 0;
	while (*i < end && s[*i] >= '0' && s[*i] <= '9') {
		if (++n > max)
			return 0;
		*v = *v * 10 + (uint64_t)(s[*i] - '0');
		(*i)++;
	}
	return n;
}

/* A number then the character stop. */
static bool number(const char *s, size_t end, size_t *i, char stop, uint64_t *v)
{
	if (!digits(s, end, i, 19, v) || *i >= end || s[*i] != stop)
		return false;
	(*i)++;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The message with the kernel's \xNN undone, cut at cap. */
static size_t unescape(const char *s, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o < cap; i++) {
		if (s[i] == '\\' && i + 3 < len && s[i + 1] == 'x' && hexval(s[i + 2]) >= 0 &&
		    hexval(s[i + 3]) >= 0) {
			out[o++] = (char)(hexval(s[i + 2]) << 4 | hexval(s[i + 3]));
			i += 3;
		} else {
			out[o++] = s[i];
		}
	}
	return o;
}

static bool starts(const char *m, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(m, prefix, n) == 0;
}

/* The last " with error " in m[0..len). */
static const char *last_with_error(const char *m, size_t len)
{
	static const char w[] = " with error ";
	const size_t n = sizeof(w) - 1;

	for (size_t i = len >= n ? len - n + 1 : 0; i-- > 0;)
		if (memcmp(m + i, w, n) == 0)
			return m + i;
	return NULL;
}

/* "PREFIX HOST)": the host, or false. */
static bool paren_host(struct nm_kev *ev, const char *m, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	if (!starts(m, len, prefix) || len < n + 2 || m[len - 1] != ')')
		return false;
	nm_kev_set_host(ev, m + n, len - n - 1);
	return true;
}

static bool state_mgr_failed(struct nm_kev *ev, const char *m, size_t len)
{
	static const char *const sections[] = { "migration", "lease moved" };
	static const char mid[] = " failed on NFSv4 server ";
	static const char head[] = "NFS: state manager: ";

	if (!starts(m, len, head))
		return false;
	for (size_t k = 0; k < 2; k++) {
		size_t at = sizeof(head) - 1, sl = strlen(sections[k]);
		const char *we;
		size_t i, end;
		uint64_t v = 0;
		bool neg = false;

		if (len < at + sl + sizeof(mid) - 1 || memcmp(m + at, sections[k], sl) != 0 ||
		    memcmp(m + at + sl, mid, sizeof(mid) - 1) != 0)
			continue;
		at += sl + sizeof(mid) - 1;
		we = last_with_error(m, len);
		if (!we || (size_t)(we - m) <= at)
			return false;
		i = (size_t)(we - m) + strlen(" with error ");
		end = len;
		if (i < end && m[i] == '-') {
			neg = true;
			i++;
		}
		if (!digits(m, end, &i, 10, &v) || i != end || v > INT32_MAX)
			return false;
		nm_kev_set_host(ev, m + at, (size_t)(we - m) - at);
		ev->error = neg ? -(int)v : (int)v;
		if (k == 1)
			ev->flags |= NM_KEV_F_LEASE_MOVED;
		else
			ev->flags |= NM_KEV_F_MOVED;
		return true;
	}
	return false;
}

int nm_kmsg_parse(const char *rec, size_t len, struct nm_kev *ev)
{
	char msg[MSG_MAX];
	const char *semi, *nl;
	uint64_t pri, seq, usec;
	size_t i = 0, mlen, head;

	nm_kev_init(ev, NM_KEV_NONE, "kmsg", "kmsg");
	semi = rec && len ? memchr(rec, ';', len) : NULL;
	if (!semi)
		return -EINVAL;
	head = (size_t)(semi - rec);
	if (!number(rec, head, &i, ',', &pri) || !number(rec, head, &i, ',', &seq))
		return -EINVAL;
	/* usec, then the flags (and what newer kernels add), up to ';'. */
	if (!digits(rec, head, &i, 19, &usec) || (i < head && rec[i] != ','))
		return -EINVAL;
	if (pri > 0xffffff)
		return -EINVAL;
	semi++;
	nl = memchr(semi, '\n', len - head - 1);
	mlen = nl ? (size_t)(nl - semi) : len - head - 1;
	mlen = unescape(semi, mlen, msg, sizeof(msg));
	ev->time_ms = (int64_t)(usec / 1000);
	nm_kev_set_text(ev, msg, mlen);
	if ((pri >> 3) != 0) /* not the kernel's own facility */
		return 1;
	if (paren_host(ev, msg, mlen, "NFS: migration recovery failed (server ")) {
		ev->kind = NM_KEV_MIGRATION_FAILED;
		ev->flags |= NM_KEV_F_MOVED;
		return 0;
	}
	if (paren_host(ev, msg, mlen, "NFS: volatile file handles not supported (server ")) {
		ev->kind = NM_KEV_VOLATILE_FH;
		return 0;
	}
	if (state_mgr_failed(ev, msg, mlen)) {
		ev->kind = NM_KEV_MIGRATION_FAILED;
		return 0;
	}
	ev->host[0] = '\0';
	return 1;
}

int nm_kmsg_next(int fd, char *buf, size_t cap, size_t *len, unsigned long *lost,
		 struct nm_err *err)
{
	for (;;) {
		ssize_t n = read(fd, buf, cap);

		if (n > 0) {
			*len = (size_t)n;
			return 1;
		}
		if (n == 0 || errno == EAGAIN)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EPIPE) { /* overrun: the next read goes on */
			if (lost)
				(*lost)++;
			continue;
		}
		return nm_err_set(err, -errno, "/dev/kmsg: read: %s", strerror(errno));
	}
}

static int64_t ms_of(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int nm_kmsg_read(int fd, int (*cb)(const struct nm_kev *, void *), void *arg, struct nm_err *err)
{
	char buf[NM_KMSG_REC_MAX];

	for (;;) {
		struct nm_kev ev;
		size_t len;
		int r = nm_kmsg_next(fd, buf, NM_KMSG_REC_MAX, &len, NULL, err);

		if (r <= 0)
			return r;
		if (nm_kmsg_parse(buf, len, &ev) != 0)
			continue;
		{
			/* The stamp is the kernel's clock since boot: made wall time. */
			int64_t mono = ms_of(CLOCK_MONOTONIC), rt = ms_of(CLOCK_REALTIME);

			ev.time_ms = ev.time_ms <= mono ? rt - (mono - ev.time_ms) : rt;
		}
		r = cb(&ev, arg);
		if (r)
			return r;
	}
}
