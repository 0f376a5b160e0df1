/* nfsmigd's parts: the upcall (request-key's handler) and the daemon. */
#ifndef NFSMIGD_H
#define NFSMIGD_H

#include <stdbool.h>

#include "nm_conf.h"

struct nfsmigd_opts {
	struct nm_conf conf;
	const char *config; /* its file (the daemon reads it again on SIGHUP) */
	bool config_given;  /* -c: a missing file is an error */
	int verbose;
	bool foreground;
};

void nfsmigd_log(const struct nfsmigd_opts *o, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* -k KEY: answer the kernel's request for KEY; the exit status is for
 * request-key only (the key is settled either way). */
int nfsmigd_upcall(const struct nfsmigd_opts *o, const char *serial);

/* -D DESC [CALLOUT]: the same without a key; prints payload and timeout. */
int nfsmigd_debug(const struct nfsmigd_opts *o, const char *desc, const char *callout);

/* The long-running service. */
int nfsmigd_serve(const struct nfsmigd_opts *o);

#endif
