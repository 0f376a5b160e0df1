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
#include <unistd.h>

#include "nm_afile.h"
#include "nm_target.h"

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

/* One location "HOSTS:/PATH" at loc (len bytes) of entry: its spans.
 * The hosts are walked twice: counted, then the old server's added (a
 * location that names others too is shared). */
static int match_location(struct nm_fstab_hit *h, const char *entry, const char *loc, size_t len,
			  enum nm_fstab_kind kind, const struct query *q)
{
	size_t hosts_len, path_off, raw, found = 0, nhosts = 0;

	if (!nm_fstab_source_split(loc, len, &hosts_len, &path_off))
		return 0;
	if (!path_under(loc + path_off, len - path_off, kind, q->exp, &raw))
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		size_t start = 0;

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
			if (hl > 0 &&
			    nm_fstab_server_is(loc + start, hl, q->servers, q->nservers)) {
				struct nm_fstab_span s = {
					.host_off = (size_t)(loc - entry) + start,
					.host_len = hl,
					.path_off = (size_t)(loc - entry) + path_off,
					.path_len = raw,
					.shared = found < nhosts,
				};

				if (pass == 0)
					found++;
				else if (span_add(h, &s))
					return -ENOMEM;
			}
			if (pass == 0)
				nhosts++;
			start = end + 1;
		}
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
	bool entry_nfs = true, cur_nfs = true, seen_offset = false;

	while (i < len && is_blank(line[i]))
		i++;
	if (i >= len || line[i] == '#' || line[i] == '+')
		return 0;
	kend = token_end(line, i, len);
	h->key = strndup(line + i, kend - i);
	if (!h->key)
		return -ENOMEM;
	/* Options before the first offset or location are the entry's; an
	 * offset ("/sub") starts over from them, its own options after it:
	 * a location is matched only where the file system type is NFS. */
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
			cur_nfs = autofs_opts_nfs(line + i, e - i);
			if (!seen_offset)
				entry_nfs = cur_nfs;
		} else if (line[i] == '/') {
			seen_offset = true;
			cur_nfs = entry_nfs;
		} else if (cur_nfs && !memchr(line + i, '"', e - i) &&
			   !memchr(line + i, '\\', e - i)) {
			seen_offset = true; /* options after a location are an offset's */
			if (match_location(h, line, line + i, e - i, NM_FSTAB_AUTOFS, q))
				return -ENOMEM;
		}
		i = e;
	}
	return 0;
}

/* How many backslashes end s (len bytes): an odd count continues the
 * line, an even one is escaped backslashes. */
static size_t trailing_backslashes(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && s[len - 1 - n] == '\\')
		n++;
	return n;
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
			    trailing_backslashes(text + pos, end - pos) % 2 == 1 && end + 1 < len) {
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

		/* map-type[,format]: only "file" (of the sun format, not amd)
		 * is a file nfsmig reads. */
		if (!(tl >= 4 && memcmp(m, "file", 4) == 0 &&
		      (tl == 4 || (tl == 8 && memcmp(m + 4, ",sun", 4) == 0))))
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
		{
			/* The map's options: another -fstype= (glusterfs...) is
			 * every entry's default: that map is not NFS's. */
			size_t o = e, oe;
			bool nfs = true;

			while (o < end) {
				while (o < end && is_blank(text[o]))
					o++;
				oe = token_end(text, o, end);
				if (oe > o && text[o] == '-' && !autofs_opts_nfs(text + o, oe - o))
					nfs = false;
				o = oe;
			}
			if (!nfs)
				continue;
		}
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

/* Read file (as on the system) under root, through a symbolic link
 * resolved within root (the lines are reported; the rewrite refuses the
 * link); 1 when it is not
 * there (or not a file nfsmig reads: an executable map is a program). */
static int read_under(const char *root, const char *file, bool maps, struct nm_afile *f,
		      struct nm_err *err)
{
	char *p = under_root(root, file);
	int rc;

	if (!p)
		return nm_err_set(err, -ENOMEM, "out of memory");
	rc = nm_afile_read_in(root, file, NM_FSTAB_MAX_BYTES, f, err);
	if (rc == -ENOENT || rc == -ENOTDIR) {
		free(p);
		return 1;
	}
	if (rc < 0 && err) {
		/* "FILE: why", the file as on the system (the root said once,
		 * by the caller, if at all). */
		size_t pl = strlen(p);
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s",
			 strncmp(err->msg, p, pl) == 0 && strncmp(err->msg + pl, ": ", 2) == 0
				 ? err->msg + pl + 2
				 : err->msg);
		nm_err_set(err, rc, "%s: %s", file, why);
	}
	free(p);
	if (rc == 0 && maps && (f->st.st_mode & 0111)) {
		nm_afile_free(f);
		return 1;
	}
	return rc;
}

void nm_fstab_unread_free(struct nm_fstab_unread *u, size_t n)
{
	for (size_t i = 0; u && i < n; i++) {
		free(u[i].file);
		free(u[i].error);
	}
	free(u);
}

struct unreadv {
	struct nm_fstab_unread *v;
	size_t n;
	bool first_said; /* err holds the first unread file's message */
};

/* A file the scan could not read: kept in the list (when wanted), its
 * message in err when it is the first. */
static int unread_add(struct unreadv *uv, const char *file, int code, const struct nm_err *ferr,
		      bool want, struct nm_err *err)
{
	if (!uv->first_said) {
		uv->first_said = true;
		if (err)
			*err = *ferr;
	}
	if (want) {
		struct nm_fstab_unread *v = realloc(uv->v, (uv->n + 1) * sizeof(*v));
		size_t fl = strlen(file);
		const char *why = ferr->msg;

		if (!v)
			return -ENOMEM;
		uv->v = v;
		if (strncmp(why, file, fl) == 0 && strncmp(why + fl, ": ", 2) == 0)
			why += fl + 2;
		v[uv->n].file = strdup(file);
		v[uv->n].error = strdup(why[0] ? why : strerror(-code));
		v[uv->n].code = code;
		if (!v[uv->n].file || !v[uv->n].error) {
			free(v[uv->n].file);
			free(v[uv->n].error);
			return -ENOMEM;
		}
		uv->n++;
	}
	return 0;
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

int nm_fstab_scan_report(const char *root, const char *const *servers, size_t nservers,
			 const char *export_path, struct nm_fstab_hit **hits, size_t *n,
			 struct nm_fstab_unread **unread, size_t *nunread, struct nm_err *err)
{
	struct strv masters = { 0 }, maps = { 0 };
	struct hitv hv = { 0 };
	struct unreadv uv = { 0 };
	struct nm_err ferr = { 0 };
	struct nm_afile f;
	struct query q;
	char **dirs = NULL;
	bool want = unread != NULL;
	int rc;

	*hits = NULL;
	*n = 0;
	if (unread)
		*unread = NULL, *nunread = 0;
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
		if (rc == -ENOMEM || unread_add(&uv, "/etc/fstab", rc, &ferr, want, err))
			goto oom;
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
		if (rc < 0 &&
		    (rc == -ENOMEM || unread_add(&uv, masters.v[i], rc, &ferr, want, err)))
			goto oom;
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
		bool seen = strcmp(maps.v[i], "/etc/fstab") == 0;

		/* A master map naming fstab or a master map as a map: not read
		 * again (a line is one file's, of one kind). */
		for (size_t j = 0; j < masters.n && !seen; j++)
			seen = strcmp(maps.v[i], masters.v[j]) == 0;
		if (seen)
			continue;
		rc = read_under(root, maps.v[i], true, &f, &ferr);
		if (rc < 0 && (rc == -ENOMEM || unread_add(&uv, maps.v[i], rc, &ferr, want, err)))
			goto oom;
		if (rc)
			continue;
		rc = match_text(maps.v[i], NM_FSTAB_AUTOFS, f.text, f.len, &q, &hv, err);
		nm_afile_free(&f);
		if (rc)
			goto out;
	}
	rc = uv.first_said ? 1 : 0;
	goto out;
oom:
	rc = nm_err_set(err, -ENOMEM, "out of memory");
out:
	nm_fstab_strv_free(dirs);
	nm_fstab_strv_free(masters.v);
	nm_fstab_strv_free(maps.v);
	if (rc < 0) {
		nm_fstab_hits_free(hv.v, hv.n);
		nm_fstab_unread_free(uv.v, uv.n);
		return rc;
	}
	*hits = hv.v;
	*n = hv.n;
	if (unread)
		*unread = uv.v, *nunread = uv.n;
	return rc;
}

int nm_fstab_scan_names(const char *root, const char *const *servers, size_t nservers,
			const char *export_path, struct nm_fstab_hit **hits, size_t *n,
			struct nm_err *err)
{
	return nm_fstab_scan_report(root, servers, nservers, export_path, hits, n, NULL, NULL, err);
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

/* Where the location path starting at off ends (a blank, a newline). */
static size_t path_end(const char *entry, size_t elen, size_t off)
{
	while (off < elen && !is_blank(entry[off]) && entry[off] != '\n')
		off++;
	return off;
}

/* Is the path (raw bytes, fstab escapes decoded for that kind) spelled
 * plainly: no "." or ".." component, no "//"?  Only such a path is known
 * to lie below the export it names as text. */
static bool path_plain(const char *p, size_t len, enum nm_fstab_kind kind)
{
	char *d = kind == NM_FSTAB_FSTAB ? nm_fstab_decode(p, len) : strndup(p, len);
	bool ok = d != NULL;

	for (char *c = d; ok && *c; c++) {
		size_t n;

		if (*c != '/')
			continue;
		n = strcspn(c + 1, "/");
		ok = !(n == 0 && c[1] == '/') && !(n == 1 && c[1] == '.') &&
		     !(n == 2 && c[1] == '.' && c[2] == '.');
	}
	free(d);
	return ok;
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
			/* autofs expands & (the key) and $VAR in a location,
			 * and reads quotes and backslashes: none written. */
			if (h->kind != NM_FSTAB_FSTAB &&
			    (c == ' ' || c == '\t' || c == '\\' || c == '#' || c == '"' ||
			     c == '\'' || c == '&' || c == '$'))
				return nm_err_set(err, -EINVAL,
						  "the new path cannot be written in an autofs map "
						  "(blanks, quotes, a backslash, & or $)");
			if (c == ' ' || c == '\t' || c == '\\' || c == '#' || c == '"') {
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
		if (!path_plain(h->entry + s->path_off,
				path_end(h->entry, elen, s->path_off) - s->path_off, h->kind)) {
			free(ed);
			return nm_err_set(
				err, -EINVAL,
				"the path has a \".\" or \"..\" component or \"//\": it may "
				"not lie below the export");
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
			dup |= ed[j].with != host && ed[j].off == s->path_off;
		if (dup)
			continue;
		/* The export itself given the root "/": the path does not vanish. */
		if (plen == 0 && (s->path_off + s->path_len >= elen ||
				  h->entry[s->path_off + s->path_len] != '/'))
			ed[ne++] = (struct edit){ s->path_off, s->path_len, "/", 1 };
		else
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

/* --- whose line ------------------------------------------------------------ */

long nm_fstab_owner(const struct nm_fstab_hit *h, const struct nm_fstab_claim *c, size_t n)
{
	size_t elen = strlen(h->entry), best_len = 0;
	bool best_target = false;
	long best = -1;

	for (size_t k = 0; k < n; k++) {
		struct query q;
		bool covers = false, target;
		size_t ql;

		if (query_init(&q, c[k].servers, c[k].nservers, c[k].export_path, NULL))
			continue;
		for (size_t i = 0; i < h->nspans && !covers; i++) {
			const struct nm_fstab_span *s = &h->spans[i];
			size_t pe, raw;

			if (s->host_off + s->host_len > elen || s->path_off > elen)
				continue;
			pe = path_end(h->entry, elen, s->path_off);
			covers = nm_fstab_server_is(h->entry + s->host_off, s->host_len,
						    c[k].servers, c[k].nservers) &&
				 path_under(h->entry + s->path_off, pe - s->path_off, h->kind,
					    q.exp, &raw);
		}
		if (!covers)
			continue;
		ql = strlen(q.exp) + 1; /* "/" (empty) still covers */
		target = h->kind == NM_FSTAB_FSTAB && h->key && c[k].target &&
			 strcmp(h->key, c[k].target) == 0;
		if (best < 0 || ql > best_len || (ql == best_len && target && !best_target)) {
			best = (long)k;
			best_len = ql;
			best_target = target;
		}
	}
	return best;
}

/* --- the rewrite -------------------------------------------------------- */

struct hline {
	const struct nm_fstab_hit *h;
	const char *line;
};

static int cmp_hline(const void *a, const void *b)
{
	const struct hline *x = a, *y = b;

	return x->h->line < y->h->line ? -1 : x->h->line > y->h->line;
}

/* A file that is a symbolic link is not replaced (the link would become a
 * file, its target left as it was): err names the target to edit. */
static int refuse_link(const char *path, const char *file, struct nm_err *err)
{
	char target[4096];
	ssize_t l = readlink(path, target, sizeof(target) - 1);

	if (l < 0)
		return nm_err_set(err, -ELOOP, "%s: a symbolic link: not rewritten", file);
	target[l] = '\0';
	for (ssize_t i = 0; i < l; i++)
		if ((unsigned char)target[i] < 0x20 || target[i] == 0x7f)
			target[i] = '?';
	return nm_err_set(err, -ELOOP, "%s: a symbolic link to %s: not rewritten (edit %s itself)",
			  file, target, target);
}

int nm_fstab_rewrite_lines(const char *root, const char *file,
			   const struct nm_fstab_hit *const *hits, const char *const *lines,
			   size_t n, char **backup, struct nm_err *err)
{
	struct hline *mine = NULL;
	char *path = NULL, *out = NULL, suffix[32];
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
	path = under_root(root, file);
	if (!mine || !path) {
		rc = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(hits[i]->file, file) == 0) {
			if (!lines[i]) {
				rc = nm_err_set(err, -EINVAL, "%s:%u: no new line", file,
						hits[i]->line);
				goto out;
			}
			mine[nm++] = (struct hline){ hits[i], lines[i] };
		}
	if (nm == 0) {
		rc = 0;
		goto out;
	}
	qsort(mine, nm, sizeof(*mine), cmp_hline);
	for (size_t i = 1; i < nm; i++)
		if (mine[i].h->line == mine[i - 1].h->line) {
			rc = nm_err_set(err, -EINVAL, "%s:%u: listed twice", file, mine[i].h->line);
			goto out;
		}
	rc = nm_afile_read(path, NM_FSTAB_MAX_BYTES, &f, err);
	if (rc == -ELOOP)
		rc = refuse_link(path, file, err);
	if (rc)
		goto out;
	for (size_t i = 0; i < nm; i++)
		out_len += strlen(mine[i].line);
	out = malloc(f.len + out_len + 1);
	if (!out) {
		rc = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	out_len = 0;
	for (size_t i = 0; i < nm; i++) {
		const struct nm_fstab_hit *h = mine[i].h;
		size_t start = pos, elen = strlen(h->entry), llen = strlen(mine[i].line);

		/* Copy up to the hit's first line. */
		while (lineno < h->line && pos < f.len) {
			if (f.text[pos++] == '\n')
				lineno++;
		}
		memcpy(out + out_len, f.text + start, pos - start);
		out_len += pos - start;
		if (lineno != h->line || f.len - pos < elen ||
		    memcmp(f.text + pos, h->entry, elen) != 0 ||
		    (pos + elen < f.len && f.text[pos + elen] != '\n')) {
			rc = nm_err_set(err, -ESTALE,
					"%s:%u: changed since it was read: not rewritten", file,
					h->line);
			goto out;
		}
		memcpy(out + out_len, mine[i].line, llen);
		out_len += llen;
		for (size_t k = 0; k < elen; k++)
			lineno += h->entry[k] == '\n';
		pos += elen;
	}
	memcpy(out + out_len, f.text + pos, f.len - pos);
	out_len += f.len - pos;
	localtime_r(&now, &tm);
	strftime(suffix, sizeof(suffix), ".nfsmig-%Y%m%dT%H%M%S", &tm);
	rc = nm_afile_replace(path, &f, out, out_len, suffix, backup, err);
	if (rc >= 0 && backup && *backup) {
		/* The backup as on the system: the root taken off. */
		size_t rl = strlen(root);

		while (rl > 0 && root[rl - 1] == '/')
			rl--;
		if (rl > 0 && strncmp(*backup, root, rl) == 0)
			memmove(*backup, *backup + rl, strlen(*backup + rl) + 1);
	}
out:
	free(mine);
	free(path);
	free(out);
	nm_afile_free(&f);
	return rc;
}

int nm_fstab_rewrite(const char *root, const char *file, const struct nm_fstab_hit *hits, size_t n,
		     const char *new_server, const char *new_path, char **backup,
		     struct nm_err *err)
{
	const struct nm_fstab_hit **mine = calloc(n + 1, sizeof(*mine));
	char **lines = calloc(n + 1, sizeof(*lines));
	size_t nm = 0;
	int rc = 0;

	if (backup)
		*backup = NULL;
	if (!mine || !lines) {
		rc = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		if (!file || strcmp(hits[i].file, file) != 0)
			continue;
		mine[nm] = &hits[i];
		rc = nm_fstab_propose(&hits[i], new_server, new_path, &lines[nm], err);
		if (rc)
			nm_err_prefix(err, "%s:%u", file, hits[i].line);
		nm++;
	}
	if (!rc)
		rc = nm_fstab_rewrite_lines(root, file, mine, (const char *const *)lines, nm,
					    backup, err);
out:
	for (size_t i = 0; lines && i < nm; i++)
		free(lines[i]);
	free(lines);
	free(mine);
	return rc;
}
