/* sched/cgroup_fs: the cgroupfs shim of the cgroup module, the one place
 * (with cgroup_ctl.c and cgroup_freeze.c) that knows how v1, v2, hybrid
 * and fake trees differ: it detects the tree, builds paths, reads and
 * writes files, makes and removes groups (tracing each change) and lists
 * their processes, straight on cgroupfs. Called by the other cgroup_*.c
 * files from the loop; nothing here runs in a child.
 * libcgroup is not used: it enables controllers in every ancestor on v2,
 * cannot see a cgroup2 tracking tree on hybrid machines, and reads the
 * real /proc/mounts, so a fake tree could not test it (see cgroup.h). */
#include "sched/cgroup_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "agent/errmsg.h"

/* Every path built here is checked for truncation by snprintf's return
 * value; GCC cannot see that through the helpers. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define RMDIR_TIMEOUT_MS 2000

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

/* Sleep ms milliseconds. */
void cg_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Monotonic milliseconds. */
int64_t cg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Decimal digits of v into buf (no NUL); returns the length. Signal-safe. */
size_t cg_utoa(char *buf, unsigned long long v)
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
void cg_trace(const struct cg_tree *t, const char *op, const char *path,
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
int cg_path(char *buf, size_t len, const struct cg_hier *h,
	    const char *rel, const char *file)
{
	int n = snprintf(buf, len, "%s%s%s%s%s", h->path, rel && *rel ? "/" : "",
			 rel ? rel : "", file ? "/" : "", file ? file : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* 1 if path exists. */
int cg_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Read a small file into buf (NUL-terminated, trailing newline kept).
 * Returns the length or -errno. */
ssize_t cg_read_path(const char *path, char *buf, size_t len)
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
ssize_t cg_read(const struct cg_hier *h, const char *rel,
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

/* The cgroup2 controllers in the order the kernel lists them. */
static const char *const cg_v2_names[] = {
	"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc",
};
#define CG_V2_NAMES (sizeof(cg_v2_names) / sizeof(cg_v2_names[0]))

/* The cg_v2_names index of the word at s (length n), or -1. */
static int cg_v2_index(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < CG_V2_NAMES; i++)
		if (strlen(cg_v2_names[i]) == n && !strncmp(s, cg_v2_names[i], n))
			return (int)i;
	return -1;
}

/* The bits (1 << cg_v2_names index) of the names listed in text; a
 * leading '+' is skipped (what earlier fakes kept), unknown names too. */
static unsigned cg_v2_mask(const char *s)
{
	unsigned m = 0;
	size_t n;
	int k;

	while (*s) {
		s += strspn(s, " \t\n+");
		n = strcspn(s, " \t\n");
		if (n && (k = cg_v2_index(s, n)) >= 0)
			m |= 1u << k;
		s += n;
	}
	return m;
}

/* Fake tree: what the kernel's cgroup.procs keeps after a write of value
 * to the file at path: the pid ("0": the writer's own) on a line of its
 * own. 0 or -errno (-EINVAL: not a pid). */
static int cg_fake_procs(const char *path, const char *value)
{
	char line[32], *end;
	long pid;
	int fd, r = 0;
	size_t n;

	errno = 0;
	pid = strtol(value, &end, 10);
	if (end == value || errno || pid < 0 || strspn(end, " \n") != strlen(end))
		return -EINVAL;
	n = cg_utoa(line, (unsigned long long)(pid ? pid : (long)getpid()));
	line[n++] = '\n';
	fd = open(path, O_WRONLY | O_CLOEXEC | O_CREAT | O_APPEND, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, line, n) != (ssize_t)n)
		r = errno ? -errno : -EIO;
	close(fd);
	return r;
}

/* Fake tree: the kernel's cgroup.subtree_control after a write of value
 * ("+cpu -memory ..."): +X enables X, -X disables it, X must be in the
 * group's cgroup.controllers (when the fake has that file), and the file
 * lists the enabled names, space-separated, in the kernel's order. 0 or
 * -errno (-EINVAL: a word without + or -, or no controller's name;
 * -ENOENT: a controller the parent does not offer). */
static int cg_fake_subtree(const char *path, const char *value)
{
	char buf[512], cpath[PATH_MAX], out[128] = "";
	unsigned on = 0, avail = ~0u;
	const char *s = value, *slash = strrchr(path, '/');
	size_t n, i, o = 0;
	int k, fd, r = 0;

	if (cg_read_path(path, buf, sizeof(buf)) >= 0)
		on = cg_v2_mask(buf);
	if (slash && snprintf(cpath, sizeof(cpath), "%.*s/cgroup.controllers",
			      (int)(slash - path), path) < (int)sizeof(cpath) &&
	    cg_read_path(cpath, buf, sizeof(buf)) >= 0)
		avail = cg_v2_mask(buf);
	while (*(s += strspn(s, " \t\n"))) {
		n = strcspn(s, " \t\n");
		if ((*s != '+' && *s != '-') || (k = cg_v2_index(s + 1, n - 1)) < 0)
			return -EINVAL;
		if (*s == '+' && !(avail & (1u << k)))
			return -ENOENT;
		if (*s == '+')
			on |= 1u << k;
		else
			on &= ~(1u << k);
		s += n;
	}
	for (i = 0; i < CG_V2_NAMES; i++)
		if (on & (1u << i))
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s",
					      o ? " " : "", cg_v2_names[i]);
	out[o++] = '\n';
	fd = open(path, O_WRONLY | O_CLOEXEC | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, out, o) != (ssize_t)o)
		r = errno ? -errno : -EIO;
	close(fd);
	return r;
}

/* Write value to rel/file of hierarchy h (one write, as cgroupfs wants).
 * Returns 0 or -errno with err naming the file and the value. */
int cg_write(const struct cg_tree *t, const struct cg_hier *h,
	     const char *rel, const char *file, const char *value,
	     char *err, size_t errlen)
{
	char path[PATH_MAX];
	int flags = O_WRONLY | O_CLOEXEC, fd, r;
	size_t len = strlen(value);
	ssize_t w;

	r = cg_path(path, sizeof(path), h, rel, file);
	if (r < 0) {
		errmsg_set(err, errlen, "cgroup path too long: %s/%s/%s", h->path,
			   rel, file);
		return r;
	}
	if (h->fake)
		flags |= O_CREAT | O_TRUNC;
	cg_trace(t, "write", path, value);
	/* a fake tree's membership and controller files read as the
	 * kernel's would after the write */
	r = !h->fake ? 1
	    : cg_fake_appends(file) ? cg_fake_procs(path, value)
	    : !strcmp(file, "cgroup.subtree_control") ? cg_fake_subtree(path, value)
	    : 1;
	if (r <= 0) {
		if (r < 0)
			errmsg_set(err, errlen, "cannot write \"%s\" to %s: %s",
				   value, path, strerror(-r));
		return r;
	}
	fd = open(path, flags, 0644);
	if (fd < 0) {
		r = -errno;
		errmsg_set(err, errlen, "cannot open %s: %s", path, strerror(-r));
		return r;
	}
	do
		w = write(fd, value, len);
	while (w < 0 && errno == EINTR);
	r = w < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		errmsg_set(err, errlen, "cannot write \"%s\" to %s: %s", value,
			   path, strerror(-r));
	return r;
}

/* Give a group's directory or file to uid:gid (and mode); see the header. */
int cg_chown(const struct cg_tree *t, const struct cg_hier *h,
	     const char *rel, const char *file, uid_t uid, gid_t gid,
	     mode_t mode, int missing_ok, char *err, size_t errlen)
{
	char path[PATH_MAX], val[48];
	int r = cg_path(path, sizeof(path), h, rel, file);

	if (r < 0) {
		errmsg_set(err, errlen, "cgroup path too long: %s/%s", h->path,
			   rel);
		return r;
	}
	if (missing_ok && !cg_exists(path))
		return 0;
	snprintf(val, sizeof(val), "%u:%u", (unsigned)uid, (unsigned)gid);
	if (uid != (uid_t)-1 || gid != (gid_t)-1) {
		cg_trace(t, "chown", path, val);
		if (chown(path, uid, gid) < 0) {
			r = -errno;
			errmsg_set(err, errlen, "cannot chown %s to %s: %s",
				   path, val, strerror(-r));
			return r;
		}
	}
	if (!mode)
		return 0;
	snprintf(val, sizeof(val), "%04o", (unsigned)mode);
	cg_trace(t, "chmod", path, val);
	if (chmod(path, mode) < 0) {
		r = -errno;
		errmsg_set(err, errlen, "cannot chmod %s to %s: %s", path, val,
			   strerror(-r));
		return r;
	}
	return 0;
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

/* Detect the tree at root: v2, v1 or hybrid, and its hierarchies. */
int cg_detect(struct cg_tree *t, const char *root, char *err,
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
		errmsg_set(err, errlen, "cgroup root too long: %s", root);
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
		errmsg_set(err, errlen,
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
const struct cg_hier *cg_find(const struct cg_tree *t, unsigned bit)
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
const struct cg_hier *cg_tracker(const struct cg_tree *t)
{
	const struct cg_hier *h = cg_find(t, CG_UNIFIED);

	if (!h)
		h = cg_find(t, CG_FREEZER);
	return h ? h : &t->h[0];
}

/* The v1 cpuset hierarchy when it is one of its own (no other
 * controller mounted with it), else NULL. */
const struct cg_hier *cg_own_cpuset(const struct cg_tree *t)
{
	const struct cg_hier *h = cg_find(t, CG_CPUSET);

	return h && !h->v2 && h->ctrls == CG_CPUSET ? h : NULL;
}

/* The controller bit for a name ("unified": the cgroup2 tree), 0 when
 * unknown. */
unsigned cg_ctrl_bit(const char *ctrl)
{
	size_t i;

	if (!strcmp(ctrl, "unified"))
		return CG_UNIFIED;
	for (i = 0; i < sizeof(cg_v1_ctrls) / sizeof(cg_v1_ctrls[0]); i++)
		if (!strcmp(ctrl, cg_v1_ctrls[i].name))
			return cg_v1_ctrls[i].bit;
	return 0;
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
int cg_mkdir(const struct cg_tree *t, const struct cg_hier *h,
	     const char *rel, char *err, size_t errlen)
{
	char path[PATH_MAX], parent[PATH_MAX], *slash;
	int r = cg_path(path, sizeof(path), h, rel, NULL);

	if (r < 0) {
		errmsg_set(err, errlen, "cgroup path too long: %s/%s", h->path, rel);
		return r;
	}
	if (mkdir(path, 0755) < 0) {
		r = -errno;
		if (r != -EEXIST)
			errmsg_set(err, errlen, "cannot create cgroup %s: %s", path,
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
			errmsg_set(err, errlen, "cannot remove cgroup %s: %s", path,
				   strerror(-r));
			return r;
		}
		cg_sleep_ms(5);
	}
	if (stat(path, &st) == 0) {
		errmsg_set(err, errlen, "cgroup %s still exists after rmdir", path);
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

	if (!d && errno == ENOENT)
		return 0;
	/* unlisted (no fd left, say): a group without children still goes */
	while (d && (de = readdir(d))) {
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
	if (d)
		closedir(d);
	r = cg_rmdir_one(t, h, path, ret ? NULL : err, errlen);
	return ret ? ret : r;
}

/* Remove group rel and its children in hierarchy h. */
int cg_rmtree(const struct cg_tree *t, const struct cg_hier *h,
	      const char *rel, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int r = cg_path(path, sizeof(path), h, rel, NULL);

	return r < 0 ? r : cg_rmtree_path(t, h, path, err, errlen);
}

/* Remove the base in every hierarchy when no batch is left in it (it is
 * shared by all batches; a busy base just stays). */
void cg_base_try_remove(const struct cg_tree *t, const char *base)
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

/* Hybrid trees: when the kernel's cgroup2 has its own freezer
 * (cgroup.freeze, which only non-root groups show: looked for in the base,
 * made here in the cgroup2 tree when missing), pause through it and leave
 * the v1 freezer hierarchy out: a worker then joins one group fewer, and
 * cgroup.kill needs no thaw. Else the v1 freezer stays. */
void cg_hybrid_freezer(struct cg_tree *t, const char *base)
{
	struct cg_hier *u = NULL;
	char path[PATH_MAX];
	int i, r;

	for (i = 0; i < t->nh; i++)
		if (t->h[i].ctrls & CG_UNIFIED)
			u = &t->h[i];
	if (!u || t->mode != SCHED_CGROUP_HYBRID)
		return;
	r = cg_mkdir(t, u, base, NULL, 0);
	if ((r < 0 && r != -EEXIST) ||
	    cg_path(path, sizeof(path), u, base, "cgroup.freeze") < 0 ||
	    !cg_exists(path))
		return;
	u->ctrls |= CG_FREEZER;
	for (i = 0; i < t->nh; i++) {
		struct cg_hier *h = &t->h[i];

		if (h == u || !(h->ctrls & CG_FREEZER))
			continue;
		h->ctrls &= ~(unsigned)CG_FREEZER;
		if (h->ctrls)	/* co-mounted with another controller */
			continue;
		memmove(h, h + 1, (size_t)(t->nh - i - 1) * sizeof(*h));
		t->nh--;
		break;
	}
}

/* The next PID of a cgroup.procs text from *p on (*p is moved past it),
 * or 0 at the end. */
long cg_next_pid(char **p)
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
int cg_procs_walk(const char *path, int sig)
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
		/* a process that has exited is not counted: the kernel drops
		 * it from the list, a fake tree's file keeps it */
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			continue;
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

/* Open rel's cgroup.procs in h for writing pids (O_CLOEXEC; a fake tree's
 * is created and appended to). The fd, or -errno with err naming the
 * file. */
int cg_open_procs(const struct cg_hier *h, const char *rel, char *err,
		  size_t errlen)
{
	char path[PATH_MAX];
	int flags = O_WRONLY | O_CLOEXEC, fd, r;

	cg_path(path, sizeof(path), h, rel, "cgroup.procs");
	if (h->fake)
		flags |= O_APPEND | O_CREAT;
	fd = open(path, flags, 0644);
	if (fd < 0) {
		r = -errno;
		errmsg_set(err, errlen, "cannot open %s: %s", path,
			   strerror(-r));
		return r;
	}
	return fd;
}
