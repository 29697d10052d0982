/* libnicely throughput: x*x called N times (default 100,000) through a
 * pool of 2 workers (preset nuclear) as one chunked nicely_map, as one
 * nicely_map_into, as one message per task (nicely_run), and with lifespan
 * 1 (a fresh process per task), next to a bare fork+waitpid loop measured
 * in the same run.
 * Usage: lib_throughput [N [NFORK [BIG_MB [REPEATS]]]]; prints "name
 * us_per_call" lines. BIG_MB: the caller touches that much memory after
 * creating the lifespan-1 pool, before both fork measurements (fork server
 * vs caller). The two fork measurements alternate in 10 blocks (NFORK >=
 * 200); each figure is the median of its blocks, and the ratio the median
 * of the blocks' ratios (with min and max), so that load that changes
 * during the run falls on both. REPEATS (default 5): each map is timed that many times and
 * the median printed (with min and max for the warm figures):
 *   warm: on one pool, after a first map of the same size (throughput, as
 *         a program that keeps its pool sees it);
 *   cold: each on a fresh pool after a 1,000-call warm-up (first use of
 *         the pool's memory: on some virtual machines a fresh page costs
 *         several microseconds).
 * A nicely_map's time covers nicely_map, nicely_wait_all and reading every
 * result back with nicely_result_get (what Pool.map's returned list
 * holds); a nicely_map_into's covers allocating a fresh int64_t array (as
 * Pool.map makes a fresh list), nicely_map_into, nicely_wait_all and
 * summing the array. Pool creation is outside both, as it is outside
 * Python's. The caller's own CPU time for the warm maps is printed too
 * (median): the part no number of workers takes over. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "nicely.h"

/* CPU seconds of this process (the caller; workers not included). */
static double cpu_s(void)
{
	struct rusage u;

	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
	       (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

/* Check every result; returns the number of wrong ones. */
static long check(nicely_pool *p, int64_t first, long n)
{
	long bad = 0;

	for (long i = 0; i < n; i++) {
		const nicely_result *r = nicely_result_get(p, first + i);
		int64_t v = -1;

		if (r && r->len == sizeof v)
			memcpy(&v, r->data, sizeof v);
		if (!r || r->status != NICELY_OK || v != (int64_t)i * i)
			bad++;
	}
	return bad;
}

/* Sort doubles ascending (tiny arrays). */
static void sort_d(double *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
			double x = v[j];

			v[j] = v[j - 1];
			v[j - 1] = x;
		}
}

/* One map of x*x over xs[0, n) on pool p, timed: nicely_map, waiting and
 * reading every result back with nicely_result_get, or (into) a fresh
 * int64_t array, nicely_map_into, waiting and summing the array. Stores
 * microseconds per call in *us and the caller's CPU per call in *cpu
 * (each may be NULL); returns the number of wrong results. */
static long time_map(nicely_pool *p, const int64_t *xs, long n, int into,
		     double *us, double *cpu)
{
	double c = cpu_s(), t = now_s();
	volatile int64_t sum = 0;
	int64_t s = 0, want = 0, first = 0, *arr = NULL;
	long bad = 0;

	if (into) {
		/* a fresh array, as Pool.map makes a fresh list */
		if (!(arr = malloc(sizeof *arr * (size_t)n)))
			return n;
		nicely_map_into(p, square, xs, sizeof xs[0], (size_t)n, 0, arr,
				sizeof arr[0], NULL, &first);
		nicely_wait_all(p);
		for (long i = 0; i < n; i++)
			s += arr[i];
	} else {
		nicely_map(p, square, xs, sizeof xs[0], (size_t)n, 0, &first);
		nicely_wait_all(p);
		for (long i = 0; i < n; i++) {
			const nicely_result *res = nicely_result_get(p, first + i);
			int64_t v = 0;

			if (res && res->len == sizeof v)
				memcpy(&v, res->data, sizeof v);
			s += v;
		}
	}
	sum = s;
	if (us)
		*us = (now_s() - t) / (double)n * 1e6;
	if (cpu)
		*cpu = (cpu_s() - c) / (double)n * 1e6;
	for (long i = 0; i < n; i++)
		want += (int64_t)i * i;
	bad += sum != want;
	if (into)
		for (long i = 0; i < n; i++)
			bad += arr[i] != (int64_t)i * i;
	else
		bad += check(p, first, n);
	free(arr);
	return bad;
}

/* A fresh pool of 2 workers with the given lifespan. */
static nicely_pool *mkpool(unsigned lifespan)
{
	nicely_options o;
	nicely_pool *p;

	nicely_options_init(&o);
	o.preset = "nuclear";
	o.max_workers = 2;
	o.lifespan = lifespan;
	if (nicely_pool_new(&p, &o)) {
		fprintf(stderr, "lib_throughput: cannot create a pool\n");
		exit(1);
	}
	return p;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	long nf = argc > 2 ? atol(argv[2]) : 100000;
	long big_mb = argc > 3 ? atol(argv[3]) : 0;
	int reps = argc > 4 ? atoi(argv[4]) : 5;
	double maps[64], mapcpu[64], intos[64], intocpu[64], colds[64];
	double intocolds[64], bares[10], lifes[10], ratios[10];
	int nblk;
	char *big = NULL;
	int64_t *xs = malloc(sizeof *xs * (size_t)(n > nf ? n : nf));
	nicely_pool *p;
	double t, chunked, single, life1, bare;
	long bad = 0;

	if (!xs || n < 1 || nf < 1 || reps < 1 || reps > 64)
		return 1;
	for (long i = 0; i < (n > nf ? n : nf); i++)
		xs[i] = i;

	/* fork-per-task first, while this process is as small as it gets:
	 * the fork server is forked now, the bare loop forks this process */
	p = mkpool(1);
	if (big_mb > 0 && (big = malloc((size_t)big_mb << 20)))
		memset(big, 1, (size_t)big_mb << 20);
	/* in alternating blocks, so that a change of load between the two
	 * falls on both: the ratio is the median of the blocks' ratios */
	nblk = nf >= 200 ? 10 : 1;
	for (int k = 0; k < nblk; k++) {
		long from = nf * k / nblk, to = nf * (k + 1) / nblk;

		t = now_s();
		for (long i = from; i < to; i++) {
			pid_t pid = fork();

			if (pid == 0) {
				volatile int64_t y = xs[i] * xs[i];

				(void)y;
				_exit(0);
			}
			if (pid < 0 || waitpid(pid, NULL, 0) != pid)
				bad++;
		}
		bares[k] = (now_s() - t) / (double)(to - from) * 1e6;
		t = now_s();
		for (long i = from; i < to; i++)
			nicely_run(p, square, &xs[i], sizeof xs[i]);
		nicely_wait_all(p);
		lifes[k] = (now_s() - t) / (double)(to - from) * 1e6;
		ratios[k] = lifes[k] / bares[k];
	}
	sort_d(bares, nblk);
	sort_d(lifes, nblk);
	sort_d(ratios, nblk);
	bare = bares[nblk / 2];
	life1 = lifes[nblk / 2];
	bad += check(p, 0, nf);
	nicely_pool_free(p);

	/* warm: one pool, a full-size map first; cold: a fresh pool each */
	p = mkpool(0);
	time_map(p, xs, n, 0, NULL, NULL);
	for (int r = 0; r < reps; r++)
		bad += time_map(p, xs, n, 0, &maps[r], &mapcpu[r]);
	nicely_pool_free(p);
	for (int r = 0; r < reps; r++) {
		p = mkpool(0);
		time_map(p, xs, 1000, 0, NULL, NULL);
		bad += time_map(p, xs, n, 0, &colds[r], NULL);
		nicely_pool_free(p);
	}
	p = mkpool(0);
	time_map(p, xs, n, 1, NULL, NULL);
	for (int r = 0; r < reps; r++)
		bad += time_map(p, xs, n, 1, &intos[r], &intocpu[r]);
	nicely_pool_free(p);
	for (int r = 0; r < reps; r++) {
		p = mkpool(0);
		time_map(p, xs, 1000, 1, NULL, NULL);
		bad += time_map(p, xs, n, 1, &intocolds[r], NULL);
		nicely_pool_free(p);
	}
	sort_d(maps, reps);
	sort_d(mapcpu, reps);
	sort_d(colds, reps);
	sort_d(intos, reps);
	sort_d(intocpu, reps);
	sort_d(intocolds, reps);
	chunked = maps[reps / 2];

	p = mkpool(0);
	t = now_s();
	for (long i = 0; i < n; i++)
		nicely_run(p, square, &xs[i], sizeof xs[i]);
	nicely_wait_all(p);
	single = (now_s() - t) / (double)n * 1e6;
	bad += check(p, 0, n);
	nicely_pool_free(p);

	free(big);
	printf("calls %ld\nfork_calls %ld\ncaller_extra_mb %ld\n", n, nf,
	       big ? big_mb : 0);
	printf("chunked_map_us %.4f\n", chunked);
	printf("chunked_map_min_us %.4f\nchunked_map_max_us %.4f\nrepeats %d\n",
	       maps[0], maps[reps - 1], reps);
	printf("chunked_map_caller_cpu_us %.4f\n", mapcpu[reps / 2]);
	printf("map_into_us %.4f\n", intos[reps / 2]);
	printf("map_into_min_us %.4f\nmap_into_max_us %.4f\n", intos[0],
	       intos[reps - 1]);
	printf("map_into_caller_cpu_us %.4f\n", intocpu[reps / 2]);
	printf("chunked_map_cold_us %.4f\n", colds[reps / 2]);
	printf("map_into_cold_us %.4f\n", intocolds[reps / 2]);
	printf("one_message_per_task_us %.4f\n", single);
	printf("lifespan1_us %.2f\n", life1);
	printf("bare_fork_waitpid_us %.2f\n", bare);
	printf("lifespan1_over_bare_fork %.2f\n", ratios[nblk / 2]);
	printf("lifespan1_over_bare_fork_min %.2f\nlifespan1_over_bare_fork_max "
	       "%.2f\n",
	       ratios[0], ratios[nblk - 1]);
	printf("wrong_results %ld\n", bad);
	free(xs);
	return bad ? 1 : 0;
}
