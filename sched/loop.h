/* sched/loop: the scheduler's event loop: one epoll set watching output
 * pipes, pidfds, a signalfd (SIGINT SIGTERM SIGHUP SIGCHLD) and timerfds.
 * A watch is embedded in its owner's struct; its callback gets the events.
 * Used by sched/cli/run.c; single-threaded. */
#ifndef SCHED_LOOP_H
#define SCHED_LOOP_H

#include <stdint.h>

struct loop_watch;
typedef void (*loop_fn)(struct loop_watch *w, uint32_t events);

struct loop_watch {
	int fd;
	loop_fn fn;
};

struct loop {
	int epfd;
};

/* Create the epoll set. Returns 0 or -errno. */
int loop_init(struct loop *l);
void loop_close(struct loop *l);
/* Watch fd for events (EPOLLIN etc.) and call fn. Returns 0 or -errno. */
int loop_add(struct loop *l, struct loop_watch *w, int fd, uint32_t events,
	     loop_fn fn);
/* Stop watching (closing the fd also does it). */
void loop_del(struct loop *l, struct loop_watch *w);
/* Wait up to timeout_ms (-1 forever) and dispatch. Returns the number of
 * events handled or -errno (EINTR is 0). */
int loop_run_once(struct loop *l, int timeout_ms);

/* A signalfd for sigs, which are blocked in the process. -errno on error. */
int loop_signalfd(const int *sigs, int n);
/* A monotonic timerfd; loop_timer_set arms it to first_ns from now and then
 * every interval_ns (0: once); first_ns 0 disarms. */
int loop_timerfd(void);
int loop_timer_set(int fd, uint64_t first_ns, uint64_t interval_ns);
/* Arm a timerfd at an absolute CLOCK_MONOTONIC time (0 disarms). */
int loop_timer_at(int fd, uint64_t abs_ns);
/* Read and discard a timerfd's expiry count. */
void loop_timer_ack(int fd);
/* CLOCK_MONOTONIC now in nanoseconds. */
uint64_t loop_now_ns(void);

#endif
