/* sched/pool_gate: how many workers a libnicely pool may run. This version
 * caps workers at max_workers (or the CPUs this process may use) and does
 * not pin; it is replaced by the agent/policy gate when those land. Called
 * from pool.c in the owner thread. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/pool_gate.h"

struct pool_gate {
	struct pool_gate_opts o;
	int cap;
	int *cpus;
};

/* CPUs this process may run on. */
static int gate_ncpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof set, &set))
		return 1;
	return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
}

/* Create the gate. */
int pool_gate_new(struct pool_gate **out, const struct pool_gate_opts *o,
		  char *err, size_t errlen)
{
	struct pool_gate *g = calloc(1, sizeof *g);

	*out = NULL;
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	g->o = *o;
	g->cap = o->max_workers > 0 ? o->max_workers : gate_ncpus();
	g->cpus = calloc((size_t)g->cap, sizeof *g->cpus);
	if (!g->cpus) {
		free(g);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < g->cap; i++)
		g->cpus[i] = -1;
	*out = g;
	return 0;
}

/* Free the gate. */
void pool_gate_free(struct pool_gate *g)
{
	if (!g)
		return;
	free(g->cpus);
	free(g);
}

/* Nothing to re-read in the capped gate. */
int pool_gate_reload(struct pool_gate *g, char *err, size_t errlen)
{
	(void)g;
	(void)err;
	(void)errlen;
	return 0;
}

/* The cap. */
int pool_gate_cap(const struct pool_gate *g)
{
	return g->cap;
}

/* The capped gate needs no ticks beyond the pool's own events. */
int pool_gate_interval_ms(const struct pool_gate *g)
{
	(void)g;
	return 1000;
}

/* No warnings. */
const char *pool_gate_warning(const struct pool_gate *g)
{
	(void)g;
	return "";
}

/* Up to the cap, unpinned. */
int pool_gate_tick(struct pool_gate *g, const struct pool_gate_worker *w,
		   size_t nw, size_t queued, struct pool_gate_answer *ans,
		   char *err, size_t errlen)
{
	(void)w;
	(void)err;
	(void)errlen;
	memset(ans, 0, sizeof *ans);
	ans->nstart = (int)nw < g->cap ? g->cap - (int)nw : 0;
	if ((size_t)ans->nstart > queued)
		ans->nstart = (int)queued;
	ans->cpus = g->cpus;
	ans->nice = g->o.nice >= 0 ? g->o.nice : 0;
	ans->reason = ans->nstart ? "" : "max_workers reached";
	return 0;
}
