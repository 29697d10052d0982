/* sched/gate: one tick of load-aware gating for any face. Holds the
 * topology and sampler (the caller's or its own), the preset, decide's
 * memory, the per-user lease and the notes to say once. Called in the
 * face's owner thread: by sched/cli/run_engine.c for `nicely run`, by
 * sched/lib/pool_gate.c for libnicely; never in a child after fork. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/sampler.h"
#include "agent/topology.h"
#include "policy/config.h"
#include "policy/decide.h"
#include "sched/agent_client.h"
#include "sched/cgroup.h"
#include "sched/gate.h"
#include "sched/lease.h"

#define GATE_NOTES 4		/* notes pending at once; more are dropped */
#define GATE_NOTE_LEN (PATH_MAX + 512)

struct gate_note_slot {
	enum gate_level level;
	char text[GATE_NOTE_LEN];
};

struct gate {
	struct gate_words words;
	const struct agent_topology *topo;
	struct agent_topology *own_topo;	/* made here: freed here */
	struct agent_sampler *smp;
	int own_smp;			/* made here: freed here */
	const struct agent_pu *pus;
	int npus, nallowed, cap, pin;
	struct policy_preset preset;
	struct policy_state *st;
	struct policy_decision *dec;
	int *pus_out, *cpus_out;	/* answer: PU and Linux CPU per start */
	struct policy_worker *pw;	/* decide's view of our workers */
	struct agent_worker_ref *refs;	/* the sampler's view */
	struct gate_action *acts;
	size_t maxw;			/* room in pw / refs / acts */
	unsigned char *pu_ok;		/* free at the last sample */
	int cg_charged;			/* the sampler charges by the batch
					 * cgroup: its workers are not
					 * declared by PID */
	/* the per-user [limits] max_pus */
	int ulimit;			/* as PUs here, 0 = none */
	char ulim_at[PATH_MAX + 16];	/* where it was set */
	struct sched_lease *lease;	/* NULL: none (yet) */
	int lease_failed;		/* it could not be opened: said once */
	int lease_err_said;		/* a lease error was said */
	int lease_said;			/* the wait was announced */
	/* nicely-agent: leases and the snapshot from it while it answers */
	struct agent_client *agent;	/* the face's; NULL: none */
	int agent_gone_said;		/* its going away was said */
	uint64_t agent_retry_ms;	/* next reconnect, monotonic */
	int agent_killed, agent_leased, agent_snap;
	size_t agent_nw;	/* workers (in pw) of the last decide's lease */
	long long done, total;
	struct agent_snapshot asnap;	/* the agent's, as read */
	unsigned char *taken;		/* by PU: POLICY_TAKEN / _YIELD, as
					 * the last lease said */
	int *held_cpus;			/* the lease's "pus" */
	/* notes, oldest first */
	struct gate_note_slot notes[GATE_NOTES];
	int nnotes;
	char note_out[GATE_NOTE_LEN];
	char why[GATE_REASON_MAX];	/* gate_reason: the last decide's */
	unsigned char *ours;		/* gate_explain's scratch, by PU */
};

/* Queue a note for the face. */
__attribute__((format(printf, 3, 4)))
static void gate_say(struct gate *g, enum gate_level level, const char *fmt,
		     ...)
{
	va_list ap;

	if (g->nnotes >= GATE_NOTES)
		return;
	g->notes[g->nnotes].level = level;
	va_start(ap, fmt);
	vsnprintf(g->notes[g->nnotes].text, GATE_NOTE_LEN, fmt, ap);
	va_end(ap);
	g->nnotes++;
}

/* The next note, oldest first. */
const char *gate_note(struct gate *g, enum gate_level *level)
{
	if (!g->nnotes)
		return NULL;
	*level = g->notes[0].level;
	memcpy(g->note_out, g->notes[0].text, sizeof g->note_out);
	memmove(&g->notes[0], &g->notes[1],
		(size_t)(g->nnotes - 1) * sizeof g->notes[0]);
	g->nnotes--;
	return g->note_out;
}

/* Take the per-user limit: as PUs here, and where it was set as text
 * (the origin points into a config the caller may free). */
static void gate_take_limit(struct gate *g, const struct policy_user_limit *ul)
{
	g->ulimit = ul ? policy_user_limit_pus(ul, g->nallowed) : 0;
	g->ulim_at[0] = 0;
	if (ul)
		policy_origin_format(&ul->origin, g->ulim_at, sizeof g->ulim_at);
}

/* Make the gate. */
int gate_new(struct gate **out, const struct gate_opts *o, char *err,
	     size_t errlen)
{
	struct gate *g = calloc(1, sizeof *g);
	const struct agent_snapshot *snap;
	int rc = -EBADMSG;

	*out = NULL;
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	g->words = o->words;
	g->preset = *o->preset;
	g->topo = o->topo;
	if (!g->topo) {
		if (agent_topology_load(&g->own_topo, NULL, err, errlen) < 0)
			goto fail;
		g->topo = g->own_topo;
	}
	g->pus = agent_topology_pus(g->topo);
	g->npus = agent_topology_npus(g->topo);
	g->nallowed = agent_topology_nallowed(g->topo);
	g->pin = agent_topology_is_thissystem(g->topo);
	gate_take_limit(g, o->user_limit);
	g->cap = g->nallowed > 0 ? g->nallowed : 1;
	if (o->max_workers > 0 &&
	    (o->max_workers < g->cap || g->preset.ignore_others))
		g->cap = o->max_workers;
	g->smp = o->sampler;
	if (!g->smp) {
		if (agent_sampler_new(&g->smp, g->topo, NULL, err, errlen) < 0)
			goto fail;
		g->own_smp = 1;
	}
	g->maxw = o->max_declared ? o->max_declared : 2 * (size_t)g->cap + 1;
	g->st = policy_state_new(g->npus);
	g->dec = policy_decision_new(g->npus, g->maxw);
	g->pus_out = calloc((size_t)g->cap + (size_t)g->npus, sizeof(int));
	g->cpus_out = calloc((size_t)g->cap + (size_t)g->npus, sizeof(int));
	g->pw = calloc(g->maxw, sizeof *g->pw);
	g->refs = calloc(g->maxw, sizeof *g->refs);
	g->acts = calloc(g->maxw, sizeof *g->acts);
	g->pu_ok = calloc((size_t)(g->npus > 0 ? g->npus : 1), 1);
	g->asnap.pu = calloc((size_t)(g->npus > 0 ? g->npus : 1),
			     sizeof *g->asnap.pu);
	g->taken = calloc((size_t)(g->npus > 0 ? g->npus : 1), 1);
	g->held_cpus = calloc((size_t)(g->npus > 0 ? g->npus : 1),
			      sizeof *g->held_cpus);
	g->ours = calloc((size_t)(g->npus > 0 ? g->npus : 1), 1);
	g->total = -1;
	if (!g->asnap.pu || !g->taken || !g->held_cpus || !g->ours ||
	    !g->st || !g->dec ||
	    !g->pus_out || !g->cpus_out || !g->pw || !g->refs || !g->acts ||
	    !g->pu_ok) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	/* the first sample has no deltas; with a sampler of its own take it
	 * now so the first tick already sees the load since creation */
	if (g->own_smp &&
	    agent_sampler_sample(g->smp, 0, &snap, err, errlen) < 0)
		goto fail;
	*out = g;
	return 0;
fail:
	gate_free(g);
	return rc;
}

/* Free the gate. */
void gate_free(struct gate *g)
{
	if (!g)
		return;
	lease_close(g->lease);
	if (g->own_smp)
		agent_sampler_free(g->smp);
	else if (g->cg_charged)
		agent_sampler_set_cgroup(g->smp, NULL);
	agent_topology_free(g->own_topo);
	policy_state_free(g->st);
	policy_decision_free(g->dec);
	free(g->pus_out);
	free(g->cpus_out);
	free(g->pw);
	free(g->refs);
	free(g->acts);
	free(g->pu_ok);
	free(g->asnap.pu);
	free(g->taken);
	free(g->held_cpus);
	free(g->ours);
	free(g);
}

/* A reset: new preset and limit; nothing is held now. */
void gate_reload(struct gate *g, const struct policy_preset *preset,
		 const struct policy_user_limit *user_limit)
{
	int old = g->ulimit;

	gate_hold(g, 0);
	g->preset = *preset;
	gate_take_limit(g, user_limit);
	if (g->ulimit != old) {
		lease_close(g->lease);	/* reopened with the new limit */
		g->lease = NULL;
		g->lease_failed = 0;
	}
	g->lease_said = g->lease_err_said = 0;
}

/* The preset in force. */
const struct policy_preset *gate_preset(const struct gate *g)
{
	return &g->preset;
}

/* The topology. */
const struct agent_topology *gate_topology(const struct gate *g)
{
	return g->topo;
}

/* Most workers at once. */
int gate_cap(const struct gate *g)
{
	return g->cap;
}

/* The preset's sampling tick. */
int gate_interval_ms(const struct gate *g)
{
	return g->preset.interval_ms > 0 ? g->preset.interval_ms : 100;
}

/* This machine's topology? */
int gate_pins(const struct gate *g)
{
	return g->pin;
}

/* Linux CPU -> PU index. */
int gate_pu_of_cpu(const struct gate *g, int cpu)
{
	return cpu >= 0 ? agent_topology_pu_of_os(g->topo, cpu) : -1;
}

/* Free at the last sample? */
int gate_pu_free(const struct gate *g, int pu)
{
	return pu >= 0 && pu < g->npus && g->pu_ok[pu];
}

/* Charge by the batch cgroup; see gate.h. */
int gate_set_cgroup(struct gate *g, const struct sched_cgroup *cg)
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
 * charged cgroup, pinned to a PU only on this machine); fills g->pw,
 * decide's view of every worker, too. */
void gate_workers(struct gate *g, const struct gate_worker *w, size_t nw)
{
	size_t nref = 0;

	if (nw > g->maxw)
		nw = g->maxw;
	for (size_t i = 0; i < nw; i++) {
		g->pw[i] = (struct policy_worker){ w[i].id, w[i].pu,
						   w[i].paused };
		if (w[i].pid > 0 && !(g->cg_charged && w[i].in_cgroup))
			g->refs[nref++] = (struct agent_worker_ref){
				w[i].pid, g->pin ? w[i].pu : -1 };
	}
	agent_sampler_set_workers(g->smp, g->refs, nref);
}

/* A worker was reaped: hand its last CPU time to the sampler. */
void gate_worker_exited(struct gate *g, pid_t pid, uint64_t cpu_ns)
{
	agent_sampler_worker_exited(g->smp, pid, cpu_ns);
}

/* After a lease call: its note, and an error worth one warning (a busy
 * lock is not). */
static void gate_lease_said(struct gate *g, int e, const char *err)
{
	const char *n = g->lease ? lease_note(g->lease) : NULL;

	if (n)
		gate_say(g, GATE_WARN, "%s", n);
	if (e < 0 && e != -EAGAIN && !g->lease_err_said) {
		g->lease_err_said = 1;
		gate_say(g, GATE_WARN, "per-user limit: %s", err);
	}
}

/* Open the lease file under a per-user limit; see gate.h. */
void gate_lease_open(struct gate *g)
{
	struct lease_opts lo = LEASE_OPTS_INIT;
	char err[PATH_MAX + 128];

	if (g->lease || g->lease_failed || g->ulimit <= 0)
		return;
	lo.limit = g->ulimit;
	if (lease_open(&g->lease, &lo, err, sizeof err) < 0) {
		g->lease = NULL;
		g->lease_failed = 1;
		gate_say(g, GATE_WARN, "per-user limit max_pus = %d cannot be "
			 "shared with your other batches (%s); %s keeps to it "
			 "on its own", g->ulimit, err, g->words.self);
	}
}

/* Under a working per-user lease? */
int gate_shared(const struct gate *g)
{
	return g->lease != NULL;
}

/* What the lease file says we hold. */
int gate_held(const struct gate *g)
{
	return g->lease ? lease_held(g->lease) : 0;
}

/* Give back the PUs above `holding`. */
void gate_hold(struct gate *g, int holding)
{
	char err[PATH_MAX + 128];

	if (!g->lease || holding >= lease_held(g->lease))
		return;
	/* (with the agent the next lease says what we hold) */
	gate_lease_said(g, lease_set(g->lease, holding, err, sizeof err), err);
}

/* Declare, then sample. */
int gate_sample(struct gate *g, const struct gate_worker *w, size_t nw,
		const struct agent_snapshot **snap, char *err, size_t errlen)
{
	int rc;

	gate_workers(g, w, nw);
	*snap = NULL;
	if ((rc = agent_sampler_sample(g->smp, 0, snap, err, errlen)) < 0)
		return rc;
	if (!*snap) {
		snprintf(err, errlen, "no snapshot");
		return -EBADMSG;
	}
	/* our own sample is still taken (it keeps its deltas fresh for when
	 * the agent goes away); the agent's is used while fresh */
	g->agent_snap = 0;
	if (g->agent && agent_client_up(g->agent) &&
	    *agent_client_snapshot_path(g->agent)) {
		char serr[PATH_MAX + 128];

		if (agent_client_snapshot_read(agent_client_snapshot_path(
						       g->agent),
					       g->topo, 0, &g->asnap, serr,
					       sizeof serr) == 0) {
			*snap = &g->asnap;
			g->agent_snap = 1;
		}
	}
	return 0;
}

/* Monotonic milliseconds. */
static uint64_t gate_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* With the agent; see gate.h. */
void gate_set_agent(struct gate *g, struct agent_client *c)
{
	g->agent = c;
	g->agent_gone_said = 0;
	g->agent_retry_ms = 0;
	g->agent_leased = g->agent_snap = 0;
}

void gate_progress(struct gate *g, long long done, long long total)
{
	g->done = done;
	g->total = total;
}

int gate_agent_killed(const struct gate *g)
{
	return g->agent_killed;
}

int gate_agent_leased(const struct gate *g)
{
	return g->agent_leased;
}

int gate_agent_snapshot(const struct gate *g)
{
	return g->agent_snap;
}

/* 1 when Linux CPU cpu is in set (by bit). */
static int gate_cpu_in(const uint64_t *set, int cpu)
{
	return cpu >= 0 && cpu < AGENT_CPUS_MAX &&
	       (set[cpu / 64] >> (cpu % 64) & 1);
}

/* Ask the agent for this tick's allowance, saying which PUs our workers
 * (g->pw, nw of them) are on: 1 with *cap and g->taken set, or 0 when it
 * does not answer (said once; then a reconnect and adopt is tried every
 * GATE_AGENT_RETRY_MS, and said when it works). */
static int gate_agent_lease(struct gate *g, size_t nw, size_t need, int *cap)
{
	struct agent_lease_req rq = { 0 };
	struct agent_lease_ans an;
	size_t nheld = 0;
	char err[PATH_MAX + 256];
	uint64_t now;

	if (!g->agent)
		return 0;
	now = gate_now_ms();
	if (!agent_client_up(g->agent)) {
		if (now < g->agent_retry_ms)
			return 0;
		g->agent_retry_ms = now + GATE_AGENT_RETRY_MS;
		if (agent_client_reconnect(g->agent, err, sizeof err) < 0)
			return 0;
		gate_say(g, GATE_INFO, "nicely-agent is back: it took up %s "
			 "again", g->words.self);
		g->agent_gone_said = 0;
		/* the lease file's entry (kept while it was away) goes */
		lease_close(g->lease);
		g->lease = NULL;
		g->lease_failed = 0;
	}
	rq.want = (int)(nw + need);
	if (rq.want > g->cap)
		rq.want = g->cap;
	rq.holding = (int)nw;
	rq.running = (int)nw;
	rq.done = g->done;
	rq.total = g->total;
	/* where our workers are, as Linux CPUs, each once */
	memset(g->taken, 0, (size_t)g->npus);
	for (size_t i = 0; i < nw; i++)
		if (g->pw[i].pu >= 0 && g->pw[i].pu < g->npus)
			g->taken[g->pw[i].pu] = 1;
	for (int p = 0; p < g->npus; p++)
		if (g->taken[p])
			g->held_cpus[nheld++] = g->pus[p].os_index;
	rq.pus = g->held_cpus;
	rq.npus = nheld;
	rq.reason = g->why;	/* the last decide's */
	if (agent_client_lease(g->agent, &rq, &an, err, sizeof err) < 0) {
		if (!g->agent_gone_said)
			gate_say(g, GATE_WARN, "%s; %s goes on without it, "
				 "sampling the machine itself%s, and is taken "
				 "up again when it is back", err,
				 g->words.self,
				 g->ulimit > 0 ? " and sharing [limits] "
						 "max_pus through the lease "
						 "file" : "");
		g->agent_gone_said = 1;
		g->agent_retry_ms = now + GATE_AGENT_RETRY_MS;
		return 0;
	}
	if (an.killed)
		g->agent_killed = 1;
	for (int p = 0; p < g->npus; p++) {
		int cpu = g->pus[p].os_index;

		g->taken[p] = gate_cpu_in(an.yield, cpu)
				      ? POLICY_TAKEN | POLICY_YIELD
			      : gate_cpu_in(an.taken, cpu) ? POLICY_TAKEN
							    : 0;
	}
	*cap = an.grant;
	/* the grant splits the PUs others leave idle; a preset that ignores
	 * others still gets its user's even share of every allowed PU (the
	 * user group's weight is the fence), and one that starts one task
	 * even when nothing is free, that one */
	if (g->preset.ignore_others) {
		int users = an.users > 0 ? an.users : 1;
		int fair = (g->nallowed + users - 1) / users;

		if (*cap < fair)
			*cap = fair;
	}
	if (g->preset.force_one && *cap < 1)
		*cap = 1;
	if (g->agent_killed)
		*cap = 0;
	return 1;
}

int gate_agent_ask(struct gate *g, size_t nholding)
{
	int cap;

	/* the PUs reported are those of the last decide's workers (pw holds
	 * no others), no more of them than live now */
	if (!g->agent_killed && g->agent_leased)
		gate_agent_lease(g, nholding < g->agent_nw ? nholding
							   : g->agent_nw,
				 0, &cap);
	return g->agent_killed;
}

static void gate_explain(struct gate *g, const struct agent_snapshot *snap,
			 size_t nw, size_t need, int nstart, int user_cap);

/* Take the allowance, decide, and translate PU indices into Linux CPUs. */
void gate_decide(struct gate *g, const struct agent_snapshot *snap,
		 const struct gate_worker *w, size_t nw, size_t queued,
		 size_t need, struct gate_answer *ans)
{
	struct policy_input in = { 0 };
	char lerr[PATH_MAX + 128];
	size_t na = 0;
	int leased = 0;

	memset(ans, 0, sizeof *ans);
	if (nw > g->maxw)
		nw = g->maxw;
	for (size_t i = 0; i < nw; i++)
		g->pw[i] = (struct policy_worker){ w[i].id, w[i].pu,
						   w[i].paused };
	in.snap = snap;
	in.pus = g->pus;
	in.preset = &g->preset;
	in.running = g->pw;
	in.nrunning = nw;
	in.queued = queued;
	g->agent_nw = nw;
	g->agent_leased = gate_agent_lease(g, nw, need, &in.user_cap);
	if (g->agent_leased) {
		in.user_capped = 1;
		in.taken = g->taken;
	} else
		gate_lease_open(g);
	if (!g->agent_leased && g->lease && queued) {
		int room, e = lease_begin(g->lease, &room, lerr, sizeof lerr);

		gate_lease_said(g, e, lerr);
		in.user_capped = 1;
		/* lock busy or file unreadable: no growth this tick */
		in.user_cap = e == 0 ? room : (int)nw;
		leased = e == 0;
	}
	policy_decide(&in, g->st, g->dec);
	ans->nstart = g->dec->nstart;
	/* under the per-user limit, grant only what the queue needs: the
	 * grant is what we hold until the next tick */
	if (in.user_capped && (size_t)ans->nstart > need)
		ans->nstart = (int)need;
	/* a synthetic or XML topology is not this machine: do not pin. A
	 * start on a PU another batch holds (the agent's "taken": decide
	 * takes those only when more may start than idle PUs nobody holds)
	 * shares it and runs unpinned, so the kernel balances it by the
	 * user groups' weights instead of halving one PU while another has
	 * a single task */
	for (int i = 0; i < ans->nstart; i++) {
		int pu = g->dec->start_pus[i];

		if (in.taken && (in.taken[pu] & POLICY_TAKEN)) {
			g->pus_out[i] = -1;
			g->cpus_out[i] = -1;
			continue;
		}
		g->pus_out[i] = pu;
		g->cpus_out[i] = g->pin ? g->pus[pu].os_index : -1;
	}
	/* a preset that ignores others with more workers asked than CPUs:
	 * the rest run unpinned */
	if (g->preset.ignore_others && g->cap > g->nallowed) {
		int extra = g->cap - (int)nw - ans->nstart;

		if (in.user_capped) {
			int left = in.user_cap - (int)nw - ans->nstart;
			int more = (int)need - ans->nstart;

			if (extra > left)
				extra = left;
			if (extra > more)
				extra = more;
		}
		for (; extra > 0 && ans->nstart < g->cap + g->npus; extra--) {
			g->pus_out[ans->nstart] = -1;
			g->cpus_out[ans->nstart++] = -1;
		}
	}
	for (size_t i = 0; i < g->dec->nactions && na < g->maxw; i++) {
		const struct policy_action *a = &g->dec->actions[i];
		struct gate_action *b = &g->acts[na++];

		b->id = a->id;
		b->pu = a->pu;
		b->cpu = a->pu >= 0 && a->pu < g->npus && g->pin
				 ? g->pus[a->pu].os_index
				 : -1;
		b->kind = a->kind == POLICY_MOVE     ? GATE_MOVE
			  : a->kind == POLICY_PAUSE  ? GATE_PAUSE
			  : a->kind == POLICY_RESUME ? GATE_RESUME
						     : GATE_STOP;
	}
	if (leased) {
		int hold = (int)nw + ans->nstart;

		if (hold > g->cap)
			hold = g->cap;
		gate_lease_said(g, lease_commit(g->lease, hold, lerr,
						sizeof lerr), lerr);
		if (!g->lease_said && lease_others(g->lease) > 0 &&
		    !strcmp(g->dec->reason, POLICY_REASON_USER_LIMIT)) {
			gate_say(g, GATE_INFO, "per-user limit: your other "
				 "nicely batches hold %d of the %d PUs you may "
				 "use at once ([limits] max_pus set at %s); %s%s%s",
				 lease_others(g->lease), lease_limit(g->lease),
				 g->ulim_at, hold ? "more " : g->words.self_waits,
				 hold ? g->words.workers : "",
				 hold ? " start as they give PUs back"
				      : " waits until they give PUs back");
			g->lease_said = 1;
		}
	} else if (!queued && !g->agent_leased) {
		gate_hold(g, (int)nw);
	}
	/* which PUs a finished worker may hand to the next one at once */
	for (int p = 0; p < g->npus && p < snap->npus; p++)
		g->pu_ok[p] = g->preset.ignore_others ||
			      (snap->valid &&
			       snap->pu[p].busy_others < g->preset.idle_threshold);
	ans->pus = g->pus_out;
	ans->cpus = g->cpus_out;
	ans->nice = g->dec->nice;
	ans->actions = g->acts;
	ans->nactions = na;
	ans->reason = g->dec->reason;
	gate_explain(g, snap, nw, need, ans->nstart, in.user_cap);
}

/* Mark in g->ours the PUs that hold a worker of ours (pw, nw of them)
 * or a start of the decide just made. */
static void gate_mark_ours(struct gate *g, size_t nw, int nstart)
{
	memset(g->ours, 0, (size_t)g->npus);
	for (size_t i = 0; i < nw; i++)
		if (g->pw[i].pu >= 0 && g->pw[i].pu < g->npus)
			g->ours[g->pw[i].pu] = 1;
	/* starts past decide's own (unpinned extras) have no PU */
	if (nstart > g->dec->nstart)
		nstart = g->dec->nstart;
	for (int i = 0; i < nstart; i++)
		if (g->dec->start_pus[i] >= 0 && g->dec->start_pus[i] < g->npus)
			g->ours[g->dec->start_pus[i]] = 1;
}

/* Among the allowed online PUs without a worker or start of ours: the
 * one others use least while at or above the idle threshold (-1 when
 * none; *nbusy counts them), else in *sib one whose SMT sibling others
 * keep busy (under smt_avoid), else in *held one another batch holds
 * (the agent's word), each -1 when none. */
static int gate_least_busy(struct gate *g,
			   const struct agent_snapshot *snap, size_t nw,
			   int nstart, int *nbusy, int *sib, int *held)
{
	int best = -1;

	*nbusy = 0;
	*sib = *held = -1;
	gate_mark_ours(g, nw, nstart);
	for (int p = 0; p < g->npus && p < snap->npus; p++) {
		if (g->ours[p] || !g->pus[p].allowed ||
		    !snap->pu[p].online)
			continue;
		if (snap->pu[p].busy_others < g->preset.idle_threshold) {
			for (int k = 0; g->preset.smt_avoid &&
					k < g->pus[p].nsiblings; k++) {
				int s = g->pus[p].siblings[k];

				if (s >= 0 && s < snap->npus && *sib < 0 &&
				    snap->pu[s].busy_others >=
					    g->preset.idle_threshold)
					*sib = p;
			}
			if (*held < 0 && g->agent_leased &&
			    (g->taken[p] & POLICY_TAKEN))
				*held = p;
			continue;
		}
		++*nbusy;
		if (best < 0 ||
		    snap->pu[p].busy_others < snap->pu[best].busy_others)
			best = p;
	}
	return best;
}

/* Say in g->why, with figures, why the decide just made held tasks back
 * (decide's reason is static text); "" when it held none back. nw
 * workers were given, need tasks waited, nstart may start, user_cap is
 * the user's allowance when capped. */
static void gate_explain(struct gate *g, const struct agent_snapshot *snap,
			 size_t nw, size_t need, int nstart, int user_cap)
{
	const struct policy_preset *p = &g->preset;
	const char *r = g->dec->reason;
	char *o = g->why;
	size_t len = sizeof g->why;
	int usable = 0, active = 0, nbusy, pu, sib, held;

	o[0] = 0;
	if (!need || (size_t)nstart >= need ||
	    !strcmp(r, "all queued tasks started") ||
	    !strcmp(r, "nothing queued"))
		return;
	for (int q = 0; q < g->npus && q < snap->npus; q++)
		usable += g->pus[q].allowed && snap->pu[q].online;
	for (size_t i = 0; i < nw; i++)
		active += !g->pw[i].paused;
	if (!strcmp(r, "no free PU")) {
		pu = gate_least_busy(g, snap, nw, nstart, &nbusy, &sib,
				     &held);
		if (pu >= 0 && nbusy > 1)
			snprintf(o, len, "PU %d busy (others %.0f%%), and %d "
				 "more", pu, 100 * snap->pu[pu].busy_others,
				 nbusy - 1);
		else if (pu >= 0)
			snprintf(o, len, "PU %d busy (others %.0f%%)", pu,
				 100 * snap->pu[pu].busy_others);
		else if (sib >= 0)
			snprintf(o, len, "PU %d: its SMT sibling is busy "
				 "(smt_avoid)", sib);
		else if (held >= 0)
			snprintf(o, len, "PU %d held by another batch", held);
		else
			snprintf(o, len, "all %d usable PU%s in use", usable,
				 usable == 1 ? "" : "s");
	} else if (!strcmp(r, "load average above the ceiling")) {
		double others = snap->loadavg[0] - active;

		snprintf(o, len, "load ceiling %.2f reached (others' load "
			 "%.2f a PU)", p->load_ceiling,
			 (others > 0 ? others : 0) / (usable > 0 ? usable : 1));
	} else if (!strcmp(r, "CPU pressure above the ceiling")) {
		snprintf(o, len, "CPU pressure ceiling %.1f%% reached (some "
			 "avg10 %.1f%%)", p->pressure_ceiling,
			 snap->psi_some_avg10);
	} else if (!strcmp(r, POLICY_REASON_USER_LIMIT)) {
		if (g->agent_leased)
			snprintf(o, len, "nicely-agent grants %d PU%s (its "
				 "share of the idle PUs between users)",
				 user_cap, user_cap == 1 ? "" : "s");
		else if (g->lease)
			snprintf(o, len, "user limit %d PU%s (your other "
				 "batches hold %d)", g->ulimit,
				 g->ulimit == 1 ? "" : "s",
				 lease_others(g->lease));
		else
			snprintf(o, len, "user limit %d PU%s", g->ulimit,
				 g->ulimit == 1 ? "" : "s");
	} else if (!strcmp(r, "max PUs reached")) {
		if (p->max_pus > 0)
			snprintf(o, len, "max_pus %d reached", p->max_pus);
		else if (p->max_pus_pct > 0)
			snprintf(o, len, "max_pus %g%% reached (%d of %d PUs)",
				 p->max_pus_pct, (int)nw, usable);
		else
			snprintf(o, len, "all %d usable PU%s in use", usable,
				 usable == 1 ? "" : "s");
	} else if (!strcmp(r, "ramp-up limit")) {
		snprintf(o, len, "ramp-up: at most %d start%s a tick",
			 p->ramp_up, p->ramp_up == 1 ? "" : "s");
	} else if (!strcmp(r, "keeping PUs in reserve for others")) {
		snprintf(o, len, "keeping %d PU%s free for others "
			 "(reserve_pus)", p->reserve_pus,
			 p->reserve_pus == 1 ? "" : "s");
	} else if (!strcmp(r, "free memory below the floor")) {
		snprintf(o, len, "free memory %.1f GiB below the floor %.1f "
			 "GiB", (double)snap->mem_available_kb / 1048576.0,
			 (double)p->mem_floor_kb / 1048576.0);
	} else if (!strncmp(r, "waiting for PUs", 15)) {
		snprintf(o, len, "waiting for PUs to stay free for %d ms "
			 "(hysteresis)", p->hysteresis_ms);
	} else {
		snprintf(o, len, "%s", r);
	}
}

/* Why the last decide held tasks back; see gate.h. */
const char *gate_reason(const struct gate *g)
{
	return g->why;
}

/* Sample and decide. */
int gate_tick(struct gate *g, const struct gate_worker *w, size_t nw,
	      size_t queued, size_t need, struct gate_answer *ans, char *err,
	      size_t errlen)
{
	const struct agent_snapshot *snap;
	int rc;

	memset(ans, 0, sizeof *ans);
	if ((rc = gate_sample(g, w, nw, &snap, err, errlen)) < 0)
		return rc;
	gate_decide(g, snap, w, nw, queued, need, ans);
	return 0;
}
