/* agent/procfs: read and parse the few /proc files the sampler needs, from
 * buffers, with no allocation and no locale. Every parser checks its input
 * completely: malformed or truncated text, or a tick or kB counter of 2^58
 * or more (sums of them would wrap), returns -EBADMSG with the 1-based line
 * number and a short static reason, never a guessed number. */
#ifndef AGENT_PROCFS_H
#define AGENT_PROCFS_H

#include <stddef.h>
#include <stdint.h>

/* Where and why parsing failed. */
struct procfs_error {
	int line;
	const char *why;
};

/* Called once per "cpuN" line of /proc/stat with the CPU number and its
 * busy (user+nice+system+irq+softirq+steal) and total (busy+idle+iowait)
 * clock ticks. A negative return aborts the parse with that value. */
typedef int (*procfs_cpu_fn)(void *ctx, unsigned cpu, uint64_t busy,
			     uint64_t total);

/* Parse /proc/stat: one call of fn per cpuN line, procs_running into
 * *procs_running. Needs the aggregate "cpu" line, at least one cpuN line,
 * the procs_running line and a final newline. */
int procfs_parse_stat(const char *buf, size_t len, procfs_cpu_fn fn, void *ctx,
		      int *procs_running, struct procfs_error *e);
/* Parse /proc/loadavg's three averages. */
int procfs_parse_loadavg(const char *buf, size_t len, double avg[3],
			 struct procfs_error *e);
/* Parse /proc/pressure/cpu's "some" line: avg10 (percent) and total (us). */
int procfs_parse_psi(const char *buf, size_t len, double *avg10,
		     uint64_t *total_us, struct procfs_error *e);
/* Parse MemTotal and MemAvailable (kB) from /proc/meminfo; kernels without
 * MemAvailable get MemFree+Buffers+Cached. */
int procfs_parse_meminfo(const char *buf, size_t len, uint64_t *total_kb,
			 uint64_t *avail_kb, struct procfs_error *e);
/* Parse /proc/PID/stat: utime+stime (clock ticks) and the processor field. */
int procfs_parse_pid_stat(const char *buf, size_t len, uint64_t *ticks,
			  int *processor, struct procfs_error *e);
/* Parse a cgroup v1 cpuacct.usage_percpu line into ns[0..max-1]; *n gets the
 * number of values in the file (may exceed max: the rest are ignored). */
int procfs_parse_percpu(const char *buf, size_t len, uint64_t *ns, size_t max,
			size_t *n, struct procfs_error *e);
/* Parse a cgroup v2 cpu.stat for its usage_usec line (CPU time of every
 * process that ever ran in the group and its subtree, in us). A cpu.stat
 * without that line (v1's cpu controller) is -EBADMSG too. */
int procfs_parse_usage_usec(const char *buf, size_t len, uint64_t *usec,
			    struct procfs_error *e);
/* Parse a cgroup.procs list, one PID per line, calling fn for each. */
int procfs_parse_pids(const char *buf, size_t len,
		      int (*fn)(void *ctx, int pid), void *ctx,
		      struct procfs_error *e);

/* Read a whole file from a kept fd at offset 0 into *buf (grown with
 * realloc when too small; *cap is its size). Returns the length, or -errno.
 * The text is NUL-terminated. A short read is taken as the end: true of
 * regular files and of the single-buffer seq_files under /proc. */
long procfs_pread_all(int fd, char **buf, size_t *cap);

#endif
