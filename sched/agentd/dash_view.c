/* sched/agentd/dash_view: what the dashboard's pages show, as JSON, from
 * what nicely-agent knows at its last tick: the sample (per PU: others'
 * load, held by the viewer's batches or another's; load average, CPU
 * pressure, memory), and the batches the viewer may see (their own, or
 * every user's for root and the [agent] admins) with their leases'
 * counts, a rate and ETA kept here from tick to tick, and why the agent
 * holds one back. User text goes through sched/jsonx.h; the page puts
 * it in as text, never as markup. Called by dash.c and on the tick. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/sampler.h"
#include "agent/topology.h"
#include "sched/agentd/agentd_int.h"
#include "sched/agentd/dash_int.h"
#include "sched/cgroup_agent.h"
#include "sched/jsonx.h"

#define MS 1000000ull
/* The rate is said once measured over at least this long. */
#define RATE_MIN_NS (1000 * MS)

/* 1 when who may see b. */
static int view_may(const struct dash_who *who, const struct agentd_batch *b)
{
	return !b->dead && (who->all || b->uid == who->uid);
}

/* The pace of batch name; NULL when not measured yet. */
static struct dash_rate *view_rate(struct dash *h, const char *name)
{
	for (size_t i = 0; i < h->nrates; i++)
		if (!strcmp(h->rates[i].name, name))
			return &h->rates[i];
	return NULL;
}

/* See dash_int.h. */
void dash_view_tick(struct dash *h)
{
	uint64_t now = loop_now_ns();
	size_t k = 0;

	for (size_t i = 0; i < h->nrates; i++)
		h->rates[i].seen = 0;
	for (struct agentd_batch *b = h->d->batches; b; b = b->next) {
		struct dash_rate *r;

		if (b->dead)
			continue;
		if (!(r = view_rate(h, b->name))) {
			struct dash_rate *nr = realloc(h->rates, (h->nrates + 1) *
						       sizeof *nr);
			if (!nr)
				continue;
			h->rates = nr;
			r = &h->rates[h->nrates++];
			memset(r, 0, sizeof *r);
			snprintf(r->name, sizeof r->name, "%s", b->name);
			r->done[0] = r->done[1] = b->done;
			r->t_ns[0] = r->t_ns[1] = now;
			r->rate = -1;
		}
		r->seen = 1;
		if (now - r->t_ns[1] >= DASH_RATE_WINDOW_MS * MS) {
			r->done[0] = r->done[1];
			r->t_ns[0] = r->t_ns[1];
			r->done[1] = b->done;
			r->t_ns[1] = now;
		}
		if (now - r->t_ns[0] >= RATE_MIN_NS) {
			double rate = (double)(b->done - r->done[0]) * 1e9 /
				      (double)(now - r->t_ns[0]);
			r->rate = rate > 0 ? rate : 0;
		}
	}
	for (size_t i = 0; i < h->nrates; i++)
		if (h->rates[i].seen)
			h->rates[k++] = h->rates[i];
	h->nrates = k;
}

/* Why the agent holds b back now ("" when it does not). */
static void view_reason(const struct dash *h, const struct agentd_batch *b,
			char *buf, size_t len)
{
	const struct agentd *d = h->d;
	int cap, held = 0;

	buf[0] = 0;
	if (b->killed) {
		snprintf(buf, len, "killed");
		return;
	}
	if (b->want <= b->holding || b->grant > b->holding)
		return;
	cap = policy_user_limit_pus(&d->ulimit,
				    agent_topology_nallowed(d->topo));
	for (const struct agentd_batch *o = d->batches; o; o = o->next)
		if (!o->dead && o->uid == b->uid)
			held += o->holding;
	if (cap > 0 && b->uid != 0 && held >= cap)
		snprintf(buf, len, "user limit %d PU%s", cap, cap == 1 ? "" : "s");
	else if (d->free_pus == 0)
		snprintf(buf, len, "no idle PU (others busy)");
	else if (d->users_wanting > 1)
		snprintf(buf, len, "fair share: %d idle PU%s split between %d "
			 "users", d->free_pus, d->free_pus == 1 ? "" : "s",
			 d->users_wanting);
	else
		snprintf(buf, len, "waiting for the next split");
}

/* The CPUs of set, ascending. */
static json_t *view_cpus(const uint64_t *set)
{
	json_t *a = json_array();

	for (int w = 0; a && w < AGENT_CPU_WORDS; w++)
		for (int k = 0; k < 64 && set[w] >> k; k++)
			if (set[w] >> k & 1)
				json_array_append_new(a, json_integer(w * 64 + k));
	return a;
}

/* One batch as the pages show it. */
static json_t *view_batch(struct dash *h, const struct agentd_batch *b)
{
	const struct dash_rate *r = view_rate(h, b->name);
	long long queued = b->total >= 0 ? b->total - b->done - b->running : -1;
	double rate = r && r->rate >= 0 ? r->rate : -1;
	double eta = -1;
	char reason[160];
	json_t *o;

	if (queued < 0 && b->total >= 0)
		queued = 0;
	if (rate > 0 && b->total >= 0)
		eta = (double)(b->total - b->done) / rate;
	view_reason(h, b, reason, sizeof reason);
	o = json_pack("{s:s,s:i,s:s,s:i,s:s,s:s,s:i,s:i,s:i,s:i,s:I,s:I,"
		      "s:I,s:f,s:f,s:f,s:s,s:b,s:o}",
		      "user", b->user, "uid", (int)b->uid, "batch", b->name,
		      "pid", (int)b->pid, "preset", b->preset, "weight",
		      b->weight ? b->weight : "", "grant", b->grant,
		      "holding", b->holding, "want", b->want, "running",
		      b->running, "queued", (json_int_t)queued, "done",
		      (json_int_t)b->done, "total", (json_int_t)b->total,
		      "rate", rate, "eta_s", eta, "cpu_share", b->cpu_share,
		      "reason", reason, "killed", b->killed, "pus",
		      view_cpus(b->pus));
	if (o)
		jsonx_sets(o, "command", b->command ? b->command : "");
	return o;
}

/* See dash_int.h. */
json_t *dash_view_overview(struct dash *h, const struct dash_who *who)
{
	const struct agentd *d = h->d;
	const struct agent_snapshot *s = d->last;
	const struct agent_pu *pus = agent_topology_pus(d->topo);
	uint64_t mine[AGENT_CPU_WORDS] = { 0 }, theirs[AGENT_CPU_WORDS] = { 0 };
	json_t *o, *cpus = json_array(), *batches = json_array();
	char user[64];

	for (struct agentd_batch *b = d->batches; b; b = b->next) {
		if (b->dead)
			continue;
		for (int w = 0; w < AGENT_CPU_WORDS; w++)
			(view_may(who, b) ? mine : theirs)[w] |= b->pus[w];
		if (view_may(who, b) && batches)
			json_array_append_new(batches, view_batch(h, b));
	}
	for (int i = 0; s && cpus && i < s->npus; i++) {
		int os = pus[i].os_index;
		int bit = os >= 0 && os < AGENT_CPUS_MAX;
		json_array_append_new(cpus, json_pack(
			"{s:i,s:f,s:b,s:b,s:b}", "cpu", os, "others",
			s->valid ? s->pu[i].busy_others : 0.0, "online",
			s->pu[i].online, "ours",
			bit && (mine[os / 64] >> (os % 64) & 1), "nicely",
			bit && (theirs[os / 64] >> (os % 64) & 1)));
	}
	agentd_user_name(who->uid, user, sizeof user);
	o = json_pack("{s:s,s:b,s:I,s:i,s:s,s:o,s:o,s:i,s:i}", "user", user,
		      "all", who->all, "seq", (json_int_t)d->seq, "tick_ms",
		      d->tick_ms, "mode", d->mode, "cpus", cpus, "batches",
		      batches, "free_pus", d->free_pus, "users_wanting",
		      d->users_wanting);
	if (o && s) {
		json_object_set_new(o, "loadavg", json_pack("[f,f,f]",
			s->loadavg[0], s->loadavg[1], s->loadavg[2]));
		json_object_set_new(o, "psi", s->has_psi
				    ? json_real(s->psi_some_avg10) : json_null());
		json_object_set_new(o, "mem_total_kb",
				    json_integer((json_int_t)s->mem_total_kb));
		json_object_set_new(o, "mem_available_kb",
				    json_integer((json_int_t)s->mem_available_kb));
	}
	return o;
}

/* See dash_int.h. */
json_t *dash_view_batch(struct dash *h, const struct dash_who *who,
			const char *name)
{
	struct agentd_batch *b = agentd_batch_find(h->d, name);
	char group[512];
	json_t *o;

	if (!b || !view_may(who, b))
		return NULL;
	o = view_batch(h, b);
	agentd_batch_group(b, group, sizeof group);
	if (o)
		jsonx_sets(o, "group", group);
	return o;
}
