/* sched/ctl: the server side of a batch's control socket (sched/ctl.h,
 * protocol in sched/ctl_proto.h). Every socket is non-blocking and watched
 * by the batch's epoll loop: a peer that sends nothing, or reads its answer
 * slowly, only holds its own buffer. Called from sched/cli/run.c's loop
 * callbacks; single-threaded. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sched/connguard.h"
#include "sched/ctl.h"
#include "sched/ctl_proto.h"
#include "sched/jsonx.h"

/* Peers connected at once: at the cap the one silent the longest is
 * closed to make room (sched/connguard.h), so a flood of silent peers
 * never locks `nicely status` and `kill` out and never eats the run's
 * file descriptors. */
#define CTL_PEERS_MAX 64
/* A peer has this long from connecting to sending its request line (and
 * to reading its answer); then it is closed. */
#define CTL_IDLE_MS 2000

struct ctl_req {
	struct ctl *c;
	struct loop_watch w;	/* fd -1 once closed */
	struct connguard_conn gc;
	char *in;		/* request bytes so far */
	size_t inlen;
	char *out;		/* answer bytes not yet written */
	size_t outlen, outoff;
	int state;		/* CTL_READING, CTL_WAITING, CTL_WRITING, CTL_DONE */
	char *refused;		/* the answer to whatever it asks, or NULL */
	struct ctl_req *next;
};

enum { CTL_READING, CTL_WAITING, CTL_WRITING, CTL_DONE };

struct ctl {
	struct loop *l;
	int lfd;		/* the listening socket */
	struct connguard *guard;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char id[32];
	ctl_request_fn request;
	void *ctx;
	struct ctl_req *reqs;	/* every peer, answered or not */
	int npeers;		/* with an open fd */
};

static void ctl_on_peer(struct loop_watch *w, uint32_t ev);

/* Close a peer's socket (its struct stays until ctl_reap). */
static void ctl_peer_close(struct ctl_req *q)
{
	if (q->w.fd >= 0) {
		loop_del(q->c->l, &q->w);
		close(q->w.fd);
		q->w.fd = -1;
		q->c->npeers--;
		connguard_release(q->c->guard, &q->gc);
	}
	free(q->in);
	q->in = NULL;
	q->inlen = 0;
}

/* Write what is left of the answer; close when all is out (or the peer
 * went away). Returns 1 when more must wait for EPOLLOUT. */
static int ctl_flush(struct ctl_req *q)
{
	while (q->w.fd >= 0 && q->outoff < q->outlen) {
		ssize_t n = send(q->w.fd, q->out + q->outoff,
				 q->outlen - q->outoff, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (n <= 0)
			break;
		q->outoff += (size_t)n;
	}
	ctl_peer_close(q);
	free(q->out);
	q->out = NULL;
	q->state = CTL_DONE;
	return 0;
}

/* Answer a request. */
void ctl_reply(struct ctl_req *q, json_t *obj)
{
	char *s;

	if (!q || q->state == CTL_WRITING || q->state == CTL_DONE) {
		json_decref(obj);
		return;
	}
	s = jsonx_answer(obj, CTL_PROTO_VERSION, CTL_LINE_MAX);
	q->state = CTL_WRITING;
	if (!s || q->w.fd < 0) {
		free(s);
		ctl_flush(q);
		return;
	}
	q->outlen = strlen(s);
	q->out = realloc(s, q->outlen + 1);
	if (!q->out)
		q->out = s;
	q->out[q->outlen++] = '\n';
	q->outoff = 0;
	if (ctl_flush(q)) {
		/* the rest when the peer's buffer has room */
		int fd = q->w.fd;

		loop_del(q->c->l, &q->w);
		if (loop_add(q->c->l, &q->w, fd, EPOLLOUT, ctl_on_peer) < 0)
			ctl_flush(q); /* cannot wait: drop the peer */
		else	/* a peer that never reads is not kept for ever */
			connguard_arm(q->c->guard, &q->gc);
	}
}

/* Answer with an error message. */
void ctl_reply_error(struct ctl_req *q, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *o = json_object();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_object_set_new(o, "ok", json_false());
	jsonx_sets(o, "error", msg);
	ctl_reply(q, o);
}

/* User text into an answer, cut to max bytes with key_cut. */
int ctl_put_text(json_t *obj, const char *key, const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	char k[256];

	if (s && max && n > max) {
		n = max;
		/* back to a character boundary: no valid sequence is split */
		for (size_t b = 0; b < 3 && n > 0 &&
		     ((unsigned char)s[n] & 0xc0) == 0x80; b++)
			n--;
		snprintf(k, sizeof k, "%s_cut", key);
		if (json_object_set_new(obj, k, json_true()) < 0)
			return -ENOMEM;
	}
	return jsonx_set(obj, key, s, n);
}

/* A whole request line: check the version, hand it to the owner. */
static void ctl_handle(struct ctl_req *q, const char *line)
{
	json_error_t je;
	json_t *msg, *v, *cmd;

	if (q->refused) {
		ctl_reply_error(q, "%s", q->refused);
		return;
	}
	msg = json_loads(line, 0, &je);
	if (!msg || !json_is_object(msg)) {
		ctl_reply_error(q, "not a JSON object: %s", msg ? "" : je.text);
		json_decref(msg);
		return;
	}
	v = json_object_get(msg, "v");
	if (!json_is_integer(v) || json_integer_value(v) != CTL_PROTO_VERSION) {
		char got[32] = "none";

		if (json_is_integer(v))
			snprintf(got, sizeof got, "%lld",
				 (long long)json_integer_value(v));
		ctl_reply_error(q, "protocol version mismatch: the client "
				"speaks version %s, this nicely run speaks "
				"version %d (use the nicely that started the "
				"batch)", got, CTL_PROTO_VERSION);
		json_decref(msg);
		return;
	}
	cmd = json_object_get(msg, "cmd");
	if (!json_is_string(cmd)) {
		ctl_reply_error(q, "request without a \"cmd\" string");
		json_decref(msg);
		return;
	}
	q->state = CTL_WAITING;
	connguard_disarm(q->c->guard, &q->gc); /* its answer may take long */
	q->c->request(q->c->ctx, q, json_string_value(cmd), msg);
	json_decref(msg);
}

/* Bytes from a peer: gather the request line; after it, only watch for
 * the peer hanging up. */
static void ctl_read(struct ctl_req *q)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = recv(q->w.fd, buf, sizeof buf, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* gone: an answer later is dropped */
			ctl_peer_close(q);
			if (q->state == CTL_READING)
				q->state = CTL_DONE;
			return;
		}
		if (q->state != CTL_READING)
			continue; /* one request per peer */
		char *nl = memchr(buf, '\n', (size_t)n);
		size_t take = nl ? (size_t)(nl - buf) : (size_t)n;
		if (q->inlen + take + 1 > CTL_LINE_MAX) {
			ctl_reply_error(q, "request longer than %d bytes",
					CTL_LINE_MAX);
			return;
		}
		char *in = realloc(q->in, q->inlen + take + 1);
		if (!in) {
			ctl_reply_error(q, "out of memory");
			return;
		}
		q->in = in;
		memcpy(q->in + q->inlen, buf, take);
		q->inlen += take;
		q->in[q->inlen] = 0;
		if (nl) {
			ctl_handle(q, q->in);
			if (q->w.fd < 0 || q->state != CTL_WAITING)
				return;
		}
	}
}

/* Peer socket callback. */
static void ctl_on_peer(struct loop_watch *w, uint32_t ev)
{
	struct ctl_req *q = (struct ctl_req *)((char *)w -
					       offsetof(struct ctl_req, w));

	if (q->w.fd < 0)
		return;
	if (q->state == CTL_WRITING) {
		if (ev & (EPOLLERR | EPOLLHUP))
			q->outoff = q->outlen;
		ctl_flush(q);
		return;
	}
	ctl_read(q);
}

/* The peer's uid may control this batch: ours, or root. 0, or -EPERM with
 * the refusal kept as the answer to its request (answering before it asks
 * would make its send fail). */
static int ctl_check_peer(struct ctl_req *q)
{
	struct ucred cr;
	socklen_t len = sizeof cr;
	uid_t me = geteuid();

	char msg[256];

	if (getsockopt(q->w.fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		snprintf(msg, sizeof msg, "cannot identify you (SO_PEERCRED: "
			 "%s)", strerror(errno));
	else if (cr.uid == me || cr.uid == 0)
		return 0;
	else
		snprintf(msg, sizeof msg, "refused: you are uid %u; batch %s "
			 "belongs to uid %u, and only its owner or root may "
			 "control it", (unsigned)cr.uid, q->c->id,
			 (unsigned)me);
	q->refused = strdup(msg);
	if (!q->refused)
		ctl_reply_error(q, "%s", msg);
	return -EPERM;
}

/* A peer the guard let in: take it, check its uid. */
static struct connguard_conn *ctl_accepted(void *ctx, int fd,
					   const struct ucred *cr)
{
	struct ctl *c = ctx;
	struct ctl_req *q = calloc(1, sizeof *q);

	(void)cr;
	if (!q) {
		close(fd);
		return NULL;
	}
	q->c = c;
	q->w.fd = fd;
	q->state = CTL_READING;
	if (loop_add(c->l, &q->w, fd, EPOLLIN, ctl_on_peer) < 0) {
		close(fd);
		free(q);
		return NULL;
	}
	q->next = c->reqs;
	c->reqs = q;
	c->npeers++;
	ctl_check_peer(q);
	return &q->gc;
}

/* A peer silent too long, or closed to make room: drop it (a request it
 * made and that waits for its answer is never armed). */
static void ctl_idle(void *ctx, struct connguard_conn *gc)
{
	struct ctl_req *q = (struct ctl_req *)((char *)gc -
					       offsetof(struct ctl_req, gc));

	(void)ctx;
	ctl_peer_close(q);
	free(q->out);
	q->out = NULL;
	q->state = CTL_DONE;
}

/* Listen on dir/run-<pid>.sock. */
int ctl_open(struct ctl **out, struct loop *l, const struct ctl_options *o,
	     char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct ctl *c;
	int fd, n, e;

	*out = NULL;
	c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->l = l;
	c->request = o->request;
	c->ctx = o->ctx;
	c->lfd = -1;
	snprintf(c->id, sizeof c->id, "%d", (int)getpid());
	n = snprintf(c->path, sizeof c->path, "%s/" CTL_SOCK_PREFIX "%s"
		     CTL_SOCK_SUFFIX, o->dir, c->id);
	if (n < 0 || (size_t)n >= sizeof c->path) {
		snprintf(err, errlen, "control socket path too long: %s/"
			 CTL_SOCK_PREFIX "%s" CTL_SOCK_SUFFIX, o->dir, c->id);
		free(c);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		free(c);
		return e;
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, c->path, (size_t)n + 1);
	/* the pid is ours, so a file of this name is a dead run's */
	unlink(c->path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    chmod(c->path, 0600) < 0 || listen(fd, 16) < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", c->path,
			 strerror(errno));
		close(fd);
		unlink(c->path);
		free(c);
		return e;
	}
	struct connguard_opts go = {
		.l = l, .listen_fd = fd, .per_uid = 0,
		.max_total = CTL_PEERS_MAX, .idle_ms = CTL_IDLE_MS,
		.version = CTL_PROTO_VERSION, .who = "this nicely run",
		.accepted = ctl_accepted, .idle = ctl_idle, .ctx = c,
	};
	e = connguard_new(&c->guard, &go);
	if (e < 0) {
		snprintf(err, errlen, "cannot watch %s: %s", c->path,
			 strerror(-e));
		close(fd);
		unlink(c->path);
		free(c);
		return e;
	}
	c->lfd = fd;
	*out = c;
	return 0;
}

/* Free answered peers. */
void ctl_reap(struct ctl *c)
{
	struct ctl_req **pp;

	if (!c)
		return;
	pp = &c->reqs;
	while (*pp) {
		struct ctl_req *q = *pp;
		if (q->state == CTL_DONE && q->w.fd < 0) {
			*pp = q->next;
			free(q->refused);
			free(q->in);
			free(q->out);
			free(q);
		} else {
			pp = &q->next;
		}
	}
}

/* The socket path. */
const char *ctl_path(const struct ctl *c)
{
	return c->path;
}

/* The batch id. */
const char *ctl_id(const struct ctl *c)
{
	return c->id;
}

/* Stop listening and free everything. */
void ctl_close(struct ctl *c)
{
	if (!c)
		return;
	while (c->reqs) {
		struct ctl_req *q = c->reqs;
		c->reqs = q->next;
		ctl_peer_close(q);
		free(q->refused);
		free(q->out);
		free(q);
	}
	connguard_free(c->guard);
	if (c->lfd >= 0) {
		close(c->lfd);
		unlink(c->path);
	}
	free(c);
}
