/* The metadata kept true after a move: libmount's utab options (the pure
 * part), a regular-file /etc/mtab, and the fstab and autofs map lines that
 * still name the old server (nm_utab, nm_mtab, nm_fstab). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nm_afile.h"
#include "nm_fstab.h"
#include "nm_mount.h"
#include "nm_store.h"
#include "nm_mtab.h"
#include "nm_time.h"
#include "nm_utab.h"
#include "unit.h"

static void test_utab_merge(struct unit *u)
{
	static const struct {
		const char *old, *server, *from, *want; /* want NULL: refused */
	} t[] = {
		{ NULL, "srv2", NULL, "x-nfsmig.server=srv2" },
		{ "", "srv2", "srv1", "x-nfsmig.server=srv2,x-nfsmig.from=srv1" },
		{ "x-nfsmig.server=old,_netdev,x-nfsmig.from=older", "new", NULL,
		  "_netdev,x-nfsmig.server=new" },
		{ "x-foo=\"a,b\",x-nfsmig.server=a", "192.0.2.7", "198.51.100.1",
		  "x-foo=\"a,b\",x-nfsmig.server=192.0.2.7,x-nfsmig.from=198.51.100.1" },
		{ "x-systemd.automount,x-nfsmig.serverx=1", "fd00::2", NULL,
		  "x-systemd.automount,x-nfsmig.server=fd00::2" },
		{ NULL, "srv,2", NULL, NULL },
		{ NULL, "srv 2", NULL, NULL },
		{ NULL, "srv\n2", NULL, NULL },
		{ NULL, "srv\x1b[2J", NULL, NULL },
		{ NULL, "", NULL, NULL },
		{ NULL, "ok", "bad,from", NULL },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nm_err err = { 0 };
		char *out = NULL;
		int rc = nm_utab_merge_opts(t[i].old, t[i].server, t[i].from, &out, &err);

		if (t[i].want)
			UNIT_CHECK(u, rc == 0 && out && strcmp(out, t[i].want) == 0,
				   "utab options %zu: %s", i, out ? out : err.msg);
		else
			UNIT_CHECK(u, rc == -EINVAL && !out && err.msg[0],
				   "utab options %zu refused: %s", i, err.msg);
		free(out);
	}
}

static void test_utab_text(struct unit *u)
{
	static const struct {
		const char *text, *want;
	} t[] = {
		/* the entry's OPTS changed only: ATTRS, ID, other lines kept */
		{ "ID=7 SRC=a:/x TARGET=/m ROOT=/ ATTRS=helper=nfs OPTS=x-k=1\n"
		  "SRC=b TARGET=/o ROOT=/ OPTS=x-a\\054b\n",
		  "ID=7 SRC=a:/x TARGET=/m ROOT=/ ATTRS=helper=nfs OPTS=x-k=1,x-nfsmig.server=s2,"
		  "x-nfsmig.from=s1\n"
		  "SRC=b TARGET=/o ROOT=/ OPTS=x-a\\054b\n" },
		/* the last entry of the mount point; one without OPTS gets them */
		{ "SRC=a TARGET=/m ROOT=/ OPTS=x-old\nSRC=a TARGET=/m ROOT=/ ATTRS=z\n",
		  "SRC=a TARGET=/m ROOT=/ OPTS=x-old\nSRC=a TARGET=/m ROOT=/ ATTRS=z "
		  "OPTS=x-nfsmig.server=s2,x-nfsmig.from=s1\n" },
		/* a mangled target matched unmangled; none: an entry added */
		{ "SRC=a TARGET=/m\\040x ROOT=/ OPTS=x-nfsmig.server=old",
		  "SRC=a TARGET=/m\\040x ROOT=/ OPTS=x-nfsmig.server=old\n"
		  "SRC=srv:/e\\040f TARGET=/m ROOT=/sub "
		  "OPTS=x-nfsmig.server=s2,x-nfsmig.from=s1\n" },
		{ "", "SRC=srv:/e\\040f TARGET=/m ROOT=/sub "
		      "OPTS=x-nfsmig.server=s2,x-nfsmig.from=s1\n" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nm_err err = { 0 };
		char *out = NULL;
		size_t len = 0;
		int rc = nm_utab_rewrite_text(t[i].text, strlen(t[i].text), "/m", "srv:/e f",
					      "/sub", "s2", "s1", &out, &len, &err);

		UNIT_CHECK(u,
			   rc == 0 && out && len == strlen(t[i].want) &&
				   strcmp(out, t[i].want) == 0,
			   "utab text %zu%s%s", i, out ? "" : ": ", out ? "" : err.msg);
		free(out);
	}
}

/* Which of utab's entries are stale: ours (x-nfsmig.*) and not mounted. */
static void test_utab_stale(struct unit *u)
{
	static const char *const mounted[] = { "/", "/mnt/live", "/mnt/sp ace" };
	static const struct {
		const char *text, *want; /* want: the targets, each ended by ";" */
	} t[] = {
		/* a mounted entry of ours kept; another's (no x-nfsmig) kept */
		{ "SRC=a:/x TARGET=/mnt/live ROOT=/ OPTS=x-nfsmig.server=b\n"
		  "SRC=c TARGET=/mnt/gone ROOT=/ OPTS=x-other=1\n",
		  "" },
		/* an expired referral's submount; x-nfsmig.from alone is ours too;
		 * one target once */
		{ "SRC=a:/x TARGET=/mnt/live/ref ROOT=/ OPTS=x-nfsmig.server=b\n"
		  "SRC=a TARGET=/mnt/old ROOT=/ OPTS=x-k,x-nfsmig.from=a\n"
		  "SRC=a:/x TARGET=/mnt/live/ref ROOT=/ OPTS=x-nfsmig.server=c",
		  "/mnt/live/ref;/mnt/old;" },
		/* targets compared unmangled; a name that only begins like one kept */
		{ "SRC=a TARGET=/mnt/sp\\040ace ROOT=/ OPTS=x-nfsmig.server=b\n"
		  "SRC=a TARGET=/mnt/sp\\040ace2 ROOT=/ OPTS=x-nfsmig.server=b\n"
		  "SRC=a TARGET=/mnt/live2 ROOT=/ OPTS=x-nfsmig.serverx=b\n",
		  "/mnt/sp ace2;" },
		/* not utab's lines; empty */
		{ "garbage without fields\nOPTS=x-nfsmig.server=b\n", "" },
		{ "", "" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nm_err err = { 0 };
		char **got = NULL, all[512] = "";
		size_t n = 0;
		int rc = nm_utab_stale(t[i].text, strlen(t[i].text), mounted, 3, &got, &n, &err);

		for (size_t k = 0; rc == 0 && k < n; k++) {
			strncat(all, got[k], sizeof(all) - strlen(all) - 2);
			strcat(all, ";");
		}
		UNIT_CHECK(u, rc == 0 && strcmp(all, t[i].want) == 0, "utab stale %zu: [%s]", i,
			   rc == 0 ? all : err.msg);
		nm_utab_targets_free(got, n);
	}
}

static void test_mtab_text(struct unit *u)
{
	static const struct {
		const char *text, *mp, *server, *want; /* want NULL: rc */
		int rc;
	} t[] = {
		{ "srv1:/export /mnt/a nfs4 rw,addr=192.0.2.1 0 0\n", "/mnt/a", "srv2",
		  "srv2:/export /mnt/a nfs4 rw,addr=192.0.2.1 0 0\n", 1 },
		/* octal escapes kept as they are; the mount point matched decoded */
		{ "proc /proc proc rw 0 0\nsrv1:/ex\\040port /mnt/my\\040dir nfs rw 0 0\ntmpfs /t "
		  "tmpfs rw 0 0",
		  "/mnt/my dir", "192.0.2.9",
		  "proc /proc proc rw 0 0\n192.0.2.9:/ex\\040port /mnt/my\\040dir nfs rw 0 "
		  "0\ntmpfs /t "
		  "tmpfs rw 0 0",
		  1 },
		/* the last one (on top) of two mounts on one point */
		{ "a:/x /m nfs4 rw 0 0\nb:/y /m nfs4 rw 0 0\n", "/m", "fd00::1",
		  "a:/x /m nfs4 rw 0 0\n[fd00::1]:/y /m nfs4 rw 0 0\n", 1 },
		{ "[fd00::5]:/x /m nfs4 rw 0 0\n", "/m", "srv", "srv:/x /m nfs4 rw 0 0\n", 1 },
		{ "srv2:/x /m nfs4 rw 0 0\n", "/m", "srv2", NULL, 0 },
		{ "srv1:/x /m ext4 rw 0 0\n", "/m", "srv2", NULL, -ENOENT },
		{ "srv1:/x /mm nfs4 rw 0 0\n", "/m", "srv2", NULL, -ENOENT },
		{ "srv1:/x /m nfs4 rw 0 0\n", "/m", "bad name", NULL, -EINVAL },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nm_err err = { 0 };
		char *out = NULL;
		size_t len = 0;
		int rc = nm_mtab_rewrite_text(t[i].text, strlen(t[i].text), t[i].mp, t[i].server,
					      &out, &len, &err);

		if (t[i].want)
			UNIT_CHECK(u,
				   rc == 1 && out && len == strlen(t[i].want) &&
					   memcmp(out, t[i].want, len) == 0,
				   "mtab text %zu", i);
		else
			UNIT_CHECK(u, rc == t[i].rc && !out, "mtab text %zu: %d %s", i, rc,
				   err.msg);
		free(out);
	}
}

static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = write(fd, text, strlen(text));
	fchmod(fd, mode);
	close(fd);
	return w == (ssize_t)strlen(text) ? 0 : -1;
}

static char *slurp(const char *path)
{
	struct nm_afile f;

	if (nm_afile_read(path, 1 << 20, &f, NULL) != 0)
		return NULL;
	return f.text;
}

static size_t count_entries(const char *dir)
{
	char cmd[600];
	FILE *p;
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	if (p) {
		if (fscanf(p, "%zu", &n) != 1)
			n = 0;
		pclose(p);
	}
	return n;
}

static void test_mtab_file(struct unit *u, const char *base)
{
	char dir[512], mtab[600], link[600], *text;
	const char *before = "rootfs / ext4 rw 0 0\nsrv1:/export /mnt/a nfs4 rw 0 0\n";
	struct stat st, st2;
	struct nm_err err = { 0 };
	int rc;

	snprintf(dir, sizeof(dir), "%s/mtab", base);
	mkdir(dir, 0755);
	snprintf(mtab, sizeof(mtab), "%s/mtab", dir);
	snprintf(link, sizeof(link), "%s/mtab-link", dir);

	UNIT_CHECK(u, nm_mtab_update(mtab, "/mnt/a", "srv2", &err) == 1,
		   "mtab: no file is left alone (1)");
	if (symlink("/proc/self/mounts", link) != 0)
		perror("symlink");
	UNIT_CHECK(u, nm_mtab_update(link, "/mnt/a", "srv2", &err) == 1,
		   "mtab: the symbolic link to /proc/self/mounts is left alone (1)");
	UNIT_CHECK(u, lstat(link, &st) == 0 && S_ISLNK(st.st_mode), "mtab: still a link");

	write_file(mtab, before, 0640);
	stat(mtab, &st);
	rc = nm_mtab_update(mtab, "/mnt/a", "srv2", &err);
	text = slurp(mtab);
	UNIT_CHECK(u,
		   rc == 0 && text &&
			   strcmp(text,
				  "rootfs / ext4 rw 0 0\nsrv2:/export /mnt/a nfs4 rw 0 0\n") == 0,
		   "mtab: a regular file gets the new server (%s)", err.msg);
	free(text);
	UNIT_CHECK(u,
		   stat(mtab, &st2) == 0 && (st2.st_mode & 07777) == 0640 &&
			   st2.st_ino != st.st_ino,
		   "mtab: replaced by rename (a new inode), its mode kept");
	UNIT_CHECK(u, count_entries(dir) == 2, "mtab: no temporary file left");
	rc = nm_mtab_update(mtab, "/mnt/a", "srv2", &err);
	UNIT_CHECK(u, rc == 0 && stat(mtab, &st) == 0 && st.st_ino == st2.st_ino,
		   "mtab: naming the server already: not rewritten");
	UNIT_CHECK(u, nm_mtab_update(mtab, "/mnt/none", "srv2", &err) == -ENOENT,
		   "mtab: no line for the mount point: -ENOENT");
	UNIT_CHECK(u, nm_mtab_update(mtab, "/mnt/a", "a,b", &err) == -EINVAL,
		   "mtab: a server with a comma is refused");

	/* mount(8)'s lock (MTAB~) held by another: the update waits for it. */
	{
		char lock[700];
		int64_t t0;
		pid_t pid;

		snprintf(lock, sizeof(lock), "%s~", mtab);
		write_file(lock, "", 0600);
		pid = fork();
		if (pid == 0) {
			usleep(500 * 1000);
			unlink(lock);
			_exit(0);
		}
		t0 = nm_time_ms();
		rc = nm_mtab_update(mtab, "/mnt/a", "srv3", &err);
		t0 = nm_time_ms() - t0;
		waitpid(pid, NULL, 0);
		text = slurp(mtab);
		UNIT_CHECK(u, rc == 0 && t0 >= 400 && text && strstr(text, "srv3:/export /mnt/a"),
			   "mtab: mount's lock waited for (%lld ms), then updated: %s",
			   (long long)t0, rc ? err.msg : "");
		free(text);
		UNIT_CHECK(u, access(lock, F_OK) != 0 && count_entries(dir) == 2,
			   "mtab: the lock taken away after");
	}
}

static void test_fstab_pure(struct unit *u)
{
	static const char *const servers[] = { "srv1.example.com", "192.0.2.1", "fd00::1" };
	static const struct {
		const char *name;
		bool is;
	} names[] = {
		{ "srv1.example.com", true },
		{ "SRV1.Example.COM.", true },
		{ "srv1", false },
		{ "192.0.2.1", true },
		{ "[fd00:0::1]", true },
		{ "fd00:0:0::1", true },
		{ "192.0.2.10", false },
		{ "srv1.example.com.evil", false },
	};
	static const struct {
		const char *field;
		bool remote;
		size_t hosts;
	} src[] = {
		{ "srv:/x", true, 3 },	  { "[fd00::1]:/x", true, 9 }, { "fd00::1:/x", true, 7 },
		{ "a(2),b:/x", true, 6 }, { "/dev/sda1", false, 0 },   { ":/local", false, 0 },
		{ "UUID=abc", false, 0 }, { "srv:x", false, 0 },
	};
	char *d = nm_fstab_decode("/a\\040b\\011c\\134d\\08", strlen("/a\\040b\\011c\\134d\\08"));

	UNIT_CHECK(u, d && strcmp(d, "/a b\tc\\d\\08") == 0, "fstab: octal escapes decoded");
	free(d);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		UNIT_CHECK(u,
			   nm_fstab_server_is(names[i].name, strlen(names[i].name), servers, 3) ==
				   names[i].is,
			   "server is %s: %d", names[i].name, names[i].is);
	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++) {
		size_t hl = 0, po = 0;
		bool r = nm_fstab_source_split(src[i].field, strlen(src[i].field), &hl, &po);

		UNIT_CHECK(u, r == src[i].remote && (!r || (hl == src[i].hosts && po == hl + 1)),
			   "source split %s", src[i].field);
	}
}

/* One table row: a file's text, what nm_fstab_match_text should find
 * (the lines, each with its proposal for srv2 and for srv2:/new). */
struct match_case {
	const char *name;
	enum nm_fstab_kind kind;
	const char *text;
	unsigned lines[4];
	const char *keys[4];
	const char *proposals[4];      /* new server only */
	const char *path_proposals[4]; /* and new path /new (NULL: refused) */
};

static const struct match_case match_cases[] = {
	{ "fstab basic",
	  NM_FSTAB_FSTAB,
	  "# <file system> <mount point> <type>\n"
	  "UUID=1 / ext4 defaults 0 1\n"
	  "srv1.example.com:/export /mnt/a nfs4 rw,_netdev 0 0\n"
	  "srv1.example.com:/exportx /mnt/b nfs4 rw 0 0\n"
	  "  192.0.2.1:/export/sub\t/mnt/c  nfs  vers=4.1  0 0\n"
	  "srv9:/export /mnt/d nfs4 rw 0 0\n"
	  "srv1.example.com:/export /mnt/e cifs rw 0 0\n"
	  "#srv1.example.com:/export /mnt/f nfs4 rw 0 0\n",
	  { 3, 5 },
	  { "/mnt/a", "/mnt/c" },
	  { "srv2:/export /mnt/a nfs4 rw,_netdev 0 0",
	    "  srv2:/export/sub\t/mnt/c  nfs  vers=4.1  0 0" },
	  { "srv2:/new /mnt/a nfs4 rw,_netdev 0 0",
	    "  srv2:/new/sub\t/mnt/c  nfs  vers=4.1  0 0" } },
	{ "fstab octal",
	  NM_FSTAB_FSTAB,
	  "[fd00::1]:/export/my\\040dir /mnt/my\\040dir nfs4 rw 0 0\n"
	  "srv1.example.com:/exp\\157rt /mnt/o nfs4 rw 0 0\n",
	  { 1, 2 },
	  { "/mnt/my dir", "/mnt/o" },
	  { "srv2:/export/my\\040dir /mnt/my\\040dir nfs4 rw 0 0",
	    "srv2:/exp\\157rt /mnt/o nfs4 rw 0 0" },
	  { "srv2:/new/my\\040dir /mnt/my\\040dir nfs4 rw 0 0", "srv2:/new /mnt/o nfs4 rw 0 0" } },
	{ "autofs indirect",
	  NM_FSTAB_AUTOFS,
	  "# a map\n"
	  "a  -fstype=nfs4,rw  srv1.example.com:/export/a\n"
	  "b  -rw  srv9:/export/b\n"
	  "c  -fstype=cifs  ://srv1.example.com/export\n"
	  "*  -fstype=nfs4  192.0.2.1:/export/&\n"
	  "+auto.other\n",
	  { 2, 5 },
	  { "a", "*" },
	  { "a  -fstype=nfs4,rw  srv2:/export/a", "*  -fstype=nfs4  srv2:/export/&" },
	  { "a  -fstype=nfs4,rw  srv2:/new/a", "*  -fstype=nfs4  srv2:/new/&" } },
	{ "autofs multi-host and weights",
	  NM_FSTAB_AUTOFS,
	  "r -ro srv9(1),srv1.example.com(5):/export/r\n"
	  "s -ro srv1.example.com:/export srv9:/export\n"
	  "t -ro [fd00::1]:/export\n",
	  { 1, 2, 3 },
	  { "r", "s", "t" },
	  { "r -ro srv9(1),srv2(5):/export/r", "s -ro srv2:/export srv9:/export",
	    "t -ro srv2:/export" },
	  { NULL, "s -ro srv2:/new srv9:/export", "t -ro srv2:/new" } },
	{ "autofs direct, multi-mount, continued",
	  NM_FSTAB_AUTOFS,
	  "/mnt/direct -fstype=nfs4 srv1.example.com:/export\n"
	  "/mnt/multi \\\n"
	  "    /one srv1.example.com:/export/one \\\n"
	  "    /two srv9:/two\n"
	  "/mnt/local :/export\n",
	  { 1, 2 },
	  { "/mnt/direct", "/mnt/multi" },
	  { "/mnt/direct -fstype=nfs4 srv2:/export",
	    "/mnt/multi \\\n    /one srv2:/export/one \\\n    /two srv9:/two" },
	  { "/mnt/direct -fstype=nfs4 srv2:/new",
	    "/mnt/multi \\\n    /one srv2:/new/one \\\n    /two srv9:/two" } },
};

static void test_fstab_match(struct unit *u)
{
	static const char *const servers[] = { "srv1.example.com", "192.0.2.1", "fd00::1" };

	for (size_t c = 0; c < sizeof(match_cases) / sizeof(match_cases[0]); c++) {
		const struct match_case *m = &match_cases[c];
		struct nm_fstab_hit *hits = NULL;
		struct nm_err err = { 0 };
		size_t n = 0, want = 0;
		int rc = nm_fstab_match_text("/etc/x", m->kind, m->text, strlen(m->text), servers,
					     3, "/export/", &hits, &n, &err);

		while (want < 4 && m->lines[want])
			want++;
		UNIT_CHECK(u, rc == 0 && n == want, "%s: %zu hits (%zu)", m->name, want, n);
		for (size_t i = 0; i < n && i < want; i++) {
			char *line = NULL;

			UNIT_CHECK(u,
				   hits[i].line == m->lines[i] &&
					   strcmp(hits[i].key, m->keys[i]) == 0,
				   "%s: hit %zu at line %u, key %s", m->name, i, hits[i].line,
				   hits[i].key);
			rc = nm_fstab_propose(&hits[i], "srv2", NULL, &line, &err);
			UNIT_CHECK(u, rc == 0 && line && strcmp(line, m->proposals[i]) == 0,
				   "%s: hit %zu proposal%s%s", m->name, i, line ? "" : ": ",
				   line ? "" : err.msg);
			free(line);
			line = NULL;
			rc = nm_fstab_propose(&hits[i], "srv2", "/new/", &line, &err);
			if (m->path_proposals[i])
				UNIT_CHECK(u,
					   rc == 0 && line &&
						   strcmp(line, m->path_proposals[i]) == 0,
					   "%s: hit %zu proposal with a path%s%s", m->name, i,
					   line ? "" : ": ", line ? "" : err.msg);
			else
				UNIT_CHECK(u, rc == -EXDEV && !line,
					   "%s: hit %zu: a shared location keeps its path", m->name,
					   i);
			free(line);
		}
		nm_fstab_hits_free(hits, n);
	}
}

static void test_propose_bad(struct unit *u)
{
	static const char *const servers[] = { "srv1" };
	const char *fstab = "srv1:/e /m nfs4 rw 0 0\n";
	struct nm_fstab_hit *hits = NULL;
	size_t n = 0;
	char *line = NULL;
	struct nm_err err = { 0 };

	nm_fstab_match_text("/etc/fstab", NM_FSTAB_FSTAB, fstab, strlen(fstab), servers, 1, "/e",
			    &hits, &n, &err);
	UNIT_CHECK(u, n == 1, "propose: one hit");
	if (n != 1)
		return;
	UNIT_CHECK(u, nm_fstab_propose(&hits[0], "a b", NULL, &line, &err) == -EINVAL && !line,
		   "propose: a server with a space is refused");
	UNIT_CHECK(u, nm_fstab_propose(&hits[0], "a,b", NULL, &line, &err) == -EINVAL && !line,
		   "propose: a server with a comma is refused");
	UNIT_CHECK(u, nm_fstab_propose(&hits[0], "a\tb", NULL, &line, &err) == -EINVAL && !line,
		   "propose: a server with a control is refused");
	UNIT_CHECK(u,
		   nm_fstab_propose(&hits[0], "fd00::9", "/a b", &line, &err) == 0 && line &&
			   strcmp(line, "[fd00::9]:/a\\040b /m nfs4 rw 0 0") == 0,
		   "propose: IPv6 in brackets, a blank in the path escaped: %s", line);
	free(line);
	nm_fstab_hits_free(hits, n);

	/* The export moved to the server's root: "/" replaces it, and a path
	 * below it keeps its own part. */
	fstab = "srv1:/e /m nfs4 rw 0 0\nsrv1:/e/sub /s nfs4 rw 0 0\nsrv1:/e/ /t nfs4 rw 0 0\n";
	hits = NULL;
	n = 0;
	nm_fstab_match_text("/etc/fstab", NM_FSTAB_FSTAB, fstab, strlen(fstab), servers, 1, "/e",
			    &hits, &n, &err);
	UNIT_CHECK(u, n == 3, "propose to the root: three hits");
	for (size_t i = 0; i < n && n == 3; i++) {
		static const char *const want[] = { "srv2:/ /m nfs4 rw 0 0",
						    "srv2:/sub /s nfs4 rw 0 0",
						    "srv2:/ /t nfs4 rw 0 0" };

		line = NULL;
		UNIT_CHECK(u,
			   nm_fstab_propose(&hits[i], "srv2", "/", &line, &err) == 0 && line &&
				   strcmp(line, want[i]) == 0,
			   "propose to the root %zu: %s", i, line ? line : err.msg);
		free(line);
	}
	nm_fstab_hits_free(hits, n);
}

static void test_master(struct unit *u)
{
	const char *text = "# master\n"
			   "/misc   /etc/auto.misc --timeout=60\n"
			   "/-      file:/etc/auto.direct\n"
			   "/home   file,sun:/etc/auto.home\n"
			   "/x      auto.x\n"
			   "/net    -hosts\n"
			   "/p      program:/usr/bin/map\n"
			   "/l      ldap:ou=auto.indirect,dc=example\n"
			   "/y      yp:auto.y\n"
			   "/amd    file,amd:/etc/amd.map\n"
			   "/rel    sub/auto.rel\n"
			   "/dup    /etc/auto.misc\n"
			   "/up     /etc/../root/auto\n"
			   "+dir:/etc/auto.master.d\n"
			   "+auto.master\n";
	const char *want[] = { "/etc/auto.misc", "/etc/auto.direct", "/etc/auto.home",
			       "/etc/auto.x", NULL };
	char **maps = NULL, **dirs = NULL;
	size_t i = 0;
	int rc = nm_fstab_master_maps(text, strlen(text), &maps, &dirs, NULL);
	bool ok = rc == 0 && maps;

	for (; ok && want[i]; i++)
		ok = maps[i] && strcmp(maps[i], want[i]) == 0;
	UNIT_CHECK(u, ok && !maps[i], "master: the file maps, nothing else");
	UNIT_CHECK(u, dirs && dirs[0] && strcmp(dirs[0], "/etc/auto.master.d") == 0 && !dirs[1],
		   "master: the +dir: directory");
	nm_fstab_strv_free(maps);
	nm_fstab_strv_free(dirs);
}

/* nm_fstab_move_of from tables: no name is resolved (deadline 0). */
static void test_move_of(struct unit *u)
{
	static const struct {
		const char *addr;	     /* the kernel's server now */
		const char *locs[3];	     /* recorded locations */
		const char *move_from;	     /* a recorded move's origin, or NULL */
		int rc;			     /* 0 moved, 1 not */
		const char *old, *to, *path; /* old names joined by ' '; path NULL: kept */
	} t[] = {
		{ "192.0.2.11", { NULL }, NULL, 1, NULL, NULL, NULL },
		{ "192.0.2.12", { NULL }, NULL, 0, "192.0.2.11 srv1.example", "192.0.2.12", NULL },
		{ "192.0.2.12",
		  { "srv3.example:/x", "192.0.2.12:/moved/data/", NULL },
		  "192.0.2.11",
		  0,
		  "192.0.2.11 srv1.example",
		  "192.0.2.12",
		  "/moved/data" },
		{ "192.0.2.12",
		  { "192.0.2.12:/export/data" },
		  "192.0.2.13",
		  0,
		  "192.0.2.11 srv1.example 192.0.2.13",
		  "192.0.2.12",
		  NULL },
		{ "fd00::12",
		  { "[fd00::12]:/e2" },
		  NULL,
		  0,
		  "192.0.2.11 srv1.example",
		  "fd00::12",
		  "/e2" },
		{ "192.0.2.12", { "192.0.2.12:/a\\x1bb" }, NULL, -EINVAL, NULL, NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nm_record r = { 0 };
		struct nm_mount m = { 0 };
		struct nm_fstab_move mv;
		struct nm_err err = { 0 };
		char old[256] = "";
		int rc;

		r.mountpoint = "/mnt/data";
		r.source = "srv1.example:/export/data";
		r.orig_server = "192.0.2.11";
		r.export_path = "/export/data";
		r.locations = (char **)t[i].locs;
		while (r.nlocations < 3 && t[i].locs[r.nlocations])
			r.nlocations++;
		struct nm_move mvs[1] = { { 1, (char *)t[i].move_from, (char *)t[i].addr, NULL } };
		r.moves = mvs;
		r.nmoves = t[i].move_from ? 1 : 0;
		m.target = "/mnt/data";
		m.source = "SRV1.example:/export/data";
		m.server = (char *)t[i].addr;
		rc = nm_fstab_move_of(&r, &m, 0, &mv, &err);
		for (size_t k = 0; rc == 0 && k < mv.nold; k++)
			snprintf(old + strlen(old), sizeof(old) - strlen(old), "%s%s", k ? " " : "",
				 mv.old[k]);
		UNIT_CHECK(u, rc == t[i].rc && (rc != 0 || strcmp(old, t[i].old) == 0),
			   "move_of %zu: rc %d, old %s", i, rc, old);
		if (rc == 0) {
			UNIT_CHECK(u,
				   strcmp(mv.new_server, t[i].to) == 0 &&
					   ((!t[i].path && !mv.new_path) ||
					    (t[i].path && mv.new_path &&
					     strcmp(mv.new_path, t[i].path) == 0)) &&
					   strcmp(mv.export_path, "/export/data") == 0,
				   "move_of %zu: to %s, path %s", i, mv.new_server,
				   mv.new_path ? mv.new_path : "(kept)");
			nm_fstab_move_free(&mv);
		}
	}

	/* An old name that resolves (here from the hosts file) to the server
	 * now is no old name; all of them: nothing to change. */
	for (int all = 0; all < 2; all++) {
		struct nm_record r = { 0 };
		struct nm_mount m = { 0 };
		struct nm_fstab_move mv;
		struct nm_err err = { 0 };
		int rc;

		r.mountpoint = m.target = "/mnt/data";
		r.source = m.source = "localhost:/export/data";
		r.orig_server = all ? "localhost" : "192.0.2.11";
		r.export_path = "/export/data";
		m.server = "127.0.0.1";
		rc = nm_fstab_move_of(&r, &m, 2000, &mv, &err);
		if (all)
			UNIT_CHECK(u, rc == 1,
				   "move_of: every old name resolves to the server now: "
				   "nothing to change (%d)",
				   rc);
		else
			UNIT_CHECK(u,
				   rc == 0 && mv.nold == 1 && strcmp(mv.old[0], "192.0.2.11") == 0,
				   "move_of: an old name resolving to the server now is dropped "
				   "(%zu names)",
				   rc == 0 ? mv.nold : 0);
		if (rc == 0)
			nm_fstab_move_free(&mv);
	}
}

static void mkpath(const char *base, const char *rel, const char *text, mode_t mode)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s%s", base, rel);
	for (char *s = p + strlen(base) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	write_file(p, text, mode);
}

static void test_scan_rewrite(struct unit *u, const char *base)
{
	char root[512], p[1024], *text, *backup = NULL;
	const char *fstab = "# static file system information\n"
			    "UUID=1 / ext4 errors=remount-ro 0 1\n"
			    "srv1:/export /mnt/a nfs4 rw,_netdev 0 0\n"
			    "\n"
			    "srv1:/export/my\\040dir /mnt/b\\040c nfs4 rw 0 0   # trailing\n"
			    "srv9:/export /mnt/z nfs4 rw 0 0\n"
			    "tmpfs /tmp tmpfs rw 0 0"; /* no final newline */
	const char *fstab_after = "# static file system information\n"
				  "UUID=1 / ext4 errors=remount-ro 0 1\n"
				  "srv2:/export /mnt/a nfs4 rw,_netdev 0 0\n"
				  "\n"
				  "srv2:/export/my\\040dir /mnt/b\\040c nfs4 rw 0 0   # trailing\n"
				  "srv9:/export /mnt/z nfs4 rw 0 0\n"
				  "tmpfs /tmp tmpfs rw 0 0";
	struct nm_fstab_hit *hits = NULL;
	struct nm_err err = { 0 };
	struct stat st;
	size_t n = 0, nf = 0;
	int rc;

	snprintf(root, sizeof(root), "%s/root", base);
	mkdir(root, 0755);
	mkpath(root, "/etc/fstab", fstab, 0604);
	mkpath(root, "/etc/auto.master", "/misc /etc/auto.misc\n+dir:/etc/extra.d\n", 0644);
	mkpath(root, "/etc/auto.misc", "data -fstype=nfs4 srv1:/export/data\n", 0644);
	mkpath(root, "/etc/auto.master.d/a.autofs", "/- /etc/auto.direct\n", 0644);
	mkpath(root, "/etc/auto.direct", "/srv/d srv1:/export\n/srv/e srv9:/export\n", 0644);
	mkpath(root, "/etc/extra.d/b.autofs", "/prog /etc/auto.prog\n/-  /etc/auto.none\n", 0644);
	mkpath(root, "/etc/auto.prog", "x srv1:/export\n", 0755); /* a program map */

	rc = nm_fstab_scan(root, "srv1", "/export", &hits, &n, &err);
	UNIT_CHECK(u, rc == 0 && n == 4, "scan: fstab twice, auto.misc, auto.direct: %zu (%s)", n,
		   err.msg);
	for (size_t i = 0; i < n; i++)
		nf += strcmp(hits[i].file, "/etc/fstab") == 0;
	UNIT_CHECK(u,
		   nf == 2 && n == 4 && strcmp(hits[2].file, "/etc/auto.misc") == 0 &&
			   strcmp(hits[3].file, "/etc/auto.direct") == 0 && hits[3].line == 1,
		   "scan: the files as on the system, in order");

	snprintf(p, sizeof(p), "%s/etc/fstab", root);
	rc = nm_fstab_rewrite(root, "/etc/fstab", hits, n, "srv2", NULL, &backup, &err);
	text = slurp(p);
	UNIT_CHECK(u, rc == 0 && text && strcmp(text, fstab_after) == 0,
		   "rewrite: the hosts changed, every other byte kept (%s)", err.msg);
	free(text);
	UNIT_CHECK(u, stat(p, &st) == 0 && (st.st_mode & 07777) == 0604, "rewrite: mode kept");
	UNIT_CHECK(u,
		   backup && strncmp(backup, "/etc/fstab.nfsmig-", 18) == 0 &&
			   strlen(backup) == strlen("/etc/fstab.nfsmig-20261125T101500"),
		   "rewrite: backup named %s", backup ? backup : "(none)");
	if (backup) {
		snprintf(p, sizeof(p), "%s%s", root, backup);
		text = slurp(p);
		UNIT_CHECK(u, text && strcmp(text, fstab) == 0,
			   "rewrite: the backup is the original");
		free(text);
	}
	free(backup);
	backup = NULL;
	snprintf(p, sizeof(p), "%s/etc", root);
	UNIT_CHECK(u, count_entries(p) == 8,
		   "rewrite: no temporary left (fstab, its backup, 6 more)");

	/* The same hits again: the file changed since: nothing written. */
	rc = nm_fstab_rewrite(root, "/etc/fstab", hits, n, "srv3", NULL, &backup, &err);
	snprintf(p, sizeof(p), "%s/etc/fstab", root);
	text = slurp(p);
	UNIT_CHECK(u, rc == -ESTALE && !backup && text && strcmp(text, fstab_after) == 0,
		   "rewrite: a line changed since the scan: -ESTALE, file untouched");
	free(text);

	/* A map: the direct one. */
	rc = nm_fstab_rewrite(root, "/etc/auto.direct", hits, n, "srv2", "/moved", &backup, &err);
	snprintf(p, sizeof(p), "%s/etc/auto.direct", root);
	text = slurp(p);
	UNIT_CHECK(u,
		   rc == 0 && text &&
			   strcmp(text, "/srv/d srv2:/moved\n/srv/e srv9:/export\n") == 0,
		   "rewrite: a direct map with the new path (%s)", err.msg);
	free(text);
	free(backup);
	nm_fstab_hits_free(hits, n);

	/* A map that is a symbolic link is read through (its lines said); a
	 * file that cannot be read is listed, and err says the first one, not
	 * a message err held before. */
	snprintf(p, sizeof(p), "%s/etc/auto.misc", root);
	unlink(p);
	if (symlink("/etc/auto.direct", p) != 0) /* absolute: within the root */
		perror("symlink");
	snprintf(p, sizeof(p), "%s/etc/auto.master.d/loop.autofs", root);
	if (symlink("loop.autofs", p) != 0)
		perror("symlink");
	hits = NULL;
	n = 0;
	{
		struct nm_fstab_unread *ur = NULL;
		size_t nur = 0;
		const char *const one[] = { "srv2" };

		nm_err_set(&err, -EIO, "a message from before");
		rc = nm_fstab_scan_report(root, one, 1, "/moved", &hits, &n, &ur, &nur, &err);
		UNIT_CHECK(u,
			   rc == 1 && n == 2 && strcmp(hits[0].file, "/etc/auto.misc") == 0 &&
				   strcmp(hits[1].file, "/etc/auto.direct") == 0,
			   "scan: a map that is a symbolic link is read through, within the root "
			   "(%d, %zu)",
			   rc, n);
		UNIT_CHECK(u,
			   nur == 1 && strcmp(ur[0].file, "/etc/auto.master.d/loop.autofs") == 0 &&
				   ur[0].code == -ELOOP && strstr(ur[0].error, "/etc/") == NULL,
			   "scan: a file that cannot be read is listed, its error without its "
			   "name: %s",
			   nur ? ur[0].error : "(none)");
		UNIT_CHECK(u,
			   strncmp(err.msg, "/etc/auto.master.d/loop.autofs: ", 32) == 0 &&
				   !strstr(err.msg, root),
			   "scan: err names the unread file once, not the root: %s", err.msg);
		nm_fstab_unread_free(ur, nur);
	}
	/* --apply refuses the link, naming its target; the target untouched. */
	snprintf(p, sizeof(p), "%s/etc/auto.direct", root);
	text = slurp(p);
	rc = nm_fstab_rewrite(root, "/etc/auto.misc", hits, n, "srv3", NULL, &backup, &err);
	{
		char *after = slurp(p);

		UNIT_CHECK(u,
			   rc == -ELOOP && !backup &&
				   strstr(err.msg, "symbolic link to /etc/auto.direct") && text &&
				   after && strcmp(text, after) == 0,
			   "rewrite: a symbolic link refused, its target named: %s", err.msg);
		free(after);
	}
	free(text);
	nm_fstab_hits_free(hits, n);
}

/* Which mount owns a line: the longest export, moved or not; in fstab the
 * one mounted where the line mounts. */
static void test_owner(struct unit *u)
{
	static const char *const s1[] = { "srv1", "192.0.2.1" };
	static const char *const s9[] = { "srv9" };
	const char *text = "srv1:/export /mnt/a nfs4 rw 0 0\n"	      /* 1: a */
			   "srv1:/export/sub /mnt/b nfs4 rw 0 0\n"    /* 2: b */
			   "srv1:/export/sub/x /mnt/x nfs4 rw 0 0\n"  /* 3: b */
			   "srv1:/export/subway /mnt/w nfs4 rw 0 0\n" /* 4: a */
			   "192.0.2.1:/export /mnt/a2 nfs4 rw 0 0\n"  /* 5: a (first) */
			   "srv1:/export /mnt/a3 nfs4 rw 0 0\n";      /* 6: a3 */
	struct nm_fstab_claim c[] = {
		{ s1, 2, "/export", "/mnt/a", true },
		{ s1, 2, "/export/sub/", "/mnt/b", false },
		{ s9, 1, "/export/sub/x", "/mnt/z", true }, /* another server */
		{ s1, 2, "/export", "/mnt/a3", true },
	};
	static const long want[] = { 0, 1, 1, 0, 0, 3 };
	struct nm_fstab_hit *hits = NULL;
	struct nm_err err = { 0 };
	size_t n = 0;
	int rc = nm_fstab_match_text("/etc/fstab", NM_FSTAB_FSTAB, text, strlen(text), s1, 2,
				     "/export", &hits, &n, &err);

	UNIT_CHECK(u, rc == 0 && n == 6, "owner: 6 lines under /export (%zu)", n);
	for (size_t i = 0; i < n && i < 6; i++) {
		long o = nm_fstab_owner(&hits[i], c, 4);

		UNIT_CHECK(u, o == want[i], "owner: line %u is claim %ld's (%ld)", hits[i].line,
			   want[i], o);
	}
	UNIT_CHECK(u, n > 0 && nm_fstab_owner(&hits[0], c + 2, 1) == -1,
		   "owner: no claim of that server: none");
	nm_fstab_hits_free(hits, n);
}

/* autofs: an escaped backslash at a line's end, a multi-mount entry with
 * an offset of another type, a master map's -fstype=. */
static void test_autofs_specials(struct unit *u)
{
	static const char *const s1[] = { "srv1" };
	const char *bs = "a srv1:/export/x \\\\\nb srv1:/export/y\n";
	const char *multi = "m / srv1:/export/a /win -fstype=cifs ://srv1/export \\\n"
			    "  /n -ro srv1:/export/b\n"
			    "c -fstype=cifs / ://srv1/export /n -fstype=nfs4 srv1:/export/c\n";
	struct nm_fstab_hit *hits = NULL;
	struct nm_err err = { 0 };
	char **maps = NULL;
	size_t n = 0;
	int rc;

	rc = nm_fstab_match_text("/etc/auto.x", NM_FSTAB_AUTOFS, bs, strlen(bs), s1, 1, "/export",
				 &hits, &n, &err);
	UNIT_CHECK(u,
		   rc == 0 && n == 2 && hits[0].line == 1 && hits[1].line == 2 &&
			   strcmp(hits[1].key, "b") == 0,
		   "autofs: an escaped backslash at the end does not continue the line (%zu)", n);
	nm_fstab_hits_free(hits, n);
	hits = NULL;
	n = 0;
	rc = nm_fstab_match_text("/etc/auto.x", NM_FSTAB_AUTOFS, multi, strlen(multi), s1, 1,
				 "/export", &hits, &n, &err);
	UNIT_CHECK(u,
		   rc == 0 && n == 2 && hits[0].nspans == 2 && hits[0].line == 1 &&
			   hits[1].nspans == 1 && hits[1].line == 3,
		   "autofs: a multi-mount's cifs offset skipped, its NFS offsets kept (%zu)", n);
	nm_fstab_hits_free(hits, n);

	rc = nm_fstab_master_maps("/gl /etc/auto.gl -fstype=glusterfs\n"
				  "/n /etc/auto.n -fstype=nfs4,rw --timeout=60\n"
				  "/o /etc/auto.o --timeout=60\n",
				  strlen("/gl /etc/auto.gl -fstype=glusterfs\n"
					 "/n /etc/auto.n -fstype=nfs4,rw --timeout=60\n"
					 "/o /etc/auto.o --timeout=60\n"),
				  &maps, NULL, &err);
	UNIT_CHECK(u,
		   rc == 0 && maps && maps[0] && strcmp(maps[0], "/etc/auto.n") == 0 && maps[1] &&
			   strcmp(maps[1], "/etc/auto.o") == 0 && !maps[2],
		   "master: a map of another -fstype= is not read");
	nm_fstab_strv_free(maps);
}

/* Paths that are not plain and new paths autofs would expand. */
static void test_propose_paths(struct unit *u)
{
	static const char *const s1[] = { "srv1" };
	static const struct {
		enum nm_fstab_kind kind;
		const char *text, *new_path, *want; /* want NULL: refused */
	} t[] = {
		{ NM_FSTAB_FSTAB, "srv1:/export/../other /m nfs4 rw 0 0", NULL, NULL },
		{ NM_FSTAB_FSTAB, "srv1:/export/./x /m nfs4 rw 0 0", NULL, NULL },
		{ NM_FSTAB_FSTAB, "srv1:/export//x /m nfs4 rw 0 0", NULL, NULL },
		{ NM_FSTAB_FSTAB, "srv1:/export/\\056\\056/x /m nfs4 rw 0 0", NULL, NULL },
		{ NM_FSTAB_AUTOFS, "k srv1:/export/..", NULL, NULL },
		{ NM_FSTAB_FSTAB, "srv1:/export/..x/.y /m nfs4 rw 0 0", NULL,
		  "srv2:/export/..x/.y /m nfs4 rw 0 0" },
		{ NM_FSTAB_AUTOFS, "k srv1:/export/a", "/n&w", NULL },
		{ NM_FSTAB_AUTOFS, "k srv1:/export/a", "/$HOME", NULL },
		{ NM_FSTAB_AUTOFS, "k srv1:/export/a", "/it's", NULL },
		{ NM_FSTAB_AUTOFS, "k srv1:/export/a", "/a b", NULL },
		{ NM_FSTAB_AUTOFS, "k srv1:/export/a", "/a\\b", NULL },
		{ NM_FSTAB_AUTOFS, "k srv1:/export/a", "/n-w_1", "k srv2:/n-w_1/a" },
		{ NM_FSTAB_FSTAB, "srv1:/export/a /m nfs4 rw 0 0", "/a b",
		  "srv2:/a\\040b/a /m nfs4 rw 0 0" },
		{ NM_FSTAB_FSTAB, "srv1:/export/a /m nfs4 rw 0 0", "/a\nb", NULL },
		{ NM_FSTAB_FSTAB, "srv1:/export/a /m nfs4 rw 0 0", "/n&$w",
		  "srv2:/n&$w/a /m nfs4 rw 0 0" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nm_fstab_hit *hits = NULL;
		struct nm_err err = { 0 };
		char *line = NULL;
		size_t n = 0;
		int rc = nm_fstab_match_text("/etc/x", t[i].kind, t[i].text, strlen(t[i].text), s1,
					     1, "/export", &hits, &n, &err);

		if (rc == 0 && n == 1)
			rc = nm_fstab_propose(&hits[0], "srv2", t[i].new_path, &line, &err);
		if (t[i].want)
			UNIT_CHECK(u, n == 1 && rc == 0 && line && strcmp(line, t[i].want) == 0,
				   "propose path %zu: %s", i, line ? line : err.msg);
		else
			UNIT_CHECK(u, n == 1 && rc == -EINVAL && !line && err.msg[0],
				   "propose path %zu refused: %s", i, err.msg);
		free(line);
		nm_fstab_hits_free(hits, n);
	}
}

/* nm_afile's own checks: a file changed after the read (same size, or
 * another inode) is not replaced; a directory that cannot be synced is
 * said, the backup named; our old temporaries are swept. */
static int fail_dir_fsync;

int fsync(int fd)
{
	struct stat st;

	if (fail_dir_fsync && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

static void test_afile(struct unit *u, const char *base)
{
	char d[600], p[700], q[700], old_tmp[800], young_tmp[800], other[800], *t, *backup = NULL;
	struct nm_afile f;
	struct nm_err err = { 0 };
	struct timespec ts[2] = { { .tv_sec = 1000 }, { .tv_sec = 1000 } };
	int rc;

	snprintf(d, sizeof(d), "%s/afile", base);
	mkdir(d, 0755);
	snprintf(p, sizeof(p), "%s/tab", d);
	write_file(p, "one\n", 0644);

	/* Same size, new bytes and mtime: -ESTALE, the other writer's text kept. */
	nm_afile_read(p, 1024, &f, &err);
	ts[0].tv_sec = ts[1].tv_sec = f.st.st_mtim.tv_sec - 5;
	write_file(p, "two\n", 0644);
	utimensat(AT_FDCWD, p, ts, 0); /* mtime differs, size the same */
	rc = nm_afile_replace(p, &f, "new\n", 4, ".bak", &backup, &err);
	t = slurp(p);
	UNIT_CHECK(u, rc == -ESTALE && !backup && t && strcmp(t, "two\n") == 0,
		   "afile: changed in place after the read: -ESTALE, not replaced");
	free(t);
	nm_afile_free(&f);

	/* Another inode, same size and mtime: -ESTALE. */
	nm_afile_read(p, 1024, &f, &err);
	snprintf(q, sizeof(q), "%s/tab.other", d);
	write_file(q, "two\n", 0644);
	ts[0] = f.st.st_mtim, ts[1] = f.st.st_mtim;
	utimensat(AT_FDCWD, q, ts, 0);
	rename(q, p);
	rc = nm_afile_replace(p, &f, "new\n", 4, ".bak", &backup, &err);
	UNIT_CHECK(u, rc == -ESTALE && !backup, "afile: replaced by another inode: -ESTALE");
	nm_afile_free(&f);

	/* Temporaries: an old one of ours goes; a young one, and one not of
	 * our exact pattern, stay. */
	snprintf(old_tmp, sizeof(old_tmp), "%s/.tab.nfsmig-0123456789ab", d);
	snprintf(young_tmp, sizeof(young_tmp), "%s/.tab.nfsmig-ba9876543210", d);
	snprintf(other, sizeof(other), "%s/.tab.nfsmig-0123456789abc", d);
	write_file(old_tmp, "x", 0600);
	write_file(young_tmp, "x", 0600);
	write_file(other, "x", 0600);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 120;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	utimensat(AT_FDCWD, old_tmp, ts, 0);
	utimensat(AT_FDCWD, other, ts, 0);

	/* The directory's fsync fails: replaced, said, the backup named. */
	nm_afile_read(p, 1024, &f, &err);
	fail_dir_fsync = 1;
	rc = nm_afile_replace(p, &f, "new\n", 4, ".bak", &backup, &err);
	fail_dir_fsync = 0;
	t = slurp(p);
	UNIT_CHECK(u,
		   rc == NM_AFILE_UNSYNCED && backup && strstr(backup, "/tab.bak") && t &&
			   strcmp(t, "new\n") == 0 && strstr(err.msg, "not synced"),
		   "afile: the directory not synced: replaced, said, backup %s: %s",
		   backup ? backup : "(none)", err.msg);
	free(t);
	free(backup);
	backup = NULL;
	nm_afile_free(&f);
	UNIT_CHECK(u,
		   access(old_tmp, F_OK) != 0 && access(young_tmp, F_OK) == 0 &&
			   access(other, F_OK) == 0,
		   "afile: an old temporary of ours swept, a young one and another name kept");
}

int main(void)
{
	struct unit u = { 0 };
	char base[] = "/tmp/nfsmig-meta-XXXXXX", cmd[600];

	unit_start();
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	test_utab_merge(&u);
	test_utab_text(&u);
	test_utab_stale(&u);
	test_mtab_text(&u);
	test_mtab_file(&u, base);
	test_fstab_pure(&u);
	test_fstab_match(&u);
	test_propose_bad(&u);
	test_master(&u);
	test_move_of(&u);
	test_scan_rewrite(&u, base);
	test_owner(&u);
	test_propose_paths(&u);
	test_autofs_specials(&u);
	test_afile(&u, base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", base);
	return unit_done(&u);
}
