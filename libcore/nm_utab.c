/* nm_utab - x-nfsmig.* user options in libmount's utab (see nm_utab.h). */
#include "nm_utab.h"

#include <errno.h>
#include <libmount.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "nm_target.h"

#define NM_UTAB_PREFIX "x-nfsmig."

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

int nm_utab_set_moved(const char *mountpoint, const char *server, const char *from,
		      struct nm_err *err)
{
	struct libmnt_table *tb = NULL;
	struct libmnt_fs *cur, *fs = NULL;
	struct libmnt_update *upd = NULL;
	char *opts = NULL;
	int rc;

	if (!mountpoint || mountpoint[0] != '/')
		return nm_err_set(err, -EINVAL, "utab: the mount point must be an absolute path");
	/* The live table with utab merged in: the kernel's source and root,
	 * and the user options kept for the mount now.  No path is resolved
	 * (no cache): nothing here touches the file system of the mount. */
	tb = mnt_new_table();
	if (!tb)
		return nm_err_set(err, -ENOMEM, "out of memory");
	rc = mnt_table_parse_mtab(tb, NULL);
	if (rc) {
		rc = nm_err_set(err, rc < 0 ? rc : -EIO, "cannot read the mount table");
		goto out;
	}
	cur = mnt_table_find_target(tb, mountpoint, MNT_ITER_BACKWARD);
	if (!cur) {
		rc = nm_err_set(err, -ENOENT, "%s: not mounted", mountpoint);
		goto out;
	}
	rc = nm_utab_merge_opts(mnt_fs_get_user_options(cur), server, from, &opts, err);
	if (rc)
		goto out;

	/* As mount(8) records a remount: an entry that names the mount as the
	 * kernel does (source, target, root) with only its user options. */
	fs = mnt_new_fs();
	if (!fs || mnt_fs_set_source(fs, mnt_fs_get_source(cur)) ||
	    mnt_fs_set_target(fs, mnt_fs_get_target(cur)) ||
	    mnt_fs_set_root(fs, mnt_fs_get_root(cur)) ||
	    mnt_fs_set_fstype(fs, mnt_fs_get_fstype(cur)) || mnt_fs_set_options(fs, opts)) {
		rc = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	upd = mnt_new_update();
	if (!upd) {
		rc = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	rc = mnt_update_set_fs(upd, MS_REMOUNT, NULL, fs);
	if (rc == 1) { /* libmount kept no user option: cannot be */
		rc = nm_err_set(err, -EINVAL, "utab: libmount would not record the options");
		goto out;
	}
	if (rc) {
		rc = nm_err_set(err, rc < 0 ? rc : -EIO, "utab: no writable table (%s)",
				strerror(rc < 0 ? -rc : EIO));
		goto out;
	}
	/* NULL lock: libmount takes its own (flock on utab.lock, signals blocked). */
	rc = mnt_update_table(upd, NULL);
	if (rc == -MNT_ERR_LOCK)
		rc = -ENOLCK;
	else if (rc < -4095 || rc > 0) /* libmount's own codes */
		rc = -EIO;
	if (rc) {
		const char *file = mnt_update_get_filename(upd);

		rc = nm_err_set(err, rc < 0 ? rc : -EIO, "%s: cannot update: %s",
				file ? file : "utab", strerror(rc < 0 ? -rc : EIO));
	}
out:
	mnt_free_update(upd);
	mnt_unref_fs(fs);
	mnt_unref_table(tb);
	free(opts);
	return rc;
}

int nm_utab_set(const char *mountpoint, const char *server, struct nm_err *err)
{
	return nm_utab_set_moved(mountpoint, server, NULL, err);
}
