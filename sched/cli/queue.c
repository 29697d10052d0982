/* sched/queue: tasks in submission order in a ring-buffer window, a FIFO of
 * tasks ready to start, and the task lifecycle as a (state, event) table.
 * Called by sched/cli/run.c from the scheduler loop. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched/cli/queue.h"

/* Next state for every (state, event); QUEUE_NSTATES = not allowed. */
static const enum queue_state queue_next[QUEUE_NSTATES][QUEUE_NEVENTS] = {
	[QUEUE_WAITING] = { QUEUE_RUNNING, QUEUE_NSTATES, QUEUE_NSTATES,
			    QUEUE_NSTATES, QUEUE_EMITTED, QUEUE_DONE },
	[QUEUE_RUNNING] = { QUEUE_NSTATES, QUEUE_DONE, QUEUE_WAITING,
			    QUEUE_NSTATES, QUEUE_NSTATES, QUEUE_NSTATES },
	[QUEUE_DONE] = { QUEUE_NSTATES, QUEUE_NSTATES, QUEUE_NSTATES,
			 QUEUE_EMITTED, QUEUE_NSTATES, QUEUE_NSTATES },
	[QUEUE_EMITTED] = { QUEUE_NSTATES, QUEUE_NSTATES, QUEUE_NSTATES,
			    QUEUE_NSTATES, QUEUE_NSTATES, QUEUE_NSTATES },
};

/* Empty queue. */
void queue_init(struct queue *q)
{
	memset(q, 0, sizeof *q);
	q->base = 1;
	q->next_seq = 1;
}

/* Free a task and everything it holds. */
static void queue_task_free(struct queue_task *t)
{
	queue_task_release(t);
	free(t);
}

/* Free the whole window. */
void queue_free(struct queue *q)
{
	for (size_t i = 0; i < q->len; i++)
		queue_task_free(q->ring[(q->head + i) % q->cap]);
	free(q->ring);
	memset(q, 0, sizeof *q);
}

/* Double the ring, keeping order. */
static int queue_grow(struct queue *q)
{
	size_t ncap = q->cap ? q->cap * 2 : 64;
	struct queue_task **r = malloc(ncap * sizeof *r);

	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < q->len; i++)
		r[i] = q->ring[(q->head + i) % q->cap];
	free(q->ring);
	q->ring = r;
	q->cap = ncap;
	q->head = 0;
	return 0;
}

/* Append a new task with copied values. */
struct queue_task *queue_push(struct queue *q, const char *const *values,
			      size_t n)
{
	struct queue_task *t;
	size_t total = 0;
	char *p;

	if (q->len == q->cap && queue_grow(q) < 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		total += strlen(values[i]) + 1;
	t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->cpu_ns = t->mem_peak = t->oom_kills = -1;
	t->values = malloc(total ? total : 1);
	if (!t->values) {
		free(t);
		return NULL;
	}
	p = t->values;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(values[i]) + 1;
		memcpy(p, values[i], l);
		p += l;
	}
	t->nvalues = n;
	t->seq = q->next_seq++;
	t->state = QUEUE_WAITING;
	t->pid = -1;
	t->pu = -1;
	t->w_out.fd = t->w_err.fd = t->w_pid.fd = -1;
	t->out.fd = t->err.fd = -1;
	t->lb_start[0] = t->lb_start[1] = 1;
	t->res_fd[0] = t->res_fd[1] = -1;
	if (q->len == 0)
		q->base = t->seq;
	q->ring[(q->head + q->len) % q->cap] = t;
	q->len++;
	return t;
}

/* Look a task up by seq. */
struct queue_task *queue_get(const struct queue *q, uint64_t seq)
{
	if (seq < q->base || seq - q->base >= q->len)
		return NULL;
	return q->ring[(q->head + (seq - q->base)) % q->cap];
}

/* Oldest task. */
struct queue_task *queue_head(const struct queue *q)
{
	return q->len ? q->ring[q->head] : NULL;
}

/* Drop and free the oldest task. */
void queue_drop_head(struct queue *q)
{
	if (!q->len)
		return;
	queue_task_free(q->ring[q->head]);
	q->head = (q->head + 1) % q->cap;
	q->len--;
	q->base++;
}

/* Append to the ready FIFO. */
void queue_ready_add(struct queue *q, struct queue_task *t)
{
	t->rnext = NULL;
	if (q->ready_tail)
		q->ready_tail->rnext = t;
	else
		q->ready = t;
	q->ready_tail = t;
	q->nready++;
}

/* Put in front of the ready FIFO. */
void queue_ready_front(struct queue *q, struct queue_task *t)
{
	t->rnext = q->ready;
	q->ready = t;
	if (!q->ready_tail)
		q->ready_tail = t;
	q->nready++;
}

/* Take the first ready task. */
struct queue_task *queue_ready_take(struct queue *q)
{
	struct queue_task *t = q->ready;

	if (!t)
		return NULL;
	q->ready = t->rnext;
	if (!q->ready)
		q->ready_tail = NULL;
	t->rnext = NULL;
	q->nready--;
	return t;
}

/* Apply a lifecycle transition from the table. */
int queue_task_event(struct queue_task *t, enum queue_event ev)
{
	enum queue_state s = queue_next[t->state][ev];

	if (s == QUEUE_NSTATES)
		return -EINVAL;
	t->state = s;
	return 0;
}

/* The i-th value. */
const char *queue_value(const struct queue_task *t, size_t i)
{
	const char *p = t->values;

	while (i--)
		p += strlen(p) + 1;
	return p;
}

/* Pointers to all values. */
void queue_values(const struct queue_task *t, const char **out)
{
	const char *p = t->values;

	for (size_t i = 0; i < t->nvalues; i++) {
		out[i] = p;
		p += strlen(p) + 1;
	}
}

/* Free command, values, message and output of a written task. */
void queue_task_release(struct queue_task *t)
{
	free(t->cmd);
	free(t->values);
	free(t->errmsg);
	t->cmd = t->values = t->errmsg = NULL;
	t->nvalues = 0;
	output_reset(&t->out);
	output_reset(&t->err);
	for (int i = 0; i < 2; i++) {
		free(t->st_pend[i]);
		t->st_pend[i] = NULL;
		t->st_npend[i] = 0;
	}
}

/* Name of a state. */
const char *queue_state_name(enum queue_state s)
{
	static const char *const names[] = { "waiting", "running", "done",
					     "emitted" };
	return s < QUEUE_NSTATES ? names[s] : "?";
}
