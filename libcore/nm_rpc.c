#include "nm_rpc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nm_time.h"

struct nm_rpc {
	CLIENT *clnt;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int call_ms;
	unsigned calls;
	bool broken; /* a call failed in transport: the stream is unusable */
	char peer[INET6_ADDRSTRLEN + 16 + 96];
	size_t note_at; /* where peer says why not from a reserved port, if it does */
};

/*
 * As root, speak from a reserved port (below 1024), as the kernel's client
 * and nfs-utils do: knfsd's default `secure` export option answers any
 * other port with NFS4ERR_PERM.  When none can be had, an ordinary port is
 * better than nothing (a server without `secure` still answers), but it is
 * said: the connection's peer text, in every message, carries it.
 * Returns 0, or the negative errno of the reserved port not had.
 */
static int bind_reserved(int fd, int family)
{
	struct sockaddr_storage ss;

	if (geteuid() != 0 || (family != AF_INET && family != AF_INET6))
		return 0;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (bindresvport_sa(fd, (struct sockaddr *)&ss) < 0)
		return errno ? -errno : -EADDRINUSE;
	return 0;
}

static int connect_one(const struct addrinfo *ai, int deadline_ms, int *fdp, int *resv)
{
	int fd, one = 1, rc;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*resv = bind_reserved(fd, ai->ai_family);
	rc = nm_sock_connect(fd, ai->ai_addr, ai->ai_addrlen, deadline_ms);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*fdp = fd;
	return 0;
}

/* The local port of a connected socket, or 0. */
static unsigned local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

int nm_rpc_connect(const char *host, const struct nm_rpc_opts *opts, struct nm_rpc **out,
		   struct nm_err *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	char port[16];
	int rc, fd = -1, last = -EHOSTUNREACH, resv = 0;
	int64_t end = nm_time_ms() + opts->connect_ms;

	*out = NULL;
	snprintf(port, sizeof(port), "%u", opts->port ? opts->port : NM_RPC_NFS_PORT);
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		/* A name that does not resolve says nothing about the
		 * server: not -EHOSTUNREACH, which reads "not answering". */
		return nm_err_set(err, rc == EAI_NONAME ? -ENOENT : -EADDRNOTAVAIL,
				  "%s: cannot resolve: %s", host, gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		int64_t left = end - nm_time_ms();

		if (left <= 0) {
			last = -ETIMEDOUT;
			break;
		}
		last = connect_one(ai, (int)left, &fd, &resv);
		if (last == 0 || last == -EINTR)
			break;
	}
	if (last < 0) {
		freeaddrinfo(res);
		if (last == -ETIMEDOUT)
			return nm_err_set(err, last, "%s port %s: no connection within %d ms", host,
					  port, opts->connect_ms);
		return nm_err_set(err, last, "%s port %s: cannot connect: %s", host, port,
				  strerror(-last));
	}
	unsigned lport = resv < 0 ? local_port(fd) : 0;

	rc = nm_rpc_open_fd(fd, ai->ai_addr, ai->ai_addrlen, opts, out, err);
	freeaddrinfo(res);
	if (rc == 0 && resv < 0) {
		struct nm_rpc *rpc = *out;

		snprintf(rpc->peer + rpc->note_at, sizeof(rpc->peer) - rpc->note_at,
			 " (from unprivileged port %u: no reserved port to be had: %s)", lport,
			 strerror(-resv));
	}
	return rc;
}

int nm_rpc_open_fd(int fd, const struct sockaddr *addr, socklen_t addrlen,
		   const struct nm_rpc_opts *opts, struct nm_rpc **out, struct nm_err *err)
{
	struct nm_rpc *rpc;
	struct netbuf nb;
	AUTH *auth;

	*out = NULL;
	if (addrlen > sizeof(rpc->addr)) {
		close(fd);
		return nm_err_set(err, -EINVAL, "address too long");
	}
	rpc = calloc(1, sizeof(*rpc));
	if (!rpc) {
		close(fd);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	memcpy(&rpc->addr, addr, addrlen);
	rpc->addrlen = addrlen;
	rpc->call_ms = opts->call_ms;
	nm_sock_addr_str((struct sockaddr *)&rpc->addr, rpc->peer, sizeof(rpc->peer), 1);
	rpc->note_at = strlen(rpc->peer);

	nb.buf = &rpc->addr;
	nb.len = nb.maxlen = rpc->addrlen;
	rpc->clnt = clnt_vc_create(fd, &nb, opts->prog ? opts->prog : 100003,
				   opts->vers ? opts->vers : 4, 0, 0);
	if (!rpc->clnt) {
		nm_err_set(err, -ECONNABORTED, "%s: cannot set up RPC: %s", rpc->peer,
			   clnt_spcreateerror("clnt_vc_create"));
		close(fd);
		free(rpc);
		return -ECONNABORTED;
	}
	clnt_control(rpc->clnt, CLSET_FD_CLOSE, NULL);
	auth = authunix_create_default();
	if (!auth) {
		nm_rpc_close(rpc);
		return nm_err_set(err, -ENOMEM, "cannot build AUTH_SYS credentials");
	}
	auth_destroy(rpc->clnt->cl_auth);
	rpc->clnt->cl_auth = auth;
	*out = rpc;
	return 0;
}

static int map_rpc_error(struct nm_rpc *rpc, enum clnt_stat st, struct nm_err *err)
{
	struct rpc_err re;

	clnt_geterr(rpc->clnt, &re);
	switch (st) {
	case RPC_TIMEDOUT:
		return nm_err_set(err, -ETIMEDOUT, "%s: no reply within %d ms", rpc->peer,
				  rpc->call_ms);
	case RPC_CANTRECV:
		/* The server took the connection and closed it: it answered,
		 * just not with NFS. */
		return nm_err_set(err, -ECONNABORTED,
				  "%s: connection lost while waiting for the reply%s%s"
				  " (is NFS served on that port?)",
				  rpc->peer, re.re_errno ? ": " : "",
				  re.re_errno ? strerror(re.re_errno) : "");
	case RPC_CANTSEND:
		return nm_err_set(err, -ECONNRESET, "%s: cannot send: %s", rpc->peer,
				  strerror(re.re_errno));
	case RPC_CANTDECODERES:
		return nm_err_set(err, -EBADMSG,
				  "%s: malformed or oversized reply (not NFSv4, or corrupted)",
				  rpc->peer);
	case RPC_PROGVERSMISMATCH:
	case RPC_PROGUNAVAIL:
	case RPC_PROCUNAVAIL:
		return nm_err_set(err, -EPROTONOSUPPORT,
				  "%s: server does not speak NFS version 4 (%s)", rpc->peer,
				  clnt_sperrno(st));
	case RPC_AUTHERROR:
		return nm_err_set(err, -EACCES, "%s: server refused AUTH_SYS credentials (%s)",
				  rpc->peer, clnt_sperrno(st));
	case RPC_INTR: return nm_err_set(err, -EINTR, "%s: interrupted", rpc->peer);
	default: return nm_err_set(err, -EPROTO, "%s: RPC failed: %s", rpc->peer, clnt_sperrno(st));
	}
}

void nm_rpc_set_call_ms(struct nm_rpc *rpc, int call_ms)
{
	if (rpc && call_ms > 0)
		rpc->call_ms = call_ms;
}

int nm_rpc_call(struct nm_rpc *rpc, rpcproc_t proc, xdrproc_t xargs, void *args, xdrproc_t xres,
		void *res, struct nm_err *err)
{
	struct timeval tv = { .tv_sec = rpc->call_ms / 1000,
			      .tv_usec = (rpc->call_ms % 1000) * 1000 };
	enum clnt_stat st;

	if (rpc->broken)
		return nm_err_set(err, -ENOTCONN, "%s: connection already failed", rpc->peer);
	rpc->calls++;
	st = clnt_call(rpc->clnt, proc, xargs, args, xres, res, tv);
	if (st != RPC_SUCCESS) {
		/* Whatever was decoded before the failure is ours to free.
		 * After a timeout, a lost connection or an undecodable reply
		 * the record stream is out of step: no further call on it, so
		 * teardown after a failure costs no second deadline. */
		xdr_free(xres, res);
		rpc->broken = true;
		return map_rpc_error(rpc, st, err);
	}
	return 0;
}

const char *nm_rpc_peer(const struct nm_rpc *rpc)
{
	return rpc->peer;
}

int nm_rpc_family(const struct nm_rpc *rpc)
{
	return rpc->addr.ss_family;
}

const char *nm_rpc_note(const struct nm_rpc *rpc)
{
	return rpc->peer + rpc->note_at;
}

unsigned nm_rpc_calls(const struct nm_rpc *rpc)
{
	return rpc->calls;
}

void nm_rpc_close(struct nm_rpc *rpc)
{
	if (!rpc)
		return;
	if (rpc->clnt) {
		if (rpc->clnt->cl_auth)
			auth_destroy(rpc->clnt->cl_auth);
		clnt_destroy(rpc->clnt);
	}
	free(rpc);
}

int nm_rpc_not_answering(struct nm_err *err, const char *server, const char *mount)
{
	char msg[3 * NM_ERR_MSG_MAX];
	size_t sl = server ? strlen(server) : 0;

	if (!err)
		return -EINVAL;
	switch (err->code) {
	case -ETIMEDOUT:
	case -ECONNREFUSED:
	case -ECONNRESET:
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -EHOSTDOWN: break;
	default: return err->code;
	}
	/* The transport's messages start with the address they tried, an
	 * IPv6 one with its port as "[addr]:port". */
	if (!server ||
	    (strncmp(err->msg, server, sl) == 0 && (err->msg[sl] == ' ' || err->msg[sl] == ':')) ||
	    (err->msg[0] == '[' && strncmp(err->msg + 1, server, sl) == 0 &&
	     err->msg[sl + 1] == ']'))
		snprintf(msg, sizeof(msg), "server not answering: %s%s%s%s", err->msg,
			 mount ? " (mount " : "", mount ? mount : "", mount ? ")" : "");
	else
		snprintf(msg, sizeof(msg), "server not answering: %s: %s%s%s%s", server, err->msg,
			 mount ? " (mount " : "", mount ? mount : "", mount ? ")" : "");
	memcpy(err->msg, msg, sizeof(err->msg) - 1);
	err->msg[sizeof(err->msg) - 1] = '\0';
	return err->code;
}
