/* sched/agentd/dash_int: the inside of the dashboard (sched/agentd/dash.h),
 * shared by dash.c, dash_http.c, dash_auth.c, dash_view.c and dash_page.c. */
#ifndef SCHED_AGENTD_DASH_INT_H
#define SCHED_AGENTD_DASH_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "sched/agentd/dash.h"
#include "sched/loop.h"

/* One user's token: in memory only, never logged. */
struct dash_tok {
	int used;
	uid_t uid;
	int admin;		/* sees every user's batches */
	uint64_t issued_ns;
	unsigned char key[DASH_TOKEN_BYTES];
};

/* A batch's pace, kept between ticks (by name): tasks done since the
 * older of two anchors, moved on every DASH_RATE_WINDOW_MS (so over the
 * last one to two windows, or since the batch was first seen). */
#define DASH_RATE_WINDOW_MS 30000
struct dash_rate {
	char name[160];
	long long done[2];	/* at t_ns[]: [0] the older anchor */
	uint64_t t_ns[2];
	double rate;		/* tasks a second; <0: not yet */
	int seen;		/* at the last tick */
};

/* One HTTP connection. */
struct dash_conn {
	struct dash *h;
	struct loop_watch w;	/* fd -1 once closed */
	int events;
	uint64_t start_ns;
	char in[DASH_REQ_MAX + 1];
	size_t inlen;		/* > DASH_REQ_MAX: answered, draining */
	size_t drained;		/* bytes dropped meanwhile */
	char *out;
	size_t outlen, outoff;
	struct dash_conn *next;
};

struct dash {
	struct agentd *d;
	char host[48];
	int port;
	int lfd;
	struct loop_watch lw;
	struct dash_conn *conns;
	int nconns;
	struct dash_tok tok[DASH_TOKENS_MAX];
	struct dash_rate *rates;
	size_t nrates;
};

/* The viewer of a request: who its token belongs to. */
struct dash_who {
	uid_t uid;
	int all;		/* root or an admin: every user's batches */
};

/* Longest request target (path and query): 414 beyond. */
#define DASH_TARGET_MAX 300

/* dash_http.c */
/* The whole request in c->in (NUL-terminated, cut at will): its answer
 * into c->out (NULL when out of memory). */
void dash_http_answer(struct dash_conn *c);
/* An error answer: status, reason, extra headers (each ending "\r\n"),
 * a line of text. */
__attribute__((format(printf, 5, 6))) void
dash_http_fail(struct dash_conn *c, int status, const char *reason,
	       const char *extra, const char *fmt, ...);

/* dash_auth.c: the token in hex (any text: checked) to its owner; 0 with
 * *who set, -1 when it is no token of ours. Constant time in the tokens
 * compared. */
int dash_auth(const struct dash *h, const char *hex, size_t n,
	      struct dash_who *who);

/* dash_view.c */
/* The overview the page polls: the machine and the viewer's batches. */
json_t *dash_view_overview(struct dash *h, const struct dash_who *who);
/* One batch the viewer may see; NULL when there is none so named (the
 * same for a batch of another user). */
json_t *dash_view_batch(struct dash *h, const struct dash_who *who,
			const char *name);
/* The tick: the batches' rates. */
void dash_view_tick(struct dash *h);

/* dash_page.c: a static asset by path ("/", "/batch", "/dash.js",
 * "/dash.css"); NULL when none. */
struct dash_asset {
	const char *type;
	const char *body;
};
const struct dash_asset *dash_page_asset(const char *path);

#endif
