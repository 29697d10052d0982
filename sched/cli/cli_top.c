/* sched/cli_top: `nicely top`, the agent's picture of the machine for people
 * and scripts: topology, SMT siblings, per-PU load by others, load average,
 * CPU pressure and free memory, as text or JSON (jansson). Runs in the CLI
 * process; refreshes until SIGINT/SIGTERM, read through a signalfd. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agent/sampler.h"
#include "agent/topology.h"
#include "sched/cli/cli.h"
#include "sched/cli/cli_agent.h"
#include "sched/cli/run_cgroup.h"
#include "sched/jsonx.h"

struct top_opts {
	int once, json;
	long interval_ms; /* 0: 1000 when refreshing, 200 between --once's samples */
	const char *topology;
	char mode[2048];	/* how `nicely run` would run now */
};

/* Print the help text. */
static void top_usage(FILE *f)
{
	fprintf(f,
		"usage: nicely top [--once] [--json] [--interval MS] [--topology SPEC]\n"
		"\n"
		"Show the machine as nicely sees it: packages, cores, PUs and SMT\n"
		"siblings, then per PU how busy it is with other people's work,\n"
		"plus load average, CPU pressure and available memory. The first\n"
		"line (\"mode\" in JSON) says how nicely run would run now: through\n"
		"nicely-agent, with cgroups of its own, or without them and why.\n"
		"When nicely-agent answers, the batches it knows follow (every\n"
		"user's for root and [agent] admins, else yours; \"batches\" in\n"
		"JSON): user, batch, preset, PUs held and granted, CPU share,\n"
		"done/total, command.\n"
		"\n"
		"  --once           take two samples (--interval apart, default 200 ms),\n"
		"                   print once and exit\n"
		"  --json           print JSON (one document per refresh)\n"
		"  --interval MS    time between samples (default 1000; 200 with --once)\n"
		"  --topology SPEC  synthetic:<hwloc string> or xml:<file> instead of\n"
		"                   this machine (default: $NICELY_TOPOLOGY)\n"
		"  --help           this text\n"
		"\n"
		"/proc is read from $NICELY_PROCFS when set. Exit status: 0 ok,\n"
		"1 the machine could not be read, 2 bad arguments.\n");
}

/* Parse options into o; returns 0, 1 after --help, or 2 on a usage error. */
static int top_parse(int argc, char **argv, struct top_opts *o)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "interval", required_argument, NULL, 'i' },
		{ "topology", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'o':
			o->once = 1;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'i':
			errno = 0;
			o->interval_ms = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || o->interval_ms < 10 ||
			    o->interval_ms > 3600000) {
				fprintf(stderr, "nicely top: --interval '%s': expected "
					"milliseconds between 10 and 3600000\n", optarg);
				return 2;
			}
			break;
		case 't':
			o->topology = optarg;
			break;
		case 'h':
			top_usage(stdout);
			return 1;
		default:
			fprintf(stderr, "nicely top: unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			top_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nicely top: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return 0;
}

/* Build the JSON document for one snapshot. */
static json_t *top_json(const struct agent_topology *t,
			const struct agent_snapshot *snap)
{
	const struct agent_pu *pus = agent_topology_pus(t);
	int n = agent_topology_npus(t);
	json_t *root = json_object(), *topo = json_object();
	json_t *pairs = json_array(), *arr = json_array();

	/* the source names a user's file (xml:FILE): any bytes */
	jsonx_sets(topo, "source", agent_topology_source(t));
	json_object_set_new(topo, "thissystem",
			    json_boolean(agent_topology_is_thissystem(t)));
	json_object_set_new(topo, "packages", json_integer(agent_topology_npackages(t)));
	json_object_set_new(topo, "cores", json_integer(agent_topology_ncores(t)));
	json_object_set_new(topo, "pus", json_integer(n));
	json_object_set_new(topo, "allowed", json_integer(agent_topology_nallowed(t)));
	json_object_set_new(topo, "numa_nodes", json_integer(agent_topology_nnuma(t)));
	json_object_set_new(topo, "l3_caches", json_integer(agent_topology_nl3(t)));
	for (int i = 0; i < n; i++) {
		const struct agent_pu *p = &pus[i];
		const struct agent_pu_load *l = &snap->pu[i];
		json_t *pu = json_object(), *sib = json_array();
		int first = 1;

		for (int k = 0; k < p->nsiblings; k++) {
			json_array_append_new(sib, json_integer(p->siblings[k]));
			if (p->siblings[k] < i)
				first = 0;
		}
		if (p->nsiblings && first) {
			json_t *g = json_array();

			json_array_append_new(g, json_integer(p->os_index));
			for (int k = 0; k < p->nsiblings; k++)
				json_array_append_new(g, json_integer(pus[p->siblings[k]].os_index));
			json_array_append_new(pairs, g);
		}
		json_object_set_new(pu, "index", json_integer(i));
		json_object_set_new(pu, "os_index", json_integer(p->os_index));
		json_object_set_new(pu, "core", json_integer(p->core));
		json_object_set_new(pu, "package", json_integer(p->package));
		json_object_set_new(pu, "numa", p->numa >= 0 ? json_integer(p->numa) : json_null());
		json_object_set_new(pu, "l3", p->l3 >= 0 ? json_integer(p->l3) : json_null());
		json_object_set_new(pu, "allowed", json_boolean(p->allowed));
		json_object_set_new(pu, "online", json_boolean(l->online));
		json_object_set_new(pu, "siblings", sib);
		json_object_set_new(pu, "busy_others", json_real(l->busy_others));
		json_object_set_new(pu, "busy_ours", json_real(l->busy_ours));
		json_array_append_new(arr, pu);
	}
	json_object_set_new(topo, "smt_siblings", pairs);
	json_object_set_new(root, "topology", topo);
	json_object_set_new(root, "interval_ms",
			    json_real((double)snap->interval_ns / 1e6));
	json_object_set_new(root, "pus", arr);
	json_object_set_new(root, "loadavg",
			    json_pack("[fff]", snap->loadavg[0], snap->loadavg[1],
				      snap->loadavg[2]));
	json_object_set_new(root, "procs_running", json_integer(snap->procs_running));
	if (snap->has_psi)
		json_object_set_new(root, "cpu_pressure",
				    json_pack("{s:f,s:f}", "some_avg10", snap->psi_some_avg10,
					      "some_recent", snap->psi_some_recent));
	else
		json_object_set_new(root, "cpu_pressure", json_null());
	json_object_set_new(root, "memory",
			    json_pack("{s:I,s:I}", "total_kb", (json_int_t)snap->mem_total_kb,
				      "available_kb", (json_int_t)snap->mem_available_kb));
	return root;
}

/* Print "name" and a count with a plural s. */
static void top_count(FILE *f, int n, const char *what)
{
	fprintf(f, "%d %s%s", n, what, n == 1 ? "" : "s");
}

/* Print one snapshot as text. */
static void top_text(FILE *f, const struct agent_topology *t,
		     const struct agent_snapshot *snap)
{
	const struct agent_pu *pus = agent_topology_pus(t);
	int n = agent_topology_npus(t), npairs = 0;

	fprintf(f, "topology: %s%s\n", agent_topology_source(t),
		agent_topology_is_thissystem(t) ? "" : " (not this machine: binding is a no-op)");
	top_count(f, agent_topology_npackages(t), "package");
	fprintf(f, ", ");
	top_count(f, agent_topology_ncores(t), "core");
	fprintf(f, ", ");
	top_count(f, n, "PU");
	fprintf(f, " (%d allowed), ", agent_topology_nallowed(t));
	top_count(f, agent_topology_nnuma(t), "NUMA node");
	fprintf(f, ", ");
	top_count(f, agent_topology_nl3(t), "L3 cache");
	fprintf(f, "\nSMT siblings (CPU numbers):");
	for (int i = 0; i < n; i++) {
		const struct agent_pu *p = &pus[i];
		int first = p->nsiblings > 0;

		for (int k = 0; k < p->nsiblings; k++)
			if (p->siblings[k] < i)
				first = 0;
		if (!first)
			continue;
		fprintf(f, " %d", p->os_index);
		for (int k = 0; k < p->nsiblings; k++)
			fprintf(f, "+%d", pus[p->siblings[k]].os_index);
		npairs++;
	}
	fprintf(f, "%s\n", npairs ? "" : " none");
	fprintf(f, "load average: %.2f %.2f %.2f, %d running\n", snap->loadavg[0],
		snap->loadavg[1], snap->loadavg[2], snap->procs_running);
	if (snap->has_psi)
		fprintf(f, "CPU pressure: some avg10 %.2f%%, %.1f%% over the last %.0f ms\n",
			snap->psi_some_avg10, 100 * snap->psi_some_recent,
			(double)snap->interval_ns / 1e6);
	else
		fprintf(f, "CPU pressure: not available (no /proc/pressure/cpu)\n");
	fprintf(f, "memory: %.1f GiB available of %.1f GiB\n",
		(double)snap->mem_available_kb / 1048576.0,
		(double)snap->mem_total_kb / 1048576.0);
	fprintf(f, "\n   PU  CPU core  pkg numa   L3 allowed  others%%  ours%%\n");
	for (int i = 0; i < n; i++) {
		const struct agent_pu *p = &pus[i];
		const struct agent_pu_load *l = &snap->pu[i];
		char numa[16] = "-", l3[16] = "-";

		if (p->numa >= 0)
			snprintf(numa, sizeof numa, "%d", p->numa);
		if (p->l3 >= 0)
			snprintf(l3, sizeof l3, "%d", p->l3);
		fprintf(f, "%5d %4d %4d %4d %4s %4s %7s", i, p->os_index, p->core,
			p->package, numa, l3, p->allowed ? "yes" : "no");
		if (!l->online)
			fprintf(f, "  offline\n");
		else
			fprintf(f, " %8.1f %6.1f\n", 100 * l->busy_others, 100 * l->busy_ours);
	}
}

/* Print one snapshot in the chosen format, with the agent's batches
 * (NULL: it does not answer; every: every user's); clear the screen first
 * when refreshing a terminal. */
static int top_print(const struct top_opts *o, const struct agent_topology *t,
		     const struct agent_snapshot *snap, int tty,
		     json_t *batches, int every)
{
	if (o->json) {
		json_t *doc = top_json(t, snap);

		jsonx_sets(doc, "mode", o->mode);
		if (batches) {
			json_object_set(doc, "batches", batches);
			json_object_set_new(doc, "batches_all",
					    json_boolean(every));
		}
		int rc = json_dumpf(doc, stdout, (o->once ? JSON_INDENT(2) : JSON_COMPACT) | JSON_REAL_PRECISION(6));

		json_decref(doc);
		if (rc < 0)
			return -1;
		fputc('\n', stdout);
	} else {
		if (tty)
			fputs("\033[H\033[J", stdout);
		else if (!o->once)
			fputc('\n', stdout);
		fprintf(stdout, "mode: %s\n", o->mode);
		top_text(stdout, t, snap);
		if (batches) {
			fprintf(stdout, "\n%s batches (nicely-agent):", every
				? "every user's" : "your");
			if (json_array_size(batches) == 0)
				fprintf(stdout, " none\n");
			else {
				fputc('\n', stdout);
				cli_agent_print(stdout, batches);
			}
		}
	}
	return fflush(stdout) == 0 ? 0 : -1;
}

/* Sleep ms milliseconds; returns 1 early when a signal arrives on sfd. */
static int top_wait(int sfd, long ms)
{
	struct pollfd p = { .fd = sfd, .events = POLLIN };
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		long left;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = ms - ((t1.tv_sec - t0.tv_sec) * 1000 +
			     (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return 0;
		int r = poll(&p, 1, (int)left);

		if (r > 0) {
			struct signalfd_siginfo si;

			/* Consume it, so unblocking later does not kill us. */
			if (read(sfd, &si, sizeof si) < 0)
				return 1;
			return 1;
		}
		if (r < 0 && errno != EINTR)
			return 0;
	}
}

/* `nicely top`: sample and print once, or refresh until a signal. */
int cli_top(int argc, char **argv)
{
	struct top_opts o = { 0 };
	struct agent_topology *topo = NULL;
	struct agent_sampler *s = NULL;
	struct agent_sampler_opts so = { 0 };
	const struct agent_snapshot *snap;
	char err[512];
	sigset_t mask, old;
	int rc, sfd, tty, status = 0;

	rc = top_parse(argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : 2;
	if (!o.interval_ms)
		o.interval_ms = o.once ? 200 : 1000;
	run_cgroup_mode(o.mode, sizeof o.mode);
	rc = agent_topology_load(&topo, o.topology, err, sizeof err);
	if (rc < 0) {
		fprintf(stderr, "nicely top: %s\n", err);
		return 1;
	}
	so.smooth_window = o.once ? 1 : 3;
	rc = agent_sampler_new(&s, topo, &so, err, sizeof err);
	if (rc < 0) {
		fprintf(stderr, "nicely top: %s\n", err);
		agent_topology_free(topo);
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, &old);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	tty = !o.once && !o.json && isatty(STDOUT_FILENO);
	if (tty)
		fputs("\033[?25l", stdout); /* hide the cursor while refreshing */
	rc = agent_sampler_sample(s, 0, &snap, err, sizeof err);
	for (int stop = 0; rc == 0 && !stop;) {
		stop = sfd >= 0 ? top_wait(sfd, o.interval_ms) : 0;
		if (sfd < 0)
			usleep((useconds_t)o.interval_ms * 1000);
		if (stop)
			break;
		rc = agent_sampler_sample(s, 0, &snap, err, sizeof err);
		if (rc < 0)
			break;
		json_t *batches = NULL;
		int every = 0;
		char aerr[512];

		if (cli_agent_list(-1, &batches, &every, aerr, sizeof aerr) < 0)
			batches = NULL;
		int pr = top_print(&o, topo, snap, tty, batches, every);

		json_decref(batches);
		if (pr < 0) {
			status = 1; /* stdout closed (e.g. a pipe to head) */
			break;
		}
		if (o.once)
			break;
	}
	if (rc < 0) {
		fprintf(stderr, "nicely top: %s\n", err);
		status = 1;
	}
	if (tty) {
		fputs("\033[?25h", stdout);
		fflush(stdout);
	}
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	agent_sampler_free(s);
	agent_topology_free(topo);
	return status;
}
