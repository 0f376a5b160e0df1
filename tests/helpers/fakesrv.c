/* fakesrv - a misbehaving server for nfsmig's tests, on one TCP port.
 *
 *   fakesrv ADDR PORT silent            accept, read, never answer
 *   fakesrv ADDR PORT banner            greet like an SSH server, then close
 *   fakesrv ADDR PORT http              answer any request with HTTP 400
 *   fakesrv ADDR PORT udpsilent         a UDP port that reads and never answers
 *                                       (a hung DNS server)
 *   fakesrv ADDR PORT hogresv           hold every reserved TCP port bindresvport
 *                                       picks from (512-1023) on ADDR's family's
 *                                       any-address; PORT is ignored
 *   fakesrv ADDR PORT replay FILE[@N]...
 *        answer the k-th RPC call of a connection with the reply record in
 *        hex fixture FILE (relative to $NM_FIXTURES), its xid set to the
 *        call's; with @N send only the first N bytes of it, then close.
 *        FILE,CALL (expect mode): first check that the call's arguments
 *        (what follows its RPC header: cred and verifier skipped) are those
 *        of CALL (relative to $NM_FIXTURES, or absolute), a text file of hex bytes where ".." is
 * any byte and a last "*" anything after, "#" to the end of a line a comment; a call that differs
 * is not answered: "fakesrv: call K differs from CALL: ..." goes to stderr and the connection is
 * closed.
 *
 * Prints "ready" once listening; serves one connection at a time until
 * killed.  Test-only: never installed. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../unit/hexfile.h"

#define MAX_RECORD (1 << 20)

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

/* Read one RPC record (all fragments); returns its xid or -1.  With
 * keep, the record is left in *keep (malloc'd) and its length in *klen. */
static int64_t read_call_keep(int fd, unsigned char **keep, size_t *klen)
{
	unsigned char hdr[4], *rec = NULL;
	size_t total = 0;
	int64_t xid = -1;
	uint32_t mark;

	do {
		size_t len;

		if (read_full(fd, hdr, 4) < 0)
			goto out;
		mark = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 |
		       hdr[3];
		len = mark & 0x7fffffffu;
		if (total + len > MAX_RECORD)
			goto out;
		unsigned char *nr = realloc(rec, total + len + 1);
		if (!nr)
			goto out;
		rec = nr;
		if (read_full(fd, rec + total, len) < 0)
			goto out;
		total += len;
	} while (!(mark & 0x80000000u));
	if (total >= 4)
		xid = (int64_t)((uint32_t)rec[0] << 24 | (uint32_t)rec[1] << 16 |
				(uint32_t)rec[2] << 8 | rec[3]);
	if (keep && xid >= 0) {
		*keep = rec;
		*klen = total;
		return xid;
	}
out:
	free(rec);
	return xid;
}

static int64_t read_call(int fd)
{
	return read_call_keep(fd, NULL, NULL);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Where a call's arguments start: after xid, CALL, rpcvers, prog, vers,
 * proc, then the credential and the verifier (flavor, opaque each). */
static int call_args(const unsigned char *rec, size_t len, size_t *off)
{
	size_t o = 24;

	for (int i = 0; i < 2; i++) {
		uint32_t n;

		if (len < o + 8)
			return -1;
		n = get32(rec + o + 4);
		if (n > len)
			return -1;
		o += 8 + ((n + 3) & ~3u);
	}
	if (o > len)
		return -1;
	*off = o;
	return 0;
}

/* Compare args with the expectation in fixture name; 0 when they match,
 * else -1 with why. */
static int expect_call(const char *name, const unsigned char *args, size_t len, char *why,
		       size_t cap)
{
	const char *dir = getenv("NM_FIXTURES");
	char path[4096];
	size_t k = 0;
	int c, rest = 0, rc = 0;
	FILE *f;

	if (name[0] == '/')
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures", name);
	f = fopen(path, "re");
	if (!f) {
		snprintf(why, cap, "cannot open %.200s", path);
		return -1;
	}
	while ((c = fgetc(f)) != EOF) {
		char pair[3] = { 0 };
		unsigned v;

		if (isspace(c))
			continue;
		if (c == '#') {
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (c == '*') {
			rest = 1;
			break;
		}
		pair[0] = (char)c;
		c = fgetc(f);
		pair[1] = (char)(c == EOF ? 0 : c);
		if (k >= len) {
			snprintf(why, cap, "the call ends at byte %zu, %s expected", k, pair);
			rc = -1;
			break;
		}
		if (strcmp(pair, "..") != 0) {
			if (sscanf(pair, "%2x", &v) != 1 || !isxdigit((unsigned char)pair[1])) {
				snprintf(why, cap, "bad expectation '%s'", pair);
				rc = -1;
				break;
			}
			if (args[k] != v) {
				snprintf(why, cap, "byte %zu is %02x, %02x expected", k, args[k],
					 v);
				rc = -1;
				break;
			}
		}
		k++;
	}
	fclose(f);
	if (rc == 0 && !rest && k != len) {
		snprintf(why, cap, "%zu bytes of arguments, %zu expected", len, k);
		rc = -1;
	}
	return rc;
}

static void write_all(int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);

		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

static void serve_replay(int fd, int nfiles, char **files)
{
	for (int k = 0; k < nfiles; k++) {
		char name[1024], why[256];
		char *at, *expect;
		long cut = -1;
		size_t len, clen = 0, off;
		unsigned char *buf, *call = NULL;
		int64_t xid = read_call_keep(fd, &call, &clen);

		if (xid < 0)
			return;
		snprintf(name, sizeof(name), "%s", files[k]);
		expect = strchr(name, ',');
		if (expect) {
			*expect++ = '\0';
			if (call_args(call, clen, &off) < 0) {
				snprintf(why, sizeof(why), "no RPC call header");
			} else if (expect_call(expect, call + off, clen - off, why, sizeof(why)) ==
				   0) {
				expect = NULL;
			}
			if (expect) {
				fprintf(stderr, "fakesrv: call %d differs from %s: %s\n", k + 1,
					expect, why);
				fflush(stderr);
				free(call);
				return;
			}
		}
		free(call);
		at = strchr(name, '@');
		if (at) {
			*at = '\0';
			cut = strtol(at + 1, NULL, 10);
		}
		buf = hexfile_load(name, &len);
		if (!buf || len < 8) {
			free(buf);
			return;
		}
		/* The captured payload starts with the record marker; the xid
		 * follows it. */
		buf[4] = (unsigned char)(xid >> 24);
		buf[5] = (unsigned char)(xid >> 16);
		buf[6] = (unsigned char)(xid >> 8);
		buf[7] = (unsigned char)xid;
		write_all(fd, buf, cut >= 0 && (size_t)cut < len ? (size_t)cut : len);
		free(buf);
		if (cut >= 0)
			return;
	}
	/* Out of replies: wait for the client to give up or hang up. */
	while (read_call(fd) >= 0)
		;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int lfd, one = 1;
	const char *mode;

	if (argc < 4) {
		fprintf(stderr, "usage: fakesrv ADDR PORT MODE [ARGS]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	mode = argv[3];
	if (strchr(argv[1], ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)atoi(argv[2]));
		if (inet_pton(AF_INET6, argv[1], &a->sin6_addr) != 1)
			return 2;
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)atoi(argv[2]));
		if (inet_pton(AF_INET, argv[1], &a->sin_addr) != 1)
			return 2;
		sl = sizeof(*a);
	}
	if (strcmp(mode, "hogresv") == 0) {
		for (unsigned p = 512; p < 1024; p++) {
			int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

			if (ss.ss_family == AF_INET6) {
				struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

				a->sin6_addr = in6addr_any;
				a->sin6_port = htons((uint16_t)p);
			} else {
				struct sockaddr_in *a = (struct sockaddr_in *)&ss;

				a->sin_addr.s_addr = htonl(INADDR_ANY);
				a->sin_port = htons((uint16_t)p);
			}
			if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0)
				close(fd); /* taken already: held just the same */
		}
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	if (strcmp(mode, "udpsilent") == 0) {
		char buf[4096];
		int ufd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (ufd < 0 || bind(ufd, (struct sockaddr *)&ss, sl) < 0) {
			perror("fakesrv");
			return 1;
		}
		printf("ready\n");
		fflush(stdout);
		for (;;)
			if (recv(ufd, buf, sizeof(buf), 0) < 0 && errno != EINTR)
				return 1;
	}
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&ss, sl) < 0 || listen(lfd, 16) < 0) {
		perror("fakesrv");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		char buf[4096];

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (strcmp(mode, "silent") == 0) {
			while (read(fd, buf, sizeof(buf)) > 0)
				;
		} else if (strcmp(mode, "banner") == 0) {
			static const char b[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";

			write_all(fd, b, sizeof(b) - 1);
			if (read(fd, buf, sizeof(buf)) > 0)
				write_all(fd, "Invalid SSH identification string.\r\n", 36);
		} else if (strcmp(mode, "http") == 0) {
			static const char h[] = "HTTP/1.1 400 Bad Request\r\n"
						"Content-Length: 0\r\nConnection: close\r\n\r\n";

			if (read(fd, buf, sizeof(buf)) > 0)
				write_all(fd, h, sizeof(h) - 1);
		} else if (strcmp(mode, "replay") == 0) {
			serve_replay(fd, argc - 4, argv + 4);
		} else {
			fprintf(stderr, "fakesrv: unknown mode %s\n", mode);
			return 2;
		}
		close(fd);
	}
}
