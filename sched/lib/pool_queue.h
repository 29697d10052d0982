/* sched/lib/pool_queue: queueing tasks, the queue of id ranges. */
#ifndef SCHED_LIB_POOL_QUEUE_H
#define SCHED_LIB_POOL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "sched/lib/pool_state.h"

/* Add a range at the back (merging) or front of the queue. */
int pool_queue_push(struct pool_deque *q, int64_t first, int64_t count,
		    int front);
/* Take one id out of the queue: 1 when it was there, 0 when not, or
 * NICELY_ENOMEM. */
int pool_queue_remove(struct pool_deque *q, int64_t id);
/* Queue one call per element; in: the map_into call they belong to, or
 * NULL. */
int pool_queue_map(nicely_pool *p, nicely_task_fn fn, const void *base,
		   size_t elem_size, size_t n, size_t chunk, int64_t *first_id,
		   struct pool_into *in);
/* End everything queued with status st and error text why. */
int pool_queue_fail(nicely_pool *p, nicely_status st, const char *why);
/* Cancel the last k ids queued (stop_on_failure stopped their map). */
void pool_queue_fail_last(nicely_pool *p, int64_t k);
/* Cancel everything queued. */
int pool_queue_cancel(nicely_pool *p);

#endif
