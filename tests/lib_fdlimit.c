/* libnicely under RLIMIT_NOFILE: a pool made with fds to spare whose
 * caller then uses up every fd cannot start a worker: its tasks end as
 * failures naming the reason after a bounded number of tries (about 8 s),
 * nicely_wait_all returns, and once fds are free again the same pool runs
 * tasks. (Too low a limit at nicely_pool_new is tests/run_rlimit.t's.) */
#include <sys/resource.h>

#include "tap.h"
#include "lib_util.h"

static char logs[8192]; /* the pool's log lines */

/* Keep the pool's log lines. */
static void on_log(int level, int64_t id, pid_t pid, const char *msg, void *u)
{
	size_t n = strlen(logs);

	(void)level;
	(void)id;
	(void)pid;
	(void)u;
	snprintf(logs + n, sizeof logs - n, "%s\n", msg);
}

static void on_alarm(int sig)
{
	static const char m[] = "Bail out! hung (60 s): nicely_wait_all never returned\n";

	(void)sig;
	if (write(1, m, sizeof m - 1) < 0)
		_exit(254);
	_exit(255);
}

int main(void)
{
	struct rlimit rl = { 256, 256 };
	nicely_options o;
	nicely_pool *p = NULL;
	const nicely_result *r;
	int fds[256], nfd = 0, rc;
	struct timespec t0, t1;

	lib_env_setup();
	signal(SIGALRM, on_alarm);
	alarm(60);
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		tap_bail("setrlimit");
	lib_opts(&o, 1);
	o.cgroups = NICELY_CGROUPS_OFF;
	o.lifespan = 1; /* a worker per task: each start needs fds */
	o.on_log = on_log;
	rc = nicely_pool_new(&p, &o);
	is_int(rc, 0, "a pool under ulimit -n 256 is made");
	if (rc)
		return tap_done();
	/* the caller takes every fd left */
	while (nfd < 256 && (fds[nfd] = open("/dev/null", O_RDONLY)) >= 0)
		nfd++;
	ok(nfd > 0 && errno == EMFILE, "the caller holds every fd left (%d)", nfd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	nicely_run(p, t_ok, NULL, 0);
	nicely_run(p, t_ok, NULL, 0);
	rc = nicely_wait_all(p);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) +
		      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ok(rc >= 0 && secs < 30, "nicely_wait_all returns (rc %d, %.1f s)", rc, secs);
	for (int64_t id = 0; id < 2; id++) {
		r = nicely_result_get(p, id);
		ok(r && r->status == NICELY_FAILED && r->error &&
			   strstr(r->error, "cannot start a worker") &&
			   strstr(r->error, "RLIMIT_NOFILE"),
		   "task %lld failed, naming why (%s)", (long long)id,
		   r && r->error ? r->error : "no error");
	}
	ok(strstr(logs, "cannot start a worker") != NULL,
	   "the log says a worker cannot start");
	/* fds free again: the same pool works */
	while (nfd > 0)
		close(fds[--nfd]);
	int64_t id = nicely_run(p, t_ok, NULL, 0);
	nicely_wait_all(p);
	r = nicely_result_get(p, id);
	ok(r && r->status == NICELY_OK && r->len == 5,
	   "with fds free again the pool runs a task");
	nicely_pool_free(p);
	return tap_done();
}
