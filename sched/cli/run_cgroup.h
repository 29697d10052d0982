/* sched/cli/run_cgroup: the cgroups of one `nicely run` batch.
 * Internal to sched/cli/run*.c; loop thread. */
#ifndef SCHED_CLI_RUN_CGROUP_H
#define SCHED_CLI_RUN_CGROUP_H

#include <stddef.h>

struct run;
struct queue_task;
struct sched_cgroup_limits;

/* How long `nicely run` waits for nicely-agent's answers. */
#define RUN_AGENT_TIMEOUT_MS 500

/* Open the batch's cgroups: through nicely-agent when it answers (the
 * group it made, leases from it; said in one line), else as root does;
 * without them say once what is missing and give the session's autogroup
 * the preset's weight class. */
void run_cgroup_open(struct run *r);
/* The mode a batch would run in now, as the one line `nicely run` says
 * ("agent (...): ...", "no cgroups (why): ..."; "cgroups (root): ..."
 * with cgroups of its own), for `nicely top`. Asks the agent, else makes
 * and removes a batch group to find out. */
void run_cgroup_mode(char *buf, size_t len);
/* Charge our CPU time by the batch group (say so when it cannot be). */
void run_cgroup_charge(struct run *r);
/* The groups of a task about to start: its slot's kept ones or new ones.
 * 0 with t->cg set, or -errno with err set. */
int run_cgroup_take(struct run *r, struct queue_task *t,
		    const struct sched_cgroup_limits *lim, char *err,
		    size_t errlen);
/* A finished task's groups: its CPU time and peak memory into t, then
 * kept emptied for its slot's next task, or removed. */
void run_cgroup_done(struct run *r, struct queue_task *t);
/* The end of the batch: every group goes, the autogroup nice back. */
void run_cgroup_close(struct run *r);

#endif
