/* nfsmig - see, check and trust NFSv4 migration on Linux. */

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "complete.h"
#include "shell.h"

int main(int argc, char **argv)
{
	const struct nm_command *c;
	int amb;

	/* A server that hangs up must give an error, not kill us (nm_rpc.h). */
	signal(SIGPIPE, SIG_IGN);
	/* No command: the shell, with what global options there are. */
	if (argc < 2 ||
	    (argv[1][0] == '-' && strcmp(argv[1], "-h") != 0 && strcmp(argv[1], "--help") != 0 &&
	     strcmp(argv[1], "-V") != 0 && strcmp(argv[1], "--version") != 0))
		return nm_shell_main(argc, argv);
	if (strcmp(argv[1], "__complete") == 0) /* for bash completion */
		return nm_complete_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return nm_cmd_help(1, argv);
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("nfsmig %s\n", PACKAGE_VERSION);
		return NM_EXIT_OK;
	}
	c = nm_command_resolve(argv[1], 0, &amb);
	if (!c && !amb)
		c = nm_command_find(argv[1]); /* a shell builtin says where it works */
	if (!c) {
		fprintf(stderr, "nfsmig: %s command '%s' (try: nfsmig help)\n",
			amb ? "ambiguous" : "no", argv[1]);
		return NM_EXIT_USAGE;
	}
	argv[1] = (char *)c->name;
	return c->run(argc - 1, argv + 1);
}
