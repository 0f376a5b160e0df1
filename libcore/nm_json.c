#include "nm_json.h"

#include <stdlib.h>
#include <string.h>

#include "nm_esc.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD in UTF-8 */

void nm_json_str(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t len = strlen((const char *)s);

	fputc('"', f);
	for (size_t i = 0; i < len;) {
		size_t n = nm_esc_utf8_len(s + i, len - i);
		unsigned char c = s[i];

		if (n == 0) {
			fputs("\\ufffd", f);
			i++;
			continue;
		}
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else if (n == 2 && c == 0xc2 && s[i + 1] < 0xa0)
			fprintf(f, "\\u%04x", s[i + 1]); /* C1: U+0080..U+009F */
		else if (n == 3 && c == 0xe2 && s[i + 1] == 0x80 &&
			 (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
			fprintf(f, "\\u%04x", 0x2000 | (s[i + 2] - 0x80));
		else
			fwrite(s + i, 1, n, f);
		i += n;
	}
	fputc('"', f);
}

char *nm_json_utf8(const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t len = strlen((const char *)s), o = 0;
	char *out = malloc(len * 3 + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = nm_esc_utf8_len(s + i, len - i);

		if (n == 0) {
			memcpy(out + o, REPLACEMENT, 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = '\0';
	return out;
}
