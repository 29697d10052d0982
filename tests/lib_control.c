/* libnicely controls in the middle of a batch: kill_all (running tasks
 * KILLED, queued ones CANCELLED, workers gone), reset (results, counters and
 * ids start over), and pool_free while tasks run (nothing left behind). */
#include <stdint.h>

#include "tap.h"
#include "lib_util.h"

static pid_t seen[64];
static int nseen;

/* Say hello (the log carries our PID), then sleep 20 s. */
static int t_sleeper(const void *arg, size_t len, nicely_out *out, void *st)
{
	(void)arg;
	(void)len;
	(void)out;
	(void)st;
	nicely_log(NICELY_LOG_INFO, "started");
	lib_sleep_ms(20000);
	return 0;
}

/* Remember each worker that said it started. */
static void on_log(int level, int64_t id, pid_t pid, const char *msg, void *u)
{
	(void)u;
	(void)level;
	(void)id;
	if (!strcmp(msg, "started") && nseen < 64)
		seen[nseen++] = pid;
}

/* Step until n workers have started a sleeper (or 20 s pass). */
static int wait_started(nicely_pool *pool, int n)
{
	for (int i = 0; i < 2000 && nseen < n; i++)
		nicely_step(pool, 10);
	return nseen >= n;
}

/* 1 when every PID seen so far is gone. */
static int all_gone(void)
{
	for (int i = 0; i < nseen; i++)
		if (!lib_wait_gone(seen[i], 5))
			return 0;
	return 1;
}

int main(void)
{
	nicely_options o;
	nicely_pool *pool;
	nicely_stats st;
	int killed = 0, cancelled = 0, other = 0, n;

	lib_env_setup();
	lib_opts(&o, 2);
	o.on_log = on_log;
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");

	/* kill_all */
	for (int i = 0; i < 10; i++)
		nicely_run(pool, t_sleeper, NULL, 0);
	ok(wait_started(pool, 2), "two sleepers running");
	n = nicely_kill_all(pool);
	is_int(n, 10, "kill_all reports 10 tasks killed or cancelled");
	for (int i = 0; i < 10; i++) {
		const nicely_result *r = nicely_result_get(pool, i);

		if (r && r->status == NICELY_KILLED)
			killed++;
		else if (r && r->status == NICELY_CANCELLED)
			cancelled++;
		else
			other++;
	}
	ok(killed == 2 && killed + cancelled == 10 && !other,
	   "running became KILLED (%d), queued CANCELLED (%d)", killed,
	   cancelled);
	ok(all_gone(), "the killed workers are gone");
	nicely_stats_get(pool, &st);
	ok(!st.running && !st.queued && st.completed == 10,
	   "counters after kill_all: %lld running, %lld queued",
	   (long long)st.running, (long long)st.queued);
	int64_t id = nicely_run(pool, t_ok, NULL, 0);

	nicely_wait(pool, id);
	ok(nicely_result_get(pool, id) &&
		   nicely_result_get(pool, id)->status == NICELY_OK,
	   "the pool works after kill_all");

	/* reset */
	nseen = 0;
	for (int i = 0; i < 6; i++)
		nicely_run(pool, t_sleeper, NULL, 0);
	ok(wait_started(pool, 2), "sleepers running before reset");
	is_int(nicely_reset(pool), 0, "reset");
	ok(all_gone(), "reset killed the running workers");
	nicely_stats_get(pool, &st);
	ok(!st.total && !st.completed && !st.running && !st.queued &&
		   !st.failed,
	   "reset cleared the counters");
	ok(!nicely_result_get(pool, 0) &&
		   nicely_task_status(pool, 0) == NICELY_ENOENT,
	   "reset forgot the results");
	id = nicely_run(pool, t_ok, NULL, 0);
	is_int(id, 0, "ids start again at 0");
	is_int(nicely_wait(pool, id), 0, "a task after reset runs");
	ok(nicely_result_get(pool, 0) &&
		   nicely_result_get(pool, 0)->status == NICELY_OK,
	   "and succeeds");

	/* pool_free with tasks running */
	nseen = 0;
	for (int i = 0; i < 5; i++)
		nicely_run(pool, t_sleeper, NULL, 0);
	ok(wait_started(pool, 2), "sleepers running before pool_free");
	nicely_pool_free(pool);
	ok(all_gone(), "pool_free killed and reaped them");

	/* The fork server killed from outside: errors, no hang. */
	nseen = 0;
	lib_opts(&o, 2);
	o.on_log = on_log;
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");
	for (int i = 0; i < 3; i++)
		nicely_run(pool, t_sleeper, NULL, 0);
	ok(wait_started(pool, 2), "sleepers running before the fork server dies");
	char path[64];
	int fs = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%d", &fs) != 1)
			fs = 0;
		fclose(f);
	}
	ok(fs > 0 && kill(fs, SIGKILL) == 0, "killed the fork server (%d)", fs);
	is_int(nicely_wait_all(pool), NICELY_ECHILD, "wait_all says ECHILD");
	is_int(nicely_run(pool, t_ok, NULL, 0), NICELY_ECHILD,
	       "run says ECHILD");
	ok(all_gone(), "its workers died with it");
	nicely_pool_free(pool);
	ok(fs > 0 && lib_wait_gone(fs, 5), "pool_free reaped the fork server");

	/* Argument checks. */
	is_int(nicely_kill_all(NULL), NICELY_EINVAL, "kill_all(NULL)");
	is_int(nicely_reset(NULL), NICELY_EINVAL, "reset(NULL)");
	return tap_done();
}
