/* sched/lease: the PUs one user's nicely batches hold together, for the
 * admin's per-user [limits] max_pus. A small text file in the user's
 * runtime directory (sched/rundir.h), read and rewritten under flock by
 * every batch of that user: the shared gate (sched/gate.c) of `nicely run`
 * and of libnicely, once per tick and when tasks finish. Cooperative
 * accounting between nicely's batches, no daemon; never used in a child
 * after fork. */
#ifndef SCHED_LEASE_H
#define SCHED_LEASE_H

#include <stddef.h>
#include <sys/types.h>

/* The file's name inside the runtime directory. */
#define LEASE_FILE "pus.lease"

struct sched_lease;

struct lease_opts {
	const char *dir;	/* NULL: the runtime directory (rundir_get) */
	int limit;		/* PUs all of the user's batches may hold, >= 1 */
	int lock_wait_ms;	/* how long begin waits for the lock; 0: 100 */
};
#define LEASE_OPTS_INIT { NULL, 0, 0 }

/* Open (creating it, mode 0600) the lease file. Nothing is written until
 * the batch holds PUs. The file must be a regular file of the effective
 * user; one open to others is made private again. Returns 0, or -errno
 * with err naming the path and the problem. Free with lease_close. */
int lease_open(struct sched_lease **out, const struct lease_opts *o, char *err,
	       size_t errlen);

/* Take the lock, read the file, drop entries of batches that are gone
 * (no such PID, a zombie, or a PID whose start time in /proc/PID/stat is
 * not the recorded one: reused) and set *room to what the limit leaves
 * this batch: limit minus the other live batches' holdings, at least 0.
 * A file that cannot be parsed is rebuilt from the entries read before
 * the damage, with a note (lease_note). Every lease_begin that returns 0
 * must be followed by lease_commit. Returns 0; -EAGAIN when another batch
 * held the lock for lock_wait_ms (nothing known: start nothing this time);
 * other -errno with err set. */
int lease_begin(struct sched_lease *l, int *room, char *err, size_t errlen);
/* Record that this batch now holds `holding` PUs (0: its entry goes),
 * rewrite the file when anything changed, and release the lock. Returns 0
 * or -errno with err set (the lock is released either way). */
int lease_commit(struct sched_lease *l, int holding, char *err, size_t errlen);
/* lease_begin + lease_commit: just record a new holding (a task ended). */
int lease_set(struct sched_lease *l, int holding, char *err, size_t errlen);

/* What the file says this batch holds (after the last commit). */
int lease_held(const struct sched_lease *l);
/* The other live batches' holdings and their number, at the last begin. */
int lease_others(const struct sched_lease *l);
int lease_nothers(const struct sched_lease *l);
int lease_limit(const struct sched_lease *l);
const char *lease_path(const struct sched_lease *l);
/* A message worth showing once (the file was damaged and rebuilt), or
 * NULL; the call clears it. The string lives until the next lease call. */
const char *lease_note(struct sched_lease *l);

/* Drop this batch's entry and close. In a process other than the one that
 * opened the lease (a child after fork) only the fd is closed. */
void lease_close(struct sched_lease *l);

#endif
