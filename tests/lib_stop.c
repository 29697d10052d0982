/* options.stop_on_failure: the first task that fails (returns non-zero,
 * dies of a signal, times out) stops every task unfinished at that moment
 * (queued: CANCELLED, running: KILLED), nothing of them runs afterwards,
 * later tasks run as usual; a map held back by max_queued stops too; off
 * (the default), a failure stops nothing. */
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "tests/lib_util.h"
#include "tests/tap.h"

static atomic_int *began;	/* shared: per index, it began */

/* Arg: int index; index `bad` (the second int) fails the way `how` says
 * (third int: 0 return 1, 1 SIGKILL itself, 2 sleep past the timeout);
 * the others sleep 100 ms. */
static int t_maybe(const void *arg, size_t len, nicely_out *out, void *st)
{
	const int *a = arg;

	(void)len;
	(void)st;
	atomic_store(&began[a[0]], 1);
	if (a[0] == a[1]) {
		if (a[2] == 1)
			raise(SIGKILL);
		if (a[2] == 2)
			lib_sleep_ms(5000);
		return 1;
	}
	lib_sleep_ms(100);
	return nicely_out_write(out, &a[0], sizeof a[0]);
}

static char last_log[512];

static void on_log(int level, int64_t id, pid_t pid, const char *msg, void *u)
{
	(void)level;
	(void)id;
	(void)pid;
	(void)u;
	if (strstr(msg, "stop_on_failure"))
		snprintf(last_log, sizeof last_log, "%s", msg);
}

/* A map of 40 on 2 workers where element 5 fails the way how says. */
static void one(int stop, int how, size_t max_queued, const char *name)
{
	nicely_options o;
	nicely_pool *pool;
	int args[40][3];
	int64_t first;
	int n[8] = { 0 }, after = 0;

	memset(began, 0, 64 * sizeof *began);
	last_log[0] = 0;
	lib_opts(&o, 2);
	o.stop_on_failure = stop;
	o.max_queued = max_queued;
	o.timeout_ms = how == 2 ? 1000 : 0;
	o.on_log = on_log;
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");
	for (int i = 0; i < 40; i++) {
		args[i][0] = i;
		args[i][1] = 5;
		args[i][2] = how;
	}
	is_int(nicely_map(pool, t_maybe, args, sizeof args[0], 40, 1, &first),
	       0, "%s: map of 40", name);
	is_int(nicely_wait_all(pool), 0, "%s: wait_all", name);
	for (int i = 0; i < 40; i++) {
		const nicely_result *r = nicely_result_get(pool, first + i);

		if (!r) {
			n[7]++;
			continue;
		}
		n[r->status]++;
		if (r->status == NICELY_CANCELLED) {
			if (!strstr(r->error, "cancelled: task 5 ") ||
			    !strstr(r->error, "stop_on_failure"))
				n[7]++;
			if (atomic_load(&began[i]))
				after++;	/* a cancelled one that ran */
		}
		if (r->status == NICELY_KILLED &&
		    !strstr(r->error, "stop_on_failure is set"))
			n[7]++;
	}
	int want5 = how == 0 ? NICELY_FAILED : how == 1 ? NICELY_SIGNALED
							: NICELY_TIMEOUT;

	is_int(nicely_task_status(pool, first + 5), want5, "%s: element 5 %s",
	       name, nicely_status_name(want5));
	if (stop) {
		/* a timeout comes after 1 s, when the other worker has run
		 * about 10 tasks of 100 ms */
		int most = how == 2 ? 18 : 8;

		ok(n[NICELY_CANCELLED] >= 39 - most - 2,
		   "%s: at least %d cancelled (%d)", name, 39 - most - 2,
		   n[NICELY_CANCELLED]);
		ok(n[NICELY_OK] <= most, "%s: at most %d ran to their end (%d)",
		   name, most, n[NICELY_OK]);
		is_int(n[NICELY_OK] + n[NICELY_CANCELLED] + n[NICELY_KILLED] + 1,
		       40, "%s: every other one is OK, CANCELLED or KILLED",
		       name);
		is_int(after, 0, "%s: no cancelled one began", name);
		is_int(n[7], 0, "%s: every text names task 5 and "
		       "stop_on_failure", name);
		ok(strstr(last_log, "task 5") != NULL, "%s: a log line says so: "
		   "%s", name, last_log);
		/* later work runs as usual */
		int ok_args[3] = { 7, 99, 0 };
		int64_t id = nicely_run(pool, t_maybe, ok_args, sizeof ok_args);

		nicely_wait(pool, id);
		is_int(nicely_task_status(pool, id), NICELY_OK,
		       "%s: a task queued after the stop runs", name);
	} else {
		is_int(n[NICELY_OK], 39, "%s: the 39 others ran", name);
	}
	nicely_pool_free(pool);
}

int main(void)
{
	lib_env_setup();
	began = mmap(NULL, 64 * sizeof *began, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (began == MAP_FAILED)
		tap_bail("mmap");
	one(0, 0, 0, "off");
	one(1, 0, 0, "stop, a failure");
	one(1, 1, 0, "stop, a crash");
	one(1, 2, 0, "stop, a timeout");
	one(1, 0, 4, "stop, max_queued 4");
	return tap_done();
}
