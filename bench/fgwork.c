/* bench/fgwork: the stand-in for another user's work in the politeness
 * benchmark, and the CPU burner the batch runs. Modes:
 *   fgwork calibrate            iterations per second of one thread
 *   fgwork work ITERS [THREADS] fixed arithmetic on THREADS threads (default:
 *                               online CPUs); prints wall=SECONDS
 *   fgwork latency ITERS200US   1,000 x (sleep 1 ms, then 200 us of work);
 *                               prints p50_us= p99_us= of the work slices
 *   fgwork burn SECONDS         a CPU-bound batch task: spin for SECONDS wall
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t fg_sink;

/* Monotonic time in seconds. */
static double fg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A fixed amount of integer arithmetic the compiler cannot remove. */
static void fg_spin(uint64_t iters)
{
	uint64_t x = 88172645463325252ULL;

	for (uint64_t i = 0; i < iters; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	fg_sink += x;
}

/* Thread body for `work`. */
static void *fg_thread(void *arg)
{
	fg_spin(*(uint64_t *)arg);
	return NULL;
}

/* qsort comparator for doubles. */
static int fg_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "calibrate")) {
		uint64_t n = 1 << 20;
		double t;

		for (;;) {
			double t0 = fg_now();
			fg_spin(n);
			t = fg_now() - t0;
			if (t > 0.2)
				break;
			n *= 2;
		}
		printf("%.0f\n", n / t);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "work")) {
		uint64_t iters = strtoull(argv[2], NULL, 10);
		long nt = argc >= 4 ? atol(argv[3]) : sysconf(_SC_NPROCESSORS_ONLN);
		pthread_t th[1024];
		double t0 = fg_now();

		if (nt < 1 || nt > 1024)
			return 2;
		for (long i = 0; i < nt; i++)
			pthread_create(&th[i], NULL, fg_thread, &iters);
		for (long i = 0; i < nt; i++)
			pthread_join(th[i], NULL);
		printf("wall=%.4f\n", fg_now() - t0);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "latency")) {
		uint64_t iters = strtoull(argv[2], NULL, 10);
		enum { N = 1000 };
		static double us[N];
		struct timespec ms = { 0, 1000000 };

		for (int i = 0; i < N; i++) {
			nanosleep(&ms, NULL);
			double t0 = fg_now();
			fg_spin(iters);
			us[i] = (fg_now() - t0) * 1e6;
		}
		qsort(us, N, sizeof us[0], fg_cmp);
		printf("p50_us=%.1f p99_us=%.1f\n", us[N / 2], us[N * 99 / 100]);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "burn")) {
		double end = fg_now() + atof(argv[2]);

		while (fg_now() < end)
			fg_spin(100000);
		return 0;
	}
	fprintf(stderr, "usage: fgwork calibrate | work ITERS [THREADS] | "
			"latency ITERS | burn SECONDS\n");
	return 2;
}
