/* nm_nfs4 - an NFSv4.0/4.1/4.2 client: COMPOUND, sessions, teardown. */
#ifndef NM_NFS4_H
#define NM_NFS4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfs4_prot.h"
#include "nm_err.h"
#include "nm_rpc.h"

#define NM_NFS4_MINOR_AUTO (-1)
#define NM_NFS4_MINOR_MAX  2

struct nm_nfs4;

struct nm_nfs4_opts {
	struct nm_rpc_opts rpc;
	int minor;	 /* 0, 1, 2 or NM_NFS4_MINOR_AUTO (try 2, 1, 0) */
	const char *sec; /* NULL or "sys"; anything else: not supported yet */
	/* NULL: a client owner of nfsmig's own per connection (4.1+) or per
	 * host (4.0).  Else this owner and verifier, for EXCHANGE_ID and
	 * SETCLIENTID: a client that holds state and must be the same client
	 * to the source and the destination of a move (RFC 7931's uniform
	 * client string).  At most NM_NFS4_OWNER_MAX - 1 bytes are used. */
	const char *owner;
	uint64_t verifier;
};

#define NM_NFS4_OWNER_MAX 128

/* The results of one COMPOUND, SEQUENCE's result taken off the front.
 * ops[i] answers the i-th operation the caller passed; nops may be fewer
 * when an operation failed (status then says why). */
struct nm_nfs4_reply {
	nfsstat4 status;
	nfs_resop4 *ops;
	unsigned nops;
	COMPOUND4res raw; /* owns everything above */
};

int nm_nfs4_open(const char *host, const struct nm_nfs4_opts *opts, struct nm_nfs4 **out,
		 struct nm_err *err);

/* The same over an RPC connection already set up (nm_rpc_open_fd); takes
 * rpc, also on error.  A flavor or version nfsmig does not speak is
 * refused as by nm_nfs4_open, before anything is sent. */
int nm_nfs4_open_rpc(struct nm_rpc *rpc, const struct nm_nfs4_opts *opts, struct nm_nfs4 **out,
		     struct nm_err *err);

/* 4.1+: whether a and b reach one server (RFC 8881 2.10.5: EXCHANGE_ID's
 * server_owner major ID and server_scope equal, and said). */
bool nm_nfs4_same_server(const struct nm_nfs4 *a, const struct nm_nfs4 *b);

/* Each later RPC's reply deadline (ms, > 0): shorter when letting go. */
void nm_nfs4_set_call_ms(struct nm_nfs4 *c, int call_ms);

/* No NFS4ERR_DELAY retried past until_ms (nm_time_ms; 0: only the call
 * deadline bounds it): one deadline for many COMPOUNDs. */
void nm_nfs4_set_delay_deadline(struct nm_nfs4 *c, int64_t until_ms);

/* Send ops (SEQUENCE is added in front for 4.1+).  Returns 0 when the
 * server answered, whatever the NFS status; the reply must then be freed
 * with nm_nfs4_reply_free.  A transport error, a malformed reply or a
 * failed SEQUENCE is an error return. */
int nm_nfs4_compound(struct nm_nfs4 *c, nfs_argop4 *ops, unsigned nops, struct nm_nfs4_reply *reply,
		     struct nm_err *err);

/* The same for a COMPOUND that changes state (OPEN, LOCK, LOCKU, CLOSE,
 * ...: nm_nfs4_ops_stateful): sent again only when SEQUENCE itself said
 * NFS4ERR_DELAY (the operations were not done); an operation's DELAY is
 * the answer (sent again unchanged, 4.0 would replay its seqid and 4.1
 * would do it twice in a new slot sequence). */
int nm_nfs4_compound_stateful(struct nm_nfs4 *c, nfs_argop4 *ops, unsigned nops,
			      struct nm_nfs4_reply *reply, struct nm_err *err);

/* Whether ops hold an operation that changes state (OPEN, OPEN_CONFIRM,
 * LOCK, LOCKU, CLOSE, RELEASE_LOCKOWNER, DELEGRETURN,
 * FREE_STATEID, RECLAIM_COMPLETE). */
bool nm_nfs4_ops_stateful(const nfs_argop4 *ops, unsigned nops);

void nm_nfs4_reply_free(struct nm_nfs4_reply *reply);

/* NFSv4.0: a client id of nfsmig's own (SETCLIENTID, then
 * SETCLIENTID_CONFIRM, the first time; no callbacks), for RENEW.  Its
 * owner is "nfsmig/HOSTNAME", one per host, with a fresh verifier each
 * time; the callback netid "tcp6" on IPv6; NFS4ERR_DELAY is asked again
 * within the delay deadline.  A 4.0 client id has no DESTROY: the server
 * lets its lease expire.  -EINVAL on a 4.1+ session (its client id is
 * EXCHANGE_ID's). */
int nm_nfs4_clientid40(struct nm_nfs4 *c, clientid4 *id, struct nm_err *err);

/* sr_status_flags of every SEQUENCE the server answered NFS4_OK since
 * they were last taken, ORed (4.1+; SEQ4_STATUS_LEASE_MOVED...); 0 before
 * any, and in 4.0. */
uint32_t nm_nfs4_seq_flags(const struct nm_nfs4 *c);

/* The same, and cleared: the next reads only what later SEQUENCEs say. */
uint32_t nm_nfs4_seq_flags_take(struct nm_nfs4 *c);

/* DESTROY_SESSION + DESTROY_CLIENTID for 4.1+; the connection stays open
 * (for counting its RPCs) until nm_nfs4_close. */
void nm_nfs4_shutdown(struct nm_nfs4 *c);

/* What nm_nfs4_shutdown_said sent and what the server said to it. */
struct nm_nfs4_bye {
	bool session_sent, session_answered;
	nfsstat4 session_st;
	bool clientid_sent, clientid_answered;
	nfsstat4 clientid_st;
};

/* nm_nfs4_shutdown, and what each DESTROY was answered. */
void nm_nfs4_shutdown_said(struct nm_nfs4 *c, struct nm_nfs4_bye *bye);

/* nm_nfs4_shutdown if not done yet, then close; NULL is fine. */
void nm_nfs4_close(struct nm_nfs4 *c);

unsigned nm_nfs4_minor(const struct nm_nfs4 *c);
/* The client id: EXCHANGE_ID's (4.1+) or SETCLIENTID's once had (4.0);
 * 0 before. */
clientid4 nm_nfs4_clientid(const struct nm_nfs4 *c);
/* How many operations one COMPOUND may carry, SEQUENCE excluded. */
unsigned nm_nfs4_max_ops(const struct nm_nfs4 *c);
unsigned nm_nfs4_rpcs(const struct nm_nfs4 *c);
const char *nm_nfs4_peer(const struct nm_nfs4 *c);
/* nm_rpc_note of the connection: why it is not from a reserved port. */
const char *nm_nfs4_note(const struct nm_nfs4 *c);

const char *nm_nfs4_status_name(nfsstat4 st);
/* The status's name, or "NFS4ERR 12345" for one nfsmig has no name for;
 * returns buf. */
#define NM_NFS4_STATUS_TEXT_MAX 32
const char *nm_nfs4_status_text(nfsstat4 st, char *buf, size_t cap);
/* The same, in a buffer that lives as long as the enclosing block. */
#define NM_NFS4_STATUS(st)                                                                         \
	nm_nfs4_status_text((st), (char[NM_NFS4_STATUS_TEXT_MAX]){ 0 }, NM_NFS4_STATUS_TEXT_MAX)
/* Does a COMPOUND reply answer what was asked (ops, nops)?  One result
 * per operation at most, each for the operation sent (or ILLEGAL last,
 * never NFS4_OK), only the last failing, a result for every operation
 * when the COMPOUND says NFS4_OK, and the COMPOUND status equal to the
 * last result's.  -EBADMSG and why (naming peer) when not. */
int nm_nfs4_check_results(const char *peer, const nfs_argop4 *ops, unsigned nops,
			  const COMPOUND4res *res, struct nm_err *err);
nfsstat4 nm_nfs4_resop_status(const nfs_resop4 *r);
const char *nm_nfs4_op_name(nfs_opnum4 op);
/* A negative errno that fits an NFSv4 status best. */
int nm_nfs4_status_errno(nfsstat4 st);

/* Decode one RPC reply message (a record without its record marker) that
 * carries a COMPOUND4res, as the transport would.  On success the caller
 * frees res with xdr_free(xdr_COMPOUND4res, res).  For tests and tools. */
int nm_nfs4_decode_reply(const void *buf, size_t len, COMPOUND4res *res, struct nm_err *err);
#endif
