/* nicely_insights: per worker start-up, init, waiting, working and exit
 * times and tasks, their sums, the longest tasks; workers that exited
 * stay in; the text form; reset forgets. */
#include "tests/lib_util.h"
#include "tests/tap.h"

static int w_init(void **state, void *arg)
{
	(void)state;
	(void)arg;
	lib_sleep_ms(100);
	return 0;
}

static void w_exit(void *state, void *arg)
{
	(void)state;
	(void)arg;
	lib_sleep_ms(50);
}

static int t_ms(const void *arg, size_t len, nicely_out *out, void *st)
{
	(void)len;
	(void)out;
	(void)st;
	lib_sleep_ms(*(const int *)arg);
	return 0;
}

int main(void)
{
	nicely_options o;
	nicely_pool *p;
	nicely_insights_t in;
	const nicely_exit_result *er;
	int fifty = 50, long_ms = 300;
	int64_t long_id;
	char text[2048];

	lib_env_setup();
	lib_opts(&o, 2);
	o.worker_init = w_init;
	o.worker_exit = w_exit;
	if (nicely_pool_new(&p, &o))
		tap_bail("no pool");
	for (int i = 0; i < 5; i++)
		nicely_run(p, t_ms, &fifty, sizeof fifty);
	long_id = nicely_run(p, t_ms, &long_ms, sizeof long_ms);
	for (int i = 0; i < 5; i++)
		nicely_run(p, t_ms, &fifty, sizeof fifty);
	nicely_wait_all(p);
	is_int(nicely_insights(p, &in), 0, "insights");
	is_int(in.workers, 2, "2 workers started");
	is_int((int)in.nlisted, 2, "both listed");
	ok(in.worker && in.worker[0].alive && in.worker[1].alive &&
		   in.worker[0].pid > 0, "alive, with their pids");
	is_int(in.tasks, 11, "11 tasks");
	ok(in.working > 0.75 && in.working < 1.5, "working about 0.8 s (%.3f)",
	   in.working);
	ok(in.init > 0.18 && in.init < 0.6, "init about 2 x 0.1 s (%.3f)",
	   in.init);
	ok(in.start_up > 0 && in.start_up < 1, "start-up measured (%.4f s)",
	   in.start_up);
	ok(in.waiting >= 0, "waiting %.3f s", in.waiting);
	is_int(in.exit == 0, 1, "no exit yet");
	ok(in.nlongest >= 1 && in.longest_id[0] == long_id &&
		   in.longest_wall[0] > 0.25,
	   "the longest task is the 300 ms one (task %lld, %.3f s)",
	   (long long)in.longest_id[0], in.longest_wall[0]);
	ok(in.nlongest == 5 && in.longest_wall[4] <= in.longest_wall[1],
	   "5 longest, longest first");
	nicely_exit_results(p, &er);
	is_int(nicely_insights(p, &in), 0, "insights after the workers exit");
	ok(in.nlisted == 2 && !in.worker[0].alive && !in.worker[1].alive,
	   "the exited workers are listed, not alive");
	ok(in.exit > 0.09 && in.exit < 0.5, "exit about 2 x 0.05 s (%.3f)",
	   in.exit);
	is_int(in.tasks, 11, "their 11 tasks");
	size_t n = nicely_insights_format(&in, text, sizeof text);

	ok(n == strlen(text) && strstr(text, "11 tasks on 2 workers") &&
		   strstr(text, "working") && strstr(text, "longest 1: task 5"),
	   "as text:\n%s", text);
	nicely_reset(p);
	nicely_insights(p, &in);
	ok(in.workers == 0 && in.tasks == 0 && in.nlongest == 0 &&
		   in.nlisted == 0, "reset forgets them");
	nicely_pool_free(p);
	return tap_done();
}
