#include "nm_evlog.h"
#include "nm_json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int nm_evlog_upcall(const char *state_dir, const char *name, const char *callout,
		    const char *answer, unsigned ttl, const char *status, const char *by,
		    struct nm_err *err)
{
	char path[512], *line = NULL;
	size_t len = 0;
	struct timespec ts;
	struct stat st;
	FILE *m;
	int fd;

	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
		return nm_err_set(err, -errno, "%s: %s", state_dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/upcalls.log", state_dir);
	m = open_memstream(&line, &len);
	if (!m)
		return nm_err_set(err, -ENOMEM, "out of memory");
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(m, "{\"time\":%lld.%03ld,\"event\":\"upcall\",\"name\":", (long long)ts.tv_sec,
		ts.tv_nsec / 1000000);
	nm_json_str(m, name);
	fputs(",\"callout\":", m);
	nm_json_str(m, callout);
	fputs(",\"answer\":", m);
	nm_json_str(m, answer);
	fprintf(m, ",\"ttl\":%u,\"status\":", ttl);
	nm_json_str(m, status);
	fputs(",\"by\":", m);
	nm_json_str(m, by);
	fputs("}\n", m);
	fclose(m);
	/* O_NONBLOCK: a FIFO put in its place must not block us (the open
	 * of one nobody reads would wait for ever); only a regular file is
	 * written. */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0) {
		int e = errno;

		free(line);
		return nm_err_set(err, -e, "%s: %s", path, strerror(e));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		free(line);
		return nm_err_set(err, -EINVAL, "%s: not a regular file", path);
	}
	/* One write of one line: appends from several writers do not mix. */
	if (write(fd, line, len) != (ssize_t)len) {
		int e = errno ? errno : EIO;

		close(fd);
		free(line);
		return nm_err_set(err, -e, "%s: %s", path, strerror(e));
	}
	close(fd);
	free(line);
	return 0;
}
