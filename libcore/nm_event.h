/* nm_event - the event log of nfsmigd: one JSON object (json-c) per line in
 * STATE_DIR/events.log, bounded and rotated to events.log.1.
 *
 * An event's keys: "time" (seconds since the epoch, with milliseconds),
 * "event" ("mount", "migration", "referral", "migration-failed",
 * "lease-moved", "unmount", "daemon"), "trigger" ("tracepoint:NAME",
 * "uevent", "kmsg", "mountinfo", "upcall", "rescan"), "mountpoint",
 * "source", "from", "to", "message", "verify" ({"verdict":..,"checks":[..]}),
 * "fstab" ([{"file":..,"line":N,"entry":..}]), "utab", "mtab" (booleans),
 * "hooks" ([{"hook":..,"status":..}]).
 *
 * Writers take an flock on STATE_DIR/events.lock for the whole append, so
 * two of them never rotate twice and a failed write is cut back safely;
 * readers take no lock. */
#ifndef NM_EVENT_H
#define NM_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "nm_err.h"

struct json_object;

#define NM_EVENT_LOG	   "events.log"
#define NM_EVENT_LOG_OLD   "events.log.1"
#define NM_EVENT_LOCK	   "events.lock"
#define NM_EVENT_MAX_BYTES (4u << 20) /* [events] max_bytes by default */
#define NM_EVENT_LINE_MAX  65536      /* one event line, its newline included */

/* Append ev as one line (its "time" set to now when absent), fsync'ed.
 * When the file would grow past max_bytes (0: NM_EVENT_MAX_BYTES) it is
 * first renamed to events.log.1, replacing the older one.  The directory is
 * created 0700, the file 0600; files are opened O_NOFOLLOW relative to it.
 * The written text is valid UTF-8 with every character nm_esc escapes
 * written \uXXXX, so even `cat events.log` is safe.  -EMSGSIZE when the line
 * would be longer than NM_EVENT_LINE_MAX; on any failure to write (ENOSPC,
 * EFBIG, EIO) the file is cut back to what it was: nothing written before
 * is lost and no partial line is left. */
int nm_event_append(const char *state_dir, struct json_object *ev, size_t max_bytes,
		    struct nm_err *err);

struct nm_event_filter {
	int64_t since_ms;	/* events at or after this time (ms since the epoch); 0: all */
	const char *mountpoint; /* only this mount's events; NULL: all */
};

/* Call cb with each event of events.log.1 then events.log that passes f
 * (NULL: all), oldest first; the object is the callback's to keep
 * (json_object_get) or not: it is put after the call.  A last line with no
 * newline (torn by a crash) is skipped; so are lines that are not a JSON
 * object or are longer than NM_EVENT_LINE_MAX, and they are counted.  A
 * missing file is no error.  cb returns 0 to go on, anything else to stop
 * (a negative value is returned as the error).  Returns the number of lines
 * skipped as not events (>= 0), or a negative errno. */
int nm_event_read(const char *state_dir, const struct nm_event_filter *f,
		  int (*cb)(struct json_object *ev, void *arg), void *arg, struct nm_err *err);

/* nm_event_read, then every event appended later as it is written (inotify
 * on the directory: growth, creation and rotation are followed; no
 * polling), until stop_fd (may be -1) becomes readable, timeout_ms passes
 * (-1: no limit), or cb stops it.  Returns 0 when stopped by stop_fd or the
 * timeout, cb's negative value, or a negative errno (-EINTR when a signal
 * interrupted the wait: the caller's handler decides). */
int nm_event_follow(const char *state_dir, const struct nm_event_filter *f,
		    int (*cb)(struct json_object *ev, void *arg), void *arg, int stop_fd,
		    int timeout_ms, struct nm_err *err);

/* One line of the log (len bytes, no newline) to an event: a new object,
 * or -EINVAL when it is not one JSON object (NUL bytes, trailing text,
 * nesting deeper than json-c allows) or -EMSGSIZE when longer than
 * NM_EVENT_LINE_MAX.  Pure. */
int nm_event_parse_line(const char *line, size_t len, struct json_object **ev);

/* The reader of nm_event_read on one open file (from its start): the
 * lines skipped as not events are added to *skipped (may be NULL).  Returns
 * 0, or what cb stopped with when negative, or a negative errno. */
int nm_event_read_fd(int fd, const struct nm_event_filter *f,
		     int (*cb)(struct json_object *ev, void *arg), void *arg, unsigned *skipped,
		     struct nm_err *err);

/* ev as the line nm_event_append writes (a new string, its newline
 * included, *len bytes): valid UTF-8, every character nm_esc escapes as
 * \uXXXX.  -EMSGSIZE when longer than NM_EVENT_LINE_MAX. */
int nm_event_line(struct json_object *ev, char **line, size_t *len, struct nm_err *err);

/* A --since TIME to milliseconds since the epoch: "now"; seconds since
 * the epoch ("1795000000", "1795000000.5"); a local date or date and time
 * ("2026-11-25", "2026-11-25T10:00", "2026-11-25 10:00:00"; a final 'Z':
 * UTC); or a time ago ("90s", "10m", "2h", "1d", "1w").  now_ms is the
 * present (CLOCK_REALTIME).  -EINVAL when it is none of them.  Pure but for
 * the local time zone. */
int nm_event_parse_since(const char *s, int64_t now_ms, int64_t *since_ms);

/* Does ev pass f?  "time" missing or not a number fails a since filter. */
int nm_event_match(struct json_object *ev, const struct nm_event_filter *f);

/* The event's "time" in milliseconds since the epoch; -1 when absent. */
int64_t nm_event_time_ms(struct json_object *ev);

#endif
