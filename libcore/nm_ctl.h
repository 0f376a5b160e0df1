/* nm_ctl - the nfsmigd control socket: one request line, one reply line.
 *
 *   request:  "RESOLVE\t<description>\t<callout>\n"
 *   reply:    "OK\t<timeout>\t<payload>\t<source>\n"
 *             "FAIL\t<timeout>\t<errno>\t<why>\n"
 *   request:  "STATUS\n"
 *   reply:    "STATUS\tpid=N\tstarted=T\tcache=N\t...\n" (key=value fields, tab
 *             separated; keys a reader does not know are skipped)
 * Lines are at most NM_CTL_LINE_MAX bytes; fields hold no tab or newline
 * (descriptions and callouts are validated before they are sent). */
#ifndef NM_CTL_H
#define NM_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_err.h"
#include "nm_upcall.h"

#define NM_CTL_LINE_MAX 2048

struct nm_ctl_reply {
	bool ok;
	unsigned timeout;
	int error; /* errno to reject with, when !ok */
	char payload[NM_UPCALL_PAYLOAD_MAX];
	char text[256]; /* source when ok, why when not */
};

/* Ask the daemon at path: connect within connect_ms, answer within
 * answer_ms.  -ECONNREFUSED/-ENOENT when no daemon runs, -EPERM when the
 * one listening is neither root's nor ours (SO_PEERCRED), -ETIMEDOUT,
 * -ECONNRESET when it went away, -EBADMSG for a garbled reply. */
int nm_ctl_ask(const char *path, const char *desc, const char *callout, int connect_ms,
	       int answer_ms, struct nm_ctl_reply *r, struct nm_err *err);

/* Server side: split a request line (newline removed) in place. */
int nm_ctl_parse_request(char *line, char **desc, char **callout);

/* Server side: format a reply line; returns its length, -EINVAL for a
 * payload or text with a tab or newline, -EMSGSIZE when it does not fit. */
int nm_ctl_format_reply(const struct nm_ctl_reply *r, char *buf, size_t cap);

/* Parse a reply line (newline removed) into r. */
int nm_ctl_parse_reply(const char *line, struct nm_ctl_reply *r);

/* What nfsmigd says of itself (nfsmig status). */
struct nm_ctl_status {
	long pid;
	int64_t started;	     /* seconds since the epoch */
	unsigned long cache;	     /* names cached now */
	unsigned long lookups, hits; /* upcalls answered, from the cache */
	char sources[128];	     /* the watcher's live sources: "tracefs,rescan" or "none" */
	unsigned long scans, jobs, fails; /* the watcher's work */
};

/* Server side: is the request line (newline removed) a STATUS request? */
bool nm_ctl_is_status(const char *line);

/* Format and parse a STATUS reply line (parse: the newline removed).
 * -EINVAL for sources with a blank, tab or newline; -EMSGSIZE when it does
 * not fit; parse: -EBADMSG when it is not one (no pid, a number that is
 * not one). */
int nm_ctl_format_status(const struct nm_ctl_status *s, char *buf, size_t cap);
int nm_ctl_parse_status(const char *line, struct nm_ctl_status *s);

/* Ask the daemon at path for its status, as nm_ctl_ask asks (the same
 * SO_PEERCRED check and errors). */
int nm_ctl_status(const char *path, int connect_ms, int answer_ms, struct nm_ctl_status *s,
		  struct nm_err *err);

#endif
