/* sched/cgroup_ctl: the controller files of the cgroup module's groups,
 * as each kind of tree names them: weight class (cpu.shares / cpu.weight,
 * cpu.idle), cpuset, controllers enabled on v2, memory limit, and a task
 * group's figures (CPU time, peak memory, OOM kills) and their resets.
 * Part of the shim, with cgroup_fs.c; called by cgroup_batch.c and
 * cgroup_task.c from the loop. */
#include "sched/cgroup_ctl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "agent/errmsg.h"
#include "sched/cgroup_batch_int.h"

/* Every path built here is checked for truncation by snprintf's return
 * value; GCC cannot see that through the helpers. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* A reused task group holding less than this (kernel objects of the
 * processes before) is not worth a reclaim: the next peak is off by less. */
#define CG_DRAIN_MIN (1ll << 20)

/* 1 if the word w is in the space-separated list s. */
static int cg_has_word(const char *s, const char *w)
{
	size_t wl = strlen(w);

	while (*s) {
		while (*s == ' ' || *s == '\n')
			s++;
		if (!strncmp(s, w, wl) &&
		    (s[wl] == 0 || s[wl] == ' ' || s[wl] == '\n'))
			return 1;
		while (*s && *s != ' ' && *s != '\n')
			s++;
	}
	return 0;
}

/* The class a group has now, read from its cpu files. */
enum policy_weight cg_class_of(const struct cg_hier *h, const char *rel)
{
	char buf[64];
	long v;

	if (cg_read(h, rel, "cpu.idle", buf, sizeof(buf)) > 0 && atol(buf) == 1)
		return POLICY_WEIGHT_IDLE;
	if (cg_read(h, rel, h->v2 ? "cpu.weight" : "cpu.shares", buf,
		    sizeof(buf)) <= 0)
		return POLICY_WEIGHT_NORMAL;
	v = atol(buf);
	if (v > 0 && v <= (h->v2 ? 1 : 3))	/* idle groups read 3 */
		return POLICY_WEIGHT_IDLE;
	if (v > 0 && v <= (h->v2 ? 6 : 64))
		return POLICY_WEIGHT_LOW;
	return POLICY_WEIGHT_NORMAL;
}

/* Write weight class w to group rel. fresh: the group was just made and
 * has the kernel defaults, so NORMAL writes nothing. Idle is cleared
 * before shares/weight are written and set after them (the kernel refuses
 * shares on an idle group). */
int cg_set_class(const struct cg_tree *t, const struct cg_hier *h,
		 const char *rel, enum policy_weight w, int has_idle,
		 int fresh, char *err, size_t errlen)
{
	const char *file = h->v2 ? "cpu.weight" : "cpu.shares";
	const char *val;
	int r;

	if (w == POLICY_WEIGHT_NORMAL && fresh)
		return 0;
	if (!fresh && has_idle && w != POLICY_WEIGHT_IDLE) {
		r = cg_write(t, h, rel, "cpu.idle", "0", err, errlen);
		if (r < 0)
			return r;
	}
	if (w == POLICY_WEIGHT_IDLE)
		val = h->v2 ? "1" : "2";
	else if (w == POLICY_WEIGHT_LOW)
		val = h->v2 ? "6" : "64";
	else
		val = h->v2 ? "100" : "1024";
	r = cg_write(t, h, rel, file, val, err, errlen);
	if (r < 0 || w != POLICY_WEIGHT_IDLE || !has_idle)
		return r;
	return cg_write(t, h, rel, "cpu.idle", "1", err, errlen);
}

/* Weight class rank: higher is more demanding. */
int cg_rank(enum policy_weight w)
{
	return w == POLICY_WEIGHT_NORMAL ? 2 : w == POLICY_WEIGHT_LOW ? 1 : 0;
}

/* "user-<digits>": a user's group of nicely-agent under the base. */
static int cg_is_user_group(const char *name)
{
	const char *p = name + 5;

	if (strncmp(name, "user-", 5) || !*p)
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	return !*p;
}

/* The highest rank among the batch groups in directory rel of h (with
 * users: descend one level into the agent's user groups); -1 if none. */
static int cg_live_rank(const struct cg_hier *h, const char *rel, int users)
{
	char path[PATH_MAX], sub[PATH_MAX];
	struct dirent *de;
	int best = -1, r;
	DIR *d;

	if (cg_path(path, sizeof(path), h, rel, NULL) < 0 ||
	    !(d = opendir(path)))
		return -1;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name) >=
		    (int)sizeof(sub))
			continue;
		if (users && cg_is_user_group(de->d_name))
			r = cg_live_rank(h, sub, 0);
		else
			r = cg_rank(cg_class_of(h, sub));
		if (r > best)
			best = r;
	}
	closedir(d);
	return best;
}

/* Set base's class to the most demanding of its live batches (plus
 * extra, a rank, when >= 0), under an flock on the base directory. */
void cg_base_reclass(const struct cg_tree *t, const char *base, int has_idle,
		     int extra)
{
	const struct cg_hier *h = cg_find(t, CG_CPU);
	char path[PATH_MAX];
	enum policy_weight w, cur;
	int best, fd, r;

	if (!h || cg_path(path, sizeof(path), h, base, NULL) < 0)
		return;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	flock(fd, LOCK_EX);
	best = extra;
	r = cg_live_rank(h, base, 1);
	if (r > best)
		best = r;
	if (best >= 0) {
		w = best == 2 ? POLICY_WEIGHT_NORMAL
		  : best == 1 ? POLICY_WEIGHT_LOW : POLICY_WEIGHT_IDLE;
		cur = cg_class_of(h, base);
		if (cur != w)
			cg_set_class(t, h, base, w, has_idle, 0, NULL, 0);
	}
	flock(fd, LOCK_UN);
	close(fd);
}

/* v1 cpuset: a group needs cpus and mems before it may hold tasks; copy
 * whichever is empty from the parent. */
static int cg_cpuset_inherit(const struct cg_tree *t, const struct cg_hier *h,
			     const char *rel, const char *parent_rel,
			     int skip_cpus, char *err, size_t errlen)
{
	static const char *files[] = { "cpuset.cpus", "cpuset.mems" };
	char buf[1024];
	ssize_t n;
	size_t i;
	int r;

	for (i = skip_cpus ? 1 : 0; i < 2; i++) {
		n = cg_read(h, rel, files[i], buf, sizeof(buf));
		if (n > 0 && buf[0] != '\n')
			continue;
		n = cg_read(h, parent_rel, files[i], buf, sizeof(buf));
		if (n < 0) {
			errmsg_set(err, errlen, "cannot read %s/%s/%s: %s", h->path,
				   parent_rel, files[i], strerror((int)-n));
			return (int)n;
		}
		while (n > 0 && buf[n - 1] == '\n')
			buf[--n] = 0;
		if (!n)
			continue;
		r = cg_write(t, h, rel, files[i], buf, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Bits in one word of a cpu_set_t. */
#define CG_WORD ((int)(8 * sizeof(((cpu_set_t *)0)->__bits[0])))

/* Format a CPU set as a kernel list ("0-3,8"). */
int cg_cpulist(const cpu_set_t *set, char *buf, size_t len)
{
	size_t used = 0;
	int i = 0, start, n;

	buf[0] = 0;
	while (i < CPU_SETSIZE) {
		if (!CPU_ISSET(i, set)) {
			/* a whole empty word at once: a task pinned to one PU
			 * of 1,024 took 10,000 instructions a start */
			if (i % CG_WORD == 0 && !set->__bits[i / CG_WORD])
				i += CG_WORD;
			else
				i++;
			continue;
		}
		start = i;
		while (i + 1 < CPU_SETSIZE && CPU_ISSET(i + 1, set))
			i++;
		n = start == i ? snprintf(buf + used, len - used, "%s%d",
					  used ? "," : "", start)
			       : snprintf(buf + used, len - used, "%s%d-%d",
					  used ? "," : "", start, i);
		if (n < 0 || (size_t)n >= len - used)
			return -ENAMETOOLONG;
		used += (size_t)n;
		i++;
	}
	return used ? 0 : -EINVAL;
}

/* v2: enable the controllers the parent offers in rel's subtree_control
 * (only ever on groups nicely made; pids too when with_pids); returns the
 * bits enabled. */
static unsigned cg_v2_enable(const struct cg_tree *t, const struct cg_hier *h,
			     const char *rel, int with_pids)
{
	static const struct { const char *n; unsigned bit; } c[] = {
		{ "cpu", CG_CPU }, { "cpuset", CG_CPUSET },
		{ "memory", CG_MEMORY }, { "pids", 0 },
	};
	char buf[512], all[64] = "", val[32];
	unsigned got = 0, want = 0;
	size_t i, nc = sizeof(c) / sizeof(c[0]) - (with_pids ? 0 : 1);
	int any = 0;

	if (cg_read(h, rel, "cgroup.controllers", buf, sizeof(buf)) < 0)
		return 0;
	for (i = 0; i < nc; i++) {
		if (!cg_has_word(buf, c[i].n))
			continue;
		want |= c[i].bit;
		any = 1;
		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s+%s",
			 *all ? " " : "", c[i].n);
	}
	if (!any)
		return 0;
	if (cg_write(t, h, rel, "cgroup.subtree_control", all, NULL, 0) == 0)
		return want;
	/* one of them was refused: enable what can be, one at a time */
	for (i = 0; i < nc; i++) {
		if (!cg_has_word(buf, c[i].n))
			continue;
		snprintf(val, sizeof(val), "+%s", c[i].n);
		if (cg_write(t, h, rel, "cgroup.subtree_control", val, NULL,
			     0) == 0)
			got |= c[i].bit;
	}
	return got;
}

/* v2: enable in rel's subtree_control every controller of cpu, cpuset,
 * memory and pids it is offered; the CG_* bits of those enabled. */
unsigned cg_v2_enable_all(const struct cg_tree *t, const struct cg_hier *h,
			  const char *rel)
{
	return cg_v2_enable(t, h, rel, 1);
}

/* v2: the CG_* bits of the controllers enabled in rel's subtree_control
 * (what groups made under rel get), read without writing. */
unsigned cg_v2_enabled(const struct cg_hier *h, const char *rel)
{
	char buf[512];
	unsigned got = 0;

	if (cg_read(h, rel, "cgroup.subtree_control", buf, sizeof(buf)) < 0)
		return 0;
	got |= cg_has_word(buf, "cpu") || cg_has_word(buf, "+cpu") ? CG_CPU : 0;
	got |= cg_has_word(buf, "cpuset") || cg_has_word(buf, "+cpuset")
		       ? CG_CPUSET : 0;
	got |= cg_has_word(buf, "memory") || cg_has_word(buf, "+memory")
		       ? CG_MEMORY : 0;
	return got;
}

/* Make group rel, just made by nicely under parent_rel, ready to be a
 * parent: on v2 enable in its subtree_control the controllers it is
 * offered (h->ctrls keeps those enabled; the base, at the root, asks for
 * all, a batch again for what its base got), on a v1 cpuset give it its
 * parent's cpus and mems where it has none. */
int cg_parent_setup(const struct cg_tree *t, struct cg_hier *h,
		    const char *rel, const char *parent_rel, char *err,
		    size_t errlen)
{
	const unsigned ctl = CG_CPU | CG_CPUSET | CG_MEMORY;

	if (h->v2 && (*parent_rel ? (h->ctrls & ctl) != 0
				  : h->ctrls != CG_UNIFIED))
		h->ctrls = (h->ctrls & ~ctl) | cg_v2_enable(t, h, rel, 0);
	if ((h->ctrls & CG_CPUSET) && !h->v2)
		return cg_cpuset_inherit(t, h, rel, parent_rel, 0, err,
					 errlen);
	return 0;
}

/* The cpuset of a new task group: cpus (a kernel list) when given, and on
 * v1, which lets no process into a group without them, the parent's cpus
 * (when none are given) and mems. */
int cg_cpuset_new(const struct cg_tree *t, const struct cg_hier *h,
		  const char *rel, const char *parent_rel, const char *cpus,
		  char *err, size_t errlen)
{
	int r;

	if (cpus) {
		r = cg_write(t, h, rel, "cpuset.cpus", cpus, err, errlen);
		if (r < 0)
			return r;
	}
	if (!h->v2)
		return cg_cpuset_inherit(t, h, rel, parent_rel, cpus != NULL,
					 err, errlen);
	return 0;
}

/* New CPUs for group rel's cpuset: cpus (a kernel list), or with cpus
 * NULL its parent's again (v2: an empty cpuset.cpus; v1: a copy of
 * parent_rel's). */
int cg_cpuset_set(const struct cg_tree *t, const struct cg_hier *h,
		  const char *rel, const char *parent_rel, const char *cpus,
		  char *err, size_t errlen)
{
	char list[1024];
	ssize_t n;
	int r;

	if (cpus)
		return cg_write(t, h, rel, "cpuset.cpus", cpus, err, errlen);
	if (h->v2)	/* empty: the parent's */
		return cg_write(t, h, rel, "cpuset.cpus", " ", err, errlen);
	n = cg_read(h, parent_rel, "cpuset.cpus", list, sizeof(list));
	while (n > 0 && list[n - 1] == '\n')
		list[--n] = 0;
	r = n > 0 ? cg_write(t, h, rel, "cpuset.cpus", list, err, errlen)
		  : (int)(n < 0 ? n : -EINVAL);
	if (r < 0 && n <= 0)
		errmsg_set(err, errlen,
			   "cannot read the batch's cpuset.cpus in %s",
			   h->path);
	return r;
}

/* A CPU quota of pus CPUs on group rel (0: none): v1 cpu.cfs_period_us
 * then cpu.cfs_quota_us (-1: none), v2 cpu.max ("max" for none), over a
 * 100 ms period. */
int cg_set_cpu_quota(const struct cg_tree *t, const struct cg_hier *h,
		     const char *rel, int pus, char *err, size_t errlen)
{
	char val[48];
	int r;

	if (h->v2) {
		if (pus > 0)
			snprintf(val, sizeof(val), "%lld 100000",
				 (long long)pus * 100000);
		else
			snprintf(val, sizeof(val), "max 100000");
		return cg_write(t, h, rel, "cpu.max", val, err, errlen);
	}
	r = cg_write(t, h, rel, "cpu.cfs_period_us", "100000", err, errlen);
	if (r < 0)
		return r;
	if (pus > 0)
		snprintf(val, sizeof(val), "%lld", (long long)pus * 100000);
	else
		snprintf(val, sizeof(val), "-1");
	return cg_write(t, h, rel, "cpu.cfs_quota_us", val, err, errlen);
}

/* A memory limit on a group that may have had another (max 0: none):
 * v1 lifts memsw first (it may never be below the limit), then writes the
 * limit and, when there is one, memsw = limit; v2 memory.max then
 * memory.swap.max (0 with a limit, max without). */
int cg_set_memory_limit(const struct cg_tree *t, const struct cg_hier *h,
			const char *rel, uint64_t max, char *err,
			size_t errlen)
{
	const char *sw = h->v2 ? "memory.swap.max"
			       : "memory.memsw.limit_in_bytes";
	char path[PATH_MAX];
	int r, has_sw;

	cg_path(path, sizeof(path), h, rel, sw);
	has_sw = cg_exists(path);
	if (!h->v2 && has_sw) {
		r = cg_write(t, h, rel, sw, "-1", err, errlen);
		if (r < 0)
			return r;
	}
	if (max)
		return cg_set_memory(t, h, rel, max, err, errlen);
	r = cg_write(t, h, rel, h->v2 ? "memory.max" : "memory.limit_in_bytes",
		     h->v2 ? "max" : "-1", err, errlen);
	if (r < 0 || !h->v2 || !has_sw)
		return r;
	return cg_write(t, h, rel, sw, "max", err, errlen);
}

/* CPU time used by group rel and below, in ns: cgroup2's cpu.stat
 * usage_usec, else v1 cpuacct.usage (see the header). */
int cg_cpu_usage(const struct cg_tree *t, const char *rel, uint64_t *ns)
{
	const struct cg_hier *h = cg_find(t, CG_CPUACCT);
	char buf[1024], *p;
	ssize_t n;

	if (!h)
		h = cg_tracker(t);
	if (h->v2) {
		n = cg_read(h, rel, "cpu.stat", buf, sizeof(buf));
		if (n < 0)
			return (int)n;
		p = strstr(buf, "usage_usec ");
		if (!p)
			return -ENODATA;
		*ns = strtoull(p + 11, NULL, 10) * 1000;
		return 0;
	}
	if (!(h->ctrls & CG_CPUACCT))
		return -ENOTSUP;
	n = cg_read(h, rel, "cpuacct.usage", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	*ns = strtoull(buf, NULL, 10);
	return 0;
}

/* Write the memory limit to a task group. */
int cg_set_memory(const struct cg_tree *t, const struct cg_hier *h,
		  const char *rel, uint64_t max, char *err,
		  size_t errlen)
{
	char val[32], path[PATH_MAX];
	int r;

	snprintf(val, sizeof(val), "%llu", (unsigned long long)max);
	r = cg_write(t, h, rel, h->v2 ? "memory.max" : "memory.limit_in_bytes",
		     val, err, errlen);
	if (r < 0)
		return r;
	cg_path(path, sizeof(path), h, rel,
		h->v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes");
	if (!cg_exists(path))
		return 0;
	return cg_write(t, h, rel,
			h->v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes",
			h->v2 ? "0" : val, err, errlen);
}

/* Read file of the task's group in h: through a kept file (index k of
 * stat_fd, opened on first use) while the cgroup.procs files are kept,
 * else opened for this read. Returns the length read or -errno. */
static ssize_t cg_task_read(const struct sched_cgroup_task *ct,
			    const struct cg_hier *h, const char *file, int k,
			    char *buf, size_t len)
{
	struct sched_cgroup_task *t = (struct sched_cgroup_task *)ct;
	char path[PATH_MAX];
	size_t got = 0;
	ssize_t r;

	if (!t->nfd || !t->live)
		return cg_read(h, t->rel, file, buf, len);
	if (t->stat_fd[k] < 0) {
		if ((r = cg_path(path, sizeof(path), h, t->rel, file)) < 0)
			return r;
		if ((t->stat_fd[k] = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return -errno;
	}
	while (got + 1 < len &&
	       (r = pread(t->stat_fd[k], buf + got, len - 1 - got,
			  (off_t)got)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		got += (size_t)r;
		if ((size_t)r < len - 1 - (got - (size_t)r))
			break;	/* short: all there is (one kernfs read) */
	}
	buf[got] = 0;
	return (ssize_t)got;
}

/* 1 when the kernel says nothing runs in the task's groups (cgroup2's
 * cgroup.events, one read), 0 when it cannot tell so. */
int cg_task_empty(const struct sched_cgroup_task *t)
{
	const struct cg_hier *h = cg_tracker(&t->batch->t);
	char buf[256];

	return h->v2 && !h->fake &&
	       cg_task_read(t, h, "cgroup.events", 3, buf, sizeof(buf)) > 0 &&
	       strstr(buf, "populated 0");
}

/* The task's CPU time and memory-limit kills as the kernel counts them
 * (since the groups were made); mem_peak is left alone. */
void cg_task_counters(const struct sched_cgroup_task *t,
		      struct sched_cgroup_stats *st)
{
	const struct cg_tree *tr = &t->batch->t;
	const struct cg_hier *h;
	char buf[4096], *p;

	st->cpu_ns = -1;
	st->oom_kills = -1;
	if ((h = cg_find(tr, CG_UNIFIED)) &&
	    cg_task_read(t, h, "cpu.stat", 0, buf, sizeof(buf)) > 0 &&
	    (p = strstr(buf, "usage_usec ")))
		st->cpu_ns = strtoll(p + 11, NULL, 10) * 1000;
	else if ((h = cg_find(tr, CG_CPUACCT)) &&
		 cg_task_read(t, h, "cpuacct.usage", 0, buf, sizeof(buf)) > 0)
		st->cpu_ns = strtoll(buf, NULL, 10);
	if ((h = cg_find(tr, CG_MEMORY)) &&
	    cg_task_read(t, h,
			 h->v2 ? "memory.events" : "memory.oom_control", 2,
			 buf, sizeof(buf)) > 0 &&
	    (p = strstr(buf, "oom_kill ")))
		st->oom_kills = strtoll(p + 9, NULL, 10);
}

/* The task's peak memory (since the groups were made or the peak was
 * last reset), -1 where the tree cannot tell. */
int64_t cg_task_peak(const struct sched_cgroup_task *t)
{
	const struct cg_hier *h = cg_find(&t->batch->t, CG_MEMORY);
	char buf[64];
	ssize_t n;

	if (h && t->peak_fd >= 0 &&
	    (n = pread(t->peak_fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = 0;
		return strtoll(buf, NULL, 10);
	}
	if (h && cg_task_read(t, h,
			      h->v2 ? "memory.peak"
				    : "memory.max_usage_in_bytes",
			      1, buf, sizeof(buf)) > 0)
		return strtoll(buf, NULL, 10);
	return -1;
}

/* v2: reset memory.peak through a file kept open (the reset holds for
 * reads through that file only). Fake trees get the write alone. Returns
 * 0, or -errno when the kernel cannot reset it (before 6.12). */
static int cg_peak_reset(struct sched_cgroup_task *t, const struct cg_hier *h)
{
	const struct cg_tree *tr = &t->batch->t;
	char path[PATH_MAX];
	int fd, r;

	if (h->fake)
		return cg_write(tr, h, t->rel, "memory.peak", "reset", NULL, 0);
	if ((r = cg_path(path, sizeof(path), h, t->rel, "memory.peak")) < 0)
		return r;
	if (t->peak_fd < 0) {
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
			return -errno;	/* before 6.12: read-only */
		t->peak_fd = fd;
	}
	cg_trace(tr, "write", path, "reset");
	if (write(t->peak_fd, "reset", 5) < 0) {
		r = -errno;
		close(t->peak_fd);
		t->peak_fd = -1;
		return r;
	}
	return 0;
}

/* v1: reset memory.max_usage_in_bytes, through a file kept open while
 * the cgroup.procs files are (fake trees: an ordinary write). 0, or
 * -errno when the peak could not be reset. */
static int cg_v1_peak_reset(struct sched_cgroup_task *t,
			    const struct cg_hier *h)
{
	const struct cg_tree *tr = &t->batch->t;
	const int k = SCHED_CGROUP_TASK_NSTAT - 1;
	char path[PATH_MAX];
	int r;

	if (h->fake || !t->nfd ||
	    cg_path(path, sizeof(path), h, t->rel,
		    "memory.max_usage_in_bytes") < 0)
		return cg_write(tr, h, t->rel, "memory.max_usage_in_bytes", "0",
				NULL, 0) < 0
			       ? -EIO
			       : 0;
	if (t->stat_fd[k] < 0 &&
	    (t->stat_fd[k] = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	cg_trace(tr, "write", path, "0");
	if (pwrite(t->stat_fd[k], "0", 1, 0) < 0) {
		r = -errno;
		close(t->stat_fd[k]);
		t->stat_fd[k] = -1;
		return r;
	}
	return 0;
}

/* Reset the peak memory of the task's group in h (the memory hierarchy)
 * where the kernel allows. 0, or -errno when it could not. */
int cg_task_peak_reset(struct sched_cgroup_task *t, const struct cg_hier *h)
{
	return h->v2 ? cg_peak_reset(t, h) : cg_v1_peak_reset(t, h);
}

/* Give back what earlier processes left charged to a task's memory group
 * (page cache of the files they wrote, kernel objects), so that the next
 * process's peak starts from about nothing, as in a new group: v1
 * memory.force_empty, v2 memory.reclaim of what it holds. Returns 1 when
 * CG_DRAIN_MIN or more stays charged (tmpfs files without swap, say: the
 * next process would find it counted against its limit), else 0. */
int cg_memory_drain(const struct sched_cgroup_task *t,
		    const struct cg_hier *h)
{
	const struct cg_tree *tr = &t->batch->t;
	const char *file = h->v2 ? "memory.current" : "memory.usage_in_bytes";
	char buf[64];
	long long cur;

	if (cg_task_read(t, h, file, 4, buf, sizeof(buf)) <= 0 ||
	    (cur = strtoll(buf, NULL, 10)) < CG_DRAIN_MIN)
		return 0;
	if (!h->v2) {
		cg_write(tr, h, t->rel, "memory.force_empty", "0", NULL, 0);
	} else {
		snprintf(buf, sizeof(buf), "%lld", cur);
		cg_write(tr, h, t->rel, "memory.reclaim", buf, NULL, 0);
	}
	return cg_task_read(t, h, file, 4, buf, sizeof(buf)) > 0 &&
	       strtoll(buf, NULL, 10) >= CG_DRAIN_MIN;
}
