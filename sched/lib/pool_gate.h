/* sched/lib/pool_gate: a libnicely pool's adapter over the shared gate
 * (sched/gate.h): the pool's config (preset, max_workers, nice), its
 * worker slots as the gate's workers, Linux CPUs for starts and moves, the
 * gate's notes as log levels. Once per tick, how many more workers may
 * start, on which CPUs, at which nice, and what to do with running ones.
 * Called by pool.c only, in the pool's owner thread. */
#ifndef SCHED_POOL_GATE_H
#define SCHED_POOL_GATE_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pool_gate;
struct policy_preset;
struct sched_cgroup;
struct agent_client;

struct pool_gate_opts {
	const char *preset;	/* NULL: the configured default */
	int max_workers;	/* 0: no cap beyond the preset */
	int nice;		/* -1: the preset's */
	const char *config_file;	/* extra file read last, or NULL */
};

/* A live worker as the gate sees it. */
struct pool_gate_worker {
	int64_t id;	/* pool.c's worker slot */
	pid_t pid;	/* 0 while not known yet */
	int cpu;	/* Linux CPU it is pinned to, -1 if none */
	int paused;
	int in_cgroup;	/* it sits in a group under the pool's batch cgroup */
};

enum pool_gate_act { POOL_GATE_MOVE, POOL_GATE_PAUSE, POOL_GATE_RESUME,
		     POOL_GATE_STOP };

struct pool_gate_action {
	enum pool_gate_act kind;
	int64_t id;	/* worker slot */
	int cpu;	/* MOVE: new Linux CPU */
};

/* One tick's answer; arrays owned by the gate until the next tick. */
struct pool_gate_answer {
	int nstart;		/* new workers that may start now */
	const int *cpus;	/* Linux CPU for each, -1 = do not pin */
	int nice;		/* their nice */
	const struct pool_gate_action *actions;
	size_t nactions;
	const char *reason;	/* why not more, static text */
};

/* Read the configuration and resolve the preset. Returns 0, or a negative
 * errno with a message in err (a config error is -EBADMSG). */
int pool_gate_new(struct pool_gate **out, const struct pool_gate_opts *o,
		  char *err, size_t errlen);
void pool_gate_free(struct pool_gate *g);
/* Parse a cpulist ("0-3,8") of CPUs this thread may use into set: 0, or
 * -EINVAL with err naming the problem. */
int pool_gate_cpus(const char *list, cpu_set_t *set, char *err,
		   size_t errlen);
/* Re-read the configuration files; on error the old preset stays. */
int pool_gate_reload(struct pool_gate *g, char *err, size_t errlen);
/* Most workers that can ever run at once (sizes pool.c's tables). */
int pool_gate_cap(const struct pool_gate *g);
/* Milliseconds between ticks. */
int pool_gate_interval_ms(const struct pool_gate *g);
/* Milliseconds to wait after creation before the first tick, so that
 * the first decision sees one full sampling interval (0 when the preset
 * ignores others' load). */
int pool_gate_warmup_ms(const struct pool_gate *g);
/* The resolved preset (weight class, memory_max for the workers'
 * cgroups); valid until the next pool_gate_reload. */
const struct policy_preset *pool_gate_preset(const struct pool_gate *g);
/* A warning from resolving the preset (a clamp by [limits]), or "". */
const char *pool_gate_warning(const struct pool_gate *g);
/* Charge our CPU time by the pool's batch cgroup (NULL: stop): its whole
 * subtree, the processes that workers fork included, counts as ours, and
 * only workers outside it (in_cgroup 0) are declared by PID. Without it
 * each worker's PID is declared and its children's CPU time is not seen.
 * 0, or -errno when the sampler cannot read the group (then by PID). */
int pool_gate_set_cgroup(struct pool_gate *g, const struct sched_cgroup *cg);
/* Lease from nicely-agent and use its snapshot (gate_set_agent). */
void pool_gate_set_agent(struct pool_gate *g, struct agent_client *c);
/* 1 once the agent said the pool's batch was ended. */
int pool_gate_agent_killed(const struct pool_gate *g);
/* Our live workers changed (one started): the sampler counts their CPU
 * time as ours from now on, not as others' load. */
void pool_gate_workers(struct pool_gate *g, const struct pool_gate_worker *w,
		       size_t nw);
/* A worker was reaped; cpu_ns is its whole user+system time. */
void pool_gate_worker_exited(struct pool_gate *g, pid_t pid, uint64_t cpu_ns);
/* The tasks really waiting (pool_gate_tick is asked as if the queue were
 * never short). Under a per-user [limits] max_pus the gate lets no more
 * workers start than these need, since what it grants is recorded in the
 * user's lease file for the other batches to see. */
void pool_gate_queued(struct pool_gate *g, size_t queued);
/* The pool's tasks finished and submitted so far, for the agent's lease
 * (its list shows them as done/total). */
void pool_gate_progress(struct pool_gate *g, long long done, long long total);
/* 1 when the pool shares a per-user [limits] max_pus through the lease
 * file: then an idle pool lets its workers go and calls pool_gate_release,
 * so that the user's other batches can use those PUs. */
int pool_gate_shared(const struct pool_gate *g);
/* The pool holds no PU any more (its idle workers were let go). */
void pool_gate_release(struct pool_gate *g);
/* A line for the pool's log callback, once each (the lease file was
 * damaged or cannot be used; the pool waits for the user's other
 * batches), with its NICELY_LOG_* level in *level; NULL when none. The
 * string lives until the next gate call. */
const char *pool_gate_note(struct pool_gate *g, int *level);
/* Decide one tick for `queued` waiting tasks and the given live workers.
 * Under a per-user [limits] max_pus, the workers given plus those it lets
 * start are what the pool holds in the user's lease file until the next
 * tick (or pool_gate_reload, or pool_gate_free). */
int pool_gate_tick(struct pool_gate *g, const struct pool_gate_worker *w,
		   size_t nw, size_t queued, struct pool_gate_answer *ans,
		   char *err, size_t errlen);

#endif
