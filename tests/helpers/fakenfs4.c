/* fakenfs4 - a small stateful NFSv4.0/4.1 server for nfsmig's tests, whose
 * file system moves from a source to a destination on SIGUSR1.
 *
 *   fakenfs4 --minor 0|1 --src ADDR:PORT --dst ADDR:PORT --export /d
 *            --file NAME=CONTENT... [--at-move MODE] [--signal moved|lease-moved]
 *            [--referral] [--volatile-fh] [--lease SECONDS] [--same-owner]
 * (--same-owner: the destination answers EXCHANGE_ID with the source's
 * server_owner and scope, as another address of one server would)
 *
 * One process, two TCP listeners: the source and the destination, two
 * servers of one export (--export, its files flat in it).  ONC RPC over TCP
 * (record marking), AUTH_SYS or AUTH_NONE, COMPOUND decoded with the XDR
 * rpcgen makes from libcore/nfs4_prot.x.  The server speaks only the minor
 * version given (another gets NFS4ERR_MINOR_VERS_MISMATCH).  Operations:
 * PUTROOTFH PUTFH LOOKUP LOOKUPP GETFH SAVEFH RESTOREFH GETATTR SECINFO OPEN
 * CLOSE LOCK LOCKT LOCKU READ; 4.0: SETCLIENTID(_CONFIRM) RENEW OPEN_CONFIRM
 * RELEASE_LOCKOWNER; 4.1: EXCHANGE_ID CREATE_SESSION SEQUENCE
 * RECLAIM_COMPLETE TEST_STATEID FREE_STATEID DESTROY_SESSION
 * DESTROY_CLIENTID SECINFO_NO_NAME.  Any other operation of the version is
 * NFS4ERR_NOTSUPP, a number outside it NFS4ERR_OP_ILLEGAL.  Attributes:
 * supported_attrs type fh_expire_type change size fsid lease_time
 * rdattr_error filehandle fileid fs_locations mounted_on_fileid (others
 * asked for are left out, as RFC 7530 allows).  Read-only: no creation, no
 * write access.  Leases never expire (tests are short).
 *
 * Before the move the source serves the export and the destination does not
 * have it (NFS4ERR_NOENT; with --referral the destination has it and the
 * source never had it: a referral).  On SIGUSR1 ("moved" is printed):
 * the source answers NFS4ERR_MOVED for every operation on the file system
 * (PUTFH of one of its handles still works, as a probe needs; GETATTR of
 * fsid, fs_locations, rdattr_error, mounted_on_fileid answers, naming the
 * destination's address and the export); with --signal lease-moved the
 * source also says NFS4ERR_LEASE_MOVED to RENEW (4.0) and sets
 * SEQ4_STATUS_LEASE_MOVED in SEQUENCE (4.1) for a client that holds state
 * on it, until that client asks GETATTR(fs_locations) of the moved file
 * system (4.0: with a RENEW of its client ID in the same COMPOUND; RFC 7931).
 * The destination then has the file system, and by --at-move:
 *   tsm        transparent state migration: it knows the source's client
 *              IDs, owners and stateids (RENEW of the old client ID, old
 *              stateids in READ, LOCKU, CLOSE and TEST_STATEID all work;
 *              EXCHANGE_ID of the same owner gets the same client ID);
 *              sessions do not move
 *   reclaim    in its grace period: OPEN CLAIM_PREVIOUS and LOCK reclaim
 *              accepted (4.1: until the client's RECLAIM_COMPLETE), CLAIM_NULL
 *              and a new LOCK answer NFS4ERR_GRACE
 *   reopen     no state, no grace: old client IDs NFS4ERR_STALE_CLIENTID, old
 *              stateids NFS4ERR_STALE_STATEID (4.1: NFS4ERR_BAD_STATEID),
 *              reclaims NFS4ERR_NO_GRACE; OPEN by name works
 *   fhexpired  as reopen, and its file handles are volatile: the source's
 *              handles of the file system answer NFS4ERR_FHEXPIRED (at
 *              PUTFH) and fh_expire_type says FH4_VOLATILE_ANY; a LOOKUP from
 *              PUTROOTFH gives the new ones
 *              (--volatile-fh gives any mode such handles: tsm with them is
 *              state that moved while its handles did not)
 *   conflict   as reopen, and another owner holds a write lock on every file
 *              (LOCK and LOCKT answer NFS4ERR_DENIED naming it)
 *   lost       as reopen, and the files are gone (LOOKUP and OPEN
 *              NFS4ERR_NOENT, their old handles NFS4ERR_STALE)
 * The default is reopen.  Lenient where a real server would check a client's
 * identity across servers: stateids are honoured whichever client's session
 * presents them, and a reclaim is accepted from any client.
 *
 * Every COMPOUND is logged on stderr, one line: the server, the operations
 * and their statuses (names only, nothing from the wire).  Prints "ready"
 * once listening.  Test-only: never installed. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "fakenfs4.h"

static char *g_export_path;
static volatile sig_atomic_t g_move_pending;

/* --- RPC ------------------------------------------------------------------ */

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static unsigned char g_out[MAX_REPLY + 64];

static void write_all(int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

/* Send the reply of len bytes at g_out + 4 (the record mark goes first). */
static void send_reply(struct conn *cn, size_t len)
{
	put32(g_out, 0x80000000u | (uint32_t)len);
	write_all(cn->fd, g_out, len + 4);
}

/* A reply header: accepted with stat, or denied (denied >= 0: its reply
 * words follow).  Returns its length. */
static size_t reply_head(uint32_t xid, int accept_stat)
{
	unsigned char *p = g_out + 4;

	put32(p, xid);
	put32(p + 4, 1);  /* REPLY */
	put32(p + 8, 0);  /* MSG_ACCEPTED */
	put32(p + 12, 0); /* verifier: AUTH_NONE, empty */
	put32(p + 16, 0);
	put32(p + 20, (uint32_t)accept_stat);
	return 24;
}

static size_t reply_denied(uint32_t xid, uint32_t what, uint32_t a, uint32_t b)
{
	unsigned char *p = g_out + 4;

	put32(p, xid);
	put32(p + 4, 1);
	put32(p + 8, 1); /* MSG_DENIED */
	put32(p + 12, what);
	put32(p + 16, a);
	if (what == 0) { /* RPC_MISMATCH low high */
		put32(p + 20, b);
		return 24;
	}
	return 20;
}

static void compound(struct conn *cn, uint32_t xid, const unsigned char *args, size_t alen)
{
	static nfs_argop4 ops[NM_XDR_MAX_OPS];
	static struct result res[NM_XDR_MAX_OPS];
	struct ctx c = { .srv = cn->srv, .cur = -1, .saved = -1 };
	utf8str_cs tag = { 0 };
	unsigned nops = 0, ndec = 0, nres = 0;
	uint32_t bad_op = 0;
	nfsstat4 bad_st = NFS4_OK, status = NFS4_OK;
	char log[2048];
	size_t ll = 0, hl;
	XDR x;

	xdrmem_create(&x, (char *)args, (unsigned)alen, XDR_DECODE);
	if (!xdr_utf8str_cs(&x, &tag) || !xdr_u_int(&x, &c.minor) || !xdr_u_int(&x, &nops)) {
		xdr_destroy(&x);
		xdr_free((xdrproc_t)xdr_utf8str_cs, (char *)&tag);
		send_reply(cn, reply_head(xid, 4 /* GARBAGE_ARGS */));
		return;
	}
	memset(ops, 0, sizeof(ops));
	memset(res, 0, sizeof(res));
	if (c.minor != g_minor) {
		status = NFS4ERR_MINOR_VERS_MISMATCH;
		nops = 0;
	} else if (nops > NM_XDR_MAX_OPS || (c.minor > 0 && nops > GRANT_OPS)) {
		status = c.minor > 0 ? NFS4ERR_TOO_MANY_OPS : NFS4ERR_RESOURCE;
		nops = 0;
	}
	/* Decode every operation first (SEQUENCE looks ahead); the first one
	 * that does not decode is answered when its turn comes. */
	for (ndec = 0; ndec < nops; ndec++) {
		unsigned pos = xdr_getpos(&x);
		uint32_t op;
		unsigned top = c.minor == 0 ? OP_RELEASE_LOCKOWNER : OP_RECLAIM_COMPLETE;

		if (!xdr_uint32_t(&x, &op)) {
			bad_op = OP_ILLEGAL;
			bad_st = NFS4ERR_BADXDR;
			break;
		}
		if (op < 3 || op > top) {
			bad_op = OP_ILLEGAL;
			bad_st = NFS4ERR_OP_ILLEGAL;
			break;
		}
		if (!fk_decodable(op)) {
			bad_op = op;
			bad_st = NFS4ERR_NOTSUPP;
			break;
		}
		xdr_setpos(&x, pos);
		if (!xdr_nfs_argop4(&x, &ops[ndec])) {
			xdr_free((xdrproc_t)xdr_nfs_argop4, (char *)&ops[ndec]);
			memset(&ops[ndec], 0, sizeof(ops[ndec]));
			bad_op = op;
			bad_st = NFS4ERR_BADXDR;
			break;
		}
	}
	xdr_destroy(&x);
	c.ops = ops;
	c.nops = ndec;
	for (unsigned i = 0; i < nops; i++) {
		struct result *r = &res[nres++];

		if (i == ndec) {
			r->op = bad_op;
			r->st = bad_st;
		} else {
			r->op = ops[i].argop;
			r->r.resop = ops[i].argop;
			r->st = fk_run_op(&c, i, &ops[i], r);
			if (r->st != NFS4_OK && !(r->full && r->st == NFS4ERR_DENIED))
				r->full = false;
		}
		status = r->st;
		if (status != NFS4_OK)
			break;
	}
	/* The log line. */
	ll += (size_t)snprintf(log + ll, sizeof(log) - ll, "fakenfs4 %s 4.%u:", cn->srv->name,
			       c.minor);
	for (unsigned i = 0; i < nres && ll < sizeof(log) - 64; i++) {
		const char *sn = fk_status_name(res[i].st);

		if (sn)
			ll += (size_t)snprintf(log + ll, sizeof(log) - ll, " %s=%s",
					       fk_op_name(res[i].op), sn);
		else
			ll += (size_t)snprintf(log + ll, sizeof(log) - ll, " %s=%u",
					       fk_op_name(res[i].op), (unsigned)res[i].st);
		if (res[i].op == OP_TEST_STATEID && res[i].full) {
			const TEST_STATEID4resok *t =
				&res[i].r.nfs_resop4_u.optest_stateid.TEST_STATEID4res_u.tsr_resok4;

			for (unsigned k = 0;
			     k < t->tsr_status_codes.tsr_status_codes_len && ll < sizeof(log) - 64;
			     k++) {
				const char *ks =
					fk_status_name(t->tsr_status_codes.tsr_status_codes_val[k]);

				ll += (size_t)snprintf(log + ll, sizeof(log) - ll, "%s%s",
						       k ? "," : "(", ks ? ks : "?");
			}
			if (t->tsr_status_codes.tsr_status_codes_len)
				ll += (size_t)snprintf(log + ll, sizeof(log) - ll, ")");
		}
	}
	if (nres == 0)
		snprintf(log + ll, sizeof(log) - ll, " status=%u", (unsigned)status);
	fprintf(stderr, "%s\n", log);
	fflush(stderr);
	/* The reply. */
	hl = reply_head(xid, 0);
	xdrmem_create(&x, (char *)g_out + 4 + hl, MAX_REPLY - (unsigned)hl, XDR_ENCODE);
	bool ok = xdr_nfsstat4(&x, &status) && xdr_utf8str_cs(&x, &tag) && xdr_u_int(&x, &nres);

	for (unsigned i = 0; ok && i < nres; i++) {
		if (res[i].full) {
			ok = xdr_nfs_resop4(&x, &res[i].r);
		} else {
			uint32_t op = res[i].op;

			ok = xdr_uint32_t(&x, &op) && xdr_nfsstat4(&x, &res[i].st);
		}
	}
	if (ok)
		send_reply(cn, hl + xdr_getpos(&x));
	else
		send_reply(cn, reply_head(xid, 5 /* SYSTEM_ERR */));
	xdr_destroy(&x);
	for (unsigned i = 0; i < ndec; i++)
		xdr_free((xdrproc_t)xdr_nfs_argop4, (char *)&ops[i]);
	xdr_free((xdrproc_t)xdr_utf8str_cs, (char *)&tag);
	for (unsigned i = 0; i < c.nmem; i++)
		free(c.mem[i]);
}

/* One call record; false drops the connection. */
static bool serve_record(struct conn *cn, const unsigned char *rec, size_t len)
{
	uint32_t xid, prog, vers, proc;
	size_t o = 24;

	if (len < 24)
		return false;
	xid = get32(rec);
	if (get32(rec + 4) != 0) /* not a CALL */
		return false;
	if (get32(rec + 8) != 2) {
		send_reply(cn, reply_denied(xid, 0, 2, 2));
		return true;
	}
	prog = get32(rec + 12);
	vers = get32(rec + 16);
	proc = get32(rec + 20);
	for (int i = 0; i < 2; i++) { /* credential, verifier */
		uint32_t flavor, n;

		if (len < o + 8)
			return false;
		flavor = get32(rec + o);
		n = get32(rec + o + 4);
		if (n > MAX_AUTH || len - o - 8 < ((n + 3) & ~3u))
			return false;
		if (i == 0 && flavor != AUTH_NONE_FLAVOR && flavor != AUTH_SYS_FLAVOR) {
			send_reply(cn, reply_denied(xid, 1 /* AUTH_ERROR */, 1 /* BADCRED */, 0));
			return true;
		}
		o += 8 + ((n + 3) & ~3u);
	}
	if (prog != NFS4_PROGRAM_NUMBER) {
		send_reply(cn, reply_head(xid, 1 /* PROG_UNAVAIL */));
		return true;
	}
	if (vers != 4) {
		size_t hl = reply_head(xid, 2 /* PROG_MISMATCH */);

		put32(g_out + 4 + hl, 4);
		put32(g_out + 8 + hl, 4);
		send_reply(cn, hl + 8);
		return true;
	}
	if (proc == 0) {
		send_reply(cn, reply_head(xid, 0));
		return true;
	}
	if (proc != 1) {
		send_reply(cn, reply_head(xid, 3 /* PROC_UNAVAIL */));
		return true;
	}
	compound(cn, xid, rec + o, len - o);
	return true;
}

/* Bytes arrived: take every whole record; false drops the connection. */
static bool conn_input(struct conn *cn)
{
	size_t used = 0;
	bool ok = true;

	while (ok && cn->inlen - used >= 4) {
		uint32_t mark = get32(cn->in + used);
		size_t flen = mark & 0x7fffffffu;

		if (flen > MAX_RECORD || cn->reclen + flen > MAX_RECORD)
			return false;
		if (cn->inlen - used - 4 < flen)
			break;
		memcpy(cn->rec + cn->reclen, cn->in + used + 4, flen);
		cn->reclen += flen;
		used += 4 + flen;
		if (mark & 0x80000000u) {
			ok = serve_record(cn, cn->rec, cn->reclen);
			cn->reclen = 0;
		}
	}
	memmove(cn->in, cn->in + used, cn->inlen - used);
	cn->inlen -= used;
	return ok;
}

/* --- setup ------------------------------------------------------------------ */

static int parse_addr(const char *arg, struct sockaddr_storage *ss, socklen_t *sl, char *host)
{
	char buf[128];
	const char *port;
	char *end;
	long p;

	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	if (buf[0] == '[') {
		char *rb = strchr(buf, ']');

		if (!rb || rb[1] != ':')
			return -1;
		*rb = '\0';
		port = rb + 2;
		memmove(buf, buf + 1, strlen(buf));
	} else {
		char *colon = strrchr(buf, ':');

		if (!colon)
			return -1;
		*colon = '\0';
		port = colon + 1;
	}
	p = strtol(port, &end, 10);
	if (*end || p <= 0 || p > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (strchr(buf, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)p);
		if (inet_pton(AF_INET6, buf, &a->sin6_addr) != 1)
			return -1;
		*sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)p);
		if (inet_pton(AF_INET, buf, &a->sin_addr) != 1)
			return -1;
		*sl = sizeof(*a);
	}
	snprintf(host, INET6_ADDRSTRLEN, "%s", buf);
	return 0;
}

static int listen_on(const char *arg, struct server *s)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1;

	if (parse_addr(arg, &ss, &sl, s->addr) < 0) {
		fprintf(stderr, "fakenfs4: bad address '%s' (ADDR:PORT or [V6]:PORT)\n", arg);
		return -2;
	}
	s->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 || setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s->lfd, (struct sockaddr *)&ss, sl) < 0 || listen(s->lfd, 16) < 0) {
		fprintf(stderr, "fakenfs4: %s: %s\n", arg, strerror(errno));
		return -1;
	}
	return 0;
}

static int add_node(enum kind k, int parent, const char *name, size_t len)
{
	if (g_nnodes >= MAX_NODES || len > MAX_NAME)
		return -1;
	g_nodes[g_nnodes].kind = k;
	g_nodes[g_nnodes].parent = parent;
	memcpy(g_nodes[g_nnodes].name, name, len);
	g_nodes[g_nnodes].name[len] = '\0';
	return g_nnodes++;
}

static int build_export(const char *path)
{
	const char *p = path;
	int cur = add_node(K_PSEUDO, 0, "", 0);

	if (path[0] != '/')
		return -1;
	while (*p) {
		size_t len;

		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (len == 0)
			break;
		if ((len == 1 && p[0] == '.') || (len == 2 && memcmp(p, "..", 2) == 0))
			return -1;
		cur = add_node(K_PSEUDO, cur, p, len);
		if (cur < 0)
			return -1;
		p += len;
	}
	if (cur == 0)
		return -1; /* the export is a file system of its own, not the root */
	g_nodes[cur].kind = K_EXPORT;
	g_export = cur;
	return 0;
}

static int add_file(const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t nlen, clen;
	int n;

	if (!eq || eq == arg || memchr(arg, '/', (size_t)(eq - arg)))
		return -1;
	nlen = (size_t)(eq - arg);
	clen = strlen(eq + 1);
	if (clen > MAX_FILE)
		return -1;
	n = add_node(K_FILE, g_export, arg, nlen);
	if (n < 0)
		return -1;
	g_nodes[n].data = (unsigned char *)strdup(eq + 1);
	g_nodes[n].len = clen;
	return g_nodes[n].data ? 0 : -1;
}

static void on_usr1(int sig)
{
	(void)sig;
	g_move_pending = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fakenfs4 --minor 0|1 --src ADDR:PORT --dst ADDR:PORT --export /PATH\n"
		"                --file NAME=CONTENT... [--at-move "
		"tsm|reclaim|reopen|fhexpired|conflict|lost]\n"
		"                [--signal moved|lease-moved] [--referral] [--lease SECONDS]\n"
		"                [--volatile-fh] [--same-owner]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "minor", required_argument, NULL, 'm' },
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "export", required_argument, NULL, 'e' },
		{ "file", required_argument, NULL, 'f' },
		{ "at-move", required_argument, NULL, 'a' },
		{ "signal", required_argument, NULL, 'g' },
		{ "referral", no_argument, NULL, 'r' },
		{ "lease", required_argument, NULL, 'l' },
		{ "volatile-fh", no_argument, NULL, 'v' },
		{ "same-owner", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const modes[] = { "tsm",	  "reclaim",  "reopen",
					     "fhexpired", "conflict", "lost" };
	static struct conn conns[MAX_CONNS];
	const char *src = NULL, *dst = NULL, *files[MAX_NODES];
	int nfiles = 0, opt, lrc;
	struct sigaction sa = { 0 };
	sigset_t block, empty;
	struct timeval sndto = { .tv_sec = 5 };

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			if (strcmp(optarg, "0") != 0 && strcmp(optarg, "1") != 0)
				return usage(), 2;
			g_minor = (unsigned)atoi(optarg);
			break;
		case 's': src = optarg; break;
		case 'd': dst = optarg; break;
		case 'e': g_export_path = optarg; break;
		case 'f':
			if (nfiles >= MAX_NODES)
				return usage(), 2;
			files[nfiles++] = optarg;
			break;
		case 'a': {
			unsigned i;

			for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
				if (strcmp(optarg, modes[i]) == 0)
					break;
			if (i == sizeof(modes) / sizeof(modes[0]))
				return usage(), 2;
			g_mode = (enum mode)i;
			g_volatile = g_volatile || g_mode == AT_FHEXPIRED;
			break;
		}
		case 'g':
			if (strcmp(optarg, "lease-moved") == 0)
				g_lease_signal = true;
			else if (strcmp(optarg, "moved") != 0)
				return usage(), 2;
			break;
		case 'r': g_referral = true; break;
		case 'v': g_volatile = true; break;
		case 'o': g_same_owner = true; break;
		case 'l':
			g_lease = (unsigned)atoi(optarg);
			if (g_lease < 1 || g_lease > 3600)
				return usage(), 2;
			break;
		default: return usage(), 2;
		}
	}
	if (!src || !dst || !g_export_path || optind != argc || build_export(g_export_path) < 0) {
		usage();
		return 2;
	}
	for (int i = 0; i < nfiles; i++)
		if (add_file(files[i]) < 0) {
			fprintf(stderr, "fakenfs4: bad --file '%s' (NAME=CONTENT)\n", files[i]);
			return 2;
		}
	signal(SIGPIPE, SIG_IGN);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&empty);
	if ((lrc = listen_on(src, &g_src)) < 0 || (lrc = listen_on(dst, &g_dst)) < 0)
		return lrc == -2 ? 2 : 1;
	for (int i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct pollfd pf[MAX_CONNS + 2];
		int map[MAX_CONNS + 2], np = 0, rc;

		pf[np] = (struct pollfd){ .fd = g_src.lfd, .events = POLLIN };
		map[np++] = -1;
		pf[np] = (struct pollfd){ .fd = g_dst.lfd, .events = POLLIN };
		map[np++] = -2;
		for (int i = 0; i < MAX_CONNS; i++)
			if (conns[i].fd >= 0) {
				pf[np] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
				map[np++] = i;
			}
		rc = ppoll(pf, (nfds_t)np, NULL, &empty);
		if (g_move_pending) {
			g_move_pending = 0;
			fk_do_move();
		}
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			perror("fakenfs4: poll");
			return 1;
		}
		for (int k = 0; k < np; k++) {
			if (!pf[k].revents)
				continue;
			if (map[k] < 0) {
				struct server *s = map[k] == -1 ? &g_src : &g_dst;
				int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
				int i;

				if (fd < 0)
					continue;
				for (i = 0; i < MAX_CONNS && conns[i].fd >= 0; i++)
					;
				if (i == MAX_CONNS) {
					close(fd);
					continue;
				}
				/* A client that never reads its replies stalls no one
				 * for long. */
				setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sndto, sizeof(sndto));
				conns[i].fd = fd;
				conns[i].srv = s;
				conns[i].inlen = 0;
				conns[i].reclen = 0;
				if (!conns[i].in)
					conns[i].in = malloc(MAX_RECORD + 4);
				if (!conns[i].rec)
					conns[i].rec = malloc(MAX_RECORD);
				if (!conns[i].in || !conns[i].rec) {
					close(fd);
					conns[i].fd = -1;
				}
				continue;
			}
			struct conn *cn = &conns[map[k]];
			ssize_t n = read(cn->fd, cn->in + cn->inlen, MAX_RECORD + 4 - cn->inlen);

			if (n > 0)
				cn->inlen += (size_t)n;
			if (n <= 0 || !conn_input(cn)) {
				close(cn->fd);
				cn->fd = -1;
			}
		}
	}
}
