/* sched/cli/cli_dashboard: `nicely dashboard [--new] [--json]`: asks
 * nicely-agent (sched/agent_client.h) for the calling user's link to its
 * web dashboard and prints it. The link carries the user's token: it
 * shows that user's batches (root's and the [agent] admins': everyone's)
 * to whoever opens it. Runs in the CLI process. Exit: 0, 1 no agent or
 * refused (the dashboard is off), 2 usage. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sched/agent_client.h"
#include "sched/cli/cli.h"
#include "sched/cli/cli_agent.h"

/* The usage text. */
static void dashboard_usage(FILE *f)
{
	fprintf(f,
		"usage: nicely dashboard [--new] [--json]\n"
		"  print your link to nicely-agent's web dashboard (on when "
		"the system config\n"
		"  sets [agent] dashboard = 127.0.0.1:PORT); it shows your "
		"batches to whoever\n"
		"  opens it, so keep it to yourself\n"
		"  --new    a new link: the one printed before stops working\n"
		"  --json   {\"url\":...}\n"
		"  --help   this text\n");
}

int cli_dashboard(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "new", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent_client_opts o = AGENT_CLIENT_OPTS_INIT;
	struct agent_client *c;
	char url[512], err[1024];
	int renew = 0, json = 0, ch, e;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'n': renew = 1; break;
		case 'j': json = 1; break;
		case 'h': dashboard_usage(stdout); return 0;
		default: dashboard_usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nicely dashboard: unexpected argument '%s'\n",
			argv[optind]);
		dashboard_usage(stderr);
		return 2;
	}
	o.timeout_ms = CLI_AGENT_TIMEOUT_MS;
	if ((e = agent_client_connect(&c, &o, err, sizeof err)) < 0) {
		fprintf(stderr, "nicely dashboard: %s%s\n", err,
			e == -ENOENT || e == -ECONNREFUSED
			? " (the dashboard is served by nicely-agent)" : "");
		return 1;
	}
	e = agent_client_dashboard(c, renew, url, sizeof url, err, sizeof err);
	agent_client_free(c);
	if (e < 0) {
		fprintf(stderr, "nicely dashboard: %s\n", err);
		return 1;
	}
	if (json) {
		json_t *j = json_pack("{s:s}", "url", url);
		char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		if (!s)
			return 1;
		printf("%s\n", s);
		free(s);
	} else {
		printf("%s\n", url);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
