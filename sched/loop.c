/* sched/loop: a thin epoll loop for the scheduler (sched/cli/run.c): watches
 * carry their callback, signals arrive through a signalfd and ticks through
 * timerfds, so nothing runs in signal context. Single-threaded. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "sched/loop.h"

/* Create the epoll set. */
int loop_init(struct loop *l)
{
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -errno : 0;
}

/* Close the epoll set. */
void loop_close(struct loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

/* Register a watch. */
int loop_add(struct loop *l, struct loop_watch *w, int fd, uint32_t events,
	     loop_fn fn)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.ptr = w;
	w->fd = fd;
	w->fn = fn;
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* Unregister a watch. */
void loop_del(struct loop *l, struct loop_watch *w)
{
	if (w->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

/* Wait once and run the callbacks. */
int loop_run_once(struct loop *l, int timeout_ms)
{
	struct epoll_event ev[64];
	int n = epoll_wait(l->epfd, ev, 64, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct loop_watch *w = ev[i].data.ptr;
		w->fn(w, ev[i].events);
	}
	return n;
}

/* Block sigs and return a signalfd for them. */
int loop_signalfd(const int *sigs, int n)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	for (int i = 0; i < n; i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

/* A monotonic, non-blocking timerfd. */
int loop_timerfd(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

/* Fill a timespec from nanoseconds. */
static void loop_ts(struct timespec *ts, uint64_t ns)
{
	ts->tv_sec = (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
}

/* Arm a relative (and optionally periodic) timer. */
int loop_timer_set(int fd, uint64_t first_ns, uint64_t interval_ns)
{
	struct itimerspec its;

	loop_ts(&its.it_value, first_ns);
	loop_ts(&its.it_interval, first_ns ? interval_ns : 0);
	return timerfd_settime(fd, 0, &its, NULL) < 0 ? -errno : 0;
}

/* Arm a one-shot timer at an absolute monotonic time. */
int loop_timer_at(int fd, uint64_t abs_ns)
{
	struct itimerspec its;

	memset(&its, 0, sizeof its);
	loop_ts(&its.it_value, abs_ns);
	return timerfd_settime(fd, abs_ns ? TFD_TIMER_ABSTIME : 0, &its,
			       NULL) < 0 ? -errno : 0;
}

/* Consume a timer's expirations. */
void loop_timer_ack(int fd)
{
	uint64_t n;
	ssize_t r = read(fd, &n, sizeof n);
	(void)r;
}

/* Monotonic clock in ns. */
uint64_t loop_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
