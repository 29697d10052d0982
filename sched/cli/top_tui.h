/* sched/cli/top_tui: `nicely top`'s full-screen view on a terminal
 * (ncurses, the one file that uses it): per-PU bars of others' load and
 * ours, load average, CPU pressure, memory, then the batch rows of
 * sched/cli/topview.h, refreshed every interval; keys to sort, filter by
 * user, select a batch and pause, resume or kill it. Runs in the CLI
 * process; SIGINT, SIGTERM, SIGHUP and SIGWINCH only set a flag and wake
 * the loop through a self-pipe, which then restores the terminal. */
#ifndef SCHED_CLI_TOP_TUI_H
#define SCHED_CLI_TOP_TUI_H

#include <stddef.h>

struct topview;

/* top_tui_run's answer when the terminal cannot be driven (TERM unknown
 * or dumb): nothing was drawn; the caller prints lines instead. */
#define TOP_TUI_NO_TERMINAL 3

/* Run the view on the terminal (stdin and stdout) until q, SIGINT,
 * SIGTERM or SIGHUP, sampling v every interval_ms. The terminal is
 * restored in every case. 0; TOP_TUI_NO_TERMINAL; -errno with err set
 * when the machine could not be read any more. The signal dispositions
 * and mask are as before on return. */
int top_tui_run(struct topview *v, long interval_ms, char *err,
		size_t errlen);

#endif
