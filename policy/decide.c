/* policy/decide: the gate, one call per scheduler tick. A pure function of
 * (snapshot, topology table, preset, our running workers, queue length,
 * hysteresis state): which PUs are free long enough, how many tasks may
 * start and where (spread or compact over packages and L3), and what to do
 * with running workers whose PU others came back to. No I/O, no clock, no
 * allocation: the state carries its own work space. */
#include <stdlib.h>
#include <string.h>

#include "policy/decide.h"

/* Per-PU flags in the work space. */
#define F_USABLE 0x01	/* allowed and online */
#define F_FREE_NOW 0x02	/* usable and not busy by others */
#define F_FREE 0x04	/* free for at least the hysteresis time */
#define F_BUSY 0x08	/* busy by others for at least the hysteresis time */
#define F_CAND 0x10	/* free, holds none of ours, not taken this tick */
#define F_TIER0 0x20	/* the first candidate of a core without ours */

/* The work space: int arrays of npus entries each. */
enum {
	W_FLAGS,	/* F_* bits */
	W_OURS,		/* our workers on this PU */
	W_NEXT,		/* next candidate in the same group, -1 = end */
	W_HEAD,		/* by group: first candidate, -1 = none */
	W_TAIL,		/* by group: last candidate */
	W_GCNT,		/* by group: our workers in it */
	W_PCNT,		/* by package: our workers in it */
	W_GPKG,		/* by group: its package */
	W_GLIST,	/* the groups that have candidates, in order */
	W_CORE,		/* by core: 1 when it holds ours or gave a tier-0 PU */
	W_N
};

/* The work space arrays of one call. */
struct decide_ws {
	int n;
	int *flags, *ours, *next, *head, *tail, *gcnt, *pcnt, *gpkg, *glist,
		*core;
	int ngroups;
	int ncand;	/* candidates still in the lists */
	int reserve;	/* candidates moves and starts leave to others */
	int placement;
};

/* A new hysteresis state for npus PUs, or NULL without memory. */
struct policy_state *policy_state_new(int npus)
{
	struct policy_state *st;

	if (npus < 1)
		npus = 1;
	st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	st->npus = npus;
	st->free_since_ns = calloc((size_t)npus, sizeof *st->free_since_ns);
	st->busy_since_ns = calloc((size_t)npus, sizeof *st->busy_since_ns);
	st->scratch = calloc((size_t)npus * W_N, sizeof *st->scratch);
	if (!st->free_since_ns || !st->busy_since_ns || !st->scratch) {
		policy_state_free(st);
		return NULL;
	}
	return st;
}

/* Free a state. */
void policy_state_free(struct policy_state *st)
{
	if (!st)
		return;
	free(st->free_since_ns);
	free(st->busy_since_ns);
	free(st->scratch);
	free(st);
}

/* A decision with room for npus starts and max_running actions. */
struct policy_decision *policy_decision_new(int npus, size_t max_running)
{
	struct policy_decision *d = calloc(1, sizeof *d);

	if (!d)
		return NULL;
	d->max_starts = npus > 0 ? npus : 1;
	d->max_actions = max_running ? max_running : 1;
	d->start_pus = calloc((size_t)d->max_starts, sizeof *d->start_pus);
	d->actions = calloc(d->max_actions, sizeof *d->actions);
	if (!d->start_pus || !d->actions) {
		policy_decision_free(d);
		return NULL;
	}
	return d;
}

/* Free a decision. */
void policy_decision_free(struct policy_decision *d)
{
	if (!d)
		return;
	free(d->start_pus);
	free(d->actions);
	free(d);
}

/* An index from the topology clamped into the work space's range. */
static int decide_idx(int v, int n)
{
	return v >= 0 && v < n ? v : 0;
}

/* The placement group of PU i: its L3, else its package. */
static int decide_group(const struct agent_pu *pu, int n)
{
	return decide_idx(pu->l3 >= 0 ? pu->l3 : pu->package, n);
}

/* 1 when "since" marks a state held for at least hyst at time t. */
static int decide_held(uint64_t since, uint64_t t, uint64_t hyst)
{
	if (since == 0)
		return 0;
	if (since == POLICY_SINCE_FOREVER || hyst == 0)
		return 1;
	return t >= since && t - since >= hyst;
}

/* Update the hysteresis memory for every PU and set the F_* flags. */
static void decide_observe(const struct policy_input *in,
			   struct policy_state *st, struct decide_ws *ws)
{
	const struct agent_snapshot *snap = in->snap;
	const struct policy_preset *pr = in->preset;
	uint64_t t = snap->t_ns, hyst = (uint64_t)pr->hysteresis_ms * 1000000ULL;
	uint64_t now = t > POLICY_SINCE_FOREVER ? t : POLICY_SINCE_FOREVER + 1;
	int seed = !st->seeded;
	double thr = pr->idle_threshold;

	for (int i = 0; i < ws->n; i++) {
		int busy, f = ws->flags[i];

		if (!snap->valid) {
			if (pr->ignore_others && (f & F_USABLE))
				ws->flags[i] |= F_FREE_NOW | F_FREE;
			continue;
		}
		busy = snap->pu[i].busy_others >= thr;
		if (!busy && pr->smt_avoid) {
			const struct agent_pu *p = &in->pus[i];
			for (int s = 0; s < p->nsiblings && !busy; s++) {
				int j = p->siblings ? p->siblings[s] : -1;
				if (j >= 0 && j < ws->n && snap->pu[j].online &&
				    snap->pu[j].busy_others >= thr)
					busy = 1;
			}
		}
		if ((f & F_USABLE) && !busy) {
			st->busy_since_ns[i] = 0;
			if (!st->free_since_ns[i])
				st->free_since_ns[i] = seed ? POLICY_SINCE_FOREVER : now;
			f |= F_FREE_NOW;
			if (decide_held(st->free_since_ns[i], t, hyst))
				f |= F_FREE;
		} else {
			st->free_since_ns[i] = 0;
			if (!busy) {
				st->busy_since_ns[i] = 0;
			} else {
				if (!st->busy_since_ns[i])
					st->busy_since_ns[i] =
						seed ? POLICY_SINCE_FOREVER : now;
				if (decide_held(st->busy_since_ns[i], t, hyst))
					f |= F_BUSY;
			}
		}
		/* nuclear: others are ignored, but the memory stays current so
		 * that a later, politer preset finds it right */
		if (pr->ignore_others && (f & F_USABLE))
			f = (f & ~F_BUSY) | F_FREE_NOW | F_FREE;
		ws->flags[i] = f;
	}
	if (snap->valid)
		st->seeded = 1;
}

/* Append candidate PU i to its group's list. */
static void decide_enlist(const struct policy_input *in, struct decide_ws *ws,
			  int i)
{
	int g = decide_group(&in->pus[i], ws->n);

	ws->next[i] = -1;
	ws->ncand++;
	if (ws->head[g] < 0) {
		ws->head[g] = i;
		ws->glist[ws->ngroups++] = g;
	} else {
		ws->next[ws->tail[g]] = i;
	}
	ws->tail[g] = i;
}

/* Build the candidate lists: per placement group, first one PU of every
 * core where neither ours nor others run (tier 0), then the rest (SMT
 * siblings of busy or already chosen PUs). */
static void decide_candidates(const struct policy_input *in,
			      struct decide_ws *ws)
{
	int n = ws->n;

	for (int g = 0; g < n; g++) {
		ws->head[g] = -1;
		ws->tail[g] = -1;
		ws->gcnt[g] = 0;
		ws->pcnt[g] = 0;
		ws->core[g] = 0;
	}
	ws->ngroups = 0;
	ws->ncand = 0;
	for (int i = 0; i < n; i++) {
		int g = decide_group(&in->pus[i], n);
		int p = decide_idx(in->pus[i].package, n);

		ws->gpkg[g] = p;
		if (ws->ours[i]) {
			ws->gcnt[g] += ws->ours[i];
			ws->pcnt[p] += ws->ours[i];
		}
		/* a core where ours or others already run gives no tier-0 PU */
		if (ws->ours[i] || ((ws->flags[i] & (F_USABLE | F_FREE_NOW)) ==
				    F_USABLE && in->snap->valid))
			ws->core[decide_idx(in->pus[i].core, n)] = 1;
		if ((ws->flags[i] & F_FREE) && !ws->ours[i])
			ws->flags[i] |= F_CAND;
	}
	for (int i = 0; i < n; i++) {
		int c = decide_idx(in->pus[i].core, n);
		if ((ws->flags[i] & F_CAND) && !ws->core[c]) {
			ws->core[c] = 2;
			ws->flags[i] |= F_TIER0;
			decide_enlist(in, ws, i);
		}
	}
	for (int i = 0; i < n; i++)
		if ((ws->flags[i] & (F_CAND | F_TIER0)) == F_CAND)
			decide_enlist(in, ws, i);
}

/* Take the next PU by placement: spread takes the package, then the group,
 * with the fewest of our workers; compact the one with the most. Returns
 * the PU index or -1 when no candidate is left. */
static int decide_pick(const struct policy_input *in, struct decide_ws *ws)
{
	int best = -1;

	for (int k = 0; k < ws->ngroups; k++) {
		int g = ws->glist[k];
		if (ws->head[g] < 0)
			continue;
		if (best < 0) {
			best = g;
			continue;
		}
		int pg = ws->pcnt[ws->gpkg[g]], pb = ws->pcnt[ws->gpkg[best]];
		int better;
		if (ws->placement == POLICY_PLACE_COMPACT)
			better = pg > pb || (pg == pb && ws->gcnt[g] > ws->gcnt[best]);
		else
			better = pg < pb || (pg == pb && ws->gcnt[g] < ws->gcnt[best]);
		if (better)
			best = g;
	}
	if (best < 0)
		return -1;
	int i = ws->head[best];
	ws->head[best] = ws->next[i];
	ws->ncand--;
	ws->flags[i] &= ~F_CAND;
	ws->ours[i]++;
	ws->gcnt[best]++;
	ws->pcnt[ws->gpkg[best]]++;
	(void)in;
	return i;
}

/* Take a PU for a worker others came back to, leaving the reserve free:
 * that is where others go next. Returns the PU index or -1. */
static int decide_pick_move(const struct policy_input *in, struct decide_ws *ws)
{
	return ws->ncand > ws->reserve ? decide_pick(in, ws) : -1;
}

/* Add one action to the decision. */
static void decide_act(struct policy_decision *out, enum policy_action_kind kind,
		       int64_t id, int pu)
{
	struct policy_action *a = &out->actions[out->nactions++];

	a->kind = kind;
	a->id = id;
	a->pu = pu;
}

/* Move our worker's count from one PU to another in the work space. */
static void decide_moved(const struct policy_input *in, struct decide_ws *ws,
			 int from)
{
	int g = decide_group(&in->pus[from], ws->n);

	if (ws->ours[from] > 0) {
		ws->ours[from]--;
		ws->gcnt[g]--;
		ws->pcnt[ws->gpkg[g]]--;
	}
}

/* The least busy usable PU without ours (force_one, escape from
 * a PU gone offline), or -1. */
static int decide_least_busy(const struct policy_input *in,
			     const struct decide_ws *ws)
{
	int best = -1;

	for (int i = 0; i < ws->n; i++) {
		if (!(ws->flags[i] & F_USABLE) || ws->ours[i])
			continue;
		if (best < 0 || in->snap->pu[i].busy_others <
				in->snap->pu[best].busy_others)
			best = i;
	}
	return best;
}

/* What to do with each running worker: leave a PU that is no longer
 * allowed or online, react to others coming back (keep, move, pause, stop)
 * and resume paused workers whose PU is free again. Returns how many
 * workers were stopped. */
static int decide_react(const struct policy_input *in, struct decide_ws *ws,
			struct policy_decision *out)
{
	const struct policy_preset *pr = in->preset;
	int stopped = 0, live = in->snap->valid || pr->ignore_others;

	for (size_t j = 0; j < in->nrunning; j++) {
		const struct policy_worker *w = &in->running[j];
		int pu = w->pu, to;

		if (pu < 0 || pu >= ws->n || !live)
			continue;
		int f = ws->flags[pu];
		if (!(f & F_USABLE)) {
			to = decide_pick(in, ws);
			if (to < 0) {
				to = decide_least_busy(in, ws);
				if (to >= 0)
					ws->ours[to]++;
			}
			if (to >= 0) {
				decide_moved(in, ws, pu);
				decide_act(out, POLICY_MOVE, w->id, to);
			} else {
				decide_act(out, POLICY_STOP, w->id, pu);
				stopped++;
			}
			continue;
		}
		if (w->paused) {
			if (f & F_FREE) {
				decide_act(out, POLICY_RESUME, w->id, pu);
			} else if (f & F_BUSY) {
				/* free elsewhere: move now, resume next tick */
				to = decide_pick_move(in, ws);
				if (to >= 0) {
					decide_moved(in, ws, pu);
					decide_act(out, POLICY_MOVE, w->id, to);
				}
			}
			continue;
		}
		if (!(f & F_BUSY))
			continue;
		switch (pr->on_return) {
		case POLICY_REACT_KEEP:
			break;
		case POLICY_REACT_MOVE:
			to = decide_pick_move(in, ws);
			if (to >= 0) {
				decide_moved(in, ws, pu);
				decide_act(out, POLICY_MOVE, w->id, to);
			}
			break;
		case POLICY_REACT_PAUSE:
			decide_act(out, POLICY_PAUSE, w->id, pu);
			break;
		case POLICY_REACT_STOP:
			decide_act(out, POLICY_STOP, w->id, pu);
			stopped++;
			break;
		}
	}
	return stopped;
}

/* Decide one tick; see decide.h. */
void policy_decide(const struct policy_input *in, struct policy_state *st,
		   struct policy_decision *out)
{
	const struct agent_snapshot *snap = in->snap;
	const struct policy_preset *pr = in->preset;
	struct decide_ws ws;
	int n = snap->npus < st->npus ? snap->npus : st->npus;
	int nusable = 0, npaused = 0, unpinned = 0, stopped, cap, nrun, k;
	int blocked = 0;
	const char *block = NULL;

	out->nstart = 0;
	out->nactions = 0;
	out->nice = pr->nice;
	out->reason = "all queued tasks started";
	if (n < 0)
		n = 0;
	if ((out->max_starts && n > out->max_starts) ||
	    (out->max_actions && in->nrunning > out->max_actions)) {
		out->reason = "decision too small for this machine or these "
			      "workers: nothing decided";
		return;
	}
	ws.n = n;
	ws.placement = pr->placement;
	ws.flags = st->scratch + (size_t)st->npus * W_FLAGS;
	ws.ours = st->scratch + (size_t)st->npus * W_OURS;
	ws.next = st->scratch + (size_t)st->npus * W_NEXT;
	ws.head = st->scratch + (size_t)st->npus * W_HEAD;
	ws.tail = st->scratch + (size_t)st->npus * W_TAIL;
	ws.gcnt = st->scratch + (size_t)st->npus * W_GCNT;
	ws.pcnt = st->scratch + (size_t)st->npus * W_PCNT;
	ws.gpkg = st->scratch + (size_t)st->npus * W_GPKG;
	ws.glist = st->scratch + (size_t)st->npus * W_GLIST;
	ws.core = st->scratch + (size_t)st->npus * W_CORE;

	for (int i = 0; i < n; i++) {
		ws.ours[i] = 0;
		ws.next[i] = -1;
		ws.flags[i] = in->pus[i].allowed && snap->pu[i].online ? F_USABLE : 0;
		nusable += ws.flags[i] & F_USABLE;
	}
	for (size_t j = 0; j < in->nrunning; j++) {
		int pu = in->running[j].pu;
		if (pu >= 0 && pu < n)
			ws.ours[pu]++;
		else if (!in->running[j].paused)
			unpinned++;
		npaused += in->running[j].paused != 0;
	}
	ws.reserve = 0;
	if (!pr->ignore_others && pr->reserve_pus > 0 &&
	    nusable > pr->reserve_min_pus)
		ws.reserve = pr->reserve_pus;
	decide_observe(in, st, &ws);
	decide_candidates(in, &ws);
	stopped = decide_react(in, &ws, out);

	if (in->queued == 0) {
		out->reason = "nothing queued";
		return;
	}
	if (!snap->valid && !pr->ignore_others) {
		out->reason = "first sample: no load data yet";
		return;
	}
	if (nusable == 0) {
		out->reason = "no allowed online PU";
		return;
	}
	if (pr->mem_floor_kb && snap->mem_total_kb &&
	    snap->mem_available_kb < pr->mem_floor_kb) {
		out->reason = "free memory below the floor";
		return;
	}

	cap = nusable;
	if (pr->max_pus > 0 && pr->max_pus < cap)
		cap = pr->max_pus;
	if (pr->max_pus_pct > 0) {
		int c = (int)(pr->max_pus_pct * nusable / 100.0);
		if (c < 1)
			c = 1;
		if (c < cap)
			cap = c;
	}
	nrun = (int)in->nrunning - stopped;
	int user_bound = 0;

	if (in->user_capped) {
		int u = in->user_cap > 0 ? in->user_cap : 0;

		if (u < cap) {
			cap = u;
			user_bound = 1;
		}
	}

	if (!pr->ignore_others) {
		int active = nrun - npaused;
		double others = snap->loadavg[0] - (active > 0 ? active : 0);
		if (pr->load_ceiling >= 0 &&
		    (others > 0 ? others : 0) / nusable > pr->load_ceiling) {
			blocked = 1;
			block = "load average above the ceiling";
		} else if (pr->pressure_ceiling >= 0 && snap->has_psi &&
			   snap->psi_some_avg10 > pr->pressure_ceiling) {
			blocked = 1;
			block = "CPU pressure above the ceiling";
		}
	}

	int ncand = ws.ncand, reserve = ws.reserve;
	/* an unpinned worker runs on some PU that looks free */
	int avail = ncand > reserve + unpinned ? ncand - reserve - unpinned : 0;
	int room = cap > nrun ? cap - nrun : 0;
	size_t q = in->queued;

	k = avail < room ? avail : room;
	if ((size_t)k > q)
		k = (int)q;
	if (pr->ramp_up > 0 && k > pr->ramp_up)
		k = pr->ramp_up;
	if (blocked) {
		k = 0;
		out->reason = block;
	} else if ((size_t)k == q) {
		out->reason = "all queued tasks started";
	} else if (k == room && room < avail && user_bound) {
		out->reason = POLICY_REASON_USER_LIMIT;
	} else if (room == 0 || (k == room && room < avail)) {
		out->reason = "max PUs reached";
	} else if (pr->ramp_up > 0 && k == pr->ramp_up) {
		out->reason = "ramp-up limit";
	} else if (k == avail && reserve > 0 && ncand > avail) {
		out->reason = "keeping PUs in reserve for others";
	} else {
		int waiting = 0;
		for (int i = 0; i < n && !waiting; i++)
			waiting = (ws.flags[i] & (F_FREE_NOW | F_FREE)) == F_FREE_NOW &&
				  !ws.ours[i];
		out->reason = waiting ? "waiting for PUs to stay free (hysteresis)"
				      : "no free PU";
	}

	for (int i = 0; i < k; i++) {
		int pu = decide_pick(in, &ws);
		if (pu < 0)
			break;
		out->start_pus[out->nstart++] = pu;
	}

	if (out->nstart == 0 && nrun == 0 && pr->force_one && room > 0) {
		int pu = decide_least_busy(in, &ws);
		if (pu >= 0) {
			out->start_pus[out->nstart++] = pu;
			out->reason = blocked ? "force_one: started one despite the "
						"ceiling"
					      : "force_one: nothing free, started one";
		}
	}
}
