#include "nm_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>

int nm_err_set(struct nm_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int nm_err_prefix(struct nm_err *err, const char *fmt, ...)
{
	char head[NM_ERR_MSG_MAX];
	char both[2 * NM_ERR_MSG_MAX + 2];
	va_list ap;

	if (!err)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	snprintf(both, sizeof(both), "%s: %s", head, err->msg);
	memcpy(err->msg, both, sizeof(err->msg) - 1);
	err->msg[sizeof(err->msg) - 1] = '\0';
	return err->code;
}

void nm_err_clear(struct nm_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}
