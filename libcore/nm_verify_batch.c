#include "nm_verify_batch.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "nm_fattr.h"
#include "nm_nfs4.h"
#include "nm_path.h"
#include "nm_rpc.h"
#include "nm_time.h"

enum part { PT_ROOT = NM_VERIFY_PT_ROOT, PT_SEC, PT_WALK, PT_ENTRY };

int nm_verify_minor_of(const struct nm_verify_item *it)
{
	return it->m.minor >= 0 ? it->m.minor : it->rec.minor;
}

/* The last component of the path of the root on the destination (for
 * 4.0's SECINFO): the recorded location's rootpath after a move, else the
 * export path; NULL for "/". */
static const char *root_name(const struct nm_verify_item *it, const struct nm_verify_answer *a)
{
	const char *path = a->path ? a->path : it->rec.export_path;
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : NULL;
}
static struct nm_verify_part *part_of(struct nm_verify_answer *a, enum part p)
{
	return p == PT_ROOT   ? &a->root
	       : p == PT_SEC  ? &a->sec
	       : p == PT_WALK ? &a->walk
			      : &a->entry;
}

/* The components of a path, one after another: *len bytes at the result,
 * or NULL after the last. */
static const char *component(const char **cur, size_t *len)
{
	const char *s = *cur;

	while (*s == '/')
		s++;
	if (!*s)
		return NULL;
	*len = strcspn(s, "/");
	*cur = s + *len;
	return s;
}

static unsigned ncomponents(const char *path)
{
	const char *cur = path;
	size_t len;
	unsigned n = 0;

	while (component(&cur, &len))
		n++;
	return n;
}

static bool pending(const struct nm_verify_answer *a, enum part p)
{
	const struct nm_verify_part *x = part_of((struct nm_verify_answer *)a, p);

	if (a->error[0] || !x->wanted || x->answered || (p == PT_WALK && a->walk_why))
		return false;
	/* SECINFO needs the root's handle, and where the path leads matters
	 * only for a root that is right: a root that failed answers both. */
	return (p != PT_SEC && p != PT_WALK) || !a->root.answered || a->root.status == NFS4_OK;
}

static void add(struct nm_verify_round *r, size_t item, enum part p, bool last, nfs_opnum4 op)
{
	memset(&r->ops[r->k], 0, sizeof(r->ops[r->k]));
	r->ops[r->k].argop = op;
	r->slot[r->k] = (struct nm_verify_slot){ .item = item, .part = p, .last = last };
	r->k++;
}

static void add_putfh(struct nm_verify_round *r, size_t item, enum part p, const unsigned char *fh,
		      unsigned len)
{
	add(r, item, p, false, OP_PUTFH);
	r->ops[r->k - 1].nfs_argop4_u.opputfh.object.nfs_fh4_len = len;
	r->ops[r->k - 1].nfs_argop4_u.opputfh.object.nfs_fh4_val = (char *)fh;
}

static void add_getattr(struct nm_verify_round *r, size_t item, enum part p)
{
	static const enum nm_fattr_id ids[] = { NM_FATTR_FSID, NM_FATTR_FILEID };

	add(r, item, p, true, OP_GETATTR);
	nm_fattr_mask(&r->ops[r->k - 1].nfs_argop4_u.opgetattr.attr_request, r->words, ids, 2);
}

/* How many operations a pending part takes (0 when it is not pending). */
static unsigned need_part(const struct nm_verify_item *it, const struct nm_verify_answer *a,
			  enum part p)
{
	if (!pending(a, p))
		return 0;
	switch (p) {
	case PT_ROOT: return 2;
	case PT_SEC: return (pending(a, PT_ROOT) ? 0 : 1) + (nm_verify_minor_of(it) > 0 ? 1 : 2);
	case PT_WALK: return 2 + ncomponents(a->path);
	case PT_ENTRY: return 2;
	}
	return 0;
}

/* How many operations the item's pending parts take. */
static unsigned need(const struct nm_verify_item *it, const struct nm_verify_answer *a)
{
	unsigned n = 0;

	for (int p = PT_ROOT; p <= PT_ENTRY; p++)
		n += need_part(it, a, (enum part)p);
	return n;
}

static void add_part(struct nm_verify_round *r, size_t i, const struct nm_verify_item *it,
		     const struct nm_verify_answer *a, enum part p)
{
	if (!pending(a, p))
		return;
	if (p == PT_ROOT) {
		add_putfh(r, i, PT_ROOT, it->rec.root_fh, it->rec.root_fh_len);
		add_getattr(r, i, PT_ROOT);
	} else if (p == PT_SEC) {
		/* The root's PUTFH and GETATTR, when pending, come just before. */
		if (!pending(a, PT_ROOT))
			add_putfh(r, i, PT_SEC, it->rec.root_fh, it->rec.root_fh_len);
		if (nm_verify_minor_of(it) > 0) {
			add(r, i, PT_SEC, true, OP_SECINFO_NO_NAME);
			r->ops[r->k - 1].nfs_argop4_u.opsecinfo_no_name = SECINFO_STYLE4_CURRENT_FH;
		} else {
			const char *name = root_name(it, a);
			SECINFO4args *s;

			add(r, i, PT_SEC, false, OP_LOOKUPP);
			add(r, i, PT_SEC, true, OP_SECINFO);
			s = &r->ops[r->k - 1].nfs_argop4_u.opsecinfo;
			s->name.utf8str_cs_len = (unsigned)strlen(name);
			s->name.utf8str_cs_val = (char *)name;
		}
	} else if (p == PT_WALK) {
		const char *cur = a->path, *c;
		size_t len;

		add(r, i, PT_WALK, false, OP_PUTROOTFH);
		while ((c = component(&cur, &len))) {
			add(r, i, PT_WALK, false, OP_LOOKUP);
			r->ops[r->k - 1].nfs_argop4_u.oplookup.objname.utf8str_cs_len =
				(unsigned)len;
			r->ops[r->k - 1].nfs_argop4_u.oplookup.objname.utf8str_cs_val = (char *)c;
		}
		add_getattr(r, i, PT_WALK);
	} else {
		add_putfh(r, i, PT_ENTRY, it->rec.probe_fh, it->rec.probe_fh_len);
		add_getattr(r, i, PT_ENTRY);
	}
}

static void add_item(struct nm_verify_round *r, size_t i, const struct nm_verify_item *it,
		     const struct nm_verify_answer *a)
{
	for (int p = PT_ROOT; p <= PT_ENTRY; p++)
		add_part(r, i, it, a, (enum part)p);
}

static void take_secinfo(struct nm_verify_answer *a, const SECINFO4res *r)
{
	for (unsigned i = 0;
	     i < r->SECINFO4res_u.resok4.SECINFO4resok_len && a->nflavors < NM_VERIFY_MAX_FLAVORS;
	     i++)
		a->flavors[a->nflavors++] = r->SECINFO4res_u.resok4.SECINFO4resok_val[i].flavor;
}

/* The attributes of a part's GETATTR; attributes that do not decode
 * leave it without fsid and fileid, which the judges call no answer. */
static void take_attrs(struct nm_verify_answer *a, enum part p, const fattr4 *f)
{
	struct nm_fattr x;
	struct nm_err err = { 0 };

	if (nm_fattr_decode(f, &x, &err) < 0)
		return;
	if (p == PT_ROOT) {
		a->have_fsid = nm_fattr_has(&x, NM_FATTR_FSID);
		a->fsid_major = x.fsid.major;
		a->fsid_minor = x.fsid.minor;
		a->have_fileid = nm_fattr_has(&x, NM_FATTR_FILEID);
		a->fileid = x.fileid;
	} else if (p == PT_WALK) {
		a->walk_have_fsid = nm_fattr_has(&x, NM_FATTR_FSID);
		a->walk_fsid_major = x.fsid.major;
		a->walk_fsid_minor = x.fsid.minor;
		a->walk_have_fileid = nm_fattr_has(&x, NM_FATTR_FILEID);
		a->walk_fileid = x.fileid;
	} else {
		a->entry_have_fileid = nm_fattr_has(&x, NM_FATTR_FILEID);
		a->entry_fileid = x.fileid;
	}
	nm_fattr_free(&x);
}

/* Record what the reply answered; returns how many parts it settled.  A
 * part is answered OK only by the result of the very operation that ends
 * it; a reply that stops short settles nothing more. */
static unsigned take(struct nm_verify_group *g, const struct nm_verify_round *rd,
		     const struct nm_nfs4_reply *r)
{
	unsigned settled = 0;

	for (unsigned x = 0; x < r->nops && x < rd->k; x++) {
		const struct nm_verify_slot *s = &rd->slot[x];
		struct nm_verify_answer *a = &g->answers[s->item];
		struct nm_verify_part *p = part_of(a, (enum part)s->part);
		const nfs_resop4 *res = &r->ops[x];
		nfsstat4 st = nm_nfs4_resop_status(res);

		if (st != NFS4_OK) {
			p->answered = true, p->status = st, p->op = rd->ops[x].argop;
			settled++;
			break; /* the COMPOUND stopped here */
		}
		if (res->resop != rd->ops[x].argop)
			break; /* not an answer to what was asked */
		if (!s->last)
			continue;
		if (res->resop == OP_GETATTR)
			take_attrs(
				a, (enum part)s->part,
				&res->nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes);
		else if (res->resop == OP_SECINFO)
			take_secinfo(a, &res->nfs_resop4_u.opsecinfo);
		else if (res->resop == OP_SECINFO_NO_NAME)
			take_secinfo(a, &res->nfs_resop4_u.opsecinfo_no_name);
		p->answered = true, p->status = NFS4_OK;
		settled++;
	}
	return settled;
}

void nm_verify_batch_give_up(struct nm_verify_group *g, size_t from, size_t to, const char *why)
{
	for (size_t i = from; i < to && i < g->n; i++) {
		struct nm_verify_answer *a = &g->answers[i];

		if (!a->error[0] && need(g->items[i], a) > 0)
			snprintf(a->error, sizeof(a->error), "%s", why);
	}
}

void nm_verify_batch_start(struct nm_verify_group *g)
{
	for (size_t i = 0; i < g->n; i++) {
		const struct nm_verify_item *it = g->items[i];
		struct nm_verify_answer *a = &g->answers[i];
		const char *path = a->path, *why = a->walk_why; /* set by the caller */

		memset(a, 0, sizeof(*a));
		a->path = path;
		a->walk_why = why;
		a->walk.wanted = path != NULL;
		a->root.wanted = true;
		a->sec.wanted = nm_verify_minor_of(it) > 0 || root_name(it, a);
		a->entry.wanted =
			it->rec.probe_fh_len > 0 && it->rec.probe_name && it->rec.probe_name[0];
	}
}

unsigned nm_verify_batch_plan(struct nm_verify_group *g, unsigned max, struct nm_verify_round *rd)
{
	rd->k = 0;
	for (;;) {
		size_t i, next = 0;

		/* The first item with a question left; the round starts there. */
		while (next < g->n && need(g->items[next], &g->answers[next]) == 0)
			next++;
		if (next >= g->n)
			return 0;
		for (i = next; i < g->n; i++) {
			unsigned u = need(g->items[i], &g->answers[i]);

			if (rd->k + u > max)
				break;
			add_item(rd, i, g->items[i], &g->answers[i]);
		}
		rd->from = next, rd->to = i;
		if (rd->k > 0)
			return rd->k;
		/* The item alone does not fit: its parts that fit, one round
		 * after another (a long path walked in a round of its own). */
		for (int p = PT_ROOT; p <= PT_ENTRY; p++) {
			unsigned u = need_part(g->items[next], &g->answers[next], (enum part)p);

			if (u > 0 && rd->k + u <= max)
				add_part(rd, next, g->items[next], &g->answers[next], (enum part)p);
		}
		rd->from = next, rd->to = next + 1;
		if (rd->k > 0)
			return rd->k;
		nm_verify_batch_give_up(g, next, next + 1,
					"the server allows too few operations per COMPOUND");
	}
}

void nm_verify_batch_take(struct nm_verify_group *g, const struct nm_verify_round *rd,
			  const struct nm_nfs4_reply *r)
{
	if (take(g, rd, r) == 0) {
		char why[NM_ERR_MSG_MAX], st[NM_NFS4_STATUS_TEXT_MAX];

		snprintf(why, sizeof(why), "the COMPOUND ended after %u of %u operations: %s",
			 r->nops, rd->k, nm_nfs4_status_text(r->status, st, sizeof(st)));
		nm_verify_batch_give_up(g, rd->from, rd->to, why);
	}
}

void nm_verify_batch_run(struct nm_verify_group *g)
{
	struct nm_verify_item *first = g->items[0];
	struct nm_nfs4_opts no = { .rpc = { .port = first->m.port,
					    .connect_ms = g->timeout_ms,
					    .call_ms = g->timeout_ms },
				   .minor = nm_verify_minor_of(first),
				   .sec = first->m.sec };
	struct nm_err err = { 0 };
	struct nm_nfs4 *c = NULL;

	nm_verify_batch_start(g);
	if (nm_nfs4_open(first->m.server, &no, &c, &err) < 0) {
		nm_rpc_not_answering(&err, first->m.server, g->n == 1 ? first->m.target : NULL);
		snprintf(g->error, sizeof(g->error), "%s", err.msg);
		return;
	}
	nm_verify_batch_run_on(c, g);
	nm_nfs4_shutdown(c);
	g->rpcs = nm_nfs4_rpcs(c);
	nm_nfs4_close(c);
}

void nm_verify_batch_run_on(struct nm_nfs4 *c, struct nm_verify_group *g)
{
	struct nm_err err = { 0 };
	/* Each round settles a part or gives up on some: a bound, not a hope. */
	size_t rounds = NM_VERIFY_PARTS * g->n + 1;
	int64_t deadline;

	g->minor = nm_nfs4_minor(c);
	snprintf(g->note, sizeof(g->note), "%s", nm_nfs4_note(c));
	for (size_t i = 0; i < g->n; i++)
		g->answers[i].reached = true;
	/* One deadline for the group's DELAYs: each DELAY settles one part,
	 * so retrying each COMPOUND for --timeout would cost a round per part. */
	deadline = nm_time_ms() + g->timeout_ms;
	nm_nfs4_set_delay_deadline(c, deadline);
	for (;;) {
		struct nm_verify_round rd;
		struct nm_nfs4_reply r;

		if (nm_verify_batch_plan(g, nm_nfs4_max_ops(c), &rd) == 0)
			break;
		if (rounds-- == 0) {
			nm_verify_batch_give_up(g, 0, g->n, "the server's replies settle nothing");
			break;
		}
		if (nm_nfs4_compound(c, rd.ops, rd.k, &r, &err) < 0) {
			/* Connected, then no reply: not answering all the same. */
			nm_rpc_not_answering(&err, g->items[0]->m.server,
					     g->n == 1 ? g->items[0]->m.target : NULL);
			nm_verify_batch_give_up(g, 0, g->n, err.msg);
			break;
		}
		nm_verify_batch_take(g, &rd, &r);
		if (r.status == NFS4ERR_DELAY && nm_time_ms() >= deadline) {
			char why[NM_ERR_MSG_MAX];

			snprintf(why, sizeof(why),
				 "the server answered NFS4ERR_DELAY for %d ms (--timeout)",
				 g->timeout_ms);
			nm_verify_batch_give_up(g, 0, g->n, why);
		}
		nm_nfs4_reply_free(&r);
	}
}

char *nm_verify_walk_path(const char *stored, const char **why)
{
	struct nm_path p = { 0 };
	struct nm_err err = { 0 };
	char *s;

	*why = NULL;
	/* A record keeps a path's odd bytes escaped (\xNN): the name on the
	 * server is not the text, and LOOKUP of the text would fail. */
	if (strchr(stored, '\\')) {
		*why = "it holds bytes kept escaped in the record";
		return strdup(stored);
	}
	if (nm_path_split(stored, &p, &err) < 0) {
		*why = "it is not a path nfsmig can walk";
		return strdup(stored);
	}
	s = nm_path_join(&p, p.n);
	nm_path_free(&p);
	return s;
}
