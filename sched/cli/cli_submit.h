/* sched/cli/cli_submit: `nicely submit`: a `nicely run` that outlives the
 * terminal. The front end (cli_submit.c) makes the batch's store, copies
 * its inputs there and starts the supervisor: `nicely run --store DIR`
 * detached in its own session, which is the run engine writing to the
 * store (run_store.c). This header joins the two ends: what cli_run.c
 * exports to submit, and what the supervisor side of cli_run.c calls. */
#ifndef SCHED_CLI_CLI_SUBMIT_H
#define SCHED_CLI_CLI_SUBMIT_H

#include <stddef.h>

#include "sched/cli/input.h"

struct run_store;

/* What `nicely submit` needs from a run command line. */
struct cli_run_brief {
	struct input_source *src;	/* malloc'd; the caller frees */
	size_t nsrc;
	const char *name;		/* --name, or NULL */
};

/* Parse argv as `nicely run` does, with submit's rules (--name taken;
 * --results, --dry-run, --bar, --on slurm refused; messages say "nicely
 * submit"). Returns -1 to go on with *b filled, else an exit status after
 * saying why (cli_run.c). */
int cli_run_submit_parse(int argc, char **argv, struct cli_run_brief *b);

/* The supervisor (`nicely run --store DIR`, cli_run.c calls these). */
struct submit_sup {
	int lockfd;
	struct run_store *store;
	char dir[4096];
	char **inputs;		/* input-K paths in place of the sources */
	size_t ninputs;
};

/* Take the batch's lock, point file and stdin sources at the copies in
 * the store, open the store sink. 0 or -errno with err set. */
int submit_sup_begin(struct submit_sup *sv, const char *dir,
		     struct input_source *src, size_t nsrc, char *err,
		     size_t errlen);
/* Everything is set up: tell `nicely submit` the batch runs. */
void submit_sup_ready(void);
/* The batch ended with exit_status: record it, release the lock. */
void submit_sup_end(struct submit_sup *sv, int exit_status);

#endif
