/* sched/cli/usershell: which shell runs a batch's commands, by GNU parallel
 * 20221122's rule (its parent_shell and init code): $PARALLEL_SHELL, else
 * the nearest process from ours up whose argv[0] is a shell's name (looked
 * up in $PATH), else $SHELL, else /bin/sh. Called once per batch from
 * `nicely run` in the parent, before any task starts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/errmsg.h"
#include "sched/cli/usershell.h"

/* GNU parallel's list of "all shells known to mankind". */
static const char *const usershell_names[] = {
	"ash", "bash", "bsd-csh", "csh", "dash", "fdsh", "fish", "fizsh", "ksh",
	"ksh93", "lksh", "mksh", "pdksh", "posh", "rbash", "rc", "rush", "rzsh",
	"sash", "sh", "static-sh", "tcsh", "yash", "zsh",
};

/* Shells whose syntax is not the Bourne shell's: nicely's quoting of
 * values would not hold there, so /bin/sh runs the commands instead. */
static const char *const usershell_foreign[] = {
	"csh", "bsd-csh", "tcsh", "fish", "rc",
};

/* The regexp's tail: ( *$| [^(]). */
static int usershell_tail(const char *p)
{
	if (*p == ' ' && p[1] && p[1] != ' ' && p[1] != '(')
		return 1;
	while (*p == ' ')
		p++;
	if (!*p)
		return 1;
	return 0;
}

/* A shell name at p followed by what tail_ok accepts; its length or 0. */
static size_t usershell_name_at(const char *p, char close, char *name,
				size_t namelen)
{
	for (size_t i = 0;
	     i < sizeof usershell_names / sizeof usershell_names[0]; i++) {
		size_t l = strlen(usershell_names[i]);

		if (strncmp(p, usershell_names[i], l))
			continue;
		if (close ? p[l] == close && usershell_tail(p + l + 1)
			  : usershell_tail(p + l)) {
			snprintf(name, namelen, "%s", usershell_names[i]);
			return l;
		}
	}
	return 0;
}

/* 1 when s (after an optional dash) starts a shell name by the rule. */
static int usershell_try(const char *s, char close, char *name,
			 size_t namelen, int *dash)
{
	if (*s == '-' && usershell_name_at(s + 1, close, name, namelen)) {
		*dash = 1;
		return 1;
	}
	*dash = 0;
	return usershell_name_at(s, close, name, namelen) != 0;
}

/* GNU parallel's regexp over a process's argv[0]:
 * ^((\[)(-?)(SHELL)(\])|(|\S+/|busybox )(-?)(SHELL))( *$| [^(]) */
int usershell_match(const char *argv0, char *name, size_t namelen,
		    int *dash)
{
	size_t n = strlen(argv0), i;

	if (argv0[0] == '[' &&
	    usershell_try(argv0 + 1, ']', name, namelen, dash))
		return 1;
	/* \S+/: every slash with no blank before it, the last one first */
	for (i = n; i > 0; i--) {
		if (argv0[i - 1] != '/')
			continue;
		if (strcspn(argv0, " \t\n\r\f\v") < i)
			continue;
		if (usershell_try(argv0 + i, 0, name, namelen, dash))
			return 1;
	}
	if (!strncmp(argv0, "busybox ", 8) &&
	    usershell_try(argv0 + 8, 0, name, namelen, dash))
		return 1;
	return usershell_try(argv0, 0, name, namelen, dash);
}

/* The first executable file called name in $PATH (or name itself when it
 * holds a '/'), as GNU parallel's which(). */
static int usershell_which(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	const char *p, *e;

	if (strchr(name, '/')) {
		if (access(name, X_OK) < 0)
			return -1;
		snprintf(buf, len, "%s", name);
		return 0;
	}
	for (p = path ? path : ""; *p; p = *e ? e + 1 : e) {
		e = strchrnul(p, ':');
		if ((size_t)snprintf(buf, len, "%.*s/%s", (int)(e - p), p,
				     name) >= len)
			continue;
		if (access(buf, X_OK) == 0)
			return 0;
	}
	return -1;
}

/* Read the first NUL-terminated word of /proc/PID/cmdline into buf. */
static int usershell_argv0(const char *procfs, pid_t pid, char *buf,
			   size_t len)
{
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "%s/%d/cmdline", procfs, (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

/* The parent of pid from /proc/PID/stat (0 at the top, -1 unreadable). */
static pid_t usershell_ppid(const char *procfs, pid_t pid)
{
	char path[256], line[1024], *rp;
	FILE *f;
	int pp;

	snprintf(path, sizeof path, "%s/%d/stat", procfs, (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(line, sizeof line, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	rp = strrchr(line, ')');	/* the name may hold blanks */
	if (!rp || sscanf(rp + 1, " %*c %d", &pp) != 1)
		return -1;
	return (pid_t)pp;
}

/* The shell of the nearest shell ancestor (GNU's parent_shell on Linux):
 * 0 with buf set, -1 when none was found or its name is not on $PATH. */
static int usershell_parent(const char *procfs, pid_t pid, char *buf,
			    size_t len)
{
	char argv0[4096], name[32], exe[4096], ep[300];
	int dash, guard = 0;

	while (pid > 0 && guard++ < 4096) {
		if (usershell_argv0(procfs, pid, argv0, sizeof argv0) == 0 &&
		    usershell_match(argv0, name, sizeof name, &dash)) {
			ssize_t n;

			/* -sh: a login shell; its executable says which */
			snprintf(ep, sizeof ep, "%s/%d/exe", procfs, (int)pid);
			if (!strcmp(name, "sh") && dash &&
			    (n = readlink(ep, exe, sizeof exe - 1)) > 0) {
				char nm[32];
				int d;
				const char *b;

				exe[n] = '\0';
				b = strrchr(exe, '/');
				if (b && usershell_match(b, nm, sizeof nm, &d) &&
				    !d && strlen(b + 1) == strlen(nm)) {
					snprintf(buf, len, "%s", exe);
					return 0;
				}
			}
			return usershell_which(name, buf, len);
		}
		pid = usershell_ppid(procfs, pid);
	}
	return -1;
}

/* Replace a shell of another syntax family by /bin/sh. */
static void usershell_bourne(char *buf, size_t len)
{
	const char *b = strrchr(buf, '/');

	b = b ? b + 1 : buf;
	if (*b == '-')
		b++;
	for (size_t i = 0;
	     i < sizeof usershell_foreign / sizeof usershell_foreign[0]; i++)
		if (!strcmp(b, usershell_foreign[i])) {
			snprintf(buf, len, "/bin/sh");
			return;
		}
}

/* See usershell.h. */
int usershell_find(char *buf, size_t len, const char *procfs, pid_t from,
		   char *err, size_t errlen)
{
	const char *ps = getenv("PARALLEL_SHELL");
	const char *sh = getenv("SHELL");
	char want[4096];

	if (!procfs)
		procfs = "/proc";
	if (ps && *ps)
		snprintf(want, sizeof want, "%s", ps);
	else if (usershell_parent(procfs, from, want, sizeof want) == 0)
		;
	else if (sh && *sh)
		snprintf(want, sizeof want, "%s", sh);
	else
		snprintf(want, sizeof want, "/bin/sh");
	if (usershell_which(want, buf, len) < 0) {
		errmsg_set(err, errlen, "Shell '%s' not found (from %s)", want,
			   ps && *ps ? "$PARALLEL_SHELL"
			   : sh && !strcmp(sh, want) ? "$SHELL"
						     : "the parent process");
		return -ENOENT;
	}
	usershell_bourne(buf, len);
	return 0;
}
