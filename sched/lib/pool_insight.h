/* sched/lib/pool_insight: what the pool keeps for nicely_insights. */
#ifndef SCHED_LIB_POOL_INSIGHT_H
#define SCHED_LIB_POOL_INSIGHT_H

#include <stdint.h>

#include "sched/lib/pool_state.h"

/* Worker slot was reaped: fold its times into the insights. */
void pool_insight_worker_done(nicely_pool *p, int slot);
/* Task id finished after wall seconds: one of the longest? */
void pool_insight_task(nicely_pool *p, int64_t id, double wall);
/* Forget everything (reset, free). */
void pool_insight_forget(nicely_pool *p);

#endif
