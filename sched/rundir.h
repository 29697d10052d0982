/* sched/rundir: the per-user runtime directory where a user's batches meet
 * (control sockets of running batches, the lease file of [limits]
 * max_pus_per_user). Used by the CLI and libnicely at start, never in a
 * child after fork. */
#ifndef SCHED_RUNDIR_H
#define SCHED_RUNDIR_H

#include <stddef.h>

/* Write the directory's path to buf and make sure it exists, belongs to
 * the effective user and is private (0700): $NICELY_RUNTIME_DIR when set,
 * else $XDG_RUNTIME_DIR/nicely, else /tmp/nicely-<uid>. An existing
 * directory owned by someone else, or open to group or others, is refused
 * (-EPERM) rather than used. Returns 0, or -errno with err naming the path
 * and what is wrong. */
int rundir_get(char *buf, size_t len, char *err, size_t errlen);
/* Create the file name in dir for writing, new (an old one of that name
 * is replaced), mode 0600, never through a symlink (O_NOFOLLOW, O_EXCL),
 * close-on-exec and O_APPEND; its path into path. Returns the fd (the
 * caller closes it), or -errno. */
int rundir_create(const char *dir, const char *name, char *path,
		  size_t pathlen);

#endif
