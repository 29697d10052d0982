/* sched/feed: reads a batch's input in a thread when reading may block
 * (standard input or a pipe: `tail -f log | nicely run ...`), so the loop
 * keeps reaping tasks, writing output and answering Ctrl-C while no input
 * comes. Keeps at most max_ahead values read ahead (bounded memory). The
 * loop watches feed_fd and takes values with feed_next. Used by sched/cli/run.c. */
#ifndef SCHED_FEED_H
#define SCHED_FEED_H

#include <stddef.h>

#include "sched/cli/input.h"

struct feed;

/* Start reading in (which must outlive the feed) in a thread. Returns 0 or
 * -errno with err set. */
int feed_start(struct feed **out, struct input *in, size_t max_ahead,
	       char *err, size_t errlen);
/* An eventfd that becomes readable after feed_next returned -EAGAIN and a
 * value (or the end) arrived. Drain it with feed_ack. */
int feed_fd(const struct feed *f);
void feed_ack(struct feed *f);
/* The next values (input_nsources of them), valid until the next call:
 * 1, 0 at the end, -EAGAIN when none has arrived yet (feed_fd will wake the
 * loop), or the input's -errno with err set. */
int feed_next(struct feed *f, const char *const **values, char *err,
	      size_t errlen);
/* How many values the task feed_next gave last holds (see
 * input_nvalues). */
size_t feed_nvalues(const struct feed *f);
/* How many values the thread has read that feed_next has not handed out
 * yet (for `nicely status`). */
size_t feed_ahead(struct feed *f);
/* Stop the thread (even when it waits in read) and free everything. */
void feed_stop(struct feed *f);

#endif
