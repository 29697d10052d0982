/* libnicely and the preset: unknown presets and bad config files are
 * NICELY_ECONFIG with file:line in the log; a preset from a config file is
 * used; nuclear pins each worker to one CPU and applies the nice asked
 * for; reset re-reads the files and keeps the old preset when they break. */
#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>

#include "tap.h"
#include "lib_util.h"

static char last_log[512];
static nicely_pool *cur;
static int max_workers_seen;

/* Note how many workers are alive whenever a task starts. */
static void on_start(int64_t id, int64_t c, int64_t r, int64_t t, void *u)
{
	nicely_stats st;

	(void)u;
	(void)id;
	(void)c;
	(void)r;
	(void)t;
	if (!nicely_stats_get(cur, &st) && st.workers > max_workers_seen)
		max_workers_seen = st.workers;
}

/* Report the worker's CPU mask size, CPU and nice. */
static int t_where(const void *arg, size_t len, nicely_out *out, void *st)
{
	cpu_set_t set;
	int v[3];

	(void)arg;
	(void)len;
	(void)st;
	if (sched_getaffinity(0, sizeof set, &set))
		return 1;
	v[0] = CPU_COUNT(&set);
	v[1] = -1;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set)) {
			v[1] = i;
			break;
		}
	errno = 0;
	v[2] = getpriority(PRIO_PROCESS, 0);
	lib_sleep_ms(200);	/* both workers hold a task at once */
	return nicely_out_write(out, v, sizeof v);
}

/* Keep the last log line. */
static void on_log(int level, int64_t id, pid_t pid, const char *msg, void *u)
{
	(void)u;
	(void)level;
	(void)id;
	(void)pid;
	snprintf(last_log, sizeof last_log, "%s", msg);
}

/* Write text to path. */
static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0)
		tap_bail("cannot write a config file");
	fclose(f);
}

int main(void)
{
	nicely_options o;
	nicely_pool *pool;
	cpu_set_t mine;
	char conf[128];
	int ncpu;

	lib_env_setup();
	snprintf(conf, sizeof conf, "%s/extra.conf", lib_tmpdir);
	sched_getaffinity(0, sizeof mine, &mine);
	ncpu = CPU_COUNT(&mine);

	lib_opts(&o, 2);
	o.preset = "no-such-preset";
	o.on_log = on_log;
	is_int(nicely_pool_new(&pool, &o), NICELY_ECONFIG, "unknown preset");
	ok(pool == NULL, "no pool on error");
	ok(strstr(last_log, "no-such-preset") != NULL, "the log names it: %s",
	   last_log);

	put(conf, "[preset mine]\nbase = nuclear\nnice = 3\n\n[preset broken\n");
	lib_opts(&o, 2);
	o.config_file = conf;
	o.on_log = on_log;
	is_int(nicely_pool_new(&pool, &o), NICELY_ECONFIG, "bad config file");
	ok(strstr(last_log, "extra.conf:5") != NULL,
	   "the log names file:line: %s", last_log);

	put(conf, "[preset mine]\nbase = nuclear\nnice = 3\n");
	lib_opts(&o, 2);
	o.preset = "mine";
	o.config_file = conf;
	o.on_log = on_log;
	is_int(nicely_pool_new(&pool, &o), 0, "a preset from a config file");
	nicely_map(pool, t_where, "ab", 1, 2, 1, NULL);
	nicely_wait_all(pool);
	int v[2][3] = { { 0 } };

	for (int i = 0; i < 2; i++) {
		const nicely_result *r = nicely_result_get(pool, i);

		if (r && r->len == sizeof v[i])
			memcpy(v[i], r->data, sizeof v[i]);
	}
	is_int(v[0][2], 3, "workers run at the preset's nice");
	if (ncpu >= 2) {
		ok(v[0][0] == 1 && v[1][0] == 1, "each worker pinned to one CPU");
		ok(v[0][1] != v[1][1] && v[0][1] >= 0 && v[1][1] >= 0,
		   "on different CPUs (%d, %d)", v[0][1], v[1][1]);
	} else {
		tap_diag("one CPU: pinning checks skipped");
	}

	/* reset re-reads; a broken file keeps the old preset */
	put(conf, "[preset mine]\nbase = nuclear\nnice = oops\n");
	is_int(nicely_reset(pool), NICELY_ECONFIG, "reset with a broken file");
	put(conf, "[preset mine]\nbase = nuclear\nnice = 5\n");
	is_int(nicely_reset(pool), 0, "reset with a fixed file");
	nicely_map(pool, t_where, "ab", 1, 2, 1, NULL);
	nicely_wait_all(pool);
	const nicely_result *r = nicely_result_get(pool, 0);

	if (r && r->len == sizeof v[0])
		memcpy(v[0], r->data, sizeof v[0]);
	is_int(v[0][2], 5, "after reset the new nice applies");
	nicely_pool_free(pool);

	/* the preset decides how many run: max_pus = 1 */
	put(conf, "[preset one]\nbase = nuclear\nmax_pus = 1\n"
		  "[preset starved]\nbase = nuclear\nmem_floor = 1000T\n");
	lib_opts(&o, 0);
	o.preset = "one";
	o.config_file = conf;
	o.on_start = on_start;
	is_int(nicely_pool_new(&pool, &o), 0, "pool with max_pus = 1");
	cur = pool;
	int ms = 100;

	for (int i = 0; i < 4; i++)
		nicely_run(pool, t_where, &ms, sizeof ms);
	is_int(nicely_wait_all(pool), 0, "its tasks finish");
	is_int(max_workers_seen, 1, "never more than one worker at a time");
	nicely_pool_free(pool);

	/* nothing starts below the preset's memory floor */
	lib_opts(&o, 0);
	o.preset = "starved";
	o.config_file = conf;
	is_int(nicely_pool_new(&pool, &o), 0, "pool with an impossible mem_floor");
	nicely_run(pool, t_where, NULL, 0);
	for (int i = 0; i < 15; i++)
		nicely_step(pool, 100);
	nicely_stats st;

	nicely_stats_get(pool, &st);
	ok(st.queued == 1 && st.completed == 0 && st.workers == 0 &&
		   st.allowed == 0,
	   "the task waits: %lld queued, %d workers, %d allowed",
	   (long long)st.queued, st.workers, st.allowed);
	is_int(nicely_kill_all(pool), 1, "kill_all cancels it");
	is_int(nicely_task_status(pool, 0), NICELY_CANCELLED, "CANCELLED");
	nicely_pool_free(pool);

	/* nice from the options */
	lib_opts(&o, 1);
	o.nice = 11;
	is_int(nicely_pool_new(&pool, &o), 0, "pool with nice 11");
	nicely_run(pool, t_where, NULL, 0);
	nicely_wait_all(pool);
	r = nicely_result_get(pool, 0);
	if (r && r->len == sizeof v[0])
		memcpy(v[0], r->data, sizeof v[0]);
	is_int(v[0][2], 11, "options.nice applies");
	nicely_pool_free(pool);
	unlink(conf);
	return tap_done();
}
