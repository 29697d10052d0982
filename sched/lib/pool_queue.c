/* sched/lib/pool_queue: queueing. nicely_run and nicely_map copy their
 * arguments into a batch and append its ids to the queue of id ranges,
 * with back-pressure (max_queued); tasks to run again go back at its
 * front; kill_all cancels what is queued. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nicely.h"
#include "sched/lib/pool_arena.h"
#include "sched/lib/pool_batch.h"
#include "sched/lib/pool_dispatch.h"
#include "sched/lib/pool_into.h"
#include "sched/lib/pool_queue.h"
#include "sched/lib/pool_state.h"
#include "sched/lib/pool_task.h"
#include "sched/lib/pool_turn.h"
#include "sched/lib/wire.h"
#include "sched/lib/worker.h"

#define POOL_INPLACE_MAX (64u << 10)	/* largest in-place result */

/* Double the queue's room (its ranges then start at index 0). */
static int pool_queue_grow(struct pool_deque *q)
{
	size_t cap = q->cap ? q->cap * 2 : 64;
	struct pool_range *r = malloc(cap * sizeof *r);

	if (!r)
		return NICELY_ENOMEM;
	for (size_t i = 0; i < q->n; i++)
		r[i] = q->r[(q->head + i) % q->cap];
	free(q->r);
	q->r = r;
	q->cap = cap;
	q->head = 0;
	return 0;
}

/* Add a range at the back (merging) or front of the queue. */
int pool_queue_push(struct pool_deque *q, int64_t first, int64_t count,
		    int front)
{
	if (!front && q->n) {
		struct pool_range *b = &q->r[(q->head + q->n - 1) % q->cap];

		if (b->first + b->count == first) {
			b->count += count;
			return 0;
		}
	}
	if (q->n == q->cap && pool_queue_grow(q))
		return NICELY_ENOMEM;
	if (front) {
		q->head = (q->head + q->cap - 1) % q->cap;
		q->r[q->head] = (struct pool_range){ first, count };
	} else {
		q->r[(q->head + q->n) % q->cap] = (struct pool_range){ first, count };
	}
	q->n++;
	return 0;
}

/* Take one id out of the queue (splitting its range). 1 when it was
 * there, 0 when not, or NICELY_ENOMEM (then the queue is unchanged). */
int pool_queue_remove(struct pool_deque *q, int64_t id)
{
	for (size_t k = 0; k < q->n; k++) {
		struct pool_range *r = &q->r[(q->head + k) % q->cap];

		if (id < r->first || id >= r->first + r->count)
			continue;
		if (id == r->first) {
			r->first++;
			r->count--;
		} else if (id == r->first + r->count - 1) {
			r->count--;
		} else {	/* split: the tail goes in after this range */
			struct pool_range tail = { id + 1,
						   r->first + r->count - id - 1 };

			if (q->n == q->cap && pool_queue_grow(q))
				return NICELY_ENOMEM;
			r = &q->r[(q->head + k) % q->cap];
			r->count = id - r->first;
			for (size_t j = q->n; j > k + 1; j--)
				q->r[(q->head + j) % q->cap] =
					q->r[(q->head + j - 1) % q->cap];
			q->r[(q->head + k + 1) % q->cap] = tail;
			q->n++;
			return 1;
		}
		if (!r->count) {	/* emptied: close the gap */
			for (size_t j = k; j + 1 < q->n; j++)
				q->r[(q->head + j) % q->cap] =
					q->r[(q->head + j + 1) % q->cap];
			q->n--;
		}
		return 1;
	}
	return 0;
}

/* Wait for room in the queue, or say there is none. */
static int pool_room(nicely_pool *p, size_t want)
{
	int rc;

	if (!p->o.max_queued)
		return 0;
	while ((size_t)p->queued + want > p->o.max_queued) {
		if (p->o.run_nonblock)
			return NICELY_EAGAIN;
		if ((rc = pool_turn(p, -1)) < 0)
			return rc;
	}
	return 0;
}

/* Queue n more tasks of batch b (the next ids). */
static int pool_enqueue(nicely_pool *p, struct pool_batch *b, size_t n)
{
	int rc = pool_task_grow(p, n);
	int fresh = !p->nbs || p->bs[p->nbs - 1].b != b;

	if (rc)
		return rc;
	if (fresh && p->nbs == p->bscap) {
		size_t cap = p->bscap ? 2 * p->bscap : 16;
		struct pool_bstart *v = realloc(p->bs, cap * sizeof *v);

		if (!v)
			return NICELY_ENOMEM;
		p->bs = v;
		p->bscap = cap;
	}
	if ((rc = pool_queue_push(&p->q, p->total, (int64_t)n, 0)))
		return rc;
	/* the records are written by pool_task_init when first needed. (A
	 * new batch at the address of a freed one shares its start entry:
	 * harmless, a batch is freed only once all its records are written,
	 * so the entry now names only the new batch's ids.) */
	if (fresh)
		p->bs[p->nbs++] = (struct pool_bstart){ p->total, b };
	p->total += (int64_t)n;
	p->queued += (int64_t)n;
	return 0;
}

/* Queue one call. */
int64_t nicely_run(nicely_pool *p, nicely_task_fn fn, const void *arg,
		   size_t len)
{
	struct pool_batch *b;
	int64_t id;
	int rc;

	if (!p || !fn || (len && !arg))
		return NICELY_EINVAL;
	if (len > WIRE_MAX_BODY - 4096)
		return NICELY_E2BIG;
	if (p->broken)
		return NICELY_ECHILD;
	/* from a callback: the pool is mid-turn, so no stepping for room
	 * and no dispatch (the turn dispatches after its callbacks) */
	if (p->in_cb && p->o.max_queued && (size_t)p->queued >= p->o.max_queued)
		return NICELY_EAGAIN;
	if (!p->in_cb && (rc = pool_room(p, 1)))
		return rc;
	b = calloc(1, sizeof *b);
	if (!b || pool_batch_data(b, len)) {
		free(b);
		return NICELY_ENOMEM;
	}
	if (len)
		memcpy(b->data, arg, len);
	b->fn = fn;
	b->first_id = p->total;
	b->n = 1;
	b->elem_size = len;
	b->chunk = 1;
	b->refs = 1;
	id = p->total;
	if ((rc = pool_enqueue(p, b, 1))) {
		pool_batch_free(b);
		return rc;
	}
	if (!p->in_cb)
		pool_dispatch(p, worker_now_ns());
	return id;
}

/* Queue one call per element; in: the map_into call they belong to, or
 * NULL. */
int pool_queue_map(nicely_pool *p, nicely_task_fn fn, const void *base,
		   size_t elem_size, size_t n, size_t chunk, int64_t *first_id,
		   struct pool_into *in)
{
	struct pool_batch *b;
	size_t done = 0;
	int rc;

	if (!p || !fn || (n && elem_size && !base) || n > INT64_MAX / 2)
		return NICELY_EINVAL;
	if (p->in_cb)
		return NICELY_EBUSY;
	if (elem_size > WIRE_MAX_BODY - 4096 ||
	    (elem_size && n > SIZE_MAX / elem_size))
		return NICELY_E2BIG;
	if (p->broken)
		return NICELY_ECHILD;
	if (first_id)
		*first_id = p->total;
	if (!n)
		return 0;
	if (p->o.max_queued && p->o.run_nonblock &&
	    (size_t)p->queued + n > p->o.max_queued)
		return NICELY_EAGAIN;
	b = calloc(1, sizeof *b);
	if (b && pool_arena_batch(p, b, elem_size, n,
				  in && in->out_size <= POOL_INPLACE_MAX
					  ? in->out_size
					  : 0) &&
	    pool_batch_data(b, elem_size * n)) {
		free(b);
		b = NULL;
	}
	if (!b)
		return NICELY_ENOMEM;
	if (in) {
		if (p->ninto == p->intocap) {
			size_t cap = p->intocap ? 2 * p->intocap : 8;
			struct pool_into **v = realloc(p->into, cap * sizeof *v);

			if (!v) {
				pool_batch_free(b);
				return NICELY_ENOMEM;
			}
			p->into = v;
			p->intocap = cap;
		}
		in->first = p->total;
		in->n = (int64_t)n;
		in->batch = b;
		b->into = in;
		p->into[p->ninto++] = in;
	}
	if (elem_size)
		memcpy(b->data, base, elem_size * n);
	b->fn = fn;
	b->first_id = p->total;
	b->n = n;
	b->elem_size = elem_size;
	b->chunk = chunk;
	b->refs = n;
	while (done < n) {
		size_t k = n - done;

		if (p->o.max_queued) {
			if ((rc = pool_room(p, 1)))
				goto fail;
			if (k > p->o.max_queued - (size_t)p->queued)
				k = p->o.max_queued - (size_t)p->queued;
		}
		/* stop_on_failure stopped this map while it waited for room:
		 * the rest is cancelled as it would have been if queued */
		int stopped = p->stop_below > b->first_id;

		if (stopped)
			k = n - done;
		if (in)
			pool_into_set(in, (int64_t)done, (int64_t)k,
				      NICELY_QUEUED);
		if ((rc = pool_enqueue(p, b, k)))
			goto fail;
		done += k;
		if (stopped) {
			pool_queue_fail_last(p, (int64_t)k);
			break;
		}
		pool_dispatch(p, worker_now_ns());
	}
	return 0;
fail:
	/* tasks already queued keep the batch; the rest never will */
	b->refs -= n - done;
	if (in)
		in->n = (int64_t)done;
	if (!done) {
		if (in) {	/* it is the last one */
			p->ninto--;
			p->into_last = 0;
			b->into = NULL;
			in->batch = NULL;
		}
		pool_batch_free(b);
	}
	return rc;
}

/* Queue one call per element. */
int nicely_map(nicely_pool *p, nicely_task_fn fn, const void *base,
	       size_t elem_size, size_t n, size_t chunk, int64_t *first_id)
{
	return pool_queue_map(p, fn, base, elem_size, n, chunk, first_id, NULL);
}

/* End everything queued with status st (CANCELLED, or FAILED when no
 * worker can run them) and the error text why. */
int pool_queue_fail(nicely_pool *p, nicely_status st, const char *why)
{
	int n = 0;

	while (p->q.n) {
		struct pool_range r = p->q.r[p->q.head];

		p->q.head = (p->q.head + 1) % p->q.cap;
		p->q.n--;
		for (int64_t id = r.first; id < r.first + r.count; id++) {
			struct pool_into *in =
				p->ninto ? pool_into_of(p, id) : NULL;

			if (in) {
				int64_t k = in->first + in->n - id;

				if (k > r.first + r.count - id)
					k = r.first + r.count - id;
				/* (ids below inited are settled: see
				 * pool_task_forget) */
				if (id + k > p->inited)
					pool_task_init(p, id + k - 1);
				/* a failure, or a cancel saying something
				 * else than kill_all's: a record with it */
				int rec = st != NICELY_CANCELLED ||
					  strcmp(why, POOL_KILLALL_CANCEL);

				for (int64_t j = id - in->first;
				     rec && j < id - in->first + k; j++) {
					struct pool_task *t;

					if (in->st[j] != NICELY_QUEUED ||
					    !(t = pool_into_rec(in, j, -1)))
						continue;
					pool_task_finish(p, t, st, 0, why);
					n++;
				}
				n += pool_into_cancel(p, in, id - in->first, k);
				id += k - 1;
				continue;
			}
			struct pool_task *t = pool_task_get(p, id);

			if (t && t->res.status == NICELY_QUEUED) {
				pool_task_finish(p, t, st, 0, why);
				n++;
			}
		}
	}
	return n;
}

/* Cancel the last k ids queued (the back of the queue) with the text of
 * the last stop_on_failure stop. */
void pool_queue_fail_last(nicely_pool *p, int64_t k)
{
	int64_t first = p->total - k;
	struct pool_range *b = &p->q.r[(p->q.head + p->q.n - 1) % p->q.cap];

	if (!(b->count -= k))
		p->q.n--;
	p->stop_below = p->total;
	for (int64_t id = first; id < p->total; id++) {
		struct pool_into *in = p->ninto ? pool_into_of(p, id) : NULL;
		struct pool_task *t = in ? pool_into_rec(in, id - in->first, -1)
					 : pool_task_get(p, id);

		if (t && t->res.status == NICELY_QUEUED)
			pool_task_finish(p, t, NICELY_CANCELLED, 0,
					 p->stop_cancel);
	}
}

/* Cancel everything queued. */
int pool_queue_cancel(nicely_pool *p)
{
	return pool_queue_fail(p, NICELY_CANCELLED, POOL_KILLALL_CANCEL);
}
