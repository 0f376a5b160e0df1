/* fakenfs4 - a small stateful NFSv4.0/4.1 server for nfsmig's tests, whose
 * file system moves from a source to a destination on SIGUSR1.
 *
 *   fakenfs4 --minor 0|1 --src ADDR:PORT --dst ADDR:PORT --export /d
 *            --file NAME=CONTENT... [--at-move MODE] [--signal moved|lease-moved]
 *            [--referral] [--volatile-fh] [--lease SECONDS]
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
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "nfs4_prot.h"

#define MAX_RECORD   (NM_XDR_MAX_READ + 65536)
#define MAX_REPLY    (NM_XDR_MAX_READ + 65536)
#define MAX_CONNS    32
#define MAX_NODES    64
#define MAX_CLIENTS  32
#define MAX_OWNERS   64
#define MAX_STATES   128
#define MAX_SESSIONS 32
#define MAX_RANGES   16
#define MAX_AUTH     400
#define MAX_NAME     255
#define MAX_FILE     (1 << 20)
#define GRANT_OPS    32

/* fh_expire_type (RFC 7530 5.8.1.3) */
#define FH4_PERSISTENT	 0
#define FH4_VOLATILE_ANY 2
#define NF4REG		 1
#define NF4DIR		 2
#define AUTH_NONE_FLAVOR 0
#define AUTH_SYS_FLAVOR	 1

enum mode { AT_TSM, AT_RECLAIM, AT_REOPEN, AT_FHEXPIRED, AT_CONFLICT, AT_LOST };
enum kind { K_PSEUDO, K_EXPORT, K_FILE };
enum fsstate { FS_HERE, FS_MOVED, FS_NOT_YET };

struct node {
	enum kind kind;
	int parent;
	char name[MAX_NAME + 1];
	unsigned char *data;
	size_t len;
};

struct client {
	bool used, confirmed, reclaim_done, lease_moved;
	uint64_t id;
	unsigned char owner[NFS4_OPAQUE_LIMIT];
	unsigned ownerlen;
	unsigned char verf[NFS4_VERIFIER_SIZE];
	unsigned char confirm[NFS4_VERIFIER_SIZE];
	uint32_t cs_seq; /* the next CREATE_SESSION's csa_sequence */
};

struct owner {
	bool used, lock, confirmed;
	uint64_t clientid;
	unsigned char name[NFS4_OPAQUE_LIMIT];
	unsigned namelen;
	uint32_t seqid; /* 4.0: the last seqid it used */
};

struct range {
	uint64_t off, end; /* end inclusive */
	nfs_lock_type4 type;
};

struct state {
	bool used, lock;
	unsigned char other[NFS4_OTHER_SIZE];
	uint32_t seqid;
	int owner, node, open; /* open: a lock state's open state */
	struct range r[MAX_RANGES];
	int nr;
};

struct session {
	bool used;
	unsigned char id[NFS4_SESSIONID_SIZE];
	uint64_t clientid;
	uint32_t slot_seq;
};

/* What a server knows; the destination gets the source's at a tsm move. */
struct table {
	struct client c[MAX_CLIENTS];
	struct owner o[MAX_OWNERS];
	struct state s[MAX_STATES];
};

struct server {
	const char *name;
	bool dst;
	unsigned char boot; /* first byte of its stateids' other */
	char addr[INET6_ADDRSTRLEN];
	int lfd;
	struct table t;
	struct session ss[MAX_SESSIONS];
};

struct conn {
	int fd;
	struct server *srv;
	unsigned char *in; /* bytes read, not yet a whole fragment */
	size_t inlen;
	unsigned char *rec; /* fragments of the record so far */
	size_t reclen;
};

/* Options and the world. */
static unsigned g_minor;
static enum mode g_mode = AT_REOPEN;
static bool g_lease_signal, g_referral, g_moved, g_volatile;
static unsigned g_lease = 30;
static struct node g_nodes[MAX_NODES];
static int g_nnodes, g_export;
static char *g_export_path;
static struct server g_src = { .name = "src", .boot = 1 },
		     g_dst = { .name = "dst", .dst = true, .boot = 2 };
static uint64_t g_next_id = 0x1000, g_next_other = 1;
static volatile sig_atomic_t g_move_pending;

/* --- the file system ----------------------------------------------------- */

static bool in_fs(int n)
{
	return g_nodes[n].kind != K_PSEUDO;
}

static enum fsstate fs_state(const struct server *s)
{
	if (!s->dst)
		return g_referral || g_moved ? FS_MOVED : FS_HERE;
	return g_referral || g_moved ? FS_HERE : FS_NOT_YET;
}

/* Is node n of the file system there on s right now (lost files are not)? */
static bool node_gone(const struct server *s, int n)
{
	if (!in_fs(n))
		return false;
	if (fs_state(s) == FS_NOT_YET)
		return true;
	return s->dst && g_moved && g_mode == AT_LOST && g_nodes[n].kind == K_FILE;
}

static unsigned char fh_gen(const struct server *s, int n)
{
	return s->dst && g_moved && g_volatile && in_fs(n) ? 'b' : 'a';
}

static void make_fh(const struct server *s, int n, unsigned char fh[8])
{
	fh[0] = 'F';
	fh[1] = 'K';
	fh[2] = '4';
	fh[3] = fh_gen(s, n);
	fh[4] = 0;
	fh[5] = 0;
	fh[6] = (unsigned char)(n >> 8);
	fh[7] = (unsigned char)n;
}

static uint64_t fileid(int n)
{
	return 1000 + (uint64_t)n;
}

/* --- state ------------------------------------------------------------- */

static struct client *client_by_id(struct server *s, uint64_t id)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (s->t.c[i].used && s->t.c[i].id == id)
			return &s->t.c[i];
	return NULL;
}

static struct client *client_new(struct server *s)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (!s->t.c[i].used) {
			memset(&s->t.c[i], 0, sizeof(s->t.c[i]));
			s->t.c[i].used = true;
			s->t.c[i].id = g_next_id++;
			s->t.c[i].cs_seq = 1;
			return &s->t.c[i];
		}
	return NULL;
}

static void state_free(struct server *s, int i)
{
	s->t.s[i].used = false;
}

/* Everything of a client: its owners, their states, its sessions. */
static void client_drop(struct server *s, struct client *c)
{
	for (int o = 0; o < MAX_OWNERS; o++) {
		if (!s->t.o[o].used || s->t.o[o].clientid != c->id)
			continue;
		for (int i = 0; i < MAX_STATES; i++)
			if (s->t.s[i].used && s->t.s[i].owner == o)
				state_free(s, i);
		s->t.o[o].used = false;
	}
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (s->ss[i].used && s->ss[i].clientid == c->id)
			s->ss[i].used = false;
	c->used = false;
}

static bool client_has_state(const struct server *s, uint64_t id)
{
	for (int i = 0; i < MAX_STATES; i++)
		if (s->t.s[i].used && s->t.o[s->t.s[i].owner].clientid == id)
			return true;
	return false;
}

static int owner_find(struct server *s, bool lock, uint64_t clientid, const char *name,
		      unsigned len)
{
	for (int i = 0; i < MAX_OWNERS; i++) {
		struct owner *o = &s->t.o[i];

		if (o->used && o->lock == lock && o->clientid == clientid && o->namelen == len &&
		    memcmp(o->name, name, len) == 0)
			return i;
	}
	return -1;
}

static int owner_new(struct server *s, bool lock, uint64_t clientid, const char *name, unsigned len,
		     uint32_t seqid)
{
	if (len > NFS4_OPAQUE_LIMIT)
		return -1;
	for (int i = 0; i < MAX_OWNERS; i++) {
		struct owner *o = &s->t.o[i];

		if (o->used)
			continue;
		memset(o, 0, sizeof(*o));
		o->used = true;
		o->lock = lock;
		o->clientid = clientid;
		memcpy(o->name, name, len);
		o->namelen = len;
		o->seqid = seqid;
		return i;
	}
	return -1;
}

static int state_new(struct server *s, bool lock, int owner, int node, int open)
{
	for (int i = 0; i < MAX_STATES; i++) {
		struct state *st = &s->t.s[i];
		uint64_t n;

		if (st->used)
			continue;
		n = g_next_other++;
		memset(st, 0, sizeof(*st));
		st->used = true;
		st->lock = lock;
		st->owner = owner;
		st->node = node;
		st->open = open;
		st->seqid = 1;
		st->other[0] = s->boot;
		for (int k = 0; k < 8; k++)
			st->other[4 + k] = (unsigned char)(n >> (56 - 8 * k));
		return i;
	}
	return -1;
}

static void stateid_out(const struct state *st, stateid4 *out)
{
	out->seqid = st->seqid;
	memcpy(out->other, st->other, NFS4_OTHER_SIZE);
}

static bool other_is(const stateid4 *sid, unsigned char byte)
{
	for (int k = 0; k < NFS4_OTHER_SIZE; k++)
		if ((unsigned char)sid->other[k] != byte)
			return false;
	return true;
}

static bool range_of(uint64_t off, uint64_t len, struct range *r)
{
	if (len == 0)
		return false;
	r->off = off;
	if (len == UINT64_MAX) {
		r->end = UINT64_MAX;
		return true;
	}
	if (off > UINT64_MAX - len + 1)
		return false;
	r->end = off + len - 1;
	return true;
}

static bool overlaps(const struct range *a, const struct range *b)
{
	return a->off <= b->end && b->off <= a->end;
}

static bool is_write(nfs_lock_type4 t)
{
	return t == WRITE_LT || t == WRITEW_LT;
}

/* A lock of another owner on node that conflicts with r; its state index. */
static int lock_conflict(struct server *s, int node, int owner, const struct range *r, int *which)
{
	for (int i = 0; i < MAX_STATES; i++) {
		struct state *st = &s->t.s[i];

		if (!st->used || !st->lock || st->node != node || st->owner == owner)
			continue;
		for (int k = 0; k < st->nr; k++)
			if (overlaps(&st->r[k], r) &&
			    (is_write(st->r[k].type) || is_write(r->type))) {
				*which = k;
				return i;
			}
	}
	return -1;
}

/* --- the move ------------------------------------------------------------ */

static void do_move(void)
{
	if (g_moved || g_referral)
		return;
	g_moved = true;
	if (g_lease_signal)
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (g_src.t.c[i].used && client_has_state(&g_src, g_src.t.c[i].id))
				g_src.t.c[i].lease_moved = true;
	if (g_mode == AT_TSM) {
		g_dst.t = g_src.t;
		for (int i = 0; i < MAX_CLIENTS; i++) {
			g_dst.t.c[i].lease_moved = false;
			g_dst.t.c[i].reclaim_done = false; /* a new server to it */
		}
	}
	if (g_mode == AT_CONFLICT) {
		struct client *c = client_new(&g_dst);

		if (c) {
			int o;

			c->confirmed = true;
			memcpy(c->owner, "another-client", 14);
			c->ownerlen = 14;
			o = owner_new(&g_dst, true, c->id, "another-owner", 13, 0);
			for (int n = 0; o >= 0 && n < g_nnodes; n++) {
				int st;

				if (g_nodes[n].kind != K_FILE)
					continue;
				st = state_new(&g_dst, true, o, n, -1);
				if (st < 0)
					break;
				g_dst.t.s[st].r[0] = (struct range){ 0, UINT64_MAX, WRITE_LT };
				g_dst.t.s[st].nr = 1;
			}
		}
	}
	printf("moved\n");
	fflush(stdout);
}

/* --- one COMPOUND ------------------------------------------------------ */

struct result {
	nfs_opnum4 op;
	nfsstat4 st;
	bool full; /* r holds the whole result; else op and st only */
	nfs_resop4 r;
};

struct ctx {
	struct server *srv;
	unsigned minor;
	int cur, saved;	   /* node, -1: none */
	struct client *sc; /* 4.1: the session's client */
	void *mem[NM_XDR_MAX_OPS * 2];
	unsigned nmem;
	const nfs_argop4 *ops;
	unsigned nops;
};

static void *cmem(struct ctx *c, size_t n)
{
	void *p;

	if (c->nmem >= sizeof(c->mem) / sizeof(c->mem[0]))
		return NULL;
	p = calloc(1, n ? n : 1);
	if (p)
		c->mem[c->nmem++] = p;
	return p;
}

/* Is the current file handle there?  MOVED when its file system left. */
static nfsstat4 need_fh(struct ctx *c)
{
	if (c->cur < 0)
		return NFS4ERR_NOFILEHANDLE;
	if (in_fs(c->cur) && fs_state(c->srv) == FS_MOVED)
		return NFS4ERR_MOVED;
	return NFS4_OK;
}

/* 4.0 owner sequencing (RFC 7530 9.1.7): the seqid a request must bear. */
static nfsstat4 check_seqid(struct ctx *c, struct owner *o, uint32_t seqid)
{
	if (c->minor > 0)
		return NFS4_OK;
	if (seqid != o->seqid + 1)
		return NFS4ERR_BAD_SEQID;
	return NFS4_OK;
}

/* The errors that leave an owner's seqid where it was. */
static void bump_seqid(struct ctx *c, struct owner *o, uint32_t seqid, nfsstat4 st)
{
	if (c->minor > 0 || !o)
		return;
	switch (st) {
	case NFS4ERR_STALE_CLIENTID:
	case NFS4ERR_STALE_STATEID:
	case NFS4ERR_BAD_STATEID:
	case NFS4ERR_BAD_SEQID:
	case NFS4ERR_BADXDR:
	case NFS4ERR_RESOURCE:
	case NFS4ERR_NOFILEHANDLE:
	case NFS4ERR_MOVED: return;
	default: o->seqid = seqid;
	}
}

/* A stateid of this server: its index in *out (-1 for a special one when
 * special is allowed). */
static nfsstat4 find_state(struct ctx *c, const stateid4 *sid, int want /* 0 open, 1 lock, 2 any */,
			   bool special, int node, int *out)
{
	struct server *s = c->srv;

	*out = -1;
	if ((other_is(sid, 0) && sid->seqid == 0) ||
	    (other_is(sid, 0xff) && sid->seqid == UINT32_MAX))
		return special ? NFS4_OK : NFS4ERR_BAD_STATEID;
	for (int i = 0; i < MAX_STATES; i++) {
		struct state *st = &s->t.s[i];

		if (!st->used || memcmp(st->other, sid->other, NFS4_OTHER_SIZE) != 0)
			continue;
		if ((want == 0 && st->lock) || (want == 1 && !st->lock))
			return NFS4ERR_BAD_STATEID;
		if (node >= 0 && st->node != node)
			return NFS4ERR_BAD_STATEID;
		if (!(c->minor > 0 && sid->seqid == 0)) {
			if (sid->seqid < st->seqid)
				return NFS4ERR_OLD_STATEID;
			if (sid->seqid > st->seqid)
				return NFS4ERR_BAD_STATEID;
		}
		*out = i;
		return NFS4_OK;
	}
	if ((unsigned char)sid->other[0] != s->boot && c->minor == 0)
		return NFS4ERR_STALE_STATEID;
	return NFS4ERR_BAD_STATEID;
}

static bool in_grace(const struct ctx *c)
{
	return c->srv->dst && g_moved && g_mode == AT_RECLAIM &&
	       !(c->minor > 0 && c->sc && c->sc->reclaim_done);
}

/* --- attributes ------------------------------------------------------------ */

static const uint32_t supported[3] = { (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) |
					       (1u << 8) | (1u << 10) | (1u << 11) | (1u << 19) |
					       (1u << 20) | (1u << 24),
				       1u << (55 - 32), 0 };
/* What an absent file system answers (RFC 7530 5.8.1.12, 8.3). */
static const uint32_t absent_ok[3] = { (1u << 8) | (1u << 11) | (1u << 24), 1u << (55 - 32), 0 };

static bool want(const bitmap4 *bm, unsigned bit)
{
	unsigned w = bit / 32;

	return w < bm->bitmap4_len && (bm->bitmap4_val[w] & (1u << (bit % 32)));
}

/* The path components of node n (root excluded), in comps (at most cap). */
static unsigned node_path(int n, int *comps, unsigned cap)
{
	int tmp[MAX_NODES];
	unsigned k = 0, m = 0;

	while (n > 0 && k < MAX_NODES) {
		tmp[k++] = n;
		n = g_nodes[n].parent;
	}
	while (k > 0 && m < cap)
		comps[m++] = tmp[--k];
	return m;
}

static bool put_pathname(XDR *x, int n)
{
	int comps[MAX_NODES];
	unsigned k = node_path(n, comps, MAX_NODES);

	if (!xdr_u_int(x, &k))
		return false;
	for (unsigned i = 0; i < k; i++) {
		char *p = g_nodes[comps[i]].name;

		if (!xdr_string(x, &p, MAX_NAME))
			return false;
	}
	return true;
}

/* The host part of ADDR:PORT ([v6]:PORT). */
static bool put_fs_locations(XDR *x, struct ctx *c, int n)
{
	bool absent = in_fs(n) && fs_state(c->srv) == FS_MOVED;
	unsigned one = 1, zero = 0;
	char *server = g_dst.addr;

	if (!put_pathname(x, in_fs(n) ? g_export : n))
		return false;
	if (!absent)
		return xdr_u_int(x, &zero);
	return xdr_u_int(x, &one) && xdr_u_int(x, &one) &&
	       xdr_string(x, &server, INET6_ADDRSTRLEN) && put_pathname(x, g_export);
}

static nfsstat4 do_getattr(struct ctx *c, const GETATTR4args *a, struct result *res)
{
	const bitmap4 *bm = &a->attr_request;
	bool absent;
	uint32_t mask[3] = { 0 };
	unsigned cap = 8192;
	char *buf;
	XDR x;
	int n = c->cur;
	nfsstat4 st = c->cur < 0 ? NFS4ERR_NOFILEHANDLE : NFS4_OK;

	if (st != NFS4_OK)
		return st;
	absent = in_fs(n) && fs_state(c->srv) == FS_MOVED;
	for (unsigned b = 0; b < 96; b++)
		if (want(bm, b) && (supported[b / 32] & (1u << (b % 32))))
			mask[b / 32] |= 1u << (b % 32);
	if (absent) {
		bool only = true;

		for (unsigned w = 0; w < 3; w++)
			if (mask[w] & ~absent_ok[w])
				only = false;
		if (!only && !want(bm, 11))
			return NFS4ERR_MOVED;
		for (unsigned w = 0; w < 3; w++)
			mask[w] &= absent_ok[w];
		if (want(bm, 24) && c->sc)
			c->sc->lease_moved = false;
	}
	buf = cmem(c, cap);
	if (!buf)
		return NFS4ERR_RESOURCE;
	xdrmem_create(&x, buf, cap, XDR_ENCODE);
	for (unsigned b = 0; b < 96; b++) {
		bool ok = true;
		uint32_t u32;
		uint64_t u64;

		if (!(mask[b / 32] & (1u << (b % 32))))
			continue;
		switch (b) {
		case 0: {
			unsigned len = 2;

			ok = xdr_u_int(&x, &len) && xdr_uint32_t(&x, (uint32_t *)&supported[0]) &&
			     xdr_uint32_t(&x, (uint32_t *)&supported[1]);
			break;
		}
		case 1:
			u32 = g_nodes[n].kind == K_FILE ? NF4REG : NF4DIR;
			ok = xdr_uint32_t(&x, &u32);
			break;
		case 2:
			u32 = c->srv->dst && g_volatile ? FH4_VOLATILE_ANY : FH4_PERSISTENT;
			ok = xdr_uint32_t(&x, &u32);
			break;
		case 3:
			u64 = 1;
			ok = xdr_uint64_t(&x, &u64);
			break;
		case 4:
			u64 = g_nodes[n].kind == K_FILE ? g_nodes[n].len : 4096;
			ok = xdr_uint64_t(&x, &u64);
			break;
		case 8:
			u64 = in_fs(n) ? 0x4e4d : 0;
			ok = xdr_uint64_t(&x, &u64);
			u64 = in_fs(n) ? 1 : 0;
			ok = ok && xdr_uint64_t(&x, &u64);
			break;
		case 10:
			u32 = g_lease;
			ok = xdr_uint32_t(&x, &u32);
			break;
		case 11:
			u32 = absent ? NFS4ERR_MOVED : NFS4_OK;
			ok = xdr_uint32_t(&x, &u32);
			break;
		case 19: {
			unsigned char fh[8];
			char *p = (char *)fh;
			unsigned len = sizeof(fh);

			make_fh(c->srv, n, fh);
			ok = xdr_bytes(&x, &p, &len, NFS4_FHSIZE);
			break;
		}
		case 20:
		case 55:
			u64 = fileid(n);
			ok = xdr_uint64_t(&x, &u64);
			break;
		case 24: ok = put_fs_locations(&x, c, n); break;
		default: break;
		}
		if (!ok)
			return NFS4ERR_RESOURCE;
	}
	GETATTR4resok *ok = &res->r.nfs_resop4_u.opgetattr.GETATTR4res_u.resok4;
	uint32_t *words = cmem(c, sizeof(mask));

	if (!words)
		return NFS4ERR_RESOURCE;
	memcpy(words, mask, sizeof(mask));
	ok->obj_attributes.attrmask.bitmap4_len = mask[1] ? 2 : (mask[0] ? 1 : 0);
	ok->obj_attributes.attrmask.bitmap4_val = words;
	ok->obj_attributes.attr_vals.attrlist4_len = xdr_getpos(&x);
	ok->obj_attributes.attr_vals.attrlist4_val = buf;
	xdr_destroy(&x);
	res->full = true;
	return NFS4_OK;
}

/* --- operations ------------------------------------------------------------ */

static nfsstat4 check_name(const component4 *name)
{
	if (name->utf8str_cs_len == 0)
		return NFS4ERR_INVAL;
	if (name->utf8str_cs_len > MAX_NAME)
		return NFS4ERR_NAMETOOLONG;
	if (memchr(name->utf8str_cs_val, '/', name->utf8str_cs_len) ||
	    memchr(name->utf8str_cs_val, 0, name->utf8str_cs_len))
		return NFS4ERR_BADCHAR;
	if ((name->utf8str_cs_len == 1 && name->utf8str_cs_val[0] == '.') ||
	    (name->utf8str_cs_len == 2 && memcmp(name->utf8str_cs_val, "..", 2) == 0))
		return NFS4ERR_BADNAME;
	return NFS4_OK;
}

/* The child called name of the current directory. */
static nfsstat4 lookup(struct ctx *c, const component4 *name, int *out)
{
	nfsstat4 st = need_fh(c);

	if (st != NFS4_OK)
		return st;
	if (g_nodes[c->cur].kind == K_FILE)
		return NFS4ERR_NOTDIR;
	st = check_name(name);
	if (st != NFS4_OK)
		return st;
	for (int i = 1; i < g_nnodes; i++) {
		if (g_nodes[i].parent != c->cur ||
		    strlen(g_nodes[i].name) != name->utf8str_cs_len ||
		    memcmp(g_nodes[i].name, name->utf8str_cs_val, name->utf8str_cs_len) != 0)
			continue;
		if (node_gone(c->srv, i))
			return NFS4ERR_NOENT;
		*out = i;
		return NFS4_OK;
	}
	return NFS4ERR_NOENT;
}

static nfsstat4 do_putfh(struct ctx *c, const nfs_fh4 *fh)
{
	const unsigned char *p = (const unsigned char *)fh->nfs_fh4_val;
	int n;

	if (fh->nfs_fh4_len != 8 || memcmp(p, "FK4", 3) != 0 || p[4] || p[5])
		return NFS4ERR_BADHANDLE;
	n = p[6] << 8 | p[7];
	if (n >= g_nnodes || (p[3] != 'a' && p[3] != 'b'))
		return NFS4ERR_BADHANDLE;
	if (node_gone(c->srv, n))
		return NFS4ERR_STALE;
	if (p[3] != fh_gen(c->srv, n))
		return p[3] == 'a' ? NFS4ERR_FHEXPIRED : NFS4ERR_STALE;
	c->cur = n;
	return NFS4_OK;
}

static nfsstat4 secinfo_ok(struct ctx *c, struct result *res)
{
	secinfo4 *v = cmem(c, sizeof(*v));

	if (!v)
		return NFS4ERR_RESOURCE;
	v->flavor = AUTH_SYS_FLAVOR;
	res->r.nfs_resop4_u.opsecinfo.SECINFO4res_u.resok4.SECINFO4resok_len = 1;
	res->r.nfs_resop4_u.opsecinfo.SECINFO4res_u.resok4.SECINFO4resok_val = v;
	res->full = true;
	if (c->minor > 0)
		c->cur = -1; /* RFC 8881 18.29.3: SECINFO consumes it */
	return NFS4_OK;
}

static nfsstat4 do_setclientid(struct ctx *c, const SETCLIENTID4args *a, struct result *res)
{
	struct server *s = c->srv;
	struct client *cl = NULL;

	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *x = &s->t.c[i];

		if (x->used && x->confirmed && x->ownerlen == a->client.id.id_len &&
		    memcmp(x->owner, a->client.id.id_val, x->ownerlen) == 0 &&
		    memcmp(x->verf, a->client.verifier, NFS4_VERIFIER_SIZE) == 0)
			cl = x; /* the same client again: its ID stays */
	}
	if (!cl) {
		cl = client_new(s);
		if (!cl)
			return NFS4ERR_RESOURCE;
		memcpy(cl->owner, a->client.id.id_val, a->client.id.id_len);
		cl->ownerlen = a->client.id.id_len;
		memcpy(cl->verf, a->client.verifier, NFS4_VERIFIER_SIZE);
	}
	for (int k = 0; k < NFS4_VERIFIER_SIZE; k++)
		cl->confirm[k] = (unsigned char)(g_next_other * 31 + (uint64_t)k);
	g_next_other++;
	SETCLIENTID4resok *ok = &res->r.nfs_resop4_u.opsetclientid.SETCLIENTID4res_u.resok4;
	ok->clientid = cl->id;
	memcpy(ok->setclientid_confirm, cl->confirm, NFS4_VERIFIER_SIZE);
	res->full = true;
	return NFS4_OK;
}

static nfsstat4 do_setclientid_confirm(struct ctx *c, const SETCLIENTID_CONFIRM4args *a)
{
	struct client *cl = client_by_id(c->srv, a->clientid);

	if (!cl || memcmp(cl->confirm, a->setclientid_confirm, NFS4_VERIFIER_SIZE) != 0)
		return NFS4ERR_STALE_CLIENTID;
	if (!cl->confirmed) {
		/* A client that rebooted: its old record goes. */
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *x = &c->srv->t.c[i];

			if (x != cl && x->used && x->ownerlen == cl->ownerlen &&
			    memcmp(x->owner, cl->owner, cl->ownerlen) == 0)
				client_drop(c->srv, x);
		}
	}
	cl->confirmed = true;
	return NFS4_OK;
}

/* Does this COMPOUND ask GETATTR(fs_locations)? */
static bool asks_fsloc(const struct ctx *c)
{
	for (unsigned i = 0; i < c->nops; i++)
		if (c->ops[i].argop == OP_GETATTR &&
		    want(&c->ops[i].nfs_argop4_u.opgetattr.attr_request, 24))
			return true;
	return false;
}

static nfsstat4 do_renew(struct ctx *c, uint64_t id)
{
	struct client *cl = client_by_id(c->srv, id);

	if (!cl || !cl->confirmed)
		return NFS4ERR_STALE_CLIENTID;
	if (cl->lease_moved) {
		/* A RENEW in the COMPOUND that asks for the locations names
		 * the client doing the recovery (RFC 7931; Linux puts it after
		 * the GETATTR): it is answered, and the condition ends. */
		if (!asks_fsloc(c))
			return NFS4ERR_LEASE_MOVED;
		cl->lease_moved = false;
	}
	return NFS4_OK;
}

static nfsstat4 do_exchange_id(struct ctx *c, const EXCHANGE_ID4args *a, struct result *res)
{
	struct server *s = c->srv;
	const client_owner4 *co = &a->eia_clientowner;
	struct client *cl = NULL;
	uint32_t flags = EXCHGID4_FLAG_SUPP_MOVED_REFER | EXCHGID4_FLAG_SUPP_MOVED_MIGR |
			 EXCHGID4_FLAG_USE_NON_PNFS;
	char *major = (char *)(s->dst ? "fakenfs4-dst" : "fakenfs4-src");

	if (a->eia_state_protect.spa_how != SP4_NONE)
		return NFS4ERR_NOTSUPP;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *x = &s->t.c[i];

		if (x->used && x->ownerlen == co->co_ownerid.co_ownerid_len &&
		    memcmp(x->owner, co->co_ownerid.co_ownerid_val, x->ownerlen) == 0) {
			if (memcmp(x->verf, co->co_verifier, NFS4_VERIFIER_SIZE) == 0)
				cl = x;
			else
				client_drop(s, x); /* rebooted */
		}
	}
	if (!cl) {
		cl = client_new(s);
		if (!cl)
			return NFS4ERR_RESOURCE;
		memcpy(cl->owner, co->co_ownerid.co_ownerid_val, co->co_ownerid.co_ownerid_len);
		cl->ownerlen = co->co_ownerid.co_ownerid_len;
		memcpy(cl->verf, co->co_verifier, NFS4_VERIFIER_SIZE);
	}
	if (cl->confirmed)
		flags |= EXCHGID4_FLAG_CONFIRMED_R;
	EXCHANGE_ID4resok *ok = &res->r.nfs_resop4_u.opexchange_id.EXCHANGE_ID4res_u.eir_resok4;
	ok->eir_clientid = cl->id;
	ok->eir_sequenceid = cl->cs_seq;
	ok->eir_flags = flags;
	ok->eir_state_protect.spr_how = SP4_NONE;
	ok->eir_server_owner.so_minor_id = 0;
	ok->eir_server_owner.so_major_id.so_major_id_len = (unsigned)strlen(major);
	ok->eir_server_owner.so_major_id.so_major_id_val = major;
	ok->eir_server_scope.eir_server_scope_len = (unsigned)strlen(major);
	ok->eir_server_scope.eir_server_scope_val = major;
	res->full = true;
	return NFS4_OK;
}

static unsigned min_u(unsigned a, unsigned b)
{
	return a < b ? a : b;
}

static nfsstat4 do_create_session(struct ctx *c, const CREATE_SESSION4args *a, struct result *res)
{
	struct server *s = c->srv;
	struct client *cl = client_by_id(s, a->csa_clientid);
	struct session *ss = NULL;

	if (!cl)
		return NFS4ERR_STALE_CLIENTID;
	if (a->csa_sequence != cl->cs_seq)
		return NFS4ERR_SEQ_MISORDERED;
	for (int i = 0; i < MAX_SESSIONS && !ss; i++)
		if (!s->ss[i].used)
			ss = &s->ss[i];
	if (!ss)
		return NFS4ERR_RESOURCE;
	cl->cs_seq++;
	cl->confirmed = true;
	memset(ss, 0, sizeof(*ss));
	ss->used = true;
	ss->clientid = cl->id;
	ss->id[0] = s->boot;
	for (int k = 0; k < 8; k++)
		ss->id[8 + k] = (unsigned char)(g_next_other >> (56 - 8 * k));
	g_next_other++;
	CREATE_SESSION4resok *ok =
		&res->r.nfs_resop4_u.opcreate_session.CREATE_SESSION4res_u.csr_resok4;
	memcpy(ok->csr_sessionid, ss->id, NFS4_SESSIONID_SIZE);
	ok->csr_sequence = a->csa_sequence;
	ok->csr_flags = 0;
	ok->csr_fore_chan_attrs = a->csa_fore_chan_attrs;
	ok->csr_fore_chan_attrs.ca_headerpadsize = 0;
	ok->csr_fore_chan_attrs.ca_maxrequestsize =
		min_u(a->csa_fore_chan_attrs.ca_maxrequestsize, MAX_RECORD);
	ok->csr_fore_chan_attrs.ca_maxresponsesize =
		min_u(a->csa_fore_chan_attrs.ca_maxresponsesize, MAX_REPLY);
	ok->csr_fore_chan_attrs.ca_maxresponsesize_cached =
		min_u(a->csa_fore_chan_attrs.ca_maxresponsesize_cached, 65536);
	ok->csr_fore_chan_attrs.ca_maxoperations =
		min_u(a->csa_fore_chan_attrs.ca_maxoperations, GRANT_OPS);
	ok->csr_fore_chan_attrs.ca_maxrequests = 1;
	ok->csr_fore_chan_attrs.ca_rdma_ird.ca_rdma_ird_len = 0;
	ok->csr_back_chan_attrs = a->csa_back_chan_attrs;
	ok->csr_back_chan_attrs.ca_maxrequests = 1;
	ok->csr_back_chan_attrs.ca_rdma_ird.ca_rdma_ird_len = 0;
	res->full = true;
	return NFS4_OK;
}

static struct session *session_find(struct server *s, const char *id)
{
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (s->ss[i].used && memcmp(s->ss[i].id, id, NFS4_SESSIONID_SIZE) == 0)
			return &s->ss[i];
	return NULL;
}

static nfsstat4 do_sequence(struct ctx *c, const SEQUENCE4args *a, struct result *res)
{
	struct session *ss = session_find(c->srv, a->sa_sessionid);
	SEQUENCE4resok *ok = &res->r.nfs_resop4_u.opsequence.SEQUENCE4res_u.sr_resok4;

	if (!ss)
		return NFS4ERR_BADSESSION;
	if (a->sa_slotid != 0)
		return NFS4ERR_BADSLOT;
	if (a->sa_sequenceid == ss->slot_seq)
		return NFS4ERR_RETRY_UNCACHED_REP;
	if (a->sa_sequenceid != ss->slot_seq + 1)
		return NFS4ERR_SEQ_MISORDERED;
	ss->slot_seq++;
	c->sc = client_by_id(c->srv, ss->clientid);
	memcpy(ok->sr_sessionid, ss->id, NFS4_SESSIONID_SIZE);
	ok->sr_sequenceid = a->sa_sequenceid;
	ok->sr_slotid = 0;
	ok->sr_highest_slotid = 0;
	ok->sr_target_highest_slotid = 0;
	/* The flag stays until the client has asked for the locations: a
	 * COMPOUND that asks for them is answered without it. */
	ok->sr_status_flags = 0;
	if (c->sc && c->sc->lease_moved) {
		if (!asks_fsloc(c))
			ok->sr_status_flags |= SEQ4_STATUS_LEASE_MOVED;
	}
	res->full = true;
	return NFS4_OK;
}

static nfsstat4 do_destroy_session(struct ctx *c, const char *id)
{
	struct session *ss = session_find(c->srv, id);

	if (!ss)
		return NFS4ERR_BADSESSION;
	ss->used = false;
	return NFS4_OK;
}

static nfsstat4 do_destroy_clientid(struct ctx *c, uint64_t id)
{
	struct client *cl = client_by_id(c->srv, id);

	if (!cl)
		return NFS4ERR_STALE_CLIENTID;
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (c->srv->ss[i].used && c->srv->ss[i].clientid == id)
			return NFS4ERR_CLIENTID_BUSY;
	client_drop(c->srv, cl);
	return NFS4_OK;
}

/* The client an owner's clientid names: 4.0 a confirmed one, 4.1 the
 * session's. */
static nfsstat4 owner_client(struct ctx *c, uint64_t id, uint64_t *out)
{
	if (c->minor > 0) {
		*out = c->sc ? c->sc->id : id;
		return NFS4_OK;
	}
	struct client *cl = client_by_id(c->srv, id);

	if (!cl || !cl->confirmed)
		return NFS4ERR_STALE_CLIENTID;
	*out = id;
	return NFS4_OK;
}

static nfsstat4 do_open(struct ctx *c, const OPEN4args *a, struct result *res)
{
	struct server *s = c->srv;
	const open_claim4 *cl = &a->claim;
	struct owner *ow = NULL;
	uint64_t clid;
	int file = -1, o, st;
	bool fresh = false;
	nfsstat4 rc = need_fh(c);

	if (rc != NFS4_OK)
		return rc;
	rc = owner_client(c, a->owner.clientid, &clid);
	if (rc != NFS4_OK)
		return rc;
	o = owner_find(s, false, clid, a->owner.owner.owner_val, a->owner.owner.owner_len);
	if (o >= 0) {
		ow = &s->t.o[o];
		rc = check_seqid(c, ow, a->seqid);
		if (rc != NFS4_OK && !ow->confirmed && c->minor == 0) {
			/* An unconfirmed owner starts again (RFC 7530 16.16.5). */
			ow->seqid = a->seqid - 1;
			rc = NFS4_OK;
		}
		if (rc != NFS4_OK)
			return rc;
	}
	switch (cl->claim) {
	case CLAIM_NULL:
		rc = lookup(c, &cl->open_claim4_u.file, &file);
		if (rc == NFS4_OK && in_grace(c))
			rc = NFS4ERR_GRACE;
		break;
	case CLAIM_PREVIOUS:
		file = c->cur;
		if (!in_grace(c))
			rc = NFS4ERR_NO_GRACE;
		else if (cl->open_claim4_u.delegate_type != OPEN_DELEGATE_NONE)
			rc = NFS4ERR_RECLAIM_BAD;
		break;
	case CLAIM_FH:
		if (c->minor == 0)
			rc = NFS4ERR_INVAL;
		file = c->cur;
		if (rc == NFS4_OK && in_grace(c))
			rc = NFS4ERR_GRACE;
		break;
	default: rc = NFS4ERR_NOTSUPP;
	}
	if (rc == NFS4_OK && g_nodes[file].kind != K_FILE)
		rc = g_nodes[file].kind == K_EXPORT || g_nodes[file].kind == K_PSEUDO
			     ? NFS4ERR_ISDIR
			     : NFS4ERR_INVAL;
	if (rc == NFS4_OK && a->openhow.opentype == OPEN4_CREATE)
		rc = NFS4ERR_ROFS;
	if (rc == NFS4_OK && ((a->share_access & OPEN4_SHARE_ACCESS_WRITE) ||
			      !(a->share_access & OPEN4_SHARE_ACCESS_READ)))
		rc = (a->share_access & OPEN4_SHARE_ACCESS_WRITE) ? NFS4ERR_ROFS : NFS4ERR_INVAL;
	if (rc == NFS4_OK && !ow) {
		o = owner_new(s, false, clid, a->owner.owner.owner_val, a->owner.owner.owner_len,
			      a->seqid);
		if (o < 0)
			return NFS4ERR_RESOURCE;
		ow = &s->t.o[o];
		ow->confirmed = c->minor > 0;
		fresh = c->minor == 0;
	}
	bump_seqid(c, ow, a->seqid, rc);
	if (rc != NFS4_OK)
		return rc;
	st = -1;
	for (int i = 0; i < MAX_STATES; i++)
		if (s->t.s[i].used && !s->t.s[i].lock && s->t.s[i].owner == o &&
		    s->t.s[i].node == file)
			st = i;
	if (st >= 0) {
		s->t.s[st].seqid++;
	} else {
		st = state_new(s, false, o, file, -1);
		if (st < 0)
			return NFS4ERR_RESOURCE;
	}
	c->cur = file;
	OPEN4resok *ok = &res->r.nfs_resop4_u.opopen.OPEN4res_u.resok4;
	stateid_out(&s->t.s[st], &ok->stateid);
	ok->cinfo.atomic = TRUE;
	ok->cinfo.before = 1;
	ok->cinfo.after = 1;
	ok->rflags =
		OPEN4_RESULT_LOCKTYPE_POSIX | (fresh || !ow->confirmed ? OPEN4_RESULT_CONFIRM : 0);
	ok->attrset.bitmap4_len = 0;
	ok->delegation.delegation_type = OPEN_DELEGATE_NONE;
	res->full = true;
	return NFS4_OK;
}

static nfsstat4 do_open_confirm(struct ctx *c, const OPEN_CONFIRM4args *a, struct result *res)
{
	int st;
	struct owner *ow;
	nfsstat4 rc = need_fh(c);

	if (rc != NFS4_OK)
		return rc;
	rc = find_state(c, &a->open_stateid, 0, false, c->cur, &st);
	if (rc != NFS4_OK)
		return rc;
	ow = &c->srv->t.o[c->srv->t.s[st].owner];
	rc = check_seqid(c, ow, a->seqid);
	if (rc == NFS4_OK && ow->confirmed)
		rc = NFS4ERR_BAD_STATEID;
	bump_seqid(c, ow, a->seqid, rc);
	if (rc != NFS4_OK)
		return rc;
	ow->confirmed = true;
	c->srv->t.s[st].seqid++;
	stateid_out(&c->srv->t.s[st],
		    &res->r.nfs_resop4_u.opopen_confirm.OPEN_CONFIRM4res_u.resok4.open_stateid);
	res->full = true;
	return NFS4_OK;
}

static nfsstat4 do_close(struct ctx *c, const CLOSE4args *a, struct result *res)
{
	struct server *s = c->srv;
	struct owner *ow;
	int st;
	nfsstat4 rc = need_fh(c);

	if (rc != NFS4_OK)
		return rc;
	rc = find_state(c, &a->open_stateid, 0, false, c->cur, &st);
	if (rc != NFS4_OK)
		return rc;
	ow = &s->t.o[s->t.s[st].owner];
	rc = check_seqid(c, ow, a->seqid);
	for (int i = 0; rc == NFS4_OK && i < MAX_STATES; i++)
		if (s->t.s[i].used && s->t.s[i].lock && s->t.s[i].open == st && s->t.s[i].nr > 0)
			rc = NFS4ERR_LOCKS_HELD;
	bump_seqid(c, ow, a->seqid, rc);
	if (rc != NFS4_OK)
		return rc;
	s->t.s[st].seqid++;
	stateid_out(&s->t.s[st], &res->r.nfs_resop4_u.opclose.CLOSE4res_u.open_stateid);
	for (int i = 0; i < MAX_STATES; i++)
		if (s->t.s[i].used && s->t.s[i].lock && s->t.s[i].open == st)
			state_free(s, i);
	state_free(s, st);
	res->full = true;
	return NFS4_OK;
}

static void fill_denied(struct server *s, int st, int k, LOCK4denied *d)
{
	struct state *x = &s->t.s[st];
	struct owner *o = &s->t.o[x->owner];

	d->offset = x->r[k].off;
	d->length = x->r[k].end == UINT64_MAX ? UINT64_MAX : x->r[k].end - x->r[k].off + 1;
	d->locktype = x->r[k].type;
	d->owner.clientid = o->clientid;
	d->owner.owner.owner_len = o->namelen;
	d->owner.owner.owner_val = (char *)o->name;
}

static nfsstat4 do_lock(struct ctx *c, const LOCK4args *a, struct result *res)
{
	struct server *s = c->srv;
	struct range r;
	struct owner *seq_owner = NULL;
	uint32_t seqid = 0;
	int lst = -1, ost = -1, lo = -1, k;
	nfsstat4 rc = need_fh(c);

	if (rc != NFS4_OK)
		return rc;
	if (g_nodes[c->cur].kind != K_FILE)
		return NFS4ERR_ISDIR;
	if (a->locktype < READ_LT || a->locktype > WRITEW_LT || !range_of(a->offset, a->length, &r))
		return NFS4ERR_INVAL;
	r.type = a->locktype;
	if (a->locker.new_lock_owner) {
		const open_to_lock_owner4 *n = &a->locker.locker4_u.open_owner;
		uint64_t clid;

		rc = find_state(c, &n->open_stateid, 0, false, c->cur, &ost);
		if (rc != NFS4_OK)
			return rc;
		seq_owner = &s->t.o[s->t.s[ost].owner];
		seqid = n->open_seqid;
		rc = check_seqid(c, seq_owner, seqid);
		if (rc != NFS4_OK)
			return rc;
		clid = seq_owner->clientid;
		lo = owner_find(s, true, clid, n->lock_owner.owner.owner_val,
				n->lock_owner.owner.owner_len);
		if (lo < 0)
			lo = owner_new(s, true, clid, n->lock_owner.owner.owner_val,
				       n->lock_owner.owner.owner_len, n->lock_seqid);
		if (lo < 0)
			return NFS4ERR_RESOURCE;
		for (int i = 0; i < MAX_STATES; i++)
			if (s->t.s[i].used && s->t.s[i].lock && s->t.s[i].owner == lo &&
			    s->t.s[i].node == c->cur)
				lst = i;
	} else {
		const exist_lock_owner4 *e = &a->locker.locker4_u.lock_owner;

		rc = find_state(c, &e->lock_stateid, 1, false, c->cur, &lst);
		if (rc != NFS4_OK)
			return rc;
		lo = s->t.s[lst].owner;
		seq_owner = &s->t.o[lo];
		seqid = e->lock_seqid;
		rc = check_seqid(c, seq_owner, seqid);
		if (rc != NFS4_OK)
			return rc;
	}
	if (a->reclaim && !in_grace(c))
		rc = NFS4ERR_NO_GRACE;
	else if (!a->reclaim && in_grace(c))
		rc = NFS4ERR_GRACE;
	if (rc == NFS4_OK) {
		int other = lock_conflict(s, c->cur, lo, &r, &k);

		if (other >= 0) {
			rc = NFS4ERR_DENIED;
			res->r.nfs_resop4_u.oplock.status = rc;
			fill_denied(s, other, k, &res->r.nfs_resop4_u.oplock.LOCK4res_u.denied);
			res->full = true;
		}
	}
	if (rc == NFS4_OK && lst < 0) {
		lst = state_new(s, true, lo, c->cur, ost);
		if (lst < 0)
			rc = NFS4ERR_RESOURCE;
	}
	if (rc == NFS4_OK && s->t.s[lst].nr >= MAX_RANGES)
		rc = NFS4ERR_RESOURCE;
	bump_seqid(c, seq_owner, seqid, rc);
	if (a->locker.new_lock_owner && rc != NFS4_OK && rc != NFS4ERR_DENIED)
		return rc;
	if (a->locker.new_lock_owner)
		s->t.o[lo].seqid = a->locker.locker4_u.open_owner.lock_seqid;
	if (rc != NFS4_OK)
		return rc;
	s->t.s[lst].r[s->t.s[lst].nr++] = r;
	if (s->t.s[lst].nr > 1 || !a->locker.new_lock_owner)
		s->t.s[lst].seqid++;
	stateid_out(&s->t.s[lst], &res->r.nfs_resop4_u.oplock.LOCK4res_u.resok4.lock_stateid);
	res->full = true;
	return NFS4_OK;
}

static nfsstat4 do_lockt(struct ctx *c, const LOCKT4args *a, struct result *res)
{
	struct range r;
	int lo, other, k;
	nfsstat4 rc = need_fh(c);

	if (rc != NFS4_OK)
		return rc;
	if (g_nodes[c->cur].kind != K_FILE)
		return NFS4ERR_ISDIR;
	if (a->locktype < READ_LT || a->locktype > WRITEW_LT || !range_of(a->offset, a->length, &r))
		return NFS4ERR_INVAL;
	if (in_grace(c))
		return NFS4ERR_GRACE;
	r.type = a->locktype;
	lo = owner_find(c->srv, true, a->owner.clientid, a->owner.owner.owner_val,
			a->owner.owner.owner_len);
	other = lock_conflict(c->srv, c->cur, lo, &r, &k);
	if (other < 0)
		return NFS4_OK;
	res->r.nfs_resop4_u.oplockt.status = NFS4ERR_DENIED;
	fill_denied(c->srv, other, k, &res->r.nfs_resop4_u.oplockt.LOCKT4res_u.denied);
	res->full = true;
	return NFS4ERR_DENIED;
}

static nfsstat4 do_locku(struct ctx *c, const LOCKU4args *a, struct result *res)
{
	struct server *s = c->srv;
	struct range r;
	struct owner *ow;
	struct state *st;
	int i;
	nfsstat4 rc = need_fh(c);

	if (rc != NFS4_OK)
		return rc;
	if (!range_of(a->offset, a->length, &r))
		return NFS4ERR_INVAL;
	rc = find_state(c, &a->lock_stateid, 1, false, c->cur, &i);
	if (rc != NFS4_OK)
		return rc;
	st = &s->t.s[i];
	ow = &s->t.o[st->owner];
	rc = check_seqid(c, ow, a->seqid);
	bump_seqid(c, ow, a->seqid, rc);
	if (rc != NFS4_OK)
		return rc;
	for (int k = 0; k < st->nr;)
		if (overlaps(&st->r[k], &r))
			st->r[k] = st->r[--st->nr];
		else
			k++;
	st->seqid++;
	stateid_out(st, &res->r.nfs_resop4_u.oplocku.LOCKU4res_u.lock_stateid);
	res->full = true;
	return NFS4_OK;
}

static nfsstat4 do_read(struct ctx *c, const READ4args *a, struct result *res)
{
	const struct node *f;
	READ4resok *ok = &res->r.nfs_resop4_u.opread.READ4res_u.resok4;
	size_t off, n;
	int st;
	nfsstat4 rc = need_fh(c);

	if (rc != NFS4_OK)
		return rc;
	f = &g_nodes[c->cur];
	if (f->kind != K_FILE)
		return NFS4ERR_ISDIR;
	rc = find_state(c, &a->stateid, 2, true, c->cur, &st);
	if (rc != NFS4_OK)
		return rc;
	off = a->offset < f->len ? (size_t)a->offset : f->len;
	n = f->len - off;
	if (n > a->count)
		n = a->count;
	if (n > NM_XDR_MAX_READ)
		n = NM_XDR_MAX_READ;
	ok->eof = off + n >= f->len;
	ok->data.data_len = (unsigned)n;
	ok->data.data_val = (char *)f->data + off;
	res->full = true;
	return NFS4_OK;
}

static nfsstat4 do_test_stateid(struct ctx *c, const TEST_STATEID4args *a, struct result *res)
{
	unsigned n = a->ts_stateids.ts_stateids_len;
	nfsstat4 *v = cmem(c, (n ? n : 1) * sizeof(*v));
	TEST_STATEID4resok *ok = &res->r.nfs_resop4_u.optest_stateid.TEST_STATEID4res_u.tsr_resok4;

	if (!v)
		return NFS4ERR_RESOURCE;
	for (unsigned i = 0; i < n; i++) {
		stateid4 sid = a->ts_stateids.ts_stateids_val[i];
		int st;

		sid.seqid = 0; /* the seqid is not what is tested */
		v[i] = find_state(c, &sid, 2, false, -1, &st);
	}
	ok->tsr_status_codes.tsr_status_codes_len = n;
	ok->tsr_status_codes.tsr_status_codes_val = v;
	res->full = true;
	return NFS4_OK;
}

static nfsstat4 do_free_stateid(struct ctx *c, const stateid4 *sid)
{
	stateid4 s0 = *sid;
	int st;
	nfsstat4 rc;

	s0.seqid = 0;
	rc = find_state(c, &s0, 2, false, -1, &st);
	if (rc != NFS4_OK)
		return rc;
	if (c->srv->t.s[st].lock ? c->srv->t.s[st].nr > 0 : true)
		return NFS4ERR_LOCKS_HELD;
	state_free(c->srv, st);
	return NFS4_OK;
}

static nfsstat4 do_release_lockowner(struct ctx *c, const lock_owner4 *lo)
{
	struct server *s = c->srv;
	int o = owner_find(s, true, lo->clientid, lo->owner.owner_val, lo->owner.owner_len);

	if (!client_by_id(s, lo->clientid))
		return NFS4ERR_STALE_CLIENTID;
	if (o < 0)
		return NFS4_OK;
	for (int i = 0; i < MAX_STATES; i++)
		if (s->t.s[i].used && s->t.s[i].owner == o && s->t.s[i].nr > 0)
			return NFS4ERR_LOCKS_HELD;
	for (int i = 0; i < MAX_STATES; i++)
		if (s->t.s[i].used && s->t.s[i].owner == o)
			state_free(s, i);
	s->t.o[o].used = false;
	return NFS4_OK;
}

/* --- dispatch ------------------------------------------------------------ */

/* Operations the XDR decodes (all of nfs_argop4's arms). */
static bool decodable(uint32_t op)
{
	switch (op) {
	case OP_CLOSE:
	case OP_DELEGRETURN:
	case OP_GETATTR:
	case OP_GETFH:
	case OP_LOCK:
	case OP_LOCKT:
	case OP_LOCKU:
	case OP_LOOKUP:
	case OP_LOOKUPP:
	case OP_OPEN:
	case OP_OPEN_CONFIRM:
	case OP_PUTFH:
	case OP_PUTROOTFH:
	case OP_READ:
	case OP_RENEW:
	case OP_RESTOREFH:
	case OP_SAVEFH:
	case OP_SECINFO:
	case OP_SETCLIENTID:
	case OP_SETCLIENTID_CONFIRM:
	case OP_RELEASE_LOCKOWNER:
	case OP_EXCHANGE_ID:
	case OP_CREATE_SESSION:
	case OP_DESTROY_SESSION:
	case OP_FREE_STATEID:
	case OP_SECINFO_NO_NAME:
	case OP_SEQUENCE:
	case OP_TEST_STATEID:
	case OP_DESTROY_CLIENTID:
	case OP_RECLAIM_COMPLETE: return true;
	default: return false;
	}
}

static bool v40_only(uint32_t op)
{
	return op == OP_OPEN_CONFIRM || op == OP_RENEW || op == OP_SETCLIENTID ||
	       op == OP_SETCLIENTID_CONFIRM || op == OP_RELEASE_LOCKOWNER;
}

static bool sessionless(uint32_t op)
{
	return op == OP_EXCHANGE_ID || op == OP_CREATE_SESSION || op == OP_DESTROY_SESSION ||
	       op == OP_DESTROY_CLIENTID;
}

static nfsstat4 run_op(struct ctx *c, unsigned i, const nfs_argop4 *a, struct result *res)
{
	const struct server *s = c->srv;
	int n;
	nfsstat4 st;

	if (c->minor > 0) {
		if (i == 0 && a->argop != OP_SEQUENCE && !sessionless(a->argop))
			return NFS4ERR_OP_NOT_IN_SESSION;
		if (i > 0 && a->argop == OP_SEQUENCE)
			return NFS4ERR_SEQUENCE_POS;
		if (v40_only(a->argop))
			return NFS4ERR_NOTSUPP;
	}
	switch (a->argop) {
	case OP_PUTROOTFH: c->cur = 0; return NFS4_OK;
	case OP_PUTFH: return do_putfh(c, &a->nfs_argop4_u.opputfh.object);
	case OP_GETFH: {
		unsigned char *fh;

		st = need_fh(c);
		if (st != NFS4_OK)
			return st;
		fh = cmem(c, 8);
		if (!fh)
			return NFS4ERR_RESOURCE;
		make_fh(s, c->cur, fh);
		res->r.nfs_resop4_u.opgetfh.GETFH4res_u.resok4.object.nfs_fh4_len = 8;
		res->r.nfs_resop4_u.opgetfh.GETFH4res_u.resok4.object.nfs_fh4_val = (char *)fh;
		res->full = true;
		return NFS4_OK;
	}
	case OP_SAVEFH:
		st = need_fh(c);
		if (st == NFS4_OK)
			c->saved = c->cur;
		return st;
	case OP_RESTOREFH:
		if (c->saved < 0)
			return NFS4ERR_RESTOREFH;
		c->cur = c->saved;
		return NFS4_OK;
	case OP_LOOKUP:
		st = lookup(c, &a->nfs_argop4_u.oplookup.objname, &n);
		if (st == NFS4_OK)
			c->cur = n;
		return st;
	case OP_LOOKUPP:
		st = need_fh(c);
		if (st != NFS4_OK)
			return st;
		if (g_nodes[c->cur].kind == K_FILE)
			return NFS4ERR_NOTDIR;
		if (c->cur == 0)
			return NFS4ERR_NOENT;
		c->cur = g_nodes[c->cur].parent;
		return NFS4_OK;
	case OP_GETATTR: return do_getattr(c, &a->nfs_argop4_u.opgetattr, res);
	case OP_SECINFO:
		st = lookup(c, &a->nfs_argop4_u.opsecinfo.name, &n);
		return st == NFS4_OK ? secinfo_ok(c, res) : st;
	case OP_SECINFO_NO_NAME:
		st = need_fh(c);
		if (st != NFS4_OK)
			return st;
		if (a->nfs_argop4_u.opsecinfo_no_name == SECINFO_STYLE4_PARENT && c->cur == 0)
			return NFS4ERR_NOENT;
		return secinfo_ok(c, res);
	case OP_SETCLIENTID: return do_setclientid(c, &a->nfs_argop4_u.opsetclientid, res);
	case OP_SETCLIENTID_CONFIRM:
		return do_setclientid_confirm(c, &a->nfs_argop4_u.opsetclientid_confirm);
	case OP_RENEW: return do_renew(c, a->nfs_argop4_u.oprenew.clientid);
	case OP_EXCHANGE_ID: return do_exchange_id(c, &a->nfs_argop4_u.opexchange_id, res);
	case OP_CREATE_SESSION: return do_create_session(c, &a->nfs_argop4_u.opcreate_session, res);
	case OP_SEQUENCE: return do_sequence(c, &a->nfs_argop4_u.opsequence, res);
	case OP_DESTROY_SESSION:
		return do_destroy_session(c, a->nfs_argop4_u.opdestroy_session.dsa_sessionid);
	case OP_DESTROY_CLIENTID:
		return do_destroy_clientid(c, a->nfs_argop4_u.opdestroy_clientid.dca_clientid);
	case OP_RECLAIM_COMPLETE:
		if (!c->sc)
			return NFS4ERR_OP_NOT_IN_SESSION;
		if (a->nfs_argop4_u.opreclaim_complete.rca_one_fs)
			return NFS4_OK;
		if (c->sc->reclaim_done)
			return NFS4ERR_COMPLETE_ALREADY;
		c->sc->reclaim_done = true;
		return NFS4_OK;
	case OP_OPEN: return do_open(c, &a->nfs_argop4_u.opopen, res);
	case OP_OPEN_CONFIRM: return do_open_confirm(c, &a->nfs_argop4_u.opopen_confirm, res);
	case OP_CLOSE: return do_close(c, &a->nfs_argop4_u.opclose, res);
	case OP_LOCK: return do_lock(c, &a->nfs_argop4_u.oplock, res);
	case OP_LOCKT: return do_lockt(c, &a->nfs_argop4_u.oplockt, res);
	case OP_LOCKU: return do_locku(c, &a->nfs_argop4_u.oplocku, res);
	case OP_READ: return do_read(c, &a->nfs_argop4_u.opread, res);
	case OP_TEST_STATEID: return do_test_stateid(c, &a->nfs_argop4_u.optest_stateid, res);
	case OP_FREE_STATEID:
		return do_free_stateid(c, &a->nfs_argop4_u.opfree_stateid.fsa_stateid);
	case OP_RELEASE_LOCKOWNER:
		return do_release_lockowner(c, &a->nfs_argop4_u.oprelease_lockowner.lock_owner);
	case OP_DELEGRETURN: return NFS4ERR_BAD_STATEID; /* none is ever given */
	default: return NFS4ERR_NOTSUPP;
	}
}

static const char *op_name(uint32_t op)
{
	static const char *const names[] = {
		[3] = "ACCESS",
		[4] = "CLOSE",
		[5] = "COMMIT",
		[6] = "CREATE",
		[7] = "DELEGPURGE",
		[8] = "DELEGRETURN",
		[9] = "GETATTR",
		[10] = "GETFH",
		[11] = "LINK",
		[12] = "LOCK",
		[13] = "LOCKT",
		[14] = "LOCKU",
		[15] = "LOOKUP",
		[16] = "LOOKUPP",
		[17] = "NVERIFY",
		[18] = "OPEN",
		[19] = "OPENATTR",
		[20] = "OPEN_CONFIRM",
		[21] = "OPEN_DOWNGRADE",
		[22] = "PUTFH",
		[23] = "PUTPUBFH",
		[24] = "PUTROOTFH",
		[25] = "READ",
		[26] = "READDIR",
		[27] = "READLINK",
		[28] = "REMOVE",
		[29] = "RENAME",
		[30] = "RENEW",
		[31] = "RESTOREFH",
		[32] = "SAVEFH",
		[33] = "SECINFO",
		[34] = "SETATTR",
		[35] = "SETCLIENTID",
		[36] = "SETCLIENTID_CONFIRM",
		[37] = "VERIFY",
		[38] = "WRITE",
		[39] = "RELEASE_LOCKOWNER",
		[40] = "BACKCHANNEL_CTL",
		[41] = "BIND_CONN_TO_SESSION",
		[42] = "EXCHANGE_ID",
		[43] = "CREATE_SESSION",
		[44] = "DESTROY_SESSION",
		[45] = "FREE_STATEID",
		[46] = "GET_DIR_DELEGATION",
		[47] = "GETDEVICEINFO",
		[48] = "GETDEVICELIST",
		[49] = "LAYOUTCOMMIT",
		[50] = "LAYOUTGET",
		[51] = "LAYOUTRETURN",
		[52] = "SECINFO_NO_NAME",
		[53] = "SEQUENCE",
		[54] = "SET_SSV",
		[55] = "TEST_STATEID",
		[56] = "WANT_DELEGATION",
		[57] = "DESTROY_CLIENTID",
		[58] = "RECLAIM_COMPLETE",
	};

	if (op < sizeof(names) / sizeof(names[0]) && names[op])
		return names[op];
	return "ILLEGAL";
}

static const char *status_name(nfsstat4 st)
{
	switch (st) {
	case NFS4_OK: return "OK";
	case NFS4ERR_NOENT: return "NOENT";
	case NFS4ERR_STALE: return "STALE";
	case NFS4ERR_MOVED: return "MOVED";
	case NFS4ERR_LEASE_MOVED: return "LEASE_MOVED";
	case NFS4ERR_FHEXPIRED: return "FHEXPIRED";
	case NFS4ERR_GRACE: return "GRACE";
	case NFS4ERR_NO_GRACE: return "NO_GRACE";
	case NFS4ERR_DENIED: return "DENIED";
	case NFS4ERR_STALE_CLIENTID: return "STALE_CLIENTID";
	case NFS4ERR_STALE_STATEID: return "STALE_STATEID";
	case NFS4ERR_BAD_STATEID: return "BAD_STATEID";
	case NFS4ERR_OLD_STATEID: return "OLD_STATEID";
	case NFS4ERR_BAD_SEQID: return "BAD_SEQID";
	case NFS4ERR_NOTSUPP: return "NOTSUPP";
	case NFS4ERR_OP_ILLEGAL: return "OP_ILLEGAL";
	case NFS4ERR_BADSESSION: return "BADSESSION";
	case NFS4ERR_LOCKS_HELD: return "LOCKS_HELD";
	default: return NULL;
	}
}

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
		if (!decodable(op)) {
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
			r->st = run_op(&c, i, &ops[i], r);
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
		const char *sn = status_name(res[i].st);

		if (sn)
			ll += (size_t)snprintf(log + ll, sizeof(log) - ll, " %s=%s",
					       op_name(res[i].op), sn);
		else
			ll += (size_t)snprintf(log + ll, sizeof(log) - ll, " %s=%u",
					       op_name(res[i].op), (unsigned)res[i].st);
		if (res[i].op == OP_TEST_STATEID && res[i].full) {
			const TEST_STATEID4resok *t =
				&res[i].r.nfs_resop4_u.optest_stateid.TEST_STATEID4res_u.tsr_resok4;

			for (unsigned k = 0;
			     k < t->tsr_status_codes.tsr_status_codes_len && ll < sizeof(log) - 64;
			     k++) {
				const char *ks =
					status_name(t->tsr_status_codes.tsr_status_codes_val[k]);

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
		"                [--signal moved|lease-moved] [--referral] [--lease SECONDS]\n");
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
			do_move();
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
