/* fuzz_fattr: a GETATTR's fattr4 as it comes off the wire (bitmap, then
 * the opaque values), through nm_fattr_decode and on into fs_locations
 * as nm_fsloc keeps them: counts within the XDR bounds, server names
 * host names or escaped. */
#include "fuzz_check.h"
#include "nm_fattr.h"
#include "nm_fsloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fattr4 a;
	XDR x;
	struct nm_fattr f;
	struct nm_fsloc_result out;
	struct nm_err err;

	memset(&a, 0, sizeof(a));
	xdrmem_create(&x, (char *)data, (unsigned)size, XDR_DECODE);
	if (xdr_fattr4(&x, &a) && nm_fattr_decode(&a, &f, &err) == 0) {
		fuzz_check_fattr(&f);
		memset(&out, 0, sizeof(out));
		if (nm_fsloc_from_fattr(&f, &out, &err) == 0)
			fuzz_check_fsloc(&out);
		nm_fsloc_result_free(&out);
		nm_fattr_free(&f);
	}
	xdr_destroy(&x);
	xdr_free((xdrproc_t)xdr_fattr4, (char *)&a);
	return 0;
}
