/* Helpers shared by the libFuzzer harnesses of tests/fuzz/.
 *
 * Each harness feeds one decoder of untrusted input the bytes libFuzzer
 * gives it, the way nfsmig's own readers do, and frees everything it was
 * given: AddressSanitizer, UBSan and LeakSanitizer turn any slip into a
 * finding. */
#ifndef NM_FUZZ_H
#define NM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input, as a line reader would hand it on
 * (an embedded NUL ends the string there, as it does for C readers). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The input as a file, for readers that take a path (libmount, libinih):
 * one memory file per process, rewritten for each input.  Returns its
 * /proc/self/fd path. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];

	if (fd < 0) {
		fd = memfd_create("fuzz-input", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	return path;
}

/* Split the input at the first byte sep: *a gets what comes before, *b
 * what comes after (empty without sep).  Both are fresh strings. */
static inline void fuzz_split(const uint8_t *data, size_t size, char sep, char **a, char **b)
{
	const uint8_t *p = size ? memchr(data, sep, size) : NULL;
	size_t n = p ? (size_t)(p - data) : size;

	*a = fuzz_str(data, n);
	*b = p ? fuzz_str(p + 1, size - n - 1) : fuzz_str(data, 0);
}

#endif
