/* nfsmig migrate MOUNT --to ADDRESS: move a kernel mount's transport to
 * another address of the same server.  The decisions are libcore's
 * (nm_migrate); this file asks, prints and does the steps in order. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "nm_conf.h"
#include "nm_event.h"
#include "nm_json.h"
#include "nm_migrate.h"
#include "nm_mount.h"
#include "nm_store.h"
#include "nm_utab.h"
#include "opts.h"
#include "output.h"

/* How long the mount may take to answer again on its old address. */

struct run {
	const char *target, *from, *to;
	bool json, dry_run;
	struct nm_migrate_result res;
	bool checked;
	struct nm_migrate_xprt x[NM_MIGRATE_MAX_XPRTS];
	size_t nx;
	bool linked;		/* found by the mount's own sysfs links (6.12) */
	char xprt_warning[256]; /* not pinned to the mount's own transport */
	bool moved, moved_back;
	char message[2 * NM_ERR_MSG_MAX];
	const struct nm_mount *others[16]; /* other mounts whose transports move too */
	size_t nothers;
	/* after a failed move: what the mount's addr= says now, and the
	 * transports the old address was not written back to */
	char left_at[64];
	size_t unrestored_from, unrestored_to;
	bool recorded, utab, evented; /* what was written of the move */
	char warnings[4][NM_ERR_MSG_MAX + 64];
	size_t nwarn;
};

/* A warning, said on stderr (text) or in -J's "warnings". */
__attribute__((format(printf, 2, 3))) static void warn(struct run *r, const char *fmt, ...)
{
	char w[sizeof(r->warnings[0])];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w, sizeof(w), fmt, ap);
	va_end(ap);
	if (!r->json)
		nm_out_printf(stderr, "nfsmig: %s\n", w);
	if (r->nwarn < sizeof(r->warnings) / sizeof(r->warnings[0]))
		memcpy(r->warnings[r->nwarn++], w, sizeof(w));
}

static void print_json(const struct run *r)
{
	printf("{\"mountpoint\":");
	nm_json_str(stdout, r->target);
	printf(",\"from\":");
	nm_json_str(stdout, r->from);
	printf(",\"to\":");
	nm_json_str(stdout, r->to);
	printf(",\"dry_run\":%s,\"checks\":[", r->dry_run ? "true" : "false");
	for (int i = 0; r->checked && i < NM_MIG_N; i++) {
		printf("%s{\"check\":\"%s\",\"verdict\":\"%s\",\"answered\":%s,\"message\":",
		       i ? "," : "", nm_migrate_check_name(i), nm_verdict_name(r->res.chk[i].v),
		       r->res.unanswered[i] ? "false" : "true");
		nm_json_str(stdout, r->res.chk[i].why);
		printf("}");
	}
	printf("],\"outcome\":\"%s\",\"transports\":[",
	       r->checked ? nm_migrate_outcome_name(r->res.outcome) : "unchecked");
	for (size_t i = 0; i < r->nx; i++) {
		printf("%s", i ? "," : "");
		nm_json_str(stdout, r->x[i].path);
	}
	printf("],\"also_moves\":[");
	for (size_t i = 0; i < r->nothers; i++) {
		printf("%s", i ? "," : "");
		nm_json_str(stdout, r->others[i]->target);
	}
	printf("],\"moved\":%s,\"moved_back\":%s", r->moved ? "true" : "false",
	       r->moved_back ? "true" : "false");
	if (r->left_at[0]) {
		printf(",\"left_at\":");
		nm_json_str(stdout, r->left_at);
	}
	printf(",\"transports_unrestored\":[");
	for (size_t i = r->unrestored_from; i < r->unrestored_to; i++) {
		printf("%s", i > r->unrestored_from ? "," : "");
		nm_json_str(stdout, r->x[i].path);
	}
	printf("],\"recorded\":%s,\"utab\":%s,\"event\":%s,\"warnings\":[",
	       r->recorded ? "true" : "false", r->utab ? "true" : "false",
	       r->evented ? "true" : "false");
	for (size_t i = 0; i < r->nwarn; i++) {
		printf("%s", i ? "," : "");
		nm_json_str(stdout, r->warnings[i]);
	}
	printf("],\"message\":");
	nm_json_str(stdout, r->message);
	printf("}\n");
}

static int finish(struct run *r, int rc)
{
	if (r->json)
		print_json(r);
	else if (r->message[0])
		nm_out_printf(rc == NM_EXIT_OK ? stdout : stderr, "%s%s\n",
			      rc == NM_EXIT_OK ? "" : "nfsmig: ", r->message);
	return rc;
}

static bool event(const char *state_dir, const struct nm_mount *m, struct run *r,
		  const char *result)
{
	struct json_object *ev = json_object_new_object();
	struct nm_err err = { 0 };
	bool ok;

	if (!ev) {
		warn(r, "the event of %s was not written: out of memory", m->target);
		return false;
	}
	json_object_object_add(ev, "event", json_object_new_string("transport-move"));
	json_object_object_add(ev, "trigger", json_object_new_string("migrate"));
	json_object_object_add(ev, "mountpoint", json_object_new_string(m->target));
	json_object_object_add(ev, "source", json_object_new_string(m->source));
	json_object_object_add(ev, "from", json_object_new_string(r->from));
	json_object_object_add(ev, "to", json_object_new_string(r->to));
	json_object_object_add(ev, "result", json_object_new_string(result));
	json_object_object_add(ev, "transports", json_object_new_int((int)r->nx));
	if (r->message[0])
		json_object_object_add(ev, "message", json_object_new_string(r->message));
	ok = nm_event_append(state_dir, ev, 0, &err) == 0;
	if (!ok)
		warn(r, "the event of %s was not written: %s", m->target, err.msg);
	json_object_put(ev);
	return ok;
}

/* Is the mount at target answering, from addr (its addr= now)? */
static int moved_ok(const char *target, const char *to, int timeout_ms, struct nm_err *err)
{
	struct nm_mount now;
	char *sp = NULL;
	int rc = nm_migrate_stat_deadline(target, timeout_ms, err);

	if (rc < 0)
		return rc;
	if (nm_mount_find(NULL, target, &now, &sp, err) < 0)
		return -ENOENT;
	free(sp);
	rc = nm_migrate_addr_equal(now.server, to)
		     ? 0
		     : nm_err_set(err, -EPROTO, "the mount answers, but its addr= is %s, not %s",
				  now.server, to);
	nm_mount_free(&now);
	return rc;
}

/* The other NFS mounts whose transports move too: of the same address
 * (6.1: every client of it), and of the same version where the mount's
 * own clients were found (the kernel shares one client among them). */
static void sharing(struct run *r, const struct nm_mount *m, struct nm_mount *all, size_t n,
		    bool linked)
{
	for (size_t i = 0; i < n && r->nothers < sizeof(r->others) / sizeof(r->others[0]); i++)
		if (strcmp(all[i].target, m->target) != 0 &&
		    nm_migrate_addr_equal(all[i].server, m->server) &&
		    (all[i].port ? all[i].port : 2049) == (m->port ? m->port : 2049) &&
		    (!linked || all[i].minor == m->minor))
			r->others[r->nothers++] = &all[i];
}

int nm_cmd_migrate(int argc, char **argv)
{
	enum { OPT_STATEDIR = 256, OPT_TO, OPT_DRYRUN, OPT_MOUNTINFO };
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, OPT_STATEDIR },
		{ "to", required_argument, NULL, OPT_TO },
		{ "dry-run", no_argument, NULL, OPT_DRYRUN },
		{ "mountinfo", required_argument, NULL, OPT_MOUNTINFO },
		{ "json", no_argument, NULL, 'J' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct run r; /* large: its transports */
	char state_dir[NM_CONF_PATH_MAX];
	struct nm_err err = { 0 };
	struct nm_mount m = { 0 }, *all = NULL;
	struct nm_record rec = { 0 };
	struct nm_migrate_answers *ans = NULL;
	unsigned char buf[16];
	size_t nall = 0, done = 0;
	char *sp = NULL;
	const char *mountinfo = NULL;
	int timeout_ms = 10000, c, rc = NM_EXIT_FAIL, lockfd = -1;

	memset(&r, 0, sizeof(r));
	nm_opt_default_state_dir(state_dir, sizeof(state_dir));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "Jt:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_STATEDIR: snprintf(state_dir, sizeof(state_dir), "%s", optarg); break;
		case OPT_TO: r.to = optarg; break;
		case OPT_DRYRUN: r.dry_run = true; break;
		case OPT_MOUNTINFO: mountinfo = optarg; break;
		case 'J': r.json = true; break;
		case 't':
			timeout_ms = nm_opt_seconds("--timeout", optarg, 100, 3600 * 1000);
			if (timeout_ms < 0)
				return NM_EXIT_USAGE;
			break;
		case 'h': nm_command_usage(nm_command_find("migrate"), 0); return NM_EXIT_OK;
		default: nm_opt_bad(argv); return NM_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || !r.to) {
		if (!r.to)
			fprintf(stderr, "nfsmig: migrate needs --to ADDRESS\n");
		nm_command_usage(nm_command_find("migrate"), 1);
		return NM_EXIT_USAGE;
	}
	if (inet_pton(AF_INET, r.to, buf) != 1 && inet_pton(AF_INET6, r.to, buf) != 1) {
		nm_out_printf(stderr,
			      "nfsmig: --to %s: not a numeric IPv4 or IPv6 address (the kernel's "
			      "transport takes an address, not a name)\n",
			      r.to);
		return NM_EXIT_USAGE;
	}
	/* A saved table is not this system's: the checks only. */
	if (mountinfo)
		r.dry_run = true;
	if (nm_mount_find(mountinfo, argv[optind], &m, &sp, &err) < 0) {
		nm_out_printf(stderr, "nfsmig: %s\n", err.msg);
		return NM_EXIT_FAIL;
	}
	free(sp);
	r.target = m.target;
	r.from = m.server;
	if (nm_migrate_addr_equal(m.server, r.to)) {
		snprintf(r.message, sizeof(r.message),
			 "%s is served from %s already: nothing to do", m.target, r.to);
		rc = finish(&r, NM_EXIT_OK);
		goto out;
	}
	if (nm_store_load(state_dir, m.target, &rec, &err) < 0) {
		snprintf(r.message, sizeof(r.message),
			 "%s: no usable record (%s): `nfsmig register %s` saves the handles that "
			 "tell the new address serves the same file system",
			 m.target, err.msg, m.target);
		rc = finish(&r, NM_EXIT_FAIL);
		goto out;
	}

	/* The checks. */
	ans = calloc(1, sizeof(*ans));
	if (!ans) {
		snprintf(r.message, sizeof(r.message), "out of memory");
		rc = finish(&r, NM_EXIT_FAIL);
		goto out;
	}
	nm_migrate_ask(&m, &rec, r.to, timeout_ms, ans);
	nm_migrate_judge(&rec, m.sec, ans, &r.res);
	r.checked = true;
	for (int i = 0; i < NM_MIG_N; i++)
		if (!r.json)
			nm_out_printf(stdout, "%-12s %-5s %s\n", nm_migrate_check_name(i),
				      nm_verdict_name(r.res.chk[i].v), r.res.chk[i].why);
	if (r.res.outcome != NM_MIG_PASS) {
		nm_migrate_summary(&r.res, m.target, r.to, r.message, sizeof(r.message));
		rc = finish(&r, r.res.outcome == NM_MIG_UNANSWERED ? 3 : NM_EXIT_FAIL);
		goto out;
	}

	if (mountinfo) {
		snprintf(r.message, sizeof(r.message),
			 "the checks passed (--mountinfo: a saved table, nothing moved)");
		rc = finish(&r, NM_EXIT_OK);
		goto out;
	}

	/* The transports: one migrate of an address at a time, from the scan
	 * to the end of the move back. */
	if (!r.dry_run && (lockfd = nm_migrate_lock(state_dir, m.server, &err)) < 0) {
		snprintf(r.message, sizeof(r.message), "%s not moved: %s", m.target, err.msg);
		rc = finish(&r, NM_EXIT_FAIL);
		goto out;
	}
	struct nm_migrate_xprt_q q = { .dev_major = m.dev_major,
				       .dev_minor = m.dev_minor,
				       .server = m.server,
				       .port = m.port,
				       .src_port = nm_migrate_src_port(NULL, m.target) };

	if (nm_migrate_xprt_find(&q, r.x, NM_MIGRATE_MAX_XPRTS, &r.nx, &r.linked, r.xprt_warning,
				 sizeof(r.xprt_warning), &err) < 0) {
		snprintf(r.message, sizeof(r.message), "%s not moved: %s", m.target, err.msg);
		rc = finish(&r, NM_EXIT_FAIL);
		goto out;
	}
	if (nm_mount_list(NULL, &all, &nall, &err) == 0)
		sharing(&r, &m, all, nall, r.linked || !r.xprt_warning[0]);
	if (r.xprt_warning[0] && !r.json)
		nm_out_printf(stderr, "nfsmig: warning: %s\n", r.xprt_warning);
	for (size_t i = 0; i < r.nx && !r.json; i++)
		nm_out_printf(stdout, "transport    %s (%s)\n", r.x[i].path, r.x[i].dstaddr);
	for (size_t i = 0; i < r.nothers && !r.json; i++)
		nm_out_printf(stdout, "also moves   %s (the same address: one RPC client)\n",
			      r.others[i]->target);
	if (r.dry_run) {
		snprintf(r.message, sizeof(r.message),
			 "dry run: the checks passed; %s would move from %s to %s", m.target,
			 m.server, r.to);
		rc = finish(&r, NM_EXIT_OK);
		goto out;
	}
	const char *pause = secure_getenv(NM_MIGRATE_PAUSE_ENV);

	if (pause && pause[0])
		nm_out_printf(stderr, "test pause active: %s\n", pause);
	if (nm_migrate_test_pause(pause, &err) < 0) {
		snprintf(r.message, sizeof(r.message), "%s not moved: %s", m.target, err.msg);
		rc = finish(&r, NM_EXIT_FAIL);
		goto out;
	}

	/* The move, checked; moved back when it does not answer. */
	struct nm_err why = { 0 };
	int wrc = nm_migrate_xprt_write(NULL, r.x, r.nx, r.to, &done, &why);

	if (wrc == 0) {
		done = r.nx;
		wrc = moved_ok(m.target, r.to, timeout_ms, &why);
	}
	if (wrc == 0) {
		struct nm_err e2 = { 0 };

		r.moved = true;
		snprintf(r.message, sizeof(r.message), "%s moved from %s to %s", m.target, m.server,
			 r.to);
		r.recorded = nm_migrate_record(state_dir, m.target, m.server, r.to,
					       (int64_t)time(NULL), &e2) == 0;
		if (!r.recorded)
			warn(&r, "the move of %s was not recorded: %s", m.target, e2.msg);
		r.utab = nm_utab_set_moved(m.target, r.to, m.server, &e2) == 0;
		if (!r.utab)
			warn(&r, "utab of %s not updated: %s", m.target, e2.msg);
		r.evented = event(state_dir, &m, &r, "moved");
		/* The mounts that moved along: each recorded, told and checked. */
		for (size_t i = 0; i < r.nothers; i++) {
			const struct nm_mount *o = r.others[i];

			if (moved_ok(o->target, r.to, timeout_ms, &e2) < 0)
				warn(&r, "%s moved along but does not answer: %s", o->target,
				     e2.msg);
			if (nm_migrate_record(state_dir, o->target, o->server, r.to,
					      (int64_t)time(NULL), &e2) < 0 &&
			    e2.code != -ENOENT)
				warn(&r, "the move of %s was not recorded: %s", o->target, e2.msg);
			if (nm_utab_set_moved(o->target, r.to, o->server, &e2) < 0)
				warn(&r, "utab of %s not updated: %s", o->target, e2.msg);
			event(state_dir, o, &r, "moved along");
		}
		rc = finish(&r, NM_EXIT_OK);
		goto out;
	}
	{
		struct nm_err back = { 0 }, e2 = { 0 };
		size_t bdone = 0;
		struct nm_mount now = { 0 };
		char *nsp = NULL;
		/* Only the transports written (all, when the check failed). */
		int brc = nm_migrate_xprt_write(NULL, r.x, done, m.server, &bdone, &back);

		if (brc < 0) {
			r.unrestored_from = bdone;
			r.unrestored_to = done;
		}
		/* The transport may be waiting out its reconnect back-off
		 * after the failed connects: the old address gets longer. */
		if (brc == 0)
			brc = moved_ok(m.target, m.server, nm_migrate_back_ms(timeout_ms), &back);
		r.moved_back = brc == 0;
		snprintf(r.message, sizeof(r.message),
			 "%s: the move to %s failed (%.400s); %s%.400s", m.target, r.to, why.msg,
			 brc == 0 ? "moved back to " : "moving back failed too: ",
			 brc == 0 ? m.server : back.msg);
		for (size_t i = r.unrestored_from; i < r.unrestored_to; i++)
			warn(&r, "transport %s left at %s (not written back)", r.x[i].path, r.to);
		/* Where the mount is now, said, and recorded when it is not
		 * where it was. */
		if (nm_mount_find(NULL, m.target, &now, &nsp, &e2) == 0) {
			snprintf(r.left_at, sizeof(r.left_at), "%s", now.server);
			if (!r.json)
				nm_out_printf(stderr, "nfsmig: %s: addr=%s now\n", m.target,
					      now.server);
			if (!nm_migrate_addr_equal(now.server, m.server)) {
				r.recorded =
					nm_migrate_record(state_dir, m.target, m.server, now.server,
							  (int64_t)time(NULL), &e2) == 0;
				if (!r.recorded)
					warn(&r, "%s left at another address, not recorded: %s",
					     m.target, e2.msg);
			}
			nm_mount_free(&now);
			free(nsp);
		} else {
			warn(&r, "%s: its addr= could not be read again: %s", m.target, e2.msg);
		}
		r.evented = event(state_dir, &m, &r, brc == 0 ? "moved back" : "failed");
		rc = finish(&r, NM_EXIT_FAIL);
	}
out:
	if (lockfd >= 0)
		close(lockfd);
	free(ans);
	nm_record_free(&rec);
	nm_mount_list_free(all, nall);
	nm_mount_free(&m);
	return rc;
}
