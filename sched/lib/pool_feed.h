/* sched/lib/pool_feed: task frames to workers. */
#ifndef SCHED_LIB_POOL_FEED_H
#define SCHED_LIB_POOL_FEED_H

#include "sched/lib/pool_state.h"

/* Write a worker's pending task bytes; close its channel when asked. */
void pool_feed_flush(nicely_pool *p, struct pool_worker *w, int slot);
/* Give a worker up to maxmsg messages while it has room. */
void pool_feed(nicely_pool *p, int slot, int maxmsg);

#endif
