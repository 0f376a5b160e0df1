#include "nm_shcache.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nm_time.h"

#define SHC_MAGIC   0x6e6d5348u /* "nmSH" */
#define SHC_VERSION 1u

/* What turns an answer into a key, as the daemon's configuration says. */
struct shc_shape {
	uint32_t prefer, min_ttl, max_ttl, hosts_ttl, negative_ttl, tempfail_ttl, servfail_ttl;
};

struct shc_head {
	uint32_t magic, version, slots, slot_size;
	uint32_t seq;	     /* odd while generation and shape are written */
	uint32_t generation; /* a slot of another one is void (0 is never one) */
	struct shc_shape shape;
};

struct shc_slot {
	uint32_t seq;	     /* odd while the slot is written */
	uint32_t generation; /* 0: void */
	uint8_t want4, want6;
	char name[NM_DNS_NAME_MAX + 1];
	int64_t resolved_ms, expires_ms;
	struct nm_dns_answer ans;
};

/* The header has a page of its own: slots never share its cache lines. */
#define SHC_HEAD_SIZE 4096
#define SHC_SIZE      (SHC_HEAD_SIZE + (size_t)NM_SHCACHE_SLOTS * sizeof(struct shc_slot))

struct nm_shcache {
	int fd;
	unsigned char *map;
	char path[NM_CONF_PATH_MAX + sizeof(NM_SHCACHE_SUFFIX)];
};

static struct shc_head *head_of(unsigned char *map)
{
	return (struct shc_head *)map;
}

static struct shc_slot *slot_of(unsigned char *map, size_t i)
{
	return (struct shc_slot *)(map + SHC_HEAD_SIZE) + i;
}

static size_t slot_index(const char *name, bool want4, bool want6)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h = (h ^ (unsigned)(want4 | want6 << 1)) * 1099511628211ULL;
	return (size_t)(h ^ h >> 32) % NM_SHCACHE_SLOTS;
}

int nm_shcache_path(const char *socket, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s%s", socket, NM_SHCACHE_SUFFIX);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* ---- the writer (one thread of one daemon) ---------------------------- */

static void seq_begin(uint32_t *seq)
{
	__atomic_store_n(seq, *seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void seq_end(uint32_t *seq)
{
	__atomic_store_n(seq, *seq + 1, __ATOMIC_RELEASE);
}

static void set_shape(struct shc_head *h, const struct nm_conf *c)
{
	seq_begin(&h->seq);
	h->generation = h->generation + 1 ? h->generation + 1 : 1;
	h->shape = (struct shc_shape){ .prefer = (uint32_t)c->prefer,
				       .min_ttl = c->min_ttl,
				       .max_ttl = c->max_ttl,
				       .hosts_ttl = c->hosts_ttl,
				       .negative_ttl = c->negative_ttl,
				       .tempfail_ttl = c->tempfail_ttl,
				       .servfail_ttl = c->servfail_ttl };
	seq_end(&h->seq);
}

int nm_shcache_create(const char *path, const struct nm_conf *c, struct nm_shcache **out,
		      struct nm_err *err)
{
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct nm_shcache *sc;
	struct shc_head *h;
	struct stat st;
	int e;

	*out = NULL;
	if (strlen(path) >= sizeof(sc->path))
		return nm_err_set(err, -ENAMETOOLONG, "%s: path too long", path);
	/* One left by a daemon that died is replaced; anything else that is
	 * not a regular file is left alone. */
	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return nm_err_set(err, -EEXIST, "%s exists and is not a regular file",
					  path);
		unlink(path);
	}
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return nm_err_set(err, -ENOMEM, "out of memory");
	snprintf(sc->path, sizeof(sc->path), "%s", path);
	sc->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (sc->fd < 0)
		goto fail;
	/* Ours for as long as the daemon lives: readers trust only a locked
	 * file.  An OFD lock stays with the open file across daemon()'s fork. */
	if (fcntl(sc->fd, F_OFD_SETLK, &lk) < 0 || ftruncate(sc->fd, (off_t)SHC_SIZE) < 0)
		goto fail;
	sc->map = mmap(NULL, SHC_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, sc->fd, 0);
	if (sc->map == MAP_FAILED) {
		sc->map = NULL;
		goto fail;
	}
	h = head_of(sc->map);
	h->version = SHC_VERSION;
	h->slots = NM_SHCACHE_SLOTS;
	h->slot_size = (uint32_t)sizeof(struct shc_slot);
	set_shape(h, c);
	__atomic_store_n(&h->magic, SHC_MAGIC, __ATOMIC_RELEASE);
	*out = sc;
	return 0;
fail:
	e = errno;
	if (sc->fd >= 0) {
		close(sc->fd);
		unlink(path);
	}
	free(sc);
	return nm_err_set(err, -e, "%s: %s", path, strerror(e));
}

void nm_shcache_clear(struct nm_shcache *sc, const struct nm_conf *c)
{
	if (sc)
		set_shape(head_of(sc->map), c);
}

void nm_shcache_put(struct nm_shcache *sc, const char *name, bool want4, bool want6,
		    int64_t resolved_ms, int64_t expires_ms, const struct nm_dns_answer *ans)
{
	struct shc_slot *s;

	if (!sc || strlen(name) > NM_DNS_NAME_MAX)
		return;
	s = slot_of(sc->map, slot_index(name, want4, want6));
	seq_begin(&s->seq);
	s->generation = head_of(sc->map)->generation;
	s->want4 = want4;
	s->want6 = want6;
	memset(s->name, 0, sizeof(s->name));
	memcpy(s->name, name, strlen(name));
	s->resolved_ms = resolved_ms;
	s->expires_ms = expires_ms;
	s->ans = *ans;
	seq_end(&s->seq);
}

void nm_shcache_del(struct nm_shcache *sc, const char *name, bool want4, bool want6)
{
	struct shc_slot *s;

	if (!sc)
		return;
	s = slot_of(sc->map, slot_index(name, want4, want6));
	if (s->generation == 0 || s->want4 != want4 || s->want6 != want6 ||
	    strcmp(s->name, name) != 0)
		return; /* another name has the slot: ours is not there */
	seq_begin(&s->seq);
	s->generation = 0;
	seq_end(&s->seq);
}

void nm_shcache_close(struct nm_shcache *sc, bool remove)
{
	if (!sc)
		return;
	/* Unlinked first: no reader opens it once the lock is gone. */
	if (remove)
		unlink(sc->path);
	munmap(sc->map, SHC_SIZE);
	close(sc->fd);
	free(sc);
}

/* ---- the readers (upcalls) ----------------------------------------------- */

/* A copy of what seq guards at off (size bytes, seq its first word), or
 * false when a writer was at it: seq, the copy, seq again, each read on
 * its own (a string copy may load its words in any order); equal and
 * even, the copy is whole.  pread rather than a mapping: an upcall reads
 * two small pieces once, and mmap, its page faults and munmap would cost
 * more. */
static bool read_guarded(int fd, off_t off, void *copy, size_t size)
{
	uint32_t s1, s2;

	for (int tries = 0; tries < 4; tries++) {
		if (pread(fd, &s1, sizeof(s1), off) != (ssize_t)sizeof(s1))
			return false;
		if (s1 & 1)
			continue;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (pread(fd, copy, size, off) != (ssize_t)size)
			return false;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (pread(fd, &s2, sizeof(s2), off) != (ssize_t)sizeof(s2))
			return false;
		if (s1 == s2)
			return true;
	}
	return false;
}

int nm_shcache_lookup(const char *path, const struct nm_upcall_req *req, struct nm_conf *c,
		      struct nm_dns_answer *ans, struct nm_err *err)
{
	struct flock lk = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	struct shc_head h;
	struct shc_slot slot;
	size_t i = slot_index(req->name, req->want4, req->want6);
	struct stat st;
	int64_t now;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return nm_err_set(err, -errno, "%s: %s", path, strerror(errno));
	/* Only root's daemon (or our own user's) answers for us, as on the
	 * socket; and only a file nobody else may write. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022)) {
		rc = nm_err_set(err, -EPERM, "%s: not a file of root's that only it may write",
				path);
		goto out;
	}
	if ((size_t)st.st_size != SHC_SIZE) {
		rc = nm_err_set(err, -EBADMSG, "%s: not a cache of this version", path);
		goto out;
	}
	/* The daemon holds its write lock while it lives. */
	if (fcntl(fd, F_OFD_GETLK, &lk) < 0 || lk.l_type != F_WRLCK) {
		rc = nm_err_set(err, -ESRCH, "%s: no daemon holds it", path);
		goto out;
	}
	/* The header: its format, then what its seq guards (from seq on). */
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || h.magic != SHC_MAGIC ||
	    h.version != SHC_VERSION || h.slots != NM_SHCACHE_SLOTS ||
	    h.slot_size != sizeof(struct shc_slot)) {
		rc = nm_err_set(err, -EBADMSG, "%s: not a cache of this version", path);
		goto out;
	}
	if (!read_guarded(fd, offsetof(struct shc_head, seq), &h.seq,
			  sizeof(h) - offsetof(struct shc_head, seq)) ||
	    !read_guarded(fd, (off_t)(SHC_HEAD_SIZE + i * sizeof(slot)), &slot, sizeof(slot)))
		goto out; /* being written: asked on the socket */
	now = nm_time_ms();
	slot.name[NM_DNS_NAME_MAX] = '\0';
	if (slot.generation != h.generation || slot.want4 != req->want4 ||
	    slot.want6 != req->want6 || strcmp(slot.name, req->name) != 0 ||
	    slot.expires_ms <= now || slot.ans.naddr > NM_DNS_MAX_ADDRS)
		goto out;
	*ans = slot.ans;
	ans->why[sizeof(ans->why) - 1] = '\0';
	nm_upcall_age(ans, (unsigned)((now - slot.resolved_ms) / 1000));
	c->prefer = h.shape.prefer == NM_PREFER_IPV6 ? NM_PREFER_IPV6 : NM_PREFER_IPV4;
	c->min_ttl = h.shape.min_ttl;
	c->max_ttl = h.shape.max_ttl;
	c->hosts_ttl = h.shape.hosts_ttl;
	c->negative_ttl = h.shape.negative_ttl;
	c->tempfail_ttl = h.shape.tempfail_ttl;
	c->servfail_ttl = h.shape.servfail_ttl;
	rc = 1;
out:
	close(fd);
	return rc;
}
