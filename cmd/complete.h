/* Completion candidates from the command table: one logic for the shell's
 * readline and for bash (through the hidden `nfsmig __complete`). */
#ifndef NFSMIG_COMPLETE_H
#define NFSMIG_COMPLETE_H

#include "commands.h"

typedef void (*nm_complete_emit)(const char *candidate, void *arg);

/*
 * Candidates for the word cur, after words[0..n) (words[0] is the command,
 * possibly a prefix of one; n == 0 completes a command name).  mountinfo
 * is the table for mount points when the words give no --mountinfo (NULL:
 * the kernel's).  Emits each candidate that starts with cur; returns
 * NM_ARG_FILE or NM_ARG_DIR when the caller should complete file names
 * instead, else NM_ARG_NONE.  File names in a directory on NFS are emitted
 * here (listed within a deadline, directories with a trailing '/'): the
 * caller's own completion would hang on a server that does not answer.
 */
enum nm_arg_kind nm_complete(int n, char **words, const char *cur, int in_shell,
			     const char *mountinfo, nm_complete_emit emit, void *arg);

/* nfsmig __complete WORD... CUR: candidates one per line, or ":files" /
 * ":dirs" when file names are wanted. */
int nm_complete_main(int argc, char **argv);

#endif
