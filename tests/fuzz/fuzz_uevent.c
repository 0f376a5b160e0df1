/* fuzz_uevent: one netlink uevent message ("ACTION@DEVPATH\0KEY=VALUE\0"),
 * as nm_uevent_read hands it to nm_uevent_parse. */
#include "ksrc_check.h"
#include "nm_uevent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_kev ev;
	char *copy = malloc(size ? size : 1);
	int r;

	if (!copy)
		abort();
	if (size)
		memcpy(copy, data, size);
	r = nm_uevent_parse(copy, size, &ev);
	KSRC_ASSERT(r == 0 || r == 1 || r == -EINVAL);
	if (r >= 0)
		ksrc_check(&ev);
	if (r == 0)
		KSRC_ASSERT(ev.kind == NM_KEV_XPRT_SWITCH && !strcmp(ev.source, "uevent"));
	free(copy);
	return 0;
}
