/* The state check's judge (nm_mstats_judge_state), from a table: pairs of
 * samples the real kernel wrote in the VM (tests/fixtures/vm) and pairs
 * written here for the patterns the VM scenarios show (scenario 1c): a lock
 * denied over and over, writes failing with ENOSPC or EDQUOT, chmod failing
 * with EPERM, against the kernel's own loop on state the destination never
 * issued. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_mstats.h"
#include "unit.h"

static char *fixture(const char *name)
{
	const char *dir = getenv("NM_FIXTURES");
	char *s = NULL;

	if (asprintf(&s, "%s/%s", dir ? dir : "tests/fixtures", name) < 0)
		return NULL;
	return s;
}

/* One mount's sample: EV is the events line's numbers (NULL: no line), OPS
 * the per-op lines. */
#define DEV		"device s:/d mounted on /mnt/m with fstype nfs4 statvers=1.1\n"
#define SAMPLE(ev, ops) DEV "\tevents:\t" ev "\n\tper-op statistics\n" ops
#define NOEV(ops)	DEV "\tper-op statistics\n" ops
/* name calls errors, the other numbers 0 */
#define OP(name, calls, errors) "\t" name ": " #calls " " #calls " 0 0 0 0 0 0 " #errors "\n"
/* The VFS calls (indices 4..17) sum to the middle number. */
#define EV(vfs) "1 0 0 0 " #vfs " 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"

struct row {
	const char *what;
	const char *file1, *file2; /* fixtures of tests/fixtures/vm, or */
	const char *text1, *text2; /* samples written here */
	int minor;
	double secs;
	enum nm_mstats_state want;
	const char *says; /* a part of the verdict's words */
};

static const struct row rows[] = {
	/* The real kernel (Debian 6.1), scenarios 1, 1b, 2, 2b. */
	{ "4.0: the writer held open across the move loops (scenario 1b)",
	  "mountstats.state-lost.v4.0.1", "mountstats.state-lost.v4.0.2", NULL, NULL, 0, 0,
	  NM_MSTATS_LOOP,
	  "state lost after move: WRITE failed 2535 times between the two samples while "
	  "applications made 0 calls: the client retries on its own" },
	{ "4.1: the client recovered after one TEST_STATEID (scenario 2b)",
	  "mountstats.state-lost.v4.1.1", "mountstats.state-lost.v4.1.2", NULL, NULL, 1, 0,
	  NM_MSTATS_QUIET, "no stateful operation failed between the two samples" },
	{ "4.0: a healthy migration (scenario 1)", "mountstats.v4.0.before",
	  "mountstats.v4.0.after", NULL, NULL, 0, 1.0, NM_MSTATS_QUIET,
	  "no stateful operation failed in 1.0 s" },
	{ "4.1: a healthy migration (scenario 2)", "mountstats.v4.1.before",
	  "mountstats.v4.1.after", NULL, NULL, 1, 0, NM_MSTATS_QUIET, "no stateful operation" },
	{ "4.0: counters that went down grew nothing", "mountstats.state-lost.v4.0.2",
	  "mountstats.state-lost.v4.0.1", NULL, NULL, 0, 0, NM_MSTATS_QUIET,
	  "no stateful operation" },

	{ "4.0: a lock denied over and over (scenario 1c)", "mountstats.lock-denied.v4.0.1",
	  "mountstats.lock-denied.v4.0.2", NULL, NULL, 0, 0, NM_MSTATS_ERRORS,
	  "LOCK failed 237 times between the two samples, no more than twice a call of the "
	  "applications (237 calls), with 0 recovery calls" },
	{ "4.0: writes failing with ENOSPC (scenario 1c)", "mountstats.nospace.v4.0.1",
	  "mountstats.nospace.v4.0.2", NULL, NULL, 0, 0, NM_MSTATS_ERRORS,
	  "WRITE failed 135 times between the two samples, no more than twice a call" },

	{ "4.1: a lock denied over and over (scenario 2c)", "mountstats.lock-denied.v4.1.1",
	  "mountstats.lock-denied.v4.1.2", NULL, NULL, 1, 0, NM_MSTATS_ERRORS,
	  "LOCK failed 223 times between the two samples, no more than twice a call" },
	{ "4.1: writes failing with ENOSPC (scenario 2c)", "mountstats.nospace.v4.1.1",
	  "mountstats.nospace.v4.1.2", NULL, NULL, 1, 0, NM_MSTATS_ERRORS,
	  "WRITE failed 179 times between the two samples, no more than twice a call" },

	/* The recovery loop, by minor version. */
	{ "4.1: WRITE failing while TEST_STATEID climbs with it", NULL, NULL,
	  SAMPLE(EV(10), OP("WRITE", 100, 90) OP("TEST_STATEID", 5, 0)),
	  SAMPLE(EV(10), OP("WRITE", 8529, 8519) OP("TEST_STATEID", 8433, 0)), 1, 1.0,
	  NM_MSTATS_LOOP,
	  "state lost after move: WRITE failed 8429 times in 1.0 s while TEST_STATEID ran 8428 "
	  "times: the client loops on state the destination never issued (WRITE +8429)" },
	{ "4.1: the loop is the loop even while applications are busy", NULL, NULL,
	  SAMPLE(EV(10), OP("READ", 1, 0) OP("FREE_STATEID", 0, 0)),
	  SAMPLE(EV(5010), OP("READ", 2001, 2000) OP("FREE_STATEID", 2000, 0)), 2, 1.0,
	  NM_MSTATS_LOOP, "READ failed 2000 times in 1.0 s while FREE_STATEID ran 2000 times" },
	{ "4.0: WRITE failing while RENEW fails and climbs", NULL, NULL,
	  SAMPLE(EV(10), OP("WRITE", 10, 0) OP("RENEW", 1, 0)),
	  SAMPLE(EV(500), OP("WRITE", 110, 100) OP("RENEW", 101, 100)), 0, 1.0, NM_MSTATS_LOOP,
	  "WRITE failed 100 times in 1.0 s while RENEW ran 100 times: the client loops on state "
	  "the destination never issued (WRITE +100, RENEW +100)" },
	{ "4.0: READ failing while SETCLIENTID(_CONFIRM) climb", NULL, NULL,
	  SAMPLE(EV(10), OP("READ", 10, 0) OP("SETCLIENTID", 1, 0) OP("SETCLIENTID_CONFIRM", 1, 0)),
	  SAMPLE(EV(900),
		 OP("READ", 60, 50) OP("SETCLIENTID", 26, 0) OP("SETCLIENTID_CONFIRM", 26, 0)),
	  0, 1.0, NM_MSTATS_LOOP, "READ failed 50 times in 1.0 s while SETCLIENTID ran 25 times" },
	{ "4.1: failing more often than applications call, no recovery seen", NULL, NULL,
	  SAMPLE(EV(10), OP("WRITE", 10, 0)), SAMPLE(EV(12), OP("WRITE", 510, 500)), 1, 1.0,
	  NM_MSTATS_LOOP, "WRITE failed 500 times in 1.0 s while applications made 2 calls" },

	{ "4.0: more than twice the applications' calls, no recovery seen", NULL, NULL,
	  SAMPLE(EV(100), OP("LOCK", 0, 0)), SAMPLE(EV(200), OP("LOCK", 201, 201)), 0, 1.0,
	  NM_MSTATS_LOOP, "LOCK failed 201 times in 1.0 s while applications made 100 calls" },

	/* Errors that are not about state: the errors grow, recovery does not. */
	{ "4.0: two failing RPCs a call (LOCK asked again) are the applications'", NULL, NULL,
	  SAMPLE(EV(100), OP("LOCK", 0, 0)), SAMPLE(EV(200), OP("LOCK", 200, 200)), 0, 1.0,
	  NM_MSTATS_ERRORS, "LOCK failed 200 times in 1.0 s, no more than twice a call" },
	{ "4.0: a lock denied over and over (flock -n in a loop), one RENEW", NULL, NULL,
	  SAMPLE(EV(100), OP("LOCK", 10, 10) OP("RENEW", 3, 0)),
	  SAMPLE(EV(1000), OP("LOCK", 310, 310) OP("RENEW", 4, 0)), 0, 1.0, NM_MSTATS_ERRORS,
	  "LOCK failed 300 times in 1.0 s, no more than twice a call of the applications (900 "
	  "calls), "
	  "with 1 recovery calls" },
	{ "4.1: a lock denied over and over, SEQUENCE climbing (not a recovery)", NULL, NULL,
	  SAMPLE(EV(100), OP("LOCK", 10, 10) OP("SEQUENCE", 10, 0)),
	  SAMPLE(EV(400), OP("LOCK", 310, 310) OP("SEQUENCE", 310, 0)), 1, 1.0, NM_MSTATS_ERRORS,
	  "not lost state (LOCK +300)" },
	{ "4.1: writes failing with ENOSPC on a full destination", NULL, NULL,
	  SAMPLE(EV(100), OP("WRITE", 100, 0) OP("COMMIT", 5, 0)),
	  SAMPLE(EV(300), OP("WRITE", 140, 40) OP("COMMIT", 6, 0)), 1, 1.0, NM_MSTATS_ERRORS,
	  "WRITE failed 40 times in 1.0 s, no more than twice a call of the applications (200 "
	  "calls)" },
	{ "4.0: writes failing with EDQUOT, COMMIT too", NULL, NULL,
	  SAMPLE(EV(100), OP("WRITE", 100, 0) OP("COMMIT", 5, 0)),
	  SAMPLE(EV(180), OP("WRITE", 130, 30) OP("COMMIT", 15, 10)), 0, 0, NM_MSTATS_ERRORS,
	  "(WRITE +30, COMMIT +10)" },
	{ "4.0: chmod failing with EPERM, one SETATTR a call", NULL, NULL,
	  SAMPLE(EV(10), OP("SETATTR", 0, 0)), SAMPLE(EV(30), OP("SETATTR", 20, 20)), 0, 1.0,
	  NM_MSTATS_ERRORS, "SETATTR failed 20 times in 1.0 s" },
	{ "4.1: two errors are not over and over", NULL, NULL, SAMPLE(EV(0), OP("WRITE", 1, 0)),
	  SAMPLE(EV(0), OP("WRITE", 3, 2)), 1, 1.0, NM_MSTATS_ERRORS,
	  "a stateful operation failed, but not over and over (WRITE +2)" },
	{ "4.0: OPEN failing (a grace period) is not a stateful error", NULL, NULL,
	  SAMPLE(EV(0), OP("OPEN", 1, 0)), SAMPLE(EV(0), OP("OPEN", 500, 499)), 0, 1.0,
	  NM_MSTATS_QUIET, "no stateful operation failed in 1.0 s" },
	{ "4.0: counters near 2^64 (a hostile file) do not wrap into a loop", NULL, NULL,
	  SAMPLE(EV(0), OP("LOCK", 0, 0) OP("WRITE", 0, 0)),
	  SAMPLE("1 0 0 0 18446744073709551600 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0",
		 OP("LOCK", 18446744073709551600, 18446744073709551600)
			 OP("WRITE", 18446744073709551600, 18446744073709551600)),
	  0, 1.0, NM_MSTATS_ERRORS, "LOCK failed 18446744073709551600 times in 1.0 s" },
	{ "4.0: no events line and no recovery: nothing tells who asked", NULL, NULL,
	  NOEV(OP("LOCK", 0, 0)), NOEV(OP("LOCK", 50, 50)), 0, 1.0, NM_MSTATS_UNSURE,
	  "LOCK failed 50 times in 1.0 s with no recovery (LOCK +50); mountstats has no events "
	  "line" },
};

static int load(const char *file, const char *text, struct nm_mstats *s, struct nm_err *err)
{
	if (text)
		return nm_mstats_parse(text, strlen(text), s, err);

	char *name = NULL, *path;
	int rc;

	if (asprintf(&name, "vm/%s", file) < 0)
		return -ENOMEM;
	path = fixture(name);
	free(name);
	if (!path)
		return -ENOMEM;
	rc = nm_mstats_read(path, s, err);
	free(path);
	return rc;
}

static void test_table(struct unit *u)
{
	static const char *const names[] = { "QUIET", "ERRORS", "UNSURE", "LOOP" };

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct nm_mstats a = { 0 }, b = { 0 };
		struct nm_err err = { 0 };
		struct nm_mstats_verdict v = { .state = NM_MSTATS_QUIET };
		const struct nm_mstats_mount *x = NULL, *y = NULL;

		if (load(r->file1, r->text1, &a, &err) == 0 &&
		    load(r->file2, r->text2, &b, &err) == 0) {
			x = nm_mstats_find(&a, "/mnt/m");
			y = nm_mstats_find(&b, "/mnt/m");
		}
		if (x && y)
			nm_mstats_judge_state(x, y, r->minor, r->secs, &v);
		UNIT_CHECK(u, x && y && v.state == r->want && strstr(v.why, r->says),
			   "state: %s: %s (%s)", r->what, names[v.state], x && y ? v.why : err.msg);
		nm_mstats_free(&a);
		nm_mstats_free(&b);
	}
}

static void test_events(struct unit *u)
{
	struct nm_mstats s = { 0 };
	struct nm_err err = { 0 };
	char *f = fixture("vm/mountstats.state-lost.v4.0.1");
	const struct nm_mstats_mount *m;

	UNIT_CHECK(u, f && nm_mstats_read(f, &s, &err) == 0, "events: the fixture parses %s",
		   err.msg);
	m = nm_mstats_find(&s, "/mnt/m");
	/* events: 1 0 0 0 [1 0 4 13 0 0 0 21 1 0 38 0 0 0] 0 0 13 ... */
	UNIT_CHECK(u, m && m->have_events && m->vfs_calls == 78,
		   "events: the VFS calls of the kernel's line sum to 78 (%llu)",
		   m ? (unsigned long long)m->vfs_calls : 0);
	nm_mstats_free(&s);
	free(f);

	static const char odd[] = DEV "\tevents:\t1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n"
				      "\tper-op statistics\n" DEV
				      "\tevents:\t0 0 0 0 99999999999999999999999 0 0 0 0 0 0 0 0 "
				      "0 0 0 0 0 0\n" DEV "\tevents:\n";
	UNIT_CHECK(u,
		   nm_mstats_parse(odd, sizeof(odd) - 1, &s, &err) == 0 && s.n == 3 &&
			   !s.m[0].have_events && !s.m[1].have_events && !s.m[2].have_events,
		   "events: a short, overflowing or empty line is no events line");
	nm_mstats_free(&s);
}

int main(void)
{
	struct unit u = { 0 };

	unit_start();
	test_table(&u);
	test_events(&u);
	return unit_done(&u);
}
