/* nm_migrate - the questions migrate asks before a move: a session to the
 * new address, who each address is, the saved handles there. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "nm_migrate.h"
#include "nm_verify_batch.h"

static void copy_msg(char *dst, size_t cap, const char *msg)
{
	snprintf(dst, cap, "%s", msg ? msg : "");
}

static bool not_answering(struct nm_err *err, const char *server, const char *mount)
{
	nm_rpc_not_answering(err, server, mount);
	return strncmp(err->msg, "server not answering", 20) == 0;
}

/* One SETCLIENTID of the 4.0 procedure: the same id and verifier to each
 * address (RFC 7931 §5.8).  Returns < 0 when not answered. */
static int setclientid(struct nm_nfs4 *c, const char *addr, const char *owner, const verifier4 verf,
		       nfsstat4 *st, clientid4 *id, verifier4 confirm, struct nm_err *err)
{
	nfs_argop4 op = { .argop = OP_SETCLIENTID };
	SETCLIENTID4args *a = &op.nfs_argop4_u.opsetclientid;
	struct nm_nfs4_reply r;
	bool v6 = strchr(addr, ':') != NULL;
	int rc;

	a->client.id.id_len = (unsigned)strlen(owner);
	a->client.id.id_val = (char *)owner;
	memcpy(a->client.verifier, verf, sizeof(verifier4));
	/* No callbacks: an address the server cannot call back says so. */
	a->callback.cb_program = 0x40000000;
	a->callback.cb_location.r_netid = (char *)(v6 ? "tcp6" : "tcp");
	a->callback.cb_location.r_addr = (char *)(v6 ? "::.0.0" : "0.0.0.0.0.0");
	a->callback_ident = 1;
	rc = nm_nfs4_compound(c, &op, 1, &r, err);
	if (rc < 0)
		return rc;
	*st = r.status;
	if (r.status == NFS4_OK && r.nops == 1) {
		SETCLIENTID4resok *ok =
			&r.ops[0].nfs_resop4_u.opsetclientid.SETCLIENTID4res_u.resok4;

		*id = ok->clientid;
		memcpy(confirm, ok->setclientid_confirm, sizeof(verifier4));
	} else if (r.status == NFS4_OK) {
		*st = NFS4ERR_SERVERFAULT;
	}
	nm_nfs4_reply_free(&r);
	return 0;
}

static int confirm(struct nm_nfs4 *c, clientid4 id, const verifier4 v, nfsstat4 *st,
		   struct nm_err *err)
{
	nfs_argop4 op = { .argop = OP_SETCLIENTID_CONFIRM };
	struct nm_nfs4_reply r;
	int rc;

	op.nfs_argop4_u.opsetclientid_confirm.clientid = id;
	memcpy(op.nfs_argop4_u.opsetclientid_confirm.setclientid_confirm, v, sizeof(verifier4));
	rc = nm_nfs4_compound(c, &op, 1, &r, err);
	if (rc < 0)
		return rc;
	*st = r.status;
	nm_nfs4_reply_free(&r);
	return 0;
}

/* RFC 7931 §5.8: a client ID on the current address; the same
 * nfs_client_id4 to ADDRESS: the same server gives the same client ID,
 * and then confirms ADDRESS's verifier on the current address. */
static void same40(const struct nm_mount *m, struct nm_nfs4 *tc, const struct nm_nfs4_opts *o,
		   struct nm_migrate_answers *a)
{
	struct nm_migrate_same40 *v = &a->v40;
	struct nm_err err = { 0 };
	struct nm_nfs4 *cc = NULL;
	char owner[NM_NFS4_OWNER_MAX], host[256] = "localhost";
	verifier4 verf, conf_cur, conf_to;
	uint64_t nonce = 0;
	clientid4 id = 0;
	nfsstat4 st = NFS4_OK;

	gethostname(host, sizeof(host) - 1);
	if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != sizeof(nonce))
		nonce = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	memcpy(verf, &nonce, sizeof(verf));
	/* the nonce first: a long host name is what gets cut */
	snprintf(owner, sizeof(owner), "nfsmig-migrate/%016llx/%d/%s", (unsigned long long)nonce,
		 (int)getpid(), host);
	if (nm_nfs4_open(m->server, o, &cc, &err) < 0) {
		not_answering(&err, m->server, m->target);
		copy_msg(v->error, sizeof(v->error), err.msg);
		return;
	}
	int rc = setclientid(cc, m->server, owner, verf, &st, &id, conf_cur, &err);

	if (rc == 0 && st == NFS4_OK)
		rc = confirm(cc, id, conf_cur, &st, &err);
	if (rc < 0 || st != NFS4_OK) {
		if (rc < 0) {
			not_answering(&err, m->server, m->target);
			copy_msg(v->error, sizeof(v->error), err.msg);
		} else {
			snprintf(v->error, sizeof(v->error), "%s answered %s", m->server,
				 NM_NFS4_STATUS(st));
		}
		nm_nfs4_close(cc);
		return;
	}
	v->cur_done = true;
	v->cur_clientid = id;
	memset(&err, 0, sizeof(err));
	if (setclientid(tc, a->to, owner, verf, &v->to_status, &id, conf_to, &err) < 0) {
		not_answering(&err, a->to, m->target);
		copy_msg(v->error, sizeof(v->error), err.msg);
		nm_nfs4_close(cc);
		return;
	}
	v->to_answered = true;
	if (v->to_status == NFS4_OK) {
		v->to_clientid = id;
		if (id == v->cur_clientid) {
			if (confirm(cc, id, conf_to, &v->confirm_status, &err) < 0) {
				not_answering(&err, m->server, m->target);
				copy_msg(v->error, sizeof(v->error), err.msg);
			} else {
				v->confirm_answered = true;
			}
		}
	}
	nm_nfs4_close(cc);
}

void nm_migrate_ask(const struct nm_mount *m, const struct nm_record *rec, const char *to,
		    int timeout_ms, struct nm_migrate_answers *a)
{
	int minor = m->minor >= 0 ? m->minor : rec->minor;
	struct nm_nfs4_opts o = {
		.rpc = { .port = m->port, .connect_ms = timeout_ms, .call_ms = timeout_ms },
		.minor = minor < 0 ? 0 : minor,
		.sec = m->sec
	};
	struct nm_err err = { 0 };
	struct nm_nfs4 *tc = NULL, *cc = NULL;

	char owner[NM_NFS4_OWNER_MAX], host[256] = "localhost";
	uint64_t nonce = 0;

	/* 4.1+: one client owner on both addresses: one server gives one
	 * client ID (RFC 8881 §2.10.5). */
	gethostname(host, sizeof(host) - 1);
	if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != sizeof(nonce))
		nonce = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	/* the nonce first: a long host name is what gets cut */
	snprintf(owner, sizeof(owner), "nfsmig-migrate/%016llx/%d/%s", (unsigned long long)nonce,
		 (int)getpid(), host);
	if (o.minor > 0) {
		o.owner = owner;
		o.verifier = nonce;
	}
	memset(a, 0, sizeof(*a));
	a->minor = (unsigned)o.minor;
	a->cur = m->server;
	a->to = to;
	if (nm_nfs4_open(to, &o, &tc, &err) < 0) {
		a->to_unanswered = not_answering(&err, to, m->target);
		copy_msg(a->to_error, sizeof(a->to_error), err.msg);
		return;
	}
	a->to_reached = true;
	a->to_minor = nm_nfs4_minor(tc);
	copy_msg(a->to_note, sizeof(a->to_note), nm_nfs4_note(tc));
	if (a->minor > 0) {
		a->to_id = *nm_nfs4_server_id(tc);
		memset(&err, 0, sizeof(err));
		if (nm_nfs4_open(m->server, &o, &cc, &err) < 0) {
			not_answering(&err, m->server, m->target);
			copy_msg(a->cur_error, sizeof(a->cur_error), err.msg);
		} else {
			a->cur_reached = true;
			a->cur_id = *nm_nfs4_server_id(cc);
			nm_nfs4_close(cc);
		}
	} else {
		same40(m, tc, &o, a);
	}

	/* The saved handles and the flavor, asked of ADDRESS as verify asks
	 * a destination (one item; no path walked: the handles tell). */
	struct nm_verify_item it = { 0 };
	struct nm_verify_item *items[1] = { &it };
	struct nm_verify_group g = { .items = items, .answers = &a->fs, .n = 1 };

	it.m = *m; /* shallow: it is never freed */
	it.m.server = (char *)to;
	it.rec = *rec;
	it.have_rec = true;
	g.timeout_ms = timeout_ms;
	a->fs.path = NULL;
	nm_verify_batch_start(&g);
	nm_verify_batch_run_on(tc, &g);
	nm_nfs4_close(tc);
}
