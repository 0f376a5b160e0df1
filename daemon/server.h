/* nfsmigd without -k or -D: the long-running service. */
#ifndef NFSMIGD_SERVER_H
#define NFSMIGD_SERVER_H

#include "dlog.h"

/* Listen, answer upcalls from the cache, until SIGTERM. */
int nfsmigd_serve(const struct nfsmigd_opts *o);

#endif
