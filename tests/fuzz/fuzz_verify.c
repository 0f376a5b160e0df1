/* fuzz_verify: verify's questions and the server's replies to them, the
 * way `nfsmig verify` asks them (nm_verify_batch_run_on over a session to
 * the stub server of fuzz_stub.h: nm_nfs4, nm_rpc, libtirpc).
 *
 * Invariants, after the batch: every part an item wanted ends answered or
 * with the reason it was not (the answer's error); a check judged from a
 * part that was not answered is never OK; and a check judged from a part
 * answered with a failure is never OK either.
 *
 * Input: one byte of settings, then reply records (fuzz_stub.h):
 *   bits 0-1  minor version 0, 1, 2 (3: 1)
 *   bit 2     the record saved an entry's handle (PUTFH + GETATTR asked)
 *   bit 3     two mounts in the group (their questions share COMPOUNDs)
 *   bits 4-5  the path walked: none, "/", "/export/data", 40 components
 *   bit 6     the export path "/" instead of "/export/data" (4.0's SECINFO
 *             asks the root's name) */
#include "fuzz_check.h"
#include "fuzz_stub.h"
#include "nm_verify_batch.h"
#include "nm_verify_judge.h"

static const char *walks[] = {
	NULL,
	"/",
	"/export/data",
	("/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20/"
	 "21/22/23/24/25/26/27/28/29/30/31/32/33/34/35/36/37/38/39/40"),
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	stub_init();
	return 0;
}

static void item_init(struct nm_verify_item *it, uint8_t cfg)
{
	memset(it, 0, sizeof(*it));
	it->m.server = (char *)"192.0.2.1";
	it->m.target = (char *)"/mnt/a";
	it->m.sec = (char *)"sys";
	it->m.minor = (cfg & 3) == 3 ? 1 : (int)(cfg & 3);
	it->have_rec = true;
	it->rec.minor = it->m.minor;
	it->rec.export_path = (char *)((cfg & 0x40) ? "/" : "/export/data");
	it->rec.root_fh_len = 4;
	memcpy(it->rec.root_fh, "\x01\x02\x03\x04", 4);
	it->rec.fsid_major = 1, it->rec.fsid_minor = 2, it->rec.fileid = 100;
	if (cfg & 4) {
		it->rec.probe_name = (char *)"f";
		it->rec.probe_fh_len = 4;
		memcpy(it->rec.probe_fh, "\x05\x06\x07\x08", 4);
		it->rec.probe_fileid = 200;
	}
}

/* A part it wanted: answered, or a reason why not. */
static void check_part(const struct nm_verify_answer *a, const struct nm_verify_part *p)
{
	if (p->wanted)
		FUZZ_ASSERT(p->answered || a->error[0]);
}

static void check_answer(const struct nm_verify_item *it, const struct nm_verify_answer *a,
			 unsigned minor)
{
	struct nm_check c;
	bool root_ok = a->root.answered && a->root.status == NFS4_OK;

	check_part(a, &a->root);
	check_part(a, &a->sec);
	check_part(a, &a->walk);
	check_part(a, &a->entry);

	memset(&c, 0, sizeof(c));
	nm_verify_judge_samefs(&it->rec, a, &c);
	if (!root_ok || (a->entry.wanted && !(a->entry.answered && a->entry.status == NFS4_OK)) ||
	    (a->walk.wanted && !(a->walk.answered && a->walk.status == NFS4_OK)))
		FUZZ_ASSERT(c.v != NM_V_OK);

	memset(&c, 0, sizeof(c));
	nm_verify_judge_security(it->m.sec, a, &c);
	if (!(a->sec.answered && a->sec.status == NFS4_OK))
		FUZZ_ASSERT(c.v != NM_V_OK);

	/* The nfs check judges the session, which the batch had. */
	memset(&c, 0, sizeof(c));
	nm_verify_judge_nfs(it->m.server, a, minor, NULL, "", &c);
	FUZZ_ASSERT(a->reached && c.v == NM_V_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_nfs4_opts opts = { .rpc = { .call_ms = 500, .connect_ms = 500 } };
	struct nm_verify_item it[2];
	struct nm_verify_item *items[2] = { &it[0], &it[1] };
	struct nm_verify_answer a[2];
	struct nm_verify_group g;
	struct stub s = { 0 };
	struct nm_nfs4 *c;
	int sv[2];
	uint8_t cfg;

	if (size < 1)
		return 0;
	cfg = data[0];
	memset(a, 0, sizeof(a));
	memset(&g, 0, sizeof(g));
	item_init(&it[0], cfg);
	item_init(&it[1], cfg);
	it[1].m.target = (char *)"/mnt/b";
	for (int i = 0; i < 2; i++)
		a[i].path = walks[(cfg >> 4) & 3];
	g.items = items;
	g.answers = a;
	g.n = (cfg & 8) ? 2 : 1;
	g.timeout_ms = 50; /* the DELAY budget: real sleeps would eat the run's time */
	opts.minor = nm_verify_minor_of(&it[0]);
	opts.sec = it[0].m.sec;
	nm_verify_batch_start(&g);
	stub_open(&s, sv, data + 1, size - 1, &opts, &c);
	if (c) {
		nm_verify_batch_run_on(c, &g);
		for (size_t i = 0; i < g.n; i++)
			check_answer(&it[i], &a[i], g.minor);
		nm_nfs4_close(c); /* closes sv[0]: the stub's read ends */
	}
	stub_end(sv);
	return 0;
}
