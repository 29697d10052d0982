/* sched/agentd/dash: nicely-agent's read-only web dashboard, off unless
 * the system config says `[agent] dashboard = ADDRESS:PORT` (a loopback
 * address: policy/config_sections.c refuses any other). Served in the
 * agent's own loop, single-threaded: dash.c (the listening socket, the
 * connections: bounded, timed out), dash_http.c (one HTTP/1.1 request to
 * its answer: GET only), dash_auth.c (the per-user tokens `nicely dashboard` asks the agent
 * for), dash_view.c (the JSON the pages poll, from what the agent knows
 * at its last tick) and dash_page.c (the static HTML, CSS and script).
 * The agent calls dash_apply after reading its config, dash_tick on its
 * tick, and dash_token for the "dashboard" request of agent_proto.h. */
#ifndef SCHED_AGENTD_DASH_H
#define SCHED_AGENTD_DASH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct agentd;
struct dash;

/* Most bytes of a request (request line and headers); beyond, 431. */
#define DASH_REQ_MAX 8192
/* Connections at once; at the cap the oldest is closed to make room. */
#define DASH_CONN_MAX 64
/* A connection's whole life: request read and answer written. */
#define DASH_TIMEOUT_MS 5000
/* Users with a token at once; beyond, the oldest token is dropped. */
#define DASH_TOKENS_MAX 256
/* Random bytes of a token (written as twice as many hex digits). */
#define DASH_TOKEN_BYTES 32
#define DASH_TOKEN_HEX (2 * DASH_TOKEN_BYTES)
/* The cookie that carries the token once a link was followed. */
#define DASH_COOKIE "nicely_dash"

/* Serve on host:port (host numeric; "" or port 0: off), keeping what is
 * served already when the address is the same (tokens survive a SIGHUP
 * that keeps it, but an admin's shows only its own user's batches until
 * `nicely dashboard` asks again: the admins may have changed). *hp is NULL when off. 1 when it starts serving, 0
 * when nothing changed or it is off, or -errno with err set (the address
 * cannot be bound: the agent says so and runs without it). */
int dash_apply(struct dash **hp, struct agentd *d, const char *host,
	       int port, char *err, size_t errlen);
/* The agent's tick: batches' rates, connections past their time. */
void dash_tick(struct dash *h);
/* Close every connection and the socket, forget every token. NULL: no-op. */
void dash_free(struct dash *h);

/* dash_auth.c */
/* The token of uid (made when it has none, or anew when renew), as
 * DASH_TOKEN_HEX hex digits and a NUL into hex; admin: it shows every
 * user's batches. 0, or -errno (getrandom failed). */
int dash_token(struct dash *h, uid_t uid, int admin, int renew,
	       char hex[DASH_TOKEN_HEX + 1]);
/* The URL that carries a token: "http://HOST:PORT/?token=HEX". */
void dash_url(const struct dash *h, const char *hex, char *buf, size_t len);

#endif
