/* sched/cli/run_emit: what `nicely run` writes: output in order, --tag,
 * --json, --results. Internal to sched/cli/run*.c; loop thread. */
#ifndef SCHED_CLI_RUN_EMIT_H
#define SCHED_CLI_RUN_EMIT_H

#include <stddef.h>

struct agent_topology;
struct queue_task;
struct run;

/* The values joined by spaces and a final tab (GNU parallel's --tag
 * prefix); malloc'd. */
char *run_tag_of(const struct queue_task *t);
/* Write one task as a JSON object line (--json). 0 or -errno. */
int run_write_json(int fd, const struct queue_task *t,
		   const struct agent_topology *topo);
/* Write a finished task's output (or JSON) and release it. */
void run_emit(struct run *r, struct queue_task *t);
/* Write every finished task at the head of the window, in order; at the
 * end (final) skip tasks that never finished. */
void run_flush(struct run *r, int final);
/* --results DIR: open it (O_DIRECTORY fd), making it and its parents 0700
 * when make is set; refuses a symlink on the way owned by another user
 * (not root), a directory owned by another user or writable by others
 * without the sticky bit, and one we cannot write in. -errno and err. */
int run_results_dir_open(const char *dir, int make, char *err, size_t errlen);
/* The task lost output or --results: mark it failed (exitval -1 if 0). */
void run_task_mark_lost(struct queue_task *t);
/* At a task's end, before its result counts: lost output or --results
 * make it fail, with a message saying what was lost. */
void run_task_losses(struct queue_task *t);
/* --results: open GNU parallel's DIR/1/VALUE1/2/VALUE2.../{seq,stdout,
 * stderr} for a starting task (directories 0700, new files 0600, never
 * through a symlink); close them, and with final write exitval (nicely's
 * own addition). A failure is said at once and makes the task fail. */
void run_results_open(struct run *r, struct queue_task *t);
void run_results_close(struct run *r, struct queue_task *t, int final);
/* The --results path of a task with these values, relative to DIR (see
 * run_emit.c): *ncomp NUL-separated components in buf. 0 or
 * -ENAMETOOLONG. */
int run_results_rel(const char *values, size_t nvalues, char *buf,
		    size_t len, size_t *ncomp);
/* A task's stdout (which 0) or stderr (1) pipe has data or hung up. */
void run_on_pipe(struct queue_task *t, int which, struct run *r);

#endif
