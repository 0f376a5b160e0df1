#include "nm_json.h"

#include <stdlib.h>
#include <string.h>

#include "nm_esc.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD in UTF-8 */

/* The code point of the valid UTF-8 sequence s[0..n). */
static unsigned long code_point(const unsigned char *s, size_t n)
{
	unsigned long cp = n == 1 ? s[0] : s[0] & (0x7f >> n);

	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	return cp;
}

/* The character at s (of len bytes) into f as JSON string content when
 * nm_esc would escape it: \uXXXX (a surrogate pair above U+FFFF), U+FFFD
 * for a byte that is not UTF-8.  Returns the bytes it took, 0 when the
 * character goes out as it is. */
static size_t put_refused(FILE *f, const unsigned char *s, size_t len, unsigned flags)
{
	size_t n;
	unsigned long cp;

	if (nm_esc_plain_len(s, len, flags) > 0)
		return 0;
	n = nm_esc_utf8_len(s, len);
	if (n == 0) {
		fputs("\\ufffd", f);
		return 1;
	}
	cp = code_point(s, n);
	if (cp > 0xffff)
		fprintf(f, "\\u%04lx\\u%04lx", 0xd800 + ((cp - 0x10000) >> 10),
			0xdc00 + ((cp - 0x10000) & 0x3ff));
	else
		fprintf(f, "\\u%04lx", cp);
	return n;
}

void nm_json_str(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t len = strlen((const char *)s);

	fputc('"', f);
	for (size_t i = 0; i < len;) {
		size_t n;

		if (s[i] == '"' || s[i] == '\\') {
			fprintf(f, "\\%c", s[i++]);
			continue;
		}
		n = put_refused(f, s + i, len - i, 0);
		if (n == 0) {
			n = nm_esc_utf8_len(s + i, len - i);
			fwrite(s + i, 1, n, f);
		}
		i += n;
	}
	fputc('"', f);
}

void nm_json_text(FILE *f, const char *text)
{
	const unsigned char *s = (const unsigned char *)(text ? text : "");
	size_t len = strlen((const char *)s);

	for (size_t i = 0; i < len;) {
		/* Newlines between values are the text's own; in a string
		 * the writer already made them \n. */
		size_t n = put_refused(f, s + i, len - i, NM_ESC_NEWLINE);

		if (n == 0) {
			n = nm_esc_utf8_len(s + i, len - i);
			fwrite(s + i, 1, n, f);
		}
		i += n;
	}
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
