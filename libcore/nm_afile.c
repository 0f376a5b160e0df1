/* nm_afile - atomic replacement of a system file (see nm_afile.h). */
#include "nm_afile.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int split_path(const char *path, char **dir, const char **base, struct nm_err *err)
{
	const char *slash = strrchr(path, '/');

	*dir = NULL;
	if (!slash) {
		*dir = strdup(".");
		*base = path;
	} else {
		*dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
		*base = slash + 1;
	}
	if (!*dir)
		return nm_err_set(err, -ENOMEM, "out of memory");
	if (!**base || strlen(*base) > NAME_MAX - 32) {
		free(*dir);
		*dir = NULL;
		return nm_err_set(err, -EINVAL, "%s: not a file name nfsmig can replace", path);
	}
	return 0;
}

#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/* path opened, through symbolic links resolved as if root were "/"
 * (openat2's RESOLVE_IN_ROOT): a link in a tree at root never reaches
 * outside it.  -ENOSYS where openat2 is not to be had. */
static int open_in_root(const char *root, const char *path)
{
	struct open_how how = {
		.flags = OPEN_FLAGS,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC), fd, e;

	if (rfd < 0)
		return -errno;
	while (*path == '/')
		path++;
	fd = (int)syscall(SYS_openat2, rfd, *path ? path : ".", &how, sizeof(how));
	e = errno;
	close(rfd);
	return fd >= 0 ? fd : -e;
}

/* root NULL: path as it is, a link followed only when follow is set;
 * else rel within root (path is the two joined, for messages and where
 * openat2 is not to be had). */
static int read_file(const char *root, const char *rel, const char *path, size_t max, bool follow,
		     struct nm_afile *f, struct nm_err *err)
{
	int fd = -ENOSYS, rc = 0;
	size_t got = 0;

	memset(f, 0, sizeof(*f));
	if (root)
		fd = open_in_root(root, rel); /* links followed, within root */
	if (fd == -ENOSYS || fd == -EPERM)    /* no openat2 (or a filter refusing it) */
		fd = open(path, OPEN_FLAGS | (follow ? 0 : O_NOFOLLOW));
	else
		follow = true;
	if (fd < 0) {
		int e = fd == -1 ? errno : -fd;

		return nm_err_set(err, -e, "%s: %s", path,
				  e == ELOOP && !follow ? "a symbolic link (not followed)"
							: strerror(e));
	}
	if (fstat(fd, &f->st) != 0) {
		rc = nm_err_set(err, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(f->st.st_mode)) {
		rc = nm_err_set(err, -EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if ((unsigned long long)f->st.st_size > max) {
		rc = nm_err_set(err, -EFBIG, "%s: larger than %zu bytes: not read", path, max);
		goto out;
	}
	f->text = malloc((size_t)f->st.st_size + 1);
	if (!f->text) {
		rc = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t r;

		if (got == (size_t)f->st.st_size) {
			char c;

			/* The file grew while read: not what fstat said. */
			r = read(fd, &c, 1);
			if (r > 0) {
				rc = nm_err_set(err, -ESTALE, "%s: changed while read", path);
				goto out;
			}
			break;
		}
		r = read(fd, f->text + got, (size_t)f->st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = nm_err_set(err, -errno, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	f->text[got] = '\0';
	f->len = got;
out:
	close(fd);
	if (rc)
		nm_afile_free(f);
	return rc;
}

int nm_afile_read(const char *path, size_t max, struct nm_afile *f, struct nm_err *err)
{
	return read_file(NULL, NULL, path, max, false, f, err);
}

int nm_afile_read_in(const char *root, const char *path, size_t max, struct nm_afile *f,
		     struct nm_err *err)
{
	char *full;
	size_t rl = strlen(root);
	int rc;

	while (rl > 0 && root[rl - 1] == '/')
		rl--;
	full = malloc(rl + strlen(path) + 2);
	if (!full)
		return nm_err_set(err, -ENOMEM, "out of memory");
	sprintf(full, "%.*s/%s", (int)rl, root, path[0] == '/' ? path + 1 : path);
	/* Without openat2, the path under root is read without following a
	 * link (a link out of the tree is never read). */
	rc = read_file(root, path, full, max, false, f, err);
	free(full);
	return rc;
}

int nm_afile_write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Is name one of our temporaries of base: ".BASE.TAG-" and 12 lowercase
 * hex digits, exactly? */
static bool our_temp(const char *name, const char *base, const char *tag)
{
	size_t bl = strlen(base), tl = strlen(tag);

	if (name[0] != '.' || strncmp(name + 1, base, bl) != 0 || name[1 + bl] != '.' ||
	    strncmp(name + 2 + bl, tag, tl) != 0 || name[2 + bl + tl] != '-')
		return false;
	name += 3 + bl + tl;
	for (int i = 0; i < 12; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return name[12] == '\0';
}

/* The temporaries a replace killed before its rename left behind: ours by
 * their exact name, regular files of our user, untouched for a minute. */
void nm_afile_sweep_temps(int dirfd, const char *base, const char *tag)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	time_t now = time(NULL);
	struct dirent *de;
	DIR *dp;

	if (fd < 0)
		return;
	dp = fdopendir(fd);
	if (!dp) {
		close(fd);
		return;
	}
	while ((de = readdir(dp))) {
		struct stat st;

		if (!our_temp(de->d_name, base, tag) ||
		    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_mtime > now - 60)
			continue;
		unlinkat(dirfd, de->d_name, 0);
	}
	closedir(dp);
}

int nm_afile_open_temp(int dirfd, const char *base, const char *tag, char *name, size_t cap)
{
	for (int tries = 0; tries < 32; tries++) {
		unsigned char rnd[6];
		int fd;

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -EIO;
		snprintf(name, cap, ".%s.%s-%02x%02x%02x%02x%02x%02x", base, tag, rnd[0], rnd[1],
			 rnd[2], rnd[3], rnd[4], rnd[5]);
		fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

/* A file in dirfd with the bytes, mode and owner of f (a backup where a
 * hard link cannot be made). */
static int copy_backup(int dirfd, const char *name, const struct nm_afile *f)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int rc;

	if (fd < 0)
		return -errno;
	rc = nm_afile_write_all(fd, f->text, f->len);
	if (!rc && fchown(fd, f->st.st_uid, f->st.st_gid) != 0)
		rc = -errno;
	if (!rc && fchmod(fd, f->st.st_mode & 07777) != 0)
		rc = -errno;
	if (!rc && fsync(fd) != 0)
		rc = -errno;
	close(fd);
	if (rc)
		unlinkat(dirfd, name, 0);
	return rc;
}

static int make_backup(int dirfd, const char *base, const char *suffix, const struct nm_afile *f,
		       char *name, size_t cap)
{
	for (int n = 0; n < 100; n++) {
		int rc = 0;

		if (n == 0)
			snprintf(name, cap, "%s%s", base, suffix);
		else
			snprintf(name, cap, "%s%s-%d", base, suffix, n);
		if (linkat(dirfd, base, dirfd, name, 0) != 0) {
			rc = -errno;
			if (rc == -EPERM || rc == -EXDEV || rc == -EOPNOTSUPP || rc == -EMLINK)
				rc = copy_backup(dirfd, name, f);
		}
		if (rc != -EEXIST)
			return rc;
	}
	return -EEXIST;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int nm_afile_replace(const char *path, const struct nm_afile *f, const char *text, size_t len,
		     const char *backup_suffix, char **backup, struct nm_err *err)
{
	char tmp[NAME_MAX + 1], bak[NAME_MAX + 1] = "";
	char *dir = NULL;
	const char *base;
	struct stat now;
	int dirfd = -1, fd = -1, rc;

	if (backup)
		*backup = NULL;
	if (backup_suffix && strlen(backup_suffix) > 24)
		return nm_err_set(err, -EINVAL, "backup suffix too long");
	rc = split_path(path, &dir, &base, err);
	if (rc)
		return rc;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		rc = nm_err_set(err, -errno, "%s: %s", dir, strerror(errno));
		goto out;
	}
	nm_afile_sweep_temps(dirfd, base, "nfsmig");
	fd = nm_afile_open_temp(dirfd, base, "nfsmig", tmp, sizeof(tmp));
	if (fd < 0) {
		rc = nm_err_set(err, fd, "%s: cannot create a temporary file: %s", dir,
				strerror(-fd));
		fd = -1;
		goto out;
	}
	rc = nm_afile_write_all(fd, text, len);
	if (!rc && fchown(fd, f->st.st_uid, f->st.st_gid) != 0)
		rc = -errno;
	if (!rc && fchmod(fd, f->st.st_mode & 07777) != 0)
		rc = -errno;
	if (!rc && fsync(fd) != 0)
		rc = -errno;
	if (rc) {
		rc = nm_err_set(err, rc, "%s/%s: %s", dir, tmp, strerror(-rc));
		goto drop;
	}
	if (fstatat(dirfd, base, &now, AT_SYMLINK_NOFOLLOW) != 0 || !same_file(&now, &f->st)) {
		rc = nm_err_set(err, -ESTALE, "%s: changed since it was read: not replaced", path);
		goto drop;
	}
	if (backup_suffix) {
		rc = make_backup(dirfd, base, backup_suffix, f, bak, sizeof(bak));
		if (rc) {
			rc = nm_err_set(err, rc, "%s: cannot keep a backup: %s", path,
					strerror(-rc));
			bak[0] = '\0';
			goto drop;
		}
	}
	if (renameat(dirfd, tmp, dirfd, base) != 0) {
		rc = nm_err_set(err, -errno, "%s: cannot rename into place: %s", path,
				strerror(errno));
		if (bak[0])
			unlinkat(dirfd, bak, 0);
		goto drop;
	}
	/* Replaced: the backup is named whatever the directory's sync says. */
	if (backup && bak[0]) {
		size_t n = strlen(dir) + strlen(bak) + 2;

		*backup = malloc(n);
		if (*backup)
			snprintf(*backup, n, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", bak);
	}
	if (fsync(dirfd) != 0) {
		int e = errno;

		nm_err_set(err, -e, "%s: the directory not synced: %s (the file was replaced)", dir,
			   strerror(e));
		rc = NM_AFILE_UNSYNCED;
	}
	goto out;
drop:
	unlinkat(dirfd, tmp, 0);
out:
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	free(dir);
	return rc;
}

void nm_afile_free(struct nm_afile *f)
{
	if (!f)
		return;
	free(f->text);
	f->text = NULL;
	f->len = 0;
}
