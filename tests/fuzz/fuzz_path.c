/* fuzz_path: paths given by the user (nm_path_split, nm_path_join) and
 * paths from the wire (a pathname4's components, NUL-separated here,
 * made printable).  Split, join and split again gives the same components
 * and joins to the same string; printable output has no byte below 0x20
 * and no DEL. */
#include "fuzz_check.h"
#include "nm_path.h"

static void check_printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		FUZZ_ASSERT(*p >= 0x20 && *p != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_path p;
	struct nm_err err;
	pathname4 w;
	component4 comp[64];
	char *s = fuzz_str(data, size), *j;
	size_t start = 0;

	if (nm_path_split(s, &p, &err) == 0) {
		struct nm_path q;
		char *all;

		for (size_t n = 0; n <= p.n; n++) {
			j = nm_path_join(&p, n);
			FUZZ_ASSERT(j && j[0] == '/');
			free(j);
		}
		all = nm_path_join(&p, p.n);
		FUZZ_ASSERT(all && nm_path_split(all, &q, &err) == 0);
		FUZZ_ASSERT(q.n == p.n);
		for (size_t i = 0; i < p.n; i++)
			FUZZ_ASSERT(strcmp(q.comp[i], p.comp[i]) == 0);
		j = nm_path_join(&q, q.n);
		FUZZ_ASSERT(j && strcmp(j, all) == 0);
		free(j);
		free(all);
		nm_path_free(&q);
		nm_path_free(&p);
	}
	free(s);

	w.pathname4_len = 0;
	w.pathname4_val = comp;
	for (size_t i = 0; i <= size && w.pathname4_len < 64; i++) {
		if (i == size || data[i] == '\0') {
			comp[w.pathname4_len].utf8str_cs_len = (unsigned)(i - start);
			comp[w.pathname4_len].utf8str_cs_val = (char *)data + start;
			w.pathname4_len++;
			start = i + 1;
		}
	}
	j = nm_path_from_wire(&w);
	FUZZ_ASSERT(j);
	check_printable(j);
	free(j);
	j = nm_path_printable((const char *)data, size);
	FUZZ_ASSERT(j);
	check_printable(j);
	free(j);
	return 0;
}
