/* sched/cli/topview: what `nicely top` shows, gathered without a screen:
 * the machine (per-PU load split into others' and ours, load average, CPU
 * pressure, memory) and the batch rows (user, batch, preset, PUs held,
 * running/queued/done/failed, rate, ETA, the gate's reason for holding
 * back now), from the batches' control sockets (sched/ctl_proto.h) and
 * nicely-agent's list (sched/agent_proto.h), plus the JSON document of
 * `nicely top --json` (topview_json.c) and the controls (pause, resume,
 * kill) a row allows. The full-screen view (top_tui.c) and the line output
 * (cli_top.c) both draw from it. CLI process, one thread; no curses. */
#ifndef SCHED_CLI_TOPVIEW_H
#define SCHED_CLI_TOPVIEW_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "sched/cli/ctl_client.h"

struct agent_topology;
struct agent_snapshot;

/* Samples of done counts kept per batch for its rate. */
#define TOPVIEW_HIST 32
/* The rate is measured over at most this many seconds back. */
#define TOPVIEW_RATE_WINDOW 30.0

/* One batch row. Text is for people (invalid UTF-8 and control bytes as
 * \xHH); numbers are -1 when not known. */
struct topview_batch {
	char id[32];		/* what `nicely pause ID` takes; "" for a
				 * batch seen only through nicely-agent */
	char agent[64];		/* nicely-agent's name of it, "" */
	char user[64];
	long long uid;		/* -1: not known */
	pid_t pid;		/* the batch's `nicely run` process */
	char preset[64];
	char state[16];		/* running, paused, ending, resetting, "" */
	char reason[224];	/* why tasks wait now, "" when nothing holds
				 * them back (or not known) */
	char command[512];
	char cpus[64];		/* CPU list its tasks are placed on ("0,2-3"),
				 * "-" when none */
	int held;		/* PUs it holds */
	long long total, queued, running, done, failed;
	double start;		/* epoch seconds, 0: not known */
	double rate;		/* tasks done a second, -1: not known yet */
	double eta;		/* seconds left at that rate, -1: not known */
	int ctl;		/* its control socket answered: pause, resume
				 * and kill go there (sock) */
	struct ctl_batch sock;
};

struct topview_opts {
	const char *topology;	/* NULL: $NICELY_TOPOLOGY or this machine */
	int once;		/* no smoothing of the per-PU load */
	/* count the CPU of the batches in view (their `nicely run` and
	 * every descendant) as ours, not others' (only on this machine's
	 * topology and /proc) */
	int ours;
};

struct topview {
	const struct agent_topology *topo;	/* the view's */
	const struct agent_snapshot *snap;	/* the last sample */
	char mode[2048];	/* how `nicely run` would run now */
	/* nicely-agent's "list" answer as it came (NULL: it did not
	 * answer) and whether it holds every user's batches */
	json_t *agent_list;
	int every;
	struct topview_batch *b;	/* rows, in the order of the last sort */
	size_t nb;
	int ours_on;		/* the "ours" split is measured */
	struct topview_priv *priv;
};

/* Make the view: topology and sampler (first sample taken). 0, or -errno
 * with err set (-EBADMSG: the topology or /proc could not be read).
 * Free with topview_free. */
int topview_open(struct topview **out, const struct topview_opts *o,
		 char *err, size_t errlen);
void topview_free(struct topview *v);
/* Sample the machine again: v->snap. 0, or -errno with err set. */
int topview_sample(struct topview *v, char *err, size_t errlen);
/* Ask nicely-agent (v->agent_list) and, with rows, every batch of the
 * caller's over its control socket, then make the rows (v->b, sorted by
 * TOPVIEW_SORT_ID) with their rates from earlier gathers; the batches'
 * processes are charged as ours from the next sample on. Never fails: a
 * batch that does not answer is left out, an agent that does not answer
 * leaves agent_list NULL. */
void topview_gather(struct topview *v, int rows);

enum topview_sort {
	TOPVIEW_SORT_ID,	/* the batch: start time, then id */
	TOPVIEW_SORT_USER,
	TOPVIEW_SORT_PUS,	/* PUs held, most first */
	TOPVIEW_SORT_PROGRESS,	/* done share, most first */
	TOPVIEW_SORT_RATE,	/* fastest first */
	TOPVIEW_SORT_ETA,	/* soonest done first, unknown last */
	TOPVIEW_SORT_N
};
/* The sort's name for the help line ("batch", "user", ...). */
const char *topview_sort_name(enum topview_sort k);
void topview_sort(struct topview *v, enum topview_sort k);

/* A rate from the done counts seen at monotonic seconds t[0..n) (oldest
 * first) and the batch's start (epoch seconds, 0 unknown) at epoch `now`:
 * over the last TOPVIEW_RATE_WINDOW seconds when they span 1 s or more
 * and tasks ended in them, else done since the start; -1 when neither
 * says anything yet. */
double topview_rate(const double *t, const long long *done, int n,
		    double start, double now);

/* Pause, resume or kill a row's batch (cmd CTL_CMD_PAUSE / _RESUME /
 * _KILL) as the caller may: over its control socket (the batch's user or
 * root: the batch refuses anyone else), a kill of a batch seen only
 * through nicely-agent through the agent (which refuses anyone but its
 * user and admins). Waits for the answer (a kill: until its tasks are
 * gone). 0 with msg saying what happened, or -errno with msg saying why
 * not (the refusal, as the batch or the agent worded it). */
int topview_control(const struct topview_batch *b, const char *cmd,
		    char *msg, size_t msglen);

/* `nicely top --json`'s document: topology, per-PU load ("busy_others",
 * "busy_ours"), interval, load average, CPU pressure, memory, "mode",
 * nicely-agent's "batches" and "batches_all" as before, and "rows": the
 * batch rows as objects (id, agent, user, uid, pid, preset, state,
 * reason, command, cpus, held, total, queued, running, done, failed,
 * start, rate, eta; null for what is not known). New reference, NULL
 * when out of memory. */
json_t *topview_json(const struct topview *v, int rows);

#endif
