/* fuzz_rehearse: the rehearsal's engine against the servers' replies
 * (nm_rehearse over the stub server of fuzz_stub.h: the source's client
 * and every destination's share its one stream of replies, in the order
 * the engine calls, as it calls one at a time).
 *
 * Invariants: every file gets a verdict and a kernel sentence, its exit
 * code is 0, 1 or 3; a verdict that says the state is fine rests on the
 * answers it needs (transparent: the old state tested valid there and a
 * READ answered; reclaim: the reclaim answered OK; kept: the stateid read
 * again); locations and clients within their bounds.
 *
 * Input: one byte of settings, then reply records (fuzz_stub.h):
 *   bits 0-1  minor version 0, 1, 2 (3: 1)
 *   bit 2     two files (the second in the same directory)
 *   bit 3     the second file on another server (its own client)
 * Two rounds of the wait at most, 1 ms apart: the regression inputs
 * (tests/fuzz/regress/rehearse) are replies captured from fakenfs4
 * through a proxy, the move made between the rounds. */
#include <arpa/inet.h>

#include "fuzz_check.h"
#include "fuzz_stub.h"
#include "nm_rehearse.h"

/* What the engine sent, seen by the stub (replies are not requests: a
 * replay checks the calls too). */
struct sent {
	char claims[32];	       /* each OPEN's claim: N(ull), P(revious), other '?' */
	unsigned reclaim_complete_max; /* most RECLAIM_COMPLETEs of one session */
	struct {
		sessionid4 id;
		unsigned n;
	} rc[8];
	unsigned nrc;
};

static struct sent g_sent; /* the last run's */

/* Skip an opaque_auth (flavor, length, body padded) at *off. */
static bool skip_auth(const uint8_t *rec, size_t len, size_t *off)
{
	uint32_t n;

	if (*off + 8 > len)
		return false;
	n = (uint32_t)rec[*off + 4] << 24 | (uint32_t)rec[*off + 5] << 16 |
	    (uint32_t)rec[*off + 6] << 8 | rec[*off + 7];
	if (n > 400 || *off + 8 + ((n + 3) & ~3u) > len)
		return false;
	*off += 8 + ((n + 3) & ~3u);
	return true;
}

/* A call record: its COMPOUND's OPEN claims and RECLAIM_COMPLETEs. */
static void on_call(void *arg, const uint8_t *rec, size_t len)
{
	struct sent *t = arg;
	COMPOUND4args a;
	size_t off = 24; /* xid, call, rpcvers, prog, vers, proc */
	const sessionid4 *sid = NULL;
	XDR x;

	if (len < 24 || rec[23] != 1 /* COMPOUND */ || !skip_auth(rec, len, &off) ||
	    !skip_auth(rec, len, &off))
		return;
	memset(&a, 0, sizeof(a));
	xdrmem_create(&x, (char *)rec + off, (u_int)(len - off), XDR_DECODE);
	if (!xdr_COMPOUND4args(&x, &a)) {
		xdr_free((xdrproc_t)xdr_COMPOUND4args, (char *)&a);
		return;
	}
	for (unsigned i = 0; i < a.argarray.argarray_len; i++) {
		const nfs_argop4 *op = &a.argarray.argarray_val[i];
		size_t k = strlen(t->claims);

		if (op->argop == OP_SEQUENCE)
			sid = &op->nfs_argop4_u.opsequence.sa_sessionid;
		if (op->argop == OP_OPEN && k + 1 < sizeof(t->claims)) {
			open_claim_type4 c = op->nfs_argop4_u.opopen.claim.claim;

			t->claims[k] = c == CLAIM_NULL ? 'N' : c == CLAIM_PREVIOUS ? 'P' : '?';
		}
		if (op->argop == OP_RECLAIM_COMPLETE && sid) {
			unsigned j;

			for (j = 0; j < t->nrc; j++)
				if (memcmp(t->rc[j].id, *sid, sizeof(sessionid4)) == 0)
					break;
			if (j == t->nrc && t->nrc < 8)
				memcpy(t->rc[t->nrc++].id, *sid, sizeof(sessionid4));
			if (j < 8 && ++t->rc[j].n > t->reclaim_complete_max)
				t->reclaim_complete_max = t->rc[j].n;
		}
	}
	xdr_free((xdrproc_t)xdr_COMPOUND4args, (char *)&a);
}

const char *fuzz_rehearse_claims(void);
unsigned fuzz_rehearse_reclaim_completes(void);

/* The last run's OPEN claims ("NP": CLAIM_NULL, then CLAIM_PREVIOUS). */
const char *fuzz_rehearse_claims(void)
{
	return g_sent.claims;
}

/* The most RECLAIM_COMPLETEs the last run sent in one session. */
unsigned fuzz_rehearse_reclaim_completes(void)
{
	return g_sent.reclaim_complete_max;
}

struct harness {
	struct stub s;
	int sv[2];
	bool started; /* the stub serves sv[1] */
	bool have;    /* sv[0] is a live connection to dup */
	const uint8_t *data;
	size_t size;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	stub_init();
	return 0;
}

static int open_client(void *arg, const char *host, const struct nm_nfs4_opts *no,
		       struct nm_nfs4 **c, struct nm_err *err)
{
	struct harness *h = arg;
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(2049) };
	struct nm_rpc *rpc;
	int fd;

	(void)host;
	*c = NULL;
	if (!h->started) {
		h->started = true;
		stub_open(&h->s, h->sv, h->data, h->size, no, c);
		h->have = *c != NULL;
		return *c ? 0 : nm_err_set(err, -ECONNRESET, "stub: no session");
	}
	if (!h->have)
		return nm_err_set(err, -ECONNREFUSED, "stub: connection refused");
	/* Another client on the same stream: the engine calls one at a time. */
	fd = dup(h->sv[0]);
	if (fd < 0)
		abort();
	peer.sin_addr.s_addr = htonl(0xc0000202);
	if (nm_rpc_open_fd(fd, (struct sockaddr *)&peer, sizeof(peer), &no->rpc, &rpc, err) < 0)
		return err->code ? err->code : -EIO;
	return nm_nfs4_open_rpc(rpc, no, c, err);
}

/* Every name to an address, without a resolver: an address stays. */
static int resolve(void *arg, const char *name, char *addr, size_t cap, struct nm_err *err)
{
	unsigned char buf[sizeof(struct in6_addr)];

	(void)arg;
	(void)err;
	if (inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1) {
		snprintf(addr, cap, "%s", name);
		return 1;
	}
	snprintf(addr, cap, "192.0.2.2");
	return 0;
}

int fuzz_rehearse_run(const uint8_t *data, size_t size, struct nm_reh_result *out);

/* One rehearsal on the replies of data; out (when not NULL) gets its
 * record (test_rehearse judges the regression inputs' verdicts). */
int fuzz_rehearse_run(const uint8_t *data, size_t size, struct nm_reh_result *out)
{
	static struct nm_reh_result r; /* large: not on the stack */
	struct harness h = { .data = data + 1, .size = size ? size - 1 : 0 };
	struct nm_reh_opts o = { .interval_ms = 1,
				 .wait_ms = 60000,
				 .polls = 2, /* as the captures: held, a poll, moved */
				 .timeout_ms = 200,
				 .open_client = open_client,
				 .resolve = resolve,
				 .arg = &h };
	struct nm_err err = { 0 };
	struct nm_err ignored;
	uint8_t cfg;

	if (size < 1)
		return 0;
	memset(&g_sent, 0, sizeof(g_sent));
	h.s.on_call = on_call;
	h.s.on_call_arg = &g_sent;
	cfg = data[0];
	o.minor = (cfg & 3) == 3 ? 1 : (int)(cfg & 3);
	memset(&r, 0, sizeof(r));
	FUZZ_ASSERT(nm_reh_file_spec("192.0.2.1:/d/f", &r.files[0], &ignored) == 0);
	r.nfiles = 1;
	if (cfg & 4) {
		FUZZ_ASSERT(nm_reh_file_spec(cfg & 8 ? "192.0.2.3:/d/g" : "192.0.2.1:/d/g",
					     &r.files[1], &ignored) == 0);
		r.nfiles = 2;
	}
	FUZZ_ASSERT(nm_rehearse(&o, &r, &err) == 0);
	if (h.started)
		stub_end(h.sv); /* every client closed its fd: the stub saw the end */
	FUZZ_ASSERT(r.nclients <= NM_REH_MAX_CLIENTS);
	for (size_t i = 0; i < r.nfiles; i++) {
		const struct nm_reh_file *f = &r.files[i];
		const struct nm_reh_answers *a = &f->ans;
		const struct nm_reh_verdict *v = &f->verdict;

		FUZZ_ASSERT(v->verdict[0] && v->kernel[0]);
		FUZZ_ASSERT(v->exit_code == 0 || v->exit_code == 1 || v->exit_code == 3);
		FUZZ_ASSERT(f->nsteps >= 1 && f->nsteps <= NM_REH_MAX_STEPS);
		for (unsigned k = 0; k < f->nsteps; k++)
			FUZZ_ASSERT(f->steps[k].step[0]);
		FUZZ_ASSERT(f->nlocs <= NM_REH_MAX_LOCS);
		for (unsigned k = 0; k < f->nlocs; k++)
			FUZZ_ASSERT(f->locs[k].server[0] && f->locs[k].path[0] == '/');
		if (getenv("FUZZ_VERBOSE")) /* what a regression input gives */
			fprintf(stderr, "%s: %s\n", f->spec, v->verdict);
		switch (v->state) {
		case NM_REH_STATE_TRANSPARENT:
			FUZZ_ASSERT(a->held && a->tsm_answered && a->tsm && a->read_answered);
			break;
		case NM_REH_STATE_RECLAIM:
			FUZZ_ASSERT(a->reclaim_answered && a->reclaim_ok && a->read_answered);
			break;
		case NM_REH_STATE_REOPEN:
			FUZZ_ASSERT(a->reopen_ok && a->relock_ok && v->exit_code != 0);
			break;
		case NM_REH_STATE_KEPT:
			FUZZ_ASSERT(a->held && a->still_answered && a->still_held &&
				    v->exit_code == 0);
			break;
		case NM_REH_STATE_UNANSWERED: FUZZ_ASSERT(v->exit_code != 0); break;
		default: break;
		}
	}
	if (out)
		memcpy(out, &r, sizeof(r));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_rehearse_run(data, size, NULL);
}
