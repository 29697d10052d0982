/* sched/worker: the main loop of a libnicely worker process. Entered in the
 * child right after the fork server forks it: runs worker_init, then reads
 * task frames from the task fd, calls each function and batches the results
 * into frames on the result fd (flushed before every blocking read, when
 * large, and when a log line is sent). Also nicely_out_* and nicely_log. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "sched/lib/wire.h"
#include "sched/lib/worker.h"

#define WK_NO_FRAME ((size_t)-1)
#define WK_FLUSH_AT (64u * 1024)
#define WK_INPLACE_FLUSH 4096u	/* in-place results per frame at most */
#define WK_POPULATE_MIN (64u << 10)

struct nicely_out {
	struct wire_buf data;	/* return bytes not yet streamed */
	char err[4096];
	size_t errlen;
	int64_t id;
	/* an in-place task's slot in the arena: return bytes go there while
	 * they fit (wincap bytes); NULL otherwise */
	char *win;
	size_t winlen, wincap;
};

struct wk {
	const struct worker_cfg *cfg;
	struct worker_slot *slot;
	int task_fd, res_fd;
	pid_t pid;
	struct wire_buf in, out;
	size_t res_at;		/* offset of the open WIRE_RES frame in out */
	int64_t res_first;
	uint32_t res_count;
	int res_same;		/* the open frame is WIRE_RES_SAME so far */
	int res_inplace;	/* ... and WIRE_RES_INPLACE */
	uint32_t res_len;	/* its same_len */
	uint64_t res_cpu0, res_wall0;
	nicely_out o;
	void *state;
	uint64_t done;		/* tasks run */
	struct wire_buf exitres;	/* nicely_exit_write's bytes */
	uint64_t frame_t0;	/* the task frame running began, 0: none */
	int in_exit;		/* worker_exit runs */
};

/* The worker this process is, for nicely_log and nicely_out_write. */
static struct wk *wk_cur;

/* Is this process a libnicely worker (a pool made here is nested)? */
int worker_inside(void)
{
	return wk_cur != NULL;
}

/* Monotonic clock in nanoseconds. */
uint64_t worker_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of this process in nanoseconds. */
static uint64_t wk_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Give up: memory ran out. */
__attribute__((noreturn)) static void wk_die(void)
{
	_exit(WORKER_EXIT_NOMEM);
}

/* Give up: a channel to the parent broke (closed, by the parent or by a
 * task that closed fds it did not own) or carried garbage. */
__attribute__((noreturn)) static void wk_lost(void)
{
	_exit(WORKER_EXIT_PIPE);
}

/* Start a WIRE_RES frame whose first entry is task first_id. */
static void wk_res_open(struct wk *w, int64_t first_id)
{
	if (wire_buf_reserve(&w->out, sizeof(struct wire_hdr) +
					      sizeof(struct wire_res)))
		wk_die();
	w->res_at = w->out.len;
	w->out.len += sizeof(struct wire_hdr) + sizeof(struct wire_res);
	w->res_first = first_id;
	w->res_count = 0;
	w->res_same = 0;
	w->res_inplace = 0;
	w->res_len = 0;
	w->res_cpu0 = wk_cpu_ns();
	w->res_wall0 = worker_now_ns();
}

/* Finish the open WIRE_RES frame: fill in its header, or drop it if empty. */
static void wk_res_close(struct wk *w)
{
	struct wire_hdr h;
	struct wire_res r;

	if (w->res_at == WK_NO_FRAME)
		return;
	if (!w->res_count) {
		w->out.len = w->res_at;
	} else {
		h.type = WIRE_RES;
		h.len = (uint32_t)(w->out.len - w->res_at - sizeof h);
		memset(&r, 0, sizeof r);
		r.first_id = w->res_first;
		r.count = w->res_count;
		r.pid = (int32_t)w->pid;
		r.cpu_ns = wk_cpu_ns() - w->res_cpu0;
		r.wall_ns = worker_now_ns() - w->res_wall0;
		r.flags = (w->res_same ? WIRE_RES_SAME : 0) |
			  (w->res_inplace ? WIRE_RES_INPLACE : 0);
		r.same_len = w->res_same ? w->res_len : 0;
		memcpy(w->out.p + w->res_at, &h, sizeof h);
		memcpy(w->out.p + w->res_at + sizeof h, &r, sizeof r);
	}
	w->res_at = WK_NO_FRAME;
}

/* Close the open frame and write everything pending to the parent. */
static void wk_flush(struct wk *w)
{
	wk_res_close(w);
	if (w->out.len > w->out.off &&
	    wire_write_all(w->res_fd, w->out.p + w->out.off,
			   w->out.len - w->out.off))
		wk_lost();
	w->out.len = w->out.off = 0;
}

/* Append return bytes; stream them once they pass WIRE_STREAM_CHUNK. */
int nicely_out_write(nicely_out *out, const void *buf, size_t len)
{
	struct wk *w = wk_cur;
	const char *p = buf;

	/* an in-place result: straight to its slot in the arena */
	if (out && out->win && buf && len <= out->wincap - out->winlen) {
		char *d = out->win + out->winlen;

		switch (len) {	/* scalars: copied inline, no call */
		case 8:
			memcpy(d, buf, 8);
			break;
		case 4:
			memcpy(d, buf, 4);
			break;
		default:
			memcpy(d, buf, len);
		}
		out->winlen += len;
		return 0;
	}
	if (!out || (!buf && len))
		return NICELY_EINVAL;
	if (!len)
		return 0;
	if (out->win) {	/* longer than the slot: reported as usual */
		if (wire_buf_put(&out->data, out->win, out->winlen))
			return NICELY_ENOMEM;
		out->win = NULL;
	}
	/* the common case: a small return that fits */
	if (out->data.len + len < WIRE_STREAM_CHUNK &&
	    out->data.len + len <= out->data.cap) {
		memcpy(out->data.p + out->data.len, buf, len);
		out->data.len += len;
		return 0;
	}
	while (len) {
		size_t room = WIRE_STREAM_CHUNK - out->data.len;
		size_t n = len < room ? len : room;

		if (wire_buf_put(&out->data, p, n))
			return NICELY_ENOMEM;
		p += n;
		len -= n;
		if (out->data.len == WIRE_STREAM_CHUNK && w) {
			wk_flush(w);
			if (wire_buf_frame(&w->out, WIRE_DATA, &out->id,
					   sizeof out->id, out->data.p,
					   out->data.len))
				return NICELY_ENOMEM;
			out->data.len = 0;
			wk_flush(w);
		}
	}
	return 0;
}

/* Set the task's error text. */
int nicely_out_error(nicely_out *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!out || !fmt)
		return NICELY_EINVAL;
	va_start(ap, fmt);
	n = vsnprintf(out->err, sizeof out->err, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	out->errlen = (size_t)n < sizeof out->err ? (size_t)n
						  : sizeof out->err - 1;
	return 0;
}

/* Send a log line to the parent now. */
int nicely_log(int level, const char *fmt, ...)
{
	struct wk *w = wk_cur;
	struct wire_log l;
	char msg[4096];
	va_list ap;
	int n;

	if (!w)
		return NICELY_EBUSY;
	if (!fmt)
		return NICELY_EINVAL;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof msg)
		n = sizeof msg - 1;
	while (n > 0 && msg[n - 1] == '\n')
		n--;
	memset(&l, 0, sizeof l);
	l.id = __atomic_load_n(&w->slot->running, __ATOMIC_RELAXED);
	if (l.id < 0)	/* WORKER_INIT, WORKER_IDLE: no task (-1) */
		l.id = -1;
	l.level = level;
	l.pid = (int32_t)w->pid;
	wk_res_close(w);
	if (wire_buf_frame(&w->out, WIRE_LOG, &l, sizeof l, msg, (size_t)n))
		return NICELY_ENOMEM;
	wk_flush(w);
	return 0;
}

/* A task frame is over (or the worker retires in it): count its time
 * and tasks in the slot's insights. */
static void wk_busy(struct wk *w)
{
	if (w->frame_t0)
		__atomic_store_n(&w->slot->busy_ns,
				 w->slot->busy_ns + worker_now_ns() - w->frame_t0,
				 __ATOMIC_RELAXED);
	w->frame_t0 = 0;
	__atomic_store_n(&w->slot->ntasks, w->done, __ATOMIC_RELAXED);
}

/* From worker_exit: hand bytes back to the parent. */
int nicely_exit_write(const void *buf, size_t len)
{
	struct wk *w = wk_cur;

	if (!w || !w->in_exit)
		return NICELY_EBUSY;
	if (!buf && len)
		return NICELY_EINVAL;
	if (len > WIRE_EXITRES_MAX - w->exitres.len)
		return NICELY_E2BIG;
	return wire_buf_put(&w->exitres, buf, len) ? NICELY_ENOMEM : 0;
}

/* Retire: flush, run worker_exit, send what it handed back and flush its
 * logs, leave. */
__attribute__((noreturn)) static void wk_finish(struct wk *w)
{
	wk_flush(w);
	wk_busy(w);	/* a lifespan ends it inside a task frame */
	if (w->cfg->exit) {
		__atomic_store_n(&w->slot->t_exit_start, worker_now_ns(),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&w->slot->start_ns, worker_now_ns(),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&w->slot->running, WORKER_EXIT,
				 __ATOMIC_RELEASE);
		w->in_exit = 1;
		w->cfg->exit(w->state, w->cfg->init_arg);
		w->in_exit = 0;
		__atomic_store_n(&w->slot->t_exit_end, worker_now_ns(),
				 __ATOMIC_RELAXED);
		if (wire_buf_frame(&w->out, WIRE_EXITRES, w->exitres.p,
				   w->exitres.len, NULL, 0))
			wk_die();
	}
	wk_flush(w);
	fflush(NULL);
	_exit(0);
}

/* Rewrite the open WIRE_RES_SAME frame's entries in the general form
 * (a wire_entry before each task's bytes), from the last one backwards so
 * that the frame grows in place. */
static void wk_res_expand(struct wk *w)
{
	size_t base = w->res_at + sizeof(struct wire_hdr) +
		      sizeof(struct wire_res);
	size_t len = w->res_len, step = sizeof(struct wire_entry) + len;
	struct wire_entry e;

	if (wire_buf_reserve(&w->out, (size_t)w->res_count *
					      sizeof(struct wire_entry)))
		wk_die();
	memset(&e, 0, sizeof e);
	e.datalen = (uint32_t)len;
	e.status = NICELY_OK;
	for (uint32_t i = w->res_count; i-- > 0;) {
		char *to = w->out.p + base + (size_t)i * step;

		memmove(to + sizeof e, w->out.p + base + (size_t)i * len, len);
		memcpy(to, &e, sizeof e);
	}
	w->out.len = base + (size_t)w->res_count * step;
	w->res_same = 0;
}

/* Make the open frame one that may take a result of the other kind
 * (in place or not), closing it and opening one at id if need be. */
static void wk_res_kind(struct wk *w, int64_t id, int inplace)
{
	if (w->res_count && w->res_inplace != inplace) {
		wk_res_close(w);
		wk_res_open(w, id);
	}
}

/* Count one in-place result of len bytes in the open frame. */
static void wk_res_inplace(struct wk *w, int64_t id, uint32_t len)
{
	wk_res_kind(w, id, 1);
	w->res_inplace = 1;
	w->res_same = 1;
	w->res_len = len;
}

/* Is task id (just marked running) one the parent cancelled? Then its
 * skip entry is freed. running was stored seq_cst before this reads the
 * entries, and the parent stores an entry seq_cst before it reads
 * running and last: so either the worker sees the entry, or the parent
 * sees the task begun (and kills the worker or lets the result come). */
static int wk_skipped(struct worker_slot *slot, int64_t id)
{
	for (int i = 0; i < WORKER_SKIPS; i++)
		if (__atomic_load_n(&slot->skip[i], __ATOMIC_SEQ_CST) == id) {
			__atomic_store_n(&slot->skip[i], WORKER_IDLE,
					 __ATOMIC_SEQ_CST);
			return 1;
		}
	return 0;
}

/* Append one task's result to the open WIRE_RES frame (skipped: it was
 * cancelled before it began, a CANCELLED entry). */
static void wk_res_add(struct wk *w, int64_t id, int rc, int skipped)
{
	size_t dlen;
	struct wire_entry e;
	char *q;

	wk_res_kind(w, id, 0);
	dlen = w->o.data.len;
	if (!skipped && !rc && !w->o.errlen && dlen <= WIRE_SAME_MAX &&
	    (w->res_same ? dlen == w->res_len : !w->res_count)) {
		/* the first task of a frame, or one more like the others */
		w->res_same = 1;
		w->res_len = (uint32_t)dlen;
		if (dlen) {
			if (wire_buf_reserve(&w->out, dlen))
				wk_die();
			memcpy(w->out.p + w->out.len, w->o.data.p, dlen);
			w->out.len += dlen;
		}
		return;
	}
	if (w->res_same)
		wk_res_expand(w);
	memset(&e, 0, sizeof e);
	e.datalen = (uint32_t)dlen;
	e.errlen = (uint16_t)w->o.errlen;
	e.status = skipped ? NICELY_CANCELLED : rc ? NICELY_FAILED : NICELY_OK;
	e.code = skipped ? 0 : rc;
	if (wire_buf_reserve(&w->out, sizeof e + dlen + w->o.errlen))
		wk_die();
	q = w->out.p + w->out.len;
	memcpy(q, &e, sizeof e);
	if (dlen)
		memcpy(q + sizeof e, w->o.data.p, dlen);
	if (w->o.errlen)
		memcpy(q + sizeof e + dlen, w->o.err, w->o.errlen);
	w->out.len += sizeof e + dlen + w->o.errlen;
}

/* Is [off, off + count * size) inside the arena? */
static int wk_in_arena(const struct wk *w, uint64_t off, uint64_t count,
		       uint64_t size)
{
	uint64_t len = w->cfg->arena_len;

	return w->cfg->arena && off <= len &&
	       (!size || count <= (len - off) / size);
}

/* Map the arena pages of [p, p + len) into this process in one call
 * rather than a fault per page (worth it from WK_POPULATE_MIN bytes;
 * where the kernel cannot, the pages fault in as they are touched). */
static void wk_populate(const char *p, size_t len, int advice)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095;

	if (len >= WK_POPULATE_MIN)
		madvise((void *)a, (uintptr_t)p + len - a, advice);
}

/* Run the tasks of one WIRE_TASK frame, appending their results. */
static void wk_run_frame(struct wk *w, const char *body, uint32_t len)
{
	struct wire_task t;
	nicely_task_fn fn;
	const char *arg;
	char *res = NULL;

	if (len < sizeof t)
		wk_lost();
	memcpy(&t, body, sizeof t);
	if (t.flags & WIRE_TASK_ARENA) {
		if (len != sizeof t ||
		    !wk_in_arena(w, t.arg_off, t.count, t.elem_size))
			wk_lost();
		arg = w->cfg->arena + t.arg_off;
	} else {
		if (t.count && t.elem_size > (len - sizeof t) / t.count)
			wk_lost();
		arg = body + sizeof t;
	}
	if (t.flags & WIRE_TASK_INPLACE) {
		if (!(t.flags & WIRE_TASK_ARENA) || !t.res_size ||
		    t.res_size > WIRE_STREAM_CHUNK / 2 ||
		    !wk_in_arena(w, t.res_off, t.count, t.res_size))
			wk_lost();
		res = w->cfg->arena + t.res_off;
	}
	if (t.flags & WIRE_TASK_ARENA) {
		wk_populate(arg, (size_t)t.count * t.elem_size,
			    MADV_POPULATE_READ);
		if (res)
			wk_populate(res, (size_t)t.count * t.res_size,
				    MADV_POPULATE_WRITE);
	}
	fn = (nicely_task_fn)(uintptr_t)t.fn;
	/* read once: the task function may write anywhere */
	const int timed = w->cfg->timed;
	const uint64_t lifespan = w->cfg->lifespan;
	struct worker_slot *slot = w->slot;

	for (uint32_t i = 0; i < t.count; i++, arg += t.elem_size) {
		int64_t id = t.first_id + i;
		int rc = 0, inplace, skipped;

		/* a frame holds consecutive ids only */
		if (w->res_at != WK_NO_FRAME &&
		    w->res_first + w->res_count != id)
			wk_res_close(w);
		if (w->res_at == WK_NO_FRAME)
			wk_res_open(w, id);
		w->o.data.len = 0;
		w->o.errlen = 0;
		w->o.id = id;
		if (res) {
			w->o.win = res + (size_t)i * t.res_size;
			w->o.winlen = 0;
			w->o.wincap = t.res_size;
		}
		if (timed)
			__atomic_store_n(&slot->start_ns, worker_now_ns(),
					 __ATOMIC_RELAXED);
		__atomic_store_n(&slot->last, id, __ATOMIC_RELAXED);
		__atomic_store_n(&slot->running, id, __ATOMIC_SEQ_CST);
		skipped = wk_skipped(slot, id);
		if (!skipped)
			rc = fn(t.elem_size ? arg : NULL, t.elem_size, &w->o,
				w->state);
		__atomic_store_n(&slot->running, WORKER_IDLE, __ATOMIC_RELEASE);
		inplace = !skipped && w->o.win && !rc && !w->o.errlen &&
			  w->o.winlen == w->o.wincap;
		/* the common case: one more clean result in an open in-place
		 * frame (the slot is left set: the next task resets it) */
		if (inplace && w->res_inplace && w->res_at != WK_NO_FRAME) {
			w->res_count++;
			w->done++;
			if (w->res_count >= WK_INPLACE_FLUSH)
				wk_flush(w);
			if (lifespan && w->done >= lifespan)
				wk_finish(w);
			continue;
		}
		/* not a clean in-place result: its bytes go the usual way */
		if (w->o.win && !inplace && w->o.winlen && !skipped &&
		    wire_buf_put(&w->o.data, w->o.win, w->o.winlen))
			wk_die();
		w->o.win = NULL;
		if (w->res_at == WK_NO_FRAME)
			wk_res_open(w, id);
		if (inplace)
			wk_res_inplace(w, id, (uint32_t)t.res_size);
		else
			wk_res_add(w, id, rc, skipped);
		w->res_count++;
		w->done++;
		if (w->out.len >= WK_FLUSH_AT ||
		    (w->res_inplace && w->res_count >= WK_INPLACE_FLUSH))
			wk_flush(w);
		if (lifespan && w->done >= lifespan)
			wk_finish(w);
	}
	w->o.win = NULL;
	if (res)	/* an in-place frame never spans two runs */
		wk_res_close(w);
}

/* The worker's life. */
void worker_main(const struct worker_cfg *cfg, int slot, int task_fd,
		 int res_fd)
{
	static struct wk w;
	struct wire_hdr h;
	const char *body;

	/* a pool made inside a task forks its workers from this process's
	 * image: start from nothing, not from the outer worker's buffers
	 * and open result frame (their bytes would go to the new pool) */
	memset(&w, 0, sizeof w);
	w.cfg = cfg;
	w.slot = &cfg->slots[slot];
	__atomic_store_n(&w.slot->t_start, worker_now_ns(), __ATOMIC_RELAXED);
	w.task_fd = task_fd;
	w.res_fd = res_fd;
	w.pid = getpid();
	w.res_at = WK_NO_FRAME;
	wk_cur = &w;
	/* sized once: results are flushed at WK_FLUSH_AT, so the buffer
	 * grows in the task loop only for returns of more than 4 KiB */
	if (wire_buf_reserve(&w.out, WK_FLUSH_AT + 4096) ||
	    wire_buf_reserve(&w.o.data, 4096))
		wk_die();
	if (cfg->init) {
		int rc;

		__atomic_store_n(&w.slot->start_ns, worker_now_ns(),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&w.slot->running, WORKER_INIT,
				 __ATOMIC_RELEASE);
		rc = cfg->init(&w.state, cfg->init_arg);
		__atomic_store_n(&w.slot->running, WORKER_IDLE,
				 __ATOMIC_RELEASE);
		__atomic_store_n(&w.slot->t_init_end, worker_now_ns(),
				 __ATOMIC_RELAXED);
		if (rc) {
			char msg[64];
			int n = snprintf(msg, sizeof msg, "returned %d", rc);

			if (wire_buf_frame(&w.out, WIRE_INITFAIL, msg,
					   (size_t)n, NULL, 0))
				wk_die();
			wk_flush(&w);
			_exit(0);
		}
	}
	for (;;) {
		int r = wire_next(&w.in, &h, &body);

		if (r < 0 || (r > 0 && h.type != WIRE_TASK))
			wk_lost();
		if (r > 0) {
			w.frame_t0 = worker_now_ns();
			wk_run_frame(&w, body, h.len);
			wk_busy(&w);
			continue;
		}
		wk_flush(&w);
		ssize_t n = wire_buf_read(&w.in, task_fd, 64 * 1024);

		if (n == 0)
			wk_finish(&w);
		if (n == -ENOMEM)
			wk_die();
		if (n < 0)
			wk_lost();
	}
}
