/* sched/agent_client: the client side of nicely-agent's protocol
 * (sched/agent_proto.h), for `nicely run`, libnicely's pool (through the
 * gate) and `nicely status --all / kill --user / top`: connect and check
 * the version, open or adopt a batch handing the owner over as a pidfd,
 * lease PUs, list and kill batches, read the agent's snapshot file. Every
 * call is bounded by a short timeout so a stuck agent never stalls a
 * batch; a connection that timed out or broke is closed (the answer it
 * owed could come late) and the caller goes on without the agent until
 * agent_client_reconnect succeeds. One owner thread; never used in a child
 * after fork. */
#ifndef SCHED_AGENT_CLIENT_H
#define SCHED_AGENT_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "sched/agent_proto.h"

struct agent_client;
struct agent_snapshot;
struct agent_topology;
struct policy_preset;

/* How long one request may take, connect included, unless set. */
#define AGENT_CLIENT_TIMEOUT_MS 1000
/* A kill's bound: the agent answers once the batches' processes are gone
 * (it waits up to 5 s a batch, longer on a loaded machine). */
#define AGENT_CLIENT_KILL_TIMEOUT_MS 30000

struct agent_client_opts {
	const char *socket;	/* NULL: $NICELY_AGENT_SOCKET or
				 * AGENT_SOCK_DEFAULT */
	int timeout_ms;		/* each request's bound; 0: the default */
};
#define AGENT_CLIENT_OPTS_INIT { NULL, 0 }

/* The socket path o names (or the default), for messages. */
const char *agent_client_socket_path(const struct agent_client_opts *o);

/* Connect and say hello. 0 with *out set (free with agent_client_free).
 * -ENOENT or -ECONNREFUSED: no agent listens there (err says so; callers
 * go on without it and say nothing but their mode line); -EPROTO: the
 * agent speaks another protocol version or answered nonsense (err names
 * both versions: say it once, run without the agent); -ETIMEDOUT: it did
 * not answer in time; other -errno. err is always set on error. */
int agent_client_connect(struct agent_client **out,
			 const struct agent_client_opts *o, char *err,
			 size_t errlen);
/* Close the connection (the batch lives on: it ends with its owner) and
 * free. NULL: no-op. */
void agent_client_free(struct agent_client *c);

/* What hello said. */
int agent_client_admin(const struct agent_client *c);
int agent_client_tick_ms(const struct agent_client *c);
const char *agent_client_mode(const struct agent_client *c);
const char *agent_client_root(const struct agent_client *c);
const char *agent_client_version(const struct agent_client *c);
/* The snapshot file the agent writes ("" when hello named none). */
const char *agent_client_snapshot_path(const struct agent_client *c);
const char *agent_client_socket(const struct agent_client *c);
/* 1 while the connection is up (no failed request since the last
 * connect or reconnect). */
int agent_client_up(const struct agent_client *c);

/* What a batch asks for. */
struct agent_open_req {
	const char *preset;	/* its name */
	const char *weight;	/* "idle", "low" or "normal" */
	int nice;
	uint64_t memory_max;	/* 0: none */
	const char *cpus;	/* NULL: all; else a Linux CPU list */
	const char *command;	/* NULL or the command, for the admin view */
};

/* Open a batch for process owner (this process or a child of ours: it is
 * taken as a pidfd and kept for adopt). 0 with the batch's name and group
 * set (agent_client_batch / _group; the agent's note, if any, in
 * agent_client_note), or -errno with err set (-EREMOTEIO: the agent said
 * no, err is its reason). */
int agent_client_open(struct agent_client *c, pid_t owner,
		      const struct agent_open_req *rq, char *err,
		      size_t errlen);
/* The opened batch's name, its group relative to the cgroup root (NULL
 * before open), the weight class the agent set, its note ("" for none). */
const char *agent_client_batch(const struct agent_client *c);
const char *agent_client_group(const struct agent_client *c);
const char *agent_client_weight(const struct agent_client *c);
const char *agent_client_note(const struct agent_client *c);

/* Open a batch for owner as preset p asks (see agent_client_place). */
int agent_client_open_preset(struct agent_client *c, pid_t owner,
			     const struct policy_preset *p,
			     const char *command, char *err, size_t errlen);
/* Connect and open a batch for owner as preset p asks (its weight class
 * and nice; its memory_max is per task, for the face's task groups),
 * command (NULL or text) for the admin view: the face's one call. 0 with *out set (the group in agent_client_group), else what
 * agent_client_connect or _open return with err set and *out NULL. */
int agent_client_place(struct agent_client **out,
		       const struct agent_client_opts *o, pid_t owner,
		       const struct policy_preset *p, const char *command,
		       char *err, size_t errlen);

/* After a failed request: connect again, hello, and adopt the batch
 * opened before with the kept owner pidfd. 0, or -errno with err set (the
 * agent is still away: try later). Does nothing and returns 0 while the
 * connection is up. */
int agent_client_reconnect(struct agent_client *c, char *err, size_t errlen);

struct agent_lease_req {
	int want;	/* PUs the batch could use now: running + waiting */
	int holding;	/* PUs it holds now */
	long long done, total;	/* tasks; total -1 while unknown */
	int running;
	const int *pus;	/* the Linux CPUs its tasks are placed on (npus of
			 * them, each below AGENT_CPUS_MAX; NULL: none) */
	size_t npus;
	/* why its gate held tasks back at its last decision (NULL or "":
	 * nothing did); cut to AGENT_REASON_MAX bytes */
	const char *reason;
};
struct agent_lease_ans {
	int grant;	/* PUs it may hold until its next lease */
	int users;	/* users wanting PUs */
	int killed;	/* an admin or the user ended the batch */
	/* by bit, Linux CPU c at [c / 64] >> c % 64: the CPUs other batches
	 * hold, and those of ours a batch older than ours holds too (empty
	 * from an agent that sends neither) */
	uint64_t taken[AGENT_CPU_WORDS];
	uint64_t yield[AGENT_CPU_WORDS];
};
/* Ask for PUs (after open or adopt), saying where the batch's tasks are.
 * 0 with *ans set, or -errno with err set (-EPROTO: an answer without a
 * grant, or with "taken" or "yield" not a list of CPU numbers below
 * AGENT_CPUS_MAX); on a transport error (-EPIPE, -ECONNRESET, -ETIMEDOUT...) the
 * connection is closed: agent_client_up says 0 until a reconnect. */
int agent_client_lease(struct agent_client *c, const struct agent_lease_req *rq,
		       struct agent_lease_ans *ans, char *err, size_t errlen);

/* The batches the agent knows: every user's with all (admins only), else
 * ours. 0 with *batches a JSON array (json_decref by the caller) of the
 * objects agent_proto.h describes, or -errno with err set (-EREMOTEIO:
 * refused, err has the agent's reason). */
int agent_client_list(struct agent_client *c, int all, json_t **batches,
		      char *err, size_t errlen);
/* Kill one batch (batch non-NULL) or every batch of a user (user). 0 with
 * *nkilled the number of batches, or -errno with err set. */
int agent_client_kill(struct agent_client *c, const char *batch,
		      const char *user, int *nkilled, char *err,
		      size_t errlen);

/* Hand the detached batch in store directory dir (id its id) to the
 * agent ("submit"): it starts the batch's supervisor as us and keeps it;
 * readyfd (>= 0: the write end of a pipe; sent, not closed here) is
 * where the supervisor says "ok". 0 with *pid the supervisor's, or -errno
 * with err set (-EREMOTEIO: refused, err has the agent's reason; an agent
 * that does not know "submit" says "unknown command"). */
int agent_client_submit(struct agent_client *c, const char *dir,
			const char *id, int resume, int readyfd, pid_t *pid,
			char *err, size_t errlen);
/* The link to the agent's web dashboard for the calling user (a new
 * token when renew): url gets "http://ADDRESS:PORT/?token=HEX". 0, or
 * -errno with err set (-EREMOTEIO: refused, e.g. the dashboard is off;
 * err has the agent's reason). */
int agent_client_dashboard(struct agent_client *c, int renew, char *url,
			   size_t urllen, char *err, size_t errlen);

/* Read the agent's snapshot file at path into out, on topology topo
 * (per-PU loads indexed by PU index; out->pu must have room for
 * agent_topology_npus(topo) entries). It is used only when fresh: its
 * t_ms within 3 of its ticks of now_ms (CLOCK_MONOTONIC milliseconds; 0:
 * the clock). 0; -ESTALE when too old; -ENOENT when missing; -EPROTO for
 * another version or content that does not parse (err says which). A PU
 * the file does not name counts as fully busy (not usable). */
int agent_client_snapshot_read(const char *path,
			       const struct agent_topology *topo,
			       uint64_t now_ms, struct agent_snapshot *out,
			       char *err, size_t errlen);

#endif
