/* sched/cli/output: one task's captured stdout or stderr. Bytes are kept in
 * memory up to a per-buffer limit (and a batch-wide budget), then spilled to
 * an unlinked temporary file, so a task printing gigabytes costs disk, not
 * RAM. Also the writers that copy a buffer out whole or with a --tag prefix
 * on every line (as JSON: sched/jsonx.c over output_each). Used by
 * sched/cli/run.c in the loop. */
#ifndef SCHED_OUTPUT_H
#define SCHED_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#define OUTPUT_MEM_MAX (64 * 1024) /* per buffer before it spills */

struct output_buf {
	char *mem;	/* first bytes (or all, when fd < 0) */
	size_t len, cap;
	int fd;		/* spill file holding everything, -1 when none */
	uint64_t total;	/* bytes received */
	uint64_t flen;	/* bytes in the spill file */
	uint64_t lost;	/* bytes received but not kept (total - kept) */
	int lost_err;	/* errno of the first loss, 0 when none */
};

#define OUTPUT_BUF_INIT { NULL, 0, 0, -1, 0, 0, 0, 0 }

/* The directory spill files go to ($TMPDIR, else /tmp), for messages. */
const char *output_tmpdir(void);
/* Batch-wide budget of bytes held in memory by all buffers together; past
 * it new data spills at once. Default 32 MiB. */
void output_set_budget(size_t bytes);
/* Append n bytes. Returns 0, or -errno when bytes were lost: the spill
 * file could not be made or written (full or missing $TMPDIR). From the
 * first loss on the buffer keeps what it had (a whole prefix, never a hole)
 * and only counts what follows in lost; output_reset starts afresh. */
int output_append(struct output_buf *b, const char *p, size_t n);
/* Bytes kept: what output_write copies out (total - lost). */
uint64_t output_kept(const struct output_buf *b);
/* Drop the contents and free everything; the buffer is reusable after. */
void output_reset(struct output_buf *b);

/* Copy the whole buffer to fd. With a non-NULL tag, every line (and a last
 * line without newline) is prefixed by tag. Returns 0 or -errno. */
int output_write(const struct output_buf *b, int fd, const char *tag);
/* Call fn on the buffer's bytes in chunks, from memory or the spill file
 * (it may be walked again); 0, fn's first negative return, or -errno. */
int output_each(const struct output_buf *b,
		int (*fn)(void *ctx, const char *p, size_t n), void *ctx);

/* Write all of p to fd, retrying on EINTR and short writes. 0 or -errno. */
int output_full_write(int fd, const char *p, size_t n);

#endif
