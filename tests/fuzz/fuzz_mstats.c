/* fuzz_mstats: a mountstats text and up to three /proc/net/rpc/nfs texts,
 * as the state check reads them; two or three of the mounts are taken as
 * the samples of one mount and judged (nm_mstats_judge_state) as verify's
 * check 6 judges them.  A judgement is one of the states, with a reason;
 * QUIET never with errors counted.
 *
 * Input: one byte of settings (the minor version, byte % 3; bit 6: three
 * samples, else two; bit 7: the times unknown, else 1 + bits 2-5 seconds
 * apart), then the mountstats text, then NUL-separated rpc texts. */
#include "fuzz_check.h"
#include "nm_mstats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_mstats_rpc rpc[3];
	struct nm_mstats s;
	struct nm_err err;
	const char *txt, *nul;
	size_t len, mlen, nrpc = 0;

	if (size < 1)
		return 0;
	txt = (const char *)data + 1;
	len = size - 1;
	nul = memchr(txt, '\0', len);
	mlen = nul ? (size_t)(nul - txt) : len;
	/* The rpc texts after the mountstats text, one per NUL. */
	for (const char *p = nul ? nul + 1 : NULL; p && nrpc < 3 && p <= txt + len;) {
		size_t rest = (size_t)(txt + len - p);
		const char *e = memchr(p, '\0', rest);
		size_t l = e ? (size_t)(e - p) : rest;

		if (nm_mstats_rpc_parse(p, l, &rpc[nrpc], &err) == 0) {
			FUZZ_ASSERT(rpc[nrpc].n <= NM_MSTATS_MAX_OPS);
			nrpc++;
		}
		p = e ? e + 1 : NULL;
	}
	if (nm_mstats_parse(txt, mlen, &s, &err) != 0)
		return 0;
	if (s.n > 0) {
		struct nm_mstats_sample smp[3];
		struct nm_mstats_verdict v;
		size_t k = (data[0] & 0x40) ? 3 : 2;
		const struct nm_mstats_mount *pick[3] = { &s.m[0], &s.m[s.n / 2], &s.m[s.n - 1] };
		double gap = 1.0 + (data[0] >> 2 & 15);

		(void)nm_mstats_find(&s, s.m[0].target);
		if (k == 2)
			pick[1] = pick[2];
		for (size_t i = 0; i < k; i++)
			smp[i] = (struct nm_mstats_sample){ .m = pick[i],
							    .rpc = i < nrpc ? &rpc[i] : NULL,
							    .at = (data[0] & 0x80)
									  ? -1.0
									  : gap * (double)i };
		memset(&v, 0, sizeof(v));
		nm_mstats_judge_state(smp, k, data[0] % 3, &v);
		FUZZ_ASSERT(memchr(v.why, '\0', sizeof(v.why)));
		FUZZ_ASSERT(v.why[0]);
		FUZZ_ASSERT(v.state >= NM_MSTATS_QUIET && v.state <= NM_MSTATS_LOOP);
		FUZZ_ASSERT(v.state != NM_MSTATS_QUIET || v.errors == 0);
		FUZZ_ASSERT(v.state != NM_MSTATS_LOOP || v.errors >= NM_MSTATS_LOOP_MIN);
	}
	nm_mstats_free(&s);
	return 0;
}
