/* sched/agentd/dash: the dashboard's HTTP server in nicely-agent's loop:
 * the loopback socket, connections (at most DASH_CONN_MAX, each done
 * within DASH_TIMEOUT_MS), one request each (GET only, request line and
 * headers at most DASH_REQ_MAX bytes, no body), one answer, then close.
 * A link's ?token= becomes a cookie (303 to the same path without it);
 * every page but the static script and style needs the cookie (401).
 * Nothing of a request is logged. Called from the agent's loop and tick. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
/* Longest request target (path and query). */
#define DASH_TARGET_MAX 300

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

/* Queue the answer: status line, headers (extra: more, each ending in
 * "\r\n"), body. */
static void conn_reply(struct dash_conn *c, int status, const char *reason,
		       const char *type, const char *body, size_t len,
		       const char *extra)
{
	char head[1024];
	int n = snprintf(head, sizeof head,
			 "HTTP/1.1 %d %s\r\n"
			 "Content-Type: %s\r\n"
			 "Content-Length: %zu\r\n"
			 "Connection: close\r\n"
			 "Cache-Control: no-store\r\n"
			 "X-Content-Type-Options: nosniff\r\n"
			 "X-Frame-Options: DENY\r\n"
			 "Referrer-Policy: no-referrer\r\n"
			 "Content-Security-Policy: default-src 'none'; "
			 "script-src 'self'; style-src 'self'; "
			 "connect-src 'self'; frame-ancestors 'none'\r\n"
			 "%s\r\n", status, reason, type, len, extra ? extra : "");

	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = 0;
	if (n < 0 || (size_t)n >= sizeof head)
		return;
	c->out = malloc((size_t)n + len);
	if (!c->out)
		return;
	memcpy(c->out, head, (size_t)n);
	if (len)
		memcpy(c->out + n, body, len);
	c->outlen = (size_t)n + len;
}

/* An error page: a line of text. */
static void conn_fail(struct dash_conn *c, int status, const char *reason,
		      const char *extra, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	strncat(text, "\n", sizeof text - strlen(text) - 1);
	conn_reply(c, status, reason, "text/plain; charset=utf-8", text,
		   strlen(text), extra);
}

/* A JSON answer (obj taken). */
static void conn_json(struct dash_conn *c, json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

	json_decref(obj);
	if (!s) {
		conn_fail(c, 500, "Internal Server Error", NULL,
			  "out of memory");
		return;
	}
	conn_reply(c, 200, "OK", "application/json", s, strlen(s), NULL);
	free(s);
}

/* The value of parameter key in query q (up to its '&'), its length in
 * *n; NULL when missing. */
static const char *query_get(const char *q, const char *key, size_t *n)
{
	size_t kl = strlen(key);

	while (q && *q) {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		if (len > kl && !strncmp(q, key, kl) && q[kl] == '=') {
			*n = len - kl - 1;
			return q + kl + 1;
		}
		q = amp ? amp + 1 : NULL;
	}
	return NULL;
}

/* The value of cookie DASH_COOKIE in a Cookie header's value v. */
static const char *cookie_get(const char *v, size_t *n)
{
	size_t kl = strlen(DASH_COOKIE);

	while (*v) {
		while (*v == ' ' || *v == '\t')
			v++;
		const char *semi = strchr(v, ';');
		size_t len = semi ? (size_t)(semi - v) : strlen(v);
		while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t' ||
				   v[len - 1] == '\r'))
			len--;
		if (len > kl && !strncmp(v, DASH_COOKIE, kl) && v[kl] == '=') {
			*n = len - kl - 1;
			return v + kl + 1;
		}
		if (!semi)
			break;
		v = semi + 1;
	}
	return NULL;
}

/* 1 when s is a batch name as the agent makes them. */
static int batch_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < sizeof ((struct agentd_batch *)0)->name &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789._-") == n;
}

/* The pages of an authenticated viewer. */
static void conn_route(struct dash_conn *c, const char *path,
		       const struct dash_who *who)
{
	const struct dash_asset *a = NULL;
	const char *name = NULL;
	json_t *o;

	if (!strcmp(path, "/")) {
		a = dash_page_asset("/");
	} else if (!strncmp(path, "/batch/", 7)) {
		name = path + 7;
		if (batch_name_ok(name) &&
		    (o = dash_view_batch(c->h, who, name))) {
			json_decref(o);
			a = dash_page_asset("/batch");
		}
	} else if (!strcmp(path, "/api/overview")) {
		conn_json(c, dash_view_overview(c->h, who));
		return;
	} else if (!strncmp(path, "/api/batch/", 11)) {
		name = path + 11;
		o = batch_name_ok(name) ? dash_view_batch(c->h, who, name)
					: NULL;
		if (o) {
			conn_json(c, o);
			return;
		}
	}
	if (a) {
		conn_reply(c, 200, "OK", a->type, a->body, strlen(a->body),
			   NULL);
		return;
	}
	if (name)
		conn_fail(c, 404, "Not Found", NULL, "no batch of yours named "
			  "that");
	else
		conn_fail(c, 404, "Not Found", NULL, "no such page");
}

/* A whole request is in c->in (NUL-terminated): answer it. */
static void conn_request(struct dash_conn *c)
{
	char *save = NULL, *line, *method, *target, *version, *query;
	const char *tok = NULL, *qtok;
	size_t toklen = 0, qlen = 0;
	struct dash_who who;

	if (memchr(c->in, 0, c->inlen)) {
		conn_fail(c, 400, "Bad Request", NULL, "a NUL byte in the "
			  "request");
		return;
	}
	line = strtok_r(c->in, "\n", &save);
	if (!line) {
		conn_fail(c, 400, "Bad Request", NULL, "no request line");
		return;
	}
	line[strcspn(line, "\r")] = 0;
	method = line;
	target = strchr(method, ' ');
	version = target ? strchr(target + 1, ' ') : NULL;
	if (!target || !version || strchr(version + 1, ' ')) {
		conn_fail(c, 400, "Bad Request", NULL, "the request line is "
			  "not METHOD TARGET HTTP/1.1");
		return;
	}
	*target++ = 0;
	*version++ = 0;
	if (strcmp(version, "HTTP/1.1") && strcmp(version, "HTTP/1.0")) {
		conn_fail(c, 400, "Bad Request", NULL, "not HTTP/1.0 or 1.1");
		return;
	}
	if (strcmp(method, "GET")) {
		conn_fail(c, 405, "Method Not Allowed", "Allow: GET\r\n",
			  "the dashboard is read-only: GET only");
		return;
	}
	if (strlen(target) > DASH_TARGET_MAX) {
		conn_fail(c, 414, "URI Too Long", NULL, "a request target "
			  "longer than %d bytes", DASH_TARGET_MAX);
		return;
	}
	if (target[0] != '/' || target[1] == '/' ||
	    strspn(target, "!#$%&'()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRS"
		   "TUVWXYZ_abcdefghijklmnopqrstuvwxyz~[]") != strlen(target)) {
		conn_fail(c, 400, "Bad Request", NULL, "a bad request target");
		return;
	}
	/* the headers: the cookie; a body is refused */
	while ((line = strtok_r(NULL, "\n", &save))) {
		char *colon;

		line[strcspn(line, "\r")] = 0;
		if (!*line)
			break;
		colon = strchr(line, ':');
		if (!colon || colon == line || strcspn(line, " \t") <
		    (size_t)(colon - line)) {
			conn_fail(c, 400, "Bad Request", NULL, "a header line "
				  "is not NAME: VALUE");
			return;
		}
		*colon++ = 0;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		if ((!strcasecmp(line, "content-length") &&
		     strcmp(colon, "0")) ||
		    !strcasecmp(line, "transfer-encoding")) {
			conn_fail(c, 400, "Bad Request", NULL, "a GET request "
				  "has no body");
			return;
		}
		if (!strcasecmp(line, "cookie") && !tok)
			tok = cookie_get(colon, &toklen);
	}
	query = strchr(target, '?');
	if (query)
		*query++ = 0;
	if (!strcmp(target, "/dash.js") || !strcmp(target, "/dash.css")) {
		const struct dash_asset *a = dash_page_asset(target);
		conn_reply(c, 200, "OK", a->type, a->body, strlen(a->body),
			   NULL);
		return;
	}
	qtok = query ? query_get(query, "token", &qlen) : NULL;
	if (qtok) {
		/* a link: the token becomes a cookie, the URL loses it */
		char extra[512];

		if (dash_auth(c->h, qtok, qlen, &who) < 0) {
			conn_fail(c, 401, "Unauthorized", NULL, "this link's "
				  "token is not valid (any more): run `nicely "
				  "dashboard` for a new one");
			return;
		}
		snprintf(extra, sizeof extra, "Location: %s\r\n"
			 "Set-Cookie: %s=%.*s; Path=/; HttpOnly; "
			 "SameSite=Strict\r\n", target, DASH_COOKIE,
			 (int)qlen, qtok);
		conn_fail(c, 303, "See Other", extra, "see %s", target);
		return;
	}
	if (!tok || dash_auth(c->h, tok, toklen, &who) < 0) {
		conn_fail(c, 401, "Unauthorized", NULL, "no valid token: run "
			  "`nicely dashboard` and open the link it prints");
		return;
	}
	conn_route(c, target, &who);
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
			conn_request(c);
		} else if (c->inlen >= DASH_REQ_MAX) {
			conn_watch(c, 0);
			conn_fail(c, 431, "Request Header Fields Too Large",
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
