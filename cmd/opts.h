/* Parsers for option values shared by nfsmig's commands. */
#ifndef NFSMIG_OPTS_H
#define NFSMIG_OPTS_H

#include <stddef.h>

/* The value of option opt in seconds ("2", "0.5") -> milliseconds in
 * [min_ms, max_ms]; when it is not, says so on stderr and returns -1. */
int nm_opt_seconds(const char *opt, const char *s, int min_ms, int max_ms);

/* "4.0", "4.1", "4.2" (or "4" for automatic) -> minor, or -2 when bad;
 * -1 (automatic) for "4". */
int nm_opt_nfsvers(const char *s);
/* The message for getopt_long's '?' (run with opterr = 0): the option
 * shown escaped. */
void nm_opt_bad(char **argv);

/* The state directory when --state-dir is not given: state_dir of
 * /etc/nfsmig.conf, else the built-in default; copied into buf. */
void nm_opt_default_state_dir(char *buf, size_t len);

#endif
