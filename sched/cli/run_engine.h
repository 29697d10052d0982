/* sched/cli/run_engine: the state of one `nicely run` batch, shared by
 * the engine (run.c) and the files that work on it (run_task.c,
 * run_emit.c, run_gate.c, run_ctl.c, run_cgroup.c), and the engine steps
 * they call. Internal to sched/cli/run*.c; single-threaded (loop). */
#ifndef SCHED_CLI_RUN_ENGINE_H
#define SCHED_CLI_RUN_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "sched/loop.h"
#include "sched/cli/queue.h"
#include "sched/cli/run.h"
#include "sched/cli/run_orphan.h"

struct ctl;
struct ctl_req;
struct feed;
struct gate;
struct gate_worker;
struct sched_cgroup;
struct agent_client;
struct sched_cgroup_task;

/* One batch, from run_init to run_fini (run.c). */
struct run {
	const struct run_opts *o;
	struct loop loop;
	struct queue q;
	struct queue_task *running; /* doubly linked via prev/next */
	int input_eof;
	int sigfd, tickfd, timerfd, devnull;
	struct loop_watch w_sig, w_tick, w_timer, w_feed;
	struct feed *feed;	/* input read in a thread, or NULL */
	int *pending_pu;	/* PUs granted while no input had arrived */
	int npending, pending_nice;
	size_t max_running;	/* what the gate's tables are sized for */
	struct gate *gate;	/* sample, allowance, decide (sched/gate.c) */
	struct gate_worker *gw;	/* the running tasks as the gate sees them */
	int npus;
	int pin;		/* topology is this machine: bind */
	unsigned char *slots;	/* slot i+1 in use */
	int nslots;
	int stopping;		/* no new starts (halt, signal, EPIPE) */
	uint64_t grace_ns;
	uint64_t armed_ns;	/* deadline timer armed for, 0 = off */
	char exe_name[256];	/* last program resolved through PATH */
	char exe_path[4096];
	int exe_ok;
	struct run_stats st;
	char *err;
	size_t errlen;
	int fatal;		/* -errno: the engine itself broke */
	struct sched_cgroup *cg; /* the batch's cgroups, NULL without */
	/* per {%} slot (index slot-1): the groups its last task left,
	 * emptied, for its next task; NULL when none is kept */
	struct sched_cgroup_task **slot_cg;
	int nslot_cg;
	uint64_t cg_made;	/* task groups made: the n of task-<n> */
	int cg_fresh;		/* groups are never reused (their peak
				 * memory cannot be reset on this kernel) */
	int autogroup_restore;	/* session autogroup nice to put back, -1 */
	struct agent_client *agent; /* nicely-agent placed the batch, or NULL */
	/* whole-batch controls from the control socket (run_ctl_*) */
	struct ctl *ctl;	/* NULL without a socket */
	double start_real;	/* when the batch started, epoch seconds */
	int paused;		/* `nicely pause`: frozen, nothing starts */
	uint64_t paused_at;	/* monotonic ns it was paused at */
	int tstp_paused;	/* paused by SIGTSTP: SIGCONT resumes */
	int resetting;		/* a reset waits for its killed tasks */
	struct ctl_req *pend_reset;
	uint64_t reset_killed, reset_cancelled;
	struct ctl_req *pend_kill[8]; /* `nicely kill`s waiting for the end */
	int npend_kill;
	uint64_t ctl_nkilled;	/* tasks that kill killed */
	struct run_orphans orph; /* without cgroups: subreaper, record */
	/* the open-file budget (run_fds.c) */
	size_t fd_cap;		/* tasks that fit at once, 0 = no cap */
	long fd_per_task;	/* fds each holds */
	int fd_said;		/* the cap was said */
	/* forks refused (EAGAIN: RLIMIT_NPROC or the kernel's limit):
	 * run_task.c puts the task back and backs off */
	int nproc_fails;	/* refusals in a row */
	uint64_t nproc_until_ns;	/* no start before this */
	uint64_t nproc_since_ns;	/* the first refusal of the row */
	int nproc_said;		/* the hold-back was said */
	int nproc_hopeless;	/* gave a task up: nothing of ours ran */
};

/* Report the progress hook. */
void run_progress(struct run *r);
/* Read one more task from the input into the window and the ready FIFO.
 * Returns 1, 0 (the end, nothing yet, or the window is full), -errno. */
int run_read_one(struct run *r);
/* Make sure at least n tasks are ready (or the input is done). */
int run_fill_ready(struct run *r, size_t n);
/* Re-arm the deadline timer for the earliest timeout or kill grace. */
void run_arm_deadlines(struct run *r);
/* Kill every running task: TERM, grace, KILL. */
void run_kill_all(struct run *r);
/* Loop callbacks of a running task's stdout, stderr and pidfd. */
void run_on_out(struct loop_watch *w, uint32_t ev);
void run_on_err(struct loop_watch *w, uint32_t ev);
void run_on_pid(struct loop_watch *w, uint32_t ev);

#endif
