/* fakenfs4's file system and state tables, and the move (fakenfs4.c). */
#include <stdio.h>
#include <string.h>

#include "fakenfs4.h"

/* Options and the world (fakenfs4.h). */
unsigned g_minor;
enum mode g_mode = AT_REOPEN;
bool g_lease_signal, g_referral, g_moved, g_volatile, g_same_owner;
unsigned g_lease = 30;
struct node g_nodes[MAX_NODES];
int g_nnodes, g_export;
struct server g_src = { .name = "src", .boot = 1 },
	      g_dst = { .name = "dst", .dst = true, .boot = 2 };
uint64_t g_next_id = 0x1000, g_next_other = 1;

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
			return &s->t.c[i];
		}
	return NULL;
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

void fk_do_move(void)
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
