/* agent/sampler: turns /proc (or a fixture tree) into snapshots of how busy
 * each PU is with other people's work: /proc/stat deltas, PSI, load
 * average, meminfo. Called once per scheduler tick from the loop; the hot
 * path preads kept fds into buffers sized on the first tick and allocates
 * nothing. Our workers' CPU time, which agent/charge measures (by PID or
 * by cgroup), is subtracted from the PU it ran on before smoothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/charge.h"
#include "agent/errmsg.h"
#include "agent/procfs.h"
#include "agent/sampler.h"
#include "agent/topology.h"

struct agent_sampler {
	const struct agent_topology *topo;
	int npus;
	double alpha;    /* EWMA weight of the newest sample */

	char *root;
	int rootfd;
	int fd_stat, fd_load, fd_psi, fd_mem;
	int psi_absent;  /* pressure/cpu missing under this root */
	char *buf;
	size_t cap;

	/* Per PU index: counters of the sample in progress and the last. */
	uint64_t *cur_busy, *cur_total, *prev_busy, *prev_total;
	unsigned char *cur_seen, *prev_seen, *ewma_ok;
	int have_prev;   /* a good sample exists: deltas are possible */

	struct agent_pu_load *pu;
	struct agent_snapshot snap;
	int have_snap;
	uint64_t prev_t_ns;
	uint64_t psi_total;
	int psi_total_ok;

	struct agent_charge *charge; /* our own CPU time */
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
	agent_charge_set_root(s->charge, fd, copy);
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
	long hz;
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
	s->alpha = 2.0 / (window + 1.0);
	hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	s->rootfd = s->fd_stat = s->fd_load = s->fd_psi = s->fd_mem = -1;
	if (agent_charge_new(&s->charge, topo, hz) < 0)
		goto nomem;
	n = (size_t)s->npus;
	s->cur_busy = calloc(n, sizeof *s->cur_busy);
	s->cur_total = calloc(n, sizeof *s->cur_total);
	s->prev_busy = calloc(n, sizeof *s->prev_busy);
	s->prev_total = calloc(n, sizeof *s->prev_total);
	s->cur_seen = calloc(n, 1);
	s->prev_seen = calloc(n, 1);
	s->ewma_ok = calloc(n, 1);
	s->pu = calloc(n, sizeof *s->pu);
	if (!s->cur_busy || !s->cur_total || !s->prev_busy || !s->prev_total ||
	    !s->cur_seen || !s->prev_seen || !s->ewma_ok || !s->pu)
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
	agent_charge_free(s->charge);
	free(s->root);
	free(s->buf);
	free(s->cur_busy);
	free(s->cur_total);
	free(s->prev_busy);
	free(s->prev_total);
	free(s->cur_seen);
	free(s->prev_seen);
	free(s->ewma_ok);
	free(s->pu);
	free(s);
}

/* Replace the set of our workers; see sampler.h. */
int agent_sampler_set_workers(struct agent_sampler *s,
			      const struct agent_worker_ref *w, size_t n)
{
	return agent_charge_set_workers(s->charge, w, n);
}

/* A declared worker was reaped; see sampler.h. */
int agent_sampler_worker_exited(struct agent_sampler *s, pid_t pid,
				uint64_t cpu_ns)
{
	return agent_charge_worker_exited(s->charge, pid, cpu_ns);
}

/* Charge by cgroup instead of by PID; see sampler.h. */
int agent_sampler_set_cgroup(struct agent_sampler *s, const char *path)
{
	return agent_charge_set_cgroup(s->charge, path);
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

/* Turn the counters of the sample in progress into per-PU loads, ours_pu
 * being our ticks on each PU in it. */
static void sampler_update_pus(struct agent_sampler *s, const double *ours_pu)
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
			agent_charge_defer(s->charge, i);
			continue;
		}
		uint64_t dt = s->cur_total[i] - s->prev_total[i];
		double db = (double)(s->cur_busy[i] - s->prev_busy[i]);

		if (dt == 0)
			continue; /* no tick elapsed: nothing new to say */
		double ours = ours_pu[i] < db ? ours_pu[i] : db;

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
	const double *ours;
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
	rc = agent_charge_read(s->charge, &ours, err, errlen);
	if (rc < 0)
		return rc;

	/* Commit. */
	agent_charge_commit(s->charge);
	sampler_update_pus(s, ours);
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
