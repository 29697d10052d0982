/* sched/spawn: vfork and exec one task. spawn_child runs in the child,
 * sharing the parent's memory until exec, and makes system calls only;
 * a step that fails writes (stage, errno) into the parent's memory, which
 * the parent reads when vfork returns. Called by sched/cli/run.c in the loop. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched/spawn.h"

/* Record a failed step where the parent reads it and end the child. The
 * child shares the parent's memory (vfork) until it execs or exits. */
static __attribute__((noreturn)) void
spawn_child_fail(volatile struct spawn_failure *f, int stage,
			     int err)
{
	f->stage = stage;
	f->err = err;
	_exit(stage == SPAWN_STAGE_EXEC && err == ENOENT ? 127 : 126);
}

/* The child between vfork and exec. It shares the parent's memory, so only
 * system calls here, no allocation, no stdio, no return: this is where a
 * task gets its process group, death signal, nice, CPUs, cgroups and
 * stdio. New per-task steps (e.g. cgroup setup) belong here, vfork-safe. */
static __attribute__((noinline, noreturn)) void
spawn_child(const struct spawn_req *r, pid_t parent,
	    volatile struct spawn_failure *f)
{
	sigset_t none;

	/* own process group, so kill-all reaches the whole tree */
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* the parent may have died before prctl: then nobody would kill us */
	if (getppid() != parent)
		_exit(126);
	/* nicely ignores SIGPIPE; the task gets the default back */
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (size_t i = 0; i < r->ncgroup_fds; i++)
		if (write(r->cgroup_fds[i], "0", 1) != 1)
			spawn_child_fail(f, SPAWN_STAGE_CGROUP, errno);
	if (r->nice >= 0)
		setpriority(PRIO_PROCESS, 0, r->nice);
	if (r->cpus && sched_setaffinity(0, sizeof *r->cpus, r->cpus) < 0)
		spawn_child_fail(f, SPAWN_STAGE_AFFINITY, errno);
	/* fds 0-2 of nicely are always open, so the sources are >= 3 */
	if (dup2(r->stdin_fd, 0) < 0 || dup2(r->stdout_fd, 1) < 0 ||
	    dup2(r->stderr_fd, 2) < 0)
		spawn_child_fail(f, SPAWN_STAGE_STDIO, errno);
	close_range(3, ~0U, 0);
	if (r->direct && r->path)
		execv(r->path, r->argv);
	else if (r->direct)
		execvp(r->argv[0], r->argv);
	else
		execl(r->shell ? r->shell : "/bin/sh",
		      r->shell ? r->shell : "sh", "-c", r->cmd, (char *)NULL);
	spawn_child_fail(f, SPAWN_STAGE_EXEC, errno);
}

/* vfork a task: the parent resumes once the child exec'd or failed. */
int spawn_start(const struct spawn_req *req, pid_t *pid, int *pidfd,
		struct spawn_failure *failure)
{
	volatile struct spawn_failure f = { SPAWN_STAGE_NONE, 0 };
	pid_t parent = getpid(), child;
	int pfd, e;

	child = vfork();
	if (child < 0)
		return -errno;
	if (child == 0)
		spawn_child(req, parent, &f);
	pfd = pidfd_open(child, 0);
	if (pfd < 0) {
		e = errno;
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		return -e;
	}
	/* pidfds are close-on-exec from the start */
	*pid = child;
	*pidfd = pfd;
	failure->stage = f.stage;
	failure->err = f.err;
	return 0;
}

/* Resolve a program name through $PATH like execvp. */
int spawn_resolve(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;
	struct stat st;

	if (!*name)
		return -ENOENT;
	if (strchr(name, '/')) {
		if (strlen(name) >= len)
			return -ENAMETOOLONG;
		strcpy(buf, name);
		return 0;
	}
	if (!path)
		path = "/bin:/usr/bin";
	for (p = path; ; p = end + 1) {
		end = strchrnul(p, ':');
		size_t dl = (size_t)(end - p);
		if (dl == 0) /* an empty entry is the current directory */
			dl = 1, p = ".";
		if (dl + 1 + strlen(name) < len) {
			memcpy(buf, p, dl);
			buf[dl] = '/';
			strcpy(buf + dl + 1, name);
			if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(buf, X_OK) == 0)
				return 0;
		}
		if (!*end)
			break;
	}
	return -ENOENT;
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
	/* bash's own (tasks run under the user's shell, often bash) */
	"builtin", "caller", "coproc", "declare", "dirs", "disown", "echo",
	"enable", "let", "logout", "mapfile", "popd", "pushd", "readarray",
	"shopt", "suspend", "time", "typeset",
};

/* 1 when name[0..len) is a shell function bash imports from the
 * environment (`export -f NAME`: BASH_FUNC_NAME%%=...). */
int spawn_is_function(const char *name, size_t len)
{
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, "BASH_FUNC_", 10) &&
		    !strncmp(*e + 10, name, len) &&
		    !strncmp(*e + 10 + len, "%%=", 3))
			return 1;
	return 0;
}

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
	if (spawn_is_function(argv[0], strlen(argv[0]))) {
		free(argv);
		return NULL;
	}
	return argv;
}
