/* nm_lease - NFS4ERR_LEASE_MOVED: the check and the probe (nm_lease.h). */
#include "nm_lease.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_fattr.h"
#include "nm_fsloc.h"
#include "nm_time.h"

int nm_lease_kev_starts_probe(const struct nm_kev *ev)
{
	bool said;

	if (!ev)
		return 0;
	said = ev->kind == NM_KEV_LEASE_MOVED ||
	       (ev->kind == NM_KEV_STATE_MGR && (ev->flags & NM_KEV_F_LEASE_MOVED));
	return said && (ev->host[0] || ev->peer[0]) ? 1 : 0;
}

int nm_lease_moved_said(unsigned minor, nfsstat4 renew_status, uint32_t seq_flags)
{
	if (minor > 0)
		return (seq_flags & SEQ4_STATUS_LEASE_MOVED) ? 1 : 0;
	if (renew_status == NFS4ERR_LEASE_MOVED)
		return 1;
	if (renew_status == NFS4_OK)
		return 0;
	return -EPROTO;
}

int nm_lease_check_on(struct nm_nfs4 *c, struct nm_err *err)
{
	struct nm_nfs4_reply r;
	nfs_argop4 op = { .argop = OP_RENEW };
	unsigned minor = nm_nfs4_minor(c);
	nfsstat4 st = NFS4_OK;
	int rc;

	if (minor == 0) {
		rc = nm_nfs4_clientid40(c, &op.nfs_argop4_u.oprenew.clientid, err);
		if (rc < 0)
			return rc;
		rc = nm_nfs4_compound(c, &op, 1, &r, err);
		if (rc < 0)
			return rc;
		st = r.status;
		nm_nfs4_reply_free(&r);
	} else {
		/* A SEQUENCE alone: its flags are the lease's news. */
		rc = nm_nfs4_compound(c, &op, 0, &r, err);
		if (rc < 0)
			return rc;
		nm_nfs4_reply_free(&r);
	}
	/* 4.1+: what every SEQUENCE said since the flags were last taken,
	 * this one's included. */
	rc = nm_lease_moved_said(minor, st, nm_nfs4_seq_flags_take(c));
	if (rc < 0)
		return nm_err_set(err, rc, "%s: RENEW answered %s: the lease says nothing",
				  nm_nfs4_peer(c), NM_NFS4_STATUS(st));
	return rc;
}

static int open_session(const char *server, unsigned port, int minor, const char *sec,
			int timeout_ms, struct nm_nfs4 **c, struct nm_err *err)
{
	struct nm_nfs4_opts o = {
		.rpc = { .port = port, .connect_ms = timeout_ms, .call_ms = timeout_ms },
		.minor = minor,
		.sec = sec
	};

	return nm_nfs4_open(server, &o, c, err);
}

int nm_lease_check(const char *server, unsigned port, int minor, const char *sec, int timeout_ms,
		   struct nm_err *err)
{
	struct nm_nfs4 *c;
	int64_t until = nm_time_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int rc = open_session(server, port, minor, sec, timeout_ms, &c, err);

	if (rc < 0)
		return rc;
	nm_nfs4_set_delay_deadline(c, until);
	rc = nm_lease_check_on(c, err);
	nm_nfs4_close(c);
	return rc;
}

const char *nm_lease_verdict_name(enum nm_lease_verdict v)
{
	switch (v) {
	case NM_LEASE_MOVED: return "moved";
	case NM_LEASE_HERE: return "here";
	case NM_LEASE_STALE: return "stale";
	case NM_LEASE_OTHER: return "other";
	case NM_LEASE_UNANSWERED: break;
	}
	return "unanswered";
}

static void verdict(struct nm_lease_result *out, enum nm_lease_verdict v, nfs_opnum4 op,
		    nfsstat4 st, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void verdict(struct nm_lease_result *out, enum nm_lease_verdict v, nfs_opnum4 op,
		    nfsstat4 st, const char *fmt, ...)
{
	va_list ap;

	out->verdict = v;
	out->op = op;
	out->status = st;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

/* The verdict an error status of op gives. */
static void judge_status(struct nm_lease_result *out, nfs_opnum4 op, nfsstat4 st, const char *where)
{
	switch (st) {
	case NFS4ERR_MOVED:
		verdict(out, NM_LEASE_MOVED, op, st, "%s answered NFS4ERR_MOVED", where);
		break;
	case NFS4ERR_STALE:
	case NFS4ERR_FHEXPIRED:
	case NFS4ERR_BADHANDLE:
		verdict(out, NM_LEASE_STALE, op, st,
			"%s answered %s: the saved root handle is gone, moved or not", where,
			NM_NFS4_STATUS(st));
		break;
	case NFS4ERR_DELAY: /* retried (nm_nfs4_compound) until the deadline */
		verdict(out, NM_LEASE_UNANSWERED, op, st, "%s answered %s until the deadline",
			where, NM_NFS4_STATUS(st));
		break;
	case NFS4ERR_GRACE: /* an answer, not retried: no verdict yet */
		verdict(out, NM_LEASE_UNANSWERED, op, st,
			"%s answered %s: the server is in its grace period, no verdict yet", where,
			NM_NFS4_STATUS(st));
		break;
	default:
		verdict(out, NM_LEASE_OTHER, op, st, "%s answered %s", where, NM_NFS4_STATUS(st));
		break;
	}
}

void nm_lease_judge(const struct nm_record *rec, const struct nm_lease_answer *a,
		    struct nm_lease_result *out)
{
	out->have_fsid = a->have_fsid;
	out->fsid_major = a->fsid_major;
	out->fsid_minor = a->fsid_minor;
	if (a->why) {
		verdict(out, NM_LEASE_UNANSWERED, OP_PUTFH, NFS4_OK, "not answered: %s", a->why);
		return;
	}
	if (!a->putfh_answered) {
		verdict(out, NM_LEASE_UNANSWERED, OP_PUTFH, NFS4_OK,
			"not answered: no PUTFH result");
		return;
	}
	if (a->putfh != NFS4_OK) {
		judge_status(out, OP_PUTFH, a->putfh, "PUTFH of the saved root handle");
		return;
	}
	if (!a->getfh_answered) {
		verdict(out, NM_LEASE_UNANSWERED, OP_GETFH, NFS4_OK,
			"not answered: no GETFH result");
		return;
	}
	/* GETFH is not allowed on an absent file system: NFS4ERR_MOVED. */
	if (a->getfh != NFS4_OK) {
		judge_status(out, OP_GETFH, a->getfh, "GETFH");
		return;
	}
	if (!a->getattr_answered) {
		verdict(out, NM_LEASE_UNANSWERED, OP_GETATTR, NFS4_OK,
			"not answered: no GETATTR result");
		return;
	}
	if (a->getattr != NFS4_OK) {
		judge_status(out, OP_GETATTR, a->getattr, "GETATTR");
		return;
	}
	/* A server may answer GETATTR of fs_locations on an absent file
	 * system, with rdattr_error saying MOVED (RFC 7530 8.4.2). */
	if (a->have_rdattr_error && a->rdattr_error != NFS4_OK) {
		judge_status(out, OP_GETATTR, (nfsstat4)a->rdattr_error, "GETATTR's rdattr_error");
		return;
	}
	if (!a->have_fsid) {
		verdict(out, NM_LEASE_OTHER, OP_GETATTR, NFS4_OK,
			"GETATTR answered without the fsid asked for");
		return;
	}
	/* An absent file system's GETATTR answers the referral fsid: a
	 * server that lets GETFH through on it still has not said "here". */
	if (a->fsid_major == NM_LEASE_REFERRAL_FSID && a->fsid_minor == NM_LEASE_REFERRAL_FSID) {
		verdict(out, NM_LEASE_OTHER, OP_GETATTR, NFS4_OK,
			"the saved root handle answers the referral fsid %#x:%#x (an absent file "
			"system) without NFS4ERR_MOVED",
			NM_LEASE_REFERRAL_FSID, NM_LEASE_REFERRAL_FSID);
		return;
	}
	if (a->fsid_major != rec->fsid_major || a->fsid_minor != rec->fsid_minor) {
		verdict(out, NM_LEASE_OTHER, OP_GETATTR, NFS4_OK,
			"the saved root handle answers fsid %" PRIu64 ":%" PRIu64
			", the record has %" PRIu64 ":%" PRIu64,
			a->fsid_major, a->fsid_minor, rec->fsid_major, rec->fsid_minor);
		return;
	}
	verdict(out, NM_LEASE_HERE, OP_GETATTR, NFS4_OK,
		"fsid %" PRIu64 ":%" PRIu64 " answered: still served here", a->fsid_major,
		a->fsid_minor);
}

void nm_lease_results_free(struct nm_lease_result *out, size_t n)
{
	if (!out)
		return;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < out[i].nlocations; j++)
			free(out[i].locations[j]);
		free(out[i].locations);
		out[i].locations = NULL;
		out[i].nlocations = 0;
	}
}

/* fs_locations as a record keeps them, into out; -ENOMEM only. */
static int take_locations(const struct nm_fattr *f, struct nm_lease_result *out)
{
	const fs_location4 *l = f->fs_locations.locations.locations_val;
	size_t total = 0, k = 0;

	if (!nm_fattr_has(f, NM_FATTR_FS_LOCATIONS))
		return 0;
	for (unsigned i = 0; i < f->fs_locations.locations.locations_len; i++)
		total += l[i].server.server_len;
	if (total == 0)
		return 0;
	out->locations = calloc(total, sizeof(*out->locations));
	if (!out->locations)
		return -ENOMEM;
	for (unsigned i = 0; i < f->fs_locations.locations.locations_len; i++)
		for (unsigned j = 0; j < l[i].server.server_len; j++) {
			char *s = nm_fsloc_location_string(&l[i], j);

			if (!s)
				return -ENOMEM;
			out->locations[k++] = s;
			out->nlocations = k;
		}
	return 0;
}

static void unanswered(struct nm_lease_result *out, const struct nm_record *rec, const char *why)
{
	struct nm_lease_answer a = { .why = why };

	nm_lease_judge(rec, &a, out);
}

/* The answer of one record from a reply's results r (PUTFH, GETFH, then
 * GETATTR of fsid; cnt of them); its verdict into out. */
static void take_answer(const struct nm_record *rec, const nfs_resop4 *r, unsigned cnt,
			struct nm_lease_result *out)
{
	struct nm_lease_answer a = { 0 };
	struct nm_fattr f;
	struct nm_err e = { 0 };

	a.putfh_answered = cnt >= 1;
	if (cnt >= 1)
		a.putfh = nm_nfs4_resop_status(&r[0]);
	a.getfh_answered = cnt >= 2;
	if (cnt >= 2)
		a.getfh = nm_nfs4_resop_status(&r[1]);
	a.getattr_answered = cnt >= 3;
	if (cnt < 3 || (a.getattr = nm_nfs4_resop_status(&r[2])) != NFS4_OK) {
		nm_lease_judge(rec, &a, out);
		return;
	}
	if (nm_fattr_decode(&r[2].nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes, &f,
			    &e) < 0) {
		char why[NM_ERR_MSG_MAX + 32];

		snprintf(why, sizeof(why), "GETATTR's attributes: %s", e.msg);
		unanswered(out, rec, why);
		return;
	}
	a.have_fsid = nm_fattr_has(&f, NM_FATTR_FSID);
	a.fsid_major = f.fsid.major;
	a.fsid_minor = f.fsid.minor;
	a.have_rdattr_error = nm_fattr_has(&f, NM_FATTR_RDATTR_ERROR);
	a.rdattr_error = f.rdattr_error;
	nm_lease_judge(rec, &a, out);
	nm_fattr_free(&f);
}

static bool has_handle(const struct nm_record *rec)
{
	return rec->root_fh_len > 0 && rec->root_fh_len <= NFS4_FHSIZE;
}

static void put_fh(nfs_argop4 *op, const struct nm_record *rec)
{
	op->argop = OP_PUTFH;
	op->nfs_argop4_u.opputfh.object.nfs_fh4_len = rec->root_fh_len;
	op->nfs_argop4_u.opputfh.object.nfs_fh4_val = (char *)rec->root_fh;
}

static void add_reason(struct nm_lease_result *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_reason(struct nm_lease_result *out, const char *fmt, ...)
{
	size_t len = strlen(out->reason);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->reason + len, sizeof(out->reason) - len, fmt, ap);
	va_end(ap);
}

/* The records from i on (at most per) that moved, with a handle. */
static size_t next_moved(const struct nm_record *recs, const struct nm_lease_result *out, size_t n,
			 size_t i, size_t per, size_t *idx)
{
	size_t k = 0;

	for (; i < n && k < per; i++)
		if (out[i].verdict == NM_LEASE_MOVED && has_handle(&recs[i]))
			idx[k++] = i;
	return k;
}

/* Where the moved ones went: PUTFH + GETATTR(fs_locations) for each, as
 * many as fit per COMPOUND.  A failure is told in the reason only. */
static bool past(int64_t until)
{
	return until > 0 && nm_time_ms() >= until;
}

static void fetch_locations(struct nm_nfs4 *c, const struct nm_record *recs, size_t n,
			    struct nm_lease_result *out, int64_t until)
{
	static const enum nm_fattr_id ids[] = { NM_FATTR_FS_LOCATIONS };
	uint32_t words[NM_FATTR_WORDS];
	bitmap4 mask;
	size_t per = nm_nfs4_max_ops(c) / 2, i = 0;

	nm_fattr_mask(&mask, words, ids, sizeof(ids) / sizeof(ids[0]));
	if (per == 0)
		per = 1;
	if (per > NM_XDR_MAX_OPS / 2)
		per = NM_XDR_MAX_OPS / 2;
	while (i < n) {
		nfs_argop4 ops[NM_XDR_MAX_OPS];
		size_t idx[NM_XDR_MAX_OPS / 2], k, done;
		struct nm_nfs4_reply r;
		struct nm_err e = { 0 };

		k = next_moved(recs, out, n, i, per, idx);
		if (k == 0)
			return;
		if (past(until)) {
			for (size_t j = i; j < n; j++)
				if (out[j].verdict == NM_LEASE_MOVED && has_handle(&recs[j]))
					add_reason(&out[j], " (its locations not asked: the "
							    "probe's deadline passed)");
			return;
		}
		for (size_t j = 0; j < k; j++) {
			put_fh(&ops[2 * j], &recs[idx[j]]);
			ops[2 * j + 1].argop = OP_GETATTR;
			ops[2 * j + 1].nfs_argop4_u.opgetattr.attr_request = mask;
		}
		if (nm_nfs4_compound(c, ops, (unsigned)(2 * k), &r, &e) < 0) {
			for (size_t j = i; j < n; j++)
				if (out[j].verdict == NM_LEASE_MOVED)
					add_reason(&out[j], " (its locations not answered: %s)",
						   e.msg);
			return;
		}
		if (r.nops == 0) {
			for (size_t j = 0; j < k; j++)
				add_reason(&out[idx[j]],
					   " (its locations: the COMPOUND answered %s)",
					   NM_NFS4_STATUS(r.status));
			nm_nfs4_reply_free(&r);
			i = idx[k - 1] + 1;
			continue;
		}
		/* The records up to the one the COMPOUND stopped at are
		 * answered; the next COMPOUND starts after it. */
		done = (r.nops + 1) / 2;
		for (size_t j = 0; j < done; j++) {
			struct nm_lease_result *o = &out[idx[j]];
			const nfs_resop4 *p = &r.ops[2 * j];
			bool both = r.nops - 2 * j >= 2;
			nfsstat4 st = nm_nfs4_resop_status(&p[both ? 1 : 0]);
			struct nm_fattr f;

			if (!both || nm_nfs4_resop_status(&p[0]) != NFS4_OK || st != NFS4_OK) {
				add_reason(o, " (its locations: %s answered %s)",
					   both ? "GETATTR of fs_locations" : "PUTFH",
					   NM_NFS4_STATUS(st));
				continue;
			}
			if (nm_fattr_decode(&p[1].nfs_resop4_u.opgetattr.GETATTR4res_u.resok4
						     .obj_attributes,
					    &f, &e) < 0) {
				add_reason(o, " (its locations: %s)", e.msg);
				continue;
			}
			if (take_locations(&f, o) < 0)
				add_reason(o, " (its locations left out: out of memory)");
			nm_fattr_free(&f);
		}
		nm_nfs4_reply_free(&r);
		i = idx[done - 1] + 1;
	}
}

/* nm_lease_probe_on, asking nothing more once until (nm_time_ms; 0: no
 * bound) has passed. */
static int probe(struct nm_nfs4 *c, const struct nm_record *recs, size_t n,
		 struct nm_lease_result *out, int64_t until, struct nm_err *err)
{
	static const enum nm_fattr_id ids[] = { NM_FATTR_FSID };
	uint32_t words[NM_FATTR_WORDS];
	bitmap4 mask;
	size_t per = nm_nfs4_max_ops(c) / 3, i = 0, asked = 0;
	struct nm_err e = { 0 };
	int moved = 0, rc = 0;

	memset(out, 0, n * sizeof(*out));
	nm_fattr_mask(&mask, words, ids, sizeof(ids) / sizeof(ids[0]));
	if (per == 0)
		per = 1;
	if (per > NM_XDR_MAX_OPS / 3)
		per = NM_XDR_MAX_OPS / 3;
	while (i < n) {
		nfs_argop4 ops[NM_XDR_MAX_OPS];
		struct nm_nfs4_reply r;
		size_t k = 0, first = i, done;

		if (!has_handle(&recs[i])) {
			unanswered(&out[i], &recs[i],
				   "the record holds no root handle to ask with");
			i++;
			continue;
		}
		if (past(until)) {
			for (; i < n; i++)
				unanswered(
					&out[i], &recs[i],
					has_handle(&recs[i])
						? "the probe's deadline passed before it was asked"
						: "the record holds no root handle to ask with");
			break;
		}
		/* The records from i on that have a handle, as many as fit. */
		while (i + k < n && k < per && has_handle(&recs[i + k])) {
			nfs_argop4 *p = &ops[3 * k];

			put_fh(&p[0], &recs[i + k]);
			p[1].argop = OP_GETFH;
			p[2].argop = OP_GETATTR;
			p[2].nfs_argop4_u.opgetattr.attr_request = mask;
			k++;
		}
		rc = nm_nfs4_compound(c, ops, (unsigned)(3 * k), &r, &e);
		if (rc < 0) {
			/* The connection fails every later call at once: what is
			 * left is unanswered, and says why. */
			for (; i < n; i++)
				unanswered(&out[i], &recs[i], e.msg);
			break;
		}
		asked++;
		if (r.nops == 0) {
			char why[96];

			snprintf(why, sizeof(why), "the COMPOUND failed before any operation: %s",
				 NM_NFS4_STATUS(r.status));
			for (size_t j = 0; j < k; j++)
				unanswered(&out[first + j], &recs[first + j], why);
			nm_nfs4_reply_free(&r);
			/* Asking the same again would be answered the same. */
			for (i = first + k; i < n; i++)
				unanswered(&out[i], &recs[i], why);
			break;
		}
		/* Results come in threes; the last record's may stop at a PUTFH,
		 * GETFH or GETATTR that failed, which decides it; the records
		 * after it were not asked and go in the next COMPOUND. */
		done = (r.nops + 2) / 3;
		for (size_t j = 0; j < done; j++) {
			unsigned left = r.nops - (unsigned)(3 * j);

			take_answer(&recs[first + j], &r.ops[3 * j], left < 3 ? left : 3,
				    &out[first + j]);
			if (out[first + j].verdict == NM_LEASE_MOVED)
				moved++;
		}
		nm_nfs4_reply_free(&r);
		i = first + done;
	}
	if (asked == 0) {
		if (rc < 0)
			return nm_err_set(err, rc, "%s", e.msg);
		return nm_err_set(err, -ENOENT, "%s: no record with a saved root handle to ask",
				  nm_nfs4_peer(c));
	}
	if (moved > 0)
		fetch_locations(c, recs, n, out, until);
	nm_err_clear(err);
	return moved;
}

int nm_lease_probe_on(struct nm_nfs4 *c, const struct nm_record *recs, size_t n,
		      struct nm_lease_result *out, struct nm_err *err)
{
	return probe(c, recs, n, out, 0, err);
}

int nm_lease_probe(const char *server, unsigned port, int minor, const char *sec,
		   const struct nm_record *recs, size_t n, struct nm_lease_result *out,
		   int timeout_ms, struct nm_err *err)
{
	struct nm_nfs4 *c;
	struct nm_err e = { 0 };
	int64_t until = nm_time_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int rc = open_session(server, port, minor, sec, timeout_ms, &c, &e);

	if (rc < 0) {
		memset(out, 0, n * sizeof(*out));
		for (size_t i = 0; i < n; i++)
			unanswered(&out[i], &recs[i], e.msg);
		return nm_err_set(err, rc, "%s", e.msg);
	}
	/* The whole probe within timeout_ms: DELAY retried no longer, and
	 * nothing more asked once it passed. */
	nm_nfs4_set_delay_deadline(c, until);
	rc = probe(c, recs, n, out, timeout_ms > 0 ? until : 0, err);
	nm_nfs4_close(c);
	return rc;
}
