/* sched/forkserver: the small helper process libnicely forks when a pool is
 * created. It forks every worker on request (so forks never copy the
 * caller's later memory), reports their exits, kills their process groups,
 * and takes them all down when the pool's owner dies. The pool talks to it
 * over one SOCK_SEQPACKET socket with the messages below. */
#ifndef SCHED_FORKSERVER_H
#define SCHED_FORKSERVER_H

#include <stdint.h>
#include <sys/types.h>

#include "sched/cgroup.h"
#include "sched/lib/worker.h"

/* Most fds on one message: task, result, stderr, then one cgroup.procs
 * file per hierarchy of the worker's cgroup. */
#define FORKSERVER_MAX_FDS (3 + SCHED_CGROUP_MAX_HIER)

enum forkserver_msg_type {
	FORKSERVER_SPAWN = 1,	/* p->fs: fork a worker; fds attached:
				 * task, result[, stderr], then ncg
				 * cgroup.procs files the child joins */
	FORKSERVER_KILL,	/* p->fs: SIGKILL the process group of pid */
	FORKSERVER_SPAWNED,	/* fs->p: slot now runs pid */
	FORKSERVER_SPAWNFAIL,	/* fs->p: fork for slot failed with val=errno */
	FORKSERVER_EXITED,	/* fs->p: pid (slot) is reaped, val=wait status */
	FORKSERVER_AUTOGROUP,	/* fs->p: its own session's autogroup nice
				 * was set (val=0) or not (val=errno) */
	FORKSERVER_BYE,		/* p->fs: the pool is being freed and
				 * cleans up its cgroups itself */
};

struct forkserver_msg {
	int32_t type;
	int32_t slot;
	int32_t pid;
	int32_t val;	/* SPAWN: nice (-1 = leave); else as above */
	int32_t cpu;	/* SPAWN: Linux CPU to pin to, -1 = none */
	int32_t nfds;	/* SPAWN: all fds attached: 2 or 3 (with a stderr
			 * pipe) + ncg */
	uint64_t cpu_ns;	/* EXITED: the worker's user+system time */
	int32_t ncg;	/* SPAWN: how many of them are cgroup.procs files */
	int32_t spare;	/* 0; keeps the struct free of padding bytes */
};

/* Fork the fork server. sock receives the other end of a socketpair made by
 * the caller; cfg is what every worker gets. cg: the pool's batch cgroup or
 * NULL; when the socket ends without a FORKSERVER_BYE (the owner died or
 * exec'ed), the fork server kills every process in it and removes it, using
 * its own copy of cg made by the fork (so a batch opened later, by
 * nicely_reset, is left to the next pool's stale cleaning). autogroup: -1, or a weight
 * class (enum policy_weight) for a pool without cgroups: the fork server
 * then starts its own session (so its workers share one autogroup apart
 * from the caller's) and gives that autogroup the class's nice, reported
 * by one FORKSERVER_AUTOGROUP message. Returns the PID or -errno. The
 * child closes every fd but its socket and 0-2; it never returns. */
pid_t forkserver_start(int *sock, const struct worker_cfg *cfg,
		       struct sched_cgroup *cg, int autogroup);

/* Send a message (and fds) on the control socket; 0 or -errno. */
int forkserver_send(int sock, const struct forkserver_msg *m, const int *fds,
		    int nfds);

#endif
