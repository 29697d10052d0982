/* sched/fds: the process's open-file limit and how much of it is in use,
 * for the fd budgets of `nicely run` (sched/cli/run_fds.c) and libnicely
 * (sched/lib/pool.c). Any thread. */
#ifndef SCHED_FDS_H
#define SCHED_FDS_H

/* The soft RLIMIT_NOFILE, or -1 when there is none worth counting
 * (unlimited or above 2^30). */
long fds_limit(void);

/* How many fds are open now (limit from fds_limit). Up to a limit of
 * 4096 each fd below it is asked for (fcntl: no fd needed, so it works
 * with none left); above, /proc/self/fd is read, else fds up to 64 Ki
 * are asked for. */
long fds_open_now(long limit);

#endif
