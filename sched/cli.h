/* sched/cli: the `nicely` subcommands, one function each, dispatched from
 * main_nicely.c. Each takes the arguments after its name (argv[0] is the
 * subcommand) and returns the process exit status. */
#ifndef SCHED_CLI_H
#define SCHED_CLI_H

int cli_top(int argc, char **argv);
/* `nicely run`: a batch of commands (sched/cli_run.c). */
int cli_run(int argc, char **argv);

#endif
