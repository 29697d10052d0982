/* sched/lib/pool_recv: what workers send back. Result frames (one or many
 * results per frame, in the pipe or in place in the arena), streamed
 * return bytes, log lines and init failures on the result channel, and
 * captured stderr lines; map_into elements' clean successes go straight
 * to the caller's array. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "nicely.h"
#include "sched/lib/pool.h"
#include "sched/lib/pool_into.h"
#include "sched/lib/pool_recv.h"
#include "sched/lib/pool_state.h"
#include "sched/lib/pool_task.h"
#include "sched/lib/pool_worker.h"
#include "sched/lib/wire.h"

/* One task's result from a WIRE_RES frame of worker slot (ignored unless
 * the task is still running there). */
static int pool_result(nicely_pool *p, struct pool_worker *w, int slot,
		       const struct wire_res *r, int64_t id, nicely_status st,
		       int code,
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
	if (st == NICELY_CANCELLED) {	/* skipped by its worker */
		t->res.pid = 0;
		t->res.wall = t->res.cpu = 0;
		why = "cancelled by nicely_cancel";
	}
	pool_task_finish(p, t, st, code, why);
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
			    int64_t id, nicely_status st, int code,
			    const char *data, size_t dlen, const char *err,
			    size_t errlen, double wall, double cpu)
{
	int ok = st == NICELY_OK;
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
	return pool_result(p, w, slot, r, id,
			   ok ? NICELY_OK
			      : st == NICELY_CANCELLED ? st : NICELY_FAILED,
			   code, data, dlen, err, errlen, wall, cpu,
			   why[0] ? why : NULL);
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
			if ((rc = pool_result_into(p, w, slot, in, r, id,
						   NICELY_OK, 0, e,
						   r->same_len, NULL, 0, wall,
						   cpu)))
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
	p->early_deaths = 0;	/* workers get somewhere */
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
			if ((rc = pool_result(p, w, slot, &r, id, NICELY_OK, 0,
					      e, r.same_len, NULL, 0, wall, cpu,
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
		nicely_status st = en.status == NICELY_OK ? NICELY_OK
				   : en.status == NICELY_CANCELLED
					   ? NICELY_CANCELLED
					   : NICELY_FAILED;

		if (in)
			rc = pool_result_into(p, w, slot, in, &r, r.first_id + i,
					      st, en.code, e, en.datalen,
					      e + en.datalen, en.errlen, wall,
					      cpu);
		else
			rc = pool_result(p, w, slot, &r, r.first_id + i, st,
					 en.code, e, en.datalen, e + en.datalen,
					 en.errlen, wall, cpu, NULL);
		if (rc)
			return rc;
		e += en.datalen + en.errlen;
	}
	return 0;
}

/* What a worker's worker_exit handed back: kept for
 * nicely_exit_results. */
static int pool_recv_exitres(nicely_pool *p, struct pool_worker *w,
			     const char *body, uint32_t len)
{
	nicely_exit_result *e;
	void *d = NULL;

	if (len > WIRE_EXITRES_MAX)
		return NICELY_EIO;
	if (p->nexit == p->exitcap) {
		size_t cap = p->exitcap ? 2 * p->exitcap : 8;

		if (!(e = realloc(p->exitres, cap * sizeof *e)))
			return NICELY_ENOMEM;
		p->exitres = e;
		p->exitcap = cap;
	}
	if (len && !(d = malloc(len)))
		return NICELY_ENOMEM;
	if (len)
		memcpy(d, body, len);
	p->exitres[p->nexit++] = (nicely_exit_result){ w->pid, d, len };
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
			if (l.id < 0)	/* no task: -1, whatever came */
				l.id = -1;
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
		case WIRE_EXITRES:
			if ((rc = pool_recv_exitres(p, w, body, h.len)))
				return rc;
			break;
		default:
			return NICELY_EIO;
		}
	}
	return r < 0 ? NICELY_EIO : 0;
}

/* Read a worker's result channel until it would block. */
void pool_recv_results(nicely_pool *p, int slot)
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
		if (n != 0) {
			w->garbled = 1;
			pool_worker_kill(p, w, 0, -1);
		}
		pool_ep(p, EPOLL_CTL_DEL, w->res_fd, 0, EV_RES, slot);
		pool_close(&w->res_fd);
		w->eof = 1;
	}
}

/* Forward a worker's captured stderr, line by line. */
void pool_recv_stderr(nicely_pool *p, int slot, int final)
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
