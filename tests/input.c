/* Tests for sched/input: `:::` groups and their cross product (last source
 * fastest), -a files (empty lines, "\r", no final newline, a long line),
 * stdin through a pipe, errors naming the file and line (a NUL byte, a
 * directory or a stdin not open for reading refused at open where that
 * can be known, mid-stream otherwise), and 1,000,000
 * lines streamed from a file and from a pipe with bounded memory (VmRSS
 * growth from /proc/self/status). Temp files are removed, children reaped. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched/cli/input.h"
#include "tests/proc_status.h"
#include "tests/tap.h"

#define NBIG 1000000

static char tmpdir[] = "/tmp/nicely-input-XXXXXX";

/* Write data to a new file in the temp dir; returns its path (static). */
static const char *write_file(const char *name, const char *data, size_t len)
{
	static char path[4][512];
	static int k;
	char *p = path[k++ % 4];
	FILE *f;

	snprintf(p, 512, "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		tap_bail("cannot write a fixture file");
	return p;
}

/* Read every task, joining each task's values with "," and tasks with " ". */
static int drain(struct input *in, char *out, size_t outlen, char *err,
		 size_t errlen)
{
	const char *const *v;
	size_t used = 0;
	int r, count = 0;

	out[0] = '\0';
	while ((r = input_next(in, &v, err, errlen)) == 1) {
		for (size_t i = 0; i < input_nsources(in); i++)
			used += (size_t)snprintf(out + used, outlen - used, "%s%s",
						 i ? "," : (count ? " " : ""),
						 v[i]);
		count++;
	}
	return r < 0 ? r : count;
}

/* ::: groups: cross product order and totals. */
static void test_args(void)
{
	char *a[] = { "a", "b" }, *b[] = { "1", "2", "3" }, *c[] = { "x", "y" };
	struct input_source src[] = {
		{ .kind = INPUT_ARGS, .args = a, .nargs = 2 },
		{ .kind = INPUT_ARGS, .args = b, .nargs = 3 },
		{ .kind = INPUT_ARGS, .args = c, .nargs = 2 },
	};
	struct input *in;
	char out[1024], err[256];

	is_int(input_open(&in, src, 2, err, sizeof err), 0, "two ::: groups");
	is_int(input_nsources(in), 2, "two sources");
	is_int(input_total(in), 6, "total 2x3");
	is_int(drain(in, out, sizeof out, err, sizeof err), 6, "six tasks");
	is_str(out, "a,1 a,2 a,3 b,1 b,2 b,3", "last source varies fastest");
	input_free(in);

	is_int(input_open(&in, src, 3, err, sizeof err), 0, "three groups");
	is_int(input_total(in), 12, "total 2x3x2");
	is_int(drain(in, out, sizeof out, err, sizeof err), 12, "twelve tasks");
	is_str(out, "a,1,x a,1,y a,2,x a,2,y a,3,x a,3,y "
		    "b,1,x b,1,y b,2,x b,2,y b,3,x b,3,y", "odometer order");
	input_free(in);

	src[1].nargs = 0;
	is_int(input_open(&in, src, 2, err, sizeof err), 0, "empty group");
	is_int(input_total(in), 0, "an empty group makes no task");
	is_int(drain(in, out, sizeof out, err, sizeof err), 0, "no task");
	input_free(in);
	is_int(input_open(&in, src, 0, err, sizeof err), -EINVAL,
	       "no source is an error");
}

/* -a files: line rules, file x file, ::: x file. */
static void test_files(void)
{
	const char *f1 = write_file("one", "p\n\nq\r\nlast", 10);
	const char *f2 = write_file("two", "1\n2\n", 4);
	struct input_source src[2] = {
		{ .kind = INPUT_FILE, .path = f1 },
		{ .kind = INPUT_FILE, .path = f2 },
	};
	char *args[] = { "A", "B" };
	struct input *in;
	const char *const *v;
	char out[1024], err[256];

	is_int(input_open(&in, src, 1, err, sizeof err), 0, "-a file");
	is_int(input_total(in), 4, "a regular file's lines counted at open");
	ok(input_next(in, &v, err, sizeof err) == 1 && !strcmp(v[0], "p"),
	   "first line");
	ok(input_next(in, &v, err, sizeof err) == 1 && !strcmp(v[0], ""),
	   "an empty line is an empty value");
	ok(input_next(in, &v, err, sizeof err) == 1 && !strcmp(v[0], "q\r"),
	   "\\r before \\n is kept");
	ok(input_next(in, &v, err, sizeof err) == 1 && !strcmp(v[0], "last"),
	   "a last line without \\n is a value");
	is_int(input_next(in, &v, err, sizeof err), 0, "end");
	is_int(input_next(in, &v, err, sizeof err), 0, "still the end");
	input_free(in);

	is_int(input_open(&in, src, 2, err, sizeof err), 0, "two files");
	is_int(input_total(in), 8, "total 4x2");
	is_int(drain(in, out, sizeof out, err, sizeof err), 8, "eight tasks");
	is_str(out, "p,1 p,2 ,1 ,2 q\r,1 q\r,2 last,1 last,2",
	       "file x file, second read whole");
	input_free(in);

	src[0] = (struct input_source){ .kind = INPUT_ARGS, .args = args,
					.nargs = 2 };
	is_int(input_open(&in, src, 2, err, sizeof err), 0, "::: then -a");
	is_int(drain(in, out, sizeof out, err, sizeof err), 4, "four tasks");
	is_str(out, "A,1 A,2 B,1 B,2", "::: x file");
	input_free(in);
}

/* Missing file, NUL byte, unreadable file: errors naming file:line. */
static void test_errors(void)
{
	char missing[600], err[512];
	struct input_source src = { .kind = INPUT_FILE, .path = missing };
	struct input *in = (struct input *)1;
	const char *nul = write_file("nul", "ok\nbad\0x\n", 9);
	int r;

	snprintf(missing, sizeof missing, "%s/no-such-file", tmpdir);
	is_int(input_open(&in, &src, 1, err, sizeof err), -ENOENT,
	       "a missing file is an error");
	ok(in == NULL, "no input on error");
	ok(strstr(err, missing) != NULL, "the error names the file: %s", err);

	/* a NUL byte in a line becomes the two characters \0, as GNU
	 * parallel's (with its warning on stderr): no argv can hold it */
	src.path = nul;
	is_int(input_open(&in, &src, 1, err, sizeof err), 0,
	       "a regular file with a NUL byte opens");
	{
		const char *const *v;

		is_int(input_next(in, &v, err, sizeof err), 1, "line 1");
		is_str(v[0], "ok", "... as it is");
		is_int(input_next(in, &v, err, sizeof err), 1, "line 2");
		is_str(v[0], "bad\\0x", "... its NUL written \\0");
		is_int(input_next(in, &v, err, sizeof err), 0, "the end");
		input_free(in);
	}

	/* a directory is refused at open, first source or later */
	src.path = tmpdir;
	is_int(input_open(&in, &src, 1, err, sizeof err), -EISDIR,
	       "a directory as the first source fails at open");
	ok(strstr(err, tmpdir) != NULL && strstr(err, "is a directory"),
	   "naming it: %s", err);

	/* stdin: a directory, closed, write-only: refused at open */
	{
		struct input_source sin = { .kind = INPUT_STDIN };
		int saved = dup(0), fd = open(tmpdir, O_RDONLY | O_DIRECTORY);

		dup2(fd, 0);
		close(fd);
		is_int(input_open(&in, &sin, 1, err, sizeof err), -EISDIR,
		       "a directory on stdin fails at open");
		ok(strstr(err, "standard input is a directory") != NULL,
		   "saying so: %s", err);
		close(0);
		is_int(input_open(&in, &sin, 1, err, sizeof err), -EBADF,
		       "a closed stdin fails at open");
		fd = open(write_file("wo", "x\n", 2), O_WRONLY);
		dup2(fd, 0);
		close(fd);
		is_int(input_open(&in, &sin, 1, err, sizeof err), -EBADF,
		       "a write-only stdin fails at open");
		ok(strstr(err, "not open for reading") != NULL, "saying so: %s",
		   err);
		dup2(saved, 0);
		close(saved);
	}
	/* a later source is read at open: its read error comes from open */
	{
		char *a[] = { "x" };
		struct input_source two[] = {
			{ .kind = INPUT_ARGS, .args = a, .nargs = 1 },
			{ .kind = INPUT_FILE, .path = tmpdir },
		};

		r = input_open(&in, two, 2, err, sizeof err);
		is_int(r, -EISDIR, "a later unreadable source fails at open");
		ok(strstr(err, tmpdir) != NULL, "naming it: %s", err);
	}
}

/* Lines longer than the buffer, and one filling it exactly. */
static void test_long_line(void)
{
	size_t n = 300000;
	char *data = malloc(n + 8);
	struct input_source src;
	struct input *in;
	const char *const *v;
	char err[256];

	memset(data, 'z', n);
	memcpy(data + n, "\nend", 4);
	src = (struct input_source){ .kind = INPUT_FILE,
				     .path = write_file("long", data, n + 4) };
	is_int(input_open(&in, &src, 1, err, sizeof err), 0, "open long");
	ok(input_next(in, &v, err, sizeof err) == 1 && strlen(v[0]) == n &&
		   v[0][n - 1] == 'z',
	   "a 300 KB line arrives whole");
	ok(input_next(in, &v, err, sizeof err) == 1 && !strcmp(v[0], "end"),
	   "and the next line after it");
	input_free(in);
	free(data);
	/* exactly the buffer's size, without a final newline */
	data = malloc(65536);
	memset(data, 'y', 65536);
	src.path = write_file("exact", data, 65536);
	is_int(input_open(&in, &src, 1, err, sizeof err), 0, "open exact");
	ok(input_next(in, &v, err, sizeof err) == 1 && strlen(v[0]) == 65536,
	   "a last line filling the buffer exactly");
	input_free(in);
	free(data);
}

/* Start a child writing n numbered lines to a pipe that becomes our stdin.
 * Returns the child's pid; *saved is our old stdin. */
static pid_t pipe_stdin(long n, int *saved)
{
	int p[2];
	pid_t pid;

	if (pipe(p) != 0)
		tap_bail("pipe");
	pid = fork();
	if (pid < 0)
		tap_bail("fork");
	if (pid == 0) {
		FILE *f;

		close(p[0]);
		f = fdopen(p[1], "w");
		for (long i = 1; f && i <= n; i++)
			fprintf(f, "line %ld\n", i);
		_exit(f && fclose(f) == 0 ? 0 : 1);
	}
	close(p[1]);
	*saved = dup(STDIN_FILENO);
	dup2(p[0], STDIN_FILENO);
	close(p[0]);
	return pid;
}

/* Put stdin back and reap the writer; returns its exit status. */
static int restore_stdin(pid_t pid, int saved)
{
	int st = -1;

	dup2(saved, STDIN_FILENO);
	close(saved);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Standard input through a pipe, and "-" as a path. */
static void test_stdin(void)
{
	struct input_source src[2] = { { .kind = INPUT_STDIN } };
	char *b[] = { "u", "v" };
	struct input *in;
	const char *const *v;
	char out[1024], err[256];
	int saved;
	pid_t pid = pipe_stdin(3, &saved);

	src[1] = (struct input_source){ .kind = INPUT_ARGS, .args = b,
					.nargs = 2 };
	is_int(input_open(&in, src, 2, err, sizeof err), 0, "stdin + :::");
	is_int(input_total(in), -1, "a pipe's total is unknown at first");
	is_int(drain(in, out, sizeof out, err, sizeof err), 6, "six tasks");
	is_str(out, "line 1,u line 1,v line 2,u line 2,v line 3,u line 3,v",
	       "stdin through a pipe, crossed with :::");
	is_int(input_total(in), 6, "the total is known at the end");
	ok(input_next(in, &v, err, sizeof err) == 0, "end stays the end");
	input_free(in);
	is_int(restore_stdin(pid, saved), 0, "writer exited cleanly");

	/* "-" as a file path is stdin too */
	pid = pipe_stdin(2, &saved);
	src[0] = (struct input_source){ .kind = INPUT_FILE, .path = "-" };
	is_int(input_open(&in, src, 1, err, sizeof err), 0, "-a -");
	is_int(drain(in, out, sizeof out, err, sizeof err), 2, "two tasks");
	is_str(out, "line 1 line 2", "-a - reads stdin");
	input_free(in);
	is_int(restore_stdin(pid, saved), 0, "writer exited cleanly");
}

/* A NUL byte mid-stream: GNU parallel's \0 in its place (the rest of the
 * line kept), a line starting with NUL the empty value, no error. */
static void test_nul_stream(void)
{
	struct input_source src = { .kind = INPUT_STDIN };
	struct input *in;
	const char *const *v;
	const char *msg = NULL;
	char err[256];
	int fds[2], saved = dup(0);
	pid_t pid;

	if (pipe(fds) < 0)
		tap_bail("pipe");
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		ssize_t w = write(fds[1], "ok\nbad\0x\0\nlater\n\0z\n", 19);
		_exit(w == 19 ? 0 : 1);
	}
	close(fds[1]);
	dup2(fds[0], 0);
	close(fds[0]);
	is_int(input_open(&in, &src, 1, err, sizeof err), 0, "open the pipe");
	is_int(input_error(in, &msg), 0, "no error yet");
	is_int(input_next(in, &v, err, sizeof err), 1, "line 1 is a value");
	is_str(v[0], "ok", "... ok");
	is_int(input_next(in, &v, err, sizeof err), 1, "line 2");
	is_str(v[0], "bad\\0x\\0", "... each NUL written \\0");
	is_int(input_next(in, &v, err, sizeof err), 1, "line 3");
	is_str(v[0], "later", "... after it, as it is");
	is_int(input_next(in, &v, err, sizeof err), 1, "line 4");
	is_str(v[0], "", "... starting with NUL: empty, as GNU's exec");
	is_int(input_next(in, &v, err, sizeof err), 0, "the end");
	is_int(input_error(in, &msg), 0, "no input error");
	input_free(in);
	dup2(saved, 0);
	close(saved);
	waitpid(pid, NULL, 0);
}

/* Stream n lines, checking each and the peak RSS growth; returns growth. */
static long stream_check(struct input *in, long n, const char *what)
{
	const char *const *v;
	char err[256], want[32];
	long before = proc_status_kb("VmRSS"), peak = before, got = 0, bad = 0;
	int r;

	while ((r = input_next(in, &v, err, sizeof err)) == 1) {
		got++;
		if (got % 1000 == 1) {	/* spot-check the content */
			snprintf(want, sizeof want, "line %ld", got);
			bad += strcmp(v[0], want) != 0;
		}
		if (got % 100000 == 0) {
			long now = proc_status_kb("VmRSS");

			if (now > peak)
				peak = now;
		}
	}
	is_int(r, 0, "%s: no error", what);
	is_int(got, n, "%s: every line", what);
	is_int(bad, 0, "%s: lines in order", what);
	tap_diag("%s: VmRSS %ld kB before, peak %ld kB", what, before, peak);
	return peak - before;
}

/* 10^6 lines from a file and from a pipe in bounded memory. */
static void test_big(void)
{
	char path[600], err[256];
	struct input_source src = { .kind = INPUT_FILE, .path = path };
	struct input *in;
	FILE *f;
	int saved;
	pid_t pid;

	snprintf(path, sizeof path, "%s/big", tmpdir);
	f = fopen(path, "w");
	if (!f)
		tap_bail("cannot write the big file");
	for (long i = 1; i <= NBIG; i++)
		fprintf(f, "line %ld\n", i);
	if (fclose(f) != 0)
		tap_bail("cannot write the big file");
	is_int(input_open(&in, &src, 1, err, sizeof err), 0, "open 10^6 lines");
	is_int(input_total(in), NBIG, "total counted");
	ok(stream_check(in, NBIG, "file") < 1024,
	   "10^6 lines from a file: RSS grows < 1 MiB");
	input_free(in);
	unlink(path);

	pid = pipe_stdin(NBIG, &saved);
	src = (struct input_source){ .kind = INPUT_STDIN };
	is_int(input_open(&in, &src, 1, err, sizeof err), 0, "open pipe");
	ok(stream_check(in, NBIG, "pipe") < 1024,
	   "10^6 lines from a pipe: RSS grows < 1 MiB");
	is_int(input_total(in), NBIG, "total known at the end");
	input_free(in);
	is_int(restore_stdin(pid, saved), 0, "writer exited cleanly");
}

/* Remove the temp dir and what is in it. */
static void cleanup(void)
{
	static const char *const names[] = { "one", "two", "nul", "long",
					     "exact", "big" };
	char p[600];

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

/* Run every group of tests in a fresh temp dir. */
int main(void)
{
	if (!mkdtemp(tmpdir))
		tap_bail("mkdtemp");
	atexit(cleanup);
	signal(SIGPIPE, SIG_IGN);
	test_args();
	test_files();
	test_errors();
	test_long_line();
	test_stdin();
	test_nul_stream();
	test_big();
	return tap_done();
}
