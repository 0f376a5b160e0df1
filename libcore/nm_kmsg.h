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
 * above, 1 when it is another message, -EINVAL when malformed.
 * ev->time_ms is the record's stamp (microseconds since boot) / 1000. */
int nm_kmsg_parse(const char *rec, size_t len, struct nm_kev *ev);

#endif
