/* Loading the captured trace formats (tests/fixtures/trace/KERNEL/format/
 * SYSTEM.EVENT) into an nm_ktrace_fmt, for the unit tests and the fuzzer. */
#ifndef NM_KSRC_FMT_H
#define NM_KSRC_FMT_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_ktrace.h"

/* The whole file at path (NUL-terminated, *len without it), or NULL. */
static inline char *ksrc_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *b = realloc(buf, cap = n + 4096 + 1);

			if (!b)
				break;
			buf = b;
		}
		size_t r = fread(buf + n, 1, 4096, f);

		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

/* Every format of the kernel's fixture directory: how many were added, or
 * a negative errno. */
static inline int ksrc_load_formats(struct nm_ktrace_fmt *f, const char *kernel)
{
	const char *fx = getenv("NM_FIXTURES");
	char dir[4096], path[4400];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/trace/%s/format", fx ? fx : "tests/fixtures", kernel);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char sys[64], *dot, *text;
		size_t len;

		if (e->d_name[0] == '.' || !(dot = strchr(e->d_name, '.')))
			continue;
		snprintf(sys, sizeof(sys), "%.*s", (int)(dot - e->d_name), e->d_name);
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		text = ksrc_slurp(path, &len);
		if (!text)
			continue;
		if (nm_ktrace_fmt_add(f, sys, text, len, NULL) == 0)
			n++;
		free(text);
	}
	closedir(d);
	return n;
}

#endif
