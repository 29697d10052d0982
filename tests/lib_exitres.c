/* worker_exit results (nicely_exit_write, nicely_exit_results: one per
 * worker that ran worker_exit, cumulative until reset), and the
 * worker_init / worker_exit timeouts. */
#include "tests/lib_util.h"
#include "tests/tap.h"

struct st {
	int tasks;
};

static int w_init(void **state, void *arg)
{
	(void)arg;
	*state = calloc(1, sizeof(struct st));
	return *state ? 0 : 1;
}

/* Hands back {pid, tasks run}. */
static void w_exit(void *state, void *arg)
{
	struct st *s = state;
	int v[2] = { (int)getpid(), s ? s->tasks : -1 };

	(void)arg;
	nicely_exit_write(v, sizeof v);
	free(s);
}

/* Counts itself; returns what nicely_exit_write says outside worker_exit. */
static int t_count(const void *arg, size_t len, nicely_out *out, void *state)
{
	struct st *s = state;
	int rc = nicely_exit_write("x", 1);

	(void)arg;
	(void)len;
	if (s)
		s->tasks++;
	return nicely_out_write(out, &rc, sizeof rc);
}

static int w_init_slow(void **state, void *arg)
{
	(void)state;
	(void)arg;
	lib_sleep_ms(10000);
	return 0;
}

static void w_exit_slow(void *state, void *arg)
{
	(void)state;
	(void)arg;
	lib_sleep_ms(10000);
}

static int exit_warnings;

static void on_log(int level, int64_t id, pid_t pid, const char *msg, void *u)
{
	(void)level;
	(void)id;
	(void)pid;
	(void)u;
	if (strstr(msg, "worker_exit ran past exit_timeout_ms"))
		exit_warnings++;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	nicely_options o;
	nicely_pool *pool;
	const nicely_exit_result *er;
	const nicely_result *r;
	nicely_stats st;
	int64_t n;
	int sum = 0, pids_ok = 0;

	lib_env_setup();
	is_int(nicely_exit_write("x", 1), NICELY_EBUSY,
	       "nicely_exit_write outside a worker: EBUSY");

	lib_opts(&o, 2);
	o.worker_init = w_init;
	o.worker_exit = w_exit;
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");
	for (int i = 0; i < 20; i++)
		nicely_run(pool, t_count, NULL, 0);
	n = nicely_exit_results(pool, &er);
	nicely_stats_get(pool, &st);
	is_int(n, st.workers_started, "one exit result per worker (%lld)",
	       (long long)n);
	for (int64_t i = 0; i < n; i++) {
		int v[2] = { 0, 0 };

		if (er[i].len == sizeof v)
			memcpy(v, er[i].data, sizeof v);
		pids_ok += v[0] == (int)er[i].pid;
		sum += v[1];
	}
	is_int(pids_ok, (int)n, "each from its own worker");
	is_int(sum, 20, "their counts add up to the 20 tasks");
	is_int(st.completed, 20, "the tasks finished first");
	r = nicely_result_get(pool, 0);
	ok(r && r->len == sizeof(int) && *(const int *)r->data == NICELY_EBUSY,
	   "nicely_exit_write from a task: EBUSY");
	nicely_stats_get(pool, &st);
	is_int(st.workers, 0, "the workers are retired");
	for (int i = 0; i < 5; i++)
		nicely_run(pool, t_count, NULL, 0);
	int64_t n2 = nicely_exit_results(pool, &er);

	ok(n2 > n, "the pool goes on with new workers; results add up (%lld)",
	   (long long)n2);
	is_int(nicely_reset(pool), 0, "reset");
	is_int(nicely_exit_results(pool, &er), 0, "reset forgets them");
	nicely_pool_free(pool);

	/* init timeout */
	lib_opts(&o, 1);
	o.worker_init = w_init_slow;
	o.init_timeout_ms = 300;
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");
	double t0 = now_s();
	int64_t id = nicely_run(pool, t_count, NULL, 0);

	nicely_wait_all(pool);
	r = nicely_result_get(pool, id);
	ok(r && r->status == NICELY_FAILED &&
		   strstr(r->error, "worker init failed: timed out after 300 ms"),
	   "worker_init past init_timeout_ms: the task fails (%s)",
	   r ? r->error : "-");
	ok(now_s() - t0 < 8, "after 5 tries, not 10 s each (%.1f s)",
	   now_s() - t0);
	nicely_pool_free(pool);

	/* exit timeout */
	lib_opts(&o, 1);
	o.worker_exit = w_exit_slow;
	o.exit_timeout_ms = 300;
	o.lifespan = 1;
	o.on_log = on_log;
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");
	id = nicely_run(pool, t_count, NULL, 0);
	nicely_wait_all(pool);
	r = nicely_result_get(pool, id);
	pid_t wp = r ? r->pid : 0;

	t0 = now_s();
	while (now_s() - t0 < 4 && !exit_warnings)
		nicely_step(pool, 100);
	is_int(exit_warnings, 1, "worker_exit past exit_timeout_ms: logged");
	ok(now_s() - t0 < 3, "within its timeout (%.1f s)", now_s() - t0);
	ok(lib_wait_gone(wp, 3), "and its worker is gone");
	t0 = now_s();
	nicely_pool_free(pool);
	return tap_done();
}
