/* sched/cli/cli_agent: `nicely status --all`, `nicely kill --user` and the
 * batch list of `nicely top` through nicely-agent (sched/agent_client.h):
 * one connection per command, a list or a kill, printed for people. Runs
 * in the CLI process. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/agent_client.h"
#include "sched/cli/cli_agent.h"
#include "sched/jsonx.h"

/* Connect to the agent with the CLI's timeout. */
static int cli_agent_connect(struct agent_client **c, char *err,
			     size_t errlen)
{
	struct agent_client_opts o = AGENT_CLIENT_OPTS_INIT;

	o.timeout_ms = CLI_AGENT_TIMEOUT_MS;
	return agent_client_connect(c, &o, err, errlen);
}

/* List batches. */
int cli_agent_list(int all, json_t **batches, int *every, char *err,
		   size_t errlen)
{
	struct agent_client *c;
	int e;

	*batches = NULL;
	*every = 0;
	if ((e = cli_agent_connect(&c, err, errlen)) < 0)
		return e;
	if (all < 0)
		all = agent_client_admin(c);
	e = agent_client_list(c, all, batches, err, errlen);
	*every = e == 0 && all;
	agent_client_free(c);
	return e;
}

/* Integer member, -1 when missing. */
static long long cli_agent_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* A member for people to read (malloc'd; "" when missing). */
static char *cli_agent_str(const json_t *o, const char *key)
{
	char *s = jsonx_get_visible(o, key);

	return s ? s : strdup("");
}

/* The table. */
/* See cli_agent.h. */
int cli_agent_cpulist(const json_t *a, char *buf, size_t len)
{
	size_t i = 0, n = json_is_array(a) ? json_array_size(a) : 0, off = 0;

	snprintf(buf, len, "-");
	while (i < n && off < len) {
		json_int_t lo = json_integer_value(json_array_get(a, i)), hi = lo;

		while (i + 1 < n &&
		       json_integer_value(json_array_get(a, i + 1)) == hi + 1)
			hi = json_integer_value(json_array_get(a, ++i));
		off += (size_t)snprintf(buf + off, len - off,
					hi > lo ? "%s%lld-%lld" : "%s%lld",
					off ? "," : "", (long long)lo,
					(long long)hi);
		i++;
	}
	return (int)n;
}

void cli_agent_print(FILE *f, const json_t *batches)
{
	size_t i;
	json_t *b;

	fprintf(f, "%-12s %-24s %-10s %5s %5s %6s %-13s %-9s %s\n", "USER",
		"BATCH", "PRESET", "PUS", "GRANT", "CPU%", "DONE/TOTAL", "CPUS",
		"COMMAND");
	json_array_foreach(batches, i, b) {
		char *user = cli_agent_str(b, "user");
		char *name = cli_agent_str(b, "batch");
		char *preset = cli_agent_str(b, "preset");
		char *cmd = cli_agent_str(b, "command");
		char done[48], cpus[64];
		long long t = cli_agent_int(b, "total");

		if (!user || !name || !preset || !cmd) {
			free(user);
			free(name);
			free(preset);
			free(cmd);
			continue;
		}
		if (t >= 0)
			snprintf(done, sizeof done, "%lld/%lld",
				 cli_agent_int(b, "done"), t);
		else
			snprintf(done, sizeof done, "%lld/?",
				 cli_agent_int(b, "done"));
		cli_agent_cpulist(json_object_get(b, "pus"), cpus, sizeof cpus);
		fprintf(f, "%-12s %-24s %-10s %5lld %5lld %6.1f %-13s %-9s %s\n",
			user, name, preset, cli_agent_int(b, "holding"),
			cli_agent_int(b, "grant"),
			100 * json_number_value(json_object_get(b, "cpu_share")),
			done, cpus, cmd);
		free(user);
		free(name);
		free(preset);
		free(cmd);
	}
}

/* Kill a user's batches. */
int cli_agent_kill_user(const char *name, int *n, char *err, size_t errlen)
{
	struct agent_client *c;
	int e;

	*n = 0;
	if ((e = cli_agent_connect(&c, err, errlen)) < 0)
		return e;
	e = agent_client_kill(c, NULL, name, n, err, errlen);
	agent_client_free(c);
	return e;
}
