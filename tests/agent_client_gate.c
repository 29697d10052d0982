/* The shared gate (sched/gate.c) with nicely-agent, a scripted one
 * (tests/agent_peer.h), on a recorded idle /proc and a synthetic 2-PU
 * topology: the allowance is the agent's lease grant; the snapshot is the
 * agent's file while fresh (it says busy, the own sample says idle: no
 * start) and the gate's own when stale; the agent gone mid-batch is said
 * once and the gate goes on without it; back again, the batch is adopted
 * and leases again; a grant with "killed" stops starts for good. Each
 * lease says where the workers are ("pus"); a start goes to a PU no other
 * batch holds ("taken"), one that must share a taken PU runs unpinned,
 * and a worker on a PU it must yield moves to a free one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/sampler.h"
#include "policy/config.h"
#include "policy/preset.h"
#include "sched/agent_client.h"
#include "sched/agent_proto.h"
#include "sched/gate.h"
#include "tests/agent_peer.h"
#include "tests/tap.h"

static char tmp[64], proc[128], snap[128];
static unsigned step;

/* Write text to dir/name. */
static void put(const char *dir, const char *name, const char *text)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		tap_bail("cannot write a temporary file");
}

/* The next /proc/stat: 2 idle CPUs. */
static void put_stat(void)
{
	char text[512];
	unsigned tot = 100000 + ++step * 100;

	snprintf(text, sizeof text,
		 "cpu  0 0 0 %u 0 0 0 0 0 0\ncpu0 0 0 0 %u 0 0 0 0 0 0\n"
		 "cpu1 0 0 0 %u 0 0 0 0 0 0\nprocs_running 1\n"
		 "procs_blocked 0\n", 2 * tot, tot, tot);
	put(proc, "stat", text);
}

/* The agent's snapshot file: both CPUs busy b, written age_ms ago. */
static void put_snap(double b, long age_ms)
{
	struct timespec ts;
	char text[512];
	long long now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	snprintf(text, sizeof text,
		 "{\"v\":%d,\"seq\":1,\"t_ms\":%lld,\"tick_ms\":1000,"
		 "\"cpus\":[{\"cpu\":0,\"busy\":%g,\"online\":true},"
		 "{\"cpu\":1,\"busy\":%g,\"online\":true}],"
		 "\"loadavg\":[0,0,0],\"psi_some_avg10\":0,\"psi_recent\":0,"
		 "\"mem_total_kb\":16384000,\"mem_available_kb\":12000000}\n",
		 AGENT_PROTO_VERSION, now - age_ms, b, b);
	put(tmp, "agent.sock.snapshot", text);
}

/* The test preset from the config file. */
static void preset_load(const char *conf, const char *name,
			struct policy_preset *p)
{
	struct policy_config_opts co = { 0 };
	struct policy_flags fl = POLICY_FLAGS_INIT;
	struct policy_config *cfg;
	char err[1024], warn[512];

	co.extra_file = conf;
	fl.preset = name;
	if (policy_config_load(&cfg, &co, err, sizeof err) < 0 ||
	    policy_config_resolve(cfg, &fl, p, warn, sizeof warn, err,
				  sizeof err) < 0) {
		tap_diag("%s", err);
		tap_bail("cannot resolve the test preset");
	}
	policy_config_free(cfg);
}

/* Every pending note joined. */
static void notes(struct gate *g, char *out, size_t outlen)
{
	enum gate_level l;
	const char *n;

	out[0] = 0;
	while ((n = gate_note(g, &l))) {
		size_t len = strlen(out);

		snprintf(out + len, outlen - len, "%s\n", n);
	}
}

/* One tick with nw workers on PUs 0.., queued tasks waiting. */
static int tick(struct gate *g, int nw, int queued, struct gate_answer *a)
{
	struct gate_worker w[2] = { { 1, 0, 0, 0, 0 }, { 2, 0, 1, 0, 0 } };
	char err[512];

	put_stat();
	if (gate_tick(g, w, (size_t)nw, (size_t)queued, (size_t)queued, a,
		      err, sizeof err) < 0)
		tap_bail("gate_tick failed");
	return a->nstart;
}

#define HELLO_FMT "{\"v\":1,\"ok\":true,\"agent\":\"t\",\"mode\":\"v1\"," \
	"\"root\":\"/sys/fs/cgroup\",\"base\":\"nicely\",\"uid\":0," \
	"\"admin\":false,\"tick_ms\":1000,\"snapshot\":\"%s\"}"
#define OPENED "{\"v\":1,\"ok\":true,\"batch\":\"u-1-1\"," \
	       "\"group\":\"nicely/user-0/u-1-1\",\"weight\":\"normal\"}"
#define GRANT(n) "{\"v\":1,\"ok\":true,\"grant\":" #n ",\"users\":1," \
		 "\"killed\":false}"

int main(void)
{
	struct policy_preset p;
	struct agent_client_opts ao = AGENT_CLIENT_OPTS_INIT;
	struct agent_open_req rq = { "gatetest", "normal", 0, 0, NULL, NULL };
	struct agent_client *c;
	struct gate_opts go = { 0 };
	struct gate_answer a;
	struct gate *g;
	char conf[128], d[256], run[256], cmd[300], err[1024], hello[512];
	char text[4096];

	snprintf(tmp, sizeof tmp, "/tmp/nicely-agate.XXXXXX");
	if (!mkdtemp(tmp))
		tap_bail("mkdtemp");
	snprintf(proc, sizeof proc, "%s/proc", tmp);
	snprintf(sock, sizeof sock, "%s/agent.sock", tmp);
	snprintf(snap, sizeof snap, "%s/agent.sock.snapshot", tmp);
	mkdir(proc, 0755);
	put(proc, "loadavg", "0.00 0.00 0.00 1/100 1000\n");
	put(proc, "meminfo", "MemTotal: 16384000 kB\nMemAvailable: 12000000 kB\n");
	snprintf(d, sizeof d, "%s/etc", tmp);
	mkdir(d, 0755);
	snprintf(run, sizeof run, "%s/run", tmp);
	mkdir(run, 0700);
	snprintf(conf, sizeof conf, "%s/test.conf", tmp);
	put(tmp, "test.conf",
	    "[preset gatetest]\nbase = normal\nidle_threshold = 25%\n"
	    "reserve_pus = 0\non_return = pause\nhysteresis = 0\n"
	    "smt_avoid = no\nramp_up = 0\nmax_pus = 100%\nnice = 17\nforce_one = no\n"
	    "[preset gatenuc]\nbase = gatetest\nignore_others = yes\n");
	setenv("NICELY_PROCFS", proc, 1);
	setenv("NICELY_TOPOLOGY", "synthetic:pack:1 core:2 pu:1", 1);
	setenv("NICELY_SYSCONFDIR", d, 1);
	setenv("XDG_CONFIG_HOME", d, 1);
	setenv("NICELY_RUNTIME_DIR", run, 1);
	unsetenv("NICELY_CONFIG");
	signal(SIGPIPE, SIG_IGN);
	preset_load(conf, "gatetest", &p);

	snprintf(hello, sizeof hello, HELLO_FMT, snap);
	const struct step s1[] = {
		{ "hello", 0, hello }, { "open", 1, OPENED },
		{ "lease", 0, GRANT(1) }, { "lease", 0, GRANT(2) },
		{ "lease", 0, GRANT(2) }, { "lease", 0, GRANT(2) },
		{ "lease", 0, GRANT(2) }, { "lease", 0, "CLOSE" },
	};
	pid_t peer_pid = peer_start(s1, 8);

	ao.socket = sock;
	if (agent_client_connect(&c, &ao, err, sizeof err) < 0 ||
	    agent_client_open(c, getpid(), &rq, err, sizeof err) < 0) {
		tap_diag("%s", err);
		tap_bail("cannot open a batch with the scripted agent");
	}
	put_stat();
	go.preset = &p;
	go.words = (struct gate_words){ "tasks", "this batch", "this batch" };
	if (gate_new(&g, &go, err, sizeof err) < 0)
		tap_bail("cannot make a gate");
	gate_set_agent(g, c);
	gate_progress(g, 3, 10);

	put_snap(0, 0);
	is_int(tick(g, 0, 5, &a), 1, "grant 1: one start on an idle machine");
	ok(gate_agent_leased(g) && gate_agent_snapshot(g),
	   "the allowance and the snapshot came from the agent");
	is_int(tick(g, 1, 5, &a), 1, "grant 2 with one running: one more");
	put_snap(1.0, 0);
	is_int(tick(g, 0, 5, &a), 0, "the agent's fresh snapshot says busy "
	       "(our own sample says idle): no start");
	put_snap(1.0, 3500);
	is_int(tick(g, 0, 5, &a), 2, "a stale snapshot: the gate's own "
	       "sample, grant 2: two starts");
	ok(!gate_agent_snapshot(g), "... and it says so");
	put_snap(0, 0);
	is_int(tick(g, 1, 5, &a), 1, "grant 2, one running, fresh idle "
	       "snapshot: one start");
	notes(g, text, sizeof text);
	is_str(text, "", "no note while the agent answers");
	tick(g, 0, 5, &a);
	ok(!gate_agent_leased(g), "the agent gone: the allowance is the "
	   "gate's own");
	notes(g, text, sizeof text);
	ok(strstr(text, "closed the connection") &&
		   strstr(text, "this batch goes on without it"),
	   "said once: %s", text);
	is_int(peer_end(peer_pid), 0, "the first agent's checks");
	tick(g, 0, 5, &a);
	ok(!gate_agent_snapshot(g), "own sample while it is away");
	notes(g, text, sizeof text);
	is_str(text, "", "... only once");

	const struct step s2[] = {
		{ "hello", 0, hello }, { "adopt", 1, OPENED },
		{ "lease", 0, GRANT(1) },
		{ "lease", 0, "{\"v\":1,\"ok\":true,\"grant\":2,"
			      "\"killed\":true}" },
		{ "lease", 0, GRANT(2) },
	};
	peer_pid = peer_start(s2, 5);
	usleep((GATE_AGENT_RETRY_MS + 200) * 1000);
	put_snap(0, 0);
	is_int(tick(g, 0, 5, &a), 1, "back: adopted, leases again (grant 1)");
	ok(gate_agent_leased(g), "the allowance is the agent's again");
	notes(g, text, sizeof text);
	ok(strstr(text, "nicely-agent is back") != NULL, "said: %s", text);
	ok(!gate_agent_killed(g), "not killed");
	is_int(tick(g, 0, 5, &a), 0, "killed: no start");
	ok(gate_agent_killed(g), "the kill is kept for the face");
	is_int(tick(g, 0, 5, &a), 0, "and holds: a later grant of 2 starts "
	       "nothing");
	is_int(peer_end(peer_pid), 0, "the second agent got adopt with the "
	       "owner's pidfd");

	gate_free(g);
	agent_client_free(c);

	/* a preset that ignores others: at least its user's even share of
	 * the allowed PUs whatever the grant of idle ones */
	struct policy_preset nuc;
	const struct step s3[] = {
		{ "hello", 0, hello }, { "open", 1, OPENED },
		{ "lease", 0, "{\"v\":1,\"ok\":true,\"grant\":0,"
			      "\"users\":2}" },
		{ "lease", 0, "{\"v\":1,\"ok\":true,\"grant\":0,"
			      "\"users\":1}" },
	};
	preset_load(conf, "gatenuc", &nuc);
	peer_pid = peer_start(s3, 4);
	if (agent_client_connect(&c, &ao, err, sizeof err) < 0 ||
	    agent_client_open(c, getpid(), &rq, err, sizeof err) < 0)
		tap_bail("cannot open a batch with the scripted agent");
	go.preset = &nuc;
	if (gate_new(&g, &go, err, sizeof err) < 0)
		tap_bail("cannot make a gate");
	gate_set_agent(g, c);
	put_snap(1.0, 0);
	is_int(tick(g, 0, 5, &a), 1, "ignores others, grant 0 of 2 users' "
	       "idle PUs: its even share, 1");
	is_int(tick(g, 0, 5, &a), 2, "... alone: both PUs");
	is_int(peer_end(peer_pid), 0, "the third agent's checks");
	gate_free(g);
	agent_client_free(c);

	/* where other batches' tasks are */
#define TAKEN(n, t, y) "{\"v\":1,\"ok\":true,\"grant\":" #n ",\"users\":2," \
		       "\"killed\":false,\"taken\":" t ",\"yield\":" y "}"
	const struct step s4[] = {
		{ "hello", 0, hello }, { "open", 1, OPENED },
		{ "lease|\"pus\":[]", 0, TAKEN(1, "[0]", "[]") },
		{ "lease|\"pus\":[0]", 0, TAKEN(2, "[0]", "[0]") },
		{ "lease|\"pus\":[]", 0, TAKEN(2, "[0,1]", "[]") },
	};
	peer_pid = peer_start(s4, 5);
	if (agent_client_connect(&c, &ao, err, sizeof err) < 0 ||
	    agent_client_open(c, getpid(), &rq, err, sizeof err) < 0)
		tap_bail("cannot open a batch with the scripted agent");
	go.preset = &p;
	if (gate_new(&g, &go, err, sizeof err) < 0)
		tap_bail("cannot make a gate");
	gate_set_agent(g, c);
	put_snap(0, 0);
	is_int(tick(g, 0, 5, &a), 1, "PU 0 taken by another batch, grant 1: "
	       "one start");
	is_int(a.pus[0], 1, "... on PU 1 (it went to PU 0 before)");
	is_int(tick(g, 1, 5, &a), 0, "ours on PU 0, which an older batch "
	       "holds: no start (PU 1 is where it goes)");
	ok(a.nactions == 1 && a.actions[0].kind == GATE_MOVE &&
		   a.actions[0].id == 1 && a.actions[0].pu == 1,
	   "... the worker moves from PU 0 to PU 1");
	is_int(tick(g, 0, 5, &a), 2, "both PUs taken, grant 2: two starts");
	ok(a.pus[0] == -1 && a.pus[1] == -1 && a.cpus[0] == -1 &&
		   a.cpus[1] == -1, "... sharing, so not pinned");
	is_int(peer_end(peer_pid), 0, "the fourth agent got each lease's "
	       "\"pus\"");
	gate_free(g);
	agent_client_free(c);
#undef TAKEN
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	ok(system(cmd) == 0, "temporary trees removed");
	return tap_done();
}
