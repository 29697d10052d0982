/* sched/agentd/snapshot: the machine as the agent sampled it, written once
 * per tick for every client to read (format in sched/agent_proto.h): one
 * JSON line to a temporary file beside it, then renamed over it, mode
 * 0644. Called from the agent's tick. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "agent/errmsg.h"
#include "agent/sampler.h"
#include "agent/topology.h"
#include "sched/agent_proto.h"
#include "sched/agentd/agentd_int.h"

/* Write the snapshot file. */
int agentd_snapshot_write(struct agentd *d, char *err, size_t errlen)
{
	const struct agent_snapshot *s = d->last;
	const struct agent_pu *pus = agent_topology_pus(d->topo);
	char tmp[sizeof d->snap + 32];
	json_t *o, *cpus;
	char *text;
	int fd, e = 0;
	size_t len;

	if (!s)
		return 0;
	cpus = json_array();
	for (int i = 0; cpus && i < s->npus; i++)
		json_array_append_new(cpus, json_pack("{s:i,s:f,s:b}", "cpu",
						      pus[i].os_index, "busy",
						      s->pu[i].busy_others,
						      "online", s->pu[i].online));
	o = json_pack("{s:i,s:I,s:I,s:i,s:o,s:[f,f,f],s:f,s:f,s:I,s:I}",
		      "v", AGENT_PROTO_VERSION, "seq", (json_int_t)d->seq,
		      "t_ms", (json_int_t)(s->t_ns / 1000000ull),
		      "tick_ms", d->tick_ms, "cpus", cpus,
		      "loadavg", s->loadavg[0], s->loadavg[1], s->loadavg[2],
		      "psi_some_avg10", s->has_psi ? s->psi_some_avg10 : 0.0,
		      "psi_recent", s->has_psi ? s->psi_some_recent : 0.0,
		      "mem_total_kb", (json_int_t)s->mem_total_kb,
		      "mem_available_kb", (json_int_t)s->mem_available_kb);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text) {
		errmsg_set(err, errlen, "cannot build the snapshot (out of "
			   "memory)");
		return -ENOMEM;
	}
	len = strlen(text);
	text[len++] = '\n';	/* json_dumps' NUL becomes the newline */
	snprintf(tmp, sizeof tmp, "%s.tmp%d", d->snap, (int)getpid());
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len ||
	    fchmod(fd, 0644) < 0) {
		e = -errno ? -errno : -EIO;
		errmsg_set(err, errlen, "cannot write %s: %s", tmp,
			   strerror(-e));
	}
	if (fd >= 0 && close(fd) < 0 && !e) {
		e = -errno;
		errmsg_set(err, errlen, "cannot write %s: %s", tmp,
			   strerror(-e));
	}
	if (!e && rename(tmp, d->snap) < 0) {
		e = -errno;
		errmsg_set(err, errlen, "cannot rename %s to %s: %s", tmp,
			   d->snap, strerror(-e));
	}
	if (e)
		unlink(tmp);
	free(text);
	return e;
}
