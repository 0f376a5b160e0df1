/* fuzz_mpath: a path placed among the mounts (nm_mpath_resolve) with the
 * symbolic links the input makes, and directory names through
 * nm_mpath_list's child and pipe (parse_entries).
 *
 * Invariants: a resolved path is absolute and normal (no empty, "." or
 * ".." component, no trailing slash) and shorter than PATH_MAX; no link
 * is looked at where an NFS mount covers it (no server would be asked);
 * a listing returns exactly the names the directory holds.
 *
 * Input: one byte of settings, then NUL-separated strings: the path, the
 * working directory, then pairs of an absolute path and its link target.
 *   bit 0   a path not in the table is missing (-ENOENT), else it exists
 *   bit 1   no ops: text only
 *   bit 7   also: the strings as names of a directory, listed */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "fuzz_check.h"
#include "nm_mpath.h"

#define MAX_STR 32

static const struct nm_mpath_mount mounts[] = {
	{ "/", false },
	{ "/mnt/nfs", true },
	{ "/mnt/nfs/local", false },
	{ "/srv", false },
};
#define NMOUNTS (sizeof(mounts) / sizeof(mounts[0]))

struct table {
	const char *s[MAX_STR];
	size_t n;
	bool missing;
};

static int fake_link(const char *abs, char **target, void *arg)
{
	const struct table *t = arg;

	FUZZ_ASSERT(abs[0] == '/');
	FUZZ_ASSERT(!nm_mpath_on_nfs(mounts, NMOUNTS, abs));
	for (size_t i = 2; i + 1 < t->n; i += 2)
		if (strcmp(t->s[i], abs) == 0) {
			*target = strdup(t->s[i + 1]);
			if (!*target)
				abort();
			return 1;
		}
	return t->missing ? -ENOENT : 0;
}

static void check_normal(const char *p)
{
	size_t len = strlen(p);

	FUZZ_ASSERT(p[0] == '/' && len < PATH_MAX);
	if (len > 1)
		FUZZ_ASSERT(p[len - 1] != '/');
	for (const char *c = p + 1; len > 1;) {
		const char *e = strchr(c, '/');
		size_t n = e ? (size_t)(e - c) : strlen(c);

		FUZZ_ASSERT(n > 0);
		FUZZ_ASSERT(!(n == 1 && c[0] == '.') && !(n == 2 && c[0] == '.' && c[1] == '.'));
		if (!e)
			break;
		c = e + 1;
	}
}

/* The strings as names in a fresh directory; nm_mpath_list must give
 * them back, each once. */
static void list(const struct table *t)
{
	const char *dir = fuzz_state_dir(0);
	const char *made[MAX_STR];
	size_t nmade = 0, n = 0;
	struct nm_mpath_entry *e = NULL;
	struct nm_err err;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	FUZZ_ASSERT(dfd >= 0);
	for (size_t i = 0; i < t->n; i++) {
		const char *s = t->s[i];
		bool dup = false;
		int fd;

		if (!s[0] || strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, "..") ||
		    strlen(s) > NAME_MAX)
			continue;
		for (size_t j = 0; j < nmade; j++)
			dup |= strcmp(made[j], s) == 0;
		if (dup)
			continue;
		if (i & 1) {
			FUZZ_ASSERT(mkdirat(dfd, s, 0700) == 0);
		} else {
			fd = openat(dfd, s, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
			FUZZ_ASSERT(fd >= 0);
			close(fd);
		}
		made[nmade++] = s;
	}
	if (nm_mpath_list(dir, 5000, 64, &e, &n, &err) == 0) {
		FUZZ_ASSERT(n == nmade);
		for (size_t i = 0; i < n; i++) {
			bool found = false;

			for (size_t j = 0; j < nmade; j++)
				found |= strcmp(made[j], e[i].name) == 0;
			FUZZ_ASSERT(found);
		}
		nm_mpath_entries_free(e, n);
	}
	for (size_t j = 0; j < nmade; j++)
		(void)unlinkat(dfd, made[j], 0), (void)unlinkat(dfd, made[j], AT_REMOVEDIR);
	close(dfd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct table t = { .n = 0 };
	struct nm_mpath_ops ops = { .link = fake_link, .arg = &t };
	char *buf, *p, *out = NULL;
	struct nm_err err;
	uint8_t cfg;

	if (size < 1)
		return 0;
	cfg = data[0];
	t.missing = cfg & 1;
	buf = fuzz_str(data + 1, size - 1);
	/* fuzz_str stops at the first NUL: split the input itself */
	free(buf);
	buf = malloc(size);
	if (!buf)
		abort();
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	for (p = buf; t.n < MAX_STR && p <= buf + size - 1; p += strlen(p) + 1)
		t.s[t.n++] = p;
	if (t.n >= 2 && nm_mpath_resolve(mounts, NMOUNTS, t.s[0], t.s[1], (cfg & 2) ? NULL : &ops,
					 &out, &err) == 0) {
		FUZZ_ASSERT(out);
		check_normal(out);
		free(out);
	}
	if (cfg & 0x80)
		list(&t);
	free(buf);
	return 0;
}
