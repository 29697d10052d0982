/* sched/lib/pool_feed: feeding workers. Task frames from the front of the
 * queue, sized into chunks (about 2 ms of work) and a little prefetch for
 * short tasks (about 1 ms per worker), written to each worker's socket
 * without blocking. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "nicely.h"
#include "sched/lib/pool.h"
#include "sched/lib/pool_batch.h"
#include "sched/lib/pool_feed.h"
#include "sched/lib/pool_into.h"
#include "sched/lib/pool_state.h"
#include "sched/lib/pool_task.h"
#include "sched/lib/wire.h"

#define POOL_CHUNK_NS 2000000.0	/* aim: one chunk = 2 ms of work */
#define POOL_PREFETCH_NS 1000000.0	/* queue 1 ms of work per worker */
#define POOL_MSG_BYTES (64u << 20)	/* argument bytes per message */

/* Write a worker's pending task bytes; close its channel when asked. */
void pool_feed_flush(nicely_pool *p, struct pool_worker *w, int slot)
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
void pool_feed(nicely_pool *p, int slot, int maxmsg)
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
	pool_feed_flush(p, w, slot);
}
