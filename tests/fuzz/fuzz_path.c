/* fuzz_path: paths given by the user (nm_path_split, nm_path_join) and
 * paths from the wire (a pathname4's components, NUL-separated here,
 * made printable). */
#include "fuzz.h"
#include "nm_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_path p;
	struct nm_err err;
	pathname4 w;
	component4 comp[64];
	char *s = fuzz_str(data, size), *j;
	size_t start = 0;

	if (nm_path_split(s, &p, &err) == 0) {
		for (size_t n = 0; n <= p.n; n++) {
			j = nm_path_join(&p, n);
			free(j);
		}
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
	free(j);
	j = nm_path_printable((const char *)data, size);
	free(j);
	return 0;
}
