/* Tests for sched/progress: the pure formatting (percentage, counts, ETA,
 * unknown totals, durations, the bar cut to the width) and the writer:
 * nothing on a non-terminal unless forced, throttled redraws with "\r",
 * blanking of a longer previous line, the final newline, and the width of
 * a real pseudo-terminal. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "sched/progress.h"
#include "tests/tap.h"

/* Format st at width and return a static copy. */
static const char *fmt(const struct progress_state *st, int width)
{
	static char buf[512];
	size_t n = progress_format(buf, sizeof buf, st, width);

	if (n != strlen(buf))
		tap_diag("returned length %zu != %zu", n, strlen(buf));
	return buf;
}

/* Durations in the two largest units. */
static void test_duration(void)
{
	char b[32];

	progress_format_duration(b, sizeof b, 45.2);
	is_str(b, "45s", "seconds");
	progress_format_duration(b, sizeof b, 187);
	is_str(b, "3m07s", "minutes");
	progress_format_duration(b, sizeof b, 7500);
	is_str(b, "2h05m", "hours");
	progress_format_duration(b, sizeof b, 3 * 86400 + 4 * 3600 + 5);
	is_str(b, "3d04h", "days");
	progress_format_duration(b, sizeof b, -1);
	is_str(b, "?", "unknown");
	progress_format_duration(b, sizeof b, 59.6);
	is_str(b, "1m00s", "rounding to a minute");
	is_int(progress_format_duration(b, 3, 187), 2, "cut to the buffer");
	is_str(b, "3m", "cut text");
}

/* The finish rate in at most 5 characters. */
static void test_rate(void)
{
	struct progress_state st = { .done = 1, .elapsed = 4 };
	char b[16];

	progress_format_rate(b, sizeof b, &st);
	is_str(b, "0.25", "rate below 10: two decimals");
	st.done = 123;
	st.elapsed = 10;
	progress_format_rate(b, sizeof b, &st);
	is_str(b, "12.3", "below 100: one");
	st.done = 8500;
	progress_format_rate(b, sizeof b, &st);
	is_str(b, "850", "below 10000: none");
	st.done = 120000;
	progress_format_rate(b, sizeof b, &st);
	is_str(b, "12k", "thousands");
	st.done = 30000000;
	progress_format_rate(b, sizeof b, &st);
	is_str(b, "3M", "millions");
	st.done = 0;
	progress_format_rate(b, sizeof b, &st);
	is_str(b, "?", "unknown before the first finish");
}

/* ETA from the mean finish rate, and when it is unknown. */
static void test_eta(void)
{
	struct progress_state st = { .done = 450, .total = 1000, .elapsed = 45 };

	is_near(progress_eta(&st), 55.0, 1e-9, "ETA from the mean rate");
	st.done = 0;
	is_near(progress_eta(&st), -1, 0, "unknown before the first finish");
	st.done = 10;
	st.total = -1;
	is_near(progress_eta(&st), -1, 0, "unknown without a total");
	st.total = 10;
	is_near(progress_eta(&st), 0, 0, "zero when all done");
}

/* The bar line at various widths and states. */
static void test_format(void)
{
	struct progress_state st = { .done = 450, .failed = 3, .running = 2,
				     .total = 1000, .elapsed = 45 };
	const char *text = " 45% 450/1000, 10.0/s, 2 running, 3 failed, "
			   "ETA 55s";
	const char *s;
	char want[128];
	size_t bar, hashes = 0;

	s = fmt(&st, 80);
	is_int(strlen(s), 79, "fills the width but the last column");
	ok(s[0] == '[', "a bar first");
	/* room for the numbers at their widest: 100% 1000/1000, 9999k/s,
	 * 1000 running, 1000 failed, ETA 00h00m */
	bar = 79 - strlen("100% 1000/1000, 9999k/s, 1000 running, 1000 "
			  "failed, ETA 00h00m") - 3;
	snprintf(want, sizeof want, "] %s", text);
	ok(strlen(s) > bar + 1 && !strncmp(s + bar + 1, want, strlen(want)) &&
		   strspn(s + bar + 1 + strlen(want), " ") ==
			   strlen(s + bar + 1 + strlen(want)),
	   "then the numbers, blank-padded: %s", s);
	for (size_t i = 1; i <= bar; i++)
		hashes += s[i] == '#';
	is_int(hashes, bar * 45 / 100, "45%% of the bar filled");
	{
		/* the bar keeps its width as the counts and the ETA grow */
		struct progress_state a = { .done = 0, .total = 1000 };
		struct progress_state b = { .done = 999, .failed = 999,
					    .running = 1, .total = 1000,
					    .elapsed = 3 * 3600 };
		char sa[128];
		size_t wa, wb;

		snprintf(sa, sizeof sa, "%s", fmt(&a, 80));
		wa = strchr(sa, ']') - sa;
		s = fmt(&b, 80);
		wb = strchr(s, ']') - s;
		is_int(wa, bar + 1, "bar width at 0%%: %s", sa);
		is_int(wb, wa, "the same bar width at 99%% with more to show: %s",
		       s);
		is_int(strlen(s), strlen(sa), "and the same line length");
	}
	s = fmt(&st, 200);
	is_int(strlen(s), 199, "wide terminal: longer bar");

	s = fmt(&st, 72);
	is_str(s, text, "no room for a bar: the numbers alone");
	s = fmt(&st, 30);
	is_int(strlen(s), 29, "narrow: cut to width-1");
	ok(!strncmp(s, text, 29), "cut, not garbled");
	s = fmt(&st, 5);
	is_int(strlen(s), 19, "below 20 columns counts as 20");

	st.total = -1;
	s = fmt(&st, 80);
	is_str(s, "450 done, 10.0/s, 2 running, 3 failed, 45s elapsed",
	       "unknown total: counts and elapsed, no bar");
	st.total = 0;
	st.done = 0;
	s = fmt(&st, 46);
	ok(!strncmp(s, "100% 0/0", 8), "empty batch is 100%%: %s", s);
	st.total = 1000;
	st.done = 1000;
	st.running = 0;
	s = fmt(&st, 80);
	{
		const char *end = strchr(s, ']');

		ok(s[1] == '#' && end && end[-1] == '#' &&
			   !memchr(s, '.', (size_t)(end - s)),
		   "full bar at 100%%: %s", s);
	}
	ok(strstr(s, "ETA 0s") != NULL, "ETA 0s at the end");
	{
		char tiny[8];

		is_int(progress_format(tiny, sizeof tiny, &st, 80), 7,
		       "a small buffer is respected");
		is_int(strlen(tiny), 7, "and terminated");
	}
}

/* Read what is available on fd (non-blocking) into buf. */
static size_t drain(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t r;

	while (got + 1 < len && (r = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	return got;
}

/* How many times c occurs in s. */
static int count_char(const char *s, char c)
{
	int n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

/* The writer on a pipe: forcing, throttling, blanking, final newline. */
static void test_writer_pipe(void)
{
	struct progress_state st = { .done = 1, .total = 4, .running = 1,
				     .elapsed = 1 };
	struct progress *p;
	char out[4096];
	int fd[2];

	if (pipe2(fd, O_NONBLOCK) != 0)
		tap_bail("pipe");
	ok(progress_new(fd[1], 0) == NULL, "no bar on a pipe unless forced");
	p = progress_new(fd[1], 1);
	ok(p != NULL, "forced bar on a pipe");
	setenv("COLUMNS", "70", 1);
	progress_update(p, &st, 100.0);
	st.done = 2;
	progress_update(p, &st, 100.05);	/* too soon: skipped */
	drain(fd[0], out, sizeof out);
	is_int(count_char(out, '\r'), 1, "second update within 0.1 s skipped");
	ok(strstr(out, " 25% 1/4") != NULL, "first state drawn: %s", out);
	is_int(strlen(out), 70, "\\r + 69 columns from $COLUMNS");
	progress_update(p, &st, 100.2);
	drain(fd[0], out, sizeof out);
	ok(out[0] == '\r' && strstr(out, " 50% 2/4"), "redrawn after 0.1 s");
	setenv("COLUMNS", "30", 1);	/* shrinks: blanks cover the rest */
	st.done = 3;
	progress_update(p, &st, 100.4);
	drain(fd[0], out, sizeof out);
	is_int(strlen(out), 70, "a shorter line is padded over the old one");
	ok(out[69] == ' ' && out[30] == ' ' && out[28] != ' ',
	   "29 columns of text (the last a blank here), then blanks");
	st.done = 4;
	st.running = 0;
	progress_finish(p, &st);
	drain(fd[0], out, sizeof out);
	ok(out[0] == '\r' && out[strlen(out) - 1] == '\n' &&
		   strstr(out, "100% 4/4"),
	   "finish draws the end state and a newline");
	progress_update(NULL, &st, 0);
	progress_finish(NULL, &st);
	ok(1, "NULL bar is a no-op");
	unsetenv("COLUMNS");
	close(fd[0]);
	close(fd[1]);
}

/* The writer on a real pseudo-terminal uses its width. */
static void test_writer_pty(void)
{
	struct progress_state st = { .done = 1, .total = 2, .elapsed = 1 };
	struct winsize ws = { .ws_col = 70, .ws_row = 20 };
	struct progress *p;
	char out[4096];
	int m, s;
	size_t n;

	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0) {
		ok(1, "# SKIP no pseudo-terminal");
		if (m >= 0)
			close(m);
		return;
	}
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	if (s < 0) {
		ok(1, "# SKIP cannot open the pty slave");
		close(m);
		return;
	}
	ioctl(s, TIOCSWINSZ, &ws);
	{
		int fl = fcntl(m, F_GETFL);

		fcntl(m, F_SETFL, fl | O_NONBLOCK);
	}
	setenv("COLUMNS", "120", 1);	/* the terminal's own width wins */
	p = progress_new(s, 0);
	ok(p != NULL, "a bar on a terminal");
	progress_finish(p, &st);
	usleep(50000);
	n = drain(m, out, sizeof out);
	/* the tty turns "\n" into "\r\n" */
	ok(n >= 2 && out[0] == '\r' && !strcmp(out + n - 2, "\r\n"),
	   "drawn with \\r, ended with a newline");
	is_int(n, 1 + 69 + 2, "69 columns on a 70-column terminal");
	ok(out[1] == '[', "with a bar");
	unsetenv("COLUMNS");
	close(s);
	close(m);
}

/* Run every group of tests. */
int main(void)
{
	test_duration();
	test_rate();
	test_eta();
	test_format();
	test_writer_pipe();
	test_writer_pty();
	return tap_done();
}
