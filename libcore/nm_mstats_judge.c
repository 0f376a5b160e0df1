/* nm_mstats_judge - the state check's judgement of mountstats samples.
 *
 * A pure function over parsed samples of one mount: no I/O, no clock. */
#include "nm_mstats.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* What the Linux client sends to recover state, by minor version. */
static const char *const recovery_v40[] = { "RENEW", "SETCLIENTID", "SETCLIENTID_CONFIRM" };
static const char *const recovery_v41[] = { "TEST_STATEID", "FREE_STATEID" };
/* Every recovery operation: never counted as an error of state. */
static const char *const recovery_all[] = { "RENEW", "SETCLIENTID", "SETCLIENTID_CONFIRM",
					    "TEST_STATEID", "FREE_STATEID" };

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

static uint64_t add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The first counter of b that is below a's (or gone), or NULL. */
static const char *went_down(const struct nm_mstats_sample *a, const struct nm_mstats_sample *b)
{
	for (size_t i = 0; i < a->m->nops; i++) {
		const struct nm_mstats_op *x = &a->m->ops[i], *y = op_of(b->m, x->name);

		if (!y || y->ops < x->ops || y->errors < x->errors)
			return x->name;
	}
	if (a->rpc && b->rpc) {
		if (b->rpc->n < a->rpc->n)
			return "proc4";
		for (size_t i = 0; i < a->rpc->n; i++)
			if (b->rpc->calls[i] < a->rpc->calls[i])
				return "proc4";
	}
	return NULL;
}

/* What grew from a to b (no counter went down). */
struct growth {
	uint64_t errors; /* of the stateful operations, not the recovery ones */
	const char *top; /* the stateful operation that failed most */
	uint64_t top_n;
	uint64_t rec_mount;  /* recovery calls on the mount */
	uint64_t rec_ns;     /* recovery calls of the namespace (proc4) */
	const char *rec_top; /* the recovery operation called most */
	uint64_t rec_top_n;
	bool have_ns;
	char list[96]; /* "WRITE +8428, CLOSE +1" */
};

static void list_add(char *buf, size_t len, const char *name, uint64_t n)
{
	size_t used = strlen(buf);

	if (used + 4 >= len)
		return;
	int k = snprintf(buf + used, len - used, "%s%s +%" PRIu64, used ? ", " : "", name, n);

	if (k < 0 || (size_t)k >= len - used)
		strcpy(buf + len - 4, "...");
}

static void grow(const struct nm_mstats_sample *a, const struct nm_mstats_sample *b, int minor,
		 struct growth *g)
{
	const char *const *rec = minor == 0 ? recovery_v40 : recovery_v41;
	size_t nrec = minor == 0 ? COUNT(recovery_v40) : COUNT(recovery_v41);

	memset(g, 0, sizeof(*g));
	g->have_ns = a->rpc && b->rpc && a->rpc->n > 0 && b->rpc->n > 0;
	for (size_t i = 0; i < b->m->nops; i++) {
		const struct nm_mstats_op *y = &b->m->ops[i], *x = op_of(a->m, y->name);
		uint64_t e = y->errors - (x ? x->errors : 0);
		uint64_t c = y->ops - (x ? x->ops : 0);

		if (nm_mstats_is_state_op(y->name) &&
		    !in(y->name, recovery_all, COUNT(recovery_all)) && e > 0) {
			g->errors = add(g->errors, e);
			if (e > g->top_n) {
				g->top_n = e;
				g->top = y->name;
			}
			list_add(g->list, sizeof(g->list), y->name, e);
		}
		if (!in(y->name, rec, nrec))
			continue;
		uint64_t ns = 0;

		if (g->have_ns && y->idx < a->rpc->n && y->idx < b->rpc->n)
			ns = b->rpc->calls[y->idx] - a->rpc->calls[y->idx];
		g->rec_mount = add(g->rec_mount, c);
		g->rec_ns = add(g->rec_ns, ns);
		if ((c > ns ? c : ns) > g->rec_top_n) {
			g->rec_top_n = c > ns ? c : ns;
			g->rec_top = y->name;
		}
	}
}

static uint64_t recovery(const struct growth *g)
{
	/* The namespace's calls include the mount's. */
	return g->rec_ns > g->rec_mount ? g->rec_ns : g->rec_mount;
}

static void say(struct nm_mstats_verdict *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct nm_mstats_verdict *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int k = vsnprintf(out->why, sizeof(out->why), fmt, ap);

	va_end(ap);
	if (k >= (int)sizeof(out->why))
		strcpy(out->why + sizeof(out->why) - 4, "...");
}

void nm_mstats_judge_state(const struct nm_mstats_sample *s, size_t n, int minor,
			   struct nm_mstats_verdict *out)
{
	const struct nm_mstats_sample *first = &s[0], *last = &s[n - 1];
	const struct nm_mstats_sample *mid = n == 3 ? &s[1] : NULL;
	const char *down = NULL, *rname = minor == 0 ? "RENEW/SETCLIENTID" : "TEST_STATEID";
	struct growth all, h1, h2;
	char when[48], rec[96];

	memset(out, 0, sizeof(*out));
	if (n < 2 || n > 3 || !first->m || !last->m || (mid && !mid->m)) {
		out->state = NM_MSTATS_UNSURE;
		say(out, "not enough samples to judge");
		return;
	}
	if (mid)
		down = went_down(first, mid) ? went_down(first, mid) : went_down(mid, last);
	else
		down = went_down(first, last);
	if (down) {
		out->state = NM_MSTATS_UNSURE;
		say(out,
		    "the counters went down between the samples (%s; the mount replaced, a "
		    "counter wrapped): cannot tell",
		    down);
		return;
	}
	grow(first, last, minor, &all);
	out->errors = all.errors;
	if (first->at >= 0 && last->at > first->at)
		snprintf(when, sizeof(when), "in %.1f s", last->at - first->at);
	else
		snprintf(when, sizeof(when), "between the samples");
	if (all.errors == 0) {
		out->state = NM_MSTATS_QUIET;
		say(out, "no stateful operation failed %s", when);
		return;
	}
	if (all.have_ns)
		snprintf(rec, sizeof(rec), "%s +%" PRIu64 " on the mount, +%" PRIu64 " in proc4",
			 rname, all.rec_mount, all.rec_ns);
	else
		snprintf(rec, sizeof(rec), "%s +%" PRIu64 " on the mount", rname, all.rec_mount);

	bool sustained = false, with = false;

	if (mid) {
		grow(first, mid, minor, &h1);
		grow(mid, last, minor, &h2);
		sustained = h1.errors > 0 && h2.errors > 0 && all.errors >= NM_MSTATS_LOOP_MIN;
		with = recovery(&h1) > 0 && recovery(&h2) > 0 &&
		       recovery(&all) >= NM_MSTATS_LOOP_MIN &&
		       recovery(&all) >= all.errors / NM_MSTATS_LOOP_ORDER;
	}
	if (sustained && with) {
		out->state = NM_MSTATS_LOOP;
		say(out,
		    "state lost after move: %s failed %" PRIu64 " times %s while %s ran %" PRIu64
		    " times with it (%s): the client loops on state the destination "
		    "never issued; processes with files open hang",
		    all.top, all.top_n, when, all.rec_top, recovery(&all), all.list);
		return;
	}
	if (sustained && all.have_ns && recovery(&all) == 0) {
		/* The loop always shows its recovery calls in proc4 (one RENEW or
		 * TEST_STATEID a failed call): none at all while errors go on is
		 * the applications' own errors. */
		out->state = NM_MSTATS_ERRORS;
		say(out,
		    "%s failed %" PRIu64 " times %s (%s) with no recovery call (%s): the "
		    "applications' own errors (a lock denied, a full destination), not lost state",
		    all.top, all.top_n, when, all.list, rec);
		return;
	}
	if (sustained || (!mid && all.errors >= NM_MSTATS_LOOP_MIN)) {
		out->state = NM_MSTATS_UNSURE;
		say(out,
		    "stateful operations failed %" PRIu64 " times %s (%s), %s; no recovery of "
		    "that order: a lock denied, a full destination or lost state, cannot tell",
		    all.errors, when, all.list, rec);
		return;
	}
	out->state = NM_MSTATS_ERRORS;
	say(out, "%s failed %" PRIu64 " times %s, not over and over (%s): not lost state", all.top,
	    all.top_n, when, all.list);
}
