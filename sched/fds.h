/* sched/fds: the process's open-file limit and how much of it is in use,
 * for the fd budgets of `nicely run` (sched/cli/run_fds.c) and libnicely
 * (sched/lib/pool.c). Any thread; opens nothing below 64 Ki fds. */
#ifndef SCHED_FDS_H
#define SCHED_FDS_H

/* The soft RLIMIT_NOFILE, or -1 when there is none worth counting
 * (unlimited or above 2^30). */
long fds_limit(void);

/* How many fds are open now (limit from fds_limit; each fd below it is
 * asked for, so it works with none left; above 64 Ki /proc/self/fd is
 * read). */
long fds_open_now(long limit);

#endif
