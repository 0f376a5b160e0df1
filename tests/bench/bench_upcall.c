/* bench_upcall - time dns_resolver key requests through the kernel.
 *
 *   bench_upcall serial N NAME...     N requests of each NAME, each in a
 *                                     fresh session keyring (so each one
 *                                     upcalls), the names taken in turn so
 *                                     that a change of load on the machine
 *                                     weighs on all alike; with several, a
 *                                     line each and its ratio to the last
 *                                     NAME's median (the baseline) and
 *                                     their difference; "{i}"
 *                                     in a NAME is the request's number
 *                                     (a name no cache has seen)
 *   bench_upcall parallel N DOMAIN    N threads at once, thread i asking
 *                                     c<i>.DOMAIN
 * Prints figures; judges nothing. */
#include <keyutils.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_time.h"

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

struct job {
	char name[256];
	int ok;
};

static void *one(void *arg)
{
	struct job *j = arg;

	j->ok = request_key("dns_resolver", j->name, "", KEY_SPEC_SESSION_KEYRING) > 0;
	return NULL;
}

/* name with "{i}" replaced by i. */
static void name_for(const char *name, int i, char *buf, size_t cap)
{
	const char *at = strstr(name, "{i}");

	if (!at)
		snprintf(buf, cap, "%s", name);
	else
		snprintf(buf, cap, "%.*s%d%s", (int)(at - name), name, i, at + 3);
}

static void one_serial(const char *name, int i, int64_t *t, int *fail)
{
	char buf[256];

	name_for(name, i, buf, sizeof(buf));
	keyctl_join_session_keyring(NULL);
	int64_t t0 = nm_time_us();
	if (request_key("dns_resolver", buf, "", KEY_SPEC_SESSION_KEYRING) < 0)
		(*fail)++;
	*t = nm_time_us() - t0;
}

static int serial(int n, int names, char **name)
{
	int64_t *t = calloc((size_t)n * (size_t)names, sizeof(*t));
	int *fail = calloc((size_t)names, sizeof(*fail));
	double base;

	if (!t || !fail)
		return 1;
	for (int i = 0; i < n; i++)
		for (int k = 0; k < names; k++)
			one_serial(name[k], i, &t[(size_t)k * (size_t)n + (size_t)i], &fail[k]);
	for (int k = 0; k < names; k++)
		qsort(t + (size_t)k * (size_t)n, (size_t)n, sizeof(*t), cmp64);
	base = (double)t[(size_t)(names - 1) * (size_t)n + (size_t)n / 2];
	for (int k = 0; k < names; k++) {
		const int64_t *tk = t + (size_t)k * (size_t)n;

		if (names > 1)
			printf("%-28s ", name[k]);
		printf("median %.2f ms  p99 %.2f ms  (%d requests, %d failed)",
		       (double)tk[n / 2] / 1000, (double)tk[(int)(0.99 * (n - 1))] / 1000, n,
		       fail[k]);
		if (names > 1)
			printf("  %.2fx %+.2f ms", (double)tk[n / 2] / base,
			       ((double)tk[n / 2] - base) / 1000);
		printf("\n");
	}
	free(t);
	free(fail);
	return 0;
}

int main(int argc, char **argv)
{
	int n;

	if (argc < 4 || (n = atoi(argv[2])) < 1 || (strcmp(argv[1], "serial") != 0 && argc != 4)) {
		fprintf(stderr, "usage: bench_upcall serial N NAME... | parallel N DOMAIN\n");
		return 2;
	}
	if (strcmp(argv[1], "serial") == 0)
		return serial(n, argc - 3, argv + 3);
	struct job *jobs = calloc((size_t)n, sizeof(*jobs));
	pthread_t *th = calloc((size_t)n, sizeof(*th));
	int ok = 0, started = 0;

	keyctl_join_session_keyring(NULL);
	int64_t t0 = nm_time_us();
	for (int i = 0; i < n; i++) {
		snprintf(jobs[i].name, sizeof(jobs[i].name), "c%d.%s", i, argv[3]);
		if (pthread_create(&th[i], NULL, one, &jobs[i]) == 0)
			started++;
		else
			th[i] = 0;
	}
	for (int i = 0; i < n; i++)
		if (th[i])
			pthread_join(th[i], NULL);
	int64_t t1 = nm_time_us();
	for (int i = 0; i < n; i++)
		ok += jobs[i].ok;
	printf("%d concurrent requests of distinct names: %.2f s, %d answered, %d failed\n",
	       started, (double)(t1 - t0) / 1e6, ok, n - ok);
	free(jobs);
	free(th);
	return 0;
}
