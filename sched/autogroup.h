/* sched/autogroup: the fallback where no cgroup can be made. With
 * autogroup (Debian's default) every session is its own scheduling group
 * and nice only ranks tasks inside it, so the session's autogroup nice is
 * what a batch without cgroups can lower. Called by the batch engines at
 * start and end, and in a child after setsid(). */
#ifndef SCHED_AUTOGROUP_H
#define SCHED_AUTOGROUP_H

#include "policy/preset.h"

/* Fallback without cgroups: set the autogroup nice of the calling
 * process's session from the weight class (IDLE 19, LOW 10, NORMAL
 * untouched) through /proc/self/autogroup; nice alone only ranks tasks
 * inside one autogroup. Retries while the kernel's rate limit for
 * unprivileged writes (one per 100 ms) refuses. Async-signal-safe (usable
 * in a child after setsid() to affect only that session). 0, or -errno
 * (-ENOENT on kernels without autogroup). */
int sched_cgroup_autogroup_fallback(enum policy_weight w);
/* The session's autogroup nice now, or -errno. */
int sched_cgroup_autogroup_nice(void);
/* Put the session's autogroup nice back (0..19) after a fallback. */
int sched_cgroup_autogroup_restore(int nice);

#endif
