/* sched/input_shape: turns the input's records into tasks as GNU parallel's
 * --colsep (a value split into columns), -N (several records per task),
 * -X / -m (as many as fit in a command line, spread over the task slots
 * when one command would hold them all) and --pipe (stdin cut into chunks,
 * sched/cli/pipe.c) do. Owned by sched/cli/input.c, which feeds it records. */
#ifndef SCHED_INPUT_SHAPE_H
#define SCHED_INPUT_SHAPE_H

#include <stddef.h>

#include "sched/cli/input.h"

struct input_shaper;

/* Where records come from: nsrc values each; 1, 0 at the end, -errno. */
typedef int (*input_shaper_pull)(struct input *in, const char *const **vals,
				 char *err, size_t errlen);

/* A shaper for sh (copied; the strings must outlive it) pulling records of
 * nsrc values from pull(in); fd is the first source's descriptor for
 * --pipe. Returns 0 or -EINVAL / -ENOMEM with err naming the bad regex. */
int input_shaper_new(struct input_shaper **out, const struct input_shape *sh,
		     size_t nsrc, input_shaper_pull pull, struct input *in,
		     int fd, char *err, size_t errlen);
/* The next task's values (*n of them, valid until the next call): 1, 0 at
 * the end, -errno with err set. */
int input_shaper_next(struct input_shaper *s, const char *const **values,
		      size_t *n, char *err, size_t errlen);
void input_shaper_free(struct input_shaper *s);

/* Compile a --colsep regex (Perl's \t \n \s \S \d \D \w \W and \\ turned
 * into POSIX extended syntax). Returns 0 or -EINVAL with err naming it;
 * for `nicely run`'s option check. */
int input_colsep_check(const char *re, char *err, size_t errlen);

#endif
