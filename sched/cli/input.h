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
	int raw;		/* bytes, not lines (--pipe): no scan at open */
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

/* How records become tasks: GNU parallel's --colsep, -N, -X, -m and
 * --pipe (sched/cli/input_shape.c, sched/cli/pipe.c). */
struct input_shape {
	const char *colsep;	/* split each value at this regex (POSIX
				   extended, with Perl's \t \n \s \S \d
				   \D \w \W); columns trimmed of blanks */
	long max_args;		/* -N: records per task at most; -1 = 1
				   (the default); 0 = read one, insert none */
	int fill;		/* -X / -m: as many records as fit */
	size_t max_len;		/* ... in a command of at most this length */
	/* the command's length for these values (for fill) */
	size_t (*len)(void *ctx, const char *const *vals, size_t n);
	void *len_ctx;
	int spread;		/* fill: when one command holds the whole
				   input, spread it over this many tasks */
	/* --pipe: stdin (the first source, opened raw) cut into chunks at
	   record ends, each written to a file in spool_dir; the task's one
	   value is its chunk's path */
	int pipe;
	size_t block;		/* chunk size to aim at */
	const char *recstart, *recend;	/* NULL: recend "\n" */
	const char *spool_dir;
};
#define INPUT_SHAPE_INIT { NULL, -1, 0, 0, NULL, NULL, 0, 0, 0, NULL, NULL, \
			   NULL }

/* Shape in's tasks (before the first input_next). Returns 0 or -EINVAL
 * with err naming the bad regex. */
int input_shape(struct input *in, const struct input_shape *sh, char *err,
		size_t errlen);
/* How many values the task input_next gave last holds (input_nsources
 * without a shape; with one it varies: --colsep's columns, -N's records). */
size_t input_nvalues(const struct input *in);
/* The first source's descriptor when it is streamed, else -1. */
int input_stream_fd(const struct input *in);

#endif
