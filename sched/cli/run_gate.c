/* sched/cli/run_gate: `nicely run`'s adapter over the shared gate
 * (sched/gate.h): its running tasks as the gate's workers, the gate's
 * starts and actions (move, pause, resume, stop) carried out on tasks,
 * its notes printed to stderr, the lease holding lowered as tasks end.
 * Called by the engine, the task code and the controls in the loop
 * thread. */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/topology.h"
#include "sched/cgroup.h"
#include "sched/gate.h"
#include "sched/cli/run_emit.h"
#include "sched/cli/run_engine.h"
#include "sched/cli/run_ctl.h"
#include "sched/cli/run_gate.h"
#include "sched/cli/run_task.h"

/* Make the batch's gate on the caller's topology, sampler, preset and
 * per-user limit. 0, or -errno with err set. */
int run_gate_open(struct run *r, char *err, size_t errlen)
{
	const struct run_opts *o = r->o;
	struct gate_opts go = {
		.preset = o->preset,
		.user_limit = o->user_limit,
		.topo = o->topo,
		.sampler = o->sampler,
		/* -j N: the one rule of libnicely's max_workers (gate.h) */
		.max_workers = o->jobs,
		.max_declared = r->max_running,
		.words = { "tasks", "this batch", "this batch" },
	};

	return gate_new(&r->gate, &go, err, errlen);
}

/* Print the gate's notes (lease file trouble, the wait for the user's
 * other batches), each once. */
void run_gate_notes(struct run *r)
{
	enum gate_level l;
	const char *n;

	while ((n = gate_note(r->gate, &l)))
		fprintf(stderr, "nicely: %s\n", n);
}

/* Tasks ended: give the PUs we no longer use back to the user's other
 * batches (the holding only goes down here; ticks raise it). */
void run_gate_hold(struct run *r)
{
	gate_hold(r->gate, run_live(r) + r->npending);
	run_gate_notes(r);
}

/* Re-pin every thread of every process in process group pgid. */
static void run_repin_group(pid_t pgid, const cpu_set_t *cpus)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	char path[64], buf[512];

	if (!d)
		return;
	while ((de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/stat", pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		char *p = strrchr(buf, ')');
		int ppid, pg;
		char st;
		if (!p || sscanf(p + 1, " %c %d %d", &st, &ppid, &pg) != 3 ||
		    pg != pgid)
			continue;
		snprintf(path, sizeof path, "/proc/%d/task", pid);
		DIR *td = opendir(path);
		struct dirent *te;
		if (!td) {
			sched_setaffinity(pid, sizeof *cpus, cpus);
			continue;
		}
		while ((te = readdir(td)))
			if (atoi(te->d_name) > 0)
				sched_setaffinity(atoi(te->d_name),
						  sizeof *cpus, cpus);
		closedir(td);
	}
	closedir(d);
}

/* Apply one of the gate's actions to the running task it names. */
static void run_gate_act(struct run *r, const struct gate_action *a)
{
	struct queue_task *t = queue_get(&r->q, (uint64_t)a->id);
	cpu_set_t cpus;

	if (!t || t->state != QUEUE_RUNNING || t->pid <= 0 || t->kill_stage)
		return;
	switch (a->kind) {
	case GATE_MOVE:
		if (a->pu < 0 || a->pu >= r->npus)
			return;
		t->pu = a->pu;
		if (r->pin) {
			agent_topology_cpuset(r->o->topo, &a->pu, 1, &cpus);
			/* the cpuset first: affinity must stay inside it */
			if (t->cg)
				sched_cgroup_task_set_cpus(t->cg, &cpus, NULL, 0);
			run_repin_group(t->pid, &cpus);
		}
		break;
	case GATE_PAUSE:
		if (!t->paused)
			run_signal_task(t, SIGSTOP);
		t->paused = 1;
		t->policy_touched = 1;
		break;
	case GATE_RESUME:
		if (t->paused)
			run_signal_task(t, SIGCONT);
		t->paused = 0;
		break;
	case GATE_STOP:
		t->policy_stop = 1;
		t->policy_touched = 1;
		run_signal_task(t, SIGKILL);
		t->kill_stage = 2;
		break;
	}
}

/* One tick: the gate samples (our tasks declared as ours), takes the
 * user's allowance and decides; we act on its answer. */
void run_gate_tick(struct run *r)
{
	const struct agent_snapshot *snap = NULL;
	struct gate_answer ans;
	char ebuf[256];
	size_t n = 0, queued;

	for (struct queue_task *t = r->running; t; t = t->next) {
		if (t->pid <= 0 || t->exited || n >= r->max_running)
			continue;
		r->gw[n++] = (struct gate_worker){ (int64_t)t->seq, t->pid,
						   t->pu, t->paused,
						   t->cg != NULL };
	}
	if (gate_sample(r->gate, r->gw, n, &snap, ebuf, sizeof ebuf) < 0) {
		fprintf(stderr, "nicely: sampling the machine: %s\n", ebuf);
		return;
	}
	r->npending = 0; /* this decision replaces older grants */
	if (run_fill_ready(r, (size_t)r->npus) < 0)
		return;
	queued = r->stopping ? 0
		 : r->q.nready + (r->input_eof ? 0 : (size_t)r->npus);
	gate_progress(r->gate, (long long)r->st.finished, r->st.total);
	gate_decide(r->gate, snap, r->gw, n, queued, queued, &ans);
	run_gate_notes(r);
	if (gate_agent_killed(r->gate) && !r->st.ctl_killed)
		run_ctl_agent_killed(r);
	for (size_t i = 0; i < ans.nactions; i++)
		run_gate_act(r, &ans.actions[i]);
	for (int i = 0; i < ans.nstart && !r->stopping; i++)
		if (!run_start(r, ans.pus[i], ans.nice))
			break;
	run_flush(r, 0);
}


/* A reset is done: the preset and per-user limit it read (the lease file
 * is taken anew with a new limit). */
void run_gate_reload(struct run *r)
{
	gate_reload(r->gate, r->o->preset, r->o->user_limit);
	gate_lease_open(r->gate);
	run_gate_notes(r);
}
