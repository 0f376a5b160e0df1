/* The kernel sources of nfsmigd's watcher: the pure decoders from fixtures
 * (formats and a ring-buffer page captured from Debian 12's 6.1 in the VM,
 * records built here from the formats' field offsets, kmsg and uevent
 * texts, malformed input), then each source really opened where the host
 * allows it (root, tracefs, /dev/kmsg, uevents: no NFS needed). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ksrc_fmt.h"
#include "nm_kev.h"
#include "nm_kmsg.h"
#include "nm_ktrace.h"
#include "nm_target.h"
#include "nm_uevent.h"
#include "unit.h"

static struct unit u;

/* What nfsmig keeps of a host from the kernel: a host name, or only
 * escapes and shell-inert bytes. */
static int host_safe(const char *h)
{
	if (nm_target_host_name_ok(h))
		return 1;
	for (; *h; h++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-\\",
			    *h))
			return 0;
	return 1;
}

static int text_safe(const char *t)
{
	for (; *t; t++)
		if ((unsigned char)*t < 0x20 || *t == 0x7f)
			return 0;
	return 1;
}

/* --- kmsg ---------------------------------------------------------------- */

static int kmsg(const char *rec, struct nm_kev *ev)
{
	return nm_kmsg_parse(rec, strlen(rec), ev);
}

static void test_kmsg(void)
{
	struct nm_kev ev;
	static const char *const bad[] = {
		"",	      "no semicolon", ";NFS: x",   "3,1;x",
		"3,,5,-;x",   "a,1,2,-;x",    "3,1,x,-;x", "3,1,123456789012345678901,-;x",
		"-3,1,2,-;x",
	};

	UNIT_CHECK(&u,
		   kmsg("3,1234,5000000,-;NFS: migration recovery failed (server server-a)\n",
			&ev) == 0 &&
			   ev.kind == NM_KEV_MIGRATION_FAILED && !strcmp(ev.host, "server-a") &&
			   ev.time_ms == 5000 && !strcmp(ev.source, "kmsg"),
		   "kmsg: migration recovery failed names server-a, stamp 5000 ms");
	UNIT_CHECK(&u,
		   kmsg("3,1235,5000001,-;NFS: volatile file handles not supported (server "
			"198.51.100.2)\n SUBSYSTEM=x\n",
			&ev) == 0 &&
			   ev.kind == NM_KEV_VOLATILE_FH && !strcmp(ev.host, "198.51.100.2"),
		   "kmsg: volatile file handles, with a dictionary line");
	UNIT_CHECK(
		&u,
		kmsg("4,7,9,-;NFS: state manager: migration failed on NFSv4 server server-a with "
		     "error 5\n",
		     &ev) == 0 &&
			ev.kind == NM_KEV_MIGRATION_FAILED && !strcmp(ev.host, "server-a") &&
			ev.error == 5 && (ev.flags & NM_KEV_F_MOVED),
		"kmsg: state manager: migration failed, error 5");
	UNIT_CHECK(&u,
		   kmsg("4,8,9,-;NFS: state manager: lease moved failed on NFSv4 server a.example "
			"with error 10019",
			&ev) == 0 &&
			   ev.kind == NM_KEV_MIGRATION_FAILED &&
			   (ev.flags & NM_KEV_F_LEASE_MOVED) && ev.error == 10019,
		   "kmsg: state manager: lease moved failed");
	UNIT_CHECK(&u,
		   kmsg("3,9,10,-,caller=T42;NFS: migration recovery failed (server s1)", &ev) ==
				   0 &&
			   !strcmp(ev.host, "s1"),
		   "kmsg: a newer kernel's caller field");
	UNIT_CHECK(&u,
		   kmsg("11,10,10,-;NFS: migration recovery failed (server forged)", &ev) == 1 &&
			   ev.kind == NM_KEV_NONE &&
			   !strcmp(ev.text, "NFS: migration recovery failed (server forged)"),
		   "kmsg: the same text written by a process (LOG_USER) is not the kernel's");
	UNIT_CHECK(&u, kmsg("6,11,10,-;e1000e: eth0 NIC Link is Up", &ev) == 1,
		   "kmsg: another message: 1");
	UNIT_CHECK(&u,
		   kmsg("4,12,10,-;NFS: state manager: migration failed on NFSv4 server s with "
			"error x5",
			&ev) == 1,
		   "kmsg: a state manager line with no number: 1");
	UNIT_CHECK(
		&u,
		kmsg("4,12,10,-;NFS: state manager: reclaim reboot failed on NFSv4 server s with "
		     "error 5",
		     &ev) == 1,
		"kmsg: another section of the state manager: 1");
	UNIT_CHECK(&u,
		   kmsg("3,13,10,-;NFS: migration recovery failed (server $(touch\\x20/tmp/x)"
			"\\x1b[31m\\x0a)",
			&ev) == 0 &&
			   host_safe(ev.host) && !strchr(ev.host, '$') && !strchr(ev.host, 0x1b) &&
			   text_safe(ev.text) && strstr(ev.host, "\\x1b"),
		   "kmsg: a hostile server name is kept escaped: %s", ev.host);
	UNIT_CHECK(&u, kmsg("3,14,10,-;NFS: migration recovery failed (server )", &ev) == 1,
		   "kmsg: no server name: 1");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		UNIT_CHECK(&u, kmsg(bad[i], &ev) == -EINVAL, "kmsg: malformed '%s': -EINVAL",
			   bad[i]);
	UNIT_CHECK(&u, nm_kmsg_parse(NULL, 0, &ev) == -EINVAL, "kmsg: nothing: -EINVAL");
	{
		char big[4000];

		memset(big, 'a', sizeof(big));
		memcpy(big, "3,1,1,-;NFS: migration recovery failed (server ", 47);
		big[sizeof(big) - 1] = ')';
		UNIT_CHECK(&u,
			   nm_kmsg_parse(big, sizeof(big), &ev) >= 0 && strlen(ev.host) < 256 &&
				   strlen(ev.text) < 256,
			   "kmsg: a 4000-byte record stays within the event's fields");
	}
}

/* --- uevent -------------------------------------------------------------- */

#define UEV(s) s, sizeof(s) - 1

static void test_uevent(void)
{
	struct nm_kev ev;

	UNIT_CHECK(&u,
		   nm_uevent_parse(UEV("add@/kernel/sunrpc/xprt-switches/switch-3\0ACTION=add\0"
				       "DEVPATH=/kernel/sunrpc/xprt-switches/switch-3\0"
				       "SUBSYSTEM=sunrpc\0SEQNUM=4711\0"),
				   &ev) == 0 &&
			   ev.kind == NM_KEV_XPRT_SWITCH && !strcmp(ev.name, "add xprt-switches") &&
			   !strcmp(ev.text, "switch-3") && !strcmp(ev.source, "uevent"),
		   "uevent: add xprt-switches switch-3 (%s, %s)", ev.name, ev.text);
	UNIT_CHECK(&u,
		   nm_uevent_parse(UEV("remove@/kernel/sunrpc/xprt-switches/switch-3/xprt-5-tcp\0"
				       "ACTION=remove\0DEVPATH=/kernel/sunrpc/xprt-switches/"
				       "switch-3/xprt-5-tcp\0SUBSYSTEM=sunrpc\0SEQNUM=4712"),
				   &ev) == 0 &&
			   !strcmp(ev.name, "remove xprt-switches") &&
			   !strcmp(ev.text, "switch-3/xprt-5-tcp"),
		   "uevent: remove of a transport, the last key without its NUL");
	UNIT_CHECK(&u,
		   nm_uevent_parse(UEV("add@/kernel/sunrpc/rpc-clients/clnt-2\0ACTION=add\0"
				       "DEVPATH=/kernel/sunrpc/rpc-clients/clnt-2\0"
				       "SUBSYSTEM=sunrpc\0"),
				   &ev) == 0 &&
			   !strcmp(ev.name, "add rpc-clients") && !strcmp(ev.text, "clnt-2"),
		   "uevent: add rpc-clients clnt-2");
	UNIT_CHECK(&u,
		   nm_uevent_parse(UEV("add@/devices/virtual/net/lo\0ACTION=add\0"
				       "DEVPATH=/devices/virtual/net/lo\0SUBSYSTEM=net\0"
				       "INTERFACE=lo\0IFINDEX=1\0SEQNUM=9\0"),
				   &ev) == 1,
		   "uevent: SUBSYSTEM=net is not ours: 1");
	UNIT_CHECK(&u,
		   nm_uevent_parse(UEV("libudev\0\xfe\xed\xca\xfe rest of a udev message"), &ev) ==
			   1,
		   "uevent: a libudev message: 1");
	UNIT_CHECK(&u,
		   nm_uevent_parse(UEV("add@/kernel/sunrpc/xprt-switches/switch-x\0ACTION=add\0"
				       "DEVPATH=/kernel/sunrpc/xprt-switches/switch-x\0"
				       "SUBSYSTEM=sunrpc\0"),
				   &ev) == 1,
		   "uevent: a sunrpc path of another shape: 1");
	UNIT_CHECK(&u,
		   nm_uevent_parse(UEV("add@/kernel/sunrpc/xprt-switches/switch-1/xprt-2-$(x)\0"
				       "ACTION=add\0DEVPATH=/kernel/sunrpc/xprt-switches/switch-1/"
				       "xprt-2-$(x)\0SUBSYSTEM=sunrpc\0"),
				   &ev) == 1,
		   "uevent: a transport name that is not letters and digits: 1");
	UNIT_CHECK(&u,
		   nm_uevent_parse(UEV("add/kernel/sunrpc\0SUBSYSTEM=sunrpc\0"), &ev) == -EINVAL,
		   "uevent: no '@': -EINVAL");
	UNIT_CHECK(&u,
		   nm_uevent_parse(UEV("add@/kernel/sunrpc/rpc-clients/clnt-1"), &ev) == -EINVAL,
		   "uevent: no NUL at all: -EINVAL");
	UNIT_CHECK(&u,
		   nm_uevent_parse(UEV("add@/kernel/sunrpc/rpc-clients/clnt-1\0ACTION=add\0"
				       "DEVPATH=/kernel/sunrpc/rpc-clients/clnt-1\0garbage\0"
				       "SUBSYSTEM=sunrpc\0"),
				   &ev) == -EINVAL,
		   "uevent: a key with no '=': -EINVAL");
	UNIT_CHECK(&u,
		   nm_uevent_parse(UEV("add@/kernel/sunrpc/rpc-clients/clnt-1\0ACTION=add\0"
				       "DEVPATH=/kernel/sunrpc/rpc-clients/clnt-9\0"
				       "SUBSYSTEM=sunrpc\0"),
				   &ev) == -EINVAL,
		   "uevent: DEVPATH differs from the header's: -EINVAL");
	UNIT_CHECK(&u,
		   nm_uevent_parse(UEV("add@/kernel/sunrpc/rpc-clients/clnt-1\0ACTION=add\0"
				       "DEVPATH=/kernel/sunrpc/rpc-clients/clnt-1\0"),
				   &ev) == -EINVAL,
		   "uevent: no SUBSYSTEM: -EINVAL");
	UNIT_CHECK(&u,
		   nm_uevent_parse(NULL, 0, &ev) == -EINVAL &&
			   nm_uevent_parse("", 0, &ev) == -EINVAL,
		   "uevent: nothing: -EINVAL");
}

/* --- trace events -------------------------------------------------------- */

/* A field of a format text: offset and size, or -1. */
static int field_at(const char *fmt, const char *name, int *size)
{
	char key[96];
	const char *p;

	snprintf(key, sizeof(key), " %s;\toffset:", name);
	p = strstr(fmt, key);
	if (!p)
		return -1;
	p += strlen(key);
	*size = atoi(strstr(p, "size:") + 5);
	return atoi(p);
}

static char *format_text(const char *name, size_t *len)
{
	const char *fx = getenv("NM_FIXTURES");
	char path[4096];

	snprintf(path, sizeof(path), "%s/trace/6.1/format/%s", fx ? fx : "tests/fixtures", name);
	return ksrc_slurp(path, len);
}

/* A record of the event in format fmt: fixed fields by name, __string
 * fields after them (as the kernel lays them out). */
struct rbuild {
	unsigned char b[512];
	size_t len;
	const char *fmt;
};

static void rb_start(struct rbuild *r, const char *fmt)
{
	const char *id = strstr(fmt, "ID: ");
	uint16_t type = (uint16_t)atoi(id + 4);
	int size, end = 0;
	const char *p = fmt;

	memset(r, 0, sizeof(*r));
	r->fmt = fmt;
	memcpy(r->b, &type, 2);
	/* The end of the fixed part: the last field's offset + size. */
	while ((p = strstr(p, "offset:"))) {
		int off = atoi(p + 7);

		size = atoi(strstr(p, "size:") + 5);
		if (off + size > end)
			end = off + size;
		p += 7;
	}
	r->len = (size_t)end;
}

static void rb_num(struct rbuild *r, const char *name, uint64_t v)
{
	int size, off = field_at(r->fmt, name, &size);

	if (off >= 0)
		memcpy(r->b + off, &v, (size_t)size); /* little-endian */
}

static void rb_str(struct rbuild *r, const char *name, const char *s, size_t n)
{
	int size, off = field_at(r->fmt, name, &size);
	uint32_t loc = (uint32_t)((n + 1) << 16 | r->len);

	if (off < 0)
		return;
	memcpy(r->b + off, &loc, 4);
	memcpy(r->b + r->len, s, n);
	r->b[r->len + n] = '\0';
	r->len += n + 1;
}

struct seen {
	struct nm_kev ev[32];
	int n;
};

static int collect(const struct nm_kev *ev, void *arg)
{
	struct seen *s = arg;

	if (s->n < 32)
		s->ev[s->n++] = *ev;
	return 0;
}

static void test_ktrace_page(struct nm_ktrace_fmt *f)
{
	struct seen s = { 0 };
	struct nm_ktrace_stats st = { 0 };
	size_t len;
	const char *fx = getenv("NM_FIXTURES");
	char path[4096];
	unsigned char *page;
	int r;

	snprintf(path, sizeof(path), "%s/trace/6.1/raw.cpu0", fx ? fx : "tests/fixtures");
	page = (unsigned char *)ksrc_slurp(path, &len);
	UNIT_CHECK(&u, page && len == 4096, "ktrace: the captured page of 6.1 (%zu bytes)", len);
	if (!page)
		return;
	r = nm_ktrace_decode_page(f, page, len, collect, &s, &st);
	UNIT_CHECK(&u, r == 0 && s.n == 12 && st.records == 12 && st.bad == 0,
		   "ktrace: the page's 12 records decode, as the instance printed them (r %d, %d "
		   "events, %lu records, %lu bad)",
		   r, s.n, st.records, st.bad);
	if (s.n == 12) {
		UNIT_CHECK(&u,
			   s.ev[0].kind == NM_KEV_MOVED && s.ev[0].error == -10019 &&
				   !strcmp(s.ev[0].name, "nfs4_xdr_status") &&
				   !strcmp(s.ev[0].source, "tracepoint"),
			   "ktrace: nfs4_xdr_status error=-10019 (MOVED) (%d)", s.ev[0].error);
		UNIT_CHECK(
			&u,
			s.ev[1].kind == NM_KEV_STATE_MGR && !strcmp(s.ev[1].host, "server-a") &&
				s.ev[1].flags == (NM_KEV_F_MOVED | NM_KEV_F_MANAGER_RUNNING),
			"ktrace: nfs4_state_mgr hostname=server-a MANAGER_RUNNING|MOVED (%s %#x)",
			s.ev[1].host, s.ev[1].flags);
		UNIT_CHECK(&u,
			   s.ev[2].kind == NM_KEV_XPRT_CREATE &&
				   !strcmp(s.ev[2].peer, "198.51.100.2") && s.ev[2].port == 2049,
			   "ktrace: xprt_create peer=[198.51.100.2]:2049");
		UNIT_CHECK(&u,
			   s.ev[3].kind == NM_KEV_XPRT_REPLACE &&
				   !strcmp(s.ev[3].text, "client=00000006"),
			   "ktrace: rpc_clnt_replace_xprt client=00000006 (%s)", s.ev[3].text);
		UNIT_CHECK(&u,
			   s.ev[6].kind == NM_KEV_CLNT_NEW && !strcmp(s.ev[6].host, "server-b") &&
				   !strcmp(s.ev[6].peer, "198.51.100.2") && s.ev[6].port == 2049 &&
				   !strcmp(s.ev[6].text, "nfs"),
			   "ktrace: rpc_clnt_new peer=[198.51.100.2]:2049 program=nfs "
			   "server=server-b");
		UNIT_CHECK(&u,
			   s.ev[7].kind == NM_KEV_STATE_MGR && !strcmp(s.ev[7].host, "server-b") &&
				   !(s.ev[7].flags & NM_KEV_F_MOVED),
			   "ktrace: nfs4_state_mgr hostname=server-b without MOVED");
		UNIT_CHECK(&u,
			   s.ev[9].kind == NM_KEV_CLNT_NEW && s.ev[9].host[0] == '\0' &&
				   !strcmp(s.ev[9].text, "nfs4_cb") && s.ev[9].port == 0,
			   "ktrace: the callback client's server=(null) names no host");
	}
	/* The page's length is what read() gave: a commit beyond it, or a
	 * record beyond the commit, is refused. */
	{
		unsigned char bad[4096];
		unsigned long commit;

		memcpy(bad, page, sizeof(bad));
		commit = 5000;
		memcpy(bad + 8, &commit, sizeof(commit));
		UNIT_CHECK(&u,
			   nm_ktrace_decode_page(f, bad, sizeof(bad), collect, &s, &st) == -EINVAL,
			   "ktrace: a page whose commit is beyond it: -EINVAL");
		memcpy(bad, page, sizeof(bad));
		UNIT_CHECK(&u, nm_ktrace_decode_page(f, bad, 100, collect, &s, &st) == -EINVAL,
			   "ktrace: a page cut short of its commit: -EINVAL");
		memcpy(bad, page, sizeof(bad));
		bad[16] = 0; /* type_len 0: the length in the next word */
		memset(bad + 20, 0xff, 4);
		UNIT_CHECK(&u,
			   nm_ktrace_decode_page(f, bad, sizeof(bad), collect, &s, &st) == -EINVAL,
			   "ktrace: a record longer than the page: -EINVAL");
		UNIT_CHECK(&u, nm_ktrace_decode_page(f, page, 10, collect, &s, &st) == -EINVAL,
			   "ktrace: shorter than a page header: -EINVAL");
	}
	free(page);
}

static void test_ktrace_records(struct nm_ktrace_fmt *f)
{
	struct rbuild r;
	struct nm_kev ev;
	size_t l1, l2, l3;
	char *xdr = format_text("nfs4.nfs4_xdr_status", &l1);
	char *mgr = format_text("nfs4.nfs4_state_mgr", &l2);
	char *fail = format_text("nfs4.nfs4_state_mgr_failed", &l3);

	if (!xdr || !mgr || !fail) {
		UNIT_CHECK(&u, 0, "ktrace: the formats of 6.1 are in the fixtures");
		goto out;
	}
	rb_start(&r, xdr);
	rb_num(&r, "error", 10031);
	rb_num(&r, "op", 53);
	UNIT_CHECK(&u,
		   nm_ktrace_decode(f, r.b, r.len, &ev) == 0 && ev.kind == NM_KEV_LEASE_MOVED &&
			   ev.error == -10031,
		   "ktrace: nfs4_xdr_status error 10031: LEASE_MOVED");
	rb_num(&r, "error", 2);
	UNIT_CHECK(&u, nm_ktrace_decode(f, r.b, r.len, &ev) == 1,
		   "ktrace: nfs4_xdr_status NOENT is not a move: 1");
	UNIT_CHECK(&u, nm_ktrace_decode(f, r.b, 20, &ev) == -EINVAL,
		   "ktrace: a record cut before its error field: -EINVAL");

	rb_start(&r, mgr);
	rb_num(&r, "state", 1ull << 12 | 1ull << 14);
	rb_str(&r, "hostname", "server-c.example", 16);
	UNIT_CHECK(&u,
		   nm_ktrace_decode(f, r.b, r.len, &ev) == 0 && ev.kind == NM_KEV_STATE_MGR &&
			   ev.flags == NM_KEV_F_LEASE_MOVED && !strcmp(ev.host, "server-c.example"),
		   "ktrace: nfs4_state_mgr LEASE_MOVED|RUN_MANAGER (%#x %s)", ev.flags, ev.host);
	UNIT_CHECK(&u, nm_ktrace_decode(f, r.b, r.len - 3, &ev) == -EINVAL,
		   "ktrace: a hostname past the record's end: -EINVAL");
	rb_start(&r, mgr);
	rb_str(&r, "hostname", "$(reboot)\x1b[2J", 13);
	UNIT_CHECK(&u,
		   nm_ktrace_decode(f, r.b, r.len, &ev) == 0 && host_safe(ev.host) &&
			   !strchr(ev.host, '$') && strstr(ev.host, "\\x1b"),
		   "ktrace: a hostile hostname is escaped: %s", ev.host);

	rb_start(&r, fail);
	rb_num(&r, "error", 10019);
	rb_num(&r, "state", 1ull << 11);
	rb_str(&r, "hostname", "server-a", 8);
	rb_str(&r, "section", "migration", 9);
	UNIT_CHECK(&u,
		   nm_ktrace_decode(f, r.b, r.len, &ev) == 0 && ev.kind == NM_KEV_STATE_MGR_FAIL &&
			   ev.error == -10019 && !strcmp(ev.text, "migration") &&
			   (ev.flags & NM_KEV_F_MOVED) && !strcmp(ev.host, "server-a"),
		   "ktrace: nfs4_state_mgr_failed section=migration error=-10019");

	{
		unsigned char junk[8] = { 0xff, 0x7f };

		UNIT_CHECK(&u, nm_ktrace_decode(f, junk, sizeof(junk), &ev) == 1,
			   "ktrace: an event id not ours: 1");
		UNIT_CHECK(&u, nm_ktrace_decode(f, junk, 1, &ev) == -EINVAL,
			   "ktrace: one byte: -EINVAL");
	}
out:
	free(xdr);
	free(mgr);
	free(fail);
}

/* The flags are named by the format's own table, not by the kernel's enum
 * of one version: the same bits renumbered decode by their names. */
static void test_ktrace_flag_table(void)
{
	struct nm_ktrace_fmt *f = NULL;
	struct rbuild r;
	struct nm_kev ev;
	size_t len;
	char *mgr = format_text("nfs4.nfs4_state_mgr", &len), *p;

	if (!mgr || nm_ktrace_fmt_new(&f, NULL) != 0) {
		UNIT_CHECK(&u, 0, "ktrace: a format to renumber");
		free(mgr);
		return;
	}
	/* MOVED from bit 11 to bit 21 (and DELEGRETURN's 5 stays). */
	p = strstr(mgr, "<< (11)), \"MOVED\"");
	if (p)
		memcpy(p, "<< (21)", 7);
	UNIT_CHECK(&u, p && nm_ktrace_fmt_add(f, "nfs4", mgr, len, NULL) == 0,
		   "ktrace: a format with MOVED at bit 21 parses");
	rb_start(&r, mgr);
	rb_num(&r, "state", 1ull << 21);
	rb_str(&r, "hostname", "s", 1);
	UNIT_CHECK(&u, nm_ktrace_decode(f, r.b, r.len, &ev) == 0 && ev.flags == NM_KEV_F_MOVED,
		   "ktrace: bit 21 is MOVED by the format's table (%#x)", ev.flags);
	rb_num(&r, "state", 1ull << 11);
	UNIT_CHECK(&u, nm_ktrace_decode(f, r.b, r.len, &ev) == 0 && ev.flags == 0,
		   "ktrace: bit 11 is not, there (%#x)", ev.flags);
	nm_ktrace_fmt_free(f);
	free(mgr);

	/* No table at all: the kernel's enum (MOVED = 11). */
	{
		static const char plain[] =
			"name: nfs4_state_mgr\nID: 1666\nformat:\n"
			"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
			"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
			"\tfield:unsigned char "
			"common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
			"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
			"\tfield:unsigned long state;\toffset:8;\tsize:8;\tsigned:0;\n"
			"\tfield:__data_loc char[] hostname;\toffset:16;\tsize:4;\tsigned:1;\n\n"
			"print fmt: \"hostname=%s state=%lx\", __get_str(hostname), REC->state\n";

		f = NULL;
		UNIT_CHECK(&u,
			   nm_ktrace_fmt_new(&f, NULL) == 0 &&
				   nm_ktrace_fmt_add(f, "nfs4", plain, sizeof(plain) - 1, NULL) ==
					   0,
			   "ktrace: a format without __print_flags parses");
		rb_start(&r, plain);
		rb_num(&r, "state", 1ull << 11 | 1);
		rb_str(&r, "hostname", "s", 1);
		UNIT_CHECK(&u,
			   f && nm_ktrace_decode(f, r.b, r.len, &ev) == 0 &&
				   ev.flags == (NM_KEV_F_MOVED | NM_KEV_F_MANAGER_RUNNING),
			   "ktrace: without a table, the kernel's enum (%#x)", ev.flags);
		nm_ktrace_fmt_free(f);
	}
	{
		struct nm_err err;

		f = NULL;
		UNIT_CHECK(&u,
			   nm_ktrace_fmt_new(&f, NULL) == 0 &&
				   nm_ktrace_fmt_add(f, "nfs4", "garbage", 7, &err) == -EINVAL,
			   "ktrace: a format that is not one: -EINVAL");
		nm_ktrace_fmt_free(f);
	}
}

/* --- the real sources ------------------------------------------------------ */

static int count(const struct nm_kev *ev, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void live_ktrace(void)
{
	static const char *const events[] = { "nfs4/nfs4_state_mgr", "syscalls/sys_enter_getppid",
					      NULL };
	struct nm_ktrace *t = NULL;
	struct nm_ktrace_stats st;
	struct nm_err err = { 0 };
	char name[64], dir[128];
	struct stat sb;
	struct pollfd p;
	int r, n = 0;

	snprintf(name, sizeof(name), "nfsmig-test-%d", (int)getpid());
	r = nm_ktrace_open_events(name, events, &t, &err);
	if (r < 0) {
		printf("ok %d - # SKIP tracefs: %s\n", ++u.n, err.msg);
		return;
	}
	snprintf(dir, sizeof(dir), "/sys/kernel/tracing/instances/%s", name);
	UNIT_CHECK(&u, stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode), "ktrace live: %s exists", dir);
	UNIT_CHECK(&u, strstr(nm_ktrace_enabled(t), "syscalls/sys_enter_getppid") != NULL,
		   "ktrace live: enabled: %s; missing: %s", nm_ktrace_enabled(t),
		   nm_ktrace_missing(t));
	(void)getppid();
	p = (struct pollfd){ .fd = nm_ktrace_fd(t), .events = POLLIN };
	UNIT_CHECK(&u, poll(&p, 1, 3000) == 1, "ktrace live: the fd is readable after getppid()");
	r = nm_ktrace_read(t, count, &n, &err);
	nm_ktrace_stats(t, &st);
	UNIT_CHECK(&u, r == 0 && st.records >= 1 && n == 0 && st.bad == 0,
		   "ktrace live: the record was read and is not ours (%lu records, %d events)",
		   st.records, n);
	p.revents = 0;
	UNIT_CHECK(&u, poll(&p, 1, 0) == 0, "ktrace live: drained, the fd is quiet");
	nm_ktrace_close(t);
	UNIT_CHECK(&u, stat(dir, &sb) != 0 && errno == ENOENT,
		   "ktrace live: the instance is gone after close");
	r = nm_ktrace_open(name, &t, &err);
	if (r == 0) {
		UNIT_CHECK(&u, 1, "ktrace live: this host has NFS events: %s",
			   nm_ktrace_enabled(t));
		nm_ktrace_close(t);
	} else {
		UNIT_CHECK(&u,
			   r == -ENOENT && strstr(err.msg, "nfs4_state_mgr") && stat(dir, &sb) != 0,
			   "ktrace live: no NFS here: -ENOENT naming the events, no instance left "
			   "(%s)",
			   err.msg);
	}
}

static void live_kmsg(void)
{
	struct nm_err err = { 0 };
	char line[160], buf[NM_KMSG_REC_MAX], tag[64];
	int fd = nm_kmsg_open(&err), w, found = 0, n = 0;
	size_t len;
	struct nm_kev ev;

	if (fd < 0) {
		printf("ok %d - # SKIP /dev/kmsg: %s\n", ++u.n, err.msg);
		return;
	}
	w = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (w < 0) {
		printf("ok %d - # SKIP /dev/kmsg not writable here\n", ++u.n);
		close(fd);
		return;
	}
	snprintf(tag, sizeof(tag), "nfsmig-selftest-%d.invalid", (int)getpid());
	snprintf(line, sizeof(line), "<3>NFS: migration recovery failed (server %s)\n", tag);
	UNIT_CHECK(&u, write(w, line, strlen(line)) == (ssize_t)strlen(line),
		   "kmsg live: a line written to /dev/kmsg");
	for (int tries = 0; tries < 100 && !found; tries++) {
		int r = nm_kmsg_next(fd, buf, sizeof(buf), &len, NULL, &err);

		if (r == 0) {
			usleep(10000);
			continue;
		}
		if (r < 0)
			break;
		if (nm_kmsg_parse(buf, len, &ev) == 1 && strstr(ev.text, tag))
			found = 1;
	}
	UNIT_CHECK(&u, found,
		   "kmsg live: read back from the end of the log, parsed, and not taken "
		   "for the kernel's (a process wrote it)");
	UNIT_CHECK(&u,
		   write(w, line, strlen(line)) == (ssize_t)strlen(line) &&
			   nm_kmsg_read(fd, count, &n, &err) == 0 && n == 0,
		   "kmsg live: nm_kmsg_read delivers no forged failure (%d)", n);
	close(w);
	close(fd);
}

static void live_uevent(void)
{
	struct nm_err err = { 0 };
	int fd = nm_uevent_open(&err), t, seen = 0, n = 0;
	char buf[NM_UEVENT_MSG_MAX];
	size_t len;
	struct nm_kev ev;
	unsigned long skipped = 0;

	if (fd < 0) {
		printf("ok %d - # SKIP uevent socket: %s\n", ++u.n, err.msg);
		return;
	}
	t = open("/sys/class/net/lo/uevent", O_WRONLY | O_CLOEXEC);
	if (t < 0 || write(t, "add", 3) != 3) {
		printf("ok %d - # SKIP cannot trigger a uevent for lo here\n", ++u.n);
		if (t >= 0)
			close(t);
		close(fd);
		return;
	}
	close(t);
	for (int tries = 0; tries < 200 && !seen; tries++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r;

		if (poll(&p, 1, 10) != 1)
			continue;
		while (!seen &&
		       (r = nm_uevent_recv(fd, buf, sizeof(buf), &len, &skipped, &err)) == 1)
			if (len > 5 && memmem(buf, len, "/net/lo", 7))
				seen = nm_uevent_parse(buf, len, &ev) == 1 ? 1 : -1;
	}
	UNIT_CHECK(&u, seen == 1,
		   "uevent live: the kernel's 'add' of lo is received and is not "
		   "sunrpc (1)");
	t = open("/sys/class/net/lo/uevent", O_WRONLY | O_CLOEXEC);
	if (t >= 0) {
		if (write(t, "change", 6) != 6)
			n = -100;
		close(t);
	}
	usleep(100000);
	UNIT_CHECK(&u, nm_uevent_read(fd, count, &n, &err) == 0 && n == 0,
		   "uevent live: nm_uevent_read drains and skips what is not sunrpc (%d)", n);
	close(fd);
}

int main(void)
{
	struct nm_ktrace_fmt *f = NULL;
	int n;

	unit_start();
	test_kmsg();
	test_uevent();
	UNIT_CHECK(&u, nm_ktrace_fmt_new(&f, NULL) == 0, "ktrace: formats");
	n = ksrc_load_formats(f, "6.1");
	UNIT_CHECK(&u, n == 6, "ktrace: the 6 captured formats of 6.1 parse (%d)", n);
	test_ktrace_page(f);
	test_ktrace_records(f);
	nm_ktrace_fmt_free(f);
	test_ktrace_flag_table();
	if (getuid() == 0) {
		live_ktrace();
		live_kmsg();
		live_uevent();
	} else {
		printf("ok %d - # SKIP the live sources need root\n", ++u.n);
	}
	return unit_done(&u);
}
