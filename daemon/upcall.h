/* nfsmigd -k and -D: request-key's handler for dns_resolver keys. */
#ifndef NFSMIGD_UPCALL_H
#define NFSMIGD_UPCALL_H

#include "dlog.h"

/* -k KEY: answer the kernel's request for KEY; the exit status is for
 * request-key only (the key is settled either way).  o NULL: an unusable
 * command line or configuration, the key is negated at once. */
int nfsmigd_upcall(const struct nfsmigd_opts *o, const char *serial);

/* -D DESC [CALLOUT]: the same without a key; prints payload and timeout. */
int nfsmigd_debug(const struct nfsmigd_opts *o, const char *desc, const char *callout);

#endif
