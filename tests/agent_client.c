/* sched/agent_client against a scripted peer: a child of the test listens
 * on a temporary socket and answers each request per a script, checking
 * the command and, on open and adopt, that a pidfd of the expected owner
 * came over SCM_RIGHTS. Covers hello and its fields, open / lease / list /
 * kill, an agent of another protocol version, no agent (missing socket,
 * nobody listening), an agent that never answers (the timeout, the
 * connection then down), the agent gone mid-batch and back (reconnect and
 * adopt), and the snapshot file (fresh, stale, other version, garbage,
 * CPUs mapped to PUs). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/sampler.h"
#include "agent/topology.h"
#include "sched/agent_client.h"
#include "sched/agent_proto.h"
#include "tests/agent_peer.h"
#include "tests/tap.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

static char tmp[64];

#define HELLO "{\"v\":1,\"ok\":true,\"agent\":\"0.2.0\",\"mode\":\"v1\"," \
	      "\"root\":\"/sys/fs/cgroup\",\"base\":\"nicely\",\"uid\":0," \
	      "\"admin\":true,\"tick_ms\":250,\"snapshot\":\"/x/snap\"}"
#define OPENED "{\"v\":1,\"ok\":true,\"batch\":\"u-1-1\"," \
	       "\"group\":\"nicely/user-0/u-1-1\",\"weight\":\"idle\"}"

static void t_session(void)
{
	struct agent_client_opts o = AGENT_CLIENT_OPTS_INIT;
	struct agent_open_req rq = { "gentle", "idle", 19, 1 << 20, NULL,
				     "sleep 1" };
	const int held[] = { 2, 0 };
	struct agent_lease_req lr = { 4, 1, 2, 10, 1, held, 2, "max_pus 2 reached" };
	struct agent_lease_ans la;
	struct agent_client *c;
	json_t *list = NULL;
	char err[512];
	int nk = -1;
	const struct step s[] = {
		{ "hello", 0, HELLO },
		{ "open", 1, OPENED },
		{ "lease|\"pus\":[2,0],\"reason\":\"max_pus 2 reached\"", 0,
		  "{\"v\":1,\"ok\":true,\"grant\":3,\"users\":2,"
		  "\"killed\":false,\"taken\":[1,3,8191],\"yield\":[2]}" },
		{ "list", 0, "{\"v\":1,\"ok\":true,\"batches\":[{\"user\":"
			     "\"u\",\"batch\":\"u-1-1\"}]}" },
		{ "kill", 0, "{\"v\":1,\"ok\":true,\"killed\":2}" },
		{ "lease", 0, "{\"v\":1,\"ok\":true,\"grant\":0,\"users\":1,"
			      "\"killed\":true}" },
		{ "kill", 0, "{\"v\":1,\"ok\":false,\"error\":\"not yours\"}" },
	};
	pid_t p = peer_start(s, 7);

	o.socket = sock;
	is_int(agent_client_connect(&c, &o, err, sizeof err), 0,
	       "connect and hello");
	ok(agent_client_admin(c) && agent_client_tick_ms(c) == 250 &&
		   !strcmp(agent_client_mode(c), "v1") &&
		   !strcmp(agent_client_snapshot_path(c), "/x/snap"),
	   "hello's fields are kept");
	is_int(agent_client_open(c, getpid(), &rq, err, sizeof err), 0,
	       "open with our pidfd");
	is_str(agent_client_group(c), "nicely/user-0/u-1-1", "the group");
	is_str(agent_client_batch(c), "u-1-1", "the batch");
	is_int(agent_client_lease(c, &lr, &la, err, sizeof err), 0, "lease");
	ok(la.grant == 3 && la.users == 2 && !la.killed, "the grant");
	ok(la.taken[0] == 0xa && la.yield[0] == 0x4 &&
		   la.taken[AGENT_CPU_WORDS - 1] == (uint64_t)1 << 63,
	   "the CPUs others hold (1, 3, 8191) and those to yield (2)");
	is_int(agent_client_list(c, 1, &list, err, sizeof err), 0, "list");
	ok(json_array_size(list) == 1, "list's batches");
	json_decref(list);
	is_int(agent_client_kill(c, NULL, "u", &nk, err, sizeof err), 0,
	       "kill --user");
	is_int(nk, 2, "batches killed");
	agent_client_lease(c, &lr, &la, err, sizeof err);
	ok(la.killed, "a lease says the batch was killed");
	is_int(agent_client_kill(c, "x", NULL, &nk, err, sizeof err),
	       -EREMOTEIO, "a refusal");
	ok(strstr(err, "not yours") != NULL, "... with the agent's reason: %s",
	   err);
	ok(agent_client_up(c), "a refusal keeps the connection");
	agent_client_free(c);
	is_int(peer_end(p), 0, "the peer saw every request as it should "
	       "(the pidfd was ours)");
}

static void t_version(void)
{
	struct agent_client_opts o = AGENT_CLIENT_OPTS_INIT;
	struct agent_client *c;
	char err[512];
	const struct step s[] = {
		{ "hello", 0, "{\"v\":2,\"ok\":false,\"error\":\"protocol "
			      "version 1 is not 2\"}" },
	};
	pid_t p = peer_start(s, 1);

	o.socket = sock;
	is_int(agent_client_connect(&c, &o, err, sizeof err), -EPROTO,
	       "another version: -EPROTO");
	ok(strstr(err, "version 2") && strstr(err, "version 1"),
	   "the message names both versions: %s", err);
	peer_end(p);
}

static void t_absent(void)
{
	struct agent_client_opts o = AGENT_CLIENT_OPTS_INIT;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct agent_client *c;
	char err[512];
	int fd;

	unlink(sock);
	o.socket = sock;
	is_int(agent_client_connect(&c, &o, err, sizeof err), -ENOENT,
	       "no socket: -ENOENT");
	ok(strstr(err, "no nicely-agent") != NULL, "it says so: %s", err);
	/* a socket nobody listens on (an agent that died) */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		tap_bail("bind");
	close(fd);
	is_int(agent_client_connect(&c, &o, err, sizeof err), -ECONNREFUSED,
	       "nobody listening: -ECONNREFUSED");
	unlink(sock);
	setenv(AGENT_SOCK_ENV, "/nonexistent/agent.sock", 1);
	is_str(agent_client_socket_path(NULL), "/nonexistent/agent.sock",
	       "NICELY_AGENT_SOCKET names the socket");
	unsetenv(AGENT_SOCK_ENV);
	is_str(agent_client_socket_path(NULL), AGENT_SOCK_DEFAULT,
	       "else the default");
}

/* Milliseconds between two monotonic times. */
static long ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 +
	       (b.tv_nsec - a->tv_nsec) / 1000000;
}

static void t_timeout(void)
{
	struct agent_client_opts o = AGENT_CLIENT_OPTS_INIT;
	struct agent_lease_req lr = { 1, 0, 0, -1, 0, NULL, 0, NULL };
	struct agent_lease_ans la;
	struct agent_open_req rq = { "p", "low", 10, 0, "0-1", NULL };
	struct agent_client *c;
	struct timespec t0;
	char err[512];
	const struct step s[] = {
		{ "hello", 0, HELLO },
		{ "open", 1, OPENED },
		{ "lease", 0, NULL },	/* silence */
	};
	pid_t p = peer_start(s, 3);

	o.socket = sock;
	o.timeout_ms = 300;
	is_int(agent_client_connect(&c, &o, err, sizeof err), 0, "connect");
	is_int(agent_client_open(c, getpid(), &rq, err, sizeof err), 0,
	       "open");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(agent_client_lease(c, &lr, &la, err, sizeof err), -ETIMEDOUT,
	       "a silent agent: -ETIMEDOUT");
	long ms = ms_since(&t0);
	ok(ms >= 250 && ms < 1500, "after the timeout (%ld ms)", ms);
	ok(!agent_client_up(c), "the connection is down then");
	is_int(agent_client_lease(c, &lr, &la, err, sizeof err), -ENOTCONN,
	       "and stays so until a reconnect");
	agent_client_free(c);
	kill(p, SIGKILL);
	peer_end(p);
}

static void t_reconnect(void)
{
	struct agent_client_opts o = AGENT_CLIENT_OPTS_INIT;
	struct agent_lease_req lr = { 2, 1, 0, 4, 1, NULL, 0, NULL };
	struct agent_lease_ans la;
	struct agent_open_req rq = { "p", "normal", 0, 0, NULL, NULL };
	struct agent_client *c;
	char err[512];
	const struct step s1[] = {
		{ "hello", 0, HELLO },
		{ "open", 1, OPENED },
		{ "lease", 0, "CLOSE" },	/* the agent dies */
	};
	const struct step s2[] = {
		{ "hello", 0, HELLO },
		{ "adopt", 1, OPENED },
		{ "lease", 0, "{\"v\":1,\"ok\":true,\"grant\":2,\"users\":1}" },
	};
	pid_t p = peer_start(s1, 3);

	o.socket = sock;
	agent_client_connect(&c, &o, err, sizeof err);
	is_int(agent_client_open(c, getpid(), &rq, err, sizeof err), 0,
	       "open");
	ok(agent_client_lease(c, &lr, &la, err, sizeof err) == -ECONNRESET,
	   "the agent gone mid-batch: the lease fails (%s)", err);
	ok(!agent_client_up(c), "down");
	is_int(peer_end(p), 0, "first agent's checks");
	unlink(sock);
	ok(agent_client_reconnect(c, err, sizeof err) == -ENOENT,
	   "no agent yet: the reconnect fails");
	p = peer_start(s2, 3);
	is_int(agent_client_reconnect(c, err, sizeof err), 0,
	       "the agent is back: reconnect and adopt");
	ok(agent_client_up(c), "up again");
	is_int(agent_client_lease(c, &lr, &la, err, sizeof err), 0,
	       "leases again");
	is_int(la.grant, 2, "its grant");
	int none = 1;
	for (int w = 0; w < AGENT_CPU_WORDS; w++)
		none = none && !la.taken[w] && !la.yield[w];
	ok(none, "an answer without \"taken\" and \"yield\" (an agent "
	   "before them): nobody else holds a CPU");
	agent_client_free(c);
	is_int(peer_end(p), 0, "the new agent got the batch's name and the "
	       "owner's pidfd with adopt");
}

/* A lease answer's "taken" and "yield" that are not lists of CPU numbers
 * below AGENT_CPUS_MAX: -EPROTO naming the field; the connection stays. */
static void t_lease_lists(void)
{
	struct agent_client_opts o = AGENT_CLIENT_OPTS_INIT;
	struct agent_lease_req lr = { 1, 0, 0, -1, 0, NULL, 0, NULL };
	struct agent_lease_ans la;
	struct agent_open_req rq = { "p", "normal", 0, 0, NULL, NULL };
	struct agent_client *c;
	char err[512];
#define LA(rest) "{\"v\":1,\"ok\":true,\"grant\":1,\"users\":1," rest "}"
	static const struct {
		const char *answer, *field, *what;
	} bad[] = {
		{ LA("\"taken\":\"0-3\""), "taken", "a string" },
		{ LA("\"taken\":[1,-1]"), "taken", "a negative CPU" },
		{ LA("\"taken\":[0.5]"), "taken", "a fraction" },
		{ LA("\"yield\":[8192]"), "yield", "CPU 8192" },
		{ LA("\"yield\":{}"), "yield", "an object" },
	};
	const struct step s[] = {
		{ "hello", 0, HELLO },
		{ "open", 1, OPENED },
		{ "lease|\"pus\":[]", 0, bad[0].answer },
		{ "lease", 0, bad[1].answer },
		{ "lease", 0, bad[2].answer },
		{ "lease", 0, bad[3].answer },
		{ "lease", 0, bad[4].answer },
		{ "lease", 0, LA("\"taken\":[],\"yield\":[]") },
	};
	pid_t p = peer_start(s, 8);

	o.socket = sock;
	agent_client_connect(&c, &o, err, sizeof err);
	is_int(agent_client_open(c, getpid(), &rq, err, sizeof err), 0,
	       "open");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char want[64];

		snprintf(want, sizeof want, "\"%s\" that is not a list of CPU",
			 bad[i].field);
		err[0] = 0;
		is_int(agent_client_lease(c, &lr, &la, err, sizeof err),
		       -EPROTO, "a lease answer with %s in \"%s\": -EPROTO",
		       bad[i].what, bad[i].field);
		ok(strstr(err, want) != NULL, "... saying so: %s", err);
	}
	is_int(agent_client_lease(c, &lr, &la, err, sizeof err), 0,
	       "empty lists: fine, and the connection served on");
	agent_client_free(c);
	is_int(peer_end(p), 0, "the peer's checks (no pus: an empty list)");
#undef LA
}

/* Write text to tmp/name and return the path (static). */
static const char *put(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmp, name);
	if (!(f = fopen(path, "w")) || fputs(text, f) < 0 || fclose(f))
		tap_bail("cannot write a fixture");
	return path;
}

static void t_snapshot(void)
{
	struct agent_topology *topo;
	struct agent_pu_load pu[4];
	struct agent_snapshot s = { .pu = pu };
	char err[512];
	const char *f;

	if (agent_topology_load(&topo, "synthetic:pack:1 core:4 pu:1", err,
				sizeof err) < 0)
		tap_bail("cannot load a synthetic topology");
	f = put("fresh", "{\"v\":1,\"seq\":7,\"t_ms\":100000,\"tick_ms\":250,"
		"\"cpus\":[{\"cpu\":0,\"busy\":0.25,\"online\":true},"
		"{\"cpu\":1,\"busy\":1.5,\"online\":true},"
		"{\"cpu\":2,\"busy\":0.5,\"online\":false},"
		"{\"cpu\":99,\"busy\":0}],\"loadavg\":[1.5,1,0.5],"
		"\"psi_some_avg10\":2.5,\"psi_recent\":0.1,"
		"\"mem_total_kb\":1000,\"mem_available_kb\":400}\n");
	is_int(agent_client_snapshot_read(f, topo, 100500, &s, err,
					  sizeof err), 0, "a fresh snapshot");
	ok(s.valid && s.npus == 4, "valid, one load per PU");
	is_near(s.pu[0].busy_others, 0.25, 1e-9, "CPU 0's busy");
	is_near(s.pu[1].busy_others, 1.0, 1e-9, "a busy over 1 is 1");
	ok(!s.pu[2].online && s.pu[2].busy_others == 1.0,
	   "an offline CPU is not usable");
	ok(!s.pu[3].online && s.pu[3].busy_others == 1.0,
	   "a CPU the file leaves out is not usable");
	ok(s.loadavg[0] == 1.5 && s.has_psi && s.psi_some_avg10 == 2.5 &&
		   s.mem_available_kb == 400,
	   "load average, PSI, memory");
	is_int(agent_client_snapshot_read(f, topo, 100750, &s, err,
					  sizeof err), 0,
	       "3 ticks old: still fresh");
	is_int(agent_client_snapshot_read(f, topo, 100751, &s, err,
					  sizeof err), -ESTALE,
	       "older: stale (%s)", err);
	is_int(agent_client_snapshot_read(f, topo, 90000, &s, err,
					  sizeof err), -ESTALE,
	       "from the future: stale");
	f = put("v2", "{\"v\":2,\"t_ms\":100000,\"tick_ms\":250,\"cpus\":[]}");
	is_int(agent_client_snapshot_read(f, topo, 100000, &s, err,
					  sizeof err), -EPROTO,
	       "another version: -EPROTO");
	f = put("bad", "{\"v\":1,\"t_ms\":100000,");
	is_int(agent_client_snapshot_read(f, topo, 100000, &s, err,
					  sizeof err), -EPROTO,
	       "half a file: -EPROTO");
	snprintf(err, sizeof err, "%s/none", tmp);
	char none[128];
	snprintf(none, sizeof none, "%s", err);
	is_int(agent_client_snapshot_read(none, topo, 100000, &s, err,
					  sizeof err), -ENOENT,
	       "no file: -ENOENT");
	agent_topology_free(topo);
}

int main(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/nicely-agent-client.XXXXXX");
	if (!mkdtemp(tmp))
		tap_bail("mkdtemp");
	snprintf(sock, sizeof sock, "%s/agent.sock", tmp);
	signal(SIGPIPE, SIG_IGN);
	t_session();
	t_version();
	t_absent();
	t_timeout();
	t_reconnect();
	t_lease_lists();
	t_snapshot();
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		tap_diag("cannot remove %s", tmp);
	return tap_done();
}
