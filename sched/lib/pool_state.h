/* sched/lib/pool_state: the state one libnicely pool shares between its
 * files (pool.c and the pool_*.c beside it): the pool, its task records and
 * batches, map_into calls, worker slots and arena regions. Private to
 * sched/lib/pool*.c; nothing here is API. */
#ifndef SCHED_LIB_POOL_STATE_H
#define SCHED_LIB_POOL_STATE_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nicely.h"
#include "policy/preset.h"
#include "sched/lib/wire.h"
#include "sched/lib/worker.h"

struct agent_client;

struct pool_gate;
struct progress;
struct sched_cgroup;
struct sched_cgroup_task;

/* The texts of what nicely_kill_all ends. */
#define POOL_KILLALL_KILL "killed by nicely_kill_all"
#define POOL_KILLALL_CANCEL "cancelled by nicely_kill_all"

#define POOL_FLIGHT 64		/* messages in flight per worker */
#define POOL_INLINE 8	/* return bytes kept in the task record */

/* What an epoll event is about (pool_ep): its kind and worker slot. */
enum { EV_CTL = 1, EV_RES, EV_TASK, EV_ERR, EV_TIMER };

/* Arguments of one nicely_run (n = 1) or one nicely_map, copied. */
struct pool_batch {
	nicely_task_fn fn;
	int64_t first_id;
	size_t n, elem_size, chunk;	/* chunk 0: automatic */
	size_t refs;		/* tasks not finished */
	double avg_ns;		/* measured time per task, 0: unknown */
	char *data;
	size_t mapped;		/* data is an mmap of this size, 0: malloc */
	struct pool_into *into;	/* a nicely_map_into call, or NULL */
	/* In the pool's arena (arena_len > 0): data is there, and with
	 * res_size > 0 so are in-place results, res_size bytes per element
	 * from arena offset res_off. */
	nicely_pool *pool;
	size_t arena_len, res_off, res_size;
};

/* A nicely_map_into call. Its elements have no task record: their state
 * is one byte each (st), clean successes are written to out, and only
 * the others get a record (rec[i], allocated when first needed). */
struct pool_into {
	int64_t first, n;
	char *out;
	size_t out_size;
	uint8_t *status;	/* the caller's, or NULL */
	uint8_t *st;		/* nicely_status, | POOL_INTO_DROPPED */
	struct pool_task **rec;	/* NULL, or n pointers */
	struct pool_batch *batch;	/* NULL once freed */
};
#define POOL_INTO_DROPPED 0x80u

/* One task: 88 bytes, since 10^5-task maps pay for every byte in page
 * faults. res.data points at inl (small returns, aligned for any scalar
 * of up to 8 bytes) or at a malloc'ed copy. */
struct pool_task {
	nicely_result res;	/* status QUEUED / RUNNING until finished */
	struct pool_batch *batch;	/* NULL once finished */
	int16_t worker;
	uint8_t errheap, dropped;
	uint8_t inrec;		/* a record of a nicely_map_into element */
	uint8_t forgot;		/* forgotten (imap took it): unknown */
	union {
		char c[POOL_INLINE];
		int64_t i;
		double d;
		void *p;
	} inl;
};

struct pool_range {
	int64_t first, count;
};

/* Where a batch's ids begin, for records not written yet. */
struct pool_bstart {
	int64_t first;
	struct pool_batch *b;
};

/* The life of a worker slot. Every transition:
 *   FREE    --pool_worker_spawn------------------------------> LIVE
 *   LIVE    --lifespan's last task sent (pool_feed), or idle at
 *             pool_free/reset (pool_retire_all)----------------> CLOSING
 *   LIVE, CLOSING --timeout, kill_all, gate STOP, broken result
 *             channel (pool_worker_kill: KILL to the fork server)-> DYING
 *   any but FREE --exit reported by the fork server and EOF on the
 *             result channel (pool_reap -> pool_worker_done)----> FREE
 * pool_worker_done settles what the worker held: tasks that began get the
 * status its end explains (SIGNALED, FAILED, TIMEOUT, KILLED); tasks that
 * never began go back to the queue front, unless workers keep dying before
 * they begin anything (then the queue fails, see POOL_EARLY_DEATHS). */
enum pool_wstate {
	PW_FREE,	/* unused */
	PW_LIVE,	/* spawned; takes tasks */
	PW_CLOSING,	/* takes no more tasks (lifespan, retired) */
	PW_DYING,	/* killed; waiting for its exit and EOF */
};

struct pool_worker {
	enum pool_wstate st;
	pid_t pid;
	int task_fd, res_fd, err_fd;
	struct wire_buf out, in, err;
	struct pool_range fl[POOL_FLIGHT];	/* messages in flight */
	int fl_head, fl_n;
	int64_t inflight;	/* tasks sent, not finished */
	uint64_t sent;		/* tasks sent in its life */
	int cpu, paused;
	int exited, eof, wstatus;
	int pollout, close_after_flush, kill_sent;
	int kill_reason;	/* 0, NICELY_TIMEOUT, NICELY_KILLED,
				 * NICELY_CANCELLED (nicely_cancel of
				 * kill_task) or NICELY_QUEUED (stopped by
				 * the gate) */
	int64_t kill_task;
	char *initfail;		/* worker_init's failure, if any */
	int garbled;		/* killed for a broken result channel */
	int forkerr;		/* its fork failed with this errno */
	struct sched_cgroup_task *cg;	/* its cgroup, NULL without */
	int frozen;		/* paused by freezing cg (not SIGSTOP) */
	uint64_t spawn_ns, exit_ns;	/* asked for; its exit reported */
	int stop_kill;		/* killed by stop_on_failure (texts:
				 * the pool's stop_kill / stop_cancel) */
};

struct pool_deque {
	struct pool_range *r;
	size_t cap, head, n;
};

/* A region of the arena in use, by the batch of ids [first, first + n).
 * stale: its batch is freed, but a worker that held some of those ids is
 * not reaped yet, so the region waits (a dying worker must not write into
 * memory a later map uses). */
struct pool_areg {
	size_t off, len;
	int64_t first, n;
	int stale;
};

struct nicely_pool {
	nicely_options o;
	char *preset, *config_file, *cpus_list;
	cpu_set_t cpus;		/* options.cpus parsed (when given) */
	struct pool_gate *gate;
	struct worker_cfg wcfg;
	struct worker_slot *slots;
	size_t slots_len;
	pid_t fs_pid;
	int ctl, ep, tfd;
	int broken;		/* the fork server is gone */
	int in_cb;
	/* stop_on_failure: every task below stop_below was unfinished when
	 * a task failed and is cancelled or killed (never requeued); the
	 * texts they get; stopping: the stop is being made */
	int64_t stop_below;
	int stopping;
	char stop_kill[96], stop_cancel[96];
	int cap, nw;		/* most workers at once; slots */
	struct pool_worker *w;
	int rr;			/* round-robin start for feeding */
	/* tasks */
	struct pool_task **blocks;	/* NULL: a block whose tasks were
					 * all forgotten (imap) */
	uint16_t *bgone;		/* per block: tasks forgotten */
	size_t nblocks;
	void **slabs;		/* hugepage-backed areas later blocks come from */
	size_t nslabs, slab_used;	/* blocks taken from the last slab */
	/* Records are written lazily: ids from `inited` to total are queued
	 * and their records untouched (still zero) until first looked at,
	 * normally when they are sent to a worker; bs[bscur..nbs) says which
	 * batch they belong to. A queued task costs no memory of its own. */
	int64_t inited;
	struct pool_bstart *bs;
	size_t nbs, bscap, bscur;
	/* nicely_map_into calls in id order, until nicely_reset */
	struct pool_into **into;
	size_t ninto, intocap, into_last;
	int64_t total, completed, running, queued, failed, started;
	struct pool_deque q;
	double avg_ns;		/* measured time per task, any function */
	/* gate */
	int allowed;		/* workers allowed as of the last tick */
	int ans_nice;
	int *ans_cpus;
	int ans_ncpus, ans_used;
	uint64_t next_tick_ns, backoff_ns;
	/* workers in a row that died on their own before beginning a task
	 * (reset by any result); at POOL_EARLY_DEATHS the queue fails */
	int early_deaths;
	/* worker forks in a row that failed (reset by one that works) and
	 * since when; each doubles the backoff, see pool_worker_forkfail */
	int spawn_fails;
	uint64_t spawn_fail_ns;
	const char *last_reason;	/* the gate's last "why not", logged once */
	uint64_t tfd_armed;	/* deadline the timerfd is set to (0: none) */
	/* cgroups */
	struct sched_cgroup *cg;	/* the batch group, NULL without */
	/* nicely-agent: it answered hello (then the fork server is the
	 * batch's owner and the batch group is the one it made), NULL
	 * without; agent_killed: it ended the batch (said, work killed) */
	struct agent_client *agent;
	int agent_killed;
	/* insights: the sums of reaped workers and the longest tasks; the
	 * last reaped workers one by one (a ring, ins_next written so far);
	 * the list nicely_insights handed out last */
	nicely_insights_t ins_done;
	nicely_worker_insight_t *ins_keep, *ins_list;
	size_t ins_next;
	/* options.progress: the bar while there is work (NULL: none drawn
	 * now), since when, and 1 when stderr is no terminal (TTY mode) */
	struct progress *bar;
	uint64_t bar_t0;
	int64_t bar_done0, bar_failed0;	/* completed, failed at its start */
	int bar_off;
	/* what exited workers' worker_exit handed back, in arrival order,
	 * until nicely_reset */
	nicely_exit_result *exitres;
	size_t nexit, exitcap;
	/* made inside a worker of a pool with cgroups: the batch group is
	 * that worker's group (its class is the outer pool's) */
	int nested;
	uint64_t cg_seq;		/* last worker group number */
	int64_t cg_cpu_ns, cg_mem_peak;	/* of exited workers' groups */
	enum policy_weight cg_weight;	/* the batch group's class */
	/* each slot's worker group, kept (emptied) between its workers and
	 * reused by the next one; removed at free, reset or a class change */
	struct sched_cgroup_task **cg_slot;
	/* the map arena: a MAP_SHARED area made before the fork server, so
	 * every worker has it at the same address. Map arguments are copied
	 * into it and read there by workers, and map_into results are
	 * written there by them, so neither crosses a pipe. Regions sorted
	 * by offset; resident: bytes from the start the caller has touched
	 * (charged to the caller's memory, not to a worker's group). */
	char *arena;
	size_t arena_len, arena_resident;
	struct pool_areg *areg;
	size_t nareg, aregcap;
};

#endif
