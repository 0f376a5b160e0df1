/* fuzz_upcall: a dns_resolver key's description and callout info (the
 * kernel passes both from whoever asked for the key), as the upcall and
 * the daemon parse them.  Input: DESCRIPTION NUL CALLOUT. */
#include "fuzz.h"
#include "nm_key.h"
#include "nm_upcall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_upcall_req req;
	struct nm_err err;
	key_serial_t key;
	char *desc, *callout;

	fuzz_split(data, size, '\0', &desc, &callout);
	(void)nm_upcall_parse(desc, callout, &req, &err);
	(void)nm_key_parse_serial(desc, &key);
	free(desc);
	free(callout);
	return 0;
}
