/* utabset MOUNTPOINT SERVER [FROM]: nm_utab_set_moved; utabset -f
 * MOUNTPOINT: nm_utab_forget; utabset -m MTAB MOUNTPOINT SERVER:
 * nm_mtab_update (exit 0 updated, 3 left alone); for the tests that look
 * at the result with findmnt (tests/bats/fstab.bats, the VM's
 * 7-metadata). */
#include <string.h>
#include <stdio.h>

#include "nm_mtab.h"
#include "nm_utab.h"

int main(int argc, char **argv)
{
	struct nm_err err = { 0 };
	int rc;

	if (argc == 3 && strcmp(argv[1], "-f") == 0) {
		rc = nm_utab_forget(argv[2], &err);
		if (rc < 0) {
			fprintf(stderr, "utabset: %d: %s\n", rc, err.msg);
			return 1;
		}
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "-m") == 0) {
		rc = nm_mtab_update(argv[2], argv[3], argv[4], &err);
		if (rc < 0) {
			fprintf(stderr, "utabset: %d: %s\n", rc, err.msg);
			return 1;
		}
		return rc == 1 ? 3 : 0;
	}
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: utabset MOUNTPOINT SERVER [FROM]\n");
		return 2;
	}
	rc = nm_utab_set_moved(argv[1], argv[2], argc == 4 ? argv[3] : NULL, &err);
	if (rc < 0) {
		fprintf(stderr, "utabset: %d: %s\n", rc, err.msg);
		return 1;
	}
	return 0;
}
