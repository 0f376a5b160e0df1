/* nm_watch: nfsmigd's decisions, from tables. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_event.h"
#include "nm_mstats.h"
#include "nm_reg.h"
#include "nm_verify.h"
#include "nm_watch.h"
#include "nm_watch_run.h"
#include "unit.h"

#define MNT(ID, PARENT, TARGET, SOURCE, HOST, SERVER, VERS)                                        \
	{                                                                                          \
		.target = TARGET, .source = SOURCE, .source_host = HOST, .server = SERVER,         \
		.vers = VERS, .minor = 1, .id = ID, .parent_id = PARENT                            \
	}

/* The table the daemon sees: a mount of server-a, one moved to server-b,
 * a referral submount of server-b under server-a's root, an NFSv3 mount. */
static struct nm_mount table[] = {
	MNT(30, 1, "/mnt/a", "server-a:/", "server-a", "192.0.2.2", 4),
	MNT(31, 1, "/mnt/m", "server-a:/d", "server-a", "198.51.100.2", 4),
	MNT(32, 30, "/mnt/a/r", "server-b:/r", "server-b", "198.51.100.2", 4),
	MNT(33, 1, "/mnt/v3", "server-a:/d", "server-a", "192.0.2.2", 3),
	MNT(34, 1, "/mnt/new", "server-a:/d", "server-a", "192.0.2.2", 4),
	MNT(35, 30, "/mnt/a/same", "server-a:/s", "server-a", "192.0.2.2", 4),
};
#define NT (sizeof(table) / sizeof(table[0]))

static void test_decide(struct unit *u)
{
	struct nm_record a = { .source = "server-a:/",
			       .orig_server = "192.0.2.2",
			       .cur_server = "192.0.2.2" },
			 m_old = { .source = "server-a:/d",
				   .orig_server = "192.0.2.2",
				   .cur_server = "192.0.2.2" },
			 m_done = { .source = "server-a:/d",
				    .orig_server = "192.0.2.2",
				    .cur_server = "198.51.100.2" },
			 m_pend = { .source = "server-a:/d",
				    .orig_server = "192.0.2.2",
				    .cur_server = "198.51.100.2",
				    .pending =
					    "migration 1795490400 rescan 192.0.2.2 198.51.100.2" },
			 m_other = { .source = "server-c:/x",
				     .orig_server = "203.0.113.9",
				     .cur_server = "203.0.113.9" },
			 m_nocur = { .source = "server-a:/d",
				     .orig_server = "192.0.2.2",
				     .cur_server = "" };
	static const struct {
		size_t i;
		int found;
		const struct nm_record *rec;
		enum nm_watch_act act;
		const char *from, *to;
		const char *what;
	} rows[] = {
		{ 0, 0, NULL, NM_WATCH_SKIP, NULL, NULL, "a mount that agrees with its record" },
		{ 1, 0, NULL, NM_WATCH_MIGRATION, "192.0.2.2", "198.51.100.2",
		  "addr= is not the record's current server: a migration" },
		{ 1, 0, NULL, NM_WATCH_SKIP, NULL, NULL, "a move recorded already: nothing" },
		{ 1, 0, NULL, NM_WATCH_RESUME, NULL, NULL, "a pending report is finished first" },
		{ 1, 0, NULL, NM_WATCH_STALE, "server-c:/x", "server-a:/d",
		  "a record of another source at the place: not a move" },
		{ 1, 0, NULL, NM_WATCH_MIGRATION, "192.0.2.2", "198.51.100.2",
		  "no current server recorded: the original is compared" },
		{ 2, -ENOENT, NULL, NM_WATCH_REFERRAL, "192.0.2.2", "198.51.100.2",
		  "a new submount of another server under an NFS mount: a referral" },
		{ 5, -ENOENT, NULL, NM_WATCH_REGISTER, NULL, "192.0.2.2",
		  "a submount of the same server: a mount, not a referral" },
		{ 4, -ENOENT, NULL, NM_WATCH_REGISTER, NULL, "192.0.2.2",
		  "a new mount without a record: register it" },
		{ 3, -ENOENT, NULL, NM_WATCH_SKIP, NULL, NULL, "NFSv3: not ours" },
		{ 1, -EBADMSG, NULL, NM_WATCH_UNREADABLE, NULL, NULL,
		  "a corrupt record: left for register to set aside" },
		{ 1, -ENOTUNIQ, NULL, NM_WATCH_UNREADABLE, NULL, NULL,
		  "another mount point's record under the name: left" },
	};
	const struct nm_record *recs[] = { &a, &m_old, &m_done, &m_pend, &m_other, &m_nocur };

	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		struct nm_watch_rec r = { .found = rows[k].found };
		struct nm_watch_step s;

		if (rows[k].found == 0)
			r.rec = recs[k < 6 ? k : 0];
		s = nm_watch_decide(table, NT, rows[k].i, &r);
		UNIT_CHECK(u,
			   s.act == rows[k].act &&
				   (rows[k].from ? s.from && strcmp(s.from, rows[k].from) == 0
						 : !s.from) &&
				   (rows[k].to ? s.to && strcmp(s.to, rows[k].to) == 0 : !s.to),
			   "decide: %s (%s %s -> %s)", rows[k].what, nm_watch_act_name(s.act),
			   s.from ? s.from : "-", s.to ? s.to : "-");
	}
}

/* Which mount of the mount point: a record saying another one than the
 * table's is a new mount there (a remount, a reboot), never a move; a
 * record of an older version (no mount_id) is judged as before. */
static void test_decide_remount(struct unit *u)
{
#define B1 "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
#define B2 "11111111-2222-3333-4444-555555555555"
	static const struct {
		const char *rec_id, *cur, *pending, *source;
		const char *now_id;
		enum nm_watch_act act;
		const char *from, *to;
		const char *what;
	} rows[] = {
		{ B1 " 31 0:42", "198.51.100.2", NULL, "server-a:/d", B1 " 40 0:45",
		  NM_WATCH_REMOUNT, "198.51.100.2", "198.51.100.2",
		  "another mount ID, the same server: a new mount, registered again" },
		{ B1 " 31 0:42", "192.0.2.9", NULL, "server-a:/d", B1 " 40 0:45", NM_WATCH_REMOUNT,
		  "192.0.2.9", "198.51.100.2",
		  "remounted from another server (fstab's old one): a mount, not a migration" },
		{ B1 " 31 0:42", "192.0.2.9", NULL, "server-a:/d", B2 " 31 0:42", NM_WATCH_REMOUNT,
		  "192.0.2.9", "198.51.100.2", "the same mount ID after a reboot: a new mount" },
		{ B1 " 31 0:42", "192.0.2.2", NULL, "server-a:/d", B1 " 31 0:42",
		  NM_WATCH_MIGRATION, "192.0.2.2", "198.51.100.2",
		  "the same mount, addr= changed: a migration" },
		{ B1 " 31 0:42", "198.51.100.2", NULL, "server-a:/d", B1 " 31 0:42", NM_WATCH_SKIP,
		  NULL, NULL, "the same mount, the same server: nothing" },
		{ NULL, "192.0.2.2", NULL, "server-a:/d", B1 " 31 0:42", NM_WATCH_MIGRATION,
		  "192.0.2.2", "198.51.100.2", "a record of an older version: judged as before" },
		{ B1 " 31 0:42", "192.0.2.2", NULL, "server-a:/d", NULL, NM_WATCH_MIGRATION,
		  "192.0.2.2", "198.51.100.2", "the mount's identity not known: judged as before" },
		{ B1 " 31 0:42", "192.0.2.2", "migration 5 rescan 192.0.2.1 192.0.2.2",
		  "server-a:/d", B1 " 40 0:45", NM_WATCH_REMOUNT, "192.0.2.2", "198.51.100.2",
		  "a marker in the record of another mount: the new mount is registered "
		  "(remounted after a move verify recorded)" },
		{ B1 " 31 0:42", "192.0.2.2", "migration 5 rescan 192.0.2.1 192.0.2.2",
		  "server-a:/d", B1 " 40 0:42", NM_WATCH_RESUME, NULL, NULL,
		  "the same mount (another namespace's mount ID): its pending report finished" },
		{ B1 " 31 0:42 500", "192.0.2.9", NULL, "server-a:/d", B1 " 31 0:42 900",
		  NM_WATCH_REMOUNT, "192.0.2.9", "198.51.100.2",
		  "the kernel's same mount ID and device, mounted later: a new mount" },
		{ B1 " 31 0:42 500", "192.0.2.2", NULL, "server-a:/d", B1 " 31 0:42 501",
		  NM_WATCH_MIGRATION, "192.0.2.2", "198.51.100.2",
		  "the same mount (its age read a second apart): a migration" },
		{ B1 " 31 0:42", "203.0.113.9", NULL, "server-c:/x", B1 " 40 0:45", NM_WATCH_STALE,
		  "server-c:/x", "server-a:/d", "another export's record: stale, as before" },
	};
#undef B1
#undef B2

	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		struct nm_record rec = { .source = (char *)rows[k].source,
					 .orig_server = "192.0.2.2",
					 .cur_server = (char *)rows[k].cur,
					 .pending = (char *)rows[k].pending,
					 .mount_id = (char *)rows[k].rec_id };
		struct nm_watch_rec r = { .found = 0, .rec = &rec, .mount_id = rows[k].now_id };
		struct nm_watch_step s = nm_watch_decide(table, NT, 1, &r);

		UNIT_CHECK(u,
			   s.act == rows[k].act &&
				   (rows[k].from ? s.from && strcmp(s.from, rows[k].from) == 0
						 : !s.from) &&
				   (rows[k].to ? s.to && strcmp(s.to, rows[k].to) == 0 : !s.to),
			   "decide: %s (%s %s -> %s)", rows[k].what, nm_watch_act_name(s.act),
			   s.from ? s.from : "-", s.to ? s.to : "-");
	}
}

/* Two NFS mounts stacked at one mount point: only the visible (top) one
 * is judged; the covered one is skipped, whatever its record says. */
static void test_decide_stacked(struct unit *u)
{
	struct nm_mount st[] = {
		MNT(40, 1, "/mnt/s", "server-a:/d", "server-a", "192.0.2.2", 4),
		MNT(41, 40, "/mnt/s", "server-b:/e", "server-b", "198.51.100.2", 4),
	};
	struct nm_record top = { .source = "server-b:/e",
				 .orig_server = "198.51.100.2",
				 .cur_server = "198.51.100.2" };
	struct nm_watch_rec r = { .found = 0, .rec = &top };
	struct nm_watch_step s = nm_watch_decide(st, 2, 0, &r);

	UNIT_CHECK(u, s.act == NM_WATCH_SKIP,
		   "decide: a mount covered by another NFS mount at its mount point is "
		   "skipped (%s)",
		   nm_watch_act_name(s.act));
	s = nm_watch_decide(st, 2, 1, &r);
	UNIT_CHECK(u, s.act == NM_WATCH_SKIP, "decide: the top one agrees with its record (%s)",
		   nm_watch_act_name(s.act));
	r.found = -ENOENT;
	s = nm_watch_decide(st, 2, 0, &r);
	UNIT_CHECK(u, s.act == NM_WATCH_SKIP,
		   "decide: a covered mount is not registered either (%s)",
		   nm_watch_act_name(s.act));
	s = nm_watch_decide(st, 2, 1, &r);
	UNIT_CHECK(u, s.act == NM_WATCH_REGISTER, "decide: the top one is registered (%s)",
		   nm_watch_act_name(s.act));
}

static int last_record_time(struct json_object *ev, void *arg)
{
	struct json_object *t;

	*(int64_t *)arg =
		json_object_object_get_ex(ev, "record_time", &t) ? json_object_get_int64(t) : -1;
	return 0;
}

/* A failure reported while the record's move is not reported yet (its job
 * not run, a kill -9 next): the event carries the marker's record_time,
 * which a restart's seek finds, so the move is not reported again. */
static void test_failed_record_time(struct unit *u)
{
	char dir[] = "/tmp/nfsmig-wfail-XXXXXX", mi[64], cmd[96];
	struct nm_record r = { 0 };
	struct nm_kev ev = { 0 };
	struct nm_err err = { 0 };
	int64_t t = -2;
	FILE *f;

	if (!mkdtemp(dir)) {
		UNIT_CHECK(u, 0, "failed: mkdtemp");
		return;
	}
	snprintf(mi, sizeof(mi), "%s/mountinfo", dir);
	f = fopen(mi, "w");
	if (f) {
		fprintf(f, "40 1 0:40 / /mnt/f rw - nfs4 srv1:/export rw,vers=4.1,"
			   "clientaddr=192.0.2.1,addr=192.0.2.11\n");
		fclose(f);
	}
	r.mountpoint = "/mnt/f";
	r.source = "srv1:/export";
	r.orig_server = "192.0.2.5";
	r.cur_server = "192.0.2.11";
	r.registered = 100;
	r.pending = "migration 4242 rescan 192.0.2.5 192.0.2.11";
	struct nm_watch_cfg c = { .state_dir = dir, .mountinfo = mi, .hooks_dir = dir };

	snprintf(ev.source, sizeof(ev.source), "kmsg");
	snprintf(ev.host, sizeof(ev.host), "192.0.2.11");
	snprintf(ev.text, sizeof(ev.text), "migration recovery failed");
	UNIT_CHECK(u,
		   nm_store_save(dir, &r, &err) == 0 &&
			   nm_watch_failed(&c, &ev, "kmsg", &err) == 1 &&
			   nm_event_read(dir, NULL, last_record_time, &t, &err) >= 0 && t == 4242,
		   "failed: the event of a mount with a move not reported carries its "
		   "record_time (%lld, %s)",
		   (long long)t, err.msg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* The kernel log's position saved never passes a failure not reported. */
static void test_kmsg_safe(struct unit *u)
{
	const uint64_t held[] = { 120, 105, 130 };

	UNIT_CHECK(u, nm_watch_kmsg_safe(140, NULL, 0) == 140,
		   "kmsg safe: nothing held, the last record read");
	UNIT_CHECK(u, nm_watch_kmsg_safe(140, held, 3) == 104,
		   "kmsg safe: just before the oldest failure not reported");
	UNIT_CHECK(u, nm_watch_kmsg_safe(140, held, 1) == 119, "kmsg safe: one failure held");
	UNIT_CHECK(u, nm_watch_kmsg_safe(100, held, 3) == 100,
		   "kmsg safe: never past what was read");
}

/* A failure replayed from kmsg is not of a mount made after it. */
static void test_mounted_after(struct unit *u)
{
	/* Now: wall clock 1,000,000 s, monotonic 5,000 s; the failure at
	 * wall 999,900 s, that is monotonic 4,900 s. */
	static const struct {
		int64_t mounted, fail_ms;
		bool after;
		const char *what;
	} rows[] = {
		{ 4950, 999900000, true, "mounted 50 s after the failure: a remount since" },
		{ 4800, 999900000, false, "mounted before the failure: the failed mount" },
		{ 4901, 999900000, false, "within the slack (age in whole seconds): not after" },
		{ -1, 999900000, false, "when it was mounted is not known: not after" },
		{ 4950, 0, false, "when the kernel said it is not known: not after" },
	};

	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
		UNIT_CHECK(u,
			   nm_watch_mounted_after(rows[k].mounted, rows[k].fail_ms, 1000000000,
						  5000000) == rows[k].after,
			   "mounted after a failure: %s", rows[k].what);
}

/* A mount's identity, from mountinfo's fields and the boot's ID. */
static void test_mount_id(struct unit *u)
{
	struct nm_mount m = { .id = 50, .dev_major = 0, .dev_minor = 42 }, none = { 0 };
	char buf[128], tiny[8];

	UNIT_CHECK(u,
		   nm_reg_mount_id(&m, "0f1e2d3c-4b5a", -1, buf, sizeof(buf)) == 0 &&
			   strcmp(buf, "0f1e2d3c-4b5a 50 0:42") == 0,
		   "mount_id: boot, mount ID, device (%s)", buf);
	UNIT_CHECK(u,
		   nm_reg_mount_id(&none, "0f1e2d3c-4b5a", 5, buf, sizeof(buf)) == -ENOENT &&
			   nm_reg_mount_id(&m, "", 5, buf, sizeof(buf)) == -ENOENT &&
			   nm_reg_mount_id(&m, NULL, 5, buf, sizeof(buf)) == -ENOENT &&
			   nm_reg_mount_id(&m, "a b", 5, buf, sizeof(buf)) == -ENOENT && !buf[0],
		   "mount_id: without a mount ID or a boot ID, not known");
	UNIT_CHECK(u,
		   nm_reg_mount_id(&m, "0f1e2d3c-4b5a", 5, tiny, sizeof(tiny)) == -E2BIG &&
			   !tiny[0],
		   "mount_id: a buffer too small is an error, not a cut identity");
	UNIT_CHECK(u,
		   nm_reg_mount_id(&m, "0f1e2d3c-4b5a", 1234, buf, sizeof(buf)) == 0 &&
			   strcmp(buf, "0f1e2d3c-4b5a 50 0:42 1234") == 0,
		   "mount_id: with when it was mounted (%s)", buf);

	/* The kernel (6.1) gives a remount the mount ID and device of the
	 * mount it replaces: only the time it was made tells them apart. */
	static const struct {
		const char *a, *b;
		bool same;
	} rows[] = {
		{ "B 50 0:42 100", "B 50 0:42 100", true },
		{ "B 50 0:42 100", "B 50 0:42 102", true },
		{ "B 50 0:42 100", "B 50 0:42 103", false },
		{ "B 50 0:42 100", "B 50 0:42", true },
		/* Another mount namespace's ID of the same mount (the service's
		 * own namespace against a shell's register). */
		{ "B 50 0:42", "B 51 0:42", true },
		{ "B 50 0:42 100", "B 77 0:42 101", true },
		{ "B 50 0:42", "B 50 0:43", false },
		{ "B 50 0:42 100", "C 50 0:42 100", false },
		{ "garbage", "B 50 0:42", true },
		{ "B 50 0:42 100 x", "B 51 0:42", true },
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
		UNIT_CHECK(u, nm_watch_same_mount(rows[k].a, rows[k].b) == rows[k].same,
			   "same_mount: \"%s\" and \"%s\": %s", rows[k].a, rows[k].b,
			   rows[k].same ? "the same" : "another");

	static const char MS[] =
		"device server-a:/d mounted on /mnt/m with fstype nfs4 statvers=1.1\n"
		"\topts:\trw,vers=4.0\n\tage:\t1234\n\tcaps:\tcaps=0x3ffdf\n"
		"device server-b:/r mounted on /mnt/r with fstype nfs4 statvers=1.1\n"
		"\tage:\tx12\n";
	struct nm_mstats ms = { 0 };
	struct nm_err err = { 0 };

	UNIT_CHECK(u,
		   nm_mstats_parse(MS, sizeof(MS) - 1, &ms, &err) == 0 && ms.n == 2 &&
			   ms.m[0].age == 1234 && ms.m[1].age == -1 &&
			   nm_reg_mounted_at(&ms, "/mnt/r") == -1 &&
			   nm_reg_mounted_at(&ms, "/mnt/none") == -1,
		   "mountstats: a mount's age is read; a bad one is not said");
	/* Counted back from when the file was read, however long the scan
	 * took after it. */
	ms.read_mono = 5000;
	UNIT_CHECK(u, ms.n == 2 && nm_reg_mounted_at(&ms, "/mnt/m") == 5000 - 1234,
		   "mountstats: the mount time counts back from the read (%lld)",
		   (long long)nm_reg_mounted_at(&ms, "/mnt/m"));
	nm_mstats_free(&ms);
}

static void test_pending(struct unit *u)
{
	static const struct {
		const char *text;
		int rc;
		const char *kind, *trigger, *from, *to;
		long long time;
	} rows[] = {
		{ "migration 1795490400 tracepoint:nfs4_xdr_status 192.0.2.2 198.51.100.2", 0,
		  "migration", "tracepoint:nfs4_xdr_status", "192.0.2.2", "198.51.100.2",
		  1795490400 },
		{ "mount 5 mountinfo - 192.0.2.2", 0, "mount", "mountinfo", "", "192.0.2.2", 5 },
		{ "migration 1795490400 rescan 192.0.2.2", -EINVAL, "", "", "", "", 0 },
		{ "migration 1795490400 rescan a b c", -EINVAL, "", "", "", "", 0 },
		{ "migration -1 rescan a b", -EINVAL, "", "", "", "", 0 },
		{ "migration 12x rescan a b", -EINVAL, "", "", "", "", 0 },
		{ "migration  1 rescan a b", -EINVAL, "", "", "", "", 0 },
		{ "", -EINVAL, "", "", "", "", 0 },
		{ "migration 99999999999999999999999 rescan a b", -EINVAL, "", "", "", "", 0 },
	};

	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		struct nm_watch_pending p;
		int rc = nm_watch_pending_parse(rows[k].text, &p);
		char *again = NULL;

		if (rows[k].rc < 0) {
			UNIT_CHECK(u, rc == rows[k].rc, "pending: \"%s\" is refused", rows[k].text);
			continue;
		}
		UNIT_CHECK(u,
			   rc == 0 && strcmp(p.kind, rows[k].kind) == 0 &&
				   strcmp(p.trigger, rows[k].trigger) == 0 &&
				   strcmp(p.from, rows[k].from) == 0 &&
				   strcmp(p.to, rows[k].to) == 0 && p.time == rows[k].time &&
				   nm_watch_pending_format(&p, &again) == 0 &&
				   strcmp(again, rows[k].text) == 0,
			   "pending: \"%s\" reads and writes back", rows[k].text);
		free(again);
	}
	struct nm_watch_pending bad = {
		.kind = "migration", .time = 1, .trigger = "two words", .to = "b"
	};
	char *out = NULL;

	UNIT_CHECK(u, nm_watch_pending_format(&bad, &out) == -E2BIG && !out,
		   "pending: a word with a blank is not written");
}

static void test_apply(struct unit *u)
{
	struct nm_record r = { 0 };
	struct nm_watch_pending p;
	struct nm_err err = { 0 };

	r.mountpoint = strdup("/mnt/m");
	r.orig_server = strdup("192.0.2.2");
	r.cur_server = strdup("192.0.2.2");
	UNIT_CHECK(u,
		   nm_watch_apply_move(&r, "198.51.100.2", "tracepoint:nfs4_xdr_status", 100, &p,
				       &err) == 0 &&
			   r.nmoves == 1 && strcmp(r.moves[0].from, "192.0.2.2") == 0 &&
			   strcmp(r.moves[0].to, "198.51.100.2") == 0 &&
			   strcmp(r.moves[0].trigger, "tracepoint:nfs4_xdr_status") == 0 &&
			   r.moves[0].time == 100 && strcmp(r.cur_server, "198.51.100.2") == 0 &&
			   r.pending && strcmp(p.from, "192.0.2.2") == 0,
		   "apply: the move, its trigger, the current server and the marker (%s)",
		   r.pending ? r.pending : "none");
	UNIT_CHECK(u,
		   nm_watch_apply_move(&r, "198.51.100.2", "rescan", 101, NULL, &err) == 1 &&
			   r.nmoves == 1,
		   "apply: a move recorded already is not recorded again (a restart's rescan)");
	char *mark = strdup(r.pending);

	UNIT_CHECK(u,
		   nm_watch_clear_pending(&r, "migration 1 other a b") == 1 && r.pending &&
			   nm_watch_clear_pending(&r, mark) == 0 && !r.pending,
		   "apply: only its own marker is cleared");
	free(mark);
	UNIT_CHECK(u,
		   nm_watch_apply_move(&r, "192.0.2.3", "rescan", 102, NULL, &err) == 0 &&
			   r.nmoves == 2 && strcmp(r.moves[1].from, "198.51.100.2") == 0,
		   "apply: the next move is from the current server");
	UNIT_CHECK(u,
		   nm_watch_apply_move(&r, "a b", "rescan", 103, NULL, &err) < 0 && r.nmoves == 2 &&
			   strcmp(r.cur_server, "192.0.2.3") == 0,
		   "apply: a server that would not read back changes nothing: %s", err.msg);
	nm_record_free(&r);
}

/* nfsmig verify records a move the way the daemon does: with trigger
 * "verify" and the daemon's marker, so that nfsmigd reports it once (its
 * event, hooks, utab, fstab); a record with a report pending is left. */
static void test_verify_move(struct unit *u)
{
#define B1 "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	struct nm_record seen = { .registered = 7, .cur_server = "192.0.2.2" }, r = { 0 };
	struct nm_watch_pending p;
	struct nm_err err = { 0 };
	char *from = NULL;
	int rc;

	r.mountpoint = strdup("/mnt/m");
	r.orig_server = strdup("192.0.2.2");
	r.cur_server = strdup("192.0.2.2");
	r.registered = 7;
	rc = nm_verify_record_move(&r, &seen, "198.51.100.2", NULL, 200, &from, &err);
	UNIT_CHECK(u,
		   rc == NM_VERIFY_MOVE_SAVED && from && strcmp(from, "192.0.2.2") == 0 &&
			   r.nmoves == 1 && r.moves[0].trigger &&
			   strcmp(r.moves[0].trigger, "verify") == 0 &&
			   strcmp(r.cur_server, "198.51.100.2") == 0 && r.pending &&
			   nm_watch_pending_parse(r.pending, &p) == 0 &&
			   strcmp(p.kind, "migration") == 0 && strcmp(p.trigger, "verify") == 0 &&
			   p.time == 200 && strcmp(p.from, "192.0.2.2") == 0 &&
			   strcmp(p.to, "198.51.100.2") == 0,
		   "verify's move: recorded with trigger verify and the daemon's marker (%d, %s)",
		   rc, r.pending ? r.pending : "no marker");
	free(from);
	from = NULL;
	UNIT_CHECK(u,
		   nm_verify_record_move(&r, &seen, "198.51.100.2", NULL, 201, &from, &err) ==
				   NM_VERIFY_MOVE_ALREADY &&
			   r.nmoves == 1 && !from,
		   "verify's move: recorded already, nothing changes");
	UNIT_CHECK(u,
		   nm_verify_record_move(&r, &seen, "192.0.2.7", NULL, 202, &from, &err) ==
				   NM_VERIFY_MOVE_SAVED &&
			   r.nmoves == 2 && strcmp(r.cur_server, "192.0.2.7") == 0 && from &&
			   strcmp(from, "198.51.100.2") == 0 && r.pending &&
			   strcmp(r.pending, "migration 202 verify 198.51.100.2 192.0.2.7") == 0,
		   "verify's move: its own marker, not reported (no daemon), gives way to the "
		   "next move (%s)",
		   r.pending ? r.pending : "no marker");
	free(from);
	from = NULL;
	free(r.pending);
	r.pending = strdup("migration 150 rescan 192.0.2.2 198.51.100.2");
	UNIT_CHECK(u,
		   nm_verify_record_move(&r, &seen, "203.0.113.5", NULL, 203, &from, &err) ==
				   NM_VERIFY_MOVE_PENDING &&
			   r.nmoves == 2 && strcmp(r.cur_server, "192.0.2.7") == 0 && !from &&
			   strcmp(r.pending, "migration 150 rescan 192.0.2.2 198.51.100.2") == 0,
		   "verify's move: a report nfsmigd has pending is left to it");
	free(r.pending);
	r.pending = NULL;
	r.mount_id = strdup(B1 " 31 0:42 500");
	UNIT_CHECK(u,
		   nm_verify_record_move(&r, &seen, "203.0.113.5", B1 " 31 0:42 900", 203, &from,
					 &err) == NM_VERIFY_MOVE_REMOUNTED &&
			   r.nmoves == 2 && strcmp(r.cur_server, "192.0.2.7") == 0 && !from &&
			   !r.pending,
		   "verify's move: mounted again since registered (remounted from the old "
		   "server after a move): nothing recorded, no marker");
	UNIT_CHECK(u,
		   nm_verify_record_move(&r, &seen, "203.0.113.5", B1 " 77 0:42 501", 204, &from,
					 &err) == NM_VERIFY_MOVE_SAVED &&
			   r.nmoves == 3 && from,
		   "verify's move: the same mount (another namespace's mount ID): recorded");
	free(from);
	from = NULL;
	seen.registered = 8;
	UNIT_CHECK(u,
		   nm_verify_record_move(&r, &seen, "203.0.113.5", NULL, 203, &from, &err) ==
				   NM_VERIFY_MOVE_CHANGED &&
			   r.nmoves == 3,
		   "verify's move: a record registered again meanwhile is not changed");
	nm_record_free(&r);
#undef B1
}

static void test_kev(struct unit *u)
{
	static const struct {
		enum nm_kev_kind kind;
		const char *source, *name;
		unsigned flags;
		enum nm_watch_kev_act act;
		const char *trigger;
	} rows[] = {
		{ NM_KEV_MOVED, "tracepoint", "nfs4_xdr_status", 0, NM_WATCH_KEV_SETTLE,
		  "tracepoint:nfs4_xdr_status" },
		{ NM_KEV_STATE_MGR, "tracepoint", "nfs4_state_mgr",
		  NM_KEV_F_MOVED | NM_KEV_F_MANAGER_RUNNING, NM_WATCH_KEV_SETTLE,
		  "tracepoint:nfs4_state_mgr" },
		{ NM_KEV_STATE_MGR, "tracepoint", "nfs4_state_mgr", NM_KEV_F_MANAGER_RUNNING,
		  NM_WATCH_KEV_IGNORE, "tracepoint:nfs4_state_mgr" },
		{ NM_KEV_STATE_MGR, "tracepoint", "nfs4_state_mgr", NM_KEV_F_LEASE_MOVED,
		  NM_WATCH_KEV_LEASE_MOVED, "tracepoint:nfs4_state_mgr" },
		{ NM_KEV_LEASE_MOVED, "tracepoint", "nfs4_xdr_status", 0, NM_WATCH_KEV_LEASE_MOVED,
		  "tracepoint:nfs4_xdr_status" },
		{ NM_KEV_STATE_MGR_FAIL, "tracepoint", "nfs4_state_mgr_failed", 0,
		  NM_WATCH_KEV_FAILED, "tracepoint:nfs4_state_mgr_failed" },
		{ NM_KEV_MIGRATION_FAILED, "kmsg", "kmsg", 0, NM_WATCH_KEV_FAILED, "kmsg" },
		{ NM_KEV_VOLATILE_FH, "kmsg", "kmsg", 0, NM_WATCH_KEV_FAILED, "kmsg" },
		{ NM_KEV_XPRT_SWITCH, "uevent", "add xprt-switches", 0, NM_WATCH_KEV_SETTLE,
		  "uevent" },
		{ NM_KEV_CLNT_NEW, "tracepoint", "rpc_clnt_new", 0, NM_WATCH_KEV_SETTLE,
		  "tracepoint:rpc_clnt_new" },
		{ NM_KEV_XPRT_REPLACE, "tracepoint", "rpc_clnt_replace_xprt", 0,
		  NM_WATCH_KEV_SETTLE, "tracepoint:rpc_clnt_replace_xprt" },
		{ NM_KEV_NONE, "tracepoint", "", 0, NM_WATCH_KEV_IGNORE, "kernel" },
	};

	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		struct nm_kev ev = { .kind = rows[k].kind, .flags = rows[k].flags };
		char trig[96];

		snprintf(ev.source, sizeof(ev.source), "%s", rows[k].source);
		snprintf(ev.name, sizeof(ev.name), "%s", rows[k].name);
		nm_watch_trigger(&ev, trig, sizeof(trig));
		UNIT_CHECK(u,
			   nm_watch_kev_judge(&ev) == rows[k].act && !strcmp(trig, rows[k].trigger),
			   "kev: %s %s flags %#x -> %d, trigger %s", rows[k].source, rows[k].name,
			   rows[k].flags, rows[k].act, trig);
	}
}

static void test_rank(struct unit *u)
{
	static const struct {
		enum nm_kev_kind kind;
		const char *name;
		int rank;
	} rows[] = {
		{ NM_KEV_MOVED, "nfs4_xdr_status", 3 },
		{ NM_KEV_LEASE_MOVED, "nfs4_xdr_status", 3 },
		{ NM_KEV_STATE_MGR, "nfs4_state_mgr", 2 },
		{ NM_KEV_XPRT_REPLACE, "rpc_clnt_replace_xprt", 2 },
		{ NM_KEV_XPRT_SWITCH, "add xprt-switches", 2 },
		{ NM_KEV_XPRT_SWITCH, "remove rpc-clients", 1 },
		{ NM_KEV_XPRT_SWITCH, "add rpc-clients", 1 },
		{ NM_KEV_CLNT_NEW, "rpc_clnt_new", 1 },
		{ NM_KEV_XPRT_CREATE, "xprt_create", 1 },
	};

	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		struct nm_kev ev = { .kind = rows[k].kind };

		snprintf(ev.name, sizeof(ev.name), "%s", rows[k].name);
		UNIT_CHECK(u, nm_watch_kev_rank(&ev) == rows[k].rank, "rank: %s is %d",
			   rows[k].name, rows[k].rank);
	}
}

static void test_mounts_of(struct unit *u)
{
	size_t idx[8];
	size_t n = nm_watch_mounts_of(table, NT, "SERVER-A", idx, 8);

	/* /mnt/a, /mnt/m (moved away, still server-a's source), /mnt/new,
	 * /mnt/a/same; not the NFSv3 mount. */
	UNIT_CHECK(u, n == 4 && idx[0] == 0 && idx[1] == 1 && idx[2] == 4 && idx[3] == 5,
		   "mounts_of: a server's mounts by its name, without regard to case (%zu)", n);
	n = nm_watch_mounts_of(table, NT, "198.51.100.2", idx, 1);
	UNIT_CHECK(u, n == 2 && idx[0] == 1, "mounts_of: by addr=, counted past the cap (%zu)", n);
	UNIT_CHECK(u, nm_watch_mounts_of(table, NT, "", idx, 8) == 0,
		   "mounts_of: no host names no mount");
}

int main(void)
{
	struct unit u = { 0 };

	unit_start();
	test_decide(&u);
	test_decide_remount(&u);
	test_mount_id(&u);
	test_mounted_after(&u);
	test_kmsg_safe(&u);
	test_decide_stacked(&u);
	test_failed_record_time(&u);
	test_pending(&u);
	test_apply(&u);
	test_verify_move(&u);
	test_kev(&u);
	test_rank(&u);
	test_mounts_of(&u);
	return unit_done(&u);
}
