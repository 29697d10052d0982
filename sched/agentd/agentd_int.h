/* sched/agentd/agentd_int: the inside of nicely-agent's server, shared by
 * its files: agentd.c (lifecycle, socket, tick, config), agentd_conn.c
 * (connections: bytes, fds, lines, answers), agentd_req.c (what each
 * request does), agentd_batch.c (batches: place, watch owners, split,
 * remove), agentd_peer.c (who a peer and a pidfd are), snapshot.c (the
 * snapshot file), agentd_dash.c (the web dashboard's config and request;
 * the dashboard itself is sched/agentd/dash.h). */
#ifndef SCHED_AGENTD_AGENTD_INT_H
#define SCHED_AGENTD_AGENTD_INT_H

#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "policy/config.h"
#include "policy/preset.h"
#include "sched/agent_proto.h"
#include "sched/agentd/agentd.h"
#include "sched/connguard.h"
#include "sched/loop.h"

struct cga;
struct agent_topology;
struct agent_sampler;
struct agent_snapshot;
struct agentd_conn;

/* One batch the agent placed (or found again after a restart). */
struct agentd_batch {
	struct agentd *d;
	uid_t uid;
	char user[64];
	char name[160];
	pid_t pid;		/* the owner */
	int pidfd;
	struct loop_watch pw;	/* the pidfd: readable when the owner exits */
	char preset[POLICY_NAME_MAX];	/* "" when not known (found again) */
	const char *weight;	/* "idle", "low", "normal"; NULL: not known */
	enum policy_weight asked;	/* the class asked for (or found) */
	int asked_known;	/* 0: neither known: the fence leaves it */
	char *command;		/* NULL or at most AGENT_TEXT_MAX bytes */
	int want, holding, running, grant;
	char reason[AGENT_REASON_MAX + 1];	/* its last lease's, "" */
	long long done, total;
	/* the Linux CPUs its last lease said its tasks are on, by bit */
	uint64_t pus[AGENT_CPU_WORDS];
	int killed;		/* killed by `kill`: its next lease says so */
	int killing;		/* its tasks (all of it, once dead) are being
				 * killed: a round between loop rounds */
	int64_t kill_until_ms;	/* give up (and say so) then */
	int reap_killed;	/* dead: the kill of what is left began */
	int dead;		/* owner gone: removed once nothing is left */
	uint64_t cpu_ns;	/* its groups' CPU time at the last tick */
	double cpu_share;	/* of the machine, over the last tick */
	struct agentd_conn *conn;	/* the connection leasing for it */
	struct agentd_batch *next;
};

/* The CPU classes' names, indexed by enum policy_weight. */
extern const char *const agentd_weight_names[3];

/* A detached batch handed to the agent ("submit"): its supervisor, kept
 * (agentd_held.c). */
struct agentd_held {
	struct agentd *d;
	uid_t uid;
	gid_t gid;
	char user[64];
	char id[16];
	char *dir;		/* the store directory, as the user gave it */
	pid_t pid;		/* the supervisor (0: none now) */
	int pidfd;
	struct loop_watch pw;	/* readable when the supervisor ends */
	unsigned long long start;	/* its start time (/proc, ticks) */
	int child;		/* ours (exit status known), or found again */
	int restarts;
	int done;		/* ended: freed at the next reap */
	struct agentd_held *next;
};

/* Killing: a round every AGENTD_KILL_ROUND_MS for at most AGENTD_KILL_MS
 * (a client waits AGENT_CLIENT_KILL_TIMEOUT_MS for the answer). */
#define AGENTD_KILL_ROUND_MS 5
#define AGENTD_KILL_MS 10000

/* One peer connection. */
struct agentd_conn {
	struct agentd *d;
	struct loop_watch w;	/* fd -1 once closed */
	struct connguard_conn gc;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int admin;
	char *in;		/* bytes of the line(s) not yet handled */
	size_t inlen;
	char *out;		/* answer bytes not yet written */
	size_t outlen, outoff;
	int events;		/* what w is watched for now (0: nothing) */
	int pidfd;		/* a received fd, not yet taken; -1 */
	int fd_error;		/* more than one fd, or MSG_CTRUNC */
	int closing;		/* close once out is written */
	int dead;		/* closed: freed at the next reap */
	uint64_t win_ns;	/* start of its rate window */
	int win_reqs;		/* requests in it */
	int throttled;		/* over the rate: reading stopped */
	struct agentd_batch *batch;
	/* a "kill" answered once its batches are empty; no other request
	 * is read meanwhile */
	int kill_wait;
	int kill_n;		/* batches killed: the answer */
	long kill_uid;		/* the batches: this user's (-1: by name) */
	char kill_batch[160];
	struct agentd_conn *next;
};

struct agentd {
	struct agentd_opts o;
	struct loop loop;
	int sigfd, tickfd;
	struct loop_watch sw, tw;
	int lfd;
	struct connguard *guard;
	char sock[108];
	char snap[128];
	dev_t sock_dev;		/* the socket file we made */
	ino_t sock_ino;
	int own_sock;
	struct cga *cga;
	const char *mode;	/* "v1", "v2", "hybrid", "fake" */
	struct agent_topology *topo;
	struct agent_sampler *smp;
	const struct agent_snapshot *last;	/* the last good sample */
	uint64_t seq;
	int tick_ms;
	/* from the system config */
	struct policy_fence fence;
	struct policy_user_limit ulimit;
	gid_t *admin_gids;
	size_t nadmin_gids;
	int cfg_tick_ms;
	unsigned long nbatch;	/* the <n> of the next batch name */
	struct agentd_batch *batches;
	struct agentd_conn *conns;
	struct agentd_held *held;
	char state_dir[256];	/* "" when the held batches are not kept */
	char nicely[4096];	/* the nicely program the supervisors run */
	int users_wanting;
	int free_pus;		/* at the last tick */
	int64_t kill_next_ms;	/* the next kill round, while one is killing */
	int stop;
	/* the web dashboard (sched/agentd/dash.h): NULL when off */
	struct dash *dash;
	char dash_host[48];	/* [agent] dashboard, "" when off */
	int dash_port;
};

/* Log one line: stderr, or syslog once daemonized (agentd_log_syslog). */
__attribute__((format(printf, 2, 3))) void agentd_log(int prio,
						      const char *fmt, ...);
void agentd_log_syslog(void);

/* agentd.c: read the system config ([limits], [agent]). 0 or -errno. */
int agentd_config(struct agentd *d, char *err, size_t errlen);

/* agentd_conn.c */
struct connguard_conn *agentd_conn_accepted(void *ctx, int fd,
					    const struct ucred *cr);
void agentd_conn_idle(void *ctx, struct connguard_conn *gc);
/* Queue the answer obj (taken; "v" added, "ok" true unless set). */
void agentd_conn_answer(struct agentd_conn *c, json_t *obj);
/* Queue {"ok":false,"error":msg}; close after it when fatal. */
__attribute__((format(printf, 3, 4))) void
agentd_conn_error(struct agentd_conn *c, int fatal, const char *fmt, ...);
void agentd_conn_close(struct agentd_conn *c);
/* Resume connections whose rate window is over (the tick). */
void agentd_conn_tick(struct agentd *d);
/* Free closed connections (between loop rounds). */
void agentd_conn_reap(struct agentd *d);
/* Answer the "kill" requests whose batches are no longer being killed. */
void agentd_conn_kill_answer(struct agentd *d);

/* agentd_dash.c: serve the dashboard as the config says (after it was
 * read; a failure is logged and the agent goes on without it). */
void agentd_dash_apply(struct agentd *d);
/* The "dashboard" request: the peer's token and link. */
void agentd_dash_req(struct agentd_conn *c, json_t *msg);

/* agentd_req.c: one request line of c (NUL-terminated, without "\n"). */
void agentd_req_handle(struct agentd_conn *c, const char *line, size_t len);

/* agentd_batch.c */
/* Place process pidfd (owner pid) of peer c as a new batch. 0 with *out,
 * or -errno with err set; pidfd is taken (closed on error). */
struct agentd_open {
	const char *preset;
	enum policy_weight weight;
	int nice;
	uint64_t memory_max;
	const char *cpus;
	const char *command;
	size_t command_len;
};
int agentd_batch_open(struct agentd *d, struct agentd_conn *c, int pidfd,
		      pid_t pid, const struct agentd_open *op,
		      struct agentd_batch **out, char *note, size_t notelen,
		      char *err, size_t errlen);
/* Watch a batch's owner pidfd. 0 or -errno. */
int agentd_batch_watch(struct agentd_batch *b);
struct agentd_batch *agentd_batch_find(struct agentd *d, const char *name);
/* Find the batches of a previous agent in the tree: keep those whose
 * owner lives in their owner leaf, remove the others. */
void agentd_batch_rescan(struct agentd *d);
/* The admin's limits written again on every user group with a batch (the
 * config was read again). */
void agentd_batch_refence(struct agentd *d);
/* Kill a batch's tasks (not its owner): marked killed (its next lease
 * says so) and a first round now; agentd_batch_kill_step goes on. */
void agentd_batch_kill(struct agentd_batch *b);
/* Between loop rounds: a round for each batch being killed (at most every
 * AGENTD_KILL_ROUND_MS); one is done when a round finds nothing left, or
 * after AGENTD_KILL_MS (said in the log). The agent serves its peers
 * meanwhile. Returns the ms until the next round is due, -1 when none
 * is being killed. */
int agentd_batch_kill_step(struct agentd *d);
/* 1 while batch name, or a batch of uid (name NULL), is being killed. */
int agentd_batch_killing(struct agentd *d, long uid, const char *name);
/* The tick: CPU shares, the fair split of free PUs. */
void agentd_batch_tick(struct agentd *d, int free_pus, uint64_t interval_ns);
/* The fair split of d->free_pus between the live batches. */
void agentd_batch_split(struct agentd *d);
/* Remove the groups of batches whose owner is gone, and free them. */
void agentd_batch_reap(struct agentd *d);
void agentd_batch_free_all(struct agentd *d);
/* "<base>/user-<uid>/<name>" */
void agentd_batch_group(const struct agentd_batch *b, char *buf, size_t len);

/* agentd_held.c */
/* Make the state directory, find the nicely program, and take up the
 * held batches an earlier agent left (restarting those that died). A
 * problem is logged: the agent then refuses "submit". */
void agentd_held_init(struct agentd *d);
/* "submit" */
void agentd_held_submit(struct agentd_conn *c, json_t *msg);
/* Free the held batches that ended (between loop rounds). */
void agentd_held_reap(struct agentd *d);
/* Forget every held batch (the agent stops; the supervisors live on). */
void agentd_held_free_all(struct agentd *d);

/* agentd_peer.c */
/* The pid a pidfd refers to (its fdinfo's Pid:), checked to be a pidfd
 * of a live process. >0, or -errno with err set. */
pid_t agentd_pidfd_pid(int pidfd, char *err, size_t errlen);
/* 0 when process pid's real and effective uid are uid, else -EPERM (or
 * -ESRCH) with err set. */
int agentd_pid_uid_check(pid_t pid, uid_t uid, char *err, size_t errlen);
/* 1 when the peer on fd (uid, gid) is an admin: root, or in a group of
 * d->admin_gids (its primary or supplementary groups, SO_PEERGROUPS). */
int agentd_peer_admin(const struct agentd *d, int fd, uid_t uid, gid_t gid);
/* The user name of uid ("uid-N" when it has none), into buf. */
void agentd_user_name(uid_t uid, char *buf, size_t len);
/* uid of a user name or of a number; -1 when neither. */
long agentd_user_uid(const char *name);
int agentd_pidfd_alive(int pidfd);
int agentd_pidfd_open(pid_t pid);

/* snapshot.c: write the snapshot file (atomically). 0 or -errno. */
int agentd_snapshot_write(struct agentd *d, char *err, size_t errlen);

#endif
