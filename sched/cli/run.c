/* sched/cli/run: the batch engine behind `nicely run`: the epoll loop
 * (pipes, pidfds, signalfd, tick and deadline timerfds), the input window,
 * timeouts, signals, kill-all, setup and teardown. Tasks start and end in
 * run_task.c, output in run_emit.c, the tick in run_gate.c, controls in
 * run_ctl.c, cgroups in run_cgroup.c. Single-threaded; called once per
 * batch by sched/cli/cli_run.c. */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched/ctl.h"
#include "sched/cli/feed.h"
#include "sched/gate.h"
#include "sched/loop.h"
#include "sched/cli/run.h"
#include "sched/cli/run_cgroup.h"
#include "sched/cli/run_ctl.h"
#include "sched/cli/run_emit.h"
#include "sched/cli/run_engine.h"
#include "sched/cli/run_fds.h"
#include "sched/cli/run_gate.h"
#include "sched/cli/run_orphan.h"
#include "sched/cli/run_store.h"
#include "sched/cli/run_task.h"

#define RUN_FIRST_TICK_NS 100000000ull /* second sample: first deltas */
/* At most this many tasks in the window (running, finished but not yet
 * written in order, read ahead): with one very long task at the head and
 * -k, later ones wait instead of piling up without bound. */
#define RUN_WINDOW_MAX 262144
/* Values the input thread may read ahead of the loop. */
#define RUN_FEED_AHEAD 1024
/* ... chunks under --pipe (each a --block on disk until its task ends) */
#define RUN_PIPE_AHEAD 2

/* Our stdio must be fds 0-2 before any pipe is made (spawn relies on it). */
static void run_fix_stdio(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0) {
			int n = open("/dev/null", O_RDWR);
			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
}

/* Report the progress hook. */
void run_progress(struct run *r)
{
	if (r->o->on_progress)
		r->o->on_progress(r->o->ctx, &r->st);
}

/* Read one more task from the input into the window and the ready FIFO,
 * skipping what the skip hook says. Returns 1, 0 at the end, -errno. */
int run_read_one(struct run *r)
{
	const char *const *vals;
	char ebuf[512];
	int n;

	while (!r->input_eof) {
		if (r->q.len >= RUN_WINDOW_MAX)
			return 0; /* the window is full: wait for its head */
		n = r->feed ? feed_next(r->feed, &vals, ebuf, sizeof ebuf)
			    : input_next(r->o->input, &vals, ebuf, sizeof ebuf);
		if (n == -EAGAIN)
			return 0; /* nothing yet: feed_fd wakes the loop */
		if (n < 0) {
			/* the batch goes on with what was read; say so */
			fprintf(stderr, "nicely: %s\n", ebuf);
			r->input_eof = 1;
			return 0;
		}
		if (n == 0) {
			r->input_eof = 1;
			if (r->st.total < 0)
				r->st.total = (long long)(r->q.next_seq - 1);
			return 0;
		}
		struct queue_task *t = queue_push(&r->q, vals,
			r->feed ? feed_nvalues(r->feed)
				: input_nvalues(r->o->input));
		if (!t)
			return -ENOMEM;
		if (r->o->skip && r->o->skip(r->o->ctx, t->seq)) {
			queue_task_event(t, QUEUE_EV_SKIP);
			r->st.skipped++;
			continue;
		}
		queue_ready_add(&r->q, t);
		return 1;
	}
	return 0;
}

/* Make sure at least n tasks are ready (or the input is done). */
int run_fill_ready(struct run *r, size_t n)
{
	while (r->q.nready < n && !r->input_eof) {
		int e = run_read_one(r);
		if (e <= 0)
			return e;
	}
	return 0;
}

/* Re-arm the deadline timer for the earliest timeout or kill grace. */
void run_arm_deadlines(struct run *r)
{
	uint64_t min = 0;

	for (struct queue_task *t = r->running; t; t = t->next) {
		if (t->deadline_ns && t->kill_stage < 2 &&
		    !(r->paused && t->kill_stage == 0) &&
		    (!min || t->deadline_ns < min))
			min = t->deadline_ns;
		if (t->pipe_deadline_ns &&
		    (!min || t->pipe_deadline_ns < min))
			min = t->pipe_deadline_ns;
	}
	if (min != r->armed_ns)
		loop_timer_at(r->timerfd, min);
	r->armed_ns = min;
}

/* Kill every running task's process group: TERM, grace, KILL. The single
 * place that reaches all of the batch's processes. */
void run_kill_all(struct run *r)
{
	uint64_t now;

	if (r->paused)
		run_ctl_resume(r); /* a frozen task cannot take its TERM */
	now = loop_now_ns();

	for (struct queue_task *t = r->running; t; t = t->next) {
		t->halted = 1;
		run_kill_task(r, t, now);
	}
	/* double-forked descendants whose parents are gone are ours now */
	run_orphan_signal(r, SIGTERM);
	run_arm_deadlines(r);
}

/* The running task a watch belongs to. */
#define RUN_TASK_OF(w, member)                                                 \
	((struct queue_task *)((char *)(w) - offsetof(struct queue_task, member)))

static struct run *run_self; /* the one batch this process runs */

/* stdout watch callback. */
void run_on_out(struct loop_watch *w, uint32_t ev)
{
	(void)ev;
	run_on_pipe(RUN_TASK_OF(w, w_out), 0, run_self);
}

/* stderr watch callback. */
void run_on_err(struct loop_watch *w, uint32_t ev)
{
	(void)ev;
	run_on_pipe(RUN_TASK_OF(w, w_err), 1, run_self);
}

/* pidfd callback: the task's process exited; reap it. */
void run_on_pid(struct loop_watch *w, uint32_t ev)
{
	struct queue_task *t = RUN_TASK_OF(w, w_pid);
	struct rusage ru;
	int status;
	pid_t p;

	(void)ev;
	do
		p = wait4(t->pid, &status, WNOHANG, &ru);
	while (p < 0 && errno == EINTR);
	if (p == 0)
		return;
	/* its last CPU time is ours, not others' load */
	if (p > 0)
		agent_sampler_worker_exited(
			run_self->o->sampler, p,
			((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) *
					1000000000ull +
				((uint64_t)ru.ru_utime.tv_usec +
				 (uint64_t)ru.ru_stime.tv_usec) * 1000ull);
	t->wstatus = p > 0 ? status : 0;
	t->exited = 1;
	t->end_ns = loop_now_ns();
	loop_del(&run_self->loop, w);
	close(w->fd);
	w->fd = -1;
	run_task_done_maybe(run_self, t);
}

/* Tick timer callback. */
static void run_on_tick(struct loop_watch *w, uint32_t ev)
{
	(void)ev;
	loop_timer_ack(w->fd);
	run_orphan_poll(run_self);
	if (run_self->paused || run_self->resetting)
		return; /* nothing starts, moves or resumes meanwhile */
	run_gate_tick(run_self);
}

/* Deadline timer: timeouts and TERM->KILL escalation. */
static void run_on_timer(struct loop_watch *w, uint32_t ev)
{
	struct run *r = run_self;
	uint64_t now = loop_now_ns();

	(void)ev;
	loop_timer_ack(w->fd);
	r->armed_ns = 0; /* one-shot: it fired */
	for (struct queue_task *t = r->running; t; t = t->next) {
		if (!t->deadline_ns || t->deadline_ns > now ||
		    (r->paused && t->kill_stage == 0))
			continue;
		if (t->kill_stage == 0) {
			t->timed_out = 1;
			run_kill_task(r, t, now);
		} else if (t->kill_stage == 1) {
			run_signal_task(t, SIGKILL);
			t->kill_stage = 2;
		}
	}
	/* exited tasks whose output a descendant still holds: one at a
	 * time from the head, since ending one changes the list */
	for (;;) {
		struct queue_task *t = r->running;

		while (t && !(t->pipe_deadline_ns && t->pipe_deadline_ns <= now))
			t = t->next;
		if (!t)
			break;
		run_pipes_end(r, t);
	}
	run_arm_deadlines(r);
}

/* Input arrived (or ended) in the reader thread: use the grants kept. */
static void run_on_feed(struct loop_watch *w, uint32_t ev)
{
	struct run *r = run_self;
	int n = r->npending;

	(void)w;
	(void)ev;
	feed_ack(r->feed);
	r->npending = 0;
	for (int i = 0; i < n && !r->stopping; i++)
		if (!run_start(r, r->pending_pu[i], r->pending_nice))
			break;
	run_flush(r, 0);
}

/* signalfd callback: INT/TERM/HUP stop the batch; a second one kills now. */
static void run_on_signal(struct loop_watch *w, uint32_t ev)
{
	struct run *r = run_self;
	struct signalfd_siginfo si;

	(void)ev;
	while (read(w->fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD) {
			/* pidfds tell us about tasks' exits; orphans are
			 * reaped here */
			run_orphan_poll(r);
			continue;
		}
		/* a detached batch has no terminal to hang up */
		if (si.ssi_signo == SIGHUP && r->o->store)
			continue;
		if (si.ssi_signo == SIGTSTP || si.ssi_signo == SIGCONT) {
			run_ctl_job_control(r, (int)si.ssi_signo);
			continue;
		}
		if (r->st.signal && r->st.signal != SIGPIPE) {
			for (struct queue_task *t = r->running; t; t = t->next) {
				run_signal_task(t, SIGKILL);
				t->kill_stage = 2;
			}
			run_orphan_signal(r, SIGKILL);
			continue;
		}
		r->st.signal = (int)si.ssi_signo;
		r->stopping = 1;
		run_kill_all(r);
	}
}

/* Set up the loop, timers and policy memory. */
static int run_init(struct run *r, const struct run_opts *o, char *err,
		    size_t errlen)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD,
				    SIGTSTP, SIGCONT };
	int e;

	memset(r, 0, sizeof *r);
	r->o = o;
	r->err = err;
	r->errlen = errlen;
	r->sigfd = r->tickfd = r->timerfd = r->devnull = -1;
	r->autogroup_restore = -1;
	r->orph.rec_fd = -1;
	r->loop.epfd = -1;
	r->st.total = input_total(o->input);
	r->grace_ns = o->grace_ns ? o->grace_ns : 1000000000ull;
	queue_init(&r->q);
	r->npus = agent_topology_npus(o->topo);
	r->pin = agent_topology_is_thissystem(o->topo);
	r->pending_pu = calloc((size_t)(r->npus > 0 ? r->npus : 1), sizeof(int));
	/* the gate answers for at most this many running tasks */
	r->max_running = (size_t)(o->jobs > 0 ? o->jobs : 0) +
			 4 * (size_t)(r->npus > 0 ? r->npus : 1) + 64;
	r->gw = calloc(r->max_running, sizeof *r->gw);
	if (!r->pending_pu || !r->gw) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* too few fds: say so before a sampler file, a cgroup or the
	 * socket fails on the way (nothing made yet) */
	if ((e = run_fds_check_start(r, err, errlen)) < 0)
		return e;
	if ((e = run_gate_open(r, err, errlen)) < 0)
		return e;
	if ((e = loop_init(&r->loop)) < 0 ||
	    (r->sigfd = loop_signalfd(sigs, 6)) < 0 ||
	    (r->tickfd = loop_timerfd()) < 0 ||
	    (r->timerfd = loop_timerfd()) < 0) {
		e = e < 0 ? e : r->sigfd < 0 ? r->sigfd
			       : r->tickfd < 0 ? r->tickfd : r->timerfd;
		snprintf(err, errlen, "cannot set up the event loop: %s",
			 strerror(-e));
		return e;
	}
	r->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (r->devnull < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot open /dev/null: %s",
			 strerror(errno));
		return e;
	}
	run_cgroup_open(r);
	run_orphan_open(r);
	run_cgroup_charge(r);
	gate_lease_open(r->gate);
	run_gate_notes(r);
	loop_add(&r->loop, &r->w_sig, r->sigfd, EPOLLIN, run_on_signal);
	loop_add(&r->loop, &r->w_tick, r->tickfd, EPOLLIN, run_on_tick);
	loop_add(&r->loop, &r->w_timer, r->timerfd, EPOLLIN, run_on_timer);
	if (o->input_may_block) {
		e = feed_start(&r->feed, o->input, o->pipe_stdin ?
			       RUN_PIPE_AHEAD : RUN_FEED_AHEAD, err, errlen);
		if (e < 0)
			return e;
		loop_add(&r->loop, &r->w_feed, feed_fd(r->feed), EPOLLIN,
			 run_on_feed);
	}
	uint64_t iv = (uint64_t)(o->preset->interval_ms > 10
				 ? o->preset->interval_ms : 10) * 1000000ull;
	loop_timer_set(r->tickfd, iv < RUN_FIRST_TICK_NS ? iv : RUN_FIRST_TICK_NS,
		       iv);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	r->start_real = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
	if (o->ctl_dir)
		run_ctl_open(r);
	/* what is open now: how many tasks fit at once */
	return run_fds_check_setup(r, err, errlen);
}

/* Free everything the engine made (tasks still in the window included). */
static void run_fini(struct run *r)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD,
				    SIGTSTP, SIGCONT };
	sigset_t set;

	ctl_close(r->ctl);
	r->ctl = NULL;
	run_orphan_close(r);
	feed_stop(r->feed);
	/* the gate stops charging by the batch cgroup before it goes */
	gate_free(r->gate);
	r->gate = NULL;
	run_cgroup_close(r);
	queue_free(&r->q);
	loop_close(&r->loop);
	if (r->sigfd >= 0)
		close(r->sigfd);
	if (r->tickfd >= 0)
		close(r->tickfd);
	if (r->timerfd >= 0)
		close(r->timerfd);
	if (r->devnull >= 0)
		close(r->devnull);
	sigemptyset(&set);
	for (int i = 0; i < 6; i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	free(r->pending_pu);
	free(r->slots);
	free(r->gw);
}

/* Run the batch to its end. */
int run_batch(const struct run_opts *o, struct run_stats *st, char *err,
	      size_t errlen)
{
	struct run r;
	int e;

	run_fix_stdio();
	signal(SIGPIPE, SIG_IGN);
	e = run_init(&r, o, err, errlen);
	run_self = &r;
	if (o->store)
		run_store_attach(o->store, &r);
	if (e == 0) {
		/* the first sample has no deltas yet; a nuclear preset may
		 * already start, the others wait for the second tick */
		run_gate_tick(&r);
		for (;;) {
			run_ctl_poll(&r);
			if (o->store)
				run_store_poll(&r);
			run_pipes_arm(&r);
			if (r.st.running == 0 &&
			    (r.stopping || (r.input_eof && r.q.nready == 0)))
				break;
			e = loop_run_once(&r.loop, -1);
			if (e < 0) {
				snprintf(err, errlen, "event loop: %s",
					 strerror(-e));
				r.stopping = 1;
				run_kill_all(&r);
				/* keep reaping until everything is gone */
				while (r.st.running > 0)
					if (loop_run_once(&r.loop, 100) < 0)
						break;
				break;
			}
			e = 0;
		}
		run_flush(&r, 1);
	}
	/* `nicely kill` is answered once nothing of the batch is left */
	run_orphan_close(&r);
	run_ctl_end(&r);
	*st = r.st;
	if (!r.input_eof && st->total < 0 && !r.stopping)
		st->total = (long long)(r.q.next_seq - 1);
	if (o->store)
		run_store_attach(o->store, NULL);
	run_fini(&r);
	run_self = NULL;
	return e;
}

/* GNU parallel's exit status. */
int run_exit_status(const struct run_opts *o, const struct run_stats *st)
{
	if (st->signal || st->ctl_killed)
		return 255;
	if (st->halted)
		return st->halt_exit;
	if (o->halt_when != RUN_HALT_NEVER && o->halt_pct)
		return (int)ceil((double)st->failed * 100.0 /
				 (double)(st->finished ? st->finished : 1));
	return st->failed > 100 ? 101 : (int)st->failed;
}
