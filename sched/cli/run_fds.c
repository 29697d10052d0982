/* sched/cli/run_fds: the open-file budget of one `nicely run` batch. Before
 * anything is set up (no sampler file, no cgroup, no socket), a limit
 * (RLIMIT_NOFILE) too low for the batch's own files and one task is an
 * error naming both numbers; after setup, the fds really open give how
 * many tasks fit at once, and run_start holds the rest back (said once).
 * Called by the engine (run.c, run_task.c) in the loop thread. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sched/cgroup.h"
#include "sched/fds.h"
#include "sched/cli/run_engine.h"
#include "sched/cli/run_fds.h"

/* What run_init and the loop open after the first check, kept: the
 * sampler's procfs root and its stat, loadavg, pressure and meminfo files
 * (5); epoll, signalfd and the two timerfds (4); /dev/null (1); the batch
 * group's CPU time file and a cgroup trace file (2); the record of tasks
 * without cgroups (1); the per-user lease file (1); the control socket
 * (1); the input thread's eventfd (1). */
#define RUN_FDS_SETUP 16
/* Opened for a moment while the batch runs, at most at once: a control
 * connection or two, the CPU-time walk of a task's groups (a directory
 * and a file per level), the user-name lookup at cgroup setup. */
#define RUN_FDS_SLACK 6
/* Held only while a task starts: its pipes' write ends, the --results
 * directories. */
#define RUN_FDS_SPAWN 4
/* Held by each running task: its stdout and stderr pipes, its pidfd, its
 * two output spill files. */
#define RUN_FDS_TASK 5
/* With --results: its stdout and stderr files. */
#define RUN_FDS_RESULTS 2

/* fds one task keeps in a tree of nh cgroup hierarchies (0: none). */
static long run_fds_task(const struct run *r, int nh)
{
	return RUN_FDS_TASK + (r->o->results_dir ? RUN_FDS_RESULTS : 0) +
	       (nh > 0 ? SCHED_CGROUP_TASK_FDS(nh) : 0);
}

/* Before setup (see run_fds.h). */
int run_fds_check_start(struct run *r, char *err, size_t errlen)
{
	struct sched_cgroup_options co = SCHED_CGROUP_OPTIONS_INIT;
	long limit = fds_limit(), need;

	r->fd_cap = 0;
	if (limit < 0)
		return 0;
	need = fds_open_now(limit) + RUN_FDS_SETUP + RUN_FDS_SLACK +
	       RUN_FDS_SPAWN + run_fds_task(r, sched_cgroup_tree_hierarchies(&co));
	if (limit >= need)
		return 0;
	snprintf(err, errlen, "too few open files allowed: a batch needs at "
		 "least %ld (its own files and one task's) but the limit "
		 "(RLIMIT_NOFILE, ulimit -n) is %ld; nothing was started",
		 need, limit);
	return -EMFILE;
}

/* After setup (see run_fds.h). */
int run_fds_check_setup(struct run *r, char *err, size_t errlen)
{
	long limit = fds_limit(), room, per;

	r->fd_cap = 0;
	if (limit < 0)
		return 0;
	per = run_fds_task(r, r->cg ? sched_cgroup_tree_hierarchies(NULL) : 0);
	room = limit - fds_open_now(limit) - RUN_FDS_SLACK - RUN_FDS_SPAWN;
	if (room < per) {
		snprintf(err, errlen, "too few open files allowed: a batch "
			 "needs at least %ld (its own files and one task's) but "
			 "the limit (RLIMIT_NOFILE, ulimit -n) is %ld; nothing "
			 "was started", limit - room + per, limit);
		return -EMFILE;
	}
	r->fd_per_task = per;
	r->fd_cap = (size_t)(room / per);
	return 0;
}

/* Whether one more task may start (see run_fds.h). */
int run_fds_room(struct run *r)
{
	if (!r->fd_cap || r->st.running < r->fd_cap)
		return 1;
	if (!r->fd_said) {
		long limit = fds_limit(), jobs = r->o->jobs;

		r->fd_said = 1;
		fprintf(stderr, "nicely: the open-file limit (RLIMIT_NOFILE %ld) "
			"lets %zu task%s run at once (each holds %ld fds); the "
			"others wait", limit, r->fd_cap,
			r->fd_cap == 1 ? "" : "s", r->fd_per_task);
		if (jobs > 0 && (size_t)jobs > r->fd_cap)
			fprintf(stderr, " (-j %ld needs ulimit -n %ld)", jobs,
				limit + ((long)jobs - (long)r->fd_cap) *
						r->fd_per_task);
		fputc('\n', stderr);
	}
	return 0;
}
