/* Test driver for the cgroup module (sched/cgroup.h) as whatever user runs it: opens a batch
 * on the machine's cgroup tree with idle weight and reports the outcome.
 * Without permission it prints the module's message and shows the fallback
 * a task gets: its own session with autogroup nice 19. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched/cgroup.h"

/* Open a batch; on failure run one fallback task. Exit 0 when the outcome
 * is coherent (opened and closed, or refused with a message). */
int main(void)
{
	struct sched_cgroup_options o = SCHED_CGROUP_OPTIONS_INIT;
	struct sched_cgroup *b = NULL;
	char err[1024] = "";
	int r, status;
	pid_t pid;

	o.weight = POLICY_WEIGHT_IDLE;
	r = sched_cgroup_batch_open(&b, &o, err, sizeof(err));
	if (r == 0) {
		printf("cgroups: %s batch %s\n",
		       sched_cgroup_mode_name(sched_cgroup_mode(b)),
		       sched_cgroup_batch_name(b));
		return sched_cgroup_batch_close(b, err, sizeof(err)) ? 1 : 0;
	}
	printf("open: %d\nmessage: %s\n", r, err);
	fflush(stdout);
	if (!*err)
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		if (setsid() < 0)
			_exit(2);
		r = sched_cgroup_autogroup_fallback(POLICY_WEIGHT_IDLE);
		if (r < 0) {
			printf("autogroup: %s\n", strerror(-r));
			fflush(stdout);
			_exit(3);
		}
		execl("/bin/cat", "cat", "/proc/self/autogroup", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
