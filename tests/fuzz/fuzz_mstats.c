/* fuzz_mstats: a mountstats text, as the state check reads it; the first
 * and the last mount are compared as two samples. */
#include "fuzz.h"
#include "nm_mstats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_mstats s;
	struct nm_err err;
	char why[256];

	if (nm_mstats_parse((const char *)data, size, &s, &err) != 0)
		return 0;
	if (s.n > 0) {
		(void)nm_mstats_find(&s, s.m[0].target);
		(void)nm_mstats_state_errors(&s.m[0], &s.m[s.n - 1], why, sizeof(why));
	}
	nm_mstats_free(&s);
	return 0;
}
