/* agent/charge: the CPU time of our own work, so that the sampler does not
 * count it as others' load: declared workers by PID (/proc/PID/stat under
 * the procfs root), or a cgroup (v1 cpuacct.usage_percpu of the subtree,
 * else a walk of its cgroup.procs, with a cgroup2 cpu.stat for what the
 * walk cannot see). Owned by the sampler, which calls it once per sample
 * from the scheduler loop; the hot path allocates nothing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/charge.h"
#include "agent/errmsg.h"
#include "agent/procfs.h"
#include "agent/topology.h"

/* One declared worker: its kept /proc/PID/stat fd and CPU ticks so far. */
struct charge_worker {
	pid_t pid;
	int pu;
	int fd;          /* -1: (re)open on the next sample */
	int gone;        /* the process is gone: stop reading */
	int have;        /* ticks holds a baseline */
	uint64_t ticks;  /* utime+stime at the last good sample */
	uint64_t next;   /* reading of the sample in progress */
	int next_ok;
	int last_cpu;    /* processor field of the last reading, -1 */
};

/* A process seen in our cgroup tree (walk mode). */
struct charge_cgpid {
	int pid;
	uint64_t ticks, next;
	unsigned gen;
	int pu;          /* PU it ran on at the last reading, -1 */
	uint64_t last;   /* ticks it used in the last interval */
};

enum { CG_NONE, CG_CPUACCT, CG_WALK };

struct agent_charge {
	const struct agent_topology *topo;
	int npus;
	const struct agent_pu *pus;
	long hz;         /* USER_HZ: unit of /proc/stat and PID/stat */

	int rootfd;      /* the sampler's procfs root (borrowed) */
	const char *root;
	char *buf;
	size_t cap;

	double *ours;    /* our ticks on each PU in the sample in progress */
	double *pending; /* our ticks not charged yet: workers reaped since the
			  * last sample, or a PU's interval that was deferred */

	struct charge_worker *w;
	size_t nw;

	int cg_mode;
	char *cg_path;
	int cg_fd;
	uint64_t *cg_prev, *cg_cur; /* per os index, ns */
	size_t cg_len;   /* entries of cg_prev/cg_cur */
	int cg_prev_ok;
	struct charge_cgpid *cgp;
	size_t ncgp, capcgp;
	unsigned cg_gen;
	int cg_started;  /* the baseline walk is done: newcomers start at 0 */
	/* walk mode with a cgroup2 cpu.stat: the subtree's total, which keeps
	 * the CPU time of processes that exited between two walks */
	int cg_usage_fd; /* cpu.stat, -1 without usage_usec */
	uint64_t cg_usage_prev, cg_usage_next;
	int cg_usage_ok; /* cg_usage_prev is a baseline */
	int cg_usage_next_ok;
	double *cg_walked; /* ticks the walk charged per PU this sample */
};

/* Close fd if open and mark it closed. */
static void charge_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Report a parse error as "ROOT/REL line N: why". */
static int charge_bad(struct agent_charge *ch, const char *rel,
		      const struct procfs_error *e, char *err, size_t errlen)
{
	errmsg_set(err, errlen, "%s/%s line %d: %s", ch->root, rel, e->line,
		   e->why);
	return -EBADMSG;
}

/* Make the charge of a topology's PUs (the topology outlives it). 0 or
 * -ENOMEM. */
int agent_charge_new(struct agent_charge **out,
		     const struct agent_topology *topo, long hz)
{
	struct agent_charge *ch = calloc(1, sizeof *ch);
	size_t n;

	*out = NULL;
	if (!ch)
		return -ENOMEM;
	ch->topo = topo;
	ch->npus = agent_topology_npus(topo);
	ch->pus = agent_topology_pus(topo);
	ch->hz = hz;
	ch->rootfd = -1;
	ch->cg_fd = ch->cg_usage_fd = -1;
	n = (size_t)ch->npus;
	ch->ours = calloc(n, sizeof *ch->ours);
	ch->pending = calloc(n, sizeof *ch->pending);
	ch->cg_walked = calloc(n, sizeof *ch->cg_walked);
	if (!ch->ours || !ch->pending || !ch->cg_walked) {
		agent_charge_free(ch);
		return -ENOMEM;
	}
	*out = ch;
	return 0;
}

/* Free the charge, closing every fd it keeps. */
void agent_charge_free(struct agent_charge *ch)
{
	if (!ch)
		return;
	for (size_t i = 0; i < ch->nw; i++)
		charge_close(&ch->w[i].fd);
	charge_close(&ch->cg_fd);
	charge_close(&ch->cg_usage_fd);
	free(ch->cg_walked);
	free(ch->buf);
	free(ch->ours);
	free(ch->pending);
	free(ch->w);
	free(ch->cg_path);
	free(ch->cg_prev);
	free(ch->cg_cur);
	free(ch->cgp);
	free(ch);
}

/* Read PID/stat files under another procfs root: the declared workers'
 * kept files are closed, to be opened again under it. */
void agent_charge_set_root(struct agent_charge *ch, int rootfd,
			   const char *root)
{
	for (size_t i = 0; i < ch->nw; i++) {
		charge_close(&ch->w[i].fd);
		ch->w[i].gone = 0;
	}
	ch->rootfd = rootfd;
	ch->root = root;
}

/* Read one PID's utime+stime and processor through a kept fd (opened under
 * the root when fd is -1). Returns 0, -ESRCH when the process is gone, or
 * -EBADMSG with err set. */
static int charge_pid_ticks(struct agent_charge *ch, pid_t pid, int *fd,
			    uint64_t *ticks, int *cpu, char *err,
			    size_t errlen)
{
	char rel[32], text[2048];
	struct procfs_error e;
	ssize_t n;

	snprintf(rel, sizeof rel, "%d/stat", (int)pid);
	if (*fd < 0) {
		*fd = openat(ch->rootfd, rel, O_RDONLY | O_CLOEXEC);
		if (*fd < 0)
			return -ESRCH;
	}
	n = pread(*fd, text, sizeof text - 1, 0);
	if (n <= 0)
		return -ESRCH; /* reaped: the kept fd reads ESRCH, never a new PID */
	text[n] = 0;
	if (procfs_parse_pid_stat(text, (size_t)n, ticks, cpu, &e) < 0)
		return charge_bad(ch, rel, &e, err, errlen);
	return 0;
}

/* Read a worker's current ticks into w->next (w->next_ok says if it could). */
static int charge_read_worker(struct agent_charge *ch, struct charge_worker *w,
			      int *cpu, char *err, size_t errlen)
{
	int rc;

	w->next_ok = 0;
	if (w->gone)
		return 0;
	rc = charge_pid_ticks(ch, w->pid, &w->fd, &w->next, cpu, err, errlen);
	if (rc == -ESRCH) {
		w->gone = 1;
		charge_close(&w->fd);
		return 0;
	}
	if (rc < 0)
		return rc;
	w->next_ok = 1;
	w->last_cpu = *cpu;
	return 0;
}

/* Replace the set of our workers, keeping baselines of kept PIDs. */
int agent_charge_set_workers(struct agent_charge *ch,
			     const struct agent_worker_ref *w, size_t n)
{
	struct charge_worker *nw = NULL;

	for (size_t i = 0; i < n; i++)
		if (w[i].pid <= 0 || w[i].pu < -1 || w[i].pu >= ch->npus)
			return -EINVAL;
	if (n) {
		nw = calloc(n, sizeof *nw);
		if (!nw)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct charge_worker *o = NULL;

		for (size_t j = 0; j < ch->nw; j++)
			if (ch->w[j].pid == w[i].pid && ch->w[j].fd != -2) {
				o = &ch->w[j];
				break;
			}
		nw[i].pid = w[i].pid;
		nw[i].pu = w[i].pu;
		nw[i].last_cpu = -1;
		if (o) {
			/* Still ours: keep its fd and baseline. */
			nw[i].fd = o->fd;
			nw[i].gone = o->gone;
			nw[i].have = o->have;
			nw[i].ticks = o->ticks;
			nw[i].last_cpu = o->last_cpu;
			o->fd = -2; /* moved */
		} else {
			int cpu;

			/* Newly declared: charged from now on. */
			nw[i].fd = -1;
			if (charge_read_worker(ch, &nw[i], &cpu, NULL, 0) == 0 &&
			    nw[i].next_ok) {
				nw[i].ticks = nw[i].next;
				nw[i].have = 1;
			}
		}
	}
	for (size_t j = 0; j < ch->nw; j++)
		if (ch->w[j].fd >= 0)
			close(ch->w[j].fd);
	free(ch->w);
	ch->w = nw;
	ch->nw = n;
	return 0;
}

/* A process of our walked cgroup was reaped and cgroup.procs no longer
 * lists it: charge what it used since the last walk, but no more than it
 * used in the interval before (wait4's figure includes the children it
 * reaped, which the walk charged already), and forget it. */
static int charge_cg_exited(struct agent_charge *ch, pid_t pid, uint64_t cpu_ns)
{
	for (size_t i = 0; i < ch->ncgp; i++) {
		struct charge_cgpid *c = &ch->cgp[i];
		double ticks = (double)cpu_ns * (double)ch->hz / 1e9;

		if (c->pid != pid || c->gen == 0)
			continue;
		if (c->pu >= 0 && ticks > (double)c->ticks) {
			double d = ticks - (double)c->ticks;

			ch->pending[c->pu] += d < (double)c->last ? d : (double)c->last;
		}
		ch->cgp[i] = ch->cgp[--ch->ncgp];
		return 0;
	}
	return -ENOENT;
}

/* A declared worker was reaped: charge its CPU time since the last sample
 * to its PU at the next sample, and forget it. In cgroup mode cpuacct or
 * cpu.stat keep its time; else the walk's table has it. */
int agent_charge_worker_exited(struct agent_charge *ch, pid_t pid,
			       uint64_t cpu_ns)
{
	if (ch->cg_mode == CG_CPUACCT ||
	    (ch->cg_mode == CG_WALK && ch->cg_usage_fd >= 0)) {
		for (size_t i = 0; i < ch->nw; i++)
			if (ch->w[i].pid == pid)
				goto declared;
		return 0;
	}
	if (ch->cg_mode == CG_WALK && charge_cg_exited(ch, pid, cpu_ns) == 0)
		return 0;
declared:
	for (size_t i = 0; i < ch->nw; i++) {
		struct charge_worker *w = &ch->w[i];

		if (w->pid != pid)
			continue;
		double ticks = (double)cpu_ns * (double)ch->hz / 1e9;
		int pu = w->pu >= 0 ? w->pu : agent_topology_pu_of_os(ch->topo, w->last_cpu);

		if (w->have && pu >= 0 && ticks > (double)w->ticks)
			ch->pending[pu] += ticks - (double)w->ticks;
		charge_close(&w->fd);
		ch->w[i] = ch->w[--ch->nw];
		return 0;
	}
	return -ENOENT;
}

/* Collect the CPU ticks of declared workers since the last sample into
 * ch->ours, charged to their pinned PU or the PU they last ran on. */
static int charge_workers(struct agent_charge *ch, char *err,
			  size_t errlen)
{
	for (size_t i = 0; i < ch->nw; i++) {
		struct charge_worker *w = &ch->w[i];
		int cpu = -1, pu;
		int rc = charge_read_worker(ch, w, &cpu, err, errlen);

		if (rc < 0)
			return rc;
		if (!w->next_ok || !w->have || w->next < w->ticks)
			continue;
		pu = w->pu >= 0 ? w->pu : agent_topology_pu_of_os(ch->topo, cpu);
		if (pu >= 0)
			ch->ours[pu] += (double)(w->next - w->ticks);
	}
	return 0;
}

/* Find or add a PID in the cgroup-walk table; NULL when out of memory. */
static struct charge_cgpid *charge_cgpid(struct agent_charge *ch, int pid)
{
	for (size_t i = 0; i < ch->ncgp; i++)
		if (ch->cgp[i].pid == pid)
			return &ch->cgp[i];
	if (ch->ncgp == ch->capcgp) {
		size_t cap = ch->capcgp ? ch->capcgp * 2 : 64;
		struct charge_cgpid *b = realloc(ch->cgp, cap * sizeof *b);

		if (!b)
			return NULL;
		ch->cgp = b;
		ch->capcgp = cap;
	}
	struct charge_cgpid *c = &ch->cgp[ch->ncgp++];

	c->pid = pid;
	c->ticks = 0;
	c->next = 0;
	c->gen = 0; /* not seen yet */
	c->pu = -1;
	c->last = 0;
	return c;
}

struct charge_walk {
	struct agent_charge *ch;
	char *err;
	size_t errlen;
	int rc;
};

/* cgroup.procs callback: read one PID's ticks and charge the delta. */
static int charge_walk_pid(void *ctx, int pid)
{
	struct charge_walk *wk = ctx;
	struct agent_charge *ch = wk->ch;
	struct charge_cgpid *c;
	uint64_t ticks;
	int cpu, fd = -1, rc, pu;

	rc = charge_pid_ticks(ch, pid, &fd, &ticks, &cpu, wk->err, wk->errlen);
	if (fd >= 0)
		close(fd);
	if (rc == -ESRCH)
		return 0;
	if (rc < 0) {
		wk->rc = rc;
		return rc;
	}
	c = charge_cgpid(ch, pid);
	if (!c) {
		wk->rc = -ENOMEM;
		return -ENOMEM;
	}
	if (c->gen == 0) {
		/* First sight: after the baseline walk it joined since the
		 * last sample (we put it there), so all its time is new. */
		c->ticks = ch->cg_started ? 0 : ticks;
	}
	c->next = ticks;
	c->gen = ch->cg_gen;
	pu = agent_topology_pu_of_os(ch->topo, cpu);
	if (pu >= 0) {
		double d = (double)(ticks >= c->ticks ? ticks - c->ticks : ticks);

		ch->ours[pu] += d;
		ch->cg_walked[pu] += d;
		c->pu = pu;
	}
	return 0;
}

/* Walk a cgroup directory tree, charging every process in it. */
static int charge_walk_dir(struct charge_walk *wk, const char *dir, int depth)
{
	char path[4096];
	int fd, rc;
	long n;
	DIR *d;
	struct dirent *de;
	struct procfs_error e;
	struct agent_charge *ch = wk->ch;

	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* removed meanwhile */
	n = procfs_pread_all(fd, &ch->buf, &ch->cap);
	close(fd);
	if (n < 0)
		return 0;
	rc = procfs_parse_pids(ch->buf, (size_t)n, charge_walk_pid, wk, &e);
	if (rc < 0) {
		if (wk->rc)
			return wk->rc;
		errmsg_set(wk->err, wk->errlen, "%s line %d: %s", path, e.line, e.why);
		return -EBADMSG;
	}
	if (depth >= 16)
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		rc = charge_walk_dir(wk, path, depth + 1);
		if (rc < 0) {
			closedir(d);
			return rc;
		}
	}
	closedir(d);
	return 0;
}

/* Read cpuacct.usage_percpu into ch->cg_cur. */
static int charge_read_cpuacct(struct agent_charge *ch, char *err, size_t errlen)
{
	struct procfs_error e;
	size_t n;
	long len = procfs_pread_all(ch->cg_fd, &ch->buf, &ch->cap);

	if (len < 0) {
		errmsg_set(err, errlen, "cannot read %s/cpuacct.usage_percpu: %s",
			   ch->cg_path, strerror((int)-len));
		return (int)len;
	}
	if (procfs_parse_percpu(ch->buf, (size_t)len, ch->cg_cur, ch->cg_len, &n, &e) < 0) {
		errmsg_set(err, errlen, "%s/cpuacct.usage_percpu line %d: %s",
			   ch->cg_path, e.line, e.why);
		return -EBADMSG;
	}
	for (size_t i = n; i < ch->cg_len; i++)
		ch->cg_cur[i] = 0;
	return 0;
}

/* Read usage_usec of the walked cgroup's cpu.stat into ch->cg_usage_next. */
static int charge_read_usage(struct agent_charge *ch, char *err, size_t errlen)
{
	struct procfs_error e;
	long len = procfs_pread_all(ch->cg_usage_fd, &ch->buf, &ch->cap);

	ch->cg_usage_next_ok = 0;
	if (len < 0) {
		errmsg_set(err, errlen, "cannot read %s/cpu.stat: %s", ch->cg_path,
			   strerror((int)-len));
		return (int)len;
	}
	if (procfs_parse_usage_usec(ch->buf, (size_t)len, &ch->cg_usage_next, &e) < 0) {
		errmsg_set(err, errlen, "%s/cpu.stat line %d: %s", ch->cg_path,
			   e.line, e.why);
		return -EBADMSG;
	}
	ch->cg_usage_next_ok = 1;
	return 0;
}

/* After a walk: the subtree's cpu.stat total says how much CPU its
 * processes used, those that exited since the last walk included. What the
 * walk did not find (a process that ran and exited between two walks, or
 * the last part of one that exited) goes to the PUs the vanished processes
 * last ran on, in proportion to what each used in its last interval; with
 * none vanished, to the PUs the walk charged (a short-lived child runs
 * where its parent may run), but only beyond a tick per live process:
 * less is rounding of the per-PID figures (truncated to ticks). */
static int charge_usage(struct agent_charge *ch, char *err, size_t errlen)
{
	double left, walked = 0, wsum = 0;
	size_t nlive = 0;
	int rc;

	if (ch->cg_usage_fd < 0)
		return 0;
	rc = charge_read_usage(ch, err, errlen);
	if (rc < 0 || !ch->cg_usage_ok || ch->cg_usage_next < ch->cg_usage_prev)
		return rc;
	for (int i = 0; i < ch->npus; i++)
		walked += ch->cg_walked[i];
	left = (double)(ch->cg_usage_next - ch->cg_usage_prev) * (double)ch->hz / 1e6 -
	       walked;
	for (size_t i = 0; i < ch->ncgp; i++) {
		const struct charge_cgpid *c = &ch->cgp[i];

		if (c->gen == ch->cg_gen)
			nlive++;
		else if (c->gen && c->pu >= 0)
			wsum += (double)c->last + 1;
	}
	if (left <= 0 || (wsum == 0 && left <= (double)nlive))
		return 0;
	if (wsum > 0) {
		for (size_t i = 0; i < ch->ncgp; i++) {
			const struct charge_cgpid *c = &ch->cgp[i];

			if (c->gen && c->gen != ch->cg_gen && c->pu >= 0)
				ch->ours[c->pu] += left * ((double)c->last + 1) / wsum;
		}
	} else if (walked > 0) {
		for (int i = 0; i < ch->npus; i++)
			ch->ours[i] += left * ch->cg_walked[i] / walked;
	}
	return 0;
}

/* Charge our cgroup's CPU time since the last sample into ch->ours. */
static int charge_cgroup(struct agent_charge *ch, char *err, size_t errlen)
{
	if (ch->cg_mode == CG_CPUACCT) {
		int rc = charge_read_cpuacct(ch, err, errlen);

		if (rc < 0)
			return rc;
		if (!ch->cg_prev_ok)
			return 0;
		for (size_t os = 0; os < ch->cg_len; os++) {
			int pu = agent_topology_pu_of_os(ch->topo, (int)os);

			if (pu >= 0 && ch->cg_cur[os] > ch->cg_prev[os])
				ch->ours[pu] += (double)(ch->cg_cur[os] - ch->cg_prev[os]) *
					       (double)ch->hz / 1e9;
		}
		return 0;
	}
	if (ch->cg_mode == CG_WALK) {
		struct charge_walk wk = { ch, err, errlen, 0 };
		int rc;

		ch->cg_gen = ch->cg_gen + 1 ? ch->cg_gen + 1 : 1;
		memset(ch->cg_walked, 0, (size_t)ch->npus * sizeof *ch->cg_walked);
		rc = charge_walk_dir(&wk, ch->cg_path, 0);
		if (rc < 0)
			return rc;
		return charge_usage(ch, err, errlen);
	}
	return 0;
}

/* Make the readings of the sample in progress the cgroup baseline. */
static void charge_commit_cgroup(struct agent_charge *ch)
{
	if (ch->cg_mode == CG_CPUACCT) {
		memcpy(ch->cg_prev, ch->cg_cur, ch->cg_len * sizeof *ch->cg_prev);
		ch->cg_prev_ok = 1;
	} else if (ch->cg_mode == CG_WALK) {
		size_t k = 0;

		for (size_t i = 0; i < ch->ncgp; i++)
			if (ch->cgp[i].gen == ch->cg_gen) {
				ch->cgp[i].last = ch->cgp[i].next >= ch->cgp[i].ticks
						 ? ch->cgp[i].next - ch->cgp[i].ticks
						 : ch->cgp[i].next;
				if (!ch->cg_started)
					ch->cgp[i].last = 0;
				ch->cgp[i].ticks = ch->cgp[i].next;
				ch->cgp[k++] = ch->cgp[i];
			}
		ch->ncgp = k;
		ch->cg_started = 1;
		ch->cg_usage_prev = ch->cg_usage_next;
		ch->cg_usage_ok = ch->cg_usage_next_ok;
	}
}

/* Charge by cgroup (cpuacct, else a cgroup.procs walk); see sampler.h. */
int agent_charge_set_cgroup(struct agent_charge *ch, const char *path)
{
	char file[4096];
	int fd;

	charge_close(&ch->cg_fd);
	charge_close(&ch->cg_usage_fd);
	free(ch->cg_path);
	ch->cg_path = NULL;
	ch->cg_mode = CG_NONE;
	ch->cg_prev_ok = 0;
	ch->ncgp = 0;
	ch->cg_started = 0;
	ch->cg_usage_ok = ch->cg_usage_next_ok = 0;
	if (!path)
		return 0;
	if (path[0] != '/' || strlen(path) > 3000)
		return -EINVAL;
	ch->cg_path = strdup(path);
	if (!ch->cg_path)
		return -ENOMEM;
	snprintf(file, sizeof file, "%s/cpuacct.usage_percpu", path);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		int maxos = 0;

		for (int i = 0; i < ch->npus; i++)
			if (ch->pus[i].os_index > maxos)
				maxos = ch->pus[i].os_index;
		free(ch->cg_prev);
		free(ch->cg_cur);
		ch->cg_len = (size_t)maxos + 1;
		ch->cg_prev = calloc(ch->cg_len, sizeof *ch->cg_prev);
		ch->cg_cur = calloc(ch->cg_len, sizeof *ch->cg_cur);
		if (!ch->cg_prev || !ch->cg_cur) {
			close(fd);
			return -ENOMEM;
		}
		ch->cg_fd = fd;
		ch->cg_mode = CG_CPUACCT;
		if (charge_read_cpuacct(ch, NULL, 0) == 0) {
			memcpy(ch->cg_prev, ch->cg_cur, ch->cg_len * sizeof *ch->cg_prev);
			ch->cg_prev_ok = 1;
		}
		return 0;
	}
	snprintf(file, sizeof file, "%s/cgroup.procs", path);
	if (access(file, R_OK) < 0) {
		int rc = -errno;

		free(ch->cg_path);
		ch->cg_path = NULL;
		return rc;
	}
	ch->cg_mode = CG_WALK;
	snprintf(file, sizeof file, "%s/cpu.stat", path);
	ch->cg_usage_fd = open(file, O_RDONLY | O_CLOEXEC);
	if (ch->cg_usage_fd >= 0 && charge_read_usage(ch, NULL, 0) < 0)
		charge_close(&ch->cg_usage_fd); /* v1 cpu.stat: no usage_usec */
	/* Baseline walk: what is in the cgroup now is charged from now on.
	 * Its charges land in ours[], which the next sample clears. */
	if (charge_cgroup(ch, NULL, 0) == 0)
		charge_commit_cgroup(ch);
	ch->cg_started = 1;
	return 0;
}


/* Our ticks on each PU since the last commit: what was pending, then the
 * declared workers, then the cgroup. */
int agent_charge_read(struct agent_charge *ch, const double **ours,
		      char *err, size_t errlen)
{
	int rc;

	memcpy(ch->ours, ch->pending, (size_t)ch->npus * sizeof *ch->ours);
	rc = charge_workers(ch, err, errlen);
	if (rc < 0)
		return rc;
	rc = charge_cgroup(ch, err, errlen);
	if (rc < 0)
		return rc;
	*ours = ch->ours;
	return 0;
}

/* The sample was taken: its readings become the baselines, nothing is
 * pending any more. */
void agent_charge_commit(struct agent_charge *ch)
{
	memset(ch->pending, 0, (size_t)ch->npus * sizeof *ch->pending);
	for (size_t i = 0; i < ch->nw; i++)
		if (ch->w[i].next_ok) {
			ch->w[i].ticks = ch->w[i].next;
			ch->w[i].have = 1;
		}
	charge_commit_cgroup(ch);
}

/* The sample measured nothing on PU pu: charge what was read for it at
 * the next sample instead. */
void agent_charge_defer(struct agent_charge *ch, int pu)
{
	ch->pending[pu] = ch->ours[pu];
}
