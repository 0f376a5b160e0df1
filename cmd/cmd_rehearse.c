/* nfsmig rehearse SPEC [--file SPEC]...: a client's view of a move (nm_rehearse). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "nm_conf.h"
#include "nm_dns.h"
#include "nm_json.h"
#include "nm_mount.h"
#include "nm_rehearse.h"
#include "opts.h"
#include "output.h"

#include <unistd.h>

static volatile sig_atomic_t stop_flag;

/* The first SIGINT/SIGTERM lets go (bounded); a second ends at once.
 * They are taken by a thread of their own (sigwait), blocked everywhere
 * else: libtirpc blocks every signal for the whole of a call, so a
 * handler would run only once the call is over. */
static void *signal_thread(void *arg)
{
	const sigset_t *set = arg;

	for (;;) {
		int sig;

		if (sigwait(set, &sig) != 0)
			continue;
		if (stop_flag)
			_exit(130);
		stop_flag = 1;
	}
	return NULL;
}

struct ui {
	bool json;
	size_t nfiles;
	int interval_ms;
	int wait_ms;
};

static void print_step(void *arg, const struct nm_reh_file *f, const struct nm_reh_step *s)
{
	const struct ui *ui = arg;

	if (ui->json)
		return;
	nm_out_printf(stdout, "+%" PRId64 ".%03" PRId64 " %s: ", s->time_ms / 1000,
		      s->time_ms % 1000, s->step);
	if (ui->nfiles > 1)
		nm_out_printf(stdout, "%s: ", f->spec);
	/* Names from the wire are in it escaped already (nm_fsloc_server):
	 * shown as they are, anything raw escaped, nothing escaped twice. */
	nm_out_stored(stdout, s->message);
	nm_out_printf(stdout, "%s%s%s%s\n", s->status == NM_REH_UNANSWERED ? " (not answered)" : "",
		      s->rpcs[0] ? " [" : "", s->rpcs, s->rpcs[0] ? "]" : "");
	fflush(stdout);
}

static void print_waiting(void *arg, const struct nm_reh_file *files, size_t n)
{
	const struct ui *ui = arg;
	size_t held = 0;

	for (size_t i = 0; i < n; i++)
		held += files[i].ans.held;
	if (ui->json)
		return;
	nm_out_printf(stdout,
		      "waiting for the move: holding OPEN+LOCK on %zu file%s, polling every %d ms "
		      "for up to %d.%03d s; Ctrl-C lets go\n",
		      held, held == 1 ? "" : "s", ui->interval_ms, ui->wait_ms / 1000,
		      ui->wait_ms % 1000);
	fflush(stdout);
}

static void print_progress(void *arg, int64_t time_ms, unsigned polls, size_t held, bool renewed)
{
	const struct ui *ui = arg;

	if (ui->json)
		return;
	nm_out_printf(
		stdout, "+%" PRId64 ".%03" PRId64 " wait: %zu file%s still held, %s (%u polls)\n",
		time_ms / 1000, time_ms % 1000, held, held == 1 ? "" : "s",
		renewed ? "the lease renewed" : "the last RENEW/SEQUENCE did not renew the lease",
		polls);
	fflush(stdout);
}

/* The port and version the mounts named so far gave (not --port or
 * --vers, which apply to all): one rehearsal speaks one of each. */
struct from_mounts {
	unsigned port;
	int minor;
	const char *port_spec, *minor_spec;
	bool port_given, minor_given; /* --port, --vers: they decide */
};

/* SERVER:/PATH/FILE, or MOUNT/FILE: the mount's server and export. */
static int file_spec(const char *arg, const char *mountinfo, struct nm_reh_file *f, unsigned *port,
		     int *minor, struct from_mounts *fm, struct nm_err *err)
{
	struct nm_mount m;
	char *spath = NULL;
	int rc;

	if (nm_reh_file_spec(arg, f, err) == 0)
		return 0;
	if (arg[0] != '/' && arg[0] != '.')
		return -EINVAL;
	nm_err_clear(err);
	rc = nm_mount_find(mountinfo, arg, &m, &spath, err);
	if (rc < 0)
		return rc;
	memset(f, 0, sizeof(*f));
	snprintf(f->spec, sizeof(f->spec), "%s", arg);
	snprintf(f->server, sizeof(f->server), "%s", m.server);
	snprintf(f->path, sizeof(f->path), "%s", spath ? spath : "");
	{
		unsigned mport = m.port ? m.port : 2049; /* not said: NFS's */

		if (!fm->port_given && fm->port_spec && mport != fm->port)
			rc = nm_err_set(err, -EINVAL,
					"'%s' is mounted on port %u, '%s' on port %u: one --port "
					"for all, please",
					arg, mport, fm->port_spec, fm->port);
		else if (!fm->minor_given && m.minor >= 0 && fm->minor_spec && m.minor != fm->minor)
			rc = nm_err_set(err, -EINVAL,
					"'%s' is mounted with NFSv4.%d, '%s' with NFSv4.%d: one "
					"--vers for all, please",
					arg, m.minor, fm->minor_spec, fm->minor);
		if (rc < 0) {
			free(spath);
			nm_mount_free(&m);
			return rc;
		}
		if (!fm->port_spec) {
			fm->port = mport;
			fm->port_spec = arg;
		}
		if (m.minor >= 0 && !fm->minor_spec) {
			fm->minor = m.minor;
			fm->minor_spec = arg;
		}
	}
	if (m.port && !*port)
		*port = m.port;
	if (*minor == -1 && m.minor >= 0)
		*minor = m.minor; /* the mount's version, as its clients speak */
	free(spath);
	nm_mount_free(&m);
	if (!strrchr(f->path, '/') || !strrchr(f->path, '/')[1])
		return nm_err_set(err, -EINVAL, "'%s' does not name a file", arg);
	return 0;
}

/* A string from the wire as JSON: valid UTF-8 (nm_json_utf8), and the
 * whole text written by nm_json_text (C1, bidi and format characters as
 * \u escapes), so nothing raw reaches a terminal or a JSON reader. */
static struct json_object *jstr(const char *s)
{
	char *u = nm_json_utf8(s ? s : "");
	struct json_object *o = json_object_new_string(u ? u : "");

	free(u);
	return o;
}

static void print_json(const struct nm_reh_result *r)
{
	struct json_object *top = json_object_new_object();
	struct json_object *files = json_object_new_array();
	struct json_object *clients = json_object_new_array();

	for (size_t i = 0; i < r->nfiles; i++) {
		const struct nm_reh_file *f = &r->files[i];
		struct json_object *o = json_object_new_object();
		struct json_object *locs = json_object_new_array();
		struct json_object *steps = json_object_new_array();

		json_object_object_add(o, "file", jstr(f->spec));
		json_object_object_add(o, "server", jstr(f->server));
		json_object_object_add(o, "path", jstr(f->path));
		json_object_object_add(o, "kind", jstr(nm_reh_kind_name(f->ans.kind)));
		for (unsigned k = 0; k < f->nlocs; k++) {
			struct json_object *l = json_object_new_object();

			json_object_object_add(l, "server", jstr(f->locs[k].server));
			json_object_object_add(l, "path", jstr(f->locs[k].path));
			json_object_array_add(locs, l);
		}
		json_object_object_add(o, "locations", locs);
		json_object_object_add(o, "destination",
				       f->destination[0] ? jstr(f->destination) : NULL);
		json_object_object_add(o, "state", jstr(nm_reh_state_name(f->verdict.state)));
		json_object_object_add(o, "lock_gap_ms",
				       f->ans.relock_ok ? json_object_new_int64(f->ans.lock_gap_ms)
							: NULL);
		json_object_object_add(o, "read_same",
				       f->ans.read_answered && f->ans.held
					       ? json_object_new_boolean(f->ans.read_same)
					       : NULL);
		json_object_object_add(o, "verdict", jstr(f->verdict.verdict));
		json_object_object_add(o, "kernel", jstr(f->verdict.kernel));
		for (unsigned k = 0; k < f->nsteps; k++) {
			const struct nm_reh_step *s = &f->steps[k];
			struct json_object *j = json_object_new_object();
			struct json_object *rpcs = json_object_new_array();
			char buf[sizeof(s->rpcs)], *save = NULL;

			snprintf(buf, sizeof(buf), "%s", s->rpcs);
			for (char *t = strtok_r(buf, ",;", &save); t;
			     t = strtok_r(NULL, ",;", &save))
				json_object_array_add(rpcs, jstr(t));
			json_object_object_add(j, "step", jstr(s->step));
			json_object_object_add(j, "time_ms", json_object_new_int64(s->time_ms));
			json_object_object_add(j, "rpcs", rpcs);
			json_object_object_add(j, "status", jstr(nm_reh_status_name(s->status)));
			json_object_object_add(j, "message", jstr(s->message));
			json_object_array_add(steps, j);
		}
		json_object_object_add(o, "steps", steps);
		json_object_array_add(files, o);
	}
	for (size_t k = 0; k < r->nclients; k++) {
		struct json_object *c = json_object_new_object();

		json_object_object_add(c, "server", jstr(r->clients[k].server));
		json_object_object_add(c, "minor", json_object_new_int((int)r->clients[k].minor));
		json_object_object_add(c, "file_systems",
				       json_object_new_int((int)r->clients[k].file_systems));
		json_object_object_add(c, "destination",
				       json_object_new_boolean(r->clients[k].destination));
		json_object_array_add(clients, c);
	}
	json_object_object_add(top, "files", files);
	json_object_object_add(top, "clients", clients);
	json_object_object_add(top, "interrupted", json_object_new_boolean(r->interrupted));
	nm_json_text(stdout,
		     json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	fputc('\n', stdout);
	json_object_put(top);
}

static void print_text(const struct nm_reh_result *r)
{
	for (size_t i = 0; i < r->nfiles; i++) {
		const struct nm_reh_file *f = &r->files[i];

		nm_out_printf(stdout, "verdict %s: %s\n", f->spec, f->verdict.verdict);
		nm_out_printf(stdout, "kernel: %s\n", f->verdict.kernel);
		if (f->ans.read_answered && f->ans.held)
			nm_out_printf(stdout, "read %s: %s\n", f->spec,
				      f->ans.read_same ? "same checksum" : "checksum differs");
		else if (f->ans.read_answered)
			nm_out_printf(stdout,
				      "read %s: %s on the destination (nothing to compare)\n",
				      f->spec, f->ans.read_ok ? "read" : "not readable");
	}
}

int nm_cmd_rehearse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "now", no_argument, NULL, 'N' },
		{ "vers", required_argument, NULL, 'V' },
		{ "sec", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "interval", required_argument, NULL, 'i' },
		{ "wait", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'J' },
		{ "mountinfo", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *specs[NM_REH_MAX_FILES];
	size_t nspecs = 0;
	struct nm_reh_opts o = {
		.minor = -1, .interval_ms = 1000, .wait_ms = 3600 * 1000, .timeout_ms = 10000
	};
	struct ui ui = { 0 };
	struct nm_conf conf;
	struct nm_err err = { 0 }, cerr = { 0 };
	struct nm_reh_result *r;
	sigset_t sigs, old_mask;
	pthread_t sig_th;
	unsigned port = 0;
	struct from_mounts fm = { .minor = -1 };
	const char *mountinfo = NULL;
	int c, rc;
	char *end;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:Jt:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (nspecs == NM_REH_MAX_FILES) {
				fprintf(stderr, "nfsmig: at most %d files\n", NM_REH_MAX_FILES);
				return NM_EXIT_USAGE;
			}
			specs[nspecs++] = optarg;
			break;
		case 'N': o.now = true; break;
		case 'V':
			o.minor = nm_opt_nfsvers(optarg);
			if (o.minor < -1) {
				nm_out_printf(stderr,
					      "nfsmig: --vers: '%s' is not 4.0, 4.1 or 4.2\n",
					      optarg);
				return NM_EXIT_USAGE;
			}
			break;
		case 's':
			if (strcmp(optarg, "sys") != 0) {
				nm_out_printf(
					stderr,
					"nfsmig: --sec: '%s' is not supported yet (only sys)\n",
					optarg);
				return NM_EXIT_USAGE;
			}
			o.sec = "sys";
			break;
		case 'p': {
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || v == 0 || v > 65535) {
				nm_out_printf(stderr, "nfsmig: --port: '%s' is not a port\n",
					      optarg);
				return NM_EXIT_USAGE;
			}
			port = (unsigned)v;
			break;
		}
		case 'i': {
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 10 || v > 600000) {
				nm_out_printf(stderr,
					      "nfsmig: --interval: '%s' is not milliseconds "
					      "(10-600000)\n",
					      optarg);
				return NM_EXIT_USAGE;
			}
			o.interval_ms = (int)v;
			break;
		}
		case 'w':
			o.wait_ms = nm_opt_seconds("--wait", optarg, 0, 7 * 86400 * 1000);
			if (o.wait_ms < 0)
				return NM_EXIT_USAGE;
			break;
		case 't':
			o.timeout_ms = nm_opt_seconds("--timeout", optarg, 100, 3600 * 1000);
			if (o.timeout_ms < 0)
				return NM_EXIT_USAGE;
			break;
		case 'J': ui.json = true; break;
		case 'M': mountinfo = optarg; break;
		case 'h': nm_command_usage(nm_command_find("rehearse"), 0); return NM_EXIT_OK;
		default: nm_opt_bad(argv); return NM_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		nm_command_usage(nm_command_find("rehearse"), 1);
		return NM_EXIT_USAGE;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		fprintf(stderr, "nfsmig: out of memory\n");
		return NM_EXIT_FAIL;
	}
	fm.port_given = port != 0;
	fm.minor_given = o.minor != -1;
	for (size_t i = 0; i <= nspecs; i++) {
		const char *spec = i == 0 ? argv[optind] : specs[i - 1];

		if (r->nfiles == NM_REH_MAX_FILES) {
			fprintf(stderr, "nfsmig: at most %d files\n", NM_REH_MAX_FILES);
			free(r);
			return NM_EXIT_USAGE;
		}
		rc = file_spec(spec, mountinfo, &r->files[r->nfiles], &port, &o.minor, &fm, &err);
		if (rc < 0) {
			if (err.msg[0])
				nm_out_printf(stderr, "nfsmig: rehearse: %s\n", err.msg);
			else
				nm_out_printf(stderr,
					      "nfsmig: rehearse: '%s' is not SERVER:/PATH/FILE or "
					      "MOUNT/FILE\n",
					      spec);
			free(r);
			return NM_EXIT_USAGE;
		}
		r->nfiles++;
	}
	nm_conf_defaults(&conf);
	if (nm_conf_load(&conf, NM_CONF_DEFAULT, true, &cerr) < 0)
		nm_out_printf(stderr, "nfsmig: %s (the defaults used)\n", cerr.msg);
	if (nm_dns_init(&err) < 0) {
		nm_out_printf(stderr, "nfsmig: rehearse: %s\n", err.msg);
		free(r);
		return NM_EXIT_FAIL;
	}
	ui.nfiles = r->nfiles;
	ui.interval_ms = o.interval_ms;
	ui.wait_ms = o.wait_ms;
	o.port = port;
	o.conf = &conf;
	o.stop = &stop_flag;
	o.step = print_step;
	o.waiting = print_waiting;
	o.progress = print_progress;
	o.arg = &ui;
	stop_flag = 0;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, &old_mask);
	if (pthread_create(&sig_th, NULL, signal_thread, &sigs) != 0) {
		pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
		nm_out_printf(stderr, "nfsmig: rehearse: cannot start the signal thread\n");
		free(r);
		return NM_EXIT_FAIL;
	}
	rc = nm_rehearse(&o, r, &err);
	pthread_cancel(sig_th); /* sigwait is a cancellation point */
	pthread_join(sig_th, NULL);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	nm_dns_cleanup();
	if (rc < 0) {
		nm_out_printf(stderr, "nfsmig: rehearse: %s\n", err.msg);
		free(r);
		return NM_EXIT_USAGE;
	}
	if (ui.json)
		print_json(r);
	else if (r->interrupted)
		nm_out_printf(stdout, "interrupted: let go of what was held\n");
	else
		print_text(r);
	rc = nm_reh_exit_code(r);
	free(r);
	return rc;
}
