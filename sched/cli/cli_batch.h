/* sched/cli/cli_batch: what `nicely status` and the controls (cli_ctl.c)
 * need of detached batches in the store (sched/cli/store.h): list them,
 * show one, reach a running one's control socket. The commands attach,
 * wait, results and rm are in cli.h. */
#ifndef SCHED_CLI_CLI_BATCH_H
#define SCHED_CLI_CLI_BATCH_H

#include <stddef.h>

#include <jansson.h>

#include "sched/cli/ctl_client.h"

/* The detached batches as JSON objects appended to all (id, short, name,
 * state, reason, exit, started, done, total, running, failed, size,
 * command, detached:true). Returns how many, or -1 after printing why
 * the store cannot be read. */
int cli_batch_list(json_t *all);
/* Batch b of the store listed in v[0..nv) as such a JSON object (NULL
 * without memory); "restarts" and "restart_signal" when nicely-agent
 * restarted its supervisor. */
struct store_batch;
json_t *cli_batch_json(const struct store_batch *v, int nv,
		       const struct store_batch *b);
/* cli_batch_all.c: root only: every user's detached batches, finished
 * ones included (the stores nicely-agent recorded and every home's
 * default store, each read as its user), as such objects with "user" and
 * "uid" appended to all. Returns how many (0 when not root). */
int cli_batch_all(json_t *all);
/* Print the list's detached objects of all as a table. */
void cli_batch_print(const json_t *all);
/* One detached batch named by key as that JSON object (*out). 0, or
 * -ENOENT when key names none (err says so). */
int cli_batch_find(const char *key, json_t **out, char *err, size_t errlen);
/* The control socket of the running detached batch key names (b->id is
 * then the batch's store id). 0, -ENOENT when key names no stored batch,
 * -ESRCH when it is not running (err says so). */
int cli_batch_ctl(const char *key, struct ctl_batch *b, char *err,
		  size_t errlen);
/* The control sockets of every running detached batch, appended to *v
 * (n entries there; realloc'd). Returns the new count. */
int cli_batch_ctl_all(struct ctl_batch **v, int n);

#endif
