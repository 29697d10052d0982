/* sched/cli/usershell: the shell a batch's commands run under, chosen as
 * GNU parallel 20221122 chooses it: $PARALLEL_SHELL, else the nearest
 * ancestor process that is a shell (its name looked up in $PATH), else
 * $SHELL, else /bin/sh. Called once per batch by `nicely run` before the
 * loop starts. */
#ifndef SCHED_CLI_USERSHELL_H
#define SCHED_CLI_USERSHELL_H

#include <stddef.h>
#include <sys/types.h>

/* Find the shell (see above) and copy its path into buf. A shell of the
 * csh, fish or rc families is replaced by /bin/sh (nicely quotes values
 * for Bourne shells; nicely(1) names the difference). procfs is the /proc
 * to read (NULL: "/proc"), from is the pid whose ancestors are searched
 * (its own line counts, as GNU's). Returns 0, or -ENOENT with err naming
 * the shell that is neither executable nor on $PATH (GNU parallel exits
 * 255 then too). */
int usershell_find(char *buf, size_t len, const char *procfs, pid_t from,
		   char *err, size_t errlen);

/* 1 when the first word of argv[0] of a process (as /proc/PID/cmdline
 * holds it up to its first NUL) names a shell by GNU parallel's rule;
 * then the shell's name (no path, no leading '-') is copied into name. */
int usershell_match(const char *argv0, char *name, size_t namelen,
		    int *dash);

#endif
