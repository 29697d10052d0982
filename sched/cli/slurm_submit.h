/* sched/cli/slurm_submit: `nicely run --on slurm`, the submitting side. The
 * batch becomes job arrays (sbatch --array=A-B%K, split past the cluster's
 * MaxArraySize), each element running a chunk of tasks on a node through
 * `nicely run --slurm-element` (slurm_node.c); results come back through
 * the batch directory on the shared filesystem (slurm_dir.c), never sacct,
 * and are written in order as they arrive, through the same hooks and
 * writers as a local run. Called by cli_run.c instead of run_batch. */
#ifndef SCHED_CLI_SLURM_SUBMIT_H
#define SCHED_CLI_SLURM_SUBMIT_H

#include <stddef.h>

#include "policy/config.h"
#include "sched/cli/run.h"

struct slurm_submit_opts {
	const struct policy_slurm *cfg;	/* [slurm]; fields may be empty */
	const char *opt;	/* --slurm-opt 'OPTIONS' (blank-separated), NULL */
	long chunk;		/* tasks per element, 0 = automatic */
	const char *preset;	/* -p NAME for the node, NULL = its default */
	int nice;		/* --nice for the node, -1 = none */
	/* set before each on_result call: the node the task ran on */
	const char **host;
};
#define SLURM_SUBMIT_OPTS_INIT { NULL, NULL, 0, NULL, -1, NULL }

/* Run the batch on Slurm to its end (or halt, or signal: then the arrays
 * are cancelled and nothing of it is left in the queue). ro is read as by
 * run_batch (input, streamed and read in a thread when input_may_block;
 * template, jobs = the arrays' %K, output, --results, retries, timeout,
 * halt, the skip and on_result hooks, ctl_dir and ctl_command for the
 * control socket, sched/cli/slurm_ctl.c); topology and sampler are not
 * used. Returns 0 with st filled, or
 * -errno with err set when the batch could not be submitted (then nothing
 * of it is left in the queue). */
int slurm_submit_run(const struct run_opts *ro,
		     const struct slurm_submit_opts *so, struct run_stats *st,
		     char *err, size_t errlen);

#endif
