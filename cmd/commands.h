/* The table of nfsmig's commands: every way in reads it: one-shot dispatch,
 * the shell, help, completion (nfsmig's own and bash's, through the hidden
 * `nfsmig __complete`) and the man page check.  A command's options are read
 * from its help text, so they are written once. */
#ifndef NFSMIG_COMMANDS_H
#define NFSMIG_COMMANDS_H

#include <stddef.h>

enum {
	NM_EXIT_OK = 0,
	NM_EXIT_FAIL = 1,
	NM_EXIT_USAGE = 2,
	NM_EXIT_WARN = 3, /* verify: warnings only */
};

/* What an option's value or a command's operands are, for completion. */
enum nm_arg_kind {
	NM_ARG_NONE,
	NM_ARG_TEXT,	/* anything: no candidates */
	NM_ARG_FILE,	/* a file name */
	NM_ARG_DIR,	/* a directory */
	NM_ARG_MOUNT,	/* an NFS mount point (or a path below one) */
	NM_ARG_SERVER,	/* a server: from the records and fs_locations seen */
	NM_ARG_TARGET,	/* a mount point or SERVER:/PATH */
	NM_ARG_COMMAND, /* a command name */
	NM_ARG_VERS,	/* 4.0 4.1 4.2 */
	NM_ARG_COLUMNS, /* a column list of the command */
};

struct nm_command {
	const char *name;
	const char *args;    /* argument synopsis */
	const char *summary; /* one line */
	const char *help;    /* options ("  -J, --json  ...") and details */
	enum nm_arg_kind operand;
	int shell_only; /* a shell builtin (quit, history) */
	int (*run)(int argc, char **argv);
};

#define NM_MAX_OPTIONS 48 /* options a command may list */

/* One option of a command, as its help text spells it. */
struct nm_option {
	char name[32]; /* --json */
	char alias[4]; /* -J or "" */
	enum nm_arg_kind arg;
};

extern const struct nm_command nm_commands[];
extern const size_t nm_ncommands;

const struct nm_command *nm_command_find(const char *name);

/* name, or a unique prefix of one (shell builtins only when in_shell); NULL
 * when none, and *ambiguous set when several match. */
const struct nm_command *nm_command_resolve(const char *name, int in_shell, int *ambiguous);

/* The options of c, from its help text: returns how many (at most max). */
size_t nm_command_options(const struct nm_command *c, struct nm_option *out, size_t max);

/* Whether c's help lists the long option name ("--mountinfo"). */
int nm_command_takes(const struct nm_command *c, const char *name);

/* In a command line words[0..n) (words[0] the command): the value of the
 * long option name ("--x V" or "--x=V"), "" when it is given without one,
 * NULL when it is not given. */
const char *nm_words_option(int n, char **words, const char *name);
void nm_command_usage(const struct nm_command *c, int to_stderr);

int nm_cmd_locations(int argc, char **argv);
int nm_cmd_help(int argc, char **argv);
int nm_cmd_register(int argc, char **argv);
int nm_cmd_mounts(int argc, char **argv);
int nm_cmd_show(int argc, char **argv);
int nm_cmd_verify(int argc, char **argv);
int nm_cmd_migrate(int argc, char **argv);
int nm_cmd_fstab(int argc, char **argv);
int nm_cmd_events(int argc, char **argv);
int nm_cmd_status(int argc, char **argv);
int nm_cmd_rehearse(int argc, char **argv);
int nm_cmd_builtin(int argc, char **argv); /* quit, history outside the shell */

#endif
