/* sched/cgroup_task: one task's groups under its batch: made with their
 * weight, CPUs and memory limit, joined (sched_cgroup_child_join runs in
 * the child between fork and exec, async-signal-safe), moved to other
 * CPUs, frozen, signalled, killed, read for figures, reused for the next
 * process and removed. Called by the batch engines from their loop,
 * through the shim (cgroup_fs, cgroup_ctl, cgroup_freeze). */
#include "sched/cgroup_task.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/errmsg.h"
#include "sched/cgroup_batch_int.h"
#include "sched/cgroup_ctl.h"
#include "sched/cgroup_freeze.h"

/* Close the task's procs fds. */
static void cg_task_close_fds(struct sched_cgroup_task *t)
{
	int i;

	for (i = 0; i < t->nfd; i++)
		if (t->procs_fd[i] >= 0)
			close(t->procs_fd[i]);
	t->nfd = 0;
	for (i = 0; t->live && i < SCHED_CGROUP_TASK_NSTAT; i++)
		/* -1 or opened once live */
		if (t->stat_fd[i] >= 0) {
			close(t->stat_fd[i]);
			t->stat_fd[i] = -1;
		}
}

/* Open the task's cgroup.procs files (O_CLOEXEC) for joining. */
static int cg_task_open_fds(struct sched_cgroup_task *t, char *err,
			    size_t errlen)
{
	const struct cg_tree *tr = &t->batch->t;
	int i, r;

	for (i = 0; i < tr->nh; i++) {
		t->procs_fd[i] = cg_open_procs(&tr->h[i], t->rel, err, errlen);
		if (t->procs_fd[i] < 0) {
			r = t->procs_fd[i];
			cg_task_close_fds(t);
			return r;
		}
		t->nfd = i + 1;
	}
	return 0;
}

/* Make task-<seq> in every hierarchy with its limits and open its procs files. */
int sched_cgroup_task_create(struct sched_cgroup *b, uint64_t seq,
			     const struct sched_cgroup_limits *lim,
			     struct sched_cgroup_task *t, char *err,
			     size_t errlen)
{
	char cpus[1024];
	const struct cg_hier *h;
	int i, r = 0, made = 0;

	memset(t, 0, sizeof(*t));
	t->batch = b;
	t->seq = seq;
	t->peak_fd = -1;
	for (i = 0; i < SCHED_CGROUP_TASK_NSTAT; i++)
		t->stat_fd[i] = -1;
	if (lim && lim->cpus) {
		t->has_cpus = 1;
		t->cpus = *lim->cpus;
	}
	t->memory_max = lim ? lim->memory_max : 0;
	t->trace_fd = b->t.trace_fd;
	snprintf(t->rel, sizeof(t->rel), "%s/task-%llu", b->rel,
		 (unsigned long long)seq);
	if (lim && lim->memory_max && !cg_find(&b->t, CG_MEMORY)) {
		errmsg_set(err, errlen,
			   "a memory limit was asked but the cgroup tree at %s has "
			   "no memory controller", b->t.root);
		return -ENOTSUP;
	}
	if (lim && lim->cpus && cg_cpulist(lim->cpus, cpus, sizeof(cpus)) < 0) {
		errmsg_set(err, errlen, "empty or too large CPU set for task %llu",
			   (unsigned long long)seq);
		return -EINVAL;
	}
	for (i = 0; i < b->t.nh; i++) {
		h = &b->t.h[i];
		r = cg_mkdir(&b->t, h, t->rel, err, errlen);
		if (r < 0) {
			if (r == -EEXIST)
				errmsg_set(err, errlen, "cgroup %s/%s exists already",
					   h->path, t->rel);
			goto fail;
		}
		made = i + 1;
		if (h->ctrls & CG_CPUSET) {
			r = cg_cpuset_new(&b->t, h, t->rel, b->rel,
					  lim && lim->cpus ? cpus : NULL, err,
					  errlen);
			if (r < 0)
				goto fail;
		}
		if (h->ctrls & CG_CPU) {
			r = cg_set_class(&b->t, h, t->rel, b->weight,
					 b->has_idle, 1, err, errlen);
			if (r < 0)
				goto fail;
		}
		if ((h->ctrls & CG_MEMORY) && lim && lim->memory_max) {
			r = cg_set_memory(&b->t, h, t->rel, lim->memory_max,
					  err, errlen);
			if (r < 0)
				goto fail;
		}
	}
	if ((r = cg_task_open_fds(t, err, errlen)) < 0)
		goto fail;
	t->live = 1;
	return 0;
fail:
	cg_task_close_fds(t);
	for (i = made - 1; i >= 0; i--)
		cg_rmtree(&b->t, &b->t.h[i], t->rel, NULL, 0);
	return r;
}

/* Child side, between fork and exec: write our pid to every procs file. */
int sched_cgroup_child_join(const struct sched_cgroup_task *t)
{
	char buf[32], line[160];
	size_t n = cg_utoa(buf, (unsigned long long)getpid()), l = 0, rl;
	int i;

	buf[n] = '\n';
	for (i = 0; i < t->nfd; i++)
		if (write(t->procs_fd[i], buf, n + 1) < 0)
			return -errno;
	if (t->trace_fd >= 0) {
		rl = strlen(t->rel);
		if (rl + n + 8 <= sizeof(line)) {
			memcpy(line, "join ", 5);
			l = 5;
			memcpy(line + l, t->rel, rl);
			l += rl;
			line[l++] = ' ';
			memcpy(line + l, buf, n + 1);
			l += n + 1;
			if (write(t->trace_fd, line, l) < 0)
				return 0;
		}
	}
	return 0;
}

/* Parent side after fork: the procs files are the child's now. */
void sched_cgroup_task_forked(struct sched_cgroup_task *t)
{
	cg_task_close_fds(t);
}

/* Fake trees: the "0" a spawned child wrote to the task's cgroup.procs
 * becomes its pid, one pid a line. */
void sched_cgroup_task_spawned(struct sched_cgroup_task *t, pid_t pid)
{
	const struct cg_tree *tr = &t->batch->t;
	char buf[65536], out[65536 + 32], *p, *end, path[PATH_MAX];
	size_t o;
	ssize_t n;
	long v;
	int i, fd;

	for (i = 0; i < tr->nh; i++) {
		if (!tr->h[i].fake ||
		    cg_path(path, sizeof(path), &tr->h[i], t->rel,
			    "cgroup.procs") < 0 ||
		    (n = cg_read_path(path, buf, sizeof(buf))) <= 0)
			continue;
		for (p = buf, o = 0; *p;) {
			v = strtol(p, &end, 10);
			if (end == p) {
				p++;
				continue;
			}
			p = end;
			o += cg_utoa(out + o, (unsigned long long)(v ? v : pid));
			out[o++] = '\n';
		}
		if ((fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0)
			continue;
		n = write(fd, out, o);	/* short or failed: the file says so */
		close(fd);
	}
}

/* Move an existing process into the task's groups. */
int sched_cgroup_task_attach(struct sched_cgroup_task *t, pid_t pid,
			     char *err, size_t errlen)
{
	const struct cg_tree *tr = &t->batch->t;
	char val[24];
	int i, r;

	t->known_empty = 0;
	snprintf(val, sizeof(val), "%ld", (long)pid);
	for (i = 0; i < tr->nh; i++) {
		r = cg_write(tr, &tr->h[i], t->rel, "cgroup.procs", val, err,
			     errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The cgroup.procs files a new process of the task joins. */
int sched_cgroup_task_join_fds(struct sched_cgroup_task *t, int *fds)
{
	const struct cg_tree *tr = &t->batch->t;
	const struct cg_hier *cs = t->has_cpus ? NULL : cg_own_cpuset(tr);
	int i, n = 0;

	t->cpuset_out = 0;
	for (i = 0; i < t->nfd && i < tr->nh; i++) {
		if (&tr->h[i] == cs) {
			t->cpuset_out = 1;
			continue;
		}
		fds[n++] = t->procs_fd[i];
	}
	return n;
}

/* Joining pins to cpus: the task has a real cpuset group with them. */
int sched_cgroup_task_pins(const struct sched_cgroup_task *t,
			   const cpu_set_t *cpus)
{
	const struct cg_hier *h = cg_find(&t->batch->t, CG_CPUSET);

	return h && !h->fake && t->has_cpus && t->nfd == t->batch->t.nh &&
	       CPU_EQUAL(&t->cpus, cpus);
}

/* Move every process of the task (its tracking group's cgroup.procs) into
 * its group of hierarchy h. */
static int cg_attach_all(struct sched_cgroup_task *t, const struct cg_hier *h,
			 char *err, size_t errlen)
{
	const struct cg_tree *tr = &t->batch->t;
	char buf[65536], val[24], *p;
	ssize_t n = cg_read(cg_tracker(tr), t->rel, "cgroup.procs", buf,
			    sizeof(buf));
	long pid;
	int r;

	if (n < 0) {
		errmsg_set(err, errlen, "cannot read the processes of cgroup %s: %s",
			   t->rel, strerror((int)-n));
		return (int)n;
	}
	for (p = buf; (pid = cg_next_pid(&p)) > 0;) {
		snprintf(val, sizeof(val), "%ld", pid);
		r = cg_write(tr, h, t->rel, "cgroup.procs", val, err, errlen);
		if (r < 0 && r != -ESRCH)	/* ESRCH: it just exited */
			return r;
	}
	return 0;
}

/* New cpuset.cpus for a running task; a process left out of its cpuset
 * group at the start (sched_cgroup_task_join_fds) is moved in. */
int sched_cgroup_task_set_cpus(struct sched_cgroup_task *t,
			       const cpu_set_t *cpus, char *err, size_t errlen)
{
	const struct cg_hier *h = cg_find(&t->batch->t, CG_CPUSET);
	char list[1024];
	int r;

	if (!h) {
		errmsg_set(err, errlen, "no cpuset controller in the cgroup tree");
		return -ENOTSUP;
	}
	if (cg_cpulist(cpus, list, sizeof(list)) < 0) {
		errmsg_set(err, errlen, "empty or too large CPU set");
		return -EINVAL;
	}
	r = cg_write(&t->batch->t, h, t->rel, "cpuset.cpus", list, err,
		     errlen);
	if (r < 0)
		return r;
	t->has_cpus = 1;	/* what the group has now, for the next reuse */
	t->cpus = *cpus;
	if (t->cpuset_out && (r = cg_attach_all(t, h, err, errlen)) < 0)
		return r;
	t->cpuset_out = 0;
	return 0;
}

/* Freeze or thaw one task. */
int sched_cgroup_task_freeze(struct sched_cgroup_task *t, int frozen,
			     char *err, size_t errlen)
{
	return cg_freeze(&t->batch->t, t->rel, frozen, 0, err, errlen);
}

/* CPU time, peak memory and memory-limit kills of a task. */
int sched_cgroup_task_stats(const struct sched_cgroup_task *t,
			    struct sched_cgroup_stats *st)
{
	struct sched_cgroup_task *w = (struct sched_cgroup_task *)t;

	cg_task_counters(t, st);
	w->last_cpu_ns = st->cpu_ns;
	w->last_oom_kills = st->oom_kills;
	w->last_final = t->known_empty;
	st->mem_peak = cg_task_peak(t);
	/* since the last reuse */
	if (st->cpu_ns >= 0)
		st->cpu_ns = st->cpu_ns >= t->base_cpu_ns
				     ? st->cpu_ns - t->base_cpu_ns
				     : 0;
	if (st->oom_kills >= 0)
		st->oom_kills = st->oom_kills >= t->base_oom_kills
					? st->oom_kills - t->base_oom_kills
					: 0;
	return 0;
}

/* How many processes the task has now. */
int sched_cgroup_task_nprocs(const struct sched_cgroup_task *t)
{
	char path[PATH_MAX];
	int r = cg_path(path, sizeof(path), cg_tracker(&t->batch->t), t->rel,
			NULL);

	return r < 0 ? r : cg_procs_walk(path, 0);
}

/* Send a signal to every process of the task. */
int sched_cgroup_task_signal(const struct sched_cgroup_task *t, int sig)
{
	char path[PATH_MAX];
	int r = cg_path(path, sizeof(path), cg_tracker(&t->batch->t), t->rel,
			NULL);

	return r < 0 ? r : cg_procs_walk(path, sig);
}

/* Kill every process of the task. */
int sched_cgroup_task_kill(struct sched_cgroup_task *t, char *err,
			   size_t errlen)
{
	int r = t->live && cg_task_empty(t)
			? 0
			: cg_kill(&t->batch->t, t->rel, err, errlen);

	t->known_empty = r == 0 && t->live;
	return r;
}

/* Ready a task's groups for the next process: empty, cpuset, new zero. */
int sched_cgroup_task_reuse(struct sched_cgroup_task *t,
			    const struct sched_cgroup_limits *lim, char *err,
			    size_t errlen)
{
	struct sched_cgroup *b = t->batch;
	const struct cg_hier *h;
	struct sched_cgroup_stats st;
	int want = lim && lim->cpus, r;
	char list[1024];

	if (!t->live || !b) {
		errmsg_set(err, errlen, "cgroup task was never made or is removed");
		return -EINVAL;
	}
	if ((lim ? lim->memory_max : 0) != t->memory_max)
		return -ESTALE;
	if (!t->known_empty && !cg_task_empty(t) &&
	    (r = cg_kill(&b->t, t->rel, err, errlen)) < 0)
		return r;
	if ((h = cg_find(&b->t, CG_MEMORY)) && cg_memory_drain(t, h))
		return -ESTALE;	/* memory that stays charged: new groups */
	if ((h = cg_find(&b->t, CG_CPUSET)) &&
	    (want != t->has_cpus ||
	     (want && !CPU_EQUAL(lim->cpus, &t->cpus)))) {
		/* the list only when the cpuset changes: not per start */
		if (want && cg_cpulist(lim->cpus, list, sizeof(list)) < 0) {
			errmsg_set(err, errlen, "empty or too large CPU set "
				   "for task %llu", (unsigned long long)t->seq);
			return -EINVAL;
		}
		r = cg_cpuset_set(&b->t, h, t->rel, b->rel,
				  want ? list : NULL, err, errlen);
		if (r < 0)
			return r;
		t->has_cpus = want;
		if (want)
			t->cpus = *lim->cpus;
	}
	t->peak_stale = 0;
	if ((h = cg_find(&b->t, CG_MEMORY)))
		t->peak_stale = cg_task_peak_reset(t, h) < 0;
	if (t->known_empty && t->last_final) {
		/* read after the kill that found it empty: still true */
		st.cpu_ns = t->last_cpu_ns;
		st.oom_kills = t->last_oom_kills;
	} else {
		cg_task_counters(t, &st);
	}
	t->base_cpu_ns = st.cpu_ns > 0 ? st.cpu_ns : 0;
	t->base_oom_kills = st.oom_kills > 0 ? st.oom_kills : 0;
	t->known_empty = t->last_final = t->cpuset_out = 0;
	t->reuses++;
	if (!t->nfd && (r = cg_task_open_fds(t, err, errlen)) < 0)
		return r;
	return 0;
}

/* Kill what is left of the task, remove its groups, close its files. */
int sched_cgroup_task_remove(struct sched_cgroup_task *t, char *err,
			     size_t errlen)
{
	int i, r, ret = 0;

	cg_task_close_fds(t);
	if (!t->live || !t->batch)
		return 0;
	if (t->peak_fd >= 0)
		close(t->peak_fd);
	t->peak_fd = -1;
	ret = cg_kill(&t->batch->t, t->rel, err, errlen);
	for (i = t->batch->t.nh - 1; i >= 0; i--) {
		r = cg_rmtree(&t->batch->t, &t->batch->t.h[i], t->rel,
			      ret < 0 ? NULL : err, errlen);
		if (r < 0 && ret >= 0)
			ret = r;
	}
	t->live = 0;
	return ret;
}
