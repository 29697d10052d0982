/* Shared setup for the libnicely tests (tests/lib_*.c): an empty config
 * environment so the machine's files never leak in, a deterministic pool
 * (preset "nuclear" + max_workers), and checks that processes are gone. */
#ifndef TESTS_LIB_UTIL_H
#define TESTS_LIB_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nicely.h"

static char lib_tmpdir[64];

/* Remove the temporary config folders. */
static void lib_env_cleanup(void)
{
	char p[128];

	snprintf(p, sizeof p, "%s/etc", lib_tmpdir);
	rmdir(p);
	snprintf(p, sizeof p, "%s/xdg", lib_tmpdir);
	rmdir(p);
	rmdir(lib_tmpdir);
}

/* Point every config lookup at empty temporary folders. */
__attribute__((unused)) static void lib_env_setup(void)
{
	char p[128];

	snprintf(lib_tmpdir, sizeof lib_tmpdir, "/tmp/nicely-lib-XXXXXX");
	if (!mkdtemp(lib_tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		exit(255);
	}
	snprintf(p, sizeof p, "%s/etc", lib_tmpdir);
	mkdir(p, 0755);
	setenv("NICELY_SYSCONFDIR", p, 1);
	snprintf(p, sizeof p, "%s/xdg", lib_tmpdir);
	mkdir(p, 0755);
	setenv("XDG_CONFIG_HOME", p, 1);
	setenv("NICELY_CONFIG", "", 1);
	unsetenv("NICELY_PROCFS");
	unsetenv("NICELY_TOPOLOGY");
	atexit(lib_env_cleanup);
}

/* Options for a deterministic pool of n workers. */
__attribute__((unused)) static void lib_opts(nicely_options *o, int n)
{
	nicely_options_init(o);
	o->preset = "nuclear";
	o->max_workers = n;
}

/* 1 when pid no longer exists (or is a zombie nobody reaped yet). */
__attribute__((unused)) static int lib_pid_gone(pid_t pid)
{
	char path[64], buf[256];
	FILE *f;
	char *c;

	if (pid <= 0)
		return 1;
	if (kill(pid, 0) && errno == ESRCH)
		return 1;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return 1;
	c = fgets(buf, sizeof buf, f);
	fclose(f);
	c = c ? strrchr(buf, ')') : NULL;
	return c && (c[2] == 'Z' || c[2] == 'X');
}

/* Wait up to secs seconds for pid to be gone. */
__attribute__((unused)) static int lib_wait_gone(pid_t pid, double secs)
{
	for (int i = 0; i < (int)(secs * 100); i++) {
		if (lib_pid_gone(pid))
			return 1;
		usleep(10000);
	}
	return lib_pid_gone(pid);
}

/* A task that succeeds with the 5 bytes "fine" (NUL included). */
__attribute__((unused)) static int t_ok(const void *arg, size_t len,
					nicely_out *out, void *st)
{
	(void)arg;
	(void)len;
	(void)st;
	return nicely_out_write(out, "fine", 5);
}

/* A task that returns x*x of its int64_t argument, as 8 bytes. */
__attribute__((unused)) static int lib_square(const void *arg, size_t len,
					      nicely_out *out, void *st)
{
	int64_t x;

	(void)st;
	(void)len;
	memcpy(&x, arg, sizeof x);
	x *= x;
	return nicely_out_write(out, &x, sizeof x);
}

/* Read a file (trailing newlines dropped) into buf; "" when unreadable. */
__attribute__((unused)) static const char *lib_slurp(const char *path,
						     char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = 0;
	return buf;
}

/* Write text to path atomically (a temporary file renamed over it). */
__attribute__((unused)) static void lib_put(const char *path, const char *text)
{
	char tmp[300];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (!(f = fopen(tmp, "w")))
		return;
	fputs(text, f);
	fclose(f);
	rename(tmp, path);
}

/* Sleep for ms milliseconds. */
__attribute__((unused)) static void lib_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The batch cgroups of pool owner pid, in every hierarchy of the machine's
 * tree (/sys/fs/cgroup/<ctrl>/nicely/<user>-<pid>-<n>): how many exist. */
__attribute__((unused)) static int lib_cg_count(pid_t owner)
{
	char pat[256];
	struct passwd *pw = getpwuid(geteuid());
	glob_t g;
	int n;

	snprintf(pat, sizeof pat, "/sys/fs/cgroup/*/nicely/%s-%d-*",
		 pw ? pw->pw_name : "?", (int)owner);
	if (glob(pat, GLOB_ONLYDIR, NULL, &g))
		return 0;
	n = (int)g.gl_pathc;
	globfree(&g);
	return n;
}

/* 1 when this machine gives libnicely v1 cgroups: root, with the cpu and
 * freezer controllers at /sys/fs/cgroup. */
__attribute__((unused)) static int lib_cg_usable(void)
{
	return geteuid() == 0 &&
	       access("/sys/fs/cgroup/cpu/cpu.shares", F_OK) == 0 &&
	       access("/sys/fs/cgroup/freezer/cgroup.procs", F_OK) == 0;
}

/* The freezer state of a worker's group grp ("/nicely/.../task-N"): 1
 * frozen, 0 thawed, -1 unknown. A hybrid tree freezes through cgroup2
 * (cgroup.events), a v1 tree through the v1 freezer (freezer.state). */
__attribute__((unused)) static int lib_cg_frozen(const char *grp)
{
	char p[400], v[256];

	snprintf(p, sizeof p, "/sys/fs/cgroup/unified%s/cgroup.events", grp);
	if (*lib_slurp(p, v, sizeof v))
		return strstr(v, "frozen 1") ? 1 : strstr(v, "frozen 0") ? 0 : -1;
	snprintf(p, sizeof p, "/sys/fs/cgroup/freezer%s/freezer.state", grp);
	lib_slurp(p, v, sizeof v);
	return !strcmp(v, "FROZEN") ? 1 : !strcmp(v, "THAWED") ? 0 : -1;
}

/* Whether grp's freeze is requested: cgroup.freeze 1 (cgroup2) or
 * freezer.state FREEZING/FROZEN (v1). From the request on no process of the
 * group runs user code; the kernel says frozen once each got a CPU. */
__attribute__((unused)) static int lib_cg_freeze_requested(const char *grp)
{
	char p[400], v[256];

	snprintf(p, sizeof p, "/sys/fs/cgroup/unified%s/cgroup.freeze", grp);
	if (*lib_slurp(p, v, sizeof v))
		return !strcmp(v, "1");
	snprintf(p, sizeof p, "/sys/fs/cgroup/freezer%s/freezer.state", grp);
	lib_slurp(p, v, sizeof v);
	return !strcmp(v, "FREEZING") || !strcmp(v, "FROZEN");
}

/* CPU time of group grp in microseconds (cgroup2's cpu.stat, there on
 * hybrid trees too, else v1 cpuacct), -1 when neither is readable. */
__attribute__((unused)) static long long lib_cg_cpu_us(const char *grp)
{
	char p[400], v[1024], *u;

	snprintf(p, sizeof p, "/sys/fs/cgroup/unified%s/cpu.stat", grp);
	if ((u = strstr(lib_slurp(p, v, sizeof v), "usage_usec ")))
		return atoll(u + 11);
	snprintf(p, sizeof p, "/sys/fs/cgroup/cpuacct%s/cpuacct.usage", grp);
	if (*lib_slurp(p, v, sizeof v))
		return atoll(v) / 1000;
	return -1;
}

#endif
