/* The data of `nicely top` without a screen (sched/cli/topview.c): a
 * batch's rate from the done counts seen (over the last window, else
 * since its start, else not known), the sort keys of the rows, and the
 * refusal of a pause of a batch reached only through nicely-agent. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched/ctl_proto.h"
#include "sched/cli/topview.h"
#include "tests/tap.h"

/* A row with the fields the sorts read. */
static struct topview_batch row(const char *id, const char *user, int held,
				long long done, long long total, double rate,
				double eta, double start)
{
	struct topview_batch b;

	memset(&b, 0, sizeof b);
	strcpy(b.id, id);
	strcpy(b.user, user);
	b.held = held;
	b.done = done;
	b.total = total;
	b.rate = rate;
	b.eta = eta;
	b.start = start;
	return b;
}

/* The ids in the rows' order, joined by spaces. */
static const char *order(const struct topview *v)
{
	static char buf[256];

	buf[0] = 0;
	for (size_t i = 0; i < v->nb; i++) {
		if (i)
			strcat(buf, " ");
		strcat(buf, v->b[i].id);
	}
	return buf;
}

int main(void)
{
	double t[TOPVIEW_HIST];
	long long d[TOPVIEW_HIST];
	struct topview v;

	/* rates */
	t[0] = 100;
	d[0] = 0;
	ok(topview_rate(t, d, 1, 0, 1000) < 0, "one sample, no start: not known");
	ok(topview_rate(t, d, 1, 990, 1000) < 0, "nothing done yet: not known");
	d[0] = 20;
	ok(topview_rate(t, d, 1, 990, 1000) == 2.0,
	   "one sample: done since the start (20 in 10 s)");
	t[1] = 100.5;
	d[1] = 25;
	ok(topview_rate(t, d, 2, 990, 1000) == 2.5,
	   "half a second apart: still since the start (25 in 10 s)");
	t[1] = 104;
	d[1] = 40;
	ok(topview_rate(t, d, 2, 990, 1000) == 5.0,
	   "4 s apart: the window's rate (20 in 4 s)");
	/* samples older than the window are left out */
	for (int i = 0; i < 10; i++) {
		t[i] = 10.0 * i;
		d[i] = i < 6 ? 0 : 30 * (i - 5);
	}
	/* t 0..90; window 30 s back from 90: from t=60 (d 30) to 90 (d 120) */
	ok(topview_rate(t, d, 10, 0, 1000) == 3.0,
	   "a long history: the last %g s only (%g)", TOPVIEW_RATE_WINDOW,
	   topview_rate(t, d, 10, 0, 1000));
	for (int i = 0; i < 3; i++) {
		t[i] = 10.0 * i;
		d[i] = 7;
	}
	ok(topview_rate(t, d, 3, 50, 100) == 7.0 / 50,
	   "nothing ended in the window: done since the start");

	/* sorts */
	memset(&v, 0, sizeof v);
	v.nb = 4;
	v.b = calloc(4, sizeof *v.b);
	if (!v.b)
		tap_bail("out of memory");
	v.b[0] = row("10", "zoe", 1, 5, 10, 1.0, 5, 300);
	v.b[1] = row("11", "al", 4, 1, 10, 0.5, -1, 100);
	v.b[2] = row("12", "max", 2, 9, 10, 3.0, 0.3, 200);
	v.b[3] = row("13", "al", 0, 0, -1, -1, -1, 400);
	topview_sort(&v, TOPVIEW_SORT_ID);
	is_str(order(&v), "11 12 10 13", "by batch: oldest first");
	topview_sort(&v, TOPVIEW_SORT_USER);
	is_str(order(&v), "11 13 12 10", "by user, then age");
	topview_sort(&v, TOPVIEW_SORT_PUS);
	is_str(order(&v), "11 12 10 13", "by PUs held, most first");
	topview_sort(&v, TOPVIEW_SORT_PROGRESS);
	is_str(order(&v), "12 10 11 13", "by progress, unknown last");
	topview_sort(&v, TOPVIEW_SORT_RATE);
	is_str(order(&v), "12 10 11 13", "by rate, fastest first");
	topview_sort(&v, TOPVIEW_SORT_ETA);
	is_str(order(&v), "12 10 11 13", "by ETA, soonest first, unknown last");
	is_str(topview_sort_name(TOPVIEW_SORT_ETA), "ETA", "the sort's name");
	free(v.b);

	/* another user's batch, seen through the agent: no control socket */
	struct topview_batch o = row("", "bob", 1, 0, 4, -1, -1, 0);
	char msg[512];

	strcpy(o.agent, "bob-77-1");
	is_int(topview_control(&o, CTL_CMD_PAUSE, msg, sizeof msg), -EPERM,
	       "pause of another user's batch: refused here");
	ok(strstr(msg, "pause batch bob-77-1 of bob: only its owner can") != NULL,
	   "... saying whose it is and who may ('%s')", msg);
	o.agent[0] = 0;
	is_int(topview_control(&o, CTL_CMD_KILL, msg, sizeof msg), -EPERM,
	   "kill of a batch with neither socket nor agent name: refused");
	return tap_done();
}
