/* nm_prom - nfsmig's metrics in the Prometheus text exposition format, for
 * node_exporter's textfile collector.
 *
 * One document (struct nm_prom_doc) in, one text out (nm_prom_format, a
 * pure function tested from tables in tests/unit/test_prom.c):
 *
 *   per mount, labels mountpoint, source, server (the kernel's now) and
 *   registered_server (at registration):
 *     nfsmig_mount_moved                        gauge 0/1
 *     nfsmig_mount_last_move_timestamp_seconds  gauge (mounts that moved)
 *     nfsmig_mount_verify_state{state=...}      gauge: 1 for the last
 *                                               verdict, 0 for the others
 *   counters (nfsmigd's, since it started; absent from verify's file):
 *     nfsmig_upcalls_total{result=...}, nfsmig_moves_total{kind=...},
 *     nfsmig_lease_moved_total,
 *     nfsmig_migrations_failed_total, nfsmig_hook_failures_total,
 *     nfsmig_scans_total
 *
 * Label values are escaped as the format says (backslash, double quote
 * and newline as \\ \" \n); a byte that is not part of printable UTF-8
 * (a control, invalid UTF-8, a bidi override: nm_esc's rule) is written as
 * the text \xNN, so the file is always valid UTF-8.  Metric and label
 * names are checked: a bad one is -EINVAL, never written.
 *
 * nm_prom_write puts the text in place atomically: its directory opened
 * following no symbolic link on the way (ELOOP) and refused (EPERM) unless
 * owned by root or the caller and writable by no group or other; a
 * temporary file in it (O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, mode 0644),
 * written, renamed over the file (no fsync: a reader sees the old file
 * or the new one, and the writer writes it again soon).  A
 * failed write (a full disk) removes the temporary and leaves the old
 * file as it was.  A temporary a writer killed before its rename left
 * (".NAME." and 12 hex digits, ours, a minute old) is removed by the next
 * write. */
#ifndef NM_PROM_H
#define NM_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_err.h"

/* The default file: Debian's node_exporter textfile directory. */
#define NM_PROM_DEFAULT_PATH "/var/lib/prometheus/node-exporter/nfsmig.prom"

struct nm_prom_mount {
	const char *mountpoint, *source;
	const char *server;	       /* the kernel's now */
	const char *registered_server; /* at registration; NULL or "": not known */
	bool moved;
	int64_t last_move; /* seconds since the epoch; 0: never moved */
	int verdict;	   /* enum nm_verdict (nm_verify.h), -1: not verified */
};

/* A counter's sample: a label value and its count. */
struct nm_prom_count {
	const char *label;
	unsigned long long n;
};

struct nm_prom_doc {
	const struct nm_prom_mount *mounts;
	size_t nmounts;
	bool counters;			     /* write the counters below (nfsmigd) */
	const struct nm_prom_count *upcalls; /* label: the result */
	size_t nupcalls;
	const struct nm_prom_count *moves; /* label: the kind */
	size_t nmoves;
	unsigned long long lease_moved, migrations_failed, hook_failures, scans;
};

struct nm_mount;
struct nm_record;
/* A mount's gauges from its table entry and its record (rec NULL: not
 * registered: not moved, no registered server), and its last verdict (-1:
 * not verified).  pm borrows the strings of m and rec. */
void nm_prom_mount_of(const struct nm_mount *m, const struct nm_record *rec, int verdict,
		      struct nm_prom_mount *pm);

/* Is name a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)? */
bool nm_prom_metric_name_ok(const char *name);
/* A valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting "__")? */
bool nm_prom_label_name_ok(const char *name);

/* A label value escaped as above (NULL: ""); a new string, NULL when out
 * of memory. */
char *nm_prom_label_value(const char *s);

/* The document as text (*out malloc'd, *len bytes): HELP and TYPE of every
 * family, then its samples.  -EINVAL (with err) for a name that is not
 * valid, -ENOMEM. */
int nm_prom_format(const struct nm_prom_doc *d, char **out, size_t *len, struct nm_err *err);

/* Replace path (absolute or relative) with text as above.  -ENOENT when
 * its directory does not exist; -ELOOP, -EPERM: refused as above. */
int nm_prom_write(const char *path, const char *text, size_t len, struct nm_err *err);

#endif
