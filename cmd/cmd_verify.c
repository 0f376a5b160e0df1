/* nfsmig verify [MOUNT...]: a verdict per mount after a cutover. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "nm_conf.h"
#include "nm_mount.h"
#include "nm_prom.h"
#include "nm_verify.h"
#include "opts.h"
#include "output.h"

enum { VC_TARGET, VC_VERDICT, VC_CHECK0 };

/* --prometheus FILE: each mount's gauges, as nfsmigd writes them. */
static int write_prom(const char *path, const struct nm_verify_item *items, size_t n)
{
	struct nm_prom_mount *pm = calloc(n ? n : 1, sizeof(*pm));
	struct nm_prom_doc d = { .mounts = pm, .nmounts = n };
	struct nm_err err = { 0 };
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (!pm) {
		fprintf(stderr, "nfsmig: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		nm_prom_mount_of(&items[i].m, items[i].have_rec ? &items[i].rec : NULL,
				 (int)items[i].verdict, &pm[i]);
	rc = nm_prom_format(&d, &text, &len, &err);
	if (rc == 0)
		rc = nm_prom_write(path, text, len, &err);
	if (rc < 0)
		nm_out_printf(stderr, "nfsmig: --prometheus: %s\n", err.msg);
	free(text);
	free(pm);
	return rc;
}

int nm_cmd_verify(int argc, char **argv)
{
	enum {
		OPT_MOUNTINFO = 256,
		OPT_STATEDIR,
		OPT_TO,
		OPT_SOURCE,
		OPT_NOUPDATE,
		OPT_INTERVAL,
		OPT_MOUNTSTATS,
		OPT_PROMETHEUS
	};
	static const struct option longopts[] = {
		{ "mountinfo", required_argument, NULL, OPT_MOUNTINFO },
		{ "state-dir", required_argument, NULL, OPT_STATEDIR },
		{ "to", required_argument, NULL, OPT_TO },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "no-update", no_argument, NULL, OPT_NOUPDATE },
		{ "state-interval", required_argument, NULL, OPT_INTERVAL },
		{ "mountstats", required_argument, NULL, OPT_MOUNTSTATS },
		{ "prometheus", required_argument, NULL, OPT_PROMETHEUS },
		{ "json", no_argument, NULL, 'J' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct nm_verify_opts vo = { .timeout_ms = 10000,
				     .update_record = true,
				     .state_interval_ms = 1000 };
	struct nm_verify_stats stats;
	struct nm_verify_item *items = NULL;
	struct nm_err err = { 0 };
	char state_dir[NM_CONF_PATH_MAX];
	const char *mountinfo = NULL, *prom = NULL;
	size_t n = 0, counts[4] = { 0 };
	bool json = false, verbose = false;
	int c, ret;

	nm_opt_default_state_dir(state_dir, sizeof(state_dir));
	vo.state_dir = state_dir;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "Jt:vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MOUNTINFO: mountinfo = optarg; break;
		case OPT_STATEDIR: vo.state_dir = optarg; break;
		case OPT_TO: vo.to = optarg; break;
		case OPT_SOURCE: vo.source = optarg; break;
		case OPT_NOUPDATE: vo.update_record = false; break;
		case OPT_INTERVAL:
			vo.state_interval_ms =
				nm_opt_seconds("--state-interval", optarg, 0, 600000);
			if (vo.state_interval_ms < 0)
				return NM_EXIT_USAGE;
			break;
		case OPT_MOUNTSTATS:
			if (vo.mountstats_after) {
				fprintf(stderr, "nfsmig: --mountstats given more than twice\n");
				return NM_EXIT_USAGE;
			}
			if (vo.mountstats_before)
				vo.mountstats_after = optarg;
			else
				vo.mountstats_before = optarg;
			break;
		case OPT_PROMETHEUS:
			if (!*optarg) {
				fprintf(stderr, "nfsmig: --prometheus: an empty file name\n");
				return NM_EXIT_USAGE;
			}
			prom = optarg;
			break;
		case 'J': json = true; break;
		case 'v': verbose = true; break;
		case 't':
			vo.timeout_ms = nm_opt_seconds("--timeout", optarg, 10, 3600000);
			if (vo.timeout_ms < 0)
				return NM_EXIT_USAGE;
			break;
		case 'h': nm_command_usage(nm_command_find("verify"), 0); return NM_EXIT_OK;
		default: nm_opt_bad(argv); return NM_EXIT_USAGE;
		}
	}
	/* The kernel's mountstats describe the kernel's mounts, not a saved table. */
	if (mountinfo && !vo.mountstats_before)
		vo.state_skip = "a saved mount table without --mountstats";
	if (optind < argc) {
		items = calloc((size_t)(argc - optind), sizeof(*items));
		for (int i = optind; items && i < argc; i++) {
			char *sp = NULL;

			if (nm_mount_find(mountinfo, argv[i], &items[n].m, &sp, &err) < 0) {
				nm_out_printf(stderr, "nfsmig: %s\n", err.msg);
				for (size_t k = 0; k < n; k++)
					nm_verify_item_free(&items[k]);
				free(items);
				return NM_EXIT_FAIL;
			}
			free(sp);
			n++;
		}
	} else {
		struct nm_mount *all = NULL;
		size_t na = 0;

		if (nm_mount_list(mountinfo, &all, &na, &err) < 0) {
			nm_out_printf(stderr, "nfsmig: %s\n", err.msg);
			return NM_EXIT_FAIL;
		}
		items = calloc(na ? na : 1, sizeof(*items));
		for (size_t i = 0; items && i < na; i++) {
			if (all[i].vers == 4)
				items[n++].m = all[i];
			else
				nm_mount_free(&all[i]);
		}
		free(all);
	}
	if (!items) {
		fprintf(stderr, "nfsmig: out of memory\n");
		return NM_EXIT_FAIL;
	}
	if (n == 0) {
		printf("no NFSv4 mount to verify\n");
		fflush(stdout);
		ret = prom && write_prom(prom, items, 0) < 0 ? NM_EXIT_FAIL : NM_EXIT_OK;
		free(items);
		return ret;
	}
	if (nm_verify_run(items, n, &vo, &stats, &err) < 0) {
		nm_out_printf(stderr, "nfsmig: verify: %s\n", err.msg);
		for (size_t i = 0; i < n; i++)
			nm_verify_item_free(&items[i]);
		free(items);
		return NM_EXIT_FAIL;
	}
	if (json) {
		struct libscols_table *tb = scols_new_table();

		scols_table_enable_json(tb, 1);
		scols_table_set_name(tb, "verify");
		scols_table_new_column(tb, "target", 0, 0);
		scols_table_new_column(tb, "verdict", 0, 0);
		for (int k = 0; k < NM_CHK_N; k++)
			scols_table_new_column(tb, nm_check_name(k), 0, 0);
		for (size_t i = 0; i < n; i++) {
			struct libscols_line *ln = scols_table_new_line(tb, NULL);

			nm_out_cell(ln, VC_TARGET, items[i].m.target, true, false);
			scols_line_set_data(ln, VC_VERDICT, nm_verdict_name(items[i].verdict));
			for (int k = 0; k < NM_CHK_N; k++) {
				char *cell = NULL;

				if (asprintf(&cell, "%s: %s", nm_verdict_name(items[i].chk[k].v),
					     items[i].chk[k].why) >= 0)
					nm_out_cell(ln, VC_CHECK0 + k, cell, true, false);
				free(cell);
			}
		}
		nm_out_print_table(tb, true);
		scols_unref_table(tb);
	} else {
		for (size_t i = 0; i < n; i++) {
			nm_out_printf(stdout, "%s: %s\n", items[i].m.target,
				      nm_verdict_name(items[i].verdict));
			for (int k = 0; k < NM_CHK_N; k++)
				nm_out_printf(stdout, "  %-12s %-4s  %s\n", nm_check_name(k),
					      nm_verdict_name(items[i].chk[k].v),
					      items[i].chk[k].why);
		}
	}
	for (size_t i = 0; i < n; i++)
		counts[items[i].verdict]++;
	if (!json)
		printf("%zu mount%s: %zu OK, %zu WARN, %zu FAIL\n", n, n == 1 ? "" : "s",
		       counts[NM_V_OK], counts[NM_V_WARN], counts[NM_V_FAIL]);
	fflush(stdout); /* the report first, whole, then the figures */
	if (verbose)
		fprintf(stderr, "nfsmig: %u destination server%s, %u RPCs to them\n", stats.servers,
			stats.servers == 1 ? "" : "s", stats.rpcs);
	ret = counts[NM_V_FAIL] ? NM_EXIT_FAIL : counts[NM_V_WARN] ? NM_EXIT_WARN : NM_EXIT_OK;
	/* The verdict in each record: nfsmigd's metrics show the last one. */
	for (size_t i = 0; vo.update_record && i < n; i++)
		if (nm_verify_record_verdict(vo.state_dir, &items[i], (int64_t)time(NULL), &err) <
		    0)
			nm_out_printf(stderr, "nfsmig: %s: the verdict not recorded: %s\n",
				      items[i].m.target, err.msg);
	if (prom && write_prom(prom, items, n) < 0)
		ret = NM_EXIT_FAIL;
	for (size_t i = 0; i < n; i++)
		nm_verify_item_free(&items[i]);
	free(items);
	return ret;
}
