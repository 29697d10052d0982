/* sched/lib/pool_recv: reading what workers send back. */
#ifndef SCHED_LIB_POOL_RECV_H
#define SCHED_LIB_POOL_RECV_H

#include "sched/lib/pool_state.h"

/* Read a worker's result channel until it would block. */
void pool_recv_results(nicely_pool *p, int slot);
/* Forward a worker's captured stderr, line by line. */
void pool_recv_stderr(nicely_pool *p, int slot, int final);

#endif
