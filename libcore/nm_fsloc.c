#include "nm_fsloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_esc.h"
#include "nm_fattr.h"
#include "nm_path.h"
#include "nm_target.h"

/* Where a walk down a path ended. */
struct walk {
	nfsstat4 status;	       /* NFS4_OK, the status of the failing op, or
					  NFS4ERR_MOVED when a probe found an absent fs */
	nfs_opnum4 op;		       /* the op that failed or found it absent */
	size_t done;		       /* components looked up before it */
	struct nm_fattr attrs;	       /* the final GETATTR's, when status is NFS4_OK */
	unsigned char fh[NFS4_FHSIZE]; /* with want_fh: the file handle of the path */
	unsigned fhlen;
};

/* What each op of a walk's COMPOUND stands for. */
enum step_kind { STEP_PUT, STEP_LOOKUP, STEP_PROBE, STEP_FINAL, STEP_GETFH };

struct step {
	enum step_kind kind;
	size_t prefix; /* components looked up once this op succeeds */
};

static const enum nm_fattr_id probe_ids[] = { NM_FATTR_FSID, NM_FATTR_RDATTR_ERROR };

static void set_lookup(nfs_argop4 *op, char *name)
{
	op->argop = OP_LOOKUP;
	op->nfs_argop4_u.oplookup.objname.utf8str_cs_len = (unsigned)strlen(name);
	op->nfs_argop4_u.oplookup.objname.utf8str_cs_val = name;
}

static void set_getattr(nfs_argop4 *op, uint32_t *words, const enum nm_fattr_id *ids, unsigned nids)
{
	op->argop = OP_GETATTR;
	nm_fattr_mask(&op->nfs_argop4_u.opgetattr.attr_request, words, ids, nids);
}

/* Look at one result of a walk; returns 1 when the walk ends here. */
static int take_result(struct nm_nfs4 *c, const struct step *st, nfs_resop4 *res, struct walk *w,
		       char *fhbuf, unsigned *fhlen, struct nm_err *err)
{
	nfsstat4 status = nm_nfs4_resop_status(res);
	struct nm_fattr probe;
	int rc;

	if (status != NFS4_OK) {
		w->status = status;
		w->op = res->resop;
		w->done = st->kind == STEP_LOOKUP ? st->prefix - 1 : st->prefix;
		return 1;
	}
	switch (st->kind) {
	case STEP_PROBE:
		rc = nm_fattr_decode(
			&res->nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes, &probe,
			err);
		if (rc < 0)
			return nm_err_prefix(err, "%s", nm_nfs4_peer(c));
		if (nm_fattr_has(&probe, NM_FATTR_RDATTR_ERROR) &&
		    probe.rdattr_error == NFS4ERR_MOVED) {
			w->status = NFS4ERR_MOVED;
			w->op = OP_GETATTR;
			w->done = st->prefix;
			nm_fattr_free(&probe);
			return 1;
		}
		nm_fattr_free(&probe);
		return 0;
	case STEP_FINAL:
		rc = nm_fattr_decode(
			&res->nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes, &w->attrs,
			err);
		if (rc < 0)
			return nm_err_prefix(err, "%s", nm_nfs4_peer(c));
		w->status = NFS4_OK;
		w->done = st->prefix;
		/* The GETFH just before, if the walk asked for one. */
		memcpy(w->fh, fhbuf, *fhlen);
		w->fhlen = *fhlen;
		return 1;
	case STEP_GETFH: {
		nfs_fh4 *fh = &res->nfs_resop4_u.opgetfh.GETFH4res_u.resok4.object;

		/* RFC 7530 4.2: a handle is 1 to NFS4_FHSIZE bytes. */
		if (fh->nfs_fh4_len == 0 || fh->nfs_fh4_len > NFS4_FHSIZE)
			return nm_err_set(
				err, -EBADMSG,
				"%s: malformed reply: GETFH returned a handle of %u bytes",
				nm_nfs4_peer(c), fh->nfs_fh4_len);
		*fhlen = fh->nfs_fh4_len;
		memcpy(fhbuf, fh->nfs_fh4_val, *fhlen);
		return 0;
	}
	default: return 0;
	}
}

/* PUTROOTFH, then LOOKUP of each of the first n components with a probe
 * GETATTR(fsid, rdattr_error) after each, then GETATTR(ids) on the last: in
 * as few COMPOUNDs as the session allows (GETFH/PUTFH between them).  The
 * probes find an absent file system on servers that answer MOVED only to
 * GETATTR, and on those (Ganesha) that go on serving LOOKUPs below it.
 * want_fh puts a GETFH before the last GETATTR. */
static int walk(struct nm_nfs4 *c, const struct nm_path *p, size_t n, const enum nm_fattr_id *ids,
		unsigned nids, bool want_fh, struct walk *w, unsigned *compounds,
		struct nm_err *err)
{
	char fhbuf[NFS4_FHSIZE];
	unsigned fhlen = 0, max = nm_nfs4_max_ops(c);
	bool have_fh = false;
	size_t i = 0;

	memset(w, 0, sizeof(*w));
	if (max < 5)
		return nm_err_set(err, -EPROTO, "%s: COMPOUNDs too small to walk a path",
				  nm_nfs4_peer(c));
	for (;;) {
		nfs_argop4 ops[NM_XDR_MAX_OPS];
		struct step steps[NM_XDR_MAX_OPS];
		uint32_t words[NM_XDR_MAX_OPS][NM_FATTR_WORDS];
		struct nm_nfs4_reply r;
		unsigned k = 0, got;
		size_t j = i;
		int rc = 0;

		memset(ops, 0, sizeof(ops));
		if (have_fh) {
			ops[k].argop = OP_PUTFH;
			ops[k].nfs_argop4_u.opputfh.object.nfs_fh4_len = fhlen;
			ops[k].nfs_argop4_u.opputfh.object.nfs_fh4_val = fhbuf;
		} else {
			ops[k].argop = OP_PUTROOTFH;
		}
		steps[k++] = (struct step){ STEP_PUT, i };
		if (!have_fh && n > 0) {
			set_getattr(&ops[k], words[k], probe_ids, 2);
			steps[k++] = (struct step){ STEP_PROBE, 0 };
		}
		/* Each component takes a LOOKUP and a GETATTR; keep one op for
		 * the GETFH that closes a COMPOUND which does not reach the end. */
		while (j < n && k + 3 <= max) {
			set_lookup(&ops[k], p->comp[j]);
			steps[k++] = (struct step){ STEP_LOOKUP, j + 1 };
			j++;
			if (j < n) {
				set_getattr(&ops[k], words[k], probe_ids, 2);
				steps[k++] = (struct step){ STEP_PROBE, j };
			}
		}
		if (j == n) {
			if (want_fh) {
				ops[k].argop = OP_GETFH;
				steps[k++] = (struct step){ STEP_GETFH, n };
			}
			set_getattr(&ops[k], words[k], ids, nids);
			steps[k++] = (struct step){ STEP_FINAL, n };
		} else {
			ops[k].argop = OP_GETFH;
			steps[k++] = (struct step){ STEP_GETFH, j };
		}
		rc = nm_nfs4_compound(c, ops, k, &r, err);
		if (rc < 0)
			return rc;
		(*compounds)++;
		for (got = 0; got < r.nops; got++) {
			rc = take_result(c, &steps[got], &r.ops[got], w, fhbuf, &fhlen, err);
			if (rc != 0)
				break;
		}
		nm_nfs4_reply_free(&r);
		if (rc < 0)
			return rc;
		if (rc > 0)
			return 0;
		if (got != k)
			return nm_err_set(err, -EBADMSG,
					  "%s: malformed reply: %u of %u results and no error",
					  nm_nfs4_peer(c), got, k);
		i = j;
		have_fh = true;
	}
}

int nm_fsloc_from_fattr(const struct nm_fattr *f, struct nm_fsloc_result *out, struct nm_err *err)
{
	const fs_locations4 *fl = &f->fs_locations;

	if (nm_fattr_has(f, NM_FATTR_FSID)) {
		out->have_fsid = true;
		out->fsid_major = f->fsid.major;
		out->fsid_minor = f->fsid.minor;
	}
	if (nm_fattr_has(f, NM_FATTR_RDATTR_ERROR) && f->rdattr_error == NFS4ERR_MOVED)
		out->absent = true;
	if (!nm_fattr_has(f, NM_FATTR_FS_LOCATIONS))
		return 0;
	out->have_locations = true;
	out->fs_root = nm_path_from_wire(&fl->fs_root);
	if (!out->fs_root)
		return nm_err_set(err, -ENOMEM, "out of memory");
	if (fl->locations.locations_len == 0)
		return 0;
	out->loc = calloc(fl->locations.locations_len, sizeof(*out->loc));
	if (!out->loc)
		return nm_err_set(err, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < fl->locations.locations_len; i++) {
		const fs_location4 *l = &fl->locations.locations_val[i];
		struct nm_fsloc_location *d = &out->loc[i];

		out->nloc++;
		d->rootpath = nm_path_from_wire(&l->rootpath);
		if (!d->rootpath)
			return nm_err_set(err, -ENOMEM, "out of memory");
		if (l->server.server_len == 0)
			return nm_err_set(err, -EBADMSG,
					  "malformed fs_locations: location %u names no server",
					  i + 1);
		d->servers = calloc(l->server.server_len, sizeof(char *));
		if (!d->servers)
			return nm_err_set(err, -ENOMEM, "out of memory");
		for (unsigned j = 0; j < l->server.server_len; j++) {
			const utf8str_cis *s = &l->server.server_val[j];

			if (s->utf8str_cis_len == 0)
				return nm_err_set(
					err, -EBADMSG,
					"malformed fs_locations: empty server name in location %u",
					i + 1);
			d->servers[j] = nm_fsloc_server(s->utf8str_cis_val, s->utf8str_cis_len);
			if (!d->servers[j])
				return nm_err_set(err, -ENOMEM, "out of memory");
			d->nservers++;
		}
	}
	return 0;
}

static int status_error(struct nm_nfs4 *c, const struct nm_path *p, const struct walk *w,
			struct nm_err *err)
{
	char *at = nm_path_join(p, w->done + (w->op == OP_LOOKUP ? 1 : 0));
	int code = nm_nfs4_status_errno(w->status);
	const char *hint = "";

	if (w->status == NFS4ERR_WRONGSEC)
		hint = " (the server wants another security flavor than sys)";
	else if (w->status == NFS4ERR_NOENT)
		hint = " (no such file or directory on the server)";
	nm_err_set(err, code, "%s: %s of %s failed: %s%s", nm_nfs4_peer(c), nm_nfs4_op_name(w->op),
		   at ? at : "?", NM_NFS4_STATUS(w->status), hint);
	free(at);
	return code;
}

int nm_fsloc_query(struct nm_nfs4 *c, const char *path, struct nm_fsloc_result *out,
		   struct nm_err *err)
{
	static const enum nm_fattr_id full[] = { NM_FATTR_FSID, NM_FATTR_RDATTR_ERROR,
						 NM_FATTR_FS_LOCATIONS };
	/* What RFC 7530 8.3 lets a client ask of an absent file system. */
	static const enum nm_fattr_id minimal[] = { NM_FATTR_FSID, NM_FATTR_FS_LOCATIONS };
	struct nm_path p;
	struct walk w;
	size_t at;
	int rc;

	memset(out, 0, sizeof(*out));
	out->minor = nm_nfs4_minor(c);
	rc = nm_path_split(path, &p, err);
	if (rc < 0)
		return rc;
	out->path = nm_path_join(&p, p.n);
	if (!out->path) {
		rc = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	rc = walk(c, &p, p.n, full, 3, false, &w, &out->compounds, err);
	if (rc < 0)
		goto out;
	at = p.n;
	if (w.status == NFS4ERR_MOVED) {
		/* The file system at the first w.done components is absent. */
		at = w.done;
		out->moved_op = w.op;
		rc = walk(c, &p, at, full, 3, false, &w, &out->compounds, err);
		if (rc == 0 && w.status == NFS4ERR_MOVED && w.done == at)
			rc = walk(c, &p, at, minimal, 2, false, &w, &out->compounds, err);
		if (rc < 0)
			goto out;
		if (w.status == NFS4_OK)
			out->absent = true;
	}
	if (w.status != NFS4_OK) {
		rc = status_error(c, &p, &w, err);
		goto out;
	}
	out->fs_path = nm_path_join(&p, at);
	out->rest = strdup(out->path + (at == 0 ? 0 : strlen(out->fs_path)));
	if (!out->fs_path || !out->rest) {
		rc = nm_err_set(err, -ENOMEM, "out of memory");
	} else {
		if (strcmp(out->rest, "/") == 0)
			out->rest[0] = '\0';
		rc = nm_fsloc_from_fattr(&w.attrs, out, err);
	}
	nm_fattr_free(&w.attrs);
out:
	nm_path_free(&p);
	if (rc < 0)
		nm_fsloc_result_free(out);
	return rc;
}

int nm_fsloc_root(struct nm_nfs4 *c, const char *path, struct nm_fsloc_root *out,
		  struct nm_err *err)
{
	static const enum nm_fattr_id ids[] = { NM_FATTR_FH_EXPIRE_TYPE, NM_FATTR_FSID,
						NM_FATTR_RDATTR_ERROR, NM_FATTR_FILEID,
						NM_FATTR_FS_LOCATIONS };
	struct nm_path p;
	struct walk w;
	unsigned compounds = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = nm_path_split(path, &p, err);
	if (rc < 0)
		return rc;
	rc = walk(c, &p, p.n, ids, 5, true, &w, &compounds, err);
	if (rc == 0 && w.status == NFS4_OK && nm_fattr_has(&w.attrs, NM_FATTR_RDATTR_ERROR) &&
	    w.attrs.rdattr_error == NFS4ERR_MOVED) {
		w.status = NFS4ERR_MOVED;
		w.op = OP_GETATTR;
		nm_fattr_free(&w.attrs);
	}
	if (rc == 0 && w.status == NFS4ERR_MOVED) {
		char *at = nm_path_join(&p, w.done);

		rc = nm_err_set(err, -EREMOTE,
				"%s: %s is absent (MOVED): a referral or a moved file "
				"system",
				nm_nfs4_peer(c), at ? at : path);
		free(at);
	} else if (rc == 0 && w.status != NFS4_OK) {
		rc = status_error(c, &p, &w, err);
	} else if (rc == 0) {
		if (w.fhlen == 0 || !nm_fattr_has(&w.attrs, NM_FATTR_FSID)) {
			nm_fattr_free(&w.attrs);
			rc = nm_err_set(err, -EBADMSG, "%s: no file handle or fsid for %s",
					nm_nfs4_peer(c), path);
		} else {
			memcpy(out->fh, w.fh, w.fhlen);
			out->fhlen = w.fhlen;
			out->attrs = w.attrs;
		}
	}
	nm_path_free(&p);
	return rc;
}

void nm_fsloc_result_free(struct nm_fsloc_result *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->fs_path);
	free(r->rest);
	free(r->fs_root);
	for (size_t i = 0; i < r->nloc; i++) {
		for (size_t j = 0; j < r->loc[i].nservers; j++)
			free(r->loc[i].servers[j]);
		free(r->loc[i].servers);
		free(r->loc[i].rootpath);
	}
	free(r->loc);
	memset(r, 0, sizeof(*r));
}

char *nm_fsloc_server(const char *bytes, size_t len)
{
	char *s = strndup(bytes ? bytes : "", bytes ? len : 0);

	if (!s)
		return NULL;
	if (strlen(s) == len && nm_target_host_name_ok(s))
		return s;
	free(s);
	s = nm_esc(bytes, len, NM_ESC_SHELL);
	/* A name of only safe bytes that is still no host name ("192.0.513",
	 * "127.1": all digits) would be kept as it came and read as an
	 * address: its first byte is escaped too, so a rejected name always
	 * holds a backslash and never resolves. */
	if (s && len > 0 && !strchr(s, '\\')) {
		char *t = NULL;

		if (asprintf(&t, "\\x%02x%s", (unsigned char)bytes[0], s + 1) < 0)
			t = NULL;
		free(s);
		s = t;
	}
	return s;
}

char *nm_fsloc_location_string(const fs_location4 *l, unsigned j)
{
	const utf8str_cis *name = &l->server.server_val[j];
	char *srv = nm_fsloc_server(name->utf8str_cis_val, name->utf8str_cis_len);
	char *rp = nm_path_from_wire(&l->rootpath), *loc = NULL;
	bool v6 = srv && strchr(srv, ':') && nm_target_host_name_ok(srv);

	if (srv && rp && asprintf(&loc, "%s%s%s:%s", v6 ? "[" : "", srv, v6 ? "]" : "", rp) < 0)
		loc = NULL;
	free(srv);
	free(rp);
	return loc;
}

char *nm_fsloc_location_host(const char *loc)
{
	const char *start = loc, *end;
	char *host;

	if (loc[0] == '[') {
		start = loc + 1;
		end = strchr(start, ']');
		if (!end || end[1] != ':' || end[2] != '/')
			return NULL;
	} else {
		/* A kept server name has no '/': the first one starts the path. */
		end = strchr(loc, '/');
		if (!end || end == loc || end[-1] != ':')
			return NULL;
		end--;
	}
	host = strndup(start, (size_t)(end - start));
	if (host && !nm_target_host_name_ok(host)) {
		free(host);
		host = NULL;
	}
	return host;
}
