/* nm_json - the little JSON nfsmig writes by hand (one-object outputs and
 * the event log); tables go through libsmartcols.
 *
 * JSON output is valid UTF-8 whatever the input: control characters
 * (U+0000..U+001F, DEL and the C1 controls U+0080..U+009F) and the line
 * separators U+2028/U+2029 are written as \u00XX / \u20XX escapes, and each
 * byte that is not part of a valid UTF-8 sequence becomes U+FFFD (the
 * replacement character, written \ufffd), as a UTF-8 decoder that
 * replaces errors reads it. */
#ifndef NM_JSON_H
#define NM_JSON_H

#include <stdio.h>

/* s as a JSON string: quoted and escaped as above. */
void nm_json_str(FILE *f, const char *s);

/* s with every byte that is not valid UTF-8 replaced by U+FFFD (for
 * libsmartcols, whose JSON output passes such bytes through); a new
 * string, NULL when out of memory. */
char *nm_json_utf8(const char *s);

#endif
