/* nfsmig events [-f] [-J] [--since T] [MOUNT]: the event log of nfsmigd. */
#include <errno.h>
#include <getopt.h>
#include <json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "nm_conf.h"
#include "nm_event.h"
#include "nm_mpath.h"
#include "opts.h"
#include "output.h"

struct show {
	bool json;
	int failed; /* stdout went away */
};

/* A key's value as text: a string as it is, anything else as JSON; NULL
 * when absent or null. */
static const char *field(struct json_object *ev, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(ev, key, &v) || !v)
		return NULL;
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

static void show_text(struct json_object *ev)
{
	struct json_object *v, *verdict;
	const char *from = field(ev, "from"), *to = field(ev, "to");
	const char *s;
	int64_t ms = nm_event_time_ms(ev);
	char when[64] = "-";

	if (ms >= 0) {
		time_t t = (time_t)(ms / 1000);
		struct tm tm;

		if (localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	}
	/* nm_out_printf escapes every %s: nothing of the log reaches the
	 * terminal raw. */
	const char *kind = field(ev, "event"), *mnt = field(ev, "mountpoint");

	nm_out_printf(stdout, "%s %s %s", when, kind ? kind : "-", mnt ? mnt : "-");
	if (from || to)
		nm_out_printf(stdout, " %s -> %s", from ? from : "?", to ? to : "?");
	if ((s = field(ev, "trigger")))
		nm_out_printf(stdout, " trigger=%s", s);
	if (json_object_object_get_ex(ev, "verify", &v) &&
	    json_object_object_get_ex(v, "verdict", &verdict))
		nm_out_printf(stdout, " verify=%s", json_object_get_string(verdict));
	if (json_object_object_get_ex(ev, "fstab", &v) && json_object_is_type(v, json_type_array) &&
	    json_object_array_length(v) > 0)
		nm_out_printf(stdout, " fstab=%zu", json_object_array_length(v));
	if ((s = field(ev, "message")))
		nm_out_printf(stdout, " %s", s);
	fputc('\n', stdout);
}

static int show(struct json_object *ev, void *arg)
{
	struct show *sh = arg;

	if (sh->json) {
		char *line;
		size_t len;

		/* As the log holds it: json-c's text, every character nm_esc
		 * escapes as \uXXXX (nm_event_line). */
		if (nm_event_line(ev, &line, &len, NULL) < 0)
			return 0;
		fwrite(line, 1, len, stdout);
		free(line);
	} else {
		show_text(ev);
	}
	/* Followed live: each event as it comes, even into a pipe. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		sh->failed = 1;
		return -EPIPE;
	}
	return 0;
}

/* MOUNT as the events name it: absolute, without ".", ".." or repeated
 * slashes, as text (nm_mpath_resolve without ops): the mount is not looked
 * at, it may be dead. */
static char *mount_arg(const char *arg, struct nm_err *err)
{
	char cwd[4096];
	char *out = NULL;

	if (arg[0] != '/' && !getcwd(cwd, sizeof(cwd))) {
		nm_err_set(err, -errno, "%s: the current directory: %s", arg, strerror(errno));
		return NULL;
	}
	if (nm_mpath_resolve(NULL, 0, arg, arg[0] == '/' ? "/" : cwd, NULL, &out, err) < 0)
		return NULL;
	return out;
}

/* -f: until Ctrl-C (SIGINT) or SIGTERM, read from a signalfd. */
static int follow(const char *state_dir, const struct nm_event_filter *f, struct show *sh)
{
	struct nm_err err = { 0 };
	sigset_t set;
	int sfd, rc;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || (sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		nm_out_printf(stderr, "nfsmig: events -f: %s\n", strerror(errno));
		return NM_EXIT_FAIL;
	}
	rc = nm_event_follow(state_dir, f, show, sh, sfd, -1, &err);
	close(sfd);
	if (rc < 0 && !sh->failed) {
		nm_out_printf(stderr, "nfsmig: %s\n", err.msg);
		return NM_EXIT_FAIL;
	}
	return NM_EXIT_OK;
}

int nm_cmd_events(int argc, char **argv)
{
	enum { OPT_STATEDIR = 256, OPT_SINCE };
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, OPT_STATEDIR },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "follow", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct nm_event_filter f = { 0 };
	struct show sh = { 0 };
	struct nm_err err = { 0 };
	char state_dir[NM_CONF_PATH_MAX], *mnt = NULL;
	const char *dir = NULL;
	bool follow_opt = false;
	struct timespec now;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "fJh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_STATEDIR: dir = optarg; break;
		case OPT_SINCE:
			clock_gettime(CLOCK_REALTIME, &now);
			if (nm_event_parse_since(optarg,
						 (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000,
						 &f.since_ms) < 0) {
				nm_out_printf(
					stderr,
					"nfsmig: --since takes seconds since the epoch, a date "
					"(2026-11-25, 2026-11-25T10:00:00), a time ago (10m, "
					"2h, 1d) or now, not '%s'\n",
					optarg);
				return NM_EXIT_USAGE;
			}
			break;
		case 'f': follow_opt = true; break;
		case 'J': sh.json = true; break;
		case 'h': nm_command_usage(nm_command_find("events"), 0); return NM_EXIT_OK;
		default: nm_opt_bad(argv); return NM_EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		nm_command_usage(nm_command_find("events"), 1);
		return NM_EXIT_USAGE;
	}
	if (argc - optind == 1) {
		mnt = mount_arg(argv[optind], &err);
		if (!mnt) {
			nm_out_printf(stderr, "nfsmig: %s\n", err.msg);
			return NM_EXIT_USAGE;
		}
		f.mountpoint = mnt;
	}
	if (!dir) {
		nm_opt_default_state_dir(state_dir, sizeof(state_dir));
		dir = state_dir;
	}
	if (follow_opt) {
		rc = follow(dir, &f, &sh);
		free(mnt);
		return rc;
	}
	rc = nm_event_read(dir, &f, show, &sh, &err);
	free(mnt);
	if (rc < 0 && !sh.failed) {
		nm_out_printf(stderr, "nfsmig: %s\n", err.msg);
		return NM_EXIT_FAIL;
	}
	if (rc > 0)
		nm_out_printf(stderr,
			      "nfsmig: %d line%s of %s/events.log* %s not an event: skipped\n", rc,
			      rc == 1 ? "" : "s", dir, rc == 1 ? "is" : "are");
	return sh.failed ? NM_EXIT_FAIL : NM_EXIT_OK;
}
