/* Parsers for option values shared by nfsmig's commands. */
#ifndef NFSMIG_OPTS_H
#define NFSMIG_OPTS_H

/* The value of option opt in seconds ("2", "0.5") -> milliseconds in
 * [min_ms, max_ms]; when it is not, says so on stderr and returns -1. */
int nm_opt_seconds(const char *opt, const char *s, int min_ms, int max_ms);

/* "4.0", "4.1", "4.2" (or "4" for automatic) -> minor, or -2 when bad;
 * -1 (automatic) for "4". */
int nm_opt_nfsvers(const char *s);

#endif
