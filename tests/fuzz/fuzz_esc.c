/* fuzz_esc: the escaping and UTF-8 decoding every output depends on
 * (nm_esc, nm_esc_utf8_len, nm_esc_vfprintf, nm_json_str, nm_json_utf8,
 * nm_json_text), checked against a reference UTF-8 decoder written here
 * from RFC 3629: nm_esc_utf8_len agrees with it; nothing escaped keeps a
 * byte below 0x20 (but a kept newline), DEL, a C1 control or invalid
 * UTF-8; NM_ESC_SHELL output is only [A-Za-z0-9._:-], \xNN escapes (and
 * newlines with NM_ESC_NEWLINE); a
 * JSON string is one well-formed JSON string literal.
 *
 * Input: one byte of nm_esc flags (low 3 bits), then the string. */
#include "fuzz_check.h"
#include "nm_esc.h"
#include "nm_json.h"

/* RFC 3629: the length of the valid sequence at s, 0 when none. */
static size_t ref_utf8_len(const unsigned char *s, size_t len)
{
	unsigned c = s[0], n;
	uint32_t cp;

	if (len == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (unsigned i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static uint32_t ref_cp(const unsigned char *s, size_t n)
{
	static const unsigned char first_mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	uint32_t cp = s[0] & first_mask[n];

	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	return cp;
}

/* Valid UTF-8 with no C0 (but \n when newline_ok), DEL or C1 control. */
static void check_shown(const char *out, size_t len, bool newline_ok)
{
	const unsigned char *s = (const unsigned char *)out;

	for (size_t i = 0; i < len;) {
		size_t n = ref_utf8_len(s + i, len - i);
		uint32_t cp;

		FUZZ_ASSERT(n > 0);
		cp = ref_cp(s + i, n);
		FUZZ_ASSERT(cp >= 0x20 || (cp == '\n' && newline_ok));
		FUZZ_ASSERT(cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f));
		i += n;
	}
}

static bool is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* One JSON string literal (RFC 8259) and nothing else. */
static void check_json_string(const char *out, size_t len)
{
	size_t i = 1;

	FUZZ_ASSERT(len >= 2 && out[0] == '"' && out[len - 1] == '"');
	while (i < len - 1) {
		unsigned char c = (unsigned char)out[i];

		FUZZ_ASSERT(c >= 0x20 && c != '"');
		if (c != '\\') {
			i++;
			continue;
		}
		FUZZ_ASSERT(i + 1 < len - 1);
		c = (unsigned char)out[i + 1];
		if (c == 'u') {
			FUZZ_ASSERT(i + 5 < len - 1);
			for (int k = 2; k < 6; k++)
				FUZZ_ASSERT(is_hex(out[i + k]));
			i += 6;
		} else {
			FUZZ_ASSERT(strchr("\"\\/bfnrt", c) && c);
			i += 2;
		}
	}
	check_shown(out, len, false);
}

static char *capture(size_t *len, void (*fn)(FILE *, const char *), const char *s)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	fn(f, s);
	fclose(f);
	return buf;
}

static void print_esc(FILE *f, const char *s)
{
	nm_esc_fprintf(f, "[%s|%.5s|%-12.3s|%c]", s, s, s, s[0] ? s[0] : 'x');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags;
	char *in, *out;
	size_t len;

	if (size < 1)
		return 0;
	flags = data[0] & 7;
	data++, size--;

	for (size_t i = 0; i < size; i++)
		FUZZ_ASSERT(nm_esc_utf8_len(data + i, size - i) ==
			    ref_utf8_len(data + i, size - i));

	out = nm_esc((const char *)data, size, flags);
	FUZZ_ASSERT(out);
	check_shown(out, strlen(out), flags & NM_ESC_NEWLINE);
	if (flags & NM_ESC_SHELL)
		for (const char *p = out; *p; p++) {
			if (*p == '\\') {
				FUZZ_ASSERT(p[1] == 'x' && is_hex(p[2]) && is_hex(p[3]));
				p += 3;
				continue;
			}
			if (*p == '\n' && (flags & NM_ESC_NEWLINE))
				continue;
			FUZZ_ASSERT(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					   "0123456789._:-",
					   *p));
		}
	free(out);

	in = fuzz_str(data, size); /* up to the first NUL, as C readers see it */
	out = capture(&len, print_esc, in);
	check_shown(out, len, false);
	free(out);

	out = capture(&len, nm_json_str, in);
	check_json_string(out, len);
	free(out);

	out = capture(&len, nm_json_text, in);
	check_shown(out, len, true);
	free(out);

	out = nm_json_utf8(in);
	FUZZ_ASSERT(out);
	for (size_t i = 0, n = strlen(out); i < n;) {
		size_t k = ref_utf8_len((const unsigned char *)out + i, n - i);

		FUZZ_ASSERT(k > 0);
		i += k;
	}
	free(out);
	free(in);
	return 0;
}
