/* sched/cli/cli_agent: the admin view through nicely-agent for the CLI's
 * front ends: every user's batches for `nicely status --all` and `nicely
 * top`, and `nicely kill --user`. Runs in the CLI process. */
#ifndef SCHED_CLI_CLI_AGENT_H
#define SCHED_CLI_CLI_AGENT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* How long the CLI waits for nicely-agent's answers. */
#define CLI_AGENT_TIMEOUT_MS 2000

/* The batches nicely-agent knows: every user's with all (an admin's
 * request), else the caller's own when all is -1 and the caller is no
 * admin (top). 0 with *batches a JSON array (json_decref by the caller)
 * and *every set to whether it holds every user's batches; -errno with
 * err set (-ENOENT / -ECONNREFUSED: no agent; -EREMOTEIO: refused). */
int cli_agent_list(int all, json_t **batches, int *every, char *err,
		   size_t errlen);
/* The batches as a table, a header line first. */
void cli_agent_print(FILE *f, const json_t *batches);
/* A batch's "pus" array (the Linux CPUs its tasks are on) as a CPU list,
 * "0,2-3", or "-" when empty or not an array; entries not in increasing
 * order are listed as they come. Returns how many CPUs it names. */
int cli_agent_cpulist(const json_t *a, char *buf, size_t len);
/* Kill every batch of user name through the agent. 0 with *n the number
 * of batches, or -errno with err set. */
int cli_agent_kill_user(const char *name, int *n, char *err, size_t errlen);

#endif
