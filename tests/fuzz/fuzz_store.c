/* fuzz_store: a record file of the state directory, through the parser
 * nm_store_load uses; a record it reads saves (unless too big), loads
 * back and saves again as the same text.  Its pending marker (nfsmigd's)
 * is read as nfsmigd reads it: a marker that reads writes back the same. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "nm_store.h"
#include "nm_watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_record r;
	struct nm_err err;

	if (nm_store_parse((const char *)data, size, &r, &err) != 0)
		return 0;
	(void)nm_record_moved(&r, "192.0.2.9");
	if (r.pending) {
		struct nm_watch_pending p;
		char *again = NULL;

		if (nm_watch_pending_parse(r.pending, &p) == 0) {
			/* "-" reads as no origin and writes back as "-". */
			if (nm_watch_pending_format(&p, &again) != 0 ||
			    strcmp(again, r.pending) != 0)
				abort();
			free(again);
		}
	}
	fuzz_check_record(&r);
	nm_record_free(&r);
	return 0;
}
