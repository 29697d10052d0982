/* sched/cli: the `nicely` subcommands, one function each, dispatched from
 * main_nicely.c. Each takes the arguments after its name (argv[0] is the
 * subcommand) and returns the process exit status. */
#ifndef SCHED_CLI_H
#define SCHED_CLI_H

int cli_top(int argc, char **argv);
/* `nicely run`: a batch of commands (sched/cli/cli_run.c). */
int cli_run(int argc, char **argv);
/* `nicely presets [--json] [NAME]` and `nicely check-config [--json]
 * [--system] [FILE...]` (sched/cli/cli_presets.c). */
int cli_presets(int argc, char **argv);
int cli_check_config(int argc, char **argv);
/* `nicely status`, `kill`, `reset`, `pause`, `resume`: the whole-batch
 * controls of running batches (sched/cli/cli_ctl.c). */
int cli_status(int argc, char **argv);
int cli_kill(int argc, char **argv);
int cli_reset(int argc, char **argv);
int cli_pause(int argc, char **argv);
int cli_resume(int argc, char **argv);
/* `nicely submit`: a detached batch (sched/cli/cli_submit.c); `attach`,
 * `wait`, `results`, `rm` on detached batches (sched/cli/cli_batch.c). */
int cli_submit(int argc, char **argv);
int cli_attach(int argc, char **argv);
int cli_wait(int argc, char **argv);
int cli_results(int argc, char **argv);
int cli_rm(int argc, char **argv);
/* `nicely dashboard`: the link to nicely-agent's web dashboard
 * (sched/cli/cli_dashboard.c). */
int cli_dashboard(int argc, char **argv);

#endif
