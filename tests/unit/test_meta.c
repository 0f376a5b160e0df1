/* The metadata kept true after a move: libmount's utab options (the pure
 * part), a regular-file /etc/mtab, and the fstab and autofs map lines that
 * still name the old server (nm_utab, nm_mtab, nm_fstab). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nm_afile.h"
#include "nm_fstab.h"
#include "nm_mtab.h"
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
				   "%s: hit %zu proposal: %s", m->name, i, line ? line : err.msg);
			free(line);
			line = NULL;
			rc = nm_fstab_propose(&hits[i], "srv2", "/new/", &line, &err);
			if (m->path_proposals[i])
				UNIT_CHECK(u,
					   rc == 0 && line &&
						   strcmp(line, m->path_proposals[i]) == 0,
					   "%s: hit %zu proposal with a path: %s", m->name, i,
					   line ? line : err.msg);
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

	/* A symbolic link is not followed. */
	snprintf(p, sizeof(p), "%s/etc/auto.misc", root);
	unlink(p);
	if (symlink("auto.direct", p) != 0)
		perror("symlink");
	hits = NULL;
	n = 0;
	rc = nm_fstab_scan(root, "srv2", "/moved", &hits, &n, &err);
	UNIT_CHECK(u, rc == 1 && n == 1 && strcmp(hits[0].file, "/etc/auto.direct") == 0,
		   "scan: a map that is a symbolic link is not read, and said (%s)", err.msg);
	nm_fstab_hits_free(hits, n);
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
	test_mtab_text(&u);
	test_mtab_file(&u, base);
	test_fstab_pure(&u);
	test_fstab_match(&u);
	test_propose_bad(&u);
	test_master(&u);
	test_scan_rewrite(&u, base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", base);
	return unit_done(&u);
}
