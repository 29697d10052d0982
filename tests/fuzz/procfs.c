/* libFuzzer target for agent/procfs: the first byte picks a parser (stat,
 * loadavg, pressure/cpu, meminfo, PID/stat, usage_percpu, cgroup.procs,
 * cgroup2 cpu.stat), the rest is the file. Parsers must never read past the buffer, crash, or hand
 * back numbers that break their invariants (busy <= total). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/procfs.h"

/* Feed one input to every /proc parser. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* stat callback: busy ticks are part of total ticks. */
static int fuzz_cpu(void *ctx, unsigned cpu, uint64_t busy, uint64_t total)
{
	(void)ctx;
	(void)cpu;
	if (busy > total)
		abort();
	return 0;
}

/* cgroup.procs callback: PIDs are positive. */
static int fuzz_pid(void *ctx, int pid)
{
	(void)ctx;
	if (pid <= 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct procfs_error e;
	uint64_t a = 0, b = 0, ns[8];
	double avg[3];
	int running = 0, cpu = 0;
	size_t n = 0;
	char *buf;

	if (size < 1)
		return 0;
	buf = malloc(size - 1 ? size - 1 : 1); /* exact size: ASan sees overreads */
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	switch (data[0] % 8) {
	case 0:
		procfs_parse_stat(buf, size - 1, fuzz_cpu, NULL, &running, &e);
		break;
	case 1:
		if (procfs_parse_loadavg(buf, size - 1, avg, &e) == 0 &&
		    (avg[0] < 0 || avg[1] < 0 || avg[2] < 0))
			abort();
		break;
	case 2:
		if (procfs_parse_psi(buf, size - 1, avg, &a, &e) == 0 && avg[0] < 0)
			abort();
		break;
	case 3:
		procfs_parse_meminfo(buf, size - 1, &a, &b, &e);
		break;
	case 4:
		if (procfs_parse_pid_stat(buf, size - 1, &a, &cpu, &e) == 0 && cpu < 0)
			abort();
		break;
	case 5:
		if (procfs_parse_percpu(buf, size - 1, ns, 8, &n, &e) == 0 && n == 0)
			abort();
		break;
	case 6:
		procfs_parse_pids(buf, size - 1, fuzz_pid, NULL, &e);
		break;
	case 7:
		if (procfs_parse_usage_usec(buf, size - 1, &a, &e) == 0 &&
		    a >= (1ULL << 58))
			abort();
		break;
	}
	free(buf);
	return 0;
}
