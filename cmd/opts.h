/* Parsers for option values shared by nfsmig's commands. */
#ifndef NFSMIG_OPTS_H
#define NFSMIG_OPTS_H

/* "2", "0.5" seconds -> milliseconds in [min_ms, max_ms]; -1 when bad. */
int nm_opt_seconds(const char *s, int min_ms, int max_ms);

/* "4.0", "4.1", "4.2" (or "4" for automatic) -> minor, or -2 when bad;
 * -1 (automatic) for "4". */
int nm_opt_nfsvers(const char *s);

#endif
