/* sched/cli/insights: `nicely run --insights` (the summary libnicely's
 * nicely_insights gives a pool, for a batch of commands): tasks, their
 * run time summed and its mean, the share of the batch's task slots they
 * kept busy, the 5 longest with their commands. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sched/cli/insights.h"
#include "sched/cli/queue.h"

#define INSIGHTS_LONGEST 5

struct cli_insights {
	uint64_t tasks, failed;
	double working;		/* run time summed */
	int nlong;
	struct {
		uint64_t seq;
		double wall;
		char *cmd;
	} lng[INSIGHTS_LONGEST];
};

/* A new collector. */
struct cli_insights *cli_insights_new(void)
{
	return calloc(1, sizeof(struct cli_insights));
}

/* One finished task. */
void cli_insights_add(struct cli_insights *in, const struct queue_task *t)
{
	double wall;
	int k;

	if (!in)
		return;
	wall = t->end_ns > t->start_ns ? (double)(t->end_ns - t->start_ns) / 1e9
				       : 0;
	in->tasks++;
	in->failed += t->exitval != 0 || t->signal != 0;
	in->working += wall;
	if (in->nlong == INSIGHTS_LONGEST &&
	    wall <= in->lng[INSIGHTS_LONGEST - 1].wall)
		return;
	if (in->nlong == INSIGHTS_LONGEST)
		free(in->lng[INSIGHTS_LONGEST - 1].cmd);
	else
		in->nlong++;
	for (k = in->nlong - 1; k > 0 && in->lng[k - 1].wall < wall; k--)
		in->lng[k] = in->lng[k - 1];
	in->lng[k].seq = t->seq;
	in->lng[k].wall = wall;
	in->lng[k].cmd = strdup(t->cmd ? t->cmd : "");
}

/* Print and free. */
void cli_insights_finish(struct cli_insights *in, FILE *f, double wall,
			 int jobs)
{
	if (!in)
		return;
	if (!f) {
		for (int i = 0; i < in->nlong; i++)
			free(in->lng[i].cmd);
		free(in);
		return;
	}
	fprintf(f, "nicely: insights: %llu tasks (%llu failed) in %.3f s; "
		"run time %.3f s in all", (unsigned long long)in->tasks,
		(unsigned long long)in->failed, wall, in->working);
	if (in->tasks)
		fprintf(f, ", %.3f s a task", in->working / (double)in->tasks);
	if (jobs > 0 && wall > 0)
		fprintf(f, "; %d task slots %.1f%% busy", jobs,
			100.0 * in->working / (wall * jobs));
	fputc('\n', f);
	for (int i = 0; i < in->nlong; i++) {
		fprintf(f, "nicely: insights: longest %d: #%llu %.3f s: %s\n",
			i + 1, (unsigned long long)in->lng[i].seq,
			in->lng[i].wall, in->lng[i].cmd);
		free(in->lng[i].cmd);
	}
	free(in);
}
