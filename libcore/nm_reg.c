#include "nm_reg.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nm_mpath.h"
#include "nm_mstats.h"
#include "nm_nfs4.h"
#include "nm_path.h"
#include "nm_served.h"
#include "nm_watch.h"

char *nm_reg_root_path(const struct nm_mount *m)
{
	char *s = NULL;

	if (asprintf(&s, "%s%s", strcmp(m->export_path, "/") == 0 ? "" : m->export_path,
		     strcmp(m->root, "/") == 0 ? "" : m->root) < 0)
		return NULL;
	if (!s[0]) {
		free(s);
		s = strdup("/");
	}
	return s;
}

/* "server:/rootpath" for every server of every location, printable.  A
 * record keeps the first NM_STORE_MAX_LIST of them and at most
 * NM_STORE_LOCATION_BYTES: a server that lists more (or longer ones) does
 * not stop the mount from being registered; the rest are counted in
 * *dropped.  They are what the server said, for show and verify; the
 * root's handle is what registering is for. */
static int add_locations(struct nm_record *rec, const fs_locations4 *fl, unsigned *dropped)
{
	size_t bytes = 0;

	/* Server names are kept only when they are host names or addresses,
	 * anything else escaped (nm_fsloc_server). */
	for (unsigned i = 0; i < fl->locations.locations_len; i++) {
		const fs_location4 *l = &fl->locations.locations_val[i];

		for (unsigned j = 0; j < l->server.server_len; j++) {
			char *loc = nm_fsloc_location_string(l, j);
			int rc = 0;

			if (!loc) {
				rc = -ENOMEM;
			} else if (bytes + nm_record_location_bytes(loc) >
					   NM_STORE_LOCATION_BYTES ||
				   (rc = nm_record_add_location(rec, loc)) == -E2BIG) {
				rc = 0;
				(*dropped)++;
			} else if (rc == 0) {
				bytes += nm_record_location_bytes(loc);
			}
			free(loc);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int nm_reg_build(const struct nm_mount *m, const char *path, int minor, int64_t now,
		 const struct nm_fsloc_root *root, struct nm_record *rec, unsigned *dropped,
		 struct nm_err *err)
{
	unsigned none = 0;

	if (!dropped)
		dropped = &none;
	*dropped = 0;
	memset(rec, 0, sizeof(*rec));
	if (root->fhlen > NM_STORE_FH_MAX)
		return nm_err_set(err, -EOVERFLOW, "%s: a root file handle of %u bytes", m->target,
				  root->fhlen);
	rec->mountpoint = strdup(m->target);
	rec->source = strdup(m->source);
	rec->orig_server = strdup(m->server);
	rec->cur_server = strdup(m->server);
	rec->export_path = strdup(path);
	rec->sec = strdup(m->sec);
	rec->vers = 4;
	rec->minor = minor;
	rec->registered = now;
	memcpy(rec->root_fh, root->fh, root->fhlen);
	rec->root_fh_len = root->fhlen;
	rec->fsid_major = root->attrs.fsid.major;
	rec->fsid_minor = root->attrs.fsid.minor;
	rec->fileid = root->attrs.fileid;
	rec->fh_expire_type = root->attrs.fh_expire_type;
	if (!rec->mountpoint || !rec->source || !rec->orig_server || !rec->cur_server ||
	    !rec->export_path || !rec->sec ||
	    add_locations(rec, &root->attrs.fs_locations, dropped) < 0) {
		nm_record_free(rec);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

int nm_reg_check(const char *dir, const struct nm_mount *m, bool force, struct nm_err *err)
{
	struct nm_record old;

	if (m->vers != 4)
		return nm_err_set(err, -EPROTONOSUPPORT,
				  "%s is an NFSv%d mount: only NFSv4 mounts can be registered",
				  m->target, m->vers);
	if (!force && nm_store_load(dir, m->target, &old, NULL) == 0) {
		nm_record_free(&old);
		return nm_err_set(err, -EEXIST,
				  "%s is registered already (--force takes a new root file "
				  "handle, from the server it is on now)",
				  m->target);
	}
	return 0;
}

/*
 * The handle and fileid of one entry of the mount's root, for verify: the
 * root's own handle may name only the export (knfsd's fsid=), which a
 * different file system exported under the same fsid takes as well.  An
 * empty root, or an entry the server will not look up, leaves none.
 */
static void take_probe(struct nm_nfs4 *c, const struct nm_mount *m, int timeout_ms,
		       const char *path, struct nm_record *rec, struct nm_err *why)
{
	struct nm_fsloc_root child;
	struct nm_err err = { 0 };
	struct nm_mpath_entry *d = NULL;
	size_t nd = 0;
	char *cpath = NULL;

	/* The mount point is on NFS: read within the deadline, in a child. */
	if (nm_mpath_list(m->target, timeout_ms, 1, &d, &nd, &err) < 0) {
		nm_err_set(why, err.code, "cannot list the mount point: %s", err.msg);
		return;
	}
	if (nd == 0) {
		nm_err_set(why, -ENOENT, "the root is empty");
		return;
	}
	if (asprintf(&cpath, "%s%s%s", path, strcmp(path, "/") ? "/" : "", d->name) < 0) {
		nm_err_set(why, -ENOMEM, "out of memory");
	} else if (nm_fsloc_root(c, cpath, &child, &err) < 0) {
		nm_err_set(why, err.code, "%s", err.msg);
	} else {
		if (!nm_fattr_has(&child.attrs, NM_FATTR_FILEID))
			nm_err_set(why, -ENODATA, "%s: the server gave no fileid", cpath);
		else if (child.fhlen > NM_STORE_FH_MAX)
			nm_err_set(why, -E2BIG, "%s: a file handle of %u bytes", cpath,
				   (unsigned)child.fhlen);
		else if ((rec->probe_name = strdup(d->name)) == NULL)
			nm_err_set(why, -ENOMEM, "out of memory");
		else {
			memcpy(rec->probe_fh, child.fh, child.fhlen);
			rec->probe_fh_len = child.fhlen;
			rec->probe_fileid = child.attrs.fileid;
		}
		nm_fattr_free(&child.attrs);
	}
	free(cpath);
	nm_mpath_entries_free(d, nd);
}

int nm_reg_mount_id(const struct nm_mount *m, const char *boot_id, int64_t mounted, char *buf,
		    size_t cap)
{
	char at[32] = "";
	int n;

	if (cap)
		buf[0] = '\0';
	if (m->id <= 0 || !boot_id || !boot_id[0] || strpbrk(boot_id, " \n"))
		return -ENOENT;
	if (mounted >= 0)
		snprintf(at, sizeof(at), " %" PRId64, mounted);
	n = snprintf(buf, cap, "%s %d %u:%u%s", boot_id, m->id, m->dev_major, m->dev_minor, at);
	if (n < 0 || (size_t)n >= cap) {
		if (cap)
			buf[0] = '\0';
		return -E2BIG;
	}
	return 0;
}

int64_t nm_reg_mounted_at(const struct nm_mstats *s, const char *target)
{
	const struct nm_mstats_mount *mm = s ? nm_mstats_find(s, target) : NULL;
	struct timespec ts;
	int64_t now;

	if (!mm || mm->age < 0)
		return -1;
	/* The clock when the file was read: the time a scan takes after
	 * (records loaded, saved and synced) is not counted as age. */
	if (s->read_mono >= 0)
		now = s->read_mono;
	else if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
		now = (int64_t)ts.tv_sec;
	else
		return -1;
	return now < mm->age ? -1 : now - mm->age;
}

void nm_reg_boot_id(char *buf, size_t cap)
{
	int fd = open(NM_REG_BOOT_ID_PATH, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = -1;

	if (cap == 0)
		return;
	buf[0] = '\0';
	if (fd < 0)
		return;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n <= 0) {
		buf[0] = '\0';
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	/* A boot ID is a UUID: anything else is not one. */
	for (char *p = buf; *p; p++)
		if (!isxdigit((unsigned char)*p) && *p != '-') {
			buf[0] = '\0';
			return;
		}
}

int nm_reg_query(const char *dir, const struct nm_mount *m, int timeout_ms, struct nm_record *rec,
		 unsigned *dropped, struct nm_err *no_probe, struct nm_err *err)
{
	struct nm_nfs4_opts no = {
		.rpc = { .port = m->port, .connect_ms = timeout_ms, .call_ms = timeout_ms },
		.minor = m->minor,
		.sec = m->sec
	};
	struct nm_fsloc_root root;
	struct nm_nfs4 *c = NULL;
	struct nm_record old;
	struct nm_err ignored = { 0 };
	char *path = nm_reg_root_path(m);
	int rc;

	memset(rec, 0, sizeof(*rec));
	/* Registered already (--force): after a move the root is at the
	 * recorded location's rootpath on the server it is on now. */
	if (path && dir && nm_store_load(dir, m->target, &old, &ignored) == 0) {
		char *now = nm_served_path(&old, m->server, path, timeout_ms);

		nm_record_free(&old);
		free(path);
		path = now;
	}
	if (!path)
		return nm_err_set(err, -ENOMEM, "out of memory");
	rc = nm_nfs4_open(m->server, &no, &c, err);
	if (rc == 0)
		rc = nm_fsloc_root(c, path, &root, err);
	if (rc == 0) {
		rc = nm_reg_build(m, path, (int)nm_nfs4_minor(c), (int64_t)time(NULL), &root, rec,
				  dropped, err);
		nm_fattr_free(&root.attrs);
	}
	if (rc == 0)
		take_probe(c, m, timeout_ms, path, rec, no_probe);
	if (rc == 0) {
		/* Which mount this is: a later one there is a new mount. */
		char boot[64], id[128];
		struct nm_mstats ms = { 0 };
		int64_t at = -1;

		nm_reg_boot_id(boot, sizeof(boot));
		if (nm_mstats_read(NULL, &ms, NULL) == 0) {
			at = nm_reg_mounted_at(&ms, m->target);
			nm_mstats_free(&ms);
		}
		if (nm_reg_mount_id(m, boot, at, id, sizeof(id)) == 0 &&
		    !(rec->mount_id = strdup(id)))
			rc = nm_err_set(err, -ENOMEM, "out of memory");
		if (rc < 0)
			nm_record_free(rec);
	}
	nm_nfs4_close(c);
	free(path);
	return rc;
}

struct save_arg {
	const struct nm_record *rec;
	bool force;
};

static bool has_location(const struct nm_record *r, const char *loc)
{
	for (size_t i = 0; i < r->nlocations; i++)
		if (strcmp(r->locations[i], loc) == 0)
			return true;
	return false;
}

/* The original server and export path of old in r, and old's locations
 * r does not list (as many as fit). */
static int keep_origin(struct nm_record *r, const struct nm_record *old)
{
	size_t bytes = 0;

	for (size_t i = 0; i < r->nlocations; i++)
		bytes += nm_record_location_bytes(r->locations[i]);
	if (old->orig_server && old->orig_server[0]) {
		char *s = strdup(old->orig_server);

		if (!s)
			return -ENOMEM;
		free(r->orig_server);
		r->orig_server = s;
	}
	if (old->export_path && old->export_path[0]) {
		char *s = strdup(old->export_path);

		if (!s)
			return -ENOMEM;
		free(r->export_path);
		r->export_path = s;
	}
	for (size_t i = 0; i < old->nlocations; i++) {
		const char *loc = old->locations[i];
		int rc;

		if (has_location(r, loc) ||
		    bytes + nm_record_location_bytes(loc) > NM_STORE_LOCATION_BYTES)
			continue;
		rc = nm_record_add_location(r, loc);
		if (rc == -E2BIG)
			break;
		if (rc < 0)
			return rc;
		bytes += nm_record_location_bytes(loc);
	}
	return 0;
}

/* Under the lock: what is there now decides. */
static int replace(struct nm_record *r, const struct nm_store_update *u, void *arg,
		   struct nm_err *err)
{
	const struct save_arg *x = arg;
	struct nm_record old = *r;
	int rc;

	if (u->found == 0 && !x->force)
		return nm_err_set(err, -EEXIST,
				  "%s is registered already (--force takes a new root file "
				  "handle, from the server it is on now)",
				  x->rec->mountpoint);
	/* The new record, after the moves the old one recorded: the
	 * history stays. */
	memset(r, 0, sizeof(*r));
	rc = nm_record_copy(r, x->rec);
	if (rc == 0 && u->found == 0 && old.nmoves) {
		struct nm_move *ours = r->moves;
		size_t nours = r->nmoves;

		r->moves = NULL;
		r->nmoves = 0;
		for (size_t i = 0; rc == 0 && i < old.nmoves; i++)
			rc = nm_record_add_move_by(r, old.moves[i].time, old.moves[i].from,
						   old.moves[i].to, old.moves[i].trigger);
		for (size_t i = 0; rc == 0 && i < nours; i++)
			rc = nm_record_add_move(r, ours[i].time, ours[i].from, ours[i].to);
		for (size_t i = 0; i < nours; i++) {
			free(ours[i].from);
			free(ours[i].to);
		}
		free(ours);
	}
	/* The same mount registered again (--force, after a move): the
	 * original server, the source's export path and the locations known
	 * stay, so the source is still the one asked and the path on the
	 * server now is still known from its location's rootpath. */
	if (rc == 0 && u->found == 0 && old.source && r->source &&
	    strcmp(old.source, r->source) == 0)
		rc = keep_origin(r, &old);
	/* A report still to make of this very mount (a move verify recorded
	 * while the daemon was registering it again): the marker stays, so
	 * that the move is reported once.  One of another mount of the mount
	 * point is not this mount's: dropped. */
	if (rc == 0 && u->found == 0 && old.pending && old.pending[0] && !r->pending &&
	    old.mount_id && old.mount_id[0] && r->mount_id && r->mount_id[0] &&
	    nm_watch_same_mount(old.mount_id, r->mount_id)) {
		r->pending = old.pending;
		old.pending = NULL;
	}
	nm_record_free(&old);
	if (rc < 0)
		return nm_err_set(err, rc, "%s: %s", x->rec->mountpoint,
				  rc == -E2BIG ? "too many moves to keep" : "out of memory");
	return 0;
}

int nm_reg_save(const char *dir, const struct nm_record *rec, bool force, struct nm_store_update *u,
		struct nm_err *err)
{
	struct nm_store_update local = { 0 };
	struct save_arg x = { rec, force };

	if (!u)
		u = &local;
	u->flags = NM_STORE_CREATE | NM_STORE_SET_ASIDE;
	return nm_store_update(dir, rec->mountpoint, u, replace, &x, err);
}
