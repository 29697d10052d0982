/* What libnicely's worker cgroups cost: a lifespan-1 nicely_map of x*x (a
 * fresh worker per task) with cgroups off and on, in the same run next to
 * a bare fork+waitpid loop, and the pieces of one worker's group measured
 * on their own (make it, a child joins it and exits, remove it; and as a
 * pool's slot does it now: ready the kept group again, join, exit, empty
 * it). Needs permission to make cgroups (root) for the "on" figures; says
 * so otherwise. Usage: lib_cgroup_cost [N]; prints "name value" lines. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "nicely.h"
#include "sched/cgroup.h"

/* Microseconds per task of a lifespan-1 map of n tasks, 2 workers; -1 when
 * the pool cannot be made (or has no cgroups while they were asked for). */
static double life1(long n, int cgroups)
{
	nicely_options o;
	nicely_pool *p;
	nicely_stats st;
	int64_t *xs = malloc(sizeof *xs * (size_t)n);
	double t;

	nicely_options_init(&o);
	o.preset = "nuclear";
	o.max_workers = 2;
	o.lifespan = 1;
	o.cgroups = cgroups;
	if (!xs || nicely_pool_new(&p, &o)) {
		free(xs);
		return -1;
	}
	for (long i = 0; i < n; i++)
		xs[i] = i;
	t = now_s();
	nicely_map(p, square, xs, sizeof *xs, (size_t)n, 1, NULL);
	nicely_wait_all(p);
	t = now_s() - t;
	nicely_stats_get(p, &st);
	nicely_pool_free(p);
	free(xs);
	return st.completed == n ? t / (double)n * 1e6 : -1;
}

/* Microseconds per bare fork + _exit + waitpid, n times (issue 6's
 * yardstick for lifespan 1). */
static double bare_fork(long n)
{
	double t = now_s();

	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	return (now_s() - t) / (double)n * 1e6;
}

/* The pieces of one worker's group, averaged over n. */
static int pieces(int n)
{
	struct sched_cgroup_options co = SCHED_CGROUP_OPTIONS_INIT;
	struct sched_cgroup *b;
	double mk = 0, join = 0, rm = 0, bare = 0;
	char err[1024];

	co.weight = POLICY_WEIGHT_IDLE;
	if (sched_cgroup_batch_open(&b, &co, err, sizeof err)) {
		printf("# no cgroups: %s\n", err);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct sched_cgroup_task t;
		double a = now_s(), c, d, e;
		pid_t pid;

		if (sched_cgroup_task_create(b, (uint64_t)i + 1, NULL, &t, err,
					     sizeof err))
			break;
		c = now_s();
		if ((pid = fork()) == 0) {
			sched_cgroup_child_join(&t);
			_exit(0);
		}
		sched_cgroup_task_forked(&t);
		waitpid(pid, NULL, 0);
		d = now_s();
		sched_cgroup_task_remove(&t, err, sizeof err);
		e = now_s();
		if ((pid = fork()) == 0)
			_exit(0);
		waitpid(pid, NULL, 0);
		bare += now_s() - e;
		mk += c - a;
		join += d - c;
		rm += e - d;
	}
	printf("group_make_us %.0f\n", mk / n * 1e6);
	printf("group_fork_join_exit_us %.0f\n", join / n * 1e6);
	printf("bare_fork_exit_us %.0f\n", bare / n * 1e6);
	printf("group_remove_us %.0f\n", rm / n * 1e6);
	/* what a lifespan-1 slot pays now: its group readied again
	 * (sched_cgroup_task_reuse), an unpinned child joins it through the
	 * kept cgroup.procs files and exits, the group emptied (checked) and
	 * its figures read */
	struct sched_cgroup_task t;
	struct sched_cgroup_stats st;
	double re = 0, rjoin = 0, empty = 0;

	if (sched_cgroup_task_create(b, (uint64_t)n + 1, NULL, &t, err,
				     sizeof err) == 0) {
		for (int i = 0; i < n; i++) {
			double a = now_s(), c, d;
			struct sched_cgroup_task j = { 0 };
			pid_t pid;

			if (sched_cgroup_task_reuse(&t, NULL, err, sizeof err))
				break;
			/* the files a worker joins (unpinned: not the v1
			 * cpuset), as the fork server hands them */
			j.trace_fd = -1;
			j.nfd = sched_cgroup_task_join_fds(&t, j.procs_fd);
			c = now_s();
			if ((pid = fork()) == 0) {
				sched_cgroup_child_join(&j);
				_exit(0);
			}
			waitpid(pid, NULL, 0);
			d = now_s();
			sched_cgroup_task_kill(&t, err, sizeof err);
			sched_cgroup_task_stats(&t, &st);
			re += c - a;
			rjoin += d - c;
			empty += now_s() - d;
		}
		sched_cgroup_task_remove(&t, err, sizeof err);
		printf("group_reuse_us %.0f\n", re / n * 1e6);
		printf("group_reused_fork_join_exit_us %.0f\n", rjoin / n * 1e6);
		printf("group_empty_us %.0f\n", empty / n * 1e6);
	}
	sched_cgroup_batch_close(b, err, sizeof err);
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000;
	double off, on, bare;

	if (n < 1)
		return 2;
	off = life1(n, NICELY_CGROUPS_OFF);
	bare = bare_fork(n);
	on = life1(n, NICELY_CGROUPS_REQUIRED);
	printf("lifespan1_off_us %.1f\n", off);
	printf("bare_fork_waitpid_us %.1f\n", bare);
	printf("lifespan1_off_over_bare_fork %.2f\n", off / bare);
	if (on < 0) {
		printf("# cgroups cannot be made here (not root?)\n");
		return 0;
	}
	printf("lifespan1_cgroups_us %.1f\n", on);
	printf("lifespan1_cgroups_over_bare_fork %.2f\n", on / bare);
	printf("lifespan1_cgroups_over_off %.2f\n", on / off);
	pieces(n < 300 ? (int)n : 300);
	return 0;
}
