/* agent/topology: the machine's processing units as plain data, loaded once
 * from hwloc (the real machine, or NICELY_TOPOLOGY=synthetic:... / xml:FILE).
 * Everything downstream (sampler, policy, sched) indexes PUs by their
 * position 0..npus-1 in this table ("PU index"), never by hwloc objects. */
#ifndef AGENT_TOPOLOGY_H
#define AGENT_TOPOLOGY_H

#include <sched.h>
#include <stddef.h>

/* One processing unit (hardware thread). Indices are hwloc logical indices
 * of the enclosing object, or -1 where the machine has no such level. */
struct agent_pu {
	int os_index; /* Linux CPU number: cpuN in /proc/stat, affinity bit */
	int core;     /* logical index of the core */
	int package;  /* logical index of the package (socket) */
	int numa;     /* logical index of the NUMA node, -1 if unknown */
	int l3;       /* logical index of the L3 cache, -1 if none */
	int allowed;  /* 1 if this process may run there: in hwloc's allowed
		       * cpuset (cpuset cgroup, container) and, on the real
		       * machine, in this process's affinity mask at load */
	int nsiblings;      /* other PUs of the same core */
	const int *siblings; /* their PU indices, owned by the topology */
};

struct agent_topology;

/* Load a topology. spec is "synthetic:<hwloc synthetic string>",
 * "xml:<file>", or NULL/"" for NICELY_TOPOLOGY from the environment, and the
 * real machine when that is unset. HWLOC_SYNTHETIC/HWLOC_XMLFILE in the
 * environment are ignored (hidden from hwloc during the load, then put back:
 * call this before starting threads). Returns 0, or -errno with a message in
 * err. The caller frees with agent_topology_free. The first load keeps a
 * tiny hwloc topology alive for the process, which makes later loads of the
 * real machine ~3x cheaper. */
int agent_topology_load(struct agent_topology **out, const char *spec,
			char *err, size_t errlen);
void agent_topology_free(struct agent_topology *topo);

/* Number of PUs (allowed or not) and the table itself. */
int agent_topology_npus(const struct agent_topology *topo);
const struct agent_pu *agent_topology_pus(const struct agent_topology *topo);
/* Counts of packages, cores, L3 caches and NUMA nodes (>= 1 each, but L3
 * and NUMA may be 0 on topologies without them) and allowed PUs. */
int agent_topology_npackages(const struct agent_topology *topo);
int agent_topology_ncores(const struct agent_topology *topo);
int agent_topology_nl3(const struct agent_topology *topo);
int agent_topology_nnuma(const struct agent_topology *topo);
int agent_topology_nallowed(const struct agent_topology *topo);
/* PU index of a Linux CPU number, or -1 when the topology has none. */
int agent_topology_pu_of_os(const struct agent_topology *topo, int os_index);
/* 1 when the topology is this machine (binding is real), 0 when it is
 * synthetic or XML (binding would silently do nothing). */
int agent_topology_is_thissystem(const struct agent_topology *topo);
/* A human description, e.g. "real machine" or "synthetic:pack:2 core:4 pu:2". */
const char *agent_topology_source(const struct agent_topology *topo);
/* Fill an affinity mask with the OS indices of the given PU indices, for
 * sched_setaffinity in a child after fork (async-signal-safe to apply). */
void agent_topology_cpuset(const struct agent_topology *topo, const int *pus,
			   size_t n, cpu_set_t *set);

#endif
