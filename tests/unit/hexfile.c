#include "hexfile.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int nibble(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

unsigned char *hexfile_load(const char *name, size_t *len)
{
	const char *dir = getenv("NM_FIXTURES");
	char path[4096];
	unsigned char *buf = NULL;
	size_t n = 0, cap = 0;
	int c, hi = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures", name);
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "cannot open fixture %s\n", path);
		return NULL;
	}
	while ((c = fgetc(f)) != EOF) {
		int v = nibble(c);

		if (isspace(c))
			continue;
		if (v < 0) {
			free(buf);
			fclose(f);
			fprintf(stderr, "fixture %s: not hex\n", path);
			return NULL;
		}
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap) {
			unsigned char *nb = realloc(buf, cap ? cap * 2 : 256);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap = cap ? cap * 2 : 256;
		}
		buf[n++] = (unsigned char)(hi << 4 | v);
		hi = -1;
	}
	fclose(f);
	*len = n;
	return buf;
}

const unsigned char *hexfile_record(const unsigned char *buf, size_t len, size_t *rlen)
{
	uint32_t mark;

	if (len < 4)
		return NULL;
	mark = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	if (!(mark & 0x80000000u) || (mark & 0x7fffffffu) != len - 4)
		return NULL;
	*rlen = len - 4;
	return buf + 4;
}
