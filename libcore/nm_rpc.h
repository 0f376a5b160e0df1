/* nm_rpc - one ONC RPC connection over TCP (libtirpc), with deadlines. */
#ifndef NM_RPC_H
#define NM_RPC_H

#include <rpc/rpc.h>
#include <sys/socket.h>

#include "nm_err.h"
#include "nm_sock.h"

#define NM_RPC_NFS_PORT 2049

struct nm_rpc;

struct nm_rpc_opts {
	unsigned port;	/* 0: 2049 */
	int connect_ms; /* deadline for the TCP connect, all addresses together */
	int call_ms;	/* deadline for each call's reply */
	rpcprog_t prog; /* 0: NFS (100003) */
	rpcvers_t vers; /* 0: 4 */
};

/* Connect to HOST (a name or a numeric IPv4/IPv6 address, without brackets)
 * and set up AUTH_SYS.  Tries each address until one connects. */
int nm_rpc_connect(const char *host, const struct nm_rpc_opts *opts, struct nm_rpc **out,
		   struct nm_err *err);

/* Set up RPC and AUTH_SYS on fd, a stream socket already connected to
 * addr (what nm_rpc_connect does once connected; tests and the fuzzing
 * harness give it one end of a socketpair).  Takes fd, also on error. */
int nm_rpc_open_fd(int fd, const struct sockaddr *addr, socklen_t addrlen,
		   const struct nm_rpc_opts *opts, struct nm_rpc **out, struct nm_err *err);

/* One call.  libtirpc writes with write(2): a program using this must
 * ignore SIGPIPE, or a peer that hangs up kills it.  After a transport
 * failure every further call fails at once with -ENOTCONN.  On success the caller owns what xres
 * decoded into res and frees it with xdr_free(xres, res). */
int nm_rpc_call(struct nm_rpc *rpc, rpcproc_t proc, xdrproc_t xargs, void *args, xdrproc_t xres,
		void *res, struct nm_err *err);

/* "192.0.2.1 port 2049" style text for messages. */
const char *nm_rpc_peer(const struct nm_rpc *rpc);

/* The peer's address family: AF_INET or AF_INET6. */
int nm_rpc_family(const struct nm_rpc *rpc);

/* "" or, when no reserved port could be had as root, why: " (from
 * unprivileged port N: ...)"; nm_rpc_peer's text ends with it. */
const char *nm_rpc_note(const struct nm_rpc *rpc);

/* Each later call's reply deadline (ms, > 0). */
void nm_rpc_set_call_ms(struct nm_rpc *rpc, int call_ms);

/* Calls made on this connection (for benchmarks and -v output). */
unsigned nm_rpc_calls(const struct nm_rpc *rpc);

void nm_rpc_close(struct nm_rpc *rpc);

/* When err says a server did not answer (no connection or no reply within
 * the deadline, refused, unreachable, reset), make its message "server not
 * answering: [SERVER: ]MESSAGE (mount MOUNT)": SERVER unless the message
 * starts with it already, MOUNT when not NULL.  Returns err's code
 * (-EINVAL when err is NULL). */
int nm_rpc_not_answering(struct nm_err *err, const char *server, const char *mount);

#endif
