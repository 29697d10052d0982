/* sched/lib/pool_into: nicely_map_into. Its elements have no task record:
 * one state byte each (mirrored to the caller's status array), clean
 * successes go to the caller's out array, and only the others get a
 * record, made when first needed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nicely.h"
#include "sched/lib/pool_batch.h"
#include "sched/lib/pool_into.h"
#include "sched/lib/pool_queue.h"
#include "sched/lib/pool_state.h"
#include "sched/lib/pool_task.h"

/* The nicely_map_into call holding id, or NULL. */
struct pool_into *pool_into_of(nicely_pool *p, int64_t id)
{
	size_t lo = 0, hi = p->ninto;
	struct pool_into *c;

	if (!hi || id < p->into[0]->first)
		return NULL;
	c = p->into[p->into_last];
	if (id >= c->first && id < c->first + c->n)
		return c;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->into[mid]->first + p->into[mid]->n <= id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < p->ninto && id >= p->into[lo]->first &&
	    id < p->into[lo]->first + p->into[lo]->n) {
		p->into_last = lo;
		return p->into[lo];
	}
	return NULL;
}

/* Give map_into element i a record (its state as it is now), or NULL
 * when out of memory. */
struct pool_task *pool_into_rec(struct pool_into *in, int64_t i,
				int slot)
{
	struct pool_task *t;
	int st;

	if (!in->rec && !(in->rec = calloc((size_t)in->n, sizeof *in->rec)))
		return NULL;
	if (in->rec[i])
		return in->rec[i];
	if (!(t = calloc(1, sizeof *t)))
		return NULL;
	st = in->st[i] & ~POOL_INTO_DROPPED;
	t->res.id = in->first + i;
	t->res.status = (nicely_status)st;
	t->res.error = "";
	t->batch = st == NICELY_QUEUED || st == NICELY_RUNNING ? in->batch
							       : NULL;
	t->worker = (int16_t)slot;
	t->inrec = 1;
	in->rec[i] = t;
	return t;
}

/* Set elements [i, i+k) of a map_into to status st. */
void pool_into_set(struct pool_into *in, int64_t i, int64_t k, int st)
{
	memset(in->st + i, st, (size_t)k);
	if (in->status)
		memset(in->status + i, st, (size_t)k);
}

/* Copy a map_into element's record status to its state bytes. */
void pool_into_mark(nicely_pool *p, const struct pool_task *t)
{
	struct pool_into *in = pool_into_of(p, t->res.id);

	if (in)
		pool_into_set(in, t->res.id - in->first, 1, (int)t->res.status);
}

/* Tell the caller about k finished elements of a map_into from i on
 * (their state and counters are set). */
static void pool_into_cb(nicely_pool *p, struct pool_into *in, int64_t i,
			 int64_t k)
{
	if (!p->o.on_finish) {
		p->completed += k;
		return;
	}
	p->in_cb++;
	for (int64_t j = 0; j < k; j++) {
		p->completed++;
		p->o.on_finish(in->first + i + j, p->completed, p->running,
			       p->total, p->o.cb_user);
	}
	p->in_cb--;
}

/* Release k tasks' references to a map_into's batch. */
static void pool_into_unref(struct pool_into *in, int64_t k)
{
	struct pool_batch *b = in->batch;

	if (b && (b->refs -= (size_t)k) == 0)
		pool_batch_free(b);
}

/* Elements [i, i+k) of a map_into, running, succeeded cleanly (their
 * bytes are in out already). */
void pool_into_ok(nicely_pool *p, struct pool_into *in, int64_t i,
		  int64_t k)
{
	pool_into_set(in, i, k, NICELY_OK);
	p->running -= k;
	pool_into_unref(in, k);
	pool_into_cb(p, in, i, k);
}

/* Queue one call per element, results into the caller's array. */
int nicely_map_into(nicely_pool *p, nicely_task_fn fn, const void *base,
		    size_t elem_size, size_t n, size_t chunk, void *out,
		    size_t out_size, uint8_t *status, int64_t *first_id)
{
	struct pool_into *in;
	int rc;

	if (!p || !fn || (n && out_size && !out) || n > INT64_MAX / 2 ||
	    (out_size && n > SIZE_MAX / out_size))
		return NICELY_EINVAL;
	if (!n || p->in_cb || p->broken)	/* as nicely_map says */
		return pool_queue_map(p, fn, base, elem_size, n, chunk,
				      first_id, NULL);
	in = calloc(1, sizeof *in);
	if (!in || !(in->st = malloc(n))) {
		free(in);
		return NICELY_ENOMEM;
	}
	in->out = out;
	in->out_size = out_size;
	in->status = status;
	rc = pool_queue_map(p, fn, base, elem_size, n, chunk, first_id, in);
	if (!in->batch && !in->n) {	/* nothing of it was queued */
		free(in->st);
		free(in);
	}
	return rc;
}

/* The record of a map_into element that has one, or should: a cancelled
 * element gets it when first asked for. NULL for the others. */
struct pool_task *pool_into_result(nicely_pool *p, int64_t id)
{
	struct pool_into *in = pool_into_of(p, id);
	struct pool_task *t;
	int64_t i;

	if (!in)
		return NULL;
	i = id - in->first;
	if (in->st[i] != NICELY_CANCELLED || !(t = pool_into_rec(in, i, -1)))
		return NULL;
	pool_task_error(t, POOL_KILLALL_CANCEL, strlen(POOL_KILLALL_CANCEL));
	return t;
}

/* Cancel the queued ones of map_into elements [i, i+k): no records (one
 * is made if nicely_result_get asks). */
int pool_into_cancel(nicely_pool *p, struct pool_into *in, int64_t i,
		     int64_t k)
{
	int n = 0;

	for (int64_t j = i; j < i + k; j++) {
		if (in->st[j] != NICELY_QUEUED)
			continue;
		pool_into_set(in, j, 1, NICELY_CANCELLED);
		p->queued--;
		p->failed++;
		pool_into_unref(in, 1);
		pool_into_cb(p, in, j, 1);
		n++;
	}
	return n;
}

/* Free a map_into call's own memory (its batch is gone). */
void pool_into_free(struct pool_into *in)
{
	if (in->batch)
		in->batch->into = NULL;
	free(in->st);
	free(in->rec);
	free(in);
}

/* Drop a map_into call's records and the batch references of its
 * unfinished elements that have records written (ids below inited; the
 * others are counted with the batch starts). */
void pool_into_forget(nicely_pool *p, struct pool_into *in)
{
	for (int64_t i = 0; i < in->n; i++) {
		struct pool_task *t = in->rec ? in->rec[i] : NULL;
		int st = in->st[i];

		if (t) {
			pool_task_release(t);
			pool_batch_unref(t->batch);
			free(t);
			in->rec[i] = NULL;
		} else if ((st == NICELY_QUEUED || st == NICELY_RUNNING) &&
			   in->first + i < p->inited) {
			pool_into_unref(in, 1);
		}
	}
}
