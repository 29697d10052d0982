/* sched/progress: the progress bar line on stderr (nicely run --bar,
 * libnicely's options.progress): percentage, done/total (done alone when
 * the total is unknown), the finish rate, running, failed and an ETA from
 * the mean finish rate, redrawn with "\r" on a terminal, cut to its width,
 * and ended with a newline. The formatting is pure (tested alone); the
 * writer throttles redraws. Owned by the loop that draws it. */
#ifndef SCHED_PROGRESS_H
#define SCHED_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

struct progress_state {
	uint64_t done;		/* finished tasks, failed ones included */
	uint64_t failed;
	uint64_t running;
	long long total;	/* -1 when not known yet */
	double elapsed;		/* seconds since the batch started */
};

/* Seconds left at the mean finish rate so far, or -1 when unknown (total
 * unknown, nothing finished yet). */
double progress_eta(const struct progress_state *st);

/* Format the bar line (no "\r", no "\n") into buf of size len, using at
 * most width columns (width < 20 counts as 20; a bar of '#' fills what the
 * numbers at their widest would leave, so its width depends only on width
 * and total). Returns the length written, always < len. Pure. */
size_t progress_format(char *buf, size_t len, const struct progress_state *st,
		       int width);

/* Format the finish rate (tasks per second) in at most 5 characters:
 * "0.25", "12.3", "850", "12k", "3M"; "?" before the first finish. */
size_t progress_format_rate(char *buf, size_t len,
			    const struct progress_state *st);

/* Format seconds as "45s", "3m07s", "2h05m", "3d04h"; "?" when < 0. */
size_t progress_format_duration(char *buf, size_t len, double seconds);

struct progress;

/* A bar writing to fd (not closed here). Returns NULL (nothing to draw)
 * when fd is not a terminal, unless force != 0; NULL on ENOMEM too. The
 * width is the terminal's (TIOCGWINSZ), else $COLUMNS, else 80. */
struct progress *progress_new(int fd, int force);
/* Redraw if at least 0.1 s passed since the last draw (now: a monotonic
 * time in seconds, supplied by the caller). p may be NULL. */
void progress_update(struct progress *p, const struct progress_state *st,
		     double now);
/* Draw the final state and end the line with "\n", then free p. p may be
 * NULL. */
void progress_finish(struct progress *p, const struct progress_state *st);

#endif
