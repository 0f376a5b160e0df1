/* fuzz_ktrace: trace records as nm_ktrace_read reads them, decoded with
 * the formats captured from Debian 12's 6.1 and bookworm-backports' 6.12
 * (tests/fixtures/trace/KERNEL).  Input: a settings byte (bit 0: one
 * record for nm_ktrace_decode, else a ring-buffer page for
 * nm_ktrace_decode_page; bit 1: 6.12's formats; bit 2: the bytes are an
 * events/header_page text, its layout then used on 6.1's captured page),
 * then the bytes.  A page decodes to the same records whatever its
 * commit's loss flags say. */
#include <errno.h>

#include <event-parse.h>

#include "../unit/ksrc_fmt.h"
#include "ksrc_check.h"
#include "nm_ktrace.h"

static struct nm_ktrace_fmt *fmts[2], *hp_fmt;
static unsigned char *page61;
static size_t page61_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const kernels[] = { "6.1", "6.12" };
	const char *fx = getenv("NM_FIXTURES");
	char path[4096];

	tep_set_loglevel(TEP_LOG_NONE);
	for (int i = 0; i < 2; i++) {
		char *hp;
		size_t hl = 0;

		snprintf(path, sizeof(path), "%s/trace/%s/header_page", fx ? fx : "tests/fixtures",
			 kernels[i]);
		hp = ksrc_slurp(path, &hl);
		if (nm_ktrace_fmt_new(&fmts[i], NULL) != 0 ||
		    ksrc_load_formats(fmts[i], kernels[i]) != 6 || !hp ||
		    nm_ktrace_fmt_header_page(fmts[i], hp, hl, NULL) != 0) {
			fprintf(stderr,
				"fuzz_ktrace: the formats of tests/fixtures/trace/%s "
				"(NM_FIXTURES) do not load\n",
				kernels[i]);
			abort();
		}
		free(hp);
	}
	snprintf(path, sizeof(path), "%s/trace/6.1/raw.cpu0", fx ? fx : "tests/fixtures");
	page61 = (unsigned char *)ksrc_slurp(path, &page61_len);
	if (!page61 || nm_ktrace_fmt_new(&hp_fmt, NULL) != 0 ||
	    ksrc_load_formats(hp_fmt, "6.1") != 6)
		abort();
	return 0;
}

static int check(const struct nm_kev *ev, void *arg)
{
	ksrc_check(ev);
	KSRC_ASSERT(ev->kind != NM_KEV_NONE && !strcmp(ev->source, "tracepoint"));
	(*(int *)arg)++;
	return 0;
}

/* The same page with the loss flags cleared from its commit (the low 32
 * bits as the kernel sets them, the high ones as a positive length). */
static void same_without_loss(const struct nm_ktrace_fmt *fmt, const unsigned char *pg, size_t len,
			      int r, int n, const struct nm_ktrace_stats *st)
{
	struct nm_ktrace_stats st2 = { 0 };
	unsigned char *copy;
	uint32_t lo;
	int n2 = 0, r2;

	if (len < 16)
		return;
	copy = malloc(len);
	if (!copy)
		abort();
	memcpy(copy, pg, len);
	memcpy(&lo, copy + 8, 4);
	lo &= ~(3u << 30);
	memcpy(copy + 8, &lo, 4);
	memset(copy + 12, 0, 4);
	r2 = nm_ktrace_decode_page(fmt, copy, len, check, &n2, &st2);
	KSRC_ASSERT(r2 == r && n2 == n && st2.records == st->records && st2.bad == st->bad);
	free(copy);
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
	if (data[0] & 4) {
		r = nm_ktrace_fmt_header_page(hp_fmt, (const char *)copy, size - 1, NULL);
		KSRC_ASSERT(r == 0 || r == -EINVAL);
		if (r == 0) {
			r = nm_ktrace_decode_page(hp_fmt, page61, page61_len, check, &n, &st);
			KSRC_ASSERT(r == 0 || r == -EINVAL);
		}
	} else if (data[0] & 1) {
		r = nm_ktrace_decode(fmt, copy, size - 1, &ev);
		KSRC_ASSERT(r == 0 || r == 1 || r == -EINVAL);
		if (r == 0)
			(void)check(&ev, &n);
	} else {
		r = nm_ktrace_decode_page(fmt, copy, size - 1, check, &n, &st);
		KSRC_ASSERT(r == 0 || r == -EINVAL);
		KSRC_ASSERT(st.bad <= st.records && (unsigned long)n <= st.records);
		same_without_loss(fmt, copy, size - 1, r, n, &st);
	}
	free(copy);
	return 0;
}
