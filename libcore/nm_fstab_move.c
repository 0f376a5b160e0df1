/* nm_fstab_move - what a moved mount's fstab and autofs lines need (see
 * nm_fstab.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nm_fstab.h"
#include "nm_mount.h"
#include "nm_served.h"
#include "nm_store.h"
#include "nm_target.h"

static int add_old(struct nm_fstab_move *mv, const char *name, size_t len)
{
	if (!name || len == 0 || mv->nold >= NM_FSTAB_MAX_OLD)
		return 0;
	if (name[0] == '[' && len >= 2 && name[len - 1] == ']')
		name++, len -= 2;
	for (size_t i = 0; i < mv->nold; i++)
		if (strlen(mv->old[i]) == len && strncasecmp(mv->old[i], name, len) == 0)
			return 0;
	mv->old[mv->nold] = strndup(name, len);
	if (!mv->old[mv->nold])
		return -ENOMEM;
	/* Only names fit to match: a host name or an address. */
	if (!nm_target_host_name_ok(mv->old[mv->nold])) {
		free(mv->old[mv->nold]);
		mv->old[mv->nold] = NULL;
		return 0;
	}
	mv->nold++;
	return 0;
}

/* The host of "host:/path" or "[v6]:/path". */
static int add_old_source(struct nm_fstab_move *mv, const char *source)
{
	size_t hl, po;

	if (!source || !nm_fstab_source_split(source, strlen(source), &hl, &po))
		return 0;
	return add_old(mv, source, hl);
}

void nm_fstab_move_free(struct nm_fstab_move *mv)
{
	if (!mv)
		return;
	for (size_t i = 0; i < mv->nold; i++)
		free(mv->old[i]);
	free(mv->export_path);
	free(mv->new_server);
	free(mv->new_path);
	memset(mv, 0, sizeof(*mv));
}

int nm_fstab_move_of(const struct nm_record *r, const struct nm_mount *m, int deadline_ms,
		     struct nm_fstab_move *mv, struct nm_err *err)
{
	const char *now = m->server, *exp;
	int rc = 0;

	memset(mv, 0, sizeof(*mv));
	if (!now || !nm_record_moved(r, now))
		return 1;
	rc |= add_old(mv, r->orig_server, strlen(r->orig_server));
	rc |= add_old_source(mv, r->source);
	rc |= add_old_source(mv, m->source);
	for (size_t i = 0; i < r->nmoves; i++)
		if (r->moves[i].from && strcmp(r->moves[i].from, now) != 0)
			rc |= add_old(mv, r->moves[i].from, strlen(r->moves[i].from));
	exp = r->export_path ? r->export_path : m->export_path;
	mv->export_path = strdup(exp ? exp : "/");
	if (rc || !mv->export_path)
		goto oom;

	/* The new server: a recorded location there, by name when one is. */
	for (int resolve = 0; resolve < 2 && !mv->new_server; resolve++) {
		for (size_t i = 0; i < r->nlocations && !mv->new_server; i++) {
			const char *loc = r->locations[i];
			const char *p = loc[0] == '[' ? strstr(loc, "]:/") : strstr(loc, ":/");
			char *srv = nm_served_location_server(loc);
			bool hit = srv && p &&
				   (resolve ? nm_served_by(srv, now, deadline_ms)
					    : strcmp(srv, now) == 0);

			if (hit) {
				const char *rp = p + (loc[0] == '[' ? 2 : 1);
				size_t el = strlen(mv->export_path), rl = strlen(rp);

				while (el > 1 && mv->export_path[el - 1] == '/')
					el--;
				while (rl > 1 && rp[rl - 1] == '/')
					rl--;
				mv->new_server = srv;
				srv = NULL;
				if (memchr(rp, '\\', rl)) {
					/* A path kept escaped (bytes a server sent that
					 * are not text): never written into a table. */
					nm_fstab_move_free(mv);
					free(srv);
					return nm_err_set(err, -EINVAL,
							  "%s: the path on the new server holds "
							  "bytes that are not text",
							  m->target);
				}
				if (el != rl || strncmp(rp, mv->export_path, el) != 0) {
					mv->new_path = strndup(rp, rl);
					if (!mv->new_path)
						goto oom;
				}
			}
			free(srv);
		}
	}
	if (!mv->new_server) {
		mv->new_server = strdup(now);
		if (!mv->new_server)
			goto oom;
	}
	if (!nm_target_host_name_ok(mv->new_server)) {
		nm_fstab_move_free(mv);
		return nm_err_set(err, -EINVAL,
				  "%s: the server now is not a host name or an address", m->target);
	}
	return 0;
oom:
	nm_fstab_move_free(mv);
	return nm_err_set(err, -ENOMEM, "out of memory");
}
