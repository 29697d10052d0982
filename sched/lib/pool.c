/* sched/pool: libnicely's public API (include/nicely.h). Owns the task
 * table (results in call order), the queue, the workers' channels and the
 * epoll set; talks to the fork server (forkserver.c) and the gate
 * (pool_gate.c), and keeps the pool's cgroups (sched/cgroup.c: one batch
 * group, one group per worker). Everything runs in the pool's owner
 * thread, inside the nicely_* calls; nothing here prints, exits or waits
 * for foreign PIDs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nicely.h"
#include "sched/cgroup.h"
#include "sched/lib/forkserver.h"
#include "sched/lib/pool_gate.h"
#include "sched/lib/wire.h"
#include "sched/lib/worker.h"

#define POOL_BLOCK_SHIFT 12
#define POOL_BLOCK (1 << POOL_BLOCK_SHIFT)
#define POOL_FLIGHT 64		/* messages in flight per worker */
#define POOL_CHUNK_NS 2000000.0	/* aim: one chunk = 2 ms of work */
#define POOL_PREFETCH_NS 1000000.0	/* queue 1 ms of work per worker */
#define POOL_MSG_BYTES (64u << 20)	/* argument bytes per message */
#define POOL_INLINE 8	/* return bytes kept in the task record */
#define POOL_ARENA_MB 256	/* default size of the shared map arena */
#define POOL_ARENA_MAX_MB 65536
#define POOL_ARENA_KEEP (16u << 20)	/* arena bytes kept when it empties */
#define POOL_ARENA_ALIGN 64
#define POOL_INPLACE_MAX (64u << 10)	/* largest in-place result */
#define POOL_EXIT_GRACE_MS 2000	/* options.exit_grace_ms 0 */

enum { EV_CTL = 1, EV_RES, EV_TASK, EV_ERR, EV_TIMER };

/* Arguments of one nicely_run (n = 1) or one nicely_map, copied. */
struct pool_batch {
	nicely_task_fn fn;
	int64_t first_id;
	size_t n, elem_size, chunk;	/* chunk 0: automatic */
	size_t refs;		/* tasks not finished */
	double avg_ns;		/* measured time per task, 0: unknown */
	char *data;
	size_t mapped;		/* data is an mmap of this size, 0: malloc */
	struct pool_into *into;	/* a nicely_map_into call, or NULL */
	/* In the pool's arena (arena_len > 0): data is there, and with
	 * res_size > 0 so are in-place results, res_size bytes per element
	 * from arena offset res_off. */
	nicely_pool *pool;
	size_t arena_len, res_off, res_size;
};

/* A nicely_map_into call. Its elements have no task record: their state
 * is one byte each (st), clean successes are written to out, and only
 * the others get a record (rec[i], allocated when first needed). */
struct pool_into {
	int64_t first, n;
	char *out;
	size_t out_size;
	uint8_t *status;	/* the caller's, or NULL */
	uint8_t *st;		/* nicely_status, | POOL_INTO_DROPPED */
	struct pool_task **rec;	/* NULL, or n pointers */
	struct pool_batch *batch;	/* NULL once freed */
};
#define POOL_INTO_DROPPED 0x80u

/* One task: 88 bytes, since 10^5-task maps pay for every byte in page
 * faults. res.data points at inl (small returns, aligned for any scalar
 * of up to 8 bytes) or at a malloc'ed copy. */
struct pool_task {
	nicely_result res;	/* status QUEUED / RUNNING until finished */
	struct pool_batch *batch;	/* NULL once finished */
	int16_t worker;
	uint8_t errheap, dropped;
	uint8_t inrec;		/* a record of a nicely_map_into element */
	union {
		char c[POOL_INLINE];
		int64_t i;
		double d;
		void *p;
	} inl;
};

/* Are a task's return bytes on the heap? */
static int pool_task_heap(const struct pool_task *t)
{
	return t->res.data && t->res.data != (const void *)t->inl.c;
}

struct pool_range {
	int64_t first, count;
};

/* Where a batch's ids begin, for records not written yet. */
struct pool_bstart {
	int64_t first;
	struct pool_batch *b;
};

/* The life of a worker slot. Every transition:
 *   FREE    --pool_spawn-------------------------------------> LIVE
 *   LIVE    --lifespan's last task sent (pool_feed), or idle at
 *             pool_free/reset (pool_retire_all)----------------> CLOSING
 *   LIVE, CLOSING --timeout, kill_all, gate STOP, broken result
 *             channel (pool_kill_worker: KILL to the fork server)-> DYING
 *   any but FREE --exit reported by the fork server and EOF on the
 *             result channel (pool_reap -> pool_worker_done)----> FREE
 * pool_worker_done settles what the worker held: finished, requeued, or
 * given the status its end explains (SIGNALED, FAILED, TIMEOUT, KILLED). */
enum pool_wstate {
	PW_FREE,	/* unused */
	PW_LIVE,	/* spawned; takes tasks */
	PW_CLOSING,	/* takes no more tasks (lifespan, retired) */
	PW_DYING,	/* killed; waiting for its exit and EOF */
};

struct pool_worker {
	enum pool_wstate st;
	pid_t pid;
	int task_fd, res_fd, err_fd;
	struct wire_buf out, in, err;
	struct pool_range fl[POOL_FLIGHT];	/* messages in flight */
	int fl_head, fl_n;
	int64_t inflight;	/* tasks sent, not finished */
	uint64_t sent;		/* tasks sent in its life */
	int cpu, paused;
	int exited, eof, wstatus;
	int pollout, close_after_flush, kill_sent;
	int kill_reason;	/* 0, NICELY_TIMEOUT, NICELY_KILLED, or
				 * NICELY_QUEUED (stopped by the gate) */
	int64_t kill_task;
	char *initfail;		/* worker_init's failure, if any */
	struct sched_cgroup_task *cg;	/* its cgroup, NULL without */
	int frozen;		/* paused by freezing cg (not SIGSTOP) */
};

struct pool_deque {
	struct pool_range *r;
	size_t cap, head, n;
};

/* A region of the arena in use, by the batch of ids [first, first + n).
 * stale: its batch is freed, but a worker that held some of those ids is
 * not reaped yet, so the region waits (a dying worker must not write into
 * memory a later map uses). */
struct pool_areg {
	size_t off, len;
	int64_t first, n;
	int stale;
};

struct nicely_pool {
	nicely_options o;
	char *preset, *config_file;
	struct pool_gate *gate;
	struct worker_cfg wcfg;
	struct worker_slot *slots;
	size_t slots_len;
	pid_t fs_pid;
	int ctl, ep, tfd;
	int broken;		/* the fork server is gone */
	int in_cb;
	int cap, nw;		/* most workers at once; slots */
	struct pool_worker *w;
	int rr;			/* round-robin start for feeding */
	/* tasks */
	struct pool_task **blocks;
	size_t nblocks;
	void **slabs;		/* hugepage-backed areas later blocks come from */
	size_t nslabs, slab_used;	/* blocks taken from the last slab */
	/* Records are written lazily: ids from `inited` to total are queued
	 * and their records untouched (still zero) until first looked at,
	 * normally when they are sent to a worker; bs[bscur..nbs) says which
	 * batch they belong to. A queued task costs no memory of its own. */
	int64_t inited;
	struct pool_bstart *bs;
	size_t nbs, bscap, bscur;
	/* nicely_map_into calls in id order, until nicely_reset */
	struct pool_into **into;
	size_t ninto, intocap, into_last;
	int64_t total, completed, running, queued, failed, started;
	struct pool_deque q;
	double avg_ns;		/* measured time per task, any function */
	/* gate */
	int allowed;		/* workers allowed as of the last tick */
	int ans_nice;
	int *ans_cpus;
	int ans_ncpus, ans_used;
	uint64_t next_tick_ns, backoff_ns;
	const char *last_reason;	/* the gate's last "why not", logged once */
	uint64_t tfd_armed;	/* deadline the timerfd is set to (0: none) */
	/* cgroups */
	struct sched_cgroup *cg;	/* the batch group, NULL without */
	uint64_t cg_seq;		/* last worker group number */
	int64_t cg_cpu_ns, cg_mem_peak;	/* of exited workers' groups */
	enum policy_weight cg_weight;	/* the batch group's class */
	/* each slot's worker group, kept (emptied) between its workers and
	 * reused by the next one; removed at free, reset or a class change */
	struct sched_cgroup_task **cg_slot;
	/* the map arena: a MAP_SHARED area made before the fork server, so
	 * every worker has it at the same address. Map arguments are copied
	 * into it and read there by workers, and map_into results are
	 * written there by them, so neither crosses a pipe. Regions sorted
	 * by offset; resident: bytes from the start the caller has touched
	 * (charged to the caller's memory, not to a worker's group). */
	char *arena;
	size_t arena_len, arena_resident;
	struct pool_areg *areg;
	size_t nareg, aregcap;
};

/* Messages for the error codes: ours, else the errno's (strerrordesc_np
 * is strerror's untranslated text, and NULL for what is no errno). */
const char *nicely_strerror(int err)
{
	const char *s;

	switch (err) {
	case 0:
		return "success";
#define NICELY_STRERROR_(name, val, msg)                                       \
	case val:                                                              \
		return msg;
		NICELY_ERRNO_MAP(NICELY_STRERROR_)
#undef NICELY_STRERROR_
	}
	if (err < 0 && err != INT_MIN && (s = strerrordesc_np(-err)))
		return s;
	return "unknown error";
}

/* The library version. */
const char *nicely_version(void)
{
	return NICELY_VERSION;
}

/* Name of a status. */
const char *nicely_status_name(nicely_status st)
{
	static const char *const names[] = { "ok",	 "failed", "signaled",
					     "timeout",	 "killed", "cancelled",
					     "queued",	 "running" };

	return (unsigned)st < sizeof names / sizeof names[0] ? names[st]
							     : "unknown";
}

/* Defaults: every field's 0. */
void nicely_options_init(nicely_options *o)
{
	if (o)
		memset(o, 0, sizeof *o);
}

/* Hand a line to the log callback (the library's own lines: pid 0). */
__attribute__((format(printf, 5, 6))) static void
pool_log(nicely_pool *p, int level, int64_t id, pid_t pid, const char *fmt,
	 ...)
{
	char msg[512];
	va_list ap;

	if (!p->o.on_log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	p->in_cb++;
	p->o.on_log(level, id, pid, msg, p->o.log_user);
	p->in_cb--;
}

/* Write the records of ids up to `upto` (queued tasks of their batch). */
static void pool_task_init(nicely_pool *p, int64_t upto)
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

/* The nicely_map_into call holding id, or NULL. */
static struct pool_into *pool_into_of(nicely_pool *p, int64_t id)
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

/* Task record of an id (written now if it was not yet), or NULL. For an
 * element of a nicely_map_into: its record if it has one, else NULL. */
static struct pool_task *pool_task_get(nicely_pool *p, int64_t id)
{
	struct pool_into *in;

	if (id < 0 || id >= p->total)
		return NULL;
	if (id >= p->inited)
		pool_task_init(p, id);
	if (p->ninto && (in = pool_into_of(p, id)))
		return in->rec ? in->rec[id - in->first] : NULL;
	return &p->blocks[id >> POOL_BLOCK_SHIFT][id & (POOL_BLOCK - 1)];
}

/* Give map_into element i a record (its state as it is now), or NULL
 * when out of memory. */
static struct pool_task *pool_into_rec(struct pool_into *in, int64_t i,
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
static void pool_into_set(struct pool_into *in, int64_t i, int64_t k, int st)
{
	memset(in->st + i, st, (size_t)k);
	if (in->status)
		memset(in->status + i, st, (size_t)k);
}

/* The batch of a queued or running task. */
static struct pool_batch *pool_batch_at(nicely_pool *p, int64_t id)
{
	struct pool_into *in = p->ninto ? pool_into_of(p, id) : NULL;
	struct pool_task *t;

	if (in)
		return in->batch;
	t = pool_task_get(p, id);
	return t ? t->batch : NULL;
}

/* Is id queued with its record not written yet? (Elements of a map_into
 * have their state bytes instead.) */
static int pool_task_unwritten(nicely_pool *p, int64_t id)
{
	return id >= p->inited && id < p->total &&
	       !(p->ninto && pool_into_of(p, id));
}

#define POOL_SLAB (8u << 20)
#define POOL_SLAB_ALIGN (2u << 20)
#define POOL_SLAB_BLOCKS (POOL_SLAB / (POOL_BLOCK * sizeof(struct pool_task)))
#define POOL_SMALL_BLOCKS 1	/* blocks from calloc before slabs */

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
static int pool_tasks_grow(nicely_pool *p, size_t n)
{
	size_t need = ((size_t)p->total + n + POOL_BLOCK - 1) >> POOL_BLOCK_SHIFT;

	if (need <= p->nblocks)
		return 0;
	struct pool_task **b = realloc(p->blocks, need * sizeof *b);

	if (!b)
		return NICELY_ENOMEM;
	p->blocks = b;
	while (p->nblocks < need) {
		b[p->nblocks] = pool_block_new(p);
		if (!b[p->nblocks])
			return NICELY_ENOMEM;
		p->nblocks++;
	}
	return 0;
}

/* Add a range at the back (merging) or front of the queue. */
static int pool_q_push(struct pool_deque *q, int64_t first, int64_t count,
		       int front)
{
	if (!front && q->n) {
		struct pool_range *b = &q->r[(q->head + q->n - 1) % q->cap];

		if (b->first + b->count == first) {
			b->count += count;
			return 0;
		}
	}
	if (q->n == q->cap) {
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
	}
	if (front) {
		q->head = (q->head + q->cap - 1) % q->cap;
		q->r[q->head] = (struct pool_range){ first, count };
	} else {
		q->r[(q->head + q->n) % q->cap] = (struct pool_range){ first, count };
	}
	q->n++;
	return 0;
}

#define POOL_POPULATE_MIN (256u << 10)

/* Room for a batch's argument bytes. Large ones are mapped with
 * MAP_POPULATE: the kernel fills the pages in one call (measured 0.4 us
 * a page here against 2.5 us for a fault per page on first touch). */
static int pool_batch_data(struct pool_batch *b, size_t len)
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
static void pool_arena_give(nicely_pool *p, size_t off)
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
static void pool_arena_sweep(nicely_pool *p)
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
static int pool_batch_arena(nicely_pool *p, struct pool_batch *b,
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

/* Free a batch and its argument bytes. */
static void pool_batch_free(struct pool_batch *b)
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
static void pool_batch_unref(struct pool_batch *b)
{
	if (b && --b->refs == 0)
		pool_batch_free(b);
}

/* Set a finished task's error text (copied). */
static void pool_task_error(struct pool_task *t, const char *msg, size_t len)
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

/* Copy a map_into element's record status to its state bytes. */
static void pool_into_mark(nicely_pool *p, const struct pool_task *t)
{
	struct pool_into *in = pool_into_of(p, t->res.id);

	if (in)
		pool_into_set(in, t->res.id - in->first, 1, (int)t->res.status);
}

/* Record that a task is finished and tell the caller. */
static void pool_finish(nicely_pool *p, struct pool_task *t,
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
	if (p->o.on_finish) {
		p->in_cb++;
		p->o.on_finish(t->res.id, p->completed, p->running, p->total,
			       p->o.cb_user);
		p->in_cb--;
	}
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
static void pool_into_ok(nicely_pool *p, struct pool_into *in, int64_t i,
			 int64_t k)
{
	pool_into_set(in, i, k, NICELY_OK);
	p->running -= k;
	pool_into_unref(in, k);
	pool_into_cb(p, in, i, k);
}

/* Free a task's bytes and error text. */
static void pool_task_release(struct pool_task *t)
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
static int pool_task_data(struct pool_task *t, const char *d, size_t n)
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

/* Register or change a fd in the epoll set. */
static int pool_ep(nicely_pool *p, int op, int fd, uint32_t events, int kind,
		   int slot)
{
	struct epoll_event ev = { 0 };

	ev.events = events;
	ev.data.u64 = (uint64_t)kind << 32 | (uint32_t)slot;
	return epoll_ctl(p->ep, op, fd, op == EPOLL_CTL_DEL ? NULL : &ev) ? -errno
									  : 0;
}

/* Close a fd if open. */
static void pool_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Ask the fork server to kill a worker's process group. */
static void pool_kill_worker(nicely_pool *p, struct pool_worker *w,
			     int reason, int64_t task)
{
	if (w->st == PW_FREE)
		return;
	if (!w->kill_reason) {
		w->kill_reason = reason;
		w->kill_task = task;
	}
	w->st = PW_DYING;
	if (w->pid > 0 && !w->kill_sent && !w->exited) {
		struct forkserver_msg m = { FORKSERVER_KILL, (int)(w - p->w),
					    w->pid, 0, -1, 0, 0, 0, 0 };

		if (w->frozen)
			sched_cgroup_task_freeze(w->cg, 0, NULL, 0);
		w->frozen = 0;
		if (w->paused)
			kill(w->pid, SIGCONT);
		if (!forkserver_send(p->ctl, &m, NULL, 0))
			w->kill_sent = 1;
		/* the whole group: what the task left outside its process
		 * group (setsid, double forks) dies with the worker */
		if (w->cg) {
			char err[512];

			if (sched_cgroup_task_kill(w->cg, err, sizeof err) < 0)
				pool_log(p, NICELY_LOG_WARNING, -1, w->pid,
					 "%s", err);
		}
	}
}

/* Remove slot's kept worker group, if any. */
static void pool_cg_slot_drop(nicely_pool *p, int slot)
{
	char err[512];

	if (!p->cg_slot || !p->cg_slot[slot])
		return;
	if (p->w[slot].cg == p->cg_slot[slot])	/* a worker not reaped (the
						 * fork server is gone) */
		p->w[slot].cg = NULL;
	if (sched_cgroup_task_remove(p->cg_slot[slot], err, sizeof err) < 0)
		pool_log(p, NICELY_LOG_ERROR, -1, 0, "%s", err);
	free(p->cg_slot[slot]);
	p->cg_slot[slot] = NULL;
}

/* Remove every slot's kept worker group (their workers are gone). */
static void pool_cg_slots_drop(nicely_pool *p)
{
	for (int i = 0; p->cg_slot && i < p->nw; i++)
		pool_cg_slot_drop(p, i);
	free(p->cg_slot);
	p->cg_slot = NULL;
}

/* The cgroup of a new worker in slot, pinned to cpu (-1: the batch's
 * CPUs): the slot's group of its last worker, emptied then and readied
 * now, or a new one. NULL without cgroups, or when it cannot be made
 * (then *rc is set when cgroups are required, and the reason is logged). */
static struct sched_cgroup_task *pool_cg_worker(nicely_pool *p, int slot,
						 int cpu, int *rc)
{
	const struct policy_preset *pr = pool_gate_preset(p->gate);
	struct sched_cgroup_limits lim = { NULL, pr->memory_max };
	struct sched_cgroup_task *t;
	cpu_set_t set;
	char err[512];
	int e;

	*rc = 0;
	if (!p->cg) {
		if (p->o.cgroups == NICELY_CGROUPS_REQUIRED)
			*rc = NICELY_ECGROUP;
		return NULL;
	}
	if (cpu >= 0 && cpu < CPU_SETSIZE) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		lim.cpus = &set;
	}
	if (!p->cg_slot &&
	    !(p->cg_slot = calloc((size_t)p->nw, sizeof *p->cg_slot))) {
		*rc = NICELY_ENOMEM;
		return NULL;
	}
	if ((t = p->cg_slot[slot])) {
		e = sched_cgroup_task_reuse(t, &lim, err, sizeof err);
		if (e == 0)
			return t;
		if (e != -ESTALE)
			pool_log(p, NICELY_LOG_WARNING, -1, 0,
				 "cannot reuse a worker's cgroup (%s); making "
				 "a new one", err);
		pool_cg_slot_drop(p, slot);
	}
	if (!(t = calloc(1, sizeof *t))) {
		*rc = NICELY_ENOMEM;
		return NULL;
	}
	e = sched_cgroup_task_create(p->cg, ++p->cg_seq, &lim, t, err,
				     sizeof err);
	if (e == 0) {
		p->cg_slot[slot] = t;
		return t;
	}
	free(t);
	pool_log(p, NICELY_LOG_WARNING, -1, 0,
		 "cannot make a worker's cgroup: %s%s", err,
		 p->o.cgroups == NICELY_CGROUPS_REQUIRED
			 ? ""
			 : "; this worker runs without one");
	if (p->o.cgroups == NICELY_CGROUPS_REQUIRED)
		*rc = e == -ENOMEM ? NICELY_ENOMEM : NICELY_ECGROUP;
	return NULL;
}

/* A worker is gone: empty its group (kill what is left in it, checked
 * gone), then keep the group's figures (since it was readied for this
 * worker, strays included; the slot's next reuse takes these same values
 * as its zero without reading them again), keeping the group for the
 * slot's next worker; remove it when it will not empty. */
static void pool_cg_worker_done(nicely_pool *p, struct pool_worker *w)
{
	struct sched_cgroup_stats cs;
	char err[512];
	int killed;

	if (!w->cg)
		return;
	if (w->frozen)	/* the next worker must not join a frozen group */
		sched_cgroup_task_freeze(w->cg, 0, NULL, 0);
	killed = sched_cgroup_task_kill(w->cg, err, sizeof err);
	if (!sched_cgroup_task_stats(w->cg, &cs)) {
		if (cs.cpu_ns > 0)
			p->cg_cpu_ns += cs.cpu_ns;
		if (cs.mem_peak > p->cg_mem_peak)
			p->cg_mem_peak = cs.mem_peak;
	}
	if (killed < 0) {
		pool_log(p, NICELY_LOG_ERROR, -1, w->pid, "%s", err);
		for (int i = 0; p->cg_slot && i < p->nw; i++)
			if (p->cg_slot[i] == w->cg)
				pool_cg_slot_drop(p, i);
	}
	w->cg = NULL;
}

#define POOL_BUF_KEEP (1u << 20)

/* Clear a worker slot but keep its buffers, emptied, for the slot's next
 * worker (a lifespan-1 pool would otherwise grow and shrink its heap for
 * every task); a buffer a big return grew past POOL_BUF_KEEP is freed. */
static void pool_worker_clear(struct pool_worker *w)
{
	struct wire_buf b[3] = { w->out, w->in, w->err };

	memset(w, 0, sizeof *w);
	for (int i = 0; i < 3; i++) {
		b[i].len = b[i].off = 0;
		if (b[i].cap > POOL_BUF_KEEP)
			wire_buf_free(&b[i]);
	}
	w->out = b[0];
	w->in = b[1];
	w->err = b[2];
}

/* Start a worker in a free slot, pinned to cpu (-1: not pinned). */
static int pool_spawn(nicely_pool *p, int cpu)
{
	int slot = -1, tv[2] = { -1, -1 }, rp[2] = { -1, -1 },
	    ep[2] = { -1, -1 }, rc;
	struct pool_worker *w;
	struct sched_cgroup_task *cg = NULL;

	for (int i = 0; i < p->nw; i++)
		if (p->w[i].st == PW_FREE) {
			slot = i;
			break;
		}
	if (slot < 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tv) ||
	    pipe2(rp, O_CLOEXEC) ||
	    (p->o.capture_stderr && pipe2(ep, O_CLOEXEC))) {
		rc = errno == EMFILE || errno == ENFILE ? NICELY_EMFILE
							: NICELY_EIO;
		goto fail;
	}
	fcntl(tv[0], F_SETFL, O_NONBLOCK);
	fcntl(rp[0], F_SETFL, O_NONBLOCK);
	if (ep[0] >= 0)
		fcntl(ep[0], F_SETFL, O_NONBLOCK);
	if (p->o.lifespan != 1)	/* room for batches of results */
		fcntl(rp[0], F_SETPIPE_SZ, 1 << 20);
	p->slots[slot].running = WORKER_IDLE;
	p->slots[slot].start_ns = 0;
	cpu = p->o.no_pin ? -1 : cpu;
	cg = pool_cg_worker(p, slot, cpu, &rc);
	if (rc)
		goto fail;
	struct forkserver_msg m = { FORKSERVER_SPAWN, slot, 0, p->ans_nice,
				    cpu, ep[1] >= 0 ? 3 : 2, 0, 0, 0 };
	int fds[FORKSERVER_MAX_FDS] = { tv[1], rp[1], ep[1] };

	if (cg) {	/* the child joins these before it runs anything
			 * (an unpinned one stays in the fork server's v1
			 * cpuset until it is moved) */
		m.ncg = sched_cgroup_task_join_fds(cg, fds + m.nfds);
		m.nfds += m.ncg;
	}
	rc = forkserver_send(p->ctl, &m, fds, m.nfds);
	/* a slot whose workers come and go keeps its group's files open for
	 * the next one (nothing opened per worker), within a bound of about
	 * 32 slots x 9 files; others reopen them at reuse */
	if (cg && (p->o.lifespan == 0 || p->nw > 32))
		sched_cgroup_task_forked(cg);
	pool_close(&tv[1]);
	pool_close(&rp[1]);
	pool_close(&ep[1]);
	if (rc) {
		rc = NICELY_ECHILD;
		p->broken = 1;
		goto fail;
	}
	w = &p->w[slot];
	pool_worker_clear(w);
	w->st = PW_LIVE;
	w->task_fd = tv[0];
	w->res_fd = rp[0];
	w->err_fd = ep[0];
	w->cpu = m.cpu;
	w->eof = 0;
	w->cg = cg;
	pool_ep(p, EPOLL_CTL_ADD, w->res_fd, EPOLLIN, EV_RES, slot);
	if (w->err_fd >= 0)
		pool_ep(p, EPOLL_CTL_ADD, w->err_fd, EPOLLIN, EV_ERR, slot);
	p->started++;
	return 1;
fail:
	if (cg)
		pool_cg_slot_drop(p, slot);
	for (int i = 0; i < 2; i++) {
		pool_close(&tv[i]);
		pool_close(&rp[i]);
		pool_close(&ep[i]);
	}
	return rc;
}

/* Write a worker's pending task bytes; close its channel when asked. */
static void pool_send(nicely_pool *p, struct pool_worker *w, int slot)
{
	while (w->out.off < w->out.len && w->task_fd >= 0) {
		ssize_t n = send(w->task_fd, w->out.p + w->out.off,
				 w->out.len - w->out.off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!w->pollout)
				pool_ep(p, EPOLL_CTL_ADD, w->task_fd, EPOLLOUT,
					EV_TASK, slot);
			w->pollout = 1;
			return;
		}
		if (n < 0) {	/* the worker is gone: its exit will come */
			w->out.off = w->out.len;
			break;
		}
		w->out.off += (size_t)n;
	}
	w->out.off = w->out.len = 0;
	if (w->pollout) {
		pool_ep(p, EPOLL_CTL_DEL, w->task_fd, 0, EV_TASK, slot);
		w->pollout = 0;
	}
	if (w->close_after_flush)
		pool_close(&w->task_fd);
}

/* Tasks a worker may hold: enough for about 1 ms of work. */
static int64_t pool_prefetch(const nicely_pool *p)
{
	double n = POOL_PREFETCH_NS / p->avg_ns;

	return n < 2 ? 2 : n > 4096 ? 4096 : (int64_t)n;
}

/* May this worker take another message? An idle worker always may; a
 * busy one only while tasks are known to be short (under 1 ms), so long
 * tasks never wait behind each other while another worker is idle. */
static int pool_can_take(nicely_pool *p, const struct pool_worker *w)
{
	if (w->st != PW_LIVE || w->fl_n >= POOL_FLIGHT ||
	    (p->o.lifespan && w->sent >= p->o.lifespan))
		return 0;
	if (!w->fl_n)
		return 1;
	if (p->o.lifespan == 1 || p->avg_ns <= 0 ||
	    p->avg_ns >= POOL_PREFETCH_NS)
		return 0;
	/* an automatic map not timed yet probes with one task per worker
	 * (more one-task messages ahead would only cost their overhead) */
	if (p->q.n) {
		struct pool_range *r = &p->q.r[p->q.head];
		struct pool_batch *b = pool_batch_at(p, r->first);

		if (b && !b->chunk && b->avg_ns <= 0)
			return 0;
	}
	return w->fl_n < 2 || w->inflight < pool_prefetch(p);
}

/* Tasks to put in the next message from queue front range r. */
static int64_t pool_chunk(nicely_pool *p, const struct pool_worker *w,
			  const struct pool_range *r, struct pool_batch *b)
{
	int64_t k, in_batch = b->first_id + (int64_t)b->n - r->first;
	int active = p->allowed > 0 ? p->allowed : 1;

	if (b->chunk) {
		k = (int64_t)b->chunk;
	} else if (b->avg_ns <= 0) {
		k = 1;
	} else {
		k = (int64_t)(POOL_CHUNK_NS / b->avg_ns);
		int64_t fair = (p->queued + 2 * active - 1) / (2 * active);

		if (k > fair)
			k = fair;
	}
	if (k > r->count)
		k = r->count;
	if (k > in_batch)
		k = in_batch;
	if (p->o.lifespan && k > (int64_t)(p->o.lifespan - w->sent))
		k = (int64_t)(p->o.lifespan - w->sent);
	if (b->elem_size && k > (int64_t)(POOL_MSG_BYTES / b->elem_size))
		k = (int64_t)(POOL_MSG_BYTES / b->elem_size);
	if (k > UINT32_MAX)
		k = UINT32_MAX;
	return k < 1 ? 1 : k;
}

/* Give a worker up to maxmsg messages while it has room. */
static void pool_feed(nicely_pool *p, int slot, int maxmsg)
{
	struct pool_worker *w = &p->w[slot];

	while (p->q.n && maxmsg-- > 0 && pool_can_take(p, w)) {
		struct pool_range *r = &p->q.r[p->q.head];
		struct pool_batch *b = pool_batch_at(p, r->first);
		int64_t k = pool_chunk(p, w, r, b);
		struct wire_task wt = { 0 };
		size_t at = (size_t)(r->first - b->first_id);
		size_t bytes = b->arena_len ? 0 : (size_t)k * b->elem_size;
		size_t frame = WIRE_TASK_DATA + bytes;
		size_t pad = (WIRE_ALIGN - frame % WIRE_ALIGN) % WIRE_ALIGN;
		static const char zero[WIRE_ALIGN];

		wt.fn = (uint64_t)(uintptr_t)b->fn;
		wt.first_id = r->first;
		wt.count = (uint32_t)k;
		wt.elem_size = b->elem_size;
		if (b->arena_len) {	/* the arguments are in the arena */
			wt.flags = WIRE_TASK_ARENA;
			wt.arg_off = (uint64_t)(b->data - p->arena) +
				     at * b->elem_size;
			if (b->res_size) {
				wt.flags |= WIRE_TASK_INPLACE;
				wt.res_off = b->res_off + at * b->res_size;
				wt.res_size = b->res_size;
			}
		}
		if (wire_buf_frame(&w->out, WIRE_TASK, &wt, sizeof wt,
				   b->data + at * b->elem_size, bytes) ||
		    wire_buf_put(&w->out, zero, pad))
			break;
		/* the header's length must cover the padding */
		struct wire_hdr h = { WIRE_TASK,
				      (uint32_t)(sizeof wt + bytes + pad) };

		memcpy(w->out.p + w->out.len - frame - pad, &h, sizeof h);
		w->fl[(w->fl_head + w->fl_n) % POOL_FLIGHT] =
			(struct pool_range){ r->first, k };
		w->fl_n++;
		w->inflight += k;
		w->sent += (uint64_t)k;
		p->queued -= k;
		p->running += k;
		int64_t first = r->first;

		r->first += k;
		r->count -= k;
		if (!r->count) {
			p->q.head = (p->q.head + 1) % p->q.cap;
			p->q.n--;
		}
		if (first + k > p->inited)
			pool_task_init(p, first + k - 1);
		if (b->into) {	/* a message never spans batches */
			pool_into_set(b->into, first - b->into->first, k,
				      NICELY_RUNNING);
			for (int64_t i = 0; i < k && p->o.on_start; i++) {
				p->in_cb++;
				p->o.on_start(first + i, p->completed,
					      p->running, p->total,
					      p->o.cb_user);
				p->in_cb--;
			}
			continue;
		}
		for (int64_t i = 0; i < k; i++) {
			struct pool_task *u = pool_task_get(p, first + i);

			u->res.status = NICELY_RUNNING;
			u->worker = (int16_t)slot;
			if (p->o.on_start) {
				p->in_cb++;
				p->o.on_start(first + i, p->completed,
					      p->running, p->total,
					      p->o.cb_user);
				p->in_cb--;
			}
		}
	}
	if (p->o.lifespan && w->st == PW_LIVE && w->sent >= p->o.lifespan) {
		w->st = PW_CLOSING;
		w->close_after_flush = 1;
	}
	pool_send(p, w, slot);
}

/* Workers that count against the gate: live, or still running tasks. */
static int pool_active(const nicely_pool *p)
{
	int n = 0;

	for (int i = 0; i < p->nw; i++)
		if (p->w[i].st == PW_LIVE ||
		    (p->w[i].st != PW_FREE && p->w[i].inflight > 0))
			n++;
	return n;
}

/* The workers the gate counts, into gw (room for p->nw). */
static size_t pool_gate_list(const nicely_pool *p, struct pool_gate_worker *gw)
{
	size_t n = 0;

	for (int i = 0; i < p->nw; i++)
		if (p->w[i].st == PW_LIVE ||
		    (p->w[i].st != PW_FREE && p->w[i].inflight > 0))
			gw[n++] = (struct pool_gate_worker){ i, p->w[i].pid,
							     p->w[i].cpu,
							     p->w[i].paused,
							     p->w[i].cg != NULL };
	return n;
}

/* Ask the gate how many workers may run, and apply its actions. */
static int pool_tick(nicely_pool *p, uint64_t now)
{
	struct pool_gate_worker gw[p->nw > 0 ? p->nw : 1];
	struct pool_gate_answer a;
	char err[256];
	size_t n = pool_gate_list(p, gw);
	int rc;

	err[0] = 0;
	pool_gate_queued(p->gate, (size_t)p->queued);
	/* The gate answers capacity; pool_dispatch starts no more workers
	 * than the queue needs, so ask as if the queue were never short. */
	rc = pool_gate_tick(p->gate, gw, n,
			    (size_t)p->queued > (size_t)p->cap ? (size_t)p->queued
							       : (size_t)p->cap,
			    &a, err, sizeof err);
	/* notes of the per-user limit: lease file problems, waiting */
	const char *note;
	int lvl;

	while ((note = pool_gate_note(p->gate, &lvl)))
		pool_log(p, lvl, -1, 0, "%s", note);
	p->next_tick_ns = now + (uint64_t)pool_gate_interval_ms(p->gate) *
					1000000u;
	if (rc) {
		pool_log(p, NICELY_LOG_WARNING, -1, 0, "load sampling: %s", err);
		return 0;
	}
	if (a.nstart == 0 && p->queued && a.reason &&
	    a.reason != p->last_reason)
		pool_log(p, NICELY_LOG_DEBUG, -1, 0, "no new worker: %s",
			 a.reason);
	p->last_reason = a.nstart ? NULL : a.reason;
	p->allowed = (int)n + a.nstart;
	if (p->allowed > p->cap)
		p->allowed = p->cap;
	p->ans_nice = a.nice;
	p->ans_ncpus = a.nstart < p->cap ? a.nstart : p->cap;
	for (int i = 0; i < p->ans_ncpus; i++)
		p->ans_cpus[i] = a.cpus ? a.cpus[i] : -1;
	p->ans_used = 0;
	for (size_t i = 0; i < a.nactions; i++) {
		const struct pool_gate_action *act = &a.actions[i];
		struct pool_worker *w;

		if (act->id < 0 || act->id >= p->nw)
			continue;
		w = &p->w[act->id];
		if (w->st == PW_FREE || w->pid <= 0)
			continue;
		if (act->kind == POOL_GATE_MOVE && !p->o.no_pin &&
		    act->cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(act->cpu, &set);
			/* the group's cpuset first (it moves every process
			 * in it; affinity outside the cpuset is refused) */
			if (w->cg && sched_cgroup_task_set_cpus(w->cg, &set, err,
								sizeof err) < 0)
				pool_log(p, NICELY_LOG_WARNING, -1, w->pid,
					 "%s", err);
			if (!sched_setaffinity(w->pid, sizeof set, &set))
				w->cpu = act->cpu;
		} else if (act->kind == POOL_GATE_PAUSE && !w->paused) {
			/* freezing reaches every process of the worker */
			if (w->cg && !sched_cgroup_task_freeze(w->cg, 1, err,
							       sizeof err))
				w->paused = w->frozen = 1;
			else if (!killpg(w->pid, SIGSTOP))
				w->paused = 1;
		} else if (act->kind == POOL_GATE_RESUME && w->paused) {
			if (w->frozen) {
				if (!sched_cgroup_task_freeze(w->cg, 0, err,
							      sizeof err))
					w->paused = w->frozen = 0;
				else
					pool_log(p, NICELY_LOG_WARNING, -1,
						 w->pid, "%s", err);
			} else if (!killpg(w->pid, SIGCONT)) {
				w->paused = 0;
			}
		} else if (act->kind == POOL_GATE_STOP) {
			pool_kill_worker(p, w, NICELY_QUEUED, -1);
			/* its place is not free for a new worker until the
			 * gate says so (it would start unpinned at once) */
			if (p->allowed > 0)
				p->allowed--;
		}
	}
	return 0;
}

/* Under a per-user [limits] max_pus an idle pool gives its PUs back to
 * the user's other batches: its idle workers leave (running worker_exit)
 * and the next task asks the gate again, at once. */
static void pool_release_idle(nicely_pool *p)
{
	for (int i = 0; i < p->nw; i++) {
		struct pool_worker *w = &p->w[i];

		if (w->st == PW_LIVE && !w->inflight && !w->fl_n) {
			w->st = PW_CLOSING;
			w->close_after_flush = 1;
			pool_send(p, w, i);
		}
	}
	p->allowed = 0;
	p->next_tick_ns = 0;
	pool_gate_release(p->gate);
}

/* Start workers the gate allows and give every live worker tasks. */
static void pool_dispatch(nicely_pool *p, uint64_t now)
{
	if (p->broken)
		return;
	if ((p->q.n || p->running) && now >= p->next_tick_ns)
		pool_tick(p, now);
	while (p->q.n && now >= p->backoff_ns) {
		int active = pool_active(p), idle = 0;

		for (int i = 0; i < p->nw; i++)
			if (p->w[i].st == PW_LIVE && !p->w[i].inflight)
				idle++;
		if (active >= p->allowed || idle >= p->queued)
			break;
		int cpu = p->ans_used < p->ans_ncpus ? p->ans_cpus[p->ans_used]
						     : -1;
		int rc = pool_spawn(p, cpu);

		if (rc == 0)	/* no free slot: an exit will wake us */
			break;
		if (rc < 0) {
			pool_log(p, NICELY_LOG_ERROR, -1, 0,
				 "cannot start a worker: %s",
				 nicely_strerror(rc));
			p->backoff_ns = now + 100000000u;
			break;
		}
		p->ans_used++;
	}
	/* first one message to each idle worker, then prefetch */
	for (int round = 0; round < 2; round++)
		for (int k = 0; k < p->nw && p->q.n; k++) {
			int i = (p->rr + k) % p->nw;

			if (p->w[i].st == PW_LIVE && (round || !p->w[i].fl_n))
				pool_feed(p, i, round ? INT32_MAX : 1);
		}
	p->rr = p->nw ? (p->rr + 1) % p->nw : 0;
	if (!p->q.n && !p->running && pool_gate_shared(p->gate))
		pool_release_idle(p);
}

/* One task's result from a WIRE_RES frame of worker slot (ignored unless
 * the task is still running there). */
static int pool_result(nicely_pool *p, struct pool_worker *w, int slot,
		       const struct wire_res *r, int64_t id, int ok, int code,
		       const char *data, size_t dlen, const char *err,
		       size_t errlen, double wall, double cpu, const char *why)
{
	struct pool_task *t = pool_task_get(p, id);

	if (!t || t->res.status != NICELY_RUNNING || t->worker != slot)
		return 0;
	if (dlen && pool_task_data(t, data, dlen))
		return NICELY_ENOMEM;
	if (errlen)
		pool_task_error(t, err, errlen);
	t->res.pid = r->pid;
	t->res.wall = wall / 1e9;
	t->res.cpu = cpu / 1e9;
	w->inflight--;
	if (w->fl_n && w->fl[w->fl_head].first == id) {
		w->fl[w->fl_head].first++;
		if (!--w->fl[w->fl_head].count) {
			w->fl_head = (w->fl_head + 1) % POOL_FLIGHT;
			w->fl_n--;
		}
	}
	pool_finish(p, t, ok ? NICELY_OK : NICELY_FAILED, code, why);
	return 0;
}

/* Is id the next task of worker w's oldest message? */
static int pool_fl_next(const struct pool_worker *w, int64_t id)
{
	return w->fl_n && w->fl[w->fl_head].first == id;
}

/* Take k tasks off the front of w's oldest message (all of them there). */
static void pool_fl_pop(struct pool_worker *w, int64_t k)
{
	w->inflight -= k;
	w->fl[w->fl_head].first += k;
	if (!(w->fl[w->fl_head].count -= k)) {
		w->fl_head = (w->fl_head + 1) % POOL_FLIGHT;
		w->fl_n--;
	}
}

/* One map_into element's result: a clean success of out_size bytes goes
 * to out with no record; anything else gets a record (a return of
 * another size fails the element and keeps its bytes there). */
static int pool_result_into(nicely_pool *p, struct pool_worker *w, int slot,
			    struct pool_into *in, const struct wire_res *r,
			    int64_t id, int ok, int code, const char *data,
			    size_t dlen, const char *err, size_t errlen,
			    double wall, double cpu)
{
	int64_t i = id - in->first;
	struct pool_task *t = in->rec ? in->rec[i] : NULL;
	size_t have = t ? t->res.len : 0;	/* streamed before */
	char *to = in->out_size ? in->out + (size_t)i * in->out_size : NULL;
	char why[4400];

	if (in->st[i] != NICELY_RUNNING || !pool_fl_next(w, id))
		return 0;
	if (ok && have + dlen == in->out_size) {
		if (have)
			memcpy(to, t->res.data, have);
		if (dlen)
			memcpy(to + have, data, dlen);
		if (!errlen) {
			if (t) {
				pool_task_release(t);
				free(t);
				in->rec[i] = NULL;
			}
			pool_fl_pop(w, 1);
			pool_into_ok(p, in, i, 1);
			return 0;
		}
		/* OK with an error text: out has the bytes, the record
		 * keeps the text and a copy of them */
		why[0] = 0;
	} else if (ok) {
		snprintf(why, sizeof why,
			 "task %lld returned %zu bytes; nicely_map_into "
			 "expects %zu (out_size)%s%.*s",
			 (long long)id, have + dlen, in->out_size,
			 errlen ? "; its error: " : "", (int)errlen, err);
		ok = 0;
		code = 0;
		errlen = 0;
	} else {
		why[0] = 0;
	}
	if (!t && !(t = pool_into_rec(in, i, slot)))
		return NICELY_ENOMEM;
	return pool_result(p, w, slot, r, id, ok, code, data, dlen, err,
			   errlen, wall, cpu, why[0] ? why : NULL);
}

/* count results with same_len bytes each, ids from id on, all of one
 * map_into: one copy per message when they fit out_size. */
static int pool_results_into(nicely_pool *p, struct pool_worker *w, int slot,
			     struct pool_into *in, const struct wire_res *r,
			     int64_t id, int64_t count, const char *e,
			     double wall, double cpu)
{
	int rc;

	while (count > 0) {
		int64_t i = id - in->first, k = 0;

		if (r->same_len == in->out_size && pool_fl_next(w, id)) {
			k = w->fl[w->fl_head].count < count
				    ? w->fl[w->fl_head].count
				    : count;
			for (int64_t j = 0; j < k; j++)
				if (in->st[i + j] != NICELY_RUNNING ||
				    (in->rec && in->rec[i + j])) {
					k = 0;
					break;
				}
		}
		if (k > 0) {
			if (in->out_size)
				memcpy(in->out + (size_t)i * in->out_size, e,
				       (size_t)k * in->out_size);
			pool_fl_pop(w, k);
			pool_into_ok(p, in, i, k);
		} else {
			k = 1;
			if ((rc = pool_result_into(p, w, slot, in, r, id, 1, 0,
						   e, r->same_len, NULL, 0,
						   wall, cpu)))
				return rc;
		}
		id += k;
		count -= k;
		e += (size_t)k * r->same_len;
	}
	return 0;
}

/* Results of a WIRE_RES frame. */
static int pool_results(nicely_pool *p, struct pool_worker *w, int slot,
			const char *body, uint32_t len)
{
	struct wire_res r;
	const char *e = body + sizeof r, *end = body + len;
	double wall, cpu;
	int rc;

	if (len < sizeof r)
		return NICELY_EIO;
	memcpy(&r, body, sizeof r);
	if (!r.count)
		return 0;
	if (r.flags & WIRE_RES_INPLACE) {	/* the bytes are in the arena */
		struct pool_into *in = p->ninto ? pool_into_of(p, r.first_id)
						: NULL;
		struct pool_batch *b = in ? in->batch : NULL;

		if (!(r.flags & WIRE_RES_SAME) || e != end || !in ||
		    r.first_id + r.count > in->first + in->n ||
		    (b && (!b->res_size || r.same_len != b->res_size)))
			return NICELY_EIO;
		if (!b)	/* all its elements are finished: nothing to take */
			return 0;
		e = p->arena + b->res_off +
		    (size_t)(r.first_id - b->first_id) * b->res_size;
		end = e + (size_t)r.count * r.same_len;
	} else if ((r.flags & WIRE_RES_SAME) &&
	    (r.same_len > WIRE_SAME_MAX ||
	     (size_t)(end - e) != (size_t)r.count * r.same_len))
		return NICELY_EIO;
	wall = (double)r.wall_ns / r.count;
	cpu = (double)r.cpu_ns / r.count;
	p->avg_ns = p->avg_ns > 0 ? 0.7 * p->avg_ns + 0.3 * wall : wall;
	if (w->pid <= 0 && r.pid > 0)
		w->pid = r.pid;
	struct pool_task *t0 = pool_task_get(p, r.first_id);
	struct pool_into *in0 = p->ninto ? pool_into_of(p, r.first_id) : NULL;

	if (t0 && t0->res.status == NICELY_RUNNING && t0->worker == slot &&
	    t0->batch)
		t0->batch->avg_ns = t0->batch->avg_ns > 0
					    ? 0.7 * t0->batch->avg_ns + 0.3 * wall
					    : wall;
	else if (in0 && in0->batch &&
		 in0->st[r.first_id - in0->first] == NICELY_RUNNING)
		in0->batch->avg_ns = in0->batch->avg_ns > 0
					     ? 0.7 * in0->batch->avg_ns + 0.3 * wall
					     : wall;
	if (r.flags & WIRE_RES_SAME) {
		for (uint32_t i = 0; i < r.count;) {
			int64_t id = r.first_id + i;
			struct pool_into *in =
				p->ninto ? pool_into_of(p, id) : NULL;

			if (in) {	/* the run of its elements at once */
				int64_t k = in->first + in->n - id;

				if (k > r.count - i)
					k = r.count - i;
				if ((rc = pool_results_into(p, w, slot, in, &r,
							    id, k, e, wall,
							    cpu)))
					return rc;
				i += (uint32_t)k;
				e += (size_t)k * r.same_len;
				continue;
			}
			if ((rc = pool_result(p, w, slot, &r, id, 1, 0, e,
					      r.same_len, NULL, 0, wall, cpu,
					      NULL)))
				return rc;
			i++;
			e += r.same_len;
		}
		return 0;
	}
	for (uint32_t i = 0; i < r.count; i++) {
		struct wire_entry en;

		if (end - e < (ptrdiff_t)sizeof en)
			return NICELY_EIO;
		memcpy(&en, e, sizeof en);
		e += sizeof en;
		if ((size_t)(end - e) < (size_t)en.datalen + en.errlen)
			return NICELY_EIO;
		struct pool_into *in =
			p->ninto ? pool_into_of(p, r.first_id + i) : NULL;

		if (in)
			rc = pool_result_into(p, w, slot, in, &r, r.first_id + i,
					      en.status == NICELY_OK, en.code, e,
					      en.datalen, e + en.datalen,
					      en.errlen, wall, cpu);
		else
			rc = pool_result(p, w, slot, &r, r.first_id + i,
					 en.status == NICELY_OK, en.code, e,
					 en.datalen, e + en.datalen, en.errlen,
					 wall, cpu, NULL);
		if (rc)
			return rc;
		e += en.datalen + en.errlen;
	}
	return 0;
}

/* Parse every complete frame a worker sent. */
static int pool_frames(nicely_pool *p, struct pool_worker *w, int slot)
{
	struct wire_hdr h;
	const char *body;
	int r, rc;

	while ((r = wire_next(&w->in, &h, &body)) > 0) {
		switch (h.type) {
		case WIRE_RES:
			if ((rc = pool_results(p, w, slot, body, h.len)))
				return rc;
			break;
		case WIRE_DATA: {
			int64_t id;
			struct pool_task *t;

			if (h.len < sizeof id)
				return NICELY_EIO;
			memcpy(&id, body, sizeof id);
			t = pool_task_get(p, id);
			struct pool_into *in =
				!t && p->ninto ? pool_into_of(p, id) : NULL;

			/* a map_into element keeps streamed bytes in a
			 * record until its size is known */
			if (in && in->st[id - in->first] == NICELY_RUNNING &&
			    !(t = pool_into_rec(in, id - in->first, slot)))
				return NICELY_ENOMEM;
			if (t && t->res.status == NICELY_RUNNING &&
			    t->worker == slot &&
			    pool_task_data(t, body + sizeof id,
					   h.len - sizeof id))
				return NICELY_ENOMEM;
			break;
		}
		case WIRE_LOG: {
			struct wire_log l;
			char msg[4097];
			size_t n;

			if (h.len < sizeof l)
				return NICELY_EIO;
			memcpy(&l, body, sizeof l);
			if (w->pid <= 0 && l.pid > 0)
				w->pid = l.pid;
			n = h.len - sizeof l;
			if (n > sizeof msg - 1)
				n = sizeof msg - 1;
			memcpy(msg, body + sizeof l, n);
			msg[n] = 0;
			if (p->o.on_log) {
				p->in_cb++;
				p->o.on_log(l.level, l.id, l.pid, msg,
					    p->o.log_user);
				p->in_cb--;
			}
			break;
		}
		case WIRE_INITFAIL:
			free(w->initfail);
			w->initfail = strndup(body, h.len);
			break;
		default:
			return NICELY_EIO;
		}
	}
	return r < 0 ? NICELY_EIO : 0;
}

/* Read a worker's result channel until it would block. */
static void pool_read_res(nicely_pool *p, int slot)
{
	struct pool_worker *w = &p->w[slot];

	while (w->res_fd >= 0) {
		/* workers write at most 64 KiB of results at once */
		ssize_t n = wire_buf_read(&w->in, w->res_fd, 64 * 1024);

		if (n == -EAGAIN)
			return;
		if (n > 0 && !pool_frames(p, w, slot))
			continue;
		/* EOF, a read error or a malformed stream: this channel is
		 * over; the worker is killed if it still runs. */
		if (n != 0)
			pool_kill_worker(p, w, 0, -1);
		pool_ep(p, EPOLL_CTL_DEL, w->res_fd, 0, EV_RES, slot);
		pool_close(&w->res_fd);
		w->eof = 1;
	}
}

/* Forward a worker's captured stderr, line by line. */
static void pool_read_err(nicely_pool *p, int slot, int final)
{
	struct pool_worker *w = &p->w[slot];
	ssize_t n = 1;

	while (w->err_fd >= 0 && n > 0) {
		n = wire_buf_read(&w->err, w->err_fd, 4096);
		if (n == 0 || (n < 0 && n != -EAGAIN)) {
			pool_ep(p, EPOLL_CTL_DEL, w->err_fd, 0, EV_ERR, slot);
			pool_close(&w->err_fd);
			final = 1;
		}
		for (;;) {
			char *s = w->err.p + w->err.off;
			size_t avail = w->err.len - w->err.off;
			char *nl = avail ? memchr(s, '\n', avail) : NULL;
			size_t len = nl ? (size_t)(nl - s) : avail;

			if (!nl && !(final && avail) && avail < 4096)
				break;
			int64_t id = __atomic_load_n(&p->slots[slot].running,
						     __ATOMIC_ACQUIRE);

			pool_log(p, NICELY_LOG_WARNING, id >= 0 ? id : -1,
				 w->pid, "%.*s", (int)len, s);
			w->err.off += len + (nl ? 1 : 0);
		}
	}
}

/* Describe a wait status for an error message. */
static void pool_describe(int st, char *buf, size_t len)
{
	if (WIFSIGNALED(st))
		snprintf(buf, len, "the worker was killed by signal %d (%s)",
			 WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "the task ended its worker with exit(%d)",
			 WEXITSTATUS(st));
}

/* A worker is gone (exit reported and channel closed): settle its tasks
 * and free the slot. Tasks it never started go back to the queue front. */
static void pool_worker_done(nicely_pool *p, int slot)
{
	struct pool_worker *w = &p->w[slot];
	int64_t victim = __atomic_load_n(&p->slots[slot].running,
					 __ATOMIC_ACQUIRE);
	int st = w->wstatus, first_open = 1;
	struct pool_range rq[POOL_FLIGHT + 1];	/* the victim splits one */
	int nrq = 0;
	char why[160];

	pool_read_err(p, slot, 1);
	for (int k = 0; k < w->fl_n; k++) {
		struct pool_range r = w->fl[(w->fl_head + k) % POOL_FLIGHT];

		for (int64_t id = r.first; id < r.first + r.count; id++) {
			struct pool_task *t = pool_task_get(p, id);
			struct pool_into *in =
				p->ninto ? pool_into_of(p, id) : NULL;

			if (in && !t && in->st[id - in->first] == NICELY_RUNNING &&
			    !(t = pool_into_rec(in, id - in->first, slot))) {
				/* no memory for its record: run it again */
				pool_into_set(in, id - in->first, 1,
					      NICELY_QUEUED);
				p->running--;
				p->queued++;
				if (nrq && rq[nrq - 1].first + rq[nrq - 1].count == id)
					rq[nrq - 1].count++;
				else if (nrq < POOL_FLIGHT + 1)
					rq[nrq++] = (struct pool_range){ id, 1 };
				continue;
			}
			if (!t || t->res.status != NICELY_RUNNING ||
			    t->worker != slot)
				continue;
			int is_first = first_open;

			first_open = 0;
			t->res.pid = w->pid;
			if (id == victim && p->o.timeout_ms)
				t->res.wall = (double)(worker_now_ns() -
						       p->slots[slot].start_ns) / 1e9;
			if (w->initfail) {
				snprintf(why, sizeof why,
					 "worker init failed: %s", w->initfail);
				pool_finish(p, t, NICELY_FAILED, 0, why);
			} else if (w->kill_reason == NICELY_KILLED) {
				/* only the task it was running was running */
				if (id == victim)
					pool_finish(p, t, NICELY_KILLED, 0,
						    "killed by nicely_kill_all");
				else
					pool_finish(p, t, NICELY_CANCELLED, 0,
						    "cancelled by nicely_kill_all");
			} else if (id == victim && w->kill_reason == NICELY_TIMEOUT &&
				   id == w->kill_task) {
				snprintf(why, sizeof why,
					 "timed out after %u ms; its %s was "
					 "killed",
					 p->o.timeout_ms,
					 w->cg ? "worker's cgroup"
					       : "process group");
				pool_finish(p, t, NICELY_TIMEOUT, 0, why);
			} else if (w->exited == 1 && !w->kill_reason &&
				   (id == victim ||
				    (victim == WORKER_INIT && is_first))) {
				pool_describe(st, why, sizeof why);
				if (victim == WORKER_INIT)
					strncat(why, " in worker_init",
						sizeof why - strlen(why) - 1);
				pool_finish(p, t,
					    WIFSIGNALED(st) ? NICELY_SIGNALED
							    : NICELY_FAILED,
					    WIFSIGNALED(st) ? WTERMSIG(st)
							    : WEXITSTATUS(st),
					    why);
			} else {
				t->res.status = NICELY_QUEUED;
				t->worker = -1;
				p->running--;
				p->queued++;
				if (nrq && rq[nrq - 1].first + rq[nrq - 1].count == id)
					rq[nrq - 1].count++;
				else if (nrq < POOL_FLIGHT + 1)
					rq[nrq++] = (struct pool_range){ id, 1 };
			}
			if (in && t->res.status == NICELY_QUEUED) {
				/* a map_into element to run again: no record */
				pool_into_mark(p, t);
				pool_task_release(t);
				free(t);
				in->rec[id - in->first] = NULL;
			}
		}
	}
	for (int i = nrq - 1; i >= 0; i--)
		if (pool_q_push(&p->q, rq[i].first, rq[i].count, 1))
			pool_log(p, NICELY_LOG_ERROR, -1, 0,
				 "out of memory requeueing tasks");
	if (w->exited == 1 && !w->kill_reason && !w->initfail &&
	    (WIFSIGNALED(st) || WEXITSTATUS(st)))
		pool_log(p, NICELY_LOG_WARNING, victim >= 0 ? victim : -1,
			 w->pid, "worker %d died (%s); replaced", (int)w->pid,
			 WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "exit");
	if (w->pollout)
		pool_ep(p, EPOLL_CTL_DEL, w->task_fd, 0, EV_TASK, slot);
	pool_close(&w->task_fd);
	pool_close(&w->res_fd);
	pool_close(&w->err_fd);
	free(w->initfail);
	pool_cg_worker_done(p, w);
	pool_worker_clear(w);
	w->task_fd = w->res_fd = w->err_fd = -1;
	w->st = PW_FREE;
	pool_arena_sweep(p);
}

/* Messages from the fork server. */
static void pool_read_ctl(nicely_pool *p)
{
	struct forkserver_msg m;

	for (;;) {
		ssize_t n = recv(p->ctl, &m, sizeof m, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			if (!p->broken)
				pool_log(p, NICELY_LOG_ERROR, -1, 0,
					 "the fork server is gone");
			p->broken = 1;
			pool_ep(p, EPOLL_CTL_DEL, p->ctl, 0, EV_CTL, 0);
			for (int i = 0; i < p->nw; i++)
				if (p->w[i].st != PW_FREE && !p->w[i].exited) {
					p->w[i].exited = 2;
					p->w[i].wstatus = SIGKILL;
				}
			return;
		}
		if ((size_t)n != sizeof m || m.slot < 0 || m.slot >= p->nw)
			continue;
		struct pool_worker *w = &p->w[m.slot];

		if (m.type == FORKSERVER_SPAWNED) {
			struct pool_gate_worker gw[p->nw];

			w->pid = m.pid;
			pool_gate_workers(p->gate, gw, pool_gate_list(p, gw));
			if (w->st == PW_DYING)
				pool_kill_worker(p, w, w->kill_reason,
						 w->kill_task);
		} else if (m.type == FORKSERVER_SPAWNFAIL) {
			pool_log(p, NICELY_LOG_ERROR, -1, 0,
				 "fork of a worker failed: %s",
				 strerror(m.val));
			w->exited = 2;	/* no process: requeue its tasks */
			p->backoff_ns = worker_now_ns() + 100000000u;
		} else if (m.type == FORKSERVER_AUTOGROUP) {
			if (m.val && m.val != ENOENT)
				pool_log(p, NICELY_LOG_WARNING, -1, 0,
					 "cannot lower the workers' autogroup "
					 "priority: %s",
					 strerror(m.val));
			else if (!m.val)
				pool_log(p, NICELY_LOG_DEBUG, -1, 0,
					 "workers run in a session of their "
					 "own with the preset's autogroup "
					 "nice");
		} else if (m.type == FORKSERVER_EXITED && w->pid == m.pid) {
			w->exited = 1;
			w->wstatus = m.val;
			pool_gate_worker_exited(p->gate, m.pid, m.cpu_ns);
		}
	}
}

/* Settle workers whose exit and EOF have both arrived. */
static void pool_reap(nicely_pool *p)
{
	for (int i = 0; i < p->nw; i++) {
		struct pool_worker *w = &p->w[i];

		if (w->st == PW_FREE || !w->exited)
			continue;
		if (!w->eof)
			pool_read_res(p, i);
		if (w->eof)
			pool_worker_done(p, i);
	}
}

/* Kill workers whose current task ran past the timeout. */
static uint64_t pool_timeouts(nicely_pool *p, uint64_t now)
{
	uint64_t limit = (uint64_t)p->o.timeout_ms * 1000000u, next = 0;

	if (!limit)
		return 0;
	for (int i = 0; i < p->nw; i++) {
		struct pool_worker *w = &p->w[i];
		int64_t r;
		uint64_t s, d;

		if ((w->st != PW_LIVE && w->st != PW_CLOSING) || !w->inflight)
			continue;
		r = __atomic_load_n(&p->slots[i].running, __ATOMIC_ACQUIRE);
		s = __atomic_load_n(&p->slots[i].start_ns, __ATOMIC_RELAXED);
		if (r < 0) {
			d = now + limit / 4 + 1000000u;
		} else if (now > s && now - s >= limit) {
			/* (a task may start after `now` was read: s > now) */
			pool_kill_worker(p, w, NICELY_TIMEOUT, r);
			continue;
		} else {
			d = s + limit;
		}
		if (!next || d < next)
			next = d;
	}
	return next;
}

/* When the pool next wants a step regardless of fds (0: never). */
static uint64_t pool_deadline(nicely_pool *p, uint64_t now)
{
	uint64_t d = pool_timeouts(p, now);

	if (p->q.n || p->running) {
		uint64_t t = p->next_tick_ns > now ? p->next_tick_ns : now;

		if (p->backoff_ns > t)
			t = p->backoff_ns;
		if (!d || t < d)
			d = t;
	}
	return d;
}

/* Is anything still queued, running, or dying? */
static int pool_busy(const nicely_pool *p)
{
	if (p->queued || p->running)
		return 1;
	for (int i = 0; i < p->nw; i++)
		if (p->w[i].st == PW_DYING)
			return 1;
	return 0;
}

/* One turn of the loop: the body of nicely_step. */
static int pool_turn(nicely_pool *p, int timeout_ms)
{
	struct epoll_event ev[64];
	uint64_t now = worker_now_ns(), dl;
	int n, wait = timeout_ms, fired = 0;

	pool_reap(p);
	pool_dispatch(p, now);
	dl = pool_deadline(p, now);
	if (dl) {
		int ms = dl > now ? (int)((dl - now + 999999) / 1000000) : 0;

		if (wait < 0 || ms < wait)
			wait = ms;
	}
	if (!pool_busy(p))
		wait = 0;
	n = epoll_wait(p->ep, ev, 64, wait);
	if (n < 0 && errno != EINTR)
		return NICELY_EIO;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++) {
			int kind = (int)(ev[i].data.u64 >> 32);
			int slot = (int)(uint32_t)ev[i].data.u64;

			if (pass == 0) {
				if (kind == EV_CTL)
					pool_read_ctl(p);
				continue;
			}
			if (kind == EV_RES)
				pool_read_res(p, slot);
			else if (kind == EV_ERR)
				pool_read_err(p, slot, 0);
			else if (kind == EV_TASK)
				pool_send(p, &p->w[slot], slot);
			else if (kind == EV_TIMER) {
				uint64_t x;

				if (read(p->tfd, &x, sizeof x) < 0)
					x = 0;
				fired = 1;
			}
		}
	now = worker_now_ns();
	pool_timeouts(p, now);
	pool_reap(p);
	pool_dispatch(p, now);
	dl = pool_deadline(p, now);
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (dl) {
		its.it_value.tv_sec = (time_t)(dl / 1000000000u);
		its.it_value.tv_nsec = (long)(dl % 1000000000u);
	}
	/* re-arm only when the deadline moved (a syscall per turn otherwise;
	 * a timer that fired is re-armed even at the same deadline) */
	if (dl != p->tfd_armed || fired) {
		timerfd_settime(p->tfd, TFD_TIMER_ABSTIME, &its, NULL);
		p->tfd_armed = dl;
	}
	if (p->broken && pool_busy(p)) {
		pool_reap(p);
		return NICELY_ECHILD;
	}
	return pool_busy(p) ? 0 : 1;
}

/* One step. */
int nicely_step(nicely_pool *p, int timeout_ms)
{
	if (!p)
		return NICELY_EINVAL;
	if (p->in_cb)
		return NICELY_EBUSY;
	return pool_turn(p, timeout_ms);
}

/* Step until idle. */
int nicely_wait_all(nicely_pool *p)
{
	int rc;

	if (!p)
		return NICELY_EINVAL;
	if (p->in_cb)
		return NICELY_EBUSY;
	while ((rc = pool_turn(p, -1)) == 0)
		;
	return rc < 0 ? rc : 0;
}

/* Step until one task is finished. */
int nicely_wait(nicely_pool *p, int64_t id)
{
	struct pool_into *in;
	struct pool_task *t;
	int rc = 0;

	if (!p)
		return NICELY_EINVAL;
	if (p->in_cb)
		return NICELY_EBUSY;
	/* a map_into element's record may come and go: wait on its state */
	if ((in = pool_into_of(p, id))) {
		while (in->st[id - in->first] == NICELY_QUEUED ||
		       in->st[id - in->first] == NICELY_RUNNING)
			if ((rc = pool_turn(p, -1)) < 0)
				return rc;
		return 0;
	}
	if (!(t = pool_task_get(p, id)))
		return NICELY_ENOENT;
	while (t->res.status == NICELY_QUEUED || t->res.status == NICELY_RUNNING)
		if ((rc = pool_turn(p, -1)) < 0)
			return rc;
	return 0;
}

/* The epoll fd. */
int nicely_fd(nicely_pool *p)
{
	return p ? p->ep : NICELY_EINVAL;
}

/* Time to the next deadline. */
int nicely_timeout_ms(nicely_pool *p)
{
	uint64_t now, dl;

	if (!p)
		return NICELY_EINVAL;
	now = worker_now_ns();
	dl = pool_deadline(p, now);
	if (!dl)
		return -1;
	return dl > now ? (int)((dl - now + 999999) / 1000000) : 0;
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
	int rc = pool_tasks_grow(p, n);
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
	if ((rc = pool_q_push(&p->q, p->total, (int64_t)n, 0)))
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
	if (p->in_cb)
		return NICELY_EBUSY;
	if (len > WIRE_MAX_BODY - 4096)
		return NICELY_E2BIG;
	if (p->broken)
		return NICELY_ECHILD;
	if ((rc = pool_room(p, 1)))
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
	pool_dispatch(p, worker_now_ns());
	return id;
}

/* Queue one call per element; in: the map_into call they belong to, or
 * NULL. */
static int pool_map(nicely_pool *p, nicely_task_fn fn, const void *base,
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
	if (b && pool_batch_arena(p, b, elem_size, n,
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
		if (in)
			pool_into_set(in, (int64_t)done, (int64_t)k,
				      NICELY_QUEUED);
		if ((rc = pool_enqueue(p, b, k)))
			goto fail;
		done += k;
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
	return pool_map(p, fn, base, elem_size, n, chunk, first_id, NULL);
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
		return pool_map(p, fn, base, elem_size, n, chunk, first_id,
				NULL);
	in = calloc(1, sizeof *in);
	if (!in || !(in->st = malloc(n))) {
		free(in);
		return NICELY_ENOMEM;
	}
	in->out = out;
	in->out_size = out_size;
	in->status = status;
	rc = pool_map(p, fn, base, elem_size, n, chunk, first_id, in);
	if (!in->batch && !in->n) {	/* nothing of it was queued */
		free(in->st);
		free(in);
	}
	return rc;
}

/* The record of a map_into element that has one, or should: a cancelled
 * element gets it when first asked for. NULL for the others. */
static struct pool_task *pool_into_result(nicely_pool *p, int64_t id)
{
	struct pool_into *in = pool_into_of(p, id);
	struct pool_task *t;
	int64_t i;

	if (!in)
		return NULL;
	i = id - in->first;
	if (in->st[i] != NICELY_CANCELLED || !(t = pool_into_rec(in, i, -1)))
		return NULL;
	pool_task_error(t, "cancelled by nicely_kill_all",
			strlen("cancelled by nicely_kill_all"));
	return t;
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

/* Counters. */
int nicely_stats_get(nicely_pool *p, nicely_stats *st)
{
	if (!p || !st)
		return NICELY_EINVAL;
	memset(st, 0, sizeof *st);
	st->total = p->total;
	st->completed = p->completed;
	st->running = p->running;
	st->queued = p->queued;
	st->failed = p->failed;
	st->workers_started = p->started;
	for (int i = 0; i < p->nw; i++)
		if (p->w[i].st != PW_FREE)
			st->workers++;
	st->allowed = p->allowed;
	st->cgroups = p->cg != NULL;
	st->cgroup_cpu_ns = p->cg ? p->cg_cpu_ns : -1;
	st->cgroup_mem_peak = p->cg && p->cg_mem_peak > 0 ? p->cg_mem_peak : -1;
	return 0;
}

/* Cancel the queued ones of map_into elements [i, i+k): no records (one
 * is made if nicely_result_get asks). */
static int pool_into_cancel(nicely_pool *p, struct pool_into *in, int64_t i,
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

/* Cancel everything queued. */
static int pool_cancel_queued(nicely_pool *p)
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
				 * pool_forget) */
				if (id + k > p->inited)
					pool_task_init(p, id + k - 1);
				n += pool_into_cancel(p, in, id - in->first, k);
				id += k - 1;
				continue;
			}
			struct pool_task *t = pool_task_get(p, id);

			if (t && t->res.status == NICELY_QUEUED) {
				pool_finish(p, t, NICELY_CANCELLED, 0,
					    "cancelled by nicely_kill_all");
				n++;
			}
		}
	}
	return n;
}

/* Kill running work, cancel queued, wait until those workers are reaped. */
static int pool_kill_all(nicely_pool *p)
{
	int n = (int)p->running, rc;

	n += pool_cancel_queued(p);
	for (int i = 0; i < p->nw; i++)
		if (p->w[i].st != PW_FREE && p->w[i].inflight)
			pool_kill_worker(p, &p->w[i], NICELY_KILLED, -1);
	while (pool_busy(p))
		if ((rc = pool_turn(p, -1)) < 0) {
			if (rc == NICELY_ECHILD)
				break;
			return rc;
		}
	return n;
}

/* Public kill-all. */
int nicely_kill_all(nicely_pool *p)
{
	if (!p)
		return NICELY_EINVAL;
	if (p->in_cb)
		return NICELY_EBUSY;
	return pool_kill_all(p);
}

/* Ask idle workers to leave (EOF on their task channel); wait up to
 * grace_ms for them, then kill what remains. */
static void pool_retire_all(nicely_pool *p, unsigned grace_ms)
{
	uint64_t end = worker_now_ns() + (uint64_t)grace_ms * 1000000u;
	int left;

	for (int i = 0; i < p->nw; i++) {
		struct pool_worker *w = &p->w[i];

		if (w->st == PW_LIVE || w->st == PW_CLOSING) {
			if (w->inflight) {
				pool_kill_worker(p, w, NICELY_KILLED, -1);
				continue;
			}
			w->st = PW_CLOSING;
			w->close_after_flush = 1;
			pool_send(p, w, i);
		}
	}
	for (;;) {
		left = 0;
		for (int i = 0; i < p->nw; i++)
			left += p->w[i].st != PW_FREE;
		if (!left || p->broken)
			break;
		uint64_t now = worker_now_ns();

		if (now >= end) {
			for (int i = 0; i < p->nw; i++)
				if (p->w[i].st != PW_FREE)
					pool_kill_worker(p, &p->w[i],
							 NICELY_KILLED, -1);
			end = UINT64_MAX;
		}
		int ms = end == UINT64_MAX ? 100
					   : (int)((end - now) / 1000000u) + 1;

		if (pool_turn(p, ms) < 0 && p->broken)
			break;
	}
}

/* Free a map_into call's own memory (its batch is gone). */
static void pool_into_free(struct pool_into *in)
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
static void pool_into_forget(nicely_pool *p, struct pool_into *in)
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

/* Forget all tasks and their memory. */
static void pool_forget(nicely_pool *p)
{
	for (int64_t id = 0; id < p->inited; id++) {
		struct pool_into *in = p->ninto ? pool_into_of(p, id) : NULL;

		if (in) {	/* see pool_into_forget */
			id = in->first + in->n - 1;
			continue;
		}
		struct pool_task *t = pool_task_get(p, id);

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
	p->nblocks = 0;
	free(p->q.r);
	memset(&p->q, 0, sizeof p->q);
	p->total = p->completed = p->running = p->queued = p->failed = 0;
	p->started = 0;
	p->avg_ns = 0;
}

/* Open the batch cgroup for the preset's weight class (removing groups of
 * this user's dead pools first). Without one: in auto mode one log line
 * says what is missing and how to get it; required: NICELY_ECGROUP. */
static int pool_cg_open(nicely_pool *p)
{
	struct sched_cgroup_options co = SCHED_CGROUP_OPTIONS_INIT;
	const struct policy_preset *pr = pool_gate_preset(p->gate);
	char err[1024], line[1400];
	int e;

	p->cg = NULL;
	p->cg_cpu_ns = 0;
	p->cg_mem_peak = 0;
	if (p->o.cgroups == NICELY_CGROUPS_OFF)
		return 0;
	co.weight = pr->weight;
	p->cg_weight = pr->weight;
	err[0] = 0;
	e = sched_cgroup_batch_open(&p->cg, &co, err, sizeof err);
	if (e == 0) {	/* workers' children count as ours too */
		if ((e = pool_gate_set_cgroup(p->gate, p->cg)) < 0)
			pool_log(p, NICELY_LOG_WARNING, -1, 0,
				 "cannot read the pool's CPU time from its "
				 "cgroup (%s); the CPU time of processes that "
				 "workers fork counts as others' load",
				 strerror(-e));
		return 0;
	}
	p->cg = NULL;
	if (e == -EACCES || e == -EPERM || e == -EROFS)
		snprintf(line, sizeof line, "%s", err);
	else
		snprintf(line, sizeof line,
			 "no cgroups (%s); workers run with nice and CPU "
			 "pinning only", err);
	if (p->o.cgroups == NICELY_CGROUPS_REQUIRED) {
		pool_log(p, NICELY_LOG_ERROR, -1, 0,
			 "cgroups are required (options.cgroups): %s", line);
		return e == -ENOMEM ? NICELY_ENOMEM : NICELY_ECGROUP;
	}
	pool_log(p, NICELY_LOG_WARNING, -1, 0, "%s%s%s", line,
		 pr->memory_max ? "; memory_max is not enforced" : "",
		 pr->weight != POLICY_WEIGHT_NORMAL
			 ? "; workers get a session of their own with the "
			   "preset's autogroup nice"
			 : "");
	return 0;
}

/* Remove the slots' worker groups and the batch cgroup (every worker is
 * gone by now). */
static void pool_cg_close(nicely_pool *p)
{
	char err[1024];

	pool_cg_slots_drop(p);
	if (p->gate)
		pool_gate_set_cgroup(p->gate, NULL);
	if (p->cg && sched_cgroup_batch_close(p->cg, err, sizeof err) < 0)
		pool_log(p, NICELY_LOG_ERROR, -1, 0, "%s", err);
	p->cg = NULL;
}

/* Kill-all, clear, reload. */
int nicely_reset(nicely_pool *p)
{
	char err[512];
	int rc;

	if (!p)
		return NICELY_EINVAL;
	if (p->in_cb)
		return NICELY_EBUSY;
	rc = pool_kill_all(p);
	if (rc < 0 && rc != NICELY_ECHILD)
		return rc;
	pool_retire_all(p, p->o.exit_grace_ms);
	pool_forget(p);
	err[0] = 0;
	rc = pool_gate_reload(p->gate, err, sizeof err);
	if (rc)
		pool_log(p, NICELY_LOG_ERROR, -1, 0, "%s", err);
	/* the slots' worker groups go (the workers are gone); the batch
	 * group stays unless the preset's weight class changed (a new one is
	 * not known to the fork server: after the owner's death only the
	 * next pool's stale cleaning removes it) */
	pool_cg_slots_drop(p);
	if ((p->cg && pool_gate_preset(p->gate)->weight != p->cg_weight) ||
	    (!p->cg && p->o.cgroups == NICELY_CGROUPS_REQUIRED)) {
		int crc;

		pool_cg_close(p);
		if ((crc = pool_cg_open(p)) < 0)
			return crc;
	}
	p->cg_cpu_ns = p->cg_mem_peak = 0;
	if (rc)
		return NICELY_ECONFIG;
	p->next_tick_ns = worker_now_ns() +
			  (uint64_t)pool_gate_warmup_ms(p->gate) * 1000000u;
	p->allowed = 0;
	return p->broken ? NICELY_ECHILD : 0;
}

/* Make the map arena: NICELY_MAP_ARENA_MB MiB (default POOL_ARENA_MB; 0:
 * none). Address space only until used (MAP_NORESERVE); without room for
 * it the pool works without one. 0, or NICELY_ECONFIG for a bad value. */
static int pool_arena_open(nicely_pool *p)
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

/* Tear the pool down; safe on a half-built pool. */
static void pool_destroy(nicely_pool *p)
{
	if (p->fs_pid > 0) {
		pool_cancel_queued(p);
		pool_retire_all(p, p->o.exit_grace_ms);
		if (p->cg) {	/* we remove the cgroups ourselves below */
			struct forkserver_msg m = { FORKSERVER_BYE, 0, 0, 0,
						    -1, 0, 0, 0, 0 };

			forkserver_send(p->ctl, &m, NULL, 0);
		}
		pool_close(&p->ctl);	/* the fork server kills the rest */
		while (waitpid(p->fs_pid, NULL, 0) < 0 && errno == EINTR)
			;
		for (int i = 0; i < p->nw; i++) {
			struct pool_worker *w = &p->w[i];

			if (w->st == PW_FREE)
				continue;
			w->exited = w->exited ? w->exited : 2;
			w->eof = 1;
			pool_worker_done(p, i);
		}
	}
	pool_forget(p);
	if (p->arena)
		munmap(p->arena, p->arena_len);
	free(p->areg);
	pool_cg_close(p);
	pool_close(&p->ctl);
	pool_close(&p->ep);
	pool_close(&p->tfd);
	pool_gate_free(p->gate);
	if (p->slots)
		munmap(p->slots, p->slots_len);
	for (int i = 0; p->w && i < p->nw; i++) {
		wire_buf_free(&p->w[i].out);
		wire_buf_free(&p->w[i].in);
		wire_buf_free(&p->w[i].err);
	}
	free(p->w);
	free(p->ans_cpus);
	free(p->preset);
	free(p->config_file);
	free(p);
}

/* Free a pool. */
void nicely_pool_free(nicely_pool *p)
{
	if (p)
		pool_destroy(p);
}

/* Create a pool. */
int nicely_pool_new(nicely_pool **out, const nicely_options *opts)
{
	struct pool_gate_opts go = { 0 };
	nicely_pool *p;
	char err[512];
	int rc;

	if (!out)
		return NICELY_EINVAL;
	*out = NULL;
	p = calloc(1, sizeof *p);
	if (!p)
		return NICELY_ENOMEM;
	p->ctl = p->ep = p->tfd = -1;
	if (opts)
		p->o = *opts;
	else
		nicely_options_init(&p->o);
	if (p->o.max_workers < 0 ||
	    ((p->o.nice < 0 || p->o.nice > 19) &&
	     p->o.nice != NICELY_NICE_ZERO) ||
	    p->o.cgroups < NICELY_CGROUPS_AUTO ||
	    p->o.cgroups > NICELY_CGROUPS_REQUIRED) {
		rc = NICELY_EINVAL;
		goto fail;
	}
	/* the zeros that mean a default, made explicit */
	if (!p->o.exit_grace_ms)
		p->o.exit_grace_ms = POOL_EXIT_GRACE_MS;
	else if (p->o.exit_grace_ms == NICELY_GRACE_NONE)
		p->o.exit_grace_ms = 0;
	if ((p->o.preset && !(p->preset = strdup(p->o.preset))) ||
	    (p->o.config_file && !(p->config_file = strdup(p->o.config_file)))) {
		rc = NICELY_ENOMEM;
		goto fail;
	}
	p->o.preset = p->preset;
	p->o.config_file = p->config_file;
	go.preset = p->preset;
	go.max_workers = p->o.max_workers;
	if (p->o.nice == 0)
		go.nice = -1;	/* the preset's */
	else
		go.nice = p->o.nice == NICELY_NICE_ZERO ? 0 : p->o.nice;
	go.config_file = p->config_file;
	err[0] = 0;
	if ((rc = pool_gate_new(&p->gate, &go, err, sizeof err))) {
		pool_log(p, NICELY_LOG_ERROR, -1, 0, "%s", err);
		rc = rc == -ENOMEM ? NICELY_ENOMEM : NICELY_ECONFIG;
		goto fail;
	}
	if (*pool_gate_warning(p->gate))
		pool_log(p, NICELY_LOG_WARNING, -1, 0, "%s",
			 pool_gate_warning(p->gate));
	p->cap = pool_gate_cap(p->gate);
	if (p->o.max_workers > 0 && p->o.max_workers < p->cap)
		p->cap = p->o.max_workers;
	if (p->cap < 1)
		p->cap = 1;
	p->nw = 2 * p->cap + 1;	/* room for replacements while old ones exit */
	p->w = calloc((size_t)p->nw, sizeof *p->w);
	p->ans_cpus = calloc((size_t)p->cap, sizeof *p->ans_cpus);
	if (!p->w || !p->ans_cpus) {
		rc = NICELY_ENOMEM;
		goto fail;
	}
	for (int i = 0; i < p->nw; i++)
		p->w[i].task_fd = p->w[i].res_fd = p->w[i].err_fd = -1;
	p->slots_len = sizeof(struct worker_slot) * (size_t)p->nw;
	p->slots = mmap(NULL, p->slots_len, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p->slots == MAP_FAILED) {
		p->slots = NULL;
		rc = NICELY_ENOMEM;
		goto fail;
	}
	p->ep = epoll_create1(EPOLL_CLOEXEC);
	p->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (p->ep < 0 || p->tfd < 0) {
		rc = NICELY_EMFILE;
		goto fail;
	}
	p->wcfg.init = p->o.worker_init;
	p->wcfg.exit = p->o.worker_exit;
	p->wcfg.init_arg = p->o.init_arg;
	p->wcfg.lifespan = p->o.lifespan;
	p->wcfg.timed = p->o.timeout_ms > 0;
	p->wcfg.slots = p->slots;
	p->wcfg.nslots = p->nw;
	if ((rc = pool_arena_open(p)) < 0)
		goto fail;
	p->wcfg.arena = p->arena;
	p->wcfg.arena_len = p->arena_len;
	if ((rc = pool_cg_open(p)) < 0)
		goto fail;
	int autogroup = !p->cg && pool_gate_preset(p->gate)->weight !=
					  POLICY_WEIGHT_NORMAL
				? (int)pool_gate_preset(p->gate)->weight
				: -1;
	pid_t pid = forkserver_start(&p->ctl, &p->wcfg, p->cg, autogroup);

	if (pid < 0) {
		rc = pid == -ENOMEM ? NICELY_ENOMEM : NICELY_EIO;
		goto fail;
	}
	p->fs_pid = pid;
	p->next_tick_ns = worker_now_ns() +
			  (uint64_t)pool_gate_warmup_ms(p->gate) * 1000000u;
	pool_ep(p, EPOLL_CTL_ADD, p->ctl, EPOLLIN, EV_CTL, 0);
	pool_ep(p, EPOLL_CTL_ADD, p->tfd, EPOLLIN, EV_TIMER, 0);
	*out = p;
	return 0;
fail:
	pool_destroy(p);
	return rc;
}
