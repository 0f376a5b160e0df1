/* fakenfs4's operations: one COMPOUND's context, the attributes, every
 * operation it speaks and their dispatch (fakenfs4.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakenfs4.h"

/* --- one COMPOUND ------------------------------------------------------ */

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
	if (fk_in_fs(c->cur) && fk_fs_state(c->srv) == FS_MOVED)
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
	if ((fk_other_is(sid, 0) && sid->seqid == 0) ||
	    (fk_other_is(sid, 0xff) && sid->seqid == UINT32_MAX))
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
	bool absent = fk_in_fs(n) && fk_fs_state(c->srv) == FS_MOVED;
	unsigned one = 1, zero = 0;
	char *server = g_dst.addr;

	if (!put_pathname(x, fk_in_fs(n) ? g_export : n))
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
	absent = fk_in_fs(n) && fk_fs_state(c->srv) == FS_MOVED;
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
			u64 = fk_in_fs(n) ? 0x4e4d : 0;
			ok = xdr_uint64_t(&x, &u64);
			u64 = fk_in_fs(n) ? 1 : 0;
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

			fk_make_fh(c->srv, n, fh);
			ok = xdr_bytes(&x, &p, &len, NFS4_FHSIZE);
			break;
		}
		case 20:
		case 55:
			u64 = fk_fileid(n);
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
		if (fk_node_gone(c->srv, i))
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
	if (fk_node_gone(c->srv, n))
		return NFS4ERR_STALE;
	if (p[3] != fk_fh_gen(c->srv, n))
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
		cl = fk_client_new(s);
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
	struct client *cl = fk_client_by_id(c->srv, a->clientid);

	if (!cl || memcmp(cl->confirm, a->setclientid_confirm, NFS4_VERIFIER_SIZE) != 0)
		return NFS4ERR_STALE_CLIENTID;
	if (!cl->confirmed) {
		/* A client that rebooted: its old record goes. */
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *x = &c->srv->t.c[i];

			if (x != cl && x->used && x->ownerlen == cl->ownerlen &&
			    memcmp(x->owner, cl->owner, cl->ownerlen) == 0)
				fk_client_drop(c->srv, x);
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
	struct client *cl = fk_client_by_id(c->srv, id);

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
	char *major = (char *)(s->dst && !g_same_owner ? "fakenfs4-dst" : "fakenfs4-src");

	if (a->eia_state_protect.spa_how != SP4_NONE)
		return NFS4ERR_NOTSUPP;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *x = &s->t.c[i];

		if (x->used && x->ownerlen == co->co_ownerid.co_ownerid_len &&
		    memcmp(x->owner, co->co_ownerid.co_ownerid_val, x->ownerlen) == 0) {
			if (memcmp(x->verf, co->co_verifier, NFS4_VERIFIER_SIZE) == 0)
				cl = x;
			else
				fk_client_drop(s, x); /* rebooted */
		}
	}
	if (!cl) {
		cl = fk_client_new(s);
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
	struct client *cl = fk_client_by_id(s, a->csa_clientid);
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
	c->sc = fk_client_by_id(c->srv, ss->clientid);
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
	struct client *cl = fk_client_by_id(c->srv, id);

	if (!cl)
		return NFS4ERR_STALE_CLIENTID;
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (c->srv->ss[i].used && c->srv->ss[i].clientid == id)
			return NFS4ERR_CLIENTID_BUSY;
	fk_client_drop(c->srv, cl);
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
	struct client *cl = fk_client_by_id(c->srv, id);

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
	o = fk_owner_find(s, false, clid, a->owner.owner.owner_val, a->owner.owner.owner_len);
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
		o = fk_owner_new(s, false, clid, a->owner.owner.owner_val, a->owner.owner.owner_len,
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
		st = fk_state_new(s, false, o, file, -1);
		if (st < 0)
			return NFS4ERR_RESOURCE;
	}
	c->cur = file;
	OPEN4resok *ok = &res->r.nfs_resop4_u.opopen.OPEN4res_u.resok4;
	fk_stateid_out(&s->t.s[st], &ok->stateid);
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
	fk_stateid_out(&c->srv->t.s[st],
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
	fk_stateid_out(&s->t.s[st], &res->r.nfs_resop4_u.opclose.CLOSE4res_u.open_stateid);
	for (int i = 0; i < MAX_STATES; i++)
		if (s->t.s[i].used && s->t.s[i].lock && s->t.s[i].open == st)
			fk_state_free(s, i);
	fk_state_free(s, st);
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
	if (a->locktype < READ_LT || a->locktype > WRITEW_LT ||
	    !fk_range_of(a->offset, a->length, &r))
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
		lo = fk_owner_find(s, true, clid, n->lock_owner.owner.owner_val,
				   n->lock_owner.owner.owner_len);
		if (lo < 0)
			lo = fk_owner_new(s, true, clid, n->lock_owner.owner.owner_val,
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
		int other = fk_lock_conflict(s, c->cur, lo, &r, &k);

		if (other >= 0) {
			rc = NFS4ERR_DENIED;
			res->r.nfs_resop4_u.oplock.status = rc;
			fill_denied(s, other, k, &res->r.nfs_resop4_u.oplock.LOCK4res_u.denied);
			res->full = true;
		}
	}
	if (rc == NFS4_OK && lst < 0) {
		lst = fk_state_new(s, true, lo, c->cur, ost);
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
	fk_stateid_out(&s->t.s[lst], &res->r.nfs_resop4_u.oplock.LOCK4res_u.resok4.lock_stateid);
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
	if (a->locktype < READ_LT || a->locktype > WRITEW_LT ||
	    !fk_range_of(a->offset, a->length, &r))
		return NFS4ERR_INVAL;
	if (in_grace(c))
		return NFS4ERR_GRACE;
	r.type = a->locktype;
	lo = fk_owner_find(c->srv, true, a->owner.clientid, a->owner.owner.owner_val,
			   a->owner.owner.owner_len);
	other = fk_lock_conflict(c->srv, c->cur, lo, &r, &k);
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
	if (!fk_range_of(a->offset, a->length, &r))
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
		if (fk_overlaps(&st->r[k], &r))
			st->r[k] = st->r[--st->nr];
		else
			k++;
	st->seqid++;
	fk_stateid_out(st, &res->r.nfs_resop4_u.oplocku.LOCKU4res_u.lock_stateid);
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
	fk_state_free(c->srv, st);
	return NFS4_OK;
}

static nfsstat4 do_release_lockowner(struct ctx *c, const lock_owner4 *lo)
{
	struct server *s = c->srv;
	int o = fk_owner_find(s, true, lo->clientid, lo->owner.owner_val, lo->owner.owner_len);

	if (!fk_client_by_id(s, lo->clientid))
		return NFS4ERR_STALE_CLIENTID;
	if (o < 0)
		return NFS4_OK;
	for (int i = 0; i < MAX_STATES; i++)
		if (s->t.s[i].used && s->t.s[i].owner == o && s->t.s[i].nr > 0)
			return NFS4ERR_LOCKS_HELD;
	for (int i = 0; i < MAX_STATES; i++)
		if (s->t.s[i].used && s->t.s[i].owner == o)
			fk_state_free(s, i);
	s->t.o[o].used = false;
	return NFS4_OK;
}

/* --- dispatch ------------------------------------------------------------ */

/* Operations the XDR decodes (all of nfs_argop4's arms). */
bool fk_decodable(uint32_t op)
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

nfsstat4 fk_run_op(struct ctx *c, unsigned i, const nfs_argop4 *a, struct result *res)
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
		fk_make_fh(s, c->cur, fh);
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

const char *fk_op_name(uint32_t op)
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

const char *fk_status_name(nfsstat4 st)
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
