/* sched/cli/slurm_batch: the state of one `nicely run --on slurm` on the
 * submitting side, shared by slurm_submit.c (submit, poll, write out) and
 * slurm_ctl.c (its control socket: nicely status / kill / pause / resume).
 * Internal to those two files; one thread. */
#ifndef SCHED_CLI_SLURM_BATCH_H
#define SCHED_CLI_SLURM_BATCH_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/ctl.h"
#include "sched/loop.h"
#include "sched/cli/feed.h"
#include "sched/cli/slurm_submit.h"

enum slurm_task_state {
	SLURM_T_UNSENT,		/* read, not yet submitted */
	SLURM_T_QUEUED,		/* submitted, no result yet */
	SLURM_T_DONE,		/* result seen, not yet written out */
	SLURM_T_LOST,		/* its element ended without a result */
	SLURM_T_EMITTED,	/* written out (or dropped by a halt) */
};

struct slurm_task {
	uint64_t seq;
	char *values;		/* nvalues strings back to back */
	size_t nvalues;
	char *cmd;
	enum slurm_task_state state;
	int submits;		/* times sent to Slurm */
	uint64_t elem;		/* the element of its last submission */
};

/* One array element (a chunk number), as squeue last showed it. */
struct slurm_elem {
	size_t idn;		/* its array: ids[idn] */
	long index;		/* its index in that array */
	int seen;		/* squeue listed it at least once */
	int running;		/* last seen running (not pending) */
	int ended;		/* seen in a final state */
	char why[160];		/* that state, reason and node, for messages */
};

struct slurm_batch {
	const struct run_opts *ro;
	const struct slurm_submit_opts *so;
	struct run_stats *st;
	char dir[PATH_MAX - 64];
	char script[PATH_MAX];
	/* the window of tasks read and not yet written out: t[head..n);
	 * t[0..head) are written out and go at the next compaction */
	struct slurm_task *t;
	size_t n, cap;
	size_t head;		/* next task to write out, in order */
	size_t unsent;		/* t[unsent..n) read, not yet submitted */
	uint64_t unsent_since;	/* when the oldest of them was read */
	struct feed *feed;	/* the input read in a thread (pipes) */
	int eof;		/* the input is read to its end */
	uint64_t nread;		/* values read (the next seq - 1) */
	size_t portion;		/* tasks per submission (an array's worth) */
	char **ids;		/* array job ids submitted */
	uint64_t *firsts;	/* ids[i]'s element 0 is chunk firsts[i] */
	size_t nids, capids;
	struct slurm_elem *elems;	/* next_elem of them */
	size_t capelems;
	uint64_t next_elem;	/* next chunk number */
	long max_array;
	long chunk;
	int keep_dir;		/* lost tasks: keep the logs for the user */
	/* squeue's last answer: elements pending (held too) and running */
	long q_pending, q_running;
	/* the control socket (slurm_ctl.c) */
	double start_real;
	struct loop loop;
	int have_loop;
	struct ctl *ctl;
	int paused;		/* `nicely pause`: pending elements held */
	int killing;		/* `nicely kill`: cancel and end */
	struct ctl_req *pend_kill[8];	/* answered when squeue is empty */
	int npend_kill;
	long nkilled;		/* elements running when killed */
};

/* Ask squeue about the batch's elements: b->q_pending, b->q_running and
 * each element's state. Returns how many are still active, or -errno. */
long slurm_batch_poll(struct slurm_batch *b);

/* The control socket in ro->ctl_dir (none when it is NULL or cannot be
 * made: said once, the batch still runs). */
void slurm_ctl_open(struct slurm_batch *b);
/* Wait up to ms, serving the control socket meanwhile. */
void slurm_ctl_wait(struct slurm_batch *b, int ms);
/* The batch is over and nothing of it is in squeue: answer the kills. */
void slurm_ctl_end(struct slurm_batch *b);
/* Remove the socket, free what it holds. */
void slurm_ctl_close(struct slurm_batch *b);

#endif
