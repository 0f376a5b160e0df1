/* A stub NFSv4 server for the harnesses that drive nfsmig's client
 * (fuzz_nfs4, fuzz_verify): it answers each call on a socketpair with the
 * next reply of the input, its xid set to the call's, so replies take
 * the code live replies take (nm_rpc over libtirpc's record stream).
 *
 * Input: reply records as on the wire (a record marker, then the
 * fragment; the last fragment has the top bit).  A reply whose RPC header
 * libtirpc would skip is followed at once by the next, as the client
 * keeps reading; once the input runs out the stub closes its side, which
 * the client sees as a lost connection.  It does not send zero-length
 * fragments before the last (libtirpc refuses them), replies with stale
 * xids (every reply gets the call's), or nothing at all to a call while
 * input is left. */
#ifndef NM_FUZZ_STUB_H
#define NM_FUZZ_STUB_H

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "nm_nfs4.h"
#include "nm_rpc.h"

#define MAX_RECORD (1u << 20)

struct stub {
	int fd;
	const uint8_t *in;
	size_t len, off;
	/* Optional: each call record (without marks, at most
	 * STUB_CALL_MAX bytes) before its reply; kept across stub_open. */
	void (*on_call)(void *arg, const uint8_t *rec, size_t len);
	void *on_call_arg;
};

#define STUB_CALL_MAX (64u * 1024)

static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* Read one call record (every fragment); returns its xid or -1.  Its
 * first STUB_CALL_MAX bytes into rec (when not NULL), their count *rlen. */
static int64_t read_call(int fd, uint8_t *rec, size_t *rlen)
{
	unsigned char hdr[4], chunk[4096];
	int64_t xid = -1;
	size_t total = 0;
	uint32_t mark;

	do {
		size_t len;

		if (read_full(fd, hdr, 4) < 0)
			return -1;
		mark = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 |
		       hdr[3];
		len = mark & 0x7fffffffu;
		while (len > 0) {
			size_t n = len < sizeof(chunk) ? len : sizeof(chunk);

			if (read_full(fd, chunk, n) < 0)
				return -1;
			for (size_t i = 0; i < n && total + i < 4; i++) /* the xid, big-endian */
				xid = (xid < 0 ? 0 : xid) << 8 | chunk[i];
			if (rec && total < STUB_CALL_MAX) {
				size_t k = n < STUB_CALL_MAX - total ? n : STUB_CALL_MAX - total;

				memcpy(rec + total, chunk, k);
				*rlen = total + k;
			}
			total += n;
			len -= n;
		}
	} while (!(mark & 0x80000000u));
	return total >= 4 ? xid : -1;
}

/* Cut the next reply out of the input into out (record marks as given,
 * lengths cut to what is left) with its first four bytes set to xid;
 * body gets the record's bytes without marks, for the header check.
 * Returns the bytes to send, 0 when the input is used up. */
static size_t next_reply(struct stub *s, uint32_t xid, uint8_t *out, uint8_t *body, size_t *blen)
{
	size_t n = 0;
	uint32_t mark;

	*blen = 0;
	do {
		size_t len;

		if (s->len - s->off < 4)
			return n;
		mark = (uint32_t)s->in[s->off] << 24 | (uint32_t)s->in[s->off + 1] << 16 |
		       (uint32_t)s->in[s->off + 2] << 8 | s->in[s->off + 3];
		s->off += 4;
		len = mark & 0x7fffffffu;
		if (len == 0 && !(mark & 0x80000000u))
			continue; /* libtirpc refuses a mark of 0: not a case for us */
		if (len > s->len - s->off)
			len = s->len - s->off;
		if (len > MAX_RECORD - *blen)
			len = MAX_RECORD - *blen;
		if (s->len - s->off - len < 4 || *blen + len == MAX_RECORD)
			mark |= 0x80000000u; /* nothing follows: this is the last */
		mark = (mark & 0x80000000u) | (uint32_t)len;
		out[n++] = (uint8_t)(mark >> 24);
		out[n++] = (uint8_t)(mark >> 16);
		out[n++] = (uint8_t)(mark >> 8);
		out[n++] = (uint8_t)mark;
		for (size_t i = 0; i < len; i++, (*blen)++) {
			uint8_t b = s->in[s->off + i];

			if (*blen < 4)
				b = (uint8_t)(xid >> (8 * (3 - *blen)));
			out[n++] = b;
			body[*blen] = b;
		}
		s->off += len;
	} while (!(mark & 0x80000000u));
	return n;
}

/* Would libtirpc take this record as the reply (a header that decodes),
 * or skip it and read the next?  The same decoder answers. */
static int header_taken(const uint8_t *body, size_t len)
{
	static char verf[MAX_AUTH_BYTES];
	struct rpc_msg msg;
	XDR x;
	bool_t ok;

	memset(&msg, 0, sizeof(msg));
	msg.acpted_rply.ar_verf.oa_base = verf;
	msg.acpted_rply.ar_results.where = NULL;
	msg.acpted_rply.ar_results.proc = (xdrproc_t)(void (*)(void))xdr_void;
	xdrmem_create(&x, (char *)body, (unsigned)len, XDR_DECODE);
	ok = xdr_replymsg(&x, &msg);
	xdr_destroy(&x);
	return ok;
}

/* Answer the calls of one connection from the input. */
static void serve(struct stub *s)
{
	uint8_t *out = malloc(s->len + 8), *body = malloc(s->len + 8);
	uint8_t *rec = s->on_call ? malloc(STUB_CALL_MAX) : NULL;
	size_t rlen = 0;
	int64_t xid;
	bool done = false;

	if (!out || !body || (s->on_call && !rec))
		abort();
	while ((xid = read_call(s->fd, rec, &rlen)) >= 0) {
		if (s->on_call)
			s->on_call(s->on_call_arg, rec, rlen);
		while (!done) {
			size_t blen, n = next_reply(s, (uint32_t)xid, out, body, &blen);

			if (n == 0) {
				shutdown(s->fd, SHUT_WR);
				done = true;
				break;
			}
			if (send(s->fd, out, n, MSG_NOSIGNAL) != (ssize_t)n) {
				done = true;
				break;
			}
			if (header_taken(body, blen))
				break;
		}
	}
	free(out);
	free(body);
	free(rec);
}

/* One server thread for the whole run (a thread per input costs more
 * than the input): it takes a stub, serves it, hands it back. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct stub *job;
static bool job_done;

static void *server(void *arg)
{
	for (;;) {
		struct stub *s;

		pthread_mutex_lock(&lock);
		while (!job)
			pthread_cond_wait(&cond, &lock);
		s = job;
		pthread_mutex_unlock(&lock);
		serve(s);
		pthread_mutex_lock(&lock);
		job = NULL;
		job_done = true;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

/* libtirpc 1.3.3's clnt_vc_call frees the reply's verifier only when the
 * call succeeds: an accepted reply with another status (PROG_MISMATCH,
 * GARBAGE_ARGS...) and a verifier leaks it (up to 400 bytes a reply, in a
 * short-lived command).  Not ours to fix here; the suppression names the
 * header's decoder only, never the decoding of results, and needs the
 * slow unwinder (libtirpc has no frame pointers) to see it. */
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);

const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0:malloc_context_size=10";
}

const char *__lsan_default_suppressions(void)
{
	return "leak:xdr_accepted_reply\n";
}

/* Start the server thread (from LLVMFuzzerInitialize). */
static inline void stub_init(void)
{
	pthread_t th;

	signal(SIGPIPE, SIG_IGN); /* as the programs do */
	if (pthread_create(&th, NULL, server, NULL) != 0)
		abort();
	pthread_detach(th);
}

/* Open a session to the stub serving data; *c is NULL when the session
 * could not be had.  stub_end must follow, after nm_nfs4_close. */
static inline void stub_open(struct stub *s, int sv[2], const uint8_t *data, size_t size,
			     const struct nm_nfs4_opts *opts, struct nm_nfs4 **c)
{
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(2049) };
	struct nm_rpc *rpc;
	struct nm_err err;

	*c = NULL;
	peer.sin_addr.s_addr = htonl(0xc0000201); /* 192.0.2.1, for messages only */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	{
		void (*on_call)(void *, const uint8_t *, size_t) = s->on_call;
		void *on_call_arg = s->on_call_arg;

		memset(s, 0, sizeof(*s));
		s->on_call = on_call;
		s->on_call_arg = on_call_arg;
	}
	s->fd = sv[1];
	s->in = data;
	s->len = size;
	pthread_mutex_lock(&lock);
	job = s;
	job_done = false;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	if (nm_rpc_open_fd(sv[0], (struct sockaddr *)&peer, sizeof(peer), &opts->rpc, &rpc, &err) ==
		    0 &&
	    nm_nfs4_open_rpc(rpc, opts, c, &err) < 0)
		*c = NULL;
}

/* Wait for the stub to see the client's side closed (nm_nfs4_close, or a
 * failed open, closes it), and close its own. */
static inline void stub_end(int sv[2])
{
	pthread_mutex_lock(&lock);
	while (!job_done)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	close(sv[1]);
}

#endif
