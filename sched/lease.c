/* sched/lease: the per-user lease file of [limits] max_pus (see lease.h).
 * All the kernel and file details live here: flock with a bounded wait,
 * liveness from /proc/PID/stat (PID plus start time), in-place rewrites.
 * Called by sched/gate.c in the face's loop thread, never after fork
 * in a child. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sched/lease.h"
#include "sched/proctree.h"
#include "sched/rundir.h"

#define LEASE_MAGIC "nicely-lease 1"
#define LEASE_MAX_BYTES (256 * 1024)	/* far above any real user's batches */
#define LEASE_MAX_ENTRIES 4096

struct lease_entry {
	pid_t pid;
	unsigned long long start, id;
	int pus;
};

struct sched_lease {
	int fd;
	char path[PATH_MAX];
	int limit, lock_wait_ms;
	pid_t pid;			/* our identity in the file */
	unsigned long long start, id;
	int held;			/* what the file says we hold */
	int others, nothers;		/* at the last begin */
	int locked;
	int dirty;			/* rewrite at commit: dead or damaged */
	struct lease_entry *e;		/* other live entries at the last begin */
	size_t n, cap;
	char *buf;			/* file contents, LEASE_MAX_BYTES + 1 */
	char note[PATH_MAX + 256];
	int has_note;
};

/* 1 when the entry's process is alive and is the one that wrote it. */
static int lease_alive(const struct sched_lease *l, const struct lease_entry *e)
{
	unsigned long long st;

	if (e->pid == l->pid)
		return e->start == l->start;	/* another pool of ours */
	if (e->pid <= 0 || proctree_start(e->pid, &st) < 0)
		return 0;
	return st == e->start;
}

/* Open the file. */
int lease_open(struct sched_lease **out, const struct lease_opts *o, char *err,
	       size_t errlen)
{
	static unsigned long long next_id;
	char dir[PATH_MAX];
	struct sched_lease *l;
	struct stat st;
	int rc;

	*out = NULL;
	if (o->limit < 1) {
		snprintf(err, errlen, "lease: limit %d (accepted: 1 or more)",
			 o->limit);
		return -EINVAL;
	}
	if (o->dir) {
		snprintf(dir, sizeof dir, "%s", o->dir);
	} else if ((rc = rundir_get(dir, sizeof dir, err, errlen)) < 0) {
		return rc;
	}
	l = calloc(1, sizeof *l);
	if (!l || !(l->buf = malloc(LEASE_MAX_BYTES + 1))) {
		free(l);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->fd = -1;
	l->limit = o->limit;
	l->lock_wait_ms = o->lock_wait_ms > 0 ? o->lock_wait_ms : 100;
	if ((size_t)snprintf(l->path, sizeof l->path, "%s/%s", dir, LEASE_FILE) >=
	    sizeof l->path) {
		snprintf(err, errlen, "lease file path too long");
		rc = -ENAMETOOLONG;
		goto fail;
	}
	l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (l->fd < 0 || fstat(l->fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open %s: %s", l->path,
			 strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", l->path);
		rc = -EINVAL;
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s belongs to uid %u, not to you (uid %u)",
			 l->path, (unsigned)st.st_uid, (unsigned)geteuid());
		rc = -EPERM;
		goto fail;
	}
	if ((st.st_mode & 077) && fchmod(l->fd, 0600) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s is open to others and cannot be made "
			 "private: %s", l->path, strerror(errno));
		goto fail;
	}
	l->pid = getpid();
	if ((rc = proctree_start(l->pid, &l->start)) < 0) {
		snprintf(err, errlen, "cannot read our own start time from "
			 "/proc/%d/stat: %s", (int)l->pid, strerror(-rc));
		goto fail;
	}
	l->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
	*out = l;
	return 0;
fail:
	lease_close(l);
	return rc;
}

/* Take the lock, waiting at most lock_wait_ms; make sure the fd is still
 * the file at the path (someone may have removed or replaced it). */
static int lease_lock(struct sched_lease *l, char *err, size_t errlen)
{
	struct timespec nap = { 0, 250000 };
	long waited_us = 0;
	struct stat a, b;

	for (;;) {
		if (flock(l->fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			int e = errno;

			snprintf(err, errlen, "cannot lock %s: %s", l->path,
				 strerror(e));
			return -e;
		}
		if (waited_us >= (long)l->lock_wait_ms * 1000) {
			snprintf(err, errlen, "%s stayed locked for %d ms",
				 l->path, l->lock_wait_ms);
			return -EAGAIN;
		}
		nanosleep(&nap, NULL);
		waited_us += 250;
	}
	if (fstat(l->fd, &a) == 0 && stat(l->path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return 0;
	/* the file went away or was replaced: lock the one at the path */
	flock(l->fd, LOCK_UN);
	int fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot open %s: %s", l->path, strerror(e));
		return -e;
	}
	close(l->fd);
	l->fd = fd;
	l->held = 0;	/* our entry was in the old file */
	return lease_lock(l, err, errlen);
}

/* Keep one entry read from the file (ours is not kept: it is rewritten). */
static int lease_keep(struct sched_lease *l, const struct lease_entry *e)
{
	if (e->pid == l->pid && e->start == l->start && e->id == l->id) {
		l->held = e->pus;
		return 0;
	}
	if (!lease_alive(l, e)) {
		l->dirty = 1;
		return 0;
	}
	if (l->n == l->cap) {
		size_t c = l->cap ? 2 * l->cap : 16;
		void *p = realloc(l->e, c * sizeof *l->e);

		if (!p)
			return -ENOMEM;
		l->e = p;
		l->cap = c;
	}
	l->e[l->n++] = *e;
	return 0;
}

/* Say once that the file was damaged and what was done. */
static void lease_damaged(struct sched_lease *l, int line, const char *what)
{
	l->dirty = 1;
	if (l->has_note)
		return;
	snprintf(l->note, sizeof l->note,
		 "lease file %s: line %d: %s; rebuilt from the %zu entries "
		 "read before it (batches not listed add themselves again)",
		 l->path, line, what, l->n);
	l->has_note = 1;
}

/* Parse the file's contents into l->e. */
static int lease_parse(struct sched_lease *l, size_t len)
{
	char *s = l->buf, *end = l->buf + len;
	int line = 0, ended = 0;

	l->buf[len] = 0;
	if (len == 0)
		return 0;	/* new file */
	if (memchr(l->buf, 0, len)) {
		lease_damaged(l, 1, "binary data (a NUL byte)");
		return 0;
	}
	while (s < end && !ended) {
		char *nl = memchr(s, '\n', (size_t)(end - s));
		struct lease_entry e;
		int pid, pus, used = 0;

		line++;
		if (!nl) {
			lease_damaged(l, line, "cut off (no end of line)");
			return 0;
		}
		*nl = 0;
		if (line == 1) {
			if (strcmp(s, LEASE_MAGIC)) {
				lease_damaged(l, 1, "not a nicely lease file "
					      "(expected '" LEASE_MAGIC "')");
				return 0;
			}
		} else if (!strcmp(s, "end")) {
			ended = 1;
		} else if (*s != '#') {
			if (sscanf(s, "%d %llu %llu %d%n", &pid, &e.start, &e.id,
				   &pus, &used) != 4 || s[used] || pid <= 0 ||
			    pus < 1) {
				lease_damaged(l, line, "not an entry 'PID START "
					      "ID PUS'");
				return 0;
			}
			if (l->n >= LEASE_MAX_ENTRIES) {
				lease_damaged(l, line, "too many entries");
				return 0;
			}
			e.pid = pid;
			e.pus = pus;
			if (lease_keep(l, &e) < 0)
				return -ENOMEM;
		}
		s = nl + 1;
	}
	if (!ended)
		lease_damaged(l, line + 1, "cut off (no 'end' line)");
	return 0;
}

/* Read the whole file from the start. */
static ssize_t lease_read(struct sched_lease *l)
{
	size_t len = 0;

	while (len < LEASE_MAX_BYTES) {
		ssize_t n = pread(l->fd, l->buf + len, LEASE_MAX_BYTES - len,
				  (off_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

/* Lock, read, drop the dead, compute the room. */
int lease_begin(struct sched_lease *l, int *room, char *err, size_t errlen)
{
	ssize_t len;
	int rc, sum = 0;

	*room = 0;
	if (l->locked) {
		snprintf(err, errlen, "lease: begin twice without commit");
		return -EINVAL;
	}
	if (getpid() != l->pid) {
		snprintf(err, errlen, "lease: used in a child after fork");
		return -ECHILD;
	}
	if ((rc = lease_lock(l, err, errlen)) < 0)
		return rc;
	l->locked = 1;
	l->n = 0;
	l->dirty = 0;
	/* our entry is found again below; if it is missing (the file was
	 * rebuilt or replaced), commit writes it anew */
	int was = l->held;

	l->held = 0;
	if ((len = lease_read(l)) < 0) {
		snprintf(err, errlen, "cannot read %s: %s", l->path,
			 strerror((int)-len));
		flock(l->fd, LOCK_UN);
		l->locked = 0;
		l->held = was;
		return (int)len;
	}
	if ((rc = lease_parse(l, (size_t)len)) < 0) {
		snprintf(err, errlen, "out of memory");
		flock(l->fd, LOCK_UN);
		l->locked = 0;
		l->held = was;
		return rc;
	}
	if (l->held != was)
		l->dirty = 1;
	for (size_t i = 0; i < l->n; i++)
		sum += l->e[i].pus;
	l->others = sum;
	l->nothers = (int)l->n;
	*room = l->limit > sum ? l->limit - sum : 0;
	return 0;
}

/* Write the entries and ours, then cut the file to that length. */
static int lease_write(struct sched_lease *l, int holding)
{
	size_t off = 0, cap = LEASE_MAX_BYTES;
	int n;

	n = snprintf(l->buf, cap, LEASE_MAGIC "\n# PID START ID PUS: the PUs "
		     "this user's nicely batches hold ([limits] max_pus)\n");
	off = (size_t)n;
	for (size_t i = 0; i <= l->n; i++) {
		const struct lease_entry *e = i < l->n ? &l->e[i] : NULL;
		struct lease_entry me = { l->pid, l->start, l->id, holding };

		if (!e) {
			if (holding <= 0)
				break;
			e = &me;
		}
		n = snprintf(l->buf + off, cap - off, "%d %llu %llu %d\n",
			     (int)e->pid, e->start, e->id, e->pus);
		if (n < 0 || (size_t)n >= cap - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	n = snprintf(l->buf + off, cap - off, "end\n");
	if (n < 0 || (size_t)n >= cap - off)
		return -ENOSPC;
	off += (size_t)n;
	/* the new contents first, then the length: a batch killed between
	 * the two leaves the old tail after "end", which readers ignore */
	for (size_t done = 0; done < off;) {
		ssize_t w = pwrite(l->fd, l->buf + done, off - done, (off_t)done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		done += (size_t)w;
	}
	if (ftruncate(l->fd, (off_t)off) < 0)
		return -errno;
	return 0;
}

/* Record our holding and unlock. */
int lease_commit(struct sched_lease *l, int holding, char *err, size_t errlen)
{
	int rc = 0;

	if (!l->locked) {
		snprintf(err, errlen, "lease: commit without begin");
		return -EINVAL;
	}
	if (holding < 0)
		holding = 0;
	if (holding != l->held || l->dirty) {
		rc = lease_write(l, holding);
		if (rc < 0)
			snprintf(err, errlen, "cannot write %s: %s", l->path,
				 strerror(-rc));
		else
			l->held = holding;
	}
	l->dirty = 0;
	flock(l->fd, LOCK_UN);
	l->locked = 0;
	return rc;
}

/* Begin and commit. */
int lease_set(struct sched_lease *l, int holding, char *err, size_t errlen)
{
	int room, rc = lease_begin(l, &room, err, errlen);

	if (rc < 0)
		return rc;
	return lease_commit(l, holding, err, errlen);
}

/* Accessors. */
int lease_held(const struct sched_lease *l)
{
	return l->held;
}

/* The other live batches' PUs at the last begin. */
int lease_others(const struct sched_lease *l)
{
	return l->others;
}

/* How many other live batches at the last begin. */
int lease_nothers(const struct sched_lease *l)
{
	return l->nothers;
}

/* The limit. */
int lease_limit(const struct sched_lease *l)
{
	return l->limit;
}

/* The file's path. */
const char *lease_path(const struct sched_lease *l)
{
	return l->path;
}

/* The pending note, once. */
const char *lease_note(struct sched_lease *l)
{
	if (!l->has_note)
		return NULL;
	l->has_note = 0;
	return l->note;
}

/* Drop our entry and close. */
void lease_close(struct sched_lease *l)
{
	char err[256];

	if (!l)
		return;
	if (l->fd >= 0 && l->pid == getpid()) {
		if (l->locked)
			lease_commit(l, 0, err, sizeof err);
		else if (l->held > 0)
			lease_set(l, 0, err, sizeof err);
	}
	if (l->fd >= 0)
		close(l->fd);
	free(l->e);
	free(l->buf);
	free(l);
}
