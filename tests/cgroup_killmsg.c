/* A cgroup kill that fails says why (issue 15: a failed cgroup kill
 * printed uninitialised bytes as its message): on a fake cgroup2 tree,
 * with every file descriptor in use, removing a batch (which kills what
 * is in it first) fails with a message naming the group, not with the
 * caller's buffer left as it was. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sched/cgroup_agent.h"
#include "tests/tap.h"

int main(void)
{
	char dir[] = "/tmp/nicely-killmsg.XXXXXX", p[300], err[512], cmd[400];
	struct cga_opts o = { 0 };
	struct cga *a;
	int fds[4096], n = 0, e;
	FILE *f;

	if (!mkdtemp(dir))
		tap_bail("mkdtemp");
	snprintf(p, sizeof p, "%s/cgroup.controllers", dir);
	if (!(f = fopen(p, "w")))
		tap_bail("fopen");
	fputs("cpu memory pids\n", f);
	fclose(f);
	/* the interface files a cgroup2 root has (new groups copy them) */
	static const char *files[] = { "cgroup.procs", "cgroup.threads",
				       "cgroup.subtree_control", "cpu.weight",
				       "cpu.idle", "cpu.max", "memory.max" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		if ((f = fopen(p, "w")))
			fclose(f);
	}
	o.root = dir;
	o.trace_path = "/dev/null";
	ok(cga_open(&a, &o, err, sizeof err) == 0, "a fake tree (%s)", err);
	ok(cga_user_ensure(a, 4242, NULL, err, sizeof err) == 0 &&
	   cga_batch_make(a, 4242, 4242, "u-1-1", POLICY_WEIGHT_IDLE, 0, NULL,
			  err, sizeof err) == 0, "a batch (%s)", err);
	snprintf(p, sizeof p, "%s/nicely/user-4242/u-1-1/cgroup.procs", dir);
	if ((f = fopen(p, "w"))) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
	/* use up every descriptor */
	struct rlimit rl = { 64, 64 };
	setrlimit(RLIMIT_NOFILE, &rl);
	while (n < 4096 && (fds[n] = open("/dev/null", O_RDONLY)) >= 0)
		n++;
	memset(err, 'X', sizeof err);	/* what an unset message would show */
	e = cga_batch_remove(a, 4242, "u-1-1", err, sizeof err);
	while (n > 0)
		close(fds[--n]);
	ok(e < 0, "removing the batch out of descriptors fails (%d)", e);
	ok(memchr(err, 0, sizeof err) != NULL &&
	   strstr(err, "cannot read the processes of cgroup") &&
	   strstr(err, "u-1-1"), "its message says why: %.200s",
	   memchr(err, 0, sizeof err) ? err : "(not a string)");
	cga_close(a);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("cannot remove %s", dir);
	return tap_done();
}
