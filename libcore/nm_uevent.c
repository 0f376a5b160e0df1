/* nm_uevent - see nm_uevent.h.  (API first: the reader follows.) */
#include <errno.h>

#include "nm_uevent.h"

int nm_uevent_open(struct nm_err *err)
{
	return nm_err_set(err, -ENOSYS, "uevent source: not built yet");
}

int nm_uevent_read(int fd, int (*cb)(const struct nm_kev *, void *), void *arg, struct nm_err *err)
{
	return nm_err_set(err, -ENOSYS, "uevent source: not built yet");
}

int nm_uevent_parse(const char *buf, size_t len, struct nm_kev *ev)
{
	return -ENOSYS;
}
