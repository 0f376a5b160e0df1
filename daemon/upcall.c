/* nfsmigd -k: settle the kernel's dns_resolver key, always in time. */
#include <errno.h>
#include <keyutils.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#include "dlog.h"
#include "nm_esc.h"
#include "nm_ctl.h"
#include "nm_dns.h"
#include "nm_evlog.h"
#include "nm_key.h"
#include "nm_shcache.h"
#include "nm_time.h"
#include "nm_upcall.h"
#include "upcall.h"

/* Read by the SIGALRM handler: set once before the timer starts. */
static volatile key_serial_t alarm_key;
static volatile unsigned alarm_timeout = 1;
/* Set once the key is settled: the timer then only ends the record. */
static volatile sig_atomic_t alarm_settled;

static void on_deadline(int sig)
{
	(void)sig;
	if (alarm_settled)
		_exit(0); /* the record took too long: the key has its answer */
	/* Async-signal-safe: the raw system call, then out. */
	syscall(SYS_keyctl, KEYCTL_REJECT, (long)alarm_key, (long)alarm_timeout, (long)EAGAIN, 0L);
	_exit(3);
}

static void arm_deadline(key_serial_t key, const struct nm_conf *c)
{
	struct itimerval it = { { 0, 0 },
				{ c->deadline_ms / 1000, (c->deadline_ms % 1000) * 1000 } };
	struct sigaction sa = { .sa_handler = on_deadline };

	alarm_key = key;
	alarm_timeout = c->tempfail_ttl ? c->tempfail_ttl : 1;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

/* The key is settled: from now on the timer only bounds the record (a
 * second of its own), and never touches the key. */
static void settled(void)
{
	struct itimerval it = { { 0, 0 }, { 1, 0 } };

	alarm_settled = 1;
	setitimer(ITIMER_REAL, &it, NULL);
}

/* A request for another user of dns_resolver (AFS, CIFS...): exec the
 * handler it had before nfsmig (key.dns_resolver) on the same key, as the
 * stock request-key line runs it (the key's number), so that it settles the
 * key as if we were not there.  Without one, or with one others may write,
 * reject with a line that says why. */
static int hand_off(const struct nfsmigd_opts *o, key_serial_t key, const char *desc,
		    const char *callout)
{
	const char *h = o->conf.other_requests;
	struct nm_err err = { 0 };
	bool installed = access(h, X_OK) == 0;

	if (installed && nm_upcall_handler_trusted(o->config, h, &err) < 0) {
		nfsmigd_log(o, LOG_ERR,
			    "key %d: '%.64s' '%.64s' is not a request nfsmigd serves, and %s: "
			    "rejected",
			    key, desc, callout, err.msg);
	} else if (installed) {
		/* As request-key would run it: the key's number as request-key
		 * writes it, SIGPIPE's default action, a minimal environment. */
		static char *const envp[] = { "HOME=/", "PATH=/sbin:/bin:/usr/sbin:/usr/bin",
					      NULL };
		char num[16];
		char *const argv[] = { (char *)h, num, NULL };

		snprintf(num, sizeof(num), "%d", (int)key);

		nfsmigd_log(o, LOG_INFO,
			    "key %d: '%.64s' '%.64s' is not a request nfsmigd serves: %s", key,
			    desc, callout, h);
		/* Our deadline goes on in the handler: a pending ITIMER_REAL
		 * survives execve and SIGALRM's action is then the default,
		 * so a handler that outlives it dies and the kernel negates
		 * the key.  If execv fails the same timer still runs here. */
		signal(SIGPIPE, SIG_DFL);
		execve(h, argv, envp);
		signal(SIGPIPE, SIG_IGN);
		nfsmigd_log(o, LOG_ERR, "key %d: cannot run %s: %s", key, h, strerror(errno));
	} else {
		nfsmigd_log(o, LOG_ERR,
			    "key %d: '%.64s' '%.64s' is not a request nfsmigd serves, and %s is "
			    "not installed (keyutils): rejected",
			    key, desc, callout, h);
	}
	nm_key_reject(key, o->conf.servfail_ttl, EOPNOTSUPP, &err);
	return 1;
}

/* Time worth a DNS query of our own after the daemon's gave up. */
#define NFSMIGD_RETRY_MIN_MS 300

/* The answer to a request: from the daemon when one answers, else our own. */
struct outcome {
	bool ok;
	unsigned timeout;
	int error;
	char payload[NM_UPCALL_PAYLOAD_MAX];
	size_t len;
	char source[64];
	char why[256];
	enum nm_dns_status status;
	const char *by; /* the record is ours to write: "upcall" (resolved here) or
			 * "daemon-cache" (read from the daemon's cache); NULL:
			 * the daemon keeps its own record */
};

static void resolve_here(const struct nfsmigd_opts *o, const struct nm_upcall_req *req,
			 const char *callout, int budget_ms, struct outcome *out)
{
	struct nm_dns_answer ans;
	struct nm_upcall_result res;
	struct nm_err err = { 0 };

	/* The DNS client is started here, the first time this process needs
	 * it (one thread): an upcall the daemon answered never loads it. */
	if (nm_dns_init(&err) < 0)
		nfsmigd_log(o, LOG_ERR, "%s", err.msg);
	if (nm_dns_resolve(&o->conf, req->name, req->want4, req->want6, budget_ms, &ans, &err) <
	    0) {
		ans.status = NM_DNS_SERVFAIL;
		snprintf(ans.why, sizeof(ans.why), "%.180s", err.msg);
	}
	nm_upcall_answer(req, &o->conf, &ans, &res);
	snprintf(out->why, sizeof(out->why), "%s", ans.why);
	out->ok = res.ok;
	out->status = res.status;
	out->timeout = res.timeout;
	out->error = res.error;
	memcpy(out->payload, res.payload, sizeof(out->payload));
	out->len = res.len;
	if (res.ok)
		snprintf(out->source, sizeof(out->source), "%s", nm_dns_source_name(&ans));
	out->by = "upcall";
}

/* The upcall record, written once the key is settled: the kernel does not
 * wait on our disk. */
static void record(const struct nfsmigd_opts *o, const struct nm_upcall_req *req,
		   const char *callout, const struct outcome *out)
{
	struct nm_err err = { 0 };

	if (!out->by)
		return; /* the daemon keeps its own record */
	nm_evlog_upcall(o->conf.state_dir, req->name, callout, out->ok ? out->payload : "",
			out->timeout, out->ok ? "ok" : nm_dns_status_name(out->status), out->by,
			&err);
}

/* The daemon's cache as it shares it: the answer it would give, without
 * waking it.  False when the name is not there (or no daemon is). */
static bool from_shared_cache(const struct nfsmigd_opts *o, const struct nm_upcall_req *req,
			      struct outcome *out)
{
	char path[NM_CONF_PATH_MAX + sizeof(NM_SHCACHE_SUFFIX)];
	struct nm_conf c = o->conf;
	struct nm_dns_answer ans;
	struct nm_upcall_result res;
	struct nm_err err = { 0 };
	int rc;

	if (nm_shcache_path(o->conf.socket, path, sizeof(path)) < 0)
		return false;
	rc = nm_shcache_lookup(path, req, &c, &ans, &err);
	if (rc <= 0) {
		if (rc < 0 && rc != -ENOENT)
			nfsmigd_log(o, LOG_DEBUG, "daemon's cache not read: %s", err.msg);
		return false;
	}
	/* c has the daemon's prefer and TTLs: the key is the one it would
	 * have made. */
	nm_upcall_answer(req, &c, &ans, &res);
	out->ok = res.ok;
	out->status = res.status;
	out->timeout = res.timeout;
	out->error = res.error;
	memcpy(out->payload, res.payload, sizeof(out->payload));
	out->len = res.len;
	snprintf(out->source, sizeof(out->source), "daemon");
	if (res.ok)
		snprintf(out->why, sizeof(out->why), "cache of %s", nm_dns_source_name(&ans));
	else
		snprintf(out->why, sizeof(out->why), "%s", nm_dns_status_name(res.status));
	out->by = "daemon-cache";
	return true;
}

/* The daemon's cache, else ask the daemon, then resolve here if it is not
 * there or went away. */
static void answer(const struct nfsmigd_opts *o, const char *desc, const char *callout,
		   const struct nm_upcall_req *req, int64_t end, struct outcome *out)
{
	struct nm_ctl_reply r;
	struct nm_err err = { 0 };
	int64_t left = end - nm_time_ms();
	int rc;

	memset(out, 0, sizeof(*out));
	if (from_shared_cache(o, req, out))
		return;
	/* The daemon gets a share of the time: alive but stuck, it must leave
	 * us the rest to resolve by ourselves. */
	rc = nm_ctl_ask(o->conf.socket, desc, callout, o->conf.daemon_wait_ms,
			nm_upcall_daemon_share_ms((int)left), &r, &err);
	left = end - nm_time_ms();
	if (rc == 0 && !r.ok && r.error == EAGAIN && left >= NFSMIGD_RETRY_MIN_MS) {
		/* The daemon's DNS ran out of its share: the rest is ours. */
		nfsmigd_log(o, LOG_DEBUG, "daemon: %s; asking DNS here", r.text);
		resolve_here(o, req, callout, (int)left, out);
		return;
	}
	if (rc == 0) {
		out->ok = r.ok;
		out->timeout = r.timeout;
		out->error = r.error;
		snprintf(out->source, sizeof(out->source), "daemon");
		snprintf(out->why, sizeof(out->why), "%s", r.text);
		if (r.ok) {
			snprintf(out->payload, sizeof(out->payload), "%s", r.payload);
			out->len = strlen(out->payload) + 1;
		}
		return;
	}
	nfsmigd_log(o, LOG_DEBUG, "daemon not asked: %s", err.msg);
	left = end - nm_time_ms();
	if (left < 50) {
		out->ok = false;
		out->timeout = o->conf.tempfail_ttl;
		out->error = EAGAIN;
		out->status = NM_DNS_TEMPFAIL;
		snprintf(out->why, sizeof(out->why), "deadline reached (%.200s)", err.msg);
		return;
	}
	resolve_here(o, req, callout, (int)left, out);
}

int nfsmigd_upcall(const struct nfsmigd_opts *o, const char *serial)
{
	char desc[NM_KEY_DESC_MAX], callout[NM_KEY_CALLOUT_MAX];
	struct nm_upcall_req req;
	struct nm_err err = { 0 };
	struct outcome out;
	key_serial_t key;
	int64_t start = nm_time_ms();

	if (nm_key_parse_serial(serial, &key) < 0) {
		syslog(LOG_ERR, "bad key serial '%.32s'", serial);
		return 1;
	}
	if (!o) {
		/* Unusable command line or configuration: settle the key at
		 * once, but other users' requests still go to their handler
		 * (the default one): our broken file must not break them. */
		struct nfsmigd_opts d = { 0 };

		nm_conf_defaults(&d.conf);
		arm_deadline(key, &d.conf);
		if (nm_key_read_request(key, desc, sizeof(desc), callout, sizeof(callout), &err) ==
			    0 &&
		    nm_upcall_is_foreign(desc, callout))
			return hand_off(&d, key, desc, callout);
		keyctl_assume_authority(key);
		keyctl_negate(key, 1, KEY_REQKEY_DEFL_DEFAULT);
		return 1;
	}
	arm_deadline(key, &o->conf);
	if (nm_key_read_request(key, desc, sizeof(desc), callout, sizeof(callout), &err) < 0) {
		nfsmigd_log(o, LOG_ERR, "%s", err.msg);
		keyctl_negate(key, 1, KEY_REQKEY_DEFL_DEFAULT);
		return 1;
	}
	if (nm_upcall_is_foreign(desc, callout))
		return hand_off(o, key, desc, callout);
	if (nm_upcall_parse(desc, callout, &req, &err) < 0) {
		nfsmigd_log(o, LOG_ERR, "key %d: rejected: %s", key, err.msg);
		nm_key_reject(key, o->conf.servfail_ttl, EINVAL, &err);
		return 1;
	}
	/* Leave a margin inside the deadline for settling the key. */
	answer(o, desc, callout, &req, start + o->conf.deadline_ms - 150, &out);
	if (out.ok) {
		if (nm_key_answer(key, out.payload, out.len, out.timeout, &err) < 0) {
			nfsmigd_log(o, LOG_ERR, "%s", err.msg);
			keyctl_negate(key, 1, KEY_REQKEY_DEFL_DEFAULT);
			return 1;
		}
		settled();
		record(o, &req, callout, &out);
		nfsmigd_log(o, LOG_INFO, "%s: %s for %u s (%s)", req.name, out.payload, out.timeout,
			    out.source);
		return 0;
	}
	if (nm_key_reject(key, out.timeout, out.error, &err) < 0) {
		nfsmigd_log(o, LOG_ERR, "%s", err.msg);
		return 1;
	}
	settled();
	record(o, &req, callout, &out);
	nfsmigd_log(o, LOG_WARNING, "%s: rejected for %u s: %s", req.name, out.timeout, out.why);
	return 0;
}

int nfsmigd_debug(const struct nfsmigd_opts *o, const char *desc, const char *callout)
{
	struct nm_upcall_req req;
	struct nm_err err = { 0 };
	struct outcome out;
	char e1[1024], e2[1024];

	if (nm_upcall_is_foreign(desc, callout)) {
		const char *h = o->conf.other_requests;

		if (access(h, X_OK) < 0)
			printf("status: not served\nhandler: %s (not installed)\n", h);
		else if (nm_upcall_handler_trusted(o->config, h, &err) < 0)
			printf("status: not served\nhandler: %s (refused: %s)\n", h, err.msg);
		else
			printf("status: not served\nhandler: %s\n", h);
		return 1;
	}
	if (nm_upcall_parse(desc, callout, &req, &err) < 0) {
		printf("status: rejected\nerror: EINVAL\ntimeout: %u\nwhy: %s\n",
		       o->conf.servfail_ttl, nm_esc_buf(err.msg, 0, e1, sizeof(e1)));
		return 1;
	}
	answer(o, desc, callout, &req, nm_time_ms() + o->conf.deadline_ms - 150, &out);
	record(o, &req, callout, &out);
	if (out.ok) {
		printf("status: ok\npayload: %s\ntimeout: %u\nsource: %s\n",
		       nm_esc_buf(out.payload, 0, e1, sizeof(e1)), out.timeout,
		       nm_esc_buf(out.source, 0, e2, sizeof(e2)));
		return 0;
	}
	printf("status: rejected\nerror: %s\ntimeout: %u\nwhy: %s\n",
	       out.error == ENODATA  ? "ENODATA"
	       : out.error == EAGAIN ? "EAGAIN"
				     : "ECONNREFUSED",
	       out.timeout, nm_esc_buf(out.why, 0, e1, sizeof(e1)));
	return 1;
}
