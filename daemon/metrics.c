/* nfsmigd's metrics (see metrics.h). */
#include "metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "nm_mount.h"
#include "nm_prom.h"
#include "nm_store.h"
#include "nm_verify.h"

/* The labels counted, each always written (0 until it happens). */
static const char *const upcall_results[] = { "ok", "cache", "negative", "late" };
/* The moves the daemon reports; a transport-move is nfsmig migrate's own
 * event (the record has it: the mount's gauges show it).  A lease-moved
 * event announces a migration reported again as one: counted apart. */
static const char *const move_kinds[] = { "migration", "referral" };
#define DEBOUNCE_MS 200

#define N_UP (sizeof(upcall_results) / sizeof(upcall_results[0]))
#define N_MV (sizeof(move_kinds) / sizeof(move_kinds[0]))

struct nfsmigd_metrics {
	const struct nfsmigd_opts *o;
	char *path, *state_dir, *mountinfo;
	pthread_mutex_t mu;	  /* the counters */
	pthread_mutex_t write_mu; /* one write at a time */
	/* The writer: a change marks the file dirty; one thread writes it
	 * DEBOUNCE_MS later, every change meanwhile in that one write. */
	pthread_mutex_t dirty_mu;
	pthread_cond_t dirty_cv;
	pthread_t writer;
	bool dirty, stop, writing; /* under dirty_mu; writing: the thread runs */
	unsigned long long up[N_UP], mv[N_MV], lease, failed, hooks, scans;
	bool said_missing, failing; /* under write_mu */
};

static void write_now(struct nfsmigd_metrics *m);

/* The one writer: waits for a change, lets more come for DEBOUNCE_MS,
 * writes once.  At stop, a change not written yet is written. */
static void *writer_main(void *arg)
{
	struct nfsmigd_metrics *m = arg;

	pthread_mutex_lock(&m->dirty_mu);
	for (;;) {
		while (!m->dirty && !m->stop)
			pthread_cond_wait(&m->dirty_cv, &m->dirty_mu);
		if (!m->dirty)
			break;
		if (!m->stop) {
			struct timespec until;

			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_nsec += DEBOUNCE_MS * 1000000L;
			until.tv_sec += until.tv_nsec / 1000000000L;
			until.tv_nsec %= 1000000000L;
			while (!m->stop &&
			       pthread_cond_timedwait(&m->dirty_cv, &m->dirty_mu, &until) == 0)
				;
		}
		m->dirty = false;
		pthread_mutex_unlock(&m->dirty_mu);
		write_now(m);
		pthread_mutex_lock(&m->dirty_mu);
	}
	pthread_mutex_unlock(&m->dirty_mu);
	return NULL;
}

void nfsmigd_metrics_changed(struct nfsmigd_metrics *m)
{
	if (!m || !m->writing)
		return;
	pthread_mutex_lock(&m->dirty_mu);
	if (!m->dirty) {
		m->dirty = true;
		pthread_cond_signal(&m->dirty_cv);
	}
	pthread_mutex_unlock(&m->dirty_mu);
}

struct nfsmigd_metrics *nfsmigd_metrics_new(const struct nfsmigd_opts *o, const char *path,
					    const char *state_dir, const char *mountinfo)
{
	struct nfsmigd_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->o = o;
	pthread_mutex_init(&m->mu, NULL);
	pthread_mutex_init(&m->write_mu, NULL);
	pthread_mutex_init(&m->dirty_mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&m->dirty_cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	m->path = strdup(path);
	m->state_dir = strdup(state_dir);
	m->mountinfo = mountinfo ? strdup(mountinfo) : NULL;
	if (!m->path || !m->state_dir || (mountinfo && !m->mountinfo)) {
		nfsmigd_metrics_free(m);
		return NULL;
	}
	if (m->path[0]) {
		m->writing = pthread_create(&m->writer, NULL, writer_main, m) == 0;
		if (!m->writing)
			nfsmigd_log(o, LOG_WARNING, "metrics: no writer thread: none written");
	}
	return m;
}

static void bump(struct nfsmigd_metrics *m, const char *const *names, unsigned long long *n,
		 size_t k, const char *name)
{
	for (size_t i = 0; i < k; i++)
		if (strcmp(names[i], name) == 0) {
			pthread_mutex_lock(&m->mu);
			n[i]++;
			pthread_mutex_unlock(&m->mu);
			return;
		}
}

void nfsmigd_metrics_upcall(struct nfsmigd_metrics *m, const char *result)
{
	if (m)
		bump(m, upcall_results, m->up, N_UP, result);
}

void nfsmigd_metrics_scan(struct nfsmigd_metrics *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	m->scans++;
	pthread_mutex_unlock(&m->mu);
}

static int verdict_num(const char *s)
{
	static const int all[] = { NM_V_OK, NM_V_WARN, NM_V_FAIL, NM_V_SKIP };

	for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, nm_verdict_name((enum nm_verdict)all[i])) == 0)
			return all[i];
	return -1;
}

void nfsmigd_metrics_event(void *arg, const char *kind, const char *mountpoint, const char *verdict,
			   unsigned hook_failures)
{
	struct nfsmigd_metrics *m = arg;

	/* The verdict is in the mount's record (nm_watch_run keeps it). */
	(void)mountpoint;
	(void)verdict;
	if (!m)
		return;
	bump(m, move_kinds, m->mv, N_MV, kind);
	pthread_mutex_lock(&m->mu);
	if (strcmp(kind, "migration-failed") == 0)
		m->failed++;
	if (strcmp(kind, "lease-moved") == 0)
		m->lease++;
	m->hooks += hook_failures;
	pthread_mutex_unlock(&m->mu);
}

static void fail(struct nfsmigd_metrics *m, int rc, const char *msg)
{
	if (rc == -ENOENT) {
		if (!m->said_missing)
			nfsmigd_log(m->o, LOG_NOTICE,
				    "metrics: %s (its directory is missing; said once: "
				    "tried again after each scan)",
				    msg);
		m->said_missing = true;
		return;
	}
	if (!m->failing)
		nfsmigd_log(m->o, LOG_WARNING, "metrics: %s", msg);
	m->failing = true;
}

static void write_now(struct nfsmigd_metrics *m)
{
	struct nm_prom_count up[N_UP], mv[N_MV];
	struct nm_prom_doc d = { .counters = true };
	struct nm_record *recs = NULL;
	struct nm_prom_mount *pm = NULL;
	struct nm_mount *all = NULL;
	struct nm_err err = { 0 };
	char *text = NULL;
	size_t na = 0, n = 0, len = 0;
	int rc;

	if (!m || !m->path[0])
		return;
	pthread_mutex_lock(&m->write_mu);
	rc = nm_mount_list(m->mountinfo, &all, &na, &err);
	if (rc < 0) {
		fail(m, rc == -ENOENT ? -EIO : rc, err.msg);
		goto out;
	}
	recs = calloc(na ? na : 1, sizeof(*recs));
	pm = calloc(na ? na : 1, sizeof(*pm));
	if (!recs || !pm) {
		fail(m, -ENOMEM, "out of memory");
		goto out;
	}
	/* The records read without the lock: the server's loop counts
	 * upcalls under it and must not wait on a disk. */
	for (size_t i = 0; i < na; i++) {
		struct nm_err e = { 0 };

		/* A registered NFSv4 mount: its record says where it was. */
		if (all[i].vers != 4)
			continue;
		if (nm_store_load(m->state_dir, all[i].target, &recs[n], &e) != 0) {
			nm_record_free(&recs[n]);
			continue;
		}
		nm_prom_mount_of(&all[i], &recs[n], -1, &pm[n]);
		n++;
	}
	/* The last verdict, nfsmig verify's or the daemon's own verify of a
	 * move, as the record keeps it; one older than the record's
	 * registration judged an earlier mount. */
	for (size_t i = 0; i < n; i++)
		if (recs[i].verify_time > 0 && recs[i].verify_time >= recs[i].registered)
			pm[i].verdict = verdict_num(recs[i].verify_verdict);
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < N_UP; i++)
		up[i] = (struct nm_prom_count){ upcall_results[i], m->up[i] };
	for (size_t i = 0; i < N_MV; i++)
		mv[i] = (struct nm_prom_count){ move_kinds[i], m->mv[i] };
	d.lease_moved = m->lease;
	d.migrations_failed = m->failed;
	d.hook_failures = m->hooks;
	d.scans = m->scans;
	pthread_mutex_unlock(&m->mu);
	d.mounts = pm;
	d.nmounts = n;
	d.upcalls = up;
	d.nupcalls = N_UP;
	d.moves = mv;
	d.nmoves = N_MV;
	rc = nm_prom_format(&d, &text, &len, &err);
	if (rc == 0)
		rc = nm_prom_write(m->path, text, len, &err);
	if (rc < 0) {
		fail(m, rc, err.msg);
	} else {
		if (m->failing || m->said_missing)
			nfsmigd_log(m->o, LOG_NOTICE, "metrics: %s written again", m->path);
		m->failing = m->said_missing = false;
	}
out:
	for (size_t i = 0; i < n; i++)
		nm_record_free(&recs[i]);
	free(recs);
	free(pm);
	free(text);
	if (all)
		nm_mount_list_free(all, na);
	pthread_mutex_unlock(&m->write_mu);
}

void nfsmigd_metrics_free(struct nfsmigd_metrics *m)
{
	if (!m)
		return;
	if (m->writing) {
		pthread_mutex_lock(&m->dirty_mu);
		m->stop = true;
		pthread_cond_signal(&m->dirty_cv);
		pthread_mutex_unlock(&m->dirty_mu);
		pthread_join(m->writer, NULL);
	}
	free(m->path);
	free(m->state_dir);
	free(m->mountinfo);
	pthread_mutex_destroy(&m->mu);
	pthread_mutex_destroy(&m->write_mu);
	pthread_mutex_destroy(&m->dirty_mu);
	pthread_cond_destroy(&m->dirty_cv);
	free(m);
}
