/* sched/cgroup: batch and task cgroups on v1, v2 and hybrid trees, written
 * straight to cgroupfs (the one place that knows cgroup versions). Called
 * by the batch engine from its loop; sched_cgroup_child_join runs in the
 * child between fork and exec and only uses async-signal-safe calls.
 * libcgroup is not used: it enables controllers in every ancestor on v2,
 * cannot see a cgroup2 tracking tree on hybrid machines, and reads the
 * real /proc/mounts, so a fake tree could not test it (see cgroup.h). */
#include "sched/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

/* Every path built here is checked for truncation by snprintf's return
 * value; GCC cannot see that through the helpers. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

enum {
	CG_CPU = 1,
	CG_CPUACCT = 2,
	CG_CPUSET = 4,
	CG_MEMORY = 8,
	CG_FREEZER = 16,
	CG_UNIFIED = 32,	/* a cgroup2 hierarchy (cgroup.kill, cpu.stat) */
};

static const struct {
	const char *name;
	unsigned bit;
	const char *probe;	/* a file only that v1 controller's root has */
} cg_v1_ctrls[] = {
	{ "cpu", CG_CPU, "cpu.shares" },
	{ "cpuacct", CG_CPUACCT, "cpuacct.usage" },
	{ "cpuset", CG_CPUSET, "cpuset.cpus" },
	{ "memory", CG_MEMORY, "memory.limit_in_bytes" },
	{ "freezer", CG_FREEZER, "cgroup.procs" },
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

struct sched_cgroup {
	struct cg_tree t;
	char base[64];
	char user[64];
	char name[128];		/* <user>-<pid>-<n> */
	char rel[200];		/* <base>/<name> */
	enum policy_weight weight;
	int has_idle;
	int own_trace;		/* trace_fd opened here */
};

#define KILL_TIMEOUT_MS 5000
#define FREEZE_TIMEOUT_MS 2000
/* A reused task group holding less than this (kernel objects of the
 * processes before) is not worth a reclaim: the next peak is off by less. */
#define CG_DRAIN_MIN (1ll << 20)
#define RMDIR_TIMEOUT_MS 2000

/* Format an error into err (when given). */
__attribute__((format(printf, 3, 4))) static void
cg_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Sleep ms milliseconds. */
static void cg_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Monotonic milliseconds. */
static int64_t cg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Decimal digits of v into buf (no NUL); returns the length. Signal-safe. */
static size_t cg_utoa(char *buf, unsigned long long v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

/* Append one trace line "op rel [value]" to the trace fd, if any. */
static void cg_trace(const struct cg_tree *t, const char *op, const char *path,
		     const char *value)
{
	char line[PATH_MAX + 128];
	size_t rl = strlen(t->root);
	int n;

	if (t->trace_fd < 0)
		return;
	if (strncmp(path, t->root, rl) == 0 && (path[rl] == '/' || !path[rl]))
		path += rl + (path[rl] == '/');
	n = snprintf(line, sizeof(line), "%s %s%s%s\n", op, path,
		     value ? " " : "", value ? value : "");
	if (n > 0 && (size_t)n < sizeof(line) &&
	    write(t->trace_fd, line, (size_t)n) < 0)
		return;
}

/* Join dir, rel and file into buf; -ENAMETOOLONG when it does not fit. */
static int cg_path(char *buf, size_t len, const struct cg_hier *h,
		   const char *rel, const char *file)
{
	int n = snprintf(buf, len, "%s%s%s%s%s", h->path, rel && *rel ? "/" : "",
			 rel ? rel : "", file ? "/" : "", file ? file : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* 1 if path exists. */
static int cg_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Read a small file into buf (NUL-terminated, trailing newline kept).
 * Returns the length or -errno. */
static ssize_t cg_read_path(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t r;

	if (fd < 0)
		return -errno;
	while (got + 1 < len && (r = read(fd, buf + got, len - 1 - got)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			return r;
		}
		got += (size_t)r;
	}
	buf[got] = 0;
	close(fd);
	return (ssize_t)got;
}

/* Read rel/file of hierarchy h into buf. */
static ssize_t cg_read(const struct cg_hier *h, const char *rel,
		       const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];
	int r = cg_path(path, sizeof(path), h, rel, file);

	return r < 0 ? r : cg_read_path(path, buf, len);
}

/* A file of the fake tree that accumulates writes like a membership list. */
static int cg_fake_appends(const char *file)
{
	return !strcmp(file, "cgroup.procs") || !strcmp(file, "tasks");
}

/* Write value to rel/file of hierarchy h (one write, as cgroupfs wants).
 * Returns 0 or -errno with err naming the file and the value. */
static int cg_write(const struct cg_tree *t, const struct cg_hier *h,
		    const char *rel, const char *file, const char *value,
		    char *err, size_t errlen)
{
	char path[PATH_MAX];
	int flags = O_WRONLY | O_CLOEXEC, fd, r;
	size_t len = strlen(value);
	ssize_t w;

	r = cg_path(path, sizeof(path), h, rel, file);
	if (r < 0) {
		cg_err(err, errlen, "cgroup path too long: %s/%s/%s", h->path,
		       rel, file);
		return r;
	}
	if (h->fake)
		flags |= O_CREAT | (cg_fake_appends(file) ? O_APPEND : O_TRUNC);
	cg_trace(t, "write", path, value);
	fd = open(path, flags, 0644);
	if (fd < 0) {
		r = -errno;
		cg_err(err, errlen, "cannot open %s: %s", path, strerror(-r));
		return r;
	}
	do
		w = write(fd, value, len);
	while (w < 0 && errno == EINTR);
	r = w < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		cg_err(err, errlen, "cannot write \"%s\" to %s: %s", value,
		       path, strerror(-r));
	return r;
}

/* The file system of path is a cgroup one (v1 or v2). */
static int cg_is_cgroupfs(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf) < 0)
		return 0;
	return sf.f_type == (typeof(sf.f_type))CGROUP_SUPER_MAGIC ||
	       sf.f_type == (typeof(sf.f_type))CGROUP2_SUPER_MAGIC;
}

/* Add hierarchy dir (relative name rel) to the tree. */
static struct cg_hier *cg_add_hier(struct cg_tree *t, const char *dir,
				   const char *rel, int v2)
{
	struct cg_hier *h;

	if (t->nh >= SCHED_CGROUP_MAX_HIER)
		return NULL;
	h = &t->h[t->nh++];
	memset(h, 0, sizeof(*h));
	snprintf(h->path, sizeof(h->path), "%s", dir);
	snprintf(h->rel, sizeof(h->rel), "%s", rel);
	h->v2 = v2;
	h->fake = !cg_is_cgroupfs(dir);
	return h;
}

/* 1 if the word w is in the space-separated list s. */
static int cg_has_word(const char *s, const char *w)
{
	size_t wl = strlen(w);

	while (*s) {
		while (*s == ' ' || *s == '\n')
			s++;
		if (!strncmp(s, w, wl) &&
		    (s[wl] == 0 || s[wl] == ' ' || s[wl] == '\n'))
			return 1;
		while (*s && *s != ' ' && *s != '\n')
			s++;
	}
	return 0;
}

/* Detect the tree at root: v2, v1 or hybrid, and its hierarchies. */
static int cg_detect(struct cg_tree *t, const char *root, char *err,
		     size_t errlen)
{
	char p[PATH_MAX], real[PATH_MAX], other[PATH_MAX];
	struct cg_hier *h;
	size_t i;
	int j;

	memset(t, 0, sizeof(*t));
	t->trace_fd = -1;
	if (snprintf(t->root, sizeof(t->root), "%s", root) >=
	    (int)sizeof(t->root)) {
		cg_err(err, errlen, "cgroup root too long: %s", root);
		return -ENAMETOOLONG;
	}
	snprintf(p, sizeof(p), "%s/cgroup.controllers", root);
	if (cg_exists(p)) {
		t->mode = SCHED_CGROUP_V2;
		h = cg_add_hier(t, root, "", 1);
		h->ctrls = CG_UNIFIED | CG_FREEZER | CG_CPUACCT;
		return 0;
	}
	for (i = 0; i < sizeof(cg_v1_ctrls) / sizeof(cg_v1_ctrls[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s/%s", root, cg_v1_ctrls[i].name,
			 cg_v1_ctrls[i].probe);
		if (!cg_exists(p))
			continue;
		snprintf(p, sizeof(p), "%s/%s", root, cg_v1_ctrls[i].name);
		if (!realpath(p, real))
			continue;
		h = NULL;
		for (j = 0; j < t->nh; j++)
			if (realpath(t->h[j].path, other) && !strcmp(other, real))
				h = &t->h[j];
		if (!h && !(h = cg_add_hier(t, p, cg_v1_ctrls[i].name, 0)))
			break;
		h->ctrls |= cg_v1_ctrls[i].bit;
	}
	if (t->nh == 0) {
		cg_err(err, errlen,
		       "no cgroup file system at %s (neither cgroup v2 nor v1 "
		       "controllers found)", root);
		return -ENOENT;
	}
	t->mode = SCHED_CGROUP_V1;
	snprintf(p, sizeof(p), "%s/unified/cgroup.controllers", root);
	if (cg_exists(p)) {
		snprintf(p, sizeof(p), "%s/unified", root);
		h = cg_add_hier(t, p, "unified", 1);
		if (h) {
			h->ctrls = CG_UNIFIED;
			t->mode = SCHED_CGROUP_HYBRID;
		}
	}
	/* cgroup2's cpu.stat gives the CPU time: a cpuacct hierarchy of its
	 * own would only cost a group per task */
	for (j = 0; t->mode == SCHED_CGROUP_HYBRID && j < t->nh; j++)
		if (t->h[j].ctrls == CG_CPUACCT) {
			memmove(&t->h[j], &t->h[j + 1],
				(size_t)(t->nh - j - 1) * sizeof(t->h[0]));
			t->nh--;
			break;
		}
	return 0;
}

/* The hierarchy that has controller bit, or NULL. */
static const struct cg_hier *cg_find(const struct cg_tree *t, unsigned bit)
{
	int i;

	for (i = 0; i < t->nh; i++)
		if (t->h[i].ctrls & bit)
			return &t->h[i];
	return NULL;
}

/* The hierarchy whose cgroup.procs lists every process of a group for the
 * purpose of killing and counting: cgroup2 when present, else the v1
 * freezer (so the kill loop can freeze), else any. */
static const struct cg_hier *cg_tracker(const struct cg_tree *t)
{
	const struct cg_hier *h = cg_find(t, CG_UNIFIED);

	if (!h)
		h = cg_find(t, CG_FREEZER);
	return h ? h : &t->h[0];
}

/* Fake tree only: give a new group empty copies of the parent's files, and
 * cgroup.controllers = the parent's cgroup.subtree_control (kernel rule). */
static void cg_fake_populate(const char *parent, const char *child)
{
	char src[PATH_MAX], dst[PATH_MAX], buf[512];
	struct dirent *de;
	DIR *d = opendir(parent);
	size_t i, j = 0;
	ssize_t n;
	int fd;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type != DT_REG)
			continue;
		if (snprintf(dst, sizeof(dst), "%s/%s", child, de->d_name) >=
		    (int)sizeof(dst))
			continue;
		fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			continue;
		if (!strcmp(de->d_name, "cgroup.controllers")) {
			snprintf(src, sizeof(src), "%s/cgroup.subtree_control",
				 parent);
			n = cg_read_path(src, buf, sizeof(buf));
			for (i = 0, j = 0; n > 0 && i < (size_t)n; i++)
				if (buf[i] != '+')
					buf[j++] = buf[i];
			if (n > 0 && write(fd, buf, j) < 0)
				n = 0;
		}
		close(fd);
	}
	closedir(d);
}

/* mkdir rel in hierarchy h. Returns 0, or -errno (-EEXIST when it was
 * there already) with err set for other failures. */
static int cg_mkdir(const struct cg_tree *t, const struct cg_hier *h,
		    const char *rel, char *err, size_t errlen)
{
	char path[PATH_MAX], parent[PATH_MAX], *slash;
	int r = cg_path(path, sizeof(path), h, rel, NULL);

	if (r < 0) {
		cg_err(err, errlen, "cgroup path too long: %s/%s", h->path, rel);
		return r;
	}
	if (mkdir(path, 0755) < 0) {
		r = -errno;
		if (r != -EEXIST)
			cg_err(err, errlen, "cannot create cgroup %s: %s", path,
			       strerror(-r));
		return r;
	}
	cg_trace(t, "mkdir", path, NULL);
	if (h->fake) {
		snprintf(parent, sizeof(parent), "%s", path);
		slash = strrchr(parent, '/');
		if (slash) {
			*slash = 0;
			cg_fake_populate(parent, path);
		}
	}
	return 0;
}

/* rmdir one group (children must be gone). Retries while the kernel still
 * reports it busy, then checks it is really gone. */
static int cg_rmdir_one(const struct cg_tree *t, const struct cg_hier *h,
			const char *path, char *err, size_t errlen)
{
	int64_t deadline = cg_now_ms() + RMDIR_TIMEOUT_MS;
	struct dirent *de;
	struct stat st;
	char f[PATH_MAX];
	DIR *d;
	int r;

	if (h->fake && (d = opendir(path))) {
		while ((de = readdir(d)))
			if (de->d_type == DT_REG &&
			    snprintf(f, sizeof(f), "%s/%s", path, de->d_name) <
				    (int)sizeof(f))
				unlink(f);
		closedir(d);
	}
	cg_trace(t, "rmdir", path, NULL);
	while (rmdir(path) < 0) {
		r = -errno;
		if (r == -ENOENT)
			break;
		if (r != -EBUSY || cg_now_ms() > deadline) {
			cg_err(err, errlen, "cannot remove cgroup %s: %s", path,
			       strerror(-r));
			return r;
		}
		cg_sleep_ms(5);
	}
	if (stat(path, &st) == 0) {
		cg_err(err, errlen, "cgroup %s still exists after rmdir", path);
		return -EBUSY;
	}
	return 0;
}

/* Remove the group at path and every group below it, children first. */
static int cg_rmtree_path(const struct cg_tree *t, const struct cg_hier *h,
			  const char *path, char *err, size_t errlen)
{
	struct dirent *de;
	char sub[PATH_MAX];
	int r, ret = 0;
	DIR *d = opendir(path);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") ||
		    !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >=
		    (int)sizeof(sub))
			continue;
		r = cg_rmtree_path(t, h, sub, err, errlen);
		if (r < 0 && !ret)
			ret = r;
	}
	closedir(d);
	r = cg_rmdir_one(t, h, path, ret ? NULL : err, errlen);
	return ret ? ret : r;
}

/* Remove group rel and its children in hierarchy h. */
static int cg_rmtree(const struct cg_tree *t, const struct cg_hier *h,
		     const char *rel, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int r = cg_path(path, sizeof(path), h, rel, NULL);

	return r < 0 ? r : cg_rmtree_path(t, h, path, err, errlen);
}

/* The next PID of a cgroup.procs text from *p on (*p is moved past it),
 * or 0 at the end. */
static long cg_next_pid(char **p)
{
	char *end;
	long pid;

	while (**p) {
		pid = strtol(*p, &end, 10);
		*p = end == *p ? *p + 1 : end;
		if (pid > 0)
			return pid;
	}
	return 0;
}

/* Count the pids in path/cgroup.procs and below; when sig, send it to each
 * (never to ourselves). Returns the count or -errno. */
static int cg_procs_walk(const char *path, int sig)
{
	char f[PATH_MAX], buf[65536], *p;
	struct dirent *de;
	int n = 0, r;
	ssize_t len;
	long pid;
	DIR *d;

	if (snprintf(f, sizeof(f), "%s/cgroup.procs", path) >= (int)sizeof(f))
		return -ENAMETOOLONG;
	len = cg_read_path(f, buf, sizeof(buf));
	if (len < 0)
		return len == -ENOENT ? 0 : (int)len;
	for (p = buf; (pid = cg_next_pid(&p)) > 0;) {
		n++;
		if (sig && pid != getpid())
			kill((pid_t)pid, sig);
	}
	if (!(d = opendir(path)))
		return n;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") ||
		    !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(f, sizeof(f), "%s/%s", path, de->d_name) >=
		    (int)sizeof(f))
			continue;
		r = cg_procs_walk(f, sig);
		if (r > 0)
			n += r;
	}
	closedir(d);
	return n;
}

/* Freeze or thaw group rel: v1 freezer when the tree has one, else
 * cgroup.freeze. The write is the pause: from it on, no process of the
 * group (nor a child it forks) runs another user-space instruction; each
 * is trapped the next time it gets a CPU. The kernel confirms (cgroup.events
 * "frozen 1", freezer.state FROZEN) only once every process got there, and
 * a process of an idle-weight group on a CPU that others keep busy may not
 * get there for seconds. So wait_ms 0 returns at once; wait_ms > 0 waits
 * (not on fakes) that long for the confirmation, and -ETIMEDOUT without. */
static int cg_freeze(const struct cg_tree *t, const char *rel, int frozen,
		     int wait_ms, char *err, size_t errlen)
{
	const struct cg_hier *h = cg_find(t, CG_FREEZER);
	const char *want;
	char buf[256];
	int64_t deadline;
	int r;

	if (!h) {
		cg_err(err, errlen, "no freezer in the cgroup tree at %s",
		       t->root);
		return -ENOTSUP;
	}
	if (h->v2)
		r = cg_write(t, h, rel, "cgroup.freeze", frozen ? "1" : "0",
			     err, errlen);
	else
		r = cg_write(t, h, rel, "freezer.state",
			     frozen ? "FROZEN" : "THAWED", err, errlen);
	if (r < 0 || h->fake || wait_ms <= 0)
		return r;
	want = h->v2 ? (frozen ? "frozen 1" : "frozen 0")
		     : (frozen ? "FROZEN" : "THAWED");
	deadline = cg_now_ms() + wait_ms;
	for (;;) {
		if (cg_read(h, rel, h->v2 ? "cgroup.events" : "freezer.state",
			    buf, sizeof(buf)) > 0 && strstr(buf, want))
			return 0;
		if (cg_now_ms() > deadline)
			break;
		cg_sleep_ms(2);
	}
	cg_err(err, errlen, "cgroup %s/%s did not become %s within %d ms",
	       h->path, rel, frozen ? "frozen" : "thawed", wait_ms);
	return -ETIMEDOUT;
}

/* v1 freezer: thaw path and every group below it that is frozen or
 * freezing (a group frozen by itself stays frozen when only its parent is
 * thawed). Used after a kill, so the killed tasks can die. */
static void cg_thaw_tree(const struct cg_tree *t, const struct cg_hier *h,
			 const char *rel)
{
	char path[PATH_MAX], sub[PATH_MAX], buf[64];
	struct dirent *de;
	DIR *d;

	if (cg_read(h, rel, "freezer.state", buf, sizeof(buf)) > 0 &&
	    strncmp(buf, "THAWED", 6))
		cg_write(t, h, rel, "freezer.state", "THAWED", NULL, 0);
	if (cg_path(path, sizeof(path), h, rel, NULL) < 0 ||
	    !(d = opendir(path)))
		return;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name) <
		    (int)sizeof(sub))
			cg_thaw_tree(t, h, sub);
	}
	closedir(d);
}

/* Kill every process in group rel and below, until none is left:
 * cgroup.kill where the tracking tree has it (written again if the group
 * has not emptied within a second), else rounds of freeze, SIGKILL to
 * every listed pid, thaw (frozen, nothing can fork or exit between the
 * listing and the kill). Bounded by KILL_TIMEOUT_MS. */
static int cg_kill(const struct cg_tree *t, const char *rel, char *err,
		   size_t errlen)
{
	const struct cg_hier *h = cg_tracker(t), *fz = cg_find(t, CG_FREEZER);
	int64_t deadline = cg_now_ms() + KILL_TIMEOUT_MS, until;
	int have_kill, have_freezer = fz != NULL;
	char path[PATH_MAX];
	int n, r;

	/* cgroup2 says in one file whether anything runs in it or below */
	if (h->v2 && !h->fake && cg_read(h, rel, "cgroup.events", path,
					 sizeof(path)) > 0 &&
	    strstr(path, "populated 0"))
		return 0;
	if (cg_path(path, sizeof(path), h, rel, "cgroup.kill") < 0)
		return -ENAMETOOLONG;
	have_kill = h->v2 && cg_exists(path);
	cg_path(path, sizeof(path), h, rel, NULL);
	for (;;) {
		n = cg_procs_walk(path, 0);
		if (n <= 0)
			return n < 0 ? n : 0;
		if (cg_now_ms() > deadline)
			break;
		if (have_kill) {
			r = cg_write(t, h, rel, "cgroup.kill", "1", err, errlen);
			if (r < 0)
				return r;
			/* a task frozen by the v1 freezer does not die of
			 * SIGKILL until it is thawed */
			if (fz && !fz->v2)
				cg_thaw_tree(t, fz, rel);
			until = cg_now_ms() + 1000;
			while (cg_procs_walk(path, 0) > 0 &&
			       cg_now_ms() < until)
				cg_sleep_ms(2);
			continue;
		}
		if (have_freezer)
			cg_freeze(t, rel, 1, FREEZE_TIMEOUT_MS, NULL, 0);
		cg_procs_walk(path, SIGKILL);
		if (have_freezer && !fz->v2)
			cg_thaw_tree(t, fz, rel);
		else if (have_freezer)
			cg_freeze(t, rel, 0, 0, NULL, 0);
		cg_sleep_ms(2);
	}
	cg_err(err, errlen,
	       "cgroup %s still holds %d process(es) after %d ms of killing",
	       path, n, KILL_TIMEOUT_MS);
	return -EBUSY;
}

/* Weight class rank: higher is more demanding. */
static int cg_rank(enum policy_weight w)
{
	return w == POLICY_WEIGHT_NORMAL ? 2 : w == POLICY_WEIGHT_LOW ? 1 : 0;
}

/* The class a group has now, read from its cpu files. */
static enum policy_weight cg_class_of(const struct cg_hier *h, const char *rel)
{
	char buf[64];
	long v;

	if (cg_read(h, rel, "cpu.idle", buf, sizeof(buf)) > 0 && atol(buf) == 1)
		return POLICY_WEIGHT_IDLE;
	if (cg_read(h, rel, h->v2 ? "cpu.weight" : "cpu.shares", buf,
		    sizeof(buf)) <= 0)
		return POLICY_WEIGHT_NORMAL;
	v = atol(buf);
	if (v > 0 && v <= (h->v2 ? 1 : 3))	/* idle groups read 3 */
		return POLICY_WEIGHT_IDLE;
	if (v > 0 && v <= (h->v2 ? 6 : 64))
		return POLICY_WEIGHT_LOW;
	return POLICY_WEIGHT_NORMAL;
}

/* Write weight class w to group rel. fresh: the group was just made and
 * has the kernel defaults, so NORMAL writes nothing. Idle is cleared
 * before shares/weight are written and set after them (the kernel refuses
 * shares on an idle group). */
static int cg_set_class(const struct cg_tree *t, const struct cg_hier *h,
			const char *rel, enum policy_weight w, int has_idle,
			int fresh, char *err, size_t errlen)
{
	const char *file = h->v2 ? "cpu.weight" : "cpu.shares";
	const char *val;
	int r;

	if (w == POLICY_WEIGHT_NORMAL && fresh)
		return 0;
	if (!fresh && has_idle && w != POLICY_WEIGHT_IDLE) {
		r = cg_write(t, h, rel, "cpu.idle", "0", err, errlen);
		if (r < 0)
			return r;
	}
	if (w == POLICY_WEIGHT_IDLE)
		val = h->v2 ? "1" : "2";
	else if (w == POLICY_WEIGHT_LOW)
		val = h->v2 ? "6" : "64";
	else
		val = h->v2 ? "100" : "1024";
	r = cg_write(t, h, rel, file, val, err, errlen);
	if (r < 0 || w != POLICY_WEIGHT_IDLE || !has_idle)
		return r;
	return cg_write(t, h, rel, "cpu.idle", "1", err, errlen);
}

/* Set the base's class to the most demanding of its live batches (plus
 * extra, when >= 0), under an flock on the base directory. */
static void cg_base_class(const struct sched_cgroup *b, int extra)
{
	const struct cg_hier *h = cg_find(&b->t, CG_CPU);
	char path[PATH_MAX], sub[PATH_MAX];
	struct dirent *de;
	int best = extra, fd;
	enum policy_weight w, cur;
	DIR *d;

	if (!h || cg_path(path, sizeof(path), h, b->base, NULL) < 0)
		return;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	flock(fd, LOCK_EX);
	if ((d = opendir(path))) {
		while ((de = readdir(d))) {
			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", b->base, de->d_name);
			w = cg_class_of(h, sub);
			if (cg_rank(w) > best)
				best = cg_rank(w);
		}
		closedir(d);
	}
	if (best >= 0) {
		w = best == 2 ? POLICY_WEIGHT_NORMAL
		  : best == 1 ? POLICY_WEIGHT_LOW : POLICY_WEIGHT_IDLE;
		cur = cg_class_of(h, b->base);
		if (cur != w)
			cg_set_class(&b->t, h, b->base, w, b->has_idle, 0, NULL,
				     0);
	}
	flock(fd, LOCK_UN);
	close(fd);
}

/* v1 cpuset: a group needs cpus and mems before it may hold tasks; copy
 * whichever is empty from the parent. */
static int cg_cpuset_inherit(const struct cg_tree *t, const struct cg_hier *h,
			     const char *rel, const char *parent_rel,
			     int skip_cpus, char *err, size_t errlen)
{
	static const char *files[] = { "cpuset.cpus", "cpuset.mems" };
	char buf[1024];
	ssize_t n;
	size_t i;
	int r;

	for (i = skip_cpus ? 1 : 0; i < 2; i++) {
		n = cg_read(h, rel, files[i], buf, sizeof(buf));
		if (n > 0 && buf[0] != '\n')
			continue;
		n = cg_read(h, parent_rel, files[i], buf, sizeof(buf));
		if (n < 0) {
			cg_err(err, errlen, "cannot read %s/%s/%s: %s", h->path,
			       parent_rel, files[i], strerror((int)-n));
			return (int)n;
		}
		while (n > 0 && buf[n - 1] == '\n')
			buf[--n] = 0;
		if (!n)
			continue;
		r = cg_write(t, h, rel, files[i], buf, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Format a CPU set as a kernel list ("0-3,8"). */
static int cg_cpulist(const cpu_set_t *set, char *buf, size_t len)
{
	size_t used = 0;
	int i = 0, start, n;

	buf[0] = 0;
	while (i < CPU_SETSIZE) {
		if (!CPU_ISSET(i, set)) {
			i++;
			continue;
		}
		start = i;
		while (i + 1 < CPU_SETSIZE && CPU_ISSET(i + 1, set))
			i++;
		n = start == i ? snprintf(buf + used, len - used, "%s%d",
					  used ? "," : "", start)
			       : snprintf(buf + used, len - used, "%s%d-%d",
					  used ? "," : "", start, i);
		if (n < 0 || (size_t)n >= len - used)
			return -ENAMETOOLONG;
		used += (size_t)n;
		i++;
	}
	return used ? 0 : -EINVAL;
}

/* The message for a tree where we may not make groups. */
static void cg_perm_msg(char *err, size_t errlen, const char *path, int r)
{
	cg_err(err, errlen,
	       "cannot create cgroup %s: %s. Tasks run without cgroups (nice "
	       "and CPU pinning only). To run them in cgroups, start "
	       "nicely-agent as root, or run inside a delegated cgroup "
	       "subtree (e.g. systemd-run --user --scope nicely ...)",
	       path, strerror(-r));
}

/* v2: enable the controllers the parent offers in rel's subtree_control
 * (only ever on groups nicely made); returns the bits enabled. */
static unsigned cg_v2_enable(const struct cg_tree *t, const struct cg_hier *h,
			     const char *rel)
{
	static const struct { const char *n; unsigned bit; } c[] = {
		{ "cpu", CG_CPU }, { "cpuset", CG_CPUSET },
		{ "memory", CG_MEMORY },
	};
	char buf[512], all[64] = "", val[32];
	unsigned got = 0, want = 0;
	size_t i;

	if (cg_read(h, rel, "cgroup.controllers", buf, sizeof(buf)) < 0)
		return 0;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (!cg_has_word(buf, c[i].n))
			continue;
		want |= c[i].bit;
		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s+%s",
			 *all ? " " : "", c[i].n);
	}
	if (!want)
		return 0;
	if (cg_write(t, h, rel, "cgroup.subtree_control", all, NULL, 0) == 0)
		return want;
	/* one of them was refused: enable what can be, one at a time */
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (!(want & c[i].bit))
			continue;
		snprintf(val, sizeof(val), "+%s", c[i].n);
		if (cg_write(t, h, rel, "cgroup.subtree_control", val, NULL,
			     0) == 0)
			got |= c[i].bit;
	}
	return got;
}

/* Remove the base in every hierarchy when no batch is left in it (it is
 * shared by all batches; a busy base just stays). */
static void cg_base_try_remove(const struct cg_tree *t, const char *base)
{
	char path[PATH_MAX];
	struct dirent *de;
	int i, busy;
	DIR *d;

	for (i = 0; i < t->nh; i++) {
		cg_path(path, sizeof(path), &t->h[i], base, NULL);
		if (t->h[i].fake) {
			busy = 0;
			d = opendir(path);
			if (!d)
				continue;
			while ((de = readdir(d)))
				busy |= de->d_type == DT_DIR &&
					de->d_name[0] != '.';
			closedir(d);
			if (busy)
				continue;
			cg_rmdir_one(t, &t->h[i], path, NULL, 0);
		} else if (rmdir(path) == 0) {
			cg_trace(t, "rmdir", path, NULL);
		}
	}
}

/* Make the base (when missing) and the batch group in hierarchy h, with
 * the controllers enabled (v2), cpus/mems (v1 cpuset) and the class. */
static int cg_batch_make_one(struct sched_cgroup *b, struct cg_hier *h,
			     char *err, size_t errlen)
{
	const unsigned ctl = CG_CPU | CG_CPUSET | CG_MEMORY;
	char path[PATH_MAX];
	int r, attempt;

	for (attempt = 0;; attempt++) {
		r = cg_mkdir(&b->t, h, b->base, err, errlen);
		if (r < 0 && r != -EEXIST)
			goto fail;
		if (h->v2 && h->ctrls != CG_UNIFIED)
			h->ctrls = (h->ctrls & ~ctl) |
				   cg_v2_enable(&b->t, h, b->base);
		if ((h->ctrls & CG_CPUSET) && !h->v2) {
			r = cg_cpuset_inherit(&b->t, h, b->base, "", 0, err,
					      errlen);
			if (r < 0)
				goto fail;
		}
		r = cg_mkdir(&b->t, h, b->rel, err, errlen);
		/* the base may vanish between the two mkdirs when its last
		 * batch ends: make it again */
		if (r == -ENOENT && attempt < 3)
			continue;
		if (r < 0)
			goto fail;
		break;
	}
	if (h->v2 && (h->ctrls & ctl))
		h->ctrls = (h->ctrls & ~ctl) | cg_v2_enable(&b->t, h, b->rel);
	if ((h->ctrls & CG_CPUSET) && !h->v2) {
		r = cg_cpuset_inherit(&b->t, h, b->rel, b->base, 0, err, errlen);
		if (r < 0)
			goto fail_made;
	}
	if (h->ctrls & CG_CPU) {
		cg_path(path, sizeof(path), h, b->base, "cpu.idle");
		b->has_idle = cg_exists(path);
		r = cg_set_class(&b->t, h, b->rel, b->weight, b->has_idle, 1,
				 err, errlen);
		if (r < 0)
			goto fail_made;
	}
	return 0;
fail_made:
	cg_rmtree(&b->t, h, b->rel, NULL, 0);
fail:
	if (r == -EACCES || r == -EPERM || r == -EROFS) {
		cg_path(path, sizeof(path), h, b->rel, NULL);
		cg_perm_msg(err, errlen, path, r);
	}
	return r;
}

/* Hybrid trees: when the kernel's cgroup2 has its own freezer
 * (cgroup.freeze, which only non-root groups show: looked for in the base,
 * made here in the cgroup2 tree when missing), pause through it and leave
 * the v1 freezer hierarchy out: a worker then joins one group fewer, and
 * cgroup.kill needs no thaw. Else the v1 freezer stays. */
static void cg_hybrid_freezer(struct sched_cgroup *b)
{
	struct cg_hier *u = NULL;
	char path[PATH_MAX];
	int i, r;

	for (i = 0; i < b->t.nh; i++)
		if (b->t.h[i].ctrls & CG_UNIFIED)
			u = &b->t.h[i];
	if (!u || b->t.mode != SCHED_CGROUP_HYBRID)
		return;
	r = cg_mkdir(&b->t, u, b->base, NULL, 0);
	if ((r < 0 && r != -EEXIST) ||
	    cg_path(path, sizeof(path), u, b->base, "cgroup.freeze") < 0 ||
	    !cg_exists(path))
		return;
	u->ctrls |= CG_FREEZER;
	for (i = 0; i < b->t.nh; i++) {
		struct cg_hier *h = &b->t.h[i];

		if (h == u || !(h->ctrls & CG_FREEZER))
			continue;
		h->ctrls &= ~(unsigned)CG_FREEZER;
		if (h->ctrls)	/* co-mounted with another controller */
			continue;
		memmove(h, h + 1, (size_t)(b->t.nh - i - 1) * sizeof(*h));
		b->t.nh--;
		break;
	}
}

/* Make the batch in every hierarchy; on failure undo all of it. */
static int cg_batch_make(struct sched_cgroup *b, char *err, size_t errlen)
{
	int i, r = 0;

	cg_hybrid_freezer(b);
	for (i = 0; i < b->t.nh; i++) {
		r = cg_batch_make_one(b, &b->t.h[i], err, errlen);
		if (r < 0)
			break;
	}
	if (r == 0) {
		cg_base_class(b, cg_rank(b->weight));
		return 0;
	}
	while (--i >= 0)
		cg_rmtree(&b->t, &b->t.h[i], b->rel, NULL, 0);
	cg_base_try_remove(&b->t, b->base);
	return r;
}

/* The effective user's name, or its uid in decimal (getpwuid_r: pools of
 * libnicely may be made in several threads at once). */
static void cg_username(char *buf, size_t len)
{
	struct passwd pwd, *pw = NULL;
	char tmp[4096];

	if (getpwuid_r(geteuid(), &pwd, tmp, sizeof(tmp), &pw) != 0)
		pw = NULL;

	if (pw && pw->pw_name[0] && !strchr(pw->pw_name, '/'))
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)geteuid());
}

/* Resolve the options shared by open and clean_stale. */
static int cg_setup(struct cg_tree *t, char *base, char *user,
		    const struct sched_cgroup_options *o, char *err,
		    size_t errlen)
{
	const char *root = o && o->root ? o->root : getenv("NICELY_CGROUP_ROOT");
	const char *trace = o && o->trace_path ? o->trace_path
					       : getenv("NICELY_CGROUP_TRACE");
	int r;

	if (!root || !*root)
		root = "/sys/fs/cgroup";
	snprintf(base, 64, "%s", o && o->base ? o->base : "nicely");
	if (o && o->user)
		snprintf(user, 64, "%s", o->user);
	else
		cg_username(user, 64);
	if (!*base || strchr(base, '/') || base[0] == '.' || !*user ||
	    strchr(user, '/') || user[0] == '.') {
		cg_err(err, errlen, "bad cgroup base \"%s\" or user \"%s\"",
		       base, user);
		return -EINVAL;
	}
	r = cg_detect(t, root, err, errlen);
	if (r < 0)
		return r;
	if (trace && *trace) {
		t->trace_fd = open(trace, O_WRONLY | O_CREAT | O_APPEND |
					   O_CLOEXEC, 0644);
		if (t->trace_fd < 0) {
			r = -errno;
			cg_err(err, errlen, "cannot open cgroup trace %s: %s",
			       trace, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* Parse "<user>-<pid>-<n>"; returns the pid, or 0 when name is not one
 * of user's batches. */
static pid_t cg_batch_owner(const char *name, const char *user)
{
	size_t ul = strlen(user);
	const char *p;
	char *end;
	long pid;

	if (strncmp(name, user, ul) || name[ul] != '-')
		return 0;
	p = name + ul + 1;
	if (*p < '0' || *p > '9')
		return 0;
	pid = strtol(p, &end, 10);
	if (*end != '-' || end[1] < '0' || end[1] > '9' || pid <= 0 ||
	    pid > INT_MAX)
		return 0;
	strtol(end + 1, &end, 10);
	return *end ? 0 : (pid_t)pid;
}

/* Remove user's batches with a dead owner in tree t. */
static int cg_clean(const struct cg_tree *t, const char *base,
		    const char *user, char *err, size_t errlen)
{
	char path[PATH_MAX], rel[PATH_MAX];
	struct dirent *de;
	int i, j, removed = 0, r, ret = 0, seen;
	pid_t pid;
	DIR *d;

	for (i = 0; i < t->nh; i++) {
		cg_path(path, sizeof(path), &t->h[i], base, NULL);
		if (!(d = opendir(path)))
			continue;
		while ((de = readdir(d))) {
			if (de->d_type != DT_DIR ||
			    !(pid = cg_batch_owner(de->d_name, user)))
				continue;
			if (kill(pid, 0) == 0 || errno != ESRCH)
				continue;
			snprintf(rel, sizeof(rel), "%s/%s", base, de->d_name);
			r = cg_kill(t, rel, err, errlen);
			for (j = 0; j < t->nh; j++) {
				int r2 = cg_rmtree(t, &t->h[j], rel,
						   r < 0 ? NULL : err, errlen);
				if (r2 < 0 && r >= 0)
					r = r2;
			}
			/* count each batch once: in the first hierarchy
			 * that still had it */
			seen = 0;
			for (j = 0; j < i; j++) {
				cg_path(path, sizeof(path), &t->h[j], rel, NULL);
				seen |= cg_exists(path);
			}
			if (r < 0 && !ret)
				ret = r;
			else if (!seen)
				removed++;
			cg_path(path, sizeof(path), &t->h[i], base, NULL);
		}
		closedir(d);
	}
	if (removed)
		cg_base_try_remove(t, base);
	return ret < 0 ? ret : removed;
}

/* Remove dead batches of the user (see cgroup.h). */
int sched_cgroup_clean_stale(const struct sched_cgroup_options *opts,
			     char *err, size_t errlen)
{
	char base[64], user[64];
	struct cg_tree t;
	int r = cg_setup(&t, base, user, opts, err, errlen);

	if (r < 0)
		return r;
	r = cg_clean(&t, base, user, err, errlen);
	if (t.trace_fd >= 0)
		close(t.trace_fd);
	return r;
}

/* Detect the tree, clean stale batches, make this batch's groups. */
int sched_cgroup_batch_open(struct sched_cgroup **out,
			    const struct sched_cgroup_options *opts,
			    char *err, size_t errlen)
{
	static unsigned counter;
	struct sched_cgroup *b;
	unsigned n;
	int r = -EEXIST, attempt;

	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (!b) {
		cg_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = cg_setup(&b->t, b->base, b->user, opts, err, errlen);
	if (r < 0) {
		free(b);
		return r;
	}
	b->weight = opts ? opts->weight : POLICY_WEIGHT_NORMAL;
	if (!opts || opts->clean_stale)
		cg_clean(&b->t, b->base, b->user, NULL, 0);
	for (attempt = 0; attempt < 100; attempt++) {
		n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
		snprintf(b->name, sizeof(b->name), "%s-%ld-%u", b->user,
			 (long)getpid(), n);
		snprintf(b->rel, sizeof(b->rel), "%s/%s", b->base, b->name);
		r = cg_batch_make(b, err, errlen);
		if (r != -EEXIST)
			break;
	}
	if (r < 0) {
		if (r == -EEXIST)
			cg_err(err, errlen, "cannot find a free batch name "
			       "under %s/%s", b->t.root, b->base);
		if (b->t.trace_fd >= 0)
			close(b->t.trace_fd);
		free(b);
		return r;
	}
	*out = b;
	return 0;
}

/* Kill what is left, remove the batch's groups and the empty base, free. */
int sched_cgroup_batch_close(struct sched_cgroup *b, char *err, size_t errlen)
{
	int i, r, ret;

	if (!b)
		return 0;
	ret = cg_kill(&b->t, b->rel, err, errlen);
	for (i = 0; i < b->t.nh; i++) {
		r = cg_rmtree(&b->t, &b->t.h[i], b->rel, ret < 0 ? NULL : err,
			      errlen);
		if (r < 0 && ret >= 0)
			ret = r;
	}
	cg_base_class(b, -1);
	cg_base_try_remove(&b->t, b->base);
	if (b->t.trace_fd >= 0)
		close(b->t.trace_fd);
	free(b);
	return ret;
}

/* The kind of tree the batch lives in. */
enum sched_cgroup_mode sched_cgroup_mode(const struct sched_cgroup *b)
{
	return b->t.mode;
}

/* "v1", "v2", "hybrid" or "none". */
const char *sched_cgroup_mode_name(enum sched_cgroup_mode m)
{
	switch (m) {
	case SCHED_CGROUP_V1:
		return "v1";
	case SCHED_CGROUP_V2:
		return "v2";
	case SCHED_CGROUP_HYBRID:
		return "hybrid";
	case SCHED_CGROUP_NONE:
		break;
	}
	return "none";
}

/* The batch group's name, <user>-<pid>-<n>. */
const char *sched_cgroup_batch_name(const struct sched_cgroup *b)
{
	return b->name;
}

/* The controller bit for a name, 0 when unknown. */
static unsigned cg_ctrl_bit(const char *ctrl)
{
	size_t i;

	if (!strcmp(ctrl, "unified"))
		return CG_UNIFIED;
	for (i = 0; i < sizeof(cg_v1_ctrls) / sizeof(cg_v1_ctrls[0]); i++)
		if (!strcmp(ctrl, cg_v1_ctrls[i].name))
			return cg_v1_ctrls[i].bit;
	return 0;
}

/* The batch's directory in the hierarchy that has ctrl. */
const char *sched_cgroup_batch_path(const struct sched_cgroup *b,
				    const char *ctrl, char *buf, size_t len)
{
	unsigned bit = cg_ctrl_bit(ctrl);
	const struct cg_hier *h = bit ? cg_find(&b->t, bit) : NULL;

	if (!h || cg_path(buf, len, h, b->rel, NULL) < 0)
		return NULL;
	return buf;
}

/* The batch's directory that accounts its CPU time; see cgroup.h. */
const char *sched_cgroup_batch_cpu_path(const struct sched_cgroup *b,
					char *buf, size_t len)
{
	const struct cg_hier *h = cg_find(&b->t, CG_CPUACCT);

	if (!h)
		h = cg_tracker(&b->t);
	if (cg_path(buf, len, h, b->rel, NULL) < 0)
		return NULL;
	return buf;
}

/* Whether the kernel offers cpu.idle here. */
int sched_cgroup_has_idle(const struct sched_cgroup *b)
{
	return b->has_idle;
}

/* Close the task's procs fds. */
static void cg_task_close_fds(struct sched_cgroup_task *t)
{
	int i;

	for (i = 0; i < t->nfd; i++)
		if (t->procs_fd[i] >= 0)
			close(t->procs_fd[i]);
	t->nfd = 0;
	for (i = 0; t->live && i < SCHED_CGROUP_TASK_NSTAT; i++)
		/* -1 or opened once live */
		if (t->stat_fd[i] >= 0) {
			close(t->stat_fd[i]);
			t->stat_fd[i] = -1;
		}
}

/* Read file of the task's group in h: through a kept file (index k of
 * stat_fd, opened on first use) while the cgroup.procs files are kept,
 * else opened for this read. Returns the length read or -errno. */
static ssize_t cg_task_read(const struct sched_cgroup_task *ct,
			    const struct cg_hier *h, const char *file, int k,
			    char *buf, size_t len)
{
	struct sched_cgroup_task *t = (struct sched_cgroup_task *)ct;
	char path[PATH_MAX];
	size_t got = 0;
	ssize_t r;

	if (!t->nfd || !t->live)
		return cg_read(h, t->rel, file, buf, len);
	if (t->stat_fd[k] < 0) {
		if ((r = cg_path(path, sizeof(path), h, t->rel, file)) < 0)
			return r;
		if ((t->stat_fd[k] = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return -errno;
	}
	while (got + 1 < len &&
	       (r = pread(t->stat_fd[k], buf + got, len - 1 - got,
			  (off_t)got)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		got += (size_t)r;
		if ((size_t)r < len - 1 - (got - (size_t)r))
			break;	/* short: all there is (one kernfs read) */
	}
	buf[got] = 0;
	return (ssize_t)got;
}

/* 1 when the kernel says nothing runs in the task's groups (cgroup2's
 * cgroup.events, one read), 0 when it cannot tell so. */
static int cg_task_empty(const struct sched_cgroup_task *t)
{
	const struct cg_hier *h = cg_tracker(&t->batch->t);
	char buf[256];

	return h->v2 && !h->fake &&
	       cg_task_read(t, h, "cgroup.events", 3, buf, sizeof(buf)) > 0 &&
	       strstr(buf, "populated 0");
}

/* Write the memory limit to a task group. */
static int cg_set_memory(const struct cg_tree *t, const struct cg_hier *h,
			 const char *rel, uint64_t max, char *err,
			 size_t errlen)
{
	char val[32], path[PATH_MAX];
	int r;

	snprintf(val, sizeof(val), "%llu", (unsigned long long)max);
	r = cg_write(t, h, rel, h->v2 ? "memory.max" : "memory.limit_in_bytes",
		     val, err, errlen);
	if (r < 0)
		return r;
	cg_path(path, sizeof(path), h, rel,
		h->v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes");
	if (!cg_exists(path))
		return 0;
	return cg_write(t, h, rel,
			h->v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes",
			h->v2 ? "0" : val, err, errlen);
}

/* Open the task's cgroup.procs files (O_CLOEXEC) for joining. */
static int cg_task_open_fds(struct sched_cgroup_task *t, char *err,
			    size_t errlen)
{
	const struct cg_tree *tr = &t->batch->t;
	char path[PATH_MAX];
	int i, r, flags;

	for (i = 0; i < tr->nh; i++) {
		cg_path(path, sizeof(path), &tr->h[i], t->rel, "cgroup.procs");
		flags = O_WRONLY | O_CLOEXEC;
		if (tr->h[i].fake)
			flags |= O_APPEND | O_CREAT;
		t->procs_fd[i] = open(path, flags, 0644);
		if (t->procs_fd[i] < 0) {
			r = -errno;
			cg_err(err, errlen, "cannot open %s: %s", path,
			       strerror(-r));
			cg_task_close_fds(t);
			return r;
		}
		t->nfd = i + 1;
	}
	return 0;
}

/* Make task-<seq> in every hierarchy with its limits and open its procs files. */
int sched_cgroup_task_create(struct sched_cgroup *b, uint64_t seq,
			     const struct sched_cgroup_limits *lim,
			     struct sched_cgroup_task *t, char *err,
			     size_t errlen)
{
	char cpus[1024];
	const struct cg_hier *h;
	int i, r = 0, made = 0;

	memset(t, 0, sizeof(*t));
	t->batch = b;
	t->seq = seq;
	t->peak_fd = -1;
	for (i = 0; i < SCHED_CGROUP_TASK_NSTAT; i++)
		t->stat_fd[i] = -1;
	if (lim && lim->cpus) {
		t->has_cpus = 1;
		t->cpus = *lim->cpus;
	}
	t->memory_max = lim ? lim->memory_max : 0;
	t->trace_fd = b->t.trace_fd;
	snprintf(t->rel, sizeof(t->rel), "%s/task-%llu", b->rel,
		 (unsigned long long)seq);
	if (lim && lim->memory_max && !cg_find(&b->t, CG_MEMORY)) {
		cg_err(err, errlen,
		       "a memory limit was asked but the cgroup tree at %s has "
		       "no memory controller", b->t.root);
		return -ENOTSUP;
	}
	if (lim && lim->cpus && cg_cpulist(lim->cpus, cpus, sizeof(cpus)) < 0) {
		cg_err(err, errlen, "empty or too large CPU set for task %llu",
		       (unsigned long long)seq);
		return -EINVAL;
	}
	for (i = 0; i < b->t.nh; i++) {
		h = &b->t.h[i];
		r = cg_mkdir(&b->t, h, t->rel, err, errlen);
		if (r < 0) {
			if (r == -EEXIST)
				cg_err(err, errlen, "cgroup %s/%s exists already",
				       h->path, t->rel);
			goto fail;
		}
		made = i + 1;
		if (h->ctrls & CG_CPUSET) {
			if (lim && lim->cpus) {
				r = cg_write(&b->t, h, t->rel, "cpuset.cpus",
					     cpus, err, errlen);
				if (r < 0)
					goto fail;
			}
			if (!h->v2) {
				r = cg_cpuset_inherit(&b->t, h, t->rel, b->rel,
						      lim && lim->cpus, err,
						      errlen);
				if (r < 0)
					goto fail;
			}
		}
		if (h->ctrls & CG_CPU) {
			r = cg_set_class(&b->t, h, t->rel, b->weight,
					 b->has_idle, 1, err, errlen);
			if (r < 0)
				goto fail;
		}
		if ((h->ctrls & CG_MEMORY) && lim && lim->memory_max) {
			r = cg_set_memory(&b->t, h, t->rel, lim->memory_max,
					  err, errlen);
			if (r < 0)
				goto fail;
		}
	}
	if ((r = cg_task_open_fds(t, err, errlen)) < 0)
		goto fail;
	t->live = 1;
	return 0;
fail:
	cg_task_close_fds(t);
	for (i = made - 1; i >= 0; i--)
		cg_rmtree(&b->t, &b->t.h[i], t->rel, NULL, 0);
	return r;
}

/* Child side, between fork and exec: write our pid to every procs file. */
int sched_cgroup_child_join(const struct sched_cgroup_task *t)
{
	char buf[32], line[160];
	size_t n = cg_utoa(buf, (unsigned long long)getpid()), l = 0, rl;
	int i;

	buf[n] = '\n';
	for (i = 0; i < t->nfd; i++)
		if (write(t->procs_fd[i], buf, n + 1) < 0)
			return -errno;
	if (t->trace_fd >= 0) {
		rl = strlen(t->rel);
		if (rl + n + 8 <= sizeof(line)) {
			memcpy(line, "join ", 5);
			l = 5;
			memcpy(line + l, t->rel, rl);
			l += rl;
			line[l++] = ' ';
			memcpy(line + l, buf, n + 1);
			l += n + 1;
			if (write(t->trace_fd, line, l) < 0)
				return 0;
		}
	}
	return 0;
}

/* Parent side after fork: the procs files are the child's now. */
void sched_cgroup_task_forked(struct sched_cgroup_task *t)
{
	cg_task_close_fds(t);
}

/* Move an existing process into the task's groups. */
int sched_cgroup_task_attach(struct sched_cgroup_task *t, pid_t pid,
			     char *err, size_t errlen)
{
	const struct cg_tree *tr = &t->batch->t;
	char val[24];
	int i, r;

	t->known_empty = 0;
	snprintf(val, sizeof(val), "%ld", (long)pid);
	for (i = 0; i < tr->nh; i++) {
		r = cg_write(tr, &tr->h[i], t->rel, "cgroup.procs", val, err,
			     errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The v1 cpuset hierarchy when it is one of its own (no other
 * controller mounted with it), else NULL. */
static const struct cg_hier *cg_own_cpuset(const struct cg_tree *t)
{
	const struct cg_hier *h = cg_find(t, CG_CPUSET);

	return h && !h->v2 && h->ctrls == CG_CPUSET ? h : NULL;
}

/* The cgroup.procs files a new process of the task joins. */
int sched_cgroup_task_join_fds(struct sched_cgroup_task *t, int *fds)
{
	const struct cg_tree *tr = &t->batch->t;
	const struct cg_hier *cs = t->has_cpus ? NULL : cg_own_cpuset(tr);
	int i, n = 0;

	t->cpuset_out = 0;
	for (i = 0; i < t->nfd && i < tr->nh; i++) {
		if (&tr->h[i] == cs) {
			t->cpuset_out = 1;
			continue;
		}
		fds[n++] = t->procs_fd[i];
	}
	return n;
}

/* Move every process of the task (its tracking group's cgroup.procs) into
 * its group of hierarchy h. */
static int cg_attach_all(struct sched_cgroup_task *t, const struct cg_hier *h,
			 char *err, size_t errlen)
{
	const struct cg_tree *tr = &t->batch->t;
	char buf[65536], val[24], *p;
	ssize_t n = cg_read(cg_tracker(tr), t->rel, "cgroup.procs", buf,
			    sizeof(buf));
	long pid;
	int r;

	if (n < 0) {
		cg_err(err, errlen, "cannot read the processes of cgroup %s: %s",
		       t->rel, strerror((int)-n));
		return (int)n;
	}
	for (p = buf; (pid = cg_next_pid(&p)) > 0;) {
		snprintf(val, sizeof(val), "%ld", pid);
		r = cg_write(tr, h, t->rel, "cgroup.procs", val, err, errlen);
		if (r < 0 && r != -ESRCH)	/* ESRCH: it just exited */
			return r;
	}
	return 0;
}

/* New cpuset.cpus for a running task; a process left out of its cpuset
 * group at the start (sched_cgroup_task_join_fds) is moved in. */
int sched_cgroup_task_set_cpus(struct sched_cgroup_task *t,
			       const cpu_set_t *cpus, char *err, size_t errlen)
{
	const struct cg_hier *h = cg_find(&t->batch->t, CG_CPUSET);
	char list[1024];
	int r;

	if (!h) {
		cg_err(err, errlen, "no cpuset controller in the cgroup tree");
		return -ENOTSUP;
	}
	if (cg_cpulist(cpus, list, sizeof(list)) < 0) {
		cg_err(err, errlen, "empty or too large CPU set");
		return -EINVAL;
	}
	r = cg_write(&t->batch->t, h, t->rel, "cpuset.cpus", list, err,
		     errlen);
	if (r < 0)
		return r;
	t->has_cpus = 1;	/* what the group has now, for the next reuse */
	t->cpus = *cpus;
	if (t->cpuset_out && (r = cg_attach_all(t, h, err, errlen)) < 0)
		return r;
	t->cpuset_out = 0;
	return 0;
}

/* Freeze or thaw one task, without waiting for the kernel's word. */
int sched_cgroup_task_freeze(struct sched_cgroup_task *t, int frozen,
			     char *err, size_t errlen)
{
	return cg_freeze(&t->batch->t, t->rel, frozen, 0, err, errlen);
}

/* Freeze or thaw the whole batch, without waiting for the kernel's word. */
int sched_cgroup_batch_freeze(struct sched_cgroup *b, int frozen, char *err,
			      size_t errlen)
{
	return cg_freeze(&b->t, b->rel, frozen, 0, err, errlen);
}

/* The task's CPU time and memory-limit kills as the kernel counts them
 * (since the groups were made); mem_peak is left alone. */
static void cg_task_counters(const struct sched_cgroup_task *t,
			     struct sched_cgroup_stats *st)
{
	const struct cg_tree *tr = &t->batch->t;
	const struct cg_hier *h;
	char buf[4096], *p;

	st->cpu_ns = -1;
	st->oom_kills = -1;
	if ((h = cg_find(tr, CG_UNIFIED)) &&
	    cg_task_read(t, h, "cpu.stat", 0, buf, sizeof(buf)) > 0 &&
	    (p = strstr(buf, "usage_usec ")))
		st->cpu_ns = strtoll(p + 11, NULL, 10) * 1000;
	else if ((h = cg_find(tr, CG_CPUACCT)) &&
		 cg_task_read(t, h, "cpuacct.usage", 0, buf, sizeof(buf)) > 0)
		st->cpu_ns = strtoll(buf, NULL, 10);
	if ((h = cg_find(tr, CG_MEMORY)) &&
	    cg_task_read(t, h,
			 h->v2 ? "memory.events" : "memory.oom_control", 2,
			 buf, sizeof(buf)) > 0 &&
	    (p = strstr(buf, "oom_kill ")))
		st->oom_kills = strtoll(p + 9, NULL, 10);
}

/* CPU time, peak memory and memory-limit kills of a task. */
int sched_cgroup_task_stats(const struct sched_cgroup_task *t,
			    struct sched_cgroup_stats *st)
{
	const struct cg_tree *tr = &t->batch->t;
	const struct cg_hier *h;
	char buf[64];
	ssize_t n;

	struct sched_cgroup_task *w = (struct sched_cgroup_task *)t;

	cg_task_counters(t, st);
	w->last_cpu_ns = st->cpu_ns;
	w->last_oom_kills = st->oom_kills;
	w->last_final = t->known_empty;
	st->mem_peak = -1;
	if ((h = cg_find(tr, CG_MEMORY)) && t->peak_fd >= 0 &&
	    (n = pread(t->peak_fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = 0;
		st->mem_peak = strtoll(buf, NULL, 10);
	} else if (h && cg_task_read(t, h,
				     h->v2 ? "memory.peak"
					   : "memory.max_usage_in_bytes",
				     1, buf, sizeof(buf)) > 0)
		st->mem_peak = strtoll(buf, NULL, 10);
	/* since the last reuse */
	if (st->cpu_ns >= 0)
		st->cpu_ns = st->cpu_ns >= t->base_cpu_ns
				     ? st->cpu_ns - t->base_cpu_ns
				     : 0;
	if (st->oom_kills >= 0)
		st->oom_kills = st->oom_kills >= t->base_oom_kills
					? st->oom_kills - t->base_oom_kills
					: 0;
	return 0;
}

/* How many processes the task has now. */
int sched_cgroup_task_nprocs(const struct sched_cgroup_task *t)
{
	char path[PATH_MAX];
	int r = cg_path(path, sizeof(path), cg_tracker(&t->batch->t), t->rel,
			NULL);

	return r < 0 ? r : cg_procs_walk(path, 0);
}

/* Send a signal to every process of the task. */
int sched_cgroup_task_signal(const struct sched_cgroup_task *t, int sig)
{
	char path[PATH_MAX];
	int r = cg_path(path, sizeof(path), cg_tracker(&t->batch->t), t->rel,
			NULL);

	return r < 0 ? r : cg_procs_walk(path, sig);
}

/* Kill every process of the task. */
int sched_cgroup_task_kill(struct sched_cgroup_task *t, char *err,
			   size_t errlen)
{
	int r = t->live && cg_task_empty(t)
			? 0
			: cg_kill(&t->batch->t, t->rel, err, errlen);

	t->known_empty = r == 0 && t->live;
	return r;
}

/* Kill every process of the batch. */
int sched_cgroup_batch_kill(struct sched_cgroup *b, char *err, size_t errlen)
{
	return cg_kill(&b->t, b->rel, err, errlen);
}

/* v2: reset memory.peak through a file kept open (the reset holds for
 * reads through that file only). Fake trees get the write alone. Returns
 * 0, or -errno when the kernel cannot reset it (before 6.12). */
static int cg_peak_reset(struct sched_cgroup_task *t, const struct cg_hier *h)
{
	const struct cg_tree *tr = &t->batch->t;
	char path[PATH_MAX];
	int fd, r;

	if (h->fake)
		return cg_write(tr, h, t->rel, "memory.peak", "reset", NULL, 0);
	if ((r = cg_path(path, sizeof(path), h, t->rel, "memory.peak")) < 0)
		return r;
	if (t->peak_fd < 0) {
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
			return -errno;	/* before 6.12: read-only */
		t->peak_fd = fd;
	}
	cg_trace(tr, "write", path, "reset");
	if (write(t->peak_fd, "reset", 5) < 0) {
		r = -errno;
		close(t->peak_fd);
		t->peak_fd = -1;
		return r;
	}
	return 0;
}

/* Give back what earlier processes left charged to a task's memory group
 * (page cache of the files they wrote, kernel objects), so that the next
 * process's peak starts from about nothing, as in a new group: v1
 * memory.force_empty, v2 memory.reclaim of what it holds. Returns 1 when
 * CG_DRAIN_MIN or more stays charged (tmpfs files without swap, say: the
 * next process would find it counted against its limit), else 0. */
static int cg_memory_drain(const struct sched_cgroup_task *t,
			   const struct cg_hier *h)
{
	const struct cg_tree *tr = &t->batch->t;
	const char *file = h->v2 ? "memory.current" : "memory.usage_in_bytes";
	char buf[64];
	long long cur;

	if (cg_task_read(t, h, file, 4, buf, sizeof(buf)) <= 0 ||
	    (cur = strtoll(buf, NULL, 10)) < CG_DRAIN_MIN)
		return 0;
	if (!h->v2) {
		cg_write(tr, h, t->rel, "memory.force_empty", "0", NULL, 0);
	} else {
		snprintf(buf, sizeof(buf), "%lld", cur);
		cg_write(tr, h, t->rel, "memory.reclaim", buf, NULL, 0);
	}
	return cg_task_read(t, h, file, 4, buf, sizeof(buf)) > 0 &&
	       strtoll(buf, NULL, 10) >= CG_DRAIN_MIN;
}

/* v1: reset memory.max_usage_in_bytes, through a file kept open while
 * the cgroup.procs files are (fake trees: an ordinary write). 0, or
 * -errno when the peak could not be reset. */
static int cg_v1_peak_reset(struct sched_cgroup_task *t,
			    const struct cg_hier *h)
{
	const struct cg_tree *tr = &t->batch->t;
	const int k = SCHED_CGROUP_TASK_NSTAT - 1;
	char path[PATH_MAX];
	int r;

	if (h->fake || !t->nfd ||
	    cg_path(path, sizeof(path), h, t->rel,
		    "memory.max_usage_in_bytes") < 0)
		return cg_write(tr, h, t->rel, "memory.max_usage_in_bytes", "0",
				NULL, 0) < 0
			       ? -EIO
			       : 0;
	if (t->stat_fd[k] < 0 &&
	    (t->stat_fd[k] = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	cg_trace(tr, "write", path, "0");
	if (pwrite(t->stat_fd[k], "0", 1, 0) < 0) {
		r = -errno;
		close(t->stat_fd[k]);
		t->stat_fd[k] = -1;
		return r;
	}
	return 0;
}

/* Ready a task's groups for the next process: empty, cpuset, new zero. */
int sched_cgroup_task_reuse(struct sched_cgroup_task *t,
			    const struct sched_cgroup_limits *lim, char *err,
			    size_t errlen)
{
	struct sched_cgroup *b = t->batch;
	const struct cg_hier *h;
	struct sched_cgroup_stats st;
	int want = lim && lim->cpus, r;
	char list[1024];

	if (!t->live || !b) {
		cg_err(err, errlen, "cgroup task was never made or is removed");
		return -EINVAL;
	}
	if ((lim ? lim->memory_max : 0) != t->memory_max)
		return -ESTALE;
	if (want && cg_cpulist(lim->cpus, list, sizeof(list)) < 0) {
		cg_err(err, errlen, "empty or too large CPU set for task %llu",
		       (unsigned long long)t->seq);
		return -EINVAL;
	}
	if (!t->known_empty && !cg_task_empty(t) &&
	    (r = cg_kill(&b->t, t->rel, err, errlen)) < 0)
		return r;
	if ((h = cg_find(&b->t, CG_MEMORY)) && cg_memory_drain(t, h))
		return -ESTALE;	/* memory that stays charged: new groups */
	if ((h = cg_find(&b->t, CG_CPUSET)) &&
	    (want != t->has_cpus ||
	     (want && !CPU_EQUAL(lim->cpus, &t->cpus)))) {
		if (want)
			r = cg_write(&b->t, h, t->rel, "cpuset.cpus", list, err,
				     errlen);
		else if (h->v2)	/* empty: the parent's */
			r = cg_write(&b->t, h, t->rel, "cpuset.cpus", " ", err,
				     errlen);
		else {
			ssize_t n = cg_read(h, b->rel, "cpuset.cpus", list,
					    sizeof(list));

			while (n > 0 && list[n - 1] == '\n')
				list[--n] = 0;
			r = n > 0 ? cg_write(&b->t, h, t->rel, "cpuset.cpus",
					     list, err, errlen)
				  : (int)(n < 0 ? n : -EINVAL);
			if (r < 0 && n <= 0)
				cg_err(err, errlen,
				       "cannot read the batch's cpuset.cpus "
				       "in %s", h->path);
		}
		if (r < 0)
			return r;
		t->has_cpus = want;
		if (want)
			t->cpus = *lim->cpus;
	}
	t->peak_stale = 0;
	if ((h = cg_find(&b->t, CG_MEMORY))) {
		if (!h->v2)
			t->peak_stale = cg_v1_peak_reset(t, h) < 0;
		else
			t->peak_stale = cg_peak_reset(t, h) < 0;
	}
	if (t->known_empty && t->last_final) {
		/* read after the kill that found it empty: still true */
		st.cpu_ns = t->last_cpu_ns;
		st.oom_kills = t->last_oom_kills;
	} else {
		cg_task_counters(t, &st);
	}
	t->base_cpu_ns = st.cpu_ns > 0 ? st.cpu_ns : 0;
	t->base_oom_kills = st.oom_kills > 0 ? st.oom_kills : 0;
	t->known_empty = t->last_final = t->cpuset_out = 0;
	t->reuses++;
	if (!t->nfd && (r = cg_task_open_fds(t, err, errlen)) < 0)
		return r;
	return 0;
}

/* Kill what is left of the task, remove its groups, close its files. */
int sched_cgroup_task_remove(struct sched_cgroup_task *t, char *err,
			     size_t errlen)
{
	int i, r, ret = 0;

	cg_task_close_fds(t);
	if (!t->live || !t->batch)
		return 0;
	if (t->peak_fd >= 0)
		close(t->peak_fd);
	t->peak_fd = -1;
	ret = cg_kill(&t->batch->t, t->rel, err, errlen);
	for (i = t->batch->t.nh - 1; i >= 0; i--) {
		r = cg_rmtree(&t->batch->t, &t->batch->t.h[i], t->rel,
			      ret < 0 ? NULL : err, errlen);
		if (r < 0 && ret >= 0)
			ret = r;
	}
	t->live = 0;
	return ret;
}

/* Write a nice value to /proc/self/autogroup, retrying for up to about
 * 300 ms while the kernel's rate limit answers EAGAIN. */
static int cg_autogroup_write(const char *v, size_t len)
{
	struct timespec ts = { 0, 50000000L };
	int fd, r, tries;

	for (tries = 0;; tries++) {
		fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		r = write(fd, v, len) < 0 ? -errno : 0;
		close(fd);
		if (r != -EAGAIN || tries >= 6)
			return r;
		nanosleep(&ts, NULL);
	}
}

/* Renice the session's autogroup for a weight class. */
int sched_cgroup_autogroup_fallback(enum policy_weight w)
{
	const char *v = w == POLICY_WEIGHT_IDLE ? "19"
		      : w == POLICY_WEIGHT_LOW  ? "10" : NULL;

	return v ? cg_autogroup_write(v, 2) : 0;
}

/* The session's autogroup nice, from /proc/self/autogroup. */
int sched_cgroup_autogroup_nice(void)
{
	char buf[128], *p;
	ssize_t n = cg_read_path("/proc/self/autogroup", buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	p = strstr(buf, " nice ");
	return p ? atoi(p + 6) : -EINVAL;
}

/* Put back a session autogroup nice saved before the fallback. */
int sched_cgroup_autogroup_restore(int nice)
{
	char v[8];
	size_t n;

	if (nice < 0 || nice > 19)
		return -EINVAL;
	n = cg_utoa(v, (unsigned long long)nice);
	return cg_autogroup_write(v, n);
}
