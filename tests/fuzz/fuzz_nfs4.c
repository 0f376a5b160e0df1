/* fuzz_nfs4: NFSv4 replies through the code live replies take.
 *
 * nfsmig's client (nm_nfs4 over nm_rpc, libtirpc's record stream) talks to
 * a stub server on a socketpair that answers each call with the next reply
 * of the input, its xid set to the call's.  The client opens a session
 * (EXCHANGE_ID and CREATE_SESSION for 4.1+), walks a path as `locations`
 * (nm_fsloc_query) or `register` (nm_fsloc_root) do, with their attribute
 * decoding, and tears down (DESTROY_SESSION, DESTROY_CLIENTID).
 *
 * Input: one byte of settings, then reply records as on the wire (a record
 * marker, then the fragment; the last fragment has the top bit):
 *   bits 0-1  minor version 0, 1, 2, or 3 for automatic (2, then 1, then 0)
 *   bit 2     nm_fsloc_root instead of nm_fsloc_query
 *   bits 3-4  the path (see paths[] below)
 *   bit 5     instead: the rest is one reply message without its record
 *             mark, for nm_nfs4_decode_reply (captured replies in tests),
 *             and every GETATTR in it through nm_fattr and nm_fsloc
 * A reply whose RPC header libtirpc would skip is followed at once by the
 * next, as the client keeps reading; once the input runs out the stub
 * closes its side, which the client sees as a lost connection. */
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "nm_fsloc.h"
#include "nm_nfs4.h"
#include "nm_rpc.h"

#define MAX_RECORD (1u << 20)

static const char *paths[] = {
	"/",
	"/export",
	"/export/ref-name/sub", /* the path of the captured 4.0 replies */
	/* 40 components: more than one COMPOUND */
	("/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20/"
	 "21/22/23/24/25/26/27/28/29/30/31/32/33/34/35/36/37/38/39/40"),
};

struct stub {
	int fd;
	const uint8_t *in;
	size_t len, off;
};

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

/* Read one call record (every fragment); returns its xid or -1. */
static int64_t read_call(int fd)
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
	msg.acpted_rply.ar_results.proc = (xdrproc_t)xdr_void;
	xdrmem_create(&x, (char *)body, (unsigned)len, XDR_DECODE);
	ok = xdr_replymsg(&x, &msg);
	xdr_destroy(&x);
	return ok;
}

/* Answer the calls of one connection from the input. */
static void serve(struct stub *s)
{
	uint8_t *out = malloc(s->len + 8), *body = malloc(s->len + 8);
	int64_t xid;
	bool done = false;

	if (!out || !body)
		abort();
	while ((xid = read_call(s->fd)) >= 0) {
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

static void decode_captured(const uint8_t *data, size_t size)
{
	COMPOUND4res res;
	struct nm_err err;

	if (nm_nfs4_decode_reply(data, size, &res, &err) < 0)
		return;
	for (unsigned i = 0; i < res.resarray.resarray_len; i++) {
		nfs_resop4 *r = &res.resarray.resarray_val[i];
		struct nm_fattr f;
		struct nm_fsloc_result out;

		if (r->resop != OP_GETATTR || r->nfs_resop4_u.opgetattr.status != NFS4_OK)
			continue;
		if (nm_fattr_decode(&r->nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes,
				    &f, &err) < 0)
			continue;
		memset(&out, 0, sizeof(out));
		(void)nm_fsloc_from_fattr(&f, &out, &err);
		nm_fsloc_result_free(&out);
		nm_fattr_free(&f);
	}
	xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&res);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pthread_t th;

	signal(SIGPIPE, SIG_IGN); /* as the programs do */
	if (pthread_create(&th, NULL, server, NULL) != 0)
		abort();
	pthread_detach(th);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(2049) };
	struct nm_nfs4_opts opts = { .rpc = { .call_ms = 500, .connect_ms = 500 } };
	struct stub s = { 0 };
	struct nm_rpc *rpc;
	struct nm_nfs4 *c;
	struct nm_err err;
	int sv[2];
	uint8_t cfg;
	const char *path;

	if (size < 1)
		return 0;
	cfg = data[0];
	if (cfg & 0x20) {
		decode_captured(data + 1, size - 1);
		return 0;
	}
	opts.minor = (cfg & 3) == 3 ? NM_NFS4_MINOR_AUTO : (int)(cfg & 3);
	path = paths[(cfg >> 3) & 3];
	peer.sin_addr.s_addr = htonl(0xc0000201); /* 192.0.2.1, for messages only */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	s.fd = sv[1];
	s.in = data + 1;
	s.len = size - 1;
	pthread_mutex_lock(&lock);
	job = &s;
	job_done = false;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	if (nm_rpc_open_fd(sv[0], (struct sockaddr *)&peer, sizeof(peer), &opts.rpc, &rpc, &err) ==
		    0 &&
	    nm_nfs4_open_rpc(rpc, &opts, &c, &err) == 0) {
		if (cfg & 4) {
			struct nm_fsloc_root root;

			memset(&root, 0, sizeof(root));
			if (nm_fsloc_root(c, path, &root, &err) == 0)
				nm_fattr_free(&root.attrs);
		} else {
			struct nm_fsloc_result res;

			memset(&res, 0, sizeof(res));
			(void)nm_fsloc_query(c, path, &res, &err);
			nm_fsloc_result_free(&res);
		}
		nm_nfs4_close(c); /* closes sv[0]: the stub's read ends */
	}
	pthread_mutex_lock(&lock);
	while (!job_done)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	close(sv[1]);
	return 0;
}
