/* nfsmigd - the dns_resolver upcall handler and mount watcher (to come). */

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
		printf("nfsmigd %s\n", PACKAGE_VERSION);
		return 0;
	}
	fprintf(stderr, "nfsmigd: not yet: the dns_resolver upcall and the mount watcher "
			"are still to be built\n");
	return 1;
}
