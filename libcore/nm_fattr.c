#include "nm_fattr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum kind {
	K_NONE = 0, /* not decodable: an error if a server sends it */
	K_U32,
	K_U64,
	K_BOOL,
	K_FSID,
	K_BITMAP,
	K_FH,
	K_FSLOC,
	K_STR,
	K_TIME,
	K_SPECDATA,
	K_ACL,
};

/* The type of each attribute of RFC 7530 5.8 / RFC 8881 5.8 up to 55. */
static const unsigned char kinds[NM_FATTR_MAX] = {
	[0] = K_BITMAP, [1] = K_U32,	   [2] = K_U32,	  [3] = K_U64,	 [4] = K_U64,
	[5] = K_BOOL,	[6] = K_BOOL,	   [7] = K_BOOL,  [8] = K_FSID,	 [9] = K_BOOL,
	[10] = K_U32,	[11] = K_U32,	   [12] = K_ACL,  [13] = K_U32,	 [14] = K_BOOL,
	[15] = K_BOOL,	[16] = K_BOOL,	   [17] = K_BOOL, [18] = K_BOOL, [19] = K_FH,
	[20] = K_U64,	[21] = K_U64,	   [22] = K_U64,  [23] = K_U64,	 [24] = K_FSLOC,
	[25] = K_BOOL,	[26] = K_BOOL,	   [27] = K_U64,  [28] = K_U32,	 [29] = K_U32,
	[30] = K_U64,	[31] = K_U64,	   [32] = K_STR,  [33] = K_U32,	 [34] = K_BOOL,
	[35] = K_U32,	[36] = K_STR,	   [37] = K_STR,  [38] = K_U64,	 [39] = K_U64,
	[40] = K_U64,	[41] = K_SPECDATA, [42] = K_U64,  [43] = K_U64,	 [44] = K_U64,
	[45] = K_U64,	[46] = K_BOOL,	   [47] = K_TIME, [49] = K_TIME, [50] = K_TIME,
	[51] = K_TIME,	[52] = K_TIME,	   [53] = K_TIME, [55] = K_U64,
};

/* Bound on ACL entries skipped in a reply. */
#define NM_FATTR_MAX_ACES 1024

void nm_fattr_mask(bitmap4 *bm, uint32_t *words, const enum nm_fattr_id *ids, unsigned n)
{
	unsigned len = 0;

	memset(words, 0, NM_FATTR_WORDS * sizeof(*words));
	for (unsigned i = 0; i < n; i++) {
		unsigned w = ids[i] / 32;

		words[w] |= 1u << (ids[i] % 32);
		if (w + 1 > len)
			len = w + 1;
	}
	bm->bitmap4_len = len;
	bm->bitmap4_val = words;
}

bool nm_fattr_has(const struct nm_fattr *f, enum nm_fattr_id id)
{
	return id < NM_FATTR_MAX && (f->have[id / 32] & (1u << (id % 32)));
}

static bool skip_opaque(XDR *x, unsigned max)
{
	char *p = NULL;
	unsigned len = 0;
	bool ok = xdr_bytes(x, &p, &len, max);

	free(p);
	return ok;
}

static bool skip_acl(XDR *x)
{
	uint32_t n, v;

	if (!xdr_uint32_t(x, &n) || n > NM_FATTR_MAX_ACES)
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (!xdr_uint32_t(x, &v) || !xdr_uint32_t(x, &v) || !xdr_uint32_t(x, &v) ||
		    !skip_opaque(x, NFS4_OPAQUE_LIMIT))
			return false;
	return true;
}

static bool decode_one(XDR *x, unsigned id, struct nm_fattr *f)
{
	uint32_t u32;
	uint64_t u64;
	bool_t b;
	nfstime4 t;

	switch (id) {
	case NM_FATTR_TYPE: return xdr_uint32_t(x, &f->type);
	case NM_FATTR_FH_EXPIRE_TYPE: return xdr_uint32_t(x, &f->fh_expire_type);
	case NM_FATTR_CHANGE: return xdr_uint64_t(x, &f->change);
	case NM_FATTR_SIZE: return xdr_uint64_t(x, &f->size);
	case NM_FATTR_FSID: return xdr_fsid4(x, &f->fsid);
	case NM_FATTR_LEASE_TIME: return xdr_uint32_t(x, &f->lease_time);
	case NM_FATTR_RDATTR_ERROR: return xdr_uint32_t(x, &f->rdattr_error);
	case NM_FATTR_FILEID: return xdr_uint64_t(x, &f->fileid);
	case NM_FATTR_FS_LOCATIONS: return xdr_fs_locations4(x, &f->fs_locations);
	case NM_FATTR_MOUNTED_ON_FILEID: return xdr_uint64_t(x, &f->mounted_on_fileid);
	}
	switch (kinds[id]) {
	case K_U32: return xdr_uint32_t(x, &u32);
	case K_U64: return xdr_uint64_t(x, &u64);
	case K_BOOL: return xdr_bool(x, &b);
	case K_BITMAP: {
		bitmap4 bm = { 0 };
		bool ok = xdr_bitmap4(x, &bm);

		xdr_free((xdrproc_t)xdr_bitmap4, &bm);
		return ok;
	}
	case K_FH: return skip_opaque(x, NFS4_FHSIZE);
	case K_STR: return skip_opaque(x, NFS4_OPAQUE_LIMIT);
	case K_TIME: return xdr_nfstime4(x, &t);
	case K_SPECDATA: return xdr_uint32_t(x, &u32) && xdr_uint32_t(x, &u32);
	case K_ACL: return skip_acl(x);
	}
	return false;
}

int nm_fattr_decode(const fattr4 *a, struct nm_fattr *out, struct nm_err *err)
{
	XDR x;
	unsigned w, bit;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	xdrmem_create(&x, a->attr_vals.attrlist4_val, a->attr_vals.attrlist4_len, XDR_DECODE);
	for (w = 0; w < a->attrmask.bitmap4_len && rc == 0; w++) {
		uint32_t word = a->attrmask.bitmap4_val[w];

		for (bit = 0; bit < 32 && word; bit++) {
			unsigned id = w * 32 + bit;

			if (!(word & (1u << bit)))
				continue;
			word &= ~(1u << bit);
			if (id >= NM_FATTR_MAX || kinds[id] == K_NONE) {
				rc = nm_err_set(
					err, -EBADMSG,
					"malformed attributes: attribute %u cannot be decoded", id);
				break;
			}
			if (!decode_one(&x, id, out)) {
				rc = nm_err_set(err, -EBADMSG,
						"malformed attributes: attribute %u is truncated "
						"or out of bounds",
						id);
				break;
			}
			out->have[w] |= 1u << bit;
		}
	}
	if (rc == 0 && xdr_getpos(&x) != a->attr_vals.attrlist4_len)
		rc = nm_err_set(err, -EBADMSG,
				"malformed attributes: %u bytes left over after the last value",
				a->attr_vals.attrlist4_len - xdr_getpos(&x));
	xdr_destroy(&x);
	if (rc < 0)
		nm_fattr_free(out);
	return rc;
}

void nm_fattr_free(struct nm_fattr *f)
{
	if (!f)
		return;
	xdr_free((xdrproc_t)xdr_fs_locations4, &f->fs_locations);
	memset(f, 0, sizeof(*f));
}
