/* nfsmig locations PATH | SERVER[:PORT]:/PATH */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "nm_conf.h"
#include "nm_fsloc.h"
#include "nm_mount.h"
#include "nm_nfs4.h"
#include "nm_reach.h"
#include "nm_served.h"
#include "nm_store.h"
#include "nm_rpc.h"
#include "nm_target.h"
#include "opts.h"
#include "output.h"

enum {
	COL_LOCATION,
	COL_SERVER,
	COL_ROOTPATH,
	COL_ADDRESSES,
	COL_REACH,
	COL_REACHABLE,
	COL_TARGET,
	COL_PATH,
	COL_FS_PATH,
	COL_FS_ROOT,
	COL_FSID,
	COL_ABSENT,
};

static const struct nm_col columns[] = {
	[COL_LOCATION] = { "LOCATION", 3, NM_COL_NUMBER,
			   "index of the fs_locations entry (from 1)" },
	[COL_SERVER] = { "SERVER", 0.3, NM_COL_STRING, "server name of the location", true },
	[COL_ROOTPATH] = { "ROOTPATH", 0.2, NM_COL_STRING, "path of the file system on that server",
			   true },
	[COL_ADDRESSES] = { "ADDRESSES", 0.2, NM_COL_ARRAY,
			    "addresses the server name resolves to" },
	[COL_REACH] = { "REACH", 0.2, NM_COL_ARRAY, "TCP connect to port 2049, per address" },
	[COL_REACHABLE] = { "REACHABLE", 3, NM_COL_BOOLEAN, "whether any address answered" },
	[COL_TARGET] = { "TARGET", 0.3, NM_COL_STRING,
			 "where PATH is on that server (SERVER:ROOTPATH/rest)", true },
	[COL_PATH] = { "PATH", 0.2, NM_COL_STRING, "the path asked about, on the queried server" },
	[COL_FS_PATH] = { "FS_PATH", 0.2, NM_COL_STRING, "the file system the locations are of" },
	[COL_FS_ROOT] = { "FS_ROOT", 0.2, NM_COL_STRING, "fs_root as the server gave it", true },
	[COL_FSID] = { "FSID", 0.2, NM_COL_STRING, "fsid as major:minor" },
	[COL_ABSENT] = { "ABSENT", 3, NM_COL_BOOLEAN,
			 "the server says the file system is not there (MOVED)" },
};

static const int default_cols[] = { COL_SERVER, COL_ROOTPATH, COL_ADDRESSES, COL_REACH };
static const int default_json_cols[] = { COL_LOCATION, COL_SERVER,    COL_ROOTPATH, COL_ADDRESSES,
					 COL_REACH,    COL_REACHABLE, COL_TARGET,   COL_PATH,
					 COL_FS_PATH,  COL_FS_ROOT,   COL_FSID,	    COL_ABSENT };

struct loc_opts {
	const char *output;
	const char *mountinfo;
	const char *state_dir;
	char state_dir_buf[NM_CONF_PATH_MAX];
	int minor;
	int timeout_ms;
	int reach_ms;
	bool reach;
	bool verbose;
	bool list_columns;
	struct nm_out out;
};

/* The mount's server-side path on the server it is on now: after a move,
 * the rootpath of the recorded location there.  Takes spath. */
static char *path_on_server(const struct loc_opts *o, const struct nm_mount *m, char *spath)
{
	struct nm_record rec;
	struct nm_err err = { 0 };
	char *p;

	if (!spath || nm_store_load(o->state_dir, m->target, &rec, &err) < 0)
		return spath;
	p = nm_served_path(&rec, m->server, spath, o->timeout_ms);
	nm_record_free(&rec);
	if (!p)
		return spath;
	free(spath);
	return p;
}

/* Where the query goes, from a mount or from SERVER:/PATH. */
struct query {
	char *host;
	unsigned port;
	char *path;
	int minor;
	char *sec;
	char *mount; /* the mount asked about, or NULL for SERVER:/PATH */
};

static void query_free(struct query *q)
{
	free(q->host);
	free(q->path);
	free(q->mount);
	free(q->sec);
}

static int resolve_query(const char *arg, const struct loc_opts *o, struct query *q,
			 struct nm_err *err)
{
	memset(q, 0, sizeof(*q));
	if (nm_target_is_remote(arg)) {
		struct nm_target t;
		int rc = nm_target_parse(arg, &t, err);

		if (rc < 0)
			return rc;
		q->host = t.host;
		q->port = t.port;
		q->path = t.path;
		q->minor = o->minor;
		q->sec = strdup("sys");
		return q->sec ? 0 : nm_err_set(err, -ENOMEM, "out of memory");
	}
	struct nm_mount m;
	char *spath;
	int rc = nm_mount_find(o->mountinfo, arg, &m, &spath, err);

	if (rc < 0)
		return rc;
	q->host = strdup(m.server);
	q->port = m.port;
	q->path = path_on_server(o, &m, spath);
	q->minor = o->minor != NM_NFS4_MINOR_AUTO ? o->minor : m.minor;
	q->sec = strdup(m.sec);
	q->mount = strdup(m.target);
	nm_mount_free(&m);
	if (!q->host || !q->sec || !q->mount)
		return nm_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

static char *fsid_text(const struct nm_fsloc_result *r)
{
	char *s = NULL;

	if (!r->have_fsid)
		return strdup("");
	if (asprintf(&s, "0x%" PRIx64 ":0x%" PRIx64, r->fsid_major, r->fsid_minor) < 0)
		return NULL;
	return s;
}

static void print_summary(const struct query *q, const struct nm_fsloc_result *r, const char *fsid,
			  size_t nrows)
{
	nm_out_printf(stdout, "%s on %s (NFSv4.%u)", r->path, q->host, r->minor);
	if (r->absent && strcmp(r->fs_path, r->path) == 0)
		nm_out_printf(stdout, " is absent: a referral or migrated file system\n");
	else if (r->absent)
		nm_out_printf(stdout, ": %s is absent, a referral or migrated file system\n",
			      r->fs_path);
	else
		nm_out_printf(stdout, "\n");
	if (fsid[0])
		nm_out_printf(stdout, "fsid:     %s\n", fsid);
	if (r->have_locations) {
		nm_out_printf(stdout, "fs_root:  ");
		nm_out_stored(stdout, r->fs_root);
		nm_out_printf(stdout, "\n");
	}
	if (nrows == 0)
		nm_out_printf(stdout, "no other locations\n");
}

/* One reach entry per distinct server name. */
static struct nm_reach_host *reach_hosts(const struct nm_fsloc_result *r, size_t *n)
{
	size_t max = 0, k = 0;
	struct nm_reach_host *h;

	for (size_t i = 0; i < r->nloc; i++)
		max += r->loc[i].nservers;
	*n = 0;
	if (max == 0)
		return NULL;
	if (max > NM_REACH_MAX_HOSTS)
		max = NM_REACH_MAX_HOSTS;
	h = calloc(max, sizeof(*h));
	if (!h)
		return NULL;
	for (size_t i = 0; i < r->nloc; i++)
		for (size_t j = 0; j < r->loc[i].nservers && k < max; j++) {
			bool dup = !nm_target_host_name_ok(r->loc[i].servers[j]);

			/* A name that is not a host name or an address is kept
			 * escaped and never resolved. */
			for (size_t x = 0; x < k; x++)
				dup = dup || strcmp(h[x].name, r->loc[i].servers[j]) == 0;
			if (dup)
				continue;
			h[k].name = strdup(r->loc[i].servers[j]);
			if (!h[k].name)
				break;
			k++;
		}
	*n = k;
	return h;
}

static const struct nm_reach_host *reach_of(const struct nm_reach_host *h, size_t n,
					    const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(h[i].name, name) == 0)
			return &h[i];
	return NULL;
}

/* SERVER:ROOTPATH/rest: where the path asked about lives on a location. */
static char *location_target(const char *srv, const char *rootpath, const char *rest)
{
	bool v6 = strchr(srv, ':') != NULL;
	const char *root = strcmp(rootpath, "/") == 0 && rest[0] ? "" : rootpath;
	char *s = NULL;

	if (asprintf(&s, "%s%s%s:%s%s", v6 ? "[" : "", srv, v6 ? "]" : "", root, rest) < 0)
		return NULL;
	return s;
}

static int emit_rows(struct loc_opts *o, const struct nm_fsloc_result *r, const char *fsid,
		     const struct nm_reach_host *h, size_t nh)
{
	size_t rows = 0;

	for (size_t i = 0; i < r->nloc; i++) {
		for (size_t j = 0; j < r->loc[i].nservers; j++) {
			const char *srv = r->loc[i].servers[j];
			const struct nm_reach_host *rh = reach_of(h, nh, srv);
			struct libscols_line *ln = nm_out_line(&o->out);
			char idx[24], *addrs = NULL, *reach = NULL, *target = NULL;
			size_t alen = 0, rlen = 0;
			FILE *fa, *fr;
			bool any = false;

			if (!ln)
				return -ENOMEM;
			snprintf(idx, sizeof(idx), "%zu", i + 1);
			fa = open_memstream(&addrs, &alen);
			fr = open_memstream(&reach, &rlen);
			if (!fa || !fr) {
				if (fa)
					fclose(fa);
				if (fr)
					fclose(fr);
				free(addrs);
				free(reach);
				return -ENOMEM;
			}
			if (!nm_target_host_name_ok(srv)) {
				fprintf(fr, "not a host name or address");
			} else if (rh && rh->resolve_error) {
				fprintf(fr, "unresolved: %s", gai_strerror(rh->resolve_error));
			} else if (rh) {
				for (size_t a = 0; a < rh->naddr; a++) {
					char d[96];

					nm_reach_describe(&rh->addr[a], d, sizeof(d));
					fprintf(fa, "%s%s", a ? "\n" : "", rh->addr[a].text);
					fprintf(fr, "%s%s", a ? "\n" : "", d);
					any = any || rh->addr[a].result == 0;
				}
			}
			fclose(fa);
			fclose(fr);
			if (nm_target_host_name_ok(srv))
				target = location_target(srv, r->loc[i].rootpath, r->rest);
			nm_out_set(&o->out, ln, COL_LOCATION, idx);
			nm_out_set(&o->out, ln, COL_SERVER, srv);
			nm_out_set(&o->out, ln, COL_ROOTPATH, r->loc[i].rootpath);
			nm_out_set(&o->out, ln, COL_ADDRESSES, addrs);
			nm_out_set(&o->out, ln, COL_REACH, reach);
			nm_out_set(&o->out, ln, COL_REACHABLE, any ? "yes" : "no");
			nm_out_set(&o->out, ln, COL_TARGET, target);
			nm_out_set(&o->out, ln, COL_PATH, r->path);
			nm_out_set(&o->out, ln, COL_FS_PATH, r->fs_path);
			nm_out_set(&o->out, ln, COL_FS_ROOT, r->fs_root);
			nm_out_set(&o->out, ln, COL_FSID, fsid);
			nm_out_set(&o->out, ln, COL_ABSENT, r->absent ? "yes" : "no");
			free(addrs);
			free(reach);
			free(target);
			rows++;
		}
	}
	return (int)rows;
}

static int parse_args(int argc, char **argv, struct loc_opts *o)
{
	enum {
		OPT_LISTCOLS = 256,
		OPT_MOUNTINFO,
		OPT_NFSVERS,
		OPT_REACHTO,
		OPT_NOREACH,
		OPT_STATEDIR
	};
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "output", required_argument, NULL, 'o' },
		{ "list-columns", no_argument, NULL, OPT_LISTCOLS },
		{ "noheadings", no_argument, NULL, 'n' },
		{ "raw", no_argument, NULL, 'r' },
		{ "mountinfo", required_argument, NULL, OPT_MOUNTINFO },
		{ "nfsvers", required_argument, NULL, OPT_NFSVERS },
		{ "timeout", required_argument, NULL, 't' },
		{ "reach-timeout", required_argument, NULL, OPT_REACHTO },
		{ "no-reach", no_argument, NULL, OPT_NOREACH },
		{ "state-dir", required_argument, NULL, OPT_STATEDIR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->minor = NM_NFS4_MINOR_AUTO;
	o->timeout_ms = 10000;
	o->reach_ms = 2000;
	o->reach = true;
	nm_opt_default_state_dir(o->state_dir_buf, sizeof(o->state_dir_buf));
	o->state_dir = o->state_dir_buf;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "Jo:nrt:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'J': o->out.json = true; break;
		case 'o': o->output = optarg; break;
		case OPT_LISTCOLS: o->list_columns = true; break;
		case 'n': o->out.noheadings = true; break;
		case 'r': o->out.raw = true; break;
		case OPT_MOUNTINFO: o->mountinfo = optarg; break;
		case OPT_STATEDIR: o->state_dir = optarg; break;
		case OPT_NFSVERS:
			o->minor = nm_opt_nfsvers(optarg);
			if (o->minor < -1) {
				nm_out_printf(stderr,
					      "nfsmig: --nfsvers takes 4.0, 4.1 or 4.2, not '%s'\n",
					      optarg);
				return -1;
			}
			break;
		case 't':
			o->timeout_ms = nm_opt_seconds("--timeout", optarg, 10, 3600000);
			if (o->timeout_ms < 0)
				return -1;
			break;
		case OPT_REACHTO:
			o->reach_ms = nm_opt_seconds("--reach-timeout", optarg, 10, 600000);
			if (o->reach_ms < 0)
				return -1;
			break;
		case OPT_NOREACH: o->reach = false; break;
		case 'v': o->verbose = true; break;
		case 'h': nm_command_usage(nm_command_find("locations"), 0); return 1;
		default: nm_opt_bad(argv); return -1;
		}
	}
	return 0;
}

int nm_cmd_locations(int argc, char **argv)
{
	struct loc_opts o;
	struct nm_nfs4_opts no = { 0 };
	struct nm_err err = { 0 };
	struct nm_fsloc_result r = { 0 };
	struct nm_nfs4 *c = NULL;
	struct nm_reach_host *hosts = NULL;
	struct query q = { 0 };
	size_t nh = 0;
	char *fsid = NULL;
	bool json;
	int rc, rows, ret = NM_EXIT_FAIL;

	rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? NM_EXIT_OK : NM_EXIT_USAGE;
	if (o.list_columns) {
		nm_out_list_columns(columns, sizeof(columns) / sizeof(columns[0]), o.out.json);
		return NM_EXIT_OK;
	}
	if (optind != argc - 1) {
		nm_command_usage(nm_command_find("locations"), 1);
		return NM_EXIT_USAGE;
	}
	json = o.out.json;
	{
		bool raw = o.out.raw, noh = o.out.noheadings;

		if (nm_out_select(&o.out, columns, sizeof(columns) / sizeof(columns[0]),
				  json ? default_json_cols : default_cols,
				  json ? sizeof(default_json_cols) / sizeof(int)
				       : sizeof(default_cols) / sizeof(int),
				  o.output) < 0)
			return NM_EXIT_USAGE;
		o.out.json = json;
		o.out.raw = raw;
		o.out.noheadings = noh;
	}
	if (resolve_query(argv[optind], &o, &q, &err) < 0)
		goto fail;
	no.rpc.port = q.port;
	no.rpc.connect_ms = o.timeout_ms;
	no.rpc.call_ms = o.timeout_ms;
	no.minor = q.minor;
	no.sec = q.sec;
	if (nm_nfs4_open(q.host, &no, &c, &err) < 0 || nm_fsloc_query(c, q.path, &r, &err) < 0) {
		nm_rpc_not_answering(&err, q.host, q.mount);
		goto fail;
	}
	if (o.verbose)
		nm_out_printf(stderr,
			      "nfsmig: %u COMPOUNDs for the query, %u RPCs in all with setup\n",
			      r.compounds, nm_nfs4_rpcs(c));
	nm_nfs4_close(c);
	c = NULL;
	if (o.reach) {
		hosts = reach_hosts(&r, &nh);
		if (nm_reach_check(hosts, nh, 0, o.reach_ms, &err) < 0)
			goto fail;
	}
	fsid = fsid_text(&r);
	if (!fsid || nm_out_start(&o.out, "locations") < 0) {
		nm_err_set(&err, -ENOMEM, "out of memory");
		goto fail;
	}
	rows = emit_rows(&o, &r, fsid, hosts, nh);
	if (rows < 0) {
		nm_err_set(&err, rows, "out of memory");
		goto fail;
	}
	if (!json && !o.out.raw && !o.out.noheadings)
		print_summary(&q, &r, fsid, (size_t)rows);
	else if (!json && rows == 0)
		nm_out_printf(stdout, "%s: no other locations\n", r.path);
	if (rows > 0 || json)
		nm_out_print(&o.out);
	ret = NM_EXIT_OK;
	goto out;
fail:
	nm_out_printf(stderr, "nfsmig: %s\n", err.msg[0] ? err.msg : "failed");
out:
	nm_out_free(&o.out);
	nm_nfs4_close(c);
	nm_reach_free(hosts, nh);
	free(hosts);
	free(fsid);
	nm_fsloc_result_free(&r);
	query_free(&q);
	return ret;
}
