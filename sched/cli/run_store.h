/* sched/cli/run_store: the engine's sink for a detached batch (`nicely
 * submit`): each task's stdout and stderr go straight to
 * <batch>/tasks/SEQ.out and SEQ.err as they arrive (never held in memory),
 * are fsynced at the task's end, and then its joblog line is appended and
 * fdatasynced: a task whose line is there is recorded, and a crash of the
 * supervisor or the machine loses none of those. A full disk (ENOSPC,
 * EDQUOT) pauses the batch with the reason in the state record; what could
 * not be written is held (the task's pipe is not read meanwhile) and
 * written once `nicely resume` thaws the batch. Called from the engine's
 * loop thread (run.c, run_emit.c) and from cli_run.c's hooks. */
#ifndef SCHED_CLI_RUN_STORE_H
#define SCHED_CLI_RUN_STORE_H

#include <stddef.h>

struct run;
struct run_store;
struct queue_task;

/* Open the sink on batch directory dir: tasks/ (made 0700), joblog
 * (appended to; a partial last line is cut; the header when new), the
 * state record (set to running). *out is freed by run_store_close. 0 or
 * -errno with err set. */
int run_store_open(struct run_store **out, const char *dir, char *err,
		   size_t errlen);
/* The engine the sink serves (NULL when it ended): a full disk pauses it. */
void run_store_attach(struct run_store *s, struct run *r);
/* n bytes of a task's stdout (which 0) or stderr (1) arrived. */
void run_store_write(struct run *r, struct queue_task *t, int which,
		     const char *buf, size_t n);
/* A task's attempt ended. final: write what is held, fsync and close its
 * files and the directory (a failure makes the task lost, said in its
 * message); else (a retry, or a kill that is no result) remove them. */
void run_store_task_end(struct run *r, struct queue_task *t, int final);
/* A task whose output arrived whole (a Slurm element's result, read from
 * the batch directory): its stdout and stderr written to their files (none
 * for an empty stream) and fsynced with the directory, as
 * run_store_task_end leaves an engine's task. A failure makes the task
 * lost, said in t->errmsg (strdup'd when it had none). */
void run_store_task_whole(struct run_store *s, struct queue_task *t);
/* Record a task's result: its joblog line, fdatasynced. */
void run_store_record(struct run_store *s, const struct queue_task *t);
/* Between loop rounds: once the batch runs again after a full disk,
 * write what was held and read the held pipes again. */
void run_store_poll(struct run *r);
/* After the batch: write the lines still held (retrying each second while
 * the disk is full), then the state record "finished" with exit_status.
 * 0 or -errno. */
int run_store_finish(struct run_store *s, int exit_status);
void run_store_close(struct run_store *s);

#endif
