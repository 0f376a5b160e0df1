/* nm_hook: which files of hooks.d run, in which order, with what, for how
 * long; what they say, escaped. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json.h>

#include "nm_hook.h"
#include "nm_time.h"
#include "unit.h"

static char top[] = "/tmp/nm-test-hook.XXXXXX";

struct logged {
	char text[300000];
	int lines;
};

static void keep(const char *line, void *arg)
{
	struct logged *l = arg;
	size_t n = strlen(l->text);

	l->lines++;
	if (n + strlen(line) + 2 < sizeof(l->text)) {
		strcat(l->text, line);
		strcat(l->text, "\n");
	}
}

static const char *in_top(const char *name)
{
	static char path[64][512];
	static unsigned i;
	char *p = path[i++ % 64];

	snprintf(p, sizeof(path[0]), "%s/%s", top, name);
	return p;
}

/* A hook: a shell script (hooks may be scripts; nfsmig runs none through a
 * shell of its own). */
static void hook(const char *dir, const char *name, mode_t mode, const char *body)
{
	char path[1024];
	FILE *f;

	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, mode);
}

static int run(const char *dir, const char *json, const char *const *env, int timeout_ms,
	       struct logged *l, struct nm_hook_result *res, size_t max, struct nm_err *err)
{
	memset(l, 0, sizeof(*l));
	return nm_hook_run_all_res(dir, json, env, timeout_ms, keep, l, res, max, NULL, err);
}

static void test_names(struct unit *u)
{
	static const struct {
		const char *name;
		int ok;
	} cases[] = {
		{ "10-mail", 1 },
		{ "a_b-C9", 1 },
		{ "x.bak", 0 },
		{ "x~", 0 },
		{ ".hidden", 0 },
		{ "x.dpkg-old", 0 },
		{ "x.dpkg-dist", 0 },
		{ "x.ucf-new", 0 },
		{ "a b", 0 },
		{ "$(touch x)", 0 },
		{ "", 0 },
		{ "x;y", 0 },
		{ "\xc3\xa9t\xc3\xa9", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		UNIT_CHECK(u, nm_hook_name_ok(cases[i].name) == cases[i].ok, "name: '%s' %s",
			   cases[i].name, cases[i].ok ? "runs" : "skipped");
	UNIT_CHECK(u, nm_hook_env_ok("NFSMIG_EVENT=migration"), "env: NFSMIG_EVENT ok");
	UNIT_CHECK(u, !nm_hook_env_ok("NFSMIG_X=a\nb"), "env: a newline in a value is not");
	UNIT_CHECK(u, !nm_hook_env_ok("LD_PRELOAD=x"), "env: only NFSMIG_ names");
	UNIT_CHECK(u, !nm_hook_env_ok("NFSMIG_=x") && !nm_hook_env_ok("NFSMIG_a=x"),
		   "env: NFSMIG_ and an upper-case name");
}

static void test_order_and_skips(struct unit *u)
{
	const char *dir = in_top("order");
	const char *marks = in_top("marks");
	struct nm_hook_result res[16];
	struct nm_err err = { 0 };
	struct logged *l;
	char body[600];
	int rc;

	/* A group-writable hook is refused only as root. */
	if (geteuid() != 0) {
		printf("ok %d - # SKIP order: not root\n", ++u->n);
		return;
	}
	l = malloc(sizeof(*l));
	mkdir(marks, 0700);
	snprintf(body, sizeof(body), "echo \"$0\"; touch %s/\"${0##*/}\"", marks);
	hook(dir, "20-second", 0755, body);
	hook(dir, "10-first", 0755, body);
	hook(dir, "30-third", 0700, body);
	hook(dir, "15-noexec", 0644, body);
	hook(dir, "x.bak", 0755, body);
	hook(dir, "x~", 0755, body);
	hook(dir, ".hidden", 0755, body);
	hook(dir, "x.dpkg-old", 0755, body);
	hook(dir, "$(touch pwned)", 0755, body);
	mkdir(in_top("order/40-a-directory"), 0755);
	hook(dir, "25-groupwritable", 0775, body);
	rc = run(dir, "{}", NULL, 5000, l, res, 16, &err);
	UNIT_CHECK(u, rc == 3, "order: three hooks ran (%d: %s)", rc, err.msg);
	UNIT_CHECK(u,
		   rc == 3 && strcmp(res[0].name, "10-first") == 0 &&
			   strcmp(res[1].name, "20-second") == 0 &&
			   strcmp(res[2].name, "30-third") == 0 && res[0].status == 0,
		   "order: in name order, each with its status");
	{
		const char *a = strstr(l->text, "10-first: "), *b = strstr(l->text, "20-second: "),
			   *c = strstr(l->text, "30-third: ");

		UNIT_CHECK(u, a && b && c && a < b && b < c, "order: their output logged in order");
	}
	UNIT_CHECK(u,
		   access(in_top("marks/x.bak"), F_OK) != 0 &&
			   access(in_top("marks/x~"), F_OK) != 0 &&
			   access(in_top("marks/.hidden"), F_OK) != 0 &&
			   access(in_top("marks/x.dpkg-old"), F_OK) != 0 &&
			   access(in_top("marks/15-noexec"), F_OK) != 0,
		   "order: backups, dotfiles, dpkg leftovers, non-executables not run");
	UNIT_CHECK(u,
		   access("/pwned", F_OK) != 0 && access(in_top("order/pwned"), F_OK) != 0 &&
			   access(in_top("marks/$(touch pwned)"), F_OK) != 0,
		   "order: a name with $(...) is neither run nor expanded");
	UNIT_CHECK(u,
		   access(in_top("marks/25-groupwritable"), F_OK) != 0 &&
			   strstr(l->text, "25-groupwritable: not run: writable by group"),
		   "order: a group-writable hook is not run, and the log says why");
	{
		unsigned not_run = 99;

		memset(l, 0, sizeof(*l));
		rc = nm_hook_run_all_res(dir, "{}", NULL, 5000, keep, l, res, 16, &not_run, &err);
		UNIT_CHECK(u, rc == 3 && not_run == (geteuid() == 0 ? 1u : 0u),
			   "order: the refused hook counted as not run (%d, %u)", rc, not_run);
	}
	free(l);
}

static void test_unsafe_dir(struct unit *u)
{
	const char *dir = in_top("unsafe");
	struct nm_err err = { 0 };
	struct logged *l = malloc(sizeof(*l));
	int rc;

	if (geteuid() != 0) {
		printf("ok %d - # SKIP unsafe: not root\n", ++u->n);
		free(l);
		return;
	}
	hook(dir, "10-x", 0755, "exit 0");
	chmod(dir, 0777);
	rc = run(dir, "{}", NULL, 1000, l, NULL, 0, &err);
	UNIT_CHECK(u, rc == -EPERM && strstr(err.msg, "writable by group or others"),
		   "unsafe: a world-writable hooks.d runs nothing (%d: %s)", rc, err.msg);
	chmod(dir, 0755);
	if (chown(in_top("unsafe/10-x"), 1000, 1000) == 0) {
		rc = run(dir, "{}", NULL, 1000, l, NULL, 0, &err);
		UNIT_CHECK(u, rc == 0 && strstr(l->text, "10-x: not run: not owned by root"),
			   "unsafe: a hook not owned by root is not run (%d)", rc);
	}
	rc = run(in_top("no-such-dir"), "{}", NULL, 1000, l, NULL, 0, &err);
	UNIT_CHECK(u, rc == 0, "unsafe: no hooks.d, no hook, no error");
	free(l);
}

static void test_stdin_env_output(struct unit *u)
{
	const char *dir = in_top("io");
	const char *env[] = { "NFSMIG_EVENT=migration", "NFSMIG_MOUNTPOINT=/mnt/a b",
			      "NFSMIG_MESSAGE=line1\nline2\x1b[2J", "LD_PRELOAD=/tmp/evil.so",
			      NULL };
	struct nm_hook_result res[4];
	struct nm_err err = { 0 };
	struct logged *l = malloc(sizeof(*l));
	int rc;

	setenv("NM_TEST_SECRET", "leak", 1);
	hook(dir, "10-cat", 0755, "cat; echo");
	hook(dir, "20-env", 0755, "env | sort");
	hook(dir, "30-hostile", 0755,
	     "printf 'red \\033[31m c1 \\302\\233 bidi \\342\\200\\256 nul \\000 end\\n'; "
	     "printf 'to stderr\\n' >&2; exit 3");
	rc = run(dir, "{\"event\":\"migration\"}", env, 5000, l, res, 4, &err);
	UNIT_CHECK(u, rc == 3, "io: three hooks (%d)", rc);
	UNIT_CHECK(u, strstr(l->text, "10-cat: {\"event\":\"migration\"}\n"),
		   "io: the event's JSON on stdin");
	UNIT_CHECK(u,
		   strstr(l->text, "20-env: NFSMIG_EVENT=migration\n") &&
			   strstr(l->text, "20-env: NFSMIG_MOUNTPOINT=/mnt/a b\n") &&
			   strstr(l->text, "20-env: PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"),
		   "io: NFSMIG_* and PATH passed");
	/* The hook got the escaped text; its output is escaped in turn. */
	UNIT_CHECK(u, strstr(l->text, "20-env: NFSMIG_MESSAGE=line1\\x5cx0aline2\\x5cx1b[2J\n"),
		   "io: a value with a newline and ESC passed escaped");
	UNIT_CHECK(u,
		   !strstr(l->text, "NM_TEST_SECRET") && !strstr(l->text, "20-env: LD_PRELOAD") &&
			   strstr(l->text, "variable not passed: LD_PRELOAD"),
		   "io: nothing else of our environment; a bad name refused and said");
	UNIT_CHECK(u,
		   strstr(l->text, "30-hostile: red \\x1b[31m c1 \\xc2\\x9b bidi \\xe2\\x80\\xae "
				   "nul \\x00 end\n"),
		   "io: output escaped (ESC, C1, bidi, NUL)");
	UNIT_CHECK(u, strstr(l->text, "30-hostile: to stderr\n"), "io: stderr captured");
	UNIT_CHECK(u, res[2].status == 3 && strstr(l->text, "30-hostile: exit status 3"),
		   "io: exit status reported");
	{
		int raw = 0;

		for (const char *p = l->text; *p; p++)
			raw += (*p > 0 && *p < 0x20 && *p != '\n') || (unsigned char)*p >= 0x80;
		UNIT_CHECK(u, raw == 0, "io: no raw control or non-ASCII byte logged (%d)", raw);
	}
	free(l);
}

static void test_limits(struct unit *u)
{
	const char *dir = in_top("limits");
	struct nm_hook_result res[4];
	struct nm_err err = { 0 };
	struct logged *l = malloc(sizeof(*l));
	size_t big_len = 1 << 20;
	char *big = malloc(big_len + 1);
	int64_t t0;
	int rc;

	memset(big, ' ', big_len);
	big[0] = '{';
	big[big_len - 1] = '}';
	big[big_len] = '\0';
	hook(dir, "10-ignores-stdin", 0755, "exit 0");
	hook(dir, "20-reads-later", 0755, "sleep 0.2; exec cat >/dev/null");
	t0 = nm_time_ms();
	rc = run(dir, big, NULL, 3000, l, res, 4, &err);
	UNIT_CHECK(u,
		   rc == 2 && res[0].status == 0 && !res[0].timed_out && res[1].status == 0 &&
			   !res[1].timed_out && nm_time_ms() - t0 < 2500,
		   "limits: a hook that does not read stdin blocks nothing (%lld ms)",
		   (long long)(nm_time_ms() - t0));

	dir = in_top("slow");
	char body[600];

	/* Its child ignores SIGTERM: the group's SIGKILL ends it. */
	snprintf(body, sizeof(body),
		 "echo started; (trap '' TERM; exec sleep 30) & echo $! >%s; wait", in_top("pid"));
	hook(dir, "10-sleeps", 0755, body);
	hook(dir, "20-ignores-term", 0755, "trap '' TERM; echo started; sleep 30 & wait; sleep 30");
	hook(dir, "30-next", 0755, "echo next ran");
	t0 = nm_time_ms();
	/* More JSON than a pipe holds, to hooks that never read it. */
	rc = run(dir, big, NULL, 300, l, res, 4, &err);
	UNIT_CHECK(u, rc == 3 && res[0].timed_out && res[0].status == 128 + SIGTERM,
		   "limits: past its time limit: killed by SIGTERM, reported (%d)", res[0].status);
	UNIT_CHECK(u, res[1].timed_out && res[1].status == 128 + SIGKILL,
		   "limits: one ignoring SIGTERM: SIGKILL (%d)", res[1].status);
	UNIT_CHECK(u, res[2].status == 0 && strstr(l->text, "30-next: next ran"),
		   "limits: the next hook still runs");
	UNIT_CHECK(u,
		   nm_time_ms() - t0 < 4000 && strstr(l->text, "10-sleeps: killed: still running"),
		   "limits: within the limits, said in the log (%lld ms)",
		   (long long)(nm_time_ms() - t0));
	/* The process group went with it, even a child ignoring SIGTERM. */
	{
		FILE *f = fopen(in_top("pid"), "re");
		int pid = 0, gone = 0;

		if (f && fscanf(f, "%d", &pid) == 1 && pid > 0) {
			for (int i = 0; i < 100 && !gone; i++) {
				gone = kill(pid, 0) < 0 && errno == ESRCH;
				nm_time_sleep_ms(10);
			}
		}
		if (f)
			fclose(f);
		UNIT_CHECK(u, gone, "limits: the hook's children are killed with it (%d)", pid);
	}

	dir = in_top("chatty");
	hook(dir, "10-chatty", 0755, "yes 0123456789abcdef | head -c 400000; echo; echo done");
	t0 = nm_time_ms();
	rc = run(dir, "{}", NULL, 5000, l, res, 4, &err);
	UNIT_CHECK(u,
		   rc == 1 && res[0].status == 0 && l->lines <= NM_HOOK_OUTPUT_MAX / 17 + 3 &&
			   strstr(l->text, "output past 65536 bytes not logged"),
		   "limits: output bounded, the hook not blocked (%d lines logged)", l->lines);
	free(big);
	free(l);
}

/* An event's hooks: its JSON and NFSMIG_* variables; the results in it. */
static void test_event(struct unit *u)
{
	const char *dir = in_top("event");
	struct nm_err err = { 0 };
	struct logged *l = malloc(sizeof(*l));
	struct json_object *ev, *hooks, *h, *v;
	int rc;

	hook(dir, "10-show", 0755, "env | grep ^NFSMIG_ | sort; cat");
	hook(dir, "20-fails", 0755, "exit 4");
	ev = json_tokener_parse(
		"{\"time\":1795600800.250,\"event\":\"migration\","
		"\"trigger\":\"tracepoint:nfs4_state_mgr\",\"mountpoint\":\"/mnt/a\","
		"\"from\":\"192.0.2.1\",\"to\":\"198.51.100.2\","
		"\"message\":\"moved \\u001b[2J\",\"verify\":{\"verdict\":\"OK\"},"
		"\"source\":\"srv:/x\\u0000hidden\"}");
	memset(l, 0, sizeof(*l));
	rc = nm_hook_run_event(dir, ev, 5000, keep, l, &err);
	UNIT_CHECK(u, rc == 2, "event: two hooks (%d: %s)", rc, err.msg);
	UNIT_CHECK(u,
		   strstr(l->text, "10-show: NFSMIG_EVENT=migration\n") &&
			   strstr(l->text, "10-show: NFSMIG_FROM=192.0.2.1\n") &&
			   strstr(l->text, "10-show: NFSMIG_TO=198.51.100.2\n") &&
			   strstr(l->text, "10-show: NFSMIG_MOUNTPOINT=/mnt/a\n") &&
			   strstr(l->text, "10-show: NFSMIG_TIME=1795600800.250\n") &&
			   strstr(l->text, "10-show: NFSMIG_TRIGGER=tracepoint:nfs4_state_mgr\n") &&
			   strstr(l->text, "10-show: NFSMIG_VERIFY=OK\n") &&
			   strstr(l->text, "10-show: NFSMIG_MESSAGE=moved \\x5cx1b[2J\n") &&
			   strstr(l->text, "10-show: NFSMIG_SOURCE=srv:/x\\x5cx00hidden\n"),
		   "event: the NFSMIG_* variables, ESC escaped, a NUL not cutting the value");
	UNIT_CHECK(u, strstr(l->text, "10-show: {\"time\":1795600800.250,\"event\":\"migration\""),
		   "event: its JSON on stdin");
	UNIT_CHECK(u,
		   json_object_object_get_ex(ev, "hooks", &hooks) &&
			   json_object_array_length(hooks) == 2 &&
			   (h = json_object_array_get_idx(hooks, 1)) &&
			   json_object_object_get_ex(h, "hook", &v) &&
			   strcmp(json_object_get_string(v), "20-fails") == 0 &&
			   json_object_object_get_ex(h, "status", &v) &&
			   json_object_get_int(v) == 4,
		   "event: \"hooks\" added with each status: %s", json_object_to_json_string(ev));
	json_object_put(ev);
	free(l);
}

/* Is pid gone (or a zombie, no longer running)? */
static int pid_gone(int pid)
{
	char path[64], st[512];
	FILE *f;
	int zombie = 0;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 1;
	if (fgets(st, sizeof(st), f)) {
		const char *p = strrchr(st, ')');

		zombie = p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
	}
	fclose(f);
	return zombie;
}

static int read_pid(const char *file)
{
	FILE *f = fopen(file, "re");
	int pid = 0;

	if (f && fscanf(f, "%d", &pid) != 1)
		pid = 0;
	if (f)
		fclose(f);
	return pid;
}

/* No child of ours left, not even a zombie. */
static int no_children(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD;
}

/* A caller that ignores SIGCHLD (its children reaped by the kernel): the
 * hook's end is seen at once, its status unknown, nothing spins. */
static void test_sigchld_ignored(struct unit *u)
{
	const char *dir = in_top("sigchld");
	struct nm_hook_result res[2];
	struct nm_err err = { 0 };
	struct logged *l = malloc(sizeof(*l));
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	struct timespec c0, c1;
	int64_t t0, ms;
	double cpu;
	int rc;

	hook(dir, "10-exits", 0755, "exit 3");
	sigaction(SIGCHLD, &ign, &old);
	t0 = nm_time_ms();
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	rc = run(dir, "{}", NULL, 3000, l, res, 2, &err);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	ms = nm_time_ms() - t0;
	sigaction(SIGCHLD, &old, NULL);
	cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	UNIT_CHECK(u, rc == 1 && !res[0].timed_out && res[0].status == -1 && ms < 2000,
		   "sigchld ignored: the end seen, not a timeout (%d, status %d, %s, %lld ms)", rc,
		   res[0].status, res[0].timed_out ? "timed out" : "in time", (long long)ms);
	UNIT_CHECK(u, strstr(l->text, "10-exits: ended, its exit status unknown"),
		   "sigchld ignored: the unknown status said");
	UNIT_CHECK(u, cpu < 0.5, "sigchld ignored: no busy loop (%.2f s of CPU)", cpu);
	free(l);
}

/* A hook's children in the background go when it ends; nothing is left,
 * not even a zombie of ours. */
static void test_background(struct unit *u)
{
	const char *dir = in_top("bg");
	struct nm_hook_result res[2];
	struct nm_err err = { 0 };
	struct logged *l = malloc(sizeof(*l));
	char body[600];
	int rc, pid, gone = 0;

	snprintf(body, sizeof(body), "sleep 5 >/dev/null 2>&1 & echo $! >%s; exit 0",
		 in_top("bgpid"));
	hook(dir, "10-daemonizes", 0755, body);
	rc = run(dir, "{}", NULL, 3000, l, res, 2, &err);
	pid = read_pid(in_top("bgpid"));
	for (int i = 0; i < 100 && pid > 0 && !gone; i++) {
		gone = pid_gone(pid);
		if (!gone)
			nm_time_sleep_ms(10);
	}
	UNIT_CHECK(u, rc == 1 && res[0].status == 0 && !res[0].timed_out,
		   "background: the hook itself ended well (%d)", res[0].status);
	UNIT_CHECK(u, pid > 0 && gone, "background: its `sleep 5 &` is gone with it (%d)", pid);
	if (pid > 0 && !gone)
		kill(pid, SIGKILL);
	UNIT_CHECK(u, no_children(), "background: no child or zombie of ours left");
	free(l);
}

/* The hooks' fds, each "N -> TARGET" as ls shows them, into l. */
static int list_fds(struct unit *u, const char *dir, struct logged *l, const char *what)
{
	struct nm_hook_result res[2];
	struct nm_err err = { 0 };
	const char *p;
	int rc, bad = 0;

	rc = run(dir, "{}", NULL, 5000, l, res, 2, &err);
	/* 0, 1, 2; 3: the hook's own file (its interpreter reads it); and
	 * the directory ls opened to list them. */
	for (p = l->text; (p = strstr(p, " -> ")); p += 4) {
		const char *s = p;
		const char *eol = strchr(p, '\n');
		int fd;

		while (s > l->text && s[-1] >= '0' && s[-1] <= '9')
			s--;
		fd = atoi(s);
		if (fd <= 2 || (fd == 3 && strncmp(p + 4, dir, strlen(dir)) == 0) ||
		    (eol && memmem(p, (size_t)(eol - p), "/proc/", 6)))
			continue;
		bad++;
	}
	UNIT_CHECK(u, rc == 1 && res[0].status == 0 && !strstr(l->text, "nm-leak-marker") && !bad,
		   "fds%s: none of ours reaches a hook (%d unexpected)", what, bad);
	if (bad || strstr(l->text, "nm-leak-marker"))
		for (const char *q = l->text; *q;) {
			const char *e = strchr(q, '\n');
			int n = e ? (int)(e - q) : (int)strlen(q);

			printf("#   %.*s\n", n, q);
			q += n + (e != NULL);
		}
	return bad;
}

static void test_fds(struct unit *u)
{
	const char *dir = in_top("fds");
	struct logged *l = malloc(sizeof(*l));
	int leak = open(in_top("nm-leak-marker"), O_RDWR | O_CREAT, 0600); /* no O_CLOEXEC */
	pid_t pid;
	int status = 0;

	hook(dir, "10-ls", 0755, "ls -l /proc/self/fd/ | sed -n 's/.* \\([0-9]* -> \\)/\\1/p'");
	list_fds(u, dir, l, "");
	/* With close_range refused (an older kernel, a seccomp filter): the
	 * fallback closes them all the same. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close_range, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
		struct unit cu = { .n = u->n };

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
			_exit(2);
		if (syscall(SYS_close_range, 1000u, 1001u, 0u) == 0 || errno != ENOSYS)
			_exit(2);
		list_fds(&cu, dir, l, " (no close_range)");
		fflush(stdout);
		_exit(cu.failed ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	u->n++;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
		u->n--;
		printf("ok %d - # SKIP fds (no close_range): no seccomp filter\n", ++u->n);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		u->failed++;
	}
	close(leak);
	free(l);
}

/* What is checked is what runs: a symbolic link is not run (it could be
 * pointed elsewhere between the check and the exec); a relative hooks_dir
 * works. */
static void test_link_and_relative(struct unit *u)
{
	const char *dir = in_top("links");
	struct nm_hook_result res[4];
	struct nm_err err = { 0 };
	struct logged *l = malloc(sizeof(*l));
	char cwd[4096], body[600];
	int rc;

	snprintf(body, sizeof(body), "touch %s", in_top("link-ran"));
	hook(in_top("elsewhere"), "10-real", 0755, body);
	mkdir(dir, 0755);
	if (symlink(in_top("elsewhere/10-real"), in_top("links/10-link")) < 0)
		perror("symlink");
	hook(dir, "20-echo", 0755, "echo here; echo \"name ${0##*/}\"");
	rc = run(dir, "{}", NULL, 5000, l, res, 4, &err);
	UNIT_CHECK(u, rc == 1 && strstr(l->text, "20-echo: name 20-echo\n"),
		   "links: a script's $0 ends in its name");
	UNIT_CHECK(u,
		   rc == 1 && access(in_top("link-ran"), F_OK) != 0 &&
			   strstr(l->text, "10-link: not run: a symbolic link"),
		   "links: a symbolic link is not run, and said (%d)", rc);
	if (getcwd(cwd, sizeof(cwd)) && chdir(top) == 0) {
		rc = run("links", "{}", NULL, 5000, l, res, 4, &err);
		UNIT_CHECK(u,
			   rc == 1 && res[0].status == 0 && strstr(l->text, "20-echo: here\n") &&
				   strstr(l->text, "20-echo: name 20-echo\n"),
			   "links: a relative hooks_dir (%d, status %d)", rc, res[0].status);
		if (chdir(cwd) < 0)
			perror("chdir");
	}
	free(l);
}

int main(void)
{
	struct unit u = { 0 };
	char cmd[300];

	unit_start();
	if (!mkdtemp(top))
		return 1;
	chmod(top, 0755);
	test_names(&u);
	test_order_and_skips(&u);
	test_unsafe_dir(&u);
	test_stdin_env_output(&u);
	test_limits(&u);
	test_event(&u);
	test_sigchld_ignored(&u);
	test_background(&u);
	test_fds(&u);
	test_link_and_relative(&u);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	if (system(cmd) != 0)
		return 1;
	return unit_done(&u);
}
