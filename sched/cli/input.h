/* sched/input: where a batch's values come from: `:::` groups on the command
 * line, `-a FILE` / `::::` files, or standard input; several sources make
 * the cross product, last source varying fastest (as GNU parallel). The
 * first source is streamed (a batch of 10^6 lines starts at once with
 * bounded memory); the others are read whole. Used by the CLI's loop. */
#ifndef SCHED_INPUT_H
#define SCHED_INPUT_H

#include <stddef.h>

enum input_kind { INPUT_ARGS, INPUT_FILE, INPUT_STDIN };

struct input_source {
	enum input_kind kind;
	char *const *args;	/* INPUT_ARGS: the values */
	size_t nargs;
	const char *path;	/* INPUT_FILE: the file ("-" = stdin) */
};

struct input;

/* Open the sources (copied). Returns 0 or -errno with err naming the file. */
int input_open(struct input **out, const struct input_source *src, size_t n,
	       char *err, size_t errlen);
void input_free(struct input *in);
size_t input_nsources(const struct input *in);

/* The next task's values, one per source, valid until the next call.
 * Returns 1 with *values set, 0 at the end, or -errno with err set (a read
 * error names the file and line). Lines lose their trailing "\n" only: a
 * "\r" before it is kept (as GNU parallel does), a last line without "\n"
 * is still a value, an empty line is an empty value, and a NUL byte in a
 * line becomes the text "\\0" with GNU parallel's warning on stderr (no
 * argv can hold it; a line starting with NUL is the empty value, as GNU's
 * exec makes it). A directory, or a descriptor not open for reading,
 * fails at open. */
int input_next(struct input *in, const char *const **values, char *err,
	       size_t errlen);
/* The -errno input_next ended with (a read error), with its message in *msg; 0 while it has not failed. The CLI
 * exits 255 after such a batch: not every value ran. */
int input_error(const struct input *in, const char **msg);
/* Total number of tasks if known (all sources in memory, the first a
 * regular file of at most 64 MiB whose lines were counted at open, or the
 * first read to its end), else -1: for --bar's ETA. */
long long input_total(const struct input *in);

#endif
