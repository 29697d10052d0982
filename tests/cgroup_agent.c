/* nicely-agent's groups (sched/cgroup_agent.h) on a fake v2 tree and a
 * fake v1 tree (temporary directories of plain files): the files written
 * and in which order (the module's trace), owners and modes of the user
 * and batch groups and of the delegated files, user limits written and
 * lifted, the base's class following its batches up and down, place,
 * owned_by, usage, scan, kill keeping the owner, remove; and the client's
 * delegated open (opts.group) on the agent's batch: task groups inside,
 * close removes only them, a missing group is a clear error. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched/cgroup.h"
#include "sched/cgroup_agent.h"
#include "tests/tap.h"

/* Paths here are short temporary names; GCC cannot know that. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

static char tdir[64] = "/tmp/nicely-cga-XXXXXX", root[300], trace[300];
static uid_t uid;
static gid_t gid;

/* Write s to root/rel (creating it). */
static void put(const char *rel, const char *s)
{
	char p[700];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	if (!f)
		tap_bail("cannot write the fake tree");
	fputs(s, f);
	fclose(f);
}

/* root/rel's text, trailing newline dropped; "" when missing. */
static const char *get(const char *rel)
{
	static char buf[4096];
	char p[700];
	size_t n = 0;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	buf[0] = 0;
	if (!(f = fopen(p, "r")))
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	return buf;
}

/* 1 if root/rel exists. */
static int there(const char *rel)
{
	char p[700];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return stat(p, &st) == 0;
}

/* 1 when root/rel is owned by u:g (and has mode when mode != 0). */
static int owned(const char *rel, uid_t u, gid_t g, unsigned mode)
{
	char p[700];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (stat(p, &st) < 0)
		return 0;
	if (st.st_uid != u || st.st_gid != g)
		return 0;
	return !mode || (st.st_mode & 07777) == mode;
}

/* The trace so far, then empty it. */
static const char *take_trace(void)
{
	static char buf[16384];
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

/* A fresh, empty root directory. */
static void clear_root(const char *name)
{
	char cmd[700];

	snprintf(root, sizeof(root), "%s/%s", tdir, name);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0 || mkdir(root, 0755) < 0)
		tap_bail("cannot make the fake root");
}

/* A fake v2 root as systemd leaves it: cpu memory pids enabled below the
 * root (no cpuset), cpu.idle there. */
static void make_v2(void)
{
	static const char *files[] = {
		"cgroup.procs", "cgroup.threads", "cgroup.kill",
		"cgroup.freeze", "cgroup.events", "cpu.weight", "cpu.idle",
		"cpu.max", "cpu.stat", "cpuset.cpus", "cpuset.mems",
		"memory.max", "memory.swap.max",
	};
	size_t i;

	clear_root("v2");
	put("cgroup.controllers", "cpuset cpu io memory pids\n");
	put("cgroup.subtree_control", "cpu memory pids\n");
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		put(files[i], "");
	take_trace();
}

/* A fake v1 root: cpu, cpuacct, cpuset (cpus 0-1, mems 0), memory and
 * freezer hierarchies of their own. */
static void make_v1(void)
{
	static const char *files[][2] = {
		{ "cpu", "cpu.shares" }, { "cpu", "cpu.idle" },
		{ "cpu", "cpu.cfs_quota_us" }, { "cpu", "cpu.cfs_period_us" },
		{ "cpuacct", "cpuacct.usage" },
		{ "memory", "memory.limit_in_bytes" },
		{ "memory", "memory.memsw.limit_in_bytes" },
		{ "freezer", "freezer.state" },
	};
	static const char *h[] = { "cpu", "cpuacct", "cpuset", "memory",
				   "freezer" };
	char p[700];
	size_t i;

	clear_root("v1");
	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, h[i]);
		if (mkdir(p, 0755) < 0)
			tap_bail("mkdir");
		snprintf(p, sizeof(p), "%s/cgroup.procs", h[i]);
		put(p, "");
		snprintf(p, sizeof(p), "%s/tasks", h[i]);
		put(p, "");
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", files[i][0], files[i][1]);
		put(p, "");
	}
	put("cpuset/cpuset.cpus", "0-1\n");
	put("cpuset/cpuset.mems", "0\n");
	take_trace();
}

/* 1 when pid is dead (a zombie or gone). */
static int zombie(pid_t pid)
{
	char p[64], buf[512], *q;
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "/proc/%ld/stat", (long)pid);
	if (!(f = fopen(p, "r")))
		return 1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	q = strrchr(buf, ')');
	return !q || q[1] != ' ' || q[2] == 'Z' || q[2] == 'X';
}

/* Scan callback: records what it saw as "uid:batch:pid;" lines. */
static int scan_fn(void *ctx, uid_t u, const char *batch, pid_t pid)
{
	char *out = ctx;

	snprintf(out + strlen(out), 512 - strlen(out), "%u:%s:%ld;",
		 (unsigned)u, batch, (long)pid);
	return 0;
}

/* Stops the walk at the first batch. */
static int scan_stop(void *ctx, uid_t u, const char *batch, pid_t pid)
{
	(void)ctx;
	(void)u;
	(void)batch;
	(void)pid;
	return 1;
}

/* Open the agent's tree at root with base. */
static struct cga *open_agent(const char *base)
{
	struct cga_opts o = { root, base, trace };
	struct cga *a = NULL;
	char err[512] = "";
	int r = cga_open(&a, &o, err, sizeof(err));

	if (r < 0)
		tap_diag("cga_open: %s", err);
	return a;
}

/* The v2 agent: base, user limits, batch, delegation, class, scan,
 * place, usage, kill, remove. */
static void v2_agent(void)
{
	struct cga_user_limits lim = { 2, NULL, 1ull << 30 };
	struct cga *a;
	char err[512] = "", seen[512] = "", path[700];
	const char *tr;
	uint64_t ns = 0;
	int r;
	pid_t child;

	make_v2();
	a = open_agent(NULL);
	ok(a != NULL, "v2: cga_open");
	if (!a)
		return;
	is_int(cga_mode(a), SCHED_CGROUP_V2, "v2: mode");
	is_str(cga_base(a), "nicely", "v2: base defaults to nicely");
	is_str(cga_root(a), root, "v2: root");
	is_str(take_trace(), "mkdir nicely\n"
	       "write nicely/cgroup.subtree_control +cpu +memory +pids\n",
	       "v2: open makes the base and enables cpu memory pids in it");

	r = cga_user_ensure(a, 4242, &lim, err, sizeof(err));
	is_int(r, 0, "v2: user group made (%s)", err);
	tr = take_trace();
	is_str(tr, "mkdir nicely/user-4242\n"
	       "chmod nicely/user-4242 0711\n"
	       "write nicely/user-4242/cgroup.subtree_control +cpu +memory +pids\n"
	       "write nicely/user-4242/cpu.max 200000 100000\n"
	       "write nicely/user-4242/memory.max 1073741824\n"
	       "write nicely/user-4242/memory.swap.max 0\n",
	       "v2: user group: 0711, controllers, max_pus as cpu.max, memory");
	ok(owned("nicely/user-4242", getuid(), getgid(), 0711),
	   "v2: user group is root's (ours), mode 0711");
	r = cga_user_ensure(a, 4242, NULL, err, sizeof(err));
	is_int(r, 0, "v2: user limits lifted (%s)", err);
	is_str(get("nicely/user-4242/cpu.max"), "max 100000",
	       "v2: no max_pus: cpu.max max");
	is_str(get("nicely/user-4242/memory.max"), "max",
	       "v2: no memory limit: memory.max max");
	put("nicely/user-4242/cpu.weight", "6\n");
	cga_user_ensure(a, 4242, &lim, err, sizeof(err));
	is_str(get("nicely/user-4242/cpu.weight"), "100",
	       "v2: a user group's weight is put back to NORMAL");
	take_trace();

	r = cga_batch_make(a, 4243, 4243, "bob-1-1", POLICY_WEIGHT_IDLE, 0,
			   NULL, err, sizeof(err));
	ok(r == -ENOENT && strstr(err, "user-4243"),
	   "v2: batch without its user group: -ENOENT naming it (%s)", err);
	r = cga_batch_make(a, 4242, 4242, "../x", POLICY_WEIGHT_IDLE, 0, NULL,
			   err, sizeof(err));
	is_int(r, -EINVAL, "v2: a batch name with a slash is refused");

	r = cga_batch_make(a, 4242, 4343, "alice-123-1", POLICY_WEIGHT_IDLE,
			   64ull << 20, NULL, err, sizeof(err));
	is_int(r, 0, "v2: batch made (%s)", err);
	tr = take_trace();
	ok(strstr(tr, "mkdir nicely/user-4242/alice-123-1\n"
		      "write nicely/user-4242/alice-123-1/cgroup.subtree_control"
		      " +cpu +memory +pids\n"
		      "write nicely/user-4242/alice-123-1/cpu.weight 1\n"
		      "write nicely/user-4242/alice-123-1/cpu.idle 1\n"
		      "write nicely/user-4242/alice-123-1/memory.max 67108864\n"
		      "write nicely/user-4242/alice-123-1/memory.swap.max 0\n"
		      "mkdir nicely/user-4242/alice-123-1/owner\n") != NULL,
	   "v2: batch: controllers, IDLE class and memory written by root, "
	   "then the owner leaf");
	ok(strstr(tr, "chown nicely/user-4242/alice-123-1 4242:4343\n"
		      "chmod nicely/user-4242/alice-123-1 0700\n"
		      "chown nicely/user-4242/alice-123-1/cgroup.procs 4242:4343\n"
		      "chown nicely/user-4242/alice-123-1/cgroup.threads 4242:4343\n"
		      "chown nicely/user-4242/alice-123-1/cgroup.subtree_control "
		      "4242:4343\n"
		      "chown nicely/user-4242/alice-123-1/owner 4242:4343\n") != NULL,
	   "v2: batch delegated: dir 0700, cgroup.procs, cgroup.threads, "
	   "cgroup.subtree_control, then the owner leaf");
	ok(strstr(tr, "write nicely/cpu.weight 1\nwrite nicely/cpu.idle 1\n") !=
		   NULL,
	   "v2: the base takes the IDLE class of its only batch");
	{
		ok(owned("nicely/user-4242/alice-123-1", 4242, 4343, 0700) &&
			   owned("nicely/user-4242/alice-123-1/cgroup.procs",
				 4242, 4343, 0) &&
			   owned("nicely/user-4242/alice-123-1/cgroup.threads",
				 4242, 4343, 0) &&
			   owned("nicely/user-4242/alice-123-1/cgroup.subtree_control",
				 4242, 4343, 0) &&
			   owned("nicely/user-4242/alice-123-1/owner", 4242,
				 4343, 0700) &&
			   owned("nicely/user-4242/alice-123-1/owner/cgroup.procs",
				 4242, 4343, 0),
		   "v2: the delegated files are the user's (stat)");
		ok(owned("nicely/user-4242/alice-123-1/cpu.weight", 0, 0, 0) &&
			   owned("nicely/user-4242/alice-123-1/memory.max", 0, 0,
				 0) &&
			   owned("nicely/user-4242/cpu.max", 0, 0, 0),
		   "v2: the batch's class and limit and the user's quota stay "
		   "root's (stat)");
	}
	r = cga_batch_make(a, 4242, 4343, "alice-123-1", POLICY_WEIGHT_IDLE, 0,
			   NULL, err, sizeof(err));
	ok(r == -EEXIST && there("nicely/user-4242/alice-123-1/owner"),
	   "v2: the same batch again: -EEXIST, the first one intact");

	r = cga_batch_make(a, 4242, 4343, "alice-124-1", POLICY_WEIGHT_LOW, 0,
			   "1", err, sizeof(err));
	is_int(r, 0, "v2: second batch, LOW, cpus 1 (%s)", err);
	is_str(get("nicely/user-4242/alice-124-1/cpuset.cpus"), "",
	       "v2: no cpuset controller enabled here: cpus not written");
	is_str(get("nicely/cpu.weight"), "6", "v2: base raised to LOW");
	is_str(get("nicely/cpu.idle"), "0", "v2: base no longer idle");
	take_trace();

	snprintf(path, sizeof(path), "%s/nicely/user-4242/junk", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/nicely/other-1-1", root);
	mkdir(path, 0755);
	r = cga_scan(a, scan_fn, seen, err, sizeof(err));
	is_int(r, 2, "v2: scan sees the two batches");
	ok(strstr(seen, "4242:alice-123-1:123;") &&
		   strstr(seen, "4242:alice-124-1:124;"),
	   "v2: scan gives uid, batch and owner pid (%s)", seen);
	is_int(cga_scan(a, scan_stop, NULL, err, sizeof(err)), 1,
	       "v2: scan stops when fn says so");
	rmdir(path);
	snprintf(path, sizeof(path), "%s/nicely/user-4242/junk", root);
	rmdir(path);

	r = cga_batch_place(a, 4242, "alice-123-1", getpid(), err, sizeof(err));
	is_int(r, 0, "v2: owner placed (%s)", err);
	ok(cga_batch_owned_by(a, 4242, "alice-123-1", getpid()),
	   "v2: owned_by the placed pid");
	ok(!cga_batch_owned_by(a, 4242, "alice-123-1", 1) &&
		   !cga_batch_owned_by(a, 4242, "alice-124-1", getpid()),
	   "v2: not owned_by another pid, nor of another batch");

	put("nicely/user-4242/alice-123-1/cpu.stat", "usage_usec 1500\n");
	r = cga_usage(a, 4242, "alice-123-1", &ns);
	ok(r == 0 && ns == 1500000, "v2: usage of a batch from cpu.stat");
	put("nicely/cpu.stat", "usage_usec 7\nuser_usec 5\n");
	r = cga_usage(a, (uid_t)-1, NULL, &ns);
	ok(r == 0 && ns == 7000, "v2: usage of the whole base");
	cga_base_cpu_path(a, path, sizeof(path));
	ok(!strcmp(path + strlen(root), "/nicely"), "v2: base cpu path %s",
	   path);

	/* a task group with a live process beside the owner: killed, the
	 * owner (this process) kept; no cgroup.kill in a fake task group */
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	snprintf(path, sizeof(path), "%s/nicely/user-4242/alice-123-1/task-1",
		 root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%ld\n", (long)child);
	put("nicely/user-4242/alice-123-1/task-1/cgroup.procs", path);
	/* the fake kernel: the process leaves the list once dead */
	if (fork() == 0) {
		int i;

		for (i = 0; i < 3000 && !zombie(child); i++)
			usleep(1000);
		put("nicely/user-4242/alice-123-1/task-1/cgroup.procs", "");
		_exit(0);
	}
	r = cga_batch_kill(a, 4242, "alice-123-1", 1, err, sizeof(err));
	ok(r == 1, "v2: kill keeping the owner signals the task's process "
	   "(%d %s)", r, err);
	{
		int st = 0;

		ok(waitpid(child, &st, 0) == child && WIFSIGNALED(st) &&
			   WTERMSIG(st) == SIGKILL,
		   "v2: the task's process died of SIGKILL");
	}
	while (wait(NULL) > 0)
		;
	ok(cga_batch_owned_by(a, 4242, "alice-123-1", getpid()),
	   "v2: the owner was kept");

	r = cga_batch_remove(a, 4242, "alice-124-1", err, sizeof(err));
	is_int(r, 0, "v2: LOW batch removed (%s)", err);
	ok(!there("nicely/user-4242/alice-124-1"), "v2: its group is gone");
	is_str(get("nicely/cpu.idle"), "1",
	       "v2: the base goes back to IDLE with the LOW batch gone");
	cga_user_remove_if_empty(a, 4242);
	ok(there("nicely/user-4242"), "v2: user group kept while a batch is "
	   "left");
	put("nicely/user-4242/alice-123-1/owner/cgroup.procs", "");
	r = cga_batch_remove(a, 4242, "alice-123-1", err, sizeof(err));
	is_int(r, 0, "v2: last batch removed (%s)", err);
	tr = take_trace();
	ok(strstr(tr, "rmdir nicely/user-4242/alice-123-1/task-1\n") &&
		   strstr(tr, "rmdir nicely/user-4242/alice-123-1/owner\n") &&
		   strstr(tr, "rmdir nicely/user-4242/alice-123-1\n"),
	   "v2: remove takes task groups and the owner leaf first");
	cga_user_remove_if_empty(a, 4242);
	ok(!there("nicely/user-4242") && there("nicely"),
	   "v2: empty user group removed, the base stays");
	cga_close(a);
}

/* The client's side on the agent's v2 batch: sched_cgroup_batch_open
 * with opts.group. */
static void v2_delegated(void)
{
	struct cga_user_limits lim = { 0, NULL, 0 };
	struct sched_cgroup_options o = SCHED_CGROUP_OPTIONS_INIT;
	struct sched_cgroup_limits tl = { NULL, 0 };
	struct sched_cgroup_task t;
	struct sched_cgroup *b = NULL;
	char err[512] = "", buf[700];
	const char *tr;
	struct cga *a;
	int r;

	make_v2();
	a = open_agent(NULL);
	if (!a || cga_user_ensure(a, uid, &lim, err, sizeof(err)) ||
	    cga_batch_make(a, uid, gid, "me-77-1", POLICY_WEIGHT_LOW, 0, NULL,
			   err, sizeof(err))) {
		ok(0, "delegated: agent's batch made (%s)", err);
		cga_close(a);
		return;
	}
	take_trace();
	o.root = root;
	o.trace_path = trace;
	o.weight = POLICY_WEIGHT_IDLE;
	o.group = "nicely/user-9/none-1-1";
	r = sched_cgroup_batch_open(&b, &o, err, sizeof(err));
	ok(r == -ENOENT && b == NULL && strstr(err, "none-1-1") &&
		   strstr(err, "nicely-agent"),
	   "delegated: a missing group: -ENOENT naming it (%s)", err);
	o.group = "nicely/../etc";
	r = sched_cgroup_batch_open(&b, &o, err, sizeof(err));
	is_int(r, -EINVAL, "delegated: a group with .. is refused");

	snprintf(buf, sizeof(buf), "nicely/user-%u/me-77-1", (unsigned)uid);
	o.group = buf;
	r = sched_cgroup_batch_open(&b, &o, err, sizeof(err));
	is_int(r, 0, "delegated: open adopts the agent's group (%s)", err);
	if (r < 0) {
		cga_close(a);
		return;
	}
	is_str(sched_cgroup_batch_name(b), "me-77-1",
	       "delegated: the batch's name is the group's last part");
	is_str(take_trace(), "", "delegated: open writes nothing");
	r = sched_cgroup_task_create(b, 1, &tl, &t, err, sizeof(err));
	is_int(r, 0, "delegated: a task group made (%s)", err);
	tr = take_trace();
	ok(strstr(tr, "mkdir nicely/user-") && strstr(tr, "/me-77-1/task-1\n") &&
		   strstr(tr, "/me-77-1/task-1/cpu.weight 1\n"),
	   "delegated: the task group is made inside, with the preset's class "
	   "");
	is_int(sched_cgroup_batch_kill(b, err, sizeof(err)), 0,
	       "delegated: batch kill with nothing running");
	if (r == 0)
		sched_cgroup_task_remove(&t, NULL, 0);
	take_trace();
	r = sched_cgroup_task_create(b, 2, &tl, &t, err, sizeof(err));
	ok(r == 0, "delegated: another task group (%s)", err);
	take_trace();
	r = sched_cgroup_batch_freeze(b, 1, err, sizeof(err));
	tr = take_trace();
	ok(r == 0 && strstr(tr, "/me-77-1/task-2/cgroup.freeze 1\n") &&
		   !strstr(tr, "/owner/") && !strstr(tr, "me-77-1/cgroup.freeze"),
	   "delegated: batch freeze freezes the task groups, not the owner "
	   "nor the batch group");
	sched_cgroup_batch_freeze(b, 0, err, sizeof(err));
	take_trace();
	r = sched_cgroup_batch_close(b, err, sizeof(err));
	is_int(r, 0, "delegated: close (%s)", err);
	tr = take_trace();
	snprintf(buf, sizeof(buf), "nicely/user-%u/me-77-1/owner",
		 (unsigned)uid);
	ok(strstr(tr, "rmdir nicely/user-") &&
		   strstr(tr, "/me-77-1/task-2\n") && there(buf) &&
		   !strstr(tr, "/owner\n") && !strstr(tr, "/me-77-1\n") &&
		   !strstr(tr, "cpu.weight"),
	   "delegated: close removes only the task groups");
	r = cga_batch_remove(a, uid, "me-77-1", err, sizeof(err));
	is_int(r, 0, "delegated: the agent removes the batch (%s)", err);
	cga_user_remove_if_empty(a, uid);
	cga_close(a);
}

/* The v1 agent: every hierarchy, cpuset, quota, memsw, tasks files. */
static void v1_agent(void)
{
	struct cga_user_limits lim = { 1, "1", 512ull << 20 };
	struct cga *a;
	char err[512] = "", seen[512] = "";
	const char *tr;
	uint64_t ns = 0;
	int r;

	make_v1();
	a = open_agent(NULL);
	ok(a != NULL, "v1: cga_open");
	if (!a)
		return;
	is_int(cga_mode(a), SCHED_CGROUP_V1, "v1: mode");
	tr = take_trace();
	ok(strstr(tr, "mkdir cpu/nicely\n") && strstr(tr, "mkdir freezer/nicely\n") &&
		   strstr(tr, "write cpuset/nicely/cpuset.cpus 0-1\n") &&
		   strstr(tr, "write cpuset/nicely/cpuset.mems 0\n"),
	   "v1: the base in every hierarchy, cpuset from the root");
	r = cga_user_ensure(a, 4242, &lim, err, sizeof(err));
	is_int(r, 0, "v1: user group (%s)", err);
	tr = take_trace();
	ok(strstr(tr, "write cpu/nicely/user-4242/cpu.cfs_period_us 100000\n"
		      "write cpu/nicely/user-4242/cpu.cfs_quota_us 100000\n") &&
		   strstr(tr, "write cpuset/nicely/user-4242/cpuset.cpus 1\n") &&
		   strstr(tr, "write memory/nicely/user-4242/memory.memsw."
			      "limit_in_bytes -1\n"
			      "write memory/nicely/user-4242/memory.limit_in_bytes "
			      "536870912\n"
			      "write memory/nicely/user-4242/memory.memsw."
			      "limit_in_bytes 536870912\n") &&
		   strstr(tr, "chmod cpu/nicely/user-4242 0711\n"),
	   "v1: user group: 0711, quota, cpus, memory with memsw lifted first");
	r = cga_batch_make(a, 4242, 4343, "alice-5-2", POLICY_WEIGHT_IDLE, 0,
			   NULL, err, sizeof(err));
	is_int(r, 0, "v1: batch (%s)", err);
	tr = take_trace();
	ok(strstr(tr, "write cpuset/nicely/user-4242/alice-5-2/cpuset.cpus 1\n"
		      "write cpuset/nicely/user-4242/alice-5-2/cpuset.mems 0\n") &&
		   strstr(tr, "write cpuset/nicely/user-4242/alice-5-2/owner/"
			      "cpuset.cpus 1\n"),
	   "v1: batch and owner cpuset from the user's before anything joins");
	ok(strstr(tr, "write cpu/nicely/user-4242/alice-5-2/cpu.shares 2\n"
		      "write cpu/nicely/user-4242/alice-5-2/cpu.idle 1\n") != NULL,
	   "v1: batch class IDLE");
	ok(strstr(tr, "chown cpu/nicely/user-4242/alice-5-2/cgroup.procs "
		      "4242:4343\nchown cpu/nicely/user-4242/alice-5-2/tasks "
		      "4242:4343\n") &&
		   strstr(tr, "chown freezer/nicely/user-4242/alice-5-2/owner/tasks"
			      " 4242:4343\n") &&
		   !strstr(tr, "cgroup.subtree_control"),
	   "v1: cgroup.procs and tasks delegated in every hierarchy");
	ok(owned("memory/nicely/user-4242/alice-5-2", 4242, 4343, 0700) &&
		   owned("memory/nicely/user-4242/alice-5-2/tasks", 4242, 4343,
			 0) &&
		   owned("cpu/nicely/user-4242/alice-5-2/cpu.shares", 0, 0, 0),
	   "v1: owners as said (stat)");
	is_str(get("cpu/nicely/cpu.idle"), "1", "v1: base IDLE");
	r = cga_batch_place(a, 4242, "alice-5-2", getpid(), err, sizeof(err));
	is_int(r, 0, "v1: placed (%s)", err);
	ok(cga_batch_owned_by(a, 4242, "alice-5-2", getpid()),
	   "v1: owned_by through the freezer hierarchy");
	snprintf(seen, sizeof(seen), "%ld", (long)getpid());
	is_str(get("cpuset/nicely/user-4242/alice-5-2/owner/cgroup.procs"), seen,
	       "v1: the pid written in the cpuset hierarchy too");
	put("cpuacct/nicely/user-4242/cpuacct.usage", "777\n");
	ok(cga_usage(a, 4242, NULL, &ns) == 0 && ns == 777,
	   "v1: user usage from cpuacct.usage");
	seen[0] = 0;
	is_int(cga_scan(a, scan_fn, seen, err, sizeof(err)), 1, "v1: scan");
	put("freezer/nicely/user-4242/alice-5-2/owner/cgroup.procs", "");
	put("cpu/nicely/user-4242/alice-5-2/owner/cgroup.procs", "");
	put("cpuset/nicely/user-4242/alice-5-2/owner/cgroup.procs", "");
	put("memory/nicely/user-4242/alice-5-2/owner/cgroup.procs", "");
	put("cpuacct/nicely/user-4242/alice-5-2/owner/cgroup.procs", "");
	r = cga_batch_remove(a, 4242, "alice-5-2", err, sizeof(err));
	is_int(r, 0, "v1: removed (%s)", err);
	cga_user_remove_if_empty(a, 4242);
	ok(!there("cpu/nicely/user-4242") && !there("cpuset/nicely/user-4242"),
	   "v1: user group gone in every hierarchy");
	/* a user group that cannot be made in every hierarchy is not left
	 * half made in the others: a file where the freezer's group goes */
	put("freezer/nicely/user-4250", "");
	r = cga_user_ensure(a, 4250, &lim, err, sizeof(err));
	ok(r < 0 && strstr(err, "user-4250"),
	   "v1: a user group that cannot be made: an error naming it (%s)",
	   err);
	ok(!there("cpu/nicely/user-4250") && !there("cpuset/nicely/user-4250") &&
		   !there("memory/nicely/user-4250") &&
		   !there("cpuacct/nicely/user-4250"),
	   "v1: ... and no half-made user group is left in the other "
	   "hierarchies");
	cga_close(a);
}

/* A base below a group standing in for the root (the systemd-like
 * layout's R/nicely beside R/user.slice): works when R is there, is an
 * error (nothing made) when it is not; a bad base is refused. */
static void nested_base(void)
{
	struct cga_opts o = { NULL, "R/nicely", NULL };
	struct cga *a = NULL;
	char err[512] = "", p[700];
	int r;

	make_v2();
	o.root = root;
	r = cga_open(&a, &o, err, sizeof(err));
	ok(r < 0 && a == NULL && !there("R"),
	   "nested: R missing: open fails (%s)", err);
	snprintf(p, sizeof(p), "%s/R", root);
	mkdir(p, 0755);
	put("R/cgroup.controllers", "cpu memory pids\n");
	put("R/cgroup.subtree_control", "cpu memory pids\n");
	put("R/cgroup.procs", "");
	put("R/cpu.weight", "");
	put("R/cpu.idle", "");
	r = cga_open(&a, &o, err, sizeof(err));
	is_int(r, 0, "nested: R/nicely opened (%s)", err);
	if (r == 0) {
		r = cga_user_ensure(a, 5, NULL, err, sizeof(err));
		ok(r == 0 && there("R/nicely/user-5"),
		   "nested: user group under R/nicely");
		is_str(get("R/nicely/cgroup.controllers"), "cpu memory pids",
		       "nested: the base offered what R enables");
		cga_user_remove_if_empty(a, 5);
		cga_close(a);
	}
	o.base = "R/../x";
	is_int(cga_open(&a, &o, err, sizeof(err)), -EINVAL,
	       "nested: a base with .. is refused");
	o.base = "/abs";
	is_int(cga_open(&a, &o, err, sizeof(err)), -EINVAL,
	       "nested: an absolute base is refused");
}

int main(void)
{
	char cmd[200];

	uid = getuid();
	gid = getgid();
	/* the agent is root's: it gives groups to other users */
	if (uid != 0)
		tap_skip_all("needs root to chown the fake tree's files");
	unsetenv("NICELY_CGROUP_ROOT");
	unsetenv("NICELY_CGROUP_TRACE");
	if (!mkdtemp(tdir))
		tap_bail("mkdtemp");
	snprintf(trace, sizeof(trace), "%s/trace", tdir);
	v2_agent();
	v2_delegated();
	v1_agent();
	nested_base();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tdir);
	return tap_done();
}
