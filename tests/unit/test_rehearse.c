/* The rehearsal's verdict (nm_reh_judge) from a table of recorded answers,
 * and the file spec. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "nm_nfs4.h"
#include "nm_rehearse.h"
#include "nm_rehearse_int.h"
#include "unit.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int fuzz_rehearse_run(const uint8_t *data, size_t size, struct nm_reh_result *out);
const char *fuzz_rehearse_claims(void);
unsigned fuzz_rehearse_reclaim_completes(void);

/* Replies captured from tests/helpers/fakenfs4 through a proxy (source
 * and destination in call order), replayed by fuzz_rehearse's stub: the
 * whole engine, offline, for each way a move can go. */
static const struct {
	const char *input;
	enum nm_reh_state state[2];
	size_t nfiles;
	int code;
	unsigned dst_clients, dst_fs; /* destination clients, their file systems */
	const char *claims;	      /* each OPEN sent: N CLAIM_NULL, P CLAIM_PREVIOUS */
} replays[] = {
	/* the source's OPEN; TSM: nothing opened again */
	{ "v41-tsm", { NM_REH_STATE_TRANSPARENT }, 1, 0, 1, 1, "N" },
	{ "v40-lease-moved-tsm", { NM_REH_STATE_TRANSPARENT }, 1, 0, 1, 1, "N" },
	/* the reclaim on the destination */
	{ "v40-reclaim", { NM_REH_STATE_RECLAIM }, 1, 0, 1, 1, "NP" },
	{ "v41-reclaim-two", { NM_REH_STATE_RECLAIM, NM_REH_STATE_RECLAIM }, 2, 0, 1, 2, "NNPP" },
	/* the reclaim refused, the re-open by name */
	{ "v40-reopen", { NM_REH_STATE_REOPEN }, 1, 1, 1, 1, "NPN" },
	/* the reclaim on the expired handle, again on the handle found by
	 * path, then the re-open */
	{ "v41-fhexpired", { NM_REH_STATE_REOPEN }, 1, 1, 1, 1, "NPPN" },
	{ "v41-lease-moved", { NM_REH_STATE_REOPEN }, 1, 1, 1, 1, "NPN" },
	{ "v41-conflict", { NM_REH_STATE_CONFLICT }, 1, 1, 1, 1, "NPN" },
	{ "v40-conflict-two",
	  { NM_REH_STATE_CONFLICT, NM_REH_STATE_CONFLICT },
	  2,
	  1,
	  1,
	  2,
	  "NNPPNN" },
	/* the file gone there: nothing to open */
	{ "v40-lost", { NM_REH_STATE_LOST }, 1, 1, 1, 1, "N" },
};

static int read_all(const char *path, unsigned char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = malloc(1 << 20);
	size_t n;

	if (!f || !buf) {
		if (f)
			fclose(f);
		free(buf);
		return -1;
	}
	n = fread(buf, 1, 1 << 20, f);
	fclose(f);
	*data = buf;
	*len = n;
	return 0;
}

static void test_replays(struct unit *u)
{
	const char *fx = getenv("NM_FIXTURES");
	struct nm_reh_result *r = calloc(1, sizeof(*r));

	LLVMFuzzerInitialize(NULL, NULL);
	for (size_t i = 0; i < sizeof(replays) / sizeof(replays[0]); i++) {
		char path[4096];
		unsigned char *data = NULL;
		size_t len = 0;
		bool same = true;

		snprintf(path, sizeof(path), "%s/../fuzz/regress/rehearse/%s",
			 fx ? fx : "tests/fixtures", replays[i].input);
		if (read_all(path, &data, &len) < 0) {
			UNIT_CHECK(u, false, "replay %s: cannot read %s", replays[i].input, path);
			continue;
		}
		fuzz_rehearse_run(data, len, r);
		free(data);
		{
			unsigned nd = 0, fs = 0;

			for (size_t k = 0; k < r->nclients; k++)
				if (r->clients[k].destination) {
					nd++;
					fs += r->clients[k].file_systems;
				}
			UNIT_CHECK(u, nd == replays[i].dst_clients && fs == replays[i].dst_fs,
				   "replay %s: %u destination client(s), %u file system(s) there",
				   replays[i].input, nd, fs);
			UNIT_CHECK(u, strcmp(fuzz_rehearse_claims(), replays[i].claims) == 0,
				   "replay %s: OPEN claims %s (want %s)", replays[i].input,
				   fuzz_rehearse_claims(), replays[i].claims);
			UNIT_CHECK(u, fuzz_rehearse_reclaim_completes() <= 1,
				   "replay %s: RECLAIM_COMPLETE at most once a session (%u)",
				   replays[i].input, fuzz_rehearse_reclaim_completes());
		}
		same = r->nfiles == replays[i].nfiles && nm_reh_exit_code(r) == replays[i].code;
		for (size_t k = 0; same && k < r->nfiles; k++)
			same = r->files[k].verdict.state == replays[i].state[k];
		UNIT_CHECK(u, same, "replay %s: %s (exit %d)", replays[i].input,
			   r->nfiles ? r->files[0].verdict.verdict : "no file",
			   nm_reh_exit_code(r));
	}
	free(r);
}

/* Answers of a migration held, located, connected, flavor checked. */
#define MIGR                                                                                       \
	.held = true, .held_answered = true, .kind = NM_REH_KIND_MIGRATION, .locations = true,     \
	.dest_connected = true, .flavor_ok = true, .flavor_answered = true
#define READ_SAME .read_answered = true, .read_ok = true, .read_same = true
/* Answers of a referral located, connected, flavor checked. */
#define REFER                                                                                      \
	.held_answered = true, .kind = NM_REH_KIND_REFERRAL, .locations = true,                    \
	.dest_connected = true, .flavor_ok = true, .flavor_answered = true

static const struct {
	const char *name;
	struct nm_reh_answers a;
	enum nm_reh_state state;
	int code;
	const char *verdict; /* a prefix */
} cases[] = {
	{ "nothing answered at all", { 0 }, NM_REH_STATE_UNANSWERED, 3, "no verdict" },
	{ "tsm",
	  { MIGR, .tsm_answered = true, .tsm = true, READ_SAME },
	  NM_REH_STATE_TRANSPARENT,
	  0,
	  "state moved transparently" },
	{ "tsm, READ differs",
	  { MIGR, .tsm_answered = true, .tsm = true, .read_answered = true, .read_ok = true },
	  NM_REH_STATE_TRANSPARENT,
	  1,
	  "state moved transparently" },
	{ "tsm, READ not answered",
	  { MIGR, .tsm_answered = true, .tsm = true },
	  NM_REH_STATE_UNANSWERED,
	  3,
	  "no verdict" },
	{ "state test not answered", { MIGR }, NM_REH_STATE_UNANSWERED, 3, "no verdict" },
	{ "reclaim",
	  { MIGR, .tsm_answered = true, .reclaim_tried = true, .reclaim_answered = true,
	    .reclaim_ok = true, READ_SAME },
	  NM_REH_STATE_RECLAIM,
	  0,
	  "state recovered by reclaim" },
	{ "reclaim not answered",
	  { MIGR, .tsm_answered = true, .reclaim_tried = true },
	  NM_REH_STATE_UNANSWERED,
	  3,
	  "no verdict" },
	{ "re-open",
	  { MIGR, .tsm_answered = true, .reclaim_tried = true, .reclaim_answered = true,
	    .reopen_tried = true, .reopen_answered = true, .reopen_ok = true,
	    .relock_answered = true, .relock_ok = true, .lock_gap_ms = 1234, READ_SAME },
	  NM_REH_STATE_REOPEN,
	  1,
	  "state recovered by re-open: locks were unprotected for 1234 ms" },
	{ "re-open, lock taken in the gap",
	  { MIGR, .tsm_answered = true, .reclaim_tried = true, .reclaim_answered = true,
	    .reopen_tried = true, .reopen_answered = true, .reopen_ok = true,
	    .relock_answered = true, .relock_denied = true, READ_SAME },
	  NM_REH_STATE_CONFLICT,
	  1,
	  "state recovered by re-open: the lock was taken by another owner in the gap" },
	{ "re-LOCK not answered",
	  { MIGR, .tsm_answered = true, .reclaim_tried = true, .reclaim_answered = true,
	    .reopen_tried = true, .reopen_answered = true, .reopen_ok = true, READ_SAME },
	  NM_REH_STATE_UNANSWERED,
	  3,
	  "no verdict" },
	{ "re-open refused",
	  { MIGR, .tsm_answered = true, .reclaim_tried = true, .reclaim_answered = true,
	    .reopen_tried = true, .reopen_answered = true },
	  NM_REH_STATE_LOST,
	  1,
	  "state lost and not recoverable" },
	{ "re-open not answered",
	  { MIGR, .tsm_answered = true, .reclaim_tried = true, .reclaim_answered = true,
	    .reopen_tried = true },
	  NM_REH_STATE_UNANSWERED,
	  3,
	  "no verdict" },
	{ "flavor missing",
	  { .held = true,
	    .held_answered = true,
	    .kind = NM_REH_KIND_MIGRATION,
	    .locations = true,
	    .dest_connected = true,
	    .flavor_answered = true },
	  NM_REH_STATE_LOST,
	  1,
	  "state lost" },
	{ "flavor not answered",
	  { .held = true,
	    .held_answered = true,
	    .kind = NM_REH_KIND_MIGRATION,
	    .locations = true,
	    .dest_connected = true,
	    .flavor_ok = true },
	  NM_REH_STATE_UNANSWERED,
	  3,
	  "no verdict" },
	{ "destination not answering",
	  { .held = true, .held_answered = true, .kind = NM_REH_KIND_MIGRATION, .locations = true },
	  NM_REH_STATE_UNANSWERED,
	  3,
	  "no verdict" },
	{ "no locations",
	  { .held = true, .held_answered = true, .kind = NM_REH_KIND_MIGRATION },
	  NM_REH_STATE_UNANSWERED,
	  3,
	  "no verdict" },
	{ "referral", { REFER, READ_SAME }, NM_REH_STATE_REFERRAL, 0, "referral, no state" },
	{ "referral, READ there not answered",
	  { REFER },
	  NM_REH_STATE_UNANSWERED,
	  3,
	  "no verdict" },
	{ "referral, SECINFO there not answered",
	  { .held_answered = true,
	    .kind = NM_REH_KIND_REFERRAL,
	    .locations = true,
	    .dest_connected = true,
	    .flavor_ok = true,
	    READ_SAME },
	  NM_REH_STATE_UNANSWERED,
	  3,
	  "no verdict: SECINFO" },
	{ "referral, the flavor not offered there",
	  { .held_answered = true,
	    .kind = NM_REH_KIND_REFERRAL,
	    .locations = true,
	    .dest_connected = true,
	    .flavor_answered = true },
	  NM_REH_STATE_REFERRAL,
	  1,
	  "referral, no state" },
	{ "referral, 4.0 SETCLIENTID refused there",
	  { REFER, .dest_setup_tried = true, .dest_setup_answered = true },
	  NM_REH_STATE_REFERRAL,
	  1,
	  "referral, no state" },
	{ "referral, 4.0 SETCLIENTID there not answered",
	  { REFER, .dest_setup_tried = true },
	  NM_REH_STATE_UNANSWERED,
	  3,
	  "no verdict: SETCLIENTID" },
	{ "4.0 SETCLIENTID refused on the destination",
	  { MIGR, .tsm_answered = true, .dest_setup_tried = true, .dest_setup_answered = true },
	  NM_REH_STATE_LOST,
	  1,
	  "state lost and not recoverable" },
	{ "4.0 SETCLIENTID on the destination not answered",
	  { MIGR, .tsm_answered = true, .dest_setup_tried = true },
	  NM_REH_STATE_UNANSWERED,
	  3,
	  "no verdict: SETCLIENTID" },
	{ "kept",
	  { .held = true,
	    .held_answered = true,
	    .kind = NM_REH_KIND_NONE,
	    .still_answered = true,
	    .still_held = true },
	  NM_REH_STATE_KEPT,
	  0,
	  "not moved: state kept on the source" },
	{ "not moved, but the stateid no longer reads",
	  { .held = true, .held_answered = true, .kind = NM_REH_KIND_NONE, .still_answered = true },
	  NM_REH_STATE_LOST,
	  1,
	  "state lost" },
	{ "not moved, last READ not answered",
	  { .held = true, .held_answered = true, .kind = NM_REH_KIND_NONE },
	  NM_REH_STATE_UNANSWERED,
	  3,
	  "no verdict" },
	{ "the source refused to hold the file",
	  { .held_answered = true },
	  NM_REH_STATE_UNANSWERED,
	  1,
	  "no verdict: the source refused" },
	{ "the wait not answered (dead server)",
	  { .held = true, .held_answered = true },
	  NM_REH_STATE_UNANSWERED,
	  3,
	  "no verdict" },
};

/* RFC 7530 9.1.7: the statuses after which a 4.0 seqid does not advance. */
static const struct {
	nfsstat4 st;
	bool bumps;
} seqid_rows[] = {
	{ NFS4_OK, true },
	{ NFS4ERR_DENIED, true },
	{ NFS4ERR_NO_GRACE, true },
	{ NFS4ERR_RECLAIM_BAD, true },
	{ NFS4ERR_ACCESS, true },
	{ NFS4ERR_NOENT, true },
	{ NFS4ERR_DELAY, true },
	{ NFS4ERR_GRACE, true },
	{ NFS4ERR_STALE_CLIENTID, false },
	{ NFS4ERR_STALE_STATEID, false },
	{ NFS4ERR_BAD_STATEID, false },
	{ NFS4ERR_BAD_SEQID, false },
	{ NFS4ERR_BADXDR, false },
	{ NFS4ERR_RESOURCE, false },
	{ NFS4ERR_NOFILEHANDLE, false },
	{ NFS4ERR_MOVED, false },
};

/* Which COMPOUNDs change state (never sent again on DELAY). */
static const struct {
	const char *name;
	nfs_opnum4 ops[3];
	unsigned n;
	bool stateful;
} stateful_rows[] = {
	{ "PUTFH,GETATTR", { OP_PUTFH, OP_GETATTR }, 2, false },
	{ "PUTROOTFH,LOOKUP,SECINFO", { OP_PUTROOTFH, OP_LOOKUP, OP_SECINFO }, 3, false },
	{ "PUTFH,READ", { OP_PUTFH, OP_READ }, 2, false },
	{ "RENEW", { OP_RENEW }, 1, false },
	{ "TEST_STATEID", { OP_TEST_STATEID }, 1, false },
	{ "PUTFH,OPEN,GETFH", { OP_PUTFH, OP_OPEN, OP_GETFH }, 3, true },
	{ "PUTFH,OPEN_CONFIRM", { OP_PUTFH, OP_OPEN_CONFIRM }, 2, true },
	{ "PUTFH,LOCK", { OP_PUTFH, OP_LOCK }, 2, true },
	{ "PUTFH,LOCKU,CLOSE", { OP_PUTFH, OP_LOCKU, OP_CLOSE }, 3, true },
	{ "RELEASE_LOCKOWNER", { OP_RELEASE_LOCKOWNER }, 1, true },
	{ "RECLAIM_COMPLETE", { OP_RECLAIM_COMPLETE }, 1, true },
};

static void test_seqid_and_delay(struct unit *u)
{
	for (size_t i = 0; i < sizeof(seqid_rows) / sizeof(seqid_rows[0]); i++)
		UNIT_CHECK(u, nm_reh_seqid_bumps(seqid_rows[i].st) == seqid_rows[i].bumps,
			   "4.0 seqid after %s: %s", nm_nfs4_status_name(seqid_rows[i].st),
			   seqid_rows[i].bumps ? "advances" : "stays");
	for (size_t i = 0; i < sizeof(stateful_rows) / sizeof(stateful_rows[0]); i++) {
		nfs_argop4 ops[3];

		memset(ops, 0, sizeof(ops));
		for (unsigned k = 0; k < stateful_rows[i].n; k++)
			ops[k].argop = stateful_rows[i].ops[k];
		UNIT_CHECK(u,
			   nm_nfs4_ops_stateful(ops, stateful_rows[i].n) ==
				   stateful_rows[i].stateful,
			   "%s: %s", stateful_rows[i].name,
			   stateful_rows[i].stateful ? "DELAY is its answer" : "DELAY asked again");
	}
}

int main(void)
{
	struct unit u = { 0 };
	struct nm_reh_file f;
	struct nm_err err = { 0 };

	unit_start();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nm_reh_verdict v;

		nm_reh_judge(&cases[i].a, 0, &v);
		UNIT_CHECK(&u,
			   v.state == cases[i].state && v.exit_code == cases[i].code &&
				   strncmp(v.verdict, cases[i].verdict, strlen(cases[i].verdict)) ==
					   0,
			   "%s: %s (exit %d, want %s exit %d)", cases[i].name, v.verdict,
			   v.exit_code, nm_reh_state_name(cases[i].state), cases[i].code);
		UNIT_CHECK(&u, v.kernel[0] != 0, "%s: says what the kernel does", cases[i].name);
	}
	/* Whatever else is set, a step not answered is never OK: every
	 * answered flag cleared in turn from the re-open case. */
	{
		struct nm_reh_answers base = cases[7].a;
		bool *flags[] = { &base.held_answered,	 &base.locations,
				  &base.dest_connected,	 &base.flavor_answered,
				  &base.tsm_answered,	 &base.reclaim_answered,
				  &base.reopen_answered, &base.relock_answered,
				  &base.read_answered };

		for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
			struct nm_reh_answers a = cases[7].a;
			struct nm_reh_verdict v;
			bool *p = (bool *)((char *)&a + ((char *)flags[k] - (char *)&base));

			*p = false;
			nm_reh_judge(&a, 1, &v);
			UNIT_CHECK(&u, v.state == NM_REH_STATE_UNANSWERED && v.exit_code == 3,
				   "answer %zu of the re-open path missing: %s", k, v.verdict);
		}
	}
	{
		struct nm_reh_verdict v0, v1;

		nm_reh_judge(&cases[7].a, 0, &v0);
		nm_reh_judge(&cases[7].a, 1, &v1);
		UNIT_CHECK(&u,
			   strstr(v0.kernel, "STALE_STATEID") && strstr(v1.kernel, "BAD_STATEID"),
			   "the kernel line follows the minor version (VM facts)");
	}
	UNIT_CHECK(&u,
		   strcmp(nm_nfs4_status_name(NFS4ERR_NO_GRACE), "NFS4ERR_NO_GRACE") == 0 &&
			   strcmp(nm_nfs4_status_name(NFS4ERR_DENIED), "NFS4ERR_DENIED") == 0 &&
			   strcmp(nm_nfs4_status_name(NFS4ERR_RECLAIM_BAD),
				  "NFS4ERR_RECLAIM_BAD") == 0,
		   "the client state's statuses have names (a step's message)");
	UNIT_CHECK(&u,
		   nm_reh_file_spec("srv:/d/f", &f, &err) == 0 && strcmp(f.server, "srv") == 0 &&
			   strcmp(f.path, "/d/f") == 0,
		   "SERVER:/PATH/FILE parsed");
	UNIT_CHECK(&u,
		   nm_reh_file_spec("[::1]:/d/f", &f, &err) == 0 && strcmp(f.server, "::1") == 0,
		   "[IPv6]:/PATH/FILE parsed");
	UNIT_CHECK(&u, nm_reh_file_spec("srv:/d/", &f, &err) == -EINVAL, "no file name: refused");
	UNIT_CHECK(&u, nm_reh_file_spec("nothing", &f, &err) == -EINVAL, "not a spec: refused");
	UNIT_CHECK(&u, nm_reh_file_spec("srv:/d/../f", &f, &err) == -EINVAL, ".. refused");
	UNIT_CHECK(&u, nm_reh_file_spec("srv:/d/./f", &f, &err) == -EINVAL, ". refused");
	UNIT_CHECK(&u, nm_reh_file_spec("srv:/d/..f", &f, &err) == 0, "..f is a name");
	{
		struct nm_reh_result *r = calloc(1, sizeof(*r));

		r->nfiles = 2;
		r->files[0].verdict.exit_code = 1;
		r->files[1].verdict.exit_code = 3;
		UNIT_CHECK(&u, nm_reh_exit_code(r) == 3, "exit: 3 over 1");
		r->files[1].verdict.exit_code = 0;
		UNIT_CHECK(&u, nm_reh_exit_code(r) == 1, "exit: 1 over 0");
		r->interrupted = true;
		UNIT_CHECK(&u, nm_reh_exit_code(r) == 130, "exit: 130 when interrupted");
		free(r);
	}
	test_seqid_and_delay(&u);
	test_replays(&u);
	return unit_done(&u);
}
