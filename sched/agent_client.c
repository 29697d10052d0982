/* sched/agent_client: one connection to nicely-agent (sched/agent_proto.h):
 * a line of JSON out (with the owner's pidfd on open and adopt), a line
 * back, each within a deadline; the batch it opened, kept for adopting it
 * again after an agent restart; the snapshot file's reader. Called in the
 * owner thread of `nicely run`, of a pool (through sched/gate.c) and of
 * `nicely status / kill / top`. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent/sampler.h"
#include "agent/topology.h"
#include "policy/preset.h"
#include "sched/agent_client.h"
#include "sched/agent_proto.h"

struct agent_client {
	int fd;				/* -1 while down */
	int timeout_ms;
	char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	/* hello */
	int admin, tick_ms;
	char version[64], mode[16], root[PATH_MAX], snapshot[PATH_MAX];
	/* the batch */
	int owner_fd;			/* pidfd of its owner, -1 before open */
	char batch[256], group[PATH_MAX], weight[16], note[512];
	/* bytes read past the last answer's newline */
	char *rbuf;
	size_t rlen;
};

/* Monotonic milliseconds. */
static uint64_t ac_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Milliseconds left before deadline, at least 0. */
static int ac_left(uint64_t deadline)
{
	uint64_t now = ac_now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/* The socket path. */
const char *agent_client_socket_path(const struct agent_client_opts *o)
{
	const char *e = getenv(AGENT_SOCK_ENV);

	if (o && o->socket)
		return o->socket;
	return e && *e ? e : AGENT_SOCK_DEFAULT;
}

/* Copy a JSON string member into buf ("" when missing). */
static void ac_str(const json_t *o, const char *key, char *buf, size_t len)
{
	const char *s = json_string_value(json_object_get(o, key));

	snprintf(buf, len, "%s", s ? s : "");
}

/* Drop the connection: an answer it owes may come late, so it is never
 * read again. */
static void ac_down(struct agent_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->rlen = 0;
}

/* Connect to the socket within the deadline. 0 or -errno with err set. */
static int ac_dial(struct agent_client *c, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(c->sock) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "agent socket path too long: %s",
			 c->sock);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, c->sock, strlen(c->sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return e;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		e = errno == EAGAIN ? ETIMEDOUT : errno;
		close(fd);
		if (e == ENOENT || e == ECONNREFUSED)
			snprintf(err, errlen, "no nicely-agent at %s", c->sock);
		else if (e == ETIMEDOUT)
			snprintf(err, errlen, "nicely-agent at %s takes no "
				 "connection (its queue is full)", c->sock);
		else
			snprintf(err, errlen, "cannot connect to nicely-agent "
				 "at %s: %s", c->sock, strerror(e));
		return -e;
	}
	c->fd = fd;
	c->rlen = 0;
	return 0;
}

/* Send all of buf (n bytes), with fd_pass (>= 0) as SCM_RIGHTS on the
 * first byte, before deadline. 0 or -errno. */
static int ac_send(struct agent_client *c, const char *buf, size_t n,
		   int fd_pass, uint64_t deadline)
{
	size_t off = 0;

	while (off < n) {
		struct iovec iov = { (char *)buf + off, n - off };
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(int))];
		} cm;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		struct pollfd pf = { c->fd, POLLOUT, 0 };
		ssize_t w;

		if (fd_pass >= 0 && off == 0) {
			memset(&cm, 0, sizeof cm);
			mh.msg_control = cm.b;
			mh.msg_controllen = sizeof cm.b;
			struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
			h->cmsg_level = SOL_SOCKET;
			h->cmsg_type = SCM_RIGHTS;
			h->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(h), &fd_pass, sizeof(int));
		}
		w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return -errno;
		int left = ac_left(deadline);
		if (!left)
			return -ETIMEDOUT;
		int r = poll(&pf, 1, left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

/* Read one line (without its newline, NUL-terminated, malloc'd in *line)
 * before deadline. 0 or -errno (-ECONNRESET for EOF, -EMSGSIZE for a line
 * over AGENT_LINE_MAX). */
static int ac_recv_line(struct agent_client *c, char **line,
			uint64_t deadline)
{
	for (;;) {
		char *nl = c->rlen ? memchr(c->rbuf, '\n', c->rlen) : NULL;

		if (nl) {
			size_t n = (size_t)(nl - c->rbuf);

			if (!(*line = malloc(n + 1)))
				return -ENOMEM;
			memcpy(*line, c->rbuf, n);
			(*line)[n] = 0;
			c->rlen -= n + 1;
			memmove(c->rbuf, nl + 1, c->rlen);
			return 0;
		}
		if (c->rlen >= AGENT_LINE_MAX)
			return -EMSGSIZE;
		if (!c->rbuf && !(c->rbuf = malloc(AGENT_LINE_MAX)))
			return -ENOMEM;
		ssize_t r = recv(c->fd, c->rbuf + c->rlen,
				 AGENT_LINE_MAX - c->rlen, 0);
		if (r > 0) {
			c->rlen += (size_t)r;
			continue;
		}
		if (r == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		struct pollfd pf = { c->fd, POLLIN, 0 };
		int left = ac_left(deadline);
		if (!left)
			return -ETIMEDOUT;
		int p = poll(&pf, 1, left);
		if (p < 0 && errno != EINTR)
			return -errno;
		if (p == 0)
			return -ETIMEDOUT;
	}
}

/* Send request rq (cmd and "v" added here; rq is consumed) with fd_pass
 * (>= 0) attached, and read its answer into *ans (the caller's). 0 with
 * an ok answer; -EREMOTEIO with err = the agent's "error"; -EPROTO for
 * another version or an answer that is not JSON; transport -errno (the
 * connection is then down). */
static int ac_call(struct agent_client *c, const char *cmd, json_t *rq,
		   int fd_pass, json_t **ans, char *err, size_t errlen)
{
	uint64_t deadline = ac_now_ms() + (uint64_t)c->timeout_ms;
	char *text = NULL, *line = NULL;
	json_error_t je;
	json_t *a;
	int e;

	*ans = NULL;
	if (c->fd < 0) {
		json_decref(rq);
		snprintf(err, errlen, "not connected to nicely-agent at %s",
			 c->sock);
		return -ENOTCONN;
	}
	if (!rq || json_object_set_new(rq, "v", json_integer(AGENT_PROTO_VERSION)) ||
	    json_object_set_new(rq, "cmd", json_string(cmd)) ||
	    !(text = json_dumps(rq, JSON_COMPACT))) {
		json_decref(rq);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	json_decref(rq);
	size_t n = strlen(text);
	char *msg = realloc(text, n + 2);
	if (!msg) {
		free(text);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	msg[n] = '\n';
	msg[n + 1] = 0;
	e = ac_send(c, msg, n + 1, fd_pass, deadline);
	free(msg);
	if (e == 0)
		e = ac_recv_line(c, &line, deadline);
	if (e < 0) {
		ac_down(c);
		if (e == -ETIMEDOUT)
			snprintf(err, errlen, "nicely-agent at %s did not "
				 "answer \"%s\" within %d ms", c->sock, cmd,
				 c->timeout_ms);
		else if (e == -ECONNRESET || e == -EPIPE)
			snprintf(err, errlen, "nicely-agent at %s closed the "
				 "connection", c->sock);
		else
			snprintf(err, errlen, "nicely-agent at %s: %s", c->sock,
				 strerror(-e));
		return e;
	}
	a = json_loads(line, 0, &je);
	free(line);
	if (!a || !json_is_object(a)) {
		json_decref(a);
		ac_down(c);
		snprintf(err, errlen, "nicely-agent at %s answered \"%s\" "
			 "with something that is not a JSON object", c->sock,
			 cmd);
		return -EPROTO;
	}
	json_t *v = json_object_get(a, "v");
	if (!json_is_integer(v) ||
	    json_integer_value(v) != AGENT_PROTO_VERSION) {
		if (json_is_integer(v))
			snprintf(err, errlen, "nicely-agent at %s speaks "
				 "protocol version %lld, this nicely speaks "
				 "version %d", c->sock,
				 (long long)json_integer_value(v),
				 AGENT_PROTO_VERSION);
		else
			snprintf(err, errlen, "nicely-agent at %s answered "
				 "without a protocol version (this nicely "
				 "speaks version %d)", c->sock,
				 AGENT_PROTO_VERSION);
		json_decref(a);
		ac_down(c);
		return -EPROTO;
	}
	if (!json_is_true(json_object_get(a, "ok"))) {
		const char *m = json_string_value(json_object_get(a, "error"));

		snprintf(err, errlen, "nicely-agent: %s",
			 m ? m : "request refused");
		json_decref(a);
		return -EREMOTEIO;
	}
	*ans = a;
	return 0;
}

/* Connect and hello into c. */
static int ac_hello(struct agent_client *c, char *err, size_t errlen)
{
	json_t *a;
	int e;

	if ((e = ac_dial(c, err, errlen)) < 0)
		return e;
	if ((e = ac_call(c, AGENT_CMD_HELLO, json_object(), -1, &a, err,
			 errlen)) < 0) {
		ac_down(c);
		return e == -EREMOTEIO ? -EPROTO : e;
	}
	c->admin = json_is_true(json_object_get(a, "admin"));
	c->tick_ms = (int)json_integer_value(json_object_get(a, "tick_ms"));
	ac_str(a, "agent", c->version, sizeof c->version);
	ac_str(a, "mode", c->mode, sizeof c->mode);
	ac_str(a, "root", c->root, sizeof c->root);
	ac_str(a, "snapshot", c->snapshot, sizeof c->snapshot);
	json_decref(a);
	return 0;
}

/* Connect and hello. */
int agent_client_connect(struct agent_client **out,
			 const struct agent_client_opts *o, char *err,
			 size_t errlen)
{
	struct agent_client *c = calloc(1, sizeof *c);
	int e;

	*out = NULL;
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->fd = c->owner_fd = -1;
	c->timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms
					       : AGENT_CLIENT_TIMEOUT_MS;
	snprintf(c->sock, sizeof c->sock, "%s", agent_client_socket_path(o));
	if ((e = ac_hello(c, err, errlen)) < 0) {
		agent_client_free(c);
		return e;
	}
	*out = c;
	return 0;
}

/* Close and free. */
void agent_client_free(struct agent_client *c)
{
	if (!c)
		return;
	ac_down(c);
	if (c->owner_fd >= 0)
		close(c->owner_fd);
	free(c->rbuf);
	free(c);
}

int agent_client_admin(const struct agent_client *c) { return c->admin; }
int agent_client_tick_ms(const struct agent_client *c) { return c->tick_ms; }
const char *agent_client_mode(const struct agent_client *c) { return c->mode; }
const char *agent_client_root(const struct agent_client *c) { return c->root; }
const char *agent_client_version(const struct agent_client *c)
{
	return c->version;
}
const char *agent_client_snapshot_path(const struct agent_client *c)
{
	return c->snapshot;
}
const char *agent_client_socket(const struct agent_client *c)
{
	return c->sock;
}
int agent_client_up(const struct agent_client *c) { return c->fd >= 0; }
const char *agent_client_batch(const struct agent_client *c)
{
	return c->batch[0] ? c->batch : NULL;
}
const char *agent_client_group(const struct agent_client *c)
{
	return c->group[0] ? c->group : NULL;
}
const char *agent_client_weight(const struct agent_client *c)
{
	return c->weight;
}
const char *agent_client_note(const struct agent_client *c)
{
	return c->note;
}

/* Take open's or adopt's answer: the batch's name and group, checked to
 * be plain names under the user's group (nothing the agent sends becomes
 * a path outside the cgroup tree). */
static int ac_take_batch(struct agent_client *c, json_t *a, char *err,
			 size_t errlen)
{
	const char *b = json_string_value(json_object_get(a, "batch"));
	const char *g = json_string_value(json_object_get(a, "group"));

	if (!b || !*b || strchr(b, '/') || !strcmp(b, ".") ||
	    !strcmp(b, "..") || strlen(b) >= sizeof c->batch || !g || !*g ||
	    *g == '/' || strstr(g, "..") || strlen(g) >= sizeof c->group) {
		snprintf(err, errlen, "nicely-agent at %s answered with a "
			 "batch or group name that is not one", c->sock);
		return -EPROTO;
	}
	snprintf(c->batch, sizeof c->batch, "%s", b);
	snprintf(c->group, sizeof c->group, "%s", g);
	ac_str(a, "weight", c->weight, sizeof c->weight);
	ac_str(a, "note", c->note, sizeof c->note);
	return 0;
}

/* Open a batch for owner. */
int agent_client_open(struct agent_client *c, pid_t owner,
		      const struct agent_open_req *rq, char *err,
		      size_t errlen)
{
	json_t *m = json_object(), *a;
	int e;

	if (c->owner_fd < 0) {
		c->owner_fd = (int)syscall(SYS_pidfd_open, owner, 0);
		if (c->owner_fd < 0) {
			e = -errno;
			snprintf(err, errlen, "pidfd_open(%d): %s", (int)owner,
				 strerror(errno));
			return e;
		}
	}
	if (!m)
		goto oom;
	if (json_object_set_new(m, "preset", json_string(rq->preset ? rq->preset : "")) ||
	    json_object_set_new(m, "weight", json_string(rq->weight ? rq->weight : "normal")) ||
	    json_object_set_new(m, "nice", json_integer(rq->nice)) ||
	    json_object_set_new(m, "memory_max", json_integer((json_int_t)rq->memory_max)))
		goto oom;
	if (rq->cpus && json_object_set_new(m, "cpus", json_string(rq->cpus)))
		goto oom;
	if (rq->command) {
		char cut[AGENT_TEXT_MAX + 1];
		json_t *s;

		snprintf(cut, sizeof cut, "%s", rq->command);
		/* a cut inside a UTF-8 sequence is mended by jansson's
		 * refusal: fall back to the bytes before it */
		while (!(s = json_string(cut)) && *cut)
			cut[strlen(cut) - 1] = 0;
		if (s && json_object_set_new(m, "command", s))
			goto oom;
	}
	if ((e = ac_call(c, AGENT_CMD_OPEN, m, c->owner_fd, &a, err, errlen)) < 0)
		return e;
	e = ac_take_batch(c, a, err, errlen);
	json_decref(a);
	return e;
oom:
	json_decref(m);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

/* Open for a preset. */
int agent_client_open_preset(struct agent_client *c, pid_t owner,
			     const struct policy_preset *p,
			     const char *command, char *err, size_t errlen)
{
	static const char *const wname[] = { "idle", "low", "normal" };
	struct agent_open_req rq = { 0 };

	rq.preset = p->name;
	rq.weight = (unsigned)p->weight < 3 ? wname[p->weight] : "normal";
	rq.nice = p->nice;
	/* the preset's memory_max is per task: the face writes it in the
	 * task groups it makes inside the delegated batch group; the batch
	 * group itself gets no limit of ours (the user's group has the
	 * admin's) */
	rq.memory_max = 0;
	rq.command = command;
	return agent_client_open(c, owner, &rq, err, errlen);
}

/* Connect and open for a preset. */
int agent_client_place(struct agent_client **out,
		       const struct agent_client_opts *o, pid_t owner,
		       const struct policy_preset *p, const char *command,
		       char *err, size_t errlen)
{
	int e;

	if ((e = agent_client_connect(out, o, err, errlen)) < 0)
		return e;
	if ((e = agent_client_open_preset(*out, owner, p, command, err,
					  errlen)) < 0) {
		agent_client_free(*out);
		*out = NULL;
	}
	return e;
}

/* Connect again and adopt the batch. */
int agent_client_reconnect(struct agent_client *c, char *err, size_t errlen)
{
	json_t *m, *a;
	int e;

	if (c->fd >= 0)
		return 0;
	if ((e = ac_hello(c, err, errlen)) < 0)
		return e;
	if (!c->batch[0] || c->owner_fd < 0)
		return 0;
	m = json_object();
	if (!m || json_object_set_new(m, "batch", json_string(c->batch))) {
		json_decref(m);
		ac_down(c);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((e = ac_call(c, AGENT_CMD_ADOPT, m, c->owner_fd, &a, err,
			 errlen)) < 0) {
		ac_down(c);
		return e;
	}
	char old[sizeof c->group];
	memcpy(old, c->group, sizeof old);
	e = ac_take_batch(c, a, err, errlen);
	json_decref(a);
	if (e == 0 && strcmp(old, c->group)) {
		snprintf(err, errlen, "nicely-agent at %s adopted the batch "
			 "as %s, not %s", c->sock, c->group, old);
		memcpy(c->group, old, sizeof old);
		e = -EPROTO;
	}
	if (e < 0)
		ac_down(c);
	return e;
}

/* An integer member, or def. */
static long long ac_int(const json_t *o, const char *key, long long def)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : def;
}

/* A lease answer's list of CPUs key into set (by bit); missing: empty.
 * 0, or -EPROTO with err set when it is not a list of CPU numbers. */
static int ac_cpu_set(struct agent_client *c, const json_t *a, const char *key,
		      uint64_t *set, char *err, size_t errlen)
{
	json_t *v = json_object_get(a, key), *e;
	size_t i;

	if (!v)
		return 0;
	if (!json_is_array(v))
		goto bad;
	json_array_foreach(v, i, e) {
		json_int_t cpu = json_is_integer(e) ? json_integer_value(e) : -1;

		if (cpu < 0 || cpu >= AGENT_CPUS_MAX)
			goto bad;
		set[cpu / 64] |= (uint64_t)1 << (cpu % 64);
	}
	return 0;
bad:
	snprintf(err, errlen, "nicely-agent at %s answered a lease with "
		 "\"%s\" that is not a list of CPU numbers below %d", c->sock,
		 key, AGENT_CPUS_MAX);
	return -EPROTO;
}

/* Lease. */
int agent_client_lease(struct agent_client *c, const struct agent_lease_req *rq,
		       struct agent_lease_ans *ans, char *err, size_t errlen)
{
	json_t *m = json_pack("{s:i,s:i,s:I,s:I,s:i,s:[]}", "want", rq->want,
			      "holding", rq->holding, "done",
			      (json_int_t)rq->done, "total",
			      (json_int_t)rq->total, "running", rq->running,
			      "pus");
	json_t *a, *pus = json_object_get(m, "pus");
	int e;

	memset(ans, 0, sizeof *ans);
	for (size_t i = 0; pus && rq->pus && i < rq->npus; i++)
		if (rq->pus[i] >= 0 && rq->pus[i] < AGENT_CPUS_MAX &&
		    json_array_append_new(pus, json_integer(rq->pus[i])))
			pus = NULL;
	if (m && rq->reason && *rq->reason) {
		size_t n = strnlen(rq->reason, AGENT_REASON_MAX);

		/* whole characters only: the agent takes UTF-8 alone */
		while (n > 0 && n < strlen(rq->reason) &&
		       ((unsigned char)rq->reason[n] & 0xc0) == 0x80)
			n--;
		if (json_object_set_new(m, "reason",
					json_stringn(rq->reason, n)) < 0)
			pus = NULL;
	}
	if (!m || !pus) {
		json_decref(m);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((e = ac_call(c, AGENT_CMD_LEASE, m, -1, &a, err, errlen)) < 0)
		return e;
	long long g = ac_int(a, "grant", -1);
	if (g < 0 || g > INT_MAX) {
		json_decref(a);
		snprintf(err, errlen, "nicely-agent at %s answered a lease "
			 "without a grant", c->sock);
		return -EPROTO;
	}
	ans->grant = (int)g;
	ans->users = (int)ac_int(a, "users", 0);
	ans->killed = json_is_true(json_object_get(a, "killed"));
	e = ac_cpu_set(c, a, "taken", ans->taken, err, errlen);
	if (e == 0)
		e = ac_cpu_set(c, a, "yield", ans->yield, err, errlen);
	json_decref(a);
	if (e < 0)
		memset(ans, 0, sizeof *ans);
	return e;
}

/* List batches. */
int agent_client_list(struct agent_client *c, int all, json_t **batches,
		      char *err, size_t errlen)
{
	json_t *a, *b;
	int e;

	*batches = NULL;
	if ((e = ac_call(c, AGENT_CMD_LIST, json_pack("{s:b}", "all", all), -1,
			 &a, err, errlen)) < 0)
		return e;
	b = json_object_get(a, "batches");
	if (!json_is_array(b)) {
		json_decref(a);
		snprintf(err, errlen, "nicely-agent at %s answered a list "
			 "without batches", c->sock);
		return -EPROTO;
	}
	*batches = json_incref(b);
	json_decref(a);
	return 0;
}

/* The dashboard's link. */
int agent_client_dashboard(struct agent_client *c, int renew, char *url,
			   size_t urllen, char *err, size_t errlen)
{
	json_t *a;
	const char *u;
	int e;

	if ((e = ac_call(c, AGENT_CMD_DASHBOARD,
			 json_pack("{s:b}", "new", renew), -1, &a, err,
			 errlen)) < 0)
		return e;
	u = json_string_value(json_object_get(a, "url"));
	if (!u || strncmp(u, "http://", 7) || strlen(u) >= urllen ||
	    strpbrk(u, " \t\r\n")) {
		json_decref(a);
		snprintf(err, errlen, "nicely-agent at %s answered without a "
			 "dashboard link", c->sock);
		return -EPROTO;
	}
	snprintf(url, urllen, "%s", u);
	json_decref(a);
	return 0;
}

/* Kill a batch or a user's batches. */
int agent_client_kill(struct agent_client *c, const char *batch,
		      const char *user, int *nkilled, char *err,
		      size_t errlen)
{
	json_t *m = batch ? json_pack("{s:s}", "batch", batch)
			  : json_pack("{s:s}", "user", user ? user : "");
	json_t *a;
	int e;

	int bound = c->timeout_ms;

	*nkilled = 0;
	/* answered once the processes are gone: longer than other calls */
	if (c->timeout_ms < AGENT_CLIENT_KILL_TIMEOUT_MS)
		c->timeout_ms = AGENT_CLIENT_KILL_TIMEOUT_MS;
	e = ac_call(c, AGENT_CMD_KILL, m, -1, &a, err, errlen);
	c->timeout_ms = bound;
	if (e < 0)
		return e;
	*nkilled = (int)ac_int(a, "killed", 0);
	json_decref(a);
	return 0;
}

/* Hand a detached batch over. */
int agent_client_submit(struct agent_client *c, const char *dir,
			const char *id, int resume, int readyfd, pid_t *pid,
			char *err, size_t errlen)
{
	json_t *a;
	int e;

	*pid = 0;
	e = ac_call(c, AGENT_CMD_SUBMIT, json_pack("{s:s,s:s,s:b}", "dir",
						   dir, "id", id, "resume",
						   resume),
		    readyfd, &a, err, errlen);
	if (e < 0)
		return e;
	*pid = (pid_t)ac_int(a, "pid", 0);
	json_decref(a);
	return 0;
}

/* Read the snapshot file; see agent_client.h. */
int agent_client_snapshot_read(const char *path,
			       const struct agent_topology *topo,
			       uint64_t now_ms, struct agent_snapshot *out,
			       char *err, size_t errlen)
{
	int npus = agent_topology_npus(topo);
	json_error_t je;
	json_t *s, *cpus, *la;
	size_t i;
	json_t *e;

	s = json_load_file(path, 0, &je);
	if (!s) {
		if (access(path, F_OK) < 0 && errno == ENOENT) {
			snprintf(err, errlen, "no snapshot file %s", path);
			return -ENOENT;
		}
		snprintf(err, errlen, "%s: %s", path, je.text);
		return -EPROTO;
	}
	if (ac_int(s, "v", -1) != AGENT_PROTO_VERSION) {
		snprintf(err, errlen, "%s: protocol version %lld, not %d",
			 path, ac_int(s, "v", -1), AGENT_PROTO_VERSION);
		json_decref(s);
		return -EPROTO;
	}
	long long t = ac_int(s, "t_ms", -1), tick = ac_int(s, "tick_ms", -1);
	cpus = json_object_get(s, "cpus");
	la = json_object_get(s, "loadavg");
	if (t < 0 || tick <= 0 || !json_is_array(cpus)) {
		snprintf(err, errlen, "%s: no t_ms, tick_ms or cpus", path);
		json_decref(s);
		return -EPROTO;
	}
	if (!now_ms)
		now_ms = ac_now_ms();
	if ((uint64_t)t + 3 * (uint64_t)tick < now_ms ||
	    (uint64_t)t > now_ms + (uint64_t)tick) {
		snprintf(err, errlen, "%s is %lld ms old (tick %lld ms)", path,
			 (long long)now_ms - t, tick);
		json_decref(s);
		return -ESTALE;
	}
	out->t_ns = (uint64_t)t * 1000000u;
	out->interval_ns = (uint64_t)tick * 1000000u;
	out->valid = 1;
	out->npus = npus;
	for (int p = 0; p < npus; p++)
		out->pu[p] = (struct agent_pu_load){ 1.0, 1.0, 0.0, 0 };
	json_array_foreach(cpus, i, e) {
		long long cpu = ac_int(e, "cpu", -1);
		json_t *b = json_object_get(e, "busy");
		int pu = cpu >= 0 && cpu <= INT_MAX
				 ? agent_topology_pu_of_os(topo, (int)cpu)
				 : -1;
		double busy = json_number_value(b);

		if (pu < 0 || pu >= npus || !json_is_number(b))
			continue;
		if (busy < 0)
			busy = 0;
		if (busy > 1)
			busy = 1;
		if (!json_is_false(json_object_get(e, "online")))
			out->pu[pu] = (struct agent_pu_load){ busy, busy, 0.0,
							      1 };
	}
	for (int k = 0; k < 3; k++)
		out->loadavg[k] = json_number_value(json_array_get(la, (size_t)k));
	out->procs_running = 0;
	json_t *psi = json_object_get(s, "psi_some_avg10");
	out->has_psi = json_is_number(psi);
	out->psi_some_avg10 = json_number_value(psi);
	out->psi_some_recent =
		json_number_value(json_object_get(s, "psi_recent"));
	out->mem_total_kb = (uint64_t)ac_int(s, "mem_total_kb", 0);
	out->mem_available_kb = (uint64_t)ac_int(s, "mem_available_kb", 0);
	json_decref(s);
	return 0;
}
