/* nfsmigd's options and log, shared by its parts (main, upcall, server);
 * depends on none of them. */
#ifndef NFSMIGD_DLOG_H
#define NFSMIGD_DLOG_H

#include <stdbool.h>

#include "nm_conf.h"

struct nfsmigd_opts {
	struct nm_conf conf;
	const char *config; /* its file (the daemon reads it again on SIGHUP) */
	bool config_given;  /* -c: a missing file is an error */
	int verbose;
	bool foreground;
};

/* To syslog; to stderr too for warnings, -v, a terminal or -F. */
void nfsmigd_log(const struct nfsmigd_opts *o, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
