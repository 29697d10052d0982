/* sched/agentd/dash_http: one HTTP/1.1 request of the dashboard to its
 * answer: the request line and headers checked (GET only, no body, a
 * target of at most DASH_TARGET_MAX plain bytes), the token from a link
 * (made a cookie: 303 to the same path without it) or from the cookie,
 * then the page, the JSON of dash_view.c, 401 or 404. Every answer
 * closes the connection and forbids anything from elsewhere (CSP).
 * Called by dash.c in the agent's loop; nothing of a request is logged. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sched/agentd/agentd_int.h"
#include "sched/agentd/dash_int.h"

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

/* See dash_int.h. */
void dash_http_fail(struct dash_conn *c, int status, const char *reason,
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
		dash_http_fail(c, 500, "Internal Server Error", NULL,
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
		dash_http_fail(c, 404, "Not Found", NULL, "no batch of yours named "
			  "that");
	else
		dash_http_fail(c, 404, "Not Found", NULL, "no such page");
}

/* See dash_int.h. */
void dash_http_answer(struct dash_conn *c)
{
	char *save = NULL, *line, *method, *target, *version, *query;
	const char *tok = NULL, *qtok;
	size_t toklen = 0, qlen = 0;
	struct dash_who who;

	if (memchr(c->in, 0, c->inlen)) {
		dash_http_fail(c, 400, "Bad Request", NULL, "a NUL byte in the "
			  "request");
		return;
	}
	line = strtok_r(c->in, "\n", &save);
	if (!line) {
		dash_http_fail(c, 400, "Bad Request", NULL, "no request line");
		return;
	}
	line[strcspn(line, "\r")] = 0;
	method = line;
	target = strchr(method, ' ');
	version = target ? strchr(target + 1, ' ') : NULL;
	if (!target || !version || strchr(version + 1, ' ')) {
		dash_http_fail(c, 400, "Bad Request", NULL, "the request line is "
			  "not METHOD TARGET HTTP/1.1");
		return;
	}
	*target++ = 0;
	*version++ = 0;
	if (strcmp(version, "HTTP/1.1") && strcmp(version, "HTTP/1.0")) {
		dash_http_fail(c, 400, "Bad Request", NULL, "not HTTP/1.0 or 1.1");
		return;
	}
	if (strcmp(method, "GET")) {
		dash_http_fail(c, 405, "Method Not Allowed", "Allow: GET\r\n",
			  "the dashboard is read-only: GET only");
		return;
	}
	if (strlen(target) > DASH_TARGET_MAX) {
		dash_http_fail(c, 414, "URI Too Long", NULL, "a request target "
			  "longer than %d bytes", DASH_TARGET_MAX);
		return;
	}
	if (target[0] != '/' || target[1] == '/' ||
	    strspn(target, "!#$%&'()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRS"
		   "TUVWXYZ_abcdefghijklmnopqrstuvwxyz~[]") != strlen(target)) {
		dash_http_fail(c, 400, "Bad Request", NULL, "a bad request target");
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
			dash_http_fail(c, 400, "Bad Request", NULL, "a header line "
				  "is not NAME: VALUE");
			return;
		}
		*colon++ = 0;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		if ((!strcasecmp(line, "content-length") &&
		     strcmp(colon, "0")) ||
		    !strcasecmp(line, "transfer-encoding")) {
			dash_http_fail(c, 400, "Bad Request", NULL, "a GET request "
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
			dash_http_fail(c, 401, "Unauthorized", NULL, "this link's "
				  "token is not valid (any more): run `nicely "
				  "dashboard` for a new one");
			return;
		}
		snprintf(extra, sizeof extra, "Location: %s\r\n"
			 "Set-Cookie: %s=%.*s; Path=/; HttpOnly; "
			 "SameSite=Strict\r\n", target, DASH_COOKIE,
			 (int)qlen, qtok);
		dash_http_fail(c, 303, "See Other", extra, "see %s", target);
		return;
	}
	if (!tok || dash_auth(c->h, tok, toklen, &who) < 0) {
		dash_http_fail(c, 401, "Unauthorized", NULL, "no valid token: run "
			  "`nicely dashboard` and open the link it prints");
		return;
	}
	conn_route(c, target, &who);
}
