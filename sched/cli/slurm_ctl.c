/* sched/cli/slurm_ctl: the control socket of `nicely run --on slurm` on
 * the submitting side, the same socket and protocol (sched/ctl_proto.h) a
 * local run serves, mapped to Slurm: status from squeue, kill to scancel
 * (answered once nothing of the batch is left in squeue), pause and resume
 * to scontrol hold and release (pending elements wait; running ones go on:
 * Slurm cannot freeze a job of ours without suspend rights). Called from
 * slurm_submit.c's polling loop; one thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sched/ctl_proto.h"
#include "sched/cli/slurm_batch.h"
#include "sched/cli/slurm_cmd.h"

/* Tasks without a result in a running element, and in pending ones. */
static void slurm_ctl_tasks(const struct slurm_batch *b, long long *running,
			    long long *queued)
{
	*running = *queued = 0;
	for (size_t i = b->head; i < b->n; i++) {
		const struct slurm_task *t = &b->t[i];
		if (t->state == SLURM_T_UNSENT)
			(*queued)++;
		if (t->state != SLURM_T_QUEUED)
			continue;
		if (b->elems[t->elem].running)
			(*running)++;
		else if (!b->elems[t->elem].ended)
			(*queued)++;
	}
}

/* The batch as `nicely status` shows it, with its arrays and elements. */
static json_t *slurm_ctl_status(struct slurm_batch *b)
{
	const struct run_stats *st = b->st;
	long long running, queued, done;
	json_t *o, *arrays = json_array(), *sl;

	slurm_ctl_tasks(b, &running, &queued);
	done = (long long)b->next_elem - b->q_pending - b->q_running;
	for (size_t i = 0; arrays && i < b->nids; i++)
		json_array_append_new(arrays, json_string(b->ids[i]));
	sl = json_pack("{s:o,s:I,s:I,s:I,s:s}", "arrays", arrays,
		       "pending", (json_int_t)b->q_pending,
		       "running", (json_int_t)b->q_running,
		       "done", (json_int_t)(done < 0 ? 0 : done),
		       "dir", b->dir);
	o = json_pack("{s:s,s:i,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:s,"
		      "s:I,s:s,s:o}",
		      "id", ctl_id(b->ctl), "pid", (int)getpid(),
		      "start", b->start_real,
		      "total", (json_int_t)st->total,
		      "queued", (json_int_t)queued,
		      "running", (json_int_t)running,
		      "done", (json_int_t)st->finished,
		      "failed", (json_int_t)st->failed,
		      "cancelled", (json_int_t)st->cancelled,
		      "skipped", (json_int_t)st->skipped,
		      "paused", b->paused,
		      "state", b->killing || st->halted ? "ending"
			       : b->paused ? "paused" : "running",
		      "resets", (json_int_t)0, "on", "slurm", "slurm", sl);
	if (o && (ctl_put_text(o, "command", b->ro->ctl_command ?
			       b->ro->ctl_command : "", CTL_COMMAND_MAX) < 0 ||
		  ctl_put_text(o, "preset", b->so->preset ? b->so->preset
			       : "(the node's)", 0) < 0)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* `nicely pause` / `resume`: hold or release the pending elements. */
static void slurm_ctl_pause(struct slurm_batch *b, struct ctl_req *req,
			    int pause)
{
	int was = b->paused, e;

	if (b->killing || b->st->halted) {
		ctl_reply_error(req, "batch %s is ending", ctl_id(b->ctl));
		return;
	}
	if (was != pause) {
		e = slurm_cmd_hold(b->ids, b->nids, !pause);
		if (e < 0) {
			ctl_reply_error(req, "scontrol %s failed (%s); the batch "
					"is %s as it was", pause ? "hold"
					: "release", strerror(-e), was
					? "held" : "running");
			return;
		}
		b->paused = pause;
		fprintf(stderr, "nicely: %s by 'nicely %s': %s\n",
			pause ? "paused" : "resumed", pause ? "pause"
			: "resume", pause ? "pending Slurm elements held "
			"(scontrol hold), running ones go on"
			: "Slurm elements released (scontrol release)");
	}
	slurm_batch_poll(b);
	ctl_reply(req, json_pack("{s:I,s:b,s:{s:I,s:I}}", "tasks",
				 (json_int_t)(pause ? b->q_pending : 0),
				 "changed", was != pause, "slurm", pause
				 ? "held" : "released",
				 (json_int_t)b->q_pending, "running",
				 (json_int_t)b->q_running));
}

/* A request from the control socket. */
static void slurm_ctl_request(void *ctx, struct ctl_req *req, const char *cmd,
			      json_t *msg)
{
	struct slurm_batch *b = ctx;

	(void)msg;
	if (!strcmp(cmd, CTL_CMD_STATUS)) {
		ctl_reply(req, json_pack("{s:o}", "batch", slurm_ctl_status(b)));
	} else if (!strcmp(cmd, CTL_CMD_PAUSE) ||
		   !strcmp(cmd, CTL_CMD_RESUME)) {
		slurm_ctl_pause(b, req, !strcmp(cmd, CTL_CMD_PAUSE));
	} else if (!strcmp(cmd, CTL_CMD_KILL)) {
		if (b->npend_kill == (int)(sizeof b->pend_kill /
					   sizeof b->pend_kill[0])) {
			ctl_reply_error(req, "batch %s is being killed "
					"already", ctl_id(b->ctl));
			return;
		}
		b->pend_kill[b->npend_kill++] = req;
		if (!b->killing) {
			b->killing = 1;
			b->st->ctl_killed = 1;
			long long running, queued;

			slurm_ctl_tasks(b, &running, &queued);
			b->nkilled = (long)running;
			fprintf(stderr, "nicely: killed by 'nicely kill': "
				"scancel of the batch's %zu Slurm job "
				"array%s\n", b->nids, b->nids == 1 ? "" : "s");
		}
	} else if (!strcmp(cmd, CTL_CMD_RESET)) {
		ctl_reply_error(req, "batch %s runs on Slurm, which cannot "
				"reset it: kill it and run it again",
				ctl_id(b->ctl));
	} else {
		ctl_reply_error(req, "unknown command '%s' (status, pause, "
				"resume, kill)", cmd);
	}
}

/* Make the control socket. */
void slurm_ctl_open(struct slurm_batch *b)
{
	struct ctl_options co = { b->ro->ctl_dir, slurm_ctl_request, b };
	struct timeval tv;
	char err[1024];
	int e;

	gettimeofday(&tv, NULL);
	b->start_real = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
	if (!b->ro->ctl_dir)
		return;
	e = loop_init(&b->loop);
	if (e < 0) {
		snprintf(err, sizeof err, "epoll: %s", strerror(-e));
	} else {
		b->have_loop = 1;
		e = ctl_open(&b->ctl, &b->loop, &co, err, sizeof err);
	}
	if (e < 0)
		fprintf(stderr, "nicely: no control socket, so nicely status, "
			"kill, pause and resume cannot reach this batch: %s\n",
			err);
}

/* Wait, serving the socket. */
void slurm_ctl_wait(struct slurm_batch *b, int ms)
{
	if (!b->ctl) {
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		return;
	}
	/* a signal cuts the wait short (EINTR): the loop sees its flag */
	loop_run_once(&b->loop, ms);
	ctl_reap(b->ctl);
}

/* Answer the kills. */
void slurm_ctl_end(struct slurm_batch *b)
{
	for (int i = 0; i < b->npend_kill; i++)
		ctl_reply(b->pend_kill[i], json_pack("{s:I}", "killed",
						     (json_int_t)b->nkilled));
	b->npend_kill = 0;
}

/* Close the socket. */
void slurm_ctl_close(struct slurm_batch *b)
{
	slurm_ctl_end(b);
	ctl_close(b->ctl);
	b->ctl = NULL;
	if (b->have_loop)
		loop_close(&b->loop);
	b->have_loop = 0;
}
