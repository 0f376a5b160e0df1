/* fuzz_mstats: a mountstats text, as the state check reads it; the first
 * and the last mount are compared as two samples and judged
 * (nm_mstats_judge_state) as verify's check 6 judges them.  A judgement
 * is one of the states, with a reason; QUIET exactly when it counted no
 * stateful operation that failed more between the samples.
 *
 * Input: one byte of settings (the minor version, byte % 3; bit 7: the
 * time between the samples unknown, else 1 + bits 2-6 seconds), then the
 * text. */
#include "fuzz_check.h"
#include "nm_mstats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_mstats s;
	struct nm_err err;
	char why[256];

	if (size < 1)
		return 0;
	if (nm_mstats_parse((const char *)data + 1, size - 1, &s, &err) != 0)
		return 0;
	if (s.n > 0) {
		struct nm_mstats_verdict v;
		uint64_t grew;

		(void)nm_mstats_find(&s, s.m[0].target);
		grew = nm_mstats_state_errors(&s.m[0], &s.m[s.n - 1], why, sizeof(why));
		memset(&v, 0, sizeof(v));
		/* settings: the minor version (0-2), and seconds known or not */
		nm_mstats_judge_state(&s.m[0], &s.m[s.n - 1], data[0] % 3,
				      (data[0] & 0x80) ? 0.0 : 1.0 + (data[0] >> 2 & 31), &v);
		FUZZ_ASSERT(memchr(v.why, '\0', sizeof(v.why)));
		FUZZ_ASSERT(v.state >= NM_MSTATS_QUIET && v.state <= NM_MSTATS_LOOP);
		FUZZ_ASSERT((v.errors == 0) == (v.state == NM_MSTATS_QUIET));
		(void)grew; /* counted its own way: see docs/TESTING.md */
		FUZZ_ASSERT(v.why[0]);
	}
	nm_mstats_free(&s);
	return 0;
}
