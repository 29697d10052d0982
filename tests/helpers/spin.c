/* spin: a test helper that loads one CPU. `spin CPU SECONDS` pins itself to
 * Linux CPU number CPU with sched_setaffinity and busy-loops for SECONDS
 * (a decimal, e.g. 0.5), then exits 0. Exit 2 on bad arguments, 1 when the
 * CPU cannot be used. Tests start it, measure, and kill it. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Monotonic time in seconds. */
static double spin_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Pin to CPU, spin for SECONDS. */
int main(int argc, char **argv)
{
	char *end;
	long cpu;
	double secs, stop;
	cpu_set_t set;
	volatile unsigned long sink = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: spin CPU SECONDS\n");
		return 2;
	}
	errno = 0;
	cpu = strtol(argv[1], &end, 10);
	if (errno || end == argv[1] || *end || cpu < 0 || cpu >= CPU_SETSIZE) {
		fprintf(stderr, "spin: CPU '%s': expected a CPU number 0..%d\n", argv[1],
			CPU_SETSIZE - 1);
		return 2;
	}
	secs = strtod(argv[2], &end);
	if (end == argv[2] || *end || !(secs >= 0 && secs <= 86400)) {
		fprintf(stderr, "spin: SECONDS '%s': expected 0..86400\n", argv[2]);
		return 2;
	}
	CPU_ZERO(&set);
	CPU_SET((int)cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) < 0) {
		fprintf(stderr, "spin: cannot pin to CPU %ld: %s\n", cpu, strerror(errno));
		return 1;
	}
	stop = spin_now() + secs;
	while (spin_now() < stop)
		for (int i = 0; i < 100000; i++)
			sink += (unsigned long)i;
	return 0;
}
