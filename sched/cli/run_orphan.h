/* sched/cli/run_orphan: what a `nicely run` batch without cgroups does so
 * that nothing of its tasks outlives it: nicely is the child subreaper of
 * its tasks' double-forked (setsid) descendants, kills and reaps them;
 * kills a task's whole tree (not only its process group); and keeps a
 * record of its running tasks in the runtime directory, so that what a
 * SIGKILLed run left is killed by the same user's next run. Internal to
 * sched/cli/run*.c; loop thread. */
#ifndef SCHED_CLI_RUN_ORPHAN_H
#define SCHED_CLI_RUN_ORPHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct run;

/* The batch's part (in struct run). */
struct run_orphans {
	int subreaper;		/* PR_SET_CHILD_SUBREAPER is on */
	int rec_fd;		/* the record file, -1 without */
	char rec_path[4200];
	size_t rec_lines;	/* lines written since the file was made */
	pid_t *known;		/* orphans seen (and recorded), not reaped */
	size_t nknown, capknown;
	/* the tasks' descendants recorded (pid, start time pairs) */
	unsigned long long *seen;
	size_t nseen, capseen;
	uint64_t tree_ns;	/* when the tree was last read */
};

/* At batch start (after the cgroups were tried): kill what dead runs of
 * this user left (their records in the runtime directory); without
 * cgroups become the subreaper and open this run's record. */
void run_orphan_open(struct run *r);
/* A task process started: record its pid and start time. */
void run_orphan_task_started(struct run *r, pid_t pid);
/* Reap orphans that exited, record new ones (SIGCHLD and each tick);
 * at most once a second also record the tasks' new descendants, so that
 * the next run finds them should this one be SIGKILLed. */
void run_orphan_poll(struct run *r);
/* Send sig to every orphan and its descendants. Returns how many. */
size_t run_orphan_signal(struct run *r, int sig);
/* Send sig to pid's process group, then to all its descendants (setsid
 * ones too) of our user, as they were just before. */
void run_orphan_signal_tree(pid_t pid, int sig);
/* Kill (SIGKILL) the processes of ours holding pipe fd fd open. Returns
 * how many. */
size_t run_orphan_kill_pipe_holders(const int *fds, int nfds);
/* At batch end: TERM what orphans are left, KILL them after the grace,
 * reap them, stop being the subreaper, remove the record. */
void run_orphan_close(struct run *r);
/* Kill what the dead runs recorded in dir left: processes whose pid and
 * start time still match a record of a run that is gone, and that belong
 * to us, with their descendants. Returns how many were killed. */
size_t run_orphan_clean_stale(const char *dir);

#endif
