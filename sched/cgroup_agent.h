/* sched/cgroup_agent: the agent's side of the cgroup module (root only,
 * called from nicely-agent's loop): the nicely subtree at the top of every
 * hierarchy, one group per user in it (root's: the fence the user cannot
 * raise), one group per batch below, delegated to its user, the owner
 * process moved in, batches found again after a restart, killed and
 * removed. The client side of a delegated batch is sched_cgroup_batch_open
 * with opts.group (cgroup_batch.h).
 *
 * Tree, in every hierarchy (see cgroup.h for the kinds):
 *   <base>                          root's, 0755; class: the most demanding
 *                                   of its live batches (what competes
 *                                   with user.slice and system.slice)
 *   <base>/user-<uid>               root's, 0711 (others cannot list it);
 *                                   NORMAL weight, the same for every user
 *                                   (CPU splits evenly by user whatever
 *                                   their number of batches); [limits]
 *                                   max_pus as a CPU quota, cpus, memory
 *   <base>/user-<uid>/<batch>       the batch's class and memory limit,
 *                                   written by root; the directory (0700)
 *                                   and its delegation files (cgroup.procs,
 *                                   and v2's cgroup.threads and
 *                                   cgroup.subtree_control; v1's tasks)
 *                                   owned by the user, who makes task
 *                                   groups inside and sets their files
 *   <base>/user-<uid>/<batch>/owner the leaf the owner process is moved
 *                                   into (delegated the same way)
 * <batch> is "<user name>-<owner pid>-<n>", as batches root makes without
 * the agent, so the owner pid is in the name. On v2 the user and batch
 * groups get the controllers the tree has enabled in their parents'
 * cgroup.subtree_control (cpu, memory, pids, cpuset when there).
 * Every mkdir/write/rmdir is traced as the module's others are. */
#ifndef SCHED_CGROUP_AGENT_H
#define SCHED_CGROUP_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/preset.h"
#include "sched/cgroup_batch.h"

struct cga;			/* the tree as the agent holds it */

struct cga_opts {
	const char *root;	/* NULL: $NICELY_CGROUP_ROOT or /sys/fs/cgroup */
	const char *base;	/* NULL: "nicely" */
	const char *trace_path;	/* NULL: $NICELY_CGROUP_TRACE, unset = none */
};

/* What the admin's [limits] give one user, enforced on the user's group. */
struct cga_user_limits {
	int max_pus;		/* 0: none; else a CPU quota of max_pus CPUs */
	const char *cpus;	/* NULL: all; else a cpuset list for the user */
	uint64_t memory_max;	/* 0: none */
};

/* Detect the tree and make the base in every hierarchy when missing.
 * 0 with *out set, or -errno with err set (-ENOENT: no cgroup tree). */
int cga_open(struct cga **out, const struct cga_opts *o, char *err,
	     size_t errlen);
/* Free (groups stay: batches outlive an agent restart). NULL: no-op. */
void cga_close(struct cga *a);
enum sched_cgroup_mode cga_mode(const struct cga *a);
/* The base's name ("nicely"), the root's path. */
const char *cga_base(const struct cga *a);
const char *cga_root(const struct cga *a);
/* 1 when a hierarchy of the agent's tree has controller ctrl ("cpuset",
 * "memory", ...) in its groups, else 0 (a limit of it cannot be set). */
int cga_has(const struct cga *a, const char *ctrl);

/* Make the user's group when missing and (re)write its limits (lim NULL:
 * none). 0 or -errno with err set. */
int cga_user_ensure(struct cga *a, uid_t uid,
		    const struct cga_user_limits *lim, char *err,
		    size_t errlen);
/* Remove the user's group when no batch is left in it. */
void cga_user_remove_if_empty(struct cga *a, uid_t uid);

/* Make <base>/user-<uid>/<batch> and its owner leaf in every hierarchy
 * with weight class w and memory limit memory_max (0: none) and cpus
 * (NULL: the user group's), owned by uid:gid as described above; the
 * user's group must exist. Then the base's class is raised to w when w is
 * more demanding. On error nothing of the batch is left. 0 or -errno with
 * err set (-EEXIST when the batch exists). */
int cga_batch_make(struct cga *a, uid_t uid, gid_t gid, const char *batch,
		   enum policy_weight w, uint64_t memory_max,
		   const char *cpus, char *err, size_t errlen);
/* Move process pid into the batch's owner leaf in every hierarchy. 0 or
 * -errno with err naming the file. */
int cga_batch_place(struct cga *a, uid_t uid, const char *batch, pid_t pid,
		    char *err, size_t errlen);
/* 1 when pid is in the batch's owner leaf (the batch's owner), else 0. */
int cga_batch_owned_by(struct cga *a, uid_t uid, const char *batch,
		       pid_t pid);
/* Kill every process of the batch; keep_owner: all but those in the owner
 * leaf. Returns the number of processes signalled, or -errno with err
 * set. Waits (bounded, as sched_cgroup_batch_kill) until they are gone. */
int cga_batch_kill(struct cga *a, uid_t uid, const char *batch,
		   int keep_owner, char *err, size_t errlen);
/* One round of killing the batch (keep_owner: all but the owner leaf),
 * without waiting: the number of processes found (each signalled), 0 when
 * none is left, or -errno with err set. The agent calls it again between
 * loop rounds until it returns 0, serving its peers meanwhile. */
int cga_batch_kill_round(struct cga *a, uid_t uid, const char *batch,
			 int keep_owner, char *err, size_t errlen);
/* Set the batch group's CPU class to w (the admin's fence changed), then
 * the base's to what its live batches need. 0 or -errno with err set. */
int cga_batch_reclass(struct cga *a, uid_t uid, const char *batch,
		      enum policy_weight w, char *err, size_t errlen);
/* The CPU class the batch group has now (read back from its weight), in
 * *w. 0, or -errno (no cpu controller, no such group). */
int cga_batch_class(struct cga *a, uid_t uid, const char *batch,
		    enum policy_weight *w);
/* Kill what is left and remove the batch's groups (children first), then
 * lower the base's class to what its live batches need. 0 or -errno. */
int cga_batch_remove(struct cga *a, uid_t uid, const char *batch, char *err,
		     size_t errlen);
/* CPU time used by the batch's groups (batch NULL: the user's group; uid
 * (uid_t)-1 and batch NULL: the whole base), in ns. 0 or -errno. */
int cga_usage(struct cga *a, uid_t uid, const char *batch, uint64_t *ns);
/* Absolute path of the base in the hierarchy that accounts CPU time, for
 * agent_sampler_set_cgroup (everything under it is not "others"). */
const char *cga_base_cpu_path(const struct cga *a, char *buf, size_t len);

/* The group detached batches' supervisors start in, <base>/held (root's,
 * 0755; made when missing), until they open their batch: the cgroup.procs
 * of each hierarchy opened for writing (O_CLOEXEC) into fds (room for
 * max). Returns how many, or -errno with err set (the fds opened before
 * the failure closed). */
#define CGA_HELD "held"
int cga_held_procs(struct cga *a, int *fds, int max, char *err,
		   size_t errlen);

/* Every batch under the base (the tree's first hierarchy is the list):
 * fn(ctx, uid, batch, owner_pid) for each "user-<uid>/<batch>" whose
 * name parses; owner_pid is the pid in the name. fn returning nonzero
 * stops the walk. Returns the number seen or -errno with err set. */
typedef int (*cga_batch_fn)(void *ctx, uid_t uid, const char *batch,
			    pid_t owner_pid);
int cga_scan(struct cga *a, cga_batch_fn fn, void *ctx, char *err,
	     size_t errlen);

#endif
