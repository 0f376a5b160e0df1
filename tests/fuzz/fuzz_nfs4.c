/* fuzz_nfs4: NFSv4 replies through the code live replies take.
 *
 * nfsmig's client (nm_nfs4 over nm_rpc, libtirpc's record stream) talks to
 * the stub server of fuzz_stub.h.  The client opens a session
 * (EXCHANGE_ID and CREATE_SESSION for 4.1+), walks a path as `locations`
 * (nm_fsloc_query) or `register` (nm_fsloc_root) do, with their attribute
 * decoding, and tears down (DESTROY_SESSION, DESTROY_CLIENTID).  What it
 * returns must hold what its callers rely on: server names that are host
 * names or escaped, handles of 1..NFS4_FHSIZE bytes, counts within the
 * NM_XDR_* bounds.  Captured replies (nm_nfs4_decode_reply) are
 * fuzz_reply's.
 *
 * Input: one byte of settings, then reply records (fuzz_stub.h):
 *   bits 0-1  minor version 0, 1, 2, or 3 for automatic (2, then 1, then 0)
 *   bit 2     nm_fsloc_root instead of nm_fsloc_query
 *   bits 3-4  the path (see paths[] below)
 *   bit 5     NFS4ERR_DELAY retried for the call's whole deadline (else
 *             50 ms: real sleeps would eat the run's time) */
#include "fuzz_check.h"
#include "fuzz_stub.h"
#include "nm_fsloc.h"
#include "nm_time.h"

static const char *paths[] = {
	"/",
	"/export",
	"/export/ref-name/sub", /* the path of the captured 4.0 replies */
	/* 40 components: more than one COMPOUND */
	("/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20/"
	 "21/22/23/24/25/26/27/28/29/30/31/32/33/34/35/36/37/38/39/40"),
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	stub_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_nfs4_opts opts = { .rpc = { .call_ms = 500, .connect_ms = 500 } };
	struct stub s = { 0 };
	struct nm_nfs4 *c;
	struct nm_err err;
	int sv[2];
	uint8_t cfg;
	const char *path;

	if (size < 1)
		return 0;
	cfg = data[0];
	opts.minor = (cfg & 3) == 3 ? NM_NFS4_MINOR_AUTO : (int)(cfg & 3);
	path = paths[(cfg >> 3) & 3];
	stub_open(&s, sv, data + 1, size - 1, &opts, &c);
	if (c) {
		if (!(cfg & 0x20))
			nm_nfs4_set_delay_deadline(c, nm_time_ms() + 50);
		if (cfg & 4) {
			struct nm_fsloc_root root;

			memset(&root, 0, sizeof(root));
			if (nm_fsloc_root(c, path, &root, &err) == 0) {
				fuzz_check_root(&root);
				nm_fattr_free(&root.attrs);
			}
		} else {
			struct nm_fsloc_result res;

			memset(&res, 0, sizeof(res));
			if (nm_fsloc_query(c, path, &res, &err) == 0)
				fuzz_check_fsloc(&res);
			nm_fsloc_result_free(&res);
		}
		nm_nfs4_close(c); /* closes sv[0]: the stub's read ends */
	}
	stub_end(sv);
	return 0;
}
