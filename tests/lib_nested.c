/* A pool made inside a task (nested): its workers run (no kill loop: a
 * new worker used to start from the outer worker's buffers and was killed
 * for the garbage it sent), with cgroups under the outer worker's group,
 * and without cgroups; killing the outer task kills the inner pool's
 * workers too; nothing is left afterwards. */
#include <stdatomic.h>
#include <sys/mman.h>

#include "tests/lib_util.h"
#include "tests/tap.h"

struct shared {
	atomic_int inner_pid;	/* a long inner task's worker */
	atomic_int deaths;	/* "died"/"killed" log lines of inner pools */
};
static struct shared *sh;
static int mode;	/* the inner and outer pools' cgroups option */

/* This process's group in the cgroup2 tree (the "0::" line), or "". */
static void my_cgroup(char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/self/cgroup", "r");

	buf[0] = 0;
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "%s", line + 3);
		}
	if (f)
		fclose(f);
}

/* Inner task: its cgroup path; with arg 1, runs 30 s first. */
static int t_inner(const void *arg, size_t len, nicely_out *out, void *st)
{
	char cg[512];

	(void)st;
	if (len && *(const int *)arg == 1) {
		atomic_store(&sh->inner_pid, getpid());
		lib_sleep_ms(30000);
	}
	my_cgroup(cg, sizeof cg);
	return nicely_out_write(out, cg, strlen(cg) + 1);
}

static void inner_log(int level, int64_t id, pid_t pid, const char *msg,
		      void *u)
{
	(void)level;
	(void)id;
	(void)pid;
	(void)u;
	if (strstr(msg, "died") || strstr(msg, "killed") ||
	    strstr(msg, "could not read"))
		atomic_fetch_add(&sh->deaths, 1);
}

/* Outer task: an inner pool of 2 workers runs 6 tasks (arg 1: one long
 * one); returns {ok results, results under this worker's group, workers
 * the inner pool started}. */
static int t_outer(const void *arg, size_t len, nicely_out *out, void *st)
{
	nicely_options o;
	nicely_pool *p;
	nicely_stats s;
	char mine[512], want[520];
	int v[3] = { 0, 0, 0 }, rc, one = 1;

	(void)st;
	nicely_options_init(&o);
	o.preset = "nuclear";
	o.max_workers = 2;
	o.cgroups = mode;
	o.on_log = inner_log;
	if ((rc = nicely_pool_new(&p, &o))) {
		nicely_out_error(out, "inner pool: %s", nicely_strerror(rc));
		return 1;
	}
	my_cgroup(mine, sizeof mine);
	snprintf(want, sizeof want, "%s/task-", mine);
	if (len && *(const int *)arg == 1)
		nicely_run(p, t_inner, &one, sizeof one);
	for (int i = 0; i < 6; i++)
		nicely_run(p, t_inner, NULL, 0);
	if ((rc = nicely_wait_all(p))) {
		nicely_out_error(out, "inner wait_all: %s", nicely_strerror(rc));
		nicely_pool_free(p);
		return 1;
	}
	for (int i = 0; i < 6; i++) {
		const nicely_result *r = nicely_result_get(p, i);

		if (r && r->status == NICELY_OK) {
			v[0]++;
			v[1] += !strncmp(r->data, want, strlen(want));
		}
	}
	nicely_stats_get(p, &s);
	v[2] = (int)s.workers_started;
	nicely_pool_free(p);
	return nicely_out_write(out, v, sizeof v);
}

static void run_mode(int m, const char *name, int cg)
{
	nicely_options o;
	nicely_pool *pool;
	struct timespec t0, t1;
	int good = 0, under = 0, started = 0, one = 1;

	mode = m;
	memset(sh, 0, sizeof *sh);
	lib_opts(&o, 2);
	o.cgroups = m;
	if (nicely_pool_new(&pool, &o))
		tap_bail("no pool");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 3; i++)
		nicely_run(pool, t_outer, NULL, 0);
	is_int(nicely_wait_all(pool), 0, "%s: wait_all", name);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < 3; i++) {
		const nicely_result *r = nicely_result_get(pool, i);
		int v[3] = { 0, 0, 0 };

		if (r && r->status == NICELY_OK && r->len == sizeof v)
			memcpy(v, r->data, sizeof v);
		else
			tap_diag("outer %d: %s %s", i,
				 r ? nicely_status_name(r->status) : "-",
				 r ? r->error : "-");
		good += v[0];
		under += v[1];
		started += v[2];
	}
	is_int(good, 18, "%s: the 3 inner pools ran their 6 tasks each", name);
	is_int(atomic_load(&sh->deaths), 0, "%s: no inner worker died", name);
	ok(started <= 6, "%s: the inner pools started %d workers (2 each)",
	   name, started);
	ok(t1.tv_sec - t0.tv_sec < 20, "%s: in %ld s", name,
	   (long)(t1.tv_sec - t0.tv_sec));
	if (cg)
		is_int(under, 18, "%s: every inner worker ran in a group under "
		       "its outer worker's", name);

	/* cancelling the outer task kills its inner pool's workers */
	int64_t id = nicely_run(pool, t_outer, &one, sizeof one);

	for (int k = 0; k < 1000 && !atomic_load(&sh->inner_pid); k++)
		nicely_step(pool, 10);
	pid_t ip = atomic_load(&sh->inner_pid);

	ok(ip > 0, "%s: the long inner task runs", name);
	is_int(nicely_cancel(pool, id), 1, "%s: cancel the outer task", name);
	nicely_wait(pool, id);
	is_int(nicely_task_status(pool, id), NICELY_KILLED, "%s: it is KILLED",
	       name);
	ok(lib_wait_gone(ip, 5), "%s: the inner worker is gone too", name);
	nicely_pool_free(pool);
	if (cg)
		is_int(lib_cg_count(getpid()), 0, "%s: no group left", name);
}

int main(void)
{
	lib_env_setup();
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		tap_bail("mmap");
	run_mode(NICELY_CGROUPS_OFF, "no cgroups", 0);
	if (lib_cg_usable())
		run_mode(NICELY_CGROUPS_REQUIRED, "cgroups", 1);
	else
		tap_diag("no cgroups here: the cgroup half is not run");
	return tap_done();
}
