/* Unit tests for sched/queue: the task lifecycle table (every state/event
 * pair), the submission-order window and the ready FIFO with requeued
 * tasks in front. No processes. */
#include <errno.h>

#include "sched/cli/queue.h"
#include "tests/tap.h"

/* Every (state, event) pair: allowed ones move, the others are refused. */
static void test_table(void)
{
	static const int want[QUEUE_NSTATES][QUEUE_NEVENTS] = {
		/* START FINISH REQUEUE EMIT SKIP CANCEL */
		[QUEUE_WAITING] = { QUEUE_RUNNING, -1, -1, -1, QUEUE_EMITTED,
				    QUEUE_DONE },
		[QUEUE_RUNNING] = { -1, QUEUE_DONE, QUEUE_WAITING, -1, -1, -1 },
		[QUEUE_DONE] = { -1, -1, -1, QUEUE_EMITTED, -1, -1 },
		[QUEUE_EMITTED] = { -1, -1, -1, -1, -1, -1 },
	};

	for (int s = 0; s < QUEUE_NSTATES; s++)
		for (int e = 0; e < QUEUE_NEVENTS; e++) {
			struct queue_task t = { .state = (enum queue_state)s };
			int r = queue_task_event(&t, (enum queue_event)e);
			if (want[s][e] < 0)
				ok(r == -EINVAL && (int)t.state == s,
				   "%s + event %d refused",
				   queue_state_name((enum queue_state)s), e);
			else
				ok(r == 0 && (int)t.state == want[s][e],
				   "%s + event %d -> %s",
				   queue_state_name((enum queue_state)s), e,
				   queue_state_name(t.state));
		}
}

/* Seqs, values, window lookups and dropping the head. */
static void test_window(void)
{
	struct queue q;
	const char *v[2] = { "a b", "" };
	const char *got[2];

	queue_init(&q);
	for (int i = 0; i < 1000; i++) {
		struct queue_task *t = queue_push(&q, v, 2);
		if (!t)
			tap_bail("out of memory");
	}
	is_int(q.len, 1000, "1000 tasks in the window (ring grew)");
	struct queue_task *t = queue_get(&q, 500);
	is_int(t ? (long long)t->seq : -1, 500, "lookup by seq");
	queue_values(t, got);
	is_str(got[0], "a b", "first value copied");
	is_str(queue_value(t, 1), "", "empty second value kept");
	ok(queue_get(&q, 1001) == NULL && queue_get(&q, 0) == NULL,
	   "seqs outside the window are not found");
	for (int i = 0; i < 10; i++) {
		struct queue_task *h = queue_head(&q);
		queue_task_event(h, QUEUE_EV_SKIP);
		queue_drop_head(&q);
	}
	is_int(queue_head(&q)->seq, 11, "head after dropping 10");
	ok(queue_get(&q, 10) == NULL, "dropped task gone");
	is_int(queue_get(&q, 11)->seq, 11, "seq 11 still there");
	queue_free(&q);
}

/* The ready FIFO: appended in order, requeued tasks first. */
static void test_ready(void)
{
	struct queue q;
	const char *v[1] = { "x" };
	struct queue_task *t[4];

	queue_init(&q);
	for (int i = 0; i < 4; i++) {
		t[i] = queue_push(&q, v, 1);
		queue_ready_add(&q, t[i]);
	}
	is_int(q.nready, 4, "4 ready");
	ok(queue_ready_take(&q) == t[0], "first in, first out");
	queue_ready_front(&q, t[0]);
	ok(queue_ready_take(&q) == t[0], "a requeued task goes first");
	ok(queue_ready_take(&q) == t[1], "then the order goes on");
	ok(queue_ready_take(&q) == t[2] && queue_ready_take(&q) == t[3] &&
	   queue_ready_take(&q) == NULL, "and ends");
	is_int(q.nready, 0, "none ready");
	queue_ready_front(&q, t[1]);
	ok(q.ready == t[1] && q.ready_tail == t[1], "front of an empty FIFO");
	queue_free(&q);
}

/* Run every group of checks; the exit status counts failures. */
int main(void)
{
	test_table();
	test_window();
	test_ready();
	return tap_done();
}
