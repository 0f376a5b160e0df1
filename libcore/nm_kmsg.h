/* nm_kmsg - the NFS client's failure messages from the kernel log.
 *
 * A successful migration logs nothing; a failed one does, and leaves the
 * mount returning EIO until it is remounted (fs/nfs/nfs4state.c):
 *   "NFS: migration recovery failed (server %s)"
 *   "NFS: state manager: migration failed on NFSv4 server %s with error %d"
 *   "NFS: volatile file handles not supported (server %s)"
 * Read from /dev/kmsg (one record per read, "PRI,SEQ,USEC,FLAGS;TEXT\n"
 * then " KEY=VALUE" lines), from its end when opened. */
#ifndef NM_KMSG_H
#define NM_KMSG_H

#include <stddef.h>

#include "nm_err.h"
#include "nm_kev.h"

/* /dev/kmsg, O_RDONLY|O_NONBLOCK|O_CLOEXEC, at the end of the log. */
int nm_kmsg_open(struct nm_err *err);
/* Drain: cb for each record that is one of the messages above (its
 * non-zero return stops and is returned).  0 when drained.  An overrun
 * (EPIPE: records lost) is skipped over and reading goes on. */
int nm_kmsg_read(int fd, int (*cb)(const struct nm_kev *, void *), void *arg, struct nm_err *err);
/* One record, len bytes: 0 and *ev filled when it is one of the messages
 * above from the kernel itself, 1 when it is another message or was
 * written by a process (facility not 0: /dev/kmsg gives user writes
 * LOG_USER, so no process can forge these), -EINVAL when malformed.
 * With 0 and 1, ev->text is the message (the kernel's \xNN escapes
 * undone, then escaped again by nm_kev_set_text) and ev->time_ms the
 * record's stamp (microseconds since boot) / 1000; nm_kmsg_read makes
 * that wall-clock time. */
int nm_kmsg_parse(const char *rec, size_t len, struct nm_kev *ev);

/* The largest record /dev/kmsg gives (the kernel's CONSOLE_EXT_LOG_MAX). */
#define NM_KMSG_REC_MAX 8192
/* The next record into buf (cap bytes, at least NM_KMSG_REC_MAX): 1 and
 * *len, 0 when there is none now, a negative errno with err.  An overrun
 * (EPIPE) is counted in *lost (may be NULL) and reading goes on. */
int nm_kmsg_next(int fd, char *buf, size_t cap, size_t *len, unsigned long *lost,
		 struct nm_err *err);

#endif
