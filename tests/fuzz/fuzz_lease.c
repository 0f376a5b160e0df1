/* fuzz_lease: nm_lease's check and probe against the server's replies
 * (nm_lease_check_on, nm_lease_probe_on over a session to the stub server
 * of fuzz_stub.h: nm_nfs4, nm_rpc, libtirpc).
 *
 * Invariants: the check says 1, 0 or a negative errno; every record gets
 * a verdict with a reason; "here" only with the record's own fsid, never
 * the referral fsid; the
 * probe's count is the number of records that moved; the locations kept
 * are within what the XDR bounds allow, none NULL.
 *
 * Input: one byte of settings, then reply records (fuzz_stub.h):
 *   bits 0-1  minor version 0, 1, 2 (3: 1)
 *   bit 2     the check first (RENEW or SEQUENCE) on the same session; the
 *             probe runs whatever it said (our lease gates nothing)
 *   bits 3-4  1 to 4 records
 *   bit 5     the second record has no saved root handle */
#include "fuzz_check.h"
#include "fuzz_stub.h"
#include "nm_lease.h"
#include "nm_time.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	stub_init();
	return 0;
}

static void rec_init(struct nm_record *r, unsigned i)
{
	memset(r, 0, sizeof(*r));
	r->mountpoint = (char *)"/mnt/a";
	r->root_fh_len = 4;
	memcpy(r->root_fh, "\x01\x00\x01\x00", 4);
	r->root_fh[3] = (unsigned char)i;
	r->fsid_major = 1;
	r->fsid_minor = i + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_nfs4_opts opts = { .rpc = { .call_ms = 500, .connect_ms = 500 } };
	struct nm_record recs[4];
	struct nm_lease_result out[4];
	struct nm_err err;
	struct stub s = { 0 };
	struct nm_nfs4 *c;
	int sv[2];
	uint8_t cfg;
	size_t n;

	if (size < 1)
		return 0;
	cfg = data[0];
	opts.minor = (cfg & 3) == 3 ? 1 : (int)(cfg & 3);
	n = 1 + ((cfg >> 3) & 3);
	for (unsigned i = 0; i < 4; i++)
		rec_init(&recs[i], i);
	if (cfg & 0x20)
		recs[1].root_fh_len = 0;
	stub_open(&s, sv, data + 1, size - 1, &opts, &c);
	if (c) {
		nm_nfs4_set_delay_deadline(c, nm_time_ms() + 50);
		if (cfg & 4) {
			int rc = nm_lease_check_on(c, &err);

			FUZZ_ASSERT(rc == NM_LEASE_QUIET || rc == NM_LEASE_SAID_MOVED ||
				    (rc < 0 && err.msg[0]));
		}
		int moved = nm_lease_probe_on(c, recs, n, out, &err);
		int count = 0;

		for (size_t i = 0; i < n; i++) {
			FUZZ_ASSERT(out[i].reason[0]);
			if (out[i].verdict == NM_LEASE_MOVED)
				count++;
			if (out[i].verdict == NM_LEASE_HERE)
				FUZZ_ASSERT(out[i].have_fsid &&
					    out[i].fsid_major == recs[i].fsid_major &&
					    out[i].fsid_minor == recs[i].fsid_minor &&
					    !(out[i].fsid_major == NM_LEASE_REFERRAL_FSID &&
					      out[i].fsid_minor == NM_LEASE_REFERRAL_FSID));
			if (recs[i].root_fh_len == 0)
				FUZZ_ASSERT(out[i].verdict == NM_LEASE_UNANSWERED);
			FUZZ_ASSERT(out[i].nlocations <=
				    (size_t)NM_XDR_MAX_LOCATIONS * NM_XDR_MAX_SERVERS);
			for (size_t j = 0; j < out[i].nlocations; j++)
				FUZZ_ASSERT(out[i].locations[j] != NULL);
		}
		FUZZ_ASSERT(moved < 0 || moved == count);
		nm_lease_results_free(out, n);
		nm_nfs4_close(c); /* closes sv[0]: the stub's read ends */
	}
	stub_end(sv);
	return 0;
}
