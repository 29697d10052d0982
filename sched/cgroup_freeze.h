/* sched/cgroup_freeze: freeze, thaw and kill what runs in a group of the
 * cgroup module (a task's or a batch's, in every hierarchy). Part of the
 * shim; only the module's own files include it. */
#ifndef SCHED_CGROUP_FREEZE_H
#define SCHED_CGROUP_FREEZE_H

#include <stddef.h>

#include "sched/cgroup_fs.h"

/* Freeze (frozen=1) or thaw (0) group rel: v1 freezer when the tree has
 * one, else cgroup.freeze. The write is the pause (no process of the group
 * runs user code after it); wait_ms > 0 also waits that long for the
 * kernel to report it done (not on fakes), wait_ms 0 does not. 0, -ENOTSUP
 * without a freezer, -ETIMEDOUT when the wait ran out, other -errno; err
 * set. */
int cg_freeze(const struct cg_tree *t, const char *rel, int frozen,
	      int wait_ms, char *err, size_t errlen);
/* Kill every process in group rel and below until none is left (bounded,
 * about 5 s: then -EBUSY with err set). 0 or -errno. */
int cg_kill(const struct cg_tree *t, const char *rel, char *err,
	    size_t errlen);
/* One round of cg_kill, without waiting: the number of processes group rel
 * and below held before it (each sent SIGKILL, or cgroup.kill written),
 * 0 when it was empty (nothing sent), or -errno with err set. Called
 * again until it returns 0 by a caller that cannot wait in place (the
 * agent serving its peers meanwhile). */
int cg_kill_round(const struct cg_tree *t, const char *rel, char *err,
		  size_t errlen);

#endif
