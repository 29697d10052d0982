/* sched/cli/run_ctl: whole-batch controls of `nicely run`: `nicely
 * status / pause / resume / kill / reset` over the control socket
 * (sched/ctl.c) and Ctrl-Z / fg. Called from the loop thread: the socket's
 * requests, the signalfd, and between loop rounds (run_ctl_poll). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "agent/topology.h"
#include "policy/preset.h"
#include "sched/ctl.h"
#include "sched/ctl_proto.h"
#include "sched/gate.h"
#include "sched/loop.h"
#include "sched/cli/feed.h"
#include "sched/cli/template.h"
#include "sched/cli/run_ctl.h"
#include "sched/cli/run_emit.h"
#include "sched/cli/run_engine.h"
#include "sched/cli/run_gate.h"
#include "sched/cli/run_task.h"

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
uint64_t run_ctl_pause(struct run *r)
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
void run_ctl_resume(struct run *r)
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
void run_ctl_job_control(struct run *r, int sig)
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
		t->cmd = template_expand(o->tmpl, vals,
					 run_cmd_nvalues(o, t), t->seq, 0);
	}
	gettimeofday(&tv, NULL);
	t->start_real = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
	t->start_ns = t->end_ns = loop_now_ns();
	r->st.cancelled++;
	/* in order: run_emit calls the hook in the task's turn */
	if (o->on_result && !o->result_in_order)
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

/* Why tasks wait now, for `nicely status` and `nicely top`: "" when
 * none waits or nothing holds them back; the pause, the -j cap, else the
 * gate's last reason (with figures). */
static const char *run_ctl_reason(struct run *r, long long queued,
				  char *buf, size_t len)
{
	if (r->stopping || r->resetting || queued <= 0)
		return "";
	if (r->paused)
		return "paused";
	if (r->o->jobs > 0 && r->st.running >= (size_t)r->o->jobs) {
		snprintf(buf, len, "-j %d reached", r->o->jobs);
		return buf;
	}
	return r->gate ? gate_reason(r->gate) : "";
}

/* The Linux CPUs the running tasks are placed on, ascending, each once
 * (an unpinned task, or one on a topology that is not this machine,
 * holds none). */
static json_t *run_ctl_pus(struct run *r)
{
	json_t *a = json_array();
	const struct agent_pu *pus = r->pin ? agent_topology_pus(r->o->topo)
					    : NULL;
	unsigned char *on;

	if (!a || !pus || r->npus <= 0)
		return a;
	on = calloc((size_t)r->npus, 1);
	if (!on)
		return a;
	for (struct queue_task *t = r->running; t; t = t->next)
		if (t->pu >= 0 && t->pu < r->npus && !t->exited)
			on[t->pu] = 1;
	/* PU indices follow the machine's order; sort by Linux CPU */
	for (int done = 0, last = -1; !done;) {
		int best = -1;

		for (int p = 0; p < r->npus; p++)
			if (on[p] && pus[p].os_index > last &&
			    (best < 0 || pus[p].os_index < pus[best].os_index))
				best = p;
		if (best < 0)
			done = 1;
		else {
			json_array_append_new(a, json_integer(pus[best].os_index));
			last = pus[best].os_index;
		}
	}
	free(on);
	return a;
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
	/* user text (command line, preset name) goes in through ctl_put_text:
	 * json_pack refuses bytes that are not UTF-8 */
	json_t *b = json_pack("{s:s,s:i,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
			 "s:b,s:s,s:I}",
			 "id", ctl_id(r->ctl), "pid", (int)getpid(),
			 "start", r->start_real,
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
	char why[GATE_REASON_MAX + 32];

	if (b && (ctl_put_text(b, "command", r->o->ctl_command ?
			       r->o->ctl_command : "", CTL_COMMAND_MAX) < 0 ||
		  ctl_put_text(b, "preset", r->o->preset->name, 0) < 0 ||
		  ctl_put_text(b, "reason", run_ctl_reason(r, queued, why,
							    sizeof why), 0) < 0 ||
		  json_object_set_new(b, "pus", run_ctl_pus(r)) < 0)) {
		json_decref(b);
		b = NULL;
	}
	return b;
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

/* End the batch as a kill does (once): stop starting, kill what runs,
 * say how many, `how` naming who killed it. */
static void run_ctl_killed(struct run *r, const char *how)
{
	if (r->st.ctl_killed)
		return;
	r->st.ctl_killed = 1;
	r->stopping = 1;
	r->ctl_nkilled = run_ctl_kill_running(r);
	fprintf(stderr, "nicely: killed %s: %llu running task%s\n", how,
		(unsigned long long)r->ctl_nkilled,
		r->ctl_nkilled == 1 ? "" : "s");
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
	run_ctl_killed(r, "by 'nicely kill'");
}

/* nicely-agent says the batch was killed (`nicely kill --user`, an
 * admin): end as `nicely kill` ends it, with no one waiting for an
 * answer. */
void run_ctl_agent_killed(struct run *r)
{
	run_ctl_killed(r, "through nicely-agent");
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
void run_ctl_poll(struct run *r)
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
	run_gate_reload(r);
	if (!r->stopping) {
		uint64_t iv = (uint64_t)(r->o->preset->interval_ms > 10
					 ? r->o->preset->interval_ms : 10) *
			      1000000ull;
		loop_timer_set(r->tickfd, iv, iv);
		run_gate_tick(r);
	}
}

/* The batch ended: answer the kills waiting for it and a reset that
 * could not finish. */
void run_ctl_end(struct run *r)
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
void run_ctl_open(struct run *r)
{
	struct ctl_options co = { r->o->ctl_dir, run_ctl_request, r };
	char err[1024];

	if (ctl_open(&r->ctl, &r->loop, &co, err, sizeof err) < 0)
		fprintf(stderr, "nicely: no control socket, so nicely status, "
			"kill, reset, pause and resume cannot reach this "
			"batch: %s\n", err);
}
