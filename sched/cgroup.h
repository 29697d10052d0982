/* sched/cgroup: one cgroup per batch and one per task, on cgroup v2, v1 or
 * hybrid (v1 controllers + an empty cgroup2 that tracks and kills), behind
 * one interface. Used by the batch engine (spawn/run) from the loop; the
 * one child-side call, sched_cgroup_child_join, is async-signal-safe.
 *
 * Tree, under every hierarchy used:  <base>/<user>-<pid>-<n>/task-<seq>
 * where <base> defaults to "nicely" and <pid> is the batch owner's pid, so
 * groups of dead owners can be recognised and cleaned up.
 *
 * The cgroupfs root is /sys/fs/cgroup, or opts.root / $NICELY_CGROUP_ROOT.
 * The kind of tree is detected from its files: <root>/cgroup.controllers
 * means cgroup v2; <root>/<ctrl>/cgroup.procs means a v1 controller
 * (cpu, cpuacct, cpuset, memory, freezer), and with <root>/unified/
 * cgroup.controllers as well, hybrid. A hybrid tree whose cgroup2 groups
 * have cgroup.freeze (kernel 5.2+) freezes through cgroup2 and makes no
 * groups in the v1 freezer (a process joins one hierarchy fewer). A root
 * that is not a cgroup file system (a directory of plain files, for tests)
 * is a "fake" tree: files are created on write, a new group gets empty
 * copies of its parent's file names (as the kernel would give it its
 * interface files), and removing a group unlinks its files first. Every
 * mkdir, write and rmdir the module does can be logged, one line each, to
 * opts.trace_path / $NICELY_CGROUP_TRACE: "mkdir REL", "write REL VALUE",
 * "rmdir REL", with REL relative to the root.
 *
 * Weight classes (policy/preset.h), written to the base, batch and task
 * groups (the base takes the most demanding class of its live batches,
 * because the base is what competes with other users' work):
 *   IDLE:   v1 cpu.shares=2 then cpu.idle=1 (when the kernel has cpu.idle);
 *           v2 cpu.weight=1 then cpu.idle=1 (idle set last: the kernel
 *           refuses shares on a group that is already idle)
 *   LOW:    v1 cpu.shares=64, v2 cpu.weight=6 (1/16 of the default, the
 *           same ratio in both: 64/1024 and 6/100)
 *   NORMAL: the kernel defaults (1024 / 100), idle 0.
 * A memory limit sets memory.limit_in_bytes then memory.memsw.limit_in_bytes
 * (v1) or memory.max then memory.swap.max=0 (v2): the limit holds even
 * where swap exists, so an over-limit task is OOM-killed, not swapped.
 */
#ifndef SCHED_CGROUP_H
#define SCHED_CGROUP_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/preset.h"

#define SCHED_CGROUP_MAX_HIER 8
#define SCHED_CGROUP_TASK_NSTAT 6	/* figure files a task keeps open */

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
};

#define SCHED_CGROUP_OPTIONS_INIT                                              \
	{ NULL, NULL, NULL, NULL, POLICY_WEIGHT_NORMAL, 1 }

/* What one task may use. cpus NULL = the batch's (all the parent allows);
 * memory_max 0 = no limit. */
struct sched_cgroup_limits {
	const cpu_set_t *cpus;
	uint64_t memory_max;
};

/* Figures read from a task's groups; -1 where the tree cannot tell. */
struct sched_cgroup_stats {
	int64_t cpu_ns;		/* CPU time of every process that ran in it */
	int64_t mem_peak;	/* peak memory in bytes */
	int64_t oom_kills;	/* processes killed by its memory limit */
};

struct sched_cgroup;		/* a batch */

/* One task's groups. The caller allocates it (embed it in its task
 * record; no allocation is needed for it) and passes it to task_create;
 * sched_cgroup_task_remove releases what it holds. */
struct sched_cgroup_task {
	struct sched_cgroup *batch;
	uint64_t seq;
	int nfd;
	int procs_fd[SCHED_CGROUP_MAX_HIER];	/* O_CLOEXEC, cgroup.procs */
	int trace_fd;				/* borrowed from the batch */
	char rel[256];			/* "<base>/<batch>/task-<seq>" */
	int live;			/* groups exist */
	/* for sched_cgroup_task_reuse: what the groups were given, and the
	 * figures' values when they were last reused (their new zero) */
	int has_cpus;
	cpu_set_t cpus;
	uint64_t memory_max;
	int64_t base_cpu_ns, base_oom_kills;
	int peak_fd;		/* v2 memory.peak kept open after a reset */
	unsigned reuses;	/* times reused since made */
	int peak_stale;		/* the last reuse could not reset the peak
				 * memory (v2 before kernel 6.12): mem_peak
				 * is the highest since the groups were made */
	int stat_fd[SCHED_CGROUP_TASK_NSTAT];	/* figure files (and v1's
				 * memory.max_usage_in_bytes, written at
				 * reuse) kept open while the cgroup.procs
				 * files are (pread/pwrite again), else -1 */
	int cpuset_out;		/* its process was left out of the v1 cpuset
				 * group (sched_cgroup_task_join_fds) */
	int known_empty;	/* the last sched_cgroup_task_kill found
				 * nothing running; cleared by reuse */
	int last_final;		/* last_* were read while known_empty */
	int64_t last_cpu_ns, last_oom_kills;	/* raw counters at the last
						 * sched_cgroup_task_stats */
};

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

/* Create task-<seq> under the batch in every hierarchy, write its weight,
 * cpuset and memory limit, and open its cgroup.procs files (O_CLOEXEC) for
 * sched_cgroup_child_join. On error the half-made groups are removed and
 * -errno returned with err naming the file. */
int sched_cgroup_task_create(struct sched_cgroup *b, uint64_t seq,
			     const struct sched_cgroup_limits *lim,
			     struct sched_cgroup_task *t, char *err,
			     size_t errlen);

/* In the child after fork, before exec: move the calling process into all
 * the task's groups. Async-signal-safe (only getpid and write). Returns 0
 * or -errno of the first write that failed. */
int sched_cgroup_child_join(const struct sched_cgroup_task *t);

/* The cgroup.procs files (borrowed: still the task's) a new process of the
 * task must join, copied to fds (room for SCHED_CGROUP_MAX_HIER); returns
 * how many, to be passed to the child that joins them. All of them, but
 * for a task without CPUs of its own (lim->cpus NULL) on a tree whose
 * cpuset is a v1 hierarchy of its own: then the process stays in its
 * parent's cpuset group (the parent's CPUs) and is spared a join, until
 * sched_cgroup_task_set_cpus gives the task CPUs and moves it in. (A
 * child that calls sched_cgroup_child_join joins them all.) */
int sched_cgroup_task_join_fds(struct sched_cgroup_task *t, int *fds);

/* In the parent after fork: close the cgroup.procs files (the child has
 * its own copies) and the figure files kept with them. Safe to call twice.
 * A caller that does not call it (it reuses the groups for its next
 * process) keeps them open: then the figures and the "is it empty" check
 * are read through kept files too, nothing is opened per process. */
void sched_cgroup_task_forked(struct sched_cgroup_task *t);

/* Move an existing process (all its threads) into the task's groups, for
 * callers that cannot join in the child. Returns 0 or -errno. */
int sched_cgroup_task_attach(struct sched_cgroup_task *t, pid_t pid,
			     char *err, size_t errlen);

/* Change the CPUs of a running task (policy's MOVE): its cpuset.cpus,
 * then, when sched_cgroup_task_join_fds left its process out of the
 * cpuset group, every process of the task is moved in. Remembered, so a
 * later sched_cgroup_task_reuse knows what the group has. */
int sched_cgroup_task_set_cpus(struct sched_cgroup_task *t,
			       const cpu_set_t *cpus, char *err, size_t errlen);

/* Freeze (frozen=1) or thaw (0) a task, or the whole batch. Returns 0 or
 * -errno; -ENOTSUP when the tree has no freezer. Does not wait: once the
 * freezer file is written no process of the group runs user code again
 * until the thaw, though the kernel reports the group frozen (cgroup.events
 * "frozen 1", freezer.state FROZEN) only when each got a CPU to stop on,
 * which an idle-weight task on a CPU others keep busy may not for seconds. */
int sched_cgroup_task_freeze(struct sched_cgroup_task *t, int frozen,
			     char *err, size_t errlen);
int sched_cgroup_batch_freeze(struct sched_cgroup *b, int frozen, char *err,
			      size_t errlen);

/* CPU time and peak memory of the task so far (still valid after its
 * processes exited, until the task is removed). */
int sched_cgroup_task_stats(const struct sched_cgroup_task *t,
			    struct sched_cgroup_stats *st);

/* Number of processes in the task's groups now, or -errno. */
int sched_cgroup_task_nprocs(const struct sched_cgroup_task *t);

/* Kill every process of the task (or of the whole batch): cgroup.kill on
 * v2 and hybrid trees; on v1 freeze, SIGKILL every pid in cgroup.procs,
 * thaw, repeat until empty. When it returns 0 nothing of it runs any more
 * (zombies may wait for their parent to reap them). -EBUSY with err set
 * when the groups never emptied (bounded to about 5 s). */
int sched_cgroup_task_kill(struct sched_cgroup_task *t, char *err,
			   size_t errlen);
int sched_cgroup_batch_kill(struct sched_cgroup *b, char *err, size_t errlen);

/* Send sig to every process in the task's groups (e.g. SIGTERM before a
 * kill-all, reaching grandchildren that left the process group). Returns
 * the number signalled, or -errno. */
int sched_cgroup_task_signal(const struct sched_cgroup_task *t, int sig);

/* Make a task's existing groups ready for the next process instead of
 * remove + create (a worker slot's next worker): kill whatever is left in
 * them (checked empty, as sched_cgroup_task_kill; when the last
 * sched_cgroup_task_kill since the previous reuse returned 0, that check
 * stands: the caller must not have handed the cgroup.procs files to a
 * process after that kill), write cpuset.cpus only when lim->cpus
 * differs from what they have (NULL: back to the batch's), take the CPU
 * time and OOM kills of now as the new zero of sched_cgroup_task_stats
 * (the values its last call read, when that call came after such a kill:
 * nothing ran since, so nothing is read again), give back what the
 * processes before left charged to the memory group when it is 1 MiB or
 * more (v1 memory.force_empty, v2 memory.reclaim; -ESTALE when 1 MiB or
 * more stays, tmpfs files say, which the next process would find counted
 * against its limit) and reset the peak memory where the kernel allows
 * (v1: memory.max_usage_in_bytes=0; v2: a write to memory.peak, kernel
 * 6.12+, read back through the same file; on older v2 kernels the peak
 * stays the one since the groups were made, and t->peak_stale says so),
 * and reopen the cgroup.procs files when sched_cgroup_task_forked closed
 * them. The groups keep their name, weight and memory limit: -ESTALE
 * (nothing changed) when lim asks for another memory limit, then the
 * caller removes and creates. Other -errno with err set: remove and
 * create too. */
int sched_cgroup_task_reuse(struct sched_cgroup_task *t,
			    const struct sched_cgroup_limits *lim, char *err,
			    size_t errlen);

/* Kill what is left in the task's groups, remove them (checked gone) and
 * close its files. 0 or -errno with err set. Safe on a task never created
 * or already removed. */
int sched_cgroup_task_remove(struct sched_cgroup_task *t, char *err,
			     size_t errlen);

/* Remove the batches of user (NULL: the effective user) under the base of
 * the tree at root (NULL: default) whose owner pid is dead: kill what runs
 * in them, then rmdir. Batches of live owners and other users are never
 * touched. Returns the number removed, or -errno with err set. */
int sched_cgroup_clean_stale(const struct sched_cgroup_options *opts,
			     char *err, size_t errlen);

/* Fallback without cgroups: set the autogroup nice of the calling
 * process's session from the weight class (IDLE 19, LOW 10, NORMAL
 * untouched) through /proc/self/autogroup; nice alone only ranks tasks
 * inside one autogroup. Retries while the kernel's rate limit for
 * unprivileged writes (one per 100 ms) refuses. Async-signal-safe (usable
 * in a child after setsid() to affect only that session). 0, or -errno
 * (-ENOENT on kernels without autogroup). */
int sched_cgroup_autogroup_fallback(enum policy_weight w);
/* The session's autogroup nice now, or -errno. */
int sched_cgroup_autogroup_nice(void);
/* Put the session's autogroup nice back (0..19) after a fallback. */
int sched_cgroup_autogroup_restore(int nice);

#endif
