#include "nm_verify_judge.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nm_fattr.h"
#include "nm_nfs4.h"

#define NM_AUTH_SYS 1

void nm_verify_set(struct nm_check *c, enum nm_verdict v, const char *fmt, ...)
{
	va_list ap;

	c->v = v;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

/* Why a part got no answer: the transport's word, or that the server
 * stopped before it. */
static const char *no_answer(const struct nm_verify_answer *a)
{
	return a->error[0] ? a->error : "the server stopped the COMPOUND before it";
}

/* A status that says nothing of the file system, only that the server did
 * not answer now (busy, in grace, out of resources, the reply too big):
 * no answer, never a verdict. */
static bool transient(nfsstat4 st)
{
	switch (st) {
	case NFS4ERR_DELAY:
	case NFS4ERR_GRACE:
	case NFS4ERR_RESOURCE:
	case NFS4ERR_SERVERFAULT:
	case NFS4ERR_REP_TOO_BIG:
	case NFS4ERR_REP_TOO_BIG_TO_CACHE:
	case NFS4ERR_TOO_MANY_OPS: return true;
	default: return false;
	}
}

void nm_verify_judge_destination(const struct nm_verify_dest_facts *f, struct nm_check *c)
{
	if (f->to) {
		if (f->is_to)
			nm_verify_set(c, NM_V_OK, "served by %s, the destination given", f->now);
		else
			nm_verify_set(c, NM_V_FAIL, "served by %s, not by the destination %s",
				      f->now, f->to);
	} else if (f->location) {
		nm_verify_set(c, NM_V_OK, "served by %s, one of the recorded locations (%s)",
			      f->now, f->location);
	} else if (!f->orig || !f->orig[0]) {
		nm_verify_set(c, NM_V_WARN,
			      "served by %s; the record does not say which server was the original",
			      f->now);
	} else if (strcmp(f->now, f->orig) == 0) {
		nm_verify_set(c, NM_V_FAIL, "still served by the original server %s", f->now);
	} else {
		nm_verify_set(c, NM_V_OK, "served by %s, no longer by the original %s", f->now,
			      f->orig);
	}
}

void nm_verify_judge_source(const struct nm_verify_source_facts *f, struct nm_check *c)
{
	if (!f->asked)
		nm_verify_set(c, NM_V_SKIP, "no --source given");
	else if (f->error)
		nm_verify_set(c, NM_V_FAIL, "%s", f->error);
	else if (!f->absent)
		nm_verify_set(c, NM_V_FAIL, "the source %s still serves %s (no NFS4ERR_MOVED)",
			      f->host, f->path);
	else if (!f->listed)
		nm_verify_set(
			c, NM_V_FAIL,
			"the source answers MOVED for %s but does not list %s in fs_locations",
			f->fs_path, f->server);
	else
		nm_verify_set(c, NM_V_OK, "the source %s answers MOVED for %s and lists %s",
			      f->host, f->fs_path, f->server);
}

void nm_verify_judge_nfs(const char *server, const struct nm_verify_answer *a, unsigned minor,
			 const char *open_error, const char *note, struct nm_check *c)
{
	if (!a->reached)
		nm_verify_set(c, NM_V_FAIL, "%s",
			      open_error && open_error[0] ? open_error : "destination not reached");
	else if (note && note[0])
		nm_verify_set(c, NM_V_WARN,
			      "%s answers NFSv4.%u%s: a server with the secure option refuses it",
			      server, minor, note);
	else
		nm_verify_set(c, NM_V_OK, "%s answers NFSv4.%u", server, minor);
}

/* The entry's handle, once the root's is known good; true when it decided. */
static bool judge_entry(const struct nm_record *rec, const struct nm_verify_answer *a,
			struct nm_check *c)
{
	const char *nm = rec->probe_name;
	char st[NM_NFS4_STATUS_TEXT_MAX];

	if (!a->entry.answered) {
		nm_verify_set(c, NM_V_WARN,
			      "the saved root file handle is valid, but the saved handle of '%s' "
			      "got no answer (%s)",
			      nm, no_answer(a));
		return true;
	}
	switch (a->entry.status) {
	case NFS4_OK: break;
	case NFS4ERR_STALE:
	case NFS4ERR_BADHANDLE:
		nm_verify_set(c, NM_V_FAIL,
			      "the handle of '%s' saved at registration is %s here (the root's is "
			      "valid: it names only the export): a different file system under the "
			      "same fsid, or '%s' was removed since",
			      nm, nm_nfs4_status_text(a->entry.status, st, sizeof(st)), nm);
		return true;
	default:
		nm_verify_set(c, NM_V_WARN,
			      "the handle of '%s' saved at registration: %s of it: %s", nm,
			      nm_nfs4_op_name(a->entry.op),
			      nm_nfs4_status_text(a->entry.status, st, sizeof(st)));
		return true;
	}
	if (!a->entry_have_fileid) {
		nm_verify_set(c, NM_V_WARN,
			      "the saved handle of '%s' got no answer: no fileid in the reply", nm);
		return true;
	}
	if (a->entry_fileid != rec->probe_fileid) {
		nm_verify_set(c, NM_V_FAIL,
			      "different file: '%s' has fileid %" PRIu64 ", registered %" PRIu64,
			      nm, a->entry_fileid, rec->probe_fileid);
		return true;
	}
	return false;
}

/* Where the destination's path leads, once the root's handle is known
 * good; true when it decided. */
static bool judge_walk(const struct nm_record *rec, const struct nm_verify_answer *a,
		       struct nm_check *c)
{
	char st[NM_NFS4_STATUS_TEXT_MAX];

	if (a->walk_why) {
		nm_verify_set(c, NM_V_WARN,
			      "the saved root file handle is valid, but the path %s cannot be "
			      "walked: %s",
			      a->path, a->walk_why);
		return true;
	}
	if (!a->walk.answered) {
		nm_verify_set(c, NM_V_WARN,
			      "the saved root file handle is valid, but the walk of %s got no "
			      "answer (%s)",
			      a->path, no_answer(a));
		return true;
	}
	/* A busy server, or a path nfsmig cannot walk by LOOKUP alone (a
	 * symbolic link, another flavor on the way): no answer. */
	if (transient(a->walk.status) || a->walk.status == NFS4ERR_SYMLINK ||
	    a->walk.status == NFS4ERR_WRONGSEC) {
		nm_verify_set(c, NM_V_WARN,
			      "the saved root file handle is valid, but the walk of %s got no "
			      "answer (%s of it: %s)",
			      a->path, nm_nfs4_op_name(a->walk.op),
			      nm_nfs4_status_text(a->walk.status, st, sizeof(st)));
		return true;
	}
	if (a->walk.status != NFS4_OK) {
		nm_verify_set(c, NM_V_FAIL,
			      "the saved root file handle is valid, but %s of the path %s fails "
			      "here: %s: new mounts do not reach the migrated file system",
			      nm_nfs4_op_name(a->walk.op), a->path,
			      nm_nfs4_status_text(a->walk.status, st, sizeof(st)));
		return true;
	}
	if (!a->walk_have_fsid || !a->walk_have_fileid) {
		nm_verify_set(c, NM_V_WARN,
			      "the walk of %s got no answer: no fsid or fileid in the reply",
			      a->path);
		return true;
	}
	if (a->walk_fsid_major != rec->fsid_major || a->walk_fsid_minor != rec->fsid_minor ||
	    a->walk_fileid != rec->fileid) {
		nm_verify_set(
			c, NM_V_FAIL,
			"the saved root file handle is valid, but the path %s leads elsewhere "
			"(fsid 0x%" PRIx64 ":0x%" PRIx64 " fileid %" PRIu64
			", saved root 0x%" PRIx64 ":0x%" PRIx64 " fileid %" PRIu64
			"): migrated clients and new mounts see different data",
			a->path, a->walk_fsid_major, a->walk_fsid_minor, a->walk_fileid,
			rec->fsid_major, rec->fsid_minor, rec->fileid);
		return true;
	}
	return false;
}

void nm_verify_judge_samefs(const struct nm_record *rec, const struct nm_verify_answer *a,
			    struct nm_check *c)
{
	bool volatile_fh = rec->fh_expire_type & NM_FH4_VOLATILE_ANY;
	char st[NM_NFS4_STATUS_TEXT_MAX];

	if (!a->reached) {
		nm_verify_set(c, NM_V_SKIP, "destination not reached");
		return;
	}
	if (!a->root.answered) {
		nm_verify_set(c, NM_V_FAIL, "no answer for the saved root file handle: %s",
			      no_answer(a));
		return;
	}
	nm_nfs4_status_text(a->root.status, st, sizeof(st));
	if (transient(a->root.status)) {
		nm_verify_set(c, NM_V_WARN,
			      "no answer for the saved root file handle: %s of it: %s",
			      nm_nfs4_op_name(a->root.op), st);
		return;
	}
	switch (a->root.status) {
	case NFS4_OK: break;
	case NFS4ERR_STALE:
	case NFS4ERR_BADHANDLE:
		nm_verify_set(c, NM_V_FAIL,
			      "the root file handle saved at registration is %s here: not the same "
			      "file system",
			      st);
		return;
	case NFS4ERR_FHEXPIRED:
		nm_verify_set(c, NM_V_WARN, "volatile file handles: re-lookup by path (%s)", st);
		return;
	case NFS4ERR_MOVED:
		nm_verify_set(c, NM_V_FAIL,
			      "the destination answers NFS4ERR_MOVED: it is not there either");
		return;
	default:
		nm_verify_set(c, NM_V_FAIL, "%s of the saved root file handle failed: %s",
			      nm_nfs4_op_name(a->root.op), st);
		return;
	}
	if (!a->have_fsid) {
		nm_verify_set(c, NM_V_WARN,
			      "no answer for the saved root file handle: no fsid in the reply");
		return;
	}
	if (a->fsid_major != rec->fsid_major || a->fsid_minor != rec->fsid_minor) {
		nm_verify_set(c, NM_V_FAIL,
			      "different file system: fsid 0x%" PRIx64 ":0x%" PRIx64
			      ", registered 0x%" PRIx64 ":0x%" PRIx64,
			      a->fsid_major, a->fsid_minor, rec->fsid_major, rec->fsid_minor);
		return;
	}
	if (!a->have_fileid) {
		nm_verify_set(c, NM_V_WARN,
			      "no answer for the saved root file handle: no fileid in the reply");
		return;
	}
	if (a->fileid != rec->fileid) {
		nm_verify_set(c, NM_V_FAIL,
			      "different root: fileid %" PRIu64 ", registered %" PRIu64, a->fileid,
			      rec->fileid);
		return;
	}
	/* The entry and the walk are judged both: the worse verdict stands (a
	 * walk leading elsewhere is never hidden by an entry without answer). */
	struct nm_check e = { 0 }, w = { 0 };
	bool by_entry = a->entry.wanted && !volatile_fh && judge_entry(rec, a, &e);
	bool by_walk = a->walk.wanted && judge_walk(rec, a, &w);

	if (by_entry || by_walk) {
		*c = by_walk && (!by_entry || w.v > e.v) ? w : e;
		return;
	}
	if (volatile_fh)
		nm_verify_set(c, NM_V_WARN,
			      "same fsid and root, but file handles are volatile (fh_expire_type "
			      "0x%x): re-lookup by path",
			      rec->fh_expire_type);
	else
		nm_verify_set(
			c, NM_V_OK,
			"the saved root file handle is valid: same fsid and root fileid%s%s%s%s",
			a->entry.wanted && a->entry.answered && a->entry.status == NFS4_OK
				? ", and the saved handle of an entry too"
				: "",
			a->walk.wanted ? "; the path " : "", a->walk.wanted ? a->path : "",
			a->walk.wanted ? " leads to it" : "");
}

void nm_verify_judge_security(const char *sec, const struct nm_verify_answer *a, struct nm_check *c)
{
	char list[128] = "", st[NM_NFS4_STATUS_TEXT_MAX];
	size_t off = 0;

	if (!a->reached) {
		nm_verify_set(c, NM_V_SKIP, "destination not reached");
		return;
	}
	if (!a->sec.wanted) {
		nm_verify_set(c, NM_V_SKIP, "NFSv4.0 and an export of /: SECINFO needs a name");
		return;
	}
	if (a->root.answered && a->root.status != NFS4_OK) {
		nm_verify_set(c, NM_V_SKIP, "the root file handle is not usable here");
		return;
	}
	if (!a->sec.answered) {
		if (!a->root.answered)
			nm_verify_set(c, NM_V_SKIP, "no answer");
		else
			nm_verify_set(c, NM_V_WARN, "SECINFO got no answer (%s)", no_answer(a));
		return;
	}
	if (a->sec.status != NFS4_OK) {
		nm_verify_set(c, NM_V_WARN, "%s failed: %s", nm_nfs4_op_name(a->sec.op),
			      nm_nfs4_status_text(a->sec.status, st, sizeof(st)));
		return;
	}
	for (unsigned i = 0; i < a->nflavors && i < NM_VERIFY_MAX_FLAVORS; i++) {
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%u", i ? "," : "",
					a->flavors[i]);
		if (off >= sizeof(list))
			break;
	}
	for (unsigned i = 0; i < a->nflavors && i < NM_VERIFY_MAX_FLAVORS; i++)
		if (a->flavors[i] == NM_AUTH_SYS && strcmp(sec, "sys") == 0) {
			nm_verify_set(c, NM_V_OK, "the destination offers sys (flavors %s)", list);
			return;
		}
	nm_verify_set(c, NM_V_FAIL, "the destination does not offer %s (flavors %s)", sec,
		      a->nflavors ? list : "none");
}
