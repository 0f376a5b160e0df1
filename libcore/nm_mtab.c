/* nm_mtab - a regular-file /etc/mtab kept true after a move (see nm_mtab.h). */
#include "nm_mtab.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nm_afile.h"
#include "nm_fstab.h"
#include "nm_target.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The fields of one line: their offsets and lengths (at most 3 wanted). */
static size_t fields(const char *line, size_t len, size_t f[][2], size_t max)
{
	size_t n = 0, i = 0;

	while (n < max) {
		while (i < len && is_blank(line[i]))
			i++;
		if (i >= len)
			break;
		f[n][0] = i;
		while (i < len && !is_blank(line[i]))
			i++;
		f[n][1] = i - f[n][0];
		n++;
	}
	return n;
}

int nm_mtab_rewrite_text(const char *text, size_t len, const char *mountpoint, const char *server,
			 char **out, size_t *outlen, struct nm_err *err)
{
	char host[300];
	size_t pos = 0, hit_off = 0, hit_len = 0;
	bool found = false;
	char *res;

	*out = NULL;
	*outlen = 0;
	if (!server || !nm_target_host_name_ok(server))
		return nm_err_set(err, -EINVAL, "the new server is not a host name or an address");
	snprintf(host, sizeof(host), strchr(server, ':') ? "[%s]" : "%s", server);

	/* The last NFS line of the mount point: the mount on top. */
	while (pos < len) {
		size_t end = pos, f[3][2], hl, po;

		while (end < len && text[end] != '\n')
			end++;
		if (fields(text + pos, end - pos, f, 3) == 3 && text[pos + f[0][0]] != '#' &&
		    ((f[2][1] == 3 && memcmp(text + pos + f[2][0], "nfs", 3) == 0) ||
		     (f[2][1] == 4 && memcmp(text + pos + f[2][0], "nfs4", 4) == 0)) &&
		    nm_fstab_source_split(text + pos + f[0][0], f[0][1], &hl, &po)) {
			char *target = nm_fstab_decode(text + pos + f[1][0], f[1][1]);

			if (!target)
				return nm_err_set(err, -ENOMEM, "out of memory");
			if (strcmp(target, mountpoint) == 0) {
				found = true;
				hit_off = pos + f[0][0];
				hit_len = hl;
			}
			free(target);
		}
		pos = end < len ? end + 1 : end;
	}
	if (!found)
		return nm_err_set(err, -ENOENT, "no NFS line for %s", mountpoint);
	if (hit_len == strlen(host) && memcmp(text + hit_off, host, hit_len) == 0)
		return 0; /* names it already */
	res = malloc(len - hit_len + strlen(host) + 1);
	if (!res)
		return nm_err_set(err, -ENOMEM, "out of memory");
	memcpy(res, text, hit_off);
	memcpy(res + hit_off, host, strlen(host));
	memcpy(res + hit_off + strlen(host), text + hit_off + hit_len, len - hit_off - hit_len);
	*outlen = len - hit_len + strlen(host);
	res[*outlen] = '\0';
	*out = res;
	return 1;
}

int nm_mtab_update(const char *mtab_path, const char *mountpoint, const char *server,
		   struct nm_err *err)
{
	struct nm_afile f;
	struct stat st;
	char *out = NULL;
	size_t outlen;
	int rc;

	if (!mtab_path || !mountpoint)
		return nm_err_set(err, -EINVAL, "no mtab or mount point");
	if (!server || !nm_target_host_name_ok(server))
		return nm_err_set(err, -EINVAL, "the new server is not a host name or an address");
	if (lstat(mtab_path, &st) != 0) {
		if (errno == ENOENT)
			return 1;
		return nm_err_set(err, -errno, "%s: %s", mtab_path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return 1; /* the usual symbolic link to /proc/self/mounts */
	rc = nm_afile_read(mtab_path, 16 * 1024 * 1024, &f, err);
	if (rc == -ELOOP)
		return 1; /* became a link meanwhile */
	if (rc)
		return rc;
	rc = nm_mtab_rewrite_text(f.text, f.len, mountpoint, server, &out, &outlen, err);
	if (rc < 0)
		nm_err_prefix(err, "%s", mtab_path);
	if (rc == 1)
		rc = nm_afile_replace(mtab_path, &f, out, outlen, NULL, NULL, err);
	free(out);
	nm_afile_free(&f);
	return rc;
}
