/* nfsmigd's log: syslog, and stderr when someone reads it. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

#include "dlog.h"

void nfsmigd_log(const struct nfsmigd_opts *o, int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio >= LOG_INFO && o->verbose == 0)
		return;
	va_start(ap, fmt);
	vsyslog(prio, fmt, ap);
	va_end(ap);
	if (prio <= LOG_WARNING || o->verbose || isatty(2) || o->foreground) {
		va_start(ap, fmt);
		fprintf(stderr, "nfsmigd: ");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
}
