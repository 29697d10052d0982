/* sched/worker: the loop that runs inside each libnicely worker process:
 * read task frames, call the functions, send results, logs and streamed
 * return bytes back. Entered by forkserver.c in the child after fork; never
 * returns. Also declares the per-worker shared-memory slot the pool reads. */
#ifndef SCHED_WORKER_H
#define SCHED_WORKER_H

#include <stdint.h>

#include "nicely.h"

#define WORKER_SKIPS 5	/* fills the slot's cache line */

/* One per worker slot, in a MAP_SHARED mapping made before the fork server
 * is forked. The worker writes, the parent reads (after the worker died, or
 * to check a timeout). running: the task id now executing, WORKER_IDLE
 * between tasks, WORKER_INIT during worker_init, WORKER_EXIT during
 * worker_exit (start_ns is set for those two always). last: the last task the
 * worker began (never reset; WORKER_IDLE before its first), so that after
 * its death the pool knows which of the tasks it held began. */
struct worker_slot {
	int64_t running;
	uint64_t start_ns;	/* CLOCK_MONOTONIC start of `running` */
	int64_t last;
	/* nicely_cancel of a task handed to this worker and not begun: the
	 * parent writes its id in a free entry (WORKER_IDLE), the worker
	 * skips that task when it comes to it (a CANCELLED result) and
	 * frees the entry. See worker_skipped for the ordering. */
	int64_t skip[WORKER_SKIPS];
	/* insights (written by the worker, read by the parent; monotonic
	 * ns, 0 until it happened): its first instruction, the end of
	 * worker_init, the start and end of worker_exit; time spent in task
	 * runs and tasks run */
	uint64_t t_start, t_init_end, t_exit_start, t_exit_end;
	uint64_t busy_ns, ntasks;
} __attribute__((aligned(64)));	/* two cache lines each: every worker
					 * writes the first twice a task */
#define WORKER_IDLE (-1)
#define WORKER_INIT (-2)
#define WORKER_EXIT (-3)	/* in worker_exit */

/* What every worker of a pool needs; fixed at pool creation. */
struct worker_cfg {
	nicely_init_fn init;
	nicely_exit_fn exit;
	void *init_arg;
	unsigned lifespan;	/* 0: until EOF on the task fd */
	int timed;		/* 1: record each task's start_ns (timeouts) */
	struct worker_slot *slots;
	int nslots;
	/* the pool's shared arena (MAP_SHARED, made before the fork server):
	 * map arguments and in-place results; NULL when there is none */
	char *arena;
	size_t arena_len;
};

/* Exit codes of a worker that gives up (a task's own exit() keeps its). */
#define WORKER_EXIT_PIPE 126	/* its channels to the pool broke */
#define WORKER_EXIT_NOMEM 125	/* out of memory */

/* Run tasks from task_fd, results to res_fd, until EOF or the lifespan is
 * reached; then worker_exit and _exit(0). Exit codes: 0 normal, else
 * WORKER_EXIT_PIPE or WORKER_EXIT_NOMEM. */
__attribute__((noreturn)) void worker_main(const struct worker_cfg *cfg,
					   int slot, int task_fd, int res_fd);

/* 1 in a libnicely worker process (a pool made by a task is nested in
 * it), else 0. */
int worker_inside(void);

/* Monotonic clock in nanoseconds. */
uint64_t worker_now_ns(void);

#endif
