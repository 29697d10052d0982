/* sched/cli/topview: the data of `nicely top` (see topview.h): sample the
 * machine, ask nicely-agent and the caller's batches, turn their answers
 * into rows with rates and sorts, and carry out a row's controls (the
 * JSON document is topview_json.c's). Called by cli_top.c and top_tui.c
 * in the CLI process, between frames. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "agent/sampler.h"
#include "agent/topology.h"
#include "sched/agent_client.h"
#include "sched/ctl_proto.h"
#include "sched/jsonx.h"
#include "sched/proctree.h"
#include "sched/rundir.h"
#include "sched/cli/cli_agent.h"
#include "sched/cli/cli_batch.h"
#include "sched/cli/run_cgroup.h"
#include "sched/cli/topview.h"

/* How long a batch's control socket may take to answer a status. */
#define TOPVIEW_STATUS_MS 1000
/* How long nicely-agent may take to kill a batch. */
#define TOPVIEW_KILL_MS 30000

/* The done counts seen of one batch. */
struct topview_hist {
	pid_t pid;
	char id[32];
	int n;
	double t[TOPVIEW_HIST];
	long long done[TOPVIEW_HIST];
	int seen;		/* in the last gather */
};

struct topview_priv {
	struct agent_topology *topo;
	struct agent_sampler *smp;
	int can_charge;		/* this machine's topology and /proc */
	struct topview_hist *h;
	size_t nh;
	struct agent_worker_ref *refs;
	size_t nrefs;
};

/* Monotonic seconds. */
static double topview_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Epoch seconds. */
static double topview_epoch(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Make the view. */
int topview_open(struct topview **out, const struct topview_opts *o,
		 char *err, size_t errlen)
{
	struct topview *v = calloc(1, sizeof *v);
	struct agent_sampler_opts so = { 0 };
	const char *procfs = getenv("NICELY_PROCFS");
	int rc;

	*out = NULL;
	if (!v || !(v->priv = calloc(1, sizeof *v->priv))) {
		free(v);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	run_cgroup_mode(v->mode, sizeof v->mode);
	rc = agent_topology_load(&v->priv->topo, o->topology, err, errlen);
	if (rc < 0) {
		topview_free(v);
		return rc;
	}
	v->topo = v->priv->topo;
	so.smooth_window = o->once ? 1 : 3;
	rc = agent_sampler_new(&v->priv->smp, v->topo, &so, err, errlen);
	if (rc < 0) {
		topview_free(v);
		return rc;
	}
	v->priv->can_charge = o->ours && agent_topology_is_thissystem(v->topo)
			      && (!procfs || !*procfs ||
				  !strcmp(procfs, "/proc"));
	v->ours_on = v->priv->can_charge;
	rc = agent_sampler_sample(v->priv->smp, 0, &v->snap, err, errlen);
	if (rc < 0) {
		topview_free(v);
		return rc;
	}
	*out = v;
	return 0;
}

/* Free the rows. */
static void topview_rows_free(struct topview *v)
{
	free(v->b);
	v->b = NULL;
	v->nb = 0;
}

void topview_free(struct topview *v)
{
	if (!v)
		return;
	topview_rows_free(v);
	json_decref(v->agent_list);
	if (v->priv) {
		agent_sampler_free(v->priv->smp);
		agent_topology_free(v->priv->topo);
		free(v->priv->h);
		free(v->priv->refs);
		free(v->priv);
	}
	free(v);
}

int topview_sample(struct topview *v, char *err, size_t errlen)
{
	return agent_sampler_sample(v->priv->smp, 0, &v->snap, err, errlen);
}

/* Integer member, -1 when missing. */
static long long topview_int(const json_t *o, const char *key)
{
	const json_t *x = json_object_get(o, key);

	return json_is_integer(x) ? (long long)json_integer_value(x) : -1;
}

/* o[key] for people into buf (cut to fit; control bytes as \xHH). */
static void topview_text(const json_t *o, const char *key, char *buf,
			 size_t len)
{
	char *s = jsonx_get_visible(o, key);

	snprintf(buf, len, "%s", s ? s : "");
	free(s);
}

/* A new row at the end of v->b; NULL when out of memory. */
static struct topview_batch *topview_row_add(struct topview *v)
{
	struct topview_batch *nb = realloc(v->b, (v->nb + 1) * sizeof *nb);

	if (!nb)
		return NULL;
	v->b = nb;
	memset(&nb[v->nb], 0, sizeof nb[v->nb]);
	nb[v->nb].uid = nb[v->nb].total = nb[v->nb].queued = -1;
	nb[v->nb].running = nb[v->nb].done = nb[v->nb].failed = -1;
	nb[v->nb].rate = nb[v->nb].eta = -1;
	snprintf(nb[v->nb].cpus, sizeof nb[v->nb].cpus, "-");
	return &nb[v->nb++];
}

/* The caller's batches over their control sockets: one row each. */
static void topview_ctl_rows(struct topview *v)
{
	char dir[4096], err[1024], me[64] = "";
	struct ctl_batch *cb = NULL;
	struct passwd *pw = getpwuid(geteuid());
	int n;

	if (pw)
		snprintf(me, sizeof me, "%s", pw->pw_name);
	else
		snprintf(me, sizeof me, "%u", (unsigned)geteuid());
	if (rundir_get(dir, sizeof dir, err, sizeof err) < 0)
		return;
	n = ctl_client_list(dir, &cb, err, sizeof err);
	if (n < 0)
		return;
	n = cli_batch_ctl_all(&cb, n);
	for (int i = 0; i < n; i++) {
		json_t *reply = NULL, *b;
		struct topview_batch *r;

		if (ctl_client_request(&cb[i], CTL_CMD_STATUS,
				       TOPVIEW_STATUS_MS, &reply, err,
				       sizeof err) < 0)
			continue;
		b = json_object_get(reply, "batch");
		if (!json_is_true(json_object_get(reply, "ok")) ||
		    !json_is_object(b) || !(r = topview_row_add(v))) {
			json_decref(reply);
			continue;
		}
		snprintf(r->id, sizeof r->id, "%s", cb[i].id);
		r->sock = cb[i];
		r->ctl = 1;
		snprintf(r->user, sizeof r->user, "%s", me);
		r->uid = (long long)geteuid();
		r->pid = (pid_t)topview_int(b, "pid");
		topview_text(b, "preset", r->preset, sizeof r->preset);
		topview_text(b, "state", r->state, sizeof r->state);
		topview_text(b, "reason", r->reason, sizeof r->reason);
		topview_text(b, "command", r->command, sizeof r->command);
		r->held = cli_agent_cpulist(json_object_get(b, "pus"), r->cpus,
				       sizeof r->cpus);
		r->total = topview_int(b, "total");
		r->queued = topview_int(b, "queued");
		r->running = topview_int(b, "running");
		r->done = topview_int(b, "done");
		r->failed = topview_int(b, "failed");
		r->start = json_number_value(json_object_get(b, "start"));
		/* unpinned tasks hold a PU each all the same */
		if (r->running > r->held)
			r->held = (int)r->running;
		json_decref(reply);
	}
	free(cb);
}

/* nicely-agent's batches: merged into the row of the same process, or a
 * row of their own (another user's, or a batch without a socket). */
static void topview_agent_rows(struct topview *v)
{
	size_t i;
	json_t *a;

	json_array_foreach(v->agent_list, i, a) {
		pid_t pid = (pid_t)topview_int(a, "pid");
		struct topview_batch *r = NULL;
		long long hold = topview_int(a, "holding");

		for (size_t k = 0; k < v->nb && !r; k++)
			if (v->b[k].pid == pid && pid > 0)
				r = &v->b[k];
		if (!r) {
			if (!(r = topview_row_add(v)))
				return;
			r->pid = pid;
			topview_text(a, "user", r->user, sizeof r->user);
			r->uid = topview_int(a, "uid");
			topview_text(a, "preset", r->preset, sizeof r->preset);
			topview_text(a, "command", r->command,
				     sizeof r->command);
			topview_text(a, "reason", r->reason, sizeof r->reason);
			cli_agent_cpulist(json_object_get(a, "pus"), r->cpus,
				     sizeof r->cpus);
			r->total = topview_int(a, "total");
			r->running = topview_int(a, "running");
			r->done = topview_int(a, "done");
			if (r->total >= 0 && r->done >= 0 && r->running >= 0)
				r->queued = r->total - r->done - r->running;
			if (r->queued < -1)
				r->queued = 0;
		}
		topview_text(a, "batch", r->agent, sizeof r->agent);
		if (hold >= 0)
			r->held = (int)hold;
	}
}

/* The rate of one batch from its history; see topview.h. */
double topview_rate(const double *t, const long long *done, int n,
		    double start, double now)
{
	if (n >= 2) {
		int k = 0;

		while (k < n - 1 && t[n - 1] - t[k] > TOPVIEW_RATE_WINDOW)
			k++;
		if (t[n - 1] - t[k] >= 1.0 && done[n - 1] > done[k])
			return (double)(done[n - 1] - done[k]) /
			       (t[n - 1] - t[k]);
	}
	if (n >= 1 && start > 0 && now - start >= 1.0 && done[n - 1] > 0)
		return (double)done[n - 1] / (now - start);
	return -1;
}

/* Rates and ETAs from the history (kept for the batches still there). */
static void topview_rates(struct topview *v)
{
	struct topview_priv *p = v->priv;
	double mono = topview_mono(), now = topview_epoch();

	for (size_t i = 0; i < p->nh; i++)
		p->h[i].seen = 0;
	for (size_t i = 0; i < v->nb; i++) {
		struct topview_batch *r = &v->b[i];
		struct topview_hist *h = NULL;

		for (size_t k = 0; k < p->nh && !h; k++)
			if (p->h[k].pid == r->pid && !strcmp(p->h[k].id, r->id))
				h = &p->h[k];
		if (!h) {
			struct topview_hist *nh = realloc(p->h, (p->nh + 1) *
							  sizeof *nh);
			if (!nh)
				continue;
			p->h = nh;
			h = &p->h[p->nh++];
			memset(h, 0, sizeof *h);
			h->pid = r->pid;
			snprintf(h->id, sizeof h->id, "%s", r->id);
		}
		h->seen = 1;
		if (r->done < 0)
			continue;
		if (h->n == TOPVIEW_HIST) {
			memmove(h->t, h->t + 1, (TOPVIEW_HIST - 1) * sizeof *h->t);
			memmove(h->done, h->done + 1,
				(TOPVIEW_HIST - 1) * sizeof *h->done);
			h->n--;
		}
		h->t[h->n] = mono;
		h->done[h->n++] = r->done;
		r->rate = topview_rate(h->t, h->done, h->n, r->start, now);
		long long left = r->queued >= 0 && r->running >= 0
					 ? r->queued + r->running
				 : r->total >= 0 ? r->total - r->done : -1;
		if (left == 0)
			r->eta = 0;
		else if (left > 0 && r->rate > 0)
			r->eta = (double)left / r->rate;
	}
	/* forget batches that are gone */
	size_t k = 0;
	for (size_t i = 0; i < p->nh; i++)
		if (p->h[i].seen)
			p->h[k++] = p->h[i];
	p->nh = k;
}

/* Count the processes of the rows' batches as ours from the next sample:
 * each batch's `nicely run` and everything under it. */
static void topview_charge(struct topview *v)
{
	struct topview_priv *p = v->priv;
	struct proctree pt = { 0 };
	size_t n = 0;

	if (!p->can_charge)
		return;
	if (proctree_read(&pt) == 0) {
		for (size_t i = 0; i < v->nb; i++)
			if (v->b[i].pid > 0)
				proctree_mark_tree(&pt, v->b[i].pid);
		for (size_t i = 0; i < pt.n; i++)
			n += pt.p[i].mark != 0;
		if (n > p->nrefs) {
			struct agent_worker_ref *nr = realloc(p->refs,
							      n * sizeof *nr);
			if (!nr)
				n = 0;
			else {
				p->refs = nr;
				p->nrefs = n;
			}
		}
		n = n > p->nrefs ? 0 : n;
		size_t k = 0;
		for (size_t i = 0; i < pt.n && k < n; i++)
			if (pt.p[i].mark)
				p->refs[k++] = (struct agent_worker_ref){
					pt.p[i].pid, -1 };
		n = k;
	}
	proctree_free(&pt);
	agent_sampler_set_workers(p->smp, p->refs, n);
}

void topview_gather(struct topview *v, int rows)
{
	char err[512];

	json_decref(v->agent_list);
	v->agent_list = NULL;
	v->every = 0;
	if (cli_agent_list(-1, &v->agent_list, &v->every, err, sizeof err) < 0)
		v->agent_list = NULL;
	topview_rows_free(v);
	if (rows) {
		topview_ctl_rows(v);
		if (v->agent_list)
			topview_agent_rows(v);
		topview_rates(v);
		topview_sort(v, TOPVIEW_SORT_ID);
	}
	topview_charge(v);
}

static const char *const topview_sort_names[TOPVIEW_SORT_N] = {
	"batch", "user", "PUs", "progress", "rate", "ETA",
};

const char *topview_sort_name(enum topview_sort k)
{
	return k < TOPVIEW_SORT_N ? topview_sort_names[k] : "?";
}

/* Done share of a row, -1 when not known. */
static double topview_progress(const struct topview_batch *r)
{
	return r->total > 0 && r->done >= 0 ? (double)r->done /
						      (double)r->total
					    : -1;
}

/* -1, 0, 1 as a < b, a == b, a > b. */
static int topview_cmp_d(double a, double b)
{
	return (a > b) - (a < b);
}

static enum topview_sort topview_sort_key;

/* qsort's comparison under topview_sort_key; ties by start, then id. */
static int topview_cmp(const void *pa, const void *pb)
{
	const struct topview_batch *a = pa, *b = pb;
	int c = 0;

	switch (topview_sort_key) {
	case TOPVIEW_SORT_USER:
		c = strcmp(a->user, b->user);
		break;
	case TOPVIEW_SORT_PUS:
		c = b->held - a->held;
		break;
	case TOPVIEW_SORT_PROGRESS:
		c = topview_cmp_d(topview_progress(b), topview_progress(a));
		break;
	case TOPVIEW_SORT_RATE:
		c = topview_cmp_d(b->rate, a->rate);
		break;
	case TOPVIEW_SORT_ETA:
		/* unknown (-1) last */
		c = (a->eta < 0) - (b->eta < 0);
		if (!c)
			c = topview_cmp_d(a->eta, b->eta);
		break;
	default:
		break;
	}
	if (!c)
		c = topview_cmp_d(a->start, b->start);
	if (!c)
		c = strcmp(a->id, b->id);
	if (!c)
		c = (a->pid > b->pid) - (a->pid < b->pid);
	return c;
}

void topview_sort(struct topview *v, enum topview_sort k)
{
	topview_sort_key = k < TOPVIEW_SORT_N ? k : TOPVIEW_SORT_ID;
	if (v->nb > 1)
		qsort(v->b, v->nb, sizeof *v->b, topview_cmp);
}

/* A control over the batch's socket. */
static int topview_ctl(const struct topview_batch *b, const char *cmd,
		       char *msg, size_t msglen)
{
	char err[1024];
	json_t *reply = NULL;
	int rc;

	rc = ctl_client_request(&b->sock, cmd, -1, &reply, err, sizeof err);
	if (rc < 0) {
		snprintf(msg, msglen, "%s batch %s: %s", cmd, b->id, err);
		return rc;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		char *m = jsonx_get_visible(reply, "error");

		snprintf(msg, msglen, "%s batch %s refused: %s", cmd, b->id,
			 m && *m ? m : "no reason given");
		free(m);
		json_decref(reply);
		return -EPERM;
	}
	if (!strcmp(cmd, CTL_CMD_KILL))
		snprintf(msg, msglen, "batch %s killed (%lld running task%s)",
			 b->id, topview_int(reply, "killed"),
			 topview_int(reply, "killed") == 1 ? "" : "s");
	else if (!json_is_true(json_object_get(reply, "changed")))
		snprintf(msg, msglen, "batch %s was %s already", b->id,
			 !strcmp(cmd, CTL_CMD_PAUSE) ? "paused" : "running");
	else
		snprintf(msg, msglen, "batch %s %s (%lld task%s %s)", b->id,
			 !strcmp(cmd, CTL_CMD_PAUSE) ? "paused" : "resumed",
			 topview_int(reply, "tasks"),
			 topview_int(reply, "tasks") == 1 ? "" : "s",
			 !strcmp(cmd, CTL_CMD_PAUSE) ? "frozen" : "thawed");
	json_decref(reply);
	return 0;
}

int topview_control(const struct topview_batch *b, const char *cmd,
		    char *msg, size_t msglen)
{
	struct agent_client_opts o = AGENT_CLIENT_OPTS_INIT;
	struct agent_client *c;
	char err[1024];
	int n = 0, rc;

	if (b->ctl)
		return topview_ctl(b, cmd, msg, msglen);
	if (strcmp(cmd, CTL_CMD_KILL) || !b->agent[0]) {
		snprintf(msg, msglen, "%s batch %s of %s: only its owner can "
			 "(through its control socket: nicely %s on their "
			 "side)%s", cmd, b->agent[0] ? b->agent : "?", b->user,
			 cmd, b->agent[0] ? "; an admin can kill it" : "");
		return -EPERM;
	}
	o.timeout_ms = TOPVIEW_KILL_MS;
	if ((rc = agent_client_connect(&c, &o, err, sizeof err)) < 0) {
		snprintf(msg, msglen, "kill batch %s: %s", b->agent, err);
		return rc;
	}
	rc = agent_client_kill(c, b->agent, NULL, &n, err, sizeof err);
	agent_client_free(c);
	if (rc < 0) {
		snprintf(msg, msglen, "kill batch %s refused: %s", b->agent,
			 err);
		return rc == -EREMOTEIO ? -EPERM : rc;
	}
	snprintf(msg, msglen, "batch %s of %s killed through nicely-agent",
		 b->agent, b->user);
	return 0;
}
