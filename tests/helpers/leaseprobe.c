/* leaseprobe - nm_lease's check and probe from the command line, for the
 * tests (tests/bats/lease.bats drives it against fakesrv's replays).
 *
 *   leaseprobe check SERVER PORT MINOR [TIMEOUT_MS]
 *        prints "lease moved", "lease quiet" (our own lease only: never
 *        "nothing moved") or "lease unanswered: why"
 *   leaseprobe probe SERVER PORT MINOR TIMEOUT_MS NAME=HEXHANDLE@MAJOR:MINOR...
 *        probes each record (NAME: its mount point; its saved root handle
 *        in hex; its fsid) and prints "NAME VERDICT: reason" per record,
 *        then "  location SERVER:/PATH" for each location the server gave,
 *        and "moved N"
 *   leaseprobe watch SERVER PORT MINOR TIMEOUT_MS RECORD...
 *        on one session: the check, then the probe whatever it said (as
 *        nfsmigd does on the kernel's LEASE_MOVED: our lease is no gate)
 *   leaseprobe probecheck SERVER PORT MINOR TIMEOUT_MS RECORD...
 *        on one session: the probe, then the check twice (4.1: the
 *        flags of every SEQUENCE, taken once)
 *
 * Exit status: 0 when it ran (whatever the verdicts), 1 when a session
 * could not be had, 2 on a usage error.  Test-only: never installed. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_esc.h"
#include "nm_lease.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: leaseprobe check|probe|watch|probecheck SERVER PORT MINOR [TIMEOUT_MS] "
		"[NAME=HEXHANDLE@MAJOR:MINOR...]\n");
	return 2;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* NAME=HEXHANDLE@MAJOR:MINOR into r (mountpoint points into arg). */
static int parse_record(char *arg, struct nm_record *r)
{
	char *eq = strchr(arg, '='), *at, *colon, *end;
	size_t len;

	memset(r, 0, sizeof(*r));
	if (!eq || !(at = strchr(eq, '@')) || !(colon = strchr(at, ':')))
		return -EINVAL;
	*eq = *at = '\0';
	r->mountpoint = arg;
	len = strlen(eq + 1);
	if (len % 2 || len / 2 > NM_STORE_FH_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hexval(eq[1 + 2 * i]), lo = hexval(eq[2 + 2 * i]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		r->root_fh[i] = (unsigned char)(hi << 4 | lo);
	}
	r->root_fh_len = (unsigned)(len / 2);
	errno = 0;
	r->fsid_major = strtoull(at + 1, &end, 0);
	if (errno || end != colon)
		return -EINVAL;
	r->fsid_minor = strtoull(colon + 1, &end, 0);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

/* c: check over this session; NULL: nm_lease_check's own. */
static int do_check(struct nm_nfs4 *c, const char *server, unsigned port, int minor, int timeout_ms,
		    int *moved)
{
	struct nm_err err = { 0 };
	int rc = c ? nm_lease_check_on(c, &err)
		   : nm_lease_check(server, port, minor, NULL, timeout_ms, &err);

	*moved = rc > 0;
	if (rc < 0) {
		printf("lease unanswered: ");
		nm_esc_fprintf(stdout, "%s\n", err.msg);
		return 1;
	}
	printf("lease %s\n", rc == NM_LEASE_SAID_MOVED ? "moved" : "quiet");
	return 0;
}

/* c: probe over this session; NULL: nm_lease_probe's own. */
static int do_probe(struct nm_nfs4 *c, const char *server, unsigned port, int minor, int timeout_ms,
		    struct nm_record *recs, size_t n)
{
	struct nm_lease_result *out = calloc(n ? n : 1, sizeof(*out));
	struct nm_err err = { 0 };
	int rc;

	if (!out)
		return 1;
	if (c)
		rc = nm_lease_probe_on(c, recs, n, out, &err);
	else
		rc = nm_lease_probe(server, port, minor, NULL, recs, n, out, timeout_ms, &err);
	for (size_t i = 0; i < n; i++) {
		nm_esc_fprintf(stdout, "%s %s: %s\n", recs[i].mountpoint,
			       nm_lease_verdict_name(out[i].verdict), out[i].reason);
		for (size_t j = 0; j < out[i].nlocations; j++)
			nm_esc_fprintf(stdout, "  location %s\n", out[i].locations[j]);
	}
	nm_lease_results_free(out, n);
	free(out);
	if (rc < 0) {
		nm_esc_fprintf(stdout, "probe failed: %s\n", err.msg);
		return 1;
	}
	printf("moved %d\n", rc);
	return 0;
}

int main(int argc, char **argv)
{
	struct nm_record *recs = NULL;
	const char *mode, *server;
	unsigned port;
	int minor, timeout_ms = 2000, rc, moved = 0;
	size_t n = 0;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 5)
		return usage();
	mode = argv[1];
	server = argv[2];
	port = (unsigned)strtoul(argv[3], NULL, 10);
	minor = atoi(argv[4]);
	if (argc > 5)
		timeout_ms = atoi(argv[5]);
	if (argc > 6) {
		recs = calloc((size_t)(argc - 6), sizeof(*recs));
		if (!recs)
			return 1;
		for (int i = 6; i < argc; i++, n++)
			if (parse_record(argv[i], &recs[n]) < 0) {
				fprintf(stderr, "leaseprobe: bad record '%s'\n", argv[i]);
				free(recs);
				return 2;
			}
	}
	if (strcmp(mode, "check") == 0) {
		rc = do_check(NULL, server, port, minor, timeout_ms, &moved);
	} else if (strcmp(mode, "probe") == 0) {
		rc = do_probe(NULL, server, port, minor, timeout_ms, recs, n);
	} else if (strcmp(mode, "watch") == 0) {
		struct nm_nfs4_opts o = {
			.rpc = { .port = port, .connect_ms = timeout_ms, .call_ms = timeout_ms },
			.minor = minor
		};
		struct nm_nfs4 *c = NULL;
		struct nm_err err = { 0 };

		/* The probe whatever our lease said: LEASE_MOVED reaches the
		 * leases holding state, the kernel's, not ours. */
		if (nm_nfs4_open(server, &o, &c, &err) < 0) {
			nm_esc_fprintf(stdout, "lease unanswered: %s\n", err.msg);
			rc = 1;
		} else {
			rc = do_check(c, server, port, minor, timeout_ms, &moved);
			rc |= do_probe(c, server, port, minor, timeout_ms, recs, n);
			nm_nfs4_close(c);
		}
	} else if (strcmp(mode, "probecheck") == 0) {
		struct nm_nfs4_opts o = {
			.rpc = { .port = port, .connect_ms = timeout_ms, .call_ms = timeout_ms },
			.minor = minor
		};
		struct nm_nfs4 *c = NULL;
		struct nm_err err = { 0 };

		if (nm_nfs4_open(server, &o, &c, &err) < 0) {
			nm_esc_fprintf(stdout, "probe failed: %s\n", err.msg);
			rc = 1;
		} else {
			rc = do_probe(c, server, port, minor, timeout_ms, recs, n);
			rc |= do_check(c, server, port, minor, timeout_ms, &moved);
			rc |= do_check(c, server, port, minor, timeout_ms, &moved);
			nm_nfs4_close(c);
		}
	} else {
		rc = usage();
	}
	free(recs);
	return rc;
}
