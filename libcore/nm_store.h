/* nm_store - the per-mount state store: one record per NFS mount.
 *
 * A record is a text file in the state directory (default /var/lib/nfsmig),
 * named after the mount point:
 *
 *   nfsmig-state 1
 *   mountpoint=/mnt/x
 *   source=srv1:/export
 *   ...                      one key=value per line; values are
 *   location=srv2:/export    percent-encoded (bytes outside ! .. ~, and %)
 *   mount_id=BOOT 50 0:42 T  which mount of the mount point (optional)
 *   move=1795490195 srv1 srv2 tracepoint:nfs4_state_mgr
 *                            time, from, to and (optional: older records
 *                            have three words) what told of the move
 *   verify=1795490300 OK     nfsmig verify's last verdict (optional)
 *   end                      the last line: a record without it was cut
 *
 * Writes are atomic and durable: a temporary file in the same directory,
 * written, fsync'd, renamed over the record, then the directory fsync'd.
 * Every write holds the record's lock (flock on .NAME.lock, kept), so two
 * writers of one record (register, verify, the daemon) take turns; a
 * read-modify-write is one call, nm_store_update(), under that lock.  A
 * lock held longer than NM_STORE_LOCK_MS is -EAGAIN, not a wait for good.
 * Readers take no lock: a record is only ever replaced whole.
 * A failed write (a full disk) leaves the old record as it was.  Files are
 * opened O_NOFOLLOW|O_CLOEXEC relative to the directory.  A record that
 * cannot be read is reported (-EBADMSG with why) and can be set aside; it
 * never crashes a reader.  Keys a reader does not know are skipped, so a
 * newer writer's record still loads. */
#ifndef NM_STORE_H
#define NM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_err.h"

#define NM_STORE_VERSION     1
#define NM_STORE_DEFAULT_DIR "/var/lib/nfsmig"
#define NM_STORE_MAX_BYTES   (256 * 1024) /* a record larger is corrupt */
#define NM_STORE_MAX_LIST    256	  /* locations; moves: the last ones kept */
/* The most of a record its locations may take (as written, encoded): the
 * rest of the record has room left, so a record that keeps its locations
 * within it saves.  nm_record_location_bytes() says what one takes. */
#define NM_STORE_LOCATION_BYTES (128 * 1024)
#define NM_STORE_FH_MAX		128
/* A record's file name is at most this long: its temporary, lock and
 * set-aside names stay within NAME_MAX (255).  A mount point whose name
 * would be longer gets a head of it, '~' and a 128-bit hash of the whole.
 * A record the first versions saved under the whole encoded name (up to
 * NAME_MAX) is still read there, and the next writer renames it. */
#define NM_STORE_NAME_MAX 200
/* How long a writer waits for a record's lock, at most. */
#define NM_STORE_LOCK_MS 10000

struct nm_move {
	int64_t time; /* seconds since the epoch */
	char *from, *to;
	char *trigger; /* what told of it ("rescan", "tracepoint:NAME"...), or
			* NULL: not said (a record of an older version) */
};

struct nm_record {
	char *mountpoint;
	char *source;	   /* as mounted: server:/export */
	char *orig_server; /* the server address at registration */
	char *cur_server;  /* the server address last seen */
	char *export_path;
	char *sec;
	int vers, minor;
	int64_t registered; /* seconds since the epoch */
	unsigned char root_fh[NM_STORE_FH_MAX];
	unsigned root_fh_len;
	uint64_t fsid_major, fsid_minor;
	uint64_t fileid;
	uint32_t fh_expire_type;
	/* An entry of the root, its handle and fileid: with fsid= exports
	 * (knfsd) the root's handle names only the export, so a different file
	 * system under the same fsid still takes it; this one does not. */
	char *probe_name; /* NULL or "" when the root was empty */
	unsigned char probe_fh[NM_STORE_FH_MAX];
	unsigned probe_fh_len;
	uint64_t probe_fileid;
	char **locations; /* "server:/rootpath" as last seen */
	size_t nlocations;
	struct nm_move *moves;
	size_t nmoves;
	/* What nfsmigd has recorded but not yet reported (its event not known
	 * to be written), as nm_watch_pending_format() writes it; NULL: none. */
	char *pending;
	/* Which mount of the mount point the record is of: "BOOT_ID MOUNT_ID
	 * MAJOR:MINOR [MOUNTED]" (nm_reg_mount_id: the boot, mountinfo's mount
	 * ID and device, when it was mounted), saved at
	 * registration and with each move nfsmigd records; another one is a
	 * new mount there, not a move.  NULL: not known (an older record). */
	char *mount_id;
	/* The last verdict nfsmig verify gave the mount (verify=TIME VERDICT):
	 * when (seconds since the epoch; 0: never) and "OK", "WARN", "FAIL"
	 * or "SKIP" (nm_verdict_name). */
	int64_t verify_time;
	char verify_verdict[8];
};

/* The file name of a mount point's record (no directory); cap is at least
 * NM_STORE_NAME_MAX + 1. */
int nm_store_name(const char *mountpoint, char *buf, size_t cap, struct nm_err *err);

/* -EFBIG for a record larger than NM_STORE_MAX_BYTES written out (it
 * would never load): nothing is written, the old record stays. */
int nm_store_save(const char *dir, const struct nm_record *r, struct nm_err *err);

/* -ENOENT when there is no record; -EBADMSG when it cannot be read;
 * -ENOTUNIQ when the file under its name is a good record of another
 * mount point (a name collision, a renamed file): that one is never set
 * aside or replaced by nm_store_update. */
int nm_store_load(const char *dir, const char *mountpoint, struct nm_record *r, struct nm_err *err);

/* Rename a record that cannot be read to NAME.corrupt-TIME (or
 * NAME.corrupt-TIME-N: an earlier one is never replaced), so it is kept
 * for a look but no longer in the way. */
int nm_store_set_aside(const char *dir, const char *mountpoint, struct nm_err *err);

/* A read-modify-write of one record, under its lock. */
enum {
	NM_STORE_CREATE = 1,	/* no record: fn gets an empty one to fill */
	NM_STORE_SET_ASIDE = 2, /* a corrupt record: fn gets an empty one; when
				 * fn saves, the corrupt one is set aside once
				 * the new one is written (a failed write leaves
				 * it where it was) */
};
struct nm_store_update {
	unsigned flags;	   /* in: NM_STORE_* */
	int lock_ms;	   /* in: the longest wait for the lock; 0: NM_STORE_LOCK_MS */
	int found;	   /* out: 0 (a record), -ENOENT (none), -EBADMSG (corrupt),
			    * -ENOTUNIQ (another mount point's: an error) */
	struct nm_err why; /* out: why the record could not be read */
	char aside[NM_STORE_NAME_MAX + 48]; /* out: the name a corrupt one took */
};

/* fn changes r (the record as stored, or an empty one as flags allow) and
 * returns 0 to save it, 1 to leave the record as it is, or a negative
 * errno (with err) to fail.  It runs under the lock: no network, nothing
 * that can block.  u may be NULL (no flags); then a missing or corrupt
 * record is an error (-ENOENT, -EBADMSG) and fn is not called. */
typedef int (*nm_store_update_fn)(struct nm_record *r, const struct nm_store_update *u, void *arg,
				  struct nm_err *err);
int nm_store_update(const char *dir, const char *mountpoint, struct nm_store_update *u,
		    nm_store_update_fn fn, void *arg, struct nm_err *err);

/* Parse a record from memory (for load and for tests). */
int nm_store_parse(const char *text, size_t len, struct nm_record *r, struct nm_err *err);

/* Add to a record's lists (copies the strings).  A move's servers are
 * words: empty ones are -EINVAL, ones with a space -E2BIG. */
int nm_record_add_location(struct nm_record *r, const char *loc);
/* The bytes a location takes in a record as written ("location=", the
 * value percent-encoded, the newline). */
size_t nm_record_location_bytes(const char *loc);
int nm_record_add_move(struct nm_record *r, int64_t time, const char *from, const char *to);
/* The same with what told of the move (a word; NULL: not said).  A record
 * keeps the last NM_STORE_MAX_LIST moves: past them the oldest is dropped. */
int nm_record_add_move_by(struct nm_record *r, int64_t time, const char *from, const char *to,
			  const char *trigger);

/* Whether server (the kernel's addr= now) is another than the one at
 * registration; a record without its original server cannot tell: false. */
bool nm_record_moved(const struct nm_record *r, const char *server);

/* A deep copy of src; -ENOMEM leaves dst empty. */
int nm_record_copy(struct nm_record *dst, const struct nm_record *src);

void nm_record_free(struct nm_record *r);

#endif
