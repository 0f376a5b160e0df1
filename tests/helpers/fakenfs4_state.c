/* fakenfs4's file system and state tables, and the move (fakenfs4.c). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fakenfs4.h"

/* Options and the world (fakenfs4.h). */
unsigned g_minor;
enum mode g_mode = AT_REOPEN;
bool g_lease_signal, g_referral, g_moved, g_volatile, g_same_owner;
unsigned g_lease = 30, g_grace = 30;
uint64_t g_moved_ms;
struct node g_nodes[MAX_NODES];
int g_nnodes, g_export;
struct server g_src = { .name = "src", .boot = 1 },
	      g_dst = { .name = "dst", .dst = true, .boot = 2 };
uint64_t g_next_id = 0x1000, g_next_other = 1;
struct reclaim g_reclaims[MAX_RECLAIMS];
int g_nreclaims;

/* --- the file system ----------------------------------------------------- */

bool fk_in_fs(int n)
{
	return g_nodes[n].kind != K_PSEUDO;
}

enum fsstate fk_fs_state(const struct server *s)
{
	if (!s->dst)
		return g_referral || g_moved ? FS_MOVED : FS_HERE;
	return g_referral || g_moved ? FS_HERE : FS_NOT_YET;
}

/* Is node n of the file system there on s right now (lost files are not)? */
bool fk_node_gone(const struct server *s, int n)
{
	if (!fk_in_fs(n))
		return false;
	if (fk_fs_state(s) == FS_NOT_YET)
		return true;
	return s->dst && g_moved && g_mode == AT_LOST && g_nodes[n].kind == K_FILE;
}

unsigned char fk_fh_gen(const struct server *s, int n)
{
	return s->dst && g_moved && g_volatile && fk_in_fs(n) ? 'b' : 'a';
}

void fk_make_fh(const struct server *s, int n, unsigned char fh[8])
{
	fh[0] = 'F';
	fh[1] = 'K';
	fh[2] = '4';
	fh[3] = fk_fh_gen(s, n);
	fh[4] = 0;
	fh[5] = 0;
	fh[6] = (unsigned char)(n >> 8);
	fh[7] = (unsigned char)n;
}

uint64_t fk_fileid(int n)
{
	return 1000 + (uint64_t)n;
}

/* A file's bytes on s: the destination's own when --dst-file gave them. */
const unsigned char *fk_content(const struct server *s, int n, size_t *len)
{
	if (s->dst && g_nodes[n].dst_data) {
		*len = g_nodes[n].dst_len;
		return g_nodes[n].dst_data;
	}
	*len = g_nodes[n].len;
	return g_nodes[n].data;
}

/* --- state ------------------------------------------------------------- */

struct client *fk_client_by_id(struct server *s, uint64_t id)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (s->t.c[i].used && s->t.c[i].id == id)
			return &s->t.c[i];
	return NULL;
}

struct client *fk_client_new(struct server *s)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (!s->t.c[i].used) {
			memset(&s->t.c[i], 0, sizeof(s->t.c[i]));
			s->t.c[i].used = true;
			s->t.c[i].id = g_next_id++;
			s->t.c[i].cs_seq = 1;
			s->t.c[i].renewed_ms = fk_now_ms();
			return &s->t.c[i];
		}
	return NULL;
}

uint64_t fk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void fk_renew(struct client *c)
{
	if (c)
		c->renewed_ms = fk_now_ms();
}

void fk_state_free(struct server *s, int i)
{
	s->t.s[i].used = false;
}

/* Everything of a client: its owners, their states, its sessions. */
void fk_client_drop(struct server *s, struct client *c)
{
	for (int o = 0; o < MAX_OWNERS; o++) {
		if (!s->t.o[o].used || s->t.o[o].clientid != c->id)
			continue;
		for (int i = 0; i < MAX_STATES; i++)
			if (s->t.s[i].used && s->t.s[i].owner == o)
				fk_state_free(s, i);
		s->t.o[o].used = false;
	}
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (s->ss[i].used && s->ss[i].clientid == c->id)
			s->ss[i].used = false;
	c->used = false;
}

/* Clients whose lease ran out (--lease) lose everything, as on a server
 * that does not keep them (RENEW then NFS4ERR_STALE_CLIENTID, their
 * stateids unknown, 4.1 their sessions gone: NFS4ERR_BADSESSION). */
void fk_expire(struct server *s)
{
	uint64_t now = fk_now_ms();

	for (int i = 0; i < MAX_CLIENTS; i++)
		if (s->t.c[i].used && now - s->t.c[i].renewed_ms > (uint64_t)g_lease * 1000)
			fk_client_drop(s, &s->t.c[i]);
}

static bool client_has_state(const struct server *s, uint64_t id)
{
	for (int i = 0; i < MAX_STATES; i++)
		if (s->t.s[i].used && s->t.o[s->t.s[i].owner].clientid == id)
			return true;
	return false;
}

int fk_owner_find(struct server *s, bool lock, uint64_t clientid, const char *name, unsigned len)
{
	for (int i = 0; i < MAX_OWNERS; i++) {
		struct owner *o = &s->t.o[i];

		if (o->used && o->lock == lock && o->clientid == clientid && o->namelen == len &&
		    memcmp(o->name, name, len) == 0)
			return i;
	}
	return -1;
}

int fk_owner_new(struct server *s, bool lock, uint64_t clientid, const char *name, unsigned len,
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

int fk_state_new(struct server *s, bool lock, int owner, int node, int open)
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
		st->clientid = s->t.o[owner].clientid;
		st->seqid = 1;
		st->other[0] = s->boot;
		for (int k = 0; k < 8; k++)
			st->other[4 + k] = (unsigned char)(n >> (56 - 8 * k));
		return i;
	}
	return -1;
}

void fk_stateid_out(const struct state *st, stateid4 *out)
{
	out->seqid = st->seqid;
	memcpy(out->other, st->other, NFS4_OTHER_SIZE);
}

bool fk_other_is(const stateid4 *sid, unsigned char byte)
{
	for (int k = 0; k < NFS4_OTHER_SIZE; k++)
		if ((unsigned char)sid->other[k] != byte)
			return false;
	return true;
}

bool fk_range_of(uint64_t off, uint64_t len, struct range *r)
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

bool fk_overlaps(const struct range *a, const struct range *b)
{
	return a->off <= b->end && b->off <= a->end;
}

static bool is_write(nfs_lock_type4 t)
{
	return t == WRITE_LT || t == WRITEW_LT;
}

/* A lock of another owner on node that conflicts with r; its state index. */
int fk_lock_conflict(struct server *s, int node, int owner, const struct range *r, int *which)
{
	for (int i = 0; i < MAX_STATES; i++) {
		struct state *st = &s->t.s[i];

		if (!st->used || !st->lock || st->node != node || st->owner == owner)
			continue;
		for (int k = 0; k < st->nr; k++)
			if (fk_overlaps(&st->r[k], r) &&
			    (is_write(st->r[k].type) || is_write(r->type))) {
				*which = k;
				return i;
			}
	}
	return -1;
}

/* --- the move ------------------------------------------------------------ */

/* The source's states, by their client's owner string: what may be
 * reclaimed on the destination. */
static void record_reclaims(void)
{
	for (int i = 0; i < MAX_STATES && g_nreclaims < MAX_RECLAIMS; i++) {
		const struct state *st = &g_src.t.s[i];
		const struct client *cl = st->used ? fk_client_by_id(&g_src, st->clientid) : NULL;
		struct reclaim *rc;

		if (!cl || !cl->confirmed || (st->lock && st->nr == 0))
			continue;
		rc = &g_reclaims[g_nreclaims++];
		memcpy(rc->owner, cl->owner, cl->ownerlen);
		rc->ownerlen = cl->ownerlen;
		rc->node = st->node;
		rc->lock = st->lock;
		rc->nr = st->nr;
		memcpy(rc->r, st->r, sizeof(rc->r));
	}
}

/* May client cl reclaim an open of node (lock NULL), or that lock on it?
 * Only what its owner string held on the source (RFC 8881 8.4.2.1;
 * RFC 7530 9.6.2): NFS4ERR_RECLAIM_BAD otherwise. */
nfsstat4 fk_reclaim_ok(const struct client *cl, int node, const struct range *lock)
{
	for (int i = 0; cl && i < g_nreclaims; i++) {
		const struct reclaim *rc = &g_reclaims[i];

		if (rc->ownerlen != cl->ownerlen ||
		    memcmp(rc->owner, cl->owner, cl->ownerlen) != 0 || rc->node != node ||
		    rc->lock != (lock != NULL))
			continue;
		if (!lock)
			return NFS4_OK;
		for (int k = 0; k < rc->nr; k++)
			if (rc->r[k].off <= lock->off && lock->end <= rc->r[k].end &&
			    rc->r[k].type == lock->type)
				return NFS4_OK;
	}
	return NFS4ERR_RECLAIM_BAD;
}

void fk_do_move(void)
{
	if (g_moved || g_referral)
		return;
	g_moved = true;
	g_moved_ms = fk_now_ms();
	if (g_lease_signal)
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (g_src.t.c[i].used && client_has_state(&g_src, g_src.t.c[i].id))
				g_src.t.c[i].lease_moved = true;
	if (g_mode == AT_RECLAIM)
		record_reclaims();
	if (g_mode == AT_TSM) {
		g_dst.t = g_src.t;
		for (int i = 0; i < MAX_CLIENTS; i++) {
			g_dst.t.c[i].lease_moved = false;
			g_dst.t.c[i].reclaim_done = false; /* a new server to it */
		}
	}
	if (g_mode == AT_CONFLICT) {
		struct client *c = fk_client_new(&g_dst);

		if (c) {
			int o;

			c->confirmed = true;
			memcpy(c->owner, "another-client", 14);
			c->ownerlen = 14;
			o = fk_owner_new(&g_dst, true, c->id, "another-owner", 13, 0);
			for (int n = 0; o >= 0 && n < g_nnodes; n++) {
				int st;

				if (g_nodes[n].kind != K_FILE)
					continue;
				st = fk_state_new(&g_dst, true, o, n, -1);
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
