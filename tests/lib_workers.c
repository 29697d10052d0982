/* libnicely worker life and feedback: start/finish callback counters, log
 * forwarding with task id and PID, worker_init/worker_exit with per-worker
 * state, lifespan 1 (a process per task) and N, captured stderr, and
 * back-pressure with max_queued (blocking and NICELY_EAGAIN). */
#include <stdint.h>

#include "tap.h"
#include "lib_util.h"

struct table {
	int magic;
	pid_t loaded_by;
};

/* what cb_user and log_user point at */
static int cb_token, log_token;
static int64_t cb_bad, cb_starts, cb_finishes, max_queued_seen;
static int nlogs, exit_logs;
static int64_t log_ids[16];
static pid_t log_pids[16];
static nicely_pool *cur_pool;

/* worker_init: build the "table" once per worker. */
static int w_init(void **state, void *arg)
{
	struct table *t = malloc(sizeof *t);

	if (!t)
		return 1;
	t->magic = *(int *)arg;
	t->loaded_by = getpid();
	*state = t;
	nicely_log(NICELY_LOG_DEBUG, "init");
	return 0;
}

/* worker_exit: say goodbye through the log (only when it got the
 * worker's table first and init_arg last), free the table. */
static void w_exit(void *state, void *arg)
{
	const struct table *t = state;

	if (t && t->loaded_by == getpid() && arg && *(int *)arg == t->magic)
		nicely_log(NICELY_LOG_DEBUG, "exit");
	else
		nicely_log(NICELY_LOG_DEBUG, "exit with its arguments swapped");
	free(state);
}

/* Return the state's magic and the PID that loaded it. */
static int t_state(const void *arg, size_t len, nicely_out *out, void *state)
{
	struct table *t = state;
	int v[2];

	(void)arg;
	(void)len;
	if (!t)
		return 9;
	v[0] = t->magic;
	v[1] = (int)t->loaded_by;
	return nicely_out_write(out, v, sizeof v);
}

/* Return our PID. */
static int t_pid(const void *arg, size_t len, nicely_out *out, void *state)
{
	int v = (int)getpid();

	(void)arg;
	(void)len;
	(void)state;
	return nicely_out_write(out, &v, sizeof v);
}

/* Log a line with our argument, and write a line to stderr. */
static int t_log(const void *arg, size_t len, nicely_out *out, void *state)
{
	(void)out;
	(void)state;
	nicely_log(NICELY_LOG_INFO, "hello %.*s", (int)len, (const char *)arg);
	fprintf(stderr, "stderr line %.*s\n", (int)len, (const char *)arg);
	fflush(stderr);
	return 0;
}

/* Sleep 50 ms. */
static int t_nap(const void *arg, size_t len, nicely_out *out, void *state)
{
	(void)arg;
	(void)len;
	(void)out;
	(void)state;
	lib_sleep_ms(50);
	return 0;
}

/* Check counters at every callback. */
static void on_start(int64_t id, int64_t c, int64_t r, int64_t t, void *u)
{
	cb_starts++;
	if (id < 0 || id >= t || r < 1 || c + r > t || u != &cb_token)
		cb_bad++;
}

/* Check counters when a task finishes. */
static void on_finish(int64_t id, int64_t c, int64_t r, int64_t t, void *u)
{
	nicely_stats st;

	cb_finishes++;
	if (id < 0 || id >= t || c < 1 || c + r > t || c != cb_finishes ||
	    u != &cb_token)
		cb_bad++;
	if (nicely_stats_get(cur_pool, &st) == 0 && st.queued > max_queued_seen)
		max_queued_seen = st.queued;
	if (nicely_step(cur_pool, 0) != NICELY_EBUSY)
		cb_bad++;
}

/* Collect log lines. */
static void on_log(int level, int64_t id, pid_t pid, const char *msg, void *u)
{
	(void)level;
	if (u != &log_token)
		cb_bad++;
	if (!strcmp(msg, "exit"))
		exit_logs++;
	/* stderr lines name the task only if it still runs when they are
	 * read; nicely_log lines always do */
	if (!strncmp(msg, "hello ", 6) || !strncmp(msg, "stderr line ", 12)) {
		if (nlogs < 16) {
			log_ids[nlogs] = msg[0] == 'h' ? id : -2;
			log_pids[nlogs] = pid;
		}
		nlogs++;
	}
}

/* worker_init that refuses. */
static int w_init_fail(void **state, void *arg)
{
	(void)arg;
	(void)state;
	return 7;
}

int main(void)
{
	nicely_options o;
	nicely_pool *pool;
	const nicely_result *r;
	int magic = 4242, bad = 0;

	lib_env_setup();

	/* init/exit and state, callbacks, logs */
	lib_opts(&o, 2);
	o.worker_init = w_init;
	o.worker_exit = w_exit;
	o.init_arg = &magic;
	o.on_start = on_start;
	o.on_finish = on_finish;
	o.on_log = on_log;
	o.cb_user = &cb_token;
	o.log_user = &log_token;
	o.capture_stderr = 1;
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");
	cur_pool = pool;
	for (int i = 0; i < 40; i++)
		nicely_run(pool, t_state, NULL, 0);
	int64_t l1 = nicely_run(pool, t_log, "one", 3);
	int64_t l2 = nicely_run(pool, t_log, "two", 3);

	is_int(nicely_wait_all(pool), 0, "wait_all");
	pid_t loaders[2] = { 0, 0 };

	for (int i = 0; i < 40; i++) {
		int v[2] = { 0, 0 };

		r = nicely_result_get(pool, i);
		if (r && r->len == sizeof v)
			memcpy(v, r->data, sizeof v);
		if (!r || r->status != NICELY_OK || v[0] != magic ||
		    v[1] != (int)r->pid)
			bad++;
		else if (!loaders[0] || loaders[0] == v[1])
			loaders[0] = v[1];
		else if (!loaders[1] || loaders[1] == v[1])
			loaders[1] = v[1];
		else
			bad++;
	}
	is_int(bad, 0, "every task saw its own worker's state from worker_init");
	is_int(cb_starts, 42, "42 start callbacks");
	is_int(cb_finishes, 42, "42 finish callbacks");
	is_int(cb_bad, 0, "callback counters consistent; no re-entry; "
	       "cb_user and log_user come last");
	is_int(nlogs, 4, "two log lines and two stderr lines forwarded");
	int ids_ok = 1;

	for (int i = 0; i < 4 && i < nlogs; i++)
		if ((log_ids[i] != l1 && log_ids[i] != l2 && log_ids[i] != -2) ||
		    log_pids[i] <= 0)
			ids_ok = 0;
	ok(ids_ok, "log lines carry the task id and the worker PID");
	nicely_stats st;

	nicely_stats_get(pool, &st);
	int started = (int)st.workers_started;

	nicely_pool_free(pool);
	is_int(exit_logs, started, "worker_exit ran in each of the %d workers, "
	       "with the worker's state first and init_arg last", started);

	/* lifespan 1 */
	lib_opts(&o, 2);
	o.lifespan = 1;
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");
	for (int i = 0; i < 12; i++)
		nicely_run(pool, t_pid, NULL, 0);
	nicely_wait_all(pool);
	int distinct = 1;

	for (int i = 0; i < 12; i++)
		for (int j = 0; j < i; j++) {
			const nicely_result *a = nicely_result_get(pool, i),
					    *b = nicely_result_get(pool, j);

			if (!a || !b || a->status || b->status ||
			    !memcmp(a->data, b->data, sizeof(int)))
				distinct = 0;
		}
	ok(distinct, "lifespan 1: twelve tasks, twelve processes");
	nicely_stats_get(pool, &st);
	is_int(st.workers_started, 12, "twelve workers started");
	nicely_pool_free(pool);

	/* lifespan 3, one worker: tasks 0-2 share a PID, 3-5 another... */
	lib_opts(&o, 1);
	o.lifespan = 3;
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");
	for (int i = 0; i < 9; i++)
		nicely_run(pool, t_pid, NULL, 0);
	nicely_wait_all(pool);
	int pids[9] = { 0 }, life_ok = 1;

	for (int i = 0; i < 9; i++) {
		r = nicely_result_get(pool, i);
		if (r && r->status == NICELY_OK)
			memcpy(&pids[i], r->data, sizeof(int));
		else
			life_ok = 0;
	}
	for (int i = 0; i < 9; i++)
		if (pids[i] != pids[i - i % 3] ||
		    (i % 3 == 0 && i && pids[i] == pids[i - 1]))
			life_ok = 0;
	ok(life_ok, "lifespan 3: a new worker every three tasks (%d %d %d)",
	   pids[0], pids[3], pids[6]);
	nicely_pool_free(pool);

	/* back-pressure: non-blocking */
	lib_opts(&o, 1);
	o.max_queued = 2;
	o.run_nonblock = 1;
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");
	int64_t last = 0;
	int n_ok = 0;

	for (int i = 0; i < 10 && last >= 0; i++)
		if ((last = nicely_run(pool, t_nap, NULL, 0)) >= 0)
			n_ok++;
	is_int(last, NICELY_EAGAIN, "run says EAGAIN when the queue is full");
	nicely_stats_get(pool, &st);
	is_int(st.queued, 2, "two tasks waiting (max_queued)");
	ok(n_ok >= 2 && n_ok <= 6, "%d runs accepted before that", n_ok);
	int64_t fid;

	is_int(nicely_map(pool, t_nap, "abc", 1, 3, 1, &fid), NICELY_EAGAIN,
	       "a map that does not fit says EAGAIN");
	nicely_wait_all(pool);
	ok(nicely_run(pool, t_nap, NULL, 0) >= 0, "room again after the batch");
	nicely_pool_free(pool);

	/* back-pressure: blocking */
	lib_opts(&o, 1);
	o.max_queued = 3;
	o.on_finish = on_finish;
	o.cb_user = &cb_token;
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");
	cur_pool = pool;
	cb_finishes = 0;
	max_queued_seen = 0;
	int worst = 0;

	for (int i = 0; i < 15; i++) {
		nicely_run(pool, t_nap, NULL, 0);
		nicely_stats_get(pool, &st);
		if (st.queued > worst)
			worst = (int)st.queued;
	}
	is_int(nicely_map(pool, t_nap, "abcdefghij", 1, 10, 1, NULL), 0,
	       "a blocking map longer than max_queued");
	nicely_stats_get(pool, &st);
	if (st.queued > worst)
		worst = (int)st.queued;
	ok(worst <= 3 && max_queued_seen <= 3,
	   "never more than 3 waiting (%d, %lld)", worst,
	   (long long)max_queued_seen);
	is_int(nicely_wait_all(pool), 0, "all 25 finish");
	nicely_stats_get(pool, &st);
	is_int(st.completed, 25, "25 completed");
	nicely_pool_free(pool);

	/* a worker_init that fails */
	lib_opts(&o, 1);
	o.worker_init = w_init_fail;
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");
	nicely_run(pool, t_pid, NULL, 0);
	nicely_run(pool, t_pid, NULL, 0);
	is_int(nicely_wait_all(pool), 0, "failing init does not hang");
	r = nicely_result_get(pool, 0);
	ok(r && r->status == NICELY_FAILED && strstr(r->error, "init"),
	   "its tasks FAILED: %s", r ? r->error : "");
	nicely_pool_free(pool);
	return tap_done();
}
