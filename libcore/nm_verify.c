#include "nm_verify.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nm_fattr.h"
#include "nm_fsloc.h"
#include "nm_mstats.h"
#include "nm_nfs4.h"
#include "nm_path.h"
#include "nm_target.h"
#include "nm_time.h"

#define NM_AUTH_SYS 1
#define MAX_FLAVORS 8

const char *nm_verdict_name(enum nm_verdict v)
{
	switch (v) {
	case NM_V_OK: return "OK";
	case NM_V_SKIP: return "SKIP";
	case NM_V_WARN: return "WARN";
	case NM_V_FAIL: return "FAIL";
	}
	return "?";
}

const char *nm_check_name(int check)
{
	static const char *names[NM_CHK_N] = { "destination", "nfs",   "same_fs", "security",
					       "source",      "state", "record" };

	return check >= 0 && check < NM_CHK_N ? names[check] : "?";
}

static void set(struct nm_check *c, enum nm_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set(struct nm_check *c, enum nm_verdict v, const char *fmt, ...)
{
	va_list ap;

	c->v = v;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

/* --- names to addresses ---------------------------------------------------- */

/* Does name (a host name or address) resolve to the numeric address addr? */
static bool resolves_to(const char *name, const char *addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	unsigned char want[16], got[16];
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
	bool match = false;

	if (inet_pton(fam, addr, want) != 1)
		return strcmp(name, addr) == 0;
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return false;
	for (ai = res; ai && !match; ai = ai->ai_next) {
		if (ai->ai_family != fam)
			continue;
		if (fam == AF_INET)
			memcpy(got, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		else
			memcpy(got, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		match = memcmp(got, want, fam == AF_INET ? 4 : 16) == 0;
	}
	freeaddrinfo(res);
	return match;
}

/* The server part of a recorded location "server:/path" ([v6]:/path). */
static char *location_server(const char *loc)
{
	const char *e;

	if (loc[0] == '[') {
		e = strchr(loc, ']');
		return e ? strndup(loc + 1, (size_t)(e - loc - 1)) : NULL;
	}
	e = strstr(loc, ":/");
	return e ? strndup(loc, (size_t)(e - loc)) : strdup(loc);
}

static void check_destination(struct nm_verify_item *it, const struct nm_verify_opts *o)
{
	const char *now = it->m.server;

	if (o->to) {
		if (resolves_to(o->to, now))
			set(&it->chk[NM_CHK_DEST], NM_V_OK, "served by %s, the destination given",
			    now);
		else
			set(&it->chk[NM_CHK_DEST], NM_V_FAIL,
			    "served by %s, not by the destination %s", now, o->to);
		return;
	}
	for (size_t i = 0; i < it->rec.nlocations; i++) {
		char *srv = location_server(it->rec.locations[i]);
		bool hit = srv && resolves_to(srv, now);

		free(srv);
		if (hit) {
			set(&it->chk[NM_CHK_DEST], NM_V_OK,
			    "served by %s, one of the recorded locations (%s)", now,
			    it->rec.locations[i]);
			return;
		}
	}
	if (!it->rec.orig_server[0])
		set(&it->chk[NM_CHK_DEST], NM_V_WARN,
		    "served by %s; the record does not say which server was the original", now);
	else if (strcmp(now, it->rec.orig_server) == 0)
		set(&it->chk[NM_CHK_DEST], NM_V_FAIL, "still served by the original server %s",
		    now);
	else
		set(&it->chk[NM_CHK_DEST], NM_V_OK, "served by %s, no longer by the original %s",
		    now, it->rec.orig_server);
}

/* --- the destination checks, batched per server ------------------------------ */

enum role { R_PUTFH, R_GETATTR, R_LOOKUPP, R_SECINFO, R_PPUTFH, R_PGETATTR };

struct probe {		    /* what the destination said about one item */
	nfsstat4 fh_status; /* of PUTFH/GETATTR */
	nfs_opnum4 fh_op;
	struct nm_fattr attrs;
	bool have_attrs;
	nfsstat4 sec_status;
	bool sec_asked;
	unsigned flavors[MAX_FLAVORS];
	unsigned nflavors;
	bool probe_asked; /* the handle of the root's entry (rec.probe_fh) */
	nfsstat4 probe_status;
	bool probe_have_fileid;
	uint64_t probe_fileid;
};

struct group {
	struct nm_verify_item **items;
	struct probe *probes;
	size_t n;
	const struct nm_verify_opts *o;
	unsigned rpcs;
};

static int minor_of(const struct nm_verify_item *it)
{
	return it->m.minor >= 0 ? it->m.minor : it->rec.minor;
}

/* The last component of the export path (for 4.0's SECINFO), or NULL. */
static const char *root_name(const struct nm_verify_item *it)
{
	const char *s = strrchr(it->rec.export_path, '/');

	return s && s[1] ? s + 1 : NULL;
}

static void take_secinfo(struct probe *p, const SECINFO4res *r)
{
	p->sec_status = r->status;
	if (r->status != NFS4_OK)
		return;
	for (unsigned i = 0;
	     i < r->SECINFO4res_u.resok4.SECINFO4resok_len && p->nflavors < MAX_FLAVORS; i++)
		p->flavors[p->nflavors++] = r->SECINFO4res_u.resok4.SECINFO4resok_val[i].flavor;
}

static void run_group(struct group *g)
{
	struct nm_verify_item *first = g->items[0];
	struct nm_nfs4_opts no = { .rpc = { .port = first->m.port,
					    .connect_ms = g->o->timeout_ms,
					    .call_ms = g->o->timeout_ms },
				   .minor = minor_of(first),
				   .sec = first->m.sec };
	struct nm_err err = { 0 };
	struct nm_nfs4 *c = NULL;
	size_t next = 0;

	if (nm_nfs4_open(first->m.server, &no, &c, &err) < 0) {
		for (size_t i = 0; i < g->n; i++) {
			set(&g->items[i]->chk[NM_CHK_NFS], NM_V_FAIL, "%s", err.msg);
			set(&g->items[i]->chk[NM_CHK_SAMEFS], NM_V_SKIP, "destination not reached");
			set(&g->items[i]->chk[NM_CHK_SEC], NM_V_SKIP, "destination not reached");
		}
		return;
	}
	for (size_t i = 0; i < g->n; i++)
		set(&g->items[i]->chk[NM_CHK_NFS], NM_V_OK, "%s answers NFSv4.%u", first->m.server,
		    nm_nfs4_minor(c));
	while (next < g->n) {
		nfs_argop4 ops[NM_XDR_MAX_OPS];
		size_t who[NM_XDR_MAX_OPS];
		enum role role[NM_XDR_MAX_OPS];
		uint32_t words[NM_FATTR_WORDS];
		static const enum nm_fattr_id ids[] = { NM_FATTR_FSID, NM_FATTR_FILEID };
		struct nm_nfs4_reply r;
		unsigned k = 0, max = nm_nfs4_max_ops(c);
		size_t i;

		memset(ops, 0, sizeof(ops));
		for (i = next; i < g->n; i++) {
			struct nm_verify_item *it = g->items[i];
			const char *name = minor_of(it) == 0 ? root_name(it) : NULL;
			bool pr = it->rec.probe_fh_len > 0 && it->rec.probe_name &&
				  it->rec.probe_name[0];
			unsigned need = 2 + (minor_of(it) > 0 ? 1 : name ? 2 : 0) + (pr ? 2 : 0);

			if (k + need > max)
				break;
			ops[k].argop = OP_PUTFH;
			ops[k].nfs_argop4_u.opputfh.object.nfs_fh4_len = it->rec.root_fh_len;
			ops[k].nfs_argop4_u.opputfh.object.nfs_fh4_val = (char *)it->rec.root_fh;
			who[k] = i, role[k++] = R_PUTFH;
			ops[k].argop = OP_GETATTR;
			nm_fattr_mask(&ops[k].nfs_argop4_u.opgetattr.attr_request, words, ids, 2);
			who[k] = i, role[k++] = R_GETATTR;
			if (minor_of(it) > 0) {
				ops[k].argop = OP_SECINFO_NO_NAME;
				ops[k].nfs_argop4_u.opsecinfo_no_name = SECINFO_STYLE4_CURRENT_FH;
				who[k] = i, role[k++] = R_SECINFO;
				g->probes[i].sec_asked = true;
			} else if (name) {
				ops[k].argop = OP_LOOKUPP;
				who[k] = i, role[k++] = R_LOOKUPP;
				ops[k].argop = OP_SECINFO;
				ops[k].nfs_argop4_u.opsecinfo.name.utf8str_cs_len =
					(unsigned)strlen(name);
				ops[k].nfs_argop4_u.opsecinfo.name.utf8str_cs_val = (char *)name;
				who[k] = i, role[k++] = R_SECINFO;
				g->probes[i].sec_asked = true;
			}
			if (pr) {
				ops[k].argop = OP_PUTFH;
				ops[k].nfs_argop4_u.opputfh.object.nfs_fh4_len =
					it->rec.probe_fh_len;
				ops[k].nfs_argop4_u.opputfh.object.nfs_fh4_val =
					(char *)it->rec.probe_fh;
				who[k] = i, role[k++] = R_PPUTFH;
				ops[k].argop = OP_GETATTR;
				nm_fattr_mask(&ops[k].nfs_argop4_u.opgetattr.attr_request, words,
					      ids, 2);
				who[k] = i, role[k++] = R_PGETATTR;
				g->probes[i].probe_asked = true;
			}
		}
		if (k == 0) { /* one item alone does not fit: cannot happen with max >= 5 */
			set(&g->items[next]->chk[NM_CHK_SAMEFS], NM_V_FAIL,
			    "server allows too few operations per COMPOUND");
			next++;
			continue;
		}
		if (nm_nfs4_compound(c, ops, k, &r, &err) < 0) {
			for (size_t j = next; j < g->n; j++) {
				set(&g->items[j]->chk[NM_CHK_SAMEFS], NM_V_FAIL, "%s", err.msg);
				set(&g->items[j]->chk[NM_CHK_SEC], NM_V_SKIP, "no answer");
			}
			break;
		}
		size_t resume = i;

		for (unsigned x = 0; x < r.nops; x++) {
			struct probe *p = &g->probes[who[x]];
			nfsstat4 st = nm_nfs4_resop_status(&r.ops[x]);

			switch (role[x]) {
			case R_PUTFH:
			case R_GETATTR:
				if (st != NFS4_OK) {
					p->fh_status = st;
					p->fh_op = role[x] == R_PUTFH ? OP_PUTFH : OP_GETATTR;
				} else if (role[x] == R_GETATTR) {
					p->have_attrs =
						nm_fattr_decode(&r.ops[x].nfs_resop4_u.opgetattr
									 .GETATTR4res_u.resok4
									 .obj_attributes,
								&p->attrs, &err) == 0;
				}
				break;
			case R_LOOKUPP:
				if (st != NFS4_OK)
					p->sec_status = st;
				break;
			case R_PPUTFH:
			case R_PGETATTR:
				if (st != NFS4_OK) {
					p->probe_status = st;
				} else if (role[x] == R_PGETATTR) {
					struct nm_fattr a;

					if (nm_fattr_decode(
						    &r.ops[x].nfs_resop4_u.opgetattr.GETATTR4res_u
							     .resok4.obj_attributes,
						    &a, &err) == 0) {
						p->probe_have_fileid =
							nm_fattr_has(&a, NM_FATTR_FILEID);
						p->probe_fileid = a.fileid;
						nm_fattr_free(&a);
					}
				}
				break;
			case R_SECINFO:
				take_secinfo(p, r.ops[x].resop == OP_SECINFO
							? &r.ops[x].nfs_resop4_u.opsecinfo
							: &r.ops[x].nfs_resop4_u.opsecinfo_no_name);
				break;
			}
			/* The COMPOUND stopped here: go on after this item. */
			if (st != NFS4_OK)
				resume = who[x] + 1;
		}
		nm_nfs4_reply_free(&r);
		next = resume;
	}
	nm_nfs4_shutdown(c);
	g->rpcs = nm_nfs4_rpcs(c);
	nm_nfs4_close(c);
}

static void *group_thread(void *arg)
{
	run_group(arg);
	return NULL;
}

static void judge_samefs(struct nm_verify_item *it, const struct probe *p)
{
	struct nm_check *c = &it->chk[NM_CHK_SAMEFS];
	bool volatile_fh = it->rec.fh_expire_type & NM_FH4_VOLATILE_ANY;

	if (c->why[0]) /* already judged (destination not reached) */
		return;
	switch (p->fh_status) {
	case NFS4_OK: break;
	case NFS4ERR_STALE:
	case NFS4ERR_BADHANDLE:
		set(c, NM_V_FAIL,
		    "the root file handle saved at registration is %s here: not the same file "
		    "system",
		    nm_nfs4_status_name(p->fh_status));
		return;
	case NFS4ERR_FHEXPIRED:
		set(c, NM_V_WARN, "volatile file handles: re-lookup by path (%s)",
		    nm_nfs4_status_name(p->fh_status));
		return;
	case NFS4ERR_MOVED:
		set(c, NM_V_FAIL, "the destination answers NFS4ERR_MOVED: it is not there either");
		return;
	default:
		set(c, NM_V_FAIL, "%s of the saved root file handle failed: %s",
		    nm_nfs4_op_name(p->fh_op), nm_nfs4_status_name(p->fh_status));
		return;
	}
	if (!p->have_attrs || !nm_fattr_has(&p->attrs, NM_FATTR_FSID)) {
		set(c, NM_V_FAIL, "no fsid for the saved root file handle");
		return;
	}
	if (p->attrs.fsid.major != it->rec.fsid_major ||
	    p->attrs.fsid.minor != it->rec.fsid_minor) {
		set(c, NM_V_FAIL,
		    "different file system: fsid 0x%" PRIx64 ":0x%" PRIx64 ", registered 0x%" PRIx64
		    ":0x%" PRIx64,
		    p->attrs.fsid.major, p->attrs.fsid.minor, it->rec.fsid_major,
		    it->rec.fsid_minor);
		return;
	}
	if (nm_fattr_has(&p->attrs, NM_FATTR_FILEID) && p->attrs.fileid != it->rec.fileid) {
		set(c, NM_V_FAIL, "different root: fileid %" PRIu64 ", registered %" PRIu64,
		    p->attrs.fileid, it->rec.fileid);
		return;
	}
	if (p->probe_asked && !volatile_fh) {
		const char *nm = it->rec.probe_name;

		switch (p->probe_status) {
		case NFS4_OK: break;
		case NFS4ERR_STALE:
		case NFS4ERR_BADHANDLE:
			set(c, NM_V_FAIL,
			    "the handle of '%s' saved at registration is %s here (the root's is "
			    "valid: it names only the export): a different file system under the "
			    "same fsid, or '%s' was removed since",
			    nm, nm_nfs4_status_name(p->probe_status), nm);
			return;
		default:
			set(c, NM_V_WARN, "the handle of '%s' saved at registration: %s", nm,
			    nm_nfs4_status_name(p->probe_status));
			return;
		}
		if (p->probe_have_fileid && p->probe_fileid != it->rec.probe_fileid) {
			set(c, NM_V_FAIL,
			    "different file: '%s' has fileid %" PRIu64 ", registered %" PRIu64, nm,
			    p->probe_fileid, it->rec.probe_fileid);
			return;
		}
	}
	if (volatile_fh)
		set(c, NM_V_WARN,
		    "same fsid and root, but file handles are volatile (fh_expire_type 0x%x): "
		    "re-lookup by path",
		    it->rec.fh_expire_type);
	else
		set(c, NM_V_OK, "the saved root file handle is valid: same fsid and root fileid%s",
		    p->probe_asked ? ", and the saved handle of an entry too" : "");
}

static void judge_security(struct nm_verify_item *it, const struct probe *p)
{
	struct nm_check *c = &it->chk[NM_CHK_SEC];
	char list[128] = "";
	size_t off = 0;

	if (c->why[0])
		return;
	if (it->chk[NM_CHK_SAMEFS].v == NM_V_FAIL && p->fh_status != NFS4_OK) {
		set(c, NM_V_SKIP, "the root file handle is not usable here");
		return;
	}
	if (!p->sec_asked) {
		set(c, NM_V_SKIP, "NFSv4.0 and an export of /: SECINFO needs a name");
		return;
	}
	if (p->sec_status != NFS4_OK) {
		set(c, NM_V_WARN, "SECINFO failed: %s", nm_nfs4_status_name(p->sec_status));
		return;
	}
	for (unsigned i = 0; i < p->nflavors; i++) {
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%u", i ? "," : "",
					p->flavors[i]);
		if (off >= sizeof(list))
			break;
	}
	for (unsigned i = 0; i < p->nflavors; i++)
		if (p->flavors[i] == NM_AUTH_SYS && strcmp(it->m.sec, "sys") == 0) {
			set(c, NM_V_OK, "the destination offers sys (flavors %s)", list);
			return;
		}
	set(c, NM_V_FAIL, "the destination does not offer %s (flavors %s)", it->m.sec, list);
}

/* --- the source --------------------------------------------------------------- */

/* The source, asked once per run: one session, one query per mount. */
struct source {
	struct nm_target t; /* host, port, and the path when --source named one */
	bool fixed_path;
	struct nm_nfs4 *s;
	char fail[NM_ERR_MSG_MAX]; /* why every source check fails, if it does */
};

static void source_open(const struct nm_verify_opts *o, int minor, struct source *src)
{
	struct nm_nfs4_opts no = { .rpc = { .connect_ms = o->timeout_ms, .call_ms = o->timeout_ms },
				   .minor = minor };
	struct nm_err err = { 0 };
	char *spec = NULL;

	memset(src, 0, sizeof(*src));
	/* SERVER[:PORT] alone means each record's export path. */
	src->fixed_path = nm_target_is_remote(o->source);
	if (src->fixed_path)
		spec = strdup(o->source);
	else if (asprintf(&spec, "%s%s%s:/", strchr(o->source, ':') ? "[" : "", o->source,
			  strchr(o->source, ':') ? "]" : "") < 0)
		spec = NULL;
	if (!spec || nm_target_parse(spec, &src->t, &err) < 0) {
		snprintf(src->fail, sizeof(src->fail), "--source: %.480s",
			 spec ? err.msg : "out of memory");
		free(spec);
		return;
	}
	free(spec);
	no.rpc.port = src->t.port;
	if (nm_nfs4_open(src->t.host, &no, &src->s, &err) < 0)
		snprintf(src->fail, sizeof(src->fail), "%s", err.msg);
}

static void source_close(struct source *src)
{
	nm_nfs4_close(src->s);
	nm_target_free(&src->t);
}

static void check_source(struct nm_verify_item *it, const struct nm_verify_opts *o,
			 struct source *src)
{
	struct nm_check *c = &it->chk[NM_CHK_SOURCE];
	const char *path = src->fixed_path ? src->t.path : it->rec.export_path;
	struct nm_fsloc_result r;
	struct nm_err err = { 0 };
	bool listed = false;

	if (!o->source) {
		set(c, NM_V_SKIP, "no --source given");
		return;
	}
	if (src->fail[0]) {
		set(c, NM_V_FAIL, "%s", src->fail);
		return;
	}
	if (nm_fsloc_query(src->s, path, &r, &err) < 0) {
		set(c, NM_V_FAIL, "%s", err.msg);
		return;
	}
	for (size_t i = 0; i < r.nloc && !listed; i++)
		for (size_t j = 0; j < r.loc[i].nservers && !listed; j++)
			listed = resolves_to(r.loc[i].servers[j], it->m.server);
	if (!r.absent)
		set(c, NM_V_FAIL, "the source %s still serves %s (no NFS4ERR_MOVED)", src->t.host,
		    path);
	else if (!listed)
		set(c, NM_V_FAIL,
		    "the source answers MOVED for %s but does not list %s in fs_locations",
		    r.fs_path, it->m.server);
	else
		set(c, NM_V_OK, "the source %s answers MOVED for %s and lists %s", src->t.host,
		    r.fs_path, it->m.server);
	nm_fsloc_result_free(&r);
}

/* --- the record ---------------------------------------------------------------- */

static void check_record(struct nm_verify_item *it, const struct nm_verify_opts *o)
{
	struct nm_check *c = &it->chk[NM_CHK_RECORD];
	struct nm_err err = { 0 };
	bool failed = false;

	for (int k = 0; k < NM_CHK_RECORD; k++)
		failed = failed || it->chk[k].v == NM_V_FAIL;
	if (it->m.minor >= 0 && it->rec.minor >= 0 && it->m.minor != it->rec.minor) {
		set(c, NM_V_WARN, "the record says NFSv4.%d, the kernel NFSv4.%d", it->rec.minor,
		    it->m.minor);
		return;
	}
	if (strcmp(it->rec.cur_server, it->m.server) == 0) {
		set(c, NM_V_OK, "agrees with the kernel (server %s, NFSv4.%d)", it->m.server,
		    it->rec.minor);
		return;
	}
	if (failed || !o->update_record) {
		set(c, NM_V_WARN, "the record says %s, the kernel %s%s", it->rec.cur_server,
		    it->m.server, failed ? " (the move is not recorded: checks failed)" : "");
		return;
	}
	char *from = strdup(it->rec.cur_server), *to = strdup(it->m.server);

	if (from && to && nm_record_add_move(&it->rec, (int64_t)time(NULL), from, to) == 0) {
		free(it->rec.cur_server);
		it->rec.cur_server = to;
		to = NULL;
		if (nm_store_save(o->state_dir, &it->rec, &err) == 0) {
			it->record_updated = true;
			set(c, NM_V_OK, "recorded the move %s -> %s", from, it->m.server);
		} else {
			set(c, NM_V_WARN, "cannot record the move: %s", err.msg);
		}
	} else {
		set(c, NM_V_WARN, "cannot record the move (history full or out of memory)");
	}
	free(from);
	free(to);
}

/* --- lost state ------------------------------------------------------------------ */

static bool moved(const struct nm_verify_item *it)
{
	return nm_record_moved(&it->rec, it->m.server);
}

struct state_sample {
	struct nm_mstats s;
	int rc;
	char msg[sizeof(((struct nm_err *)0)->msg)];
	int64_t at;
};

static void sample(const char *file, struct state_sample *x)
{
	struct nm_err e = { 0 };

	x->rc = nm_mstats_read(file, &x->s, &e);
	if (x->rc < 0)
		memcpy(x->msg, e.msg, sizeof(x->msg));
	x->at = nm_time_ms();
}

static bool state_wanted(const struct nm_verify_opts *o)
{
	return !o->state_skip &&
	       (o->mountstats_before || o->mountstats_after || o->state_interval_ms > 0);
}

/* Check 6 for every live item; `a` was sampled before the network checks. */
static void check_state(struct nm_verify_item **live, size_t n, const struct nm_verify_opts *o,
			struct state_sample *a)
{
	struct state_sample b = { 0 };
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (!state_wanted(o))
			set(&live[i]->chk[NM_CHK_STATE], NM_V_SKIP, "%s",
			    o->state_skip ? o->state_skip : "--state-interval 0");
		else if (!moved(live[i]))
			set(&live[i]->chk[NM_CHK_STATE], NM_V_SKIP,
			    "not moved: no state could be lost");
		else
			any = true;
	}
	if (!any)
		return;
	if (o->mountstats_after || o->mountstats_before) {
		sample(o->mountstats_after ? o->mountstats_after : o->mountstats_before, &b);
	} else {
		int64_t left = a->at + o->state_interval_ms - nm_time_ms();

		if (left > 0)
			nm_time_sleep_ms(left);
		sample(NULL, &b);
	}
	double secs = (double)(b.at - a->at) / 1000.0;

	for (size_t i = 0; i < n; i++) {
		struct nm_check *c = &live[i]->chk[NM_CHK_STATE];
		const struct nm_mstats_mount *x, *y;
		struct nm_mstats_verdict sv;

		if (!moved(live[i]))
			continue;
		if (a->rc < 0 || b.rc < 0) {
			set(c, NM_V_WARN, "cannot read mountstats: %s", a->rc < 0 ? a->msg : b.msg);
			continue;
		}
		x = nm_mstats_find(&a->s, live[i]->m.target);
		y = nm_mstats_find(&b.s, live[i]->m.target);
		if (!x || !y) {
			set(c, NM_V_WARN, "%s is not in mountstats", live[i]->m.target);
			continue;
		}
		nm_mstats_judge_state(x, y, minor_of(live[i]),
				      o->mountstats_after || o->mountstats_before ? 0 : secs, &sv);
		set(c,
		    sv.state == NM_MSTATS_LOOP	   ? NM_V_FAIL
		    : sv.state == NM_MSTATS_UNSURE ? NM_V_WARN
						   : NM_V_OK,
		    "%s", sv.why);
	}
	nm_mstats_free(&b.s);
}

/* --- the run ------------------------------------------------------------------- */

static int cmp_dest(const void *a, const void *b)
{
	const struct nm_verify_item *x = *(struct nm_verify_item *const *)a;
	const struct nm_verify_item *y = *(struct nm_verify_item *const *)b;
	int d = strcmp(x->m.server, y->m.server);

	if (d)
		return d;
	if (x->m.port != y->m.port)
		return x->m.port < y->m.port ? -1 : 1;
	if (minor_of(x) != minor_of(y))
		return minor_of(x) - minor_of(y);
	return strcmp(x->m.sec, y->m.sec);
}

int nm_verify_run(struct nm_verify_item *items, size_t n, const struct nm_verify_opts *o,
		  struct nm_verify_stats *stats, struct nm_err *err)
{
	struct nm_verify_item **live = calloc(n ? n : 1, sizeof(*live));
	struct probe *probes = calloc(n ? n : 1, sizeof(*probes));
	struct group *groups = calloc(n ? n : 1, sizeof(*groups));
	pthread_t *th = calloc(n ? n : 1, sizeof(*th));
	size_t nlive = 0, ng = 0;

	struct state_sample a = { 0 };

	memset(stats, 0, sizeof(*stats));
	if (state_wanted(o))
		sample(o->mountstats_before, &a);
	if (!live || !probes || !groups || !th) {
		nm_mstats_free(&a.s);
		free(live);
		free(probes);
		free(groups);
		free(th);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		struct nm_verify_item *it = &items[i];
		struct nm_err e = { 0 };
		int rc = nm_store_load(o->state_dir, it->m.target, &it->rec, &e);

		memset(it->chk, 0, sizeof(it->chk));
		if (rc < 0) {
			for (int k = 0; k < NM_CHK_N; k++)
				set(&it->chk[k], NM_V_SKIP, "no record");
			set(&it->chk[NM_CHK_RECORD], NM_V_FAIL, "%s", e.msg);
			continue;
		}
		it->have_rec = true;
		check_destination(it, o);
		live[nlive++] = it;
	}
	qsort(live, nlive, sizeof(*live), cmp_dest);
	/* One group (one session) per destination server, port, version, flavor. */
	for (size_t i = 0; i < nlive;) {
		size_t j = i + 1;

		while (j < nlive && cmp_dest(&live[i], &live[j]) == 0)
			j++;
		groups[ng] = (struct group){
			.items = live + i, .probes = probes + i, .n = j - i, .o = o
		};
		ng++;
		i = j;
	}
	for (size_t g = 0; g < ng; g++)
		if (pthread_create(&th[g], NULL, group_thread, &groups[g]) != 0)
			run_group(&groups[g]), th[g] = 0;
	for (size_t g = 0; g < ng; g++) {
		if (th[g])
			pthread_join(th[g], NULL);
		stats->rpcs += groups[g].rpcs;
	}
	stats->servers = (unsigned)ng;
	struct source src = { 0 };

	if (o->source && nlive > 0)
		source_open(o, minor_of(live[0]), &src);
	for (size_t i = 0; i < nlive; i++) {
		judge_samefs(live[i], &probes[i]);
		judge_security(live[i], &probes[i]);
		nm_fattr_free(&probes[i].attrs);
		check_source(live[i], o, &src);
	}
	if (o->source && nlive > 0)
		source_close(&src);
	check_state(live, nlive, o, &a);
	nm_mstats_free(&a.s);
	for (size_t i = 0; i < nlive; i++)
		check_record(live[i], o);
	for (size_t i = 0; i < n; i++) {
		items[i].verdict = NM_V_OK;
		for (int k = 0; k < NM_CHK_N; k++)
			if (items[i].chk[k].v > items[i].verdict && items[i].chk[k].v != NM_V_SKIP)
				items[i].verdict = items[i].chk[k].v;
	}
	free(live);
	free(probes);
	free(groups);
	free(th);
	return 0;
}

void nm_verify_item_free(struct nm_verify_item *it)
{
	nm_mount_free(&it->m);
	if (it->have_rec)
		nm_record_free(&it->rec);
	it->have_rec = false;
}
