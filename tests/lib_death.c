/* libnicely when workers die on their own: a task that closes every fd
 * (its worker loses its pipe) ends FAILED with that reason instead of
 * being run again for ever, in nicely_run, a chunked nicely_map and
 * nicely_map_into (every element of the chunk that began gets a result,
 * those that never began run again); workers that die before beginning
 * anything (worker_init crashing, or leaving the worker without its
 * channels) are bounded and the queue fails with a clear error;
 * nicely_pool_free from a callback is refused, not a use-after-free; and
 * a fork refused by RLIMIT_NPROC backs off and retries (bounded), then
 * runs the tasks once the limit allows. An alarm turns a hang into a
 * failure. Arguments name the tests to run (all without). */
#include <grp.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "tap.h"
#include "lib_util.h"

#define UNUSED4 (void)arg, (void)len, (void)out, (void)st

static char logs[8192];	/* the log lines of the pool being tested */

/* Keep the library's log lines (and print the errors and warnings). */
static void on_log(int level, int64_t id, pid_t pid, const char *msg, void *u)
{
	(void)u;
	(void)id;
	(void)pid;
	if (strlen(logs) + strlen(msg) + 2 < sizeof logs) {
		strcat(logs, msg);
		strcat(logs, "\n");
	}
	if (level <= NICELY_LOG_WARNING)
		tap_diag("log: %s", msg);
}

/* Close every fd of the worker (0 up), as a careless daemonising task
 * would. */
static void close_all(unsigned from)
{
	if (syscall(SYS_close_range, from, ~0U, 0) < 0)
		for (int fd = (int)from; fd < 1024; fd++)
			close(fd);
}

/* A task of about 3 ms (long enough that no task is handed out ahead of
 * time), which closes every fd when its int argument is 5, dies of
 * SIGSEGV when it is 105 and hangs for 20 s at 206. Returns the argument. */
static int t_elem(const void *arg, size_t len, nicely_out *out, void *st)
{
	int v = 0;

	(void)st;
	if (len == sizeof v)
		memcpy(&v, arg, sizeof v);
	lib_sleep_ms(3);
	if (v == 5)
		close_all(0);
	if (v == 206)
		lib_sleep_ms(20000);
	if (v == 105) {
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
	}
	nicely_out_write(out, &v, sizeof v);
	return 0;
}

/* A task that closes every fd of its worker and returns. */
static int t_close(const void *arg, size_t len, nicely_out *out, void *st)
{
	UNUSED4;
	close_all(0);
	return 0;
}

/* worker_init that crashes. */
static int init_segv(void **state, void *arg)
{
	(void)state;
	(void)arg;
	signal(SIGSEGV, SIG_DFL);
	raise(SIGSEGV);
	return 0;
}

/* worker_init that leaves its worker without its channels: every worker
 * dies before beginning a task, with nothing to blame a task for. */
static int init_closefds(void **state, void *arg)
{
	(void)state;
	(void)arg;
	close_all(3);
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char m[] = "Bail out! hung (60 s): a pool never ended\n";

	if (write(1, m, sizeof m - 1) < 0)
		_exit(254);
	_exit(255);
}

/* A pool of n workers logging into logs. */
static nicely_pool *mkpool(int n, nicely_options *o)
{
	nicely_pool *p = NULL;

	o->on_log = on_log;
	logs[0] = 0;
	if (nicely_pool_new(&p, o))
		tap_bail("nicely_pool_new failed");
	(void)n;
	return p;
}

/* The result of id, checked to be of status st with `what` in its error. */
static int res_is(nicely_pool *p, int64_t id, nicely_status st,
		  const char *what)
{
	const nicely_result *r = nicely_result_get(p, id);

	if (r && r->status == st && (!what || strstr(r->error, what)))
		return 1;
	tap_diag("task %lld: %s (%d) \"%s\", expected %s with \"%s\"",
		 (long long)id, r ? nicely_status_name(r->status) : "no result",
		 r ? r->code : 0, r ? r->error : "", nicely_status_name(st),
		 what ? what : "");
	return 0;
}

/* A task that closes all its fds: one result, FAILED, saying why. */
static void test_run_closefds(void)
{
	nicely_options o;
	nicely_pool *p;
	nicely_stats s;
	int64_t a, b;

	lib_opts(&o, 1);
	p = mkpool(1, &o);
	a = nicely_run(p, t_close, NULL, 0);
	b = nicely_run(p, t_ok, "x", 1);
	ok(nicely_wait_all(p) == 0, "close_range task: wait_all returns");
	ok(res_is(p, a, NICELY_FAILED, "lost its pipe to the pool"),
	   "close_range task: FAILED, its worker lost its pipe");
	ok(nicely_result_get(p, a) && nicely_result_get(p, a)->code == 126,
	   "close_range task: code is the worker's exit status 126");
	ok(res_is(p, b, NICELY_OK, NULL), "the next task runs in a new worker");
	nicely_stats_get(p, &s);
	ok(s.workers_started == 2, "two workers in all (%lld)",
	   (long long)s.workers_started);
	nicely_pool_free(p);
}

/* Chunks of 4: the elements of the chunk that began get a result; those
 * that never began run again. */
static void test_map_chunks(void)
{
	nicely_options o;
	nicely_pool *p;
	int v[12], good = 1;
	int64_t first;

	for (int i = 0; i < 12; i++)
		v[i] = i;
	lib_opts(&o, 1);
	p = mkpool(1, &o);
	ok(nicely_map(p, t_elem, v, sizeof v[0], 12, 4, &first) == 0,
	   "map of 12, chunks of 4, element 5 closes its fds");
	ok(nicely_wait_all(p) == 0, "map: wait_all returns");
	for (int i = 0; i < 12; i++)
		if (i >= 4 && i < 8)
			good &= res_is(p, first + i, NICELY_FAILED,
				       "lost its pipe");
		else
			good &= res_is(p, first + i, NICELY_OK, NULL);
	ok(good, "map: elements 4-7 (the chunk, all run) FAILED, the rest OK");
	ok(res_is(p, first + 4, NICELY_FAILED, "after running the task"),
	   "map: element 4 says it ran and its result was lost");

	/* a crash in the middle of a chunk: 104 ran, 106 and 107 never began */
	for (int i = 0; i < 12; i++)
		v[i] = 100 + i;
	ok(nicely_map(p, t_elem, v, sizeof v[0], 12, 4, &first) == 0,
	   "map of 12, chunks of 4, element 5 segfaults");
	ok(nicely_wait_all(p) == 0, "crash map: wait_all returns");
	ok(res_is(p, first + 4, NICELY_SIGNALED, "before its result reached"),
	   "crash map: element 4 (ran, result lost) SIGNALED with the reason");
	ok(res_is(p, first + 5, NICELY_SIGNALED, "signal"),
	   "crash map: element 5 SIGNALED");
	good = 1;
	for (int i = 0; i < 12; i++)
		if (i != 4 && i != 5)
			good &= res_is(p, first + i, NICELY_OK, NULL);
	ok(good, "crash map: elements 6 and 7 (never begun) ran again, OK");
	nicely_pool_free(p);
}

/* A timeout inside a chunk: the elements that ran before it lose their
 * results (FAILED, saying so), the one after it runs again. */
static void test_timeout_chunk(void)
{
	nicely_options o;
	nicely_pool *p;
	int v[8], good = 1;
	int64_t first;

	for (int i = 0; i < 8; i++)
		v[i] = 200 + i;
	lib_opts(&o, 1);
	o.timeout_ms = 400;
	p = mkpool(1, &o);
	ok(nicely_map(p, t_elem, v, sizeof v[0], 8, 4, &first) == 0 &&
		   nicely_wait_all(p) == 0,
	   "map of 8, chunks of 4, element 6 times out: wait_all returns");
	good &= res_is(p, first + 4, NICELY_FAILED, "timed out after running");
	good &= res_is(p, first + 5, NICELY_FAILED, "timed out after running");
	good &= res_is(p, first + 6, NICELY_TIMEOUT, NULL);
	for (int i = 0; i < 8; i++)
		if (i < 4 || i == 7)
			good &= res_is(p, first + i, NICELY_OK, NULL);
	ok(good, "timeout in a chunk: 4 and 5 lost with the reason, 6 TIMEOUT, "
	   "7 ran again");
	nicely_pool_free(p);
}

/* The same with nicely_map_into. */
static void test_map_into(void)
{
	nicely_options o;
	nicely_pool *p;
	int v[12], res[12], good = 1;
	uint8_t status[12];
	int64_t first = -1;

	for (int i = 0; i < 12; i++)
		v[i] = i;
	memset(res, 0xff, sizeof res);
	lib_opts(&o, 1);
	p = mkpool(1, &o);
	ok(nicely_map_into(p, t_elem, v, sizeof v[0], 12, 4, res,
			   sizeof res[0], status, &first) == 0,
	   "map_into of 12, chunks of 4, element 5 closes its fds");
	ok(nicely_wait_all(p) == 0, "map_into: wait_all returns");
	for (int i = 0; i < 12; i++) {
		int want = i >= 4 && i < 8 ? NICELY_FAILED : NICELY_OK;

		if (status[i] != want || (want == NICELY_OK && res[i] != i)) {
			tap_diag("element %d: status %d res %d", i, status[i],
				 res[i]);
			good = 0;
		}
	}
	ok(good, "map_into: elements 4-7 FAILED, the rest OK in place");
	ok(res_is(p, first + 6, NICELY_FAILED, "lost its pipe"),
	   "map_into: a failed element's error says why");
	nicely_pool_free(p);
}

/* worker_init crashing: bounded, every task fails saying so. */
static void test_init_crash(void)
{
	nicely_options o;
	nicely_pool *p;
	nicely_stats s;
	int v[20], good = 1;
	int64_t first;

	for (int i = 0; i < 20; i++)
		v[i] = i;
	lib_opts(&o, 2);
	o.worker_init = init_segv;
	p = mkpool(2, &o);
	nicely_map(p, t_elem, v, sizeof v[0], 20, 1, &first);
	ok(nicely_wait_all(p) == 0, "worker_init crashes: wait_all returns");
	for (int i = 0; i < 20; i++) {
		const nicely_result *r = nicely_result_get(p, first + i);

		good &= r && r->status != NICELY_OK &&
			strstr(r->error, "worker_init") != NULL;
	}
	ok(good, "worker_init crashes: every task fails naming worker_init");
	ok(res_is(p, first + 19, NICELY_FAILED, "workers in a row died"),
	   "worker_init crashes: the queue's tasks say workers kept dying");
	nicely_stats_get(p, &s);
	ok(s.workers_started <= 7, "worker_init crashes: %lld workers, not "
	   "one per task", (long long)s.workers_started);
	ok(strstr(logs, "in a row died before beginning a task") != NULL,
	   "worker_init crashes: an error line in the log");
	nicely_pool_free(p);
}

/* Every worker dies before beginning a task, no task to blame. */
static void test_die_at_start(void)
{
	nicely_options o;
	nicely_pool *p;
	nicely_stats s;
	int good = 1;
	int64_t ids[10];

	lib_opts(&o, 1);
	o.worker_init = init_closefds;
	p = mkpool(1, &o);
	for (int i = 0; i < 10; i++)
		ids[i] = nicely_run(p, t_ok, "x", 1);
	ok(nicely_wait_all(p) == 0, "workers die at start: wait_all returns");
	for (int i = 0; i < 10; i++)
		good &= res_is(p, ids[i], NICELY_FAILED, "5 workers in a row");
	ok(good, "workers die at start: every task FAILED, saying so");
	ok(res_is(p, ids[0], NICELY_FAILED, "lost its pipe"),
	   "workers die at start: the error says how the last one died");
	nicely_stats_get(p, &s);
	ok(s.workers_started == 5, "workers die at start: 5 workers tried (%lld)",
	   (long long)s.workers_started);
	/* later tasks get their own tries */
	ids[0] = nicely_run(p, t_ok, "x", 1);
	ok(nicely_wait_all(p) == 0 &&
	   res_is(p, ids[0], NICELY_FAILED, "in a row"),
	   "workers die at start: a later task is tried again and fails");
	nicely_pool_free(p);
}

static nicely_pool *cb_pool;
static int cb_calls, cb_refused, cb_run_ok;

/* on_finish calling every pool call that is not allowed there, and
 * nicely_run (allowed: the first call queues one more task). */
static void on_finish_calls(int64_t id, int64_t done, int64_t running,
			    int64_t total, void *u)
{
	int64_t first;

	(void)id;
	(void)done;
	(void)running;
	(void)total;
	(void)u;
	cb_calls++;
	nicely_pool_free(cb_pool);	/* refused: the pool goes on */
	cb_refused += nicely_reset(cb_pool) == NICELY_EBUSY;
	cb_refused += nicely_kill_all(cb_pool) == NICELY_EBUSY;
	cb_refused += nicely_wait_all(cb_pool) == NICELY_EBUSY;
	cb_refused += nicely_wait(cb_pool, 0) == NICELY_EBUSY;
	cb_refused += nicely_step(cb_pool, 0) == NICELY_EBUSY;
	if (cb_calls == 1)
		cb_run_ok += nicely_run(cb_pool, t_ok, "x", 1) == 3;
	cb_refused += nicely_map(cb_pool, t_ok, "x", 1, 1, 1, &first) ==
		      NICELY_EBUSY;
}

/* nicely_pool_free from a callback is refused, never a use-after-free. */
static void test_free_in_callback(void)
{
	nicely_options o;
	int64_t ids[3];
	int good = 1;

	lib_opts(&o, 2);
	o.on_finish = on_finish_calls;
	cb_pool = mkpool(2, &o);
	for (int i = 0; i < 3; i++)
		ids[i] = nicely_run(cb_pool, t_ok, "x", 1);
	ok(nicely_wait_all(cb_pool) == 0, "free in on_finish: wait_all returns");
	ok(cb_calls == 4 && cb_refused == 4 * 6,
	   "on_finish: reset, kill_all, wait_all, wait, step, map all "
	   "refused (%d of %d)", cb_refused, 4 * 6);
	ok(cb_run_ok == 1, "on_finish: nicely_run queues a task (id 3), "
	   "which runs too");
	for (int i = 0; i < 3; i++)
		good &= res_is(cb_pool, ids[i], NICELY_OK, NULL);
	ok(good, "free in on_finish: the pool and its results live on");
	ok(strstr(logs, "nicely_pool_free called from a callback: refused") !=
		   NULL,
	   "free in on_finish: the log says it was refused");
	nicely_pool_free(cb_pool);
	cb_pool = NULL;
}

/* Under RLIMIT_NPROC (as an unprivileged uid): report one check to the
 * parent on fd. */
static void put(int fd, int cond, const char *what)
{
	dprintf(fd, "%d %s\n", !!cond, what);
}

static int np_tries, np_raise;

/* Count the pool's "trying again" lines; at the second, lift the limit
 * of the fork server (this process's only child) when asked. */
static void np_log(int level, int64_t id, pid_t pid, const char *msg, void *u)
{
	on_log(level, id, pid, msg, u);
	if (!strstr(msg, "trying again"))
		return;
	if (++np_tries == 2 && np_raise) {
		char path[64], buf[64];
		struct rlimit rl = { 64, 64 };
		pid_t fs;

		snprintf(path, sizeof path, "/proc/self/task/%d/children",
			 (int)getpid());
		fs = atoi(lib_slurp(path, buf, sizeof buf));
		if (fs <= 0 || prlimit(fs, RLIMIT_NPROC, &rl, NULL))
			tap_diag("cannot lift the fork server's limit");
	}
}

/* The child: a uid with no other process, RLIMIT_NPROC 2 (itself and the
 * fork server: every worker's fork fails). */
static void nproc_child(int fd)
{
	struct rlimit rl = { 2, 64 };
	nicely_options o;
	nicely_pool *p = NULL;
	int64_t ids[4];
	int good = 1;
	struct timespec t0, t1;

	alarm(50);	/* (alarms are not inherited) */
	if (setgroups(0, NULL) || setresgid(54321, 54321, 54321) ||
	    setresuid(54321, 54321, 54321) || setrlimit(RLIMIT_NPROC, &rl)) {
		put(fd, 0, "become uid 54321 with RLIMIT_NPROC 2");
		_exit(1);
	}
	lib_env_setup();
	/* without a limit lifted: bounded retries, then a clear failure */
	lib_opts(&o, 1);
	o.on_log = np_log;
	o.cgroups = NICELY_CGROUPS_OFF;
	logs[0] = 0;
	if (nicely_pool_new(&p, &o)) {
		put(fd, 0, "nicely_pool_new under RLIMIT_NPROC 2");
		_exit(1);
	}
	for (int i = 0; i < 4; i++)
		ids[i] = nicely_run(p, t_ok, "x", 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	put(fd, nicely_wait_all(p) == 0, "NPROC: wait_all returns");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < 4; i++) {
		const nicely_result *r = nicely_result_get(p, ids[i]);

		good &= r && r->status == NICELY_FAILED &&
			strstr(r->error, "cannot fork a worker") &&
			strstr(r->error, "RLIMIT_NPROC");
		if (r && i == 0)
			tap_diag("NPROC: %s", r->error);
	}
	put(fd, good, "NPROC: every task FAILED: cannot fork a worker "
		      "(RLIMIT_NPROC)");
	put(fd, np_tries >= 5, "NPROC: it backed off and tried again, logged");
	put(fd, t1.tv_sec - t0.tv_sec >= 4 && t1.tv_sec - t0.tv_sec < 30,
	    "NPROC: it gave up after a bounded wait (4-30 s)");
	nicely_pool_free(p);
	/* the limit lifted while it waits: the tasks run */
	np_tries = 0;
	np_raise = 1;
	p = NULL;
	if (nicely_pool_new(&p, &o)) {
		put(fd, 0, "second nicely_pool_new under RLIMIT_NPROC 2");
		_exit(1);
	}
	for (int i = 0; i < 4; i++)
		ids[i] = nicely_run(p, t_ok, "x", 1);
	put(fd, nicely_wait_all(p) == 0, "NPROC lifted: wait_all returns");
	good = 1;
	for (int i = 0; i < 4; i++) {
		const nicely_result *r = nicely_result_get(p, ids[i]);

		good &= r && r->status == NICELY_OK;
	}
	put(fd, good && np_tries >= 2,
	    "NPROC lifted while backing off: every task ran OK");
	nicely_pool_free(p);
	/* leave without atexit handlers (LeakSanitizer's tracer cannot fork
	 * under this limit) */
	_exit(0);
}

/* Run nproc_child as root's unprivileged child and report its checks. */
static void test_nproc(void)
{
	int fds[2], n = 0, status;
	char line[512];
	pid_t c;
	FILE *f;

	if (geteuid() != 0) {
		ok(1, "# SKIP RLIMIT_NPROC needs root (to become a fresh uid)");
		return;
	}
	if (pipe(fds))
		tap_bail("pipe");
	fflush(stdout);
	c = fork();
	if (c == 0) {
		close(fds[0]);
		nproc_child(fds[1]);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	while (f && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		ok(line[0] == '1', "%s", line + 2);
		n++;
	}
	if (f)
		fclose(f);
	waitpid(c, &status, 0);
	ok(n == 6 && WIFEXITED(status) && !WEXITSTATUS(status),
	   "NPROC child: all checks reported (%d), exit %d", n,
	   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* The tests, by name: with arguments, only those named run. */
static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "run_closefds", test_run_closefds },
	{ "map_chunks", test_map_chunks },
	{ "timeout_chunk", test_timeout_chunk },
	{ "map_into", test_map_into },
	{ "init_crash", test_init_crash },
	{ "die_at_start", test_die_at_start },
	{ "free_in_callback", test_free_in_callback },
	{ "nproc", test_nproc },
};

int main(int argc, char **argv)
{
	signal(SIGALRM, on_alarm);
	lib_env_setup();
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		int want = argc < 2;

		for (int a = 1; a < argc; a++)
			want |= !strcmp(argv[a], tests[i].name);
		if (!want)
			continue;
		alarm(60);	/* each test: a hang becomes a failure */
		tests[i].fn();
	}
	return tap_done();
}
