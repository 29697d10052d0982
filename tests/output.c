/* Unit tests for sched/cli/output: capture buffers that spill to a temp
 * file, writing them out whole and --tag'ged, and what is lost when a spill
 * file cannot be kept (JSON strings are tests/jsonx.c's). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched/cli/output.h"
#include "tests/tap.h"

/* Read everything written to a temp fd back into a malloc'd string. */
static char *slurp(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	char *s = malloc((size_t)end + 1);

	if (!s || pread(fd, s, (size_t)end, 0) != end)
		tap_bail("cannot read back");
	s[end] = 0;
	*len = (size_t)end;
	return s;
}

/* A fresh unlinked temp file. */
static int tmpfd(void)
{
	char p[] = "/tmp/nicely-output-test.XXXXXX";
	int fd = mkstemp(p);

	if (fd < 0)
		tap_bail("mkstemp");
	unlink(p);
	return fd;
}

/* Small output stays in memory; big output spills and comes back whole. */
static void test_spill(void)
{
	struct output_buf b = OUTPUT_BUF_INIT;
	char chunk[1000];
	size_t len;
	int fd = tmpfd();

	output_append(&b, "hello\n", 6);
	ok(b.fd < 0 && b.len == 6, "small output in memory");
	for (int i = 0; i < 200; i++) {
		memset(chunk, 'a' + i % 26, sizeof chunk);
		if (output_append(&b, chunk, sizeof chunk) < 0)
			tap_bail("append");
	}
	ok(b.fd >= 0 && b.mem == NULL, "past 64 KiB it spilled to a file");
	is_int(b.total, 6 + 200 * 1000, "total counted");
	output_write(&b, fd, NULL);
	char *s = slurp(fd, &len);
	is_int(len, 6 + 200 * 1000, "written whole");
	ok(!memcmp(s, "hello\n", 6) && s[6] == 'a' && s[6 + 1000] == 'b' &&
	   s[len - 1] == 'a' + 199 % 26, "in order");
	free(s);
	close(fd);
	output_reset(&b);
	ok(b.fd < 0 && b.total == 0, "reset frees it");

	/* a small budget makes even small buffers spill */
	output_set_budget(100);
	struct output_buf c = OUTPUT_BUF_INIT;
	memset(chunk, 'z', sizeof chunk);
	output_append(&c, chunk, 600);
	ok(c.fd >= 0, "past the batch budget a buffer spills at once");
	output_reset(&c);
	output_set_budget(32u * 1024 * 1024);
}

/* --tag: every line prefixed, a last line without newline ended. */
static void test_tag(void)
{
	struct output_buf b = OUTPUT_BUF_INIT;
	size_t len;
	int fd = tmpfd();

	output_append(&b, "one\ntw", 6);
	output_append(&b, "o\nthree", 7);
	output_write(&b, fd, "v\t");
	char *s = slurp(fd, &len);
	is_str(s, "v\tone\nv\ttwo\nv\tthree\n", "tagged lines");
	free(s);
	close(fd);
	output_reset(&b);
}

/* Run every group of checks; the exit status counts failures. */
/* No spill file (TMPDIR missing): what does not fit is counted as lost,
 * what is kept is a whole prefix, and a reset starts afresh. */
static void test_lost(void)
{
	struct output_buf b = OUTPUT_BUF_INIT;
	char chunk[1000];
	size_t len;
	int fd = tmpfd(), r = 0, first = -1;

	setenv("TMPDIR", "/nonexistent/nicely-output-test", 1);
	for (int i = 0; i < 100; i++) {
		memset(chunk, 'a' + i % 26, sizeof chunk);
		int e = output_append(&b, chunk, sizeof chunk);
		if (e < 0 && first < 0)
			first = i, r = e;
	}
	is_int(r, -ENOENT, "append says the bytes were lost, and why");
	is_int(b.lost_err, ENOENT, "the first error is kept");
	is_int(b.total, 100000, "every byte received is counted");
	is_int(output_kept(&b), (long long)first * 1000, "kept: the chunks before the first loss");
	is_int(b.lost + output_kept(&b), 100000, "lost + kept = received");
	output_write(&b, fd, NULL);
	char *s = slurp(fd, &len);
	is_int(len, output_kept(&b), "written: exactly what was kept");
	ok(len > 0 && s[0] == 'a' && s[len - 1] == 'a' + (first - 1) % 26,
	   "a whole prefix, no hole");
	free(s);
	close(fd);
	output_reset(&b);
	ok(b.lost == 0 && b.lost_err == 0 && b.total == 0, "reset clears the loss");
	unsetenv("TMPDIR");
}

int main(void)
{
	test_spill();
	test_lost();
	test_tag();
	return tap_done();
}
