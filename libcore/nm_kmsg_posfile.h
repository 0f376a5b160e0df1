/* nm_kmsg_posfile - where the watcher is in the kernel log, kept across
 * its restarts: a failure the kernel logs while the daemon is down is
 * read when it comes back.
 *
 * STATE_DIR/kmsg.pos, replaced atomically (a file of its own, renamed
 * over; O_NOFOLLOW):
 *   nfsmig-kmsg 1
 *   boot_id=<this boot's /proc/sys/kernel/random/boot_id>
 *   seq=<the last record handled>
 * A position of another boot is dropped (the sequence starts again at a
 * boot); so is one not written by us (corrupt: the log is read from its
 * end, and the caller says so).  Not fsync'd: only a crash of the machine
 * loses the last write, and a crash is another boot. */
#ifndef NM_KMSG_POSFILE_H
#define NM_KMSG_POSFILE_H

#include <stddef.h>

#include "nm_err.h"
#include "nm_kmsg.h"

#define NM_KMSG_POSFILE	    "kmsg.pos"
#define NM_KMSG_BOOT_ID_MAX 64

/* Pure: the file's text for pos (have) in boot boot_id into buf (cap
 * bytes).  Returns its length, or -EINVAL (no position, a boot id that is
 * not one line of [0-9a-f-]), -ENOSPC. */
int nm_kmsg_pos_format(const struct nm_kmsg_pos *pos, const char *boot_id, char *buf, size_t cap);

/* Pure: text (len bytes) against boot_id: 0 and *pos (have, seq) when it
 * is this boot's; 1 when it is another boot's (pos: none); -EBADMSG when
 * it is not such a file (pos: none). */
int nm_kmsg_pos_parse(const char *text, size_t len, const char *boot_id, struct nm_kmsg_pos *pos);

/* This boot's id (/proc/sys/kernel/random/boot_id), one line, into buf. */
int nm_kmsg_boot_id(char *buf, size_t cap, struct nm_err *err);

/* STATE_DIR/kmsg.pos read (a regular file, no link followed, at most
 * 4 KiB): 0 and *pos when this boot's; 1 when there is none or it is of
 * another boot; a negative errno with err when it cannot be read or is
 * corrupt (pos: none). */
int nm_kmsg_pos_load(const char *state_dir, struct nm_kmsg_pos *pos, struct nm_err *err);

/* pos (have) written to STATE_DIR/kmsg.pos: a temporary file of its own
 * (O_EXCL, O_NOFOLLOW, 0600), renamed over. */
int nm_kmsg_pos_save(const char *state_dir, const struct nm_kmsg_pos *pos, struct nm_err *err);

#endif
