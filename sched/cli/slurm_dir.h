/* sched/cli/slurm_dir: the batch directory of `nicely run --on slurm` on
 * the shared filesystem, the only channel between the submitting nicely and
 * the array elements on the nodes (never sacct): chunk/E holds element E's
 * tasks, res/SEQ one finished task's result, written whole by a rename.
 * Used by slurm_submit.c (submit side) and slurm_node.c (on the node). */
#ifndef SCHED_CLI_SLURM_DIR_H
#define SCHED_CLI_SLURM_DIR_H

#include <stddef.h>
#include <stdint.h>

#include "sched/cli/output.h"

/* One task's result as the node recorded it. */
struct slurm_result {
	int exitval;		/* -1 after a timeout, as run */
	int signal;
	int failed;
	int timed_out;
	double start;		/* epoch seconds */
	double runtime;		/* seconds */
	char host[64];		/* the node it ran on */
};

/* Write element e's chunk: n tasks, seqs[i] and its command cmds[i]
 * (records "SEQ\0COMMAND\0"). 0 or -errno with err. */
int slurm_dir_chunk_write(const char *dir, uint64_t e, const uint64_t *seqs,
			  char *const *cmds, size_t n, char *err,
			  size_t errlen);
/* Read element e's chunk: *seqs and *cmds malloc'd arrays of *n (the
 * strings live in *buf, also malloc'd; the caller frees the three).
 * 0 or -errno with err. */
int slurm_dir_chunk_read(const char *dir, uint64_t e, uint64_t **seqs,
			 char ***cmds, size_t *n, char **buf, char *err,
			 size_t errlen);
/* Record task seq's result with its stdout and stderr: written to a
 * temporary name then renamed, so a reader sees it whole or not at all.
 * 0 or -errno with err. */
int slurm_dir_result_write(const char *dir, uint64_t seq,
			   const struct slurm_result *r,
			   const struct output_buf *out,
			   const struct output_buf *errb, char *err,
			   size_t errlen);
/* Read task seq's result; out/errb (may be NULL) get its output appended.
 * 1 read, 0 not there yet, -errno with err (a damaged record). */
int slurm_dir_result_read(const char *dir, uint64_t seq,
			  struct slurm_result *r, struct output_buf *out,
			  struct output_buf *errb, char *err, size_t errlen);
/* Whether task seq's result is there (1) or not (0). */
int slurm_dir_result_exists(const char *dir, uint64_t seq);
/* Remove the batch directory and everything in it. 0 or -errno. */
int slurm_dir_remove(const char *dir);

#endif
