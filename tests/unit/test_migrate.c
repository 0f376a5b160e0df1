/* migrate's judges from tables: what the two addresses answered in, a
 * verdict out.  A check not answered is never OK; a different server is
 * refused and told it is the server's move to make.  Then the sysfs
 * transport finder and writer on a tree made here. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nm_migrate.h"
#include "nm_store.h"
#include "nm_watch.h"
#include "unit.h"

static void record(struct nm_record *r)
{
	memset(r, 0, sizeof(*r));
	r->fsid_major = 1;
	r->fsid_minor = 2;
	r->fileid = 100;
}

static void id(struct nm_nfs4_server_id *x, const char *major, const char *scope, uint64_t minor)
{
	memset(x, 0, sizeof(*x));
	x->have = true;
	x->clientid = 0x5eed;
	x->minor_id = minor;
	x->major_len = (unsigned)strlen(major);
	memcpy(x->major, major, x->major_len);
	x->scope_len = (unsigned)strlen(scope);
	memcpy(x->scope, scope, x->scope_len);
}

/* Answers of a same server that answered everything: the base of each row. */
static void good(struct nm_migrate_answers *a, unsigned minor)
{
	memset(a, 0, sizeof(*a));
	a->minor = minor;
	a->cur = "192.0.2.2";
	a->to = "192.0.2.3";
	a->to_reached = true;
	a->to_minor = minor;
	a->cur_reached = true;
	id(&a->cur_id, "knfsd-a", "scope-a", 7);
	id(&a->to_id, "knfsd-a", "scope-a", 7);
	a->v40 = (struct nm_migrate_same40){ .cur_done = true,
					     .to_answered = true,
					     .to_status = NFS4_OK,
					     .cur_clientid = 42,
					     .to_clientid = 42,
					     .confirm_answered = true,
					     .confirm_status = NFS4_OK };
	a->fs.reached = true;
	a->fs.root = (struct nm_verify_part){ .wanted = true, .answered = true, .op = OP_GETATTR };
	a->fs.have_fsid = a->fs.have_fileid = true;
	a->fs.fsid_major = 1;
	a->fs.fsid_minor = 2;
	a->fs.fileid = 100;
	a->fs.sec = (struct nm_verify_part){ .wanted = true, .answered = true, .op = OP_SECINFO };
	a->fs.flavors[0] = AUTH_SYS;
	a->fs.nflavors = 1;
}

enum change {
	C_NONE,
	C_TO_DOWN,	    /* ADDRESS does not answer */
	C_TO_REFUSES_VERS,  /* ADDRESS answers, but not at the mount's version */
	C_TO_OTHER_MINOR,   /* a session, at another minor version */
	C_CUR_DOWN,	    /* the current address does not answer (4.1) */
	C_SCOPE,	    /* server_scope differs */
	C_MAJOR,	    /* server_owner major ID differs */
	C_MINOR_ID,	    /* only so_minor_id differs: still the same server */
	C_NO_ID,	    /* ADDRESS's identity too long to keep */
	C_CLIENTID,	    /* same owner and scope, another client ID */
	C_40_CUR_FAILED,    /* 4.0: SETCLIENTID on the current address not done */
	C_40_TO_NOANS,	    /* 4.0: no answer to SETCLIENTID on ADDRESS */
	C_40_TO_DELAY,	    /* 4.0: NFS4ERR_DELAY to the end */
	C_40_TO_ERR,	    /* 4.0: SETCLIENTID on ADDRESS refused */
	C_40_OTHER_ID,	    /* 4.0: another client ID */
	C_40_CONFIRM_NOANS, /* 4.0: the confirm got no answer */
	C_40_CONFIRM_STALE, /* 4.0: same ID by chance: STALE_CLIENTID */
	C_ROOT_NOANS,	    /* the saved root not answered */
	C_ROOT_STALE,	    /* the saved root STALE there */
	C_ROOT_DELAY,	    /* NFS4ERR_DELAY for the root */
	C_FSID,		    /* another fsid */
	C_SEC_NOANS,	    /* SECINFO not answered */
	C_SEC_NOSYS,	    /* the flavor not offered */
	C_SEC_NOTASKED,	    /* 4.0 on an export of /: no SECINFO, the root answered */
};

static void apply(struct nm_migrate_answers *a, enum change c)
{
	switch (c) {
	case C_NONE: break;
	case C_TO_DOWN:
		a->to_reached = false;
		a->to_unanswered = true;
		snprintf(a->to_error, sizeof(a->to_error), "server not answering: 192.0.2.3");
		a->fs.reached = false;
		a->fs.root.answered = a->fs.sec.answered = false;
		break;
	case C_TO_REFUSES_VERS:
		a->to_reached = false;
		snprintf(a->to_error, sizeof(a->to_error), "server does not support NFSv4.1");
		a->fs.reached = false;
		a->fs.root.answered = a->fs.sec.answered = false;
		break;
	case C_TO_OTHER_MINOR: a->to_minor = a->minor + 1; break;
	case C_CUR_DOWN:
		a->cur_reached = false;
		snprintf(a->cur_error, sizeof(a->cur_error), "server not answering: 192.0.2.2");
		break;
	case C_SCOPE: id(&a->to_id, "knfsd-a", "scope-b", 7); break;
	case C_MAJOR: id(&a->to_id, "knfsd-b", "scope-a", 7); break;
	case C_MINOR_ID: id(&a->to_id, "knfsd-a", "scope-a", 8); break;
	case C_NO_ID: a->to_id.have = false; break;
	case C_CLIENTID: a->to_id.clientid = 0x5eee; break;
	case C_40_CUR_FAILED:
		a->v40.cur_done = false;
		snprintf(a->v40.error, sizeof(a->v40.error), "server not answering: 192.0.2.2");
		break;
	case C_40_TO_NOANS:
		a->v40.to_answered = false;
		a->v40.confirm_answered = false;
		break;
	case C_40_TO_DELAY: a->v40.to_status = NFS4ERR_DELAY; break;
	case C_40_TO_ERR: a->v40.to_status = NFS4ERR_CLID_INUSE; break;
	case C_40_OTHER_ID:
		a->v40.to_clientid = 43;
		a->v40.confirm_answered = false;
		break;
	case C_40_CONFIRM_NOANS: a->v40.confirm_answered = false; break;
	case C_40_CONFIRM_STALE: a->v40.confirm_status = NFS4ERR_STALE_CLIENTID; break;
	case C_ROOT_NOANS:
		a->fs.root.answered = false;
		a->fs.sec.answered = false;
		break;
	case C_ROOT_STALE:
		a->fs.root.status = NFS4ERR_STALE;
		a->fs.root.op = OP_PUTFH;
		a->fs.sec.answered = false;
		break;
	case C_ROOT_DELAY: a->fs.root.status = NFS4ERR_DELAY; break;
	case C_FSID: a->fs.fsid_minor = 3; break;
	case C_SEC_NOANS: a->fs.sec.answered = false; break;
	case C_SEC_NOSYS: a->fs.flavors[0] = 6 /* RPCSEC_GSS */; break;
	case C_SEC_NOTASKED: a->fs.sec.wanted = false; break;
	}
}

static const struct row {
	const char *what;
	unsigned minor;
	enum change c;
	int check; /* the check that decides, or -1 */
	enum nm_verdict v;
	bool unanswered;
	enum nm_migrate_outcome outcome;
	const char *why; /* a part of the decisive check's reason */
} rows[] = {
	{ "4.1 same server", 1, C_NONE, NM_MIG_SERVER, NM_V_OK, false, NM_MIG_PASS,
	  "server_owner major ID, server_scope and the client ID equal" },
	{ "4.2 same server", 2, C_NONE, NM_MIG_SERVER, NM_V_OK, false, NM_MIG_PASS, "RFC 8881" },
	{ "4.0 same server", 0, C_NONE, NM_MIG_SERVER, NM_V_OK, false, NM_MIG_PASS, "RFC 7931" },
	{ "ADDRESS down", 1, C_TO_DOWN, NM_MIG_NFS, NM_V_WARN, true, NM_MIG_UNANSWERED,
	  "not answering" },
	{ "ADDRESS down: same_server not OK", 1, C_TO_DOWN, NM_MIG_SERVER, NM_V_WARN, true,
	  NM_MIG_UNANSWERED, "did not answer" },
	{ "ADDRESS down: same_fs not OK", 1, C_TO_DOWN, NM_MIG_SAMEFS, NM_V_WARN, true,
	  NM_MIG_UNANSWERED, "" },
	{ "ADDRESS down: security not OK", 1, C_TO_DOWN, NM_MIG_SEC, NM_V_WARN, true,
	  NM_MIG_UNANSWERED, "" },
	{ "ADDRESS without the mount's version", 1, C_TO_REFUSES_VERS, NM_MIG_NFS, NM_V_FAIL, false,
	  NM_MIG_REFUSED, "does not support" },
	{ "ADDRESS at another minor version", 1, C_TO_OTHER_MINOR, NM_MIG_NFS, NM_V_FAIL, false,
	  NM_MIG_REFUSED, "the mount speaks 4.1" },
	{ "4.1 current address down", 1, C_CUR_DOWN, NM_MIG_SERVER, NM_V_WARN, true,
	  NM_MIG_UNANSWERED, "cannot compare" },
	{ "4.1 another scope", 1, C_SCOPE, NM_MIG_SERVER, NM_V_FAIL, false, NM_MIG_REFUSED,
	  "server_scope differs" },
	{ "4.1 another major ID", 1, C_MAJOR, NM_MIG_SERVER, NM_V_FAIL, false, NM_MIG_REFUSED,
	  "major ID differs" },
	{ "4.1 another minor ID only", 1, C_MINOR_ID, NM_MIG_SERVER, NM_V_OK, false, NM_MIG_PASS,
	  "same server" },
	{ "4.1 same owner and scope, another client ID", 1, C_CLIENTID, NM_MIG_SERVER, NM_V_FAIL,
	  false, NM_MIG_REFUSED,
	  "cannot prove the same server: the client ID differs (no client ID trunking)" },
	{ "4.1 identity not kept", 1, C_NO_ID, NM_MIG_SERVER, NM_V_FAIL, false, NM_MIG_REFUSED,
	  "did not say who it is" },
	{ "4.0 current address failed", 0, C_40_CUR_FAILED, NM_MIG_SERVER, NM_V_WARN, true,
	  NM_MIG_UNANSWERED, "cannot compare" },
	{ "4.0 no answer on ADDRESS", 0, C_40_TO_NOANS, NM_MIG_SERVER, NM_V_WARN, true,
	  NM_MIG_UNANSWERED, "got no answer" },
	{ "4.0 DELAY on ADDRESS", 0, C_40_TO_DELAY, NM_MIG_SERVER, NM_V_WARN, true,
	  NM_MIG_UNANSWERED, "NFS4ERR_DELAY" },
	{ "4.0 SETCLIENTID refused", 0, C_40_TO_ERR, NM_MIG_SERVER, NM_V_FAIL, false,
	  NM_MIG_REFUSED, "NFS4ERR_CLID_INUSE" },
	{ "4.0 another client ID", 0, C_40_OTHER_ID, NM_MIG_SERVER, NM_V_FAIL, false,
	  NM_MIG_REFUSED, "another server" },
	{ "4.0 confirm unanswered", 0, C_40_CONFIRM_NOANS, NM_MIG_SERVER, NM_V_WARN, true,
	  NM_MIG_UNANSWERED, "no answer" },
	{ "4.0 same client ID by chance", 0, C_40_CONFIRM_STALE, NM_MIG_SERVER, NM_V_FAIL, false,
	  NM_MIG_REFUSED, "by chance" },
	{ "root unanswered", 1, C_ROOT_NOANS, NM_MIG_SAMEFS, NM_V_WARN, true, NM_MIG_UNANSWERED,
	  "no answer" },
	{ "root STALE", 1, C_ROOT_STALE, NM_MIG_SAMEFS, NM_V_FAIL, false, NM_MIG_REFUSED,
	  "not the same file system" },
	{ "root DELAY", 1, C_ROOT_DELAY, NM_MIG_SAMEFS, NM_V_WARN, true, NM_MIG_UNANSWERED,
	  "NFS4ERR_DELAY" },
	{ "another fsid", 1, C_FSID, NM_MIG_SAMEFS, NM_V_FAIL, false, NM_MIG_REFUSED,
	  "different file system" },
	{ "SECINFO unanswered", 1, C_SEC_NOANS, NM_MIG_SEC, NM_V_WARN, true, NM_MIG_UNANSWERED,
	  "" },
	{ "flavor not offered", 1, C_SEC_NOSYS, NM_MIG_SEC, NM_V_FAIL, false, NM_MIG_REFUSED,
	  "does not offer sys" },
	{ "4.0 export of /: the root answered under sys", 0, C_SEC_NOTASKED, NM_MIG_SEC, NM_V_OK,
	  false, NM_MIG_PASS, "answered under sys" },
};

static void judge_rows(struct unit *u)
{
	struct nm_record rec;

	record(&rec);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];
		struct nm_migrate_answers a;
		struct nm_migrate_result r;

		good(&a, w->minor);
		apply(&a, w->c);
		nm_migrate_judge(&rec, "sys", &a, &r);
		UNIT_CHECK(u,
			   r.chk[w->check].v == w->v && r.unanswered[w->check] == w->unanswered &&
				   r.outcome == w->outcome && strstr(r.chk[w->check].why, w->why),
			   "%s: %s %s%s, %s (%s)", w->what, nm_migrate_check_name(w->check),
			   nm_verdict_name(r.chk[w->check].v),
			   r.unanswered[w->check] ? " unanswered" : "",
			   nm_migrate_outcome_name(r.outcome), r.chk[w->check].why);
		/* The summary: another server is the server's move to make. */
		char sum[512];
		bool other = r.outcome == NM_MIG_REFUSED && r.chk[NM_MIG_SERVER].v == NM_V_FAIL &&
			     strstr(r.chk[NM_MIG_SERVER].why, "another server");

		nm_migrate_summary(&r, "/mnt/m", a.to, sum, sizeof(sum));
		UNIT_CHECK(u,
			   (strstr(sum, "that move is the server's to make (fs_locations); `nfsmig "
					"rehearse` shows whether the clients will survive it") !=
			    NULL) == other &&
				   (r.outcome != NM_MIG_UNANSWERED || strstr(sum, "not answered")),
			   "%s: summary: %s", w->what, sum);
		/* Whatever else: a check not answered never leaves the outcome
		 * PASS, and PASS means every check OK. */
		bool all_ok = true, any_unanswered = false;

		for (int k = 0; k < NM_MIG_N; k++) {
			all_ok = all_ok && r.chk[k].v == NM_V_OK;
			any_unanswered = any_unanswered || r.unanswered[k];
		}
		UNIT_CHECK(u, (r.outcome == NM_MIG_PASS) == (all_ok && !any_unanswered),
			   "%s: pass only when every check is OK and answered", w->what);
	}
}

static void addr_equal(struct unit *u)
{
	static const struct {
		const char *text, *addr;
		bool eq;
	} t[] = {
		{ "192.0.2.2\n", "192.0.2.2", true },
		{ "192.0.2.2", "192.0.2.20", false },
		{ "2001:db8::1\n", "2001:db8:0::1", true },
		{ "2001:db8::1", "2001:db8::2", false },
		{ "192.0.2.2", "server-a", false },
		{ "", "192.0.2.2", false },
		{ "192.0.2.2", "", false },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		UNIT_CHECK(u, nm_migrate_addr_equal(t[i].text, t[i].addr) == t[i].eq,
			   "dstaddr '%.*s' %s %s", (int)strcspn(t[i].text, "\n"), t[i].text,
			   t[i].eq ? "is" : "is not", t[i].addr);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, cap - 1, f) : 0;

	buf[n] = '\0';
	if (f)
		fclose(f);
}

/* nm_migrate_xprt_find for port 2049 (0), the warning kept in warned. */
static char warned[256];
static int find(const char *root, unsigned maj, unsigned min, const char *server, unsigned src_port,
		struct nm_migrate_xprt *x, size_t max, size_t *n, bool *linked, struct nm_err *err)
{
	struct nm_migrate_xprt_q q = { .sys = root,
				       .dev_major = maj,
				       .dev_minor = min,
				       .server = server,
				       .src_port = src_port };

	return nm_migrate_xprt_find(&q, x, max, n, linked, warned, sizeof(warned), err);
}

/* A sunrpc sysfs as 6.1 has it: two switches to 192.0.2.2 (a 4.1 and a
 * 4.0 client), one to 198.51.100.2, a symlink that must not be followed. */
static void sysfs(struct unit *u)
{
	char root[] = "/tmp/nm-test-migrate-XXXXXX", p[512], got[64];
	struct nm_migrate_xprt x[4];
	struct nm_err err = { 0 };
	size_t n = 9, done = 9;
	int rc;

	if (!mkdtemp(root)) {
		UNIT_CHECK(u, 0, "mkdtemp: %s", strerror(errno));
		return;
	}
	bool linked = true;

	rc = find(root, 0, 44, "192.0.2.2", 0, x, 4, &n, &linked, &err);
	UNIT_CHECK(u, rc == -ENOENT && n == 0, "no xprt-switches: -ENOENT (%s)", err.msg);
	const char *dirs[] = { "kernel",
			       "kernel/sunrpc",
			       "kernel/sunrpc/xprt-switches",
			       "kernel/sunrpc/xprt-switches/switch-0",
			       "kernel/sunrpc/xprt-switches/switch-0/xprt-0-tcp",
			       "kernel/sunrpc/xprt-switches/switch-1",
			       "kernel/sunrpc/xprt-switches/switch-1/xprt-1-tcp",
			       "kernel/sunrpc/xprt-switches/switch-2",
			       "kernel/sunrpc/xprt-switches/switch-2/xprt-2-tcp",
			       "kernel/sunrpc/xprt-switches/switch-3",
			       "kernel/sunrpc/rpc-clients",
			       "kernel/sunrpc/rpc-clients/clnt-6",
			       "kernel/sunrpc/rpc-clients/clnt-2",
			       "fs",
			       "fs/nfs",
			       "elsewhere" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
		mkdir(p, 0700);
	}
	snprintf(p, sizeof(p), "%s/kernel/sunrpc/xprt-switches/switch-0/xprt-0-tcp/dstaddr", root);
	put(p, "192.0.2.2\n");
	snprintf(p, sizeof(p), "%s/kernel/sunrpc/xprt-switches/switch-1/xprt-1-tcp/dstaddr", root);
	put(p, "198.51.100.2\n");
	snprintf(p, sizeof(p), "%s/kernel/sunrpc/xprt-switches/switch-2/xprt-2-tcp/dstaddr", root);
	put(p, "192.0.2.2\n");
	snprintf(p, sizeof(p), "%s/elsewhere/dstaddr", root);
	put(p, "192.0.2.2\n");
	snprintf(p, sizeof(p), "%s/kernel/sunrpc/xprt-switches/switch-3/xprt-3-tcp", root);
	snprintf(got, sizeof(got), "../../../../elsewhere");
	UNIT_CHECK(u, symlink(got, p) == 0, "a symlinked transport dir");

	rc = find(root, 0, 44, "192.0.2.2", 0, x, 4, &n, &linked, &err);
	UNIT_CHECK(u, rc == 0 && n == 2 && !linked,
		   "two transports to 192.0.2.2, the symlink not followed (%d, %zu)", rc, n);
	rc = find(root, 0, 44, "192.0.2.2", 0, x, 1, &n, &linked, &err);
	UNIT_CHECK(u, rc == -E2BIG, "more than max: -E2BIG (%s)", err.msg);
	rc = find(root, 0, 44, "192.0.2.9", 0, x, 4, &n, &linked, &err);
	UNIT_CHECK(u, rc == -ESRCH && n == 0, "none to 192.0.2.9: -ESRCH (%s)", err.msg);
	rc = find(root, 0, 44, "198.51.100.2", 0, x, 4, &n, &linked, &err);
	UNIT_CHECK(u,
		   rc == 0 && n == 1 &&
			   strcmp(x[0].path, "kernel/sunrpc/xprt-switches/switch-1/xprt-1-tcp") ==
				   0 &&
			   strcmp(x[0].dstaddr, "198.51.100.2") == 0,
		   "one to 198.51.100.2: %s", n ? x[0].path : "-");
	rc = nm_migrate_xprt_write(root, x, n, "198.51.100.3", &done, &err);
	snprintf(p, sizeof(p), "%s/kernel/sunrpc/xprt-switches/switch-1/xprt-1-tcp/dstaddr", root);
	slurp(p, got, sizeof(got));
	UNIT_CHECK(u, rc == 0 && done == 1 && nm_migrate_addr_equal(got, "198.51.100.3"),
		   "written: '%.*s'", (int)strcspn(got, "\n"), got);
	/* A transport gone between find and write: what was done is said. */
	struct nm_migrate_xprt two[2] = {
		x[0], { .path = "kernel/sunrpc/xprt-switches/switch-9/xprt-9-tcp" }
	};

	rc = nm_migrate_xprt_write(root, two, 2, "198.51.100.2", &done, &err);
	UNIT_CHECK(u, rc == -ENOENT && done == 1, "a transport gone: -ENOENT after 1 (%s)",
		   err.msg);

	/* Other services of 192.0.2.2: rpcbind (111) and an NFS on 2050,
	 * shown by xprt_info's dst_port=, are not the mount's; switch-0 and
	 * switch-2 say 2049, switch-2 holds the mount's own (local port 876). */
	static const char *const more[][2] = {
		{ "kernel/sunrpc/xprt-switches/switch-4", NULL },
		{ "kernel/sunrpc/xprt-switches/switch-4/xprt-4-tcp", NULL },
		{ "kernel/sunrpc/xprt-switches/switch-4/xprt-4-tcp/dstaddr", "192.0.2.2\n" },
		{ "kernel/sunrpc/xprt-switches/switch-4/xprt-4-tcp/xprt_info",
		  "main_xprt=1\nsrc_port=700\ntasks_queuelen=0\ndst_port=111\n" },
		{ "kernel/sunrpc/xprt-switches/switch-5", NULL },
		{ "kernel/sunrpc/xprt-switches/switch-5/xprt-5-tcp", NULL },
		{ "kernel/sunrpc/xprt-switches/switch-5/xprt-5-tcp/dstaddr", "192.0.2.2\n" },
		{ "kernel/sunrpc/xprt-switches/switch-5/xprt-5-tcp/xprt_info",
		  "main_xprt=1\nsrc_port=701\ndst_port=2050\n" },
		{ "kernel/sunrpc/xprt-switches/switch-0/xprt-0-tcp/xprt_info",
		  "main_xprt=1\nsrc_port=875\ndst_port=2049\n" },
		{ "kernel/sunrpc/xprt-switches/switch-2/xprt-2-tcp/xprt_info",
		  "main_xprt=1\nsrc_port=876\ndst_port=2049\n" },
	};
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, more[i][0]);
		if (!more[i][1])
			mkdir(p, 0700);
		else
			put(p, more[i][1]);
	}
	rc = find(root, 0, 44, "192.0.2.2", 0, x, 4, &n, &linked, &err);
	UNIT_CHECK(u,
		   rc == 0 && n == 2 && x[0].dst_port == 2049 && x[1].dst_port == 2049 && warned[0],
		   "port 111 and 2050 transports to the address not taken, a warning without the "
		   "local port (%zu: %s)",
		   n, warned);
	rc = find(root, 0, 44, "192.0.2.2", 876, x, 4, &n, &linked, &err);
	UNIT_CHECK(
		u,
		rc == 0 && n == 1 && !warned[0] &&
			strcmp(x[0].path, "kernel/sunrpc/xprt-switches/switch-2/xprt-2-tcp") == 0,
		"pinned by the local port 876: its switch only (%zu: %s)", n, n ? x[0].path : "-");
	rc = find(root, 0, 44, "192.0.2.2", 999, x, 4, &n, &linked, &err);
	UNIT_CHECK(u, rc == 0 && n == 2 && strstr(warned, "own transport not found"),
		   "local port 999 on none: all of port 2049, warned: %s", warned);
	struct nm_migrate_xprt_q q2050 = {
		.sys = root, .dev_minor = 44, .server = "192.0.2.2", .port = 2050
	};
	rc = nm_migrate_xprt_find(&q2050, x, 4, &n, &linked, warned, sizeof(warned), &err);
	UNIT_CHECK(u, rc == 0 && n == 1 && x[0].dst_port == 2050,
		   "port=2050: its transport only (%zu)", n);

	/* mountstats: the mount's local port, an escaped mount point. */
	snprintf(p, sizeof(p), "%s/mountstats", root);
	put(p, "device sysfs mounted on /sys with fstype sysfs\n"
	       "device 192.0.2.2:/x mounted on /mnt/a\\040b with fstype nfs4 statvers=1.1\n"
	       "\topts:\trw,vers=4.1\n\txprt:\ttcp 876 1 2 0 0 10 10 0 10 0 2 0 0\n"
	       "device 192.0.2.2:/y mounted on /mnt/c with fstype nfs4 statvers=1.1\n"
	       "\txprt:\ttcp 875 1 2 0 0 10 10 0 10 0 2 0 0\n");
	UNIT_CHECK(u,
		   nm_migrate_src_port(p, "/mnt/a b") == 876 &&
			   nm_migrate_src_port(p, "/mnt/c") == 875 &&
			   nm_migrate_src_port(p, "/mnt/d") == 0,
		   "mountstats: local ports 876, 875, none");

	/* 6.12: the mount 0:44 linked to clnt-6 and clnt-2, both on switch-2:
	 * only its transport, not switch-0's to the same address. */
	static const char *const ln[][2] = {
		{ "fs/nfs/0:44", NULL },
		{ "fs/nfs/0:44/nfs_client", "../../../kernel/sunrpc/rpc-clients/clnt-6" },
		{ "fs/nfs/0:44/nfs_state_client", "../../../kernel/sunrpc/rpc-clients/clnt-2" },
		{ "kernel/sunrpc/rpc-clients/clnt-6/switch", "../../xprt-switches/switch-2" },
		{ "kernel/sunrpc/rpc-clients/clnt-2/switch", "../../xprt-switches/switch-2" },
	};
	for (size_t i = 0; i < sizeof(ln) / sizeof(ln[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, ln[i][0]);
		if (ln[i][1] ? symlink(ln[i][1], p) : mkdir(p, 0700))
			printf("# %s: %s\n", p, strerror(errno));
	}
	rc = find(root, 0, 44, "192.0.2.2", 0, x, 4, &n, &linked, &err);
	UNIT_CHECK(u,
		   rc == 0 && n == 1 && linked &&
			   strcmp(x[0].path, "kernel/sunrpc/xprt-switches/switch-2/xprt-2-tcp") ==
				   0,
		   "6.12 linked: the mount's own switch only: %s", n ? x[0].path : "-");
	rc = find(root, 0, 43, "192.0.2.2", 0, x, 4, &n, &linked, &err);
	UNIT_CHECK(u, rc == 0 && n == 2 && !linked, "another mount, not linked: by address (%zu)",
		   n);
	rc = find(root, 0, 44, "198.51.100.2", 0, x, 4, &n, &linked, &err);
	UNIT_CHECK(u, rc == -ESRCH && linked, "linked, none to that address: -ESRCH (%s)", err.msg);

	/* stat with a deadline: answers, and an error. */
	rc = nm_migrate_stat_deadline(root, 2000, &err);
	UNIT_CHECK(u, rc == 0, "stat of a directory answers");
	snprintf(p, sizeof(p), "%s/none", root);
	rc = nm_migrate_stat_deadline(p, 2000, &err);
	UNIT_CHECK(u, rc == -ENOENT, "stat of nothing: -ENOENT (%s)", err.msg);

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", root);
}

/* The move back's deadline from --timeout. */
static void back_ms(struct unit *u)
{
	static const struct {
		int timeout_ms, want;
	} t[] = {
		{ 2000, 9000 }, { 10000, 33000 }, { 100, 3300 }, { 0, 3000 }, { 3600000, 10803000 }
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		UNIT_CHECK(u, nm_migrate_back_ms(t[i].timeout_ms) == t[i].want,
			   "the move back with -t %d ms is asked for %d ms (%d)", t[i].timeout_ms,
			   t[i].want, nm_migrate_back_ms(t[i].timeout_ms));
}

/* The record, the lock and the test pause in a state directory. */
static void state(struct unit *u)
{
	char dir[] = "/tmp/nm-test-migstate-XXXXXX", cmd[600], p[600];
	struct nm_record r, back;
	struct nm_err err = { 0 };
	int fd, fd2;

	if (!mkdtemp(dir)) {
		UNIT_CHECK(u, 0, "mkdtemp: %s", strerror(errno));
		return;
	}
	/* nfsmigd recorded the new addr= first: migrate's record is the
	 * same move, its trigger "migrate", not a second move. */
	memset(&r, 0, sizeof(r));
	r.mountpoint = strdup("/mnt/r");
	r.source = strdup("192.0.2.2:/d");
	r.orig_server = strdup("192.0.2.2");
	r.cur_server = strdup("192.0.2.2");
	r.export_path = strdup("/d");
	r.sec = strdup("sys");
	r.vers = 4;
	r.minor = 1;
	UNIT_CHECK(u,
		   nm_watch_apply_move(&r, "192.0.2.3", "rescan", 1000, NULL, &err) == 0 &&
			   nm_store_save(dir, &r, &err) == 0,
		   "the watcher's move saved (%s)", err.msg);
	UNIT_CHECK(u, nm_migrate_record(dir, "/mnt/r", "192.0.2.2", "192.0.2.3", 1001, &err) == 0,
		   "migrate records it (%s)", err.msg);
	memset(&back, 0, sizeof(back));
	UNIT_CHECK(u,
		   nm_store_load(dir, "/mnt/r", &back, &err) == 0 && back.nmoves == 1 &&
			   back.moves[0].trigger && strcmp(back.moves[0].trigger, "migrate") == 0 &&
			   strcmp(back.cur_server, "192.0.2.3") == 0,
		   "exactly one move, trigger migrate (%zu, %s)", back.nmoves,
		   back.nmoves && back.moves[0].trigger ? back.moves[0].trigger : "-");
	nm_record_free(&back);
	UNIT_CHECK(u,
		   nm_migrate_record(dir, "/mnt/r", "192.0.2.3", "192.0.2.2", 1002, &err) == 0 &&
			   nm_store_load(dir, "/mnt/r", &back, &err) == 0 && back.nmoves == 2,
		   "the move back is a second move (%zu)", back.nmoves);
	nm_record_free(&back);
	nm_record_free(&r);

	/* One migrate of an address at a time. */
	fd = nm_migrate_lock(dir, "192.0.2.2", &err);
	fd2 = nm_migrate_lock(dir, "192.0.2.2", &err);
	UNIT_CHECK(u, fd >= 0 && fd2 == -EBUSY, "a second lock of 192.0.2.2: -EBUSY (%s)", err.msg);
	fd2 = nm_migrate_lock(dir, "192.0.2.3", &err);
	UNIT_CHECK(u, fd2 >= 0, "another address locks (%s)", err.msg);
	if (fd2 >= 0)
		close(fd2);
	if (fd >= 0)
		close(fd);
	fd = nm_migrate_lock(dir, "192.0.2.2", &err);
	UNIT_CHECK(u, fd >= 0, "after close it locks again (%s)", err.msg);
	if (fd >= 0)
		close(fd);
	snprintf(p, sizeof(p), "%s/evil", dir);
	UNIT_CHECK(u, symlink("/etc/passwd", p) == 0 || errno == EEXIST, "a symlink");
	UNIT_CHECK(u, nm_migrate_lock(dir, "192.0.2.2/../evil", &err) == -EINVAL,
		   "a non-numeric address refused (%s)", err.msg);

	/* The test pause: nothing without a file; a world-writable directory
	 * (/tmp) or one not root's refused before anything is created. */
	UNIT_CHECK(u,
		   nm_migrate_test_pause(NULL, &err) == 0 && nm_migrate_test_pause("", &err) == 0,
		   "no pause file: no pause");
	UNIT_CHECK(u,
		   nm_migrate_test_pause("/tmp/nm-test-pause", &err) == -EPERM &&
			   access("/tmp/nm-test-pause", F_OK) != 0,
		   "a pause file in /tmp refused (%s)", err.msg);
	snprintf(p, sizeof(p), "%s/pause", dir);
	if (chmod(dir, 0777) == 0)
		UNIT_CHECK(u, nm_migrate_test_pause(p, &err) == -EPERM,
			   "a pause file in a 0777 directory refused (%s)", err.msg);
	UNIT_CHECK(u, nm_migrate_test_pause("pause", &err) == -EINVAL,
		   "a relative pause file refused");

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

int main(void)
{
	struct unit u = { 0 };

	unit_start();
	judge_rows(&u);
	addr_equal(&u);
	sysfs(&u);
	state(&u);
	back_ms(&u);
	return unit_done(&u);
}
