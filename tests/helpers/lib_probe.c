/* lib_probe: a test helper that makes one libnicely pool and says what it
 * got, for tests run as another user (tests/lib_cgroup_nonroot.t).
 * `lib_probe auto|required|off [PRESET]` prints "new 0" or "new NICELY_E..."
 * (the code nicely_pool_new returned, by name), each library log
 * line of level WARNING or worse as "log MSG", "cgroups N" and, when the
 * pool was made, the one task's "task AUTOGROUP|sid-own" (or sid-shared).
 * Exit 0 unless the arguments are wrong. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nicely.h"

/* Print the library's own warnings and errors. */
static void on_log(int level, int64_t id, pid_t pid, const char *msg, void *u)
{
	(void)u;
	(void)id;
	if (pid == 0 && level <= NICELY_LOG_WARNING)
		printf("log %s\n", msg);
}

/* The worker's autogroup and whether its session is not the caller's. */
static int t_where(const void *arg, size_t len, nicely_out *out, void *st)
{
	char ag[200] = "", res[300];
	pid_t sid = *(const pid_t *)arg;
	FILE *f = fopen("/proc/self/autogroup", "r");

	(void)len;
	(void)st;
	if (f) {
		if (!fgets(ag, sizeof ag, f))
			ag[0] = 0;
		fclose(f);
	}
	ag[strcspn(ag, "\n")] = 0;
	snprintf(res, sizeof res, "%s|%s", ag,
		 getsid(0) != sid ? "sid-own" : "sid-shared");
	return nicely_out_write(out, res, strlen(res) + 1);
}

/* The name of a NICELY_E* code, or NULL. */
static const char *code_name(int rc)
{
	switch (rc) {
#define NAME_(name, val, msg)                                                  \
	case NICELY_##name:                                                    \
		return "NICELY_" #name;
		NICELY_ERRNO_MAP(NAME_)
#undef NAME_
	}
	return NULL;
}

/* Make the pool, run one task, report. */
int main(int argc, char **argv)
{
	nicely_options o;
	nicely_pool *pool;
	nicely_stats st;
	pid_t sid = getsid(0);
	int rc;

	if (argc < 2 || argc > 3)
		return 2;
	nicely_options_init(&o);
	o.preset = argc > 2 ? argv[2] : "nuclear";
	o.max_workers = 1;
	o.on_log = on_log;
	if (!strcmp(argv[1], "auto"))
		o.cgroups = NICELY_CGROUPS_AUTO;
	else if (!strcmp(argv[1], "required"))
		o.cgroups = NICELY_CGROUPS_REQUIRED;
	else if (!strcmp(argv[1], "off"))
		o.cgroups = NICELY_CGROUPS_OFF;
	else
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = nicely_pool_new(&pool, &o);
	if (code_name(rc))
		printf("new %s\n", code_name(rc));
	else
		printf("new %d\n", rc);
	if (rc)
		return 0;
	nicely_stats_get(pool, &st);
	printf("cgroups %d\n", st.cgroups);
	nicely_run(pool, t_where, &sid, sizeof sid);
	nicely_wait_all(pool);
	const nicely_result *r = nicely_result_get(pool, 0);

	printf("task %s\n", r && r->len ? (const char *)r->data : "(none)");
	nicely_pool_free(pool);
	return 0;
}
