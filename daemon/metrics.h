/* nfsmigd's metrics: its counters since it started and each mount's last
 * verdict (from its record), written for node_exporter's textfile collector (nm_prom) after
 * every event and scan.  Thread-safe: the workers and the server call in. */
#ifndef NFSMIGD_METRICS_H
#define NFSMIGD_METRICS_H

#include "dlog.h"

struct nfsmigd_metrics;

/* path "" (nfsmig.conf's [metrics] textfile empty): counted, never
 * written.  mountinfo NULL: the live table.  NULL when out of memory. */
struct nfsmigd_metrics *nfsmigd_metrics_new(const struct nfsmigd_opts *o, const char *path,
					    const char *state_dir, const char *mountinfo);

/* An upcall answered: result "ok", "cache", "negative" or "late". */
void nfsmigd_metrics_upcall(struct nfsmigd_metrics *m, const char *result);
/* An event written (nm_watch_cfg's emitted). */
void nfsmigd_metrics_event(void *m, const char *kind, const char *mountpoint, const char *verdict,
			   unsigned hook_failures);
void nfsmigd_metrics_scan(struct nfsmigd_metrics *m);

/* Something changed (a scan, an event): the file is written by the one
 * writer thread 200 ms later, every change meanwhile in that write (every
 * NFSv4 mount of the table with a record, and the counters).  A missing
 * directory is said once; a failure when it starts and when it ends.
 * nfsmigd_metrics_free writes a change not written yet. */
void nfsmigd_metrics_changed(struct nfsmigd_metrics *m);

void nfsmigd_metrics_free(struct nfsmigd_metrics *m);

#endif
