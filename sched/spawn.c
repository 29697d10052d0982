/* sched/spawn: fork and exec one task. spawn_child runs in the child after
 * fork and uses only async-signal-safe calls until exec; every step that can
 * fail reports (stage, errno) through a close-on-exec pipe the parent reads
 * after the child exited. Called by sched/run.c from the scheduler loop. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched/spawn.h"

/* Report a failed step to the parent and end the child. */
static void spawn_child_fail(int errfd, int stage, int err)
{
	struct spawn_failure f = { stage, err };
	ssize_t w;

	w = write(errfd, &f, sizeof f);
	(void)w;
	_exit(stage == SPAWN_STAGE_EXEC && err == ENOENT ? 127 : 126);
}

/* The child between fork and exec. Only async-signal-safe calls: this is
 * where a task gets its process group, death signal, nice, CPUs, cgroups
 * and stdio. New per-task steps (e.g. cgroup setup) belong here. */
static void spawn_child(const struct spawn_req *r, pid_t parent, int errfd)
{
	sigset_t none;
	int efd = errfd;

	/* own process group, so kill-all reaches the whole tree */
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* the parent may have died before prctl: then nobody would kill us */
	if (getppid() != parent)
		_exit(126);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (size_t i = 0; i < r->ncgroup_fds; i++)
		if (write(r->cgroup_fds[i], "0", 1) != 1)
			spawn_child_fail(efd, SPAWN_STAGE_CGROUP, errno);
	if (r->nice >= 0)
		setpriority(PRIO_PROCESS, 0, r->nice);
	if (r->cpus && sched_setaffinity(0, sizeof *r->cpus, r->cpus) < 0)
		spawn_child_fail(efd, SPAWN_STAGE_AFFINITY, errno);
	/* fds 0-2 of nicely are always open, so the sources are >= 3 */
	if (dup2(r->stdin_fd, 0) < 0 || dup2(r->stdout_fd, 1) < 0 ||
	    dup2(r->stderr_fd, 2) < 0)
		spawn_child_fail(efd, SPAWN_STAGE_STDIO, errno);
	/* keep the failure pipe as fd 3 (close-on-exec), close the rest */
	if (efd != 3) {
		if (dup3(efd, 3, O_CLOEXEC) < 0)
			spawn_child_fail(efd, SPAWN_STAGE_STDIO, errno);
		efd = 3;
	}
	close_range(4, ~0U, 0);
	if (r->direct)
		execvp(r->argv[0], r->argv);
	else
		execl("/bin/sh", "sh", "-c", r->cmd, (char *)NULL);
	spawn_child_fail(efd, SPAWN_STAGE_EXEC, errno);
}

/* Fork a task; the parent gets pid, pidfd and the failure pipe. */
int spawn_start(const struct spawn_req *req, pid_t *pid, int *pidfd,
		int *errfd)
{
	int ep[2], pfd, e;
	pid_t parent = getpid(), child;

	if (pipe2(ep, O_CLOEXEC) < 0)
		return -errno;
	child = fork();
	if (child < 0) {
		e = errno;
		close(ep[0]);
		close(ep[1]);
		return -e;
	}
	if (child == 0) {
		close(ep[0]);
		spawn_child(req, parent, ep[1]);
	}
	close(ep[1]);
	/* also set in the parent: no window where the child is in ours */
	setpgid(child, child);
	pfd = pidfd_open(child, 0);
	if (pfd < 0) {
		e = errno;
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		close(ep[0]);
		return -e;
	}
	fcntl(pfd, F_SETFD, FD_CLOEXEC);
	*pid = child;
	*pidfd = pfd;
	*errfd = ep[0];
	return 0;
}

/* Read what the child reported before exec, if anything. */
int spawn_read_failure(int errfd, struct spawn_failure *f)
{
	ssize_t r;

	do
		r = read(errfd, f, sizeof *f);
	while (r < 0 && errno == EINTR);
	return r == (ssize_t)sizeof *f;
}

/* Text naming the step that failed. */
const char *spawn_stage_text(int stage)
{
	switch (stage) {
	case SPAWN_STAGE_CGROUP: return "cannot join cgroup for";
	case SPAWN_STAGE_AFFINITY: return "cannot set CPU affinity for";
	case SPAWN_STAGE_STDIO: return "cannot set up output of";
	case SPAWN_STAGE_EXEC: return "cannot run";
	default: return "cannot start";
	}
}

/* Words the shell must interpret itself: keywords and state builtins. */
static const char *const spawn_shell_words[] = {
	".", ":", "alias", "bg", "break", "cd", "command", "continue",
	"eval", "exec", "exit", "export", "fc", "fg", "getopts", "hash",
	"jobs", "local", "read", "readonly", "return", "set", "shift",
	"times", "trap", "type", "ulimit", "umask", "unalias", "unset",
	"wait", "if", "then", "else", "elif", "fi", "for", "while", "until",
	"do", "done", "case", "esac", "function", "select", "source",
};

/* Split a command with no shell syntax into argv, else NULL. */
char **spawn_split_simple(const char *cmd)
{
	size_t n = strlen(cmd), words = 0;
	char **argv, *s;
	int in_word = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)cmd[i];
		if (c == ' ') {
			in_word = 0;
			continue;
		}
		if (c < 0x21 || c >= 0x7f || strchr("'\"\\$`*?[]{}~#&|;<>()!=", c))
			return NULL;
		if (!in_word)
			words++;
		in_word = 1;
	}
	if (words == 0)
		return NULL;
	argv = malloc((words + 1) * sizeof *argv + n + 1);
	if (!argv)
		return NULL;
	s = (char *)(argv + words + 1);
	memcpy(s, cmd, n + 1);
	words = 0;
	for (char *tok = strtok(s, " "); tok; tok = strtok(NULL, " "))
		argv[words++] = tok;
	argv[words] = NULL;
	for (size_t i = 0; i < sizeof spawn_shell_words / sizeof *spawn_shell_words; i++)
		if (!strcmp(argv[0], spawn_shell_words[i])) {
			free(argv);
			return NULL;
		}
	return argv;
}
