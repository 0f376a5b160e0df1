/* nm_mstats_judge - the state check's judgement of two mountstats samples.
 *
 * A pure function over two parsed samples of one mount: no I/O, no clock. */
#include "nm_mstats.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* What the Linux client sends to recover state, by minor version. */
static const char *const recovery_v40[] = { "RENEW", "SETCLIENTID", "SETCLIENTID_CONFIRM" };
static const char *const recovery_v41[] = { "TEST_STATEID", "FREE_STATEID" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool in(const char *name, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, set[i]) == 0)
			return true;
	return false;
}

static const struct nm_mstats_op *op_of(const struct nm_mstats_mount *m, const char *name)
{
	for (size_t i = 0; i < m->nops; i++)
		if (strcmp(m->ops[i].name, name) == 0)
			return &m->ops[i];
	return NULL;
}

/* Growth of a counter; a counter that went down (another mount, a reset) grew nothing. */
static uint64_t grew(uint64_t was, uint64_t is)
{
	return is > was ? is - was : 0;
}

struct top {
	const char *name;
	uint64_t n;
	uint64_t sum;
};

static void take(struct top *t, const char *name, uint64_t n)
{
	t->sum = t->sum > UINT64_MAX - n ? UINT64_MAX : t->sum + n; /* a file may lie */
	if (n > t->n) {
		t->n = n;
		t->name = name;
	}
}

/* Appends "NAME +n" for every growth, comma-separated, within len. */
static void detail(char *buf, size_t len, size_t *used, const char *name, uint64_t n)
{
	if (*used >= len)
		return;
	int k = snprintf(buf + *used, len - *used, "%s%s +%" PRIu64, *used ? ", " : "", name, n);

	*used = k < 0 ? len : *used + (size_t)k;
}

void nm_mstats_judge_state(const struct nm_mstats_mount *before,
			   const struct nm_mstats_mount *after, int minorversion, double seconds,
			   struct nm_mstats_verdict *out)
{
	const char *const *rec = minorversion == 0 ? recovery_v40 : recovery_v41;
	size_t nrec = minorversion == 0 ? COUNT(recovery_v40) : COUNT(recovery_v41);
	struct top err = { 0 }, recov = { 0 };
	char list[160] = "", when[48];
	size_t used = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < after->nops; i++) {
		const struct nm_mstats_op *a = &after->ops[i], *b = op_of(before, a->name);
		uint64_t e = grew(b ? b->errors : 0, a->errors);
		uint64_t c = grew(b ? b->ops : 0, a->ops);

		if (nm_mstats_is_state_op(a->name) && e > 0) {
			take(&err, a->name, e);
			detail(list, sizeof(list), &used, a->name, e);
		}
		if (in(a->name, rec, nrec) && c > 0)
			take(&recov, a->name, c);
	}
	out->errors = err.sum;
	if (seconds > 0)
		snprintf(when, sizeof(when), "in %.1f s", seconds);
	else
		snprintf(when, sizeof(when), "between the two samples");

	if (err.sum == 0) {
		out->state = NM_MSTATS_QUIET;
		snprintf(out->why, sizeof(out->why), "no stateful operation failed %s", when);
		return;
	}
	if (err.sum < NM_MSTATS_LOOP_MIN) {
		out->state = NM_MSTATS_ERRORS;
		snprintf(out->why, sizeof(out->why),
			 "a stateful operation failed, but not over and over (%s)", list);
		return;
	}
	if (recov.sum >= NM_MSTATS_LOOP_MIN) {
		out->state = NM_MSTATS_LOOP;
		snprintf(out->why, sizeof(out->why),
			 "state lost after move: %s failed %" PRIu64
			 " times %s while %s ran %" PRIu64
			 " times: the client loops on state the destination never issued (%s); "
			 "processes with files open hang",
			 err.name, err.n, when, recov.name, recov.n, list);
		return;
	}
	if (!before->have_events || !after->have_events) {
		out->state = NM_MSTATS_UNSURE;
		snprintf(out->why, sizeof(out->why),
			 "%s failed %" PRIu64 " times %s with no recovery (%s); mountstats has no "
			 "events line to tell the kernel's retries from applications' calls",
			 err.name, err.n, when, list);
		return;
	}
	uint64_t vfs = grew(before->vfs_calls, after->vfs_calls);

	/* An application's failing call costs one failing RPC, rarely two (a
	 * WRITE and its COMMIT, a LOCK asked again with a new seqid); a loop
	 * of the kernel's own costs thousands with no call at all. */
	if (err.sum > vfs && err.sum - vfs > vfs) {
		out->state = NM_MSTATS_LOOP;
		snprintf(out->why, sizeof(out->why),
			 "state lost after move: %s failed %" PRIu64 " times %s while applications "
			 "made %" PRIu64 " calls: the client retries on its own with state the "
			 "destination never issued (%s); processes with files open hang",
			 err.name, err.n, when, vfs, list);
		return;
	}
	out->state = NM_MSTATS_ERRORS;
	snprintf(out->why, sizeof(out->why),
		 "%s failed %" PRIu64
		 " times %s, no more than twice a call of the applications (%" PRIu64
		 " calls), with %" PRIu64 " recovery calls: errors the server gave them (a lock "
		 "denied, no space, a permission), not lost state (%s)",
		 err.name, err.n, when, vfs, recov.sum, list);
}
