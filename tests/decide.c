/* Table tests of policy_decide on hand-built topologies (the shape hwloc
 * gives for synthetic "pack:P l3:L core:C pu:T") and hand-made snapshots:
 * every preset on idle, half-busy and busy machines, SMT, memory, pressure
 * and load ceilings, force_one, limits, placement, reactions, hysteresis. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/builtins.h"
#include "policy/decide.h"
#include "policy/presets.h"
#include "tests/fixture_dir.h"
#include "tests/tap.h"

#define MAXPU 64
#define SEC 1000000000ULL

/* A machine: topology table, snapshot, our workers. */
struct machine {
	int n;
	struct agent_pu pus[MAXPU];
	int sib[MAXPU][4];
	struct agent_pu_load load[MAXPU];
	struct agent_snapshot snap;
	struct policy_worker run[MAXPU];
	size_t nrun;
	struct policy_state *st;
	struct policy_decision *d;
	int64_t next_id;
};

/* Build npack packages of nl3 L3s of ncore cores of npu PUs, idle. */
static void machine_init(struct machine *m, int npack, int nl3, int ncore,
			 int npu)
{
	memset(m, 0, sizeof *m);
	m->n = npack * nl3 * ncore * npu;
	if (m->n > MAXPU)
		tap_bail("machine too large");
	for (int i = 0; i < m->n; i++) {
		struct agent_pu *p = &m->pus[i];
		int core = i / npu;
		p->os_index = i;
		p->core = core;
		p->l3 = core / ncore;
		p->package = p->l3 / nl3;
		p->numa = p->package;
		p->allowed = 1;
		p->nsiblings = 0;
		for (int j = core * npu; j < (core + 1) * npu; j++)
			if (j != i)
				m->sib[i][p->nsiblings++] = j;
		p->siblings = m->sib[i];
		m->load[i].online = 1;
	}
	m->snap.npus = m->n;
	m->snap.pu = m->load;
	m->snap.valid = 1;
	m->snap.t_ns = 100 * SEC;
	m->snap.interval_ns = SEC / 2;
	m->snap.mem_total_kb = 64ULL << 20;
	m->snap.mem_available_kb = 32ULL << 20;
	m->snap.has_psi = 1;
	m->st = policy_state_new(m->n);
	m->d = policy_decision_new(m->n, MAXPU);
	m->next_id = 1;
}

/* Free what machine_init allocated. */
static void machine_free(struct machine *m)
{
	policy_state_free(m->st);
	policy_decision_free(m->d);
}

/* Others use share of PUs [from, to). The load average follows. */
static void machine_busy(struct machine *m, int from, int to, double share)
{
	double sum = 0;

	for (int i = from; i < to; i++)
		m->load[i].busy_others = share;
	for (int i = 0; i < m->n; i++)
		sum += m->load[i].busy_others;
	m->snap.loadavg[0] = sum;
}

/* One tick at the current time with queued tasks waiting. */
static struct policy_decision *machine_tick(struct machine *m,
					    const struct policy_preset *p,
					    size_t queued)
{
	struct policy_input in = {
		.snap = &m->snap, .pus = m->pus, .preset = p,
		.running = m->run, .nrunning = m->nrun, .queued = queued,
	};
	policy_decide(&in, m->st, m->d);
	return m->d;
}

/* Apply a decision as sched/ would: start, move, pause, resume, stop. */
static void machine_apply(struct machine *m)
{
	struct policy_decision *d = m->d;

	for (size_t a = 0; a < d->nactions; a++) {
		struct policy_action *act = &d->actions[a];
		for (size_t j = 0; j < m->nrun; j++) {
			if (m->run[j].id != act->id)
				continue;
			switch (act->kind) {
			case POLICY_MOVE: m->run[j].pu = act->pu; break;
			case POLICY_PAUSE: m->run[j].paused = 1; break;
			case POLICY_RESUME: m->run[j].paused = 0; break;
			case POLICY_STOP:
				m->run[j] = m->run[--m->nrun];
				break;
			}
			break;
		}
	}
	for (int i = 0; i < d->nstart; i++) {
		struct policy_worker *w = &m->run[m->nrun++];
		w->id = m->next_id++;
		w->pu = d->start_pus[i];
		w->paused = 0;
	}
}

/* Tick every half second, applying decisions, until nothing changes;
 * returns how many workers run. */
static int machine_settle(struct machine *m, const struct policy_preset *p,
			  size_t queued)
{
	for (int round = 0; round < 200; round++) {
		struct policy_decision *d = machine_tick(m, p, queued - m->nrun);
		machine_apply(m);
		m->snap.t_ns += SEC / 2;
		if (d->nstart == 0 && d->nactions == 0 && round > 20)
			break;
	}
	return (int)m->nrun;
}

/* 1 when PU pu is in the decision's starts. */
static int starts_on(const struct policy_decision *d, int pu)
{
	for (int i = 0; i < d->nstart; i++)
		if (d->start_pus[i] == pu)
			return 1;
	return 0;
}

/* The built-in preset name, copied so a test can change it. */
static struct policy_preset preset(const char *name)
{
	const struct policy_preset *p = builtins_find(name);

	if (!p)
		tap_bail("built-in preset missing");
	return *p;
}

/* How many workers each preset settles at on a machine prepared by fn. */
static void settle_all(const char *what, void (*fn)(struct machine *),
		       const int want[5])
{
	static const char *const names[] = { "generous", "normal", "aggressive",
					     "extreme", "nuclear" };
	for (int i = 0; i < 5; i++) {
		struct machine m;
		struct policy_preset p = preset(names[i]);
		machine_init(&m, 2, 1, 4, 2);
		fn(&m);
		is_int(machine_settle(&m, &p, 1000), want[i], "%s: %s runs %d",
		       what, names[i], want[i]);
		machine_free(&m);
	}
}

/* Nothing else runs. */
static void prep_idle(struct machine *m)
{
	machine_busy(m, 0, 0, 0);
}

/* Package 0 (PUs 0-7) is 90% busy by others. */
static void prep_half(struct machine *m)
{
	machine_busy(m, 0, 8, 0.9);
}

/* Package 0 is 40% busy: busy for generous and normal only. */
static void prep_half_light(struct machine *m)
{
	machine_busy(m, 0, 8, 0.4);
}

/* Every PU fully busy by others. */
static void prep_full(struct machine *m)
{
	machine_busy(m, 0, 16, 1.0);
}

/* The first tick of every preset on an idle 16-PU machine. */
static void test_first_tick_idle(void)
{
	static const char *const names[] = { "generous", "normal", "aggressive",
					     "extreme", "nuclear" };
	static const int want[] = { 1, 2, 4, 16, 16 };

	for (int i = 0; i < 5; i++) {
		struct machine m;
		struct policy_preset p = preset(names[i]);
		machine_init(&m, 2, 1, 4, 2);
		struct policy_decision *d = machine_tick(&m, &p, 100);
		is_int(d->nstart, want[i], "idle, first tick: %s starts %d",
		       names[i], want[i]);
		is_int(d->nice, p.nice, "%s: nice %d", names[i], p.nice);
		machine_free(&m);
	}
}

/* The first snapshot has no deltas: only nuclear starts. */
static void test_invalid_snapshot(void)
{
	struct machine m;
	struct policy_preset p = preset("normal");

	machine_init(&m, 1, 1, 2, 1);
	m.snap.valid = 0;
	struct policy_decision *d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 0, "invalid snapshot: normal starts nothing");
	is_str(d->reason, "first sample: no load data yet", "  and says why");
	p = preset("nuclear");
	d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 2, "invalid snapshot: nuclear starts on every PU");
	machine_free(&m);
}

/* Fully busy: force_one starts one when nothing of ours runs, generous
 * never does, and nobody starts a second. */
static void test_force_one(void)
{
	struct machine m;
	struct policy_preset p = preset("generous");

	machine_init(&m, 2, 1, 4, 2);
	prep_full(&m);
	m.load[5].busy_others = 0.95;
	struct policy_decision *d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 0, "busy machine: generous waits");
	is_str(d->reason, "load average above the ceiling", "  reason: load");
	p = preset("normal");
	d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 1, "busy machine: normal forces one");
	ok(d->nstart == 1 && d->start_pus[0] == 5, "  on the least busy PU");
	machine_apply(&m);
	m.snap.t_ns += SEC;
	d = machine_tick(&m, &p, 9);
	is_int(d->nstart, 0, "  but not a second one while it runs");
	p.force_one = 0;
	m.nrun = 0;
	d = machine_tick(&m, &p, 9);
	is_int(d->nstart, 0, "normal with force_one = no waits");
	machine_free(&m);
}

/* SMT: a PU whose sibling is busy by others is not free under smt_avoid. */
static void test_smt(void)
{
	struct machine m;
	struct policy_preset p = preset("normal");

	machine_init(&m, 1, 1, 2, 2);	/* PUs 0,1 core 0; 2,3 core 1 */
	machine_busy(&m, 0, 1, 0.9);
	p.ramp_up = 0;
	p.reserve_pus = 0;
	struct policy_decision *d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 2, "smt_avoid: sibling of a busy PU is not used");
	ok(!starts_on(d, 1) && starts_on(d, 2) && starts_on(d, 3),
	   "  starts on PUs 2 and 3");
	p.smt_avoid = 0;
	policy_state_free(m.st);
	m.st = policy_state_new(m.n);
	d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 3, "smt_avoid = no: the sibling is used");
	ok(starts_on(d, 1), "  PU 1 among them");
	ok(d->nstart >= 1 && d->start_pus[0] == 2,
	   "  but the whole free core first");
	machine_free(&m);
}

/* Memory below the floor stops every start, force_one included. */
static void test_mem_floor(void)
{
	struct machine m;
	struct policy_preset p = preset("normal");

	machine_init(&m, 2, 1, 4, 2);
	m.snap.mem_available_kb = 100 * 1024;
	struct policy_decision *d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 0, "memory below the floor: nothing starts");
	is_str(d->reason, "free memory below the floor", "  reason: memory");
	p = preset("nuclear");
	d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 10, "nuclear has no memory floor: starts the queue");
	machine_free(&m);
}

/* PSI above the ceiling blocks starts (force_one aside). */
static void test_pressure(void)
{
	struct machine m;
	struct policy_preset p = preset("normal");

	machine_init(&m, 2, 1, 4, 2);
	m.snap.psi_some_avg10 = 30;
	m.run[0] = (struct policy_worker){ .id = 99, .pu = 0 };
	m.nrun = 1;
	struct policy_decision *d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 0, "pressure 30%% > normal's 25%%: no start");
	is_str(d->reason, "CPU pressure above the ceiling", "  reason: pressure");
	p = preset("aggressive");
	d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 4, "aggressive (50%%) starts");
	m.snap.has_psi = 0;
	p = preset("normal");
	d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 2, "no PSI on the kernel: the ceiling is not applied");
	machine_free(&m);
}

/* Load average per allowed PU above the ceiling, ours subtracted. */
static void test_load(void)
{
	struct machine m;
	struct policy_preset p = preset("normal");

	machine_init(&m, 2, 1, 4, 2);
	m.snap.loadavg[0] = 18;		/* 17 of others, 1 ours */
	m.run[0] = (struct policy_worker){ .id = 99, .pu = 0 };
	m.nrun = 1;
	struct policy_decision *d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 0, "load 17/16 per PU > 1.0: no start");
	is_str(d->reason, "load average above the ceiling", "  reason: load");
	p = preset("aggressive");
	d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 4, "aggressive (1.5) starts");
	p = preset("normal");
	m.snap.loadavg[0] = 16 + 1;	/* our one worker counts 1 */
	d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 2, "our own workers do not count toward the load");
	m.run[0].paused = 1;
	d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 0, "a paused worker of ours is not in the load: "
		       "17/16 is others'");
	machine_free(&m);
}

/* Edges: a PU used exactly at the threshold is busy; an offline SMT
 * sibling (busy 1.0 in the snapshot) does not make its PU busy; an unknown
 * memory total (0) means no floor check. */
static void test_edges(void)
{
	struct machine m;
	struct policy_preset p = preset("normal");

	p.ramp_up = 0;
	p.reserve_pus = 0;
	machine_init(&m, 1, 1, 2, 1);
	machine_busy(&m, 0, 1, p.idle_threshold);
	struct policy_decision *d = machine_tick(&m, &p, 10);
	ok(d->nstart == 1 && d->start_pus[0] == 1,
	   "others at exactly idle_threshold: the PU is busy");
	machine_free(&m);

	machine_init(&m, 1, 1, 2, 2);	/* PUs 0,1 core 0; 2,3 core 1 */
	m.load[1].online = 0;
	m.load[1].busy_others = m.load[1].busy_raw = 1.0;
	d = machine_tick(&m, &p, 10);
	ok(d->nstart == 3 && starts_on(d, 0) && !starts_on(d, 1),
	   "an offline sibling does not make its PU busy (smt_avoid)");
	machine_free(&m);

	machine_init(&m, 1, 1, 2, 1);
	m.snap.mem_total_kb = 0;
	m.snap.mem_available_kb = 0;
	d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 2, "memory unknown (total 0): no floor check");
	machine_free(&m);
}

/* A limit clamps an aggressive preset: what it would start changes. */
static void test_limit(void)
{
	struct machine m;
	struct policy_preset p = preset("extreme");

	machine_init(&m, 2, 1, 4, 2);
	machine_busy(&m, 0, 16, 0.6);
	m.snap.loadavg[0] = 2;
	m.run[0] = (struct policy_worker){ .id = 99, .pu = 0 };
	m.nrun = 1;
	struct policy_decision *d = machine_tick(&m, &p, 100);
	is_int(d->nstart, 15, "extreme counts 60%% busy PUs as free");
	unsigned mask = presets_clamp(&p, builtins_find("aggressive"));
	ok(mask & (1u << PRESETS_IDLE_THRESHOLD), "clamped to aggressive");
	d = machine_tick(&m, &p, 100);
	is_int(d->nstart, 0, "  then nothing is free");
	machine_free(&m);
}

/* Spread vs compact on pack:2 l3:1 core:4 pu:2. */
static void test_placement(void)
{
	struct machine m;
	struct policy_preset p = preset("aggressive");	/* ramp 4, no reserve */

	machine_init(&m, 2, 1, 4, 2);
	struct policy_decision *d = machine_tick(&m, &p, 100);
	ok(d->nstart == 4 && starts_on(d, 0) && starts_on(d, 2) &&
	   starts_on(d, 8) && starts_on(d, 10),
	   "spread: two cores in each package (0 2 8 10)");
	p.placement = POLICY_PLACE_COMPACT;
	d = machine_tick(&m, &p, 100);
	ok(d->nstart == 4 && starts_on(d, 0) && starts_on(d, 2) &&
	   starts_on(d, 4) && starts_on(d, 6),
	   "compact: four cores of package 0 (0 2 4 6)");
	m.run[0] = (struct policy_worker){ .id = 99, .pu = 9 };
	m.nrun = 1;
	p.ramp_up = 1;
	d = machine_tick(&m, &p, 100);
	ok(d->nstart == 1 && d->start_pus[0] >= 8 && d->start_pus[0] != 9 &&
	   d->start_pus[0] != 8,
	   "compact: next to our worker, another core of package 1");
	p.placement = POLICY_PLACE_SPREAD;
	d = machine_tick(&m, &p, 100);
	ok(d->nstart == 1 && d->start_pus[0] < 8,
	   "spread: away from our worker, package 0");
	p.ramp_up = 0;
	p.max_pus = 16;
	d = machine_tick(&m, &p, 100);
	is_int(d->nstart, 15, "every free PU except the one holding our worker");
	ok(!starts_on(d, 9), "  PU 9 holds ours and is not free");
	machine_free(&m);
}

/* Inside one package the placement group is the L3: spread takes the L3
 * with fewer of ours, compact the one with more (pack:1 l3:2 core:2 pu:1,
 * L3 0 = PUs 0-1, L3 1 = PUs 2-3). */
static void test_placement_l3(void)
{
	for (int compact = 0; compact <= 1; compact++) {
		struct machine m;
		struct policy_preset p = preset("aggressive");

		p.placement = compact ? POLICY_PLACE_COMPACT : POLICY_PLACE_SPREAD;
		machine_init(&m, 1, 2, 2, 1);
		m.run[0] = (struct policy_worker){ .id = 1,
						   .pu = compact ? 2 : 0 };
		m.nrun = 1;
		struct policy_decision *d = machine_tick(&m, &p, 1);
		ok(d->nstart == 1 && d->start_pus[0] >= 2,
		   "%s, ours in L3 %d: next start in L3 1",
		   compact ? "compact" : "spread", compact ? 1 : 0);
		machine_free(&m);
	}
}

/* The same placement on hwloc's own table for the synthetic topology. */
static void test_placement_hwloc(void)
{
	struct agent_topology *topo;
	char err[256];
	struct machine m;
	struct policy_preset p = preset("aggressive");

	if (agent_topology_load(&topo, "synthetic:pack:2 l3:1 core:4 pu:2", err,
				sizeof err) < 0) {
		ok(0, "synthetic topology loads: %s", err);
		return;
	}
	machine_init(&m, 2, 1, 4, 2);
	memcpy(m.pus, agent_topology_pus(topo), sizeof m.pus[0] * 16);
	is_int(agent_topology_npus(topo), 16, "hwloc: 16 PUs");
	struct policy_decision *d = machine_tick(&m, &p, 100);
	int pk[2] = { 0, 0 }, cores = 0, seen[16] = { 0 };
	for (int i = 0; i < d->nstart; i++) {
		const struct agent_pu *pu = &m.pus[d->start_pus[i]];
		pk[pu->package & 1]++;
		cores += !seen[pu->core & 15]++;
	}
	ok(d->nstart == 4 && pk[0] == 2 && pk[1] == 2 && cores == 4,
	   "hwloc table, spread: 2 per package on 4 distinct cores");
	p.placement = POLICY_PLACE_COMPACT;
	d = machine_tick(&m, &p, 100);
	pk[0] = pk[1] = cores = 0;
	memset(seen, 0, sizeof seen);
	for (int i = 0; i < d->nstart; i++) {
		const struct agent_pu *pu = &m.pus[d->start_pus[i]];
		pk[pu->package & 1]++;
		cores += !seen[pu->core & 15]++;
	}
	ok(d->nstart == 4 && (pk[0] == 4 || pk[1] == 4) && cores == 4,
	   "hwloc table, compact: 4 distinct cores of one package");
	machine_free(&m);
	agent_topology_free(topo);
}

/* hwloc's allowed flags from an XML topology with a restricted cpuset:
 * nuclear uses exactly the allowed PUs. */
static void test_allowed_xml(const char *argv0)
{
	char fixtures[PATH_MAX], spec[PATH_MAX + 64], err[256];
	struct agent_topology *topo;
	struct machine m;
	struct policy_preset p = preset("nuclear");

	if (fixture_dir(argv0, fixtures) < 0) {
		ok(0, "tests/fixtures found");
		return;
	}
	snprintf(spec, sizeof spec, "xml:%s/topology/pack2-numa-l3-allowed.xml",
		 fixtures);
	if (agent_topology_load(&topo, spec, err, sizeof err) < 0) {
		ok(0, "XML topology loads: %s", err);
		return;
	}
	int n = agent_topology_npus(topo), nallowed = 0, wrong = 0;
	if (n > MAXPU) {
		ok(0, "XML topology fits the test's table");
		agent_topology_free(topo);
		return;
	}
	machine_init(&m, 1, 1, n, 1);
	memcpy(m.pus, agent_topology_pus(topo), sizeof m.pus[0] * (size_t)n);
	for (int i = 0; i < n; i++)
		nallowed += m.pus[i].allowed;
	struct policy_decision *d = machine_tick(&m, &p, 1000);
	for (int i = 0; i < d->nstart; i++)
		wrong += !m.pus[d->start_pus[i]].allowed;
	ok(nallowed > 0 && nallowed < n, "XML fixture: %d of %d PUs allowed",
	   nallowed, n);
	ok(d->nstart == nallowed && wrong == 0,
	   "nuclear starts on exactly the allowed PUs");
	machine_free(&m);
	agent_topology_free(topo);
}

/* Others return to PU 3 which our worker uses, under each reaction. */
static void test_reactions(void)
{
	static const enum policy_reaction r[] = {
		POLICY_REACT_KEEP, POLICY_REACT_MOVE, POLICY_REACT_PAUSE,
		POLICY_REACT_STOP };
	static const char *const rn[] = { "keep", "move", "pause", "stop" };

	for (int i = 0; i < 4; i++) {
		struct machine m;
		struct policy_preset p = preset("normal");
		p.on_return = r[i];
		p.hysteresis_ms = 1000;
		machine_init(&m, 1, 1, 4, 1);
		m.run[0] = (struct policy_worker){ .id = 7, .pu = 3 };
		m.nrun = 1;
		struct policy_decision *d = machine_tick(&m, &p, 0);
		is_int(d->nactions, 0, "%s: idle, no action", rn[i]);
		machine_busy(&m, 3, 4, 0.9);
		m.snap.t_ns += SEC / 2;
		d = machine_tick(&m, &p, 0);
		is_int(d->nactions, 0, "%s: busy for 0 s < hysteresis: no action",
		       rn[i]);
		m.snap.t_ns += SEC / 2;
		d = machine_tick(&m, &p, 0);
		is_int(d->nactions, 0, "%s: busy for 0.5 s: no action", rn[i]);
		m.snap.t_ns += SEC / 2;
		d = machine_tick(&m, &p, 0);
		if (r[i] == POLICY_REACT_KEEP) {
			is_int(d->nactions, 0, "keep: stays");
		} else {
			int want = r[i] == POLICY_REACT_MOVE ? POLICY_MOVE
				 : r[i] == POLICY_REACT_PAUSE ? POLICY_PAUSE
							       : POLICY_STOP;
			ok(d->nactions == 1 && (int)d->actions[0].kind == want &&
			   d->actions[0].id == 7,
			   "%s: after 1 s the worker is acted on", rn[i]);
			if (want == POLICY_MOVE)
				ok(d->actions[0].pu >= 0 && d->actions[0].pu < 3,
				   "  moved to a free PU");
		}
		machine_free(&m);
	}
}

/* Unpinned workers (pu -1) run on PUs that look free: they use up
 * candidates, so normal still keeps its reserve (4 PUs: 2 unpinned + 1
 * start + 1 free); a paused unpinned one uses none. */
static void test_unpinned(void)
{
	struct machine m;
	struct policy_preset p = preset("normal");

	machine_init(&m, 1, 1, 4, 1);
	m.run[0] = (struct policy_worker){ .id = 1, .pu = -1 };
	m.run[1] = (struct policy_worker){ .id = 2, .pu = -1 };
	m.nrun = 2;
	struct policy_decision *d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 1, "2 unpinned running on 4 PUs: one start, one PU "
		       "kept free");
	m.run[1].paused = 1;
	d = machine_tick(&m, &p, 10);
	is_int(d->nstart, 2, "one of them paused: two starts");
	machine_free(&m);
}

/* A decision sized for fewer workers or PUs than the tick has decides
 * nothing rather than writing past its arrays. */
static void test_decision_size(void)
{
	struct machine m;
	struct policy_preset p = preset("normal");

	machine_init(&m, 1, 1, 4, 1);
	policy_decision_free(m.d);
	m.d = policy_decision_new(4, 1);
	for (int i = 0; i < 2; i++)
		m.run[i] = (struct policy_worker){ .id = i, .pu = 5 - 5 * i };
	m.nrun = 2;
	machine_busy(&m, 0, 4, 0.9);
	struct policy_decision *d = machine_tick(&m, &p, 10);
	ok(d->nstart == 0 && d->nactions == 0 && strstr(d->reason, "too small"),
	   "2 workers, room for 1 action: nothing decided");
	policy_decision_free(m.d);
	m.d = policy_decision_new(2, 2);
	d = machine_tick(&m, &p, 10);
	ok(d->nstart == 0 && d->nactions == 0 && strstr(d->reason, "too small"),
	   "4 PUs, room for 2 starts: nothing decided");
	machine_free(&m);
}

/* normal keeps one PU free for others: a worker others come back to is not
 * moved onto the last free PU (a running one stays, a paused one stays
 * paused), but is moved when a second free PU exists. */
static void test_move_reserve(void)
{
	for (int npu = 4; npu <= 5; npu++) {
		for (int paused = 0; paused <= 1; paused++) {
			struct machine m;
			struct policy_preset p = preset("normal");

			p.on_return = paused ? POLICY_REACT_PAUSE : POLICY_REACT_MOVE;
			machine_init(&m, 1, 1, npu, 1);
			for (int i = 0; i < 3; i++)
				m.run[i] = (struct policy_worker){
					.id = 10 + i, .pu = i, .paused = paused && !i };
			m.nrun = 3;
			machine_busy(&m, 0, 1, 0.9);
			struct policy_decision *d = machine_tick(&m, &p, 0);
			if (npu == 4)
				is_int(d->nactions, 0,
				       "%d PUs, %s worker on a busy PU, only the "
				       "reserve free: stays", npu,
				       paused ? "paused" : "running");
			else
				ok(d->nactions == 1 && d->actions[0].kind == POLICY_MOVE &&
				   d->actions[0].id == 10 && d->actions[0].pu >= 3,
				   "%d PUs, %s worker on a busy PU, two free: "
				   "moved", npu, paused ? "paused" : "running");
			machine_free(&m);
		}
	}
}

/* A paused worker resumes once its PU has been free long enough, or moves
 * while paused when another PU is free. */
static void test_resume(void)
{
	struct machine m;
	struct policy_preset p = preset("generous");

	p.hysteresis_ms = 1000;
	machine_init(&m, 1, 1, 2, 1);
	machine_busy(&m, 0, 2, 0.9);
	m.run[0] = (struct policy_worker){ .id = 5, .pu = 1, .paused = 1 };
	m.nrun = 1;
	struct policy_decision *d = machine_tick(&m, &p, 0);
	is_int(d->nactions, 0, "paused on a busy PU, nothing free: stays paused");
	machine_busy(&m, 1, 2, 0.0);
	m.snap.t_ns += SEC / 2;
	d = machine_tick(&m, &p, 0);
	is_int(d->nactions, 0, "PU free for 0 s: not yet resumed");
	m.snap.t_ns += SEC;
	d = machine_tick(&m, &p, 0);
	ok(d->nactions == 1 && d->actions[0].kind == POLICY_RESUME &&
	   d->actions[0].id == 5, "free for 1 s: resumed");
	machine_free(&m);

	machine_init(&m, 1, 1, 2, 1);
	machine_busy(&m, 1, 2, 0.9);
	m.run[0] = (struct policy_worker){ .id = 5, .pu = 1, .paused = 1 };
	m.nrun = 1;
	d = machine_tick(&m, &p, 3);
	ok(d->nactions == 1 && d->actions[0].kind == POLICY_MOVE &&
	   d->actions[0].pu == 0, "paused on a busy PU, PU 0 free: moved there");
	is_int(d->nstart, 0, "  and PU 0 is not used for a new start");
	machine_free(&m);
}

/* A PU flapping between busy and free every tick is never used. */
static void test_hysteresis(void)
{
	struct machine m;
	struct policy_preset p = preset("normal");
	int started = 0;

	p.force_one = 0;
	machine_init(&m, 1, 1, 2, 1);
	machine_busy(&m, 0, 2, 0.9);
	for (int t = 0; t < 21; t++) {
		machine_busy(&m, 1, 2, t % 2 ? 0.0 : 0.9);
		struct policy_decision *d = machine_tick(&m, &p, 5);
		started += d->nstart;
		m.snap.t_ns += SEC / 2;
	}
	is_int(started, 0, "a PU flapping every 0.5 s is never used (2 s)");
	for (int t = 0; t < 5; t++) {
		machine_busy(&m, 1, 2, 0.0);
		struct policy_decision *d = machine_tick(&m, &p, 5);
		started += d->nstart;
		if (t == 3)
			is_int(started, 0, "  free for 1.5 s: still waiting");
		m.snap.t_ns += SEC / 2;
	}
	is_int(started, 1, "  free for 2 s: used");
	machine_free(&m);
}

/* Not-allowed and offline PUs are never used; a worker on a PU that went
 * offline is moved. */
static void test_allowed_offline(void)
{
	struct machine m;
	struct policy_preset p = preset("nuclear");

	machine_init(&m, 2, 1, 4, 2);
	for (int i = 0; i < 8; i++)
		m.pus[i].allowed = 0;
	m.load[9].online = 0;
	struct policy_decision *d = machine_tick(&m, &p, 100);
	is_int(d->nstart, 7, "nuclear: only the 7 allowed online PUs");
	int bad = 0;
	for (int i = 0; i < d->nstart; i++)
		bad += d->start_pus[i] < 8 || d->start_pus[i] == 9;
	is_int(bad, 0, "  none of them forbidden or offline");
	m.run[0] = (struct policy_worker){ .id = 3, .pu = 9 };
	m.nrun = 1;
	p = preset("normal");
	d = machine_tick(&m, &p, 0);
	ok(d->nactions == 1 && d->actions[0].kind == POLICY_MOVE &&
	   d->actions[0].pu >= 8 && d->actions[0].pu != 9,
	   "a worker on an offline PU is moved to an allowed one");
	machine_free(&m);
}

/* max_pus as count and percent, queue length, reserve on small machines. */
static void test_caps(void)
{
	struct machine m;
	struct policy_preset p = preset("extreme");

	machine_init(&m, 2, 1, 4, 2);
	p.max_pus = 3;
	is_int(machine_tick(&m, &p, 100)->nstart, 3, "max_pus = 3");
	p.max_pus = 0;
	p.max_pus_pct = 25;
	is_int(machine_tick(&m, &p, 100)->nstart, 4, "max_pus = 25%% of 16");
	m.run[0] = (struct policy_worker){ .id = 1, .pu = 0 };
	m.run[1] = (struct policy_worker){ .id = 2, .pu = 8, .paused = 1 };
	m.nrun = 2;
	struct policy_decision *d = machine_tick(&m, &p, 100);
	is_int(d->nstart, 2, "  running and paused workers count");
	m.nrun = 0;
	p.max_pus_pct = 0;
	d = machine_tick(&m, &p, 3);
	is_int(d->nstart, 3, "no more than the queue");
	is_str(d->reason, "all queued tasks started", "  reason says so");
	d = machine_tick(&m, &p, 0);
	is_str(d->reason, "nothing queued", "empty queue");
	machine_free(&m);

	p = preset("normal");
	machine_init(&m, 1, 1, 2, 1);
	is_int(machine_settle(&m, &p, 100), 2,
	       "normal on 2 PUs: no reserve (not more than 2)");
	machine_free(&m);
	machine_init(&m, 1, 1, 4, 1);
	is_int(machine_settle(&m, &p, 100), 3, "normal on 4 PUs: one kept free");
	machine_free(&m);
}

/* One tick with the per-user allowance (user_cap) set. */
static struct policy_decision *user_tick(struct machine *m,
					 const struct policy_preset *p,
					 size_t queued, int user_cap)
{
	struct policy_input in = {
		.snap = &m->snap, .pus = m->pus, .preset = p,
		.running = m->run, .nrunning = m->nrun, .queued = queued,
		.user_capped = 1, .user_cap = user_cap,
	};
	policy_decide(&in, m->st, m->d);
	return m->d;
}

/* The per-user limit as an input: what the user's other batches leave. */
static void test_user_cap(void)
{
	static const struct {
		const char *preset, *what;
		int busy;	/* machine fully busy by others */
		int running, paused, user_cap, queued, want;
		const char *reason;
	} t[] = {
		{ "nuclear", "0 left: nothing starts", 0, 0, 0, 0, 10, 0,
		  POLICY_REASON_USER_LIMIT },
		{ "normal", "0 left on a busy machine: force_one does not "
		  "start one", 1, 0, 0, 0, 10, 0, NULL },
		{ "normal", "1 left on a busy machine: force_one starts one",
		  1, 0, 0, 1, 10, 1, NULL },
		{ "nuclear", "negative (others over the limit): nothing", 0, 0,
		  0, -2, 10, 0, POLICY_REASON_USER_LIMIT },
		{ "nuclear", "3 left of 16 free PUs: 3 start", 0, 0, 0, 3, 10,
		  3, POLICY_REASON_USER_LIMIT },
		{ "nuclear", "3 left, 2 queued: 2", 0, 0, 0, 3, 2, 2,
		  "all queued tasks started" },
		{ "nuclear", "cap 3 with 2 running: 1 more", 0, 2, 0, 3, 10, 1,
		  POLICY_REASON_USER_LIMIT },
		{ "nuclear", "cap 3 with 2 running, 1 paused: none", 0, 2, 1, 3,
		  10, 0, POLICY_REASON_USER_LIMIT },
		{ "nuclear", "cap 2 with 3 running: none, none stopped", 0, 3,
		  0, 2, 10, 0, POLICY_REASON_USER_LIMIT },
		{ "extreme", "cap above the preset's max_pus: max_pus holds",
		  0, 0, 0, 12, 100, 5, "max PUs reached" },
	};

	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		struct machine m;
		struct policy_preset p = preset(t[i].preset);

		machine_init(&m, 2, 1, 4, 2);
		if (t[i].busy)
			prep_full(&m);
		if (!strcmp(t[i].preset, "extreme"))
			p.max_pus = 5;
		for (int k = 0; k < t[i].running + t[i].paused; k++)
			m.run[m.nrun++] = (struct policy_worker){
				.id = k + 1, .pu = 2 * k,
				.paused = k >= t[i].running };
		struct policy_decision *d =
			user_tick(&m, &p, (size_t)t[i].queued, t[i].user_cap);
		is_int(d->nstart, t[i].want, t[i].what);
		if (t[i].reason)
			is_str(d->reason, t[i].reason, "  reason");
		int stops = 0;
		for (size_t a = 0; a < d->nactions; a++)
			stops += d->actions[a].kind == POLICY_STOP;
		ok(stops == 0, "  no worker stopped for the per-user limit");
		machine_free(&m);
	}
	/* without user_capped, user_cap 0 means nothing */
	struct machine m;
	struct policy_preset p = preset("nuclear");

	machine_init(&m, 2, 1, 4, 2);
	is_int(machine_tick(&m, &p, 100)->nstart, 16,
	       "user_capped = 0: no per-user cap (16 start)");
	machine_free(&m);
}

/* Run the decide table tests. */
int main(int argc, char **argv)
{
	static const int idle[5] = { 15, 15, 16, 16, 16 };
	static const int half[5] = { 7, 7, 8, 8, 16 };
	static const int light[5] = { 7, 7, 16, 16, 16 };
	static const int full[5] = { 0, 1, 1, 1, 16 };

	test_first_tick_idle();
	settle_all("idle machine", prep_idle, idle);
	settle_all("half busy (90%)", prep_half, half);
	settle_all("half busy (40%)", prep_half_light, light);
	settle_all("fully busy", prep_full, full);
	test_invalid_snapshot();
	test_force_one();
	test_smt();
	test_mem_floor();
	test_pressure();
	test_load();
	test_limit();
	test_placement();
	test_placement_hwloc();
	test_allowed_xml(argc > 0 ? argv[0] : "decide.t");
	test_edges();
	test_placement_l3();
	test_reactions();
	test_move_reserve();
	test_unpinned();
	test_decision_size();
	test_resume();
	test_hysteresis();
	test_allowed_offline();
	test_caps();
	test_user_cap();
	return tap_done();
}
