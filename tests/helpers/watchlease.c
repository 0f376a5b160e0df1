/* watchlease - nfsmigd's answer to the kernel's LEASE_MOVED
 * (nm_watch_lease) from the command line, for the tests
 * (tests/bats/watch.bats drives it against fakesrv's replays).
 *
 *   watchlease MOUNTINFO STATE_DIR HOST [TIMEOUT_MS]
 *        as if the state manager said LEASE_MOVED for HOST: the registered
 *        mounts of HOST in MOUNTINFO (a mount table file) probed with
 *        their saved root handles; a "lease-moved" event in
 *        STATE_DIR/events.log for each that moved; the watcher's log on
 *        stderr; "moved N" on stdout.
 *
 * Exit status: 0 when it ran, 1 when it failed, 2 on a usage error.
 * Test-only: never installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_esc.h"
#include "nm_kev.h"
#include "nm_watch_run.h"

static void say(void *arg, int prio, const char *line)
{
	(void)arg;
	(void)prio;
	nm_esc_fprintf(stderr, "watchlease: %s\n", line);
}

int main(int argc, char **argv)
{
	struct nm_kev ev;
	struct nm_err err = { 0 };
	struct nm_watch_cfg c = { 0 };
	char nohooks[4096];
	int n;

	if (argc < 4 || argc > 5 || strlen(argv[3]) >= sizeof(ev.host)) {
		fprintf(stderr, "usage: watchlease MOUNTINFO STATE_DIR HOST [TIMEOUT_MS]\n");
		return 2;
	}
	snprintf(nohooks, sizeof(nohooks), "%s/no-hooks", argv[2]);
	memset(&ev, 0, sizeof(ev));
	snprintf(ev.host, sizeof(ev.host), "%s", argv[3]);
	c.state_dir = argv[2];
	c.mountinfo = argv[1];
	c.hooks_dir = nohooks;
	c.timeout_ms = argc == 5 ? atoi(argv[4]) : 2000;
	c.log = say;
	n = nm_watch_lease(&c, &ev, "tracepoint:nfs4_state_mgr", &err);
	if (n < 0) {
		nm_esc_fprintf(stderr, "watchlease: %s\n", err.msg);
		return 1;
	}
	printf("moved %d\n", n);
	return 0;
}
