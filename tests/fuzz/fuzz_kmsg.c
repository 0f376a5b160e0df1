/* fuzz_kmsg: one /dev/kmsg record, as nm_kmsg_read hands it to
 * nm_kmsg_parse, and the same bytes as a kmsg.pos file (nm_kmsg_pos_parse).  What is kept passes
 * ksrc_check; a record recognised is one of the kernel's own (facility 0) with a kind. */
#include "ksrc_check.h"
#include "nm_kmsg.h"
#include "nm_kmsg_posfile.h"

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

	/* The same bytes as the watcher's kmsg.pos file: this boot's position
	 * (written back the same), another boot's, or refused. */
	static const char boot[] = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
	struct nm_kmsg_pos pos, again;
	char text[256];
	int p = nm_kmsg_pos_parse(copy, size, boot, &pos);

	KSRC_ASSERT(p == 0 || p == 1 || p == -EBADMSG);
	KSRC_ASSERT(p == 0 ? pos.have != 0 : pos.have == 0);
	if (p == 0) {
		int n = nm_kmsg_pos_format(&pos, boot, text, sizeof(text));

		KSRC_ASSERT(n > 0 && (size_t)n < sizeof(text));
		KSRC_ASSERT(nm_kmsg_pos_parse(text, (size_t)n, boot, &again) == 0 &&
			    again.seq == pos.seq);
	}
	free(copy);
	return 0;
}
