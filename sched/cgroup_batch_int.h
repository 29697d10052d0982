/* sched/cgroup_batch_int: the batch record, owned by cgroup_batch.c and
 * read by the cgroup module's own files (cgroup_task.c, cgroup_ctl.c).
 * Callers see struct sched_cgroup as opaque (cgroup_batch.h). */
#ifndef SCHED_CGROUP_BATCH_INT_H
#define SCHED_CGROUP_BATCH_INT_H

#include "sched/cgroup_batch.h"
#include "sched/cgroup_fs.h"

struct sched_cgroup {
	struct cg_tree t;
	char base[64];
	char user[64];
	char name[128];		/* <user>-<pid>-<n> */
	char rel[200];		/* <base>/<name>, or the agent's group */
	enum policy_weight weight;
	int has_idle;
	int own_trace;		/* trace_fd opened here */
	int delegated;		/* rel is nicely-agent's (opts->group): only
				 * the task groups in it are ours */
};

#endif
