/* sched/cli/output: capture buffers for a task's stdout/stderr that spill to
 * an unlinked temp file past OUTPUT_MEM_MAX (or the batch budget), and the
 * writers that copy them out whole or tagged (JSON: sched/jsonx.c through
 * output_each). Called from
 * the scheduler loop only (not thread-safe: the budget is one counter). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched/cli/output.h"

static size_t output_budget = 32u * 1024 * 1024;
static size_t output_in_mem;

/* Set the batch-wide in-memory budget. */
void output_set_budget(size_t bytes)
{
	output_budget = bytes;
}

/* Write all bytes, retrying short writes and EINTR. */
int output_full_write(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Where spill files go: $TMPDIR, or /tmp. */
const char *output_tmpdir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir && *dir ? dir : "/tmp";
}

/* Open an unlinked temporary file in $TMPDIR (or /tmp), 0600: O_TMPFILE
 * has no name to plant a symlink on; mkostemp creates with O_EXCL. */
static int output_tmpfile(void)
{
	const char *dir = output_tmpdir();
	char path[4096];
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	snprintf(path, sizeof path, "%s/nicely-out.XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	unlink(path);
	return fd;
}

/* Write bytes to the spill file, counting in flen what reached it (a
 * full disk takes part of a write, then fails). */
static int output_file_write(struct output_buf *b, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(b->fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
		b->flen += (uint64_t)w;
	}
	return 0;
}

/* Move what is in memory to a new spill file. On failure the memory stays
 * as it was (nothing of it is lost) and no file is kept. */
static int output_spill(struct output_buf *b)
{
	int fd = output_tmpfile(), r;

	if (fd < 0)
		return fd;
	b->fd = fd;
	b->flen = 0;
	r = output_file_write(b, b->mem, b->len);
	if (r < 0) {
		close(fd);
		b->fd = -1;
		b->flen = 0;
		return r;
	}
	output_in_mem -= b->cap;
	free(b->mem);
	b->mem = NULL;
	b->len = b->cap = 0;
	return 0;
}

/* n bytes could not be kept (error r): count them; the first error stays. */
static int output_lose(struct output_buf *b, size_t n, int r)
{
	b->lost += n;
	if (!b->lost_err)
		b->lost_err = -r;
	return r;
}

/* Append bytes, spilling when the buffer or the budget is full. After a
 * loss nothing more is kept, so what is kept is a whole prefix. */
int output_append(struct output_buf *b, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	b->total += n;
	if (b->lost_err)
		return output_lose(b, n, -b->lost_err);
	if (b->fd < 0 && b->len + n > b->cap) {
		size_t want = b->cap ? b->cap * 2 : 64;
		while (want < b->len + n)
			want *= 2;
		if (want > OUTPUT_MEM_MAX ||
		    output_in_mem - b->cap + want > output_budget) {
			int r = output_spill(b);
			if (r < 0)
				return output_lose(b, n, r);
		} else {
			char *m = realloc(b->mem, want);
			if (!m)
				return output_lose(b, n, -ENOMEM);
			output_in_mem += want - b->cap;
			b->mem = m;
			b->cap = want;
		}
	}
	if (b->fd >= 0) {
		uint64_t before = b->flen;
		int r = output_file_write(b, p, n);
		if (r < 0)
			return output_lose(b, n - (size_t)(b->flen - before), r);
		return 0;
	}
	memcpy(b->mem + b->len, p, n);
	b->len += n;
	return 0;
}

/* Bytes kept of those received. */
uint64_t output_kept(const struct output_buf *b)
{
	return b->total - b->lost;
}

/* Free the buffer's memory and spill file. */
void output_reset(struct output_buf *b)
{
	output_in_mem -= b->cap;
	free(b->mem);
	if (b->fd >= 0)
		close(b->fd);
	b->mem = NULL;
	b->len = b->cap = 0;
	b->fd = -1;
	b->total = b->flen = b->lost = 0;
	b->lost_err = 0;
}

/* Call fn on the buffer's bytes chunk by chunk (memory or spill file). */
int output_each(const struct output_buf *b,
		       int (*fn)(void *ctx, const char *p, size_t n), void *ctx)
{
	char chunk[65536];
	off_t off = 0;

	if (b->fd < 0)
		return b->len ? fn(ctx, b->mem, b->len) : 0;
	while ((uint64_t)off < b->flen) {
		ssize_t r = pread(b->fd, chunk, sizeof chunk, off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		int e = fn(ctx, chunk, (size_t)r);
		if (e < 0)
			return e;
		off += r;
	}
	return 0;
}

struct output_tagger {
	int fd;
	const char *tag;
	size_t taglen;
	int at_start;
};

/* Write a chunk, putting the tag at the start of every line. */
static int output_tag_chunk(void *ctx, const char *p, size_t n)
{
	struct output_tagger *t = ctx;

	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) + 1 : n;
		int r;
		if (t->at_start) {
			r = output_full_write(t->fd, t->tag, t->taglen);
			if (r < 0)
				return r;
		}
		r = output_full_write(t->fd, p, len);
		if (r < 0)
			return r;
		t->at_start = nl != NULL;
		p += len;
		n -= len;
	}
	return 0;
}

/* Write a chunk as it is. */
static int output_plain_chunk(void *ctx, const char *p, size_t n)
{
	return output_full_write(*(int *)ctx, p, n);
}

/* Copy a buffer out whole, tagged when tag is given. */
int output_write(const struct output_buf *b, int fd, const char *tag)
{
	if (tag) {
		struct output_tagger t = { fd, tag, strlen(tag), 1 };
		int r = output_each(b, output_tag_chunk, &t);
		if (r == 0 && !t.at_start)
			r = output_full_write(fd, "\n", 1);
		return r;
	}
	return output_each(b, output_plain_chunk, &fd);
}
