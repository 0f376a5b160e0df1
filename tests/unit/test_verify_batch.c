/* verify's questions and the replies to them, from tables: a scripted
 * server answers each round nm_verify_batch plans, the reply goes through
 * the checks nm_nfs4_compound makes (nm_nfs4_check_results), and the
 * answers are judged.  Every row must end in a bounded number of rounds,
 * and a question the server did not really answer is never OK. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_nfs4.h"
#include "nm_verify_batch.h"
#include "nm_verify_judge.h"
#include "unit.h"

#define ALL	    255u
#define MAX_ROUNDS  50
#define MAX_REPLIES 4

enum attrs { A_GOOD, A_NOFILEID, A_GARBLED };

/* One reply: the first `ok` operations answered NFS4_OK (ALL: every one),
 * then, when fail is set, the next failing with it (or, with illegal, an
 * ILLEGAL result with status fail, NFS4_OK included); the COMPOUND's
 * status is fail (NFS4_OK when 0) unless status says otherwise. */
struct reply {
	unsigned ok;
	nfsstat4 fail;
	bool illegal;
	bool set_status;
	nfsstat4 status;
};

static const struct batch_row {
	const char *what;
	const char *export_path;
	const char *path; /* the walk's path, NULL for none */
	bool entry;	  /* the record saved an entry's handle */
	int bad_part;	  /* whose GETATTR gets attrs (-1: none) */
	enum attrs attrs;
	uint64_t walk_fileid;
	struct reply r[MAX_REPLIES]; /* the last one repeats */
	unsigned nr;
	enum nm_verdict v;
	const char *why;
	unsigned max; /* operations per COMPOUND, 16 when 0 */
} rows[] = {
	{ "everything answered",
	  "/e",
	  "/e",
	  true,
	  -1,
	  A_GOOD,
	  100,
	  { { .ok = ALL } },
	  1,
	  NM_V_OK,
	  "and the saved handle of an entry too; the path /e leads to it",
	  0 },
	{ "NFS4_OK with fewer results than operations, then RESOURCE with none",
	  "/",
	  "/",
	  false,
	  -1,
	  A_GOOD,
	  100,
	  { { .ok = 3 }, { .ok = 0, .set_status = true, .status = NFS4ERR_RESOURCE } },
	  2,
	  NM_V_FAIL,
	  "NFS4_OK with 3 results for 4 operations",
	  0 },
	{ "SECINFO fails, then only the walk is left and RESOURCE answers nothing",
	  "/e",
	  "/e",
	  false,
	  -1,
	  A_GOOD,
	  100,
	  { { .ok = 3, .fail = NFS4ERR_NOENT },
	    { .ok = 0, .set_status = true, .status = NFS4ERR_RESOURCE } },
	  2,
	  NM_V_WARN,
	  "the walk of /e got no answer (the COMPOUND ended after 0 of 3 operations: "
	  "NFS4ERR_RESOURCE)",
	  0 },
	{ "ILLEGAL answered NFS4_OK in place of the entry's GETATTR",
	  "/",
	  NULL,
	  true,
	  -1,
	  A_GOOD,
	  100,
	  { { .ok = 3, .fail = NFS4_OK, .illegal = true } },
	  1,
	  NM_V_FAIL,
	  "ILLEGAL answered NFS4_OK",
	  0 },
	{ "the entry's GETATTR without a fileid",
	  "/",
	  NULL,
	  true,
	  NM_VERIFY_PT_ROOT + 3,
	  A_NOFILEID,
	  100,
	  { { .ok = ALL } },
	  1,
	  NM_V_WARN,
	  "no fileid",
	  0 },
	{ "the entry's GETATTR does not decode",
	  "/",
	  NULL,
	  true,
	  NM_VERIFY_PT_ROOT + 3,
	  A_GARBLED,
	  100,
	  { { .ok = ALL } },
	  1,
	  NM_V_WARN,
	  "no fileid",
	  0 },
	{ "the root's GETATTR without a fileid",
	  "/",
	  NULL,
	  false,
	  NM_VERIFY_PT_ROOT,
	  A_NOFILEID,
	  100,
	  { { .ok = ALL } },
	  1,
	  NM_V_WARN,
	  "no fileid",
	  0 },
	{ "the walk leads elsewhere and the entry's PUTFH fails",
	  "/",
	  "/e",
	  true,
	  -1,
	  A_GOOD,
	  101,
	  { { .ok = 7, .fail = NFS4ERR_SERVERFAULT } },
	  1,
	  NM_V_FAIL,
	  "the path /e leads elsewhere",
	  0 },
	{ "a long path does not fit with the rest: walked in a round of its own",
	  "/e",
	  "/e/a/b/c",
	  true,
	  -1,
	  A_GOOD,
	  100,
	  { { .ok = ALL } },
	  1,
	  NM_V_OK,
	  "and the saved handle of an entry too; the path /e/a/b/c leads to it",
	  8 },
};

/* fsid 1:2 and a fileid, as GETATTR(fsid, fileid) returns them. */
static void put64(char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (char)(v >> (56 - 8 * i));
}

static void attrs(fattr4 *f, uint32_t *mask, char *vals, enum attrs how, uint64_t fileid)
{
	mask[0] = 1u << NM_FATTR_FSID | (how == A_NOFILEID ? 0 : 1u << NM_FATTR_FILEID);
	f->attrmask.bitmap4_len = 1;
	f->attrmask.bitmap4_val = mask;
	put64(vals, 1);
	put64(vals + 8, 2);
	put64(vals + 16, fileid);
	f->attr_vals.attrlist4_val = vals;
	f->attr_vals.attrlist4_len = how == A_GOOD ? 24 : how == A_NOFILEID ? 16 : 12;
}

static uint32_t masks[NM_XDR_MAX_OPS];
static char vals[NM_XDR_MAX_OPS][24];

/* The scripted server's reply to a round. */
static void answer(const struct batch_row *row, const struct reply *sp,
		   const struct nm_verify_round *rd, nfs_resop4 *res, COMPOUND4res *c)
{
	unsigned n = sp->ok == ALL || sp->ok > rd->k ? rd->k : sp->ok;

	memset(res, 0, sizeof(*res) * NM_XDR_MAX_OPS);
	for (unsigned x = 0; x < n; x++) {
		res[x].resop = rd->ops[x].argop;
		if (res[x].resop == OP_GETATTR) {
			int part = rd->slot[x].part;
			uint64_t id = part == NM_VERIFY_PT_ROOT + 3   ? 200
				      : part == NM_VERIFY_PT_ROOT + 2 ? row->walk_fileid
								      : 100;

			attrs(&res[x].nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes,
			      &masks[x], vals[x], part == row->bad_part ? row->attrs : A_GOOD, id);
		}
	}
	c->status = NFS4_OK;
	if ((sp->fail || sp->illegal) && n < rd->k) {
		res[n].resop = sp->illegal ? OP_ILLEGAL : rd->ops[n].argop;
		/* every result's status is its first word */
		res[n].nfs_resop4_u.opillegal.status = sp->fail;
		c->status = sp->fail;
		n++;
	}
	if (sp->set_status)
		c->status = sp->status;
	c->resarray.resarray_len = n;
	c->resarray.resarray_val = res;
}

static void run_row(struct unit *u, const struct batch_row *row)
{
	struct nm_verify_item item;
	struct nm_verify_item *items[1] = { &item };
	struct nm_verify_answer a = { .path = row->path };
	struct nm_verify_group g = { .items = items, .answers = &a, .n = 1 };
	struct nm_verify_round rd;
	nfs_resop4 res[NM_XDR_MAX_OPS];
	struct nm_check c = { 0 };
	unsigned rounds = 0;

	memset(&item, 0, sizeof(item));
	item.m.minor = 0;
	item.m.sec = (char *)"sys";
	item.rec.export_path = (char *)row->export_path;
	item.rec.root_fh_len = 4;
	item.rec.fsid_major = 1, item.rec.fsid_minor = 2, item.rec.fileid = 100;
	if (row->entry) {
		item.rec.probe_name = (char *)"f";
		item.rec.probe_fh_len = 4;
		item.rec.probe_fileid = 200;
	}
	nm_verify_batch_start(&g);
	a.reached = true;
	while (rounds < MAX_ROUNDS && nm_verify_batch_plan(&g, row->max ? row->max : 16, &rd) > 0) {
		const struct reply *sp = &row->r[rounds < row->nr ? rounds : row->nr - 1];
		struct nm_nfs4_reply r = { 0 };
		struct nm_err err = { 0 };

		rounds++;
		answer(row, sp, &rd, res, &r.raw);
		if (nm_nfs4_check_results("fake", rd.ops, rd.k, &r.raw, &err) < 0) {
			nm_verify_batch_give_up(&g, 0, g.n, err.msg);
			break;
		}
		r.status = r.raw.status;
		r.ops = r.raw.resarray.resarray_val;
		r.nops = r.raw.resarray.resarray_len;
		nm_verify_batch_take(&g, &rd, &r);
	}
	nm_verify_judge_samefs(&item.rec, &a, &c);
	UNIT_CHECK(u, rounds < MAX_ROUNDS, "batch: %s: ends (%u rounds)", row->what, rounds);
	UNIT_CHECK(u, c.v == row->v && strstr(c.why, row->why), "batch: %s: %s: %s", row->what,
		   nm_verdict_name(c.v), c.why);
}

/* The path walked for a path stored in a record. */
static const struct walk_row {
	const char *stored, *walked;
	bool walkable;
} walk_rows[] = {
	{ "/export/data", "/export/data", true },
	{ "/export/./data/", "/export/data", true },
	{ "/export/x/../data", "/export/data", true },
	{ "/../export", "/export", true },
	{ "/", "/", true },
	{ "/odd\\x01name", "/odd\\x01name", false },
};

int main(void)
{
	struct unit u = { 0 };

	unit_start();
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&u, &rows[i]);
	for (size_t i = 0; i < sizeof(walk_rows) / sizeof(walk_rows[0]); i++) {
		const struct walk_row *w = &walk_rows[i];
		const char *why = NULL;
		char *p = nm_verify_walk_path(w->stored, &why);

		UNIT_CHECK(&u, p && strcmp(p, w->walked) == 0 && (why == NULL) == w->walkable,
			   "walk path: %s -> %s (%s)", w->stored, p ? p : "(null)",
			   why ? why : "walkable");
		free(p);
	}
	return unit_done(&u);
}
