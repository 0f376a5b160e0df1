/* nm_lease's decisions from tables: what a lease answer says, and the
 * verdict on one record from what the server said about its root handle.
 * A probe not answered, or answered without the record's fsid, is never
 * "here". */
#include <errno.h>
#include <string.h>

#include "nm_lease.h"
#include "unit.h"

static const struct said_row {
	const char *what;
	unsigned minor;
	nfsstat4 renew;
	uint32_t flags;
	int want;
} said_rows[] = {
	{ "4.0 RENEW NFS4ERR_LEASE_MOVED", 0, NFS4ERR_LEASE_MOVED, 0, 1 },
	{ "4.0 RENEW NFS4_OK", 0, NFS4_OK, 0, 0 },
	{ "4.0 RENEW NFS4_OK, a SEQUENCE flag means nothing in 4.0", 0, NFS4_OK,
	  SEQ4_STATUS_LEASE_MOVED, 0 },
	{ "4.0 RENEW NFS4ERR_EXPIRED says nothing", 0, NFS4ERR_EXPIRED, 0, -EPROTO },
	{ "4.0 RENEW NFS4ERR_STALE_CLIENTID says nothing", 0, NFS4ERR_STALE_CLIENTID, 0, -EPROTO },
	{ "4.0 RENEW NFS4ERR_MOVED is not the lease's", 0, NFS4ERR_MOVED, 0, -EPROTO },
	{ "4.1 SEQ4_STATUS_LEASE_MOVED", 1, NFS4_OK, SEQ4_STATUS_LEASE_MOVED, 1 },
	{ "4.1 LEASE_MOVED among other flags", 1, NFS4_OK, 0x80 | 0x1 | 0x400, 1 },
	{ "4.1 other flags only", 1, NFS4_OK, 0x1 | 0x2 | 0x100, 0 },
	{ "4.1 no flags", 1, NFS4_OK, 0, 0 },
	{ "4.2 SEQ4_STATUS_LEASE_MOVED", 2, NFS4_OK, SEQ4_STATUS_LEASE_MOVED, 1 },
};

static const struct kev_row {
	const char *what;
	struct nm_kev ev;
	int want;
} kev_rows[] = {
	{ "nfs4_xdr_status NFS4ERR_LEASE_MOVED",
	  { .kind = NM_KEV_LEASE_MOVED, .name = "nfs4_xdr_status", .peer = "192.0.2.1" },
	  1 },
	{ "nfs4_state_mgr with LEASE_MOVED",
	  { .kind = NM_KEV_STATE_MGR,
	    .flags = NM_KEV_F_LEASE_MOVED | NM_KEV_F_MANAGER_RUNNING,
	    .host = "server-a" },
	  1 },
	{ "nfs4_state_mgr with MOVED only (a migration, not a lease)",
	  { .kind = NM_KEV_STATE_MGR, .flags = NM_KEV_F_MOVED, .host = "server-a" },
	  0 },
	{ "nfs4_state_mgr without flags", { .kind = NM_KEV_STATE_MGR, .host = "server-a" }, 0 },
	{ "nfs4_xdr_status NFS4ERR_MOVED", { .kind = NM_KEV_MOVED, .peer = "192.0.2.1" }, 0 },
	{ "LEASE_MOVED naming no server", { .kind = NM_KEV_LEASE_MOVED }, 0 },
	{ "a uevent", { .kind = NM_KEV_XPRT_SWITCH, .flags = NM_KEV_F_LEASE_MOVED }, 0 },
};

/* The record every row is judged against: fsid 1:2, a root handle. */
static void record(struct nm_record *r)
{
	memset(r, 0, sizeof(*r));
	r->fsid_major = 1;
	r->fsid_minor = 2;
	r->root_fh_len = 4;
}

#define PUT_OK	   .putfh_answered = true, .putfh = NFS4_OK, .getfh_answered = true, .getfh = NFS4_OK
#define PUTFH_ONLY .putfh_answered = true, .putfh = NFS4_OK
#define GA(st)	   .getattr_answered = true, .getattr = (st)

static const struct judge_row {
	const char *what;
	struct nm_lease_answer a;
	enum nm_lease_verdict v;
	nfs_opnum4 op;
	const char *why; /* a part of the reason */
} judge_rows[] = {
	{ "fsid answered, the record's",
	  { PUT_OK, GA(NFS4_OK), .have_fsid = true, .fsid_major = 1, .fsid_minor = 2 },
	  NM_LEASE_HERE,
	  OP_GETATTR,
	  "still served here" },
	{ "fsid and rdattr_error OK",
	  { PUT_OK, GA(NFS4_OK), .have_fsid = true, .fsid_major = 1, .fsid_minor = 2,
	    .have_rdattr_error = true, .rdattr_error = NFS4_OK },
	  NM_LEASE_HERE,
	  OP_GETATTR,
	  "fsid 1:2" },
	{ "GETATTR NFS4ERR_MOVED",
	  { PUT_OK, GA(NFS4ERR_MOVED) },
	  NM_LEASE_MOVED,
	  OP_GETATTR,
	  "GETATTR answered NFS4ERR_MOVED" },
	{ "PUTFH NFS4ERR_MOVED",
	  { .putfh_answered = true, .putfh = NFS4ERR_MOVED },
	  NM_LEASE_MOVED,
	  OP_PUTFH,
	  "PUTFH of the saved root handle answered NFS4ERR_MOVED" },
	{ "GETATTR OK with rdattr_error MOVED (fs_locations of an absent file system)",
	  { PUT_OK, GA(NFS4_OK), .have_fsid = true, .fsid_major = 1, .fsid_minor = 2,
	    .have_rdattr_error = true, .rdattr_error = NFS4ERR_MOVED },
	  NM_LEASE_MOVED,
	  OP_GETATTR,
	  "rdattr_error answered NFS4ERR_MOVED" },
	{ "PUTFH NFS4ERR_STALE",
	  { .putfh_answered = true, .putfh = NFS4ERR_STALE },
	  NM_LEASE_STALE,
	  OP_PUTFH,
	  "handle is gone" },
	{ "PUTFH NFS4ERR_FHEXPIRED",
	  { .putfh_answered = true, .putfh = NFS4ERR_FHEXPIRED },
	  NM_LEASE_STALE,
	  OP_PUTFH,
	  "NFS4ERR_FHEXPIRED" },
	{ "PUTFH NFS4ERR_BADHANDLE",
	  { .putfh_answered = true, .putfh = NFS4ERR_BADHANDLE },
	  NM_LEASE_STALE,
	  OP_PUTFH,
	  "NFS4ERR_BADHANDLE" },
	{ "GETATTR NFS4ERR_STALE",
	  { PUT_OK, GA(NFS4ERR_STALE) },
	  NM_LEASE_STALE,
	  OP_GETATTR,
	  "GETATTR answered NFS4ERR_STALE" },
	{ "GETATTR NFS4ERR_ACCESS",
	  { PUT_OK, GA(NFS4ERR_ACCESS) },
	  NM_LEASE_OTHER,
	  OP_GETATTR,
	  "NFS4ERR_ACCESS" },
	{ "PUTFH NFS4ERR_WRONGSEC",
	  { .putfh_answered = true, .putfh = NFS4ERR_WRONGSEC },
	  NM_LEASE_OTHER,
	  OP_PUTFH,
	  "NFS4ERR_WRONGSEC" },
	{ "DELAY until the deadline is no answer",
	  { PUT_OK, GA(NFS4ERR_DELAY) },
	  NM_LEASE_UNANSWERED,
	  OP_GETATTR,
	  "NFS4ERR_DELAY until the deadline" },
	{ "GRACE is no answer",
	  { .putfh_answered = true, .putfh = NFS4ERR_GRACE },
	  NM_LEASE_UNANSWERED,
	  OP_PUTFH,
	  "NFS4ERR_GRACE: the server is in its grace period" },
	{ "GETATTR OK without fsid",
	  { PUT_OK, GA(NFS4_OK) },
	  NM_LEASE_OTHER,
	  OP_GETATTR,
	  "without the fsid" },
	{ "another fsid on the saved handle",
	  { PUT_OK, GA(NFS4_OK), .have_fsid = true, .fsid_major = 1, .fsid_minor = 3 },
	  NM_LEASE_OTHER,
	  OP_GETATTR,
	  "answers fsid 1:3, the record has 1:2" },
	{ "fsid with major and minor swapped",
	  { PUT_OK, GA(NFS4_OK), .have_fsid = true, .fsid_major = 2, .fsid_minor = 1 },
	  NM_LEASE_OTHER,
	  OP_GETATTR,
	  "fsid 2:1" },
	{ "not answered (the connection failed)",
	  { .why = "192.0.2.1 port 2049: no reply within 1000 ms" },
	  NM_LEASE_UNANSWERED,
	  OP_PUTFH,
	  "not answered: 192.0.2.1" },
	{ "no result at all", { .why = NULL }, NM_LEASE_UNANSWERED, OP_PUTFH, "no PUTFH result" },
	{ "PUTFH OK, GETFH not answered",
	  { PUTFH_ONLY },
	  NM_LEASE_UNANSWERED,
	  OP_GETFH,
	  "no GETFH result" },
	/* knfsd: GETFH is not allowed on an absent file system. */
	{ "GETFH NFS4ERR_MOVED (knfsd's answer for a migrated file system)",
	  { PUTFH_ONLY, .getfh_answered = true, .getfh = NFS4ERR_MOVED },
	  NM_LEASE_MOVED,
	  OP_GETFH,
	  "GETFH answered NFS4ERR_MOVED" },
	{ "GETFH NFS4ERR_STALE",
	  { PUTFH_ONLY, .getfh_answered = true, .getfh = NFS4ERR_STALE },
	  NM_LEASE_STALE,
	  OP_GETFH,
	  "GETFH answered NFS4ERR_STALE" },
	{ "GETFH NFS4ERR_DELAY",
	  { PUTFH_ONLY, .getfh_answered = true, .getfh = NFS4ERR_DELAY },
	  NM_LEASE_UNANSWERED,
	  OP_GETFH,
	  "NFS4ERR_DELAY" },
	/* knfsd answers GETATTR(fsid) of an absent file system NFS4_OK with
	 * the referral fsid: never "here". */
	{ "the referral fsid 0x8000000:0x8000000",
	  { PUT_OK, GA(NFS4_OK), .have_fsid = true, .fsid_major = 0x8000000,
	    .fsid_minor = 0x8000000 },
	  NM_LEASE_OTHER,
	  OP_GETATTR,
	  "referral fsid" },
	{ "PUTFH and GETFH OK, GETATTR not answered",
	  { PUT_OK },
	  NM_LEASE_UNANSWERED,
	  OP_GETATTR,
	  "no GETATTR result" },
	{ "a reason wins over results that look good",
	  { .why = "GETATTR's attributes: malformed",
	    PUT_OK,
	    GA(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2 },
	  NM_LEASE_UNANSWERED,
	  OP_PUTFH,
	  "malformed" },
};

int main(void)
{
	struct unit u = { 0 };
	struct nm_record rec;

	unit_start();
	for (size_t i = 0; i < sizeof(said_rows) / sizeof(said_rows[0]); i++) {
		const struct said_row *r = &said_rows[i];
		int got = nm_lease_moved_said(r->minor, r->renew, r->flags);

		UNIT_CHECK(&u, got == r->want, "lease said: %s (got %d, want %d)", r->what, got,
			   r->want);
	}
	for (size_t i = 0; i < sizeof(kev_rows) / sizeof(kev_rows[0]); i++) {
		int got = nm_lease_kev_starts_probe(&kev_rows[i].ev);

		UNIT_CHECK(&u, got == kev_rows[i].want, "kernel event: %s (got %d, want %d)",
			   kev_rows[i].what, got, kev_rows[i].want);
	}
	UNIT_CHECK(&u, nm_lease_kev_starts_probe(NULL) == 0, "kernel event: NULL");
	record(&rec);
	for (size_t i = 0; i < sizeof(judge_rows) / sizeof(judge_rows[0]); i++) {
		const struct judge_row *r = &judge_rows[i];
		struct nm_lease_result out;

		memset(&out, 0x5a, sizeof(out));
		out.locations = NULL;
		out.nlocations = 0;
		nm_lease_judge(&rec, &r->a, &out);
		UNIT_CHECK(&u, out.verdict == r->v && out.op == r->op && strstr(out.reason, r->why),
			   "judge: %s -> %s (%s: %s)", r->what, nm_lease_verdict_name(r->v),
			   nm_lease_verdict_name(out.verdict), out.reason);
		/* Only an fsid that matches is "here". */
		if (out.verdict == NM_LEASE_HERE)
			UNIT_CHECK(&u,
				   r->a.have_fsid && r->a.fsid_major == 1 && r->a.fsid_minor == 2,
				   "judge: %s: here only with the record's fsid", r->what);
	}
	{
		struct nm_lease_answer a = { PUT_OK, GA(NFS4_OK), .have_fsid = true,
					     .fsid_major = NM_LEASE_REFERRAL_FSID,
					     .fsid_minor = NM_LEASE_REFERRAL_FSID };
		struct nm_lease_result out = { 0 };

		rec.fsid_major = rec.fsid_minor = NM_LEASE_REFERRAL_FSID;
		nm_lease_judge(&rec, &a, &out);
		UNIT_CHECK(&u, out.verdict == NM_LEASE_OTHER,
			   "judge: a record whose fsid is the referral fsid is never here (%s: %s)",
			   nm_lease_verdict_name(out.verdict), out.reason);
	}
	UNIT_CHECK(&u,
		   strcmp(nm_lease_verdict_name(NM_LEASE_MOVED), "moved") == 0 &&
			   strcmp(nm_lease_verdict_name(NM_LEASE_HERE), "here") == 0 &&
			   strcmp(nm_lease_verdict_name(NM_LEASE_STALE), "stale") == 0 &&
			   strcmp(nm_lease_verdict_name(NM_LEASE_OTHER), "other") == 0 &&
			   strcmp(nm_lease_verdict_name(NM_LEASE_UNANSWERED), "unanswered") == 0 &&
			   strcmp(nm_lease_verdict_name((enum nm_lease_verdict)99), "unanswered") ==
				   0,
		   "verdict names");
	return unit_done(&u);
}
