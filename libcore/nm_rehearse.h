/* nm_rehearse - rehearse a file system's move as a client holding state.
 *
 * A client of its own (its own client ID, never the kernel's) opens each
 * file for reading on its source server, locks a read range, reads a
 * block and keeps its checksum, keeps the lease alive and waits for the
 * move.  Then it walks the client side of a migration as the kernel
 * should: NFS4ERR_MOVED or LEASE_MOVED (then a probe of every file system
 * it holds state on with its saved root handle), migration or referral,
 * fs_locations, each location resolved through nm_dns, the destination's
 * flavor, whether the state came along (4.0: the old client ID renews;
 * 4.1+: TEST_STATEID of the old stateids), else reclaim in the
 * destination's grace, else re-OPEN by name and re-LOCK, and the READ
 * again on the destination.
 *
 * Every step is recorded (time, RPCs, status, message); the verdict is a
 * pure function of the record (nm_reh_judge), so a step not answered can
 * never give a verdict that says OK.
 *
 * State lives per file system (nm_reh_fs): its open and lock stateids and
 * owners, its saved root handle; clients per server (nm_reh_client): one
 * for each source server and one for each destination server, shared by
 * every file system that moves there. */
#ifndef NM_REHEARSE_H
#define NM_REHEARSE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_conf.h"
#include "nm_err.h"
#include "nm_nfs4.h"

#define NM_REH_MAX_FILES   16
#define NM_REH_MAX_STEPS   40
#define NM_REH_MAX_LOCS	   8
#define NM_REH_MAX_CLIENTS (2 * NM_REH_MAX_FILES)
#define NM_REH_BLOCK	   4096 /* bytes READ and checksummed */

/* What one step's answer was. */
enum nm_reh_status {
	NM_REH_UNANSWERED = 0, /* no answer (deadline, connection) */
	NM_REH_OK,	       /* answered as hoped */
	NM_REH_FAILED,	       /* answered, not as hoped */
	NM_REH_INFO,	       /* a fact, no question asked */
};

struct nm_reh_step {
	char step[24];
	int64_t time_ms; /* since the rehearsal began */
	char rpcs[192];	 /* "OPEN,GETFH,..." */
	enum nm_reh_status status;
	char message[320];
};

/* What the source and destination answered for one file: the judge's
 * input.  Every "answered" false means the question got no answer. */
enum nm_reh_kind {
	NM_REH_KIND_UNKNOWN = 0, /* the wait ended unanswered */
	NM_REH_KIND_NONE,	 /* nothing moved */
	NM_REH_KIND_MIGRATION,	 /* state held, then MOVED */
	NM_REH_KIND_REFERRAL,	 /* MOVED on LOOKUP: never held */
};

struct nm_reh_answers {
	bool held;	    /* OPEN, LOCK and READ answered OK on the source */
	bool held_answered; /* the source answered them at all */
	enum nm_reh_kind kind;
	bool still_held; /* kind NONE: the stateid still reads on the source */
	bool still_answered;
	bool locations;	     /* fs_locations answered with at least one */
	bool dest_connected; /* a destination answered */
	bool flavor_ok;	     /* it offers the flavor in use */
	bool flavor_answered;
	bool tsm_answered; /* RENEW (4.0) / TEST_STATEID (4.1) answered */
	bool tsm;	   /* the old state is valid there */
	bool reclaim_tried, reclaim_answered, reclaim_ok;
	bool reopen_tried, reopen_answered, reopen_ok;
	bool relock_answered, relock_ok, relock_denied;
	int64_t lock_gap_ms; /* from the last proof of the lock to the new one */
	bool read_answered;  /* READ on the destination */
	bool read_ok;
	bool read_same; /* same checksum as on the source */
};

enum nm_reh_state {
	NM_REH_STATE_UNANSWERED = 0, /* no verdict: a step was not answered */
	NM_REH_STATE_TRANSPARENT,
	NM_REH_STATE_RECLAIM,
	NM_REH_STATE_REOPEN,
	NM_REH_STATE_CONFLICT,
	NM_REH_STATE_LOST,
	NM_REH_STATE_REFERRAL,
	NM_REH_STATE_KEPT,
};

struct nm_reh_verdict {
	enum nm_reh_state state;
	int exit_code;	     /* 0, 1 or 3 (see nfsmig rehearse) */
	char verdict[128];   /* the sentence */
	char kernel[320];    /* what the Linux client does in that case */
	char unanswered[96]; /* state UNANSWERED: which step */
};

/* The verdict on a (pure).  minor picks the kernel's sentence. */
void nm_reh_judge(const struct nm_reh_answers *a, unsigned minor, struct nm_reh_verdict *v);

/* "transparent", "reclaim", "reopen", "conflict", "lost", "referral",
 * "kept", "unanswered" (-J's state). */
const char *nm_reh_state_name(enum nm_reh_state s);
/* "migration", "referral", "none", "unknown". */
const char *nm_reh_kind_name(enum nm_reh_kind k);
const char *nm_reh_status_name(enum nm_reh_status s);

struct nm_reh_loc {
	char server[256]; /* as the server named it (escaped when not a name) */
	char path[1024];
};

/* One file rehearsed, and all that was recorded for it. */
struct nm_reh_file {
	/* input */
	char spec[1100];
	char server[256];
	char path[1024]; /* on the source, absolute */
	/* record */
	struct nm_reh_step steps[NM_REH_MAX_STEPS];
	unsigned nsteps;
	struct nm_reh_loc locs[NM_REH_MAX_LOCS];
	unsigned nlocs;
	char destination[300]; /* "ADDRESS" of the destination used, or "" */
	char dest_path[1024];
	uint64_t sum_src, sum_dst;
	unsigned len_src, len_dst;
	struct nm_reh_answers ans;
	struct nm_reh_verdict verdict;
};

struct nm_reh_client_info {
	char server[300];
	unsigned minor;
	unsigned file_systems;
	bool destination;
};

struct nm_reh_opts {
	int minor;		     /* 0, 1, 2, or -1: try 2, 1, 0 */
	const char *sec;	     /* NULL or "sys" */
	unsigned port;		     /* 0: 2049; for the source and every destination */
	int interval_ms;	     /* poll period while waiting */
	int wait_ms;		     /* how long to wait for the move */
	int timeout_ms;		     /* deadline of each call */
	bool now;		     /* the move has happened: one probe, no waiting */
	unsigned polls;		     /* tests: at most this many rounds of the wait (0: no limit) */
	const struct nm_conf *conf;  /* the resolver's settings */
	volatile sig_atomic_t *stop; /* set by a signal: let go and end */
	/* Called once the files are held, before waiting (may be NULL). */
	void (*waiting)(void *arg, const struct nm_reh_file *files, size_t n);
	/* Called every 10 polls while waiting, 1 to 10 s apart (may be
	 * NULL): polls made, files still held. */
	void (*progress)(void *arg, int64_t time_ms, unsigned polls, size_t held);
	/* Called as each step is recorded (may be NULL). */
	void (*step)(void *arg, const struct nm_reh_file *f, const struct nm_reh_step *s);
	void *arg;
	/* Tests and the fuzzing harness: how a client is opened (NULL:
	 * nm_nfs4_open) and a server name resolved to one address (NULL:
	 * nm_dns_resolve with conf). */
	int (*open_client)(void *arg, const char *host, const struct nm_nfs4_opts *no,
			   struct nm_nfs4 **c, struct nm_err *err);
	int (*resolve)(void *arg, const char *name, char *addr, size_t cap, struct nm_err *err);
};

struct nm_reh_result {
	struct nm_reh_file files[NM_REH_MAX_FILES];
	size_t nfiles;
	struct nm_reh_client_info clients[NM_REH_MAX_CLIENTS];
	size_t nclients;
	bool interrupted; /* stopped by a signal */
};

/* Split "SERVER:/PATH/FILE" into f's server and path; -EINVAL and why when
 * it is not one. */
int nm_reh_file_spec(const char *spec, struct nm_reh_file *f, struct nm_err *err);

/* Rehearse r->files[0..r->nfiles) (their spec, server and path set).
 * Returns 0 when every file was judged (r's verdicts say how), a negative
 * errno for a usage error. */
int nm_rehearse(const struct nm_reh_opts *o, struct nm_reh_result *r, struct nm_err *err);

/* The exit code of a whole rehearsal: the worst of its files' (3 over 1
 * over 0), 130 when interrupted. */
int nm_reh_exit_code(const struct nm_reh_result *r);

#endif
