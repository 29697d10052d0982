/* libnicely when the pool's owner is SIGKILLed: a child process creates a
 * pool and starts long tasks, reports the fork server's and workers' PIDs,
 * and is killed; the fork server and every worker must die too, and the
 * next pool removes the cgroups the dead one left. This test
 * is a child subreaper so the orphans come back to it and can be reaped. */
#include <stdint.h>
#include <fcntl.h>
#include <sys/prctl.h>

#include "tap.h"
#include "lib_util.h"

static int report_fd = -1;

/* Announce ourselves, then sleep a long time. */
static int t_sleeper(const void *arg, size_t len, nicely_out *out, void *st)
{
	(void)arg;
	(void)len;
	(void)out;
	(void)st;
	nicely_log(NICELY_LOG_INFO, "started");
	lib_sleep_ms(60000);
	return 0;
}

/* In the doomed owner: pass each started worker's PID to the test. */
static void on_log(int level, int64_t id, pid_t pid, const char *msg, void *u)
{
	int v = (int)pid;

	(void)u;
	(void)level;
	(void)id;
	if (!strcmp(msg, "started") && write(report_fd, &v, sizeof v) < 0)
		_exit(3);
}

/* The doomed owner: pool, tasks, report the fork server, step forever. */
__attribute__((noreturn)) static void owner(int fd)
{
	nicely_options o;
	nicely_pool *pool;
	char path[64];
	int fs = 0;
	FILE *f;

	report_fd = fd;
	lib_opts(&o, 2);
	o.on_log = on_log;
	if (nicely_pool_new(&pool, &o))
		_exit(2);
	snprintf(path, sizeof path, "/proc/self/task/%d/children",
		 (int)getpid());
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%d", &fs) != 1)
			fs = 0;
		fclose(f);
	}
	if (write(fd, &fs, sizeof fs) < 0)
		_exit(3);
	for (int i = 0; i < 4; i++)
		nicely_run(pool, t_sleeper, NULL, 0);
	for (;;)
		nicely_step(pool, 1000);
}

/* Read one int from fd within 20 s. */
static int read_int(int fd, int *v)
{
	struct timespec ts = { 0, 10000000 };

	for (int i = 0; i < 2000; i++) {
		ssize_t n = read(fd, v, sizeof *v);

		if (n == (ssize_t)sizeof *v)
			return 1;
		if (n == 0)
			return 0;
		nanosleep(&ts, NULL);
	}
	return 0;
}

int main(void)
{
	int pfd[2], fs = 0, w[2] = { 0, 0 }, st;
	pid_t child;

	lib_env_setup();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		tap_skip_all("cannot become a child subreaper");
	if (pipe(pfd))
		tap_bail("pipe");
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	child = fork();
	if (child < 0)
		tap_bail("fork");
	if (child == 0) {
		close(pfd[0]);
		owner(pfd[1]);
	}
	close(pfd[1]);
	int got = read_int(pfd[0], &fs);

	ok(got && fs > 0, "the owner has a fork server (%d)", fs);
	got = read_int(pfd[0], &w[0]);
	got = got && read_int(pfd[0], &w[1]);
	ok(got && w[0] > 0 && w[1] > 0 && w[0] != w[1],
	   "two workers started (%d, %d)", w[0], w[1]);
	kill(child, SIGKILL);
	is_int(waitpid(child, &st, 0), child, "owner reaped");
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "owner died of SIGKILL");
	ok(lib_wait_gone(fs, 10), "the fork server died with its owner");
	ok(lib_wait_gone(w[0], 10), "worker %d died too", w[0]);
	ok(lib_wait_gone(w[1], 10), "worker %d died too", w[1]);
	/* Reap the orphans that came back to us; kill any survivor. */
	int pids[3] = { fs, w[0], w[1] };

	for (int i = 0; i < 3; i++)
		if (pids[i] > 0) {
			if (!lib_pid_gone(pids[i]))
				kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, WNOHANG);
		}
	/* the dead owner's cgroups (when it had them) are removed by the
	 * next pool of this user */
	nicely_options o;
	nicely_pool *pool;

	tap_diag("%d cgroups of the dead owner left", lib_cg_count(child));
	lib_opts(&o, 1);
	is_int(nicely_pool_new(&pool, &o), 0, "a new pool");
	is_int(lib_cg_count(child), 0,
	       "no cgroup of the dead owner is left after it");
	nicely_pool_free(pool);
	close(pfd[0]);
	return tap_done();
}
