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

/* The transports of one switch (sunrpc/xprt-switches/NAME) going to
 * server, added to x. */
static int scan_switch(const char *sys, const char *name, const char *server,
		       struct nm_migrate_xprt *x, size_t max, size_t *n, struct nm_err *err)
{
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
static int find_linked(const char *sys, unsigned maj, unsigned min, const char *server,
		       struct nm_migrate_xprt *x, size_t max, size_t *n, struct nm_err *err)
{
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
		int rc = scan_switch(sys, sw[i], server, x, max, n, err);

		if (rc < 0)
			return rc;
	}
	return 0;
}

int nm_migrate_xprt_find(const char *sys, unsigned dev_major, unsigned dev_minor,
			 const char *server, struct nm_migrate_xprt *x, size_t max, size_t *n,
			 bool *linked, struct nm_err *err)
{
	char top[512];
	DIR *sw;
	struct dirent *e;
	int rc;

	*n = 0;
	*linked = false;
	sys = sys ? sys : NM_MIGRATE_SYSFS;
	snprintf(top, sizeof(top), "%s/kernel/sunrpc/xprt-switches", sys);
	sw = opendir(top);
	if (!sw)
		return nm_err_set(
			err, -ENOENT,
			"%s: %s: this kernel has no sunrpc sysfs transports to move (5.14 "
			"or later has them)",
			top, strerror(errno));
	rc = find_linked(sys, dev_major, dev_minor, server, x, max, n, err);
	if (rc == 0) {
		*linked = true;
	} else if (rc == -ENOENT) {
		/* 6.1: no link from the mount: every switch with a transport
		 * to the mount's address. */
		rc = 0;
		while (rc == 0 && (e = readdir(sw)))
			if (strncmp(e->d_name, "switch-", 7) == 0)
				rc = scan_switch(sys, e->d_name, server, x, max, n, err);
	}
	closedir(sw);
	if (rc < 0)
		return rc;
	if (*n == 0)
		return nm_err_set(err, -ESRCH, "no transport %sin %s goes to %s",
				  *linked ? "of the mount's RPC clients " : "", top, server);
	return 0;
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

int nm_migrate_test_pause(struct nm_err *err)
{
	const char *f = getenv(NM_MIGRATE_PAUSE_ENV);
	int fd;
	int64_t end;

	if (!f || !f[0])
		return 0;
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
	char *cur = strdup(a->to);

	(void)u;
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
