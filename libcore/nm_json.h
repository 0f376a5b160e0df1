/* nm_json - the little JSON nfsmig writes by hand (one-object outputs and
 * the event log); tables go through libsmartcols. */
#ifndef NM_JSON_H
#define NM_JSON_H

#include <stdio.h>

/* s as a JSON string: quoted, with ", \\ and control bytes escaped. */
void nm_json_str(FILE *f, const char *s);

#endif
