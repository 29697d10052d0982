/* sched/cli/run_fds: the open-file budget of one `nicely run` batch: the
 * least RLIMIT_NOFILE it can run under, checked before anything is set up,
 * and how many tasks fit at once under the limit. Internal to the run
 * engine (sched/cli/run*.c); loop thread. */
#ifndef SCHED_CLI_RUN_FDS_H
#define SCHED_CLI_RUN_FDS_H

#include <stddef.h>

struct run;

/* Before run_init opens anything: -EMFILE with err naming the fds the
 * batch needs and the limit when the limit is below what the batch's own
 * files and one task take (with cgroups as this machine's tree would give
 * them), else 0. */
int run_fds_check_start(struct run *r, char *err, size_t errlen);

/* After setup (sampler, loop, cgroups, socket): count what is open and
 * set how many tasks fit at once (r->fd_cap, 0 = no cap). -EMFILE with
 * err set when not even one does. */
int run_fds_check_setup(struct run *r, char *err, size_t errlen);

/* 1 when one more task may start under the fd budget; else 0, and the
 * first time it says so on stderr (how many run at once, and what limit
 * -j would need). */
int run_fds_room(struct run *r);

#endif
