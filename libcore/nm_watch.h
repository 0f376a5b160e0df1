/* nm_watch - what nfsmigd makes of what it sees: the mount table against
 * the records, and the kernel's events.
 *
 * The decisions are pure functions, tested from tables (test_watch):
 *   nm_watch_decide      one mount and what its record says -> register it,
 *                        a referral, a migration to record, a report to
 *                        finish (pending), a new mount of a registered
 *                        mount point to register again, or nothing
 *   nm_watch_apply_move  the move added to the record under its lock, once
 *                        (a record whose current server is the kernel's
 *                        already has it)
 *   nm_watch_kev_judge   a kernel event -> look again soon (a move may be
 *                        under way), a failed migration, LEASE_MOVED, or
 *                        nothing
 *   nm_watch_pending_*   the marker a record keeps until its event is
 *                        written
 * The work (nm_watch_scan, nm_watch_job_run) is in nm_watch_run.c.
 *
 * Exactly once.  A move is written to the record first (under its lock,
 * fsync'd) with a pending marker naming the event still to write; the
 * event is appended (fsync'd) with the record's time of the move
 * ("record_time"); the hooks run; the marker is cleared.  A daemon killed
 * at any point loses nothing: before the record, the next scan finds the
 * kernel's server differs from the record's (trigger "rescan"); after it,
 * the marker makes the next scan finish the report, and the event is
 * appended only when the log has none for that mount and record_time.
 * Hooks run after their event is written, by the one that wrote it: at
 * most once (a kill between the event and its hooks is said at restart). */
#ifndef NM_WATCH_H
#define NM_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_err.h"
#include "nm_kev.h"
#include "nm_mount.h"
#include "nm_store.h"

enum nm_watch_act {
	NM_WATCH_SKIP = 0,   /* nothing to do */
	NM_WATCH_REGISTER,   /* a new NFSv4 mount without a record */
	NM_WATCH_REFERRAL,   /* a new submount of another server on an NFS mount */
	NM_WATCH_MIGRATION,  /* the kernel's server is not the record's: a move */
	NM_WATCH_RESUME,     /* the record has a report to finish (pending) */
	NM_WATCH_STALE,	     /* a record of another source at this mount point */
	NM_WATCH_UNREADABLE, /* a corrupt record, or another mount point's */
	NM_WATCH_REMOUNT,    /* another mount of the mount point than the record's
			      * (unmounted and mounted again, a reboot): register
			      * it again, the history kept; not a move */
};

/* What the daemon found of one mount's record: found is 0 (rec set),
 * -ENOENT, -EBADMSG or -ENOTUNIQ (nm_store_load). */
struct nm_watch_rec {
	int found;
	const struct nm_record *rec;
	const char *mount_id; /* the mount's identity now (nm_reg_mount_id), NULL:
			       * not known */
};

struct nm_watch_step {
	enum nm_watch_act act;
	const char *from, *to; /* borrowed from the list or the record; NULL when none */
};

/* What to do about list[i] (n mounts, the table in order) given its
 * record.  NFSv3 mounts and mounts that are not NFS are skipped. */
struct nm_watch_step nm_watch_decide(const struct nm_mount *list, size_t n, size_t i,
				     const struct nm_watch_rec *r);

const char *nm_watch_act_name(enum nm_watch_act a);

/* Are two mount identities (nm_reg_mount_id) the same mount?  The boot,
 * mount ID and device must agree, and the times the mount was made, when
 * both say one, within NM_WATCH_MOUNTED_SLACK seconds (mountstats' age is
 * whole seconds).  One that cannot be read is taken for the same. */
#define NM_WATCH_MOUNTED_SLACK 2
bool nm_watch_same_mount(const char *a, const char *b);

/* The kernel log's position that may be saved: the last record read, or
 * just before the oldest of the n records held (failures read but not
 * reported yet: a restart reads them again). */
uint64_t nm_watch_kmsg_safe(uint64_t read_seq, const uint64_t *held, size_t n);

/* Was a mount made (mounted, seconds of CLOCK_MONOTONIC, nm_reg_mounted_at;
 * < 0: not known) after a failure the kernel logged at fail_ms
 * (CLOCK_REALTIME ms; <= 0: not known)?  now_ms and now_mono_ms are the two
 * clocks read together.  Such a mount is a remount since: the failure is
 * not its.  Within NM_WATCH_MOUNTED_SLACK seconds it is not after. */
bool nm_watch_mounted_after(int64_t mounted, int64_t fail_ms, int64_t now_ms, int64_t now_mono_ms);

/* The marker: "KIND TIME TRIGGER FROM TO", words (FROM "-" when none). */
struct nm_watch_pending {
	char kind[24];	  /* the event: "migration", "mount", "referral" */
	int64_t time;	  /* the record's time of it (seconds) */
	char trigger[96]; /* what told of it */
	char from[256], to[256];
};

/* -E2BIG when a word does not fit or holds a blank; *out is malloc'd. */
int nm_watch_pending_format(const struct nm_watch_pending *p, char **out);
/* -EINVAL when s is not a marker. */
int nm_watch_pending_parse(const char *s, struct nm_watch_pending *p);

/* Under the record's lock: the move of r's mount to `to` (the kernel's
 * addr=), told by trigger, at now.  Returns 0 when r was changed (the
 * move added, cur_server set, the pending marker set: save it), 1 when the
 * record has it already (cur_server is to: nothing to save), or a negative
 * errno.  p (may be NULL) gets the marker. */
int nm_watch_apply_move(struct nm_record *r, const char *to, const char *trigger, int64_t now,
			struct nm_watch_pending *p, struct nm_err *err);

/* Under the lock: the marker cleared when it is still `marker`; 0 when
 * cleared (save), 1 when another one is there now (leave it). */
int nm_watch_clear_pending(struct nm_record *r, const char *marker);

enum nm_watch_kev_act {
	NM_WATCH_KEV_IGNORE = 0,
	NM_WATCH_KEV_SETTLE,	  /* a move may be under way: look at the table soon */
	NM_WATCH_KEV_FAILED,	  /* a migration failed: its mounts return EIO */
	NM_WATCH_KEV_LEASE_MOVED, /* a server says some file system of its moved */
};

enum nm_watch_kev_act nm_watch_kev_judge(const struct nm_kev *ev);

/* How strongly ev tells of a move, for the trigger of a settle window (its
 * strongest word, the first of that rank): 3 MOVED, 2 the state manager,
 * a transport replaced or a transport switch added (uevent), 1 the rest. */
int nm_watch_kev_rank(const struct nm_kev *ev);

/* The event's trigger for ev: "tracepoint:NAME", "uevent", "kmsg". */
void nm_watch_trigger(const struct nm_kev *ev, char *buf, size_t cap);

/* Indexes (at most cap, into idx) of the NFSv4 mounts of list whose server
 * is host: the source's host or the kernel's addr=, names without regard
 * to case.  Returns how many there are (may exceed cap). */
size_t nm_watch_mounts_of(const struct nm_mount *list, size_t n, const char *host, size_t *idx,
			  size_t cap);

/* How long a move takes to show in the table after the kernel's first
 * word of it: a settle window of this many ms, the table looked at every
 * NM_WATCH_SETTLE_TICK_MS, extended by later events up to the most. */
#define NM_WATCH_SETTLE_MS	3000
#define NM_WATCH_SETTLE_MAX_MS	15000
#define NM_WATCH_SETTLE_TICK_MS 50

#endif
