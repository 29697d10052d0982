/* sched/connguard: the limits every socket server of nicely puts on its
 * peers (the batch's control socket, sched/ctl.c, and nicely-agent,
 * sched/agentd/): it accepts on the listening socket, identifies the peer
 * (SO_PEERCRED), caps connections per uid and in all, closes peers that go
 * silent with a request half sent, and accepts without spinning when the
 * process is out of file descriptors. Served from the owner's epoll loop
 * (sched/loop.h); single-threaded.
 *
 * - At the total cap, the peer silent the longest (its idle clock armed,
 *   see below) is closed to make room (its idle callback), so a flood of
 *   silent peers never locks a real request out; when no peer can be
 *   closed the new one is refused. At most CONNGUARD_BURST peers are
 *   accepted per loop round, so a peer's request is read before a flood
 *   can push it out.
 * - Over the per-uid cap (root is never counted) the new peer is refused.
 * - A refused peer gets one line, {"v":V,"ok":false,"error":"..."}, and is
 *   closed at once (it reads the line after its request fails to send).
 * - Out of descriptors (EMFILE, ENFILE): a reserve descriptor is closed,
 *   the waiting peer accepted, refused ("out of file descriptors") and
 *   closed, and the reserve opened again; without a reserve the listener
 *   is taken out of the loop for CONNGUARD_PAUSE_MS. Either way accept()
 *   is not called in a busy loop.
 * - Idle clock: the owner arms a peer's clock when it waits for the peer's
 *   bytes (connected, or a line half read) and disarms it when the peer
 *   may be silent (its request is being served, or it holds something
 *   that lives as long as the connection). A peer armed for idle_ms is
 *   handed to the idle callback, which closes it. */
#ifndef SCHED_CONNGUARD_H
#define SCHED_CONNGUARD_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "sched/loop.h"

/* How long the listener rests when no descriptor is left to accept with. */
#define CONNGUARD_PAUSE_MS 100
/* Peers accepted per loop round at most. */
#define CONNGUARD_BURST 16

struct connguard;

/* One peer as the guard counts it: embedded in the owner's peer struct. */
struct connguard_conn {
	uid_t uid;
	int live;		/* counted (accepted, not yet released) */
	int armed;		/* idle clock running */
	uint64_t since_ns;	/* when it was armed */
	struct connguard_conn *prev, *next;	/* armed list, oldest first */
};

/* A peer passed the caps: the owner takes fd (non-blocking, close-on-exec)
 * and returns its embedded conn, which the guard counts and arms; or
 * closes fd and returns NULL. */
typedef struct connguard_conn *(*connguard_accept_fn)(void *ctx, int fd,
						      const struct ucred *cr);
/* conn's idle clock ran out, or it is closed to make room: the owner
 * closes the peer and calls connguard_release (from this call or later,
 * but before the next loop round's callbacks could name it again). */
typedef void (*connguard_idle_fn)(void *ctx, struct connguard_conn *c);

struct connguard_opts {
	struct loop *l;
	int listen_fd;		/* non-blocking; watched by the guard, closed
				 * by the owner after connguard_free */
	int per_uid;		/* connections per uid, root's not counted; 0:
				 * no cap */
	int max_total;		/* connections in all; 0: no cap */
	int idle_ms;		/* armed this long: closed; 0: never */
	int version;		/* "v" of the refusal line */
	const char *who;	/* the server in messages ("nicely-agent") */
	connguard_accept_fn accepted;
	connguard_idle_fn idle;
	void *ctx;
};

/* Watch the listener in o->l. A reserve descriptor is kept for EMFILE.
 * Returns 0 or -errno. Free with connguard_free (before the loop). */
int connguard_new(struct connguard **out, const struct connguard_opts *o);
/* Stop watching the listener (it stays open) and free. Live conns are the
 * owner's to close; they need no release after this. NULL: no-op. */
void connguard_free(struct connguard *g);

/* Start (or restart) conn's idle clock at now. */
void connguard_arm(struct connguard *g, struct connguard_conn *c);
/* Stop conn's idle clock. */
void connguard_disarm(struct connguard *g, struct connguard_conn *c);
/* conn is closed: uncount and forget it. Calling it twice is harmless. */
void connguard_release(struct connguard *g, struct connguard_conn *c);

/* Connections now in all, and of uid (root's are not counted: 0). */
int connguard_count(const struct connguard *g);
int connguard_count_uid(const struct connguard *g, uid_t uid);
/* Peers refused since the start (caps, out of descriptors). */
uint64_t connguard_refused(const struct connguard *g);

#endif
