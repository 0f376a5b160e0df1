/* nm_ktrace - NFS trace events from a tracefs instance of nfsmigd's own
 * (see nm_ktrace.h).
 *
 * Reading: each CPU's per_cpu/cpuN/trace_pipe_raw, non-blocking, one
 * ring-buffer page per read(); the files are in an epoll set of our own
 * whose descriptor the caller polls.  (The instance's text trace_pipe
 * would be the printed form, not the fields; tracefs_iterate_raw_events
 * reads but gives nothing to poll.)  The page is walked here, bounded by
 * what read() returned (libtraceevent's kbuffer takes the page's own
 * length on trust); each record is decoded by libtraceevent from the
 * event's format, field by name. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <event-parse.h>
#include <tracefs.h>

#include "nm_ktrace.h"

#define TRACEFS_DIR	 "/sys/kernel/tracing"
#define TRACEFS_MAGIC_NR 0x74726163
#define PAGE_MAX	 65536 /* a sub-buffer is a page, or a few (buffer_subbuf_size_kb) */

/* The events of the issue, in the order they are reported. */
static const char *const our_events[] = {
	"nfs4/nfs4_xdr_status",
	"nfs4/nfs4_state_mgr",
	"nfs4/nfs4_state_mgr_failed",
	"sunrpc/rpc_clnt_new",
	"sunrpc/xprt_create",
	"sunrpc/rpc_clnt_replace_xprt",
	NULL,
};

enum ev_id {
	EV_XDR_STATUS,
	EV_STATE_MGR,
	EV_STATE_MGR_FAILED,
	EV_CLNT_NEW,
	EV_XPRT_CREATE,
	EV_REPLACE_XPRT,
	EV_N
};

/* NFS4CLNT_* bits of this kernel's nfs4_state_mgr: from the event's
 * __print_flags table, else the kernel's enum (6.1: fs/nfs/nfs4_fs.h). */
struct state_bits {
	unsigned long long moved, lease_moved, running;
	bool from_format;
};

/* Where a ring-buffer page keeps its stamp, its commit and its data
 * (events/header_page). */
struct page_layout {
	size_t ts_off, ts_size, commit_off, commit_size, data_off;
};

struct nm_ktrace_fmt {
	struct tep_handle *tep;
	struct tep_event *ev[EV_N];
	struct state_bits bits[EV_N];
	struct page_layout page;
};

/* --- formats ----------------------------------------------------------- */

int nm_ktrace_fmt_new(struct nm_ktrace_fmt **f, struct nm_err *err)
{
	*f = calloc(1, sizeof(**f));
	if (!*f)
		return nm_err_set(err, -ENOMEM, "trace formats: out of memory");
	(*f)->tep = tep_alloc();
	if (!(*f)->tep) {
		free(*f);
		*f = NULL;
		return nm_err_set(err, -ENOMEM, "trace formats: out of memory");
	}
	tep_set_long_size((*f)->tep, (int)sizeof(long));
	tep_set_page_size((*f)->tep, (int)sysconf(_SC_PAGESIZE));
	/* This machine's own until a header_page says otherwise. */
	(*f)->page = (struct page_layout){ .ts_off = 0,
					   .ts_size = 8,
					   .commit_off = 8,
					   .commit_size = sizeof(long),
					   .data_off = 8 + sizeof(long) };
	return 0;
}

void nm_ktrace_fmt_free(struct nm_ktrace_fmt *f)
{
	if (!f)
		return;
	tep_free(f->tep);
	free(f);
}

/* The __print_flags table that prints field name: its masks by name. */
static void flag_bits(struct tep_event *e, const char *name, struct state_bits *b)
{
	*b = (struct state_bits){ .moved = 1ull << 11, .lease_moved = 1ull << 12, .running = 1ull };
	for (struct tep_print_arg *a = e->print_fmt.args; a; a = a->next) {
		struct tep_print_arg *fa;
		struct state_bits got = { 0 };

		if (a->type != TEP_PRINT_FLAGS)
			continue;
		fa = a->flags.field;
		if (!fa || fa->type != TEP_PRINT_FIELD || !fa->field.name ||
		    strcmp(fa->field.name, name) != 0)
			continue;
		for (struct tep_print_flag_sym *s = a->flags.flags; s; s = s->next) {
			char *end;
			unsigned long long v;

			if (!s->value || !s->str)
				continue;
			errno = 0;
			v = strtoull(s->value, &end, 0);
			if (errno || end == s->value || *end)
				continue;
			if (strcmp(s->str, "MOVED") == 0)
				got.moved = v;
			else if (strcmp(s->str, "LEASE_MOVED") == 0)
				got.lease_moved = v;
			else if (strcmp(s->str, "MANAGER_RUNNING") == 0)
				got.running = v;
		}
		if (got.moved || got.lease_moved) {
			got.from_format = true;
			*b = got;
		}
		return;
	}
}

int nm_ktrace_fmt_add(struct nm_ktrace_fmt *f, const char *system, const char *text, size_t len,
		      struct nm_err *err)
{
	struct tep_event *e = NULL;
	enum tep_errno r;

	if (!f || !system || !text)
		return nm_err_set(err, -EINVAL, "trace format: nothing given");
	r = tep_parse_format(f->tep, &e, text, len, system);
	if (r != 0 || !e) {
		char msg[128];

		tep_strerror(f->tep, r, msg, sizeof(msg));
		return nm_err_set(err, -EINVAL, "trace format of %.32s: %s", system, msg);
	}
	for (int i = 0; i < EV_N; i++) {
		const char *s = our_events[i], *slash = strchr(s, '/');

		if (strlen(system) == (size_t)(slash - s) &&
		    strncmp(s, system, (size_t)(slash - s)) == 0 && e->name &&
		    strcmp(e->name, slash + 1) == 0) {
			f->ev[i] = e;
			flag_bits(e, "state", &f->bits[i]);
		}
	}
	return 0;
}

/* --- one record ---------------------------------------------------------- */

struct rec {
	struct tep_event *e;
	struct tep_record r;
	size_t len;
};

/* A number field by name, within the record; a signed field narrower
 * than 8 bytes sign-extended (an int error of -5 is -5). */
static int num(struct rec *rc, const char *name, unsigned long long *v)
{
	struct tep_format_field *fd = tep_find_field(rc->e, name);

	if (!fd || (fd->flags & TEP_FIELD_IS_DYNAMIC) || fd->offset < 0 || fd->size <= 0 ||
	    fd->size > 8 || (size_t)fd->offset + (size_t)fd->size > rc->len)
		return -EINVAL;
	if (tep_get_field_val(NULL, rc->e, name, &rc->r, v, 0) != 0)
		return -EINVAL;
	if ((fd->flags & TEP_FIELD_IS_SIGNED) && fd->size < 8) {
		unsigned bits = (unsigned)fd->size * 8;
		unsigned long long m = 1ull << (bits - 1);

		*v &= (1ull << bits) - 1;
		*v = (*v ^ m) - m;
	}
	return 0;
}

/* The end of the event's fixed part: the common fields and its own. */
static size_t fixed_end(const struct tep_event *e)
{
	size_t end = 0;

	for (int k = 0; k < 2; k++)
		for (const struct tep_format_field *fd = k ? e->format.fields
							   : e->format.common_fields;
		     fd; fd = fd->next)
			if (fd->offset >= 0 && fd->size >= 0 &&
			    (size_t)fd->offset + (size_t)fd->size > end)
				end = (size_t)fd->offset + (size_t)fd->size;
	return end;
}

/* A __string field by name: its bytes within the record, up to its NUL,
 * after the fixed part (never the header's or another field's bytes). */
static int str(struct rec *rc, const char *name, const char **s, size_t *n)
{
	struct tep_format_field *fd = tep_find_field(rc->e, name);
	unsigned long long loc;
	size_t off, l;
	int rl;
	const char *p;

	/* __data_loc (or __rel_loc): a u32, length << 16 | offset. */
	if (!fd || !(fd->flags & TEP_FIELD_IS_DYNAMIC) || fd->offset < 0 || fd->size != 4 ||
	    (size_t)fd->offset + 4 > rc->len)
		return -EINVAL;
	loc = tep_read_number(rc->e->tep, (const char *)rc->r.data + fd->offset, 4);
	off = loc & 0xffff;
	l = (loc >> 16) & 0xffff;
	if (fd->flags & TEP_FIELD_IS_RELATIVE)
		off += (size_t)fd->offset + (size_t)fd->size;
	else if (off < fixed_end(rc->e))
		return -EINVAL;
	if (off < (size_t)fd->offset + 4 || off > rc->len || l > rc->len - off)
		return -EINVAL;
	p = tep_get_field_raw(NULL, rc->e, name, &rc->r, &rl, 0);
	if (p != (const char *)rc->r.data + off || rl < 0 || (size_t)rl != l)
		return -EINVAL;
	*s = p;
	*n = strnlen(p, l);
	return 0;
}

/* "2049" as a port. */
static unsigned port_of(const char *s, size_t n)
{
	unsigned v = 0;

	if (n == 0 || n > 5)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v <= 65535 ? v : 0;
}

static unsigned state_flags(const struct state_bits *b, unsigned long long st)
{
	unsigned fl = 0;

	if (b->moved && (st & b->moved) == b->moved)
		fl |= NM_KEV_F_MOVED;
	if (b->lease_moved && (st & b->lease_moved) == b->lease_moved)
		fl |= NM_KEV_F_LEASE_MOVED;
	if (b->running && (st & b->running) == b->running)
		fl |= NM_KEV_F_MANAGER_RUNNING;
	return fl;
}

/* An error field as the kernel keeps it (6.1: the status made positive,
 * printed negated): the negative form. */
static int neg_error(unsigned long long v)
{
	long long s = (long long)v;

	if (s < -(long long)INT32_MAX || s > INT32_MAX)
		return -INT32_MAX; /* no status of ours */
	return s < 0 ? (int)s : -(int)s;
}

#define NFS4ERR_MOVED	    10019
#define NFS4ERR_LEASE_MOVED 10031

static int decode(const struct nm_ktrace_fmt *f, int id, struct rec *rc, struct nm_kev *ev)
{
	unsigned long long v = 0, st = 0;
	const char *s;
	size_t n;
	char text[160];

	switch (id) {
	case EV_XDR_STATUS: {
		unsigned long long op = 0;

		if (num(rc, "error", &v) || num(rc, "op", &op))
			return -EINVAL;
		ev->error = neg_error(v);
		if (ev->error == -NFS4ERR_MOVED)
			ev->kind = NM_KEV_MOVED;
		else if (ev->error == -NFS4ERR_LEASE_MOVED)
			ev->kind = NM_KEV_LEASE_MOVED;
		else
			return 1; /* another status: not a move */
		snprintf(text, sizeof(text), "error=%d operation=%llu", ev->error,
			 op & 0xffffffffu);
		nm_kev_set_text(ev, text, strlen(text));
		return 0;
	}
	case EV_STATE_MGR:
	case EV_STATE_MGR_FAILED:
		if (num(rc, "state", &st) || str(rc, "hostname", &s, &n))
			return -EINVAL;
		nm_kev_set_host(ev, s, n);
		ev->flags = state_flags(&f->bits[id], st);
		ev->kind = NM_KEV_STATE_MGR;
		if (id == EV_STATE_MGR_FAILED) {
			if (num(rc, "error", &v) || str(rc, "section", &s, &n))
				return -EINVAL;
			ev->kind = NM_KEV_STATE_MGR_FAIL;
			ev->error = neg_error(v);
			nm_kev_set_text(ev, s, n);
		}
		return 0;
	case EV_CLNT_NEW:
	case EV_XPRT_CREATE:
		if (str(rc, "addr", &s, &n))
			return -EINVAL;
		(void)nm_kev_set_peer(ev, s, n);
		if (str(rc, "port", &s, &n))
			return -EINVAL;
		ev->port = port_of(s, n);
		ev->kind = NM_KEV_XPRT_CREATE;
		if (id == EV_CLNT_NEW) {
			const char *srv;
			size_t sn;

			ev->kind = NM_KEV_CLNT_NEW;
			if (str(rc, "server", &srv, &sn) || str(rc, "program", &s, &n))
				return -EINVAL;
			nm_kev_set_text(ev, s, n); /* the program: "nfs", "nfs4_cb" */
			if (!(sn == 6 && memcmp(srv, "(null)", 6) == 0))
				nm_kev_set_host(ev, srv, sn);
		}
		return 0;
	case EV_REPLACE_XPRT:
		if (num(rc, "client_id", &v))
			return -EINVAL;
		ev->kind = NM_KEV_XPRT_REPLACE;
		snprintf(text, sizeof(text), "client=%08llx", v & 0xffffffffu);
		nm_kev_set_text(ev, text, strlen(text));
		return 0;
	}
	return 1;
}

int nm_ktrace_decode(const struct nm_ktrace_fmt *f, const void *data, size_t len, struct nm_kev *ev)
{
	struct tep_format_field *ct;
	struct rec rc = { 0 };
	int type = -1, r;

	nm_kev_init(ev, NM_KEV_NONE, "tracepoint", "");
	if (!f || !data)
		return -EINVAL;
	/* common_type, as every event's format places it. */
	for (int i = 0; i < EV_N && type < 0; i++) {
		if (!f->ev[i])
			continue;
		ct = tep_find_common_field(f->ev[i], "common_type");
		if (!ct || ct->offset < 0 || ct->size <= 0 || ct->size > 4 ||
		    (size_t)ct->offset + (size_t)ct->size > len)
			return -EINVAL;
		type = (int)tep_read_number(f->tep, (const char *)data + ct->offset, ct->size);
	}
	if (type < 0)
		return 1; /* none of our events known */
	for (int i = 0; i < EV_N; i++) {
		if (!f->ev[i] || f->ev[i]->id != type)
			continue;
		if (len > INT32_MAX)
			return -EINVAL;
		rc.e = f->ev[i];
		rc.len = len;
		rc.r.data = (void *)(uintptr_t)data;
		rc.r.size = (int)len;
		rc.r.record_size = (int)len;
		nm_kev_init(ev, NM_KEV_NONE, "tracepoint", rc.e->name);
		r = decode(f, i, &rc, ev);
		if (r != 0) {
			nm_kev_init(ev, NM_KEV_NONE, "tracepoint", rc.e->name);
			return r;
		}
		return 0;
	}
	return 1;
}

/* --- one page ------------------------------------------------------------ */

/* The ring buffer's page (kernel/trace/ring_buffer.c; the layout from
 * events/header_page): u64 time stamp, local_t commit, then the records,
 * each a u32 (type_len:5, time_delta:27) and its data.  The commit's low
 * 32 bits hold the data's length (27 bits) and two flags: records were
 * lost before this page (bit 31), and their count is stored after the
 * data (bit 30).  The kernel adds the flags to a signed long, so above
 * bit 31 the word is sign-extended: only the low 32 bits are read, as
 * libtraceevent's kbuffer does. */
#define RB_MISSED_EVENTS (1u << 31)
#define RB_MISSED_STORED (1u << 30)
#define RB_COMMIT_MASK	 ((1u << 27) - 1)
#define RB_PADDING	 29
#define RB_TIME_EXTEND	 30
#define RB_TIME_STAMP	 31
#define RB_TS_SHIFT	 27

static uint32_t rd32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rdn(const unsigned char *p, size_t n)
{
	uint32_t v32;
	uint64_t v = 0;

	if (n == 4) {
		memcpy(&v32, p, 4);
		return v32;
	}
	memcpy(&v, p, 8);
	return v;
}

/* events/header_page: "\tfield: TYPE NAME;\toffset:N;\tsize:M;..." */
static bool header_field(const char *text, size_t len, const char *name, size_t *off, size_t *size)
{
	char key[32];
	size_t kl;

	snprintf(key, sizeof(key), " %s;", name);
	kl = strlen(key);
	for (size_t i = 0; i + kl <= len; i++) {
		const char *p, *end = text + len;
		unsigned long o, s;
		char *e;

		if (memcmp(text + i, key, kl) != 0)
			continue;
		p = text + i + kl;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 8 || memcmp(p, "offset:", 7) != 0)
			return false;
		errno = 0;
		o = strtoul(p + 7, &e, 10);
		if (errno || e == p + 7 || e >= end || *e != ';')
			return false;
		p = e + 1;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 6 || memcmp(p, "size:", 5) != 0)
			return false;
		s = strtoul(p + 5, &e, 10);
		if (errno || e == p + 5 || e >= end || *e != ';')
			return false;
		*off = o;
		*size = s;
		return true;
	}
	return false;
}

int nm_ktrace_fmt_header_page(struct nm_ktrace_fmt *f, const char *text, size_t len,
			      struct nm_err *err)
{
	struct page_layout l;
	size_t data_size;
	char *nul;

	if (!f || !text)
		return nm_err_set(err, -EINVAL, "trace header_page: nothing given");
	/* bounded: the text is a few lines; strtoul must not run past len */
	if (len > 4096 || ((nul = memchr(text, '\0', len)) && (size_t)(nul - text) < len))
		return nm_err_set(err, -EINVAL, "trace header_page: not a header_page text");
	{
		char buf[4097];

		memcpy(buf, text, len);
		buf[len] = '\0';
		if (!header_field(buf, len, "timestamp", &l.ts_off, &l.ts_size) ||
		    !header_field(buf, len, "commit", &l.commit_off, &l.commit_size) ||
		    !header_field(buf, len, "data", &l.data_off, &data_size))
			return nm_err_set(err, -EINVAL,
					  "trace header_page: no timestamp, commit or data field");
	}
	if (l.ts_size != 8 || (l.commit_size != 4 && l.commit_size != 8) ||
	    l.ts_off + 8 > l.data_off || l.commit_off + l.commit_size > l.data_off ||
	    l.data_off > 64 ||
	    (l.ts_off < l.commit_off + l.commit_size && l.commit_off < l.ts_off + 8))
		return nm_err_set(err, -EINVAL, "trace header_page: a layout not understood");
	f->page = l;
	return 0;
}

/* The record's time: the page's stamp plus each delta up to it, in the
 * instance's trace clock (ns). */
int nm_ktrace_decode_page(const struct nm_ktrace_fmt *f, const void *page, size_t len,
			  int (*cb)(const struct nm_kev *, void *), void *arg,
			  struct nm_ktrace_stats *st)
{
	const unsigned char *p = page;
	const struct page_layout *l;
	uint64_t ts;
	uint32_t commit;
	size_t size, i;

	if (!f || !page)
		return -EINVAL;
	l = &f->page;
	if (len < l->data_off)
		return -EINVAL;
	ts = rdn(p + l->ts_off, 8);
	/* the low 32 bits of the (little- or same-endian) local_t */
	commit = (uint32_t)rdn(p + l->commit_off, l->commit_size);
	size = commit & RB_COMMIT_MASK;
	p += l->data_off;
	if (size > len - l->data_off)
		return -EINVAL;
	if (commit & RB_MISSED_EVENTS) {
		st->lost++;
		/* the count, a long, right after the data when there was room */
		if ((commit & RB_MISSED_STORED) && l->commit_size <= len - l->data_off - size)
			st->lost_events += (unsigned long)rdn(p + size, l->commit_size);
	}
	for (i = 0; i + 4 <= size;) {
		uint32_t w = rd32(p + i);
		unsigned type_len = w & 0x1f;
		uint64_t delta = w >> 5;
		size_t dlen, data;

		if (type_len == RB_PADDING) {
			if (delta == 0)
				break; /* the rest of the page */
			/* a discarded record: its length in the next word */
			if (i + 8 > size)
				return -EINVAL;
			dlen = rd32(p + i + 4);
			if (dlen > size - i - 4)
				return -EINVAL;
			ts += delta;
			i += 4 + dlen;
			continue;
		}
		if (type_len == RB_TIME_EXTEND || type_len == RB_TIME_STAMP) {
			if (i + 8 > size)
				return -EINVAL;
			delta |= (uint64_t)rd32(p + i + 4) << RB_TS_SHIFT;
			if (type_len == RB_TIME_STAMP)
				ts = delta; /* absolute */
			else
				ts += delta;
			i += 8;
			continue;
		}
		ts += delta;
		if (type_len == 0) {
			if (i + 8 > size)
				return -EINVAL;
			dlen = rd32(p + i + 4);
			if (dlen < 4 || dlen - 4 > size - i - 8)
				return -EINVAL;
			dlen -= 4;
			data = i + 8;
			i = data + ((dlen + 3) & ~(size_t)3);
		} else {
			dlen = (size_t)type_len * 4;
			data = i + 4;
			if (dlen > size - data)
				return -EINVAL;
			i = data + dlen;
		}
		{
			struct nm_kev ev;
			int r = nm_ktrace_decode(f, p + data, dlen, &ev);

			st->records++;
			if (r < 0)
				st->bad++;
			if (r == 0) {
				ev.time_ms = (int64_t)(ts / 1000000u);
				if ((r = cb(&ev, arg)) != 0)
					return r;
			}
		}
	}
	return 0;
}

/* --- the live source ------------------------------------------------------ */

struct cpu_pipe {
	int cpu, fd;
};

struct nm_ktrace {
	struct tracefs_instance *inst;
	bool owned; /* ours (locked): removed at close */
	int lockfd;
	struct nm_ktrace_fmt *fmt;
	int epfd;
	int ncpu;
	struct cpu_pipe *cpus;
	clockid_t clock; /* the instance's trace clock, or -1: stamped when read */
	unsigned char *page;
	size_t page_size;
	struct nm_ktrace_stats st;
	char enabled[256];
	char missing[256];
};

static void add_word(char *list, size_t cap, const char *w)
{
	size_t n = strlen(list);

	snprintf(list + n, cap - n, "%s%s", n ? " " : "", w);
}

/* Why tracefs cannot be had, for the message. */
static const char *why(int e)
{
	static const char lockdown[] = "/sys/kernel/security/lockdown";
	char buf[128] = "";
	int fd;
	ssize_t n;

	if (e != -EPERM && e != -EACCES)
		return e == -ENODEV || e == -ENOENT ? " (this kernel has no tracefs)" : "";
	fd = open(lockdown, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0 && strstr(buf, "[confidentiality]"))
			return " (kernel lockdown, confidentiality: tracefs is closed)";
	}
	return geteuid() != 0 ? " (not root)" : "";
}

/* tracefs mounted at /sys/kernel/tracing, by us if need be.  No tracefs
 * in this kernel (ENODEV) or nowhere to mount it: -ENOENT. */
static int tracefs_mounted(struct nm_err *err)
{
	struct statfs sf;

	if (statfs(TRACEFS_DIR, &sf) == 0 && (unsigned long)sf.f_type == TRACEFS_MAGIC_NR)
		return 0;
	if (mount("nodev", TRACEFS_DIR, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
		int e = -errno;

		return nm_err_set(err, e == -ENOENT || e == -ENODEV ? -ENOENT : e,
				  "tracefs: cannot mount %s: %s%s", TRACEFS_DIR, strerror(-e),
				  why(e));
	}
	return 0;
}

static int load_format(struct nm_ktrace *t, const char *ev, struct nm_err *err)
{
	char sys[32], *text;
	const char *slash = strchr(ev, '/');
	int size = 0, r;

	snprintf(sys, sizeof(sys), "%.*s", (int)(slash - ev), ev);
	text = tracefs_event_file_read(t->inst, sys, slash + 1, "format", &size);
	if (!text || size <= 0) {
		free(text);
		return nm_err_set(err, -EIO, "tracefs: cannot read the format of %s", ev);
	}
	r = nm_ktrace_fmt_add(t->fmt, sys, text, (size_t)size, err);
	free(text);
	return r;
}

/* events/header_page of tracefs: the page layout of this kernel. */
static int load_header_page(struct nm_ktrace *t, struct nm_err *err)
{
	int size = 0, r;
	char *text = tracefs_instance_file_read(NULL, "events/header_page", &size);

	if (!text || size <= 0) {
		free(text);
		return nm_err_set(err, -EIO, "tracefs: cannot read events/header_page");
	}
	r = nm_ktrace_fmt_header_page(t->fmt, text, (size_t)size, err);
	free(text);
	return r;
}

int nm_ktrace_xdr_filter(const struct nm_ktrace_fmt *f, char *buf, size_t cap)
{
	struct tep_format_field *fd;

	if (!f || !f->ev[EV_XDR_STATUS] || cap == 0)
		return -ENOENT;
	fd = tep_find_field(f->ev[EV_XDR_STATUS], "error");
	if (!fd || (fd->flags & TEP_FIELD_IS_DYNAMIC))
		return -ENOENT;
	/* 6.1 and 6.12 keep the status made positive in an unsigned long;
	 * a kernel that kept it negative in a signed field: both signs. */
	if ((size_t)snprintf(
		    buf, cap, "error==%d || error==%d%s", NFS4ERR_MOVED, NFS4ERR_LEASE_MOVED,
		    (fd->flags & TEP_FIELD_IS_SIGNED) ? " || error==-10019 || error==-10031"
						      : "") >= cap)
		return -ENOSPC;
	return 0;
}

/* Only MOVED and LEASE_MOVED of nfs4_xdr_status are kept in the buffer:
 * every other status of every reply would flood it. */
static void filter_xdr_status(struct nm_ktrace *t)
{
	char filter[128];

	if (nm_ktrace_xdr_filter(t->fmt, filter, sizeof(filter)) == 0 &&
	    tracefs_event_file_write(t->inst, "nfs4", "nfs4_xdr_status", "filter", filter) < 0)
		add_word(t->missing, sizeof(t->missing), "(nfs4_xdr_status filter)");
}

/* The instance's clock: CLOCK_BOOTTIME ("boot"), else CLOCK_MONOTONIC
 * ("mono"), so that a record's stamp converts to wall-clock time.  Set
 * only when it differs (setting it empties the buffer: an instance taken
 * over keeps its records). */
static clockid_t trace_clock(struct nm_ktrace *t)
{
	static const struct {
		const char *name;
		clockid_t id;
	} clocks[] = { { "boot", CLOCK_BOOTTIME }, { "mono", CLOCK_MONOTONIC } };
	char *cur = tracefs_get_clock(t->inst);

	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		if (cur && strcmp(cur, clocks[i].name) == 0) {
			free(cur);
			return clocks[i].id;
		}
		if (tracefs_instance_file_write(t->inst, "trace_clock", clocks[i].name) > 0) {
			free(cur);
			return clocks[i].id;
		}
	}
	free(cur);
	return (clockid_t)-1;
}

static int cpu_of(const char *name)
{
	char *end;
	long c;

	if (strncmp(name, "cpu", 3) != 0 || name[3] < '0' || name[3] > '9')
		return -1;
	errno = 0;
	c = strtol(name + 3, &end, 10);
	return errno || *end || c < 0 || c > 65535 ? -1 : (int)c;
}

/* Each CPU of the instance's per_cpu/ (those the kernel made: possible
 * CPUs, whatever their numbers). */
static int open_cpus(struct nm_ktrace *t, struct nm_err *err)
{
	char *dir = tracefs_instance_get_file(t->inst, "per_cpu");
	DIR *d;
	struct dirent *de;
	size_t cap = 0;

	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0) {
		tracefs_put_tracing_file(dir);
		return nm_err_set(err, -errno, "tracefs: epoll: %s", strerror(errno));
	}
	d = dir ? opendir(dir) : NULL;
	tracefs_put_tracing_file(dir);
	if (!d)
		return nm_err_set(err, -EIO, "tracefs: cannot list per_cpu of the instance");
	while ((de = readdir(d))) {
		char path[64];
		struct epoll_event ee = { .events = EPOLLIN };
		int c = cpu_of(de->d_name), fd;

		if (c < 0)
			continue;
		if ((size_t)t->ncpu == cap) {
			struct cpu_pipe *n;

			if (cap >= 8192 ||
			    !(n = realloc(t->cpus, (cap = cap ? cap * 2 : 16) * sizeof(*n)))) {
				closedir(d);
				return nm_err_set(err, -ENOMEM, "tracefs: out of memory");
			}
			t->cpus = n;
		}
		snprintf(path, sizeof(path), "per_cpu/cpu%d/trace_pipe_raw", c);
		fd = tracefs_instance_file_open(t->inst, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			closedir(d);
			return nm_err_set(err, -EIO, "tracefs: cannot open %s of the instance",
					  path);
		}
		t->cpus[t->ncpu++] = (struct cpu_pipe){ .cpu = c, .fd = fd };
		ee.data.u32 = (uint32_t)c;
		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ee) != 0) {
			closedir(d);
			return nm_err_set(err, -errno, "tracefs: epoll: %s", strerror(errno));
		}
	}
	closedir(d);
	if (t->ncpu == 0)
		return nm_err_set(err, -EIO, "tracefs: the instance has no per_cpu/cpuN");
	return 0;
}

/* The instance is one daemon's: an exclusive flock on its directory (let
 * go by the kernel when the holder dies, so a kill -9 leaves it to the
 * next). */
static int lock_instance(struct nm_ktrace *t, const char *instance, struct nm_err *err)
{
	char *dir = tracefs_instance_get_dir(t->inst);

	t->lockfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
	free(dir);
	if (t->lockfd < 0)
		return nm_err_set(err, -errno ? -errno : -EIO,
				  "tracefs: cannot open the instance %s: %s", instance,
				  strerror(errno ? errno : EIO));
	if (flock(t->lockfd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno == EWOULDBLOCK ? -EBUSY : -errno;

		return nm_err_set(err, e, "tracefs: the instance %s is %s", instance,
				  e == -EBUSY ? "in use by another process" : strerror(-e));
	}
	t->owned = true;
	return 0;
}

/* ev ("system/name") enabled in the instance: 1, and named in enabled;
 * 0 when this kernel has no such event (now); a negative errno with err
 * when it cannot be enabled. */
static int enable_one(struct nm_ktrace *t, const char *ev, struct nm_err *err)
{
	const char *slash = strchr(ev, '/');
	char sys[32];
	int r;

	if (!slash || (size_t)(slash - ev) >= sizeof(sys))
		return 0;
	snprintf(sys, sizeof(sys), "%.*s", (int)(slash - ev), ev);
	if (!tracefs_event_file_exists(t->inst, sys, slash + 1, "enable"))
		return 0;
	r = load_format(t, ev, err);
	if (r < 0)
		return r;
	if (strcmp(ev, "nfs4/nfs4_xdr_status") == 0)
		filter_xdr_status(t);
	errno = 0;
	if (tracefs_event_enable(t->inst, sys, slash + 1) != 0) {
		int e = errno ? -errno : -EIO;

		return nm_err_set(err, e, "tracefs: cannot enable %s: %s%s", ev, strerror(-e),
				  why(e));
	}
	add_word(t->enabled, sizeof(t->enabled), ev);
	return 1;
}

int nm_ktrace_retry_missing(struct nm_ktrace *t, struct nm_err *err)
{
	char was[sizeof(t->missing)], *save = NULL;
	int n = 0, r = 0;

	if (!t || !t->missing[0])
		return 0;
	snprintf(was, sizeof(was), "%s", t->missing);
	t->missing[0] = '\0';
	for (char *ev = strtok_r(was, " ", &save); ev; ev = strtok_r(NULL, " ", &save)) {
		int e = r < 0 ? 0 : enable_one(t, ev, err);

		if (e < 0)
			r = e; /* said once; this one and the rest stay missing */
		if (e == 1)
			n++;
		else
			add_word(t->missing, sizeof(t->missing), ev);
	}
	return r < 0 ? r : n;
}

int nm_ktrace_open_events(const char *instance, const char *const *events, struct nm_ktrace **tp,
			  struct nm_err *err)
{
	struct nm_ktrace *t;
	long ps = sysconf(_SC_PAGESIZE);
	int r;

	*tp = NULL;
	if (!instance)
		instance = "nfsmigd";
	if (!events)
		events = our_events;
	if (!*instance || strchr(instance, '/') || strlen(instance) > 64 || instance[0] == '.')
		return nm_err_set(err, -EINVAL, "tracefs: bad instance name");
	r = tracefs_mounted(err);
	if (r < 0)
		return r;
	t = calloc(1, sizeof(*t));
	if (!t)
		return nm_err_set(err, -ENOMEM, "tracefs: out of memory");
	t->epfd = -1;
	t->lockfd = -1;
	t->clock = (clockid_t)-1;
	t->page_size = ps > 0 && ps <= PAGE_MAX ? (size_t)ps : 4096;
	r = nm_ktrace_fmt_new(&t->fmt, err);
	if (r < 0)
		goto fail;
	t->page = malloc(PAGE_MAX);
	if (!t->page) {
		r = nm_err_set(err, -ENOMEM, "tracefs: out of memory");
		goto fail;
	}
	r = load_header_page(t, err);
	if (r < 0)
		goto fail;
	/* An instance left by a daemon killed before: taken over, records
	 * and all (what it saw while we were down is read now). */
	errno = 0;
	t->inst = tracefs_instance_create(instance);
	if (!t->inst) {
		int e = errno ? -errno : -EIO;

		r = nm_err_set(err, e, "tracefs: cannot create the instance %s: %s%s", instance,
			       strerror(-e), why(e));
		goto fail;
	}
	r = lock_instance(t, instance, err);
	if (r < 0)
		goto fail;
	t->clock = trace_clock(t);
	/* Rare events: a small buffer; wake the reader at the first record. */
	(void)tracefs_instance_set_buffer_size(t->inst, 256, -1);
	if (tracefs_file_exists(t->inst, "buffer_percent"))
		(void)tracefs_instance_file_write(t->inst, "buffer_percent", "0");
	for (size_t i = 0; events[i]; i++) {
		r = enable_one(t, events[i], err);
		if (r < 0)
			goto fail;
		if (r == 0)
			add_word(t->missing, sizeof(t->missing), events[i]);
	}
	if (!t->enabled[0]) {
		r = nm_err_set(err, -ENOENT, "tracefs: this kernel has none of the events (%s)%s",
			       t->missing,
			       events == our_events ? ": is the nfsv4 module loaded?" : "");
		goto fail;
	}
	r = open_cpus(t, err);
	if (r < 0)
		goto fail;
	(void)tracefs_instance_file_write(t->inst, "tracing_on", "1");
	*tp = t;
	return 0;
fail:
	nm_ktrace_close(t);
	return r;
}

int nm_ktrace_open(const char *instance, struct nm_ktrace **t, struct nm_err *err)
{
	return nm_ktrace_open_events(instance, NULL, t, err);
}

int nm_ktrace_fd(const struct nm_ktrace *t)
{
	return t ? t->epfd : -1;
}

static int64_t ms_of(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The caller's callback, with the record's wall-clock time; its own
 * return kept apart from the page's (-EINVAL of a bad page). */
struct stamped {
	int (*cb)(const struct nm_kev *, void *);
	void *arg;
	bool clock_ok;
	int64_t rt_ms, clk_ms;
	int ret;
};

static int stamp(const struct nm_kev *ev, void *arg)
{
	struct stamped *s = arg;
	struct nm_kev e = *ev;

	/* the trace clock's ms made wall time; read time when we have none */
	if (s->clock_ok && e.time_ms >= 0 && e.time_ms <= s->clk_ms)
		e.time_ms = s->rt_ms - (s->clk_ms - e.time_ms);
	else
		e.time_ms = s->rt_ms;
	s->ret = s->cb(&e, s->arg);
	return s->ret ? 1 : 0;
}

int nm_ktrace_read(struct nm_ktrace *t, int (*cb)(const struct nm_kev *, void *), void *arg,
		   struct nm_err *err)
{
	struct stamped sc = { .cb = cb, .arg = arg, .clock_ok = t->clock != (clockid_t)-1 };

	sc.rt_ms = ms_of(CLOCK_REALTIME);
	if (sc.clock_ok)
		sc.clk_ms = ms_of(t->clock);
	for (int c = 0; c < t->ncpu; c++) {
		for (int pages = 0; pages < 1024; pages++) {
			ssize_t n = read(t->cpus[c].fd, t->page, PAGE_MAX);
			int r;

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN)
				break;
			if (n < 0)
				return nm_err_set(err, -errno, "tracefs: read cpu%d: %s",
						  t->cpus[c].cpu, strerror(errno));
			if (n == 0)
				break;
			sc.ret = 0;
			r = nm_ktrace_decode_page(t->fmt, t->page, (size_t)n, stamp, &sc, &t->st);
			if (sc.ret != 0)
				return sc.ret; /* the callback's: stop */
			if (r != 0)
				t->st.bad++; /* a page we cannot walk: skipped */
		}
	}
	return 0;
}

const char *nm_ktrace_missing(const struct nm_ktrace *t)
{
	return t ? t->missing : "";
}

struct nm_ktrace_fmt *nm_ktrace_formats(struct nm_ktrace *t)
{
	return t ? t->fmt : NULL;
}

const char *nm_ktrace_enabled(const struct nm_ktrace *t)
{
	return t ? t->enabled : "";
}

void nm_ktrace_stats(const struct nm_ktrace *t, struct nm_ktrace_stats *st)
{
	*st = t ? t->st : (struct nm_ktrace_stats){ 0 };
}

void nm_ktrace_close(struct nm_ktrace *t)
{
	if (!t)
		return;
	for (int c = 0; c < t->ncpu; c++)
		close(t->cpus[c].fd);
	free(t->cpus);
	if (t->epfd >= 0)
		close(t->epfd);
	if (t->inst) {
		if (t->owned) {
			(void)tracefs_instance_file_write(t->inst, "tracing_on", "0");
			(void)tracefs_event_disable(t->inst, NULL, NULL);
			(void)tracefs_instance_destroy(t->inst);
		}
		tracefs_instance_free(t->inst);
	}
	if (t->lockfd >= 0)
		close(t->lockfd);
	nm_ktrace_fmt_free(t->fmt);
	free(t->page);
	free(t);
}
