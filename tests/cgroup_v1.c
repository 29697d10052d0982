/* The cgroup module (sched/cgroup.h) on this machine's real cgroup v1 controllers: twice, once
 * as the machine is (hybrid when it has an empty cgroup2 as well, killing
 * through cgroup.kill) and once on a root that shows only the v1
 * controllers (killing by freeze, SIGKILL, thaw). Real children join in the
 * child path; values are read back while they run; freeze is observed;
 * kill-all must leave no process of a double-forked `setsid sleep`; stale
 * batches of a dead owner are cleaned up; a task's groups reused for its
 * next process. Skipped unless root with v1 cpu. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sched/cgroup.h"
#include "tests/tap.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

#define MAXP 16
static pid_t pids[MAXP];	/* every process this test started */
static int npids;

/* Remember a pid for the final check and the emergency clean-up. */
static void track(pid_t p)
{
	if (p > 0 && npids < MAXP)
		pids[npids++] = p;
}

/* Read a file into a static buffer, trailing newline dropped. */
static const char *slurp(const char *path)
{
	static char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	buf[0] = 0;
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = 0;
	return buf;
}

/* The value of dir/file. */
static const char *val(const char *dir, const char *file)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return slurp(p);
}

/* The freezer state of group dir: its v1 freezer.state, or on cgroup2
 * (a hybrid tree's own freezer) "FROZEN"/"THAWED" from cgroup.events. */
static const char *freezer_state(const char *dir)
{
	const char *ev;

	if (*val(dir, "freezer.state"))
		return val(dir, "freezer.state");
	ev = val(dir, "cgroup.events");
	return strstr(ev, "frozen 1") ? "FROZEN"
	       : strstr(ev, "frozen 0") ? "THAWED" : "";
}

/* Task t's group dir must say FROZEN within 10 s of its freeze. The write
 * is the pause, but a group at idle weight on CPUs others keep busy may get
 * no CPU time to reach the freeze point: then its freeze must at least be
 * requested (FREEZING, cgroup.freeze 1), and the check is skipped while the
 * group had no more than 20 ms of CPU meanwhile. */
static void frozen_or_skip(const char *label, const char *dir,
			   struct sched_cgroup_task *t)
{
	struct sched_cgroup_stats st;
	int64_t u0;
	int i, req;

	sched_cgroup_task_stats(t, &st);
	u0 = st.cpu_ns;
	for (i = 0; i < 1000 && strcmp(freezer_state(dir), "FROZEN"); i++)
		usleep(10000);
	if (!strcmp(freezer_state(dir), "FROZEN")) {
		ok(1, "%s: its freezer says FROZEN", label);
		return;
	}
	sched_cgroup_task_stats(t, &st);
	req = !strcmp(val(dir, "freezer.state"), "FREEZING") ||
	      !strcmp(val(dir, "cgroup.freeze"), "1");
	if (req && st.cpu_ns - u0 <= 20000000)
		ok(1, "%s: its freezer says FROZEN # SKIP freeze requested, but "
		      "others left the group %lld ms of CPU in 10 s", label,
		   (long long)((st.cpu_ns - u0) / 1000000));
	else
		ok(0, "%s: its freezer says FROZEN (%s, freeze %s, %lld ms of "
		      "CPU meanwhile)", label, freezer_state(dir),
		   req ? "requested" : "not requested",
		   (long long)((st.cpu_ns - u0) / 1000000));
}

/* 1 if the process is gone or a zombie (it can never run again). */
static int dead(pid_t pid)
{
	char p[64];
	const char *s, *rp;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 1;
	snprintf(p, sizeof(p), "/proc/%ld/stat", (long)pid);
	s = slurp(p);
	rp = strrchr(s, ')');
	return !*s || (rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
}

/* Start `sh -c script` in task t; its stdout comes back through *out. */
static pid_t spawn(struct sched_cgroup_task *t, const char *script, int *out)
{
	int fd[2];
	pid_t pid;

	if (pipe2(fd, O_CLOEXEC) < 0)
		tap_bail("pipe");
	pid = fork();
	if (pid == 0) {
		if (sched_cgroup_child_join(t) < 0)
			_exit(120);
		dup2(fd[1], 1);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	sched_cgroup_task_forked(t);
	track(pid);
	*out = fd[0];
	return pid;
}

/* Read one pid printed by a child. */
static pid_t read_pid(int fd)
{
	char buf[32];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	if (n <= 0)
		return -1;
	buf[n] = 0;
	return (pid_t)atol(buf);
}

/* 1 if /proc/PID/cgroup puts it in a group ending with rel for the
 * hierarchy line that contains key (":cpu:" or "0::"). */
static int in_group(pid_t pid, const char *key, const char *rel)
{
	char p[64], *line, *save = NULL, buf[8192];
	size_t rl = strlen(rel), ll;

	snprintf(p, sizeof(p), "/proc/%ld/cgroup", (long)pid);
	snprintf(buf, sizeof(buf), "%s", slurp(p));
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, key))
			continue;
		ll = strlen(line);
		return ll >= rl && !strcmp(line + ll - rl, rel);
	}
	return 0;
}

/* Reap pid (our child, or an orphan we inherited as subreaper); returns
 * the signal that killed it, or -1. */
static int reap(pid_t pid)
{
	int status, i;

	for (i = 0; i < 500; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFSIGNALED(status) ? WTERMSIG(status) : -1;
		usleep(10000);
	}
	return -2;
}

/* The trace's line numbers for needle, -1 if absent. */
static int trace_line(const char *trace, const char *needle)
{
	const char *p = strstr(trace, needle), *q;
	int n = 0;

	if (!p)
		return -1;
	for (q = trace; q < p; q++)
		n += *q == '\n';
	return n;
}

/* The whole life of a batch on the tree at root (NULL: the machine's). */
static void scenario(const char *root, const char *label, const char *tdir)
{
	struct sched_cgroup_options o = SCHED_CGROUP_OPTIONS_INIT;
	struct sched_cgroup_task t1, t2;
	struct sched_cgroup_stats st;
	struct sched_cgroup *b = NULL;
	static const char *ctrls[] = { "cpu", "cpuacct", "cpuset", "memory",
				       "freezer", "unified" };
	char err[1024] = "", trace[400], want[400], dirs[6][600], p[700];
	char task1[700], task2[700], rel[300];
	const char *fzkey;
	int64_t u1, u2, u3;
	cpu_set_t cpus;
	pid_t c1, c2, gc;
	int fd1, fd2, r, i, last_cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
	enum sched_cgroup_mode m;

	tap_diag("--- %s", label);
	snprintf(trace, sizeof(trace), "%s/trace-%s", tdir, label);
	o.root = root;
	o.trace_path = trace;
	o.weight = POLICY_WEIGHT_IDLE;
	r = sched_cgroup_batch_open(&b, &o, err, sizeof(err));
	is_int(r, 0, "%s: batch opened (%s)", label, err);
	if (r < 0)
		return;
	m = sched_cgroup_mode(b);
	tap_diag("mode %s, batch %s", sched_cgroup_mode_name(m),
		 sched_cgroup_batch_name(b));
	ok(root ? m == SCHED_CGROUP_V1
		: m == SCHED_CGROUP_V1 || m == SCHED_CGROUP_HYBRID,
	   "%s: mode %s", label, sched_cgroup_mode_name(m));
	for (i = 0; i < 6; i++)
		if (!sched_cgroup_batch_path(b, ctrls[i], dirs[i],
					     sizeof(dirs[i])))
			dirs[i][0] = 0;
	ok(dirs[0][0] && dirs[2][0] && dirs[3][0] && dirs[4][0],
	   "%s: cpu, cpuset, memory and freezer groups exist", label);
	/* a hybrid tree's cgroup2 has its own freezer: the v1 one is left
	 * out (a worker joins one group fewer) */
	fzkey = ":freezer:";
	if (m == SCHED_CGROUP_HYBRID) {
		is_str(dirs[4], dirs[5],
		       "%s: the freezer is cgroup2's (cgroup.freeze)", label);
		snprintf(p, sizeof(p), "/sys/fs/cgroup/freezer/nicely/%s",
			 sched_cgroup_batch_name(b));
		ok(access(p, F_OK) != 0, "%s: no group in the v1 freezer",
		   label);
		fzkey = "0::";
	}
	snprintf(rel, sizeof(rel), "/nicely/%s/task-1",
		 sched_cgroup_batch_name(b));

	CPU_ZERO(&cpus);
	CPU_SET(last_cpu, &cpus);
	r = sched_cgroup_task_create(b, 1,
				     &(struct sched_cgroup_limits){
					     &cpus, 256ull << 20 },
				     &t1, err, sizeof(err));
	is_int(r, 0, "%s: task 1 created (%s)", label, err);
	r |= sched_cgroup_task_create(b, 2, NULL, &t2, err, sizeof(err));
	is_int(r, 0, "%s: task 2 created (%s)", label, err);
	if (r < 0) {
		sched_cgroup_batch_close(b, err, sizeof(err));
		return;
	}
	{
		const char *tr = slurp(trace);
		int ls, li;

		snprintf(want, sizeof(want), "%s/task-1/cpu.shares 2",
			 sched_cgroup_batch_name(b));
		ls = trace_line(tr, want);
		snprintf(want, sizeof(want), "%s/task-1/cpu.idle 1",
			 sched_cgroup_batch_name(b));
		li = trace_line(tr, want);
		ok(ls >= 0 && (!sched_cgroup_has_idle(b) || li > ls),
		   "%s: cpu.shares written before cpu.idle", label);
		snprintf(want, sizeof(want), "%s/task-1/cpuset.mems",
			 sched_cgroup_batch_name(b));
		ok(trace_line(tr, want) >= 0,
		   "%s: cpuset.mems given to the task group", label);
	}

	c1 = spawn(&t1, "(setsid sleep 1000 & echo $!); exec sleep 1000",
		   &fd1);
	gc = read_pid(fd1);
	close(fd1);
	track(gc);
	ok(gc > 0, "%s: task 1 double-forked setsid sleep %ld", label,
	   (long)gc);
	c2 = spawn(&t2, "while :; do :; done", &fd2);
	close(fd2);
	usleep(100000);

	snprintf(task1, sizeof(task1), "%s/task-1", dirs[0]);
	/* with cpu.idle=1 the kernel reports its idle weight, 3, as shares */
	if (sched_cgroup_has_idle(b)) {
		is_str(val(task1, "cpu.idle"), "1", "%s: task cpu.idle = 1",
		       label);
		ok(atoi(val(task1, "cpu.shares")) <= 3,
		   "%s: task cpu.shares minimal (%s)", label,
		   val(task1, "cpu.shares"));
	} else {
		is_str(val(task1, "cpu.shares"), "2", "%s: task cpu.shares = 2",
		       label);
	}
	snprintf(want, sizeof(want), "%s/cpu.idle", dirs[0]);
	if (sched_cgroup_has_idle(b))
		is_str(slurp(want), "1", "%s: batch cpu.idle = 1", label);
	snprintf(p, sizeof(p), "%s/task-1", dirs[2]);
	snprintf(want, sizeof(want), "%d", last_cpu);
	is_str(val(p, "cpuset.cpus"), want, "%s: task cpuset.cpus = %d", label,
	       last_cpu);
	snprintf(p, sizeof(p), "%s/task-1", dirs[3]);
	is_str(val(p, "memory.limit_in_bytes"), "268435456",
	       "%s: task memory limit 256 MiB", label);
	ok(in_group(c1, ":cpu:", rel) && in_group(c1, ":memory:", rel) &&
	   in_group(c1, ":cpuset:", rel) && in_group(c1, fzkey, rel),
	   "%s: task 1 runs in its groups", label);
	ok(in_group(gc, ":cpu:", rel) && in_group(gc, fzkey, rel),
	   "%s: its setsid grandchild too", label);
	if (dirs[5][0])
		ok(in_group(c1, "0::", rel) && in_group(gc, "0::", rel),
		   "%s: and in the cgroup2 tracking group", label);
	/* the subshell that forked the setsid sleep exits on its own */
	for (i = 0; i < 100 && sched_cgroup_task_nprocs(&t1) != 2; i++)
		usleep(10000);
	is_int(sched_cgroup_task_nprocs(&t1), 2, "%s: 2 processes in task 1",
	       label);

	is_int(sched_cgroup_task_freeze(&t1, 1, err, sizeof(err)), 0,
	       "%s: task 1 frozen (%s)", label, err);
	snprintf(p, sizeof(p), "%s/task-1", dirs[4]);
	frozen_or_skip(label, p, &t1);
	is_int(sched_cgroup_task_freeze(&t1, 0, err, sizeof(err)), 0,
	       "%s: task 1 thawed", label);
	is_str(freezer_state(p), "THAWED", "%s: and THAWED", label);

	is_int(sched_cgroup_batch_freeze(b, 1, err, sizeof(err)), 0,
	       "%s: batch frozen (%s)", label, err);
	sched_cgroup_task_stats(&t2, &st);
	u1 = st.cpu_ns;
	usleep(300000);
	sched_cgroup_task_stats(&t2, &st);
	u2 = st.cpu_ns;
	ok(u1 > 0 && u2 - u1 < 5000000,
	   "%s: busy task gets no CPU while frozen (%lld ns in 300 ms)", label,
	   (long long)(u2 - u1));
	is_int(sched_cgroup_batch_freeze(b, 0, err, sizeof(err)), 0,
	       "%s: batch thawed", label);
	/* idle weight: on a loaded machine it may get little, but some */
	for (i = 0; i < 300; i++) {
		usleep(10000);
		sched_cgroup_task_stats(&t2, &st);
		u3 = st.cpu_ns;
		if (u3 - u2 > 1000000)
			break;
	}
	ok(u3 - u2 > 1000000, "%s: and runs again after thaw (%lld ns)",
	   label, (long long)(u3 - u2));
	ok(st.mem_peak > 0, "%s: peak memory %lld bytes", label,
	   (long long)st.mem_peak);

	/* kill-all of a paused batch: frozen tasks must die too */
	is_int(sched_cgroup_batch_freeze(b, 1, err, sizeof(err)), 0,
	       "%s: batch paused again before kill-all", label);
	r = sched_cgroup_batch_kill(b, err, sizeof(err));
	is_int(r, 0, "%s: kill-all of the paused batch (%s)", label, err);
	is_int(sched_cgroup_task_nprocs(&t1) + sched_cgroup_task_nprocs(&t2), 0,
	       "%s: no process left in the groups", label);
	is_int(reap(c1), SIGKILL, "%s: task 1 killed", label);
	is_int(reap(c2), SIGKILL, "%s: task 2 killed", label);
	is_int(reap(gc), SIGKILL, "%s: the setsid grandchild killed", label);
	ok(dead(c1) && dead(c2) && dead(gc), "%s: zero survivors by pid",
	   label);

	snprintf(task2, sizeof(task2), "%s/task-2", dirs[0]);
	is_int(sched_cgroup_task_remove(&t1, err, sizeof(err)), 0,
	       "%s: task 1 removed (%s)", label, err);
	is_int(sched_cgroup_task_remove(&t2, err, sizeof(err)), 0,
	       "%s: task 2 removed (%s)", label, err);
	ok(access(task1, F_OK) < 0 && access(task2, F_OK) < 0,
	   "%s: task groups gone", label);
	is_int(sched_cgroup_batch_close(b, err, sizeof(err)), 0,
	       "%s: batch closed (%s)", label, err);
	for (i = 0, r = 0; i < 6; i++)
		if (dirs[i][0] && access(dirs[i], F_OK) == 0) {
			tap_diag("left behind: %s", dirs[i]);
			r++;
		}
	is_int(r, 0, "%s: batch groups gone in every hierarchy", label);
}

/* A batch whose owner was SIGKILLed: the next start removes it and kills
 * what ran in it. Uses its own base so no other batch is involved. */
static void stale(void)
{
	struct sched_cgroup_options o = SCHED_CGROUP_OPTIONS_INIT;
	char err[1024] = "", base[64], dir[600], name[200];
	int fd[2], status, r;
	pid_t owner, c, gc;

	snprintf(base, sizeof(base), "nicelytest-%ld", (long)getpid());
	o.base = base;
	if (pipe(fd) < 0)
		tap_bail("pipe");
	owner = fork();
	if (owner == 0) {
		struct sched_cgroup *b;
		struct sched_cgroup_task t;
		int out;
		char line[300];
		pid_t cc, g;

		close(fd[0]);
		if (sched_cgroup_batch_open(&b, &o, err, sizeof(err)) < 0 ||
		    sched_cgroup_task_create(b, 1, NULL, &t, err,
					     sizeof(err)) < 0)
			_exit(1);
		cc = spawn(&t, "(setsid sleep 1000 & echo $!); exec sleep 1000",
			   &out);
		g = read_pid(out);
		snprintf(line, sizeof(line), "%ld %ld %s\n", (long)cc, (long)g,
			 sched_cgroup_batch_name(b));
		if (write(fd[1], line, strlen(line)) < 0)
			_exit(1);
		pause();
		_exit(0);
	}
	track(owner);
	close(fd[1]);
	{
		char buf[300];
		ssize_t n = read(fd[0], buf, sizeof(buf) - 1);
		long a = 0, g = 0;

		buf[n > 0 ? n : 0] = 0;
		name[0] = 0;
		if (sscanf(buf, "%ld %ld %199s", &a, &g, name) != 3)
			a = g = 0;
		c = (pid_t)a;
		gc = (pid_t)g;
	}
	close(fd[0]);
	track(c);
	track(gc);
	ok(c > 0 && gc > 0 && *name, "stale: the owner started a task and a "
	   "setsid grandchild in batch %s", name);
	kill(owner, SIGKILL);
	waitpid(owner, &status, 0);
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/cpu/%s/%s", base, name);
	ok(access(dir, F_OK) == 0, "stale: the dead owner's group remains");
	ok(!dead(c) && !dead(gc), "stale: its processes still run");
	r = sched_cgroup_clean_stale(&o, err, sizeof(err));
	is_int(r, 1, "stale: one batch cleaned (%s)", err);
	is_int(reap(c), SIGKILL, "stale: the task was killed");
	is_int(reap(gc), SIGKILL, "stale: the setsid grandchild was killed");
	ok(access(dir, F_OK) < 0, "stale: the group is gone");
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/cpu/%s", base);
	ok(access(dir, F_OK) < 0, "stale: and the empty base with it");
}

/* A signal to the task reaches the setsid grandchild too. */
static void signal_all(void)
{
	struct sched_cgroup_options o = SCHED_CGROUP_OPTIONS_INIT;
	struct sched_cgroup_task t;
	struct sched_cgroup *b = NULL;
	char err[1024] = "";
	pid_t c, gc;
	int fd, i;

	if (sched_cgroup_batch_open(&b, &o, err, sizeof(err)) < 0 ||
	    sched_cgroup_task_create(b, 1, NULL, &t, err, sizeof(err)) < 0) {
		ok(0, "signal: batch and task (%s)", err);
		sched_cgroup_batch_close(b, err, sizeof(err));
		return;
	}
	c = spawn(&t, "(setsid sleep 1000 & echo $!); exec sleep 1000", &fd);
	gc = read_pid(fd);
	close(fd);
	track(gc);
	for (i = 0; i < 100 && sched_cgroup_task_nprocs(&t) != 2; i++)
		usleep(10000);
	is_int(sched_cgroup_task_signal(&t, SIGTERM), 2,
	       "signal: SIGTERM sent to both processes of the task");
	is_int(reap(c), SIGTERM, "signal: the task got it");
	is_int(reap(gc), SIGTERM, "signal: the setsid grandchild got it");
	is_int(sched_cgroup_task_remove(&t, err, sizeof(err)), 0,
	       "signal: task removed (%s)", err);
	is_int(sched_cgroup_batch_close(b, err, sizeof(err)), 0,
	       "signal: batch closed (%s)", err);
}

/* A task over its memory limit is killed, and the kill is counted. */
static void memory_limit(const char *helpers)
{
	struct sched_cgroup_options o = SCHED_CGROUP_OPTIONS_INIT;
	struct sched_cgroup_task t1, t2;
	struct sched_cgroup_stats st;
	struct sched_cgroup *b = NULL;
	char err[1024] = "", cmd1[600], cmd2[600];
	pid_t c1, c2;
	int fd;

	snprintf(cmd1, sizeof(cmd1), "exec %s/memhog 400", helpers);
	snprintf(cmd2, sizeof(cmd2), "exec %s/memhog 8", helpers);
	if (sched_cgroup_batch_open(&b, &o, err, sizeof(err)) < 0 ||
	    sched_cgroup_task_create(b, 1,
				     &(struct sched_cgroup_limits){
					     NULL, 96ull << 20 },
				     &t1, err, sizeof(err)) < 0 ||
	    sched_cgroup_task_create(b, 2,
				     &(struct sched_cgroup_limits){
					     NULL, 96ull << 20 },
				     &t2, err, sizeof(err)) < 0) {
		ok(0, "memory: batch and tasks (%s)", err);
		sched_cgroup_batch_close(b, err, sizeof(err));
		return;
	}
	c1 = spawn(&t1, cmd1, &fd);
	close(fd);
	c2 = spawn(&t2, cmd2, &fd);
	close(fd);
	is_int(reap(c1), SIGKILL, "memory: 400 MiB under a 96 MiB limit: "
	       "killed");
	is_int(reap(c2), -1, "memory: 8 MiB under the same limit: exits");
	sched_cgroup_task_stats(&t1, &st);
	ok(st.oom_kills >= 1, "memory: the kill is counted (%lld)",
	   (long long)st.oom_kills);
	ok(st.mem_peak > (48 << 20) && st.mem_peak <= (97 << 20),
	   "memory: peak %lld bytes, at most the limit",
	   (long long)st.mem_peak);
	sched_cgroup_task_stats(&t2, &st);
	is_int(st.oom_kills, 0, "memory: no kill in the task that fitted");
	ok(st.mem_peak >= (8 << 20), "memory: its peak %lld >= 8 MiB",
	   (long long)st.mem_peak);
	is_int(sched_cgroup_task_remove(&t1, err, sizeof(err)) |
		       sched_cgroup_task_remove(&t2, err, sizeof(err)),
	       0, "memory: tasks removed (%s)", err);
	is_int(sched_cgroup_batch_close(b, err, sizeof(err)), 0,
	       "memory: batch closed (%s)", err);
}

/* A root showing only the v1 controllers, as symlinks into the real ones. */
static int v1_only_root(char *root, size_t len, const char *tdir)
{
	static const char *c[] = { "cpu", "cpuacct", "cpuset", "memory",
				   "freezer" };
	char src[300], dst[700];
	size_t i;

	snprintf(root, len, "%s/v1root", tdir);
	if (mkdir(root, 0755) < 0)
		return -1;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		snprintf(src, sizeof(src), "/sys/fs/cgroup/%s", c[i]);
		snprintf(dst, sizeof(dst), "%s/%s", root, c[i]);
		if (access(src, F_OK) == 0 && symlink(src, dst) < 0)
			return -1;
	}
	return 0;
}

/* Run every scenario, then check nothing this test started is left. */
/* sched_cgroup_task_reuse on the real tree: what a process left in the
 * group dies, a new CPU is written to cpuset.cpus, the figures start from
 * zero again, and the next process joins the same group, alone there. */
static void reuse(const char *root, const char *label)
{
	struct sched_cgroup_options o = SCHED_CGROUP_OPTIONS_INIT;
	struct sched_cgroup_task t;
	struct sched_cgroup_stats st;
	struct sched_cgroup_limits lim = { NULL, 64ull << 20 };
	struct sched_cgroup *b = NULL;
	char err[1024] = "", cs[600], mem[600], rel[300], want[16];
	int last_cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1, fd, r;
	int64_t cpu_before;
	cpu_set_t cpus;
	pid_t c, sl;

	o.root = root;
	r = sched_cgroup_batch_open(&b, &o, err, sizeof(err));
	is_int(r, 0, "%s reuse: batch opened (%s)", label, err);
	if (r < 0)
		return;
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	lim.cpus = &cpus;
	r = sched_cgroup_task_create(b, 1, &lim, &t, err, sizeof(err));
	is_int(r, 0, "%s reuse: task made on CPU 0 (%s)", label, err);
	if (r < 0) {
		sched_cgroup_batch_close(b, err, sizeof(err));
		return;
	}
	snprintf(rel, sizeof(rel), "/nicely/%s/task-1",
		 sched_cgroup_batch_name(b));
	sched_cgroup_batch_path(b, "cpuset", cs, sizeof(cs));
	strcat(cs, "/task-1");
	sched_cgroup_batch_path(b, "memory", mem, sizeof(mem));
	strcat(mem, "/task-1");
	c = spawn(&t,
		  "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; "
		  "setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $!",
		  &fd);
	sl = read_pid(fd);
	close(fd);
	reap(c);
	if (sl > 0)
		track(sl);
	ok(sl > 0 && !dead(sl), "%s reuse: a setsid sleep is left (%d)", label,
	   (int)sl);
	sched_cgroup_task_stats(&t, &st);
	cpu_before = st.cpu_ns;
	ok(cpu_before > 0, "%s reuse: CPU time before: %lld ns", label,
	   (long long)cpu_before);
	CPU_ZERO(&cpus);
	CPU_SET(last_cpu, &cpus);
	r = sched_cgroup_task_reuse(&t, &lim, err, sizeof(err));
	is_int(r, 0, "%s reuse: reused on CPU %d (%s)", label, last_cpu, err);
	ok(sl > 0 && dead(sl), "%s reuse: the sleep left behind is dead",
	   label);
	if (sl > 0)
		reap(sl);
	snprintf(want, sizeof(want), "%d", last_cpu);
	is_str(val(cs, "cpuset.cpus"), want, "%s reuse: cpuset.cpus now %s",
	       label, want);
	is_str(val(mem, "memory.limit_in_bytes"), "67108864",
	       "%s reuse: memory limit kept", label);
	sched_cgroup_task_stats(&t, &st);
	ok(st.cpu_ns >= 0 && st.cpu_ns < cpu_before,
	   "%s reuse: CPU time counts from the reuse (%lld ns)", label,
	   (long long)st.cpu_ns);
	ok(st.mem_peak >= 0 && st.mem_peak < (1 << 20),
	   "%s reuse: peak memory reset (%lld bytes)", label,
	   (long long)st.mem_peak);
	c = spawn(&t, "echo $$; exec sleep 5", &fd);
	is_int(read_pid(fd), c, "%s reuse: a new child started", label);
	close(fd);
	ok(in_group(c, ":cpu:", rel) && in_group(c, ":cpuset:", rel) &&
		   in_group(c, ":memory:", rel),
	   "%s reuse: it joined the same groups", label);
	is_int(sched_cgroup_task_nprocs(&t), 1, "%s reuse: alone there", label);
	is_int(sched_cgroup_task_remove(&t, err, sizeof(err)), 0,
	       "%s reuse: removed (%s)", label, err);
	reap(c);
	ok(access(cs, F_OK) != 0, "%s reuse: the group is gone", label);
	sched_cgroup_batch_close(b, err, sizeof(err));
}

/* An unpinned process joins what sched_cgroup_task_join_fds gives it (as a
 * libnicely worker does): on a tree with a v1 cpuset of its own it stays
 * in its parent's cpuset group, in all its other groups; a move gives the
 * group its CPU and moves the process (and its child) in. */
static void lazy_cpuset(const char *root, const char *label)
{
	struct sched_cgroup_options o = SCHED_CGROUP_OPTIONS_INIT;
	struct sched_cgroup_task t, c_t;
	struct sched_cgroup *b = NULL;
	char err[1024] = "", rel[300], want[16], self_cs[300], p[64];
	int last_cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1, fd[2], r, n;
	cpu_set_t cpus, got;
	pid_t c, gc;

	o.root = root;
	r = sched_cgroup_batch_open(&b, &o, err, sizeof(err));
	is_int(r, 0, "%s lazy cpuset: batch opened (%s)", label, err);
	if (r < 0)
		return;
	r = sched_cgroup_task_create(b, 1, NULL, &t, err, sizeof(err));
	is_int(r, 0, "%s lazy cpuset: unpinned task made (%s)", label, err);
	if (r < 0) {
		sched_cgroup_batch_close(b, err, sizeof(err));
		return;
	}
	snprintf(rel, sizeof(rel), "/nicely/%s/task-1",
		 sched_cgroup_batch_name(b));
	memset(&c_t, 0, sizeof(c_t));
	c_t.trace_fd = -1;
	n = sched_cgroup_task_join_fds(&t, c_t.procs_fd);
	c_t.nfd = n;
	is_int(n, t.nfd - 1, "%s lazy cpuset: one join fewer", label);
	if (pipe2(fd, O_CLOEXEC) < 0)
		tap_bail("pipe");
	c = fork();
	if (c == 0) {
		if (sched_cgroup_child_join(&c_t) < 0)
			_exit(120);
		dup2(fd[1], 1);
		execl("/bin/sh", "sh", "-c",
		      "(sleep 1000 & echo $!); exec sleep 1000", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	track(c);
	gc = read_pid(fd[0]);
	close(fd[0]);
	track(gc);
	snprintf(p, sizeof(p), "/proc/%ld/cgroup", (long)getpid());
	{
		const char *s = strstr(slurp(p), ":cpuset:");

		snprintf(self_cs, sizeof(self_cs), "%.*s",
			 s ? (int)strcspn(s + 8, "\n") : 0, s ? s + 8 : "");
	}
	ok(in_group(c, ":cpu:", rel) && in_group(c, ":memory:", rel) &&
		   !in_group(c, ":cpuset:", rel) &&
		   in_group(c, ":cpuset:", self_cs),
	   "%s lazy cpuset: in its groups but its parent's cpuset (%s)",
	   label, self_cs);
	CPU_ZERO(&cpus);
	CPU_SET(last_cpu, &cpus);
	r = sched_cgroup_task_set_cpus(&t, &cpus, err, sizeof(err));
	is_int(r, 0, "%s lazy cpuset: moved to CPU %d (%s)", label, last_cpu,
	       err);
	ok(in_group(c, ":cpuset:", rel) && in_group(gc, ":cpuset:", rel),
	   "%s lazy cpuset: the process and its child now in the group",
	   label);
	snprintf(want, sizeof(want), "%d", last_cpu);
	CPU_ZERO(&got);
	ok(sched_getaffinity(gc, sizeof(got), &got) == 0 &&
		   CPU_COUNT(&got) == 1 && CPU_ISSET(last_cpu, &got),
	   "%s lazy cpuset: and on CPU %s", label, want);
	is_int(sched_cgroup_task_remove(&t, err, sizeof(err)), 0,
	       "%s lazy cpuset: removed (%s)", label, err);
	reap(c);
	sched_cgroup_batch_close(b, err, sizeof(err));
	ok(dead(c) && dead(gc), "%s lazy cpuset: nothing left", label);
}

/* A pool slot's way (its cgroup.procs files kept, sched_cgroup_task_forked
 * never called): after a worker, kill (nothing left) and read the figures;
 * the reuse then takes those as the zero (CPU time 0 at once, nothing read
 * again), resets the peak memory through a file kept open, and the next
 * child joins the same groups, alone there. */
static void reuse_kept(const char *root, const char *label)
{
	struct sched_cgroup_options o = SCHED_CGROUP_OPTIONS_INIT;
	struct sched_cgroup_task t;
	struct sched_cgroup_stats st;
	struct sched_cgroup *b = NULL;
	char err[1024] = "", rel[300];
	int fd[2], in[2], r;
	pid_t c;

	o.root = root;
	r = sched_cgroup_batch_open(&b, &o, err, sizeof(err));
	is_int(r, 0, "%s kept: batch opened (%s)", label, err);
	if (r < 0)
		return;
	r = sched_cgroup_task_create(b, 1, NULL, &t, err, sizeof(err));
	is_int(r, 0, "%s kept: task made (%s)", label, err);
	if (r < 0) {
		sched_cgroup_batch_close(b, err, sizeof(err));
		return;
	}
	snprintf(rel, sizeof(rel), "/nicely/%s/task-1",
		 sched_cgroup_batch_name(b));
	for (int round = 0; round < 2; round++) {
		if (pipe2(fd, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC) < 0)
			tap_bail("pipe");
		c = fork();
		if (c == 0) {
			if (sched_cgroup_child_join(&t) < 0)
				_exit(120);
			dup2(fd[1], 1);
			dup2(in[0], 0);
			execl("/bin/sh", "sh", "-c",
			      "x=$(head -c 6000000 /dev/zero | tr '\\0' a); "
			      "echo $$ ${#x}; read y",
			      (char *)NULL);
			_exit(127);
		}
		close(fd[1]);
		close(in[0]);
		track(c);
		is_int(read_pid(fd[0]), c, "%s kept %d: a child ran", label,
		       round);
		close(fd[0]);
		ok(in_group(c, ":cpu:", rel) && in_group(c, ":cpuset:", rel) &&
			   in_group(c, ":memory:", rel),
		   "%s kept %d: in the task's groups", label, round);
		close(in[1]);	/* its read ends: it exits */
		reap(c);
		is_int(t.nfd > 0, 1, "%s kept %d: cgroup.procs files kept",
		       label, round);
		is_int(sched_cgroup_task_kill(&t, err, sizeof(err)), 0,
		       "%s kept %d: kill finds it empty (%s)", label, round,
		       err);
		sched_cgroup_task_stats(&t, &st);
		ok(st.cpu_ns > 0 && st.mem_peak >= 6000000,
		   "%s kept %d: its figures (%lld ns, peak %lld bytes)", label,
		   round, (long long)st.cpu_ns, (long long)st.mem_peak);
		r = sched_cgroup_task_reuse(&t, NULL, err, sizeof(err));
		is_int(r, 0, "%s kept %d: reused (%s)", label, round, err);
		sched_cgroup_task_stats(&t, &st);
		is_int(st.cpu_ns, 0,
		       "%s kept %d: CPU time from the figures read after the "
		       "kill", label, round);
		ok(st.mem_peak >= 0 && st.mem_peak < (1 << 20),
		   "%s kept %d: peak memory reset (%lld bytes)", label, round,
		   (long long)st.mem_peak);
	}
	ok(t.stat_fd[SCHED_CGROUP_TASK_NSTAT - 1] >= 0,
	   "%s kept: the reset went through a kept file", label);
	is_int(sched_cgroup_task_remove(&t, err, sizeof(err)), 0,
	       "%s kept: removed (%s)", label, err);
	sched_cgroup_batch_close(b, err, sizeof(err));
}

int main(void)
{
	char tdir[64] = "/tmp/nicely-cgv1-XXXXXX", root[300], cmd[200];
	char helpers[512];
	const char *build = getenv("NICELY_BUILD");
	int i, left = 0;

	/* the helpers sit beside this test: build/tests/helpers */
	if (build && *build)
		snprintf(helpers, sizeof(helpers), "%s/tests/helpers", build);
	else if (readlink("/proc/self/exe", helpers, sizeof(helpers) - 20) > 0) {
		helpers[sizeof(helpers) - 20] = 0;
		if (strrchr(helpers, '/'))
			strcpy(strrchr(helpers, '/'), "/helpers");
	}

	if (geteuid() != 0)
		tap_skip_all("needs root to create cgroups");
	if (access("/sys/fs/cgroup/cpu/cpu.shares", F_OK) < 0 ||
	    access("/sys/fs/cgroup/freezer/cgroup.procs", F_OK) < 0)
		tap_skip_all("no cgroup v1 cpu and freezer controllers here");
	unsetenv("NICELY_CGROUP_ROOT");
	unsetenv("NICELY_CGROUP_TRACE");
	if (!mkdtemp(tdir))
		tap_bail("mkdtemp");
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	scenario(NULL, "machine", tdir);
	reuse(NULL, "machine");
	reuse_kept(NULL, "machine");
	lazy_cpuset(NULL, "machine");
	if (v1_only_root(root, sizeof(root), tdir) == 0) {
		scenario(root, "v1-only", tdir);
		reuse(root, "v1-only");
		reuse_kept(root, "v1-only");
		lazy_cpuset(root, "v1-only");
	} else
		ok(0, "could not build a v1-only root");
	stale();
	signal_all();
	memory_limit(helpers);
	for (i = 0; i < npids; i++)
		if (!dead(pids[i])) {
			left++;
			kill(pids[i], SIGKILL);
			reap(pids[i]);
		}
	is_int(left, 0, "no process of this test is left");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tdir);
	return tap_done();
}
