/* nm_watch_run - what nfsmigd does about what it sees: one look at the
 * mount table against the records (nm_watch_scan: quick, local; moves are
 * recorded here), and the slow part of each finding (nm_watch_job_run:
 * registering, verify, utab, mtab, fstab, the event, the hooks), which the
 * daemon runs off its event loop.  The order and why nothing is lost or
 * said twice: nm_watch.h. */
#ifndef NM_WATCH_RUN_H
#define NM_WATCH_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_err.h"
#include "nm_kev.h"
#include "nm_mount.h"
#include "nm_watch.h"

struct nm_watch_cfg {
	const char *state_dir;
	const char *mountinfo;	/* NULL: the live table */
	const char *hooks_dir;	/* NULL: NM_HOOK_DIR */
	const char *mtab;	/* NULL: /etc/mtab */
	const char *fstab_root; /* NULL: "/" */
	size_t events_max;	/* 0: NM_EVENT_MAX_BYTES */
	int timeout_ms;		/* a server's answers (register, verify) */
	int hook_timeout_ms;	/* <= 0: NM_HOOK_TIMEOUT_MS */
	bool utab;		/* set libmount's utab (the live table only) */
	bool verify;		/* verify a moved mount */
	void (*log)(void *arg, int prio, const char *line);
	void *log_arg;
	/* From the daemon (NULL: none): did the kernel say a migration from
	 * server host failed at or after since_ms (ms since the epoch)?  Its
	 * words into why.  And may this one report mountpoint's failure
	 * (once; by_move: the job of its move asks, which a mount's busy
	 * flag does not stop)? */
	bool (*failed_since)(void *arg, const char *host, int64_t since_ms, char *why, size_t cap);
	bool (*claim_failed)(void *arg, const char *mountpoint, bool by_move);
	void *fail_arg;
	/* From the daemon (NULL: none): an event was written (kind, its
	 * mount point, its verify verdict or NULL when not verified) and its
	 * hooks ran, hook_failures of them failing (for the metrics). */
	void (*emitted)(void *arg, const char *kind, const char *mountpoint, const char *verdict,
			unsigned hook_failures);
	void *emit_arg;
};

struct nm_watch_job {
	enum nm_watch_act act; /* REGISTER, REFERRAL, MIGRATION or RESUME */
	struct nm_mount m;     /* owned */
	char *from, *to;       /* servers (from NULL for a new mount) */
	char trigger[96];
	int64_t kernel_ms; /* when the kernel told of it (ms since the epoch), 0: no one */
	int64_t found_ms;  /* MIGRATION: when the table showed it (ms since the epoch) */
	char *marker;	   /* MIGRATION, RESUME: the record's pending marker */
	bool again;	   /* REGISTER: a new mount of a registered mount point
			    * (NM_WATCH_REMOUNT): registered again, history kept */
};

/* Scan flags. */
enum {
	NM_WATCH_SAY_SKIPPED = 1, /* log stale and unreadable records (a first scan) */
};

/* One look: every NFSv4 mount against its record.  Moves are recorded
 * here (nm_watch_apply_move under the record's lock); the rest is handed
 * back as jobs (*jobs, *n) for nm_watch_job_run.  busy(mountpoint, arg)
 * (may be NULL) says a mount has a job under way: it is left alone.
 * Returns the number of NFSv4 mounts in the table, or a negative errno. */
int nm_watch_scan(const struct nm_watch_cfg *c, const char *trigger, int64_t kernel_ms,
		  unsigned flags, bool (*busy)(const char *mountpoint, void *arg), void *arg,
		  struct nm_watch_job **jobs, size_t *n, struct nm_err *err);

/* The slow part: register (a new mount, a referral), or report a move
 * (verify, utab, mtab, fstab), then the event and the hooks, and the
 * record's marker cleared.  0, or a negative errno with err (what was
 * done is logged; a marker left makes a later scan finish it). */
int nm_watch_job_run(const struct nm_watch_cfg *c, struct nm_watch_job *j, struct nm_err *err);

void nm_watch_job_free(struct nm_watch_job *j);
void nm_watch_jobs_free(struct nm_watch_job *jobs, size_t n);

/* A failed migration the kernel told of (ev: NM_KEV_MIGRATION_FAILED,
 * NM_KEV_VOLATILE_FH, NM_KEV_STATE_MGR_FAIL, naming the server in host): a
 * "migration-failed" event with verdict FAIL for each NFSv4 mount of that
 * server, saying it returns EIO until it is remounted, and the hooks.  A
 * mount whose move is being reported (the kernel may switch addr= before
 * it fails) is left to that report, which becomes the failure's
 * (claim_failed).  Returns the number of mounts named. */
int nm_watch_failed(const struct nm_watch_cfg *c, const struct nm_kev *ev, const char *trigger,
		    struct nm_err *err);

/* LEASE_MOVED from the server ev->host names: every registered mount of
 * it (on the first one's transport) probed with its saved root handle
 * (nm_lease_probe); a "lease-moved" event for each whose file system
 * moved.  Returns how many moved. */
int nm_watch_lease(const struct nm_watch_cfg *c, const struct nm_kev *ev, const char *trigger,
		   struct nm_err *err);

#endif
