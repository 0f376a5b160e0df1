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
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
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

struct nm_ktrace_fmt {
	struct tep_handle *tep;
	struct tep_event *ev[EV_N];
	struct state_bits bits[EV_N];
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

/* A number field by name, within the record. */
static int num(struct rec *rc, const char *name, unsigned long long *v)
{
	struct tep_format_field *fd = tep_find_field(rc->e, name);

	if (!fd || (fd->flags & TEP_FIELD_IS_DYNAMIC) || fd->offset < 0 || fd->size <= 0 ||
	    fd->size > 8 || (size_t)fd->offset + (size_t)fd->size > rc->len)
		return -EINVAL;
	return tep_get_field_val(NULL, rc->e, name, &rc->r, v, 0) == 0 ? 0 : -EINVAL;
}

/* A __string field by name: its bytes within the record, up to its NUL. */
static int str(struct rec *rc, const char *name, const char **s, size_t *n)
{
	struct tep_format_field *fd = tep_find_field(rc->e, name);
	unsigned long long loc;
	size_t off, l;
	int rl;
	const char *p;

	if (!fd || !(fd->flags & TEP_FIELD_IS_DYNAMIC) || fd->offset < 0 ||
	    (fd->size != 4 && fd->size != 2) || (size_t)fd->offset + (size_t)fd->size > rc->len)
		return -EINVAL;
	loc = tep_read_number(rc->e->tep, (const char *)rc->r.data + fd->offset, fd->size);
	off = loc & 0xffff;
	l = (loc >> 16) & 0xffff;
	if (fd->size == 2) /* an old layout: the offset alone */
		return -EINVAL;
	if (fd->flags & TEP_FIELD_IS_RELATIVE)
		off += (size_t)fd->offset + (size_t)fd->size;
	if (off > rc->len || l > rc->len - off)
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

	if (s < 0)
		s = -s;
	return s > INT32_MAX || s < 0 ? -INT32_MAX : -(int)s;
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

/* The ring buffer's page: u64 time stamp, local_t commit (the data's
 * length; bits 31 and 30: events were lost), then records, each a u32
 * (type_len:5, time_delta:27) and its data (kernel/trace/ring_buffer.c). */
#define RB_MISSED_EVENTS (1u << 31)
#define RB_MISSED_STORED (1u << 30)
#define RB_PADDING	 29
#define RB_TIME_EXTEND	 30
#define RB_TIME_STAMP	 31

static uint32_t rd32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

int nm_ktrace_decode_page(const struct nm_ktrace_fmt *f, const void *page, size_t len,
			  int (*cb)(const struct nm_kev *, void *), void *arg,
			  struct nm_ktrace_stats *st)
{
	const unsigned char *p = page;
	const size_t hdr = 8 + sizeof(long);
	unsigned long commit;
	size_t size, i;

	if (!page || len < hdr)
		return -EINVAL;
	memcpy(&commit, p + 8, sizeof(long));
	if (commit & (RB_MISSED_EVENTS | RB_MISSED_STORED))
		st->lost++;
	size = commit & ~(unsigned long)(RB_MISSED_EVENTS | RB_MISSED_STORED);
	if (size > len - hdr)
		return -EINVAL;
	p += hdr;
	for (i = 0; i + 4 <= size;) {
		uint32_t w = rd32(p + i);
		unsigned type_len = w & 0x1f;
		size_t dlen, data;

		if (type_len == RB_PADDING) {
			if ((w >> 5) == 0)
				break; /* the rest of the page */
			if (i + 8 > size)
				return -EINVAL;
			dlen = rd32(p + i + 4);
			if (dlen > size - i - 4)
				return -EINVAL;
			i += 4 + dlen;
			continue;
		}
		if (type_len == RB_TIME_EXTEND || type_len == RB_TIME_STAMP) {
			i += 8;
			continue;
		}
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
			if (r == 0 && (r = cb(&ev, arg)) != 0)
				return r;
		}
	}
	return 0;
}

/* --- the live source ------------------------------------------------------ */

struct nm_ktrace {
	struct tracefs_instance *inst;
	struct nm_ktrace_fmt *fmt;
	int epfd;
	int ncpu;
	int *cpufd;
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
		return e == -ENODEV ? " (this kernel has no tracefs)" : "";
	fd = open(lockdown, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0 && !strstr(buf, "[none]"))
			return " (kernel lockdown is on: tracefs is closed)";
	}
	return geteuid() != 0 ? " (not root)" : "";
}

/* tracefs mounted at /sys/kernel/tracing, by us if need be. */
static int tracefs_mounted(struct nm_err *err)
{
	struct statfs sf;

	if (statfs(TRACEFS_DIR, &sf) == 0 && (unsigned long)sf.f_type == TRACEFS_MAGIC_NR)
		return 0;
	if (mount("nodev", TRACEFS_DIR, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
		int e = -errno;

		return nm_err_set(err, e == -ENOENT ? -ENOENT : e, "tracefs: cannot mount %s: %s%s",
				  TRACEFS_DIR, strerror(-e), why(e));
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

static int open_cpus(struct nm_ktrace *t, struct nm_err *err)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	if (n <= 0 || n > 8192)
		n = 1;
	t->cpufd = malloc((size_t)n * sizeof(int));
	if (!t->cpufd)
		return nm_err_set(err, -ENOMEM, "tracefs: out of memory");
	for (t->ncpu = 0; t->ncpu < n; t->ncpu++)
		t->cpufd[t->ncpu] = -1;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0)
		return nm_err_set(err, -errno, "tracefs: epoll: %s", strerror(errno));
	for (int c = 0; c < t->ncpu; c++) {
		char path[64];
		struct epoll_event ee = { .events = EPOLLIN, .data.u32 = (uint32_t)c };
		int fd;

		snprintf(path, sizeof(path), "per_cpu/cpu%d/trace_pipe_raw", c);
		if (!tracefs_file_exists(t->inst, path))
			continue; /* a CPU that is not possible here */
		fd = tracefs_instance_file_open(t->inst, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return nm_err_set(err, -EIO, "tracefs: cannot open %s of the instance",
					  path);
		t->cpufd[c] = fd;
		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ee) != 0)
			return nm_err_set(err, -errno, "tracefs: epoll: %s", strerror(errno));
	}
	return 0;
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
	t->page_size = ps > 0 && ps <= PAGE_MAX ? (size_t)ps : 4096;
	r = nm_ktrace_fmt_new(&t->fmt, err);
	if (r < 0)
		goto fail;
	t->page = malloc(PAGE_MAX);
	if (!t->page) {
		r = nm_err_set(err, -ENOMEM, "tracefs: out of memory");
		goto fail;
	}
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
	/* Rare events: a small buffer; wake the reader at the first record. */
	(void)tracefs_instance_set_buffer_size(t->inst, 256, -1);
	if (tracefs_file_exists(t->inst, "buffer_percent"))
		(void)tracefs_instance_file_write(t->inst, "buffer_percent", "0");
	for (size_t i = 0; events[i]; i++) {
		const char *ev = events[i], *slash = strchr(ev, '/');
		char sys[32];

		if (!slash || (size_t)(slash - ev) >= sizeof(sys))
			continue;
		snprintf(sys, sizeof(sys), "%.*s", (int)(slash - ev), ev);
		if (!tracefs_event_file_exists(t->inst, sys, slash + 1, "enable")) {
			add_word(t->missing, sizeof(t->missing), ev);
			continue;
		}
		errno = 0;
		if (tracefs_event_enable(t->inst, sys, slash + 1) != 0) {
			int e = errno ? -errno : -EIO;

			r = nm_err_set(err, e, "tracefs: cannot enable %s: %s%s", ev, strerror(-e),
				       why(e));
			goto fail;
		}
		r = load_format(t, ev, err);
		if (r < 0)
			goto fail;
		add_word(t->enabled, sizeof(t->enabled), ev);
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

int nm_ktrace_read(struct nm_ktrace *t, int (*cb)(const struct nm_kev *, void *), void *arg,
		   struct nm_err *err)
{
	for (int c = 0; c < t->ncpu; c++) {
		if (t->cpufd[c] < 0)
			continue;
		for (int pages = 0; pages < 1024; pages++) {
			ssize_t n = read(t->cpufd[c], t->page, PAGE_MAX);
			int r;

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN)
				break;
			if (n < 0)
				return nm_err_set(err, -errno, "tracefs: read cpu%d: %s", c,
						  strerror(errno));
			if (n == 0)
				break;
			r = nm_ktrace_decode_page(t->fmt, t->page, (size_t)n, cb, arg, &t->st);
			if (r == -EINVAL)
				t->st.bad++;
			else if (r != 0)
				return r;
		}
	}
	return 0;
}

const char *nm_ktrace_missing(const struct nm_ktrace *t)
{
	return t ? t->missing : "";
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
	for (int c = 0; t->cpufd && c < t->ncpu; c++)
		if (t->cpufd[c] >= 0)
			close(t->cpufd[c]);
	free(t->cpufd);
	if (t->epfd >= 0)
		close(t->epfd);
	if (t->inst) {
		(void)tracefs_instance_file_write(t->inst, "tracing_on", "0");
		(void)tracefs_event_disable(t->inst, NULL, NULL);
		(void)tracefs_instance_destroy(t->inst);
		tracefs_instance_free(t->inst);
	}
	nm_ktrace_fmt_free(t->fmt);
	free(t->page);
	free(t);
}
