/* sched/cli_top: `nicely top`, the agent's picture of the machine for people
 * and scripts: topology, SMT siblings, per-PU load by others, load average,
 * CPU pressure and free memory, as text or JSON (jansson), from the view's
 * data (topview.c); on a terminal the full-screen view (top_tui.c). Runs in
 * the CLI process; the line output refreshes until SIGINT/SIGTERM, read
 * through a signalfd. */
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
#include "sched/cli/top_tui.h"
#include "sched/cli/topview.h"

struct top_opts {
	int once, json;
	long interval_ms; /* 0: 1000 when refreshing, 200 between --once's samples */
	const char *topology;
};

/* Print the help text. */
static void top_usage(FILE *f)
{
	fprintf(f,
		"usage: nicely top [-d TENTHS] [--once] [--json] [--interval MS]\n"
		"                  [--topology SPEC]\n"
		"\n"
		"On a terminal: a full-screen live view (like htop) of every PU's\n"
		"load, split into others' and that of the nicely batches shown,\n"
		"load average, CPU pressure and memory, then the batches: user,\n"
		"batch, preset, PUs held, running/queued/done/failed, rate, ETA\n"
		"and why the gate holds tasks back right now. Keys: q quits, h\n"
		"help, arrows select a batch, p pause, r resume, k kill (as its\n"
		"owner may), u filter by user, s/< > sort, space refreshes.\n"
		"\n"
		"Not on a terminal, or with --once or --json: lines as follows.\n"
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
		"  -d, --delay TENTHS  refresh every TENTHS tenths of a second\n"
		"                   (1 to 36000; default 10), as htop's -d\n"
		"  --once           take two samples (--interval apart, default 200 ms),\n"
		"                   print once and exit\n"
		"  --json           print JSON (one document per refresh), with\n"
		"                   \"rows\": the batches as the full-screen view\n"
		"                   shows them (see nicely(1))\n"
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
		{ "delay", required_argument, NULL, 'd' },
		{ "topology", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+d:", longopts, NULL)) != -1) {
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
		case 'd':
			errno = 0;
			o->interval_ms = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || o->interval_ms < 1 ||
			    o->interval_ms > 36000) {
				fprintf(stderr, "nicely top: -d '%s': expected "
					"tenths of a second between 1 and 36000\n",
					optarg);
				return 2;
			}
			o->interval_ms *= 100;
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

/* Print one frame of the view in the chosen format: JSON with its rows,
 * or the lines with the agent's batches (when it answered); clear the
 * screen first when refreshing a terminal the full-screen view could not
 * take. */
static int top_print(const struct top_opts *o, const struct topview *v,
		     int tty)
{
	if (o->json) {
		json_t *doc = topview_json(v, 1);
		int rc;

		if (!doc)
			return -1;
		rc = json_dumpf(doc, stdout, (o->once ? JSON_INDENT(2) : JSON_COMPACT) | JSON_REAL_PRECISION(6));
		json_decref(doc);
		if (rc < 0)
			return -1;
		fputc('\n', stdout);
	} else {
		if (tty)
			fputs("\033[H\033[J", stdout);
		else if (!o->once)
			fputc('\n', stdout);
		fprintf(stdout, "mode: %s\n", v->mode);
		top_text(stdout, v->topo, v->snap);
		if (v->agent_list) {
			fprintf(stdout, "\n%s batches (nicely-agent):", v->every
				? "every user's" : "your");
			if (json_array_size(v->agent_list) == 0)
				fprintf(stdout, " none\n");
			else {
				fputc('\n', stdout);
				cli_agent_print(stdout, v->agent_list);
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

/* `nicely top`: the full-screen view on a terminal; else sample and
 * print once, or refresh until a signal. */
int cli_top(int argc, char **argv)
{
	struct top_opts o = { 0 };
	struct topview_opts vo = { 0 };
	struct topview *v = NULL;
	char err[512];
	sigset_t mask, old;
	int rc, sfd, tty, status = 0;

	rc = top_parse(argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : 2;
	if (!o.interval_ms)
		o.interval_ms = o.once ? 200 : 1000;
	vo.topology = o.topology;
	vo.once = o.once;
	vo.ours = o.json || (!o.once && isatty(STDOUT_FILENO));
	rc = topview_open(&v, &vo, err, sizeof err);
	if (rc < 0) {
		fprintf(stderr, "nicely top: %s\n", err);
		return 1;
	}
	tty = !o.once && !o.json && isatty(STDOUT_FILENO);
	if (tty && isatty(STDIN_FILENO)) {
		rc = top_tui_run(v, o.interval_ms, err, sizeof err);
		if (rc != TOP_TUI_NO_TERMINAL) {
			if (rc)
				fprintf(stderr, "nicely top: %s\n", err);
			topview_free(v);
			return rc ? 1 : 0;
		}
		rc = 0;	/* no terminal to drive: lines, as elsewhere */
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, &old);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (tty)
		fputs("\033[?25l", stdout); /* hide the cursor while refreshing */
	for (int stop = 0; rc == 0 && !stop;) {
		stop = sfd >= 0 ? top_wait(sfd, o.interval_ms) : 0;
		if (sfd < 0)
			usleep((useconds_t)o.interval_ms * 1000);
		if (stop)
			break;
		rc = topview_sample(v, err, sizeof err);
		if (rc < 0)
			break;
		topview_gather(v, o.json);
		if (top_print(&o, v, tty) < 0) {
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
	topview_free(v);
	return status;
}
