/* libnicely's stated rules: log lines outside a task carry id -1 (from
 * worker_init and worker_exit too), inside a task its id; max_workers
 * follows the one rule nicely run -j shares: under a preset that ignores
 * others (nuclear) exactly max_workers run at once, also above the CPU
 * count; under a preset that watches others never more than one per
 * allowed CPU. */
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "tests/lib_util.h"
#include "tests/tap.h"

static int64_t init_id = 99, exit_id = 99, task_id = 99, task_want = -5;
static int nlines;

/* Log lines: remember the ids of the ones the workers sent. */
static void on_log(int level, int64_t id, pid_t pid, const char *msg, void *u)
{
	(void)level;
	(void)u;
	if (!pid)
		return;
	nlines++;
	if (!strcmp(msg, "from init"))
		init_id = id;
	else if (!strcmp(msg, "from exit"))
		exit_id = id;
	else if (!strcmp(msg, "from a task"))
		task_id = id;
}

/* worker_init and worker_exit that log. */
static int w_init(void **state, void *arg)
{
	(void)state;
	(void)arg;
	nicely_log(NICELY_LOG_INFO, "from init");
	return 0;
}

static void w_exit(void *state, void *arg)
{
	(void)state;
	(void)arg;
	nicely_log(NICELY_LOG_INFO, "from exit");
}

static int t_log(const void *arg, size_t len, nicely_out *out, void *st)
{
	(void)arg;
	(void)len;
	(void)out;
	(void)st;
	nicely_log(NICELY_LOG_INFO, "from a task");
	return 0;
}

/* Shared with every worker (made before the pools): how many tasks are
 * in their wait at once, and the most seen. */
struct meet {
	atomic_int in, peak;
};
static struct meet *meet;

/* Wait (up to 3 s) until `want` tasks are in at once; returns the most
 * seen together as its byte. */
static int t_meet(const void *arg, size_t len, nicely_out *out, void *st)
{
	int want = *(const int *)arg, n, peak;

	(void)len;
	(void)st;
	n = atomic_fetch_add(&meet->in, 1) + 1;
	peak = atomic_load(&meet->peak);
	while (n > peak && !atomic_compare_exchange_weak(&meet->peak, &peak, n))
		;
	for (int i = 0; i < 300 && atomic_load(&meet->peak) < want; i++)
		lib_sleep_ms(10);
	/* stay a little so that the others see us in */
	lib_sleep_ms(100);
	atomic_fetch_sub(&meet->in, 1);
	peak = atomic_load(&meet->peak);
	return nicely_out_write(out, &peak, sizeof peak);
}

/* Run n meeting tasks on a pool of preset/max_workers; the peak. */
static int meet_peak(const char *preset, int max_workers, int n, int want)
{
	nicely_options o;
	nicely_pool *pool;

	atomic_store(&meet->in, 0);
	atomic_store(&meet->peak, 0);
	nicely_options_init(&o);
	o.preset = preset;
	o.max_workers = max_workers;
	o.cgroups = NICELY_CGROUPS_OFF;
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");
	for (int i = 0; i < n; i++)
		nicely_run(pool, t_meet, &want, sizeof want);
	nicely_wait_all(pool);
	nicely_pool_free(pool);
	return atomic_load(&meet->peak);
}

int main(void)
{
	nicely_options o;
	nicely_pool *pool;
	cpu_set_t set;
	int npus;

	lib_env_setup();
	meet = mmap(NULL, sizeof *meet, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (meet == MAP_FAILED)
		tap_bail("mmap");

	/* item: the log id outside a task */
	lib_opts(&o, 1);
	o.worker_init = w_init;
	o.worker_exit = w_exit;
	o.on_log = on_log;
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");
	task_want = nicely_run(pool, t_log, NULL, 0);
	is_int(nicely_wait_all(pool), 0, "wait_all");
	nicely_pool_free(pool);
	is_int(nlines, 3, "three lines from the worker");
	is_int(init_id, -1, "a line from worker_init carries id -1");
	is_int(exit_id, -1, "a line from worker_exit carries id -1");
	is_int(task_id, task_want, "a line from a task carries its id");

	/* ABI: a program built against 0.2 calls the plain functions with a
	 * struct of 0.2's size; what lies past it is never read */
	{
		struct {
			nicely_options o;
			char guard[64];
		} old;

		memset(&old, 0x5a, sizeof old);
		(nicely_options_init)(&old.o);
		ok(old.o.stop_on_failure != 0 && old.o.cgroups == 0 &&
			   old.o.preset == NULL,
		   "0.2's nicely_options_init clears 0.2's fields only");
		old.o.preset = "nuclear";
		old.o.max_workers = 1;
		old.o.on_log = NULL;
		/* 0.3's fields hold garbage (a bad cpus pointer, progress 0x5a5a5a5a) */
		is_int((nicely_pool_new)(&pool, &old.o), 0,
		       "0.2's nicely_pool_new ignores the fields after 0.2's");
		is_int(nicely_wait(pool, nicely_run(pool, t_log, NULL, 0)), 0,
		       "and the pool runs");
		nicely_pool_free(pool);
		nicely_options_init(&o);
		ok(o.stop_on_failure == 0 && o.cpus == NULL && o.progress == 0,
		   "nicely_options_init (the macro) clears every field");
	}

	/* item: max_workers against the CPUs */
	sched_getaffinity(0, sizeof set, &set);
	npus = CPU_COUNT(&set);
	is_int(meet_peak("nuclear", npus + 2, npus + 2, npus + 2), npus + 2,
	       "nuclear: max_workers %d on %d CPUs run at once", npus + 2,
	       npus);
	int p = meet_peak("nuclear", 1, 3, 2);

	is_int(p, 1, "nuclear: max_workers 1 runs one at a time");
	p = meet_peak("normal", npus + 2, npus + 2, npus + 2);
	ok(p >= 1 && p <= npus, "normal: max_workers %d on %d CPUs runs at "
	   "most one per CPU (%d at once)", npus + 2, npus, p);
	return tap_done();
}
