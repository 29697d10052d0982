/* The shared gate (sched/gate.c) on a recorded /proc and a synthetic
 * topology: starts come back as PU indices, unpinned on a topology that is
 * not this machine; the hand-off table follows the last sample; under a
 * per-user limit the lease holding rises with starts and falls with
 * gate_hold, the wait for the user's other batches and a lease file that
 * cannot be used are each said once, in the face's words. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/sampler.h"
#include "policy/config.h"
#include "policy/preset.h"
#include "sched/gate.h"
#include "sched/lease.h"
#include "tests/tap.h"

/* Paths here are short temporary names; GCC cannot know that. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

static char tmp[64], proc[128];
static unsigned step;

/* Write text to dir/name. */
static void put(const char *dir, const char *name, const char *text)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		tap_bail("cannot write a temporary file");
}

/* mkdir or bail. */
static void dir_make(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		tap_bail("cannot make a temporary directory");
}

/* The next /proc/stat: 2 CPUs, each busy the given ticks of 100. */
static void put_stat(unsigned busy0, unsigned busy1)
{
	static unsigned b0, b1;
	char text[512];
	unsigned tot;

	step++;
	b0 += busy0;
	b1 += busy1;
	tot = 100000 + step * 100;
	snprintf(text, sizeof text,
		 "cpu  %u 0 0 %u 0 0 0 0 0 0\n"
		 "cpu0 %u 0 0 %u 0 0 0 0 0 0\n"
		 "cpu1 %u 0 0 %u 0 0 0 0 0 0\n"
		 "procs_running 2\nprocs_blocked 0\n",
		 b0 + b1, 2 * tot - b0 - b1, b0, tot - b0, b1, tot - b1);
	put(proc, "stat", text);
}

/* The test preset from the config file. */
static void preset_load(const char *conf, struct policy_preset *p)
{
	struct policy_config_opts co = { 0 };
	struct policy_flags fl = POLICY_FLAGS_INIT;
	struct policy_config *cfg;
	char err[1024], warn[512];

	co.extra_file = conf;
	fl.preset = "gatetest";
	if (policy_config_load(&cfg, &co, err, sizeof err) < 0 ||
	    policy_config_resolve(cfg, &fl, p, warn, sizeof warn, err,
				  sizeof err) < 0) {
		tap_diag("%s", err);
		tap_bail("cannot resolve the test preset");
	}
	policy_config_free(cfg);
}

/* A gate with its own topology and sampler, in the pool's words. */
static struct gate *gate_make(const struct policy_preset *p,
			      const struct policy_user_limit *ul)
{
	struct gate_opts o = { 0 };
	struct gate *g;
	char err[1024];

	o.preset = p;
	o.user_limit = ul;
	o.words = (struct gate_words){ "workers", "this pool", "the pool" };
	if (gate_new(&g, &o, err, sizeof err) < 0) {
		tap_diag("%s", err);
		tap_bail("cannot make a gate");
	}
	return g;
}

/* Every pending note joined by newlines, with the count of warnings. */
static int notes(struct gate *g, char *out, size_t outlen, int *nwarn)
{
	enum gate_level l;
	const char *n;
	int count = 0;

	out[0] = 0;
	*nwarn = 0;
	while ((n = gate_note(g, &l))) {
		size_t len = strlen(out);

		snprintf(out + len, outlen - len, "%s\n", n);
		*nwarn += l == GATE_WARN;
		count++;
	}
	return count;
}

/* Starts on an idle machine; the hand-off table; no user limit. */
static void test_starts(const struct policy_preset *p)
{
	struct gate_answer a;
	struct gate *g;
	char err[512], text[4096];
	int nwarn;

	put_stat(0, 0);
	g = gate_make(p, NULL);
	ok(!gate_pins(g), "a synthetic topology is not this machine");
	is_int(gate_cap(g), 2, "cap: one worker per allowed PU");
	put_stat(0, 0);
	is_int(gate_tick(g, NULL, 0, 5, 5, &a, err, sizeof err), 0, "a tick");
	is_int(a.nstart, 2, "both idle PUs may take a worker");
	ok(a.nstart == 2 && a.pus[0] != a.pus[1] && a.pus[0] >= 0 &&
	   a.pus[1] >= 0, "... on the two PUs (%d, %d)", a.pus[0], a.pus[1]);
	ok(a.nstart == 2 && a.cpus[0] == -1 && a.cpus[1] == -1,
	   "... unpinned: the topology is not this machine");
	is_int(a.nice, p->nice, "at the preset's nice");
	ok(gate_pu_free(g, 0) && gate_pu_free(g, 1), "both PUs may be handed on");
	ok(!gate_shared(g) && gate_held(g) == 0, "no per-user limit: no lease");
	is_int(notes(g, text, sizeof text, &nwarn), 0, "nothing to say");

	/* someone else takes PU 1: a running worker there is paused */
	struct gate_worker w = { 42, 0, 1, 0, 0 };

	put_stat(0, 100);
	is_int(gate_tick(g, &w, 1, 5, 5, &a, err, sizeof err), 0, "a busy tick");
	ok(a.nactions == 1 && a.actions[0].kind == GATE_PAUSE &&
	   a.actions[0].id == 42, "the worker on the busy PU is paused");
	ok(gate_pu_free(g, 0) && !gate_pu_free(g, 1),
	   "only the idle PU may be handed on");
	gate_free(g);
}

/* Another process of this user that holds n PUs in the lease file until
 * killed. */
static pid_t holder(int limit, int n)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p) < 0)
		tap_bail("pipe");
	pid = fork();
	if (pid < 0)
		tap_bail("fork");
	if (pid == 0) {
		struct lease_opts lo = LEASE_OPTS_INIT;
		struct sched_lease *l;
		char err[512];

		lo.limit = limit;
		if (lease_open(&l, &lo, err, sizeof err) < 0 ||
		    lease_set(l, n, err, sizeof err) < 0)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		tap_bail("the lease holder failed");
	close(p[0]);
	return pid;
}

/* Under a per-user limit: holding, the wait said once, gate_hold. */
static void test_limit(const struct policy_preset *p)
{
	struct policy_user_limit ul = { 2, 0, { "limits.conf", 3 } };
	struct gate_worker w[2] = { { 1, 0, 0, 0, 0 }, { 2, 0, 1, 0, 0 } };
	struct gate_answer a;
	struct gate *g;
	char err[512], text[4096];
	pid_t other;
	int nwarn;

	put_stat(0, 0);
	g = gate_make(p, &ul);
	put_stat(0, 0);
	is_int(gate_tick(g, NULL, 0, 5, 1, &a, err, sizeof err), 0, "a tick");
	ok(gate_shared(g), "max_pus = 2: the lease file is shared");
	is_int(a.nstart, 1, "only what the queue needs starts");
	is_int(gate_held(g), 1, "... and that is what we hold");
	put_stat(0, 0);
	gate_tick(g, w, 1, 5, 5, &a, err, sizeof err);
	is_int(gate_held(g), 2, "a second start: we hold 2");
	gate_hold(g, 1);
	is_int(gate_held(g), 1, "a worker ended: we hold 1");
	gate_hold(g, 2);
	is_int(gate_held(g), 1, "gate_hold never raises the holding");
	put_stat(0, 0);
	gate_tick(g, w, 1, 0, 0, &a, err, sizeof err);
	is_int(a.nstart, 0, "nothing queued: nothing starts");
	is_int(gate_held(g), 1, "... and the holding is what runs");
	gate_hold(g, 0);
	is_int(gate_held(g), 0, "every PU given back");

	other = holder(2, 2);
	put_stat(0, 0);
	gate_tick(g, NULL, 0, 5, 5, &a, err, sizeof err);
	is_int(a.nstart, 0, "the user's other batch holds both PUs: no start");
	is_int(notes(g, text, sizeof text, &nwarn), 1, "one note");
	ok(strstr(text, "per-user limit: your other nicely batches hold 2 of "
			"the 2 PUs you may use at once ([limits] max_pus set "
			"at limits.conf:3); the pool waits until they give "
			"PUs back") != NULL && nwarn == 0,
	   "... an info in the face's words: %s", text);
	put_stat(0, 0);
	gate_tick(g, NULL, 0, 5, 5, &a, err, sizeof err);
	is_int(notes(g, text, sizeof text, &nwarn), 0, "said once only");
	gate_reload(g, p, &ul);
	put_stat(0, 0);
	gate_tick(g, NULL, 0, 5, 5, &a, err, sizeof err);
	is_int(notes(g, text, sizeof text, &nwarn), 1,
	       "after a reload it may be said again");
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
	put_stat(0, 0);
	gate_tick(g, NULL, 0, 5, 5, &a, err, sizeof err);
	is_int(a.nstart, 2, "the other batch is gone: both PUs");
	gate_free(g);
}

/* A lease file that cannot be used: one warning, in the face's words. */
static void test_no_lease(const struct policy_preset *p)
{
	struct policy_user_limit ul = { 1, 0, { "limits.conf", 4 } };
	struct gate_answer a;
	struct gate *g;
	char err[512], text[4096], bad[128];
	int nwarn;

	snprintf(bad, sizeof bad, "%s/not-a-dir", tmp);
	put(tmp, "not-a-dir", "");
	setenv("NICELY_RUNTIME_DIR", bad, 1);
	put_stat(0, 0);
	g = gate_make(p, &ul);
	put_stat(0, 0);
	gate_tick(g, NULL, 0, 5, 5, &a, err, sizeof err);
	ok(!gate_shared(g), "the lease file cannot be opened");
	is_int(notes(g, text, sizeof text, &nwarn), 1, "one note");
	ok(nwarn == 1 && strstr(text, "per-user limit max_pus = 1 cannot be "
				      "shared with your other batches (") &&
		   strstr(text, "); this pool keeps to it on its own"),
	   "... a warning in the face's words: %s", text);
	put_stat(0, 0);
	gate_tick(g, NULL, 0, 5, 5, &a, err, sizeof err);
	is_int(notes(g, text, sizeof text, &nwarn), 0, "said once only");
	is_int(gate_held(g), 0, "nothing is recorded anywhere");
	gate_free(g);
}

int main(void)
{
	struct policy_preset p;
	char conf[128], d[256], run[256], cmd[300];

	snprintf(tmp, sizeof tmp, "/tmp/nicely-gate.XXXXXX");
	if (!mkdtemp(tmp))
		tap_bail("mkdtemp");
	snprintf(proc, sizeof proc, "%s/proc", tmp);
	dir_make(proc);
	put(proc, "loadavg", "0.00 0.00 0.00 1/100 1000\n");
	put(proc, "meminfo", "MemTotal: 16384000 kB\nMemAvailable: 12000000 kB\n");
	snprintf(d, sizeof d, "%s/pressure", proc);
	dir_make(d);
	put(d, "cpu", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
		      "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
	snprintf(d, sizeof d, "%s/etc", tmp);
	dir_make(d);
	snprintf(run, sizeof run, "%s/run", tmp);
	dir_make(run);
	chmod(run, 0700);	/* a runtime directory is private */
	snprintf(conf, sizeof conf, "%s/test.conf", tmp);
	put(tmp, "test.conf",
	    "[preset gatetest]\nbase = normal\nidle_threshold = 25%\n"
	    "reserve_pus = 0\non_return = pause\nhysteresis = 0\n"
	    "smt_avoid = no\nramp_up = 0\nmax_pus = 100%\nnice = 17\n");
	setenv("NICELY_PROCFS", proc, 1);
	setenv("NICELY_TOPOLOGY", "synthetic:pack:1 core:2 pu:1", 1);
	setenv("NICELY_SYSCONFDIR", d, 1);
	setenv("XDG_CONFIG_HOME", d, 1);
	setenv("NICELY_RUNTIME_DIR", run, 1);
	unsetenv("NICELY_CONFIG");
	preset_load(conf, &p);

	test_starts(&p);
	test_limit(&p);
	test_no_lease(&p);

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	ok(system(cmd) == 0, "temporary trees removed");
	return tap_done();
}
