/* policy_decide with nicely-agent's taken PUs (policy_input.taken): on 4
 * idle single-PU cores, starts go to the PUs no other batch holds first,
 * and only double up when more may start than those; SMT siblings of a
 * taken PU come after free cores; a worker sharing a PU that another batch
 * keeps (POLICY_YIELD) moves to one nobody holds, and stays when there is
 * none; force_one prefers an untaken PU on a tie; without taken nothing
 * changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/topology.h"
#include "policy/builtins.h"
#include "policy/decide.h"
#include "tests/tap.h"

#define N 4

static struct agent_pu pus[N];
static struct agent_pu_load load[N];
static struct agent_snapshot snap;
static struct policy_preset pr;

/* A machine of N idle PUs: cores of 1 PU, or (smt) 2 cores of 2 PUs. */
static void machine(int smt)
{
	static int sib[N];

	memset(pus, 0, sizeof pus);
	for (int i = 0; i < N; i++) {
		pus[i].os_index = i;
		pus[i].core = smt ? i / 2 : i;
		pus[i].allowed = 1;
		pus[i].l3 = -1;
		if (smt) {
			sib[i] = i ^ 1;
			pus[i].siblings = &sib[i];
			pus[i].nsiblings = 1;
		}
		load[i] = (struct agent_pu_load){ .online = 1 };
	}
	snap = (struct agent_snapshot){ .t_ns = 100000000000ULL,
					.interval_ns = 500000000ULL,
					.valid = 1, .npus = N, .pu = load };
	pr = *builtins_find("normal");
	pr.load_ceiling = -1;
	pr.pressure_ceiling = -1;
	pr.mem_floor_kb = 0;
	pr.reserve_pus = 0;
	pr.ramp_up = 0;
	pr.max_pus = 0;
	pr.max_pus_pct = 0;
	pr.hysteresis_ms = 0;
	pr.smt_avoid = 0;
}

/* Decide once (a fresh state) and write the starts as "a b c" and the
 * actions as "move ID>PU ..." into out. */
static void decide(const unsigned char *taken, const struct policy_worker *run,
		   size_t nrun, size_t queued, int user_cap, char *out,
		   size_t outlen)
{
	struct policy_input in = { .snap = &snap, .pus = pus, .preset = &pr,
				   .running = run, .nrunning = nrun,
				   .queued = queued, .taken = taken };
	struct policy_state *st = policy_state_new(N);
	struct policy_decision *d = policy_decision_new(N, nrun ? nrun : 1);
	size_t len;

	if (!st || !d)
		tap_bail("out of memory");
	if (user_cap >= 0) {
		in.user_capped = 1;
		in.user_cap = user_cap;
	}
	policy_decide(&in, st, d);
	out[0] = 0;
	for (int i = 0; i < d->nstart; i++) {
		len = strlen(out);
		snprintf(out + len, outlen - len, "%s%d", i ? " " : "",
			 d->start_pus[i]);
	}
	for (size_t i = 0; i < d->nactions; i++) {
		len = strlen(out);
		snprintf(out + len, outlen - len, "%s%s %lld>%d",
			 len ? " " : "",
			 d->actions[i].kind == POLICY_MOVE ? "move" : "other",
			 (long long)d->actions[i].id, d->actions[i].pu);
	}
	policy_state_free(st);
	policy_decision_free(d);
}

int main(void)
{
	unsigned char taken[N];
	char out[256];
	struct policy_worker w[2];

	machine(0);
	decide(NULL, NULL, 0, 1, 1, out, sizeof out);
	is_str(out, "0", "nothing taken: the first start on PU 0");
	memset(taken, 0, sizeof taken);
	taken[0] = POLICY_TAKEN;
	decide(taken, NULL, 0, 1, 1, out, sizeof out);
	is_str(out, "1", "PU 0 held by another batch: the start goes to PU 1");
	taken[1] = POLICY_TAKEN;
	decide(taken, NULL, 0, 2, 2, out, sizeof out);
	is_str(out, "2 3", "PUs 0 and 1 held: two starts on 2 and 3");
	decide(taken, NULL, 0, 4, 4, out, sizeof out);
	is_str(out, "2 3 0 1", "a grant of 4: the untaken PUs first, then "
	       "doubling up on the taken ones");
	memset(taken, POLICY_TAKEN, sizeof taken);
	decide(taken, NULL, 0, 1, 1, out, sizeof out);
	is_str(out, "0", "every PU taken: it doubles up on the first");

	/* a worker of ours shares PU 0 with a batch that keeps it */
	memset(taken, 0, sizeof taken);
	taken[0] = POLICY_TAKEN | POLICY_YIELD;
	w[0] = (struct policy_worker){ .id = 7, .pu = 0 };
	decide(taken, w, 1, 0, 1, out, sizeof out);
	is_str(out, "move 7>1", "a worker yielding PU 0 moves to PU 1");
	taken[0] = POLICY_TAKEN;
	decide(taken, w, 1, 0, 1, out, sizeof out);
	is_str(out, "", "... not when the other batch is the one to yield");
	memset(taken, POLICY_TAKEN, sizeof taken);
	taken[0] |= POLICY_YIELD;
	decide(taken, w, 1, 0, 1, out, sizeof out);
	is_str(out, "", "... nor when every other PU is taken too");
	memset(taken, 0, sizeof taken);
	taken[0] = POLICY_TAKEN | POLICY_YIELD;
	taken[1] = POLICY_TAKEN;
	w[1] = (struct policy_worker){ .id = 8, .pu = 2 };
	decide(taken, w, 2, 1, 3, out, sizeof out);
	is_str(out, "1 move 7>3", "with PU 1 taken and 2 ours: to PU 3, and "
	       "the start doubles up on PU 1 (nothing untaken is left)");

	/* SMT: a core where another batch runs gives no tier-0 PU */
	machine(1);
	memset(taken, 0, sizeof taken);
	taken[0] = POLICY_TAKEN;
	decide(taken, NULL, 0, 2, 2, out, sizeof out);
	is_str(out, "2 1", "SMT, PU 0 taken: a free core first (2), then "
	       "PU 0's sibling before PU 2's");
	decide(taken, NULL, 0, 4, 4, out, sizeof out);
	is_str(out, "2 1 3 0", "... and the taken PU last");

	/* force_one: the least busy PU, an untaken one on a tie */
	machine(0);
	pr.force_one = 1;
	for (int i = 0; i < N; i++)
		load[i].busy_others = 0.9;
	memset(taken, 0, sizeof taken);
	taken[0] = POLICY_TAKEN;
	decide(taken, NULL, 0, 1, 1, out, sizeof out);
	is_str(out, "1", "force_one on a busy machine: not the taken PU 0");
	return tap_done();
}
