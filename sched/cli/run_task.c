/* sched/cli/run_task: one task of `nicely run` from start to result:
 * its {%} slot, command, pipes, spawn request (nice, CPU, cgroup), the
 * running list, signals to its process tree, and at its end the hand-off
 * of its PU, a retry or the result (--halt). Called by the engine
 * (run.c) and the tick (run_gate.c) in the loop thread. */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "agent/topology.h"
#include "policy/preset.h"
#include "sched/cgroup.h"
#include "sched/gate.h"
#include "sched/loop.h"
#include "sched/spawn.h"
#include "sched/cli/output.h"
#include "sched/cli/run_cgroup.h"
#include "sched/cli/run_ctl.h"
#include "sched/cli/run_emit.h"
#include "sched/cli/run_engine.h"
#include "sched/cli/run_fds.h"
#include "sched/cli/run_gate.h"
#include "sched/cli/run_orphan.h"
#include "sched/cli/run_task.h"

/* Slots up to this one keep their cgroups' files open between tasks
 * (about ten each): 32 of them stay far below the usual 1024 fds. */
#define RUN_CG_KEEP_FDS 32

/* Lowest free {%} slot, marking it used. */
static int run_slot_take(struct run *r)
{
	for (int i = 0; i < r->nslots; i++)
		if (!r->slots[i]) {
			r->slots[i] = 1;
			return i + 1;
		}
	int old = r->nslots, n = old ? old * 2 : 16;
	unsigned char *s = realloc(r->slots, (size_t)n);
	if (!s)
		return -1;
	memset(s + old, 0, (size_t)(n - old));
	r->slots = s;
	s[old] = 1;
	r->nslots = n;
	return old + 1;
}

/* Return a slot. */
static void run_slot_put(struct run *r, int slot)
{
	if (slot >= 1 && slot <= r->nslots)
		r->slots[slot - 1] = 0;
}

/* Link a task into the running list. */
static void run_link(struct run *r, struct queue_task *t)
{
	t->prev = NULL;
	t->next = r->running;
	if (r->running)
		r->running->prev = t;
	r->running = t;
	r->st.running++;
}

/* Unlink a task from the running list. */
static void run_unlink(struct run *r, struct queue_task *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		r->running = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
	r->st.running--;
}

/* Signal a task's whole process tree (and wake it if stopped). With a
 * cgroup, STOP/CONT freeze and thaw it, TERM reaches every process in it
 * (grandchildren that left the process group too) and KILL is the
 * cgroup's kill-all; without, its process group and every descendant
 * (setsid ones too, found in /proc). */
void run_signal_task(struct queue_task *t, int sig)
{
	char err[512];

	if (t->pid <= 0)
		return;
	if (t->cg && (sig == SIGSTOP || sig == SIGCONT)) {
		if (sched_cgroup_task_freeze(t->cg, sig == SIGSTOP, err,
					     sizeof err) == 0) {
			/* a pause that fell back to SIGSTOP is not undone by
			 * the thaw: the task would stop for good */
			if (sig == SIGCONT && t->sigstopped) {
				killpg(t->pid, SIGCONT);
				sched_cgroup_task_signal(t->cg, SIGCONT);
				t->sigstopped = 0;
			}
			return;
		}
		fprintf(stderr, "nicely: task %llu: %s\n",
			(unsigned long long)t->seq, err);
		t->sigstopped = sig == SIGSTOP;
	}
	if (t->cg)
		killpg(t->pid, sig);
	else
		run_orphan_signal_tree(t->pid, sig);
	if (t->cg && sig == SIGKILL &&
	    sched_cgroup_task_kill(t->cg, err, sizeof err) < 0)
		fprintf(stderr, "nicely: task %llu: %s\n",
			(unsigned long long)t->seq, err);
	else if (t->cg && sig != SIGKILL)
		sched_cgroup_task_signal(t->cg, sig);
	if (sig == SIGTERM || sig == SIGKILL) {
		if (t->cg && t->paused)
			sched_cgroup_task_freeze(t->cg, 0, NULL, 0);
		killpg(t->pid, SIGCONT);
	}
}

/* Start killing one task: TERM now, KILL after the grace. */
void run_kill_task(struct run *r, struct queue_task *t, uint64_t now)
{
	if (t->kill_stage > 0)
		return;
	run_signal_task(t, SIGTERM);
	t->kill_stage = 1;
	t->deadline_ns = now + r->grace_ns;
}

/* Commands longer than this are cut in messages, with their length. */
#define RUN_MSG_CMD_MAX 256

/* Set the task's message "nicely: task N: WHAT 'COMMAND': WHY" and a
 * newline; a long command is cut, marked "... (N bytes)". */
static void run_task_msg(struct queue_task *t, const char *what,
			 const char *why)
{
	const char *cmd = t->cmd ? t->cmd : "";
	size_t len = strlen(cmd);
	int show = len > RUN_MSG_CMD_MAX ? RUN_MSG_CMD_MAX : (int)len;
	char more[64] = "";
	char *m;

	if (len > RUN_MSG_CMD_MAX)
		snprintf(more, sizeof more, "... (%zu bytes)", len);
	if (asprintf(&m, "nicely: task %llu: %s '%.*s'%s: %s\n",
		     (unsigned long long)t->seq, what, show, cmd, more,
		     why) < 0)
		return;
	free(t->errmsg);
	t->errmsg = m;
}

/* Do the counts meet the --halt condition? See run.h. */
int run_halt_reached(const struct run_opts *o, const struct run_stats *st)
{
	double count, base;

	if (o->halt_when == RUN_HALT_NEVER)
		return 0;
	count = o->halt_what == RUN_HALT_FAIL ? (double)st->failed
		: o->halt_what == RUN_HALT_SUCCESS ? (double)st->succeeded
						   : (double)st->finished;
	if (!o->halt_pct)
		return count >= o->halt_n;
	/* a percentage of the whole batch, once its size is known; before
	 * that, of what finished (at least 3 tasks, as GNU parallel does) */
	base = st->total >= 0 ? (double)st->total : (double)st->finished;
	if (st->total < 0 && st->finished < 3)
		return 0;
	return base > 0 && count * 100.0 >= o->halt_n * base;
}

/* GNU's exit status for a halt reached now. See run.h. */
int run_halt_status(const struct run_opts *o, const struct run_stats *st,
		    int exitval, int signal)
{
	double total = st->total >= 0 ? (double)st->total
				       : (double)st->finished;
	int one;

	if (o->halt_what == RUN_HALT_SUCCESS)
		return 0;
	one = o->halt_pct ? total * o->halt_n / 100.0 == 1.0 : o->halt_n == 1;
	if (one)
		return exitval ? exitval : signal ? 128 + signal : 0;
	if (o->halt_pct)
		return (int)ceil((double)st->failed * 100.0 /
				 (total > 0 ? total : 1));
	return st->failed > 101 ? 101 : (int)st->failed;
}

/* A task's final result: hooks, --results, stats, --halt, output. */
static void run_record(struct run *r, struct queue_task *t)
{
	queue_task_event(t, QUEUE_EV_FINISH);
	run_results_close(r, t, 1);
	r->st.finished++;
	if (t->failed)
		r->st.failed++;
	else
		r->st.succeeded++;
	if (t->errmsg)
		fputs(t->errmsg, stderr);
	if (t->timed_out)
		fprintf(stderr, "nicely: task %llu: timed out, killed: %s\n",
			(unsigned long long)t->seq, t->cmd ? t->cmd : "");
	if (r->o->on_result && !r->o->result_in_order)
		r->o->on_result(r->o->ctx, t);
	/* tasks that `nicely kill` or a reset killed do not trip --halt */
	if (!r->stopping && !t->ctl_killed && run_halt_reached(r->o, &r->st)) {
		r->st.halted = 1;
		r->st.halt_success = r->o->halt_what == RUN_HALT_SUCCESS;
		r->st.halt_exit = run_halt_status(r->o, &r->st, t->exitval,
						  t->signal);
		r->stopping = 1;
		fprintf(stderr, "nicely: halting after task %llu %s%s\n",
			(unsigned long long)t->seq,
			t->failed ? "failed: " : "finished: ",
			t->cmd ? t->cmd : "");
		if (r->o->halt_when == RUN_HALT_NOW)
			run_kill_all(r);
	}
	if (r->o->unordered || r->o->line_buffer) {
		run_emit(r, t);
	} else if (!r->o->json && !r->o->tag && !r->o->result_in_order) {
		/* waiting for its turn, it needs only its output */
		free(t->cmd);
		free(t->values);
		free(t->errmsg);
		t->cmd = t->values = t->errmsg = NULL;
		t->nvalues = 0;
	}
}

/* Our tasks that hold a PU now: started, not yet exited. */
int run_live(const struct run *r)
{
	int n = 0;

	for (const struct queue_task *t = r->running; t; t = t->next)
		n += t->pid > 0 && !t->exited;
	return n;
}

/* Both the exit and EOF on every pipe arrived: the task is finished. */
void run_task_done_maybe(struct run *r, struct queue_task *t)
{
	int pu = t->pu, nice = t->nice, handoff;

	if (!t->exited || t->open_pipes > 0)
		return;
	/* a SIGKILL not ours, under nicely-agent: was the batch killed? */
	if (WIFSIGNALED(t->wstatus) && WTERMSIG(t->wstatus) == SIGKILL &&
	    !t->ctl_killed && !t->kill_stage && !t->timed_out &&
	    t->oom_kills <= 0 && !r->st.ctl_killed &&
	    gate_agent_ask(r->gate, run_live(r))) {
		run_ctl_agent_killed(r);
		t->ctl_killed = 1;
	}
	run_cgroup_done(r, t);
	run_unlink(r, t);
	run_slot_put(r, t->slot);
	if (WIFEXITED(t->wstatus)) {
		t->exitval = WEXITSTATUS(t->wstatus);
		t->signal = 0;
	} else {
		t->exitval = 0;
		t->signal = WIFSIGNALED(t->wstatus) ? WTERMSIG(t->wstatus) : 0;
	}
	if (t->timed_out)
		t->exitval = -1;
	t->failed = t->exitval != 0 || t->signal != 0;
	if (t->signal == SIGKILL && t->oom_kills > 0 && !t->errmsg) {
		char why[128];
		snprintf(why, sizeof why, "memory_max %llu bytes",
			 (unsigned long long)r->o->preset->memory_max);
		run_task_msg(t, "killed by the memory limit", why);
	}
	/* output or --results not kept whole: a failure, said how much */
	run_task_losses(t);
	/* the next task may take this PU now if the last sample found it
	 * free, or if the preset always keeps one task running (force_one)
	 * and this was the last: the next tick would start one anyway */
	handoff = !t->policy_touched && !t->policy_stop && pu >= 0 &&
		  pu < r->npus &&
		  (gate_pu_free(r->gate, pu) ||
		   (r->o->preset->force_one && r->st.running == 0));
	/* under the per-user limit the next task may only take a PU this
	 * batch still holds in the lease file */
	if (handoff && gate_shared(r->gate) &&
	    run_live(r) + 1 > gate_held(r->gate))
		handoff = 0;
	t->pid = -1;

	if (t->halted && !t->timed_out) {
		/* killed by --halt now or a signal: not a result */
		run_results_close(r, t, 0);
		queue_task_event(t, QUEUE_EV_FINISH);
		queue_task_event(t, QUEUE_EV_EMIT);
		queue_task_release(t);
	} else if (t->policy_stop ||
		   (t->failed && t->attempts < r->o->retries && !r->stopping &&
		    !t->ctl_killed)) {
		/* back to the queue: output of this attempt is dropped */
		if (t->policy_stop)
			t->attempts--;
		run_results_close(r, t, 0);
		output_reset(&t->out);
		output_reset(&t->err);
		free(t->errmsg);
		free(t->cmd);
		t->errmsg = t->cmd = NULL;
		t->policy_stop = t->policy_touched = t->timed_out = 0;
		t->res_failed = t->lost = 0;
		t->kill_stage = 0;
		t->deadline_ns = 0;
		t->lb_start[0] = t->lb_start[1] = 1;
		queue_task_event(t, QUEUE_EV_REQUEUE);
		queue_ready_front(&r->q, t);
	} else {
		run_record(r, t);
	}
	run_progress(r);
	run_flush(r, 0);
	if (handoff && !r->stopping)
		run_start(r, pu, nice);
	run_gate_hold(r);
	run_arm_deadlines(r);
}

/* Start the grace of the tasks whose process exited while something it
 * left holds their output, once waiting longer could be for ever: the
 * task was killed or timed out, the batch is stopping, or nothing else
 * runs and nothing is left to start. */
void run_pipes_arm(struct run *r)
{
	int ending = r->stopping ||
		     (r->input_eof && r->q.nready == 0 && run_live(r) == 0);
	uint64_t now = 0;

	for (struct queue_task *t = r->running; t; t = t->next) {
		if (!t->exited || t->open_pipes <= 0 || t->pipe_deadline_ns ||
		    !(ending || t->kill_stage > 0 || t->timed_out))
			continue;
		if (!now)
			now = loop_now_ns();
		t->pipe_deadline_ns = now + r->grace_ns;
	}
	if (now)
		run_arm_deadlines(r);
}

/* The grace of t's pipes ended: kill what holds them (and what is left
 * of its process group and tree), keep what output already arrived,
 * close them and record the task. */
void run_pipes_end(struct run *r, struct queue_task *t)
{
	struct loop_watch *w[2] = { &t->w_out, &t->w_err };
	int fds[2] = { t->w_out.fd, t->w_err.fd };
	size_t held;

	t->pipe_deadline_ns = 0;
	held = run_orphan_kill_pipe_holders(fds, 2);
	run_signal_task(t, SIGKILL);
	for (int which = 0; which < 2; which++) {
		int avail = 0, fl;

		if (w[which]->fd < 0)
			continue;
		/* what is in the pipe now is read (never waiting), then it
		 * is closed: no read here reaches EOF, so t stays ours */
		fl = fcntl(w[which]->fd, F_GETFL);
		if (fl >= 0)
			fcntl(w[which]->fd, F_SETFL, fl | O_NONBLOCK);
		while (w[which]->fd >= 0 &&
		       ioctl(w[which]->fd, FIONREAD, &avail) == 0 && avail > 0)
			run_on_pipe(t, which, r);
		if (w[which]->fd >= 0) {
			loop_del(&r->loop, w[which]);
			close(w[which]->fd);
			w[which]->fd = -1;
			t->open_pipes--;
		}
	}
	if (!t->errmsg) {
		char m[512];

		snprintf(m, sizeof m, "nicely: task %llu: ended, but %zu "
			 "process%s it left held its output %.1f s later; "
			 "killed, output closed: %s\n",
			 (unsigned long long)t->seq, held,
			 held == 1 ? "" : "es", (double)r->grace_ns / 1e9,
			 t->cmd ? t->cmd : "");
		t->errmsg = strdup(m);
	}
	run_task_done_maybe(r, t);
}

/* Make a pipe, both ends close-on-exec. The read end stays blocking: it
 * is read once per level-triggered epoll event, so a read never waits. */
static int run_pipe(int p[2])
{
	return pipe2(p, O_CLOEXEC) < 0 ? -errno : 0;
}

/* A task that could not be started at all (pipes, fork): a failed result
 * with a clear message, not a crash. */
static void run_start_failed(struct run *r, struct queue_task *t, int e,
			     const char *detail)
{
	run_task_msg(t, "cannot start", detail ? detail : strerror(-e));
	t->exited = 1;
	t->wstatus = 255 << 8;
	t->start_ns = t->end_ns = loop_now_ns();
	t->open_pipes = 0;
	t->pu = -1; /* no hand-off: the next start waits for a tick */
	run_link(r, t);
	run_task_done_maybe(r, t);
}

/* Backoff after a refused fork: 100 ms doubling up to this. */
#define RUN_NPROC_WAIT_MAX_NS 3200000000ull
/* With nothing of the batch running, forks refused this long mean the
 * limit leaves no room for a task at all: the task fails. */
#define RUN_NPROC_GIVEUP_NS 10000000000ull

/* The soft RLIMIT_NPROC as text for messages ("" when unlimited). */
static void run_nproc_hint(char *buf, size_t len)
{
	struct rlimit rl;

	buf[0] = 0;
	if (!getrlimit(RLIMIT_NPROC, &rl) && rl.rlim_cur != RLIM_INFINITY)
		snprintf(buf, len, " (RLIMIT_NPROC, ulimit -u: %llu processes "
			 "of your user at once)", (unsigned long long)rl.rlim_cur);
}

/* t's fork was refused for lack of processes (EAGAIN): put it back at the
 * head of the queue, not started and not failed, and hold starts back
 * (100 ms, doubling to 3.2 s); the first time say so. Returns 0 when it
 * was put back; -1 when it cannot ever start (nothing of the batch has
 * run for RUN_NPROC_GIVEUP_NS of refusals, or since an earlier give-up):
 * then the caller fails it, with why set to the reason. */
static int run_nproc_hold(struct run *r, struct queue_task *t, char *why,
			  size_t whylen)
{
	uint64_t now = loop_now_ns(), wait;
	char hint[160];

	run_nproc_hint(hint, sizeof hint);
	if (!r->nproc_fails++)
		r->nproc_since_ns = now;
	if (r->st.running == 0 &&
	    (r->nproc_hopeless ||
	     now - r->nproc_since_ns >= RUN_NPROC_GIVEUP_NS)) {
		snprintf(why, whylen, "no process can be made: fork refused "
			 "for %.1f s with no task of the batch running%s",
			 (double)(now - r->nproc_since_ns) / 1e9, hint);
		r->nproc_hopeless = 1;
		return -1;
	}
	wait = 100000000ull << (r->nproc_fails - 1 < 5 ? r->nproc_fails - 1 : 5);
	if (wait > RUN_NPROC_WAIT_MAX_NS)
		wait = RUN_NPROC_WAIT_MAX_NS;
	r->nproc_until_ns = now + wait;
	if (!r->nproc_said) {
		r->nproc_said = 1;
		fprintf(stderr, "nicely: the process limit holds tasks back%s: "
			"a fork was refused (%s); tasks start as processes "
			"end\n", hint, strerror(EAGAIN));
	}
	/* undo the start: the task waits at the head of the queue */
	t->attempts--;
	run_slot_put(r, t->slot);
	t->slot = 0;
	run_results_close(r, t, 0);
	free(t->cmd);
	t->cmd = NULL;
	t->pu = -1;
	queue_task_event(t, QUEUE_EV_REQUEUE);
	queue_ready_front(&r->q, t);
	return 0;
}

/* Start the next ready task on PU pu at nice. Returns 1 when a task was
 * started (or failed to start, which is a result), 0 when none may. */
int run_start(struct run *r, int pu, int nice)
{
	const struct run_opts *o = r->o;
	struct spawn_req req = SPAWN_REQ_INIT;
	struct queue_task *t;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, e;
	cpu_set_t cpus;
	char **argv;
	struct timeval tv;

	if (r->stopping || r->paused || r->resetting ||
	    (o->jobs > 0 && r->st.running >= (size_t)o->jobs) ||
	    r->st.running >= r->max_running)
		return 0;
	if (r->nproc_until_ns && loop_now_ns() < r->nproc_until_ns)
		return 0; /* forks were refused: wait for processes to end */
	if (run_fill_ready(r, 1) < 0)
		return 0;
	if (r->q.nready > 0 && !run_fds_room(r))
		return 0; /* no fds for one more (said once) */
	if (!(t = queue_ready_take(&r->q))) {
		/* input may still come: keep the grant for when it does */
		if (!r->input_eof && pu >= 0 && r->npending < r->npus) {
			r->pending_pu[r->npending++] = pu;
			r->pending_nice = nice;
		}
		return 0;
	}
	queue_task_event(t, QUEUE_EV_START);
	t->attempts++;
	t->slot = run_slot_take(r);
	t->pu = pu;
	t->nice = nice;
	t->exited = 0;
	t->halted = 0;
	t->paused = 0;
	if (!t->cmd) {
		const char *vals[t->nvalues ? t->nvalues : 1];
		queue_values(t, vals);
		t->cmd = template_expand(o->tmpl, vals,
					 run_cmd_nvalues(o, t), t->seq,
					 t->slot);
		if (!t->cmd) {
			run_start_failed(r, t, -ENOMEM, NULL);
			return 1;
		}
	}
	gettimeofday(&tv, NULL);
	t->start_real = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
	t->start_ns = loop_now_ns();
	t->deadline_ns = o->timeout_ns ? t->start_ns + o->timeout_ns : 0;
	t->pipe_deadline_ns = 0;
	if (o->results_dir)
		run_results_open(r, t);
	e = run_pipe(po);
	if (!e)
		e = run_pipe(pe);
	if (e) {
		if (po[0] >= 0) {
			close(po[0]);
			close(po[1]);
		}
		run_start_failed(r, t, e, NULL);
		return 1;
	}
	/* no shell when none is needed: one fork+exec per task */
	if (!template_needs_shell(o->tmpl)) {
		const char *vals[t->nvalues ? t->nvalues : 1];
		queue_values(t, vals);
		argv = template_expand_argv(o->tmpl, vals,
					    run_cmd_nvalues(o, t), t->seq,
					    t->slot);
	} else {
		argv = spawn_split_simple(t->cmd);
	}
	req.cmd = t->cmd;
	req.shell = o->shell;
	req.direct = argv != NULL;
	req.argv = argv;
	if (argv) {
		/* one PATH search per program name, not one per task */
		if (strcmp(r->exe_name, argv[0])) {
			r->exe_ok = strlen(argv[0]) < sizeof r->exe_name &&
				    spawn_resolve(argv[0], r->exe_path,
						  sizeof r->exe_path) == 0;
			snprintf(r->exe_name, sizeof r->exe_name, "%s",
				 r->exe_ok ? argv[0] : "");
		}
		req.path = r->exe_ok ? r->exe_path : NULL;
	}
	req.nice = nice;
	if (r->pin && pu >= 0) {
		agent_topology_cpuset(o->topo, &pu, 1, &cpus);
		req.cpus = &cpus;
	}
	req.stdin_fd = r->devnull;
	/* --pipe: the chunk's file is the task's stdin (read anew at a
	 * retry); one that cannot be opened fails the task at start */
	int chunk_fd = -1;
	if (o->pipe_stdin && t->nvalues > 0) {
		chunk_fd = open(queue_value(t, 0),
				O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (chunk_fd < 0) {
			e = -errno;
			free(argv);
			close(po[0]);
			close(po[1]);
			close(pe[0]);
			close(pe[1]);
			run_start_failed(r, t, e, NULL);
			return 1;
		}
		req.stdin_fd = chunk_fd;
	}
	req.stdout_fd = po[1];
	req.stderr_fd = pe[1];
	if (r->cg) {
		/* the child joins it before exec: no instant outside it */
		struct sched_cgroup_limits lim = { req.cpus,
						   o->preset->memory_max };
		char cerr[512];

		e = run_cgroup_take(r, t, &lim, cerr, sizeof cerr);
		if (e) {
			t->cg = NULL;
			free(argv);
			if (chunk_fd >= 0)
				close(chunk_fd);
			close(po[0]);
			close(po[1]);
			close(pe[0]);
			close(pe[1]);
			run_start_failed(r, t, e, e == -ENOMEM ? NULL : cerr);
			return 1;
		}
		req.cgroup_fds = t->cg->procs_fd;
		req.ncgroup_fds = (size_t)t->cg->nfd;
		/* joining its cpuset group pins the child already: one
		 * system call less while the loop waits for the exec */
		if (req.cpus && sched_cgroup_task_pins(t->cg, req.cpus))
			req.cpus = NULL;
	}
	int pidfd = -1;
	struct spawn_failure f;
	e = spawn_start(&req, &t->pid, &pidfd, &f);
	if (e == 0 && t->cg)
		sched_cgroup_task_spawned(t->cg, t->pid);
	/* the groups of the first slots keep their files open for the
	 * slot's next tasks (nothing opened per task); the others close */
	if (t->cg && t->slot > RUN_CG_KEEP_FDS)
		sched_cgroup_task_forked(t->cg);
	if (e == 0 && f.stage != SPAWN_STAGE_NONE)
		run_task_msg(t, spawn_stage_text(f.stage), strerror(f.err));
	free(argv);
	if (chunk_fd >= 0)
		close(chunk_fd);
	close(po[1]);
	close(pe[1]);
	if (e) {
		char why[320];

		close(po[0]);
		close(pe[0]);
		t->pid = -1;
		run_cgroup_done(r, t);
		if (e == -EAGAIN) {
			if (run_nproc_hold(r, t, why, sizeof why) == 0)
				return 0;
			run_start_failed(r, t, e, why);
			return 1;
		}
		run_start_failed(r, t, e, NULL);
		return 1;
	}
	r->nproc_fails = 0;
	r->nproc_until_ns = 0;
	r->nproc_hopeless = 0;
	r->st.started++;
	run_orphan_task_started(r, t->pid);
	t->open_pipes = 2;
	loop_add(&r->loop, &t->w_out, po[0], EPOLLIN, run_on_out);
	loop_add(&r->loop, &t->w_err, pe[0], EPOLLIN, run_on_err);
	loop_add(&r->loop, &t->w_pid, pidfd, EPOLLIN, run_on_pid);
	run_link(r, t);
	if (t->deadline_ns)
		run_arm_deadlines(r);
	run_progress(r);
	return 1;
}
