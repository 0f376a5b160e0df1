/* nfsmigd's watcher: the epoll loop, its sources, and the workers. */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <libgen.h>
#include <libmount.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "nm_kmsg.h"
#include "nm_kmsg_posfile.h"
#include "nm_ktrace.h"
#include "nm_time.h"
#include "nm_uevent.h"
#include "nm_watch.h"
#include "nm_watch_run.h"
#include "metrics.h"
#include "watch.h"

#define WORKERS	    3
#define QUEUE_MAX   256 /* jobs waiting; a scan finds the rest later */
#define BUSY_MAX    256
#define BACKOFF_MAX 64
#define BACKOFF_MS  60000 /* a mount that could not be registered is tried again after */
#define FAILED_WIN  30000 /* one migration-failed report per server in this many ms */
#define FAILED_WAIT 1500  /* a failure's report waits for the move's */
#define KHELD_MAX   32	  /* kmsg failures queued whose record holds the position */

enum src { S_TRACEFS, S_UEVENT, S_KMSG, S_MOUNTINFO, S_UPCALL, S_RESCAN, S_N };
static const char *const src_name[S_N] = { "tracefs",	"uevent", "kmsg",
					   "mountinfo", "upcall", "rescan" };

enum item_kind { I_SCAN, I_JOB, I_FAILED, I_LEASE };

struct item {
	enum item_kind kind;
	struct nm_watch_job job; /* I_JOB */
	struct nm_kev kev;	 /* I_FAILED */
	char trigger[96];	 /* I_SCAN, I_FAILED */
	bool held;		 /* I_FAILED: its kmsg record holds the saved position */
	int64_t kernel_ms;	 /* I_SCAN */
	unsigned flags;		 /* I_SCAN */
	unsigned long gen;	 /* I_SCAN: the settle window's trigger it carries */
	struct item *next;
};

struct last_said {
	char host[256];
	int64_t at;
};

/* The kernel says a failure or LEASE_MOVED in several lines: once per
 * server in FAILED_WIN.  True when this one is to be acted on. */
static bool first_word(struct last_said *t, size_t n, const char *host)
{
	int64_t now = nm_time_ms();
	size_t slot = 0;

	for (size_t i = 0; i < n; i++) {
		if (t[i].at && strcmp(t[i].host, host) == 0) {
			if (now - t[i].at < FAILED_WIN)
				return false;
			slot = i;
			break;
		}
		if (t[i].at < t[slot].at)
			slot = i;
	}
	snprintf(t[slot].host, sizeof(t[slot].host), "%s", host);
	t[slot].at = now;
	return true;
}

struct nfsmigd_watch {
	const struct nfsmigd_opts *o;
	struct nm_conf conf;
	struct nm_watch_cfg cfg;
	struct nfsmigd_metrics *metrics; /* written after every scan and event */
	pthread_t loop, workers[WORKERS];
	int nworkers;
	bool loop_started;
	int epfd, stopfd, hintr, hintw, settlefd, rescanfd, inofd;
	struct nm_ktrace *kt;
	char kt_inst[32];
	bool kt_none; /* tracefs without our events (no module yet): tried again */
	bool kt_warned;
	int uevfd, kmsgfd;
	struct nm_kmsg_pos kpos; /* the kernel log's, read (loop thread) */
	/* What may be saved (under mu): the position read, and the records of
	 * failures not reported yet, which a restart must read again. */
	uint64_t kread;
	int kread_have;
	bool kdirty; /* a record the watcher acts on read since the last save */
	uint64_t kheld[KHELD_MAX];
	unsigned nkheld, kheld_over;
	pthread_mutex_t kpos_mu; /* one save at a time (loop, workers) */
	uint64_t ksaved;
	int ksaved_have;
	bool kpos_warned; /* under kpos_mu */
	struct libmnt_monitor *mon;
	bool live[S_N];
	char why_not[S_N][160];

	pthread_mutex_t mu;
	pthread_mutex_t scan_mu; /* one scan at a time: a second waits, then
				  * sees the first one's jobs as busy */
	pthread_cond_t cv, idle;
	struct item *head, *tail;
	unsigned queued, running;
	bool scan_queued;
	bool stopping;
	char *busy[BUSY_MAX];
	struct {
		char *mp;
		int64_t until; /* nm_time_ms */
	} backoff[BACKOFF_MAX];
	unsigned long scans, jobs_done, events, failures;
	unsigned long consumed_gen; /* a scan acted on this trigger (under mu) */
	int nfs4;		    /* NFSv4 mounts the last scan saw, -1: none yet (mu) */

	/* The settle window (loop thread only). */
	bool settling;
	char settle_trigger[96];
	int settle_rank;
	unsigned long settle_gen; /* the window's trigger (loop thread) */
	int64_t settle_kernel_ms, settle_until, settle_end;
	/* The last migration-failed report and LEASE_MOVED probe per server
	 * (loop thread only). */
	struct last_said failed[16], leases[16];
	/* Failures the kernel said, and the mounts whose failure is reported
	 * (under mu, for the workers). */
	struct {
		char host[256], why[256];
		int64_t at; /* ms since the epoch */
	} fails[16];
	struct {
		char mp[512];
		int64_t at;
	} claims[32];
};

static int64_t now_real_ms(void);
static bool busy_has(struct nfsmigd_watch *w, const char *mp);

static bool cfg_failed_since(void *arg, const char *host, int64_t since, char *why, size_t cap)
{
	struct nfsmigd_watch *w = arg;
	bool found = false;

	if (!host || !host[0])
		return false;
	pthread_mutex_lock(&w->mu);
	for (int i = 0; i < 16 && !found; i++)
		if (w->fails[i].at >= since && strcasecmp(w->fails[i].host, host) == 0) {
			snprintf(why, cap, "%s", w->fails[i].why);
			found = true;
		}
	pthread_mutex_unlock(&w->mu);
	return found;
}

/* Once per mount in FAILED_WIN; not for a mount whose move a worker is
 * reporting, unless it is that worker that asks. */
static bool cfg_claim_failed(void *arg, const char *mp, bool by_move)
{
	struct nfsmigd_watch *w = arg;
	int64_t now = now_real_ms();
	int slot = 0;
	bool ok = true;

	pthread_mutex_lock(&w->mu);
	if (!by_move && busy_has(w, mp))
		ok = false;
	for (int i = 0; ok && i < 32; i++) {
		if (w->claims[i].at && now - w->claims[i].at < FAILED_WIN &&
		    strcmp(w->claims[i].mp, mp) == 0)
			ok = false;
		if (w->claims[i].at < w->claims[slot].at)
			slot = i;
	}
	if (ok) {
		snprintf(w->claims[slot].mp, sizeof(w->claims[slot].mp), "%s", mp);
		w->claims[slot].at = now;
	}
	pthread_mutex_unlock(&w->mu);
	return ok;
}

static void cfg_log(void *arg, int prio, const char *line)
{
	struct nfsmigd_watch *w = arg;

	nfsmigd_log(w->o, prio, "%s", line);
}

static int64_t now_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the queue ---------------------------------------------------------------- */

static bool busy_has(struct nfsmigd_watch *w, const char *mp)
{
	for (int i = 0; i < BUSY_MAX; i++)
		if (w->busy[i] && strcmp(w->busy[i], mp) == 0)
			return true;
	return false;
}

/* With w->mu held: mp could not be registered lately (its server did not
 * answer): not tried again before BACKOFF_MS. */
static bool backing_off(struct nfsmigd_watch *w, const char *mp)
{
	int64_t now = nm_time_ms();

	for (int i = 0; i < BACKOFF_MAX; i++)
		if (w->backoff[i].mp && strcmp(w->backoff[i].mp, mp) == 0)
			return now < w->backoff[i].until;
	return false;
}

static void backoff_add(struct nfsmigd_watch *w, const char *mp)
{
	int slot = 0;

	for (int i = 0; i < BACKOFF_MAX; i++) {
		if (w->backoff[i].mp && strcmp(w->backoff[i].mp, mp) == 0) {
			slot = i;
			break;
		}
		if (w->backoff[i].until < w->backoff[slot].until)
			slot = i;
	}
	if (!w->backoff[slot].mp || strcmp(w->backoff[slot].mp, mp) != 0) {
		free(w->backoff[slot].mp);
		w->backoff[slot].mp = strdup(mp);
	}
	w->backoff[slot].until = nm_time_ms() + BACKOFF_MS;
}

/* With w->mu held: mp has a job under way; false when the set is full. */
static bool busy_add(struct nfsmigd_watch *w, const char *mp)
{
	for (int i = 0; i < BUSY_MAX; i++)
		if (!w->busy[i]) {
			w->busy[i] = strdup(mp);
			return w->busy[i] != NULL;
		}
	return false;
}

static void busy_del(struct nfsmigd_watch *w, const char *mp)
{
	for (int i = 0; i < BUSY_MAX; i++)
		if (w->busy[i] && strcmp(w->busy[i], mp) == 0) {
			free(w->busy[i]);
			w->busy[i] = NULL;
			return;
		}
}

/* With w->mu held. */
static void enqueue(struct nfsmigd_watch *w, struct item *it)
{
	it->next = NULL;
	if (w->tail)
		w->tail->next = it;
	else
		w->head = it;
	w->tail = it;
	w->queued++;
	pthread_cond_signal(&w->cv);
}

/* A look at the table, told by trigger.  At most one waits: a later
 * request with a kernel trigger gives the waiting one its trigger. */
static void want_scan(struct nfsmigd_watch *w, const char *trigger, int64_t kernel_ms,
		      unsigned flags, unsigned long gen)
{
	struct item *it;

	pthread_mutex_lock(&w->mu);
	if (w->scan_queued) {
		for (it = w->head; it; it = it->next)
			if (it->kind == I_SCAN && strcmp(it->trigger, "rescan") == 0 &&
			    strcmp(trigger, "rescan") != 0) {
				snprintf(it->trigger, sizeof(it->trigger), "%s", trigger);
				it->kernel_ms = kernel_ms;
				it->gen = gen;
			}
		pthread_mutex_unlock(&w->mu);
		return;
	}
	it = calloc(1, sizeof(*it));
	if (it) {
		it->kind = I_SCAN;
		snprintf(it->trigger, sizeof(it->trigger), "%s", trigger);
		it->kernel_ms = kernel_ms;
		it->flags = flags;
		it->gen = gen;
		w->scan_queued = true;
		enqueue(w, it);
	}
	pthread_mutex_unlock(&w->mu);
}

static bool scan_busy(const char *mp, void *arg)
{
	struct nfsmigd_watch *w = arg;
	bool b;

	pthread_mutex_lock(&w->mu);
	b = busy_has(w, mp) || backing_off(w, mp);
	pthread_mutex_unlock(&w->mu);
	return b;
}

static void run_scan(struct nfsmigd_watch *w, struct item *s)
{
	struct nm_watch_job *jobs = NULL;
	struct nm_err err = { 0 };
	size_t n = 0;

	int rc;

	pthread_mutex_lock(&w->scan_mu);
	rc = nm_watch_scan(&w->cfg, s->trigger, s->kernel_ms, s->flags, scan_busy, w, &jobs, &n,
			   &err);
	if (rc < 0) {
		pthread_mutex_unlock(&w->scan_mu);
		nfsmigd_log(w->o, LOG_WARNING, "scan: %s", err.msg);
		return;
	}
	pthread_mutex_lock(&w->mu);
	w->scans++;
	w->nfs4 = rc;
	for (size_t i = 0; i < n; i++) {
		struct item *it;

		/* A marker is kept in the record: a job not queued now is
		 * found by a later scan. */
		if (busy_has(w, jobs[i].m.target) || w->queued >= QUEUE_MAX ||
		    !(it = calloc(1, sizeof(*it)))) {
			nm_watch_job_free(&jobs[i]);
			continue;
		}
		if (!busy_add(w, jobs[i].m.target)) {
			free(it);
			nm_watch_job_free(&jobs[i]);
			continue;
		}
		it->kind = I_JOB;
		it->job = jobs[i];
		/* The word that told of it is used: the next one starts a
		 * trigger of its own. */
		if (it->job.act != NM_WATCH_RESUME && s->gen)
			w->consumed_gen = s->gen;
		enqueue(w, it);
	}
	pthread_mutex_unlock(&w->mu);
	pthread_mutex_unlock(&w->scan_mu);
	free(jobs);
	nfsmigd_metrics_scan(w->metrics);
	nfsmigd_metrics_changed(w->metrics);
}

/* Under mu: a failure from kmsg queued, its record held until reported. */
static void kheld_add(struct nfsmigd_watch *w, struct item *it)
{
	if (strcmp(it->kev.source, "kmsg") != 0 || it->kev.seq == 0)
		return;
	it->held = true;
	if (w->nkheld < KHELD_MAX)
		w->kheld[w->nkheld++] = it->kev.seq;
	else
		w->kheld_over++;
}

static void kheld_del(struct nfsmigd_watch *w, struct item *it)
{
	pthread_mutex_lock(&w->mu);
	for (unsigned i = 0; i < w->nkheld; i++)
		if (w->kheld[i] == it->kev.seq) {
			w->kheld[i] = w->kheld[--w->nkheld];
			it->held = false;
			break;
		}
	if (it->held && w->kheld_over)
		w->kheld_over--;
	it->held = false;
	pthread_mutex_unlock(&w->mu);
}

/* The kernel log's position saved: up to the oldest failure not reported
 * yet (a kill -9 before its report reads it again), synced, and only when
 * it moved. */
static void kpos_save(struct nfsmigd_watch *w)
{
	struct nm_kmsg_pos p = { 0 };
	struct nm_err err = { 0 };
	bool over;

	pthread_mutex_lock(&w->kpos_mu);
	pthread_mutex_lock(&w->mu);
	over = w->kheld_over > 0;
	p.have = w->kread_have;
	p.seq = nm_watch_kmsg_safe(w->kread, w->kheld, w->nkheld);
	w->kdirty = false;
	pthread_mutex_unlock(&w->mu);
	if (over || !p.have || (w->ksaved_have && p.seq <= w->ksaved)) {
		pthread_mutex_unlock(&w->kpos_mu);
		return;
	}
	if (nm_kmsg_pos_save(w->conf.state_dir, &p, &err) < 0) {
		if (!w->kpos_warned)
			nfsmigd_log(w->o, LOG_WARNING, "kmsg: position not saved: %s", err.msg);
		w->kpos_warned = true;
	} else {
		w->kpos_warned = false;
		w->ksaved = p.seq;
		w->ksaved_have = 1;
	}
	pthread_mutex_unlock(&w->kpos_mu);
}

static void *worker(void *arg)
{
	struct nfsmigd_watch *w = arg;

	for (;;) {
		struct item *it;
		struct nm_err err = { 0 };

		pthread_mutex_lock(&w->mu);
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stopping) {
			pthread_mutex_unlock(&w->mu);
			return NULL;
		}
		it = w->head;
		w->head = it->next;
		if (!w->head)
			w->tail = NULL;
		w->queued--;
		if (it->kind == I_SCAN)
			w->scan_queued = false;
		w->running++;
		pthread_mutex_unlock(&w->mu);

		switch (it->kind) {
		case I_SCAN: run_scan(w, it); break;
		case I_JOB:
			if (nm_watch_job_run(&w->cfg, &it->job, &err) < 0) {
				bool reg = it->job.act == NM_WATCH_REGISTER ||
					   it->job.act == NM_WATCH_REFERRAL;

				nfsmigd_log(w->o, LOG_WARNING, "%s: %s: %s%s", it->job.m.target,
					    nm_watch_act_name(it->job.act), err.msg,
					    reg ? " (tried again in a minute)" : "");
				if (reg) {
					pthread_mutex_lock(&w->mu);
					backoff_add(w, it->job.m.target);
					pthread_mutex_unlock(&w->mu);
				}
			}
			break;
		case I_FAILED:
			/* A move the kernel made before it failed is the
			 * failure's report: its scan and job first. */
			nm_time_sleep_ms(FAILED_WAIT);
			if (nm_watch_failed(&w->cfg, &it->kev, it->trigger, &err) < 0)
				nfsmigd_log(w->o, LOG_WARNING, "migration-failed: %s", err.msg);
			/* Reported: its record no longer holds the position. */
			if (it->held) {
				kheld_del(w, it);
				kpos_save(w);
			}
			break;
		case I_LEASE:
			if (nm_watch_lease(&w->cfg, &it->kev, it->trigger, &err) < 0)
				nfsmigd_log(w->o, LOG_WARNING, "LEASE_MOVED: %s", err.msg);
			break;
		}
		pthread_mutex_lock(&w->mu);
		if (it->kind == I_JOB) {
			busy_del(w, it->job.m.target);
			w->jobs_done++;
		}
		w->running--;
		pthread_cond_broadcast(&w->idle);
		pthread_mutex_unlock(&w->mu);
		/* An event may have been written: the metrics say it. */
		if (it->kind != I_SCAN)
			nfsmigd_metrics_changed(w->metrics);
		if (it->kind == I_JOB)
			nm_watch_job_free(&it->job);
		free(it);
	}
}

/* --- kernel events ------------------------------------------------------------- */

static void settle_arm(struct nfsmigd_watch *w, int ms)
{
	struct itimerspec its = { 0 };

	if (ms > 0) {
		its.it_value.tv_nsec = (long)ms * 1000000L;
		its.it_interval.tv_nsec = (long)ms * 1000000L;
	}
	timerfd_settime(w->settlefd, 0, &its, NULL);
}

/* A move may be under way: look at the table every tick until it settles
 * (NM_WATCH_SETTLE_MS after the last word of it, NM_WATCH_SETTLE_MAX_MS
 * at most).  The trigger is the strongest word of the window, the first
 * of that rank. */
static void settle(struct nfsmigd_watch *w, const char *trigger, int rank, int64_t kernel_ms)
{
	int64_t now = nm_time_ms();
	bool used;
	int nfs4;

	pthread_mutex_lock(&w->mu);
	used = w->consumed_gen == w->settle_gen;
	nfs4 = w->nfs4;
	pthread_mutex_unlock(&w->mu);
	/* No NFSv4 mount, nothing to move: no window (an idle daemon is not
	 * woken by the names it resolves); a new mount is the monitor's. */
	if (nfs4 == 0 && !w->settling)
		return;
	if (!w->settling) {
		w->settling = true;
		w->settle_rank = 0;
		w->settle_gen++;
		w->settle_end = now + NM_WATCH_SETTLE_MAX_MS;
		settle_arm(w, NM_WATCH_SETTLE_TICK_MS);
	} else if (used) {
		/* The window's word was acted on (a mount registered, a move
		 * recorded): this one is a new story. */
		w->settle_rank = 0;
		w->settle_gen++;
		w->settle_end = now + NM_WATCH_SETTLE_MAX_MS;
	}
	if (rank > w->settle_rank) {
		w->settle_rank = rank;
		snprintf(w->settle_trigger, sizeof(w->settle_trigger), "%s", trigger);
		w->settle_kernel_ms = kernel_ms;
	}
	w->settle_until = now + NM_WATCH_SETTLE_MS;
	if (w->settle_until > w->settle_end)
		w->settle_until = w->settle_end;
	want_scan(w, w->settle_trigger, w->settle_kernel_ms, 0, w->settle_gen);
}

static void settle_tick(struct nfsmigd_watch *w)
{
	uint64_t n;

	if (read(w->settlefd, &n, sizeof(n)) < 0)
		return;
	if (!w->settling)
		return;
	if (nm_time_ms() > w->settle_until) {
		w->settling = false;
		settle_arm(w, 0);
		return;
	}
	want_scan(w, w->settle_trigger, w->settle_kernel_ms, 0, w->settle_gen);
}

/* LEASE_MOVED: the probe of the server's mounts, off the loop. */
static void lease_moved(struct nfsmigd_watch *w, const struct nm_kev *ev, const char *trigger)
{
	struct item *it;

	if (!first_word(w->leases, 16, ev->host) || !(it = calloc(1, sizeof(*it))))
		return;
	it->kind = I_LEASE;
	it->kev = *ev;
	snprintf(it->trigger, sizeof(it->trigger), "%s", trigger);
	pthread_mutex_lock(&w->mu);
	enqueue(w, it);
	pthread_mutex_unlock(&w->mu);
}

static void failed(struct nfsmigd_watch *w, const struct nm_kev *ev, const char *trigger)
{
	struct item *it;
	int slot = 0;

	/* Said for the move jobs: a move the kernel made and then failed. */
	pthread_mutex_lock(&w->mu);
	for (int i = 0; i < 16; i++)
		if (w->fails[i].at < w->fails[slot].at)
			slot = i;
	snprintf(w->fails[slot].host, sizeof(w->fails[slot].host), "%s", ev->host);
	snprintf(w->fails[slot].why, sizeof(w->fails[slot].why), "%s",
		 ev->text[0] ? ev->text : ev->name);
	/* When the kernel said it (a record replayed from kmsg after a
	 * restart is old), not when it was read. */
	w->fails[slot].at = ev->time_ms > 0 ? ev->time_ms : now_real_ms();
	pthread_mutex_unlock(&w->mu);
	if (!first_word(w->failed, 16, ev->host))
		return;
	it = calloc(1, sizeof(*it));
	if (!it)
		return;
	it->kind = I_FAILED;
	it->kev = *ev;
	snprintf(it->trigger, sizeof(it->trigger), "%s", trigger);
	pthread_mutex_lock(&w->mu);
	w->failures++;
	kheld_add(w, it);
	enqueue(w, it);
	pthread_mutex_unlock(&w->mu);
}

static int on_kev(const struct nm_kev *ev, void *arg)
{
	struct nfsmigd_watch *w = arg;
	char trigger[96];
	struct nm_kev k = *ev;

	nm_watch_trigger(ev, trigger, sizeof(trigger));
	if (k.time_ms <= 0)
		k.time_ms = now_real_ms();
	if (w->o->verbose)
		nfsmigd_log(w->o, LOG_DEBUG, "kernel (%03d.%03d): %s %s host=%s peer=%s %s",
			    (int)(k.time_ms / 1000 % 1000), (int)(k.time_ms % 1000), k.source,
			    k.name, k.host, k.peer, k.text);
	enum nm_watch_kev_act act = nm_watch_kev_judge(&k);

	if (act != NM_WATCH_KEV_IGNORE && strcmp(k.source, "kmsg") == 0) {
		pthread_mutex_lock(&w->mu);
		w->kdirty = true;
		pthread_mutex_unlock(&w->mu);
	}
	switch (act) {
	case NM_WATCH_KEV_SETTLE: settle(w, trigger, nm_watch_kev_rank(&k), k.time_ms); break;
	case NM_WATCH_KEV_FAILED: failed(w, &k, trigger); break;
	case NM_WATCH_KEV_LEASE_MOVED:
		/* The kernel probes the server's file systems and moves those
		 * that moved: the table shows it. */
		nfsmigd_log(w->o, LOG_NOTICE,
			    "server %s says a file system of its moved (LEASE_MOVED, %s)", k.host,
			    trigger);
		lease_moved(w, &k, trigger);
		settle(w, trigger, 3, k.time_ms);
		break;
	case NM_WATCH_KEV_IGNORE: break;
	}
	return 0;
}

/* Before the loop and the workers: the position read and saved so far. */
static void kpos_start(struct nfsmigd_watch *w)
{
	w->kread = w->ksaved = w->kpos.seq;
	w->kread_have = w->ksaved_have = w->kpos.have;
}

/* --- the loop ------------------------------------------------------------------ */

static void drain_fd(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void on_hint(struct nfsmigd_watch *w)
{
	char name[256];
	ssize_t k;

	while ((k = read(w->hintr, name, sizeof(name))) == (ssize_t)sizeof(name)) {
		name[sizeof(name) - 1] = '\0';
		if (w->o->verbose)
			nfsmigd_log(w->o, LOG_DEBUG, "upcall for %s: watching for a move", name);
		settle(w, "upcall", 1, now_real_ms());
	}
}

/* The trace events a module brings (nfsv4.ko with the first NFSv4 mount;
 * the unit's ProtectKernelModules keeps the daemon from loading it): tried
 * again when the mount table changes and at the rescan.  A stat of each
 * missing event: cheap. */
static int watch_fd(struct nfsmigd_watch *w, int fd);

static void ktrace_retry(struct nfsmigd_watch *w)
{
	struct nm_err err = { 0 };
	int n;

	if (w->kt && nm_ktrace_missing(w->kt)[0]) {
		n = nm_ktrace_retry_missing(w->kt, &err);
		if (n > 0)
			nfsmigd_log(w->o, LOG_NOTICE, "tracefs: now watching %s%s%s",
				    nm_ktrace_enabled(w->kt),
				    nm_ktrace_missing(w->kt)[0] ? "; still missing: " : "",
				    nm_ktrace_missing(w->kt));
		else if (n < 0 && !w->kt_warned)
			nfsmigd_log(w->o, LOG_WARNING, "%s", err.msg);
		w->kt_warned = n < 0;
	} else if (w->kt_none) {
		if (nm_ktrace_open(w->kt_inst, &w->kt, &err) < 0)
			return;
		if (watch_fd(w, nm_ktrace_fd(w->kt)) < 0) {
			nfsmigd_log(w->o, LOG_WARNING, "tracefs: epoll: %s", strerror(errno));
			nm_ktrace_close(w->kt);
			w->kt = NULL;
			return;
		}
		w->kt_none = false;
		w->live[S_TRACEFS] = true;
		nfsmigd_log(w->o, LOG_NOTICE, "tracefs: now watching %s%s%s",
			    nm_ktrace_enabled(w->kt),
			    nm_ktrace_missing(w->kt)[0] ? "; still missing: " : "",
			    nm_ktrace_missing(w->kt));
	}
}

static void on_mount_change(struct nfsmigd_watch *w)
{
	if (w->mon) {
		const char *file = NULL;
		int type = 0;

		mnt_monitor_event_cleanup(w->mon);
		while (mnt_monitor_next_change(w->mon, &file, &type) == 0)
			;
	}
	if (w->inofd >= 0)
		drain_fd(w->inofd);
	ktrace_retry(w);
	want_scan(w, "mountinfo", 0, 0, 0);
}

static void kmsg_read(struct nfsmigd_watch *w);

static void *loop(void *arg)
{
	struct nfsmigd_watch *w = arg;
	struct nm_err err = { 0 };

	for (;;) {
		struct epoll_event evs[8];
		int n = epoll_wait(w->epfd, evs, 8, -1);

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == w->stopfd)
				return NULL;
			if (fd == w->hintr)
				on_hint(w);
			else if (fd == w->settlefd)
				settle_tick(w);
			else if (fd == w->rescanfd) {
				drain_fd(w->rescanfd);
				ktrace_retry(w);
				want_scan(w, "rescan", 0, 0, 0);
			} else if (w->kt && fd == nm_ktrace_fd(w->kt)) {
				if (nm_ktrace_read(w->kt, on_kev, w, &err) < 0)
					nfsmigd_log(w->o, LOG_WARNING, "tracefs: %s", err.msg);
			} else if (fd == w->uevfd) {
				if (nm_uevent_read(w->uevfd, on_kev, w, &err) < 0)
					nfsmigd_log(w->o, LOG_WARNING, "uevent: %s", err.msg);
			} else if (fd == w->kmsgfd) {
				kmsg_read(w);
			} else if ((w->mon && fd == mnt_monitor_get_fd(w->mon)) || fd == w->inofd) {
				on_mount_change(w);
			}
		}
	}
	return NULL;
}

/* --- start and stop ------------------------------------------------------------ */

static int watch_fd(struct nfsmigd_watch *w, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int kmsg_skip(const struct nm_kev *ev, void *arg)
{
	(void)ev;
	(void)arg;
	return 0;
}

/* /dev/kmsg where the last run stopped (this boot's position in the state
 * dir): what the kernel logged while no daemon ran is read now.  Without
 * one, from the end: the log read through once, only to know where it is
 * (so that the position is saved from the start). */
static int kmsg_open(struct nfsmigd_watch *w, struct nm_err *err)
{
	struct nm_err e = { 0 };
	int rc = nm_kmsg_pos_load(w->conf.state_dir, &w->kpos, &e), fd;

	if (rc == 0) {
		fd = nm_kmsg_open_at(&w->kpos, err);
		kpos_start(w);
		if (fd >= 0)
			nfsmigd_log(w->o, LOG_NOTICE,
				    "kmsg: read after record %" PRIu64
				    " (where the last run stopped)",
				    w->kpos.seq);
		return fd;
	}
	if (rc < 0)
		nfsmigd_log(w->o, LOG_WARNING, "kmsg: %s: read from the end", e.msg);
	w->kpos = (struct nm_kmsg_pos){ .have = 1, .seq = 0 };
	fd = nm_kmsg_open_at(&w->kpos, err);
	if (fd < 0)
		return fd;
	if (nm_kmsg_read_at(fd, &w->kpos, kmsg_skip, NULL, &e) < 0)
		nfsmigd_log(w->o, LOG_WARNING, "kmsg: %s", e.msg);
	w->kpos.lost = 0;
	if (nm_kmsg_pos_save(w->conf.state_dir, &w->kpos, &e) < 0) {
		nfsmigd_log(w->o, LOG_WARNING, "kmsg: position not saved: %s", e.msg);
		w->kpos_warned = true;
	}
	kpos_start(w);
	return fd;
}

static void kmsg_read(struct nfsmigd_watch *w)
{
	struct nm_err err = { 0 };
	unsigned long lost = w->kpos.lost;
	bool dirty;

	if (nm_kmsg_read_at(w->kmsgfd, &w->kpos, on_kev, w, &err) < 0)
		nfsmigd_log(w->o, LOG_WARNING, "kmsg: %s", err.msg);
	if (w->kpos.lost > lost)
		nfsmigd_log(w->o, LOG_WARNING, "kmsg: %lu records the kernel dropped before read",
			    w->kpos.lost - lost);
	pthread_mutex_lock(&w->mu);
	w->kread = w->kpos.seq;
	w->kread_have = w->kpos.have;
	dirty = w->kdirty;
	pthread_mutex_unlock(&w->mu);
	/* Another kernel message moves nothing worth a write: a restart reads
	 * it again and skips it. */
	if (dirty)
		kpos_save(w);
}

static void src_off(struct nfsmigd_watch *w, enum src s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void src_off(struct nfsmigd_watch *w, enum src s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->why_not[s], sizeof(w->why_not[s]), fmt, ap);
	va_end(ap);
	w->live[s] = false;
}

static void open_sources(struct nfsmigd_watch *w)
{
	const struct nm_conf *c = &w->conf;
	struct nm_err err = { 0 };

	/* The instance is the daemon's: one per socket (a daemon killed
	 * before leaves it to the next one of that socket; daemons of other
	 * sockets, as tests run them, have their own). */
	char inst[32] = "nfsmigd";
	uint32_t h = 2166136261u;

	if (strcmp(c->socket, "/run/nfsmig/nfsmigd.sock") != 0) {
		for (const char *p = c->socket; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		snprintf(inst, sizeof(inst), "nfsmigd-%08x", h);
	}
	snprintf(w->kt_inst, sizeof(w->kt_inst), "%s", inst);
	if (!c->watch_tracefs)
		src_off(w, S_TRACEFS, "disabled");
	else if ((w->kt_none = nm_ktrace_open(inst, &w->kt, &err) == -ENOENT &&
			       strstr(err.msg, "none of the events")))
		src_off(w, S_TRACEFS, "%s (tried again when the mount table changes)", err.msg);
	else if (!w->kt)
		src_off(w, S_TRACEFS, "%s", err.msg);
	else if (watch_fd(w, nm_ktrace_fd(w->kt)) < 0)
		src_off(w, S_TRACEFS, "epoll: %s", strerror(errno));
	else
		w->live[S_TRACEFS] = true;

	w->uevfd = -1;
	if (!c->watch_uevent)
		src_off(w, S_UEVENT, "disabled");
	else if ((w->uevfd = nm_uevent_open(&err)) < 0)
		src_off(w, S_UEVENT, "%s", err.msg);
	else if (watch_fd(w, w->uevfd) < 0)
		src_off(w, S_UEVENT, "epoll: %s", strerror(errno));
	else
		w->live[S_UEVENT] = true;

	w->kmsgfd = -1;
	if (!c->watch_kmsg)
		src_off(w, S_KMSG, "disabled");
	else if ((w->kmsgfd = kmsg_open(w, &err)) < 0)
		src_off(w, S_KMSG, "%s", err.msg);
	else if (watch_fd(w, w->kmsgfd) < 0)
		src_off(w, S_KMSG, "epoll: %s", strerror(errno));
	else
		w->live[S_KMSG] = true;

	w->inofd = -1;
	if (!c->watch_mountinfo) {
		src_off(w, S_MOUNTINFO, "disabled");
	} else if (c->watch_mountinfo_path[0]) {
		/* A table file (tests): its directory watched for it. */
		char dir[NM_CONF_PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", c->watch_mountinfo_path);
		w->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (w->inofd < 0 ||
		    inotify_add_watch(w->inofd, dirname(dir), IN_CLOSE_WRITE | IN_MOVED_TO) < 0 ||
		    watch_fd(w, w->inofd) < 0)
			src_off(w, S_MOUNTINFO, "%s: %s", c->watch_mountinfo_path, strerror(errno));
		else
			w->live[S_MOUNTINFO] = true;
	} else {
		w->mon = mnt_new_monitor();
		if (!w->mon || mnt_monitor_enable_kernel(w->mon, 1) < 0 ||
		    mnt_monitor_get_fd(w->mon) < 0 || watch_fd(w, mnt_monitor_get_fd(w->mon)) < 0)
			src_off(w, S_MOUNTINFO, "libmount's monitor cannot be had");
		else
			w->live[S_MOUNTINFO] = true;
	}

	if (!c->watch_upcall)
		src_off(w, S_UPCALL, "disabled");
	else
		w->live[S_UPCALL] = true;

	if (c->watch_rescan_s <= 0) {
		src_off(w, S_RESCAN, "disabled");
	} else {
		struct itimerspec its = { .it_value.tv_sec = c->watch_rescan_s,
					  .it_interval.tv_sec = c->watch_rescan_s };

		w->rescanfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (w->rescanfd < 0 || timerfd_settime(w->rescanfd, 0, &its, NULL) < 0 ||
		    watch_fd(w, w->rescanfd) < 0)
			src_off(w, S_RESCAN, "timerfd: %s", strerror(errno));
		else
			w->live[S_RESCAN] = true;
	}
}

static void say_sources(struct nfsmigd_watch *w)
{
	char on[256] = "", off[1024] = "";

	for (int s = 0; s < S_N; s++) {
		size_t l;

		if (w->live[s]) {
			l = strlen(on);
			snprintf(on + l, sizeof(on) - l, "%s%s", l ? " " : "", src_name[s]);
			if (s == S_RESCAN) {
				l = strlen(on);
				snprintf(on + l, sizeof(on) - l, " (%d s)", w->conf.watch_rescan_s);
			}
		} else {
			l = strlen(off);
			snprintf(off + l, sizeof(off) - l, "%s%s: %s", l ? "; " : "", src_name[s],
				 w->why_not[s]);
		}
	}
	nfsmigd_log(w->o, LOG_NOTICE, "watching: %s", on[0] ? on : "nothing");
	if (off[0])
		nfsmigd_log(w->o, LOG_NOTICE, "not watching: %s", off);
	if (w->kt && nm_ktrace_missing(w->kt)[0])
		nfsmigd_log(w->o, LOG_NOTICE, "tracefs: this kernel lacks %s",
			    nm_ktrace_missing(w->kt));
}

struct nfsmigd_watch *nfsmigd_watch_start(const struct nfsmigd_opts *o, const struct nm_conf *c)
{
	struct nfsmigd_watch *w = calloc(1, sizeof(*w));
	int p[2];

	if (!w)
		return NULL;
	w->o = o;
	w->conf = *c;
	w->nfs4 = -1;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->settlefd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	w->rescanfd = w->hintr = w->hintw = w->uevfd = w->kmsgfd = w->inofd = -1;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0) {
		w->hintr = p[0];
		w->hintw = p[1];
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_mutex_init(&w->kpos_mu, NULL);
	pthread_mutex_init(&w->scan_mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	pthread_cond_init(&w->idle, NULL);
	if (w->epfd < 0 || w->stopfd < 0 || w->settlefd < 0 || w->hintr < 0 ||
	    watch_fd(w, w->stopfd) < 0 || watch_fd(w, w->settlefd) < 0 ||
	    watch_fd(w, w->hintr) < 0) {
		nfsmigd_log(o, LOG_ERR, "watcher: %s", strerror(errno));
		goto fail;
	}
	w->metrics = nfsmigd_metrics_new(
		o, w->conf.metrics_textfile, w->conf.state_dir,
		w->conf.watch_mountinfo_path[0] ? w->conf.watch_mountinfo_path : NULL);
	if (!w->metrics)
		nfsmigd_log(o, LOG_WARNING, "metrics: out of memory: none written");
	w->cfg = (struct nm_watch_cfg){
		.state_dir = w->conf.state_dir,
		.mountinfo = w->conf.watch_mountinfo_path[0] ? w->conf.watch_mountinfo_path : NULL,
		.hooks_dir = w->conf.hooks_dir,
		.events_max = w->conf.event_max_bytes,
		.timeout_ms = 5000,
		.hook_timeout_ms = w->conf.hook_timeout_ms,
		.utab = true,
		.verify = w->conf.watch_verify,
		.log = cfg_log,
		.log_arg = w,
		.failed_since = cfg_failed_since,
		.claim_failed = cfg_claim_failed,
		.fail_arg = w,
		.emitted = w->metrics ? nfsmigd_metrics_event : NULL,
		.emit_arg = w->metrics,
	};
	open_sources(w);
	say_sources(w);
	for (int i = 0; i < WORKERS; i++)
		if (pthread_create(&w->workers[i], NULL, worker, w) == 0)
			w->nworkers++;
	if (w->nworkers == 0 || pthread_create(&w->loop, NULL, loop, w) != 0) {
		nfsmigd_log(o, LOG_ERR, "watcher: no threads");
		nfsmigd_watch_stop(w);
		return NULL;
	}
	w->loop_started = true;
	/* The first look: new mounts, and moves made while no daemon ran. */
	want_scan(w, "rescan", 0, NM_WATCH_SAY_SKIPPED, 0);
	return w;
fail:
	nfsmigd_watch_stop(w);
	return NULL;
}

int nfsmigd_watch_stop(struct nfsmigd_watch *w)
{
	uint64_t one = 1;
	struct timespec until;
	bool idle;

	if (!w)
		return 0;
	if (w->loop_started) {
		if (write(w->stopfd, &one, sizeof(one)) < 0)
			nfsmigd_log(w->o, LOG_WARNING, "watcher: %s", strerror(errno));
		pthread_join(w->loop, NULL);
	}
	/* Only the loop read them: the trace instance goes now, even when a
	 * worker is left to the exit. */
	if (w->kt)
		nm_ktrace_close(w->kt);
	w->kt = NULL;
	if (w->mon)
		mnt_unref_monitor(w->mon);
	w->mon = NULL;
	/* Workers end after their item; one busy with a server (register,
	 * verify, a hook) is left to the exit: nothing it wrote is lost. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 500 * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_broadcast(&w->cv);
	while (w->running > 0 && pthread_cond_timedwait(&w->idle, &w->mu, &until) == 0)
		;
	idle = w->running == 0;
	pthread_mutex_unlock(&w->mu);
	if (!idle)
		return 1;
	for (int i = 0; i < w->nworkers; i++)
		pthread_join(w->workers[i], NULL);
	while (w->head) {
		struct item *it = w->head;

		w->head = it->next;
		if (it->kind == I_JOB)
			nm_watch_job_free(&it->job);
		free(it);
	}
	for (int i = 0; i < BUSY_MAX; i++)
		free(w->busy[i]);
	for (int i = 0; i < BACKOFF_MAX; i++)
		free(w->backoff[i].mp);
	nfsmigd_metrics_free(w->metrics);
	int fds[] = { w->epfd,	w->stopfd, w->settlefd, w->rescanfd, w->hintr,
		      w->hintw, w->uevfd,  w->kmsgfd,	w->inofd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	pthread_cond_destroy(&w->idle);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	pthread_mutex_destroy(&w->kpos_mu);
	pthread_mutex_destroy(&w->scan_mu);
	free(w);
	return 0;
}

void nfsmigd_watch_upcall(struct nfsmigd_watch *w, const char *name)
{
	char msg[256] = { 0 };

	if (!w || !w->live[S_UPCALL])
		return;
	snprintf(msg, sizeof(msg), "%s", name);
	/* One message of PIPE_BUF or less: written whole or not at all. */
	if (write(w->hintw, msg, sizeof(msg)) < 0)
		return; /* full: a move is being watched for already */
}

void nfsmigd_watch_upcall_result(struct nfsmigd_watch *w, const char *result)
{
	if (w)
		nfsmigd_metrics_upcall(w->metrics, result);
}

void nfsmigd_watch_status(struct nfsmigd_watch *w, struct nm_ctl_status *st)
{
	snprintf(st->sources, sizeof(st->sources), "none");
	if (!w)
		return;
	st->sources[0] = '\0';
	for (int s = 0; s < S_N; s++)
		if (w->live[s]) {
			size_t l = strlen(st->sources);

			snprintf(st->sources + l, sizeof(st->sources) - l, "%s%s", l ? "," : "",
				 src_name[s]);
		}
	if (!st->sources[0])
		snprintf(st->sources, sizeof(st->sources), "none");
	pthread_mutex_lock(&w->mu);
	st->scans = w->scans;
	st->jobs = w->jobs_done;
	st->fails = w->failures;
	pthread_mutex_unlock(&w->mu);
}
