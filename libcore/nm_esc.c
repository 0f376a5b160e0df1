#include "nm_esc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t nm_esc_utf8_len(const unsigned char *s, size_t len)
{
	uint32_t cp;
	size_t n;

	if (len == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static bool shell_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_' || c == ':';
}

/* The code point of the valid UTF-8 sequence s[0..n), n >= 2. */
static uint32_t code_point(const unsigned char *s, size_t n)
{
	uint32_t cp = s[0] & (0x7f >> n);

	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	return cp;
}

/* Characters that reorder, hide or join text on a terminal: Unicode's
 * general category Cf (format: bidi marks, overrides and isolates, zero
 * width ones, the soft hyphen, the BOM, tags, ...) and the line and
 * paragraph separators U+2028/U+2029. */
static bool is_format(uint32_t cp)
{
	static const uint32_t ranges[][2] = {
		{ 0x00ad, 0x00ad },   { 0x0600, 0x0605 },   { 0x061c, 0x061c },
		{ 0x06dd, 0x06dd },   { 0x070f, 0x070f },   { 0x0890, 0x0891 },
		{ 0x08e2, 0x08e2 },   { 0x180e, 0x180e },   { 0x200b, 0x200f },
		{ 0x2028, 0x202e },   { 0x2060, 0x2064 },   { 0x2066, 0x206f },
		{ 0xfeff, 0xfeff },   { 0xfff9, 0xfffb },   { 0x110bd, 0x110bd },
		{ 0x110cd, 0x110cd }, { 0x13430, 0x1343f }, { 0x1bca0, 0x1bca3 },
		{ 0x1d173, 0x1d17a }, { 0xe0001, 0xe0001 }, { 0xe0020, 0xe007f },
	};

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (cp >= ranges[i][0] && cp <= ranges[i][1])
			return true;
	return false;
}

/* How many bytes at s go out as they are (0: escape s[0]). */
size_t nm_esc_plain_len(const unsigned char *s, size_t len, unsigned flags)
{
	size_t n;

	if (s[0] < 0x80) {
		if (s[0] == '\n' && (flags & NM_ESC_NEWLINE))
			return 1;
		if (s[0] < 0x20 || s[0] == 0x7f)
			return 0;
		if (s[0] == '\\' && (flags & (NM_ESC_BACKSLASH | NM_ESC_SHELL)))
			return 0;
		if ((flags & NM_ESC_SHELL) && !shell_safe(s[0]))
			return 0;
		return 1;
	}
	if (flags & NM_ESC_SHELL)
		return 0;
	n = nm_esc_utf8_len(s, len);
	/* U+0080..U+009F: the C1 controls, encoded c2 80..c2 9f. */
	if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
		return 0;
	if (n >= 2 && is_format(code_point(s, n)))
		return 0;
	return n;
}

/* Escape into out (NULL: only count); returns the length written. */
static size_t esc(const unsigned char *s, size_t len, unsigned flags, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		size_t n = nm_esc_plain_len(s + i, len - i, flags);

		if (n == 0) {
			if (out)
				snprintf(out + o, 5, "\\x%02x", s[i]);
			o += 4;
			i++;
		} else {
			if (out)
				memcpy(out + o, s + i, n);
			o += n;
			i += n;
		}
	}
	return o;
}

char *nm_esc(const char *bytes, size_t len, unsigned flags)
{
	const unsigned char *s = (const unsigned char *)(bytes ? bytes : "");
	size_t n;
	char *out;

	if (!bytes)
		len = 0;
	n = esc(s, len, flags, NULL);
	out = malloc(n + 1);
	if (!out)
		return NULL;
	esc(s, len, flags, out);
	out[n] = '\0';
	return out;
}

const char *nm_esc_buf(const char *str, unsigned flags, char *buf, size_t cap)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t len = strlen((const char *)s), o = 0;

	if (cap == 0)
		return buf;
	for (size_t i = 0; i < len;) {
		size_t n = nm_esc_plain_len(s + i, len - i, flags);

		if (n == 0) {
			if (o + 4 >= cap)
				break;
			snprintf(buf + o, 5, "\\x%02x", s[i]);
			o += 4;
			i++;
		} else {
			if (o + n >= cap)
				break;
			memcpy(buf + o, s + i, n);
			o += n;
			i += n;
		}
	}
	buf[o] = '\0';
	return buf;
}

bool nm_esc_needed(const char *str, unsigned flags)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t len = strlen((const char *)s);

	for (size_t i = 0; i < len;) {
		size_t n = nm_esc_plain_len(s + i, len - i, flags);

		if (n == 0)
			return true;
		i += n;
	}
	return false;
}
