/* fuzz_target: a SERVER[:PORT]:/PATH argument, and host names.  What
 * parses has a host that passes the host check and an absolute path. */
#include "fuzz_check.h"
#include "nm_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_target t;
	struct nm_err err;
	char *s = fuzz_str(data, size);

	(void)nm_target_is_remote(s);
	(void)nm_target_valid_host(s);
	if (nm_target_parse(s, &t, &err) == 0) {
		FUZZ_ASSERT(t.host && nm_target_valid_host(t.host));
		FUZZ_ASSERT(t.path && t.path[0] == '/');
		FUZZ_ASSERT(t.port <= 65535);
		nm_target_free(&t);
	}
	free(s);
	return 0;
}
