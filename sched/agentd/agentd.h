/* sched/agentd/agentd: nicely-agent's server, the root daemon that places
 * every user's batches in one cgroup subtree, shares the idle PUs between
 * users and publishes one snapshot of the machine (protocol and limits in
 * sched/agent_proto.h). main_agent.c parses the command line and runs it;
 * the server is single-threaded, driven by one sched/loop.h epoll loop. */
#ifndef SCHED_AGENTD_AGENTD_H
#define SCHED_AGENTD_AGENTD_H

#include <stddef.h>

struct agentd;

struct agentd_opts {
	const char *socket;	/* NULL: $NICELY_AGENT_SOCKET, else
				 * AGENT_SOCK_DEFAULT */
	const char *cgroup_root; /* NULL: $NICELY_CGROUP_ROOT or /sys/fs/cgroup */
	const char *base;	/* NULL: "nicely" */
	const char *procfs;	/* NULL: $NICELY_PROCFS or /proc */
	const char *sysconfdir;	/* NULL: $NICELY_SYSCONFDIR or the built-in */
	int tick_ms;		/* 0: [agent] tick_ms, else AGENTD_TICK_MS */
	const char *state_dir;	/* NULL: AGENT_STATE_DEFAULT, or
				 * "<socket>" AGENT_STATE_SUFFIX */
	const char *nicely;	/* NULL: nicely beside the agent, or in
				 * ../bin */
};
#define AGENTD_TICK_MS 500

/* Read the system config, open the cgroup tree (making the base), find
 * the batches of a previous agent again, listen on the socket. 0 with
 * *out set, or -errno with err set (-EADDRINUSE: another agent answers
 * on the socket). */
int agentd_new(struct agentd **out, const struct agentd_opts *o, char *err,
	       size_t errlen);
/* Serve until SIGTERM or SIGINT (SIGHUP reads the config again). 0, or
 * -errno with err set when the loop failed. */
int agentd_run(struct agentd *d, char *err, size_t errlen);
/* Close every connection and the socket (its file removed when it is
 * still ours) and free; the batches' groups stay for the next agent.
 * NULL: no-op. */
void agentd_free(struct agentd *d);

#endif
