/* sched/lib/pool_turn: the pool's loop. One turn (nicely_step, and the
 * calls that wait) reaps, dispatches, waits on the epoll set, reads the
 * fork server's and the workers' messages and kills timed-out tasks; also
 * the deadline behind nicely_timeout_ms. Runs in the owner thread. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "nicely.h"
#include "sched/lib/forkserver.h"
#include "sched/lib/pool.h"
#include "sched/lib/pool_dispatch.h"
#include "sched/lib/pool_feed.h"
#include "sched/lib/pool_gate.h"
#include "sched/lib/pool_into.h"
#include "sched/lib/pool_recv.h"
#include "sched/lib/pool_state.h"
#include "sched/lib/pool_task.h"
#include "sched/lib/pool_turn.h"
#include "sched/lib/pool_worker.h"
#include "sched/lib/worker.h"
#include "sched/progress.h"

/* Messages from the fork server. */
static void pool_read_ctl(nicely_pool *p)
{
	struct forkserver_msg m;

	for (;;) {
		ssize_t n = recv(p->ctl, &m, sizeof m, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			if (!p->broken)
				pool_log(p, NICELY_LOG_ERROR, -1, 0,
					 "the fork server is gone");
			p->broken = 1;
			pool_ep(p, EPOLL_CTL_DEL, p->ctl, 0, EV_CTL, 0);
			for (int i = 0; i < p->nw; i++)
				if (p->w[i].st != PW_FREE && !p->w[i].exited) {
					p->w[i].exited = 2;
					p->w[i].wstatus = SIGKILL;
				}
			return;
		}
		if ((size_t)n != sizeof m || m.slot < 0 || m.slot >= p->nw)
			continue;
		struct pool_worker *w = &p->w[m.slot];

		if (m.type == FORKSERVER_SPAWNED) {
			struct pool_gate_worker gw[p->nw];

			w->pid = m.pid;
			p->spawn_fails = 0;
			pool_gate_workers(p->gate, gw,
					  pool_dispatch_list(p, gw));
			if (w->st == PW_DYING)
				pool_worker_kill(p, w, w->kill_reason,
						 w->kill_task);
		} else if (m.type == FORKSERVER_SPAWNFAIL) {
			/* no process: its tasks go back to the queue, and
			 * pool_worker_done backs off (pool_worker_startfail) */
			w->exited = 2;
			w->forkerr = m.val ? m.val : EAGAIN;
		} else if (m.type == FORKSERVER_AUTOGROUP) {
			if (m.val && m.val != ENOENT)
				pool_log(p, NICELY_LOG_WARNING, -1, 0,
					 "cannot lower the workers' autogroup "
					 "priority: %s",
					 strerror(m.val));
			else if (!m.val)
				pool_log(p, NICELY_LOG_DEBUG, -1, 0,
					 "workers run in a session of their "
					 "own with the preset's autogroup "
					 "nice");
		} else if (m.type == FORKSERVER_EXITED && w->pid == m.pid) {
			w->exited = 1;
			w->wstatus = m.val;
			w->exit_ns = worker_now_ns();
			pool_gate_worker_exited(p->gate, m.pid, m.cpu_ns);
		}
	}
}

/* Settle workers whose exit and EOF have both arrived. */
static void pool_reap(nicely_pool *p)
{
	for (int i = 0; i < p->nw; i++) {
		struct pool_worker *w = &p->w[i];

		if (w->st == PW_FREE || !w->exited)
			continue;
		if (!w->eof)
			pool_recv_results(p, i);
		if (w->eof)
			pool_worker_done(p, i);
	}
}

/* worker_init or worker_exit of worker slot i (running r since s) ran
 * past its timeout: kill it, as a death of its own in worker_init (so
 * that workers timing out in a row fail the queue). The deadline, or 0
 * when it is not in either. */
static uint64_t pool_timeout_initexit(nicely_pool *p, int i, int64_t r,
				      uint64_t s, uint64_t now)
{
	struct pool_worker *w = &p->w[i];
	unsigned ms = r == WORKER_INIT ? p->o.init_timeout_ms
		      : r == WORKER_EXIT ? p->o.exit_timeout_ms
					 : 0;
	uint64_t limit = (uint64_t)ms * 1000000u;
	char why[96];

	if (!limit || !s)
		return 0;
	if (now <= s || now - s < limit)
		return s + limit;
	if (r == WORKER_INIT) {
		snprintf(why, sizeof why, "timed out after %u ms", ms);
		free(w->initfail);
		w->initfail = strdup(why);
	} else {
		pool_log(p, NICELY_LOG_WARNING, -1, w->pid, "worker %d: "
			 "worker_exit ran past exit_timeout_ms (%u ms); "
			 "killed", (int)w->pid, ms);
	}
	pool_worker_kill(p, w, 0, -1);
	return 0;
}

/* Kill workers whose current task ran past the timeout, or whose
 * worker_init / worker_exit did. */
static uint64_t pool_timeouts(nicely_pool *p, uint64_t now)
{
	uint64_t limit = (uint64_t)p->o.timeout_ms * 1000000u, next = 0;
	int initexit = p->o.init_timeout_ms || p->o.exit_timeout_ms;

	if (!limit && !initexit)
		return 0;
	for (int i = 0; i < p->nw; i++) {
		struct pool_worker *w = &p->w[i];
		int64_t r;
		uint64_t s, d;

		if (w->st != PW_LIVE && w->st != PW_CLOSING)
			continue;
		r = __atomic_load_n(&p->slots[i].running, __ATOMIC_ACQUIRE);
		s = __atomic_load_n(&p->slots[i].start_ns, __ATOMIC_RELAXED);
		if (initexit && (r == WORKER_INIT || r == WORKER_EXIT)) {
			d = pool_timeout_initexit(p, i, r, s, now);
			if (d && (!next || d < next))
				next = d;
			continue;
		}
		if (!limit || !w->inflight)
			continue;
		if (r < 0) {
			d = now + limit / 4 + 1000000u;
		} else if (now > s && now - s >= limit) {
			/* (a task may start after `now` was read: s > now) */
			pool_worker_kill(p, w, NICELY_TIMEOUT, r);
			continue;
		} else {
			d = s + limit;
		}
		if (!next || d < next)
			next = d;
	}
	return next;
}

/* When the pool next wants a step regardless of fds (0: never). */
static uint64_t pool_deadline(nicely_pool *p, uint64_t now)
{
	uint64_t d = pool_timeouts(p, now);

	if (p->q.n || p->running) {
		uint64_t t = p->next_tick_ns > now ? p->next_tick_ns : now;

		if (p->backoff_ns > t)
			t = p->backoff_ns;
		if (!d || t < d)
			d = t;
	}
	return d;
}

/* options.progress: draw the bar while there is work, end it when the
 * pool runs out. */
static void pool_progress(nicely_pool *p, uint64_t now, int busy)
{
	struct progress_state st;

	if (!busy && !p->bar) {	/* idle: the next bar counts from here */
		p->bar_done0 = p->completed;
		p->bar_failed0 = p->failed;
	}
	if (!p->bar && (!busy || p->bar_off))
		return;
	if (!p->bar) {
		if (!(p->bar = progress_new(2, p->o.progress ==
						       NICELY_PROGRESS_ALWAYS))) {
			p->bar_off = 1;	/* not a terminal: not asked again */
			return;
		}
		p->bar_t0 = now;
	}
	/* the work since the pool was last idle */
	st.done = (uint64_t)(p->completed - p->bar_done0);
	st.failed = (uint64_t)(p->failed - p->bar_failed0);
	st.running = (uint64_t)p->running;
	st.total = p->total - p->bar_done0;
	st.elapsed = (double)(now - p->bar_t0) / 1e9;
	if (busy) {
		progress_update(p->bar, &st, (double)now / 1e9);
	} else {
		progress_finish(p->bar, &st);
		p->bar = NULL;
		p->bar_done0 = p->completed;
		p->bar_failed0 = p->failed;
	}
}

/* Is anything still queued, running, or dying? */
int pool_turn_busy(const nicely_pool *p)
{
	if (p->queued || p->running)
		return 1;
	for (int i = 0; i < p->nw; i++)
		if (p->w[i].st == PW_DYING)
			return 1;
	return 0;
}

/* One turn of the loop: the body of nicely_step. */
int pool_turn(nicely_pool *p, int timeout_ms)
{
	struct epoll_event ev[64];
	uint64_t now = worker_now_ns(), dl;
	int n, wait = timeout_ms, fired = 0;

	pool_reap(p);
	pool_dispatch(p, now);
	dl = pool_deadline(p, now);
	if (dl) {
		int ms = dl > now ? (int)((dl - now + 999999) / 1000000) : 0;

		if (wait < 0 || ms < wait)
			wait = ms;
	}
	if (!pool_turn_busy(p))
		wait = 0;
	n = epoll_wait(p->ep, ev, 64, wait);
	if (n < 0 && errno != EINTR)
		return NICELY_EIO;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++) {
			int kind = (int)(ev[i].data.u64 >> 32);
			int slot = (int)(uint32_t)ev[i].data.u64;

			if (pass == 0) {
				if (kind == EV_CTL)
					pool_read_ctl(p);
				continue;
			}
			if (kind == EV_RES)
				pool_recv_results(p, slot);
			else if (kind == EV_ERR)
				pool_recv_stderr(p, slot, 0);
			else if (kind == EV_TASK)
				pool_feed_flush(p, &p->w[slot], slot);
			else if (kind == EV_TIMER) {
				uint64_t x;

				if (read(p->tfd, &x, sizeof x) < 0)
					x = 0;
				fired = 1;
			}
		}
	now = worker_now_ns();
	pool_timeouts(p, now);
	pool_reap(p);
	pool_dispatch(p, now);
	dl = pool_deadline(p, now);
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (dl) {
		its.it_value.tv_sec = (time_t)(dl / 1000000000u);
		its.it_value.tv_nsec = (long)(dl % 1000000000u);
	}
	/* re-arm only when the deadline moved (a syscall per turn otherwise;
	 * a timer that fired is re-armed even at the same deadline) */
	if (dl != p->tfd_armed || fired) {
		timerfd_settime(p->tfd, TFD_TIMER_ABSTIME, &its, NULL);
		p->tfd_armed = dl;
	}
	if (p->o.progress)
		pool_progress(p, now, pool_turn_busy(p));
	if (p->broken && pool_turn_busy(p)) {
		pool_reap(p);
		return NICELY_ECHILD;
	}
	return pool_turn_busy(p) ? 0 : 1;
}

/* One step. */
int nicely_step(nicely_pool *p, int timeout_ms)
{
	if (!p)
		return NICELY_EINVAL;
	if (p->in_cb)
		return NICELY_EBUSY;
	return pool_turn(p, timeout_ms);
}

/* Step until idle. */
int nicely_wait_all(nicely_pool *p)
{
	int rc;

	if (!p)
		return NICELY_EINVAL;
	if (p->in_cb)
		return NICELY_EBUSY;
	while ((rc = pool_turn(p, -1)) == 0)
		;
	return rc < 0 ? rc : 0;
}

/* Step until one task is finished. */
int nicely_wait(nicely_pool *p, int64_t id)
{
	struct pool_into *in;
	struct pool_task *t;
	int rc = 0;

	if (!p)
		return NICELY_EINVAL;
	if (p->in_cb)
		return NICELY_EBUSY;
	/* a map_into element's record may come and go: wait on its state */
	if ((in = pool_into_of(p, id))) {
		while (in->st[id - in->first] == NICELY_QUEUED ||
		       in->st[id - in->first] == NICELY_RUNNING)
			if ((rc = pool_turn(p, -1)) < 0)
				return rc;
		return 0;
	}
	if (!(t = pool_task_get(p, id)))
		return NICELY_ENOENT;
	while (t->res.status == NICELY_QUEUED || t->res.status == NICELY_RUNNING)
		if ((rc = pool_turn(p, -1)) < 0)
			return rc;
	return 0;
}

/* The epoll fd. */
int nicely_fd(nicely_pool *p)
{
	return p ? p->ep : NICELY_EINVAL;
}

/* Time to the next deadline. */
int nicely_timeout_ms(nicely_pool *p)
{
	uint64_t now, dl;

	if (!p)
		return NICELY_EINVAL;
	now = worker_now_ns();
	dl = pool_deadline(p, now);
	if (!dl)
		return -1;
	return dl > now ? (int)((dl - now + 999999) / 1000000) : 0;
}
