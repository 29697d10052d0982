/* sched/cli/run_emit: what `nicely run` writes: output in order, --tag,
 * --json, --results. Internal to sched/cli/run*.c; loop thread. */
#ifndef SCHED_CLI_RUN_EMIT_H
#define SCHED_CLI_RUN_EMIT_H

struct agent_topology;
struct queue_task;
struct run;

/* The values joined by tabs and a final tab (the --tag prefix); malloc'd. */
char *run_tag_of(const struct queue_task *t);
/* Write one task as a JSON object line (--json). 0 or -errno. */
int run_write_json(int fd, const struct queue_task *t,
		   const struct agent_topology *topo);
/* Write a finished task's output (or JSON) and release it. */
void run_emit(struct run *r, struct queue_task *t);
/* Write every finished task at the head of the window, in order; at the
 * end (final) skip tasks that never finished. */
void run_flush(struct run *r, int final);
/* --results: open DIR/<seq>/{stdout,stderr} for a starting task; close
 * them, and with final write exitval. */
void run_results_open(struct run *r, struct queue_task *t);
void run_results_close(struct run *r, struct queue_task *t, int final);
/* A task's stdout (which 0) or stderr (1) pipe has data or hung up. */
void run_on_pipe(struct queue_task *t, int which, struct run *r);

#endif
