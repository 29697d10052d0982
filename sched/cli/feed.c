/* sched/feed: a reader thread between a blocking input and the loop. The
 * thread calls input_next and appends copies of the values to a list (at
 * most max_ahead); the loop takes them with feed_next and is woken through
 * an eventfd only when it asked and found nothing. Cancellation is enabled
 * only around input_next, where the thread holds no lock. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sched/cli/feed.h"

struct feed_item {
	struct feed_item *next;
	size_t nvalues;		/* input_nvalues when it was read */
	char data[];		/* nvalues NUL-terminated strings */
};

struct feed {
	struct input *in;
	size_t nvalues, max, n;	/* nvalues: of the item taken last */
	size_t vcap;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int efd;
	int waiting;		/* the loop found nothing: wake it */
	int ended, rc, stop;
	char err[512];
	struct feed_item *head, *tail, *cur;
	const char **vals;
};

/* Copy one task's values into a list item. */
static struct feed_item *feed_copy(const struct feed *f,
				   const char *const *v)
{
	size_t len = 0, nv = input_nvalues(f->in);
	struct feed_item *it;
	char *p;

	for (size_t i = 0; i < nv; i++)
		len += strlen(v[i]) + 1;
	it = malloc(sizeof *it + len);
	if (!it)
		return NULL;
	it->next = NULL;
	it->nvalues = nv;
	p = it->data;
	for (size_t i = 0; i < nv; i++) {
		size_t l = strlen(v[i]) + 1;
		memcpy(p, v[i], l);
		p += l;
	}
	return it;
}

/* Wake the loop through the eventfd. */
static void feed_wake(struct feed *f)
{
	uint64_t one = 1;
	ssize_t w = write(f->efd, &one, sizeof one);
	(void)w;
}

/* The reader thread. */
static void *feed_main(void *arg)
{
	struct feed *f = arg;
	const char *const *v;
	char err[512];
	int r, old;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	for (;;) {
		pthread_mutex_lock(&f->mu);
		while (f->n >= f->max && !f->stop)
			pthread_cond_wait(&f->cv, &f->mu);
		int stop = f->stop;
		pthread_mutex_unlock(&f->mu);
		if (stop)
			break;
		err[0] = 0;
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
		r = input_next(f->in, &v, err, sizeof err);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
		struct feed_item *it = r == 1 ? feed_copy(f, v) : NULL;
		if (r == 1 && !it) {
			r = -ENOMEM;
			snprintf(err, sizeof err, "reading input: %s",
				 strerror(ENOMEM));
		}
		pthread_mutex_lock(&f->mu);
		if (it) {
			if (f->tail)
				f->tail->next = it;
			else
				f->head = it;
			f->tail = it;
			f->n++;
		} else {
			f->ended = 1;
			f->rc = r;
			snprintf(f->err, sizeof f->err, "%s", err);
		}
		int wake = f->waiting;
		f->waiting = 0;
		pthread_mutex_unlock(&f->mu);
		if (wake)
			feed_wake(f);
		if (!it)
			break;
	}
	return NULL;
}

/* Start the reader thread. */
int feed_start(struct feed **out, struct input *in, size_t max_ahead,
	       char *err, size_t errlen)
{
	struct feed *f = calloc(1, sizeof *f);
	int e;

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	f->in = in;
	f->nvalues = input_nsources(in);
	f->max = max_ahead ? max_ahead : 1;
	f->vcap = f->nvalues ? f->nvalues : 1;
	f->vals = calloc(f->vcap, sizeof *f->vals);
	f->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!f->vals || f->efd < 0) {
		e = f->efd < 0 ? -errno : -ENOMEM;
		snprintf(err, errlen, "cannot set up the input reader: %s",
			 strerror(-e));
		if (f->efd >= 0)
			close(f->efd);
		free(f->vals);
		free(f);
		return e;
	}
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	e = pthread_create(&f->th, NULL, feed_main, f);
	if (e) {
		snprintf(err, errlen, "cannot start the input reader: %s",
			 strerror(e));
		close(f->efd);
		free(f->vals);
		free(f);
		return -e;
	}
	*out = f;
	return 0;
}

/* The eventfd the loop watches. */
int feed_fd(const struct feed *f)
{
	return f->efd;
}

/* Drain the eventfd. */
void feed_ack(struct feed *f)
{
	uint64_t n;
	ssize_t r = read(f->efd, &n, sizeof n);
	(void)r;
}

/* Take the next values if the thread has read them. */
int feed_next(struct feed *f, const char *const **values, char *err,
	      size_t errlen)
{
	struct feed_item *it;
	int r;

	free(f->cur);
	f->cur = NULL;
	pthread_mutex_lock(&f->mu);
	it = f->head;
	if (it) {
		f->head = it->next;
		if (!f->head)
			f->tail = NULL;
		if (f->n-- == f->max)
			pthread_cond_signal(&f->cv);
		r = 1;
	} else if (f->ended) {
		r = f->rc;
		if (r < 0)
			snprintf(err, errlen, "%s", f->err);
	} else {
		f->waiting = 1;
		r = -EAGAIN;
	}
	pthread_mutex_unlock(&f->mu);
	if (!it)
		return r;
	if (it->nvalues > f->vcap) {
		const char **nv = realloc(f->vals, it->nvalues * sizeof *nv);
		if (!nv) {
			free(it);
			snprintf(err, errlen, "reading input: %s",
				 strerror(ENOMEM));
			return -ENOMEM;
		}
		f->vals = nv;
		f->vcap = it->nvalues;
	}
	f->nvalues = it->nvalues;
	const char *p = it->data;
	for (size_t i = 0; i < f->nvalues; i++) {
		f->vals[i] = p;
		p += strlen(p) + 1;
	}
	f->cur = it;
	*values = f->vals;
	return 1;
}

/* Stop the thread, wherever it waits, and free everything. */
void feed_stop(struct feed *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_cancel(f->th);
	pthread_join(f->th, NULL);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	while (f->head) {
		struct feed_item *it = f->head;
		f->head = it->next;
		free(it);
	}
	free(f->cur);
	free(f->vals);
	close(f->efd);
	free(f);
}

/* Values in the task feed_next gave last. */
size_t feed_nvalues(const struct feed *f)
{
	return f->nvalues;
}

/* Values read ahead and not yet taken. */
size_t feed_ahead(struct feed *f)
{
	size_t n;

	pthread_mutex_lock(&f->mu);
	n = f->n;
	pthread_mutex_unlock(&f->mu);
	return n;
}
