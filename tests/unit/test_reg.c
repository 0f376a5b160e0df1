/* Registering a mount: the root's path, the record built from a server's
 * answer, and what becomes of a record that is there already. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nm_nfs4.h"
#include "nm_reg.h"
#include "nm_served.h"
#include "unit.h"

static void test_root_path(struct unit *u)
{
	static const struct {
		const char *export, *root, *want;
	} t[] = {
		{ "/", "/", "/" },
		{ "/export", "/", "/export" },
		{ "/", "/sub", "/sub" },
		{ "/export/a", "/sub/dir", "/export/a/sub/dir" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nm_mount m = { .export_path = (char *)t[i].export,
				      .root = (char *)t[i].root };
		char *p = nm_reg_root_path(&m);

		UNIT_CHECK(u, p && strcmp(p, t[i].want) == 0,
			   "reg: export %s, root %s: the server path is %s (%s)", t[i].export,
			   t[i].root, t[i].want, p ? p : "(null)");
		free(p);
	}
}

static utf8str_cs comp(const char *s)
{
	utf8str_cs c = { (u_int)strlen(s), (char *)s };

	return c;
}

static utf8str_cis srv(const char *s)
{
	utf8str_cis c = { (u_int)strlen(s), (char *)s };

	return c;
}

/* A server's answer: a handle, fsid, fileid and two locations, one with
 * two servers, one of them named with an escape sequence. */
static void answer(struct nm_fsloc_root *root, utf8str_cs *path, utf8str_cis *servers,
		   fs_location4 *locs)
{
	memset(root, 0, sizeof(*root));
	root->fhlen = 20;
	for (unsigned i = 0; i < root->fhlen; i++)
		root->fh[i] = (unsigned char)(0xa0 + i);
	root->attrs.fsid.major = 0x11;
	root->attrs.fsid.minor = 0x22;
	root->attrs.fileid = 77;
	root->attrs.fh_expire_type = NM_FH4_VOLATILE_ANY;
	path[0] = comp("new");
	path[1] = comp("export");
	servers[0] = srv("srv-b.example");
	servers[1] = srv("10.0.0.2");
	servers[2] = srv("bad\x1b[31m");
	locs[0].server.server_len = 2;
	locs[0].server.server_val = servers;
	locs[0].rootpath.pathname4_len = 2;
	locs[0].rootpath.pathname4_val = path;
	locs[1].server.server_len = 1;
	locs[1].server.server_val = servers + 2;
	locs[1].rootpath.pathname4_len = 0;
	root->attrs.fs_locations.locations.locations_len = 2;
	root->attrs.fs_locations.locations.locations_val = locs;
}

static void test_build(struct unit *u)
{
	struct nm_mount m;
	struct nm_fsloc_root root;
	struct nm_record r;
	struct nm_err err = { 0 };
	utf8str_cs path[2];
	utf8str_cis servers[3];
	fs_location4 locs[2];

	UNIT_CHECK(u,
		   nm_mount_from_fields("/mnt/a", "srv-a:/export", "nfs4", "/",
					"vers=4.1,addr=10.0.0.1,sec=krb5", &m, &err) == 0,
		   "reg: a mount (%s)", err.msg);
	answer(&root, path, servers, locs);
	UNIT_CHECK(u,
		   nm_reg_build(&m, "/export", 1, 1795490195, &root, &r, NULL, &err) == 0 &&
			   strcmp(r.mountpoint, "/mnt/a") == 0 &&
			   strcmp(r.source, "srv-a:/export") == 0 &&
			   strcmp(r.orig_server, "10.0.0.1") == 0 &&
			   strcmp(r.cur_server, "10.0.0.1") == 0 &&
			   strcmp(r.export_path, "/export") == 0 && strcmp(r.sec, "krb5") == 0 &&
			   r.vers == 4 && r.minor == 1 && r.registered == 1795490195 &&
			   r.root_fh_len == 20 && memcmp(r.root_fh, root.fh, 20) == 0 &&
			   r.fsid_major == 0x11 && r.fsid_minor == 0x22 && r.fileid == 77 &&
			   r.fh_expire_type == NM_FH4_VOLATILE_ANY && r.nmoves == 0 &&
			   !r.probe_name,
		   "reg: the record holds the mount and the server's answer (%s)", err.msg);
	UNIT_CHECK(u,
		   r.nlocations == 3 && strcmp(r.locations[0], "srv-b.example:/new/export") == 0 &&
			   strcmp(r.locations[1], "10.0.0.2:/new/export") == 0 &&
			   strncmp(r.locations[2], "bad", 3) == 0 &&
			   !strchr(r.locations[2], 0x1b) &&
			   strcmp(r.locations[2] + strlen(r.locations[2]) - 2, ":/") == 0,
		   "reg: one location per server, printable (%s, %s, %s)",
		   r.nlocations > 0 ? r.locations[0] : "", r.nlocations > 1 ? r.locations[1] : "",
		   r.nlocations > 2 ? r.locations[2] : "");
	nm_record_free(&r);
	root.fhlen = NM_STORE_FH_MAX + 1;
	UNIT_CHECK(u,
		   nm_reg_build(&m, "/export", 1, 0, &root, &r, NULL, &err) == -EOVERFLOW &&
			   !r.mountpoint,
		   "reg: a handle longer than a record holds is refused: %s", err.msg);
	nm_mount_free(&m);
}

static int file_has(const char *path, const char *what)
{
	char buf[256] = { 0 };
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	return n > 0 && strstr(buf, what) != NULL;
}

static void test_save(struct unit *u, const char *dir)
{
	struct nm_mount m, v3;
	struct nm_fsloc_root root;
	struct nm_record r, again, b;
	struct nm_store_update up = { 0 };
	struct nm_err err = { 0 };
	utf8str_cs path[2];
	utf8str_cis servers[3];
	fs_location4 locs[2];
	char name[256], file[600], aside[700];

	nm_mount_from_fields("/mnt/a", "srv-a:/export", "nfs4", "/", "vers=4.1,addr=10.0.0.1", &m,
			     &err);
	nm_mount_from_fields("/mnt/v3", "srv-a:/export", "nfs", "/", "vers=3,addr=10.0.0.1", &v3,
			     &err);
	answer(&root, path, servers, locs);
	nm_reg_build(&m, "/export", 1, 1000, &root, &r, NULL, &err);
	UNIT_CHECK(u, nm_reg_check(dir, &v3, true, &err) == -EPROTONOSUPPORT,
		   "reg: an NFSv3 mount is refused: %s", err.msg);
	UNIT_CHECK(u, nm_reg_check(dir, &m, false, &err) == 0, "reg: a mount without a record");
	UNIT_CHECK(u,
		   nm_reg_save(dir, &r, false, &up, &err) == 0 && up.found == -ENOENT &&
			   nm_store_load(dir, "/mnt/a", &b, &err) == 0 && b.registered == 1000,
		   "reg: saved (%s)", err.msg);
	nm_record_free(&b);
	UNIT_CHECK(u,
		   nm_reg_check(dir, &m, false, &err) == -EEXIST &&
			   strstr(err.msg, "registered already") &&
			   nm_reg_check(dir, &m, true, &err) == 0,
		   "reg: registered already, unless forced");

	/* A move recorded since (by verify); then register --force. */
	nm_store_load(dir, "/mnt/a", &b, &err);
	nm_record_add_move(&b, 1500, "10.0.0.1", "10.0.0.2");
	nm_store_save(dir, &b, &err);
	nm_record_free(&b);
	nm_reg_build(&m, "/export", 1, 2000, &root, &again, NULL, &err);
	UNIT_CHECK(u,
		   nm_reg_save(dir, &again, false, &up, &err) == -EEXIST && up.found == 0 &&
			   nm_store_load(dir, "/mnt/a", &b, &err) == 0 && b.registered == 1000 &&
			   b.nmoves == 1,
		   "reg: without --force a record is left as it is: %s", err.msg);
	nm_record_free(&b);
	UNIT_CHECK(u,
		   nm_reg_save(dir, &again, true, &up, &err) == 0 &&
			   nm_store_load(dir, "/mnt/a", &b, &err) == 0 && b.registered == 2000 &&
			   b.nmoves == 1 && strcmp(b.moves[0].to, "10.0.0.2") == 0 &&
			   again.nmoves == 0 && again.registered == 2000,
		   "reg: --force takes the new answer and keeps the moves recorded (%zu)",
		   b.nmoves);
	nm_record_free(&b);

	/* A report pending (verify recorded a move between the daemon's scan
	 * and its save): kept for the same mount, not for another one. */
	for (int same = 1; same >= 0; same--) {
		nm_store_load(dir, "/mnt/a", &b, &err);
		free(b.pending);
		free(b.mount_id);
		b.pending = strdup("migration 2100 verify 10.0.0.2 10.0.0.3");
		b.mount_id = strdup("0f1e2d3c 50 0:42 300");
		nm_store_save(dir, &b, &err);
		nm_record_free(&b);
		free(again.mount_id);
		again.mount_id = strdup(same ? "0f1e2d3c 77 0:42 301" : "0f1e2d3c 50 0:42 900");
		UNIT_CHECK(u,
			   nm_reg_save(dir, &again, true, &up, &err) == 0 &&
				   nm_store_load(dir, "/mnt/a", &b, &err) == 0 &&
				   (same ? b.pending && strcmp(b.pending, "migration 2100 verify "
									  "10.0.0.2 10.0.0.3") == 0
					 : !b.pending),
			   "reg: registered again, a pending report %s (%s)",
			   same ? "of the same mount is kept" : "of another mount is dropped",
			   b.pending ? b.pending : "none");
		nm_record_free(&b);
	}

	/* A corrupt record: set aside, said, and kept. */
	nm_store_name("/mnt/a", name, sizeof(name), &err);
	snprintf(file, sizeof(file), "%s/%s", dir, name);
	FILE *f = fopen(file, "w");

	fputs("nfsmig-state 1\nmountpoint=/mnt/a\nsource=half", f);
	fclose(f);
	UNIT_CHECK(u, nm_reg_check(dir, &m, false, &err) == 0,
		   "reg: a corrupt record does not count as registered");
	int rc = nm_reg_save(dir, &r, false, &up, &err);

	snprintf(aside, sizeof(aside), "%s/%s", dir, up.aside);
	UNIT_CHECK(u,
		   rc == 0 && up.found == -EBADMSG && strstr(up.why.msg, "truncated") &&
			   file_has(aside, "source=half") &&
			   nm_store_load(dir, "/mnt/a", &b, &err) == 0 && b.registered == 1000,
		   "reg: a corrupt record is set aside as %s (%s) and the new one saved", up.aside,
		   up.why.msg);
	nm_record_free(&b);
	nm_record_free(&r);
	nm_record_free(&again);
	nm_mount_free(&m);
	nm_mount_free(&v3);
}

/* A server that lists 200 locations, each with a root path of 4000
 * bytes that take three each in a record: registered all the same, with
 * the locations a record can hold, and the record loads. */
static void test_many_locations(struct unit *u, const char *dir)
{
	static char pct[251];
	utf8str_cs path[16];
	utf8str_cis server = srv("far.example");
	fs_location4 locs[200];
	struct nm_fsloc_root root;
	struct nm_mount m;
	struct nm_record r, b;
	struct nm_err err = { 0 };
	unsigned dropped = 0;
	size_t bytes = 0;

	memset(pct, '%', 250);
	for (size_t i = 0; i < 16; i++)
		path[i] = comp(pct);
	for (size_t i = 0; i < 200; i++) {
		locs[i].server.server_len = 1;
		locs[i].server.server_val = &server;
		locs[i].rootpath.pathname4_len = 16;
		locs[i].rootpath.pathname4_val = path;
	}
	memset(&root, 0, sizeof(root));
	root.fhlen = 8;
	root.attrs.fs_locations.locations.locations_len = 200;
	root.attrs.fs_locations.locations.locations_val = locs;
	nm_mount_from_fields("/mnt/many", "srv-a:/export", "nfs4", "/", "vers=4.1,addr=10.0.0.1",
			     &m, &err);
	int rc = nm_reg_build(&m, "/export", 1, 1000, &root, &r, &dropped, &err);

	for (size_t i = 0; rc == 0 && i < r.nlocations; i++)
		bytes += nm_record_location_bytes(r.locations[i]);
	UNIT_CHECK(u,
		   rc == 0 && r.nlocations > 0 && dropped > 0 && r.nlocations + dropped == 200 &&
			   bytes <= NM_STORE_LOCATION_BYTES,
		   "reg: locations past what a record keeps are left out (%zu kept, %u out, %zu "
		   "bytes): %s",
		   r.nlocations, dropped, bytes, err.msg);
	UNIT_CHECK(u,
		   rc == 0 && nm_reg_save(dir, &r, false, NULL, &err) == 0 &&
			   nm_store_load(dir, "/mnt/many", &b, &err) == 0 &&
			   b.nlocations == r.nlocations,
		   "reg: and the record saves and loads (%s)", err.msg);
	if (rc == 0)
		nm_record_free(&r);
	nm_record_free(&b);
	nm_mount_free(&m);
}

/* register --force after a move: the new server answers at the location's
 * rootpath and lists no locations; the record still knows the original
 * server, the source's export path and the location, so the path on the
 * server now is found again. */
static void test_force_after_move(struct unit *u, const char *dir)
{
	struct nm_mount m, moved;
	struct nm_fsloc_root root, root2;
	struct nm_record r, again, b;
	struct nm_err err = { 0 };
	utf8str_cs path[2];
	utf8str_cis servers[3];
	fs_location4 locs[2];
	char *p = NULL, *q = NULL;

	nm_mount_from_fields("/mnt/f", "srv-a:/export", "nfs4", "/", "vers=4.1,addr=10.0.0.1", &m,
			     &err);
	nm_mount_from_fields("/mnt/f", "srv-a:/export", "nfs4", "/", "vers=4.1,addr=10.0.0.2",
			     &moved, &err);
	answer(&root, path, servers, locs);
	nm_reg_build(&m, "/export", 1, 1000, &root, &r, NULL, &err);
	nm_reg_save(dir, &r, false, NULL, &err);
	p = nm_served_path(&r, "10.0.0.2", "/export", 1000);
	root2 = root;
	memset(&root2.attrs.fs_locations, 0, sizeof(root2.attrs.fs_locations));
	nm_reg_build(&moved, p ? p : "/export", 1, 2000, &root2, &again, NULL, &err);
	UNIT_CHECK(u,
		   nm_reg_save(dir, &again, true, NULL, &err) == 0 &&
			   nm_store_load(dir, "/mnt/f", &b, &err) == 0,
		   "reg: forced after a move (%s)", err.msg);
	UNIT_CHECK(u,
		   p && strcmp(p, "/new/export") == 0 && strcmp(b.orig_server, "10.0.0.1") == 0 &&
			   strcmp(b.cur_server, "10.0.0.2") == 0 &&
			   strcmp(b.export_path, "/export") == 0 && b.registered == 2000,
		   "reg: --force after a move keeps the original server and export path (%s, %s)",
		   b.orig_server, b.export_path);
	q = nm_served_path(&b, "10.0.0.2", "/export/sub", 1000);
	UNIT_CHECK(u, q && strcmp(q, "/new/export/sub") == 0,
		   "reg: after --force the path on the server now is still the location's (%s)",
		   q ? q : "(null)");
	free(p);
	free(q);
	nm_record_free(&b);
	nm_record_free(&again);
	nm_record_free(&r);
	nm_mount_free(&m);
	nm_mount_free(&moved);
}

int main(void)
{
	struct unit u = { 0 };
	char base[] = "/tmp/nfsmig-reg-XXXXXX";

	unit_start();
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	test_root_path(&u);
	test_build(&u);
	test_save(&u, base);
	test_many_locations(&u, base);
	test_force_after_move(&u, base);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", base);
	return unit_done(&u);
}
