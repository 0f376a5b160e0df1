#include "opts.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "nm_conf.h"
#include "output.h"

int nm_opt_seconds(const char *opt, const char *s, int min_ms, int max_ms)
{
	int ms = nm_conf_parse_seconds(s, min_ms, max_ms);

	if (ms < 0) {
		char range[64];

		snprintf(range, sizeof(range), "%g to %g", min_ms / 1000.0, max_ms / 1000.0);
		nm_out_printf(stderr, "nfsmig: %s takes seconds (%s), not '%s'\n", opt, range, s);
	}
	return ms;
}

int nm_opt_nfsvers(const char *s)
{
	if (strcmp(s, "4") == 0)
		return -1;
	if (strcmp(s, "4.0") == 0)
		return 0;
	if (strcmp(s, "4.1") == 0)
		return 1;
	if (strcmp(s, "4.2") == 0)
		return 2;
	return -2;
}

void nm_opt_default_state_dir(char *buf, size_t len)
{
	struct nm_conf conf;
	struct nm_err err;

	nm_conf_defaults(&conf);
	nm_conf_load(&conf, NM_CONF_DEFAULT, true, &err);
	snprintf(buf, len, "%s", conf.state_dir);
}

void nm_opt_bad(char **argv)
{
	/* getopt's own message (opterr) would show the word raw. */
	if (optopt > 0 && optopt < 0x80 && optopt != '?')
		nm_out_printf(stderr, "nfsmig: option -%c is unknown or lacks its value\n",
			      (char)optopt);
	else
		nm_out_printf(stderr, "nfsmig: option '%s' is unknown or lacks its value\n",
			      argv[optind - 1]);
}
