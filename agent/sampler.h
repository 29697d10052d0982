/* agent/sampler: what the machine looks like right now. Reads /proc (or a
 * fixture tree: NICELY_PROCFS) each tick and turns deltas into a snapshot of
 * how busy each PU is with *other people's* work, after subtracting the CPU
 * time of our own workers (measured by agent/charge, set up through the
 * agent_sampler_set_workers / _worker_exited / _set_cgroup calls below).
 * Called from the scheduler loop once per tick. */
#ifndef AGENT_SAMPLER_H
#define AGENT_SAMPLER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/charge.h"

struct agent_topology;

/* Per-PU load, indexed by PU index (see topology.h). Fractions 0..1. */
struct agent_pu_load {
	double busy_others; /* smoothed share used by others (the decision input) */
	double busy_raw;    /* others' share in the last interval, unsmoothed */
	double busy_ours;   /* our workers' share in the last interval */
	int online;         /* 0 when the PU vanished from /proc/stat; busy
			     * fields are 1.0 then (not usable), and stay 1.0
			     * for the first sample after it comes back */
};
/* A PU whose idle+iowait count went back (the kernel can miss an idle
 * period while moving it from iowait to idle) keeps its previous values for
 * that sample; the next one measures from the last good counters. */

/* One picture of the machine. Plain data: policy reads it, nobody frees
 * pieces of it; the sampler owns `pu` and reuses it on the next sample. */
struct agent_snapshot {
	uint64_t t_ns;          /* monotonic time of the sample */
	uint64_t interval_ns;   /* time since the previous sample, 0 on the first */
	int valid;              /* 0 on the first sample: no deltas yet, busy
				 * fields are 0 and mean nothing */
	int npus;
	struct agent_pu_load *pu;
	double loadavg[3];      /* 1, 5, 15 minutes */
	int procs_running;      /* from /proc/stat, ours included */
	int has_psi;            /* /proc/pressure/cpu exists */
	double psi_some_avg10;  /* percent, as the kernel prints it */
	double psi_some_recent; /* stall share in the last interval, 0..1, from total= */
	uint64_t mem_total_kb;
	uint64_t mem_available_kb;
};

/* Hot path: with a fixed root, a sample preads kept fds (stat, loadavg,
 * pressure/cpu, meminfo, each declared worker's PID/stat) and allocates
 * nothing; measured ~6 us on a 2-PU machine, ~55 us for 1024 PUs. A
 * cgroup without cpuacct is walked with opendir each sample. */
struct agent_sampler_opts {
	const char *procfs;   /* root of /proc; NULL: $NICELY_PROCFS or /proc */
	double smooth_window; /* EWMA window in samples (1 = no smoothing); 0: 3 */
};

struct agent_sampler;

/* Create a sampler for a topology (which must outlive it). Returns 0 or
 * -errno with a message in err. */
int agent_sampler_new(struct agent_sampler **out,
		      const struct agent_topology *topo,
		      const struct agent_sampler_opts *opts, char *err,
		      size_t errlen);
void agent_sampler_free(struct agent_sampler *s);
/* Read from another procfs root from the next sample on (NULL: the default
 * of agent_sampler_new). Counters of the last sample are kept, so a test can
 * step one sampler through recorded fixture trees t0, t1, ... Declared
 * workers' /proc/PID/stat are reopened under the new root. 0 or -errno. */
int agent_sampler_set_procfs(struct agent_sampler *s, const char *root);
/* Replace the set of our workers (copied). Their CPU time since the last
 * sample is subtracted from the PU they are charged to. A PID kept from the
 * previous set keeps its baseline; a new one is charged from this call on
 * (declare it right after fork and that is its whole life). Children of a
 * worker are not seen this way: use a cgroup for process trees. -EINVAL on
 * a bad PID or PU index. */
int agent_sampler_set_workers(struct agent_sampler *s,
			      const struct agent_worker_ref *w, size_t n);
/* A declared worker was reaped (by PID, not by cgroup): its /proc entry is
 * gone, so hand over its total CPU time from wait4's rusage (utime + stime,
 * in ns). What it used since the last sample is charged to its PU at the
 * next sample, and the PID leaves the worker set. Without this, CPU a
 * worker used just before exiting counts as others' load for one sample.
 * (wait4's figure includes the children it reaped: by PID those were never
 * charged, and the PU's own busy time caps the charge.) Under a cgroup:
 * with cpuacct or a cgroup2 cpu.stat the group keeps the time of exited
 * processes, so this does nothing and returns 0; a walked group without
 * them charges a process it listed with at most what it used in its last
 * interval (the rest is its reaped children, charged by the walk). -ENOENT
 * when the PID was neither declared nor seen in the cgroup. */
int agent_sampler_worker_exited(struct agent_sampler *s, pid_t pid,
				uint64_t cpu_ns);
/* Charge CPU time by cgroup instead of by PID: path of a cgroup directory
 * whose cpuacct.usage_percpu (v1) or per-PID walk of cgroup.procs is ours.
 * NULL clears it. The path is absolute (not under the procfs root); with
 * cpuacct the whole subtree counts, without it cgroup.procs of the directory
 * and its subdirectories are walked each sample and PID/stat read under the
 * procfs root, each process charged to the PU it last ran on. A walked
 * group with a cgroup2 cpu.stat (usage_usec) also charges what the walk
 * could not see, processes that exited or ran only between two samples:
 * to the PUs the vanished processes last ran on (by their last interval's
 * share), else to the PUs the walk charged. Processes in it now are
 * charged from now on; ones that join later from their start. Returns 0,
 * -EINVAL (relative path) or -ENOENT (neither file exists). Do not also
 * declare the same processes with agent_sampler_set_workers: they would be
 * charged twice. */
int agent_sampler_set_cgroup(struct agent_sampler *s, const char *path);
/* Take a sample at monotonic time now_ns (0: read the clock). On success
 * *snap points into the sampler and stays valid until the next call.
 * Malformed /proc content returns -EBADMSG with err naming file and line;
 * the previous snapshot is kept. */
int agent_sampler_sample(struct agent_sampler *s, uint64_t now_ns,
			 const struct agent_snapshot **snap, char *err,
			 size_t errlen);

#endif
