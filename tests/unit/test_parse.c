/* Parsers of libcore: paths, SERVER:/PATH targets, mount table entries,
 * mountstats (fixtures written by the real kernel in tests/vm). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nm_esc.h"
#include "nm_fsloc.h"
#include "nm_json.h"
#include "nm_mount.h"
#include "nm_mstats.h"
#include "nm_path.h"
#include "nm_served.h"
#include "nm_target.h"
#include "unit.h"

static char *fixture(const char *name)
{
	const char *dir = getenv("NM_FIXTURES");
	char *s = NULL;

	if (asprintf(&s, "%s/%s", dir ? dir : "tests/fixtures", name) < 0)
		return NULL;
	return s;
}

static void test_paths(struct unit *u)
{
	struct nm_path p;
	struct nm_err err = { 0 };
	char *s, big[600];

	UNIT_CHECK(u,
		   nm_path_split("/a//b/./c/../d/", &p, &err) == 0 && p.n == 3 &&
			   strcmp(p.comp[0], "a") == 0 && strcmp(p.comp[2], "d") == 0,
		   "path: /a//b/./c/../d/ -> a b d");
	s = nm_path_join(&p, p.n);
	UNIT_CHECK(u, s && strcmp(s, "/a/b/d") == 0, "path: joins back to /a/b/d");
	free(s);
	s = nm_path_join(&p, 0);
	UNIT_CHECK(u, s && strcmp(s, "/") == 0, "path: no components is /");
	free(s);
	nm_path_free(&p);
	UNIT_CHECK(u, nm_path_split("/../..", &p, &err) == 0 && p.n == 0,
		   "path: .. stops at the root");
	nm_path_free(&p);
	UNIT_CHECK(u, nm_path_split("relative", &p, &err) == -EINVAL && err.msg[0],
		   "path: a relative path is refused: %s", err.msg);
	memset(big, 'x', sizeof(big));
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	UNIT_CHECK(u, nm_path_split(big, &p, &err) == -ENAMETOOLONG,
		   "path: a 598-byte component is refused: %s", err.msg);
	{
		char deep[2 * 200 + 1];

		for (int i = 0; i < 200; i++)
			memcpy(deep + 2 * i, "/d", 2);
		deep[400] = '\0';
		UNIT_CHECK(u, nm_path_split(deep, &p, &err) == -ENAMETOOLONG,
			   "path: 200 components are refused: %s", err.msg);
	}
	s = nm_path_printable("a\nb\\", 4);
	UNIT_CHECK(u, s && strcmp(s, "a\\x0ab\\x5c") == 0,
		   "path: control bytes from the wire are escaped (%s)", s);
	free(s);
}

static void test_targets(struct unit *u)
{
	struct nm_target t;
	struct nm_err err = { 0 };

	UNIT_CHECK(u,
		   nm_target_is_remote("srv:/x") && !nm_target_is_remote("/mnt/x") &&
			   !nm_target_is_remote("./a:/b") && !nm_target_is_remote("plain"),
		   "target: remote or local");
	UNIT_CHECK(u,
		   nm_target_parse("srv1.example:/export/a", &t, &err) == 0 &&
			   strcmp(t.host, "srv1.example") == 0 && t.port == 0 &&
			   strcmp(t.path, "/export/a") == 0,
		   "target: host:/path");
	nm_target_free(&t);
	UNIT_CHECK(u,
		   nm_target_parse("192.0.2.1:2050:/e", &t, &err) == 0 &&
			   strcmp(t.host, "192.0.2.1") == 0 && t.port == 2050,
		   "target: address:port:/path");
	nm_target_free(&t);
	UNIT_CHECK(u,
		   nm_target_parse("[2001:db8::12]:/e", &t, &err) == 0 &&
			   strcmp(t.host, "2001:db8::12") == 0 && t.port == 0,
		   "target: [v6]:/path");
	nm_target_free(&t);
	UNIT_CHECK(u, nm_target_parse("[2001:db8::12]:2049:/e", &t, &err) == 0 && t.port == 2049,
		   "target: [v6]:port:/path");
	nm_target_free(&t);
	UNIT_CHECK(u, nm_target_parse("2001:db8::12:/e", &t, &err) == -EINVAL,
		   "target: bare v6 is refused: %s", err.msg);
	UNIT_CHECK(u, nm_target_parse("srv:99999:/e", &t, &err) == -EINVAL,
		   "target: port 99999 is refused: %s", err.msg);
	UNIT_CHECK(u, nm_target_parse("srv:0:/e", &t, &err) == -EINVAL,
		   "target: port 0 is refused");
	UNIT_CHECK(u, nm_target_parse("s;rm -rf:/e", &t, &err) == -EINVAL,
		   "target: shell characters in a host are refused: %s", err.msg);
	UNIT_CHECK(u, nm_target_parse("[::1:/e", &t, &err) == -EINVAL,
		   "target: unclosed bracket is refused");
}

/* Server names a record keeps as they are, and those it keeps escaped. */
static void test_host_names(struct unit *u)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
		{ "srv2.nfsmig.test", true },
		{ "srv2.nfsmig.test.", true },
		{ "a", true },
		{ "3com.example", true },
		{ "x-1.example", true },
		{ "192.0.2.12", true },
		{ "2001:db8::12", true },
		{ "::1", true },
		{ "::ffff:192.0.2.1", true },
		{ "", false },
		{ ".", false },
		{ "a..b", false },
		{ ".a", false },
		{ "-a.example", false },
		{ "a-.example", false },
		{ "under_score.example", false },
		{ "$(touch /tmp/x)", false },
		{ "`touch /tmp/x`", false },
		{ "a b", false },
		{ "\x1b[31mred", false },
		{ "\033[31mred", false },
		{ "srv;reboot", false },
		{ "srv\nfake", false },
		{ "1.2.3", false },
		{ "300.1.1.1", false },
		{ "123", false },
		{ "1.2.3.4.", false },
		{ "300.1.1.1.", false },
		{ "123.", false },
		{ "0x7f.1", false },
		{ "0x7f000001", false },
		{ "0X7F000001", false },
		{ "0x10.0.0.1", false },
		{ "a.0x1f", false },
		{ "srv.1", false },
		{ "0x.example", true },
		{ "srv.0xample", true },
		{ "srv.0x", false },
		{ "srv.0xff.", false },
		{ "1.example", true },
		{ "[2001:db8::12]", false },
		{ "fe80::1%eth0", false },
		{ "2001:db8::12:/x", false },
		{ "caf\xc3\xa9.example", false },
		{ "srv/x", false },
	};
	char label64[80], long254[300];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char shown[128];

		UNIT_CHECK(u, nm_target_host_name_ok(cases[i].name) == cases[i].ok,
			   "host name: '%s' %s", nm_esc_buf(cases[i].name, 0, shown, sizeof(shown)),
			   cases[i].ok ? "is kept as it is" : "is not a host name");
	}
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".example");
	UNIT_CHECK(u, !nm_target_host_name_ok(label64), "host name: a 64-byte label is too long");
	UNIT_CHECK(u, nm_target_host_name_ok(label64 + 1), "host name: a 63-byte label is fine");
	for (int i = 0; i < 127; i++)
		memcpy(long254 + 2 * i, "a.", 2);
	long254[253] = '\0';
	UNIT_CHECK(u, nm_target_host_name_ok(long254), "host name: 253 bytes are fine");
	long254[253] = 'a';
	long254[254] = '\0';
	UNIT_CHECK(u, !nm_target_host_name_ok(long254), "host name: 254 bytes are too long");
	UNIT_CHECK(u, !nm_target_host_name_ok(NULL), "host name: NULL is none");
}

/* What reaches a terminal: printable UTF-8 as it is, everything else \xNN. */
static void test_escape(struct unit *u)
{
	static const struct {
		const char *in;
		size_t len;
		unsigned flags;
		const char *out;
	} cases[] = {
		{ "plain /export/a b", 0, 0, "plain /export/a b" },
		{ "\x1b[31mred\x1b[0m", 0, 0, "\\x1b[31mred\\x1b[0m" },
		{ "a\nb\rc\td", 0, 0, "a\\x0ab\\x0dc\\x09d" },
		{ "a\nb", 0, NM_ESC_NEWLINE, "a\nb" },
		{ "del\x7f", 0, 0, "del\\x7f" },
		{ "back\\slash", 0, 0, "back\\slash" },
		{ "back\\slash", 0, NM_ESC_BACKSLASH, "back\\x5cslash" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0, 0,
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		/* 8-bit CSI, raw and as U+009B */
		{ "\x9b"
		  "31m",
		  0, 0, "\\x9b31m" },
		{ "\xc2\x9b"
		  "31m",
		  0, 0, "\\xc2\\x9b31m" },
		/* invalid: a lone continuation, overlong, surrogate, too high, cut */
		{ "a\x80z", 0, 0, "a\\x80z" },
		{ "\xc0\xaf", 0, 0, "\\xc0\\xaf" },
		{ "\xed\xa0\x80", 0, 0, "\\xed\\xa0\\x80" },
		{ "\xf4\x90\x80\x80", 0, 0, "\\xf4\\x90\\x80\\x80" },
		{ "\xe2\x82", 0, 0, "\\xe2\\x82" },
		/* right-to-left override, zero-width space */
		{ "a\xe2\x80\xae"
		  "b\xe2\x80\x8b",
		  0, 0, "a\\xe2\\x80\\xaeb\\xe2\\x80\\x8b" },
		/* the rest of category Cf: U+061C, U+2060, U+2064, U+206A,
		 * U+206F, U+00AD, U+FFF9, U+FFFB, U+180E, tags U+E0001/U+E007F;
		 * U+2065 (unassigned) and U+00AE stay */
		{ "\xd8\x9c\xe2\x81\xa0\xe2\x81\xa4\xe2\x81\xaa\xe2\x81\xaf", 0, 0,
		  "\\xd8\\x9c\\xe2\\x81\\xa0\\xe2\\x81\\xa4\\xe2\\x81\\xaa\\xe2\\x81\\xaf" },
		{ "\xc2\xad\xef\xbf\xb9\xef\xbf\xbb\xe1\xa0\x8e", 0, 0,
		  "\\xc2\\xad\\xef\\xbf\\xb9\\xef\\xbf\\xbb\\xe1\\xa0\\x8e" },
		{ "\xf3\xa0\x80\x81\xf3\xa0\x81\xbf", 0, 0,
		  "\\xf3\\xa0\\x80\\x81\\xf3\\xa0\\x81\\xbf" },
		{ "\xe2\x81\xa5\xc2\xae\xef\xbf\xbd", 0, 0, "\xe2\x81\xa5\xc2\xae\xef\xbf\xbd" },
		{ "a\0b", 3, 0, "a\\x00b" },
		{ "$(touch /tmp/x)", 0, 0, "$(touch /tmp/x)" },
		{ "$(touch /tmp/x)", 0, NM_ESC_SHELL, "\\x24\\x28touch\\x20\\x2ftmp\\x2fx\\x29" },
		{ "`id`;a b\\", 0, NM_ESC_SHELL, "\\x60id\\x60\\x3ba\\x20b\\x5c" },
		{ "srv-2.example:_", 0, NM_ESC_SHELL, "srv-2.example:_" },
		{ "caf\xc3\xa9", 0, NM_ESC_SHELL, "caf\\xc3\\xa9" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		char *s = nm_esc(cases[i].in, len, cases[i].flags), buf[128], shown[128];

		UNIT_CHECK(u, s && strcmp(s, cases[i].out) == 0, "escape %zu: '%s' -> '%s'", i,
			   nm_esc_buf(cases[i].out, 0, shown, sizeof(shown)),
			   s ? nm_esc_buf(s, 0, buf, sizeof(buf)) : "(null)");
		if (cases[i].len == 0) {
			UNIT_CHECK(u,
				   strcmp(nm_esc_buf(cases[i].in, cases[i].flags, buf, sizeof(buf)),
					  cases[i].out) == 0 &&
					   nm_esc_needed(cases[i].in, cases[i].flags) ==
						   (strcmp(cases[i].in, cases[i].out) != 0),
				   "escape %zu: the same into a buffer", i);
		}
		/* Escaped text is shown as it is: escaping twice changes nothing. */
		if (s && !(cases[i].flags & (NM_ESC_BACKSLASH | NM_ESC_SHELL))) {
			char *t = nm_esc(s, strlen(s), cases[i].flags);

			UNIT_CHECK(u, t && strcmp(t, s) == 0, "escape %zu: escaping twice is once",
				   i);
			free(t);
		}
		free(s);
	}
	{
		char small[6];

		UNIT_CHECK(u, strcmp(nm_esc_buf("\x1b\x1b", 0, small, sizeof(small)), "\\x1b") == 0,
			   "escape: a short buffer is cut at an escape's edge");
	}
	for (unsigned c = 0; c < 256; c++) {
		char in[2] = { (char)c, 0 }, *s = nm_esc(in, 1, 0);
		bool plain = c >= 0x20 && c < 0x7f;

		if (!s || (plain ? strcmp(s, in) != 0 : (strlen(s) != 4 || s[0] != '\\'))) {
			UNIT_CHECK(u, 0, "escape: byte 0x%02x alone", c);
			free(s);
			break;
		}
		free(s);
		if (c == 255)
			UNIT_CHECK(
				u, 1,
				"escape: every byte alone: printable ASCII as it is, else \\xNN");
	}
}

/* What a record keeps of an fs_locations server, and what it offers back. */
static void test_location_names(struct unit *u)
{
	static const struct {
		const char *server, *kept, *host;
	} cases[] = {
		{ "srv5.nfsmig.test", "srv5.nfsmig.test:/export/a", "srv5.nfsmig.test" },
		{ "192.0.2.15", "192.0.2.15:/export/a", "192.0.2.15" },
		{ "2001:db8::15", "[2001:db8::15]:/export/a", "2001:db8::15" },
		{ "$(touch /tmp/x)", "\\x24\\x28touch\\x20\\x2ftmp\\x2fx\\x29:/export/a", NULL },
		{ "`id`", "\\x60id\\x60:/export/a", NULL },
		{ "a b", "a\\x20b:/export/a", NULL },
		{ "\x1b[31mred", "\\x1b\\x5b31mred:/export/a", NULL },
		{ "a:b", "\\x61:b:/export/a", NULL },
		{ "-x", "\\x2dx:/export/a", NULL },
	};
	utf8str_cs comps[2] = { { 6, "export" }, { 1, "a" } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		utf8str_cis name = { (unsigned)strlen(cases[i].server), (char *)cases[i].server };
		fs_location4 l = { .server = { 1, &name }, .rootpath = { 2, comps } };
		char *kept = nm_fsloc_location_string(&l, 0), shown[128];
		char *host = kept ? nm_fsloc_location_host(kept) : NULL;

		UNIT_CHECK(u, kept && strcmp(kept, cases[i].kept) == 0, "location %zu: kept as %s",
			   i, kept ? nm_esc_buf(kept, 0, shown, sizeof(shown)) : "(null)");
		UNIT_CHECK(u,
			   cases[i].host ? host && strcmp(host, cases[i].host) == 0 : host == NULL,
			   "location %zu: %s", i,
			   cases[i].host ? "its host is offered" : "no host is offered");
		free(kept);
		free(host);
	}
	/* Records written before, or by hand. */
	UNIT_CHECK(u, nm_fsloc_location_host("$(touch /tmp/x):/export") == NULL,
		   "location: a raw command substitution in a record is not a host");
	{
		char *h = nm_fsloc_location_host("srv:/a:/b");

		UNIT_CHECK(u, h && strcmp(h, "srv") == 0, "location: the host ends at the first /");
		free(h);
	}
	{
		char *s = nm_fsloc_server("srv\0evil", 8);

		UNIT_CHECK(u, s && strcmp(s, "srv\\x00evil") == 0,
			   "location: a NUL in a name is escaped, not a cut (%s)",
			   s ? s : "(null)");
		free(s);
	}
	/* All-numeric names nm_target_host_name_ok rejects, which getaddrinfo
	 * would read as addresses: stored with a backslash, never matched. */
	static const char *const numeric[] = { "192.0.513", "10.0.3", "127.1", "3221226241" };

	for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++) {
		char *s = nm_fsloc_server(numeric[i], strlen(numeric[i]));
		char loc[64], *h;

		UNIT_CHECK(u, s && strchr(s, '\\') && !nm_target_host_name_ok(s),
			   "location: the rejected name %s is kept with a backslash (%s)",
			   numeric[i], s ? s : "(null)");
		free(s);
		UNIT_CHECK(u,
			   !nm_served_by(numeric[i], "192.0.2.1", 1000) &&
				   !nm_served_by(numeric[i], "10.0.0.3", 1000) &&
				   !nm_served_by(numeric[i], "127.0.0.1", 1000),
			   "location: the rejected name %s matches no address", numeric[i]);
		snprintf(loc, sizeof(loc), "%s:/evil", numeric[i]);
		h = nm_served_location_server(loc);
		UNIT_CHECK(u, h == NULL, "location: %s has no server to match (%s)", loc,
			   h ? h : "(null)");
		free(h);
	}
}

/* JSON strings are valid UTF-8 whatever the bytes. */
static void test_json(struct unit *u)
{
	static const struct {
		const char *in, *str, *utf8;
	} cases[] = {
		{ "plain", "\"plain\"", "plain" },
		{ "q\"b\\", "\"q\\\"b\\\\\"", "q\"b\\" },
		{ "\x1b[31m\n\x7f", "\"\\u001b[31m\\u000a\\u007f\"", "\x1b[31m\n\x7f" },
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"", "caf\xc3\xa9" },
		{ "a\xffz", "\"a\\ufffdz\"", "a\xef\xbf\xbdz" },
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"", "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xe2\x82", "\"\\ufffd\\ufffd\"", "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xc2\x9b"
		  "1",
		  "\"\\u009b1\"",
		  "\xc2\x9b"
		  "1" },
		{ "\xe2\x80\xa8", "\"\\u2028\"", "\xe2\x80\xa8" },
		/* What nm_esc escapes, JSON escapes: the format characters too. */
		{ "a\xe2\x80\xae"
		  "b",
		  "\"a\\u202eb\"",
		  "a\xe2\x80\xae"
		  "b" },
		{ "\xe2\x80\x8b\xe2\x81\xa6\xef\xbb\xbf", "\"\\u200b\\u2066\\ufeff\"",
		  "\xe2\x80\x8b\xe2\x81\xa6\xef\xbb\xbf" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *buf = NULL, *t = nm_json_utf8(cases[i].in), shown[128];
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		if (f) {
			nm_json_str(f, cases[i].in);
			fclose(f);
		}
		UNIT_CHECK(u, buf && strcmp(buf, cases[i].str) == 0, "json %zu: string %s", i,
			   buf ? nm_esc_buf(buf, 0, shown, sizeof(shown)) : "(null)");
		UNIT_CHECK(u, t && strcmp(t, cases[i].utf8) == 0, "json %zu: valid UTF-8 %s", i,
			   t ? nm_esc_buf(t, 0, shown, sizeof(shown)) : "(null)");
		free(buf);
		free(t);
	}
}

/* A table's JSON text: what nm_esc escapes becomes \uXXXX, the rest stays. */
static void test_json_text(struct unit *u)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "{\n   \"t\": \"/mnt/a\\u001b\"\n}\n", "{\n   \"t\": \"/mnt/a\\u001b\"\n}\n" },
		{ "{\"t\": \"caf\xc3\xa9\"}", "{\"t\": \"caf\xc3\xa9\"}" },
		{ "{\"t\": \"a\xc2\x9b"
		  "b\"}",
		  "{\"t\": \"a\\u009bb\"}" },
		{ "{\"t\": \"\xe2\x80\xae\xe2\x80\x8b\x7f\"}",
		  "{\"t\": \"\\u202e\\u200b\\u007f\"}" },
		{ "{\"t\": \"\xff\"}", "{\"t\": \"\\ufffd\"}" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *buf = NULL, shown[128];
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		if (f) {
			nm_json_text(f, cases[i].in);
			fclose(f);
		}
		UNIT_CHECK(u, buf && strcmp(buf, cases[i].out) == 0, "json text %zu: %s", i,
			   buf ? nm_esc_buf(buf, 0, shown, sizeof(shown)) : "(null)");
		free(buf);
	}
}

/* fmt with one argument through nm_esc_fprintf, into a string. */
#define ESC_PRINTF(out, rc, ...)                                                                   \
	do {                                                                                       \
		size_t len_ = 0;                                                                   \
		FILE *f_ = open_memstream(&(out), &len_);                                          \
		(rc) = f_ ? nm_esc_fprintf(f_, __VA_ARGS__) : -2;                                  \
		if (f_)                                                                            \
			fclose(f_);                                                                \
	} while (0)

static void test_esc_printf(struct unit *u)
{
	char *out = NULL;
	int rc;

	ESC_PRINTF(out, rc, "[%s] %d", "\x1b[31mred", 7);
	UNIT_CHECK(u, rc > 0 && out && strcmp(out, "[\\x1b[31mred] 7") == 0, "printf: %%s escaped");
	free(out);
	ESC_PRINTF(out, rc, "%s", "a\\b");
	UNIT_CHECK(u, out && strcmp(out, "a\\x5cb") == 0, "printf: a backslash is \\x5c");
	free(out);
	/* The precision cuts the string before it is escaped. */
	ESC_PRINTF(out, rc, "%.3s|",
		   "\x1b"
		   "abc");
	UNIT_CHECK(u, out && strcmp(out, "\\x1bab|") == 0, "printf: %%.3s cuts before escaping");
	free(out);
	ESC_PRINTF(out, rc, "%.2s|", "a\xc3\xa9");
	UNIT_CHECK(u, out && strcmp(out, "a|") == 0, "printf: %%.2s does not split a character");
	free(out);
	ESC_PRINTF(out, rc, "%-6.*s|%3u", 2, "abcd", 5u);
	UNIT_CHECK(u, out && strcmp(out, "ab    |  5") == 0, "printf: width and .* precision");
	free(out);
	ESC_PRINTF(out, rc, "%c%c", '\x1b', 'x');
	UNIT_CHECK(u, out && strcmp(out, "\\x1bx") == 0, "printf: %%c escaped");
	free(out);
	ESC_PRINTF(out, rc, "%" PRIu64 " %lld %zu", (uint64_t)1 << 40, -3LL, (size_t)9);
	UNIT_CHECK(u, out && strcmp(out, "1099511627776 -3 9") == 0, "printf: length modifiers");
	free(out);
	/* What it does not do is loud: marked, the rest of the line kept. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
	ESC_PRINTF(out, rc, "t=%f after", 1.5);
	UNIT_CHECK(u, rc == -1 && out && strcmp(out, "t=%!f(unsupported) after") == 0,
		   "printf: %%f refused loudly");
	free(out);
	ESC_PRINTF(out, rc, "%m and more");
	UNIT_CHECK(u, rc == -1 && out && strcmp(out, "%!m(unsupported) and more") == 0,
		   "printf: %%m refused loudly");
	free(out);
	ESC_PRINTF(out, rc, "%1$s x", "a");
	UNIT_CHECK(u, rc == -1 && out && strstr(out, "(unsupported)") && strstr(out, " x"),
		   "printf: %%1$s refused loudly");
	free(out);
	ESC_PRINTF(out, rc, "%ls x", L"a");
	UNIT_CHECK(u, rc == -1 && out && strcmp(out, "%!ls(unsupported) x") == 0,
		   "printf: %%ls refused loudly");
	free(out);
#pragma GCC diagnostic pop
}

static void test_mounts(struct unit *u)
{
	char *mi = fixture("mountinfo/lab.mountinfo");
	struct nm_mount m;
	struct nm_err err = { 0 };
	char *sp = NULL;

	UNIT_CHECK(u,
		   nm_mount_find(mi, "/mnt/v42/a/b", &m, &sp, &err) == 0 &&
			   strcmp(m.target, "/mnt/v42") == 0 &&
			   strcmp(m.server, "192.0.2.11") == 0 && m.vers == 4 && m.minor == 2 &&
			   m.port == 0 && strcmp(sp, "/export/a/b") == 0,
		   "mount: v4.2, server from addr=, server path /export/a/b (%s)",
		   sp ? sp : err.msg);
	nm_mount_free(&m);
	free(sp);
	UNIT_CHECK(u,
		   nm_mount_find(mi, "/mnt/v40", &m, &sp, &err) == 0 && m.minor == 0 &&
			   m.port == 2050 && strcmp(sp, "/export/data") == 0,
		   "mount: v4.0 with port=2050, the mount point itself");
	nm_mount_free(&m);
	free(sp);
	UNIT_CHECK(u,
		   nm_mount_find(mi, "/mnt/v42/sub/deeper/f", &m, &sp, &err) == 0 &&
			   strcmp(m.target, "/mnt/v42/sub/deeper") == 0 &&
			   strcmp(m.server, "2001:db8::12") == 0 &&
			   strcmp(m.source_host, "2001:db8::12") == 0 && m.minor == 1 &&
			   strcmp(sp, "/export/f") == 0,
		   "mount: the deepest mount wins; IPv6 source in brackets");
	nm_mount_free(&m);
	free(sp);
	UNIT_CHECK(u,
		   nm_mount_find(mi, "/mnt/bind/x", &m, &sp, &err) == 0 &&
			   strcmp(sp, "/export/data/sub/x") == 0 && strcmp(m.sec, "krb5p") == 0,
		   "mount: a bind mount's root is part of the server path (%s)", sp ? sp : "");
	nm_mount_free(&m);
	free(sp);
	UNIT_CHECK(u,
		   nm_mount_find(mi, "/mnt/old/z", &m, &sp, &err) == 0 && m.minor == 1 &&
			   strcmp(sp, "/z") == 0,
		   "mount: vers=4,minorversion=1 and an export of /");
	nm_mount_free(&m);
	free(sp);
	UNIT_CHECK(u,
		   nm_mount_find(mi, "/mnt/v3/x", &m, &sp, &err) == -EPROTONOSUPPORT &&
			   strstr(err.msg, "NFSv3"),
		   "mount: NFSv3 is a clear error: %s", err.msg);
	UNIT_CHECK(u,
		   nm_mount_find(mi, "/proc/self", &m, &sp, &err) == -EMEDIUMTYPE &&
			   strstr(err.msg, "not on an NFS mount"),
		   "mount: not NFS is a clear error: %s", err.msg);
	UNIT_CHECK(u,
		   nm_mount_find("/nonexistent/mountinfo", "/x", &m, &sp, &err) < 0 && err.msg[0],
		   "mount: a missing table is a clear error: %s", err.msg);
	UNIT_CHECK(u, nm_mount_find(NULL, "/nonexistent/path/here", &m, &sp, &err) == -ENOENT,
		   "mount: a missing path is a clear error: %s", err.msg);
	UNIT_CHECK(u,
		   nm_mount_from_fields("/m", "nocolon", "nfs4", "/", "vers=4.1", &m, &err) ==
			   -EINVAL,
		   "mount: a source without SERVER: is refused: %s", err.msg);
	UNIT_CHECK(u,
		   nm_mount_from_fields("/m", "s:/e", "nfs4", "/", "vers=4.x", &m, &err) == -EINVAL,
		   "mount: a garbled vers= is refused: %s", err.msg);
	free(mi);
}

static const struct nm_mstats_op *op(const struct nm_mstats_mount *m, const char *name)
{
	for (size_t i = 0; m && i < m->nops; i++)
		if (strcmp(m->ops[i].name, name) == 0)
			return &m->ops[i];
	return NULL;
}

static void test_mountstats(struct unit *u)
{
	struct nm_mstats a = { 0 }, b = { 0 }, h = { 0 };
	struct nm_err err = { 0 };
	const struct nm_mstats_mount *x, *y;
	const struct nm_mstats_op *w;
	char *fa = fixture("vm/mountstats.state-lost.v4.0.1");
	char *fb = fixture("vm/mountstats.state-lost.v4.0.2");
	char *fh = fixture("vm/mountstats.v4.0.after");
	char why[160];
	uint64_t grew;

	UNIT_CHECK(u, fa && nm_mstats_read(fa, &a, &err) == 0,
		   "mountstats: the kernel's file parses %s", err.msg);
	UNIT_CHECK(u, a.n == 1, "mountstats: only the NFS mount is kept (%zu)", a.n);
	x = nm_mstats_find(&a, "/mnt/m");
	UNIT_CHECK(u, x && strcmp(x->device, "server-a:/d") == 0,
		   "mountstats: /mnt/m is server-a:/d");
	w = op(x, "WRITE");
	UNIT_CHECK(u, w && w->errors > 0 && w->errors <= w->ops,
		   "mountstats: WRITE has %llu errors of %llu calls",
		   w ? (unsigned long long)w->errors : 0, w ? (unsigned long long)w->ops : 0);
	UNIT_CHECK(u, fb && nm_mstats_read(fb, &b, &err) == 0,
		   "mountstats: the second sample parses");
	y = nm_mstats_find(&b, "/mnt/m");
	grew = x && y ? nm_mstats_state_errors(x, y, why, sizeof(why)) : 0;
	UNIT_CHECK(u, grew >= NM_MSTATS_LOOP_MIN && strstr(why, "WRITE +"),
		   "mountstats: a second later the stateful errors grew (%s)", why);
	UNIT_CHECK(u, y && nm_mstats_state_errors(y, y, why, sizeof(why)) == 0 && why[0] == '\0',
		   "mountstats: a sample against itself grew nothing");
	UNIT_CHECK(u, fh && nm_mstats_read(fh, &h, &err) == 0 && nm_mstats_find(&h, "/mnt/m"),
		   "mountstats: a healthy migration's sample parses");
	nm_mstats_free(&a);
	nm_mstats_free(&b);
	nm_mstats_free(&h);

	/* Hostile or odd text: no crash, nothing invented. */
	static const char odd[] =
		"device proc mounted on /proc with fstype proc\n"
		"\tper-op statistics\n\t    WRITE: 1 1 0 0 0 0 0 0 9\n"
		"device s:/e mounted on /mnt/a\\040b with fstype nfs4 statvers=1.1\n"
		"\tper-op statistics\n"
		"\t        READ: 5 5 0 1 1 0 0 0 2\n"
		"\t       WRITE: 99999999999999999999999 1 0 0 0 0 0 0 1\n"
		"\t       CLOSE: 1 2 3\n"
		"\tlowercase: 1 1 0 0 0 0 0 0 1\n"
		"\t      COMMIT: 4 4 0 0 0 0 0 0\n"
		"device s:/f mounted on";
	UNIT_CHECK(u, nm_mstats_parse(odd, sizeof(odd) - 1, &a, &err) == 0,
		   "mountstats: odd text parses");
	x = nm_mstats_find(&a, "/mnt/a b");
	UNIT_CHECK(u, a.n == 1 && x, "mountstats: \\040 in a mount point is a space; proc skipped");
	UNIT_CHECK(u,
		   x && x->nops == 2 && op(x, "READ") && op(x, "READ")->errors == 2 &&
			   op(x, "COMMIT") && op(x, "COMMIT")->errors == 0,
		   "mountstats: an overflowing or short counter line is skipped; 8 numbers: no "
		   "errors");
	nm_mstats_free(&a);
	UNIT_CHECK(u, nm_mstats_read("/nonexistent/mountstats", &a, &err) == -ENOENT,
		   "mountstats: a missing file: %s", err.msg);
	free(fa);
	free(fb);
	free(fh);
}

int main(void)
{
	struct unit u = { 0 };

	unit_start();
	test_paths(&u);
	test_targets(&u);
	test_host_names(&u);
	test_escape(&u);
	test_json(&u);
	test_json_text(&u);
	test_esc_printf(&u);
	test_location_names(&u);
	test_mounts(&u);
	test_mountstats(&u);
	return unit_done(&u);
}
