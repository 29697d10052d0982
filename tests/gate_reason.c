/* The gate's reason with figures (gate_reason, sched/gate.c) on a
 * recorded /proc and a synthetic 2-PU topology: a PU busy with others'
 * work names that PU and its load, the load and pressure ceilings, max_pus,
 * ramp-up and the memory floor give their numbers, every PU of ours in use
 * says so, and nothing held back (or nothing waiting) is "". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/config.h"
#include "policy/preset.h"
#include "sched/gate.h"
#include "tests/tap.h"

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

/* The machine: load average, free memory, PSI some avg10. */
static void put_machine(const char *load, const char *avail_kb,
			const char *psi)
{
	char text[256], d[256];

	snprintf(text, sizeof text, "%s %s %s 1/100 1000\n", load, load, load);
	put(proc, "loadavg", text);
	snprintf(text, sizeof text, "MemTotal: 16777216 kB\nMemAvailable: "
		 "%s kB\n", avail_kb);
	put(proc, "meminfo", text);
	snprintf(d, sizeof d, "%s/pressure", proc);
	snprintf(text, sizeof text, "some avg10=%s avg60=0.00 avg300=0.00 "
		 "total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
		 psi);
	put(d, "cpu", text);
}

/* The test preset from the config file. */
static void preset_load(const char *conf, struct policy_preset *p)
{
	struct policy_config_opts co = { 0 };
	struct policy_flags fl = POLICY_FLAGS_INIT;
	struct policy_config *cfg;
	char err[1024], warn[512];

	co.extra_file = conf;
	fl.preset = "reasontest";
	if (policy_config_load(&cfg, &co, err, sizeof err) < 0 ||
	    policy_config_resolve(cfg, &fl, p, warn, sizeof warn, err,
				  sizeof err) < 0) {
		tap_diag("%s", err);
		tap_bail("cannot resolve the test preset");
	}
	policy_config_free(cfg);
}

/* One gate, two ticks (the first measures from the gate's own first
 * sample) with PU loads b0, b1 (ticks of 100) and `w` our workers; the
 * second's reason into out. Returns the second tick's starts. */
static int reason_of(const struct policy_preset *p, unsigned b0,
		     unsigned b1, const struct gate_worker *w, size_t nw,
		     size_t need, char *out, size_t len)
{
	struct gate_opts o = { 0 };
	struct gate_answer a;
	struct gate *g;
	char err[1024];

	o.preset = p;
	o.words = (struct gate_words){ "tasks", "this batch", "this batch" };
	put_stat(b0, b1);
	if (gate_new(&g, &o, err, sizeof err) < 0) {
		tap_diag("%s", err);
		tap_bail("cannot make a gate");
	}
	ok(!strcmp(gate_reason(g), ""), "no reason before the first decide");
	put_stat(b0, b1);
	if (gate_tick(g, w, nw, need, need, &a, err, sizeof err) < 0)
		tap_bail("a tick failed");
	snprintf(out, len, "%s", gate_reason(g));
	gate_free(g);
	return a.nstart;
}

int main(void)
{
	struct policy_preset base, p;
	struct gate_worker w0 = { 1, 0, 0, 0, 0 };
	char conf[128], d[256], run[256], cmd[300], r[GATE_REASON_MAX];
	int n;

	snprintf(tmp, sizeof tmp, "/tmp/nicely-reason.XXXXXX");
	if (!mkdtemp(tmp))
		tap_bail("mkdtemp");
	snprintf(proc, sizeof proc, "%s/proc", tmp);
	mkdir(proc, 0755);
	snprintf(d, sizeof d, "%s/pressure", proc);
	mkdir(d, 0755);
	put_machine("0.00", "12000000", "0.00");
	snprintf(d, sizeof d, "%s/etc", tmp);
	mkdir(d, 0755);
	snprintf(run, sizeof run, "%s/run", tmp);
	mkdir(run, 0700);
	snprintf(conf, sizeof conf, "%s/test.conf", tmp);
	put(tmp, "test.conf",
	    "[preset reasontest]\nbase = normal\nidle_threshold = 25%\n"
	    "reserve_pus = 0\non_return = keep\nhysteresis = 0\n"
	    "smt_avoid = no\nramp_up = 0\nmax_pus = 100%\nnice = 17\n"
	    "load_ceiling = off\npressure_ceiling = off\nforce_one = no\n");
	setenv("NICELY_PROCFS", proc, 1);
	setenv("NICELY_TOPOLOGY", "synthetic:pack:1 core:2 pu:1", 1);
	setenv("NICELY_SYSCONFDIR", d, 1);
	setenv("XDG_CONFIG_HOME", d, 1);
	setenv("NICELY_RUNTIME_DIR", run, 1);
	unsetenv("NICELY_CONFIG");
	preset_load(conf, &base);

	/* ours on PU 0, others 83% of PU 1 */
	p = base;
	n = reason_of(&p, 0, 83, &w0, 1, 3, r, sizeof r);
	is_int(n, 0, "PU 1 busy: nothing starts");
	is_str(r, "PU 1 busy (others 83%)", "the busy PU and its load");

	/* nothing waits, or everything waiting starts: no reason */
	n = reason_of(&p, 0, 0, NULL, 0, 0, r, sizeof r);
	is_str(r, "", "nothing waits: no reason");
	n = reason_of(&p, 0, 0, NULL, 0, 2, r, sizeof r);
	ok(n == 2 && !strcmp(r, ""), "both waiting start: no reason (%d, '%s')",
	   n, r);

	/* both PUs ours, more wait */
	n = reason_of(&p, 0, 0, NULL, 0, 5, r, sizeof r);
	ok(n == 2 && !strcmp(r, "all 2 usable PUs in use"),
	   "both PUs taken by our starts: '%s'", r);

	/* the load ceiling: 5.00 on 2 PUs, ours none */
	p = base;
	p.load_ceiling = 1.0;
	put_machine("5.00", "12000000", "0.00");
	n = reason_of(&p, 0, 0, NULL, 0, 3, r, sizeof r);
	is_int(n, 0, "above the load ceiling: nothing starts");
	is_str(r, "load ceiling 1.00 reached (others' load 2.50 a PU)",
	       "the ceiling and others' load a PU");

	/* the pressure ceiling */
	p = base;
	p.pressure_ceiling = 10.0;
	put_machine("0.00", "12000000", "42.50");
	n = reason_of(&p, 0, 0, NULL, 0, 3, r, sizeof r);
	is_str(r, "CPU pressure ceiling 10.0% reached (some avg10 42.5%)",
	       "the pressure ceiling and PSI");

	/* the memory floor */
	p = base;
	p.mem_floor_kb = 4 * 1048576;
	put_machine("0.00", "1048576", "0.00");
	n = reason_of(&p, 0, 0, NULL, 0, 3, r, sizeof r);
	is_str(r, "free memory 1.0 GiB below the floor 4.0 GiB",
	       "free memory and the floor");
	put_machine("0.00", "12000000", "0.00");

	/* max_pus and ramp-up */
	p = base;
	p.max_pus_pct = 0;
	p.max_pus = 1;
	n = reason_of(&p, 0, 0, &w0, 1, 3, r, sizeof r);
	ok(n == 0 && !strcmp(r, "max_pus 1 reached"), "max_pus: '%s'", r);
	p = base;
	p.ramp_up = 1;
	n = reason_of(&p, 0, 0, NULL, 0, 3, r, sizeof r);
	ok(n == 1 && !strcmp(r, "ramp-up: at most 1 start a tick"),
	   "ramp-up: '%s'", r);

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	ok(system(cmd) == 0, "temporary trees removed");
	return tap_done();
}
