/* sched/pipe: --pipe's chunks. A buffer is topped up to the next multiple
 * of the block size, then cut after the last record end (recend followed
 * by recstart) in it, as GNU parallel's spreadstdin does; what follows the
 * cut starts the next chunk. A buffer with no record end grows by another
 * block. At the end of the input what is left is the last chunk. Runs in
 * the feed thread or the loop (through sched/cli/input_shape.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "agent/errmsg.h"
#include "sched/cli/pipe.h"

struct pipe_chunker {
	int fd;
	size_t block;
	char *sep;		/* recend + recstart */
	size_t seplen, endlen;	/* ... and where in it the cut falls */
	char *buf;
	size_t len, cap;
	int eof;
	unsigned long long n;	/* chunks written */
	char dir[4096];
	char path[4200];
};

/* A new chunker (see pipe.h). */
int pipe_chunker_new(struct pipe_chunker **out, int fd, size_t block,
		     const char *recstart, const char *recend,
		     const char *dir)
{
	struct pipe_chunker *p = calloc(1, sizeof *p);
	size_t sl, el;

	if (!recend)
		recend = recstart ? "" : "\n";
	if (!recstart)
		recstart = "";
	el = strlen(recend);
	sl = strlen(recstart);
	if (!p || !(p->sep = malloc(el + sl + 1))) {
		free(p);
		return -ENOMEM;
	}
	memcpy(p->sep, recend, el);
	memcpy(p->sep + el, recstart, sl + 1);
	p->seplen = el + sl;
	p->endlen = el;
	p->fd = fd;
	p->block = block ? block : 1;
	snprintf(p->dir, sizeof p->dir, "%s", dir);
	*out = p;
	return 0;
}

/* Free the chunker (its files stay: each task's belongs to the task). */
void pipe_chunker_free(struct pipe_chunker *p)
{
	if (!p)
		return;
	free(p->sep);
	free(p->buf);
	free(p);
}

/* Top the buffer up to the next multiple of the block size (or EOF). */
static int pipe_read_block(struct pipe_chunker *p)
{
	size_t want = p->block - p->len % p->block;

	if (p->len + want > p->cap) {
		size_t nc = p->len + want;
		char *nb = realloc(p->buf, nc);

		if (!nb)
			return -ENOMEM;
		p->buf = nb;
		p->cap = nc;
	}
	while (want > 0) {
		ssize_t r = read(p->fd, p->buf + p->len, want);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0) {
			p->eof = 1;
			break;
		}
		p->len += (size_t)r;
		want -= (size_t)r;
	}
	return 0;
}

/* Where the last record ends in the buffer (after recend), 0 for none. */
static size_t pipe_find_cut(const struct pipe_chunker *p)
{
	if (p->seplen == 0 || p->len < p->seplen)
		return 0;
	for (size_t i = p->len - p->seplen + 1; i-- > 0;) {
		if (!memcmp(p->buf + i, p->sep, p->seplen))
			return i + p->endlen > 0 ? i + p->endlen : 0;
	}
	return 0;
}

/* Write buf[0..n) to the next chunk file. */
static int pipe_write_chunk(struct pipe_chunker *p, size_t n, char *err,
			    size_t errlen)
{
	int fd;
	size_t off = 0;

	snprintf(p->path, sizeof p->path, "%s/chunk.%llu", p->dir, ++p->n);
	fd = open(p->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		int e = -errno;
		errmsg_set(err, errlen, "--pipe: %s: %s", p->path,
			   strerror(-e));
		return e;
	}
	while (off < n) {
		ssize_t w = write(fd, p->buf + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = -errno;
			errmsg_set(err, errlen, "--pipe: %s: %s", p->path,
				   strerror(-e));
			close(fd);
			unlink(p->path);
			return e;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0) {
		int e = -errno;
		errmsg_set(err, errlen, "--pipe: %s: %s", p->path,
			   strerror(-e));
		unlink(p->path);
		return e;
	}
	memmove(p->buf, p->buf + n, p->len - n);
	p->len -= n;
	return 0;
}

/* The next chunk (see pipe.h). */
int pipe_chunker_next(struct pipe_chunker *p, const char **path, char *err,
		      size_t errlen)
{
	for (;;) {
		size_t cut;
		int e;

		if (!p->eof) {
			e = pipe_read_block(p);
			if (e < 0) {
				errmsg_set(err, errlen, "--pipe: standard "
					   "input: read error: %s",
					   strerror(-e));
				return e;
			}
		}
		if (p->eof) {
			if (p->len == 0)
				return 0;
			cut = p->len;
		} else {
			cut = pipe_find_cut(p);
			if (cut == 0)
				continue;	/* no record end yet: more */
		}
		e = pipe_write_chunk(p, cut, err, errlen);
		if (e < 0)
			return e;
		*path = p->path;
		return 1;
	}
}

/* Parse a --block size (see pipe.h). */
int pipe_parse_size(const char *s, size_t *out)
{
	static const struct {
		const char *u;
		double mul;
	} units[] = {
		{ "", 1 },	  { "K", 1024.0 },	 { "M", 1048576.0 },
		{ "G", 1073741824.0 }, { "Ki", 1024.0 }, { "Mi", 1048576.0 },
		{ "Gi", 1073741824.0 }, { "ki", 1024.0 }, { "mi", 1048576.0 },
		{ "gi", 1073741824.0 }, { "k", 1e3 }, { "m", 1e6 },
		{ "g", 1e9 },
	};
	char *end;
	double v;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(end, units[i].u))
			continue;
		v *= units[i].mul;
		if (!(v >= 1) || v > 1073741824.0)
			return -1;
		*out = (size_t)v;
		return 0;
	}
	return -1;
}

/* Make the batch's spool directory (see pipe.h). */
int pipe_spool_make(char *path, size_t len, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if ((size_t)snprintf(path, len, "%s/nicely-pipe.XXXXXX", tmp) >= len) {
		errmsg_set(err, errlen, "--pipe: $TMPDIR is too long");
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(path)) {
		int e = -errno;
		errmsg_set(err, errlen, "--pipe: cannot make a directory for "
			   "the chunks in %s: %s", tmp, strerror(-e));
		return e;
	}
	return 0;
}

/* Remove the spool directory and the chunk files left in it. */
void pipe_spool_remove(const char *path)
{
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	if (dfd < 0)
		return;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "chunk.", 6))
			unlinkat(dfd, de->d_name, 0);
	closedir(d);
	rmdir(path);
}
