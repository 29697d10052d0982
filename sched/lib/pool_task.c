/* sched/lib/pool_task: the task table. One record per id, in blocks
 * written lazily (a queued task costs nothing until sent), each task's
 * result (return bytes, error text, status) until dropped or forgotten;
 * nicely_result_get / task_status / result_drop read it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nicely.h"
#include "sched/lib/pool.h"
#include "sched/lib/pool_batch.h"
#include "sched/lib/pool_insight.h"
#include "sched/lib/pool_into.h"
#include "sched/lib/pool_queue.h"
#include "sched/lib/pool_state.h"
#include "sched/lib/pool_task.h"
#include "sched/lib/pool_worker.h"

#define POOL_BLOCK_SHIFT 12
#define POOL_BLOCK (1 << POOL_BLOCK_SHIFT)
#define POOL_SLAB (8u << 20)
#define POOL_SLAB_ALIGN (2u << 20)
#define POOL_SLAB_BLOCKS (POOL_SLAB / (POOL_BLOCK * sizeof(struct pool_task)))
#define POOL_SMALL_BLOCKS 1	/* blocks from calloc before slabs */

/* Are a task's return bytes on the heap? */
static int pool_task_heap(const struct pool_task *t)
{
	return t->res.data && t->res.data != (const void *)t->inl.c;
}

/* Write the records of ids up to `upto` (queued tasks of their batch). */
void pool_task_init(nicely_pool *p, int64_t upto)
{
	while (p->inited <= upto) {
		while (p->bscur + 1 < p->nbs &&
		       p->bs[p->bscur + 1].first <= p->inited)
			p->bscur++;
		struct pool_batch *b = p->bs[p->bscur].b;
		int64_t end = p->bscur + 1 < p->nbs ? p->bs[p->bscur + 1].first
						    : p->total;

		if (end > upto + 1)
			end = upto + 1;
		for (int64_t id = p->inited; id < end && !b->into; id++) {
			struct pool_task *t =
				&p->blocks[id >> POOL_BLOCK_SHIFT]
					  [id & (POOL_BLOCK - 1)];

			/* blocks are zeroed and never reused: the rest is 0 */
			t->res.id = id;
			t->res.status = NICELY_QUEUED;
			t->res.error = "";
			t->batch = b;
			t->worker = -1;
		}
		p->inited = end;
	}
	/* starts behind the cursor are never needed again */
	if (p->bscur > 64 && p->bscur > p->nbs / 2) {
		memmove(p->bs, p->bs + p->bscur,
			(p->nbs - p->bscur) * sizeof *p->bs);
		p->nbs -= p->bscur;
		p->bscur = 0;
	}
}

/* Task record of an id (written now if it was not yet), or NULL. For an
 * element of a nicely_map_into: its record if it has one, else NULL. */
struct pool_task *pool_task_get(nicely_pool *p, int64_t id)
{
	struct pool_into *in;

	if (id < 0 || id >= p->total)
		return NULL;
	if (id >= p->inited)
		pool_task_init(p, id);
	if (p->ninto && (in = pool_into_of(p, id)))
		return in->rec ? in->rec[id - in->first] : NULL;
	struct pool_task *b = p->blocks[id >> POOL_BLOCK_SHIFT];

	if (!b || b[id & (POOL_BLOCK - 1)].forgot)	/* imap took them */
		return NULL;
	return &b[id & (POOL_BLOCK - 1)];
}

/* Forget a finished task for good (nicely_imap took its result): its
 * bytes go now, its record with the last of its block's 4096 (the block's
 * memory is given back; the ids are unknown from then on). */
void pool_task_forget_one(nicely_pool *p, int64_t id)
{
	size_t blk = (size_t)(id >> POOL_BLOCK_SHIFT);
	struct pool_task *t = pool_task_get(p, id);

	if (!t || t->inrec || t->res.status == NICELY_QUEUED ||
	    t->res.status == NICELY_RUNNING)
		return;
	pool_task_release(t);
	t->dropped = t->forgot = 1;
	if (++p->bgone[blk] < POOL_BLOCK)
		return;
	if (blk < POOL_SMALL_BLOCKS)
		free(p->blocks[blk]);
	else	/* a slab's part: its pages go back, zero if touched again */
		madvise(p->blocks[blk], POOL_BLOCK * sizeof(struct pool_task),
			MADV_DONTNEED);
	p->blocks[blk] = NULL;
}

/* Is id queued with its record not written yet? (Elements of a map_into
 * have their state bytes instead.) */
static int pool_task_unwritten(nicely_pool *p, int64_t id)
{
	return id >= p->inited && id < p->total &&
	       !(p->ninto && pool_into_of(p, id));
}

/* A zeroed block of records: the first ones from calloc (small pools stay
 * small), the rest carved from 2 MiB-aligned slabs the kernel may back
 * with transparent huge pages (one fault per 2 MiB instead of per 4 KiB:
 * measured 0.9 ms instead of 4.7 ms for 8 MiB here). */
static struct pool_task *pool_block_new(nicely_pool *p)
{
	size_t bsz = POOL_BLOCK * sizeof(struct pool_task);

	if (p->nblocks < POOL_SMALL_BLOCKS)
		return calloc(POOL_BLOCK, sizeof(struct pool_task));
	if (!p->nslabs || p->slab_used == POOL_SLAB_BLOCKS) {
		void **v = realloc(p->slabs, (p->nslabs + 1) * sizeof *v);
		char *m, *a;

		if (!v)
			return NULL;
		p->slabs = v;
		m = mmap(NULL, POOL_SLAB + POOL_SLAB_ALIGN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		a = (char *)(((uintptr_t)m + POOL_SLAB_ALIGN - 1) &
			     ~(uintptr_t)(POOL_SLAB_ALIGN - 1));
		if (a > m)
			munmap(m, (size_t)(a - m));
		if (a + POOL_SLAB < m + POOL_SLAB + POOL_SLAB_ALIGN)
			munmap(a + POOL_SLAB,
			       (size_t)(m + POOL_SLAB + POOL_SLAB_ALIGN -
					(a + POOL_SLAB)));
		madvise(a, POOL_SLAB, MADV_HUGEPAGE);
		p->slabs[p->nslabs++] = a;
		p->slab_used = 0;
	}
	return (struct pool_task *)((char *)p->slabs[p->nslabs - 1] +
				    bsz * p->slab_used++);
}

/* Make records for ids up to total+n. */
int pool_task_grow(nicely_pool *p, size_t n)
{
	size_t need = ((size_t)p->total + n + POOL_BLOCK - 1) >> POOL_BLOCK_SHIFT;

	if (need <= p->nblocks)
		return 0;
	struct pool_task **b = realloc(p->blocks, need * sizeof *b);
	uint16_t *g;

	if (!b)
		return NICELY_ENOMEM;
	p->blocks = b;
	if (!(g = realloc(p->bgone, need * sizeof *g)))
		return NICELY_ENOMEM;
	memset(g + p->nblocks, 0, (need - p->nblocks) * sizeof *g);
	p->bgone = g;
	while (p->nblocks < need) {
		b[p->nblocks] = pool_block_new(p);
		if (!b[p->nblocks])
			return NICELY_ENOMEM;
		p->nblocks++;
	}
	return 0;
}

/* Set a finished task's error text (copied). */
void pool_task_error(struct pool_task *t, const char *msg, size_t len)
{
	char *e;

	if (t->errheap)
		free((char *)t->res.error);
	t->errheap = 0;
	t->res.error = "";
	if (!len || !(e = malloc(len + 1)))
		return;
	memcpy(e, msg, len);
	e[len] = 0;
	t->res.error = e;
	t->errheap = 1;
}

/* Record that a task is finished and tell the caller. */
void pool_task_finish(nicely_pool *p, struct pool_task *t,
		      nicely_status st, int code, const char *err)
{
	nicely_status was = t->res.status;

	t->res.status = st;
	t->res.code = code;
	if (err)
		pool_task_error(t, err, strlen(err));
	if (was == NICELY_RUNNING)
		p->running--;
	else if (was == NICELY_QUEUED)
		p->queued--;
	p->completed++;
	if (st != NICELY_OK)
		p->failed++;
	pool_batch_unref(t->batch);
	t->batch = NULL;
	if (t->inrec)
		pool_into_mark(p, t);
	if (t->res.wall > 0)
		pool_insight_task(p, t->res.id, t->res.wall);
	if (p->o.on_finish) {
		p->in_cb++;
		p->o.on_finish(t->res.id, p->completed, p->running, p->total,
			       p->o.cb_user);
		p->in_cb--;
	}
	if (p->o.stop_on_failure && !p->stopping &&
	    (st == NICELY_FAILED || st == NICELY_SIGNALED ||
	     st == NICELY_TIMEOUT))
		pool_task_stop(p, t->res.id, st);
}

/* stop_on_failure: task id ended with st; cancel what is queued and
 * kill the workers running the rest (their tasks: KILLED, the unbegun
 * ones CANCELLED). Does not wait: the workers are reaped in later
 * turns. */
void pool_task_stop(nicely_pool *p, int64_t id, nicely_status st)
{
	int64_t running = p->running, queued = p->queued;

	p->stopping = 1;
	p->stop_below = p->total;
	snprintf(p->stop_kill, sizeof p->stop_kill, "killed: task %lld %s and "
		 "stop_on_failure is set", (long long)id,
		 nicely_status_name(st));
	snprintf(p->stop_cancel, sizeof p->stop_cancel, "cancelled: task %lld "
		 "%s and stop_on_failure is set", (long long)id,
		 nicely_status_name(st));
	if (running || queued)
		pool_log(p, NICELY_LOG_WARNING, id, 0, "task %lld %s: "
			 "stop_on_failure cancels %lld queued tasks and kills "
			 "the workers of %lld running", (long long)id,
			 nicely_status_name(st), (long long)queued,
			 (long long)running);
	pool_queue_fail(p, NICELY_CANCELLED, p->stop_cancel);
	for (int i = 0; i < p->nw; i++) {
		struct pool_worker *w = &p->w[i];

		if (w->st == PW_FREE || !w->inflight)
			continue;
		if (w->st != PW_DYING)
			w->stop_kill = 1;
		pool_worker_kill(p, w, NICELY_KILLED, -1);
	}
	p->stopping = 0;
}

/* Free a task's bytes and error text. */
void pool_task_release(struct pool_task *t)
{
	if (pool_task_heap(t))
		free((void *)t->res.data);
	t->res.data = NULL;
	t->res.len = 0;
	if (t->errheap)
		free((char *)t->res.error);
	t->errheap = 0;
	t->res.error = "";
}

/* Append return bytes to a task. */
int pool_task_data(struct pool_task *t, const char *d, size_t n)
{
	size_t len = t->res.len;

	if (!n)
		return 0;
	int heap = pool_task_heap(t);
	char *b;

	if (!heap && len + n <= POOL_INLINE) {
		memcpy(t->inl.c + len, d, n);
		t->res.data = t->inl.c;
		t->res.len = len + n;
		return 0;
	}
	/* streamed pieces are 256 KiB: realloc (mremap for big blocks)
	 * keeps appending cheap without a capacity field */
	b = realloc(heap ? (void *)t->res.data : NULL, len + n);
	if (!b)
		return NICELY_ENOMEM;
	if (!heap && len)
		memcpy(b, t->inl.c, len);
	memcpy(b + len, d, n);
	t->res.data = b;
	t->res.len = len + n;
	return 0;
}

/* A finished task's result. */
const nicely_result *nicely_result_get(nicely_pool *p, int64_t id)
{
	struct pool_task *t;

	if (!p || pool_task_unwritten(p, id))
		return NULL;
	t = pool_task_get(p, id);
	if (!t && p->ninto)
		t = pool_into_result(p, id);
	if (!t || t->dropped || t->res.status == NICELY_QUEUED ||
	    t->res.status == NICELY_RUNNING)
		return NULL;
	return &t->res;
}

/* A task's status. */
int nicely_task_status(nicely_pool *p, int64_t id)
{
	struct pool_into *in;
	struct pool_task *t;

	if (p && pool_task_unwritten(p, id))
		return NICELY_QUEUED;
	t = p ? pool_task_get(p, id) : NULL;
	if (!t && p && (in = pool_into_of(p, id)))
		return in->st[id - in->first] & ~POOL_INTO_DROPPED;
	return t ? (int)t->res.status : NICELY_ENOENT;
}

/* Free a finished task's bytes. */
int nicely_result_drop(nicely_pool *p, int64_t id)
{
	struct pool_into *in;
	struct pool_task *t;

	if (p && pool_task_unwritten(p, id))
		return NICELY_EBUSY;
	t = p ? pool_task_get(p, id) : NULL;
	if (!t && p && (in = pool_into_of(p, id))) {
		/* no record: a clean success (its bytes are the caller's)
		 * or a cancelled element */
		uint8_t *s = &in->st[id - in->first];

		if (*s == NICELY_QUEUED || *s == NICELY_RUNNING)
			return NICELY_EBUSY;
		*s |= POOL_INTO_DROPPED;
		return 0;
	}
	if (!t)
		return NICELY_ENOENT;
	if (t->res.status == NICELY_QUEUED || t->res.status == NICELY_RUNNING)
		return NICELY_EBUSY;
	pool_task_release(t);
	t->dropped = 1;
	return 0;
}

/* Forget all tasks and their memory. */
void pool_task_forget(nicely_pool *p)
{
	for (int64_t id = 0; id < p->inited; id++) {
		struct pool_into *in = p->ninto ? pool_into_of(p, id) : NULL;

		if (in) {	/* see pool_into_forget */
			id = in->first + in->n - 1;
			continue;
		}
		if (!p->blocks[id >> POOL_BLOCK_SHIFT]) {	/* forgotten */
			id |= POOL_BLOCK - 1;
			continue;
		}
		struct pool_task *t = pool_task_get(p, id);

		if (!t)		/* forgotten: nothing held */
			continue;
		pool_task_release(t);
		pool_batch_unref(t->batch);
	}
	for (size_t i = 0; i < p->ninto; i++)
		pool_into_forget(p, p->into[i]);
	/* tasks never written hold their batch too, one reference each */
	for (size_t i = p->bscur; i < p->nbs && p->inited < p->total; i++) {
		int64_t from = p->bs[i].first > p->inited ? p->bs[i].first
							  : p->inited;
		int64_t to = i + 1 < p->nbs ? p->bs[i + 1].first : p->total;
		struct pool_batch *b = p->bs[i].b;

		if (to <= from)
			continue;
		b->refs -= (size_t)(to - from - 1);
		pool_batch_unref(b);
	}
	free(p->bs);
	p->bs = NULL;
	p->nbs = p->bscap = p->bscur = 0;
	/* the batches are gone: now their map_into calls may go */
	for (size_t i = 0; i < p->ninto; i++)
		pool_into_free(p->into[i]);
	free(p->into);
	p->into = NULL;
	p->ninto = p->intocap = p->into_last = 0;
	p->inited = 0;
	for (size_t i = 0; i < p->nblocks && i < POOL_SMALL_BLOCKS; i++)
		free(p->blocks[i]);
	for (size_t i = 0; i < p->nslabs; i++)
		munmap(p->slabs[i], POOL_SLAB);
	free(p->slabs);
	p->slabs = NULL;
	p->nslabs = p->slab_used = 0;
	free(p->blocks);
	p->blocks = NULL;
	free(p->bgone);
	p->bgone = NULL;
	p->nblocks = 0;
	free(p->q.r);
	memset(&p->q, 0, sizeof p->q);
	p->total = p->completed = p->running = p->queued = p->failed = 0;
	p->started = 0;
	p->avg_ns = 0;
	p->stop_below = 0;
	p->bar_done0 = p->bar_failed0 = 0;
}
