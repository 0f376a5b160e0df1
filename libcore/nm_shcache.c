#include "nm_shcache.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nm_shcache_fmt.h"
#include "nm_time.h"

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

/* Not read at all from a directory others may change (they could put a
 * file of their choosing, or a FIFO, in its place), unless it is root's
 * and sticky (as /tmp): there nobody renames or removes what is not
 * theirs. */
static int dir_trusted(const char *path, struct nm_err *err)
{
	char dir[NM_CONF_PATH_MAX + sizeof(NM_SHCACHE_SUFFIX)];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (!slash) {
		snprintf(dir, sizeof(dir), ".");
	} else if (slash == path) {
		snprintf(dir, sizeof(dir), "/");
	} else {
		if ((size_t)(slash - path) >= sizeof(dir))
			return nm_err_set(err, -ENAMETOOLONG, "%s: path too long", path);
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	if (stat(dir, &st) < 0)
		return nm_err_set(err, -errno, "%s: %s", dir, strerror(errno));
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return nm_err_set(err, -EPERM, "%s: another user's directory", dir);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_uid == 0 && (st.st_mode & S_ISVTX)))
		return nm_err_set(err, -EPERM, "%s: others may write in it", dir);
	return 0;
}

static bool ttl_ok(uint32_t t)
{
	return t >= 1 && t <= SHC_TTL_MAX;
}

static bool flag_ok(uint8_t b)
{
	return b <= 1;
}

int nm_shcache_decode(const void *head, size_t head_len, const void *slot_bytes, size_t slot_len,
		      const struct nm_upcall_req *req, int64_t now, struct nm_conf *c,
		      struct nm_dns_answer *ans, struct nm_err *err)
{
	struct shc_head h;
	struct shc_slot s;
	const struct shc_answer *f = &s.ans;

	if (head_len != sizeof(h) || slot_len != sizeof(s))
		return nm_err_set(err, -EBADMSG, "a header or slot of another size");
	memcpy(&h, head, sizeof(h));
	memcpy(&s, slot_bytes, sizeof(s));
	if (h.magic != SHC_MAGIC || h.version != SHC_VERSION || h.slots != NM_SHCACHE_SLOTS ||
	    h.slot_size != sizeof(struct shc_slot))
		return nm_err_set(err, -EBADMSG, "not a cache of this version");
	/* The shape makes the key: only values the configuration allows. */
	if ((h.shape.prefer != NM_PREFER_IPV4 && h.shape.prefer != NM_PREFER_IPV6) ||
	    !ttl_ok(h.shape.min_ttl) || !ttl_ok(h.shape.max_ttl) ||
	    h.shape.min_ttl > h.shape.max_ttl || !ttl_ok(h.shape.hosts_ttl) ||
	    !ttl_ok(h.shape.negative_ttl) || !ttl_ok(h.shape.tempfail_ttl) ||
	    !ttl_ok(h.shape.servfail_ttl) || h.generation == 0)
		return nm_err_set(err, -EBADMSG, "its shaping values are out of range");
	/* Another name's slot, a void or older one: a miss, whatever it holds. */
	if (s.generation != h.generation || s.want4 != req->want4 || s.want6 != req->want6 ||
	    memchr(s.name, '\0', sizeof(s.name)) == NULL || strcmp(s.name, req->name) != 0)
		return 0;
	if (s.resolved_ms < 0 || s.resolved_ms > now || s.expires_ms < s.resolved_ms ||
	    s.expires_ms - s.resolved_ms > (int64_t)SHC_TTL_MAX * 1000)
		return nm_err_set(err, -EBADMSG, "its times are out of range");
	if (f->status > NM_DNS_SERVFAIL || f->naddr > NM_DNS_MAX_ADDRS ||
	    (f->status != NM_DNS_OK && f->naddr != 0) || !flag_ok(f->from_hosts) ||
	    !flag_ok(f->partial) || !flag_ok(f->from_nss) || !flag_ok(f->numeric) ||
	    memchr(f->why, '\0', sizeof(f->why)) == NULL)
		return nm_err_set(err, -EBADMSG, "its answer is out of range");
	for (uint32_t i = 0; i < f->naddr; i++)
		if (f->addr[i].family != AF_INET && f->addr[i].family != AF_INET6)
			return nm_err_set(err, -EBADMSG, "an address of no family");
	if (s.expires_ms <= now)
		return 0;
	memset(ans, 0, sizeof(*ans));
	ans->status = (enum nm_dns_status)f->status;
	ans->naddr = f->naddr;
	ans->ttl = f->ttl;
	ans->from_hosts = f->from_hosts;
	ans->partial = f->partial;
	ans->from_nss = f->from_nss;
	ans->numeric = f->numeric;
	for (uint32_t i = 0; i < f->naddr; i++) {
		ans->addr[i].family = (int)f->addr[i].family;
		ans->addr[i].ttl = f->addr[i].ttl;
		if (f->addr[i].family == AF_INET6)
			memcpy(&ans->addr[i].u.v6, f->addr[i].addr, 16);
		else
			memcpy(&ans->addr[i].u.v4, f->addr[i].addr, 4);
	}
	/* Only for logs, and printable there. */
	for (size_t i = 0; f->why[i] && i < sizeof(ans->why) - 1; i++)
		ans->why[i] = f->why[i] >= 0x20 && f->why[i] < 0x7f ? f->why[i] : '?';
	nm_upcall_age(ans, (unsigned)((now - s.resolved_ms) / 1000));
	c->prefer = h.shape.prefer == NM_PREFER_IPV6 ? NM_PREFER_IPV6 : NM_PREFER_IPV4;
	c->min_ttl = h.shape.min_ttl;
	c->max_ttl = h.shape.max_ttl;
	c->hosts_ttl = h.shape.hosts_ttl;
	c->negative_ttl = h.shape.negative_ttl;
	c->tempfail_ttl = h.shape.tempfail_ttl;
	c->servfail_ttl = h.shape.servfail_ttl;
	return 1;
}

/* Unlink path only while it is still the file fd has open: never a file
 * another daemon put there meanwhile. */
static void unlink_if_ours(const char *path, int fd)
{
	struct stat a, b;

	if (fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		unlink(path);
}

/* A file left at path: 0 when it may be replaced (a regular file no daemon
 * holds), else why not. */
static int left_file(const char *path, struct nm_err *err)
{
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct stat st, fst;
	int fd, rc = 0;

	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISREG(st.st_mode))
		return nm_err_set(err, -EEXIST, "%s exists and is not a regular file", path);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0
				       : nm_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode))
		rc = nm_err_set(err, -EEXIST, "%s exists and is not a regular file", path);
	else if (fcntl(fd, F_OFD_GETLK, &lk) < 0 || lk.l_type != F_UNLCK)
		rc = nm_err_set(err, -EBUSY, "%s: held by a daemon that is running", path);
	else
		unlink_if_ours(path, fd);
	close(fd);
	return rc;
}

int nm_shcache_create(const char *path, const struct nm_conf *c, struct nm_shcache **out,
		      struct nm_err *err)
{
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct nm_shcache *sc;
	struct shc_head *h;
	int e, rc;

	*out = NULL;
	if (strlen(path) >= sizeof(sc->path))
		return nm_err_set(err, -ENAMETOOLONG, "%s: path too long", path);
	/* Where the upcalls would not read it, it is not made. */
	rc = dir_trusted(path, err);
	if (rc < 0)
		return rc;
	/* One left by a daemon that died is replaced; one a live daemon holds,
	 * or anything that is not a regular file, is left alone. */
	rc = left_file(path, err);
	if (rc < 0)
		return rc;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return nm_err_set(err, -ENOMEM, "out of memory");
	snprintf(sc->path, sizeof(sc->path), "%s", path);
	sc->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (sc->fd < 0)
		goto fail;
	/* Ours for as long as the daemon lives: readers trust only a locked
	 * file.  An OFD lock stays with the open file across daemon()'s fork. */
	if (fcntl(sc->fd, F_OFD_SETLK, &lk) < 0)
		goto fail;
	/* Every block allocated now: a write through the mapping to a file
	 * system that filled up since would be a SIGBUS. */
	e = posix_fallocate(sc->fd, 0, (off_t)SHC_SIZE);
	if (e != 0) {
		errno = e;
		goto fail;
	}
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
		unlink_if_ours(path, sc->fd);
		close(sc->fd);
	}
	free(sc);
	return nm_err_set(err, -e, "%s: %s", path, strerror(e));
}

void nm_shcache_clear(struct nm_shcache *sc, const struct nm_conf *c)
{
	if (sc)
		set_shape(head_of(sc->map), c);
}

static void answer_to_file(const struct nm_dns_answer *a, struct shc_answer *f)
{
	memset(f, 0, sizeof(*f));
	f->status = (uint32_t)a->status;
	f->naddr = (uint32_t)(a->naddr < NM_DNS_MAX_ADDRS ? a->naddr : NM_DNS_MAX_ADDRS);
	f->ttl = a->ttl;
	f->from_hosts = a->from_hosts;
	f->partial = a->partial;
	f->from_nss = a->from_nss;
	f->numeric = a->numeric;
	for (size_t i = 0; i < f->naddr; i++) {
		f->addr[i].family = (uint32_t)a->addr[i].family;
		f->addr[i].ttl = a->addr[i].ttl;
		if (a->addr[i].family == AF_INET6)
			memcpy(f->addr[i].addr, &a->addr[i].u.v6, 16);
		else
			memcpy(f->addr[i].addr, &a->addr[i].u.v4, 4);
	}
	snprintf(f->why, sizeof(f->why), "%s", a->why);
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
	answer_to_file(ans, &s->ans);
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
		unlink_if_ours(sc->path, sc->fd);
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
	struct nm_err why = { 0 };
	struct stat st;
	int fd, rc = 0;

	rc = dir_trusted(path, err);
	if (rc < 0)
		return rc;
	/* Never blocks (a FIFO put there), never follows a link; nothing is
	 * read before it is known to be the daemon's file. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
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
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		rc = nm_err_set(err, -EBADMSG, "%s: not a cache of this version", path);
		goto out;
	}
	if (!read_guarded(fd, offsetof(struct shc_head, seq), &h.seq,
			  sizeof(h) - offsetof(struct shc_head, seq)) ||
	    !read_guarded(fd, (off_t)(SHC_HEAD_SIZE + i * sizeof(slot)), &slot, sizeof(slot)))
		goto out; /* being written: asked on the socket */
	rc = nm_shcache_decode(&h, sizeof(h), &slot, sizeof(slot), req, nm_time_boot_ms(), c, ans,
			       &why);
	if (rc < 0)
		nm_err_set(err, rc, "%s: %s", path, why.msg);
out:
	close(fd);
	return rc;
}
