/* Unit tests for sched/spawn: a task's own process group, nice, CPU
 * affinity, stdio on the given fds and no other fd inherited; exec failures
 * reported as data (stage, errno, exit 127/126); the shell-free splitter.
 * Starts real processes and reaps each one it started. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched/spawn.h"
#include "tests/tap.h"

/* Start req with stdout on a pipe; collect output and the wait status. */
static int run(struct spawn_req *r, char *out, size_t outlen, int *status,
	       struct spawn_failure *f)
{
	int p[2], pidfd, devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t pid;
	size_t n = 0;
	ssize_t k;

	if (pipe2(p, O_CLOEXEC) < 0 || devnull < 0)
		tap_bail("pipe");
	r->stdin_fd = devnull;
	r->stdout_fd = p[1];
	r->stderr_fd = p[1];
	int e = spawn_start(r, &pid, &pidfd, f);
	close(p[1]);
	close(devnull);
	if (e < 0) {
		close(p[0]);
		return e;
	}
	while (n + 1 < outlen && (k = read(p[0], out + n, outlen - 1 - n)) > 0)
		n += (size_t)k;
	out[n] = 0;
	close(p[0]);
	struct pollfd pf = { pidfd, POLLIN, 0 };
	ok(poll(&pf, 1, 10000) == 1, "pidfd becomes readable when it exits");
	waitpid(pid, status, 0);
	close(pidfd);
	return pid;
}

/* Group, nice, affinity and inherited fds seen from inside the task. */
static void test_child_setup(void)
{
	struct spawn_req r = SPAWN_REQ_INIT;
	struct spawn_failure f;
	cpu_set_t cpus;
	char out[4096], want[256];
	int status;
	int leak = open("/dev/null", O_RDONLY); /* not close-on-exec */

	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	r.cmd = "cut -d' ' -f5,19 /proc/self/stat; "
		"grep Cpus_allowed_list /proc/self/status | cut -f2; "
		"ls /proc/self/fd | tr '\\n' ' '";
	r.nice = 7;
	r.cpus = &cpus;
	pid_t pid = run(&r, out, sizeof out, &status, &f);
	ok(pid > 0, "started");
	is_int(f.stage, SPAWN_STAGE_NONE, "no failure before exec");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit 0");
	/* the shell's children share its group; its pgid is its pid */
	snprintf(want, sizeof want, "%d 7\n0\n0 1 2 3 ", pid);
	is_str(out, want, "own process group, nice 7, pinned to CPU 0, only "
			  "fds 0-2 (3 is ls's directory)");
	close(leak);
}

/* A missing program and a file that is not executable are results. */
static void test_exec_failure(void)
{
	struct spawn_req r = SPAWN_REQ_INIT;
	struct spawn_failure f;
	char out[256];
	int status;
	char *argv[] = { "nicely-test-no-such-program", NULL };

	r.cmd = argv[0];
	r.direct = 1;
	r.argv = argv;
	ok(run(&r, out, sizeof out, &status, &f) > 0, "a missing program forks");
	is_int(f.stage, SPAWN_STAGE_EXEC, "failure at exec");
	is_int(f.err, ENOENT, "ENOENT");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 127, "exit 127");

	char path[] = "/tmp/nicely-spawn-test.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		tap_bail("mkstemp");
	close(fd);
	char *argv2[] = { path, NULL };
	r.argv = argv2;
	run(&r, out, sizeof out, &status, &f);
	is_int(f.err, EACCES, "not executable: EACCES");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 126, "exit 126");
	unlink(path);
	is_str(spawn_stage_text(SPAWN_STAGE_EXEC), "cannot run", "stage text");

	/* direct exec with arguments, no shell */
	char *argv3[] = { "printf", "%s|", "a b", "$x", NULL };
	r.argv = argv3;
	run(&r, out, sizeof out, &status, &f);
	is_str(out, "a b|$x|", "direct exec passes words as they are");
}

/* Which commands may skip /bin/sh. */
static void test_split(void)
{
	char **v = spawn_split_simple("  true  a-b ./c,d ");
	ok(v && !strcmp(v[0], "true") && !strcmp(v[1], "a-b") &&
	   !strcmp(v[2], "./c,d") && !v[3], "plain words split on spaces");
	free(v);
	const char *shell[] = { "echo $HOME", "a; b", "a | b", "a > f",
				"echo 'q'", "cd /", "X=1 cmd", "ls *", "",
				"a\tb", "exit 3", "echo `id`", "a && b" };
	for (size_t i = 0; i < sizeof shell / sizeof *shell; i++) {
		v = spawn_split_simple(shell[i]);
		ok(v == NULL, "needs the shell: [%s]", shell[i]);
		free(v);
	}
}

/* Run every group of checks; the exit status counts failures. */
int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_child_setup();
	test_exec_failure();
	test_split();
	return tap_done();
}
