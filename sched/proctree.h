/* sched/proctree: the processes of the machine as /proc shows them (pid,
 * parent, process group, owner, start time), for finding what a task
 * left behind: its descendants (setsid ones included), the processes
 * that still hold one of its pipes, a process's identity (pid + start
 * time) across runs. Plain /proc reads, no state; loop thread of the CLI
 * (never in a child after fork). */
#ifndef SCHED_PROCTREE_H
#define SCHED_PROCTREE_H

#include <stddef.h>
#include <sys/types.h>

/* One process. */
struct proctree_proc {
	pid_t pid, ppid, pgid;
	uid_t uid;			/* owner of /proc/PID (effective uid) */
	unsigned long long start;	/* field 22 of /proc/PID/stat */
	int mark;			/* the caller's */
};

/* A snapshot of every process, owned by the caller (proctree_free). */
struct proctree {
	struct proctree_proc *p;
	size_t n, cap;
};

/* Read /proc/PID/stat of pid: parent, process group, start time (clock
 * ticks after boot). Any out pointer may be NULL. 0, or -errno (-ESRCH:
 * gone). */
int proctree_stat(pid_t pid, pid_t *ppid, pid_t *pgid,
		  unsigned long long *start);
/* The start time of a live process pid (field 22 of /proc/PID/stat) in
 * *start: 0; -ESRCH when there is no such process or it is a zombie
 * (its PID may be taken by the next one); other -errno. */
int proctree_start(pid_t pid, unsigned long long *start);
/* Snapshot every process into pt (emptied first). 0, or -errno. */
int proctree_read(struct proctree *pt);
/* Free a snapshot. */
void proctree_free(struct proctree *pt);
/* Set mark = 1 on root (when present), on every process of its process
 * group when root leads one, and on all their descendants. Returns how
 * many processes are marked in pt now. */
size_t proctree_mark_tree(struct proctree *pt, pid_t root);
/* Send sig to every marked process of uid (never to the caller itself).
 * Returns how many were signalled. */
size_t proctree_kill_marked(const struct proctree *pt, uid_t uid, int sig);
/* Mark the processes of uid that hold the pipe with inode ino open (as an
 * fd). Returns how many. */
size_t proctree_mark_pipe(struct proctree *pt, uid_t uid, unsigned long ino);
/* Our own children (every thread's), pids into out (up to max). Returns
 * how many there are (may exceed max), or -errno. */
int proctree_children(pid_t *out, size_t max);

#endif
