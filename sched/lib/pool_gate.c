/* sched/pool_gate: how many workers a libnicely pool may run, and where.
 * The same chain as the CLI: agent/ topology and sampler give a snapshot,
 * policy/ config gives the preset (with the library's max_workers and nice
 * as flags, clamped by the admin's [limits]) and policy_decide answers.
 * Under the admin's per-user [limits] max_pus the pool takes its share
 * through the user's lease file (sched/lease.c), like `nicely run`.
 * Called by pool.c in the pool's owner thread, once per tick. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/sampler.h"
#include "agent/topology.h"
#include "policy/config.h"
#include "policy/decide.h"
#include "sched/cgroup.h"
#include "sched/lease.h"
#include "sched/lib/pool_gate.h"
#include "nicely.h"

struct pool_gate {
	struct pool_gate_opts o;
	struct agent_topology *topo;
	struct agent_sampler *smp;
	struct policy_preset preset;
	struct policy_state *st;
	struct policy_decision *dec;
	char warn[512];
	int npus, nallowed, cap;
	int *cpus;			/* answer: Linux CPU per start */
	struct policy_worker *pw;	/* decide's view of our workers */
	struct agent_worker_ref *refs;	/* the sampler's view */
	struct pool_gate_action *acts;
	size_t maxw;			/* room in pw / refs / acts */
	struct policy_user_limit ulim;	/* [limits] max_pus per user */
	char ulim_at[PATH_MAX + 16];	/* where it was set */
	int ulimit;			/* ... as PUs here, 0 = none */
	struct sched_lease *lease;	/* opened at the first tick */
	int lease_failed;		/* it could not be opened: said once */
	int lease_said;			/* the wait was announced */
	size_t queued;			/* tasks really waiting */
	char warn_note[PATH_MAX + 512];	/* pending notes, "" = none */
	char info_note[PATH_MAX + 256];
	char note_out[PATH_MAX + 512];	/* what pool_gate_note returned */
	int cg_charged;			/* the sampler charges by the batch
					 * cgroup: its workers are not
					 * declared by PID */
};

/* Read the config files and resolve the preset into g->preset. */
static int gate_load(struct pool_gate *g, struct policy_preset *out,
		     struct policy_user_limit *ul, char *ul_at, size_t ul_atlen,
		     char *warn, size_t warnlen, char *err, size_t errlen)
{
	struct policy_config_opts co = { 0 };
	struct policy_flags fl = POLICY_FLAGS_INIT;
	struct policy_config *cfg;
	int rc;

	co.extra_file = g->o.config_file;
	if ((rc = policy_config_load(&cfg, &co, err, errlen)) < 0)
		return rc;
	fl.preset = g->o.preset;
	fl.jobs = g->o.max_workers;
	fl.nice = g->o.nice;
	fl.insist = 0;		/* a library clamps to [limits] and warns */
	warn[0] = 0;
	rc = policy_config_resolve(cfg, &fl, out, warn, warnlen, err, errlen);
	policy_config_user_limit(cfg, ul);
	/* the origin points into cfg: keep it as text */
	policy_origin_format(&ul->origin, ul_at, ul_atlen);
	ul->origin.file = NULL;
	policy_config_free(cfg);
	return rc;
}

/* Create the gate: topology, config, sampler, decide's memory. */
int pool_gate_new(struct pool_gate **out, const struct pool_gate_opts *o,
		  char *err, size_t errlen)
{
	struct pool_gate *g = calloc(1, sizeof *g);
	const struct agent_snapshot *snap;
	int rc;

	*out = NULL;
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	g->o = *o;
	if ((rc = gate_load(g, &g->preset, &g->ulim, g->ulim_at,
			    sizeof g->ulim_at, g->warn, sizeof g->warn, err,
			    errlen)) < 0)
		goto fail;
	rc = -EBADMSG;
	if (agent_topology_load(&g->topo, NULL, err, errlen) < 0)
		goto fail;
	g->npus = agent_topology_npus(g->topo);
	g->nallowed = agent_topology_nallowed(g->topo);
	g->ulimit = policy_user_limit_pus(&g->ulim, g->nallowed);
	g->cap = g->nallowed > 0 ? g->nallowed : 1;
	if (g->o.max_workers > 0 &&
	    (g->o.max_workers < g->cap || g->preset.ignore_others))
		g->cap = g->o.max_workers;
	if (agent_sampler_new(&g->smp, g->topo, NULL, err, errlen) < 0)
		goto fail;
	g->maxw = 2 * (size_t)g->cap + 1;
	g->st = policy_state_new(g->npus);
	g->dec = policy_decision_new(g->npus, g->maxw);
	g->cpus = calloc((size_t)g->cap + (size_t)g->npus, sizeof *g->cpus);
	g->pw = calloc(g->maxw, sizeof *g->pw);
	g->refs = calloc(g->maxw, sizeof *g->refs);
	g->acts = calloc(g->maxw, sizeof *g->acts);
	if (!g->st || !g->dec || !g->cpus || !g->pw || !g->refs || !g->acts) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	/* the first sample has no deltas; take it now so the first tick
	 * already sees the load since pool creation */
	if (agent_sampler_sample(g->smp, 0, &snap, err, errlen) < 0)
		goto fail;
	*out = g;
	return 0;
fail:
	pool_gate_free(g);
	return rc;
}

/* Free the gate. */
void pool_gate_free(struct pool_gate *g)
{
	if (!g)
		return;
	lease_close(g->lease);
	agent_sampler_free(g->smp);
	agent_topology_free(g->topo);
	policy_state_free(g->st);
	policy_decision_free(g->dec);
	free(g->cpus);
	free(g->pw);
	free(g->refs);
	free(g->acts);
	free(g);
}

/* Re-read the configuration; the old preset stays on error. */
int pool_gate_reload(struct pool_gate *g, char *err, size_t errlen)
{
	struct policy_preset p;
	struct policy_user_limit ul;
	char warn[512], lerr[256], at[sizeof g->ulim_at];
	int rc = gate_load(g, &p, &ul, at, sizeof at, warn, sizeof warn, err,
			   errlen);

	/* reset retired every worker: the pool holds nothing now */
	if (g->lease)
		lease_set(g->lease, 0, lerr, sizeof lerr);
	if (rc < 0)
		return rc;
	g->ulim = ul;
	snprintf(g->ulim_at, sizeof g->ulim_at, "%s", at);
	if (policy_user_limit_pus(&ul, g->nallowed) != g->ulimit) {
		lease_close(g->lease);	/* reopened with the new limit */
		g->lease = NULL;
		g->lease_failed = 0;
		g->ulimit = policy_user_limit_pus(&ul, g->nallowed);
	}
	g->lease_said = 0;
	g->preset = p;
	snprintf(g->warn, sizeof g->warn, "%s", warn);
	return 0;
}

/* Most workers at once. */
int pool_gate_cap(const struct pool_gate *g)
{
	return g->cap;
}

/* The preset's sampling tick. */
int pool_gate_interval_ms(const struct pool_gate *g)
{
	return g->preset.interval_ms > 0 ? g->preset.interval_ms : 100;
}

/* /proc/stat deltas need ~100 ms to mean something. */
int pool_gate_warmup_ms(const struct pool_gate *g)
{
	return g->preset.ignore_others ? 0 : 100;
}

/* The resolved preset. */
const struct policy_preset *pool_gate_preset(const struct pool_gate *g)
{
	return &g->preset;
}

/* The clamp warning of the last resolve, or "". */
const char *pool_gate_warning(const struct pool_gate *g)
{
	return g->warn;
}

/* Charge by the batch cgroup; see pool_gate.h. */
int pool_gate_set_cgroup(struct pool_gate *g, const struct sched_cgroup *cg)
{
	char path[4096];
	int rc;

	g->cg_charged = 0;
	if (!cg) {
		agent_sampler_set_cgroup(g->smp, NULL);
		return 0;
	}
	if (!sched_cgroup_batch_cpu_path(cg, path, sizeof path))
		return -ENAMETOOLONG;
	rc = agent_sampler_set_cgroup(g->smp, path);
	g->cg_charged = rc == 0;
	return rc;
}

/* Declare our workers to the sampler (by PID only those outside the
 * charged cgroup); fills g->pw, the policy's view of every worker, too. */
static void gate_declare(struct pool_gate *g, const struct pool_gate_worker *w,
			 size_t nw)
{
	size_t nref = 0;

	for (size_t i = 0; i < nw; i++) {
		int pu = w[i].cpu >= 0 ? agent_topology_pu_of_os(g->topo, w[i].cpu)
				       : -1;

		g->pw[i] = (struct policy_worker){ w[i].id, pu, w[i].paused };
		if (w[i].pid > 0 && !(g->cg_charged && w[i].in_cgroup))
			g->refs[nref++] = (struct agent_worker_ref){ w[i].pid, pu };
	}
	agent_sampler_set_workers(g->smp, g->refs, nref);
}

/* A worker started: declare the new set. */
void pool_gate_workers(struct pool_gate *g, const struct pool_gate_worker *w,
		       size_t nw)
{
	gate_declare(g, w, nw < g->maxw ? nw : g->maxw);
}

/* A worker was reaped: hand its last CPU time to the sampler. */
void pool_gate_worker_exited(struct pool_gate *g, pid_t pid, uint64_t cpu_ns)
{
	agent_sampler_worker_exited(g->smp, pid, cpu_ns);
}

/* The tasks really waiting. */
void pool_gate_queued(struct pool_gate *g, size_t queued)
{
	g->queued = queued;
}

/* The next pending note, warnings first. */
const char *pool_gate_note(struct pool_gate *g, int *level)
{
	char *out = g->note_out;
	size_t outlen = sizeof g->note_out;

	if (g->lease) {
		const char *n = lease_note(g->lease);

		if (n && !g->warn_note[0])
			snprintf(g->warn_note, sizeof g->warn_note, "%s", n);
	}
	if (g->warn_note[0]) {
		*level = NICELY_LOG_WARNING;
		snprintf(out, outlen, "%s", g->warn_note);
		g->warn_note[0] = 0;
		return out;
	}
	if (g->info_note[0]) {
		*level = NICELY_LOG_INFO;
		snprintf(out, outlen, "%s", g->info_note);
		g->info_note[0] = 0;
		return out;
	}
	return NULL;
}

/* Open the lease file at the first tick under a per-user limit (after the
 * fork server exists, which then never holds its fd). */
static void gate_lease_open(struct pool_gate *g)
{
	struct lease_opts lo = LEASE_OPTS_INIT;
	char err[PATH_MAX + 128];

	if (g->lease || g->lease_failed || g->ulimit <= 0)
		return;
	lo.limit = g->ulimit;
	if (lease_open(&g->lease, &lo, err, sizeof err) < 0) {
		g->lease = NULL;
		g->lease_failed = 1;
		snprintf(g->warn_note, sizeof g->warn_note,
			 "per-user limit max_pus = %d cannot be shared with your "
			 "other batches (%s); this pool keeps to it on its own",
			 g->ulimit, err);
	}
}

/* A lease error worth one warning (a busy lock is not). */
static void gate_lease_error(struct pool_gate *g, int e, const char *err)
{
	if (e < 0 && e != -EAGAIN && !g->warn_note[0])
		snprintf(g->warn_note, sizeof g->warn_note, "per-user limit: %s",
			 err);
}

/* Under a working per-user lease? */
int pool_gate_shared(const struct pool_gate *g)
{
	return g->lease != NULL;
}

/* Give every PU back. */
void pool_gate_release(struct pool_gate *g)
{
	char err[PATH_MAX + 128];

	if (g->lease && lease_held(g->lease) > 0)
		gate_lease_error(g, lease_set(g->lease, 0, err, sizeof err), err);
}

/* Sample, decide, and translate PU indices into Linux CPUs. */
int pool_gate_tick(struct pool_gate *g, const struct pool_gate_worker *w,
		   size_t nw, size_t queued, struct pool_gate_answer *ans,
		   char *err, size_t errlen)
{
	const struct agent_pu *pus = agent_topology_pus(g->topo);
	const struct agent_snapshot *snap;
	struct policy_input in = { 0 };
	size_t na = 0;
	int rc;

	memset(ans, 0, sizeof *ans);
	if (nw > g->maxw)
		nw = g->maxw;
	gate_declare(g, w, nw);
	if ((rc = agent_sampler_sample(g->smp, 0, &snap, err, errlen)) < 0)
		return rc;
	in.snap = snap;
	in.pus = pus;
	in.preset = &g->preset;
	in.running = g->pw;
	in.nrunning = nw;
	in.queued = queued;
	gate_lease_open(g);
	int leased = 0;

	if (g->lease) {
		char lerr[PATH_MAX + 128];
		int room, e = lease_begin(g->lease, &room, lerr, sizeof lerr);

		gate_lease_error(g, e, lerr);
		in.user_capped = 1;
		/* lock busy or file unreadable: no growth this tick */
		in.user_cap = e == 0 ? room : (int)nw;
		leased = e == 0;
	}
	policy_decide(&in, g->st, g->dec);
	ans->nstart = g->dec->nstart;
	/* under the per-user limit, grant only what the queue needs: the
	 * grant is what the pool holds until the next tick */
	if (in.user_capped && (size_t)ans->nstart > g->queued)
		ans->nstart = (int)g->queued;
	/* a synthetic or XML topology is not this machine: do not pin */
	for (int i = 0; i < ans->nstart; i++)
		g->cpus[i] = agent_topology_is_thissystem(g->topo)
				     ? pus[g->dec->start_pus[i]].os_index
				     : -1;
	/* nuclear with more workers asked than CPUs: the rest run unpinned */
	if (g->preset.ignore_others && g->cap > g->nallowed) {
		int extra = g->cap - (int)nw - ans->nstart;

		if (in.user_capped) {
			int left = in.user_cap - (int)nw - ans->nstart;
			int need = (int)g->queued - ans->nstart;

			if (extra > left)
				extra = left;
			if (extra > need)
				extra = need;
		}

		for (; extra > 0 && ans->nstart < g->cap + g->npus; extra--)
			g->cpus[ans->nstart++] = -1;
	}
	for (size_t i = 0; i < g->dec->nactions && na < g->maxw; i++) {
		const struct policy_action *a = &g->dec->actions[i];
		struct pool_gate_action *b = &g->acts[na++];

		b->id = a->id;
		b->cpu = a->pu >= 0 && a->pu < g->npus &&
				 agent_topology_is_thissystem(g->topo)
			 ? pus[a->pu].os_index
			 : -1;
		b->kind = a->kind == POLICY_MOVE     ? POOL_GATE_MOVE
			  : a->kind == POLICY_PAUSE  ? POOL_GATE_PAUSE
			  : a->kind == POLICY_RESUME ? POOL_GATE_RESUME
						     : POOL_GATE_STOP;
	}
	if (leased) {
		char lerr[PATH_MAX + 128];
		int hold = (int)nw + ans->nstart;

		if (hold > g->cap)
			hold = g->cap;
		gate_lease_error(g, lease_commit(g->lease, hold, lerr, sizeof lerr),
				 lerr);
		if (!g->lease_said && lease_others(g->lease) > 0 &&
		    !strcmp(g->dec->reason, POLICY_REASON_USER_LIMIT)) {
			snprintf(g->info_note, sizeof g->info_note,
				 "per-user limit: your other nicely batches hold "
				 "%d of the %d PUs you may use at once ([limits] "
				 "max_pus set at %s); %s",
				 lease_others(g->lease), lease_limit(g->lease),
				 g->ulim_at,
				 hold ? "more workers start as they give PUs back"
				      : "the pool waits until they give PUs back");
			g->lease_said = 1;
		}
	}
	ans->cpus = g->cpus;
	ans->nice = g->dec->nice;
	ans->actions = g->acts;
	ans->nactions = na;
	ans->reason = g->dec->reason;
	return 0;
}
