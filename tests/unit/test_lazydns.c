/* test_lazydns: nfsmigd's DNS library loaded at first use (daemon/lazydns.c),
 * built here with a soname that does not exist: every lookup must fail
 * cleanly, at once, with a reason naming the library (libc-ares2 is a
 * run-time dependency nfsmigd no longer lists in its NEEDED). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nm_conf.h"
#include "nm_dns.h"
#include "nm_time.h"
#include "unit.h"

int main(void)
{
	struct unit u = { 0 };
	struct nm_conf c;
	struct nm_dns_answer ans;
	struct nm_err err = { 0 };
	int64_t t0;
	int rc;

	unit_start();
	rc = nm_dns_init(&err);
	UNIT_CHECK(&u, rc < 0 && strstr(err.msg, "cannot be loaded"),
		   "lazydns: no library, the DNS client does not start: %s", err.msg);
	nm_conf_defaults(&c);
	snprintf(c.hosts, sizeof(c.hosts), "/dev/null");
	t0 = nm_time_ms();
	memset(&err, 0, sizeof(err));
	rc = nm_dns_resolve(&c, "v4.nfsmig.test", true, false, 2000, &ans, &err);
	UNIT_CHECK(&u, (rc < 0 || ans.status != NM_DNS_OK) && nm_time_ms() - t0 < 1000,
		   "lazydns: a lookup fails at once, without an answer (%d, %s%s)", rc,
		   nm_dns_status_name(ans.status), err.msg);
	return unit_done(&u);
}
