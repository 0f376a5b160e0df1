/* nfsmig status [-J]: is nfsmigd running, what it watches, its last event. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "nm_conf.h"
#include "nm_ctl.h"
#include "nm_event.h"
#include "nm_json.h"
#include "opts.h"
#include "output.h"

/* The daemon could not be asked (its socket is root's): neither running
 * nor not running. */
#define STATUS_EXIT_UNKNOWN 4

static int keep_last(struct json_object *ev, void *arg)
{
	struct json_object **last = arg;

	json_object_put(*last);
	*last = json_object_get(ev);
	return 0;
}

static const char *field(struct json_object *ev, const char *key)
{
	struct json_object *v;

	if (!ev || !json_object_object_get_ex(ev, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static void uptime(int64_t secs, char *buf, size_t cap)
{
	if (secs < 0)
		secs = 0;
	if (secs >= 86400)
		snprintf(buf, cap, "%" PRId64 "d %" PRId64 "h", secs / 86400, secs % 86400 / 3600);
	else if (secs >= 3600)
		snprintf(buf, cap, "%" PRId64 "h %" PRId64 "m", secs / 3600, secs % 3600 / 60);
	else
		snprintf(buf, cap, "%" PRId64 "m %" PRId64 "s", secs / 60, secs % 60);
}

int nm_cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct nm_conf conf;
	struct nm_ctl_status st;
	struct nm_err err = { 0 }, cerr = { 0 };
	struct json_object *last = NULL;
	char state_dir[NM_CONF_PATH_MAX] = "", sock[NM_CONF_PATH_MAX] = "", up[64] = "",
	     when[64] = "-";
	bool json = false, running, denied;
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+JS:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'J': json = true; break;
		case 'S': snprintf(state_dir, sizeof(state_dir), "%s", optarg); break;
		case 's': snprintf(sock, sizeof(sock), "%s", optarg); break;
		case 'h': nm_command_usage(nm_command_find("status"), 0); return NM_EXIT_OK;
		default: nm_opt_bad(argv); return NM_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		nm_command_usage(nm_command_find("status"), 1);
		return NM_EXIT_USAGE;
	}
	nm_conf_defaults(&conf);
	if (nm_conf_load(&conf, NM_CONF_DEFAULT, true, &cerr) < 0)
		nm_out_printf(stderr, "nfsmig: %s (the defaults used)\n", cerr.msg);
	if (!state_dir[0])
		snprintf(state_dir, sizeof(state_dir), "%s", conf.state_dir);
	if (!sock[0])
		snprintf(sock, sizeof(sock), "%s", conf.socket);
	rc = nm_ctl_status(sock, 1000, 2000, &st, &err);
	running = rc == 0;
	/* -EACCES: the socket's permissions keep us out (not root); -EPERM is
	 * nm_ctl's "the listener is not root's daemon": said, not a
	 * permission of ours. */
	denied = rc == -EACCES;
	if (running)
		uptime((int64_t)time(NULL) - st.started, up, sizeof(up));
	if (nm_event_read(state_dir, NULL, keep_last, &last, NULL) >= 0 && last) {
		int64_t ms = nm_event_time_ms(last);
		time_t t = (time_t)(ms / 1000);
		struct tm tm;

		if (ms >= 0 && localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	}
	if (json) {
		nm_out_printf(stdout, "{\n   \"running\": %s",
			      running  ? "true"
			      : denied ? "null"
				       : "false");
		if (running) {
			nm_out_printf(stdout,
				      ",\n   \"pid\": %ld,\n   \"started\": %" PRId64
				      ",\n   \"uptime\": %" PRId64 ",\n   \"sources\": [",
				      st.pid, st.started, (int64_t)time(NULL) - st.started);
			char *save = NULL, *src = strdup(st.sources);
			int k = 0;

			for (char *tok = src && strcmp(st.sources, "none")
						 ? strtok_r(src, ",", &save)
						 : NULL;
			     tok; tok = strtok_r(NULL, ",", &save)) {
				nm_out_printf(stdout, "%s", k++ ? ", " : "");
				nm_json_str(stdout, tok);
			}
			free(src);
			nm_out_printf(
				stdout,
				"],\n   \"cache\": %lu,\n   \"lookups\": %lu,\n   \"hits\": %lu,"
				"\n   \"scans\": %lu,\n   \"jobs\": %lu,\n   "
				"\"failed_migrations\": "
				"%lu",
				st.cache, st.lookups, st.hits, st.scans, st.jobs, st.fails);
		} else {
			nm_out_printf(stdout, ",\n   \"why\": ");
			nm_json_str(stdout, err.msg);
		}
		nm_out_printf(stdout, ",\n   \"last_event\": %s\n}\n",
			      last ? json_object_to_json_string_ext(
					     last, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE)
				   : "null");
	} else {
		if (running) {
			nm_out_printf(stdout, "nfsmigd:     running (pid %ld, up %s)\n", st.pid,
				      up);
			nm_out_printf(stdout, "sources:     %s\n", st.sources);
			nm_out_printf(stdout,
				      "cache:       %lu names (%lu lookups, %lu from the cache)\n",
				      st.cache, st.lookups, st.hits);
			nm_out_printf(
				stdout,
				"watcher:     %lu scans, %lu jobs, %lu failed migrations seen\n",
				st.scans, st.jobs, st.fails);
		} else if (denied) {
			nm_out_printf(
				stdout,
				"nfsmigd:     unknown: cannot ask the daemon (permission: %s; "
				"run as root)\n",
				err.msg);
		} else if (rc == -EPERM) {
			nm_out_printf(stdout,
				      "nfsmigd:     not asked: another user's program listens on "
				      "the socket (%s)\n",
				      err.msg);
		} else {
			nm_out_printf(stdout, "nfsmigd:     not running (%s)\n", err.msg);
		}
		if (last) {
			const char *from = field(last, "from"), *to = field(last, "to");

			nm_out_printf(stdout, "last event:  %s %s %s", when,
				      field(last, "event") ? field(last, "event") : "-",
				      field(last, "mountpoint") ? field(last, "mountpoint") : "-");
			if (from || to)
				nm_out_printf(stdout, " %s -> %s", from ? from : "?",
					      to ? to : "?");
			if (field(last, "trigger"))
				nm_out_printf(stdout, " trigger=%s", field(last, "trigger"));
			nm_out_printf(stdout, "\n");
		} else {
			nm_out_printf(stdout, "last event:  none\n");
		}
	}
	json_object_put(last);
	return running ? NM_EXIT_OK : denied ? STATUS_EXIT_UNKNOWN : NM_EXIT_FAIL;
}
