/* nm_utab - x-nfsmig.* user options in libmount's utab (see nm_utab.h). */
#include "nm_utab.h"

#include <errno.h>
#include <libmount.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "nm_afile.h"
#include "nm_time.h"

#include "nm_target.h"

#define NM_UTAB_PREFIX	  "x-nfsmig."
#define NM_UTAB_LOCK_MS	  5000		     /* libmount holds it for moments */
#define NM_UTAB_MAX_BYTES (16 * 1024 * 1024) /* a larger utab is not read */

int nm_utab_merge_opts(const char *old, const char *server, const char *from, char **out,
		       struct nm_err *err)
{
	char *res = NULL, *name, *value;
	size_t nlen, vlen;
	int rc;

	*out = NULL;
	if (!server || !nm_target_host_name_ok(server))
		return nm_err_set(err, -EINVAL, "not a host name or an address: refused for utab");
	if (from && *from && !nm_target_host_name_ok(from))
		return nm_err_set(
			err, -EINVAL,
			"the former server is not a host name or an address: refused for utab");
	if (old) {
		char *p = (char *)old; /* libmount's iterator does not write */

		while ((rc = mnt_optstr_next_option(&p, &name, &nlen, &value, &vlen)) == 0) {
			char *o;

			if (nlen >= strlen(NM_UTAB_PREFIX) &&
			    strncmp(name, NM_UTAB_PREFIX, strlen(NM_UTAB_PREFIX)) == 0)
				continue;
			/* name[=value] as it was written: keep it byte for byte. */
			o = strndup(name, value ? (size_t)(value + vlen - name) : nlen);
			if (!o || mnt_optstr_append_option(&res, o, NULL) != 0) {
				free(o);
				free(res);
				return nm_err_set(err, -ENOMEM, "out of memory");
			}
			free(o);
		}
		if (rc < 0) {
			free(res);
			return nm_err_set(err, -EINVAL, "utab: the user options cannot be parsed");
		}
	}
	if (mnt_optstr_append_option(&res, NM_UTAB_OPT_SERVER, server) != 0 ||
	    (from && *from && mnt_optstr_append_option(&res, NM_UTAB_OPT_FROM, from) != 0)) {
		free(res);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	*out = res;
	return 0;
}

/* A libmount built with its old mtab support writes a regular /etc/mtab
 * instead of utab, and would replace that line's options with ours alone:
 * there nm_mtab keeps /etc/mtab and utab is not ours to write. */
static bool libmount_writes_mtab(void)
{
	const char **features = NULL;
	bool mtab = false;
	int rw = 0;

	if (mnt_get_library_features(&features) < 0 || !features)
		return false;
	for (const char **f = features; *f; f++)
		mtab |= strcmp(*f, "mtab") == 0;
	return mtab && mnt_has_regular_mtab(NULL, &rw) && rw;
}

/* libmount's utab and the lock its updates take: flock(2) on UTAB.lock. */
static const char *utab_path(void)
{
	const char *p = getenv("LIBMOUNT_UTAB");

	return p && p[0] == '/' && getuid() == geteuid() ? p : "/run/mount/utab";
}

static int utab_lock(const char *utab, struct nm_err *err)
{
	char lock[PATH_MAX];
	int64_t end = nm_time_ms() + NM_UTAB_LOCK_MS;
	int fd;

	/* Its directory made as libmount makes it (/run/mount, 0755). */
	snprintf(lock, sizeof(lock), "%s", utab);
	if (strrchr(lock, '/') && strrchr(lock, '/') != lock) {
		*strrchr(lock, '/') = '\0';
		if (mkdir(lock, 0755) != 0 && errno != EEXIST)
			return nm_err_set(err, -errno, "%s: %s", lock, strerror(errno));
	}
	snprintf(lock, sizeof(lock), "%s.lock", utab);
	fd = open(lock, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return nm_err_set(err, -errno, "%s: %s", lock, strerror(errno));
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		if ((e != EWOULDBLOCK && e != EINTR) || nm_time_ms() >= end) {
			close(fd);
			return nm_err_set(
				err, e == EWOULDBLOCK ? -ENOLCK : -e, "%s: not locked: %s", lock,
				e == EWOULDBLOCK ? "held too long by another" : strerror(e));
		}
		usleep(5000);
	}
	return fd;
}

/* A token KEY=VALUE of the utab line at line (len bytes): the value's
 * offset and length, or false. */
static bool utab_token(const char *line, size_t len, const char *key, size_t *off, size_t *vlen)
{
	size_t kl = strlen(key), i = 0;

	while (i < len) {
		size_t e = i;

		while (e < len && line[e] != ' ')
			e++;
		if (e - i > kl && memcmp(line + i, key, kl) == 0 && line[i + kl] == '=') {
			*off = i + kl + 1;
			*vlen = e - *off;
			return true;
		}
		i = e + 1;
	}
	return false;
}

static char *unmangled(const char *p, size_t len)
{
	char *raw = strndup(p, len), *u;

	if (!raw)
		return NULL;
	u = mnt_unmangle(raw);
	free(raw);
	return u;
}

int nm_utab_rewrite_text(const char *text, size_t len, const char *mountpoint, const char *source,
			 const char *root, const char *server, const char *from, char **out,
			 size_t *outlen, struct nm_err *err)
{
	size_t pos = 0, hit = 0, hit_end = 0, voff = 0, vlen = 0, nl;
	bool found = false, has_opts = false;
	char *old = NULL, *opts = NULL, *m = NULL;
	FILE *o;
	int rc;

	*out = NULL;
	*outlen = 0;
	/* The last line of the mount point, as libmount looks it up. */
	while (pos < len) {
		size_t end = pos, off, vl;

		while (end < len && text[end] != '\n')
			end++;
		if (utab_token(text + pos, end - pos, "TARGET", &off, &vl)) {
			char *t = unmangled(text + pos + off, vl);

			if (!t)
				return nm_err_set(err, -ENOMEM, "out of memory");
			if (strcmp(t, mountpoint) == 0) {
				found = true;
				hit = pos;
				hit_end = end;
			}
			free(t);
		}
		pos = end < len ? end + 1 : end;
	}
	if (found && (has_opts = utab_token(text + hit, hit_end - hit, "OPTS", &voff, &vlen))) {
		old = unmangled(text + hit + voff, vlen);
		if (!old)
			return nm_err_set(err, -ENOMEM, "out of memory");
	}
	rc = nm_utab_merge_opts(old, server, from, &opts, err);
	free(old);
	if (rc)
		return rc;
	m = mnt_mangle(opts);
	o = open_memstream(out, outlen);
	if (!m || !o) {
		if (o)
			fclose(o);
		free(*out);
		*out = NULL;
		free(m);
		free(opts);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	if (found) {
		/* That line's OPTS value replaced (or added): every other byte,
		 * ATTRS and the rest, kept. */
		size_t at = has_opts ? hit + voff : hit_end;

		fwrite(text, 1, at, o);
		fprintf(o, "%s%s", has_opts ? "" : " OPTS=", m);
		at = has_opts ? hit + voff + vlen : hit_end;
		fwrite(text + at, 1, len - at, o);
	} else {
		/* As mount(8) records a mount: the kernel's source, target, root. */
		char *ms = mnt_mangle(source), *mt = mnt_mangle(mountpoint),
		     *mr = mnt_mangle(root ? root : "/");

		nl = len > 0 && text[len - 1] != '\n';
		fwrite(text, 1, len, o);
		if (ms && mt && mr)
			fprintf(o, "%sSRC=%s TARGET=%s ROOT=%s OPTS=%s\n", nl ? "\n" : "", ms, mt,
				mr, m);
		else
			rc = -ENOMEM;
		free(ms), free(mt), free(mr);
	}
	free(m);
	free(opts);
	if (fclose(o) != 0 || rc) {
		free(*out);
		*out = NULL;
		*outlen = 0;
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

/* Does the utab text hold x-nfsmig.server=server for mountpoint (its last
 * entry)? */
static bool utab_says(const char *text, size_t len, const char *mountpoint, const char *server)
{
	size_t pos = 0, off, vl;
	char *opts = NULL, *v = NULL;
	size_t vlen = 0;
	bool ok;

	while (pos < len) {
		size_t end = pos;

		while (end < len && text[end] != '\n')
			end++;
		if (utab_token(text + pos, end - pos, "TARGET", &off, &vl)) {
			char *t = unmangled(text + pos + off, vl);

			if (t && strcmp(t, mountpoint) == 0) {
				free(opts);
				opts = utab_token(text + pos, end - pos, "OPTS", &off, &vl)
					       ? unmangled(text + pos + off, vl)
					       : NULL;
			}
			free(t);
		}
		pos = end < len ? end + 1 : end;
	}
	ok = opts && mnt_optstr_get_option(opts, NM_UTAB_OPT_SERVER, &v, &vlen) == 0 && v &&
	     vlen == strlen(server) && strncmp(v, server, vlen) == 0;
	free(opts);
	return ok;
}

int nm_utab_set_moved(const char *mountpoint, const char *server, const char *from,
		      struct nm_err *err)
{
	struct libmnt_table *tb = NULL;
	struct libmnt_fs *cur;
	struct nm_afile f = { 0 };
	const char *utab = utab_path();
	char *text = NULL;
	size_t len = 0;
	int rc, lockfd = -1;

	if (!mountpoint || mountpoint[0] != '/')
		return nm_err_set(err, -EINVAL, "utab: the mount point must be an absolute path");
	{
		char *opts = NULL;

		rc = nm_utab_merge_opts(NULL, server, from, &opts, err);
		free(opts);
		if (rc)
			return rc;
	}
	if (libmount_writes_mtab())
		return nm_err_set(
			err, -ENOTSUP,
			"this libmount keeps a regular /etc/mtab, not utab: left to nm_mtab");
	/* The live table: the kernel's source and root for the mount now.  No
	 * path is resolved (no cache): nothing touches the mount's file system. */
	tb = mnt_new_table();
	if (!tb)
		return nm_err_set(err, -ENOMEM, "out of memory");
	rc = mnt_table_parse_file(tb, "/proc/self/mountinfo");
	if (rc) {
		rc = nm_err_set(err, rc < 0 && rc > -4096 ? rc : -EIO,
				"cannot read the mount table");
		goto out;
	}
	cur = mnt_table_find_target(tb, mountpoint, MNT_ITER_BACKWARD);
	if (!cur) {
		rc = nm_err_set(err, -ENOENT, "%s: not mounted", mountpoint);
		goto out;
	}

	/* utab read, changed and written under libmount's own lock: no
	 * update of another (mount, umount, remount) is lost meanwhile. */
	lockfd = utab_lock(utab, err);
	if (lockfd < 0) {
		rc = lockfd;
		goto out;
	}
	rc = nm_afile_read(utab, NM_UTAB_MAX_BYTES, &f, err);
	if (rc == -ENOENT) {
		/* None yet: an empty one, as libmount makes it. */
		int fd = open(utab, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);

		if (fd < 0) {
			rc = nm_err_set(err, -errno, "%s: %s", utab, strerror(errno));
			goto out;
		}
		close(fd);
		rc = nm_afile_read(utab, NM_UTAB_MAX_BYTES, &f, err);
	}
	if (rc)
		goto out;
	rc = nm_utab_rewrite_text(f.text, f.len, mountpoint, mnt_fs_get_source(cur),
				  mnt_fs_get_root(cur), server, from, &text, &len, err);
	if (rc)
		goto out;
	rc = nm_afile_replace(utab, &f, text, len, NULL, NULL, err);
	if (rc < 0)
		goto out;
	rc = 0; /* a directory not synced: /run is a tmpfs */
	nm_afile_free(&f);
	/* Read back: what findmnt will read. */
	if (nm_afile_read(utab, NM_UTAB_MAX_BYTES, &f, err) != 0 ||
	    !utab_says(f.text, f.len, mountpoint, server))
		rc = nm_err_set(err, -EIO, "%s: written, but %s is not there for %s", utab,
				NM_UTAB_OPT_SERVER, mountpoint);
out:
	if (lockfd >= 0)
		close(lockfd);
	nm_afile_free(&f);
	mnt_unref_table(tb);
	free(text);
	return rc;
}

int nm_utab_set(const char *mountpoint, const char *server, struct nm_err *err)
{
	return nm_utab_set_moved(mountpoint, server, NULL, err);
}

int nm_utab_forget(const char *mountpoint, struct nm_err *err)
{
	struct libmnt_table *tb;
	struct libmnt_update *upd = NULL;
	int rc;

	if (!mountpoint || mountpoint[0] != '/')
		return nm_err_set(err, -EINVAL, "utab: the mount point must be an absolute path");
	tb = mnt_new_table();
	if (!tb)
		return nm_err_set(err, -ENOMEM, "out of memory");
	rc = mnt_table_parse_file(tb, "/proc/self/mountinfo");
	if (rc) {
		mnt_unref_table(tb);
		return nm_err_set(err, rc < 0 && rc > -4096 ? rc : -EIO,
				  "cannot read the mount table");
	}
	if (mnt_table_find_target(tb, mountpoint, MNT_ITER_BACKWARD)) {
		mnt_unref_table(tb);
		return nm_err_set(err, -EBUSY, "%s: still mounted", mountpoint);
	}
	mnt_unref_table(tb);
	if (libmount_writes_mtab())
		return nm_err_set(
			err, -ENOTSUP,
			"this libmount keeps a regular /etc/mtab, not utab: left to nm_mtab");
	upd = mnt_new_update();
	if (!upd)
		return nm_err_set(err, -ENOMEM, "out of memory");
	/* As umount(8) records an unmount: the target's last entry goes. */
	rc = mnt_update_set_fs(upd, 0, mountpoint, NULL);
	if (rc == 0)
		rc = mnt_update_table(upd, NULL);
	else if (rc == 1 || rc == -EACCES)
		rc = 0; /* no table to update: nothing kept there */
	mnt_free_update(upd);
	if (rc == -MNT_ERR_LOCK)
		rc = -ENOLCK;
	else if (rc < -4095 || rc > 0)
		rc = -EIO;
	if (rc)
		return nm_err_set(err, rc, "utab: cannot remove the entry of %s: %s", mountpoint,
				  strerror(-rc));
	return 0;
}

int nm_utab_stale(const char *text, size_t len, const char *const *mounted, size_t nmounted,
		  char ***targets, size_t *n, struct nm_err *err)
{
	char **out = NULL;
	size_t cnt = 0, pos = 0, off, vl;

	*targets = NULL;
	*n = 0;
	while (pos < len) {
		size_t end = pos;
		char *t = NULL, *opts = NULL, *v = NULL;
		size_t vlen = 0;
		bool ours = false, live = false, seen = false;

		while (end < len && text[end] != '\n')
			end++;
		if (utab_token(text + pos, end - pos, "TARGET", &off, &vl))
			t = unmangled(text + pos + off, vl);
		if (t && utab_token(text + pos, end - pos, "OPTS", &off, &vl)) {
			opts = unmangled(text + pos + off, vl);
			ours = opts &&
			       (mnt_optstr_get_option(opts, NM_UTAB_OPT_SERVER, &v, &vlen) == 0 ||
				mnt_optstr_get_option(opts, NM_UTAB_OPT_FROM, &v, &vlen) == 0);
		}
		for (size_t i = 0; ours && i < nmounted && !live; i++)
			live = mounted[i] && strcmp(mounted[i], t) == 0;
		for (size_t i = 0; ours && i < cnt && !seen; i++)
			seen = strcmp(out[i], t) == 0;
		if (ours && !live && !seen) {
			char **grown = realloc(out, (cnt + 1) * sizeof(*out));

			if (!grown) {
				free(t);
				free(opts);
				nm_utab_targets_free(out, cnt);
				return nm_err_set(err, -ENOMEM, "out of memory");
			}
			out = grown;
			out[cnt++] = t;
			t = NULL;
		}
		free(t);
		free(opts);
		pos = end < len ? end + 1 : end;
	}
	*targets = out;
	*n = cnt;
	return 0;
}

void nm_utab_targets_free(char **targets, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(targets[i]);
	free(targets);
}

int nm_utab_sweep(struct nm_err *err)
{
	struct nm_afile f = { 0 };
	struct libmnt_table *tb = NULL;
	struct libmnt_iter *it = NULL;
	struct libmnt_fs *fs;
	const char **mounted = NULL;
	char **stale = NULL;
	size_t nm = 0, ns = 0;
	int rc, gone = 0;

	if (libmount_writes_mtab())
		return 0; /* no utab: nm_mtab's */
	rc = nm_afile_read(utab_path(), NM_UTAB_MAX_BYTES, &f, err);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (!memmem(f.text, f.len, NM_UTAB_PREFIX, strlen(NM_UTAB_PREFIX))) {
		nm_afile_free(&f);
		return 0; /* nothing of ours: the common case, no table read */
	}
	tb = mnt_new_table();
	it = mnt_new_iter(MNT_ITER_FORWARD);
	if (!tb || !it) {
		rc = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	rc = mnt_table_parse_file(tb, "/proc/self/mountinfo");
	if (rc) {
		rc = nm_err_set(err, rc < 0 && rc > -4096 ? rc : -EIO,
				"cannot read the mount table");
		goto out;
	}
	mounted = calloc((size_t)mnt_table_get_nents(tb) + 1, sizeof(*mounted));
	if (!mounted) {
		rc = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	while (mnt_table_next_fs(tb, it, &fs) == 0 && nm < (size_t)mnt_table_get_nents(tb))
		mounted[nm++] = mnt_fs_get_target(fs);
	rc = nm_utab_stale(f.text, f.len, mounted, nm, &stale, &ns, err);
	if (rc)
		goto out;
	for (size_t i = 0; i < ns; i++) {
		struct nm_err e = { 0 };

		/* Checked again there: mounted meanwhile is -EBUSY, left. */
		if (nm_utab_forget(stale[i], &e) == 0)
			gone++;
	}
	rc = gone;
out:
	nm_utab_targets_free(stale, ns);
	free(mounted);
	mnt_free_iter(it);
	mnt_unref_table(tb);
	nm_afile_free(&f);
	return rc;
}
