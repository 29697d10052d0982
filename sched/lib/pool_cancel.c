/* sched/lib/pool_cancel: ending one task, nicely_cancel. A queued task
 * leaves the queue (CANCELLED); one handed to a worker and not begun is
 * skipped by that worker through its slot's skip entries (CANCELLED when
 * the worker says so); one running has its worker killed (KILLED), the
 * worker's other tasks going back to the queue. Runs in the owner
 * thread, never from a callback. */
#include <stdint.h>

#include "nicely.h"
#include "sched/lib/pool_into.h"
#include "sched/lib/pool_queue.h"
#include "sched/lib/pool_state.h"
#include "sched/lib/pool_task.h"
#include "sched/lib/pool_turn.h"
#include "sched/lib/pool_worker.h"
#include "sched/lib/worker.h"

#define POOL_CANCEL_WHY "cancelled by nicely_cancel"

/* End a queued task as CANCELLED. */
static int pool_cancel_queued(nicely_pool *p, int64_t id,
			      struct pool_into *in)
{
	struct pool_task *t;
	int rc = pool_queue_remove(&p->q, id);

	if (rc < 0)
		return rc;
	t = in ? pool_into_rec(in, id - in->first, -1) : pool_task_get(p, id);
	if (!t)
		return NICELY_ENOMEM;
	pool_task_finish(p, t, NICELY_CANCELLED, 0, POOL_CANCEL_WHY);
	return 1;
}

/* Where id sits among the tasks worker w holds (0: its next), or -1. */
static int64_t pool_cancel_pos(const struct pool_worker *w, int64_t id)
{
	int64_t pos = 0;

	if (id < 0)
		return -1;
	for (int k = 0; k < w->fl_n; k++) {
		struct pool_range r = w->fl[(w->fl_head + k) % POOL_FLIGHT];

		if (id >= r.first && id < r.first + r.count)
			return pos + (id - r.first);
		pos += r.count;
	}
	return -1;
}

/* The worker slot holding running task id, or -1. */
static int pool_cancel_holder(nicely_pool *p, int64_t id,
			      struct pool_into *in)
{
	struct pool_task *t = in ? NULL : pool_task_get(p, id);

	if (t)
		return t->worker;
	for (int i = 0; i < p->nw; i++)
		if (p->w[i].st != PW_FREE && pool_cancel_pos(&p->w[i], id) >= 0)
			return i;
	return -1;
}

/* Cancel running task id of worker slot (alive): 1 when it will end
 * CANCELLED or KILLED, 0 when it has already run, 2 when the slot has no
 * free skip entry (step and try again). */
static int pool_cancel_running(nicely_pool *p, int slot, int64_t id)
{
	struct pool_worker *w = &p->w[slot];
	struct worker_slot *ws = &p->slots[slot];
	int64_t running, last, free_id = WORKER_IDLE;
	int e;

	for (e = 0; e < WORKER_SKIPS; e++)
		if (__atomic_load_n(&ws->skip[e], __ATOMIC_SEQ_CST) ==
		    WORKER_IDLE)
			break;
	if (e == WORKER_SKIPS)
		return 2;
	/* see wk_skipped: the entry first, then what the worker began */
	__atomic_store_n(&ws->skip[e], id, __ATOMIC_SEQ_CST);
	running = __atomic_load_n(&ws->running, __ATOMIC_SEQ_CST);
	last = __atomic_load_n(&ws->last, __ATOMIC_SEQ_CST);
	if (running == id) {
		/* it runs: kill it, unless the worker took the entry (then
		 * it skips the task) */
		int64_t want = id;

		if (__atomic_compare_exchange_n(&ws->skip[e], &want, free_id, 0,
						__ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			pool_worker_kill(p, w, NICELY_CANCELLED, id);
		return 1;
	}
	if (last >= 0 && pool_cancel_pos(w, last) >= pool_cancel_pos(w, id)) {
		/* it ran to its end: its result is on the way */
		int64_t want = id;

		return __atomic_compare_exchange_n(&ws->skip[e], &want, free_id,
						   0, __ATOMIC_SEQ_CST,
						   __ATOMIC_SEQ_CST)
			       ? 0
			       : 1;
	}
	return 1;	/* not begun: the worker skips it */
}

/* Cancel one task. */
int nicely_cancel(nicely_pool *p, int64_t id)
{
	if (!p)
		return NICELY_EINVAL;
	if (p->in_cb)
		return NICELY_EBUSY;
	if (id < 0 || id >= p->total)
		return NICELY_ENOENT;
	for (;;) {
		struct pool_into *in = p->ninto ? pool_into_of(p, id) : NULL;
		int st = nicely_task_status(p, id), slot, rc;

		if (st == NICELY_QUEUED)
			return pool_cancel_queued(p, id, in);
		if (st != NICELY_RUNNING)
			return st < 0 ? st : 0;
		slot = pool_cancel_holder(p, id, in);
		/* a dying worker settles its tasks first (those it never
		 * began come back to the queue) */
		rc = slot < 0 || p->w[slot].st == PW_DYING || p->w[slot].exited
			     ? 2
			     : pool_cancel_running(p, slot, id);
		if (rc != 2)
			return rc;
		if ((rc = pool_turn(p, 10)) < 0)
			return rc;
	}
}
