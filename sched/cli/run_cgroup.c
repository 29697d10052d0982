/* sched/cli/run_cgroup: the cgroups of one `nicely run` batch (through
 * sched/cgroup.h): the batch group or the autogroup fallback, one group
 * set per task, kept per {%} slot for its next task, and charging our CPU
 * time by the batch group. Called by the engine and the task code in the
 * loop thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/preset.h"
#include "sched/agent_client.h"
#include "sched/cgroup.h"
#include "sched/gate.h"
#include "sched/cli/run_cgroup.h"
#include "sched/cli/run_engine.h"

/* Remove groups kept for a slot's next task, and free them. */
static void run_cgroup_drop(struct sched_cgroup_task *g)
{
	char err[512];

	if (sched_cgroup_task_remove(g, err, sizeof err) < 0)
		fprintf(stderr, "nicely: %s\n", err);
	free(g);
}

/* Keep emptied groups g for the next task of slot. 0, or -1 (then the
 * caller removes them). */
static int run_cgroup_park(struct run *r, int slot, struct sched_cgroup_task *g)
{
	if (slot < 1 || r->cg_fresh)
		return -1;
	if (slot > r->nslot_cg) {
		int n = slot > r->nslots ? slot : r->nslots;
		struct sched_cgroup_task **a =
			realloc(r->slot_cg, (size_t)n * sizeof *a);

		if (!a)
			return -1;
		memset(a + r->nslot_cg, 0,
		       (size_t)(n - r->nslot_cg) * sizeof *a);
		r->slot_cg = a;
		r->nslot_cg = n;
	}
	if (r->slot_cg[slot - 1])	/* not expected: one task per slot */
		run_cgroup_drop(r->slot_cg[slot - 1]);
	r->slot_cg[slot - 1] = g;
	return 0;
}

/* The groups of a task about to start in its slot: the ones the slot's
 * last task left (emptied then), readied for it, or new ones. 0 with
 * t->cg set, or -errno with err set. */
int run_cgroup_take(struct run *r, struct queue_task *t,
			   const struct sched_cgroup_limits *lim, char *err,
			   size_t errlen)
{
	struct sched_cgroup_task *g = NULL;
	int e;

	if (t->slot >= 1 && t->slot <= r->nslot_cg &&
	    (g = r->slot_cg[t->slot - 1])) {
		r->slot_cg[t->slot - 1] = NULL;
		e = sched_cgroup_task_reuse(g, lim, err, errlen);
		if (e == 0 && g->peak_stale) {
			/* per-task peak memory needs new groups here */
			r->cg_fresh = 1;
			e = -ESTALE;
		}
		if (e == 0) {
			t->cg = g;
			return 0;
		}
		if (e != -ESTALE)
			fprintf(stderr, "nicely: task %llu: cannot reuse the "
				"cgroup of slot %d (%s); making a new one\n",
				(unsigned long long)t->seq, t->slot, err);
		run_cgroup_drop(g);
	}
	if (!(g = calloc(1, sizeof *g)))
		return -ENOMEM;
	e = sched_cgroup_task_create(r->cg, ++r->cg_made, lim, g, err, errlen);
	if (e) {
		free(g);
		return e;
	}
	t->cg = g;
	return 0;
}

/* A finished task's cgroups: keep its CPU time and peak memory, kill
 * whatever it left running (checked gone, as when the groups were removed
 * per task), and keep the emptied groups for the next task of its slot;
 * remove them when they would not empty or thaw. */
void run_cgroup_done(struct run *r, struct queue_task *t)
{
	struct sched_cgroup_stats cs;
	char err[512];
	int e;

	if (!t->cg)
		return;
	sched_cgroup_task_stats(t->cg, &cs);
	t->cpu_ns = cs.cpu_ns;
	t->mem_peak = cs.mem_peak;
	t->oom_kills = cs.oom_kills;
	e = sched_cgroup_task_kill(t->cg, err, sizeof err);
	if (e < 0)
		fprintf(stderr, "nicely: task %llu: %s\n",
			(unsigned long long)t->seq, err);
	/* frozen by a pause it exited under: the next task must not be */
	if (e == 0 && (t->paused || r->paused))
		e = sched_cgroup_task_freeze(t->cg, 0, NULL, 0);
	if (e < 0 || run_cgroup_park(r, t->slot, t->cg) < 0) {
		if (sched_cgroup_task_remove(t->cg, err, sizeof err) < 0)
			fprintf(stderr, "nicely: task %llu: %s\n",
				(unsigned long long)t->seq, err);
		free(t->cg);
	}
	t->cg = NULL;
}

/* The one line that says how tasks run when the batch got no cgroups
 * (error e, message err from sched_cgroup_batch_open; agent: why
 * nicely-agent did not place it, or NULL): why, what tasks get instead,
 * and how to get cgroups. */
static void run_cgroup_mode_nocg(int e, const char *err, const char *agent,
				 int memory_max, char *buf, size_t len)
{
	/* the permission message says what tasks get and how to get
	 * cgroups in sentences of its own: the reason and the hint are
	 * taken apart, so the line says each once */
	const char *cut = strstr(err, ". Tasks run without cgroups");
	const char *hint = strstr(err, "To run them in cgroups");
	int rlen = cut ? (int)(cut - err) : (int)strlen(err);

	(void)e;
	snprintf(buf, len, "no cgroups (%.*s%s%s): tasks run with nice and CPU "
		 "pinning only; setsid descendants are tracked, nicely being "
		 "their subreaper%s%s%s", rlen, err, agent ? "; " : "",
		 agent ? agent : "",
		 memory_max ? "; memory_max is not enforced" : "",
		 hint ? ". " : "", hint ? hint : "");
}

/* What a batch gets in its groups, for the mode lines. */
#define RUN_CG_WHAT "a group per task (CPU class, cpuset, memory, kill-all)"

/* How a batch would run now, for `nicely top`: nicely-agent is asked
 * when it answers; else a batch group is made and removed again to find
 * out. */
void run_cgroup_mode(char *buf, size_t len)
{
	struct sched_cgroup_options co = SCHED_CGROUP_OPTIONS_INIT;
	struct agent_client_opts ao = AGENT_CLIENT_OPTS_INIT;
	struct sched_cgroup *cg = NULL;
	struct agent_client *ac;
	char err[1024], aerr[1024];
	int e;

	ao.timeout_ms = RUN_AGENT_TIMEOUT_MS;
	if (agent_client_connect(&ac, &ao, aerr, sizeof aerr) == 0) {
		snprintf(buf, len, "agent (nicely-agent %s at %s places every "
			 "user's batches in its %s tree): %s, idle PUs split "
			 "between users", agent_client_version(ac),
			 agent_client_socket(ac), agent_client_mode(ac),
			 RUN_CG_WHAT);
		agent_client_free(ac);
		return;
	}
	co.clean_stale = 0;
	e = sched_cgroup_batch_open(&cg, &co, err, sizeof err);
	if (e < 0) {
		run_cgroup_mode_nocg(e, err, aerr, 0, buf, len);
		return;
	}
	sched_cgroup_batch_close(cg, err, sizeof err);
	snprintf(buf, len, "cgroups (%s): a group per batch and %s",
		 geteuid() == 0 ? "root" : "delegated to you", RUN_CG_WHAT);
}

/* Try nicely-agent: 0 with r->cg in the group it made for us (the gate
 * then leases from it, and the mode line is said), or -errno with why
 * (for the mode line) in why. An agent that answers wrongly is said at
 * once (-EPROTO: another version), an absent one is not. */
static int run_cgroup_agent(struct run *r, struct sched_cgroup_options *co,
			    char *why, size_t whylen)
{
	struct agent_client_opts ao = AGENT_CLIENT_OPTS_INIT;
	const struct policy_preset *p = r->o->preset;
	char err[512];
	int e;

	ao.timeout_ms = RUN_AGENT_TIMEOUT_MS;
	e = agent_client_place(&r->agent, &ao, getpid(), p, r->o->ctl_command,
			       why, whylen);
	if (e < 0) {
		if (e != -ENOENT && e != -ECONNREFUSED)
			fprintf(stderr, "nicely: %s; running without it\n",
				why);
		return e;
	}
	co->group = agent_client_group(r->agent);
	if (*agent_client_root(r->agent))
		co->root = agent_client_root(r->agent);
	/* the agent leases PUs even when its group cannot be used here */
	gate_set_agent(r->gate, r->agent);
	e = sched_cgroup_batch_open(&r->cg, co, err, sizeof err);
	if (e < 0) {
		r->cg = NULL;
		snprintf(why, whylen, "nicely-agent placed the batch in "
			 "%.512s, which cannot be used: %s", co->group, err);
		return e;
	}
	fprintf(stderr, "nicely: agent (nicely-agent at %s placed the batch "
		"in %s, %s class): %s, idle PUs split between users%s%s\n",
		agent_client_socket(r->agent), co->group,
		*agent_client_weight(r->agent) ? agent_client_weight(r->agent)
					       : "its",
		RUN_CG_WHAT, *agent_client_note(r->agent) ? "; " : "",
		agent_client_note(r->agent));
	return 0;
}

/* The batch's cgroups (after removing stale ones of this user's dead
 * batches). Without them, say once what is missing; tasks then run with
 * nice and pinning, and our session's autogroup takes the preset's weight
 * class (put back at the end) since nice alone only ranks tasks inside
 * one autogroup. */
void run_cgroup_open(struct run *r)
{
	struct sched_cgroup_options co = SCHED_CGROUP_OPTIONS_INIT;
	const struct policy_preset *p = r->o->preset;
	char err[3072], why[2048];
	int e;

	r->autogroup_restore = -1;
	co.weight = p->weight;
	if (run_cgroup_agent(r, &co, why, sizeof why) == 0)
		return;
	if (!r->agent) {	/* today's path */
		co = (struct sched_cgroup_options)SCHED_CGROUP_OPTIONS_INIT;
		co.weight = p->weight;
		e = sched_cgroup_batch_open(&r->cg, &co, err, sizeof err);
		if (e == 0)
			return;
	} else {
		snprintf(err, sizeof err, "%s", why);
		e = -EPERM;
		why[0] = 0;
	}
	r->cg = NULL;
	{
		char line[6144];

		run_cgroup_mode_nocg(e, err, *why ? why : NULL,
				     p->memory_max != 0, line, sizeof line);
		fprintf(stderr, "nicely: %s\n", line);
	}
	if (p->weight != POLICY_WEIGHT_NORMAL) {
		int old = sched_cgroup_autogroup_nice();

		e = sched_cgroup_autogroup_fallback(p->weight);
		if (e == 0)
			r->autogroup_restore = old;
		else if (e != -ENOENT)
			fprintf(stderr, "nicely: cannot lower the session's "
				"autogroup priority: %s\n", strerror(-e));
	}
}

/* Our own CPU time for the sampler: with the batch's cgroups, the whole
 * subtree (every task, and whatever its processes fork) counts as ours,
 * so a task's children are not taken for others' load; without them (or
 * when the sampler cannot read it) each task's PID is declared at every
 * tick, and its children are not seen. */
void run_cgroup_charge(struct run *r)
{
	char path[4096];
	int e;

	if (!r->cg || !sched_cgroup_batch_cpu_path(r->cg, path, sizeof path))
		return;
	e = gate_set_cgroup(r->gate, r->cg);
	if (e < 0)
		fprintf(stderr, "nicely: cannot read the CPU time of %s (%s); "
			"the CPU time of tasks' child processes counts as "
			"others' load\n", path, strerror(-e));
}


/* The end of the batch: whatever still runs dies with the batch's groups;
 * the slots' kept groups and the batch group go; the session's autogroup
 * nice is put back. */
void run_cgroup_close(struct run *r)
{
	char err[1024];

	for (struct queue_task *t = r->running; t; t = t->next)
		if (t->cg) {
			sched_cgroup_task_forked(t->cg);
			free(t->cg);
			t->cg = NULL;
		}
	for (int i = 0; i < r->nslot_cg; i++)
		if (r->slot_cg[i])
			run_cgroup_drop(r->slot_cg[i]);
	free(r->slot_cg);
	r->slot_cg = NULL;
	r->nslot_cg = 0;
	if (r->cg && sched_cgroup_batch_close(r->cg, err, sizeof err) < 0)
		fprintf(stderr, "nicely: %s\n", err);
	r->cg = NULL;
	if (r->autogroup_restore >= 0)
		sched_cgroup_autogroup_restore(r->autogroup_restore);
	r->autogroup_restore = -1;
	/* the batch ends with us, its owner: the agent removes its groups */
	agent_client_free(r->agent);
	r->agent = NULL;
}
