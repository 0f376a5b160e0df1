/* The state store: round trip, torn writes, truncated and corrupt records,
 * a newer writer's keys, symlinks, setting aside, a full disk. */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nm_store.h"
#include "nm_time.h"
#include "unit.h"

#define BADFSID	 "nfsmig-state 1\nmountpoint=/m\nsource=s:/\nfsid=1\nend\n"
#define BADFH	 "nfsmig-state 1\nmountpoint=/m\nsource=s:/\nroot_fh=zz\nend\n"
#define BADPROBE "nfsmig-state 1\nmountpoint=/m\nsource=s:/\nprobe_fh=0a0\nend\n"

static const char *odd_mount = "/mnt/a b%c\td/x.y-z";

static void sample(struct nm_record *r)
{
	memset(r, 0, sizeof(*r));
	r->mountpoint = strdup(odd_mount);
	r->source = strdup("srv1.example:/export/a b");
	r->orig_server = strdup("192.0.2.11");
	r->cur_server = strdup("2001:db8::12");
	r->export_path = strdup("/export/a b");
	r->sec = strdup("sys");
	r->vers = 4;
	r->minor = 1;
	r->registered = 1795490195;
	r->root_fh_len = 28;
	for (unsigned i = 0; i < r->root_fh_len; i++)
		r->root_fh[i] = (unsigned char)(i * 37);
	r->fsid_major = 9310058551751936460ULL;
	r->fsid_minor = 7;
	r->fileid = 42;
	r->fh_expire_type = 4;
	r->probe_name = strdup("a file\twith odd%name");
	r->probe_fh_len = 36;
	for (unsigned i = 0; i < r->probe_fh_len; i++)
		r->probe_fh[i] = (unsigned char)(255 - i * 7);
	r->probe_fileid = 1234567890123ULL;
	nm_record_add_location(r, "srv2.example:/export/a b");
	nm_record_add_location(r, "[2001:db8::12]:/export");
	nm_record_add_move(r, 1795490300, "192.0.2.11", "192.0.2.12");
}

static int same(const struct nm_record *a, const struct nm_record *b)
{
	if (strcmp(a->mountpoint, b->mountpoint) || strcmp(a->source, b->source) ||
	    strcmp(a->orig_server, b->orig_server) || strcmp(a->cur_server, b->cur_server) ||
	    strcmp(a->export_path, b->export_path) || strcmp(a->sec, b->sec) ||
	    a->vers != b->vers || a->minor != b->minor || a->registered != b->registered ||
	    a->root_fh_len != b->root_fh_len || memcmp(a->root_fh, b->root_fh, a->root_fh_len) ||
	    a->fsid_major != b->fsid_major || a->fsid_minor != b->fsid_minor ||
	    a->fileid != b->fileid || a->fh_expire_type != b->fh_expire_type ||
	    !a->probe_name != !b->probe_name ||
	    (a->probe_name && strcmp(a->probe_name, b->probe_name)) ||
	    a->probe_fh_len != b->probe_fh_len ||
	    memcmp(a->probe_fh, b->probe_fh, a->probe_fh_len) ||
	    a->probe_fileid != b->probe_fileid || a->nlocations != b->nlocations ||
	    a->nmoves != b->nmoves)
		return 0;
	for (size_t i = 0; i < a->nlocations; i++)
		if (strcmp(a->locations[i], b->locations[i]))
			return 0;
	for (size_t i = 0; i < a->nmoves; i++)
		if (a->moves[i].time != b->moves[i].time ||
		    strcmp(a->moves[i].from, b->moves[i].from) ||
		    strcmp(a->moves[i].to, b->moves[i].to) ||
		    !a->moves[i].trigger != !b->moves[i].trigger ||
		    (a->moves[i].trigger && strcmp(a->moves[i].trigger, b->moves[i].trigger)))
			return 0;
	if (!a->pending != !b->pending || (a->pending && strcmp(a->pending, b->pending)))
		return 0;
	if (!a->mount_id != !b->mount_id || (a->mount_id && strcmp(a->mount_id, b->mount_id)))
		return 0;
	return 1;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = malloc(NM_STORE_MAX_BYTES);

	*len = f ? fread(buf, 1, NM_STORE_MAX_BYTES, f) : 0;
	if (f)
		fclose(f);
	return buf;
}

static void test_store(struct unit *u, const char *dir)
{
	struct nm_record a, b;
	struct nm_err err = { 0 };
	char name[256], path[512], tmp[600];
	size_t len;
	char *text;
	FILE *f;
	int bad = 0, silent = 0;

	sample(&a);
	UNIT_CHECK(u,
		   nm_store_name(odd_mount, name, sizeof(name), &err) == 0 &&
			   strchr(name, '/') == NULL &&
			   strcmp(name + strlen(name) - 6, ".state") == 0,
		   "store: a file name for an odd mount point (%s)", name);
	UNIT_CHECK(u, nm_store_save(dir, &a, &err) == 0, "store: save (%s)", err.msg);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct stat st;
	UNIT_CHECK(u, stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
		   "store: the record is 0600");
	UNIT_CHECK(u, nm_store_load(dir, odd_mount, &b, &err) == 0 && same(&a, &b),
		   "store: round trip of every field (%s)", err.msg);
	nm_record_free(&b);

	/* A writer that dies in the middle of its write (killed by SIGXFSZ
	 * past a small file size limit): its half-written temporary file is
	 * left, the record is the old complete one, and the next writer is
	 * neither blocked by its lock nor by its file. */
	struct nm_record grown;

	sample(&grown);
	for (int i = 0; i < 40; i++)
		nm_record_add_location(&grown, "a-rather-long-location.example:/export/a/b/c/d");
	/* A test run may inherit SIGXFSZ ignored (a shell's trap, a CI
	 * runner): ignored here too, and the child must undo it. */
	void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
	pid_t pid = fork();

	if (pid == 0) {
		struct rlimit small = { 512, 512 }, none = { 0, 0 };

		signal(SIGXFSZ, SIG_DFL); /* an ignored one makes write fail instead */

		setrlimit(RLIMIT_CORE, &none);
		setrlimit(RLIMIT_FSIZE, &small);
		nm_store_save(dir, &grown, NULL);
		_exit(0); /* not reached: the write past 512 bytes kills it */
	}
	int status = 0;
	struct stat tst;

	waitpid(pid, &status, 0);
	signal(SIGXFSZ, was);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	UNIT_CHECK(u,
		   WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ && stat(tmp, &tst) == 0 &&
			   tst.st_size == 512,
		   "store: a writer killed in mid-write leaves a half temp file (status 0x%x)",
		   status);
	UNIT_CHECK(u, nm_store_load(dir, odd_mount, &b, &err) == 0 && same(&a, &b),
		   "store: and the record is the old complete one (%s)", err.msg);
	nm_record_free(&b);
	UNIT_CHECK(u,
		   nm_store_save(dir, &grown, &err) == 0 &&
			   nm_store_load(dir, odd_mount, &b, &err) == 0 && same(&grown, &b) &&
			   stat(tmp, &tst) < 0 && errno == ENOENT,
		   "store: the next save goes through and replaces the dead writer's file (%s)",
		   err.msg);
	nm_record_free(&b);
	nm_record_free(&grown);
	nm_record_add_move(&a, 1795490400, "192.0.2.12", "192.0.2.13");
	UNIT_CHECK(u,
		   nm_store_save(dir, &a, &err) == 0 &&
			   nm_store_load(dir, odd_mount, &b, &err) == 0 && b.nmoves == 2,
		   "store: saving again after a torn write");
	nm_record_free(&b);

	/* A record cut short on disk (a file system that lost its tail) is
	 * an error, never a partial load. */
	text = read_file(path, &len);
	f = fopen(path, "w");
	fwrite(text, 1, len - 5, f);
	fclose(f);
	UNIT_CHECK(u,
		   nm_store_load(dir, odd_mount, &b, &err) == -EBADMSG &&
			   strstr(err.msg, "truncated"),
		   "store: a record cut short on disk is an error: %s", err.msg);
	f = fopen(path, "w");
	fwrite(text, 1, len, f);
	fclose(f);
	free(text);

	/* Every truncation of the record: a clear error, never a half record. */
	text = read_file(path, &len);
	for (size_t cut = 0; cut + 1 < len; cut++) {
		memset(&err, 0, sizeof(err));
		if (nm_store_parse(text, cut, &b, &err) == 0) {
			bad++;
			nm_record_free(&b);
		} else if (!err.msg[0]) {
			silent++;
		}
	}
	UNIT_CHECK(u, bad == 0 && silent == 0,
		   "store: all %zu truncations are errors with a message (%d parsed, %d silent)",
		   len, bad, silent);

	/* Every byte replaced: parsed or refused, no crash, no leak. */
	bad = 0;
	for (size_t pos = 0; pos < len; pos++) {
		char *c = malloc(len);

		memcpy(c, text, len);
		c[pos] = (char)(c[pos] ^ 0x5a);
		memset(&err, 0, sizeof(err));
		if (nm_store_parse(c, len, &b, &err) == 0)
			nm_record_free(&b);
		else if (!err.msg[0])
			bad++;
		free(c);
	}
	UNIT_CHECK(u, bad == 0, "store: %zu corrupted copies are parsed or refused with a reason",
		   len);

	/* An older writer's record: only the keys every version has.  The
	 * rest take their defaults (minor -1: unknown, no handle, no lists). */
	const char *older = "nfsmig-state 1\nmountpoint=/mnt/old\nsource=srv:/export\nend\n";
	UNIT_CHECK(u,
		   nm_store_parse(older, strlen(older), &b, &err) == 0 && b.minor == -1 &&
			   b.root_fh_len == 0 && b.nlocations == 0 && b.nmoves == 0 &&
			   strcmp(b.orig_server, "") == 0 && strcmp(b.cur_server, "") == 0 &&
			   strcmp(b.export_path, "/") == 0 && strcmp(b.sec, "sys") == 0,
		   "store: a record with only the first keys loads, the rest defaulted");
	nm_record_free(&b);

	/* A newer writer's keys are skipped. */
	char *newer = malloc(len + 64);
	size_t nl = (size_t)(strstr(text, "end\n") - text);
	memcpy(newer, text, nl);
	strcpy(newer + nl, "future_key=whatever\nend\n");
	UNIT_CHECK(u, nm_store_parse(newer, strlen(newer), &b, &err) == 0 && same(&a, &b),
		   "store: unknown keys of a newer version are skipped");
	nm_record_free(&b);
	free(newer);
	UNIT_CHECK(u,
		   nm_store_parse(BADFSID, strlen(BADFSID), &b, &err) == -EBADMSG &&
			   strstr(err.msg, "line 4"),
		   "store: a bad value names its line: %s", err.msg);
	UNIT_CHECK(u, nm_store_parse(BADFH, strlen(BADFH), &b, &err) == -EBADMSG,
		   "store: a bad file handle is refused");
	UNIT_CHECK(u, nm_store_parse(BADPROBE, strlen(BADPROBE), &b, &err) == -EBADMSG,
		   "store: a bad entry file handle (odd hex) is refused: %s", err.msg);
	struct nm_record empty = { 0 };

	UNIT_CHECK(u,
		   nm_record_add_move(&empty, 1, "", "b") == -EINVAL &&
			   nm_record_add_move(&empty, 1, "a", "") == -EINVAL &&
			   nm_record_add_move(&empty, 1, "a b", "c") == -E2BIG && empty.nmoves == 0,
		   "store: a move that would not read back is refused");
	struct nm_record mv = { .orig_server = "192.0.2.11" }, unknown = { .orig_server = "" };

	UNIT_CHECK(u,
		   nm_record_moved(&mv, "192.0.2.12") && !nm_record_moved(&mv, "192.0.2.11") &&
			   !nm_record_moved(&unknown, "192.0.2.12"),
		   "store: moved means another server than at registration; unknown is not moved");
	free(text);

	/* A corrupt record on disk: reported, set aside, then gone. */
	f = fopen(path, "w");
	fputs("\x7f"
	      "ELF garbage\n",
	      f);
	fclose(f);
	UNIT_CHECK(u, nm_store_load(dir, odd_mount, &b, &err) == -EBADMSG && strstr(err.msg, name),
		   "store: a corrupt record is reported: %s", err.msg);
	UNIT_CHECK(u,
		   nm_store_set_aside(dir, odd_mount, &err) == 0 &&
			   nm_store_load(dir, odd_mount, &b, &err) == -ENOENT &&
			   strstr(err.msg, "register it first"),
		   "store: set aside, the mount has no record: %s", err.msg);

	/* A symlink where the record should be is not followed. */
	unlink(path);
	UNIT_CHECK(u,
		   symlink("/etc/passwd", path) == 0 &&
			   nm_store_load(dir, odd_mount, &b, &err) == -EBADMSG,
		   "store: a symlink in place of a record is not followed: %s", err.msg);
	unlink(path);
	UNIT_CHECK(u,
		   nm_store_load("/nonexistent/state", odd_mount, &b, &err) == -ENOENT &&
			   strstr(err.msg, "state directory"),
		   "store: a missing state directory is a clear error: %s", err.msg);
	nm_record_free(&a);
}

struct add_arg {
	const char *from, *to;
	int calls;
};

static int add_move_cb(struct nm_record *r, const struct nm_store_update *up, void *arg,
		       struct nm_err *err)
{
	struct add_arg *x = arg;

	(void)up;
	x->calls++;
	if (!x->to)
		return 1;
	if (strcmp(x->to, "fail") == 0)
		return nm_err_set(err, -EIO, "refused by the callback");
	if (!r->mountpoint) {
		r->mountpoint = strdup(odd_mount);
		r->source = strdup("srv:/new");
	}
	return nm_record_add_move(r, 1, x->from, x->to) < 0 ? -E2BIG : 0;
}

/* A record the first versions saved under the whole encoded name of a
 * long mount point (stems up to 238 bytes, now hashed from 195): still
 * found, and the first writer gives it its new name. */
static void test_old_name(struct unit *u, const char *dir)
{
	char mp[240], oldp[600], newp[600], name[256];
	struct nm_record b;
	struct nm_err err = { 0 };
	struct add_arg x = { "a", "b", 0 };
	struct stat st;

	mp[0] = '/';
	memset(mp + 1, 'o', 229);
	mp[230] = '\0';
	snprintf(oldp, sizeof(oldp), "%s/-%.*s.state", dir, 229, mp + 1);
	nm_store_name(mp, name, sizeof(name), &err);
	snprintf(newp, sizeof(newp), "%s/%s", dir, name);
	FILE *f = fopen(oldp, "w");

	fprintf(f, "nfsmig-state 1\nmountpoint=%s\nsource=s:/x\nend\n", mp);
	fclose(f);
	UNIT_CHECK(u,
		   nm_store_load(dir, mp, &b, &err) == 0 && strcmp(b.source, "s:/x") == 0 &&
			   strchr(name, '~'),
		   "store: a record under the first versions' long name is found (%s)", err.msg);
	nm_record_free(&b);
	UNIT_CHECK(u,
		   nm_store_update(dir, mp, NULL, add_move_cb, &x, &err) == 0 &&
			   stat(oldp, &st) < 0 && errno == ENOENT && stat(newp, &st) == 0 &&
			   nm_store_load(dir, mp, &b, &err) == 0 && b.nmoves == 1 &&
			   strcmp(b.source, "s:/x") == 0,
		   "store: the first writer renames it to its new name, the move added (%s)",
		   err.msg);
	nm_record_free(&b);
}

/* Long mount points: every name the store makes fits in NAME_MAX, the
 * same mount point always gets the same name, two get two. */
static void test_long_names(struct unit *u, const char *dir)
{
	char mp1[300], mp2[300], mp3[200], n1[256], n2[256], n3[256];
	struct nm_record a, b;
	struct nm_err err = { 0 };
	int ok = 1;

	UNIT_CHECK(u,
		   nm_store_name("/mnt/x y", n1, sizeof(n1), &err) == 0 &&
			   strcmp(n1, "-mnt-x%20y.state") == 0,
		   "store: a short mount point keeps its name (%s)", n1);
	/* 250 characters, then the same but the last; and one of 100
	 * characters that each take three in the name. */
	memset(mp1, 'm', 250);
	mp1[0] = '/';
	mp1[250] = '\0';
	memcpy(mp2, mp1, 251);
	mp2[249] = 'n';
	mp3[0] = '/';
	memset(mp3 + 1, '.', 99);
	mp3[100] = '\0';
	UNIT_CHECK(u,
		   nm_store_name(mp1, n1, sizeof(n1), &err) == 0 &&
			   nm_store_name(mp2, n2, sizeof(n2), &err) == 0 &&
			   nm_store_name(mp3, n3, sizeof(n3), &err) == 0 && strlen(n1) <= 200 &&
			   strlen(n2) <= 200 && strlen(n3) <= 200 && strcmp(n1, n2) != 0 &&
			   strchr(n1, '~') && strchr(n3, '~'),
		   "store: mount points of 250 characters get distinct names of <= 200 (%zu)",
		   strlen(n1));
	nm_store_name(mp1, n2, sizeof(n2), &err);
	UNIT_CHECK(u, strcmp(n1, n2) == 0, "store: and always the same one");
	UNIT_CHECK(u, nm_store_name(mp1, n1, 100, &err) == -ENAMETOOLONG,
		   "store: a buffer too small for a name is refused");
	/* The boundary: an encoding of 194 bytes is kept whole (a name of
	 * 200), one of 195 is hashed; a mount point whose last character
	 * takes one byte is not hashed for the three another would take. */
	char edge[200];

	memset(edge, 'e', sizeof(edge));
	edge[0] = '/';
	edge[194] = '\0';
	UNIT_CHECK(u,
		   nm_store_name(edge, n1, sizeof(n1), &err) == 0 && strlen(n1) == 200 &&
			   !strchr(n1, '~'),
		   "store: a name of 200 bytes is kept whole (%zu)", strlen(n1));
	edge[194] = 'e';
	edge[195] = '\0';
	UNIT_CHECK(u,
		   nm_store_name(edge, n1, sizeof(n1), &err) == 0 && strlen(n1) <= 200 &&
			   strchr(n1, '~'),
		   "store: one of 201 bytes is hashed (%zu)", strlen(n1));
	const char *mps[] = { mp1, mp2, mp3 };

	nm_err_clear(&err);
	for (size_t i = 0; i < 3; i++) {
		sample(&a);
		free(a.mountpoint);
		a.mountpoint = strdup(mps[i]);
		if (nm_store_save(dir, &a, &err) < 0 || nm_store_load(dir, mps[i], &b, &err) < 0) {
			printf("# %s\n", err.msg);
			ok = 0;
		} else {
			ok = ok && same(&a, &b);
			nm_record_free(&b);
		}
		nm_record_free(&a);
	}
	UNIT_CHECK(u, ok, "store: records of long mount points are saved and loaded (%s)", err.msg);
	nm_store_name(mp1, n1, sizeof(n1), &err);
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", dir, n1);
	FILE *f = fopen(path, "w");

	fputs("garbage\n", f);
	fclose(f);
	UNIT_CHECK(u,
		   nm_store_set_aside(dir, mp1, &err) == 0 &&
			   nm_store_load(dir, mp1, &b, &err) == -ENOENT,
		   "store: a long mount point's corrupt record is set aside (%s)", err.msg);
	/* The record of one mount point saved under another's name (a hash
	 * collision, or a copy) is refused, not taken for it. */
	char other[600];

	nm_store_name(mp2, n2, sizeof(n2), &err);
	snprintf(other, sizeof(other), "%s/%s", dir, n2);
	UNIT_CHECK(u,
		   rename(other, path) == 0 && nm_store_load(dir, mp1, &b, &err) == -ENOTUNIQ &&
			   strstr(err.msg, "another mount point"),
		   "store: a record under another's name is refused: %s", err.msg);
	/* And it is not corrupt: an update that would set a corrupt one
	 * aside leaves it where it is, as it is. */
	struct nm_store_update up = { .flags = NM_STORE_CREATE | NM_STORE_SET_ASIDE };
	struct add_arg x = { "a", "b", 0 };
	struct stat st1, st2;

	stat(path, &st1);
	int rc = nm_store_update(dir, mp1, &up, add_move_cb, &x, &err);

	UNIT_CHECK(u,
		   rc == -ENOTUNIQ && up.found == -ENOTUNIQ && up.aside[0] == '\0' &&
			   x.calls == 0 && stat(path, &st2) == 0 && st1.st_ino == st2.st_ino &&
			   st1.st_mtime == st2.st_mtime && nm_store_load(dir, mp2, &b, &err) < 0,
		   "store: a record of another mount point is never set aside (%d): %s", rc,
		   err.msg);
}

static int wrong_cb(struct nm_record *r, const struct nm_store_update *up, void *arg,
		    struct nm_err *err)
{
	(void)up;
	(void)arg;
	(void)err;
	r->mountpoint = strdup("/elsewhere");
	r->source = strdup("srv:/");
	return 0;
}

/* nm_store_update: missing, corrupt, no change, a failing callback. */
static void test_update(struct unit *u, const char *dir)
{
	struct nm_store_update up = { 0 };
	struct add_arg x = { "a", "b", 0 };
	struct nm_record b;
	struct nm_err err = { 0 };
	char name[256], path[600], aside[700];
	struct stat st1, st2;

	nm_store_name(odd_mount, name, sizeof(name), &err);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	UNIT_CHECK(u,
		   nm_store_update(dir, odd_mount, NULL, add_move_cb, &x, &err) == -ENOENT &&
			   x.calls == 0,
		   "store: update of no record is -ENOENT, the callback not called: %s", err.msg);
	up.flags = NM_STORE_CREATE;
	UNIT_CHECK(u,
		   nm_store_update(dir, odd_mount, &up, add_move_cb, &x, &err) == 0 &&
			   up.found == -ENOENT && x.calls == 1 &&
			   nm_store_load(dir, odd_mount, &b, &err) == 0 && b.nmoves == 1,
		   "store: update with NM_STORE_CREATE makes the record (%s)", err.msg);
	nm_record_free(&b);
	stat(path, &st1);
	x.to = NULL;
	UNIT_CHECK(u,
		   nm_store_update(dir, odd_mount, NULL, add_move_cb, &x, &err) == 0 &&
			   stat(path, &st2) == 0 && st1.st_ino == st2.st_ino,
		   "store: a callback that changes nothing writes nothing");
	x.to = "fail";
	UNIT_CHECK(u,
		   nm_store_update(dir, odd_mount, NULL, add_move_cb, &x, &err) == -EIO &&
			   strstr(err.msg, "refused") && stat(path, &st2) == 0 &&
			   st1.st_ino == st2.st_ino,
		   "store: a failing callback's error is returned, nothing written: %s", err.msg);
	FILE *f = fopen(path, "w");

	fputs("nfsmig-state 1\nmountpoint=/x\nsource=s:/\n", f);
	fclose(f);
	x.to = "b";
	x.calls = 0;
	up.flags = 0;
	UNIT_CHECK(u,
		   nm_store_update(dir, odd_mount, &up, add_move_cb, &x, &err) == -EBADMSG &&
			   x.calls == 0 && up.found == -EBADMSG && strstr(err.msg, "truncated"),
		   "store: update of a corrupt record is -EBADMSG without NM_STORE_SET_ASIDE: %s",
		   err.msg);
	up.flags = NM_STORE_SET_ASIDE;
	int rc = nm_store_update(dir, odd_mount, &up, add_move_cb, &x, &err);

	snprintf(aside, sizeof(aside), "%s/%s", dir, up.aside);
	UNIT_CHECK(u,
		   rc == 0 && up.found == -EBADMSG && strstr(up.why.msg, "truncated") &&
			   strncmp(up.aside, name, strlen(name)) == 0 &&
			   strstr(up.aside, ".corrupt-") && stat(aside, &st1) == 0 &&
			   nm_store_load(dir, odd_mount, &b, &err) == 0 && b.nmoves == 1,
		   "store: with NM_STORE_SET_ASIDE the corrupt record is kept as %s", up.aside);
	nm_record_free(&b);
	/* A callback that makes a record of another mount point: refused,
	 * and a corrupt record is not set aside for it. */
	f = fopen(path, "w");
	fputs("garbage\n", f);
	fclose(f);
	x.to = "b";
	up.flags = NM_STORE_SET_ASIDE;
	rc = nm_store_update(dir, odd_mount, &up, wrong_cb, &x, &err);
	UNIT_CHECK(u,
		   rc == -EINVAL && up.aside[0] == '\0' &&
			   nm_store_load(dir, odd_mount, &b, &err) == -EBADMSG,
		   "store: a callback's record of another mount point is refused, nothing set "
		   "aside");
	/* Twice in the same second: the first one set aside stays. */
	f = fopen(path, "w");
	fputs("garbage\n", f);
	fclose(f);
	char first[sizeof(up.aside)];

	memcpy(first, up.aside, sizeof(first));
	UNIT_CHECK(u,
		   nm_store_update(dir, odd_mount, &up, add_move_cb, &x, &err) == 0 &&
			   strcmp(first, up.aside) != 0 && stat(aside, &st1) == 0,
		   "store: a second corrupt record set aside does not replace the first (%s)",
		   up.aside);
}

/* A record's name does not depend on the locale: a Latin-1 LC_CTYPE (as
 * readline sets it from the environment) takes 0xE9 for a letter. */
static void test_name_locale(struct unit *u, const char *base)
{
	char cmd[700], locdir[600], c_name[256], l_name[256];
	const char *mp = "/mnt/caf\xe9";

	snprintf(locdir, sizeof(locdir), "%s/locale", base);
	snprintf(cmd, sizeof(cmd),
		 "localedef -i de_DE -f ISO-8859-1 '%s/de_DE.ISO-8859-1' 2>/dev/null", locdir);
	nm_store_name(mp, c_name, sizeof(c_name), NULL);
	mkdir(locdir, 0700);
	if (system(cmd) != 0 || setenv("LOCPATH", locdir, 1) != 0 ||
	    !setlocale(LC_CTYPE, "de_DE.ISO-8859-1") || !isalnum(0xe9)) {
		printf("ok %d - store: name in a Latin-1 locale # SKIP no such locale\n", ++u->n);
		setlocale(LC_CTYPE, "C");
		return;
	}
	nm_store_name(mp, l_name, sizeof(l_name), NULL);
	setlocale(LC_CTYPE, "C");
	unsetenv("LOCPATH");
	UNIT_CHECK(u, strcmp(c_name, l_name) == 0 && strcmp(l_name, "-mnt-caf%E9.state") == 0,
		   "store: a record's name is the same in a Latin-1 locale (%s, %s)", c_name,
		   l_name);
}

/* A writer that keeps the lock (stopped, a hung disk): the next one waits
 * up to its deadline, then says so; it never waits for good. */
static void test_lock_held(struct unit *u, const char *dir)
{
	struct nm_store_update up = { .lock_ms = 300 };
	struct add_arg x = { "a", "c", 0 };
	struct nm_err err = { 0 };
	char name[256], lock[600];
	int fd;

	nm_store_name(odd_mount, name, sizeof(name), &err);
	snprintf(lock, sizeof(lock), "%s/.%s.lock", dir, name);
	fd = open(lock, O_RDWR | O_CLOEXEC);
	UNIT_CHECK(u, fd >= 0 && flock(fd, LOCK_EX) == 0, "store: the lock file is there");
	int64_t t0 = nm_time_ms();
	int rc = nm_store_update(dir, odd_mount, &up, add_move_cb, &x, &err);
	int64_t took = nm_time_ms() - t0;

	UNIT_CHECK(u,
		   rc == -EAGAIN && x.calls == 0 && took >= 300 && took < 3000 &&
			   strstr(err.msg, "another writer holds the record"),
		   "store: a lock held too long is -EAGAIN after %lld ms: %s", (long long)took,
		   err.msg);
	pid_t pid = fork();

	if (pid == 0) {
		nm_time_sleep_ms(200);
		_exit(0); /* its copy of fd goes; the parent's below */
	}
	nm_time_sleep_ms(100);
	close(fd); /* the child's copy keeps the lock until it exits */
	t0 = nm_time_ms();
	up.lock_ms = 0;
	rc = nm_store_update(dir, odd_mount, &up, add_move_cb, &x, &err);
	took = nm_time_ms() - t0;
	waitpid(pid, NULL, 0);
	UNIT_CHECK(u, rc == 0 && x.calls == 1 && took >= 50,
		   "store: a lock held a while is waited for (%lld ms): %s", (long long)took,
		   err.msg);
}

/* The lock file removed while a writer waits for it, and a new one taken
 * by a later writer: the waiting writer must not take the removed one's
 * lock and write beside the later one.  A FIFO in its place is refused,
 * not waited on. */
static void test_lock_replaced(struct unit *u, const char *dir)
{
	struct nm_err err = { 0 };
	struct nm_record b;
	char name[256], lock[600];
	int fd1, fd2, status = -1, during = -1;

	nm_store_name(odd_mount, name, sizeof(name), &err);
	snprintf(lock, sizeof(lock), "%s/.%s.lock", dir, name);
	fd1 = open(lock, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	flock(fd1, LOCK_EX);
	pid_t pid = fork();

	if (pid == 0) {
		struct nm_store_update up = { .lock_ms = 10000 };
		struct add_arg x = { "q", "z1", 0 };

		struct nm_err e = { 0 };

		close(fd1); /* the lock is the parent's */
		int rc = nm_store_update(dir, odd_mount, &up, add_move_cb, &x, &e);

		if (rc < 0)
			printf("# %s\n", e.msg);
		_exit(rc == 0 ? 0 : 1);
	}
	nm_time_sleep_ms(300); /* the child has opened fd1's file and waits */
	unlink(lock);
	fd2 = open(lock, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	flock(fd2, LOCK_EX);
	close(fd1);
	nm_time_sleep_ms(400);
	if (nm_store_load(dir, odd_mount, &b, &err) == 0) {
		during = 0;
		for (size_t i = 0; i < b.nmoves; i++)
			during += strcmp(b.moves[i].to, "z1") == 0;
		nm_record_free(&b);
	}
	close(fd2);
	waitpid(pid, &status, 0);
	int after = 0;

	if (nm_store_load(dir, odd_mount, &b, &err) == 0) {
		for (size_t i = 0; i < b.nmoves; i++)
			after += strcmp(b.moves[i].to, "z1") == 0;
		nm_record_free(&b);
	}
	UNIT_CHECK(u, during == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && after == 1,
		   "store: a writer waiting on a removed lock file waits for the new one (%d "
		   "written while it was held, %d after)",
		   during, after);

	unlink(lock);
	mkfifo(lock, 0600);
	pid = fork();
	if (pid == 0) {
		struct add_arg x = { "q", "z2", 0 };

		_exit(nm_store_update(dir, odd_mount, NULL, add_move_cb, &x, NULL) == -EBADMSG ? 0
											       : 1);
	}
	int64_t t0 = nm_time_ms();

	status = -1;
	while (waitpid(pid, &status, WNOHANG) == 0 && nm_time_ms() - t0 < 3000)
		nm_time_sleep_ms(20);
	if (status == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	UNIT_CHECK(u, WIFEXITED(status) && WEXITSTATUS(status) == 0,
		   "store: a FIFO in place of the lock file is refused, not waited on");
	unlink(lock);
}

#define WRITERS 6
#define ROUNDS	40

static int count_moves(const struct nm_record *r, int w, int k)
{
	char from[32], to[32];
	int n = 0;

	snprintf(from, sizeof(from), "w%d", w);
	snprintf(to, sizeof(to), "r%d", k);
	for (size_t i = 0; i < r->nmoves; i++)
		n += strcmp(r->moves[i].from, from) == 0 && strcmp(r->moves[i].to, to) == 0;
	return n;
}

/* Writers in parallel processes, each adding its moves one update at a
 * time: none is lost. */
static void test_concurrent(struct unit *u, const char *dir)
{
	struct nm_record a, b;
	struct nm_err err = { 0 };
	pid_t pids[WRITERS];
	int failed = 0, missing = 0;

	sample(&a);
	nm_record_free(&a);
	sample(&a);
	a.nmoves = 0;
	free(a.moves[0].from);
	free(a.moves[0].to);
	UNIT_CHECK(u, nm_store_save(dir, &a, &err) == 0, "store: a record for the writers");
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		if (pids[w] == 0) {
			int bad = 0;

			for (int k = 0; k < ROUNDS; k++) {
				char from[32], to[32];
				struct add_arg x = { from, to, 0 };

				snprintf(from, sizeof(from), "w%d", w);
				snprintf(to, sizeof(to), "r%d", k);
				/* A long deadline: on a slow disk one writer may
				 * lose the race for the lock to the others often. */
				struct nm_store_update up = { .lock_ms = 120000 };

				bad += nm_store_update(dir, odd_mount, &up, add_move_cb, &x, NULL) <
				       0;
			}
			_exit(bad ? 1 : 0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int status;

		waitpid(pids[w], &status, 0);
		failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	UNIT_CHECK(u, nm_store_load(dir, odd_mount, &b, &err) == 0,
		   "store: the record after %d writers (%s)", WRITERS, err.msg);
	for (int w = 0; w < WRITERS; w++)
		for (int k = 0; k < ROUNDS; k++)
			missing += count_moves(&b, w, k) != 1;
	UNIT_CHECK(u, failed == 0 && missing == 0 && b.nmoves == WRITERS * ROUNDS,
		   "store: %d writers x %d updates: all %zu moves are there (%d lost, %d writers "
		   "failed)",
		   WRITERS, ROUNDS, b.nmoves, missing, failed);
	nm_record_free(&b);
	nm_record_free(&a);
}

/* A record that would be written larger than a record may be (a server's
 * long locations, each byte taking three): refused at save, the old
 * record kept, rather than saved and never loaded again. */
static void test_too_big(struct unit *u, const char *dir)
{
	struct nm_record a, b, big;
	struct nm_err err = { 0 };
	char loc[1001];

	sample(&a);
	nm_store_save(dir, &a, &err);
	sample(&big);
	memset(loc, '%', sizeof(loc) - 1);
	loc[sizeof(loc) - 1] = '\0';
	for (int i = 0; i < 100; i++)
		nm_record_add_location(&big, loc);
	UNIT_CHECK(u,
		   nm_store_save(dir, &big, &err) == -EFBIG && strstr(err.msg, "more than") &&
			   nm_store_load(dir, odd_mount, &b, &err) == 0 && same(&a, &b),
		   "store: a record too large to load is not saved, the old one kept: %s", err.msg);
	nm_record_free(&b);
	nm_record_free(&a);
	nm_record_free(&big);
}

/* Fills an empty record with a copy of arg. */
static int big_cb(struct nm_record *r, const struct nm_store_update *up, void *arg,
		  struct nm_err *err)
{
	(void)up;
	nm_record_free(r);
	return nm_record_copy(r, arg) < 0 ? nm_err_set(err, -ENOMEM, "out of memory") : 0;
}

/* A full disk: a tiny tmpfs (root only; reported as skipped otherwise). */
static void test_full_disk(struct unit *u, const char *base)
{
	char dir[512];
	struct nm_record a, b, big;
	struct nm_err err = { 0 };

	snprintf(dir, sizeof(dir), "%s/full", base);
	mkdir(dir, 0700);
	if (geteuid() != 0 || mount("tmpfs", dir, "tmpfs", 0, "size=16k") < 0) {
		printf("ok %d - store: full disk # SKIP needs root and tmpfs\n", ++u->n);
		return;
	}
	sample(&a);
	UNIT_CHECK(u, nm_store_save(dir, &a, &err) == 0, "store: save on a small file system");
	sample(&big);
	char loc[200];
	memset(loc, 'x', sizeof(loc) - 1);
	loc[sizeof(loc) - 1] = '\0';
	for (int i = 0; i < 250; i++)
		nm_record_add_location(&big, loc);
	UNIT_CHECK(u, nm_store_save(dir, &big, &err) == -ENOSPC,
		   "store: a save that does not fit fails: %s", err.msg);
	UNIT_CHECK(u, nm_store_load(dir, odd_mount, &b, &err) == 0 && same(&a, &b),
		   "store: and the old record is intact");
	nm_record_free(&b);
	/* A corrupt record to set aside, and a new one that does not fit:
	 * the corrupt one stays where it was, nothing set aside. */
	char path[800], name[256];

	nm_store_name(odd_mount, name, sizeof(name), &err);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	fputs("garbage\n", f);
	fclose(f);
	struct nm_store_update up = { .flags = NM_STORE_SET_ASIDE };
	int rc = nm_store_update(dir, odd_mount, &up, big_cb, &big, &err);
	size_t len;
	char *text = read_file(path, &len);
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "ls '%s' | grep -q corrupt", dir);
	UNIT_CHECK(u,
		   rc == -ENOSPC && up.found == -EBADMSG && len == 8 &&
			   memcmp(text, "garbage\n", 8) == 0 && system(cmd) != 0,
		   "store: a corrupt record whose replacement does not fit stays where it was (%d, "
		   "%zu bytes): %s",
		   rc, len, err.msg);
	free(text);
	nm_record_free(&a);
	nm_record_free(&big);
	umount(dir);
	rmdir(dir);
}

/* The move's trigger, a 4th word: an older record (three words) still
 * loads, a newer one reads back, and the pending marker round-trips. */
static void test_trigger(struct unit *u, const char *base)
{
	static const char OLD[] = "nfsmig-state 1\nmountpoint=/mnt/x\nsource=a:/x\n"
				  "move=1795490300 192.0.2.11 192.0.2.12\nend\n";
	static const char NEW[] =
		"nfsmig-state 1\nmountpoint=/mnt/x\nsource=a:/x\n"
		"move=1795490300 192.0.2.11 192.0.2.12\n"
		"move=1795490400 192.0.2.12 192.0.2.13 tracepoint:nfs4_state_mgr\n"
		"pending=migration%201795490400%20rescan\n"
		"mount_id=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0%2050%200:42\nend\n";
	static const char FIVE[] = "nfsmig-state 1\nmountpoint=/mnt/x\n"
				   "move=1795490300 192.0.2.11 192.0.2.12 rescan extra\nend\n";
	struct nm_record a = { 0 }, b = { 0 }, c = { 0 };
	struct nm_err err = { 0 };
	char dir[300], *text = NULL, path[600], name[NM_STORE_NAME_MAX + 1] = "";
	size_t len = 0;

	snprintf(dir, sizeof(dir), "%s/trigger", base);
	mkdir(dir, 0700);
	nm_store_name("/mnt/x", name, sizeof(name), &err);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	UNIT_CHECK(u,
		   nm_store_parse(OLD, strlen(OLD), &a, &err) == 0 && a.nmoves == 1 &&
			   a.moves[0].trigger == NULL && strcmp(a.moves[0].to, "192.0.2.12") == 0,
		   "store: a move of three words (an older record) loads, no trigger: %s", err.msg);
	nm_record_free(&a);
	UNIT_CHECK(u,
		   nm_store_parse(NEW, strlen(NEW), &a, &err) == 0 && a.nmoves == 2 &&
			   !a.moves[0].trigger &&
			   strcmp(a.moves[1].trigger, "tracepoint:nfs4_state_mgr") == 0 &&
			   a.pending && strcmp(a.pending, "migration 1795490400 rescan") == 0 &&
			   a.mount_id &&
			   strcmp(a.mount_id, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 50 0:42") == 0,
		   "store: a move's 4th word is its trigger; pending and mount_id are read: %s",
		   err.msg);
	if (nm_store_save(dir, &a, &err) == 0)
		text = read_file(path, &len);
	UNIT_CHECK(u,
		   text && strstr(text, "192.0.2.13%20tracepoint:nfs4_state_mgr\n") &&
			   strstr(text, "move=1795490300%20192.0.2.11%20192.0.2.12\n") &&
			   strstr(text, "pending=migration%201795490400%20rescan\n") &&
			   strstr(text,
				  "mount_id=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0%2050%200:42\n") &&
			   nm_store_load(dir, "/mnt/x", &b, &err) == 0 && same(&a, &b) &&
			   nm_record_copy(&c, &a) == 0 && same(&a, &c),
		   "store: triggers and pending are written, read back and copied");
	free(text);
	nm_record_free(&a);
	nm_record_free(&b);
	nm_record_free(&c);
	UNIT_CHECK(u, nm_store_parse(FIVE, strlen(FIVE), &a, &err) == -EBADMSG,
		   "store: a move of five words is refused");
	UNIT_CHECK(u,
		   nm_record_add_move_by(&a, 1, "a", "b", "") == -EINVAL &&
			   nm_record_add_move_by(&a, 1, "a", "b", "two words") == -E2BIG &&
			   a.nmoves == 0,
		   "store: a trigger that would not read back is refused");
	nm_record_free(&a);
}

/* A record keeps its last NM_STORE_MAX_LIST moves: the oldest one goes
 * when another comes (a mount moved back and forth for years), the
 * registration's server stays, and the record still saves and loads. */
static void test_moves_full(struct unit *u, const char *base)
{
	struct nm_record a = { 0 }, b = { 0 };
	struct nm_err err = { 0 };
	char dir[300], from[32], to[32];
	int bad = 0;

	snprintf(dir, sizeof(dir), "%s/full", base);
	mkdir(dir, 0700);
	a.mountpoint = strdup("/mnt/full");
	a.orig_server = strdup("192.0.2.1");
	a.cur_server = strdup("192.0.2.1");
	a.source = strdup("192.0.2.1:/full");
	a.export_path = strdup("/full");
	a.sec = strdup("sys");
	for (int k = 0; k < NM_STORE_MAX_LIST + 10; k++) {
		snprintf(from, sizeof(from), "s%d", k);
		snprintf(to, sizeof(to), "s%d", k + 1);
		bad += nm_record_add_move_by(&a, 1000 + k, from, to, "rescan") != 0;
	}
	UNIT_CHECK(u,
		   bad == 0 && a.nmoves == NM_STORE_MAX_LIST && a.moves[0].time == 1010 &&
			   strcmp(a.moves[0].from, "s10") == 0 &&
			   a.moves[NM_STORE_MAX_LIST - 1].time == 1000 + NM_STORE_MAX_LIST + 9 &&
			   strcmp(a.moves[NM_STORE_MAX_LIST - 1].to, "s266") == 0 &&
			   strcmp(a.orig_server, "192.0.2.1") == 0,
		   "store: past %d moves the oldest goes (%d refused, %zu kept, the first of %s)",
		   NM_STORE_MAX_LIST, bad, a.nmoves, a.nmoves ? a.moves[0].from : "none");
	UNIT_CHECK(u,
		   nm_record_add_move_by(&a, 1, "a b", "c", NULL) == -E2BIG &&
			   a.nmoves == NM_STORE_MAX_LIST && strcmp(a.moves[0].from, "s10") == 0,
		   "store: a full history refusing a bad move drops nothing");
	UNIT_CHECK(u,
		   nm_store_save(dir, &a, &err) == 0 &&
			   nm_store_load(dir, "/mnt/full", &b, &err) == 0 && same(&a, &b),
		   "store: a full history saves and loads: %s", err.msg);
	nm_record_free(&a);
	nm_record_free(&b);
}

int main(void)
{
	struct unit u = { 0 };
	char base[] = "/tmp/nfsmig-store-XXXXXX";

	unit_start();
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	test_store(&u, base);
	test_long_names(&u, base);
	test_old_name(&u, base);
	test_update(&u, base);
	test_name_locale(&u, base);
	test_lock_held(&u, base);
	test_lock_replaced(&u, base);
	test_concurrent(&u, base);
	test_too_big(&u, base);
	test_full_disk(&u, base);
	test_trigger(&u, base);
	test_moves_full(&u, base);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", base);
	return unit_done(&u);
}
