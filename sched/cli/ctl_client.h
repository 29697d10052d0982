/* sched/ctl_client: the client side of the control protocol
 * (sched/ctl_proto.h): find the user's running batches in the runtime
 * directory, send one request to one of them and read its answer. Used by
 * `nicely status / kill / reset / pause / resume` (sched/cli/cli_ctl.c). */
#ifndef SCHED_CTL_CLIENT_H
#define SCHED_CTL_CLIENT_H

#include <stddef.h>

#include <jansson.h>

/* One batch found in the runtime directory. */
struct ctl_batch {
	char id[32];		/* what users type: the run's pid */
	char path[108];		/* its socket */
};

/* The batches whose sockets answer a connect in dir, sorted by id
 * (*out malloc'd, freed by the caller). A socket nobody listens on whose
 * pid is dead is a stale one of a run that was killed: it is removed and
 * left out. Returns the count or -errno with err set. */
int ctl_client_list(const char *dir, struct ctl_batch **out, char *err,
		    size_t errlen);
/* The socket path of batch id in dir. 0, -EINVAL for an id that is not a
 * number, -ENOENT when no such batch runs (err says so). */
int ctl_client_find(const char *dir, const char *id, struct ctl_batch *b,
		    char *err, size_t errlen);
/* Send {"v":..,"cmd":cmd} to b and read the answer into *reply (freed by
 * the caller with json_decref), waiting at most timeout_ms (-1: as long as
 * it takes). The answer's version is checked. Returns 0 with *reply set
 * (its "ok" may still be false), or -errno with err set: -ECONNREFUSED
 * (the batch ended), -ETIMEDOUT, -EPROTO (bad answer or another version). */
int ctl_client_request(const struct ctl_batch *b, const char *cmd,
		       int timeout_ms, json_t **reply, char *err,
		       size_t errlen);

#endif
