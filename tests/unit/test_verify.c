/* verify's judges from tables: the destination's answers in, a verdict out.
 * A question the destination never answered is never OK. */
#include <stdio.h>
#include <string.h>

#include "nm_fattr.h"
#include "nm_verify_judge.h"
#include "unit.h"

/* The record every row is judged against: root fsid 1:2 fileid 100, an
 * entry 'f' with fileid 200. */
static void record(struct nm_record *r, uint32_t fh_expire_type)
{
	memset(r, 0, sizeof(*r));
	r->fsid_major = 1;
	r->fsid_minor = 2;
	r->fileid = 100;
	r->fh_expire_type = fh_expire_type;
	r->probe_name = (char *)"f";
	r->probe_fh_len = 4;
	r->probe_fileid = 200;
}

#define ANS(st)                                                                                    \
	{                                                                                          \
		.wanted = true, .answered = true, .status = (st), .op = OP_PUTFH                   \
	}
#define NOANS                                                                                      \
	{                                                                                          \
		.wanted = true                                                                     \
	}
#define NOTASKED                                                                                   \
	{                                                                                          \
		.wanted = false                                                                    \
	}

static const struct samefs_row {
	const char *what;
	uint32_t fh_expire_type;
	struct nm_verify_answer a;
	enum nm_verdict v;
	const char *why; /* a part of the reason */
} samefs_rows[] = {
	{ "all answered and matching",
	  0,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .have_fileid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .fileid = 100,
	    .entry = ANS(NFS4_OK),
	    .entry_have_fileid = true,
	    .entry_fileid = 200 },
	  NM_V_OK,
	  "and the saved handle of an entry too" },
	{ "no entry saved",
	  0,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .have_fileid = true,
	    .fileid = 100,
	    .entry = NOTASKED },
	  NM_V_OK,
	  "same fsid and root fileid" },
	{ "the entry never answered (the COMPOUND stopped before it)",
	  0,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .have_fileid = true,
	    .fileid = 100,
	    .entry = NOANS },
	  NM_V_WARN,
	  "got no answer (the server stopped the COMPOUND before it)" },
	{ "the entry never answered: the connection's error",
	  0,
	  { .reached = true,
	    .error = "192.0.2.1 port 2049: no reply",
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .have_fileid = true,
	    .fileid = 100,
	    .entry = NOANS },
	  NM_V_WARN,
	  "got no answer (192.0.2.1 port 2049: no reply)" },
	{ "the entry STALE",
	  0,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .have_fileid = true,
	    .fileid = 100,
	    .entry = ANS(NFS4ERR_STALE) },
	  NM_V_FAIL,
	  "'f' saved at registration is NFS4ERR_STALE" },
	{ "the entry's fileid differs",
	  0,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .have_fileid = true,
	    .fileid = 100,
	    .entry = ANS(NFS4_OK),
	    .entry_have_fileid = true,
	    .entry_fileid = 201 },
	  NM_V_FAIL,
	  "'f' has fileid 201, registered 200" },
	{ "the entry: an unknown status shows its number",
	  0,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .have_fileid = true,
	    .fileid = 100,
	    .entry = ANS(12345) },
	  NM_V_WARN,
	  "NFS4ERR 12345" },
	{ "volatile handles: the entry is not judged",
	  NM_FH4_VOLATILE_ANY,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .have_fileid = true,
	    .fileid = 100,
	    .entry = NOANS },
	  NM_V_WARN,
	  "file handles are volatile" },
	{ "the root never answered",
	  0,
	  { .reached = true, .error = "no reply", .root = NOANS, .entry = NOANS },
	  NM_V_FAIL,
	  "no answer for the saved root file handle: no reply" },
	{ "the root answered without attributes",
	  0,
	  { .reached = true, .root = ANS(NFS4_OK), .entry = NOTASKED },
	  NM_V_WARN,
	  "no answer for the saved root file handle: no fsid in the reply" },
	{ "the root answered without a fileid",
	  0,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .entry = NOTASKED },
	  NM_V_WARN,
	  "no answer for the saved root file handle: no fileid in the reply" },
	{ "the entry answered without a fileid",
	  0,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .have_fileid = true,
	    .fileid = 100,
	    .entry = ANS(NFS4_OK) },
	  NM_V_WARN,
	  "'f' got no answer: no fileid in the reply" },
	{ "the root STALE",
	  0,
	  { .reached = true, .root = ANS(NFS4ERR_STALE) },
	  NM_V_FAIL,
	  "NFS4ERR_STALE here: not the same file system" },
	{ "the root FHEXPIRED",
	  0,
	  { .reached = true, .root = ANS(NFS4ERR_FHEXPIRED) },
	  NM_V_WARN,
	  "volatile file handles" },
	{ "the root MOVED",
	  0,
	  { .reached = true, .root = ANS(NFS4ERR_MOVED) },
	  NM_V_FAIL,
	  "NFS4ERR_MOVED" },
	{ "the root: an unknown status",
	  0,
	  { .reached = true, .root = ANS(99999) },
	  NM_V_FAIL,
	  "PUTFH of the saved root file handle failed: NFS4ERR 99999" },
	{ "another fsid",
	  0,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 3 },
	  NM_V_FAIL,
	  "different file system" },
	{ "another root fileid",
	  0,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .have_fileid = true,
	    .fileid = 7 },
	  NM_V_FAIL,
	  "different root: fileid 7, registered 100" },
	{ "the path leads to the saved root",
	  0,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .have_fileid = true,
	    .fileid = 100,
	    .path = "/export/data",
	    .walk = ANS(NFS4_OK),
	    .walk_have_fsid = true,
	    .walk_have_fileid = true,
	    .walk_fsid_major = 1,
	    .walk_fsid_minor = 2,
	    .walk_fileid = 100 },
	  NM_V_OK,
	  "; the path /export/data leads to it" },
	{ "the path leads to another directory",
	  0,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .have_fileid = true,
	    .fileid = 100,
	    .path = "/export/data",
	    .walk = ANS(NFS4_OK),
	    .walk_have_fsid = true,
	    .walk_have_fileid = true,
	    .walk_fsid_major = 1,
	    .walk_fsid_minor = 2,
	    .walk_fileid = 101 },
	  NM_V_FAIL,
	  "the path /export/data leads elsewhere" },
	{ "the path leads elsewhere and the entry got no answer: the worse stands",
	  0,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .have_fileid = true,
	    .fileid = 100,
	    .entry = ANS(NFS4ERR_SERVERFAULT),
	    .path = "/export/data",
	    .walk = ANS(NFS4_OK),
	    .walk_have_fsid = true,
	    .walk_have_fileid = true,
	    .walk_fsid_major = 1,
	    .walk_fsid_minor = 2,
	    .walk_fileid = 101 },
	  NM_V_FAIL,
	  "the path /export/data leads elsewhere" },
	{ "the path leads to another file system",
	  0,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .have_fileid = true,
	    .fileid = 100,
	    .path = "/export/data",
	    .walk = ANS(NFS4_OK),
	    .walk_have_fsid = true,
	    .walk_have_fileid = true,
	    .walk_fsid_major = 9,
	    .walk_fsid_minor = 2,
	    .walk_fileid = 100 },
	  NM_V_FAIL,
	  "leads elsewhere (fsid 0x9:0x2" },
	{ "the path's attributes missing",
	  0,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .have_fileid = true,
	    .fileid = 100,
	    .path = "/x",
	    .walk = ANS(NFS4_OK) },
	  NM_V_WARN,
	  "the walk of /x got no answer: no fsid or fileid" },
	{ "the path does not exist",
	  0,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .have_fileid = true,
	    .fileid = 100,
	    .path = "/export/data",
	    .walk = { .wanted = true,
		      .answered = true,
		      .status = NFS4ERR_NOENT,
		      .op = OP_LOOKUP } },
	  NM_V_FAIL,
	  "LOOKUP of the path /export/data fails here: NFS4ERR_NOENT" },
	{ "the path never answered",
	  0,
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .have_fsid = true,
	    .fsid_major = 1,
	    .fsid_minor = 2,
	    .have_fileid = true,
	    .fileid = 100,
	    .path = "/export/data",
	    .walk = NOANS },
	  NM_V_WARN,
	  "the walk of /export/data got no answer" },
	{ "not reached",
	  0,
	  { .reached = false, .root = NOANS },
	  NM_V_SKIP,
	  "destination not reached" },
};

static const struct sec_row {
	const char *what;
	struct nm_verify_answer a;
	enum nm_verdict v;
	const char *why;
} sec_rows[] = {
	{ "sys offered",
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .sec = ANS(NFS4_OK),
	    .flavors = { 6, 1 },
	    .nflavors = 2 },
	  NM_V_OK,
	  "offers sys (flavors 6,1)" },
	{ "sys not offered",
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .sec = ANS(NFS4_OK),
	    .flavors = { 6 },
	    .nflavors = 1 },
	  NM_V_FAIL,
	  "does not offer sys (flavors 6)" },
	{ "no flavor at all",
	  { .reached = true, .root = ANS(NFS4_OK), .sec = ANS(NFS4_OK) },
	  NM_V_FAIL,
	  "(flavors none)" },
	{ "SECINFO never answered",
	  { .reached = true, .root = ANS(NFS4_OK), .sec = NOANS },
	  NM_V_WARN,
	  "SECINFO got no answer" },
	{ "the root failed before SECINFO",
	  { .reached = true, .root = ANS(NFS4ERR_FHEXPIRED), .sec = NOANS },
	  NM_V_SKIP,
	  "not usable here" },
	{ "SECINFO failed",
	  { .reached = true,
	    .root = ANS(NFS4_OK),
	    .sec = { .wanted = true,
		     .answered = true,
		     .status = NFS4ERR_ACCESS,
		     .op = OP_SECINFO } },
	  NM_V_WARN,
	  "failed: NFS4ERR_ACCESS" },
	{ "4.0 and an export of /",
	  { .reached = true, .root = ANS(NFS4_OK), .sec = NOTASKED },
	  NM_V_SKIP,
	  "SECINFO needs a name" },
	{ "not reached", { .reached = false, .sec = NOANS }, NM_V_SKIP, "not reached" },
};

static const struct dest_row {
	const char *what;
	struct nm_verify_dest_facts f;
	enum nm_verdict v;
	const char *why;
} dest_rows[] = {
	{ "--to and served by it",
	  { .now = "192.0.2.2", .to = "b", .is_to = true },
	  NM_V_OK,
	  "served by 192.0.2.2, the destination given" },
	{ "--to and served by another",
	  { .now = "192.0.2.3", .to = "b", .orig = "192.0.2.1" },
	  NM_V_FAIL,
	  "served by 192.0.2.3, not by the destination b" },
	{ "--to wins over a location",
	  { .now = "192.0.2.3", .to = "b", .location = "c:/x", .orig = "192.0.2.1" },
	  NM_V_FAIL,
	  "not by the destination b" },
	{ "a recorded location",
	  { .now = "192.0.2.2", .location = "b:/x", .orig = "192.0.2.1" },
	  NM_V_OK,
	  "one of the recorded locations (b:/x)" },
	{ "still on the original",
	  { .now = "192.0.2.1", .orig = "192.0.2.1" },
	  NM_V_FAIL,
	  "still served by the original server 192.0.2.1" },
	{ "another than the original",
	  { .now = "192.0.2.2", .orig = "192.0.2.1" },
	  NM_V_OK,
	  "no longer by the original 192.0.2.1" },
	{ "the original unknown",
	  { .now = "192.0.2.2", .orig = "" },
	  NM_V_WARN,
	  "does not say which server was the original" },
};

static const struct source_row {
	const char *what;
	struct nm_verify_source_facts f;
	enum nm_verdict v;
	const char *why;
} source_rows[] = {
	{ "no --source", { .asked = false }, NM_V_SKIP, "no --source given" },
	{ "the source not reached",
	  { .asked = true, .error = "a: cannot connect" },
	  NM_V_FAIL,
	  "a: cannot connect" },
	{ "still serving",
	  { .asked = true, .host = "a", .path = "/e", .server = "192.0.2.2", .absent = false },
	  NM_V_FAIL,
	  "the source a still serves /e (no NFS4ERR_MOVED)" },
	{ "MOVED, the destination not listed",
	  { .asked = true,
	    .host = "a",
	    .path = "/e",
	    .server = "192.0.2.2",
	    .absent = true,
	    .fs_path = "/e" },
	  NM_V_FAIL,
	  "does not list 192.0.2.2 in fs_locations" },
	{ "MOVED and listed",
	  { .asked = true,
	    .host = "a",
	    .path = "/e",
	    .server = "192.0.2.2",
	    .absent = true,
	    .fs_path = "/e",
	    .listed = true },
	  NM_V_OK,
	  "the source a answers MOVED for /e and lists 192.0.2.2" },
};

int main(void)
{
	struct unit u = { 0 };
	struct nm_record rec;

	unit_start();
	for (size_t i = 0; i < sizeof(samefs_rows) / sizeof(samefs_rows[0]); i++) {
		const struct samefs_row *r = &samefs_rows[i];
		struct nm_check c = { 0 };

		record(&rec, r->fh_expire_type);
		nm_verify_judge_samefs(&rec, &r->a, &c);
		UNIT_CHECK(&u, c.v == r->v && strstr(c.why, r->why), "same_fs: %s: %s: %s", r->what,
			   nm_verdict_name(c.v), c.why);
	}
	for (size_t i = 0; i < sizeof(sec_rows) / sizeof(sec_rows[0]); i++) {
		const struct sec_row *r = &sec_rows[i];
		struct nm_check c = { 0 };

		nm_verify_judge_security("sys", &r->a, &c);
		UNIT_CHECK(&u, c.v == r->v && strstr(c.why, r->why), "security: %s: %s: %s",
			   r->what, nm_verdict_name(c.v), c.why);
	}
	for (size_t i = 0; i < sizeof(dest_rows) / sizeof(dest_rows[0]); i++) {
		const struct dest_row *r = &dest_rows[i];
		struct nm_check c = { 0 };

		nm_verify_judge_destination(&r->f, &c);
		UNIT_CHECK(&u, c.v == r->v && strstr(c.why, r->why), "destination: %s: %s: %s",
			   r->what, nm_verdict_name(c.v), c.why);
	}
	for (size_t i = 0; i < sizeof(source_rows) / sizeof(source_rows[0]); i++) {
		const struct source_row *r = &source_rows[i];
		struct nm_check c = { 0 };

		nm_verify_judge_source(&r->f, &c);
		UNIT_CHECK(&u, c.v == r->v && strstr(c.why, r->why), "source: %s: %s: %s", r->what,
			   nm_verdict_name(c.v), c.why);
	}
	return unit_done(&u);
}
