/* sched/agentd/agentd_batch: the batches nicely-agent placed: made in the
 * user's group under the admin's fence (sched/cgroup_agent.h), their
 * owner watched by pidfd for the batch's life, the fair split of idle PUs
 * each tick (share.c), killed on request, removed when the owner exits,
 * and found again in the tree after a restart. Called from the agent's
 * loop; a batch whose owner exited is freed between rounds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "agent/errmsg.h"
#include "agent/topology.h"
#include "sched/agent_proto.h"
#include "sched/agentd/agentd_int.h"
#include "sched/agentd/share.h"
#include "sched/cgroup_agent.h"

const char *const agentd_weight_names[3] = { "idle", "low", "normal" };

/* "<base>/user-<uid>/<name>" */
void agentd_batch_group(const struct agentd_batch *b, char *buf, size_t len)
{
	snprintf(buf, len, "%s/" AGENT_USER_PREFIX "%u/%s",
		 cga_base(b->d->cga), (unsigned)b->uid, b->name);
}

/* The owner exited: the batch goes at the next reap. */
static void batch_on_owner(struct loop_watch *w, uint32_t ev)
{
	struct agentd_batch *b = (struct agentd_batch *)((char *)w -
			offsetof(struct agentd_batch, pw));

	(void)ev;
	if (b->dead)
		return;
	b->dead = 1;
	loop_del(&b->d->loop, &b->pw);
}

/* Watch the owner's pidfd. */
int agentd_batch_watch(struct agentd_batch *b)
{
	return loop_add(&b->d->loop, &b->pw, b->pidfd, EPOLLIN,
			batch_on_owner);
}

/* A batch by name. */
struct agentd_batch *agentd_batch_find(struct agentd *d, const char *name)
{
	for (struct agentd_batch *b = d->batches; b; b = b->next)
		if (!strcmp(b->name, name))
			return b;
	return NULL;
}

/* The user limits the admin's [limits] give every user. */
static void batch_user_limits(struct agentd *d, struct cga_user_limits *lim)
{
	memset(lim, 0, sizeof *lim);
	lim->max_pus = policy_user_limit_pus(&d->ulimit,
					     agent_topology_nallowed(d->topo));
}

/* A new batch struct (not linked). */
static struct agentd_batch *batch_new(struct agentd *d, uid_t uid,
				      const char *user, const char *name,
				      pid_t pid, int pidfd)
{
	struct agentd_batch *b = calloc(1, sizeof *b);

	if (!b)
		return NULL;
	b->d = d;
	b->uid = uid;
	snprintf(b->user, sizeof b->user, "%s", user);
	snprintf(b->name, sizeof b->name, "%s", name);
	b->pid = pid;
	b->pidfd = pidfd;
	b->pw.fd = -1;
	b->total = -1;
	return b;
}

/* Place a new batch. */
int agentd_batch_open(struct agentd *d, struct agentd_conn *c, int pidfd,
		      pid_t pid, const struct agentd_open *op,
		      struct agentd_batch **out, char *note, size_t notelen,
		      char *err, size_t errlen)
{
	struct cga_user_limits lim;
	enum policy_weight w = op->weight;
	char user[64], name[160];
	struct agentd_batch *b;
	size_t noff = 0;
	int e;

	*out = NULL;
	note[0] = 0;
	if (c->uid != 0) {
		int n = 0;
		for (struct agentd_batch *o = d->batches; o; o = o->next)
			n += !o->dead && o->uid == c->uid;
		if (n >= AGENT_BATCHES_PER_UID) {
			errmsg_set(err, errlen, "you have %d batches already "
				   "(at most %d at once)", n,
				   AGENT_BATCHES_PER_UID);
			close(pidfd);
			return -EUSERS;
		}
	}
	if (w > d->fence.max_weight) {
		noff += (size_t)snprintf(note + noff, notelen - noff,
				 "weight %s lowered to %s ([limits] "
				 "max_preset)", agentd_weight_names[w],
				 agentd_weight_names[d->fence.max_weight]);
		w = d->fence.max_weight;
	}
	if (d->fence.min_nice >= 0 && op->nice < d->fence.min_nice &&
	    noff < notelen)
		noff += (size_t)snprintf(note + noff, notelen - noff,
				 "%snice %d is below the admin's limit: tasks "
				 "must run at nice %d or higher",
				 noff ? "; " : "", op->nice,
				 d->fence.min_nice);
	/* a limit no hierarchy can hold is said, not skipped in silence
	 * (on cgroup2: the controller is not enabled above the agent) */
	if (op->cpus && *op->cpus && !cga_has(d->cga, "cpuset") &&
	    noff < notelen)
		noff += (size_t)snprintf(note + noff, notelen - noff,
				 "%scpus %.64s not fenced: the agent's cgroup "
				 "tree has no cpuset controller (tasks are "
				 "still pinned)", noff ? "; " : "", op->cpus);
	if (op->memory_max && !cga_has(d->cga, "memory") && noff < notelen)
		snprintf(note + noff, notelen - noff, "%smemory_max not "
			 "applied: the agent's cgroup tree has no memory "
			 "controller", noff ? "; " : "");
	batch_user_limits(d, &lim);
	if ((e = cga_user_ensure(d->cga, c->uid, &lim, err, errlen)) < 0)
		goto fail;
	agentd_user_name(c->uid, user, sizeof user);
	for (int tries = 0;; tries++) {
		snprintf(name, sizeof name, "%s-%d-%lu", user, (int)pid,
			 ++d->nbatch);
		e = cga_batch_make(d->cga, c->uid, c->gid, name, w,
				   op->memory_max, op->cpus, err, errlen);
		if (e != -EEXIST || tries > 1000)
			break;
	}
	if (e < 0)
		goto fail_user;
	if ((e = cga_batch_place(d->cga, c->uid, name, pid, err,
				 errlen)) < 0)
		goto fail_batch;
	/* the pid read from the pidfd is that process only while it lives:
	 * check it still does now that it was moved */
	if (!agentd_pidfd_alive(pidfd)) {
		errmsg_set(err, errlen, "process %d exited while it was "
			   "placed", (int)pid);
		e = -ESRCH;
		goto fail_batch;
	}
	b = batch_new(d, c->uid, user, name, pid, pidfd);
	if (!b) {
		errmsg_set(err, errlen, "out of memory");
		e = -ENOMEM;
		goto fail_batch;
	}
	snprintf(b->preset, sizeof b->preset, "%s", op->preset ? op->preset
							       : "");
	b->weight = agentd_weight_names[w];
	b->asked = op->weight;
	b->asked_known = 1;
	if (op->command) {
		size_t n = op->command_len > AGENT_TEXT_MAX ? AGENT_TEXT_MAX
							    : op->command_len;
		while (n < op->command_len && n > 0 &&
		       ((unsigned char)op->command[n] & 0xc0) == 0x80)
			n--;	/* cut at a character boundary */
		b->command = malloc(n + 1);
		if (b->command) {
			memcpy(b->command, op->command, n);
			b->command[n] = 0;
		}
	}
	if ((e = agentd_batch_watch(b)) < 0) {
		errmsg_set(err, errlen, "cannot watch process %d: %s",
			   (int)pid, strerror(-e));
		free(b->command);
		free(b);
		goto fail_batch;
	}
	cga_usage(d->cga, b->uid, b->name, &b->cpu_ns);
	b->conn = c;
	c->batch = b;
	b->next = d->batches;
	d->batches = b;
	agentd_log(6, "placed batch %s (uid %u, process %d, %s)", name,
		   (unsigned)c->uid, (int)pid, b->weight);
	*out = b;
	return 0;
fail_batch:
	{
		char e2[256];
		cga_batch_remove(d->cga, c->uid, name, e2, sizeof e2);
	}
fail_user:
	cga_user_remove_if_empty(d->cga, c->uid);
fail:
	close(pidfd);
	return e;
}

/* Write the user limits again on each user's group that has batches. */
void agentd_batch_refence(struct agentd *d)
{
	struct cga_user_limits lim;
	char err[512];

	batch_user_limits(d, &lim);
	for (struct agentd_batch *b = d->batches; b; b = b->next) {
		enum policy_weight w = b->asked;
		int seen = 0;

		if (b->dead)
			continue;
		/* the CPU class under the fence as it is now: lowered to
		 * [limits] max_preset's, or back up to what was asked */
		if (w > d->fence.max_weight)
			w = d->fence.max_weight;
		if (b->asked_known && b->weight != agentd_weight_names[w]) {
			if (cga_batch_reclass(d->cga, b->uid, b->name, w, err,
					      sizeof err) < 0) {
				agentd_log(4, "batch %s: %s", b->name, err);
			} else {
				agentd_log(5, "batch %s: CPU class %s now "
					   "([limits] max_preset)", b->name,
					   agentd_weight_names[w]);
				b->weight = agentd_weight_names[w];
			}
		}
		for (struct agentd_batch *o = d->batches; o != b; o = o->next)
			seen |= !o->dead && o->uid == b->uid;
		if (!seen && cga_user_ensure(d->cga, b->uid, &lim, err,
					     sizeof err) < 0)
			agentd_log(4, "user %u: %s", (unsigned)b->uid, err);
	}
	agentd_batch_split(d);
}

static int64_t now_ms(void)
{
	return (int64_t)(loop_now_ns() / 1000000u);
}

/* Kill a batch's tasks, not its owner: see agentd_int.h. */
void agentd_batch_kill(struct agentd_batch *b)
{
	b->killed = 1;
	if (!b->killing) {
		b->killing = 1;
		b->kill_until_ms = now_ms() + AGENTD_KILL_MS;
	}
	b->d->kill_next_ms = 0;	/* the first round at once */
	agentd_batch_kill_step(b->d);
}

/* One kill round for b: 1 while something is left. */
static int batch_kill_round(struct agentd_batch *b, int64_t now)
{
	char err[512] = "";
	int n = cga_batch_kill_round(b->d->cga, b->uid, b->name, !b->dead,
				     err, sizeof err);

	if (n > 0 && now < b->kill_until_ms)
		return 1;
	b->killing = 0;
	if (n < 0)
		agentd_log(4, "killing batch %s: %s", b->name, err);
	else if (n > 0)
		agentd_log(4, "batch %s: %d process(es) still there after %d "
			   "ms of killing", b->name, n, AGENTD_KILL_MS);
	else if (!b->dead)
		agentd_log(5, "killed the tasks of batch %s", b->name);
	return 0;
}

/* See agentd_int.h. */
int agentd_batch_kill_step(struct agentd *d)
{
	int64_t now = now_ms();
	int left = 0;

	if (now < d->kill_next_ms)
		return (int)(d->kill_next_ms - now);
	for (struct agentd_batch *b = d->batches; b; b = b->next)
		if (b->killing)
			left |= batch_kill_round(b, now);
	d->kill_next_ms = left ? now + AGENTD_KILL_ROUND_MS : 0;
	return left ? AGENTD_KILL_ROUND_MS : -1;
}

int agentd_batch_killing(struct agentd *d, long uid, const char *name)
{
	for (struct agentd_batch *b = d->batches; b; b = b->next)
		if (b->killing && (name ? !strcmp(b->name, name)
					: b->uid == (uid_t)uid))
			return 1;
	return 0;
}

/* The tick: CPU shares, then the split. */
void agentd_batch_tick(struct agentd *d, int free_pus, uint64_t interval_ns)
{
	int npus = agent_topology_npus(d->topo);

	for (struct agentd_batch *b = d->batches; b; b = b->next) {
		uint64_t ns = 0;

		if (b->dead)
			continue;
		if (cga_usage(d->cga, b->uid, b->name, &ns) == 0) {
			b->cpu_share = interval_ns && ns >= b->cpu_ns && npus
				? (double)(ns - b->cpu_ns) /
				  ((double)interval_ns * npus) : 0;
			b->cpu_ns = ns;
		}
	}
	d->free_pus = free_pus;
	agentd_batch_split(d);
}

/* Split the free PUs between the live batches' users, then batches. */
void agentd_batch_split(struct agentd *d)
{
	struct share_batch *sb;
	size_t n = 0, i = 0;
	int cap = policy_user_limit_pus(&d->ulimit,
					agent_topology_nallowed(d->topo));

	for (struct agentd_batch *b = d->batches; b; b = b->next)
		n += !b->dead;
	sb = n ? calloc(n, sizeof *sb) : NULL;
	if (!sb) {
		d->users_wanting = 0;
		return;
	}
	for (struct agentd_batch *b = d->batches; b; b = b->next) {
		if (b->dead)
			continue;
		sb[i].uid = b->uid;
		sb[i].want = b->killed ? 0 : b->want;
		sb[i].holding = b->holding;
		sb[i].cap = cap;
		i++;
	}
	d->users_wanting = share_split(d->free_pus, sb, n);
	i = 0;
	for (struct agentd_batch *b = d->batches; b; b = b->next)
		if (!b->dead)
			b->grant = sb[i++].grant;
	free(sb);
}

/* Free one batch struct (its groups are the caller's business). */
static void batch_free(struct agentd_batch *b)
{
	if (b->pidfd >= 0) {
		if (!b->dead && b->pw.fd >= 0)
			loop_del(&b->d->loop, &b->pw);
		close(b->pidfd);
	}
	if (b->conn && b->conn->batch == b)
		b->conn->batch = NULL;
	free(b->command);
	free(b);
}

/* Remove the batches whose owner is gone: what is left of them is killed
 * first, in rounds between loop rounds as a "kill" is (not in place: the
 * peers are served meanwhile). */
void agentd_batch_reap(struct agentd *d)
{
	struct agentd_batch **pp = &d->batches;
	char err[512];
	int gone = 0;

	while (*pp) {
		struct agentd_batch *b = *pp;
		if (!b->dead || b->killing) {
			pp = &b->next;
			continue;
		}
		if (!b->reap_killed) {	/* once: the whole of it */
			int64_t now = now_ms();

			b->reap_killed = 1;
			b->killing = 1;
			b->kill_until_ms = now + AGENTD_KILL_MS;
			if (batch_kill_round(b, now)) {
				d->kill_next_ms = now + AGENTD_KILL_ROUND_MS;
				pp = &b->next;
				continue;
			}
		}
		*pp = b->next;
		if (cga_batch_remove(d->cga, b->uid, b->name, err,
				     sizeof err) < 0)
			agentd_log(4, "batch %s: %s", b->name, err);
		else
			agentd_log(6, "batch %s ended (its owner %d exited)",
				   b->name, (int)b->pid);
		cga_user_remove_if_empty(d->cga, b->uid);
		batch_free(b);
		gone = 1;
	}
	/* what it was granted goes to the others at once */
	if (gone)
		agentd_batch_split(d);
}

/* Free every batch struct; the groups stay for the next agent. */
void agentd_batch_free_all(struct agentd *d)
{
	while (d->batches) {
		struct agentd_batch *b = d->batches;
		d->batches = b->next;
		b->dead = 1;	/* not watched any more: the loop goes too */
		if (b->pw.fd >= 0)
			loop_del(&d->loop, &b->pw);
		batch_free(b);
	}
}

/* What a scan found. */
struct found {
	uid_t uid;
	char name[160];
	pid_t pid;
	struct found *next;
};

/* cga_scan's callback: note the batch. */
static int batch_found(void *ctx, uid_t uid, const char *batch,
		       pid_t owner_pid)
{
	struct found **list = ctx, *f = calloc(1, sizeof *f);

	if (!f || strlen(batch) >= sizeof f->name) {
		free(f);
		return 0;
	}
	f->uid = uid;
	snprintf(f->name, sizeof f->name, "%s", batch);
	f->pid = owner_pid;
	f->next = *list;
	*list = f;
	return 0;
}

/* Find a previous agent's batches again. */
void agentd_batch_rescan(struct agentd *d)
{
	struct found *list = NULL;
	char err[512];
	int kept = 0, removed = 0;

	if (cga_scan(d->cga, batch_found, &list, err, sizeof err) < 0)
		agentd_log(4, "cannot look for batches of an earlier agent: "
			   "%s", err);
	while (list) {
		struct found *f = list;
		struct agentd_batch *b = NULL;
		int fd = agentd_pidfd_open(f->pid);
		char user[64];

		list = f->next;
		if (fd >= 0 && cga_batch_owned_by(d->cga, f->uid, f->name,
						  f->pid)) {
			agentd_user_name(f->uid, user, sizeof user);
			b = batch_new(d, f->uid, user, f->name, f->pid, fd);
			if (b && agentd_batch_watch(b) == 0) {
				cga_usage(d->cga, b->uid, b->name, &b->cpu_ns);
				/* the class it has stands for the one asked
				 * (the fence lowers it, never above it) */
				if (cga_batch_class(d->cga, b->uid, b->name,
						    &b->asked) == 0) {
					b->asked_known = 1;
					b->weight = agentd_weight_names[b->asked];
				}
				b->next = d->batches;
				d->batches = b;
				kept++;
				agentd_log(6, "batch %s found again (owner %d "
					   "alive)", f->name, (int)f->pid);
				free(f);
				continue;
			}
			free(b);
		}
		if (fd >= 0)
			close(fd);
		if (cga_batch_remove(d->cga, f->uid, f->name, err,
				     sizeof err) < 0)
			agentd_log(4, "batch %s: %s", f->name, err);
		cga_user_remove_if_empty(d->cga, f->uid);
		removed++;
		agentd_log(6, "batch %s removed (its owner %d is gone)",
			   f->name, (int)f->pid);
		free(f);
	}
	if (kept || removed)
		agentd_log(5, "found %d batch%s of an earlier agent again, "
			   "removed %d whose owner is gone", kept,
			   kept == 1 ? "" : "es", removed);
}
