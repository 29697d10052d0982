/* agent/errmsg: the one way modules fill a caller's "char *err, size_t
 * errlen" buffer with a message. Used by every layer (agent, policy,
 * sched), which is why it sits in the lowest one. */
#ifndef AGENT_ERRMSG_H
#define AGENT_ERRMSG_H

#include <stddef.h>

/* Format a message into err; does nothing when err is NULL or errlen 0.
 * The text is cut to fit and always NUL-terminated. */
__attribute__((format(printf, 3, 4))) void errmsg_set(char *err,
						      size_t errlen,
						      const char *fmt, ...);

#endif
