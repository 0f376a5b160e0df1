/* nm_esc - strings from outside (a server, a file, the kernel) made safe
 * for a terminal and for JSON.
 *
 * One rule decides what is shown as is: a printable character of valid
 * UTF-8 (shortest form, no surrogates, at most U+10FFFF).  Everything else
 * - C0 controls, ESC, DEL, the C1 controls U+0080..U+009F (8-bit CSI is one
 * for many terminals), the format characters that reorder or hide text
 * (general category Cf: bidi marks, overrides and isolates, zero-width
 * ones, the soft hyphen, the BOM, tags; and U+2028/U+2029) and each byte of
 * a sequence that is not valid UTF-8 -
 * becomes a visible \xNN, as `ls -b` and systemd's cescape() show them. */
#ifndef NM_ESC_H
#define NM_ESC_H

#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

enum {
	NM_ESC_BACKSLASH = 1 << 0, /* \ as \x5c too: decoders of wire bytes use
				      it, so their text never reads as an escape */
	NM_ESC_NEWLINE = 1 << 1,   /* keep \n as is (multi-line cells) */
	NM_ESC_SHELL = 1 << 2,	   /* also every byte outside A-Z a-z 0-9 . - _ :
				      (the stored form of a name that is not a
				      host name: inert in a shell) */
};

/* The length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes
 * at s do not start one within len. */
size_t nm_esc_utf8_len(const unsigned char *s, size_t len);

/* How many bytes at s (len of them) nm_esc() keeps as they are: 1..4, one
 * character; 0 when it escapes s[0]. */
size_t nm_esc_plain_len(const unsigned char *s, size_t len, unsigned flags);
/* len bytes (NULs included) escaped as above; a new string, NULL when out
 * of memory. */
char *nm_esc(const char *bytes, size_t len, unsigned flags);

/* The same for a string, into buf (cap bytes, cut at an escape's edge);
 * returns buf. */
const char *nm_esc_buf(const char *s, unsigned flags, char *buf, size_t cap);

/* fprintf whose %s and %c are escaped (NM_ESC_BACKSLASH; a precision cuts
 * the string before it is escaped, at a character's edge).  It does %s %c
 * %d %i %u %x %X %o %p with flags, width, precision, '*' and h l ll j z t;
 * anything else (%f, %m, %n, %1$s, %ls ...) is printed as
 * "%!SPEC(unsupported)" with the rest of the format as text, and gives -1. */
int nm_esc_vfprintf(FILE *f, const char *fmt, va_list ap);
int nm_esc_fprintf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Would nm_esc() change s (with flags)? */
bool nm_esc_needed(const char *s, unsigned flags);

#endif
