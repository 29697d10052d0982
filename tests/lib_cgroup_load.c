/* The gate's pause, move and stop on libnicely workers in cgroups, under
 * real load: a busy loop in another session holds CPU 0, a pool (preset
 * with on_return = pause / move / stop, 100 ms ticks, no hysteresis) starts
 * a long task on CPU 1, then a busy loop takes CPU 1: the worker's group is
 * frozen (and thawed when the loop goes), or re-pinned to CPU 0 (cpuset and
 * affinity read back), or the worker is stopped and its task requeued and
 * run again (its group emptied, kept for the slot's next worker); every
 * task ends with the right result. On a machine that others keep busy,
 * each part waits a bounded time and skips with the reason. Needs root, v1 cpu/cpuset/freezer and 2 CPUs. */
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <sys/prctl.h>

#include "tap.h"
#include "lib_util.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

#define CG "/sys/fs/cgroup"

static char tdir[128], spin[300];
static pid_t hogs[2];

/* Linux CPU of a single-CPU affinity mask of pid, -1 otherwise. */
static int cpu_of(pid_t pid)
{
	cpu_set_t set;

	if (sched_getaffinity(pid, sizeof set, &set) || CPU_COUNT(&set) != 1)
		return -1;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			return i;
	return -1;
}

/* Task: say "<pid> <cpu> <cgroup line of cpu>" in <tdir>/cur (cpu: of its
 * single-CPU affinity at start, -1 when not pinned), then sleep in
 * 50 ms steps until <tdir>/finish exists (60 s at most); returns 2n+1. */
static int t_long(const void *arg, size_t len, nicely_out *out, void *st)
{
	char path[200], rec[300], cg[4096], *p;
	int n = *(const int *)arg, v;

	(void)len;
	(void)st;
	lib_slurp("/proc/self/cgroup", cg, sizeof cg);
	p = strstr(cg, ":cpu:");
	snprintf(rec, sizeof rec, "%d %d %.*s", (int)getpid(), cpu_of(0),
		 p ? (int)strcspn(p + 5, "\n") : 0, p ? p + 5 : "");
	snprintf(path, sizeof path, "%s/cur", tdir);
	lib_put(path, rec);
	snprintf(path, sizeof path, "%s/finish", tdir);
	for (int i = 0; i < 1200 && access(path, F_OK); i++)
		lib_sleep_ms(50);
	v = 2 * n + 1;
	return nicely_out_write(out, &v, sizeof v);
}

/* Start a busy loop on cpu in a session of its own. */
static pid_t hog(int cpu)
{
	char c[16];
	pid_t pid = fork();

	if (pid < 0)
		tap_bail("fork");
	if (pid == 0) {
		setsid();
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(c, sizeof c, "%d", cpu);
		execl(spin, "spin", c, "120", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Stop a busy loop. */
static void unhog(int cpu)
{
	if (hogs[cpu] > 0) {
		kill(hogs[cpu], SIGKILL);
		waitpid(hogs[cpu], NULL, 0);
	}
	hogs[cpu] = 0;
}

/* The first 8 counters of Linux CPU cpu's line in /proc/stat into a. */
static void cpu_ticks(int cpu, unsigned long long a[8])
{
	char key[16], line[512];
	FILE *f = fopen("/proc/stat", "r");

	snprintf(key, sizeof key, "cpu%d ", cpu);
	memset(a, 0, 8 * sizeof a[0]);
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, key, strlen(key)))
			sscanf(line + strlen(key),
			       "%llu %llu %llu %llu %llu %llu %llu %llu",
			       &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6],
			       &a[7]);
	if (f)
		fclose(f);
}

/* Percent busy between two cpu_ticks readings. */
static int cpu_busy_between(const unsigned long long a[8],
			    const unsigned long long b[8])
{
	unsigned long long busy = 0, idle = 0;

	for (int i = 0; i < 8; i++)
		if (i == 3 || i == 4)
			idle += b[i] - a[i];
		else
			busy += b[i] - a[i];
	return busy + idle ? (int)(100 * busy / (busy + idle)) : 0;
}

/* Percent busy of Linux CPU cpu over ms milliseconds, from /proc/stat. */
static int cpu_busy(int cpu, int ms)
{
	unsigned long long a[8], b[8];

	cpu_ticks(cpu, a);
	lib_sleep_ms(ms);
	cpu_ticks(cpu, b);
	return cpu_busy_between(a, b);
}

/* Report a part that cannot be judged now. */
static void skip(const char *what, const char *why)
{
	tap_ok_at(1, __FILE__, __LINE__, "%s # SKIP %s", what, why);
}

/* Step pool up to secs seconds until the task file names a worker other
 * than not_pid; fills pid, the CPU it started on and its cpu group. */
static int wait_task(nicely_pool *pool, pid_t not_pid, double secs,
		     pid_t *pid, int *cpu, char *grp, size_t len)
{
	char path[200], rec[400];

	snprintf(path, sizeof path, "%s/cur", tdir);
	for (int i = 0; i < (int)(secs * 10); i++) {
		nicely_step(pool, 100);
		if (access(path, F_OK))
			continue;
		lib_slurp(path, rec, sizeof rec);
		char *sp = strchr(rec, ' '), *sp2 = sp ? strchr(sp + 1, ' ') : NULL;

		if (atoi(rec) > 0 && atoi(rec) != not_pid && sp2) {
			*pid = atoi(rec);
			*cpu = atoi(sp + 1);
			snprintf(grp, len, "%s", sp2 + 1);
			return 1;
		}
	}
	return 0;
}

/* Step pool up to secs seconds until cond(arg) holds. */
static int step_until(nicely_pool *pool, double secs,
		      int (*cond)(const void *), const void *arg)
{
	for (int i = 0; i < (int)(secs * 10); i++) {
		if (cond(arg))
			return 1;
		nicely_step(pool, 100);
	}
	return cond(arg);
}

/* Is the group frozen (its freezer: cgroup2's on a hybrid tree, else
 * v1's)? arg: the cpu group path. */
static int is_frozen(const void *grp)
{
	return lib_cg_frozen(grp) == 1;
}

/* The opposite, for the thaw. */
static int is_thawed(const void *grp)
{
	return lib_cg_frozen(grp) == 0;
}

/* Is the worker (arg: its pid) pinned to CPU 0? */
static int on_cpu0(const void *pid)
{
	return cpu_of(*(const pid_t *)pid) == 0;
}

/* Is the pid gone? */
static int pid_gone(const void *pid)
{
	return lib_pid_gone(*(const pid_t *)pid);
}

/* CPU 1 taken: the worker's group grp must say FROZEN within 20 s. The
 * freeze request is the pause, but a group at idle weight on a CPU others
 * keep busy may get no CPU time to reach the freeze point: skipped when the
 * freeze is requested and the group had no more than 20 ms of CPU since. */
static void frozen_or_skip(nicely_pool *pool, const char *grp,
			   const char *name)
{
	long long u0 = -1, u;
	char what[100], why[200];

	snprintf(what, sizeof what, "%s: CPU 1 taken: the worker's group is "
		 "FROZEN", name);
	for (int i = 0; i < 200 && !is_frozen(grp); i++) {
		if (u0 < 0 && lib_cg_freeze_requested(grp))
			u0 = lib_cg_cpu_us(grp);
		nicely_step(pool, 100);
	}
	if (is_frozen(grp)) {
		ok(1, "%s", what);
		return;
	}
	u = lib_cg_cpu_us(grp) - u0;
	if (u0 >= 0 && u <= 20000) {
		snprintf(why, sizeof why, "freeze requested, but others left "
			 "the group %lld ms of CPU in 20 s", u / 1000);
		skip(what, why);
	} else if (u0 >= 0) {
		ok(0, "%s (freeze requested, %lld ms of CPU since)", what,
		   u / 1000);
	} else {
		ok(0, "%s (freeze not requested)", what);
	}
}

/* One part: a pool under preset name with a long task on CPU 1 while CPU
 * 0 is held; then CPU 1 is taken. */
static void part(const char *conf, const char *name)
{
	nicely_options o;
	nicely_pool *pool;
	nicely_stats st;
	char grp[300], grp2[300], path[400], v[64], fin[200], cur[200],
		procs[4096];
	pid_t wpid = 0, wpid2 = 0;
	int arg = 20, busy, cpu1 = -1, cpu2 = -1;
	unsigned long long t0[8], t1[8];
	const nicely_result *r;

	tap_diag("--- on_return = %s", name);
	snprintf(fin, sizeof fin, "%s/finish", tdir);
	snprintf(cur, sizeof cur, "%s/cur", tdir);
	unlink(fin);
	unlink(cur);
	hogs[0] = hog(0);
	lib_sleep_ms(1000);
	lib_opts(&o, 1);
	o.preset = name;
	o.config_file = conf;
	o.cgroups = NICELY_CGROUPS_REQUIRED;
	is_int(nicely_pool_new(&pool, &o), 0, "%s: pool with cgroups", name);
	nicely_run(pool, t_long, &arg, sizeof arg);
	cpu_ticks(1, t0);
	if (!wait_task(pool, 0, 30, &wpid, &cpu1, grp, sizeof grp)) {
		/* judged over the whole wait, not only after it: load that
		 * comes and goes can hold the preset back for 30 s and still
		 * leave CPU 1 idle in a 2 s sample taken afterwards */
		cpu_ticks(1, t1);
		busy = cpu_busy_between(t0, t1);
		if (busy < 40)
			busy = cpu_busy(1, 2000) >= 60 ? 60 : busy;
		if (busy >= 40) {
			snprintf(path, sizeof path,
				 "others kept CPU 1 %d%% busy: the preset waits",
				 busy);
			skip("the task started", path);
		} else {
			ok(0, "%s: the task started (CPU 1 only %d%% busy)",
			   name, busy);
		}
		goto out;
	}
	if (cpu1 != 1) {
		skip("the task started on CPU 1",
		     "others made CPU 1 busier than our loop on CPU 0");
		goto out;
	}
	ok(1, "%s: the task started on CPU 1 in %s", name, grp);
	snprintf(path, sizeof path, CG "/cpuset%s/cpuset.cpus", grp);
	is_str(lib_slurp(path, v, sizeof v), "1", "%s: its cpuset is CPU 1", name);

	if (!strcmp(name, "lmove")) {
		/* CPU 0 free, CPU 1 taken: moved to CPU 0 */
		unhog(0);
		hogs[1] = hog(1);
		if (!step_until(pool, 20, on_cpu0, &wpid)) {
			busy = cpu_busy(0, 2000);
			if (busy >= 60)
				skip("the worker moved to CPU 0",
				     "others keep CPU 0 busy: nowhere to go");
			else
				ok(0, "%s: the worker moved to CPU 0 (CPU 0 "
				   "%d%% busy, affinity %d)", name, busy,
				   cpu_of(wpid));
			goto out;
		}
		ok(1, "%s: CPU 1 taken: the worker's affinity is CPU 0", name);
		is_str(lib_slurp(path, v, sizeof v), "0",
		       "%s: and its group's cpuset.cpus is 0", name);
		unhog(1);
	} else if (!strcmp(name, "lpause")) {
		hogs[1] = hog(1);
		frozen_or_skip(pool, grp, name);
		nicely_stats_get(pool, &st);
		is_int((int)st.running, 1, "%s: its task is still running", name);
		unhog(1);
		if (!step_until(pool, 20, is_thawed, grp)) {
			busy = cpu_busy(1, 2000);
			if (busy >= 60)
				skip("the worker resumed",
				     "others keep CPU 1 busy");
			else
				ok(0, "%s: the worker resumed (CPU 1 %d%% busy)",
				   name, busy);
			goto out;
		}
		ok(1, "%s: CPU 1 free again: the group is THAWED", name);
	} else {
		hogs[1] = hog(1);
		ok(step_until(pool, 20, pid_gone, &wpid),
		   "%s: CPU 1 taken: the worker (%d) is stopped", name,
		   (int)wpid);
		/* (both CPUs are busy now: nothing starts it again yet) */
		for (int i = 0; i < 50 && nicely_task_status(pool, 0) !=
						  NICELY_QUEUED; i++)
			nicely_step(pool, 100);
		is_int(nicely_task_status(pool, 0), NICELY_QUEUED,
		       "%s: its task is queued again", name);
		/* the group stays for the slot's next worker, emptied */
		snprintf(path, sizeof path, CG "/cpu%s/cgroup.procs", grp);
		for (int i = 0; i < 20 && access(path, F_OK) == 0 &&
				lib_slurp(path, procs, sizeof procs)[0];
		     i++)
			nicely_step(pool, 100);
		ok(access(path, F_OK) != 0 || !lib_slurp(path, procs, sizeof procs)[0],
		   "%s: the stopped worker's group is empty or gone", name);
		unhog(1);
		if (!wait_task(pool, wpid, 30, &wpid2, &cpu2, grp2,
			       sizeof grp2)) {
			busy = cpu_busy(1, 2000);
			if (busy >= 60)
				skip("the task ran again", "others keep CPU 1 busy");
			else
				ok(0, "%s: the task ran again (CPU 1 %d%% busy)",
				   name, busy);
			goto out;
		}
		ok(wpid2 != wpid, "%s: it runs again in a new worker (%d, "
		   "group %s)", name, (int)wpid2, grp2);
		/* (others may take CPU 1 again meanwhile and stop it again:
		 * its place is a pinned worker, never an unpinned one) */
		ok(cpu2 >= 0, "%s: pinned again (CPU %d)", name, cpu2);
	}
	lib_put(fin, "1");
	/* bounded: others may pause or stop it again on this shared machine */
	for (int i = 0; i < 600 && nicely_step(pool, 100) == 0; i++)
		;
	if (nicely_task_status(pool, 0) != NICELY_OK &&
	    (nicely_task_status(pool, 0) == NICELY_QUEUED ||
	     nicely_task_status(pool, 0) == NICELY_RUNNING)) {
		busy = cpu_busy(0, 1000) + cpu_busy(1, 1000);
		if (busy >= 120)
			skip("the batch finishes", "others keep both CPUs busy");
		else
			ok(0, "%s: the batch finishes (CPUs %d%% busy in all)",
			   name, busy);
		goto out;
	}
	ok(1, "%s: the batch finishes", name);
	r = nicely_result_get(pool, 0);
	ok(r && r->status == NICELY_OK && r->len == sizeof(int) &&
		   *(const int *)r->data == 2 * arg + 1,
	   "%s: the task's result is right", name);
	nicely_stats_get(pool, &st);
	if (strcmp(name, "lstop"))
		is_int((int)st.workers_started, 1, "%s: one worker did it", name);
	else
		ok(st.workers_started >= 2, "%s: %lld workers did it", name,
		   (long long)st.workers_started);
out:
	lib_put(fin, "1");
	nicely_pool_free(pool);
	unhog(0);
	unhog(1);
	ok(lib_pid_gone(wpid) && lib_pid_gone(wpid2),
	   "%s: no worker is left", name);
	is_int(lib_cg_count(getpid()), 0, "%s: no group is left", name);
	unlink(fin);
	unlink(cur);
}

int main(void)
{
	char conf[200], exe[256];
	ssize_t n;
	static const char *names[] = { "lpause", "lmove", "lstop" };
	FILE *f;

	lib_env_setup();
	if (!lib_cg_usable() ||
	    access(CG "/cpuset/cgroup.procs", F_OK))
		tap_skip_all("needs root and the v1 cpu, cpuset and freezer "
			     "controllers");
	cpu_set_t mine;

	if (sched_getaffinity(0, sizeof mine, &mine) || !CPU_ISSET(0, &mine) ||
	    !CPU_ISSET(1, &mine))
		tap_skip_all("needs CPUs 0 and 1");
	unsetenv("NICELY_CGROUP_ROOT");
	unsetenv("NICELY_CGROUP_TRACE");
	if (getenv("NICELY_BUILD")) {
		snprintf(spin, sizeof spin, "%s/tests/helpers/spin",
			 getenv("NICELY_BUILD"));
	} else {
		n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		exe[n > 0 ? n : 0] = 0;
		if (strrchr(exe, '/'))
			*strrchr(exe, '/') = 0;
		snprintf(spin, sizeof spin, "%s/helpers/spin", exe);
	}
	if (access(spin, X_OK))
		tap_bail("no tests/helpers/spin (build it first)");
	snprintf(tdir, sizeof tdir, "%s", lib_tmpdir);
	snprintf(conf, sizeof conf, "%s/load.conf", tdir);
	if (!(f = fopen(conf, "w")))
		tap_bail("cannot write the config");
	for (int i = 0; i < 3; i++)
		fprintf(f,
			"[preset %s]\nbase = normal\nidle_threshold = 60%%\n"
			"load_ceiling = off\npressure_ceiling = off\n"
			"mem_floor = off\nhysteresis = 0\ninterval = 100ms\n"
			"force_one = no\non_return = %s\n\n",
			names[i], names[i] + 1);
	fclose(f);
	for (int i = 0; i < 3; i++)
		part(conf, names[i]);
	unlink(conf);
	return tap_done();
}
