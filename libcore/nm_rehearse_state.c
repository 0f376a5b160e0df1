/* nm_rehearse_state - the rehearsal's client state: one client per server
 * (its owner shared, so a server that took the state over knows it), the
 * state of each file system (open and lock owners and stateids, 4.0
 * seqids and OPEN_CONFIRM, 4.1 sessions through nm_nfs4's SEQUENCE), and
 * every COMPOUND within the deadline. */
#include "nm_rehearse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "nm_dns.h"
#include "nm_fattr.h"
#include "nm_fsloc.h"
#include "nm_nfs4.h"
#include "nm_rehearse_int.h"
#include "nm_target.h"
#include "nm_time.h"

/* "SEQUENCE,PUTFH,OPEN" of what was sent. */
static void rpc_names(const struct nm_reh_conn *cl, const nfs_argop4 *ops, unsigned n, char *buf,
		      size_t cap)
{
	size_t len = 0;

	buf[0] = 0;
	if (cl->c && nm_nfs4_minor(cl->c) > 0)
		len = (size_t)snprintf(buf, cap, "SEQUENCE");
	for (unsigned i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? "," : "",
					nm_nfs4_op_name(ops[i].argop));
}

int nm_reh_call_ms(const struct nm_reh_engine *e)
{
	return nm_reh_stopped(e) && e->o->timeout_ms > NM_REH_LET_GO_MS ? NM_REH_LET_GO_MS
									: e->o->timeout_ms;
}

/* One COMPOUND within the deadline; names what was sent into rpcs. */
int nm_reh_call(struct nm_reh_engine *e, struct nm_reh_conn *cl, nfs_argop4 *ops, unsigned n,
		struct nm_nfs4_reply *rep, char *rpcs, size_t cap, struct nm_err *err)
{
	rpc_names(cl, ops, n, rpcs, cap);
	if (!cl->c)
		return nm_err_set(err, -ENOTCONN, "%s: not connected", cl->host);
	nm_nfs4_set_call_ms(cl->c, nm_reh_call_ms(e));
	nm_nfs4_set_delay_deadline(cl->c, nm_time_ms() + nm_reh_call_ms(e));
	/* A stateful COMPOUND is never sent again on its DELAY: that is
	 * its answer. */
	if (nm_nfs4_ops_stateful(ops, n))
		return nm_nfs4_compound_stateful(cl->c, ops, n, rep, err);
	return nm_nfs4_compound(cl->c, ops, n, rep, err);
}

/* The status of the i-th result; false when the COMPOUND stopped before. */
bool nm_reh_res_status(const struct nm_nfs4_reply *rep, unsigned i, nfsstat4 *st)
{
	if (i >= rep->nops)
		return false;
	*st = nm_nfs4_resop_status(&rep->ops[i]);
	return true;
}

/* The first failing status of a reply, and which operation. */
nfsstat4 nm_reh_failed_op(const struct nm_nfs4_reply *rep, const char **op)
{
	*op = "";
	for (unsigned i = 0; i < rep->nops; i++) {
		nfsstat4 st = nm_nfs4_resop_status(&rep->ops[i]);

		if (st != NFS4_OK) {
			*op = nm_nfs4_op_name(rep->ops[i].resop);
			return st;
		}
	}
	return rep->status;
}

void nm_reh_op_putfh(nfs_argop4 *op, unsigned char *fh, unsigned len)
{
	op->argop = OP_PUTFH;
	op->nfs_argop4_u.opputfh.object.nfs_fh4_len = len;
	op->nfs_argop4_u.opputfh.object.nfs_fh4_val = (char *)fh;
}

/* A handle from the wire kept in dst (NFS4_FHSIZE bytes) when it is one:
 * 1 to NFS4_FHSIZE bytes (RFC 7530 4.2.1); else dst stays as it was. */
bool nm_reh_keep_fh(unsigned char *dst, unsigned *dlen, const nfs_fh4 *fh)
{
	if (fh->nfs_fh4_len == 0 || fh->nfs_fh4_len > NFS4_FHSIZE || !fh->nfs_fh4_val)
		return false;
	memcpy(dst, fh->nfs_fh4_val, fh->nfs_fh4_len);
	*dlen = fh->nfs_fh4_len;
	return true;
}

/* PUTROOTFH + LOOKUP of each component of path; returns the ops used. */
unsigned nm_reh_op_lookup_path(nfs_argop4 *ops, unsigned cap, char *path, struct nm_err *err)
{
	unsigned n = 0;
	char *save = NULL;

	ops[n++].argop = OP_PUTROOTFH;
	for (char *c = strtok_r(path, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (n + 4 >= cap) {
			nm_err_set(err, -E2BIG, "too many path components");
			return 0;
		}
		ops[n].argop = OP_LOOKUP;
		ops[n].nfs_argop4_u.oplookup.objname.utf8str_cs_len = (unsigned)strlen(c);
		ops[n].nfs_argop4_u.oplookup.objname.utf8str_cs_val = c;
		n++;
	}
	return n;
}

/* RFC 7530 9.1.7: a 4.0 seqid-mutating operation (OPEN, OPEN_CONFIRM,
 * OPEN_DOWNGRADE, CLOSE, LOCK, LOCKU) advances its owner's seqid on every
 * answer but these, which say the request was never taken in order. */
bool nm_reh_seqid_bumps(nfsstat4 st)
{
	switch (st) {
	case NFS4ERR_STALE_CLIENTID:
	case NFS4ERR_STALE_STATEID:
	case NFS4ERR_BAD_STATEID:
	case NFS4ERR_BAD_SEQID:
	case NFS4ERR_BADXDR:
	case NFS4ERR_RESOURCE:
	case NFS4ERR_NOFILEHANDLE:
	case NFS4ERR_MOVED: return false;
	default: return true;
	}
}

/* The seqid to send: 4.0's owner's, 4.1+ 0 (sessions order requests). */
static seqid4 seqid_of(const struct nm_reh_conn *cl, seqid4 id)
{
	return nm_nfs4_minor(cl->c) == 0 ? id : 0;
}

/* After the answer st of a seqid-mutating operation on cl. */
static void seqid_next(const struct nm_reh_conn *cl, seqid4 *id, nfsstat4 st)
{
	if (nm_nfs4_minor(cl->c) == 0 && nm_reh_seqid_bumps(st))
		(*id)++;
}

static void owner_of(state_owner4 *o, clientid4 id, char *name)
{
	o->clientid = id;
	o->owner.owner_len = (unsigned)strlen(name);
	o->owner.owner_val = name;
}

static uint64_t checksum(const char *p, unsigned n)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (unsigned i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* An error that says the server did not answer (not that it said no). */
bool nm_reh_unanswered_rc(int rc)
{
	return rc == -ETIMEDOUT || rc == -ENOTCONN || rc == -ECONNREFUSED || rc == -ECONNRESET ||
	       rc == -EHOSTUNREACH || rc == -ENETUNREACH || rc == -EPIPE || rc == -EBADMSG ||
	       rc == -EPROTO || rc == -EIO;
}

/* name to one address, as nfsmigd resolves it (nm_dns: the hosts file,
 * then DNS or NSS as nfsmig.conf says), within the deadline; or through
 * the caller's hook.  1 when name was an address already, 0 resolved
 * (how says from where), -ENOENT no such name (an answer), another
 * negative errno when not answered. */
int nm_reh_resolve_name(struct nm_reh_engine *e, const char *name, char *addr, size_t cap,
			char *how, size_t howcap, struct nm_err *err)
{
	struct nm_dns_answer a = { .status = NM_DNS_TEMPFAIL };
	int rc;

	if (e->o->resolve) {
		snprintf(how, howcap, "given");
		return e->o->resolve(e->o->arg, name, addr, cap, err);
	}
	rc = nm_dns_resolve(e->o->conf, name, true, true, e->o->timeout_ms, &a, err);
	if (rc < 0)
		return rc == -ENOENT ? -EAGAIN : rc;
	if (a.status != NM_DNS_OK || a.naddr == 0)
		return nm_err_set(err,
				  a.status == NM_DNS_NXDOMAIN || a.status == NM_DNS_NODATA ||
						  a.status == NM_DNS_OK
					  ? -ENOENT
					  : -EAGAIN,
				  "%s", a.why[0] ? a.why : nm_dns_status_name(a.status));
	nm_dns_addr_str(&a.addr[0], addr, cap);
	snprintf(how, howcap, "%s, %zu address%s", nm_dns_source_name(&a), a.naddr,
		 a.naddr == 1 ? "" : "es");
	return a.numeric ? 1 : 0;
}

/* A client of host, shared by every file system that uses it. */
struct nm_reh_conn *nm_reh_client_get(struct nm_reh_engine *e, struct nm_reh_fs *s,
				      const char *host, bool dest, struct nm_err *err)
{
	struct nm_nfs4_opts no = { 0 };
	struct nm_reh_conn *cl;
	int rc;

	for (size_t i = 0; i < e->ncl; i++)
		if (e->cl[i].dest == dest && strcmp(e->cl[i].host, host) == 0) {
			if (!e->cl[i].c) {
				/* Its first try failed: said again, as it was. */
				nm_err_set(err, e->cl[i].err_code, "%s", e->cl[i].why);
				nm_reh_step(e, s, "connect",
					    nm_reh_unanswered_rc(e->cl[i].err_code)
						    ? NM_REH_UNANSWERED
						    : NM_REH_FAILED,
					    "", "%s: %s", host, e->cl[i].why);
				return NULL;
			}
			e->cl[i].fs++;
			nm_reh_step(e, s, "connect", NM_REH_OK, "",
				    "%s: the client already there (shared by %u file systems)",
				    nm_nfs4_peer(e->cl[i].c), e->cl[i].fs);
			return &e->cl[i];
		}
	if (e->ncl >= NM_REH_MAX_CLIENTS) {
		nm_err_set(err, -E2BIG, "too many servers");
		return NULL;
	}
	cl = &e->cl[e->ncl++];
	memset(cl, 0, sizeof(*cl));
	snprintf(cl->host, sizeof(cl->host), "%s", host);
	cl->dest = dest;
	no.rpc.port = e->o->port;
	no.rpc.connect_ms = e->o->timeout_ms;
	no.rpc.call_ms = e->o->timeout_ms;
	no.minor = e->o->minor;
	no.sec = e->o->sec;
	no.owner = e->owner;
	no.verifier = e->verifier;
	rc = e->o->open_client ? e->o->open_client(e->o->arg, host, &no, &cl->c, err)
			       : nm_nfs4_open(host, &no, &cl->c, err);
	if (rc < 0) {
		nm_reh_step(e, s, "connect",
			    nm_reh_unanswered_rc(rc) ? NM_REH_UNANSWERED : NM_REH_FAILED, "",
			    "%s: %s", host, err->msg);
		cl->err_code = rc;
		snprintf(cl->why, sizeof(cl->why), "%s", err->msg);
		return NULL;
	}
	cl->fs = 1;
	nm_reh_step(e, s, "connect", NM_REH_OK,
		    nm_nfs4_minor(cl->c) ? "EXCHANGE_ID,CREATE_SESSION" : "",
		    "%s: NFSv4.%u, client owner %s", nm_nfs4_peer(cl->c), nm_nfs4_minor(cl->c),
		    e->owner);
	return cl;
}

/* 4.0: SETCLIENTID + SETCLIENTID_CONFIRM; 4.1+: RECLAIM_COMPLETE (after
 * the reclaims, if any). */
int nm_reh_client_setup(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl,
			struct nm_err *err)
{
	clientid4 id;
	int rc;

	if (nm_nfs4_minor(cl->c) == 0) {
		rc = nm_nfs4_clientid40(cl->c, &id, err);
		if (cl->dest) {
			/* The destination's client ID: recovery needs it. */
			s->f->ans.dest_setup_tried = true;
			s->f->ans.dest_setup_answered = rc == 0 || !nm_reh_unanswered_rc(rc);
			s->f->ans.dest_setup_ok = rc == 0;
		} else if (rc < 0 && !nm_reh_unanswered_rc(rc)) {
			s->f->ans.held_answered = true;
		}
		nm_reh_step(e, s, "clientid",
			    rc < 0 ? (nm_reh_unanswered_rc(rc) ? NM_REH_UNANSWERED : NM_REH_FAILED)
				   : NM_REH_OK,
			    "SETCLIENTID,SETCLIENTID_CONFIRM", "%s",
			    rc < 0 ? err->msg : "client ID confirmed");
		return rc;
	}
	if (!cl->reclaim_complete) {
		nfs_argop4 op = { .argop = OP_RECLAIM_COMPLETE };
		struct nm_nfs4_reply rep;
		char rpcs[64];

		op.nfs_argop4_u.opreclaim_complete.rca_one_fs = FALSE;
		rc = nm_reh_call(e, cl, &op, 1, &rep, rpcs, sizeof(rpcs), err);
		if (rc < 0) {
			nm_reh_step(e, s, "reclaim-complete", NM_REH_UNANSWERED, rpcs, "%s",
				    err->msg);
			return rc;
		}
		/* Said once per client, whatever it answered. */
		cl->reclaim_complete = true;
		rc = rep.status == NFS4_OK || rep.status == NFS4ERR_COMPLETE_ALREADY
			     ? 0
			     : nm_err_set(err, -EPROTO, "RECLAIM_COMPLETE answered %s",
					  NM_NFS4_STATUS(rep.status));
		nm_reh_step(e, s, "reclaim-complete", rc == 0 ? NM_REH_OK : NM_REH_FAILED, rpcs,
			    "%s", NM_NFS4_STATUS(rep.status));
		nm_nfs4_reply_free(&rep);
		return rc;
	}
	return 0;
}

/* A delegation granted though none was wanted (4.0 cannot say so; 4.1
 * said WANT_NO_DELEG): given back at once, PUTFH of the handle the OPEN's
 * GETFH gave (the reply rep, OPEN at n) + DELEGRETURN, so no recall is
 * ever waited on.  Its answer is a step. */
static void delegreturn(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl,
			const struct nm_nfs4_reply *rep, unsigned n)
{
	const open_delegation4 *d = &rep->ops[n].nfs_resop4_u.opopen.OPEN4res_u.resok4.delegation;
	unsigned char fh[NFS4_FHSIZE];
	unsigned fhlen = 0;
	nfs_argop4 ops[2];
	struct nm_nfs4_reply r2;
	struct nm_err err = { 0 };
	char rpcs[64];
	int rc;

	if (rep->nops <= n + 1 || nm_nfs4_resop_status(&rep->ops[n + 1]) != NFS4_OK ||
	    !nm_reh_keep_fh(fh, &fhlen,
			    &rep->ops[n + 1].nfs_resop4_u.opgetfh.GETFH4res_u.resok4.object)) {
		nm_reh_step(e, s, "delegreturn", NM_REH_FAILED, "",
			    "a delegation was granted, and no handle to give it back with");
		return;
	}
	memset(ops, 0, sizeof(ops));
	nm_reh_op_putfh(&ops[0], fh, fhlen);
	ops[1].argop = OP_DELEGRETURN;
	ops[1].nfs_argop4_u.opdelegreturn.deleg_stateid =
		d->delegation_type == OPEN_DELEGATE_READ ? d->open_delegation4_u.read.stateid
							 : d->open_delegation4_u.write.stateid;
	rc = nm_reh_call(e, cl, ops, 2, &r2, rpcs, sizeof(rpcs), &err);
	if (rc < 0) {
		nm_reh_step(e, s, "delegreturn", NM_REH_UNANSWERED, rpcs, "%s", err.msg);
		return;
	}
	nm_reh_step(e, s, "delegreturn", r2.status == NFS4_OK ? NM_REH_OK : NM_REH_FAILED, rpcs,
		    "a delegation granted unasked, given back: %s", NM_NFS4_STATUS(r2.status));
	nm_nfs4_reply_free(&r2);
}

/* CLOSE of an open whose handle could not be kept: the ops that led to
 * it again (the file's handle, or its directory and a LOOKUP of its
 * name), then CLOSE; its answer is not waited for past the deadline. */
static void close_unkept(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl,
			 nfs_argop4 *ops, unsigned n, open_claim_type4 claim)
{
	struct nm_nfs4_reply rep;
	struct nm_err err = { 0 };
	char rpcs[192];
	unsigned k = n;

	memset(&ops[k], 0, 2 * sizeof(ops[k]));
	if (claim == CLAIM_NULL) {
		ops[k].argop = OP_LOOKUP;
		ops[k].nfs_argop4_u.oplookup.objname.utf8str_cs_len = (unsigned)strlen(s->name);
		ops[k++].nfs_argop4_u.oplookup.objname.utf8str_cs_val = s->name;
	}
	ops[k].argop = OP_CLOSE;
	ops[k].nfs_argop4_u.opclose.seqid = seqid_of(cl, s->open_seqid);
	ops[k++].nfs_argop4_u.opclose.open_stateid = s->open_sid;
	if (nm_reh_call(e, cl, ops, k, &rep, rpcs, sizeof(rpcs), &err) == 0) {
		nfsstat4 st;

		if (nm_reh_res_status(&rep, k - 1, &st))
			seqid_next(cl, &s->open_seqid, st);
		nm_nfs4_reply_free(&rep);
	}
}

/* OPEN (claim, on the current handle or by name in the directory of ops
 * already there), OPEN_CONFIRM when asked.  Returns 1 opened, 0 answered
 * no (*st says), <0 not answered. */
int nm_reh_open(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl,
		nfs_argop4 *ops, unsigned n, open_claim_type4 claim, nfsstat4 *st, char *rpcs,
		size_t cap, struct nm_err *err)
{
	struct nm_nfs4_reply rep;
	OPEN4args *a = &ops[n].nfs_argop4_u.opopen;
	unsigned minor = nm_nfs4_minor(cl->c);
	int rc;

	memset(&ops[n], 0, sizeof(ops[n]));
	ops[n].argop = OP_OPEN;
	a->seqid = seqid_of(cl, s->open_seqid);
	a->share_access =
		OPEN4_SHARE_ACCESS_READ | (minor > 0 ? OPEN4_SHARE_ACCESS_WANT_NO_DELEG : 0);
	a->share_deny = OPEN4_SHARE_DENY_NONE;
	owner_of(&a->owner, nm_nfs4_clientid(cl->c), s->oowner);
	a->openhow.opentype = OPEN4_NOCREATE;
	a->claim.claim = claim;
	if (claim == CLAIM_NULL) {
		a->claim.open_claim4_u.file.utf8str_cs_len = (unsigned)strlen(s->name);
		a->claim.open_claim4_u.file.utf8str_cs_val = s->name;
	} else {
		a->claim.open_claim4_u.delegate_type = OPEN_DELEGATE_NONE;
	}
	ops[n + 1].argop = OP_GETFH;
	rc = nm_reh_call(e, cl, ops, n + 2, &rep, rpcs, cap, err);
	if (rc < 0)
		return rc;
	if (!nm_reh_res_status(&rep, n, st)) {
		const char *op;

		*st = nm_reh_failed_op(&rep, &op);
		nm_nfs4_reply_free(&rep);
		return 0;
	}
	seqid_next(cl, &s->open_seqid, *st);
	if (*st != NFS4_OK) {
		nm_nfs4_reply_free(&rep);
		return 0;
	}
	{
		OPEN4resok *ok = &rep.ops[n].nfs_resop4_u.opopen.OPEN4res_u.resok4;
		bool confirm = ok->rflags & OPEN4_RESULT_CONFIRM;
		bool fh_ok = false;

		s->open_sid = ok->stateid;
		if (ok->delegation.delegation_type == OPEN_DELEGATE_READ ||
		    ok->delegation.delegation_type == OPEN_DELEGATE_WRITE)
			delegreturn(e, s, cl, &rep, n);
		if (rep.nops > n + 1 && nm_nfs4_resop_status(&rep.ops[n + 1]) == NFS4_OK) {
			nfs_fh4 *fh =
				&rep.ops[n + 1].nfs_resop4_u.opgetfh.GETFH4res_u.resok4.object;

			fh_ok = nm_reh_keep_fh(s->fh, &s->fhlen, fh);
		}
		if (!fh_ok) {
			/* Opened, but no handle of it to keep: never the old
			 * one.  Closed again where it was opened. */
			*st = rep.nops > n + 1 && nm_nfs4_resop_status(&rep.ops[n + 1]) != NFS4_OK
				      ? nm_nfs4_resop_status(&rep.ops[n + 1])
				      : NFS4ERR_BADHANDLE;
			nm_nfs4_reply_free(&rep);
			close_unkept(e, s, cl, ops, n, claim);
			return 0;
		}
		nm_nfs4_reply_free(&rep);
		if (confirm && minor == 0) {
			nfs_argop4 c[2];
			char more[64];

			nm_reh_op_putfh(&c[0], s->fh, s->fhlen);
			c[1].argop = OP_OPEN_CONFIRM;
			c[1].nfs_argop4_u.opopen_confirm.open_stateid = s->open_sid;
			c[1].nfs_argop4_u.opopen_confirm.seqid = s->open_seqid;
			rc = nm_reh_call(e, cl, c, 2, &rep, more, sizeof(more), err);
			if (rc < 0)
				return rc;
			if (!nm_reh_res_status(&rep, 1, st)) {
				*st = rep.status;
				nm_nfs4_reply_free(&rep);
				return 0;
			}
			seqid_next(cl, &s->open_seqid, *st);
			if (*st != NFS4_OK) {
				nm_nfs4_reply_free(&rep);
				return 0;
			}
			s->open_sid = rep.ops[1]
					      .nfs_resop4_u.opopen_confirm.OPEN_CONFIRM4res_u.resok4
					      .open_stateid;
			nm_nfs4_reply_free(&rep);
			strncat(rpcs, ";PUTFH,OPEN_CONFIRM", cap - strlen(rpcs) - 1);
		}
	}
	s->opened = true;
	s->cl = cl;
	return 1;
}

/* LOCK a read range with a new lock owner.  1 locked, 0 answered no
 * (*st; NFS4ERR_DENIED: another owner holds it), <0 not answered. */
int nm_reh_lock(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl, bool reclaim,
		nfsstat4 *st, char *rpcs, size_t cap, struct nm_err *err)
{
	nfs_argop4 ops[2];
	LOCK4args *a = &ops[1].nfs_argop4_u.oplock;
	open_to_lock_owner4 *ol = &a->locker.locker4_u.open_owner;
	struct nm_nfs4_reply rep;
	int rc;

	memset(ops, 0, sizeof(ops));
	nm_reh_op_putfh(&ops[0], s->fh, s->fhlen);
	ops[1].argop = OP_LOCK;
	a->locktype = READ_LT;
	a->reclaim = reclaim;
	a->offset = 0;
	a->length = NM_REH_BLOCK;
	a->locker.new_lock_owner = TRUE;
	ol->open_seqid = seqid_of(cl, s->open_seqid);
	ol->open_stateid = s->open_sid;
	ol->lock_seqid = 0;
	owner_of(&ol->lock_owner, nm_nfs4_clientid(cl->c), s->lowner);
	rc = nm_reh_call(e, cl, ops, 2, &rep, rpcs, cap, err);
	if (rc < 0)
		return rc;
	if (!nm_reh_res_status(&rep, 1, st)) {
		*st = rep.status;
		nm_nfs4_reply_free(&rep);
		return 0;
	}
	seqid_next(cl, &s->open_seqid, *st);
	if (*st == NFS4_OK) {
		s->lock_sid = rep.ops[1].nfs_resop4_u.oplock.LOCK4res_u.resok4.lock_stateid;
		s->lock_clientid = nm_nfs4_clientid(cl->c);
		s->lock_seqid = 1;
		s->locked = true;
	}
	nm_nfs4_reply_free(&rep);
	return *st == NFS4_OK ? 1 : 0;
}

/* READ the first block with the open stateid.  1 read (*sum, *len), 0
 * answered no (*st), <0 not answered. */
int nm_reh_read(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl, uint64_t *sum,
		unsigned *len, nfsstat4 *st, char *rpcs, size_t cap, struct nm_err *err)
{
	nfs_argop4 ops[2];
	struct nm_nfs4_reply rep;
	int rc;

	memset(ops, 0, sizeof(ops));
	nm_reh_op_putfh(&ops[0], s->fh, s->fhlen);
	ops[1].argop = OP_READ;
	ops[1].nfs_argop4_u.opread.stateid = s->locked ? s->lock_sid : s->open_sid;
	ops[1].nfs_argop4_u.opread.offset = 0;
	ops[1].nfs_argop4_u.opread.count = NM_REH_BLOCK;
	rc = nm_reh_call(e, cl, ops, 2, &rep, rpcs, cap, err);
	if (rc < 0)
		return rc;
	if (!nm_reh_res_status(&rep, 1, st)) {
		*st = rep.status;
		nm_nfs4_reply_free(&rep);
		return 0;
	}
	if (*st == NFS4_OK) {
		READ4resok *ok = &rep.ops[1].nfs_resop4_u.opread.READ4res_u.resok4;

		if (ok->data.data_len > NM_REH_BLOCK) {
			/* More than asked: not an answer to this READ. */
			unsigned got = ok->data.data_len;

			nm_nfs4_reply_free(&rep);
			return nm_err_set(err, -EPROTO, "%s: READ of %u bytes answered %u",
					  cl->host, NM_REH_BLOCK, got);
		}
		*sum = checksum(ok->data.data_val, ok->data.data_len);
		*len = ok->data.data_len;
	}
	nm_nfs4_reply_free(&rep);
	return *st == NFS4_OK ? 1 : 0;
}

/* Let go of what s holds where it holds it: LOCKU, CLOSE, and 4.0's
 * RELEASE_LOCKOWNER.  Answers are not waited for past the deadline. */
void nm_reh_release(struct nm_reh_engine *e, struct nm_reh_fs *s)
{
	struct nm_nfs4_reply rep;
	struct nm_err err = { 0 };
	nfs_argop4 ops[4];
	char rpcs[128];
	unsigned n = 0;
	int rc;

	if (!s->cl || !s->cl->c || (!s->opened && !s->locked))
		return;
	memset(ops, 0, sizeof(ops));
	nm_reh_op_putfh(&ops[n++], s->fh, s->fhlen);
	if (s->locked) {
		LOCKU4args *u = &ops[n].nfs_argop4_u.oplocku;

		ops[n++].argop = OP_LOCKU;
		u->locktype = READ_LT;
		u->seqid = seqid_of(s->cl, s->lock_seqid);
		u->lock_stateid = s->lock_sid;
		u->offset = 0;
		u->length = NM_REH_BLOCK;
	}
	if (s->opened) {
		ops[n].argop = OP_CLOSE;
		ops[n].nfs_argop4_u.opclose.seqid = seqid_of(s->cl, s->open_seqid);
		ops[n++].nfs_argop4_u.opclose.open_stateid = s->open_sid;
	}
	rc = nm_reh_call(e, s->cl, ops, n, &rep, rpcs, sizeof(rpcs), &err);
	if (rc < 0) {
		nm_reh_step(e, s, "release", NM_REH_UNANSWERED, rpcs, "%s", err.msg);
	} else {
		const char *op;
		nfsstat4 st = nm_reh_failed_op(&rep, &op);

		nm_reh_step(e, s, "release", st == NFS4_OK ? NM_REH_OK : NM_REH_FAILED, rpcs,
			    "%s%s%s on %s", st == NFS4_OK ? "let go: " : op,
			    st == NFS4_OK ? "" : " answered ", NM_NFS4_STATUS(st), s->cl->host);
		nm_nfs4_reply_free(&rep);
	}
	if (s->locked && nm_nfs4_minor(s->cl->c) == 0) {
		/* The lock owner is the client ID its LOCK was made with (the
		 * source's still, after a transparent move). */
		ops[0].argop = OP_RELEASE_LOCKOWNER;
		owner_of(&ops[0].nfs_argop4_u.oprelease_lockowner.lock_owner, s->lock_clientid,
			 s->lowner);
		rc = nm_reh_call(e, s->cl, ops, 1, &rep, rpcs, sizeof(rpcs), &err);
		if (rc < 0) {
			nm_reh_step(e, s, "release-lockowner", NM_REH_UNANSWERED, rpcs, "%s",
				    err.msg);
		} else {
			nm_reh_step(e, s, "release-lockowner",
				    rep.status == NFS4_OK ? NM_REH_OK : NM_REH_FAILED, rpcs,
				    "lock owner of client ID %016" PRIx64 ": %s on %s",
				    (uint64_t)s->lock_clientid, NM_NFS4_STATUS(rep.status),
				    s->cl->host);
			nm_nfs4_reply_free(&rep);
		}
	}
	s->opened = s->locked = false;
}

/* Walk dir on cl: PUTROOTFH, LOOKUP..., GETFH, GETATTR(fh_expire_type).
 * 1 found (s->root), 0 answered no (*st, *op), <0 not answered. */
int nm_reh_walk_dir(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl,
		    const char *dir, nfsstat4 *st, const char **opname, char *rpcs, size_t cap,
		    struct nm_err *err)
{
	nfs_argop4 ops[NM_REH_MAX_COMPONENTS + 4];
	char buf[1024];
	uint32_t words[NM_FATTR_WORDS];
	enum nm_fattr_id ids[] = { NM_FATTR_FH_EXPIRE_TYPE, NM_FATTR_LEASE_TIME };
	struct nm_nfs4_reply rep;
	unsigned n;
	int rc;

	snprintf(buf, sizeof(buf), "%s", dir);
	memset(ops, 0, sizeof(ops));
	n = nm_reh_op_lookup_path(ops, NM_REH_MAX_COMPONENTS + 4, buf, err);
	if (n == 0)
		return -E2BIG;
	ops[n++].argop = OP_GETFH;
	ops[n].argop = OP_GETATTR;
	nm_fattr_mask(&ops[n].nfs_argop4_u.opgetattr.attr_request, words, ids, 2);
	n++;
	rc = nm_reh_call(e, cl, ops, n, &rep, rpcs, cap, err);
	if (rc < 0)
		return rc;
	*st = nm_reh_failed_op(&rep, opname);
	if (*st != NFS4_OK || rep.nops < n) {
		nm_nfs4_reply_free(&rep);
		return 0;
	}
	{
		nfs_fh4 *fh = &rep.ops[n - 2].nfs_resop4_u.opgetfh.GETFH4res_u.resok4.object;
		struct nm_fattr fa;
		struct nm_err ignored = { 0 };

		nm_reh_keep_fh(s->root, &s->rootlen, fh);
		if (nm_fattr_decode(
			    &rep.ops[n - 1]
				     .nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes,
			    &fa, &ignored) == 0) {
			s->fh_expire_type = fa.fh_expire_type;
			if (nm_fattr_has(&fa, NM_FATTR_LEASE_TIME) && fa.lease_time > 0)
				s->lease_s = fa.lease_time;
			nm_fattr_free(&fa);
		}
	}
	nm_nfs4_reply_free(&rep);
	return 1;
}
