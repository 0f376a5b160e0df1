/* nfsmig - see, check and trust NFSv4 migration on Linux. */

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

int main(int argc, char **argv)
{
	const struct nm_command *c;

	/* A server that hangs up must give an error, not kill us (nm_rpc.h). */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		nm_cmd_help(1, argv);
		return NM_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return nm_cmd_help(1, argv);
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("nfsmig %s\n", PACKAGE_VERSION);
		return NM_EXIT_OK;
	}
	c = nm_command_find(argv[1]);
	if (!c) {
		fprintf(stderr, "nfsmig: no command '%s' (try: nfsmig help)\n", argv[1]);
		return NM_EXIT_USAGE;
	}
	return c->run(argc - 1, argv + 1);
}
