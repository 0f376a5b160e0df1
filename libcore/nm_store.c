#include "nm_store.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nm_time.h"

/* A record's name is at most NM_STORE_NAME_MAX bytes, so its temporary
 * (".NAME.tmp"), lock (".NAME.lock") and set-aside ("NAME.corrupt-TIME-N")
 * names stay within NAME_MAX (255): a mount point whose encoding is longer
 * than STEM_MAX (194 bytes, so the name would exceed 200) is hashed. */
#define STEM_MAX  (NM_STORE_NAME_MAX - 6) /* the encoding before ".state" */
#define STEM_HEAD (STEM_MAX - 33)	  /* kept of a longer one, then "~" hash */

/* A long mount point's record is named by two 64-bit hashes of it, 128
 * bits: FNV-1a 64, and Bernstein's djb2 (h * 33 ^ c) in 64 bits finished
 * with the splitmix64 mixer.  Not a secret (mount points are root's to
 * choose): two mount points are not expected to share a name, and if a
 * record under a name is another mount point's (a collision, a renamed
 * file) it is -ENOTUNIQ and left where it is, never set aside. */
static void hash128(const char *s, uint64_t *h1, uint64_t *h2)
{
	uint64_t a = 14695981039346656037ULL, b = 5381;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		a = (a ^ *p) * 1099511628211ULL;
		b = (b * 33) ^ *p;
	}
	b ^= b >> 30;
	b *= 0xbf58476d1ce4e5b9ULL;
	b ^= b >> 27;
	b *= 0x94d049bb133111ebULL;
	b ^= b >> 31;
	*h1 = a;
	*h2 = b;
}

/* Letters, digits and '_' stay in a record's name: ASCII, whatever the
 * locale (isalnum follows LC_CTYPE, and a Latin-1 one would keep 0xE9). */
static bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* A mount point's record name, and (old) the name the first versions gave
 * a long one, the whole encoding and ".state", when that is another name
 * a file system can hold (old[0] is '\0' when there is none). */
static int store_names(const char *mountpoint, char *buf, size_t cap, char *old, size_t oldcap,
		       struct nm_err *err)
{
	char stem[NAME_MAX + 1];
	size_t n = 0, head = 0;

	if (old && oldcap)
		old[0] = '\0';
	if (!mountpoint || mountpoint[0] != '/')
		return nm_err_set(err, -EINVAL, "'%s' is not an absolute mount point",
				  mountpoint ? mountpoint : "");
	if (cap < NM_STORE_NAME_MAX + 1)
		return nm_err_set(err, -ENAMETOOLONG, "no room for a record name");
	/* '/' becomes '-'; letters, digits and '_' stay; the rest is %XX.
	 * n counts the whole encoding; stem keeps what fits of it. */
	for (const unsigned char *p = (const unsigned char *)mountpoint; *p; p++) {
		char piece[4];
		size_t k;

		if (*p == '/')
			k = (size_t)snprintf(piece, sizeof(piece), "-");
		else if (name_char(*p))
			k = (size_t)snprintf(piece, sizeof(piece), "%c", *p);
		else
			k = (size_t)snprintf(piece, sizeof(piece), "%%%02X", *p);
		if (n + k < sizeof(stem))
			memcpy(stem + n, piece, k);
		n += k;
		if (n <= STEM_HEAD)
			head = n; /* cut between two characters */
	}
	if (n <= STEM_MAX) {
		snprintf(buf, cap, "%.*s.state", (int)n, stem);
		return 0;
	}
	if (old && n + 6 <= NAME_MAX && n + 7 <= oldcap)
		snprintf(old, oldcap, "%.*s.state", (int)n, stem);
	/* Too long for a file name: a head, then '~' (never in the
	 * encoding) and a hash of the whole mount point. */
	uint64_t h1, h2;

	hash128(mountpoint, &h1, &h2);
	snprintf(buf, cap, "%.*s~%016" PRIx64 "%016" PRIx64 ".state", (int)head, stem, h1, h2);
	return 0;
}

int nm_store_name(const char *mountpoint, char *buf, size_t cap, struct nm_err *err)
{
	return store_names(mountpoint, buf, cap, NULL, 0, err);
}

/* --- encoding -------------------------------------------------------------- */

static bool put_raw(unsigned char c)
{
	return c > ' ' && c <= '~' && c != '%';
}

size_t nm_record_location_bytes(const char *loc)
{
	size_t n = sizeof("location=\n") - 1;

	for (const unsigned char *p = (const unsigned char *)loc; *p; p++)
		n += put_raw(*p) ? 1 : 3;
	return n;
}

static void put_value(FILE *f, const char *key, const char *v)
{
	fprintf(f, "%s=", key);
	for (const unsigned char *p = (const unsigned char *)(v ? v : ""); *p; p++) {
		if (!put_raw(*p))
			fprintf(f, "%%%02X", *p);
		else
			fputc(*p, f);
	}
	fputc('\n', f);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode a percent-encoded value; NULL for a bad escape or a NUL byte. */
static char *get_value(const char *s)
{
	char *out = malloc(strlen(s) + 1), *q = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		if (*s != '%') {
			*q++ = *s;
			continue;
		}
		int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);

		if (lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		*q++ = (char)(hi << 4 | lo);
		s += 2;
	}
	*q = '\0';
	return out;
}

static char *format_record(const struct nm_record *r, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	fprintf(f, "nfsmig-state %d\n", NM_STORE_VERSION);
	put_value(f, "mountpoint", r->mountpoint);
	put_value(f, "source", r->source);
	put_value(f, "orig_server", r->orig_server);
	put_value(f, "cur_server", r->cur_server);
	put_value(f, "export_path", r->export_path);
	put_value(f, "sec", r->sec);
	fprintf(f, "vers=%d\nminor=%d\nregistered=%" PRId64 "\n", r->vers, r->minor, r->registered);
	fputs("root_fh=", f);
	for (unsigned i = 0; i < r->root_fh_len; i++)
		fprintf(f, "%02x", r->root_fh[i]);
	fprintf(f,
		"\nfsid=%" PRIu64 ":%" PRIu64 "\nfileid=%" PRIu64 "\nfh_expire_type=%" PRIu32 "\n",
		r->fsid_major, r->fsid_minor, r->fileid, r->fh_expire_type);
	if (r->probe_name && r->probe_name[0] && r->probe_fh_len) {
		put_value(f, "probe_name", r->probe_name);
		fputs("probe_fh=", f);
		for (unsigned i = 0; i < r->probe_fh_len; i++)
			fprintf(f, "%02x", r->probe_fh[i]);
		fprintf(f, "\nprobe_fileid=%" PRIu64 "\n", r->probe_fileid);
	}
	if (r->mount_id && r->mount_id[0])
		put_value(f, "mount_id", r->mount_id);
	for (size_t i = 0; i < r->nlocations; i++)
		put_value(f, "location", r->locations[i]);
	for (size_t i = 0; i < r->nmoves; i++) {
		char *line = NULL;

		const char *by = r->moves[i].trigger;

		if (asprintf(&line, "%" PRId64 " %s %s%s%s", r->moves[i].time, r->moves[i].from,
			     r->moves[i].to, by ? " " : "", by ? by : "") < 0) {
			fclose(f);
			free(buf);
			return NULL;
		}
		put_value(f, "move", line);
		free(line);
	}
	if (r->verify_time > 0 && r->verify_verdict[0])
		fprintf(f, "verify=%" PRId64 " %s\n", r->verify_time, r->verify_verdict);
	if (r->pending && r->pending[0])
		put_value(f, "pending", r->pending);
	fputs("end\n", f); /* a record without it was cut short */
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* --- parsing --------------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return *end || errno ? -1 : 0;
}

static int parse_i64(const char *s, int64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)*s) && *s != '-')
		return -1;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return *end || errno ? -1 : 0;
}

static int take_string(char **slot, const char *raw)
{
	char *v = get_value(raw);

	if (!v)
		return -1;
	free(*slot);
	*slot = v;
	return 0;
}

static int parse_move(struct nm_record *r, const char *raw)
{
	char *v = get_value(raw), *save = NULL, *t, *from, *to, *by;
	int64_t when;
	int rc = -1;

	if (!v)
		return -1;
	t = strtok_r(v, " ", &save);
	from = strtok_r(NULL, " ", &save);
	to = strtok_r(NULL, " ", &save);
	by = to ? strtok_r(NULL, " ", &save) : NULL; /* optional: newer records */
	if (t && from && to && !strtok_r(NULL, " ", &save) && parse_i64(t, &when) == 0)
		rc = nm_record_add_move_by(r, when, from, to, by);
	free(v);
	return rc;
}

static int parse_fh(const char *val, unsigned char *fh, unsigned *len)
{
	size_t n = strlen(val);

	if (n % 2 || n / 2 > NM_STORE_FH_MAX)
		return -1;
	for (size_t k = 0; k < n / 2; k++) {
		int hi = hexval(val[2 * k]), lo = hexval(val[2 * k + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		fh[k] = (unsigned char)(hi << 4 | lo);
	}
	*len = (unsigned)(n / 2);
	return 0;
}

/* "TIME VERDICT": a verdict this version does not know is skipped (a
 * newer writer's), a time that is not one is an error. */
static int parse_verify(struct nm_record *r, char *val)
{
	static const char *const known[] = { "OK", "WARN", "FAIL", "SKIP" };
	char *sp = strchr(val, ' ');

	if (!sp)
		return -1;
	*sp = '\0';
	if (parse_i64(val, &r->verify_time) < 0 || r->verify_time <= 0)
		return -1;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(sp + 1, known[i]) == 0) {
			snprintf(r->verify_verdict, sizeof(r->verify_verdict), "%s", known[i]);
			return 0;
		}
	r->verify_time = 0;
	return 0;
}

static int parse_line(struct nm_record *r, char *key, char *val)
{
	uint64_t u;
	int64_t i;

	static const struct {
		const char *key;
		size_t off;
	} strings[] = {
		{ "mountpoint", offsetof(struct nm_record, mountpoint) },
		{ "source", offsetof(struct nm_record, source) },
		{ "orig_server", offsetof(struct nm_record, orig_server) },
		{ "cur_server", offsetof(struct nm_record, cur_server) },
		{ "export_path", offsetof(struct nm_record, export_path) },
		{ "sec", offsetof(struct nm_record, sec) },
		{ "probe_name", offsetof(struct nm_record, probe_name) },
		{ "pending", offsetof(struct nm_record, pending) },
		{ "mount_id", offsetof(struct nm_record, mount_id) },
	};

	for (size_t k = 0; k < sizeof(strings) / sizeof(strings[0]); k++)
		if (strcmp(key, strings[k].key) == 0)
			return take_string((char **)((char *)r + strings[k].off), val);
	if (strcmp(key, "vers") == 0 || strcmp(key, "minor") == 0) {
		if (parse_i64(val, &i) < 0 || i < -1 || i > 9)
			return -1;
		*(key[0] == 'v' ? &r->vers : &r->minor) = (int)i;
		return 0;
	}
	if (strcmp(key, "registered") == 0)
		return parse_i64(val, &r->registered);
	if (strcmp(key, "root_fh") == 0)
		return parse_fh(val, r->root_fh, &r->root_fh_len);
	if (strcmp(key, "probe_fh") == 0)
		return parse_fh(val, r->probe_fh, &r->probe_fh_len);
	if (strcmp(key, "probe_fileid") == 0)
		return parse_u64(val, &r->probe_fileid);
	if (strcmp(key, "fsid") == 0) {
		char *colon = strchr(val, ':');

		if (!colon)
			return -1;
		*colon = '\0';
		return parse_u64(val, &r->fsid_major) < 0 ||
				       parse_u64(colon + 1, &r->fsid_minor) < 0
			       ? -1
			       : 0;
	}
	if (strcmp(key, "fileid") == 0)
		return parse_u64(val, &r->fileid);
	if (strcmp(key, "fh_expire_type") == 0) {
		if (parse_u64(val, &u) < 0 || u > UINT32_MAX)
			return -1;
		r->fh_expire_type = (uint32_t)u;
		return 0;
	}
	if (strcmp(key, "location") == 0) {
		char *v = get_value(val);
		int rc = v ? nm_record_add_location(r, v) : -1;

		free(v);
		return rc;
	}
	if (strcmp(key, "move") == 0)
		return parse_move(r, val);
	if (strcmp(key, "verify") == 0)
		return parse_verify(r, val);
	return 0; /* a key of a newer version: skipped */
}

int nm_store_parse(const char *text, size_t len, struct nm_record *r, struct nm_err *err)
{
	char *copy, *line, *save = NULL;
	unsigned lineno = 0;
	bool ended = false;

	memset(r, 0, sizeof(*r));
	r->minor = -1;
	if (len > NM_STORE_MAX_BYTES)
		return nm_err_set(err, -EBADMSG, "record larger than %d bytes", NM_STORE_MAX_BYTES);
	if (memchr(text, '\0', len))
		return nm_err_set(err, -EBADMSG, "record holds a NUL byte");
	copy = strndup(text, len);
	if (!copy)
		return nm_err_set(err, -ENOMEM, "out of memory");
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq;

		lineno++;
		if (ended) {
			free(copy);
			nm_record_free(r);
			return nm_err_set(err, -EBADMSG, "line %u follows the end of the record",
					  lineno);
		}
		if (lineno == 1) {
			char *end;

			if (strncmp(line, "nfsmig-state ", 13) != 0 ||
			    strtol(line + 13, &end, 10) < 1 || *end) {
				free(copy);
				return nm_err_set(err, -EBADMSG, "not an nfsmig state record");
			}
			continue;
		}
		if (strcmp(line, "end") == 0) {
			ended = true;
			continue;
		}
		eq = strchr(line, '=');
		if (!eq || eq == line) {
			free(copy);
			nm_record_free(r);
			return nm_err_set(err, -EBADMSG, "line %u is not key=value", lineno);
		}
		*eq = '\0';
		if (parse_line(r, line, eq + 1) < 0) {
			nm_err_set(err, -EBADMSG, "line %u: bad value for %s", lineno, line);
			free(copy);
			nm_record_free(r);
			return -EBADMSG;
		}
	}
	free(copy);
	if (lineno == 0)
		return nm_err_set(err, -EBADMSG, "empty record");
	if (!ended) {
		nm_record_free(r);
		return nm_err_set(err, -EBADMSG, "record is truncated (no end line)");
	}
	if (!r->mountpoint || !r->source) {
		nm_record_free(r);
		return nm_err_set(err, -EBADMSG, "record lacks mountpoint or source");
	}
	/* Fields an older writer did not know: readers never see NULL. */
	char **strs[] = { &r->orig_server, &r->cur_server, &r->export_path, &r->sec };
	const char *defaults[] = { "", "", "/", "sys" };

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (!*strs[i] && !(*strs[i] = strdup(defaults[i]))) {
			nm_record_free(r);
			return nm_err_set(err, -ENOMEM, "out of memory");
		}
	}
	return 0;
}

/* --- files ------------------------------------------------------------------ */

static int open_dir(const char *dir, struct nm_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return nm_err_set(err, -errno, "state directory %s: %s", dir, strerror(errno));
	return fd;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A record held under its lock: the state directory, the record's name and
 * its lock file, flock'ed.  Every writer of a record holds it (save, set
 * aside, update), so a read-modify-write is never interleaved with
 * another; readers need none (a record is only ever replaced whole). */
struct held {
	const char *dir;
	int dfd, lfd;
	char name[NM_STORE_NAME_MAX + 1];
	char old[NAME_MAX + 1]; /* the name the first versions gave it, or "" */
};

/* Wait for the lock at most lock_ms (0: NM_STORE_LOCK_MS): a writer holds
 * it for milliseconds, so one that keeps it (stopped, or on a hung disk)
 * is an error, not a wait without end. */
static int take_lock(int fd, int64_t until)
{
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (nm_time_ms() >= until)
			return -EAGAIN;
		nm_time_sleep_ms(5);
	}
}

/* Under the lock: a record the first versions saved under its whole
 * encoded name (a long mount point, now hashed) takes its new name, so
 * it is read and written as the one record it is. */
static int take_old_name(struct held *h, struct nm_err *err)
{
	struct stat st;

	if (!h->old[0] || fstatat(h->dfd, h->name, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	    errno != ENOENT)
		return 0; /* none, or the new name is there: it is the record */
	if (renameat(h->dfd, h->old, h->dfd, h->name) < 0) {
		if (errno == ENOENT)
			return 0;
		return nm_err_set(err, -errno, "%s/%s: cannot rename it to %s: %s", h->dir, h->old,
				  h->name, strerror(errno));
	}
	if (fsync(h->dfd) < 0)
		return nm_err_set(err, -errno, "%s: fsync: %s", h->dir, strerror(errno));
	return 0;
}

static int lock_record(const char *dir, const char *mountpoint, int lock_ms, struct held *h,
		       struct nm_err *err)
{
	char lname[NM_STORE_NAME_MAX + 8];
	int64_t until = nm_time_ms() + (lock_ms > 0 ? lock_ms : NM_STORE_LOCK_MS);
	struct stat st;
	int rc;

	h->dir = dir;
	h->dfd = h->lfd = -1;
	rc = store_names(mountpoint, h->name, sizeof(h->name), h->old, sizeof(h->old), err);
	if (rc < 0)
		return rc;
	h->dfd = open_dir(dir, err);
	if (h->dfd < 0)
		return h->dfd;
	snprintf(lname, sizeof(lname), ".%s.lock", h->name);
	for (;;) {
		struct stat now;

		/* Read-only is enough for flock; O_NONBLOCK: a FIFO put there
		 * does not hold the open. */
		h->lfd = openat(h->dfd, lname,
				O_RDONLY | O_CREAT | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (h->lfd < 0) {
			rc = nm_err_set(err, -errno, "%s/%s: %s", dir, lname, strerror(errno));
			goto fail;
		}
		if (fstat(h->lfd, &st) < 0 || !S_ISREG(st.st_mode)) {
			rc = nm_err_set(err, -EBADMSG, "%s/%s is not a lock file", dir, lname);
			goto fail;
		}
		rc = take_lock(h->lfd, until);
		if (rc == -EAGAIN) {
			nm_err_set(err, rc, "%s/%s: another writer holds the record of %s", dir,
				   lname, mountpoint);
			goto fail;
		}
		if (rc < 0) {
			nm_err_set(err, rc, "%s/%s: lock: %s", dir, lname, strerror(-rc));
			goto fail;
		}
		/* The lock is on the file the name holds now: one removed (or
		 * replaced) while this writer waited is a lock no other
		 * writer takes, so it tries the one there now. */
		if (fstatat(h->dfd, lname, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
		    now.st_dev == st.st_dev && now.st_ino == st.st_ino)
			break;
		close(h->lfd);
		h->lfd = -1;
		if (nm_time_ms() >= until) {
			rc = nm_err_set(err, -EAGAIN, "%s/%s: the lock file keeps being replaced",
					dir, lname);
			goto fail;
		}
	}
	rc = take_old_name(h, err);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	if (h->lfd >= 0)
		close(h->lfd);
	close(h->dfd);
	h->dfd = h->lfd = -1;
	return rc;
}

static void unlock_record(struct held *h)
{
	if (h->lfd >= 0)
		close(h->lfd); /* the lock goes with the last descriptor */
	if (h->dfd >= 0)
		close(h->dfd);
	h->dfd = h->lfd = -1;
}

/* Write r over the held record.  The temporary name is fixed: under the
 * lock, one left there is a dead writer's, and is replaced. */
static int aside_held(struct held *h, bool keep, char *aside, size_t cap, struct nm_err *err);

/* With aside (a corrupt record there): the new record is written and
 * fsync'd first, then the corrupt one linked to its set-aside name, then
 * the new one renamed over it, so a failed write (a full disk) leaves the
 * corrupt record where it was rather than no record at all. */
static int save_held(struct held *h, const struct nm_record *r, char *aside, size_t asidecap,
		     struct nm_err *err)
{
	char tmp[NM_STORE_NAME_MAX + 8];
	char *text;
	size_t len;
	int fd, rc;

	text = format_record(r, &len);
	if (!text)
		return nm_err_set(err, -ENOMEM, "out of memory");
	if (len > NM_STORE_MAX_BYTES) {
		/* It would be written but never read back. */
		rc = nm_err_set(err, -EFBIG,
				"the record of %s would take %zu bytes, more than the %d a record "
				"may: not saved (%zu locations, %zu moves)",
				r->mountpoint, len, NM_STORE_MAX_BYTES, r->nlocations, r->nmoves);
		goto out;
	}
	snprintf(tmp, sizeof(tmp), ".%s.tmp", h->name);
	if (unlinkat(h->dfd, tmp, 0) < 0 && errno != ENOENT) {
		rc = nm_err_set(err, -errno, "%s/%s: %s", h->dir, tmp, strerror(errno));
		goto out;
	}
	fd = openat(h->dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = nm_err_set(err, -errno, "%s/%s: %s", h->dir, tmp, strerror(errno));
		goto out;
	}
	rc = write_all(fd, text, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && aside) {
		rc = aside_held(h, true, aside, asidecap, err);
		if (rc < 0) {
			unlinkat(h->dfd, tmp, 0);
			goto out;
		}
	}
	if (rc == 0 && renameat(h->dfd, tmp, h->dfd, h->name) < 0)
		rc = -errno;
	if (rc < 0) {
		/* The old record stays as it was. */
		unlinkat(h->dfd, tmp, 0);
		nm_err_set(err, rc, "cannot save the record of %s in %s: %s", r->mountpoint, h->dir,
			   strerror(-rc));
		goto out;
	}
	if (fsync(h->dfd) < 0)
		rc = nm_err_set(err, -errno, "%s: fsync: %s", h->dir, strerror(errno));
out:
	free(text);
	return rc;
}

static int load_at(const char *dir, int dfd, const char *name, const char *mountpoint,
		   struct nm_record *r, struct nm_err *err)
{
	char *buf;
	struct stat st;
	ssize_t n;
	int fd, rc;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return nm_err_set(err, -ENOENT,
					  "%s has no record in %s (register it first)", mountpoint,
					  dir);
		return nm_err_set(err, errno == ELOOP ? -EBADMSG : -errno, "%s/%s: %s", dir, name,
				  strerror(errno));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > NM_STORE_MAX_BYTES) {
		close(fd);
		return nm_err_set(err, -EBADMSG, "%s/%s is not a record (type or size)", dir, name);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return nm_err_set(err, -EIO, "%s/%s: short read", dir, name);
	}
	rc = nm_store_parse(buf, (size_t)n, r, err);
	free(buf);
	if (rc < 0)
		return nm_err_prefix(err, "%s/%s", dir, name);
	if (strcmp(r->mountpoint, mountpoint) != 0) {
		/* A good record, of another mount point: not corrupt, and not
		 * to be set aside or replaced for this one. */
		rc = nm_err_set(err, -ENOTUNIQ,
				"%s/%s is the record of another mount point, %s (a name collision "
				"or a renamed file): left as it is, move it away to register %s",
				dir, name, r->mountpoint, mountpoint);
		nm_record_free(r);
		return rc;
	}
	return 0;
}

/* Rename the held record to NAME.corrupt-TIME (-N when that is taken: an
 * earlier one is never replaced); with keep, link it there instead, the
 * record staying under its name until a new one is renamed over it. */
static int aside_held(struct held *h, bool keep, char *aside, size_t cap, struct nm_err *err)
{
	char nm[NM_STORE_NAME_MAX + 48];
	long long now = (long long)time(NULL);

	for (int k = 0; k < 100; k++) {
		if (k == 0)
			snprintf(nm, sizeof(nm), "%s.corrupt-%lld", h->name, now);
		else
			snprintf(nm, sizeof(nm), "%s.corrupt-%lld-%d", h->name, now, k);
		int ok = keep ? linkat(h->dfd, h->name, h->dfd, nm, 0) == 0
			      : renameat2(h->dfd, h->name, h->dfd, nm, RENAME_NOREPLACE) == 0;

		if (!ok && keep && (errno == EPERM || errno == EOPNOTSUPP))
			/* A file system without hard links: renamed, the
			 * new record right behind it. */
			ok = renameat2(h->dfd, h->name, h->dfd, nm, RENAME_NOREPLACE) == 0;
		else if (!ok && !keep && errno == EINVAL) /* without it: link, unlink */
			ok = linkat(h->dfd, h->name, h->dfd, nm, 0) == 0 &&
			     unlinkat(h->dfd, h->name, 0) == 0;
		if (ok) {
			fsync(h->dfd);
			if (aside)
				snprintf(aside, cap, "%s", nm);
			return 0;
		}
		if (errno != EEXIST)
			return nm_err_set(err, -errno, "%s/%s: %s", h->dir, h->name,
					  strerror(errno));
	}
	return nm_err_set(err, -EEXIST, "%s/%s: too many records set aside", h->dir, h->name);
}

int nm_store_save(const char *dir, const struct nm_record *r, struct nm_err *err)
{
	struct held h;
	int rc = lock_record(dir, r->mountpoint, 0, &h, err);

	if (rc < 0)
		return rc;
	rc = save_held(&h, r, NULL, 0, err);
	unlock_record(&h);
	return rc;
}

int nm_store_load(const char *dir, const char *mountpoint, struct nm_record *r, struct nm_err *err)
{
	char name[NM_STORE_NAME_MAX + 1], old[NAME_MAX + 1];
	int dfd, rc;

	memset(r, 0, sizeof(*r));
	rc = store_names(mountpoint, name, sizeof(name), old, sizeof(old), err);
	if (rc < 0)
		return rc;
	dfd = open_dir(dir, err);
	if (dfd < 0)
		return dfd;
	rc = load_at(dir, dfd, name, mountpoint, r, err);
	if (rc == -ENOENT && old[0]) {
		/* Saved by a first version: read where it is (a reader takes
		 * no lock; the next writer renames it). */
		struct nm_err e2 = { 0 };
		int rc2 = load_at(dir, dfd, old, mountpoint, r, &e2);

		if (rc2 != -ENOENT) {
			rc = rc2;
			if (err)
				*err = e2;
		}
	}
	close(dfd);
	return rc;
}

int nm_store_set_aside(const char *dir, const char *mountpoint, struct nm_err *err)
{
	struct held h;
	int rc = lock_record(dir, mountpoint, 0, &h, err);

	if (rc < 0)
		return rc;
	rc = aside_held(&h, false, NULL, 0, err);
	unlock_record(&h);
	return rc;
}

int nm_store_update(const char *dir, const char *mountpoint, struct nm_store_update *u,
		    nm_store_update_fn fn, void *arg, struct nm_err *err)
{
	struct nm_store_update none = { 0 };
	struct nm_record r;
	struct held h;
	int rc;

	if (!u)
		u = &none;
	u->found = 0;
	u->aside[0] = '\0';
	nm_err_clear(&u->why);
	rc = lock_record(dir, mountpoint, u->lock_ms, &h, err);
	if (rc < 0)
		return rc;
	rc = load_at(dir, h.dfd, h.name, mountpoint, &r, &u->why);
	u->found = rc;
	if ((rc == -ENOENT && (u->flags & NM_STORE_CREATE)) ||
	    (rc == -EBADMSG && (u->flags & NM_STORE_SET_ASIDE))) {
		memset(&r, 0, sizeof(r));
		r.minor = -1;
	} else if (rc < 0) {
		if (err)
			*err = u->why;
		goto out;
	}
	rc = fn(&r, u, arg, err);
	if (rc > 0) {
		rc = 0; /* nothing to write */
	} else if (rc == 0) {
		if (!r.mountpoint || strcmp(r.mountpoint, mountpoint) != 0 || !r.source)
			rc = nm_err_set(err, -EINVAL,
					"the record of %s lacks its source or names another "
					"mount point",
					mountpoint);
		if (rc == 0)
			rc = save_held(&h, &r, u->found == -EBADMSG ? u->aside : NULL,
				       sizeof(u->aside), err);
	}
	nm_record_free(&r);
out:
	unlock_record(&h);
	return rc;
}

int nm_record_add_location(struct nm_record *r, const char *loc)
{
	char **n;

	if (r->nlocations == NM_STORE_MAX_LIST)
		return -E2BIG;
	n = realloc(r->locations, (r->nlocations + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	r->locations = n;
	n[r->nlocations] = strdup(loc);
	if (!n[r->nlocations])
		return -ENOMEM;
	r->nlocations++;
	return 0;
}

int nm_record_add_move(struct nm_record *r, int64_t time, const char *from, const char *to)
{
	return nm_record_add_move_by(r, time, from, to, NULL);
}

int nm_record_add_move_by(struct nm_record *r, int64_t time, const char *from, const char *to,
			  const char *trigger)
{
	struct nm_move *m;

	/* What is written must read back: a move line is "TIME FROM TO
	 * [TRIGGER]". */
	if (!from[0] || !to[0] || (trigger && !trigger[0]))
		return -EINVAL;
	if (strpbrk(from, " \n") || strpbrk(to, " \n") || (trigger && strpbrk(trigger, " \n")))
		return -E2BIG;
	struct nm_move add = {
		.time = time,
		.from = strdup(from),
		.to = strdup(to),
		.trigger = trigger ? strdup(trigger) : NULL,
	};

	if (!add.from || !add.to || (trigger && !add.trigger))
		goto nomem;
	/* A full history keeps the last moves: the oldest goes (the server
	 * at registration is orig_server's, not the first move's). */
	if (r->nmoves >= NM_STORE_MAX_LIST) {
		free(r->moves[0].from);
		free(r->moves[0].to);
		free(r->moves[0].trigger);
		memmove(r->moves, r->moves + 1, (r->nmoves - 1) * sizeof(*r->moves));
		r->moves[r->nmoves - 1] = add;
		return 0;
	}
	m = realloc(r->moves, (r->nmoves + 1) * sizeof(*m));
	if (!m)
		goto nomem;
	r->moves = m;
	m[r->nmoves++] = add;
	return 0;
nomem:
	free(add.from);
	free(add.to);
	free(add.trigger);
	return -ENOMEM;
}

int nm_record_copy(struct nm_record *dst, const struct nm_record *src)
{
	char **dstrs[] = { &dst->mountpoint, &dst->source,	&dst->orig_server,
			   &dst->cur_server, &dst->export_path, &dst->sec,
			   &dst->probe_name, &dst->pending,	&dst->mount_id };
	const char *sstrs[] = { src->mountpoint, src->source,	   src->orig_server,
				src->cur_server, src->export_path, src->sec,
				src->probe_name, src->pending,	   src->mount_id };

	*dst = *src;
	dst->locations = NULL;
	dst->nlocations = 0;
	dst->moves = NULL;
	dst->nmoves = 0;
	for (size_t i = 0; i < sizeof(dstrs) / sizeof(dstrs[0]); i++)
		*dstrs[i] = NULL;
	for (size_t i = 0; i < sizeof(dstrs) / sizeof(dstrs[0]); i++)
		if (sstrs[i] && !(*dstrs[i] = strdup(sstrs[i])))
			goto fail;
	for (size_t i = 0; i < src->nlocations; i++)
		if (nm_record_add_location(dst, src->locations[i]) < 0)
			goto fail;
	for (size_t i = 0; i < src->nmoves; i++)
		if (nm_record_add_move_by(dst, src->moves[i].time, src->moves[i].from,
					  src->moves[i].to, src->moves[i].trigger) < 0)
			goto fail;
	return 0;
fail:
	nm_record_free(dst);
	return -ENOMEM;
}

bool nm_record_moved(const struct nm_record *r, const char *server)
{
	return r->orig_server && r->orig_server[0] && strcmp(r->orig_server, server) != 0;
}

void nm_record_free(struct nm_record *r)
{
	if (!r)
		return;
	free(r->mountpoint);
	free(r->source);
	free(r->orig_server);
	free(r->cur_server);
	free(r->export_path);
	free(r->sec);
	free(r->probe_name);
	free(r->pending);
	free(r->mount_id);
	for (size_t i = 0; i < r->nlocations; i++)
		free(r->locations[i]);
	free(r->locations);
	for (size_t i = 0; i < r->nmoves; i++) {
		free(r->moves[i].from);
		free(r->moves[i].to);
		free(r->moves[i].trigger);
	}
	free(r->moves);
	memset(r, 0, sizeof(*r));
}
