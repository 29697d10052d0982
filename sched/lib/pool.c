/* sched/lib/pool: libnicely's pools (include/nicely.h): make one (the
 * configuration, the gate, the fork server, the arena, the cgroups), reset
 * it, kill all, free it; the names of codes and statuses, the options'
 * defaults, and the helpers every pool_*.c shares (log, epoll, close).
 * Everything runs in the pool's owner thread, inside the nicely_* calls;
 * nothing here prints, exits or waits for foreign PIDs. */
#include <errno.h>
#include <sched.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nicely.h"
#include "policy/preset.h"
#include "sched/lib/forkserver.h"
#include "sched/lib/pool.h"
#include "sched/lib/pool_arena.h"
#include "sched/lib/pool_cg.h"
#include "sched/lib/pool_feed.h"
#include "sched/lib/pool_gate.h"
#include "sched/lib/pool_insight.h"
#include "sched/lib/pool_queue.h"
#include "sched/lib/pool_state.h"
#include "sched/lib/pool_task.h"
#include "sched/lib/pool_turn.h"
#include "sched/lib/pool_worker.h"
#include "sched/lib/wire.h"
#include "sched/lib/worker.h"
#include "sched/cgroup_batch.h"
#include "sched/cgroup_task.h"
#include "sched/fds.h"
#include "sched/progress.h"

#define POOL_EXIT_GRACE_MS 2000	/* options.exit_grace_ms 0 */

/* Messages for the error codes: ours, else the errno's (strerrordesc_np
 * is strerror's untranslated text, and NULL for what is no errno). */
const char *nicely_strerror(int err)
{
	const char *s;

	switch (err) {
	case 0:
		return "success";
#define NICELY_STRERROR_(name, val, msg)                                       \
	case val:                                                              \
		return msg;
		NICELY_ERRNO_MAP(NICELY_STRERROR_)
#undef NICELY_STRERROR_
	}
	if (err < 0 && err != INT_MIN && (s = strerrordesc_np(-err)))
		return s;
	return "unknown error";
}

/* The library version. */
const char *nicely_version(void)
{
	return NICELY_VERSION;
}

/* Name of a status. */
const char *nicely_status_name(nicely_status st)
{
	static const char *const names[] = { "ok",	 "failed", "signaled",
					     "timeout",	 "killed", "cancelled",
					     "queued",	 "running" };

	return (unsigned)st < sizeof names / sizeof names[0] ? names[st]
							     : "unknown";
}

/* The options of 0.2: the fields before stop_on_failure. */
#define POOL_OPTIONS_V02 offsetof(nicely_options, stop_on_failure)

/* Defaults: every field's 0, for a struct of size bytes (the caller's). */
void nicely_options_init_sized(nicely_options *o, size_t size)
{
	if (o)
		memset(o, 0, size < sizeof *o ? size : sizeof *o);
}

/* The 0.2 ABI: a struct of 0.2's size. */
#undef nicely_options_init
void nicely_options_init(nicely_options *o)
{
	nicely_options_init_sized(o, POOL_OPTIONS_V02);
}

/* Hand a line to the log callback (the library's own lines: pid 0). */
__attribute__((format(printf, 5, 6))) void
pool_log(nicely_pool *p, int level, int64_t id, pid_t pid, const char *fmt,
	 ...)
{
	char msg[512];
	va_list ap;

	if (!p->o.on_log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	p->in_cb++;
	p->o.on_log(level, id, pid, msg, p->o.log_user);
	p->in_cb--;
}

/* Register or change a fd in the epoll set. */
int pool_ep(nicely_pool *p, int op, int fd, uint32_t events, int kind,
	    int slot)
{
	struct epoll_event ev = { 0 };

	ev.events = events;
	ev.data.u64 = (uint64_t)kind << 32 | (uint32_t)slot;
	return epoll_ctl(p->ep, op, fd, op == EPOLL_CTL_DEL ? NULL : &ev) ? -errno
									  : 0;
}

/* Close a fd if open. */
void pool_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Counters. */
int nicely_stats_get(nicely_pool *p, nicely_stats *st)
{
	if (!p || !st)
		return NICELY_EINVAL;
	memset(st, 0, sizeof *st);
	st->total = p->total;
	st->completed = p->completed;
	st->running = p->running;
	st->queued = p->queued;
	st->failed = p->failed;
	st->workers_started = p->started;
	for (int i = 0; i < p->nw; i++)
		if (p->w[i].st != PW_FREE)
			st->workers++;
	st->allowed = p->allowed;
	st->cgroups = p->cg != NULL;
	st->cgroup_cpu_ns = p->cg ? p->cg_cpu_ns : -1;
	st->cgroup_mem_peak = p->cg && p->cg_mem_peak > 0 ? p->cg_mem_peak : -1;
	return 0;
}

/* Kill running work, cancel queued, wait until those workers are reaped. */
static int pool_kill_all(nicely_pool *p)
{
	int n = (int)p->running, rc;

	n += pool_queue_cancel(p);
	for (int i = 0; i < p->nw; i++)
		if (p->w[i].st != PW_FREE && p->w[i].inflight)
			pool_worker_kill(p, &p->w[i], NICELY_KILLED, -1);
	while (pool_turn_busy(p))
		if ((rc = pool_turn(p, -1)) < 0) {
			if (rc == NICELY_ECHILD)
				break;
			return rc;
		}
	return n;
}

/* Public kill-all. */
int nicely_kill_all(nicely_pool *p)
{
	if (!p)
		return NICELY_EINVAL;
	if (p->in_cb)
		return NICELY_EBUSY;
	return pool_kill_all(p);
}

/* Ask idle workers to leave (EOF on their task channel); wait up to
 * grace_ms for them, then kill what remains. */
static void pool_retire_all(nicely_pool *p, unsigned grace_ms)
{
	uint64_t end = worker_now_ns() + (uint64_t)grace_ms * 1000000u;
	int left;

	for (int i = 0; i < p->nw; i++) {
		struct pool_worker *w = &p->w[i];

		if (w->st == PW_LIVE || w->st == PW_CLOSING) {
			if (w->inflight) {
				pool_worker_kill(p, w, NICELY_KILLED, -1);
				continue;
			}
			w->st = PW_CLOSING;
			w->close_after_flush = 1;
			pool_feed_flush(p, w, i);
		}
	}
	for (;;) {
		left = 0;
		for (int i = 0; i < p->nw; i++)
			left += p->w[i].st != PW_FREE;
		if (!left || p->broken)
			break;
		uint64_t now = worker_now_ns();

		if (now >= end) {
			for (int i = 0; i < p->nw; i++)
				if (p->w[i].st != PW_FREE)
					pool_worker_kill(p, &p->w[i],
							 NICELY_KILLED, -1);
			end = UINT64_MAX;
		}
		int ms = end == UINT64_MAX ? 100
					   : (int)((end - now) / 1000000u) + 1;

		if (pool_turn(p, ms) < 0 && p->broken)
			break;
	}
}

/* Drop what exited workers handed back. */
static void pool_exitres_free(nicely_pool *p)
{
	for (size_t i = 0; i < p->nexit; i++)
		free((void *)p->exitres[i].data);
	free(p->exitres);
	p->exitres = NULL;
	p->nexit = p->exitcap = 0;
}

/* Wait, retire every worker, hand their worker_exit results. */
int64_t nicely_exit_results(nicely_pool *p, const nicely_exit_result **res)
{
	int rc;

	if (!p || !res)
		return NICELY_EINVAL;
	*res = NULL;
	if (p->in_cb)
		return NICELY_EBUSY;
	while ((rc = pool_turn(p, -1)) == 0)
		;
	if (rc < 0)
		return rc;
	pool_retire_all(p, p->o.exit_grace_ms);
	*res = p->exitres;
	return (int64_t)p->nexit;
}

/* Kill-all, clear, reload. */
int nicely_reset(nicely_pool *p)
{
	char err[512];
	int rc;

	if (!p)
		return NICELY_EINVAL;
	if (p->in_cb)
		return NICELY_EBUSY;
	rc = pool_kill_all(p);
	if (rc < 0 && rc != NICELY_ECHILD)
		return rc;
	pool_retire_all(p, p->o.exit_grace_ms);
	pool_task_forget(p);
	pool_exitres_free(p);
	pool_insight_forget(p);
	err[0] = 0;
	rc = pool_gate_reload(p->gate, err, sizeof err);
	if (rc)
		pool_log(p, NICELY_LOG_ERROR, -1, 0, "%s", err);
	/* the slots' worker groups go (the workers are gone); the batch
	 * group stays unless the preset's weight class changed (a new one is
	 * not known to the fork server: after the owner's death only the
	 * next pool's stale cleaning removes it) */
	pool_cg_slots_drop(p);
	if (!p->agent && !p->nested &&	/* the agent's batch, a nested
					 * pool's, keep their class */
	    ((p->cg && pool_gate_preset(p->gate)->weight != p->cg_weight) ||
	     (!p->cg && p->o.cgroups == NICELY_CGROUPS_REQUIRED))) {
		int crc;

		pool_cg_close(p);
		if ((crc = pool_cg_open(p)) < 0)
			return crc;
	}
	p->cg_cpu_ns = p->cg_mem_peak = 0;
	if (rc)
		return NICELY_ECONFIG;
	p->next_tick_ns = worker_now_ns() +
			  (uint64_t)pool_gate_warmup_ms(p->gate) * 1000000u;
	p->allowed = 0;
	return p->broken ? NICELY_ECHILD : 0;
}

/* Tear the pool down; safe on a half-built pool. */
static void pool_destroy(nicely_pool *p)
{
	if (p->fs_pid > 0) {
		pool_queue_cancel(p);
		pool_retire_all(p, p->o.exit_grace_ms);
		if (p->cg) {	/* we remove the cgroups ourselves below */
			struct forkserver_msg m = { FORKSERVER_BYE, 0, 0, 0,
						    -1, 0, 0, 0, 0 };

			forkserver_send(p->ctl, &m, NULL, 0);
		}
		pool_close(&p->ctl);	/* the fork server kills the rest */
		while (waitpid(p->fs_pid, NULL, 0) < 0 && errno == EINTR)
			;
		for (int i = 0; i < p->nw; i++) {
			struct pool_worker *w = &p->w[i];

			if (w->st == PW_FREE)
				continue;
			w->exited = w->exited ? w->exited : 2;
			w->eof = 1;
			pool_worker_done(p, i);
		}
	}
	if (p->bar) {	/* freed with work left: end the line */
		struct progress_state st = {
			(uint64_t)(p->completed - p->bar_done0),
			(uint64_t)(p->failed - p->bar_failed0), 0,
			p->total - p->bar_done0, 0 };

		progress_finish(p->bar, &st);
	}
	pool_task_forget(p);
	pool_exitres_free(p);
	pool_insight_forget(p);
	if (p->arena)
		munmap(p->arena, p->arena_len);
	free(p->areg);
	pool_cg_close(p);
	pool_close(&p->ctl);
	pool_close(&p->ep);
	pool_close(&p->tfd);
	pool_gate_free(p->gate);
	if (p->slots)
		munmap(p->slots, p->slots_len);
	for (int i = 0; p->w && i < p->nw; i++) {
		wire_buf_free(&p->w[i].out);
		wire_buf_free(&p->w[i].in);
		wire_buf_free(&p->w[i].err);
	}
	free(p->w);
	free(p->ans_cpus);
	free(p->preset);
	free(p->config_file);
	free(p->cpus_list);
	free(p);
}

/* Free a pool; refused from a callback (the call that ran the callback
 * still uses the pool when the callback returns). */
void nicely_pool_free(nicely_pool *p)
{
	if (p && p->in_cb) {
		pool_log(p, NICELY_LOG_ERROR, -1, 0,
			 "nicely_pool_free called from a callback: refused "
			 "(NICELY_EBUSY); free the pool after the call that "
			 "ran the callback has returned");
		return;
	}
	if (p)
		pool_destroy(p);
}

/* Create a pool. */
/* The fd budget of a pool. What it opens for itself: the sampler's procfs
 * root and 4 files, epoll, timerfd, the forkserver's socket, the arena,
 * the batch group's CPU-time file and a cgroup trace file. */
#define POOL_FDS_SETUP 11
/* Open for a moment: the other ends of a starting worker's channels, the
 * user-name lookup and the cgroup files written at worker setup. */
#define POOL_FDS_SLACK 6
/* Each live worker: its task socket, result and stderr pipes. */
#define POOL_FDS_WORKER 3

/* fds one worker holds in the parent, with its cgroup files in a tree of
 * nh hierarchies (0: none). */
static long pool_fds_worker(int nh)
{
	return POOL_FDS_WORKER + (nh > 0 ? SCHED_CGROUP_TASK_FDS(nh) : 0);
}

/* Before the pool opens anything: NICELY_EMFILE (logged) when the open-file
 * limit leaves no room for the pool's own files and one worker. */
static int pool_fds_check_new(nicely_pool *p)
{
	long limit = fds_limit(), need;

	if (limit < 0)
		return 0;
	need = fds_open_now(limit) + POOL_FDS_SETUP + POOL_FDS_SLACK +
	       pool_fds_worker(p->o.cgroups == NICELY_CGROUPS_OFF ? 0 :
			       sched_cgroup_tree_hierarchies(NULL));
	if (limit >= need)
		return 0;
	pool_log(p, NICELY_LOG_ERROR, -1, 0, "too few open files allowed: a "
		 "pool needs at least %ld (its own files and one worker's) "
		 "but the limit (RLIMIT_NOFILE) is %ld", need, limit);
	return NICELY_EMFILE;
}

/* After setup: as many workers at once as the fds left allow (said once
 * when fewer than the pool would run), NICELY_EMFILE when not one. */
static int pool_fds_cap(nicely_pool *p)
{
	long limit = fds_limit(), per, room;

	if (limit < 0)
		return 0;
	per = pool_fds_worker(p->cg ? sched_cgroup_tree_hierarchies(NULL) : 0);
	room = limit - fds_open_now(limit) - POOL_FDS_SLACK;
	if (room < per) {
		pool_log(p, NICELY_LOG_ERROR, -1, 0, "too few open files "
			 "allowed: a pool needs at least %ld (its own files and "
			 "one worker's) but the limit (RLIMIT_NOFILE) is %ld",
			 limit - room + per, limit);
		return NICELY_EMFILE;
	}
	if (room / per < p->cap) {
		pool_log(p, NICELY_LOG_WARNING, -1, 0, "the open-file limit "
			 "(RLIMIT_NOFILE %ld) lets %ld workers run at once (each "
			 "holds %ld fds), not %d", limit, room / per, per, p->cap);
		p->cap = (int)(room / per);
	}
	return 0;
}

/* The 0.2 ABI: options of 0.2's size. */
#undef nicely_pool_new
int nicely_pool_new(nicely_pool **out, const nicely_options *opts)
{
	return nicely_pool_new_sized(out, opts, POOL_OPTIONS_V02);
}

/* Create a pool from options of size bytes (the caller's sizeof). */
int nicely_pool_new_sized(nicely_pool **out, const nicely_options *opts,
			  size_t size)
{
	struct pool_gate_opts go = { 0 };
	nicely_pool *p;
	char err[512];
	int rc;

	if (!out)
		return NICELY_EINVAL;
	*out = NULL;
	p = calloc(1, sizeof *p);
	if (!p)
		return NICELY_ENOMEM;
	p->ctl = p->ep = p->tfd = -1;
	/* fields past the caller's struct are 0: their defaults */
	if (opts)
		memcpy(&p->o, opts, size < sizeof p->o ? size : sizeof p->o);
	if (p->o.max_workers < 0 ||
	    ((p->o.nice < 0 || p->o.nice > 19) &&
	     p->o.nice != NICELY_NICE_ZERO) ||
	    p->o.cgroups < NICELY_CGROUPS_AUTO ||
	    p->o.cgroups > NICELY_CGROUPS_REQUIRED ||
	    p->o.progress < NICELY_PROGRESS_OFF ||
	    p->o.progress > NICELY_PROGRESS_ALWAYS) {
		rc = NICELY_EINVAL;
		goto fail;
	}
	/* the zeros that mean a default, made explicit */
	if (!p->o.exit_grace_ms)
		p->o.exit_grace_ms = POOL_EXIT_GRACE_MS;
	else if (p->o.exit_grace_ms == NICELY_GRACE_NONE)
		p->o.exit_grace_ms = 0;
	if ((p->o.preset && !(p->preset = strdup(p->o.preset))) ||
	    (p->o.config_file && !(p->config_file = strdup(p->o.config_file)))) {
		rc = NICELY_ENOMEM;
		goto fail;
	}
	p->o.preset = p->preset;
	p->o.config_file = p->config_file;
	go.preset = p->preset;
	go.max_workers = p->o.max_workers;
	if (p->o.nice == 0)
		go.nice = -1;	/* the preset's */
	else
		go.nice = p->o.nice == NICELY_NICE_ZERO ? 0 : p->o.nice;
	go.config_file = p->config_file;
	if (p->o.cpus) {
		if (!(p->cpus_list = strdup(p->o.cpus))) {
			rc = NICELY_ENOMEM;
			goto fail;
		}
		p->o.cpus = p->cpus_list;
		err[0] = 0;
		if (pool_gate_cpus(p->cpus_list, &p->cpus, err, sizeof err)) {
			pool_log(p, NICELY_LOG_ERROR, -1, 0, "%s", err);
			rc = NICELY_EINVAL;
			goto fail;
		}
	}
	/* too few fds: say so before a sampler file or a cgroup fails */
	if ((rc = pool_fds_check_new(p)))
		goto fail;
	err[0] = 0;
	/* the topology takes the thread's affinity as its allowed set when
	 * it loads: options.cpus for that moment */
	cpu_set_t was;
	int swap = p->o.cpus && !sched_getaffinity(0, sizeof was, &was) &&
		   !sched_setaffinity(0, sizeof p->cpus, &p->cpus);

	rc = pool_gate_new(&p->gate, &go, err, sizeof err);
	if (swap)
		sched_setaffinity(0, sizeof was, &was);
	if (rc) {
		pool_log(p, NICELY_LOG_ERROR, -1, 0, "%s", err);
		rc = rc == -ENOMEM ? NICELY_ENOMEM : NICELY_ECONFIG;
		goto fail;
	}
	if (*pool_gate_warning(p->gate))
		pool_log(p, NICELY_LOG_WARNING, -1, 0, "%s",
			 pool_gate_warning(p->gate));
	p->cap = pool_gate_cap(p->gate);
	if (p->o.max_workers > 0 && p->o.max_workers < p->cap)
		p->cap = p->o.max_workers;
	if (p->cap < 1)
		p->cap = 1;
	p->nw = 2 * p->cap + 1;	/* room for replacements while old ones exit */
	p->w = calloc((size_t)p->nw, sizeof *p->w);
	p->ans_cpus = calloc((size_t)p->cap, sizeof *p->ans_cpus);
	if (!p->w || !p->ans_cpus) {
		rc = NICELY_ENOMEM;
		goto fail;
	}
	for (int i = 0; i < p->nw; i++)
		p->w[i].task_fd = p->w[i].res_fd = p->w[i].err_fd = -1;
	p->slots_len = sizeof(struct worker_slot) * (size_t)p->nw;
	p->slots = mmap(NULL, p->slots_len, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p->slots == MAP_FAILED) {
		p->slots = NULL;
		rc = NICELY_ENOMEM;
		goto fail;
	}
	p->ep = epoll_create1(EPOLL_CLOEXEC);
	p->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (p->ep < 0 || p->tfd < 0) {
		rc = NICELY_EMFILE;
		goto fail;
	}
	p->wcfg.init = p->o.worker_init;
	p->wcfg.exit = p->o.worker_exit;
	p->wcfg.init_arg = p->o.init_arg;
	p->wcfg.lifespan = p->o.lifespan;
	p->wcfg.timed = p->o.timeout_ms > 0;
	p->wcfg.slots = p->slots;
	p->wcfg.nslots = p->nw;
	if ((rc = pool_arena_open(p)) < 0)
		goto fail;
	p->wcfg.arena = p->arena;
	p->wcfg.arena_len = p->arena_len;
	/* with nicely-agent the fork server is the batch's owner: it starts
	 * first and the agent moves it into the batch group it makes */
	pool_cg_agent_connect(p);
	if (!p->agent && (rc = pool_cg_open(p)) < 0)
		goto fail;
	int autogroup = !p->cg && !p->agent &&
				pool_gate_preset(p->gate)->weight !=
					POLICY_WEIGHT_NORMAL
				? (int)pool_gate_preset(p->gate)->weight
				: -1;
	pid_t pid = forkserver_start(&p->ctl, &p->wcfg, p->cg, autogroup);

	if (pid < 0) {
		rc = pid == -ENOMEM ? NICELY_ENOMEM : NICELY_EIO;
		goto fail;
	}
	p->fs_pid = pid;
	/* workers not pinned (no_pin, or beyond one per CPU) keep to
	 * options.cpus through the fork server's affinity */
	if (p->o.cpus && sched_setaffinity(pid, sizeof p->cpus, &p->cpus))
		pool_log(p, NICELY_LOG_WARNING, -1, 0, "cannot keep the fork "
			 "server to options.cpus: %s", strerror(errno));
	if (p->agent && (rc = pool_cg_agent_open(p, pid)) < 0)
		goto fail;
	p->next_tick_ns = worker_now_ns() +
			  (uint64_t)pool_gate_warmup_ms(p->gate) * 1000000u;
	/* what is open now: how many workers fit at once */
	if ((rc = pool_fds_cap(p)))
		goto fail;
	pool_ep(p, EPOLL_CTL_ADD, p->ctl, EPOLLIN, EV_CTL, 0);
	pool_ep(p, EPOLL_CTL_ADD, p->tfd, EPOLLIN, EV_TIMER, 0);
	*out = p;
	return 0;
fail:
	pool_destroy(p);
	return rc;
}
