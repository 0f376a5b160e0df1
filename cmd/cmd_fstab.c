/* nfsmig fstab [--apply] [MOUNT...]: fstab and autofs map lines that still
 * mount a moved file system from its old server. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "nm_afile.h"
#include "nm_conf.h"
#include "nm_fstab.h"
#include "nm_json.h"
#include "nm_mount.h"
#include "nm_store.h"
#include "opts.h"
#include "output.h"

struct fopts {
	const char *mountinfo, *state_dir, *root;
	bool apply, json;
	int timeout_ms;
	char conf_state_dir[NM_CONF_PATH_MAX];
};

/* One NFS mount: its names (a claim on lines) and, when it moved and was
 * asked about, its move and the lines it owns. */
struct fmount {
	const struct nm_mount *m;
	int wanted; /* 1 asked about (all were), 2 named */
	bool moved;
	struct nm_fstab_move names; /* every name of its server (not moved) */
	struct nm_fstab_move mv;    /* moved: the move */
	char *error;		    /* why it could not be looked at */
	struct nm_fstab_hit *hits;
	size_t n;
	char **proposed; /* per hit, NULL when it cannot be rewritten */
	char **why;	 /* per hit, why not (or why the rewrite failed) */
	char **backup;	 /* per hit, the backup of its file once rewritten */
	int *applied;	 /* per hit: 1 rewritten, 2 rewritten but not synced */
};

static void fmount_free(struct fmount *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->proposed[i]);
		free(f->why[i]);
		free(f->backup[i]);
	}
	free(f->proposed);
	free(f->why);
	free(f->backup);
	free(f->applied);
	free(f->error);
	nm_fstab_hits_free(f->hits, f->n);
	nm_fstab_move_free(&f->mv);
	nm_fstab_move_free(&f->names);
}

static void say_error(struct fmount *f, const char *msg)
{
	nm_out_printf(stderr, "nfsmig: %s: %s\n", f->m->target, msg);
	free(f->error);
	f->error = strdup(msg);
}

/* The files no scan could read, each once. */
struct unread {
	struct nm_fstab_unread *v;
	size_t n;
};

static void unread_merge(struct unread *u, struct nm_fstab_unread *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		struct nm_fstab_unread *nv;

		for (size_t j = 0; j < u->n && !seen; j++)
			seen = strcmp(u->v[j].file, v[i].file) == 0;
		if (!seen && (nv = realloc(u->v, (u->n + 1) * sizeof(*nv)))) {
			u->v = nv;
			u->v[u->n++] = v[i];
			memset(&v[i], 0, sizeof(v[i]));
		}
	}
	nm_fstab_unread_free(v, n);
}

/* The record and names of every NFS mount; the move of each one asked
 * about.  Returns -1 on an error (said), 1 for a named mount without a
 * record, else 0. */
static int load_mount(const struct fopts *o, struct fmount *f)
{
	struct nm_err err = { 0 };
	struct nm_record r;
	int rc = nm_store_load(o->state_dir, f->m->target, &r, &err);

	if (rc < 0 && rc != -ENOENT) {
		if (f->wanted)
			say_error(f, err.msg);
		return f->wanted ? -1 : 0;
	}
	if (nm_fstab_names_of(rc == 0 ? &r : NULL, f->m, &f->names, &err) < 0) {
		if (rc == 0)
			nm_record_free(&r);
		say_error(f, err.msg);
		return -1;
	}
	if (rc == -ENOENT)
		return f->wanted == 2 ? 1 : 0; /* named, but no record */
	if (f->wanted && f->m->vers == 4) {
		rc = nm_fstab_move_of(&r, f->m, o->timeout_ms, &f->mv, &err);
		if (rc < 0)
			say_error(f, err.msg);
		f->moved = rc == 0;
	}
	nm_record_free(&r);
	return rc < 0 ? -1 : 0;
}

static int scan_mount(const struct fopts *o, struct fmount *f, struct unread *ur)
{
	struct nm_err err = { 0 };
	struct nm_fstab_unread *u = NULL;
	size_t nu = 0;
	int rc;

	rc = nm_fstab_scan_report(o->root, (const char *const *)f->mv.old, f->mv.nold,
				  f->mv.export_path, &f->hits, &f->n, &u, &nu, &err);
	if (rc < 0) {
		say_error(f, err.msg);
		return rc;
	}
	unread_merge(ur, u, nu);
	f->proposed = calloc(f->n ? f->n : 1, sizeof(char *));
	f->why = calloc(f->n ? f->n : 1, sizeof(char *));
	f->backup = calloc(f->n ? f->n : 1, sizeof(char *));
	f->applied = calloc(f->n ? f->n : 1, sizeof(int));
	if (!f->proposed || !f->why || !f->backup || !f->applied) {
		nm_fstab_hits_free(f->hits, f->n);
		f->hits = NULL;
		f->n = 0; /* nothing per hit to free */
		say_error(f, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* The record of a mount point an fstab line names that is not mounted
 * now: a claim too (a line below its export is its own), never preferred
 * for an equal export (whether it moved is not known). */
struct rclaim {
	char *target;
	struct nm_fstab_move names;
};

static size_t record_claims(const struct fopts *o, const struct fmount *fm, size_t nfm,
			    struct rclaim **out)
{
	struct rclaim *v = NULL;
	size_t n = 0;

	for (size_t k = 0; k < nfm; k++)
		for (size_t i = 0; i < fm[k].n; i++) {
			const struct nm_fstab_hit *h = &fm[k].hits[i];
			struct nm_err err = { 0 };
			struct nm_record r;
			struct nm_mount m = { 0 };
			struct rclaim *nv;
			bool known = false;

			if (h->kind != NM_FSTAB_FSTAB || !h->key || h->key[0] != '/')
				continue;
			for (size_t j = 0; j < nfm && !known; j++)
				known = strcmp(fm[j].m->target, h->key) == 0;
			for (size_t j = 0; j < n && !known; j++)
				known = strcmp(v[j].target, h->key) == 0;
			if (known || nm_store_load(o->state_dir, h->key, &r, &err) != 0)
				continue;
			m.target = h->key;
			m.source = r.source;
			m.export_path = r.export_path;
			m.server = r.cur_server;
			nv = realloc(v, (n + 1) * sizeof(*v));
			if (nv) {
				v = nv;
				v[n].target = strdup(h->key);
				if (v[n].target &&
				    nm_fstab_names_of(&r, &m, &v[n].names, &err) == 0)
					n++;
				else
					free(v[n].target);
			}
			nm_record_free(&r);
		}
	*out = v;
	return n;
}

static void rclaims_free(struct rclaim *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].target);
		nm_fstab_move_free(&v[i].names);
	}
	free(v);
}

/* Keep only the hits each mount owns (nm_fstab_owner over every NFS mount
 * and the records of fstab's mount points not mounted: a line below a
 * nested export is that export's, moved or not), and propose their new
 * lines. */
static void own_and_propose(struct fmount *fm, size_t nfm, const struct rclaim *rc, size_t nrc)
{
	struct nm_fstab_claim *c = calloc(nfm + nrc + 1, sizeof(*c));

	for (size_t k = 0; c && k < nfm; k++) {
		const struct nm_fstab_move *nm = fm[k].moved ? &fm[k].mv : &fm[k].names;

		c[k] = (struct nm_fstab_claim){ (const char *const *)nm->old, nm->nold,
						nm->export_path, fm[k].m->target, fm[k].moved };
	}
	/* After the mounts, no mount point to be preferred by: an equal
	 * export stays the mount's. */
	for (size_t k = 0; c && k < nrc; k++)
		c[nfm + k] = (struct nm_fstab_claim){ (const char *const *)rc[k].names.old,
						      rc[k].names.nold, rc[k].names.export_path,
						      NULL, false };
	for (size_t k = 0; k < nfm; k++) {
		struct fmount *f = &fm[k];
		size_t kept = 0;

		for (size_t i = 0; i < f->n; i++) {
			struct nm_err err = { 0 };

			if (c && nm_fstab_owner(&f->hits[i], c, nfm + nrc) != (long)k) {
				struct nm_fstab_hit *h = &f->hits[i];

				free(h->file), free(h->entry), free(h->key), free(h->spans);
				continue;
			}
			f->hits[kept] = f->hits[i];
			if (nm_fstab_propose(&f->hits[kept], f->mv.new_server, f->mv.new_path,
					     &f->proposed[kept], &err) < 0)
				f->why[kept] = strdup(err.msg);
			kept++;
		}
		f->n = kept;
	}
	free(c);
}

/* Every file once: all the rewritable lines of every mount in it, one
 * rewrite, one backup.  Returns the failures. */
static int apply_all(const struct fopts *o, struct fmount *fm, size_t nfm)
{
	int fails = 0;

	for (size_t k = 0; k < nfm; k++)
		for (size_t i = 0; i < fm[k].n; i++) {
			const char *file = fm[k].hits[i].file;
			const struct nm_fstab_hit **hits;
			const char **lines;
			struct nm_err err = { 0 };
			char *backup = NULL;
			size_t cnt = 0, total = 0;
			int rc;

			if (!fm[k].proposed[i] || fm[k].applied[i] || fm[k].why[i])
				continue;
			for (size_t kk = 0; kk < nfm; kk++)
				total += fm[kk].n;
			hits = calloc(total, sizeof(*hits));
			lines = calloc(total, sizeof(*lines));
			if (!hits || !lines) {
				free(hits), free(lines);
				return fails + 1;
			}
			for (size_t kk = k; kk < nfm; kk++)
				for (size_t j = 0; j < fm[kk].n; j++)
					if (fm[kk].proposed[j] && !fm[kk].why[j] &&
					    strcmp(fm[kk].hits[j].file, file) == 0) {
						hits[cnt] = &fm[kk].hits[j];
						lines[cnt++] = fm[kk].proposed[j];
					}
			rc = nm_fstab_rewrite_lines(o->root, file, hits, lines, cnt, &backup, &err);
			free(hits);
			free(lines);
			if (rc < 0) {
				nm_out_printf(stderr, "nfsmig: %s: not rewritten: %s\n", file,
					      err.msg);
				fails++;
			} else if (rc == NM_AFILE_UNSYNCED) {
				nm_out_printf(stderr,
					      "nfsmig: %s: rewritten, directory not synced: %s\n",
					      file, err.msg);
				fails++;
			}
			for (size_t kk = k; kk < nfm; kk++)
				for (size_t j = 0; j < fm[kk].n; j++)
					if (fm[kk].proposed[j] && !fm[kk].why[j] &&
					    strcmp(fm[kk].hits[j].file, file) == 0) {
						if (rc < 0 || rc == NM_AFILE_UNSYNCED)
							fm[kk].why[j] = strdup(err.msg);
						if (rc >= 0) {
							fm[kk].applied[j] = rc == 0 ? 1 : 2;
							fm[kk].backup[j] =
								backup ? strdup(backup) : NULL;
						} else {
							fm[kk].applied[j] = -1;
						}
					}
			if (!o->json && rc >= 0)
				nm_out_printf(
					stdout,
					"rewrote %s (%zu line%s)%s, the original kept as %s\n",
					file, cnt, cnt == 1 ? "" : "s",
					rc == NM_AFILE_UNSYNCED ? ", directory not synced" : "",
					backup ? backup : "(none)");
			free(backup);
		}
	return fails;
}

static void print_text(const struct fmount *f)
{
	nm_out_printf(stdout, "%s: moved from %s to %s", f->m->target, f->mv.old[0],
		      f->mv.new_server);
	if (f->mv.new_path)
		nm_out_printf(stdout, " (export %s now %s)", f->mv.export_path, f->mv.new_path);
	nm_out_printf(stdout, "\n");
	for (size_t i = 0; i < f->n; i++) {
		nm_out_printf(stdout, "  %s:%u\n    - %s\n", f->hits[i].file, f->hits[i].line,
			      f->hits[i].entry);
		if (f->proposed[i])
			nm_out_printf(stdout, "    + %s\n", f->proposed[i]);
		else
			nm_out_printf(stdout, "    cannot be rewritten: %s\n",
				      f->why[i] ? f->why[i] : "out of memory");
	}
}

static void print_json(const struct fmount *fm, size_t nfm, const struct unread *ur, size_t changes,
		       bool apply, bool applied)
{
	size_t shown = 0;

	nm_out_printf(stdout, "{\n   \"mounts\": [");
	for (size_t k = 0; k < nfm; k++) {
		const struct fmount *f = &fm[k];

		if (!f->moved && !f->error)
			continue;
		nm_out_printf(stdout, "%s\n      {\"mountpoint\": ", shown++ ? "," : "");
		nm_json_str(stdout, f->m->target);
		if (f->error) {
			nm_out_printf(stdout, ", \"error\": ");
			nm_json_str(stdout, f->error);
		}
		if (!f->moved) {
			nm_out_printf(stdout, "}");
			continue;
		}
		nm_out_printf(stdout, ", \"from\": [");
		for (size_t i = 0; i < f->mv.nold; i++) {
			nm_out_printf(stdout, "%s", i ? ", " : "");
			nm_json_str(stdout, f->mv.old[i]);
		}
		nm_out_printf(stdout, "], \"to\": ");
		nm_json_str(stdout, f->mv.new_server);
		nm_out_printf(stdout, ", \"export_path\": ");
		nm_json_str(stdout, f->mv.export_path);
		nm_out_printf(stdout, ", \"new_path\": ");
		if (f->mv.new_path)
			nm_json_str(stdout, f->mv.new_path);
		else
			nm_out_printf(stdout, "null");
		nm_out_printf(stdout, ",\n       \"fstab\": [");
		for (size_t i = 0; i < f->n; i++) {
			nm_out_printf(stdout, "%s\n         {\"file\": ", i ? "," : "");
			nm_json_str(stdout, f->hits[i].file);
			nm_out_printf(stdout, ", \"line\": %u, \"key\": ", f->hits[i].line);
			nm_json_str(stdout, f->hits[i].key ? f->hits[i].key : "");
			nm_out_printf(stdout, ", \"entry\": ");
			nm_json_str(stdout, f->hits[i].entry);
			nm_out_printf(stdout, ", \"proposed\": ");
			if (f->proposed[i])
				nm_json_str(stdout, f->proposed[i]);
			else
				nm_out_printf(stdout, "null");
			if (!f->proposed[i] || f->why[i]) {
				nm_out_printf(stdout, ", \"error\": ");
				nm_json_str(stdout, f->why[i] ? f->why[i] : "out of memory");
			}
			if (apply) {
				nm_out_printf(stdout, ", \"applied\": %s, \"backup\": ",
					      f->applied[i] > 0 ? "true" : "false");
				if (f->backup[i])
					nm_json_str(stdout, f->backup[i]);
				else
					nm_out_printf(stdout, "null");
			}
			nm_out_printf(stdout, "}");
		}
		nm_out_printf(stdout, f->n ? "\n       ]}" : "]}");
	}
	nm_out_printf(stdout, shown ? "\n   ]" : "]");
	nm_out_printf(stdout, ",\n   \"unread\": [");
	for (size_t i = 0; i < ur->n; i++) {
		nm_out_printf(stdout, "%s{\"file\": ", i ? ", " : "");
		nm_json_str(stdout, ur->v[i].file);
		nm_out_printf(stdout, ", \"error\": ");
		nm_json_str(stdout, ur->v[i].error);
		nm_out_printf(stdout, "}");
	}
	nm_out_printf(stdout, "],\n   \"changes\": %zu,\n   \"applied\": %s\n}\n", changes,
		      applied ? "true" : "false");
}

int nm_cmd_fstab(int argc, char **argv)
{
	enum { OPT_MOUNTINFO = 256, OPT_STATEDIR, OPT_ROOT, OPT_APPLY };
	static const struct option longopts[] = {
		{ "mountinfo", required_argument, NULL, OPT_MOUNTINFO },
		{ "state-dir", required_argument, NULL, OPT_STATEDIR },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "apply", no_argument, NULL, OPT_APPLY },
		{ "json", no_argument, NULL, 'J' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fopts o = { .root = "/", .timeout_ms = 2000 };
	struct nm_mount *all = NULL;
	struct fmount *fm = NULL;
	struct nm_err err = { 0 };
	char **targets = NULL;
	struct unread ur = { 0 };
	struct rclaim *rcl = NULL;
	size_t nrc = 0;
	size_t n = 0, nfm = 0, changes = 0, unfit = 0, norecord = 0;
	int c, ret = NM_EXIT_OK, fails = 0, afails = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "Jt:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MOUNTINFO: o.mountinfo = optarg; break;
		case OPT_STATEDIR: o.state_dir = optarg; break;
		case OPT_ROOT: o.root = optarg; break;
		case OPT_APPLY: o.apply = true; break;
		case 'J': o.json = true; break;
		case 't':
			o.timeout_ms = nm_opt_seconds("--timeout", optarg, 10, 600000);
			if (o.timeout_ms < 0)
				return NM_EXIT_USAGE;
			break;
		case 'h': nm_command_usage(nm_command_find("fstab"), 0); return NM_EXIT_OK;
		default: nm_opt_bad(argv); return NM_EXIT_USAGE;
		}
	}
	if (!o.state_dir) {
		nm_opt_default_state_dir(o.conf_state_dir, sizeof(o.conf_state_dir));
		o.state_dir = o.conf_state_dir;
	}
	if (o.root[0] != '/') {
		nm_out_printf(stderr, "nfsmig: --root must be an absolute path: %s\n", o.root);
		return NM_EXIT_USAGE;
	}
	/* The mounts named, by their mount points. */
	if (optind < argc) {
		targets = calloc((size_t)(argc - optind) + 1, sizeof(char *));
		if (!targets)
			return NM_EXIT_FAIL;
		for (int i = optind; i < argc; i++) {
			struct nm_mount m;
			char *sp = NULL;

			if (nm_mount_find(o.mountinfo, argv[i], &m, &sp, &err) < 0) {
				nm_out_printf(stderr, "nfsmig: %s\n", err.msg);
				ret = NM_EXIT_FAIL;
				goto out;
			}
			free(sp);
			targets[i - optind] = strdup(m.target);
			nm_mount_free(&m);
		}
	}
	if (nm_mount_list(o.mountinfo, &all, &n, &err) < 0) {
		nm_out_printf(stderr, "nfsmig: %s\n", err.msg);
		ret = NM_EXIT_FAIL;
		goto out;
	}
	fm = calloc(n ? n : 1, sizeof(*fm));
	if (!fm) {
		ret = NM_EXIT_FAIL;
		goto out;
	}
	/* Every NFS mount: a claim on the lines below its export. */
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (all[i].vers != 4 && all[i].vers != 3 && all[i].vers != 0)
			continue;
		fm[nfm].m = &all[i];
		fm[nfm].wanted = !targets;
		for (char **t = targets; t && *t; t++)
			if (strcmp(*t, all[i].target) == 0)
				fm[nfm].wanted = 2; /* named */
		rc = load_mount(&o, &fm[nfm]);
		if (rc < 0)
			fails++;
		if (rc == 1) {
			nm_out_printf(stderr, "nfsmig: %s: no record (never registered)\n",
				      all[i].target);
			norecord++;
		}
		nfm++;
	}
	for (size_t k = 0; k < nfm; k++)
		if (fm[k].moved && scan_mount(&o, &fm[k], &ur) < 0) {
			fails++;
			fm[k].moved = false;
		}
	nrc = record_claims(&o, fm, nfm, &rcl);
	own_and_propose(fm, nfm, rcl, nrc);
	rclaims_free(rcl, nrc);
	for (size_t k = 0; k < nfm; k++)
		for (size_t i = 0; i < fm[k].n; i++) {
			changes += fm[k].proposed[i] != NULL;
			unfit += fm[k].proposed[i] == NULL;
		}
	for (size_t i = 0; i < ur.n; i++)
		nm_out_printf(stderr, "nfsmig: %s: not read: %s\n", ur.v[i].file, ur.v[i].error);
	if (!o.json)
		for (size_t k = 0; k < nfm; k++)
			if (fm[k].moved)
				print_text(&fm[k]);
	if (o.apply)
		afails = apply_all(&o, fm, nfm);
	if (o.json)
		print_json(fm, nfm, &ur, changes, o.apply, o.apply && !afails);
	else if (changes == 0 && unfit == 0 && ur.n == 0 && !norecord && !fails)
		nm_out_printf(stdout, "no fstab or autofs map line names an old server\n");
	else if (!o.apply && changes)
		nm_out_printf(stdout,
			      "%zu line%s to change: nfsmig fstab --apply rewrites %s (a backup of "
			      "each file kept)\n",
			      changes, changes == 1 ? "" : "s", changes == 1 ? "it" : "them");
	if (fails || afails || unfit || ur.n || norecord)
		ret = NM_EXIT_FAIL;
	else if (changes && !o.apply)
		ret = NM_EXIT_WARN;
out:
	for (size_t k = 0; k < nfm; k++)
		fmount_free(&fm[k]);
	free(fm);
	nm_fstab_unread_free(ur.v, ur.n);
	nm_mount_list_free(all, n);
	for (char **t = targets; t && *t; t++)
		free(*t);
	free(targets);
	return ret;
}
