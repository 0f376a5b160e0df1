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
#include <signal.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ksrc_fmt.h"
#include "nm_kev.h"
#include "nm_kmsg.h"
#include "nm_kmsg_posfile.h"
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
			   ev.time_ms == 5000 && !strcmp(ev.source, "kmsg") && ev.seq == 1234,
		   "kmsg: migration recovery failed names server-a, stamp 5000 ms, seq 1234");
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

/* A resumed reader skips what it handled and counts what the log lost. */
static void test_kmsg_pos(void)
{
	static const struct {
		uint64_t seq;
		int take;
		unsigned long lost;
	} steps[] = {
		{ 10, 1, 0 },		    /* the first: taken, nothing known lost */
		{ 11, 1, 0 }, { 11, 0, 0 }, /* the same again: skipped */
		{ 5, 0, 0 },		    /* an older one: skipped */
		{ 15, 1, 3 },		    /* 12..14 lost */
		{ 16, 1, 3 },
	};
	struct nm_kmsg_pos pos = { 0 };

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int t = nm_kmsg_pos_take(&pos, steps[i].seq);

		UNIT_CHECK(&u, t == steps[i].take && pos.lost == steps[i].lost && pos.have,
			   "kmsg pos: seq %llu %s, lost %lu", (unsigned long long)steps[i].seq,
			   t ? "taken" : "skipped", pos.lost);
	}
	pos = (struct nm_kmsg_pos){ .seq = 100, .have = 1 };
	UNIT_CHECK(&u,
		   nm_kmsg_pos_take(&pos, 99) == 0 && nm_kmsg_pos_take(&pos, 100) == 0 &&
			   nm_kmsg_pos_take(&pos, 103) == 1 && pos.lost == 2 && pos.seq == 103,
		   "kmsg pos: saved at 100: 99 and 100 skipped, 103 read, 2 lost");
}

/* The position file's text: this boot's read back, another boot's and a
 * corrupt one dropped. */
static void test_kmsg_posfile(void)
{
	static const char *boot = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
	static const struct {
		const char *text;
		int rc;
		uint64_t seq;
	} t[] = {
		{ "nfsmig-kmsg 1\nboot_id=0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0\nseq=4711\n", 0,
		  4711 },
		{ "nfsmig-kmsg 1\nboot_id=ffffffff-4f50-6172-8394-a5b6c7d8e9f0\nseq=4711\n", 1, 0 },
		{ "nfsmig-kmsg 1\nboot_id=0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0\nseq=-1\n", -EBADMSG,
		  0 },
		{ "nfsmig-kmsg 1\nboot_id=0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0\nseq=47x\n",
		  -EBADMSG, 0 },
		{ "nfsmig-kmsg 1\nboot_id=0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0\nseq=4711", -EBADMSG,
		  0 }, /* torn */
		{ "nfsmig-kmsg 1\nboot_id=0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0\nseq=1\nx=2\n",
		  -EBADMSG, 0 },
		{ "nfsmig-kmsg 1\nboot_id=../x\nseq=1\n", -EBADMSG, 0 },
		{ "nfsmig-kmsg 1\nseq=1\nboot_id=0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0\n", -EBADMSG,
		  0 },
		{ "nfsmig-kmsg 1\nboot_id=0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0\n"
		  "seq=99999999999999999999999\n",
		  -EBADMSG, 0 },
		{ "garbage", -EBADMSG, 0 },
		{ "", -EBADMSG, 0 },
	};
	struct nm_kmsg_pos pos = { .seq = 4711, .have = 1 }, back;
	char buf[256];
	int n;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = nm_kmsg_pos_parse(t[i].text, strlen(t[i].text), boot, &back);

		UNIT_CHECK(&u,
			   rc == t[i].rc && back.have == (rc == 0) &&
				   (rc != 0 || back.seq == t[i].seq),
			   "kmsg position file %zu: %d", i, rc);
	}
	n = nm_kmsg_pos_format(&pos, boot, buf, sizeof(buf));
	UNIT_CHECK(&u,
		   n > 0 && nm_kmsg_pos_parse(buf, (size_t)n, boot, &back) == 0 && back.seq == 4711,
		   "kmsg position file: written, read back");
	pos.have = 0;
	UNIT_CHECK(&u, nm_kmsg_pos_format(&pos, boot, buf, sizeof(buf)) == -EINVAL,
		   "kmsg position file: no position, nothing written");
	pos.have = 1;
	UNIT_CHECK(&u, nm_kmsg_pos_format(&pos, "a\nb", buf, sizeof(buf)) == -EINVAL,
		   "kmsg position file: a boot id of two lines refused");
}

/* --- peers ----------------------------------------------------------------- */

static void test_peer(void)
{
	static const struct {
		const char *in, *out; /* out NULL: -EINVAL */
	} t[] = {
		{ "198.51.100.2", "198.51.100.2" },
		{ "[2001:db8::1]", "2001:db8::1" },
		{ "fe80::1%2", "fe80::1" },
		{ "[fe80:0::1%eth0]", "fe80::1" },
		{ "ff02::1%3", "ff02::1" },
		{ "fe80::1%", NULL },
		{ "fe80::1%$(reboot)", NULL },
		{ "fe80::1%0123456789abcdef", NULL },
		{ "fe80::1%2%3", NULL },
		{ "2001:db8::1%2", NULL },
		{ "192.0.2.1%2", NULL },
		{ "%2", NULL },
		{ "server-a", NULL },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nm_kev ev;
		int r;

		nm_kev_init(&ev, NM_KEV_NONE, "test", "");
		r = nm_kev_set_peer(&ev, t[i].in, strlen(t[i].in));
		UNIT_CHECK(&u,
			   t[i].out ? r == 0 && !strcmp(ev.peer, t[i].out)
				    : r == -EINVAL && ev.peer[0] == '\0',
			   "peer %s: %s", t[i].in, t[i].out ? t[i].out : "-EINVAL");
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
		   nm_uevent_parse(UEV("add@/kernel/sunrpc/rpc-clients/clnt-1\0ACTION=add\0"
				       "DEVPATH=/kernel/sunrpc/rpc-clients/clnt-1\0"
				       "SUBSYSTEM=sunrpc\0SEQNUM=12x\0"),
				   &ev) == -EINVAL &&
			   nm_uevent_parse(UEV("add@/kernel/sunrpc/rpc-clients/clnt-1\0ACTION=add\0"
					       "DEVPATH=/kernel/sunrpc/rpc-clients/clnt-1\0"
					       "SUBSYSTEM=sunrpc\0SEQNUM=18446744073709551616\0"),
					   &ev) == -EINVAL,
		   "uevent: a SEQNUM not a number, or past 2^64-1: -EINVAL");
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

/* kernel: the fixture directory; cb_host: the callback client's server
 * as that kernel names it ("" for "(null)"). */
static void test_ktrace_page(struct nm_ktrace_fmt *f, const char *kernel, const char *cb_host)
{
	struct seen s = { 0 };
	struct nm_ktrace_stats st = { 0 };
	size_t len;
	const char *fx = getenv("NM_FIXTURES");
	char path[4096];
	unsigned char *page;
	int r;

	snprintf(path, sizeof(path), "%s/trace/%s/raw.cpu0", fx ? fx : "tests/fixtures", kernel);
	page = (unsigned char *)ksrc_slurp(path, &len);
	UNIT_CHECK(&u, page && len == 4096, "ktrace %s: the captured page (%zu bytes)", kernel,
		   len);
	if (!page)
		return;
	r = nm_ktrace_decode_page(f, page, len, collect, &s, &st);
	UNIT_CHECK(
		&u, r == 0 && s.n == 12 && st.records == 12 && st.bad == 0,
		"ktrace %s: the page's 12 records decode, as the instance printed them (r %d, %d "
		"events, %lu records, %lu bad)",
		kernel, r, s.n, st.records, st.bad);
	if (s.n == 12) {
		UNIT_CHECK(&u,
			   s.ev[0].kind == NM_KEV_MOVED && s.ev[0].error == -10019 &&
				   !strcmp(s.ev[0].name, "nfs4_xdr_status") &&
				   !strcmp(s.ev[0].source, "tracepoint"),
			   "ktrace %s: nfs4_xdr_status error=-10019 (MOVED) (%d)", kernel,
			   s.ev[0].error);
		UNIT_CHECK(&u,
			   s.ev[1].kind == NM_KEV_STATE_MGR && !strcmp(s.ev[1].host, "server-a") &&
				   s.ev[1].flags == (NM_KEV_F_MOVED | NM_KEV_F_MANAGER_RUNNING),
			   "ktrace %s: nfs4_state_mgr hostname=server-a MANAGER_RUNNING|MOVED (%s "
			   "%#x)",
			   kernel, s.ev[1].host, s.ev[1].flags);
		UNIT_CHECK(&u,
			   s.ev[2].kind == NM_KEV_XPRT_CREATE &&
				   !strcmp(s.ev[2].peer, "198.51.100.2") && s.ev[2].port == 2049,
			   "ktrace %s: xprt_create peer=[198.51.100.2]:2049", kernel);
		UNIT_CHECK(&u,
			   s.ev[3].kind == NM_KEV_XPRT_REPLACE &&
				   !strcmp(s.ev[3].text, "client=00000006"),
			   "ktrace %s: rpc_clnt_replace_xprt client=00000006 (%s)", kernel,
			   s.ev[3].text);
		UNIT_CHECK(&u,
			   s.ev[6].kind == NM_KEV_CLNT_NEW && !strcmp(s.ev[6].host, "server-b") &&
				   !strcmp(s.ev[6].peer, "198.51.100.2") && s.ev[6].port == 2049 &&
				   !strcmp(s.ev[6].text, "nfs"),
			   "ktrace %s: rpc_clnt_new peer=[198.51.100.2]:2049 program=nfs "
			   "server=server-b",
			   kernel);
		UNIT_CHECK(&u,
			   s.ev[7].kind == NM_KEV_STATE_MGR && !strcmp(s.ev[7].host, "server-b") &&
				   !(s.ev[7].flags & NM_KEV_F_MOVED),
			   "ktrace %s: nfs4_state_mgr hostname=server-b without MOVED", kernel);
		UNIT_CHECK(&u,
			   s.ev[9].kind == NM_KEV_CLNT_NEW && !strcmp(s.ev[9].host, cb_host) &&
				   !strcmp(s.ev[9].text, "nfs4_cb") && s.ev[9].port == 0,
			   "ktrace %s: the callback client's server as this kernel names it ('%s'; "
			   "6.1's (null) is none)",
			   kernel, cb_host);
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
			   "ktrace %s: a page whose commit is beyond it: -EINVAL", kernel);
		memcpy(bad, page, sizeof(bad));
		UNIT_CHECK(&u, nm_ktrace_decode_page(f, bad, 100, collect, &s, &st) == -EINVAL,
			   "ktrace %s: a page cut short of its commit: -EINVAL", kernel);
		memcpy(bad, page, sizeof(bad));
		bad[16] = 0; /* type_len 0: the length in the next word */
		memset(bad + 20, 0xff, 4);
		UNIT_CHECK(&u,
			   nm_ktrace_decode_page(f, bad, sizeof(bad), collect, &s, &st) == -EINVAL,
			   "ktrace %s: a record longer than the page: -EINVAL", kernel);
		UNIT_CHECK(&u, nm_ktrace_decode_page(f, page, 10, collect, &s, &st) == -EINVAL,
			   "ktrace %s: shorter than a page header: -EINVAL", kernel);
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
	rb_num(&r, "error", (uint64_t)-10019);
	UNIT_CHECK(&u,
		   nm_ktrace_decode(f, r.b, r.len, &ev) == 0 && ev.kind == NM_KEV_MOVED &&
			   ev.error == -10019,
		   "ktrace: nfs4_xdr_status error kept negative (-10019): MOVED too");
	rb_num(&r, "error", 0x8000000000000000ull);
	UNIT_CHECK(&u, nm_ktrace_decode(f, r.b, r.len, &ev) == 1,
		   "ktrace: nfs4_xdr_status error LLONG_MIN: no status of ours, 1");

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

/* nfs4_state_mgr as an older kernel might print it: no flag table. */
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
		/* __rel_loc: the string's offset counted from the field's end. */
		char rel[sizeof(plain)];
		uint32_t loc;

		memcpy(rel, plain, sizeof(plain));
		memcpy(strstr(rel, "__data_loc"), "__rel_loc ", 10);
		f = NULL;
		UNIT_CHECK(&u,
			   nm_ktrace_fmt_new(&f, NULL) == 0 &&
				   nm_ktrace_fmt_add(f, "nfs4", rel, strlen(rel), NULL) == 0,
			   "ktrace: a format with __rel_loc parses");
		rb_start(&r, rel);
		memcpy(r.b + r.len, "rel-host", 9);
		loc = (uint32_t)(9 << 16 | (r.len - 20));
		memcpy(r.b + 16, &loc, 4);
		r.len += 9;
		UNIT_CHECK(&u,
			   f && nm_ktrace_decode(f, r.b, r.len, &ev) == 0 &&
				   !strcmp(ev.host, "rel-host"),
			   "ktrace: a __rel_loc string is found from the field's end (%s)",
			   ev.host);
		loc = (uint32_t)(9 << 16 | (r.len - 20));
		memcpy(r.b + 16, &loc, 4);
		UNIT_CHECK(&u, f && nm_ktrace_decode(f, r.b, r.len, &ev) == -EINVAL,
			   "ktrace: a __rel_loc past the end: -EINVAL");
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

/* --- ring-buffer pages built here ------------------------------------------ */

/* A page as the kernel writes it (ring_buffer.c): the header (u64 stamp,
 * a long commit), then records: time extents, absolute stamps, padding
 * of discarded records, small records (type_len 1..28) and long ones
 * (type_len 0, the length in the next word). */
struct pbuild {
	unsigned char b[4096];
	size_t n; /* data bytes after the 16-byte header */
};

static void pb_init(struct pbuild *p, uint64_t ts)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->b, &ts, 8);
}

static void pb_word(struct pbuild *p, uint32_t w)
{
	memcpy(p->b + 16 + p->n, &w, 4);
	p->n += 4;
}

static void pb_bytes(struct pbuild *p, const void *d, size_t n)
{
	memcpy(p->b + 16 + p->n, d, n);
	p->n += (n + 3) & ~(size_t)3;
}

/* type_len 30 (extend: a delta) or 31 (an absolute stamp). */
static void pb_time(struct pbuild *p, unsigned type, uint64_t v)
{
	pb_word(p, (uint32_t)((v & ((1u << 27) - 1)) << 5 | type));
	pb_word(p, (uint32_t)(v >> 27));
}

static void pb_rec(struct pbuild *p, uint32_t delta, const struct rbuild *r, int long_form)
{
	size_t words = (r->len + 3) / 4;

	if (long_form || words > 28) {
		pb_word(p, delta << 5);
		pb_word(p, (uint32_t)(r->len + 4));
	} else {
		pb_word(p, delta << 5 | (uint32_t)words);
	}
	pb_bytes(p, r->b, r->len);
}

/* A record discarded by the kernel: padding with its length (that of the
 * length word and the data). */
static void pb_discarded(struct pbuild *p, uint32_t delta, size_t len)
{
	unsigned char junk[64];

	memset(junk, 0xee, sizeof(junk));
	pb_word(p, delta << 5 | 29);
	pb_word(p, (uint32_t)len + 4); /* what follows the first word */
	pb_bytes(p, junk, len);
}

/* The commit as the kernel leaves it: the length, then the flags added to
 * the long (RB_MISSED_EVENTS is an int: 1 << 31, sign-extended). */
static void pb_commit(struct pbuild *p, int missed, int stored, long count)
{
	long c = (long)p->n;

	if (missed && stored) {
		memcpy(p->b + 16 + p->n, &count, sizeof(count));
		c += 1 << 30;
	}
	if (missed)
		c += (int)(1u << 31);
	memcpy(p->b + 8, &c, sizeof(c));
}

static void test_ktrace_built_pages(struct nm_ktrace_fmt *f)
{
	struct rbuild moved, lease, mgr;
	struct pbuild p;
	struct seen s;
	struct nm_ktrace_stats st;
	size_t l1, l2;
	char *xdr = format_text("nfs4.nfs4_xdr_status", &l1);
	char *mtext = format_text("nfs4.nfs4_state_mgr", &l2);
	int r;

	if (!xdr || !mtext) {
		UNIT_CHECK(&u, 0, "ktrace pages: the formats of 6.1 are in the fixtures");
		goto out;
	}
	rb_start(&moved, xdr);
	rb_num(&moved, "error", 10019);
	rb_start(&lease, xdr);
	rb_num(&lease, "error", 10031);
	rb_start(&mgr, mtext);
	rb_num(&mgr, "state", 1ull << 11);
	rb_str(&mgr, "hostname", "server-a", 8);

	/* stamp 1 s; +5 s extent; MOVED at +1 us; a discarded record 2 ms
	 * later; the state manager, long form, 3 ms after; an absolute
	 * stamp of 9 s; LEASE_MOVED with no delta. */
	pb_init(&p, 1000000000ull);
	pb_time(&p, 30, 5000000000ull);
	pb_rec(&p, 1000, &moved, 0);
	pb_discarded(&p, 2000000, 36);
	pb_rec(&p, 3000000, &mgr, 1);
	pb_time(&p, 31, 9000000000ull);
	pb_rec(&p, 0, &lease, 0);
	for (int k = 0; k < 3; k++) {
		static const char *const what[] = { "no loss", "RB_MISSED_EVENTS",
						    "RB_MISSED_EVENTS|RB_MISSED_STORED" };

		pb_commit(&p, k >= 1, k == 2, 7);
		memset(&s, 0, sizeof(s));
		memset(&st, 0, sizeof(st));
		r = nm_ktrace_decode_page(f, p.b, sizeof(p.b), collect, &s, &st);
		UNIT_CHECK(&u,
			   r == 0 && s.n == 3 && st.records == 3 && st.bad == 0 &&
				   st.lost == (k ? 1u : 0u) && st.lost_events == (k == 2 ? 7u : 0u),
			   "ktrace page, %s: 3 records read (r %d, %d events, %lu bad), lost pages "
			   "%lu, lost records %lu",
			   what[k], r, s.n, st.bad, st.lost, st.lost_events);
		if (s.n == 3)
			UNIT_CHECK(&u,
				   s.ev[0].kind == NM_KEV_MOVED && s.ev[0].time_ms == 6000 &&
					   s.ev[1].kind == NM_KEV_STATE_MGR &&
					   !strcmp(s.ev[1].host, "server-a") &&
					   s.ev[1].time_ms == 6005 &&
					   s.ev[2].kind == NM_KEV_LEASE_MOVED &&
					   s.ev[2].time_ms == 9000,
				   "ktrace page, %s: times from the stamp, the extent, the "
				   "discarded record's delta and the absolute stamp (%lld %lld "
				   "%lld ms)",
				   what[k], (long long)s.ev[0].time_ms, (long long)s.ev[1].time_ms,
				   (long long)s.ev[2].time_ms);
	}
	/* A time extent cut by the commit: its second word is not the page's. */
	pb_init(&p, 0);
	pb_rec(&p, 0, &moved, 0);
	pb_word(&p, 30);
	pb_commit(&p, 0, 0, 0);
	memset(&s, 0, sizeof(s));
	memset(&st, 0, sizeof(st));
	UNIT_CHECK(&u,
		   nm_ktrace_decode_page(f, p.b, 16 + p.n, collect, &s, &st) == -EINVAL && s.n == 1,
		   "ktrace page: a time extent cut by the commit: -EINVAL, the record before "
		   "delivered");
	/* A discarded record longer than the page. */
	pb_init(&p, 0);
	pb_word(&p, 1u << 5 | 29);
	pb_word(&p, 4000);
	pb_commit(&p, 0, 0, 0);
	UNIT_CHECK(&u, nm_ktrace_decode_page(f, p.b, sizeof(p.b), collect, &s, &st) == -EINVAL,
		   "ktrace page: padding longer than the page: -EINVAL");
out:
	free(xdr);
	free(mtext);
}

/* The page's layout is read from events/header_page, not assumed. */
static void test_ktrace_header_page(void)
{
	static const char hp32[] = "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
				   "\tfield: local_t commit;\toffset:8;\tsize:4;\tsigned:1;\n"
				   "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
				   "\tfield: char data;\toffset:12;\tsize:4084;\tsigned:1;\n";
	struct nm_ktrace_fmt *f = NULL;
	struct rbuild r;
	struct seen s = { 0 };
	struct nm_ktrace_stats st = { 0 };
	unsigned char page[128] = { 0 };
	const char *fx = getenv("NM_FIXTURES");
	char path[4096], *xdr, *hp;
	size_t len, hl;
	uint32_t w, commit;

	UNIT_CHECK(&u, nm_ktrace_fmt_new(&f, NULL) == 0 && ksrc_load_formats(f, "6.1") == 6,
		   "header_page: formats");
	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "%s/trace/%s/header_page", fx ? fx : "tests/fixtures",
			 k ? "6.12" : "6.1");
		hp = ksrc_slurp(path, &hl);
		UNIT_CHECK(&u, hp && nm_ktrace_fmt_header_page(f, hp, hl, NULL) == 0,
			   "header_page of %s parses", k ? "6.12" : "6.1");
		free(hp);
	}
	UNIT_CHECK(&u,
		   nm_ktrace_fmt_header_page(f, "garbage", 7, NULL) == -EINVAL &&
			   nm_ktrace_fmt_header_page(f, hp32, 40, NULL) == -EINVAL,
		   "header_page: garbage or cut: -EINVAL");
	UNIT_CHECK(&u, nm_ktrace_fmt_header_page(f, hp32, sizeof(hp32) - 1, NULL) == 0,
		   "header_page: a 4-byte commit, data at 12");
	xdr = format_text("nfs4.nfs4_xdr_status", &len);
	if (xdr) {
		rb_start(&r, xdr);
		rb_num(&r, "error", 10019);
		w = (uint32_t)(r.len + 3) / 4;
		memcpy(page + 12, &w, 4);
		memcpy(page + 16, r.b, r.len);
		commit = (uint32_t)(4 + ((r.len + 3) & ~(size_t)3)) | 1u << 31;
		memcpy(page + 8, &commit, 4);
		UNIT_CHECK(&u,
			   nm_ktrace_decode_page(f, page, sizeof(page), collect, &s, &st) == 0 &&
				   s.n == 1 && s.ev[0].kind == NM_KEV_MOVED && st.lost == 1,
			   "header_page: a page of that layout decodes (%d events)", s.n);
	}
	free(xdr);
	nm_ktrace_fmt_free(f);
}

/* state_mgr_failed with a signed int error (a kernel that keeps it so). */
static const char failed_int[] =
	"name: nfs4_state_mgr_failed\nID: 1665\nformat:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
	"\tfield:int error;\toffset:8;\tsize:4;\tsigned:1;\n"
	"\tfield:unsigned long state;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:__data_loc char[] hostname;\toffset:24;\tsize:4;\tsigned:1;\n"
	"\tfield:__data_loc char[] section;\toffset:28;\tsize:4;\tsigned:1;\n\n"
	"print fmt: \"hostname=%s error=%d section=%s\", __get_str(hostname), REC->error, "
	"__get_str(section)\n";

static void test_ktrace_fields(struct nm_ktrace_fmt *f6)
{
	struct nm_ktrace_fmt *f = NULL;
	struct rbuild r;
	struct nm_kev ev;
	uint32_t loc;
	size_t len;
	char *mgr = format_text("nfs4.nfs4_state_mgr", &len);

	UNIT_CHECK(&u,
		   nm_ktrace_fmt_new(&f, NULL) == 0 &&
			   nm_ktrace_fmt_add(f, "nfs4", failed_int, sizeof(failed_int) - 1, NULL) ==
				   0,
		   "ktrace: a format with a signed int error parses");
	rb_start(&r, failed_int);
	rb_num(&r, "error", (uint32_t)-5);
	rb_str(&r, "hostname", "server-a", 8);
	rb_str(&r, "section", "migration", 9);
	UNIT_CHECK(&u,
		   f && nm_ktrace_decode(f, r.b, r.len, &ev) == 0 && ev.error == -5 &&
			   ev.kind == NM_KEV_STATE_MGR_FAIL,
		   "ktrace: a signed 4-byte error of -5 is -5 (%d)", ev.error);
	nm_ktrace_fmt_free(f);
	if (!mgr)
		return;
	/* A __data_loc into the header or onto the fixed fields. */
	rb_start(&r, mgr);
	rb_num(&r, "state", 1ull << 11);
	rb_str(&r, "hostname", "server-a", 8);
	UNIT_CHECK(&u, nm_ktrace_decode(f6, r.b, r.len, &ev) == 0, "ktrace: the record decodes");
	loc = 4u << 16 | 0;
	memcpy(r.b + 16, &loc, 4);
	UNIT_CHECK(&u, nm_ktrace_decode(f6, r.b, r.len, &ev) == -EINVAL,
		   "ktrace: a __data_loc into the common header: -EINVAL");
	loc = 12u << 16 | 8;
	memcpy(r.b + 16, &loc, 4);
	UNIT_CHECK(&u, nm_ktrace_decode(f6, r.b, r.len, &ev) == -EINVAL,
		   "ktrace: a __data_loc onto the fixed fields: -EINVAL (%s)", ev.host);
	free(mgr);
}

/* The filter written to nfs4_xdr_status, from each kernel's format. */
static void test_ktrace_filter(void)
{
	static const char *const kernels[] = { "6.1", "6.12" };
	char buf[128];

	for (int k = 0; k < 2; k++) {
		struct nm_ktrace_fmt *f = NULL;

		UNIT_CHECK(&u,
			   nm_ktrace_fmt_new(&f, NULL) == 0 &&
				   ksrc_load_formats(f, kernels[k]) == 6 &&
				   nm_ktrace_xdr_filter(f, buf, sizeof(buf)) == 0 &&
				   !strcmp(buf, "error==10019 || error==10031"),
			   "ktrace %s: nfs4_xdr_status filter: %s", kernels[k], buf);
		UNIT_CHECK(&u, f && nm_ktrace_xdr_filter(f, buf, 10) == -ENOSPC,
			   "ktrace %s: the filter in too small a buffer: -ENOSPC", kernels[k]);
		nm_ktrace_fmt_free(f);
	}
	{
		struct nm_ktrace_fmt *f = NULL;

		UNIT_CHECK(&u,
			   nm_ktrace_fmt_new(&f, NULL) == 0 &&
				   nm_ktrace_xdr_filter(f, buf, sizeof(buf)) == -ENOENT,
			   "ktrace: no nfs4_xdr_status format: no filter (-ENOENT)");
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
	{
		char top[160] = "";
		int fd = open("/sys/kernel/tracing/events/syscalls/sys_enter_getppid/enable",
			      O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			if (read(fd, top, sizeof(top) - 1) < 0)
				top[0] = '\0';
			close(fd);
		}
		UNIT_CHECK(&u, top[0] == '0',
			   "ktrace live: the global buffer's event stays disabled (%.1s)", top);
	}
	nm_ktrace_close(t);
	UNIT_CHECK(&u, stat(dir, &sb) != 0 && errno == ENOENT,
		   "ktrace live: the instance is gone after close");
	/* A daemon killed with its instance left: the next one takes it over. */
	t = NULL;
	UNIT_CHECK(&u,
		   mkdir(dir, 0700) == 0 && nm_ktrace_open_events(name, events, &t, &err) == 0 &&
			   strstr(nm_ktrace_enabled(t), "sys_enter_getppid"),
		   "ktrace live: an instance left behind is taken over (%s)", t ? "" : err.msg);
	nm_ktrace_close(t);
	UNIT_CHECK(&u, stat(dir, &sb) != 0 && errno == ENOENT, "ktrace live: and removed at close");
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

static int tracefs_append(const char *file, const char *line)
{
	int fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC);
	ssize_t n = fd >= 0 ? write(fd, line, strlen(line)) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(line) ? 0 : -1;
}

/* An event the kernel gets after the open (as nfsv4.ko's when the first
 * NFSv4 mount loads it): a uprobe of our own made afterwards stands for
 * it.  Tried again, it moves from missing to enabled, once. */
static void live_ktrace_retry(void)
{
	static const char uprobes[] = "/sys/kernel/tracing/uprobe_events";
	char name[64], ev[64], def[200], undef[80];
	const char *events[] = { "syscalls/sys_enter_getppid", ev, "nosuch/nfsmig_never", NULL };
	struct nm_ktrace *t = NULL;
	struct nm_err err = { 0 };
	int r;

	if (access(uprobes, W_OK) != 0) {
		printf("ok %d - # SKIP ktrace retry: no uprobe_events here\n", ++u.n);
		return;
	}
	snprintf(name, sizeof(name), "nfsmig-test-retry-%d", (int)getpid());
	snprintf(ev, sizeof(ev), "nfsmig_t%d/later", (int)getpid());
	snprintf(def, sizeof(def), "p:%s /bin/true:0x1000\n", ev);
	snprintf(undef, sizeof(undef), "-:%s\n", ev);
	r = nm_ktrace_open_events(name, events, &t, &err);
	UNIT_CHECK(&u, r == 0 && strstr(nm_ktrace_missing(t), ev),
		   "ktrace retry: an event not there yet is missing (%s)", r ? err.msg : "");
	if (r != 0)
		return;
	r = nm_ktrace_retry_missing(t, &err);
	UNIT_CHECK(&u,
		   r == 0 && strstr(nm_ktrace_missing(t), ev) &&
			   strcmp(nm_ktrace_enabled(t), "syscalls/sys_enter_getppid") == 0,
		   "ktrace retry: still not there: nothing changes (%d)", r);
	if (tracefs_append(uprobes, def) != 0) {
		printf("ok %d - # SKIP ktrace retry: no uprobe made (%s)\n", ++u.n,
		       strerror(errno));
		nm_ktrace_close(t);
		return;
	}
	r = nm_ktrace_retry_missing(t, &err);
	UNIT_CHECK(&u,
		   r == 1 && strstr(nm_ktrace_enabled(t), ev) &&
			   !strstr(nm_ktrace_missing(t), ev) &&
			   strcmp(nm_ktrace_missing(t), "nosuch/nfsmig_never") == 0,
		   "ktrace retry: the event made since is enabled, the other still missing (%d: "
		   "enabled %s; missing %s)",
		   r, nm_ktrace_enabled(t), nm_ktrace_missing(t));
	r = nm_ktrace_retry_missing(t, &err);
	UNIT_CHECK(&u,
		   r == 0 && strstr(nm_ktrace_enabled(t), ev) ==
				     strrchr(nm_ktrace_enabled(t), ' ') + 1,
		   "ktrace retry: again: nothing new, enabled once (%d)", r);
	nm_ktrace_close(t);
	UNIT_CHECK(&u, tracefs_append(uprobes, undef) == 0,
		   "ktrace retry: the uprobe removed after close");
}

/* sys_enter_getppid's record taken for rpc_clnt_replace_xprt (client_id
 * at its __syscall_nr): a record of ours that a host without NFS makes. */
static int as_ours(struct nm_ktrace *t)
{
	char path[] = "/sys/kernel/tracing/events/syscalls/sys_enter_getppid/id", fmt[640];
	char id[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, id, sizeof(id) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	id[n] = '\0';
	snprintf(fmt, sizeof(fmt),
		 "name: rpc_clnt_replace_xprt\nID: %d\nformat:\n"
		 "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
		 "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
		 "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
		 "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
		 "\tfield:int client_id;\toffset:8;\tsize:4;\tsigned:1;\n\n"
		 "print fmt: \"client=%%08x\", REC->client_id\n",
		 atoi(id));
	return nm_ktrace_fmt_add(nm_ktrace_formats(t), "sunrpc", fmt, strlen(fmt), NULL);
}

/* Only this process's getppid() in the instance (the host's others call
 * it too). */
static int only_mine(const char *name)
{
	char path[200], f[64];
	int fd, ok;

	snprintf(path, sizeof(path),
		 "/sys/kernel/tracing/instances/%s/events/syscalls/sys_enter_getppid/filter", name);
	snprintf(f, sizeof(f), "common_pid==%d", (int)getpid());
	fd = open(path, O_WRONLY | O_CLOEXEC);
	ok = fd >= 0 && write(fd, f, strlen(f)) == (ssize_t)strlen(f);
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

struct timed {
	int n;
	int64_t ms;
	int ret;
};

static int timed(const struct nm_kev *ev, void *arg)
{
	struct timed *w = arg;

	/* the latest (CPUs are read one after the other) */
	if (w->n++ == 0 || ev->time_ms > w->ms)
		w->ms = ev->time_ms;
	return w->ret;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int instance_clock(const char *name, char *out, size_t cap)
{
	char path[160];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/kernel/tracing/instances/%s/trace_clock", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, out, cap - 1) : -1;
	if (fd >= 0)
		close(fd);
	out[n > 0 ? n : 0] = '\0';
	return n > 0 ? 0 : -1;
}

/* A record's time is when the kernel wrote it, not when it was read; a
 * callback's error stops the read and is returned (not a bad page). */
static void live_ktrace_time(void)
{
	static const char *const events[] = { "syscalls/sys_enter_getppid", NULL };
	struct nm_ktrace *t = NULL;
	struct nm_ktrace_stats st;
	struct nm_err err = { 0 };
	struct timed w = { 0 };
	char name[64], clk[256];
	int64_t fired;
	int r;

	snprintf(name, sizeof(name), "nfsmig-test-time-%d", (int)getpid());
	if (nm_ktrace_open_events(name, events, &t, &err) != 0) {
		printf("ok %d - # SKIP tracefs: %s\n", ++u.n, err.msg);
		return;
	}
	UNIT_CHECK(&u, instance_clock(name, clk, sizeof(clk)) == 0 && strstr(clk, "[boot]"),
		   "ktrace live: the instance's trace clock is boot (%.60s)", clk);
	UNIT_CHECK(&u, as_ours(t) == 0 && only_mine(name) == 0,
		   "ktrace live: getppid's record taken for one of ours");
	fired = now_ms();
	(void)getppid();
	sleep(2);
	r = nm_ktrace_read(t, timed, &w, &err);
	UNIT_CHECK(&u, r == 0 && w.n >= 1 && w.ms >= fired - 50 && w.ms <= fired + 500,
		   "ktrace live: the record's time is when it was written (%lld ms after, read "
		   "2 s later; %d events)",
		   (long long)(w.ms - fired), w.n);
	(void)getppid();
	w = (struct timed){ .ret = -EINVAL };
	nm_ktrace_stats(t, &st);
	r = nm_ktrace_read(t, timed, &w, &err);
	{
		struct nm_ktrace_stats st2;

		nm_ktrace_stats(t, &st2);
		UNIT_CHECK(&u, r == -EINVAL && w.n == 1 && st2.bad == st.bad,
			   "ktrace live: a callback's -EINVAL stops the read and is returned, not "
			   "counted as a bad page (r %d, bad %lu -> %lu)",
			   r, st.bad, st2.bad);
	}
	nm_ktrace_close(t);
}

/* kill -9 of the reader: the instance stays, with what the kernel wrote
 * meanwhile; while its holder lives no other takes it (flock). */
static void live_ktrace_takeover(void)
{
	static const char *const events[] = { "syscalls/sys_enter_getppid", NULL };
	struct nm_ktrace *t = NULL;
	struct nm_err err = { 0 };
	struct timed w = { 0 };
	char name[64], dir[160];
	struct stat sb;
	int pfd[2], status, r;
	int64_t fired;
	pid_t pid;
	char c;

	snprintf(name, sizeof(name), "nfsmig-test-kill-%d", (int)getpid());
	snprintf(dir, sizeof(dir), "/sys/kernel/tracing/instances/%s", name);
	if (pipe(pfd) != 0)
		return;
	pid = fork();
	if (pid == 0) {
		struct nm_ktrace *ct = NULL;

		close(pfd[0]);
		c = nm_ktrace_open_events(name, events, &ct, NULL) == 0 ? 'y' : 'n';
		if (write(pfd[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	c = 'n';
	if (pid < 0 || read(pfd[0], &c, 1) != 1 || c != 'y') {
		printf("ok %d - # SKIP tracefs: the child could not open %s\n", ++u.n, name);
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
		close(pfd[0]);
		return;
	}
	close(pfd[0]);
	(void)only_mine(name);
	r = nm_ktrace_open_events(name, events, &t, &err);
	UNIT_CHECK(&u, r == -EBUSY && stat(dir, &sb) == 0,
		   "ktrace live: an instance another process holds is refused (-EBUSY) and left "
		   "to it (%d %s)",
		   r, err.msg);
	nm_ktrace_close(t);
	t = NULL;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	UNIT_CHECK(&u, WIFSIGNALED(status) && stat(dir, &sb) == 0,
		   "ktrace live: killed with -9, the child left its instance");
	fired = now_ms();
	(void)getppid(); /* written while no one reads */
	sleep(1);
	r = nm_ktrace_open_events(name, events, &t, &err);
	UNIT_CHECK(&u, r == 0, "ktrace live: the next open takes the instance over (%s)",
		   r ? err.msg : "");
	if (r == 0) {
		UNIT_CHECK(&u, as_ours(t) == 0, "ktrace live: getppid taken for one of ours");
		r = nm_ktrace_read(t, timed, &w, &err);
		UNIT_CHECK(&u, r == 0 && w.n >= 1 && w.ms >= fired - 50 && w.ms <= fired + 500,
			   "ktrace live: the record written while no one read is read, with its "
			   "time (%d events, %lld ms after)",
			   w.n, (long long)(w.ms - fired));
		nm_ktrace_close(t);
	}
	UNIT_CHECK(&u, stat(dir, &sb) != 0 && errno == ENOENT,
		   "ktrace live: close removes the instance taken over");
}

/* The next record of ours (tag in its text) from fd: its seq, or -1;
 * *old_seen counts the records with the tag old that were not skipped. */
static int64_t kmsg_find(int fd, const char *tag, struct nm_kmsg_pos *pos, const char *old,
			 int *old_seen)
{
	char buf[NM_KMSG_REC_MAX];
	struct nm_err err = { 0 };
	struct nm_kev ev;
	size_t len;

	for (int tries = 0; tries < 100;) {
		int r = nm_kmsg_next(fd, buf, sizeof(buf), &len, NULL, &err);

		if (r == 0) {
			usleep(10000);
			tries++;
			continue;
		}
		if (r < 0)
			return -1;
		if (nm_kmsg_parse(buf, len, &ev) != 1)
			continue;
		if (pos && !nm_kmsg_pos_take(pos, ev.seq))
			continue;
		if (old && strstr(ev.text, old))
			(*old_seen)++;
		if (strstr(ev.text, tag))
			return (int64_t)ev.seq;
	}
	return -1;
}

/* Only debug-level lines with a tag that says what they are: nothing that
 * reads like the kernel's NFS messages goes into the host's log (the
 * parser's tests have those texts). */
static void live_kmsg(void)
{
	struct nm_err err = { 0 };
	char line[200], tag1[80], tag2[80];
	struct nm_kmsg_pos pos = { 0 };
	int fd = nm_kmsg_open_at(&pos, &err), w, n = 0, old_seen = 0;
	int64_t s1, s2;

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
	snprintf(tag1, sizeof(tag1), "nfsmig-unit-test-%d-one", (int)getpid());
	snprintf(tag2, sizeof(tag2), "nfsmig-unit-test-%d-two", (int)getpid());
	snprintf(line, sizeof(line), "<7>%s: a test record of nfsmig's unit tests\n", tag1);
	UNIT_CHECK(&u, write(w, line, strlen(line)) == (ssize_t)strlen(line),
		   "kmsg live: a debug line written to /dev/kmsg");
	s1 = kmsg_find(fd, tag1, &pos, NULL, NULL);
	UNIT_CHECK(&u, s1 >= 0 && pos.have && (int64_t)pos.seq == s1,
		   "kmsg live: read back from the end of the log, seq %lld, a process's line "
		   "(not the kernel's)",
		   (long long)s1);
	UNIT_CHECK(&u,
		   write(w, line, strlen(line)) == (ssize_t)strlen(line) &&
			   nm_kmsg_read_at(fd, &pos, count, &n, &err) == 0 && n == 0,
		   "kmsg live: nm_kmsg_read_at delivers no line a process wrote (%d)", n);
	close(fd);
	/* Down: a line logged meanwhile is read when the reader resumes at
	 * pos; what it read before is not read again. */
	snprintf(line, sizeof(line), "<7>%s: a test record of nfsmig's unit tests\n", tag2);
	UNIT_CHECK(&u, write(w, line, strlen(line)) == (ssize_t)strlen(line),
		   "kmsg live: a line written while no one reads");
	fd = nm_kmsg_open_at(&pos, &err);
	s2 = fd >= 0 ? kmsg_find(fd, tag2, &pos, tag1, &old_seen) : -1;
	UNIT_CHECK(&u, s2 > s1 && old_seen == 0,
		   "kmsg live: resumed after seq %lld: the line written meanwhile is read (seq "
		   "%lld), the ones read before skipped (%d seen again)",
		   (long long)s1, (long long)s2, old_seen);
	if (fd >= 0)
		close(fd);
	close(w);
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
	/* A process (root, so its credentials say uid 0) sends a sunrpc
	 * uevent to our socket: not the kernel's (nl_pid != 0), skipped. */
	{
		static const char forged[] = "add@/kernel/sunrpc/rpc-clients/clnt-424242\0"
					     "ACTION=add\0DEVPATH=/kernel/sunrpc/rpc-clients/"
					     "clnt-424242\0SUBSYSTEM=sunrpc\0SEQNUM=1\0";
		struct sockaddr_nl me = { 0 }, to = { .nl_family = AF_NETLINK };
		socklen_t ml = sizeof(me);
		int s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
		int got = 0, r;

		skipped = 0;
		if (s < 0 || getsockname(fd, (struct sockaddr *)&me, &ml) != 0) {
			printf("ok %d - # SKIP no netlink socket to forge from\n", ++u.n);
		} else {
			to.nl_pid = me.nl_pid;
			UNIT_CHECK(&u,
				   sendto(s, forged, sizeof(forged) - 1, 0, (struct sockaddr *)&to,
					  sizeof(to)) == (ssize_t)sizeof(forged) - 1,
				   "uevent live: a process sends a sunrpc uevent to our port %u",
				   me.nl_pid);
			usleep(100000);
			while ((r = nm_uevent_recv(fd, buf, sizeof(buf), &len, &skipped, &err)) ==
			       1)
				if (memmem(buf, len, "clnt-424242", 11))
					got++;
			UNIT_CHECK(&u, r == 0 && got == 0 && skipped >= 1,
				   "uevent live: a message from a process's socket (nl_pid != 0) "
				   "is skipped (%lu skipped, %d taken)",
				   skipped, got);
		}
		if (s >= 0)
			close(s);
	}
	close(fd);
}

static int count_kev(const struct nm_kev *ev, void *arg)
{
	uint64_t *seqs = arg;

	if (seqs[0] < 7)
		seqs[++seqs[0]] = ev->seq;
	return 0;
}

/* nm_kmsg_read_at over a record-preserving fake of /dev/kmsg (a
 * SOCK_SEQPACKET pair: one read, one record): after a restart at the
 * saved position, the records handled before are skipped, those logged
 * since are handed on, a process's line never, a gap counted as lost. */
static void test_kmsg_read_at(void)
{
	static const char *const recs[] = {
		"3,40,5000000,-;NFS: migration recovery failed (server s0)\n",
		"3,41,5000001,-;NFS: migration recovery failed (server s1)\n",
		"11,42,5000002,-;NFS: migration recovery failed (server forged)\n",
		"3,43,5000003,-;NFS: migration recovery failed (server s3)\n",
		"3,45,5000004,-;NFS: migration recovery failed (server s5)\n",
	};
	struct nm_kmsg_pos pos = { .seq = 41, .have = 1 };
	struct nm_err err = { 0 };
	uint64_t seqs[8] = { 0 };
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		UNIT_CHECK(&u, 0, "kmsg read_at: socketpair: %s", strerror(errno));
		return;
	}
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		if (write(sv[1], recs[i], strlen(recs[i])) < 0)
			UNIT_CHECK(&u, 0, "kmsg read_at: write: %s", strerror(errno));
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	rc = nm_kmsg_read_at(sv[0], &pos, count_kev, seqs, &err);
	UNIT_CHECK(&u,
		   rc == 0 && seqs[0] == 2 && seqs[1] == 43 && seqs[2] == 45 && pos.seq == 45 &&
			   pos.lost == 1,
		   "kmsg read_at: after a restart at 41, records 43 and 45 handed on, 40, 41 and a "
		   "process's 42 not, 44 lost (rc %d, %llu handed, pos %llu, lost %lu)",
		   rc, (unsigned long long)seqs[0], (unsigned long long)pos.seq, pos.lost);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	struct nm_ktrace_fmt *f = NULL;
	int n;

	unit_start();
	test_kmsg();
	test_kmsg_pos();
	test_kmsg_read_at();
	test_kmsg_posfile();
	test_peer();
	test_uevent();
	UNIT_CHECK(&u, nm_ktrace_fmt_new(&f, NULL) == 0, "ktrace: formats");
	n = ksrc_load_formats(f, "6.1");
	UNIT_CHECK(&u, n == 6, "ktrace: the 6 captured formats of 6.1 parse (%d)", n);
	test_ktrace_page(f, "6.1", "");
	test_ktrace_records(f);
	test_ktrace_built_pages(f);
	test_ktrace_fields(f);
	nm_ktrace_fmt_free(f);
	/* 6.12 moved rpc_clnt_new's strings (xprtsec and flags first): read
	 * by name, the same events. */
	f = NULL;
	UNIT_CHECK(&u, nm_ktrace_fmt_new(&f, NULL) == 0, "ktrace: formats of 6.12");
	n = ksrc_load_formats(f, "6.12");
	UNIT_CHECK(&u, n == 6, "ktrace: the 6 captured formats of 6.12 parse (%d)", n);
	test_ktrace_page(f, "6.12", "198.51.100.1");
	nm_ktrace_fmt_free(f);
	test_ktrace_flag_table();
	test_ktrace_header_page();
	test_ktrace_filter();
	if (getuid() == 0) {
		live_ktrace();
		live_ktrace_time();
		live_ktrace_takeover();
		live_ktrace_retry();
		live_kmsg();
		live_uevent();
	} else {
		printf("ok %d - # SKIP the live sources need root\n", ++u.n);
	}
	return unit_done(&u);
}
