/* nm_mstats - the kernel's per-mount RPC statistics (/proc/self/mountstats).
 *
 * For each NFS mount: its device and mount point, and for each operation of
 * the "per-op statistics" the count of calls and of errors (the ninth
 * number of statvers 1.1; 0 when the kernel does not count errors).  Two
 * samples tell whether the operations that carry open state fail over and
 * over: after a migration to a server that does not know the client's
 * state, the Linux client retries them forever (STALE_STATEID/BAD_STATEID). */
#ifndef NM_MSTATS_H
#define NM_MSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_err.h"

#define NM_MOUNTSTATS_DEFAULT "/proc/self/mountstats"
#define NM_MSTATS_MAX_BYTES   (64u << 20) /* a bigger file is refused */
#define NM_MSTATS_MAX_OPS     128	  /* per mount; more are ignored */
#define NM_MSTATS_LOOP_MIN    3		  /* errors between two samples that make a loop */

struct nm_mstats_op {
	char name[24];
	uint64_t ops;
	uint64_t errors;
};

struct nm_mstats_mount {
	char *device; /* server:/path */
	char *target; /* mount point, octal escapes decoded */
	struct nm_mstats_op *ops;
	size_t nops;
	/* The "events:" line's VFS calls (open, lookup, access, page updates,
	 * reads, writes, getdents, setattr, flush, fsync, lock, release: the
	 * kernel's NFSIOS_VFSOPEN..NFSIOS_VFSRELEASE), summed: what the
	 * applications asked of the mount.  have_events: the line was there. */
	uint64_t vfs_calls;
	int have_events;
};

struct nm_mstats {
	struct nm_mstats_mount *m;
	size_t n;
};

/* Parse a mountstats text of len bytes; only NFS mounts are kept. */
int nm_mstats_parse(const char *text, size_t len, struct nm_mstats *out, struct nm_err *err);

/* Read and parse a file (NULL: /proc/self/mountstats). */
int nm_mstats_read(const char *path, struct nm_mstats *out, struct nm_err *err);

/* The last entry for the mount point, or NULL. */
const struct nm_mstats_mount *nm_mstats_find(const struct nm_mstats *s, const char *target);

/* Errors of the operations that use a stateid or clientid the client holds
 * (READ, WRITE, CLOSE, RENEW, TEST_STATEID...; not OPEN) that grew from
 * `before` to `after`: returns the sum and describes the growth
 * ("WRITE +8428, RENEW +12") in why; 0 when none grew. */
uint64_t nm_mstats_state_errors(const struct nm_mstats_mount *before,
				const struct nm_mstats_mount *after, char *why, size_t len);

void nm_mstats_free(struct nm_mstats *s);

/* Does the operation use a stateid or clientid the client holds? */
bool nm_mstats_is_state_op(const char *name);

/* The state check's judgement of two samples of one mount (after a move). */
enum nm_mstats_state {
	NM_MSTATS_QUIET,  /* no stateful operation failed */
	NM_MSTATS_ERRORS, /* some failed, as applications asked: not lost state */
	NM_MSTATS_UNSURE, /* they failed over and over; nothing tells who asked */
	NM_MSTATS_LOOP,	  /* the kernel's recovery loop: state lost */
};

struct nm_mstats_verdict {
	enum nm_mstats_state state;
	uint64_t errors; /* errors of stateful operations between the samples */
	char why[320];	 /* what was seen, for the administrator */
};

/* Judge two samples of a mount that moved (a pure function).  The kernel's
 * loop on state the destination never issued is recognised from itself:
 * stateful operations (READ, WRITE, CLOSE, LOCK...) failing at least
 * NM_MSTATS_LOOP_MIN times while the recovery operations of the minor
 * version (4.0: RENEW, SETCLIENTID, SETCLIENTID_CONFIRM; 4.1+: TEST_STATEID,
 * FREE_STATEID) ran at least NM_MSTATS_LOOP_MIN times with them, or failing
 * more than twice as often as the applications called the VFS (the kernel retries on its
 * own: after a 4.0 move its renewals go to a client these counters do not
 * show).  Errors that follow applications' calls with no recovery (a lock
 * denied, ENOSPC, EDQUOT, EPERM) are NM_MSTATS_ERRORS.  seconds: the time
 * between the samples, 0 when not known (saved files). */
void nm_mstats_judge_state(const struct nm_mstats_mount *before,
			   const struct nm_mstats_mount *after, int minorversion, double seconds,
			   struct nm_mstats_verdict *out);

#endif
