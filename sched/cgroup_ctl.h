/* sched/cgroup_ctl: the controller files of the cgroup module's groups as
 * each kind of tree names them (weight class, cpuset, v2 controllers,
 * memory) and a task group's figures. Part of the shim; only the module's
 * own files include it. */
#ifndef SCHED_CGROUP_CTL_H
#define SCHED_CGROUP_CTL_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/preset.h"
#include "sched/cgroup_fs.h"
#include "sched/cgroup_task.h"

/* Weight class rank: higher is more demanding (IDLE 0, LOW 1, NORMAL 2). */
int cg_rank(enum policy_weight w);
/* Set the base's class to the most demanding of its live batches (its
 * own batch groups, and the batches in nicely-agent's user-<uid> groups),
 * or to rank extra when that is more demanding (-1: none), under an flock
 * on the base's directory in the cpu hierarchy. */
void cg_base_reclass(const struct cg_tree *t, const char *base, int has_idle,
		     int extra);
/* The class a group has now, read from its cpu files. */
enum policy_weight cg_class_of(const struct cg_hier *h, const char *rel);
/* Write weight class w to group rel. fresh: the group was just made and
 * has the kernel defaults, so NORMAL writes nothing. Idle is cleared
 * before shares/weight are written and set after them (the kernel refuses
 * shares on an idle group). */
int cg_set_class(const struct cg_tree *t, const struct cg_hier *h,
		 const char *rel, enum policy_weight w, int has_idle,
		 int fresh, char *err, size_t errlen);

/* Make group rel, just made by nicely under parent_rel ("" for the tree's
 * root), ready to be a parent: v2 enables the controllers it is offered
 * (h->ctrls keeps those enabled), a v1 cpuset gets its parent's cpus and
 * mems where it has none. 0 or -errno with err set. */
int cg_parent_setup(const struct cg_tree *t, struct cg_hier *h,
		    const char *rel, const char *parent_rel, char *err,
		    size_t errlen);
/* v2: enable in rel's subtree_control every controller of cpu, cpuset,
 * memory and pids it is offered (the agent's groups); returns the CG_*
 * bits of those enabled. */
unsigned cg_v2_enable_all(const struct cg_tree *t, const struct cg_hier *h,
			  const char *rel);
/* v2: the CG_* bits (cpu, cpuset, memory) enabled in rel's
 * subtree_control, read only (a group someone else made). */
unsigned cg_v2_enabled(const struct cg_hier *h, const char *rel);
/* A CPU quota of pus CPUs on group rel, 0: none (v1 cpu.cfs_quota_us and
 * cpu.cfs_period_us, v2 cpu.max; 100 ms period). 0 or -errno. */
int cg_set_cpu_quota(const struct cg_tree *t, const struct cg_hier *h,
		     const char *rel, int pus, char *err, size_t errlen);
/* The memory limit of a group that may have had one before: max, or none
 * when 0 (and swap as cg_set_memory). 0 or -errno with err set. */
int cg_set_memory_limit(const struct cg_tree *t, const struct cg_hier *h,
			const char *rel, uint64_t max, char *err,
			size_t errlen);
/* CPU time used by group rel and everything below it, in ns, from the
 * hierarchy sched_cgroup_batch_cpu_path names: cgroup2's cpu.stat, else
 * v1 cpuacct.usage. 0, or -errno (-ENOTSUP: nothing accounts it). */
int cg_cpu_usage(const struct cg_tree *t, const char *rel, uint64_t *ns);

/* Format a CPU set as a kernel list ("0-3,8"). -EINVAL when empty,
 * -ENAMETOOLONG when it does not fit. */
int cg_cpulist(const cpu_set_t *set, char *buf, size_t len);
/* The cpuset of a new task group: cpus (a kernel list) when given, and on
 * v1 the parent's cpus (when none are given) and mems. */
int cg_cpuset_new(const struct cg_tree *t, const struct cg_hier *h,
		  const char *rel, const char *parent_rel, const char *cpus,
		  char *err, size_t errlen);
/* New CPUs for group rel's cpuset: cpus (a kernel list), or with cpus
 * NULL its parent's again. */
int cg_cpuset_set(const struct cg_tree *t, const struct cg_hier *h,
		  const char *rel, const char *parent_rel, const char *cpus,
		  char *err, size_t errlen);
/* Write the memory limit to a task group (and no swap beyond it). */
int cg_set_memory(const struct cg_tree *t, const struct cg_hier *h,
		  const char *rel, uint64_t max, char *err,
		  size_t errlen);

/* A task group's figures below are read through the files the task keeps
 * open while it keeps its cgroup.procs files (t->stat_fd), else through
 * files opened for the read. */

/* 1 when the kernel says nothing runs in the task's groups (cgroup2's
 * cgroup.events, one read), 0 when it cannot tell so. */
int cg_task_empty(const struct sched_cgroup_task *t);
/* The task's CPU time and memory-limit kills as the kernel counts them
 * (since the groups were made); mem_peak is left alone. */
void cg_task_counters(const struct sched_cgroup_task *t,
		      struct sched_cgroup_stats *st);
/* The task's peak memory (since the groups were made or the peak was
 * last reset), -1 where the tree cannot tell. */
int64_t cg_task_peak(const struct sched_cgroup_task *t);
/* Reset the peak memory of the task's group in h (the memory hierarchy)
 * where the kernel allows. 0, or -errno when it could not. */
int cg_task_peak_reset(struct sched_cgroup_task *t, const struct cg_hier *h);
/* Give back what earlier processes left charged to the task's memory
 * group (h); 1 when 1 MiB or more stays charged, else 0. */
int cg_memory_drain(const struct sched_cgroup_task *t,
		    const struct cg_hier *h);

#endif
