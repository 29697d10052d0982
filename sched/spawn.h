/* sched/spawn: start one task process. vfork, then in the child (before
 * exec, system calls only): its own process group, PR_SET_PDEATHSIG, nice,
 * CPU affinity, the task's cgroups, stdio on the given pipes, every other
 * fd closed, SIGPIPE and the signal mask back to default, exec. A failure
 * in the child is handed back to the parent and becomes part of the task's
 * result, never a crash of the batch. Called by sched/cli/run.c in the loop. */
#ifndef SCHED_SPAWN_H
#define SCHED_SPAWN_H

#include <sched.h>
#include <stddef.h>
#include <sys/types.h>

/* What to start. Everything is allocated by the caller before the call. */
struct spawn_req {
	const char *cmd;	/* the shell command line */
	int direct;		/* 1: exec argv[] without /bin/sh */
	char *const *argv;	/* with direct: the words of cmd */
	const char *path;	/* with direct: argv[0] resolved by
				   spawn_resolve, or NULL to search PATH */
	int nice;		/* absolute nice value, -1 to leave it */
	const cpu_set_t *cpus;	/* affinity, NULL to leave it */
	const int *cgroup_fds;	/* open cgroup.procs files to write "0" to */
	size_t ncgroup_fds;
	int stdin_fd;		/* fd for the task's stdin (e.g. /dev/null) */
	int stdout_fd;		/* write ends for the task's stdout/stderr */
	int stderr_fd;
	const char *shell;	/* the shell for cmd (its path is its argv[0]
				   too, as GNU parallel's), NULL: /bin/sh */
};

#define SPAWN_REQ_INIT { NULL, 0, NULL, NULL, -1, NULL, NULL, 0, -1, -1, -1, NULL }

/* What happened in a child that never reached its command. */
struct spawn_failure {
	int stage;	/* SPAWN_STAGE_* */
	int err;	/* errno */
};

enum {
	SPAWN_STAGE_NONE,
	SPAWN_STAGE_CGROUP,	/* joining a cgroup failed */
	SPAWN_STAGE_AFFINITY,	/* sched_setaffinity failed */
	SPAWN_STAGE_STDIO,	/* dup2 of the pipes failed */
	SPAWN_STAGE_EXEC,	/* exec failed (exit 127 for ENOENT, else 126) */
};

/* Start a task (vfork: the parent waits only until the child exec'd).
 * On success returns 0 with the child's pid and a pidfd for it
 * (close-on-exec, owned by the caller); when the child failed before its
 * command, *failure says where and why (stage SPAWN_STAGE_NONE otherwise)
 * and the child exits 126/127, still to be reaped through the pidfd. On
 * failure (vfork, pidfd) returns -errno and nothing is left running. The
 * caller keeps ownership of the fds in req; they must not be 0-2. */
int spawn_start(const struct spawn_req *req, pid_t *pid, int *pidfd,
		struct spawn_failure *failure);
/* Find the program execvp would run for name (searching $PATH when name
 * has no '/') and copy its path into buf. Done once in the parent, so the
 * child execs at once instead of trying every PATH entry while the parent
 * waits. Returns 0, or -ENOENT (then let the child's execvp report). */
int spawn_resolve(const char *name, char *buf, size_t len);
/* Human text for a failure stage ("cannot run", "cannot join cgroup"...). */
const char *spawn_stage_text(int stage);
/* Split a command into words for a direct exec when it contains nothing the
 * shell would interpret (quotes, $, globs, redirections, ;, &, |, ...,
 * builtins-only words); returns a malloc'd NULL-terminated vector whose
 * strings live in the same block, or NULL to use /bin/sh -c. */
char **spawn_split_simple(const char *cmd);
/* 1 when name[0..len) is a function exported from bash (export -f): only
 * a shell can run it, never a direct exec. */
int spawn_is_function(const char *name, size_t len);

#endif
