#include "nm_mount.h"

#include <errno.h>
#include <libmount.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "nm_mpath.h"

static char *opt_value(const char *options, const char *name)
{
	char *value = NULL;
	size_t len = 0;

	if (!options || mnt_optstr_get_option(options, name, &value, &len) != 0 || !value)
		return NULL;
	return strndup(value, len);
}

static int parse_vers(const char *options, struct nm_mount *m)
{
	char *v = opt_value(options, "vers");
	char *mv = opt_value(options, "minorversion");
	char *end;
	long maj = 0, min = -1;

	if (!v)
		v = opt_value(options, "nfsvers");
	if (v) {
		maj = strtol(v, &end, 10);
		if (*end == '.')
			min = strtol(end + 1, &end, 10);
		if (*end != '\0' || maj < 2 || maj > 4 || min > 9) {
			free(v);
			free(mv);
			return -EINVAL;
		}
	}
	if (mv && min < 0) {
		min = strtol(mv, &end, 10);
		if (*end != '\0' || min < 0 || min > 9)
			min = -1;
	}
	m->vers = (int)maj;
	m->minor = (int)min;
	free(v);
	free(mv);
	return 0;
}

static int split_source(const char *source, struct nm_mount *m)
{
	const char *colon;

	if (source[0] == '[') {
		const char *end = strchr(source, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		m->source_host = strndup(source + 1, (size_t)(end - source - 1));
		colon = end + 1;
	} else {
		colon = strchr(source, ':');
		if (!colon)
			return -EINVAL;
		m->source_host = strndup(source, (size_t)(colon - source));
	}
	m->export_path = strdup(colon[1] ? colon + 1 : "/");
	if (!m->source_host || !m->export_path)
		return -ENOMEM;
	return 0;
}

int nm_mount_from_fields(const char *target, const char *source, const char *fstype,
			 const char *root, const char *options, struct nm_mount *out,
			 struct nm_err *err)
{
	char *port;
	int rc;

	memset(out, 0, sizeof(*out));
	out->target = strdup(target ? target : "");
	out->source = strdup(source ? source : "");
	out->fstype = strdup(fstype ? fstype : "");
	out->root = strdup(root ? root : "/");
	if (!out->target || !out->source || !out->fstype || !out->root) {
		nm_mount_free(out);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	if (strcmp(out->fstype, "nfs") != 0 && strcmp(out->fstype, "nfs4") != 0) {
		rc = nm_err_set(err, -EMEDIUMTYPE, "%s is on a %s file system, not NFS",
				out->target, out->fstype);
		nm_mount_free(out);
		return rc;
	}
	if (parse_vers(options, out) < 0) {
		rc = nm_err_set(err, -EINVAL, "%s: cannot read vers= in '%s'", out->target,
				options);
		nm_mount_free(out);
		return rc;
	}
	if (out->vers == 0)
		out->vers = strcmp(out->fstype, "nfs4") == 0 ? 4 : 0;
	rc = split_source(out->source, out);
	if (rc < 0) {
		rc = nm_err_set(err, rc == -ENOMEM ? rc : -EINVAL,
				"%s: source '%s' is not SERVER:/PATH", out->target, out->source);
		nm_mount_free(out);
		return rc;
	}
	out->server = opt_value(options, "addr");
	if (!out->server)
		out->server = strdup(out->source_host);
	out->clientaddr = opt_value(options, "clientaddr");
	out->sec = opt_value(options, "sec");
	if (!out->sec)
		out->sec = strdup("sys");
	port = opt_value(options, "port");
	if (port) {
		char *end;
		long v = strtol(port, &end, 10);

		out->port = (*end == '\0' && v > 0 && v < 65536) ? (unsigned)v : 0;
		free(port);
	}
	if (!out->server || !out->sec) {
		nm_mount_free(out);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

/* The deepest mount over abs; among equals the last one, mounted on top.
 * Matched as text, so it works on saved tables too (libmount's own
 * mnt_table_find_mountpoint stat()s the path). */
static struct libmnt_fs *deepest_mount(struct libmnt_table *tb, const char *abs)
{
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs, *best = NULL;
	size_t best_len = 0;

	if (!it)
		return NULL;
	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *t = mnt_fs_get_target(fs);

		if (t && nm_mpath_covers(t, abs) && (!best || strlen(t) >= best_len)) {
			best = fs;
			best_len = strlen(t);
		}
	}
	mnt_free_iter(it);
	return best;
}

/* path made absolute and normal against tb's mounts: symbolic links
 * followed (ops) only on file systems known to be local. */
static int place(struct libmnt_table *tb, const char *path, const char *cwd,
		 const struct nm_mpath_ops *ops, char **abs, struct nm_err *err)
{
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct nm_mpath_mount *v = NULL;
	struct libmnt_fs *fs;
	size_t n = 0, cap = 0;
	int rc;

	if (!it)
		return nm_err_set(err, -ENOMEM, "out of memory");
	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		if (n == cap) {
			struct nm_mpath_mount *g = realloc(v, (cap ? cap * 2 : 32) * sizeof(*g));

			if (!g) {
				free(v);
				mnt_free_iter(it);
				return nm_err_set(err, -ENOMEM, "out of memory");
			}
			v = g;
			cap = cap ? cap * 2 : 32;
		}
		v[n].target = mnt_fs_get_target(fs);
		v[n].nfs = !nm_mpath_fs_local(mnt_fs_get_fstype(fs));
		n++;
	}
	mnt_free_iter(it);
	rc = nm_mpath_resolve(v, n, path, cwd, ops, abs, err);
	free(v);
	return rc;
}

/* Server-side path of abs (a path under m->target). */
static char *server_path_of(const struct nm_mount *m, const char *abs)
{
	const char *rel = abs + strlen(m->target);
	const char *root = strcmp(m->root, "/") == 0 ? "" : m->root;
	const char *exp = strcmp(m->export_path, "/") == 0 ? "" : m->export_path;
	char *s = NULL;

	if (strcmp(m->target, "/") == 0)
		rel = abs;
	if (asprintf(&s, "%s%s%s", exp, root, rel) < 0)
		return NULL;
	if (s[0] == '\0') {
		free(s);
		s = strdup("/");
	}
	return s;
}

static int locate(struct libmnt_table *tb, const char *file, const char *path, const char *cwd,
		  const struct nm_mpath_ops *ops, struct nm_mount *out, char **server_path,
		  struct nm_err *err)
{
	struct libmnt_fs *fs;
	char *abs = NULL;
	int rc;

	rc = place(tb, path, cwd, ops, &abs, err);
	if (rc < 0)
		return rc;
	fs = deepest_mount(tb, abs);
	if (!fs) {
		rc = nm_err_set(err, -ENOENT, "%s: no mount holds it in %s", path, file);
		goto out;
	}
	rc = nm_mount_from_fields(mnt_fs_get_target(fs), mnt_fs_get_source(fs),
				  mnt_fs_get_fstype(fs), mnt_fs_get_root(fs),
				  mnt_fs_get_fs_options(fs), out, err);
	if (rc < 0) {
		if (rc == -EMEDIUMTYPE)
			nm_err_set(err, rc, "%s is not on an NFS mount (%s is %s)", path,
				   mnt_fs_get_target(fs), mnt_fs_get_fstype(fs));
		goto out;
	}
	if (out->vers != 4) {
		rc = nm_err_set(err, -EPROTONOSUPPORT,
				"%s is on an NFSv%d mount (%s): nfsmig works with NFSv4 mounts",
				path, out->vers, out->target);
		nm_mount_free(out);
		goto out;
	}
	out->id = mnt_fs_get_id(fs);
	out->parent_id = mnt_fs_get_parent_id(fs);
	out->dev_major = major(mnt_fs_get_devno(fs));
	out->dev_minor = minor(mnt_fs_get_devno(fs));
	*server_path = server_path_of(out, abs);
	if (!*server_path) {
		nm_mount_free(out);
		rc = nm_err_set(err, -ENOMEM, "out of memory");
	}
out:
	free(abs);
	return rc;
}

/* The current directory as the kernel's dentry cache has it, never asking
 * a server: getcwd(3) falls back to walking ".." (lstat, readdir) when the
 * kernel's answer is unreachable or too long, the system call does not.  A
 * directory outside this root, deleted or too deep is no directory. */
static int live_cwd(char **cwd)
{
	char *buf = malloc(PATH_MAX);
	long len;

	*cwd = NULL;
	if (!buf)
		return -ENOMEM;
	len = syscall(SYS_getcwd, buf, PATH_MAX);
	if (len < 0 || buf[0] != '/') {
		int e = len < 0 ? errno : ENOENT;

		free(buf);
		return -e;
	}
	*cwd = buf;
	return 0;
}

/* The table of file (or the kernel's), and how path is placed in it: the
 * live table follows local symbolic links from the current directory (asked
 * for only when path is relative), a saved one is text only. */
static int open_table(const char *mountinfo, const char *path, struct libmnt_table **tb, char **cwd,
		      const struct nm_mpath_ops **ops, struct nm_err *err)
{
	const char *file = mountinfo ? mountinfo : NM_MOUNTINFO_DEFAULT;
	int rc;

	*cwd = NULL;
	*ops = NULL;
	*tb = mnt_new_table();
	if (!*tb)
		return nm_err_set(err, -ENOMEM, "out of memory");
	rc = mnt_table_parse_file(*tb, file);
	if (rc != 0) {
		mnt_unref_table(*tb);
		*tb = NULL;
		return nm_err_set(err, rc < 0 ? rc : -EINVAL, "%s: cannot read the mount table",
				  file);
	}
	if (!mountinfo) {
		*ops = &nm_mpath_live_ops;
		if (path[0] != '/') {
			rc = live_cwd(cwd);
			if (rc < 0) {
				mnt_unref_table(*tb);
				*tb = NULL;
				return nm_err_set(err, rc,
						  "%s: a relative path, and no current "
						  "directory: %s",
						  path, strerror(-rc));
			}
		}
	}
	return 0;
}

int nm_mount_find(const char *mountinfo, const char *path, struct nm_mount *out, char **server_path,
		  struct nm_err *err)
{
	const struct nm_mpath_ops *ops;
	struct libmnt_table *tb;
	char *cwd;
	int rc;

	memset(out, 0, sizeof(*out));
	*server_path = NULL;
	if (mountinfo && path[0] != '/')
		return nm_err_set(err, -EINVAL, "%s: with --mountinfo the path must be absolute",
				  path);
	rc = open_table(mountinfo, path, &tb, &cwd, &ops, err);
	if (rc < 0)
		return rc;
	rc = locate(tb, mountinfo ? mountinfo : NM_MOUNTINFO_DEFAULT, path, cwd, ops, out,
		    server_path, err);
	free(cwd);
	mnt_unref_table(tb);
	return rc;
}

int nm_mount_find_text(const char *table, const char *path, const char *cwd,
		       const struct nm_mpath_ops *ops, struct nm_mount *out, char **server_path,
		       struct nm_err *err)
{
	struct libmnt_table *tb = mnt_new_table();
	FILE *f = fmemopen((void *)table, strlen(table), "r");
	int rc;

	memset(out, 0, sizeof(*out));
	*server_path = NULL;
	if (!tb || !f) {
		rc = nm_err_set(err, -ENOMEM, "out of memory");
	} else if (mnt_table_parse_stream(tb, f, "table") != 0) {
		rc = nm_err_set(err, -EINVAL, "cannot read the mount table");
	} else {
		rc = locate(tb, "the table", path, cwd, ops, out, server_path, err);
	}
	if (f)
		fclose(f);
	mnt_unref_table(tb);
	return rc;
}

/* Is target an entry of directory abs?  Listing abs the usual way stats it. */
static bool child_of(const char *target, const char *abs)
{
	size_t n = strcmp(abs, "/") == 0 ? 0 : strlen(abs);

	return strncmp(target, abs, n) == 0 && target[n] == '/' && target[n + 1] &&
	       !strchr(target + n + 1, '/');
}

int nm_mount_place(const char *mountinfo, const char *path, char **abs, bool *nfs,
		   struct nm_err *err)
{
	const struct nm_mpath_ops *ops;
	struct libmnt_table *tb;
	struct libmnt_fs *fs;
	char *cwd;
	int rc;

	*abs = NULL;
	*nfs = false;
	rc = open_table(mountinfo, path, &tb, &cwd, &ops, err);
	if (rc < 0)
		return rc;
	rc = place(tb, path, cwd, ops, abs, err);
	if (rc == 0) {
		struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);

		while (it && mnt_table_next_fs(tb, it, &fs) == 0) {
			const char *t = mnt_fs_get_target(fs);

			if (!nm_mpath_fs_local(mnt_fs_get_fstype(fs)) && t &&
			    (nm_mpath_covers(t, *abs) || child_of(t, *abs)))
				*nfs = true;
		}
		/* Not knowing is not knowing it is safe. */
		if (!it)
			*nfs = true;
		mnt_free_iter(it);
	}
	free(cwd);
	mnt_unref_table(tb);
	return rc;
}

int nm_mount_list(const char *mountinfo, struct nm_mount **out, size_t *n, struct nm_err *err)
{
	const char *file = mountinfo ? mountinfo : NM_MOUNTINFO_DEFAULT;
	struct libmnt_table *tb = mnt_new_table();
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;
	size_t cap = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (!tb || !it) {
		rc = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (mnt_table_parse_file(tb, file) != 0) {
		rc = nm_err_set(err, -EINVAL, "%s: cannot read the mount table", file);
		goto out;
	}
	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *type = mnt_fs_get_fstype(fs);
		struct nm_mount m;
		struct nm_err ignored;

		if (!type || (strcmp(type, "nfs") != 0 && strcmp(type, "nfs4") != 0))
			continue;
		/* An entry that cannot be understood is skipped, not fatal. */
		if (nm_mount_from_fields(mnt_fs_get_target(fs), mnt_fs_get_source(fs), type,
					 mnt_fs_get_root(fs), mnt_fs_get_fs_options(fs), &m,
					 &ignored) < 0)
			continue;
		m.id = mnt_fs_get_id(fs);
		m.parent_id = mnt_fs_get_parent_id(fs);
		m.dev_major = major(mnt_fs_get_devno(fs));
		m.dev_minor = minor(mnt_fs_get_devno(fs));
		if (*n == cap) {
			struct nm_mount *g = realloc(*out, (cap ? cap * 2 : 16) * sizeof(*g));

			if (!g) {
				nm_mount_free(&m);
				rc = nm_err_set(err, -ENOMEM, "out of memory");
				break;
			}
			*out = g;
			cap = cap ? cap * 2 : 16;
		}
		(*out)[(*n)++] = m;
	}
out:
	mnt_free_iter(it);
	mnt_unref_table(tb);
	if (rc < 0) {
		nm_mount_list_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

const struct nm_mount *nm_mount_referral_parent(const struct nm_mount *list, size_t n, size_t i)
{
	if (i >= n || list[i].parent_id <= 0)
		return NULL;
	for (size_t j = 0; j < n; j++)
		if (j != i && list[j].id == list[i].parent_id && list[j].vers == 4)
			/* One mounted over another at the same mount point
			 * is no submount of it. */
			return strcmp(list[j].server, list[i].server) &&
					       strcmp(list[j].target, list[i].target)
				       ? &list[j]
				       : NULL;
	return NULL;
}

void nm_mount_list_free(struct nm_mount *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		nm_mount_free(&m[i]);
	free(m);
}

void nm_mount_free(struct nm_mount *m)
{
	if (!m)
		return;
	free(m->target);
	free(m->source);
	free(m->fstype);
	free(m->root);
	free(m->source_host);
	free(m->export_path);
	free(m->server);
	free(m->clientaddr);
	free(m->sec);
	memset(m, 0, sizeof(*m));
}
