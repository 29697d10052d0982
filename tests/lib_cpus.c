/* options.cpus: the pool's workers run only on the CPUs listed (pinned
 * ones and unpinned ones alike), the preset counts only those; a list
 * with a CPU the process may not use, or malformed, is NICELY_EINVAL with
 * a log line saying what is wrong. */
#include <sched.h>

#include "tests/lib_util.h"
#include "tests/tap.h"

static char last_err[512];

static void on_log(int level, int64_t id, pid_t pid, const char *msg, void *u)
{
	(void)id;
	(void)pid;
	(void)u;
	if (level == NICELY_LOG_ERROR)
		snprintf(last_err, sizeof last_err, "%s", msg);
}

/* The worker's affinity as a bit mask of CPUs 0..63. */
static int t_aff(const void *arg, size_t len, nicely_out *out, void *st)
{
	cpu_set_t s;
	uint64_t m = 0;

	(void)arg;
	(void)len;
	(void)st;
	lib_sleep_ms(50);
	sched_getaffinity(0, sizeof s, &s);
	for (int c = 0; c < 64; c++)
		if (CPU_ISSET(c, &s))
			m |= 1ull << c;
	return nicely_out_write(out, &m, sizeof m);
}

/* Run 6 tasks on a pool with cpus and the options given; the union of
 * their affinities. */
static uint64_t run_on(const char *cpus, int max_workers, int no_pin,
		       int *allowed)
{
	nicely_options o;
	nicely_pool *p;
	nicely_stats st;
	uint64_t all = 0;

	lib_opts(&o, max_workers);
	o.cpus = cpus;
	o.no_pin = no_pin;
	o.cgroups = NICELY_CGROUPS_OFF;
	if (nicely_pool_new(&p, &o))
		return ~0ull;
	for (int i = 0; i < 6; i++)
		nicely_run(p, t_aff, NULL, 0);
	nicely_wait_all(p);
	for (int i = 0; i < 6; i++) {
		const nicely_result *r = nicely_result_get(p, i);
		uint64_t m = ~0ull;

		if (r && r->len == sizeof m)
			memcpy(&m, r->data, sizeof m);
		all |= m;
	}
	nicely_stats_get(p, &st);
	*allowed = st.allowed;
	nicely_pool_free(p);
	return all;
}

int main(void)
{
	nicely_options o;
	nicely_pool *p;
	cpu_set_t may;
	int last = -1, allowed = 0;
	char list[32];

	lib_env_setup();
	sched_getaffinity(0, sizeof may, &may);
	for (int c = 0; c < 64; c++)
		if (CPU_ISSET(c, &may))
			last = c;
	if (last < 0)
		tap_skip_all("no CPU below 64 here");
	snprintf(list, sizeof list, "%d", last);
	is_int((int)run_on(list, 1, 0, &allowed) == 0 ? 0 : 1, 1, "a pool on "
	       "CPU %d runs", last);
	ok(run_on(list, 3, 0, &allowed) == 1ull << last,
	   "nuclear, 3 workers on cpus \"%s\": every worker there, pinned or "
	   "not", list);
	ok(run_on(list, 2, 1, &allowed) == 1ull << last,
	   "no_pin: the workers keep to \"%s\" too", list);
	run_on(list, 0, 0, &allowed);
	is_int(allowed, 1, "one CPU listed: the preset runs one worker");
	cpu_set_t still;

	sched_getaffinity(0, sizeof still, &still);
	ok(CPU_EQUAL(&still, &may), "the caller's affinity is unchanged");

	lib_opts(&o, 1);
	o.on_log = on_log;
	const char *bad[] = { "abc", "3-1", "0,", "99999", "1,,2" };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		o.cpus = bad[i];
		last_err[0] = 0;
		is_int(nicely_pool_new(&p, &o), NICELY_EINVAL, "cpus \"%s\": "
		       "NICELY_EINVAL", bad[i]);
		ok(strstr(last_err, "options.cpus") != NULL, "and a log line: %s",
		   last_err);
	}
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (!CPU_ISSET(c, &may)) {
			snprintf(list, sizeof list, "%d", c);
			o.cpus = list;
			last_err[0] = 0;
			is_int(nicely_pool_new(&p, &o), NICELY_EINVAL,
			       "cpus \"%s\" (not ours): NICELY_EINVAL", list);
			ok(strstr(last_err, "may use") != NULL, "the log says "
			   "so: %s", last_err);
			break;
		}
	return tap_done();
}
