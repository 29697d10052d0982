/* sched/wire: byte buffers and frame parsing for libnicely's pipes. Used by
 * the parent (pool_*.c, non-blocking fds, inside nicely_step) and by workers
 * (worker.c, blocking fds). No allocation beyond the buffers themselves. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched/lib/wire.h"

/* Make room for n more bytes after len. */
int wire_buf_reserve(struct wire_buf *b, size_t n)
{
	size_t need = b->len + n, cap = b->cap ? b->cap : 4096;
	char *p;

	if (need <= b->cap)
		return 0;
	if (b->off && b->len - b->off + n <= b->cap) {
		wire_buf_compact(b);
		return 0;
	}
	while (cap < need)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Append n bytes. */
int wire_buf_put(struct wire_buf *b, const void *p, size_t n)
{
	if (!n)
		return 0;
	if (wire_buf_reserve(b, n))
		return -ENOMEM;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/* Append a header and two body pieces (either may be empty). */
int wire_buf_frame(struct wire_buf *b, uint32_t type, const void *a,
		   size_t alen, const void *c, size_t clen)
{
	struct wire_hdr h = { type, (uint32_t)(alen + clen) };

	if (alen + clen > WIRE_MAX_BODY)
		return -E2BIG;
	if (wire_buf_reserve(b, sizeof h + alen + clen))
		return -ENOMEM;
	wire_buf_put(b, &h, sizeof h);
	wire_buf_put(b, a, alen);
	wire_buf_put(b, c, clen);
	return 0;
}

/* Move the unconsumed bytes to the front. */
void wire_buf_compact(struct wire_buf *b)
{
	if (!b->off)
		return;
	memmove(b->p, b->p + b->off, b->len - b->off);
	b->len -= b->off;
	b->off = 0;
}

/* Release the memory and reset to empty. */
void wire_buf_free(struct wire_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* One read(2) of up to max bytes. */
ssize_t wire_buf_read(struct wire_buf *b, int fd, size_t max)
{
	ssize_t n;

	if (b->off == b->len)
		b->off = b->len = 0;
	else if (b->off > b->cap / 2)
		wire_buf_compact(b);
	if (b->cap - b->len < max && wire_buf_reserve(b, max))
		return -ENOMEM;
	do
		n = read(fd, b->p + b->len, b->cap - b->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	b->len += (size_t)n;
	return n;
}

/* Write what is pending; 1 when the fd would block with bytes left. */
int wire_buf_flush(struct wire_buf *b, int fd)
{
	while (b->off < b->len) {
		ssize_t n = write(fd, b->p + b->off, b->len - b->off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -errno;
		}
		b->off += (size_t)n;
	}
	b->off = b->len = 0;
	return 0;
}

/* The next whole frame, if any. */
int wire_next(struct wire_buf *b, struct wire_hdr *hdr, const char **body)
{
	size_t avail = b->len - b->off;

	if (avail < sizeof *hdr)
		return 0;
	memcpy(hdr, b->p + b->off, sizeof *hdr);
	if (hdr->len > WIRE_MAX_BODY + 4096)
		return -EBADMSG;
	if (avail - sizeof *hdr < hdr->len)
		return 0;
	*body = b->p + b->off + sizeof *hdr;
	b->off += sizeof *hdr + hdr->len;
	return 1;
}

/* Blocking write of everything. */
int wire_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}
