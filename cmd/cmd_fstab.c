/* nfsmig fstab [--apply] [MOUNT...]: fstab and autofs map lines that still
 * mount a moved file system from its old server. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
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

/* One moved mount: its move and the lines found. */
struct fmount {
	const struct nm_mount *m;
	struct nm_fstab_move mv;
	struct nm_fstab_hit *hits;
	size_t n;
	char **proposed; /* per hit, NULL when it cannot be rewritten */
	char **why;	 /* per hit, why not */
	char **backup;	 /* per hit, the backup of its file once rewritten */
	int *applied;	 /* per hit */
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
	nm_fstab_hits_free(f->hits, f->n);
	nm_fstab_move_free(&f->mv);
}

/* Has an earlier mount claimed this line already (two moved mounts of one
 * export)?  The first one rewrites it. */
static bool claimed(const struct fmount *fm, size_t nfm, const struct nm_fstab_hit *h)
{
	for (size_t i = 0; i < nfm; i++)
		for (size_t j = 0; j < fm[i].n; j++)
			if (fm[i].hits[j].line == h->line &&
			    strcmp(fm[i].hits[j].file, h->file) == 0)
				return true;
	return false;
}

static int scan_mount(const struct fopts *o, const struct nm_mount *m, struct fmount *done,
		      size_t ndone, struct fmount *f)
{
	struct nm_err err = { 0 };
	struct nm_record r;
	struct nm_fstab_hit *hits = NULL;
	size_t n = 0, k = 0;
	int rc;

	memset(f, 0, sizeof(*f));
	f->m = m;
	rc = nm_store_load(o->state_dir, m->target, &r, &err);
	if (rc == -ENOENT)
		return 1; /* unregistered: no record of a move */
	if (rc < 0) {
		nm_out_printf(stderr, "nfsmig: %s\n", err.msg);
		return rc;
	}
	rc = nm_fstab_move_of(&r, m, o->timeout_ms, &f->mv, &err);
	nm_record_free(&r);
	if (rc) {
		if (rc < 0)
			nm_out_printf(stderr, "nfsmig: %s\n", err.msg);
		return rc;
	}
	rc = nm_fstab_scan_names(o->root, (const char *const *)f->mv.old, f->mv.nold,
				 f->mv.export_path, &hits, &n, &err);
	if (rc < 0) {
		nm_out_printf(stderr, "nfsmig: %s: %s\n", m->target, err.msg);
		nm_fstab_move_free(&f->mv);
		return rc;
	}
	if (rc == 1)
		nm_out_printf(stderr, "nfsmig: warning: not every file could be read: %s\n",
			      err.msg);
	f->hits = calloc(n ? n : 1, sizeof(*f->hits));
	f->proposed = calloc(n ? n : 1, sizeof(char *));
	f->why = calloc(n ? n : 1, sizeof(char *));
	f->backup = calloc(n ? n : 1, sizeof(char *));
	f->applied = calloc(n ? n : 1, sizeof(int));
	if (!f->hits || !f->proposed || !f->why || !f->backup || !f->applied) {
		nm_fstab_hits_free(hits, n);
		fmount_free(f);
		nm_out_printf(stderr, "nfsmig: out of memory\n");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (claimed(done, ndone, &hits[i])) {
			free(hits[i].file), free(hits[i].entry), free(hits[i].key),
				free(hits[i].spans);
			continue;
		}
		f->hits[k] = hits[i];
		if (nm_fstab_propose(&f->hits[k], f->mv.new_server, f->mv.new_path, &f->proposed[k],
				     &err) < 0)
			f->why[k] = strdup(err.msg);
		k++;
	}
	free(hits); /* its entries moved into f->hits */
	f->n = k;
	return 0;
}

static int apply_mount(const struct fopts *o, struct fmount *f)
{
	int fails = 0;

	for (size_t i = 0; i < f->n; i++) {
		struct nm_err err = { 0 };
		char *backup = NULL;
		bool first = true;
		size_t changed = 0;

		if (f->applied[i] || !f->proposed[i])
			continue;
		/* Once per file: every rewritable line of it in one go. */
		for (size_t j = 0; j < i; j++)
			first &= strcmp(f->hits[j].file, f->hits[i].file) != 0 || !f->proposed[j];
		if (!first)
			continue;
		{
			struct nm_fstab_hit *mine = calloc(f->n, sizeof(*mine));
			int rc;

			if (!mine)
				return -ENOMEM;
			for (size_t j = i; j < f->n; j++)
				if (f->proposed[j] && strcmp(f->hits[j].file, f->hits[i].file) == 0)
					mine[changed++] = f->hits[j]; /* shallow: borrowed */
			rc = nm_fstab_rewrite(o->root, f->hits[i].file, mine, changed,
					      f->mv.new_server, f->mv.new_path, &backup, &err);
			free(mine);
			if (rc < 0) {
				nm_out_printf(stderr, "nfsmig: %s: not rewritten: %s\n",
					      f->hits[i].file, err.msg);
				fails++;
				continue;
			}
		}
		for (size_t j = i; j < f->n; j++)
			if (f->proposed[j] && strcmp(f->hits[j].file, f->hits[i].file) == 0) {
				f->applied[j] = 1;
				f->backup[j] = backup ? strdup(backup) : NULL;
			}
		if (!o->json)
			nm_out_printf(stdout, "rewrote %s (%zu line%s), the original kept as %s\n",
				      f->hits[i].file, changed, changed == 1 ? "" : "s",
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

static void print_json(const struct fmount *fm, size_t nfm, size_t changes, bool apply)
{
	nm_out_printf(stdout, "{\n   \"mounts\": [");
	for (size_t k = 0; k < nfm; k++) {
		const struct fmount *f = &fm[k];

		nm_out_printf(stdout, "%s\n      {\"mountpoint\": ", k ? "," : "");
		nm_json_str(stdout, f->m->target);
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
			if (!f->proposed[i]) {
				nm_out_printf(stdout, ", \"error\": ");
				nm_json_str(stdout, f->why[i] ? f->why[i] : "out of memory");
			}
			if (apply) {
				nm_out_printf(stdout, ", \"applied\": %s, \"backup\": ",
					      f->applied[i] ? "true" : "false");
				if (f->backup[i])
					nm_json_str(stdout, f->backup[i]);
				else
					nm_out_printf(stdout, "null");
			}
			nm_out_printf(stdout, "}");
		}
		nm_out_printf(stdout, f->n ? "\n       ]}" : "]}");
	}
	nm_out_printf(stdout, nfm ? "\n   ]" : "]");
	nm_out_printf(stdout, ",\n   \"changes\": %zu,\n   \"applied\": %s\n}\n", changes,
		      apply ? "true" : "false");
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
	size_t n = 0, nfm = 0, changes = 0, unfit = 0;
	int c, ret = NM_EXIT_OK, fails = 0;

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
	for (size_t i = 0; i < n; i++) {
		bool wanted = !targets;
		int rc;

		for (char **t = targets; t && *t; t++)
			wanted |= strcmp(*t, all[i].target) == 0;
		if (!wanted || all[i].vers != 4)
			continue;
		rc = scan_mount(&o, &all[i], fm, nfm, &fm[nfm]);
		if (rc < 0)
			fails++;
		if (rc == 0)
			nfm++;
	}
	for (size_t k = 0; k < nfm; k++)
		for (size_t i = 0; i < fm[k].n; i++) {
			changes += fm[k].proposed[i] != NULL;
			unfit += fm[k].proposed[i] == NULL;
		}
	if (!o.json)
		for (size_t k = 0; k < nfm; k++)
			print_text(&fm[k]);
	if (o.apply)
		for (size_t k = 0; k < nfm; k++)
			fails += apply_mount(&o, &fm[k]);
	if (o.json)
		print_json(fm, nfm, changes, o.apply);
	else if (changes == 0 && unfit == 0)
		nm_out_printf(stdout, "no fstab or autofs map line names an old server\n");
	else if (!o.apply && changes)
		nm_out_printf(stdout,
			      "%zu line%s to change: nfsmig fstab --apply rewrites %s (a backup of "
			      "each file kept)\n",
			      changes, changes == 1 ? "" : "s", changes == 1 ? "it" : "them");
	if (fails || unfit)
		ret = NM_EXIT_FAIL;
	else if (changes && !o.apply)
		ret = NM_EXIT_WARN;
out:
	for (size_t k = 0; k < nfm; k++)
		fmount_free(&fm[k]);
	free(fm);
	nm_mount_list_free(all, n);
	for (char **t = targets; t && *t; t++)
		free(*t);
	free(targets);
	return ret;
}
