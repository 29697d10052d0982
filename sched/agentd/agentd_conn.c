/* sched/agentd/agentd_conn: nicely-agent's peer connections: bytes and
 * passed file descriptors in (recvmsg, SCM_RIGHTS), request lines cut at
 * AGENT_LINE_MAX, AGENT_REQ_PER_SEC requests a second, answers out
 * without ever blocking, the idle clock (sched/connguard.h) armed while a
 * line is half read or the peer holds no batch. Called from the agent's
 * loop; a closed connection is freed between rounds (agentd_conn_reap). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sched/agent_proto.h"
#include "sched/agentd/agentd_int.h"
#include "sched/jsonx.h"

#define MS 1000000ull

static void conn_on_event(struct loop_watch *w, uint32_t ev);
static void conn_process(struct agentd_conn *c);

/* Watch c's fd for ev (0: not at all). */
static void conn_watch(struct agentd_conn *c, int ev)
{
	int fd = c->w.fd;

	if (fd < 0 || c->events == ev)
		return;
	if (c->events)
		loop_del(&c->d->loop, &c->w);
	c->events = 0;
	if (ev && loop_add(&c->d->loop, &c->w, fd, (uint32_t)ev,
			   conn_on_event) == 0)
		c->events = ev;
	c->w.fd = fd;
}

/* Arm the idle clock when the peer owes us bytes: a half line, or it
 * holds no batch (a connection with a batch may stay silent). A request
 * handled (progressed) starts it again. */
static void conn_clock(struct agentd_conn *c, int progressed)
{
	if (c->w.fd < 0)
		return;
	if (!c->kill_wait && (c->inlen > 0 || !c->batch)) {
		if (!c->gc.armed || progressed)
			connguard_arm(c->d->guard, &c->gc);
	} else {
		connguard_disarm(c->d->guard, &c->gc);
	}
}

/* Close c (the batch it leased for lives on with its owner). */
void agentd_conn_close(struct agentd_conn *c)
{
	if (c->w.fd >= 0) {
		if (c->events)
			loop_del(&c->d->loop, &c->w);
		close(c->w.fd);
		c->w.fd = -1;
		c->events = 0;
		connguard_release(c->d->guard, &c->gc);
	}
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
	if (c->batch && c->batch->conn == c)
		c->batch->conn = NULL;
	c->batch = NULL;
	c->dead = 1;
}

/* Write what is queued. Returns 1 when more must wait for EPOLLOUT. */
static int conn_flush(struct agentd_conn *c)
{
	while (c->w.fd >= 0 && c->outoff < c->outlen) {
		ssize_t n = send(c->w.fd, c->out + c->outoff,
				 c->outlen - c->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (n <= 0) {
			agentd_conn_close(c);
			return 0;
		}
		c->outoff += (size_t)n;
	}
	c->outlen = c->outoff = 0;
	if (c->closing)
		agentd_conn_close(c);
	return 0;
}

/* Queue an answer. */
void agentd_conn_answer(struct agentd_conn *c, json_t *obj)
{
	char *s;
	size_t n;

	if (c->w.fd < 0) {
		json_decref(obj);
		return;
	}
	s = jsonx_answer(obj, AGENT_PROTO_VERSION, AGENT_LINE_MAX);
	if (!s) {
		agentd_conn_close(c);
		return;
	}
	n = strlen(s);
	char *out = realloc(c->out, c->outlen + n + 1);
	if (!out) {
		free(s);
		agentd_conn_close(c);
		return;
	}
	c->out = out;
	memcpy(c->out + c->outlen, s, n);
	c->out[c->outlen + n] = '\n';
	c->outlen += n + 1;
	free(s);
}

/* Queue an error answer. */
void agentd_conn_error(struct agentd_conn *c, int fatal, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *o = json_object();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* one line: a reason never breaks the framing */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (o) {
		json_object_set_new(o, "ok", json_false());
		jsonx_sets(o, "error", msg);
	}
	agentd_conn_answer(c, o);
	if (fatal)
		c->closing = 1;
}

/* One request against the rate: 1 when it may go now. */
static int conn_rate(struct agentd_conn *c)
{
	uint64_t now = loop_now_ns();

	if (now - c->win_ns >= 1000 * MS) {
		c->win_ns = now;
		c->win_reqs = 0;
	}
	if (c->win_reqs >= AGENT_REQ_PER_SEC)
		return 0;
	c->win_reqs++;
	return 1;
}

/* Handle every whole line buffered, while answers can go out and the rate
 * allows; then write and choose what to wait for. */
static void conn_process(struct agentd_conn *c)
{
	int progressed = 0;

	while (c->w.fd >= 0 && !c->closing && !c->kill_wait && c->inlen > 0) {
		char *nl = memchr(c->in, '\n', c->inlen);
		if (!nl)
			break;
		if (!conn_rate(c)) {
			c->throttled = 1;
			break;
		}
		size_t len = (size_t)(nl - c->in);
		*nl = 0;
		agentd_req_handle(c, c->in, len);
		progressed = 1;
		if (c->w.fd < 0)
			return;
		memmove(c->in, nl + 1, c->inlen - len - 1);
		c->inlen -= len + 1;
		if (c->outlen && conn_flush(c))
			break;	/* the peer reads slowly: wait for it */
	}
	if (c->w.fd < 0)
		return;
	if (c->inlen >= AGENT_LINE_MAX && !memchr(c->in, '\n', c->inlen) &&
	    !c->closing) {
		agentd_conn_error(c, 1, "request longer than %d bytes",
				  AGENT_LINE_MAX);
		c->inlen = 0;
	}
	if (c->outlen && conn_flush(c)) {
		conn_watch(c, EPOLLOUT);
		connguard_arm(c->d->guard, &c->gc);	/* it must read */
		return;
	}
	if (c->w.fd < 0)
		return;
	conn_watch(c, c->throttled || c->kill_wait ? 0 : EPOLLIN);
	conn_clock(c, progressed);
}

/* Take the fds of a message: one is kept as the pending pidfd; more, or a
 * truncated set, is an error for the request that wants it. */
static void conn_take_fds(struct agentd_conn *c, struct msghdr *mh)
{
	if (mh->msg_flags & MSG_CTRUNC)
		c->fd_error = 1;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(mh); h; h = CMSG_NXTHDR(mh, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *fds = (int *)CMSG_DATA(h);
		for (size_t i = 0; i < nfd; i++) {
			int fd;
			memcpy(&fd, fds + i, sizeof fd);
			if (c->pidfd < 0 && nfd == 1 && !c->fd_error) {
				c->pidfd = fd;
			} else {
				close(fd);
				c->fd_error = 1;
			}
		}
	}
}

/* Read what the peer sent (up to the line limit). */
static void conn_read(struct agentd_conn *c)
{
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} cm;
	char buf[16384];

	for (int rounds = 0; rounds < 8 && c->w.fd >= 0; rounds++) {
		size_t room = AGENT_LINE_MAX - c->inlen;
		struct iovec iov = { buf, room < sizeof buf ? room : sizeof buf };
		struct msghdr mh = { 0 };
		ssize_t n;

		if (room == 0)
			break;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof cm.buf;
		n = recvmsg(c->w.fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			agentd_conn_close(c);
			return;
		}
		conn_take_fds(c, &mh);
		char *in = realloc(c->in, c->inlen + (size_t)n + 1);
		if (!in) {
			agentd_conn_close(c);
			return;
		}
		c->in = in;
		memcpy(c->in + c->inlen, buf, (size_t)n);
		c->inlen += (size_t)n;
		c->in[c->inlen] = 0;
		if (memchr(buf, '\n', (size_t)n))
			break;	/* handle it before reading more */
	}
	conn_process(c);
}

/* The connection's fd is ready. */
static void conn_on_event(struct loop_watch *w, uint32_t ev)
{
	struct agentd_conn *c = (struct agentd_conn *)((char *)w -
			offsetof(struct agentd_conn, w));

	if (c->w.fd < 0)
		return;
	if (c->events == EPOLLOUT) {
		if (ev & (EPOLLERR | EPOLLHUP)) {
			agentd_conn_close(c);
			return;
		}
		if (conn_flush(c) || c->w.fd < 0)
			return;
		conn_process(c);
		return;
	}
	conn_read(c);
}

/* A peer the guard let in. */
struct connguard_conn *agentd_conn_accepted(void *ctx, int fd,
					    const struct ucred *cr)
{
	struct agentd *d = ctx;
	struct agentd_conn *c = calloc(1, sizeof *c);

	if (!c) {
		close(fd);
		return NULL;
	}
	c->d = d;
	c->w.fd = fd;
	c->uid = cr->uid;
	c->gid = cr->gid;
	c->pid = cr->pid;
	c->pidfd = -1;
	c->win_ns = loop_now_ns();
	c->admin = agentd_peer_admin(d, fd, cr->uid, cr->gid);
	conn_watch(c, EPOLLIN);
	if (!c->events) {
		close(fd);
		free(c);
		return NULL;
	}
	c->next = d->conns;
	d->conns = c;
	return &c->gc;
}

/* Silent too long (or closed to make room). */
void agentd_conn_idle(void *ctx, struct connguard_conn *gc)
{
	struct agentd_conn *c = (struct agentd_conn *)((char *)gc -
			offsetof(struct agentd_conn, gc));

	(void)ctx;
	if (c->inlen > 0 && c->outlen == 0) {
		agentd_conn_error(c, 1, "request not finished within %d ms",
				  AGENT_IDLE_MS);
		conn_flush(c);
	}
	agentd_conn_close(c);
}

/* Connections throttled by the rate: go on when their window is over. */
void agentd_conn_tick(struct agentd *d)
{
	uint64_t now = loop_now_ns();

	for (struct agentd_conn *c = d->conns; c; c = c->next) {
		if (!c->throttled || c->w.fd < 0 ||
		    now - c->win_ns < 1000 * MS)
			continue;
		c->throttled = 0;
		conn_process(c);
	}
}

/* See agentd_int.h. */
void agentd_conn_kill_answer(struct agentd *d)
{
	for (struct agentd_conn *c = d->conns; c; c = c->next) {
		if (!c->kill_wait || c->w.fd < 0 ||
		    agentd_batch_killing(d, c->kill_uid,
					 c->kill_uid < 0 ? c->kill_batch
							 : NULL))
			continue;
		c->kill_wait = 0;
		agentd_conn_answer(c, json_pack("{s:i}", "killed", c->kill_n));
		conn_process(c);
	}
}

/* Free closed connections. */
void agentd_conn_reap(struct agentd *d)
{
	struct agentd_conn **pp = &d->conns;

	while (*pp) {
		struct agentd_conn *c = *pp;
		if (c->dead && c->w.fd < 0) {
			*pp = c->next;
			free(c->in);
			free(c->out);
			free(c);
		} else {
			pp = &c->next;
		}
	}
}
