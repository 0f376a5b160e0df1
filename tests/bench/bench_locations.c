/* bench_locations - RPCs per query and latency of the fs_locations query.
 *
 *   bench_locations SERVER PATH RUNS
 *
 * For NFSv4.0 and 4.1, RUNS times: connect, set up (EXCHANGE_ID and
 * CREATE_SESSION for 4.1), query, tear down; and RUNS queries on one warm
 * session.  Prints figures; judges nothing. */
#include <stdio.h>
#include <stdlib.h>

#include "nm_fsloc.h"
#include "nm_nfs4.h"
#include "nm_time.h"

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(int64_t *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp64);
	return (double)v[(int)(p * (n - 1))] / 1000.0;
}

int main(int argc, char **argv)
{
	int runs;

	if (argc != 4 || (runs = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: bench_locations SERVER PATH RUNS\n");
		return 2;
	}
	int64_t *cold = calloc((size_t)runs, sizeof(int64_t));
	int64_t *warm = calloc((size_t)runs, sizeof(int64_t));

	if (!cold || !warm)
		return 1;
	for (int minor = 0; minor <= 1; minor++) {
		struct nm_nfs4_opts o = { .rpc = { .connect_ms = 5000, .call_ms = 5000 },
					  .minor = minor };
		unsigned rpcs = 0, compounds = 0;
		struct nm_err err = { 0 };
		struct nm_nfs4 *c = NULL;
		struct nm_fsloc_result r;

		for (int i = 0; i < runs; i++) {
			int64_t t0 = nm_time_us();

			if (nm_nfs4_open(argv[1], &o, &c, &err) < 0 ||
			    nm_fsloc_query(c, argv[2], &r, &err) < 0) {
				fprintf(stderr, "bench_locations: %s\n", err.msg);
				nm_nfs4_close(c);
				return 1;
			}
			compounds = r.compounds;
			nm_fsloc_result_free(&r);
			nm_nfs4_shutdown(c);
			rpcs = nm_nfs4_rpcs(c);
			nm_nfs4_close(c);
			cold[i] = nm_time_us() - t0;
		}
		if (nm_nfs4_open(argv[1], &o, &c, &err) < 0) {
			fprintf(stderr, "bench_locations: %s\n", err.msg);
			return 1;
		}
		for (int i = 0; i < runs; i++) {
			int64_t t0 = nm_time_us();

			if (nm_fsloc_query(c, argv[2], &r, &err) < 0) {
				fprintf(stderr, "bench_locations: %s\n", err.msg);
				nm_nfs4_close(c);
				return 1;
			}
			nm_fsloc_result_free(&r);
			warm[i] = nm_time_us() - t0;
		}
		nm_nfs4_close(c);
		printf("NFSv4.%d  %s:%s\n", minor, argv[1], argv[2]);
		printf("  RPCs per query, with setup and teardown: %u (%u COMPOUNDs for the query "
		       "itself)\n",
		       rpcs, compounds);
		printf("  latency, new connection each time: median %.2f ms, p99 %.2f ms (%d "
		       "runs)\n",
		       pct(cold, runs, 0.5), pct(cold, runs, 0.99), runs);
		printf("  latency, warm session:             median %.2f ms, p99 %.2f ms (%d "
		       "runs)\n",
		       pct(warm, runs, 0.5), pct(warm, runs, 0.99), runs);
	}
	free(cold);
	free(warm);
	return 0;
}
