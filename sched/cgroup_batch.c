/* sched/cgroup_batch: a batch's groups (one per hierarchy, under the base
 * every batch of the machine shares, whose weight class follows its most
 * demanding live batch) and the clean-up of the groups of dead owners.
 * Called by the batch engines from their loop, through the shim
 * (cgroup_fs, cgroup_ctl, cgroup_freeze). */
#include "sched/cgroup_batch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/errmsg.h"
#include "sched/cgroup_batch_int.h"
#include "sched/cgroup_ctl.h"
#include "sched/cgroup_freeze.h"

/* Every path built here is checked for truncation by snprintf's return
 * value; GCC cannot see that through the helpers. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* Set the base's class to the most demanding of its live batches (plus
 * extra, a rank, when >= 0). */
static void cg_base_class(const struct sched_cgroup *b, int extra)
{
	cg_base_reclass(&b->t, b->base, b->has_idle, extra);
}

/* The message for a tree where we may not make groups. */
static void cg_perm_msg(char *err, size_t errlen, const char *path, int r)
{
	errmsg_set(err, errlen,
		   "cannot create cgroup %s: %s. Tasks run without cgroups (nice "
		   "and CPU pinning only). To run them in cgroups, start "
		   "nicely-agent as root, or run inside a delegated cgroup "
		   "subtree (e.g. systemd-run --user --scope nicely ...)",
		   path, strerror(-r));
}

/* Make the base (when missing) and the batch group in hierarchy h, with
 * the controllers enabled (v2), cpus/mems (v1 cpuset) and the class. */
static int cg_batch_make_one(struct sched_cgroup *b, struct cg_hier *h,
			     char *err, size_t errlen)
{
	char path[PATH_MAX];
	int r, attempt;

	for (attempt = 0;; attempt++) {
		r = cg_mkdir(&b->t, h, b->base, err, errlen);
		if (r < 0 && r != -EEXIST)
			goto fail;
		r = cg_parent_setup(&b->t, h, b->base, "", err, errlen);
		if (r < 0)
			goto fail;
		r = cg_mkdir(&b->t, h, b->rel, err, errlen);
		/* the base may vanish between the two mkdirs when its last
		 * batch ends: make it again */
		if (r == -ENOENT && attempt < 3)
			continue;
		if (r < 0)
			goto fail;
		break;
	}
	r = cg_parent_setup(&b->t, h, b->rel, b->base, err, errlen);
	if (r < 0)
		goto fail_made;
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

/* Make the batch in every hierarchy; on failure undo all of it. */
static int cg_batch_make(struct sched_cgroup *b, char *err, size_t errlen)
{
	int i, r = 0;

	cg_hybrid_freezer(&b->t, b->base);
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

/* The effective user's name, or its uid in decimal when the user has no
 * name (getpwuid_r: pools of libnicely may be made in several threads at
 * once). A lookup that failed (no fd left for /etc/passwd, an NSS error)
 * is an error: a group named by the uid would not be the user's next
 * time, and the clean-up of stale batches matches by name. */
static int cg_username(char *buf, size_t len, char *err, size_t errlen)
{
	struct passwd pwd, *pw = NULL;
	char tmp[4096];
	int e;

	do
		e = getpwuid_r(geteuid(), &pwd, tmp, sizeof(tmp), &pw);
	while (e == EINTR);
	/* these mean "no such user" (getpwuid_r(3)) */
	if (e && e != ENOENT && e != ESRCH && e != EBADF && e != EPERM) {
		errmsg_set(err, errlen, "cannot look up the name of uid %u "
			   "(for the batch's cgroup name): %s",
			   (unsigned)geteuid(), strerror(e));
		return -e;
	}
	if (pw && pw->pw_name[0] && !strchr(pw->pw_name, '/'))
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)geteuid());
	return 0;
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
	else if ((r = cg_username(user, 64, err, errlen)) < 0)
		return r;
	if (!*base || strchr(base, '/') || base[0] == '.' || !*user ||
	    strchr(user, '/') || user[0] == '.') {
		errmsg_set(err, errlen, "bad cgroup base \"%s\" or user \"%s\"",
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
			errmsg_set(err, errlen, "cannot open cgroup trace %s: %s",
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
	char path[PATH_MAX], rel[PATH_MAX], uid[16];
	struct dirent *de;
	struct stat st;
	int i, j, removed = 0, r, ret = 0, seen;
	pid_t pid;
	DIR *d;

	snprintf(uid, sizeof(uid), "%u", (unsigned)geteuid());

	for (i = 0; i < t->nh; i++) {
		cg_path(path, sizeof(path), &t->h[i], base, NULL);
		if (!(d = opendir(path)))
			continue;
		while ((de = readdir(d))) {
			if (de->d_type != DT_DIR)
				continue;
			pid = cg_batch_owner(de->d_name, user);
			/* a group named by our uid (left by a run whose
			 * name lookup failed) is ours when we own it */
			if (!pid && strcmp(user, uid) &&
			    (pid = cg_batch_owner(de->d_name, uid)) &&
			    (fstatat(dirfd(d), de->d_name, &st,
				     AT_SYMLINK_NOFOLLOW) < 0 ||
			     st.st_uid != geteuid()))
				pid = 0;
			if (!pid)
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

/* The leaf of a delegated batch group that holds its owner (the agent's,
 * sched/cgroup_agent.h): never ours to kill, freeze or remove. */
#define CG_OWNER_LEAF "owner"

/* A group path from nicely-agent: components that are not empty, ".",
 * ".." or hidden, single slashes, no leading slash. */
static int cg_group_ok(const char *g)
{
	const char *p = g;

	if (!*g || *g == '/')
		return 0;
	for (; *p; p++)
		if ((*p == '/' && (p[1] == '/' || !p[1] || p[1] == '.')) ||
		    (p == g && *p == '.'))
			return 0;
	return 1;
}

/* Group rel of h is there and ours to write (its directory and its
 * cgroup.procs): 0, or -ENOENT / -EACCES with err naming it. */
static int cg_adopt_check(const struct cg_hier *h, const char *rel,
			  char *err, size_t errlen)
{
	char path[PATH_MAX], procs[PATH_MAX];

	cg_path(path, sizeof(path), h, rel, NULL);
	cg_path(procs, sizeof(procs), h, rel, "cgroup.procs");
	if (!cg_exists(path) && errno == ENOENT) {
		errmsg_set(err, errlen, "the batch group %s that nicely-agent "
			   "gave is missing", path);
		return -ENOENT;
	}
	if (access(path, W_OK | X_OK) < 0 || access(procs, W_OK) < 0) {
		errmsg_set(err, errlen, "the batch group %s that nicely-agent "
			   "gave is not writable by uid %u: %s", path,
			   (unsigned)geteuid(), strerror(errno));
		return -EACCES;
	}
	return 0;
}

/* Adopt the group nicely-agent made and delegated to us in every
 * hierarchy: it must be there and ours to write; v2 groups get the
 * controllers enabled in its subtree_control, the class is the agent's
 * (only read, for has_idle). */
static int cg_adopt(struct sched_cgroup *b, const char *group, char *err,
		    size_t errlen)
{
	const unsigned ctl = CG_CPU | CG_CPUSET | CG_MEMORY;
	char path[PATH_MAX];
	const char *slash;
	struct cg_hier *h;
	int i, r;

	if (!cg_group_ok(group) ||
	    snprintf(b->rel, sizeof(b->rel), "%s", group) >=
		    (int)sizeof(b->rel)) {
		errmsg_set(err, errlen, "bad cgroup group \"%s\" from "
			   "nicely-agent", group);
		return -EINVAL;
	}
	slash = strrchr(group, '/');
	snprintf(b->name, sizeof(b->name), "%s", slash ? slash + 1 : group);
	b->delegated = 1;
	/* the cgroup2 tree's first: cg_hybrid_freezer would make it (and
	 * may then drop the v1 freezer from the tree) */
	for (i = 0; i < b->t.nh; i++)
		if (b->t.h[i].v2 &&
		    (r = cg_adopt_check(&b->t.h[i], b->rel, err, errlen)) < 0)
			return r;
	cg_hybrid_freezer(&b->t, b->rel);
	for (i = 0; i < b->t.nh; i++) {
		h = &b->t.h[i];
		if ((r = cg_adopt_check(h, b->rel, err, errlen)) < 0)
			return r;
		if (h->v2)
			h->ctrls = (h->ctrls & ~ctl) | cg_v2_enabled(h, b->rel);
		if (h->ctrls & CG_CPU) {
			cg_path(path, sizeof(path), h, b->rel, "cpu.idle");
			b->has_idle = cg_exists(path);
		}
	}
	return 0;
}

/* Kill (and with rm, remove) the groups in the delegated batch group but
 * its owner leaf: the task groups. 0 or the first -errno. */
static int cg_delegated_tasks(struct sched_cgroup *b, int rm, char *err,
			      size_t errlen)
{
	const struct cg_hier *tr = cg_tracker(&b->t);
	char path[PATH_MAX], sub[PATH_MAX];
	struct dirent *de;
	int i, r, ret = 0;
	DIR *d;

	if (cg_path(path, sizeof(path), tr, b->rel, NULL) < 0 ||
	    !(d = opendir(path)))
		return 0;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.' ||
		    !strcmp(de->d_name, CG_OWNER_LEAF))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", b->rel, de->d_name);
		r = cg_kill(&b->t, sub, ret < 0 ? NULL : err, errlen);
		if (r < 0 && !ret)
			ret = r;
		for (i = 0; rm && i < b->t.nh; i++) {
			r = cg_rmtree(&b->t, &b->t.h[i], sub,
				      ret < 0 ? NULL : err, errlen);
			if (r < 0 && !ret)
				ret = r;
		}
	}
	closedir(d);
	return ret;
}

/* Freeze or thaw the task groups of a delegated batch (not its owner). */
static int cg_delegated_freeze(struct sched_cgroup *b, int frozen, char *err,
			       size_t errlen)
{
	const struct cg_hier *h = cg_find(&b->t, CG_FREEZER);
	char path[PATH_MAX], sub[PATH_MAX];
	struct dirent *de;
	int r, ret = 0;
	DIR *d;

	if (!h)
		return cg_freeze(&b->t, b->rel, frozen, 0, err, errlen);
	if (cg_path(path, sizeof(path), h, b->rel, NULL) < 0 ||
	    !(d = opendir(path)))
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.' ||
		    !strcmp(de->d_name, CG_OWNER_LEAF))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", b->rel, de->d_name);
		r = cg_freeze(&b->t, sub, frozen, 0, ret < 0 ? NULL : err,
			      errlen);
		if (r < 0 && !ret)
			ret = r;
	}
	closedir(d);
	return ret;
}

/* Detect the tree, clean stale batches, make this batch's groups (or
 * adopt the agent's). */
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
		errmsg_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = cg_setup(&b->t, b->base, b->user, opts, err, errlen);
	if (r < 0) {
		free(b);
		return r;
	}
	b->weight = opts ? opts->weight : POLICY_WEIGHT_NORMAL;
	if (opts && opts->group) {
		r = cg_adopt(b, opts->group, err, errlen);
		if (r < 0) {
			if (b->t.trace_fd >= 0)
				close(b->t.trace_fd);
			free(b);
			return r;
		}
		*out = b;
		return 0;
	}
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
			errmsg_set(err, errlen, "cannot find a free batch name "
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
	if (b->delegated) {
		ret = cg_delegated_tasks(b, 1, err, errlen);
		if (b->t.trace_fd >= 0)
			close(b->t.trace_fd);
		free(b);
		return ret;
	}
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

/* Freeze or thaw the whole batch. */
int sched_cgroup_batch_freeze(struct sched_cgroup *b, int frozen, char *err,
			      size_t errlen)
{
	if (b->delegated)
		return cg_delegated_freeze(b, frozen, err, errlen);
	return cg_freeze(&b->t, b->rel, frozen, 0, err, errlen);
}

/* Kill every process of the batch. */
int sched_cgroup_batch_kill(struct sched_cgroup *b, char *err, size_t errlen)
{
	if (b->delegated)
		return cg_delegated_tasks(b, 0, err, errlen);
	return cg_kill(&b->t, b->rel, err, errlen);
}

/* How many hierarchies a batch would have (see cgroup_batch.h). */
int sched_cgroup_tree_hierarchies(const struct sched_cgroup_options *opts)
{
	const char *root = opts && opts->root ? opts->root
					      : getenv("NICELY_CGROUP_ROOT");
	struct cg_tree t;

	if (!root || !*root)
		root = "/sys/fs/cgroup";
	if (cg_detect(&t, root, NULL, 0) < 0)
		return 0;
	return t.nh;
}
