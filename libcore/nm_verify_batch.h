/* nm_verify_batch - verify's questions to one destination server.
 *
 * One session per group of mounts (same server, port, version, flavor);
 * the questions of many mounts share each COMPOUND.  A COMPOUND stops at
 * the first failing operation: whatever it did not answer, of the failing
 * mount or of the mounts after it, is asked again in the next one, until
 * every question has an answer or the server stops giving any.  Only
 * answers are recorded here (struct nm_verify_answer); nm_verify_judge
 * makes verdicts of them. */
#ifndef NM_VERIFY_BATCH_H
#define NM_VERIFY_BATCH_H

#include <stddef.h>

#include "nm_err.h"
#include "nm_verify.h"
#include "nm_verify_judge.h"

struct nm_verify_group {
	struct nm_verify_item **items;	  /* n items with one destination */
	struct nm_verify_answer *answers; /* n, filled by nm_verify_batch_run */
	size_t n;
	int timeout_ms;
	/* results */
	unsigned minor;		    /* the session's version, when reached */
	char error[NM_ERR_MSG_MAX]; /* why the session could not be had */
	char note[NM_ERR_MSG_MAX];  /* why not from a reserved port, if not */
	unsigned rpcs;
};

/* The version an item's mount speaks: the kernel's, else the record's. */
int nm_verify_minor_of(const struct nm_verify_item *it);

/* Ask the group's destination every item's questions. */
void nm_verify_batch_run(struct nm_verify_group *g);

#endif
