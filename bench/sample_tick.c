/* bench/sample_tick: what one sampling tick costs. Times agent_sampler_sample
 * on this machine's /proc (alone and with 16 declared workers) and on a
 * 1024-PU synthetic topology (pack:4 core:128 pu:2) fed by a generated
 * 1024-CPU /proc tree in a temporary directory; also the topology load.
 * Prints medians in microseconds. Goal: under 50 us a tick on this machine. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/sampler.h"
#include "agent/topology.h"

#define TICKS 2000

/* Monotonic time in microseconds. */
static double bench_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* qsort comparator for doubles. */
static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Time TICKS samples of s; print median and 90th percentile. */
static int bench_ticks(struct agent_sampler *s, const char *what)
{
	static double t[TICKS];
	const struct agent_snapshot *snap;
	char err[512];

	for (int i = 0; i < 20; i++)
		if (agent_sampler_sample(s, 0, &snap, err, sizeof err) < 0) {
			fprintf(stderr, "sample_tick: %s: %s\n", what, err);
			return -1;
		}
	for (int i = 0; i < TICKS; i++) {
		double t0 = bench_us();

		if (agent_sampler_sample(s, 0, &snap, err, sizeof err) < 0) {
			fprintf(stderr, "sample_tick: %s: %s\n", what, err);
			return -1;
		}
		t[i] = bench_us() - t0;
	}
	qsort(t, TICKS, sizeof t[0], bench_cmp);
	printf("%-48s median %8.1f us   p90 %8.1f us   (%d ticks)\n", what,
	       t[TICKS / 2], t[TICKS * 9 / 10], TICKS);
	return 0;
}

/* Write text to dir/name. */
static int bench_put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* A /proc tree for npu CPUs in dir: stat, loadavg, meminfo, pressure/cpu. */
static int bench_fake_proc(const char *dir, int npu)
{
	size_t cap = (size_t)npu * 96 + 4096, len = 0;
	char *stat = malloc(cap), path[512];
	int rc;

	if (!stat)
		return -1;
	len += (size_t)snprintf(stat + len, cap - len, "cpu  %d 0 %d %d 0 0 0 0 0 0\n",
				1000 * npu, 500 * npu, 90000 * npu);
	for (int i = 0; i < npu; i++)
		len += (size_t)snprintf(stat + len, cap - len,
					"cpu%d %d %d %d %d %d %d %d 0 0 0\n", i,
					1000 + i, i % 7, 500 + i, 90000 + 3 * i, i % 5, 10, 20);
	len += (size_t)snprintf(stat + len, cap - len,
				"intr 1 0 0\nctxt 1000\nbtime 1795240000\nprocesses 100\n"
				"procs_running 3\nprocs_blocked 0\nsoftirq 1 0 0\n");
	rc = bench_put(dir, "stat", stat);
	free(stat);
	snprintf(path, sizeof path, "%s/pressure", dir);
	mkdir(path, 0755);
	if (rc < 0 || bench_put(dir, "loadavg", "12.00 11.50 10.25 3/900 4242\n") < 0 ||
	    bench_put(dir, "meminfo", "MemTotal: 1056000000 kB\nMemFree: 900000000 kB\n"
		      "MemAvailable: 950000000 kB\n") < 0 ||
	    bench_put(dir, "pressure/cpu", "some avg10=1.00 avg60=1.00 avg300=1.00 total=12345\n"
		      "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n") < 0)
		return -1;
	return 0;
}

/* Remove the fake tree. */
static void bench_rm_proc(const char *dir)
{
	char path[512];
	static const char *const files[] = { "stat", "loadavg", "meminfo", "pressure/cpu" };

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/pressure", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	struct agent_topology *real, *big, *again;
	struct agent_sampler *s;
	struct agent_sampler_opts o = { .procfs = "/proc" };
	struct agent_worker_ref w[16];
	char err[512], dir[] = "/tmp/nicely-bench-proc.XXXXXX", what[128];
	double t0, t1, t2;
	int rc = 0;

	t0 = bench_us();
	if (agent_topology_load(&real, "", err, sizeof err) < 0) {
		fprintf(stderr, "sample_tick: %s\n", err);
		return 1;
	}
	t1 = bench_us();
	if (agent_topology_load(&again, "", err, sizeof err) < 0) {
		fprintf(stderr, "sample_tick: %s\n", err);
		return 1;
	}
	t2 = bench_us();
	agent_topology_free(again);
	printf("%-48s first %8.2f ms   next %6.2f ms\n", "topology load, real machine",
	       (t1 - t0) / 1e3, (t2 - t1) / 1e3);

	if (agent_sampler_new(&s, real, &o, err, sizeof err) < 0) {
		fprintf(stderr, "sample_tick: %s\n", err);
		return 1;
	}
	snprintf(what, sizeof what, "tick, this machine (%d PUs)", agent_topology_npus(real));
	rc |= bench_ticks(s, what);
	for (int i = 0; i < 16; i++) {
		w[i].pid = getpid();
		w[i].pu = i % agent_topology_npus(real);
	}
	agent_sampler_set_workers(s, w, 16);
	rc |= bench_ticks(s, "tick, this machine, 16 declared workers");
	agent_sampler_free(s);
	agent_topology_free(real);

	t0 = bench_us();
	if (agent_topology_load(&big, "synthetic:pack:4 core:128 pu:2", err, sizeof err) < 0) {
		fprintf(stderr, "sample_tick: %s\n", err);
		return 1;
	}
	t1 = bench_us();
	printf("%-48s %8.2f ms\n", "topology load, synthetic 1024 PUs", (t1 - t0) / 1e3);
	if (!mkdtemp(dir) || bench_fake_proc(dir, agent_topology_npus(big)) < 0) {
		fprintf(stderr, "sample_tick: cannot write a fake /proc in %s: %s\n", dir,
			strerror(errno));
		agent_topology_free(big);
		bench_rm_proc(dir);
		return 1;
	}
	o.procfs = dir;
	if (agent_sampler_new(&s, big, &o, err, sizeof err) < 0) {
		fprintf(stderr, "sample_tick: %s\n", err);
		rc = 1;
	} else {
		rc |= bench_ticks(s, "tick, synthetic pack:4 core:128 pu:2 (1024 PUs)");
		agent_sampler_free(s);
	}
	bench_rm_proc(dir);
	agent_topology_free(big);
	return rc ? 1 : 0;
}
