/* sched/cgroup_fs: the cgroupfs shim of the cgroup module: the tree and
 * its hierarchies as detected (v1, v2, hybrid, fake), paths, reads and
 * writes, making and removing groups, listing their processes. Only the
 * module's own files include it; callers use sched/cgroup.h. */
#ifndef SCHED_CGROUP_FS_H
#define SCHED_CGROUP_FS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sched/cgroup_batch.h"

/* Controllers a hierarchy has (cg_hier.ctrls). */
enum {
	CG_CPU = 1,
	CG_CPUACCT = 2,
	CG_CPUSET = 4,
	CG_MEMORY = 8,
	CG_FREEZER = 16,
	CG_UNIFIED = 32,	/* a cgroup2 hierarchy (cgroup.kill, cpu.stat) */
};

struct cg_hier {
	char path[PATH_MAX];	/* the hierarchy's root directory */
	char rel[32];		/* path relative to the tree root, "" for v2 */
	unsigned ctrls;
	int v2;
	int fake;		/* plain files, not a cgroup file system */
};

struct cg_tree {
	char root[PATH_MAX];
	enum sched_cgroup_mode mode;
	int nh;
	struct cg_hier h[SCHED_CGROUP_MAX_HIER];
	int trace_fd;
};

/* Sleep ms milliseconds. */
void cg_sleep_ms(int ms);
/* Monotonic milliseconds. */
int64_t cg_now_ms(void);
/* Decimal digits of v into buf (no NUL); returns the length. Signal-safe. */
size_t cg_utoa(char *buf, unsigned long long v);

/* Detect the tree at root: v2, v1 or hybrid (fake when its files are
 * plain ones), and its hierarchies. t->trace_fd is -1. 0, or -errno with
 * err set (-ENOENT: no cgroup file system there). */
int cg_detect(struct cg_tree *t, const char *root, char *err,
	      size_t errlen);
/* Hybrid trees: pause through cgroup2's cgroup.freeze where the kernel
 * has it (looked for in base, made in the cgroup2 tree when missing) and
 * leave the v1 freezer hierarchy out. Does nothing on other trees. */
void cg_hybrid_freezer(struct cg_tree *t, const char *base);
/* The hierarchy that has controller bit, or NULL. */
const struct cg_hier *cg_find(const struct cg_tree *t, unsigned bit);
/* The hierarchy whose cgroup.procs lists every process of a group for the
 * purpose of killing and counting: cgroup2 when present, else the v1
 * freezer (so the kill loop can freeze), else any. */
const struct cg_hier *cg_tracker(const struct cg_tree *t);
/* The v1 cpuset hierarchy when it is one of its own (no other
 * controller mounted with it), else NULL. */
const struct cg_hier *cg_own_cpuset(const struct cg_tree *t);
/* The controller bit for a name ("unified": the cgroup2 tree), 0 when
 * unknown. */
unsigned cg_ctrl_bit(const char *ctrl);

/* Append one trace line "op rel [value]" to the trace fd, if any. */
void cg_trace(const struct cg_tree *t, const char *op, const char *path,
	      const char *value);
/* Join dir, rel and file into buf; -ENAMETOOLONG when it does not fit. */
int cg_path(char *buf, size_t len, const struct cg_hier *h,
	    const char *rel, const char *file);
/* 1 if path exists. */
int cg_exists(const char *path);
/* Read a small file into buf (NUL-terminated, trailing newline kept).
 * Returns the length or -errno. */
ssize_t cg_read_path(const char *path, char *buf, size_t len);
/* Read rel/file of hierarchy h into buf. */
ssize_t cg_read(const struct cg_hier *h, const char *rel,
		const char *file, char *buf, size_t len);
/* Write value to rel/file of hierarchy h (one write, as cgroupfs wants;
 * traced). Returns 0 or -errno with err naming the file and the value. */
int cg_write(const struct cg_tree *t, const struct cg_hier *h,
	     const char *rel, const char *file, const char *value,
	     char *err, size_t errlen);
/* Open rel's cgroup.procs in h for writing pids (O_CLOEXEC; a fake tree's
 * is created and appended to). The fd, or -errno with err naming the
 * file. */
int cg_open_procs(const struct cg_hier *h, const char *rel, char *err,
		  size_t errlen);

/* Give rel/file of hierarchy h (file NULL: the group's directory) to
 * uid:gid (both -1: leave the owner) and, when mode is not 0, that mode (traced "chown REL UID:GID",
 * "chmod REL MODE"). missing_ok: a file the kernel does not have is no
 * error. 0 or -errno with err naming the file. */
int cg_chown(const struct cg_tree *t, const struct cg_hier *h,
	     const char *rel, const char *file, uid_t uid, gid_t gid,
	     mode_t mode, int missing_ok, char *err, size_t errlen);

/* mkdir rel in hierarchy h (traced; a fake group gets empty copies of its
 * parent's files). Returns 0, or -errno (-EEXIST when it was there
 * already) with err set for other failures. */
int cg_mkdir(const struct cg_tree *t, const struct cg_hier *h,
	     const char *rel, char *err, size_t errlen);
/* Remove group rel and its children in hierarchy h, children first, each
 * checked gone. 0 or -errno with err set. */
int cg_rmtree(const struct cg_tree *t, const struct cg_hier *h,
	      const char *rel, char *err, size_t errlen);
/* Remove the base in every hierarchy when no batch is left in it (it is
 * shared by all batches; a busy base just stays). */
void cg_base_try_remove(const struct cg_tree *t, const char *base);

/* The next PID of a cgroup.procs text from *p on (*p is moved past it),
 * or 0 at the end. */
long cg_next_pid(char **p);
/* Count the live pids in path/cgroup.procs and below; when sig, send it to each
 * (never to ourselves). Returns the count or -errno. */
int cg_procs_walk(const char *path, int sig);

#endif
