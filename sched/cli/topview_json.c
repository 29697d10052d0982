/* sched/cli/topview_json: the JSON document of `nicely top --json` from
 * the view's data (topview.h): the machine as the line output describes
 * it, nicely-agent's list as it came, and the batch rows. Called by
 * cli_top.c between frames, in the CLI process. */
#include <jansson.h>

#include "agent/sampler.h"
#include "agent/topology.h"
#include "sched/jsonx.h"
#include "sched/cli/topview.h"

/* A number, or null when negative (not known). */
static json_t *topview_num(double x)
{
	return x < 0 ? json_null() : json_real(x);
}

static json_t *topview_count(long long x)
{
	return x < 0 ? json_null() : json_integer(x);
}

/* One row as JSON. */
static json_t *topview_row_json(const struct topview_batch *r)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	jsonx_sets(o, "id", r->id);
	jsonx_sets(o, "agent", r->agent);
	jsonx_sets(o, "user", r->user);
	json_object_set_new(o, "uid", topview_count(r->uid));
	json_object_set_new(o, "pid", json_integer(r->pid));
	jsonx_sets(o, "preset", r->preset);
	jsonx_sets(o, "state", r->state);
	jsonx_sets(o, "reason", r->reason);
	jsonx_sets(o, "command", r->command);
	jsonx_sets(o, "cpus", r->cpus);
	json_object_set_new(o, "held", json_integer(r->held));
	json_object_set_new(o, "total", topview_count(r->total));
	json_object_set_new(o, "queued", topview_count(r->queued));
	json_object_set_new(o, "running", topview_count(r->running));
	json_object_set_new(o, "done", topview_count(r->done));
	json_object_set_new(o, "failed", topview_count(r->failed));
	/* whole seconds: the document's reals carry 6 digits */
	json_object_set_new(o, "start", r->start > 0
				? json_integer((json_int_t)r->start)
				: json_null());
	json_object_set_new(o, "rate", topview_num(r->rate));
	json_object_set_new(o, "eta", topview_num(r->eta));
	json_object_set_new(o, "control", json_boolean(r->ctl));
	return o;
}

/* The machine's part of the document. */
static json_t *topview_machine_json(const struct agent_topology *t,
				    const struct agent_snapshot *snap)
{
	const struct agent_pu *pus = agent_topology_pus(t);
	int n = agent_topology_npus(t);
	json_t *root = json_object(), *topo = json_object();
	json_t *pairs = json_array(), *arr = json_array();

	/* the source names a user's file (xml:FILE): any bytes */
	jsonx_sets(topo, "source", agent_topology_source(t));
	json_object_set_new(topo, "thissystem",
			    json_boolean(agent_topology_is_thissystem(t)));
	json_object_set_new(topo, "packages", json_integer(agent_topology_npackages(t)));
	json_object_set_new(topo, "cores", json_integer(agent_topology_ncores(t)));
	json_object_set_new(topo, "pus", json_integer(n));
	json_object_set_new(topo, "allowed", json_integer(agent_topology_nallowed(t)));
	json_object_set_new(topo, "numa_nodes", json_integer(agent_topology_nnuma(t)));
	json_object_set_new(topo, "l3_caches", json_integer(agent_topology_nl3(t)));
	for (int i = 0; i < n; i++) {
		const struct agent_pu *p = &pus[i];
		const struct agent_pu_load *l = &snap->pu[i];
		json_t *pu = json_object(), *sib = json_array();
		int first = 1;

		for (int k = 0; k < p->nsiblings; k++) {
			json_array_append_new(sib, json_integer(p->siblings[k]));
			if (p->siblings[k] < i)
				first = 0;
		}
		if (p->nsiblings && first) {
			json_t *g = json_array();

			json_array_append_new(g, json_integer(p->os_index));
			for (int k = 0; k < p->nsiblings; k++)
				json_array_append_new(g, json_integer(pus[p->siblings[k]].os_index));
			json_array_append_new(pairs, g);
		}
		json_object_set_new(pu, "index", json_integer(i));
		json_object_set_new(pu, "os_index", json_integer(p->os_index));
		json_object_set_new(pu, "core", json_integer(p->core));
		json_object_set_new(pu, "package", json_integer(p->package));
		json_object_set_new(pu, "numa", p->numa >= 0 ? json_integer(p->numa) : json_null());
		json_object_set_new(pu, "l3", p->l3 >= 0 ? json_integer(p->l3) : json_null());
		json_object_set_new(pu, "allowed", json_boolean(p->allowed));
		json_object_set_new(pu, "online", json_boolean(l->online));
		json_object_set_new(pu, "siblings", sib);
		json_object_set_new(pu, "busy_others", json_real(l->busy_others));
		json_object_set_new(pu, "busy_ours", json_real(l->busy_ours));
		json_array_append_new(arr, pu);
	}
	json_object_set_new(topo, "smt_siblings", pairs);
	json_object_set_new(root, "topology", topo);
	json_object_set_new(root, "interval_ms",
			    json_real((double)snap->interval_ns / 1e6));
	json_object_set_new(root, "pus", arr);
	json_object_set_new(root, "loadavg",
			    json_pack("[fff]", snap->loadavg[0], snap->loadavg[1],
				      snap->loadavg[2]));
	json_object_set_new(root, "procs_running", json_integer(snap->procs_running));
	if (snap->has_psi)
		json_object_set_new(root, "cpu_pressure",
				    json_pack("{s:f,s:f}", "some_avg10", snap->psi_some_avg10,
					      "some_recent", snap->psi_some_recent));
	else
		json_object_set_new(root, "cpu_pressure", json_null());
	json_object_set_new(root, "memory",
			    json_pack("{s:I,s:I}", "total_kb", (json_int_t)snap->mem_total_kb,
				      "available_kb", (json_int_t)snap->mem_available_kb));
	return root;
}

json_t *topview_json(const struct topview *v, int rows)
{
	json_t *doc = topview_machine_json(v->topo, v->snap);

	if (!doc)
		return NULL;
	jsonx_sets(doc, "mode", v->mode);
	if (v->agent_list) {
		json_object_set(doc, "batches", v->agent_list);
		json_object_set_new(doc, "batches_all", json_boolean(v->every));
	}
	if (rows) {
		json_t *a = json_array();

		for (size_t i = 0; a && i < v->nb; i++)
			json_array_append_new(a, topview_row_json(&v->b[i]));
		json_object_set_new(doc, "rows", a);
		json_object_set_new(doc, "ours_measured",
				    json_boolean(v->ours_on));
	}
	return doc;
}
