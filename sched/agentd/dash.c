/* sched/agentd/dash: the dashboard's server in nicely-agent's loop: the
 * loopback socket, connections (at most DASH_CONN_MAX, the oldest closed
 * to make room, each done within DASH_TIMEOUT_MS), one request each
 * (request line and headers at most DASH_REQ_MAX bytes, answered by
 * dash_http.c), the answer written without blocking, then our side shut
 * and what the peer still sends drained (at most DASH_DRAIN_MAX) before
 * closing. Called from the agent's loop and tick. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "agent/errmsg.h"
#include "sched/agentd/agentd_int.h"
#include "sched/agentd/dash_int.h"

#define MS 1000000ull
/* Bytes read and dropped after an answer before closing anyway. */
#define DASH_DRAIN_MAX 65536

static void conn_on_event(struct loop_watch *w, uint32_t ev);

/* Watch c's fd for ev (0: not at all). */
static void conn_watch(struct dash_conn *c, int ev)
{
	int fd = c->w.fd;

	if (fd < 0 || c->events == ev)
		return;
	if (c->events)
		loop_del(&c->h->d->loop, &c->w);
	c->events = 0;
	if (ev && loop_add(&c->h->d->loop, &c->w, fd, (uint32_t)ev,
			   conn_on_event) == 0)
		c->events = ev;
	c->w.fd = fd;
}

/* Close c and free it (it is unlinked from h->conns). */
static void conn_free(struct dash_conn *c)
{
	struct dash *h = c->h;

	for (struct dash_conn **pp = &h->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->w.fd >= 0) {
		if (c->events)
			loop_del(&h->d->loop, &c->w);
		close(c->w.fd);
	}
	h->nconns--;
	free(c->out);
	free(c);
}

/* Write what is queued; once all is out, close. */
static void conn_flush(struct dash_conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->w.fd, c->out + c->outoff,
				 c->outlen - c->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			conn_watch(c, EPOLLOUT);
			return;
		}
		if (n <= 0) {
			conn_free(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	/* the peer may still be sending (a request too large): close our
	 * side and read what comes until its end, so that the answer is
	 * not lost to a reset */
	shutdown(c->w.fd, SHUT_WR);
	c->inlen = DASH_REQ_MAX + 1;	/* draining */
	conn_watch(c, EPOLLIN);
}

/* Read the request; answer once its headers are whole. */
static void conn_read(struct dash_conn *c)
{
	for (;;) {
		if (c->inlen > DASH_REQ_MAX) {	/* draining */
			char junk[4096];
			ssize_t n = recv(c->w.fd, junk, sizeof junk,
					 MSG_DONTWAIT);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			c->drained += n > 0 ? (size_t)n : 0;
			if (n <= 0 || c->drained > DASH_DRAIN_MAX) {
				conn_free(c);
				return;
			}
			continue;
		}
		ssize_t n = recv(c->w.fd, c->in + c->inlen,
				 DASH_REQ_MAX - c->inlen, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_free(c);
			return;
		}
		c->inlen += (size_t)n;
		c->in[c->inlen] = 0;
		if (strstr(c->in, "\r\n\r\n") || strstr(c->in, "\n\n")) {
			conn_watch(c, 0);
			dash_http_answer(c);
		} else if (c->inlen >= DASH_REQ_MAX) {
			conn_watch(c, 0);
			dash_http_fail(c, 431, "Request Header Fields Too Large",
				  NULL, "request longer than %d bytes",
				  DASH_REQ_MAX);
		} else {
			continue;
		}
		if (!c->out) {
			conn_free(c);
			return;
		}
		conn_flush(c);
		return;
	}
}

/* A connection's fd is ready. */
static void conn_on_event(struct loop_watch *w, uint32_t ev)
{
	struct dash_conn *c = (struct dash_conn *)((char *)w -
			offsetof(struct dash_conn, w));

	if (c->events == EPOLLOUT) {
		if (ev & (EPOLLERR | EPOLLHUP))
			conn_free(c);
		else
			conn_flush(c);
		return;
	}
	conn_read(c);
}

/* New connections on the listening socket. */
static void dash_on_accept(struct loop_watch *w, uint32_t ev)
{
	struct dash *h = (struct dash *)((char *)w - offsetof(struct dash, lw));

	(void)ev;
	for (int i = 0; i < 16; i++) {
		int fd = accept4(h->lfd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct dash_conn *c;

		if (fd < 0)
			return;
		if (h->nconns >= DASH_CONN_MAX) {
			/* the oldest goes (the list is newest first) */
			struct dash_conn *o = h->conns;
			while (o && o->next)
				o = o->next;
			if (o)
				conn_free(o);
		}
		c = calloc(1, sizeof *c);
		if (!c) {
			close(fd);
			continue;
		}
		c->h = h;
		c->w.fd = fd;
		c->start_ns = loop_now_ns();
		c->next = h->conns;
		h->conns = c;
		h->nconns++;
		conn_watch(c, EPOLLIN);
		if (!c->events)
			conn_free(c);
	}
}

/* Listen on host:port. */
static int dash_listen(struct dash *h, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, e;
	int v6 = strchr(h->host, ':') != NULL;

	memset(&ss, 0, sizeof ss);
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)h->port);
		e = inet_pton(AF_INET6, h->host, &s6->sin6_addr);
		sl = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)h->port);
		e = inet_pton(AF_INET, h->host, &s4->sin_addr);
		sl = sizeof *s4;
	}
	if (e != 1) {
		errmsg_set(err, errlen, "dashboard: '%s' is not an address",
			   h->host);
		return -EINVAL;
	}
	h->lfd = socket(v6 ? AF_INET6 : AF_INET,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->lfd < 0 ||
	    setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
	    (v6 && setsockopt(h->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			      sizeof one)) ||
	    bind(h->lfd, (struct sockaddr *)&ss, sl) < 0 ||
	    listen(h->lfd, 64) < 0) {
		e = -errno;
		errmsg_set(err, errlen, "dashboard: cannot listen on %s%s%s:%d:"
			   " %s", v6 ? "[" : "", h->host, v6 ? "]" : "",
			   h->port, strerror(errno));
		return e;
	}
	if ((e = loop_add(&h->d->loop, &h->lw, h->lfd, EPOLLIN,
			  dash_on_accept)) < 0) {
		errmsg_set(err, errlen, "dashboard: epoll: %s", strerror(-e));
		return e;
	}
	return 0;
}

/* See dash.h. */
int dash_apply(struct dash **hp, struct agentd *d, const char *host,
	       int port, char *err, size_t errlen)
{
	struct dash *h = *hp;
	int e;

	if (h && host && !strcmp(h->host, host) && h->port == port) {
		/* the admins may have changed: an admin's token shows every
		 * user's batches again once asked for again */
		for (int i = 0; i < DASH_TOKENS_MAX; i++)
			h->tok[i].admin = 0;
		return 0;
	}
	dash_free(h);
	*hp = NULL;
	if (!host || !*host || port <= 0)
		return 0;
	if (!(h = calloc(1, sizeof *h))) {
		errmsg_set(err, errlen, "dashboard: out of memory");
		return -ENOMEM;
	}
	h->d = d;
	h->lfd = -1;
	snprintf(h->host, sizeof h->host, "%s", host);
	h->port = port;
	if ((e = dash_listen(h, err, errlen)) < 0) {
		dash_free(h);
		return e;
	}
	*hp = h;
	return 1;
}

/* See dash.h. */
void dash_tick(struct dash *h)
{
	uint64_t now = loop_now_ns();
	struct dash_conn *c, *next;

	if (!h)
		return;
	for (c = h->conns; c; c = next) {
		next = c->next;
		if (now - c->start_ns >= DASH_TIMEOUT_MS * MS)
			conn_free(c);
	}
	dash_view_tick(h);
}

/* See dash.h. */
void dash_free(struct dash *h)
{
	if (!h)
		return;
	while (h->conns)
		conn_free(h->conns);
	if (h->lfd >= 0) {
		loop_del(&h->d->loop, &h->lw);
		close(h->lfd);
	}
	free(h->rates);
	memset(h->tok, 0, sizeof h->tok);
	free(h);
}
