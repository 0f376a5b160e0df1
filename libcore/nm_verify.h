/* nm_verify - after a cutover: is each mount served as it should be?
 *
 * Seven checks per mount, each OK, WARN, FAIL or SKIP with a reason:
 *   1 destination  the kernel's server (addr=) is --to, one of the recorded
 *                  fs_locations, or at least not the original server
 *   2 nfs          the destination answers NFSv4 at the mount's minor version
 *   3 same_fs      PUTFH(saved root handle) + GETATTR(fsid, fileid) match the
 *                  record; STALE/BADHANDLE FAIL; FHEXPIRED or a volatile
 *                  fh_expire_type WARN; the saved handle of an entry is
 *                  valid with its fileid; the destination's path (the
 *                  recorded location's rootpath, else the export path)
 *                  leads to the saved root's fsid and fileid, or FAIL.
 *                  A part never answered is a WARN, never OK
 *   4 security     the destination offers the mount's flavor (SECINFO_NO_NAME
 *                  for 4.1+, SECINFO of the root's name for 4.0)
 *   5 source       (with a source) the source answers MOVED for the file
 *                  system and lists the destination in its fs_locations
 *   6 state        for a moved mount, three samples of mountstats and of
 *                  /proc/net/rpc/nfs: stateful operations (WRITE, LOCK...)
 *                  failing while the recovery (RENEW, TEST_STATEID...)
 *                  climbs with them: FAIL; failing with none: WARN
 *                  (nm_mstats_judge_state)
 *   7 record       the record agrees with the kernel; when checks 1-6 raise
 *                  no FAIL, a move the record does not know is recorded
 * Mounts are grouped by destination: one session per server, the checks of
 * many mounts in each COMPOUND, servers in parallel. */
#ifndef NM_VERIFY_H
#define NM_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "nm_err.h"
#include "nm_mount.h"
#include "nm_store.h"

enum nm_verdict { NM_V_OK, NM_V_SKIP, NM_V_WARN, NM_V_FAIL };

enum {
	NM_CHK_DEST,
	NM_CHK_NFS,
	NM_CHK_SAMEFS,
	NM_CHK_SEC,
	NM_CHK_SOURCE,
	NM_CHK_STATE,
	NM_CHK_RECORD,
	NM_CHK_N
};

struct nm_check {
	enum nm_verdict v;
	char why[240];
};

struct nm_verify_item {
	struct nm_mount m;    /* owned */
	struct nm_record rec; /* owned when have_rec */
	bool have_rec;
	struct nm_check chk[NM_CHK_N];
	enum nm_verdict verdict; /* the worst check */
	bool record_updated;
};

struct nm_verify_opts {
	const char *to;	    /* expected destination (name or address) or NULL */
	const char *source; /* SERVER[:PORT][:/PATH] of the source, or NULL */
	const char *state_dir;
	int timeout_ms;
	bool update_record; /* record a confirmed move (check 7) */
	/* Check 6: mountstats files for the two samples (NULL: the kernel's,
	 * three, the last state_interval_ms after the first); with files,
	 * nothing waits.  state_interval_ms 0 without files skips the check. */
	const char *mountstats_before, *mountstats_after;
	int state_interval_ms;
	const char *state_skip; /* why check 6 is skipped, when it is */
};

struct nm_verify_stats {
	unsigned servers;
	unsigned rpcs; /* RPCs to the destinations, setup and teardown included */
};

/* Load each item's record, run the checks, fill chk[] and verdict. */
int nm_verify_run(struct nm_verify_item *items, size_t n, const struct nm_verify_opts *o,
		  struct nm_verify_stats *stats, struct nm_err *err);

/* Check 7's record update, under the record's lock (r as stored now, seen
 * as verify read it): the move of seen's mount to `to` at now, recorded
 * with trigger "verify" and nfsmigd's pending marker (a `migration` to
 * report: the daemon finishes it at its next scan, its event, hooks, utab
 * and fstab report).  Returns NM_VERIFY_MOVE_SAVED (r changed: save it;
 * *from, malloc'd, the server it moved from), _ALREADY (r has it), _CHANGED
 * (registered again since: not the record verify checked), _PENDING
 * (nfsmigd has a report of this mount to finish: the move is left to it;
 * a marker of verify's own, not reported yet, is replaced), _REMOUNTED
 * (the record is of another mount of the mount point than mount_id, the
 * mount's identity now (nm_reg_mount_id, NULL: not known): nothing
 * recorded, register --force), or a negative errno. */
enum {
	NM_VERIFY_MOVE_SAVED = 0,
	NM_VERIFY_MOVE_ALREADY,
	NM_VERIFY_MOVE_CHANGED,
	NM_VERIFY_MOVE_PENDING,
	NM_VERIFY_MOVE_REMOUNTED,
};
int nm_verify_record_move(struct nm_record *r, const struct nm_record *seen, const char *to,
			  const char *mount_id, int64_t now, char **from, struct nm_err *err);

/* it's verdict saved in its record (verify=NOW VERDICT) under the record's
 * lock, for nfsmigd's metrics; nothing without a record read, or in one
 * registered again since verify read it.  0 or a negative errno. */
int nm_verify_record_verdict(const char *state_dir, const struct nm_verify_item *it, int64_t now,
			     struct nm_err *err);

const char *nm_verdict_name(enum nm_verdict v);
const char *nm_check_name(int check);

void nm_verify_item_free(struct nm_verify_item *it);

#endif
