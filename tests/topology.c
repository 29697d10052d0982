/* Tests for agent/topology: synthetic topologies (counts, siblings, package
 * and L3 per PU), an XML fixture with an allowed cpuset smaller than the
 * machine, the real machine, NICELY_TOPOLOGY, bad specs, and HWLOC_*
 * environment variables that must not leak into the load. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/topology.h"
#include "tests/fixture_dir.h"
#include "tests/tap.h"

static char fixtures[PATH_MAX];

/* Load spec or bail out: later checks would be meaningless. */
static struct agent_topology *load_or_bail(const char *spec)
{
	struct agent_topology *t;
	char err[512];
	int rc = agent_topology_load(&t, spec, err, sizeof err);

	if (rc < 0) {
		fprintf(stderr, "load %s: %s\n", spec ? spec : "(env)", err);
		tap_bail("cannot load a topology the tests need");
	}
	return t;
}

/* pack:2 core:4 pu:2: 16 PUs in 8 sibling pairs over 2 packages. */
static void test_smt_pairs(void)
{
	struct agent_topology *t = load_or_bail("synthetic:pack:2 core:4 pu:2");
	const struct agent_pu *p = agent_topology_pus(t);
	int pairs_ok = 1, pkg_ok = 1, core_ok = 1;

	is_int(agent_topology_npus(t), 16, "pack:2 core:4 pu:2 has 16 PUs");
	is_int(agent_topology_npackages(t), 2, "2 packages");
	is_int(agent_topology_ncores(t), 8, "8 cores");
	is_int(agent_topology_nl3(t), 0, "no L3 level");
	is_int(agent_topology_nallowed(t), 16, "all 16 allowed");
	is_int(agent_topology_is_thissystem(t), 0, "synthetic is not this system");
	is_str(agent_topology_source(t), "synthetic:pack:2 core:4 pu:2", "source names the spec");
	for (int i = 0; i < 16; i++) {
		if (p[i].nsiblings != 1 || p[i].siblings[0] != (i ^ 1))
			pairs_ok = 0;
		if (p[i].package != i / 8)
			pkg_ok = 0;
		if (p[i].core != i / 2 || p[i].os_index != i || p[i].l3 != -1)
			core_ok = 0;
	}
	ok(pairs_ok, "8 sibling pairs: PU 2k and 2k+1 are each other's only sibling");
	ok(pkg_ok, "PUs 0-7 in package 0, 8-15 in package 1");
	ok(core_ok, "core of PU i is i/2, os index i, no L3");
	is_int(agent_topology_pu_of_os(t, 13), 13, "pu_of_os(13)");
	is_int(agent_topology_pu_of_os(t, 16), -1, "pu_of_os past the end is -1");
	is_int(agent_topology_pu_of_os(t, -1), -1, "pu_of_os(-1) is -1");

	cpu_set_t set;
	int pus[] = { 3, 9, 99 };

	agent_topology_cpuset(t, pus, 3, &set);
	ok(CPU_COUNT(&set) == 2 && CPU_ISSET(3, &set) && CPU_ISSET(9, &set),
	   "cpuset of PUs {3, 9, out-of-range} holds CPUs 3 and 9 only");
	agent_topology_free(t);
}

/* pack:1 l3:2 core:8 pu:1: 16 single-PU cores under 2 L3 caches. */
static void test_l3(void)
{
	struct agent_topology *t = load_or_bail("synthetic:pack:1 l3:2 core:8 pu:1");
	const struct agent_pu *p = agent_topology_pus(t);
	int l3_ok = 1, sib_ok = 1;

	is_int(agent_topology_npus(t), 16, "pack:1 l3:2 core:8 pu:1 has 16 PUs");
	is_int(agent_topology_npackages(t), 1, "1 package");
	is_int(agent_topology_ncores(t), 16, "16 cores");
	is_int(agent_topology_nl3(t), 2, "2 L3 caches");
	for (int i = 0; i < 16; i++) {
		if (p[i].l3 != i / 8 || p[i].package != 0)
			l3_ok = 0;
		if (p[i].nsiblings != 0)
			sib_ok = 0;
	}
	ok(l3_ok, "PUs 0-7 under L3 0, 8-15 under L3 1, all in package 0");
	ok(sib_ok, "no SMT siblings");
	agent_topology_free(t);
}

/* The XML fixture: 2 packages with a NUMA node and an L3 each, 8 cores of
 * 2 PUs, and an allowed cpuset of 0x0f0f (PUs 0-3 and 8-11). */
static void test_xml_allowed(void)
{
	char spec[PATH_MAX + 64];
	struct agent_topology *t;
	const struct agent_pu *p;
	int allowed_ok = 1, numa_ok = 1;

	snprintf(spec, sizeof spec, "xml:%s/topology/pack2-numa-l3-allowed.xml", fixtures);
	t = load_or_bail(spec);
	p = agent_topology_pus(t);
	is_int(agent_topology_npus(t), 16, "XML: 16 PUs, disallowed ones included");
	is_int(agent_topology_nallowed(t), 8, "XML: 8 PUs allowed");
	is_int(agent_topology_nnuma(t), 2, "XML: 2 NUMA nodes");
	is_int(agent_topology_nl3(t), 2, "XML: 2 L3 caches");
	is_int(agent_topology_is_thissystem(t), 0, "XML is not this system");
	for (int i = 0; i < 16; i++) {
		int want = (0x0f0f >> i) & 1;

		if (p[i].allowed != want)
			allowed_ok = 0;
		if (p[i].numa != i / 8 || p[i].l3 != i / 8 || p[i].package != i / 8)
			numa_ok = 0;
	}
	ok(allowed_ok, "allowed flags follow the XML's allowed_cpuset 0x0f0f");
	ok(numa_ok, "NUMA node, L3 and package of PU i are i/8");
	is_int(p[5].nsiblings, 1, "a disallowed PU still has its sibling");
	is_int(p[5].siblings[0], 4, "PU 5's sibling is PU 4");
	agent_topology_free(t);
}

/* The real machine: at least one PU, binding is real, PU 0 maps back. */
static void test_real(void)
{
	struct agent_topology *t = load_or_bail("");
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	ok(agent_topology_npus(t) >= 1, "real machine has PUs (%d)", agent_topology_npus(t));
	ok(agent_topology_npus(t) >= ncpu, "at least the %ld online CPUs are in the table", ncpu);
	is_int(agent_topology_is_thissystem(t), 1, "real machine is this system");
	ok(agent_topology_nallowed(t) >= 1, "at least one PU allowed");
	is_str(agent_topology_source(t), "real machine", "source of the real machine");
	is_int(agent_topology_pu_of_os(t, agent_topology_pus(t)[0].os_index), 0,
	       "pu_of_os inverts os_index");
	agent_topology_free(t);
}

/* NICELY_TOPOLOGY picks the topology when no spec is given; HWLOC_SYNTHETIC
 * and HWLOC_XMLFILE are ignored and left in the environment as they were. */
static void test_env(void)
{
	struct agent_topology *t, *real;
	char xml[PATH_MAX + 64];

	real = load_or_bail("");
	setenv("NICELY_TOPOLOGY", "synthetic:pack:3 core:1 pu:1", 1);
	t = load_or_bail(NULL);
	is_int(agent_topology_npus(t), 3, "NICELY_TOPOLOGY chooses the topology");
	agent_topology_free(t);
	unsetenv("NICELY_TOPOLOGY");

	setenv("HWLOC_SYNTHETIC", "pack:5 core:1 pu:1", 1);
	snprintf(xml, sizeof xml, "%s/topology/pack2-numa-l3-allowed.xml", fixtures);
	setenv("HWLOC_XMLFILE", xml, 1);
	setenv("HWLOC_THISSYSTEM", "0", 1);
	t = load_or_bail(NULL);
	is_int(agent_topology_npus(t), agent_topology_npus(real),
	       "HWLOC_SYNTHETIC/HWLOC_XMLFILE do not replace the real machine");
	is_int(agent_topology_is_thissystem(t), 1, "HWLOC_THISSYSTEM=0 is ignored");
	is_str(getenv("HWLOC_SYNTHETIC"), "pack:5 core:1 pu:1", "HWLOC_SYNTHETIC restored after the load");
	is_str(getenv("HWLOC_XMLFILE"), xml, "HWLOC_XMLFILE restored after the load");
	agent_topology_free(t);
	t = load_or_bail("synthetic:pack:2 core:1 pu:1");
	is_int(agent_topology_npus(t), 2, "an explicit synthetic spec wins over HWLOC_SYNTHETIC");
	agent_topology_free(t);
	unsetenv("HWLOC_SYNTHETIC");
	unsetenv("HWLOC_XMLFILE");
	unsetenv("HWLOC_THISSYSTEM");
	agent_topology_free(real);
}

/* Bad specs are errors that say what was wrong. */
static void test_errors(void)
{
	struct agent_topology *t = (void *)1;
	char err[512] = "";
	int rc;

	rc = agent_topology_load(&t, "numa:2", err, sizeof err);
	is_int(rc, -EINVAL, "unknown kind is -EINVAL");
	ok(t == NULL, "no topology on error");
	ok(strstr(err, "numa:2") && strstr(err, "synthetic:"), "error names the spec and the forms: %s", err);
	rc = agent_topology_load(&t, "synthetic:pack:two", err, sizeof err);
	ok(rc < 0 && strstr(err, "pack:two"), "bad synthetic string is an error naming it: %s", err);
	rc = agent_topology_load(&t, "xml:/nonexistent/topo.xml", err, sizeof err);
	ok(rc < 0 && strstr(err, "/nonexistent/topo.xml"), "missing XML file is an error naming it: %s", err);
	setenv("NICELY_TOPOLOGY", "bogus", 1);
	rc = agent_topology_load(&t, NULL, err, sizeof err);
	ok(rc == -EINVAL && strstr(err, "NICELY_TOPOLOGY"), "bad NICELY_TOPOLOGY names the variable: %s", err);
	unsetenv("NICELY_TOPOLOGY");
}

/* Run the topology tests. */
int main(int argc, char **argv)
{
	(void)argc;
	if (fixture_dir(argv[0], fixtures) < 0)
		tap_bail("cannot find tests/fixtures (set NICELY_SRCDIR)");
	unsetenv("NICELY_TOPOLOGY");
	test_smt_pairs();
	test_l3();
	test_xml_allowed();
	test_real();
	test_env();
	test_errors();
	return tap_done();
}
