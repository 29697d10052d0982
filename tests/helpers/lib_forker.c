/* lib_forker: a test helper whose one libnicely task does its work in a
 * child process, for tests/run_children.t. `lib_forker SPIN SECONDS FILE
 * [PRESET]` makes a pool of one worker (preset default normal, cgroups
 * auto, the config from NICELY_CONFIG); its task forks SPIN pinned to the
 * worker's CPU for SECONDS, writes "WORKER_PID CHILD_PID" to FILE and waits
 * for the child. Prints "cgroups N" and "task STATUS CODE TEXT" (TEXT: the
 * child's exit status and CPU). Exit 0 unless the arguments are wrong or
 * the pool cannot be made. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nicely.h"

static const char *spin, *secs, *file;

/* Fork the burner on our CPU, say who is who, wait for it. */
static int t_fork(const void *arg, size_t len, nicely_out *out, void *st)
{
	char cpu[16] = "", res[128];
	cpu_set_t set;
	int status = -1;
	pid_t kid;
	FILE *f;

	(void)arg;
	(void)len;
	(void)st;
	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) == 1)
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				snprintf(cpu, sizeof cpu, "%d", i);
	if (!cpu[0])
		return nicely_out_error(out, "the worker is not pinned to one CPU"), 1;
	kid = fork();
	if (kid == 0) {
		execl(spin, "spin", cpu, secs, (char *)NULL);
		_exit(127);
	}
	if (kid < 0)
		return 1;
	f = fopen(file, "w");
	if (f) {
		fprintf(f, "%d %d\n", (int)getpid(), (int)kid);
		fclose(f);
	}
	while (waitpid(kid, &status, 0) < 0)
		;
	snprintf(res, sizeof res, "child exit %d on CPU %s",
		 WIFEXITED(status) ? WEXITSTATUS(status) : -1, cpu);
	return nicely_out_write(out, res, strlen(res) + 1);
}

/* Make the pool, run the task, report. */
int main(int argc, char **argv)
{
	nicely_options o;
	nicely_pool *pool;
	nicely_stats st;
	const nicely_result *r;
	int rc;

	if (argc < 4 || argc > 5)
		return 2;
	spin = argv[1];
	secs = argv[2];
	file = argv[3];
	nicely_options_init(&o);
	o.preset = argc > 4 ? argv[4] : "normal";
	o.max_workers = 1;
	o.cgroups = NICELY_CGROUPS_AUTO;
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = nicely_pool_new(&pool, &o);
	if (rc) {
		printf("new %d\n", rc);
		return 1;
	}
	nicely_stats_get(pool, &st);
	printf("cgroups %d\n", st.cgroups);
	nicely_run(pool, t_fork, NULL, 0);
	nicely_wait_all(pool);
	r = nicely_result_get(pool, 0);
	printf("task %d %d %s\n", r ? (int)r->status : -1, r ? r->code : -1,
	       r && r->len ? (const char *)r->data : r ? r->error : "(none)");
	nicely_pool_free(pool);
	return 0;
}
