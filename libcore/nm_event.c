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
	/* YYYY-MM-DD[(T| )HH:MM[:SS]][Z] */
	struct tm tm = { .tm_isdst = -1 };
	int y, mo, d, h = 0, mi = 0, sec = 0, used = 0, utc = 0;
	time_t t;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10)
		return -EINVAL;
	if (used < (int)len && (s[used] == 'T' || s[used] == ' ')) {
		int u2 = 0, u3 = 0;

		if (sscanf(s + used + 1, "%2d:%2d%n", &h, &mi, &u2) != 2 || u2 != 5)
			return -EINVAL;
		used += 1 + u2;
		if (used < (int)len && s[used] == ':') {
			if (sscanf(s + used + 1, "%2d%n", &sec, &u3) != 1 || u3 != 2)
				return -EINVAL;
			used += 1 + u3;
		}
	}
	if (used < (int)len && s[used] == 'Z')
		utc = 1, used++;
	if (used != (int)len || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60 || h < 0 || mi < 0 || sec < 0)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = utc ? timegm(&tm) : mktime(&tm);
	/* mktime moves Feb 30 to Mar 2: refused. */
	if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -EINVAL;
	*since_ms = (int64_t)t * 1000;
	return 0;
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

/* Under the lock: the log open for appending, rotated first when line would
 * take it past max.  *size is its size, *torn whether it ends inside a line
 * (a crash cut a write short): the new line then starts on a line of its
 * own, and the torn one stays a line the reader skips. */
static int open_log(int dfd, const char *dir, size_t need, size_t max, off_t *size, int *torn,
		    struct nm_err *err)
{
	struct stat st;
	char last;
	int fd;

	fd = open_in(dfd, dir, NM_EVENT_LOG, O_RDWR | O_APPEND | O_CREAT, err);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return nm_err_set(err, -errno, "%s/%s: %s", dir, NM_EVENT_LOG, strerror(errno));
	}
	*torn = st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n';
	if (st.st_size > 0 && (uint64_t)st.st_size + need + (size_t)*torn > max) {
		close(fd);
		if (renameat(dfd, NM_EVENT_LOG, dfd, NM_EVENT_LOG_OLD) < 0)
			return nm_err_set(err, -errno, "%s: rotating %s: %s", dir, NM_EVENT_LOG,
					  strerror(errno));
		fd = open_in(dfd, dir, NM_EVENT_LOG, O_RDWR | O_APPEND | O_CREAT, err);
		if (fd < 0)
			return fd;
		if (fstat(fd, &st) < 0) {
			close(fd);
			return nm_err_set(err, -errno, "%s/%s: %s", dir, NM_EVENT_LOG,
					  strerror(errno));
		}
		*torn = 0;
		(void)fsync(dfd);
	}
	*size = st.st_size;
	return fd;
}

int nm_event_append(const char *state_dir, struct json_object *ev, size_t max_bytes,
		    struct nm_err *err)
{
	char *line = NULL;
	size_t len;
	off_t size = 0;
	int dfd = -1, lfd = -1, fd = -1, torn = 0, rc, created;

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
	while ((rc = flock(lfd, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (rc < 0) {
		rc = nm_err_set(err, -errno, "%s/%s: %s", state_dir, NM_EVENT_LOCK,
				strerror(errno));
		goto out;
	}
	fd = open_log(dfd, state_dir, len, max_bytes, &size, &torn, err);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	rc = 0;
	if (torn)
		rc = write_all(fd, "\n", 1);
	if (rc == 0)
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
	if (created)
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

struct reader {
	const struct nm_event_filter *f;
	int (*cb)(struct json_object *ev, void *arg);
	void *arg;
	char *buf; /* NM_EVENT_LINE_MAX + READ_CHUNK */
	size_t len;
	int skipping; /* inside a line too long to keep: until its newline */
	unsigned skipped;
};

/* Hand on the complete lines of r->buf; keep the last, unfinished one.
 * Returns 0 or what the callback stopped with. */
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
		p = nl + 1;
	}
	if (rc != 0) {
		r->len = 0;
		return rc;
	}
	r->len = (size_t)(end - p);
	memmove(r->buf, p, r->len);
	if (r->len >= NM_EVENT_LINE_MAX) {
		/* Longer than any event: dropped unread, counted once. */
		if (!r->skipping)
			r->skipped++;
		r->skipping = 1;
		r->len = 0;
	}
	return 0;
}

/* Read fd from *off to its end; *off moves past the complete lines. */
static int read_from(struct reader *r, int fd, off_t *off, const char *what, struct nm_err *err)
{
	for (;;) {
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
		rc = scan(r);
		/* What scan() consumed: complete lines, or a long one dropped. */
		*off += (off_t)(before + (size_t)n - r->len);
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

/* One file of the directory into the reader, whole; a missing one is none. */
static int read_file(int dfd, const char *dir, const char *name, struct reader *r,
		     struct nm_err *err)
{
	char what[600];
	off_t off = 0;
	int fd, rc;

	fd = open_in(dfd, dir, name, O_RDONLY, err);
	if (fd == -ENOENT) {
		nm_err_clear(err);
		return 0;
	}
	if (fd < 0)
		return fd;
	snprintf(what, sizeof(what), "%s/%s", dir, name);
	r->len = 0;
	r->skipping = 0;
	rc = read_from(r, fd, &off, what, err);
	close(fd);
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
	struct reader r;
	int dfd, rc;

	dfd = open_dir(state_dir, err);
	if (dfd == -ENOENT) {
		nm_err_clear(err);
		return 0;
	}
	if (dfd < 0)
		return dfd;
	rc = reader_init(&r, f, cb, arg, err);
	if (rc == 0)
		rc = read_file(dfd, state_dir, NM_EVENT_LOG_OLD, &r, err);
	if (rc == 0)
		rc = read_file(dfd, state_dir, NM_EVENT_LOG, &r, err);
	close(dfd);
	free(r.buf);
	if (rc > 0)
		return (int)r.skipped; /* the callback stopped it */
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
	off_t off; /* where its unfinished line starts */
};

static int same_file(int dfd, const char *name, dev_t dev, ino_t ino)
{
	struct stat st;

	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == dev &&
	       st.st_ino == ino;
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
	if (fstat(fd, &st) < 0) {
		close(fd);
		return nm_err_set(err, -errno, "%s: %s", fl->dir, strerror(errno));
	}
	fl->fd = fd;
	fl->dev = st.st_dev;
	fl->ino = st.st_ino;
	fl->off = 0;
	fl->r.len = 0;
	fl->r.skipping = 0;
	return 0;
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
		 * (nm_event_append on ENOSPC) is then read as it is now. */
		fl->r.len = 0;
		rc = read_from(&fl->r, fl->fd, &fl->off, what, err);
		if (rc != 0 || same_file(fl->dfd, NM_EVENT_LOG, dev, ino))
			return rc;
		/* Rotated: nobody writes to the old file any more (writers
		 * open the log by name under the lock), and it was read to
		 * its end.  Rotated twice since: the one in between is now
		 * events.log.1, read whole. */
		close(fl->fd);
		fl->fd = -1;
		if (!same_file(fl->dfd, NM_EVENT_LOG_OLD, dev, ino)) {
			rc = read_file(fl->dfd, fl->dir, NM_EVENT_LOG_OLD, &fl->r, err);
			if (rc != 0)
				return rc;
		}
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

int nm_event_follow(const char *state_dir, const struct nm_event_filter *f,
		    int (*cb)(struct json_object *ev, void *arg), void *arg, int stop_fd,
		    int timeout_ms, struct nm_err *err)
{
	struct follow fl = { .dfd = -1, .dir = state_dir, .fd = -1 };
	int64_t deadline = timeout_ms < 0 ? -1 : nm_time_ms() + timeout_ms;
	int ino = -1, rc;

	fl.dfd = open_dir(state_dir, err);
	if (fl.dfd < 0)
		return fl.dfd;
	rc = reader_init(&fl.r, f, cb, arg, err);
	if (rc < 0)
		goto out;
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
	rc = read_file(fl.dfd, state_dir, NM_EVENT_LOG_OLD, &fl.r, err);
	if (rc == 0)
		rc = catch_up(&fl, err);
	while (rc == 0) {
		struct pollfd p[2] = { { .fd = ino, .events = POLLIN },
				       { .fd = stop_fd, .events = POLLIN } };
		char ibuf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
		int64_t left = deadline_left(deadline);
		int n;

		if (left == 0)
			break;
		n = poll(p, stop_fd >= 0 ? 2 : 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n < 0) {
			rc = nm_err_set(err, -errno, "waiting for events: %s", strerror(errno));
			break;
		}
		if (n == 0)
			continue;
		if (stop_fd >= 0 && p[1].revents)
			break;
		while (read(ino, ibuf, sizeof(ibuf)) > 0)
			; /* which change it was does not matter: catch up */
		rc = catch_up(&fl, err);
	}
out:
	if (ino >= 0)
		close(ino);
	if (fl.fd >= 0)
		close(fl.fd);
	close(fl.dfd);
	free(fl.r.buf);
	return rc > 0 ? 0 : rc;
}
