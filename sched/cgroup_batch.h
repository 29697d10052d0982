/* sched/cgroup_batch: a batch's groups, one per hierarchy of the tree
 * under the shared base, and the clean-up of stale batches (see cgroup.h
 * for the tree, its kinds and the weight classes). Called by the batch
 * engines from their loop. */
#ifndef SCHED_CGROUP_BATCH_H
#define SCHED_CGROUP_BATCH_H

#include <stddef.h>

#include "policy/preset.h"

#define SCHED_CGROUP_MAX_HIER 8

enum sched_cgroup_mode {
	SCHED_CGROUP_NONE,	/* no usable cgroup file system */
	SCHED_CGROUP_V1,
	SCHED_CGROUP_V2,
	SCHED_CGROUP_HYBRID,	/* v1 controllers, cgroup2 tracks and kills */
};

struct sched_cgroup_options {
	const char *root;	/* NULL: $NICELY_CGROUP_ROOT or /sys/fs/cgroup */
	const char *base;	/* NULL: "nicely" */
	const char *user;	/* NULL: the name of the effective uid */
	const char *trace_path;	/* NULL: $NICELY_CGROUP_TRACE, unset = none */
	enum policy_weight weight;	/* CPU weight class of the batch */
	int clean_stale;	/* 1: remove dead batches of this user at open */
	/* NULL: make the batch's groups; else the batch group nicely-agent
	 * made and delegated (sched/cgroup_agent.h), relative to the root's
	 * hierarchies ("nicely/user-1000/alice-123-1"): adopt it in every
	 * hierarchy. Its class, memory limit and cpus are the agent's (not
	 * written); task groups are made under it as usual; close removes
	 * only the task groups (the agent removes the batch when its owner
	 * exits); no stale batches are cleaned. Batch kill and freeze reach
	 * the task groups only, not the owner leaf that holds the caller.
	 * Open fails with -ENOENT or -EACCES, err naming the group, when it
	 * is missing or not ours to write in some hierarchy. */
	const char *group;
};

#define SCHED_CGROUP_OPTIONS_INIT                                              \
	{ NULL, NULL, NULL, NULL, POLICY_WEIGHT_NORMAL, 1, NULL }

struct sched_cgroup;		/* a batch */

/* Create the batch's groups (and the base when missing) in every
 * hierarchy the tree has, after cleaning up stale batches of the same user
 * when opts->clean_stale. Returns 0 with *out set; -EACCES / -EPERM / -EROFS
 * when cgroups cannot be made here (the message in err says what is
 * missing and how to get it, and that tasks run with nice and pinning
 * only); -ENOENT when the root has no cgroup tree; other -errno with err
 * naming the file. On error nothing is left behind and *out is NULL. */
int sched_cgroup_batch_open(struct sched_cgroup **out,
			    const struct sched_cgroup_options *opts,
			    char *err, size_t errlen);

/* Kill every process left in the batch, remove all its groups (tasks
 * first) and the base when it is empty, and free. Returns 0 or -errno with
 * err set (the batch is freed even then). NULL is a no-op. */
int sched_cgroup_batch_close(struct sched_cgroup *b, char *err, size_t errlen);

enum sched_cgroup_mode sched_cgroup_mode(const struct sched_cgroup *b);
const char *sched_cgroup_mode_name(enum sched_cgroup_mode m);
/* The batch group's directory name, "<user>-<pid>-<n>". */
const char *sched_cgroup_batch_name(const struct sched_cgroup *b);
/* Absolute path of the batch's group in the hierarchy that has controller
 * ctrl ("cpu", "cpuset", "memory", "freezer", "cpuacct", or "unified" for
 * the cgroup2 tree) written to buf, or NULL when none has it. */
const char *sched_cgroup_batch_path(const struct sched_cgroup *b,
				    const char *ctrl, char *buf, size_t len);
/* Absolute path of the batch's group that accounts its CPU time, for
 * agent_sampler_set_cgroup: the cpuacct hierarchy when the tree has one
 * (v1: cpuacct.usage_percpu of the whole subtree; v2: the cgroup2 group,
 * whose cpu.stat has the subtree's total), else the cgroup2 tree (hybrid),
 * else the hierarchy that tracks the tasks (v1 freezer, else any). Every
 * task and worker group is under it, and so is everything their processes
 * fork. Written to buf; NULL when it does not fit. */
const char *sched_cgroup_batch_cpu_path(const struct sched_cgroup *b,
					char *buf, size_t len);
/* 1 when the kernel has cpu.idle for the batch's cpu controller. */
int sched_cgroup_has_idle(const struct sched_cgroup *b);

/* Freeze (frozen=1) or thaw (0) the whole batch. Returns 0 or -errno;
 * -ENOTSUP when the tree has no freezer. Does not wait for the kernel's
 * word, as sched_cgroup_task_freeze (cgroup_task.h). */
int sched_cgroup_batch_freeze(struct sched_cgroup *b, int frozen, char *err,
			      size_t errlen);

/* Kill every process of the batch, as sched_cgroup_task_kill does for a
 * task (cgroup_task.h). */
int sched_cgroup_batch_kill(struct sched_cgroup *b, char *err, size_t errlen);

/* How many hierarchies a batch's groups would span in the tree opts
 * names (0: no cgroup tree there), for counting the fds its tasks keep
 * (SCHED_CGROUP_TASK_FDS). Detection only: nothing is made or opened. */
int sched_cgroup_tree_hierarchies(const struct sched_cgroup_options *opts);

/* Remove the batches of user (NULL: the effective user) under the base of
 * the tree at root (NULL: default) whose owner pid is dead: kill what runs
 * in them, then rmdir. Batches of live owners and other users are never
 * touched. Returns the number removed, or -errno with err set. */
int sched_cgroup_clean_stale(const struct sched_cgroup_options *opts,
			     char *err, size_t errlen);

#endif
