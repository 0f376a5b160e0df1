/* nm_time - monotonic clock helpers. */
#ifndef NM_TIME_H
#define NM_TIME_H

#include <stdint.h>
#include <time.h>

static inline int64_t nm_time_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The clock of cached answers' ages and expiries: CLOCK_BOOTTIME, which
 * (unlike CLOCK_MONOTONIC) goes on while the machine is suspended, so an
 * answer does not outlive its TTL across a suspend; one clock for every
 * process (the daemon writes, the upcalls read SOCKET.cache). */
static inline int64_t nm_time_boot_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t nm_time_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sleep ms milliseconds, signals notwithstanding. */
static inline void nm_time_sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0)
		;
}

#endif
