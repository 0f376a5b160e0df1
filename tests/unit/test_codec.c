/* Codec tests on replies captured from NFS-Ganesha, and on truncated,
 * corrupted and hostile copies of them: each must decode to the right
 * values or fail with a clear error; never crash, never leak (ASan). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "hexfile.h"
#include "nm_fattr.h"
#include "nm_fsloc.h"
#include "nm_nfs4.h"
#include "unit.h"

static const char *fixtures[] = {
	"wire/v40-walk-moved-probe.hex", "wire/v40-fsloc-ref-name.hex",
	"wire/v41-exchange-id.hex",	 "wire/v41-create-session.hex",
	"wire/v41-fsloc-root-moved.hex", "wire/v41-destroy-session.hex",
	"wire/v41-destroy-clientid.hex",
};

/* Decode a record and everything inside it the way the query does:
 * every GETATTR's attributes, and fs_locations into printable form.
 * Returns 0 or the first negative errno. */
static int decode_all(const unsigned char *rec, size_t len, struct nm_err *err)
{
	COMPOUND4res res;
	int rc = nm_nfs4_decode_reply(rec, len, &res, err);

	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < res.resarray.resarray_len && rc == 0; i++) {
		nfs_resop4 *r = &res.resarray.resarray_val[i];
		struct nm_fattr f;
		struct nm_fsloc_result out;

		if (r->resop != OP_GETATTR || r->nfs_resop4_u.opgetattr.status != NFS4_OK)
			continue;
		rc = nm_fattr_decode(&r->nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes,
				     &f, err);
		if (rc < 0)
			break;
		memset(&out, 0, sizeof(out));
		rc = nm_fsloc_from_fattr(&f, &out, err);
		nm_fsloc_result_free(&out);
		nm_fattr_free(&f);
	}
	xdr_free((xdrproc_t)xdr_COMPOUND4res, &res);
	return rc;
}

/* The last GETATTR of the reply, decoded. */
static int last_getattr(const unsigned char *rec, size_t len, struct nm_fattr *f)
{
	COMPOUND4res res;
	struct nm_err err;
	int rc = nm_nfs4_decode_reply(rec, len, &res, &err);
	nfs_resop4 *r;

	if (rc < 0)
		return rc;
	rc = -ENOENT;
	for (unsigned i = res.resarray.resarray_len; i-- > 0;) {
		r = &res.resarray.resarray_val[i];
		if (r->resop == OP_GETATTR) {
			rc = nm_fattr_decode(
				&r->nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes, f,
				&err);
			break;
		}
	}
	xdr_free((xdrproc_t)xdr_COMPOUND4res, &res);
	return rc;
}

static void test_values(struct unit *u)
{
	size_t len, rlen;
	unsigned char *buf = hexfile_load("wire/v40-fsloc-ref-name.hex", &len);
	const unsigned char *rec = buf ? hexfile_record(buf, len, &rlen) : NULL;
	struct nm_fattr f;
	struct nm_fsloc_result out;
	struct nm_err err;

	UNIT_CHECK(u, rec != NULL, "v40 fs_locations fixture loads");
	if (!rec) {
		free(buf);
		return;
	}
	UNIT_CHECK(u, last_getattr(rec, rlen, &f) == 0,
		   "GETATTR(fsid, rdattr_error, fs_locations) decodes");
	UNIT_CHECK(u,
		   nm_fattr_has(&f, NM_FATTR_FSID) && nm_fattr_has(&f, NM_FATTR_FS_LOCATIONS) &&
			   nm_fattr_has(&f, NM_FATTR_RDATTR_ERROR),
		   "fsid, rdattr_error and fs_locations are present");
	UNIT_CHECK(u, f.rdattr_error == NFS4ERR_MOVED, "rdattr_error is NFS4ERR_MOVED");
	memset(&out, 0, sizeof(out));
	UNIT_CHECK(u, nm_fsloc_from_fattr(&f, &out, &err) == 0, "fs_locations converts");
	UNIT_CHECK(u, out.absent, "the file system is reported absent");
	UNIT_CHECK(u, out.fs_root && strcmp(out.fs_root, "/export/ref-name") == 0,
		   "fs_root is /export/ref-name (got %s)", out.fs_root ? out.fs_root : "NULL");
	UNIT_CHECK(u,
		   out.nloc == 1 && out.loc[0].nservers == 1 &&
			   strcmp(out.loc[0].servers[0], "srv2.nfsmig.test") == 0 &&
			   strcmp(out.loc[0].rootpath, "/export/data") == 0,
		   "one location: srv2.nfsmig.test:/export/data");
	UNIT_CHECK(u, out.have_fsid && out.fsid_major == 9310058551751936460ULL,
		   "fsid.major as tshark decodes it");
	nm_fsloc_result_free(&out);
	nm_fattr_free(&f);
	free(buf);
}

static void test_fixture(struct unit *u, const char *name)
{
	size_t len, rlen, cut, pos;
	unsigned char *buf = hexfile_load(name, &len);
	const unsigned char *rec = buf ? hexfile_record(buf, len, &rlen) : NULL;
	unsigned char *copy;
	struct nm_err err;
	int bad = 0, ok = 0, wrong = 0;
	static const unsigned char garbage[] = { 0x00, 0xff, 0x7f, 0x80, 0x01 };

	UNIT_CHECK(u, rec != NULL, "%s: loads, one record", name);
	if (!rec) {
		free(buf);
		return;
	}
	UNIT_CHECK(u, decode_all(rec, rlen, &err) == 0, "%s: decodes whole", name);

	/* Every truncation is an error with a message. */
	for (cut = 0; cut < rlen; cut++) {
		copy = malloc(cut ? cut : 1);
		memcpy(copy, rec, cut);
		memset(&err, 0, sizeof(err));
		if (decode_all(copy, cut, &err) == 0)
			wrong++;
		else if (err.msg[0] == '\0')
			bad++;
		free(copy);
	}
	UNIT_CHECK(u, wrong == 0 && bad == 0,
		   "%s: all %zu truncations fail with a message (%d decoded, %d silent)", name,
		   rlen, wrong, bad);

	/* Every byte replaced by each garbage value: decode or fail cleanly. */
	bad = 0;
	for (pos = 0; pos < rlen; pos++) {
		for (size_t g = 0; g < sizeof(garbage); g++) {
			copy = malloc(rlen);
			memcpy(copy, rec, rlen);
			copy[pos] = garbage[g];
			memset(&err, 0, sizeof(err));
			if (decode_all(copy, rlen, &err) == 0)
				ok++;
			else if (err.msg[0] == '\0')
				bad++;
			free(copy);
		}
	}
	UNIT_CHECK(u, bad == 0,
		   "%s: %zu corrupted copies decode or fail with a message (%d decoded)", name,
		   rlen * sizeof(garbage), ok);
	free(buf);
}

/* Offsets of XDR words in the v4.0 fs_locations reply, found by value. */
static size_t find_word(const unsigned char *rec, size_t len, uint32_t v, size_t from)
{
	for (size_t i = from; i + 4 <= len; i += 4)
		if (((uint32_t)rec[i] << 24 | (uint32_t)rec[i + 1] << 16 |
		     (uint32_t)rec[i + 2] << 8 | rec[i + 3]) == v)
			return i;
	return (size_t)-1;
}

static void put_word(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void test_hostile(struct unit *u)
{
	size_t len, rlen, at;
	unsigned char *buf = hexfile_load("wire/v40-fsloc-ref-name.hex", &len);
	const unsigned char *rec = buf ? hexfile_record(buf, len, &rlen) : NULL;
	unsigned char *copy;
	struct nm_err err;
	int rc;

	if (!rec) {
		UNIT_CHECK(u, 0, "hostile: fixture loads");
		free(buf);
		return;
	}
	copy = malloc(rlen);

	/* The number of results: larger than any COMPOUND may have. */
	memcpy(copy, rec, rlen);
	at = find_word(copy, rlen, 9, 24); /* resarray count follows status+tag */
	UNIT_CHECK(u, at != (size_t)-1, "hostile: result count found");
	if (at != (size_t)-1) {
		put_word(copy + at, 0x7fffffff);
		memset(&err, 0, sizeof(err));
		rc = decode_all(copy, rlen, &err);
		UNIT_CHECK(u, rc == -EBADMSG && strstr(err.msg, "malformed"),
			   "hostile: 2^31 results refused before allocation: %s", err.msg);
	}

	/* The attribute value length: over the bound. */
	memcpy(copy, rec, rlen);
	at = find_word(copy, rlen, 0x01000900, 0); /* fsid|rdattr_error|fs_locations */
	UNIT_CHECK(u, at != (size_t)-1, "hostile: final attribute mask found");
	if (at != (size_t)-1) {
		put_word(copy + at + 4, 0xfffffff0);
		memset(&err, 0, sizeof(err));
		UNIT_CHECK(u, decode_all(copy, rlen, &err) == -EBADMSG,
			   "hostile: 4 GiB attribute values refused: %s", err.msg);

		/* The number of locations: huge, inside valid attributes.  After
		 * the mask come the values' length, fsid (16 bytes), rdattr_error,
		 * then fs_root (2 components); the first word 1 after those is
		 * the locations count. */
		memcpy(copy, rec, rlen);
		size_t loc = find_word(copy, rlen, 1, at + 4 + 4 + 16 + 4 + 4);
		UNIT_CHECK(u, loc != (size_t)-1, "hostile: locations count found");
		if (loc != (size_t)-1) {
			put_word(copy + loc, 0x40000000);
			memset(&err, 0, sizeof(err));
			UNIT_CHECK(u, decode_all(copy, rlen, &err) < 0 && err.msg[0],
				   "hostile: 2^30 locations refused: %s", err.msg);
		}
	}

	/* A mask that announces one more value (maxwrite, bit 31) than the
	 * values hold: every value after it shifts and the decode runs out. */
	memcpy(copy, rec, rlen);
	at = find_word(copy, rlen, 0x01000900, 0);
	if (at != (size_t)-1) {
		put_word(copy + at, 0x81000900);
		memset(&err, 0, sizeof(err));
		UNIT_CHECK(u, decode_all(copy, rlen, &err) == -EBADMSG,
			   "hostile: values that do not match the mask are refused: %s", err.msg);
	}
	free(copy);
	free(buf);
}

static void test_masks(struct unit *u)
{
	bitmap4 bm;
	uint32_t words[NM_FATTR_WORDS];
	const enum nm_fattr_id ids[] = { NM_FATTR_FSID, NM_FATTR_FS_LOCATIONS,
					 NM_FATTR_MOUNTED_ON_FILEID };

	nm_fattr_mask(&bm, words, ids, 3);
	UNIT_CHECK(u, bm.bitmap4_len == 2 && words[0] == 0x01000100 && words[1] == 0x00800000,
		   "request mask for fsid, fs_locations, mounted_on_fileid");
	nm_fattr_mask(&bm, words, ids, 1);
	UNIT_CHECK(u, bm.bitmap4_len == 1 && words[0] == 0x100, "request mask for fsid alone");
}

int main(void)
{
	struct unit u = { 0 };

	unit_start();
	test_masks(&u);
	test_values(&u);
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		test_fixture(&u, fixtures[i]);
	test_hostile(&u);
	return unit_done(&u);
}
