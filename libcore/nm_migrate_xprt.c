/* nm_migrate_xprt - a mount's transports in the sunrpc sysfs, and moving
 * them: dstaddr written, the mount asked with a deadline. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nm_migrate.h"
#include "nm_time.h"

bool nm_migrate_addr_equal(const char *text, const char *addr)
{
	char a[INET6_ADDRSTRLEN + 8], b[INET6_ADDRSTRLEN + 8];
	unsigned char x[16], y[16];
	size_t n;

	if (!text || !addr)
		return false;
	n = strcspn(text, " \t\r\n");
	if (n == 0 || n >= sizeof(a) || strlen(addr) >= sizeof(b))
		return false;
	memcpy(a, text, n);
	a[n] = '\0';
	snprintf(b, sizeof(b), "%s", addr);
	if (inet_pton(AF_INET, a, x) == 1 && inet_pton(AF_INET, b, y) == 1)
		return memcmp(x, y, 4) == 0;
	if (inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, b, y) == 1)
		return memcmp(x, y, 16) == 0;
	return false;
}

/* A small sysfs file's first line, NUL-terminated; -errno on failure. */
static int read_small(int dirfd, const char *name, char *buf, size_t cap)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = read(fd, buf, cap - 1);
	close(fd);
	if (r < 0)
		return -errno;
	buf[r] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* One "key=N" line of xprt_info's text: N, or -1 when absent. */
static long info_num(const char *info, const char *key)
{
	size_t kl = strlen(key);

	for (const char *l = info; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, kl) == 0 && l[kl] == '=') {
			char *end;
			long v = strtol(l + kl + 1, &end, 10);

			return end != l + kl + 1 && v >= 0 && v <= 65535 ? v : -1;
		}
	}
	return -1;
}

/* xprt_info whole (a few hundred bytes), NUL-terminated. */
static void read_info(int xfd, char *buf, size_t cap)
{
	int fd = openat(xfd, "xprt_info", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t r = fd < 0 ? -1 : read(fd, buf, cap - 1);

	if (fd >= 0)
		close(fd);
	buf[r > 0 ? r : 0] = '\0';
}

/* The transports of one switch (sunrpc/xprt-switches/NAME) going to
 * q->server at q->port, added to x. */
static int scan_switch(const struct nm_migrate_xprt_q *q, const char *name,
		       struct nm_migrate_xprt *x, size_t max, size_t *n, struct nm_err *err)
{
	const char *sys = q->sys ? q->sys : NM_MIGRATE_SYSFS, *server = q->server;
	unsigned port = q->port ? q->port : 2049;
	char dir[512];
	struct dirent *f;
	DIR *xd;

	snprintf(dir, sizeof(dir), "%s/kernel/sunrpc/xprt-switches", sys);
	int top = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int sfd = top < 0 ? -1 : openat(top, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (top >= 0)
		close(top);
	if (sfd < 0 || !(xd = fdopendir(sfd))) {
		if (sfd >= 0)
			close(sfd);
		return 0;
	}
	while ((f = readdir(xd))) {
		char addr[64];
		int xfd, k;

		if (strncmp(f->d_name, "xprt-", 5) != 0)
			continue;
		xfd = openat(dirfd(xd), f->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (xfd < 0)
			continue;
		if (read_small(xfd, "dstaddr", addr, sizeof(addr)) == 0 &&
		    nm_migrate_addr_equal(addr, server)) {
			char info[1024];
			long dport, sport;

			read_info(xfd, info, sizeof(info));
			dport = info_num(info, "dst_port");
			sport = info_num(info, "src_port");
			/* Another service of the address (rpcbind, NLM, NFSv3
			 * on another port): not the mount's. */
			if (dport >= 0 && (unsigned long)dport != port) {
				close(xfd);
				continue;
			}
			if (*n >= max) {
				close(xfd);
				closedir(xd);
				return nm_err_set(err, -E2BIG, "more than %zu transports go to %s",
						  max, server);
			}
			k = snprintf(x[*n].path, sizeof(x[*n].path),
				     "kernel/sunrpc/xprt-switches/%s/%s", name, f->d_name);
			if (k > 0 && (size_t)k < sizeof(x[*n].path)) {
				snprintf(x[*n].dstaddr, sizeof(x[*n].dstaddr), "%s", addr);
				x[*n].dst_port = (int)dport;
				x[*n].src_port = (int)sport;
				(*n)++;
			}
		}
		close(xfd);
	}
	closedir(xd);
	return 0;
}

/* The last component of a symbolic link's target when it starts with
 * prefix ("clnt-", "switch-") and has only digits after it. */
static bool link_name(int dirfd, const char *name, const char *prefix, char *out, size_t cap)
{
	char t[512];
	ssize_t len = readlinkat(dirfd, name, t, sizeof(t) - 1);
	const char *b;
	size_t pl = strlen(prefix);

	if (len <= 0)
		return false;
	t[len] = '\0';
	b = strrchr(t, '/');
	b = b ? b + 1 : t;
	if (strncmp(b, prefix, pl) != 0 || !b[pl] ||
	    strspn(b + pl, "0123456789") != strlen(b + pl) || strlen(b) >= cap)
		return false;
	memcpy(out, b, strlen(b) + 1);
	return true;
}

/* 6.12: /sys/fs/nfs/MAJ:MIN links the mount to its RPC clients
 * (nfs_client, nfs_state_client -> kernel/sunrpc/rpc-clients/clnt-N),
 * each client to its switch.  -ENOENT when the kernel has no such link. */
static int find_linked(const struct nm_migrate_xprt_q *q, struct nm_migrate_xprt *x, size_t max,
		       size_t *n, struct nm_err *err)
{
	const char *sys = q->sys ? q->sys : NM_MIGRATE_SYSFS;
	unsigned maj = q->dev_major, min = q->dev_minor;
	static const char *const links[] = { "nfs_client", "nfs_state_client" };
	char dir[512], clnt[32], sw[2][32];
	size_t nsw = 0;
	int dfd, cfd;

	snprintf(dir, sizeof(dir), "%s/fs/nfs/%u:%u", sys, maj, min);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -ENOENT;
	for (size_t i = 0; i < 2; i++) {
		if (!link_name(dfd, links[i], "clnt-", clnt, sizeof(clnt)))
			continue;
		snprintf(dir, sizeof(dir), "%s/kernel/sunrpc/rpc-clients/%s", sys, clnt);
		cfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0)
			continue;
		if (link_name(cfd, "switch", "switch-", sw[nsw], sizeof(sw[nsw])) &&
		    (nsw == 0 || strcmp(sw[0], sw[nsw]) != 0))
			nsw++;
		close(cfd);
	}
	close(dfd);
	if (nsw == 0)
		return -ENOENT;
	for (size_t i = 0; i < nsw; i++) {
		int rc = scan_switch(q, sw[i], x, max, n, err);

		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The switch part of a transport's path (kernel/sunrpc/xprt-switches/switch-N). */
static size_t switch_len(const char *path)
{
	const char *e = strrchr(path, '/');

	return e ? (size_t)(e - path) : strlen(path);
}

/* 6.1: keep the switches holding the mount's own transport (its local
 * port in mountstats); x[] keeps its order.  false when none has it. */
static bool pin(struct nm_migrate_xprt *x, size_t *n, unsigned src_port)
{
	bool keep[NM_MIGRATE_MAX_XPRTS] = { false }, any = false;
	size_t k = 0;

	if (*n > NM_MIGRATE_MAX_XPRTS)
		return false;
	for (size_t i = 0; i < *n; i++)
		if (x[i].src_port >= 0 && (unsigned)x[i].src_port == src_port)
			for (size_t j = 0; j < *n; j++)
				if (switch_len(x[j].path) == switch_len(x[i].path) &&
				    strncmp(x[j].path, x[i].path, switch_len(x[i].path)) == 0)
					keep[j] = any = true;
	if (!any)
		return false;
	for (size_t i = 0; i < *n; i++)
		if (keep[i])
			x[k++] = x[i];
	*n = k;
	return true;
}

int nm_migrate_xprt_find(const struct nm_migrate_xprt_q *q, struct nm_migrate_xprt *x, size_t max,
			 size_t *n, bool *linked, char *warn, size_t wcap, struct nm_err *err)
{
	char top[512];
	const char *sys = q->sys ? q->sys : NM_MIGRATE_SYSFS;
	unsigned port = q->port ? q->port : 2049;
	DIR *sw;
	struct dirent *e;
	int rc;

	*n = 0;
	*linked = false;
	if (warn && wcap)
		warn[0] = '\0';
	snprintf(top, sizeof(top), "%s/kernel/sunrpc/xprt-switches", sys);
	sw = opendir(top);
	if (!sw)
		return nm_err_set(
			err, -ENOENT,
			"%s: %s: this kernel has no sunrpc sysfs transports to move (5.14 "
			"or later has them)",
			top, strerror(errno));
	rc = find_linked(q, x, max, n, err);
	if (rc == 0) {
		*linked = true;
	} else if (rc == -ENOENT) {
		/* 6.1: no link from the mount: every switch with a transport
		 * to the mount's address and port, then the mount's own
		 * (its local port) when it is among them. */
		rc = 0;
		while (rc == 0 && (e = readdir(sw)))
			if (strncmp(e->d_name, "switch-", 7) == 0)
				rc = scan_switch(q, e->d_name, x, max, n, err);
		if (rc == 0 && *n > 0 && !(q->src_port && pin(x, n, q->src_port)) && warn && wcap)
			snprintf(warn, wcap,
				 "the mount's own transport not found (%s): every transport to "
				 "%s port %u moves, so every mount of that address with it",
				 q->src_port ? "no transport has its local port"
					     : "/proc/self/mountstats gives no local port",
				 q->server, port);
	}
	closedir(sw);
	if (rc < 0)
		return rc;
	if (*n == 0)
		return nm_err_set(err, -ESRCH, "no transport %sin %s goes to %s port %u",
				  *linked ? "of the mount's RPC clients " : "", top, q->server,
				  port);
	return 0;
}

/* Undo mountstats' octal escapes (\040) of a mount point, in place. */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

unsigned nm_migrate_src_port(const char *mountstats, const char *target)
{
	FILE *f = fopen(mountstats ? mountstats : "/proc/self/mountstats", "re");
	char line[1024], mp[512];
	bool in = false;
	unsigned port = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned p;

		if (strncmp(line, "device ", 7) == 0) {
			in = sscanf(line, "device %*s mounted on %511s with fstype", mp) == 1 &&
			     (unescape(mp), strcmp(mp, target) == 0);
		} else if (in && sscanf(line, " xprt: tcp %u", &p) == 1 && p > 0 && p <= 65535) {
			port = p;
			break;
		}
	}
	fclose(f);
	return port;
}

int nm_migrate_xprt_write(const char *root, const struct nm_migrate_xprt *x, size_t n,
			  const char *addr, size_t *done, struct nm_err *err)
{
	size_t len = strlen(addr);

	root = root ? root : NM_MIGRATE_SYSFS;
	*done = 0;
	for (size_t i = 0; i < n; i++) {
		char path[600];
		int fd;
		ssize_t w;

		snprintf(path, sizeof(path), "%s/%s/dstaddr", root, x[i].path);
		fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return nm_err_set(err, -errno, "%s: %s", path, strerror(errno));
		w = write(fd, addr, len);
		if (w < 0 || (size_t)w != len) {
			int e = w < 0 ? errno : EIO;

			close(fd);
			return nm_err_set(err, -e, "writing %s to %s: %s", addr, path, strerror(e));
		}
		if (close(fd) < 0)
			return nm_err_set(err, -errno, "writing %s to %s: %s", addr, path,
					  strerror(errno));
		(*done)++;
	}
	return 0;
}

int nm_migrate_stat_deadline(const char *path, int timeout_ms, struct nm_err *err)
{
	int fds[2], status, res = 0;
	pid_t pid;
	struct pollfd p;
	int64_t end;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return nm_err_set(err, -errno, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return nm_err_set(err, -errno, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		struct statx st;
		/* FORCE_SYNC: a GETATTR to the server, not the attribute cache. */
		int r = statx(AT_FDCWD, path, AT_STATX_FORCE_SYNC, STATX_BASIC_STATS, &st) < 0
				? errno
				: 0;

		if (write(fds[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	p = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	end = nm_time_ms() + timeout_ms;
	for (;;) {
		int64_t left = end - nm_time_ms();
		int pr = poll(&p, 1, left > 0 ? (int)left : 0);

		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			res = -ETIMEDOUT;
			break;
		}
		if (read(fds[0], &status, sizeof(status)) != sizeof(status))
			res = -EIO;
		else
			res = -status;
		break;
	}
	close(fds[0]);
	if (res == -ETIMEDOUT)
		kill(pid, SIGKILL);
	/* A child stuck on a hard mount dies when the RPC wait sees SIGKILL;
	 * it is waited for a little, then left to init. */
	for (int i = 0; i < 20; i++) {
		if (waitpid(pid, &status, WNOHANG) != 0)
			break;
		nm_time_sleep_ms(50);
	}
	if (res == -ETIMEDOUT)
		return nm_err_set(err, res, "%s did not answer within %d ms", path, timeout_ms);
	if (res < 0)
		return nm_err_set(err, res, "%s: %s", path, strerror(-res));
	return 0;
}

int nm_migrate_test_pause(const char *f, struct nm_err *err)
{
	char dir[512];
	struct stat st;
	const char *slash;
	int fd, dfd;
	int64_t end;

	if (!f || !f[0])
		return 0;
	/* Its directory root's and writable by root alone: nobody else
	 * can hold the move in the window or put a link in place. */
	slash = strrchr(f, '/');
	if (!slash || (size_t)(slash - f) >= sizeof(dir))
		return nm_err_set(err, -EINVAL, "%s: the test pause file needs an absolute path",
				  f);
	snprintf(dir, sizeof(dir), "%.*s", slash == f ? 1 : (int)(slash - f), f);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return nm_err_set(err, -errno, "%s: %s", dir, strerror(errno));
	if (fstat(dfd, &st) < 0 || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(dfd);
		return nm_err_set(err, -EPERM,
				  "%s: the test pause file's directory must be root's and "
				  "writable by root alone",
				  dir);
	}
	close(dfd);
	fd = open(f, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return nm_err_set(err, -errno, "%s: %s", f, strerror(errno));
	close(fd);
	end = nm_time_ms() + 60000;
	while (access(f, F_OK) == 0) {
		if (nm_time_ms() >= end) {
			unlink(f);
			return nm_err_set(err, -ETIMEDOUT, "%s was not removed within 60 s", f);
		}
		nm_time_sleep_ms(50);
	}
	return 0;
}

struct record_arg {
	const char *from, *to;
	int64_t now;
};

static int record_fn(struct nm_record *r, const struct nm_store_update *u, void *arg,
		     struct nm_err *err)
{
	const struct record_arg *a = arg;
	struct nm_move *last = r->nmoves ? &r->moves[r->nmoves - 1] : NULL;
	char *cur;

	(void)u;
	/* nfsmigd saw the new addr= first and recorded it (trigger
	 * "rescan" or a tracepoint): the same move, said to be ours. */
	if (last && last->from && last->to && r->cur_server &&
	    nm_migrate_addr_equal(last->from, a->from) && nm_migrate_addr_equal(last->to, a->to) &&
	    nm_migrate_addr_equal(r->cur_server, a->to)) {
		char *t = strdup("migrate");

		if (!t)
			return nm_err_set(err, -ENOMEM, "out of memory");
		free(last->trigger);
		last->trigger = t;
		return 0;
	}
	cur = strdup(a->to);
	if (!cur || nm_record_add_move_by(r, a->now, a->from, a->to, "migrate") < 0) {
		free(cur);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	free(r->cur_server);
	r->cur_server = cur;
	return 0;
}

int nm_migrate_record(const char *state_dir, const char *mountpoint, const char *from,
		      const char *to, int64_t now, struct nm_err *err)
{
	struct record_arg a = { .from = from, .to = to, .now = now };

	return nm_store_update(state_dir, mountpoint, NULL, record_fn, &a, err);
}

int nm_migrate_lock(const char *state_dir, const char *addr, struct nm_err *err)
{
	unsigned char a[16];
	char text[INET6_ADDRSTRLEN], name[INET6_ADDRSTRLEN + 32];
	int af = inet_pton(AF_INET, addr, a) == 1 ? AF_INET : AF_INET6;
	int dfd, fd;

	if (inet_pton(af, addr, a) != 1 || !inet_ntop(af, a, text, sizeof(text)))
		return nm_err_set(err, -EINVAL, "%s: not a numeric address", addr);
	snprintf(name, sizeof(name), "migrate.%s.lock", text);
	dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return nm_err_set(err, -errno, "%s: %s", state_dir, strerror(errno));
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	close(dfd);
	if (fd < 0)
		return nm_err_set(err, -errno, "%s/%s: %s", state_dir, name, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return nm_err_set(err, -EBUSY,
					  "another migrate of %s's transports is under way (%s/%s)",
					  text, state_dir, name);
		return nm_err_set(err, -e, "%s/%s: %s", state_dir, name, strerror(e));
	}
	return fd;
}
