/* nm_json - the little JSON nfsmig writes by hand (one-object outputs and
 * the event log); tables go through libsmartcols.
 *
 * JSON output is valid UTF-8 whatever the input, and shows raw only what
 * nm_esc shows raw: every character nm_esc escapes (controls, DEL, the C1
 * controls, the format characters: bidi, zero-width, line separators) is
 * written as a \uXXXX escape, and each byte that is not part of a valid
 * UTF-8 sequence becomes U+FFFD (written \ufffd), as a UTF-8 decoder that
 * replaces errors reads it.  jq reads back the string itself. */
#ifndef NM_JSON_H
#define NM_JSON_H

#include <stdio.h>

/* s as a JSON string: quoted and escaped as above. */
void nm_json_str(FILE *f, const char *s);

/* JSON text (a table libsmartcols wrote: it escapes only U+0000..U+001F)
 * into f, every character nm_esc escapes but a newline as \uXXXX (outside
 * strings JSON has only ASCII, so each is in a string). */
void nm_json_text(FILE *f, const char *text);
/* s with every byte that is not valid UTF-8 replaced by U+FFFD (for
 * libsmartcols, whose JSON output passes such bytes through); a new
 * string, NULL when out of memory. */
char *nm_json_utf8(const char *s);

#endif
