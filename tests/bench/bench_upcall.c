/* bench_upcall - time dns_resolver key requests through the kernel.
 *
 *   bench_upcall serial N NAME        N requests of NAME, each in a fresh
 *                                     session keyring (so each one upcalls)
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

int main(int argc, char **argv)
{
	int n;

	if (argc != 4 || (n = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: bench_upcall serial|parallel N NAME|DOMAIN\n");
		return 2;
	}
	if (strcmp(argv[1], "serial") == 0) {
		int64_t *t = calloc((size_t)n, sizeof(*t));
		int fail = 0;

		for (int i = 0; i < n; i++) {
			keyctl_join_session_keyring(NULL);
			int64_t t0 = nm_time_us();
			if (request_key("dns_resolver", argv[3], "", KEY_SPEC_SESSION_KEYRING) < 0)
				fail++;
			t[i] = nm_time_us() - t0;
		}
		qsort(t, (size_t)n, sizeof(*t), cmp64);
		printf("median %.2f ms  p99 %.2f ms  (%d requests, %d failed)\n",
		       (double)t[n / 2] / 1000, (double)t[(int)(0.99 * (n - 1))] / 1000, n, fail);
		free(t);
		return 0;
	}
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
