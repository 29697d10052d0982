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
};

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
};

/* The answer. Arrays are sized by the caller to npus (start_pus) and to
 * nrunning (actions); policy_decision_new does that. */
struct policy_decision {
	int nstart;		/* how many tasks to start now */
	int *start_pus;		/* on these PU indices, in order */
	int nice;		/* at this nice */
	size_t nactions;
	struct policy_action *actions;
	const char *reason;	/* static text: why not more (for --verbose/top) */
};

struct policy_state *policy_state_new(int npus);
void policy_state_free(struct policy_state *st);
struct policy_decision *policy_decision_new(int npus, size_t max_running);
void policy_decision_free(struct policy_decision *d);

/* Decide one tick. Updates st (hysteresis) and fills out. */
void policy_decide(const struct policy_input *in, struct policy_state *st,
		   struct policy_decision *out);

#endif
