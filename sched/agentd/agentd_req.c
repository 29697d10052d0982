/* sched/agentd/agentd_req: what each request of sched/agent_proto.h does
 * in nicely-agent: the version check, then hello, open, adopt, lease
 * (with the CPUs other batches hold), list and kill, every field checked
 * (types, ranges, names) before use and every refusal one line saying
 * why. Called by agentd_conn.c for each whole line, in the agent's loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/topology.h"
#include "sched/agent_proto.h"
#include "sched/agentd/agentd_int.h"
#include "sched/cgroup_agent.h"
#include "sched/jsonx.h"


/* An integer member in [lo, hi], or def when missing; -1 (and an error
 * answer) when present but not such an integer. */
static int req_int(struct agentd_conn *c, json_t *msg, const char *key,
		   long long lo, long long hi, long long def, long long *out)
{
	json_t *v = json_object_get(msg, key);

	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi) {
		agentd_conn_error(c, 0, "\"%s\" must be an integer from %lld "
				  "to %lld", key, lo, hi);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

/* A string member, NULL when missing; "bad" set (and an error answer)
 * when present but not a string. */
static const char *req_str(struct agentd_conn *c, json_t *msg,
			   const char *key, int *bad)
{
	json_t *v = json_object_get(msg, key);

	if (!v)
		return NULL;
	if (!json_is_string(v)) {
		agentd_conn_error(c, 0, "\"%s\" must be a string", key);
		*bad = 1;
		return NULL;
	}
	return json_string_value(v);
}

/* "hello" */
static void req_hello(struct agentd_conn *c)
{
	struct agentd *d = c->d;

	agentd_conn_answer(c, json_pack("{s:s,s:s,s:s,s:s,s:i,s:b,s:i,s:s}",
					"agent", NICELY_VERSION, "mode",
					d->mode, "root", cga_root(d->cga),
					"base", cga_base(d->cga), "uid",
					(int)c->uid, "admin", c->admin,
					"tick_ms", d->tick_ms, "snapshot",
					d->snap));
}

/* The answer to open and adopt. */
static void req_placed(struct agentd_conn *c, struct agentd_batch *b,
		       const char *note)
{
	char group[512];
	json_t *o;

	agentd_batch_group(b, group, sizeof group);
	o = json_pack("{s:s,s:s}", "batch", b->name, "group", group);
	if (o && b->weight)
		json_object_set_new(o, "weight", json_string(b->weight));
	if (o && note && *note)
		jsonx_sets(o, "note", note);
	agentd_conn_answer(c, o);
}

/* Take the pidfd the request came with; -1 (and an error answer) when it
 * came with none, or with more than one. */
static int req_pidfd(struct agentd_conn *c, const char *cmd)
{
	int fd = c->pidfd;

	if (c->fd_error) {
		if (fd >= 0)
			close(fd);
		c->pidfd = -1;
		c->fd_error = 0;
		agentd_conn_error(c, 0, "%s takes exactly one file descriptor "
				  "(the owner's pidfd); more, or a truncated "
				  "set, came", cmd);
		return -1;
	}
	if (fd < 0) {
		agentd_conn_error(c, 0, "%s needs the owner's pidfd, sent with "
				  "the request as SCM_RIGHTS", cmd);
		return -1;
	}
	c->pidfd = -1;
	return fd;
}

/* The pidfd's live process, of the peer's uid (root: anyone's). */
static pid_t req_owner(struct agentd_conn *c, int pidfd)
{
	char err[512];
	pid_t pid = agentd_pidfd_pid(pidfd, err, sizeof err);

	if (pid > 0 && c->uid != 0 &&
	    agentd_pid_uid_check(pid, c->uid, err, sizeof err) < 0)
		pid = -EPERM;
	if (pid > 0 && !agentd_pidfd_alive(pidfd)) {
		snprintf(err, sizeof err, "process %d has exited", (int)pid);
		pid = -ESRCH;
	}
	if (pid <= 0)
		agentd_conn_error(c, 0, "%s", err);
	return pid;
}

/* "open" */
static void req_open(struct agentd_conn *c, json_t *msg)
{
	struct agentd_open op = { 0 };
	struct agentd_batch *b;
	const char *w;
	long long nice, mem;
	char note[512] = "", err[1024];
	int bad = 0, pidfd, wi;
	pid_t pid;

	if (c->batch) {
		agentd_conn_error(c, 0, "this connection has opened batch %s "
				  "already (one open per connection)",
				  c->batch->name);
		return;
	}
	op.preset = req_str(c, msg, "preset", &bad);
	if (bad)
		return;
	if (op.preset && (strlen(op.preset) >= POLICY_NAME_MAX ||
			  strpbrk(op.preset, "/\n"))) {
		agentd_conn_error(c, 0, "\"preset\" is not a preset name");
		return;
	}
	w = req_str(c, msg, "weight", &bad);
	if (bad)
		return;
	for (wi = 0; w && wi < 3 && strcmp(w, agentd_weight_names[wi]); wi++)
		;
	if (!w || wi == 3) {
		agentd_conn_error(c, 0, "\"weight\" must be idle, low or "
				  "normal");
		return;
	}
	op.weight = (enum policy_weight)wi;
	if (req_int(c, msg, "nice", 0, 19, 19, &nice) < 0 ||
	    req_int(c, msg, "memory_max", 0, (long long)1 << 60, 0, &mem) < 0)
		return;
	op.nice = (int)nice;
	op.memory_max = (uint64_t)mem;
	op.cpus = req_str(c, msg, "cpus", &bad);
	if (bad)
		return;
	if (op.cpus && (strlen(op.cpus) > 1024 || !*op.cpus ||
			strspn(op.cpus, "0123456789,-") != strlen(op.cpus))) {
		agentd_conn_error(c, 0, "\"cpus\" is not a CPU list (like "
				  "0-3,8)");
		return;
	}
	json_t *cmd = json_object_get(msg, "command");
	if (cmd && !json_is_string(cmd)) {
		agentd_conn_error(c, 0, "\"command\" must be a string");
		return;
	}
	if (cmd) {
		op.command = json_string_value(cmd);
		op.command_len = json_string_length(cmd);
	}
	if ((pidfd = req_pidfd(c, AGENT_CMD_OPEN)) < 0)
		return;
	if ((pid = req_owner(c, pidfd)) <= 0) {
		close(pidfd);
		return;
	}
	if (agentd_batch_open(c->d, c, pidfd, pid, &op, &b, note, sizeof note,
			      err, sizeof err) < 0) {
		agentd_conn_error(c, 0, "%s", err);
		return;
	}
	req_placed(c, b, note);
}

/* "adopt" */
static void req_adopt(struct agentd_conn *c, json_t *msg)
{
	struct agentd_batch *b;
	const char *name;
	int bad = 0, pidfd;
	pid_t pid;

	name = req_str(c, msg, "batch", &bad);
	if (bad)
		return;
	if (c->batch) {
		agentd_conn_error(c, 0, "this connection leases for batch %s "
				  "already", c->batch->name);
		return;
	}
	if ((pidfd = req_pidfd(c, AGENT_CMD_ADOPT)) < 0)
		return;
	if (!name) {
		close(pidfd);
		agentd_conn_error(c, 0, "adopt needs \"batch\"");
		return;
	}
	b = agentd_batch_find(c->d, name);
	if (!b || b->dead || (c->uid != 0 && b->uid != c->uid)) {
		close(pidfd);
		agentd_conn_error(c, 0, "no batch of yours named '%.200s'",
				  name);
		return;
	}
	if ((pid = req_owner(c, pidfd)) <= 0) {
		close(pidfd);
		return;
	}
	close(pidfd);
	if (pid != b->pid || !cga_batch_owned_by(c->d->cga, b->uid, b->name,
						 pid)) {
		agentd_conn_error(c, 0, "process %d is not the owner of batch "
				  "%s", (int)pid, b->name);
		return;
	}
	if (b->conn && b->conn != c)
		b->conn->batch = NULL;	/* the old connection leases no more */
	b->conn = c;
	c->batch = b;
	req_placed(c, b, "");
}

/* "pus": the Linux CPUs the batch's tasks are on, each a CPU of this
 * machine, into set (by bit). 0, or -1 with an error answer. */
static int req_pus(struct agentd_conn *c, json_t *msg, uint64_t *set)
{
	json_t *v = json_object_get(msg, "pus"), *e;
	size_t i;

	memset(set, 0, AGENT_CPU_WORDS * sizeof *set);
	if (!v)
		return 0;
	if (!json_is_array(v)) {
		agentd_conn_error(c, 0, "\"pus\" must be a list of CPU numbers");
		return -1;
	}
	json_array_foreach(v, i, e) {
		json_int_t cpu = json_is_integer(e) ? json_integer_value(e) : -1;

		if (cpu < 0 || cpu >= AGENT_CPUS_MAX ||
		    agent_topology_pu_of_os(c->d->topo, (int)cpu) < 0) {
			agentd_conn_error(c, 0, "\"pus\" item %zu is not a CPU "
					  "of this machine (an integer from 0 "
					  "to %d that it has)", i,
					  AGENT_CPUS_MAX - 1);
			return -1;
		}
		set[cpu / 64] |= (uint64_t)1 << (cpu % 64);
	}
	return 0;
}

/* The CPUs of set as a JSON array, ascending (NULL without memory). */
static json_t *req_cpu_list(const uint64_t *set)
{
	json_t *a = json_array();

	for (int w = 0; a && w < AGENT_CPU_WORDS; w++)
		for (int k = 0; k < 64 && set[w] >> k; k++)
			if ((set[w] >> k & 1) &&
			    json_array_append_new(a, json_integer(w * 64 + k))) {
				json_decref(a);
				return NULL;
			}
	return a;
}

/* What other live batches hold (taken) and which of b's CPUs a batch
 * known before b holds too (yield: b moves off them, never the older
 * one, so two batches never swap back and forth). The list is newest
 * first. */
static void req_taken(const struct agentd_batch *b, uint64_t *taken,
		      uint64_t *yield)
{
	int older = 0;

	memset(taken, 0, AGENT_CPU_WORDS * sizeof *taken);
	memset(yield, 0, AGENT_CPU_WORDS * sizeof *yield);
	for (const struct agentd_batch *o = b->d->batches; o; o = o->next) {
		if (o == b) {
			older = 1;
			continue;
		}
		if (o->dead)
			continue;
		for (int w = 0; w < AGENT_CPU_WORDS; w++) {
			taken[w] |= o->pus[w];
			if (older)
				yield[w] |= o->pus[w] & b->pus[w];
		}
	}
}

/* The lease's optional "reason" into buf (AGENT_REASON_MAX + 1 bytes):
 * a string of at most AGENT_REASON_MAX bytes without control characters;
 * "" when missing. 0, or -1 after refusing the request. */
static int req_reason(struct agentd_conn *c, json_t *msg, char *buf)
{
	json_t *r = json_object_get(msg, "reason");
	const char *s;
	size_t n;

	buf[0] = 0;
	if (!r)
		return 0;
	if (!json_is_string(r)) {
		agentd_conn_error(c, 0, "\"reason\" must be a string");
		return -1;
	}
	s = json_string_value(r);
	n = json_string_length(r);
	if (n > AGENT_REASON_MAX) {
		agentd_conn_error(c, 0, "\"reason\" is longer than %d bytes",
				  AGENT_REASON_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			agentd_conn_error(c, 0, "\"reason\" holds a control "
					  "character");
			return -1;
		}
	memcpy(buf, s, n);
	buf[n] = 0;
	return 0;
}

/* "lease" */
static void req_lease(struct agentd_conn *c, json_t *msg)
{
	char reason[AGENT_REASON_MAX + 1];
	struct agentd_batch *b = c->batch;
	long long want, holding, done, total, running;
	uint64_t pus[AGENT_CPU_WORDS], taken[AGENT_CPU_WORDS],
		yield[AGENT_CPU_WORDS];
	json_t *o;
	int grant;

	if (!b) {
		agentd_conn_error(c, 0, "lease before open or adopt on this "
				  "connection");
		return;
	}
	if (req_int(c, msg, "want", 0, 1 << 20, 0, &want) < 0 ||
	    req_int(c, msg, "holding", 0, 1 << 20, 0, &holding) < 0 ||
	    req_int(c, msg, "done", 0, (long long)1 << 62, 0, &done) < 0 ||
	    req_int(c, msg, "total", -1, (long long)1 << 62, -1, &total) < 0 ||
	    req_int(c, msg, "running", 0, 1 << 20, 0, &running) < 0 ||
	    req_pus(c, msg, pus) < 0 || req_reason(c, msg, reason) < 0)
		return;
	memcpy(b->pus, pus, sizeof pus);
	memcpy(b->reason, reason, sizeof reason);
	b->want = (int)want;
	b->holding = (int)holding;
	b->done = done;
	b->total = total;
	b->running = (int)running;
	grant = b->grant > b->holding ? b->grant : b->holding;
	req_taken(b, taken, yield);
	o = json_pack("{s:i,s:i,s:b,s:o*,s:o*}", "grant", grant, "users",
		      c->d->users_wanting, "killed", b->killed, "taken",
		      req_cpu_list(taken), "yield", req_cpu_list(yield));
	if (o && (!json_object_get(o, "taken") ||
		  !json_object_get(o, "yield"))) {
		json_decref(o);
		o = NULL;
	}
	agentd_conn_answer(c, o);
}

/* "list" */
static void req_list(struct agentd_conn *c, json_t *msg)
{
	json_t *all = json_object_get(msg, "all"), *arr, *o;
	int every = all && json_is_true(all);
	size_t cut = AGENT_TEXT_MAX;

	if (all && !json_is_boolean(all)) {
		agentd_conn_error(c, 0, "\"all\" must be true or false");
		return;
	}
	if (every && !c->admin) {
		agentd_conn_error(c, 0, "only root and the [agent] admins may "
				  "list every user's batches");
		return;
	}
	/* commands are cut shorter until the answer fits in one line */
	for (;;) {
		arr = json_array();
		for (struct agentd_batch *b = c->d->batches; arr && b;
		     b = b->next) {
			if (b->dead || (!every && b->uid != c->uid))
				continue;
			o = json_pack("{s:s,s:i,s:s,s:i,s:s,s:s,s:i,s:i,s:f,"
				      "s:I,s:I,s:i}", "user", b->user, "uid",
				      (int)b->uid, "batch", b->name, "pid",
				      (int)b->pid, "preset", b->preset,
				      "weight", b->weight ? b->weight : "",
				      "grant", b->grant, "holding",
				      b->holding, "cpu_share", b->cpu_share,
				      "done", (json_int_t)b->done, "total",
				      (json_int_t)b->total, "running",
				      b->running);
			if (o && (json_object_set_new(o, "pus",
						      req_cpu_list(b->pus)) ||
				  json_object_set_new(o, "reason",
						      json_string(b->reason)))) {
				json_decref(o);
				o = NULL;
			}
			if (o && b->command) {
				size_t n = strlen(b->command);
				if (n > cut) {
					n = cut;
					while (n > 0 &&
					       ((unsigned char)b->command[n] &
						0xc0) == 0x80)
						n--;
				}
				jsonx_set(o, "command", b->command, n);
			} else if (o) {
				jsonx_sets(o, "command", "");
			}
			json_array_append_new(arr, o);
		}
		o = json_pack("{s:o}", "batches", arr);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		size_t len = s ? strlen(s) : 0;
		free(s);
		if (!o || len + 64 < AGENT_LINE_MAX || cut == 0) {
			if (o && len + 64 >= AGENT_LINE_MAX) {
				json_decref(o);
				agentd_conn_error(c, 0, "too many batches to "
						  "list in one answer");
				return;
			}
			agentd_conn_answer(c, o);
			return;
		}
		json_decref(o);
		cut = cut > 64 ? 64 : 0;
	}
}

/* "kill" */
static void req_kill(struct agentd_conn *c, json_t *msg)
{
	const char *batch, *user;
	int bad = 0, n = 0;
	long uid = -1;

	batch = req_str(c, msg, "batch", &bad);
	if (!bad)
		user = req_str(c, msg, "user", &bad);
	if (bad)
		return;
	if (!batch == !user) {
		agentd_conn_error(c, 0, "kill needs \"batch\" or \"user\" (one "
				  "of them)");
		return;
	}
	if (user) {
		uid = agentd_user_uid(user);
		if (uid < 0) {
			agentd_conn_error(c, 0, "no user named '%.64s'", user);
			return;
		}
		if ((uid_t)uid != c->uid && !c->admin) {
			agentd_conn_error(c, 0, "only root and the [agent] "
					  "admins may kill another user's "
					  "batches");
			return;
		}
	} else {
		struct agentd_batch *b = agentd_batch_find(c->d, batch);
		if (!b || b->dead || (b->uid != c->uid && !c->admin)) {
			agentd_conn_error(c, 0, "no batch of yours named "
					  "'%.200s'", batch);
			return;
		}
	}
	for (struct agentd_batch *b = c->d->batches; b; b = b->next) {
		if (b->dead || (user && b->uid != (uid_t)uid) ||
		    (batch && strcmp(b->name, batch)))
			continue;
		agentd_batch_kill(b);
		n++;
	}
	/* answered when they are empty (agentd_conn_kill_answer) */
	c->kill_wait = 1;
	c->kill_n = n;
	c->kill_uid = batch ? -1 : uid;
	snprintf(c->kill_batch, sizeof c->kill_batch, "%s", batch ? batch : "");
	agentd_conn_kill_answer(c->d);
}

/* One request line. */
void agentd_req_handle(struct agentd_conn *c, const char *line, size_t len)
{
	json_error_t je;
	json_t *msg, *v, *cmd;
	const char *name;

	msg = json_loadb(line, len, 0, &je);
	if (!msg || !json_is_object(msg)) {
		agentd_conn_error(c, 0, "not a JSON object%s%s",
				  msg ? "" : ": ", msg ? "" : je.text);
		json_decref(msg);
		return;
	}
	v = json_object_get(msg, "v");
	if (!json_is_integer(v) ||
	    json_integer_value(v) != AGENT_PROTO_VERSION) {
		char got[32] = "none";

		if (json_is_integer(v))
			snprintf(got, sizeof got, "%lld",
				 (long long)json_integer_value(v));
		agentd_conn_error(c, 1, "protocol version mismatch: the client "
				  "speaks version %s, nicely-agent %s speaks "
				  "version %d", got, NICELY_VERSION,
				  AGENT_PROTO_VERSION);
		json_decref(msg);
		return;
	}
	cmd = json_object_get(msg, "cmd");
	name = json_is_string(cmd) ? json_string_value(cmd) : NULL;
	if (!name)
		agentd_conn_error(c, 0, "request without a \"cmd\" string");
	else if (!strcmp(name, AGENT_CMD_HELLO))
		req_hello(c);
	else if (!strcmp(name, AGENT_CMD_OPEN))
		req_open(c, msg);
	else if (!strcmp(name, AGENT_CMD_ADOPT))
		req_adopt(c, msg);
	else if (!strcmp(name, AGENT_CMD_LEASE))
		req_lease(c, msg);
	else if (!strcmp(name, AGENT_CMD_LIST))
		req_list(c, msg);
	else if (!strcmp(name, AGENT_CMD_KILL))
		req_kill(c, msg);
	else if (!strcmp(name, AGENT_CMD_SUBMIT))
		agentd_held_submit(c, msg);
	else if (!strcmp(name, AGENT_CMD_DASHBOARD))
		agentd_dash_req(c, msg);
	else
		agentd_conn_error(c, 0, "unknown command '%.64s' (hello, open, "
				  "adopt, lease, list, kill, submit, "
				  "dashboard)", name);
	/* an fd that came with a request that takes none is not kept */
	if (c->pidfd >= 0 && c->w.fd >= 0) {
		close(c->pidfd);
		c->pidfd = -1;
	}
	c->fd_error = 0;
	json_decref(msg);
}
