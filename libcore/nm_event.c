#include "nm_event.h"
#include "nm_json.h"

#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nm_time.h"

#define READ_CHUNK 16384
#define TAIL	   48 /* bytes compared to see a log rewritten under a follower */

/* --- one line ------------------------------------------------------------ */

int nm_event_parse_line(const char *line, size_t len, struct json_object **ev)
{
	struct json_tokener *tok;
	struct json_object *o;
	size_t end;

	*ev = NULL;
	if (len >= NM_EVENT_LINE_MAX)
		return -EMSGSIZE;
	if (len == 0 || memchr(line, '\0', len))
		return -EINVAL;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, line, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (o && json_tokener_get_error(tok) == json_tokener_success) {
		/* Only blanks may follow the object (a '\r' of an edited file). */
		while (end < len && (line[end] == ' ' || line[end] == '\t' || line[end] == '\r'))
			end++;
	}
	json_tokener_free(tok);
	if (!o || end != len || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EINVAL;
	}
	*ev = o;
	return 0;
}

int64_t nm_event_time_ms(struct json_object *ev)
{
	struct json_object *t;
	double d;

	if (!json_object_object_get_ex(ev, "time", &t))
		return -1;
	if (!json_object_is_type(t, json_type_double) && !json_object_is_type(t, json_type_int))
		return -1;
	d = json_object_get_double(t);
	if (!isfinite(d) || d < 0 || d > 1e14)
		return -1;
	return (int64_t)(d * 1000.0 + 0.5);
}

int nm_event_match(struct json_object *ev, const struct nm_event_filter *f)
{
	struct json_object *m;

	if (!f)
		return 1;
	if (f->since_ms > 0 && nm_event_time_ms(ev) < f->since_ms)
		return 0;
	if (f->mountpoint) {
		if (!json_object_object_get_ex(ev, "mountpoint", &m) ||
		    !json_object_is_type(m, json_type_string) ||
		    strcmp(json_object_get_string(m), f->mountpoint) != 0)
			return 0;
	}
	return 1;
}

int nm_event_line(struct json_object *ev, char **line, size_t *len, struct nm_err *err)
{
	const char *s;
	char *buf = NULL;
	size_t n = 0;
	FILE *m;

	*line = NULL;
	*len = 0;
	if (!ev || !json_object_is_type(ev, json_type_object))
		return nm_err_set(err, -EINVAL, "an event is a JSON object");
	s = json_object_to_json_string_ext(ev,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		return nm_err_set(err, -ENOMEM, "out of memory");
	/* json-c writes bytes of strings as they are but for the C0
	 * controls: the rest nm_esc would escape goes out as \uXXXX, bytes
	 * that are not UTF-8 as U+FFFD. */
	m = open_memstream(&buf, &n);
	if (!m)
		return nm_err_set(err, -ENOMEM, "out of memory");
	nm_json_text(m, s);
	fputc('\n', m);
	if (fclose(m) != 0 || !buf) {
		free(buf);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	if (memchr(buf, '\n', n - 1)) {
		free(buf);
		return nm_err_set(err, -EINVAL, "event text has a newline outside a string");
	}
	if (n > NM_EVENT_LINE_MAX) {
		free(buf);
		return nm_err_set(err, -EMSGSIZE,
				  "event of %zu bytes refused: an event line is at most %u bytes",
				  n, NM_EVENT_LINE_MAX);
	}
	*line = buf;
	*len = n;
	return 0;
}

/* n digits at s, their value; -1 when any is not a digit. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int parse_date(const char *s, size_t len, int64_t *since_ms)
{
	struct tm tm = { .tm_isdst = -1 };
	int y, mo, d, h = 0, mi = 0, sec = 0, utc = 0;
	size_t used = 10;
	time_t t;

	if (len < 10 || s[4] != '-' || s[7] != '-' || (y = digits(s, 4)) < 0 ||
	    (mo = digits(s + 5, 2)) < 0 || (d = digits(s + 8, 2)) < 0)
		return -EINVAL;
	if (used < len && (s[used] == 'T' || s[used] == ' ')) {
		/* HH:MM */
		if (len < used + 6 || s[used + 3] != ':' || (h = digits(s + used + 1, 2)) < 0 ||
		    (mi = digits(s + used + 4, 2)) < 0)
			return -EINVAL;
		used += 6;
		if (used < len && s[used] == ':') {
			if (len < used + 3 || (sec = digits(s + used + 1, 2)) < 0)
				return -EINVAL;
			used += 3;
		}
	}
	if (used < len && s[used] == 'Z')
		utc = 1, used++;
	if (used != len || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 59)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = utc ? timegm(&tm) : mktime(&tm);
	/* mktime moves Feb 30 to Mar 2, and a local time that does not exist
	 * (skipped when the clocks go forward) an hour on: refused. */
	if (t == (time_t)-1 || tm.tm_year != y - 1900 || tm.tm_mon != mo - 1 || tm.tm_mday != d ||
	    tm.tm_hour != h || tm.tm_min != mi || tm.tm_sec != sec)
		return -EINVAL;
	*since_ms = (int64_t)t * 1000;
	return 0;
}

int nm_event_parse_since(const char *s, int64_t now_ms, int64_t *since_ms)
{
	static const struct {
		char unit;
		int64_t ms;
	} units[] = { { 's', 1000 },
		      { 'm', 60000 },
		      { 'h', 3600000 },
		      { 'd', 86400000 },
		      { 'w', 7 * 86400000ll } };
	size_t len = s ? strlen(s) : 0;
	unsigned long long n = 0;
	size_t i = 0;

	if (len == 0 || len > 64)
		return -EINVAL;
	if (strcmp(s, "now") == 0) {
		*since_ms = now_ms;
		return 0;
	}
	while (i < len && s[i] >= '0' && s[i] <= '9' && n < 1000000000000ull)
		n = n * 10 + (unsigned)(s[i++] - '0');
	if (i == 0 || n >= 1000000000000ull)
		return -EINVAL;
	/* A time ago: N and one unit. */
	if (i + 1 == len) {
		for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
			if (s[i] != units[u].unit)
				continue;
			if (n > (unsigned long long)(now_ms / units[u].ms))
				return -EINVAL;
			*since_ms = now_ms - (int64_t)n * units[u].ms;
			return 0;
		}
		return -EINVAL;
	}
	/* Seconds since the epoch, with up to 3 decimals. */
	if (i == len || s[i] == '.') {
		int64_t ms = (int64_t)n * 1000, scale = 100;

		if (i < len) {
			if (++i == len || len - i > 3)
				return -EINVAL;
			for (; i < len; i++, scale /= 10) {
				if (s[i] < '0' || s[i] > '9')
					return -EINVAL;
				ms += (s[i] - '0') * scale;
			}
		}
		*since_ms = ms;
		return 0;
	}
	/* YYYY-MM-DD[(T| )HH:MM[:SS]][Z], each digit where it must be. */
	return parse_date(s, len, since_ms);
}

/* --- writing ------------------------------------------------------------- */

static int set_time(struct json_object *ev, struct nm_err *err)
{
	struct json_object *t;
	struct timespec ts;
	char s[40];

	if (json_object_object_get_ex(ev, "time", NULL))
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(s, sizeof(s), "%lld.%03ld", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
	t = json_object_new_double_s((double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0,
				     s);
	if (!t || json_object_object_add(ev, "time", t) != 0) {
		json_object_put(t);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

/* A file of the state directory, relative to it, never through a link, never
 * blocking on a FIFO put in its place: a regular file or -EINVAL. */
static int open_in(int dfd, const char *dir, const char *name, int flags, struct nm_err *err)
{
	struct stat st;
	int fd, e;

	fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0) {
		e = errno;
		if (e == ELOOP)
			return nm_err_set(err, -ELOOP, "%s/%s: a symbolic link, not used", dir,
					  name);
		return nm_err_set(err, -e, "%s/%s: %s", dir, name, strerror(e));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return nm_err_set(err, -EINVAL, "%s/%s: not a regular file", dir, name);
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* errno about the log, its fd closed after. */
static int fail_close(int fd, struct nm_err *err, const char *dir)
{
	int e = errno;

	close(fd);
	return nm_err_set(err, -e, "%s/%s: %s", dir, NM_EVENT_LOG, strerror(e));
}

/* Under the lock: the log open for appending, rotated first when line would
 * take it past max.  *size is its size, *torn whether it ends inside a line
 * (a crash cut a write short): the new line then starts on a line of its
 * own, and the torn one stays a line the reader skips. */
static int open_log(int dfd, const char *dir, size_t need, size_t max, off_t *size, int *torn,
		    int *created, struct nm_err *err)
{
	struct stat st;
	char last;
	int fd;

	/* Under the lock no other writer makes it in between. */
	*created = fstatat(dfd, NM_EVENT_LOG, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
	fd = open_in(dfd, dir, NM_EVENT_LOG, O_RDWR | O_APPEND | O_CREAT, err);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return fail_close(fd, err, dir);
	*torn = st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n';
	if (st.st_size > 0 && (uint64_t)st.st_size + need + (size_t)*torn > max) {
		close(fd);
		if (renameat(dfd, NM_EVENT_LOG, dfd, NM_EVENT_LOG_OLD) < 0)
			return nm_err_set(err, -errno, "%s: rotating %s: %s", dir, NM_EVENT_LOG,
					  strerror(errno));
		fd = open_in(dfd, dir, NM_EVENT_LOG, O_RDWR | O_APPEND | O_CREAT, err);
		if (fd < 0)
			return fd;
		if (fstat(fd, &st) < 0)
			return fail_close(fd, err, dir);
		*torn = 0;
		(void)fsync(dfd);
	}
	*size = st.st_size;
	return fd;
}

/* The writers' lock, waited for at most NM_EVENT_LOCK_WAIT_MS: a writer
 * stuck (a hung disk) blocks no other for ever.  -EAGAIN past it. */
static int lock_within(int lfd, const char *dir, struct nm_err *err)
{
	int64_t end = nm_time_ms() + NM_EVENT_LOCK_WAIT_MS;
	int wait = 1;

	for (;;) {
		if (flock(lfd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return nm_err_set(err, -errno, "%s/%s: %s", dir, NM_EVENT_LOCK,
					  strerror(errno));
		if (nm_time_ms() >= end)
			return nm_err_set(err, -EAGAIN,
					  "%s/%s: held by another writer for over %d ms: event "
					  "not written",
					  dir, NM_EVENT_LOCK, NM_EVENT_LOCK_WAIT_MS);
		nm_time_sleep_ms(wait);
		if (wait < 50)
			wait *= 2;
	}
}

int nm_event_append(const char *state_dir, struct json_object *ev, size_t max_bytes,
		    struct nm_err *err)
{
	char *line = NULL;
	size_t len;
	off_t size = 0;
	int dfd = -1, lfd = -1, fd = -1, torn = 0, rc, created, created_log = 0;

	if (!ev || !json_object_is_type(ev, json_type_object))
		return nm_err_set(err, -EINVAL, "an event is a JSON object");
	if (max_bytes == 0)
		max_bytes = NM_EVENT_MAX_BYTES;
	rc = set_time(ev, err);
	if (rc < 0)
		return rc;
	rc = nm_event_line(ev, &line, &len, err);
	if (rc < 0)
		return rc;
	created = mkdir(state_dir, 0700) == 0;
	if (!created && errno != EEXIST) {
		rc = nm_err_set(err, -errno, "%s: %s", state_dir, strerror(errno));
		goto out;
	}
	dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		rc = nm_err_set(err, -errno, "%s: %s", state_dir, strerror(errno));
		goto out;
	}
	lfd = open_in(dfd, state_dir, NM_EVENT_LOCK, O_RDWR | O_CREAT, err);
	if (lfd < 0) {
		rc = lfd;
		goto out;
	}
	rc = lock_within(lfd, state_dir, err);
	if (rc < 0)
		goto out;
	fd = open_log(dfd, state_dir, len, max_bytes, &size, &torn, &created_log, err);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	rc = 0;
	if (torn) {
		/* The torn line ended, in the same write as the event. */
		char *both = malloc(len + 1);

		if (!both) {
			rc = nm_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		both[0] = '\n';
		memcpy(both + 1, line, len);
		free(line);
		line = both;
		len++;
	}
	/* One write(2) of the line (more only if the kernel takes part of it:
	 * then the failure that follows cuts it back). */
	rc = write_all(fd, line, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (rc < 0) {
		/* Nothing half-written stays: back to what it was. */
		int e = rc;

		if (ftruncate(fd, size) == 0)
			(void)fsync(fd);
		rc = nm_err_set(err, e, "%s/%s: event not written: %s", state_dir, NM_EVENT_LOG,
				strerror(-e));
		goto out;
	}
	/* A new name in the directory: durable once the directory is. */
	if (created || created_log)
		(void)fsync(dfd);
out:
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd); /* drops the lock */
	if (dfd >= 0)
		close(dfd);
	free(line);
	return rc;
}

/* --- reading ------------------------------------------------------------- */

struct follow;

struct reader {
	struct follow *fl; /* following: the log checked before each read */
	int track;	   /* this read is of fl's log: remember() its tails */
	const struct nm_event_filter *f;
	int (*cb)(struct json_object *ev, void *arg);
	void *arg;
	char *buf; /* NM_EVENT_LINE_MAX + READ_CHUNK */
	size_t len;
	int skipping; /* inside a line too long to keep: until its newline */
	unsigned skipped;
	size_t last_len;  /* of the last complete line scan() consumed, its newline in */
	int got_line;	  /* scan() consumed one */
	off_t last_start; /* where that line starts in the file (read_from) */
};

/* Hand on the complete lines of r->buf; keep the last, unfinished one.
 * Returns 0 or what the callback stopped with. */
static void remember(struct follow *fl, const char *b, size_t used, size_t last_len);

static int scan(struct reader *r)
{
	char *p = r->buf, *end = r->buf + r->len, *nl;
	int rc = 0;

	while (rc == 0 && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		struct json_object *ev;

		if (r->skipping) {
			r->skipping = 0;
		} else if (nm_event_parse_line(p, (size_t)(nl - p), &ev) < 0) {
			r->skipped++;
		} else {
			if (nm_event_match(ev, r->f))
				rc = r->cb(ev, r->arg);
			json_object_put(ev);
		}
		r->last_len = (size_t)(nl + 1 - p);
		r->got_line = 1;
		p = nl + 1;
	}
	if (rc != 0) {
		r->len = 0;
		return rc;
	}
	if (r->track)
		remember(r->fl, r->buf, (size_t)(p - r->buf), r->got_line ? r->last_len : 0);
	r->len = (size_t)(end - p);
	memmove(r->buf, p, r->len);
	if (r->len >= NM_EVENT_LINE_MAX) {
		/* Longer than any event: dropped unread, counted once. */
		if (!r->skipping)
			r->skipped++;
		r->skipping = 1;
		if (r->track)
			remember(r->fl, r->buf, r->len, 0);
		r->len = 0;
	}
	return 0;
}

static void check_rewritten(struct follow *fl);
static void note_tails(struct follow *fl);
static int follows(const struct follow *fl, int fd, const off_t *off);

/* Read fd from *off to its end; *off moves past the complete lines. */
static int read_from(struct reader *r, int fd, off_t *off, const char *what, struct nm_err *err)
{
	for (;;) {
		/* The log followed: rewritten while the callback ran (a
		 * truncation, an append cut back)?  Then read as it is now. */
		r->track = r->fl && follows(r->fl, fd, off);
		if (r->track)
			check_rewritten(r->fl);
		size_t before = r->len;
		ssize_t n = pread(fd, r->buf + r->len, NM_EVENT_LINE_MAX + READ_CHUNK - r->len,
				  *off + (off_t)r->len);
		int rc;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nm_err_set(err, -errno, "%s: %s", what, strerror(errno));
		if (n == 0)
			return 0;
		r->len += (size_t)n;
		r->got_line = 0;
		rc = scan(r);
		/* What scan() consumed: complete lines, or a long one dropped. */
		*off += (off_t)(before + (size_t)n - r->len);
		if (r->got_line && rc == 0)
			r->last_start = *off - (off_t)r->last_len;
		if (rc != 0)
			return rc;
	}
}

static int reader_init(struct reader *r, const struct nm_event_filter *f,
		       int (*cb)(struct json_object *ev, void *arg), void *arg, struct nm_err *err)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->cb = cb;
	r->arg = arg;
	r->buf = malloc(NM_EVENT_LINE_MAX + READ_CHUNK);
	if (!r->buf)
		return nm_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

int nm_event_read_fd(int fd, const struct nm_event_filter *f,
		     int (*cb)(struct json_object *ev, void *arg), void *arg, unsigned *skipped,
		     struct nm_err *err)
{
	struct reader r;
	off_t off = 0;
	int rc = reader_init(&r, f, cb, arg, err);

	if (rc < 0)
		return rc;
	rc = read_from(&r, fd, &off, "event log", err);
	/* What is left has no newline: a torn last line, skipped. */
	if (skipped)
		*skipped += r.skipped;
	free(r.buf);
	return rc < 0 ? rc : 0;
}

/* One file of the directory into the reader, whole; a missing one is none,
 * and so is the file *not_this is (the log, read on its own: a rotation
 * came in between). */
static int read_file(int dfd, const char *dir, const char *name, struct reader *r,
		     const struct stat *not_this, struct nm_err *err)
{
	char what[600];
	struct stat st;
	off_t off = 0;
	int fd, rc = 0, skipping;

	fd = open_in(dfd, dir, name, O_RDONLY, err);
	if (fd == -ENOENT) {
		nm_err_clear(err);
		return 0;
	}
	if (fd < 0)
		return fd;
	snprintf(what, sizeof(what), "%s/%s", dir, name);
	skipping = r->skipping; /* of the log being followed, if any */
	r->len = 0;
	r->skipping = 0;
	if (!not_this || fstat(fd, &st) < 0 || st.st_dev != not_this->st_dev ||
	    st.st_ino != not_this->st_ino) {
		rc = read_from(r, fd, &off, what, err);
		/* A rotated file is written no more: a last line without its
		 * newline is torn for good, skipped and counted. */
		if (rc == 0 && r->len > 0 && !r->skipping)
			r->skipped++;
	}
	close(fd);
	r->len = 0;
	r->skipping = skipping;
	return rc;
}

static int open_dir(const char *state_dir, struct nm_err *err)
{
	int dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return nm_err_set(err, -errno, "%s: %s", state_dir, strerror(errno));
	return dfd;
}

int nm_event_read(const char *state_dir, const struct nm_event_filter *f,
		  int (*cb)(struct json_object *ev, void *arg), void *arg, struct nm_err *err)
{
	char what[600];
	struct reader r;
	struct stat st;
	off_t off = 0;
	int dfd, lfd, rc;

	dfd = open_dir(state_dir, err);
	if (dfd == -ENOENT) {
		nm_err_clear(err);
		return 0;
	}
	if (dfd < 0)
		return dfd;
	rc = reader_init(&r, f, cb, arg, err);
	if (rc < 0) {
		close(dfd);
		return rc;
	}
	/* The log is opened first: rotated while events.log.1 is read, it
	 * is still read whole (and not twice). */
	lfd = open_in(dfd, state_dir, NM_EVENT_LOG, O_RDONLY, err);
	if (lfd == -ENOENT)
		nm_err_clear(err);
	if (lfd >= 0 && fstat(lfd, &st) < 0)
		rc = fail_close(lfd, err, state_dir), lfd = -1;
	else if (lfd < 0 && lfd != -ENOENT)
		rc = lfd;
	if (rc == 0)
		rc = read_file(dfd, state_dir, NM_EVENT_LOG_OLD, &r, lfd >= 0 ? &st : NULL, err);
	if (rc == 0 && lfd >= 0) {
		snprintf(what, sizeof(what), "%s/%s", state_dir, NM_EVENT_LOG);
		r.len = 0;
		r.skipping = 0;
		rc = read_from(&r, lfd, &off, what, err);
	}
	if (lfd >= 0)
		close(lfd);
	close(dfd);
	free(r.buf);
	/* The callback's positive stop is no error: the count all the same. */
	return rc < 0 ? rc : (int)r.skipped;
}

/* --- following ----------------------------------------------------------- */

struct follow {
	int dfd;
	const char *dir;
	struct reader r;
	int fd; /* the events.log we read, -1 when there is none yet */
	dev_t dev;
	ino_t ino;
	off_t off;			/* where its unfinished line starts */
	int old_fd;			/* the last file delivered whole (a .1, or a log left):
					   kept open, so its inode number is not reused */
	char tail[TAIL], tail_ls[TAIL]; /* the bytes before off, before r.last_start */
	size_t tail_n, tail_ls_n;
};

static int same_file(int dfd, const char *name, dev_t dev, ino_t ino)
{
	struct stat st;

	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == dev &&
	       st.st_ino == ino;
}

/* Is fd (may be -1) open on the file st is? */
static int fd_is(int fd, const struct stat *st)
{
	struct stat s2;

	return fd >= 0 && fstat(fd, &s2) == 0 && s2.st_dev == st->st_dev && s2.st_ino == st->st_ino;
}

static int open_current(struct follow *fl, struct nm_err *err)
{
	struct stat st;
	int fd = open_in(fl->dfd, fl->dir, NM_EVENT_LOG, O_RDONLY, err);

	if (fd == -ENOENT) {
		nm_err_clear(err);
		return 0;
	}
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return fail_close(fd, err, fl->dir);
	fl->fd = fd;
	fl->dev = st.st_dev;
	fl->ino = st.st_ino;
	fl->off = 0;
	fl->r.len = 0;
	fl->r.skipping = 0;
	fl->r.last_start = 0;
	fl->tail_n = fl->tail_ls_n = 0;
	return 0;
}

/* events.log.1, read whole unless it is the log just left (done, may be -1:
 * a rotation) or the file delivered before (old_fd: the log was removed,
 * not rotated); then it is the one delivered. */
static int read_old(struct follow *fl, int done, struct nm_err *err)
{
	char what[600];
	struct stat st;
	off_t off = 0;
	int fd, rc, skipping;

	fd = open_in(fl->dfd, fl->dir, NM_EVENT_LOG_OLD, O_RDONLY, err);
	if (fd == -ENOENT) {
		nm_err_clear(err);
		return 0;
	}
	if (fd < 0)
		return fd;
	snprintf(what, sizeof(what), "%s/%s", fl->dir, NM_EVENT_LOG_OLD);
	if (fstat(fd, &st) < 0) {
		rc = nm_err_set(err, -errno, "%s: %s", what, strerror(errno));
		close(fd);
		return rc;
	}
	if (fd_is(done, &st) || fd_is(fl->old_fd, &st)) {
		close(fd);
		return 0;
	}
	skipping = fl->r.skipping;
	fl->r.len = 0;
	fl->r.skipping = 0;
	rc = read_from(&fl->r, fd, &off, what, err);
	if (rc == 0 && fl->r.len > 0 && !fl->r.skipping)
		fl->r.skipped++; /* torn for good */
	fl->r.len = 0;
	fl->r.skipping = skipping;
	if (fl->old_fd >= 0)
		close(fl->old_fd);
	fl->old_fd = fd;
	return rc;
}

/* Up to TAIL bytes of fd ending at end into t: the end of a line (its
 * "time", to the millisecond, is its last key): what tells one line from
 * another.  *n how many; 0 at the start of the file. */
static void tail_of(int fd, off_t end, char *t, size_t *n)
{
	size_t want = end < TAIL ? (size_t)end : TAIL;
	ssize_t r = want ? pread(fd, t, want, end - (off_t)want) : 0;

	*n = r == (ssize_t)want ? want : (size_t)-1; /* short: none to match */
}

static int tail_is(int fd, off_t end, const char *t, size_t n)
{
	char now[TAIL];
	size_t m;

	if (n == (size_t)-1)
		return 0;
	tail_of(fd, end, now, &m);
	return m == n && memcmp(now, t, n) == 0;
}

/* What was read still there?  The bytes before the offset and before the
 * start of the last line read are compared with what they were.  Both as
 * they were: grown, read on.  Only the last line gone or replaced (an
 * append cut back by a failed write, and maybe another after it): read on
 * from where it started.  Else (truncated in place, rewritten, even grown
 * again since): read it again from its start. */
static void check_rewritten(struct follow *fl)
{
	if (fl->off == 0 || tail_is(fl->fd, fl->off, fl->tail, fl->tail_n))
		return;
	if (fl->r.last_start > 0 && fl->r.last_start < fl->off &&
	    tail_is(fl->fd, fl->r.last_start, fl->tail_ls, fl->tail_ls_n))
		fl->off = fl->r.last_start;
	else
		fl->off = 0;
	fl->r.len = 0;
	fl->r.skipping = 0;
	fl->r.last_start = 0;
	note_tails(fl); /* of where it reads on from */
}

/* The TAIL bytes ending at e of the text that is the tail t0 (n0 bytes)
 * then b: into out, their count (-1: t0 was none and is needed). */
static size_t stream_tail(const char *t0, size_t n0, const char *b, size_t e, char *out)
{
	size_t fromb = e < TAIL ? e : TAIL, fromt = TAIL - fromb;

	if (fromt > 0 && n0 == (size_t)-1)
		return (size_t)-1;
	if (fromt > n0)
		fromt = n0;
	memcpy(out, t0 + n0 - fromt, fromt);
	memcpy(out + fromt, b + e - fromb, fromb);
	return fromt + fromb;
}

/* The reader consumed b[0..used) of the log (b starting at fl->off, where
 * fl->tail ends), its last complete line last_len bytes (0: none): the
 * tails of what was read, from the bytes read (not the file again: it may
 * have been rewritten while the callback ran). */
static void remember(struct follow *fl, const char *b, size_t used, size_t last_len)
{
	char t[TAIL], ls[TAIL];
	size_t n, nls = fl->tail_ls_n;

	if (used == 0)
		return;
	n = stream_tail(fl->tail, fl->tail_n, b, used, t);
	if (last_len) {
		nls = stream_tail(fl->tail, fl->tail_n, b, used - last_len, ls);
		if (nls != (size_t)-1)
			memcpy(fl->tail_ls, ls, nls);
		fl->tail_ls_n = nls;
	}
	if (n != (size_t)-1)
		memcpy(fl->tail, t, n);
	fl->tail_n = n;
}

static int follows(const struct follow *fl, int fd, const off_t *off)
{
	return fd == fl->fd && off == &fl->off;
}

/* Remember the tails of what was read, for check_rewritten(). */
static void note_tails(struct follow *fl)
{
	tail_of(fl->fd, fl->off, fl->tail, &fl->tail_n);
	tail_of(fl->fd, fl->r.last_start, fl->tail_ls, &fl->tail_ls_n);
}

/* Read what was added since the last time; follow a rotation: the old
 * file (now events.log.1) is read to its end, then the new one. */
static int catch_up(struct follow *fl, struct nm_err *err)
{
	char what[600];
	int rc = 0;

	snprintf(what, sizeof(what), "%s/%s", fl->dir, NM_EVENT_LOG);
	if (fl->fd < 0) {
		rc = open_current(fl, err);
		if (rc < 0 || fl->fd < 0)
			return rc;
	}
	for (int round = 0; round < 4; round++) {
		dev_t dev = fl->dev;
		ino_t ino = fl->ino;

		/* From the start of the unfinished line: a write cut back
		 * (nm_event_append on ENOSPC) is then read as it is now
		 * (read_from checks the log before each read). */
		fl->r.len = 0;
		rc = read_from(&fl->r, fl->fd, &fl->off, what, err);
		if (rc != 0 || same_file(fl->dfd, NM_EVENT_LOG, dev, ino))
			return rc;
		/* Rotated or removed: nobody writes to the old file any more
		 * (writers open the log by name under the lock): what was
		 * added to it before is read now, to its end.  Then
		 * events.log.1 whole, unless it is that file (a rotation) or
		 * the one delivered before (the log removed); rotated twice
		 * since: it is the one in between. */
		fl->r.len = 0;
		rc = read_from(&fl->r, fl->fd, &fl->off, what, err);
		if (rc == 0)
			rc = read_old(fl, fl->fd, err);
		if (rc != 0)
			return rc;
		if (same_file(fl->dfd, NM_EVENT_LOG_OLD, dev, ino)) {
			/* The log became .1: the file delivered now. */
			if (fl->old_fd >= 0)
				close(fl->old_fd);
			fl->old_fd = fl->fd;
		} else {
			close(fl->fd);
		}
		fl->fd = -1;
		rc = open_current(fl, err);
		if (rc < 0 || fl->fd < 0)
			return rc;
	}
	return 0;
}

static int64_t deadline_left(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - nm_time_ms();
	return left > 0 ? left : 0;
}

/* Wait on the fds of a follow: 1 when stopped (stop_fd readable, out_fd in
 * error or hung up, the deadline passed), 0 when fd (may be -1) is readable
 * or ms (-1: the deadline) passed, or a negative errno. */
static int wait_on(int fd, int stop_fd, int out_fd, int64_t deadline, int ms, struct nm_err *err)
{
	struct pollfd p[3] = { { .fd = fd, .events = POLLIN },
			       { .fd = stop_fd, .events = POLLIN },
			       /* events 0: only POLLERR, POLLHUP (a pipe's
				* reader gone, a terminal hung up) */
			       { .fd = out_fd, .events = 0 } };
	int64_t left = deadline_left(deadline);
	int n;

	if (left == 0)
		return 1;
	if (ms >= 0 && (left < 0 || left > ms))
		left = ms;
	n = poll(p, 3, left > INT32_MAX ? INT32_MAX : (int)left);
	if (n < 0)
		return nm_err_set(err, -errno, "waiting for events: %s", strerror(errno));
	if (p[1].revents || p[2].revents)
		return 1;
	return 0;
}

/* The state directory, waited for when it is not there yet (nfsmigd makes
 * it with its first event): inotify on its parent, or every second when
 * that is missing too.  0 (*dfd its fd), 1 when stopped first, or a
 * negative errno. */
static int wait_dir(const char *state_dir, int stop_fd, int out_fd, int64_t deadline, int *dfd,
		    struct nm_err *err)
{
	char parent[4096];
	const char *slash;
	int ino = -1, rc;

	slash = strrchr(state_dir, '/');
	if (!slash)
		snprintf(parent, sizeof(parent), ".");
	else if (slash == state_dir)
		snprintf(parent, sizeof(parent), "/");
	else
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - state_dir), state_dir);
	for (;;) {
		*dfd = open_dir(state_dir, err);
		if (*dfd != -ENOENT) {
			rc = *dfd < 0 ? *dfd : 0;
			break;
		}
		nm_err_clear(err);
		if (ino < 0) {
			ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
			if (ino < 0) {
				rc = nm_err_set(err, -errno, "inotify: %s", strerror(errno));
				break;
			}
		}
		/* Watched anew each time: the parent may have come since. */
		if (inotify_add_watch(ino, parent, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) < 0 &&
		    errno != ENOENT && errno != ENOTDIR) {
			rc = nm_err_set(err, -errno, "%s: inotify: %s", parent, strerror(errno));
			break;
		}
		rc = wait_on(ino, stop_fd, out_fd, deadline, 1000, err);
		if (rc != 0)
			break;
		for (char ibuf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
		     read(ino, ibuf, sizeof(ibuf)) > 0;)
			;
	}
	if (ino >= 0)
		close(ino);
	return rc;
}

int nm_event_follow(const char *state_dir, const struct nm_event_filter *f,
		    int (*cb)(struct json_object *ev, void *arg), void *arg, int stop_fd,
		    int timeout_ms, struct nm_err *err)
{
	return nm_event_follow_out(state_dir, f, cb, arg, stop_fd, -1, timeout_ms, err);
}

int nm_event_follow_out(const char *state_dir, const struct nm_event_filter *f,
			int (*cb)(struct json_object *ev, void *arg), void *arg, int stop_fd,
			int out_fd, int timeout_ms, struct nm_err *err)
{
	struct follow fl = { .dfd = -1, .dir = state_dir, .fd = -1, .old_fd = -1 };
	int64_t deadline = timeout_ms < 0 ? -1 : nm_time_ms() + timeout_ms;
	int ino = -1, rc;

	rc = wait_dir(state_dir, stop_fd, out_fd, deadline, &fl.dfd, err);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	rc = reader_init(&fl.r, f, cb, arg, err);
	if (rc < 0)
		goto out;
	fl.r.fl = &fl;
	/* Watch first, then read: nothing written in between is missed. */
	ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ino < 0) {
		rc = nm_err_set(err, -errno, "inotify: %s", strerror(errno));
		goto out;
	}
	if (inotify_add_watch(ino, state_dir,
			      IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
				      IN_ONLYDIR) < 0) {
		rc = nm_err_set(err, -errno, "%s: inotify: %s", state_dir, strerror(errno));
		goto out;
	}
	/* The log first, then events.log.1 unless the log became it. */
	rc = open_current(&fl, err);
	if (rc == 0)
		rc = read_old(&fl, fl.fd, err);
	if (rc == 0)
		rc = catch_up(&fl, err);
	while (rc == 0) {
		char ibuf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
		int w = wait_on(ino, stop_fd, out_fd, deadline, -1, err);

		if (w != 0) {
			rc = w;
			break;
		}
		while (read(ino, ibuf, sizeof(ibuf)) > 0)
			; /* which change it was does not matter: catch up */
		rc = catch_up(&fl, err);
	}
out:
	if (ino >= 0)
		close(ino);
	if (fl.fd >= 0)
		close(fl.fd);
	if (fl.old_fd >= 0)
		close(fl.old_fd);
	close(fl.dfd);
	free(fl.r.buf);
	return rc > 0 ? 0 : rc;
}
