/* sched/lib/pool_cg: the pool's cgroups (through sched/cgroup.h): one
 * batch group with the preset's weight class (made by nicely-agent when it
 * answers, with the fork server as the batch's owner), and one group per
 * worker slot, emptied when its worker exits and kept for the slot's next
 * one; without permission, one log line and nice + pinning only. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nicely.h"
#include "policy/preset.h"
#include "sched/agent_client.h"
#include "sched/cgroup.h"
#include "sched/lib/pool.h"
#include "sched/lib/pool_cg.h"
#include "sched/lib/pool_gate.h"
#include "sched/lib/pool_queue.h"
#include "sched/lib/pool_worker.h"
#include "sched/lib/pool_state.h"
#include "sched/lib/worker.h"

/* Remove slot's kept worker group, if any. */
void pool_cg_slot_drop(nicely_pool *p, int slot)
{
	char err[512];

	if (!p->cg_slot || !p->cg_slot[slot])
		return;
	if (p->w[slot].cg == p->cg_slot[slot])	/* a worker not reaped (the
						 * fork server is gone) */
		p->w[slot].cg = NULL;
	if (sched_cgroup_task_remove(p->cg_slot[slot], err, sizeof err) < 0)
		pool_log(p, NICELY_LOG_ERROR, -1, 0, "%s", err);
	free(p->cg_slot[slot]);
	p->cg_slot[slot] = NULL;
}

/* Remove every slot's kept worker group (their workers are gone). */
void pool_cg_slots_drop(nicely_pool *p)
{
	for (int i = 0; p->cg_slot && i < p->nw; i++)
		pool_cg_slot_drop(p, i);
	free(p->cg_slot);
	p->cg_slot = NULL;
}

/* The cgroup of a new worker in slot, pinned to cpu (-1: the batch's
 * CPUs): the slot's group of its last worker, emptied then and readied
 * now, or a new one. NULL without cgroups, or when it cannot be made
 * (then *rc is set when cgroups are required, and the reason is logged). */
struct sched_cgroup_task *pool_cg_worker(nicely_pool *p, int slot,
					 int cpu, int *rc)
{
	const struct policy_preset *pr = pool_gate_preset(p->gate);
	struct sched_cgroup_limits lim = { NULL, pr->memory_max };
	struct sched_cgroup_task *t;
	cpu_set_t set;
	char err[512];
	int e;

	*rc = 0;
	if (!p->cg) {
		if (p->o.cgroups == NICELY_CGROUPS_REQUIRED)
			*rc = NICELY_ECGROUP;
		return NULL;
	}
	if (cpu >= 0 && cpu < CPU_SETSIZE) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		lim.cpus = &set;
	}
	if (!p->cg_slot &&
	    !(p->cg_slot = calloc((size_t)p->nw, sizeof *p->cg_slot))) {
		*rc = NICELY_ENOMEM;
		return NULL;
	}
	if ((t = p->cg_slot[slot])) {
		e = sched_cgroup_task_reuse(t, &lim, err, sizeof err);
		if (e == 0)
			return t;
		if (e != -ESTALE)
			pool_log(p, NICELY_LOG_WARNING, -1, 0,
				 "cannot reuse a worker's cgroup (%s); making "
				 "a new one", err);
		pool_cg_slot_drop(p, slot);
	}
	if (!(t = calloc(1, sizeof *t))) {
		*rc = NICELY_ENOMEM;
		return NULL;
	}
	e = sched_cgroup_task_create(p->cg, ++p->cg_seq, &lim, t, err,
				     sizeof err);
	if (e == 0) {
		p->cg_slot[slot] = t;
		return t;
	}
	free(t);
	pool_log(p, NICELY_LOG_WARNING, -1, 0,
		 "cannot make a worker's cgroup: %s%s", err,
		 p->o.cgroups == NICELY_CGROUPS_REQUIRED
			 ? ""
			 : "; this worker runs without one");
	if (p->o.cgroups == NICELY_CGROUPS_REQUIRED)
		*rc = e == -ENOMEM ? NICELY_ENOMEM : NICELY_ECGROUP;
	return NULL;
}

/* A worker is gone: empty its group (kill what is left in it, checked
 * gone), then keep the group's figures (since it was readied for this
 * worker, strays included; the slot's next reuse takes these same values
 * as its zero without reading them again), keeping the group for the
 * slot's next worker; remove it when it will not empty. */
void pool_cg_worker_done(nicely_pool *p, struct pool_worker *w)
{
	struct sched_cgroup_stats cs;
	char err[512];
	int killed;

	if (!w->cg)
		return;
	if (w->frozen)	/* the next worker must not join a frozen group */
		sched_cgroup_task_freeze(w->cg, 0, NULL, 0);
	killed = sched_cgroup_task_kill(w->cg, err, sizeof err);
	if (!sched_cgroup_task_stats(w->cg, &cs)) {
		if (cs.cpu_ns > 0)
			p->cg_cpu_ns += cs.cpu_ns;
		if (cs.mem_peak > p->cg_mem_peak)
			p->cg_mem_peak = cs.mem_peak;
	}
	if (killed < 0) {
		pool_log(p, NICELY_LOG_ERROR, -1, w->pid, "%s", err);
		for (int i = 0; p->cg_slot && i < p->nw; i++)
			if (p->cg_slot[i] == w->cg)
				pool_cg_slot_drop(p, i);
	}
	w->cg = NULL;
}

/* In a libnicely worker that sits in a worker group of its pool: that
 * group, relative to the hierarchies' roots ("nicely/u-12-1/task-3"),
 * from /proc/self/cgroup, into buf; else NULL. */
static const char *pool_cg_outer(char *buf, size_t len)
{
	char line[1024];
	const char *found = NULL;
	FILE *f;

	if (!worker_inside() || !(f = fopen("/proc/self/cgroup", "re")))
		return NULL;
	while (!found && fgets(line, sizeof line, f)) {
		char *path = strchr(line, ':'), *last;

		path = path ? strchr(path + 1, ':') : NULL;
		if (!path || path[1] != '/')
			continue;
		path += 2;
		path[strcspn(path, "\n")] = 0;
		last = strrchr(path, '/');
		if (last && !strncmp(last + 1, "task-", 5) &&
		    (size_t)snprintf(buf, len, "%s", path) < len)
			found = buf;
	}
	fclose(f);
	return found;
}

/* Open the batch cgroup for the preset's weight class (removing groups of
 * this user's dead pools first). A pool made inside a worker of a pool
 * with cgroups takes that worker's group as its batch group instead: its
 * workers' groups go under it, inside the outer pool's limits, pause and
 * kill. Without one: in auto mode one log line says what is missing and
 * how to get it; required: NICELY_ECGROUP. */
int pool_cg_open(nicely_pool *p)
{
	struct sched_cgroup_options co = SCHED_CGROUP_OPTIONS_INIT;
	const struct policy_preset *pr = pool_gate_preset(p->gate);
	char err[1024], line[1400], outer[512];
	int e;

	p->cg = NULL;
	p->cg_cpu_ns = 0;
	p->cg_mem_peak = 0;
	if (p->o.cgroups == NICELY_CGROUPS_OFF)
		return 0;
	if ((co.group = pool_cg_outer(outer, sizeof outer))) {
		co.clean_stale = 0;	/* (never done with a group) */
		p->nested = 1;
	}
	co.weight = pr->weight;
	p->cg_weight = pr->weight;
	err[0] = 0;
	e = sched_cgroup_batch_open(&p->cg, &co, err, sizeof err);
	if (e == 0) {	/* workers' children count as ours too */
		if ((e = pool_gate_set_cgroup(p->gate, p->cg)) < 0)
			pool_log(p, NICELY_LOG_WARNING, -1, 0,
				 "cannot read the pool's CPU time from its "
				 "cgroup (%s); the CPU time of processes that "
				 "workers fork counts as others' load",
				 strerror(-e));
		return 0;
	}
	p->cg = NULL;
	if (e == -EACCES || e == -EPERM || e == -EROFS)
		snprintf(line, sizeof line, "%s", err);
	else
		snprintf(line, sizeof line,
			 "no cgroups (%s); workers run with nice and CPU "
			 "pinning only", err);
	if (p->o.cgroups == NICELY_CGROUPS_REQUIRED) {
		pool_log(p, NICELY_LOG_ERROR, -1, 0,
			 "cgroups are required (options.cgroups): %s", line);
		return e == -ENOMEM ? NICELY_ENOMEM : NICELY_ECGROUP;
	}
	pool_log(p, NICELY_LOG_WARNING, -1, 0, "%s%s%s", line,
		 pr->memory_max ? "; memory_max is not enforced" : "",
		 pr->weight != POLICY_WEIGHT_NORMAL
			 ? "; workers get a session of their own with the "
			   "preset's autogroup nice"
			 : "");
	return 0;
}

/* Ask nicely-agent whether it answers (before the fork server starts: it
 * is the process the agent places). An agent of another version or one
 * that does not answer in time is logged once; an absent one is not. */
void pool_cg_agent_connect(nicely_pool *p)
{
	struct agent_client_opts ao = AGENT_CLIENT_OPTS_INIT;
	char err[1024];
	int e;

	p->agent = NULL;
	/* a pool inside a worker stays in that worker's group */
	if (p->o.cgroups == NICELY_CGROUPS_OFF || worker_inside())
		return;
	ao.timeout_ms = POOL_AGENT_TIMEOUT_MS;
	e = agent_client_connect(&p->agent, &ao, err, sizeof err);
	if (e < 0 && e != -ENOENT && e != -ECONNREFUSED)
		pool_log(p, NICELY_LOG_WARNING, -1, 0,
			 "%s; the pool runs without it", err);
}

/* With the agent: open the batch through it, owned by the fork server
 * fs (the workers are forked from it), and the batch group in the group
 * it made; the gate leases from it. When that fails (logged), the pool
 * goes on without the agent as it would have (pool_cg_open). */
int pool_cg_agent_open(nicely_pool *p, pid_t fs)
{
	struct sched_cgroup_options co = SCHED_CGROUP_OPTIONS_INIT;
	const struct policy_preset *pr = pool_gate_preset(p->gate);
	char err[1536], cerr[512];
	int e;

	e = agent_client_open_preset(p->agent, fs, pr, NULL, err, sizeof err);
	if (e == 0) {
		co.group = agent_client_group(p->agent);
		if (*agent_client_root(p->agent))
			co.root = agent_client_root(p->agent);
		co.weight = pr->weight;
		p->cg_weight = pr->weight;
		p->cg_cpu_ns = p->cg_mem_peak = 0;
		e = sched_cgroup_batch_open(&p->cg, &co, cerr, sizeof cerr);
		if (e < 0) {
			p->cg = NULL;
			snprintf(err, sizeof err, "nicely-agent placed the "
				 "pool in %.512s, which cannot be used: %s",
				 co.group, cerr);
		}
	}
	if (e < 0) {
		pool_log(p, NICELY_LOG_WARNING, -1, 0,
			 "%s; the pool runs without nicely-agent", err);
		agent_client_free(p->agent);
		p->agent = NULL;
		return pool_cg_open(p);
	}
	pool_gate_set_agent(p->gate, p->agent);
	if ((e = pool_gate_set_cgroup(p->gate, p->cg)) < 0)
		pool_log(p, NICELY_LOG_WARNING, -1, 0,
			 "cannot read the pool's CPU time from its cgroup "
			 "(%s); the CPU time of processes that workers fork "
			 "counts as others' load", strerror(-e));
	pool_log(p, NICELY_LOG_INFO, -1, 0,
		 "agent (nicely-agent at %s placed the pool in %s, %s "
		 "class): a group per worker, idle PUs split between "
		 "users%s%s", agent_client_socket(p->agent), co.group,
		 *agent_client_weight(p->agent) ? agent_client_weight(p->agent)
						: "its",
		 *agent_client_note(p->agent) ? "; " : "",
		 agent_client_note(p->agent));
	return 0;
}

/* nicely-agent ended the batch (`nicely kill --user`, an admin): kill
 * what runs and cancel what is queued, now and at every tick after (the
 * agent grants no PU to it any more). Called from the pool's tick. */
void pool_cg_agent_killed(nicely_pool *p)
{
	pool_queue_fail(p, NICELY_CANCELLED, "cancelled: nicely-agent ended "
			"the pool's batch");
	if (!p->agent_killed) {
		p->agent_killed = 1;
		pool_log(p, NICELY_LOG_ERROR, -1, 0, "killed through "
			 "nicely-agent: running work is killed, queued work "
			 "cancelled, and so is work queued from now on");
	}
	for (int i = 0; i < p->nw; i++)
		if (p->w[i].st != PW_FREE && p->w[i].inflight)
			pool_worker_kill(p, &p->w[i], NICELY_KILLED, -1);
}

/* Remove the slots' worker groups and the batch cgroup (every worker is
 * gone by now). */
void pool_cg_close(nicely_pool *p)
{
	char err[1024];

	pool_cg_slots_drop(p);
	if (p->gate)
		pool_gate_set_cgroup(p->gate, NULL);
	if (p->cg && sched_cgroup_batch_close(p->cg, err, sizeof err) < 0)
		pool_log(p, NICELY_LOG_ERROR, -1, 0, "%s", err);
	p->cg = NULL;
	if (p->gate)
		pool_gate_set_agent(p->gate, NULL);
	/* the agent removes the batch when its owner, the fork server, is
	 * gone */
	agent_client_free(p->agent);
	p->agent = NULL;
}
