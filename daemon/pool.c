/* nfsmigd's pool of workers (see pool.h). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"

/* With p->mu held. */
static void done(struct pool *p, struct pool_job *job)
{
	uint64_t one = 1;

	job->next = p->done;
	p->done = job;
	if (write(p->efd, &one, sizeof(one)) < 0) {
		/* The counter is far from full: nothing to do. */
	}
}

static void *worker(void *arg)
{
	struct pool *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct pool_job *job = p->jobs;

		if (!job) {
			if (p->stop || p->idle >= POOL_KEEP)
				break;
			p->idle++;
			pthread_cond_wait(&p->work, &p->mu);
			p->idle--;
			continue;
		}
		p->jobs = job->next;
		if (!p->jobs)
			p->tail = &p->jobs;
		p->queued--;
		pthread_mutex_unlock(&p->mu);
		job->run(job);
		pthread_mutex_lock(&p->mu);
		done(p, job);
	}
	p->workers--;
	pthread_cond_broadcast(&p->gone);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

void pool_submit(struct pool *p, struct pool_job *job, void (*fail)(struct pool_job *job))
{
	pthread_t t;

	job->next = NULL;
	pthread_mutex_lock(&p->mu);
	*p->tail = job;
	p->tail = &job->next;
	p->queued++;
	if (p->queued > p->idle && p->workers < POOL_MAX &&
	    pthread_create(&t, &p->attr, worker, p) == 0)
		p->workers++;
	else
		pthread_cond_signal(&p->work);
	if (p->workers == 0) {
		/* No thread to run it (none could be started, so none took
		 * the jobs before this one either): said at once. */
		p->jobs = NULL;
		p->tail = &p->jobs;
		p->queued = 0;
		fail(job);
		done(p, job);
	}
	pthread_mutex_unlock(&p->mu);
}

struct pool_job *pool_take_done(struct pool *p)
{
	struct pool_job *list;
	uint64_t n;

	if (read(p->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return NULL;
	pthread_mutex_lock(&p->mu);
	list = p->done;
	p->done = NULL;
	pthread_mutex_unlock(&p->mu);
	return list;
}

int pool_init(struct pool *p)
{
	pthread_condattr_t ca;

	memset(p, 0, sizeof(*p));
	p->tail = &p->jobs;
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd < 0)
		return -errno;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	/* The end waits for the workers on a clock no one can set. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->gone, &ca);
	pthread_condattr_destroy(&ca);
	pthread_attr_init(&p->attr);
	pthread_attr_setdetachstate(&p->attr, PTHREAD_CREATE_DETACHED);
	return 0;
}

bool pool_stop(struct pool *p, int ms)
{
	struct timespec until;
	bool none;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	while (p->workers > 0 && pthread_cond_timedwait(&p->gone, &p->mu, &until) == 0)
		;
	none = p->workers == 0;
	pthread_mutex_unlock(&p->mu);
	return none;
}

void pool_destroy(struct pool *p)
{
	pthread_attr_destroy(&p->attr);
	pthread_cond_destroy(&p->gone);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	close(p->efd);
}
