#include "nm_hook.h"
#include "nm_esc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

static void child(const char *path, int in, int out, char *const *envp)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	char *argv[] = { (char *)path, NULL };

	setpgid(0, 0);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(127);
	/* What the caller ignored or blocked is not the hook's. */
	for (int s = 1; s < NSIG; s++)
		(void)sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Only stdin, stdout and stderr go to the hook. */
	(void)syscall(SYS_close_range, 3u, ~0u, 0u);
	if (chdir("/") < 0)
		_exit(127);
	execve(path, argv, envp);
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

/* Wait for the process group's leader up to ms (-1: for ever); 1 when it is
 * gone (*status set), 0 when it is still running. */
static int reap(pid_t pid, int *status, int ms)
{
	int64_t end = nm_time_ms() + ms;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			return 1;
		if (ms >= 0 && nm_time_ms() >= end)
			return 0;
		nm_time_sleep_ms(10);
	}
}

static int run_one(const char *dir, const char *name, const char *json, char *const *envp,
		   int timeout_ms, const struct hook_log *l, struct nm_hook_result *res)
{
	char path[4096], buf[4096];
	struct outbuf o = { .l = l, .name = name };
	size_t jlen = json ? strlen(json) : 0, sent = 0;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, pfd = -1, status = 0, exited = 0;
	int64_t deadline = nm_time_ms() + timeout_ms;
	pid_t pid;

	res->status = -1;
	res->timed_out = 0;
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
		child(path, in[0], out[1], envp);
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
		if (poll(p, (nfds_t)np,
			 pfd >= 0 && out[0] >= 0 ? (int)left : (left > 50 ? 50 : (int)left)) < 0 &&
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
		if ((cp >= 0 && p[cp].revents) || pfd < 0) {
			pid_t r = waitpid(pid, &status, WNOHANG);

			if (r == pid)
				exited = 1;
		}
	}
	if (!exited) {
		res->timed_out = 1;
		kill(-pid, SIGTERM);
		if (!reap(pid, &status, NM_HOOK_KILL_WAIT_MS)) {
			kill(-pid, SIGKILL);
			reap(pid, &status, -1);
		}
	}
	/* What it wrote before it ended (a child of its own that keeps the
	 * pipe open is not waited for). */
	for (ssize_t n; out[0] >= 0 && (n = read(out[0], buf, sizeof(buf))) > 0;)
		out_add(&o, buf, (size_t)n);
	out_flush(&o);
	if (WIFEXITED(status))
		res->status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		res->status = 128 + WTERMSIG(status);
	if (res->timed_out)
		say(l, "%s: killed: still running after its time limit of %d ms", name, timeout_ms);
	else if (WIFSIGNALED(status))
		say(l, "%s: killed by signal %d", name, WTERMSIG(status));
	else if (res->status == 127)
		say(l, "%s: exit status 127 (could not be run?)", name);
	else if (res->status != 0)
		say(l, "%s: exit status %d", name, res->status);
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
static char **make_env(const char *const *env, const struct hook_log *l)
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
		val = nm_esc(env[i] + nl + 1, strlen(env[i] + nl + 1), NM_ESC_BACKSLASH);
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

/* May this file run?  As root: a regular file, executable, owned by root and
 * writable by nobody else.  0 when it runs, else 1 (silently: not
 * executable, not a file, as run-parts) or -1 (said why). */
static int runnable(int dfd, const char *name, const struct hook_log *l)
{
	struct stat st;

	if (fstatat(dfd, name, &st, 0) < 0) {
		say(l, "%s: not run: %s", name, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || faccessat(dfd, name, X_OK, AT_EACCESS) < 0 ||
	    !(st.st_mode & 0111))
		return 1;
	if (geteuid() == 0 && (st.st_uid != 0 || (st.st_mode & 022))) {
		say(l, "%s: not run: %s", name,
		    st.st_uid != 0 ? "not owned by root" : "writable by group or others");
		return -1;
	}
	return 0;
}

int nm_hook_run_all_res(const char *hooks_dir, const char *json, const char *const *env,
			int timeout_ms, void (*log)(const char *line, void *arg), void *arg,
			struct nm_hook_result *res, size_t max, struct nm_err *err)
{
	const struct hook_log l = { .log = log, .arg = arg };
	const char *dir = hooks_dir ? hooks_dir : NM_HOOK_DIR;
	char **names = NULL, **envp = NULL;
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
	rc = list_hooks(dfd, dir, &names, &n, err);
	if (rc < 0)
		goto out;
	envp = make_env(env, &l);
	if (!envp) {
		rc = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct nm_hook_result r = { 0 };

		if (runnable(dfd, names[i], &l) != 0)
			continue;
		if (ran == NM_HOOK_MAX) {
			say(&l, "hooks: at most %d run for an event: %s and after not run",
			    NM_HOOK_MAX, names[i]);
			break;
		}
		snprintf(r.name, sizeof(r.name), "%s", names[i]);
		run_one(dir, names[i], json, envp, timeout_ms, &l, &r);
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
	close(dfd);
	return rc;
}

int nm_hook_run_all(const char *hooks_dir, const char *json, const char *const *env, int timeout_ms,
		    void (*log)(const char *line, void *arg), void *arg, struct nm_err *err)
{
	return nm_hook_run_all_res(hooks_dir, json, env, timeout_ms, log, arg, NULL, 0, err);
}
