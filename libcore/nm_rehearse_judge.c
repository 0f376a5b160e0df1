/* nm_rehearse_judge - the verdict on a rehearsal's record (pure). */
#include <stdio.h>
#include <string.h>

#include "nm_rehearse.h"

const char *nm_reh_state_name(enum nm_reh_state s)
{
	switch (s) {
	case NM_REH_STATE_TRANSPARENT: return "transparent";
	case NM_REH_STATE_RECLAIM: return "reclaim";
	case NM_REH_STATE_REOPEN: return "reopen";
	case NM_REH_STATE_CONFLICT: return "conflict";
	case NM_REH_STATE_LOST: return "lost";
	case NM_REH_STATE_REFERRAL: return "referral";
	case NM_REH_STATE_KEPT: return "kept";
	case NM_REH_STATE_UNANSWERED: break;
	}
	return "unanswered";
}

const char *nm_reh_kind_name(enum nm_reh_kind k)
{
	switch (k) {
	case NM_REH_KIND_NONE: return "none";
	case NM_REH_KIND_MIGRATION: return "migration";
	case NM_REH_KIND_REFERRAL: return "referral";
	case NM_REH_KIND_UNKNOWN: break;
	}
	return "unknown";
}

const char *nm_reh_status_name(enum nm_reh_status s)
{
	switch (s) {
	case NM_REH_OK: return "ok";
	case NM_REH_FAILED: return "failed";
	case NM_REH_INFO: return "info";
	case NM_REH_UNANSWERED: break;
	}
	return "unanswered";
}

/* What the Linux client does (lab facts: knfsd, Debian 6.1 and 6.12). */
static const char *kernel_line(enum nm_reh_state s, unsigned minor)
{
	switch (s) {
	case NM_REH_STATE_TRANSPARENT:
		return "the mount moves and its open files and locks go on (transparent state "
		       "migration)";
	case NM_REH_STATE_RECLAIM:
		return "the state manager reclaims opens and locks in the destination's grace "
		       "period; processes wait, then go on";
	case NM_REH_STATE_REOPEN:
	case NM_REH_STATE_CONFLICT:
	case NM_REH_STATE_LOST:
		return minor == 0 ? "the mount moves but not its state: a process holding a "
				    "file open loops on NFS4ERR_STALE_STATEID + RENEW forever, "
				    "in D state, unkillable; nothing re-opens for it"
				  : "the mount moves but not its state: a process holding a file "
				    "open loops on NFS4ERR_BAD_STATEID + TEST_STATEID forever, in "
				    "D state, unkillable; nothing re-opens for it";
	case NM_REH_STATE_REFERRAL:
		return "a submount of the destination appears at the referral (a new addr=); "
		       "nothing held moves";
	case NM_REH_STATE_KEPT:
		return "nothing to do: the file system stays on its server and its state with it";
	case NM_REH_STATE_UNANSWERED: break;
	}
	return "unknown: a step was not answered";
}

static void set(struct nm_reh_verdict *v, enum nm_reh_state s, int code, unsigned minor,
		const char *sentence)
{
	v->state = s;
	v->exit_code = code;
	snprintf(v->verdict, sizeof(v->verdict), "%s", sentence);
	snprintf(v->kernel, sizeof(v->kernel), "%s", kernel_line(s, minor));
}

static void unanswered(struct nm_reh_verdict *v, unsigned minor, const char *what)
{
	set(v, NM_REH_STATE_UNANSWERED, 3, minor, "");
	snprintf(v->verdict, sizeof(v->verdict), "no verdict: %s not answered", what);
	snprintf(v->unanswered, sizeof(v->unanswered), "%s", what);
}

/* After a migration, the READ on the destination decides between the
 * verdict the state earned and "checksum differs" (exit 1). */
static void with_read(const struct nm_reh_answers *a, struct nm_reh_verdict *v, unsigned minor)
{
	if (!a->read_answered) {
		unanswered(v, minor, "the READ on the destination");
		return;
	}
	if (!a->read_ok || !a->read_same)
		v->exit_code = 1;
}

void nm_reh_judge(const struct nm_reh_answers *a, unsigned minor, struct nm_reh_verdict *v)
{
	memset(v, 0, sizeof(*v));
	switch (a->kind) {
	case NM_REH_KIND_UNKNOWN:
		if (a->held_answered && !a->held) {
			/* Answered, and refused: nothing to rehearse with. */
			set(v, NM_REH_STATE_UNANSWERED, 1, minor,
			    "no verdict: the source refused to hold the file");
			snprintf(v->kernel, sizeof(v->kernel),
				 "unknown: nothing was held to see what it would do");
			return;
		}
		unanswered(v, minor,
			   a->held_answered ? "the wait for the move"
					    : "the source (OPEN, LOCK and READ)");
		return;
	case NM_REH_KIND_REFERRAL:
		if (!a->locations) {
			unanswered(v, minor, "fs_locations");
			return;
		}
		if (!a->dest_connected) {
			unanswered(v, minor, "the destination");
			return;
		}
		if (!a->read_answered) {
			unanswered(v, minor, "the READ on the destination");
			return;
		}
		set(v, NM_REH_STATE_REFERRAL, a->read_ok ? 0 : 1, minor, "referral, no state");
		return;
	case NM_REH_KIND_NONE:
		if (!a->held_answered || !a->still_answered) {
			unanswered(v, minor,
				   a->held_answered ? "the READ with the held stateid"
						    : "OPEN, LOCK and READ on the source");
			return;
		}
		if (!a->held || !a->still_held) {
			set(v, NM_REH_STATE_LOST, 1, minor, "state lost and not recoverable");
			return;
		}
		set(v, NM_REH_STATE_KEPT, 0, minor, "not moved: state kept on the source");
		return;
	case NM_REH_KIND_MIGRATION: break;
	}
	if (!a->held_answered) {
		unanswered(v, minor, "OPEN, LOCK and READ on the source");
		return;
	}
	if (!a->locations) {
		unanswered(v, minor, "fs_locations");
		return;
	}
	if (!a->dest_connected) {
		unanswered(v, minor, "the destination");
		return;
	}
	if (!a->flavor_answered) {
		unanswered(v, minor, "SECINFO on the destination");
		return;
	}
	if (!a->flavor_ok) {
		set(v, NM_REH_STATE_LOST, 1, minor, "state lost and not recoverable");
		return;
	}
	if (!a->tsm_answered) {
		unanswered(v, minor, "the test of the old state on the destination");
		return;
	}
	if (a->tsm && a->held) {
		set(v, NM_REH_STATE_TRANSPARENT, 0, minor, "state moved transparently");
		with_read(a, v, minor);
		return;
	}
	if (a->reclaim_tried && !a->reclaim_answered) {
		unanswered(v, minor, "the reclaim on the destination");
		return;
	}
	if (a->reclaim_tried && a->reclaim_ok && a->held) {
		set(v, NM_REH_STATE_RECLAIM, 0, minor, "state recovered by reclaim");
		with_read(a, v, minor);
		return;
	}
	if (!a->reopen_tried || !a->reopen_answered) {
		unanswered(v, minor, "the re-OPEN on the destination");
		return;
	}
	if (!a->reopen_ok) {
		set(v, NM_REH_STATE_LOST, 1, minor, "state lost and not recoverable");
		return;
	}
	if (!a->relock_answered) {
		unanswered(v, minor, "the re-LOCK on the destination");
		return;
	}
	if (a->relock_denied) {
		set(v, NM_REH_STATE_CONFLICT, 1, minor,
		    "state recovered by re-open: the lock was taken by another owner in the gap");
		with_read(a, v, minor);
		return;
	}
	if (!a->relock_ok) {
		set(v, NM_REH_STATE_LOST, 1, minor, "state lost and not recoverable");
		return;
	}
	set(v, NM_REH_STATE_REOPEN, 1, minor, "");
	snprintf(v->verdict, sizeof(v->verdict),
		 "state recovered by re-open: locks were unprotected for %lld ms",
		 (long long)(a->lock_gap_ms > 0 ? a->lock_gap_ms : 0));
	with_read(a, v, minor);
}

int nm_reh_exit_code(const struct nm_reh_result *r)
{
	int code = 0;

	if (r->interrupted)
		return 130;
	for (size_t i = 0; i < r->nfiles; i++) {
		int c = r->files[i].verdict.exit_code;

		if (c == 3 || (c == 1 && code == 0))
			code = c;
	}
	return code;
}
