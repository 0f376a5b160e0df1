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
	/* Format characters that reorder or hide text on a terminal: U+200B..
	 * U+200F, U+2028..U+202E, U+2066..U+2069 and U+FEFF. */
	if (n == 3 && s[0] == 0xe2 &&
	    ((s[1] == 0x80 && ((s[2] >= 0x8b && s[2] <= 0x8f) || (s[2] >= 0xa8 && s[2] <= 0xae))) ||
	     (s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9)))
		return 0;
	if (n == 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
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
