/* sched/cgroup_task: one task's groups under its batch, in every
 * hierarchy: made with the task's weight, CPUs and memory limit, joined by
 * its process (in the child, async-signal-safe), moved, frozen, signalled,
 * killed, read for figures, made ready for the next process (reuse) and
 * removed. Called by the batch engines from their loop. */
#ifndef SCHED_CGROUP_TASK_H
#define SCHED_CGROUP_TASK_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sched/cgroup_batch.h"

#define SCHED_CGROUP_TASK_NSTAT 6	/* figure files a task keeps open */
/* The most fds one task's groups keep open in a tree of nh hierarchies:
 * its cgroup.procs files, figure files and the v2 memory.peak. */
#define SCHED_CGROUP_TASK_FDS(nh) ((nh) + SCHED_CGROUP_TASK_NSTAT + 1)

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

/* Does joining the task's groups pin a process to exactly cpus? True
 * when its groups include a cpuset group (real, not fake) whose CPUs are
 * cpus: the kernel sets a process's affinity to its cpuset's CPUs when it
 * joins, so the child's own sched_setaffinity would change nothing. */
int sched_cgroup_task_pins(const struct sched_cgroup_task *t,
			   const cpu_set_t *cpus);

/* In the parent after fork: close the cgroup.procs files (the child has
 * its own copies) and the figure files kept with them. Safe to call twice.
 * A caller that does not call it (it reuses the groups for its next
 * process) keeps them open: then the figures and the "is it empty" check
 * are read through kept files too, nothing is opened per process. */
void sched_cgroup_task_forked(struct sched_cgroup_task *t);
/* In the parent after a child that joined by writing "0" (spawn.c) was
 * started as pid: on a fake tree (plain files) the "0" it left in the
 * task's cgroup.procs becomes pid, one a line, as the kernel would list
 * it. Nothing to do, and nothing done, on a real cgroup file system. */
void sched_cgroup_task_spawned(struct sched_cgroup_task *t, pid_t pid);

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

/* Freeze (frozen=1) or thaw (0) a task. Returns 0 or -errno; -ENOTSUP
 * when the tree has no freezer. Does not wait: once the freezer file is
 * written no process of the group runs user code again until the thaw,
 * though the kernel reports the group frozen (cgroup.events "frozen 1",
 * freezer.state FROZEN) only when each got a CPU to stop on, which an
 * idle-weight task on a CPU others keep busy may not for seconds. */
int sched_cgroup_task_freeze(struct sched_cgroup_task *t, int frozen,
			     char *err, size_t errlen);

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

#endif
