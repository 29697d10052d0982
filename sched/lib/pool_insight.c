/* sched/lib/pool_insight: nicely_insights, MPIRE's insights for a pool:
 * per worker its start-up, worker_init, waiting, working and worker_exit
 * times and tasks (from the times each worker writes in its shared slot
 * and the parent's spawn and exit times), their sums, and the longest
 * tasks. Exited workers are folded in when they are reaped (the last
 * POOL_INSIGHT_KEEP of them listed one by one). Owner thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nicely.h"
#include "sched/lib/pool_insight.h"
#include "sched/lib/pool_state.h"
#include "sched/lib/worker.h"

#define POOL_INSIGHT_KEEP 256	/* exited workers listed one by one */

/* Seconds between two monotonic times (0 when either is unknown). */
static double span(uint64_t a, uint64_t b)
{
	return a && b > a ? (double)(b - a) / 1e9 : 0;
}

/* The insight of worker slot i (alive, or just exited at end_ns). */
static void pool_insight_of(nicely_pool *p, int i, uint64_t end_ns,
			    nicely_worker_insight_t *o)
{
	const struct worker_slot *s = &p->slots[i];
	const struct pool_worker *w = &p->w[i];
	uint64_t t_start = __atomic_load_n(&s->t_start, __ATOMIC_RELAXED);
	uint64_t t_init = __atomic_load_n(&s->t_init_end, __ATOMIC_RELAXED);
	uint64_t t_xs = __atomic_load_n(&s->t_exit_start, __ATOMIC_RELAXED);
	uint64_t t_xe = __atomic_load_n(&s->t_exit_end, __ATOMIC_RELAXED);
	uint64_t ready;
	double alive;

	memset(o, 0, sizeof *o);
	o->pid = w->pid;
	o->tasks = (int64_t)__atomic_load_n(&s->ntasks, __ATOMIC_RELAXED);
	o->working = (double)__atomic_load_n(&s->busy_ns, __ATOMIC_RELAXED) /
		     1e9;
	o->start_up = span(w->spawn_ns, t_start);
	if (p->o.worker_init)
		o->init = span(t_start, t_init ? t_init : end_ns);
	ready = p->o.worker_init ? t_init : t_start;
	if (t_xs)
		o->exit = span(t_xs, t_xe ? t_xe : end_ns);
	alive = span(ready, t_xs ? t_xs : end_ns);
	o->waiting = alive > o->working ? alive - o->working : 0;
}

/* Add one worker's insight to the sums. */
static void pool_insight_add(nicely_insights_t *sum,
			     const nicely_worker_insight_t *o)
{
	sum->start_up += o->start_up;
	sum->init += o->init;
	sum->waiting += o->waiting;
	sum->working += o->working;
	sum->exit += o->exit;
	sum->tasks += o->tasks;
}

/* A worker was reaped: fold it in. */
void pool_insight_worker_done(nicely_pool *p, int slot)
{
	nicely_worker_insight_t o;
	uint64_t end = p->w[slot].exit_ns ? p->w[slot].exit_ns : worker_now_ns();

	if (!p->w[slot].spawn_ns)
		return;
	pool_insight_of(p, slot, end, &o);
	pool_insight_add(&p->ins_done, &o);
	if (!p->ins_keep &&
	    !(p->ins_keep = calloc(POOL_INSIGHT_KEEP, sizeof *p->ins_keep)))
		return;
	p->ins_keep[p->ins_next++ % POOL_INSIGHT_KEEP] = o;
}

/* A task finished in wall seconds: keep it if among the longest. */
void pool_insight_task(nicely_pool *p, int64_t id, double wall)
{
	int n = p->ins_done.nlongest, k;

	if (n == NICELY_INSIGHTS_LONGEST &&
	    wall <= p->ins_done.longest_wall[n - 1])
		return;
	if (n < NICELY_INSIGHTS_LONGEST)
		n = ++p->ins_done.nlongest;
	for (k = n - 1; k > 0 && p->ins_done.longest_wall[k - 1] < wall; k--) {
		p->ins_done.longest_wall[k] = p->ins_done.longest_wall[k - 1];
		p->ins_done.longest_id[k] = p->ins_done.longest_id[k - 1];
	}
	p->ins_done.longest_wall[k] = wall;
	p->ins_done.longest_id[k] = id;
}

/* Forget everything (nicely_reset, free). */
void pool_insight_forget(nicely_pool *p)
{
	free(p->ins_keep);
	free(p->ins_list);
	p->ins_keep = p->ins_list = NULL;
	p->ins_next = 0;
	memset(&p->ins_done, 0, sizeof p->ins_done);
}

/* The pool's insights. */
int nicely_insights(nicely_pool *p, nicely_insights_t *out)
{
	size_t kept, n = 0;
	uint64_t now = worker_now_ns();

	if (!p || !out)
		return NICELY_EINVAL;
	kept = p->ins_next < POOL_INSIGHT_KEEP ? p->ins_next
					       : POOL_INSIGHT_KEEP;
	free(p->ins_list);
	p->ins_list = calloc(kept + (size_t)p->nw + 1, sizeof *p->ins_list);
	if (!p->ins_list)
		return NICELY_ENOMEM;
	*out = p->ins_done;
	/* exited ones, oldest first */
	for (size_t k = 0; k < kept; k++)
		p->ins_list[n++] = p->ins_keep[(p->ins_next - kept + k) %
					       POOL_INSIGHT_KEEP];
	for (int i = 0; i < p->nw; i++) {
		nicely_worker_insight_t *o = &p->ins_list[n];

		if (p->w[i].st == PW_FREE || !p->w[i].spawn_ns)
			continue;
		pool_insight_of(p, i, now, o);
		o->alive = 1;
		pool_insight_add(out, o);
		n++;
	}
	out->workers = p->started;
	out->nlisted = n;
	out->worker = p->ins_list;
	return 0;
}

/* The insights as text. */
size_t nicely_insights_format(const nicely_insights_t *in, char *buf,
			      size_t len)
{
	size_t at = 0;
	double all = in->start_up + in->init + in->waiting + in->working +
		     in->exit;
	int r;

#define PUT(...)                                                               \
	do {                                                                   \
		r = snprintf(buf + at, at < len ? len - at : 0, __VA_ARGS__);  \
		if (r > 0)                                                     \
			at += (size_t)r;                                       \
	} while (0)
#define PCT(x) (all > 0 ? 100.0 * (x) / all : 0.0)
	if (!buf || !len)
		return 0;
	buf[0] = 0;
	PUT("%lld tasks on %lld workers; worker time %.3f s:\n",
	    (long long)in->tasks, (long long)in->workers, all);
	PUT("  start-up %.3f s (%.1f%%), init %.3f s (%.1f%%), waiting %.3f s "
	    "(%.1f%%), working %.3f s (%.1f%%), exit %.3f s (%.1f%%)\n",
	    in->start_up, PCT(in->start_up), in->init, PCT(in->init),
	    in->waiting, PCT(in->waiting), in->working, PCT(in->working),
	    in->exit, PCT(in->exit));
	if (in->tasks > 0)
		PUT("  mean task %.6f s\n", in->working / (double)in->tasks);
	for (int i = 0; i < in->nlongest; i++)
		PUT("  longest %d: task %lld, %.6f s\n", i + 1,
		    (long long)in->longest_id[i], in->longest_wall[i]);
#undef PCT
#undef PUT
	return at < len ? at : len - 1;
}
