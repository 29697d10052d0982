/* sched/lib/pool_worker: a worker slot's life. */
#ifndef SCHED_LIB_POOL_WORKER_H
#define SCHED_LIB_POOL_WORKER_H

#include <stdint.h>

#include "sched/lib/pool_state.h"

/* Ask the fork server to kill a worker's process group. */
void pool_worker_kill(nicely_pool *p, struct pool_worker *w,
		      int reason, int64_t task);
/* Start a worker in a free slot, pinned to cpu (-1: not pinned). */
int pool_worker_spawn(nicely_pool *p, int cpu);
/* A worker is gone (exit reported and channel closed): settle its tasks
 * and free the slot. Tasks it never started go back to the queue front. */
void pool_worker_done(nicely_pool *p, int slot);
/* A worker of slot (-1: none yet) could not be started, what "fork" or
 * "start", errno err (EAGAIN: the per-user process limit; EMFILE: no fd
 * left): back off (100 ms doubling to 1.6 s) and try again; after
 * POOL_SPAWN_TRIES failures in a row with no worker of the pool left, the
 * queued tasks fail with the reason. */
void pool_worker_startfail(nicely_pool *p, int slot, int err, const char *what);

#endif
