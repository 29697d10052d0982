/* sched/cli/run_gate: `nicely run`'s adapter over the shared gate.
 * Internal to sched/cli/run*.c; loop thread. */
#ifndef SCHED_CLI_RUN_GATE_H
#define SCHED_CLI_RUN_GATE_H

#include <stddef.h>

struct run;

/* Make the batch's gate. 0, or -errno with err set. */
int run_gate_open(struct run *r, char *err, size_t errlen);
/* Print the gate's pending notes to stderr. */
void run_gate_notes(struct run *r);
/* Tasks ended: hold only the PUs still in use in the lease file. */
void run_gate_hold(struct run *r);
/* One tick: sample, allowance, decide, then act and start. */
void run_gate_tick(struct run *r);
/* A reset is done: take the preset and limit it read. */
void run_gate_reload(struct run *r);

#endif
