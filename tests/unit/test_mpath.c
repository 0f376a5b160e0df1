/* Placing a path among the mounts without asking a server: the path as
 * text below NFS mounts, symbolic links followed only off NFS
 * (nm_mount_find_text over a table given as text, a fake file system for
 * the links), the directory listing with a deadline, and the "server not
 * answering" message. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nm_mount.h"
#include "nm_mpath.h"
#include "nm_rpc.h"
#include "nm_time.h"
#include "unit.h"

static const char table[] =
	"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
	"30 22 0:40 / /mnt/m rw - nfs4 server-a:/d rw,vers=4.1,addr=192.0.2.2\n"
	"31 22 0:41 /sub /mnt/bind rw - nfs4 server-a:/d rw,vers=4.2,addr=192.0.2.2\n"
	"32 30 0:42 / /mnt/m/local rw - tmpfs tmpfs rw\n"
	"33 22 0:43 / /mnt/v3 rw - nfs server-a:/d rw,vers=3,addr=192.0.2.2\n"
	"34 22 0:44 / /mnt/with\\040space rw - nfs4 server-a:/s rw,vers=4.0,addr=192.0.2.2\n"
	"35 22 0:45 / /srv/nfsroot rw - nfs4 server-b:/ rw,vers=4.2,addr=198.51.100.2\n"
	"36 22 0:46 / /mnt/auto rw - autofs systemd-1 rw,fd=44\n"
	"37 22 0:47 / /mnt/fuse rw - fuse.sshfs u@h:/ rw\n"
	"38 22 0:48 / /mnt/ov rw - overlay overlay rw,lowerdir=/mnt/m\n"
	"39 22 0:49 / /mnt/cifs rw - cifs //h/s rw\n"
	"40 22 0:50 / /home rw - xfs /dev/sda2 rw\n";

/* The fake file system: its symbolic links; "/nonexistent..." is missing;
 * anything else exists.  Every look at a path on NFS is counted: there
 * must be none. */
static const struct {
	const char *path, *target;
} links[] = {
	{ "/home/u/link-to-m", "/mnt/m/sub" },		 { "/home/u/rel", "../../mnt/m" },
	{ "/home/u/dangling", "/nonexistent/x" },	 { "/loop", "/loop" },
	{ "/mnt/m/inner-link", "/elsewhere" }, /* on NFS: never read */
	{ "/home/u/to-nfsroot", "/srv/nfsroot/a/../b" },
};

static int nfs_looks;

static int fake_link(const char *abs, char **target, void *arg)
{
	(void)arg;
	static const char *const nfs[] = { "/mnt/m",	   "/mnt/bind",	      "/mnt/v3",
					   "/srv/nfsroot", "/mnt/with space", "/mnt/auto",
					   "/mnt/fuse",	   "/mnt/ov",	      "/mnt/cifs" };

	for (size_t i = 0; i < sizeof(nfs) / sizeof(nfs[0]); i++)
		if (nm_mpath_covers(nfs[i], abs))
			nfs_looks++;
	if (strncmp(abs, "/nonexistent", 12) == 0)
		return -ENOENT;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (strcmp(abs, links[i].path) == 0) {
			*target = strdup(links[i].target);
			return *target ? 1 : -ENOMEM;
		}
	return 0;
}

static const struct nm_mpath_ops fake = { .link = fake_link };

static const struct {
	const char *path, *cwd;
	bool links;	    /* with the fake file system, else text only */
	int rc;		    /* 0 or the negative errno wanted */
	const char *target; /* the mount found */
	const char *spath;  /* the path on the server */
} cases[] = {
	{ "/mnt/m/sub", NULL, true, 0, "/mnt/m", "/d/sub" },
	{ "/mnt/m", NULL, true, 0, "/mnt/m", "/d" },
	{ "/mnt/m/", NULL, true, 0, "/mnt/m", "/d" },
	{ "//mnt///m/./sub/", NULL, true, 0, "/mnt/m", "/d/sub" },
	{ "/mnt/m/sub/../x", NULL, true, 0, "/mnt/m", "/d/x" },
	{ "/mnt/m/sub/../../m/sub", NULL, true, 0, "/mnt/m", "/d/sub" },
	{ "/mnt/m/..", NULL, true, -EMEDIUMTYPE, NULL, NULL },
	{ "/../../mnt/m/sub", NULL, true, 0, "/mnt/m", "/d/sub" },
	{ "sub/f", "/mnt/m", true, 0, "/mnt/m", "/d/sub/f" },
	{ "../../m/sub", "/mnt/m/other", true, 0, "/mnt/m", "/d/sub" },
	{ ".", "/mnt/m/sub", true, 0, "/mnt/m", "/d/sub" },
	{ "..", "/mnt/m/sub", true, 0, "/mnt/m", "/d" },
	{ "m", "/mnt", true, 0, "/mnt/m", "/d" },
	{ "/home/u/link-to-m/f", NULL, true, 0, "/mnt/m", "/d/sub/f" },
	{ "/home/u/rel/sub", NULL, true, 0, "/mnt/m", "/d/sub" },
	{ "link-to-m/../x", "/home/u", true, 0, "/mnt/m", "/d/x" },
	{ "/home/u/to-nfsroot/c", NULL, true, 0, "/srv/nfsroot", "/b/c" },
	{ "/home/u/link-to-m/f", NULL, false, -EMEDIUMTYPE, NULL, NULL },
	{ "/mnt/m/inner-link/x", NULL, true, 0, "/mnt/m", "/d/inner-link/x" },
	{ "/mnt/m/local/f", NULL, true, -EMEDIUMTYPE, NULL, NULL },
	{ "/mnt/bind/x", NULL, true, 0, "/mnt/bind", "/d/sub/x" },
	{ "/mnt/v3/x", NULL, true, -EPROTONOSUPPORT, NULL, NULL },
	{ "/mnt/with space/a", NULL, true, 0, "/mnt/with space", "/s/a" },
	{ "/mnt/mm", NULL, true, -EMEDIUMTYPE, NULL, NULL },
	/* Only file systems known to be local are looked at: an autofs
	 * trigger would mount (and hang), others may be remote. */
	{ "/mnt/auto/x", NULL, true, -EMEDIUMTYPE, NULL, NULL },
	{ "/mnt/fuse/x", NULL, true, -EMEDIUMTYPE, NULL, NULL },
	{ "/mnt/ov/x/..", NULL, true, -EMEDIUMTYPE, NULL, NULL },
	{ "/mnt/cifs", NULL, true, -EMEDIUMTYPE, NULL, NULL },
	{ "/loop/x", NULL, true, -ELOOP, NULL, NULL },
	{ "/home/u/dangling", NULL, true, -ENOENT, NULL, NULL },
	{ "/nonexistent/x", NULL, true, -ENOENT, NULL, NULL },
	{ "sub", NULL, true, -EINVAL, NULL, NULL },
	{ "", "/mnt/m", true, -ENOENT, NULL, NULL },
};

static void test_find(struct unit *u)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nm_mount m;
		struct nm_err err = { 0 };
		char *sp = NULL;
		int rc;

		nfs_looks = 0;
		rc = nm_mount_find_text(table, cases[i].path, cases[i].cwd,
					cases[i].links ? &fake : NULL, &m, &sp, &err);
		UNIT_CHECK(u,
			   rc == cases[i].rc && nfs_looks == 0 &&
				   (rc < 0 || (strcmp(m.target, cases[i].target) == 0 &&
					       strcmp(sp, cases[i].spath) == 0)),
			   "'%s' from %s%s: %d %s %s (wanted %d %s %s; %d looks on NFS) %s",
			   cases[i].path, cases[i].cwd ? cases[i].cwd : "nowhere",
			   cases[i].links ? "" : " as text", rc, rc == 0 ? m.target : "-",
			   rc == 0 ? sp : "-", cases[i].rc, cases[i].target ? cases[i].target : "-",
			   cases[i].spath ? cases[i].spath : "-", nfs_looks, err.msg);
		if (rc == 0)
			nm_mount_free(&m);
		free(sp);
	}
}

/* Completion lists a directory itself, with a deadline and no stat, when
 * it is hands off or holds a hands-off mount point as an entry. */
static void test_place(struct unit *u)
{
	static const struct {
		const char *path;
		bool nfs;
	} t[] = { { "/mnt/", true },  { "/mnt", true },	    { "/mnt/m/sub", true },
		  { "/", false },     { "/srv", true },	    { "/srv/other", false },
		  { "/home", false }, { "/mnt/m/..", true } };
	char file[] = "/tmp/nm-mountinfo-XXXXXX";
	int fd = mkstemp(file);

	if (fd < 0 || write(fd, table, sizeof(table) - 1) != (ssize_t)(sizeof(table) - 1)) {
		UNIT_CHECK(u, 0, "cannot write %s", file);
		return;
	}
	close(fd);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nm_err err = { 0 };
		char *abs = NULL;
		bool nfs = !t[i].nfs;

		UNIT_CHECK(u,
			   nm_mount_place(file, t[i].path, &abs, &nfs, &err) == 0 &&
				   nfs == t[i].nfs,
			   "%s is %s: %s", t[i].path, t[i].nfs ? "hands off" : "local",
			   abs ? abs : err.msg);
		free(abs);
	}
	unlink(file);
}

static void test_local(struct unit *u)
{
	static const struct {
		const char *type;
		bool local;
	} t[] = { { "ext4", true },  { "xfs", true },	      { "btrfs", true },
		  { "tmpfs", true }, { "proc", true },	      { "nfs4", false },
		  { "nfs", false },  { "autofs", false },     { "overlay", false },
		  { "fuse", false }, { "fuse.sshfs", false }, { "cifs", false },
		  { "9p", false },   { "ceph", false },	      { "", false },
		  { NULL, false },   { "ext", false },	      { "ext44", false } };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		UNIT_CHECK(u, nm_mpath_fs_local(t[i].type) == t[i].local, "%s is %s",
			   t[i].type ? t[i].type : "(null)", t[i].local ? "local" : "hands off");
}

static void test_long(struct unit *u)
{
	struct nm_mpath_mount nfs = { "/mnt/m", true };
	struct nm_err err = { 0 };
	char *big = malloc(5000), *out = NULL;

	if (!big)
		return;
	memset(big, 'a', 4999);
	big[0] = '/';
	big[4999] = '\0';
	UNIT_CHECK(u, nm_mpath_resolve(&nfs, 1, big, NULL, NULL, &out, &err) == -ENAMETOOLONG,
		   "a path longer than PATH_MAX is refused: %s", err.msg);
	free(out);
	out = NULL;
	/* Relative: the kernel bounds the path given, not cwd joined to it. */
	{
		char *cwd = malloc(3001), *rel = malloc(2001);

		if (cwd && rel) {
			memset(cwd, 'c', 3000);
			memcpy(cwd, "/mnt/m/", 7);
			cwd[3000] = '\0';
			memset(rel, 'r', 2000);
			rel[2000] = '\0';
			UNIT_CHECK(u,
				   nm_mpath_resolve(&nfs, 1, rel, cwd, NULL, &out, &err) == 0 &&
					   out && strlen(out) == 5001,
				   "a relative path below a deep current directory: %s",
				   out ? "placed" : err.msg);
			free(out);
			out = NULL;
		}
		free(cwd);
		free(rel);
	}
	/* ".." past the root stays at the root. */
	UNIT_CHECK(u,
		   nm_mpath_resolve(&nfs, 1, "../../..", "/mnt", NULL, &out, &err) == 0 &&
			   strcmp(out, "/") == 0,
		   "'..' stops at the root: %s", out ? out : err.msg);
	free(out);
	free(big);
}

static void test_list(struct unit *u)
{
	char dir[] = "/tmp/nm-mpath-XXXXXX", p[64];
	struct nm_mpath_entry *e = NULL;
	struct nm_err err = { 0 };
	size_t n = 0, dirs = 0, files = 0;
	FILE *f;

	if (!mkdtemp(dir))
		return;
	snprintf(p, sizeof(p), "%s/sub", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/file", dir);
	f = fopen(p, "w");
	if (f)
		fclose(f);
	UNIT_CHECK(u, nm_mpath_list(dir, 2000, 100, &e, &n, &err) == 0 && n == 2,
		   "a directory listed within its deadline: %zu entries %s", n, err.msg);
	for (size_t i = 0; i < n; i++) {
		dirs += e[i].dir && strcmp(e[i].name, "sub") == 0;
		files += !e[i].dir && strcmp(e[i].name, "file") == 0;
	}
	UNIT_CHECK(u, dirs == 1 && files == 1, "directories told from files, without '.', '..'");
	nm_mpath_entries_free(e, n);
	UNIT_CHECK(u, nm_mpath_list(dir, 2000, 1, &e, &n, &err) == 0 && n == 1,
		   "at most max entries");
	nm_mpath_entries_free(e, n);
	UNIT_CHECK(u, nm_mpath_list("/nonexistent/dir", 2000, 10, &e, &n, &err) == -ENOENT,
		   "a missing directory is its errno: %s", err.msg);
	remove(p);
	snprintf(p, sizeof(p), "%s/sub", dir);
	rmdir(p);
	rmdir(dir);
}

/* A relative path asks the kernel for the current directory (never
 * getcwd(3)'s walk up ".."); one it cannot give is said with its errno. */
static void test_cwd(struct unit *u)
{
	char dir[] = "/tmp/nm-cwd-XXXXXX", *old = getcwd(NULL, 0), *abs = NULL;
	struct nm_err err = { 0 };
	bool nfs;
	int rc;

	if (!old || !mkdtemp(dir) || chdir(dir) < 0 || rmdir(dir) < 0) {
		free(old);
		return;
	}
	rc = nm_mount_place(NULL, "x", &abs, &nfs, &err);
	UNIT_CHECK(u, rc == -ENOENT && strstr(err.msg, strerror(ENOENT)),
		   "a deleted current directory: %d %s", rc, err.msg);
	free(abs);
	abs = NULL;
	UNIT_CHECK(u,
		   nm_mount_place(NULL, "/tmp/.", &abs, &nfs, &err) == 0 && abs &&
			   strcmp(abs, "/tmp") == 0,
		   "an absolute path needs no current directory: %s", err.msg);
	free(abs);
	if (chdir(old) < 0)
		UNIT_CHECK(u, 0, "back to %s", old);
	free(old);
}

/* The deadline path, with the lister's work swapped for one that hangs or
 * looks at its own process. */
static int hang(const char *dir, void *arg)
{
	(void)dir;
	(void)arg;
	for (;;)
		pause();
	return 0;
}

struct look {
	pid_t caller;
	int fd;
};

static void on_signal(int sig)
{
	(void)sig;
}

static int look_around(const char *dir, void *arg)
{
	const struct look *l = arg;
	struct sigaction sa;

	(void)dir;
	if (getppid() == l->caller)
		return ECHILD; /* the caller's child: its zombie if it hangs */
	if (sigaction(SIGINT, NULL, &sa) < 0 || sa.sa_handler != SIG_DFL)
		return EINTR; /* the caller's Ctrl-C handler would run here */
	if (fcntl(l->fd, F_GETFD) >= 0)
		return EBADF; /* the caller's descriptors are inherited */
	return 0;
}

static void test_list_deadline(struct unit *u)
{
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_alrm;
	struct nm_mpath_list_opts o = { .timeout_ms = 300, .max = 10, .prepare = hang };
	struct look l = { .caller = getpid() };
	struct nm_mpath_entry *e = NULL;
	struct nm_err err = { 0 };
	int64_t t0 = nm_time_ms();
	size_t n = 0;
	int rc;

	rc = nm_mpath_list_with("/", &o, &e, &n, &err);
	UNIT_CHECK(u, rc == -ETIMEDOUT && nm_time_ms() - t0 < 1000,
		   "a lister that hangs costs the deadline: %d in %lld ms %s", rc,
		   (long long)(nm_time_ms() - t0), err.msg);
	nm_mpath_entries_free(e, n);

	sigaction(SIGINT, &sa, &old_int);
	l.fd = open("/", O_RDONLY | O_DIRECTORY); /* no O_CLOEXEC */
	if (l.fd >= 0) {			  /* above the lister's own pipe */
		int high = fcntl(l.fd, F_DUPFD, 50);

		close(l.fd);
		l.fd = high;
	}
	o = (struct nm_mpath_list_opts){
		.timeout_ms = 5000, .max = 10, .prepare = look_around, .arg = &l
	};
	rc = nm_mpath_list_with("/", &o, &e, &n, &err);
	UNIT_CHECK(u, rc == 0 && n > 0,
		   "the lister is not the caller's child, has default signal handlers and "
		   "no inherited descriptor: %d %s",
		   rc, err.msg);
	nm_mpath_entries_free(e, n);
	if (l.fd >= 0)
		close(l.fd);
	sigaction(SIGINT, &old_int, NULL);

	/* A signal while waiting (Ctrl-C) ends the wait. */
	sigaction(SIGALRM, &sa, &old_alrm);
	o = (struct nm_mpath_list_opts){ .timeout_ms = 5000, .max = 10, .prepare = hang };
	t0 = nm_time_ms();
	alarm(1);
	rc = nm_mpath_list_with("/", &o, &e, &n, &err);
	alarm(0);
	UNIT_CHECK(u, rc == -EINTR && nm_time_ms() - t0 < 3000,
		   "a signal ends the wait: %d in %lld ms %s", rc, (long long)(nm_time_ms() - t0),
		   err.msg);
	nm_mpath_entries_free(e, n);
	sigaction(SIGALRM, &old_alrm, NULL);
}

static void test_not_answering(struct unit *u)
{
	struct nm_err err = { 0 };

	nm_err_set(&err, -ETIMEDOUT, "192.0.2.2 port 2049: no reply within 3000 ms");
	UNIT_CHECK(u,
		   nm_rpc_not_answering(&err, "server-a", "/mnt/m") == -ETIMEDOUT &&
			   strcmp(err.msg, "server not answering: server-a: 192.0.2.2 port 2049: "
					   "no reply within 3000 ms (mount /mnt/m)") == 0,
		   "no reply, the server named: %s", err.msg);
	nm_err_set(&err, -ECONNREFUSED, "192.0.2.2 port 2049: cannot connect: refused");
	nm_rpc_not_answering(&err, "192.0.2.2", NULL);
	UNIT_CHECK(u,
		   strcmp(err.msg, "server not answering: 192.0.2.2 port 2049: cannot connect: "
				   "refused") == 0,
		   "refused, the server named once: %s", err.msg);
	nm_err_set(&err, -EHOSTUNREACH, "192.0.2.22 port 2049: cannot connect");
	nm_rpc_not_answering(&err, "192.0.2.2", "/m");
	UNIT_CHECK(u,
		   strcmp(err.msg, "server not answering: 192.0.2.2: 192.0.2.22 port 2049: "
				   "cannot connect (mount /m)") == 0,
		   "a longer address is another server: %s", err.msg);
	nm_err_set(&err, -EACCES, "server refused AUTH_SYS credentials");
	nm_rpc_not_answering(&err, "server-a", "/mnt/m");
	UNIT_CHECK(u, strcmp(err.msg, "server refused AUTH_SYS credentials") == 0,
		   "an answer is not 'not answering': %s", err.msg);
	nm_err_set(&err, -ETIMEDOUT, "[fd00::1]:2049: no reply within 3000 ms");
	nm_rpc_not_answering(&err, "fd00::1", NULL);
	UNIT_CHECK(u,
		   strcmp(err.msg,
			  "server not answering: [fd00::1]:2049: no reply within 3000 ms") == 0,
		   "an IPv6 peer in brackets is the server named once: %s", err.msg);
	nm_err_set(&err, -ETIMEDOUT, "[fd00::10]:2049: no reply within 3000 ms");
	nm_rpc_not_answering(&err, "fd00::1", NULL);
	UNIT_CHECK(u, strncmp(err.msg, "server not answering: fd00::1: [fd00::10]", 41) == 0,
		   "a longer IPv6 address is another server: %s", err.msg);
	nm_err_set(&err, -EADDRNOTAVAIL, "some-host: cannot resolve: Temporary failure");
	nm_rpc_not_answering(&err, "some-host", NULL);
	UNIT_CHECK(u, strncmp(err.msg, "some-host: cannot resolve", 25) == 0,
		   "a name that does not resolve is not 'not answering': %s", err.msg);
	UNIT_CHECK(u, nm_rpc_not_answering(NULL, "x", NULL) == -EINVAL, "NULL-safe");
}

int main(void)
{
	struct unit u = { 0 };

	unit_start();
	test_find(&u);
	test_local(&u);
	test_place(&u);
	test_long(&u);
	test_list(&u);
	test_list_deadline(&u);
	test_not_answering(&u);
	test_cwd(&u);
	return unit_done(&u);
}
