/* fuzz_mount: a saved mount table (mountinfo or fstab form, as
 * --mountinfo FILE takes), through nm_mount_list, the referral parent
 * search and nm_mount_find for a few paths. */
#include "fuzz.h"
#include "nm_mount.h"

static const char *paths[] = { "/", "/mnt/m", "/mnt/m/sub/dir", "/srv" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *file = fuzz_file(data, size);
	struct nm_mount *list, m;
	struct nm_err err;
	size_t n;

	if (nm_mount_list(file, &list, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			(void)nm_mount_referral_parent(list, n, i);
		nm_mount_list_free(list, n);
	}
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char *server_path = NULL;

		if (nm_mount_find(file, paths[i], &m, &server_path, &err) == 0) {
			free(server_path);
			nm_mount_free(&m);
		}
	}
	return 0;
}
