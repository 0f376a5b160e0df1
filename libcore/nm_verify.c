#include "nm_verify.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nm_fsloc.h"
#include "nm_mstats.h"
#include "nm_nfs4.h"
#include "nm_reg.h"
#include "nm_rpc.h"
#include "nm_served.h"
#include "nm_target.h"
#include "nm_verify_batch.h"
#include "nm_verify_judge.h"
#include "nm_time.h"
#include "nm_watch.h"

const char *nm_verdict_name(enum nm_verdict v)
{
	switch (v) {
	case NM_V_OK: return "OK";
	case NM_V_SKIP: return "SKIP";
	case NM_V_WARN: return "WARN";
	case NM_V_FAIL: return "FAIL";
	}
	return "?";
}

const char *nm_check_name(int check)
{
	static const char *names[NM_CHK_N] = { "destination", "nfs",   "same_fs", "security",
					       "source",      "state", "record" };

	return check >= 0 && check < NM_CHK_N ? names[check] : "?";
}

/* --- the destination ------------------------------------------------------- */

/* The path new mounts take on the item's server: the rootpath of the
 * recorded location on it, else the export path.  Points into the record. */
static const char *dest_path(const struct nm_verify_item *it, int timeout_ms)
{
	const char *rp = nm_served_rootpath(&it->rec, it->m.server, timeout_ms);

	if (rp)
		return rp;
	return it->rec.export_path && it->rec.export_path[0] ? it->rec.export_path : "/";
}

static void check_destination(struct nm_verify_item *it, const struct nm_verify_opts *o)
{
	struct nm_verify_dest_facts f = { .now = it->m.server,
					  .to = o->to,
					  .orig = it->rec.orig_server };

	if (o->to)
		f.is_to = nm_served_by(o->to, f.now, o->timeout_ms);
	for (size_t i = 0; !o->to && i < it->rec.nlocations && !f.location; i++) {
		char *srv = nm_served_location_server(it->rec.locations[i]);

		if (srv && nm_served_by(srv, f.now, o->timeout_ms))
			f.location = it->rec.locations[i];
		free(srv);
	}
	nm_verify_judge_destination(&f, &it->chk[NM_CHK_DEST]);
}

/* --- the source --------------------------------------------------------------- */

/* The source, asked once per run: one session, one query per mount. */
struct source {
	struct nm_target t; /* host, port, and the path when --source named one */
	bool fixed_path;
	struct nm_nfs4 *s;
	char fail[NM_ERR_MSG_MAX]; /* why every source check fails, if it does */
};

static void source_open(const struct nm_verify_opts *o, int minor, struct source *src)
{
	struct nm_nfs4_opts no = { .rpc = { .connect_ms = o->timeout_ms, .call_ms = o->timeout_ms },
				   .minor = minor };
	struct nm_err err = { 0 };
	char *spec = NULL;

	memset(src, 0, sizeof(*src));
	/* SERVER[:PORT] alone means each record's export path. */
	src->fixed_path = nm_target_is_remote(o->source);
	if (src->fixed_path)
		spec = strdup(o->source);
	else if (asprintf(&spec, "%s%s%s:/", strchr(o->source, ':') ? "[" : "", o->source,
			  strchr(o->source, ':') ? "]" : "") < 0)
		spec = NULL;
	if (!spec || nm_target_parse(spec, &src->t, &err) < 0) {
		snprintf(src->fail, sizeof(src->fail), "--source: %.480s",
			 spec ? err.msg : "out of memory");
		free(spec);
		return;
	}
	free(spec);
	no.rpc.port = src->t.port;
	if (nm_nfs4_open(src->t.host, &no, &src->s, &err) < 0 &&
	    nm_rpc_not_answering(&err, src->t.host, NULL) < 0)
		snprintf(src->fail, sizeof(src->fail), "%s", err.msg);
	else if (src->s)
		/* A source mid-cutover may answer DELAY: one --timeout for all
		 * the source's queries, as for a destination's group. */
		nm_nfs4_set_delay_deadline(src->s, nm_time_ms() + no.rpc.call_ms);
}

static void source_close(struct source *src)
{
	nm_nfs4_close(src->s);
	nm_target_free(&src->t);
}

static void check_source(struct nm_verify_item *it, const struct nm_verify_opts *o,
			 struct source *src)
{
	struct nm_verify_source_facts f = { .host = src->t.host,
					    .path = src->fixed_path ? src->t.path
								    : it->rec.export_path,
					    .server = it->m.server,
					    .asked = o->source != NULL };
	struct nm_fsloc_result r = { 0 };
	struct nm_err err = { 0 };
	bool have = false;

	if (f.asked && src->fail[0])
		f.error = src->fail;
	else if (f.asked && nm_fsloc_query(src->s, f.path, &r, &err) < 0)
		f.error = err.msg;
	else if (f.asked)
		have = true;
	if (have) {
		f.absent = r.absent;
		f.fs_path = r.fs_path;
		for (size_t i = 0; i < r.nloc && !f.listed; i++)
			for (size_t j = 0; j < r.loc[i].nservers && !f.listed; j++)
				f.listed = nm_served_by(r.loc[i].servers[j], it->m.server,
							o->timeout_ms);
	}
	nm_verify_judge_source(&f, &it->chk[NM_CHK_SOURCE]);
	if (have)
		nm_fsloc_result_free(&r);
}

/* --- the record ---------------------------------------------------------------- */

/* What record_move found under the lock. */
struct move_arg {
	const struct nm_verify_item *it;
	const char *mount_id; /* the mount's identity now, NULL: not known */
	int how;	      /* NM_VERIFY_MOVE_* */
	char *from;	      /* NM_VERIFY_MOVE_SAVED: the record's server the move is from */
	int64_t when;
};

int nm_verify_record_move(struct nm_record *r, const struct nm_record *seen, const char *to,
			  const char *mount_id, int64_t now, char **from, struct nm_err *err)
{
	const char *was;
	int rc;

	*from = NULL;
	if (r->registered != seen->registered || r->root_fh_len != seen->root_fh_len ||
	    memcmp(r->root_fh, seen->root_fh, r->root_fh_len) != 0)
		return NM_VERIFY_MOVE_CHANGED;
	if (r->cur_server && strcmp(r->cur_server, to) == 0)
		return NM_VERIFY_MOVE_ALREADY;
	/* The record is of another mount of this mount point (remounted, from
	 * the old server maybe, after a failed move): the server it names is
	 * not a move of this mount. */
	if (r->mount_id && r->mount_id[0] && mount_id && mount_id[0] &&
	    !nm_watch_same_mount(r->mount_id, mount_id))
		return NM_VERIFY_MOVE_REMOUNTED;
	/* nfsmigd is reporting an earlier move or mount: its marker stays;
	 * once it is done, the daemon finds this move itself.  A marker of
	 * verify's own (no daemon ran to report that move) gives way to the
	 * newer move: a daemon that starts reports the last one. */
	if (r->pending && r->pending[0]) {
		struct nm_watch_pending p;

		if (nm_watch_pending_parse(r->pending, &p) < 0 || strcmp(p.trigger, "verify") != 0)
			return NM_VERIFY_MOVE_PENDING;
	}
	was = r->cur_server && r->cur_server[0]	    ? r->cur_server
	      : r->orig_server && r->orig_server[0] ? r->orig_server
						    : "unknown";
	*from = strdup(was);
	if (!*from)
		return nm_err_set(err, -ENOMEM, "out of memory");
	/* As the daemon records one: the move, the current server and the
	 * marker of the report still to make. */
	rc = nm_watch_apply_move(r, to, "verify", now, NULL, err);
	if (rc != 0) {
		free(*from);
		*from = NULL;
		return rc < 0 ? rc : NM_VERIFY_MOVE_ALREADY;
	}
	return NM_VERIFY_MOVE_SAVED;
}

struct verdict_arg {
	const struct nm_verify_item *it;
	int64_t now;
};

static int save_verdict(struct nm_record *r, const struct nm_store_update *u, void *arg,
			struct nm_err *err)
{
	const struct verdict_arg *x = arg;
	const struct nm_record *seen = &x->it->rec;

	(void)u;
	(void)err;
	if (r->registered != seen->registered || r->root_fh_len != seen->root_fh_len ||
	    memcmp(r->root_fh, seen->root_fh, r->root_fh_len) != 0)
		return 1; /* registered again: not the record verify judged */
	r->verify_time = x->now;
	snprintf(r->verify_verdict, sizeof(r->verify_verdict), "%s",
		 nm_verdict_name(x->it->verdict));
	return 0;
}

int nm_verify_record_verdict(const char *state_dir, const struct nm_verify_item *it, int64_t now,
			     struct nm_err *err)
{
	struct verdict_arg x = { it, now };

	if (!it->have_rec)
		return 0;
	return nm_store_update(state_dir, it->m.target, NULL, save_verdict, &x, err);
}

/* Under the record's lock: the move, added to the record as stored now (a
 * writer since verify read it is kept).  A record registered again since
 * verify read it (register --force: another time or root handle) is not
 * the one verify checked: nothing is recorded in it. */
static int record_move(struct nm_record *r, const struct nm_store_update *u, void *arg,
		       struct nm_err *err)
{
	struct move_arg *x = arg;
	int rc;

	(void)u;
	x->when = (int64_t)time(NULL);
	rc = nm_verify_record_move(r, &x->it->rec, x->it->m.server, x->mount_id, x->when, &x->from,
				   err);
	if (rc < 0)
		return rc;
	x->how = rc;
	return rc == NM_VERIFY_MOVE_SAVED ? 0 : 1;
}

static void check_record(struct nm_verify_item *it, const struct nm_verify_opts *o)
{
	struct nm_check *c = &it->chk[NM_CHK_RECORD];
	struct nm_err err = { 0 };
	bool failed = false;

	for (int k = 0; k < NM_CHK_RECORD; k++)
		failed = failed || it->chk[k].v == NM_V_FAIL;
	if (it->m.minor >= 0 && it->rec.minor >= 0 && it->m.minor != it->rec.minor) {
		nm_verify_set(c, NM_V_WARN, "the record says NFSv4.%d, the kernel NFSv4.%d",
			      it->rec.minor, it->m.minor);
		return;
	}
	if (strcmp(it->rec.cur_server, it->m.server) == 0) {
		nm_verify_set(c, NM_V_OK, "agrees with the kernel (server %s, NFSv4.%d)",
			      it->m.server, it->rec.minor);
		return;
	}
	/* A move is recorded only once the destination is shown to hold the
	 * same file system: same_fs OK, and no check failing. */
	if (failed || it->chk[NM_CHK_SAMEFS].v != NM_V_OK || !o->update_record) {
		nm_verify_set(c, NM_V_WARN, "the record says %s, the kernel %s%s",
			      it->rec.cur_server, it->m.server,
			      failed ? " (the move is not recorded: checks failed)"
			      : it->chk[NM_CHK_SAMEFS].v != NM_V_OK
				      ? " (the move is not recorded: same_fs is not OK)"
				      : "");
		return;
	}
	struct move_arg x = { .it = it, .how = -1 };
	struct nm_mstats ms;
	char boot[64], mid[128];
	bool have_ms = nm_mstats_read(NULL, &ms, NULL) == 0;

	/* Which mount this is now, as nfsmigd's scan tells it. */
	nm_reg_boot_id(boot, sizeof(boot));
	if (nm_reg_mount_id(&it->m, boot, have_ms ? nm_reg_mounted_at(&ms, it->m.target) : -1, mid,
			    sizeof(mid)) == 0)
		x.mount_id = mid;
	if (have_ms)
		nm_mstats_free(&ms);
	int rc = nm_store_update(o->state_dir, it->m.target, NULL, record_move, &x, &err);

	if (rc < 0) {
		nm_verify_set(c, NM_V_WARN, "cannot record the move: %s", err.msg);
	} else if (x.how == NM_VERIFY_MOVE_CHANGED) {
		nm_verify_set(
			c, NM_V_WARN,
			"record changed, not recorded: %s was registered again while verify ran "
			"(the kernel says %s)",
			it->m.target, it->m.server);
	} else if (x.how == NM_VERIFY_MOVE_REMOUNTED) {
		nm_verify_set(c, NM_V_WARN,
			      "the record says %s, the kernel %s: not a move, %s was mounted "
			      "again since it was registered: nfsmig register --force %s",
			      it->rec.cur_server, it->m.server, it->m.target, it->m.target);
	} else if (x.how == NM_VERIFY_MOVE_PENDING) {
		nm_verify_set(c, NM_V_WARN,
			      "the record says %s, the kernel %s (not recorded: nfsmigd has a "
			      "report of this mount to finish, then records the move)",
			      it->rec.cur_server, it->m.server);
	} else if (x.how == NM_VERIFY_MOVE_ALREADY) {
		nm_verify_set(c, NM_V_OK, "the move to %s is recorded already (by another writer)",
			      it->m.server);
	} else if (x.how == NM_VERIFY_MOVE_SAVED) {
		/* Saved: verify's copy follows the record. */
		char *cur = strdup(it->m.server);

		if (cur &&
		    nm_record_add_move_by(&it->rec, x.when, x.from, it->m.server, "verify") == 0) {
			free(it->rec.cur_server);
			it->rec.cur_server = cur;
			cur = NULL;
		}
		free(cur);
		it->record_updated = true;
		nm_verify_set(c, NM_V_OK, "recorded the move %s -> %s", x.from, it->m.server);
	}
	free(x.from);
}

/* --- lost state ------------------------------------------------------------------ */

static bool moved(const struct nm_verify_item *it)
{
	return nm_record_moved(&it->rec, it->m.server);
}

struct state_sample {
	struct nm_mstats s;
	int rc;
	char msg[sizeof(((struct nm_err *)0)->msg)];
	struct nm_mstats_rpc rpc; /* the namespace's calls; rpc.n 0: not read */
	int64_t at;
};

/* The mount table's counters (file, else the kernel's) and, from the kernel
 * only, the namespace's NFSv4 calls (/proc/net/rpc/nfs). */
static void sample(const char *file, struct state_sample *x)
{
	struct nm_err e = { 0 };

	x->rc = nm_mstats_read(file, &x->s, &e);
	if (x->rc < 0)
		memcpy(x->msg, e.msg, sizeof(x->msg));
	if (file || nm_mstats_rpc_read(NULL, &x->rpc, &e) < 0)
		x->rpc.n = 0; /* no proc4: the judge goes by the mount alone */
	x->at = nm_time_ms();
}

static bool state_wanted(const struct nm_verify_opts *o)
{
	return !o->state_skip &&
	       (o->mountstats_before || o->mountstats_after || o->state_interval_ms > 0);
}

/* Check 6 for every live item; `a` was sampled before the network checks.
 * From the kernel, a third sample halfway tells errors that go on from a
 * burst that ended. */
static void check_state(struct nm_verify_item **live, size_t n, const struct nm_verify_opts *o,
			struct state_sample *a)
{
	struct state_sample more[2] = { 0 }, *mid = NULL, *b = &more[0];
	bool any = false, files = o->mountstats_after || o->mountstats_before;

	for (size_t i = 0; i < n; i++) {
		if (!state_wanted(o))
			nm_verify_set(&live[i]->chk[NM_CHK_STATE], NM_V_SKIP, "%s",
				      o->state_skip ? o->state_skip : "--state-interval 0");
		else if (!moved(live[i]))
			nm_verify_set(&live[i]->chk[NM_CHK_STATE], NM_V_SKIP,
				      "not moved: no state could be lost");
		else
			any = true;
	}
	if (!any)
		return;
	if (files) {
		sample(o->mountstats_after ? o->mountstats_after : o->mountstats_before, b);
	} else {
		int64_t left = a->at + o->state_interval_ms / 2 - nm_time_ms();

		if (left > 0)
			nm_time_sleep_ms(left);
		mid = &more[0];
		b = &more[1];
		sample(NULL, mid);
		/* The network checks may have taken the first half and more:
		 * the second half is never shorter than half the interval. */
		left = a->at + o->state_interval_ms - nm_time_ms();
		if (left < o->state_interval_ms / 2)
			left = mid->at + o->state_interval_ms / 2 - nm_time_ms();
		if (left > 0)
			nm_time_sleep_ms(left);
		sample(NULL, b);
	}

	for (size_t i = 0; i < n; i++) {
		struct nm_check *c = &live[i]->chk[NM_CHK_STATE];
		const char *t = live[i]->m.target;
		struct nm_mstats_sample sm[3];
		struct nm_mstats_verdict sv;
		size_t k = 0;

		if (!moved(live[i]))
			continue;
		if (a->rc < 0 || b->rc < 0 || (mid && mid->rc < 0)) {
			nm_verify_set(c, NM_V_WARN, "cannot read mountstats: %s",
				      a->rc < 0		   ? a->msg
				      : mid && mid->rc < 0 ? mid->msg
							   : b->msg);
			continue;
		}
		struct state_sample *xs[3] = { a, mid ? mid : b, b };

		for (k = 0; k < (mid ? 3u : 2u); k++)
			sm[k] = (struct nm_mstats_sample){
				.m = nm_mstats_find(&xs[k]->s, t),
				.rpc = xs[k]->rpc.n ? &xs[k]->rpc : NULL,
				.at = files ? -1 : (double)(xs[k]->at - a->at) / 1000.0,
			};
		if (!sm[0].m || !sm[k - 1].m || (k == 3 && !sm[1].m)) {
			nm_verify_set(c, NM_V_WARN, "%s is not in mountstats", t);
			continue;
		}
		nm_mstats_judge_state(sm, k, nm_verify_minor_of(live[i]), &sv);
		nm_verify_set(c,
			      sv.state == NM_MSTATS_LOOP     ? NM_V_FAIL
			      : sv.state == NM_MSTATS_UNSURE ? NM_V_WARN
							     : NM_V_OK,
			      "%s", sv.why);
	}
	nm_mstats_free(&more[0].s);
	nm_mstats_free(&more[1].s);
}

/* --- the run: nm_verify_batch asks the destinations, nm_verify_judge judges ---- */

static int cmp_dest(const void *a, const void *b)
{
	const struct nm_verify_item *x = *(struct nm_verify_item *const *)a;
	const struct nm_verify_item *y = *(struct nm_verify_item *const *)b;
	int d = strcmp(x->m.server, y->m.server);

	if (d)
		return d;
	if (x->m.port != y->m.port)
		return x->m.port < y->m.port ? -1 : 1;
	if (nm_verify_minor_of(x) != nm_verify_minor_of(y))
		return nm_verify_minor_of(x) - nm_verify_minor_of(y);
	return strcmp(x->m.sec, y->m.sec);
}

static void *group_thread(void *arg)
{
	nm_verify_batch_run(arg);
	return NULL;
}

/* Ask every destination, the groups in parallel, and judge the answers. */
static int check_destinations(struct nm_verify_item **live, size_t nlive,
			      const struct nm_verify_opts *o, struct nm_verify_stats *stats,
			      struct nm_err *err)
{
	struct nm_verify_answer *answers = calloc(nlive ? nlive : 1, sizeof(*answers));
	struct nm_verify_group *groups = calloc(nlive ? nlive : 1, sizeof(*groups));
	pthread_t *th = calloc(nlive ? nlive : 1, sizeof(*th));
	bool *started = calloc(nlive ? nlive : 1, sizeof(*started));
	char **walk = calloc(nlive ? nlive : 1, sizeof(*walk));
	size_t ng = 0;

	if (!answers || !groups || !th || !started || !walk) {
		free(walk);
		free(answers);
		free(groups);
		free(th);
		free(started);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	qsort(live, nlive, sizeof(*live), cmp_dest);
	/* One group (one session) per destination server, port, version, flavor. */
	for (size_t i = 0; i < nlive;) {
		size_t j = i + 1;

		while (j < nlive && cmp_dest(&live[i], &live[j]) == 0)
			j++;
		groups[ng++] = (struct nm_verify_group){ .items = live + i,
							 .answers = answers + i,
							 .n = j - i,
							 .timeout_ms = o->timeout_ms };
		i = j;
	}
	for (size_t i = 0; i < nlive; i++) {
		/* "." and ".." resolved; NULL (out of memory): no walk. */
		answers[i].path = walk[i] = nm_verify_walk_path(dest_path(live[i], o->timeout_ms),
								&answers[i].walk_why);
	}
	for (size_t g = 0; g < ng; g++) {
		started[g] = pthread_create(&th[g], NULL, group_thread, &groups[g]) == 0;
		if (!started[g])
			nm_verify_batch_run(&groups[g]);
	}
	for (size_t g = 0; g < ng; g++) {
		if (started[g])
			pthread_join(th[g], NULL);
		stats->rpcs += groups[g].rpcs;
		for (size_t i = 0; i < groups[g].n; i++) {
			struct nm_verify_item *it = groups[g].items[i];
			const struct nm_verify_answer *a = &groups[g].answers[i];

			nm_verify_judge_nfs(it->m.server, a, groups[g].minor, groups[g].error,
					    groups[g].note, &it->chk[NM_CHK_NFS]);
			nm_verify_judge_samefs(&it->rec, a, &it->chk[NM_CHK_SAMEFS]);
			nm_verify_judge_security(it->m.sec, a, &it->chk[NM_CHK_SEC]);
		}
	}
	stats->servers = (unsigned)ng;
	for (size_t i = 0; i < nlive; i++)
		free(walk[i]);
	free(walk);
	free(answers);
	free(groups);
	free(th);
	free(started);
	return 0;
}

int nm_verify_run(struct nm_verify_item *items, size_t n, const struct nm_verify_opts *o,
		  struct nm_verify_stats *stats, struct nm_err *err)
{
	struct nm_verify_item **live = calloc(n ? n : 1, sizeof(*live));
	struct state_sample a = { 0 };
	struct source src = { 0 };
	size_t nlive = 0;
	int rc;

	memset(stats, 0, sizeof(*stats));
	if (!live)
		return nm_err_set(err, -ENOMEM, "out of memory");
	if (state_wanted(o))
		sample(o->mountstats_before, &a);
	for (size_t i = 0; i < n; i++) {
		struct nm_verify_item *it = &items[i];
		struct nm_err e = { 0 };

		memset(it->chk, 0, sizeof(it->chk));
		rc = nm_store_load(o->state_dir, it->m.target, &it->rec, &e);
		if (rc < 0) {
			for (int k = 0; k < NM_CHK_N; k++)
				nm_verify_set(&it->chk[k], NM_V_SKIP, "no record");
			nm_verify_set(&it->chk[NM_CHK_RECORD], NM_V_FAIL, "%s", e.msg);
			continue;
		}
		it->have_rec = true;
		check_destination(it, o);
		live[nlive++] = it;
	}
	rc = check_destinations(live, nlive, o, stats, err);
	if (rc < 0) {
		nm_mstats_free(&a.s);
		free(live);
		return rc;
	}
	if (o->source && nlive > 0)
		source_open(o, nm_verify_minor_of(live[0]), &src);
	for (size_t i = 0; i < nlive; i++)
		check_source(live[i], o, &src);
	if (o->source && nlive > 0)
		source_close(&src);
	check_state(live, nlive, o, &a);
	nm_mstats_free(&a.s);
	for (size_t i = 0; i < nlive; i++)
		check_record(live[i], o);
	for (size_t i = 0; i < n; i++) {
		items[i].verdict = NM_V_OK;
		for (int k = 0; k < NM_CHK_N; k++)
			if (items[i].chk[k].v > items[i].verdict && items[i].chk[k].v != NM_V_SKIP)
				items[i].verdict = items[i].chk[k].v;
	}
	free(live);
	return 0;
}

void nm_verify_item_free(struct nm_verify_item *it)
{
	nm_mount_free(&it->m);
	if (it->have_rec)
		nm_record_free(&it->rec);
	it->have_rec = false;
}
