/* policy_decide's placement against a plain reference of the old one, on
 * 3,000 random machines (fixed seed: shuffled PU tables, no L3, denied and
 * offline PUs, workers escaping them, spread/compact, SMT, others ignored)
 * and on hwloc's 1024-PU table of bench/decide: starts, their order and
 * moves must be exactly the reference's. Also the hysteresis reason after
 * a worker escapes to a PU free but not yet for long. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/topology.h"
#include "policy/decide.h"
#include "policy/builtins.h"
#include "tests/tap.h"

#define MAXN 1024

/* A random machine and what decide is asked. */
struct rmachine {
	int n;
	struct agent_pu pus[MAXN];
	int sib[MAXN][2];
	struct agent_pu_load load[MAXN];
	struct policy_worker run[MAXN];
	size_t nrun;
	size_t queued;
	struct policy_preset pr;
};

/* The reference's expected decision. */
struct rwant {
	int nstart;
	int start[MAXN];
	size_t nact;
	struct policy_action act[MAXN];
};

static unsigned rnd_state = 20261201u;

/* A pseudo-random number in [0, m). */
static int rnd(int m)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (int)((rnd_state >> 8) % (unsigned)m);
}

/* The reference's work space: plain arrays indexed like decide's. */
struct ref {
	int n, usable[MAXN], freepu[MAXN], ours[MAXN], cand[MAXN], grp[MAXN];
	int gcnt[MAXN], pcnt[MAXN], gpkg[MAXN], core[MAXN];
	int list[MAXN][MAXN / 4 + 1];	/* by group: its candidates in order */
	int len[MAXN], at[MAXN];	/* by group: list length, next taken */
	int glist[MAXN], ngroups, ncand, compact;
};

/* An index clamped as decide clamps it. */
static int clampi(int v, int n)
{
	return v >= 0 && v < n ? v : 0;
}

/* The next PU by a flat scan of all groups, as decide picked before it was
 * made fast: the fewest (spread) or most (compact) of ours by package,
 * then by group, the earlier group on a tie. */
static int ref_pick(struct ref *r)
{
	int best = -1;

	for (int k = 0; k < r->ngroups; k++) {
		int g = r->glist[k];
		if (r->at[g] >= r->len[g])
			continue;
		if (best < 0) {
			best = g;
			continue;
		}
		int pg = r->pcnt[r->gpkg[g]], pb = r->pcnt[r->gpkg[best]];
		int better = r->compact
			? pg > pb || (pg == pb && r->gcnt[g] > r->gcnt[best])
			: pg < pb || (pg == pb && r->gcnt[g] < r->gcnt[best]);
		if (better)
			best = g;
	}
	if (best < 0)
		return -1;
	int i = r->list[best][r->at[best]++];
	r->ncand--;
	r->ours[i]++;
	r->gcnt[best]++;
	r->pcnt[r->gpkg[best]]++;
	return i;
}

/* Append PU i to its group's list, the group to glist if new. */
static void ref_add(struct ref *r, int i)
{
	int g = r->grp[i];

	if (r->len[g] == 0)
		r->glist[r->ngroups++] = g;
	r->list[g][r->len[g]++] = i;
	r->ncand++;
}

/* What decide must answer on a first tick of machine m (hysteresis 0, no
 * reserve, ceilings or ramp-up; on_return keep). */
static void ref_decide(const struct rmachine *m, struct ref *r,
		       struct rwant *w)
{
	const struct policy_preset *pr = &m->pr;
	int n = m->n, nusable = 0, unpinned = 0, stopped = 0;

	memset(r, 0, sizeof *r);
	r->n = n;
	r->compact = pr->placement == POLICY_PLACE_COMPACT;
	memset(w, 0, sizeof *w);
	for (size_t j = 0; j < m->nrun; j++) {
		int pu = m->run[j].pu;
		if (pu >= 0 && pu < n)
			r->ours[pu]++;
		else
			unpinned++;
	}
	for (int i = 0; i < n; i++) {
		const struct agent_pu *p = &m->pus[i];
		int busy = m->load[i].busy_others >= pr->idle_threshold;
		for (int s = 0; pr->smt_avoid && s < p->nsiblings; s++) {
			int j = p->siblings[s];
			if (m->load[j].online &&
			    m->load[j].busy_others >= pr->idle_threshold)
				busy = 1;
		}
		r->usable[i] = p->allowed && m->load[i].online;
		nusable += r->usable[i];
		r->freepu[i] = r->usable[i] && (!busy || pr->ignore_others);
		r->grp[i] = clampi(p->l3 >= 0 ? p->l3 : p->package, n);
		int pk = clampi(p->package, n), c = clampi(p->core, n);
		r->gpkg[r->grp[i]] = pk;
		r->gcnt[r->grp[i]] += r->ours[i];
		r->pcnt[pk] += r->ours[i];
		if (r->ours[i] || (r->usable[i] && !r->freepu[i]))
			r->core[c] = 1;
		r->cand[i] = r->freepu[i] && !r->ours[i];
	}
	/* tier 0: the first candidate of each core without ours or others */
	for (int i = 0; i < n; i++) {
		int c = clampi(m->pus[i].core, n);
		if (r->cand[i] && !r->core[c]) {
			r->core[c] = 2;
			r->cand[i] = 2;
			ref_add(r, i);
		}
	}
	for (int i = 0; i < n; i++)
		if (r->cand[i] == 1)
			ref_add(r, i);
	for (size_t j = 0; j < m->nrun; j++) {
		int pu = m->run[j].pu;
		if (pu < 0 || pu >= n || r->usable[pu])
			continue;
		int to = ref_pick(r);
		if (to < 0) {
			for (int i = 0; i < n; i++)
				if (r->usable[i] && !r->ours[i] &&
				    (to < 0 || m->load[i].busy_others <
						       m->load[to].busy_others))
					to = i;
			if (to >= 0)
				r->ours[to]++;
		}
		struct policy_action *a = &w->act[w->nact++];
		a->id = m->run[j].id;
		if (to >= 0) {
			int g = r->grp[pu];
			if (r->ours[pu] > 0) {
				r->ours[pu]--;
				r->gcnt[g]--;
				r->pcnt[r->gpkg[g]]--;
			}
			a->kind = POLICY_MOVE;
			a->pu = to;
		} else {
			a->kind = POLICY_STOP;
			a->pu = pu;
			stopped++;
		}
	}
	if (nusable == 0 || m->queued == 0)
		return;
	int avail = r->ncand > unpinned ? r->ncand - unpinned : 0;
	int nrun = (int)m->nrun - stopped;
	int room = nusable > nrun ? nusable - nrun : 0;
	int k = avail < room ? avail : room;
	if ((size_t)k > m->queued)
		k = (int)m->queued;
	for (int i = 0; i < k; i++)
		w->start[w->nstart++] = ref_pick(r);
}

/* The test's preset: the given placement and switches, nothing else in
 * the way of starts. */
static void rmachine_preset(struct rmachine *m, int compact, int smt,
			    int ignore)
{
	memset(&m->pr, 0, sizeof m->pr);
	snprintf(m->pr.name, sizeof m->pr.name, "test");
	m->pr.idle_threshold = 0.5;
	m->pr.load_ceiling = -1;
	m->pr.pressure_ceiling = -1;
	m->pr.on_return = POLICY_REACT_KEEP;
	m->pr.smt_avoid = smt;
	m->pr.ignore_others = ignore;
	m->pr.placement = compact ? POLICY_PLACE_COMPACT : POLICY_PLACE_SPREAD;
}

/* Random load, allowed and online PUs, workers and queue on m's table. */
static void rmachine_load(struct rmachine *m)
{
	int busy_pct = rnd(101), off_pct = rnd(3) ? 0 : rnd(30);

	for (int i = 0; i < m->n; i++) {
		m->load[i].online = rnd(100) >= off_pct;
		m->load[i].busy_others = rnd(100) < busy_pct ? 0.5 + rnd(50) / 100.0
							   : rnd(50) / 100.0;
		if (!m->load[i].online)
			m->load[i].busy_others = 1.0;
	}
	m->nrun = (size_t)rnd(m->n / 2 + 1);
	for (size_t j = 0; j < m->nrun; j++) {
		m->run[j].id = (int64_t)j + 1;
		m->run[j].pu = rnd(20) ? rnd(m->n) : -1;
		m->run[j].paused = 0;
	}
	m->queued = (size_t)rnd(m->n + 10);
}

/* A random synthetic table: packages of L3s of cores of 1-2 PUs, with or
 * without L3, some PUs not allowed, in hwloc's order or shuffled. */
static void rmachine_topo(struct rmachine *m)
{
	int npack = 1 + rnd(4), nl3 = 1 + rnd(3), ncore = 1 + rnd(16);
	int npu = 1 + rnd(2), nol3 = rnd(4) == 0, shuffle = rnd(2);
	int deny_pct = rnd(3) ? 0 : rnd(40), perm[MAXN];
	struct agent_pu canon[MAXN];

	m->n = npack * nl3 * ncore * npu;
	for (int i = 0; i < m->n; i++)
		perm[i] = i;
	for (int i = m->n - 1; shuffle && i > 0; i--) {
		int j = rnd(i + 1), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (int i = 0; i < m->n; i++) {
		struct agent_pu *p = &canon[i];
		int core = i / npu;
		memset(p, 0, sizeof *p);
		p->os_index = i;
		p->core = core;
		p->l3 = nol3 ? -1 : core / ncore;
		p->package = core / ncore / nl3;
		p->numa = p->package;
		p->allowed = rnd(100) >= deny_pct;
	}
	for (int i = 0; i < m->n; i++) {
		struct agent_pu *p = &m->pus[perm[i]];
		int core = i / npu;
		*p = canon[i];
		p->nsiblings = 0;
		for (int j = core * npu; j < (core + 1) * npu; j++)
			if (j != i)
				m->sib[perm[i]][p->nsiblings++] = perm[j];
		p->siblings = m->sib[perm[i]];
	}
}

/* 1 when decide's answer d is the reference's w; notes the first
 * difference. */
static int same(const struct policy_decision *d, const struct rwant *w,
		char *why, size_t len)
{
	if (d->nstart != w->nstart) {
		snprintf(why, len, "%d starts, want %d", d->nstart, w->nstart);
		return 0;
	}
	for (int i = 0; i < w->nstart; i++)
		if (d->start_pus[i] != w->start[i]) {
			snprintf(why, len, "start %d on PU %d, want %d", i,
				 d->start_pus[i], w->start[i]);
			return 0;
		}
	if (d->nactions != w->nact) {
		snprintf(why, len, "%zu actions, want %zu", d->nactions, w->nact);
		return 0;
	}
	for (size_t a = 0; a < w->nact; a++)
		if (d->actions[a].kind != w->act[a].kind ||
		    d->actions[a].id != w->act[a].id ||
		    d->actions[a].pu != w->act[a].pu) {
			snprintf(why, len, "action %zu: kind %d id %lld PU %d, "
				 "want kind %d id %lld PU %d", a,
				 (int)d->actions[a].kind,
				 (long long)d->actions[a].id, d->actions[a].pu,
				 (int)w->act[a].kind, (long long)w->act[a].id,
				 w->act[a].pu);
			return 0;
		}
	return 1;
}

/* Decide on m (first tick, fresh state) and compare with the reference;
 * returns 1 when they agree, else notes why. */
static int check_one(struct rmachine *m, struct ref *r, struct rwant *w,
		     char *why, size_t len)
{
	struct agent_snapshot snap = {
		.t_ns = 1000000000ULL, .interval_ns = 500000000ULL, .valid = 1,
		.npus = m->n, .pu = m->load,
	};
	struct policy_input in = {
		.snap = &snap, .pus = m->pus, .preset = &m->pr,
		.running = m->run, .nrunning = m->nrun, .queued = m->queued,
	};
	struct policy_state *st = policy_state_new(m->n);
	struct policy_decision *d = policy_decision_new(m->n, (size_t)m->n);
	int good;

	if (!st || !d)
		tap_bail("out of memory");
	policy_decide(&in, st, d);
	ref_decide(m, r, w);
	good = same(d, w, why, len);
	policy_state_free(st);
	policy_decision_free(d);
	return good;
}

/* Many random small and middle machines. */
static void test_random(struct rmachine *m, struct ref *r, struct rwant *w)
{
	int runs = 3000, bad = 0, starts = 0, moves = 0;
	char why[200] = "";

	for (int it = 0; it < runs; it++) {
		rmachine_topo(m);
		rmachine_load(m);
		rmachine_preset(m, rnd(3) == 0, rnd(2), rnd(5) == 0);
		if (!check_one(m, r, w, why, sizeof why)) {
			if (!bad++)
				tap_diag("random machine %d (%d PUs): %s", it, m->n,
				     why);
			continue;
		}
		starts += w->nstart;
		moves += (int)w->nact;
	}
	is_int(bad, 0, "%d random machines: decide places as the reference",
	       runs);
	ok(starts > runs * 5 && moves > runs / 4,
	   "the random machines exercise starts (%d) and moves (%d)", starts,
	   moves);
}

/* hwloc's 1024-PU table of bench/decide, random loads. */
static void test_big(struct rmachine *m, struct ref *r, struct rwant *w)
{
	struct agent_topology *topo;
	char err[256], why[200] = "";
	int bad = 0, maxstart = 0;

	if (agent_topology_load(&topo, "synthetic:pack:4 l3:2 core:64 pu:2", err,
				sizeof err) < 0) {
		ok(0, "synthetic 1024-PU topology loads: %s", err);
		return;
	}
	m->n = agent_topology_npus(topo);
	is_int(m->n, 1024, "synthetic topology has 1024 PUs");
	memcpy(m->pus, agent_topology_pus(topo), (size_t)m->n * sizeof m->pus[0]);
	for (int it = 0; it < 200; it++) {
		rmachine_load(m);
		m->queued = (size_t)m->n;
		rmachine_preset(m, it % 4 == 3, it % 2, it % 5 == 4);
		if (!check_one(m, r, w, why, sizeof why)) {
			if (!bad++)
				tap_diag("1024-PU machine %d: %s", it, why);
			continue;
		}
		if (w->nstart > maxstart)
			maxstart = w->nstart;
	}
	is_int(bad, 0, "200 loads of the 1024-PU topology: decide places as "
	       "the reference");
	ok(maxstart > 500, "some place hundreds of workers (at most %d)",
	   maxstart);
	agent_topology_free(topo);
}

/* A worker escaping an offline PU to the only PU that is free but not yet
 * for hysteresis_ms: that PU holds ours then, so nothing waits for
 * hysteresis any more and the reason says there is no free PU. */
static void test_escape_waiting(void)
{
	struct agent_pu pus[3];
	struct agent_pu_load load[3] = {
		{ .online = 1 }, { .online = 1, .busy_others = 0.9 },
		{ .online = 1, .busy_others = 0.9 },
	};
	struct policy_worker run[1] = { { .id = 7, .pu = 0 } };
	struct agent_snapshot snap = {
		.t_ns = 100000000000ULL, .interval_ns = 500000000ULL,
		.valid = 1, .npus = 3, .pu = load,
	};
	struct policy_preset pr = *builtins_find("normal");
	struct policy_input in = {
		.snap = &snap, .pus = pus, .preset = &pr, .running = run,
		.nrunning = 1, .queued = 5,
	};
	struct policy_state *st = policy_state_new(3);
	struct policy_decision *d = policy_decision_new(3, 1);

	if (!st || !d)
		tap_bail("out of memory");
	memset(pus, 0, sizeof pus);
	for (int i = 0; i < 3; i++) {
		pus[i].os_index = pus[i].core = i;
		pus[i].allowed = 1;
	}
	pr.load_ceiling = -1;
	pr.pressure_ceiling = -1;
	pr.mem_floor_kb = 0;
	policy_decide(&in, st, d);
	is_int(d->nactions, 0, "escape: the first tick leaves the worker");
	/* PU 0 goes offline, PU 2 turns idle (free, not yet for long) */
	snap.t_ns += snap.interval_ns;
	load[0].online = 0;
	load[0].busy_others = 1.0;
	load[2].busy_others = 0;
	policy_decide(&in, st, d);
	ok(d->nactions == 1 && d->actions[0].kind == POLICY_MOVE &&
		   d->actions[0].id == 7 && d->actions[0].pu == 2,
	   "escape: the worker moves to the least busy PU, 2");
	is_int(d->nstart, 0, "escape: nothing starts");
	is_str(d->reason, "no free PU",
	       "escape: no PU waits for hysteresis once ours is on it");
	/* without the worker, PU 2 is what the starts wait for */
	in.nrunning = 0;
	pr.force_one = 0;
	snap.t_ns += snap.interval_ns;
	policy_decide(&in, st, d);
	is_str(d->reason, "waiting for PUs to stay free (hysteresis)",
	       "escape: with PU 2 empty, starts wait for it");
	policy_state_free(st);
	policy_decision_free(d);
}

int main(void)
{
	struct rmachine *m = calloc(1, sizeof *m);
	struct ref *r = calloc(1, sizeof *r);
	struct rwant *w = calloc(1, sizeof *w);

	if (!m || !r || !w)
		tap_bail("out of memory");
	test_random(m, r, w);
	test_big(m, r, w);
	test_escape_waiting();
	free(m);
	free(r);
	free(w);
	return tap_done();
}
