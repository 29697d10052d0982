/* The libnicely API's promises: a zero-filled nicely_options asks for the
 * defaults (the preset's nice, workers pinned, 2 s of exit grace) and every
 * value from before can still be asked for (nice 0, no pinning, no grace);
 * the error codes are distinct (NICELY_ECONFIG and NICELY_ECGROUP no errno)
 * and nicely_strerror gives each code its text, any other negative errno
 * strerror's, the rest "unknown error". */
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>

#include "tap.h"
#include "lib_util.h"

/* The codes that are errnos of their name; a wrong value does not build. */
_Static_assert(NICELY_EINVAL == -EINVAL && NICELY_ENOMEM == -ENOMEM &&
		       NICELY_EAGAIN == -EAGAIN && NICELY_ENOENT == -ENOENT &&
		       NICELY_EBUSY == -EBUSY && NICELY_ECHILD == -ECHILD &&
		       NICELY_E2BIG == -E2BIG && NICELY_EIO == -EIO &&
		       NICELY_EMFILE == -EMFILE,
	       "NICELY_E<name> is -E<name>");
/* The library's own codes lie below every errno (the kernel's MAX_ERRNO is
 * 4095). */
_Static_assert(NICELY_ECONFIG < -4095 && NICELY_ECGROUP < -4095,
	       "NICELY_ECONFIG and NICELY_ECGROUP are no errno");

/* Each code's place in NICELY_ERRNO_MAP. Two equal codes would be two
 * equal case labels: this does not build. */
static int code_index(int code)
{
	enum {
#define AT_(name, val, msg) AT_##name,
		NICELY_ERRNO_MAP(AT_)
#undef AT_
	};

	switch (code) {
#define CASE_(name, val, msg)                                                  \
	case NICELY_##name:                                                    \
		return AT_##name;
		NICELY_ERRNO_MAP(CASE_)
#undef CASE_
	}
	return -1;
}

/* Report the worker's CPU count in its mask and its nice. */
static int t_where(const void *arg, size_t len, nicely_out *out, void *st)
{
	cpu_set_t set;
	int v[2];

	(void)arg;
	(void)len;
	(void)st;
	if (sched_getaffinity(0, sizeof set, &set))
		return 1;
	v[0] = CPU_COUNT(&set);
	errno = 0;
	v[1] = getpriority(PRIO_PROCESS, 0);
	return nicely_out_write(out, v, sizeof v);
}

/* worker_exit: take 800 ms, then leave a mark in the file init_arg names
 * (only a worker given that long gets to write it). */
static void w_exit_slow(void *state, void *arg)
{
	int fd;

	(void)state;
	lib_sleep_ms(800);
	fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0)
		close(fd);
}

/* Run t_where in a pool made from o; v gets its answer. Returns the
 * worker's PID (0 when the task did not succeed). */
static pid_t where(const nicely_options *o, int v[2], const char *what)
{
	nicely_pool *pool;
	const nicely_result *r;
	pid_t pid = 0;
	int rc;

	v[0] = v[1] = -100;
	if ((rc = nicely_pool_new(&pool, o))) {
		ok(0, "%s: pool_new: %s", what, nicely_strerror(rc));
		return 0;
	}
	nicely_run(pool, t_where, NULL, 0);
	nicely_wait_all(pool);
	r = nicely_result_get(pool, 0);
	if (r && r->status == NICELY_OK && r->len == 2 * sizeof(int)) {
		memcpy(v, r->data, 2 * sizeof(int));
		pid = r->pid;
	}
	nicely_pool_free(pool);
	ok(pid > 0 && lib_wait_gone(pid, 5), "%s: the task ran; no worker is left",
	   what);
	return pid;
}

/* Does a pool made from o let its idle worker finish w_exit_slow? */
static int exit_marked(nicely_options *o, const char *mark)
{
	nicely_pool *pool;
	pid_t pid = 0;

	unlink(mark);
	o->worker_exit = w_exit_slow;
	o->init_arg = (void *)mark;
	if (nicely_pool_new(&pool, o))
		return -1;
	nicely_run(pool, t_ok, NULL, 0);
	nicely_wait_all(pool);
	if (nicely_result_get(pool, 0))
		pid = nicely_result_get(pool, 0)->pid;
	nicely_pool_free(pool);
	ok(pid > 0 && lib_wait_gone(pid, 5),
	   "no worker is left after pool_free");
	return access(mark, F_OK) == 0;
}

int main(void)
{
	static const struct {
		int code;
		const char *msg;
	} codes[] = {
#define ROW_(name, val, msg) { NICELY_##name, msg },
		NICELY_ERRNO_MAP(ROW_)
#undef ROW_
	};
	size_t ncodes = sizeof codes / sizeof codes[0];
	nicely_options o, zero;
	cpu_set_t mine;
	char conf[128], mark[128];
	int v[2], ncpu, bad = 0;
	FILE *f;

	/* strerror and the codes */
	for (size_t i = 0; i < ncodes; i++) {
		if (strcmp(nicely_strerror(codes[i].code), codes[i].msg) ||
		    code_index(codes[i].code) != (int)i)
			bad++;
		for (size_t j = 0; j < i; j++)
			if (codes[i].code == codes[j].code)
				bad++;
	}
	is_int(bad, 0, "each of the %zu NICELY_E* codes is distinct and gets "
	       "its own text", ncodes);
	is_str(nicely_strerror(NICELY_ECONFIG),
	       "bad nicely configuration or unknown preset (see log)",
	       "NICELY_ECONFIG");
	is_str(nicely_strerror(NICELY_ECGROUP),
	       "cgroups were required but cannot be made here (see log)",
	       "NICELY_ECGROUP");
	is_str(nicely_strerror(NICELY_EAGAIN),
	       "the queue is full (max_queued tasks waiting)",
	       "NICELY_EAGAIN (an errno's value) gets the library's text");
	bad = 0;
	for (int e = 1; e < 4096; e++)
		if (-e == NICELY_ECONFIG || -e == NICELY_ECGROUP)
			bad++;
	is_int(bad, 0, "no errno from 1 to 4095 is NICELY_ECONFIG or "
	       "NICELY_ECGROUP");
	is_str(nicely_strerror(-EACCES), strerrordesc_np(EACCES),
	       "another negative errno gets strerror's text (EACCES)");
	is_str(nicely_strerror(-ENOSPC), "No space left on device",
	       "... (ENOSPC)");
	is_str(nicely_strerror(-EBADMSG), strerrordesc_np(EBADMSG),
	       "... (EBADMSG, NICELY_ECONFIG's value before)");
	is_str(nicely_strerror(0), "success", "0 is success");
	is_str(nicely_strerror(EINVAL), "unknown error", "a positive value");
	is_str(nicely_strerror(-4096), "unknown error",
	       "a negative value that is no errno");
	is_str(nicely_strerror(INT_MIN), "unknown error", "INT_MIN");

	/* nicely_options_init is the zero-filled struct */
	memset(&zero, 0, sizeof zero);
	memset(&o, 0xa5, sizeof o);
	nicely_options_init(&o);
	ok(!memcmp(&o, &zero, sizeof o),
	   "nicely_options_init fills the same zeros as {0}");

	/* the configured default preset: nuclear (does not wait for load)
	 * with nice 13 */
	lib_env_setup();
	snprintf(conf, sizeof conf, "%s/api.conf", lib_tmpdir);
	snprintf(mark, sizeof mark, "%s/exit-mark", lib_tmpdir);
	if (!(f = fopen(conf, "w")))
		tap_bail("cannot write a config file");
	fputs("[defaults]\npreset = mine\n[preset mine]\nbase = nuclear\n"
	      "nice = 13\n", f);
	fclose(f);
	setenv("NICELY_CONFIG", conf, 1);
	sched_getaffinity(0, sizeof mine, &mine);
	ncpu = CPU_COUNT(&mine);

	memset(&o, 0, sizeof o);
	where(&o, v, "zero-filled options");
	is_int(v[1], 13, "a zero-filled struct runs workers at the preset's "
	       "nice");
	if (ncpu >= 2)
		is_int(v[0], 1, "... pinned to one CPU");
	else
		tap_diag("one CPU: the pinning check is skipped");
	where(NULL, v, "NULL options");
	is_int(v[1], 13, "NULL options: the preset's nice too");

	memset(&o, 0, sizeof o);
	o.nice = 7;
	where(&o, v, "nice 7");
	is_int(v[1], 7, "options.nice 7 runs workers at nice 7");
	memset(&o, 0, sizeof o);
	o.nice = NICELY_NICE_ZERO;
	where(&o, v, "NICELY_NICE_ZERO");
	if (geteuid() == 0 || getpriority(PRIO_PROCESS, 0) == 0)
		is_int(v[1], 0, "NICELY_NICE_ZERO runs workers at nice 0");
	else
		tap_diag("not root and niced: nice 0 cannot be checked");
	memset(&o, 0, sizeof o);
	o.no_pin = 1;
	where(&o, v, "no_pin");
	is_int(v[0], ncpu, "no_pin leaves the worker on all %d CPUs", ncpu);

	{
		nicely_pool *pool = NULL;
		static const int wrong[] = { -1, 20, NICELY_NICE_ZERO + 1 };

		for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
			memset(&o, 0, sizeof o);
			o.nice = wrong[i];
			is_int(nicely_pool_new(&pool, &o), NICELY_EINVAL,
			       "options.nice %d is NICELY_EINVAL", wrong[i]);
			ok(pool == NULL, "... and no pool");
		}
	}

	/* exit grace: 0 is 2000 ms, NICELY_GRACE_NONE none */
	memset(&o, 0, sizeof o);
	is_int(exit_marked(&o, mark), 1,
	       "exit_grace_ms 0: an 800 ms worker_exit finishes");
	memset(&o, 0, sizeof o);
	o.exit_grace_ms = NICELY_GRACE_NONE;
	is_int(exit_marked(&o, mark), 0,
	       "NICELY_GRACE_NONE: the idle worker is killed at once");
	memset(&o, 0, sizeof o);
	o.exit_grace_ms = 100;
	is_int(exit_marked(&o, mark), 0,
	       "exit_grace_ms 100: killed before its worker_exit is done");
	unlink(mark);
	unlink(conf);
	return tap_done();
}
