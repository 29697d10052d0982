/* sched/fds: the open-file limit and the fds in use, for the fd budgets
 * of `nicely run` and libnicely pools, checked before they open their own
 * files. Any thread. */
#include "sched/fds.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>

/* The soft RLIMIT_NOFILE, or -1. */
long fds_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > (rlim_t)1 << 30)
		return -1;
	return (long)rl.rlim_cur;
}

/* How many fds are open now (see fds.h). */
long fds_open_now(long limit)
{
	long n = 0;

	if (limit > 4096) {
		DIR *d = opendir("/proc/self/fd");
		struct dirent *de;

		if (d) {
			while ((de = readdir(d)))
				n += de->d_name[0] != '.';
			closedir(d);
			return n - 1; /* the directory's own */
		}
		limit = 65536;
	}
	for (long fd = 0; fd < limit; fd++)
		n += fcntl((int)fd, F_GETFD) >= 0;
	return n;
}
