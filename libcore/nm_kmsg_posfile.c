/* nm_kmsg_posfile - the kernel log's position across restarts (see
 * nm_kmsg_posfile.h). */
#include "nm_kmsg_posfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define POS_MAGIC "nfsmig-kmsg 1\n"
#define POS_MAX	  4096

static int boot_id_ok(const char *b)
{
	size_t n = b ? strlen(b) : 0;

	if (n == 0 || n >= NM_KMSG_BOOT_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((b[i] >= '0' && b[i] <= '9') || (b[i] >= 'a' && b[i] <= 'f') || b[i] == '-'))
			return 0;
	return 1;
}

int nm_kmsg_pos_format(const struct nm_kmsg_pos *pos, const char *boot_id, char *buf, size_t cap)
{
	int n;

	if (!pos || !pos->have || !boot_id_ok(boot_id))
		return -EINVAL;
	n = snprintf(buf, cap, POS_MAGIC "boot_id=%s\nseq=%" PRIu64 "\n", boot_id, pos->seq);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

/* The value of line "key=VALUE\n" at *p (end e), *p moved past it. */
static int take_line(const char **p, const char *e, const char *key, char *val, size_t cap)
{
	size_t kl = strlen(key);
	const char *nl = memchr(*p, '\n', (size_t)(e - *p));
	size_t vl;

	if (!nl || (size_t)(nl - *p) <= kl || memcmp(*p, key, kl) != 0 || (*p)[kl] != '=')
		return -1;
	vl = (size_t)(nl - *p) - kl - 1;
	if (vl == 0 || vl >= cap)
		return -1;
	memcpy(val, *p + kl + 1, vl);
	val[vl] = '\0';
	if (memchr(val, '\0', vl))
		return -1;
	*p = nl + 1;
	return 0;
}

int nm_kmsg_pos_parse(const char *text, size_t len, const char *boot_id, struct nm_kmsg_pos *pos)
{
	const char *p = text, *e = text + len;
	char boot[NM_KMSG_BOOT_ID_MAX], seq[24];
	char *end;
	unsigned long long v;

	memset(pos, 0, sizeof(*pos));
	if (!text || len < strlen(POS_MAGIC) || memcmp(text, POS_MAGIC, strlen(POS_MAGIC)) != 0)
		return -EBADMSG;
	p += strlen(POS_MAGIC);
	if (take_line(&p, e, "boot_id", boot, sizeof(boot)) < 0 || !boot_id_ok(boot) ||
	    take_line(&p, e, "seq", seq, sizeof(seq)) < 0 || p != e)
		return -EBADMSG;
	if (seq[0] < '0' || seq[0] > '9')
		return -EBADMSG;
	errno = 0;
	v = strtoull(seq, &end, 10);
	if (errno || *end)
		return -EBADMSG;
	if (!boot_id || strcmp(boot, boot_id) != 0)
		return 1;
	pos->seq = v;
	pos->have = 1;
	return 0;
}

int nm_kmsg_boot_id(char *buf, size_t cap, struct nm_err *err)
{
	static const char path[] = "/proc/sys/kernel/random/boot_id";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return nm_err_set(err, -errno, "%s: %s", path, strerror(errno));
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n <= 0)
		return nm_err_set(err, -EIO, "%s: nothing read", path);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!boot_id_ok(buf))
		return nm_err_set(err, -EBADMSG, "%s: not a boot id", path);
	return 0;
}

int nm_kmsg_pos_load(const char *state_dir, struct nm_kmsg_pos *pos, struct nm_err *err)
{
	char path[PATH_MAX], boot[NM_KMSG_BOOT_ID_MAX], text[POS_MAX];
	struct stat st;
	ssize_t n;
	int fd, rc;

	memset(pos, 0, sizeof(*pos));
	rc = nm_kmsg_boot_id(boot, sizeof(boot), err);
	if (rc < 0)
		return rc;
	if (snprintf(path, sizeof(path), "%s/" NM_KMSG_POSFILE, state_dir) >= (int)sizeof(path))
		return nm_err_set(err, -ENAMETOOLONG, "%s: path too long", state_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0)
		return nm_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return nm_err_set(err, -EINVAL, "%s: not a regular file", path);
	}
	n = read(fd, text, sizeof(text));
	close(fd);
	if (n < 0)
		return nm_err_set(err, -errno, "%s: %s", path, strerror(errno));
	rc = nm_kmsg_pos_parse(text, (size_t)n, boot, pos);
	if (rc < 0)
		return nm_err_set(err, rc, "%s: not a position nfsmigd wrote", path);
	return rc;
}

int nm_kmsg_pos_save(const char *state_dir, const struct nm_kmsg_pos *pos, struct nm_err *err)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16], boot[NM_KMSG_BOOT_ID_MAX], text[256];
	int fd, len, rc;

	rc = nm_kmsg_boot_id(boot, sizeof(boot), err);
	if (rc < 0)
		return rc;
	len = nm_kmsg_pos_format(pos, boot, text, sizeof(text));
	if (len < 0)
		return nm_err_set(err, len, "no position to save");
	if (snprintf(path, sizeof(path), "%s/" NM_KMSG_POSFILE, state_dir) >= (int)sizeof(path))
		return nm_err_set(err, -ENAMETOOLONG, "%s: path too long", state_dir);
	snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
	unlink(tmp); /* our own pid's, left by a kill */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return nm_err_set(err, -errno, "%s: %s", tmp, strerror(errno));
	if (write(fd, text, (size_t)len) != len) {
		rc = errno ? -errno : -EIO;
		close(fd);
		unlink(tmp);
		return nm_err_set(err, rc, "%s: %s", tmp, strerror(-rc));
	}
	/* On disk before it replaces the old position: a crash leaves one of
	 * the two whole. */
	if (fsync(fd) != 0) {
		rc = -errno;
		close(fd);
		unlink(tmp);
		return nm_err_set(err, rc, "%s: %s", tmp, strerror(-rc));
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		rc = -errno;
		unlink(tmp);
		return nm_err_set(err, rc, "%s: %s", path, strerror(-rc));
	}
	return 0;
}
