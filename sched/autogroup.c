/* sched/autogroup: without cgroups, lower the session's autogroup nice
 * (/proc/self/autogroup) for the batch's weight class, read it and put it
 * back. Called by the batch engines, and in a child after setsid() (the
 * fallback is async-signal-safe). */
#include "sched/autogroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sched/cgroup_fs.h"

/* Write a nice value to /proc/self/autogroup, retrying for up to about
 * 300 ms while the kernel's rate limit answers EAGAIN. */
static int cg_autogroup_write(const char *v, size_t len)
{
	struct timespec ts = { 0, 50000000L };
	int fd, r, tries;

	for (tries = 0;; tries++) {
		fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		r = write(fd, v, len) < 0 ? -errno : 0;
		close(fd);
		if (r != -EAGAIN || tries >= 6)
			return r;
		nanosleep(&ts, NULL);
	}
}

/* Renice the session's autogroup for a weight class. */
int sched_cgroup_autogroup_fallback(enum policy_weight w)
{
	const char *v = w == POLICY_WEIGHT_IDLE ? "19"
		      : w == POLICY_WEIGHT_LOW  ? "10" : NULL;

	return v ? cg_autogroup_write(v, 2) : 0;
}

/* The session's autogroup nice, from /proc/self/autogroup. */
int sched_cgroup_autogroup_nice(void)
{
	char buf[128], *p;
	ssize_t n = cg_read_path("/proc/self/autogroup", buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	p = strstr(buf, " nice ");
	return p ? atoi(p + 6) : -EINVAL;
}

/* Put back a session autogroup nice saved before the fallback. */
int sched_cgroup_autogroup_restore(int nice)
{
	char v[8];
	size_t n;

	if (nice < 0 || nice > 19)
		return -EINVAL;
	n = cg_utoa(v, (unsigned long long)nice);
	return cg_autogroup_write(v, n);
}
