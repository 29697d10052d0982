/* agent/sampler: turns /proc (or a fixture tree) into snapshots of how busy
 * each PU is with other people's work. Called once per scheduler tick from
 * the loop; the hot path preads kept fds into buffers sized on the first
 * tick and allocates nothing. Our workers' CPU time (by PID or by cgroup) is
 * subtracted from the PU it ran on before smoothing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/errmsg.h"
#include "agent/procfs.h"
#include "agent/sampler.h"
#include "agent/topology.h"

/* One declared worker: its kept /proc/PID/stat fd and CPU ticks so far. */
struct sampler_worker {
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
struct sampler_cgpid {
	int pid;
	uint64_t ticks, next;
	unsigned gen;
	int pu;          /* PU it ran on at the last reading, -1 */
	uint64_t last;   /* ticks it used in the last interval */
};

enum { CG_NONE, CG_CPUACCT, CG_WALK };

struct agent_sampler {
	const struct agent_topology *topo;
	int npus;
	const struct agent_pu *pus;
	double alpha;    /* EWMA weight of the newest sample */
	long hz;         /* USER_HZ: unit of /proc/stat and PID/stat */

	char *root;
	int rootfd;
	int fd_stat, fd_load, fd_psi, fd_mem;
	int psi_absent;  /* pressure/cpu missing under this root */
	char *buf;
	size_t cap;

	/* Per PU index: counters of the sample in progress and the last. */
	uint64_t *cur_busy, *cur_total, *prev_busy, *prev_total;
	unsigned char *cur_seen, *prev_seen, *ewma_ok;
	double *ours;    /* our ticks on each PU in the sample in progress */
	double *exited;  /* our ticks not charged yet: workers reaped since the
			  * last sample, or a PU's interval that was skipped */
	int have_prev;   /* a good sample exists: deltas are possible */

	struct agent_pu_load *pu;
	struct agent_snapshot snap;
	int have_snap;
	uint64_t prev_t_ns;
	uint64_t psi_total;
	int psi_total_ok;

	struct sampler_worker *w;
	size_t nw;

	int cg_mode;
	char *cg_path;
	int cg_fd;
	uint64_t *cg_prev, *cg_cur; /* per os index, ns */
	size_t cg_len;   /* entries of cg_prev/cg_cur */
	int cg_prev_ok;
	struct sampler_cgpid *cgp;
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
static void sampler_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Close every fd opened under the procfs root. */
static void sampler_close_root(struct agent_sampler *s)
{
	sampler_close(&s->fd_stat);
	sampler_close(&s->fd_load);
	sampler_close(&s->fd_psi);
	sampler_close(&s->fd_mem);
	for (size_t i = 0; i < s->nw; i++)
		sampler_close(&s->w[i].fd);
	sampler_close(&s->rootfd);
	s->psi_absent = 0;
}

/* Point the sampler at another procfs root (a fixture directory in tests).
 * Counters of the last sample are kept, so the next sample is a delta
 * against the previous root. Returns 0 or -errno. */
int agent_sampler_set_procfs(struct agent_sampler *s, const char *root)
{
	char *copy;
	int fd;

	if (!root || !*root)
		root = getenv("NICELY_PROCFS");
	if (!root || !*root)
		root = "/proc";
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	copy = strdup(root);
	if (!copy) {
		close(fd);
		return -ENOMEM;
	}
	sampler_close_root(s);
	free(s->root);
	s->root = copy;
	s->rootfd = fd;
	for (size_t i = 0; i < s->nw; i++)
		s->w[i].gone = 0;
	return 0;
}

/* Open rel under the root, lazily, keeping the fd. */
static int sampler_open(struct agent_sampler *s, int *fd, const char *rel)
{
	if (*fd >= 0)
		return 0;
	*fd = openat(s->rootfd, rel, O_RDONLY | O_CLOEXEC);
	return *fd < 0 ? -errno : 0;
}

/* Read a kept file under the root into s->buf; error names the file. */
static long sampler_read(struct agent_sampler *s, int *fd, const char *rel,
			 char *err, size_t errlen)
{
	long n;
	int rc = sampler_open(s, fd, rel);

	if (rc < 0) {
		errmsg_set(err, errlen, "cannot open %s/%s: %s", s->root, rel,
			   strerror(-rc));
		return rc;
	}
	n = procfs_pread_all(*fd, &s->buf, &s->cap);
	if (n < 0)
		errmsg_set(err, errlen, "cannot read %s/%s: %s", s->root, rel,
			   strerror((int)-n));
	return n;
}

/* Report a parse error as "ROOT/REL line N: why". */
static int sampler_bad(struct agent_sampler *s, const char *rel,
		       const struct procfs_error *e, char *err, size_t errlen)
{
	errmsg_set(err, errlen, "%s/%s line %d: %s", s->root, rel, e->line,
		   e->why);
	return -EBADMSG;
}

/* Create a sampler for a topology; see sampler.h. */
int agent_sampler_new(struct agent_sampler **out,
		      const struct agent_topology *topo,
		      const struct agent_sampler_opts *opts, char *err,
		      size_t errlen)
{
	struct agent_sampler *s;
	double window = opts ? opts->smooth_window : 0;
	size_t n;
	int rc;

	*out = NULL;
	if (window == 0)
		window = 3;
	if (!(window >= 1 && window <= 1e6)) {
		errmsg_set(err, errlen,
			   "smoothing window %g: must be at least 1 sample", window);
		return -EINVAL;
	}
	s = calloc(1, sizeof *s);
	if (!s)
		goto nomem;
	s->topo = topo;
	s->npus = agent_topology_npus(topo);
	s->pus = agent_topology_pus(topo);
	s->alpha = 2.0 / (window + 1.0);
	s->hz = sysconf(_SC_CLK_TCK);
	if (s->hz <= 0)
		s->hz = 100;
	s->rootfd = s->fd_stat = s->fd_load = s->fd_psi = s->fd_mem = -1;
	s->cg_fd = s->cg_usage_fd = -1;
	n = (size_t)s->npus;
	s->cur_busy = calloc(n, sizeof *s->cur_busy);
	s->cur_total = calloc(n, sizeof *s->cur_total);
	s->prev_busy = calloc(n, sizeof *s->prev_busy);
	s->prev_total = calloc(n, sizeof *s->prev_total);
	s->cur_seen = calloc(n, 1);
	s->prev_seen = calloc(n, 1);
	s->ewma_ok = calloc(n, 1);
	s->ours = calloc(n, sizeof *s->ours);
	s->exited = calloc(n, sizeof *s->exited);
	s->cg_walked = calloc(n, sizeof *s->cg_walked);
	s->pu = calloc(n, sizeof *s->pu);
	if (!s->cur_busy || !s->cur_total || !s->prev_busy || !s->prev_total ||
	    !s->cur_seen || !s->prev_seen || !s->ewma_ok || !s->ours || !s->exited ||
	    !s->cg_walked || !s->pu)
		goto nomem;
	rc = agent_sampler_set_procfs(s, opts ? opts->procfs : NULL);
	if (rc < 0) {
		errmsg_set(err, errlen, "procfs root %s: %s",
			   opts && opts->procfs ? opts->procfs :
			   getenv("NICELY_PROCFS") ? getenv("NICELY_PROCFS") : "/proc",
			   strerror(-rc));
		agent_sampler_free(s);
		return rc;
	}
	s->snap.npus = s->npus;
	s->snap.pu = s->pu;
	*out = s;
	return 0;
nomem:
	agent_sampler_free(s);
	errmsg_set(err, errlen, "out of memory");
	return -ENOMEM;
}

/* Free the sampler, closing every fd it keeps. */
void agent_sampler_free(struct agent_sampler *s)
{
	if (!s)
		return;
	sampler_close_root(s);
	sampler_close(&s->cg_fd);
	sampler_close(&s->cg_usage_fd);
	free(s->cg_walked);
	free(s->root);
	free(s->buf);
	free(s->cur_busy);
	free(s->cur_total);
	free(s->prev_busy);
	free(s->prev_total);
	free(s->cur_seen);
	free(s->prev_seen);
	free(s->ewma_ok);
	free(s->ours);
	free(s->exited);
	free(s->pu);
	free(s->w);
	free(s->cg_path);
	free(s->cg_prev);
	free(s->cg_cur);
	free(s->cgp);
	free(s);
}

/* Read one PID's utime+stime and processor through a kept fd (opened under
 * the root when fd is -1). Returns 0, -ESRCH when the process is gone, or
 * -EBADMSG with err set. */
static int sampler_pid_ticks(struct agent_sampler *s, pid_t pid, int *fd,
			     uint64_t *ticks, int *cpu, char *err,
			     size_t errlen)
{
	char rel[32], text[2048];
	struct procfs_error e;
	ssize_t n;

	snprintf(rel, sizeof rel, "%d/stat", (int)pid);
	if (*fd < 0) {
		*fd = openat(s->rootfd, rel, O_RDONLY | O_CLOEXEC);
		if (*fd < 0)
			return -ESRCH;
	}
	n = pread(*fd, text, sizeof text - 1, 0);
	if (n <= 0)
		return -ESRCH; /* reaped: the kept fd reads ESRCH, never a new PID */
	text[n] = 0;
	if (procfs_parse_pid_stat(text, (size_t)n, ticks, cpu, &e) < 0)
		return sampler_bad(s, rel, &e, err, errlen);
	return 0;
}

/* Read a worker's current ticks into w->next (w->next_ok says if it could). */
static int sampler_read_worker(struct agent_sampler *s, struct sampler_worker *w,
			       int *cpu, char *err, size_t errlen)
{
	int rc;

	w->next_ok = 0;
	if (w->gone)
		return 0;
	rc = sampler_pid_ticks(s, w->pid, &w->fd, &w->next, cpu, err, errlen);
	if (rc == -ESRCH) {
		w->gone = 1;
		sampler_close(&w->fd);
		return 0;
	}
	if (rc < 0)
		return rc;
	w->next_ok = 1;
	w->last_cpu = *cpu;
	return 0;
}

/* Replace the set of our workers, keeping baselines of kept PIDs. */
int agent_sampler_set_workers(struct agent_sampler *s,
			      const struct agent_worker_ref *w, size_t n)
{
	struct sampler_worker *nw = NULL;

	for (size_t i = 0; i < n; i++)
		if (w[i].pid <= 0 || w[i].pu < -1 || w[i].pu >= s->npus)
			return -EINVAL;
	if (n) {
		nw = calloc(n, sizeof *nw);
		if (!nw)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct sampler_worker *o = NULL;

		for (size_t j = 0; j < s->nw; j++)
			if (s->w[j].pid == w[i].pid && s->w[j].fd != -2) {
				o = &s->w[j];
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
			if (sampler_read_worker(s, &nw[i], &cpu, NULL, 0) == 0 &&
			    nw[i].next_ok) {
				nw[i].ticks = nw[i].next;
				nw[i].have = 1;
			}
		}
	}
	for (size_t j = 0; j < s->nw; j++)
		if (s->w[j].fd >= 0)
			close(s->w[j].fd);
	free(s->w);
	s->w = nw;
	s->nw = n;
	return 0;
}

/* A process of our walked cgroup was reaped and cgroup.procs no longer
 * lists it: charge what it used since the last walk, but no more than it
 * used in the interval before (wait4's figure includes the children it
 * reaped, which the walk charged already), and forget it. */
static int sampler_cg_exited(struct agent_sampler *s, pid_t pid, uint64_t cpu_ns)
{
	for (size_t i = 0; i < s->ncgp; i++) {
		struct sampler_cgpid *c = &s->cgp[i];
		double ticks = (double)cpu_ns * (double)s->hz / 1e9;

		if (c->pid != pid || c->gen == 0)
			continue;
		if (c->pu >= 0 && ticks > (double)c->ticks) {
			double d = ticks - (double)c->ticks;

			s->exited[c->pu] += d < (double)c->last ? d : (double)c->last;
		}
		s->cgp[i] = s->cgp[--s->ncgp];
		return 0;
	}
	return -ENOENT;
}

/* A declared worker was reaped: charge its CPU time since the last sample
 * to its PU at the next sample, and forget it. In cgroup mode cpuacct or
 * cpu.stat keep its time; else the walk's table has it. */
int agent_sampler_worker_exited(struct agent_sampler *s, pid_t pid,
				uint64_t cpu_ns)
{
	if (s->cg_mode == CG_CPUACCT ||
	    (s->cg_mode == CG_WALK && s->cg_usage_fd >= 0)) {
		for (size_t i = 0; i < s->nw; i++)
			if (s->w[i].pid == pid)
				goto declared;
		return 0;
	}
	if (s->cg_mode == CG_WALK && sampler_cg_exited(s, pid, cpu_ns) == 0)
		return 0;
declared:
	for (size_t i = 0; i < s->nw; i++) {
		struct sampler_worker *w = &s->w[i];

		if (w->pid != pid)
			continue;
		double ticks = (double)cpu_ns * (double)s->hz / 1e9;
		int pu = w->pu >= 0 ? w->pu : agent_topology_pu_of_os(s->topo, w->last_cpu);

		if (w->have && pu >= 0 && ticks > (double)w->ticks)
			s->exited[pu] += ticks - (double)w->ticks;
		sampler_close(&w->fd);
		s->w[i] = s->w[--s->nw];
		return 0;
	}
	return -ENOENT;
}

/* Collect the CPU ticks of declared workers since the last sample into
 * s->ours, charged to their pinned PU or the PU they last ran on. */
static int sampler_charge_workers(struct agent_sampler *s, char *err,
				  size_t errlen)
{
	for (size_t i = 0; i < s->nw; i++) {
		struct sampler_worker *w = &s->w[i];
		int cpu = -1, pu;
		int rc = sampler_read_worker(s, w, &cpu, err, errlen);

		if (rc < 0)
			return rc;
		if (!w->next_ok || !w->have || w->next < w->ticks)
			continue;
		pu = w->pu >= 0 ? w->pu : agent_topology_pu_of_os(s->topo, cpu);
		if (pu >= 0)
			s->ours[pu] += (double)(w->next - w->ticks);
	}
	return 0;
}

/* Find or add a PID in the cgroup-walk table; NULL when out of memory. */
static struct sampler_cgpid *sampler_cgpid(struct agent_sampler *s, int pid)
{
	for (size_t i = 0; i < s->ncgp; i++)
		if (s->cgp[i].pid == pid)
			return &s->cgp[i];
	if (s->ncgp == s->capcgp) {
		size_t cap = s->capcgp ? s->capcgp * 2 : 64;
		struct sampler_cgpid *b = realloc(s->cgp, cap * sizeof *b);

		if (!b)
			return NULL;
		s->cgp = b;
		s->capcgp = cap;
	}
	struct sampler_cgpid *c = &s->cgp[s->ncgp++];

	c->pid = pid;
	c->ticks = 0;
	c->next = 0;
	c->gen = 0; /* not seen yet */
	c->pu = -1;
	c->last = 0;
	return c;
}

struct sampler_walk {
	struct agent_sampler *s;
	char *err;
	size_t errlen;
	int rc;
};

/* cgroup.procs callback: read one PID's ticks and charge the delta. */
static int sampler_walk_pid(void *ctx, int pid)
{
	struct sampler_walk *wk = ctx;
	struct agent_sampler *s = wk->s;
	struct sampler_cgpid *c;
	uint64_t ticks;
	int cpu, fd = -1, rc, pu;

	rc = sampler_pid_ticks(s, pid, &fd, &ticks, &cpu, wk->err, wk->errlen);
	if (fd >= 0)
		close(fd);
	if (rc == -ESRCH)
		return 0;
	if (rc < 0) {
		wk->rc = rc;
		return rc;
	}
	c = sampler_cgpid(s, pid);
	if (!c) {
		wk->rc = -ENOMEM;
		return -ENOMEM;
	}
	if (c->gen == 0) {
		/* First sight: after the baseline walk it joined since the
		 * last sample (we put it there), so all its time is new. */
		c->ticks = s->cg_started ? 0 : ticks;
	}
	c->next = ticks;
	c->gen = s->cg_gen;
	pu = agent_topology_pu_of_os(s->topo, cpu);
	if (pu >= 0) {
		double d = (double)(ticks >= c->ticks ? ticks - c->ticks : ticks);

		s->ours[pu] += d;
		s->cg_walked[pu] += d;
		c->pu = pu;
	}
	return 0;
}

/* Walk a cgroup directory tree, charging every process in it. */
static int sampler_walk_dir(struct sampler_walk *wk, const char *dir, int depth)
{
	char path[4096];
	int fd, rc;
	long n;
	DIR *d;
	struct dirent *de;
	struct procfs_error e;
	struct agent_sampler *s = wk->s;

	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* removed meanwhile */
	n = procfs_pread_all(fd, &s->buf, &s->cap);
	close(fd);
	if (n < 0)
		return 0;
	rc = procfs_parse_pids(s->buf, (size_t)n, sampler_walk_pid, wk, &e);
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
		rc = sampler_walk_dir(wk, path, depth + 1);
		if (rc < 0) {
			closedir(d);
			return rc;
		}
	}
	closedir(d);
	return 0;
}

/* Read cpuacct.usage_percpu into s->cg_cur. */
static int sampler_read_cpuacct(struct agent_sampler *s, char *err, size_t errlen)
{
	struct procfs_error e;
	size_t n;
	long len = procfs_pread_all(s->cg_fd, &s->buf, &s->cap);

	if (len < 0) {
		errmsg_set(err, errlen, "cannot read %s/cpuacct.usage_percpu: %s",
			   s->cg_path, strerror((int)-len));
		return (int)len;
	}
	if (procfs_parse_percpu(s->buf, (size_t)len, s->cg_cur, s->cg_len, &n, &e) < 0) {
		errmsg_set(err, errlen, "%s/cpuacct.usage_percpu line %d: %s",
			   s->cg_path, e.line, e.why);
		return -EBADMSG;
	}
	for (size_t i = n; i < s->cg_len; i++)
		s->cg_cur[i] = 0;
	return 0;
}

/* Read usage_usec of the walked cgroup's cpu.stat into s->cg_usage_next. */
static int sampler_read_usage(struct agent_sampler *s, char *err, size_t errlen)
{
	struct procfs_error e;
	long len = procfs_pread_all(s->cg_usage_fd, &s->buf, &s->cap);

	s->cg_usage_next_ok = 0;
	if (len < 0) {
		errmsg_set(err, errlen, "cannot read %s/cpu.stat: %s", s->cg_path,
			   strerror((int)-len));
		return (int)len;
	}
	if (procfs_parse_usage_usec(s->buf, (size_t)len, &s->cg_usage_next, &e) < 0) {
		errmsg_set(err, errlen, "%s/cpu.stat line %d: %s", s->cg_path,
			   e.line, e.why);
		return -EBADMSG;
	}
	s->cg_usage_next_ok = 1;
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
static int sampler_charge_usage(struct agent_sampler *s, char *err, size_t errlen)
{
	double left, walked = 0, wsum = 0;
	size_t nlive = 0;
	int rc;

	if (s->cg_usage_fd < 0)
		return 0;
	rc = sampler_read_usage(s, err, errlen);
	if (rc < 0 || !s->cg_usage_ok || s->cg_usage_next < s->cg_usage_prev)
		return rc;
	for (int i = 0; i < s->npus; i++)
		walked += s->cg_walked[i];
	left = (double)(s->cg_usage_next - s->cg_usage_prev) * (double)s->hz / 1e6 -
	       walked;
	for (size_t i = 0; i < s->ncgp; i++) {
		const struct sampler_cgpid *c = &s->cgp[i];

		if (c->gen == s->cg_gen)
			nlive++;
		else if (c->gen && c->pu >= 0)
			wsum += (double)c->last + 1;
	}
	if (left <= 0 || (wsum == 0 && left <= (double)nlive))
		return 0;
	if (wsum > 0) {
		for (size_t i = 0; i < s->ncgp; i++) {
			const struct sampler_cgpid *c = &s->cgp[i];

			if (c->gen && c->gen != s->cg_gen && c->pu >= 0)
				s->ours[c->pu] += left * ((double)c->last + 1) / wsum;
		}
	} else if (walked > 0) {
		for (int i = 0; i < s->npus; i++)
			s->ours[i] += left * s->cg_walked[i] / walked;
	}
	return 0;
}

/* Charge our cgroup's CPU time since the last sample into s->ours. */
static int sampler_charge_cgroup(struct agent_sampler *s, char *err, size_t errlen)
{
	if (s->cg_mode == CG_CPUACCT) {
		int rc = sampler_read_cpuacct(s, err, errlen);

		if (rc < 0)
			return rc;
		if (!s->cg_prev_ok)
			return 0;
		for (size_t os = 0; os < s->cg_len; os++) {
			int pu = agent_topology_pu_of_os(s->topo, (int)os);

			if (pu >= 0 && s->cg_cur[os] > s->cg_prev[os])
				s->ours[pu] += (double)(s->cg_cur[os] - s->cg_prev[os]) *
					       (double)s->hz / 1e9;
		}
		return 0;
	}
	if (s->cg_mode == CG_WALK) {
		struct sampler_walk wk = { s, err, errlen, 0 };
		int rc;

		s->cg_gen = s->cg_gen + 1 ? s->cg_gen + 1 : 1;
		memset(s->cg_walked, 0, (size_t)s->npus * sizeof *s->cg_walked);
		rc = sampler_walk_dir(&wk, s->cg_path, 0);
		if (rc < 0)
			return rc;
		return sampler_charge_usage(s, err, errlen);
	}
	return 0;
}

/* Make the readings of the sample in progress the cgroup baseline. */
static void sampler_commit_cgroup(struct agent_sampler *s)
{
	if (s->cg_mode == CG_CPUACCT) {
		memcpy(s->cg_prev, s->cg_cur, s->cg_len * sizeof *s->cg_prev);
		s->cg_prev_ok = 1;
	} else if (s->cg_mode == CG_WALK) {
		size_t k = 0;

		for (size_t i = 0; i < s->ncgp; i++)
			if (s->cgp[i].gen == s->cg_gen) {
				s->cgp[i].last = s->cgp[i].next >= s->cgp[i].ticks
						 ? s->cgp[i].next - s->cgp[i].ticks
						 : s->cgp[i].next;
				if (!s->cg_started)
					s->cgp[i].last = 0;
				s->cgp[i].ticks = s->cgp[i].next;
				s->cgp[k++] = s->cgp[i];
			}
		s->ncgp = k;
		s->cg_started = 1;
		s->cg_usage_prev = s->cg_usage_next;
		s->cg_usage_ok = s->cg_usage_next_ok;
	}
}

/* Charge by cgroup (cpuacct, else a cgroup.procs walk); see sampler.h. */
int agent_sampler_set_cgroup(struct agent_sampler *s, const char *path)
{
	char file[4096];
	int fd;

	sampler_close(&s->cg_fd);
	sampler_close(&s->cg_usage_fd);
	free(s->cg_path);
	s->cg_path = NULL;
	s->cg_mode = CG_NONE;
	s->cg_prev_ok = 0;
	s->ncgp = 0;
	s->cg_started = 0;
	s->cg_usage_ok = s->cg_usage_next_ok = 0;
	if (!path)
		return 0;
	if (path[0] != '/' || strlen(path) > 3000)
		return -EINVAL;
	s->cg_path = strdup(path);
	if (!s->cg_path)
		return -ENOMEM;
	snprintf(file, sizeof file, "%s/cpuacct.usage_percpu", path);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		int maxos = 0;

		for (int i = 0; i < s->npus; i++)
			if (s->pus[i].os_index > maxos)
				maxos = s->pus[i].os_index;
		free(s->cg_prev);
		free(s->cg_cur);
		s->cg_len = (size_t)maxos + 1;
		s->cg_prev = calloc(s->cg_len, sizeof *s->cg_prev);
		s->cg_cur = calloc(s->cg_len, sizeof *s->cg_cur);
		if (!s->cg_prev || !s->cg_cur) {
			close(fd);
			return -ENOMEM;
		}
		s->cg_fd = fd;
		s->cg_mode = CG_CPUACCT;
		if (sampler_read_cpuacct(s, NULL, 0) == 0) {
			memcpy(s->cg_prev, s->cg_cur, s->cg_len * sizeof *s->cg_prev);
			s->cg_prev_ok = 1;
		}
		return 0;
	}
	snprintf(file, sizeof file, "%s/cgroup.procs", path);
	if (access(file, R_OK) < 0) {
		int rc = -errno;

		free(s->cg_path);
		s->cg_path = NULL;
		return rc;
	}
	s->cg_mode = CG_WALK;
	snprintf(file, sizeof file, "%s/cpu.stat", path);
	s->cg_usage_fd = open(file, O_RDONLY | O_CLOEXEC);
	if (s->cg_usage_fd >= 0 && sampler_read_usage(s, NULL, 0) < 0)
		sampler_close(&s->cg_usage_fd); /* v1 cpu.stat: no usage_usec */
	/* Baseline walk: what is in the cgroup now is charged from now on.
	 * Its charges land in ours[], which the next sample clears. */
	if (sampler_charge_cgroup(s, NULL, 0) == 0)
		sampler_commit_cgroup(s);
	s->cg_started = 1;
	return 0;
}

/* procfs_parse_stat callback: store one CPU's counters by PU index. */
static int sampler_stat_cpu(void *ctx, unsigned cpu, uint64_t busy,
			    uint64_t total)
{
	struct agent_sampler *s = ctx;
	int pu = agent_topology_pu_of_os(s->topo, (int)cpu);

	if (pu < 0)
		return 0; /* a CPU the topology does not show */
	if (s->cur_seen[pu])
		return -EEXIST;
	s->cur_seen[pu] = 1;
	s->cur_busy[pu] = busy;
	s->cur_total[pu] = total;
	return 0;
}

/* Monotonic clock in ns. */
static uint64_t sampler_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Clamp x into [0, 1]. */
static double sampler_unit(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* Turn the counters of the sample in progress into per-PU loads. */
static void sampler_update_pus(struct agent_sampler *s)
{
	for (int i = 0; i < s->npus; i++) {
		struct agent_pu_load *l = &s->pu[i];

		if (!s->cur_seen[i]) {
			/* Offline (or absent from /proc/stat): not usable. */
			l->online = 0;
			l->busy_others = l->busy_raw = 1.0;
			l->busy_ours = 0;
			s->ewma_ok[i] = 0;
			continue;
		}
		l->online = 1;
		if (!s->have_prev) {
			l->busy_others = l->busy_raw = l->busy_ours = 0;
			continue;
		}
		if (!s->prev_seen[i] || s->cur_busy[i] < s->prev_busy[i]) {
			/* Back online, or counters reset: no delta yet. */
			l->busy_others = l->busy_raw = 1.0;
			l->busy_ours = 0;
			s->ewma_ok[i] = 0;
			continue;
		}
		if (s->cur_total[i] < s->prev_total[i]) {
			/* Only idle+iowait went back: the kernel moves an idle
			 * period between the two and may read it in neither.
			 * Nothing new to say; keep the last counters (and our
			 * ticks) so the next sample measures both intervals. */
			s->cur_busy[i] = s->prev_busy[i];
			s->cur_total[i] = s->prev_total[i];
			s->exited[i] = s->ours[i];
			continue;
		}
		uint64_t dt = s->cur_total[i] - s->prev_total[i];
		double db = (double)(s->cur_busy[i] - s->prev_busy[i]);

		if (dt == 0)
			continue; /* no tick elapsed: nothing new to say */
		double ours = s->ours[i] < db ? s->ours[i] : db;

		l->busy_ours = sampler_unit(ours / (double)dt);
		l->busy_raw = sampler_unit((db - ours) / (double)dt);
		if (!s->ewma_ok[i]) {
			l->busy_others = l->busy_raw;
			s->ewma_ok[i] = 1;
		} else {
			l->busy_others += s->alpha * (l->busy_raw - l->busy_others);
			l->busy_others = sampler_unit(l->busy_others);
		}
	}
}

/* Take one sample: read everything, then commit; see sampler.h. */
int agent_sampler_sample(struct agent_sampler *s, uint64_t now_ns,
			 const struct agent_snapshot **snap, char *err,
			 size_t errlen)
{
	struct procfs_error e;
	double la[3];
	double avg10 = 0;
	uint64_t psi_total = 0, mem_total = 0, mem_avail = 0;
	int running = 0, has_psi = 0, rc;
	long n;

	if (snap)
		*snap = s->have_snap ? &s->snap : NULL;
	if (!now_ns)
		now_ns = sampler_now();
	/* Read everything first; commit only when all of it parsed. */
	memset(s->cur_seen, 0, (size_t)s->npus);
	n = sampler_read(s, &s->fd_stat, "stat", err, errlen);
	if (n < 0)
		return (int)n;
	if (procfs_parse_stat(s->buf, (size_t)n, sampler_stat_cpu, s, &running, &e) < 0)
		return sampler_bad(s, "stat", &e, err, errlen);
	n = sampler_read(s, &s->fd_load, "loadavg", err, errlen);
	if (n < 0)
		return (int)n;
	if (procfs_parse_loadavg(s->buf, (size_t)n, la, &e) < 0)
		return sampler_bad(s, "loadavg", &e, err, errlen);
	if (!s->psi_absent) {
		rc = sampler_open(s, &s->fd_psi, "pressure/cpu");
		n = rc < 0 ? rc : procfs_pread_all(s->fd_psi, &s->buf, &s->cap);
		if (n == -ENOENT || n == -EOPNOTSUPP || n == -ENOTSUP) {
			/* No PSI in this kernel (or psi=0): not an error. */
			s->psi_absent = 1;
			sampler_close(&s->fd_psi);
		} else if (n < 0) {
			errmsg_set(err, errlen, "cannot read %s/pressure/cpu: %s",
				   s->root, strerror((int)-n));
			return (int)n;
		} else {
			if (procfs_parse_psi(s->buf, (size_t)n, &avg10, &psi_total, &e) < 0)
				return sampler_bad(s, "pressure/cpu", &e, err, errlen);
			has_psi = 1;
		}
	}
	n = sampler_read(s, &s->fd_mem, "meminfo", err, errlen);
	if (n < 0)
		return (int)n;
	if (procfs_parse_meminfo(s->buf, (size_t)n, &mem_total, &mem_avail, &e) < 0)
		return sampler_bad(s, "meminfo", &e, err, errlen);
	memcpy(s->ours, s->exited, (size_t)s->npus * sizeof *s->ours);
	rc = sampler_charge_workers(s, err, errlen);
	if (rc < 0)
		return rc;
	rc = sampler_charge_cgroup(s, err, errlen);
	if (rc < 0)
		return rc;

	/* Commit. */
	memset(s->exited, 0, (size_t)s->npus * sizeof *s->exited);
	sampler_update_pus(s);
	s->snap.valid = s->have_prev;
	s->snap.interval_ns = s->have_prev && now_ns > s->prev_t_ns ? now_ns - s->prev_t_ns : 0;
	s->snap.t_ns = now_ns;
	memcpy(s->snap.loadavg, la, sizeof la);
	s->snap.procs_running = running;
	s->snap.has_psi = has_psi;
	s->snap.psi_some_avg10 = has_psi ? avg10 : 0;
	s->snap.psi_some_recent = 0;
	if (has_psi && s->psi_total_ok && s->snap.interval_ns && psi_total >= s->psi_total)
		s->snap.psi_some_recent = sampler_unit(
			(double)(psi_total - s->psi_total) * 1000.0 /
			(double)s->snap.interval_ns);
	s->psi_total = psi_total;
	s->psi_total_ok = has_psi;
	s->snap.mem_total_kb = mem_total;
	s->snap.mem_available_kb = mem_avail;
	for (size_t i = 0; i < s->nw; i++)
		if (s->w[i].next_ok) {
			s->w[i].ticks = s->w[i].next;
			s->w[i].have = 1;
		}
	sampler_commit_cgroup(s);
	{
		uint64_t *t;
		unsigned char *c;

		t = s->prev_busy, s->prev_busy = s->cur_busy, s->cur_busy = t;
		t = s->prev_total, s->prev_total = s->cur_total, s->cur_total = t;
		c = s->prev_seen, s->prev_seen = s->cur_seen, s->cur_seen = c;
	}
	s->prev_t_ns = now_ns;
	s->have_prev = 1;
	s->have_snap = 1;
	if (snap)
		*snap = &s->snap;
	return 0;
}
