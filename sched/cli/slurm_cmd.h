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

/* One array element as squeue shows it. */
struct slurm_cmd_elem {
	size_t id;		/* which of the ids given */
	long index;		/* its array index */
	int active;		/* pending, running or completing: not ended */
	int pending;		/* PENDING (held ones too) */
	char state[24];		/* RUNNING, FAILED, NODE_FAIL, ... */
	char reason[48];	/* squeue's %r: None, JobHeldUser, ... */
	char node[64];		/* where it runs or ran, "" while pending */
};
/* Every element of the jobs squeue still knows, those that ended too (the
 * controller keeps them MinJobAge seconds): *out malloc'd (the caller
 * frees it). Returns the count or -errno when squeue failed. */
long slurm_cmd_queue(char *const *ids, size_t n, struct slurm_cmd_elem **out);
/* Hold (release 0) or release (1) the pending elements of the jobs
 * (scontrol hold / release; running ones go on). Jobs that have left the
 * queue are passed over. 0 or -errno. */
int slurm_cmd_hold(char *const *ids, size_t n, int release);

#endif
