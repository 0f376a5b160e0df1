/* nm_prom - metrics in the Prometheus text format (see nm_prom.h). */
#include "nm_prom.h"

#include "nm_afile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nm_esc.h"
#include "nm_mount.h"
#include "nm_store.h"
#include "nm_verify.h"

bool nm_prom_metric_name_ok(const char *name)
{
	if (!name || !*name || (*name >= '0' && *name <= '9'))
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == ':'))
			return false;
	return true;
}

bool nm_prom_label_name_ok(const char *name)
{
	if (!name || strchr(name, ':') || strncmp(name, "__", 2) == 0)
		return false;
	return nm_prom_metric_name_ok(name);
}

char *nm_prom_label_value(const char *s)
{
	size_t len = s ? strlen(s) : 0, o = 0;
	/* At worst every byte becomes "\\xNN" (5 bytes). */
	char *out = malloc(len * 5 + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t k;

		if (*p == '\\' || *p == '"') {
			out[o++] = '\\';
			out[o++] = (char)*p;
			i++;
		} else if (*p == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
			i++;
		} else if ((k = nm_esc_plain_len(p, len - i, 0)) > 0) {
			memcpy(out + o, p, k);
			o += k;
			i += k;
		} else {
			/* The text \xNN, its backslash escaped. */
			o += (size_t)sprintf(out + o, "\\\\x%02x", *p);
			i++;
		}
	}
	out[o] = '\0';
	return out;
}

void nm_prom_mount_of(const struct nm_mount *m, const struct nm_record *rec, int verdict,
		      struct nm_prom_mount *pm)
{
	memset(pm, 0, sizeof(*pm));
	pm->mountpoint = m->target;
	pm->source = m->source;
	pm->server = m->server ? m->server : "";
	pm->verdict = verdict;
	if (!rec)
		return;
	pm->registered_server = rec->orig_server;
	pm->moved = nm_record_moved(rec, pm->server);
	if (rec->nmoves)
		pm->last_move = rec->moves[rec->nmoves - 1].time;
}

/* --- the document ------------------------------------------------------------- */

struct fam {
	const char *name, *type, *help;
};

static const struct fam F_MOVED = { "nfsmig_mount_moved", "gauge",
				    "Whether the server the kernel uses for the mount is not the "
				    "one at registration (1) or is (0)." },
			F_LAST = { "nfsmig_mount_last_move_timestamp_seconds", "gauge",
				   "When the mount's last recorded move happened, seconds since "
				   "the epoch." },
			F_VERIFY = { "nfsmig_mount_verify_state", "gauge",
				     "The mount's last verify verdict: 1 for the state it is in, "
				     "0 for the others." },
			F_UPCALLS = { "nfsmig_upcalls_total", "counter",
				      "Upcalls nfsmigd answered, by result." },
			F_MOVES = { "nfsmig_moves_total", "counter",
				    "Moves nfsmigd reported, by kind." },
			F_LEASE = { "nfsmig_lease_moved_total", "counter",
				    "LEASE_MOVED reports nfsmigd saw (the migrations they announce "
				    "are counted in nfsmig_moves_total)." },
			F_FAILED = { "nfsmig_migrations_failed_total", "counter",
				     "Mounts whose migration failed, as the kernel told nfsmigd." },
			F_HOOKS = { "nfsmig_hook_failures_total", "counter",
				    "Hooks that failed, timed out or could not be run." },
			F_SCANS = { "nfsmig_scans_total", "counter",
				    "Looks nfsmigd took at the mount table." };

static const char *const mount_labels[] = { "mountpoint", "source", "server", "registered_server" };

struct out {
	FILE *f;
	int rc;
	struct nm_err *err;
};

static void header(struct out *o, const struct fam *fm)
{
	if (o->rc)
		return;
	if (!nm_prom_metric_name_ok(fm->name)) {
		o->rc = nm_err_set(o->err, -EINVAL, "'%s' is not a metric name", fm->name);
		return;
	}
	fprintf(o->f, "# HELP %s %s\n# TYPE %s %s\n", fm->name, fm->help, fm->name, fm->type);
}

/* One sample: n label pairs (names[i], values[i]), then value. */
static void sample(struct out *o, const char *name, const char *const *names,
		   const char *const *values, size_t n, const char *value)
{
	if (o->rc)
		return;
	fputs(name, o->f);
	for (size_t i = 0; i < n; i++) {
		char *v;

		if (!nm_prom_label_name_ok(names[i])) {
			o->rc = nm_err_set(o->err, -EINVAL, "'%s' is not a label name", names[i]);
			return;
		}
		v = nm_prom_label_value(values[i]);
		if (!v) {
			o->rc = nm_err_set(o->err, -ENOMEM, "out of memory");
			return;
		}
		fprintf(o->f, "%s%s=\"%s\"", i ? "," : "{", names[i], v);
		free(v);
	}
	fprintf(o->f, "%s %s\n", n ? "}" : "", value);
}

static void mount_sample(struct out *o, const struct fam *fm, const struct nm_prom_mount *m,
			 const char *extra_name, const char *extra_value, const char *value)
{
	const char *names[5], *values[5];
	size_t n = 4;

	memcpy(names, mount_labels, sizeof(mount_labels));
	values[0] = m->mountpoint;
	values[1] = m->source;
	values[2] = m->server;
	values[3] = m->registered_server;
	if (extra_name) {
		names[n] = extra_name;
		values[n++] = extra_value;
	}
	sample(o, fm->name, names, values, n, value);
}

static void counts(struct out *o, const struct fam *fm, const char *label,
		   const struct nm_prom_count *c, size_t n)
{
	header(o, fm);
	for (size_t i = 0; i < n; i++) {
		char v[32];

		snprintf(v, sizeof(v), "%llu", c[i].n);
		sample(o, fm->name, &label, &c[i].label, 1, v);
	}
}

static void count(struct out *o, const struct fam *fm, unsigned long long n)
{
	char v[32];

	header(o, fm);
	snprintf(v, sizeof(v), "%llu", n);
	sample(o, fm->name, NULL, NULL, 0, v);
}

int nm_prom_format(const struct nm_prom_doc *d, char **out, size_t *len, struct nm_err *err)
{
	static const int states[] = { NM_V_OK, NM_V_WARN, NM_V_FAIL, NM_V_SKIP };
	struct out o = { .err = err };
	bool any_moved = false, any_verified = false;

	*out = NULL;
	*len = 0;
	o.f = open_memstream(out, len);
	if (!o.f)
		return nm_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < d->nmounts; i++) {
		any_moved |= d->mounts[i].last_move > 0;
		any_verified |= d->mounts[i].verdict >= 0;
	}
	if (d->nmounts)
		header(&o, &F_MOVED);
	for (size_t i = 0; i < d->nmounts; i++)
		mount_sample(&o, &F_MOVED, &d->mounts[i], NULL, NULL,
			     d->mounts[i].moved ? "1" : "0");
	if (any_moved)
		header(&o, &F_LAST);
	for (size_t i = 0; i < d->nmounts; i++) {
		char v[32];

		if (d->mounts[i].last_move <= 0)
			continue;
		snprintf(v, sizeof(v), "%" PRId64, d->mounts[i].last_move);
		mount_sample(&o, &F_LAST, &d->mounts[i], NULL, NULL, v);
	}
	if (any_verified)
		header(&o, &F_VERIFY);
	for (size_t i = 0; i < d->nmounts; i++) {
		if (d->mounts[i].verdict < 0)
			continue;
		for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++)
			mount_sample(&o, &F_VERIFY, &d->mounts[i], "state",
				     nm_verdict_name((enum nm_verdict)states[k]),
				     d->mounts[i].verdict == states[k] ? "1" : "0");
	}
	if (d->counters) {
		counts(&o, &F_UPCALLS, "result", d->upcalls, d->nupcalls);
		counts(&o, &F_MOVES, "kind", d->moves, d->nmoves);
		count(&o, &F_LEASE, d->lease_moved);
		count(&o, &F_FAILED, d->migrations_failed);
		count(&o, &F_HOOKS, d->hook_failures);
		count(&o, &F_SCANS, d->scans);
	}
	if (fclose(o.f) != 0 && !o.rc)
		o.rc = nm_err_set(err, -ENOMEM, "out of memory");
	if (o.rc) {
		free(*out);
		*out = NULL;
		*len = 0;
	}
	return o.rc;
}

/* --- the file ----------------------------------------------------------------- */

/* dir opened without following a symbolic link in any component (a
 * directory on the way may be another user's: /var/lib/prometheus is
 * prometheus'), then refused unless it is root's or ours and writable by
 * no group or other (as the hooks' directory).  An fd, or -errno with err. */
static int open_dir(const char *dir, struct nm_err *err)
{
	char buf[PATH_MAX], *save = NULL;
	int fd = open(dir[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return nm_err_set(err, -errno, "%s: %s", dir, strerror(errno));
	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		struct stat l;

		/* O_DIRECTORY|O_NOFOLLOW on a link: ENOTDIR (or ELOOP). */
		if (next < 0 && e == ENOTDIR && fstatat(fd, c, &l, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(l.st_mode))
			e = ELOOP;
		close(fd);
		if (next < 0)
			return nm_err_set(err, -e, "%s: %s", dir,
					  e == ELOOP ? "a symbolic link on the way: refused"
						     : strerror(e));
		fd = next;
	}
	if (fstat(fd, &st) != 0) {
		int e = errno;

		close(fd);
		return nm_err_set(err, -e, "%s: %s", dir, strerror(e));
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022)) {
		close(fd);
		return nm_err_set(err, -EPERM, "%s: refused: %s", dir,
				  st.st_mode & 022 ? "writable by group or others"
						   : "not owned by root or by us");
	}
	return fd;
}

int nm_prom_write(const char *path, const char *text, size_t len, struct nm_err *err)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char dir[PATH_MAX], tmp[NAME_MAX + 1];
	int dirfd, fd = -1, rc = 0;

	if (!*base || strlen(base) > NAME_MAX - 24)
		return nm_err_set(err, -EINVAL, "%s: not a file name", path);
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return nm_err_set(err, -ENAMETOOLONG, "%s: name too long", path);
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	dirfd = open_dir(dir, err);
	if (dirfd < 0)
		return dirfd;
	nm_afile_sweep_temps(dirfd, base, "nfsmig");
	fd = nm_afile_open_temp(dirfd, base, "nfsmig", tmp, sizeof(tmp));
	if (fd < 0) {
		rc = nm_err_set(err, fd, "%s: cannot create a temporary file: %s", dir,
				strerror(-fd));
		close(dirfd);
		return rc;
	}
	/* The mode as asked, whatever the umask: node_exporter reads it. */
	rc = nm_afile_write_all(fd, text, len);
	if (!rc && fchmod(fd, 0644) != 0)
		rc = -errno;
	if (close(fd) != 0 && !rc)
		rc = -errno;
	if (!rc && renameat(dirfd, tmp, dirfd, base) != 0)
		rc = -errno;
	if (rc) {
		unlinkat(dirfd, tmp, 0);
		close(dirfd);
		return nm_err_set(err, rc, "%s: not written (the old file is kept): %s", path,
				  strerror(-rc));
	}
	/* No fsync of the file or the directory: the rename is atomic (a
	 * reader sees the old file or the new, whole), and nfsmigd writes
	 * it again every minute; a crash loses at most a minute-old copy. */
	close(dirfd);
	return 0;
}
