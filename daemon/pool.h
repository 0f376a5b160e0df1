/* nfsmigd's workers: jobs that block (DNS lookups) run on a small pool of
 * threads, away from the event loop, which learns of the ones done from
 * an eventfd it polls. */
#ifndef NFSMIGD_POOL_H
#define NFSMIGD_POOL_H

#include <pthread.h>
#include <stdbool.h>

#define POOL_MAX  64 /* jobs running at once */
#define POOL_KEEP 2  /* idle workers kept (blocked: never woken by a timer) */

/* Embedded in the caller's job; run by a worker, then on the done list. */
struct pool_job {
	struct pool_job *next;
	void (*run)(struct pool_job *job);
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t work; /* a job was queued, or stop */
	pthread_cond_t gone; /* a worker ended */
	struct pool_job *jobs, **tail, *done;
	unsigned queued, workers, idle;
	bool stop;
	int efd; /* eventfd: done has jobs */
	pthread_attr_t attr;
};

int pool_init(struct pool *p);

/* Queue job: a worker is started when none is idle for it (at most
 * POOL_MAX).  Without any worker, job->run is not called: job comes back
 * on the done list at once, fail(job) having said why. */
void pool_submit(struct pool *p, struct pool_job *job, void (*fail)(struct pool_job *job));

/* The jobs done since the last call (the eventfd read), newest first. */
struct pool_job *pool_take_done(struct pool *p);

/* Stop the workers: true once none runs (within ms). */
bool pool_stop(struct pool *p, int ms);

void pool_destroy(struct pool *p);

#endif
