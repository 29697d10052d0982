/* bench/decide: the cost of one policy_decide call on a 1024-PU synthetic
 * topology (hwloc "pack:4 l3:2 core:64 pu:2"): half the cores busy by
 * others, 200 of our workers running, a long queue, time advancing one tick
 * per call. Prints the median and p99 in microseconds per preset; the goal
 * is a median under 20 us. argv[1] sets the calls per preset (fewer under
 * valgrind --tool=callgrind --toggle-collect=policy_decide). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/topology.h"
#include "policy/decide.h"
#include "policy/builtins.h"

#define CALLS 3001	/* calls per preset unless argv[1] says otherwise */
#define SPEC "synthetic:pack:4 l3:2 core:64 pu:2"

/* Monotonic time in nanoseconds. */
static uint64_t bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Sort helper for durations. */
static int bench_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "generous", "normal", "aggressive",
					     "extreme", "nuclear" };
	static uint64_t dur[CALLS];
	struct agent_topology *topo;
	char err[256];
	int calls = CALLS;

	if (argc > 1) {
		char *end;
		long v = strtol(argv[1], &end, 10);
		if (*end || v < 1 || v > CALLS) {
			fprintf(stderr, "bench/decide: calls per preset must be "
				"1..%d, not '%s'\n", CALLS, argv[1]);
			return 2;
		}
		calls = (int)v;
	}

	if (agent_topology_load(&topo, SPEC, err, sizeof err) < 0) {
		fprintf(stderr, "bench/decide: %s\n", err);
		return 1;
	}
	int n = agent_topology_npus(topo);
	const struct agent_pu *pus = agent_topology_pus(topo);
	struct agent_pu_load *load = calloc((size_t)n, sizeof *load);
	struct policy_worker *run = calloc((size_t)n, sizeof *run);
	size_t nrun = 0;
	unsigned seed = 12345;

	/* half the cores busy by others (both PUs), the rest lightly noisy;
	 * our workers on the first PU of the first 200 idle cores */
	for (int i = 0; i < n; i++) {
		int core = pus[i].core;
		seed = seed * 1103515245u + 12345u;
		load[i].online = 1;
		load[i].busy_others = core % 2 ? 0.7 + (seed >> 16) % 30 / 100.0
					       : (seed >> 16) % 8 / 100.0;
		if (core % 2 == 0 && pus[i].nsiblings &&
		    i < pus[i].siblings[0] && nrun < 200) {
			run[nrun].id = (int64_t)nrun + 1;
			run[nrun].pu = i;
			nrun++;
		}
	}
	struct agent_snapshot snap = {
		.t_ns = 1000000000ULL, .interval_ns = 500000000ULL, .valid = 1,
		.npus = n, .pu = load, .loadavg = { n / 2.0 + nrun, 0, 0 },
		.has_psi = 1, .psi_some_avg10 = 5,
		.mem_total_kb = 256ULL << 20, .mem_available_kb = 128ULL << 20,
	};
	printf("policy_decide on %s (%d PUs), %zu of ours running, "
	       "half the cores busy; %d calls each\n", SPEC, n, nrun, calls);
	printf("%-11s %8s %8s %8s %7s\n", "preset", "median", "p99", "max",
	       "starts");
	for (size_t pi = 0; pi < sizeof names / sizeof names[0]; pi++) {
		struct policy_preset p = *builtins_find(names[pi]);
		p.load_ceiling = -1;	/* the synthetic load is not the point */
		struct policy_state *st = policy_state_new(n);
		struct policy_decision *d = policy_decision_new(n, nrun);
		struct policy_input in = { .snap = &snap, .pus = pus, .preset = &p,
					   .running = run, .nrunning = nrun,
					   .queued = 100000 };
		for (int c = 0; c < calls; c++) {
			snap.t_ns += snap.interval_ns;
			uint64_t t0 = bench_now();
			policy_decide(&in, st, d);
			dur[c] = bench_now() - t0;
		}
		qsort(dur, (size_t)calls, sizeof dur[0], bench_cmp);
		printf("%-11s %7.2fus %7.2fus %7.2fus %7d\n", names[pi],
		       dur[calls / 2] / 1000.0, dur[calls * 99 / 100] / 1000.0,
		       dur[calls - 1] / 1000.0, d->nstart);
		policy_state_free(st);
		policy_decision_free(d);
	}
	printf("goal: median under 20 us\n");
	free(load);
	free(run);
	agent_topology_free(topo);
	return 0;
}
