#include "nm_hook.h"
#include "nm_esc.h"
#include "nm_event.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nm_time.h"

#define HOOK_PATH     "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
#define HOOK_ENV_MAX  64   /* NFSMIG_* variables passed */
#define HOOK_LINE_MAX 1024 /* a longer output line is logged in pieces */

int nm_hook_name_ok(const char *name)
{
	if (!name || !*name)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return 0;
	return 1;
}

static int env_name_ok(const char *env, size_t *name_len)
{
	const char *eq = strchr(env, '=');

	if (!eq || strncmp(env, "NFSMIG_", 7) != 0 || eq - env <= 7)
		return 0;
	for (const char *p = env + 7; p < eq; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	*name_len = (size_t)(eq - env);
	return 1;
}

int nm_hook_env_ok(const char *env)
{
	size_t n;

	return env && env_name_ok(env, &n) && !nm_esc_needed(env + n + 1, NM_ESC_BACKSLASH);
}

/* --- logging ------------------------------------------------------------- */

struct hook_log {
	void (*log)(const char *line, void *arg);
	void *arg;
};

static __attribute__((format(printf, 2, 3))) void say(const struct hook_log *l, const char *fmt,
						      ...)
{
	va_list ap;
	FILE *m;
	char *buf = NULL;
	size_t n = 0;

	if (!l->log)
		return;
	/* Every %s is escaped (nm_esc_vfprintf): names and output of hooks. */
	m = open_memstream(&buf, &n);
	if (!m)
		return;
	va_start(ap, fmt);
	nm_esc_vfprintf(m, fmt, ap);
	va_end(ap);
	if (fclose(m) == 0 && buf)
		l->log(buf, l->arg);
	free(buf);
}

/* Output of one hook, cut into lines, each logged escaped. */
struct outbuf {
	const struct hook_log *l;
	const char *name;
	char line[HOOK_LINE_MAX];
	size_t len;
	size_t total; /* bytes logged */
	int cut;      /* past NM_HOOK_OUTPUT_MAX: the rest is read and dropped */
};

static void out_flush(struct outbuf *o)
{
	char *e;

	if (o->len == 0)
		return;
	/* nm_esc takes the bytes as they are, NULs too. */
	e = nm_esc(o->line, o->len, NM_ESC_BACKSLASH);
	if (e && o->l->log) {
		size_t n = strlen(o->name) + strlen(e) + 3;
		char *line = malloc(n);

		if (line) {
			snprintf(line, n, "%s: %s", o->name, e);
			o->l->log(line, o->l->arg);
			free(line);
		}
	}
	free(e);
	o->len = 0;
}

static void out_add(struct outbuf *o, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (o->cut)
			return;
		if (o->total++ >= NM_HOOK_OUTPUT_MAX) {
			out_flush(o);
			say(o->l, "%s: output past %u bytes not logged", o->name,
			    NM_HOOK_OUTPUT_MAX);
			o->cut = 1;
			return;
		}
		if (p[i] == '\n') {
			out_flush(o);
			continue;
		}
		if (o->len == sizeof(o->line))
			out_flush(o);
		o->line[o->len++] = p[i];
	}
}

/* --- one hook ------------------------------------------------------------ */

/* Write to a pipe whose reader may be gone: EPIPE, not SIGPIPE (blocked for
 * this thread for the call; one it raised is taken back). */
static ssize_t write_nosig(int fd, const void *p, size_t n)
{
	sigset_t pipe_set, old, pending;
	int was_pending, e;
	ssize_t w;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	w = write(fd, p, n);
	e = errno;
	if (w < 0 && e == EPIPE && !was_pending) {
		struct timespec zero = { 0, 0 };

		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return w;
}

/* Close every fd from lo up, async-signal-safe (after fork): close_range,
 * else each entry of /proc/self/fd (read with getdents64: no malloc), else
 * each fd below the limit on open files. */
static void close_from(int lo)
{
	char buf[4096] __attribute__((aligned(8)));
	long max;
	int dfd;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lo, ~0u, 0u) == 0)
		return;
#endif
	dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		int closed;

		/* Closing while the directory is read: read it again until a
		 * pass closes nothing. */
		do {
			long n;

			closed = 0;
			lseek(dfd, 0, SEEK_SET);
			while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
				for (long off = 0; off < n;) {
					struct dirent64 *e = (struct dirent64 *)(void *)(buf + off);
					int fd = 0, ok = e->d_name[0] != '\0';

					for (const char *c = e->d_name; *c && ok; c++) {
						ok = *c >= '0' && *c <= '9' && fd < 10000000;
						fd = fd * 10 + (*c - '0');
					}
					if (ok && fd >= lo && fd != dfd && close(fd) == 0)
						closed = 1;
					off += e->d_reclen;
				}
			}
		} while (closed);
		close(dfd);
		return;
	}
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > (1l << 20))
		max = 1l << 20;
	for (long fd = lo; fd < max; fd++)
		(void)close((int)fd);
}

/* In the child: the hook name of the directory dfd, run only if the name is
 * still the file checked (hfd, O_PATH), and never through a symbolic link
 * (execveat AT_SYMLINK_NOFOLLOW, relative to dfd: a relative hooks_dir or
 * a parent renamed does not matter). */
static void child(int dfd, int hfd, const char *name, const char *path, int in, int out,
		  char *const *envp)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	struct stat a, b;
	sigset_t none;
	char *argv[] = { (char *)path, NULL };

	setpgid(0, 0);
	/* Out of the way of 0..3 first, whatever numbers they had. */
	if ((dfd = fcntl(dfd, F_DUPFD_CLOEXEC, 4)) < 0 ||
	    (hfd = fcntl(hfd, F_DUPFD_CLOEXEC, 4)) < 0 ||
	    (in = fcntl(in, F_DUPFD_CLOEXEC, 4)) < 0 || (out = fcntl(out, F_DUPFD_CLOEXEC, 4)) < 0)
		_exit(127);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 || dup2(dfd, 3) < 0)
		_exit(127);
	if (fstat(hfd, &a) < 0 || fstatat(3, name, &b, AT_SYMLINK_NOFOLLOW) < 0 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		_exit(126);
	/* What the caller ignored or blocked is not the hook's. */
	for (int s = 1; s < NSIG; s++)
		(void)sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Only stdin, stdout and stderr go to the hook, and fd 3, the
	 * directory, to a script's interpreter only (it opens the script as
	 * /dev/fd/3/NAME, its $0). */
	close_from(4);
	if (chdir("/") < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
		_exit(127);
	syscall(SYS_execveat, 3, name, argv, envp, AT_SYMLINK_NOFOLLOW);
	if (errno == ENOENT && fcntl(3, F_SETFD, 0) == 0)
		syscall(SYS_execveat, 3, name, argv, envp, AT_SYMLINK_NOFOLLOW);
	_exit(127);
}

static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	return -1;
#endif
}

/* Has the hook ended?  Seen without reaping it (WNOWAIT): while it is a
 * zombie its pid, and so its process group's id, stay its own.  1 when it
 * has (*code its exit status, 128+N when killed by signal N, *sig N or 0;
 * *code -1 when its status was taken by another: SIGCHLD ignored, or a
 * reaper of every child), 0 when it runs. */
static int ended(pid_t pid, int pfd, int *code, int *sig)
{
	siginfo_t si;
	int r;

	do {
		memset(&si, 0, sizeof(si));
		r = pfd >= 0 ? waitid(P_PIDFD, (id_t)pfd, &si, WEXITED | WNOHANG | WNOWAIT) : -1;
		if (pfd < 0 || (r < 0 && errno == EINVAL)) /* no P_PIDFD: before Linux 5.4 */
			r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		/* ECHILD: gone, its status taken by another; never waited
		 * for again. */
		*code = -1;
		*sig = 0;
		return 1;
	}
	if (si.si_pid == 0)
		return 0;
	*sig = si.si_code == CLD_EXITED ? 0 : si.si_status;
	*code = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	return 1;
}

/* ended(), waiting up to ms. */
static int ended_within(pid_t pid, int pfd, int ms, int *code, int *sig)
{
	int64_t end = nm_time_ms() + ms;

	for (;;) {
		int64_t left;

		if (ended(pid, pfd, code, sig))
			return 1;
		left = end - nm_time_ms();
		if (left <= 0)
			return 0;
		if (pfd >= 0) {
			struct pollfd p = { .fd = pfd, .events = POLLIN };

			(void)poll(&p, 1, (int)left);
		} else {
			nm_time_sleep_ms(left < 10 ? (int)left : 10);
		}
	}
}

static int run_one(int dfd, int hfd, const char *dir, const char *name, const char *json,
		   char *const *envp, int timeout_ms, const struct hook_log *l,
		   struct nm_hook_result *res)
{
	char path[4096], buf[4096];
	struct outbuf o = { .l = l, .name = name };
	size_t jlen = json ? strlen(json) : 0, sent = 0;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, pfd = -1, code = -1, sig = 0, exited = 0;
	int64_t deadline = nm_time_ms() + timeout_ms;
	pid_t pid;

	res->status = -1;
	res->timed_out = 0;
	/* Its path as argv[0] (a script's $0 is /dev/fd/3/NAME). */
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		say(l, "%s: not run: %s", name, strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		say(l, "%s: not run: cannot fork: %s", name, strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(dfd, hfd, name, path, in[0], out[1], envp);
	setpgid(pid, pid); /* as the child does: whichever runs first */
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	if (jlen == 0) {
		close(in[1]);
		in[1] = -1;
	}
	pfd = pidfd_of(pid);
	while (!exited) {
		struct pollfd p[3];
		int np = 0, ip = -1, op = -1, cp = -1;
		int64_t left = deadline - nm_time_ms();

		if (left <= 0)
			break;
		if (out[0] >= 0)
			op = np, p[np++] = (struct pollfd){ .fd = out[0], .events = POLLIN };
		if (in[1] >= 0)
			ip = np, p[np++] = (struct pollfd){ .fd = in[1], .events = POLLOUT };
		if (pfd >= 0)
			cp = np, p[np++] = (struct pollfd){ .fd = pfd, .events = POLLIN };
		/* With no pidfd (an old kernel), look at the child every 50 ms. */
		if (poll(p, (nfds_t)np, pfd >= 0 ? (int)left : (left > 50 ? 50 : (int)left)) < 0 &&
		    errno != EINTR)
			break;
		if (ip >= 0 && p[ip].revents) {
			ssize_t w = write_nosig(in[1], json + sent, jlen - sent);

			if (w > 0)
				sent += (size_t)w;
			/* All sent, or the hook closed its stdin: it is done
			 * with it (EPIPE is no failure of ours). */
			if (sent == jlen || (w < 0 && errno != EAGAIN && errno != EINTR)) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (op >= 0 && p[op].revents) {
			ssize_t n = read(out[0], buf, sizeof(buf));

			if (n > 0)
				out_add(&o, buf, (size_t)n);
			else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(out[0]);
				out[0] = -1;
			}
		}
		if ((cp >= 0 && p[cp].revents) || pfd < 0)
			exited = ended(pid, pfd, &code, &sig);
	}
	if (!exited) {
		res->timed_out = 1;
		kill(-pid, SIGTERM);
		exited = ended_within(pid, pfd, NM_HOOK_KILL_WAIT_MS, &code, &sig);
		if (!exited) {
			kill(-pid, SIGKILL);
			/* Bounded: one stuck in the kernel (a hung NFS mount)
			 * does not stop the caller; it is left behind. */
			exited = ended_within(pid, pfd, NM_HOOK_KILL_WAIT_MS, &code, &sig);
		}
	}
	if (exited) {
		/* What is left of its group (children in the background, one
		 * that ignores SIGTERM) goes with it: the group's id is its
		 * own while it is an unreaped zombie, and no new process gets
		 * it while any of the group lives. */
		kill(-pid, SIGKILL);
		if (code != -1 || sig != 0)
			(void)waitpid(pid, NULL, WNOHANG);
	}
	/* What it wrote before it ended (a child of its own that keeps the
	 * pipe open is not waited for). */
	for (ssize_t n; out[0] >= 0 && (n = read(out[0], buf, sizeof(buf))) > 0;)
		out_add(&o, buf, (size_t)n);
	out_flush(&o);
	res->status = exited ? code : -1;
	if (!exited)
		say(l,
		    "%s: still running after SIGKILL (stuck in the kernel?): left behind, pid %d",
		    name, (int)pid);
	else if (res->timed_out)
		say(l, "%s: killed: still running after its time limit of %d ms", name, timeout_ms);
	else if (code == -1)
		say(l, "%s: ended, its exit status unknown (taken by another: SIGCHLD ignored?)",
		    name);
	else if (sig)
		say(l, "%s: killed by signal %d", name, sig);
	else if (code == 127)
		say(l, "%s: exit status 127 (could not be run?)", name);
	else if (code == 126)
		say(l, "%s: exit status 126 (replaced since it was checked?)", name);
	else if (code != 0)
		say(l, "%s: exit status %d", name, code);
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	if (pfd >= 0)
		close(pfd);
	return 0;
}

/* --- the directory ------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the hooks, sorted; *n of them, NULL when none. */
static int list_hooks(int dfd, const char *dir, char ***names, size_t *n, struct nm_err *err)
{
	int fd = dup(dfd);
	DIR *d;
	struct dirent *e;
	char **v = NULL;
	size_t cnt = 0, cap = 0;

	*names = NULL;
	*n = 0;
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return nm_err_set(err, -errno, "%s: %s", dir, strerror(errno));
	}
	while ((e = readdir(d))) {
		if (!nm_hook_name_ok(e->d_name))
			continue;
		if (cnt == cap) {
			char **nv = realloc(v, (cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv)
				goto nomem;
			v = nv;
			cap = cap ? cap * 2 : 16;
		}
		if (!(v[cnt] = strdup(e->d_name)))
			goto nomem;
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), by_name);
	*names = v;
	*n = cnt;
	return 0;
nomem:
	closedir(d);
	for (size_t i = 0; i < cnt; i++)
		free(v[i]);
	free(v);
	return nm_err_set(err, -ENOMEM, "out of memory");
}

/* The environment of the hooks: PATH, and each NFSMIG_* variable, its value
 * escaped when it is not one line of printable text. */
static char **make_env(const char *const *env, int escaped, const struct hook_log *l)
{
	size_t n = 0, k = 0;
	char **v;

	while (env && env[n] && n < HOOK_ENV_MAX)
		n++;
	v = calloc(n + 2, sizeof(*v));
	if (!v || !(v[k++] = strdup(HOOK_PATH)))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		size_t nl;
		char *val;

		if (!env_name_ok(env[i], &nl)) {
			say(l, "hooks: variable not passed: %s", env[i]);
			continue;
		}
		/* escaped: by the caller, by the value's length (a NUL in it
		 * too, as \x00). */
		val = escaped ? strdup(env[i] + nl + 1)
			      : nm_esc(env[i] + nl + 1, strlen(env[i] + nl + 1), NM_ESC_BACKSLASH);
		if (!val)
			goto fail;
		v[k] = malloc(nl + 1 + strlen(val) + 1);
		if (!v[k]) {
			free(val);
			goto fail;
		}
		sprintf(v[k], "%.*s=%s", (int)nl, env[i], val);
		free(val);
		k++;
	}
	return v;
fail:
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
	return NULL;
}

/* May this file run?  A regular file (never a symbolic link: what is
 * checked is what runs, the name compared with the fd returned just before
 * the exec), executable, and as root owned by root and writable by nobody
 * else.  The fd (O_PATH) when it runs, else -1 (silently: not executable,
 * not a file, as run-parts) or -2 (said why). */
static int runnable(int dfd, const char *name, const struct hook_log *l)
{
	struct stat st;
	int fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		say(l, "%s: not run: %s", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -2;
	}
	if (S_ISLNK(st.st_mode)) {
		say(l, "%s: not run: a symbolic link", name);
		close(fd);
		return -2;
	}
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111) ||
	    faccessat(dfd, name, X_OK, AT_EACCESS | AT_SYMLINK_NOFOLLOW) < 0) {
		close(fd);
		return -1;
	}
	if (geteuid() == 0 && (st.st_uid != 0 || (st.st_mode & 022))) {
		say(l, "%s: not run: %s", name,
		    st.st_uid != 0 ? "not owned by root" : "writable by group or others");
		close(fd);
		return -2;
	}
	return fd;
}

static int run_all(const char *hooks_dir, const char *json, const char *const *env, int env_escaped,
		   int timeout_ms, void (*log)(const char *line, void *arg), void *arg,
		   struct nm_hook_result *res, size_t max, unsigned *not_run, struct nm_err *err)
{
	const struct hook_log l = { .log = log, .arg = arg };
	const char *dir = hooks_dir ? hooks_dir : NM_HOOK_DIR;
	char **names = NULL, **envp = NULL, *adir = NULL;
	size_t n = 0;
	struct stat st;
	int dfd, rc, ran = 0;

	if (timeout_ms <= 0)
		timeout_ms = NM_HOOK_TIMEOUT_MS;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT)
			return 0;
		return nm_err_set(err, -errno, "%s: %s", dir, strerror(errno));
	}
	if (fstat(dfd, &st) < 0) {
		rc = nm_err_set(err, -errno, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if (geteuid() == 0 && (st.st_uid != 0 || (st.st_mode & 022))) {
		rc = nm_err_set(err, -EPERM, "%s: no hook run: the directory is %s", dir,
				st.st_uid != 0 ? "not owned by root"
					       : "writable by group or others");
		goto out;
	}
	/* argv[0] absolute, as the hook sees it from "/" (a relative
	 * hooks_dir is run from dfd all the same). */
	if (dir[0] != '/')
		adir = realpath(dir, NULL);
	rc = list_hooks(dfd, dir, &names, &n, err);
	if (rc < 0)
		goto out;
	envp = make_env(env, env_escaped, &l);
	if (!envp) {
		rc = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct nm_hook_result r = { 0 };

		int hfd = runnable(dfd, names[i], &l);

		if (hfd == -2 && not_run)
			(*not_run)++; /* refused: said why */
		if (hfd < 0)
			continue;
		if (ran == NM_HOOK_MAX) {
			say(&l, "hooks: at most %d run for an event: %s and after not run",
			    NM_HOOK_MAX, names[i]);
			close(hfd);
			/* Each one left that would have run is not run. */
			for (size_t k = i; not_run && k < n; k++) {
				const struct hook_log quiet = { 0 };
				int fd = runnable(dfd, names[k], &quiet);

				if (fd >= 0 || fd == -2)
					(*not_run)++;
				if (fd >= 0)
					close(fd);
			}
			break;
		}
		snprintf(r.name, sizeof(r.name), "%s", names[i]);
		run_one(dfd, hfd, adir ? adir : dir, names[i], json, envp, timeout_ms, &l, &r);
		close(hfd);
		if (res && (size_t)ran < max)
			res[ran] = r;
		ran++;
	}
	rc = ran;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	for (size_t i = 0; envp && envp[i]; i++)
		free(envp[i]);
	free(envp);
	free(adir);
	close(dfd);
	return rc;
}

int nm_hook_run_all_res(const char *hooks_dir, const char *json, const char *const *env,
			int timeout_ms, void (*log)(const char *line, void *arg), void *arg,
			struct nm_hook_result *res, size_t max, unsigned *not_run,
			struct nm_err *err)
{
	if (not_run)
		*not_run = 0;
	return run_all(hooks_dir, json, env, 0, timeout_ms, log, arg, res, max, not_run, err);
}

int nm_hook_run_all(const char *hooks_dir, const char *json, const char *const *env, int timeout_ms,
		    void (*log)(const char *line, void *arg), void *arg, struct nm_err *err)
{
	return nm_hook_run_all_res(hooks_dir, json, env, timeout_ms, log, arg, NULL, 0, NULL, err);
}

/* --- one event ------------------------------------------------------------ */

/* "NFSMIG_NAME=" and the value of a string or number, escaped by its
 * length (nm_esc: a "\u0000" in it does not cut it); NULL when absent. */
static char *env_of(const char *name, struct json_object *v)
{
	const char *val;
	char *e, *esc;
	size_t len;

	if (!v ||
	    (!json_object_is_type(v, json_type_string) && !json_object_is_type(v, json_type_int) &&
	     !json_object_is_type(v, json_type_double) &&
	     !json_object_is_type(v, json_type_boolean)))
		return NULL;
	val = json_object_get_string(v);
	len = json_object_is_type(v, json_type_string) ? (size_t)json_object_get_string_len(v)
						       : (val ? strlen(val) : 0);
	esc = nm_esc(val ? val : "", len, NM_ESC_BACKSLASH);
	if (!esc)
		return NULL;
	if (asprintf(&e, "NFSMIG_%s=%s", name, esc) < 0)
		e = NULL;
	free(esc);
	return e;
}

int nm_hook_run_event(const char *hooks_dir, struct json_object *ev, int timeout_ms,
		      void (*log)(const char *line, void *arg), void *arg, struct nm_err *err)
{
	static const struct {
		const char *key, *env;
	} keys[] = {
		{ "event", "EVENT" },	  { "time", "TIME" },
		{ "trigger", "TRIGGER" }, { "mountpoint", "MOUNTPOINT" },
		{ "source", "SOURCE" },	  { "from", "FROM" },
		{ "to", "TO" },		  { "message", "MESSAGE" },
	};
	struct nm_hook_result res[NM_HOOK_MAX];
	char *env[sizeof(keys) / sizeof(keys[0]) + 2] = { NULL };
	struct json_object *v, *arr = NULL;
	char *line = NULL;
	size_t len, n = 0;
	int rc;

	rc = nm_event_line(ev, &line, &len, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (json_object_object_get_ex(ev, keys[i].key, &v) &&
		    (env[n] = env_of(keys[i].env, v)))
			n++;
	}
	if (json_object_object_get_ex(ev, "verify", &v) &&
	    json_object_object_get_ex(v, "verdict", &v) && (env[n] = env_of("VERIFY", v)))
		n++;
	rc = run_all(hooks_dir, line, (const char *const *)env, 1, timeout_ms, log, arg, res,
		     NM_HOOK_MAX, NULL, err);
	if (rc > 0) {
		arr = json_object_new_array();
		for (int i = 0; arr && i < rc && i < NM_HOOK_MAX; i++) {
			struct json_object *h = json_object_new_object();

			if (!h)
				break;
			json_object_object_add(h, "hook", json_object_new_string(res[i].name));
			json_object_object_add(h, "status", json_object_new_int(res[i].status));
			if (res[i].timed_out)
				json_object_object_add(h, "timed_out", json_object_new_boolean(1));
			json_object_array_add(arr, h);
		}
		if (arr)
			json_object_object_add(ev, "hooks", arr);
	}
	for (size_t i = 0; i < n; i++)
		free(env[i]);
	free(line);
	return rc;
}
