/* libnicely: run C functions in parallel worker processes and get their
 * returns back in call order (DummyMP / MPIRE for C), started only when the
 * machine has room according to a nicely preset.
 *
 * Processes. nicely_pool_new() forks one small helper, the fork server. Every
 * worker is forked from it, never from the caller: fork cost does not grow
 * with the caller's memory, and data the caller set up *before* creating the
 * pool is visible to workers copy-on-write. Data set up after pool creation
 * must travel in the task argument. Task functions must exist in the program
 * when the pool is created (not in a library dlopen'ed later). Workers do not
 * inherit the caller's file descriptors other than 0, 1 and 2. Each worker is
 * its own process group, and, with cgroups (below), its own cgroup; a
 * timeout or kill reaches the whole cgroup (or, without one, the process
 * group), and whatever a task leaves behind in it is killed when its worker
 * exits. If
 * the caller dies (even by SIGKILL), the fork server and every worker die
 * too. nicely_pool_new() flushes stdio (fflush(NULL)) before forking, so
 * buffered output is not written twice. The fork server is a child of the
 * caller: a caller that reaps it with waitpid(-1) breaks the pool (calls
 * then return NICELY_ECHILD); SIGCHLD set to SIG_IGN is fine. The library
 * reaps only its own fork server, by PID, and never installs signal
 * handlers in the caller.
 *
 * Load. Each pool runs the nicely preset it is given (or the configured
 * default) like the `nicely` command: a tick every interval_ms samples
 * /proc and decides how many workers may start, pins each new worker to the
 * CPU chosen, sets its nice, and pauses, moves or stops workers as the
 * preset's on_return says. Configuration files are those of nicely(1):
 * /etc/nicely/, $XDG_CONFIG_HOME/nicely/nicely.conf, $NICELY_CONFIG and
 * options.config_file.
 *
 * Cgroups. With options.cgroups = NICELY_CGROUPS_AUTO (the default) a pool
 * opens one batch cgroup, nicely/<user>-<pid>-<n> (pid: the caller's), under
 * the cgroup tree ($NICELY_CGROUP_ROOT, default /sys/fs/cgroup; v2, v1 or
 * hybrid), with the preset's cpu_weight class, and each worker process lives
 * in its own group below it, task-<n>, from its first instruction (the fork
 * server hands the group's cgroup.procs files to the new child, which joins
 * before it runs anything). A worker's group has its CPU as cpuset and the
 * preset's memory_max as memory limit. The gate's pause freezes a worker's
 * group, move rewrites its cpuset (and affinity), stop, timeouts and
 * nicely_kill_all kill the whole group, so processes a task double-forked
 * away (setsid) die too. When a worker has exited its group is emptied
 * (what is left in it killed, checked gone) and kept for the next worker of
 * the same worker slot, which gets it with its own cpuset and with the
 * figures counted from zero again (a fresh process per task costs no
 * mkdir/rmdir); nicely_reset leaves no worker's group (it keeps the batch
 * group unless the preset's weight class changed) and nicely_pool_free
 * removes every group of the pool. If the owner dies, the
 * fork server kills everything in the pool's groups and removes them; what
 * is left when it could not (it was killed too), nicely_pool_new removes
 * for dead pools of the same user. The groups belong to the pool: do not
 * move processes into or out of them. Without permission (not root, no delegated subtree) the pool logs one
 * line (level WARNING) saying what is missing and how to get it, and workers
 * run with nice and CPU pinning only; NICELY_CGROUPS_REQUIRED makes
 * nicely_pool_new fail with NICELY_ECGROUP instead, NICELY_CGROUPS_OFF never
 * tries. Without cgroups and with a weight class other than normal, the fork
 * server starts a session of its own, and so an autogroup of its own, whose
 * nice it sets to the class's (idle 19, low 10): under autogroup nice only
 * ranks processes inside one session, and lowering the caller's session
 * would slow the caller itself. Workers then have no controlling terminal.
 *
 * Nested pools. A task may make a pool of its own (and free it before it
 * returns). With cgroups, the inner pool takes the outer worker's group
 * as its batch group: its workers' groups are made under it, so the outer
 * pool's limits, cpuset, pause and kill reach them, and the inner pool
 * does not talk to nicely-agent. Without cgroups its fork server is the
 * outer worker's child, tied to it by PR_SET_PDEATHSIG: killing the outer
 * task (timeout, nicely_cancel, kill_all) kills the inner pool too. The
 * inner pool sees the outer worker's CPUs as the allowed ones (usually
 * one, so a preset that watches others runs one inner worker at a time).
 *
 * Batching. Workers are persistent unless lifespan says otherwise; tasks
 * travel over a socket per worker and results over a pipe, many per
 * message. A worker may be handed a few short tasks ahead (prefetch, only
 * while measured task times are under 1 ms); nicely_map sends chunks.
 *
 * Threads. A pool belongs to one owner thread: the thread that called
 * nicely_pool_new() must make every later call on that pool and must not exit
 * before nicely_pool_free() (the fork server is tied to that thread's life by
 * PR_SET_PDEATHSIG). Different pools may live in different threads. Callbacks
 * run in the owner thread, inside nicely_step() and the calls that step; they
 * must not call back into the same pool except nicely_run(),
 * nicely_result_get(), nicely_task_status(), nicely_stats_get() and
 * nicely_strerror() (others return NICELY_EBUSY; nicely_pool_free is
 * refused with a log line). nicely_run() from a callback queues the task
 * (it starts once the callback's turn goes on) and never steps: with
 * max_queued tasks waiting it returns NICELY_EAGAIN, whatever
 * run_nonblock says. So a work list can grow from results (on_finish).
 *
 * Errors. Calls return 0 (or a count / an id) on success and a negative
 * NICELY_E* code on failure (see NICELY_ERRNO_MAP); nicely_strerror() names
 * it. The library never
 * prints and never exits: its own log lines go to the log callback. A task
 * that fails, crashes or times out is data (a status in its result), never a
 * failed call.
 *
 * Workers that die. A worker that ends on its own (a task crashed or
 * called exit, closed the worker's pipes, or worker_init failed) settles
 * every task it held: the one it was running is SIGNALED or FAILED (code:
 * the signal or exit status); tasks it had run whose results had not
 * reached the pool yet are FAILED (or SIGNALED) with an error saying how
 * the worker ended ("its worker lost its pipe to the pool (exit status
 * 126 ...) after running the task, ..."); a task that began is never run
 * again. Tasks it had not begun go back to the queue, for the next worker.
 * When 5 workers in a row die before beginning any task (and no result
 * arrives meanwhile: worker_init crashing, an environment where workers
 * cannot live), an error line is logged and every queued task fails
 * ("not run: 5 workers in a row died before beginning a task; the last:
 * ..."); tasks queued later get 5 tries of their own. When a worker
 * cannot be forked (EAGAIN under RLIMIT_NPROC, ...), the pool logs a
 * warning and tries again after 100 ms, doubling up to 1.6 s; after 8
 * failures in a row (about 8 s) with no worker of the pool alive, the
 * queued tasks fail ("not run: cannot fork a worker: ..."). The pool
 * stays usable in every case.
 *
 * Ownership. The pool owns every result, its bytes and its error text; the
 * pointers stay valid until nicely_result_drop() of that task,
 * nicely_reset() or nicely_pool_free(). Arguments are copied by nicely_run()
 * and nicely_map() before they return; the caller keeps its buffers.
 * nicely_map_into() writes results into the caller's arrays instead (see
 * there for how long they must live).
 */
#ifndef NICELY_H
#define NICELY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NICELY_EXTERN __attribute__((visibility("default")))

/* Errors: name, value, message. One list makes the enum and the strings.
 * Every code is distinct. All but two are the negated Linux errno of the
 * same name (NICELY_EINVAL is -EINVAL, NICELY_ENOMEM -ENOMEM, ...), with a
 * message about the pool; NICELY_ECONFIG and NICELY_ECGROUP are the
 * library's own, below -4095 (the kernel's MAX_ERRNO), so that no errno
 * value is ever one of them. */
#define NICELY_ERRNO_MAP(X)                                                    \
	X(EINVAL, -22, "invalid argument")                                     \
	X(ENOMEM, -12, "out of memory")                                        \
	X(EAGAIN, -11, "the queue is full (max_queued tasks waiting)")         \
	X(ENOENT, -2, "no task with this id")                                  \
	X(EBUSY, -16, "not allowed from inside a callback")                    \
	X(ECHILD, -10, "the pool's fork server is gone")                       \
	X(E2BIG, -7, "argument too large (at most 1 GiB per message)")         \
	X(EIO, -5, "input/output error talking to the pool's processes")       \
	X(EMFILE, -24, "too many open files")                                  \
	X(ECONFIG, -4097,                                                      \
	  "bad nicely configuration or unknown preset (see log)")              \
	X(ECGROUP, -4098,                                                      \
	  "cgroups were required but cannot be made here (see log)")

enum nicely_errno {
#define NICELY_ERRNO_ENUM_(name, val, msg) NICELY_##name = (val),
	NICELY_ERRNO_MAP(NICELY_ERRNO_ENUM_)
#undef NICELY_ERRNO_ENUM_
};

/* A message for err: a NICELY_E* code gets its text above; any other
 * negative errno value -E gets strerror(E)'s text (untranslated); 0 gets
 * "success"; anything else "unknown error". Never NULL; the string is
 * static (safe from any thread). */
NICELY_EXTERN const char *nicely_strerror(int err);
/* The library's version, e.g. "0.3.0". */
NICELY_EXTERN const char *nicely_version(void);

/* What became of a task. QUEUED and RUNNING only while it is not finished. */
typedef enum nicely_status {
	NICELY_OK = 0,	   /* the function returned 0 */
	NICELY_FAILED,	   /* it returned non-zero (code), or called exit(code),
			    * or could not run or report (see "Workers that
			    * die"; code: the worker's exit status or 0) */
	NICELY_SIGNALED,   /* the worker died of signal `code` during the task
			    * or before sending its result */
	NICELY_TIMEOUT,	   /* it ran past options.timeout_ms; its worker's
			    * cgroup (or process group) was killed */
	NICELY_KILLED,	   /* it was running when nicely_kill_all() or
			    * nicely_cancel() was called */
	NICELY_CANCELLED,  /* it was still queued (or handed to a worker but
			    * not begun) at nicely_kill_all() or
			    * nicely_cancel() */
	NICELY_QUEUED,	   /* waiting to start */
	NICELY_RUNNING,	   /* handed to a worker */
} nicely_status;

/* Name of a status: "ok", "failed", "signaled", ... */
NICELY_EXTERN const char *nicely_status_name(nicely_status st);

/* The result of one finished task, owned by the pool (see Ownership). */
typedef struct nicely_result {
	int64_t id;		/* the id nicely_run() returned */
	nicely_status status;
	int code;		/* FAILED: the return value or exit status;
				 * SIGNALED: the signal; otherwise 0 */
	pid_t pid;		/* the worker that ran it, 0 if none did */
	const char *error;	/* nicely_out_error() text or what happened;
				 * "" when there is none; never NULL */
	const void *data;	/* return bytes (nicely_out_write), NULL if none;
				 * aligned to 8 bytes (to malloc's alignment
				 * when longer than 8) */
	size_t len;		/* their length */
	double wall;		/* seconds the function ran (in a chunk: the
				 * chunk's time divided among its tasks) */
	double cpu;		/* CPU seconds of the worker, same split */
} nicely_result;

/* Inside a worker: the task's output. Opaque; valid during the call only. */
typedef struct nicely_out nicely_out;

/* Callbacks take their user pointer last: the pointer given in the
 * options (init_arg, cb_user, log_user) for worker_init, worker_exit and
 * the parent's callbacks; for a task, which has none, the worker's state
 * that worker_init made from init_arg. */

/* A task. arg/len: the copied argument (for nicely_map: one element).
 * worker_state: what worker_init stored, or NULL. Return 0 for success. */
typedef int (*nicely_task_fn)(const void *arg, size_t len, nicely_out *out,
			      void *worker_state);

/* Append bytes to the task's return bytes. Large returns are streamed to
 * the parent as they are written. 0 or NICELY_ENOMEM / NICELY_EIO. */
NICELY_EXTERN int nicely_out_write(nicely_out *out, const void *buf,
				   size_t len);
/* Set the task's error text (printf-style; replaces an earlier one; cut at
 * 4095 bytes). It is kept whatever the function returns. */
NICELY_EXTERN int nicely_out_error(nicely_out *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Log levels for nicely_log() and the log callback. */
enum nicely_log_level {
	NICELY_LOG_ERROR = 0,
	NICELY_LOG_WARNING,
	NICELY_LOG_INFO,
	NICELY_LOG_DEBUG,
};

/* From a task, worker_init or worker_exit: send a log line to the parent's
 * log callback, tagged with the task id (-1 outside a task: in worker_init,
 * worker_exit, or between tasks) and the worker's PID. Returns 0, NICELY_EBUSY when not called inside a worker. */
NICELY_EXTERN int nicely_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Per-worker setup, run once in each new worker before its first task.
 * Store anything in *worker_state; it is handed to every task and to
 * worker_exit. Non-zero return: the worker is unusable, the tasks given to
 * it become NICELY_FAILED with error "worker init failed: ...". */
typedef int (*nicely_init_fn)(void **worker_state, void *init_arg);
/* Per-worker teardown, run when a worker retires normally (lifespan
 * reached, idle at nicely_pool_free(), nicely_reset() or
 * nicely_exit_results(), or idle with nothing queued under a per-user
 * [limits] max_pus); not after a kill or crash. It may hand bytes back
 * with nicely_exit_write (see nicely_exit_results). */
typedef void (*nicely_exit_fn)(void *worker_state, void *init_arg);

/* From worker_exit: append bytes to what this worker hands back to the
 * pool (MPIRE's worker_exit results; at most 16 MiB in all). 0, or
 * NICELY_EBUSY outside worker_exit, NICELY_E2BIG, NICELY_ENOMEM. */
NICELY_EXTERN int nicely_exit_write(const void *buf, size_t len);
/* Start/finish callback: the task, and counts after the event. "Start"
 * is the moment the task is handed to a worker; running counts tasks
 * handed over and not finished. user: options.cb_user. */
typedef void (*nicely_progress_fn)(int64_t id, int64_t completed,
				   int64_t running, int64_t total, void *user);
/* Log callback. id: the task (-1: none), pid: the worker (0: the library
 * itself in the parent). msg has no trailing newline. user:
 * options.log_user. */
typedef void (*nicely_log_fn)(int level, int64_t id, pid_t pid,
			      const char *msg, void *user);

/* options.cgroups: whether workers run in cgroups (see Cgroups above). */
enum nicely_cgroups {
	NICELY_CGROUPS_AUTO = 0,	/* when possible, else nice + pinning */
	NICELY_CGROUPS_OFF,		/* never */
	NICELY_CGROUPS_REQUIRED,	/* or nicely_pool_new fails with
					 * NICELY_ECGROUP */
};

/* options.progress. */
enum nicely_progress {
	NICELY_PROGRESS_OFF = 0,
	NICELY_PROGRESS_TTY,	/* when stderr is a terminal */
	NICELY_PROGRESS_ALWAYS,	/* also when it is not (a log file) */
};

/* options.nice: run the workers at nice 0 (a nice of 0 means the
 * preset's). Not a nice value. */
#define NICELY_NICE_ZERO 100
/* options.exit_grace_ms: no grace, idle workers are killed at once (0
 * means the default, 2000 ms). */
#define NICELY_GRACE_NONE (~0u)

/* Options of a pool. Every field's 0 (NULL) is its default, so a
 * zero-filled struct ({0}, or nicely_options_init) asks for the defaults;
 * the value a field takes for 0 is given after "0:". */
typedef struct nicely_options {
	const char *preset;	/* preset name (copied); 0: the configured
				 * default. "nuclear" ignores others' load. */
	int max_workers;	/* most workers at once; 0: one per allowed
				 * CPU. The rule (nicely run -j N is the
				 * same): a preset that watches others' load
				 * runs at most one worker per allowed CPU,
				 * fewer when the CPUs are busy, so above
				 * that count max_workers changes nothing;
				 * a preset that ignores others (nuclear)
				 * runs exactly max_workers once tasks are
				 * queued, also above the CPU count (those
				 * beyond one per CPU run unpinned). */
	int nice;		/* workers' nice: 0: the preset's; 1..19: that
				 * nice; NICELY_NICE_ZERO: nice 0; anything
				 * else: nicely_pool_new says NICELY_EINVAL */
	int no_pin;		/* 0: pin each worker to the CPU the preset
				 * chose; 1: leave affinity alone */
	unsigned lifespan;	/* tasks per worker: 0: persistent; 1: a fresh
				 * process per task; N: replaced after N */
	unsigned timeout_ms;	/* per task; 0: none */
	size_t max_queued;	/* tasks waiting to start; 0: unbounded */
	int run_nonblock;	/* when max_queued is reached: 0: nicely_run /
				 * nicely_map step the pool until there is
				 * room; 1: they return NICELY_EAGAIN */
	int capture_stderr;	/* 0: workers' stderr is the caller's fd 2;
				 * 1: its lines go to the log callback (level
				 * WARNING), with the worker's PID and the id
				 * of the task it runs when the line is read
				 * (-1 when that task has already finished) */
	unsigned exit_grace_ms;	/* nicely_pool_free, nicely_reset: how long
				 * idle workers get to run worker_exit;
				 * 0: 2000 ms; NICELY_GRACE_NONE: none */
	nicely_init_fn worker_init;	/* 0: none (worker_state NULL) */
	nicely_exit_fn worker_exit;	/* 0: none */
	void *init_arg;		/* given to worker_init / worker_exit */
	nicely_progress_fn on_start;	/* a task was handed to a worker;
					 * 0: not told */
	nicely_progress_fn on_finish;	/* a task's result is in; 0: not told */
	void *cb_user;		/* given to on_start / on_finish */
	nicely_log_fn on_log;	/* 0: log lines are dropped */
	void *log_user;		/* given to on_log */
	const char *config_file;	/* extra config file read last (like
					 * $NICELY_CONFIG); 0: none */
	int cgroups;		/* enum nicely_cgroups; 0: NICELY_CGROUPS_AUTO */
	/* Fields added in 0.3 (after every 0.2 field, so that the 0.2 ones
	 * keep their offsets). */
	int stop_on_failure;	/* 1: the first task that ends FAILED,
				 * SIGNALED or TIMEOUT stops every task
				 * unfinished at that moment: the queued
				 * ones become NICELY_CANCELLED, the running
				 * ones' workers are killed (NICELY_KILLED;
				 * those workers' unbegun tasks CANCELLED),
				 * with the error "cancelled: task N failed
				 * and stop_on_failure is set" (or "killed:
				 * ..."), and a WARNING line is logged. Tasks
				 * queued afterwards run as usual (each
				 * later failure stops again). 0: a failure
				 * stops nothing */
	unsigned init_timeout_ms;	/* worker_init that runs longer: its
					 * worker is killed and the tasks
					 * it held fail with "worker init
					 * failed: timed out after N ms" (5
					 * in a row fail the queue, as in
					 * "Workers that die"); 0: none */
	unsigned exit_timeout_ms;	/* worker_exit that runs longer: its
					 * worker is killed (a WARNING line;
					 * no exit result); 0: none, but
					 * nicely_pool_free, nicely_reset and
					 * nicely_exit_results still kill
					 * after exit_grace_ms */
	const char *cpus;	/* the CPUs the pool may use, a cpulist
				 * ("0-3,8", copied; MPIRE's cpu_ids) within
				 * those the calling thread may use (its
				 * affinity and cpuset), else
				 * nicely_pool_new says NICELY_EINVAL and
				 * logs why. The preset decides among them
				 * as among all CPUs otherwise; workers it
				 * does not pin keep to them too. 0 (NULL):
				 * every CPU the thread may use */
	int progress;		/* enum nicely_progress: a progress bar on
				 * stderr (fd 2), as nicely run --bar draws:
				 * done/total, rate, running, failed, ETA;
				 * redrawn inside the calls that step (at
				 * most 10 times a second), ended with a
				 * newline when the pool runs out of work;
				 * 0: NICELY_PROGRESS_OFF */
} nicely_options;

/* The options' size as the program was built (ABI). nicely_options grows
 * only at its end; nicely_pool_new and nicely_options_init are macros
 * that hand the library sizeof(nicely_options) as the caller knows it, so
 * a program built with an older nicely.h keeps working with a newer
 * library (fields it does not know are 0, their defaults). The plain
 * functions of those names are the 0.2 ABI (they take the 0.2 fields
 * only), kept for programs built against 0.2. */
NICELY_EXTERN void nicely_options_init_sized(nicely_options *opts,
					     size_t size);

/* Fill opts with the defaults: all zero, as a zero-filled struct. */
NICELY_EXTERN void nicely_options_init(nicely_options *opts);
#define nicely_options_init(opts)                                              \
	nicely_options_init_sized((opts), sizeof(nicely_options))

typedef struct nicely_pool nicely_pool;

/* Create a pool: read the configuration, resolve the preset and fork the
 * fork server. opts is copied (NULL: defaults). Workers start lazily, when
 * tasks arrive and the preset allows. On error *pool is NULL. */
NICELY_EXTERN int nicely_pool_new_sized(nicely_pool **pool,
					const nicely_options *opts,
					size_t size);
NICELY_EXTERN int nicely_pool_new(nicely_pool **pool,
				  const nicely_options *opts);
#define nicely_pool_new(pool, opts)                                            \
	nicely_pool_new_sized((pool), (opts), sizeof(nicely_options))
/* Kill running tasks' workers, let idle ones run worker_exit (up to
 * exit_grace_ms), reap everything including the fork server, free all
 * results. Nothing is left running afterwards. NULL is a no-op. From a
 * callback it is refused (the call that ran the callback still uses the
 * pool): nothing is freed and an error line goes to the log callback;
 * free the pool after that call returns. */
NICELY_EXTERN void nicely_pool_free(nicely_pool *pool);

/* Queue fn(arg, len). The argument is copied now. Returns the task id
 * (0, 1, 2, ... in call order, continuing across nicely_map) or a negative
 * error. When max_queued tasks are waiting: steps the pool until one starts,
 * or returns NICELY_EAGAIN with run_nonblock. */
NICELY_EXTERN int64_t nicely_run(nicely_pool *pool, nicely_task_fn fn,
				 const void *arg, size_t len);

/* Queue fn once per element of base[0..n) (elem_size bytes each): n tasks
 * with consecutive ids, the first stored in *first_id (may be NULL).
 * Elements are sent chunk at a time; chunk 0 sizes chunks from the measured
 * time of fn so that per-message overhead stays small. Back-pressure as for
 * nicely_run (all n count against max_queued; more than max_queued is
 * NICELY_EAGAIN with run_nonblock, else queued as room appears).
 * Returns 0 or a negative error (then no task of this call was queued, or,
 * for a blocking map interrupted by an error, only those before it).
 * A worker that dies inside a chunk: the element it was running gets its
 * status (SIGNALED, ...), the elements it ran before whose results it had
 * not sent yet fail saying so (see "Workers that die"), and the elements
 * it never began are queued again; no element runs twice. */
NICELY_EXTERN int nicely_map(nicely_pool *pool, nicely_task_fn fn,
			     const void *base, size_t elem_size, size_t n,
			     size_t chunk, int64_t *first_id);

/* nicely_map with the results in the caller's array: element i's return
 * bytes are copied to out + i*out_size by the parent as results arrive
 * (a chunk of equal small returns is one memcpy), and no per-element
 * result record is kept for elements that succeed cleanly. Arguments,
 * chunk, ids, first_id, back-pressure and what a worker's death does
 * are as for nicely_map; n = 0 queues nothing.
 * out (n*out_size bytes; may be NULL when out_size is 0) and status (n
 * bytes, or NULL) are the caller's: they must stay valid, and are written
 * by the pool inside its calls, until every element is finished
 * (nicely_wait_all, or nicely_wait on each id) or nicely_kill_all,
 * nicely_reset or nicely_pool_free has returned; nothing is written to
 * them afterwards. status[i] follows element i's nicely_status: QUEUED
 * when queued, RUNNING when handed to a worker, then how it ended.
 * Clean success: the function returned 0, set no error text, and wrote
 * exactly out_size bytes. Its bytes are in out; nicely_result_get returns
 * NULL for it (nicely_task_status says NICELY_OK); its times are not kept.
 * Everything else gets a record, with all its details, that
 * nicely_result_get(pool, first_id + i) returns as for any task: a
 * failure, crash, timeout or kill (nothing is written to its part of
 * out); a return of another size than out_size (status NICELY_FAILED,
 * code 0, error "task ID returned N bytes; nicely_map_into expects M
 * (out_size)", the bytes it did return in data; nothing is written to
 * out); a success with an error text (status NICELY_OK, bytes in out and
 * a copy in data); a cancelled element (made when first asked for).
 * nicely_result_drop frees a record's bytes and text as for any task
 * (0 for an element without one). The pool keeps one byte per element
 * until nicely_reset. Returns 0 or a negative error, as nicely_map. */
NICELY_EXTERN int nicely_map_into(nicely_pool *pool, nicely_task_fn fn,
				  const void *base, size_t elem_size, size_t n,
				  size_t chunk, void *out, size_t out_size,
				  uint8_t *status, int64_t *first_id);

/* nicely_imap: fn over arguments pulled from a generator as room frees
 * (MPIRE's imap over a generator, for inputs too many to hold at once).
 * The generator writes the next argument into buf (cap bytes: arg_max)
 * and its length into *len, and returns 1; 0 when there are no more;
 * a negative value stops the imap with that error. user: nicely_imap_new's
 * user. It is called in the owner thread, from nicely_imap_next. */
typedef int (*nicely_next_fn)(void *buf, size_t cap, size_t *len,
			      void *user);
typedef struct nicely_imap nicely_imap;

/* Start an imap over pool: nothing is pulled yet. At most `window` of its
 * tasks are queued, running, or finished and not taken (0: 4 per worker
 * the pool may run): arguments are pulled as results are taken. ordered
 * 1: results in argument order; 0: in the order tasks finish. Its tasks
 * are ordinary tasks of the pool (ids, callbacks, stop_on_failure, which
 * also ends the pulling). 0, or NICELY_EINVAL, NICELY_E2BIG (arg_max
 * above 1 GiB), NICELY_ENOMEM, NICELY_EBUSY from a callback. */
NICELY_EXTERN int nicely_imap_new(nicely_imap **im, nicely_pool *pool,
				  nicely_task_fn fn, nicely_next_fn next,
				  void *user, size_t arg_max, size_t window,
				  int ordered);
/* Step the pool, pulling arguments, until the next result: 1 with *r set
 * (valid until the next call on im or nicely_imap_free; then the task is
 * forgotten: its id is unknown to the pool, and the record memory of
 * every 4096 forgotten ids is given back), 0 when the generator has ended
 * and every result was taken, or a negative error: the generator's, or
 * NICELY_E2BIG (it said *len > cap), or the pool's (then the imap may be
 * called again). Not from a callback (NICELY_EBUSY). */
NICELY_EXTERN int nicely_imap_next(nicely_imap *im, const nicely_result **r);
/* Free an imap: its tasks not taken are cancelled (nicely_cancel) and
 * forgotten. NULL is a no-op. */
NICELY_EXTERN void nicely_imap_free(nicely_imap *im);

/* One turn: sample load and start what may start, send tasks, collect what
 * finished (firing callbacks), kill timed-out tasks. Waits up to timeout_ms
 * (0: not at all, -1: until something happens). Returns 1 when nothing is
 * queued or running, 0 when work remains, or a negative error. */
NICELY_EXTERN int nicely_step(nicely_pool *pool, int timeout_ms);
/* Step until nothing is queued or running. 0 or a negative error. */
NICELY_EXTERN int nicely_wait_all(nicely_pool *pool);
/* Step until task id is finished. 0 or a negative error. */
NICELY_EXTERN int nicely_wait(nicely_pool *pool, int64_t id);
/* A file descriptor that becomes readable when nicely_step(pool, 0) has
 * something to do; for callers with their own poll/epoll loop. Owned by the
 * pool: do not close or read it. */
NICELY_EXTERN int nicely_fd(nicely_pool *pool);
/* Milliseconds until the pool wants a step even if nicely_fd stays quiet
 * (load sampling, timeouts); -1 when it does not. */
NICELY_EXTERN int nicely_timeout_ms(nicely_pool *pool);

/* The result of a finished task, or NULL when id is unknown, dropped or not
 * finished yet, or is a nicely_map_into element that succeeded cleanly
 * (its bytes are in the caller's array). */
NICELY_EXTERN const nicely_result *nicely_result_get(nicely_pool *pool,
						     int64_t id);
/* State of a task: a nicely_status, or NICELY_ENOENT. */
NICELY_EXTERN int nicely_task_status(nicely_pool *pool, int64_t id);
/* Free a finished task's bytes and error text (its status stays readable
 * through nicely_task_status). For long batches that consume results as
 * they come. 0, NICELY_ENOENT, or NICELY_EBUSY when not finished. */
NICELY_EXTERN int nicely_result_drop(nicely_pool *pool, int64_t id);

/* Counters since creation or the last nicely_reset. */
typedef struct nicely_stats {
	int64_t total;		/* tasks queued so far (next id) */
	int64_t completed;	/* finished, whatever the status */
	int64_t running;	/* handed to workers, not finished */
	int64_t queued;		/* waiting */
	int64_t failed;		/* finished with a status other than OK */
	int64_t workers_started;	/* worker processes forked */
	int workers;		/* worker processes alive now */
	int allowed;		/* workers the preset allows at the last tick */
	int cgroups;		/* 1: workers run in cgroups, 0: without */
	int64_t cgroup_cpu_ns;	/* CPU time of exited workers and of every
				 * process they started, from their cgroups
				 * (nanoseconds); -1 without cgroups */
	int64_t cgroup_mem_peak;	/* highest peak memory of one exited
					 * worker's group (bytes); -1 when
					 * unknown or without cgroups */
} nicely_stats;
/* Fill st with the pool's counters. 0, or NICELY_EINVAL. */
NICELY_EXTERN int nicely_stats_get(nicely_pool *pool, nicely_stats *st);

/* What one worker's worker_exit handed back (nicely_exit_write), owned
 * by the pool until nicely_reset() or nicely_pool_free(). */
typedef struct nicely_exit_result {
	pid_t pid;		/* the worker */
	const void *data;	/* its bytes, NULL when none */
	size_t len;
} nicely_exit_result;
/* Wait until nothing is queued or running (as nicely_wait_all), then
 * retire every worker (each runs worker_exit; those not gone after
 * exit_grace_ms are killed; the next tasks get new workers), and set
 * *res to the results of every worker whose worker_exit ran to its end
 * since the pool was made or reset, in the order they arrived (with no
 * worker_exit: none). Returns their number or a negative error;
 * NICELY_EBUSY from a callback. */
NICELY_EXTERN int64_t nicely_exit_results(nicely_pool *pool,
					  const nicely_exit_result **res);

/* One worker's times (MPIRE's insights), in seconds. */
typedef struct nicely_worker_insight {
	pid_t pid;
	int alive;		/* 1: still running (times so far) */
	int64_t tasks;		/* tasks it ran */
	double start_up;	/* from the spawn request to its first
				 * instruction (fork server, cgroup join) */
	double init;		/* in worker_init */
	double waiting;		/* alive and ready, not running a task */
	double working;		/* running tasks */
	double exit;		/* in worker_exit */
} nicely_worker_insight_t;

#define NICELY_INSIGHTS_LONGEST 5
/* A pool's insights since it was made or reset. */
typedef struct nicely_insights {
	int64_t workers;	/* workers started */
	int64_t tasks;		/* tasks run, summed over the workers */
	/* the times of every worker summed, in seconds */
	double start_up, init, waiting, working, exit;
	/* the workers alive and the last 256 that exited (older ones are
	 * in the sums only), exited ones first; owned by the pool until
	 * the next nicely_insights, nicely_reset or nicely_pool_free */
	size_t nlisted;
	const nicely_worker_insight_t *worker;
	/* the longest tasks that have a record (ids and wall seconds,
	 * longest first; a map_into element that succeeded cleanly has no
	 * record and is not among them) */
	int nlongest;
	int64_t longest_id[NICELY_INSIGHTS_LONGEST];
	double longest_wall[NICELY_INSIGHTS_LONGEST];
} nicely_insights_t;
/* Fill ins with the pool's insights. 0, NICELY_EINVAL or NICELY_ENOMEM.
 * Allowed from callbacks. */
NICELY_EXTERN int nicely_insights(nicely_pool *pool, nicely_insights_t *ins);
/* The insights as a few lines of text (each ending in a newline) into buf
 * of len bytes, cut to fit and always terminated: the length written. */
NICELY_EXTERN size_t nicely_insights_format(const nicely_insights_t *ins,
					    char *buf, size_t len);

/* Kill every running task's cgroup or process group (the task each worker was
 * executing becomes NICELY_KILLED) and cancel everything else not finished
 * (queued, or handed to a worker but not started: NICELY_CANCELLED);
 * returns once those workers are reaped. Returns the number of tasks killed
 * or cancelled, or an error. Idle workers stay; the pool stays usable. */
NICELY_EXTERN int nicely_kill_all(nicely_pool *pool);
/* End one task that is not finished, leaving the others alone. Queued:
 * it leaves the queue, NICELY_CANCELLED ("cancelled by nicely_cancel").
 * Handed to a worker (prefetched, or later in a map chunk) but not begun:
 * the worker skips it, and it becomes NICELY_CANCELLED when the worker
 * reports so, within the next steps (nicely_wait(pool, id) returns then).
 * Running: its worker's cgroup (or process group) is killed and the task
 * becomes NICELY_KILLED ("killed by nicely_cancel") once the worker is
 * reaped; the tasks that worker held and had not begun go back to the
 * queue; one it had run whose result had not reached the pool yet fails
 * saying so (see "Workers that die"), as does, rarely, a task that
 * began in the instant between the check and the kill. Returns 1 when
 * the task is (or will be) cancelled or killed, 0 when it had already
 * finished or ran to its end meanwhile (its result stands), NICELY_ENOENT
 * for an unknown id, NICELY_EBUSY from a callback. It may step the pool
 * (a worker already dying is waited for). */
NICELY_EXTERN int nicely_cancel(nicely_pool *pool, int64_t id);

/* nicely_kill_all, then forget every result and counter (ids restart at
 * 0), stop idle workers, and reload the configuration files and preset.
 * 0 or an error (a bad configuration: NICELY_ECONFIG, the pool keeps its
 * previous preset). */
NICELY_EXTERN int nicely_reset(nicely_pool *pool);

#ifdef __cplusplus
}
#endif

#endif
