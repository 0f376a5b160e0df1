#include "nm_mpath.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nm_path.h"
#include "nm_time.h"

bool nm_mpath_covers(const char *target, const char *abs)
{
	size_t n = strlen(target);

	if (strcmp(target, "/") == 0)
		return true;
	return strncmp(target, abs, n) == 0 && (abs[n] == '\0' || abs[n] == '/');
}

bool nm_mpath_fs_local(const char *type)
{
	/* Disks, memory and the kernel's own: nothing on the way to a server
	 * and no automounter.  Everything else (autofs, fuse, overlay, cifs,
	 * 9p, ceph...) may hang. */
	static const char *const local[] = {
		"ext2",	     "ext3",	    "ext4",	  "xfs",      "btrfs",	  "f2fs",
		"jfs",	     "reiserfs",    "nilfs2",	  "vfat",     "msdos",	  "exfat",
		"ntfs3",     "zfs",	    "iso9660",	  "udf",      "squashfs", "erofs",
		"tmpfs",     "ramfs",	    "devtmpfs",	  "proc",     "sysfs",	  "devpts",
		"cgroup",    "cgroup2",	    "securityfs", "debugfs",  "tracefs",  "bpf",
		"mqueue",    "hugetlbfs",   "pstore",	  "configfs", "efivarfs", "fusectl",
		"selinuxfs", "binfmt_misc", "rpc_pipefs", "nsfs",     "rootfs",
	};

	if (!type)
		return false;
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (strcmp(type, local[i]) == 0)
			return true;
	return false;
}

bool nm_mpath_on_nfs(const struct nm_mpath_mount *mounts, size_t n, const char *abs)
{
	/* Any hands-off mount on the way, not only the deepest: a local file
	 * system mounted inside an NFS one is reached through NFS directories. */
	for (size_t i = 0; i < n; i++)
		if (mounts[i].nfs && mounts[i].target && nm_mpath_covers(mounts[i].target, abs))
			return true;
	return false;
}

static int live_link(const char *abs, char **target, void *arg)
{
	char buf[PATH_MAX];
	struct stat st;
	ssize_t len;

	(void)arg;
	if (strlen(abs) >= PATH_MAX)
		return -ENAMETOOLONG;
	if (lstat(abs, &st) < 0)
		return -errno;
	if (!S_ISLNK(st.st_mode))
		return 0;
	len = readlink(abs, buf, sizeof(buf) - 1);
	if (len < 0)
		return -errno;
	buf[len] = '\0';
	*target = strdup(buf);
	return *target ? 1 : -ENOMEM;
}

const struct nm_mpath_ops nm_mpath_live_ops = { .link = live_link, .arg = NULL };

/* Drop the last component of res (reslen bytes, "" standing for "/"). */
static size_t pop(char *res, size_t reslen)
{
	while (reslen > 0 && res[reslen - 1] != '/')
		reslen--;
	if (reslen > 0)
		reslen--;
	res[reslen] = '\0';
	return reslen;
}

int nm_mpath_resolve(const struct nm_mpath_mount *mounts, size_t n, const char *path,
		     const char *cwd, const struct nm_mpath_ops *ops, char **out,
		     struct nm_err *err)
{
	char *rest = NULL, *res = NULL;
	const char *p;
	size_t reslen = 0;
	int links = 0, rc = 0;

	*out = NULL;
	if (!path || !path[0])
		return nm_err_set(err, -ENOENT, "an empty path names nothing");
	/* The kernel's bound is on the path given, not on the current
	 * directory joined to it: the joined text may reach NM_MPATH_MAX. */
	if (strlen(path) >= PATH_MAX)
		return nm_err_set(err, -ENAMETOOLONG, "%.64s...: longer than %d bytes", path,
				  PATH_MAX);
	if (path[0] == '/')
		rest = strdup(path);
	else if (!cwd || cwd[0] != '/')
		return nm_err_set(err, -EINVAL, "%s: a relative path, and no current directory",
				  path);
	else if (asprintf(&rest, "%s/%s", cwd, path) < 0)
		rest = NULL;
	res = malloc(NM_MPATH_MAX);
	if (!rest || !res) {
		rc = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	res[0] = '\0';
	p = rest;
	while (*p) {
		const char *s;
		char *target = NULL, *next = NULL;
		size_t len;
		int r;

		s = nm_path_next(&p, &len);
		if (len == 0 || (len == 1 && s[0] == '.'))
			continue;
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			reslen = pop(res, reslen);
			continue;
		}
		if (reslen + 1 + len >= NM_MPATH_MAX) {
			rc = nm_err_set(err, -ENAMETOOLONG, "%.64s...: longer than %d bytes", path,
					NM_MPATH_MAX);
			goto out;
		}
		res[reslen] = '/';
		memcpy(res + reslen + 1, s, len);
		reslen += 1 + len;
		res[reslen] = '\0';
		/* Below an NFS mount the text is all there is: asking the
		 * file system would ask the server. */
		if (!ops || nm_mpath_on_nfs(mounts, n, res))
			continue;
		r = ops->link(res, &target, ops->arg);
		if (r == 1 && (!target || !target[0]))
			r = -ENOENT;
		if (r < 0) {
			free(target);
			if (r == -ENAMETOOLONG && reslen >= PATH_MAX)
				rc = nm_err_set(err, r,
						"%.64s...: longer than %d bytes from the root, "
						"too long to look for symbolic links in",
						path, PATH_MAX);
			else
				rc = nm_err_set(err, r, "%s: %s", path, strerror(-r));
			goto out;
		}
		if (r == 0)
			continue;
		if (++links > NM_MPATH_MAX_LINKS) {
			free(target);
			rc = nm_err_set(err, -ELOOP, "%s: %s", path, strerror(ELOOP));
			goto out;
		}
		/* The link's target takes its place, the rest after it. */
		if (asprintf(&next, "%s/%s", target, p) < 0)
			next = NULL;
		reslen = target[0] == '/' ? 0 : pop(res, reslen);
		res[reslen] = '\0';
		free(target);
		if (!next) {
			rc = nm_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		if (strlen(next) >= NM_MPATH_MAX) {
			free(next);
			rc = nm_err_set(err, -ENAMETOOLONG, "%.64s...: longer than %d bytes", path,
					NM_MPATH_MAX);
			goto out;
		}
		free(rest);
		rest = next;
		p = rest;
	}
	if (reslen == 0)
		strcpy(res, "/");
	*out = res;
	res = NULL;
out:
	free(rest);
	free(res);
	return rc;
}

/* --- listing a directory within a deadline ------------------------------------ */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The lister: its pid, then a status ("0" or the errno), each a decimal
 * string and a NUL, then per entry a type byte ('d', '-', or '?' for a
 * type readdir did not give), the name and a NUL.  It is a grandchild
 * (reparented to init, so one stuck in NFS past the deadline is nobody's
 * zombie), with default signal handlers (a Ctrl-C handler of the caller
 * must not run here) and no descriptor but the standard ones and fd. */
static void list_child(const char *dir, const struct nm_mpath_list_opts *o, int fd)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	struct dirent *e;
	char head[32];
	size_t n = 0;
	sigset_t none;
	int st;
	DIR *d;

	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (fd != 3 && dup2(fd, 3) < 0)
		_exit(1);
	fd = 3;
	close_range(4, ~0U, 0);
	snprintf(head, sizeof(head), "%ld", (long)getpid());
	if (write_all(fd, head, strlen(head) + 1) < 0)
		_exit(1);
	st = o->prepare ? o->prepare(dir, o->arg) : 0;
	d = st ? NULL : opendir(dir);
	if (!st && !d)
		st = errno;
	snprintf(head, sizeof(head), "%d", st);
	if (write_all(fd, head, strlen(head) + 1) < 0 || !d)
		_exit(0);
	while (n < o->max && (e = readdir(d)) != NULL) {
		char type = e->d_type == DT_DIR ? 'd' : e->d_type == DT_UNKNOWN ? '?' : '-';

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (write_all(fd, &type, 1) < 0 ||
		    write_all(fd, e->d_name, strlen(e->d_name) + 1) < 0)
			_exit(1);
		n++;
	}
	_exit(0);
}

static int parse_entries(const char *buf, size_t len, size_t max, struct nm_mpath_entry **out,
			 size_t *n, struct nm_err *err)
{
	const char *p = buf, *end = buf + len;
	size_t cap = 0;

	while (p < end && *n < max) {
		const char *name = p + 1, *nul = memchr(name, '\0', (size_t)(end - name));
		struct nm_mpath_entry *g;

		if (p + 1 >= end || !nul)
			break; /* cut short: keep what came whole */
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			g = realloc(*out, cap * sizeof(*g));
			if (!g)
				return nm_err_set(err, -ENOMEM, "out of memory");
			*out = g;
		}
		(*out)[*n].dir = p[0] == 'd';
		(*out)[*n].unknown = p[0] == '?';
		(*out)[*n].name = strdup(name);
		if (!(*out)[*n].name)
			return nm_err_set(err, -ENOMEM, "out of memory");
		(*n)++;
		p = nul + 1;
	}
	return 0;
}

int nm_mpath_list(const char *dir, int timeout_ms, size_t max, struct nm_mpath_entry **out,
		  size_t *n, struct nm_err *err)
{
	struct nm_mpath_list_opts o = { .timeout_ms = timeout_ms, .max = max };

	return nm_mpath_list_with(dir, &o, out, n, err);
}

int nm_mpath_list_with(const char *dir, const struct nm_mpath_list_opts *o,
		       struct nm_mpath_entry **out, size_t *n, struct nm_err *err)
{
	size_t max = o->max > 100000 ? 100000 : o->max;
	size_t limit = 64 + max * (NAME_MAX + 2), len = 0;
	int64_t deadline = nm_time_ms() + o->timeout_ms;
	const char *status = NULL;
	char *buf = NULL;
	bool eof = false;
	int fds[2], rc = 0, wst;
	pid_t pid, lister = 0;

	*out = NULL;
	*n = 0;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return nm_err_set(err, -errno, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(fds[0]);
		close(fds[1]);
		return nm_err_set(err, rc, "fork: %s", strerror(-rc));
	}
	if (pid == 0) {
		pid_t g;

		close(fds[0]);
		g = fork();
		if (g != 0)
			_exit(g < 0 ? 1 : 0);
		list_child(dir, o, fds[1]);
	}
	close(fds[1]);
	/* The middle process leaves at once: the lister is init's to reap. */
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	while (!eof && len < limit) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int64_t left = deadline - nm_time_ms();
		ssize_t r;
		char *g;

		if (left <= 0)
			break;
		/* A signal (Ctrl-C) ends the wait: the user gave up on it. */
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR) {
			rc = nm_err_set(err, -EINTR, "%s: listing interrupted", dir);
			break;
		}
		if (r <= 0)
			break;
		if (!buf || len == 0 || len % 65536 == 0) {
			g = realloc(buf, len + 65536);
			if (!g) {
				rc = nm_err_set(err, -ENOMEM, "out of memory");
				break;
			}
			buf = g;
		}
		r = read(fds[0], buf + len, 65536 - len % 65536);
		if (r < 0 && errno == EINTR) {
			rc = nm_err_set(err, -EINTR, "%s: listing interrupted", dir);
			break;
		}
		if (r <= 0)
			eof = true;
		else
			len += (size_t)r;
		if (!lister && memchr(buf, '\0', len))
			lister = (pid_t)atol(buf);
	}
	close(fds[0]);
	/* Not done: stop it.  It has not closed the pipe, so it has not
	 * exited and its pid is still its own. */
	if (!eof && lister > 1)
		kill(lister, SIGKILL);
	if (rc == 0 && !eof && len < limit) {
		rc = nm_err_set(err, -ETIMEDOUT, "%s: not listed within %d ms", dir, o->timeout_ms);
	} else if (rc == 0) {
		const char *nul = buf ? memchr(buf, '\0', len) : NULL;
		const char *end = nul ? memchr(nul + 1, '\0', len - (size_t)(nul + 1 - buf)) : NULL;
		int e = end ? atoi(nul + 1) : EIO;

		status = end;
		if (e != 0)
			rc = nm_err_set(err, -e, "%s: %s", dir, strerror(e));
		else
			rc = parse_entries(status + 1, len - (size_t)(status + 1 - buf), max, out,
					   n, err);
	}
	free(buf);
	if (rc < 0) {
		nm_mpath_entries_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

void nm_mpath_entries_free(struct nm_mpath_entry *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++)
		free(e[i].name);
	free(e);
}
