/* nfsmigd's log: syslog, and stderr when someone reads it. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

#include "dlog.h"
#include "nm_esc.h"

void nfsmigd_log(const struct nfsmigd_opts *o, int prio, const char *fmt, ...)
{
	char msg[1024], shown[4 * sizeof(msg)];
	va_list ap;

	if (prio >= LOG_INFO && o->verbose == 0)
		return;
	/* A key's description (a server's name from fs_locations) and what
	 * the kernel or a resolver said are in it: shown escaped, never raw. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nm_esc_buf(msg, 0, shown, sizeof(shown));
	syslog(prio, "%s", shown);
	if (prio <= LOG_WARNING || o->verbose || isatty(2) || o->foreground)
		fprintf(stderr, "nfsmigd: %s\n", shown);
}
