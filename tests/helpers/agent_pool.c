/* agent_pool [PRESET [N SECONDS]]: one libnicely pool and one task, for
 * the placement tests through nicely-agent (tests/agent_client_place.t):
 * prints each library log line of level INFO or worse as "log MSG", then
 * the task's v1 cpu cgroup (or cgroup2 path) as "cg PATH" and the pool's
 * "cgroups N". With N and SECONDS: N such tasks, waited for, then "held"
 * and one more task that sleeps SECONDS (the agent's list shows N/N+1
 * meanwhile: tests/agent_run_v2fake.t). Exit 0 unless the pool cannot be
 * made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nicely.h"

/* The library's log lines of the pool itself. */
static void on_log(int level, int64_t id, pid_t pid, const char *msg, void *u)
{
	(void)u;
	(void)id;
	if (pid == 0 && level <= NICELY_LOG_INFO)
		printf("log %s\n", msg);
}

/* The worker's cpu cgroup: the v1 cpu line, else the cgroup2 one. */
static int t_cg(const void *arg, size_t len, nicely_out *out, void *st)
{
	char line[512], best[512] = "";
	FILE *f = fopen("/proc/self/cgroup", "r");

	(void)arg;
	(void)len;
	(void)st;
	while (f && fgets(line, sizeof line, f)) {
		char *c = strchr(line, ':'), *p = c ? strchr(c + 1, ':') : NULL;

		if (!p)
			continue;
		line[strcspn(line, "\n")] = 0;
		if (strstr(c, ":cpu,") || strstr(c, ",cpu:") ||
		    !strncmp(c, ":cpu:", 5) || (!best[0] && !strncmp(c, "::", 2)))
			snprintf(best, sizeof best, "%s", p + 1);
	}
	if (f)
		fclose(f);
	return nicely_out_write(out, best, strlen(best) + 1);
}

/* Sleep the seconds given. */
static int t_sleep(const void *arg, size_t len, nicely_out *out, void *st)
{
	(void)len;
	(void)out;
	(void)st;
	sleep((unsigned)*(const int *)arg);
	return 0;
}

int main(int argc, char **argv)
{
	nicely_options o;
	nicely_pool *pool;
	nicely_stats st;
	int rc;

	nicely_options_init(&o);
	o.preset = argc > 1 ? argv[1] : "nuclear";
	o.max_workers = 1;
	o.on_log = on_log;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((rc = nicely_pool_new(&pool, &o)) != 0) {
		printf("new %d\n", rc);
		return 1;
	}
	nicely_stats_get(pool, &st);
	printf("cgroups %d\n", st.cgroups);
	int ntask = argc > 3 ? atoi(argv[2]) : 1, hold = argc > 3 ? atoi(argv[3]) : 0;

	for (int i = 0; i < ntask; i++)
		nicely_run(pool, t_cg, NULL, 0);
	nicely_wait_all(pool);
	if (hold > 0) {
		printf("held\n");
		nicely_run(pool, t_sleep, &hold, sizeof hold);
		nicely_wait_all(pool);
	}
	const nicely_result *r = nicely_result_get(pool, 0);

	printf("cg %s\n", r && r->len ? (const char *)r->data : "(none)");
	nicely_pool_free(pool);
	return 0;
}
