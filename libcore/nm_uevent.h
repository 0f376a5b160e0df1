/* nm_uevent - the kernel's uevents of SUBSYSTEM=sunrpc: transport switches
 * and RPC clients coming and going (lab.md 3b), the source when tracefs
 * cannot be had.
 *
 * A NETLINK_KOBJECT_UEVENT socket on the kernel's group (1), no libudev and
 * no udevd: each message must come from the kernel (nl_pid 0, and
 * SCM_CREDENTIALS uid 0); libudev's own messages ("libudev" magic, group 2)
 * and every other subsystem are skipped. */
#ifndef NM_UEVENT_H
#define NM_UEVENT_H

#include <stddef.h>

#include "nm_err.h"
#include "nm_kev.h"

/* The socket (SOCK_CLOEXEC|SOCK_NONBLOCK), or a negative errno. */
int nm_uevent_open(struct nm_err *err);
/* Drain the socket: cb for each sunrpc event (its non-zero return stops
 * and is returned).  0 when drained.  Messages not from the kernel and
 * malformed ones are skipped (ENOBUFS, an overrun, too: the loop's rescan
 * covers what was lost). */
int nm_uevent_read(int fd, int (*cb)(const struct nm_kev *, void *), void *arg, struct nm_err *err);
/* "ACTION@DEVPATH\0KEY=VAL\0...", len bytes: 0 and *ev filled for
 * SUBSYSTEM=sunrpc, 1 when it is another subsystem or a libudev message,
 * -EINVAL when malformed. */
int nm_uevent_parse(const char *buf, size_t len, struct nm_kev *ev);

/* The largest message read (the kernel sends at most 2048 bytes). */
#define NM_UEVENT_MSG_MAX 8192
/* The next message from the kernel into buf (cap bytes): 1 and *len, 0
 * when there is none now, a negative errno with err.  What is not from
 * the kernel (another sender, no uid 0 credentials), cut or lost (ENOBUFS)
 * is skipped and counted in *skipped (may be NULL). */
int nm_uevent_recv(int fd, char *buf, size_t cap, size_t *len, unsigned long *skipped,
		   struct nm_err *err);

#endif
