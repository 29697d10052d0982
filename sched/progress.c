/* sched/progress: the progress bar line (nicely run --bar, libnicely's
 * options.progress). progress_format and friends are pure
 * (state in, text out); struct progress owns the terminal side: the width,
 * redraws throttled to 10 per second with "\r" and blanking of what the
 * last draw left, and the final newline. Called by the loop that draws
 * it (the CLI's run loop, a libnicely pool's turn). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "sched/progress.h"

#define PROGRESS_MIN_WIDTH 20
#define PROGRESS_MIN_BAR 10
#define PROGRESS_INTERVAL 0.1

struct progress {
	int fd;
	int drawn;		/* at least one draw happened */
	double last;		/* time of the last draw */
	size_t prev_len;	/* columns the last draw used */
};

/* Seconds left: tasks left times the mean time per finished task. */
double progress_eta(const struct progress_state *st)
{
	double left;

	if (st->total < 0 || st->done == 0 || st->elapsed <= 0)
		return -1;
	if ((long long)st->done >= st->total)
		return 0;
	left = (double)((unsigned long long)st->total - st->done);
	return left * st->elapsed / (double)st->done;
}

/* A duration in the two largest units. */
size_t progress_format_duration(char *buf, size_t len, double seconds)
{
	unsigned long long s;
	int n;

	if (seconds < 0)
		n = snprintf(buf, len, "?");
	else if ((s = (unsigned long long)(seconds + 0.5)) < 60)
		n = snprintf(buf, len, "%llus", s);
	else if (s < 3600)
		n = snprintf(buf, len, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		n = snprintf(buf, len, "%lluh%02llum", s / 3600, s % 3600 / 60);
	else
		n = snprintf(buf, len, "%llud%02lluh", s / 86400,
			     s % 86400 / 3600);
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : (len ? len - 1 : 0);
}

/* Tasks finished per second, in at most 5 characters ("0.25", "12.3",
 * "850", "12k", "3M"); "?" before the first finish. */
size_t progress_format_rate(char *buf, size_t len, const struct progress_state *st)
{
	double r = st->elapsed > 0 ? (double)st->done / st->elapsed : -1;
	int n;

	if (r < 0 || !st->done)
		n = snprintf(buf, len, "?");
	else if (r < 9.995)
		n = snprintf(buf, len, "%.2f", r);
	else if (r < 99.95)
		n = snprintf(buf, len, "%.1f", r);
	else if (r < 9999.5)
		n = snprintf(buf, len, "%.0f", r);
	else if (r < 999.5e3)
		n = snprintf(buf, len, "%.0fk", r / 1e3);
	else
		n = snprintf(buf, len, "%.0fM", r / 1e6);
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : (len ? len - 1 : 0);
}

/* The bar line for st, cut to width-1 columns. */
size_t progress_format(char *buf, size_t len, const struct progress_state *st,
		       int width)
{
	char text[256], dur[32], rate[16];
	size_t tl, cols, bar = 0, out = 0;
	int pct = 100;

	if (!len)
		return 0;
	if (width < PROGRESS_MIN_WIDTH)
		width = PROGRESS_MIN_WIDTH;
	cols = (size_t)width - 1;	/* the last column would wrap */
	progress_format_rate(rate, sizeof rate, st);
	if (st->total >= 0) {
		if (st->total > 0 && (long long)st->done < st->total)
			pct = (int)((double)st->done * 100.0 /
				    (double)st->total);
		progress_format_duration(dur, sizeof dur, progress_eta(st));
		tl = (size_t)snprintf(text, sizeof text,
				      "%3d%% %llu/%lld, %s/s, %llu running, "
				      "%llu failed, ETA %s", pct,
				      (unsigned long long)st->done, st->total,
				      rate, (unsigned long long)st->running,
				      (unsigned long long)st->failed, dur);
	} else {
		progress_format_duration(dur, sizeof dur, st->elapsed);
		tl = (size_t)snprintf(text, sizeof text,
				      "%llu done, %s/s, %llu running, %llu "
				      "failed, %s elapsed",
				      (unsigned long long)st->done, rate,
				      (unsigned long long)st->running,
				      (unsigned long long)st->failed, dur);
	}
	if (tl >= sizeof text)
		tl = sizeof text - 1;
	/* "[###...] " before the text when the room is there. The bar's
	 * width depends on the width and the total only (not on the counts
	 * and the ETA of the moment, so that it keeps its size as they
	 * grow): room is kept for the text at its widest, every count at
	 * the total, a rate of 5 characters and an ETA of 6 ("23h59m"), and
	 * the line is
	 * blank-padded to the full width. */
	if (st->total >= 0) {
		size_t wide = (size_t)snprintf(NULL, 0, "100%% %lld/%lld, "
					       "9999k/s, %lld running, %lld "
					       "failed, ETA 00h00m", st->total,
					       st->total, st->total, st->total);

		if (wide < tl)
			wide = tl;
		if (cols >= wide + 3 + PROGRESS_MIN_BAR)
			bar = cols - wide - 3;
	}
	if (bar) {
		size_t fill = (size_t)((double)bar * pct / 100.0);

		if (len > 1)
			buf[out++] = '[';
		for (size_t i = 0; i < bar && out + 1 < len; i++)
			buf[out++] = i < fill ? '#' : '.';
		if (out + 1 < len)
			buf[out++] = ']';
		if (out + 1 < len)
			buf[out++] = ' ';
	}
	for (size_t i = 0; i < tl && out < cols && out + 1 < len; i++)
		buf[out++] = text[i];
	/* with a bar the line keeps its length: blanks where the text is
	 * not at its widest */
	while (bar && out < cols && out + 1 < len)
		buf[out++] = ' ';
	buf[out] = '\0';
	return out;
}

/* The width of the terminal on fd, else $COLUMNS, else 80. */
static int progress_width(int fd)
{
	struct winsize ws;
	const char *c;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	c = getenv("COLUMNS");
	if (c && atoi(c) > 0)
		return atoi(c);
	return 80;
}

/* A writer on fd, or NULL when fd is no terminal and not forced. */
struct progress *progress_new(int fd, int force)
{
	struct progress *p;

	if (!force && !isatty(fd))
		return NULL;
	p = calloc(1, sizeof *p);
	if (p)
		p->fd = fd;
	return p;
}

/* Write all of buf, ignoring errors (a bar is best effort). */
static void progress_write(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		len -= (size_t)w;
	}
}

/* Draw the state now: "\r", the line, blanks over the last line's rest. */
static void progress_draw(struct progress *p, const struct progress_state *st)
{
	char line[1024];
	size_t n, w = (size_t)progress_width(p->fd);

	line[0] = '\r';
	if (w > sizeof line - 1)
		w = sizeof line - 1;
	n = 1 + progress_format(line + 1, sizeof line - 1, st, (int)w);
	if (n - 1 < p->prev_len) {
		size_t pad = p->prev_len - (n - 1);

		if (n + pad > sizeof line)
			pad = sizeof line - n;
		memset(line + n, ' ', pad);
		n += pad;
		p->prev_len = n - 1 - pad;
	} else {
		p->prev_len = n - 1;
	}
	progress_write(p->fd, line, n);
	p->drawn = 1;
}

/* Redraw unless the last draw was under 0.1 s ago. */
void progress_update(struct progress *p, const struct progress_state *st,
		     double now)
{
	if (!p)
		return;
	if (p->drawn && now - p->last < PROGRESS_INTERVAL && now >= p->last)
		return;
	p->last = now;
	progress_draw(p, st);
}

/* Final draw, newline, free. */
void progress_finish(struct progress *p, const struct progress_state *st)
{
	if (!p)
		return;
	progress_draw(p, st);
	progress_write(p->fd, "\n", 1);
	free(p);
}
