/* sched/cli/slurm_cmd: the Slurm client commands `nicely run --on slurm`
 * calls (sbatch, scancel, squeue, scontrol), run with their output
 * captured. Used by slurm_submit.c on the submitting side; blocking. */
#ifndef SCHED_CLI_SLURM_CMD_H
#define SCHED_CLI_SLURM_CMD_H

#include <stddef.h>

/* Run argv (argv[0] looked up in PATH) with stdin from /dev/null; its
 * stdout and stderr come back in *out and *errs (malloc'd, NUL-ended; the
 * caller frees them; either pointer may be NULL to drop it). Returns the
 * exit status (0-255, 128+N after signal N) or -errno when it could not
 * run (-ENOENT: not installed). */
int slurm_cmd_run(char *const *argv, char **out, char **errs);
/* MaxArraySize from `scontrol show config` (the largest index is one
 * less); Slurm's default 1001 when it cannot be read. */
long slurm_cmd_max_array(void);
/* Cancel the jobs (array job ids); pending_only: only elements not yet
 * started. 0 or -errno. */
int slurm_cmd_cancel(char *const *ids, size_t n, int pending_only);
/* How many elements of the jobs are still in the queue (pending or
 * running), or -errno when squeue failed. */
long slurm_cmd_alive(char *const *ids, size_t n);

#endif
