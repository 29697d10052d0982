/* sched/lib/pool_task: the task table (records by id, results). */
#ifndef SCHED_LIB_POOL_TASK_H
#define SCHED_LIB_POOL_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "sched/lib/pool_state.h"

/* Write the records of ids up to `upto` (queued tasks of their batch). */
void pool_task_init(nicely_pool *p, int64_t upto);
/* Task record of an id (written now if it was not yet), or NULL. For an
 * element of a nicely_map_into: its record if it has one, else NULL. */
struct pool_task *pool_task_get(nicely_pool *p, int64_t id);
/* Make records for ids up to total+n. */
int pool_task_grow(nicely_pool *p, size_t n);
/* Set a finished task's error text (copied). */
void pool_task_error(struct pool_task *t, const char *msg, size_t len);
/* Record that a task is finished and tell the caller. */
void pool_task_finish(nicely_pool *p, struct pool_task *t,
		      nicely_status st, int code, const char *err);
/* Free a task's bytes and error text. */
void pool_task_release(struct pool_task *t);
/* Append return bytes to a task. */
int pool_task_data(struct pool_task *t, const char *d, size_t n);
/* Forget all tasks and their memory. */
void pool_task_forget(nicely_pool *p);

/* stop_on_failure: task id ended with st, stop everything unfinished. */
void pool_task_stop(nicely_pool *p, int64_t id, nicely_status st);

/* Forget a finished task for good (its record goes with its block's). */
void pool_task_forget_one(nicely_pool *p, int64_t id);

#endif
