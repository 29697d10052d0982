/* sched/input: a batch's values from `:::` groups, files and stdin, as the
 * cross product of the sources with the last varying fastest. The first
 * source is the outer loop and is streamed through one buffer that holds
 * the longest line seen (64 KiB to start); the other sources are read whole
 * at open. Called by the CLI's `run` loop in the parent. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/errmsg.h"
#include "sched/cli/input.h"
#include "sched/cli/input_shape.h"

#define INPUT_BUF_START (64 * 1024)
/* A regular first file up to this size is counted at open for input_total. */
#define INPUT_PRECOUNT_MAX (64LL * 1024 * 1024)

struct input_src {
	char *name;		/* for messages: the path, or "standard input" */
	/* in memory: `:::` values or a whole file */
	char **vals;
	size_t nvals;
	char *block;		/* the strings vals point into */
	/* streamed (the first source, a file or stdin) */
	int streamed;
	int fd, own_fd;
	char *buf;
	size_t cap, start, end;
	int eof;
	unsigned long long line;	/* lines handed out so far */
	char *fix;		/* the last line with its NULs as "\\0" */
	size_t fixcap;
};

struct input {
	struct input_src *src;
	size_t n;
	size_t *idx;		/* odometer over sources 1..n-1 */
	const char **cur;
	int started, done;
	long long first_count;	/* the first source's values, -1 unknown */
	long long rest;		/* product of the other sources' counts */
	int error;		/* -errno the input ended with, 0 none */
	char errmsg[512];	/* ... and its message */
	struct input_shaper *shaper;	/* --colsep, -N, -X, -m, --pipe */
	size_t nlast;		/* values in the task input_next gave last */
};

/* Double a streamed source's buffer. Returns 0 or -ENOMEM. */
static int input_grow(struct input_src *s)
{
	char *nb = realloc(s->buf, s->cap * 2);

	if (!nb)
		return -ENOMEM;
	s->buf = nb;
	s->cap *= 2;
	return 0;
}

/* Read more bytes into a streamed source's buffer, growing it only when
 * one line fills it. Returns bytes read, 0 at EOF, -errno on error. */
static ssize_t input_fill(struct input_src *s)
{
	ssize_t r;

	if (s->start > 0) {
		memmove(s->buf, s->buf + s->start, s->end - s->start);
		s->end -= s->start;
		s->start = 0;
	}
	if (s->end == s->cap && input_grow(s) < 0)
		return -ENOMEM;
	do
		r = read(s->fd, s->buf + s->end, s->cap - s->end);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	s->end += (size_t)r;
	return r;
}

/* A NUL byte in a line (not its first byte) becomes the two characters
 * "\0", with GNU parallel's warning: no argv can hold the byte. A line
 * starting with NUL is the empty value (GNU's exec cuts it there too).
 * *line then points into s->fix. 0 or -ENOMEM. */
static int input_nul_fix(struct input_src *s, const char **line, size_t len)
{
	const char *l = *line;
	size_t nuls = 0, o = 0;
	char *z = memchr(l, '\0', len);

	if (!z || z == l)
		return 0;
	for (size_t i = 0; i < len; i++)
		nuls += l[i] == '\0';
	if (s->fixcap < len + nuls + 1) {
		char *nb = realloc(s->fix, len + nuls + 1);

		if (!nb)
			return -ENOMEM;
		s->fix = nb;
		s->fixcap = len + nuls + 1;
	}
	for (size_t i = 0; i < len; i++) {
		if (l[i] == '\0') {
			s->fix[o++] = '\\';
			s->fix[o++] = '0';
		} else {
			s->fix[o++] = l[i];
		}
	}
	s->fix[o] = '\0';
	*line = s->fix;
	fprintf(stderr, "nicely run: Warning: A NUL character in the input "
		"was replaced with \\0.\nnicely run: Warning: NUL cannot be "
		"passed through in the argument list.\n");
	return 0;
}

/* The next line of a streamed source, NUL-terminated in its buffer.
 * Returns 1 with *line, 0 at EOF, -errno with err naming file:line. */
static int input_stream_line(struct input_src *s, const char **line,
			     char *err, size_t errlen)
{
	size_t scanned = 0;

	for (;;) {
		char *nl = memchr(s->buf + s->start + scanned, '\n',
				  s->end - s->start - scanned);
		size_t len;
		ssize_t r;

		if (nl || (s->eof && s->end > s->start)) {
			len = nl ? (size_t)(nl - (s->buf + s->start)) :
				   s->end - s->start;
			if (!nl) {	/* last line without "\n": make room */
				if (s->end == s->cap && input_grow(s) < 0) {
					errmsg_set(err, errlen, "%s:%llu: %s",
						   s->name, s->line + 1,
						   strerror(ENOMEM));
					return -ENOMEM;
				}
			}
			s->buf[s->start + len] = '\0';
			*line = s->buf + s->start;
			if (input_nul_fix(s, line, len) < 0) {
				errmsg_set(err, errlen, "%s:%llu: %s",
					   s->name, s->line + 1,
					   strerror(ENOMEM));
				return -ENOMEM;
			}
			s->start += len + (nl ? 1 : 0);
			if (!nl)
				s->start = s->end;
			s->line++;
			return 1;
		}
		if (s->eof)
			return 0;
		scanned = s->end - s->start;
		r = input_fill(s);
		if (r < 0) {
			errmsg_set(err, errlen, "%s:%llu: read error: %s",
				   s->name, s->line + 1, strerror((int)-r));
			return (int)r;
		}
		if (r == 0)
			s->eof = 1;
	}
}

/* Count the lines of a regular file without keeping them (for the total);
 * -1 when it is not a regular file, too big, or unreadable. */
static long long input_precount(int fd)
{
	struct stat st;
	char buf[65536];
	long long lines = 0;
	off_t off = lseek(fd, 0, SEEK_CUR);
	ssize_t r;
	int last = '\n';

	if (off < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size - off > INPUT_PRECOUNT_MAX)
		return -1;
	while ((r = pread(fd, buf, sizeof buf, off)) > 0) {
		for (ssize_t i = 0; i < r; i++)
			lines += buf[i] == '\n';
		last = (unsigned char)buf[r - 1];
		off += r;
	}
	if (r < 0)
		return -1;
	return lines + (last != '\n');
}

/* Refuse at open what can never be read as lines: a directory, a
 * descriptor not open for reading (stdin closed, or write-only). */
static int input_check_fd(struct input_src *s, char *err, size_t errlen)
{
	struct stat st;
	int fl = fcntl(s->fd, F_GETFL);

	if (fl < 0 || (fl & O_ACCMODE) == O_WRONLY) {
		errmsg_set(err, errlen, "%s is not open for reading", s->name);
		return -EBADF;
	}
	if (fstat(s->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		errmsg_set(err, errlen, "%s is a directory, not a file of "
			   "values", s->name);
		return -EISDIR;
	}
	return 0;
}

/* Open a file or stdin for a source; fills fd and name. */
static int input_open_fd(struct input_src *s, const char *path, char *err,
			 size_t errlen)
{
	if (!path || !strcmp(path, "-")) {
		s->name = strdup("standard input");
		s->fd = STDIN_FILENO;
		s->own_fd = 0;
	} else {
		s->name = strdup(path);
		s->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (s->fd < 0) {
			int e = errno;

			errmsg_set(err, errlen, "cannot open input file %s: %s",
				   path, strerror(e));
			return -e;
		}
		s->own_fd = 1;
	}
	if (!s->name) {
		errmsg_set(err, errlen, "out of memory opening the input");
		return -ENOMEM;
	}
	return input_check_fd(s, err, errlen);
}

/* Read a whole source into vals (a later source of the product). */
static int input_read_whole(struct input_src *s, char *err, size_t errlen)
{
	const char *line;
	size_t total = 0, used = 0, capv = 0;
	size_t *offs = NULL;
	char *block = NULL;
	int r;

	s->cap = INPUT_BUF_START;
	s->buf = malloc(s->cap);
	if (!s->buf)
		goto nomem;
	while ((r = input_stream_line(s, &line, err, errlen)) == 1) {
		size_t l = strlen(line) + 1;

		if (s->nvals == capv) {
			size_t *no;

			capv = capv ? capv * 2 : 64;
			no = realloc(offs, capv * sizeof *offs);
			if (!no)
				goto nomem;
			offs = no;
		}
		if (used + l > total) {
			char *nb;

			while (used + l > total)
				total = total ? total * 2 : 4096;
			nb = realloc(block, total);
			if (!nb)
				goto nomem;
			block = nb;
		}
		memcpy(block + used, line, l);
		offs[s->nvals++] = used;
		used += l;
	}
	if (r < 0)
		goto fail;
	s->vals = malloc((s->nvals ? s->nvals : 1) * sizeof *s->vals);
	if (!s->vals)
		goto nomem;
	for (size_t i = 0; i < s->nvals; i++)
		s->vals[i] = block + offs[i];
	s->block = block;
	free(offs);
	free(s->buf);
	s->buf = NULL;
	return 0;
nomem:
	errmsg_set(err, errlen, "out of memory reading %s", s->name);
	r = -ENOMEM;
fail:
	free(offs);
	free(block);
	return r;
}

/* Copy `:::` values into one block. */
static int input_copy_args(struct input_src *s, char *const *args, size_t n)
{
	size_t total = 0, off = 0;

	for (size_t i = 0; i < n; i++)
		total += strlen(args[i]) + 1;
	s->name = strdup(":::");
	s->block = malloc(total ? total : 1);
	s->vals = malloc((n ? n : 1) * sizeof *s->vals);
	if (!s->name || !s->block || !s->vals)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(args[i]) + 1;

		memcpy(s->block + off, args[i], l);
		s->vals[i] = s->block + off;
		off += l;
	}
	s->nvals = n;
	return 0;
}

/* Open every source: copy the values, open the files, read the later ones. */
int input_open(struct input **out, const struct input_source *src, size_t n,
	       char *err, size_t errlen)
{
	struct input *in;
	int r = -ENOMEM;

	*out = NULL;
	if (n == 0) {
		errmsg_set(err, errlen, "no input source");
		return -EINVAL;
	}
	in = calloc(1, sizeof *in);
	if (!in)
		goto nomem;
	in->n = n;
	in->src = calloc(n, sizeof *in->src);
	in->idx = calloc(n, sizeof *in->idx);
	in->cur = calloc(n, sizeof *in->cur);
	if (!in->src || !in->idx || !in->cur)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		in->src[i].fd = -1;
	in->first_count = -1;
	in->rest = 1;
	for (size_t i = 0; i < n; i++) {
		struct input_src *s = &in->src[i];

		switch (src[i].kind) {
		case INPUT_ARGS:
			if (input_copy_args(s, src[i].args, src[i].nargs) < 0)
				goto nomem;
			break;
		case INPUT_FILE:
		case INPUT_STDIN:
			r = input_open_fd(s, src[i].kind == INPUT_FILE ?
					  src[i].path : NULL, err, errlen);
			if (r < 0)
				goto fail;
			if (i == 0) {
				s->streamed = 1;
				s->cap = INPUT_BUF_START;
				s->buf = malloc(s->cap);
				if (!s->buf)
					goto nomem;
				in->first_count = src[i].raw ? -1 :
					input_precount(s->fd);
				break;
			}
			r = input_read_whole(s, err, errlen);
			if (r < 0)
				goto fail;
			break;
		default:
			errmsg_set(err, errlen, "input source %zu: unknown kind %d",
				   i + 1, (int)src[i].kind);
			r = -EINVAL;
			goto fail;
		}
		if (i == 0 && !s->streamed)
			in->first_count = (long long)s->nvals;
		if (i > 0)
			in->rest *= (long long)s->nvals;
	}
	*out = in;
	return 0;
nomem:
	errmsg_set(err, errlen, "out of memory opening the input");
	r = -ENOMEM;
fail:
	input_free(in);
	return r;
}

/* Close what was opened and free everything; NULL is fine. */
void input_free(struct input *in)
{
	if (!in)
		return;
	for (size_t i = 0; in->src && i < in->n; i++) {
		struct input_src *s = &in->src[i];

		if (s->own_fd && s->fd >= 0)
			close(s->fd);
		free(s->name);
		free(s->vals);
		free(s->block);
		free(s->buf);
		free(s->fix);
	}
	free(in->src);
	free(in->idx);
	free(in->cur);
	input_shaper_free(in->shaper);
	free(in);
}

/* How many sources, so values per task. */
size_t input_nsources(const struct input *in)
{
	return in->n;
}

/* Step the first source: the next value into cur[0]. */
static int input_next_first(struct input *in, char *err, size_t errlen)
{
	struct input_src *s = &in->src[0];
	int r;

	if (!s->streamed) {
		if (in->idx[0] >= s->nvals)
			return 0;
		in->cur[0] = s->vals[in->idx[0]++];
		return 1;
	}
	r = input_stream_line(s, &in->cur[0], err, errlen);
	if (r == 0)
		in->first_count = (long long)s->line;
	return r;
}

/* The next record of the cross product: step the odometer, last fastest. */
static int input_next_record(struct input *in, const char *const **values,
			     char *err, size_t errlen)
{
	size_t i;
	int r;

	if (in->done)
		return 0;
	if (in->rest == 0) {		/* a later source is empty */
		in->done = 1;
		return 0;
	}
	/* advance the odometer over sources 1..n-1, last fastest */
	for (i = in->n - 1; in->started && i > 0; i--) {
		if (++in->idx[i] < in->src[i].nvals)
			break;
		in->idx[i] = 0;
	}
	if (!in->started || i == 0) {
		r = input_next_first(in, err, errlen);
		if (r <= 0) {
			in->done = 1;
			if (r < 0) {
				in->error = r;
				snprintf(in->errmsg, sizeof in->errmsg, "%s",
					 err);
			}
			return r;
		}
		in->started = 1;
	}
	for (i = 1; i < in->n; i++)
		in->cur[i] = in->src[i].vals[in->idx[i]];
	*values = in->cur;
	return 1;
}

/* The next task: a record as it is, or shaped (sched/cli/input_shape.c). */
int input_next(struct input *in, const char *const **values, char *err,
	       size_t errlen)
{
	int r;

	if (in->shaper) {
		r = input_shaper_next(in->shaper, values, &in->nlast, err,
				      errlen);
		if (r < 0 && !in->error) {
			in->error = r;
			snprintf(in->errmsg, sizeof in->errmsg, "%s", err);
		}
		return r;
	}
	in->nlast = in->n;
	return input_next_record(in, values, err, errlen);
}

/* Values in the task input_next gave last. */
size_t input_nvalues(const struct input *in)
{
	return in->nlast;
}

/* Shape the tasks (see input.h); the shaper pulls records through
 * input_next_record. */
int input_shape(struct input *in, const struct input_shape *sh, char *err,
		size_t errlen)
{
	struct input_shaper *s;
	int r;

	r = input_shaper_new(&s, sh, in->n, input_next_record, in,
			     input_stream_fd(in), err, errlen);
	if (r < 0)
		return r;
	input_shaper_free(in->shaper);
	in->shaper = s;
	return 0;
}

/* The first source's fd when it is streamed (--pipe reads it), else -1. */
int input_stream_fd(const struct input *in)
{
	return in->n && in->src[0].streamed ? in->src[0].fd : -1;
}

/* Tasks in the whole batch if known, else -1. */
long long input_total(const struct input *in)
{
	if (in->shaper)
		return -1;
	if (in->rest == 0)
		return 0;
	if (in->first_count < 0)
		return -1;
	return in->first_count * in->rest;
}

/* The error the input ended with, 0 when none (yet). */
int input_error(const struct input *in, const char **msg)
{
	if (msg)
		*msg = in->errmsg;
	return in->error;
}
