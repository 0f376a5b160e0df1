/* nm_ktrace - see nm_ktrace.h.  (API first: the reader follows.) */
#include <errno.h>
#include <stdlib.h>

#include "nm_ktrace.h"

int nm_ktrace_open(const char *instance, struct nm_ktrace **t, struct nm_err *err)
{
	*t = NULL;
	return nm_err_set(err, -ENOSYS, "tracefs source: not built yet");
}

int nm_ktrace_fd(const struct nm_ktrace *t)
{
	return -1;
}

int nm_ktrace_read(struct nm_ktrace *t, int (*cb)(const struct nm_kev *, void *), void *arg,
		   struct nm_err *err)
{
	return nm_err_set(err, -ENOSYS, "tracefs source: not built yet");
}

const char *nm_ktrace_missing(const struct nm_ktrace *t)
{
	return "";
}

const char *nm_ktrace_enabled(const struct nm_ktrace *t)
{
	return "";
}

void nm_ktrace_stats(const struct nm_ktrace *t, unsigned long *bad, unsigned long *lost)
{
	*bad = 0;
	*lost = 0;
}

void nm_ktrace_close(struct nm_ktrace *t)
{
}

int nm_ktrace_fmt_new(struct nm_ktrace_fmt **f, struct nm_err *err)
{
	*f = NULL;
	return nm_err_set(err, -ENOSYS, "trace formats: not built yet");
}

int nm_ktrace_fmt_add(struct nm_ktrace_fmt *f, const char *system, const char *text, size_t len,
		      struct nm_err *err)
{
	return nm_err_set(err, -ENOSYS, "trace formats: not built yet");
}

void nm_ktrace_fmt_free(struct nm_ktrace_fmt *f)
{
}

int nm_ktrace_decode(const struct nm_ktrace_fmt *f, const void *rec, size_t len, struct nm_kev *ev)
{
	return -ENOSYS;
}

int nm_ktrace_decode_page(const struct nm_ktrace_fmt *f, const void *page, size_t len,
			  int (*cb)(const struct nm_kev *, void *), void *arg, unsigned long *bad)
{
	return -ENOSYS;
}
