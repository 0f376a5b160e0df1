/* nm_migrate - move a kernel mount's transport to another address of the
 * same server (`nfsmig migrate MOUNT --to ADDRESS`).
 *
 * First the checks, each a recorded answer (struct nm_migrate_answers,
 * filled by nm_migrate_ask) judged by pure functions (nm_migrate_judge*,
 * tested from tables in tests/unit/test_migrate.c):
 *   nfs          ADDRESS answers NFSv4 at the mount's minor version
 *   same_server  4.1+: EXCHANGE_ID's server_owner major ID and server_scope
 *                of ADDRESS equal the current address's (RFC 8881
 *                §2.10.5); 4.0: RFC 7931 §5.8: SETCLIENTID with one
 *                nfs_client_id4 to both addresses gives the same client ID,
 *                and SETCLIENTID_CONFIRM on the current address with
 *                ADDRESS's confirm verifier succeeds
 *   same_fs      PUTFH(the record's saved root handle) + GETATTR(fsid,
 *                fileid) on ADDRESS match the record (nm_verify_judge)
 *   security     ADDRESS offers the mount's flavor (SECINFO_NO_NAME, 4.0
 *                SECINFO)
 * Any check that failed refuses the move; a check not answered is never
 * OK (NM_MIG_UNANSWERED).  A different server is refused with why: that
 * move is the server's to make (fs_locations).
 *
 * Then the move (nm_migrate_xprt_*): the mount's transports in the sunrpc
 * sysfs (/sys/kernel/sunrpc/xprt-switches/switch-N/xprt-M-tcp/dstaddr),
 * found by the mount's server address; ADDRESS written to each; the mount
 * checked to answer (a stat(2) in a child, with a deadline) and its addr=
 * to have changed; on failure the old address written back. */
#ifndef NM_MIGRATE_H
#define NM_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfs4_prot.h"
#include "nm_err.h"
#include "nm_mount.h"
#include "nm_nfs4.h"
#include "nm_store.h"
#include "nm_verify.h"
#include "nm_verify_judge.h"

enum { NM_MIG_NFS, NM_MIG_SERVER, NM_MIG_SAMEFS, NM_MIG_SEC, NM_MIG_N };

/* RFC 7931 §5.8 on NFSv4.0, step by step. */
struct nm_migrate_same40 {
	bool cur_done;	    /* SETCLIENTID + CONFIRM answered NFS4_OK on the current address */
	bool to_answered;   /* SETCLIENTID on ADDRESS answered */
	nfsstat4 to_status; /* and what it said */
	uint64_t cur_clientid, to_clientid;
	bool confirm_answered; /* SETCLIENTID_CONFIRM(to_clientid, ADDRESS's verifier)
				* on the current address answered */
	nfsstat4 confirm_status;
	char error[NM_ERR_MSG_MAX]; /* why a step went unanswered */
};

struct nm_migrate_answers {
	unsigned minor; /* the mount's minor version */
	const char *cur, *to;
	/* ADDRESS: a session at the mount's version */
	bool to_reached;
	bool to_unanswered; /* not reached for want of an answer (else refused) */
	char to_error[NM_ERR_MSG_MAX];
	char to_note[NM_ERR_MSG_MAX];
	unsigned to_minor;
	/* 4.1+: who each address says it is */
	bool cur_reached;
	char cur_error[NM_ERR_MSG_MAX];
	struct nm_nfs4_server_id cur_id, to_id;
	/* 4.0 */
	struct nm_migrate_same40 v40;
	/* ADDRESS's answers about the saved handles and the flavor */
	struct nm_verify_answer fs;
};

enum nm_migrate_outcome {
	NM_MIG_PASS,	   /* every check OK */
	NM_MIG_REFUSED,	   /* a check failed */
	NM_MIG_UNANSWERED, /* none failed, but one was not answered */
};

struct nm_migrate_result {
	struct nm_check chk[NM_MIG_N];
	bool unanswered[NM_MIG_N];
	enum nm_migrate_outcome outcome;
	bool other_server; /* refused because ADDRESS is another server */
};

/* The checks' names ("nfs", "same_server", "same_fs", "security"). */
const char *nm_migrate_check_name(int check);
const char *nm_migrate_outcome_name(enum nm_migrate_outcome o);

/* Pure.  same_server from a's identities (4.1+) or its 4.0 procedure. */
void nm_migrate_judge_server(const struct nm_migrate_answers *a, struct nm_check *c,
			     bool *unanswered);
/* Pure.  Every check and the outcome; sec is the mount's flavor. */
void nm_migrate_judge(const struct nm_record *rec, const char *sec,
		      const struct nm_migrate_answers *a, struct nm_migrate_result *r);

/* Pure.  One line for the outcome: for another server, that the move is
 * the server's to make (fs_locations) and `nfsmig rehearse` tells whether
 * the clients will survive it. */
void nm_migrate_summary(const struct nm_migrate_result *r, const char *mount, const char *to,
			char *buf, size_t cap);

/* Ask: a session to `to` (m's port, version and flavor), who both
 * addresses are, and the saved handles of rec on `to`.  Every question
 * gets an answer or a reason in a; nothing waits past timeout_ms per
 * connect and reply. */
void nm_migrate_ask(const struct nm_mount *m, const struct nm_record *rec, const char *to,
		    int timeout_ms, struct nm_migrate_answers *a);

/* Pure.  How long the mount is asked after the old address is written
 * back: the transport failed connects for up to timeout_ms, its TCP
 * reconnect back-off (3 s at first, doubled after each failure) reaching at
 * most timeout_ms + 3 s; then the call itself within timeout_ms, and as
 * much again to spare: 3 x timeout_ms + 3 s. */
int nm_migrate_back_ms(int timeout_ms);

/* ---- the mount's transports (nm_migrate_xprt.c) ---- */

#define NM_MIGRATE_SYSFS     "/sys"
#define NM_MIGRATE_MAX_XPRTS 64

struct nm_migrate_xprt {
	char path[320];	  /* kernel/sunrpc/xprt-switches/switch-N/xprt-M-tcp, under sysfs */
	char dstaddr[64]; /* what it said before the move */
	int dst_port;	  /* xprt_info's dst_port=, -1 when it has none */
	int src_port;	  /* xprt_info's src_port=, -1 when it has none */
};

/* What nm_migrate_xprt_find looks for. */
struct nm_migrate_xprt_q {
	const char *sys; /* NULL: NM_MIGRATE_SYSFS */
	unsigned dev_major, dev_minor;
	const char *server; /* the mount's addr= */
	unsigned port;	    /* the mount's port, 0: 2049 */
	unsigned src_port;  /* its transport's local port (mountstats), 0: unknown */
};

/* Pure: does a transport's dstaddr file text (a line) name addr?  IPv6
 * text is compared as addresses (inet_pton), not as strings. */
bool nm_migrate_addr_equal(const char *dstaddr_text, const char *addr);

/* The mount's transports to q->server at q->port (xprt_info's dst_port=:
 * transports to other services of the address, rpcbind, NLM, NFSv3, are
 * left alone), under q->sys.  Where the kernel links the mount (6.12:
 * fs/nfs/MAJ:MIN/nfs_client and nfs_state_client ->
 * kernel/sunrpc/rpc-clients/clnt-N, whose `switch` links
 * kernel/sunrpc/xprt-switches/switch-K), the transports of those switches
 * (*linked true).  Else (6.1 has no per-mount link) the switches holding a
 * transport whose src_port= is q->src_port (the mount's own); when none
 * has it, every such transport to the address and port, and warn says so
 * (every mount of that address moves).  Directories are opened
 * O_NOFOLLOW.  *n is how many were found, at most max (-E2BIG past it).
 * -ENOENT when the kernel has no sunrpc sysfs (before 5.14), -ESRCH when no
 * transport goes to server. */
int nm_migrate_xprt_find(const struct nm_migrate_xprt_q *q, struct nm_migrate_xprt *x, size_t max,
			 size_t *n, bool *linked, char *warn, size_t wcap, struct nm_err *err);

/* The local port of the mount's transport, from the `xprt: tcp PORT` line
 * of its section of mountstats (NULL: /proc/self/mountstats); 0 when none. */
unsigned nm_migrate_src_port(const char *mountstats, const char *target);

/* Write addr to each transport's dstaddr (O_NOFOLLOW).  *done says how
 * many were written, so a caller can write the old address back to those
 * on an error. */
int nm_migrate_xprt_write(const char *root, const struct nm_migrate_xprt *x, size_t n,
			  const char *addr, size_t *done, struct nm_err *err);

/* Does path answer?  stat(2) in a child process, killed past timeout_ms:
 * 0 answered, -ETIMEDOUT not in time, else the stat's error. */
int nm_migrate_stat_deadline(const char *path, int timeout_ms, struct nm_err *err);

/* Test only: cmd/ passes the value of NFSMIG_TEST_MIGRATE_PAUSE
 * (secure_getenv: never under setuid) as file; migrate creates it after the
 * checks and waits up to 60 s for it to be removed before the write: a test
 * blocks the new address in that window.  The file's directory must be
 * root's and not group- or world-writable (-EPERM).  NULL or "": nothing
 * waits (always, outside tests). */
#define NM_MIGRATE_PAUSE_ENV "NFSMIG_TEST_MIGRATE_PAUSE"
int nm_migrate_test_pause(const char *file, struct nm_err *err);

/* One migrate of an address's transports at a time: an exclusive flock
 * (never waited for) on STATE_DIR/migrate.ADDR.lock (O_NOFOLLOW,
 * O_CLOEXEC).  Returns the fd holding it (close to let go); -EBUSY when
 * another holds it. */
int nm_migrate_lock(const char *state_dir, const char *addr, struct nm_err *err);

/* Record the move in the mount's record (a move with trigger "migrate"
 * and cur_server = to), under its lock.  Idempotent: when the last move is
 * already from -> to (nfsmigd saw the new addr= first), its trigger
 * becomes "migrate" and no move is added. */
int nm_migrate_record(const char *state_dir, const char *mountpoint, const char *from,
		      const char *to, int64_t now, struct nm_err *err);

#endif
