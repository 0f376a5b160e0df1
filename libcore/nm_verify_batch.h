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
#include "nm_fattr.h"
#include "nm_nfs4.h"
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

/* The parts of an item's questions (nm_verify_answer's root, sec, walk,
 * entry). */
enum { NM_VERIFY_PT_ROOT, NM_VERIFY_PARTS = 4 };

/* One COMPOUND's worth of questions: each operation's item, part, and
 * whether it ends the part; items [from, to) asked in it. */
struct nm_verify_slot {
	size_t item;
	int part;
	bool last;
};

struct nm_verify_round {
	nfs_argop4 ops[NM_XDR_MAX_OPS];
	struct nm_verify_slot slot[NM_XDR_MAX_OPS];
	uint32_t words[NM_FATTR_WORDS];
	unsigned k;
	size_t from, to;
};

/* The steps of nm_verify_batch_run, apart from the network (for tests):
 * start marks what each item wants asked; plan fills the next round of at
 * most max operations (0: nothing left; an item that does not fit alone is
 * given up); take records a reply to it, and gives up on the round's items
 * when it settles nothing; give_up ends every part of items [from, to)
 * still waiting, with why as the reason. */
void nm_verify_batch_start(struct nm_verify_group *g);
unsigned nm_verify_batch_plan(struct nm_verify_group *g, unsigned max, struct nm_verify_round *rd);
void nm_verify_batch_take(struct nm_verify_group *g, const struct nm_verify_round *rd,
			  const struct nm_nfs4_reply *r);
void nm_verify_batch_give_up(struct nm_verify_group *g, size_t from, size_t to, const char *why);

/* The path to walk for a path stored in a record: "." and ".." resolved
 * as nm_path_split does (a new string, NULL when out of memory); *why says
 * why it cannot be walked by LOOKUP of its text (escaped bytes), or NULL. */
char *nm_verify_walk_path(const char *stored, const char **why);

/* Ask the group's destination every item's questions: start, open a
 * session to the first item's server, run_on it, close it. */
void nm_verify_batch_run(struct nm_verify_group *g);

/* Ask every item's questions on an open session c (after
 * nm_verify_batch_start): until each wanted part is answered or given up
 * on, within g->timeout_ms of DELAYs.  c stays open (the caller's). */
void nm_verify_batch_run_on(struct nm_nfs4 *c, struct nm_verify_group *g);

#endif
