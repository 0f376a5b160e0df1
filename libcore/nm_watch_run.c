/* nm_watch_run - the watcher's work: scans, registrations, reports. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "nm_event.h"
#include "nm_fstab.h"
#include "nm_hook.h"
#include "nm_lease.h"
#include "nm_mstats.h"
#include "nm_mtab.h"
#include "nm_reg.h"
#include "nm_store.h"
#include "nm_utab.h"
#include "nm_verify.h"
#include "nm_watch_run.h"

#define MTAB_DEFAULT "/etc/mtab"

static void say(const struct nm_watch_cfg *c, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(const struct nm_watch_cfg *c, int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!c->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->log(c->log_arg, prio, line);
}

static int64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *dup0(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* A copy of m, owned by the job. */
static int mount_copy(struct nm_mount *dst, const struct nm_mount *src)
{
	char **d[] = { &dst->target, &dst->source,	&dst->fstype,
		       &dst->root,   &dst->source_host, &dst->export_path,
		       &dst->server, &dst->clientaddr,	&dst->sec };
	const char *s[] = { src->target, src->source,	   src->fstype,
			    src->root,	 src->source_host, src->export_path,
			    src->server, src->clientaddr,  src->sec };

	*dst = *src;
	for (size_t k = 0; k < sizeof(d) / sizeof(d[0]); k++)
		*d[k] = NULL;
	for (size_t k = 0; k < sizeof(d) / sizeof(d[0]); k++)
		if (s[k] && !(*d[k] = strdup(s[k]))) {
			nm_mount_free(dst);
			return -ENOMEM;
		}
	return 0;
}

/* --- the scan -------------------------------------------------------------- */

struct apply_arg {
	const char *to, *trigger;
	const char *mount_id; /* the mount's identity, NULL: not known */
	int64_t now;
	struct nm_watch_pending p;
	bool saved;
};

static int apply_cb(struct nm_record *r, const struct nm_store_update *u, void *arg,
		    struct nm_err *err)
{
	struct apply_arg *a = arg;
	int rc;

	(void)u;
	/* The record as stored now, under its lock: another writer (verify,
	 * or we before a restart) may have recorded it meanwhile. */
	if (r->pending && r->pending[0])
		return 1; /* a report to finish first: the next scan resumes it */
	rc = nm_watch_apply_move(r, a->to, a->trigger, a->now, &a->p, err);
	a->saved = rc == 0;
	if (rc == 0 && a->mount_id) {
		/* The mount that moved: a later one there is not this one. */
		char *id = strdup(a->mount_id);

		if (id) {
			free(r->mount_id);
			r->mount_id = id;
		}
	}
	return rc;
}

static int add_job(struct nm_watch_job **jobs, size_t *n, const struct nm_watch_job *j)
{
	struct nm_watch_job *v = realloc(*jobs, (*n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	*jobs = v;
	v[(*n)++] = *j;
	return 0;
}

int nm_watch_scan(const struct nm_watch_cfg *c, const char *trigger, int64_t kernel_ms,
		  unsigned flags, bool (*busy)(const char *mountpoint, void *arg), void *arg,
		  struct nm_watch_job **jobs, size_t *n, struct nm_err *err)
{
	struct nm_mount *list = NULL;
	size_t nl = 0;
	int rc, nfs4 = 0;
	char boot[64];
	struct nm_mstats ms = { 0 };
	bool have_ms = false;

	*jobs = NULL;
	*n = 0;
	nm_reg_boot_id(boot, sizeof(boot));
	rc = nm_mount_list(c->mountinfo, &list, &nl, err);
	if (rc < 0)
		return rc;
	rc = 0;
	for (size_t i = 0; i < nl; i++) {
		const struct nm_mount *m = &list[i];
		struct nm_record rec = { 0 };
		struct nm_watch_rec wr = { 0 };
		struct nm_watch_step s;
		struct nm_watch_job j = { 0 };
		struct nm_err e = { 0 };
		char mid[128];

		if (m->vers != 4)
			continue;
		nfs4++;
		if (busy && busy(m->target, arg))
			continue;
		wr.found = nm_store_load(c->state_dir, m->target, &rec, &e);
		wr.rec = wr.found == 0 ? &rec : NULL;
		/* When it was mounted (mountstats, read once a scan, when a
		 * record says which mount it is of). */
		if (wr.found == 0 && !have_ms)
			have_ms = nm_mstats_read(NULL, &ms, NULL) == 0;
		wr.mount_id =
			nm_reg_mount_id(m, boot, have_ms ? nm_reg_mounted_at(&ms, m->target) : -1,
					mid, sizeof(mid)) == 0
				? mid
				: NULL;
		s = nm_watch_decide(list, nl, i, &wr);
		switch (s.act) {
		case NM_WATCH_SKIP: break;
		case NM_WATCH_STALE:
			if (flags & NM_WATCH_SAY_SKIPPED)
				say(c, LOG_WARNING,
				    "%s: the record is of %s, the mount of %s: left as it is "
				    "(nfsmig register --force %s)",
				    m->target, s.from, s.to, m->target);
			break;
		case NM_WATCH_UNREADABLE:
			if (flags & NM_WATCH_SAY_SKIPPED)
				say(c, LOG_WARNING, "%s: %s: left as it is", m->target, e.msg);
			break;
		case NM_WATCH_MIGRATION: {
			struct apply_arg a = { .to = s.to,
					       .trigger = trigger,
					       .mount_id = wr.mount_id,
					       .now = time(NULL) };
			struct nm_err ue = { 0 };

			if (nm_store_update(c->state_dir, m->target, NULL, apply_cb, &a, &ue) < 0) {
				say(c, LOG_ERR, "%s: moved to %s, but not recorded: %s", m->target,
				    s.to, ue.msg);
				break;
			}
			if (!a.saved)
				break; /* recorded meanwhile, or a report pending */
			if (kernel_ms > 0)
				say(c, LOG_NOTICE,
				    "%s: moved from %s to %s (%s): recorded %" PRId64
				    " ms after the kernel's word",
				    m->target, a.p.from, a.p.to, trigger, real_ms() - kernel_ms);
			else
				say(c, LOG_NOTICE, "%s: moved from %s to %s (%s): recorded",
				    m->target, a.p.from, a.p.to, trigger);
			j.act = NM_WATCH_MIGRATION;
			j.found_ms = real_ms();
			if (nm_watch_pending_format(&a.p, &j.marker) < 0)
				break;
			j.from = strdup(a.p.from);
			j.to = strdup(a.p.to);
			goto job;
		}
		case NM_WATCH_RESUME:
			j.act = NM_WATCH_RESUME;
			j.marker = strdup(rec.pending);
			goto job;
		case NM_WATCH_REMOUNT:
			say(c, LOG_NOTICE,
			    "%s: mounted again (from %s; the record is of an earlier mount, "
			    "on %s): registering it again, its moves kept",
			    m->target, s.to, s.from ? s.from : "?");
			j.again = true;
			/* fall through */
		case NM_WATCH_REGISTER:
		case NM_WATCH_REFERRAL:
			j.act = s.act == NM_WATCH_REMOUNT ? NM_WATCH_REGISTER : s.act;
			j.from = dup0(s.from);
			j.to = dup0(s.to);
		job:
			snprintf(j.trigger, sizeof(j.trigger), "%s", trigger);
			j.kernel_ms = kernel_ms;
			if (mount_copy(&j.m, m) < 0 || add_job(jobs, n, &j) < 0) {
				nm_watch_job_free(&j);
				rc = nm_err_set(err, -ENOMEM, "out of memory");
			}
			break;
		}
		if (wr.found == 0)
			nm_record_free(&rec);
		if (rc < 0)
			break;
	}
	nm_mount_list_free(list, nl);
	/* The table changed (or the first look, or the safety net): utab
	 * entries of ours whose mount went without libmount (a referral's
	 * submount expired, umount -l) are removed, never one still mounted. */
	if (rc >= 0 && c->utab && !c->mountinfo &&
	    (strcmp(trigger, "mountinfo") == 0 || strcmp(trigger, "rescan") == 0)) {
		struct nm_err ue = { 0 };
		int gone = nm_utab_sweep(&ue);

		if (gone < 0)
			say(c, LOG_WARNING, "utab: stale entries not removed: %s", ue.msg);
		else if (gone > 0)
			say(c, LOG_NOTICE,
			    "utab: %d entr%s of unmounted file systems removed "
			    "(x-nfsmig.server=)",
			    gone, gone == 1 ? "y" : "ies");
	}
	if (have_ms)
		nm_mstats_free(&ms);
	if (rc < 0) {
		nm_watch_jobs_free(*jobs, *n);
		*jobs = NULL;
		*n = 0;
	}
	return rc < 0 ? rc : nfs4;
}

/* --- the event ------------------------------------------------------------- */

/* Seconds since the epoch with milliseconds, written as such. */
static void put_time(struct json_object *o, const char *key, int64_t ms)
{
	char text[32];

	snprintf(text, sizeof(text), "%" PRId64 ".%03d", ms / 1000, (int)(ms % 1000));
	json_object_object_add(o, key, json_object_new_double_s((double)ms / 1000.0, text));
}

static void put_str(struct json_object *o, const char *key, const char *v)
{
	if (v)
		json_object_object_add(o, key, json_object_new_string(v));
}

static struct json_object *event_new(const char *kind, const struct nm_watch_job *j,
				     const char *from, const char *to, int64_t record_time)
{
	struct json_object *ev = json_object_new_object();

	if (!ev)
		return NULL;
	put_str(ev, "event", kind);
	put_str(ev, "trigger", j->trigger);
	put_str(ev, "mountpoint", j->m.target);
	put_str(ev, "source", j->m.source);
	put_str(ev, "from", from);
	put_str(ev, "to", to);
	/* The record's time of it: what a restart looks for in the log. */
	json_object_object_add(ev, "record_time", json_object_new_int64(record_time));
	if (j->kernel_ms > 0)
		put_time(ev, "kernel_time", j->kernel_ms);
	if (j->found_ms > 0)
		put_time(ev, "found_time", j->found_ms);
	return ev;
}

static struct json_object *verify_json(const struct nm_verify_item *it)
{
	struct json_object *v = json_object_new_object(), *checks = json_object_new_array();

	put_str(v, "verdict", nm_verdict_name(it->verdict));
	for (int k = 0; k < NM_CHK_N; k++) {
		struct json_object *c = json_object_new_object();

		put_str(c, "check", nm_check_name(k));
		put_str(c, "verdict", nm_verdict_name(it->chk[k].v));
		put_str(c, "reason", it->chk[k].why);
		json_object_array_add(checks, c);
	}
	json_object_object_add(v, "checks", checks);
	return v;
}

static const char *verdict_of(struct json_object *ev)
{
	struct json_object *v, *verdict;

	if (json_object_object_get_ex(ev, "verify", &v) &&
	    json_object_object_get_ex(v, "verdict", &verdict))
		return json_object_get_string(verdict);
	return "SKIP"; /* not verified */
}

static void hook_log(const char *line, void *arg)
{
	const struct nm_watch_cfg *c = arg;

	/* The hooks' output is what an administrator asked to see: logged
	 * without -v (LOG_INFO is only -v's). */
	say(c, LOG_NOTICE, "hook %s", line);
}

/* The event written, then its hooks. */
/* The daemon's verdict of a move, kept in the mount's record as nfsmig
 * verify keeps its own (verify=TIME VERDICT): the metrics read it there,
 * after a restart too, and a remount's new record has none. */
struct keep_verdict {
	const char *verdict;
	int64_t now;
};

static int keep_verdict_cb(struct nm_record *r, const struct nm_store_update *u, void *arg,
			   struct nm_err *err)
{
	const struct keep_verdict *k = arg;

	(void)u;
	(void)err;
	if (r->registered > k->now)
		return 1; /* registered again since: not the mount judged */
	r->verify_time = k->now;
	snprintf(r->verify_verdict, sizeof(r->verify_verdict), "%s", k->verdict);
	return 0;
}

static void keep_verdict(const struct nm_watch_cfg *c, const char *mountpoint, const char *verdict)
{
	static const char *const known[] = { "OK", "WARN", "FAIL", "SKIP" };
	struct keep_verdict k = { NULL, (int64_t)time(NULL) };
	struct nm_err e = { 0 };

	for (size_t i = 0; verdict && i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(verdict, known[i]) == 0)
			k.verdict = known[i];
	if (!k.verdict || !mountpoint || !mountpoint[0])
		return;
	if (nm_store_update(c->state_dir, mountpoint, NULL, keep_verdict_cb, &k, &e) < 0)
		say(c, LOG_WARNING, "%s: its verdict is not kept in its record: %s", mountpoint,
		    e.msg);
}

static int emit(const struct nm_watch_cfg *c, struct json_object *ev, struct nm_err *err)
{
	char e_event[64], e_mp[4200], e_from[300], e_to[300], e_trig[128], e_verdict[32];
	const char *env[7];
	struct json_object *x;
	const char *json;
	int rc;

	rc = nm_event_append(c->state_dir, ev, c->events_max, err);
	if (rc < 0)
		return rc;
#define GET(key) (json_object_object_get_ex(ev, key, &x) ? json_object_get_string(x) : "")
	snprintf(e_event, sizeof(e_event), "NFSMIG_EVENT=%s", GET("event"));
	snprintf(e_mp, sizeof(e_mp), "NFSMIG_MOUNTPOINT=%s", GET("mountpoint"));
	snprintf(e_from, sizeof(e_from), "NFSMIG_FROM=%s", GET("from"));
	snprintf(e_to, sizeof(e_to), "NFSMIG_TO=%s", GET("to"));
	snprintf(e_trig, sizeof(e_trig), "NFSMIG_TRIGGER=%s", GET("trigger"));
#undef GET
	snprintf(e_verdict, sizeof(e_verdict), "NFSMIG_VERDICT=%s", verdict_of(ev));
	env[0] = e_event;
	env[1] = e_mp;
	env[2] = e_from;
	env[3] = e_to;
	env[4] = e_trig;
	env[5] = e_verdict;
	env[6] = NULL;
	json = json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	struct nm_err he = { 0 };
	struct nm_hook_result res[NM_HOOK_MAX];
	unsigned not_run = 0;
	int ran = nm_hook_run_all_res(c->hooks_dir, json, env, c->hook_timeout_ms, hook_log,
				      (void *)c, res, NM_HOOK_MAX, &not_run, &he);

	/* A hook refused or beyond NM_HOOK_MAX failed as much as one that ran. */
	unsigned failures = ran < 0 ? 1 : not_run;

	if (ran < 0)
		say(c, LOG_WARNING, "hooks: %s", he.msg);
	for (int i = 0; i < ran && i < NM_HOOK_MAX; i++) {
		failures += res[i].timed_out || res[i].status != 0;
		if (res[i].timed_out)
			say(c, LOG_WARNING, "hook %s failed: killed at its time limit of %d ms",
			    res[i].name,
			    c->hook_timeout_ms > 0 ? c->hook_timeout_ms : NM_HOOK_TIMEOUT_MS);
		else if (res[i].status < 0)
			say(c, LOG_WARNING, "hook %s failed: not run or its status lost",
			    res[i].name);
		else if (res[i].status != 0)
			say(c, LOG_WARNING, "hook %s failed: exit status %d", res[i].name,
			    res[i].status);
	}
	struct json_object *v;
	const char *verdict = json_object_object_get_ex(ev, "verify", &v) ? verdict_of(ev) : NULL;

	if (verdict)
		keep_verdict(c,
			     json_object_object_get_ex(ev, "mountpoint", &x)
				     ? json_object_get_string(x)
				     : NULL,
			     verdict);
	if (c->emitted) {

		c->emitted(
			c->emit_arg,
			json_object_object_get_ex(ev, "event", &x) ? json_object_get_string(x) : "",
			json_object_object_get_ex(ev, "mountpoint", &x) ? json_object_get_string(x)
									: "",
			verdict, failures);
	}
	return 0;
}

/* Is there an event of kind for mountpoint with record_time t? */
struct seek {
	const char *kind;
	int64_t t;
	bool found;
};

static int seek_cb(struct json_object *ev, void *arg)
{
	struct seek *s = arg;
	struct json_object *k, *t;

	if (!json_object_object_get_ex(ev, "event", &k) ||
	    !json_object_object_get_ex(ev, "record_time", &t) || json_object_get_int64(t) != s->t)
		return 0;
	/* A move's report may have become its failure's (report_move):
	 * the marker says "migration", the event "migration-failed". */
	if (strcmp(json_object_get_string(k), s->kind) == 0 ||
	    (strcmp(s->kind, "migration") == 0 &&
	     strcmp(json_object_get_string(k), "migration-failed") == 0)) {
		s->found = true;
		return 1;
	}
	return 0;
}

static int clear_cb(struct nm_record *r, const struct nm_store_update *u, void *arg,
		    struct nm_err *err)
{
	(void)u;
	(void)err;
	return nm_watch_clear_pending(r, arg);
}

static void clear_marker(const struct nm_watch_cfg *c, const char *mountpoint, const char *marker)
{
	struct nm_err e = { 0 };

	if (nm_store_update(c->state_dir, mountpoint, NULL, clear_cb, (void *)marker, &e) < 0)
		say(c, LOG_ERR, "%s: the report is written but its marker stays: %s", mountpoint,
		    e.msg);
}

/* The checks of verify for the moved mount, as the event's "verify": in a
 * thread of its own, while utab, mtab and fstab are done. */
struct verify_run {
	const struct nm_watch_cfg *c;
	const struct nm_watch_job *j;
	struct json_object *v; /* out */
	int64_t ms;	       /* out: how long it took */
};

static void *verify_one(void *arg)
{
	struct verify_run *vr = arg;
	const struct nm_watch_cfg *c = vr->c;
	struct nm_verify_item it = { 0 };
	struct nm_verify_opts o = {
		.state_dir = c->state_dir,
		.timeout_ms = c->timeout_ms,
		.update_record = false, /* recorded already, by us */
		.state_interval_ms = 0,
		.state_skip = "not sampled by nfsmigd on a move (nfsmig verify samples it)",
	};
	struct nm_verify_stats st;
	struct nm_err e = { 0 };
	int64_t t0 = real_ms();

	if (mount_copy(&it.m, &vr->j->m) < 0)
		return NULL;
	if (nm_verify_run(&it, 1, &o, &st, &e) < 0) {
		vr->v = json_object_new_object();
		put_str(vr->v, "verdict", "WARN");
		put_str(vr->v, "reason", e.msg);
	} else {
		vr->v = verify_json(&it);
	}
	nm_verify_item_free(&it);
	vr->ms = real_ms() - t0;
	return NULL;
}

static void fstab_into(const struct nm_watch_cfg *c, const struct nm_watch_job *j, const char *from,
		       struct json_object *ev)
{
	const char *names[2] = { j->m.source_host, from };
	struct nm_fstab_hit *hits = NULL;
	struct json_object *arr = json_object_new_array();
	struct nm_err e = { 0 };
	size_t n = 0;

	if (nm_fstab_scan_names(c->fstab_root, names, from ? 2 : 1, j->m.export_path, &hits, &n,
				&e) < 0)
		say(c, LOG_WARNING, "%s: fstab: %s", j->m.target, e.msg);
	for (size_t k = 0; k < n; k++) {
		struct json_object *h = json_object_new_object();

		put_str(h, "file", hits[k].file);
		json_object_object_add(h, "line", json_object_new_int((int)hits[k].line));
		put_str(h, "entry", hits[k].entry);
		json_object_array_add(arr, h);
	}
	json_object_object_add(ev, "fstab", arr);
	if (n)
		say(c, LOG_NOTICE,
		    "%s: %zu line(s) of fstab or autofs maps still name %s "
		    "(nfsmig fstab)",
		    j->m.target, n, j->m.source_host);
	nm_fstab_hits_free(hits, n);
}

/* After a move: the record's locations as the new server gives them. */
struct locs_arg {
	const struct nm_record *fresh;
	int64_t registered;
	bool changed;
};

static int locs_cb(struct nm_record *r, const struct nm_store_update *u, void *arg,
		   struct nm_err *err)
{
	struct locs_arg *a = arg;
	char **old = r->locations;
	size_t nold = r->nlocations;

	(void)u;
	(void)err;
	if (r->registered != a->registered)
		return 1; /* registered again meanwhile: not ours to change */
	r->locations = NULL;
	r->nlocations = 0;
	for (size_t i = 0; i < a->fresh->nlocations; i++)
		if (nm_record_add_location(r, a->fresh->locations[i]) < 0) {
			for (size_t k = 0; k < r->nlocations; k++)
				free(r->locations[k]);
			free(r->locations);
			r->locations = old;
			r->nlocations = nold;
			return 1;
		}
	a->changed = nold != r->nlocations;
	for (size_t k = 0; !a->changed && k < nold; k++)
		a->changed = strcmp(old[k], r->locations[k]) != 0;
	for (size_t k = 0; k < nold; k++)
		free(old[k]);
	free(old);
	return a->changed ? 0 : 1;
}

static void refresh_locations(const struct nm_watch_cfg *c, const struct nm_watch_job *j)
{
	struct nm_record fresh = { 0 }, cur = { 0 };
	struct nm_err e = { 0 }, np = { 0 };
	unsigned dropped = 0;

	if (nm_store_load(c->state_dir, j->m.target, &cur, &e) < 0)
		return;
	if (nm_reg_query(c->state_dir, &j->m, c->timeout_ms, &fresh, &dropped, &np, &e) < 0) {
		say(c, LOG_INFO, "%s: locations not refreshed: %s", j->m.target, e.msg);
	} else {
		struct locs_arg a = { .fresh = &fresh, .registered = cur.registered };

		if (nm_store_update(c->state_dir, j->m.target, NULL, locs_cb, &a, &e) < 0)
			say(c, LOG_WARNING, "%s: locations: %s", j->m.target, e.msg);
		else if (a.changed)
			say(c, LOG_INFO, "%s: %zu locations as %s gives them now", j->m.target,
			    fresh.nlocations, j->m.server);
	}
	nm_record_free(&fresh);
	nm_record_free(&cur);
}

/* ev made a failed migration's: event "migration-failed", verdict FAIL
 * with a "migration" check saying why (verify's checks kept). */
static void fail_into(struct json_object *ev, const char *msg)
{
	struct json_object *v, *checks, *chk = json_object_new_object();

	put_str(ev, "event", "migration-failed");
	if (!json_object_object_get_ex(ev, "verify", &v)) {
		v = json_object_new_object();
		json_object_object_add(ev, "verify", v);
	}
	put_str(v, "verdict", "FAIL");
	if (!json_object_object_get_ex(v, "checks", &checks)) {
		checks = json_object_new_array();
		json_object_object_add(v, "checks", checks);
	}
	put_str(chk, "check", "migration");
	put_str(chk, "verdict", "FAIL");
	put_str(chk, "reason", msg);
	json_object_array_add(checks, chk);
}

/* A move recorded with marker p: verify, utab, mtab, fstab, the event, the
 * hooks, the marker cleared. */
static int report_move(const struct nm_watch_cfg *c, const struct nm_watch_job *j,
		       const struct nm_watch_pending *p, struct nm_err *err)
{
	struct json_object *ev = event_new(p->kind, j, p->from[0] ? p->from : NULL, p->to, p->time);
	struct nm_err e = { 0 };
	char msg[1024];
	int rc;

	if (!ev)
		return nm_err_set(err, -ENOMEM, "out of memory");
	struct verify_run vr = { .c = c, .j = j };
	pthread_t vt;
	bool verifying = false;
	int64_t t0 = real_ms(), t1;

	if (c->verify) {
		verifying = pthread_create(&vt, NULL, verify_one, &vr) == 0;
		if (!verifying)
			verify_one(&vr);
	}
	if (c->utab && !c->mountinfo) {
		rc = nm_utab_set_moved(j->m.target, p->to, p->from, &e);
		json_object_object_add(ev, "utab", json_object_new_boolean(rc == 0));
		if (rc < 0)
			say(c, LOG_WARNING, "%s: utab: %s", j->m.target, e.msg);
	}
	rc = nm_mtab_update(c->mtab ? c->mtab : MTAB_DEFAULT, j->m.target, p->to, &e);
	json_object_object_add(ev, "mtab", json_object_new_boolean(rc == 0));
	if (rc < 0)
		say(c, LOG_WARNING, "%s: mtab: %s", j->m.target, e.msg);
	fstab_into(c, j, p->from[0] ? p->from : NULL, ev);
	t1 = real_ms();
	if (verifying)
		pthread_join(vt, NULL);
	if (vr.v)
		json_object_object_add(ev, "verify", vr.v);
	say(c, LOG_DEBUG, "%s: utab, mtab, fstab in %" PRId64 " ms; verify in %" PRId64 " ms",
	    j->m.target, t1 - t0, vr.ms);
	/* The kernel switched addr= and then failed: the move is the
	 * failure's report. */
	char why[300] = "";
	int64_t since = (j->found_ms > 0 ? j->found_ms : real_ms()) - 5000;

	if (c->failed_since &&
	    (c->failed_since(c->fail_arg, j->m.source_host, since, why, sizeof(why)) ||
	     (p->from[0] && c->failed_since(c->fail_arg, p->from, since, why, sizeof(why))))) {
		if (c->claim_failed && !c->claim_failed(c->fail_arg, j->m.target, true)) {
			say(c, LOG_NOTICE, "%s: its failed migration is reported already",
			    j->m.target);
			json_object_put(ev);
			return 0;
		}
		snprintf(
			msg, sizeof(msg),
			"the migration of %.200s from %.120s to %.120s failed (%.200s): it returns "
			"EIO until it is remounted",
			j->m.target, p->from, p->to, why);
		fail_into(ev, msg);
		put_str(ev, "message", msg);
		rc = emit(c, ev, err);
		if (rc == 0)
			say(c, LOG_ERR, "%s", msg);
		json_object_put(ev);
		return rc;
	}
	snprintf(msg, sizeof(msg), "%.200s moved from %.120s to %.120s (verify: %s)", j->m.target,
		 p->from, p->to, c->verify ? verdict_of(ev) : "not run");
	put_str(ev, "message", msg);
	t1 = real_ms();
	rc = emit(c, ev, err);
	if (rc == 0)
		say(c, LOG_NOTICE, "%s (written and hooks run in %" PRId64 " ms)", msg,
		    real_ms() - t1);
	json_object_put(ev);
	/* After the event (it does not wait on another server's answer):
	 * the locations the destination gives. */
	if (rc == 0 && c->verify)
		refresh_locations(c, j);
	return rc;
}

static int report_new(const struct nm_watch_cfg *c, const struct nm_watch_job *j,
		      const struct nm_watch_pending *p, struct nm_err *err)
{
	struct json_object *ev = event_new(p->kind, j, p->from[0] ? p->from : NULL, p->to, p->time);
	char msg[600];
	int rc;

	if (!ev)
		return nm_err_set(err, -ENOMEM, "out of memory");
	if (strcmp(p->kind, "referral") == 0)
		snprintf(msg, sizeof(msg),
			 "%.200s: a referral to %.120s (a submount the kernel made), registered",
			 j->m.target, p->to);
	else
		snprintf(msg, sizeof(msg), "%.200s: mounted %sfrom %.120s, registered%s",
			 j->m.target, j->again ? "again " : "", p->to, j->again ? " again" : "");
	put_str(ev, "message", msg);
	rc = emit(c, ev, err);
	if (rc == 0)
		say(c, LOG_NOTICE, "%s", msg);
	json_object_put(ev);
	return rc;
}

static int finish(const struct nm_watch_cfg *c, const struct nm_watch_job *j, const char *marker,
		  struct nm_err *err)
{
	struct nm_watch_pending p;
	int rc;

	if (nm_watch_pending_parse(marker, &p) < 0) {
		say(c, LOG_WARNING, "%s: a pending marker nfsmigd cannot read: dropped",
		    j->m.target);
		clear_marker(c, j->m.target, marker);
		return 0;
	}
	if (j->act == NM_WATCH_RESUME) {
		/* Written before a restart?  Then only the marker is left. */
		struct nm_event_filter f = { .mountpoint = j->m.target };
		struct seek s = { .kind = p.kind, .t = p.time };
		struct nm_err e = { 0 };

		if (nm_event_read(c->state_dir, &f, seek_cb, &s, &e) < 0)
			say(c, LOG_WARNING, "%s: the event log: %s", j->m.target, e.msg);
		if (s.found) {
			say(c, LOG_NOTICE,
			    "%s: the %s event was written before a restart; its hooks may not "
			    "have run",
			    j->m.target, p.kind);
			clear_marker(c, j->m.target, marker);
			return 0;
		}
		say(c, LOG_NOTICE, "%s: finishing the %s report a restart cut short (%s)",
		    j->m.target, p.kind, p.trigger);
		/* Its trigger is what told of it then. */
		struct nm_watch_job k = *j;

		snprintf(k.trigger, sizeof(k.trigger), "%s", p.trigger);
		rc = strcmp(p.kind, "migration") == 0 ? report_move(c, &k, &p, err)
						      : report_new(c, &k, &p, err);
	} else if (j->act == NM_WATCH_MIGRATION) {
		rc = report_move(c, j, &p, err);
	} else {
		rc = report_new(c, j, &p, err);
	}
	if (rc == 0)
		clear_marker(c, j->m.target, marker);
	return rc;
}

static int register_new(const struct nm_watch_cfg *c, struct nm_watch_job *j, struct nm_err *err)
{
	struct nm_watch_pending p = { .time = time(NULL) };
	struct nm_store_update u = { 0 };
	struct nm_record rec = { 0 };
	struct nm_err np = { 0 };
	unsigned dropped = 0;
	int rc;

	/* A new mount of a registered mount point replaces the record (as
	 * register --force: the moves stay). */
	rc = nm_reg_check(c->state_dir, &j->m, j->again, err);
	if (rc == -EEXIST)
		return 0; /* registered meanwhile (nfsmig register) */
	if (rc < 0)
		return rc;
	rc = nm_reg_query(c->state_dir, &j->m, c->timeout_ms, &rec, &dropped, &np, err);
	if (rc < 0)
		return rc;
	snprintf(p.kind, sizeof(p.kind), "%s", j->act == NM_WATCH_REFERRAL ? "referral" : "mount");
	snprintf(p.trigger, sizeof(p.trigger), "%s", j->trigger);
	/* A mount's event names no server it came from (a remount's record
	 * had one: said in the log). */
	snprintf(p.from, sizeof(p.from), "%s", j->from && !j->again ? j->from : "");
	snprintf(p.to, sizeof(p.to), "%s", j->to ? j->to : j->m.server);
	rec.registered = p.time;
	rc = nm_watch_pending_format(&p, &rec.pending);
	if (rc == 0)
		rc = nm_reg_save(c->state_dir, &rec, j->again, &u, err);
	if (rc == -EEXIST) {
		nm_record_free(&rec);
		return 0;
	}
	if (rc < 0) {
		nm_record_free(&rec);
		return rc;
	}
	if (u.found == -EBADMSG && u.aside[0])
		say(c, LOG_WARNING, "%s: the record could not be read (%s): kept as %s",
		    j->m.target, u.why.msg, u.aside);
	if (dropped)
		say(c, LOG_NOTICE, "%s: %u locations left out of the record", j->m.target, dropped);
	if (np.code < 0)
		say(c, LOG_NOTICE, "%s: registered without an entry's handle: %s", j->m.target,
		    np.msg);
	free(j->marker);
	j->marker = strdup(rec.pending);
	nm_record_free(&rec);
	if (!j->marker)
		return nm_err_set(err, -ENOMEM, "out of memory");
	return finish(c, j, j->marker, err);
}

int nm_watch_job_run(const struct nm_watch_cfg *c, struct nm_watch_job *j, struct nm_err *err)
{
	switch (j->act) {
	case NM_WATCH_REGISTER:
	case NM_WATCH_REFERRAL: return register_new(c, j, err);
	case NM_WATCH_MIGRATION:
	case NM_WATCH_RESUME: return finish(c, j, j->marker, err);
	default: return 0;
	}
}

void nm_watch_job_free(struct nm_watch_job *j)
{
	if (!j)
		return;
	nm_mount_free(&j->m);
	free(j->from);
	free(j->to);
	free(j->marker);
	memset(j, 0, sizeof(*j));
}

void nm_watch_jobs_free(struct nm_watch_job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		nm_watch_job_free(&jobs[i]);
	free(jobs);
}

/* --- a failed migration ------------------------------------------------------- */

int nm_watch_failed(const struct nm_watch_cfg *c, const struct nm_kev *ev, const char *trigger,
		    struct nm_err *err)
{
	struct nm_mount *list = NULL;
	size_t nl = 0, idx[64], k;
	int rc;

	rc = nm_mount_list(c->mountinfo, &list, &nl, err);
	if (rc < 0)
		return rc;
	k = nm_watch_mounts_of(list, nl, ev->host, idx, 64);
	if (k == 0)
		say(c, LOG_WARNING, "a migration of server %s failed (%s), but no mount names it",
		    ev->host, ev->text);
	/* When each mount was made: one made after the failure (a failure
	 * replayed from kmsg after a restart, the mount remounted since) is
	 * not the failed one. */
	struct nm_mstats ms;
	struct timespec rt, mono;
	bool have_ms = k > 0 && ev->time_ms > 0 && clock_gettime(CLOCK_REALTIME, &rt) == 0 &&
		       clock_gettime(CLOCK_MONOTONIC, &mono) == 0 &&
		       nm_mstats_read(NULL, &ms, NULL) == 0;

	for (size_t i = 0; i < k && i < 64; i++) {
		const struct nm_mount *m = &list[idx[i]];

		if (have_ms &&
		    nm_watch_mounted_after(nm_reg_mounted_at(&ms, m->target), ev->time_ms,
					   (int64_t)rt.tv_sec * 1000 + rt.tv_nsec / 1000000,
					   (int64_t)mono.tv_sec * 1000 + mono.tv_nsec / 1000000)) {
			say(c, LOG_INFO,
			    "%s: mounted after the failed migration of %s: not the failed mount",
			    m->target, ev->host);
			continue;
		}

		if (c->claim_failed && !c->claim_failed(c->fail_arg, m->target, false)) {
			say(c, LOG_INFO, "%s: its failed migration is reported with its move",
			    m->target);
			continue;
		}
		struct json_object *e = json_object_new_object(), *v = json_object_new_object(),
				   *checks = json_object_new_array(),
				   *chk = json_object_new_object();
		char msg[800];

		snprintf(
			msg, sizeof(msg),
			"the migration of %.200s from %.120s failed (%.200s): it returns EIO until "
			"it is remounted",
			m->target, ev->host, ev->text[0] ? ev->text : ev->name);
		put_str(e, "event", "migration-failed");
		put_str(e, "trigger", trigger);
		put_str(e, "mountpoint", m->target);
		put_str(e, "source", m->source);
		put_str(e, "from", ev->host);
		put_str(e, "message", msg);
		if (ev->time_ms > 0)
			put_time(e, "kernel_time", ev->time_ms);
		/* The record's move not reported yet (a kill before its job):
		 * this event is its report, found by a restart's seek. */
		struct nm_record rec = { 0 };
		struct nm_watch_pending pm;

		if (nm_store_load(c->state_dir, m->target, &rec, NULL) == 0) {
			if (rec.pending && nm_watch_pending_parse(rec.pending, &pm) == 0 &&
			    strcmp(pm.kind, "migration") == 0)
				json_object_object_add(e, "record_time",
						       json_object_new_int64(pm.time));
			nm_record_free(&rec);
		}
		put_str(v, "verdict", "FAIL");
		put_str(chk, "check", "migration");
		put_str(chk, "verdict", "FAIL");
		put_str(chk, "reason", msg);
		json_object_array_add(checks, chk);
		json_object_object_add(v, "checks", checks);
		json_object_object_add(e, "verify", v);
		say(c, LOG_ERR, "%s", msg);
		rc = emit(c, e, err);
		json_object_put(e);
		if (rc < 0)
			break;
	}
	if (have_ms)
		nm_mstats_free(&ms);
	nm_mount_list_free(list, nl);
	return rc < 0 ? rc : (int)k;
}

/* --- LEASE_MOVED -------------------------------------------------------------- */

int nm_watch_lease(const struct nm_watch_cfg *c, const struct nm_kev *ev, const char *trigger,
		   struct nm_err *err)
{
	struct nm_mount *list = NULL;
	struct nm_record recs[64];
	struct nm_lease_result out[64];
	size_t nl = 0, idx[64], k, nr = 0, at[64];
	const struct nm_mount *first = NULL;
	int rc, moved = 0;

	rc = nm_mount_list(c->mountinfo, &list, &nl, err);
	if (rc < 0)
		return rc;
	k = nm_watch_mounts_of(list, nl, ev->host, idx, 64);
	for (size_t i = 0; i < k && i < 64; i++) {
		const struct nm_mount *m = &list[idx[i]];

		/* One session: the mounts of the first one's transport. */
		if (first && (strcmp(m->server, first->server) != 0 || m->minor != first->minor))
			continue;
		if (nm_store_load(c->state_dir, m->target, &recs[nr], NULL) < 0)
			continue;
		first = first ? first : m;
		at[nr++] = idx[i];
	}
	if (nr == 0) {
		say(c, LOG_NOTICE, "LEASE_MOVED from %s: no registered mount of it to probe",
		    ev->host);
		nm_mount_list_free(list, nl);
		return 0;
	}
	memset(out, 0, sizeof(out));
	rc = nm_lease_probe(first->server, first->port, first->minor < 0 ? 0 : first->minor,
			    first->sec, recs, nr, out, c->timeout_ms, err);
	for (size_t i = 0; rc >= 0 && i < nr; i++) {
		const struct nm_mount *m = &list[at[i]];
		struct json_object *e;
		char msg[600];

		say(c, LOG_NOTICE, "LEASE_MOVED from %s: %s %s (%s)", ev->host, m->target,
		    nm_lease_verdict_name(out[i].verdict), out[i].reason);
		if (out[i].verdict != NM_LEASE_MOVED)
			continue;
		moved++;
		e = json_object_new_object();
		snprintf(msg, sizeof(msg),
			 "%.120s says LEASE_MOVED: the file system of %.200s moved (%.200s)",
			 ev->host, m->target, out[i].reason);
		put_str(e, "event", "lease-moved");
		put_str(e, "trigger", trigger);
		put_str(e, "mountpoint", m->target);
		put_str(e, "source", m->source);
		put_str(e, "from", m->server);
		put_str(e, "message", msg);
		if (emit(c, e, err) < 0)
			rc = -1;
		json_object_put(e);
	}
	nm_lease_results_free(out, nr);
	for (size_t i = 0; i < nr; i++)
		nm_record_free(&recs[i]);
	nm_mount_list_free(list, nl);
	return rc < 0 ? rc : moved;
}
