/* Load a hex dump fixture (whitespace ignored) into bytes. */
#ifndef NM_HEXFILE_H
#define NM_HEXFILE_H

#include <stddef.h>

/* Returns a malloc'd buffer and its length, or NULL.  name is relative to
 * $NM_FIXTURES (default tests/fixtures). */
unsigned char *hexfile_load(const char *name, size_t *len);

/* A captured TCP payload starts with an RPC record marker: check it says one
 * last fragment of the right length and return the record after it. */
const unsigned char *hexfile_record(const unsigned char *buf, size_t len, size_t *rlen);

#endif
