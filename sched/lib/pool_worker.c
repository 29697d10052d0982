/* sched/lib/pool_worker: a worker slot's life (see enum pool_wstate):
 * spawned through the fork server with its channels and cgroup, killed
 * (through the fork server and its cgroup), and settled when both its exit
 * and EOF have arrived: its tasks finished, requeued or given the status
 * its end explains. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nicely.h"
#include "sched/cgroup.h"
#include "sched/lib/forkserver.h"
#include "sched/lib/pool.h"
#include "sched/lib/pool_arena.h"
#include "sched/lib/pool_cg.h"
#include "sched/lib/pool_insight.h"
#include "sched/lib/pool_into.h"
#include "sched/lib/pool_queue.h"
#include "sched/lib/pool_recv.h"
#include "sched/lib/pool_state.h"
#include "sched/lib/pool_task.h"
#include "sched/lib/pool_worker.h"
#include "sched/lib/wire.h"
#include "sched/lib/worker.h"

#define POOL_BUF_KEEP (1u << 20)

/* Ask the fork server to kill a worker's process group. */
void pool_worker_kill(nicely_pool *p, struct pool_worker *w,
		      int reason, int64_t task)
{
	if (w->st == PW_FREE)
		return;
	if (!w->kill_reason) {
		w->kill_reason = reason;
		w->kill_task = task;
	}
	w->st = PW_DYING;
	if (w->pid > 0 && !w->kill_sent && !w->exited) {
		struct forkserver_msg m = { FORKSERVER_KILL, (int)(w - p->w),
					    w->pid, 0, -1, 0, 0, 0, 0 };

		if (w->frozen)
			sched_cgroup_task_freeze(w->cg, 0, NULL, 0);
		w->frozen = 0;
		if (w->paused)
			kill(w->pid, SIGCONT);
		if (!forkserver_send(p->ctl, &m, NULL, 0))
			w->kill_sent = 1;
		/* the whole group: what the task left outside its process
		 * group (setsid, double forks) dies with the worker */
		if (w->cg) {
			char err[512];

			if (sched_cgroup_task_kill(w->cg, err, sizeof err) < 0)
				pool_log(p, NICELY_LOG_WARNING, -1, w->pid,
					 "%s", err);
		}
	}
}

/* Clear a worker slot but keep its buffers, emptied, for the slot's next
 * worker (a lifespan-1 pool would otherwise grow and shrink its heap for
 * every task); a buffer a big return grew past POOL_BUF_KEEP is freed. */
static void pool_worker_clear(struct pool_worker *w)
{
	struct wire_buf b[3] = { w->out, w->in, w->err };

	memset(w, 0, sizeof *w);
	for (int i = 0; i < 3; i++) {
		b[i].len = b[i].off = 0;
		if (b[i].cap > POOL_BUF_KEEP)
			wire_buf_free(&b[i]);
	}
	w->out = b[0];
	w->in = b[1];
	w->err = b[2];
}

/* Start a worker in a free slot, pinned to cpu (-1: not pinned). */
int pool_worker_spawn(nicely_pool *p, int cpu)
{
	int slot = -1, tv[2] = { -1, -1 }, rp[2] = { -1, -1 },
	    ep[2] = { -1, -1 }, rc;
	struct pool_worker *w;
	struct sched_cgroup_task *cg = NULL;

	for (int i = 0; i < p->nw; i++)
		if (p->w[i].st == PW_FREE) {
			slot = i;
			break;
		}
	if (slot < 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tv) ||
	    pipe2(rp, O_CLOEXEC) ||
	    (p->o.capture_stderr && pipe2(ep, O_CLOEXEC))) {
		rc = errno == EMFILE || errno == ENFILE ? NICELY_EMFILE
							: NICELY_EIO;
		goto fail;
	}
	fcntl(tv[0], F_SETFL, O_NONBLOCK);
	fcntl(rp[0], F_SETFL, O_NONBLOCK);
	if (ep[0] >= 0)
		fcntl(ep[0], F_SETFL, O_NONBLOCK);
	if (p->o.lifespan != 1)	/* room for batches of results */
		fcntl(rp[0], F_SETPIPE_SZ, 1 << 20);
	p->slots[slot].running = WORKER_IDLE;
	p->slots[slot].start_ns = 0;
	p->slots[slot].last = WORKER_IDLE;
	for (int i = 0; i < WORKER_SKIPS; i++)
		p->slots[slot].skip[i] = WORKER_IDLE;
	p->slots[slot].t_start = p->slots[slot].t_init_end = 0;
	p->slots[slot].t_exit_start = p->slots[slot].t_exit_end = 0;
	p->slots[slot].busy_ns = p->slots[slot].ntasks = 0;
	cpu = p->o.no_pin ? -1 : cpu;
	cg = pool_cg_worker(p, slot, cpu, &rc);
	if (rc)
		goto fail;
	struct forkserver_msg m = { FORKSERVER_SPAWN, slot, 0, p->ans_nice,
				    cpu, ep[1] >= 0 ? 3 : 2, 0, 0, 0 };
	int fds[FORKSERVER_MAX_FDS] = { tv[1], rp[1], ep[1] };

	if (cg) {	/* the child joins these before it runs anything
			 * (an unpinned one stays in the fork server's v1
			 * cpuset until it is moved) */
		m.ncg = sched_cgroup_task_join_fds(cg, fds + m.nfds);
		m.nfds += m.ncg;
	}
	rc = forkserver_send(p->ctl, &m, fds, m.nfds);
	/* a slot whose workers come and go keeps its group's files open for
	 * the next one (nothing opened per worker), within a bound of about
	 * 32 slots x 9 files; others reopen them at reuse */
	if (cg && (p->o.lifespan == 0 || p->nw > 32))
		sched_cgroup_task_forked(cg);
	pool_close(&tv[1]);
	pool_close(&rp[1]);
	pool_close(&ep[1]);
	if (rc) {
		rc = NICELY_ECHILD;
		p->broken = 1;
		goto fail;
	}
	w = &p->w[slot];
	pool_worker_clear(w);
	w->st = PW_LIVE;
	w->task_fd = tv[0];
	w->res_fd = rp[0];
	w->err_fd = ep[0];
	w->cpu = m.cpu;
	w->eof = 0;
	w->cg = cg;
	w->spawn_ns = worker_now_ns();
	pool_ep(p, EPOLL_CTL_ADD, w->res_fd, EPOLLIN, EV_RES, slot);
	if (w->err_fd >= 0)
		pool_ep(p, EPOLL_CTL_ADD, w->err_fd, EPOLLIN, EV_ERR, slot);
	p->started++;
	return 1;
fail:
	if (cg)
		pool_cg_slot_drop(p, slot);
	for (int i = 0; i < 2; i++) {
		pool_close(&tv[i]);
		pool_close(&rp[i]);
		pool_close(&ep[i]);
	}
	return rc;
}

/* Workers in a row that may die on their own before beginning any task
 * (worker_init crashing or failing, a broken environment) before the
 * queued tasks fail instead of being handed to the next one. */
#define POOL_EARLY_DEATHS 5

/* Describe a wait status for an error message. */
static void pool_describe(int st, char *buf, size_t len)
{
	if (WIFSIGNALED(st))
		snprintf(buf, len, "the worker was killed by signal %d (%s)",
			 WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "the task ended its worker with exit(%d)",
			 WEXITSTATUS(st));
}

/* How a worker that was not asked to leave (or was killed for a timeout)
 * ended, as "its worker ...". */
static void pool_end(const struct pool_worker *w, char *buf, size_t len)
{
	int st = w->wstatus;

	if (w->garbled)
		snprintf(buf, len, "sent data the pool could not read and was "
				   "killed");
	else if (w->kill_reason == NICELY_TIMEOUT)
		snprintf(buf, len, "was killed when task %lld timed out",
			 (long long)w->kill_task);
	else if (w->kill_reason == NICELY_CANCELLED)
		snprintf(buf, len, "was killed when task %lld was cancelled",
			 (long long)w->kill_task);
	else if (w->exited != 1)
		snprintf(buf, len, "was lost with the fork server");
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else if (WEXITSTATUS(st) == WORKER_EXIT_PIPE)
		snprintf(buf, len, "lost its pipe to the pool (exit status %d; "
				   "did the task close file descriptors it did "
				   "not open?)", WORKER_EXIT_PIPE);
	else if (WEXITSTATUS(st) == WORKER_EXIT_NOMEM)
		snprintf(buf, len, "ran out of memory (exit status %d)",
			 WORKER_EXIT_NOMEM);
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
}

/* How many of the tasks a worker holds (in the order sent) began: those
 * up to the last one it began. */
static int64_t pool_begun(const struct pool_worker *w, int64_t last)
{
	int64_t pos = 0;

	if (last < 0)
		return 0;
	for (int k = 0; k < w->fl_n; k++) {
		struct pool_range r = w->fl[(w->fl_head + k) % POOL_FLIGHT];

		if (last >= r.first && last < r.first + r.count)
			return pos + (last - r.first) + 1;
		pos += r.count;
	}
	return 0;
}

/* Forks of a worker that may fail in a row (each waiting twice as long
 * as the one before, from 100 ms up to 1.6 s: about 8 s in all) before
 * the queued tasks fail, when no worker of the pool is left to run them. */
#define POOL_SPAWN_TRIES 8

/* A worker could not be started (see pool_worker.h): back off and try
 * again, bounded. */
void pool_worker_startfail(nicely_pool *p, int slot, int err, const char *what)
{
	uint64_t now = worker_now_ns();
	struct rlimit rl;
	char hint[96] = "", why[256];
	int others = 0;

	if (now < p->backoff_ns)	/* one failure per wait counts */
		return;
	if (!p->spawn_fails++)
		p->spawn_fail_ns = now;
	int shift = p->spawn_fails - 1 < 4 ? p->spawn_fails - 1 : 4;
	uint64_t wait_ns = 100000000ull << shift;

	if (err == EAGAIN && !getrlimit(RLIMIT_NPROC, &rl) &&
	    rl.rlim_cur != RLIM_INFINITY)
		snprintf(hint, sizeof hint, " (your processes are limited to "
			 "%llu: RLIMIT_NPROC)", (unsigned long long)rl.rlim_cur);
	if ((err == EMFILE || err == ENFILE) &&
	    !getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY)
		snprintf(hint, sizeof hint, " (open files are limited to "
			 "%llu: RLIMIT_NOFILE)", (unsigned long long)rl.rlim_cur);
	for (int i = 0; i < p->nw; i++)
		others += i != slot && p->w[i].st != PW_FREE;
	if (p->spawn_fails < POOL_SPAWN_TRIES || others) {
		pool_log(p, NICELY_LOG_WARNING, -1, 0,
			 "cannot %s a worker: %s%s; trying again in %llu ms",
			 what, strerror(err), hint,
			 (unsigned long long)(wait_ns / 1000000u));
		p->backoff_ns = now + wait_ns;
		return;
	}
	snprintf(why, sizeof why, "not run: cannot %s a worker: %s%s "
		 "(%d tries over %.1f s)", what, strerror(err), hint,
		 p->spawn_fails, (double)(now - p->spawn_fail_ns) / 1e9);
	pool_log(p, NICELY_LOG_ERROR, -1, 0, "%s; failing the %lld queued "
		 "tasks", why + 9, (long long)p->queued);
	p->spawn_fails = 0;
	pool_queue_fail(p, NICELY_FAILED, why);
}

/* A worker is gone (exit reported and channel closed): settle its tasks
 * and free the slot. Tasks that began and have no result get one saying
 * how the worker ended (never run twice); tasks it never began go back to
 * the queue front, unless POOL_EARLY_DEATHS workers in a row died before
 * beginning anything: then they and the whole queue fail. */
void pool_worker_done(nicely_pool *p, int slot)
{
	struct pool_worker *w = &p->w[slot];
	int64_t victim = __atomic_load_n(&p->slots[slot].running,
					 __ATOMIC_ACQUIRE);
	int64_t last = __atomic_load_n(&p->slots[slot].last, __ATOMIC_ACQUIRE);
	int st = w->wstatus, first_open = 1, nfail = 0;
	/* it ended on its own (or broke its channel), not asked to */
	int died = (w->exited == 1 && !w->kill_reason) || w->garbled;
	/* tasks that began lose their results (a timeout's kill too; a
	 * kill_all cancels them, a gate STOP runs them again) */
	int lost = died || w->exited == 2 || w->kill_reason == NICELY_TIMEOUT ||
		   w->kill_reason == NICELY_CANCELLED;
	int early = died && !w->garbled && last == WORKER_IDLE &&
		    (w->initfail || st || w->inflight);
	int64_t nbegun = lost ? pool_begun(w, last) : 0, pos = 0;
	struct pool_range rq[POOL_FLIGHT + 1];	/* the victim splits one */
	int nrq = 0, giveup = 0;
	char why[512], end[160], gone[720];

	pool_end(w, end, sizeof end);
	if (early)
		p->early_deaths++;
	else if (last != WORKER_IDLE)
		p->early_deaths = 0;
	if (early && p->early_deaths >= POOL_EARLY_DEATHS) {
		giveup = 1;
		if (w->initfail)
			snprintf(why, sizeof why, "worker init failed: %s",
				 w->initfail);
		else if (victim == WORKER_INIT)
			snprintf(why, sizeof why, "its worker %s in worker_init",
				 end);
		else
			snprintf(why, sizeof why, "its worker %s before "
				 "beginning a task", end);
		snprintf(gone, sizeof gone, "not run: %d workers in a row died "
			 "before beginning a task; the last: %s",
			 POOL_EARLY_DEATHS, why);
	}
	pool_recv_stderr(p, slot, 1);
	for (int k = 0; k < w->fl_n; k++) {
		struct pool_range r = w->fl[(w->fl_head + k) % POOL_FLIGHT];

		for (int64_t id = r.first; id < r.first + r.count; id++) {
			struct pool_task *t = pool_task_get(p, id);
			struct pool_into *in =
				p->ninto ? pool_into_of(p, id) : NULL;
			int begun = pos++ < nbegun;

			if (in && !t && in->st[id - in->first] == NICELY_RUNNING &&
			    !(t = pool_into_rec(in, id - in->first, slot))) {
				/* no memory for its record: run it again */
				pool_into_set(in, id - in->first, 1,
					      NICELY_QUEUED);
				p->running--;
				p->queued++;
				if (nrq && rq[nrq - 1].first + rq[nrq - 1].count == id)
					rq[nrq - 1].count++;
				else if (nrq < POOL_FLIGHT + 1)
					rq[nrq++] = (struct pool_range){ id, 1 };
				continue;
			}
			if (!t || t->res.status != NICELY_RUNNING ||
			    t->worker != slot)
				continue;
			int is_first = first_open;

			first_open = 0;
			t->res.pid = w->pid;
			if (id == victim && p->o.timeout_ms)
				t->res.wall = (double)(worker_now_ns() -
						       p->slots[slot].start_ns) / 1e9;
			if (w->initfail) {
				snprintf(why, sizeof why,
					 "worker init failed: %s", w->initfail);
				pool_task_finish(p, t, NICELY_FAILED, 0, why);
			} else if (w->kill_reason == NICELY_KILLED) {
				/* only the task it was running was running */
				if (id == victim)
					pool_task_finish(p, t, NICELY_KILLED, 0,
							 w->stop_kill
								 ? p->stop_kill
								 : POOL_KILLALL_KILL);
				else
					pool_task_finish(
						p, t, NICELY_CANCELLED, 0,
						w->stop_kill ? p->stop_cancel
							     : POOL_KILLALL_CANCEL);
			} else if (id == victim && w->kill_reason == NICELY_TIMEOUT &&
				   id == w->kill_task) {
				snprintf(why, sizeof why,
					 "timed out after %u ms; its %s was "
					 "killed",
					 p->o.timeout_ms,
					 w->cg ? "worker's cgroup"
					       : "process group");
				pool_task_finish(p, t, NICELY_TIMEOUT, 0, why);
			} else if (id == victim &&
				   w->kill_reason == NICELY_CANCELLED &&
				   id == w->kill_task) {
				pool_task_finish(p, t, NICELY_KILLED, 0,
						 "killed by nicely_cancel");
			} else if (died && !w->garbled &&
				   (id == victim ||
				    (victim == WORKER_INIT && is_first))) {
				pool_describe(st, why, sizeof why);
				if (victim == WORKER_INIT)
					strncat(why, " in worker_init",
						sizeof why - strlen(why) - 1);
				pool_task_finish(
					p, t,
					WIFSIGNALED(st) ? NICELY_SIGNALED
							: NICELY_FAILED,
					WIFSIGNALED(st) ? WTERMSIG(st)
							: WEXITSTATUS(st),
					why);
				nfail++;
			} else if (begun && lost) {
				/* it ran (or was running): its result is lost,
				 * and running it again could do its work twice */
				snprintf(why, sizeof why, "its worker %s %s",
					 end, id == victim
					 ? "while running the task"
					 : "after running the task, before its "
					   "result reached the pool");
				int sig = died && !w->garbled &&
					  w->exited == 1 && WIFSIGNALED(st);

				pool_task_finish(
					p, t, sig ? NICELY_SIGNALED : NICELY_FAILED,
					sig ? WTERMSIG(st)
					    : died && !w->garbled &&
							      w->exited == 1
						      ? WEXITSTATUS(st)
						      : 0,
					why);
				nfail++;
			} else if (giveup) {
				pool_task_finish(p, t, NICELY_FAILED, 0, gone);
				nfail++;
			} else if (id < p->stop_below) {
				/* unfinished at a stop_on_failure stop */
				pool_task_finish(p, t, NICELY_CANCELLED, 0,
						 p->stop_cancel);
			} else {
				t->res.status = NICELY_QUEUED;
				t->worker = -1;
				p->running--;
				p->queued++;
				if (nrq && rq[nrq - 1].first + rq[nrq - 1].count == id)
					rq[nrq - 1].count++;
				else if (nrq < POOL_FLIGHT + 1)
					rq[nrq++] = (struct pool_range){ id, 1 };
			}
			if (in && t->res.status == NICELY_QUEUED) {
				/* a map_into element to run again: no record */
				pool_into_mark(p, t);
				pool_task_release(t);
				free(t);
				in->rec[id - in->first] = NULL;
			}
		}
	}
	for (int i = nrq - 1; i >= 0; i--)
		if (pool_queue_push(&p->q, rq[i].first, rq[i].count, 1))
			pool_log(p, NICELY_LOG_ERROR, -1, 0,
				 "out of memory requeueing tasks");
	if (died && !w->initfail && (st || w->garbled || nfail))
		pool_log(p, NICELY_LOG_WARNING, victim >= 0 ? victim : -1,
			 w->pid, "worker %d %s; %d of its tasks failed, %d "
			 "went back to the queue", (int)w->pid, end, nfail,
			 (int)(w->inflight - nfail));
	if (giveup) {
		pool_log(p, NICELY_LOG_ERROR, -1, w->pid,
			 "%d workers in a row died before beginning a task "
			 "(the last: %s); failing the %lld queued tasks",
			 POOL_EARLY_DEATHS, why, (long long)p->queued);
		pool_queue_fail(p, NICELY_FAILED, gone);
		p->early_deaths = 0;
	}
	if (w->forkerr)
		pool_worker_startfail(p, slot, w->forkerr, "fork");
	if (w->pollout)
		pool_ep(p, EPOLL_CTL_DEL, w->task_fd, 0, EV_TASK, slot);
	pool_close(&w->task_fd);
	pool_close(&w->res_fd);
	pool_close(&w->err_fd);
	free(w->initfail);
	pool_insight_worker_done(p, slot);
	pool_cg_worker_done(p, w);
	pool_worker_clear(w);
	w->task_fd = w->res_fd = w->err_fd = -1;
	w->st = PW_FREE;
	pool_arena_sweep(p);
}
