/* A small TAP producer for libcore's unit tests. */
#ifndef NM_UNIT_H
#define NM_UNIT_H

#include <stdio.h>
#include <stdlib.h>

struct unit {
	int n;
	int failed;
};

/* cond is evaluated exactly once. */
#define UNIT_CHECK(u, cond, ...)                                                                   \
	do {                                                                                       \
		int unit_ok_ = !!(cond);                                                           \
		(u)->n++;                                                                          \
		if (!unit_ok_)                                                                     \
			(u)->failed++;                                                             \
		printf("%sok %d - ", unit_ok_ ? "" : "not ", (u)->n);                              \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		if (!unit_ok_)                                                                     \
			printf("#   failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);             \
	} while (0)

/* Line-buffered, so a crash (or a sanitizer's abort) keeps what came before. */
static inline void unit_start(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static inline int unit_done(struct unit *u)
{
	printf("1..%d\n", u->n);
	return u->failed ? 1 : 0;
}

#endif
