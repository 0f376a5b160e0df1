/* The state check's judge (nm_mstats_judge_state), from a table: pairs of
 * samples the real kernel wrote in the VM (tests/fixtures/vm) and pairs
 * written here for the patterns the VM scenarios show (scenario 1c): a lock
 * denied over and over, writes failing with ENOSPC or EDQUOT, chmod failing
 * with EPERM, against the kernel's own loop on state the destination never
 * issued. */
#include <errno.h>
#include <stdbool.h>
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

/* One mount's sample: OPS its per-op lines (their order gives each its
 * procedure number, as the kernel's do). */
#define DEV	    "device s:/d mounted on /mnt/m with fstype nfs4 statvers=1.1\n"
#define SAMPLE(ops) DEV "\tper-op statistics\n" ops
/* name calls errors, the other numbers 0 */
#define OP(name, calls, errors) "\t" name ": " #calls " " #calls " 0 0 0 0 0 0 " #errors "\n"
/* Procedure numbers 0 NULL, 1 WRITE, 2 RENEW, 3 LOCK, 4 TEST_STATEID. */
#define OPS5(w, we, r, l, le, t)                                                                   \
	SAMPLE(OP("NULL", 0, 0) OP("WRITE", w, we) OP("RENEW", r, 0) OP("LOCK", l, le)             \
		       OP("TEST_STATEID", t, 0))
/* /proc/net/rpc/nfs for them: the namespace's calls of the same procedures. */
#define PROC4(w, r, l, t) "net 0 0 0 0\nrpc 1 0 1\nproc4 5 0 " #w " " #r " " #l " " #t "\n"
/* A fixture of tests/fixtures/vm rather than a text. */
#define VMF "@"

struct row {
	const char *what;
	const char *ms[3];  /* the mount's samples, oldest first (ms[2] NULL: two) */
	const char *rpc[3]; /* the namespace's calls with them, NULL: not read */
	int minor;
	double secs; /* from the first sample to the last, 0: not known */
	enum nm_mstats_state want;
	const char *says; /* a part of the verdict's words */
};

static const struct row rows[] = {
	/* The real kernel (Debian 6.1, scenario 1b): WRITE fails STALE_STATEID
	 * 2600 -> 3804 -> 4698 while the namespace's RENEW climbs 2627 -> 3836
	 * -> 4731 (the mount's own RENEW stays 0). */
	{ "4.0: the writer held open across the move loops (scenario 1b)",
	  { VMF "mountstats.state-lost.v4.0.1", VMF "mountstats.state-lost.v4.0.2",
	    VMF "mountstats.state-lost.v4.0.3" },
	  { VMF "rpc-nfs.state-lost.v4.0.1", VMF "rpc-nfs.state-lost.v4.0.2",
	    VMF "rpc-nfs.state-lost.v4.0.3" },
	  0,
	  2.0,
	  NM_MSTATS_LOOP,
	  "state lost after move: WRITE failed 2098 times in 2.0 s while RENEW ran 2104 times "
	  "with it (WRITE +2098)" },
	{ "4.0: the loop with a reader and a walker on the same mount (scenario 1d)",
	  { VMF "mountstats.state-lost-reader.v4.0.1", VMF "mountstats.state-lost-reader.v4.0.2",
	    VMF "mountstats.state-lost-reader.v4.0.3" },
	  { VMF "rpc-nfs.state-lost-reader.v4.0.1", VMF "rpc-nfs.state-lost-reader.v4.0.2",
	    VMF "rpc-nfs.state-lost-reader.v4.0.3" },
	  0,
	  2.0,
	  NM_MSTATS_LOOP,
	  "state lost after move: WRITE failed 715 times in 2.0 s while RENEW ran 719 times" },
	{ "4.0: the same loop without the namespace's counters cannot be told",
	  { VMF "mountstats.state-lost.v4.0.1", VMF "mountstats.state-lost.v4.0.2",
	    VMF "mountstats.state-lost.v4.0.3" },
	  { NULL },
	  0,
	  2.0,
	  NM_MSTATS_UNSURE,
	  "stateful operations failed 2098 times in 2.0 s (WRITE +2098), RENEW/SETCLIENTID +0 on "
	  "the mount; no recovery of that order" },
	{ "4.0: the same loop, two saved samples: cannot be told",
	  { VMF "mountstats.state-lost.v4.0.1", VMF "mountstats.state-lost.v4.0.3" },
	  { VMF "rpc-nfs.state-lost.v4.0.1", VMF "rpc-nfs.state-lost.v4.0.3" },
	  0,
	  0,
	  NM_MSTATS_UNSURE,
	  "failed 2098 times between the samples (WRITE +2098), RENEW/SETCLIENTID +0 on the "
	  "mount, +2104 in proc4" },
	{ "4.0: samples in the wrong order: the counters went down",
	  { VMF "mountstats.state-lost.v4.0.3", VMF "mountstats.state-lost.v4.0.2",
	    VMF "mountstats.state-lost.v4.0.1" },
	  { NULL },
	  0,
	  2.0,
	  NM_MSTATS_UNSURE,
	  "the counters went down between the samples (WRITE" },
	{ "4.1: the client recovered after one TEST_STATEID, the writer goes on (scenario 2b)",
	  { VMF "mountstats.state-lost.v4.1.1", VMF "mountstats.state-lost.v4.1.2",
	    VMF "mountstats.state-lost.v4.1.3" },
	  { VMF "rpc-nfs.state-lost.v4.1.1", VMF "rpc-nfs.state-lost.v4.1.2",
	    VMF "rpc-nfs.state-lost.v4.1.3" },
	  1,
	  2.0,
	  NM_MSTATS_QUIET,
	  "no stateful operation failed in 2.0 s" },
	{ "4.0: samples on both sides of the move: the per-op table starts again (scenario 1)",
	  { VMF "mountstats.v4.0.before", VMF "mountstats.v4.0.after" },
	  { NULL },
	  0,
	  1.0,
	  NM_MSTATS_UNSURE,
	  "the counters went down between the samples (NULL;" },
	{ "4.1: a healthy migration, both samples after the move (scenario 2)",
	  { VMF "mountstats.v4.1.after", VMF "mountstats.v4.1.after" },
	  { NULL },
	  1,
	  1.0,
	  NM_MSTATS_QUIET,
	  "no stateful operation failed in 1.0 s" },

	/* The real kernel, scenario 1c (two samples around verify, with proc4):
	 * errors the server gave, the recovery flat: at worst cannot tell,
	 * never state lost. */
	{ "4.0: lockf polled, a lock denied over and over (scenario 1c)",
	  { VMF "mountstats.lock-denied.v4.0.1", VMF "mountstats.lock-denied.v4.0.2" },
	  { VMF "rpc-nfs.lock-denied.v4.0.1", VMF "rpc-nfs.lock-denied.v4.0.2" },
	  0,
	  0,
	  NM_MSTATS_UNSURE,
	  "stateful operations failed 259 times between the samples (LOCK +259), RENEW/SETCLIENTID "
	  "+0 on the mount, +0 in proc4" },
	{ "4.0: flock -n polled (scenario 1c)",
	  { VMF "mountstats.flock-denied.v4.0.1", VMF "mountstats.flock-denied.v4.0.2" },
	  { VMF "rpc-nfs.flock-denied.v4.0.1", VMF "rpc-nfs.flock-denied.v4.0.2" },
	  0,
	  0,
	  NM_MSTATS_UNSURE,
	  "(LOCK +205), RENEW/SETCLIENTID +0 on the mount, +0 in proc4" },
	{ "4.0: a blocking lock waiter (scenario 1c)",
	  { VMF "mountstats.lock-waiter.v4.0.1", VMF "mountstats.lock-waiter.v4.0.2" },
	  { VMF "rpc-nfs.lock-waiter.v4.0.1", VMF "rpc-nfs.lock-waiter.v4.0.2" },
	  0,
	  0,
	  NM_MSTATS_ERRORS,
	  "LOCK failed 2 times between the samples, not over and over" },
	{ "4.0: writes and fsync failing with ENOSPC (scenario 1c)",
	  { VMF "mountstats.nospace.v4.0.1", VMF "mountstats.nospace.v4.0.2" },
	  { VMF "rpc-nfs.nospace.v4.0.1", VMF "rpc-nfs.nospace.v4.0.2" },
	  0,
	  0,
	  NM_MSTATS_UNSURE,
	  "(WRITE +145), RENEW/SETCLIENTID +0 on the mount, +0 in proc4" },
	{ "4.0: O_DIRECT writes failing with ENOSPC (scenario 1c)",
	  { VMF "mountstats.nospace-direct.v4.0.1", VMF "mountstats.nospace-direct.v4.0.2" },
	  { VMF "rpc-nfs.nospace-direct.v4.0.1", VMF "rpc-nfs.nospace-direct.v4.0.2" },
	  0,
	  0,
	  NM_MSTATS_UNSURE,
	  "(WRITE +165)" },
	{ "4.0: writeback failing with ENOSPC, no fsync (scenario 1c)",
	  { VMF "mountstats.nospace-writeback.v4.0.1", VMF "mountstats.nospace-writeback.v4.0.2" },
	  { VMF "rpc-nfs.nospace-writeback.v4.0.1", VMF "rpc-nfs.nospace-writeback.v4.0.2" },
	  0,
	  0,
	  NM_MSTATS_UNSURE,
	  "(WRITE +39)" },
	/* Scenario 2c: the same with NFSv4.1. */
	{ "4.1: lockf polled (scenario 2c)",
	  { VMF "mountstats.lock-denied.v4.1.1", VMF "mountstats.lock-denied.v4.1.2" },
	  { VMF "rpc-nfs.lock-denied.v4.1.1", VMF "rpc-nfs.lock-denied.v4.1.2" },
	  1,
	  0,
	  NM_MSTATS_UNSURE,
	  "(LOCK +236), TEST_STATEID +0 on the mount, +0 in proc4" },
	{ "4.1: flock -n polled (scenario 2c)",
	  { VMF "mountstats.flock-denied.v4.1.1", VMF "mountstats.flock-denied.v4.1.2" },
	  { VMF "rpc-nfs.flock-denied.v4.1.1", VMF "rpc-nfs.flock-denied.v4.1.2" },
	  1,
	  0,
	  NM_MSTATS_UNSURE,
	  "(LOCK +220)" },
	{ "4.1: a blocking lock waiter, asked again every 30 s (scenario 2c)",
	  { VMF "mountstats.lock-waiter.v4.1.1", VMF "mountstats.lock-waiter.v4.1.2" },
	  { VMF "rpc-nfs.lock-waiter.v4.1.1", VMF "rpc-nfs.lock-waiter.v4.1.2" },
	  1,
	  0,
	  NM_MSTATS_QUIET,
	  "no stateful operation failed between the samples" },
	{ "4.1: writes and fsync failing with ENOSPC (scenario 2c)",
	  { VMF "mountstats.nospace.v4.1.1", VMF "mountstats.nospace.v4.1.2" },
	  { VMF "rpc-nfs.nospace.v4.1.1", VMF "rpc-nfs.nospace.v4.1.2" },
	  1,
	  0,
	  NM_MSTATS_UNSURE,
	  "(WRITE +167), TEST_STATEID +0 on the mount, +0 in proc4" },
	{ "4.1: O_DIRECT writes failing with ENOSPC (scenario 2c)",
	  { VMF "mountstats.nospace-direct.v4.1.1", VMF "mountstats.nospace-direct.v4.1.2" },
	  { VMF "rpc-nfs.nospace-direct.v4.1.1", VMF "rpc-nfs.nospace-direct.v4.1.2" },
	  1,
	  0,
	  NM_MSTATS_UNSURE,
	  "(WRITE +172)" },
	{ "4.1: writeback failing with ENOSPC, no fsync (scenario 2c)",
	  { VMF "mountstats.nospace-writeback.v4.1.1", VMF "mountstats.nospace-writeback.v4.1.2" },
	  { VMF "rpc-nfs.nospace-writeback.v4.1.1", VMF "rpc-nfs.nospace-writeback.v4.1.2" },
	  1,
	  0,
	  NM_MSTATS_UNSURE,
	  "(WRITE +42)" },

	/* The loop, written here. */
	{ "4.1: WRITE failing while TEST_STATEID climbs with it",
	  { OPS5(100, 90, 0, 0, 0, 5), OPS5(4000, 3990, 0, 0, 0, 3900),
	    OPS5(8529, 8519, 0, 0, 0, 8433) },
	  { NULL },
	  1,
	  1.0,
	  NM_MSTATS_LOOP,
	  "WRITE failed 8429 times in 1.0 s while TEST_STATEID ran 8428 times with it" },
	{ "4.0: the loop is the loop while a reader keeps the mount busy",
	  { OPS5(10, 0, 0, 0, 0, 0), OPS5(1010, 1000, 0, 0, 0, 0), OPS5(2010, 2000, 0, 0, 0, 0) },
	  { PROC4(10, 5, 0, 0), PROC4(5010, 1005, 0, 0), PROC4(9010, 2005, 0, 0) },
	  0,
	  2.0,
	  NM_MSTATS_LOOP,
	  "WRITE failed 2000 times in 2.0 s while RENEW ran 2000 times" },
	{ "4.0: a lock denied over and over, no recovery call anywhere (proc4 read): the "
	  "application's own errors",
	  { OPS5(10, 0, 0, 10, 0, 0), OPS5(10, 0, 0, 110, 100, 0), OPS5(10, 0, 0, 210, 200, 0) },
	  { PROC4(10, 5, 10, 0), PROC4(10, 5, 110, 0), PROC4(10, 5, 210, 0) },
	  0,
	  2.0,
	  NM_MSTATS_ERRORS,
	  "LOCK failed 200 times in 2.0 s (LOCK +200) with no recovery call" },
	{ "4.1: writes failing ENOSPC over and over, no TEST_STATEID anywhere: not lost state",
	  { OPS5(10, 0, 0, 0, 0, 0), OPS5(110, 100, 0, 0, 0, 0), OPS5(210, 200, 0, 0, 0, 0) },
	  { PROC4(10, 0, 0, 0), PROC4(110, 0, 0, 0), PROC4(210, 0, 0, 0) },
	  1,
	  2.0,
	  NM_MSTATS_ERRORS,
	  "WRITE failed 200 times in 2.0 s (WRITE +200) with no recovery call" },
	{ "4.0: a loop that stopped halfway (the client recovered) is not state lost",
	  { OPS5(10, 0, 0, 0, 0, 0), OPS5(1010, 1000, 0, 0, 0, 0), OPS5(1020, 1000, 0, 0, 0, 0) },
	  { PROC4(10, 5, 0, 0), PROC4(1010, 1005, 0, 0), PROC4(1020, 1005, 0, 0) },
	  0,
	  2.0,
	  NM_MSTATS_ERRORS,
	  "WRITE failed 1000 times in 2.0 s, not over and over" },
	{ "4.1: recovery once after the cutover, three files: not a loop",
	  { OPS5(10, 0, 0, 0, 0, 0), OPS5(13, 3, 0, 0, 0, 3), OPS5(20, 3, 0, 0, 0, 3) },
	  { NULL },
	  1,
	  2.0,
	  NM_MSTATS_ERRORS,
	  "not over and over (WRITE +3)" },
	{ "4.1: TEST_STATEID counts as recovery, never as an error of state",
	  { SAMPLE(OP("TEST_STATEID", 0, 0) OP("FREE_STATEID", 0, 0)),
	    SAMPLE(OP("TEST_STATEID", 3, 3) OP("FREE_STATEID", 3, 3)),
	    SAMPLE(OP("TEST_STATEID", 6, 6) OP("FREE_STATEID", 6, 6)) },
	  { NULL },
	  1,
	  2.0,
	  NM_MSTATS_QUIET,
	  "no stateful operation failed in 2.0 s" },

	/* Errors that are not about state: sustained, no recovery of their order. */
	{ "4.0: flock -n polled (no VFS lock call counted), one renewal",
	  { OPS5(0, 0, 3, 10, 10, 0), OPS5(0, 0, 3, 160, 160, 0), OPS5(0, 0, 3, 310, 310, 0) },
	  { PROC4(0, 3, 10, 0), PROC4(0, 3, 160, 0), PROC4(0, 4, 310, 0) },
	  0,
	  2.0,
	  NM_MSTATS_UNSURE,
	  "stateful operations failed 300 times in 2.0 s (LOCK +300), RENEW/SETCLIENTID +0 on "
	  "the mount, +1 in proc4; no recovery of that order" },
	{ "4.0: a blocking waiter (LOCK resent after 1, 2, 4 s): not over and over",
	  { OPS5(0, 0, 3, 2, 2, 0), OPS5(0, 0, 3, 3, 3, 0), OPS5(0, 0, 3, 3, 3, 0) },
	  { PROC4(0, 3, 2, 0), PROC4(0, 3, 3, 0), PROC4(0, 3, 3, 0) },
	  0,
	  2.0,
	  NM_MSTATS_ERRORS,
	  "LOCK failed 1 times in 2.0 s, not over and over" },
	{ "4.1: an O_DIRECT writer on a full destination",
	  { OPS5(100, 0, 0, 0, 0, 0), OPS5(150, 50, 0, 0, 0, 0), OPS5(200, 100, 0, 0, 0, 0) },
	  { NULL },
	  1,
	  2.0,
	  NM_MSTATS_UNSURE,
	  "(WRITE +100), TEST_STATEID +0 on the mount" },
	{ "4.0: writeback of earlier pages failing ENOSPC, one burst",
	  { OPS5(100, 0, 0, 0, 0, 0), OPS5(160, 60, 0, 0, 0, 0), OPS5(160, 60, 0, 0, 0, 0) },
	  { PROC4(100, 1, 0, 0), PROC4(160, 1, 0, 0), PROC4(160, 1, 0, 0) },
	  0,
	  2.0,
	  NM_MSTATS_ERRORS,
	  "WRITE failed 60 times in 2.0 s, not over and over" },
	{ "4.0: two errors are not over and over",
	  { OPS5(1, 0, 0, 0, 0, 0), OPS5(2, 1, 0, 0, 0, 0), OPS5(3, 2, 0, 0, 0, 0) },
	  { NULL },
	  0,
	  2.0,
	  NM_MSTATS_ERRORS,
	  "WRITE failed 2 times in 2.0 s, not over and over" },
	{ "4.0: OPEN failing (a grace period) is not a stateful error",
	  { SAMPLE(OP("OPEN", 1, 0)), SAMPLE(OP("OPEN", 500, 499)) },
	  { NULL },
	  0,
	  1.0,
	  NM_MSTATS_QUIET,
	  "no stateful operation failed in 1.0 s" },
	{ "4.0: a counter that went down is never read as 0",
	  { OPS5(10, 0, 0, 0, 0, 0), OPS5(5, 0, 0, 0, 0, 0) },
	  { NULL },
	  0,
	  1.0,
	  NM_MSTATS_UNSURE,
	  "the counters went down between the samples (WRITE;" },
	{ "4.0: the namespace's counters that went down",
	  { OPS5(10, 0, 0, 0, 0, 0), OPS5(10, 0, 0, 0, 0, 0) },
	  { PROC4(10, 9, 0, 0), PROC4(10, 8, 0, 0) },
	  0,
	  1.0,
	  NM_MSTATS_UNSURE,
	  "(proc4;" },
	{ "4.0: counters near 2^64 (a hostile file) saturate",
	  { SAMPLE(OP("LOCK", 0, 0) OP("WRITE", 0, 0)),
	    SAMPLE(OP("LOCK", 18446744073709551600, 18446744073709551600)
			   OP("WRITE", 18446744073709551600, 18446744073709551600)) },
	  { NULL },
	  0,
	  1.0,
	  NM_MSTATS_UNSURE,
	  "failed 18446744073709551615 times in 1.0 s" },
	{ "4.0: a long list is cut with a mark, within the check's size",
	  { SAMPLE(OP("READ", 0, 0) OP("WRITE", 0, 0) OP("COMMIT", 0, 0) OP("CLOSE", 0, 0)
			   OP("SETATTR", 0, 0) OP("LOCK", 0, 0) OP("LOCKU", 0, 0)
				   OP("DELEGRETURN", 0, 0) OP("OPEN_DOWNGRADE", 0, 0)),
	    SAMPLE(OP("READ", 1000000, 1000000) OP("WRITE", 1000000, 1000000)
			   OP("COMMIT", 1000000, 1000000) OP("CLOSE", 1000000, 1000000) OP(
				   "SETATTR", 1000000, 1000000) OP("LOCK", 1000000, 1000000)
				   OP("LOCKU", 1000000, 1000000) OP("DELEGRETURN", 1000000, 1000000)
					   OP("OPEN_DOWNGRADE", 1000000, 1000000)) },
	  { NULL },
	  0,
	  1.0,
	  NM_MSTATS_UNSURE,
	  "..." },
};

/* A sample: "@name" is a fixture of tests/fixtures/vm, else the text itself. */
static char *fixture_vm(const char *at)
{
	char *name = NULL, *path;

	if (asprintf(&name, "vm/%s", at + 1) < 0)
		return NULL;
	path = fixture(name);
	free(name);
	return path;
}

static int load(const char *what, struct nm_mstats *s, struct nm_err *err)
{
	if (what[0] != '@')
		return nm_mstats_parse(what, strlen(what), s, err);

	char *path = fixture_vm(what);
	int rc = path ? nm_mstats_read(path, s, err) : -ENOMEM;

	free(path);
	return rc;
}

static int load_rpc(const char *what, struct nm_mstats_rpc *r, struct nm_err *err)
{
	if (what[0] != '@')
		return nm_mstats_rpc_parse(what, strlen(what), r, err);

	char *path = fixture_vm(what);
	int rc = path ? nm_mstats_rpc_read(path, r, err) : -ENOMEM;

	free(path);
	return rc;
}

static void test_table(struct unit *u)
{
	static const char *const names[] = { "QUIET", "ERRORS", "UNSURE", "LOOP" };

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct nm_mstats ms[3] = { 0 };
		struct nm_mstats_rpc rpc[3];
		struct nm_mstats_sample sm[3] = { 0 };
		struct nm_err err = { 0 };
		struct nm_mstats_verdict v = { .state = NM_MSTATS_QUIET };
		size_t n = r->ms[2] ? 3 : 2;
		bool ok = true;

		for (size_t k = 0; k < n && ok; k++) {
			ok = load(r->ms[k], &ms[k], &err) == 0 &&
			     (!r->rpc[k] || load_rpc(r->rpc[k], &rpc[k], &err) == 0);
			sm[k].m = ok ? nm_mstats_find(&ms[k], "/mnt/m") : NULL;
			sm[k].rpc = r->rpc[k] ? &rpc[k] : NULL;
			/* saved samples carry no time: the kernel's are a second apart */
			sm[k].at = r->secs > 0 ? r->secs * (double)k / (double)(n - 1) : -1;
			ok = ok && sm[k].m;
		}
		if (ok)
			nm_mstats_judge_state(sm, n, r->minor, &v);
		UNIT_CHECK(u, ok && v.state == r->want && strstr(v.why, r->says),
			   "state: %s: %s (%s)", r->what, names[v.state], ok ? v.why : err.msg);
		for (size_t k = 0; k < n; k++)
			nm_mstats_free(&ms[k]);
	}
}

static void test_rpc(struct unit *u)
{
	struct nm_mstats_rpc r;
	struct nm_err err = { 0 };
	char *f = fixture("vm/rpc-nfs.state-lost.v4.0.1");

	UNIT_CHECK(u, f && nm_mstats_rpc_read(f, &r, &err) == 0 && r.n == 69,
		   "rpc: the kernel's proc4 line has 69 procedures (%zu) %s", f ? r.n : 0, err.msg);
	/* proc4 69 [NULL 2] 0 [WRITE 2636] ... [RENEW 2627] */
	UNIT_CHECK(u, r.calls[0] == 2 && r.calls[2] == 2636 && r.calls[11] == 2627,
		   "rpc: WRITE (2) and RENEW (11) are counted");
	free(f);

	struct nm_mstats s = { 0 };

	f = fixture("vm/mountstats.state-lost.v4.0.1");
	const struct nm_mstats_mount *m =
		f && nm_mstats_read(f, &s, &err) == 0 ? nm_mstats_find(&s, "/mnt/m") : NULL;
	const struct nm_mstats_op *w = NULL, *rn = NULL;

	for (size_t i = 0; m && i < m->nops; i++) {
		if (strcmp(m->ops[i].name, "WRITE") == 0)
			w = &m->ops[i];
		if (strcmp(m->ops[i].name, "RENEW") == 0)
			rn = &m->ops[i];
	}
	UNIT_CHECK(u, w && rn && w->idx == 2 && rn->idx == 11,
		   "rpc: the per-op lines' order is the procedure number (WRITE 2, RENEW 11)");
	nm_mstats_free(&s);
	free(f);

	static const char odd[] = "proc4 3 1 2 99999999999999999999999\n";
	UNIT_CHECK(u, nm_mstats_rpc_parse(odd, sizeof(odd) - 1, &r, &err) == 0 && r.n == 0,
		   "rpc: an overflowing counter is no proc4 line");
	static const char none[] = "net 0 0 0 0\nrpc 1 0 1\nproc3 2 0 0\n";
	UNIT_CHECK(u, nm_mstats_rpc_parse(none, sizeof(none) - 1, &r, &err) == 0 && r.n == 0,
		   "rpc: no proc4 line, no counters");
	static const char big[] = "proc4 200 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 "
				  "1 1 1 1 1 1 1 1 1 1 1 "
				  "1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 "
				  "1 1 1 1 1 1 1 1 1 1 1 "
				  "1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 "
				  "1 1 1 1 1 1 1 1 1 1 1 "
				  "1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1\n";
	UNIT_CHECK(u,
		   nm_mstats_rpc_parse(big, sizeof(big) - 1, &r, &err) == 0 &&
			   r.n == NM_MSTATS_MAX_OPS,
		   "rpc: more procedures than kept are cut at %d (%zu)", NM_MSTATS_MAX_OPS, r.n);
}

int main(void)
{
	struct unit u = { 0 };

	unit_start();
	test_table(&u);
	test_rpc(&u);
	return unit_done(&u);
}
