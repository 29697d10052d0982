/* sched/cli/run_ctl: whole-batch controls of `nicely run` (the control
 * socket, Ctrl-Z / fg). Internal to sched/cli/run*.c; loop thread. */
#ifndef SCHED_CLI_RUN_CTL_H
#define SCHED_CLI_RUN_CTL_H

#include <stdint.h>

struct run;

/* Make the control socket (in o->ctl_dir); without one the batch runs. */
void run_ctl_open(struct run *r);
/* Pause the batch: freeze its tasks, start nothing (also when the
 * store's disk is full, run_store.c). Returns how many were frozen. */
uint64_t run_ctl_pause(struct run *r);
/* Resume a paused batch (a frozen task cannot take its TERM). */
void run_ctl_resume(struct run *r);
/* SIGTSTP pauses the batch and stops us; SIGCONT resumes what it paused. */
void run_ctl_job_control(struct run *r, int sig);
/* Between loop rounds: free answered peers, finish a reset. */
void run_ctl_poll(struct run *r);
/* The batch ended: answer the waiting kills and an unfinished reset. */
void run_ctl_end(struct run *r);
/* nicely-agent ended the batch: kill as `nicely kill` does. */
void run_ctl_agent_killed(struct run *r);

#endif
