/* fuzz_reply: a captured NFSv4 reply message (without its record mark),
 * as tests and captures hand replies in, through nm_nfs4_decode_reply,
 * and every GETATTR in it through nm_fattr and nm_fsloc.  No leak is
 * suppressed here: the whole decoding is ours (COMPOUND4res inside the
 * reply's header). */
#include "fuzz_check.h"
#include "nm_fattr.h"
#include "nm_fsloc.h"
#include "nm_nfs4.h"

static void decode_captured(const uint8_t *data, size_t size)
{
	COMPOUND4res res;
	struct nm_err err;

	if (nm_nfs4_decode_reply(data, size, &res, &err) < 0)
		return;
	for (unsigned i = 0; i < res.resarray.resarray_len; i++) {
		nfs_resop4 *r = &res.resarray.resarray_val[i];
		struct nm_fattr f;
		struct nm_fsloc_result out;

		if (r->resop != OP_GETATTR || r->nfs_resop4_u.opgetattr.status != NFS4_OK)
			continue;
		if (nm_fattr_decode(&r->nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes,
				    &f, &err) < 0)
			continue;
		fuzz_check_fattr(&f);
		memset(&out, 0, sizeof(out));
		if (nm_fsloc_from_fattr(&f, &out, &err) == 0)
			fuzz_check_fsloc(&out);
		nm_fsloc_result_free(&out);
		nm_fattr_free(&f);
	}
	xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_captured(data, size);
	return 0;
}
