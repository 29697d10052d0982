/* sched/queue: the batch's tasks in submission order. A window holds every
 * task from the oldest whose output is not yet written to the newest read
 * from the input (so memory follows what ordered output still needs, not
 * the batch size); a FIFO of tasks ready to start (new ones and requeued
 * ones, which go first). Each task moves through an explicit lifecycle.
 * Owned by sched/cli/run.c; not thread-safe. */
#ifndef SCHED_QUEUE_H
#define SCHED_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sched/cgroup.h"
#include "sched/loop.h"
#include "sched/cli/output.h"

enum queue_state {
	QUEUE_WAITING,	/* read, not running (first time or requeued) */
	QUEUE_RUNNING,	/* a process is alive or its pipes are open */
	QUEUE_DONE,	/* result recorded, output not yet written */
	QUEUE_EMITTED,	/* output written (or skipped): may be dropped */
	QUEUE_NSTATES
};

enum queue_event {
	QUEUE_EV_START,		/* WAITING -> RUNNING */
	QUEUE_EV_FINISH,	/* RUNNING -> DONE */
	QUEUE_EV_REQUEUE,	/* RUNNING -> WAITING (retry, policy stop) */
	QUEUE_EV_EMIT,		/* DONE -> EMITTED */
	QUEUE_EV_SKIP,		/* WAITING -> EMITTED (--resume, halt) */
	QUEUE_EV_CANCEL,	/* WAITING -> DONE (dropped by a reset: a
				   result saying it never ran) */
	QUEUE_NEVENTS
};

struct queue_task {
	uint64_t seq;		/* 1, 2, ... in submission order */
	enum queue_state state;
	char *values;		/* nvalues NUL-terminated strings back to back */
	size_t nvalues;
	char *cmd;		/* expanded command, set at start */
	int attempts;		/* starts that counted (not policy stops) */
	struct queue_task *rnext; /* ready FIFO link */
	struct queue_task *prev, *next; /* running list links (run.c) */

	/* while running */
	pid_t pid;
	int slot;		/* {%}: 1..jobs */
	int pu;			/* PU index it was started on / moved to, -1 */
	int nice;
	struct loop_watch w_out, w_err, w_pid;
	int open_pipes;		/* 0..2 still to see EOF on */
	int exited;
	int wstatus;
	int paused;
	int sigstopped;		/* paused by SIGSTOP because the freezer
				 * write failed: resume sends SIGCONT too */
	int policy_stop;	/* killed by a STOP action: requeue */
	int policy_touched;	/* moved/paused since start: no hand-off */
	int kill_stage;		/* 0, 1 TERM sent, 2 KILL sent */
	int timed_out;
	int halted;		/* killed by --halt now or a signal */
	int ctl_killed;		/* killed by `nicely kill` or reset: a result */
	int cancelled;		/* dropped from the queue by a reset */
	uint64_t start_ns, end_ns, deadline_ns;
	/* its process exited and a descendant holds its output: when the
	 * grace ends, that holder is killed and the pipes closed (0: none) */
	uint64_t pipe_deadline_ns;
	double start_real;	/* epoch seconds, for the joblog */
	char lb_start[2];	/* --line-buffer: stdout/stderr at line start */
	int res_fd[2];		/* --results: stdout/stderr files, -1 */
	int res_failed;		/* --results files could not be written */
	int lost;		/* output or --results not kept whole */
	/* nicely submit's store (run_store.c): bytes kept per stream, and
	 * what a full disk left unwritten (its pipe is not read meanwhile) */
	uint64_t st_bytes[2];
	char *st_pend[2];
	size_t st_npend[2];

	/* result */
	struct sched_cgroup_task *cg; /* its cgroups while running, or NULL */
	int64_t cpu_ns;		/* CPU time from its cgroup, -1 unknown */
	int64_t mem_peak;	/* peak memory (bytes) from its cgroup, -1 */
	int64_t oom_kills;	/* processes killed by its memory limit, -1 */
	int exitval;		/* -1 on timeout (as GNU parallel) */
	int signal;
	int failed;
	char *errmsg;		/* why it never ran its command, or NULL */
	struct output_buf out, err;
};

struct queue {
	struct queue_task **ring; /* window, indexed by seq - base */
	size_t cap, head, len;
	uint64_t base;		/* seq of ring[head] */
	uint64_t next_seq;
	struct queue_task *ready, *ready_tail;
	size_t nready;
};

/* Empty queue starting at seq 1. */
void queue_init(struct queue *q);
/* Free every task left. */
void queue_free(struct queue *q);
/* A new task with the next seq and a copy of its values, appended to the
 * window (not to the ready FIFO). NULL on ENOMEM. */
struct queue_task *queue_push(struct queue *q, const char *const *values,
			      size_t n);
/* The task with that seq if still in the window. */
struct queue_task *queue_get(const struct queue *q, uint64_t seq);
/* Oldest task in the window, or NULL. */
struct queue_task *queue_head(const struct queue *q);
/* Drop the oldest task (it must be EMITTED) and free it. */
void queue_drop_head(struct queue *q);
/* Ready FIFO: append, put in front (requeued), take the first. */
void queue_ready_add(struct queue *q, struct queue_task *t);
void queue_ready_front(struct queue *q, struct queue_task *t);
struct queue_task *queue_ready_take(struct queue *q);
/* Apply a lifecycle event. Returns 0, or -EINVAL when the event is not
 * allowed in the task's state (the state is then unchanged). */
int queue_task_event(struct queue_task *t, enum queue_event ev);
/* The i-th value of a task (i < nvalues). */
const char *queue_value(const struct queue_task *t, size_t i);
/* Fill out[0..nvalues-1] with pointers to the values. */
void queue_values(const struct queue_task *t, const char **out);
/* Release what a finished task no longer needs once written: command,
 * values, output. */
void queue_task_release(struct queue_task *t);
/* State name for messages. */
const char *queue_state_name(enum queue_state s);

#endif
