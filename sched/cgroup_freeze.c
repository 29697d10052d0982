/* sched/cgroup_freeze: freezing, thawing and killing what runs in a group
 * (a task's or a whole batch's) on every kind of tree: the v1 freezer or
 * cgroup2's cgroup.freeze, cgroup.kill or rounds of freeze, SIGKILL and
 * thaw. Part of the cgroup module's shim; called by cgroup_batch.c and
 * cgroup_task.c from the loop. */
#include "sched/cgroup_freeze.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "agent/errmsg.h"
#include "sched/cgroup_fs.h"

#define KILL_TIMEOUT_MS 5000
#define FREEZE_TIMEOUT_MS 2000

/* Freeze or thaw group rel: v1 freezer when the tree has one, else
 * cgroup.freeze. The write is the pause: from it on, no process of the
 * group (nor a child it forks) runs another user-space instruction; each
 * is trapped the next time it gets a CPU. The kernel confirms (cgroup.events
 * "frozen 1", freezer.state FROZEN) only once every process got there, and
 * a process of an idle-weight group on a CPU that others keep busy may not
 * get there for seconds. So wait_ms 0 returns at once; wait_ms > 0 waits
 * (not on fakes) that long for the confirmation, and -ETIMEDOUT without. */
int cg_freeze(const struct cg_tree *t, const char *rel, int frozen,
	      int wait_ms, char *err, size_t errlen)
{
	const struct cg_hier *h = cg_find(t, CG_FREEZER);
	const char *want;
	char buf[256];
	int64_t deadline;
	int r;

	if (!h) {
		errmsg_set(err, errlen, "no freezer in the cgroup tree at %s",
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
	errmsg_set(err, errlen, "cgroup %s/%s did not become %s within %d ms",
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

/* One round of killing group rel and below; see cgroup_freeze.h. Where
 * the tracking tree has cgroup.kill it is written (and a v1 freezer, if
 * the tree mixes one in, thawed: a frozen task does not die of SIGKILL
 * until it is thawed); else freeze, SIGKILL every listed pid, thaw
 * (frozen, nothing can fork or exit between the listing and the kill). */
int cg_kill_round(const struct cg_tree *t, const char *rel, char *err,
		  size_t errlen)
{
	const struct cg_hier *h = cg_tracker(t), *fz = cg_find(t, CG_FREEZER);
	char path[PATH_MAX];
	int n, r;

	/* cgroup2 says in one file whether anything runs in it or below */
	if (h->v2 && !h->fake && cg_read(h, rel, "cgroup.events", path,
					 sizeof(path)) > 0 &&
	    strstr(path, "populated 0"))
		return 0;
	if (cg_path(path, sizeof(path), h, rel, "cgroup.kill") < 0) {
		errmsg_set(err, errlen, "cgroup path too long: %s", rel);
		return -ENAMETOOLONG;
	}
	if (h->v2 && cg_exists(path)) {
		cg_path(path, sizeof(path), h, rel, NULL);
		if ((n = cg_procs_walk(path, 0)) <= 0)
			goto counted;
		r = cg_write(t, h, rel, "cgroup.kill", "1", err, errlen);
		if (r < 0)
			return r;
		if (fz && !fz->v2)
			cg_thaw_tree(t, fz, rel);
		return n;
	}
	cg_path(path, sizeof(path), h, rel, NULL);
	if ((n = cg_procs_walk(path, 0)) <= 0)
		goto counted;
	if (fz)
		cg_freeze(t, rel, 1, FREEZE_TIMEOUT_MS, NULL, 0);
	cg_procs_walk(path, SIGKILL);
	if (fz && !fz->v2)
		cg_thaw_tree(t, fz, rel);
	else if (fz)
		cg_freeze(t, rel, 0, 0, NULL, 0);
	return n;
counted:
	if (n < 0)	/* every error says what it is */
		errmsg_set(err, errlen, "cannot read the processes of cgroup "
			   "%s: %s", path, strerror(-n));
	return n;
}

/* Kill every process in group rel and below, until none is left: rounds
 * of cg_kill_round, each followed by a wait for the group to empty (a
 * second where cgroup.kill does the killing, 2 ms else: what forked
 * between a listing and its kill without a freezer goes in the next
 * round). Bounded by KILL_TIMEOUT_MS. */
int cg_kill(const struct cg_tree *t, const char *rel, char *err,
	    size_t errlen)
{
	const struct cg_hier *h = cg_tracker(t);
	int64_t deadline = cg_now_ms() + KILL_TIMEOUT_MS, until;
	int wait_ms = h->v2 ? 1000 : 2;
	char path[PATH_MAX];
	int n;

	if (cg_path(path, sizeof(path), h, rel, NULL) < 0) {
		errmsg_set(err, errlen, "cgroup path too long: %s", rel);
		return -ENAMETOOLONG;
	}
	for (;;) {
		n = cg_kill_round(t, rel, err, errlen);
		if (n <= 0)
			return n;
		if (cg_now_ms() > deadline)
			break;
		until = cg_now_ms() + wait_ms;
		while (cg_procs_walk(path, 0) > 0 && cg_now_ms() < until)
			cg_sleep_ms(2);
	}
	errmsg_set(err, errlen,
		   "cgroup %s still holds %d process(es) after %d ms of killing",
		   path, n, KILL_TIMEOUT_MS);
	return -EBUSY;
}
