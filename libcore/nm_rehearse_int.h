/* nm_rehearse_int - what the rehearsal's engine (nm_rehearse.c) and its
 * client-state layer (nm_rehearse_state.c) share; not for other modules. */
#ifndef NM_REHEARSE_INT_H
#define NM_REHEARSE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfs4_prot.h"
#include "nm_err.h"
#include "nm_nfs4.h"
#include "nm_rehearse.h"

#define NM_REH_MAX_COMPONENTS 32 /* of a directory walked */
#define NM_REH_AUTH_SYS	      1

/* One client: a connection, its client ID and (4.1+) session. */
struct nm_reh_conn {
	char host[300];
	struct nm_nfs4 *c;
	bool dest;
	bool reclaim_complete;
	bool renewed; /* the last RENEW / SEQUENCE of the wait renewed the lease */
	unsigned fs;
	int err_code; /* c NULL: why the connection failed */
	char why[NM_ERR_MSG_MAX];
};

/* The state of one file (its file system's, as the kernel should keep
 * it: per file system, not per client). */
struct nm_reh_fs {
	struct nm_reh_file *f;
	struct nm_reh_conn *cl; /* where the state is now */
	struct nm_reh_conn *src;
	struct nm_reh_conn *dst;	 /* the destination, once the state was tested */
	unsigned char root[NFS4_FHSIZE]; /* saved root handle: the file's directory */
	unsigned rootlen;
	unsigned char fh[NFS4_FHSIZE];
	unsigned fhlen;
	uint32_t fh_expire_type;
	char dir[1024];
	char name[256];
	char oowner[64], lowner[64];
	stateid4 open_sid, lock_sid;
	seqid4 open_seqid, lock_seqid;
	bool opened, locked, moved, done;
	bool lease_moved_said;	 /* its lease-moved step recorded */
	clientid4 lock_clientid; /* the lock owner's, from the LOCK that made it */
	bool followed;		 /* steps 4-8 done (as soon as the move was seen) */
	bool finished;		 /* and the re-open, the referral's OPEN, the READ */
	unsigned minor;		 /* the source's NFSv4 minor version */
	uint32_t lease_s;	 /* the source's lease_time, 0: not said */
	int64_t last_proof_ms;
	char moved_how[160];
};

struct nm_reh_engine {
	const struct nm_reh_opts *o;
	struct nm_reh_result *r;
	int64_t t0;
	char owner[96];
	uint64_t verifier;
	struct nm_reh_conn cl[NM_REH_MAX_CLIENTS];
	size_t ncl;
	struct nm_reh_fs fs[NM_REH_MAX_FILES];
};

/* Whether a signal asked to let go. */
bool nm_reh_stopped(const struct nm_reh_engine *e);

/* Once a signal asked to let go, each call waits at most this long. */
#define NM_REH_LET_GO_MS 2000

/* The deadline of one call: the timeout, or once stopped at most
 * NM_REH_LET_GO_MS. */
int nm_reh_call_ms(const struct nm_reh_engine *e);

/* Record a step of s's file (and tell the caller's step callback). */
void nm_reh_step(struct nm_reh_engine *e, struct nm_reh_fs *s, const char *name,
		 enum nm_reh_status st, const char *rpcs, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* The client-state layer (nm_rehearse_state.c). */
/* One COMPOUND within the deadline; names what was sent into rpcs. */
int nm_reh_call(struct nm_reh_engine *e, struct nm_reh_conn *cl, nfs_argop4 *ops, unsigned n,
		struct nm_nfs4_reply *rep, char *rpcs, size_t cap, struct nm_err *err);

/* The status of the i-th result; false when the COMPOUND stopped before. */
bool nm_reh_res_status(const struct nm_nfs4_reply *rep, unsigned i, nfsstat4 *st);

/* The first failing status of a reply, and which operation. */
nfsstat4 nm_reh_failed_op(const struct nm_nfs4_reply *rep, const char **op);

/* A handle from the wire kept in dst when it is one (1 to NFS4_FHSIZE
 * bytes); false and dst untouched when not. */
bool nm_reh_keep_fh(unsigned char *dst, unsigned *dlen, const nfs_fh4 *fh);

/* RFC 7530 9.1.7: whether a 4.0 owner's seqid advances after an
 * operation answered st (not for STALE_CLIENTID, STALE_STATEID,
 * BAD_STATEID, BAD_SEQID, BADXDR, RESOURCE, NOFILEHANDLE, MOVED). */
bool nm_reh_seqid_bumps(nfsstat4 st);

/* PUTFH of a handle of ours. */
void nm_reh_op_putfh(nfs_argop4 *op, unsigned char *fh, unsigned len);

/* PUTROOTFH + LOOKUP of each component of path; returns the ops used. */
unsigned nm_reh_op_lookup_path(nfs_argop4 *ops, unsigned cap, char *path, struct nm_err *err);

/* An error that says the server did not answer (not that it said no). */
bool nm_reh_unanswered_rc(int rc);

/* name to one address, as nfsmigd resolves it (nm_dns: the hosts file,
 * then DNS or NSS as nfsmig.conf says), within the deadline; or through
 * the caller's hook.  1 when name was an address already, 0 resolved
 * (how says from where), -ENOENT no such name (an answer), another
 * negative errno when not answered. */
int nm_reh_resolve_name(struct nm_reh_engine *e, const char *name, char *addr, size_t cap,
			char *how, size_t howcap, struct nm_err *err);

/* A client of host, shared by every file system that uses it. */
struct nm_reh_conn *nm_reh_client_get(struct nm_reh_engine *e, struct nm_reh_fs *s,
				      const char *host, bool dest, struct nm_err *err);

/* 4.0: SETCLIENTID + SETCLIENTID_CONFIRM; 4.1+: RECLAIM_COMPLETE (after
 * the reclaims, if any). */
int nm_reh_client_setup(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl,
			struct nm_err *err);

/* OPEN (claim, on the current handle or by name in the directory of ops
 * already there), OPEN_CONFIRM when asked.  Returns 1 opened, 0 answered
 * no (*st says), <0 not answered. */
int nm_reh_open(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl,
		nfs_argop4 *ops, unsigned n, open_claim_type4 claim, nfsstat4 *st, char *rpcs,
		size_t cap, struct nm_err *err);

/* LOCK a read range with a new lock owner.  1 locked, 0 answered no
 * (*st; NFS4ERR_DENIED: another owner holds it), <0 not answered. */
int nm_reh_lock(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl, bool reclaim,
		nfsstat4 *st, char *rpcs, size_t cap, struct nm_err *err);

/* READ the first block with the open stateid.  1 read (*sum, *len), 0
 * answered no (*st), <0 not answered. */
int nm_reh_read(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl, uint64_t *sum,
		unsigned *len, nfsstat4 *st, char *rpcs, size_t cap, struct nm_err *err);

/* Let go of what s holds where it holds it: LOCKU, CLOSE, and 4.0's
 * RELEASE_LOCKOWNER.  Answers are not waited for past the deadline. */
void nm_reh_release(struct nm_reh_engine *e, struct nm_reh_fs *s);

/* Walk dir on cl: PUTROOTFH, LOOKUP..., GETFH, GETATTR(fh_expire_type).
 * 1 found (s->root), 0 answered no (*st, *op), <0 not answered. */
int nm_reh_walk_dir(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl,
		    const char *dir, nfsstat4 *st, const char **opname, char *rpcs, size_t cap,
		    struct nm_err *err);

#endif
