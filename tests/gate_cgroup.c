/* The load gate charges our own CPU time by the batch cgroup: a worker
 * whose child burns its PU (and a child that exits between two samples) is
 * ours, not others' load, so the gate does not pause the worker, while a
 * gate that only knows the worker's PID takes the child for someone else.
 * Recorded /proc trees written here (NICELY_PROCFS) and fake cgroup v2, v1
 * and hybrid trees (plain directories); no real process or cgroup. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched/cgroup.h"
#include "sched/lib/pool_gate.h"
#include "tests/tap.h"

/* Paths here are short temporary names; GCC cannot know that. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

static char tmp[64], proc[128];
static long hz;

/* Write text to dir/name (dir under tmp). */
static void put(const char *dir, const char *name, const char *text)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		tap_bail("cannot write a temporary file");
}

/* mkdir or bail. */
static void dir_make(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		tap_bail("cannot make a temporary directory");
}

/* /proc/stat of 2 CPUs with the given busy ticks (total 1000 per step). */
static void put_stat(unsigned step, unsigned busy0, unsigned busy1)
{
	char text[512];
	unsigned tot = 100000 + step * 100;

	snprintf(text, sizeof text,
		 "cpu  %u 0 0 %u 0 0 0 0 0 0\n"
		 "cpu0 %u 0 0 %u 0 0 0 0 0 0\n"
		 "cpu1 %u 0 0 %u 0 0 0 0 0 0\n"
		 "procs_running 2\nprocs_blocked 0\n",
		 busy0 + busy1, 2 * tot - busy0 - busy1, busy0, tot - busy0,
		 busy1, tot - busy1);
	put(proc, "stat", text);
}

/* /proc/PID/stat with utime ticks, last run on cpu; ticks < 0: gone. */
static void put_pid(int pid, long ticks, int cpu)
{
	char d[256], text[512];

	snprintf(d, sizeof d, "%s/%d", proc, pid);
	if (ticks < 0) {
		char f[300];

		snprintf(f, sizeof f, "%s/stat", d);
		unlink(f);
		rmdir(d);
		return;
	}
	dir_make(d);
	snprintf(text, sizeof text,
		 "%d (burn) R 1 %d %d 0 -1 4194304 100 0 0 0 %ld 0 0 0 20 0 1 0 "
		 "12345 2000000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 "
		 "17 %d 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		 pid, pid, pid, ticks, cpu);
	put(d, "stat", text);
}

/* A gate on the fake /proc with the test preset. */
static struct pool_gate *gate_make(const char *conf)
{
	struct pool_gate_opts o = { "childtest", 0, -1, conf };
	struct pool_gate *g;
	char err[1024];

	if (pool_gate_new(&g, &o, err, sizeof err) < 0) {
		tap_diag("%s", err);
		tap_bail("cannot make a gate");
	}
	return g;
}

/* The actions of one tick for one worker pinned to CPU 0 (id 7). */
static size_t gate_acts(struct pool_gate *g, int pid, int *kind)
{
	struct pool_gate_worker w = { 7, pid, 0, 0, 1 };
	struct pool_gate_answer a;
	char err[512];

	*kind = -1;
	if (pool_gate_tick(g, &w, 1, 0, &a, err, sizeof err) < 0) {
		tap_diag("%s", err);
		return (size_t)-1;
	}
	for (size_t i = 0; i < a.nactions; i++)
		if (a.actions[i].id == 7)
			*kind = (int)a.actions[i].kind;
	return a.nactions;
}

/* Open a batch on a fake tree at root and make its task group 1. */
static struct sched_cgroup *batch_make(const char *root,
				       struct sched_cgroup_task *t)
{
	struct sched_cgroup_options co = SCHED_CGROUP_OPTIONS_INIT;
	struct sched_cgroup_limits lim = { NULL, 0 };
	struct sched_cgroup *b;
	char err[1024];

	co.root = root;
	co.user = "tester";
	co.clean_stale = 0;
	if (sched_cgroup_batch_open(&b, &co, err, sizeof err) < 0 ||
	    sched_cgroup_task_create(b, 1, &lim, t, err, sizeof err) < 0) {
		tap_diag("%s", err);
		tap_bail("cannot make a batch on the fake cgroup tree");
	}
	sched_cgroup_task_forked(t);
	return b;
}

/* v2: a worker (5001, sleeping in wait) whose child 5002 burns CPU 0. */
static void test_v2_child(const char *conf)
{
	char root[256], bdir[1024], tdir[1100], usage[64];
	struct sched_cgroup_task t;
	struct sched_cgroup *b;
	struct pool_gate *with, *without;
	int kind;
	size_t n;

	snprintf(root, sizeof root, "%s/cg2", tmp);
	dir_make(root);
	put(root, "cgroup.controllers", "cpuset cpu memory pids\n");
	put(root, "cgroup.subtree_control", "cpuset cpu memory pids\n");
	put(root, "cgroup.procs", "");
	put(root, "cpu.stat", "usage_usec 0\n");
	b = batch_make(root, &t);
	ok(sched_cgroup_batch_cpu_path(b, bdir, sizeof bdir) != NULL,
	   "v2: the batch's CPU accounting group: %s", bdir);
	ok(strncmp(bdir, root, strlen(root)) == 0 && strstr(bdir, "/nicely/tester-"),
	   "... is the batch group in the cgroup2 tree");
	snprintf(tdir, sizeof tdir, "%s/task-1", bdir);
	put(tdir, "cgroup.procs", "5001\n5002\n");
	put(bdir, "cpu.stat", "usage_usec 5000000\n");

	/* t0: baseline; both gates sample it at creation */
	put_stat(0, 1000, 1000);
	put_pid(5001, 3, 0);
	put_pid(5002, 500, 0);
	with = gate_make(conf);
	without = gate_make(conf);
	is_int(pool_gate_set_cgroup(with, b), 0, "charge the gate by the batch cgroup");

	/* t1: CPU 0 fully busy, all of it 5002's; CPU 1 idle */
	put_stat(1, 1100, 1000);
	put_pid(5002, 600, 0);
	snprintf(usage, sizeof usage, "usage_usec %ld\n", 5000000 + 100 * 1000000 / hz);
	put(bdir, "cpu.stat", usage);
	n = gate_acts(with, 5001, &kind);
	is_int((long)n, 0, "by cgroup: the child's CPU is ours, the worker is left alone");
	n = gate_acts(without, 5001, &kind);
	ok(n == 1 && kind == POOL_GATE_PAUSE,
	   "by PID only: the child looks like others' load, the worker is paused "
	   "(%zu actions, kind %d)", n, kind);

	/* t2: 5002 used 60 more ticks and exited before this sample; only the
	 * cgroup's cpu.stat still has them */
	put_stat(2, 1160, 1000);
	put_pid(5002, -1, 0);
	put(tdir, "cgroup.procs", "5001\n");
	snprintf(usage, sizeof usage, "usage_usec %ld\n", 5000000 + 160 * 1000000 / hz);
	put(bdir, "cpu.stat", usage);
	n = gate_acts(with, 5001, &kind);
	is_int((long)n, 0, "a child that exited between samples: still ours (cpu.stat)");

	/* t3: someone else burns CPU 0: the gate with the cgroup reacts */
	put_stat(3, 1260, 1000);
	n = gate_acts(with, 5001, &kind);
	ok(n == 1 && kind == POOL_GATE_PAUSE,
	   "others' load on CPU 0 still pauses the worker (%zu actions, kind %d)", n, kind);

	is_int(pool_gate_set_cgroup(with, NULL), 0, "stop charging by cgroup");
	pool_gate_free(with);
	pool_gate_free(without);
	put(tdir, "cgroup.procs", "");
	sched_cgroup_task_remove(&t, NULL, 0);
	sched_cgroup_batch_close(b, NULL, 0);
	put_pid(5001, -1, 0);
}

/* v1: cpuacct.usage_percpu of the batch counts the child on its CPU. */
static void test_v1_cpuacct(const char *conf)
{
	static const char *const ctrls[][2] = {
		{ "cpu", "cpu.shares" }, { "cpuacct", "cpuacct.usage" },
		{ "cpuset", "cpuset.cpus" }, { "memory", "memory.limit_in_bytes" },
		{ "freezer", "cgroup.procs" },
	};
	char root[256], d[400], bdir[1024], val[128];
	struct sched_cgroup_task t;
	struct sched_cgroup *b;
	struct pool_gate *g;
	int kind;

	snprintf(root, sizeof root, "%s/cg1", tmp);
	dir_make(root);
	for (size_t i = 0; i < sizeof ctrls / sizeof ctrls[0]; i++) {
		snprintf(d, sizeof d, "%s/%s", root, ctrls[i][0]);
		dir_make(d);
		put(d, ctrls[i][1], "");
		put(d, "cgroup.procs", "");
	}
	snprintf(d, sizeof d, "%s/cpuacct", root);
	put(d, "cpuacct.usage_percpu", "0 0 \n");
	put(d, "cpuset.cpus", "0-1\n");
	snprintf(d, sizeof d, "%s/cpuset", root);
	put(d, "cpuset.cpus", "0-1\n");
	put(d, "cpuset.mems", "0\n");
	b = batch_make(root, &t);
	ok(sched_cgroup_batch_cpu_path(b, bdir, sizeof bdir) &&
	   strstr(bdir, "/cpuacct/nicely/tester-"),
	   "v1: the CPU accounting group is in the cpuacct hierarchy: %s", bdir);
	put(bdir, "cpuacct.usage_percpu", "7000000000 0 \n");
	put_stat(10, 5000, 5000);
	g = gate_make(conf);
	is_int(pool_gate_set_cgroup(g, b), 0, "charge by cpuacct");
	put_stat(11, 5100, 5000);
	snprintf(val, sizeof val, "%ld 0 \n", 7000000000l + 100 * 1000000000l / hz);
	put(bdir, "cpuacct.usage_percpu", val);
	is_int((long)gate_acts(g, 6001, &kind), 0,
	       "v1: a CPU 0 busy with the batch's processes is ours");
	put_stat(12, 5200, 5000);
	is_int((long)gate_acts(g, 6001, &kind), 1, "... and busy with others' is not");
	pool_gate_free(g);
	sched_cgroup_task_remove(&t, NULL, 0);
	sched_cgroup_batch_close(b, NULL, 0);
}

/* Hybrid: a cpuacct of its own is not used; the cgroup2 tree is walked. */
static void test_hybrid_path(void)
{
	char root[256], d[400], bdir[1024], udir[400];
	struct sched_cgroup_task t;
	struct sched_cgroup *b;

	snprintf(root, sizeof root, "%s/cgh", tmp);
	dir_make(root);
	snprintf(d, sizeof d, "%s/cpu", root);
	dir_make(d);
	put(d, "cpu.shares", "");
	put(d, "cgroup.procs", "");
	snprintf(d, sizeof d, "%s/cpuacct", root);
	dir_make(d);
	put(d, "cpuacct.usage", "");
	put(d, "cgroup.procs", "");
	snprintf(udir, sizeof udir, "%s/unified", root);
	dir_make(udir);
	put(udir, "cgroup.controllers", "");
	put(udir, "cgroup.procs", "");
	put(udir, "cpu.stat", "usage_usec 0\n");
	b = batch_make(root, &t);
	is_int(sched_cgroup_mode(b), SCHED_CGROUP_HYBRID, "a hybrid fake tree");
	ok(sched_cgroup_batch_cpu_path(b, bdir, sizeof bdir) &&
	   !strncmp(bdir, udir, strlen(udir)),
	   "hybrid: the CPU accounting group is the cgroup2 one: %s", bdir);
	sched_cgroup_task_remove(&t, NULL, 0);
	sched_cgroup_batch_close(b, NULL, 0);
}

int main(void)
{
	char conf[128], d[256], cmd[300];

	hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	snprintf(tmp, sizeof tmp, "/tmp/nicely-gatecg.XXXXXX");
	if (!mkdtemp(tmp))
		tap_bail("mkdtemp");
	snprintf(proc, sizeof proc, "%s/proc", tmp);
	dir_make(proc);
	put(proc, "loadavg", "0.00 0.00 0.00 1/100 1000\n");
	put(proc, "meminfo", "MemTotal: 16384000 kB\nMemAvailable: 12000000 kB\n");
	snprintf(d, sizeof d, "%s/pressure", proc);
	dir_make(d);
	put(d, "cpu", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
		      "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
	snprintf(d, sizeof d, "%s/etc", tmp);
	dir_make(d);
	snprintf(conf, sizeof conf, "%s/test.conf", tmp);
	put(tmp, "test.conf",
	    "[preset childtest]\nbase = normal\nidle_threshold = 25%\n"
	    "reserve_pus = 0\non_return = pause\nhysteresis = 0\n"
	    "smt_avoid = no\n");
	setenv("NICELY_PROCFS", proc, 1);
	setenv("NICELY_TOPOLOGY", "synthetic:pack:1 core:2 pu:1", 1);
	setenv("NICELY_SYSCONFDIR", d, 1);
	setenv("XDG_CONFIG_HOME", d, 1);
	unsetenv("NICELY_CONFIG");
	unsetenv("NICELY_CGROUP_ROOT");
	unsetenv("NICELY_CGROUP_TRACE");

	test_v2_child(conf);
	test_v1_cpuacct(conf);
	test_hybrid_path();

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	ok(system(cmd) == 0, "temporary trees removed");
	return tap_done();
}
