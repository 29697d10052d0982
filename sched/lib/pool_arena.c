/* sched/lib/pool_arena: the map arena, a MAP_SHARED area made before the
 * fork server so that every worker has it at the same address. Map
 * arguments are copied into it and map_into results written there, so
 * neither crosses a pipe; regions are given back when no worker holds
 * their ids. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nicely.h"
#include "sched/lib/pool.h"
#include "sched/lib/pool_arena.h"
#include "sched/lib/pool_state.h"

#define POOL_ARENA_MB 256	/* default size of the shared map arena */
#define POOL_ARENA_MAX_MB 65536
#define POOL_ARENA_KEEP (16u << 20)	/* arena bytes kept when it empties */
#define POOL_ARENA_ALIGN 64

/* Does a worker not reaped yet hold any of ids [first, first + n)? */
static int pool_ids_held(const nicely_pool *p, int64_t first, int64_t n)
{
	for (int i = 0; i < p->nw; i++) {
		const struct pool_worker *w = &p->w[i];

		for (int k = 0; w->st != PW_FREE && k < w->fl_n; k++) {
			const struct pool_range *r =
				&w->fl[(w->fl_head + k) % POOL_FLIGHT];

			if (r->first < first + n && first < r->first + r->count)
				return 1;
		}
	}
	return 0;
}

/* Take len bytes of the arena for the batch of ids [first, first + n):
 * their offset (first fit), or (size_t)-1 when no gap is big enough. */
static size_t pool_arena_take(nicely_pool *p, size_t len, int64_t first,
			      int64_t n)
{
	size_t at = 0, i;

	if (!p->arena || !len || len > p->arena_len)
		return (size_t)-1;
	len = (len + POOL_ARENA_ALIGN - 1) & ~(size_t)(POOL_ARENA_ALIGN - 1);
	if (p->nareg == p->aregcap) {
		size_t cap = p->aregcap ? 2 * p->aregcap : 8;
		struct pool_areg *v = realloc(p->areg, cap * sizeof *v);

		if (!v)
			return (size_t)-1;
		p->areg = v;
		p->aregcap = cap;
	}
	for (i = 0; i < p->nareg; i++) {
		if (p->areg[i].off - at >= len)
			break;
		at = p->areg[i].off + p->areg[i].len;
	}
	if (i == p->nareg && p->arena_len - at < len)
		return (size_t)-1;
	memmove(&p->areg[i + 1], &p->areg[i], (p->nareg - i) * sizeof *p->areg);
	p->areg[i] = (struct pool_areg){ at, len, first, n, 0 };
	p->nareg++;
	return at;
}

/* Drop region i; once the arena is empty, what lies beyond
 * POOL_ARENA_KEEP goes back to the system (a big map does not keep its
 * memory for the pool's life). */
static void pool_arena_drop(nicely_pool *p, size_t i)
{
	memmove(&p->areg[i], &p->areg[i + 1],
		(p->nareg - i - 1) * sizeof *p->areg);
	p->nareg--;
	if (!p->nareg && p->arena_resident > POOL_ARENA_KEEP) {
		madvise(p->arena + POOL_ARENA_KEEP,
			p->arena_resident - POOL_ARENA_KEEP, MADV_REMOVE);
		p->arena_resident = POOL_ARENA_KEEP;
	}
}

/* Give back the region at off, now or (a holder not reaped yet) later. */
void pool_arena_give(nicely_pool *p, size_t off)
{
	for (size_t i = 0; i < p->nareg; i++) {
		struct pool_areg *a = &p->areg[i];

		if (a->off != off)
			continue;
		if (pool_ids_held(p, a->first, a->n))
			a->stale = 1;
		else
			pool_arena_drop(p, i);
		return;
	}
}

/* Drop the stale regions nobody holds any more. */
void pool_arena_sweep(nicely_pool *p)
{
	for (size_t i = p->nareg; i-- > 0;)
		if (p->areg[i].stale &&
		    !pool_ids_held(p, p->areg[i].first, p->areg[i].n))
			pool_arena_drop(p, i);
}

/* Put a map's n arguments of elem_size bytes, and with res > 0 room for
 * its in-place results of res bytes each, in the arena: 0, or -1 when the
 * map is too small to gain from it or there is no room (the batch then
 * takes memory of its own and its arguments cross the pipe). */
int pool_arena_batch(nicely_pool *p, struct pool_batch *b,
		     size_t elem_size, size_t n, size_t res)
{
	size_t args = elem_size * n, off, end;

	if (!p->arena || n < 2 || (!elem_size && !res) ||
	    args > p->arena_len)
		return -1;
	args = (args + POOL_ARENA_ALIGN - 1) & ~(size_t)(POOL_ARENA_ALIGN - 1);
	if (args > p->arena_len || (res && n > (p->arena_len - args) / res))
		return -1;
	off = pool_arena_take(p, args + res * n, p->total, (int64_t)n);
	if (off == (size_t)-1) {	/* stale regions may be free by now */
		pool_arena_sweep(p);
		off = pool_arena_take(p, args + res * n, p->total, (int64_t)n);
	}
	if (off == (size_t)-1)
		return -1;
	b->pool = p;
	b->data = p->arena + off;
	b->arena_len = args + res * n;
	b->res_off = off + args;
	b->res_size = res;
	end = off + b->arena_len;
	/* fresh pages are touched here, so that the caller's memory is
	 * charged for them rather than the group of the first worker to
	 * write a result (the arguments are written right after this) */
	if (end > p->arena_resident) {
		size_t from = (off > p->arena_resident ? off : p->arena_resident) &
			      ~(size_t)4095;

		if (madvise(p->arena + from, end - from, MADV_POPULATE_WRITE) &&
		    res)
			memset(p->arena + b->res_off, 0, end - b->res_off);
	}
	if (end > p->arena_resident)
		p->arena_resident = end;
	return 0;
}

/* Make the map arena: NICELY_MAP_ARENA_MB MiB (default POOL_ARENA_MB; 0:
 * none). Address space only until used (MAP_NORESERVE); without room for
 * it the pool works without one. 0, or NICELY_ECONFIG for a bad value. */
int pool_arena_open(nicely_pool *p)
{
	const char *env = getenv("NICELY_MAP_ARENA_MB");
	unsigned long mb = POOL_ARENA_MB;
	void *m;

	if (env && *env) {
		char *end;

		errno = 0;
		mb = strtoul(env, &end, 10);
		if (errno || *end || *env == '-' || mb > POOL_ARENA_MAX_MB) {
			pool_log(p, NICELY_LOG_ERROR, -1, 0,
				 "NICELY_MAP_ARENA_MB: '%s' is not a size in "
				 "MiB from 0 to %u",
				 env, POOL_ARENA_MAX_MB);
			return NICELY_ECONFIG;
		}
	}
	if (!mb)
		return 0;
	m = mmap(NULL, (size_t)mb << 20, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		pool_log(p, NICELY_LOG_WARNING, -1, 0,
			 "no room for a %lu MiB map arena (%s): map arguments "
			 "and results go through pipes",
			 mb, strerror(errno));
		return 0;
	}
	p->arena = m;
	p->arena_len = (size_t)mb << 20;
	return 0;
}
