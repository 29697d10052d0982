/* sched/cli/slurm_node: one Slurm array element on its node. `nicely run
 * --slurm-element DIR` (hidden; written into the batch's job script by
 * slurm_submit.c) reads the element's chunk of commands from the batch
 * directory, runs them through the ordinary engine (presets, nice,
 * cgroups, --timeout, --retries as on one machine) and records each
 * finished task's result in DIR/res/SEQ. Used by cli_run.c. */
#ifndef SCHED_CLI_SLURM_NODE_H
#define SCHED_CLI_SLURM_NODE_H

#include <stddef.h>

#include "sched/cli/input.h"
#include "sched/cli/queue.h"

struct slurm_node;

/* Open the element's chunk: DIR/chunk/(NICELY_SLURM_BASE +
 * SLURM_ARRAY_TASK_ID). Fills *src with its commands as one ::: source
 * (valid until slurm_node_free). 0 or -errno with err. */
int slurm_node_open(struct slurm_node **out, const char *dir,
		    struct input_source *src, char *err, size_t errlen);
/* Tasks on the node at once: $SLURM_CPUS_PER_TASK, else 1. */
int slurm_node_jobs(void);
/* A task finished (the engine's on_result): record it in DIR/res. A
 * failure to write is said on stderr (the job's log) and makes the
 * element exit non-zero at the end. */
void slurm_node_result(struct slurm_node *n, const struct queue_task *t);
/* 0, or -EIO when a result could not be recorded. */
int slurm_node_status(const struct slurm_node *n);
void slurm_node_free(struct slurm_node *n);

#endif
