/* nm_kmsg - see nm_kmsg.h.  (API first: the reader follows.) */
#include <errno.h>

#include "nm_kmsg.h"

int nm_kmsg_open(struct nm_err *err)
{
	return nm_err_set(err, -ENOSYS, "kmsg source: not built yet");
}

int nm_kmsg_read(int fd, int (*cb)(const struct nm_kev *, void *), void *arg, struct nm_err *err)
{
	return nm_err_set(err, -ENOSYS, "kmsg source: not built yet");
}

int nm_kmsg_parse(const char *rec, size_t len, struct nm_kev *ev)
{
	return -ENOSYS;
}
