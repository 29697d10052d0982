/* libnicely failures are data: a task that segfaults (SIGNALED), calls
 * exit() (FAILED with its code), returns non-zero with an error text, or
 * runs past the timeout with a child of its own (TIMEOUT, both killed).
 * The pool goes on afterwards and nothing is left running. */
#include <stdint.h>

#include "tap.h"
#include "lib_util.h"

static pid_t grandchild;

/* Die of SIGSEGV (the sanitizers' handler is removed first). */
static int t_segv(const void *arg, size_t len, nicely_out *out, void *st)
{
	(void)arg;
	(void)len;
	(void)out;
	(void)st;
	signal(SIGSEGV, SIG_DFL);
	raise(SIGSEGV);
	return 0;
}

/* Leave the worker with exit(3). */
static int t_exit(const void *arg, size_t len, nicely_out *out, void *st)
{
	(void)arg;
	(void)len;
	(void)out;
	(void)st;
	exit(3);
}

/* Fail politely. */
static int t_fail(const void *arg, size_t len, nicely_out *out, void *st)
{
	(void)arg;
	(void)len;
	(void)st;
	nicely_out_write(out, "partial", 7);
	nicely_out_error(out, "bad input %d", 5);
	return 5;
}

/* Start a child that sleeps, report its PID, then hang. */
static int t_hang(const void *arg, size_t len, nicely_out *out, void *st)
{
	pid_t c;

	(void)arg;
	(void)len;
	(void)out;
	(void)st;
	c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	nicely_log(NICELY_LOG_INFO, "child %d", (int)c);
	for (;;)
		lib_sleep_ms(1000);
	return 0;
}

/* Catch the hanging task's report of its child. */
static void on_log(int level, int64_t id, pid_t pid, const char *msg, void *u)
{
	int c;

	(void)u;
	(void)level;
	(void)id;
	(void)pid;
	if (sscanf(msg, "child %d", &c) == 1)
		grandchild = c;
}

int main(void)
{
	nicely_options o;
	nicely_pool *pool;
	const nicely_result *r;
	int64_t id[6];
	nicely_stats st;

	lib_env_setup();
	lib_opts(&o, 2);
	o.timeout_ms = 1500;
	o.on_log = on_log;
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");
	id[0] = nicely_run(pool, t_segv, NULL, 0);
	id[1] = nicely_run(pool, t_exit, NULL, 0);
	id[2] = nicely_run(pool, t_fail, NULL, 0);
	id[3] = nicely_run(pool, t_hang, NULL, 0);
	id[4] = nicely_run(pool, t_ok, NULL, 0);
	id[5] = nicely_run(pool, t_ok, NULL, 0);
	is_int(nicely_wait_all(pool), 0, "wait_all returns (nothing hangs)");

	r = nicely_result_get(pool, id[0]);
	ok(r && r->status == NICELY_SIGNALED && r->code == SIGSEGV,
	   "segfault: SIGNALED, code %d", r ? r->code : -1);
	ok(r && strstr(r->error, "signal"), "segfault: error says so: %s",
	   r ? r->error : "");
	r = nicely_result_get(pool, id[1]);
	ok(r && r->status == NICELY_FAILED && r->code == 3,
	   "exit(3): FAILED, code %d", r ? r->code : -1);
	ok(r && strstr(r->error, "exit(3)"), "exit(3): error says so: %s",
	   r ? r->error : "");
	r = nicely_result_get(pool, id[2]);
	ok(r && r->status == NICELY_FAILED && r->code == 5,
	   "return 5: FAILED, code 5");
	is_str(r ? r->error : NULL, "bad input 5", "nicely_out_error text kept");
	ok(r && r->len == 7 && !memcmp(r->data, "partial", 7),
	   "bytes written before failing are kept");
	r = nicely_result_get(pool, id[3]);
	ok(r && r->status == NICELY_TIMEOUT, "hang: TIMEOUT (%s)",
	   r ? nicely_status_name(r->status) : "none");
	ok(r && r->pid > 0 && lib_wait_gone(r->pid, 5),
	   "the timed-out worker is gone");
	ok(grandchild > 0 && lib_wait_gone(grandchild, 5),
	   "its child (pid %d) is gone too", (int)grandchild);
	for (int i = 4; i < 6; i++) {
		r = nicely_result_get(pool, id[i]);
		ok(r && r->status == NICELY_OK && r->len == 5 &&
			   !strcmp(r->data, "fine"),
		   "task %d after the failures ran fine", i);
	}
	nicely_stats_get(pool, &st);
	{
		const nicely_result *a = nicely_result_get(pool, id[0]),
				    *b = nicely_result_get(pool, id[1]),
				    *c = nicely_result_get(pool, id[3]);

		ok(a && b && c && a->pid > 0 && b->pid > 0 && c->pid > 0 &&
			   a->pid != b->pid && b->pid != c->pid &&
			   a->pid != c->pid,
		   "each crash took its own worker (%d %d %d)",
		   a ? (int)a->pid : 0, b ? (int)b->pid : 0,
		   c ? (int)c->pid : 0);
	}
	ok(st.workers_started >= 3,
	   "crashed and timed-out workers were replaced (%lld started)",
	   (long long)st.workers_started);
	is_int(st.failed, 4, "four failures counted");

	/* The pool keeps working after all that. */
	int64_t again = nicely_run(pool, t_ok, NULL, 0);

	is_int(nicely_wait(pool, again), 0, "wait for one more task");
	r = nicely_result_get(pool, again);
	ok(r && r->status == NICELY_OK, "the pool goes on");
	pid_t last = r ? r->pid : 0;

	nicely_pool_free(pool);
	ok(lib_wait_gone(last, 5), "pool_free leaves no worker behind");

	/* A caller that ignores SIGCHLD: crashes are still reported. */
	signal(SIGCHLD, SIG_IGN);
	lib_opts(&o, 2);
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");
	id[0] = nicely_run(pool, t_segv, NULL, 0);
	id[1] = nicely_run(pool, t_ok, NULL, 0);
	is_int(nicely_wait_all(pool), 0, "SIGCHLD ignored: wait_all returns");
	r = nicely_result_get(pool, id[0]);
	ok(r && r->status == NICELY_SIGNALED, "SIGCHLD ignored: crash reported");
	r = nicely_result_get(pool, id[1]);
	ok(r && r->status == NICELY_OK, "SIGCHLD ignored: the other task ran");
	nicely_pool_free(pool);
	signal(SIGCHLD, SIG_DFL);
	return tap_done();
}
