/* The regression inputs of a libFuzzer harness (tests/fuzz/regress/NAME/),
 * replayed through the harness itself in the gcc ASan/UBSan build, so the
 * unit suite covers them without clang: one TAP line an input, and a
 * sanitizer report fails the program.  FUZZ_NAME is the harness's name;
 * the inputs are found beside the fixtures ($NM_FIXTURES/../fuzz). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak)); /* optional */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	struct unit u = { 0 };
	const char *fx = getenv("NM_FIXTURES");
	char dir[4096], *names[256];
	size_t n = 0;
	DIR *d;
	struct dirent *e;

	unit_start();
	snprintf(dir, sizeof(dir), "%s/../fuzz/regress/%s", fx ? fx : "tests/fixtures", FUZZ_NAME);
	d = opendir(dir);
	UNIT_CHECK(&u, d != NULL, "replay %s: %s", FUZZ_NAME, dir);
	if (!d)
		return unit_done(&u);
	while ((e = readdir(d)) && n < 256)
		if (e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), by_name);
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (size_t i = 0; i < n; i++) {
		char path[8192];
		unsigned char *buf = NULL;
		size_t len = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		f = fopen(path, "rb");
		if (f) {
			buf = malloc(1 << 20);
			len = buf ? fread(buf, 1, 1 << 20, f) : 0;
			fclose(f);
		}
		UNIT_CHECK(&u, buf != NULL, "replay %s/%s (%zu bytes)", FUZZ_NAME, names[i], len);
		if (buf) {
			/* a heap copy of exactly len bytes: reads past the end are found */
			unsigned char *exact = malloc(len ? len : 1);

			memcpy(exact, buf, len);
			LLVMFuzzerTestOneInput(exact, len);
			free(exact);
		}
		free(buf);
		free(names[i]);
	}
	UNIT_CHECK(&u, n > 0, "replay %s: %zu inputs", FUZZ_NAME, n);
	return unit_done(&u);
}
