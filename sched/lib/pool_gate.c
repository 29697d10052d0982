/* sched/lib/pool_gate: libnicely's adapter over the shared gate
 * (sched/gate.c). Reads the configuration for the pool (the library's
 * max_workers and nice as flags, clamped by the admin's [limits]), turns
 * pool.c's worker slots into the gate's workers and the gate's answer
 * into Linux CPUs and slot actions, its notes into log levels. Called by
 * pool.c in the pool's owner thread, once per tick. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/config.h"
#include "sched/gate.h"
#include "sched/lib/pool_gate.h"
#include "nicely.h"

struct pool_gate {
	struct pool_gate_opts o;
	struct gate *gate;
	char warn[512];
	size_t queued;			/* tasks really waiting */
	size_t maxw;			/* room in gw / acts */
	struct gate_worker *gw;
	struct pool_gate_action *acts;
};

/* Read the config files and resolve the preset (into *p) and the
 * per-user limit (into *ul, which points into *cfg: free *cfg after use,
 * also on error). */
static int pool_gate_load(const struct pool_gate_opts *o,
			  struct policy_config **cfg, struct policy_preset *p,
			  struct policy_user_limit *ul, char *warn,
			  size_t warnlen, char *err, size_t errlen)
{
	struct policy_config_opts co = { 0 };
	struct policy_flags fl = POLICY_FLAGS_INIT;
	int rc;

	*cfg = NULL;
	co.extra_file = o->config_file;
	if ((rc = policy_config_load(cfg, &co, err, errlen)) < 0)
		return rc;
	fl.preset = o->preset;
	fl.jobs = o->max_workers;
	fl.nice = o->nice;
	fl.insist = 0;		/* a library clamps to [limits] and warns */
	warn[0] = 0;
	rc = policy_config_resolve(*cfg, &fl, p, warn, warnlen, err, errlen);
	policy_config_user_limit(*cfg, ul);
	return rc;
}

/* Config, then the gate with a topology and sampler of its own. */
int pool_gate_new(struct pool_gate **out, const struct pool_gate_opts *o,
		  char *err, size_t errlen)
{
	struct pool_gate *g = calloc(1, sizeof *g);
	struct gate_opts go = { 0 };
	struct policy_config *cfg = NULL;
	struct policy_preset p;
	struct policy_user_limit ul;
	int rc;

	*out = NULL;
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	g->o = *o;
	rc = pool_gate_load(o, &cfg, &p, &ul, g->warn, sizeof g->warn, err,
			    errlen);
	if (rc >= 0) {
		go.preset = &p;
		go.user_limit = &ul;
		go.max_workers = o->max_workers;
		go.words = (struct gate_words){ "workers", "this pool",
						"the pool" };
		rc = gate_new(&g->gate, &go, err, errlen);
	}
	policy_config_free(cfg);
	if (rc < 0)
		goto fail;
	g->maxw = 2 * (size_t)gate_cap(g->gate) + 1;
	g->gw = calloc(g->maxw, sizeof *g->gw);
	g->acts = calloc(g->maxw, sizeof *g->acts);
	if (!g->gw || !g->acts) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	*out = g;
	return 0;
fail:
	pool_gate_free(g);
	return rc;
}

/* Parse options.cpus ("0-3,8") into set: every CPU must be one this
 * thread may use. 0, or -EINVAL with err saying what is wrong where. */
int pool_gate_cpus(const char *list, cpu_set_t *set, char *err, size_t errlen)
{
	cpu_set_t may;
	const char *s = list;

	CPU_ZERO(set);
	if (sched_getaffinity(0, sizeof may, &may))
		CPU_ZERO(&may);
	while (*s) {
		char *end;
		long a, b;

		if (*s < '0' || *s > '9')
			goto bad;
		a = strtol(s, &end, 10);
		b = a;
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				goto bad;
			b = strtol(end + 1, &end, 10);
		}
		if (a > b || b >= CPU_SETSIZE) {
			snprintf(err, errlen, "options.cpus \"%s\": bad range "
				 "%.*s (want N or N-M, N <= M < %d)", list,
				 (int)(end - s), s, CPU_SETSIZE);
			return -EINVAL;
		}
		for (long c = a; c <= b; c++) {
			if (!CPU_ISSET((int)c, &may)) {
				snprintf(err, errlen, "options.cpus \"%s\": CPU "
					 "%ld is not one this process may use "
					 "(its affinity and cpuset)", list, c);
				return -EINVAL;
			}
			CPU_SET((int)c, set);
		}
		s = end;
		if (*s == ',' && s[1])
			s++;
		else if (*s)
			goto bad;
	}
	if (!CPU_COUNT(set)) {
		snprintf(err, errlen, "options.cpus \"%s\": no CPU (want a "
			 "list like 0-3,8)", list);
		return -EINVAL;
	}
	return 0;
bad:
	snprintf(err, errlen, "options.cpus \"%s\": bad list at \"%s\" "
		 "(want a list like 0-3,8)", list, s);
	return -EINVAL;
}

/* Free the adapter and its gate. */
void pool_gate_free(struct pool_gate *g)
{
	if (!g)
		return;
	gate_free(g->gate);
	free(g->gw);
	free(g->acts);
	free(g);
}

/* Re-read the configuration; the old preset stays on error. */
int pool_gate_reload(struct pool_gate *g, char *err, size_t errlen)
{
	struct policy_config *cfg;
	struct policy_preset p;
	struct policy_user_limit ul;
	char warn[512];
	int rc = pool_gate_load(&g->o, &cfg, &p, &ul, warn, sizeof warn, err,
				errlen);

	if (rc < 0) {
		/* reset retired every worker: the pool holds nothing now */
		gate_hold(g->gate, 0);
	} else {
		gate_reload(g->gate, &p, &ul);
		snprintf(g->warn, sizeof g->warn, "%s", warn);
	}
	policy_config_free(cfg);
	return rc < 0 ? rc : 0;
}

/* Most workers at once. */
int pool_gate_cap(const struct pool_gate *g)
{
	return gate_cap(g->gate);
}

/* The preset's sampling tick. */
int pool_gate_interval_ms(const struct pool_gate *g)
{
	return gate_interval_ms(g->gate);
}

/* /proc/stat deltas need ~100 ms to mean something. */
int pool_gate_warmup_ms(const struct pool_gate *g)
{
	return gate_preset(g->gate)->ignore_others ? 0 : 100;
}

/* The resolved preset. */
const struct policy_preset *pool_gate_preset(const struct pool_gate *g)
{
	return gate_preset(g->gate);
}

/* The clamp warning of the last resolve, or "". */
const char *pool_gate_warning(const struct pool_gate *g)
{
	return g->warn;
}

/* Charge by the batch cgroup. */
int pool_gate_set_cgroup(struct pool_gate *g, const struct sched_cgroup *cg)
{
	return gate_set_cgroup(g->gate, cg);
}

/* With nicely-agent. */
void pool_gate_set_agent(struct pool_gate *g, struct agent_client *c)
{
	gate_set_agent(g->gate, c);
}

/* The agent ended the batch? */
int pool_gate_agent_killed(const struct pool_gate *g)
{
	return gate_agent_killed(g->gate);
}

/* Worker slots -> the gate's workers (Linux CPU -> PU index). */
static size_t pool_gate_convert(struct pool_gate *g,
				const struct pool_gate_worker *w, size_t nw)
{
	if (nw > g->maxw)
		nw = g->maxw;
	for (size_t i = 0; i < nw; i++)
		g->gw[i] = (struct gate_worker){
			w[i].id, w[i].pid, gate_pu_of_cpu(g->gate, w[i].cpu),
			w[i].paused, w[i].in_cgroup };
	return nw;
}

/* A worker started: declare the new set. */
void pool_gate_workers(struct pool_gate *g, const struct pool_gate_worker *w,
		       size_t nw)
{
	gate_workers(g->gate, g->gw, pool_gate_convert(g, w, nw));
}

/* A worker was reaped. */
void pool_gate_worker_exited(struct pool_gate *g, pid_t pid, uint64_t cpu_ns)
{
	gate_worker_exited(g->gate, pid, cpu_ns);
}

/* The tasks really waiting. */
void pool_gate_queued(struct pool_gate *g, size_t queued)
{
	g->queued = queued;
}

/* Tasks finished and submitted so far, for the agent's lease. */
void pool_gate_progress(struct pool_gate *g, long long done, long long total)
{
	gate_progress(g->gate, done, total);
}

/* The gate's next note, as a log level. */
const char *pool_gate_note(struct pool_gate *g, int *level)
{
	enum gate_level l;
	const char *n = gate_note(g->gate, &l);

	if (n)
		*level = l == GATE_WARN ? NICELY_LOG_WARNING : NICELY_LOG_INFO;
	return n;
}

/* Under a working per-user lease? */
int pool_gate_shared(const struct pool_gate *g)
{
	return gate_shared(g->gate);
}

/* Give every PU back. */
void pool_gate_release(struct pool_gate *g)
{
	gate_hold(g->gate, 0);
}

/* One tick of the gate, its answer in the pool's terms. */
int pool_gate_tick(struct pool_gate *g, const struct pool_gate_worker *w,
		   size_t nw, size_t queued, struct pool_gate_answer *ans,
		   char *err, size_t errlen)
{
	struct gate_answer a;
	size_t n = pool_gate_convert(g, w, nw), na = 0;
	int rc;

	memset(ans, 0, sizeof *ans);
	if ((rc = gate_tick(g->gate, g->gw, n, queued, g->queued,
			    &a, err, errlen)) < 0)
		return rc;
	for (size_t i = 0; i < a.nactions && na < g->maxw; i++) {
		const struct gate_action *x = &a.actions[i];

		g->acts[na++] = (struct pool_gate_action){
			x->kind == GATE_MOVE	  ? POOL_GATE_MOVE
			: x->kind == GATE_PAUSE	  ? POOL_GATE_PAUSE
			: x->kind == GATE_RESUME ? POOL_GATE_RESUME
						  : POOL_GATE_STOP,
			x->id, x->cpu };
	}
	ans->nstart = a.nstart;
	ans->cpus = a.cpus;
	ans->nice = a.nice;
	ans->actions = g->acts;
	ans->nactions = na;
	ans->reason = a.reason;
	return 0;
}
