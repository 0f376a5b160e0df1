/* ksrc-dump - what the kernel sources of libcore see, one line an event:
 * the tracefs instance (nm_ktrace), the sunrpc uevents (nm_uevent) and the
 * kernel log (nm_kmsg) in one epoll loop, as nfsmigd's watcher will have
 * them.  For the VM scenarios (tests/vm/scenarios/ktrace-capture.sh) and
 * for looking at a kernel by hand.
 *
 *   ksrc-dump SECONDS [INSTANCE]
 *
 * First a line per source ("source ktrace: enabled ...; missing ...",
 * "source uevent: ok", or why not), then events until SECONDS pass or
 * SIGTERM/SIGINT; the instance is removed on the way out.  Every field
 * printed was checked or escaped by the source (nm_kev.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "nm_kev.h"
#include "nm_kmsg.h"
#include "nm_ktrace.h"
#include "nm_uevent.h"

static const char *kind_name(enum nm_kev_kind k)
{
	static const char *const names[] = {
		[NM_KEV_NONE] = "NONE",
		[NM_KEV_MOVED] = "MOVED",
		[NM_KEV_LEASE_MOVED] = "LEASE_MOVED",
		[NM_KEV_STATE_MGR] = "STATE_MGR",
		[NM_KEV_STATE_MGR_FAIL] = "STATE_MGR_FAIL",
		[NM_KEV_CLNT_NEW] = "CLNT_NEW",
		[NM_KEV_XPRT_CREATE] = "XPRT_CREATE",
		[NM_KEV_XPRT_SWITCH] = "XPRT_SWITCH",
		[NM_KEV_MIGRATION_FAILED] = "MIGRATION_FAILED",
		[NM_KEV_VOLATILE_FH] = "VOLATILE_FH",
		[NM_KEV_XPRT_REPLACE] = "XPRT_REPLACE",
	};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) && names[k] ? names[k] : "?";
}

/* lag: how long before it was printed the event happened, by its time
 * (the record's own stamp, made wall-clock time by the source). */
static int print(const struct nm_kev *ev, void *arg)
{
	struct timespec ts;
	long long now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	printf("%s %s %s host=%s peer=%s port=%u flags=%s%s%s error=%d seq=%llu lag=%lld "
	       "text=%s\n",
	       ev->source, kind_name(ev->kind), ev->name, ev->host, ev->peer, ev->port,
	       ev->flags & NM_KEV_F_MOVED ? "MOVED," : "",
	       ev->flags & NM_KEV_F_LEASE_MOVED ? "LEASE_MOVED," : "",
	       ev->flags & NM_KEV_F_MANAGER_RUNNING ? "MANAGER_RUNNING," : "", ev->error,
	       (unsigned long long)ev->seq, now - (long long)ev->time_ms, ev->text);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct nm_ktrace *t = NULL;
	struct nm_err err;
	struct epoll_event ee;
	int secs = argc > 1 ? atoi(argv[1]) : 10, ep, uev, kmsg, sfd;
	sigset_t ss;
	time_t end;

	if (argc < 2 || secs <= 0) {
		fprintf(stderr, "usage: ksrc-dump SECONDS [INSTANCE]\n");
		return 2;
	}
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	sfd = signalfd(-1, &ss, SFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ee = (struct epoll_event){ .events = EPOLLIN, .data.u32 = 0 };
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ee);
	if (nm_ktrace_open(argc > 2 ? argv[2] : "nfsmig-dump", &t, &err) == 0) {
		printf("source ktrace: enabled %s; missing %s\n", nm_ktrace_enabled(t),
		       nm_ktrace_missing(t)[0] ? nm_ktrace_missing(t) : "none");
		ee.data.u32 = 1;
		epoll_ctl(ep, EPOLL_CTL_ADD, nm_ktrace_fd(t), &ee);
	} else {
		printf("source ktrace: %s\n", err.msg);
	}
	uev = nm_uevent_open(&err);
	if (uev >= 0) {
		printf("source uevent: ok\n");
		ee.data.u32 = 2;
		epoll_ctl(ep, EPOLL_CTL_ADD, uev, &ee);
	} else {
		printf("source uevent: %s\n", err.msg);
	}
	kmsg = nm_kmsg_open(&err);
	if (kmsg >= 0) {
		printf("source kmsg: ok\n");
		ee.data.u32 = 3;
		epoll_ctl(ep, EPOLL_CTL_ADD, kmsg, &ee);
	} else {
		printf("source kmsg: %s\n", err.msg);
	}
	fflush(stdout);
	end = time(NULL) + secs;
	for (time_t now; (now = time(NULL)) < end;) {
		struct epoll_event got[4];
		int n = epoll_wait(ep, got, 4, (int)(end - now) * 1000);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (int i = 0; i < n; i++) {
			int r = 0;

			switch (got[i].data.u32) {
			case 0: goto out;
			case 1: r = nm_ktrace_read(t, print, NULL, &err); break;
			case 2: r = nm_uevent_read(uev, print, NULL, &err); break;
			case 3: r = nm_kmsg_read(kmsg, print, NULL, &err); break;
			}
			if (r < 0)
				printf("error: %s\n", err.msg);
		}
	}
out:
	if (t) {
		struct nm_ktrace_stats st;

		nm_ktrace_stats(t, &st);
		printf("ktrace: %lu records, %lu malformed, %lu pages with records lost (%lu "
		       "counted)\n",
		       st.records, st.bad, st.lost, st.lost_events);
	}
	nm_ktrace_close(t);
	return 0;
}
