/* sched/lib/pool_arena: the shared map arena. */
#ifndef SCHED_LIB_POOL_ARENA_H
#define SCHED_LIB_POOL_ARENA_H

#include <stddef.h>

#include "sched/lib/pool_state.h"

/* Give back the region at off, now or (a holder not reaped yet) later. */
void pool_arena_give(nicely_pool *p, size_t off);
/* Drop the stale regions nobody holds any more. */
void pool_arena_sweep(nicely_pool *p);
/* Put a map's n arguments of elem_size bytes, and with res > 0 room for
 * its in-place results of res bytes each, in the arena: 0, or -1 when the
 * map is too small to gain from it or there is no room (the batch then
 * takes memory of its own and its arguments cross the pipe). */
int pool_arena_batch(nicely_pool *p, struct pool_batch *b,
		     size_t elem_size, size_t n, size_t res);
/* Make the map arena: NICELY_MAP_ARENA_MB MiB (default POOL_ARENA_MB; 0:
 * none). Address space only until used (MAP_NORESERVE); without room for
 * it the pool works without one. 0, or NICELY_ECONFIG for a bad value. */
int pool_arena_open(nicely_pool *p);

#endif
