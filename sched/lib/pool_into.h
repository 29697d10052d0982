/* sched/lib/pool_into: nicely_map_into's elements (state bytes, records
 * made when needed). */
#ifndef SCHED_LIB_POOL_INTO_H
#define SCHED_LIB_POOL_INTO_H

#include <stdint.h>

#include "sched/lib/pool_state.h"

/* The nicely_map_into call holding id, or NULL. */
struct pool_into *pool_into_of(nicely_pool *p, int64_t id);
/* Give map_into element i a record (its state as it is now), or NULL
 * when out of memory. */
struct pool_task *pool_into_rec(struct pool_into *in, int64_t i,
				int slot);
/* Set elements [i, i+k) of a map_into to status st. */
void pool_into_set(struct pool_into *in, int64_t i, int64_t k, int st);
/* Copy a map_into element's record status to its state bytes. */
void pool_into_mark(nicely_pool *p, const struct pool_task *t);
/* Elements [i, i+k) of a map_into, running, succeeded cleanly (their
 * bytes are in out already). */
void pool_into_ok(nicely_pool *p, struct pool_into *in, int64_t i,
		  int64_t k);
/* The record of a map_into element that has one, or should: a cancelled
 * element gets it when first asked for. NULL for the others. */
struct pool_task *pool_into_result(nicely_pool *p, int64_t id);
/* Cancel the queued ones of map_into elements [i, i+k): no records (one
 * is made if nicely_result_get asks). */
int pool_into_cancel(nicely_pool *p, struct pool_into *in, int64_t i,
		     int64_t k);
/* Free a map_into call's own memory (its batch is gone). */
void pool_into_free(struct pool_into *in);
/* Drop a map_into call's records and the batch references of its
 * unfinished elements that have records written (ids below inited; the
 * others are counted with the batch starts). */
void pool_into_forget(nicely_pool *p, struct pool_into *in);

#endif
