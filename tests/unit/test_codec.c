/* Codec tests on replies captured from NFS-Ganesha, and on truncated,
 * corrupted and hostile copies of them: each must decode to the right
 * values or fail with a clear error; never crash, never leak (ASan). */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hexfile.h"
#include "nm_fattr.h"
#include "nm_fsloc.h"
#include "nm_nfs4.h"
#include "nm_rpc.h"
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

/* Decode a reply record as libtirpc does and say whether the results
 * array was allocated: a count over the bound must be refused before any
 * allocation, so the pointer stays NULL although the decode fails either
 * way (xdr_array sets it before it decodes the elements). */
static int results_allocated(const unsigned char *rec, size_t len)
{
	char verf[MAX_AUTH_BYTES];
	struct rpc_msg msg;
	COMPOUND4res res;
	XDR x;
	int allocated;

	memset(&msg, 0, sizeof(msg));
	memset(&res, 0, sizeof(res));
	msg.acpted_rply.ar_verf.oa_base = verf;
	msg.acpted_rply.ar_results.where = (caddr_t)&res;
	msg.acpted_rply.ar_results.proc = (xdrproc_t)xdr_COMPOUND4res;
	xdrmem_create(&x, (char *)rec, (unsigned)len, XDR_DECODE);
	if (xdr_replymsg(&x, &msg)) {
		xdr_destroy(&x);
		xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&res);
		return -1; /* decoded: not the case under test */
	}
	xdr_destroy(&x);
	allocated = res.resarray.resarray_val != NULL;
	xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&res);
	return allocated;
}

/* The same for fs_locations: fs_root with no component, then count
 * locations (and nothing after). */
static int locations_allocated(uint32_t count)
{
	unsigned char buf[8] = { 0 };
	fs_locations4 fl;
	XDR x;
	int allocated;

	put_word(buf + 4, count);
	memset(&fl, 0, sizeof(fl));
	xdrmem_create(&x, (char *)buf, sizeof(buf), XDR_DECODE);
	if (xdr_fs_locations4(&x, &fl)) {
		xdr_destroy(&x);
		xdr_free((xdrproc_t)xdr_fs_locations4, (char *)&fl);
		return -1;
	}
	xdr_destroy(&x);
	allocated = fl.locations.locations_val != NULL;
	xdr_free((xdrproc_t)xdr_fs_locations4, (char *)&fl);
	return allocated;
}

/* A server that denies the call for its RPC version (MSG_DENIED,
 * RPC_MISMATCH low high): the versions share memory with an accepted
 * reply's verifier, which must not be taken for a buffer to free. */
static void test_denied(struct unit *u)
{
	static const unsigned char denied[] = {
		0, 0, 0, 7, 0, 0, 0,  1, /* xid, REPLY */
		0, 0, 0, 1, 0, 0, 0,  0, /* MSG_DENIED, RPC_MISMATCH */
		0, 0, 0, 2, 0, 0, 16, 0	 /* low 2, high 4096 */
	};
	COMPOUND4res res;
	struct nm_err err = { 0 };
	int rc = nm_nfs4_decode_reply(denied, sizeof(denied), &res, &err);

	UNIT_CHECK(u, rc == -EPROTO && strstr(err.msg, "not an accepted"),
		   "hostile: a MSG_DENIED/RPC_MISMATCH reply is refused, nothing freed: %s",
		   err.msg);
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
	/* After the RPC header (24 bytes) come the COMPOUND status, the tag
	 * (length, bytes padded to 4), then the count of results. */
	at = 32 +
	     (((size_t)copy[28] << 24 | (size_t)copy[29] << 16 | (size_t)copy[30] << 8 | copy[31]) +
	      3) / 4 *
		     4;
	if (at + 4 > rlen || find_word(copy, rlen, 6, at) != at)
		at = (size_t)-1; /* the fixture answers 6 operations */
	UNIT_CHECK(u, at != (size_t)-1, "hostile: result count found");
	if (at != (size_t)-1) {
		put_word(copy + at, 0x7fffffff);
		memset(&err, 0, sizeof(err));
		rc = decode_all(copy, rlen, &err);
		UNIT_CHECK(u, rc == -EBADMSG && strstr(err.msg, "malformed"),
			   "hostile: 2^31 results refused: %s", err.msg);
		/* Counts the array's size check would let through: only the
		 * bound (NM_XDR_MAX_OPS) stands before the allocation. */
		put_word(copy + at, NM_XDR_MAX_OPS + 1);
		UNIT_CHECK(u, results_allocated(copy, rlen) == 0,
			   "hostile: %u results refused before allocation", NM_XDR_MAX_OPS + 1);
		put_word(copy + at, 1u << 16);
		UNIT_CHECK(u, results_allocated(copy, rlen) == 0,
			   "hostile: 2^16 results refused before allocation");
	}
	UNIT_CHECK(u, locations_allocated(NM_XDR_MAX_LOCATIONS + 1) == 0,
		   "hostile: %u locations refused before allocation", NM_XDR_MAX_LOCATIONS + 1);
	UNIT_CHECK(u, locations_allocated(1u << 20) == 0,
		   "hostile: 2^20 locations refused before allocation");

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

/* nm_nfs4_open_rpc refuses a flavor or version it does not speak itself,
 * before sending anything (the peer reads nothing but the close). */
static void test_open_rpc_checks(struct unit *u)
{
	static const struct {
		const char *sec;
		int minor, rc;
	} rows[] = { { "sys", 7, -EPROTONOSUPPORT },
		     { "sys", -5, -EPROTONOSUPPORT },
		     { "krb5", 1, -EOPNOTSUPP } };

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(2049) };
		struct nm_nfs4_opts o = { .rpc = { .call_ms = 200, .connect_ms = 200 },
					  .minor = rows[i].minor,
					  .sec = rows[i].sec };
		struct nm_rpc *rpc = NULL;
		struct nm_nfs4 *c = NULL;
		struct nm_err err = { 0 };
		char b[64];
		ssize_t got = -1;
		int sv[2], rc = 1;

		peer.sin_addr.s_addr = htonl(0x7f000001);
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
			if (nm_rpc_open_fd(sv[0], (struct sockaddr *)&peer, sizeof(peer), &o.rpc,
					   &rpc, &err) == 0)
				rc = nm_nfs4_open_rpc(rpc, &o, &c, &err);
			got = recv(sv[1], b, sizeof(b), MSG_DONTWAIT);
			if (c)
				nm_nfs4_close(c);
			close(sv[1]);
		}
		UNIT_CHECK(u, rc == rows[i].rc && !c && got <= 0,
			   "open_rpc: sec %s, NFSv4.%d refused before sending (%d, %zd bytes): %s",
			   rows[i].sec, rows[i].minor, rc, got, err.msg);
	}
}

/* The client state's results (rehearse): OPEN with a read delegation,
 * LOCK denied naming its owner, READ, TEST_STATEID, CLOSE encoded and
 * decoded again; a READ longer than its bound is refused before
 * allocation. */
static void test_state_ops(struct unit *u)
{
	char owner[] = "other", data[] = "hello", who[] = "OWNER@";
	nfsstat4 codes[2] = { NFS4_OK, NFS4ERR_BAD_STATEID };
	nfs_resop4 ops[5];
	COMPOUND4res in = { 0 }, out = { 0 };
	static char buf[4096];
	XDR x;
	bool_t ok;
	unsigned len;

	memset(ops, 0, sizeof(ops));
	ops[0].resop = OP_OPEN;
	{
		OPEN4resok *o = &ops[0].nfs_resop4_u.opopen.OPEN4res_u.resok4;

		o->stateid.seqid = 7;
		memset(o->stateid.other, 0xab, sizeof(o->stateid.other));
		o->rflags = OPEN4_RESULT_CONFIRM | OPEN4_RESULT_LOCKTYPE_POSIX;
		o->delegation.delegation_type = OPEN_DELEGATE_READ;
		o->delegation.open_delegation4_u.read.recall = TRUE;
		o->delegation.open_delegation4_u.read.permissions.who.utf8str_cis_len = 6;
		o->delegation.open_delegation4_u.read.permissions.who.utf8str_cis_val = who;
	}
	ops[1].resop = OP_LOCK;
	ops[1].nfs_resop4_u.oplock.status = NFS4ERR_DENIED;
	{
		LOCK4denied *d = &ops[1].nfs_resop4_u.oplock.LOCK4res_u.denied;

		d->offset = 0;
		d->length = 4096;
		d->locktype = WRITE_LT;
		d->owner.clientid = 42;
		d->owner.owner.owner_len = 5;
		d->owner.owner.owner_val = owner;
	}
	in.resarray.resarray_len = 2;
	in.resarray.resarray_val = ops;
	in.status = NFS4ERR_DENIED;
	xdrmem_create(&x, buf, sizeof(buf), XDR_ENCODE);
	ok = xdr_COMPOUND4res(&x, &in);
	len = xdr_getpos(&x);
	xdr_destroy(&x);
	xdrmem_create(&x, buf, len, XDR_DECODE);
	ok = ok && xdr_COMPOUND4res(&x, &out);
	xdr_destroy(&x);
	UNIT_CHECK(u,
		   ok && out.resarray.resarray_len == 2 &&
			   out.resarray.resarray_val[0]
					   .nfs_resop4_u.opopen.OPEN4res_u.resok4.stateid.seqid ==
				   7 &&
			   out.resarray.resarray_val[0]
					   .nfs_resop4_u.opopen.OPEN4res_u.resok4.delegation
					   .delegation_type == OPEN_DELEGATE_READ &&
			   out.resarray.resarray_val[1]
					   .nfs_resop4_u.oplock.LOCK4res_u.denied.owner.clientid ==
				   42 &&
			   nm_nfs4_resop_status(&out.resarray.resarray_val[1]) == NFS4ERR_DENIED,
		   "OPEN with a read delegation and LOCK denied decode as encoded");
	xdr_free((xdrproc_t)xdr_COMPOUND4res, &out);

	memset(ops, 0, sizeof(ops));
	ops[0].resop = OP_READ;
	ops[0].nfs_resop4_u.opread.READ4res_u.resok4.eof = TRUE;
	ops[0].nfs_resop4_u.opread.READ4res_u.resok4.data.data_len = 5;
	ops[0].nfs_resop4_u.opread.READ4res_u.resok4.data.data_val = data;
	ops[1].resop = OP_TEST_STATEID;
	ops[1].nfs_resop4_u.optest_stateid.TEST_STATEID4res_u.tsr_resok4.tsr_status_codes
		.tsr_status_codes_len = 2;
	ops[1].nfs_resop4_u.optest_stateid.TEST_STATEID4res_u.tsr_resok4.tsr_status_codes
		.tsr_status_codes_val = codes;
	ops[2].resop = OP_CLOSE;
	ops[2].nfs_resop4_u.opclose.CLOSE4res_u.open_stateid.seqid = 3;
	in.resarray.resarray_len = 3;
	in.status = NFS4_OK;
	memset(&out, 0, sizeof(out));
	xdrmem_create(&x, buf, sizeof(buf), XDR_ENCODE);
	ok = xdr_COMPOUND4res(&x, &in);
	len = xdr_getpos(&x);
	xdr_destroy(&x);
	xdrmem_create(&x, buf, len, XDR_DECODE);
	ok = ok && xdr_COMPOUND4res(&x, &out);
	xdr_destroy(&x);
	UNIT_CHECK(
		u,
		ok && out.resarray.resarray_len == 3 &&
			out.resarray.resarray_val[0]
					.nfs_resop4_u.opread.READ4res_u.resok4.data.data_len == 5 &&
			memcmp(out.resarray.resarray_val[0]
				       .nfs_resop4_u.opread.READ4res_u.resok4.data.data_val,
			       "hello", 5) == 0 &&
			out.resarray.resarray_val[1]
					.nfs_resop4_u.optest_stateid.TEST_STATEID4res_u.tsr_resok4
					.tsr_status_codes.tsr_status_codes_val[1] ==
				NFS4ERR_BAD_STATEID &&
			out.resarray.resarray_val[2]
					.nfs_resop4_u.opclose.CLOSE4res_u.open_stateid.seqid == 3,
		"READ, TEST_STATEID and CLOSE decode as encoded");
	xdr_free((xdrproc_t)xdr_COMPOUND4res, &out);

	/* The bound: READ's data length patched past NM_XDR_MAX_READ. */
	{
		static char hostile[4096];
		uint32_t big;

		memcpy(hostile, buf, len);
		/* The length word is the one just before "hello". */
		for (unsigned off = 0; off + 8 <= len; off += 4) {
			uint32_t w;

			memcpy(&w, hostile + off, 4);
			if (ntohl(w) == 5 && memcmp(hostile + off + 4, "hello", 5) == 0) {
				big = htonl(NM_XDR_MAX_READ + 1);
				memcpy(hostile + off, &big, 4);
				break;
			}
		}
		memset(&out, 0, sizeof(out));
		xdrmem_create(&x, hostile, len, XDR_DECODE);
		ok = xdr_COMPOUND4res(&x, &out);
		xdr_destroy(&x);
		xdr_free((xdrproc_t)xdr_COMPOUND4res, &out);
		UNIT_CHECK(u, !ok, "a READ longer than NM_XDR_MAX_READ is refused");
	}
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
	test_denied(&u);
	test_open_rpc_checks(&u);
	test_state_ops(&u);
	return unit_done(&u);
}
