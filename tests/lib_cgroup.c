/* libnicely workers in cgroups, on this machine's real v1 tree (as root):
 * tasks run in their worker's group, whose weight class, cpuset and memory
 * limit are read back while they run; kill_all and a timeout kill what a
 * task double-forked away (setsid); reset and pool_free remove every group;
 * a dead pool's groups and leftovers are cleaned by the next pool; without
 * a cgroup tree `required` fails with NICELY_ECGROUP and `auto` logs one
 * line and falls back (workers in a session of their own, autogroup nice
 * 19 for the idle class), and `off` never makes groups. */
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>

#include "tap.h"
#include "lib_util.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

#define CG "/sys/fs/cgroup"

static char tdir[128];
static char mark[160];
static char logs[8][600];
static int nlogs;

/* Keep the library's own log lines (pid 0). */
static void on_log(int level, int64_t id, pid_t pid, const char *msg, void *u)
{
	(void)u;
	(void)id;
	if (pid == 0 && level <= NICELY_LOG_WARNING && nlogs < 8)
		snprintf(logs[nlogs++], sizeof logs[0], "%s", msg);
}

/* The path of controller ctrl ("cpu", "memory"...) in a /proc/PID/cgroup
 * text, copied to out; "" when absent. */
static const char *cg_path(const char *text, const char *ctrl, char *out,
			   size_t len)
{
	char key[32];
	const char *p = text;

	snprintf(key, sizeof key, ":%s:", ctrl);
	out[0] = 0;
	while (p && *p) {
		const char *nl = strchr(p, '\n'), *k = strstr(p, key);

		if (k && (!nl || k < nl)) {
			k += strlen(key);
			snprintf(out, len, "%.*s",
				 (int)(nl ? nl - k : (long)strlen(k)), k);
			return out;
		}
		p = nl ? nl + 1 : NULL;
	}
	return out;
}

/* Wait up to secs for path to exist. */
static int wait_file(const char *path, double secs)
{
	for (int i = 0; i < (int)(secs * 100); i++) {
		if (access(path, F_OK) == 0)
			return 1;
		lib_sleep_ms(10);
	}
	return access(path, F_OK) == 0;
}

/* Task: record /proc/self/cgroup and its CPU in <tdir>/cg.<k>, wait for
 * <tdir>/go, return the /proc/self/cgroup text. */
static int t_cg(const void *arg, size_t len, nicely_out *out, void *st)
{
	char path[200], text[4096], rec[4200], go[200];
	cpu_set_t set;
	int k = *(const int *)arg, cpu = -1;

	(void)len;
	(void)st;
	lib_slurp("/proc/self/cgroup", text, sizeof text);
	if (!sched_getaffinity(0, sizeof set, &set) && CPU_COUNT(&set) == 1)
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				cpu = i;
	snprintf(rec, sizeof rec, "cpu=%d\n%s\n", cpu, text);
	snprintf(path, sizeof path, "%s/cg.%d", tdir, k);
	lib_put(path, rec);
	snprintf(go, sizeof go, "%s/go", tdir);
	for (int i = 0; i < 3000 && access(go, F_OK); i++)
		lib_sleep_ms(10);
	return nicely_out_write(out, text, strlen(text) + 1);
}

/* Task: touch 32 MiB and burn a little CPU. */
static int t_mem(const void *arg, size_t len, nicely_out *out, void *st)
{
	size_t n = 32u << 20;
	char *m = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile unsigned long x = 0;

	(void)arg;
	(void)len;
	(void)st;
	if (m == MAP_FAILED)
		return 1;
	for (size_t i = 0; i < n; i += 4096)
		m[i] = 1;
	for (unsigned long i = 0; i < 20000000ul; i++)
		x += i;
	munmap(m, n);
	return nicely_out_write(out, "fine", 5);
}

/* Task: double-fork `setsid sleep 1000` (its pid in the file named by
 * arg), then sleep until killed. */
static int t_orphan(const void *arg, size_t len, nicely_out *out, void *st)
{
	char cmd[600];

	(void)len;
	(void)out;
	(void)st;
	snprintf(cmd, sizeof cmd,
		 "setsid sh -c 'echo $$ >%s.tmp; mv %s.tmp %s; exec sleep 1000' "
		 "</dev/null >/dev/null 2>&1 &",
		 (const char *)arg, (const char *)arg, (const char *)arg);
	if (system(cmd) != 0)
		return 2;
	lib_sleep_ms(60000);
	return 0;
}

/* Task: the worker's autogroup line and whether it has a session of its
 * own ("sid-own" / "sid-shared" against the pid given in arg). */
static int t_autogroup(const void *arg, size_t len, nicely_out *out, void *st)
{
	char ag[200], res[300];
	pid_t test_sid = *(const pid_t *)arg;

	(void)len;
	(void)st;
	lib_slurp("/proc/self/autogroup", ag, sizeof ag);
	snprintf(res, sizeof res, "%s|%s", ag,
		 getsid(0) != test_sid ? "sid-own" : "sid-shared");
	return nicely_out_write(out, res, strlen(res) + 1);
}

/* Wait for a pid file and read it. */
static pid_t read_pidfile(const char *path)
{
	char buf[32];

	if (!wait_file(path, 20))
		return -1;
	return (pid_t)atol(lib_slurp(path, buf, sizeof buf));
}

/* Live processes other than this one whose environment has our mark. */
static int marked(void)
{
	glob_t g;
	int n = 0;

	if (glob("/proc/[0-9]*/environ", 0, NULL, &g))
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char buf[65536];
		pid_t pid = (pid_t)atol(g.gl_pathv[i] + 6);
		int fd = open(g.gl_pathv[i], O_RDONLY);
		ssize_t r = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

		if (fd >= 0)
			close(fd);
		if (r <= 0 || pid == getpid() || lib_pid_gone(pid))
			continue;
		buf[r] = 0;
		for (ssize_t k = 0; k < r; k += (ssize_t)strlen(buf + k) + 1)
			if (!strcmp(buf + k, mark)) {
				tap_diag("marked process left: %d", (int)pid);
				kill(pid, SIGKILL);
				n++;
				break;
			}
	}
	globfree(&g);
	return n;
}

/* Options for a pool under the test preset. */
static void opts(nicely_options *o, int n, const char *conf)
{
	lib_opts(o, n);
	o->preset = "cgtest";
	o->config_file = conf;
	o->on_log = on_log;
}

/* Tasks in their groups; values read back while they run; all gone after
 * pool_free. */
static void in_groups(const char *conf)
{
	nicely_options o;
	nicely_pool *pool;
	char path[300], text[4200], cpu[256], mem[256], fz[256], want[64],
		v[64], dirs[2][300];
	int k[2] = { 0, 1 };
	nicely_stats st;

	opts(&o, 2, conf);
	is_int(nicely_pool_new(&pool, &o), 0, "pool with cgroups");
	nicely_stats_get(pool, &st);
	is_int(st.cgroups, 1, "stats say workers run in cgroups");
	for (int i = 0; i < 2; i++)
		nicely_run(pool, t_cg, &k[i], sizeof k[i]);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/cg.%d", tdir, i);
		for (int s = 0; s < 200 && access(path, F_OK); s++)
			nicely_step(pool, 100);
		lib_slurp(path, text, sizeof text);
		cg_path(text, "cpu", cpu, sizeof cpu);
		snprintf(want, sizeof want, "/nicely/root-%d-", (int)getpid());
		ok(!strncmp(cpu, want, strlen(want)) && strstr(cpu, "/task-"),
		   "task %d runs in its worker's cpu group (%s)", i, cpu);
		snprintf(dirs[i], sizeof dirs[i], "%s", cpu);
		is_str(cg_path(text, "cpuset", v, sizeof v), cpu,
		       "task %d: same group in cpuset", i);
		/* a hybrid tree pauses through cgroup2's freezer, a v1
		 * tree through the v1 freezer */
		if (access(CG "/unified/nicely/cgroup.freeze", F_OK) == 0) {
			is_str(cg_path(text, "", fz, sizeof fz), cpu,
			       "task %d: same group in the cgroup2 tree", i);
			is_str(cg_path(text, "freezer", fz, sizeof fz), "/",
			       "task %d: none in the v1 freezer (cgroup2's "
			       "freezes)", i);
		} else {
			is_str(cg_path(text, "freezer", fz, sizeof fz), cpu,
			       "task %d: same group in freezer", i);
		}
		snprintf(path, sizeof path, CG "/cpu%s/cpu.idle", cpu);
		if (access(path, F_OK) == 0) {
			is_str(lib_slurp(path, v, sizeof v), "1",
			       "task %d: cpu.idle = 1 (weight idle)", i);
		} else {
			snprintf(path, sizeof path, CG "/cpu%s/cpu.shares", cpu);
			is_str(lib_slurp(path, v, sizeof v), "2",
			       "task %d: cpu.shares = 2 (weight idle)", i);
		}
		snprintf(path, sizeof path, CG "/cpuset%s/cpuset.cpus", cpu);
		snprintf(want, sizeof want, "%d", atoi(text + 4));
		is_str(lib_slurp(path, v, sizeof v), want,
		       "task %d: cpuset.cpus is its CPU", i);
		cg_path(text, "memory", mem, sizeof mem);
		snprintf(path, sizeof path, CG "/memory%s/memory.limit_in_bytes",
			 mem);
		is_str(lib_slurp(path, v, sizeof v), "100663296",
		       "task %d: memory.limit_in_bytes = 96M", i);
	}
	snprintf(path, sizeof path, "%s/go", tdir);
	lib_put(path, "go");
	is_int(nicely_wait_all(pool), 0, "both tasks finish");
	for (int i = 0; i < 2; i++) {
		const nicely_result *r = nicely_result_get(pool, i);

		ok(r && r->status == NICELY_OK && r->len &&
			   !strcmp(cg_path(r->data, "cpu", cpu, sizeof cpu),
				   dirs[i]),
		   "task %d returned its /proc/self/cgroup (%s)", i,
		   r && r->len ? cpu : "nothing");
	}
	nicely_pool_free(pool);
	is_int(lib_cg_count(getpid()), 0, "after pool_free no group is left");
	snprintf(path, sizeof path, CG "/cpu%s", dirs[0]);
	ok(access(path, F_OK) != 0, "%s is gone", path);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/cg.%d", tdir, i);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/go", tdir);
	unlink(path);
}

/* Step an idle pool until its last worker has exited (5 s at most), then
 * read its counters into st. */
static void workers_gone(nicely_pool *pool, nicely_stats *st)
{
	for (int i = 0; i < 100; i++) {
		nicely_stats_get(pool, st);
		if (!st->workers)
			break;
		lib_sleep_ms(50);	/* an idle pool's step does not wait */
		nicely_step(pool, 0);
	}
	nicely_stats_get(pool, st);
}

/* Figures from exited workers' groups; reset removes the groups. */
static void stats_reset(const char *conf)
{
	nicely_options o;
	nicely_pool *pool;
	nicely_stats st;
	char path[300], text[4200], cpu[256];
	int k = 0;

	opts(&o, 1, conf);
	o.lifespan = 1;
	is_int(nicely_pool_new(&pool, &o), 0, "pool with lifespan 1");
	nicely_run(pool, t_mem, NULL, 0);
	nicely_wait_all(pool);
	workers_gone(pool, &st);
	ok(st.cgroup_cpu_ns > 0, "CPU time of the exited worker's group: %lld ns",
	   (long long)st.cgroup_cpu_ns);
	ok(st.cgroup_mem_peak >= (32 << 20),
	   "peak memory of its group: %lld bytes (it touched 32 MiB)",
	   (long long)st.cgroup_mem_peak);
	nicely_pool_free(pool);

	opts(&o, 1, conf);
	is_int(nicely_pool_new(&pool, &o), 0, "persistent pool");
	nicely_run(pool, t_cg, &k, sizeof k);
	snprintf(path, sizeof path, "%s/cg.0", tdir);
	for (int s = 0; s < 200 && access(path, F_OK); s++)
		nicely_step(pool, 100);
	lib_slurp(path, text, sizeof text);
	cg_path(text, "cpu", cpu, sizeof cpu);
	snprintf(path, sizeof path, CG "/cpu%s", cpu);
	ok(*cpu && access(path, F_OK) == 0, "the worker's group exists (%s)",
	   cpu);
	snprintf(text, sizeof text, "%s/go", tdir);
	lib_put(text, "go");
	nicely_wait_all(pool);
	is_int(nicely_reset(pool), 0, "reset");
	ok(access(path, F_OK) != 0, "after reset the worker's group is gone");
	nicely_stats_get(pool, &st);
	is_int(st.cgroups, 1, "and the pool still has cgroups");
	nicely_run(pool, t_ok, NULL, 0);
	nicely_wait_all(pool);
	ok(nicely_result_get(pool, 0) &&
		   nicely_result_get(pool, 0)->status == NICELY_OK,
	   "a task after reset runs");
	nicely_pool_free(pool);
	is_int(lib_cg_count(getpid()), 0, "after pool_free no group is left");
	unlink(text);
	snprintf(path, sizeof path, "%s/cg.0", tdir);
	unlink(path);
}

/* Task: double-fork `setsid sleep 1000` (pid in the file named by arg)
 * and return at once with /proc/self/cgroup. */
static int t_stray(const void *arg, size_t len, nicely_out *out, void *st)
{
	char cmd[600], text[4096];

	(void)len;
	(void)st;
	snprintf(cmd, sizeof cmd,
		 "setsid sh -c 'echo $$ >%s.tmp; mv %s.tmp %s; exec sleep 1000' "
		 "</dev/null >/dev/null 2>&1 &",
		 (const char *)arg, (const char *)arg, (const char *)arg);
	if (system(cmd) != 0)
		return 2;
	for (int i = 0; i < 2000 && access((const char *)arg, F_OK); i++)
		lib_sleep_ms(5);
	lib_slurp("/proc/self/cgroup", text, sizeof text);
	return nicely_out_write(out, text, strlen(text) + 1);
}

/* Task: "<pids in its own cgroup2 group>|<cpuset.cpus of its group>|
 * <its CPU>|/proc/self/cgroup". */
static int t_look(const void *arg, size_t len, nicely_out *out, void *st)
{
	char text[4096], g[256], path[400], procs[4096], cs[64], res[4600];
	int n = 0, cpu = -1;
	cpu_set_t set;

	(void)arg;
	(void)len;
	(void)st;
	lib_slurp("/proc/self/cgroup", text, sizeof text);
	snprintf(path, sizeof path, CG "/unified%s/cgroup.procs",
		 strstr(text, "0::") ? strstr(text, "0::") + 3 : "/?");
	*strchrnul(path + strlen(CG), '\n') = 0;
	if (!strstr(path, "/cgroup.procs"))
		strcat(path, "/cgroup.procs");
	lib_slurp(path, procs, sizeof procs);
	for (char *q = procs; *q; q++)
		if (*q >= '0' && *q <= '9' && (q == procs || q[-1] == '\n'))
			n++;
	snprintf(path, sizeof path, CG "/cpuset%s/cpuset.cpus",
		 cg_path(text, "cpuset", g, sizeof g));
	lib_slurp(path, cs, sizeof cs);
	if (!sched_getaffinity(0, sizeof set, &set) && CPU_COUNT(&set) == 1)
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				cpu = i;
	snprintf(res, sizeof res, "%d|%s|%d|%s", n, cs, cpu, text);
	return nicely_out_write(out, res, strlen(res) + 1);
}

/* Lifespan 1: a slot's successive workers run in the slot's one group,
 * which a task's stray setsid sleep does not outlive (nothing runs there
 * when the next worker starts), whose cpuset is each worker's CPU, and
 * whose CPU time is counted per worker, not again for each reuse; nothing
 * is left after reset or pool_free. */
static void reuse_slot(const char *conf)
{
	nicely_options o;
	nicely_pool *pool;
	nicely_stats st;
	char pidfile[200], g0[256], g[256], want[32];
	const nicely_result *r;
	int64_t one_ns;
	pid_t sl;
	int nbatch, ngroups = 1;
	char groups[5][256];

	snprintf(pidfile, sizeof pidfile, "%s/stray", tdir);
	opts(&o, 1, conf);
	o.lifespan = 1;
	o.max_workers = 1;
	is_int(nicely_pool_new(&pool, &o), 0, "lifespan-1 pool, one worker");
	nicely_run(pool, t_stray, pidfile, strlen(pidfile) + 1);
	for (int i = 0; i < 4; i++)
		nicely_run(pool, t_look, NULL, 0);
	is_int(nicely_wait_all(pool), 0, "a stray-leaving task and 4 more run");
	r = nicely_result_get(pool, 0);
	cg_path(r && r->len ? r->data : "", "cpu", g0, sizeof g0);
	ok(*g0 && strstr(g0, "/task-"), "the first task ran in %s", g0);
	snprintf(groups[0], sizeof groups[0], "%s", g0);
	sl = read_pidfile(pidfile);
	ok(sl > 0 && lib_wait_gone(sl, 5),
	   "its setsid sleep (%d) was killed when its worker exited", (int)sl);
	for (int i = 1; i <= 4; i++) {
		char cs[64] = "";
		int n = -1, cpu = -2, used = 0, k;

		r = nicely_result_get(pool, i);
		if (!r || !r->len ||
		    sscanf(r->data, "%d|%63[^|]|%d|%n", &n, cs, &cpu, &used) < 3)
			used = 0;
		cg_path(used ? (const char *)r->data + used : "", "cpu", g,
			sizeof g);
		for (k = 0; k < ngroups && strcmp(groups[k], g); k++)
			;
		if (k == ngroups && ngroups < 5)
			snprintf(groups[ngroups++], sizeof groups[0], "%s", g);
		ok(*g && strstr(g, "/task-"), "task %d ran in %s", i, g);
		is_int(n, 1,
		       "task %d: its worker alone in the group (no stray)", i);
		if (cpu >= 0) {
			snprintf(want, sizeof want, "%d", cpu);
			is_str(cs, want, "task %d: cpuset.cpus is its CPU", i);
		} else {
			/* v1 cpuset: an unpinned worker stays in the fork
			 * server's (the caller's) until it is moved */
			ok(*cs && strpbrk(cs, "-,") != NULL,
			   "task %d unpinned: every allowed CPU (%s)", i, cs);
		}
	}
	/* a slot's next worker may start while the old one exits, so the
	 * pool has up to 2 x max_workers + 1 slots */
	ok(ngroups <= 3, "5 workers ran in %d group(s): each slot's reused",
	   ngroups);
	snprintf(g, sizeof g, CG "/cpu%s", g0);
	ok(access(g, F_OK) == 0, "the slot's group is kept between workers");
	nicely_pool_free(pool);
	is_int(lib_cg_count(getpid()), 0, "after pool_free no group is left");
	unlink(pidfile);

	/* CPU time: one t_mem worker, then four in the one reused group */
	opts(&o, 1, conf);
	o.lifespan = 1;
	is_int(nicely_pool_new(&pool, &o), 0, "lifespan-1 pool for figures");
	nbatch = lib_cg_count(getpid());
	nicely_run(pool, t_mem, NULL, 0);
	nicely_wait_all(pool);
	workers_gone(pool, &st);
	one_ns = st.cgroup_cpu_ns;
	for (int i = 0; i < 4; i++)
		nicely_run(pool, t_mem, NULL, 0);
	nicely_wait_all(pool);
	workers_gone(pool, &st);
	/* counted again at each reuse it would be 1+2+3+4+5 = 15 times one */
	ok(one_ns > 0 && st.cgroup_cpu_ns > 3 * one_ns &&
		   st.cgroup_cpu_ns < 8 * one_ns,
	   "5 workers' CPU time %lld ns is about 5 x one's %lld ns",
	   (long long)st.cgroup_cpu_ns, (long long)one_ns);
	ok(st.cgroup_mem_peak >= (32 << 20) && st.cgroup_mem_peak < (96 << 20),
	   "peak memory %lld: one worker's, not a sum",
	   (long long)st.cgroup_mem_peak);
	is_int(nicely_reset(pool), 0, "reset");
	is_int(lib_cg_count(getpid()), nbatch,
	       "after reset only the batch's groups are left");
	nicely_pool_free(pool);
	is_int(lib_cg_count(getpid()), 0, "after pool_free no group is left");
}

/* kill_all and a timeout reach a double-forked setsid sleep. */
static void orphans(const char *conf)
{
	nicely_options o;
	nicely_pool *pool;
	char pidfile[200];
	pid_t sl;
	const nicely_result *r;

	snprintf(pidfile, sizeof pidfile, "%s/orphan1", tdir);
	opts(&o, 1, conf);
	is_int(nicely_pool_new(&pool, &o), 0, "pool for kill_all");
	nicely_run(pool, t_orphan, pidfile, strlen(pidfile) + 1);
	for (int s = 0; s < 200 && access(pidfile, F_OK); s++)
		nicely_step(pool, 100);
	sl = read_pidfile(pidfile);
	ok(sl > 0 && !lib_pid_gone(sl) && getsid(sl) == sl,
	   "the task left a setsid sleep behind (%d)", (int)sl);
	is_int(nicely_kill_all(pool), 1, "kill_all kills one task");
	is_int(nicely_task_status(pool, 0), NICELY_KILLED, "it is KILLED");
	ok(lib_wait_gone(sl, 5), "the double-forked sleep died with it");
	nicely_pool_free(pool);
	unlink(pidfile);

	snprintf(pidfile, sizeof pidfile, "%s/orphan2", tdir);
	opts(&o, 1, conf);
	o.timeout_ms = 1500;
	is_int(nicely_pool_new(&pool, &o), 0, "pool with a timeout");
	nicely_run(pool, t_orphan, pidfile, strlen(pidfile) + 1);
	nicely_wait_all(pool);
	sl = read_pidfile(pidfile);
	r = nicely_result_get(pool, 0);
	ok(r && r->status == NICELY_TIMEOUT && strstr(r->error, "cgroup"),
	   "the task timed out: %s", r ? r->error : "no result");
	ok(sl > 0 && lib_wait_gone(sl, 5),
	   "its double-forked sleep (%d) was killed too", (int)sl);
	nicely_pool_free(pool);
	unlink(pidfile);
}

/* A pool owner that runs t_orphan with pid file pf; never returns. */
__attribute__((noreturn)) static void doomed_owner(const char *conf,
						   const char *pf)
{
	nicely_options o;
	nicely_pool *pool;

	opts(&o, 1, conf);
	o.on_log = NULL;
	if (nicely_pool_new(&pool, &o))
		_exit(2);
	nicely_run(pool, t_orphan, pf, strlen(pf) + 1);
	for (;;)
		nicely_step(pool, 1000);
}

/* Step nothing; wait up to secs for the owner's groups to be gone. */
static int groups_gone(pid_t owner, double secs)
{
	for (int i = 0; i < (int)(secs * 10) && lib_cg_count(owner); i++)
		lib_sleep_ms(100);
	return lib_cg_count(owner) == 0;
}

/* A pool whose owner is SIGKILLed: its fork server kills what the task
 * double-forked away and removes the groups. When the fork server is
 * killed too, the groups and the sleep stay: the next pool removes both. */
static void stale(const char *conf)
{
	nicely_options o;
	nicely_pool *pool;
	char pidfile[200], path[100], buf[64];
	pid_t owner, sl, fs;
	int st;

	snprintf(pidfile, sizeof pidfile, "%s/orphan3", tdir);
	if ((owner = fork()) < 0)
		tap_bail("fork");
	if (owner == 0)
		doomed_owner(conf, pidfile);
	sl = read_pidfile(pidfile);
	ok(sl > 0 && !lib_pid_gone(sl), "the doomed pool's task left a sleep (%d)",
	   (int)sl);
	ok(lib_cg_count(owner) > 0, "the pool has groups");
	kill(owner, SIGKILL);
	waitpid(owner, &st, 0);
	ok(lib_wait_gone(sl, 10),
	   "the owner was killed: its fork server killed the sleep");
	ok(groups_gone(owner, 10), "and removed the pool's groups");
	unlink(pidfile);

	if ((owner = fork()) < 0)
		tap_bail("fork");
	if (owner == 0)
		doomed_owner(conf, pidfile);
	sl = read_pidfile(pidfile);
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)owner,
		 (int)owner);
	fs = (pid_t)atol(lib_slurp(path, buf, sizeof buf));
	ok(sl > 0 && fs > 0, "a second doomed pool (fork server %d, sleep %d)",
	   (int)fs, (int)sl);
	if (fs > 0)
		kill(fs, SIGKILL);	/* first, so nobody cleans up */
	kill(owner, SIGKILL);
	waitpid(owner, &st, 0);
	lib_sleep_ms(300);
	tap_diag("after both died: sleep %s, %d groups",
		 lib_pid_gone(sl) ? "gone" : "alive", lib_cg_count(owner));
	opts(&o, 1, conf);
	is_int(nicely_pool_new(&pool, &o), 0, "the next pool");
	is_int(lib_cg_count(owner), 0, "the dead pool's groups are removed");
	ok(lib_wait_gone(sl, 5), "and the sleep it left is killed");
	nicely_pool_free(pool);
	unlink(pidfile);
}

/* No cgroup tree: required fails clearly, auto logs one line and falls
 * back; off never makes groups. */
static void fallback(const char *conf)
{
	nicely_options o;
	nicely_pool *pool;
	nicely_stats st;
	char empty[200], ag_before[200], ag_after[200], cpu[256];
	pid_t sid = getsid(0);
	const nicely_result *r;
	int n = 0;

	snprintf(empty, sizeof empty, "%s/notcg", tdir);
	mkdir(empty, 0755);
	setenv("NICELY_CGROUP_ROOT", empty, 1);
	opts(&o, 1, conf);
	o.cgroups = NICELY_CGROUPS_REQUIRED;
	nlogs = 0;
	is_int(nicely_pool_new(&pool, &o), NICELY_ECGROUP,
	       "required without a cgroup tree: NICELY_ECGROUP");
	ok(pool == NULL, "no pool");
	ok(nlogs == 1 && strstr(logs[0], "required") &&
		   strstr(logs[0], empty),
	   "the log says why: %s", nlogs ? logs[0] : "(nothing)");
	ok(strstr(nicely_strerror(NICELY_ECGROUP), "cgroups") != NULL,
	   "nicely_strerror: %s", nicely_strerror(NICELY_ECGROUP));

	lib_slurp("/proc/self/autogroup", ag_before, sizeof ag_before);
	opts(&o, 1, conf);
	nlogs = 0;
	is_int(nicely_pool_new(&pool, &o), 0, "auto without a cgroup tree works");
	nicely_run(pool, t_autogroup, &sid, sizeof sid);
	nicely_wait_all(pool);
	for (int i = 0; i < nlogs; i++)
		n += strstr(logs[i], "cgroup") != NULL;
	is_int(n, 1, "one log line says so: %s", nlogs ? logs[0] : "(none)");
	ok(nlogs && strstr(logs[0], "nice"), "it names the fallback");
	nicely_stats_get(pool, &st);
	ok(st.cgroups == 0 && st.cgroup_cpu_ns == -1,
	   "stats: no cgroups, no cgroup figures");
	r = nicely_result_get(pool, 0);
	if (access("/proc/self/autogroup", F_OK) == 0) {
		ok(r && r->len && strstr(r->data, " nice 19|sid-own"),
		   "workers: own session, autogroup nice 19 (%s)",
		   r && r->len ? (const char *)r->data : "nothing");
		lib_slurp("/proc/self/autogroup", ag_after, sizeof ag_after);
		is_str(ag_after, ag_before, "the caller's autogroup is untouched");
	} else {
		tap_diag("no autogroup in this kernel");
	}
	nicely_pool_free(pool);
	unsetenv("NICELY_CGROUP_ROOT");
	rmdir(empty);

	opts(&o, 1, conf);
	o.cgroups = NICELY_CGROUPS_OFF;
	nlogs = 0;
	is_int(nicely_pool_new(&pool, &o), 0, "cgroups off");
	nicely_run(pool, t_ok, NULL, 0);
	nicely_wait_all(pool);
	nicely_stats_get(pool, &st);
	ok(st.cgroups == 0 && lib_cg_count(getpid()) == 0,
	   "no group is made");
	is_int(nlogs, 0, "and nothing is logged");
	nicely_pool_free(pool);
	(void)cpu;

	opts(&o, 1, conf);
	o.cgroups = 7;
	is_int(nicely_pool_new(&pool, &o), NICELY_EINVAL,
	       "an unknown cgroups mode is NICELY_EINVAL");
}

int main(void)
{
	char conf[200];

	lib_env_setup();
	if (!lib_cg_usable())
		tap_skip_all("needs root and the v1 cpu and freezer controllers");
	unsetenv("NICELY_CGROUP_ROOT");
	unsetenv("NICELY_CGROUP_TRACE");
	snprintf(tdir, sizeof tdir, "%s", lib_tmpdir);
	snprintf(mark, sizeof mark, "NICELY_LIB_CGROUP_MARK=%s", tdir);
	putenv(mark);
	snprintf(conf, sizeof conf, "%s/cg.conf", tdir);
	lib_put(conf, "[preset cgtest]\nbase = nuclear\ncpu_weight = idle\n"
		  "memory_max = 96M\n");
	in_groups(conf);
	stats_reset(conf);
	orphans(conf);
	reuse_slot(conf);
	stale(conf);
	fallback(conf);
	is_int(marked(), 0, "no process started by the pools is left");
	unlink(conf);
	return tap_done();
}
