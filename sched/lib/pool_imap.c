/* sched/lib/pool_imap: nicely_imap, a map over arguments pulled from a
 * callback as room frees (MPIRE's imap over a generator). At most
 * `window` of its tasks are unfinished or finished and not taken; each
 * result taken is forgotten at the next call, with the task record's
 * block once all of its tasks are, so memory stays bounded however many
 * arguments come. Runs in the pool's owner thread, outside callbacks. */
#include <stdint.h>
#include <stdlib.h>

#include "nicely.h"
#include "sched/lib/pool_state.h"
#include "sched/lib/pool_task.h"
#include "sched/lib/pool_turn.h"

struct nicely_imap {
	nicely_pool *p;
	nicely_task_fn fn;
	nicely_next_fn next;
	void *user;
	char *buf;
	size_t cap;		/* largest argument */
	size_t window;
	int ordered, eof;
	int64_t first;		/* its first task (-1: none yet) */
	int64_t *ids;		/* ring of its tasks not taken, in order */
	size_t head, n;
	int64_t taken;		/* returned by the last next, -1: none */
};

/* Start an imap. */
int nicely_imap_new(nicely_imap **out, nicely_pool *p, nicely_task_fn fn,
		    nicely_next_fn next, void *user, size_t arg_max,
		    size_t window, int ordered)
{
	nicely_imap *im;

	if (!out)
		return NICELY_EINVAL;
	*out = NULL;
	if (!p || !fn || !next)
		return NICELY_EINVAL;
	if (p->in_cb)
		return NICELY_EBUSY;
	if (arg_max > (1u << 30) - 4096)
		return NICELY_E2BIG;
	if (!window)
		window = 4 * (size_t)p->cap;
	if (!(im = calloc(1, sizeof *im)))
		return NICELY_ENOMEM;
	im->ids = calloc(window, sizeof *im->ids);
	im->buf = malloc(arg_max ? arg_max : 1);
	if (!im->ids || !im->buf) {
		nicely_imap_free(im);
		return NICELY_ENOMEM;
	}
	im->p = p;
	im->fn = fn;
	im->next = next;
	im->user = user;
	im->cap = arg_max;
	im->window = window;
	im->ordered = ordered;
	im->first = im->taken = -1;
	*out = im;
	return 0;
}

/* Pull arguments and queue their tasks while the window has room. 0 or
 * a negative error (the generator's, or the pool's). */
static int imap_fill(nicely_imap *im)
{
	nicely_pool *p = im->p;

	while (!im->eof && im->n < im->window) {
		size_t len = 0;
		int64_t id;
		int rc;

		/* stop_on_failure stopped this imap: pull nothing more */
		if (im->first >= 0 && p->stop_below > im->first) {
			im->eof = 1;
			break;
		}
		rc = im->next(im->buf, im->cap, &len, im->user);
		if (rc < 0)
			return rc;
		if (rc == 0 || len > im->cap) {
			im->eof = 1;
			if (rc && len > im->cap)
				return NICELY_E2BIG;
			break;
		}
		if ((id = nicely_run(p, im->fn, im->buf, len)) < 0)
			return (int)id;
		if (im->first < 0)
			im->first = id;
		im->ids[(im->head + im->n++) % im->window] = id;
	}
	return 0;
}

/* Is task id finished? */
static int imap_done(nicely_imap *im, int64_t id)
{
	int st = nicely_task_status(im->p, id);

	return st != NICELY_QUEUED && st != NICELY_RUNNING;
}

/* Take entry k of the ring (k-th from the head) out. */
static int64_t imap_take(nicely_imap *im, size_t k)
{
	int64_t id = im->ids[(im->head + k) % im->window];

	for (size_t j = k; j > 0; j--)	/* close the gap from the head */
		im->ids[(im->head + j) % im->window] =
			im->ids[(im->head + j - 1) % im->window];
	im->head = (im->head + 1) % im->window;
	im->n--;
	return id;
}

/* The next result. */
int nicely_imap_next(nicely_imap *im, const nicely_result **r)
{
	nicely_pool *p;
	int rc;

	if (!im || !r)
		return NICELY_EINVAL;
	*r = NULL;
	p = im->p;
	if (p->in_cb)
		return NICELY_EBUSY;
	if (im->taken >= 0)
		pool_task_forget_one(p, im->taken);
	im->taken = -1;
	for (;;) {
		if ((rc = imap_fill(im)) < 0)
			return rc;
		for (size_t k = 0; k < im->n; k++) {
			if (!imap_done(im, im->ids[(im->head + k) % im->window])) {
				if (im->ordered)
					break;
				continue;
			}
			im->taken = imap_take(im, k);
			*r = nicely_result_get(p, im->taken);
			return 1;
		}
		if (!im->n && im->eof)
			return 0;
		if ((rc = pool_turn(p, -1)) < 0)
			return rc;
	}
}

/* Free an imap; its tasks not taken are cancelled (running ones killed)
 * and forgotten. */
void nicely_imap_free(nicely_imap *im)
{
	if (!im)
		return;
	if (im->p && !im->p->in_cb) {
		if (im->taken >= 0)
			pool_task_forget_one(im->p, im->taken);
		for (size_t k = 0; k < im->n; k++) {
			int64_t id = im->ids[(im->head + k) % im->window];

			nicely_cancel(im->p, id);
			nicely_wait(im->p, id);
			pool_task_forget_one(im->p, id);
		}
	}
	free(im->ids);
	free(im->buf);
	free(im);
}
