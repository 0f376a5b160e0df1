/* What the harnesses of the NFSv4 client check of a decoded answer,
 * beyond "no crash": what nfsmig keeps of a server's answer holds what its
 * callers rely on.  A broken invariant aborts (a finding). */
#ifndef NM_FUZZ_CHECK_H
#define NM_FUZZ_CHECK_H

#include "fuzz.h"
#include "nm_fattr.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>

#include "nm_fsloc.h"
#include "nm_store.h"
#include "nm_target.h"

#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Counts of decoded fs_locations within the XDR bounds. */
static inline void fuzz_check_fattr(const struct nm_fattr *f)
{
	const fs_locations4 *l = &f->fs_locations;

	FUZZ_ASSERT(l->fs_root.pathname4_len <= NM_XDR_MAX_COMPONENTS);
	FUZZ_ASSERT(l->locations.locations_len <= NM_XDR_MAX_LOCATIONS);
	for (unsigned i = 0; i < l->locations.locations_len; i++) {
		FUZZ_ASSERT(l->locations.locations_val[i].server.server_len <= NM_XDR_MAX_SERVERS);
		FUZZ_ASSERT(l->locations.locations_val[i].rootpath.pathname4_len <=
			    NM_XDR_MAX_COMPONENTS);
	}
}

/* Every server name kept is a host name or address, or else escaped (a
 * backslash in it, no control byte). */
static inline void fuzz_check_fsloc(const struct nm_fsloc_result *r)
{
	FUZZ_ASSERT(r->nloc <= NM_XDR_MAX_LOCATIONS);
	for (size_t i = 0; i < r->nloc; i++) {
		FUZZ_ASSERT(r->loc[i].nservers <= NM_XDR_MAX_SERVERS);
		for (size_t j = 0; j < r->loc[i].nservers; j++) {
			const char *s = r->loc[i].servers[j];

			FUZZ_ASSERT(s);
			if (nm_target_host_name_ok(s))
				continue;
			FUZZ_ASSERT(strchr(s, '\\'));
			for (const unsigned char *p = (const unsigned char *)s; *p; p++)
				FUZZ_ASSERT(*p >= 0x20 && *p != 0x7f);
		}
	}
}

/* A root's handle is 1..NFS4_FHSIZE bytes; its attributes within bounds. */
static inline void fuzz_check_root(const struct nm_fsloc_root *r)
{
	FUZZ_ASSERT(r->fhlen >= 1 && r->fhlen <= NFS4_FHSIZE);
	fuzz_check_fattr(&r->attrs);
}

static char fuzz_dirs[2][64];

/* Empty one of this process's state directories. */
static inline void fuzz_empty_dir(const char *d)
{
	DIR *dp = opendir(d);
	struct dirent *e;

	if (!dp)
		abort();
	while ((e = readdir(dp)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			if (unlinkat(dirfd(dp), e->d_name, 0) != 0)
				(void)unlinkat(dirfd(dp), e->d_name, AT_REMOVEDIR);
	closedir(dp);
}

/* At exit: nothing of this process stays in /dev/shm. */
static inline void fuzz_remove_dirs(void)
{
	for (int i = 0; i < 2; i++)
		if (fuzz_dirs[i][0]) {
			fuzz_empty_dir(fuzz_dirs[i]);
			(void)rmdir(fuzz_dirs[i]);
		}
}

/* A fresh state directory of this process (under /dev/shm), emptied;
 * removed when the process exits. */
static inline const char *fuzz_state_dir(int which)
{
	char *d = fuzz_dirs[which & 1];

	if (!d[0]) {
		if (!fuzz_dirs[0][0] && !fuzz_dirs[1][0])
			atexit(fuzz_remove_dirs);
		snprintf(d, sizeof(fuzz_dirs[0]), "/dev/shm/nfsmig-fuzz-%d-%d.XXXXXX",
			 (int)getpid(), which & 1);
		if (!mkdtemp(d))
			abort();
	}
	fuzz_empty_dir(d);
	return d;
}

/* The text of r's record file as nm_store_save writes it into state dir
 * which (a new string, its length in *len); NULL when save refuses it. */
static inline char *fuzz_saved_text(int which, const struct nm_record *r, size_t *len, int *rc)
{
	const char *dir = fuzz_state_dir(which);
	char name[NM_STORE_NAME_MAX + 1], path[512], *text;
	struct nm_err err;
	FILE *f;
	long n;

	*rc = nm_store_save(dir, r, &err);
	if (*rc < 0)
		return NULL;
	FUZZ_ASSERT(nm_store_name(r->mountpoint, name, sizeof(name), &err) == 0);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	FUZZ_ASSERT(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = malloc((size_t)n + 1);
	if (!text || fread(text, 1, (size_t)n, f) != (size_t)n)
		abort();
	text[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return text;
}

/* A record saves (unless too big: -EFBIG), loads back, and saves again as
 * the same text: what the format writes, its parser reads the same.  A
 * mount point no record file can be named for (nm_store_name: not
 * absolute, too long) is left out: no file of the state directory is
 * read back as it. */
static inline void fuzz_check_record(const struct nm_record *r)
{
	char name[NM_STORE_NAME_MAX + 1];
	struct nm_record back;
	struct nm_err err;
	size_t la, lb;
	int rc;
	char *a, *b;

	if (nm_store_name(r->mountpoint, name, sizeof(name), &err) < 0)
		return;
	a = fuzz_saved_text(0, r, &la, &rc);
	if (!a) {
		FUZZ_ASSERT(rc == -EFBIG);
		return;
	}
	FUZZ_ASSERT(nm_store_load(fuzz_dirs[0], r->mountpoint, &back, &err) == 0);
	b = fuzz_saved_text(1, &back, &lb, &rc);
	FUZZ_ASSERT(b && la == lb && memcmp(a, b, la) == 0);
	nm_record_free(&back);
	free(a);
	free(b);
}

#endif
