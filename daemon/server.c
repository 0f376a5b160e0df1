/* nfsmigd's service: answer upcalls from a cache, one DNS query per name. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
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
#include "nm_time.h"
#include "nm_upcall.h"
#include "server.h"
#include "watch.h"

#define CACHE_SLOTS 4096
#define MAX_CLIENTS 512

struct entry {
	char name[NM_DNS_NAME_MAX + 1];
	bool want4, want6;
	bool used, busy;
	unsigned long generation;
	unsigned long round; /* the query that filled it: unique in the server */
	int64_t expires, last, resolved;
	struct nm_dns_answer ans;
};

/* The daemon's state: on the heap, freed only once no worker runs. */
struct server {
	const struct nfsmigd_opts *o; /* the command line; its conf is the first */
	pthread_mutex_t mu;
	pthread_cond_t cv;	  /* an entry was resolved */
	pthread_cond_t idle;	  /* a worker ended */
	struct nm_conf conf;	  /* the configuration now (SIGHUP reloads it) */
	unsigned long generation; /* SIGHUP: lookups begun before are not cached */
	unsigned long rounds;	  /* queries begun: names each one (entry.round) */
	struct entry *cache;	  /* CACHE_SLOTS, allocated once: entries never move */
	unsigned clients;
	unsigned long lookups, hits, merged, queries;
	struct nfsmigd_watch *watch; /* the watcher, or NULL */
	int64_t started;	     /* seconds since the epoch */
};

struct client {
	struct server *s;
	int fd;
};

/* Time the daemon gives DNS: inside the share of the deadline an upcall
 * waits for it. */
static int dns_budget(const struct nm_conf *c)
{
	return nm_upcall_daemon_dns_ms(c);
}

/* A cached answer, secs after it came: its TTLs count down as DNS's do. */
static void age_answer(struct nm_dns_answer *a, unsigned secs)
{
	if (a->from_hosts || a->from_nss)
		return;
	a->ttl = a->ttl > secs ? a->ttl - secs : 0;
	for (size_t i = 0; i < a->naddr; i++)
		a->addr[i].ttl = a->addr[i].ttl > secs ? a->addr[i].ttl - secs : 0;
}

/* With s->mu held: the entry for (name, families), or a slot to reuse. */
static struct entry *slot_for(struct server *s, const struct nm_upcall_req *r, bool *found)
{
	struct entry *free_slot = NULL, *oldest = NULL;
	int64_t now = nm_time_ms();

	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		struct entry *e = &s->cache[i];

		if (e->used && e->want4 == r->want4 && e->want6 == r->want6 &&
		    strcmp(e->name, r->name) == 0) {
			*found = true;
			return e;
		}
		if (!e->used || (!e->busy && e->expires <= now)) {
			if (!free_slot)
				free_slot = e;
		} else if (!e->busy && (!oldest || e->last < oldest->last)) {
			oldest = e;
		}
	}
	*found = false;
	return free_slot ? free_slot : oldest;
}

/* The answer for r, from the cache or from one DNS query that concurrent
 * requests for the same name wait on; c is the caller's copy of the
 * configuration, gen the generation it was copied in (an answer found
 * with a configuration a SIGHUP replaced is not cached). */
static void lookup(struct server *s, const struct nm_conf *c, unsigned long gen,
		   const struct nm_upcall_req *r, struct nm_dns_answer *ans, bool *cached)
{
	struct nm_err err = { 0 };
	struct entry *e;
	unsigned long round = 0;
	bool found;

	pthread_mutex_lock(&s->mu);
	s->lookups++;
	e = slot_for(s, r, &found);
	if (found && e->busy) {
		s->merged++;
		round = e->round;
		while (e->busy && e->round == round)
			pthread_cond_wait(&s->cv, &s->mu);
		/* The answer of the query we waited on, even when a SIGHUP came
		 * meanwhile (it is then not cached, but it is ours). */
		if (e->round == round) {
			*ans = e->ans;
			*cached = true;
			pthread_mutex_unlock(&s->mu);
			return;
		}
	}
	if (found && !e->busy && e->used && e->expires > nm_time_ms() && e->want4 == r->want4 &&
	    e->want6 == r->want6 && strcmp(e->name, r->name) == 0) {
		s->hits++;
		e->last = nm_time_ms();
		*ans = e->ans;
		age_answer(ans, (unsigned)((e->last - e->resolved) / 1000));
		*cached = true;
		pthread_mutex_unlock(&s->mu);
		return;
	}
	*cached = false;
	if (found && (e->busy || !e->used || strcmp(e->name, r->name) != 0))
		e = slot_for(s, r, &found); /* the slot changed while we waited */
	if (!e || e->busy) {
		/* Every slot is being resolved: resolve without caching. */
		pthread_mutex_unlock(&s->mu);
		if (nm_dns_resolve(c, r->name, r->want4, r->want6, dns_budget(c), ans, &err) < 0) {
			ans->status = NM_DNS_SERVFAIL;
			snprintf(ans->why, sizeof(ans->why), "%.180s", err.msg);
		}
		return;
	}
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", r->name);
	e->want4 = r->want4;
	e->want6 = r->want6;
	e->used = e->busy = true;
	e->generation = gen;
	e->round = ++s->rounds;
	s->queries++;
	pthread_mutex_unlock(&s->mu);

	if (nm_dns_resolve(c, r->name, r->want4, r->want6, dns_budget(c), ans, &err) < 0) {
		ans->status = NM_DNS_SERVFAIL;
		snprintf(ans->why, sizeof(ans->why), "%.180s", err.msg);
	}
	pthread_mutex_lock(&s->mu);
	e->ans = *ans;
	e->last = e->resolved = nm_time_ms();
	e->expires = e->last + 1000LL * nm_upcall_cache_secs(c, ans);
	e->busy = false;
	/* Asked before a SIGHUP: answers the waiters, but is not kept. */
	if (gen != s->generation)
		e->used = false;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void reply(struct server *s, int fd, char *line)
{
	struct nm_ctl_reply r = { 0 };
	struct nm_upcall_req req;
	struct nm_dns_answer ans;
	struct nm_upcall_result res;
	struct nm_err err = { 0 };
	char *desc, *callout, out[NM_CTL_LINE_MAX];
	bool cached = false, have_req = false, sent;
	struct nm_conf c;
	unsigned long gen;
	int n;

	/* The configuration and its generation together: one SIGHUP apart
	 * they would cache an answer of the old configuration as new. */
	pthread_mutex_lock(&s->mu);
	c = s->conf;
	gen = s->generation;
	pthread_mutex_unlock(&s->mu);

	if (nm_ctl_parse_request(line, &desc, &callout) < 0) {
		r.error = EINVAL;
		r.timeout = c.servfail_ttl;
		snprintf(r.text, sizeof(r.text), "garbled request");
	} else if (nm_upcall_parse(desc, callout, &req, &err) < 0) {
		r.error = EINVAL;
		r.timeout = c.servfail_ttl;
		snprintf(r.text, sizeof(r.text), "%.200s", err.msg);
		nfsmigd_log(s->o, LOG_WARNING, "rejected request: %s", err.msg);
	} else {
		have_req = true;
		lookup(s, &c, gen, &req, &ans, &cached);
		nfsmigd_watch_upcall(s->watch, req.name);
		nm_upcall_answer(&req, &c, &ans, &res);
		r.ok = res.ok;
		r.timeout = res.timeout;
		r.error = res.error;
		memcpy(r.payload, res.payload, sizeof(r.payload));
		if (res.ok)
			snprintf(r.text, sizeof(r.text), "%s%s", cached ? "cache of " : "",
				 nm_dns_source_name(&ans));
		else
			snprintf(r.text, sizeof(r.text), "%s", nm_dns_status_name(res.status));
	}
	n = nm_ctl_format_reply(&r, out, sizeof(out));
	sent = n > 0 && send(fd, out, (size_t)n, MSG_NOSIGNAL) == n;
	if (!have_req)
		return;
	/* The record once the upcall has its answer: it does not wait on it.
	 * An answer the upcall no longer took (it gave up on us and settled
	 * the key itself) is recorded as late. */
	if (!sent)
		nfsmigd_log(s->o, LOG_INFO, "%s: answered late, the upcall had gone", req.name);
	nm_evlog_upcall(c.state_dir, req.name, callout, r.ok ? r.payload : "", r.timeout,
			r.ok ? "ok" : r.text,
			!sent	 ? "daemon-late"
			: cached ? "daemon-cache"
				 : "daemon",
			&err);
}

/* STATUS: the daemon and its watcher, for nfsmig status. */
static void status_reply(struct server *s, int fd)
{
	struct nm_ctl_status st = { .pid = (long)getpid(), .started = s->started };
	char out[NM_CTL_LINE_MAX];
	int64_t now = nm_time_ms();
	int n;

	nfsmigd_watch_status(s->watch, &st);
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		if (s->cache[i].used && !s->cache[i].busy && s->cache[i].expires > now)
			st.cache++;
	st.lookups = s->lookups;
	st.hits = s->hits;
	pthread_mutex_unlock(&s->mu);
	n = nm_ctl_format_status(&st, out, sizeof(out));
	if (n > 0 && send(fd, out, (size_t)n, MSG_NOSIGNAL) != n)
		nfsmigd_log(s->o, LOG_INFO, "status: the asker had gone");
}

static void *serve_client(void *arg)
{
	struct client *c = arg;
	char line[NM_CTL_LINE_MAX];
	size_t got = 0;
	struct timeval tv = { .tv_sec = 2 };

	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (got < sizeof(line) - 1) {
		ssize_t k = recv(c->fd, line + got, sizeof(line) - 1 - got, 0);

		if (k <= 0)
			break;
		got += (size_t)k;
		line[got] = '\0';
		if (strchr(line, '\n')) {
			line[strcspn(line, "\n")] = '\0';
			if (nm_ctl_is_status(line))
				status_reply(c->s, c->fd);
			else
				reply(c->s, c->fd, line);
			break;
		}
	}
	close(c->fd);
	pthread_mutex_lock(&c->s->mu);
	c->s->clients--;
	pthread_cond_broadcast(&c->s->idle);
	pthread_mutex_unlock(&c->s->mu);
	free(c);
	return NULL;
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

static int listen_on(const struct nfsmigd_opts *o)
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
	/* A socket left by a daemon that died is replaced; anything else that
	 * is not a socket is left alone. */
	if (lstat(sun.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			nfsmigd_log(o, LOG_ERR, "%s exists and is not a socket", sun.sun_path);
			return -1;
		}
		unlink(sun.sun_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	old = umask(0177);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 256) < 0) {
		umask(old);
		nfsmigd_log(o, LOG_ERR, "%s: %s", sun.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	umask(old);
	chmod(sun.sun_path, 0600);
	return fd;
}

/* SIGHUP: the configuration again, and an empty cache (a DNS change the
 * administrator wants seen now).  A bad file keeps the configuration in
 * use; the cache is emptied anyway. */
static void reload(struct server *s)
{
	struct nm_conf c;
	struct nm_err err = { 0 };
	unsigned dropped = 0;
	bool ok;

	nm_conf_defaults(&c);
	ok = nm_conf_load(&c, s->o->config, !s->o->config_given, &err) == 0;
	pthread_mutex_lock(&s->mu);
	if (ok) {
		if (strcmp(c.socket, s->conf.socket) != 0)
			nfsmigd_log(s->o, LOG_WARNING,
				    "socket: a new path takes a restart (%s kept)", s->conf.socket);
		snprintf(c.socket, sizeof(c.socket), "%s", s->conf.socket);
		s->conf = c;
	}
	s->generation++;
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		struct entry *e = &s->cache[i];

		if (e->used && !e->busy) {
			memset(e, 0, sizeof(*e));
			dropped++;
		}
	}
	pthread_mutex_unlock(&s->mu);
	if (ok)
		nfsmigd_log(s->o, LOG_NOTICE,
			    "SIGHUP: configuration reloaded, %u cached names dropped", dropped);
	else
		nfsmigd_log(s->o, LOG_ERR,
			    "SIGHUP: %s (configuration kept), %u cached names dropped", err.msg,
			    dropped);
}

static void accept_one(struct server *s, int lfd, pthread_attr_t *attr)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	struct client *c;
	pthread_t t;

	if (fd < 0)
		return; /* gone before we took it, or a passing error */
	if (!peer_allowed(fd)) {
		nfsmigd_log(s->o, LOG_WARNING, "refused a client that is not root");
		close(fd);
		return;
	}
	pthread_mutex_lock(&s->mu);
	if (s->clients >= MAX_CLIENTS) {
		/* The upcall resolves by itself when we close on it. */
		pthread_mutex_unlock(&s->mu);
		close(fd);
		return;
	}
	s->clients++;
	pthread_mutex_unlock(&s->mu);
	c = malloc(sizeof(*c));
	if (!c || pthread_create(&t, attr, serve_client, c ? (c->s = s, c->fd = fd, c) : NULL)) {
		free(c);
		close(fd);
		pthread_mutex_lock(&s->mu);
		s->clients--;
		pthread_mutex_unlock(&s->mu);
	}
}

/* Wait up to ms for the workers to end; true when none runs. */
static bool drain(struct server *s, int ms)
{
	struct timespec until;
	bool idle;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	while (s->clients > 0 && pthread_cond_timedwait(&s->idle, &s->mu, &until) == 0)
		;
	idle = s->clients == 0;
	pthread_mutex_unlock(&s->mu);
	return idle;
}

int nfsmigd_serve(const struct nfsmigd_opts *o)
{
	struct server *s = calloc(1, sizeof(*s));
	unsigned long lookups, hits, merged, queries;
	pthread_condattr_t ca;
	pthread_attr_t attr;
	unsigned left;
	sigset_t sigs;
	int lfd, sfd;
	bool stop = false;

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
	s->conf = o->conf;
	s->started = (int64_t)time(NULL);
	s->cache = calloc(CACHE_SLOTS, sizeof(*s->cache));
	if (!s->cache) {
		free(s);
		return 1;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	/* drain() waits on a clock no one can set. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->idle, &ca);
	pthread_condattr_destroy(&ca);
	lfd = listen_on(o);
	if (lfd < 0) {
		free(s->cache);
		free(s);
		return 1;
	}
	if (!o->foreground && daemon(0, 0) < 0) {
		nfsmigd_log(o, LOG_ERR, "cannot detach: %s", strerror(errno));
		return 1;
	}
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		nfsmigd_log(o, LOG_ERR, "signalfd: %s", strerror(errno));
		return 1;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	nfsmigd_log(o, LOG_NOTICE, "listening on %s", o->conf.socket);
	s->watch = nfsmigd_watch_start(o, &o->conf);
	while (!stop) {
		struct pollfd pfd[2] = { { .fd = sfd, .events = POLLIN },
					 { .fd = lfd, .events = POLLIN } };
		struct signalfd_siginfo si;

		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[0].revents & POLLIN && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP)
				reload(s);
			else
				stop = true;
			continue;
		}
		if (pfd[1].revents & POLLIN)
			accept_one(s, lfd, &attr);
	}
	/* New upcalls find no daemon and resolve by themselves; those in
	 * flight get a little time, then their connection closes with us. */
	close(lfd);
	unlink(o->conf.socket);
	if (nfsmigd_watch_stop(s->watch) != 0) {
		nfsmigd_log(o, LOG_NOTICE, "stopping: a watcher's job left to the exit");
		_exit(0);
	}
	pthread_mutex_lock(&s->mu);
	lookups = s->lookups;
	hits = s->hits;
	merged = s->merged;
	queries = s->queries;
	pthread_mutex_unlock(&s->mu);
	nfsmigd_log(o, LOG_NOTICE, "stopping: %lu lookups, %lu from cache, %lu merged, %lu queries",
		    lookups, hits, merged, queries);
	if (!drain(s, 500)) {
		/* Workers still use s: it stays theirs until the process ends. */
		pthread_mutex_lock(&s->mu);
		left = s->clients;
		pthread_mutex_unlock(&s->mu);
		nfsmigd_log(o, LOG_NOTICE, "%u requests in flight left to their upcalls", left);
		_exit(0);
	}
	pthread_attr_destroy(&attr);
	close(sfd);
	pthread_cond_destroy(&s->idle);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->cache);
	free(s);
	return 0;
}
