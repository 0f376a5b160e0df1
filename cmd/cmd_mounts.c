/* nfsmig register / mounts / show: the per-mount records. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "nm_conf.h"
#include "nm_json.h"
#include "nm_mount.h"
#include "nm_nfs4.h"
#include "nm_reg.h"
#include "nm_rpc.h"
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
	opterr = 0;
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
		default: nm_opt_bad(argv); return -1;
		}
	}
	if (!o->state_dir) {
		nm_opt_default_state_dir(o->conf_state_dir, sizeof(o->conf_state_dir));
		o->state_dir = o->conf_state_dir;
	}
	return optind;
}

static int register_one(const struct mopts *o, const struct nm_mount *m)
{
	struct nm_store_update u = { 0 };
	struct nm_record rec;
	struct nm_err err = { 0 }, no_probe = { 0 };
	unsigned dropped = 0;
	int rc;

	rc = nm_reg_check(o->state_dir, m, o->force, &err);
	if (rc < 0) {
		nm_out_printf(stderr, "nfsmig: %s\n", err.msg);
		return rc;
	}
	rc = nm_reg_query(o->state_dir, m, o->timeout_ms, &rec, &dropped, &no_probe, &err);
	if (rc < 0) {
		nm_rpc_not_answering(&err, m->server, m->target);
		nm_out_printf(stderr, "nfsmig: cannot register %s: %s\n", m->target, err.msg);
		return rc;
	}
	if (no_probe.code < 0)
		nm_out_printf(
			stderr,
			"nfsmig: warning: %s: no entry's file handle saved, verify will check "
			"the root only: %s\n",
			m->target, no_probe.msg);
	if (dropped)
		nm_out_printf(
			stderr,
			"nfsmig: note: %s: its server lists more locations than a record keeps: "
			"%zu kept, %u left out\n",
			m->target, rec.nlocations, dropped);
	rc = nm_reg_save(o->state_dir, &rec, o->force, &u, &err);
	if (u.found == -EBADMSG && u.aside[0])
		nm_out_printf(stderr,
			      "nfsmig: the record of %s could not be read (%s): kept as %s/%s\n",
			      m->target, u.why.msg, o->state_dir, u.aside);
	if (rc < 0)
		nm_out_printf(stderr, "nfsmig: %s\n", err.msg);
	else
		nm_out_printf(stdout,
			      "registered %s: server %s, NFSv4.%d, fsid 0x%" PRIx64 ":0x%" PRIx64
			      ", root file handle of %u bytes%s\n",
			      m->target, m->server, rec.minor, rec.fsid_major, rec.fsid_minor,
			      rec.root_fh_len,
			      rec.fh_expire_type & NM_FH4_VOLATILE_ANY ? " (volatile)" : "");
	nm_record_free(&rec);
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
				nm_out_printf(stderr, "nfsmig: %s\n", err.msg);
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
		nm_out_printf(stderr, "nfsmig: %s\n", err.msg);
		return NM_EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++) {
		if (nm_reg_check(o.state_dir, &all[i], false, NULL) < 0)
			continue; /* not NFSv4, or registered */
		failed += register_one(&o, &all[i]) < 0;
		done++;
	}
	nm_mount_list_free(all, n);
	if (done == 0)
		nm_out_printf(stdout, "no NFSv4 mount without a record\n");
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
		nm_out_printf(stderr, "nfsmig: %s\n", err.msg);
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
		else if (nm_record_moved(&r, all[i].server))
			state = "moved";
		else /* a referral's submount nfsmigd registered is still one */
			state = nm_mount_referral_parent(all, n, i) ? "referral" : "registered";
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
		nm_out_printf(stderr, "nfsmig: %s\n", err.msg);
		return NM_EXIT_FAIL;
	}
	free(sp);
	rc = nm_store_load(o.state_dir, m.target, &r, &err);
	if (rc < 0) {
		nm_out_printf(stderr, "nfsmig: %s\n", err.msg);
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

		nm_out_printf(stdout, "{\n");
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			nm_out_printf(stdout, "   \"%s\": ", keys[i]);
			nm_json_str(stdout, vals[i]);
			nm_out_printf(stdout, ",\n");
		}
		nm_out_printf(stdout, "   \"version\": \"4.%d\",\n   \"moved\": %s,\n", r.minor,
			      nm_record_moved(&r, m.server) ? "true" : "false");
		nm_out_printf(stdout, "   \"fileid\": %" PRIu64 ",\n   \"fh_expire_type\": %u,\n",
			      r.fileid, r.fh_expire_type);
		nm_out_printf(stdout, "   \"locations\": [");
		for (size_t i = 0; i < r.nlocations; i++) {
			nm_out_printf(stdout, "%s", i ? ", " : "");
			nm_json_str(stdout, r.locations[i]);
		}
		nm_out_printf(stdout, "],\n   \"entry\": ");
		if (r.probe_name && r.probe_fh_len) {
			nm_out_printf(stdout, "{\"name\": ");
			nm_json_str(stdout, r.probe_name);
			nm_out_printf(stdout, ", \"fileid\": %" PRIu64 ", \"fh\": \"%s\"}",
				      r.probe_fileid, pfh);
		} else {
			nm_out_printf(stdout, "null");
		}
		nm_out_printf(stdout, ",\n   \"moves\": [");
		for (size_t i = 0; i < r.nmoves; i++) {
			nm_out_printf(stdout, "%s{\"time\": %" PRId64 ", \"from\": ", i ? ", " : "",
				      r.moves[i].time);
			nm_json_str(stdout, r.moves[i].from);
			nm_out_printf(stdout, ", \"to\": ");
			nm_json_str(stdout, r.moves[i].to);
			if (r.moves[i].trigger) { /* what told nfsmigd of it */
				nm_out_printf(stdout, ", \"trigger\": ");
				nm_json_str(stdout, r.moves[i].trigger);
			}
			nm_out_printf(stdout, "}");
		}
		nm_out_printf(stdout, "]\n}\n");
	} else {
		nm_out_printf(stdout, "target:          %s\nsource:          %s\n", m.target,
			      m.source);
		nm_out_printf(stdout, "server now:      %s%s\n", m.server,
			      nm_record_moved(&r, m.server) ? "  (moved)" : "");
		nm_out_printf(stdout, "server at registration: %s\n", r.orig_server);
		nm_out_printf(
			stdout,
			"export path:     %s\nversion:         NFSv4.%d\nsec:             %s\n",
			r.export_path, r.minor, r.sec);
		nm_out_printf(stdout,
			      "registered:      %s\nfsid:            %s\nfileid:          %" PRIu64
			      "\n",
			      when, fsid, r.fileid);
		nm_out_printf(stdout, "fh_expire_type:  0x%x%s\nroot file handle: %s\n",
			      r.fh_expire_type,
			      r.fh_expire_type & NM_FH4_VOLATILE_ANY ? " (volatile)" : "", fh);
		if (r.probe_name && r.probe_fh_len)
			nm_out_printf(stdout, "entry handle:    %s (fileid %" PRIu64 ") %s\n",
				      r.probe_name, r.probe_fileid, pfh);
		for (size_t i = 0; i < r.nlocations; i++) {
			nm_out_printf(stdout, "location:        ");
			nm_out_stored(stdout, r.locations[i]);
			nm_out_printf(stdout, "\n");
		}
		if (r.nlocations == 0)
			nm_out_printf(stdout, "locations:       (none)\n");
		for (size_t i = 0; i < r.nmoves; i++)
			nm_out_printf(stdout, "moved:           %" PRId64 " %s -> %s%s%s\n",
				      r.moves[i].time, r.moves[i].from, r.moves[i].to,
				      r.moves[i].trigger ? " by " : "",
				      r.moves[i].trigger ? r.moves[i].trigger : "");
	}
	nm_record_free(&r);
	nm_mount_free(&m);
	return NM_EXIT_OK;
}
