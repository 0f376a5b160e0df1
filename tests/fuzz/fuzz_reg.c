/* fuzz_reg: a server's answer made a record (nm_reg_build: the root's
 * handle and a GETATTR's fattr4 as it comes off the wire), and what is
 * read back of the record's locations (nm_fsloc_location_host,
 * nm_served_location_server, nm_served_rootpath).
 *
 * Invariants: a record built saves, loads back and saves as the same
 * text; a location's server, when one is given, is a host name or an
 * address; a rootpath found is absolute.
 *
 * Input: one byte of settings (bits 0-6: the handle's length, 0..127,
 * bit 7: minor version 1, else 0), the handle, then the fattr4. */
#include "fuzz_check.h"
#include "nm_mount.h"
#include "nm_reg.h"
#include "nm_served.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_mount m = { 0 };
	struct nm_fsloc_root root;
	struct nm_record rec;
	struct nm_err err;
	unsigned dropped = 0;
	size_t fhlen;
	fattr4 a;
	XDR x;

	if (size < 1)
		return 0;
	fhlen = data[0] & 0x7f;
	if (size - 1 < fhlen)
		return 0;
	m.target = (char *)"/mnt/a b";
	m.source = (char *)"srv1.example:/export";
	m.fstype = (char *)"nfs4";
	m.root = (char *)"/";
	m.source_host = (char *)"srv1.example";
	m.export_path = (char *)"/export";
	m.server = (char *)"192.0.2.11";
	m.sec = (char *)"sys";
	m.vers = 4;
	m.minor = (data[0] & 0x80) ? 1 : 0;
	memset(&root, 0, sizeof(root));
	memcpy(root.fh, data + 1, fhlen);
	root.fhlen = (unsigned)fhlen;
	memset(&a, 0, sizeof(a));
	xdrmem_create(&x, (char *)data + 1 + fhlen, (unsigned)(size - 1 - fhlen), XDR_DECODE);
	if (xdr_fattr4(&x, &a) && nm_fattr_decode(&a, &root.attrs, &err) == 0) {
		fuzz_check_fattr(&root.attrs);
		if (nm_reg_build(&m, "/export", m.minor, 1795490195, &root, &rec, &dropped, &err) ==
		    0) {
			fuzz_check_record(&rec);
			for (size_t i = 0; i < rec.nlocations; i++) {
				char *h = nm_fsloc_location_host(rec.locations[i]);
				char *s = nm_served_location_server(rec.locations[i]);
				const char *rp;

				FUZZ_ASSERT(!h || nm_target_host_name_ok(h));
				FUZZ_ASSERT(!s || nm_target_host_name_ok(s));
				if (h) {
					rp = nm_served_rootpath(&rec, h, 100);
					FUZZ_ASSERT(!rp || rp[0] == '/');
				}
				free(h);
				free(s);
			}
			nm_record_free(&rec);
		}
		nm_fattr_free(&root.attrs);
	}
	xdr_destroy(&x);
	xdr_free((xdrproc_t)xdr_fattr4, (char *)&a);
	return 0;
}
