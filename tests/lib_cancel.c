/* nicely_cancel: a queued task leaves the queue (CANCELLED), a task handed
 * to a worker in a chunk but not begun is skipped there (CANCELLED, never
 * run), a running one has its worker killed (KILLED) while the worker's
 * other tasks run elsewhere; finished tasks and unknown ids, callbacks,
 * map_into elements; with cgroups and without. */
#include <stdatomic.h>
#include <sys/mman.h>

#include "tests/lib_util.h"
#include "tests/tap.h"

/* Shared with the workers (made before the pools). */
struct shared {
	atomic_int began[64];	/* per element/task index: it began */
	atomic_int ran;		/* how many bodies ran */
	atomic_int release;	/* the blocking task may end */
	atomic_int pid;		/* of the blocking task */
};
static struct shared *sh;

/* Arg: an int index. Marks itself begun; index 0 of a map (or a task
 * with a negative index, which marks began[63]) blocks until released
 * (up to 20 s). */
static int t_mark(const void *arg, size_t len, nicely_out *out, void *st)
{
	int i = *(const int *)arg;

	(void)len;
	(void)st;
	atomic_fetch_add(&sh->ran, 1);
	if (i < 0 || i == 0) {
		atomic_store(&sh->pid, getpid());
		atomic_store(&sh->began[i < 0 ? 63 : 0], 1);
		for (int k = 0; k < 2000 && !atomic_load(&sh->release); k++)
			lib_sleep_ms(10);
	} else {
		atomic_store(&sh->began[i], 1);
	}
	return nicely_out_write(out, &i, sizeof i);
}

static nicely_pool *cb_pool;
static int cb_rc = 99;

/* on_finish: nicely_cancel from a callback is refused. */
static void on_finish(int64_t id, int64_t done, int64_t running,
		      int64_t total, void *u)
{
	(void)done;
	(void)running;
	(void)total;
	(void)u;
	cb_rc = nicely_cancel(cb_pool, id + 1);
}

static void reset_shared(void)
{
	memset(sh, 0, sizeof *sh);
}

/* Everything, with cgroups mode cg. */
static void run_mode(int cg, const char *mode)
{
	nicely_options o;
	nicely_pool *pool;
	const nicely_result *r;
	int args[10], blk = -1;

	/* queued */
	reset_shared();
	lib_opts(&o, 1);
	o.cgroups = cg;
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");
	int64_t a = nicely_run(pool, t_mark, &blk, sizeof blk);
	int one = 1, two = 2;
	int64_t b = nicely_run(pool, t_mark, &one, sizeof one);
	int64_t c = nicely_run(pool, t_mark, &two, sizeof two);

	for (int k = 0; k < 1000 && !atomic_load(&sh->pid); k++)
		nicely_step(pool, 10);
	is_int(nicely_cancel(pool, b), 1, "%s: cancel a queued task: 1", mode);
	is_int(nicely_task_status(pool, b), NICELY_CANCELLED,
	       "%s: it is CANCELLED at once", mode);
	r = nicely_result_get(pool, b);
	ok(r && !strcmp(r->error, "cancelled by nicely_cancel"),
	   "%s: its error says nicely_cancel", mode);
	is_int(nicely_cancel(pool, b), 0, "%s: cancel it again: 0", mode);
	is_int(nicely_cancel(pool, 1000), NICELY_ENOENT,
	       "%s: an unknown id: NICELY_ENOENT", mode);

	/* running */
	uint64_t t0 = (uint64_t)time(NULL);
	pid_t wpid = atomic_load(&sh->pid);

	ok(wpid > 0, "%s: the blocking task runs", mode);
	is_int(nicely_cancel(pool, a), 1, "%s: cancel a running task: 1", mode);
	is_int(nicely_wait(pool, a), 0, "%s: wait for it", mode);
	r = nicely_result_get(pool, a);
	ok(r && r->status == NICELY_KILLED &&
		   !strcmp(r->error, "killed by nicely_cancel"),
	   "%s: it is KILLED by nicely_cancel (%s: %s)", mode,
	   r ? nicely_status_name(r->status) : "-", r ? r->error : "-");
	ok((uint64_t)time(NULL) - t0 < 10, "%s: at once, not after its "
	   "20 s", mode);
	ok(lib_wait_gone(wpid, 5), "%s: its worker is gone", mode);
	is_int(nicely_wait_all(pool), 0, "%s: wait_all", mode);
	r = nicely_result_get(pool, c);
	ok(r && r->status == NICELY_OK, "%s: the task queued after it ran on "
	   "a new worker", mode);
	is_int(atomic_load(&sh->began[1]), 0, "%s: the cancelled one never "
	       "ran", mode);
	is_int(nicely_cancel(pool, c), 0, "%s: cancel a finished task: 0",
	       mode);

	/* handed in a chunk, not begun: skipped */
	reset_shared();
	for (int i = 0; i < 10; i++)
		args[i] = i;
	int64_t first;

	is_int(nicely_map(pool, t_mark, args, sizeof args[0], 10, 10, &first),
	       0, "%s: a map of 10 in one chunk", mode);
	while (!atomic_load(&sh->began[0]) && nicely_step(pool, 10) >= 0)
		;
	is_int(nicely_task_status(pool, first + 5), NICELY_RUNNING,
	       "%s: element 5 is handed to the worker", mode);
	is_int(nicely_cancel(pool, first + 5), 1, "%s: cancel it: 1", mode);
	atomic_store(&sh->release, 1);
	is_int(nicely_wait_all(pool), 0, "%s: wait_all", mode);
	r = nicely_result_get(pool, first + 5);
	ok(r && r->status == NICELY_CANCELLED && r->pid == 0 && !r->len &&
		   !strcmp(r->error, "cancelled by nicely_cancel"),
	   "%s: it is CANCELLED (%s)", mode,
	   r ? nicely_status_name(r->status) : "-");
	is_int(atomic_load(&sh->began[5]), 0, "%s: it never ran", mode);
	is_int(atomic_load(&sh->ran), 9, "%s: the other 9 ran", mode);
	int good = 0;

	for (int i = 0; i < 10; i++) {
		r = nicely_result_get(pool, first + i);
		good += i != 5 && r && r->status == NICELY_OK;
	}
	is_int(good, 9, "%s: the other 9 are OK, same worker", mode);

	/* map_into: a queued element */
	reset_shared();
	int out[10];
	uint8_t stb[10];

	memset(out, 0, sizeof out);
	is_int(nicely_map_into(pool, t_mark, args, sizeof args[0], 10, 1, out,
			       sizeof out[0], stb, &first),
	       0, "%s: map_into of 10, chunks of 1", mode);
	while (!atomic_load(&sh->began[0]) && nicely_step(pool, 10) >= 0)
		;
	is_int(nicely_cancel(pool, first + 7), 1, "%s: cancel element 7", mode);
	is_int(stb[7], NICELY_CANCELLED, "%s: its status byte says CANCELLED",
	       mode);
	atomic_store(&sh->release, 1);
	nicely_wait_all(pool);
	r = nicely_result_get(pool, first + 7);
	ok(r && r->status == NICELY_CANCELLED && out[7] == 0 && out[8] == 8,
	   "%s: its record is CANCELLED; the others wrote their bytes", mode);
	nicely_pool_free(pool);
	ok(lib_pid_gone(atomic_load(&sh->pid)), "%s: nothing left", mode);
}

int main(void)
{
	nicely_options o;
	int z = 3;

	lib_env_setup();
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		tap_bail("mmap");
	is_int(nicely_cancel(NULL, 0), NICELY_EINVAL, "NULL pool: EINVAL");

	/* from a callback: refused */
	lib_opts(&o, 1);
	o.on_finish = on_finish;
	if (nicely_pool_new(&cb_pool, &o))
		tap_bail("no pool");
	nicely_run(cb_pool, t_mark, &z, sizeof z);
	nicely_run(cb_pool, t_mark, &z, sizeof z);
	nicely_wait_all(cb_pool);
	is_int(cb_rc, NICELY_EBUSY, "from a callback: NICELY_EBUSY");
	nicely_pool_free(cb_pool);

	run_mode(NICELY_CGROUPS_OFF, "no cgroups");
	if (lib_cg_usable())
		run_mode(NICELY_CGROUPS_REQUIRED, "cgroups");
	else
		tap_diag("no cgroups here: the cgroup half is not run");
	return tap_done();
}
