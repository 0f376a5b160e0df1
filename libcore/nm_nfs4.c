#include "nm_nfs4.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nm_time.h"

/* The most operations nfsmig puts in one COMPOUND, SEQUENCE included. */
/* Ganesha 4.3 grants a session 128 but answers NFS4ERR_RESOURCE to such a
 * COMPOUND; 64 works with it (knfsd not measured yet). */
#define NM_NFS4_OPS_WANTED 64
/* Sizes asked for in CREATE_SESSION; the server may grant less. */
#define NM_NFS4_MAX_REQ	 (1024 * 1024)
#define NM_NFS4_MAX_RESP (1024 * 1024)

struct nm_nfs4 {
	struct nm_rpc *rpc;
	unsigned minor;
	bool have_clientid;
	bool have_session;
	clientid4 clientid;
	sessionid4 sessionid;
	sequenceid4 slot_seq;		    /* next SEQUENCE id of slot 0 */
	unsigned max_ops;		    /* SEQUENCE included */
	int delay_ms;			    /* how long NFS4ERR_DELAY is retried, in all */
	int64_t delay_until;		    /* and never past this (nm_time_ms), 0: no bound */
	nfsstat4 seq_status;		    /* why the last COMPOUND's SEQUENCE failed */
	uint32_t seq_flags;		    /* sr_status_flags ORed since last taken */
	bool have_clientid40;		    /* 4.0: SETCLIENTID + SETCLIENTID_CONFIRM done */
	char owner[NM_NFS4_OWNER_MAX];	    /* "" or the caller's client owner */
	struct nm_nfs4_server_id server_id; /* 4.1+: what EXCHANGE_ID said */
	uint64_t verifier;		    /* its verifier */
};

/* NFS4ERR_DELAY: wait, then ask again, as the kernel's client does. */
#define NM_NFS4_DELAY_FIRST_MS 100
#define NM_NFS4_DELAY_MAX_MS   2000

static const struct {
	nfsstat4 st;
	const char *name;
	int err;
} statuses[] = {
	{ NFS4_OK, "NFS4_OK", 0 },
	{ NFS4ERR_PERM, "NFS4ERR_PERM", -EPERM },
	{ NFS4ERR_NOENT, "NFS4ERR_NOENT", -ENOENT },
	{ NFS4ERR_IO, "NFS4ERR_IO", -EIO },
	{ NFS4ERR_NXIO, "NFS4ERR_NXIO", -ENXIO },
	{ NFS4ERR_ACCESS, "NFS4ERR_ACCESS", -EACCES },
	{ NFS4ERR_NOTDIR, "NFS4ERR_NOTDIR", -ENOTDIR },
	{ NFS4ERR_INVAL, "NFS4ERR_INVAL", -EINVAL },
	{ NFS4ERR_NAMETOOLONG, "NFS4ERR_NAMETOOLONG", -ENAMETOOLONG },
	{ NFS4ERR_STALE, "NFS4ERR_STALE", -ESTALE },
	{ NFS4ERR_BADHANDLE, "NFS4ERR_BADHANDLE", -EBADF },
	{ NFS4ERR_NOTSUPP, "NFS4ERR_NOTSUPP", -EOPNOTSUPP },
	{ NFS4ERR_SERVERFAULT, "NFS4ERR_SERVERFAULT", -EREMOTEIO },
	{ NFS4ERR_DELAY, "NFS4ERR_DELAY", -EAGAIN },
	{ NFS4ERR_GRACE, "NFS4ERR_GRACE", -EAGAIN },
	{ NFS4ERR_FHEXPIRED, "NFS4ERR_FHEXPIRED", -ESTALE },
	{ NFS4ERR_WRONGSEC, "NFS4ERR_WRONGSEC", -EPERM },
	{ NFS4ERR_RESOURCE, "NFS4ERR_RESOURCE", -EREMOTEIO },
	{ NFS4ERR_MOVED, "NFS4ERR_MOVED", -EREMOTE },
	{ NFS4ERR_NOFILEHANDLE, "NFS4ERR_NOFILEHANDLE", -EPROTO },
	{ NFS4ERR_MINOR_VERS_MISMATCH, "NFS4ERR_MINOR_VERS_MISMATCH", -EPROTONOSUPPORT },
	{ NFS4ERR_STALE_CLIENTID, "NFS4ERR_STALE_CLIENTID", -ESTALE },
	{ NFS4ERR_LEASE_MOVED, "NFS4ERR_LEASE_MOVED", -EREMOTE },
	/* The client state's (rehearse). */
	{ NFS4ERR_EXIST, "NFS4ERR_EXIST", -EEXIST },
	{ NFS4ERR_ISDIR, "NFS4ERR_ISDIR", -EISDIR },
	{ NFS4ERR_ROFS, "NFS4ERR_ROFS", -EROFS },
	{ NFS4ERR_SYMLINK, "NFS4ERR_SYMLINK", -ELOOP },
	{ NFS4ERR_DENIED, "NFS4ERR_DENIED", -EAGAIN },
	{ NFS4ERR_LOCKED, "NFS4ERR_LOCKED", -EAGAIN },
	{ NFS4ERR_SHARE_DENIED, "NFS4ERR_SHARE_DENIED", -EACCES },
	{ NFS4ERR_OLD_STATEID, "NFS4ERR_OLD_STATEID", -ESTALE },
	{ NFS4ERR_BAD_SEQID, "NFS4ERR_BAD_SEQID", -EINVAL },
	{ NFS4ERR_LOCK_RANGE, "NFS4ERR_LOCK_RANGE", -EINVAL },
	{ NFS4ERR_NO_GRACE, "NFS4ERR_NO_GRACE", -ENOENT },
	{ NFS4ERR_RECLAIM_BAD, "NFS4ERR_RECLAIM_BAD", -EINVAL },
	{ NFS4ERR_RECLAIM_CONFLICT, "NFS4ERR_RECLAIM_CONFLICT", -EBUSY },
	{ NFS4ERR_LOCKS_HELD, "NFS4ERR_LOCKS_HELD", -EBUSY },
	{ NFS4ERR_OPENMODE, "NFS4ERR_OPENMODE", -EACCES },
	{ NFS4ERR_BAD_RANGE, "NFS4ERR_BAD_RANGE", -EINVAL },
	{ NFS4ERR_LOCK_NOTSUPP, "NFS4ERR_LOCK_NOTSUPP", -EOPNOTSUPP },
	{ NFS4ERR_DEADLOCK, "NFS4ERR_DEADLOCK", -EDEADLK },
	{ NFS4ERR_FILE_OPEN, "NFS4ERR_FILE_OPEN", -EBUSY },
	{ NFS4ERR_ADMIN_REVOKED, "NFS4ERR_ADMIN_REVOKED", -EACCES },
	{ NFS4ERR_COMPLETE_ALREADY, "NFS4ERR_COMPLETE_ALREADY", -EALREADY },
	{ NFS4ERR_WRONG_TYPE, "NFS4ERR_WRONG_TYPE", -EINVAL },
	{ NFS4ERR_DELEG_REVOKED, "NFS4ERR_DELEG_REVOKED", -EACCES },
	{ NFS4ERR_ATTRNOTSUPP, "NFS4ERR_ATTRNOTSUPP", -EOPNOTSUPP },
	{ NFS4ERR_BADXDR, "NFS4ERR_BADXDR", -EPROTO },
	{ NFS4ERR_BADCHAR, "NFS4ERR_BADCHAR", -EINVAL },
	{ NFS4ERR_BADNAME, "NFS4ERR_BADNAME", -EINVAL },
	{ NFS4ERR_OP_ILLEGAL, "NFS4ERR_OP_ILLEGAL", -EOPNOTSUPP },
	{ NFS4ERR_BADSESSION, "NFS4ERR_BADSESSION", -EPROTO },
	{ NFS4ERR_BADSLOT, "NFS4ERR_BADSLOT", -EPROTO },
	{ NFS4ERR_SEQ_MISORDERED, "NFS4ERR_SEQ_MISORDERED", -EPROTO },
	{ NFS4ERR_SEQUENCE_POS, "NFS4ERR_SEQUENCE_POS", -EPROTO },
	{ NFS4ERR_REQ_TOO_BIG, "NFS4ERR_REQ_TOO_BIG", -E2BIG },
	{ NFS4ERR_REP_TOO_BIG, "NFS4ERR_REP_TOO_BIG", -E2BIG },
	{ NFS4ERR_TOO_MANY_OPS, "NFS4ERR_TOO_MANY_OPS", -E2BIG },
	{ NFS4ERR_OP_NOT_IN_SESSION, "NFS4ERR_OP_NOT_IN_SESSION", -EPROTO },
	{ NFS4ERR_DEADSESSION, "NFS4ERR_DEADSESSION", -EPROTO },
	{ NFS4ERR_CLID_INUSE, "NFS4ERR_CLID_INUSE", -EBUSY },
	{ NFS4ERR_STALE_STATEID, "NFS4ERR_STALE_STATEID", -ESTALE },
	{ NFS4ERR_BAD_STATEID, "NFS4ERR_BAD_STATEID", -EINVAL },
	{ NFS4ERR_EXPIRED, "NFS4ERR_EXPIRED", -ESTALE },
};

const char *nm_nfs4_status_name(nfsstat4 st)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].st == st)
			return statuses[i].name;
	return "NFS4ERR_UNKNOWN";
}

const char *nm_nfs4_status_text(nfsstat4 st, char *buf, size_t cap)
{
	const char *name = nm_nfs4_status_name(st);

	if (strcmp(name, "NFS4ERR_UNKNOWN") == 0)
		snprintf(buf, cap, "NFS4ERR %u", (unsigned)st);
	else
		snprintf(buf, cap, "%s", name);
	return buf;
}

int nm_nfs4_status_errno(nfsstat4 st)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].st == st)
			return statuses[i].err;
	return -EREMOTEIO;
}

const char *nm_nfs4_op_name(nfs_opnum4 op)
{
	switch (op) {
	case OP_CLOSE: return "CLOSE";
	case OP_DELEGRETURN: return "DELEGRETURN";
	case OP_LOCK: return "LOCK";
	case OP_LOCKT: return "LOCKT";
	case OP_LOCKU: return "LOCKU";
	case OP_OPEN: return "OPEN";
	case OP_OPEN_CONFIRM: return "OPEN_CONFIRM";
	case OP_READ: return "READ";
	case OP_RESTOREFH: return "RESTOREFH";
	case OP_SAVEFH: return "SAVEFH";
	case OP_RELEASE_LOCKOWNER: return "RELEASE_LOCKOWNER";
	case OP_FREE_STATEID: return "FREE_STATEID";
	case OP_TEST_STATEID: return "TEST_STATEID";
	case OP_GETATTR: return "GETATTR";
	case OP_GETFH: return "GETFH";
	case OP_LOOKUP: return "LOOKUP";
	case OP_LOOKUPP: return "LOOKUPP";
	case OP_PUTFH: return "PUTFH";
	case OP_PUTROOTFH: return "PUTROOTFH";
	case OP_RENEW: return "RENEW";
	case OP_SECINFO: return "SECINFO";
	case OP_SETCLIENTID: return "SETCLIENTID";
	case OP_SETCLIENTID_CONFIRM: return "SETCLIENTID_CONFIRM";
	case OP_EXCHANGE_ID: return "EXCHANGE_ID";
	case OP_CREATE_SESSION: return "CREATE_SESSION";
	case OP_DESTROY_SESSION: return "DESTROY_SESSION";
	case OP_SECINFO_NO_NAME: return "SECINFO_NO_NAME";
	case OP_SEQUENCE: return "SEQUENCE";
	case OP_DESTROY_CLIENTID: return "DESTROY_CLIENTID";
	case OP_RECLAIM_COMPLETE: return "RECLAIM_COMPLETE";
	case OP_ILLEGAL: return "ILLEGAL";
	}
	return "unknown op";
}

/* The status every result union starts with. */
static nfsstat4 resop_status(const nfs_resop4 *r)
{
	switch (r->resop) {
	case OP_CLOSE: return r->nfs_resop4_u.opclose.status;
	case OP_DELEGRETURN: return r->nfs_resop4_u.opdelegreturn.status;
	case OP_LOCK: return r->nfs_resop4_u.oplock.status;
	case OP_LOCKT: return r->nfs_resop4_u.oplockt.status;
	case OP_LOCKU: return r->nfs_resop4_u.oplocku.status;
	case OP_OPEN: return r->nfs_resop4_u.opopen.status;
	case OP_OPEN_CONFIRM: return r->nfs_resop4_u.opopen_confirm.status;
	case OP_READ: return r->nfs_resop4_u.opread.status;
	case OP_RESTOREFH: return r->nfs_resop4_u.oprestorefh.status;
	case OP_SAVEFH: return r->nfs_resop4_u.opsavefh.status;
	case OP_RELEASE_LOCKOWNER: return r->nfs_resop4_u.oprelease_lockowner.status;
	case OP_FREE_STATEID: return r->nfs_resop4_u.opfree_stateid.status;
	case OP_TEST_STATEID: return r->nfs_resop4_u.optest_stateid.tsr_status;
	case OP_GETATTR: return r->nfs_resop4_u.opgetattr.status;
	case OP_GETFH: return r->nfs_resop4_u.opgetfh.status;
	case OP_LOOKUP: return r->nfs_resop4_u.oplookup.status;
	case OP_LOOKUPP: return r->nfs_resop4_u.oplookupp.status;
	case OP_PUTFH: return r->nfs_resop4_u.opputfh.status;
	case OP_PUTROOTFH: return r->nfs_resop4_u.opputrootfh.status;
	case OP_RENEW: return r->nfs_resop4_u.oprenew.status;
	case OP_SECINFO: return r->nfs_resop4_u.opsecinfo.status;
	case OP_SETCLIENTID: return r->nfs_resop4_u.opsetclientid.status;
	case OP_SETCLIENTID_CONFIRM: return r->nfs_resop4_u.opsetclientid_confirm.status;
	case OP_EXCHANGE_ID: return r->nfs_resop4_u.opexchange_id.eir_status;
	case OP_CREATE_SESSION: return r->nfs_resop4_u.opcreate_session.csr_status;
	case OP_DESTROY_SESSION: return r->nfs_resop4_u.opdestroy_session.status;
	case OP_SECINFO_NO_NAME: return r->nfs_resop4_u.opsecinfo_no_name.status;
	case OP_SEQUENCE: return r->nfs_resop4_u.opsequence.sr_status;
	case OP_DESTROY_CLIENTID: return r->nfs_resop4_u.opdestroy_clientid.status;
	case OP_RECLAIM_COMPLETE: return r->nfs_resop4_u.opreclaim_complete.status;
	case OP_ILLEGAL: return r->nfs_resop4_u.opillegal.status;
	}
	return NFS4ERR_SERVERFAULT;
}

nfsstat4 nm_nfs4_resop_status(const nfs_resop4 *r)
{
	return resop_status(r);
}

int nm_nfs4_check_results(const char *peer, const nfs_argop4 *ops, unsigned nops,
			  const COMPOUND4res *res, struct nm_err *err)
{
	unsigned n = res->resarray.resarray_len;

	if (n > nops)
		return nm_err_set(err, -EBADMSG,
				  "%s: malformed reply: %u results for %u operations", peer, n,
				  nops);
	for (unsigned i = 0; i < n; i++) {
		const nfs_resop4 *r = &res->resarray.resarray_val[i];
		bool last = i + 1 == n;

		if (r->resop != ops[i].argop && !(r->resop == OP_ILLEGAL && last))
			return nm_err_set(
				err, -EBADMSG, "%s: malformed reply: result %u is for %s, not %s",
				peer, i, nm_nfs4_op_name(r->resop), nm_nfs4_op_name(ops[i].argop));
		if (r->resop == OP_ILLEGAL && resop_status(r) == NFS4_OK)
			return nm_err_set(err, -EBADMSG,
					  "%s: malformed reply: ILLEGAL answered NFS4_OK", peer);
		if (!last && resop_status(r) != NFS4_OK)
			return nm_err_set(err, -EBADMSG,
					  "%s: malformed reply: %s failed but processing went on",
					  peer, nm_nfs4_op_name(r->resop));
	}
	if (n < nops && res->status == NFS4_OK)
		return nm_err_set(err, -EBADMSG,
				  "%s: malformed reply: NFS4_OK with %u results for %u operations",
				  peer, n, nops);
	if (n > 0 && resop_status(&res->resarray.resarray_val[n - 1]) != res->status)
		return nm_err_set(err, -EBADMSG,
				  "%s: malformed reply: COMPOUND status %s but last result %s",
				  peer, NM_NFS4_STATUS(res->status),
				  NM_NFS4_STATUS(resop_status(&res->resarray.resarray_val[n - 1])));
	return 0;
}

static int check_results(struct nm_nfs4 *c, const nfs_argop4 *ops, unsigned nops,
			 const COMPOUND4res *res, struct nm_err *err)
{
	return nm_nfs4_check_results(nm_rpc_peer(c->rpc), ops, nops, res, err);
}

/* Send a COMPOUND as is; check that the reply answers what was asked. */
static int compound_raw(struct nm_nfs4 *c, unsigned minor, nfs_argop4 *ops, unsigned nops,
			COMPOUND4res *res, struct nm_err *err)
{
	COMPOUND4args args = { 0 };
	int rc;

	args.minorversion = minor;
	args.argarray.argarray_len = nops;
	args.argarray.argarray_val = ops;
	memset(res, 0, sizeof(*res));
	rc = nm_rpc_call(c->rpc, 1, (xdrproc_t)xdr_COMPOUND4args, &args,
			 (xdrproc_t)xdr_COMPOUND4res, res, err);
	if (rc < 0)
		return rc;
	rc = check_results(c, ops, nops, res, err);
	if (rc < 0)
		xdr_free((xdrproc_t)xdr_COMPOUND4res, res);
	return rc;
}

static int compound_once(struct nm_nfs4 *c, nfs_argop4 *ops, unsigned nops,
			 struct nm_nfs4_reply *reply, bool cachethis, struct nm_err *err)
{
	nfs_argop4 all[NM_XDR_MAX_OPS];
	unsigned skip = 0, max = nm_nfs4_max_ops(c);
	int rc;

	memset(reply, 0, sizeof(*reply));
	if (nops > max)
		return nm_err_set(err, -E2BIG,
				  "%u operations do not fit in one COMPOUND (at most %u)", nops,
				  max);
	if (c->have_session) {
		SEQUENCE4args *sa = &all[0].nfs_argop4_u.opsequence;

		all[0].argop = OP_SEQUENCE;
		memcpy(sa->sa_sessionid, c->sessionid, sizeof(sessionid4));
		sa->sa_sequenceid = c->slot_seq;
		sa->sa_slotid = 0;
		sa->sa_highest_slotid = 0;
		/* A COMPOUND that changes state is cached in the slot, so a
		 * retransmission is answered from the cache, not done twice. */
		sa->sa_cachethis = cachethis;
		memcpy(&all[1], ops, nops * sizeof(*ops));
		skip = 1;
	} else {
		memcpy(all, ops, nops * sizeof(*ops));
	}
	rc = compound_raw(c, c->minor, all, nops + skip, &reply->raw, err);
	if (rc < 0)
		return rc;
	if (skip) {
		const nfs_resop4 *s;

		if (reply->raw.resarray.resarray_len == 0) {
			nfsstat4 st = reply->raw.status;

			nm_nfs4_reply_free(reply);
			c->seq_status = st;
			return nm_err_set(err, nm_nfs4_status_errno(st),
					  "%s: COMPOUND failed before SEQUENCE: %s",
					  nm_rpc_peer(c->rpc), NM_NFS4_STATUS(st));
		}
		s = &reply->raw.resarray.resarray_val[0];
		if (s->nfs_resop4_u.opsequence.sr_status != NFS4_OK) {
			nfsstat4 st = s->nfs_resop4_u.opsequence.sr_status;

			nm_nfs4_reply_free(reply);
			c->seq_status = st;
			return nm_err_set(err, nm_nfs4_status_errno(st), "%s: SEQUENCE failed: %s",
					  nm_rpc_peer(c->rpc), NM_NFS4_STATUS(st));
		}
		c->slot_seq++;
		/* ORed: a flag one SEQUENCE said is not lost to the next. */
		c->seq_flags |= s->nfs_resop4_u.opsequence.SEQUENCE4res_u.sr_resok4.sr_status_flags;
	}
	reply->status = reply->raw.status;
	/* A COMPOUND may answer with no results at all (4.0: its first
	 * operation's status only); then there is no array to point into. */
	if (reply->raw.resarray.resarray_len > skip) {
		reply->ops = reply->raw.resarray.resarray_val + skip;
		reply->nops = reply->raw.resarray.resarray_len - skip;
	}
	return 0;
}

/* A COMPOUND the server answers NFS4ERR_DELAY (its SEQUENCE or the
 * operation that stopped it) is asked again, the same request, after a
 * pause that doubles (100 ms, at most 2 s), for at most the call deadline
 * in all and never past nm_nfs4_set_delay_deadline's; then the DELAY
 * reply is the answer.  Only DELAY is retried (GRACE is an answer).  The
 * operations sent must be idempotent (nfsmig's queries are: PUTFH,
 * LOOKUP, GETATTR, SECINFO): the server may have done part of the first. */
static int compound_delayed(struct nm_nfs4 *c, nfs_argop4 *ops, unsigned nops,
			    struct nm_nfs4_reply *reply, bool ops_again, struct nm_err *err)
{
	int64_t end = nm_time_ms() + c->delay_ms;
	int64_t pause = NM_NFS4_DELAY_FIRST_MS;

	if (c->delay_until > 0 && c->delay_until < end)
		end = c->delay_until;
	for (;;) {
		int rc;
		int64_t left;
		bool delayed;

		c->seq_status = NFS4_OK;
		rc = compound_once(c, ops, nops, reply, !ops_again, err);
		left = end - nm_time_ms();
		/* SEQUENCE itself may say DELAY (the slot still busy): then
		 * compound_once has failed, the slot's sequence id unspent,
		 * and the same request goes again. */
		delayed = rc == 0 ? ops_again && reply->status == NFS4ERR_DELAY
				  : c->seq_status == NFS4ERR_DELAY;
		if (!delayed || left <= 0)
			return rc;
		if (rc == 0)
			nm_nfs4_reply_free(reply);
		nm_time_sleep_ms(pause < left ? pause : left);
		pause = pause * 2 < NM_NFS4_DELAY_MAX_MS ? pause * 2 : NM_NFS4_DELAY_MAX_MS;
	}
}

int nm_nfs4_compound(struct nm_nfs4 *c, nfs_argop4 *ops, unsigned nops, struct nm_nfs4_reply *reply,
		     struct nm_err *err)
{
	return compound_delayed(c, ops, nops, reply, true, err);
}

int nm_nfs4_compound_stateful(struct nm_nfs4 *c, nfs_argop4 *ops, unsigned nops,
			      struct nm_nfs4_reply *reply, struct nm_err *err)
{
	return compound_delayed(c, ops, nops, reply, false, err);
}

bool nm_nfs4_ops_stateful(const nfs_argop4 *ops, unsigned nops)
{
	for (unsigned i = 0; i < nops; i++)
		switch (ops[i].argop) {
		case OP_OPEN:
		case OP_OPEN_CONFIRM:
		case OP_LOCK:
		case OP_LOCKU:
		case OP_CLOSE:
		case OP_RELEASE_LOCKOWNER:
		case OP_DELEGRETURN:
		case OP_FREE_STATEID:
		case OP_RECLAIM_COMPLETE: return true;
		default: break;
		}
	return false;
}

bool nm_nfs4_same_server(const struct nm_nfs4 *a, const struct nm_nfs4 *b)
{
	const struct nm_nfs4_server_id *x = a ? &a->server_id : NULL, *y = b ? &b->server_id : NULL;

	return x && y && a->minor > 0 && b->minor > 0 && x->have && y->have && x->major_len > 0 &&
	       x->major_len == y->major_len && x->scope_len == y->scope_len &&
	       memcmp(x->major, y->major, x->major_len) == 0 &&
	       memcmp(x->scope, y->scope, x->scope_len) == 0;
}

void nm_nfs4_set_call_ms(struct nm_nfs4 *c, int call_ms)
{
	if (c)
		nm_rpc_set_call_ms(c->rpc, call_ms);
}

void nm_nfs4_set_delay_deadline(struct nm_nfs4 *c, int64_t until_ms)
{
	if (c)
		c->delay_until = until_ms;
}

void nm_nfs4_reply_free(struct nm_nfs4_reply *reply)
{
	if (!reply)
		return;
	xdr_free((xdrproc_t)xdr_COMPOUND4res, &reply->raw);
	memset(reply, 0, sizeof(*reply));
}

/* A client owner of our own, so the server never confuses nfsmig's
 * short-lived client with the kernel's on the same host; returns its
 * length and sets nonce (the verifier). */
static int client_owner(char *owner, size_t cap, uint64_t *nonce)
{
	char host[256] = "localhost";

	gethostname(host, sizeof(host) - 1);
	if (getrandom(nonce, sizeof(*nonce), GRND_NONBLOCK) != sizeof(*nonce))
		*nonce = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return snprintf(owner, cap, "nfsmig/%s/%d/%016llx", host, (int)getpid(),
			(unsigned long long)*nonce);
}

/* The server's identity from EXCHANGE_ID: lengths beyond what the
 * protocol allows (NFS4_OPAQUE_LIMIT) leave it unknown. */
static void save_server_id(struct nm_nfs4_server_id *id, const EXCHANGE_ID4resok *ok)
{
	const server_owner4 *o = &ok->eir_server_owner;

	memset(id, 0, sizeof(*id));
	if (o->so_major_id.so_major_id_len > sizeof(id->major) ||
	    ok->eir_server_scope.eir_server_scope_len > sizeof(id->scope))
		return;
	id->minor_id = o->so_minor_id;
	id->clientid = ok->eir_clientid;
	id->major_len = o->so_major_id.so_major_id_len;
	if (id->major_len) /* an empty opaque may come with no buffer */
		memcpy(id->major, o->so_major_id.so_major_id_val, id->major_len);
	id->scope_len = ok->eir_server_scope.eir_server_scope_len;
	if (id->scope_len)
		memcpy(id->scope, ok->eir_server_scope.eir_server_scope_val, id->scope_len);
	id->have = true;
}

static int exchange_id(struct nm_nfs4 *c, unsigned minor, nfsstat4 *st, struct nm_err *err)
{
	char owner[NFS4_OPAQUE_LIMIT];
	uint64_t nonce = 0;
	nfs_argop4 op = { .argop = OP_EXCHANGE_ID };
	EXCHANGE_ID4args *a = &op.nfs_argop4_u.opexchange_id;
	COMPOUND4res res;
	int rc, n;

	if (c->owner[0]) {
		n = snprintf(owner, sizeof(owner), "%s", c->owner);
		nonce = c->verifier;
	} else {
		n = client_owner(owner, sizeof(owner), &nonce);
	}
	memcpy(a->eia_clientowner.co_verifier, &nonce, sizeof(verifier4));
	a->eia_clientowner.co_ownerid.co_ownerid_len = (unsigned)n;
	a->eia_clientowner.co_ownerid.co_ownerid_val = owner;
	a->eia_flags = EXCHGID4_FLAG_SUPP_MOVED_REFER | EXCHGID4_FLAG_SUPP_MOVED_MIGR;
	a->eia_state_protect.spa_how = SP4_NONE;
	rc = compound_raw(c, minor, &op, 1, &res, err);
	if (rc < 0)
		return rc;
	*st = res.status;
	if (res.status == NFS4_OK) {
		if (res.resarray.resarray_len != 1) {
			xdr_free((xdrproc_t)xdr_COMPOUND4res, &res);
			return nm_err_set(err, -EBADMSG, "%s: malformed EXCHANGE_ID reply",
					  nm_rpc_peer(c->rpc));
		}
		EXCHANGE_ID4resok *ok =
			&res.resarray.resarray_val[0]
				 .nfs_resop4_u.opexchange_id.EXCHANGE_ID4res_u.eir_resok4;
		c->clientid = ok->eir_clientid;
		c->slot_seq = ok->eir_sequenceid; /* CREATE_SESSION's csa_sequence */
		c->have_clientid = true;
		save_server_id(&c->server_id, ok);
	}
	xdr_free((xdrproc_t)xdr_COMPOUND4res, &res);
	return 0;
}

/* A COMPOUND of op alone, without SEQUENCE (4.0's SETCLIENTID and
 * SETCLIENTID_CONFIRM), asked again while the server says NFS4ERR_DELAY,
 * as nm_nfs4_compound does: within delay_ms and the delay deadline. */
static int raw_delayed(struct nm_nfs4 *c, nfs_argop4 *op, COMPOUND4res *res, struct nm_err *err)
{
	int64_t end = nm_time_ms() + c->delay_ms;
	int64_t pause = NM_NFS4_DELAY_FIRST_MS;

	if (c->delay_until > 0 && c->delay_until < end)
		end = c->delay_until;
	for (;;) {
		int rc = compound_raw(c, 0, op, 1, res, err);
		int64_t left = end - nm_time_ms();

		if (rc < 0 || res->status != NFS4ERR_DELAY || left <= 0)
			return rc;
		xdr_free((xdrproc_t)xdr_COMPOUND4res, res);
		nm_time_sleep_ms(pause < left ? pause : left);
		pause = pause * 2 < NM_NFS4_DELAY_MAX_MS ? pause * 2 : NM_NFS4_DELAY_MAX_MS;
	}
}

int nm_nfs4_clientid40(struct nm_nfs4 *c, clientid4 *id, struct nm_err *err)
{
	char owner[NFS4_OPAQUE_LIMIT];
	char host[256] = "localhost";
	uint64_t nonce = 0;
	nfs_argop4 op = { .argop = OP_SETCLIENTID };
	SETCLIENTID4args *a = &op.nfs_argop4_u.opsetclientid;
	COMPOUND4res res;
	SETCLIENTID4resok ok;
	bool v6 = nm_rpc_family(c->rpc) == AF_INET6;
	nfsstat4 st;
	int rc;

	if (c->minor != 0)
		return nm_err_set(err, -EINVAL, "%s: SETCLIENTID is NFSv4.0's, not 4.%u's",
				  nm_rpc_peer(c->rpc), c->minor);
	if (c->have_clientid40) {
		*id = c->clientid;
		return 0;
	}
	/* One owner per host, so the server keeps one client record of
	 * nfsmig's however often it asks (never the kernel's: its owner is
	 * "Linux NFSv4.0 ..."); a fresh verifier each time, which tells the
	 * server any state of an earlier one may go (nfsmig holds none). */
	gethostname(host, sizeof(host) - 1);
	if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != sizeof(nonce))
		nonce = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	a->client.id.id_len = (unsigned)snprintf(owner, sizeof(owner), "nfsmig/%s", host);
	if (c->owner[0]) {
		a->client.id.id_len = (unsigned)snprintf(owner, sizeof(owner), "%s", c->owner);
		nonce = c->verifier;
	}
	a->client.id.id_val = owner;
	memcpy(a->client.verifier, &nonce, sizeof(verifier4));
	/* No callbacks: nfsmig holds no delegation.  An address the server
	 * cannot call back (the any-address, port 0) says so, in the
	 * connection's family. */
	a->callback.cb_program = 0x40000000;
	a->callback.cb_location.r_netid = (char *)(v6 ? "tcp6" : "tcp");
	a->callback.cb_location.r_addr = (char *)(v6 ? "::.0.0" : "0.0.0.0.0.0");
	a->callback_ident = 1;
	rc = raw_delayed(c, &op, &res, err);
	if (rc < 0)
		return rc;
	st = res.status;
	if (st != NFS4_OK || res.resarray.resarray_len != 1) {
		xdr_free((xdrproc_t)xdr_COMPOUND4res, &res);
		return nm_err_set(err, st != NFS4_OK ? nm_nfs4_status_errno(st) : -EBADMSG,
				  "%s: SETCLIENTID failed: %s", nm_rpc_peer(c->rpc),
				  NM_NFS4_STATUS(st));
	}
	ok = res.resarray.resarray_val[0].nfs_resop4_u.opsetclientid.SETCLIENTID4res_u.resok4;
	xdr_free((xdrproc_t)xdr_COMPOUND4res, &res);
	op.argop = OP_SETCLIENTID_CONFIRM;
	op.nfs_argop4_u.opsetclientid_confirm.clientid = ok.clientid;
	memcpy(op.nfs_argop4_u.opsetclientid_confirm.setclientid_confirm, ok.setclientid_confirm,
	       sizeof(verifier4));
	rc = raw_delayed(c, &op, &res, err);
	if (rc < 0)
		return rc;
	st = res.status;
	xdr_free((xdrproc_t)xdr_COMPOUND4res, &res);
	if (st != NFS4_OK)
		return nm_err_set(err, nm_nfs4_status_errno(st),
				  "%s: SETCLIENTID_CONFIRM failed: %s", nm_rpc_peer(c->rpc),
				  NM_NFS4_STATUS(st));
	c->clientid = ok.clientid;
	c->have_clientid40 = true;
	*id = c->clientid;
	return 0;
}

const struct nm_nfs4_server_id *nm_nfs4_server_id(const struct nm_nfs4 *c)
{
	return &c->server_id;
}

uint32_t nm_nfs4_seq_flags(const struct nm_nfs4 *c)
{
	return c->seq_flags;
}

uint32_t nm_nfs4_seq_flags_take(struct nm_nfs4 *c)
{
	uint32_t f = c->seq_flags;

	c->seq_flags = 0;
	return f;
}

static int create_session(struct nm_nfs4 *c, struct nm_err *err)
{
	nfs_argop4 op = { .argop = OP_CREATE_SESSION };
	CREATE_SESSION4args *a = &op.nfs_argop4_u.opcreate_session;
	callback_sec_parms4 sec = { .cb_secflavor = NM_CB_AUTH_NONE };
	COMPOUND4res res;
	int rc;

	a->csa_clientid = c->clientid;
	a->csa_sequence = c->slot_seq;
	a->csa_flags = 0; /* no back channel: nfsmig takes no callbacks */
	a->csa_fore_chan_attrs.ca_maxrequestsize = NM_NFS4_MAX_REQ;
	a->csa_fore_chan_attrs.ca_maxresponsesize = NM_NFS4_MAX_RESP;
	a->csa_fore_chan_attrs.ca_maxresponsesize_cached = 4096;
	a->csa_fore_chan_attrs.ca_maxoperations = NM_NFS4_OPS_WANTED;
	a->csa_fore_chan_attrs.ca_maxrequests = 1;
	a->csa_back_chan_attrs.ca_maxrequestsize = 4096;
	a->csa_back_chan_attrs.ca_maxresponsesize = 4096;
	a->csa_back_chan_attrs.ca_maxoperations = 2;
	a->csa_back_chan_attrs.ca_maxrequests = 1;
	a->csa_cb_program = 0x40000000;
	a->csa_sec_parms.csa_sec_parms_len = 1;
	a->csa_sec_parms.csa_sec_parms_val = &sec;
	rc = compound_raw(c, c->minor, &op, 1, &res, err);
	if (rc < 0)
		return rc;
	if (res.status != NFS4_OK || res.resarray.resarray_len != 1) {
		nfsstat4 st = res.status;

		xdr_free((xdrproc_t)xdr_COMPOUND4res, &res);
		return nm_err_set(err, nm_nfs4_status_errno(st), "%s: CREATE_SESSION failed: %s",
				  nm_rpc_peer(c->rpc), NM_NFS4_STATUS(st));
	}
	CREATE_SESSION4resok *ok =
		&res.resarray.resarray_val[0]
			 .nfs_resop4_u.opcreate_session.CREATE_SESSION4res_u.csr_resok4;
	memcpy(c->sessionid, ok->csr_sessionid, sizeof(sessionid4));
	c->max_ops = ok->csr_fore_chan_attrs.ca_maxoperations;
	if (c->max_ops > NM_NFS4_OPS_WANTED)
		c->max_ops = NM_NFS4_OPS_WANTED;
	xdr_free((xdrproc_t)xdr_COMPOUND4res, &res);
	if (c->max_ops < 2)
		return nm_err_set(err, -EPROTO,
				  "%s: server grants %u operations per COMPOUND, too few",
				  nm_rpc_peer(c->rpc), c->max_ops);
	c->have_session = true;
	c->slot_seq = 1; /* slot 0's first SEQUENCE */
	return 0;
}

/* A COMPOUND with only op, no SEQUENCE (DESTROY_SESSION, DESTROY_CLIENTID). */
static int sole_op(struct nm_nfs4 *c, nfs_argop4 *op, nfsstat4 *st)
{
	COMPOUND4res res;
	struct nm_err ignored;
	int rc = compound_raw(c, c->minor, op, 1, &res, &ignored);

	if (rc == 0) {
		*st = res.status;
		xdr_free((xdrproc_t)xdr_COMPOUND4res, &res);
	}
	return rc;
}

static int setup_minor(struct nm_nfs4 *c, unsigned minor, bool *mismatch, struct nm_err *err)
{
	nfsstat4 st = NFS4_OK;
	int rc;

	*mismatch = false;
	c->minor = minor;
	if (minor == 0) {
		c->max_ops = NM_NFS4_OPS_WANTED;
		return 0;
	}
	rc = exchange_id(c, minor, &st, err);
	if (rc < 0)
		return rc;
	if (st == NFS4ERR_MINOR_VERS_MISMATCH) {
		*mismatch = true;
		return nm_err_set(err, -EPROTONOSUPPORT, "%s: server does not support NFSv4.%u",
				  nm_rpc_peer(c->rpc), minor);
	}
	if (st != NFS4_OK)
		return nm_err_set(err, nm_nfs4_status_errno(st), "%s: EXCHANGE_ID failed: %s",
				  nm_rpc_peer(c->rpc), NM_NFS4_STATUS(st));
	return create_session(c, err);
}

/* A flavor and a version nfsmig can open a session with. */
static int check_opts(const struct nm_nfs4_opts *opts, struct nm_err *err)
{
	if (opts->sec && strcmp(opts->sec, "sys") != 0)
		return nm_err_set(err, -EOPNOTSUPP,
				  "security flavor '%s' is not supported yet (only sys)",
				  opts->sec);
	if (opts->minor != NM_NFS4_MINOR_AUTO &&
	    (opts->minor < 0 || opts->minor > NM_NFS4_MINOR_MAX))
		return nm_err_set(err, -EPROTONOSUPPORT,
				  "NFSv4.%d is not a version nfsmig speaks (4.0, 4.1, 4.2)",
				  opts->minor);
	return 0;
}

int nm_nfs4_open(const char *host, const struct nm_nfs4_opts *opts, struct nm_nfs4 **out,
		 struct nm_err *err)
{
	struct nm_rpc *rpc;
	int rc;

	*out = NULL;
	rc = check_opts(opts, err); /* before connecting */
	if (rc < 0)
		return rc;
	rc = nm_rpc_connect(host, &opts->rpc, &rpc, err);
	if (rc < 0)
		return rc;
	return nm_nfs4_open_rpc(rpc, opts, out, err);
}

int nm_nfs4_open_rpc(struct nm_rpc *rpc, const struct nm_nfs4_opts *opts, struct nm_nfs4 **out,
		     struct nm_err *err)
{
	struct nm_nfs4 *c;
	bool mismatch = false;
	int rc, m;

	*out = NULL;
	rc = check_opts(opts, err);
	if (rc < 0) {
		nm_rpc_close(rpc);
		return rc;
	}
	rc = -EPROTONOSUPPORT;
	c = calloc(1, sizeof(*c));
	if (!c) {
		nm_rpc_close(rpc);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	c->rpc = rpc;
	c->delay_ms = opts->rpc.call_ms;
	if (opts->owner)
		snprintf(c->owner, sizeof(c->owner), "%s", opts->owner);
	c->verifier = opts->verifier;
	if (opts->minor != NM_NFS4_MINOR_AUTO) {
		rc = setup_minor(c, (unsigned)opts->minor, &mismatch, err);
	} else {
		for (m = NM_NFS4_MINOR_MAX; m >= 0; m--) {
			rc = setup_minor(c, (unsigned)m, &mismatch, err);
			if (rc == 0 || !mismatch)
				break;
		}
	}
	if (rc < 0) {
		nm_nfs4_close(c);
		return rc;
	}
	nm_err_clear(err);
	*out = c;
	return 0;
}

void nm_nfs4_shutdown_said(struct nm_nfs4 *c, struct nm_nfs4_bye *bye)
{
	memset(bye, 0, sizeof(*bye));
	if (c->have_session) {
		nfs_argop4 op = { .argop = OP_DESTROY_SESSION };

		memcpy(op.nfs_argop4_u.opdestroy_session.dsa_sessionid, c->sessionid,
		       sizeof(sessionid4));
		bye->session_sent = true;
		bye->session_answered = sole_op(c, &op, &bye->session_st) == 0;
	}
	if (c->have_clientid) {
		nfs_argop4 op = { .argop = OP_DESTROY_CLIENTID };

		op.nfs_argop4_u.opdestroy_clientid.dca_clientid = c->clientid;
		bye->clientid_sent = true;
		bye->clientid_answered = sole_op(c, &op, &bye->clientid_st) == 0;
	}
	c->have_session = false;
	c->have_clientid = false;
}

void nm_nfs4_shutdown(struct nm_nfs4 *c)
{
	struct nm_nfs4_bye ignored;

	nm_nfs4_shutdown_said(c, &ignored);
}

void nm_nfs4_close(struct nm_nfs4 *c)
{
	if (!c)
		return;
	nm_nfs4_shutdown(c);
	nm_rpc_close(c->rpc);
	free(c);
}

clientid4 nm_nfs4_clientid(const struct nm_nfs4 *c)
{
	return c->have_clientid || c->have_clientid40 ? c->clientid : 0;
}

unsigned nm_nfs4_minor(const struct nm_nfs4 *c)
{
	return c->minor;
}

unsigned nm_nfs4_max_ops(const struct nm_nfs4 *c)
{
	return c->have_session ? c->max_ops - 1 : c->max_ops;
}

unsigned nm_nfs4_rpcs(const struct nm_nfs4 *c)
{
	return nm_rpc_calls(c->rpc);
}

const char *nm_nfs4_note(const struct nm_nfs4 *c)
{
	return nm_rpc_note(c->rpc);
}

const char *nm_nfs4_peer(const struct nm_nfs4 *c)
{
	return nm_rpc_peer(c->rpc);
}

int nm_nfs4_decode_reply(const void *buf, size_t len, COMPOUND4res *res, struct nm_err *err)
{
	/* The verifier is decoded into a buffer of ours, so nothing in msg is
	 * ever allocated: a rejected reply's fields share its memory with the
	 * verifier's pointer, which then must not be freed or trusted. */
	char verf[MAX_AUTH_BYTES];
	struct rpc_msg msg;
	XDR x;
	bool_t ok;

	memset(res, 0, sizeof(*res));
	memset(&msg, 0, sizeof(msg));
	msg.acpted_rply.ar_verf.oa_base = verf;
	msg.acpted_rply.ar_results.where = (caddr_t)res;
	msg.acpted_rply.ar_results.proc = (xdrproc_t)xdr_COMPOUND4res;
	if (len > UINT_MAX)
		return nm_err_set(err, -E2BIG, "reply too large");
	xdrmem_create(&x, (char *)buf, (unsigned)len, XDR_DECODE);
	ok = xdr_replymsg(&x, &msg);
	xdr_destroy(&x);
	if (!ok) {
		xdr_free((xdrproc_t)xdr_COMPOUND4res, res);
		return nm_err_set(err, -EBADMSG, "malformed reply: XDR decoding failed");
	}
	if (msg.rm_direction != REPLY || msg.rm_reply.rp_stat != MSG_ACCEPTED ||
	    msg.acpted_rply.ar_stat != SUCCESS) {
		xdr_free((xdrproc_t)xdr_COMPOUND4res, res);
		return nm_err_set(err, -EPROTO, "reply is not an accepted, successful RPC");
	}
	return 0;
}
