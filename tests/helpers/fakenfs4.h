/* fakenfs4 - a stateful NFSv4.0/4.1 test server (fakenfs4.c says what it
 * does): its types, its world and what its files share. */
#ifndef FAKENFS4_H
#define FAKENFS4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfs4_prot.h"

#define MAX_RECORD   (NM_XDR_MAX_READ + 65536)
#define MAX_REPLY    (NM_XDR_MAX_READ + 65536)
#define MAX_CONNS    32
#define MAX_NODES    64
#define MAX_CLIENTS  32
#define MAX_OWNERS   64
#define MAX_STATES   128
#define MAX_SESSIONS 32
#define MAX_RANGES   16
#define MAX_AUTH     400
#define MAX_NAME     255
#define MAX_FILE     (1 << 20)
#define GRANT_OPS    32

/* fh_expire_type (RFC 7530 5.8.1.3) */
#define FH4_PERSISTENT	 0
#define FH4_VOLATILE_ANY 2
#define NF4REG		 1
#define NF4DIR		 2
#define AUTH_NONE_FLAVOR 0
#define AUTH_SYS_FLAVOR	 1

enum mode { AT_TSM, AT_RECLAIM, AT_REOPEN, AT_FHEXPIRED, AT_CONFLICT, AT_LOST };
enum kind { K_PSEUDO, K_EXPORT, K_FILE };
enum fsstate { FS_HERE, FS_MOVED, FS_NOT_YET };

struct node {
	enum kind kind;
	int parent;
	char name[MAX_NAME + 1];
	unsigned char *data;
	size_t len;
};

struct client {
	bool used, confirmed, reclaim_done, lease_moved;
	uint64_t id;
	unsigned char owner[NFS4_OPAQUE_LIMIT];
	unsigned ownerlen;
	unsigned char verf[NFS4_VERIFIER_SIZE];
	unsigned char confirm[NFS4_VERIFIER_SIZE];
	uint32_t cs_seq; /* the next CREATE_SESSION's csa_sequence */
};

struct owner {
	bool used, lock, confirmed;
	uint64_t clientid;
	unsigned char name[NFS4_OPAQUE_LIMIT];
	unsigned namelen;
	uint32_t seqid; /* 4.0: the last seqid it used */
};

struct range {
	uint64_t off, end; /* end inclusive */
	nfs_lock_type4 type;
};

struct state {
	bool used, lock;
	unsigned char other[NFS4_OTHER_SIZE];
	uint32_t seqid;
	int owner, node, open; /* open: a lock state's open state */
	struct range r[MAX_RANGES];
	int nr;
};

struct session {
	bool used;
	unsigned char id[NFS4_SESSIONID_SIZE];
	uint64_t clientid;
	uint32_t slot_seq;
};

/* What a server knows; the destination gets the source's at a tsm move. */
struct table {
	struct client c[MAX_CLIENTS];
	struct owner o[MAX_OWNERS];
	struct state s[MAX_STATES];
};

struct server {
	const char *name;
	bool dst;
	unsigned char boot; /* first byte of its stateids' other */
	char addr[INET6_ADDRSTRLEN];
	int lfd;
	struct table t;
	struct session ss[MAX_SESSIONS];
};

struct conn {
	int fd;
	struct server *srv;
	unsigned char *in; /* bytes read, not yet a whole fragment */
	size_t inlen;
	unsigned char *rec; /* fragments of the record so far */
	size_t reclen;
};

struct result {
	nfs_opnum4 op;
	nfsstat4 st;
	bool full; /* r holds the whole result; else op and st only */
	nfs_resop4 r;
};

struct ctx {
	struct server *srv;
	unsigned minor;
	int cur, saved;	   /* node, -1: none */
	struct client *sc; /* 4.1: the session's client */
	void *mem[NM_XDR_MAX_OPS * 2];
	unsigned nmem;
	const nfs_argop4 *ops;
	unsigned nops;
};

/* Options and the world (fakenfs4_state.c). */
extern unsigned g_minor;
extern enum mode g_mode;
extern bool g_lease_signal, g_referral, g_moved, g_volatile;
extern bool g_same_owner; /* the destination says the source's server_owner */
extern unsigned g_lease;
extern struct node g_nodes[MAX_NODES];
extern int g_nnodes, g_export;
extern struct server g_src, g_dst;
extern uint64_t g_next_id, g_next_other;

/* fakenfs4_state.c: the file system (nodes, handles), the state tables,
 * the move. */
bool fk_in_fs(int n);
enum fsstate fk_fs_state(const struct server *s);
bool fk_node_gone(const struct server *s, int n);
unsigned char fk_fh_gen(const struct server *s, int n);
void fk_make_fh(const struct server *s, int n, unsigned char fh[8]);
uint64_t fk_fileid(int n);
struct client *fk_client_by_id(struct server *s, uint64_t id);
struct client *fk_client_new(struct server *s);
void fk_state_free(struct server *s, int i);
void fk_client_drop(struct server *s, struct client *c);
int fk_owner_find(struct server *s, bool lock, uint64_t clientid, const char *name, unsigned len);
int fk_owner_new(struct server *s, bool lock, uint64_t clientid, const char *name, unsigned len,
		 uint32_t seqid);
int fk_state_new(struct server *s, bool lock, int owner, int node, int open);
void fk_stateid_out(const struct state *st, stateid4 *out);
bool fk_other_is(const stateid4 *sid, unsigned char byte);
bool fk_range_of(uint64_t off, uint64_t len, struct range *r);
bool fk_overlaps(const struct range *a, const struct range *b);
int fk_lock_conflict(struct server *s, int node, int owner, const struct range *r, int *which);
void fk_do_move(void);
/* fakenfs4_ops.c: the operations; fk_run_op answers the i-th of a
 * COMPOUND into res (res->full when its whole result is there). */
bool fk_decodable(uint32_t op);
nfsstat4 fk_run_op(struct ctx *c, unsigned i, const nfs_argop4 *a, struct result *res);
const char *fk_op_name(uint32_t op);
const char *fk_status_name(nfsstat4 st);

#endif
