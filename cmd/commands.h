/* The table of nfsmig's commands: every way in (one-shot, help) reads it. */
#ifndef NFSMIG_COMMANDS_H
#define NFSMIG_COMMANDS_H

#include <stddef.h>

enum {
	NM_EXIT_OK = 0,
	NM_EXIT_FAIL = 1,
	NM_EXIT_USAGE = 2,
	NM_EXIT_WARN = 3, /* verify: warnings only */
};

struct nm_command {
	const char *name;
	const char *args;    /* argument synopsis */
	const char *summary; /* one line */
	const char *help;    /* options and details */
	int (*run)(int argc, char **argv);
};

extern const struct nm_command nm_commands[];
extern const size_t nm_ncommands;

const struct nm_command *nm_command_find(const char *name);
void nm_command_usage(const struct nm_command *c, int to_stderr);

int nm_cmd_locations(int argc, char **argv);
int nm_cmd_help(int argc, char **argv);
int nm_cmd_register(int argc, char **argv);
int nm_cmd_mounts(int argc, char **argv);
int nm_cmd_show(int argc, char **argv);
int nm_cmd_verify(int argc, char **argv);

#endif
