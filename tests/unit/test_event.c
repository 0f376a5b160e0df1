/* nm_event: the event log written, bounded, rotated, read back and followed;
 * what is not an event skipped; a failed write loses nothing. */
#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nm_conf.h"
#include "nm_event.h"
#include "nm_time.h"
#include "unit.h"

static char top[] = "/tmp/nm-test-event.XXXXXX";

/* A path below top (a ring of 64: each test uses a few). */
static const char *state(const char *name)
{
	static char path[64][256];
	static unsigned i;
	char *p = path[i++ % 64];

	snprintf(p, sizeof(path[0]), "%s/%s", top, name);
	return p;
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[512];
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f) {
		*len = 0;
		return NULL;
	}
	buf = malloc(1 << 20);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	*len = n;
	return buf;
}

static void spit(const char *dir, const char *name, const char *text, size_t len)
{
	char path[512];
	FILE *f;

	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	fwrite(text, 1, len, f);
	fclose(f);
}

static struct json_object *event(const char *kind, const char *mnt, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "event", json_object_new_string(kind));
	if (mnt)
		json_object_object_add(o, "mountpoint", json_object_new_string(mnt));
	if (msg)
		json_object_object_add(o, "message", json_object_new_string(msg));
	return o;
}

static int append(const char *dir, const char *kind, const char *mnt, const char *msg, size_t max,
		  struct nm_err *err)
{
	struct json_object *o = event(kind, mnt, msg);
	int rc = nm_event_append(dir, o, max, err);

	json_object_put(o);
	return rc;
}

/* What a read saw: the "message" of each event, joined by '|'. */
struct seen {
	char text[8192];
	int n;
	int stop_after;
};

static int collect(struct json_object *ev, void *arg)
{
	struct seen *s = arg;
	struct json_object *m;
	const char *msg = "-";

	if (json_object_object_get_ex(ev, "message", &m))
		msg = json_object_get_string(m);
	if (strlen(s->text) + strlen(msg) + 2 < sizeof(s->text)) {
		if (s->n)
			strcat(s->text, "|");
		strcat(s->text, msg);
	}
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? 1 : 0;
}

static int read_all(const char *dir, const struct nm_event_filter *f, struct seen *s)
{
	struct nm_err err = { 0 };

	memset(s, 0, sizeof(*s));
	return nm_event_read(dir, f, collect, s, &err);
}

static void test_append(struct unit *u)
{
	const char *dir = state("append");
	struct nm_err err = { 0 };
	struct seen s;
	struct stat st;
	size_t len;
	char *text;
	int rc;

	rc = append(dir, "migration", "/mnt/a", "one", 0, &err);
	UNIT_CHECK(u, rc == 0, "append: written (%s)", err.msg);
	UNIT_CHECK(u, stat(dir, &st) == 0 && (st.st_mode & 07777) == 0700,
		   "append: the directory is made 0700");
	UNIT_CHECK(u, stat(state("append/events.log"), &st) == 0 && (st.st_mode & 07777) == 0600,
		   "append: the log is 0600");
	text = slurp(dir, NM_EVENT_LOG, &len);
	UNIT_CHECK(u, text && len > 0 && text[len - 1] == '\n' && !memchr(text, '\n', len - 1),
		   "append: one line, newline-terminated");
	UNIT_CHECK(u, text && strstr(text, "\"time\":") && strstr(text, "\"event\":\"migration\""),
		   "append: time set, keys kept: %s", text ? text : "(none)");
	free(text);
	append(dir, "migration", "/mnt/b", "two", 0, &err);
	rc = read_all(dir, NULL, &s);
	UNIT_CHECK(u, rc == 0 && s.n == 2 && strcmp(s.text, "one|two") == 0,
		   "append: read back in order (%d: %s)", rc, s.text);
}

/* Text from outside in an event: the file has no control byte, no C1, no
 * bidi override, only valid UTF-8; read back, the strings are what was put
 * in (but a byte that is not UTF-8: U+FFFD). */
static void test_hostile(struct unit *u)
{
	const char *dir = state("hostile");
	const char *msg = "a\x1b[31mb\xc2\x9b"
			  "c\xe2\x80\xae"
			  "d\xff"
			  "e\n\"\\";
	struct nm_err err = { 0 };
	struct seen s;
	size_t len;
	char *text;
	int bad = 0;

	UNIT_CHECK(u, append(dir, "migration", "/mnt/a", msg, 0, &err) == 0, "hostile: written");
	text = slurp(dir, NM_EVENT_LOG, &len);
	for (size_t i = 0; text && i + 1 < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c == 0x7f || c == 0xff ||
		    (c == 0xc2 && (unsigned char)text[i + 1] >= 0x80 &&
		     (unsigned char)text[i + 1] <= 0x9f) ||
		    (c == 0xe2 && (unsigned char)text[i + 1] == 0x80))
			bad++;
	}
	UNIT_CHECK(u, text && bad == 0, "hostile: nothing raw in the file (%d bad): %s", bad,
		   text ? text : "");
	UNIT_CHECK(u,
		   text && strstr(text, "\\u001b") && strstr(text, "\\u009b") &&
			   strstr(text, "\\u202e") && strstr(text, "\\ufffd"),
		   "hostile: ESC, C1, bidi as \\u escapes, bad byte U+FFFD");
	free(text);
	read_all(dir, NULL, &s);
	UNIT_CHECK(u,
		   s.n == 1 && strcmp(s.text, "a\x1b[31mb\xc2\x9b"
					      "c\xe2\x80\xae"
					      "d\xef\xbf\xbd"
					      "e\n\"\\") == 0,
		   "hostile: read back as it was");
}

static int count_lines(const char *dir, const char *name)
{
	size_t len;
	char *t = slurp(dir, name, &len);
	int n = 0;

	for (size_t i = 0; t && i < len; i++)
		n += t[i] == '\n';
	free(t);
	return n;
}

static void test_rotate(struct unit *u)
{
	const char *dir = state("rotate");
	struct nm_err err = { 0 };
	struct seen s;
	struct stat st, st1;
	char msg[16];
	int ok = 1;

	const char *log = state("rotate/events.log");

	/* Each line is about 77 bytes: 3 fit in 300. */
	for (int i = 0; i < 10; i++) {
		snprintf(msg, sizeof(msg), "m%d", i);
		ok &= append(dir, "mount", "/mnt/a", msg, 300, &err) == 0;
		ok &= stat(log, &st) == 0 && st.st_size <= 300;
	}
	UNIT_CHECK(u, ok, "rotate: the log never grows past the bound");
	UNIT_CHECK(u, stat(state("rotate/events.log.1"), &st1) == 0 && st1.st_size <= 300,
		   "rotate: the old one is events.log.1, within the bound");
	read_all(dir, NULL, &s);
	UNIT_CHECK(u, strcmp(s.text, "m6|m7|m8|m9") == 0,
		   "rotate: .1 then the log, oldest gone: %s", s.text);

	/* Two writers at once, room for all in two files: one rotation
	 * only, so nothing is lost. */
	dir = state("rotate2");
	for (int w = 0; w < 2; w++) {
		if (fork() == 0) {
			for (int i = 0; i < 20; i++) {
				snprintf(msg, sizeof(msg), "w%d-%02d", w, i);
				if (append(dir, "mount", "/mnt/a", msg, 2000, NULL) != 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	ok = 1;
	for (int w = 0; w < 2; w++) {
		int status;

		wait(&status);
		ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	read_all(dir, NULL, &s);
	UNIT_CHECK(u, ok && s.n == 40 && count_lines(dir, NM_EVENT_LOG_OLD) > 0,
		   "rotate: two writers, one rotation, all 40 events kept (%d)", s.n);
}

static void test_torn_and_garbage(struct unit *u)
{
	const char *dir = state("torn");
	const char *log = "{\"time\":100.5,\"event\":\"mount\",\"message\":\"first\"}\n"
			  "{\"time\":101,\"event\":\"mount\",\"message\":\"to";
	struct nm_err err = { 0 };
	struct seen s;
	char *big;
	int rc;

	spit(dir, NM_EVENT_LOG, log, strlen(log));
	rc = read_all(dir, NULL, &s);
	UNIT_CHECK(u, rc == 0 && s.n == 1 && strcmp(s.text, "first") == 0,
		   "torn: the last line with no newline is skipped, not counted (%d)", rc);
	UNIT_CHECK(u, append(dir, "mount", "/mnt/a", "after", 0, &err) == 0,
		   "torn: an append after a torn line");
	rc = read_all(dir, NULL, &s);
	UNIT_CHECK(u, rc == 1 && s.n == 2 && strcmp(s.text, "first|after") == 0,
		   "torn: the new event is its own line, the torn one skipped (%d: %s)", rc,
		   s.text);

	dir = state("garbage");
	big = malloc(NM_EVENT_LINE_MAX * 2 + 200);
	strcpy(big, "not json\n"
		    "[1,2]\n"
		    "{\"message\":\"ok1\"} trailing\n"
		    "\n"
		    "{\"message\":\"ok2\"}\n"
		    "{\"message\":'single'}\n"
		    "{\"message\":\"x\"\n");
	size_t n = strlen(big);
	big[n++] = '{';
	memset(big + n, 'a', NM_EVENT_LINE_MAX + 100);
	n += NM_EVENT_LINE_MAX + 100;
	big[n++] = '\n';
	memcpy(big + n, "{\"a\":\"\0\"}\n", 10); /* a NUL inside */
	n += 10;
	memcpy(big + n, "{\"message\":\"ok3\"}\r\n", 19);
	n += 19;
	spit(dir, NM_EVENT_LOG, big, n);
	free(big);
	rc = read_all(dir, NULL, &s);
	UNIT_CHECK(u, rc == 8 && s.n == 2 && strcmp(s.text, "ok2|ok3") == 0,
		   "garbage: 8 lines that are not events skipped and counted, 2 read (%d: %s)", rc,
		   s.text);
}

static void test_filter(struct unit *u)
{
	const char *dir = state("filter");
	const char *log = "{\"time\":1000.000,\"mountpoint\":\"/mnt/a\",\"message\":\"a1\"}\n"
			  "{\"time\":2000.5,\"mountpoint\":\"/mnt/b\",\"message\":\"b2\"}\n"
			  "{\"time\":3000,\"mountpoint\":\"/mnt/a\",\"message\":\"a3\"}\n"
			  "{\"mountpoint\":\"/mnt/a\",\"message\":\"notime\"}\n"
			  "{\"time\":\"4000\",\"mountpoint\":\"/mnt/a\",\"message\":\"strtime\"}\n";
	struct nm_event_filter f = { 0 };
	struct seen s;

	spit(dir, NM_EVENT_LOG, log, strlen(log));
	f.since_ms = 2000500;
	read_all(dir, &f, &s);
	UNIT_CHECK(u, strcmp(s.text, "b2|a3") == 0, "filter: since (ms, inclusive): %s", s.text);
	f.since_ms = 0;
	f.mountpoint = "/mnt/a";
	read_all(dir, &f, &s);
	UNIT_CHECK(u, strcmp(s.text, "a1|a3|notime|strtime") == 0, "filter: mount: %s", s.text);
	f.since_ms = 1500000;
	read_all(dir, &f, &s);
	UNIT_CHECK(u, strcmp(s.text, "a3") == 0, "filter: both: %s", s.text);
	s.stop_after = 1;
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	nm_event_read(dir, NULL, collect, &s, NULL);
	UNIT_CHECK(u, s.n == 1, "read: the callback stops it");
	UNIT_CHECK(u, read_all(state("nonexistent"), NULL, &s) == 0 && s.n == 0,
		   "read: no directory, no events, no error");
}

/* A write the file system refuses part way (the file size limit here, as
 * a full disk would): the file is as it was. */
static void test_nospace(struct unit *u)
{
	const char *dir = state("nospace");
	struct nm_err err = { 0 };
	char *before, *after;
	size_t lb, la;
	int fds[2], status;
	char msg[600];
	pid_t pid;
	int rc = 0;

	append(dir, "mount", "/mnt/a", "kept", 0, &err);
	before = slurp(dir, NM_EVENT_LOG, &lb);
	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	if (pipe(fds) != 0)
		return;
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = { lb + 100, lb + 100 };

		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		rc = append(dir, "mount", "/mnt/a", msg, 0, &err);
		if (write(fds[1], &rc, sizeof(rc)) != sizeof(rc))
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &rc, sizeof(rc)) != sizeof(rc))
		rc = 1;
	close(fds[0]);
	waitpid(pid, &status, 0);
	after = slurp(dir, NM_EVENT_LOG, &la);
	UNIT_CHECK(u, rc == -EFBIG, "nospace: the append fails (%d)", rc);
	UNIT_CHECK(u, before && after && la == lb && memcmp(before, after, la) == 0,
		   "nospace: the file is as it was (%zu bytes, was %zu)", la, lb);
	free(after);

	/* A real full file system: a tiny tmpfs. */
	dir = state("tmpfs");
	mkdir(dir, 0700);
	if (mount("nm-test", dir, "tmpfs", 0, "size=16k,mode=0700") != 0) {
		printf("ok %d - # SKIP nospace: no tmpfs (%s)\n", ++u->n, strerror(errno));
	} else {
		int ok = 1, n = 0, last = 0;

		while (n < 1000 && (last = append(dir, "mount", "/mnt/a", msg, 1 << 20, &err)) == 0)
			n++;
		free(before);
		before = slurp(dir, NM_EVENT_LOG, &lb);
		struct seen s;

		ok = read_all(dir, NULL, &s) == 0 && s.n == n;
		UNIT_CHECK(u, last == -ENOSPC && ok && lb > 0 && before[lb - 1] == '\n',
			   "nospace: a full tmpfs: ENOSPC (%d) after %d events, all %d read back, "
			   "no partial line",
			   last, n, s.n);
		UNIT_CHECK(u, strstr(err.msg, "event not written") != NULL,
			   "nospace: the error says so: %s", err.msg);
		umount2(dir, MNT_DETACH);
	}
	free(before);
}

static void test_refused(struct unit *u)
{
	const char *dir = state("refused");
	struct nm_err err = { 0 };
	char *msg = malloc(NM_EVENT_LINE_MAX + 10);
	size_t len;
	char *text;
	int rc;

	memset(msg, 'y', NM_EVENT_LINE_MAX + 9);
	msg[NM_EVENT_LINE_MAX + 9] = '\0';
	append(dir, "mount", "/mnt/a", "kept", 0, &err);
	rc = append(dir, "mount", "/mnt/a", msg, 0, &err);
	UNIT_CHECK(u, rc == -EMSGSIZE && strstr(err.msg, "at most"),
		   "refused: a line past the bound: -EMSGSIZE (%d: %s)", rc, err.msg);
	free(msg);
	text = slurp(dir, NM_EVENT_LOG, &len);
	UNIT_CHECK(u, text && count_lines(dir, NM_EVENT_LOG) == 1, "refused: nothing written");
	free(text);

	dir = state("link");
	mkdir(dir, 0700);
	if (symlink(state("link-target"), state("link/events.log")) != 0)
		return;
	rc = append(dir, "mount", "/mnt/a", "x", 0, &err);
	UNIT_CHECK(u, rc == -ELOOP && access(state("link-target"), F_OK) != 0,
		   "refused: events.log a symbolic link: not followed (%d: %s)", rc, err.msg);
	{
		struct json_object *arr = json_object_new_array();

		rc = nm_event_append(dir, arr, 0, &err);
		json_object_put(arr);
		UNIT_CHECK(u, rc == -EINVAL, "refused: an event that is not an object");
	}
}

static void test_parse_line(struct unit *u)
{
	static const struct {
		const char *line;
		int rc;
	} cases[] = {
		{ "{}", 0 },
		{ "{\"a\":1}", 0 },
		{ "{\"a\":1}  ", 0 },
		{ "{\"a\":1}x", -EINVAL },
		{ "{\"a\":1}{}", -EINVAL },
		{ "[]", -EINVAL },
		{ "1", -EINVAL },
		{ "\"s\"", -EINVAL },
		{ "", -EINVAL },
		{ "{", -EINVAL },
		{ "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
		  "]]]]]]]}",
		  -EINVAL }, /* deeper than json-c's limit */
		{ "{\"a\":'x'}", -EINVAL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *o;
		int rc = nm_event_parse_line(cases[i].line, strlen(cases[i].line), &o);

		UNIT_CHECK(u, rc == cases[i].rc && (rc == 0) == (o != NULL),
			   "parse_line: '%s' -> %d", cases[i].line, rc);
		json_object_put(o);
	}
}

static void test_since(struct unit *u)
{
	const int64_t now = 1795600800000; /* 2026-11-25T10:00:00Z */
	static const struct {
		const char *s;
		int rc;
		int64_t ms; /* with TZ=UTC */
	} cases[] = {
		{ "now", 0, 1795600800000 },
		{ "1795000000", 0, 1795000000000 },
		{ "1795000000.5", 0, 1795000000500 },
		{ "1795000000.123", 0, 1795000000123 },
		{ "1795000000.1234", -EINVAL, 0 },
		{ "1795000000.", -EINVAL, 0 },
		{ "30s", 0, 1795600770000 },
		{ "10m", 0, 1795600200000 },
		{ "2h", 0, 1795593600000 },
		{ "1d", 0, 1795514400000 },
		{ "1w", 0, 1794996000000 },
		{ "10x", -EINVAL, 0 },
		{ "10mm", -EINVAL, 0 },
		{ "99999999999d", -EINVAL, 0 },
		{ "2026-11-25", 0, 1795564800000 },
		{ "2026-11-25T10:00", 0, 1795600800000 },
		{ "2026-11-25T10:00:30", 0, 1795600830000 },
		{ "2026-11-25 10:00:30", 0, 1795600830000 },
		{ "2026-11-25T10:00:30Z", 0, 1795600830000 },
		{ "2026-11-25T10", -EINVAL, 0 },
		{ "2026-11-25T25:00", -EINVAL, 0 },
		{ "2026-02-30", -EINVAL, 0 },
		{ "2026-13-01", -EINVAL, 0 },
		{ "1969-12-31", -EINVAL, 0 },
		{ "2026-11-25x", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "-5", -EINVAL, 0 },
		{ "yesterday", -EINVAL, 0 },
		{ "1e9", -EINVAL, 0 },
		/* Each digit where it must be: no sign, blank or short field. */
		{ "2026-+1-05", -EINVAL, 0 },
		{ "2026- 1-05", -EINVAL, 0 },
		{ "2026-1-05", -EINVAL, 0 },
		{ "+026-11-05", -EINVAL, 0 },
		{ "2026-11-+5", -EINVAL, 0 },
		{ "2026-11-25T 1:00", -EINVAL, 0 },
		{ "2026-11-25T+1:00", -EINVAL, 0 },
		{ "2026-11-25T10:-1", -EINVAL, 0 },
		{ "2026-11-25T10:00: 1", -EINVAL, 0 },
		{ "2026-11-25T10:00:+1", -EINVAL, 0 },
		{ "2026-11-25T10:00:1", -EINVAL, 0 },
		{ "2026-11-25T10:00:60", -EINVAL, 0 },
		{ "2026-11-25T10:00:59", 0, 1795600859000 },
	};

	setenv("TZ", "UTC", 1);
	tzset();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ms = -1;
		int rc = nm_event_parse_since(cases[i].s, now, &ms);

		UNIT_CHECK(u, rc == cases[i].rc && (rc < 0 || ms == cases[i].ms),
			   "since: '%s' -> %d %lld", cases[i].s, rc, (long long)ms);
	}
	/* A local date is local: in Paris, midnight is 23:00 UTC the day before. */
	setenv("TZ", "Europe/Paris", 1);
	tzset();
	{
		int64_t ms = -1;

		UNIT_CHECK(u,
			   nm_event_parse_since("2026-11-25", now, &ms) == 0 &&
				   ms == 1795564800000 - 3600000,
			   "since: a date in the local time zone (%lld)", (long long)ms);
		/* 02:30 on the day the clocks go forward does not exist. */
		UNIT_CHECK(u, nm_event_parse_since("2026-03-29T02:30", now, &ms) == -EINVAL,
			   "since: a local time skipped by DST is refused");
		UNIT_CHECK(u,
			   nm_event_parse_since("2026-03-29T03:30", now, &ms) == 0 &&
				   ms == 1774747800000,
			   "since: the hour after it is not (%lld)", (long long)ms);
		/* 02:30 on the day they go back exists (twice): taken. */
		UNIT_CHECK(u, nm_event_parse_since("2026-10-25T02:30", now, &ms) == 0,
			   "since: an ambiguous local time is taken");
	}
	unsetenv("TZ");
	tzset();
}

/* --- follow ---------------------------------------------------------------- */

/* Each event's message once; stops at the 301st. */
struct count {
	char seen[2][150];
	int n, twice, rotations_seen;
};

static int count_each(struct json_object *ev, void *arg)
{
	struct count *c = arg;
	struct json_object *m;
	int w, i;

	c->n++;
	if (json_object_object_get_ex(ev, "message", &m) &&
	    sscanf(json_object_get_string(m), "w%d-%d", &w, &i) == 2 && w >= 0 && w < 2 && i >= 0 &&
	    i < 150) {
		if (c->seen[w][i]++)
			c->twice++;
	}
	if (c->n == 200)
		c->rotations_seen = access(state("follow-busy/events.log.1"), F_OK) == 0;
	return c->n >= 301;
}

static void test_follow(struct unit *u)
{
	const char *dir = state("follow");
	struct nm_err err = { 0 };
	struct seen s = { .stop_after = 0 };
	int64_t t0;
	pid_t pid;
	int rc, status;

	append(dir, "mount", "/mnt/a", "old", 0, &err);
	/* A writer appends after a while, rotating on the way (300 bytes). */
	pid = fork();
	if (pid == 0) {
		char msg[16];

		for (int i = 0; i < 6; i++) {
			nm_time_sleep_ms(50);
			snprintf(msg, sizeof(msg), "new%d", i);
			append(dir, "mount", i == 3 ? "/mnt/b" : "/mnt/a", msg, 300, NULL);
		}
		_exit(0);
	}
	memset(&s, 0, sizeof(s));
	s.stop_after = 6; /* old, and five of /mnt/a */
	struct nm_event_filter f = { .mountpoint = "/mnt/a" };

	t0 = nm_time_ms();
	rc = nm_event_follow(dir, &f, collect, &s, -1, 5000, &err);
	waitpid(pid, &status, 0);
	UNIT_CHECK(u,
		   rc == 0 && strcmp(s.text, "old|new0|new1|new2|new4|new5") == 0 &&
			   nm_time_ms() - t0 < 4000,
		   "follow: history then new events as written, across a rotation (%d: %s)", rc,
		   s.text);

	/* Nothing comes: the time limit ends it; the stop fd too. */
	memset(&s, 0, sizeof(s));
	f.mountpoint = "/mnt/none";
	t0 = nm_time_ms();
	rc = nm_event_follow(dir, &f, collect, &s, -1, 300, &err);
	UNIT_CHECK(u, rc == 0 && s.n == 0 && nm_time_ms() - t0 >= 280 && nm_time_ms() - t0 < 2000,
		   "follow: ends at its time limit");
	int p[2];

	if (pipe(p) == 0) {
		pid = fork();
		if (pid == 0) {
			nm_time_sleep_ms(200);
			if (write(p[1], "x", 1) != 1)
				_exit(1);
			_exit(0);
		}
		t0 = nm_time_ms();
		rc = nm_event_follow(dir, &f, collect, &s, p[0], -1, &err);
		waitpid(pid, &status, 0);
		UNIT_CHECK(u, rc == 0 && nm_time_ms() - t0 < 2000, "follow: the stop fd ends it");
		close(p[0]);
		close(p[1]);
	}

	/* Two writers, rotations on the way: each event followed once. */
	dir = state("follow-busy");
	append(dir, "mount", "/mnt/a", "start", 0, &err);
	for (int w = 0; w < 2; w++) {
		if (fork() == 0) {
			char msg[16];

			for (int i = 0; i < 150; i++) {
				snprintf(msg, sizeof(msg), "w%d-%03d", w, i);
				append(dir, "mount", "/mnt/a", msg, 8000, NULL);
				nm_time_sleep_ms(1);
			}
			_exit(0);
		}
	}
	{
		struct count c = { 0 };

		rc = nm_event_follow(dir, NULL, count_each, &c, -1, 10000, &err);
		while (wait(&status) > 0)
			;
		UNIT_CHECK(u, rc == 0 && c.n == 301 && c.twice == 0 && c.rotations_seen,
			   "follow: two busy writers, rotating: %d of 301 events, %d twice", c.n,
			   c.twice);
	}

	/* events.log.1 ends in a torn line longer than any event: the log's
	 * first line is still read. */
	dir = state("follow3");
	{
		size_t n = NM_EVENT_LINE_MAX + 100;
		char *t = malloc(n);

		memset(t, 'a', n);
		t[0] = '{';
		spit(dir, NM_EVENT_LOG_OLD, t, n);
		free(t);
	}
	spit(dir, NM_EVENT_LOG, "{\"message\":\"first\"}\n", 20);
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	rc = nm_event_follow(dir, NULL, collect, &s, -1, 300, &err);
	UNIT_CHECK(u, rc == 0 && strcmp(s.text, "first") == 0,
		   "follow: a long torn line ending events.log.1 takes nothing of the log (%s)",
		   s.text);
	memset(&s, 0, sizeof(s));
	read_all(dir, NULL, &s);
	UNIT_CHECK(u, strcmp(s.text, "first") == 0, "read: the same (%s)", s.text);

	/* A line written in two parts is handed on whole, once. */
	dir = state("follow2");
	mkdir(dir, 0700);
	spit(dir, NM_EVENT_LOG, "", 0);
	pid = fork();
	if (pid == 0) {
		char path[512];
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, NM_EVENT_LOG);
		fd = open(path, O_WRONLY | O_APPEND);
		nm_time_sleep_ms(100);
		if (write(fd, "{\"message\":\"sp", 14) != 14)
			_exit(1);
		nm_time_sleep_ms(100);
		if (write(fd, "lit\"}\n", 6) != 6)
			_exit(1);
		_exit(0);
	}
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	rc = nm_event_follow(dir, NULL, collect, &s, -1, 3000, &err);
	waitpid(pid, &status, 0);
	UNIT_CHECK(u, rc == 0 && s.n == 1 && strcmp(s.text, "split") == 0,
		   "follow: a line written in parts, read once whole (%s)", s.text);
}

/* A line to the log by hand (as an append cut short would leave it). */
static void add_raw(const char *dir, const char *text)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, NM_EVENT_LOG);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		perror(path);
	if (fd >= 0)
		close(fd);
}

static off_t size_of(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* The log truncated in place, cut back by a failed append, removed without
 * a rotation; a state directory that comes later; the output gone. */
static void test_follow_changes(struct unit *u)
{
	struct nm_err err = { 0 };
	struct seen s;
	char path[512];
	pid_t pid;
	int rc, status;

	/* Truncated in place (`: >events.log`): what comes after is read
	 * from its start. */
	const char *dir = state("follow-trunc");

	append(dir, "mount", "/mnt/a", "a1", 0, &err);
	append(dir, "mount", "/mnt/a", "a2", 0, &err);
	pid = fork();
	if (pid == 0) {
		nm_time_sleep_ms(300);
		snprintf(path, sizeof(path), "%s/%s", dir, NM_EVENT_LOG);
		if (truncate(path, 0) < 0)
			_exit(1);
		nm_time_sleep_ms(300);
		append(dir, "mount", "/mnt/a", "after truncation 1", 0, NULL);
		nm_time_sleep_ms(100);
		append(dir, "mount", "/mnt/a", "t2", 0, NULL);
		_exit(0);
	}
	memset(&s, 0, sizeof(s));
	s.stop_after = 4;
	rc = nm_event_follow(dir, NULL, collect, &s, -1, 5000, &err);
	waitpid(pid, &status, 0);
	UNIT_CHECK(u, rc == 0 && strcmp(s.text, "a1|a2|after truncation 1|t2") == 0,
		   "follow: across a truncation in place (%d: %s)", rc, s.text);

	/* An append cut back (its write failed after the line was read):
	 * read on from where it was cut, nothing before it twice. */
	dir = state("follow-cut");
	append(dir, "mount", "/mnt/a", "b1", 0, &err);
	append(dir, "mount", "/mnt/a", "b2", 0, &err);
	pid = fork();
	if (pid == 0) {
		off_t size = size_of(dir, NM_EVENT_LOG);

		nm_time_sleep_ms(300);
		add_raw(dir, "{\"message\":\"cut back later\"}\n");
		nm_time_sleep_ms(300);
		snprintf(path, sizeof(path), "%s/%s", dir, NM_EVENT_LOG);
		if (truncate(path, size) < 0)
			_exit(1);
		nm_time_sleep_ms(300);
		append(dir, "mount", "/mnt/a", "b3", 0, NULL);
		_exit(0);
	}
	memset(&s, 0, sizeof(s));
	s.stop_after = 5;
	rc = nm_event_follow(dir, NULL, collect, &s, -1, 2500, &err);
	waitpid(pid, &status, 0);
	UNIT_CHECK(u, rc == 0 && strcmp(s.text, "b1|b2|cut back later|b3") == 0,
		   "follow: past an append cut back (%d: %s)", rc, s.text);

	/* events.log removed, not rotated: the new log is read, and
	 * events.log.1 (read already) not again. */
	dir = state("follow-rm");
	spit(dir, NM_EVENT_LOG_OLD, "{\"message\":\"old1\"}\n", 19);
	append(dir, "mount", "/mnt/a", "cur1", 0, &err);
	pid = fork();
	if (pid == 0) {
		nm_time_sleep_ms(300);
		snprintf(path, sizeof(path), "%s/%s", dir, NM_EVENT_LOG);
		unlink(path);
		append(dir, "mount", "/mnt/a", "new1", 0, NULL);
		_exit(0);
	}
	memset(&s, 0, sizeof(s));
	rc = nm_event_follow(dir, NULL, collect, &s, -1, 1500, &err);
	waitpid(pid, &status, 0);
	UNIT_CHECK(u, rc == 0 && strcmp(s.text, "old1|cur1|new1") == 0,
		   "follow: the log removed: events.log.1 not shown twice (%d: %s)", rc, s.text);

	/* The state directory (and its parent) made after the follow began. */
	dir = state("follow-later/state");
	pid = fork();
	if (pid == 0) {
		nm_time_sleep_ms(300);
		mkdir(state("follow-later"), 0700);
		nm_time_sleep_ms(300);
		append(dir, "mount", "/mnt/a", "first ever", 0, NULL);
		_exit(0);
	}
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	rc = nm_event_follow(dir, NULL, collect, &s, -1, 5000, &err);
	waitpid(pid, &status, 0);
	UNIT_CHECK(u, rc == 0 && strcmp(s.text, "first ever") == 0,
		   "follow: a state directory not there yet is waited for (%d: %s %s)", rc, s.text,
		   rc < 0 ? err.msg : "");

	/* The output's reader gone (`events -f | head -1`): it stops. */
	int p[2];

	if (pipe(p) == 0) {
		int64_t t0 = nm_time_ms();

		pid = fork();
		if (pid == 0) {
			close(p[1]);
			nm_time_sleep_ms(200);
			_exit(0);
		}
		close(p[0]);
		memset(&s, 0, sizeof(s));
		rc = nm_event_follow_out(dir, NULL, collect, &s, -1, p[1], 5000, &err);
		waitpid(pid, &status, 0);
		UNIT_CHECK(u, rc == 0 && nm_time_ms() - t0 < 2000,
			   "follow: stops when its output's reader is gone (%lld ms)",
			   (long long)(nm_time_ms() - t0));
		close(p[1]);
	}

	/* A torn last line of events.log.1 is skipped for good: counted. */
	dir = state("torn-old");
	spit(dir, NM_EVENT_LOG_OLD, "{\"message\":\"o1\"}\n{\"mess", 23);
	spit(dir, NM_EVENT_LOG, "{\"message\":\"n1\"}\n", 17);
	rc = read_all(dir, NULL, &s);
	UNIT_CHECK(u, rc == 1 && strcmp(s.text, "o1|n1") == 0,
		   "read: a torn last line of events.log.1 is counted (%d: %s)", rc, s.text);
}

/* A writer stuck holding the lock blocks another only so long. */
static void test_lock_wait(struct unit *u)
{
	const char *dir = state("lock");
	struct nm_err err = { 0 };
	char path[512], c;
	int p[2], rc, status;
	int64_t t0, ms;
	pid_t pid;

	append(dir, "mount", "/mnt/a", "before", 0, &err);
	snprintf(path, sizeof(path), "%s/%s", dir, NM_EVENT_LOCK);
	if (pipe(p) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_RDWR | O_CLOEXEC);

		if (fd < 0 || flock(fd, LOCK_EX) < 0 || write(p[1], "x", 1) != 1)
			_exit(1);
		nm_time_sleep_ms(NM_EVENT_LOCK_WAIT_MS + 3000);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		c = 0;
	close(p[0]);
	t0 = nm_time_ms();
	rc = append(dir, "mount", "/mnt/a", "blocked", 0, &err);
	ms = nm_time_ms() - t0;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	UNIT_CHECK(u,
		   c == 'x' && rc == -EAGAIN && strstr(err.msg, "held by another writer") &&
			   ms >= NM_EVENT_LOCK_WAIT_MS - 100 && ms < NM_EVENT_LOCK_WAIT_MS + 2000,
		   "lock: a stuck writer blocks another %lld ms at most, then -EAGAIN (%d: %s)",
		   (long long)ms, rc, err.msg);
	rc = append(dir, "mount", "/mnt/a", "after", 0, &err);
	{
		struct seen s;

		read_all(dir, NULL, &s);
		UNIT_CHECK(u, rc == 0 && strcmp(s.text, "before|after") == 0,
			   "lock: nothing written by the refused one (%s)", s.text);
	}
}

/* The callback of a follow that, at "a2", lets another process rewrite the
 * log (through two pipes) before it returns. */
struct stall {
	struct seen s;
	int go, done;
};

static int stall_at_a2(struct json_object *ev, void *arg)
{
	struct stall *st = arg;
	int rc = collect(ev, &st->s);
	char c;

	if (strcmp(st->s.text, "a1|a2") == 0) {
		if (write(st->go, "x", 1) != 1 || read(st->done, &c, 1) != 1)
			return -EIO;
	}
	return rc;
}

/* Truncated and grown again past where the follower was, while its
 * callback ran: read again from the start, nothing lost. */
static void test_follow_rewritten(struct unit *u)
{
	const char *dir = state("follow-rewrite");
	struct nm_err err = { 0 };
	struct stall st;
	char path[512], c;
	int go[2], done[2], rc, status;
	pid_t pid;

	append(dir, "mount", "/mnt/a", "a1", 0, &err);
	append(dir, "mount", "/mnt/a", "a2", 0, &err);
	if (pipe(go) < 0 || pipe(done) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(done[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		snprintf(path, sizeof(path), "%s/%s", dir, NM_EVENT_LOG);
		if (truncate(path, 0) < 0)
			_exit(1);
		append(dir, "mount", "/mnt/a", "rewritten, and longer 1", 0, NULL);
		append(dir, "mount", "/mnt/a", "rewritten, and longer 2", 0, NULL);
		if (write(done[1], "x", 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	close(done[1]);
	memset(&st, 0, sizeof(st));
	st.go = go[1];
	st.done = done[0];
	st.s.stop_after = 4;
	rc = nm_event_follow(dir, NULL, stall_at_a2, &st, -1, 3000, &err);
	waitpid(pid, &status, 0);
	close(go[1]);
	close(done[0]);
	UNIT_CHECK(u,
		   rc == 0 && strcmp(st.s.text,
				     "a1|a2|rewritten, and longer 1|rewritten, and longer 2") == 0,
		   "follow: truncated and grown past the offset meanwhile: read again (%d: %s)", rc,
		   st.s.text);
}

static void test_conf(struct unit *u)
{
	struct nm_conf c;
	struct nm_err err = { 0 };
	char path[256];
	FILE *f;
	int rc;

	nm_conf_defaults(&c);
	UNIT_CHECK(u,
		   c.event_max_bytes == NM_EVENT_MAX_BYTES && c.hook_timeout_ms == 10000 &&
			   strcmp(c.hooks_dir, "/etc/nfsmig/hooks.d") == 0,
		   "conf: defaults");
	snprintf(path, sizeof(path), "%s/nfsmig.conf", top);
	f = fopen(path, "we");
	fputs("[events]\nmax_bytes = 64K\n[hooks]\ndir = /srv/hooks\ntimeout = 2.5\n", f);
	fclose(f);
	rc = nm_conf_load(&c, path, false, &err);
	UNIT_CHECK(u,
		   rc == 0 && c.event_max_bytes == 65536 && c.hook_timeout_ms == 2500 &&
			   strcmp(c.hooks_dir, "/srv/hooks") == 0,
		   "conf: [events] and [hooks] read (%s)", err.msg);
	f = fopen(path, "we");
	fputs("[events]\nmax_bytes = 100\n", f);
	fclose(f);
	rc = nm_conf_load(&c, path, false, &err);
	UNIT_CHECK(u, rc == -EINVAL && strstr(err.msg, ":2: max_bytes"),
		   "conf: a bound below 64K refused: %s", err.msg);
}

/* The /etc/nfsmig.conf the package ships, every key uncommented: each
 * example parses. */
static void test_shipped_conf(struct unit *u)
{
	const char *fx = getenv("NM_FIXTURES");
	char src[512], path[256], line[512];
	struct nm_conf c;
	struct nm_err err = { 0 };
	FILE *in, *out;
	int keys = 0, rc;
	size_t n;

	snprintf(src, sizeof(src), "%s/../../debian/conf/nfsmig.conf", fx ? fx : "tests/fixtures");
	snprintf(path, sizeof(path), "%s/shipped.conf", top);
	in = fopen(src, "re");
	out = fopen(path, "we");
	UNIT_CHECK(u, in && out, "shipped conf: %s opened", src);
	if (!in || !out) {
		if (in)
			fclose(in);
		if (out)
			fclose(out);
		return;
	}
	while (fgets(line, sizeof(line), in)) {
		/* "# key = value": a key, shown commented. */
		n = strspn(line + 2, "abcdefghijklmnopqrstuvwxyz_");
		if (strncmp(line, "# ", 2) == 0 && n > 0 && strncmp(line + 2 + n, " = ", 3) == 0) {
			fputs(line + 2, out);
			keys++;
		} else {
			fputs(line, out);
		}
	}
	fclose(in);
	fclose(out);
	nm_conf_defaults(&c);
	rc = nm_conf_load(&c, path, false, &err);
	UNIT_CHECK(u, keys >= 20 && rc == 0, "shipped conf: its %d keys uncommented parse (%s)",
		   keys, err.msg);
}

int main(void)
{
	struct unit u = { 0 };
	char cmd[300];

	unit_start();
	if (!mkdtemp(top))
		return 1;
	test_parse_line(&u);
	test_since(&u);
	test_append(&u);
	test_hostile(&u);
	test_rotate(&u);
	test_torn_and_garbage(&u);
	test_filter(&u);
	test_nospace(&u);
	test_refused(&u);
	test_follow(&u);
	test_follow_changes(&u);
	test_follow_rewritten(&u);
	test_lock_wait(&u);
	test_conf(&u);
	test_shipped_conf(&u);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	if (system(cmd) != 0)
		return 1;
	return unit_done(&u);
}
