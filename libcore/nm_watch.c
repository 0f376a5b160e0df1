/* nm_watch - nfsmigd's decisions (pure). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nm_watch.h"

struct nm_watch_step nm_watch_decide(const struct nm_mount *list, size_t n, size_t i,
				     const struct nm_watch_rec *r)
{
	const struct nm_mount *m = &list[i], *parent;
	struct nm_watch_step s = { .act = NM_WATCH_SKIP };
	const struct nm_record *rec = r->rec;
	const char *cur;

	if (m->vers != 4 || !m->server || !m->server[0])
		return s;
	/* Another NFS mount on top of this one at the same mount point: the
	 * mount point's record is the visible one's (mountstats names the
	 * last); the covered one is left, or each scan would register the
	 * two in turn. */
	for (size_t j = 0; j < n; j++)
		if (j != i && m->id > 0 && list[j].parent_id == m->id && list[j].vers == 4 &&
		    list[j].target && m->target && strcmp(list[j].target, m->target) == 0)
			return s;
	if (r->found == -ENOENT) {
		parent = nm_mount_referral_parent(list, n, i);
		s.act = parent ? NM_WATCH_REFERRAL : NM_WATCH_REGISTER;
		s.from = parent ? parent->server : NULL;
		s.to = m->server;
		return s;
	}
	if (r->found != 0 || !rec) {
		s.act = NM_WATCH_UNREADABLE;
		return s;
	}
	/* The record of an earlier mount at this place, of another export:
	 * not this mount's, and not a move. */
	if (rec->source && m->source && strcmp(rec->source, m->source) != 0) {
		s.act = NM_WATCH_STALE;
		s.from = rec->source;
		s.to = m->source;
		return s;
	}
	cur = rec->cur_server && rec->cur_server[0] ? rec->cur_server : rec->orig_server;
	/* Another mount of this mount point than the record's (unmounted and
	 * mounted again, from fstab's server maybe; a reboot): a new mount,
	 * whatever its server.  A record of an older version does not say.
	 * Judged before a pending report: whoever records a move (the daemon,
	 * verify) does so only for the record's own mount, so a marker in the
	 * record of another mount is not this mount's to finish. */
	if (rec->mount_id && rec->mount_id[0] && r->mount_id && r->mount_id[0] &&
	    !nm_watch_same_mount(rec->mount_id, r->mount_id)) {
		s.act = NM_WATCH_REMOUNT;
		s.from = cur && cur[0] ? cur : NULL;
		s.to = m->server;
		return s;
	}
	if (rec->pending && rec->pending[0]) {
		s.act = NM_WATCH_RESUME;
		return s;
	}
	if (!cur || !cur[0] || strcmp(cur, m->server) == 0)
		return s;
	s.act = NM_WATCH_MIGRATION;
	s.from = cur;
	s.to = m->server;
	return s;
}

struct ident {
	char boot[64], dev[32];
	long long id, at; /* at -1: not said */
};

static bool ident_parse(const char *s, struct ident *x)
{
	char extra[2];
	int n;

	x->at = -1;
	n = sscanf(s, "%63s %lld %31s %lld %1s", x->boot, &x->id, x->dev, &x->at, extra);
	return n == 3 || (n == 4 && x->at >= 0);
}

bool nm_watch_same_mount(const char *a, const char *b)
{
	struct ident x, y;

	if (!ident_parse(a, &x) || !ident_parse(b, &y))
		return true;
	/* The mount ID is not compared: each mount namespace numbers its
	 * mounts (the service's own namespace, a shell's), while the device and
	 * the time the NFS mount was made belong to the mount itself. */
	if (strcmp(x.boot, y.boot) != 0 || strcmp(x.dev, y.dev) != 0)
		return false;
	return x.at < 0 || y.at < 0 || llabs(x.at - y.at) <= NM_WATCH_MOUNTED_SLACK;
}

uint64_t nm_watch_kmsg_safe(uint64_t read_seq, const uint64_t *held, size_t n)
{
	uint64_t safe = read_seq;

	for (size_t i = 0; i < n; i++)
		if (held[i] > 0 && held[i] - 1 < safe)
			safe = held[i] - 1;
	return safe;
}

bool nm_watch_mounted_after(int64_t mounted, int64_t fail_ms, int64_t now_ms, int64_t now_mono_ms)
{
	int64_t fail_mono_ms;

	if (mounted < 0 || fail_ms <= 0 || now_ms <= 0 || now_mono_ms < 0)
		return false;
	/* The failure on the monotonic clock (the wall clock may have been
	 * set since: both clocks read together now). */
	fail_mono_ms = now_mono_ms - (now_ms - fail_ms);
	return mounted * 1000 > fail_mono_ms + NM_WATCH_MOUNTED_SLACK * 1000;
}

const char *nm_watch_act_name(enum nm_watch_act a)
{
	static const char *const names[] = {
		[NM_WATCH_SKIP] = "skip",
		[NM_WATCH_REGISTER] = "register",
		[NM_WATCH_REFERRAL] = "referral",
		[NM_WATCH_MIGRATION] = "migration",
		[NM_WATCH_RESUME] = "resume",
		[NM_WATCH_STALE] = "stale",
		[NM_WATCH_UNREADABLE] = "unreadable",
		[NM_WATCH_REMOUNT] = "remount",
	};

	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

static bool word_ok(const char *w, size_t cap)
{
	size_t len = strlen(w);

	if (len == 0 || len >= cap)
		return false;
	for (size_t k = 0; k < len; k++)
		if (isspace((unsigned char)w[k]) || !isprint((unsigned char)w[k]))
			return false;
	return true;
}

int nm_watch_pending_format(const struct nm_watch_pending *p, char **out)
{
	const char *from = p->from[0] ? p->from : "-";

	*out = NULL;
	if (!word_ok(p->kind, sizeof(p->kind)) || !word_ok(p->trigger, sizeof(p->trigger)) ||
	    !word_ok(from, sizeof(p->from)) || !word_ok(p->to, sizeof(p->to)))
		return -E2BIG;
	if (asprintf(out, "%s %" PRId64 " %s %s %s", p->kind, p->time, p->trigger, from, p->to) <
	    0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int take_word(const char **s, char *buf, size_t cap)
{
	size_t len = strcspn(*s, " ");

	if (len == 0 || len >= cap)
		return -1;
	memcpy(buf, *s, len);
	buf[len] = '\0';
	*s += len;
	if (**s == ' ')
		(*s)++;
	return word_ok(buf, cap) ? 0 : -1;
}

int nm_watch_pending_parse(const char *s, struct nm_watch_pending *p)
{
	char t[24], *end;

	memset(p, 0, sizeof(*p));
	if (!s || take_word(&s, p->kind, sizeof(p->kind)) < 0 || take_word(&s, t, sizeof(t)) < 0 ||
	    take_word(&s, p->trigger, sizeof(p->trigger)) < 0 ||
	    take_word(&s, p->from, sizeof(p->from)) < 0 ||
	    take_word(&s, p->to, sizeof(p->to)) < 0 || *s)
		goto bad;
	if (!isdigit((unsigned char)t[0]))
		goto bad;
	errno = 0;
	p->time = strtoll(t, &end, 10);
	if (*end || errno)
		goto bad;
	if (strcmp(p->from, "-") == 0)
		p->from[0] = '\0';
	return 0;
bad:
	memset(p, 0, sizeof(*p));
	return -EINVAL;
}

int nm_watch_apply_move(struct nm_record *r, const char *to, const char *trigger, int64_t now,
			struct nm_watch_pending *p, struct nm_err *err)
{
	struct nm_watch_pending mark = { .time = now };
	const char *from;
	char *cur = NULL, *marker = NULL;
	int rc;

	if (r->cur_server && strcmp(r->cur_server, to) == 0)
		return 1; /* recorded already: by us before a restart, or by verify */
	from = r->cur_server && r->cur_server[0]     ? r->cur_server
	       : r->orig_server && r->orig_server[0] ? r->orig_server
						     : "unknown";
	snprintf(mark.kind, sizeof(mark.kind), "migration");
	if (snprintf(mark.trigger, sizeof(mark.trigger), "%s", trigger) >=
		    (int)sizeof(mark.trigger) ||
	    snprintf(mark.from, sizeof(mark.from), "%s", from) >= (int)sizeof(mark.from) ||
	    snprintf(mark.to, sizeof(mark.to), "%s", to) >= (int)sizeof(mark.to))
		return nm_err_set(err, -E2BIG, "%s: a server name or trigger too long to record",
				  r->mountpoint ? r->mountpoint : "?");
	rc = nm_watch_pending_format(&mark, &marker);
	if (rc < 0)
		return nm_err_set(err, rc, "%s: the move %s -> %s (%s) cannot be recorded",
				  r->mountpoint ? r->mountpoint : "?", from, to, trigger);
	cur = strdup(to);
	if (!cur) {
		free(marker);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	rc = nm_record_add_move_by(r, now, from, to, trigger);
	if (rc < 0) {
		free(cur);
		free(marker);
		return nm_err_set(err, rc, "%s: the move %s -> %s cannot be recorded (%s)",
				  r->mountpoint ? r->mountpoint : "?", from, to,
				  rc == -ENOMEM ? "out of memory" : "bad name");
	}
	if (p)
		*p = mark;
	free(r->cur_server); /* from may point here: last */
	r->cur_server = cur;
	free(r->pending);
	r->pending = marker;
	return 0;
}

int nm_watch_clear_pending(struct nm_record *r, const char *marker)
{
	if (!r->pending || strcmp(r->pending, marker) != 0)
		return 1;
	free(r->pending);
	r->pending = NULL;
	return 0;
}

enum nm_watch_kev_act nm_watch_kev_judge(const struct nm_kev *ev)
{
	switch (ev->kind) {
	case NM_KEV_MOVED: return NM_WATCH_KEV_SETTLE;
	case NM_KEV_LEASE_MOVED: return NM_WATCH_KEV_LEASE_MOVED;
	case NM_KEV_STATE_MGR:
		if (ev->flags & NM_KEV_F_LEASE_MOVED)
			return NM_WATCH_KEV_LEASE_MOVED;
		return ev->flags & NM_KEV_F_MOVED ? NM_WATCH_KEV_SETTLE : NM_WATCH_KEV_IGNORE;
	case NM_KEV_STATE_MGR_FAIL:
	case NM_KEV_MIGRATION_FAILED:
	case NM_KEV_VOLATILE_FH: return NM_WATCH_KEV_FAILED;
	case NM_KEV_XPRT_REPLACE:
	case NM_KEV_CLNT_NEW:
	case NM_KEV_XPRT_CREATE:
	case NM_KEV_XPRT_SWITCH:
		/* A new transport: a move, a referral's submount, or a mount. */
		return NM_WATCH_KEV_SETTLE;
	case NM_KEV_NONE: break;
	}
	return NM_WATCH_KEV_IGNORE;
}

int nm_watch_kev_rank(const struct nm_kev *ev)
{
	switch (ev->kind) {
	case NM_KEV_MOVED:
	case NM_KEV_LEASE_MOVED: return 3;
	case NM_KEV_STATE_MGR:
	case NM_KEV_XPRT_REPLACE: return 2;
	case NM_KEV_XPRT_SWITCH:
		/* A transport switch made: the move's own uevent; the others
		 * (clients that come and go) are weaker words. */
		return strncmp(ev->name, "add xprt-switches", 17) == 0 ? 2 : 1;
	default: return 1;
	}
}

void nm_watch_trigger(const struct nm_kev *ev, char *buf, size_t cap)
{
	if (strcmp(ev->source, "tracepoint") == 0 && ev->name[0])
		snprintf(buf, cap, "tracepoint:%.*s", (int)strcspn(ev->name, " "), ev->name);
	else if (strcmp(ev->source, "uevent") == 0 || strcmp(ev->source, "kmsg") == 0)
		snprintf(buf, cap, "%s", ev->source);
	else
		snprintf(buf, cap, "kernel");
}

size_t nm_watch_mounts_of(const struct nm_mount *list, size_t n, const char *host, size_t *idx,
			  size_t cap)
{
	size_t k = 0;

	if (!host || !host[0])
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct nm_mount *m = &list[i];

		if (m->vers != 4)
			continue;
		if ((m->source_host && strcasecmp(m->source_host, host) == 0) ||
		    (m->server && strcasecmp(m->server, host) == 0)) {
			if (k < cap)
				idx[k] = i;
			k++;
		}
	}
	return k;
}
