/* nm_ktrace - the kernel's NFS trace events, read by nfsmigd from a tracefs
 * instance of its own.
 *
 * nm_ktrace_open() mounts tracefs at /sys/kernel/tracing when it is not
 * mounted, creates the instance instances/NAME (never the global buffer:
 * other tracers are left undisturbed) and enables in it
 *   nfs4:   nfs4_xdr_status, nfs4_state_mgr, nfs4_state_mgr_failed
 *   sunrpc: rpc_clnt_new, xprt_create, rpc_clnt_replace_xprt
 * An event this kernel lacks is skipped and named by nm_ktrace_missing();
 * with none of them enabled the open fails (-ENOENT).
 *
 * The records are read raw, a ring-buffer page at a time, from each CPU's
 * per_cpu/cpuN/trace_pipe_raw (non-blocking), parsed by libtraceevent from
 * the events' own format files, and each field read by name.
 * nm_ktrace_fd() is an epoll descriptor over those per-CPU files: readable
 * when any CPU has a record, so it goes into the caller's epoll as one fd.
 *
 * The decoding is a pure function of (format texts, record bytes):
 * nm_ktrace_fmt_* below, used by the reader and by the tests and fuzzer
 * without a kernel. */
#ifndef NM_KTRACE_H
#define NM_KTRACE_H

#include <stddef.h>

#include "nm_err.h"
#include "nm_kev.h"

struct nm_ktrace;
struct nm_ktrace_fmt;

/* instance: the name under instances/ (NULL: "nfsmigd").  Errors:
 * -ENOENT no tracefs or none of the events, -EPERM/-EACCES not allowed
 * (lockdown, not root), -EBUSY the instance is another live process's
 * (an exclusive flock on its directory, held while open), with a message
 * saying which.  The instance's trace_clock is set to "boot" (else
 * "mono") so that records convert to wall-clock time; an instance left
 * by a process that died is taken over with its records. */
int nm_ktrace_open(const char *instance, struct nm_ktrace **t, struct nm_err *err);
/* The same with other events ("system/name", NULL-terminated; NULL: the
 * ones above): for tests on a kernel with no NFS. */
int nm_ktrace_open_events(const char *instance, const char *const *events, struct nm_ktrace **t,
			  struct nm_err *err);
int nm_ktrace_fd(const struct nm_ktrace *t);
/* Drain what is there: cb for each record that decodes to an event, with
 * ev->time_ms when the kernel wrote it (its non-zero return stops the
 * read and is returned as it is).  0 when drained; a negative errno with
 * err on a read error.  A malformed record, or a page that cannot be
 * walked, is skipped and counted; records the kernel lost are counted too
 * (nm_ktrace_stats). */
int nm_ktrace_read(struct nm_ktrace *t, int (*cb)(const struct nm_kev *, void *), void *arg,
		   struct nm_err *err);
/* The events asked for that this kernel does not have, space-separated
 * ("" when none). */
const char *nm_ktrace_missing(const struct nm_ktrace *t);
/* The missing events tried again (a module loaded since: nfsv4.ko comes
 * with the first NFSv4 mount, and a sandboxed daemon may not load it):
 * those the kernel has now are enabled in the instance and move from
 * nm_ktrace_missing() to nm_ktrace_enabled().  A stat of each missing
 * event's directory: cheap, for each change of the mount table.  Returns
 * how many were enabled (0: none, or none missing), or a negative errno
 * with err (what was enabled before it stays so). */
int nm_ktrace_retry_missing(struct nm_ktrace *t, struct nm_err *err);
/* The formats the reader decodes with (a test adds one of its own:
 * another event taken for one of ours). */
struct nm_ktrace_fmt *nm_ktrace_formats(struct nm_ktrace *t);
/* The events enabled, space-separated. */
const char *nm_ktrace_enabled(const struct nm_ktrace *t);
/* Records read (ours or not), skipped as malformed, pages on which the
 * kernel said it lost records before them (overrun), and how many records
 * were lost where the kernel could say (stored on the page). */
struct nm_ktrace_stats {
	unsigned long records, bad, lost;
	unsigned long lost_events;
};
void nm_ktrace_stats(const struct nm_ktrace *t, struct nm_ktrace_stats *st);
/* The filter written to the instance's nfs4_xdr_status (only MOVED and
 * LEASE_MOVED kept), as this kernel's format of the event needs it: 0,
 * -ENOENT without the event, -ENOSPC when cap is too small. */
int nm_ktrace_xdr_filter(const struct nm_ktrace_fmt *f, char *buf, size_t cap);
/* Disables the events and removes the instance. */
void nm_ktrace_close(struct nm_ktrace *t);

/* --- the pure decoder -------------------------------------------------- */
struct nm_ktrace_fmt;

int nm_ktrace_fmt_new(struct nm_ktrace_fmt **f, struct nm_err *err);
/* One event's format file (events/SYSTEM/NAME/format), len bytes. */
int nm_ktrace_fmt_add(struct nm_ktrace_fmt *f, const char *system, const char *text, size_t len,
		      struct nm_err *err);
void nm_ktrace_fmt_free(struct nm_ktrace_fmt *f);
/* The ring-buffer page's layout from events/header_page (len bytes):
 * where the time stamp, the commit word and the data are.  Without it,
 * this machine's (8-byte stamp, a long commit, the data after them). */
int nm_ktrace_fmt_header_page(struct nm_ktrace_fmt *f, const char *text, size_t len,
			      struct nm_err *err);

/* One record's data (the event's bytes, common fields first), len bytes:
 * 0 and *ev filled, 1 when it is not one of our events, -EINVAL when it
 * is too short or a field lies outside it. */
int nm_ktrace_decode(const struct nm_ktrace_fmt *f, const void *rec, size_t len, struct nm_kev *ev);
/* A ring-buffer page (as trace_pipe_raw gives it, len bytes: the header
 * of events/header_page, then the records of events/header_event): cb for
 * each record that decodes (its non-zero return stops and is returned),
 * with ev->time_ms the record's stamp in the instance's trace clock
 * (the page's stamp plus the deltas and extents up to it, ns / 10^6);
 * nm_ktrace_read makes that wall-clock time.  st counts, lost records
 * too (a page with lost records before it is read all the same).
 * -EINVAL (with what was decoded before delivered) when the page's header,
 * a record's length or a time extent is out of the page. */
int nm_ktrace_decode_page(const struct nm_ktrace_fmt *f, const void *page, size_t len,
			  int (*cb)(const struct nm_kev *, void *), void *arg,
			  struct nm_ktrace_stats *st);

#endif
