/* The cgroup v2 code path of the cgroup module (sched/cgroup.h) against a fake cgroupfs: a
 * temporary directory of plain files. Checks which files are written, with
 * which values and in which order (through the module's trace), the child's
 * join, freeze, stats, kill through cgroup.kill (a helper plays the kernel),
 * the base's weight rule, stale clean-up and removal of every group; and a
 * fake hybrid tree's choice of freezer and its unpinned processes' cpuset;
 * and the fake tree's emulation of the kernel's cgroup.procs (one pid a
 * line, "0" the writer) and cgroup.subtree_control (+X / -X, names listed). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sched/cgroup.h"
#include "sched/cgroup_fs.h"
#include "tests/tap.h"

/* Paths here are short temporary names; GCC cannot know that. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

static char dir[256], root[300], trace[300];

/* Write s to dir/rel (creating it). */
static void put(const char *rel, const char *s)
{
	char p[600];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	if (!f)
		tap_bail("cannot write the fake tree");
	fputs(s, f);
	fclose(f);
}

static const char *raw(const char *rel);

/* root/rel (raw's static buffer), trailing newlines dropped; "" when
 * missing. */
static const char *get(const char *rel)
{
	char *buf = (char *)raw(rel);
	size_t n = strlen(buf);

	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	return buf;
}

/* 1 if root/rel exists. */
static int there(const char *rel)
{
	char p[600];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return stat(p, &st) == 0;
}

/* The trace so far, then empty it. */
static const char *take_trace(void)
{
	static char buf[8192];
	size_t n = 0;
	FILE *f = fopen(trace, "r");

	buf[0] = 0;
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	f = fopen(trace, "w");
	if (f)
		fclose(f);
	return buf;
}

/* A fresh fake v2 root; with_idle: the kernel has cpu.idle. */
static void make_root(int with_idle)
{
	static const char *files[] = {
		"cgroup.procs", "cgroup.kill", "cgroup.freeze", "cgroup.events",
		"cpu.weight", "cpu.stat", "cpuset.cpus", "cpuset.mems",
		"memory.max", "memory.swap.max", "memory.peak", "memory.events",
	};
	size_t i;
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		tap_bail("cannot clear the fake tree");
	if (mkdir(root, 0755) < 0)
		tap_bail("cannot make the fake root");
	put("cgroup.controllers", "cpuset cpu io memory pids\n");
	put("cgroup.subtree_control", "cpuset cpu memory pids\n");
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		put(files[i], "");
	if (with_idle)
		put("cpu.idle", "");
	take_trace();
}

/* A live process to list in a fake cgroup.procs (a pid that has exited
 * is not counted, as the kernel would not list it): a child that waits to
 * be killed. Its pid as text "PID\n" in buf. */
static pid_t sleeper(char *buf, size_t len)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	snprintf(buf, len, "%ld\n", (long)pid);
	return pid;
}

/* End a sleeper. */
static void sleeper_end(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Plays the kernel for cgroup.kill: waits until rel/cgroup.kill holds
 * "1", then empties rel/cgroup.procs (the processes are gone). */
static pid_t fake_kernel(const char *rel)
{
	char kf[400], pf[400];
	pid_t pid = fork();
	int i;

	if (pid != 0)
		return pid;
	snprintf(kf, sizeof(kf), "%s/cgroup.kill", rel);
	snprintf(pf, sizeof(pf), "%s/cgroup.procs", rel);
	for (i = 0; i < 5000; i++) {
		if (!strcmp(get(kf), "1")) {
			usleep(20000);
			put(pf, "");
			_exit(0);
		}
		usleep(1000);
	}
	_exit(1);
}

/* sched_cgroup_task_reuse on task t (group rel, made with cpus and
 * 64 MiB): the files it writes, in order; figures counted from the reuse. */
static void test_reuse(struct sched_cgroup_task *t, const char *rel,
		       const cpu_set_t *cpus)
{
	struct sched_cgroup_limits lim = { NULL, 64ull << 20 };
	struct sched_cgroup_stats st;
	char err[512] = "", want[1024], kf[400], pk[700];
	cpu_set_t one, moved;
	int nfd = t->nfd ? t->nfd : 1;

	take_trace();
	CPU_ZERO(&one);
	CPU_SET(2, &one);
	lim.cpus = &one;
	is_int(sched_cgroup_task_reuse(t, &lim, err, sizeof(err)), 0,
	       "reuse with a new CPU (%s)", err);
	snprintf(want, sizeof(want),
		 "write %s/cpuset.cpus 2\nwrite %s/memory.peak reset\n", rel,
		 rel);
	is_str(take_trace(), want,
	       "reuse: new cpuset, peak reset; no mkdir, no weight or memory "
	       "writes");
	is_int(t->nfd, nfd, "its cgroup.procs files are open again");
	sched_cgroup_task_stats(t, &st);
	is_int(st.cpu_ns, 0, "CPU time counts from the reuse");
	is_int(st.oom_kills, 0, "memory-limit kills count from the reuse");
	snprintf(kf, sizeof(kf), "%s/cpu.stat", rel);
	put(kf, "usage_usec 2500\n");
	snprintf(kf, sizeof(kf), "%s/memory.events", rel);
	put(kf, "oom_kill 3\n");
	sched_cgroup_task_stats(t, &st);
	is_int(st.cpu_ns, 1000000, "CPU time since the reuse only");
	is_int(st.oom_kills, 1, "kills since the reuse only");
	is_int(sched_cgroup_task_reuse(t, &lim, err, sizeof(err)), 0,
	       "reuse on the same CPU");
	snprintf(want, sizeof(want), "write %s/memory.peak reset\n", rel);
	is_str(take_trace(), want, "same CPU: cpuset not rewritten");
	is_int(t->peak_stale, 0, "the peak was reset: not stale");

	/* a move while it ran: the reuse must know the group's cpuset */
	CPU_ZERO(&moved);
	CPU_SET(5, &moved);
	is_int(sched_cgroup_task_set_cpus(t, &moved, err, sizeof(err)), 0,
	       "moved to CPU 5 (%s)", err);
	take_trace();
	is_int(sched_cgroup_task_reuse(t, &lim, err, sizeof(err)), 0,
	       "reuse on CPU 2 after a move to 5");
	snprintf(want, sizeof(want),
		 "write %s/cpuset.cpus 2\nwrite %s/memory.peak reset\n", rel,
		 rel);
	is_str(take_trace(), want, "after a move: cpuset written back to 2");

	/* memory its processes left charged: given back when 1 MiB or more;
	 * what stays (the fake kernel reclaims nothing) asks for new groups */
	snprintf(kf, sizeof(kf), "%s/memory.current", rel);
	put(kf, "8388608\n");
	is_int(sched_cgroup_task_reuse(t, &lim, err, sizeof(err)), -ESTALE,
	       "8 MiB charged that reclaim does not give back: -ESTALE");
	snprintf(want, sizeof(want), "write %s/memory.reclaim 8388608\n",
		 rel);
	is_str(take_trace(), want, "8 MiB left: memory.reclaim of it, "
	       "nothing after");
	put(kf, "65536\n");
	is_int(sched_cgroup_task_reuse(t, &lim, err, sizeof(err)), 0,
	       "reuse with 64 KiB still charged");
	snprintf(want, sizeof(want), "write %s/memory.peak reset\n", rel);
	is_str(take_trace(), want, "64 KiB left: no reclaim");

	/* a kernel that cannot reset memory.peak (before 6.12): said */
	snprintf(pk, sizeof(pk), "%s/%s/memory.peak", root, rel);
	ok(unlink(pk) == 0 && mkdir(pk, 0755) == 0,
	   "memory.peak made unwritable (a directory)");
	is_int(sched_cgroup_task_reuse(t, &lim, err, sizeof(err)), 0,
	       "reuse where the peak cannot be reset");
	is_int(t->peak_stale, 1, "peak_stale says the peak was not reset");
	ok(rmdir(pk) == 0, "memory.peak a file again");
	snprintf(kf, sizeof(kf), "%s/memory.peak", rel);
	put(kf, "");
	is_int(sched_cgroup_task_reuse(t, &lim, err, sizeof(err)), 0,
	       "reuse again");
	is_int(t->peak_stale, 0, "reset again: not stale");
	take_trace();
	lim.cpus = NULL;
	is_int(sched_cgroup_task_reuse(t, &lim, err, sizeof(err)), 0,
	       "reuse unpinned");
	snprintf(want, sizeof(want),
		 "write %s/cpuset.cpus  \nwrite %s/memory.peak reset\n", rel,
		 rel);
	is_str(take_trace(), want, "unpinned: cpuset emptied (the parent's)");
	lim.cpus = cpus;
	lim.memory_max = 32ull << 20;
	is_int(sched_cgroup_task_reuse(t, &lim, err, sizeof(err)), -ESTALE,
	       "another memory limit: -ESTALE");
	is_str(take_trace(), "", "and nothing written");
	lim.memory_max = 64ull << 20;
	char live[32];
	pid_t sl = sleeper(live, sizeof(live));

	snprintf(kf, sizeof(kf), "%s/cgroup.procs", rel);
	put(kf, live);
	snprintf(kf, sizeof(kf), "%s", rel);
	pid_t kp = fake_kernel(kf);
	int status;

	is_int(sched_cgroup_task_reuse(t, &lim, err, sizeof(err)), 0,
	       "reuse with a process left (%s)", err);
	waitpid(kp, &status, 0);
	snprintf(want, sizeof(want),
		 "write %s/cgroup.kill 1\nwrite %s/cpuset.cpus 1-3,6\n"
		 "write %s/memory.peak reset\n",
		 rel, rel, rel);
	is_str(take_trace(), want,
	       "a process left: killed first, then the cpuset, the reset");
	sleeper_end(sl);
	is_str(get(kf), "", "nothing left in the group");

	/* a pool slot's order: kill (nothing left), read the figures, reuse:
	 * the figures read after the kill are the new zero, nothing is read
	 * or checked again (here cpu.stat moves on only to show that) */
	snprintf(kf, sizeof(kf), "%s/cpu.stat", rel);
	put(kf, "usage_usec 5000\n");
	is_int(sched_cgroup_task_kill(t, err, sizeof(err)), 0,
	       "kill of an empty group");
	sched_cgroup_task_stats(t, &st);
	is_int(st.cpu_ns, 2500000, "its CPU time since the last reuse");
	put(kf, "usage_usec 7000\n");
	take_trace();
	is_int(sched_cgroup_task_reuse(t, &lim, err, sizeof(err)), 0,
	       "reuse after kill and figures (%s)", err);
	snprintf(want, sizeof(want), "write %s/memory.peak reset\n", rel);
	is_str(take_trace(), want, "no kill written, only the reset");
	sched_cgroup_task_stats(t, &st);
	is_int(st.cpu_ns, 2000000,
	       "the zero is the figure read after the kill (5000 us)");
	is_int(sched_cgroup_task_reuse(t, &lim, err, sizeof(err)), 0,
	       "reuse again without a kill");
	sched_cgroup_task_stats(t, &st);
	is_int(st.cpu_ns, 0, "then the figures are read again (7000 us)");
	take_trace();
}

/* The user's groups with weight idle: files, values, order. */
static void test_lifecycle(void)
{
	struct sched_cgroup_options o = SCHED_CGROUP_OPTIONS_INIT;
	struct sched_cgroup_task t;
	struct sched_cgroup_stats st;
	struct sched_cgroup *b = NULL;
	char err[512] = "", want[4096], rel[300], brel[200], kf[400];
	cpu_set_t cpus;
	pid_t pid, kp;
	int r, status;

	make_root(1);
	o.root = root;
	o.user = "tester";
	o.trace_path = trace;
	o.weight = POLICY_WEIGHT_IDLE;
	r = sched_cgroup_batch_open(&b, &o, err, sizeof(err));
	is_int(r, 0, "open a batch on the fake v2 tree (%s)", err);
	if (r < 0)
		return;
	is_int(sched_cgroup_mode(b), SCHED_CGROUP_V2, "detected as v2");
	is_int(sched_cgroup_has_idle(b), 1, "cpu.idle seen");
	snprintf(brel, sizeof(brel), "nicely/tester-%ld-1", (long)getpid());
	is_str(sched_cgroup_batch_name(b), brel + 7, "batch named user-pid-n");
	snprintf(want, sizeof(want),
		 "mkdir nicely\n"
		 "write nicely/cgroup.subtree_control +cpu +cpuset +memory\n"
		 "mkdir %s\n"
		 "write %s/cgroup.subtree_control +cpu +cpuset +memory\n"
		 "write %s/cpu.weight 1\n"
		 "write %s/cpu.idle 1\n"
		 "write nicely/cpu.weight 1\n"
		 "write nicely/cpu.idle 1\n",
		 brel, brel, brel, brel);
	is_str(take_trace(), want,
	       "open: base and batch made, controllers enabled only in our "
	       "own groups, weight before idle, base follows the batch");
	is_str(get("cgroup.subtree_control"), "cpuset cpu memory pids",
	       "the root's subtree_control is untouched");
	snprintf(rel, sizeof(rel), "%s/cgroup.controllers", brel);
	is_str(get(rel), "cpuset cpu memory", "batch offers the controllers");

	CPU_ZERO(&cpus);
	CPU_SET(1, &cpus);
	CPU_SET(2, &cpus);
	CPU_SET(3, &cpus);
	CPU_SET(6, &cpus);
	r = sched_cgroup_task_create(b, 1,
				     &(struct sched_cgroup_limits){
					     &cpus, 64ull << 20 },
				     &t, err, sizeof(err));
	is_int(r, 0, "task created (%s)", err);
	snprintf(rel, sizeof(rel), "%s/task-1", brel);
	snprintf(want, sizeof(want),
		 "mkdir %s\n"
		 "write %s/cpuset.cpus 1-3,6\n"
		 "write %s/cpu.weight 1\n"
		 "write %s/cpu.idle 1\n"
		 "write %s/memory.max 67108864\n"
		 "write %s/memory.swap.max 0\n",
		 rel, rel, rel, rel, rel, rel);
	is_str(take_trace(), want, "task: cpuset, weight, idle, memory, swap");
	snprintf(kf, sizeof(kf), "%s/cpuset.cpus", rel);
	is_str(get(kf), "1-3,6", "task cpuset.cpus value");
	snprintf(kf, sizeof(kf), "%s/memory.max", rel);
	is_str(get(kf), "67108864", "task memory.max value");
	snprintf(kf, sizeof(kf), "%s/cpu.idle", rel);
	is_str(get(kf), "1", "task cpu.idle value");

	pid = fork();
	if (pid == 0) {
		if (sched_cgroup_child_join(&t) < 0)
			_exit(3);
		execl("/bin/true", "true", (char *)NULL);
		_exit(4);
	}
	sched_cgroup_task_forked(&t);
	is_int(t.nfd, 0, "parent closed its cgroup.procs files after fork");
	waitpid(pid, &status, 0);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
	       "child joined and ran its program");
	snprintf(kf, sizeof(kf), "%s/cgroup.procs", rel);
	snprintf(want, sizeof(want), "%ld", (long)pid);
	is_str(get(kf), want, "the child wrote its own pid to cgroup.procs");
	snprintf(want, sizeof(want), "join %s %ld\n", rel, (long)pid);
	is_str(take_trace(), want, "join traced from the child");

	snprintf(kf, sizeof(kf), "%s/cpu.stat", rel);
	put(kf, "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
	snprintf(kf, sizeof(kf), "%s/memory.peak", rel);
	put(kf, "12345\n");
	snprintf(kf, sizeof(kf), "%s/memory.events", rel);
	put(kf, "low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\noom_group_kill 0\n");
	sched_cgroup_task_stats(&t, &st);
	is_int(st.oom_kills, 2, "memory-limit kills from memory.events");
	is_int(st.cpu_ns, 1500000, "cpu time from cpu.stat usage_usec");
	is_int(st.mem_peak, 12345, "peak memory from memory.peak");

	is_int(sched_cgroup_task_freeze(&t, 1, err, sizeof(err)), 0, "freeze");
	snprintf(kf, sizeof(kf), "%s/cgroup.freeze", rel);
	is_str(get(kf), "1", "task cgroup.freeze = 1");
	is_int(sched_cgroup_batch_freeze(b, 0, err, sizeof(err)), 0, "thaw");
	snprintf(kf, sizeof(kf), "%s/cgroup.freeze", brel);
	is_str(get(kf), "0", "batch cgroup.freeze = 0");
	take_trace();

	/* a process still listed: kill must write cgroup.kill and wait */
	char live[32];
	pid_t sl = sleeper(live, sizeof(live));

	snprintf(kf, sizeof(kf), "%s/cgroup.procs", rel);
	put(kf, live);
	snprintf(kf, sizeof(kf), "%s", rel);
	kp = fake_kernel(kf);
	is_int(sched_cgroup_task_nprocs(&t), 1, "one process counted");
	r = sched_cgroup_task_kill(&t, err, sizeof(err));
	is_int(r, 0, "kill returns once cgroup.procs is empty (%s)", err);
	waitpid(kp, &status, 0);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
	       "the fake kernel saw cgroup.kill = 1");
	snprintf(want, sizeof(want), "write %s/cgroup.kill 1\n", rel);
	is_str(take_trace(), want, "kill = one write to cgroup.kill");
	sleeper_end(sl);

	test_reuse(&t, rel, &cpus);

	is_int(sched_cgroup_task_remove(&t, err, sizeof(err)), 0,
	       "task removed (%s)", err);
	snprintf(want, sizeof(want), "rmdir %s\n", rel);
	is_str(take_trace(), want, "task removal = rmdir");
	ok(!there(rel), "task group gone");
	is_int(sched_cgroup_task_remove(&t, err, sizeof(err)), 0,
	       "removing twice is harmless");

	is_int(sched_cgroup_batch_close(b, err, sizeof(err)), 0,
	       "batch closed (%s)", err);
	snprintf(want, sizeof(want), "rmdir %s\nrmdir nicely\n", brel);
	is_str(take_trace(), want, "close removes batch, then the empty base");
	ok(!there("nicely"), "nothing of nicely left in the tree");
	ok(there("cgroup.procs"), "the root's files are untouched");
}

/* The base takes the most demanding class of its live batches. */
static void test_base_rule(int with_idle)
{
	struct sched_cgroup_options o = SCHED_CGROUP_OPTIONS_INIT;
	struct sched_cgroup *a = NULL, *n = NULL;
	char err[512] = "", want[2048];
	int r;

	make_root(with_idle);
	o.root = root;
	o.user = "tester";
	o.trace_path = trace;
	o.weight = POLICY_WEIGHT_IDLE;
	r = sched_cgroup_batch_open(&a, &o, err, sizeof(err));
	is_int(r, 0, "idle batch opened (%s)", err);
	is_int(sched_cgroup_has_idle(a), with_idle, "cpu.idle %s",
	       with_idle ? "present" : "absent");
	is_str(get("nicely/cpu.weight"), "1", "base weight 1 for an idle batch");
	is_str(get("nicely/cpu.idle"), with_idle ? "1" : "",
	       "base idle only where the kernel has it");
	o.weight = POLICY_WEIGHT_NORMAL;
	take_trace();
	r = sched_cgroup_batch_open(&n, &o, err, sizeof(err));
	is_int(r, 0, "normal batch opened next to it (%s)", err);
	snprintf(want, sizeof(want),
		 "write nicely/cgroup.subtree_control +cpu +cpuset +memory\n"
		 "mkdir nicely/%s\n"
		 "write nicely/%s/cgroup.subtree_control +cpu +cpuset +memory\n"
		 "%s"
		 "write nicely/cpu.weight 100\n",
		 sched_cgroup_batch_name(n), sched_cgroup_batch_name(n),
		 with_idle ? "write nicely/cpu.idle 0\n" : "");
	is_str(take_trace(), want,
	       "base raised to normal: idle cleared before the weight");
	is_int(sched_cgroup_batch_close(n, err, sizeof(err)), 0, "normal closed");
	is_str(get("nicely/cpu.weight"), "1", "base back to idle weight");
	is_str(get("nicely/cpu.idle"), with_idle ? "1" : "",
	       "base idle again");
	is_int(sched_cgroup_batch_close(a, err, sizeof(err)), 0, "idle closed");
	ok(!there("nicely"), "base removed with its last batch");

	o.weight = POLICY_WEIGHT_LOW;
	take_trace();
	r = sched_cgroup_batch_open(&a, &o, err, sizeof(err));
	is_int(r, 0, "low batch opened (%s)", err);
	snprintf(want, sizeof(want), "nicely/%s/cpu.weight",
		 sched_cgroup_batch_name(a));
	is_str(get(want), "6", "low weight = 6");
	is_int(sched_cgroup_batch_close(a, err, sizeof(err)), 0, "low closed");
}

/* Stale batches: only this user's, only with a dead owner. */
static void test_stale(void)
{
	struct sched_cgroup_options o = SCHED_CGROUP_OPTIONS_INIT;
	char err[512] = "", d1[200], d2[200], d3[200], d4[200], p[300];
	pid_t dead = fork();
	int r;

	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	make_root(1);
	snprintf(p, sizeof(p), "%s/nicely", root);
	mkdir(p, 0755);
	snprintf(d1, sizeof(d1), "nicely/tester-%ld-7", (long)dead);
	snprintf(d2, sizeof(d2), "nicely/other-%ld-1", (long)dead);
	snprintf(d3, sizeof(d3), "nicely/tester-%ld-2", (long)getpid());
	snprintf(d4, sizeof(d4), "nicely/tester-x-%ld-2", (long)dead);
	snprintf(p, sizeof(p), "%s/%s", root, d1);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/%s/task-1", root, d1);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/task-1/cgroup.procs", d1);
	put(p, "");
	snprintf(p, sizeof(p), "%s/%s", root, d2);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/%s", root, d3);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/%s", root, d4);
	mkdir(p, 0755);
	o.root = root;
	o.user = "tester";
	o.trace_path = trace;
	r = sched_cgroup_clean_stale(&o, err, sizeof(err));
	is_int(r, 1, "one stale batch removed (%s)", err);
	ok(!there(d1), "the dead owner's batch is gone");
	ok(there(d2), "another user's batch is untouched");
	ok(there(d3), "a live owner's batch is untouched");
	ok(there(d4), "a name that only starts like ours is untouched");
}

/* Bad input gives a clear error. */
static void test_errors(void)
{
	struct sched_cgroup_options o = SCHED_CGROUP_OPTIONS_INIT;
	struct sched_cgroup *b = (struct sched_cgroup *)&o;
	char err[512] = "", p[400];
	int r;

	snprintf(p, sizeof(p), "%s/none", dir);
	o.root = p;
	r = sched_cgroup_batch_open(&b, &o, err, sizeof(err));
	is_int(r, -ENOENT, "a root without cgroups: -ENOENT");
	ok(b == NULL, "and no batch");
	ok(strstr(err, p) != NULL, "the message names the root: %s", err);
	make_root(1);
	o.root = root;
	o.user = "a/b";
	r = sched_cgroup_batch_open(&b, &o, err, sizeof(err));
	is_int(r, -EINVAL, "a user name with a slash is refused: %s", err);
	o.user = "tester";
	o.trace_path = trace;
	r = sched_cgroup_batch_open(&b, &o, err, sizeof(err));
	is_int(r, 0, "open");
	if (r == 0) {
		struct sched_cgroup_task t;
		cpu_set_t none;

		CPU_ZERO(&none);
		r = sched_cgroup_task_create(b, 9,
					     &(struct sched_cgroup_limits){
						     &none, 0 },
					     &t, err, sizeof(err));
		is_int(r, -EINVAL, "an empty CPU set is refused: %s", err);
		sched_cgroup_batch_close(b, err, sizeof(err));
	}
	ok(!there("nicely"), "nothing left after the refused task");
}

/* Each scenario on its own fresh fake tree in a temporary directory. */
/* A fake hybrid tree (v1 cpu, cpuset and freezer, an empty cgroup2 at
 * unified): when its cgroup2 groups have cgroup.freeze (v2freezer),
 * pausing goes through it and the v1 freezer gets no group (a worker joins
 * one hierarchy fewer); without it the v1 freezer is used as before. An
 * unpinned process is spared the cpuset join until a move. */
static void test_hybrid(int v2freezer)
{
	static const char *files[] = {
		"cpu/cgroup.procs", "cpu/cpu.shares", "freezer/cgroup.procs",
		"freezer/freezer.state", "unified/cgroup.controllers",
		"unified/cgroup.subtree_control", "unified/cgroup.procs",
		"unified/cgroup.kill", "unified/cgroup.events",
		"unified/cpu.stat", "cpuset/cgroup.procs", "cpuset/cpuset.mems",
	};
	struct sched_cgroup_options o = SCHED_CGROUP_OPTIONS_INIT;
	struct sched_cgroup_task t;
	struct sched_cgroup *b = NULL;
	const char *lab = v2freezer ? "hybrid, cgroup2 freezer"
				    : "hybrid, v1 freezer";
	char err[512] = "", cmd[700], p[600], want[1200], brel[200];
	cpu_set_t one;
	size_t i;
	int r;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s/cpu' "
		 "'%s/freezer' '%s/unified' '%s/cpuset'", root, root, root,
		 root, root);
	if (system(cmd) != 0)
		tap_bail("cannot make the fake hybrid tree");
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		put(files[i], "");
	put("cpuset/cpuset.cpus", "0-3\n");
	if (v2freezer)
		put("unified/cgroup.freeze", "");
	take_trace();
	o.root = root;
	o.user = "tester";
	o.trace_path = trace;
	r = sched_cgroup_batch_open(&b, &o, err, sizeof(err));
	is_int(r, 0, "%s: batch opened (%s)", lab, err);
	if (r < 0)
		return;
	is_int(sched_cgroup_mode(b), SCHED_CGROUP_HYBRID, "%s: mode", lab);
	snprintf(brel, sizeof(brel), "nicely/%s", sched_cgroup_batch_name(b));
	snprintf(want, sizeof(want), "%s/%s/%s", root,
		 v2freezer ? "unified" : "freezer", brel);
	is_str(sched_cgroup_batch_path(b, "freezer", p, sizeof(p)), want,
	       "%s: the freezer's batch group", lab);
	snprintf(p, sizeof(p), "freezer/%s", brel);
	is_int(there(p), !v2freezer, "%s: a v1 freezer group %s", lab,
	       v2freezer ? "not made" : "made");
	r = sched_cgroup_task_create(b, 1, NULL, &t, err, sizeof(err));
	is_int(r, 0, "%s: task made (%s)", lab, err);
	if (r == 0) {
		int fds[SCHED_CGROUP_MAX_HIER], nh = v2freezer ? 3 : 4;

		is_int(t.nfd, nh, "%s: the task has %d groups", lab, nh);
		is_int(sched_cgroup_task_join_fds(&t, fds), nh - 1,
		       "%s: an unpinned process joins all but the cpuset", lab);
		take_trace();
		snprintf(p, sizeof(p), "unified/%s/task-1/cgroup.procs", brel);
		put(p, "4321\n4322\n");
		CPU_ZERO(&one);
		CPU_SET(2, &one);
		is_int(sched_cgroup_task_set_cpus(&t, &one, err, sizeof(err)),
		       0, "%s: moved to CPU 2 (%s)", lab, err);
		snprintf(want, sizeof(want),
			 "write cpuset/%s/task-1/cpuset.cpus 2\n"
			 "write cpuset/%s/task-1/cgroup.procs 4321\n"
			 "write cpuset/%s/task-1/cgroup.procs 4322\n",
			 brel, brel, brel);
		is_str(take_trace(), want,
		       "%s: the move gives the group its CPU, then moves its "
		       "processes in", lab);
		CPU_SET(3, &one);
		sched_cgroup_task_set_cpus(&t, &one, err, sizeof(err));
		snprintf(want, sizeof(want),
			 "write cpuset/%s/task-1/cpuset.cpus 2-3\n", brel);
		is_str(take_trace(), want, "%s: moved again: only the CPUs",
		       lab);
		is_int(sched_cgroup_task_join_fds(&t, fds), nh,
		       "%s: with CPUs of its own a process joins all", lab);
		put(p, "");
		is_int(sched_cgroup_task_freeze(&t, 1, err, sizeof(err)), 0,
		       "%s: task frozen (%s)", lab, err);
		snprintf(want, sizeof(want), v2freezer
			 ? "write unified/%s/task-1/cgroup.freeze 1\n"
			 : "write freezer/%s/task-1/freezer.state FROZEN\n",
			 brel);
		is_str(take_trace(), want, "%s: through that freezer", lab);
		is_int(sched_cgroup_task_remove(&t, err, sizeof(err)), 0,
		       "%s: task removed (%s)", lab, err);
	}
	is_int(sched_cgroup_batch_close(b, err, sizeof(err)), 0,
	       "%s: batch closed (%s)", lab, err);
	ok(!there("cpu/nicely") && !there("unified/nicely") &&
		   !there("freezer/nicely"),
	   "%s: nothing of nicely left", lab);
}

/* root/rel as it is, trailing newline kept ("" when missing). */
static const char *raw(const char *rel)
{
	static char buf[4096];
	char p[600];
	size_t n;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	buf[0] = 0;
	if (!(f = fopen(p, "r")))
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

/* The fake tree reads as the kernel's after writes through the shim:
 * cgroup.procs one pid a line ("0": the writer's own), whoever wrote it
 * (the agent's placement, an attach, a spawned task); subtree_control
 * lists the enabled controllers, +X adding, -X removing, refusing what
 * the group is not offered. */
static void test_emulation(void)
{
	struct sched_cgroup_options o = SCHED_CGROUP_OPTIONS_INIT;
	struct sched_cgroup *b = NULL;
	struct sched_cgroup_task t;
	struct cg_tree tr;
	char err[512] = "", want[256], rel[300];
	const struct cg_hier *h;
	int r, status;
	pid_t pid;

	make_root(1);
	if (cg_detect(&tr, root, err, sizeof(err)) < 0)
		tap_bail("cannot detect the fake tree");
	h = &tr.h[0];
	ok(h->fake && h->v2, "emulation: a fake v2 tree");
	ok(mkdir(strcat(strcpy(rel, root), "/g"), 0755) == 0, "group g made");
	put("g/cgroup.controllers", "cpu memory pids\n");
	put("g/cgroup.subtree_control", "\n");
	put("g/cgroup.procs", "");

	is_int(cg_write(&tr, h, "g", "cgroup.procs", "4242", err, sizeof(err)),
	       0, "a pid written to cgroup.procs (%s)", err);
	is_int(cg_write(&tr, h, "g", "cgroup.procs", "4343\n", err,
			sizeof(err)), 0, "another, with its newline");
	snprintf(want, sizeof(want), "4242\n4343\n%ld\n", (long)getpid());
	is_int(cg_write(&tr, h, "g", "cgroup.procs", "0", err, sizeof(err)), 0,
	       "\"0\" written");
	is_str(raw("g/cgroup.procs"), want,
	       "cgroup.procs: one pid a line, \"0\" read as the writer's pid");
	is_int(cg_write(&tr, h, "g", "cgroup.procs", "x1", err, sizeof(err)),
	       -EINVAL, "no pid: refused as the kernel does (%s)", err);
	is_str(raw("g/cgroup.procs"), want, "... and nothing written");

	is_int(cg_write(&tr, h, "g", "cgroup.subtree_control", "+cpu +memory",
			err, sizeof(err)), 0, "+cpu +memory (%s)", err);
	is_str(raw("g/cgroup.subtree_control"), "cpu memory\n",
	       "subtree_control lists the names, not what was written");
	is_int(cg_write(&tr, h, "g", "cgroup.subtree_control", "+pids -cpu",
			err, sizeof(err)), 0, "+pids -cpu");
	is_str(raw("g/cgroup.subtree_control"), "memory pids\n",
	       "+ adds, - removes, in the kernel's order");
	is_int(cg_write(&tr, h, "g", "cgroup.subtree_control", "+cpuset", err,
			sizeof(err)), -ENOENT,
	       "a controller g is not offered: refused (%s)", err);
	is_int(cg_write(&tr, h, "g", "cgroup.subtree_control", "memory", err,
			sizeof(err)), -EINVAL, "a name without + or -: refused");
	is_str(raw("g/cgroup.subtree_control"), "memory pids\n",
	       "... and the file stays");

	/* through the module: an attached and a spawned-and-joined process */
	o.root = root;
	o.user = "tester";
	r = sched_cgroup_batch_open(&b, &o, err, sizeof(err));
	is_int(r, 0, "emulation: batch opened (%s)", err);
	if (r < 0)
		return;
	snprintf(rel, sizeof(rel), "nicely/%s/cgroup.subtree_control",
		 sched_cgroup_batch_name(b));
	is_str(raw(rel), "cpuset cpu memory\n",
	       "the batch's subtree_control lists its controllers");
	is_str(raw("nicely/cgroup.subtree_control"), "cpuset cpu memory\n",
	       "so does the base's");
	r = sched_cgroup_task_create(b, 1, NULL, &t, err, sizeof(err));
	is_int(r, 0, "emulation: task made (%s)", err);
	if (r == 0) {
		pid = fork();
		if (pid == 0) {
			if (sched_cgroup_child_join(&t) < 0)
				_exit(3);
			_exit(0);
		}
		sched_cgroup_task_forked(&t);
		waitpid(pid, &status, 0);
		is_int(sched_cgroup_task_attach(&t, 777, err, sizeof(err)), 0,
		       "pid 777 attached (%s)", err);
		snprintf(rel, sizeof(rel), "nicely/%s/task-1/cgroup.procs",
			 sched_cgroup_batch_name(b));
		{	/* what spawn.c's child writes: "0", no newline */
			char p2[700];
			int fd;

			snprintf(p2, sizeof(p2), "%s/%s", root, rel);
			fd = open(p2, O_WRONLY | O_APPEND);
			ok(fd >= 0 && write(fd, "0", 1) == 1,
			   "a spawned child's \"0\" appended");
			if (fd >= 0)
				close(fd);
		}
		sched_cgroup_task_spawned(&t, 888);
		snprintf(want, sizeof(want), "%ld\n777\n888\n", (long)pid);
		is_str(raw(rel), want,
		       "the task's cgroup.procs: the joined child, the attached "
		       "pid, the spawned one (its \"0\" made its pid), one a "
		       "line");
		put(rel, "");
		is_int(sched_cgroup_task_remove(&t, err, sizeof(err)), 0,
		       "emulation: task removed (%s)", err);
	}
	is_int(sched_cgroup_batch_close(b, err, sizeof(err)), 0,
	       "emulation: batch closed (%s)", err);
	ok(!there("nicely"), "emulation: every group removed");
}

int main(void)
{
	char cmd[400];

	snprintf(dir, sizeof(dir), "/tmp/nicely-cgfake-XXXXXX");
	if (!mkdtemp(dir))
		tap_bail("mkdtemp failed");
	snprintf(root, sizeof(root), "%s/root", dir);
	snprintf(trace, sizeof(trace), "%s/trace", dir);
	unsetenv("NICELY_CGROUP_TRACE");
	test_lifecycle();
	test_base_rule(1);
	test_base_rule(0);
	test_stale();
	test_errors();
	test_hybrid(1);
	test_hybrid(0);
	test_emulation();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
