/* What the library benchmarks (bench/lib_*.c) share: the clock and the
 * x*x task they time. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "nicely.h"

/* Monotonic seconds. */
static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The task: x*x of an int64_t, returned as 8 bytes. */
static inline int square(const void *arg, size_t len, nicely_out *out,
			 void *st)
{
	int64_t x;

	(void)len;
	(void)st;
	memcpy(&x, arg, sizeof x);
	x *= x;
	return nicely_out_write(out, &x, sizeof x);
}

#endif
