/* Tests for sched/cli/usershell: GNU parallel's rule for the shell a batch
 * runs under. The argv[0] regexp over names as ps shows them, and the
 * search itself over a fake /proc (a chain of processes with cmdline and
 * stat files): $PARALLEL_SHELL first, then the nearest shell ancestor
 * looked up in $PATH, then $SHELL, then /bin/sh; csh and fish become
 * /bin/sh; a shell that is not there is an error naming it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched/cli/usershell.h"
#include "tests/tap.h"

static char root[256];

/* Write /proc/PID/{cmdline,stat} under the fake root: argv0, parent ppid. */
static void fake_proc(int pid, const char *argv0, int ppid)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof p, "%s/%d", root, pid);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/%d/cmdline", root, pid);
	f = fopen(p, "w");
	if (!f)
		tap_bail("cannot write the fake /proc");
	fwrite(argv0, 1, strlen(argv0) + 1, f);
	fputs("-c\0x", f);
	fclose(f);
	snprintf(p, sizeof p, "%s/%d/stat", root, pid);
	f = fopen(p, "w");
	if (!f)
		tap_bail("cannot write the fake /proc");
	fprintf(f, "%d (a b) S %d 1 1 0\n", pid, ppid);
	fclose(f);
}

static void test_match(void)
{
	static const struct {
		const char *argv0, *name;
		int dash;
	} yes[] = {
		{ "bash", "bash", 0 },	{ "/usr/bin/bash", "bash", 0 },
		{ "-bash", "bash", 1 },	{ "/bin/sh", "sh", 0 },
		{ "-sh", "sh", 1 },	{ "zsh", "zsh", 0 },
		{ "ksh93", "ksh93", 0 },	{ "[bash]", "bash", 0 },
		{ "busybox sh", "sh", 0 },	{ "dash -i", "dash", 0 },
		{ "tcsh", "tcsh", 0 },
	};
	static const char *const no[] = {
		"perl", "sshd", "foo.sh", "bash5", "nicely", "flush", "sh (sh)",
		"/usr/bin/perl", "crash", "",
	};
	char name[32];
	int dash;

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		name[0] = 0;
		dash = -1;
		ok(usershell_match(yes[i].argv0, name, sizeof name, &dash),
		   "'%s' is a shell", yes[i].argv0);
		ok(!strcmp(name, yes[i].name), "... named %s (got %s)",
		   yes[i].name, name);
		is_int(dash, yes[i].dash, "... login dash %d", yes[i].dash);
	}
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		ok(!usershell_match(no[i], name, sizeof name, &dash),
		   "'%s' is no shell", no[i]);
}

/* usershell_find from pid 30 of the fake /proc, with the environment. */
static const char *find(const char *pshell, const char *shell, int *rc)
{
	static char buf[512];
	char err[256];

	if (pshell)
		setenv("PARALLEL_SHELL", pshell, 1);
	else
		unsetenv("PARALLEL_SHELL");
	if (shell)
		setenv("SHELL", shell, 1);
	else
		unsetenv("SHELL");
	buf[0] = 0;
	*rc = usershell_find(buf, sizeof buf, root, 30, err, sizeof err);
	if (*rc < 0)
		snprintf(buf, sizeof buf, "error: %s", err);
	return buf;
}

static void test_find(void)
{
	char bin[300], p[400];
	int rc;

	/* a PATH of our own: bash and zsh there, csh too */
	snprintf(bin, sizeof bin, "%s/bin", root);
	mkdir(bin, 0700);
	for (const char *const *n = (const char *const[]){ "bash", "zsh",
			"csh", NULL }; *n; n++) {
		snprintf(p, sizeof p, "%s/%s", bin, *n);
		FILE *f = fopen(p, "w");
		if (!f)
			tap_bail("cannot make the fake shells");
		fclose(f);
		chmod(p, 0755);
	}
	setenv("PATH", bin, 1);
	/* 30 nicely <- 20 make <- 10 -bash <- 1 init */
	fake_proc(30, "nicely", 20);
	fake_proc(20, "make", 10);
	fake_proc(10, "-bash", 1);
	fake_proc(1, "/sbin/init", 0);
	snprintf(p, sizeof p, "%s/bash", bin);
	is_str(find(NULL, "/bin/zsh", &rc), p,
	       "the nearest shell ancestor, looked up in $PATH");
	snprintf(p, sizeof p, "%s/zsh", bin);
	is_str(find(p, "/bin/sh", &rc), p, "$PARALLEL_SHELL comes first");
	is_str(find("zsh", NULL, &rc), p, "... a name is looked up in $PATH");
	/* no shell above: $SHELL, else /bin/sh */
	fake_proc(10, "sshd: me", 1);
	snprintf(p, sizeof p, "%s/zsh", bin);
	is_str(find(NULL, p, &rc), p, "no shell ancestor: $SHELL");
	is_str(find(NULL, NULL, &rc), "/bin/sh", "nothing at all: /bin/sh");
	/* a csh user: /bin/sh instead */
	fake_proc(10, "csh", 1);
	is_str(find(NULL, NULL, &rc), "/bin/sh", "csh is replaced by /bin/sh");
	/* a shell that is not there */
	is_str(find("/nonexistent/sh", NULL, &rc),
	       "error: Shell '/nonexistent/sh' not found (from $PARALLEL_SHELL)",
	       "a missing $PARALLEL_SHELL is an error naming it");
	is_int(rc, -ENOENT, "... -ENOENT");
	/* an ancestor whose name is a shell not on $PATH: $SHELL (GNU's) */
	fake_proc(10, "mksh", 1);
	snprintf(p, sizeof p, "%s/zsh", bin);
	is_str(find(NULL, p, &rc), p, "a shell ancestor not on $PATH: $SHELL");
}

int main(void)
{
	char cmd[300];

	snprintf(root, sizeof root, "%s/nicely-usershell.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root))
		tap_bail("mkdtemp");
	test_match();
	test_find();
	snprintf(cmd, sizeof cmd, "/bin/rm -rf '%s'", root);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", root);
	return tap_done();
}
