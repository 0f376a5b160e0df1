/* fuzz_target: a SERVER[:PORT]:/PATH argument, and host names. */
#include "fuzz.h"
#include "nm_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_target t;
	struct nm_err err;
	char *s = fuzz_str(data, size);

	(void)nm_target_is_remote(s);
	(void)nm_target_valid_host(s);
	if (nm_target_parse(s, &t, &err) == 0)
		nm_target_free(&t);
	free(s);
	return 0;
}
