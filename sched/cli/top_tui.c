/* sched/cli/top_tui: the full-screen `nicely top` (see top_tui.h). One
 * loop: poll stdin and a self-pipe until the next refresh; signal
 * handlers only set flags and write a byte to the pipe, and the loop
 * quits (endwin) or resizes outside them. Draws the data of
 * sched/cli/topview.c; the controls go through topview_control. CLI
 * process, one thread. */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "agent/sampler.h"
#include "agent/topology.h"
#include "sched/ctl_proto.h"
#include "sched/cli/top_tui.h"
#include "sched/cli/topview.h"

/* How long a message (a control's answer or refusal) stays. */
#define TUI_MSG_MS 6000

static volatile sig_atomic_t tui_quit, tui_winch;
static int tui_pipe[2] = { -1, -1 };

/* SIGINT, SIGTERM, SIGHUP, SIGWINCH: a flag and a byte (async-signal-
 * safe only). */
static void tui_signal(int sig)
{
	int e = errno;
	char c = 0;

	if (sig == SIGWINCH)
		tui_winch = 1;
	else
		tui_quit = sig;
	if (tui_pipe[1] >= 0 && write(tui_pipe[1], &c, 1) < 0) {
		/* full pipe: the loop wakes anyway */
	}
	errno = e;
}

enum tui_mode { TUI_BROWSE, TUI_HELP, TUI_USER, TUI_CONFIRM_KILL };

struct tui {
	struct topview *v;
	long interval_ms;
	enum topview_sort sort;
	enum tui_mode mode;
	char user[64];		/* filter: only this user's batches, "" all */
	char input[64];		/* the user prompt's text */
	size_t ninput;
	/* the selected batch, kept by (pid, id) across refreshes */
	pid_t sel_pid;
	char sel_id[32];
	int sel;		/* index among the rows shown, -1 none */
	char msg[512];
	struct timespec msg_at;
	int color;
};

/* Monotonic milliseconds. */
static long long tui_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Say msg on the status line for a while. */
static void tui_say(struct tui *t, const char *msg)
{
	snprintf(t->msg, sizeof t->msg, "%s", msg);
	clock_gettime(CLOCK_MONOTONIC, &t->msg_at);
}

/* 1 when row r passes the user filter. */
static int tui_shown(const struct tui *t, const struct topview_batch *r)
{
	return !t->user[0] || !strcmp(t->user, r->user);
}

/* The rows shown, in order: indices into v->b (up to max); how many. */
static int tui_rows(const struct tui *t, int *idx, int max)
{
	int n = 0;

	for (size_t i = 0; i < t->v->nb && n < max; i++)
		if (tui_shown(t, &t->v->b[i]))
			idx[n++] = (int)i;
	return n;
}

/* The selected row (NULL: none). */
static const struct topview_batch *tui_selected(struct tui *t)
{
	for (size_t i = 0; i < t->v->nb; i++) {
		const struct topview_batch *r = &t->v->b[i];

		if (r->pid == t->sel_pid && !strcmp(r->id, t->sel_id) &&
		    tui_shown(t, r))
			return r;
	}
	return NULL;
}

/* Select the n-th shown row (clamped). */
static void tui_select(struct tui *t, int n)
{
	int idx[4096], k = tui_rows(t, idx, 4096);

	if (k == 0) {
		t->sel = -1;
		t->sel_pid = 0;
		t->sel_id[0] = 0;
		return;
	}
	if (n < 0)
		n = 0;
	if (n >= k)
		n = k - 1;
	t->sel = n;
	t->sel_pid = t->v->b[idx[n]].pid;
	snprintf(t->sel_id, sizeof t->sel_id, "%s", t->v->b[idx[n]].id);
}

/* Keep the selection on the same batch after a refresh or a sort, else
 * on the same line. */
static void tui_reselect(struct tui *t)
{
	int idx[4096], k = tui_rows(t, idx, 4096);

	for (int i = 0; i < k; i++)
		if (t->v->b[idx[i]].pid == t->sel_pid &&
		    !strcmp(t->v->b[idx[i]].id, t->sel_id)) {
			t->sel = i;
			return;
		}
	tui_select(t, t->sel < 0 ? 0 : t->sel);
}

/* Seconds as "1h02m", "3m05s", "42s". */
static void tui_dur(double s, char *buf, size_t len)
{
	long x = (long)(s + 0.5);

	if (s < 0)
		snprintf(buf, len, "-");
	else if (x >= 86400)
		snprintf(buf, len, "%ldd%02ldh", x / 86400, x % 86400 / 3600);
	else if (x >= 3600)
		snprintf(buf, len, "%ldh%02ldm", x / 3600, x % 3600 / 60);
	else if (x >= 60)
		snprintf(buf, len, "%ldm%02lds", x / 60, x % 60);
	else
		snprintf(buf, len, "%lds", x);
}

/* A count, or "-" when not known. */
static void tui_count(long long n, char *buf, size_t len)
{
	if (n < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%lld", n);
}

/* Text at (y, x), cut at the screen's edge; control bytes as '?'. */
static void tui_put(int y, int x, const char *s)
{
	char line[1024];
	size_t n = 0;

	if (y < 0 || y >= LINES || x >= COLS)
		return;
	for (; *s && n < sizeof line - 1; s++)
		line[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	line[n] = 0;
	mvaddnstr(y, x, line, COLS - x);
}

/* The machine: a summary line and a bar per PU, others' load '|' then
 * ours '#'. Returns the next free line. */
static int tui_draw_machine(struct tui *t, int y)
{
	const struct topview *v = t->v;
	const struct agent_snapshot *s = v->snap;
	const struct agent_pu *pus = agent_topology_pus(v->topo);
	int n = s->npus, cols, per, w, rows;
	char line[2600], psi[64];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	if (s->has_psi)
		snprintf(psi, sizeof psi, "%.1f%%", s->psi_some_avg10);
	else
		snprintf(psi, sizeof psi, "n/a");
	snprintf(line, sizeof line, "nicely top  %02d:%02d:%02d  load %.2f %.2f "
		 "%.2f  CPU pressure %s  memory %.1f of %.1f GiB free",
		 tm.tm_hour, tm.tm_min, tm.tm_sec, s->loadavg[0],
		 s->loadavg[1], s->loadavg[2], psi,
		 (double)s->mem_available_kb / 1048576.0,
		 (double)s->mem_total_kb / 1048576.0);
	attron(A_BOLD);
	tui_put(y++, 0, line);
	attroff(A_BOLD);
	/* as many columns of bars as fit 40 characters each, no more than
	 * needed to keep the bars within a third of the screen */
	cols = COLS / 40 > 0 ? COLS / 40 : 1;
	rows = (n + cols - 1) / cols;
	while (cols > 1 && (n + cols - 2) / (cols - 1) <= (LINES - 6) / 3)
		cols--, rows = (n + cols - 1) / cols;
	per = COLS / cols;
	w = per - 16;	/* "PU nnn [" + "] nnn% " */
	if (w < 4)
		w = 4;
	for (int r = 0; r < rows && y < LINES - 3; r++, y++) {
		for (int c = 0; c < cols; c++) {
			int p = c * rows + r, x = c * per, no, nu;
			const struct agent_pu_load *l;

			if (p >= n)
				break;
			l = &s->pu[p];
			snprintf(line, sizeof line, "PU%4d [", p);
			tui_put(y, x, line);
			x += 8;
			if (!pus[p].allowed || !l->online) {
				tui_put(y, x, !l->online ? "offline" : "not allowed");
				tui_put(y, x + w, "]");
				continue;
			}
			no = (int)(l->busy_others * w + 0.5);
			nu = (int)(l->busy_ours * w + 0.5);
			if (no > w)
				no = w;
			if (nu > w - no)
				nu = w - no;
			if (t->color)
				attron(COLOR_PAIR(1));
			for (int i = 0; i < no; i++)
				mvaddch(y, x + i, '|');
			if (t->color) {
				attroff(COLOR_PAIR(1));
				attron(COLOR_PAIR(2));
			}
			for (int i = 0; i < nu; i++)
				mvaddch(y, x + no + i, '#');
			if (t->color)
				attroff(COLOR_PAIR(2));
			snprintf(line, sizeof line, "]%4.0f%%",
				 100 * (l->busy_others + l->busy_ours));
			tui_put(y, x + w, line);
		}
	}
	snprintf(line, sizeof line, "'|' others' load  '#' the batches "
		 "below%s  mode: %s", v->ours_on ? "" : " (not measured here)",
		 v->mode);
	tui_put(y++, 0, line);
	return y;
}

/* The batch rows from line y; the selected one in reverse video with a
 * '>' before it. */
static void tui_draw_batches(struct tui *t, int y)
{
	int idx[4096], k = tui_rows(t, idx, 4096), first = 0, room;
	char line[1024], hdr[256];

	snprintf(hdr, sizeof hdr, " %-8s %-10s %-9s %3s %4s %5s %11s %4s "
		 "%7s %7s  %s", "USER", "BATCH", "PRESET", "PUS", "RUN",
		 "QUEUE", "DONE/TOTAL", "FAIL", "RATE/s", "ETA",
		 "WAITING FOR / COMMAND");
	y++;
	attron(A_REVERSE);
	mvhline(y, 0, ' ', COLS);
	tui_put(y++, 0, hdr);
	attroff(A_REVERSE);
	room = LINES - 1 - y;
	if (k == 0) {
		snprintf(line, sizeof line, " no batch%s%s%s", t->user[0]
			 ? " of user " : "", t->user, t->v->agent_list ||
			 t->user[0] ? "" : " of yours (nicely-agent does not "
			 "answer: only your own are listed)");
		tui_put(y, 0, line);
		return;
	}
	if (t->sel >= room && room > 0)
		first = t->sel - room + 1;
	for (int i = first; i < k && y < LINES - 1; i++, y++) {
		const struct topview_batch *r = &t->v->b[idx[i]];
		char run[24], q[24], done[48], fail[24], rate[32], eta[48];
		const char *name = r->id[0] ? r->id : r->agent;

		tui_count(r->running, run, sizeof run);
		tui_count(r->queued, q, sizeof q);
		tui_count(r->failed, fail, sizeof fail);
		if (r->total >= 0)
			snprintf(done, sizeof done, "%lld/%lld", r->done,
				 r->total);
		else
			snprintf(done, sizeof done, "%lld/?", r->done);
		if (r->rate >= 0)
			snprintf(rate, sizeof rate, "%.2f", r->rate);
		else
			snprintf(rate, sizeof rate, "-");
		tui_dur(r->eta, eta, sizeof eta);
		snprintf(line, sizeof line, "%c%-8.8s %-10.10s %-9.9s %3d %4s "
			 "%5s %11s %4s %7s %7s  %s%s%s",
			 i == t->sel ? '>' : ' ', r->user, name, r->preset,
			 r->held, run, q, done, fail, rate, eta,
			 !strcmp(r->state, "paused") ? "[paused] " : "",
			 r->reason[0] && strcmp(r->reason, "paused") ?
			 r->reason : "",
			 r->reason[0] && strcmp(r->reason, "paused") ? "" :
			 r->command);
		if (i == t->sel) {
			attron(A_REVERSE);
			mvhline(y, 0, ' ', COLS);
		}
		tui_put(y, 0, line);
		if (i == t->sel)
			attroff(A_REVERSE);
	}
}

/* The last line: a prompt, a message, or the keys. */
static void tui_draw_status(struct tui *t)
{
	char line[600];
	const struct topview_batch *r = tui_selected(t);
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (t->mode == TUI_USER)
		snprintf(line, sizeof line, "show the batches of user (empty: "
			 "all; Enter, Esc): %s", t->input);
	else if (t->mode == TUI_CONFIRM_KILL && r)
		snprintf(line, sizeof line, "kill batch %s of %s, every "
			 "running task? y / n", r->id[0] ? r->id : r->agent,
			 r->user);
	else if (t->msg[0] &&
		 (now.tv_sec - t->msg_at.tv_sec) * 1000 +
		 (now.tv_nsec - t->msg_at.tv_nsec) / 1000000 < TUI_MSG_MS)
		snprintf(line, sizeof line, "%s", t->msg);
	else
		snprintf(line, sizeof line, "q quit  h help  up/down select  "
			 "p pause  r resume  k kill  u user%s%s  s sort: %s",
			 t->user[0] ? " " : "", t->user,
			 topview_sort_name(t->sort));
	attron(A_REVERSE);
	mvhline(LINES - 1, 0, ' ', COLS);
	tui_put(LINES - 1, 0, line);
	attroff(A_REVERSE);
}

static const char *const tui_help[] = {
	"nicely top: keys",
	"",
	"  q, F10        quit",
	"  h, ?          this help (any key returns)",
	"  up, down      select a batch (Home, End: the first, the last)",
	"  p             pause the selected batch (its tasks are frozen)",
	"  r             resume it",
	"  k             kill it (asks first): every running task, now",
	"                (only as its owner may: the batch or nicely-agent",
	"                 refuses anyone else, and the refusal is shown)",
	"  u             show only one user's batches (empty: everyone's)",
	"  s, >          sort by the next key: batch, user, PUs, progress,",
	"                rate, ETA;  <  the one before",
	"  space         refresh now",
	"",
	"PU bars: '|' others' load, '#' the batches listed (their nicely run",
	"and every process under it). WAITING FOR: why the batch's gate holds",
	"tasks back right now; the command when nothing does.",
	NULL,
};

/* The whole screen. */
static void tui_draw(struct tui *t)
{
	erase();
	if (t->mode == TUI_HELP) {
		for (int i = 0; tui_help[i] && i < LINES; i++)
			tui_put(i, 0, tui_help[i]);
	} else {
		tui_reselect(t);
		tui_draw_batches(t, tui_draw_machine(t, 0));
		tui_draw_status(t);
	}
	refresh();
}

/* Pause, resume or kill the selected batch; the answer as a message. */
static void tui_control(struct tui *t, const char *cmd)
{
	const struct topview_batch *r = tui_selected(t);
	char msg[512];

	if (!r) {
		tui_say(t, "no batch selected");
		return;
	}
	tui_say(t, "asking the batch...");
	tui_draw_status(t);
	refresh();
	topview_control(r, cmd, msg, sizeof msg);
	tui_say(t, msg);
}

/* A key; returns 1 to quit. */
static int tui_key(struct tui *t, int c, int *regather)
{
	if (t->mode == TUI_HELP) {
		t->mode = TUI_BROWSE;
		return 0;
	}
	if (t->mode == TUI_USER) {
		if (c == '\n' || c == '\r' || c == KEY_ENTER) {
			t->input[t->ninput] = 0;
			snprintf(t->user, sizeof t->user, "%s", t->input);
			t->mode = TUI_BROWSE;
			tui_select(t, 0);
		} else if (c == 27) {
			t->mode = TUI_BROWSE;
		} else if ((c == KEY_BACKSPACE || c == 127 || c == 8) &&
			   t->ninput) {
			t->input[--t->ninput] = 0;
		} else if (c > 0x20 && c < 0x7f &&
			   t->ninput < sizeof t->input - 1) {
			t->input[t->ninput++] = (char)c;
			t->input[t->ninput] = 0;
		}
		return 0;
	}
	if (t->mode == TUI_CONFIRM_KILL) {
		t->mode = TUI_BROWSE;
		if (c == 'y' || c == 'Y') {
			tui_control(t, CTL_CMD_KILL);
			*regather = 1;
		} else
			tui_say(t, "not killed");
		return 0;
	}
	switch (c) {
	case 'q':
	case 'Q':
	case KEY_F(10):
		return 1;
	case 'h':
	case '?':
	case KEY_F(1):
		t->mode = TUI_HELP;
		break;
	case KEY_UP:
		tui_select(t, t->sel - 1);
		break;
	case KEY_DOWN:
		tui_select(t, t->sel + 1);
		break;
	case KEY_HOME:
		tui_select(t, 0);
		break;
	case KEY_END:
		tui_select(t, 1 << 20);
		break;
	case 'p':
		tui_control(t, CTL_CMD_PAUSE);
		*regather = 1;
		break;
	case 'r':
		tui_control(t, CTL_CMD_RESUME);
		*regather = 1;
		break;
	case 'k':
		if (tui_selected(t))
			t->mode = TUI_CONFIRM_KILL;
		else
			tui_say(t, "no batch selected");
		break;
	case 'u':
		t->mode = TUI_USER;
		snprintf(t->input, sizeof t->input, "%s", t->user);
		t->ninput = strlen(t->input);
		break;
	case 's':
	case '>':
		t->sort = (t->sort + 1) % TOPVIEW_SORT_N;
		topview_sort(t->v, t->sort);
		break;
	case '<':
		t->sort = (t->sort + TOPVIEW_SORT_N - 1) % TOPVIEW_SORT_N;
		topview_sort(t->v, t->sort);
		break;
	case ' ':
		*regather = 2;
		break;
	default:
		break;
	}
	return 0;
}

/* Follow the terminal's new size. */
static void tui_resize(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	clear();
}

/* Sample and gather; 0 or -errno with err set. */
static int tui_refresh(struct tui *t, char *err, size_t errlen)
{
	int rc = topview_sample(t->v, err, errlen);

	if (rc < 0)
		return rc;
	topview_gather(t->v, 1);
	topview_sort(t->v, t->sort);
	return 0;
}

int top_tui_run(struct topview *v, long interval_ms, char *err,
		size_t errlen)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH };
	struct sigaction sa, old[4];
	sigset_t mask, oldmask;
	struct tui t = { .v = v, .interval_ms = interval_ms, .sel = -1 };
	const char *term = getenv("TERM");
	SCREEN *scr;
	long long next;
	int rc = 0;

	if (!term || !*term || !strcmp(term, "dumb"))
		return TOP_TUI_NO_TERMINAL;
	if (pipe2(tui_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -errno;
	}
	tui_quit = tui_winch = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = tui_signal;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 4; i++)
		sigaction(sigs[i], &sa, &old[i]);
	sigemptyset(&mask);
	for (int i = 0; i < 4; i++)
		sigaddset(&mask, sigs[i]);
	sigprocmask(SIG_UNBLOCK, &mask, &oldmask);
	setlocale(LC_CTYPE, "");
	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		rc = TOP_TUI_NO_TERMINAL;
		goto out;
	}
	set_term(scr);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	set_escdelay(50);
	if (has_colors() && start_color() == OK) {
		use_default_colors();
		init_pair(1, COLOR_RED, -1);
		init_pair(2, COLOR_GREEN, -1);
		t.color = 1;
	}
	/* the first frame at once (its load since topview_open) */
	topview_gather(v, 1);
	tui_select(&t, 0);
	tui_draw(&t);
	next = tui_ms() + interval_ms;
	while (!tui_quit) {
		struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
				       { .fd = tui_pipe[0], .events = POLLIN } };
		long long left = next - tui_ms();
		int regather = 0, c, quit = 0;
		char drain[64];

		if (left < 0)
			left = 0;
		if (poll(p, 2, (int)left) < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			rc = -errno;
			break;
		}
		while (read(tui_pipe[0], drain, sizeof drain) > 0)
			;
		if (tui_quit)
			break;
		if (tui_winch) {
			tui_winch = 0;
			tui_resize();
		}
		while (!quit && (c = getch()) != ERR)
			if (c != KEY_RESIZE)
				quit = tui_key(&t, c, &regather);
		if (quit)
			break;
		if (regather || tui_ms() >= next) {
			if (regather != 1 && (rc = tui_refresh(&t, err, errlen)) < 0)
				break;
			if (regather == 1) {
				topview_gather(v, 1);
				topview_sort(v, t.sort);
			}
			if (regather != 1)
				next = tui_ms() + interval_ms;
		}
		tui_draw(&t);
	}
	endwin();
	delscreen(scr);
out:
	for (int i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	close(tui_pipe[0]);
	close(tui_pipe[1]);
	tui_pipe[0] = tui_pipe[1] = -1;
	return rc;
}
