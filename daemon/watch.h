/* nfsmigd's watcher: one epoll loop over the kernel's sources (tracefs,
 * uevents, /dev/kmsg), libmount's monitor, the upcalls the daemon answers
 * and a rescan timer; the work off the loop, in a few worker threads.  The
 * decisions are libcore's (nm_watch, nm_watch_run). */
#ifndef NFSMIGD_WATCH_H
#define NFSMIGD_WATCH_H

#include <stddef.h>

#include "dlog.h"
#include "nm_ctl.h"

struct nfsmigd_watch;

/* Start the watcher with the configuration c (copied); the sources it
 * could open are said in the log.  NULL when it cannot start at all. */
struct nfsmigd_watch *nfsmigd_watch_start(const struct nfsmigd_opts *o, const struct nm_conf *c);

/* Stop within a second.  Returns 0 when every thread ended (w freed), 1
 * when a worker is still busy (w is left to it: the caller exits). */
int nfsmigd_watch_stop(struct nfsmigd_watch *w);

/* The daemon answered an upcall for name: a mount may be moving to it.
 * Never blocks. */
void nfsmigd_watch_upcall(struct nfsmigd_watch *w, const char *name);

/* The daemon answered an upcall with result ("ok", "cache", "negative",
 * "late"): counted for the metrics.  Never blocks on a disk. */
void nfsmigd_watch_upcall_result(struct nfsmigd_watch *w, const char *result);

/* The watcher's part of the STATUS reply: live sources, scans, jobs,
 * failed migrations (w NULL: sources "none"). */
void nfsmigd_watch_status(struct nfsmigd_watch *w, struct nm_ctl_status *st);

#endif
