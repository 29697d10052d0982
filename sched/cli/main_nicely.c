/* nicely: the command-line face. Dispatches to one function per subcommand
 * (sched/cli.h); each owns its own options and exit status. */
#include <stdio.h>
#include <string.h>

#include "sched/cli/cli.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "run", cli_run, "run a batch of commands on the CPUs others leave idle" },
	{ "submit", cli_submit, "run a batch detached: it outlives the terminal" },
	{ "status", cli_status, "list your batches (running and detached), or show one" },
	{ "attach", cli_attach, "follow a detached batch's ordered output" },
	{ "wait", cli_wait, "wait for a detached batch; exit with its status" },
	{ "results", cli_results, "print a detached batch's stored results in order" },
	{ "rm", cli_rm, "delete a finished detached batch's store" },
	{ "kill", cli_kill, "kill a running batch: every task, nothing more starts" },
	{ "reset", cli_reset, "kill a batch's tasks, drop its queue, reload the config, go on" },
	{ "pause", cli_pause, "freeze a running batch" },
	{ "resume", cli_resume, "thaw a paused batch" },
	{ "top", cli_top, "show the topology and others' load per PU" },
	{ "presets", cli_presets, "list the presets, or show one and where its values come from" },
	{ "check-config", cli_check_config, "validate the config files" },
	{ "dashboard", cli_dashboard, "print your link to nicely-agent's web dashboard" },
};

/* Print the list of subcommands. */
static void usage(FILE *f)
{
	fprintf(f, "usage: nicely COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'nicely COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 255;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("nicely %s\n", NICELY_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "nicely: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 255;
}
