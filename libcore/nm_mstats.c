#include "nm_mstats.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Operations that use a stateid or clientid the client already holds.  OPEN
 * is not one: a new open fails over and over in a server's grace period,
 * which passes. */
static const char *const state_ops[] = {
	"READ",		"WRITE",	"COMMIT",    "OPEN_DOWNGRADE", "CLOSE",
	"SETATTR",	"RENEW",	"LOCK",	     "LOCKU",	       "DELEGRETURN",
	"TEST_STATEID", "FREE_STATEID", "READ_PLUS", "LAYOUTGET",      "LAYOUTRETURN",
};

bool nm_mstats_is_state_op(const char *name)
{
	for (size_t i = 0; i < sizeof(state_ops) / sizeof(state_ops[0]); i++)
		if (strcmp(name, state_ops[i]) == 0)
			return true;
	return false;
}

/* A word of a "device" line, its \ooo escapes decoded, or NULL. */
static char *word(const char **pp, const char *end)
{
	const char *p = *pp, *s;
	char *w, *o;

	while (p < end && *p == ' ')
		p++;
	s = p;
	while (p < end && *p != ' ' && *p != '\n')
		p++;
	*pp = p;
	if (p == s)
		return NULL;
	w = malloc((size_t)(p - s) + 1);
	if (!w)
		return NULL;
	for (o = w; s < p; s++) {
		if (s[0] == '\\' && p - s >= 4 && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return w;
}

static bool expect(const char **pp, const char *end, const char *lit)
{
	const char *p = *pp;
	size_t n = strlen(lit);

	while (p < end && *p == ' ')
		p++;
	if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0 || (p + n < end && p[n] != ' '))
		return false;
	*pp = p + n;
	return true;
}

/* "device SRC mounted on DIR with fstype TYPE ...": a new entry if NFS. */
static int device_line(const char *p, const char *end, struct nm_mstats *s, bool *keep)
{
	char *dev = NULL, *dir = NULL, *type = NULL;
	int rc = 0;

	*keep = false;
	p += strlen("device");
	dev = word(&p, end);
	if (dev && expect(&p, end, "mounted") && expect(&p, end, "on"))
		dir = word(&p, end);
	if (dir && expect(&p, end, "with") && expect(&p, end, "fstype"))
		type = word(&p, end);
	if (type && (strcmp(type, "nfs") == 0 || strcmp(type, "nfs4") == 0)) {
		struct nm_mstats_mount *m = realloc(s->m, (s->n + 1) * sizeof(*m));

		if (!m) {
			rc = -ENOMEM;
		} else {
			s->m = m;
			s->m[s->n++] =
				(struct nm_mstats_mount){ .device = dev, .target = dir, .age = -1 };
			dev = dir = NULL;
			*keep = true;
		}
	}
	free(dev);
	free(dir);
	free(type);
	return rc;
}

/* "\t   NAME: n n n n n n n n [n]" of the per-op statistics. */
static int op_line(const char *p, const char *end, struct nm_mstats_mount *m)
{
	struct nm_mstats_op op = { .idx = m->nlines++ };
	uint64_t v[9];
	size_t nlen = 0, nv = 0;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (p + nlen < end && (isupper((unsigned char)p[nlen]) ||
				  isdigit((unsigned char)p[nlen]) || p[nlen] == '_'))
		nlen++;
	if (nlen == 0 || nlen >= sizeof(op.name) || p + nlen >= end || p[nlen] != ':')
		return 0;
	memcpy(op.name, p, nlen);
	p += nlen + 1;
	while (nv < 9) {
		uint64_t x = 0;
		bool any = false;

		while (p < end && *p == ' ')
			p++;
		while (p < end && isdigit((unsigned char)*p)) {
			if (x > (UINT64_MAX - 9) / 10)
				return 0; /* not a counter */
			x = x * 10 + (uint64_t)(*p++ - '0');
			any = true;
		}
		if (!any)
			break;
		v[nv++] = x;
	}
	if (nv < 8 || m->nops >= NM_MSTATS_MAX_OPS)
		return 0;
	op.ops = v[0];
	op.errors = nv >= 9 ? v[8] : 0;
	struct nm_mstats_op *ops = realloc(m->ops, (m->nops + 1) * sizeof(*ops));

	if (!ops)
		return -ENOMEM;
	m->ops = ops;
	m->ops[m->nops++] = op;
	return 0;
}

int nm_mstats_parse(const char *text, size_t len, struct nm_mstats *out, struct nm_err *err)
{
	const char *p = text, *end = text + len;
	struct nm_mstats s = { .read_mono = -1 };
	bool in_mount = false, in_ops = false;
	int rc = 0;

	while (p < end && rc == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;

		if ((size_t)(le - p) >= 7 && memcmp(p, "device ", 7) == 0) {
			rc = device_line(p, le, &s, &in_mount);
			in_ops = false;
		} else if (in_mount && memmem(p, (size_t)(le - p), "per-op statistics", 17)) {
			in_ops = true;
		} else if (in_mount && !in_ops && (size_t)(le - p) > 5 && p[0] == '\t' &&
			   memcmp(p + 1, "age:", 4) == 0) {
			char num[24];
			size_t k = 0;
			const char *q = p + 5;

			while (q < le && (*q == '\t' || *q == ' '))
				q++;
			while (q < le && k + 1 < sizeof(num) && *q >= '0' && *q <= '9')
				num[k++] = *q++;
			num[k] = '\0';
			if (k > 0 && k < 19 && q == le)
				s.m[s.n - 1].age = strtoll(num, NULL, 10);
		} else if (in_mount && in_ops) {
			rc = op_line(p, le, &s.m[s.n - 1]);
		}
		p = nl ? nl + 1 : end;
	}
	if (rc < 0) {
		nm_mstats_free(&s);
		return nm_err_set(err, rc, "out of memory reading mountstats");
	}
	*out = s;
	return 0;
}

/* The whole of a /proc file of at most NM_MSTATS_MAX_BYTES: *buf owned by the caller. */
static int read_all(const char *path, char **out, size_t *outlen, struct nm_err *err)
{
	size_t cap = 64 * 1024, len = 0;
	char *buf = NULL;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nm_err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	for (;;) {
		if (!buf || len == cap) {
			char *nb;

			if (buf)
				cap *= 2;
			if (cap > NM_MSTATS_MAX_BYTES) {
				free(buf);
				close(fd);
				return nm_err_set(err, -EFBIG, "%s is larger than %u MiB", path,
						  NM_MSTATS_MAX_BYTES >> 20);
			}
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				close(fd);
				return nm_err_set(err, -ENOMEM, "out of memory reading %s", path);
			}
			buf = nb;
		}
		ssize_t r = read(fd, buf + len, cap - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			free(buf);
			close(fd);
			return nm_err_set(err, rc, "cannot read %s: %s", path, strerror(-rc));
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;
}

int nm_mstats_read(const char *path, struct nm_mstats *out, struct nm_err *err)
{
	char *buf;
	size_t len;
	int rc = read_all(path ? path : NM_MOUNTSTATS_DEFAULT, &buf, &len, err);

	if (rc < 0)
		return rc;
	struct timespec ts;
	int64_t now = clock_gettime(CLOCK_MONOTONIC, &ts) == 0 ? (int64_t)ts.tv_sec : -1;

	rc = nm_mstats_parse(buf, len, out, err);
	free(buf);
	if (rc == 0)
		out->read_mono = now;
	return rc;
}

int nm_mstats_rpc_parse(const char *text, size_t len, struct nm_mstats_rpc *out, struct nm_err *err)
{
	const char *p = text, *end = text + len;

	(void)err;
	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;

		if ((size_t)(le - p) > 6 && memcmp(p, "proc4 ", 6) == 0) {
			const char *q = p + 6;
			size_t i = 0;

			/* "proc4 N c0 c1 ...": the first number counts the others. */
			for (;; i++) {
				uint64_t x = 0;
				bool any = false;

				while (q < le && *q == ' ')
					q++;
				while (q < le && isdigit((unsigned char)*q)) {
					if (x > (UINT64_MAX - 9) / 10) {
						memset(out, 0, sizeof(*out));
						return 0; /* not a counter */
					}
					x = x * 10 + (uint64_t)(*q++ - '0');
					any = true;
				}
				if (!any)
					break;
				if (i > 0 && i - 1 < NM_MSTATS_MAX_OPS)
					out->calls[i - 1] = x;
			}
			out->n =
				i > 1 ? (i - 1 < NM_MSTATS_MAX_OPS ? i - 1 : NM_MSTATS_MAX_OPS) : 0;
			return 0;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int nm_mstats_rpc_read(const char *path, struct nm_mstats_rpc *out, struct nm_err *err)
{
	char *buf;
	size_t len;
	int rc = read_all(path ? path : NM_RPC_NFS_DEFAULT, &buf, &len, err);

	if (rc < 0)
		return rc;
	rc = nm_mstats_rpc_parse(buf, len, out, err);
	free(buf);
	return rc;
}

const struct nm_mstats_mount *nm_mstats_find(const struct nm_mstats *s, const char *target)
{
	for (size_t i = s->n; i-- > 0;)
		if (strcmp(s->m[i].target, target) == 0)
			return &s->m[i];
	return NULL;
}

uint64_t nm_mstats_state_errors(const struct nm_mstats_mount *before,
				const struct nm_mstats_mount *after, char *why, size_t len)
{
	uint64_t sum = 0;
	size_t used = 0;

	if (len)
		why[0] = '\0';
	for (size_t i = 0; i < after->nops; i++) {
		const struct nm_mstats_op *a = &after->ops[i];
		uint64_t was = 0;

		if (!nm_mstats_is_state_op(a->name))
			continue;
		for (size_t j = 0; j < before->nops; j++)
			if (strcmp(before->ops[j].name, a->name) == 0)
				was = before->ops[j].errors;
		if (a->errors <= was)
			continue;
		sum = sum > UINT64_MAX - (a->errors - was) ? UINT64_MAX : sum + (a->errors - was);
		if (used < len) {
			int n = snprintf(why + used, len - used, "%s%s +%" PRIu64, used ? ", " : "",
					 a->name, a->errors - was);

			used = n < 0 ? len : used + (size_t)n;
		}
	}
	return sum;
}

void nm_mstats_free(struct nm_mstats *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->m[i].device);
		free(s->m[i].target);
		free(s->m[i].ops);
	}
	free(s->m);
	s->m = NULL;
	s->n = 0;
}
