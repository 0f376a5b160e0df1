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

/* instance: the name under instances/ (NULL: "nfsmigd").  Errors:
 * -ENOENT no tracefs or none of the events, -EPERM/-EACCES not allowed
 * (lockdown, not root), with a message saying which. */
int nm_ktrace_open(const char *instance, struct nm_ktrace **t, struct nm_err *err);
/* The same with other events ("system/name", NULL-terminated; NULL: the
 * ones above): for tests on a kernel with no NFS. */
int nm_ktrace_open_events(const char *instance, const char *const *events, struct nm_ktrace **t,
			  struct nm_err *err);
int nm_ktrace_fd(const struct nm_ktrace *t);
/* Drain what is there: cb for each record that decodes to an event (its
 * non-zero return stops and is returned).  0 when drained; a negative
 * errno with err on a read error.  A malformed record is skipped and
 * counted (nm_ktrace_stats). */
int nm_ktrace_read(struct nm_ktrace *t, int (*cb)(const struct nm_kev *, void *), void *arg,
		   struct nm_err *err);
/* The events asked for that this kernel does not have, space-separated
 * ("" when none). */
const char *nm_ktrace_missing(const struct nm_ktrace *t);
/* The events enabled, space-separated. */
const char *nm_ktrace_enabled(const struct nm_ktrace *t);
/* Records read (ours or not), skipped as malformed, and pages on which the
 * kernel said it lost records (overrun). */
struct nm_ktrace_stats {
	unsigned long records, bad, lost;
};
void nm_ktrace_stats(const struct nm_ktrace *t, struct nm_ktrace_stats *st);
/* Disables the events and removes the instance. */
void nm_ktrace_close(struct nm_ktrace *t);

/* --- the pure decoder -------------------------------------------------- */
struct nm_ktrace_fmt;

int nm_ktrace_fmt_new(struct nm_ktrace_fmt **f, struct nm_err *err);
/* One event's format file (events/SYSTEM/NAME/format), len bytes. */
int nm_ktrace_fmt_add(struct nm_ktrace_fmt *f, const char *system, const char *text, size_t len,
		      struct nm_err *err);
void nm_ktrace_fmt_free(struct nm_ktrace_fmt *f);

/* One record's data (the event's bytes, common fields first), len bytes:
 * 0 and *ev filled, 1 when it is not one of our events, -EINVAL when it
 * is too short or a field lies outside it. */
int nm_ktrace_decode(const struct nm_ktrace_fmt *f, const void *rec, size_t len, struct nm_kev *ev);
/* A ring-buffer page (as trace_pipe_raw gives it, len bytes: the header
 * of events/header_page, then the records of events/header_event): cb for
 * each record that decodes (its non-zero return stops and is returned);
 * st counts.  -EINVAL (with what was decoded before delivered) when the
 * page's header or a record's length is out of the page. */
int nm_ktrace_decode_page(const struct nm_ktrace_fmt *f, const void *page, size_t len,
			  int (*cb)(const struct nm_kev *, void *), void *arg,
			  struct nm_ktrace_stats *st);

#endif
