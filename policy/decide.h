/* policy/decide: the gate. A pure function of (snapshot, topology, preset,
 * our running workers, queue length, hysteresis memory) -> what to start
 * where and what to move, pause, resume or stop. No I/O, no clock, no
 * globals: time comes from the snapshot. Called by sched/ once per tick. */
#ifndef POLICY_DECIDE_H
#define POLICY_DECIDE_H

#include <stddef.h>
#include <stdint.h>

#include "agent/sampler.h"
#include "agent/topology.h"
#include "policy/preset.h"

/* One of our running workers as decide sees it. */
struct policy_worker {
	int64_t id;	/* the caller's handle, echoed back in actions */
	int pu;		/* PU index it is pinned to, -1 if not pinned */
	int paused;	/* 1 while frozen by a PAUSE action */
};

/* Memory decide keeps between ticks, one entry per PU; the caller allocates
 * it with policy_state_new and passes the same one every tick. */
struct policy_state {
	int npus;
	uint64_t *free_since_ns;  /* 0 = not free at the last tick */
	uint64_t *busy_since_ns;  /* 0 = not busy by others at the last tick */
	/* Added: 1 once a valid snapshot was seen. The first valid snapshot
	 * has no history, so what it shows counts as already stable (its
	 * "since" is POLICY_SINCE_FOREVER). */
	int seeded;
	int *scratch;		/* per-tick work space, so decide never allocates */
};
#define POLICY_SINCE_FOREVER 1

enum policy_action_kind {
	POLICY_MOVE,	/* re-pin worker `id` to `pu` */
	POLICY_PAUSE,	/* freeze worker `id` */
	POLICY_RESUME,	/* thaw worker `id` (it stays on its PU) */
	POLICY_STOP,	/* kill worker `id`, its task goes back to the queue */
};

struct policy_action {
	enum policy_action_kind kind;
	int64_t id;
	int pu;
};

struct policy_input {
	const struct agent_snapshot *snap;
	const struct agent_pu *pus;	/* topology table, snap->npus entries */
	const struct policy_preset *preset;	/* limits already applied */
	const struct policy_worker *running;
	size_t nrunning;
	size_t queued;		/* tasks waiting to start */
	/* Added: what the admin's per-user [limits] max_pus leaves this
	 * batch once the user's other batches are counted (sched/lease.c
	 * works it out). With user_capped set, running (paused included)
	 * plus new workers stay at most user_cap; force_one too. */
	int user_capped;
	int user_cap;
	/* Added: nicely-agent's word on the PUs other batches hold, per PU
	 * index (NULL: nothing known). POLICY_TAKEN: another batch's task
	 * runs there; such a PU is a start or move candidate only once every
	 * candidate nobody holds is used up. POLICY_YIELD (with TAKEN): ours
	 * runs there too and the other batch keeps it; ours moves to a
	 * candidate nobody holds when there is one (never to a taken one). */
	const unsigned char *taken;
};
#define POLICY_TAKEN 0x1
#define POLICY_YIELD 0x2

/* decide's reason when the per-user limit is what holds starts back. */
#define POLICY_REASON_USER_LIMIT                                              \
	"per-user limit: the user's other batches hold the rest"

/* The answer. Arrays are sized by the caller to npus (start_pus) and to
 * nrunning (actions); policy_decision_new does that. */
struct policy_decision {
	int nstart;		/* how many tasks to start now */
	int *start_pus;		/* on these PU indices, in order */
	int nice;		/* at this nice */
	size_t nactions;
	struct policy_action *actions;
	const char *reason;	/* static text: why not more (for --verbose/top) */
	/* Added: the arrays' sizes, set by policy_decision_new (0 = unknown).
	 * A tick with more PUs or running workers than they hold decides
	 * nothing (reason says so) instead of writing past them. */
	int max_starts;
	size_t max_actions;
};

struct policy_state *policy_state_new(int npus);
void policy_state_free(struct policy_state *st);
struct policy_decision *policy_decision_new(int npus, size_t max_running);
void policy_decision_free(struct policy_decision *d);

/* Decide one tick. Updates st (hysteresis) and fills out.
 * - A PU is free when allowed, online, and others use less than
 *   idle_threshold of it (and, with smt_avoid, of each SMT sibling); it is
 *   a start candidate when it has been free for hysteresis_ms and holds
 *   none of our workers (paused ones included).
 * - On a snapshot with valid == 0 nothing is known: no start and no
 *   reaction, unless the preset ignores others. The first valid snapshot
 *   has no history and counts as stable.
 * - Starts: free candidates minus reserve_pus (when allowed PUs >
 *   reserve_min_pus) and minus unpinned running workers (each sits on a
 *   PU that looks free), capped by max_pus / max_pus_pct (running and paused
 *   workers count), by user_cap when user_capped (the per-user limit),
 *   the queue and ramp_up; none below mem_floor, above the
 *   load ceiling ((loadavg1 - our unpaused workers) / allowed PUs) or the
 *   PSI ceiling. force_one then starts one on the least busy PU when
 *   nothing of ours runs (not below the memory floor, nor beyond the
 *   per-user cap: with user_cap 0 nothing starts).
 * - With taken set, the candidates nobody else holds come first (in the
 *   placement order above), then those other batches hold (a core with
 *   another batch's task gives no tier-0 PU either); a running worker on
 *   a PU marked POLICY_YIELD moves to a candidate nobody holds, leaving
 *   the reserve free.
 * - Running workers on a PU busy by others for hysteresis_ms: on_return
 *   (keep, move to a candidate, pause, stop); a paused worker is resumed
 *   when its PU is free, or moved while paused when another is. These
 *   moves leave the reserve free (no move when only reserve_pus
 *   candidates are left: that is where others go). A worker on a PU no
 *   longer allowed or online is moved (to any candidate), else stopped.
 *   At most one action per worker; moves take candidates before starts.
 * - reason is never NULL. */
void policy_decide(const struct policy_input *in, struct policy_state *st,
		   struct policy_decision *out);

#endif
