/* nm_evlog - the upcall record: one JSON object per line, appended. */
#ifndef NM_EVLOG_H
#define NM_EVLOG_H

#include "nm_err.h"

/* Append {"time":..,"event":"upcall","name":..,"callout":..,"answer":..,
 * "ttl":..,"status":..,"by":..} to STATE_DIR/upcalls.log.  Strings are
 * JSON-escaped; the directory is created 0700 if missing; the file is
 * opened O_APPEND|O_NOFOLLOW|O_CLOEXEC, mode 0600. */
int nm_evlog_upcall(const char *state_dir, const char *name, const char *callout,
		    const char *answer, unsigned ttl, const char *status, const char *by,
		    struct nm_err *err);

#endif
