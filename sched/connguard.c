/* sched/connguard: accept with limits (sched/connguard.h): per-uid and
 * total caps, the idle clock of peers that went silent mid-request, and
 * accept() at EMFILE without a busy loop. Used by sched/ctl.c and the
 * agent's server (sched/agentd/); runs in their loop's callbacks. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sched/connguard.h"

struct uid_count {
	uid_t uid;
	int n;
};

struct connguard {
	struct connguard_opts o;
	struct loop_watch lw;		/* the listener (fd -1 while paused) */
	struct loop_watch tw;		/* timerfd: idle deadline, pause end */
	int reserve;			/* /dev/null, spent at EMFILE */
	int paused;
	uint64_t pause_until;
	struct connguard_conn *head, *tail;	/* armed, oldest first */
	struct uid_count *uids;
	size_t nuids, capuids;
	int total;
	uint64_t refused;
};

#define MS 1000000ull

static void cg_on_listen(struct loop_watch *w, uint32_t ev);

/* The count slot of uid, made when missing (NULL: out of memory). */
static struct uid_count *cg_uid(struct connguard *g, uid_t uid, int make)
{
	for (size_t i = 0; i < g->nuids; i++)
		if (g->uids[i].uid == uid)
			return &g->uids[i];
	if (!make)
		return NULL;
	if (g->nuids == g->capuids) {
		size_t cap = g->capuids ? g->capuids * 2 : 16;
		struct uid_count *u = realloc(g->uids, cap * sizeof *u);
		if (!u)
			return NULL;
		g->uids = u;
		g->capuids = cap;
	}
	g->uids[g->nuids] = (struct uid_count){ uid, 0 };
	return &g->uids[g->nuids++];
}

/* Arm the timer at the earliest of: the oldest armed conn's deadline, the
 * end of a pause. */
static void cg_timer(struct connguard *g)
{
	uint64_t at = 0;

	if (g->head && g->o.idle_ms > 0)
		at = g->head->since_ns + (uint64_t)g->o.idle_ms * MS;
	if (g->paused && (!at || g->pause_until < at))
		at = g->pause_until;
	if (g->tw.fd >= 0)
		loop_timer_at(g->tw.fd, at ? at : 0);
}

/* Unlink c from the armed list. */
static void cg_unlink(struct connguard *g, struct connguard_conn *c)
{
	if (!c->armed)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		g->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		g->tail = c->prev;
	c->prev = c->next = NULL;
	c->armed = 0;
}

/* Start conn's idle clock now (it goes to the end of the list). */
void connguard_arm(struct connguard *g, struct connguard_conn *c)
{
	if (!c->live)
		return;
	cg_unlink(g, c);
	c->since_ns = loop_now_ns();
	c->armed = 1;
	c->prev = g->tail;
	if (g->tail)
		g->tail->next = c;
	else
		g->head = c;
	g->tail = c;
	if (g->head == c)
		cg_timer(g);
}

/* Stop conn's idle clock. */
void connguard_disarm(struct connguard *g, struct connguard_conn *c)
{
	int first = g->head == c;

	cg_unlink(g, c);
	if (first)
		cg_timer(g);
}

/* conn is gone: uncount it. */
void connguard_release(struct connguard *g, struct connguard_conn *c)
{
	struct uid_count *u;

	if (!c->live)
		return;
	connguard_disarm(g, c);
	c->live = 0;
	g->total--;
	if (c->uid != 0 && (u = cg_uid(g, c->uid, 0)) && u->n > 0)
		u->n--;
}

/* Send a refusal line (best effort, never blocks) and close fd. */
static void cg_refuse(struct connguard *g, int fd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void cg_refuse(struct connguard *g, int fd, const char *fmt, ...)
{
	char msg[256], line[400];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	n = snprintf(line, sizeof line, "{\"v\":%d,\"ok\":false,\"error\":"
		     "\"%s\"}\n", g->o.version, msg);
	if (n > 0 && (size_t)n < sizeof line &&
	    send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* the peer is gone already: nothing to tell */
	}
	close(fd);
	g->refused++;
}

/* Take the listener out of the loop for CONNGUARD_PAUSE_MS. */
static void cg_pause(struct connguard *g)
{
	if (g->paused)
		return;
	loop_del(g->o.l, &g->lw);
	g->paused = 1;
	g->pause_until = loop_now_ns() + CONNGUARD_PAUSE_MS * MS;
	cg_timer(g);
}

/* Out of descriptors with a peer waiting: spend the reserve to accept and
 * refuse it, so it leaves the queue. Returns 0 when that worked. */
static int cg_shed(struct connguard *g)
{
	int fd;

	if (g->reserve < 0)
		return -1;
	close(g->reserve);
	g->reserve = -1;
	fd = accept4(g->o.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0)
		cg_refuse(g, fd, "%s is out of file descriptors; try again "
			  "later", g->o.who);
	g->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd >= 0 ? 0 : -1;
}

/* Make room at the total cap: close the peer silent the longest. 0 when
 * one was closed. */
static int cg_evict(struct connguard *g)
{
	struct connguard_conn *c = g->head;

	if (!c)
		return -1;
	g->o.idle(g->o.ctx, c);
	/* the owner must have released it; never loop on one that stays */
	if (c->live)
		connguard_release(g, c);
	return 0;
}

/* One accepted peer against the caps. */
static void cg_admit(struct connguard *g, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof cr;
	struct uid_count *u = NULL;
	struct connguard_conn *c;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		cg_refuse(g, fd, "cannot identify you (SO_PEERCRED)");
		return;
	}
	if (cr.uid != 0 && g->o.per_uid > 0) {
		u = cg_uid(g, cr.uid, 1);
		if (!u) {
			cg_refuse(g, fd, "%s is out of memory", g->o.who);
			return;
		}
		if (u->n >= g->o.per_uid) {
			cg_refuse(g, fd, "too many connections from uid %u "
				  "(at most %d at once)", (unsigned)cr.uid,
				  g->o.per_uid);
			return;
		}
	}
	if (g->o.max_total > 0 && g->total >= g->o.max_total &&
	    cg_evict(g) < 0) {
		cg_refuse(g, fd, "busy: %d connections already (at most %d)",
			  g->total, g->o.max_total);
		return;
	}
	c = g->o.accepted(g->o.ctx, fd, &cr);
	if (!c)
		return;
	memset(c, 0, sizeof *c);
	c->uid = cr.uid;
	c->live = 1;
	g->total++;
	if (cr.uid != 0 && (u || (u = cg_uid(g, cr.uid, 1))))
		u->n++;
	connguard_arm(g, c);
}

/* The listener is readable: accept every waiting peer. */
static void cg_on_listen(struct loop_watch *w, uint32_t ev)
{
	struct connguard *g = (struct connguard *)((char *)w -
						   offsetof(struct connguard,
							    lw));
	(void)ev;
	for (int i = 0; i < CONNGUARD_BURST; i++) { /* peers read between */
		int fd = accept4(g->o.listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			cg_admit(g, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			if (cg_shed(g) == 0)
				continue;
			cg_pause(g);
		}
		return;	/* EAGAIN, or an error a pause has dealt with */
	}
}

/* The timer: close peers silent too long, end a pause. */
static void cg_on_timer(struct loop_watch *w, uint32_t ev)
{
	struct connguard *g = (struct connguard *)((char *)w -
						   offsetof(struct connguard,
							    tw));
	uint64_t now = loop_now_ns();

	(void)ev;
	loop_timer_ack(g->tw.fd);
	while (g->o.idle_ms > 0 && g->head &&
	       g->head->since_ns + (uint64_t)g->o.idle_ms * MS <= now) {
		struct connguard_conn *c = g->head;
		g->o.idle(g->o.ctx, c);
		if (c->live)
			connguard_release(g, c);
		else
			cg_unlink(g, c);
	}
	if (g->paused && g->pause_until <= now) {
		g->paused = 0;
		if (g->reserve < 0)
			g->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (loop_add(g->o.l, &g->lw, g->o.listen_fd, EPOLLIN,
			     cg_on_listen) < 0)
			cg_pause(g);
		else
			cg_on_listen(&g->lw, EPOLLIN);
	}
	cg_timer(g);
}

/* Watch the listener. */
int connguard_new(struct connguard **out, const struct connguard_opts *o)
{
	struct connguard *g = calloc(1, sizeof *g);
	int e, tfd;

	*out = NULL;
	if (!g)
		return -ENOMEM;
	g->o = *o;
	if (!g->o.who)
		g->o.who = "the server";
	g->tw.fd = g->lw.fd = -1;
	tfd = loop_timerfd();
	if (tfd < 0) {
		free(g);
		return tfd;
	}
	if ((e = loop_add(o->l, &g->tw, tfd, EPOLLIN, cg_on_timer)) < 0) {
		close(tfd);
		free(g);
		return e;
	}
	if ((e = loop_add(o->l, &g->lw, o->listen_fd, EPOLLIN,
			  cg_on_listen)) < 0) {
		loop_del(o->l, &g->tw);
		close(tfd);
		free(g);
		return e;
	}
	g->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	*out = g;
	return 0;
}

/* Stop and free. */
void connguard_free(struct connguard *g)
{
	if (!g)
		return;
	if (!g->paused)
		loop_del(g->o.l, &g->lw);
	if (g->tw.fd >= 0) {
		loop_del(g->o.l, &g->tw);
		close(g->tw.fd);
	}
	if (g->reserve >= 0)
		close(g->reserve);
	/* the owner's conns may outlive us: cut them loose */
	while (g->head)
		cg_unlink(g, g->head);
	free(g->uids);
	free(g);
}

/* Connections now. */
int connguard_count(const struct connguard *g)
{
	return g->total;
}

/* Connections of uid now. */
int connguard_count_uid(const struct connguard *g, uid_t uid)
{
	for (size_t i = 0; i < g->nuids; i++)
		if (g->uids[i].uid == uid)
			return g->uids[i].n;
	return 0;
}

/* Peers refused so far. */
uint64_t connguard_refused(const struct connguard *g)
{
	return g->refused;
}
