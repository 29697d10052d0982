/* sched/lib/pool_turn: the pool's loop. */
#ifndef SCHED_LIB_POOL_TURN_H
#define SCHED_LIB_POOL_TURN_H

#include "sched/lib/pool_state.h"

/* Is anything still queued, running, or dying? */
int pool_turn_busy(const nicely_pool *p);
/* One turn of the loop: the body of nicely_step. */
int pool_turn(nicely_pool *p, int timeout_ms);

#endif
