/* sched/lib/pool_cg: the pool's batch cgroup and its workers' groups. */
#ifndef SCHED_LIB_POOL_CG_H
#define SCHED_LIB_POOL_CG_H

#include "sched/lib/pool_state.h"

/* Remove slot's kept worker group, if any. */
void pool_cg_slot_drop(nicely_pool *p, int slot);
/* Remove every slot's kept worker group (their workers are gone). */
void pool_cg_slots_drop(nicely_pool *p);
/* The cgroup of a new worker in slot, pinned to cpu (-1: the batch's
 * CPUs): the slot's group of its last worker, emptied then and readied
 * now, or a new one. NULL without cgroups, or when it cannot be made
 * (then *rc is set when cgroups are required, and the reason is logged). */
struct sched_cgroup_task *pool_cg_worker(nicely_pool *p, int slot,
					 int cpu, int *rc);
/* A worker is gone: empty its group (kill what is left in it, checked
 * gone), then keep the group's figures (since it was readied for this
 * worker, strays included; the slot's next reuse takes these same values
 * as its zero without reading them again), keeping the group for the
 * slot's next worker; remove it when it will not empty. */
void pool_cg_worker_done(nicely_pool *p, struct pool_worker *w);
/* Open the batch cgroup for the preset's weight class (removing groups of
 * this user's dead pools first). Without one: in auto mode one log line
 * says what is missing and how to get it; required: NICELY_ECGROUP. */
int pool_cg_open(nicely_pool *p);
/* How long a pool waits for nicely-agent's answers. */
#define POOL_AGENT_TIMEOUT_MS 500
/* Ask nicely-agent whether it answers (p->agent set when it does), before
 * the fork server starts. */
void pool_cg_agent_connect(nicely_pool *p);
/* With the agent: open the batch through it with fork server fs as its
 * owner; when that fails, logged, the pool goes on as pool_cg_open. 0 or
 * what pool_cg_open returns. */
int pool_cg_agent_open(nicely_pool *p, pid_t fs);
/* The agent ended the batch: kill running work, cancel queued. */
void pool_cg_agent_killed(nicely_pool *p);
/* Remove the slots' worker groups and the batch cgroup (every worker is
 * gone by now). */
void pool_cg_close(nicely_pool *p);

#endif
