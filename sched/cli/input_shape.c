/* sched/input_shape: records into tasks (see input_shape.h). Records are
 * copied into one pending buffer (a value's bytes, offsets per value, the
 * first value of each record), so a task can hold several and -X / -m can
 * look ahead; handed-out records are dropped from the front at the next
 * call. Memory follows one command line (-X / -m: at most max_len) or N
 * records. Called through sched/cli/input.c (loop or feed thread). */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/errmsg.h"
#include "sched/cli/input_shape.h"
#include "sched/cli/pipe.h"

struct input_shaper {
	struct input_shape sh;
	size_t nsrc;
	input_shaper_pull pull;
	struct input *in;
	regex_t re;
	int has_re;
	struct pipe_chunker *pipe;
	/* pending records */
	char *b;
	size_t blen, bcap;
	size_t *voff;		/* value starts in b */
	size_t nv, vcap;
	size_t *rec;		/* first value of each record */
	size_t nr, rcap;
	size_t given;		/* records handed out, dropped next call */
	int eof, spread_done;
	const char **out;	/* the task's value pointers */
	size_t ocap;
	/* -X / -m: a command's length is base + each record's own part +
	 * sep between records, summed as records are added (linear, not a
	 * walk of the whole command per record) */
	int have_len;
	size_t base, sep;
	unsigned long long nread; /* records read, for messages */
};

/* Grow an array of size_t to hold one more. */
static int shape_more(size_t **a, size_t *cap, size_t n)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 64;
	size_t *na = realloc(*a, nc * sizeof *na);

	if (!na)
		return -ENOMEM;
	*a = na;
	*cap = nc;
	return 0;
}

/* Append one value (n bytes of s) to the pending buffer. */
static int shape_add_value(struct input_shaper *s, const char *v, size_t n)
{
	if (s->blen + n + 1 > s->bcap) {
		size_t nc = s->bcap ? s->bcap : 4096;
		char *nb;

		while (nc < s->blen + n + 1)
			nc *= 2;
		if (!(nb = realloc(s->b, nc)))
			return -ENOMEM;
		s->b = nb;
		s->bcap = nc;
	}
	if (shape_more(&s->voff, &s->vcap, s->nv) < 0)
		return -ENOMEM;
	s->voff[s->nv++] = s->blen;
	memcpy(s->b + s->blen, v, n);
	s->b[s->blen + n] = '\0';
	s->blen += n + 1;
	return 0;
}

/* Append a column trimmed of blanks at both ends (GNU's --trim rl). */
static int shape_add_column(struct input_shaper *s, const char *v, size_t n)
{
	while (n && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return shape_add_value(s, v, n);
}

/* Split one value at the --colsep regex into columns. */
static int shape_split(struct input_shaper *s, const char *v)
{
	const char *p = v;
	regmatch_t m;
	int e;

	for (;;) {
		if (regexec(&s->re, p, 1, &m, p == v ? 0 : REG_NOTBOL) ||
		    m.rm_eo == 0) {
			/* no more separators (an empty match would loop) */
			return shape_add_column(s, p, strlen(p));
		}
		e = shape_add_column(s, p, (size_t)m.rm_so);
		if (e < 0)
			return e;
		p += m.rm_eo;
	}
}

/* Read one more record into the pending buffer: 1, 0 at the end, -errno. */
static int shape_pull(struct input_shaper *s, char *err, size_t errlen)
{
	const char *const *vals;
	const char *path;
	int r;

	if (s->eof)
		return 0;
	if (shape_more(&s->rec, &s->rcap, s->nr) < 0)
		goto nomem;
	if (s->pipe) {
		r = pipe_chunker_next(s->pipe, &path, err, errlen);
		if (r <= 0) {
			s->eof = 1;
			return r;
		}
		s->rec[s->nr++] = s->nv;
		if (shape_add_value(s, path, strlen(path)) < 0)
			goto nomem;
		return 1;
	}
	r = s->pull(s->in, &vals, err, errlen);
	if (r <= 0) {
		s->eof = 1;
		return r;
	}
	s->nread++;
	s->rec[s->nr++] = s->nv;
	for (size_t i = 0; i < s->nsrc; i++) {
		int e = s->has_re ? shape_split(s, vals[i])
				  : shape_add_value(s, vals[i],
						    strlen(vals[i]));
		if (e < 0)
			goto nomem;
	}
	return 1;
nomem:
	errmsg_set(err, errlen, "out of memory reading the input");
	return -ENOMEM;
}

/* Drop the records handed out last time from the front. */
static void shape_drop_given(struct input_shaper *s)
{
	size_t v0, b0;

	if (s->given == 0)
		return;
	v0 = s->given < s->nr ? s->rec[s->given] : s->nv;
	b0 = v0 < s->nv ? s->voff[v0] : s->blen;
	memmove(s->b, s->b + b0, s->blen - b0);
	s->blen -= b0;
	for (size_t i = v0; i < s->nv; i++)
		s->voff[i - v0] = s->voff[i] - b0;
	s->nv -= v0;
	for (size_t i = s->given; i < s->nr; i++)
		s->rec[i - s->given] = s->rec[i] - v0;
	s->nr -= s->given;
	s->given = 0;
}

/* Values of records [0, k) as pointers in s->out; their count. */
static size_t shape_values(struct input_shaper *s, size_t k)
{
	size_t nv = k < s->nr ? s->rec[k] : s->nv;

	for (size_t i = 0; i < nv; i++)
		s->out[i] = s->b + s->voff[i];
	return nv;
}

/* The pointer array sized for the pending values. */
static int shape_out_room(struct input_shaper *s)
{
	if (2 * s->nv + 1 <= s->ocap)
		return 0;
	size_t nc = 2 * s->nv + 64;
	const char **no = realloc(s->out, nc * sizeof *no);

	if (!no)
		return -ENOMEM;
	s->out = no;
	s->ocap = nc;
	return 0;
}

/* The length of the command for records [0, k). */
static size_t shape_len(struct input_shaper *s, size_t k)
{
	size_t n = shape_values(s, k);

	return s->sh.len(s->sh.len_ctx, s->out, n);
}

/* The length record r adds to a command (its values, and its words'
 * copies under context replacement), without the separator. The first
 * time, also the command's length without values and the separator, from
 * the record alone and twice (a positional {n} makes that an
 * overestimate: a line then holds fewer, never too many). */
static size_t shape_rec_len(struct input_shaper *s, size_t r)
{
	size_t v0 = s->rec[r], v1 = r + 1 < s->nr ? s->rec[r + 1] : s->nv;
	size_t w = v1 - v0, one;

	for (size_t i = 0; i < w; i++)
		s->out[i] = s->out[w + i] = s->b + s->voff[v0 + i];
	one = s->sh.len(s->sh.len_ctx, s->out, w);
	if (!s->have_len) {
		size_t two = s->sh.len(s->sh.len_ctx, s->out, 2 * w);

		s->base = s->sh.len(s->sh.len_ctx, s->out, 0);
		s->sep = two + s->base > 2 * one ? two + s->base - 2 * one : 0;
		s->have_len = 1;
	}
	return one > s->base ? one - s->base : 0;
}

/* The next task (see input_shape.h). */
int input_shaper_next(struct input_shaper *s, const char *const **values,
		      size_t *n, char *err, size_t errlen)
{
	size_t take = 0, want, len = 0;
	int r;

	shape_drop_given(s);
	want = s->sh.max_args < 0 ? 1 : s->sh.max_args == 0 ? 1
		: (size_t)s->sh.max_args;
	for (;;) {
		if (!s->sh.fill && take >= want)
			break;
		if (s->sh.fill && s->sh.max_args > 0 && take >= want)
			break;
		if (take >= s->nr) {
			r = shape_pull(s, err, errlen);
			if (r < 0)
				return r;
			if (r == 0)
				break;
		}
		if (shape_out_room(s) < 0) {
			errmsg_set(err, errlen, "out of memory");
			return -ENOMEM;
		}
		size_t add = s->sh.fill ? shape_rec_len(s, take) : 0;
		if (s->sh.fill && take == 0)
			len = s->base;
		if (s->sh.fill && take > 0)
			add += s->sep;
		if (s->sh.fill && len + add >= s->sh.max_len) {
			if (take > 0)
				break;
			errmsg_set(err, errlen, "command line too long (%zu "
				   ">= %zu) at input %llu: %.50s%s",
				   shape_len(s, 1), s->sh.max_len,
				   s->nread - s->nr + 1, s->b,
				   strlen(s->b) > 50 ? "..." : "");
			return -E2BIG;
		}
		len += add;
		take++;
	}
	if (take == 0)
		return 0;
	if (s->sh.fill && !s->spread_done && s->eof && take == s->nr) {
		/* the first command that holds the rest of the input shares
		 * it out over the slots, and later ones hold as many (GNU's
		 * populate) */
		s->spread_done = 1;
		if (take > 1 && s->sh.spread > 1) {
			s->sh.max_args = (long)((take +
						 (size_t)s->sh.spread - 1) /
						(size_t)s->sh.spread);
			take = (size_t)s->sh.max_args;
		}
	}
	if (shape_out_room(s) < 0) {
		errmsg_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*n = s->sh.max_args == 0 ? 0 : shape_values(s, take);
	*values = s->out;
	s->given = take;
	return 1;
}

/* Turn Perl's escapes in a --colsep into POSIX extended syntax. */
static char *shape_translate(const char *re)
{
	static const struct {
		char c;
		const char *posix;
	} esc[] = {
		{ 't', "\t" }, { 'n', "\n" }, { 's', "[[:space:]]" },
		{ 'S', "[^[:space:]]" }, { 'd', "[0-9]" }, { 'D', "[^0-9]" },
		{ 'w', "[[:alnum:]_]" }, { 'W', "[^[:alnum:]_]" },
	};
	size_t n = strlen(re);
	char *out = malloc(n * 12 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (re[i] != '\\' || i + 1 == n) {
			*o++ = re[i];
			continue;
		}
		for (k = 0; k < sizeof esc / sizeof esc[0]; k++)
			if (esc[k].c == re[i + 1])
				break;
		if (k < sizeof esc / sizeof esc[0]) {
			o += sprintf(o, "%s", esc[k].posix);
		} else {
			*o++ = re[i];
			*o++ = re[i + 1];
		}
		i++;
	}
	*o = '\0';
	return out;
}

/* Compile a --colsep regex into re. */
static int shape_compile(regex_t *re, const char *src, char *err,
			 size_t errlen)
{
	char *t = shape_translate(src);
	char msg[256];
	int e;

	if (!t) {
		errmsg_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	e = regcomp(re, t, REG_EXTENDED);
	free(t);
	if (e) {
		regerror(e, re, msg, sizeof msg);
		errmsg_set(err, errlen, "--colsep: '%s' is not a regular "
			   "expression: %s", src, msg);
		return -EINVAL;
	}
	return 0;
}

/* Check a --colsep regex (see input_shape.h). */
int input_colsep_check(const char *re, char *err, size_t errlen)
{
	regex_t r;
	int e = shape_compile(&r, re, err, errlen);

	if (e == 0)
		regfree(&r);
	return e;
}

/* A new shaper (see input_shape.h). */
int input_shaper_new(struct input_shaper **out, const struct input_shape *sh,
		     size_t nsrc, input_shaper_pull pull, struct input *in,
		     int fd, char *err, size_t errlen)
{
	struct input_shaper *s = calloc(1, sizeof *s);
	int e;

	if (!s) {
		errmsg_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->sh = *sh;
	s->nsrc = nsrc;
	s->pull = pull;
	s->in = in;
	if (sh->colsep) {
		e = shape_compile(&s->re, sh->colsep, err, errlen);
		if (e < 0) {
			free(s);
			return e;
		}
		s->has_re = 1;
	}
	if (sh->pipe) {
		if (fd < 0) {
			errmsg_set(err, errlen, "--pipe reads standard input "
				   "or one -a file");
			input_shaper_free(s);
			return -EINVAL;
		}
		if (pipe_chunker_new(&s->pipe, fd, sh->block, sh->recstart,
				     sh->recend, sh->spool_dir) < 0) {
			errmsg_set(err, errlen, "out of memory");
			input_shaper_free(s);
			return -ENOMEM;
		}
	}
	if (sh->fill && !sh->len) {
		errmsg_set(err, errlen, "-X / -m without a length function");
		input_shaper_free(s);
		return -EINVAL;
	}
	*out = s;
	return 0;
}

/* Free the shaper; NULL is fine. */
void input_shaper_free(struct input_shaper *s)
{
	if (!s)
		return;
	if (s->has_re)
		regfree(&s->re);
	pipe_chunker_free(s->pipe);
	free(s->b);
	free(s->voff);
	free(s->rec);
	free(s->out);
	free(s);
}
