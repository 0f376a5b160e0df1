/* fuzz_ktrace: trace records as nm_ktrace_read reads them, decoded with
 * the formats captured from Debian 12's 6.1 and bookworm-backports' 6.12
 * (tests/fixtures/trace/KERNEL).  Input: a settings byte (bit 0: one
 * record for nm_ktrace_decode, else a ring-buffer page for
 * nm_ktrace_decode_page; bit 1: 6.12's formats), then the bytes. */
#include <errno.h>

#include <event-parse.h>

#include "../unit/ksrc_fmt.h"
#include "ksrc_check.h"
#include "nm_ktrace.h"

static struct nm_ktrace_fmt *fmts[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const kernels[] = { "6.1", "6.12" };

	tep_set_loglevel(TEP_LOG_NONE);
	for (int i = 0; i < 2; i++)
		if (nm_ktrace_fmt_new(&fmts[i], NULL) != 0 ||
		    ksrc_load_formats(fmts[i], kernels[i]) != 6) {
			fprintf(stderr,
				"fuzz_ktrace: the formats of tests/fixtures/trace/%s "
				"(NM_FIXTURES) do not load\n",
				kernels[i]);
			abort();
		}
	return 0;
}

static int check(const struct nm_kev *ev, void *arg)
{
	ksrc_check(ev);
	KSRC_ASSERT(ev->kind != NM_KEV_NONE && !strcmp(ev->source, "tracepoint"));
	(*(int *)arg)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_ktrace_stats st = { 0 };
	struct nm_kev ev;
	const struct nm_ktrace_fmt *fmt;
	unsigned char *copy;
	int n = 0, r;

	if (size < 1)
		return 0;
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		abort();
	if (size > 1)
		memcpy(copy, data + 1, size - 1);
	fmt = fmts[(data[0] >> 1) & 1];
	if (data[0] & 1) {
		r = nm_ktrace_decode(fmt, copy, size - 1, &ev);
		KSRC_ASSERT(r == 0 || r == 1 || r == -EINVAL);
		if (r == 0)
			(void)check(&ev, &n);
	} else {
		r = nm_ktrace_decode_page(fmt, copy, size - 1, check, &n, &st);
		KSRC_ASSERT(r == 0 || r == -EINVAL);
		KSRC_ASSERT(st.bad <= st.records && (unsigned long)n <= st.records);
	}
	free(copy);
	return 0;
}
