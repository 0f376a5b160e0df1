/* fuzz_store: a record file of the state directory, through the parser
 * nm_store_load uses; a record it reads saves (unless too big), loads
 * back and saves again as the same text. */
#include "fuzz_check.h"
#include "nm_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_record r;
	struct nm_err err;

	if (nm_store_parse((const char *)data, size, &r, &err) != 0)
		return 0;
	(void)nm_record_moved(&r, "192.0.2.9");
	fuzz_check_record(&r);
	nm_record_free(&r);
	return 0;
}
