/* fuzz_kmsg: one /dev/kmsg record, as nm_kmsg_read hands it to
 * nm_kmsg_parse.  What is kept passes ksrc_check; a record recognised is
 * one of the kernel's own (facility 0) with a kind. */
#include "ksrc_check.h"
#include "nm_kmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_kev ev;
	char *copy = malloc(size ? size : 1);
	int r;

	if (!copy)
		abort();
	if (size)
		memcpy(copy, data, size); /* exactly size bytes: ASan sees any overread */
	r = nm_kmsg_parse(copy, size, &ev);
	KSRC_ASSERT(r == 0 || r == 1 || r == -EINVAL);
	if (r >= 0)
		ksrc_check(&ev);
	if (r == 0)
		KSRC_ASSERT(ev.kind == NM_KEV_MIGRATION_FAILED || ev.kind == NM_KEV_VOLATILE_FH);
	free(copy);
	return 0;
}
