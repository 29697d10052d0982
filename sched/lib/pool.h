/* sched/lib/pool: what pool.c shares with the other pool_*.c files: the
 * library's log line, the epoll set, closing fds. */
#ifndef SCHED_LIB_POOL_H
#define SCHED_LIB_POOL_H

#include <stdint.h>

#include "sched/lib/pool_state.h"

/* Hand a line to the log callback (the library's own lines: pid 0). */
__attribute__((format(printf, 5, 6))) void
pool_log(nicely_pool *p, int level, int64_t id, pid_t pid, const char *fmt,
	 ...);
/* Register or change a fd in the epoll set. */
int pool_ep(nicely_pool *p, int op, int fd, uint32_t events, int kind,
	    int slot);
/* Close a fd if open. */
void pool_close(int *fd);

#endif
