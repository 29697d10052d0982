/* sched/ctl: the control socket of a running batch (protocol in
 * sched/ctl_proto.h). Listens on <rundir>/run-<pid>.sock, accepts peers of
 * the same uid or root (SO_PEERCRED), reads one request line per peer
 * without ever blocking, and hands it to the owner's callback, which
 * answers at once or later (kill, reset). Served from the batch's loop
 * (sched/loop.h) by sched/cli/run.c; single-threaded. */
#ifndef SCHED_CTL_H
#define SCHED_CTL_H

#include <stddef.h>

#include <jansson.h>

#include "sched/loop.h"

struct ctl;
struct ctl_req;		/* one peer's request, until it is answered */

/* A request arrived: cmd is its "cmd" string, msg the whole object
 * (borrowed for the call). The callee answers with ctl_reply now or keeps
 * req and answers later; req stays valid until answered (or ctl_close),
 * even when the peer hangs up meanwhile. */
typedef void (*ctl_request_fn)(void *ctx, struct ctl_req *req,
			       const char *cmd, json_t *msg);

struct ctl_options {
	const char *dir;	/* where the socket goes (rundir_get) */
	ctl_request_fn request;
	void *ctx;
};

/* Bind and listen on dir/run-<our pid>.sock (a stale file of that name,
 * left by a dead run of the same pid, is replaced), mode 0600, and watch it
 * in l. Returns 0 or -errno with err naming the path. */
int ctl_open(struct ctl **out, struct loop *l, const struct ctl_options *o,
	     char *err, size_t errlen);
/* Answer req with obj (ownership taken; "v" and "ok":true are added when
 * missing), write it without blocking and close the peer after it. A NULL
 * obj (it could not be built), or one longer than CTL_LINE_MAX, is
 * answered with an error instead. */
void ctl_reply(struct ctl_req *req, json_t *obj);
/* Answer req with {"ok":false,"error":msg}. */
__attribute__((format(printf, 2, 3))) void ctl_reply_error(struct ctl_req *req,
							   const char *fmt,
							   ...);
/* Put user text s into an answer as obj[key] (sched/jsonx.h: KEY_base64
 * too when it is not UTF-8), cut to its first max bytes at a character
 * boundary and then with key_cut: true (0: no cut). 0 or -ENOMEM. */
int ctl_put_text(json_t *obj, const char *key, const char *s, size_t max);
/* Free what answered peers left; call between loop rounds (never from a
 * loop callback: an event of the same round may still name them). */
void ctl_reap(struct ctl *c);
/* The socket's path and the batch id users type ("<pid>"). */
const char *ctl_path(const struct ctl *c);
const char *ctl_id(const struct ctl *c);
/* Stop listening, remove the socket file, close every peer (requests not
 * answered are dropped) and free. Call before the loop is closed. NULL is
 * a no-op. */
void ctl_close(struct ctl *c);

#endif
