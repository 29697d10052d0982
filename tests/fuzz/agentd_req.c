/* libFuzzer target for nicely-agent's request handling
 * (sched/agentd/agentd_req.c, fed line by line as agentd_conn.c does):
 * any bytes give, per line, exactly one answer line that is a JSON object
 * with "v" and "ok" (and "error" when ok is false), and never a crash, on
 * an agent with a fake cgroup tree and no batches. Seeds in
 * tests/fuzz/seeds-agentd_req/. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "sched/agent_proto.h"
#include "sched/agentd/agentd_int.h"
#include "sched/cgroup_agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct agentd d;
static char dir[] = "/tmp/nicely-fuzz-agentd.XXXXXX";

/* Remove the fake tree at exit. */
static void fuzz_cleanup(void)
{
	char cmd[128];

	cga_close(d.cga);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* A fake cgroup2 root for the agent's tree (hello names it). */
static void fuzz_init(void)
{
	struct cga_opts o = { 0 };
	char p[256], err[256];
	FILE *f;

	if (d.cga)
		return;
	if (!mkdtemp(dir))
		abort();
	atexit(fuzz_cleanup);
	snprintf(p, sizeof p, "%s/cgroup.controllers", dir);
	if (!(f = fopen(p, "w")))
		abort();
	fputs("cpu memory pids\n", f);
	fclose(f);
	o.root = dir;
	o.trace_path = "/dev/null";
	if (cga_open(&d.cga, &o, err, sizeof err) < 0) {
		fprintf(stderr, "cga_open: %s\n", err);
		abort();
	}
	d.mode = "fake";
	d.tick_ms = 500;
	snprintf(d.snap, sizeof d.snap, "%s/snapshot", dir);
	d.fence.max_weight = POLICY_WEIGHT_NORMAL;
	d.fence.min_nice = -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agentd_conn c;
	int sv[2];
	size_t nlines = 0, nans = 0, off = 0;

	fuzz_init();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	memset(&c, 0, sizeof c);
	c.d = &d;
	c.w.fd = sv[0];
	c.pidfd = -1;
	c.uid = 1000;
	/* each line as the connection hands it over */
	while (off < size && !c.closing) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (data + off)) : size - off;
		char *line = malloc(len + 1);

		if (!line)
			break;
		memcpy(line, data + off, len);
		line[len] = 0;
		agentd_req_handle(&c, line, len);
		free(line);
		nlines++;
		off += len + 1;
	}
	/* one answer line per request, each a JSON object with v and ok */
	for (size_t i = 0; i < c.outlen;) {
		char *e = memchr(c.out + i, '\n', c.outlen - i);
		json_error_t je;
		json_t *a;

		if (!e)
			abort();
		a = json_loadb(c.out + i, (size_t)(e - (c.out + i)), 0, &je);
		if (!a || !json_is_object(a) ||
		    json_integer_value(json_object_get(a, "v")) !=
			    AGENT_PROTO_VERSION ||
		    !json_is_boolean(json_object_get(a, "ok")) ||
		    (json_is_false(json_object_get(a, "ok")) &&
		     !json_is_string(json_object_get(a, "error"))))
			abort();
		json_decref(a);
		nans++;
		i = (size_t)(e - c.out) + 1;
	}
	if (nans != nlines)
		abort();
	free(c.out);
	free(c.in);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
