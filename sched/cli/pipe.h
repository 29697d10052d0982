/* sched/pipe: `nicely run --pipe`: standard input cut into chunks of about
 * --block bytes, each ending at a record end (--recend, default "\n";
 * --recstart), as GNU parallel cuts them. Each chunk is written to a file
 * of its own (0600, in the batch's spool directory) that becomes the
 * task's standard input: memory holds one block (or the longest record),
 * never the whole input. Called by sched/cli/input_shape.c, in the feed
 * thread when stdin is a pipe. */
#ifndef SCHED_PIPE_H
#define SCHED_PIPE_H

#include <stddef.h>

struct pipe_chunker;

/* Read fd (kept open by the caller) in blocks of block bytes; records end
 * with recend followed by recstart (NULL: "\n" and ""). Chunk files go in
 * dir. Returns 0 or -ENOMEM. */
int pipe_chunker_new(struct pipe_chunker **out, int fd, size_t block,
		     const char *recstart, const char *recend,
		     const char *dir);
/* Write the next chunk to a new file: 1 with *path (valid until the next
 * call), 0 at the end of the input, -errno with err set. */
int pipe_chunker_next(struct pipe_chunker *p, const char **path, char *err,
		      size_t errlen);
void pipe_chunker_free(struct pipe_chunker *p);

/* Parse a --block size as GNU parallel does: a whole number with an
 * optional unit, K M G (and Ki Mi Gi, any case) binary, k m g decimal;
 * at least 1 byte and at most 1 GiB. Returns 0 or -1. */
int pipe_parse_size(const char *s, size_t *out);

/* Make the spool directory for a batch's chunks (0700) under $TMPDIR or
 * /tmp; path gets its name. Remove it (and what is left in it) with
 * pipe_spool_remove. */
int pipe_spool_make(char *path, size_t len, char *err, size_t errlen);
void pipe_spool_remove(const char *path);

#endif
