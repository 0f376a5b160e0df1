/* nfsmigd - the dns_resolver upcall handler and the nfsmig daemon.
 *
 *   nfsmigd [-c FILE] -k KEY              as request-key's handler (%k)
 *   nfsmigd [-c FILE] [-v] -D DESC [CALLOUT]   the same, printed, no key
 *   nfsmigd [-c FILE] [-v] [-F]           the daemon (cache, upcall record,
 *                                         the watcher): nfsmigd-daemon
 *
 * The daemon is a program of its own, nfsmigd-daemon, built from this file
 * with NFSMIGD_SERVE and the daemon's parts (server, pool, watcher):
 * nfsmigd execs it from its own directory.  So an upcall, which starts
 * nfsmigd for every request, never maps the watcher's libraries (libtirpc,
 * json-c, libtracefs, libtraceevent...).
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "dlog.h"
#include "upcall.h"
#ifdef NFSMIGD_SERVE
#include "server.h"
#else
#include <errno.h>
#include <libgen.h>

/* The daemon: nfsmigd-daemon, from the directory this program is in, with
 * the same arguments. */
static int exec_daemon(const struct nfsmigd_opts *o, char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		nfsmigd_log(o, LOG_ERR, "/proc/self/exe: %s", strerror(errno));
		return 1;
	}
	self[n] = '\0';
	snprintf(path, sizeof(path), "%s/nfsmigd-daemon", dirname(self));
	execv(path, argv);
	nfsmigd_log(o, LOG_ERR, "%s: %s", path, strerror(errno));
	return 1;
}
#endif

static void usage(FILE *f)
{
	fprintf(f, "Usage: nfsmigd [-c FILE] -k KEY\n"
		   "       nfsmigd [-c FILE] [-v] -D DESCRIPTION [CALLOUT]\n"
		   "       nfsmigd [-c FILE] [-v] [-F]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "debug", no_argument, NULL, 'D' },
		{ "foreground", no_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct nfsmigd_opts o = { 0 };
	const char *config = NM_CONF_DEFAULT, *key = NULL;
	static char config_abs[PATH_MAX];
	bool config_given = false, debug = false;
	struct nm_err err = { 0 };
	int c;

	signal(SIGPIPE, SIG_IGN);
	openlog("nfsmigd", LOG_PID, LOG_DAEMON);
	/* The DNS client starts where it is used (nfsmigd_serve, and the
	 * upcall when it resolves by itself): an upcall the daemon answers
	 * never loads it (daemon/lazydns.c). */
	while ((c = getopt_long(argc, argv, "c:k:DFvVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			config_given = true;
			break;
		case 'k': key = optarg; break;
		case 'D': debug = true; break;
		case 'F': o.foreground = true; break;
		case 'v': o.verbose++; break;
		case 'V': printf("nfsmigd %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	/* The daemon reads its file again on SIGHUP, after daemon() took it
	 * to /: a relative -c is made absolute now (not for -k: an upcall
	 * reads it once, and saves the system calls). */
	if (!key && realpath(config, config_abs))
		config = config_abs;
	o.config = config;
	o.config_given = config_given;
	nm_conf_defaults(&o.conf);
	if (nm_conf_load(&o.conf, config, !config_given, &err) < 0) {
		nfsmigd_log(&o, LOG_ERR, "%s", err.msg);
		if (key) {
			/* The kernel must not wait on a bad configuration. */
			return nfsmigd_upcall(NULL, key);
		}
		return 1;
	}
	if (key) {
		if (debug || optind != argc) {
			usage(stderr);
			return nfsmigd_upcall(NULL, key);
		}
		return nfsmigd_upcall(&o, key);
	}
	if (debug) {
		if (argc - optind < 1 || argc - optind > 2) {
			usage(stderr);
			return 2;
		}
		return nfsmigd_debug(&o, argv[optind], argc - optind == 2 ? argv[optind + 1] : "");
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
#ifdef NFSMIGD_SERVE
	return nfsmigd_serve(&o);
#else
	return exec_daemon(&o, argv);
#endif
}
