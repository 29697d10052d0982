/* sched/cli/insights: `nicely run --insights`: what the batch's tasks
 * took (run time summed, the mean, how busy the task slots were, the
 * longest tasks with their commands), printed on stderr at the end.
 * Fed by the run's result hook, in the loop. */
#ifndef SCHED_CLI_INSIGHTS_H
#define SCHED_CLI_INSIGHTS_H

#include <stdio.h>

struct queue_task;
struct cli_insights;

/* A new collector (NULL when out of memory). */
struct cli_insights *cli_insights_new(void);
/* One finished task. */
void cli_insights_add(struct cli_insights *in, const struct queue_task *t);
/* Print the summary for a batch that took wall seconds with at most jobs
 * tasks at once (0: unknown) to f (NULL: print nothing), then free in.
 * in NULL is a no-op. */
void cli_insights_finish(struct cli_insights *in, FILE *f, double wall,
			 int jobs);

#endif
