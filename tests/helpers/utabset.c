/* utabset MOUNTPOINT SERVER [FROM]: nm_utab_set_moved, for the tests that
 * look at the result with findmnt (tests/bats/fstab.bats). */
#include <stdio.h>

#include "nm_utab.h"

int main(int argc, char **argv)
{
	struct nm_err err = { 0 };
	int rc;

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
