/* nfsmigd's service: one epoll loop answers upcalls, from a cache when it
 * can; DNS lookups go to a small pool of workers, one query per name for
 * all who ask it meanwhile.
 *
 *   main thread   epoll: the listening socket, the clients (per-client
 *                 state: reading, then waiting on a query), the signalfd,
 *                 the pool's eventfd; owns the cache, the clients and the
 *                 configuration (no lock: no other thread touches them),
 *                 and publishes each answer it caches in SOCKET.cache,
 *                 where upcalls read it without waking us (nm_shcache)
 *   workers       nm_dns_resolve for one query at a time; created when
 *                 queries wait and none is idle, at most POOL_MAX; a few
 *                 stay idle (blocked, never woken by a timer), the others
 *                 end
 *
 * Idle, nothing wakes it: epoll_wait has no timeout unless a client is
 * still sending its request (2 s to do it), a SIGTERM drains, or the
 * process ran out of descriptors (the listener is then out of the epoll
 * set until a client closes, tried again each second). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "dlog.h"
#include "nm_ctl.h"
#include "nm_dns.h"
#include "nm_evlog.h"
#include "nm_shcache.h"
#include "nm_time.h"
#include "nm_upcall.h"
#include "pool.h"
#include "server.h"
#include "watch.h"

#define CACHE_SLOTS   4096 /* names kept; full, the soonest to expire makes room */
#define CACHE_BUCKETS 8192 /* hash chains (a power of 2) */
#define MAX_CLIENTS   4096 /* connections at once; beyond, closed: the upcall resolves */
#define READ_MS	      2000 /* a client's time to send its request */
#define DRAIN_MS      500  /* SIGTERM: time left to requests in flight */
#define RESUME_MS     1000 /* out of descriptors: the listener tried again after */

/* The configuration as one SIGHUP loaded it, shared by the requests and
 * queries begun under it (counted by the main thread only; the workers
 * only read it). */
struct conf_ref {
	unsigned refs;
	struct nm_conf c;
};

struct query;

/* A cached name: on its hash chain, and on the LRU list when not busy. */
struct entry {
	struct entry *hnext, *prev, *next;
	char name[NM_DNS_NAME_MAX + 1];
	bool want4, want6;
	struct query *q;		 /* the lookup filling it, while one runs */
	int64_t expires, last, resolved; /* nm_time_boot_ms (suspend counts) */
	struct nm_dns_answer ans;
};

/* A connection: reading its request (on the reading list, by deadline),
 * then waiting on a query (on its waiters). */
struct client {
	struct client *prev, *next;
	int fd;
	bool merged; /* waits on a query another request began */
	int64_t deadline;
	size_t got;
	struct conf_ref *conf;
	struct nm_upcall_req req;
	char *callout; /* in line */
	char line[NM_CTL_LINE_MAX];
};

/* One DNS lookup: queued for the workers, resolved, back on the done list. */
struct query {
	struct pool_job job; /* first: the pool's list, and back */
	struct conf_ref *conf;
	struct nm_upcall_req req;
	unsigned long generation; /* SIGHUP: an answer begun before is not kept */
	int64_t start;
	struct entry *e;	  /* NULL: not cached (every slot was busy) */
	struct client *waiters;	  /* the main thread's */
	struct nm_dns_answer ans; /* the worker's until it is done */
};

/* The daemon's state: on the heap, freed only once no worker runs. */
struct server {
	const struct nfsmigd_opts *o; /* the command line; its conf is the first */
	struct conf_ref *conf;	      /* the configuration now (SIGHUP reloads it) */
	unsigned long generation;     /* SIGHUP: lookups begun before are not cached */
	struct entry *bucket[CACHE_BUCKETS];
	struct entry lru; /* idle entries, most recently used first */
	unsigned entries;
	struct client reading; /* clients still sending, oldest first */
	unsigned clients, max_clients;
	struct nm_shcache *shared; /* the cache as the upcalls read it (NULL: none) */
	int epfd, lfd, sfd, spare;
	bool listen_paused;    /* out of descriptors: the listener out of the epoll set */
	int64_t resume_at;     /* ... until a client closes, or then */
	struct stat sock_self; /* our socket's file: unlinked only while it is ours */
	struct pool pool;
	unsigned long lookups, hits, merged, queries;
	struct nfsmigd_watch *watch; /* the watcher, or NULL */
	int64_t started;	     /* seconds since the epoch */
};

/* epoll's tags for the fds that are not clients. */
static char tag_signal, tag_pool;

/* Time the daemon gives DNS: inside the share of the deadline an upcall
 * waits for it. */
static int dns_budget(const struct nm_conf *c)
{
	return nm_upcall_daemon_dns_ms(c);
}

static struct conf_ref *conf_get(struct conf_ref *r)
{
	r->refs++;
	return r;
}

static void conf_put(struct conf_ref *r)
{
	if (r && --r->refs == 0)
		free(r);
}

/* ---- the cache (main thread) -------------------------------------------- */

static size_t hash_req(const struct nm_upcall_req *r)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)r->name; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h = (h ^ (unsigned)(r->want4 | r->want6 << 1)) * 1099511628211ULL;
	return (size_t)(h ^ h >> 32) & (CACHE_BUCKETS - 1);
}

static void lru_unlink(struct entry *e)
{
	if (e->prev) {
		e->prev->next = e->next;
		e->next->prev = e->prev;
		e->prev = e->next = NULL;
	}
}

static void lru_push(struct server *s, struct entry *e)
{
	e->next = s->lru.next;
	e->prev = &s->lru;
	s->lru.next->prev = e;
	s->lru.next = e;
}

static struct entry *cache_find(struct server *s, const struct nm_upcall_req *r)
{
	for (struct entry *e = s->bucket[hash_req(r)]; e; e = e->hnext)
		if (e->want4 == r->want4 && e->want6 == r->want6 && strcmp(e->name, r->name) == 0)
			return e;
	return NULL;
}

/* Remove e from the cache and free it (never a busy one). */
static void cache_drop(struct server *s, struct entry *e)
{
	struct nm_upcall_req r = { .want4 = e->want4, .want6 = e->want6 };
	struct entry **pp;

	memcpy(r.name, e->name, sizeof(r.name));
	for (pp = &s->bucket[hash_req(&r)]; *pp && *pp != e; pp = &(*pp)->hnext)
		;
	if (*pp)
		*pp = e->hnext;
	nm_shcache_del(s->shared, e->name, e->want4, e->want6);
	lru_unlink(e);
	free(e);
	s->entries--;
}

/* The idle entry to make room with: the soonest to expire (an expired one
 * first), the least recently used among equals.  Recency alone would be
 * wrong: the upcalls that read an answer from the shared cache never tell
 * us, so a name used all the time that way looks unused here. */
static struct entry *cache_victim(struct server *s)
{
	struct entry *v = NULL;

	for (struct entry *e = s->lru.prev; e != &s->lru; e = e->prev)
		if (!v || e->expires < v->expires)
			v = e;
	return v;
}

/* A new entry for r, busy: a free slot, else cache_victim's; NULL when
 * every slot is being resolved. */
static struct entry *cache_new(struct server *s, const struct nm_upcall_req *r)
{
	struct entry *e;

	if (s->entries >= CACHE_SLOTS) {
		struct entry *v = cache_victim(s);

		if (!v)
			return NULL;
		cache_drop(s, v);
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	snprintf(e->name, sizeof(e->name), "%s", r->name);
	e->want4 = r->want4;
	e->want6 = r->want6;
	size_t h = hash_req(r);
	e->hnext = s->bucket[h];
	s->bucket[h] = e;
	s->entries++;
	return e;
}

/* ---- the workers --------------------------------------------------------- */

static void resolve(struct query *q)
{
	const struct nm_conf *c = &q->conf->c;
	struct nm_err err = { 0 };
	/* The upcall's wait began when it asked: time spent queued counts. */
	int left = dns_budget(c) - (int)(nm_time_ms() - q->start);

	memset(&q->ans, 0, sizeof(q->ans));
	if (left < 10) {
		q->ans.status = NM_DNS_TEMPFAIL;
		snprintf(q->ans.why, sizeof(q->ans.why), "the daemon had no time left for DNS");
		return;
	}
	if (nm_dns_resolve(c, q->req.name, q->req.want4, q->req.want6, left, &q->ans, &err) < 0) {
		q->ans.status = NM_DNS_SERVFAIL;
		snprintf(q->ans.why, sizeof(q->ans.why), "%.180s", err.msg);
	}
}

static void resolve_job(struct pool_job *job)
{
	resolve((struct query *)job);
}

/* No worker could run it: a temporary failure, said at once. */
static void resolve_failed(struct pool_job *job)
{
	struct query *q = (struct query *)job;

	memset(&q->ans, 0, sizeof(q->ans));
	q->ans.status = NM_DNS_TEMPFAIL;
	snprintf(q->ans.why, sizeof(q->ans.why), "the daemon cannot start a worker");
}

/* ---- clients (main thread) ----------------------------------------------- */

static int epoll_add(int epfd, int fd, void *tag);
static char tag_listen;

/* A descriptor may be free again (a client closed, or RESUME_MS passed):
 * the spare back first, then the listener back in the epoll set if it was
 * taken out (accept_one). */
static void listen_resume(struct server *s)
{
	if (s->spare < 0)
		s->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (s->listen_paused && s->lfd >= 0 && epoll_add(s->epfd, s->lfd, &tag_listen) == 0)
		s->listen_paused = false;
}

static void reading_unlink(struct client *c)
{
	if (c->prev) {
		c->prev->next = c->next;
		c->next->prev = c->prev;
		c->prev = c->next = NULL;
	}
}

static void client_close(struct server *s, struct client *c)
{
	reading_unlink(c);
	close(c->fd); /* out of the epoll set with it */
	conf_put(c->conf);
	free(c);
	s->clients--;
	listen_resume(s);
}

/* Send the reply, close, then the record: the upcall does not wait on it.
 * An answer the upcall no longer took (it gave up on us and settled the
 * key itself) is recorded as late. */
static void client_reply(struct server *s, struct client *c, const struct nm_ctl_reply *r,
			 bool record, bool cached)
{
	char out[NM_CTL_LINE_MAX];
	struct nm_err err = { 0 };
	int n = nm_ctl_format_reply(r, out, sizeof(out));
	bool sent = n > 0 && send(c->fd, out, (size_t)n, MSG_NOSIGNAL) == n;

	if (record) {
		nfsmigd_watch_upcall_result(s->watch, !sent    ? "late"
						      : !r->ok ? "negative"
						      : cached ? "cache"
							       : "ok");
		if (!sent)
			nfsmigd_log(s->o, LOG_INFO, "%s: answered late, the upcall had gone",
				    c->req.name);
		nm_evlog_upcall(c->conf->c.state_dir, c->req.name, c->callout,
				r->ok ? r->payload : "", r->timeout, r->ok ? "ok" : r->text,
				!sent	 ? "daemon-late"
				: cached ? "daemon-cache"
					 : "daemon",
				&err);
	}
	client_close(s, c);
}

static void client_answer(struct server *s, struct client *c, const struct nm_dns_answer *ans,
			  bool cached)
{
	struct nm_ctl_reply r = { 0 };
	struct nm_upcall_result res;

	nm_upcall_answer(&c->req, &c->conf->c, ans, &res);
	r.ok = res.ok;
	r.timeout = res.timeout;
	r.error = res.error;
	memcpy(r.payload, res.payload, sizeof(r.payload));
	if (res.ok)
		snprintf(r.text, sizeof(r.text), "%s%s", cached ? "cache of " : "",
			 nm_dns_source_name(ans));
	else
		snprintf(r.text, sizeof(r.text), "%s", nm_dns_status_name(res.status));
	client_reply(s, c, &r, true, cached);
}

/* The answer for c's request: from the cache, from a query in flight for
 * the same name, or from a new one. */
static void lookup(struct server *s, struct client *c)
{
	int64_t now = nm_time_boot_ms(); /* the cache's clock */
	struct entry *e;
	struct query *q;

	/* A mount may be moving to that server: the watcher looks. */
	nfsmigd_watch_upcall(s->watch, c->req.name);
	s->lookups++;
	e = cache_find(s, &c->req);
	if (e && e->q && e->q->generation != s->generation) {
		/* Begun before a SIGHUP: its answer is for those who asked
		 * then.  The entry is the new query's; the old one fills none. */
		e->q->e = NULL;
		e->q = NULL;
		e->expires = 0;
	}
	if (e && e->q) {
		/* The answer of the query we wait on, begun under the same
		 * configuration; even when a SIGHUP comes meanwhile (it is
		 * then not cached, but it is ours). */
		s->merged++;
		c->merged = true;
		c->next = e->q->waiters;
		e->q->waiters = c;
		return;
	}
	if (e && e->expires > now) {
		struct nm_dns_answer ans = e->ans;

		s->hits++;
		e->last = now;
		lru_unlink(e);
		lru_push(s, e);
		nm_upcall_age(&ans, (unsigned)((now - e->resolved) / 1000));
		client_answer(s, c, &ans, true);
		return;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		struct nm_dns_answer ans = { .status = NM_DNS_TEMPFAIL, .why = "out of memory" };

		client_answer(s, c, &ans, false);
		return;
	}
	if (e)
		lru_unlink(e); /* expired: filled again */
	else
		e = cache_new(s, &c->req); /* NULL: resolved without caching */
	q->conf = conf_get(c->conf);
	q->req = c->req;
	q->generation = s->generation;
	q->start = nm_time_ms();
	q->e = e;
	q->waiters = c;
	c->next = NULL;
	if (e)
		e->q = q;
	s->queries++;
	q->job.run = resolve_job;
	pool_submit(&s->pool, &q->job, resolve_failed);
}

/* A query is back: the cache gets its answer, its waiters theirs. */
static void query_done(struct server *s, struct query *q)
{
	struct entry *e = q->e;
	struct client *c, *next;

	if (e) {
		e->q = NULL;
		e->ans = q->ans;
		e->last = e->resolved = nm_time_boot_ms();
		e->expires = e->last + 1000LL * nm_upcall_cache_secs(&q->conf->c, &q->ans);
		/* Asked before a SIGHUP: answers the waiters, but is not kept. */
		if (q->generation != s->generation) {
			cache_drop(s, e);
		} else {
			lru_push(s, e);
			nm_shcache_put(s->shared, e->name, e->want4, e->want6, e->resolved,
				       e->expires, &e->ans);
		}
	}
	for (c = q->waiters; c; c = next) {
		next = c->next;
		client_answer(s, c, &q->ans, c->merged);
	}
	conf_put(q->conf);
	free(q);
}

static void pool_collect(struct server *s)
{
	struct pool_job *job, *next;

	for (job = pool_take_done(&s->pool); job; job = next) {
		next = job->next;
		query_done(s, (struct query *)job);
	}
}

/* STATUS: the daemon and its watcher, for nfsmig status. */
static void status_reply(struct server *s, struct client *c)
{
	struct nm_ctl_status st = { .pid = (long)getpid(), .started = s->started };
	char out[NM_CTL_LINE_MAX];
	int n;

	nfsmigd_watch_status(s->watch, &st);
	st.cache = s->entries;
	st.lookups = s->lookups;
	st.hits = s->hits;
	n = nm_ctl_format_status(&st, out, sizeof(out));
	if (n > 0 && send(c->fd, out, (size_t)n, MSG_NOSIGNAL) != n)
		nfsmigd_log(s->o, LOG_INFO, "status: the asker had gone");
	client_close(s, c);
}

static void request(struct server *s, struct client *c)
{
	struct nm_ctl_reply r = { 0 };
	struct nm_err err = { 0 };
	char *desc, *callout;

	c->conf = conf_get(s->conf);
	if (nm_ctl_is_status(c->line)) {
		status_reply(s, c);
		return;
	}
	if (nm_ctl_parse_request(c->line, &desc, &callout) < 0) {
		r.error = EINVAL;
		r.timeout = c->conf->c.servfail_ttl;
		snprintf(r.text, sizeof(r.text), "garbled request");
		client_reply(s, c, &r, false, false);
	} else if (nm_upcall_parse(desc, callout, &c->req, &err) < 0) {
		r.error = EINVAL;
		r.timeout = c->conf->c.servfail_ttl;
		snprintf(r.text, sizeof(r.text), "%.200s", err.msg);
		nfsmigd_log(s->o, LOG_WARNING, "rejected request: %s", err.msg);
		client_reply(s, c, &r, false, false);
	} else {
		c->callout = callout;
		lookup(s, c);
	}
}

static void client_read(struct server *s, struct client *c)
{
	ssize_t k = recv(c->fd, c->line + c->got, sizeof(c->line) - 1 - c->got, 0);

	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (k <= 0) {
		client_close(s, c);
		return;
	}
	c->got += (size_t)k;
	c->line[c->got] = '\0';
	if (!strchr(c->line, '\n')) {
		if (c->got == sizeof(c->line) - 1)
			client_close(s, c); /* no request is that long */
		return;
	}
	c->line[strcspn(c->line, "\n")] = '\0';
	/* Read once: what it sends after its line is not looked at. */
	reading_unlink(c);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	request(s, c);
}

/* Clients that did not send their request in time. */
static void reading_expire(struct server *s, int64_t now)
{
	while (s->reading.next != &s->reading && s->reading.next->deadline <= now)
		client_close(s, s->reading.next);
}

/* Only root and our own user may ask. */
static bool peer_allowed(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	return cr.uid == 0 || cr.uid == geteuid();
}

/* Take one connection; false when none was waiting. */
static bool accept_one(struct server *s)
{
	int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct epoll_event ev = { .events = EPOLLIN };
	struct client *c;

	if (fd < 0 && (errno == EMFILE || errno == ENFILE) && s->spare >= 0) {
		/* Out of descriptors: take the connection with the spare one
		 * and close it (the upcall resolves by itself), rather than
		 * leave it pending and be woken for it again and again. */
		close(s->spare);
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		s->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
		return true;
	}
	if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
		/* No spare either: the listener leaves the epoll set until a
		 * client closes (level-triggered, it would wake us at once,
		 * again and again); the upcalls wait in its queue or resolve
		 * by themselves. */
		if (!s->listen_paused && epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->lfd, NULL) == 0) {
			s->listen_paused = true;
			s->resume_at = nm_time_ms() + RESUME_MS;
		}
		return false;
	}
	if (fd < 0)
		return false; /* none, gone before we took it, or a passing error */
	if (!peer_allowed(fd)) {
		nfsmigd_log(s->o, LOG_WARNING, "refused a client that is not root");
		close(fd);
		return true;
	}
	if (s->clients >= s->max_clients) {
		/* The upcall resolves by itself when we close on it. */
		close(fd);
		return true;
	}
	c = malloc(sizeof(*c));
	if (!c) {
		close(fd);
		return true;
	}
	memset(c, 0, offsetof(struct client, line));
	c->line[0] = '\0';
	c->fd = fd;
	c->deadline = nm_time_ms() + READ_MS;
	ev.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		free(c);
		return true;
	}
	/* Deadlines in accept order: the list stays sorted. */
	c->next = &s->reading;
	c->prev = s->reading.prev;
	s->reading.prev->next = c;
	s->reading.prev = c;
	s->clients++;
	return true;
}

/* ---- the service ----------------------------------------------------------- */

/* Does a daemon listen on sun?  A connection taken, or a full queue. */
static bool socket_live(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 || errno == EAGAIN;
	close(fd);
	return live;
}

static int listen_on(const struct nfsmigd_opts *o, struct stat *self)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)];
	struct stat st;
	mode_t old;
	int fd;

	if (strlen(o->conf.socket) >= sizeof(sun.sun_path)) {
		nfsmigd_log(o, LOG_ERR, "%s: socket path too long", o->conf.socket);
		return -1;
	}
	memcpy(sun.sun_path, o->conf.socket, strlen(o->conf.socket) + 1);
	memcpy(dir, o->conf.socket, strlen(o->conf.socket) + 1);
	if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST) {
		nfsmigd_log(o, LOG_ERR, "%s: %s", dir, strerror(errno));
		return -1;
	}
	/* A socket left by a daemon that died is replaced; one a daemon still
	 * listens on, or anything that is not a socket, is left alone. */
	if (lstat(sun.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			nfsmigd_log(o, LOG_ERR, "%s exists and is not a socket", sun.sun_path);
			return -1;
		}
		if (socket_live(&sun)) {
			nfsmigd_log(o, LOG_ERR, "%s: a daemon is running on it", sun.sun_path);
			return -1;
		}
		unlink(sun.sun_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	old = umask(0177);
	/* SOMAXCONN (the kernel's somaxconn caps it): a burst of upcalls
	 * waits in the queue rather than finding it full and resolving by
	 * itself. */
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		umask(old);
		nfsmigd_log(o, LOG_ERR, "%s: %s", sun.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	umask(old);
	chmod(sun.sun_path, 0600);
	if (lstat(sun.sun_path, self) < 0)
		memset(self, 0, sizeof(*self));
	return fd;
}

/* Unlink the socket path only while it is still ours (self). */
static void unlink_socket(const char *path, const struct stat *self)
{
	struct stat st;

	if (lstat(path, &st) == 0 && st.st_dev == self->st_dev && st.st_ino == self->st_ino)
		unlink(path);
}

/* SIGHUP: the configuration again, and an empty cache (a DNS change the
 * administrator wants seen now).  A bad file keeps the configuration in
 * use; the cache is emptied anyway.  Lookups in flight keep the
 * configuration they began with. */
static void reload(struct server *s)
{
	struct conf_ref *r = calloc(1, sizeof(*r));
	struct nm_err err = { 0 };
	unsigned dropped = 0;
	bool ok = false;

	if (r) {
		nm_conf_defaults(&r->c);
		ok = nm_conf_load(&r->c, s->o->config, !s->o->config_given, &err) == 0;
	} else {
		nm_err_set(&err, -ENOMEM, "out of memory");
	}
	if (ok) {
		if (strcmp(r->c.socket, s->conf->c.socket) != 0)
			nfsmigd_log(s->o, LOG_WARNING,
				    "socket: a new path takes a restart (%s kept)",
				    s->conf->c.socket);
		snprintf(r->c.socket, sizeof(r->c.socket), "%s", s->conf->c.socket);
		conf_put(s->conf);
		s->conf = conf_get(r);
	} else {
		free(r);
	}
	s->generation++;
	nm_shcache_clear(s->shared, &s->conf->c);
	while (s->lru.next != &s->lru) {
		cache_drop(s, s->lru.next);
		dropped++;
	}
	if (ok)
		nfsmigd_log(s->o, LOG_NOTICE,
			    "SIGHUP: configuration reloaded, %u cached names dropped", dropped);
	else
		nfsmigd_log(s->o, LOG_ERR,
			    "SIGHUP: %s (configuration kept), %u cached names dropped", err.msg,
			    dropped);
}

/* As many descriptors as MAX_CLIENTS connections need (the soft limit up
 * to the hard one); the clients allowed are what the limit leaves after
 * the workers' DNS sockets. */
static unsigned client_limit(void)
{
	struct rlimit rl;
	rlim_t want = MAX_CLIENTS + 64 + 8 * POOL_MAX, have;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 256;
	if (rl.rlim_cur < want) {
		rl.rlim_cur =
			rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	have = rl.rlim_cur;
	if (have <= 64 + 8 * POOL_MAX + 16)
		return 16;
	have -= 64 + 8 * POOL_MAX;
	return have < MAX_CLIENTS ? (unsigned)have : MAX_CLIENTS;
}

static int epoll_add(int epfd, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Free what the main thread owns (the workers are gone). */
static void server_free(struct server *s)
{
	while (s->reading.next != &s->reading)
		client_close(s, s->reading.next);
	for (size_t i = 0; i < CACHE_BUCKETS; i++)
		while (s->bucket[i]) {
			struct entry *e = s->bucket[i];

			s->bucket[i] = e->hnext;
			free(e);
		}
	conf_put(s->conf);
	free(s);
}

int nfsmigd_serve(const struct nfsmigd_opts *o)
{
	struct server *s = calloc(1, sizeof(*s));
	struct nm_err err = { 0 };
	char shared[NM_CONF_PATH_MAX + sizeof(NM_SHCACHE_SUFFIX)];
	sigset_t sigs;
	bool stop = false;
	int64_t drain_end = 0;

	if (!s)
		return 1;
	/* One thread takes the signals: blocked before anything else (a
	 * SIGHUP before would end us; the workers inherit the mask), read
	 * from a signalfd. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	s->o = o;
	s->started = (int64_t)time(NULL);
	/* The DNS client, before any worker. */
	if (nm_dns_init(&err) < 0)
		nfsmigd_log(o, LOG_ERR, "%s", err.msg);
	s->conf = calloc(1, sizeof(*s->conf));
	if (!s->conf) {
		free(s);
		return 1;
	}
	s->conf->refs = 1;
	s->conf->c = o->conf;
	s->lru.next = s->lru.prev = &s->lru;
	s->reading.next = s->reading.prev = &s->reading;
	s->max_clients = client_limit();
	s->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (pool_init(&s->pool) < 0) {
		nfsmigd_log(o, LOG_ERR, "eventfd: %s", strerror(errno));
		if (s->spare >= 0)
			close(s->spare);
		server_free(s);
		return 1;
	}
	s->lfd = listen_on(o, &s->sock_self);
	if (s->lfd < 0) {
		/* Another daemon's socket, or none to be had: nothing started. */
		pool_destroy(&s->pool);
		if (s->spare >= 0)
			close(s->spare);
		server_free(s);
		return 1;
	}
	/* The upcalls read cached answers there without waking us; without
	 * it they ask on the socket. */
	if (nm_shcache_path(o->conf.socket, shared, sizeof(shared)) < 0 ||
	    nm_shcache_create(shared, &o->conf, &s->shared, &err) < 0)
		nfsmigd_log(o, LOG_WARNING, "no cache for the upcalls to read: %s",
			    err.msg[0] ? err.msg : "socket path too long");
	if (!o->foreground && daemon(0, 0) < 0) {
		nfsmigd_log(o, LOG_ERR, "cannot detach: %s", strerror(errno));
		return 1;
	}
	s->sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->sfd < 0 || s->epfd < 0 || epoll_add(s->epfd, s->sfd, &tag_signal) < 0 ||
	    epoll_add(s->epfd, s->lfd, &tag_listen) < 0 ||
	    epoll_add(s->epfd, s->pool.efd, &tag_pool) < 0) {
		nfsmigd_log(o, LOG_ERR, "signalfd, epoll: %s", strerror(errno));
		return 1;
	}
	nfsmigd_log(o, LOG_NOTICE, "listening on %s", o->conf.socket);
	s->watch = nfsmigd_watch_start(o, &o->conf);
	for (;;) {
		struct epoll_event ev[64];
		int64_t now = nm_time_ms(), wake = -1;
		int n;

		reading_expire(s, now);
		if (stop && (s->clients == 0 || now >= drain_end))
			break;
		if (s->listen_paused && !stop && now >= s->resume_at)
			listen_resume(s);
		/* A timeout only for a client still sending, the listener out
		 * of descriptors, or the drain. */
		if (s->reading.next != &s->reading)
			wake = s->reading.next->deadline;
		if (s->listen_paused && !stop && (wake < 0 || s->resume_at < wake))
			wake = s->resume_at;
		if (stop && (wake < 0 || drain_end < wake))
			wake = drain_end;
		n = epoll_wait(s->epfd, ev, 64, wake < 0 ? -1 : (int)(wake - now) + 1);
		for (int i = 0; i < n; i++) {
			void *tag = ev[i].data.ptr;

			if (tag == &tag_signal) {
				struct signalfd_siginfo si;

				while (read(s->sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						reload(s);
					} else if (!stop) {
						/* New upcalls find no daemon and resolve by
						 * themselves; those in flight get a little
						 * time, then their connection closes with us. */
						stop = true;
						drain_end = nm_time_ms() + DRAIN_MS;
						epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->lfd, NULL);
						close(s->lfd);
						s->lfd = -1;
						unlink_socket(o->conf.socket, &s->sock_self);
						nm_shcache_close(s->shared, true);
						s->shared = NULL;
						nfsmigd_log(o, LOG_NOTICE,
							    "stopping: %lu lookups, %lu from "
							    "cache, %lu "
							    "merged, %lu queries",
							    s->lookups, s->hits, s->merged,
							    s->queries);
					}
				}
			} else if (tag == &tag_listen) {
				/* A burst is taken in one wake-up. */
				for (int k = 0; k < 64 && !stop && accept_one(s); k++)
					;
			} else if (tag == &tag_pool) {
				pool_collect(s);
			} else {
				client_read(s, tag);
			}
		}
	}
	if (nfsmigd_watch_stop(s->watch) != 0) {
		nfsmigd_log(o, LOG_NOTICE, "stopping: a watcher's job left to the exit");
		_exit(0);
	}
	if (s->clients > 0 || !pool_stop(&s->pool, 100)) {
		/* Workers still use s: it stays theirs until the process ends. */
		nfsmigd_log(o, LOG_NOTICE, "%u requests in flight left to their upcalls",
			    s->clients);
		_exit(0);
	}
	pool_destroy(&s->pool);
	close(s->sfd);
	close(s->epfd);
	if (s->spare >= 0)
		close(s->spare);
	server_free(s);
	return 0;
}
