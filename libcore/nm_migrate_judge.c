/* nm_migrate_judge - migrate's verdicts from what the addresses answered.
 * Pure: nothing here talks to a server (tests/unit/test_migrate.c). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "nm_migrate.h"

const char *nm_migrate_check_name(int check)
{
	switch (check) {
	case NM_MIG_NFS: return "nfs";
	case NM_MIG_SERVER: return "same_server";
	case NM_MIG_SAMEFS: return "same_fs";
	case NM_MIG_SEC: return "security";
	}
	return "?";
}

const char *nm_migrate_outcome_name(enum nm_migrate_outcome o)
{
	switch (o) {
	case NM_MIG_PASS: return "pass";
	case NM_MIG_REFUSED: return "refused";
	case NM_MIG_UNANSWERED: return "unanswered";
	}
	return "?";
}

static bool transient(nfsstat4 st)
{
	return st == NFS4ERR_DELAY || st == NFS4ERR_GRACE || st == NFS4ERR_RESOURCE;
}

static bool opaque_equal(const unsigned char *a, unsigned alen, const unsigned char *b,
			 unsigned blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

static void judge_server41(const struct nm_migrate_answers *a, struct nm_check *c, bool *unanswered)
{
	if (!a->to_reached) {
		*unanswered = true;
		nm_verify_set(c, NM_V_WARN, "not asked: %s did not answer", a->to);
		return;
	}
	if (!a->cur_reached) {
		*unanswered = true;
		nm_verify_set(
			c, NM_V_WARN,
			"cannot compare: the current address %s did not answer EXCHANGE_ID: %s",
			a->cur, a->cur_error[0] ? a->cur_error : "no reason given");
		return;
	}
	if (!a->cur_id.have || !a->to_id.have) {
		nm_verify_set(
			c, NM_V_FAIL,
			"%s did not say who it is (EXCHANGE_ID's server_owner or server_scope "
			"longer than NFS4_OPAQUE_LIMIT)",
			!a->to_id.have ? a->to : a->cur);
		return;
	}
	if (!opaque_equal(a->cur_id.scope, a->cur_id.scope_len, a->to_id.scope,
			  a->to_id.scope_len)) {
		nm_verify_set(c, NM_V_FAIL,
			      "%s is another server than %s (server_scope differs, RFC 8881 "
			      "§2.10.5)",
			      a->to, a->cur);
		return;
	}
	if (!opaque_equal(a->cur_id.major, a->cur_id.major_len, a->to_id.major,
			  a->to_id.major_len)) {
		nm_verify_set(
			c, NM_V_FAIL,
			"%s is another server than %s (server_owner major ID differs, RFC 8881 "
			"§2.10.5)",
			a->to, a->cur);
		return;
	}
	if (a->cur_id.clientid != a->to_id.clientid) {
		nm_verify_set(c, NM_V_FAIL,
			      "cannot prove the same server: the client ID differs (no client ID "
			      "trunking): %s and %s give the same server_owner and scope, but two "
			      "client IDs for one client owner: 0x%" PRIx64 ", 0x%" PRIx64
			      "; RFC 8881 §2.10.5",
			      a->to, a->cur, a->to_id.clientid, a->cur_id.clientid);
		return;
	}
	nm_verify_set(c, NM_V_OK,
		      "%s is the same server as %s: server_owner major ID, server_scope and the "
		      "client ID equal (RFC 8881 §2.10.5)%s",
		      a->to, a->cur,
		      a->cur_id.minor_id == a->to_id.minor_id ? "; session trunking possible" : "");
}

static void judge_server40(const struct nm_migrate_answers *a, struct nm_check *c, bool *unanswered)
{
	const struct nm_migrate_same40 *v = &a->v40;
	char st[NM_NFS4_STATUS_TEXT_MAX];

	if (!a->to_reached) {
		*unanswered = true;
		nm_verify_set(c, NM_V_WARN, "not asked: %s did not answer", a->to);
		return;
	}
	if (!v->cur_done) {
		*unanswered = true;
		nm_verify_set(c, NM_V_WARN,
			      "cannot compare: SETCLIENTID on the current address %s not done: %s",
			      a->cur, v->error[0] ? v->error : "no reason given");
		return;
	}
	if (!v->to_answered || transient(v->to_status)) {
		*unanswered = true;
		nm_verify_set(c, NM_V_WARN, "SETCLIENTID on %s got no answer: %s", a->to,
			      v->to_answered ? nm_nfs4_status_text(v->to_status, st, sizeof(st))
			      : v->error[0]  ? v->error
					     : "no reason given");
		return;
	}
	if (v->to_status != NFS4_OK) {
		nm_verify_set(c, NM_V_FAIL,
			      "SETCLIENTID on %s failed: %s; cannot tell it is the same server "
			      "(RFC 7931 §5.8)",
			      a->to, nm_nfs4_status_text(v->to_status, st, sizeof(st)));
		return;
	}
	if (v->to_clientid != v->cur_clientid) {
		nm_verify_set(
			c, NM_V_FAIL,
			"%s is another server than %s (one nfs_client_id4 got two client IDs, "
			"RFC 7931 §5.8)",
			a->to, a->cur);
		return;
	}
	if (!v->confirm_answered || transient(v->confirm_status)) {
		*unanswered = true;
		nm_verify_set(c, NM_V_WARN, "SETCLIENTID_CONFIRM on %s got no answer: %s", a->cur,
			      v->confirm_answered
				      ? nm_nfs4_status_text(v->confirm_status, st, sizeof(st))
			      : v->error[0] ? v->error
					    : "no reason given");
		return;
	}
	if (v->confirm_status != NFS4_OK) {
		nm_verify_set(c, NM_V_FAIL,
			      "%s is another server than %s (the same client ID by chance: "
			      "SETCLIENTID_CONFIRM with its verifier on %s: %s, RFC 7931 "
			      "§5.8)",
			      a->to, a->cur, a->cur,
			      nm_nfs4_status_text(v->confirm_status, st, sizeof(st)));
		return;
	}
	nm_verify_set(c, NM_V_OK,
		      "%s is the same server as %s: one client ID on both, confirmed across them "
		      "(RFC 7931 §5.8)",
		      a->to, a->cur);
}

void nm_migrate_judge_server(const struct nm_migrate_answers *a, struct nm_check *c,
			     bool *unanswered)
{
	*unanswered = false;
	if (a->minor == 0)
		judge_server40(a, c, unanswered);
	else
		judge_server41(a, c, unanswered);
}

/* A part of the file system questions that got no answer. */
static bool part_unanswered(const struct nm_verify_answer *f, const struct nm_verify_part *p)
{
	return !f->reached || (p->wanted && (!p->answered || transient(p->status)));
}

void nm_migrate_judge(const struct nm_record *rec, const char *sec,
		      const struct nm_migrate_answers *a, struct nm_migrate_result *r)
{
	bool any_fail = false, any_unanswered = false, all_ok = true;

	memset(r, 0, sizeof(*r));
	/* nfs */
	nm_verify_judge_nfs(a->to, &a->fs, a->to_minor, a->to_reached ? NULL : a->to_error,
			    a->to_note, &r->chk[NM_MIG_NFS]);
	if (!a->to_reached && a->to_unanswered) {
		r->unanswered[NM_MIG_NFS] = true;
		nm_verify_set(&r->chk[NM_MIG_NFS], NM_V_WARN, "%s",
			      a->to_error[0] ? a->to_error : "no answer");
	} else if (r->chk[NM_MIG_NFS].v == NM_V_OK && a->to_minor != a->minor) {
		nm_verify_set(&r->chk[NM_MIG_NFS], NM_V_FAIL,
			      "%s answers NFSv4.%u, the mount speaks 4.%u", a->to, a->to_minor,
			      a->minor);
	}
	nm_migrate_judge_server(a, &r->chk[NM_MIG_SERVER], &r->unanswered[NM_MIG_SERVER]);
	/* same_fs: the saved handles */
	nm_verify_judge_samefs(rec, &a->fs, &r->chk[NM_MIG_SAMEFS]);
	if (part_unanswered(&a->fs, &a->fs.root) ||
	    (a->fs.root.status == NFS4_OK && part_unanswered(&a->fs, &a->fs.entry))) {
		r->unanswered[NM_MIG_SAMEFS] = true;
		if (r->chk[NM_MIG_SAMEFS].v == NM_V_OK || r->chk[NM_MIG_SAMEFS].v == NM_V_FAIL ||
		    r->chk[NM_MIG_SAMEFS].v == NM_V_SKIP)
			r->chk[NM_MIG_SAMEFS].v = NM_V_WARN;
	}
	/* security */
	nm_verify_judge_security(sec, &a->fs, &r->chk[NM_MIG_SEC]);
	if (a->fs.reached && a->fs.sec.wanted && part_unanswered(&a->fs, &a->fs.sec)) {
		r->unanswered[NM_MIG_SEC] = true;
		r->chk[NM_MIG_SEC].v = NM_V_WARN;
	} else if (!a->fs.reached) {
		r->unanswered[NM_MIG_SEC] = true;
		r->chk[NM_MIG_SEC].v = NM_V_WARN;
	} else if (!a->fs.sec.wanted && strcmp(sec, "sys") == 0 && a->fs.root.answered &&
		   a->fs.root.status == NFS4_OK) {
		/* 4.0 and an export of /: SECINFO needs a name, but the saved
		 * root answered under AUTH_SYS (else NFS4ERR_WRONGSEC). */
		nm_verify_set(&r->chk[NM_MIG_SEC], NM_V_OK,
			      "the saved root file handle answered under sys (no name to ask "
			      "SECINFO of)");
	}
	for (int i = 0; i < NM_MIG_N; i++) {
		if (r->chk[i].v == NM_V_FAIL)
			any_fail = true;
		if (r->unanswered[i])
			any_unanswered = true;
		if (r->chk[i].v != NM_V_OK)
			all_ok = false;
	}
	r->other_server = r->chk[NM_MIG_SERVER].v == NM_V_FAIL &&
			  strstr(r->chk[NM_MIG_SERVER].why, " is another server than ") != NULL;
	r->outcome = any_fail	      ? NM_MIG_REFUSED
		     : any_unanswered ? NM_MIG_UNANSWERED
		     : all_ok	      ? NM_MIG_PASS
				      : NM_MIG_REFUSED;
}

void nm_migrate_summary(const struct nm_migrate_result *r, const char *mount, const char *to,
			char *buf, size_t cap)
{
	switch (r->outcome) {
	case NM_MIG_PASS: snprintf(buf, cap, "%s: every check passed for %s", mount, to); break;
	case NM_MIG_UNANSWERED:
		snprintf(buf, cap, "%s not moved to %s: a check was not answered", mount, to);
		break;
	case NM_MIG_REFUSED:
		if (r->other_server)
			snprintf(buf, cap,
				 "%s not moved to %s: another server; that move is the server's to "
				 "make (fs_locations); `nfsmig rehearse` shows whether the clients "
				 "will survive it",
				 mount, to);
		else if (strstr(r->chk[NM_MIG_SERVER].why, "cannot prove the same server"))
			snprintf(buf, cap,
				 "%s not moved to %s: cannot prove the same server: the client ID "
				 "differs (no client ID trunking)",
				 mount, to);
		else
			snprintf(buf, cap, "%s not moved to %s: a check failed", mount, to);
		break;
	}
}

int nm_migrate_back_ms(int timeout_ms)
{
	int64_t t = timeout_ms > 0 ? timeout_ms : 0, ms = 3 * t + 3000;

	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}
