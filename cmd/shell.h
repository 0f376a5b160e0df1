/* The nfsmig shell: `nfsmig` with no command.  On a terminal, readline with
 * completion and history; otherwise (or with -batch FILE) it reads commands
 * line by line and stops at the first failure unless -force. */
#ifndef NFSMIG_SHELL_H
#define NFSMIG_SHELL_H

#include "commands.h"

/* argv: the global options given before no command (-force, -batch FILE,
 * --mountinfo FILE). */
int nm_shell_main(int argc, char **argv);

#endif
