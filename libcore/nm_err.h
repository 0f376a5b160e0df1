/* nm_err - errors as negative errno plus a message the caller owns. */
#ifndef NM_ERR_H
#define NM_ERR_H

#include <stddef.h>

#define NM_ERR_MSG_MAX 512

/* Every fallible libcore function returns 0 or a negative errno and, when it
 * fails, fills the struct nm_err its caller passed in (which may be NULL). */
struct nm_err {
	int code; /* negative errno, 0 when no error */
	char msg[NM_ERR_MSG_MAX];
};

/* Record an error; returns code so callers can `return nm_err_set(...)`. */
int nm_err_set(struct nm_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put "what: " in front of an existing message, keeping its code. */
int nm_err_prefix(struct nm_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void nm_err_clear(struct nm_err *err);

#endif
