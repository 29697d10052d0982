/* sched/cgroup_agent: nicely-agent's groups (root only, from the agent's
 * loop): the base at the top of every hierarchy, a root-owned group per
 * user that fences it, a group per batch delegated to its user with the
 * owner leaf, placement, kill, removal, CPU time and the rediscovery of
 * batches after a restart (see cgroup_agent.h for the tree). Everything
 * goes through the shim (cgroup_fs, cgroup_ctl, cgroup_freeze). */
#include "sched/cgroup_agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/errmsg.h"
#include "sched/cgroup_ctl.h"
#include "sched/cgroup_freeze.h"
#include "sched/cgroup_fs.h"

/* Every path built here is checked for truncation by snprintf's return
 * value or is far below PATH_MAX; GCC cannot see that. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define CGA_OWNER "owner"
#define CGA_REL 512

struct cga {
	struct cg_tree t;
	char base[256];
	char parent[256];	/* the base's parent, "" for the root */
	int has_idle;
};

/* A path of groups relative to the root: components that are not empty,
 * ".", "..", or hidden, separated by single slashes. */
static int cga_rel_ok(const char *rel)
{
	const char *p = rel;

	if (!*rel)
		return 0;
	while (*p) {
		if (*p == '/' || *p == '.')
			return 0;
		while (*p && *p != '/')
			p++;
		if (*p == '/')
			p++;
		if (!*p && p[-1] == '/')
			return 0;
	}
	return 1;
}

/* A batch's directory name: one component, no "owner", no dot first. */
static int cga_batch_ok(const char *batch)
{
	return batch && *batch && !strchr(batch, '/') && batch[0] != '.' &&
	       strlen(batch) < 128;
}

/* <base>/user-<uid> */
static void cga_user_rel(const struct cga *a, uid_t uid, char *buf,
			 size_t len)
{
	snprintf(buf, len, "%s/user-%u", a->base, (unsigned)uid);
}

/* <base>/user-<uid>/<batch>[/owner] */
static void cga_batch_rel(const struct cga *a, uid_t uid, const char *batch,
			  int owner, char *buf, size_t len)
{
	snprintf(buf, len, "%s/user-%u/%s%s", a->base, (unsigned)uid, batch,
		 owner ? "/" CGA_OWNER : "");
}

/* Detect the tree and make the base in every hierarchy (see header). */
int cga_open(struct cga **out, const struct cga_opts *o, char *err,
	     size_t errlen)
{
	const char *root = o && o->root ? o->root : getenv("NICELY_CGROUP_ROOT");
	const char *trace = o && o->trace_path ? o->trace_path
					       : getenv("NICELY_CGROUP_TRACE");
	const struct cg_hier *cpu;
	struct cg_hier *h;
	char path[PATH_MAX], *slash;
	struct cga *a;
	int i, r;

	*out = NULL;
	if (!root || !*root)
		root = "/sys/fs/cgroup";
	if (!(a = calloc(1, sizeof(*a)))) {
		errmsg_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(a->base, sizeof(a->base), "%s",
		 o && o->base ? o->base : "nicely");
	if (!cga_rel_ok(a->base)) {
		errmsg_set(err, errlen, "bad cgroup base \"%s\"", a->base);
		free(a);
		return -EINVAL;
	}
	snprintf(a->parent, sizeof(a->parent), "%s", a->base);
	slash = strrchr(a->parent, '/');
	if (slash)
		*slash = 0;
	else
		a->parent[0] = 0;
	r = cg_detect(&a->t, root, err, errlen);
	if (r < 0) {
		free(a);
		return r;
	}
	if (trace && *trace &&
	    (a->t.trace_fd = open(trace, O_WRONLY | O_CREAT | O_APPEND |
						 O_CLOEXEC, 0644)) < 0) {
		r = -errno;
		errmsg_set(err, errlen, "cannot open cgroup trace %s: %s", trace,
			   strerror(-r));
		free(a);
		return r;
	}
	cg_hybrid_freezer(&a->t, a->base);
	for (i = 0; i < a->t.nh; i++) {
		h = &a->t.h[i];
		r = cg_mkdir(&a->t, h, a->base, err, errlen);
		if (r < 0 && r != -EEXIST)
			goto fail;
		if (h->v2)
			h->ctrls |= cg_v2_enable_all(&a->t, h, a->base);
		else if ((r = cg_parent_setup(&a->t, h, a->base, a->parent, err,
					      errlen)) < 0)
			goto fail;
	}
	cpu = cg_find(&a->t, CG_CPU);
	if (cpu && cg_path(path, sizeof(path), cpu, a->base, "cpu.idle") == 0)
		a->has_idle = cg_exists(path);
	cg_base_reclass(&a->t, a->base, a->has_idle, -1);
	*out = a;
	return 0;
fail:
	cga_close(a);
	return r;
}

/* Free; the groups stay. */
void cga_close(struct cga *a)
{
	if (!a)
		return;
	if (a->t.trace_fd >= 0)
		close(a->t.trace_fd);
	free(a);
}

enum sched_cgroup_mode cga_mode(const struct cga *a)
{
	return a->t.mode;
}

const char *cga_base(const struct cga *a)
{
	return a->base;
}

const char *cga_root(const struct cga *a)
{
	return a->t.root;
}

int cga_has(const struct cga *a, const char *ctrl)
{
	unsigned bit = cg_ctrl_bit(ctrl);

	return bit && cg_find(&a->t, bit) != NULL;
}

/* The user's limits on its group in each hierarchy; fresh: just made,
 * so "none" needs no write. */
static int cga_user_limits(struct cga *a, const char *urel,
			   const struct cga_user_limits *lim, int fresh,
			   char *err, size_t errlen)
{
	const struct cg_hier *h;
	int r = 0;

	if ((h = cg_find(&a->t, CG_CPU))) {
		if (!fresh && cg_class_of(h, urel) != POLICY_WEIGHT_NORMAL &&
		    (r = cg_set_class(&a->t, h, urel, POLICY_WEIGHT_NORMAL,
				      a->has_idle, 0, err, errlen)) < 0)
			return r;
		if ((lim && lim->max_pus > 0) || !fresh)
			r = cg_set_cpu_quota(&a->t, h, urel,
					     lim ? lim->max_pus : 0, err,
					     errlen);
		if (r < 0)
			return r;
	}
	if ((h = cg_find(&a->t, CG_CPUSET)) && ((lim && lim->cpus) || !fresh)) {
		r = cg_cpuset_set(&a->t, h, urel, a->base,
				  lim ? lim->cpus : NULL, err, errlen);
		if (r < 0)
			return r;
	}
	if ((h = cg_find(&a->t, CG_MEMORY)) &&
	    ((lim && lim->memory_max) || !fresh))
		r = cg_set_memory_limit(&a->t, h, urel,
					lim ? lim->memory_max : 0, err, errlen);
	return r;
}

/* Make the user's group (root's, 0711) and write its limits. */
int cga_user_ensure(struct cga *a, uid_t uid,
		    const struct cga_user_limits *lim, char *err,
		    size_t errlen)
{
	char urel[CGA_REL], path[PATH_MAX];
	struct cg_hier *h;
	struct stat st;
	int i, r, fresh = 0;

	cga_user_rel(a, uid, urel, sizeof(urel));
	for (i = 0; i < a->t.nh; i++) {
		h = &a->t.h[i];
		r = cg_mkdir(&a->t, h, urel, err, errlen);
		if (r == -EEXIST) {	/* ours from before: a directory */
			cg_path(path, sizeof(path), h, urel, NULL);
			if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
				errmsg_set(err, errlen, "%s exists and is not "
					   "a group", path);
				r = -ENOTDIR;
				goto fail;
			}
		} else if (r < 0) {
			goto fail;
		}
		fresh |= r == 0;
		r = cg_chown(&a->t, h, urel, NULL, (uid_t)-1, (gid_t)-1, 0711,
			     0, err, errlen);
		if (r < 0)
			goto fail;
		if (h->v2)
			cg_v2_enable_all(&a->t, h, urel);
		else if ((r = cg_parent_setup(&a->t, h, urel, a->base, err,
					      errlen)) < 0)
			goto fail;
	}
	if ((r = cga_user_limits(a, urel, lim, fresh, err, errlen)) == 0)
		return 0;
fail:
	/* not left half made (unfenced): gone unless a batch is in it */
	cga_user_remove_if_empty(a, uid);
	return r;
}

/* 1 when directory rel of h has a group in it. */
static int cga_has_children(const struct cg_hier *h, const char *rel)
{
	char path[PATH_MAX];
	struct dirent *de;
	int any = 0;
	DIR *d;

	if (cg_path(path, sizeof(path), h, rel, NULL) < 0 ||
	    !(d = opendir(path)))
		return 0;
	while (!any && (de = readdir(d)))
		any = de->d_type == DT_DIR && de->d_name[0] != '.';
	closedir(d);
	return any;
}

/* Remove the user's group when no batch is left in it. */
void cga_user_remove_if_empty(struct cga *a, uid_t uid)
{
	char urel[CGA_REL];
	int i;

	cga_user_rel(a, uid, urel, sizeof(urel));
	for (i = 0; i < a->t.nh; i++)
		if (cga_has_children(&a->t.h[i], urel))
			return;
	for (i = 0; i < a->t.nh; i++)
		cg_rmtree(&a->t, &a->t.h[i], urel, NULL, 0);
}

/* Give group rel of h to uid:gid: the directory (0700), cgroup.procs and
 * the other files delegation needs (v2: cgroup.threads,
 * cgroup.subtree_control; v1: tasks). */
static int cga_delegate(struct cga *a, const struct cg_hier *h,
			const char *rel, uid_t uid, gid_t gid, char *err,
			size_t errlen)
{
	int r;

	r = cg_chown(&a->t, h, rel, NULL, uid, gid, 0700, 0, err, errlen);
	if (r == 0)
		r = cg_chown(&a->t, h, rel, "cgroup.procs", uid, gid, 0, 0, err,
			     errlen);
	if (r == 0 && h->v2)
		r = cg_chown(&a->t, h, rel, "cgroup.threads", uid, gid, 0, 1,
			     err, errlen);
	if (r == 0 && h->v2)
		r = cg_chown(&a->t, h, rel, "cgroup.subtree_control", uid, gid,
			     0, 1, err, errlen);
	if (r == 0 && !h->v2)
		r = cg_chown(&a->t, h, rel, "tasks", uid, gid, 0, 1, err,
			     errlen);
	return r;
}

/* The batch's group and owner leaf in hierarchy h, set up as the header
 * says (the batch group was just made). */
static int cga_batch_one(struct cga *a, struct cg_hier *h, const char *urel,
			 const char *brel, const char *orel, uid_t uid,
			 gid_t gid, enum policy_weight w, uint64_t memory_max,
			 const char *cpus, char *err, size_t errlen)
{
	int r = 0;

	if (h->v2)
		cg_v2_enable_all(&a->t, h, brel);
	if ((h->ctrls & CG_CPUSET) && cpus)
		r = cg_cpuset_new(&a->t, h, brel, urel, cpus, err, errlen);
	else if (!h->v2)
		r = cg_parent_setup(&a->t, h, brel, urel, err, errlen);
	if (r == 0 && (h->ctrls & CG_CPU))
		r = cg_set_class(&a->t, h, brel, w, a->has_idle, 1, err,
				 errlen);
	if (r == 0 && (h->ctrls & CG_MEMORY) && memory_max)
		r = cg_set_memory(&a->t, h, brel, memory_max, err, errlen);
	if (r == 0)
		r = cg_mkdir(&a->t, h, orel, err, errlen);
	if (r == 0 && !h->v2)
		r = cg_parent_setup(&a->t, h, orel, brel, err, errlen);
	if (r == 0)
		r = cga_delegate(a, h, brel, uid, gid, err, errlen);
	if (r == 0)
		r = cga_delegate(a, h, orel, uid, gid, err, errlen);
	return r;
}

/* Make the batch's groups, delegated to uid:gid (see header). */
int cga_batch_make(struct cga *a, uid_t uid, gid_t gid, const char *batch,
		   enum policy_weight w, uint64_t memory_max,
		   const char *cpus, char *err, size_t errlen)
{
	char urel[CGA_REL], brel[CGA_REL], orel[CGA_REL], path[PATH_MAX];
	int i, r = 0;

	if (!cga_batch_ok(batch)) {
		errmsg_set(err, errlen, "bad batch name \"%s\"",
			   batch ? batch : "");
		return -EINVAL;
	}
	cga_user_rel(a, uid, urel, sizeof(urel));
	cga_batch_rel(a, uid, batch, 0, brel, sizeof(brel));
	cga_batch_rel(a, uid, batch, 1, orel, sizeof(orel));
	cg_path(path, sizeof(path), &a->t.h[0], urel, NULL);
	if (!cg_exists(path)) {
		errmsg_set(err, errlen, "no group %s for user %u", path,
			   (unsigned)uid);
		return -ENOENT;
	}
	for (i = 0; i < a->t.nh; i++) {
		r = cg_mkdir(&a->t, &a->t.h[i], brel, err, errlen);
		if (r == -EEXIST) {
			cg_path(path, sizeof(path), &a->t.h[i], brel, NULL);
			errmsg_set(err, errlen, "batch group %s exists", path);
			break;
		}
		if (r < 0)
			break;
		r = cga_batch_one(a, &a->t.h[i], urel, brel, orel, uid, gid,
				  w, memory_max, cpus, err, errlen);
		if (r < 0) {
			i++;	/* made here: removed below */
			break;
		}
	}
	if (r < 0) {
		while (--i >= 0)
			cg_rmtree(&a->t, &a->t.h[i], brel, NULL, 0);
		return r;
	}
	cg_base_reclass(&a->t, a->base, a->has_idle, -1);
	return 0;
}

/* See cgroup_agent.h. */
int cga_batch_reclass(struct cga *a, uid_t uid, const char *batch,
		      enum policy_weight w, char *err, size_t errlen)
{
	char brel[CGA_REL];
	int i, r;

	if (!cga_batch_ok(batch)) {
		errmsg_set(err, errlen, "bad batch name");
		return -EINVAL;
	}
	cga_batch_rel(a, uid, batch, 0, brel, sizeof(brel));
	for (i = 0; i < a->t.nh; i++) {
		if (!(a->t.h[i].ctrls & CG_CPU))
			continue;
		r = cg_set_class(&a->t, &a->t.h[i], brel, w, a->has_idle, 0,
				 err, errlen);
		if (r < 0)
			return r;
	}
	cg_base_reclass(&a->t, a->base, a->has_idle, -1);
	return 0;
}

/* See cgroup_agent.h. */
int cga_batch_class(struct cga *a, uid_t uid, const char *batch,
		    enum policy_weight *w)
{
	const struct cg_hier *h = cg_find(&a->t, CG_CPU);
	char brel[CGA_REL], path[PATH_MAX];

	if (!h)
		return -ENOTSUP;
	if (!cga_batch_ok(batch))
		return -EINVAL;
	cga_batch_rel(a, uid, batch, 0, brel, sizeof(brel));
	if (cg_path(path, sizeof(path), h, brel, NULL) < 0 || !cg_exists(path))
		return -ENOENT;
	*w = cg_class_of(h, brel);
	return 0;
}

/* Move pid into the batch's owner leaf in every hierarchy. */
int cga_batch_place(struct cga *a, uid_t uid, const char *batch, pid_t pid,
		    char *err, size_t errlen)
{
	char orel[CGA_REL], val[24];
	int i, r;

	if (!cga_batch_ok(batch) || pid <= 0) {
		errmsg_set(err, errlen, "bad batch or pid");
		return -EINVAL;
	}
	cga_batch_rel(a, uid, batch, 1, orel, sizeof(orel));
	snprintf(val, sizeof(val), "%ld", (long)pid);
	for (i = 0; i < a->t.nh; i++) {
		r = cg_write(&a->t, &a->t.h[i], orel, "cgroup.procs", val, err,
			     errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

/* <base>/held's cgroup.procs in every hierarchy (see header). */
int cga_held_procs(struct cga *a, int *fds, int max, char *err,
		   size_t errlen)
{
	char rel[CGA_REL];
	struct cg_hier *h;
	int i, r, n = 0;

	snprintf(rel, sizeof(rel), "%s/" CGA_HELD, a->base);
	for (i = 0; i < a->t.nh; i++) {
		h = &a->t.h[i];
		r = cg_mkdir(&a->t, h, rel, err, errlen);
		if (r < 0 && r != -EEXIST)
			goto fail;
		if (r == 0 && !h->v2 &&
		    (r = cg_parent_setup(&a->t, h, rel, a->base, err,
					 errlen)) < 0)
			goto fail;
		if (n >= max) {
			errmsg_set(err, errlen, "too many hierarchies");
			r = -E2BIG;
			goto fail;
		}
		if ((r = cg_open_procs(h, rel, err, errlen)) < 0)
			goto fail;
		fds[n++] = r;
	}
	return n;
fail:
	while (n > 0)
		close(fds[--n]);
	return r;
}

/* 1 when pid is listed in the owner leaf's cgroup.procs. */
int cga_batch_owned_by(struct cga *a, uid_t uid, const char *batch,
		       pid_t pid)
{
	char orel[CGA_REL], buf[65536], *p;
	long q;

	if (!cga_batch_ok(batch) || pid <= 0)
		return 0;
	cga_batch_rel(a, uid, batch, 1, orel, sizeof(orel));
	if (cg_read(cg_tracker(&a->t), orel, "cgroup.procs", buf,
		    sizeof(buf)) < 0)
		return 0;
	for (p = buf; (q = cg_next_pid(&p)) > 0;)
		if (q == (long)pid)
			return 1;
	return 0;
}

/* SIGKILL what sits in the batch group itself (not in a task's or the
 * owner's leaf; nothing should, but a process moved there by hand must not
 * escape a kill), again for up to a second unless once: how many were
 * there at first. */
static int cga_kill_direct(struct cga *a, const char *brel, int once)
{
	const struct cg_hier *h = cg_tracker(&a->t);
	char buf[65536], *p;
	int64_t until = cg_now_ms() + 1000;
	int n, first = -1;
	long pid;

	do {
		n = 0;
		if (cg_read(h, brel, "cgroup.procs", buf, sizeof(buf)) < 0)
			break;
		for (p = buf; (pid = cg_next_pid(&p)) > 0;) {
			n++;
			if (pid != getpid())
				kill((pid_t)pid, SIGKILL);
		}
		if (first < 0)
			first = n;
		if (n && !once)
			cg_sleep_ms(2);
	} while (n && !once && cg_now_ms() < until && !h->fake);
	return first < 0 ? 0 : first;
}

/* Kill the batch's task groups (every subgroup but the owner leaf) and
 * what sits in the batch group itself: until gone (cg_kill), or one round
 * (cg_kill_round). The number of processes found, or the first -errno. */
static int cga_kill_tasks(struct cga *a, const char *brel, int once,
			  char *err, size_t errlen)
{
	const struct cg_hier *h = cg_tracker(&a->t);
	char sub[CGA_REL], path[PATH_MAX];
	struct dirent *de;
	int n = 0, r, ret = 0;
	DIR *d;

	cg_path(path, sizeof(path), h, brel, NULL);
	if (!(d = opendir(path))) {
		r = -errno;
		errmsg_set(err, errlen, "cannot list %s: %s", path,
			   strerror(-r));
		return r;
	}
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.' ||
		    !strcmp(de->d_name, CGA_OWNER))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", brel, de->d_name);
		if (once) {
			r = cg_kill_round(&a->t, sub, ret < 0 ? NULL : err,
					  errlen);
			n += r > 0 ? r : 0;
		} else {
			cg_path(path, sizeof(path), h, sub, NULL);
			r = cg_procs_walk(path, 0);
			n += r > 0 ? r : 0;
			r = cg_kill(&a->t, sub, ret < 0 ? NULL : err, errlen);
		}
		if (r < 0 && !ret)
			ret = r;
	}
	closedir(d);
	n += cga_kill_direct(a, brel, once);
	return ret < 0 ? ret : n;
}

/* Kill every process of the batch (keep_owner: not the owner leaf's). */
int cga_batch_kill(struct cga *a, uid_t uid, const char *batch,
		   int keep_owner, char *err, size_t errlen)
{
	const struct cg_hier *h = cg_tracker(&a->t);
	char brel[CGA_REL], path[PATH_MAX];
	int n, r;

	if (!cga_batch_ok(batch)) {
		errmsg_set(err, errlen, "bad batch name");
		return -EINVAL;
	}
	cga_batch_rel(a, uid, batch, 0, brel, sizeof(brel));
	if (keep_owner)
		return cga_kill_tasks(a, brel, 0, err, errlen);
	cg_path(path, sizeof(path), h, brel, NULL);
	n = cg_procs_walk(path, 0);
	r = cg_kill(&a->t, brel, err, errlen);
	return r < 0 ? r : n < 0 ? 0 : n;
}

/* One round of killing a batch's tasks; see cgroup_agent.h. */
int cga_batch_kill_round(struct cga *a, uid_t uid, const char *batch,
			 int keep_owner, char *err, size_t errlen)
{
	char brel[CGA_REL];

	if (!cga_batch_ok(batch)) {
		errmsg_set(err, errlen, "bad batch name");
		return -EINVAL;
	}
	cga_batch_rel(a, uid, batch, 0, brel, sizeof(brel));
	return keep_owner ? cga_kill_tasks(a, brel, 1, err, errlen)
			  : cg_kill_round(&a->t, brel, err, errlen);
}

/* Kill what is left, remove the batch's groups, reclass the base. */
int cga_batch_remove(struct cga *a, uid_t uid, const char *batch, char *err,
		     size_t errlen)
{
	char brel[CGA_REL];
	int i, r, ret;

	if (!cga_batch_ok(batch)) {
		errmsg_set(err, errlen, "bad batch name");
		return -EINVAL;
	}
	cga_batch_rel(a, uid, batch, 0, brel, sizeof(brel));
	ret = cg_kill(&a->t, brel, err, errlen);
	for (i = 0; i < a->t.nh; i++) {
		r = cg_rmtree(&a->t, &a->t.h[i], brel, ret < 0 ? NULL : err,
			      errlen);
		if (r < 0 && ret >= 0)
			ret = r;
	}
	cg_base_reclass(&a->t, a->base, a->has_idle, -1);
	return ret < 0 ? ret : 0;
}

/* CPU time of a batch, a user or the whole base. */
int cga_usage(struct cga *a, uid_t uid, const char *batch, uint64_t *ns)
{
	char rel[CGA_REL];

	if (batch) {
		if (!cga_batch_ok(batch))
			return -EINVAL;
		cga_batch_rel(a, uid, batch, 0, rel, sizeof(rel));
	} else if (uid != (uid_t)-1)
		cga_user_rel(a, uid, rel, sizeof(rel));
	else
		snprintf(rel, sizeof(rel), "%s", a->base);
	return cg_cpu_usage(&a->t, rel, ns);
}

/* The base in the hierarchy that accounts CPU time. */
const char *cga_base_cpu_path(const struct cga *a, char *buf, size_t len)
{
	const struct cg_hier *h = cg_find(&a->t, CG_CPUACCT);

	if (!h)
		h = cg_tracker(&a->t);
	return cg_path(buf, len, h, a->base, NULL) < 0 ? NULL : buf;
}

/* "user-<uid>": the uid, or -1. */
static long cga_parse_user(const char *name)
{
	char *end;
	long v;

	if (strncmp(name, "user-", 5) || name[5] < '0' || name[5] > '9')
		return -1;
	v = strtol(name + 5, &end, 10);
	return *end || v < 0 || v > (long)UINT32_MAX - 1 ? -1 : v;
}

/* "<name>-<pid>-<n>" with a name that is not empty: the pid, or 0. */
static pid_t cga_parse_batch(const char *name)
{
	const char *last = strrchr(name, '-'), *p, *q;
	long pid;

	if (!last || last == name || !last[1])
		return 0;
	for (p = last + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	for (q = last - 1; q > name && *q >= '0' && *q <= '9'; q--)
		;
	if (q == name || *q != '-' || q + 1 == last)
		return 0;
	pid = strtol(q + 1, NULL, 10);
	return pid > 0 && pid <= INT_MAX ? (pid_t)pid : 0;
}

/* Every batch under the base, from the tree's first hierarchy. */
int cga_scan(struct cga *a, cga_batch_fn fn, void *ctx, char *err,
	     size_t errlen)
{
	char path[PATH_MAX], urel[CGA_REL];
	struct dirent *de, *be;
	DIR *d, *ud;
	int n = 0, stop = 0, r;
	long uid;
	pid_t pid;

	cg_path(path, sizeof(path), &a->t.h[0], a->base, NULL);
	if (!(d = opendir(path))) {
		r = -errno;
		errmsg_set(err, errlen, "cannot list %s: %s", path,
			   strerror(-r));
		return r;
	}
	while (!stop && (de = readdir(d))) {
		if (de->d_type != DT_DIR || (uid = cga_parse_user(de->d_name)) < 0)
			continue;
		snprintf(urel, sizeof(urel), "%s/%s", a->base, de->d_name);
		cg_path(path, sizeof(path), &a->t.h[0], urel, NULL);
		if (!(ud = opendir(path)))
			continue;
		while (!stop && (be = readdir(ud))) {
			if (be->d_type != DT_DIR ||
			    !(pid = cga_parse_batch(be->d_name)))
				continue;
			n++;
			stop = fn(ctx, (uid_t)uid, be->d_name, pid) != 0;
		}
		closedir(ud);
	}
	closedir(d);
	return n;
}
