/* sched/cli/run: one batch from start to end. Each tick: sample (agent), decide
 * (policy), act (start tasks on the decided PUs at the decided nice, move,
 * pause, resume, stop); between ticks a finished task hands its PU to the
 * next queued one at once. Output is captured per task and written in
 * submission order (or as finished), results go to the hooks (joblog,
 * progress). Called by `nicely run` (sched/cli/cli_run.c); the engine is
 * sched/cli/run.c and its siblings run_*.c. */
#ifndef SCHED_RUN_H
#define SCHED_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "agent/sampler.h"
#include "agent/topology.h"
#include "policy/config.h"
#include "policy/preset.h"
#include "sched/cli/input.h"
#include "sched/cli/queue.h"
#include "sched/cli/run_store.h"
#include "sched/cli/template.h"

enum run_halt_when { RUN_HALT_NEVER, RUN_HALT_NOW, RUN_HALT_SOON };
enum run_halt_what { RUN_HALT_FAIL, RUN_HALT_SUCCESS, RUN_HALT_DONE };

struct run_stats {
	uint64_t started;	/* processes started (retries included) */
	uint64_t finished;	/* tasks with a final result */
	uint64_t failed;
	uint64_t succeeded;
	uint64_t skipped;	/* by the skip hook (--resume) */
	size_t running;
	long long total;	/* tasks in the batch if known, else -1 */
	int halted;		/* 1 when --halt ended the batch early */
	int halt_success;	/* ... on a success=N condition */
	int halt_exit;		/* GNU parallel's exit status for that halt
				   (run_halt_status) */
	int signal;		/* SIGINT/SIGTERM/SIGHUP received, or SIGPIPE
				   when our stdout went away; 0 */
	/* whole-batch controls (`nicely kill / reset / pause`) */
	uint64_t cancelled;	/* queued tasks dropped by a reset */
	uint64_t resets;	/* resets done */
	int ctl_killed;		/* 1 when `nicely kill` ended the batch */
};

struct run_opts {
	/* what to run: values from input, commands from tmpl (both kept by
	 * the caller) */
	struct input *input;
	const struct template *tmpl;
	int input_may_block;	/* read it in a thread (stdin, pipes, ttys) */
	const char *shell;	/* runs commands that need a shell (the
				   user's, sched/cli/usershell.c); NULL:
				   /bin/sh */
	/* where: topology and sampler made by the caller; preset resolved */
	const struct agent_topology *topo;
	struct agent_sampler *sampler;
	const struct policy_preset *preset;
	int jobs;		/* at most this many at once, 0 = the policy's */
	/* the admin's per-user [limits] max_pus (kept by the caller): shared
	 * with the user's other batches through the lease file; NULL or no
	 * limit: nothing is written */
	const struct policy_user_limit *user_limit;
	/* output */
	int out_fd, err_fd;
	int unordered;		/* -u: write as tasks finish */
	int line_buffer;	/* write whole lines as they arrive */
	int ungroup;		/* with line_buffer: -u, every byte at once,
				   lines of tasks mixed (GNU's --ungroup) */
	int tag;		/* prefix lines with the values and a tab */
	int json;		/* one JSON object per task instead of output */
	const char *results_dir; /* DIR/<seq>/{stdout,stderr,exitval} */
	/* nicely submit: each task's output and result go to the batch
	 * store (sched/cli/run_store.c), not into memory; SIGHUP is ignored.
	 * Made and closed by the caller. */
	struct run_store *store;
	/* --pipe: each task's one value is the file of its chunk, opened
	 * as its stdin (at each attempt), never put on its command line */
	int pipe_stdin;
	/* task control */
	int retries;		/* attempts per task, >= 1 */
	uint64_t timeout_ns;	/* 0 = none */
	uint64_t grace_ns;	/* TERM -> KILL delay; 0: 1 s */
	enum run_halt_when halt_when;
	enum run_halt_what halt_what;
	double halt_n;		/* count, or percent with halt_pct */
	int halt_pct;
	/* hooks, all optional; ctx is passed back */
	int (*skip)(void *ctx, uint64_t seq);	/* 1: do not run this task */
	void (*on_result)(void *ctx, const struct queue_task *t);
	int result_in_order;	/* call on_result as output is written (in
				   submission order, as GNU's joblog with -k)
				   instead of as tasks finish */
	void (*on_progress)(void *ctx, const struct run_stats *st);
	void *ctx;
	/* control socket (sched/ctl.c, protocol in sched/ctl_proto.h): made
	 * in ctl_dir when set (rundir_get), removed at the end */
	const char *ctl_dir;
	const char *ctl_command; /* the command line `nicely status` shows */
	/* reset: read the config files again and resolve the preset into
	 * *preset (the caller's, which run reads through o->preset) and the
	 * per-user limit into *user_limit (the lease is opened again with it
	 * once the reset's killed tasks are gone); on error
	 * leave it unchanged and return -errno with err naming file:line */
	int (*reload)(void *ctx, char *err, size_t errlen);
};

/* How many of t's values go on its command line (none under --pipe). */
static inline size_t run_cmd_nvalues(const struct run_opts *o,
				     const struct queue_task *t)
{
	return o->pipe_stdin ? 0 : t->nvalues;
}

/* Run the batch to its end (or halt, or signal). Returns 0, or -errno with
 * err set when the batch could not run at all (then nothing was started).
 * Results reached the hooks and the output as they finished. */
int run_batch(const struct run_opts *o, struct run_stats *st, char *err,
	      size_t errlen);
/* Exit status as GNU parallel: 0 all ok, failed count up to 100, 101 for
 * more, 255 after a signal or `nicely kill`; after a --halt, st->halt_exit;
 * with a --halt percentage never reached, the percentage of tasks that
 * failed (rounded up). Tasks killed by a reset count as failed, those it
 * cancelled do not count. */
int run_exit_status(const struct run_opts *o, const struct run_stats *st);
/* The exit status GNU parallel 20221122 gives a halt the moment its
 * condition is met by a task that ended with exitval (or signal): 0 for
 * success=N; for fail or done, the percentage failed (of the whole batch)
 * with N%, the failed count (at most 101) with N, and with a condition of
 * one task (fail=1, or N% of the batch being one task) that task's exit
 * status, or 128 + its signal. */
int run_halt_status(const struct run_opts *o, const struct run_stats *st,
		    int exitval, int signal);
/* 1 when the counts st meet o's --halt condition (a percentage is of the
 * whole batch once its size is known; before that of what finished, from
 * 3 tasks on, as GNU parallel does). */
int run_halt_reached(const struct run_opts *o, const struct run_stats *st);

#endif
