/* nm_rehearse - the rehearsal's engine (nm_rehearse.h). */
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

bool nm_reh_stopped(const struct nm_reh_engine *e)
{
	return e->o->stop && *e->o->stop;
}

void nm_reh_step(struct nm_reh_engine *e, struct nm_reh_fs *s, const char *name,
		 enum nm_reh_status st, const char *rpcs, const char *fmt, ...)
{
	struct nm_reh_file *f = s->f;
	struct nm_reh_step *p;
	va_list ap;

	if (f->nsteps >= NM_REH_MAX_STEPS)
		p = &f->steps[NM_REH_MAX_STEPS - 1]; /* the last says the latest */
	else
		p = &f->steps[f->nsteps++];
	memset(p, 0, sizeof(*p));
	snprintf(p->step, sizeof(p->step), "%s", name);
	p->time_ms = nm_time_ms() - e->t0;
	snprintf(p->rpcs, sizeof(p->rpcs), "%s", rpcs ? rpcs : "");
	p->status = st;
	va_start(ap, fmt);
	vsnprintf(p->message, sizeof(p->message), fmt, ap);
	va_end(ap);
	if (e->o->step)
		e->o->step(e->o->arg, f, p);
}

/* Whether path has a "." or ".." component. */
static bool dotted(const char *path)
{
	for (const char *p = path; (p = strchr(p, '/')); p++) {
		size_t n = strcspn(p + 1, "/");

		if ((n == 1 && p[1] == '.') || (n == 2 && p[1] == '.' && p[2] == '.'))
			return true;
	}
	return false;
}

int nm_reh_file_spec(const char *spec, struct nm_reh_file *f, struct nm_err *err)
{
	struct nm_target t;
	const char *slash;
	int rc;

	memset(f, 0, sizeof(*f));
	if (!nm_target_is_remote(spec))
		return nm_err_set(err, -EINVAL, "'%s' is not SERVER:/PATH/FILE", spec);
	rc = nm_target_parse(spec, &t, err);
	if (rc < 0)
		return rc;
	slash = strrchr(t.path, '/');
	if (!slash || !slash[1] || strlen(t.path) >= sizeof(f->path) ||
	    strlen(t.host) >= sizeof(f->server)) {
		nm_target_free(&t);
		return nm_err_set(err, -EINVAL, "'%s' does not name a file: SERVER:/PATH/FILE",
				  spec);
	}
	if (dotted(t.path)) {
		nm_target_free(&t);
		return nm_err_set(err, -EINVAL, "'%s': a path without . or .. components, please",
				  spec);
	}
	snprintf(f->spec, sizeof(f->spec), "%s", spec);
	snprintf(f->server, sizeof(f->server), "%s", t.host);
	snprintf(f->path, sizeof(f->path), "%s", t.path);
	nm_target_free(&t);
	return 0;
}

/* Split f->path into dir and name. */
static void split_path(struct nm_reh_fs *s)
{
	const char *p = s->f->path;
	const char *slash = strrchr(p, '/');

	snprintf(s->dir, sizeof(s->dir), "%.*s", (int)(slash - p), p);
	snprintf(s->name, sizeof(s->name), "%s", slash + 1);
}

/* Step 1 for one file: walk, OPEN, LOCK, READ on the source. */
static void hold(struct nm_reh_engine *e, struct nm_reh_fs *s)
{
	struct nm_err err = { 0 };
	char rpcs[192];
	const char *op = "";
	nfsstat4 st;
	int rc;

	{
		/* Through the resolver nfsmigd uses; the client is the
		 * address's, so two names of one server share it. */
		char addr[INET6_ADDRSTRLEN + 2] = "", how[64];

		rc = nm_reh_resolve_name(e, s->f->server, addr, sizeof(addr), how, sizeof(how),
					 &err);
		if (rc < 0) {
			s->f->ans.held_answered = rc == -ENOENT;
			nm_reh_step(e, s, "resolve",
				    rc == -ENOENT ? NM_REH_FAILED : NM_REH_UNANSWERED, "", "%s: %s",
				    s->f->server, err.msg);
			return;
		}
		if (rc == 0)
			nm_reh_step(e, s, "resolve", NM_REH_OK, "", "%s: %s (%s)", s->f->server,
				    addr, how);
		s->src = nm_reh_client_get(e, s, addr, false, &err);
	}
	if (!s->src) {
		/* A server that answered no (a version it does not speak) did
		 * answer. */
		s->f->ans.held_answered = err.code < 0 && !nm_reh_unanswered_rc(err.code);
		return;
	}
	s->cl = s->src;
	s->minor = nm_nfs4_minor(s->src->c);
	if (nm_reh_client_setup(e, s, s->src, &err) < 0)
		return;
	rc = nm_reh_walk_dir(e, s, s->src, s->dir, &st, &op, rpcs, sizeof(rpcs), &err);
	if (rc < 0) {
		nm_reh_step(e, s, "lookup", NM_REH_UNANSWERED, rpcs, "%s", err.msg);
		return;
	}
	if (rc == 0) {
		if (st == NFS4ERR_MOVED) {
			s->f->ans.kind = NM_REH_KIND_REFERRAL;
			s->f->ans.held_answered = true;
			nm_reh_step(
				e, s, "moved", NM_REH_OK, rpcs,
				"%s answered NFS4ERR_MOVED on the way to %s: a referral, nothing "
				"held",
				op, s->dir);
			return;
		}
		s->f->ans.held_answered = true;
		nm_reh_step(e, s, "lookup", NM_REH_FAILED, rpcs, "%s answered %s for %s", op,
			    NM_NFS4_STATUS(st), s->dir);
		return;
	}
	nm_reh_step(e, s, "lookup", NM_REH_OK, rpcs,
		    "%s: root handle saved (%u bytes, fh_expire_type 0x%x, lease %u s)", s->dir,
		    s->rootlen, s->fh_expire_type, s->lease_s);
	{
		nfs_argop4 ops[3];

		memset(ops, 0, sizeof(ops));
		nm_reh_op_putfh(&ops[0], s->root, s->rootlen);
		rc = nm_reh_open(e, s, s->src, ops, 1, CLAIM_NULL, &st, rpcs, sizeof(rpcs), &err);
	}
	if (rc <= 0) {
		s->f->ans.held_answered = rc == 0;
		if (rc < 0)
			nm_reh_step(e, s, "open", NM_REH_UNANSWERED, rpcs, "%s", err.msg);
		else
			nm_reh_step(e, s, "open", NM_REH_FAILED, rpcs, "OPEN of %s answered %s",
				    s->name, NM_NFS4_STATUS(st));
		if (rc == 0 && st == NFS4ERR_MOVED) {
			s->f->ans.kind = NM_REH_KIND_REFERRAL;
			nm_reh_step(e, s, "moved", NM_REH_OK, rpcs,
				    "OPEN answered NFS4ERR_MOVED: nothing held");
		}
		return;
	}
	nm_reh_step(e, s, "open", NM_REH_OK, rpcs, "%s opened for reading, stateid seqid %u",
		    s->name, s->open_sid.seqid);
	rc = nm_reh_lock(e, s, s->src, false, &st, rpcs, sizeof(rpcs), &err);
	if (rc <= 0) {
		s->f->ans.held_answered = rc == 0;
		if (rc < 0)
			nm_reh_step(e, s, "lock", NM_REH_UNANSWERED, rpcs, "%s", err.msg);
		else
			nm_reh_step(e, s, "lock", NM_REH_FAILED, rpcs, "LOCK of %s answered %s",
				    s->name, NM_NFS4_STATUS(st));
		return;
	}
	nm_reh_step(e, s, "lock", NM_REH_OK, rpcs, "read lock on bytes 0-%u", NM_REH_BLOCK - 1);
	rc = nm_reh_read(e, s, s->src, &s->f->sum_src, &s->f->len_src, &st, rpcs, sizeof(rpcs),
			 &err);
	if (rc <= 0) {
		s->f->ans.held_answered = rc == 0;
		if (rc < 0)
			nm_reh_step(e, s, "read", NM_REH_UNANSWERED, rpcs, "%s", err.msg);
		else
			nm_reh_step(e, s, "read", NM_REH_FAILED, rpcs, "READ of %s answered %s",
				    s->name, NM_NFS4_STATUS(st));
		return;
	}
	nm_reh_step(e, s, "read", NM_REH_OK, rpcs, "%u bytes, checksum %016" PRIx64, s->f->len_src,
		    s->f->sum_src);
	s->f->ans.held_answered = true;
	s->f->ans.held = true;
	s->last_proof_ms = nm_time_ms();
}

/* PUTFH(handle) + GETFH: NFS4ERR_MOVED says the file system moved.  1
 * moved, 0 still here, <0 not answered. */
static int probe(struct nm_reh_engine *e, struct nm_reh_fs *s, unsigned char *fh, unsigned len,
		 const char *what, struct nm_err *err)
{
	nfs_argop4 ops[2];
	struct nm_nfs4_reply rep;
	char rpcs[64];
	const char *op;
	nfsstat4 st;
	int rc;

	memset(ops, 0, sizeof(ops));
	nm_reh_op_putfh(&ops[0], fh, len);
	ops[1].argop = OP_GETFH;
	rc = nm_reh_call(e, s->src, ops, 2, &rep, rpcs, sizeof(rpcs), err);
	if (rc < 0)
		return rc;
	st = nm_reh_failed_op(&rep, &op);
	nm_nfs4_reply_free(&rep);
	if (st == NFS4ERR_MOVED) {
		snprintf(s->moved_how, sizeof(s->moved_how), "%s of %s answered NFS4ERR_MOVED", op,
			 what);
		return 1;
	}
	if (st != NFS4_OK)
		return nm_err_set(err, -EPROTO, "%s of %s answered %s", op, what,
				  NM_NFS4_STATUS(st));
	return 0;
}

/* sr_status_flags that say state was revoked (RFC 8881 18.46.3). */
#define NM_REH_SEQ_ALL_REVOKED	  0x00000008u /* EXPIRED_ALL_STATE_REVOKED */
#define NM_REH_SEQ_SOME_REVOKED	  0x00000010u /* EXPIRED_SOME_STATE_REVOKED */
#define NM_REH_SEQ_ADMIN_REVOKED  0x00000020u /* ADMIN_STATE_REVOKED */
#define NM_REH_SEQ_RECALL_REVOKED 0x00000040u /* RECALLABLE_STATE_REVOKED */
#define NM_REH_SEQ_RECLAIM_NEEDED 0x00000100u /* RESTART_RECLAIM_NEEDED */
#define NM_REH_SEQ_SOME_STATE_LOST                                                                 \
	(NM_REH_SEQ_SOME_REVOKED | NM_REH_SEQ_ADMIN_REVOKED | NM_REH_SEQ_RECALL_REVOKED)

/* s's state is gone on its source while nothing moved: its verdict is
 * "state lost", nothing left to let go. */
static void state_lost(struct nm_reh_engine *e, struct nm_reh_fs *s, const char *rpcs,
		       const char *why)
{
	nm_reh_step(e, s, "lease", NM_REH_FAILED, rpcs, "%s: the state held on %s is lost", why,
		    s->src->host);
	s->done = true;
	s->opened = s->locked = false;
	s->f->ans.kind = NM_REH_KIND_NONE;
	s->f->ans.still_answered = true;
	s->f->ans.still_held = false;
}

/* 4.1+: some state revoked: TEST_STATEID of s's stateids on its source
 * says whether it was s's.  True when it was (or the test said no
 * stateid is valid). */
static bool revoked(struct nm_reh_engine *e, struct nm_reh_fs *s, char *rpcs, size_t cap)
{
	nfs_argop4 op = { .argop = OP_TEST_STATEID };
	stateid4 ids[2] = { s->open_sid, s->lock_sid };
	struct nm_nfs4_reply rep;
	struct nm_err err = { 0 };
	TEST_STATEID4resok *ok;
	bool gone = false;

	op.nfs_argop4_u.optest_stateid.ts_stateids.ts_stateids_len = s->locked ? 2 : 1;
	op.nfs_argop4_u.optest_stateid.ts_stateids.ts_stateids_val = ids;
	if (nm_reh_call(e, s->src, &op, 1, &rep, rpcs, cap, &err) < 0)
		return false; /* the next poll asks again */
	if (rep.status != NFS4_OK || rep.nops < 1) {
		nm_nfs4_reply_free(&rep);
		return false;
	}
	ok = &rep.ops[0].nfs_resop4_u.optest_stateid.TEST_STATEID4res_u.tsr_resok4;
	for (unsigned i = 0; i < ok->tsr_status_codes.tsr_status_codes_len; i++)
		if (ok->tsr_status_codes.tsr_status_codes_val[i] != NFS4_OK)
			gone = true;
	nm_nfs4_reply_free(&rep);
	return gone;
}

/* One round of the wait on the source client cl: the lease (4.0 RENEW;
 * 4.1 SEQUENCE's flags), and each held file.  Returns how many moved, <0
 * when the server did not answer. */
static int poll_client(struct nm_reh_engine *e, struct nm_reh_conn *cl, struct nm_err *err)
{
	bool lease_moved = false;
	int moved = 0, rc;
	struct nm_nfs4_reply rep;
	char rpcs[64], why[128] = "";
	uint32_t some_lost = 0;

	cl->renewed = false;
	if (nm_nfs4_minor(cl->c) == 0) {
		nfs_argop4 op = { .argop = OP_RENEW };

		op.nfs_argop4_u.oprenew.clientid = nm_nfs4_clientid(cl->c);
		rc = nm_reh_call(e, cl, &op, 1, &rep, rpcs, sizeof(rpcs), err);
		if (rc < 0)
			return rc;
		lease_moved = rep.status == NFS4ERR_LEASE_MOVED;
		cl->renewed = rep.status == NFS4_OK;
		if (rep.status == NFS4ERR_EXPIRED || rep.status == NFS4ERR_STALE_CLIENTID ||
		    rep.status == NFS4ERR_ADMIN_REVOKED)
			snprintf(why, sizeof(why), "RENEW answered %s", NM_NFS4_STATUS(rep.status));
		nm_nfs4_reply_free(&rep);
	} else {
		nfs_argop4 none = { .argop = OP_RENEW }; /* not sent: SEQUENCE alone */
		uint32_t flags;

		rc = nm_reh_call(e, cl, &none, 0, &rep, rpcs, sizeof(rpcs), err);
		if (rc < 0)
			return rc;
		nm_nfs4_reply_free(&rep);
		flags = nm_nfs4_seq_flags_take(cl->c);
		lease_moved = flags & SEQ4_STATUS_LEASE_MOVED;
		some_lost = flags & NM_REH_SEQ_SOME_STATE_LOST;
		cl->renewed = !(flags & (NM_REH_SEQ_ALL_REVOKED | NM_REH_SEQ_RECLAIM_NEEDED |
					 NM_REH_SEQ_SOME_STATE_LOST));
		if (flags & (NM_REH_SEQ_ALL_REVOKED | NM_REH_SEQ_RECLAIM_NEEDED))
			snprintf(why, sizeof(why), "SEQUENCE set %s",
				 flags & NM_REH_SEQ_ALL_REVOKED
					 ? "SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED"
					 : "SEQ4_STATUS_RESTART_RECLAIM_NEEDED");
	}
	for (size_t i = 0; i < e->r->nfiles; i++) {
		struct nm_reh_fs *s = &e->fs[i];
		char trpcs[64];

		if (s->src != cl || !s->f->ans.held || s->moved || s->done)
			continue;
		if (why[0]) {
			state_lost(e, s, rpcs, why);
			continue;
		}
		if (some_lost && revoked(e, s, trpcs, sizeof(trpcs))) {
			state_lost(e, s, trpcs,
				   "SEQUENCE said state was revoked and TEST_STATEID found it was "
				   "this file's");
			continue;
		}
		if (lease_moved) {
			/* Probe with the saved root handle (the seed's way). */
			rc = probe(e, s, s->root, s->rootlen, "the saved root handle", err);
			if (rc < 0) {
				nm_reh_step(e, s, "probe", NM_REH_UNANSWERED, "PUTFH,GETFH", "%s",
					    err->msg);
				continue;
			}
			if (!s->lease_moved_said) /* once per file system */
				nm_reh_step(e, s, "lease-moved", NM_REH_OK, rpcs,
					    "%s: probing each file system held with its saved root "
					    "handle",
					    nm_nfs4_minor(cl->c)
						    ? "SEQUENCE set SEQ4_STATUS_LEASE_MOVED"
						    : "RENEW answered NFS4ERR_LEASE_MOVED");
			s->lease_moved_said = true;
		} else {
			rc = probe(e, s, s->fh, s->fhlen, "the held file", err);
			if (rc < 0)
				return rc;
		}
		if (rc == 1) {
			s->moved = true;
			moved++;
		} else if (!lease_moved) {
			s->last_proof_ms = nm_time_ms();
		}
	}
	return moved;
}

static void sleep_interval(struct nm_reh_engine *e, int64_t until)
{
	int64_t period = e->o->interval_ms;
	int64_t end;

	/* The lease is kept alive: never longer than a third of the
	 * shortest lease_time of a held file's server. */
	for (size_t i = 0; i < e->r->nfiles; i++)
		if (e->fs[i].lease_s && period > (int64_t)e->fs[i].lease_s * 1000 / 3)
			period = (int64_t)e->fs[i].lease_s * 1000 / 3;
	end = nm_time_ms() + period;

	if (end > until)
		end = until;
	while (!nm_reh_stopped(e) && nm_time_ms() < end) {
		int64_t left = end - nm_time_ms();

		nm_time_sleep_ms(left < 100 ? left : 100);
	}
}

static void follow(struct nm_reh_engine *e, struct nm_reh_fs *s);
static void settle(struct nm_reh_engine *e);

/* Steps 2 and 3: wait until every held file moved, the wait ends, or a
 * signal.  A file system is followed (steps 4-9) as soon as its move is
 * seen, while the others are still polled: one that does not move never
 * holds back the recovery of one that did. */
static void wait_move(struct nm_reh_engine *e)
{
	int64_t until = nm_time_ms() + (e->o->now ? 0 : e->o->wait_ms);
	/* Progress every 10 polls, at least 1 s and at most 10 s apart. */
	int64_t period = e->o->interval_ms * 10 < 1000	  ? 1000
			 : e->o->interval_ms * 10 > 10000 ? 10000
							  : e->o->interval_ms * 10;
	int64_t next_progress = nm_time_ms() + period;
	unsigned polls = 0;
	bool first = true;

	while (!nm_reh_stopped(e)) {
		bool pending = false;

		for (size_t k = 0; k < e->ncl; k++) {
			struct nm_reh_conn *cl = &e->cl[k];
			struct nm_err err = { 0 };
			int rc;

			if (cl->dest || !cl->c)
				continue;
			rc = poll_client(e, cl, &err);
			for (size_t i = 0; i < e->r->nfiles; i++) {
				struct nm_reh_fs *s = &e->fs[i];

				if (s->src != cl || !s->f->ans.held || s->done)
					continue;
				if (rc < 0) {
					nm_reh_step(e, s, "wait", NM_REH_UNANSWERED,
						    nm_nfs4_minor(cl->c) ? "SEQUENCE,PUTFH,GETFH"
									 : "RENEW,PUTFH,GETFH",
						    "%s", err.msg);
					s->done = true;
					continue;
				}
				if (s->moved) {
					s->f->ans.kind = NM_REH_KIND_MIGRATION;
					nm_reh_step(e, s, "moved", NM_REH_OK,
						    nm_nfs4_minor(cl->c) ? "SEQUENCE,PUTFH,GETFH"
									 : "RENEW,PUTFH,GETFH",
						    "%s: state was held, so a migration (not a "
						    "referral)",
						    s->moved_how);
					s->done = true;
					continue;
				}
				pending = true;
			}
			/* This source's moved file systems, at once. */
			for (size_t i = 0; i < e->r->nfiles && !nm_reh_stopped(e); i++) {
				struct nm_reh_fs *s = &e->fs[i];

				if (s->src == cl && s->moved && !s->followed)
					follow(e, s);
			}
		}
		settle(e);
		polls++;
		if (!pending || nm_reh_stopped(e) || e->o->now ||
		    (e->o->polls && polls >= e->o->polls))
			return;
		if (e->o->progress && nm_time_ms() >= next_progress) {
			size_t held = 0;
			bool renewed = true;

			for (size_t i = 0; i < e->r->nfiles; i++)
				if (e->fs[i].f->ans.held && !e->fs[i].done) {
					held++;
					renewed = renewed && e->fs[i].src->renewed;
				}
			e->o->progress(e->o->arg, nm_time_ms() - e->t0, polls, held, renewed);
			next_progress = nm_time_ms() + period;
		}
		if (first && e->o->waiting)
			e->o->waiting(e->o->arg, e->r->files, e->r->nfiles);
		first = false;
		if (nm_time_ms() >= until)
			return;
		sleep_interval(e, until);
	}
}

/* Step 5: fs_locations of the moved file system (4.0: RENEW of the
 * client ID in the same COMPOUND), into f->locs; fs_root's rest gives the
 * file's path there. */
static int get_locations(struct nm_reh_engine *e, struct nm_reh_fs *s, char *rest, size_t restcap)
{
	struct nm_reh_file *f = s->f;
	nfs_argop4 ops[3];
	uint32_t words[NM_FATTR_WORDS];
	enum nm_fattr_id ids[] = { NM_FATTR_FS_LOCATIONS };
	struct nm_nfs4_reply rep;
	struct nm_err err = { 0 };
	struct nm_fattr fa;
	char rpcs[96], root[1024] = "";
	unsigned n = 0;
	nfsstat4 st;
	const char *op;
	int rc;

	memset(ops, 0, sizeof(ops));
	nm_reh_op_putfh(&ops[n++], s->fh, s->fhlen);
	ops[n].argop = OP_GETATTR;
	nm_fattr_mask(&ops[n].nfs_argop4_u.opgetattr.attr_request, words, ids, 1);
	n++;
	/* 4.0: RENEW of the client ID after the GETATTR, in the same
	 * COMPOUND (RFC 7931, as Linux's nfs4_proc_get_locations): the
	 * server sees the client ask, and its LEASE_MOVED ends there. */
	if (nm_nfs4_minor(s->src->c) == 0) {
		ops[n].argop = OP_RENEW;
		ops[n++].nfs_argop4_u.oprenew.clientid = nm_nfs4_clientid(s->src->c);
	}
	rc = nm_reh_call(e, s->src, ops, n, &rep, rpcs, sizeof(rpcs), &err);
	if (rc < 0) {
		nm_reh_step(e, s, "fs_locations", NM_REH_UNANSWERED, rpcs, "%s", err.msg);
		return rc;
	}
	if (!nm_reh_res_status(&rep, 1, &st) || st != NFS4_OK) {
		st = nm_reh_failed_op(&rep, &op); /* PUTFH's or GETATTR's */
		nm_reh_step(e, s, "fs_locations", NM_REH_FAILED, rpcs, "%s answered %s", op,
			    NM_NFS4_STATUS(st));
		nm_nfs4_reply_free(&rep);
		return 0;
	}
	if (n == 3 && nm_reh_res_status(&rep, 2, &st) && st != NFS4_OK)
		nm_reh_step(e, s, "renew", NM_REH_INFO, "", "RENEW with it answered %s",
			    NM_NFS4_STATUS(st));
	rc = nm_fattr_decode(&rep.ops[1].nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes,
			     &fa, &err);
	nm_nfs4_reply_free(&rep);
	if (rc < 0 || !nm_fattr_has(&fa, NM_FATTR_FS_LOCATIONS)) {
		nm_reh_step(e, s, "fs_locations", NM_REH_FAILED, rpcs, "%s",
			    rc < 0 ? err.msg : "no fs_locations in the answer");
		if (rc == 0)
			nm_fattr_free(&fa);
		return 0;
	}
	{
		pathname4 *r = &fa.fs_locations.fs_root;

		for (unsigned i = 0; i < r->pathname4_len; i++)
			snprintf(root + strlen(root), sizeof(root) - strlen(root), "/%.*s",
				 (int)r->pathname4_val[i].utf8str_cs_len,
				 r->pathname4_val[i].utf8str_cs_val);
	}
	/* The file's path below fs_root: what follows it on the location. */
	if (root[0] && strncmp(f->path, root, strlen(root)) == 0 && f->path[strlen(root)] == '/')
		snprintf(rest, restcap, "%s", f->path + strlen(root));
	else
		snprintf(rest, restcap, "/%s", s->name);
	for (unsigned i = 0; i < fa.fs_locations.locations.locations_len; i++) {
		fs_location4 *l = &fa.fs_locations.locations.locations_val[i];

		for (unsigned j = 0; j < l->server.server_len && f->nlocs < NM_REH_MAX_LOCS; j++) {
			struct nm_reh_loc *out = &f->locs[f->nlocs];
			char *name = nm_fsloc_server(l->server.server_val[j].utf8str_cis_val,
						     l->server.server_val[j].utf8str_cis_len);

			if (!name)
				continue;
			snprintf(out->server, sizeof(out->server), "%s", name);
			free(name);
			out->path[0] = 0;
			for (unsigned k = 0; k < l->rootpath.pathname4_len; k++)
				snprintf(out->path + strlen(out->path),
					 sizeof(out->path) - strlen(out->path), "/%.*s",
					 (int)l->rootpath.pathname4_val[k].utf8str_cs_len,
					 l->rootpath.pathname4_val[k].utf8str_cs_val);
			if (!out->path[0])
				snprintf(out->path, sizeof(out->path), "/");
			f->nlocs++;
		}
	}
	nm_fattr_free(&fa);
	f->ans.locations = f->nlocs > 0;
	{
		char list[512] = "";

		for (unsigned i = 0; i < f->nlocs; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s:%s",
				 i ? ", " : "", f->locs[i].server, f->locs[i].path);
		nm_reh_step(e, s, "fs_locations", f->nlocs ? NM_REH_OK : NM_REH_FAILED, rpcs,
			    "fs_root %s; %s", root[0] ? root : "/",
			    f->nlocs ? list : "no locations");
	}
	return f->nlocs > 0;
}

/* Referral: the locations through nm_fsloc_query (path-based). */
static int referral_locations(struct nm_reh_engine *e, struct nm_reh_fs *s, char *rest,
			      size_t restcap)
{
	struct nm_reh_file *f = s->f;
	struct nm_fsloc_result q;
	struct nm_err err = { 0 };
	char list[512] = "";
	int rc;

	nm_nfs4_set_delay_deadline(s->src->c, nm_time_ms() + e->o->timeout_ms);
	rc = nm_fsloc_query(s->src->c, f->path, &q, &err);
	if (rc < 0) {
		nm_reh_step(e, s, "fs_locations",
			    rc == -ETIMEDOUT || rc == -ENOTCONN ? NM_REH_UNANSWERED : NM_REH_FAILED,
			    "PUTROOTFH,LOOKUP,GETATTR", "%s", err.msg);
		return rc == -ETIMEDOUT || rc == -ENOTCONN ? rc : 0;
	}
	snprintf(rest, restcap, "%s%s", q.rest[0] && q.rest[0] != '/' ? "/" : "", q.rest);
	for (size_t i = 0; i < q.nloc; i++)
		for (size_t j = 0; j < q.loc[i].nservers && f->nlocs < NM_REH_MAX_LOCS; j++) {
			snprintf(f->locs[f->nlocs].server, sizeof(f->locs[0].server), "%s",
				 q.loc[i].servers[j]);
			snprintf(f->locs[f->nlocs].path, sizeof(f->locs[0].path), "%s",
				 q.loc[i].rootpath);
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s:%s",
				 f->nlocs ? ", " : "", q.loc[i].servers[j], q.loc[i].rootpath);
			f->nlocs++;
		}
	f->ans.locations = f->nlocs > 0;
	nm_reh_step(e, s, "fs_locations", f->nlocs ? NM_REH_OK : NM_REH_FAILED,
		    "PUTROOTFH,LOOKUP,GETATTR", "%s is absent (a referral); %s", q.fs_path,
		    f->nlocs ? list : "no locations");
	nm_fsloc_result_free(&q);
	return f->nlocs > 0;
}

/* Steps 6 and 7: resolve each location through nm_dns, connect (one
 * client per destination server), check the flavor. */
static struct nm_reh_conn *walk_locations(struct nm_reh_engine *e, struct nm_reh_fs *s,
					  const char *rest)
{
	struct nm_reh_file *f = s->f;

	for (unsigned i = 0; i < f->nlocs && !nm_reh_stopped(e); i++) {
		struct nm_err err = { 0 };
		char addr[INET6_ADDRSTRLEN + 2] = "", how[64];
		struct nm_reh_conn *cl;
		int rc;

		if (!nm_target_host_name_ok(f->locs[i].server)) {
			nm_reh_step(e, s, "resolve", NM_REH_FAILED, "",
				    "location %u: '%s' is not a host name or address", i + 1,
				    f->locs[i].server);
			continue;
		}
		rc = nm_reh_resolve_name(e, f->locs[i].server, addr, sizeof(addr), how, sizeof(how),
					 &err);
		if (rc < 0) {
			nm_reh_step(e, s, "resolve",
				    rc == -ENOENT ? NM_REH_FAILED : NM_REH_UNANSWERED, "", "%s: %s",
				    f->locs[i].server, err.msg);
			continue;
		}
		nm_reh_step(e, s, "resolve", NM_REH_OK, "", "%s: %s (%s)", f->locs[i].server, addr,
			    how);
		cl = nm_reh_client_get(e, s, addr, true, &err);
		if (!cl)
			continue;
		f->ans.dest_connected = true;
		snprintf(f->destination, sizeof(f->destination), "%s", addr);
		snprintf(f->dest_path, sizeof(f->dest_path), "%s%s",
			 strcmp(f->locs[i].path, "/") == 0 ? "" : f->locs[i].path, rest);
		return cl;
	}
	return NULL;
}

/* SECINFO_NO_NAME (4.1+) or SECINFO (4.0) of the file's directory there:
 * does the destination offer AUTH_SYS (the only flavor nfsmig speaks)? */
static void check_flavor(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl)
{
	struct nm_reh_file *f = s->f;
	nfs_argop4 ops[NM_REH_MAX_COMPONENTS + 4];
	struct nm_nfs4_reply rep;
	struct nm_err err = { 0 };
	char rpcs[192], dir[1024], *slash, *name;
	const char *op;
	unsigned n;
	nfsstat4 st;
	SECINFO4res *res;
	int rc;

	snprintf(dir, sizeof(dir), "%s", f->dest_path);
	slash = strrchr(dir, '/');
	name = slash ? slash + 1 : dir;
	if (slash)
		*slash = 0;
	memset(ops, 0, sizeof(ops));
	n = nm_reh_op_lookup_path(ops, NM_REH_MAX_COMPONENTS + 2, dir, &err);
	if (n == 0) {
		nm_reh_step(e, s, "secinfo", NM_REH_FAILED, "", "%s", err.msg);
		f->ans.flavor_answered = true;
		return;
	}
	if (nm_nfs4_minor(cl->c) > 0) {
		ops[n].argop = OP_SECINFO_NO_NAME;
		ops[n++].nfs_argop4_u.opsecinfo_no_name = SECINFO_STYLE4_CURRENT_FH;
	} else {
		ops[n].argop = OP_SECINFO;
		ops[n].nfs_argop4_u.opsecinfo.name.utf8str_cs_len = (unsigned)strlen(name);
		ops[n++].nfs_argop4_u.opsecinfo.name.utf8str_cs_val = name;
	}
	rc = nm_reh_call(e, cl, ops, n, &rep, rpcs, sizeof(rpcs), &err);
	if (rc < 0) {
		nm_reh_step(e, s, "secinfo", NM_REH_UNANSWERED, rpcs, "%s", err.msg);
		return;
	}
	f->ans.flavor_answered = true;
	st = nm_reh_failed_op(&rep, &op);
	if (st == NFS4ERR_NOTSUPP || st == NFS4ERR_OP_ILLEGAL) {
		/* No SECINFO there: the flavor the connection uses answered. */
		f->ans.flavor_ok = true;
		nm_reh_step(e, s, "secinfo", NM_REH_OK, rpcs,
			    "%s answered %s: sys, the flavor in use, answers there", op,
			    NM_NFS4_STATUS(st));
		nm_nfs4_reply_free(&rep);
		return;
	}
	if (st != NFS4_OK || rep.nops < n) {
		nm_reh_step(e, s, "secinfo", NM_REH_FAILED, rpcs, "%s answered %s", op,
			    NM_NFS4_STATUS(st));
		nm_nfs4_reply_free(&rep);
		return;
	}
	res = nm_nfs4_minor(cl->c) > 0 ? &rep.ops[n - 1].nfs_resop4_u.opsecinfo_no_name
				       : &rep.ops[n - 1].nfs_resop4_u.opsecinfo;
	{
		char list[128] = "";

		for (unsigned i = 0; i < res->SECINFO4res_u.resok4.SECINFO4resok_len; i++) {
			unsigned fl = res->SECINFO4res_u.resok4.SECINFO4resok_val[i].flavor;

			if (fl == NM_REH_AUTH_SYS)
				f->ans.flavor_ok = true;
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 i ? "," : "",
				 fl == NM_REH_AUTH_SYS ? "sys"
				 : fl == 6	       ? "krb5"
				 : fl == 0	       ? "none"
						       : "other");
		}
		nm_reh_step(e, s, "secinfo", f->ans.flavor_ok ? NM_REH_OK : NM_REH_FAILED, rpcs,
			    "offers %s: %s", list[0] ? list : "nothing",
			    f->ans.flavor_ok ? "sys, the flavor in use, is there"
					     : "not sys, the flavor in use");
	}
	nm_nfs4_reply_free(&rep);
}

/* Step 8's first question: did the state come along? */
static void test_state(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl)
{
	struct nm_reh_file *f = s->f;
	struct nm_nfs4_reply rep;
	struct nm_err err = { 0 };
	char rpcs[96];
	int rc;

	if (strcmp(cl->host, s->src->host) == 0 || nm_nfs4_same_server(cl->c, s->src->c)) {
		/* The location is the source itself (its address, or 4.1's
		 * server_owner and scope): its old state answering there
		 * proves no move.  Recovered as if it had not come along. */
		f->ans.tsm_answered = true;
		f->ans.tsm = false;
		nm_reh_step(e, s, "state", NM_REH_FAILED, "",
			    "%s is the source itself (%s): the old state answering there is no "
			    "transparent move",
			    cl->host,
			    strcmp(cl->host, s->src->host) == 0
				    ? "the same address"
				    : "the same server_owner and scope");
		return;
	}
	if (nm_nfs4_minor(cl->c) == 0) {
		nfs_argop4 op = { .argop = OP_RENEW };

		op.nfs_argop4_u.oprenew.clientid = nm_nfs4_clientid(s->src->c);
		rc = nm_reh_call(e, cl, &op, 1, &rep, rpcs, sizeof(rpcs), &err);
		if (rc < 0) {
			nm_reh_step(e, s, "state", NM_REH_UNANSWERED, rpcs, "%s", err.msg);
			return;
		}
		f->ans.tsm_answered = true;
		f->ans.tsm = rep.status == NFS4_OK;
		nm_reh_step(e, s, "state", NM_REH_INFO, rpcs,
			    "RENEW of the source's client ID %016" PRIx64 " answered %s: %s",
			    (uint64_t)nm_nfs4_clientid(s->src->c), NM_NFS4_STATUS(rep.status),
			    f->ans.tsm ? "the state came along" : "the state did not come along");
		nm_nfs4_reply_free(&rep);
		return;
	}
	{
		nfs_argop4 op = { .argop = OP_TEST_STATEID };
		stateid4 ids[2] = { s->open_sid, s->lock_sid };
		TEST_STATEID4resok *ok;
		bool all = true;

		op.nfs_argop4_u.optest_stateid.ts_stateids.ts_stateids_len = s->locked ? 2 : 1;
		op.nfs_argop4_u.optest_stateid.ts_stateids.ts_stateids_val = ids;
		rc = nm_reh_call(e, cl, &op, 1, &rep, rpcs, sizeof(rpcs), &err);
		if (rc < 0) {
			nm_reh_step(e, s, "state", NM_REH_UNANSWERED, rpcs, "%s", err.msg);
			return;
		}
		f->ans.tsm_answered = true;
		if (rep.status != NFS4_OK || rep.nops < 1) {
			nm_reh_step(e, s, "state", NM_REH_INFO, rpcs, "TEST_STATEID answered %s",
				    NM_NFS4_STATUS(rep.status));
			nm_nfs4_reply_free(&rep);
			return;
		}
		ok = &rep.ops[0].nfs_resop4_u.optest_stateid.TEST_STATEID4res_u.tsr_resok4;
		if (ok->tsr_status_codes.tsr_status_codes_len < (s->locked ? 2u : 1u))
			all = false;
		for (unsigned i = 0; i < ok->tsr_status_codes.tsr_status_codes_len; i++)
			if (ok->tsr_status_codes.tsr_status_codes_val[i] != NFS4_OK)
				all = false;
		f->ans.tsm = all;
		nm_reh_step(e, s, "state", NM_REH_INFO, rpcs,
			    "TEST_STATEID of the open and lock stateids: %s%s%s",
			    ok->tsr_status_codes.tsr_status_codes_len
				    ? NM_NFS4_STATUS(ok->tsr_status_codes.tsr_status_codes_val[0])
				    : "no answer",
			    all ? ": the state came along" : ": the state did not come along", "");
		nm_nfs4_reply_free(&rep);
	}
}

/* FHEXPIRED or volatile handles: find the file again by its path there. */
static int reresolve(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl)
{
	char dir[1024], *slash, rpcs[192];
	const char *op;
	nfsstat4 st;
	struct nm_err err = { 0 };
	int rc;

	snprintf(dir, sizeof(dir), "%s", s->f->dest_path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	rc = nm_reh_walk_dir(e, s, cl, dir, &st, &op, rpcs, sizeof(rpcs), &err);
	if (rc <= 0) {
		nm_reh_step(e, s, "lookup", rc < 0 ? NM_REH_UNANSWERED : NM_REH_FAILED, rpcs, "%s",
			    rc < 0 ? err.msg : NM_NFS4_STATUS(st));
		return rc < 0 ? rc : -ENOENT;
	}
	nm_reh_step(e, s, "lookup", NM_REH_OK, rpcs, "%s found again by path on the destination",
		    dir);
	return 0;
}

/* The file's own handle again: its directory by path, then LOOKUP. */
static int refind_file(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl)
{
	nfs_argop4 ops[3];
	struct nm_nfs4_reply rep;
	struct nm_err err = { 0 };
	char rpcs[64];
	const char *op;
	nfsstat4 st;
	int rc = reresolve(e, s, cl);

	if (rc < 0)
		return rc;
	memset(ops, 0, sizeof(ops));
	nm_reh_op_putfh(&ops[0], s->root, s->rootlen);
	ops[1].argop = OP_LOOKUP;
	ops[1].nfs_argop4_u.oplookup.objname.utf8str_cs_len = (unsigned)strlen(s->name);
	ops[1].nfs_argop4_u.oplookup.objname.utf8str_cs_val = s->name;
	ops[2].argop = OP_GETFH;
	rc = nm_reh_call(e, cl, ops, 3, &rep, rpcs, sizeof(rpcs), &err);
	if (rc < 0) {
		nm_reh_step(e, s, "lookup", NM_REH_UNANSWERED, rpcs, "%s", err.msg);
		return rc;
	}
	st = nm_reh_failed_op(&rep, &op);
	if (st == NFS4_OK && rep.nops == 3) {
		nfs_fh4 *fh = &rep.ops[2].nfs_resop4_u.opgetfh.GETFH4res_u.resok4.object;

		nm_reh_keep_fh(s->fh, &s->fhlen, fh);
	}
	nm_nfs4_reply_free(&rep);
	nm_reh_step(e, s, "lookup", st == NFS4_OK ? NM_REH_OK : NM_REH_FAILED, rpcs, "%s: %s",
		    s->name, st == NFS4_OK ? "its handle there" : NM_NFS4_STATUS(st));
	return st == NFS4_OK ? 0 : -ENOENT;
}

/* Step 8 when the state did not come along: reclaim (the re-open, if it
 * is needed, comes after every file system's reclaim: reopen). */
static void recover(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl)
{
	struct nm_reh_file *f = s->f;
	struct nm_err err = { 0 };
	char rpcs[192];
	nfsstat4 st = NFS4_OK;
	nfs_argop4 ops[NM_REH_MAX_COMPONENTS + 6];
	int rc;

	s->opened = s->locked = false;
	s->open_seqid = s->lock_seqid = 0;
	snprintf(s->oowner + strlen(s->oowner), sizeof(s->oowner) - strlen(s->oowner), "+d");
	snprintf(s->lowner + strlen(s->lowner), sizeof(s->lowner) - strlen(s->lowner), "+d");
	if (nm_nfs4_minor(cl->c) == 0 && nm_reh_client_setup(e, s, cl, &err) < 0)
		return;
	/* Reclaim: OPEN(CLAIM_PREVIOUS) on the handle, LOCK(reclaim). */
	f->ans.reclaim_tried = true;
	memset(ops, 0, sizeof(ops));
	nm_reh_op_putfh(&ops[0], s->fh, s->fhlen);
	rc = nm_reh_open(e, s, cl, ops, 1, CLAIM_PREVIOUS, &st, rpcs, sizeof(rpcs), &err);
	if (rc == 0 &&
	    (st == NFS4ERR_FHEXPIRED || st == NFS4ERR_STALE || st == NFS4ERR_BADHANDLE)) {
		nm_reh_step(e, s, "reclaim", NM_REH_FAILED, rpcs,
			    "OPEN(CLAIM_PREVIOUS) answered %s: the handle does not hold there "
			    "(fh_expire_type 0x%x)",
			    NM_NFS4_STATUS(st), s->fh_expire_type);
		if (reresolve(e, s, cl) < 0) {
			f->ans.reclaim_answered = true;
			return;
		}
		memset(ops, 0, sizeof(ops));
		nm_reh_op_putfh(&ops[0], s->root, s->rootlen);
		ops[1].argop = OP_LOOKUP;
		ops[1].nfs_argop4_u.oplookup.objname.utf8str_cs_len = (unsigned)strlen(s->name);
		ops[1].nfs_argop4_u.oplookup.objname.utf8str_cs_val = s->name;
		rc = nm_reh_open(e, s, cl, ops, 2, CLAIM_PREVIOUS, &st, rpcs, sizeof(rpcs), &err);
	}
	if (rc < 0) {
		nm_reh_step(e, s, "reclaim", NM_REH_UNANSWERED, rpcs, "%s", err.msg);
		return;
	}
	f->ans.reclaim_answered = true;
	if (rc == 1) {
		char lrpcs[64];
		size_t used = strlen(rpcs);

		rc = nm_reh_lock(e, s, cl, true, &st, lrpcs, sizeof(lrpcs), &err);
		/* The step names both COMPOUNDs: the OPEN's, then the LOCK's. */
		snprintf(rpcs + used, sizeof(rpcs) - used, ";%s", lrpcs);
		if (rc < 0) {
			f->ans.reclaim_answered = false;
			nm_reh_step(e, s, "reclaim", NM_REH_UNANSWERED, rpcs, "%s", err.msg);
			return;
		}
		f->ans.reclaim_ok = rc == 1;
		nm_reh_step(e, s, "reclaim", rc == 1 ? NM_REH_OK : NM_REH_FAILED, rpcs,
			    rc == 1 ? "OPEN and LOCK reclaimed in the destination's grace period"
				    : "OPEN reclaimed, LOCK(reclaim) answered %s",
			    NM_NFS4_STATUS(st));
	} else {
		nm_reh_step(e, s, "reclaim", NM_REH_FAILED, rpcs,
			    "OPEN(CLAIM_PREVIOUS) answered %s%s", NM_NFS4_STATUS(st),
			    st == NFS4ERR_NO_GRACE ? ": the destination is not in its grace period"
						   : "");
	}
}

/* Step 8's last resort, once every reclaim on the destination is in and
 * (4.1+) RECLAIM_COMPLETE said: re-OPEN by name and re-LOCK. */
static void reopen(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl)
{
	struct nm_reh_file *f = s->f;
	struct nm_err err = { 0 };
	char rpcs[192];
	nfsstat4 st = NFS4_OK;
	nfs_argop4 ops[NM_REH_MAX_COMPONENTS + 6];
	int rc;

	if (s->opened)
		nm_reh_release(e, s);
	/* A lock owner of its own: the reclaim's may have been made (4.0:
	 * its seqid spent) by a LOCK that was refused. */
	snprintf(s->lowner + strlen(s->lowner), sizeof(s->lowner) - strlen(s->lowner), "+r");
	s->lock_seqid = 0;
	/* Re-OPEN by name and re-LOCK. */
	f->ans.reopen_tried = true;
	{
		char dir[1024], *slash;
		unsigned n;

		snprintf(dir, sizeof(dir), "%s", f->dest_path);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = 0;
		memset(ops, 0, sizeof(ops));
		n = nm_reh_op_lookup_path(ops, NM_REH_MAX_COMPONENTS + 2, dir, &err);
		if (n == 0) {
			f->ans.reopen_answered = true;
			nm_reh_step(e, s, "reopen", NM_REH_FAILED, "", "%s", err.msg);
			return;
		}
		rc = nm_reh_open(e, s, cl, ops, n, CLAIM_NULL, &st, rpcs, sizeof(rpcs), &err);
	}
	if (rc < 0) {
		nm_reh_step(e, s, "reopen", NM_REH_UNANSWERED, rpcs, "%s", err.msg);
		return;
	}
	f->ans.reopen_answered = true;
	f->ans.reopen_ok = rc == 1;
	nm_reh_step(e, s, "reopen", rc == 1 ? NM_REH_OK : NM_REH_FAILED, rpcs,
		    "OPEN(CLAIM_NULL) of %s: %s", f->dest_path,
		    NM_NFS4_STATUS(rc == 1 ? NFS4_OK : st));
	if (rc != 1)
		return;
	rc = nm_reh_lock(e, s, cl, false, &st, rpcs, sizeof(rpcs), &err);
	if (rc < 0) {
		nm_reh_step(e, s, "relock", NM_REH_UNANSWERED, rpcs, "%s", err.msg);
		return;
	}
	f->ans.relock_answered = true;
	f->ans.relock_ok = rc == 1;
	f->ans.relock_denied = rc == 0 && st == NFS4ERR_DENIED;
	f->ans.lock_gap_ms = nm_time_ms() - s->last_proof_ms;
	nm_reh_step(e, s, "relock", rc == 1 ? NM_REH_OK : NM_REH_FAILED, rpcs, "%s",
		    rc == 1 ? "read lock taken again"
		    : f->ans.relock_denied
			    ? "LOCK answered NFS4ERR_DENIED: another owner took the lock in the gap"
			    : NM_NFS4_STATUS(st));
	if (rc == 1)
		nm_reh_step(e, s, "gap", NM_REH_INFO, "",
			    "the lock was unprotected for %lld ms (last proof on the source to the "
			    "new lock)",
			    (long long)f->ans.lock_gap_ms);
}

/* Step 9: the READ on the destination. */
static void read_again(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl)
{
	struct nm_reh_file *f = s->f;
	struct nm_err err = { 0 };
	char rpcs[96];
	nfsstat4 st = NFS4_OK;
	int rc = nm_reh_read(e, s, cl, &f->sum_dst, &f->len_dst, &st, rpcs, sizeof(rpcs), &err);

	if ((rc == 0 && (st == NFS4ERR_FHEXPIRED || st == NFS4ERR_STALE)) &&
	    refind_file(e, s, cl) == 0) {
		/* Volatile handles: the file found again by path. */
		rc = nm_reh_read(e, s, cl, &f->sum_dst, &f->len_dst, &st, rpcs, sizeof(rpcs), &err);
	}
	if (rc < 0) {
		nm_reh_step(e, s, "read", NM_REH_UNANSWERED, rpcs, "%s", err.msg);
		return;
	}
	f->ans.read_answered = true;
	f->ans.read_ok = rc == 1;
	f->ans.read_same =
		rc == 1 && f->ans.held && f->sum_dst == f->sum_src && f->len_dst == f->len_src;
	if (rc == 1)
		nm_reh_step(e, s, "read",
			    f->ans.read_same || !f->ans.held ? NM_REH_OK : NM_REH_FAILED, rpcs,
			    "%u bytes on %s, checksum %016" PRIx64 "%s", f->len_dst, cl->host,
			    f->sum_dst,
			    !f->ans.held       ? ""
			    : f->ans.read_same ? ": the same"
					       : ": differs");
	else
		nm_reh_step(e, s, "read", NM_REH_FAILED, rpcs, "READ answered %s",
			    NM_NFS4_STATUS(st));
}

/* Steps 4 to 9 for a file whose file system moved (or a referral). */
static void follow(struct nm_reh_engine *e, struct nm_reh_fs *s)
{
	struct nm_reh_file *f = s->f;
	struct nm_reh_conn *cl;
	char rest[1024];
	int rc;

	s->followed = true;
	if (f->ans.kind == NM_REH_KIND_REFERRAL)
		rc = referral_locations(e, s, rest, sizeof(rest));
	else
		rc = get_locations(e, s, rest, sizeof(rest));
	if (rc <= 0 || nm_reh_stopped(e))
		return;
	cl = walk_locations(e, s, rest);
	if (!cl)
		return;
	check_flavor(e, s, cl);
	if (!f->ans.flavor_ok || nm_reh_stopped(e))
		return;
	if (f->ans.kind == NM_REH_KIND_REFERRAL) {
		/* Its OPEN comes in finish, after the destination's
		 * RECLAIM_COMPLETE (4.1+: settle), never before another file
		 * system's reclaim there. */
		s->dst = cl;
		return;
	}
	test_state(e, s, cl);
	if (!f->ans.tsm_answered || nm_reh_stopped(e))
		return;
	s->dst = cl;
	if (f->ans.tsm)
		s->cl = cl;
	else
		recover(e, s, cl);
}

/* A referral: walk to the destination, open the file there and read. */
static void referral_open(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl)
{
	struct nm_reh_file *f = s->f;
	int rc;

	{
		struct nm_err err = { 0 };
		char rpcs[192], dir[1024], *slash;
		nfs_argop4 ops[NM_REH_MAX_COMPONENTS + 6];
		nfsstat4 st;
		unsigned n;

		if (nm_nfs4_minor(cl->c) == 0 && nm_reh_client_setup(e, s, cl, &err) < 0)
			return;
		snprintf(dir, sizeof(dir), "%s", f->dest_path);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = 0;
		memset(ops, 0, sizeof(ops));
		n = nm_reh_op_lookup_path(ops, NM_REH_MAX_COMPONENTS + 2, dir, &err);
		if (n == 0)
			return;
		rc = nm_reh_open(e, s, cl, ops, n, CLAIM_NULL, &st, rpcs, sizeof(rpcs), &err);
		if (rc != 1) {
			if (rc == 0)
				f->ans.read_answered = true;
			nm_reh_step(e, s, "open", rc < 0 ? NM_REH_UNANSWERED : NM_REH_FAILED, rpcs,
				    "%s: %s", f->dest_path, rc < 0 ? err.msg : NM_NFS4_STATUS(st));
			return;
		}
		nm_reh_step(e, s, "open", NM_REH_OK, rpcs, "%s opened for reading on %s",
			    f->dest_path, cl->host);
		read_again(e, s, cl);
	}
}

/* After every reclaim: the re-open where the reclaim failed, and the READ
 * on the destination (step 9). */
static void finish(struct nm_reh_engine *e, struct nm_reh_fs *s)
{
	struct nm_reh_answers *a = &s->f->ans;

	if (!s->dst || s->finished || nm_reh_stopped(e))
		return;
	s->finished = true;
	if (a->kind == NM_REH_KIND_REFERRAL) {
		referral_open(e, s, s->dst);
		return;
	}
	if (!a->tsm && a->reclaim_answered && !a->reclaim_ok)
		reopen(e, s, s->dst);
	if (s->opened && !nm_reh_stopped(e))
		read_again(e, s, s->dst);
}

/* Kind NONE: does the held stateid still read on the source? */
static void check_kept(struct nm_reh_engine *e, struct nm_reh_fs *s)
{
	struct nm_reh_file *f = s->f;
	struct nm_err err = { 0 };
	char rpcs[96];
	nfsstat4 st = NFS4_OK;
	uint64_t sum = 0;
	unsigned len = 0;
	int rc = nm_reh_read(e, s, s->src, &sum, &len, &st, rpcs, sizeof(rpcs), &err);

	f->ans.kind = NM_REH_KIND_NONE;
	if (rc < 0) {
		nm_reh_step(e, s, "kept", NM_REH_UNANSWERED, rpcs, "%s", err.msg);
		return;
	}
	f->ans.still_answered = true;
	f->ans.still_held = rc == 1;
	nm_reh_step(e, s, "kept", rc == 1 ? NM_REH_OK : NM_REH_FAILED, rpcs,
		    rc == 1 ? "nothing moved: the held stateid still reads on %s"
			    : "nothing moved, but READ with the held stateid answered %s",
		    rc == 1 ? s->src->host : NM_NFS4_STATUS(st));
}

/* What the let go of cl's client said (4.1+: DESTROY_SESSION and
 * DESTROY_CLIENTID, each answered or not). */
static void disconnect_step(struct nm_reh_engine *e, struct nm_reh_fs *s, struct nm_reh_conn *cl,
			    bool v41, const struct nm_nfs4_bye *b)
{
	enum nm_reh_status st = NM_REH_OK;

	if (!v41) {
		nm_reh_step(e, s, "disconnect", NM_REH_INFO, "",
			    "%s: connection closed (a 4.0 client ID has no DESTROY: its lease "
			    "expires)",
			    cl->host);
		return;
	}
	if ((b->session_sent && !b->session_answered) ||
	    (b->clientid_sent && !b->clientid_answered))
		st = NM_REH_UNANSWERED;
	else if ((b->session_sent && b->session_st != NFS4_OK) ||
		 (b->clientid_sent && b->clientid_st != NFS4_OK) ||
		 (!b->session_sent && !b->clientid_sent))
		st = NM_REH_FAILED;
	nm_reh_step(e, s, "disconnect", st, "DESTROY_SESSION,DESTROY_CLIENTID",
		    "%s: DESTROY_SESSION %s, DESTROY_CLIENTID %s%s", cl->host,
		    !b->session_sent	  ? "not sent"
		    : b->session_answered ? NM_NFS4_STATUS(b->session_st)
					  : "not answered",
		    !b->clientid_sent	   ? "not sent"
		    : b->clientid_answered ? NM_NFS4_STATUS(b->clientid_st)
					   : "not answered",
		    st == NM_REH_OK ? ": session and client ID destroyed" : "");
}

/* After the file systems followed so far had their reclaims: 4.1+'s
 * RECLAIM_COMPLETE on each of their destinations (one client for them
 * all, once: a file system that moves there later finds the grace over,
 * as it would), then the re-opens, the referrals' OPENs and the READs. */
static void settle(struct nm_reh_engine *e)
{
	for (size_t k = 0; k < e->ncl && !nm_reh_stopped(e); k++)
		for (size_t i = 0; i < e->r->nfiles; i++)
			if (e->fs[i].dst == &e->cl[k] && !e->fs[i].finished && e->cl[k].c &&
			    nm_nfs4_minor(e->cl[k].c) > 0) {
				struct nm_err ignored = { 0 }; /* its step says */

				nm_reh_client_setup(e, &e->fs[i], &e->cl[k], &ignored);
				break;
			}
	for (size_t i = 0; i < e->r->nfiles && !nm_reh_stopped(e); i++)
		finish(e, &e->fs[i]);
}

int nm_rehearse(const struct nm_reh_opts *o, struct nm_reh_result *r, struct nm_err *err)
{
	struct nm_reh_engine *e;
	char host[64] = "localhost";

	if (r->nfiles == 0 || r->nfiles > NM_REH_MAX_FILES)
		return nm_err_set(err, -EINVAL, "between 1 and %d files", NM_REH_MAX_FILES);
	if (o->timeout_ms <= 0 || o->interval_ms <= 0)
		return nm_err_set(err, -EINVAL, "a timeout and an interval are needed");
	e = calloc(1, sizeof(*e));
	if (!e)
		return nm_err_set(err, -ENOMEM, "out of memory");
	e->o = o;
	e->r = r;
	e->t0 = nm_time_ms();
	gethostname(host, sizeof(host) - 1);
	if (getrandom(&e->verifier, sizeof(e->verifier), GRND_NONBLOCK) != sizeof(e->verifier))
		e->verifier = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	/* One client owner for the source and every destination, so a
	 * server that takes the state over knows the client. */
	snprintf(e->owner, sizeof(e->owner), "nfsmig-rehearse/%.40s/%d/%08x", host, (int)getpid(),
		 (unsigned)e->verifier);
	r->nclients = 0;
	r->interrupted = false;
	for (size_t i = 0; i < r->nfiles; i++) {
		struct nm_reh_fs *s = &e->fs[i];

		s->f = &r->files[i];
		s->f->nsteps = 0;
		memset(&s->f->ans, 0, sizeof(s->f->ans));
		split_path(s);
		snprintf(s->oowner, sizeof(s->oowner), "open/%zu", i);
		snprintf(s->lowner, sizeof(s->lowner), "lock/%zu", i);
	}
	/* Step 1. */
	for (size_t i = 0; i < r->nfiles && !nm_reh_stopped(e); i++)
		hold(e, &e->fs[i]);
	/* Steps 2, 3. */
	if (!nm_reh_stopped(e))
		wait_move(e);
	/* Steps 4-9 of the referrals (the moved ones were followed in the
	 * wait), and the last word on those that did not move. */
	for (size_t i = 0; i < r->nfiles && !nm_reh_stopped(e); i++) {
		struct nm_reh_fs *s = &e->fs[i];

		if (s->f->ans.kind == NM_REH_KIND_REFERRAL && !s->followed)
			follow(e, s);
		else if (s->f->ans.held && !s->done && !nm_reh_stopped(e))
			check_kept(e, s);
	}
	settle(e);
	r->interrupted = nm_reh_stopped(e);
	/* Once stopped, letting go is bounded: each call at most
	 * NM_REH_LET_GO_MS (a client that timed out already is not asked
	 * again: nm_rpc's broken connection). */
	if (r->interrupted)
		for (size_t k = 0; k < e->ncl; k++)
			nm_nfs4_set_call_ms(e->cl[k].c, nm_reh_call_ms(e));
	/* Let go: CLOSE, LOCKU, then DESTROY_SESSION / DESTROY_CLIENTID. */
	for (size_t i = 0; i < r->nfiles; i++)
		nm_reh_release(e, &e->fs[i]);
	for (size_t k = 0; k < e->ncl; k++) {
		struct nm_reh_conn *cl = &e->cl[k];

		if (cl->c && r->nclients < NM_REH_MAX_CLIENTS) {
			struct nm_reh_client_info *ci = &r->clients[r->nclients++];

			snprintf(ci->server, sizeof(ci->server), "%s", cl->host);
			ci->minor = nm_nfs4_minor(cl->c);
			ci->file_systems = cl->fs;
			ci->destination = cl->dest;
		}
		if (cl->c) {
			bool v41 = nm_nfs4_minor(cl->c) > 0;
			struct nm_nfs4_bye bye;

			nm_nfs4_shutdown_said(cl->c, &bye);
			for (size_t i = 0; i < r->nfiles; i++)
				if (e->fs[i].cl == cl || e->fs[i].src == cl || e->fs[i].dst == cl) {
					disconnect_step(e, &e->fs[i], cl, v41, &bye);
					break;
				}
		}
		nm_nfs4_close(cl->c);
		cl->c = NULL;
	}
	for (size_t i = 0; i < r->nfiles; i++)
		nm_reh_judge(&r->files[i].ans, e->fs[i].minor, &r->files[i].verdict);
	free(e);
	return 0;
}
