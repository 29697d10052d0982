/* sched/lib/pool_dispatch: the gate's tick, starting and feeding
 * workers. */
#ifndef SCHED_LIB_POOL_DISPATCH_H
#define SCHED_LIB_POOL_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "sched/lib/pool_state.h"

struct pool_gate_worker;

/* The workers the gate counts, into gw (room for p->nw). */
size_t pool_dispatch_list(const nicely_pool *p, struct pool_gate_worker *gw);
/* Start workers the gate allows and give every live worker tasks. */
void pool_dispatch(nicely_pool *p, uint64_t now);

#endif
