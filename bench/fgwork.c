/* bench/fgwork: the stand-in for another user's work in the politeness
 * benchmark, and the CPU burner the batch runs. Modes:
 *   fgwork calibrate            iterations per second of one thread
 *   fgwork work ITERS [THREADS] fixed arithmetic on THREADS threads (default:
 *                               online CPUs); prints wall=SECONDS
 *   fgwork latency ITERS200US   1,000 x (sleep 1 ms, then 200 us of work);
 *                               prints p50_us= p99_us= of the work slices
 *   fgwork burn SECONDS         a CPU-bound batch task: spin for SECONDS wall
 *   fgwork react PU SECONDS     a burner pinned to PU appears; its CPU time
 *                               is sampled every 10 ms; prints react_ms=, the
 *                               start of the first 100 ms in which it got
 *                               >= 90% of the PU (-1: not within SECONDS)
 * work, latency and react also print cpu=SECONDS, the CPU time they used.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
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

/* CPU seconds used so far by this process and its waited-for children. */
static double fg_cpu(void)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return self.ru_utime.tv_sec + self.ru_utime.tv_usec / 1e6 +
	       self.ru_stime.tv_sec + self.ru_stime.tv_usec / 1e6 +
	       kids.ru_utime.tv_sec + kids.ru_utime.tv_usec / 1e6 +
	       kids.ru_stime.tv_sec + kids.ru_stime.tv_usec / 1e6;
}

/* CPU seconds of process pid so far, from its CPU-time clock. */
static double fg_pid_cpu(pid_t pid)
{
	clockid_t clk;
	struct timespec ts;

	if (clock_getcpuclockid(pid, &clk) || clock_gettime(clk, &ts))
		return -1;
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* `react PU SECONDS`: start a burner pinned to PU and sample its CPU time
 * every 10 ms. Another process's CPU clock only advances at scheduler ticks
 * (4 ms at HZ=250), so the share is judged over a trailing 100 ms: the
 * reaction time is the start of the first 100 ms in which the burner got
 * >= 90% of the PU, measured from the fork. */
static int fg_react(int pu, double limit)
{
	enum { WIN = 10, MAXS = 4096 };
	const double want = 0.90;
	struct timespec tick = { 0, 10000000 };
	static double ts[MAXS], cs[MAXS];
	double t0, react = -1;
	cpu_set_t set;
	pid_t pid;
	int n = 0;

	CPU_ZERO(&set);
	CPU_SET(pu, &set);
	t0 = fg_now();
	pid = fork();
	if (pid < 0) {
		perror("fgwork: fork");
		return 1;
	}
	if (pid == 0) {
		if (sched_setaffinity(0, sizeof set, &set))
			_exit(3);
		for (;;)
			fg_spin(100000);
	}
	ts[n] = t0;
	cs[n++] = 0;
	while (n < MAXS && fg_now() - t0 < limit) {
		nanosleep(&tick, NULL);
		ts[n] = fg_now();
		cs[n] = fg_pid_cpu(pid);
		if (cs[n] < 0)
			break;
		n++;
		if (n > WIN && (cs[n - 1] - cs[n - 1 - WIN]) /
				       (ts[n - 1] - ts[n - 1 - WIN]) >= want) {
			react = ts[n - 1 - WIN] - t0;
			break;
		}
	}
	double used = fg_pid_cpu(pid);
	int status;

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
		fprintf(stderr, "fgwork: cannot pin to PU %d\n", pu);
		return 1;
	}
	printf("react_ms=%.0f cpu=%.3f\n", react < 0 ? -1 : react * 1e3, used);
	return 0;
}

/* qsort comparator for doubles. */
static int fg_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Dispatch on the mode named by argv[1]. */
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
		printf("wall=%.4f cpu=%.3f\n", fg_now() - t0, fg_cpu());
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
		printf("p50_us=%.1f p99_us=%.1f cpu=%.3f\n", us[N / 2], us[N * 99 / 100],
		       fg_cpu());
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "burn")) {
		double end = fg_now() + atof(argv[2]);

		while (fg_now() < end)
			fg_spin(100000);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "react"))
		return fg_react(atoi(argv[2]), atof(argv[3]));
	fprintf(stderr, "usage: fgwork calibrate | work ITERS [THREADS] | "
			"latency ITERS | burn SECONDS | react PU SECONDS\n");
	return 2;
}
