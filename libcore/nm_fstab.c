/* nm_fstab - fstab and autofs map lines naming a server (see nm_fstab.h). */
#include "nm_fstab.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "nm_afile.h"
#include "nm_target.h"

#define NM_FSTAB_MAX_HITS 4096 /* a file with more is not a table */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_odigit(char c)
{
	return c >= '0' && c <= '7';
}

/* The length of the escape at s (4 for \NNN), else 1. */
static size_t esc_len(const char *s, size_t left)
{
	if (left >= 4 && s[0] == '\\' && is_odigit(s[1]) && is_odigit(s[2]) && is_odigit(s[3]) &&
	    s[1] <= '3')
		return 4;
	return 1;
}

char *nm_fstab_decode(const char *field, size_t len)
{
	char *out = malloc(len + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t e = esc_len(field + i, len - i);

		if (e == 4)
			*o++ = (char)(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) |
				      (field[i + 3] - '0'));
		else
			*o++ = field[i];
		i += e;
	}
	*o = '\0';
	return out;
}

bool nm_fstab_source_split(const char *field, size_t len, size_t *hosts_len, size_t *path_off)
{
	for (size_t i = 1; i + 1 < len; i++) {
		if (field[i] == '/' || is_blank(field[i]))
			return false; /* a path before any ':' (a local device) */
		if (field[i] == ':' && field[i + 1] == '/') {
			if (field[0] == ':')
				return false;
			*hosts_len = i;
			*path_off = i + 1;
			return true;
		}
	}
	return false;
}

/* name without brackets and a final dot, into buf; false when too long. */
static bool bare_name(const char *name, size_t len, char *buf, size_t cap)
{
	if (len >= 2 && name[0] == '[' && name[len - 1] == ']')
		name++, len -= 2;
	if (len > 1 && name[len - 1] == '.')
		len--;
	if (len == 0 || len >= cap)
		return false;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return true;
}

static bool as_addr(const char *s, unsigned char addr[16], int *af)
{
	if (inet_pton(AF_INET, s, addr) == 1)
		return *af = AF_INET, true;
	if (inet_pton(AF_INET6, s, addr) == 1)
		return *af = AF_INET6, true;
	return false;
}

bool nm_fstab_server_is(const char *name, size_t len, const char *const *servers, size_t nservers)
{
	char a[256], b[256];
	unsigned char aa[16], ba[16];
	int aaf = 0, baf = 0;
	bool a_is_addr;

	if (!bare_name(name, len, a, sizeof(a)))
		return false;
	a_is_addr = as_addr(a, aa, &aaf);
	for (size_t i = 0; i < nservers; i++) {
		if (!servers[i] || !bare_name(servers[i], strlen(servers[i]), b, sizeof(b)))
			continue;
		if (a_is_addr) {
			if (as_addr(b, ba, &baf) && baf == aaf &&
			    memcmp(aa, ba, aaf == AF_INET ? 4 : 16) == 0)
				return true;
		} else if (strcasecmp(a, b) == 0) {
			return true;
		}
	}
	return false;
}

/* --- matching one location ------------------------------------------------ */

struct query {
	const char *const *servers;
	size_t nservers;
	char exp[4096]; /* the export path, no trailing '/' ("" for "/") */
};

static int query_init(struct query *q, const char *const *servers, size_t nservers,
		      const char *export_path, struct nm_err *err)
{
	size_t len;

	if (!export_path || export_path[0] != '/')
		return nm_err_set(err, -EINVAL, "the export path must be absolute");
	len = strlen(export_path);
	while (len > 0 && export_path[len - 1] == '/')
		len--;
	if (len >= sizeof(q->exp))
		return nm_err_set(err, -ENAMETOOLONG, "export path too long");
	memcpy(q->exp, export_path, len);
	q->exp[len] = '\0';
	q->servers = servers;
	q->nservers = nservers;
	return 0;
}

static void hit_clear(struct nm_fstab_hit *h)
{
	free(h->file);
	free(h->entry);
	free(h->key);
	free(h->spans);
	memset(h, 0, sizeof(*h));
}

struct hitv {
	struct nm_fstab_hit *v;
	size_t n;
};

static int span_add(struct nm_fstab_hit *h, const struct nm_fstab_span *s)
{
	struct nm_fstab_span *v = realloc(h->spans, (h->nspans + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	h->spans = v;
	v[h->nspans++] = *s;
	return 0;
}

/* Does the path (raw bytes, decoded as kind says) lie at or below the
 * export path?  *raw_len: the raw bytes that spell the export path. */
static bool path_under(const char *p, size_t len, enum nm_fstab_kind kind, const char *exp,
		       size_t *raw_len)
{
	size_t elen = strlen(exp), i = 0, d = 0;

	/* Walk the raw bytes, decoding (fstab escapes) as we go. */
	while (d < elen) {
		size_t e;
		char c;

		if (i >= len)
			return false;
		e = kind == NM_FSTAB_FSTAB ? esc_len(p + i, len - i) : 1;
		c = e == 4 ? (char)(((p[i + 1] - '0') << 6) | ((p[i + 2] - '0') << 3) |
				    (p[i + 3] - '0'))
			   : p[i];
		if (c != exp[d])
			return false;
		i += e;
		d++;
	}
	*raw_len = i;
	if (i == len)
		return true;
	if (p[i] == '/')
		return true;
	return false;
}

/* One location "HOSTS:/PATH" at loc (len bytes) of entry: its spans. */
static int match_location(struct nm_fstab_hit *h, const char *entry, const char *loc, size_t len,
			  enum nm_fstab_kind kind, const struct query *q)
{
	size_t hosts_len, path_off, raw, start = 0, found = 0, nhosts = 0;
	struct nm_fstab_span spans[16];

	if (!nm_fstab_source_split(loc, len, &hosts_len, &path_off))
		return 0;
	if (!path_under(loc + path_off, len - path_off, kind, q->exp, &raw))
		return 0;
	while (start < hosts_len) {
		size_t end = start, hl;

		if (loc[start] == '[') {
			while (end < hosts_len && loc[end] != ']')
				end++;
			if (end < hosts_len)
				end++;
		}
		while (end < hosts_len && loc[end] != ',')
			end++;
		hl = end - start;
		/* A weight: host(N). */
		if (hl > 0 && loc[start + hl - 1] == ')') {
			const char *op = memchr(loc + start, '(', hl);

			if (op)
				hl = (size_t)(op - (loc + start));
		}
		nhosts++;
		if (hl > 0 && nm_fstab_server_is(loc + start, hl, q->servers, q->nservers) &&
		    found < sizeof(spans) / sizeof(spans[0])) {
			spans[found++] = (struct nm_fstab_span){
				.host_off = (size_t)(loc - entry) + start,
				.host_len = hl,
				.path_off = (size_t)(loc - entry) + path_off,
				.path_len = raw,
			};
		}
		start = end + 1;
	}
	for (size_t i = 0; i < found; i++) {
		spans[i].shared = found < nhosts;
		if (span_add(h, &spans[i]))
			return -ENOMEM;
	}
	return 0;
}

static int hit_push(struct hitv *hv, struct nm_fstab_hit *h, struct nm_err *err)
{
	struct nm_fstab_hit *v;

	if (hv->n >= NM_FSTAB_MAX_HITS) {
		hit_clear(h);
		return 0;
	}
	v = realloc(hv->v, (hv->n + 1) * sizeof(*v));
	if (!v) {
		hit_clear(h);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	hv->v = v;
	v[hv->n++] = *h;
	memset(h, 0, sizeof(*h));
	return 0;
}

/* A blank-separated token of an autofs line: double quotes and a
 * backslash keep blanks in it. */
static size_t token_end(const char *s, size_t i, size_t len)
{
	bool quoted = false;

	while (i < len && (quoted || !is_blank(s[i]))) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == '"')
			quoted = !quoted;
		i++;
	}
	return i;
}

/* Is fstype (len bytes) an NFS one? */
static bool nfs_type(const char *t, size_t len)
{
	return (len == 3 && memcmp(t, "nfs", 3) == 0) || (len == 4 && memcmp(t, "nfs4", 4) == 0);
}

/* autofs options "-fstype=nfs4,rw": false when they name another type. */
static bool autofs_opts_nfs(const char *o, size_t len)
{
	size_t i = 0;

	while (i < len && o[i] == '-')
		i++;
	while (i < len) {
		size_t e = i;

		while (e < len && o[e] != ',')
			e++;
		if (e - i > 7 && memcmp(o + i, "fstype=", 7) == 0)
			return nfs_type(o + i + 7, e - i - 7);
		i = e + 1;
	}
	return true;
}

static int match_fstab_line(struct nm_fstab_hit *h, const char *line, size_t len,
			    const struct query *q)
{
	size_t f[3][2], n = 0, i = 0;

	while (n < 3) {
		while (i < len && is_blank(line[i]))
			i++;
		if (i >= len)
			return 0;
		if (n == 0 && line[i] == '#')
			return 0;
		f[n][0] = i;
		while (i < len && !is_blank(line[i]))
			i++;
		f[n][1] = i - f[n][0];
		n++;
	}
	if (!nfs_type(line + f[2][0], f[2][1]))
		return 0;
	if (match_location(h, line, line + f[0][0], f[0][1], NM_FSTAB_FSTAB, q))
		return -ENOMEM;
	if (h->nspans) {
		h->key = nm_fstab_decode(line + f[1][0], f[1][1]);
		if (!h->key)
			return -ENOMEM;
	}
	return 0;
}

static int match_autofs_line(struct nm_fstab_hit *h, const char *line, size_t len,
			     const struct query *q)
{
	size_t i = 0, kend;

	while (i < len && is_blank(line[i]))
		i++;
	if (i >= len || line[i] == '#' || line[i] == '+')
		return 0;
	kend = token_end(line, i, len);
	h->key = strndup(line + i, kend - i);
	if (!h->key)
		return -ENOMEM;
	for (i = kend; i < len;) {
		size_t e;

		/* A continued line's backslash-newline is a blank. */
		while (i < len && (is_blank(line[i]) || line[i] == '\n' ||
				   (line[i] == '\\' && i + 1 < len && line[i + 1] == '\n')))
			i++;
		if (i >= len)
			break;
		e = token_end(line, i, len);
		if (line[i] == '-') {
			if (!autofs_opts_nfs(line + i, e - i)) {
				h->nspans = 0; /* another file system type: not ours */
				free(h->spans);
				h->spans = NULL;
				return 0;
			}
		} else if (line[i] != '/' && !memchr(line + i, '"', e - i) &&
			   !memchr(line + i, '\\', e - i)) {
			if (match_location(h, line, line + i, e - i, NM_FSTAB_AUTOFS, q))
				return -ENOMEM;
		}
		i = e;
	}
	return 0;
}

static int match_text(const char *file, enum nm_fstab_kind kind, const char *text, size_t len,
		      const struct query *q, struct hitv *hv, struct nm_err *err)
{
	size_t pos = 0;
	unsigned lineno = 0;

	while (pos < len) {
		size_t end = pos, next;
		unsigned first = ++lineno;
		struct nm_fstab_hit h = { 0 };
		int rc;

		/* A logical line: autofs joins lines ending in a backslash. */
		for (;;) {
			while (end < len && text[end] != '\n')
				end++;
			if (kind == NM_FSTAB_AUTOFS && end < len && end > pos &&
			    text[end - 1] == '\\' && end + 1 < len) {
				end++;
				lineno++;
				continue;
			}
			break;
		}
		next = end < len ? end + 1 : end;
		if (memchr(text + pos, '\0', end - pos)) {
			pos = next; /* not text */
			continue;
		}
		rc = kind == NM_FSTAB_FSTAB ? match_fstab_line(&h, text + pos, end - pos, q)
					    : match_autofs_line(&h, text + pos, end - pos, q);
		if (rc) {
			hit_clear(&h);
			return nm_err_set(err, rc, "out of memory");
		}
		if (h.nspans) {
			h.file = strdup(file);
			h.entry = strndup(text + pos, end - pos);
			h.line = first;
			h.kind = kind;
			if (!h.file || !h.entry) {
				hit_clear(&h);
				return nm_err_set(err, -ENOMEM, "out of memory");
			}
			rc = hit_push(hv, &h, err);
			if (rc)
				return rc;
		} else {
			hit_clear(&h);
		}
		pos = next;
	}
	return 0;
}

int nm_fstab_match_text(const char *file, enum nm_fstab_kind kind, const char *text, size_t len,
			const char *const *servers, size_t nservers, const char *export_path,
			struct nm_fstab_hit **hits, size_t *n, struct nm_err *err)
{
	struct query q;
	struct hitv hv = { *hits, *n };
	int rc;

	if (kind == NM_FSTAB_MASTER)
		return 0;
	rc = query_init(&q, servers, nservers, export_path, err);
	if (rc)
		return rc;
	rc = match_text(file, kind, text, len, &q, &hv, err);
	*hits = hv.v;
	*n = hv.n;
	return rc;
}

void nm_fstab_hits_free(struct nm_fstab_hit *h, size_t n)
{
	if (!h)
		return;
	for (size_t i = 0; i < n; i++)
		hit_clear(&h[i]);
	free(h);
}

/* --- the master map ----------------------------------------------------- */

void nm_fstab_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

struct strv {
	char **v;
	size_t n;
};

static int strv_add(struct strv *sv, const char *s, size_t len)
{
	char **v;

	for (size_t i = 0; i < sv->n; i++)
		if (strlen(sv->v[i]) == len && memcmp(sv->v[i], s, len) == 0)
			return 0;
	if (sv->n >= NM_FSTAB_MAX_MAPS)
		return 0;
	v = realloc(sv->v, (sv->n + 2) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	sv->v = v;
	v[sv->n] = strndup(s, len);
	if (!v[sv->n])
		return -ENOMEM;
	v[++sv->n] = NULL;
	return 0;
}

/* A path nfsmig reads: absolute, printable, no ".." component. */
static bool plain_path(const char *p, size_t len)
{
	if (len < 2 || p[0] != '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f || p[i] == '"' || p[i] == '\\')
			return false;
		if (p[i] == '.' && i + 1 < len && p[i + 1] == '.' && p[i - 1] == '/' &&
		    (i + 2 == len || p[i + 2] == '/'))
			return false;
	}
	return true;
}

/* A master map's map spec ("/etc/auto.x", "file:/etc/auto.x",
 * "file,sun:...", "auto.x"): the file it names into sv, else nothing. */
static int master_map(const char *m, size_t len, struct strv *sv)
{
	const char *colon = memchr(m, ':', len);
	char buf[300];

	if (len == 0 || m[0] == '-')
		return 0; /* -hosts, -null */
	if (colon && m[0] != '/') {
		size_t tl = (size_t)(colon - m);

		/* map-type[,format]: only "file" is a file nfsmig reads. */
		if (!(tl >= 4 && memcmp(m, "file", 4) == 0 && (tl == 4 || m[4] == ',')))
			return 0;
		len -= tl + 1;
		m = colon + 1;
	}
	if (len > 0 && m[0] != '/') {
		/* A bare name: the files source of nsswitch, /etc/NAME. */
		if (memchr(m, '/', len) || len + 6 > sizeof(buf))
			return 0;
		memcpy(buf, "/etc/", 5);
		memcpy(buf + 5, m, len);
		m = buf;
		len += 5;
	}
	if (!plain_path(m, len))
		return 0;
	return strv_add(sv, m, len);
}

int nm_fstab_master_maps(const char *text, size_t len, char ***maps, char ***dirs,
			 struct nm_err *err)
{
	struct strv mv = { 0 }, dv = { 0 };
	size_t pos = 0;
	int rc = 0;

	*maps = NULL;
	if (dirs)
		*dirs = NULL;
	while (pos < len && !rc) {
		size_t end = pos, i, e;

		while (end < len && text[end] != '\n')
			end++;
		i = pos;
		pos = end + 1;
		while (i < end && is_blank(text[i]))
			i++;
		if (i >= end || text[i] == '#' || memchr(text + i, '\0', end - i))
			continue;
		if (end - i > 5 && memcmp(text + i, "+dir:", 5) == 0) {
			e = token_end(text, i, end);
			if (dirs && plain_path(text + i + 5, e - i - 5))
				rc = strv_add(&dv, text + i + 5, e - i - 5);
			continue;
		}
		if (text[i] == '+')
			continue;	     /* an included map from NIS, LDAP... */
		i = token_end(text, i, end); /* the mount point */
		while (i < end && is_blank(text[i]))
			i++;
		e = token_end(text, i, end);
		rc = master_map(text + i, e - i, &mv);
	}
	if (rc) {
		nm_fstab_strv_free(mv.v);
		nm_fstab_strv_free(dv.v);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	*maps = mv.v;
	if (dirs)
		*dirs = dv.v;
	else
		nm_fstab_strv_free(dv.v);
	return 0;
}

/* --- scanning a tree ------------------------------------------------------- */

static char *under_root(const char *root, const char *path)
{
	size_t rl = strlen(root);
	char *p;

	while (rl > 0 && root[rl - 1] == '/')
		rl--;
	p = malloc(rl + strlen(path) + 1);
	if (p) {
		memcpy(p, root, rl);
		strcpy(p + rl, path);
	}
	return p;
}

/* Read file (as on the system) under root; 1 when it is not there (or not
 * a file nfsmig reads: an executable map is a program). */
static int read_under(const char *root, const char *file, bool maps, struct nm_afile *f,
		      struct nm_err *err)
{
	char *p = under_root(root, file);
	int rc;

	if (!p)
		return nm_err_set(err, -ENOMEM, "out of memory");
	rc = nm_afile_read(p, NM_FSTAB_MAX_BYTES, f, err);
	free(p);
	if (rc == -ENOENT || rc == -ENOTDIR)
		return 1;
	if (rc == 0 && maps && (f->st.st_mode & 0111)) {
		nm_afile_free(f);
		return 1;
	}
	if (rc)
		nm_err_prefix(err, "%s", root);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The master map files: /etc/auto.master, then NAME.autofs in each
 * directory (/etc/auto.master.d and the +dir: ones), in name order. */
static int master_files(const char *root, char **dirs, struct strv *out)
{
	const char *fixed = "/etc/auto.master.d";
	int rc = strv_add(out, "/etc/auto.master", strlen("/etc/auto.master"));

	for (size_t d = 0; !rc && (d == 0 || (dirs && dirs[d - 1])); d++) {
		const char *dir = d == 0 ? fixed : dirs[d - 1];
		char *p = under_root(root, dir), *names[NM_FSTAB_MAX_MAPS];
		size_t nn = 0;
		struct dirent *de;
		DIR *dp;

		if (!p)
			return -ENOMEM;
		dp = opendir(p);
		free(p);
		if (!dp)
			continue;
		while ((de = readdir(dp)) && nn < NM_FSTAB_MAX_MAPS) {
			size_t l = strlen(de->d_name);

			if (l > 7 && de->d_name[0] != '.' &&
			    strcmp(de->d_name + l - 7, ".autofs") == 0) {
				names[nn] = malloc(strlen(dir) + l + 2);
				if (!names[nn])
					break;
				sprintf(names[nn++], "%s/%s", dir, de->d_name);
			}
		}
		closedir(dp);
		qsort(names, nn, sizeof(names[0]), cmp_str);
		for (size_t i = 0; i < nn; i++) {
			if (!rc)
				rc = strv_add(out, names[i], strlen(names[i]));
			free(names[i]);
		}
	}
	return rc;
}

int nm_fstab_scan_names(const char *root, const char *const *servers, size_t nservers,
			const char *export_path, struct nm_fstab_hit **hits, size_t *n,
			struct nm_err *err)
{
	struct strv masters = { 0 }, maps = { 0 };
	struct hitv hv = { 0 };
	struct nm_err ferr = { 0 };
	struct nm_afile f;
	struct query q;
	char **dirs = NULL;
	int rc, unread = 0;

	*hits = NULL;
	*n = 0;
	if (!root || !*root)
		root = "/";
	rc = query_init(&q, servers, nservers, export_path, err);
	if (rc)
		return rc;

	/* fstab */
	rc = read_under(root, "/etc/fstab", false, &f, &ferr);
	if (rc == 0) {
		rc = match_text("/etc/fstab", NM_FSTAB_FSTAB, f.text, f.len, &q, &hv, err);
		nm_afile_free(&f);
		if (rc)
			goto out;
	} else if (rc < 0) {
		if (rc == -ENOMEM)
			goto oom;
		unread = unread ? unread : rc;
		if (err && !err->code)
			*err = ferr;
	}

	/* The master map: /etc/auto.master first, for its +dir: lines. */
	rc = read_under(root, "/etc/auto.master", true, &f, &ferr);
	if (rc == 0) {
		char **m = NULL;

		rc = nm_fstab_master_maps(f.text, f.len, &m, &dirs, err);
		nm_afile_free(&f);
		if (rc)
			goto out;
		nm_fstab_strv_free(m);
	}
	rc = master_files(root, dirs, &masters);
	if (rc)
		goto oom;
	for (size_t i = 0; i < masters.n; i++) {
		char **m = NULL;

		rc = read_under(root, masters.v[i], true, &f, &ferr);
		if (rc < 0) {
			if (rc == -ENOMEM)
				goto oom;
			unread = unread ? unread : rc;
			if (err && !err->code)
				*err = ferr;
		}
		if (rc)
			continue;
		rc = nm_fstab_master_maps(f.text, f.len, &m, NULL, err);
		nm_afile_free(&f);
		if (rc)
			goto out;
		for (char **p = m; p && *p && !rc; p++)
			rc = strv_add(&maps, *p, strlen(*p));
		nm_fstab_strv_free(m);
		if (rc)
			goto oom;
	}
	for (size_t i = 0; i < maps.n; i++) {
		rc = read_under(root, maps.v[i], true, &f, &ferr);
		if (rc < 0) {
			if (rc == -ENOMEM)
				goto oom;
			unread = unread ? unread : rc;
			if (err && !err->code)
				*err = ferr;
		}
		if (rc)
			continue;
		rc = match_text(maps.v[i], NM_FSTAB_AUTOFS, f.text, f.len, &q, &hv, err);
		nm_afile_free(&f);
		if (rc)
			goto out;
	}
	rc = unread ? 1 : 0;
	goto out;
oom:
	rc = nm_err_set(err, -ENOMEM, "out of memory");
out:
	nm_fstab_strv_free(dirs);
	nm_fstab_strv_free(masters.v);
	nm_fstab_strv_free(maps.v);
	if (rc < 0) {
		nm_fstab_hits_free(hv.v, hv.n);
		return rc;
	}
	*hits = hv.v;
	*n = hv.n;
	return rc;
}

int nm_fstab_scan(const char *root, const char *old_server, const char *export_path,
		  struct nm_fstab_hit **hits, size_t *n, struct nm_err *err)
{
	const char *servers[1] = { old_server };

	return nm_fstab_scan_names(root, servers, 1, export_path, hits, n, err);
}

/* --- the new line ------------------------------------------------------- */

struct edit {
	size_t off, len;
	const char *with;
	size_t wlen;
};

static int cmp_edit(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

int nm_fstab_propose(const struct nm_fstab_hit *h, const char *new_server, const char *new_path,
		     char **line, struct nm_err *err)
{
	char host[300], path[4096 * 4 + 1];
	size_t elen = strlen(h->entry), ne = 0, plen = 0, out_len = 0;
	struct edit *ed;
	char *out, *o;

	*line = NULL;
	if (!new_server || !nm_target_host_name_ok(new_server))
		return nm_err_set(err, -EINVAL, "the new server is not a host name or an address");
	snprintf(host, sizeof(host), strchr(new_server, ':') ? "[%s]" : "%s", new_server);
	if (new_path) {
		size_t l = strlen(new_path);

		if (new_path[0] != '/' || l > 4096)
			return nm_err_set(err, -EINVAL, "the new path must be absolute");
		while (l > 1 && new_path[l - 1] == '/')
			l--;
		for (size_t i = 0; i < l; i++) {
			unsigned char c = (unsigned char)new_path[i];

			if (c < 0x20 || c == 0x7f)
				return nm_err_set(err, -EINVAL,
						  "the new path holds a control character");
			if (c == ' ' || c == '\t' || c == '\\' || c == '#' || c == '"') {
				if (h->kind != NM_FSTAB_FSTAB)
					return nm_err_set(
						err, -EINVAL,
						"the new path cannot be written in an autofs map");
				plen += (size_t)sprintf(path + plen, "\\%03o", c);
			} else {
				path[plen++] = (char)c;
			}
		}
		path[plen] = '\0';
		if (plen == 1) /* "/": the export's own path below it keeps its '/' */
			plen = 0;
	}
	ed = calloc(h->nspans * 2 + 1, sizeof(*ed));
	if (!ed)
		return nm_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < h->nspans; i++) {
		const struct nm_fstab_span *s = &h->spans[i];
		bool dup = false;

		if (s->host_off + s->host_len > elen || s->path_off + s->path_len > elen) {
			free(ed);
			return nm_err_set(err, -EINVAL, "a span outside the entry");
		}
		ed[ne++] = (struct edit){ s->host_off, s->host_len, host, strlen(host) };
		if (!new_path)
			continue;
		if (s->shared) {
			free(ed);
			return nm_err_set(err, -EXDEV,
					  "the location names other servers too: its path cannot "
					  "change for one");
		}
		for (size_t j = 0; j < ne; j++)
			dup |= ed[j].with == path && ed[j].off == s->path_off;
		if (!dup)
			ed[ne++] = (struct edit){ s->path_off, s->path_len, path, plen };
	}
	qsort(ed, ne, sizeof(*ed), cmp_edit);
	out_len = elen;
	for (size_t i = 0; i < ne; i++) {
		if (i > 0 && ed[i].off < ed[i - 1].off + ed[i - 1].len) {
			free(ed);
			return nm_err_set(err, -EINVAL, "overlapping spans");
		}
		out_len += ed[i].wlen;
	}
	o = out = malloc(out_len + 1);
	if (!out) {
		free(ed);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0, at = 0; i <= ne; i++) {
		size_t to = i < ne ? ed[i].off : elen;

		memcpy(o, h->entry + at, to - at);
		o += to - at;
		if (i < ne) {
			memcpy(o, ed[i].with, ed[i].wlen);
			o += ed[i].wlen;
			at = ed[i].off + ed[i].len;
		}
	}
	*o = '\0';
	free(ed);
	*line = out;
	return 0;
}

/* --- the rewrite -------------------------------------------------------- */

static int cmp_hit_line(const void *a, const void *b)
{
	const struct nm_fstab_hit *const *x = a, *const *y = b;

	return (*x)->line < (*y)->line ? -1 : (*x)->line > (*y)->line;
}

int nm_fstab_rewrite(const char *root, const char *file, const struct nm_fstab_hit *hits, size_t n,
		     const char *new_server, const char *new_path, char **backup,
		     struct nm_err *err)
{
	const struct nm_fstab_hit **mine = NULL;
	char *path = NULL, *out = NULL, **lines = NULL, suffix[32];
	size_t nm = 0, out_len = 0, pos = 0;
	unsigned lineno = 1;
	struct nm_afile f = { 0 };
	struct tm tm;
	time_t now = time(NULL);
	int rc;

	if (backup)
		*backup = NULL;
	if (!root || !*root)
		root = "/";
	if (!file || file[0] != '/')
		return nm_err_set(err, -EINVAL, "the file must be an absolute path");
	mine = calloc(n + 1, sizeof(*mine));
	lines = calloc(n + 1, sizeof(*lines));
	path = under_root(root, file);
	if (!mine || !lines || !path) {
		rc = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(hits[i].file, file) == 0)
			mine[nm++] = &hits[i];
	if (nm == 0) {
		rc = 0;
		goto out;
	}
	qsort(mine, nm, sizeof(*mine), cmp_hit_line);
	for (size_t i = 0; i < nm; i++) {
		rc = nm_fstab_propose(mine[i], new_server, new_path, &lines[i], err);
		if (rc) {
			nm_err_prefix(err, "%s:%u", file, mine[i]->line);
			goto out;
		}
		if (i > 0 && mine[i]->line == mine[i - 1]->line) {
			rc = nm_err_set(err, -EINVAL, "%s:%u: listed twice", file, mine[i]->line);
			goto out;
		}
	}
	rc = nm_afile_read(path, NM_FSTAB_MAX_BYTES, &f, err);
	if (rc)
		goto out;
	out = malloc(f.len + 1);
	for (size_t i = 0; out && i < nm; i++)
		out_len += strlen(lines[i]);
	if (out) {
		char *bigger = realloc(out, f.len + out_len + 1);

		out = bigger ? bigger : (free(out), NULL);
	}
	if (!out) {
		rc = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	out_len = 0;
	for (size_t i = 0; i < nm; i++) {
		size_t start = pos, elen = strlen(mine[i]->entry);

		/* Copy up to the hit's first line. */
		while (lineno < mine[i]->line && pos < f.len) {
			if (f.text[pos++] == '\n')
				lineno++;
		}
		memcpy(out + out_len, f.text + start, pos - start);
		out_len += pos - start;
		if (lineno != mine[i]->line || f.len - pos < elen ||
		    memcmp(f.text + pos, mine[i]->entry, elen) != 0 ||
		    (pos + elen < f.len && f.text[pos + elen] != '\n')) {
			rc = nm_err_set(err, -ESTALE,
					"%s:%u: changed since it was read: not rewritten", file,
					mine[i]->line);
			goto out;
		}
		memcpy(out + out_len, lines[i], strlen(lines[i]));
		out_len += strlen(lines[i]);
		for (size_t k = 0; k < elen; k++)
			lineno += mine[i]->entry[k] == '\n';
		pos += elen;
	}
	memcpy(out + out_len, f.text + pos, f.len - pos);
	out_len += f.len - pos;
	localtime_r(&now, &tm);
	strftime(suffix, sizeof(suffix), ".nfsmig-%Y%m%dT%H%M%S", &tm);
	rc = nm_afile_replace(path, &f, out, out_len, suffix, backup, err);
	if (rc == 0 && backup && *backup) {
		/* The backup as on the system: the root taken off. */
		size_t rl = strlen(root);

		while (rl > 0 && root[rl - 1] == '/')
			rl--;
		if (rl > 0 && strncmp(*backup, root, rl) == 0)
			memmove(*backup, *backup + rl, strlen(*backup + rl) + 1);
	}
out:
	for (size_t i = 0; lines && i < nm; i++)
		free(lines[i]);
	free(lines);
	free(mine);
	free(path);
	free(out);
	nm_afile_free(&f);
	return rc;
}
