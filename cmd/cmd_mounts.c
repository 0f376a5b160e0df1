/* nfsmig register / mounts / show: the per-mount records. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "nm_conf.h"
#include "nm_fsloc.h"
#include "nm_json.h"
#include "nm_mount.h"
#include "nm_nfs4.h"
#include "nm_path.h"
#include "nm_served.h"
#include "nm_store.h"
#include "opts.h"
#include "output.h"

struct mopts {
	const char *mountinfo;
	const char *state_dir;
	const char *output;
	int timeout_ms;
	bool force;
	bool list_columns;
	struct nm_out out;
	char conf_state_dir[NM_CONF_PATH_MAX];
};

/* Options shared by the three commands; returns optind, or -1 (usage), or
 * -2 (--help was answered). */
static int parse(const char *cmd, int argc, char **argv, struct mopts *o)
{
	enum { OPT_MOUNTINFO = 256, OPT_STATEDIR, OPT_LISTCOLS };
	static const struct option longopts[] = {
		{ "mountinfo", required_argument, NULL, OPT_MOUNTINFO },
		{ "state-dir", required_argument, NULL, OPT_STATEDIR },
		{ "json", no_argument, NULL, 'J' },
		{ "output", required_argument, NULL, 'o' },
		{ "list-columns", no_argument, NULL, OPT_LISTCOLS },
		{ "noheadings", no_argument, NULL, 'n' },
		{ "raw", no_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = 10000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "Jo:nrt:fh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MOUNTINFO: o->mountinfo = optarg; break;
		case OPT_STATEDIR: o->state_dir = optarg; break;
		case OPT_LISTCOLS: o->list_columns = true; break;
		case 'J': o->out.json = true; break;
		case 'o': o->output = optarg; break;
		case 'n': o->out.noheadings = true; break;
		case 'r': o->out.raw = true; break;
		case 'f': o->force = true; break;
		case 't':
			o->timeout_ms = nm_opt_seconds("--timeout", optarg, 10, 3600000);
			if (o->timeout_ms < 0)
				return -1;
			break;
		case 'h': nm_command_usage(nm_command_find(cmd), 0); return -2;
		default: return -1;
		}
	}
	if (!o->state_dir) {
		nm_opt_default_state_dir(o->conf_state_dir, sizeof(o->conf_state_dir));
		o->state_dir = o->conf_state_dir;
	}
	return optind;
}

static int start_query(const struct nm_mount *m, int timeout_ms, struct nm_nfs4 **c,
		       struct nm_err *err)
{
	struct nm_nfs4_opts no = {
		.rpc = { .port = m->port, .connect_ms = timeout_ms, .call_ms = timeout_ms },
		.minor = m->minor,
		.sec = m->sec
	};

	return nm_nfs4_open(m->server, &no, c, err);
}

/* The server-side path of the mount's root: export path + mountinfo root. */
static char *root_path(const struct nm_mount *m)
{
	char *s = NULL;

	if (asprintf(&s, "%s%s", strcmp(m->export_path, "/") == 0 ? "" : m->export_path,
		     strcmp(m->root, "/") == 0 ? "" : m->root) < 0)
		return NULL;
	if (!s[0]) {
		free(s);
		s = strdup("/");
	}
	return s;
}

/*
 * The handle and fileid of one entry of the mount's root, for verify: the
 * root's own handle may name only the export (knfsd's fsid=), which a
 * different file system exported under the same fsid takes as well.  An
 * empty root, or an entry the server will not look up, leaves none.
 */
static void take_probe(struct nm_nfs4 *c, const struct nm_mount *m, const char *path,
		       struct nm_record *rec)
{
	struct nm_fsloc_root child;
	struct nm_err err = { 0 };
	struct dirent *d;
	char *cpath = NULL;
	DIR *dir = opendir(m->target);

	if (!dir)
		return;
	while ((d = readdir(dir)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			break;
	if (d && asprintf(&cpath, "%s%s%s", path, strcmp(path, "/") ? "/" : "", d->d_name) >= 0 &&
	    nm_fsloc_root(c, cpath, &child, &err) == 0) {
		if (nm_fattr_has(&child.attrs, NM_FATTR_FILEID) && child.fhlen <= NM_STORE_FH_MAX &&
		    (rec->probe_name = strdup(d->d_name)) != NULL) {
			memcpy(rec->probe_fh, child.fh, child.fhlen);
			rec->probe_fh_len = child.fhlen;
			rec->probe_fileid = child.attrs.fileid;
		}
		nm_fattr_free(&child.attrs);
	}
	free(cpath);
	closedir(dir);
}

static int register_one(const struct mopts *o, const struct nm_mount *m)
{
	struct nm_record rec = { 0 }, old;
	struct nm_fsloc_root root;
	struct nm_err err = { 0 };
	struct nm_nfs4 *c = NULL;
	char *path = NULL;
	int rc;

	if (m->vers != 4) {
		fprintf(stderr,
			"nfsmig: %s is an NFSv%d mount: only NFSv4 mounts can be registered\n",
			m->target, m->vers);
		return -EPROTONOSUPPORT;
	}
	rc = nm_store_load(o->state_dir, m->target, &old, &err);
	if (rc == 0 && !o->force) {
		nm_record_free(&old);
		fprintf(stderr,
			"nfsmig: %s is registered already (--force takes a new root file "
			"handle, from the server it is on now)\n",
			m->target);
		return -EEXIST;
	}
	path = root_path(m);
	if (rc == 0) {
		/* After a move the file system is at the recorded location's
		 * rootpath on the server it is on now. */
		char *p = path ? nm_served_path(&old, m->server, path) : NULL;

		free(path);
		path = p;
		nm_record_free(&old);
	}
	if (!path)
		return -ENOMEM;
	rc = start_query(m, o->timeout_ms, &c, &err);
	if (rc == 0)
		rc = nm_fsloc_root(c, path, &root, &err);
	if (rc < 0) {
		fprintf(stderr, "nfsmig: cannot register %s: %s\n", m->target, err.msg);
		nm_nfs4_close(c);
		free(path);
		return rc;
	}
	rec.mountpoint = strdup(m->target);
	rec.source = strdup(m->source);
	rec.orig_server = strdup(m->server);
	rec.cur_server = strdup(m->server);
	rec.export_path = strdup(path);
	rec.sec = strdup(m->sec);
	rec.vers = 4;
	rec.minor = (int)nm_nfs4_minor(c);
	rec.registered = (int64_t)time(NULL);
	memcpy(rec.root_fh, root.fh, root.fhlen);
	rec.root_fh_len = root.fhlen;
	rec.fsid_major = root.attrs.fsid.major;
	rec.fsid_minor = root.attrs.fsid.minor;
	rec.fileid = root.attrs.fileid;
	rec.fh_expire_type = root.attrs.fh_expire_type;
	take_probe(c, m, path, &rec);
	nm_nfs4_close(c);
	for (unsigned i = 0; i < root.attrs.fs_locations.locations.locations_len; i++) {
		const fs_location4 *l = &root.attrs.fs_locations.locations.locations_val[i];
		char *rp = nm_path_from_wire(&l->rootpath);

		for (unsigned j = 0; rp && j < l->server.server_len; j++) {
			char *srv = nm_path_printable(l->server.server_val[j].utf8str_cis_val,
						      l->server.server_val[j].utf8str_cis_len);
			char *loc = NULL;

			if (srv && asprintf(&loc, "%s:%s", srv, rp) >= 0)
				nm_record_add_location(&rec, loc);
			free(loc);
			free(srv);
		}
		free(rp);
	}
	nm_fattr_free(&root.attrs);
	if (!rec.mountpoint || !rec.source || !rec.orig_server || !rec.cur_server ||
	    !rec.export_path || !rec.sec)
		rc = nm_err_set(&err, -ENOMEM, "out of memory");
	else
		rc = nm_store_save(o->state_dir, &rec, &err);
	if (rc < 0)
		fprintf(stderr, "nfsmig: %s\n", err.msg);
	else
		printf("registered %s: server %s, NFSv4.%d, fsid 0x%" PRIx64 ":0x%" PRIx64
		       ", root file handle of %u bytes%s\n",
		       m->target, m->server, rec.minor, rec.fsid_major, rec.fsid_minor,
		       rec.root_fh_len,
		       rec.fh_expire_type & NM_FH4_VOLATILE_ANY ? " (volatile)" : "");
	nm_record_free(&rec);
	free(path);
	return rc;
}

int nm_cmd_register(int argc, char **argv)
{
	struct mopts o;
	struct nm_mount *all = NULL;
	struct nm_err err = { 0 };
	size_t n = 0;
	int first, failed = 0, done = 0;

	first = parse("register", argc, argv, &o);
	if (first < 0)
		return first == -2 ? NM_EXIT_OK : NM_EXIT_USAGE;
	if (first < argc) {
		for (int i = first; i < argc; i++) {
			struct nm_mount m;
			char *sp = NULL;

			if (nm_mount_find(o.mountinfo, argv[i], &m, &sp, &err) < 0) {
				fprintf(stderr, "nfsmig: %s\n", err.msg);
				failed++;
				continue;
			}
			failed += register_one(&o, &m) < 0;
			done++;
			nm_mount_free(&m);
			free(sp);
		}
		return failed ? NM_EXIT_FAIL : NM_EXIT_OK;
	}
	if (nm_mount_list(o.mountinfo, &all, &n, &err) < 0) {
		fprintf(stderr, "nfsmig: %s\n", err.msg);
		return NM_EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++) {
		struct nm_record r;

		if (all[i].vers != 4)
			continue;
		if (nm_store_load(o.state_dir, all[i].target, &r, &err) == 0) {
			nm_record_free(&r);
			continue;
		}
		failed += register_one(&o, &all[i]) < 0;
		done++;
	}
	nm_mount_list_free(all, n);
	if (done == 0)
		printf("no NFSv4 mount without a record\n");
	return failed ? NM_EXIT_FAIL : NM_EXIT_OK;
}

/* --- mounts ------------------------------------------------------------------ */

enum { MC_TARGET, MC_SOURCE, MC_SERVER, MC_ORIG, MC_VERSION, MC_SEC, MC_STATE };

static const struct nm_col mount_cols[] = {
	[MC_TARGET] = { "TARGET", 0.3, NM_COL_STRING, "mount point" },
	[MC_SOURCE] = { "SOURCE", 0.3, NM_COL_STRING, "source as mounted (server:/export)" },
	[MC_SERVER] = { "SERVER", 0.2, NM_COL_STRING,
			"the server the kernel talks to now (addr=)" },
	[MC_ORIG] = { "ORIG_SERVER", 0.2, NM_COL_STRING, "the server at registration" },
	[MC_VERSION] = { "VERSION", 5, NM_COL_STRING, "NFS version" },
	[MC_SEC] = { "SEC", 5, NM_COL_STRING, "security flavor" },
	[MC_STATE] = { "STATE", 10, NM_COL_STRING,
		       "registered, moved (served elsewhere than at registration), referral "
		       "(mounted "
		       "by the kernel on crossing a referral to another server), unregistered, "
		       "corrupt (record unreadable), not NFSv4" },
};

static const int mount_default[] = { MC_TARGET,	 MC_SOURCE, MC_SERVER, MC_ORIG,
				     MC_VERSION, MC_SEC,    MC_STATE };

int nm_cmd_mounts(int argc, char **argv)
{
	struct mopts o;
	struct nm_mount *all = NULL;
	struct nm_err err = { 0 };
	size_t n = 0;
	int first;
	bool json, raw, noh;

	first = parse("mounts", argc, argv, &o);
	if (first < 0)
		return first == -2 ? NM_EXIT_OK : NM_EXIT_USAGE;
	if (o.list_columns) {
		nm_out_list_columns(mount_cols, sizeof(mount_cols) / sizeof(mount_cols[0]),
				    o.out.json);
		return NM_EXIT_OK;
	}
	if (first != argc) {
		nm_command_usage(nm_command_find("mounts"), 1);
		return NM_EXIT_USAGE;
	}
	json = o.out.json, raw = o.out.raw, noh = o.out.noheadings;
	if (nm_out_select(&o.out, mount_cols, sizeof(mount_cols) / sizeof(mount_cols[0]),
			  mount_default, sizeof(mount_default) / sizeof(int), o.output) < 0)
		return NM_EXIT_USAGE;
	o.out.json = json, o.out.raw = raw, o.out.noheadings = noh;
	if (nm_mount_list(o.mountinfo, &all, &n, &err) < 0) {
		fprintf(stderr, "nfsmig: %s\n", err.msg);
		return NM_EXIT_FAIL;
	}
	if (nm_out_start(&o.out, "mounts") < 0) {
		nm_mount_list_free(all, n);
		return NM_EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++) {
		struct libscols_line *ln = nm_out_line(&o.out);
		struct nm_record r;
		char vers[16];
		const char *state;
		int rc;

		if (!ln)
			break;
		if (all[i].minor >= 0)
			snprintf(vers, sizeof(vers), "%d.%d", all[i].vers, all[i].minor);
		else
			snprintf(vers, sizeof(vers), "%d", all[i].vers);
		rc = all[i].vers == 4 ? nm_store_load(o.state_dir, all[i].target, &r, &err) : -1;
		if (all[i].vers != 4)
			state = "not NFSv4";
		else if (rc == -ENOENT && nm_mount_referral_parent(all, n, i))
			state = "referral";
		else if (rc == -ENOENT)
			state = "unregistered";
		else if (rc < 0)
			state = "corrupt";
		else
			state = nm_record_moved(&r, all[i].server) ? "moved" : "registered";
		nm_out_set(&o.out, ln, MC_TARGET, all[i].target);
		nm_out_set(&o.out, ln, MC_SOURCE, all[i].source);
		nm_out_set(&o.out, ln, MC_SERVER, all[i].server);
		nm_out_set(&o.out, ln, MC_ORIG, rc == 0 ? r.orig_server : "");
		nm_out_set(&o.out, ln, MC_VERSION, vers);
		nm_out_set(&o.out, ln, MC_SEC, all[i].sec);
		nm_out_set(&o.out, ln, MC_STATE, state);
		if (rc == 0)
			nm_record_free(&r);
	}
	nm_out_print(&o.out);
	nm_out_free(&o.out);
	nm_mount_list_free(all, n);
	return NM_EXIT_OK;
}

/* --- show ---------------------------------------------------------------------- */

/* A file handle in hex; out holds 2 * len + 1 characters. */
static void hex(const unsigned char *fh, unsigned len, char *out)
{
	for (unsigned i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", fh[i]);
	out[2 * len] = '\0';
}

int nm_cmd_show(int argc, char **argv)
{
	struct mopts o;
	struct nm_mount m;
	struct nm_record r;
	struct nm_err err = { 0 };
	char *sp = NULL, fsid[64], when[64], fh[2 * NM_STORE_FH_MAX + 1],
	     pfh[2 * NM_STORE_FH_MAX + 1];
	int first, rc;
	struct tm tm;
	time_t t;

	first = parse("show", argc, argv, &o);
	if (first < 0)
		return first == -2 ? NM_EXIT_OK : NM_EXIT_USAGE;
	if (first != argc - 1) {
		nm_command_usage(nm_command_find("show"), 1);
		return NM_EXIT_USAGE;
	}
	if (nm_mount_find(o.mountinfo, argv[first], &m, &sp, &err) < 0) {
		fprintf(stderr, "nfsmig: %s\n", err.msg);
		return NM_EXIT_FAIL;
	}
	free(sp);
	rc = nm_store_load(o.state_dir, m.target, &r, &err);
	if (rc < 0) {
		fprintf(stderr, "nfsmig: %s\n", err.msg);
		nm_mount_free(&m);
		return NM_EXIT_FAIL;
	}
	snprintf(fsid, sizeof(fsid), "0x%" PRIx64 ":0x%" PRIx64, r.fsid_major, r.fsid_minor);
	hex(r.root_fh, r.root_fh_len, fh);
	hex(r.probe_fh, r.probe_fh_len, pfh);
	t = (time_t)r.registered;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	if (o.out.json) {
		const char *keys[] = { "target",      "source",	     "server",
				       "orig_server", "export_path", "sec",
				       "registered",  "fsid",	     "root_fh" };
		const char *vals[] = { m.target,      m.source,	     m.server,
				       r.orig_server, r.export_path, r.sec,
				       when,	      fsid,	     fh };

		printf("{\n");
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			printf("   \"%s\": ", keys[i]);
			nm_json_str(stdout, vals[i]);
			printf(",\n");
		}
		printf("   \"version\": \"4.%d\",\n   \"moved\": %s,\n", r.minor,
		       nm_record_moved(&r, m.server) ? "true" : "false");
		printf("   \"fileid\": %" PRIu64 ",\n   \"fh_expire_type\": %u,\n", r.fileid,
		       r.fh_expire_type);
		printf("   \"locations\": [");
		for (size_t i = 0; i < r.nlocations; i++) {
			printf("%s", i ? ", " : "");
			nm_json_str(stdout, r.locations[i]);
		}
		printf("],\n   \"entry\": ");
		if (r.probe_name && r.probe_fh_len) {
			printf("{\"name\": ");
			nm_json_str(stdout, r.probe_name);
			printf(", \"fileid\": %" PRIu64 ", \"fh\": \"%s\"}", r.probe_fileid, pfh);
		} else {
			printf("null");
		}
		printf(",\n   \"moves\": [");
		for (size_t i = 0; i < r.nmoves; i++) {
			printf("%s{\"time\": %" PRId64 ", \"from\": ", i ? ", " : "",
			       r.moves[i].time);
			nm_json_str(stdout, r.moves[i].from);
			printf(", \"to\": ");
			nm_json_str(stdout, r.moves[i].to);
			printf("}");
		}
		printf("]\n}\n");
	} else {
		printf("target:          %s\nsource:          %s\n", m.target, m.source);
		printf("server now:      %s%s\n", m.server,
		       nm_record_moved(&r, m.server) ? "  (moved)" : "");
		printf("server at registration: %s\n", r.orig_server);
		printf("export path:     %s\nversion:         NFSv4.%d\nsec:             %s\n",
		       r.export_path, r.minor, r.sec);
		printf("registered:      %s\nfsid:            %s\nfileid:          %" PRIu64 "\n",
		       when, fsid, r.fileid);
		printf("fh_expire_type:  0x%x%s\nroot file handle: %s\n", r.fh_expire_type,
		       r.fh_expire_type & NM_FH4_VOLATILE_ANY ? " (volatile)" : "", fh);
		if (r.probe_name && r.probe_fh_len)
			printf("entry handle:    %s (fileid %" PRIu64 ") %s\n", r.probe_name,
			       r.probe_fileid, pfh);
		for (size_t i = 0; i < r.nlocations; i++)
			printf("location:        %s\n", r.locations[i]);
		if (r.nlocations == 0)
			printf("locations:       (none)\n");
		for (size_t i = 0; i < r.nmoves; i++)
			printf("moved:           %" PRId64 " %s -> %s\n", r.moves[i].time,
			       r.moves[i].from, r.moves[i].to);
	}
	nm_record_free(&r);
	nm_mount_free(&m);
	return NM_EXIT_OK;
}
