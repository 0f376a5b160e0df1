/* nm_lease - NFS4ERR_LEASE_MOVED: which of a server's file systems moved.
 *
 * A server that migrated away a file system a client holds state on tells
 * the client's lease, not the file system: RENEW answers
 * NFS4ERR_LEASE_MOVED (NFSv4.0, RFC 7530 and RFC 7931), SEQUENCE sets
 * SEQ4_STATUS_LEASE_MOVED in sr_status_flags (4.1+, RFC 8881 18.46.3).
 * The client must then find which file systems moved by asking each one
 * it uses of that server, with a file handle it holds; those that answer
 * NFS4ERR_MOVED moved.  The Linux client (nfs4_handle_lease_moved,
 * _nfs40_proc_fsid_present) sends PUTFH + GETFH per file system: GETATTR
 * of fsid is allowed on an absent file system, and knfsd answers it
 * NFS4_OK with the referral fsid (0x8000000:0x8000000), while GETFH
 * answers NFS4ERR_MOVED.  nm_lease asks PUTFH + GETFH + GETATTR(fsid) of
 * every record of that server, with the root handle saved at
 * registration, then fs_locations of those that moved.
 *
 * The flag goes to the leases that hold state on the moved file system:
 * the kernel's.  nfsmig's own client holds none, so nm_lease_check sees
 * it only from a server that tells every client; nfsmigd learns it from
 * the kernel (its tracepoints) and then runs the probe.
 *
 * A verdict is earned: a record whose probe was not answered, or answered
 * in a way that says neither, is never "here". */
#ifndef NM_LEASE_H
#define NM_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfs4_prot.h"
#include "nm_err.h"
#include "nm_kev.h"
#include "nm_nfs4.h"
#include "nm_store.h"

/* What nm_lease_check and nm_lease_moved_said return.  QUIET is about
 * nfsmig's own lease only: LEASE_MOVED reaches the clients that hold
 * state on the moved file system, which nfsmig's client never does, so a
 * quiet lease never means "nothing moved" and never gates the probe: the
 * probe starts from the kernel's own news (the nfs4_state_mgr tracepoint
 * with LEASE_MOVED, nfs4_xdr_status NFS4ERR_LEASE_MOVED). */
#define NM_LEASE_QUIET	    0 /* our lease answered without LEASE_MOVED */
#define NM_LEASE_SAID_MOVED 1 /* our lease said LEASE_MOVED */

/* Whether a kernel event starts the probe of its server's records (pure):
 * nfs4_xdr_status answering NFS4ERR_LEASE_MOVED (NM_KEV_LEASE_MOVED), or
 * nfs4_state_mgr running with the LEASE_MOVED flag.  1 with the server
 * named (ev->host or ev->peer), 0 otherwise (nothing said, or no server
 * to probe).  Our own lease's answer is never a reason, either way. */
int nm_lease_kev_starts_probe(const struct nm_kev *ev);

/* What an answer about the lease says (pure).  minor 0: RENEW's status;
 * 4.1+: the flags of a SEQUENCE answered NFS4_OK.  NM_LEASE_SAID_MOVED;
 * NM_LEASE_QUIET: our lease answered without the news (see above);
 * -EPROTO: a RENEW status that says neither (NFS4ERR_EXPIRED,
 * _STALE_CLIENTID...: not an answer). */
int nm_lease_moved_said(unsigned minor, nfsstat4 renew_status, uint32_t seq_flags);

/* Ask the server over c: RENEW with a client id of nfsmig's own (4.0;
 * nm_nfs4_clientid40) or a SEQUENCE alone (4.1+).  NM_LEASE_SAID_MOVED,
 * NM_LEASE_QUIET (our own lease only: not "nothing moved"), or a negative
 * errno and why (never QUIET when unanswered). */
int nm_lease_check_on(struct nm_nfs4 *c, struct nm_err *err);

/* The same on a session of its own to server (port 0: 2049; minor 0, 1,
 * 2 or NM_NFS4_MINOR_AUTO; sec NULL or "sys"), every call within
 * timeout_ms, NFS4ERR_DELAY retried no longer than that. */
int nm_lease_check(const char *server, unsigned port, int minor, const char *sec, int timeout_ms,
		   struct nm_err *err);

enum nm_lease_verdict {
	NM_LEASE_UNANSWERED = 0, /* no verdict: not asked, not answered, DELAY */
	NM_LEASE_MOVED,		 /* NFS4ERR_MOVED (PUTFH, GETFH, GETATTR, rdattr_error) */
	NM_LEASE_HERE,		 /* GETFH answered and the record's fsid: served here */
	NM_LEASE_STALE,		 /* the handle is gone (STALE, FHEXPIRED, BADHANDLE) */
	NM_LEASE_OTHER,		 /* another answer; the reason says which */
};

/* knfsd's fsid of an absent file system (NFS4_REFERRAL_FSID_MAJOR and
 * _MINOR): never a record's "here". */
#define NM_LEASE_REFERRAL_FSID 0x8000000u

/* What the server said about one record's handle (PUTFH + GETFH +
 * GETATTR of fsid); the input of nm_lease_judge. */
struct nm_lease_answer {
	const char *why;     /* not NULL: not answered, and why */
	bool putfh_answered; /* a result for PUTFH came back */
	nfsstat4 putfh;
	bool getfh_answered; /* GETFH: NFS4ERR_MOVED on an absent file system */
	nfsstat4 getfh;
	bool getattr_answered;
	nfsstat4 getattr;
	bool have_fsid;
	uint64_t fsid_major, fsid_minor;
	bool have_rdattr_error;
	uint32_t rdattr_error;
};

struct nm_lease_result {
	enum nm_lease_verdict verdict;
	nfsstat4 status; /* what decided (NFS4_OK for HERE) */
	nfs_opnum4 op;	 /* the operation that said it */
	bool have_fsid;
	uint64_t fsid_major, fsid_minor;
	char **locations; /* fs_locations as a record keeps them (escaped) */
	size_t nlocations;
	char reason[256];
};

/* The verdict on rec from answer a (pure); out's locations untouched. */
void nm_lease_judge(const struct nm_record *rec, const struct nm_lease_answer *a,
		    struct nm_lease_result *out);

/* "moved", "here", "stale", "other", "unanswered". */
const char *nm_lease_verdict_name(enum nm_lease_verdict v);

/* Probe every record over c: PUTFH(root handle) + GETFH + GETATTR(fsid)
 * per record, as many records per COMPOUND as fit; what a COMPOUND
 * stopped at a failing record left unasked goes in the next one.  Then
 * PUTFH + GETATTR(fs_locations) for the records that moved, into their
 * locations (a failure there is told in the reason, the verdict stays).
 * out[i] answers recs[i] (free with nm_lease_results_free).  Returns the
 * number of records that moved, or a negative errno when no record could
 * be asked at all (no record, none with a handle, no session: out then
 * says why for each). */
int nm_lease_probe_on(struct nm_nfs4 *c, const struct nm_record *recs, size_t n,
		      struct nm_lease_result *out, struct nm_err *err);

/* The same on a session of its own to server (see nm_lease_check), the
 * whole probe within timeout_ms (its connection, NFS4ERR_DELAY retried no
 * longer, no COMPOUND begun after it: what is left is unanswered). */
int nm_lease_probe(const char *server, unsigned port, int minor, const char *sec,
		   const struct nm_record *recs, size_t n, struct nm_lease_result *out,
		   int timeout_ms, struct nm_err *err);

void nm_lease_results_free(struct nm_lease_result *out, size_t n);

#endif
