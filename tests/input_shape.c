/* Tests for sched/input_shape and sched/pipe: --colsep columns (trimmed,
 * empty and Perl-escaped separators, a bad regex named), -N grouping with
 * a short last task and -N 0, -X/-m fill against a length function and the
 * spread of a short input over the slots (GNU's populate), and --pipe's
 * chunks (block multiples, --recend/--recstart, a record longer than the
 * block, empty input) and --block sizes. Temp files are removed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched/cli/input.h"
#include "sched/cli/input_shape.h"
#include "sched/cli/pipe.h"
#include "tests/tap.h"

static char tmpdir[] = "/tmp/nicely-shape-XXXXXX";

/* Tasks of in as "v1,v2 v1 ..." (values joined by ",", tasks by " "). */
static int drain(struct input *in, char *out, size_t outlen)
{
	const char *const *v;
	char err[256];
	size_t used = 0;
	int r, count = 0;

	out[0] = '\0';
	while ((r = input_next(in, &v, err, sizeof err)) == 1) {
		used += (size_t)snprintf(out + used, outlen - used, "%s[",
					 count ? " " : "");
		for (size_t i = 0; i < input_nvalues(in); i++)
			used += (size_t)snprintf(out + used, outlen - used,
						 "%s%s", i ? "," : "", v[i]);
		used += (size_t)snprintf(out + used, outlen - used, "]");
		count++;
	}
	return r < 0 ? r : count;
}

/* The shaped tasks of ::: values. */
static int shaped(char **vals, size_t n, const struct input_shape *sh,
		  char *out, size_t outlen)
{
	struct input_source src = { .kind = INPUT_ARGS, .args = vals,
				    .nargs = n };
	struct input *in;
	char err[256];
	int r;

	if (input_open(&in, &src, 1, err, sizeof err) < 0)
		tap_bail("input_open");
	if (input_shape(in, sh, err, sizeof err) < 0) {
		snprintf(out, outlen, "%s", err);
		input_free(in);
		return -1;
	}
	r = drain(in, out, outlen);
	input_free(in);
	return r;
}

/* A command's length: the values' lengths plus a space each. */
static size_t fake_len(void *ctx, const char *const *v, size_t n)
{
	size_t len = 4;

	(void)ctx;
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	return len;
}

static void test_colsep(void)
{
	char *v[] = { " a , b ", "c,,d,", "e" };
	struct input_shape sh = INPUT_SHAPE_INIT;
	char out[512], err[256];

	sh.colsep = ",";
	is_int(shaped(v, 3, &sh, out, sizeof out), 3, "colsep: 3 tasks");
	is_str(out, "[a,b] [c,,d,] [e]",
	       "colsep: trimmed columns, empty ones kept, one without");
	sh.colsep = "\\s+";
	char *w[] = { "x  y\tz" };
	shaped(w, 1, &sh, out, sizeof out);
	is_str(out, "[x,y,z]", "colsep \\s+: Perl's class");
	sh.colsep = "[";
	is_int(shaped(w, 1, &sh, out, sizeof out), -1, "colsep '[': refused");
	ok(strstr(out, "--colsep: '[' is not a regular expression") != NULL,
	   "colsep '[': the message names it (%s)", out);
	is_int(input_colsep_check("a|b", err, sizeof err), 0,
	       "colsep check: a|b is fine");
}

static void test_group(void)
{
	char *v[] = { "a", "b", "c", "d", "e" };
	struct input_shape sh = INPUT_SHAPE_INIT;
	char out[512];

	sh.max_args = 2;
	is_int(shaped(v, 5, &sh, out, sizeof out), 3, "-N2: 3 tasks of 5");
	is_str(out, "[a,b] [c,d] [e]", "-N2: the last one short");
	sh.max_args = 0;
	shaped(v, 2, &sh, out, sizeof out);
	is_str(out, "[] []", "-N0: one task per value, none inserted");
}

static void test_fill(void)
{
	char *v[] = { "aa", "bb", "cc", "dd", "ee", "ff", "gg" };
	struct input_shape sh = INPUT_SHAPE_INIT;
	char out[512];

	sh.fill = 1;
	sh.len = fake_len;
	sh.max_len = 14;	/* 4 + 3 values of 3: 13 < 14 */
	sh.spread = 1;
	shaped(v, 7, &sh, out, sizeof out);
	is_str(out, "[aa,bb,cc] [dd,ee,ff] [gg]", "-X: as many as fit");
	sh.max_len = 100;
	sh.spread = 3;
	shaped(v, 7, &sh, out, sizeof out);
	is_str(out, "[aa,bb,cc] [dd,ee,ff] [gg]",
	       "-X -j3: a short input spread, ceil(7/3) a task");
	sh.max_len = 14;
	sh.spread = 2;
	shaped(v, 7, &sh, out, sizeof out);
	is_str(out, "[aa,bb,cc] [dd,ee,ff] [gg]",
	       "-X -j2: the command reaching the end spreads what it holds");
	char *w[] = { "aa", "bb", "cc", "dd", "ee" };
	sh.max_len = 14;
	shaped(w, 5, &sh, out, sizeof out);
	is_str(out, "[aa,bb,cc] [dd] [ee]",
	       "-X -j2: the last full line's two values split 1 + 1");
	char *big[] = { "0123456789abcdef" };
	is_int(shaped(big, 1, &sh, out, sizeof out), -E2BIG,
	       "-X: one value longer than the line is an error");
}

/* The chunks --pipe cuts from data, as "chunk|chunk|". */
static int chunks(const char *data, size_t block, const char *rs,
		  const char *re, char *out, size_t outlen)
{
	char path[512], err[256], buf[256];
	struct pipe_chunker *p;
	const char *cp;
	size_t used = 0;
	int fd, r, n = 0;

	snprintf(path, sizeof path, "%s/in", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data) ||
	    lseek(fd, 0, SEEK_SET) != 0)
		tap_bail("fixture");
	if (pipe_chunker_new(&p, fd, block, rs, re, tmpdir) < 0)
		tap_bail("pipe_chunker_new");
	out[0] = '\0';
	while ((r = pipe_chunker_next(p, &cp, err, sizeof err)) == 1) {
		int cfd = open(cp, O_RDONLY);
		ssize_t got = cfd < 0 ? -1 : read(cfd, buf, sizeof buf - 1);

		if (got < 0)
			tap_bail("chunk");
		buf[got] = '\0';
		close(cfd);
		unlink(cp);
		used += (size_t)snprintf(out + used, outlen - used, "%s|", buf);
		n++;
	}
	pipe_chunker_free(p);
	close(fd);
	unlink(path);
	return r < 0 ? r : n;
}

static void test_pipe(void)
{
	char out[512];
	size_t sz;

	chunks("1\n2\n3\n4\n5\n", 4, NULL, NULL, out, sizeof out);
	is_str(out, "1\n2\n|3\n4\n|5\n|", "--block 4: cut at the last line end");
	chunks("aaaaaaaaaa\nb\n", 3, NULL, NULL, out, sizeof out);
	is_str(out, "aaaaaaaaaa\n|b\n|", "a record longer than the block");
	chunks("a;b;c;d;", 3, NULL, ";", out, sizeof out);
	is_str(out, "a;|b;|c;|d;|", "--recend ';'");
	chunks(">a\nx\n>b\ny\n>c\n", 6, ">", "", out, sizeof out);
	is_str(out, ">a\nx\n|>b\ny\n|>c\n|", "--recstart '>' --recend ''");
	chunks("x\n>a\n>b\n", 5, ">", NULL, out, sizeof out);
	is_str(out, "x\n|>a\n|>b\n|",
	       "--recstart alone: no end string, cut before each start");
	is_int(chunks("", 4, NULL, NULL, out, sizeof out), 0,
	       "empty input: no chunk");
	ok(pipe_parse_size("1M", &sz) == 0 && sz == 1048576, "--block 1M");
	ok(pipe_parse_size("10k", &sz) == 0 && sz == 10000, "--block 10k");
	ok(pipe_parse_size("2Ki", &sz) == 0 && sz == 2048, "--block 2Ki");
	ok(pipe_parse_size("garbage", &sz) < 0, "--block garbage refused");
	ok(pipe_parse_size("0", &sz) < 0, "--block 0 refused");
	ok(pipe_parse_size("2G", &sz) < 0, "--block 2G refused (over 1G)");
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		tap_bail("mkdtemp");
	test_colsep();
	test_group();
	test_fill();
	test_pipe();
	rmdir(tmpdir);
	return tap_done();
}
