/* agent/charge: the CPU time of our own work on each PU, so the sampler can
 * subtract it from the machine's: declared workers by PID, or a cgroup
 * (v1 cpuacct.usage_percpu, else a walk of cgroup.procs plus a cgroup2
 * cpu.stat). The sampler owns one and drives it once per sample from the
 * scheduler loop; callers set it up through agent_sampler_set_workers,
 * agent_sampler_worker_exited and agent_sampler_set_cgroup (sampler.h),
 * which say what is charged and when. */
#ifndef AGENT_CHARGE_H
#define AGENT_CHARGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct agent_topology;

/* Our own workers: their CPU time is not others' load. A worker pinned to a
 * PU is charged to that PU; an unpinned one (pu < 0) to the PUs it ran on
 * in proportion to what /proc/PID/stat's processor field says last. */
struct agent_worker_ref {
	pid_t pid;
	int pu; /* PU index it is pinned to, or -1 */
};

struct agent_charge;

/* Make the charge of a topology's PUs (the topology must outlive it); hz
 * is USER_HZ, the unit of PID/stat. 0 or -ENOMEM. */
int agent_charge_new(struct agent_charge **out,
		     const struct agent_topology *topo, long hz);
/* Free it and close every fd it keeps. NULL is a no-op. */
void agent_charge_free(struct agent_charge *ch);
/* Read PID/stat under the procfs root rootfd (named root in messages;
 * both borrowed, valid until the next call): the declared workers' kept
 * files are reopened under it. */
void agent_charge_set_root(struct agent_charge *ch, int rootfd,
			   const char *root);

/* As agent_sampler_set_workers, agent_sampler_worker_exited and
 * agent_sampler_set_cgroup (sampler.h). */
int agent_charge_set_workers(struct agent_charge *ch,
			     const struct agent_worker_ref *w, size_t n);
int agent_charge_worker_exited(struct agent_charge *ch, pid_t pid,
			       uint64_t cpu_ns);
int agent_charge_set_cgroup(struct agent_charge *ch, const char *path);

/* Our CPU ticks on each PU since the last commit (workers reaped
 * meanwhile and deferred ticks included), by PU index: *ours points to
 * the charge's own array, valid until the next call. Reading twice
 * without a commit reads again from the same baselines. 0, or -errno
 * (-EBADMSG: malformed PID/stat, cpuacct or cpu.stat) with err naming the
 * file. */
int agent_charge_read(struct agent_charge *ch, const double **ours,
		      char *err, size_t errlen);
/* The sample that read them was taken: the readings become the new
 * baselines. */
void agent_charge_commit(struct agent_charge *ch);
/* After the commit: the sample measured no interval on PU pu, so what
 * the last read found there is charged at the next one instead. */
void agent_charge_defer(struct agent_charge *ch, int pu);

#endif
