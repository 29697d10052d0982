/* Test driver for nicely-agent's groups (sched/cgroup_agent.h) and the
 * client's delegated batch on the machine's cgroup tree, one step per
 * run so a shell test can play root and an ordinary user in turn:
 *   cga_driver make BASE UID GID BATCH CLASS MEMORY   (root) user group,
 *                        batch; prints the group path relative to the root
 *   cga_driver place BASE UID BATCH PID               (root) owner in
 *   cga_driver kill BASE UID BATCH KEEP_OWNER         (root) prints count
 *   cga_driver remove BASE UID BATCH                  (root) batch, and the
 *                        user group when empty
 *   cga_driver client GROUP CLASS [leave]             (user) delegated open,
 *                        one task group (task-<its pid>), a child joins it and prints its
 *                        /proc/self/cgroup; with leave the child stays
 *                        (sleep, its own session) and the batch is not
 *                        closed, as after a SIGKILLed client
 * CLASS is idle, low or normal. Exit 0 on success, 1 with a message. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched/cgroup.h"
#include "sched/cgroup_agent.h"

/* The weight class named s. */
static enum policy_weight cls(const char *s)
{
	return !strcmp(s, "idle") ? POLICY_WEIGHT_IDLE
	     : !strcmp(s, "low") ? POLICY_WEIGHT_LOW : POLICY_WEIGHT_NORMAL;
}

/* Print the failure and return 1. */
static int fail(const char *what, int r, const char *err)
{
	fprintf(stderr, "cga_driver: %s: %d %s\n", what, r, err);
	return 1;
}

/* The agent's steps. */
static int agent(int argc, char **argv)
{
	struct cga_opts o = { NULL, argv[2], NULL };
	struct cga *a = NULL;
	char err[1024] = "";
	uid_t uid = (uid_t)strtoul(argv[3], NULL, 10);
	int r;

	r = cga_open(&a, &o, err, sizeof(err));
	if (r < 0)
		return fail("open", r, err);
	if (!strcmp(argv[1], "make") && argc == 8) {
		r = cga_user_ensure(a, uid, NULL, err, sizeof(err));
		if (r == 0)
			r = cga_batch_make(a, uid,
					   (gid_t)strtoul(argv[4], NULL, 10),
					   argv[5], cls(argv[6]),
					   strtoull(argv[7], NULL, 10), NULL, err,
					   sizeof(err));
		if (r == 0)
			printf("%s/user-%s/%s\n", cga_base(a), argv[3], argv[5]);
	} else if (!strcmp(argv[1], "place") && argc == 6) {
		r = cga_batch_place(a, uid, argv[4], (pid_t)atol(argv[5]), err,
				    sizeof(err));
		if (r == 0 && !cga_batch_owned_by(a, uid, argv[4],
						  (pid_t)atol(argv[5])))
			r = -ESRCH;
	} else if (!strcmp(argv[1], "kill") && argc == 6) {
		r = cga_batch_kill(a, uid, argv[4], atoi(argv[5]), err,
				   sizeof(err));
		if (r >= 0)
			printf("%d\n", r);
	} else if (!strcmp(argv[1], "remove") && argc == 5) {
		r = cga_batch_remove(a, uid, argv[4], err, sizeof(err));
		cga_user_remove_if_empty(a, uid);
	} else {
		r = -EINVAL;
		snprintf(err, sizeof(err), "bad arguments");
	}
	cga_close(a);
	return r < 0 ? fail(argv[1], r, err) : 0;
}

/* The user's side: a task in the delegated batch. */
static int client(const char *group, const char *cl, int leave)
{
	struct sched_cgroup_options o = SCHED_CGROUP_OPTIONS_INIT;
	struct sched_cgroup_limits lim = { NULL, 0 };
	struct sched_cgroup_task t;
	struct sched_cgroup *b = NULL;
	char err[1024] = "", path[512];
	int r, st;
	pid_t pid;

	o.group = group;
	o.weight = cls(cl);
	r = sched_cgroup_batch_open(&b, &o, err, sizeof(err));
	if (r < 0)
		return fail("delegated open", r, err);
	r = sched_cgroup_task_create(b, (uint64_t)getpid(), &lim, &t, err,
				     sizeof(err));
	if (r < 0)
		return fail("task create", r, err);
	if (sched_cgroup_batch_path(b, "cpu", path, sizeof(path)))
		printf("cpu-batch %s\n", path);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (sched_cgroup_child_join(&t) < 0)
			_exit(3);
		if (leave) {
			setsid();
			execlp("sleep", "sleep", "300", (char *)NULL);
		} else {
			execlp("cat", "cat", "/proc/self/cgroup", (char *)NULL);
		}
		_exit(127);
	}
	sched_cgroup_task_forked(&t);
	if (leave) {	/* gone without a word, as if SIGKILLed */
		printf("left %ld\n", (long)pid);
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return fail("task", -ECHILD, "the task failed");
	r = sched_cgroup_task_remove(&t, err, sizeof(err));
	if (r == 0)
		r = sched_cgroup_batch_close(b, err, sizeof(err));
	return r < 0 ? fail("close", r, err) : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "client"))
		return client(argv[2], argv[3],
			      argc > 4 && !strcmp(argv[4], "leave"));
	if (argc >= 5)
		return agent(argc, argv);
	fprintf(stderr, "usage: see tests/helpers/cga_driver.c\n");
	return 2;
}
