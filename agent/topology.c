/* agent/topology: the one place that talks to hwloc. Loads the real machine,
 * a synthetic description or an XML export into a plain PU table (core,
 * package, NUMA node, L3, SMT siblings, allowed) that the sampler, policy and
 * sched index by PU position. Called once at start-up, from the main thread;
 * HWLOC_* environment variables are hidden from hwloc while it loads. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hwloc.h>

#include "agent/errmsg.h"
#include "agent/topology.h"

struct agent_topology {
	hwloc_topology_t hw;
	int npus;
	struct agent_pu *pus;
	int *sibling_store; /* all siblings lists, back to back */
	int *os_map;        /* os index -> PU index, -1 when absent */
	int os_map_len;
	int npackages, ncores, nl3, nnuma, nallowed;
	int thissystem;
	char *source;
};

/* A topology kept loaded for the life of the process: hwloc keeps its
 * components initialised while one topology is alive, which makes every
 * later load of the real machine about three times cheaper. */
static hwloc_topology_t topology_anchor;

extern char **environ;

/* Remove every HWLOC_* variable from the environment, returning copies of
 * the removed "NAME=VALUE" strings (NULL-terminated) to put back later. */
static char **topology_hide_env(void)
{
	size_t n = 0, k = 0;
	char **saved;

	for (char **e = environ; e && *e; e++)
		if (!strncmp(*e, "HWLOC_", 6))
			n++;
	saved = calloc(n + 1, sizeof *saved);
	if (!saved)
		return NULL;
	while (k < n) {
		char *found = NULL;

		for (char **e = environ; e && *e; e++)
			if (!strncmp(*e, "HWLOC_", 6)) {
				found = *e;
				break;
			}
		if (!found)
			break;
		saved[k] = strdup(found);
		if (!saved[k])
			break;
		char name[256];
		size_t len = strcspn(found, "=");

		if (len >= sizeof name)
			len = sizeof name - 1;
		memcpy(name, found, len);
		name[len] = 0;
		unsetenv(name);
		k++;
	}
	return saved;
}

/* Put back the variables removed by topology_hide_env and free the copies. */
static void topology_restore_env(char **saved)
{
	if (!saved)
		return;
	for (char **p = saved; *p; p++) {
		char *eq = strchr(*p, '=');

		if (eq) {
			*eq = 0;
			setenv(*p, eq + 1, 1);
		}
		free(*p);
	}
	free(saved);
}

/* Make sure the process-wide anchor topology exists (best effort). */
static void topology_keep_anchor(void)
{
	if (topology_anchor)
		return;
	if (hwloc_topology_init(&topology_anchor) < 0) {
		topology_anchor = NULL;
		return;
	}
	if (hwloc_topology_set_synthetic(topology_anchor, "pu:1") < 0 ||
	    hwloc_topology_load(topology_anchor) < 0) {
		hwloc_topology_destroy(topology_anchor);
		topology_anchor = NULL;
	}
}

/* Logical index of the nearest ancestor of type t, or -1. */
static int topology_ancestor_index(hwloc_topology_t hw, hwloc_obj_t pu,
				   hwloc_obj_type_t t)
{
	hwloc_obj_t a = hwloc_get_ancestor_obj_by_type(hw, t, pu);

	return a ? (int)a->logical_index : -1;
}

/* This process's affinity mask (CPU_ALLOC'd, *size bytes), or NULL. */
static cpu_set_t *topology_affinity(size_t *size)
{
	for (int ncpu = 1024; ncpu <= 1 << 20; ncpu *= 2) {
		cpu_set_t *set = CPU_ALLOC(ncpu);

		if (!set)
			return NULL;
		*size = CPU_ALLOC_SIZE(ncpu);
		if (sched_getaffinity(0, *size, set) == 0)
			return set;
		CPU_FREE(set);
		if (errno != EINVAL)
			return NULL;
	}
	return NULL;
}

/* Build the PU table from a loaded hwloc topology. */
static int topology_fill(struct agent_topology *t, char *err, size_t errlen)
{
	hwloc_topology_t hw = t->hw;
	hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(hw);
	int n = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_PU);
	int maxos = -1, ncore_objs, npkg_objs;

	if (n <= 0) {
		errmsg_set(err, errlen, "topology %s has no PU", t->source);
		return -EINVAL;
	}
	t->npus = n;
	t->pus = calloc((size_t)n, sizeof *t->pus);
	if (!t->pus)
		goto nomem;
	/* On the real machine a PU is allowed when the cpuset cgroup allows
	 * it (hwloc) and this process's affinity mask (taskset, a parent's
	 * pinning) has it, as nproc(1) counts; hwloc alone ignores the
	 * affinity mask. Synthetic and XML topologies use their own set. */
	size_t affsize = 0;
	cpu_set_t *aff = t->thissystem ? topology_affinity(&affsize) : NULL;
	int nhw = 0;

	ncore_objs = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_CORE);
	npkg_objs = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_PACKAGE);
	for (int i = 0; i < n; i++) {
		hwloc_obj_t o = hwloc_get_obj_by_type(hw, HWLOC_OBJ_PU, (unsigned)i);
		struct agent_pu *p = &t->pus[i];

		p->os_index = (int)o->os_index;
		if (p->os_index > maxos)
			maxos = p->os_index;
		/* Without a core level each PU is its own core; without a
		 * package level the machine is one package. */
		p->core = ncore_objs > 0 ? topology_ancestor_index(hw, o, HWLOC_OBJ_CORE) : i;
		p->package = npkg_objs > 0 ? topology_ancestor_index(hw, o, HWLOC_OBJ_PACKAGE) : 0;
		p->l3 = topology_ancestor_index(hw, o, HWLOC_OBJ_L3CACHE);
		p->numa = -1;
		p->allowed = hwloc_bitmap_isset(allowed, o->os_index) ? 1 : 0;
		nhw += p->allowed;
		if (aff && !CPU_ISSET_S((size_t)p->os_index, affsize, aff))
			p->allowed = 0;
		t->nallowed += p->allowed;
	}
	if (aff)
		CPU_FREE(aff);
	if (t->nallowed == 0 && nhw > 0) {
		/* An affinity mask outside the cgroup's set: trust hwloc. */
		for (int i = 0; i < n; i++) {
			hwloc_obj_t o = hwloc_get_obj_by_type(hw, HWLOC_OBJ_PU, (unsigned)i);

			t->pus[i].allowed = hwloc_bitmap_isset(allowed, o->os_index) ? 1 : 0;
		}
		t->nallowed = nhw;
	}
	t->ncores = ncore_objs > 0 ? ncore_objs : n;
	t->npackages = npkg_objs > 0 ? npkg_objs : 1;
	t->nl3 = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_L3CACHE);
	t->nnuma = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_NUMANODE);
	if (t->nl3 < 0)
		t->nl3 = 0;
	if (t->nnuma < 0)
		t->nnuma = 0;
	/* NUMA nodes hang off the tree as memory children: the PU's node is
	 * the first one whose cpuset holds it. */
	for (int k = 0; k < t->nnuma; k++) {
		hwloc_obj_t node = hwloc_get_obj_by_type(hw, HWLOC_OBJ_NUMANODE, (unsigned)k);

		for (int i = 0; i < n; i++)
			if (t->pus[i].numa < 0 && node->cpuset &&
			    hwloc_bitmap_isset(node->cpuset, (unsigned)t->pus[i].os_index))
				t->pus[i].numa = (int)node->logical_index;
	}
	/* Siblings: PUs sharing a core, grouped by core index (which is
	 * below ncores), then listed back to back in one array. */
	int *count = calloc((size_t)t->ncores, sizeof *count);
	int total = 0;

	if (!count)
		goto nomem;
	for (int i = 0; i < n; i++)
		if (t->pus[i].core >= 0 && t->pus[i].core < t->ncores)
			count[t->pus[i].core]++;
	for (int i = 0; i < n; i++) {
		int c = t->pus[i].core;

		t->pus[i].nsiblings = (c >= 0 && c < t->ncores) ? count[c] - 1 : 0;
		total += t->pus[i].nsiblings;
	}
	free(count);
	free(t->sibling_store);
	t->sibling_store = malloc((size_t)(total ? total : 1) * sizeof *t->sibling_store);
	if (!t->sibling_store)
		goto nomem;
	for (int i = 0, off = 0; i < n; i++) {
		struct agent_pu *p = &t->pus[i];
		int k = 0;

		p->siblings = t->sibling_store + off;
		for (int j = 0; j < n && k < p->nsiblings; j++)
			if (j != i && t->pus[j].core == p->core)
				t->sibling_store[off + k++] = j;
		off += p->nsiblings;
	}
	t->os_map_len = maxos + 1;
	t->os_map = malloc((size_t)t->os_map_len * sizeof *t->os_map);
	if (!t->os_map)
		goto nomem;
	for (int i = 0; i < t->os_map_len; i++)
		t->os_map[i] = -1;
	for (int i = 0; i < n; i++)
		t->os_map[t->pus[i].os_index] = i;
	return 0;
nomem:
	errmsg_set(err, errlen, "out of memory building the PU table");
	return -ENOMEM;
}

/* Load the real, synthetic or XML topology; see topology.h. */
int agent_topology_load(struct agent_topology **out, const char *spec,
			char *err, size_t errlen)
{
	struct agent_topology *t;
	const char *what = "NICELY_TOPOLOGY";
	char **saved;
	int rc;

	*out = NULL;
	if (!spec || !*spec)
		spec = getenv("NICELY_TOPOLOGY");
	else
		what = "topology";
	if (spec && !*spec)
		spec = NULL;
	if (spec && strncmp(spec, "synthetic:", 10) && strncmp(spec, "xml:", 4)) {
		errmsg_set(err, errlen,
			   "%s '%s': expected synthetic:<hwloc synthetic string> or xml:<file>",
			   what, spec);
		return -EINVAL;
	}
	t = calloc(1, sizeof *t);
	if (!t) {
		errmsg_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	t->source = strdup(spec ? spec : "real machine");
	saved = topology_hide_env();
	if (!t->source || !saved) {
		topology_restore_env(saved);
		free(t->source);
		free(t);
		errmsg_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	topology_keep_anchor();
	if (hwloc_topology_init(&t->hw) < 0) {
		rc = -errno;
		t->hw = NULL;
		errmsg_set(err, errlen, "hwloc_topology_init: %s", strerror(errno));
		goto fail;
	}
	/* Keep disallowed PUs in the table (marked allowed=0): /proc/stat
	 * still shows them and `nicely top` should too. */
	hwloc_topology_set_flags(t->hw, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
	if (spec && !strncmp(spec, "synthetic:", 10)) {
		if (hwloc_topology_set_synthetic(t->hw, spec + 10) < 0) {
			rc = -EINVAL;
			errmsg_set(err, errlen,
				   "%s: invalid hwloc synthetic description '%s' "
				   "(example: synthetic:pack:2 core:4 pu:2)",
				   what, spec + 10);
			goto fail;
		}
	} else if (spec) {
		if (hwloc_topology_set_xml(t->hw, spec + 4) < 0) {
			rc = -errno ? -errno : -EINVAL;
			errmsg_set(err, errlen, "%s: cannot use XML file '%s': %s",
				   what, spec + 4, strerror(errno ? errno : EINVAL));
			goto fail;
		}
	}
	if (hwloc_topology_load(t->hw) < 0) {
		rc = errno ? -errno : -EINVAL;
		errmsg_set(err, errlen, "%s: loading %s failed: %s", what,
			   t->source, strerror(-rc));
		goto fail;
	}
	t->thissystem = hwloc_topology_is_thissystem(t->hw) ? 1 : 0;
	rc = topology_fill(t, err, errlen);
	if (rc < 0)
		goto fail;
	topology_restore_env(saved);
	*out = t;
	return 0;
fail:
	topology_restore_env(saved);
	agent_topology_free(t);
	return rc;
}

/* Free a topology and its tables. */
void agent_topology_free(struct agent_topology *topo)
{
	if (!topo)
		return;
	if (topo->hw)
		hwloc_topology_destroy(topo->hw);
	free(topo->pus);
	free(topo->sibling_store);
	free(topo->os_map);
	free(topo->source);
	free(topo);
}

/* Number of PUs in the table, allowed or not. */
int agent_topology_npus(const struct agent_topology *topo)
{
	return topo->npus;
}

/* The PU table, indexed by PU index. */
const struct agent_pu *agent_topology_pus(const struct agent_topology *topo)
{
	return topo->pus;
}

/* Number of packages (1 when the topology has no package level). */
int agent_topology_npackages(const struct agent_topology *topo)
{
	return topo->npackages;
}

/* Number of cores (one per PU when the topology has no core level). */
int agent_topology_ncores(const struct agent_topology *topo)
{
	return topo->ncores;
}

/* Number of L3 caches, 0 when none. */
int agent_topology_nl3(const struct agent_topology *topo)
{
	return topo->nl3;
}

/* Number of NUMA nodes. */
int agent_topology_nnuma(const struct agent_topology *topo)
{
	return topo->nnuma;
}

/* Number of PUs this process may use. */
int agent_topology_nallowed(const struct agent_topology *topo)
{
	return topo->nallowed;
}

/* PU index of Linux CPU os_index, or -1. */
int agent_topology_pu_of_os(const struct agent_topology *topo, int os_index)
{
	if (os_index < 0 || os_index >= topo->os_map_len)
		return -1;
	return topo->os_map[os_index];
}

/* 1 when binding on this topology is real. */
int agent_topology_is_thissystem(const struct agent_topology *topo)
{
	return topo->thissystem;
}

/* "real machine", "synthetic:..." or "xml:FILE". */
const char *agent_topology_source(const struct agent_topology *topo)
{
	return topo->source;
}

/* Affinity mask holding the OS indices of the given PUs. */
void agent_topology_cpuset(const struct agent_topology *topo, const int *pus,
			   size_t n, cpu_set_t *set)
{
	CPU_ZERO(set);
	for (size_t i = 0; i < n; i++) {
		if (pus[i] < 0 || pus[i] >= topo->npus)
			continue;
		int os = topo->pus[pus[i]].os_index;

		if (os >= 0 && os < CPU_SETSIZE)
			CPU_SET(os, set);
	}
}
