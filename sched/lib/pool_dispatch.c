/* sched/lib/pool_dispatch: from the queue to the workers. Asks the gate
 * (pool_gate.c) once per tick how many workers may run, applies its moves,
 * pauses, resumes and stops, starts the workers it allows and feeds them;
 * an idle pool under a per-user limit lets its workers go. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>

#include "nicely.h"
#include "sched/cgroup.h"
#include "sched/lib/pool.h"
#include "sched/lib/pool_dispatch.h"
#include "sched/lib/pool_feed.h"
#include "sched/lib/pool_cg.h"
#include "sched/lib/pool_gate.h"
#include "sched/lib/pool_state.h"
#include "sched/lib/pool_worker.h"

/* Workers that count against the gate: live, or still running tasks. */
static int pool_active(const nicely_pool *p)
{
	int n = 0;

	for (int i = 0; i < p->nw; i++)
		if (p->w[i].st == PW_LIVE ||
		    (p->w[i].st != PW_FREE && p->w[i].inflight > 0))
			n++;
	return n;
}

/* The workers the gate counts, into gw (room for p->nw). */
size_t pool_dispatch_list(const nicely_pool *p, struct pool_gate_worker *gw)
{
	size_t n = 0;

	for (int i = 0; i < p->nw; i++)
		if (p->w[i].st == PW_LIVE ||
		    (p->w[i].st != PW_FREE && p->w[i].inflight > 0))
			gw[n++] = (struct pool_gate_worker){ i, p->w[i].pid,
							     p->w[i].cpu,
							     p->w[i].paused,
							     p->w[i].cg != NULL };
	return n;
}

/* Ask the gate how many workers may run, and apply its actions. */
static int pool_tick(nicely_pool *p, uint64_t now)
{
	struct pool_gate_worker gw[p->nw > 0 ? p->nw : 1];
	struct pool_gate_answer a;
	char err[256];
	size_t n = pool_dispatch_list(p, gw);
	int rc;

	err[0] = 0;
	pool_gate_queued(p->gate, (size_t)p->queued);
	pool_gate_progress(p->gate, (long long)p->completed,
			   (long long)p->total);
	/* The gate answers capacity; pool_dispatch starts no more workers
	 * than the queue needs, so ask as if the queue were never short. */
	rc = pool_gate_tick(p->gate, gw, n,
			    (size_t)p->queued > (size_t)p->cap ? (size_t)p->queued
							       : (size_t)p->cap,
			    &a, err, sizeof err);
	/* notes of the per-user limit: lease file problems, waiting */
	const char *note;
	int lvl;

	while ((note = pool_gate_note(p->gate, &lvl)))
		pool_log(p, lvl, -1, 0, "%s", note);
	p->next_tick_ns = now + (uint64_t)pool_gate_interval_ms(p->gate) *
					1000000u;
	if (pool_gate_agent_killed(p->gate))
		pool_cg_agent_killed(p);
	if (rc) {
		pool_log(p, NICELY_LOG_WARNING, -1, 0, "load sampling: %s", err);
		return 0;
	}
	if (a.nstart == 0 && p->queued && a.reason &&
	    a.reason != p->last_reason)
		pool_log(p, NICELY_LOG_DEBUG, -1, 0, "no new worker: %s",
			 a.reason);
	p->last_reason = a.nstart ? NULL : a.reason;
	p->allowed = (int)n + a.nstart;
	if (p->allowed > p->cap)
		p->allowed = p->cap;
	p->ans_nice = a.nice;
	p->ans_ncpus = a.nstart < p->cap ? a.nstart : p->cap;
	for (int i = 0; i < p->ans_ncpus; i++)
		p->ans_cpus[i] = a.cpus ? a.cpus[i] : -1;
	p->ans_used = 0;
	for (size_t i = 0; i < a.nactions; i++) {
		const struct pool_gate_action *act = &a.actions[i];
		struct pool_worker *w;

		if (act->id < 0 || act->id >= p->nw)
			continue;
		w = &p->w[act->id];
		if (w->st == PW_FREE || w->pid <= 0)
			continue;
		if (act->kind == POOL_GATE_MOVE && !p->o.no_pin &&
		    act->cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(act->cpu, &set);
			/* the group's cpuset first (it moves every process
			 * in it; affinity outside the cpuset is refused) */
			if (w->cg && sched_cgroup_task_set_cpus(w->cg, &set, err,
								sizeof err) < 0)
				pool_log(p, NICELY_LOG_WARNING, -1, w->pid,
					 "%s", err);
			if (!sched_setaffinity(w->pid, sizeof set, &set))
				w->cpu = act->cpu;
		} else if (act->kind == POOL_GATE_PAUSE && !w->paused) {
			/* freezing reaches every process of the worker */
			if (w->cg && !sched_cgroup_task_freeze(w->cg, 1, err,
							       sizeof err))
				w->paused = w->frozen = 1;
			else if (!killpg(w->pid, SIGSTOP))
				w->paused = 1;
		} else if (act->kind == POOL_GATE_RESUME && w->paused) {
			if (w->frozen) {
				if (!sched_cgroup_task_freeze(w->cg, 0, err,
							      sizeof err))
					w->paused = w->frozen = 0;
				else
					pool_log(p, NICELY_LOG_WARNING, -1,
						 w->pid, "%s", err);
			} else if (!killpg(w->pid, SIGCONT)) {
				w->paused = 0;
			}
		} else if (act->kind == POOL_GATE_STOP) {
			pool_worker_kill(p, w, NICELY_QUEUED, -1);
			/* its place is not free for a new worker until the
			 * gate says so (it would start unpinned at once) */
			if (p->allowed > 0)
				p->allowed--;
		}
	}
	return 0;
}

/* Under a per-user [limits] max_pus an idle pool gives its PUs back to
 * the user's other batches: its idle workers leave (running worker_exit)
 * and the next task asks the gate again, at once. */
static void pool_release_idle(nicely_pool *p)
{
	for (int i = 0; i < p->nw; i++) {
		struct pool_worker *w = &p->w[i];

		if (w->st == PW_LIVE && !w->inflight && !w->fl_n) {
			w->st = PW_CLOSING;
			w->close_after_flush = 1;
			pool_feed_flush(p, w, i);
		}
	}
	p->allowed = 0;
	p->next_tick_ns = 0;
	pool_gate_release(p->gate);
}

/* Start workers the gate allows and give every live worker tasks. */
void pool_dispatch(nicely_pool *p, uint64_t now)
{
	if (p->broken)
		return;
	if ((p->q.n || p->running) && now >= p->next_tick_ns)
		pool_tick(p, now);
	while (p->q.n && now >= p->backoff_ns) {
		int active = pool_active(p), idle = 0;

		for (int i = 0; i < p->nw; i++)
			if (p->w[i].st == PW_LIVE && !p->w[i].inflight)
				idle++;
		if (active >= p->allowed || idle >= p->queued)
			break;
		int cpu = p->ans_used < p->ans_ncpus ? p->ans_cpus[p->ans_used]
						     : -1;
		int rc = pool_worker_spawn(p, cpu);

		if (rc == 0)	/* no free slot: an exit will wake us */
			break;
		if (rc < 0) {
			/* no fd left (say): back off; with no worker left to
			 * run them, the queued tasks fail after a few tries */
			pool_worker_startfail(p, -1, -rc, "start");
			break;
		}
		p->ans_used++;
	}
	/* first one message to each idle worker, then prefetch */
	for (int round = 0; round < 2; round++)
		for (int k = 0; k < p->nw && p->q.n; k++) {
			int i = (p->rr + k) % p->nw;

			if (p->w[i].st == PW_LIVE && (round || !p->w[i].fl_n))
				pool_feed(p, i, round ? INT32_MAX : 1);
		}
	p->rr = p->nw ? (p->rr + 1) % p->nw : 0;
	if (!p->q.n && !p->running && pool_gate_shared(p->gate))
		pool_release_idle(p);
}
