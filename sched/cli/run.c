/* sched/run: the batch engine behind `nicely run`. Owns the queue, the
 * running tasks, the epoll loop (pipes, pidfds, signalfd, tick and deadline
 * timerfds), ordered output, timeouts, retries, --halt and kill-all. Each
 * tick asks agent/ (sample) and policy/ (decide) and applies the decision.
 * Single-threaded; called once per batch by sched/cli_run.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "policy/decide.h"
#include "sched/cgroup.h"
#include "sched/ctl.h"
#include "sched/ctl_proto.h"
#include "sched/cli/feed.h"
#include "sched/gate.h"
#include "sched/loop.h"
#include "sched/cli/output.h"
#include "sched/cli/run.h"
#include "sched/spawn.h"

#define RUN_FIRST_TICK_NS 100000000ull /* second sample: first deltas */
/* At most this many tasks in the window (running, finished but not yet
 * written in order, read ahead): with one very long task at the head and
 * -k, later ones wait instead of piling up without bound. */
#define RUN_WINDOW_MAX 262144
/* Slots up to this one keep their cgroups' files open between tasks
 * (about ten each): 32 of them stay far below the usual 1024 fds. */
#define RUN_CG_KEEP_FDS 32
/* Values the input thread may read ahead of the loop. */
#define RUN_FEED_AHEAD 1024

struct run {
	const struct run_opts *o;
	struct loop loop;
	struct queue q;
	struct queue_task *running; /* doubly linked via prev/next */
	int input_eof;
	int sigfd, tickfd, timerfd, devnull;
	struct loop_watch w_sig, w_tick, w_timer, w_feed;
	struct feed *feed;	/* input read in a thread, or NULL */
	int *pending_pu;	/* PUs granted while no input had arrived */
	int npending, pending_nice;
	size_t max_running;	/* what the gate's tables are sized for */
	struct gate *gate;	/* sample, allowance, decide (sched/gate.c) */
	struct gate_worker *gw;	/* the running tasks as the gate sees them */
	int npus;
	int pin;		/* topology is this machine: bind */
	unsigned char *slots;	/* slot i+1 in use */
	int nslots;
	int stopping;		/* no new starts (halt, signal, EPIPE) */
	uint64_t grace_ns;
	uint64_t armed_ns;	/* deadline timer armed for, 0 = off */
	char exe_name[256];	/* last program resolved through PATH */
	char exe_path[4096];
	int exe_ok;
	struct run_stats st;
	char *err;
	size_t errlen;
	int fatal;		/* -errno: the engine itself broke */
	struct sched_cgroup *cg; /* the batch's cgroups, NULL without */
	/* per {%} slot (index slot-1): the groups its last task left,
	 * emptied, for its next task; NULL when none is kept */
	struct sched_cgroup_task **slot_cg;
	int nslot_cg;
	uint64_t cg_made;	/* task groups made: the n of task-<n> */
	int cg_fresh;		/* groups are never reused (their peak
				 * memory cannot be reset on this kernel) */
	int autogroup_restore;	/* session autogroup nice to put back, -1 */
	/* whole-batch controls from the control socket (run_ctl_*) */
	struct ctl *ctl;	/* NULL without a socket */
	double start_real;	/* when the batch started, epoch seconds */
	int paused;		/* `nicely pause`: frozen, nothing starts */
	uint64_t paused_at;	/* monotonic ns it was paused at */
	int tstp_paused;	/* paused by SIGTSTP: SIGCONT resumes */
	int resetting;		/* a reset waits for its killed tasks */
	struct ctl_req *pend_reset;
	uint64_t reset_killed, reset_cancelled;
	struct ctl_req *pend_kill[8]; /* `nicely kill`s waiting for the end */
	int npend_kill;
	uint64_t ctl_nkilled;	/* tasks that kill killed */
};

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
static void run_progress(struct run *r)
{
	if (r->o->on_progress)
		r->o->on_progress(r->o->ctx, &r->st);
}

/* Read one more task from the input into the window and the ready FIFO,
 * skipping what the skip hook says. Returns 1, 0 at the end, -errno. */
static int run_read_one(struct run *r)
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
						  input_nsources(r->o->input));
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
static int run_fill_ready(struct run *r, size_t n)
{
	while (r->q.nready < n && !r->input_eof) {
		int e = run_read_one(r);
		if (e <= 0)
			return e;
	}
	return 0;
}

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

/* Re-arm the deadline timer for the earliest timeout or kill grace. */
static void run_arm_deadlines(struct run *r)
{
	uint64_t min = 0;

	for (struct queue_task *t = r->running; t; t = t->next)
		if (t->deadline_ns && t->kill_stage < 2 &&
		    !(r->paused && t->kill_stage == 0) &&
		    (!min || t->deadline_ns < min))
			min = t->deadline_ns;
	if (min != r->armed_ns)
		loop_timer_at(r->timerfd, min);
	r->armed_ns = min;
}

/* Signal a task's whole process tree (and wake it if stopped). With a
 * cgroup, STOP/CONT freeze and thaw it, TERM reaches every process in it
 * (grandchildren that left the process group too) and KILL is the
 * cgroup's kill-all; without, its process group. */
static void run_signal_task(struct queue_task *t, int sig)
{
	char err[512];

	if (t->pid <= 0)
		return;
	if (t->cg && (sig == SIGSTOP || sig == SIGCONT)) {
		if (sched_cgroup_task_freeze(t->cg, sig == SIGSTOP, err,
					     sizeof err) == 0)
			return;
		fprintf(stderr, "nicely: task %llu: %s\n",
			(unsigned long long)t->seq, err);
	}
	killpg(t->pid, sig);
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
static void run_kill_task(struct run *r, struct queue_task *t, uint64_t now)
{
	if (t->kill_stage > 0)
		return;
	run_signal_task(t, SIGTERM);
	t->kill_stage = 1;
	t->deadline_ns = now + r->grace_ns;
}

static void run_ctl_resume(struct run *r);
static void run_ctl_job_control(struct run *r, int sig);

/* Kill every running task's process group: TERM, grace, KILL. The single
 * place that reaches all of the batch's processes. */
static void run_kill_all(struct run *r)
{
	uint64_t now;

	if (r->paused)
		run_ctl_resume(r); /* a frozen task cannot take its TERM */
	now = loop_now_ns();

	for (struct queue_task *t = r->running; t; t = t->next) {
		t->halted = 1;
		run_kill_task(r, t, now);
	}
	run_arm_deadlines(r);
}

/* The values joined by tabs, plus a final tab. */
char *run_tag_of(const struct queue_task *t)
{
	size_t len = 0;
	const char *p = t->values;
	char *s, *o;

	for (size_t i = 0; i < t->nvalues; i++) {
		size_t l = strlen(p);
		len += l + 1;
		p += l + 1;
	}
	s = malloc(len + 1);
	if (!s)
		return NULL;
	o = s;
	p = t->values;
	for (size_t i = 0; i < t->nvalues; i++) {
		size_t l = strlen(p);
		memcpy(o, p, l);
		o[l] = '\t';
		o += l + 1;
		p += l + 1;
	}
	*o = 0;
	return s;
}

/* Printf into a fd through a small buffer. */
__attribute__((format(printf, 2, 3))) static int run_fdprintf(int fd,
							      const char *fmt,
							      ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	return output_full_write(fd, buf, (size_t)n < sizeof buf ? (size_t)n
							      : sizeof buf - 1);
}

/* One JSON object line for a finished task. */
int run_write_json(int fd, const struct queue_task *t,
		   const struct agent_topology *topo)
{
	const char *cmd = t->cmd ? t->cmd : "";
	const char *p = t->values;
	int cpu = -1, e;

	if (topo && t->pu >= 0 && t->pu < agent_topology_npus(topo))
		cpu = agent_topology_pus(topo)[t->pu].os_index;
	e = run_fdprintf(fd, "{\"seq\":%llu,\"command\":",
			 (unsigned long long)t->seq);
	if (!e)
		e = output_json_string(fd, cmd, strlen(cmd));
	if (!e)
		e = output_full_write(fd, ",\"values\":[", 11);
	for (size_t i = 0; !e && i < t->nvalues; i++) {
		size_t l = strlen(p);
		if (i)
			e = output_full_write(fd, ",", 1);
		if (!e)
			e = output_json_string(fd, p, l);
		p += l + 1;
	}
	if (!e)
		e = run_fdprintf(fd, "],\"status\":\"%s\"",
				 t->cancelled ? "cancelled"
				 : t->ctl_killed ? "killed"
				 : t->timed_out ? "timeout"
				 : t->failed ? "failed" : "ok");
	if (!e)
		e = run_fdprintf(fd,
				 ",\"exit\":%d,\"signal\":%d,\"start\":%.3f,"
				 "\"runtime\":%.3f,\"stdout\":",
				 t->exitval, t->signal, t->start_real,
				 (double)(t->end_ns - t->start_ns) / 1e9);
	if (!e)
		e = output_write_json(&t->out, fd);
	if (!e)
		e = output_full_write(fd, ",\"stderr\":", 10);
	if (!e)
		e = output_write_json(&t->err, fd);
	if (!e)
		e = run_fdprintf(fd, ",\"pu\":%d,\"cpu\":%d", t->pu, cpu);
	/* resource figures from the task's cgroup, null without one */
	if (!e && t->cpu_ns >= 0)
		e = run_fdprintf(fd, ",\"cpu_time\":%.3f",
				 (double)t->cpu_ns / 1e9);
	else if (!e)
		e = output_full_write(fd, ",\"cpu_time\":null", 16);
	if (!e && t->mem_peak >= 0)
		e = run_fdprintf(fd, ",\"mem_peak\":%lld,\"oom_kills\":%lld",
				 (long long)t->mem_peak,
				 (long long)(t->oom_kills > 0 ? t->oom_kills : 0));
	else if (!e)
		e = output_full_write(fd, ",\"mem_peak\":null", 16);
	if (!e && t->errmsg) {
		/* why it never ran its command, without "nicely: " and "\n" */
		const char *m = t->errmsg;
		size_t l = strlen(m);
		if (!strncmp(m, "nicely: ", 8))
			m += 8, l -= 8;
		if (l && m[l - 1] == '\n')
			l--;
		e = output_full_write(fd, ",\"error\":", 9);
		if (!e)
			e = output_json_string(fd, m, l);
	}
	if (!e)
		e = output_full_write(fd, "}\n", 2);
	return e;
}

/* Our stdout went away (EPIPE): stop like on a signal, quietly. */
static void run_output_failed(struct run *r, int e)
{
	if (r->st.signal)
		return;
	if (e != -EPIPE)
		fprintf(stderr, "nicely: cannot write output: %s\n",
			strerror(-e));
	r->st.signal = SIGPIPE;
	r->stopping = 1;
	run_kill_all(r);
}

/* Write a finished task's output (or JSON) and release it. */
static void run_emit(struct run *r, struct queue_task *t)
{
	const struct run_opts *o = r->o;
	int e = 0;

	if (!r->st.signal || r->st.signal != SIGPIPE) {
		if (o->json) {
			e = run_write_json(o->out_fd, t, o->topo);
		} else {
			char *tag = o->tag ? run_tag_of(t) : NULL;
			/* with --line-buffer only a last partial line is left */
			const char *otag = tag, *etag = tag;
			if (o->line_buffer) {
				otag = t->lb_start[0] ? tag : NULL;
				etag = t->lb_start[1] ? tag : NULL;
			}
			e = output_write(&t->out, o->out_fd, otag);
			if (!e)
				e = output_write(&t->err, o->err_fd, etag);
			free(tag);
		}
	}
	queue_task_event(t, QUEUE_EV_EMIT);
	queue_task_release(t);
	if (e < 0)
		run_output_failed(r, e);
}

/* Write every finished task at the head of the window, in order, and drop
 * what is written. At the end (final) skip tasks that never finished. */
static void run_flush(struct run *r, int final)
{
	struct queue_task *t;

	while ((t = queue_head(&r->q))) {
		if (t->state == QUEUE_DONE)
			run_emit(r, t);
		else if (t->state != QUEUE_EMITTED && !final)
			break;
		queue_drop_head(&r->q);
	}
}

/* Create DIR/<seq>/ and open its stdout/stderr files for a starting task. */
static void run_results_open(struct run *r, struct queue_task *t)
{
	char path[4096];
	int n;

	n = snprintf(path, sizeof path, "%s/%llu", r->o->results_dir,
		     (unsigned long long)t->seq);
	if (n < 0 || (size_t)n >= sizeof path - 16)
		return;
	if (mkdir(path, 0777) < 0 && errno != EEXIST) {
		fprintf(stderr, "nicely: task %llu: cannot create %s: %s\n",
			(unsigned long long)t->seq, path, strerror(errno));
		return;
	}
	for (int i = 0; i < 2; i++) {
		snprintf(path + n, sizeof path - (size_t)n, "/%s",
			 i ? "stderr" : "stdout");
		t->res_fd[i] = open(path, O_WRONLY | O_CREAT | O_TRUNC |
					  O_CLOEXEC, 0666);
		if (t->res_fd[i] < 0)
			fprintf(stderr,
				"nicely: task %llu: cannot write %s: %s\n",
				(unsigned long long)t->seq, path,
				strerror(errno));
	}
}

/* Close the --results files and write exitval for a finished task. */
static void run_results_close(struct run *r, struct queue_task *t, int final)
{
	for (int i = 0; i < 2; i++)
		if (t->res_fd[i] >= 0) {
			close(t->res_fd[i]);
			t->res_fd[i] = -1;
		}
	if (!final || !r->o->results_dir)
		return;
	char path[4096], val[32];
	snprintf(path, sizeof path, "%s/%llu/exitval", r->o->results_dir,
		 (unsigned long long)t->seq);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	int n = snprintf(val, sizeof val, "%d\n", t->exitval);
	if (fd < 0 || output_full_write(fd, val, (size_t)n) < 0)
		fprintf(stderr, "nicely: task %llu: cannot write %s: %s\n",
			(unsigned long long)t->seq, path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* --line-buffer: write the complete lines in buf now, keep the rest. */
static void run_line_flush(struct run *r, struct queue_task *t, int which,
			   int all)
{
	struct output_buf *b = which ? &t->err : &t->out;
	int fd = which ? r->o->err_fd : r->o->out_fd;
	char *tag = NULL;
	size_t upto = b->len;
	int e;

	if (b->fd >= 0 || b->len == 0)
		return;
	if (!all) {
		char *nl = memrchr(b->mem, '\n', b->len);
		/* a line longer than the in-memory limit goes out in parts */
		if (!nl && b->len < OUTPUT_MEM_MAX / 2)
			return;
		upto = nl ? (size_t)(nl - b->mem) + 1 : b->len;
	}
	if (r->o->tag)
		tag = run_tag_of(t);
	struct output_buf part = OUTPUT_BUF_INIT;
	part.mem = b->mem;
	part.len = part.total = upto;
	/* output_write ends a tagged part with a newline; only tag at the
	 * start of lines, so write the tag by hand for partial lines */
	if (tag && t->lb_start[which]) {
		e = output_full_write(fd, tag, strlen(tag));
		if (e < 0)
			goto out;
	}
	if (tag) {
		/* tag every line after the first */
		size_t s = 0;
		e = 0;
		while (s < upto && e == 0) {
			char *nl = memchr(b->mem + s, '\n', upto - s);
			size_t l = nl ? (size_t)(nl - (b->mem + s)) + 1 : upto - s;
			e = output_full_write(fd, b->mem + s, l);
			s += l;
			if (!e && nl && s < upto)
				e = output_full_write(fd, tag, strlen(tag));
		}
	} else {
		e = output_full_write(fd, b->mem, upto);
	}
out:
	free(tag);
	t->lb_start[which] = upto > 0 && b->mem[upto - 1] == '\n';
	memmove(b->mem, b->mem + upto, b->len - upto);
	b->len -= upto;
	b->total = b->len;
	if (e < 0)
		run_output_failed(r, e);
}

static void run_task_done_maybe(struct run *r, struct queue_task *t);

/* A task's stdout or stderr pipe has data or hung up. */
static void run_on_pipe(struct queue_task *t, int which, struct run *r)
{
	struct loop_watch *w = which ? &t->w_err : &t->w_out;
	char buf[65536];
	ssize_t n = read(w->fd, buf, sizeof buf);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* a child between fork and exec may still hold this fd, so
		 * close() alone would leave it in the epoll set */
		loop_del(&r->loop, w);
		close(w->fd);
		w->fd = -1;
		t->open_pipes--;
		run_task_done_maybe(r, t);
		return;
	}
	if (t->res_fd[which] >= 0 &&
	    output_full_write(t->res_fd[which], buf, (size_t)n) < 0) {
		fprintf(stderr, "nicely: task %llu: cannot write results: %s\n",
			(unsigned long long)t->seq, strerror(errno));
		close(t->res_fd[which]);
		t->res_fd[which] = -1;
	}
	int e = output_append(which ? &t->err : &t->out, buf, (size_t)n);
	if (e < 0 && !t->errmsg) {
		char m[256];
		snprintf(m, sizeof m, "nicely: task %llu: output lost: %s\n",
			 (unsigned long long)t->seq, strerror(-e));
		t->errmsg = strdup(m);
	}
	if (r->o->line_buffer && !r->o->json)
		run_line_flush(r, t, which, 0);
}

/* The running task a watch belongs to. */
#define RUN_TASK_OF(w, member)                                                 \
	((struct queue_task *)((char *)(w) - offsetof(struct queue_task, member)))

static struct run *run_self; /* the one batch this process runs */

/* stdout watch callback. */
static void run_on_out(struct loop_watch *w, uint32_t ev)
{
	(void)ev;
	run_on_pipe(RUN_TASK_OF(w, w_out), 0, run_self);
}

/* stderr watch callback. */
static void run_on_err(struct loop_watch *w, uint32_t ev)
{
	(void)ev;
	run_on_pipe(RUN_TASK_OF(w, w_err), 1, run_self);
}

/* pidfd callback: the task's process exited; reap it. */
static void run_on_pid(struct loop_watch *w, uint32_t ev)
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

static int run_start(struct run *r, int pu, int nice);

/* Does the result of t meet the --halt condition? */
static int run_halt_reached(struct run *r)
{
	const struct run_opts *o = r->o;
	double count, base;

	if (o->halt_when == RUN_HALT_NEVER)
		return 0;
	count = o->halt_what == RUN_HALT_FAIL ? (double)r->st.failed
		: o->halt_what == RUN_HALT_SUCCESS ? (double)r->st.succeeded
						   : (double)r->st.finished;
	if (!o->halt_pct)
		return count >= o->halt_n;
	/* a percentage of the whole batch, once its size is known; before
	 * that, of what finished (at least 3 tasks, as GNU parallel does) */
	base = r->st.total >= 0 ? (double)r->st.total : (double)r->st.finished;
	if (r->st.total < 0 && r->st.finished < 3)
		return 0;
	return base > 0 && count * 100.0 >= o->halt_n * base;
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
	if (r->o->on_result)
		r->o->on_result(r->o->ctx, t);
	/* tasks that `nicely kill` or a reset killed do not trip --halt */
	if (!r->stopping && !t->ctl_killed && run_halt_reached(r)) {
		r->st.halted = 1;
		r->st.halt_success = r->o->halt_what == RUN_HALT_SUCCESS;
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
	} else if (!r->o->json && !r->o->tag) {
		/* waiting for its turn, it needs only its output */
		free(t->cmd);
		free(t->values);
		free(t->errmsg);
		t->cmd = t->values = t->errmsg = NULL;
		t->nvalues = 0;
	}
}

/* Remove groups kept for a slot's next task, and free them. */
static void run_cgroup_drop(struct sched_cgroup_task *g)
{
	char err[512];

	if (sched_cgroup_task_remove(g, err, sizeof err) < 0)
		fprintf(stderr, "nicely: %s\n", err);
	free(g);
}

/* Keep emptied groups g for the next task of slot. 0, or -1 (then the
 * caller removes them). */
static int run_cgroup_park(struct run *r, int slot, struct sched_cgroup_task *g)
{
	if (slot < 1 || r->cg_fresh)
		return -1;
	if (slot > r->nslot_cg) {
		int n = slot > r->nslots ? slot : r->nslots;
		struct sched_cgroup_task **a =
			realloc(r->slot_cg, (size_t)n * sizeof *a);

		if (!a)
			return -1;
		memset(a + r->nslot_cg, 0,
		       (size_t)(n - r->nslot_cg) * sizeof *a);
		r->slot_cg = a;
		r->nslot_cg = n;
	}
	if (r->slot_cg[slot - 1])	/* not expected: one task per slot */
		run_cgroup_drop(r->slot_cg[slot - 1]);
	r->slot_cg[slot - 1] = g;
	return 0;
}

/* The groups of a task about to start in its slot: the ones the slot's
 * last task left (emptied then), readied for it, or new ones. 0 with
 * t->cg set, or -errno with err set. */
static int run_cgroup_take(struct run *r, struct queue_task *t,
			   const struct sched_cgroup_limits *lim, char *err,
			   size_t errlen)
{
	struct sched_cgroup_task *g = NULL;
	int e;

	if (t->slot >= 1 && t->slot <= r->nslot_cg &&
	    (g = r->slot_cg[t->slot - 1])) {
		r->slot_cg[t->slot - 1] = NULL;
		e = sched_cgroup_task_reuse(g, lim, err, errlen);
		if (e == 0 && g->peak_stale) {
			/* per-task peak memory needs new groups here */
			r->cg_fresh = 1;
			e = -ESTALE;
		}
		if (e == 0) {
			t->cg = g;
			return 0;
		}
		if (e != -ESTALE)
			fprintf(stderr, "nicely: task %llu: cannot reuse the "
				"cgroup of slot %d (%s); making a new one\n",
				(unsigned long long)t->seq, t->slot, err);
		run_cgroup_drop(g);
	}
	if (!(g = calloc(1, sizeof *g)))
		return -ENOMEM;
	e = sched_cgroup_task_create(r->cg, ++r->cg_made, lim, g, err, errlen);
	if (e) {
		free(g);
		return e;
	}
	t->cg = g;
	return 0;
}

/* A finished task's cgroups: keep its CPU time and peak memory, kill
 * whatever it left running (checked gone, as when the groups were removed
 * per task), and keep the emptied groups for the next task of its slot;
 * remove them when they would not empty or thaw. */
static void run_cgroup_done(struct run *r, struct queue_task *t)
{
	struct sched_cgroup_stats cs;
	char err[512];
	int e;

	if (!t->cg)
		return;
	sched_cgroup_task_stats(t->cg, &cs);
	t->cpu_ns = cs.cpu_ns;
	t->mem_peak = cs.mem_peak;
	t->oom_kills = cs.oom_kills;
	e = sched_cgroup_task_kill(t->cg, err, sizeof err);
	if (e < 0)
		fprintf(stderr, "nicely: task %llu: %s\n",
			(unsigned long long)t->seq, err);
	/* frozen by a pause it exited under: the next task must not be */
	if (e == 0 && (t->paused || r->paused))
		e = sched_cgroup_task_freeze(t->cg, 0, NULL, 0);
	if (e < 0 || run_cgroup_park(r, t->slot, t->cg) < 0) {
		if (sched_cgroup_task_remove(t->cg, err, sizeof err) < 0)
			fprintf(stderr, "nicely: task %llu: %s\n",
				(unsigned long long)t->seq, err);
		free(t->cg);
	}
	t->cg = NULL;
}

/* Our tasks that hold a PU now: started, not yet exited. */
static int run_live(const struct run *r)
{
	int n = 0;

	for (const struct queue_task *t = r->running; t; t = t->next)
		n += t->pid > 0 && !t->exited;
	return n;
}

/* Print the gate's notes (lease file trouble, the wait for the user's
 * other batches), each once. */
static void run_gate_notes(struct run *r)
{
	enum gate_level l;
	const char *n;

	while ((n = gate_note(r->gate, &l)))
		fprintf(stderr, "nicely: %s\n", n);
}

/* Tasks ended: give the PUs we no longer use back to the user's other
 * batches (the holding only goes down here; ticks raise it). */
static void run_lease_sync(struct run *r)
{
	gate_hold(r->gate, run_live(r) + r->npending);
	run_gate_notes(r);
}

/* Both the exit and EOF on every pipe arrived: the task is finished. */
static void run_task_done_maybe(struct run *r, struct queue_task *t)
{
	int pu = t->pu, nice = t->nice, handoff;

	if (!t->exited || t->open_pipes > 0)
		return;
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
		char m[512];
		snprintf(m, sizeof m, "nicely: task %llu: killed by the memory "
			 "limit (memory_max %llu bytes): %s\n",
			 (unsigned long long)t->seq,
			 (unsigned long long)r->o->preset->memory_max,
			 t->cmd ? t->cmd : "");
		t->errmsg = strdup(m);
	}
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
	run_lease_sync(r);
	run_arm_deadlines(r);
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
	char m[1024];

	snprintf(m, sizeof m, "nicely: task %llu: cannot start '%s': %s\n",
		 (unsigned long long)t->seq, t->cmd ? t->cmd : "",
		 detail ? detail : strerror(-e));
	t->errmsg = strdup(m);
	t->exited = 1;
	t->wstatus = 255 << 8;
	t->start_ns = t->end_ns = loop_now_ns();
	t->open_pipes = 0;
	t->pu = -1; /* no hand-off: the next start waits for a tick */
	run_link(r, t);
	run_task_done_maybe(r, t);
}

/* Start the next ready task on PU pu at nice. Returns 1 when a task was
 * started (or failed to start, which is a result), 0 when none may. */
static int run_start(struct run *r, int pu, int nice)
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
	if (run_fill_ready(r, 1) < 0)
		return 0;
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
		t->cmd = template_expand(o->tmpl, vals, t->nvalues, t->seq,
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
		argv = template_expand_argv(o->tmpl, vals, t->nvalues, t->seq,
					    t->slot);
	} else {
		argv = spawn_split_simple(t->cmd);
	}
	req.cmd = t->cmd;
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
			close(po[0]);
			close(po[1]);
			close(pe[0]);
			close(pe[1]);
			run_start_failed(r, t, e, e == -ENOMEM ? NULL : cerr);
			return 1;
		}
		req.cgroup_fds = t->cg->procs_fd;
		req.ncgroup_fds = (size_t)t->cg->nfd;
	}
	int pidfd = -1;
	struct spawn_failure f;
	e = spawn_start(&req, &t->pid, &pidfd, &f);
	/* the groups of the first slots keep their files open for the
	 * slot's next tasks (nothing opened per task); the others close */
	if (t->cg && t->slot > RUN_CG_KEEP_FDS)
		sched_cgroup_task_forked(t->cg);
	if (e == 0 && f.stage != SPAWN_STAGE_NONE) {
		char m[512];
		snprintf(m, sizeof m, "nicely: task %llu: %s '%s': %s\n",
			 (unsigned long long)t->seq, spawn_stage_text(f.stage),
			 t->cmd, strerror(f.err));
		t->errmsg = strdup(m);
	}
	free(argv);
	close(po[1]);
	close(pe[1]);
	if (e) {
		close(po[0]);
		close(pe[0]);
		t->pid = -1;
		run_cgroup_done(r, t);
		run_start_failed(r, t, e, NULL);
		return 1;
	}
	r->st.started++;
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

/* Re-pin every thread of every process in process group pgid. */
static void run_repin_group(pid_t pgid, const cpu_set_t *cpus)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	char path[64], buf[512];

	if (!d)
		return;
	while ((de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/stat", pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		char *p = strrchr(buf, ')');
		int ppid, pg;
		char st;
		if (!p || sscanf(p + 1, " %c %d %d", &st, &ppid, &pg) != 3 ||
		    pg != pgid)
			continue;
		snprintf(path, sizeof path, "/proc/%d/task", pid);
		DIR *td = opendir(path);
		struct dirent *te;
		if (!td) {
			sched_setaffinity(pid, sizeof *cpus, cpus);
			continue;
		}
		while ((te = readdir(td)))
			if (atoi(te->d_name) > 0)
				sched_setaffinity(atoi(te->d_name),
						  sizeof *cpus, cpus);
		closedir(td);
	}
	closedir(d);
}

/* Apply one of the gate's actions to the running task it names. */
static void run_act(struct run *r, const struct gate_action *a)
{
	struct queue_task *t = queue_get(&r->q, (uint64_t)a->id);
	cpu_set_t cpus;

	if (!t || t->state != QUEUE_RUNNING || t->pid <= 0 || t->kill_stage)
		return;
	switch (a->kind) {
	case GATE_MOVE:
		if (a->pu < 0 || a->pu >= r->npus)
			return;
		t->pu = a->pu;
		if (r->pin) {
			agent_topology_cpuset(r->o->topo, &a->pu, 1, &cpus);
			/* the cpuset first: affinity must stay inside it */
			if (t->cg)
				sched_cgroup_task_set_cpus(t->cg, &cpus, NULL, 0);
			run_repin_group(t->pid, &cpus);
		}
		break;
	case GATE_PAUSE:
		if (!t->paused)
			run_signal_task(t, SIGSTOP);
		t->paused = 1;
		t->policy_touched = 1;
		break;
	case GATE_RESUME:
		if (t->paused)
			run_signal_task(t, SIGCONT);
		t->paused = 0;
		break;
	case GATE_STOP:
		t->policy_stop = 1;
		t->policy_touched = 1;
		run_signal_task(t, SIGKILL);
		t->kill_stage = 2;
		break;
	}
}

/* One tick: the gate samples (our tasks declared as ours), takes the
 * user's allowance and decides; we act on its answer. */
static void run_tick(struct run *r)
{
	const struct agent_snapshot *snap = NULL;
	struct gate_answer ans;
	char ebuf[256];
	size_t n = 0, queued;

	for (struct queue_task *t = r->running; t; t = t->next) {
		if (t->pid <= 0 || t->exited || n >= r->max_running)
			continue;
		r->gw[n++] = (struct gate_worker){ (int64_t)t->seq, t->pid,
						   t->pu, t->paused,
						   t->cg != NULL };
	}
	if (gate_sample(r->gate, r->gw, n, &snap, ebuf, sizeof ebuf) < 0) {
		fprintf(stderr, "nicely: sampling the machine: %s\n", ebuf);
		return;
	}
	r->npending = 0; /* this decision replaces older grants */
	if (run_fill_ready(r, (size_t)r->npus) < 0)
		return;
	queued = r->stopping ? 0
		 : r->q.nready + (r->input_eof ? 0 : (size_t)r->npus);
	gate_decide(r->gate, snap, r->gw, n, queued, queued, &ans);
	run_gate_notes(r);
	for (size_t i = 0; i < ans.nactions; i++)
		run_act(r, &ans.actions[i]);
	for (int i = 0; i < ans.nstart && !r->stopping; i++)
		if (!run_start(r, ans.pus[i], ans.nice))
			break;
	run_flush(r, 0);
}

/* Tick timer callback. */
static void run_on_tick(struct loop_watch *w, uint32_t ev)
{
	(void)ev;
	loop_timer_ack(w->fd);
	if (run_self->paused || run_self->resetting)
		return; /* nothing starts, moves or resumes meanwhile */
	run_tick(run_self);
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
		if (si.ssi_signo == SIGCHLD)
			continue; /* pidfds tell us about exits */
		if (si.ssi_signo == SIGTSTP || si.ssi_signo == SIGCONT) {
			run_ctl_job_control(r, (int)si.ssi_signo);
			continue;
		}
		if (r->st.signal && r->st.signal != SIGPIPE) {
			for (struct queue_task *t = r->running; t; t = t->next) {
				run_signal_task(t, SIGKILL);
				t->kill_stage = 2;
			}
			continue;
		}
		r->st.signal = (int)si.ssi_signo;
		r->stopping = 1;
		run_kill_all(r);
	}
}

/* --- whole-batch controls: `nicely status / pause / resume / kill /
 * reset` over the control socket (sched/ctl.c). */

/* Freeze (or thaw) every running task the policy has not paused itself:
 * its cgroup's freezer, else SIGSTOP/SIGCONT of its process group. A task
 * being killed is not frozen. Returns how many. */
static uint64_t run_ctl_freeze(struct run *r, int freeze)
{
	uint64_t n = 0;

	for (struct queue_task *t = r->running; t; t = t->next) {
		if (t->pid <= 0 || t->paused || (freeze && t->kill_stage))
			continue;
		run_signal_task(t, freeze ? SIGSTOP : SIGCONT);
		n++;
	}
	return n;
}

/* Pause the batch: nothing starts, timeouts stop counting. */
static uint64_t run_ctl_pause(struct run *r)
{
	uint64_t n;

	if (r->paused)
		return 0;
	n = run_ctl_freeze(r, 1);
	r->paused = 1;
	r->paused_at = loop_now_ns();
	run_arm_deadlines(r);
	return n;
}

/* Resume the batch: thaw, and push every timeout back by the frozen time.
 * Tasks the policy paused stay paused until it resumes them. */
static void run_ctl_resume(struct run *r)
{
	uint64_t frozen;

	if (!r->paused)
		return;
	run_ctl_freeze(r, 0);
	frozen = loop_now_ns() - r->paused_at;
	for (struct queue_task *t = r->running; t; t = t->next)
		if (t->deadline_ns && t->kill_stage == 0)
			t->deadline_ns += frozen;
	r->paused = 0;
	r->tstp_paused = 0;
	run_arm_deadlines(r);
}

/* Ctrl-Z (SIGTSTP): pause the batch, then stop ourselves; SIGCONT (fg,
 * bg) resumes it when it was the SIGTSTP that paused it (a `nicely pause`
 * before stays in force). */
static void run_ctl_job_control(struct run *r, int sig)
{
	if (sig == SIGTSTP) {
		if (!r->paused && !r->stopping && !r->resetting) {
			run_ctl_pause(r);
			r->tstp_paused = 1;
		}
		raise(SIGSTOP);
	} else if (r->tstp_paused) {
		run_ctl_resume(r);
	}
}

/* A queued task dropped by a reset: a result that says it never ran
 * (exit -1, status "cancelled"), written in its turn. */
static void run_ctl_cancel_task(struct run *r, struct queue_task *t)
{
	const struct run_opts *o = r->o;
	struct timeval tv;

	queue_task_event(t, QUEUE_EV_CANCEL);
	t->cancelled = 1;
	t->exitval = -1;
	t->signal = 0;
	t->failed = 0;
	t->pu = -1;
	if (!t->cmd) {
		const char *vals[t->nvalues ? t->nvalues : 1];
		queue_values(t, vals);
		t->cmd = template_expand(o->tmpl, vals, t->nvalues, t->seq, 0);
	}
	gettimeofday(&tv, NULL);
	t->start_real = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
	t->start_ns = t->end_ns = loop_now_ns();
	r->st.cancelled++;
	if (o->on_result)
		o->on_result(o->ctx, t);
	if (o->unordered || o->line_buffer)
		run_emit(r, t);
}

/* Drop every queued task: those read, those the input thread holds, and
 * for input that is all there (::: values, files) the rest of it. A pipe's
 * later lines are new input. Returns how many. */
static uint64_t run_ctl_cancel_queued(struct run *r)
{
	struct queue_task *t;
	uint64_t n = 0;

	r->npending = 0;
	for (;;) {
		while ((t = queue_ready_take(&r->q))) {
			run_ctl_cancel_task(r, t);
			n++;
		}
		run_flush(r, 0);
		if (r->input_eof || run_read_one(r) <= 0)
			break;
	}
	return n;
}

/* Start killing every running task for `nicely kill` or a reset: their
 * results are recorded (status "killed"). Returns how many. */
static uint64_t run_ctl_kill_running(struct run *r)
{
	uint64_t now, n = 0;

	if (r->paused)
		run_ctl_resume(r);
	now = loop_now_ns();
	for (struct queue_task *t = r->running; t; t = t->next) {
		if (t->kill_stage)
			continue;
		t->ctl_killed = 1;
		run_kill_task(r, t, now);
		n++;
	}
	run_arm_deadlines(r);
	return n;
}

/* The batch as `nicely status` shows it. */
static json_t *run_ctl_status(struct run *r)
{
	const struct run_stats *st = &r->st;
	long long queued;

	if (st->total >= 0) {
		queued = st->total - (long long)(st->finished + st->running +
						 st->skipped + st->cancelled);
		if (queued < 0)
			queued = 0;
	} else {
		queued = (long long)r->q.nready +
			 (r->feed ? (long long)feed_ahead(r->feed) : 0);
	}
	return json_pack("{s:s,s:i,s:f,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
			 "s:b,s:s,s:I}",
			 "id", ctl_id(r->ctl), "pid", (int)getpid(),
			 "start", r->start_real,
			 "command", r->o->ctl_command ? r->o->ctl_command : "",
			 "preset", r->o->preset->name,
			 "total", (json_int_t)st->total,
			 "queued", (json_int_t)queued,
			 "running", (json_int_t)st->running,
			 "done", (json_int_t)st->finished,
			 "failed", (json_int_t)st->failed,
			 "cancelled", (json_int_t)st->cancelled,
			 "skipped", (json_int_t)st->skipped,
			 "paused", r->paused,
			 "state", r->stopping ? "ending"
				  : r->resetting ? "resetting"
				  : r->paused ? "paused" : "running",
			 "resets", (json_int_t)st->resets);
}

/* `nicely reset`: read the config again first (an error changes
 * nothing), then kill what runs, drop what is queued, and answer once the
 * killed tasks are gone (run_ctl_poll). */
static void run_ctl_reset(struct run *r, struct ctl_req *req)
{
	char err[1024] = "";

	if (r->stopping) {
		ctl_reply_error(req, "batch %s is ending; nothing to reset",
				ctl_id(r->ctl));
		return;
	}
	if (r->resetting) {
		ctl_reply_error(req, "batch %s: a reset is already under way",
				ctl_id(r->ctl));
		return;
	}
	if (!r->o->reload) {
		ctl_reply_error(req, "batch %s cannot read its config again",
				ctl_id(r->ctl));
		return;
	}
	if (r->o->reload(r->o->ctx, err, sizeof err) < 0) {
		ctl_reply_error(req, "config: %s (reset refused: batch %s goes "
				"on with its old config)", err, ctl_id(r->ctl));
		return;
	}
	r->resetting = 1;
	r->reset_killed = run_ctl_kill_running(r);
	r->reset_cancelled = run_ctl_cancel_queued(r);
	r->pend_reset = req;
	fprintf(stderr, "nicely: reset: %llu running task%s killed, %llu "
		"queued task%s cancelled, config read again (preset %s)\n",
		(unsigned long long)r->reset_killed,
		r->reset_killed == 1 ? "" : "s",
		(unsigned long long)r->reset_cancelled,
		r->reset_cancelled == 1 ? "" : "s", r->o->preset->name);
}

/* `nicely kill`: kill everything, start nothing more; answered at the
 * end of the batch (run_ctl_end), when nothing of it runs any more. */
static void run_ctl_kill(struct run *r, struct ctl_req *req)
{
	if (r->npend_kill < (int)(sizeof r->pend_kill /
				  sizeof r->pend_kill[0]))
		r->pend_kill[r->npend_kill++] = req;
	else
		ctl_reply_error(req, "batch %s is being killed already",
				ctl_id(r->ctl));
	if (r->st.ctl_killed)
		return;
	r->st.ctl_killed = 1;
	r->stopping = 1;
	r->ctl_nkilled = run_ctl_kill_running(r);
	fprintf(stderr, "nicely: killed by 'nicely kill': %llu running "
		"task%s\n", (unsigned long long)r->ctl_nkilled,
		r->ctl_nkilled == 1 ? "" : "s");
}

/* A request from the control socket. */
static void run_ctl_request(void *ctx, struct ctl_req *req, const char *cmd,
			    json_t *msg)
{
	struct run *r = ctx;

	(void)msg;
	if (!strcmp(cmd, CTL_CMD_STATUS)) {
		ctl_reply(req, json_pack("{s:o}", "batch", run_ctl_status(r)));
	} else if (!strcmp(cmd, CTL_CMD_PAUSE) ||
		   !strcmp(cmd, CTL_CMD_RESUME)) {
		int pause = !strcmp(cmd, CTL_CMD_PAUSE);
		uint64_t n = 0;
		int was = r->paused;

		if (r->stopping || r->resetting) {
			ctl_reply_error(req, "batch %s is %s", ctl_id(r->ctl),
					r->stopping ? "ending" : "resetting");
			return;
		}
		if (pause) {
			n = run_ctl_pause(r);
		} else {
			for (struct queue_task *t = r->running; t; t = t->next)
				n += t->pid > 0 && !t->paused;
			run_ctl_resume(r);
		}
		ctl_reply(req, json_pack("{s:I,s:b}", "tasks", (json_int_t)n,
					 "changed", was != pause));
	} else if (!strcmp(cmd, CTL_CMD_KILL)) {
		run_ctl_kill(r, req);
	} else if (!strcmp(cmd, CTL_CMD_RESET)) {
		run_ctl_reset(r, req);
	} else {
		ctl_reply_error(req, "unknown command '%s' (status, pause, "
				"resume, kill, reset)", cmd);
	}
}

/* Between loop rounds: free answered peers; finish a reset whose killed
 * tasks are gone (answer it, take the new preset's tick, go on). */
static void run_ctl_poll(struct run *r)
{
	ctl_reap(r->ctl);
	if (!r->resetting || r->st.running > 0)
		return;
	r->resetting = 0;
	r->st.resets++;
	ctl_reply(r->pend_reset,
		  json_pack("{s:I,s:I,s:s}", "killed",
			    (json_int_t)r->reset_killed, "cancelled",
			    (json_int_t)r->reset_cancelled, "preset",
			    r->o->preset->name));
	r->pend_reset = NULL;
	/* the preset and per-user limit the reset read (the lease file is
	 * taken anew with a new limit) */
	gate_reload(r->gate, r->o->preset, r->o->user_limit);
	gate_lease_open(r->gate);
	run_gate_notes(r);
	if (!r->stopping) {
		uint64_t iv = (uint64_t)(r->o->preset->interval_ms > 10
					 ? r->o->preset->interval_ms : 10) *
			      1000000ull;
		loop_timer_set(r->tickfd, iv, iv);
		run_tick(r);
	}
}

/* The batch ended: answer the kills waiting for it and a reset that
 * could not finish. */
static void run_ctl_end(struct run *r)
{
	for (int i = 0; i < r->npend_kill; i++)
		ctl_reply(r->pend_kill[i],
			  json_pack("{s:I}", "killed",
				    (json_int_t)r->ctl_nkilled));
	r->npend_kill = 0;
	if (r->pend_reset)
		ctl_reply_error(r->pend_reset, "batch %s ended before the reset "
				"was done", ctl_id(r->ctl));
	r->pend_reset = NULL;
}

/* Make the control socket; without one the batch still runs. */
static void run_ctl_open(struct run *r)
{
	struct ctl_options co = { r->o->ctl_dir, run_ctl_request, r };
	char err[1024];

	if (ctl_open(&r->ctl, &r->loop, &co, err, sizeof err) < 0)
		fprintf(stderr, "nicely: no control socket, so nicely status, "
			"kill, reset, pause and resume cannot reach this "
			"batch: %s\n", err);
}

/* The batch's cgroups (after removing stale ones of this user's dead
 * batches). Without them, say once what is missing; tasks then run with
 * nice and pinning, and our session's autogroup takes the preset's weight
 * class (put back at the end) since nice alone only ranks tasks inside
 * one autogroup. */
static void run_cgroup_open(struct run *r)
{
	struct sched_cgroup_options co = SCHED_CGROUP_OPTIONS_INIT;
	const struct policy_preset *p = r->o->preset;
	char err[1024];
	int e;

	r->autogroup_restore = -1;
	co.weight = p->weight;
	e = sched_cgroup_batch_open(&r->cg, &co, err, sizeof err);
	if (e == 0)
		return;
	r->cg = NULL;
	if (e == -EACCES || e == -EPERM || e == -EROFS)
		fprintf(stderr, "nicely: %s\n", err);
	else
		fprintf(stderr, "nicely: no cgroups (%s); tasks run with nice "
			"and CPU pinning only\n", err);
	if (p->memory_max)
		fprintf(stderr, "nicely: memory_max is not enforced without "
			"cgroups\n");
	if (p->weight != POLICY_WEIGHT_NORMAL) {
		int old = sched_cgroup_autogroup_nice();

		e = sched_cgroup_autogroup_fallback(p->weight);
		if (e == 0)
			r->autogroup_restore = old;
		else if (e != -ENOENT)
			fprintf(stderr, "nicely: cannot lower the session's "
				"autogroup priority: %s\n", strerror(-e));
	}
}

/* Our own CPU time for the sampler: with the batch's cgroups, the whole
 * subtree (every task, and whatever its processes fork) counts as ours,
 * so a task's children are not taken for others' load; without them (or
 * when the sampler cannot read it) each task's PID is declared at every
 * tick, and its children are not seen. */
static void run_cgroup_charge(struct run *r)
{
	char path[4096];
	int e;

	if (!r->cg || !sched_cgroup_batch_cpu_path(r->cg, path, sizeof path))
		return;
	e = gate_set_cgroup(r->gate, r->cg);
	if (e < 0)
		fprintf(stderr, "nicely: cannot read the CPU time of %s (%s); "
			"the CPU time of tasks' child processes counts as "
			"others' load\n", path, strerror(-e));
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
	struct gate_opts go = {
		.preset = o->preset,
		.user_limit = o->user_limit,
		.topo = (struct agent_topology *)o->topo,
		.sampler = o->sampler,
		.max_declared = r->max_running,
		.words = { "tasks", "this batch", "this batch" },
	};
	if ((e = gate_new(&r->gate, &go, err, errlen)) < 0)
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
	run_cgroup_charge(r);
	gate_lease_open(r->gate);
	run_gate_notes(r);
	loop_add(&r->loop, &r->w_sig, r->sigfd, EPOLLIN, run_on_signal);
	loop_add(&r->loop, &r->w_tick, r->tickfd, EPOLLIN, run_on_tick);
	loop_add(&r->loop, &r->w_timer, r->timerfd, EPOLLIN, run_on_timer);
	if (o->input_may_block) {
		e = feed_start(&r->feed, o->input, RUN_FEED_AHEAD, err, errlen);
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
	return 0;
}

/* Free everything the engine made (tasks still in the window included). */
static void run_fini(struct run *r)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD,
				    SIGTSTP, SIGCONT };
	sigset_t set;
	char err[1024];

	ctl_close(r->ctl);
	r->ctl = NULL;
	feed_stop(r->feed);
	/* whatever is still running dies with the batch's cgroups */
	for (struct queue_task *t = r->running; t; t = t->next)
		if (t->cg) {
			sched_cgroup_task_forked(t->cg);
			free(t->cg);
			t->cg = NULL;
		}
	for (int i = 0; i < r->nslot_cg; i++)
		if (r->slot_cg[i])
			run_cgroup_drop(r->slot_cg[i]);
	free(r->slot_cg);
	r->slot_cg = NULL;
	r->nslot_cg = 0;
	/* the gate stops charging by the batch cgroup before it goes */
	gate_free(r->gate);
	r->gate = NULL;
	if (r->cg && sched_cgroup_batch_close(r->cg, err, sizeof err) < 0)
		fprintf(stderr, "nicely: %s\n", err);
	r->cg = NULL;
	if (r->autogroup_restore >= 0)
		sched_cgroup_autogroup_restore(r->autogroup_restore);
	r->autogroup_restore = -1;
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
	if (e == 0) {
		/* the first sample has no deltas yet; a nuclear preset may
		 * already start, the others wait for the second tick */
		run_tick(&r);
		for (;;) {
			run_ctl_poll(&r);
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
	run_ctl_end(&r);
	*st = r.st;
	if (!r.input_eof && st->total < 0 && !r.stopping)
		st->total = (long long)(r.q.next_seq - 1);
	run_fini(&r);
	run_self = NULL;
	return e;
}

/* GNU parallel's exit status. */
int run_exit_status(const struct run_stats *st)
{
	if (st->signal || st->ctl_killed)
		return 255;
	if (st->halted && st->halt_success)
		return 0;
	return st->failed > 100 ? 101 : (int)st->failed;
}
