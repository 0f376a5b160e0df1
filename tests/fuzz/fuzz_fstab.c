/* fuzz_fstab: fstab, autofs master and map texts: the lines naming the old
 * server (nm_fstab_match_text), the new lines (nm_fstab_propose), the
 * master map's file maps (nm_fstab_master_maps), an mtab's source swap
 * (nm_mtab_rewrite_text); with settings bit 0, the same texts as files of
 * a root (nm_fstab_scan_names, nm_afile_read) and fstab rewritten
 * (nm_fstab_rewrite): the file becomes the text with exactly the hit
 * lines replaced, and the backup is the text as it was.
 *
 * Input: a settings byte (bit 0: files; bits 1-2: the export path; bit 3:
 * a new path), then fstab NUL master NUL map. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "nm_afile.h"
#include "nm_fstab.h"
#include "nm_mtab.h"
#include "nm_utab.h"

static const char *const servers[] = { "srv1", "192.0.2.1", "fd00::1" };
static const char *const exports[] = { "/", "/export", "/export/a", "/e" };

/* The bytes of line n (1-based) of text and those of the lines after it
 * that the entry spans, must be the entry. */
static void check_hit(const char *text, size_t len, const struct nm_fstab_hit *h)
{
	size_t pos = 0, elen = strlen(h->entry);
	unsigned line = 1;

	while (line < h->line && pos < len)
		line += text[pos++] == '\n';
	if (line != h->line || len - pos < elen || memcmp(text + pos, h->entry, elen) != 0 ||
	    (pos + elen < len && text[pos + elen] != '\n'))
		abort();
	if (h->nspans == 0)
		abort();
	for (size_t i = 0; i < h->nspans; i++) {
		const struct nm_fstab_span *s = &h->spans[i];

		if (s->host_off + s->host_len > elen || s->path_off + s->path_len > elen ||
		    s->host_off + s->host_len >= s->path_off)
			abort();
		if (!nm_fstab_server_is(h->entry + s->host_off, s->host_len, servers, 3))
			abort();
		if (h->entry[s->path_off] != '/')
			abort();
	}
}

static size_t count_nl(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void check_text(const char *file, enum nm_fstab_kind kind, const char *text, size_t len,
		       const char *exp, const char *new_path)
{
	struct nm_fstab_hit *hits = NULL;
	size_t n = 0;

	if (nm_fstab_match_text(file, kind, text, len, servers, 3, exp, &hits, &n, NULL) != 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct nm_err err = { 0 };
		char *line = NULL;
		int rc;

		check_hit(text, len, &hits[i]);
		rc = nm_fstab_propose(&hits[i], "new.example", new_path, &line, &err);
		if (rc == 0) {
			/* As many lines as before; the old hosts gone from the spans. */
			if (!line || count_nl(line) != count_nl(hits[i].entry) ||
			    !strstr(line, "new.example"))
				abort();
		} else if (line) {
			abort();
		} else if (rc == -EINVAL) {
			/* Only a path that is not plain ("..", ".", "//"). */
			if (!strstr(err.msg, "component"))
				abort();
		} else if (rc != -EXDEV || !new_path) {
			abort();
		}
		free(line);
	}
	nm_fstab_hits_free(hits, n);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
}

static char root[64];

/* The root goes with the process. */
static void remove_root(void)
{
	char p[128];
	glob_t g;

	snprintf(p, sizeof(p), "%s/etc/*", root);
	if (glob(p, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
		globfree(&g);
	}
	snprintf(p, sizeof(p), "%s/etc", root);
	rmdir(p);
	rmdir(root);
}

/* The texts as a root's files: scanned, and fstab rewritten. */
static void check_files(const char *fstab, const char *master, const char *map, const char *exp,
			const char *new_path)
{
	char p[128];
	struct nm_fstab_hit *hits = NULL;
	struct nm_afile f;
	size_t n = 0;
	char *backup = NULL;
	glob_t g;
	int rc;

	if (!root[0]) {
		/* tmpfs where there is one: fsync is cheap there. */
		snprintf(root, sizeof(root), "%s/fuzz-fstab-XXXXXX",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (!mkdtemp(root))
			abort();
		atexit(remove_root);
		snprintf(p, sizeof(p), "%s/etc", root);
		mkdir(p, 0755);
	}
	snprintf(p, sizeof(p), "%s/etc/fstab", root);
	write_file(p, fstab);
	snprintf(p, sizeof(p), "%s/etc/auto.master", root);
	write_file(p, master);
	snprintf(p, sizeof(p), "%s/etc/auto.misc", root);
	write_file(p, map);
	if (nm_fstab_scan_names(root, servers, 3, exp, &hits, &n, NULL) < 0)
		abort();
	rc = nm_fstab_rewrite(root, "/etc/fstab", hits, n, "new.example", new_path, &backup, NULL);
	snprintf(p, sizeof(p), "%s/etc/fstab", root);
	if (nm_afile_read(p, 1 << 24, &f, NULL) != 0)
		abort();
	if (rc == 0 && backup) {
		/* The file: the text with the hit lines replaced, nothing else. */
		struct nm_fstab_hit *again = NULL;
		size_t m = 0;
		char bp[160];
		struct nm_afile b;

		snprintf(bp, sizeof(bp), "%s%s", root, backup);
		if (nm_afile_read(bp, 1 << 24, &b, NULL) != 0 || strcmp(b.text, fstab) != 0)
			abort();
		nm_afile_free(&b);
		if (strlen(f.text) < strlen(fstab) - strlen(fstab) ||
		    count_nl(f.text) != count_nl(fstab))
			abort();
		/* No line of the new file still names the old server for the export,
		 * unless the new path is under the export again. */
		if (!new_path &&
		    nm_fstab_match_text("/etc/fstab", NM_FSTAB_FSTAB, f.text, f.len, servers, 3,
					exp, &again, &m, NULL) == 0 &&
		    m != 0)
			abort();
		nm_fstab_hits_free(again, m);
	} else if (rc == 0) {
		/* Nothing in fstab to change: the file as it was. */
		if (strcmp(f.text, fstab) != 0)
			abort();
	} else if (strcmp(f.text, fstab) != 0) {
		abort(); /* refused: untouched */
	}
	nm_afile_free(&f);
	free(backup);
	nm_fstab_hits_free(hits, n);
	snprintf(p, sizeof(p), "%s/etc/*.nfsmig-*", root);
	if (glob(p, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
		globfree(&g);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned settings = size ? data[0] : 0;
	const char *exp = exports[(settings >> 1) & 3];
	const char *new_path = settings & 8 ? "/moved/x" : NULL;
	char *fstab, *rest, *master, *map;
	char **maps = NULL, **dirs = NULL, *out = NULL;
	size_t outlen = 0;
	int rc;

	if (size)
		data++, size--;
	fuzz_split(data, size, '\0', &fstab, &rest);
	fuzz_split((const uint8_t *)rest, strlen(rest), '\0', &master, &map);
	free(rest);

	check_text("/etc/fstab", NM_FSTAB_FSTAB, fstab, strlen(fstab), exp, new_path);
	check_text("/etc/auto.misc", NM_FSTAB_AUTOFS, map, strlen(map), exp, new_path);
	if (nm_fstab_master_maps(master, strlen(master), &maps, &dirs, NULL) != 0)
		abort();
	for (char **m = maps; m && *m; m++)
		if ((*m)[0] != '/' || strstr(*m, "/../") || strchr(*m, ' '))
			abort();
	nm_fstab_strv_free(maps);
	nm_fstab_strv_free(dirs);

	rc = nm_mtab_rewrite_text(fstab, strlen(fstab), "/mnt/a", "new.example", &out, &outlen,
				  NULL);
	if (rc == 1) {
		char *again = NULL;
		size_t alen = 0;

		if (!out || outlen != strlen(out) ||
		    nm_mtab_rewrite_text(out, outlen, "/mnt/a", "new.example", &again, &alen,
					 NULL) != 0 ||
		    again)
			abort();
	} else if (out || (rc != 0 && rc != -ENOENT)) {
		abort();
	}
	free(out);

	/* The map text as a utab: the entry of /mnt/a given our options; done
	 * again, nothing changes; one line more at most. */
	out = NULL;
	rc = nm_utab_rewrite_text(map, strlen(map), "/mnt/a", "s:/e", "/", "new.example", "old",
				  &out, &outlen, NULL);
	if (rc == 0) {
		char *again = NULL;
		size_t alen = 0;

		if (!out || outlen != strlen(out) || count_nl(out) > count_nl(map) + 1 ||
		    nm_utab_rewrite_text(out, outlen, "/mnt/a", "s:/e", "/", "new.example", "old",
					 &again, &alen, NULL) != 0 ||
		    alen != outlen || memcmp(again, out, outlen) != 0)
			abort();
		free(again);
	} else if (out || rc != -EINVAL) {
		abort(); /* only user options libmount cannot parse */
	}
	free(out);
	if (settings & 1)
		check_files(fstab, master, map, exp, new_path);
	free(fstab);
	free(master);
	free(map);
	return 0;
}
