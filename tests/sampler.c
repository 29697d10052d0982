/* Tests for agent/sampler on recorded /proc trees (tests/fixtures/proc,
 * written by make-fixtures.py there): exact busy fractions from known
 * deltas, EWMA smoothing, our workers' CPU subtracted by PID and by cgroup,
 * a PU going offline, no PSI, and malformed files that must be errors. The
 * topology is synthetic pack:1 core:2 pu:2 (CPUs 0-3). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/sampler.h"
#include "agent/topology.h"
#include "tests/fixture_dir.h"
#include "tests/tap.h"

#define MS 1000000ull
#define EPS 1e-9

static char fixtures[PATH_MAX];
static struct agent_topology *topo;

/* A new sampler with the given window, or bail. */
static struct agent_sampler *new_sampler(double window)
{
	struct agent_sampler_opts o = { .procfs = "/proc", .smooth_window = window };
	struct agent_sampler *s;
	char err[512];

	if (agent_sampler_new(&s, topo, &o, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		tap_bail("cannot create a sampler");
	}
	return s;
}

/* Point s at fixture tree CASE/tN and sample at N*100 ms. */
static int step(struct agent_sampler *s, const char *dir, int t,
		const struct agent_snapshot **snap, char *err, size_t errlen)
{
	char root[PATH_MAX + 64];
	int rc;

	snprintf(root, sizeof root, "%s/proc/%s/t%d", fixtures, dir, t);
	rc = agent_sampler_set_procfs(s, root);
	if (rc < 0) {
		tap_diag("set_procfs %s: %s", root, strerror(-rc));
		return rc;
	}
	return agent_sampler_sample(s, 1000 * MS + (uint64_t)t * 100 * MS, snap, err, errlen);
}

/* Step and bail out when the fixture cannot be read. */
static const struct agent_snapshot *step_ok(struct agent_sampler *s, const char *dir, int t)
{
	const struct agent_snapshot *snap;
	char err[512];

	if (step(s, dir, t, &snap, err, sizeof err) < 0) {
		fprintf(stderr, "%s/t%d: %s\n", dir, t, err);
		tap_bail("a good fixture failed to sample");
	}
	return snap;
}

/* Compare the four PUs' field (busy_raw, busy_others or busy_ours). */
#define is_pus(snap, field, a, b, c, d, what)                                      \
	do {                                                                       \
		const double want4_[4] = { a, b, c, d };                               \
		for (int i_ = 0; i_ < 4; i_++)                                     \
			is_near((snap)->pu[i_].field, want4_[i_], EPS, "%s: PU %d %s", \
				what, i_, #field);                                 \
	} while (0)

/* Exact fractions from the basic trees, PSI, load, memory, smoothing. */
static void test_basic(void)
{
	struct agent_sampler *s = new_sampler(3), *s1 = new_sampler(1);
	const struct agent_snapshot *snap;

	snap = step_ok(s, "basic", 0);
	is_int(snap->valid, 0, "t0: first sample is not valid (no deltas)");
	is_int(snap->interval_ns, 0, "t0: no interval");
	is_int(snap->npus, 4, "t0: 4 PUs");
	ok(snap->pu[0].online && snap->pu[3].online, "t0: PUs online");
	is_near(snap->loadavg[0], 0.50, EPS, "t0: loadavg 1 min");
	is_near(snap->loadavg[2], 0.30, EPS, "t0: loadavg 15 min");
	is_int(snap->procs_running, 2, "t0: procs_running");
	is_int(snap->has_psi, 1, "t0: PSI present");
	is_near(snap->psi_some_avg10, 1.50, EPS, "t0: PSI avg10");
	is_near(snap->psi_some_recent, 0, EPS, "t0: no PSI delta yet");
	is_int(snap->mem_total_kb, 16384000, "t0: MemTotal");
	is_int(snap->mem_available_kb, 12000000, "t0: MemAvailable");

	snap = step_ok(s, "basic", 1);
	is_int(snap->valid, 1, "t1: valid");
	is_int(snap->interval_ns, 100 * MS, "t1: 100 ms interval");
	/* cpu0 +40 busy of 100; cpu1 idle; cpu2 all busy (user, nice,
	 * system, irq, softirq, steal); cpu3 25 busy with 10 guest inside
	 * user (counting guest again would give 0.35). */
	is_pus(snap, busy_raw, 0.40, 0.00, 1.00, 0.25, "t1");
	is_pus(snap, busy_others, 0.40, 0.00, 1.00, 0.25, "t1 (first delta seeds the average)");
	is_pus(snap, busy_ours, 0, 0, 0, 0, "t1");
	is_near(snap->psi_some_recent, 0.25, EPS, "t1: 25 ms of stall in 100 ms");
	is_near(snap->psi_some_avg10, 2.25, EPS, "t1: PSI avg10");
	is_int(snap->procs_running, 3, "t1: procs_running");
	is_int(snap->mem_available_kb, 11000000, "t1: MemAvailable");
	is_near(snap->loadavg[0], 1.25, EPS, "t1: loadavg");

	snap = step_ok(s, "basic", 2);
	is_pus(snap, busy_raw, 0.80, 0.00, 0.50, 0.25, "t2");
	/* Window 3: alpha = 2/(3+1) = 0.5. */
	is_pus(snap, busy_others, 0.60, 0.00, 0.75, 0.25, "t2 smoothed");
	is_near(snap->psi_some_recent, 0.50, EPS, "t2: 50 ms of stall in 100 ms");

	snap = step_ok(s, "basic", 3);
	is_pus(snap, busy_raw, 0.10, 0.30, 0.20, 0.00, "t3");
	is_pus(snap, busy_others, 0.35, 0.15, 0.475, 0.125, "t3 smoothed");
	is_near(snap->psi_some_recent, 0, EPS, "t3: no stall");

	/* The same tree again: no tick elapsed, nothing changes. */
	snap = step_ok(s, "basic", 3);
	is_pus(snap, busy_others, 0.35, 0.15, 0.475, 0.125, "t3 again: unchanged");

	/* Window 1 is no smoothing. */
	step_ok(s1, "basic", 0);
	step_ok(s1, "basic", 1);
	snap = step_ok(s1, "basic", 2);
	is_pus(snap, busy_others, 0.80, 0.00, 0.50, 0.25, "window 1: others = raw");
	agent_sampler_free(s);
	agent_sampler_free(s1);
}

/* Our workers: 4242 pinned to PU 0 used 30 ticks, 4343 unpinned last ran
 * on CPU 3 and used 10, 4444 exited. */
static void test_workers(void)
{
	struct agent_sampler *s = new_sampler(1);
	const struct agent_snapshot *snap;
	struct agent_worker_ref w[] = { { 4242, 0 }, { 4343, -1 }, { 4444, -1 } };
	struct agent_worker_ref bad_pu = { 4242, 4 }, bad_pid = { 0, -1 };

	step_ok(s, "workers", 0);
	is_int(agent_sampler_set_workers(s, w, 3), 0, "declare three workers");
	snap = step_ok(s, "workers", 1);
	is_pus(snap, busy_ours, 0.30, 0.00, 0.00, 0.10, "workers");
	is_pus(snap, busy_raw, 0.10, 0.00, 1.00, 0.15, "workers subtracted");
	is_pus(snap, busy_others, 0.10, 0.00, 1.00, 0.15, "workers subtracted (window 1)");
	is_int(agent_sampler_set_workers(s, &bad_pu, 1), -EINVAL, "PU index out of range is -EINVAL");
	is_int(agent_sampler_set_workers(s, &bad_pid, 1), -EINVAL, "PID 0 is -EINVAL");
	agent_sampler_free(s);

	/* Declared before the first sample: same baseline. Charged to an
	 * idle PU: our share cannot exceed what the PU did. */
	struct agent_worker_ref idle[] = { { 4242, 0 }, { 4343, 1 } };

	s = new_sampler(1);
	step(s, "workers", 0, &snap, NULL, 0); /* opens the root */
	agent_sampler_set_workers(s, idle, 2);
	snap = step_ok(s, "workers", 0);
	snap = step_ok(s, "workers", 1);
	is_near(snap->pu[0].busy_ours, 0.30, EPS, "declared before t0: 30 ticks on PU 0");
	is_near(snap->pu[1].busy_ours, 0, EPS, "charge to an idle PU is capped at 0");
	is_near(snap->pu[1].busy_raw, 0, EPS, "... and others' share stays 0, not negative");
	is_near(snap->pu[3].busy_raw, 0.25, EPS, "PU 3 not charged when 4343 is pinned elsewhere");

	/* Reaped between samples: wait4's CPU time stands in for the
	 * vanished /proc entry, charged to the pinned PU or where it last
	 * ran (4343: CPU 3, seen when declared). */
	agent_sampler_free(s);
	s = new_sampler(1);
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t tick_ns = 1000000000ull / (uint64_t)hz;

	step_ok(s, "workers", 0);
	agent_sampler_set_workers(s, w, 2);
	is_int(agent_sampler_worker_exited(s, 4242, (150 + 30) * tick_ns), 0, "worker 4242 reaped");
	is_int(agent_sampler_worker_exited(s, 4343, (500 + 10) * tick_ns), 0, "worker 4343 reaped");
	is_int(agent_sampler_worker_exited(s, 4242, 0), -ENOENT, "reaping it again is -ENOENT");
	snap = step_ok(s, "workers", 1);
	is_pus(snap, busy_ours, 0.30, 0.00, 0.00, 0.10, "reaped workers");
	is_pus(snap, busy_raw, 0.10, 0.00, 1.00, 0.15, "reaped workers subtracted");
	snap = step_ok(s, "basic", 2);
	is_near(snap->pu[0].busy_ours, 0, EPS, "a reaped worker is charged once");

	/* Re-declaring a kept worker keeps its baseline. */
	agent_sampler_free(s);
	s = new_sampler(1);
	step_ok(s, "workers", 0);
	agent_sampler_set_workers(s, w, 1);
	agent_sampler_set_workers(s, w, 2);
	snap = step_ok(s, "workers", 1);
	is_near(snap->pu[0].busy_ours, 0.30, EPS, "a worker kept across set_workers keeps its baseline");
	agent_sampler_free(s);
}

/* Write text to dir/name. */
static void put(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		tap_bail("cannot write a temporary cgroup file");
}

/* Our workers by cgroup: v1 cpuacct.usage_percpu, and a cgroup.procs walk. */
static void test_cgroup(void)
{
	char dir[] = "/tmp/nicely-sampler-cg.XXXXXX", sub[PATH_MAX + 16];
	struct agent_sampler *s;
	const struct agent_snapshot *snap;

	if (!mkdtemp(dir))
		tap_bail("mkdtemp");
	/* v1 cpuacct: 0.2 s on CPU 0 and 0.5 s on CPU 2 between t0 and t1,
	 * i.e. 20 and 50 ticks of 100. */
	put(dir, "cpuacct.usage_percpu", "5000000000 0 7000000000 0 \n");
	s = new_sampler(1);
	is_int(agent_sampler_set_cgroup(s, dir), 0, "set a cpuacct cgroup");
	step_ok(s, "basic", 0);
	put(dir, "cpuacct.usage_percpu", "5200000000 0 7500000000 0 \n");
	snap = step_ok(s, "basic", 1);
	is_pus(snap, busy_ours, 0.20, 0.00, 0.50, 0.00, "cpuacct");
	is_pus(snap, busy_raw, 0.20, 0.00, 0.50, 0.25, "cpuacct subtracted");
	put(dir, "cpuacct.usage_percpu", "52000x0000 0 7500000000 0 \n");
	char err[512] = "";

	is_int(step(s, "basic", 2, &snap, err, sizeof err), -EBADMSG, "garbage usage_percpu is -EBADMSG");
	ok(strstr(err, "cpuacct.usage_percpu line 1"), "error names the cgroup file: %s", err);
	is_int(agent_sampler_set_cgroup(s, "relative/path"), -EINVAL, "relative cgroup path is -EINVAL");
	is_int(agent_sampler_set_cgroup(s, "/nonexistent/cgroup"), -ENOENT, "missing cgroup is -ENOENT");
	agent_sampler_free(s);
	unlink(strcat(strcpy(sub, dir), "/cpuacct.usage_percpu"));

	/* No cpuacct: walk cgroup.procs of the cgroup and its children.
	 * 4242 sits in the batch cgroup, 4343 in a task cgroup under it. */
	put(dir, "cgroup.procs", "4242\n");
	snprintf(sub, sizeof sub, "%s/task1", dir);
	mkdir(sub, 0755);
	put(sub, "cgroup.procs", "4343\n");
	s = new_sampler(1);
	step_ok(s, "workers", 0);
	is_int(agent_sampler_set_cgroup(s, dir), 0, "set a cgroup without cpuacct (walk)");
	snap = step_ok(s, "workers", 1);
	is_pus(snap, busy_ours, 0.30, 0.00, 0.00, 0.10, "cgroup walk");
	is_pus(snap, busy_raw, 0.10, 0.00, 1.00, 0.15, "cgroup walk subtracted");
	is_int(agent_sampler_set_cgroup(s, NULL), 0, "clear the cgroup");
	snap = step_ok(s, "basic", 2); /* counters go on from workers/t1 */
	is_near(snap->pu[0].busy_ours, 0, EPS, "nothing charged after clearing");
	is_near(snap->pu[0].busy_raw, 0.80, EPS, "... all of PU 0's 80 ticks are others'");
	agent_sampler_free(s);
	unlink(strcat(strcpy(sub, dir), "/task1/cgroup.procs"));
	rmdir(strcat(strcpy(sub, dir), "/task1"));
	unlink(strcat(strcpy(sub, dir), "/cgroup.procs"));
	ok(rmdir(dir) == 0, "temporary cgroup tree removed");
}

/* A walked cgroup without cpu.stat: a reaped process hands its rusage
 * over, but never more than it used in its last interval (wait4 counts the
 * children it reaped, which the walk charged already). With a cgroup2
 * cpu.stat, the subtree's total charges what vanished processes used. */
static void test_cgroup_exit(void)
{
	char dir[] = "/tmp/nicely-sampler-cgx.XXXXXX", path[PATH_MAX + 32];
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t tick_ns = 1000000000ull / (uint64_t)hz;
	const struct agent_snapshot *snap;
	struct agent_sampler *s;

	if (!mkdtemp(dir))
		tap_bail("mkdtemp");
	put(dir, "cgroup.procs", "4242\n");
	for (int round = 0; round < 2; round++) {
		/* 4242 used 30 ticks on CPU 0 from workers/t0 to t1 (180 then) */
		s = new_sampler(1);
		step_ok(s, "workers", 0);
		is_int(agent_sampler_set_cgroup(s, dir), 0, "walked cgroup, no cpu.stat");
		step_ok(s, "workers", 1);
		/* reaped: 20 ticks of its own since t1 plus 40 of a reaped child
		 * (round 0), or only 10 of its own (round 1) */
		uint64_t more = round == 0 ? 60 : 10;

		put(dir, "cgroup.procs", "");
		is_int(agent_sampler_worker_exited(s, 4242, (180 + more) * tick_ns), 0,
		       "a reaped process of the walked cgroup is known");
		is_int(agent_sampler_worker_exited(s, 4242, 0), -ENOENT, "... once");
		snap = step_ok(s, "basic", 2);
		is_near(snap->pu[0].busy_ours, round == 0 ? 0.30 : 0.10, EPS,
			round == 0 ? "rusage with reaped children: capped at its last interval's 30 ticks"
				   : "rusage within its last interval: all of it");
		agent_sampler_free(s);
		put(dir, "cgroup.procs", "4242\n");
	}
	/* cpu.stat: 4242 vanishes without a reap (a grandchild); the total
	 * grew by 50 ticks: charged where 4242 last ran (PU 0) */
	snprintf(path, sizeof path, "%s/cpu.stat", dir);
	put(dir, "cpu.stat", "usage_usec 1000000\nuser_usec 0\n");
	s = new_sampler(1);
	step_ok(s, "workers", 0);
	is_int(agent_sampler_set_cgroup(s, dir), 0, "walked cgroup with cpu.stat");
	char val[64];

	snprintf(val, sizeof val, "usage_usec %llu\n",
		 1000000ull + 30ull * 1000000ull / (unsigned long long)hz);
	put(dir, "cpu.stat", val);
	snap = step_ok(s, "workers", 1);
	is_near(snap->pu[0].busy_ours, 0.30, EPS, "cpu.stat agrees with the walk: 30 ticks");
	put(dir, "cgroup.procs", "");
	snprintf(val, sizeof val, "usage_usec %llu\n",
		 1000000ull + 80ull * 1000000ull / (unsigned long long)hz);
	put(dir, "cpu.stat", val);
	is_int(agent_sampler_worker_exited(s, 4242, 0), 0, "with cpu.stat a reap needs no figure");
	snap = step_ok(s, "basic", 2);
	is_near(snap->pu[0].busy_ours, 0.50, EPS, "vanished: cpu.stat's 50 more ticks on its PU");
	is_near(snap->pu[2].busy_ours, 0, EPS, "... and nowhere else");
	put(dir, "cpu.stat", "usage_usec x\n");
	char err[512] = "";

	is_int(step(s, "basic", 2, &snap, err, sizeof err), -EBADMSG, "garbage cpu.stat is -EBADMSG");
	ok(strstr(err, "cpu.stat line 1"), "error names the cgroup file: %s", err);
	agent_sampler_free(s);
	unlink(path);
	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	unlink(path);
	ok(rmdir(dir) == 0, "temporary cgroup removed");
}

/* Counters of ours that go back are not a huge charge: a cpuacct cgroup
 * made anew, and a PID in a walked cgroup reused by a new process (its
 * ticks since start are all new). */
static void test_ours_back(void)
{
	char dir[] = "/tmp/nicely-sampler-ours.XXXXXX", proc[] = "/tmp/nicely-sampler-proc.XXXXXX";
	char path[PATH_MAX + 64], src[PATH_MAX + 64];
	static const char *const files[] = { "stat", "loadavg", "meminfo", "pressure" };
	struct agent_sampler *s = new_sampler(1);
	const struct agent_snapshot *snap;

	if (!mkdtemp(dir) || !mkdtemp(proc))
		tap_bail("mkdtemp");
	put(dir, "cpuacct.usage_percpu", "5000000000 0 0 0 \n");
	is_int(agent_sampler_set_cgroup(s, dir), 0, "cpuacct cgroup");
	step_ok(s, "basic", 0);
	put(dir, "cpuacct.usage_percpu", "1000000000 0 0 0 \n");
	snap = step_ok(s, "basic", 1);
	is_near(snap->pu[0].busy_ours, 0, EPS, "cpuacct counter went back: nothing charged");
	is_near(snap->pu[0].busy_raw, 0.40, EPS, "... PU 0's 40 ticks are others'");
	put(dir, "cpuacct.usage_percpu", "1200000000 0 0 0 \n");
	snap = step_ok(s, "basic", 2);
	is_near(snap->pu[0].busy_ours, 0.20, EPS, "then charged from the new counter");
	agent_sampler_free(s);
	snprintf(path, sizeof path, "%s/cpuacct.usage_percpu", dir);
	unlink(path);

	/* PID 4242 had 180 ticks at workers/t1; at the next sample the PID
	 * is a new process with 5 ticks, on CPU 0. */
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(src, sizeof src, "%s/proc/basic/t2/%s", fixtures, files[i]);
		snprintf(path, sizeof path, "%s/%s", proc, files[i]);
		if (symlink(src, path) < 0)
			tap_bail("symlink");
	}
	snprintf(path, sizeof path, "%s/4242", proc);
	mkdir(path, 0755);
	put(path, "stat", "4242 (new) R 1 4242 4242 0 -1 4194304 100 0 0 0 3 2 0 0 20 0 1 0 "
			  "99999 2000000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 "
			  "0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
	put(dir, "cgroup.procs", "4242\n");
	s = new_sampler(1);
	step_ok(s, "workers", 0);
	is_int(agent_sampler_set_cgroup(s, dir), 0, "walked cgroup");
	step_ok(s, "workers", 1);
	is_int(agent_sampler_set_procfs(s, proc), 0, "a root where PID 4242 is new");
	is_int(agent_sampler_sample(s, 2000 * MS, &snap, NULL, 0), 0, "sampled");
	is_near(snap->pu[0].busy_ours, 0.05, EPS, "reused PID: its 5 ticks are ours");
	is_near(snap->pu[0].busy_raw, 0.75, EPS, "... the rest of PU 0's 80 are others'");
	snprintf(path, sizeof path, "%s/4242", proc);
	put(path, "stat", "4242 (new) R 1 4242 4242 0 -1 4194304 100 0 0 0 "
			  "18446744073709551615 2 0 0 20 0 1 0 99999 2000000 100 "
			  "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 "
			  "0 0 0 0 0 0 0 0\n");
	char err[512] = "";
	is_int(agent_sampler_sample(s, 2100 * MS, &snap, err, sizeof err), -EBADMSG,
	       "utime that would wrap utime+stime: -EBADMSG");
	ok(strstr(err, "4242/stat line 1") && strstr(err, "too large"), "... saying so: %s", err);
	agent_sampler_free(s);
	unlink(strcat(strcpy(path, proc), "/4242/stat"));
	rmdir(strcat(strcpy(path, proc), "/4242"));
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", proc, files[i]);
		unlink(path);
	}
	unlink(strcat(strcpy(path, dir), "/cgroup.procs"));
	ok(rmdir(proc) == 0 && rmdir(dir) == 0, "temporary trees removed");
}

/* CPU 2 is missing from /proc/stat at t1 and back at t2. */
static void test_offline(void)
{
	struct agent_sampler *s = new_sampler(3);
	const struct agent_snapshot *snap;

	step_ok(s, "offline", 0);
	snap = step_ok(s, "offline", 1);
	is_int(snap->pu[2].online, 0, "t1: PU 2 offline");
	is_near(snap->pu[2].busy_others, 1.0, EPS, "t1: offline PU counts as busy (not usable)");
	is_near(snap->pu[0].busy_others, 0.40, EPS, "t1: other PUs unaffected");
	snap = step_ok(s, "offline", 2);
	is_int(snap->pu[2].online, 1, "t2: PU 2 back online");
	is_near(snap->pu[2].busy_others, 1.0, EPS, "t2: no delta yet, still not usable");
	is_near(snap->pu[0].busy_others, 0.60, EPS, "t2: PU 0 smoothed as usual");
	snap = step_ok(s, "offline", 3);
	is_near(snap->pu[2].busy_raw, 0.20, EPS, "t3: PU 2 measured again");
	is_near(snap->pu[2].busy_others, 0.20, EPS, "t3: its average restarts from the new value");
	agent_sampler_free(s);
}

/* CPU 1's idle+iowait goes back at t2 (the kernel's iowait accounting can):
 * that interval says nothing new, the PU stays usable, and t3 measures from
 * t1's counters with our ticks of both intervals (cpuacct, 10 each). */
static void test_backwards(void)
{
	char dir[] = "/tmp/nicely-sampler-back.XXXXXX", file[PATH_MAX];
	struct agent_sampler *s = new_sampler(1);
	const struct agent_snapshot *snap;

	if (!mkdtemp(dir))
		tap_bail("mkdtemp");
	put(dir, "cpuacct.usage_percpu", "0 1000000000 0 0 \n");
	is_int(agent_sampler_set_cgroup(s, dir), 0, "backwards: cpuacct cgroup");
	step_ok(s, "backwards", 0);
	step_ok(s, "backwards", 1);
	put(dir, "cpuacct.usage_percpu", "0 1100000000 0 0 \n");
	snap = step_ok(s, "backwards", 2);
	is_int(snap->pu[1].online, 1, "t2: PU 1 online");
	is_near(snap->pu[1].busy_others, 0.0, EPS, "t2: PU 1 not taken for busy (it was idle)");
	is_near(snap->pu[0].busy_raw, 0.80, EPS, "t2: other PUs measured as usual");
	put(dir, "cpuacct.usage_percpu", "0 1200000000 0 0 \n");
	snap = step_ok(s, "backwards", 3);
	is_near(snap->pu[1].busy_ours, 0.10, EPS, "t3: our 20 ticks of t1..t3 over 200");
	is_near(snap->pu[1].busy_raw, 0.05, EPS, "t3: others' 10 of the 30 busy ticks since t1");
	agent_sampler_free(s);
	snprintf(file, sizeof file, "%s/cpuacct.usage_percpu", dir);
	unlink(file);
	ok(rmdir(dir) == 0, "backwards: temporary cgroup removed");
}

/* A kernel without /proc/pressure/cpu. */
static void test_nopsi(void)
{
	struct agent_sampler *s = new_sampler(1);
	const struct agent_snapshot *snap;

	snap = step_ok(s, "nopsi", 0);
	is_int(snap->has_psi, 0, "no PSI file: has_psi 0, not an error");
	snap = step_ok(s, "nopsi", 1);
	is_int(snap->has_psi, 0, "t1: still no PSI");
	is_near(snap->psi_some_recent, 0, EPS, "t1: PSI recent 0");
	is_near(snap->pu[0].busy_raw, 0.40, EPS, "t1: PU 0 busy still measured");
	agent_sampler_free(s);
}

/* Broken files: -EBADMSG naming file and line, the previous snapshot kept,
 * and the next good sample a delta against the last good one. */
static void test_garbage(void)
{
	static const struct {
		const char *name, *where, *why;
	} cases[] = {
		{ "letters", "/stat line 3:", "not a number" },
		{ "truncated", "/stat line 5:", "truncated" },
		{ "short", "/stat line 4:", "fewer than 8" },
		{ "empty", "/stat line 1:", "empty" },
		{ "huge", "/stat line 3:", "too large" },
		{ "hugemem", "/meminfo line 2:", "too large" },
		{ "memavail", "/meminfo line 3:", "not a number" },
		{ "loadavg", "/loadavg line 1:", "load averages" },
		{ "psi", "/pressure/cpu line 1:", "bad value" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct agent_sampler *s = new_sampler(1);
		const struct agent_snapshot *good, *snap = NULL;
		char root[PATH_MAX + 64], err[512] = "";
		int rc;

		good = step_ok(s, "basic", 0);
		snprintf(root, sizeof root, "%s/proc/garbage/%s", fixtures, cases[i].name);
		agent_sampler_set_procfs(s, root);
		rc = agent_sampler_sample(s, 1100 * MS, &snap, err, sizeof err);
		is_int(rc, -EBADMSG, "%s: -EBADMSG", cases[i].name);
		ok(strstr(err, cases[i].where) && strstr(err, cases[i].why) && strstr(err, root),
		   "%s: error names file and line: %s", cases[i].name, err);
		ok(snap == good && snap->valid == 0 && snap->loadavg[0] == 0.5,
		   "%s: previous snapshot kept", cases[i].name);
		snap = step_ok(s, "basic", 1);
		is_near(snap->pu[0].busy_raw, 0.40, EPS, "%s: next good sample is a delta from the last good one",
			cases[i].name);
		agent_sampler_free(s);
	}

	/* A root without the files. */
	struct agent_sampler *s = new_sampler(1);
	const struct agent_snapshot *snap;
	char root[PATH_MAX + 64], err[512] = "";

	snprintf(root, sizeof root, "%s/proc/garbage", fixtures);
	agent_sampler_set_procfs(s, root);
	is_int(agent_sampler_sample(s, 0, &snap, err, sizeof err), -ENOENT, "missing stat is -ENOENT");
	ok(strstr(err, "garbage/stat"), "... naming the file: %s", err);
	ok(snap == NULL, "no snapshot before the first good sample");
	is_int(agent_sampler_set_procfs(s, "/nonexistent/proc"), -ENOENT, "missing root is -ENOENT");
	agent_sampler_free(s);

	struct agent_sampler_opts o = { .smooth_window = 0.5 };
	struct agent_sampler *bad = NULL;

	is_int(agent_sampler_new(&bad, topo, &o, err, sizeof err), -EINVAL, "window 0.5 is -EINVAL");
	ok(bad == NULL && strstr(err, "window"), "... saying so: %s", err);
}

/* The real /proc: two samples, sane values. */
static void test_real_proc(void)
{
	struct agent_topology *real;
	struct agent_sampler *s;
	struct agent_sampler_opts o = { 0 };
	const struct agent_snapshot *snap;
	char err[512];
	int sane = 1;

	unsetenv("NICELY_PROCFS");
	if (agent_topology_load(&real, "", err, sizeof err) < 0 ||
	    agent_sampler_new(&s, real, &o, err, sizeof err) < 0)
		tap_bail(err);
	is_int(agent_sampler_sample(s, 0, &snap, err, sizeof err), 0, "real /proc: first sample");
	usleep(100000);
	is_int(agent_sampler_sample(s, 0, &snap, err, sizeof err), 0, "real /proc: second sample");
	ok(snap->valid && snap->interval_ns >= 90 * MS, "real /proc: valid, interval %.1f ms",
	   (double)snap->interval_ns / 1e6);
	for (int i = 0; i < snap->npus; i++)
		if (!snap->pu[i].online || snap->pu[i].busy_others < 0 || snap->pu[i].busy_others > 1)
			sane = 0;
	ok(sane, "real /proc: every PU online with a busy fraction in [0, 1]");
	ok(snap->mem_total_kb > 0 && snap->mem_available_kb <= snap->mem_total_kb,
	   "real /proc: memory %llu of %llu kB", (unsigned long long)snap->mem_available_kb,
	   (unsigned long long)snap->mem_total_kb);
	is_int(snap->has_psi, access("/proc/pressure/cpu", R_OK) == 0, "real /proc: PSI presence");
	agent_sampler_free(s);
	agent_topology_free(real);
}

/* Run the sampler tests on the fixture trees and the real /proc. */
int main(int argc, char **argv)
{
	char err[512];

	(void)argc;
	if (fixture_dir(argv[0], fixtures) < 0)
		tap_bail("cannot find tests/fixtures (set NICELY_SRCDIR)");
	if (agent_topology_load(&topo, "synthetic:pack:1 core:2 pu:2", err, sizeof err) < 0)
		tap_bail(err);
	test_basic();
	test_workers();
	test_cgroup();
	test_cgroup_exit();
	test_ours_back();
	test_offline();
	test_backwards();
	test_nopsi();
	test_garbage();
	test_real_proc();
	agent_topology_free(topo);
	return tap_done();
}
