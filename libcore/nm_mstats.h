/* nm_mstats - the kernel's per-mount RPC statistics (/proc/self/mountstats)
 * and the client's calls of the network namespace (/proc/net/rpc/nfs).
 *
 * For each NFS mount: its device and mount point, and for each operation of
 * the "per-op statistics" the count of calls and of errors (the ninth
 * number of statvers 1.1; 0 when the kernel does not count errors).
 * Samples of both tell whether the operations that carry open state fail
 * over and over while the client's recovery climbs with them: after a
 * migration to a server that does not know the client's state, the Linux
 * client retries them forever (STALE_STATEID/BAD_STATEID). */
#ifndef NM_MSTATS_H
#define NM_MSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_err.h"

#define NM_MOUNTSTATS_DEFAULT "/proc/self/mountstats"
#define NM_MSTATS_MAX_BYTES   (64u << 20) /* a bigger file is refused */
#define NM_MSTATS_MAX_OPS     128	  /* per mount; more are ignored */
#define NM_MSTATS_LOOP_MIN    3		  /* errors (and recovery calls) that can make a loop */

struct nm_mstats_op {
	char name[24];
	uint64_t ops;
	uint64_t errors;
	size_t idx; /* its line among the mount's per-op lines: the kernel's
		     * procedure number, the index of the "proc4" line */
};

struct nm_mstats_mount {
	char *device; /* server:/path */
	char *target; /* mount point, octal escapes decoded */
	struct nm_mstats_op *ops;
	size_t nops;
	size_t nlines; /* per-op lines seen, kept or not */
	int64_t age;   /* "age:": seconds since the NFS mount was made (a
			* migration keeps it, a remount starts it again); -1
			* when not said */
};

struct nm_mstats {
	struct nm_mstats_mount *m;
	size_t n;
	/* CLOCK_MONOTONIC seconds when nm_mstats_read read the file, -1 for a
	 * parsed text: a mount's "age:" counts back from the moment it was
	 * read, not from whenever it is looked at. */
	int64_t read_mono;
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

/* The NFSv4 client's calls of the network namespace, all servers and mounts
 * together, by procedure number: the "proc4" line of /proc/net/rpc/nfs.
 * After a 4.0 move the renewals of the moved mount go through the
 * destination's client, which the mount's own counters do not show. */
#define NM_RPC_NFS_DEFAULT "/proc/net/rpc/nfs"

struct nm_mstats_rpc {
	uint64_t calls[NM_MSTATS_MAX_OPS];
	size_t n; /* 0: no proc4 line */
};

/* Parse the text of /proc/net/rpc/nfs (a missing proc4 line gives n 0). */
int nm_mstats_rpc_parse(const char *text, size_t len, struct nm_mstats_rpc *out,
			struct nm_err *err);

/* Read and parse a file (NULL: /proc/net/rpc/nfs). */
int nm_mstats_rpc_read(const char *path, struct nm_mstats_rpc *out, struct nm_err *err);

/* The state check's judgement of samples of one mount (after a move). */
enum nm_mstats_state {
	NM_MSTATS_QUIET,  /* no stateful operation failed */
	NM_MSTATS_ERRORS, /* some failed, not over and over, or with no recovery
			     call at all: the applications' own errors */
	NM_MSTATS_UNSURE, /* they failed over and over with some recovery not of
			     their order, or proc4 not read: cannot tell */
	NM_MSTATS_LOOP,	  /* the kernel's recovery loop: state lost */
};

/* Recovery of the same order as the errors: at least one recovery call
 * for this many errors. */
#define NM_MSTATS_LOOP_ORDER 4

/* One sample: the mount's entry and, when read, the namespace's calls. */
struct nm_mstats_sample {
	const struct nm_mstats_mount *m;
	const struct nm_mstats_rpc *rpc; /* NULL: not read */
	double at;			 /* seconds, any origin; < 0: not known */
};

struct nm_mstats_verdict {
	enum nm_mstats_state state;
	uint64_t errors; /* errors of stateful operations between the samples */
	char why[240];	 /* what was seen (the check's size), "..." when cut */
};

/* Judge n samples (2 or 3, oldest first) of a mount that moved: a pure
 * function.  The errors counted are those of the operations that use the
 * client's state (READ, WRITE, CLOSE, LOCK...), not of the recovery
 * operations of the minor version (4.0: RENEW, SETCLIENTID,
 * SETCLIENTID_CONFIRM; 4.1+: TEST_STATEID, FREE_STATEID), whose calls are
 * counted on the mount and, when read, in the namespace's proc4 line.
 * NM_MSTATS_LOOP needs three samples: errors in both halves (at least
 * NM_MSTATS_LOOP_MIN in all) with recovery calls in both halves, at least
 * one for NM_MSTATS_LOOP_ORDER errors.  Errors sustained with no recovery
 * call at all, the namespace's proc4 read, are NM_MSTATS_ERRORS (the loop
 * always shows its RENEW or TEST_STATEID there: a lock polled, a full
 * destination).  Errors sustained (or, with two samples, at least
 * NM_MSTATS_LOOP_MIN) with some recovery, or without proc4, are
 * NM_MSTATS_UNSURE: they cannot be told apart there.  Any counter that went down (the mount
 * replaced, a counter wrapped) is NM_MSTATS_UNSURE too. */
void nm_mstats_judge_state(const struct nm_mstats_sample *s, size_t n, int minorversion,
			   struct nm_mstats_verdict *out);

#endif
