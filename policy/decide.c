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

/* The work space: int arrays of npus entries each. Group, package and core
 * indices are clamped into [0, npus), so every by-X array has room. */
enum {
	W_FLAGS,	/* F_* bits */
	W_OURS,		/* our workers on this PU */
	W_NEXT,		/* next candidate in the same group, -1 = end */
	W_GRP,		/* by PU: its placement group */
	W_CIDX,		/* by PU: its core, clamped */
	W_CLIST,	/* the candidates, in PU order */
	W_HEAD,		/* by group: first candidate, -1 = none */
	W_TAIL,		/* by group: last tier-0 candidate */
	W_HEAD1,	/* by group: first candidate that is not tier 0 */
	W_TAIL1,	/* by group: last candidate that is not tier 0 */
	W_GCNT,		/* by group: our workers in it */
	W_PCNT,		/* by package: our workers in it */
	W_GPKG,		/* by group: its package */
	W_GLIST,	/* the groups that still have candidates, in order */
	W_GLIST1,	/* groups in order of their first non-tier-0 candidate */
	W_CORE,		/* by core: 1 when it holds ours or gave a tier-0 PU */
	W_SPK,		/* by glist slot: the group's package */
	W_TLIST,	/* candidates other batches hold, in PU order */
	W_N
};

/* The work space arrays of one call. */
struct decide_ws {
	int n;
	int *flags, *ours, *next, *grp, *cidx, *clist, *head, *tail, *head1,
		*tail1, *gcnt, *pcnt, *gpkg, *glist, *glist1, *core, *spk,
		*tlist;
	int ngroups;	/* entries in glist: groups with candidates left */
	int ncand;	/* candidates still in the lists */
	int nclist;	/* entries in clist */
	int ntlist;	/* entries in tlist not yet in the lists */
	int tier;	/* 1 once the lists hold tlist's candidates */
	int nusable;	/* allowed online PUs */
	int nwaiting;	/* usable PUs free now, not yet for hysteresis_ms,
			 * holding none of ours */
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
	return (unsigned)v < (unsigned)n ? v : 0;
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

/* Update the hysteresis memory for every PU, set the F_* flags and, in the
 * same pass, count our workers by group and package, mark the cores that
 * give no tier-0 PU and collect the candidates (in PU order). */
static void decide_observe(const struct policy_input *in,
			   struct policy_state *st, struct decide_ws *ws)
{
	const struct agent_snapshot *snap = in->snap;
	const struct policy_preset *pr = in->preset;
	uint64_t t = snap->t_ns, hyst = (uint64_t)pr->hysteresis_ms * 1000000ULL;
	uint64_t now = t > POLICY_SINCE_FOREVER ? t : POLICY_SINCE_FOREVER + 1;
	int seed = !st->seeded, n = ws->n, valid = snap->valid;
	int ignore = pr->ignore_others, smt = pr->smt_avoid;
	double thr = pr->idle_threshold;

	ws->nclist = 0;
	ws->ntlist = 0;
	ws->tier = 0;
	ws->nwaiting = 0;
	ws->nusable = 0;
	for (int i = 0; i < n; i++) {
		const struct agent_pu *p = &in->pus[i];
		int busy, o = ws->ours[i];
		int f = p->allowed && snap->pu[i].online ? F_USABLE : 0;
		int g = decide_group(p, n), c = decide_idx(p->core, n);
		int pk = decide_idx(p->package, n);

		ws->nusable += f;
		if (!valid) {
			if (ignore && (f & F_USABLE))
				f |= F_FREE_NOW | F_FREE;
			goto counted;
		}
		busy = snap->pu[i].busy_others >= thr;
		if (!busy && smt) {
			for (int s = 0; s < p->nsiblings && !busy; s++) {
				int j = p->siblings ? p->siblings[s] : -1;
				if (j >= 0 && j < n && snap->pu[j].online &&
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
		if (ignore && (f & F_USABLE))
			f = (f & ~F_BUSY) | F_FREE_NOW | F_FREE;
counted:
		ws->grp[i] = g;
		ws->cidx[i] = c;
		ws->gpkg[g] = pk;
		/* a core where ours or others already run gives no tier-0 PU */
		if (o) {
			ws->gcnt[g] += o;
			ws->pcnt[pk] += o;
			ws->core[c] = 1;
		} else {
			int held = in->taken && (in->taken[i] & POLICY_TAKEN);

			if ((f & (F_USABLE | F_FREE_NOW)) == F_USABLE && valid)
				ws->core[c] = 1;
			/* another batch's task runs there: its core gives no
			 * tier-0 PU, and it comes after the others */
			if (held && (f & F_USABLE))
				ws->core[c] = 1;
			if ((f & F_FREE) && held) {
				f |= F_CAND;
				ws->tlist[ws->ntlist++] = i;
			} else if (f & F_FREE) {
				f |= F_CAND;
				ws->clist[ws->nclist++] = i;
			} else if (f & F_FREE_NOW) {
				ws->nwaiting++;
			}
		}
		ws->flags[i] = f;
	}
	if (valid)
		st->seeded = 1;
}

/* Build the candidate lists from list (n PUs): per placement group, first
 * one PU of every core where neither ours nor others run (tier 0), then
 * the rest (SMT siblings of busy or already chosen PUs), each in PU order;
 * the groups in the order of their first tier-0 PU, then of their first
 * other one. */
static void decide_candidates(struct decide_ws *ws, const int *list, int n)
{
	int ng1 = 0;

	ws->ngroups = 0;
	for (int k = 0; k < n; k++) {
		int i = list[k], g = ws->grp[i], c = ws->cidx[i];

		ws->next[i] = -1;
		if (!ws->core[c]) {
			ws->core[c] = 2;
			if (ws->head[g] < 0) {
				ws->head[g] = i;
				ws->glist[ws->ngroups++] = g;
			} else {
				ws->next[ws->tail[g]] = i;
			}
			ws->tail[g] = i;
		} else {
			if (ws->head1[g] < 0) {
				ws->head1[g] = i;
				ws->glist1[ng1++] = g;
			} else {
				ws->next[ws->tail1[g]] = i;
			}
			ws->tail1[g] = i;
		}
	}
	/* the rest after each group's tier 0 */
	for (int k = 0; k < ws->ngroups; k++) {
		int g = ws->glist[k];
		if (ws->head1[g] >= 0)
			ws->next[ws->tail[g]] = ws->head1[g];
	}
	for (int k = 0; k < ng1; k++) {
		int g = ws->glist1[k];
		if (ws->head[g] < 0) {
			ws->head[g] = ws->head1[g];
			ws->glist[ws->ngroups++] = g;
		}
	}
}

/* Note each glist slot's package, for decide_pick. */
static void decide_plan(struct decide_ws *ws)
{
	for (int k = 0; k < ws->ngroups; k++)
		ws->spk[k] = ws->gpkg[ws->glist[k]];
}

/* When the candidates nobody else holds are used up, the lists go on
 * with those other batches hold. 1 while candidates are left. */
static int decide_next_tier(struct decide_ws *ws)
{
	if (ws->ngroups > 0 || ws->ntlist == 0)
		return ws->ngroups > 0;
	for (int k = 0; k < ws->ntlist; k++) {
		int g = ws->grp[ws->tlist[k]];

		ws->head[g] = ws->head1[g] = -1;
	}
	decide_candidates(ws, ws->tlist, ws->ntlist);
	ws->ntlist = 0;
	ws->tier = 1;
	decide_plan(ws);
	return ws->ngroups > 0;
}

/* Take the next PU by placement: spread takes the package, then the group,
 * with the fewest of our workers; compact the one with the most; the
 * earlier group in glist on a tie. Returns the PU index or -1 when no
 * candidate is left. The pair (package count, group count) is ranked as
 * one number, pcnt * 2^32 + gcnt (both are never negative: every
 * decrement undoes a counted worker). */
static int decide_pick(struct decide_ws *ws)
{
	const int *gl = ws->glist, *spk = ws->spk, *pcnt = ws->pcnt,
		  *gcnt = ws->gcnt;
	int bk = 0, ng;

	if (!decide_next_tier(ws))
		return -1;
	ng = ws->ngroups;
	int64_t br = ((int64_t)pcnt[spk[0]] << 32) + gcnt[gl[0]];
	if (ws->placement == POLICY_PLACE_COMPACT) {
		for (int k = 1; k < ng; k++) {
			int64_t r = ((int64_t)pcnt[spk[k]] << 32) + gcnt[gl[k]];
			if (r > br) {
				br = r;
				bk = k;
			}
		}
	} else {
		for (int k = 1; k < ng; k++) {
			int64_t r = ((int64_t)pcnt[spk[k]] << 32) + gcnt[gl[k]];
			if (r < br) {
				br = r;
				bk = k;
			}
		}
	}
	int g = gl[bk], p = spk[bk], i = ws->head[g];
	ws->head[g] = ws->next[i];
	if (ws->head[g] < 0) {
		/* the group is used up: drop its slot, keeping the order */
		size_t m = (size_t)(ng - bk - 1);
		memmove(&ws->glist[bk], &ws->glist[bk + 1], m * sizeof *ws->glist);
		memmove(&ws->spk[bk], &ws->spk[bk + 1], m * sizeof *ws->spk);
		ws->ngroups--;
	}
	ws->ncand--;
	ws->flags[i] &= ~F_CAND;
	ws->ours[i]++;
	ws->gcnt[g]++;
	ws->pcnt[p]++;
	return i;
}

/* Take up to k PUs by placement into pus, as k calls of decide_pick would,
 * with the work space's pointers and counts held in locals (the stores
 * through them cannot change them then). Returns how many were taken. */
static int decide_pick_many(struct decide_ws *ws, int k, int *pus)
{
	int *gl = ws->glist, *spk = ws->spk, *pcnt = ws->pcnt, *gcnt = ws->gcnt;
	int *head = ws->head, *next = ws->next, *flags = ws->flags,
	    *ours = ws->ours;
	int ng = ws->ngroups, compact = ws->placement == POLICY_PLACE_COMPACT;
	int taken = 0;

	while (taken < k) {
		if (ng == 0) {
			ws->ngroups = 0;
			if (!decide_next_tier(ws))
				break;
			ng = ws->ngroups;
		}
		int bk = 0;
		int64_t br = ((int64_t)pcnt[spk[0]] << 32) + gcnt[gl[0]];
		if (compact) {
			for (int j = 1; j < ng; j++) {
				int64_t r = ((int64_t)pcnt[spk[j]] << 32) + gcnt[gl[j]];
				if (r > br) {
					br = r;
					bk = j;
				}
			}
		} else {
			for (int j = 1; j < ng; j++) {
				int64_t r = ((int64_t)pcnt[spk[j]] << 32) + gcnt[gl[j]];
				if (r < br) {
					br = r;
					bk = j;
				}
			}
		}
		int g = gl[bk], p = spk[bk], i = head[g];
		head[g] = next[i];
		if (head[g] < 0) {
			size_t m = (size_t)(ng - bk - 1);
			memmove(&gl[bk], &gl[bk + 1], m * sizeof *gl);
			memmove(&spk[bk], &spk[bk + 1], m * sizeof *spk);
			ng--;
		}
		flags[i] &= ~F_CAND;
		ours[i]++;
		gcnt[g]++;
		pcnt[p]++;
		pus[taken++] = i;
	}
	ws->ngroups = ng;
	ws->ncand -= taken;
	return taken;
}

/* Take a PU for a worker others came back to, leaving the reserve free:
 * that is where others go next. Returns the PU index or -1. */
static int decide_pick_move(struct decide_ws *ws)
{
	return ws->ncand > ws->reserve ? decide_pick(ws) : -1;
}

/* Take a PU nobody else holds for a worker that yields a PU another batch
 * keeps, leaving the reserve free. Returns the PU index or -1. */
static int decide_pick_untaken(struct decide_ws *ws)
{
	if (ws->tier || ws->ngroups == 0 || ws->ncand <= ws->reserve)
		return -1;
	return decide_pick(ws);
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
static void decide_moved(struct decide_ws *ws, int from)
{
	int g = ws->grp[from];

	if (ws->ours[from] > 0) {
		ws->ours[from]--;
		ws->gcnt[g]--;
		ws->pcnt[ws->gpkg[g]]--;
	}
}

/* The least busy usable PU without ours (force_one, escape from
 * a PU gone offline), one nobody else holds on a tie, or -1. */
static int decide_least_busy(const struct policy_input *in,
			     const struct decide_ws *ws)
{
	int best = -1;

	for (int i = 0; i < ws->n; i++) {
		if (!(ws->flags[i] & F_USABLE) || ws->ours[i])
			continue;
		double b = in->snap->pu[i].busy_others;
		int t = in->taken && (in->taken[i] & POLICY_TAKEN);

		if (best < 0 || b < in->snap->pu[best].busy_others ||
		    (b == in->snap->pu[best].busy_others && in->taken && !t &&
		     (in->taken[best] & POLICY_TAKEN)))
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
			to = decide_pick(ws);
			if (to < 0) {
				to = decide_least_busy(in, ws);
				if (to >= 0) {
					/* no longer a PU waiting for hysteresis */
					if ((ws->flags[to] & (F_FREE_NOW | F_FREE)) ==
					    F_FREE_NOW)
						ws->nwaiting--;
					ws->ours[to]++;
				}
			}
			if (to >= 0) {
				decide_moved(ws, pu);
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
				to = decide_pick_move(ws);
				if (to >= 0) {
					decide_moved(ws, pu);
					decide_act(out, POLICY_MOVE, w->id, to);
				}
			}
			continue;
		}
		if (!(f & F_BUSY)) {
			/* sharing a PU with another batch that keeps it */
			if (in->taken && (in->taken[pu] & POLICY_YIELD) &&
			    (to = decide_pick_untaken(ws)) >= 0) {
				decide_moved(ws, pu);
				decide_act(out, POLICY_MOVE, w->id, to);
			}
			continue;
		}
		switch (pr->on_return) {
		case POLICY_REACT_KEEP:
			break;
		case POLICY_REACT_MOVE:
			to = decide_pick_move(ws);
			if (to >= 0) {
				decide_moved(ws, pu);
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
	size_t np = (size_t)st->npus;
	int *w = st->scratch;
	ws.flags = w + np * W_FLAGS;
	ws.ours = w + np * W_OURS;
	ws.next = w + np * W_NEXT;
	ws.grp = w + np * W_GRP;
	ws.cidx = w + np * W_CIDX;
	ws.clist = w + np * W_CLIST;
	ws.head = w + np * W_HEAD;
	ws.tail = w + np * W_TAIL;
	ws.head1 = w + np * W_HEAD1;
	ws.tail1 = w + np * W_TAIL1;
	ws.gcnt = w + np * W_GCNT;
	ws.pcnt = w + np * W_PCNT;
	ws.gpkg = w + np * W_GPKG;
	ws.glist = w + np * W_GLIST;
	ws.glist1 = w + np * W_GLIST1;
	ws.core = w + np * W_CORE;
	ws.spk = w + np * W_SPK;
	ws.tlist = w + np * W_TLIST;

	size_t nb = (size_t)n * sizeof *w;
	memset(ws.ours, 0, nb);
	memset(ws.gcnt, 0, nb);
	memset(ws.pcnt, 0, nb);
	memset(ws.core, 0, nb);
	memset(ws.head, 0xff, nb);	/* -1 */
	memset(ws.head1, 0xff, nb);
	for (size_t j = 0; j < in->nrunning; j++) {
		int pu = in->running[j].pu;
		if (pu >= 0 && pu < n)
			ws.ours[pu]++;
		else if (!in->running[j].paused)
			unpinned++;
		npaused += in->running[j].paused != 0;
	}
	decide_observe(in, st, &ws);
	nusable = ws.nusable;
	ws.reserve = 0;
	if (!pr->ignore_others && pr->reserve_pus > 0 &&
	    nusable > pr->reserve_min_pus)
		ws.reserve = pr->reserve_pus;
	decide_candidates(&ws, ws.clist, ws.nclist);
	ws.ncand = ws.nclist + ws.ntlist;
	decide_plan(&ws);
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
		out->reason = ws.nwaiting > 0 ? "waiting for PUs to stay free (hysteresis)"
				      : "no free PU";
	}

	out->nstart = decide_pick_many(&ws, k, out->start_pus);

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
