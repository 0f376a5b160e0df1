/* nm_verify_judge - verify's verdicts from the destination's answers.
 *
 * Pure functions: what the destination said about one mount (struct
 * nm_verify_answer, filled by nm_verify_batch) and the mount's record in,
 * one check out.  Nothing here talks to a server, so every verdict is
 * tested from tables (tests/unit/test_verify.c).  A part of the question
 * the destination never answered is never judged OK. */
#ifndef NM_VERIFY_JUDGE_H
#define NM_VERIFY_JUDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "nfs4_prot.h"
#include "nm_err.h"
#include "nm_store.h"
#include "nm_verify.h"

#define NM_VERIFY_MAX_FLAVORS 8

/* One question about a mount: a few operations after a PUTFH. */
struct nm_verify_part {
	bool wanted;	 /* asked at all */
	bool answered;	 /* every operation answered, or one failed */
	nfsstat4 status; /* NFS4_OK or the failing operation's status */
	nfs_opnum4 op;	 /* the failing operation */
};

struct nm_verify_answer {
	bool reached;		    /* a session with the destination */
	char error[NM_ERR_MSG_MAX]; /* why parts went unanswered, if known */
	/* PUTFH(saved root handle) + GETATTR(fsid, fileid) */
	struct nm_verify_part root;
	bool have_fsid, have_fileid;
	uint64_t fsid_major, fsid_minor, fileid;
	/* SECINFO_NO_NAME (4.1+), or LOOKUPP + SECINFO(root's name) (4.0) */
	struct nm_verify_part sec;
	unsigned flavors[NM_VERIFY_MAX_FLAVORS];
	unsigned nflavors;
	/* PUTROOTFH + LOOKUP of each component of path + GETATTR(fsid,
	 * fileid): where the destination's path leads (new mounts go there) */
	const char *path;     /* set before the batch runs; not owned */
	const char *walk_why; /* why path cannot be walked (then not asked), or NULL */
	struct nm_verify_part walk;
	bool walk_have_fsid, walk_have_fileid;
	uint64_t walk_fsid_major, walk_fsid_minor, walk_fileid;
	/* PUTFH(saved handle of an entry) + GETATTR(fileid) */
	struct nm_verify_part entry;
	bool entry_have_fileid;
	uint64_t entry_fileid;
};

/* Check 1: destination.  now is the kernel's server; to the --to given
 * (or NULL) and whether now is it; location the recorded location now is
 * on (or NULL); orig the server at registration ("" when unknown). */
struct nm_verify_dest_facts {
	const char *now, *to, *location, *orig;
	bool is_to;
};
void nm_verify_judge_destination(const struct nm_verify_dest_facts *f, struct nm_check *c);

/* Check 5: source.  What the source said of path: error (its failure, or
 * NULL), absent (NFS4ERR_MOVED), fs_path, and whether its fs_locations
 * list server (the kernel's now). */
struct nm_verify_source_facts {
	const char *host, *path, *server, *error, *fs_path;
	bool asked, absent, listed;
};
void nm_verify_judge_source(const struct nm_verify_source_facts *f, struct nm_check *c);

/* Check 2: nfs.  minor is the version the session speaks; note, when not
 * empty, why it was not from a reserved port. */
void nm_verify_judge_nfs(const char *server, const struct nm_verify_answer *a, unsigned minor,
			 const char *open_error, const char *note, struct nm_check *c);

/* Check 3: same_fs, from the root, entry and walk parts. */
void nm_verify_judge_samefs(const struct nm_record *rec, const struct nm_verify_answer *a,
			    struct nm_check *c);

/* Check 4: security; sec is the mount's flavor ("sys"). */
void nm_verify_judge_security(const char *sec, const struct nm_verify_answer *a,
			      struct nm_check *c);

/* Set a check's verdict and reason (printf style). */
void nm_verify_set(struct nm_check *c, enum nm_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
