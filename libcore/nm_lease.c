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
	rc = nm_lease_moved_said(minor, st, nm_nfs4_seq_flags(c));
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
	int rc = open_session(server, port, minor, sec, timeout_ms, &c, err);

	if (rc < 0)
		return rc;
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
	case NFS4ERR_DELAY:
	case NFS4ERR_GRACE:
		verdict(out, NM_LEASE_UNANSWERED, op, st, "%s answered %s until the deadline",
			where, NM_NFS4_STATUS(st));
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

/* The answer of one record from a reply's results r (PUTFH, then maybe
 * GETATTR; cnt of them); its verdict into out. */
static void take_answer(const struct nm_record *rec, const nfs_resop4 *r, unsigned cnt,
			struct nm_lease_result *out)
{
	struct nm_lease_answer a = { 0 };
	struct nm_fattr f;
	struct nm_err e = { 0 };

	a.putfh_answered = cnt >= 1;
	if (cnt >= 1)
		a.putfh = nm_nfs4_resop_status(&r[0]);
	a.getattr_answered = cnt >= 2;
	if (cnt < 2 || (a.getattr = nm_nfs4_resop_status(&r[1])) != NFS4_OK) {
		nm_lease_judge(rec, &a, out);
		return;
	}
	if (nm_fattr_decode(&r[1].nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes, &f,
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
	if (take_locations(&f, out) < 0)
		snprintf(out->reason + strlen(out->reason),
			 sizeof(out->reason) - strlen(out->reason),
			 " (its locations left out: out of memory)");
	nm_fattr_free(&f);
}

int nm_lease_probe_on(struct nm_nfs4 *c, const struct nm_record *recs, size_t n,
		      struct nm_lease_result *out, struct nm_err *err)
{
	static const enum nm_fattr_id ids[] = { NM_FATTR_FSID, NM_FATTR_RDATTR_ERROR,
						NM_FATTR_FS_LOCATIONS };
	uint32_t words[NM_FATTR_WORDS];
	bitmap4 mask;
	size_t per = nm_nfs4_max_ops(c) / 2, i = 0, asked = 0;
	struct nm_err e = { 0 };
	int moved = 0, rc = 0;

	memset(out, 0, n * sizeof(*out));
	nm_fattr_mask(&mask, words, ids, sizeof(ids) / sizeof(ids[0]));
	if (per == 0)
		per = 1;
	if (per > NM_XDR_MAX_OPS / 2)
		per = NM_XDR_MAX_OPS / 2;
	while (i < n) {
		nfs_argop4 ops[NM_XDR_MAX_OPS];
		struct nm_nfs4_reply r;
		size_t k = 0, first = i, done;

		if (recs[i].root_fh_len == 0 || recs[i].root_fh_len > NFS4_FHSIZE) {
			unanswered(&out[i], &recs[i],
				   "the record holds no root handle to ask with");
			i++;
			continue;
		}
		/* The records from i on that have a handle, as many as fit. */
		while (i + k < n && k < per && recs[i + k].root_fh_len > 0 &&
		       recs[i + k].root_fh_len <= NFS4_FHSIZE) {
			nfs_argop4 *p = &ops[2 * k];

			p[0].argop = OP_PUTFH;
			p[0].nfs_argop4_u.opputfh.object.nfs_fh4_len = recs[i + k].root_fh_len;
			p[0].nfs_argop4_u.opputfh.object.nfs_fh4_val = (char *)recs[i + k].root_fh;
			p[1].argop = OP_GETATTR;
			p[1].nfs_argop4_u.opgetattr.attr_request = mask;
			k++;
		}
		rc = nm_nfs4_compound(c, ops, (unsigned)(2 * k), &r, &e);
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
		/* Results come in pairs; the last one may be a PUTFH or GETATTR
		 * that failed, which decides its record; the records after it
		 * were not asked and go in the next COMPOUND. */
		done = (r.nops + 1) / 2;
		for (size_t j = 0; j < done; j++) {
			unsigned left = r.nops - (unsigned)(2 * j);

			take_answer(&recs[first + j], &r.ops[2 * j], left < 2 ? left : 2,
				    &out[first + j]);
			if (out[first + j].verdict == NM_LEASE_MOVED)
				moved++;
		}
		nm_nfs4_reply_free(&r);
		i = first + done;
	}
	if (rc < 0 && asked == 0)
		return nm_err_set(err, rc, "%s", e.msg);
	nm_err_clear(err);
	return moved;
}

int nm_lease_probe(const char *server, unsigned port, int minor, const char *sec,
		   const struct nm_record *recs, size_t n, struct nm_lease_result *out,
		   int timeout_ms, struct nm_err *err)
{
	struct nm_nfs4 *c;
	struct nm_err e = { 0 };
	int rc = open_session(server, port, minor, sec, timeout_ms, &c, &e);

	if (rc < 0) {
		memset(out, 0, n * sizeof(*out));
		for (size_t i = 0; i < n; i++)
			unanswered(&out[i], &recs[i], e.msg);
		return nm_err_set(err, rc, "%s", e.msg);
	}
	rc = nm_lease_probe_on(c, recs, n, out, err);
	nm_nfs4_close(c);
	return rc;
}
