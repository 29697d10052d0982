/* sched/gate: the load-aware gate every face shares (`nicely run`'s
 * engine, libnicely's pool, and the agent to come). Each tick: sample the
 * machine (agent/), take the user's allowance ([limits] max_pus through
 * the lease file, sched/lease.c), decide (policy/), and hand back the
 * starts (PU, Linux CPU, nice) and the actions on running workers. The
 * face keeps its own workers and carries the actions out; the gate's
 * messages come back as notes the face prints or logs. One owner thread;
 * never used in a child after fork. */
#ifndef SCHED_GATE_H
#define SCHED_GATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct gate;
struct agent_topology;
struct agent_sampler;
struct agent_snapshot;
struct policy_preset;
struct policy_user_limit;
struct sched_cgroup;
struct agent_client;

/* What the face calls its workers and itself, for the gate's notes:
 * e.g. { "tasks", "this batch", "this batch" } or { "workers", "this
 * pool", "the pool" }. */
struct gate_words {
	const char *workers;	/* "more <workers> start as ..." */
	const char *self;	/* "<self> keeps to it on its own" */
	const char *self_waits;	/* "<self_waits> waits until ..." */
};

struct gate_opts {
	/* the resolved preset and the admin's per-user limit (both copied;
	 * user_limit NULL: none) */
	const struct policy_preset *preset;
	const struct policy_user_limit *user_limit;
	/* the machine: kept by the caller and outliving the gate, or NULL for
	 * the gate's own (then the gate also takes the first sample at once,
	 * so its first tick already sees deltas) */
	const struct agent_topology *topo;
	struct agent_sampler *sampler;
	/* most workers the face runs at once, 0: one per allowed PU. Above
	 * the allowed PUs (a preset that ignores others) the extra starts run
	 * unpinned. */
	int max_workers;
	/* most workers the face ever declares at once (sizes the gate's
	 * tables), 0: 2 * gate_cap + 1 */
	size_t max_declared;
	struct gate_words words;
};

/* A live worker of the face as the gate sees it. */
struct gate_worker {
	int64_t id;	/* the face's handle, echoed in actions */
	pid_t pid;	/* 0 while not known yet */
	int pu;		/* PU index it runs on, -1 if none */
	int paused;	/* paused by a GATE_PAUSE */
	int in_cgroup;	/* it sits in a group under the batch cgroup */
};

enum gate_act { GATE_MOVE, GATE_PAUSE, GATE_RESUME, GATE_STOP };

struct gate_action {
	enum gate_act kind;
	int64_t id;	/* the worker's handle */
	int pu;		/* MOVE: new PU index */
	int cpu;	/* ... its Linux CPU, -1 = do not pin */
};

/* One tick's answer; the arrays are the gate's until its next tick. */
struct gate_answer {
	int nstart;		/* new workers that may start now */
	const int *pus;		/* PU index for each, -1 for an unpinned extra
				 * or a start that shares a PU another batch
				 * holds (nicely-agent's "taken") */
	const int *cpus;	/* Linux CPU for each, -1 = do not pin */
	int nice;		/* their nice */
	const struct gate_action *actions;
	size_t nactions;
	const char *reason;	/* why not more, static text */
};

enum gate_level { GATE_WARN, GATE_INFO };

/* Make a gate. Returns 0, or -errno with err set (-ENOMEM; -EBADMSG when
 * the topology or the sampler cannot be made). Free with gate_free. */
int gate_new(struct gate **out, const struct gate_opts *o, char *err,
	     size_t errlen);
/* Free the gate: its lease entry goes, its own topology and sampler too. */
void gate_free(struct gate *g);
/* A new preset and per-user limit (a reset): the batch holds no PU now;
 * the lease file is taken anew when the limit changed, and every note may
 * be said once more. */
void gate_reload(struct gate *g, const struct policy_preset *preset,
		 const struct policy_user_limit *user_limit);

/* The preset in force (a copy; valid until gate_reload). */
const struct policy_preset *gate_preset(const struct gate *g);
/* The topology it decides on. */
const struct agent_topology *gate_topology(const struct gate *g);
/* Most workers at once: max_workers, else one per allowed PU. */
int gate_cap(const struct gate *g);
/* Milliseconds between ticks (the preset's interval). */
int gate_interval_ms(const struct gate *g);
/* 1 when the topology is this machine (Linux CPUs can be pinned). */
int gate_pins(const struct gate *g);
/* The PU index of Linux CPU cpu, -1 when none or cpu < 0. */
int gate_pu_of_cpu(const struct gate *g, int cpu);
/* Whether a finished worker's PU may go to the next one at once, before
 * the next tick: the last sample found it free of others' load (always,
 * for a preset that ignores others). */
int gate_pu_free(const struct gate *g, int pu);

/* Charge our CPU time by the batch cgroup (NULL: stop): its whole
 * subtree counts as ours, and only workers outside it (in_cgroup 0) are
 * declared by PID. 0, or -errno when the sampler cannot read the group
 * (then workers are declared by PID). */
int gate_set_cgroup(struct gate *g, const struct sched_cgroup *cg);
/* Our live workers changed: the sampler counts their CPU time as ours
 * from now on (by PID only those outside the charged cgroup). */
void gate_workers(struct gate *g, const struct gate_worker *w, size_t nw);
/* A worker was reaped; cpu_ns is its whole user+system time. */
void gate_worker_exited(struct gate *g, pid_t pid, uint64_t cpu_ns);

/* Open the user's lease file under a per-user limit (a warning note when
 * it cannot be: the face then keeps to the limit on its own). Done by the
 * first gate_decide otherwise; opening it once is enough. */
void gate_lease_open(struct gate *g);
/* 1 while the face shares a per-user limit through the lease file. */
int gate_shared(const struct gate *g);
/* PUs the lease file says we hold (0 without one). */
int gate_held(const struct gate *g);
/* Workers ended: we hold only `holding` PUs now; the holding only goes
 * down here (ticks raise it). 0 gives every PU back. */
void gate_hold(struct gate *g, int holding);

/* Take allowances and the snapshot from nicely-agent through client c
 * (the face's, opened on the batch: it outlives the gate or is unset
 * first; NULL: none). While the agent answers, each decide asks it for a
 * lease, saying which PUs the workers are on (the per-user lease file is
 * not used; a preset that ignores others gets at least its user's even
 * share of the allowed PUs, one with force_one at least one), and places
 * starts on idle PUs no other batch holds first, moving a worker off a PU
 * an older batch holds too when another is free; each sample uses its
 * snapshot file while fresh (the gate's own sample otherwise). When it
 * stops answering the gate says so once and goes on as without it,
 * trying to reconnect and adopt the batch every GATE_AGENT_RETRY_MS. */
#define GATE_AGENT_RETRY_MS 2000
void gate_set_agent(struct gate *g, struct agent_client *c);
/* Tasks done and in all (-1: not known yet), for the agent's view. */
void gate_progress(struct gate *g, long long done, long long total);
/* 1 once the agent said the batch was ended (`nicely kill --user`, an
 * admin): the face stops starting and ends as `nicely kill` ends it. */
int gate_agent_killed(const struct gate *g);
/* A task of ours died of a SIGKILL we did not send, under the agent: ask
 * it now (a lease; nholding tasks held) rather than at the next tick,
 * whether it killed the batch, before the face judges that death (a
 * killed batch retries nothing and starts nothing on the freed PU).
 * Returns gate_agent_killed; 0 when the agent did not answer. */
int gate_agent_ask(struct gate *g, size_t nholding);
/* 1 when the last decide's allowance came from the agent. */
int gate_agent_leased(const struct gate *g);
/* 1 when the last sample was the agent's snapshot. */
int gate_agent_snapshot(const struct gate *g);

/* Declare the live workers (gate_workers) and sample the machine. On
 * success *snap is valid until the next sample. 0 or -errno with err
 * set. */
int gate_sample(struct gate *g, const struct gate_worker *w, size_t nw,
		const struct agent_snapshot **snap, char *err, size_t errlen);
/* Decide on snapshot snap for the given live workers: `queued` tasks to
 * ask for, of which `need` really wait (under a per-user limit the gate
 * lets no more start than those need, since what it grants is recorded in
 * the user's lease file). With queued 0 the lease only goes down. Under a
 * per-user limit the workers given plus those it lets start are what we
 * hold until the next decide. Notes may follow (gate_note). */
void gate_decide(struct gate *g, const struct agent_snapshot *snap,
		 const struct gate_worker *w, size_t nw, size_t queued,
		 size_t need, struct gate_answer *ans);
/* gate_sample and gate_decide. 0, or -errno (sampling) with err set. */
int gate_tick(struct gate *g, const struct gate_worker *w, size_t nw,
	      size_t queued, size_t need, struct gate_answer *ans, char *err,
	      size_t errlen);

/* Why the last decide held tasks back, with figures, for `nicely status`
 * and `nicely top`: "PU 1 busy (others 83%)", "load ceiling 1.00 reached
 * (others' load 1.52 a PU)", "user limit 4 PUs (your other batches hold
 * 4)", "max_pus 2 reached", ...; "" when it held none back (everything
 * waiting could start, or nothing waited) and before the first decide.
 * At most GATE_REASON_MAX bytes with the NUL; valid until the next
 * decide. */
#define GATE_REASON_MAX 160
const char *gate_reason(const struct gate *g);

/* The next note for the face to print or log, each said once: the lease
 * file cannot be shared or was damaged, the wait for the user's other
 * batches. Oldest first, with its level in *level; NULL when none. The
 * string lives until the next gate call. */
const char *gate_note(struct gate *g, enum gate_level *level);

#endif
