/* sched/cli/run_task: one task of `nicely run` from start to result.
 * Internal to sched/cli/run*.c; loop thread. */
#ifndef SCHED_CLI_RUN_TASK_H
#define SCHED_CLI_RUN_TASK_H

#include <stdint.h>

struct run;
struct queue_task;

/* Signal a task's whole process tree (cgroup or process group; STOP and
 * CONT freeze and thaw its cgroup). */
void run_signal_task(struct queue_task *t, int sig);
/* Start killing one task: TERM now, KILL after the grace. */
void run_kill_task(struct run *r, struct queue_task *t, uint64_t now);
/* Our tasks that hold a PU now: started, not yet exited. */
int run_live(const struct run *r);
/* The task is finished once both its exit and EOF on every pipe arrived:
 * then hand its PU on, retry it, or record its result. */
void run_task_done_maybe(struct run *r, struct queue_task *t);
/* Arm the grace of exited tasks whose output a descendant still holds,
 * once waiting could be for ever (killed, timed out, stopping, or the
 * batch's last). */
void run_pipes_arm(struct run *r);
/* That grace ended: kill the holders and what is left of t, close its
 * pipes with the output that arrived, record t. */
void run_pipes_end(struct run *r, struct queue_task *t);
/* Start the next ready task on PU pu (-1: unpinned) at nice. Returns 1
 * when a task was started (or failed to start, which is a result), 0 when
 * none may. */
int run_start(struct run *r, int pu, int nice);

#endif
