/* nm_shcache - the daemon's cached answers, readable by the upcalls without
 * waking the daemon.
 *
 * The daemon keeps each answer it caches in a file next to its socket
 * (SOCKET.cache, 0600), mapped shared: one slot per name (direct-mapped
 * by a hash of the name and families; a name whose slot another holds is
 * asked on the socket as before), each under a sequence counter (odd
 * while written) so a reader never takes half an answer.  The header
 * holds the generation (a SIGHUP voids every slot at once) and the
 * daemon's configuration values that shape a key from an answer (prefer
 * and the TTLs), so the upcall answers as the daemon would.  The daemon
 * holds a write lock (an OFD lock) on the file for its life: an upcall
 * takes the file only when it is a regular file of root's (or its own
 * user's) that nobody else may write, locked, of this format.
 *
 * Reading costs an upcall open, fstat, fcntl and mmap; asking the daemon
 * on its socket costs two context switches, which a loaded machine can
 * make milliseconds. */
#ifndef NM_SHCACHE_H
#define NM_SHCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "nm_conf.h"
#include "nm_dns.h"
#include "nm_err.h"
#include "nm_upcall.h"

#define NM_SHCACHE_SLOTS  4096
#define NM_SHCACHE_SUFFIX ".cache"

struct nm_shcache;

/* The cache file's path for a daemon socket path; -ENAMETOOLONG. */
int nm_shcache_path(const char *socket, char *buf, size_t cap);

/* Daemon: create the file afresh (one left by a dead daemon is replaced;
 * anything there that is not a regular file is an error), lock it, map
 * it; the shape from c. */
int nm_shcache_create(const char *path, const struct nm_conf *c, struct nm_shcache **sc,
		      struct nm_err *err);

/* Daemon: every slot void, the shape from c (SIGHUP). */
void nm_shcache_clear(struct nm_shcache *sc, const struct nm_conf *c);

/* Daemon: publish the answer for (name, families), resolved and expiring
 * at the nm_time_ms() given. */
void nm_shcache_put(struct nm_shcache *sc, const char *name, bool want4, bool want6,
		    int64_t resolved_ms, int64_t expires_ms, const struct nm_dns_answer *ans);

/* Daemon: the name's answer is no longer cached. */
void nm_shcache_del(struct nm_shcache *sc, const char *name, bool want4, bool want6);

/* Daemon: unmap and close (the lock goes with it); remove: unlink path. */
void nm_shcache_close(struct nm_shcache *sc, bool remove);

/* Upcall: 1 and the answer for req (its TTLs aged since it came) with c's
 * shaping values set to the daemon's; 0 when the name is not there (or
 * expired, or being written); negative errno when the file cannot be
 * used (-ENOENT, -EPERM not root's or writable by others, -ESRCH no daemon
 * holds it, -EBADMSG another format), with why. */
int nm_shcache_lookup(const char *path, const struct nm_upcall_req *req, struct nm_conf *c,
		      struct nm_dns_answer *ans, struct nm_err *err);

#endif
