/* agent/errmsg: formats error messages into the caller's "char *err,
 * size_t errlen" buffer, for every module of the core and the faces
 * (topology, sampler, cgroups, template, input, joblog...). Plain library
 * code, no state; safe from any thread (not after fork: vsnprintf). */
#include <stdarg.h>
#include <stdio.h>

#include "agent/errmsg.h"

/* Format a message into err when there is room. */
void errmsg_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
