/* rundir: the per-user runtime directory is chosen from NICELY_RUNTIME_DIR,
 * XDG_RUNTIME_DIR or /tmp, made private, and refused when it is open to
 * others or not a directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched/rundir.h"
#include "tests/tap.h"

int main(void)
{
	char tmp[] = "/tmp/nicely-rundir-XXXXXX", path[512], want[600];
	char err[512];
	struct stat st;

	if (!mkdtemp(tmp))
		tap_skip_all("mkdtemp failed");
	tap_plan(9);

	snprintf(want, sizeof want, "%s/own", tmp);
	setenv("NICELY_RUNTIME_DIR", want, 1);
	ok(rundir_get(path, sizeof path, err, sizeof err) == 0,
	   "NICELY_RUNTIME_DIR is made: %s", err);
	ok(!strcmp(path, want), "and used as it is (%s)", path);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700,
	   "mode 0700");

	unsetenv("NICELY_RUNTIME_DIR");
	setenv("XDG_RUNTIME_DIR", tmp, 1);
	snprintf(want, sizeof want, "%s/nicely", tmp);
	ok(rundir_get(path, sizeof path, err, sizeof err) == 0 &&
	   !strcmp(path, want), "XDG_RUNTIME_DIR/nicely (%s)", path);

	chmod(want, 0755);
	ok(rundir_get(path, sizeof path, err, sizeof err) == -EPERM,
	   "a directory open to others is refused");
	ok(strstr(err, want) && strstr(err, "0700"),
	   "the message names it and the mode wanted: %s", err);
	chmod(want, 0700);

	snprintf(want, sizeof want, "%s/file", tmp);
	fclose(fopen(want, "w"));
	setenv("NICELY_RUNTIME_DIR", want, 1);
	ok(rundir_get(path, sizeof path, err, sizeof err) == -ENOTDIR &&
	   strstr(err, want), "a file is refused: %s", err);

	unsetenv("NICELY_RUNTIME_DIR");
	unsetenv("XDG_RUNTIME_DIR");
	snprintf(want, sizeof want, "/tmp/nicely-%u", (unsigned)geteuid());
	int existed = stat(want, &st) == 0;
	ok(rundir_get(path, sizeof path, err, sizeof err) == 0,
	   "without either, /tmp/nicely-UID: %s", err);
	ok(!strcmp(path, want), "that path (%s)", path);
	if (!existed)
		rmdir(want);	/* fails, rightly, once a batch uses it */

	snprintf(path, sizeof path, "rm -rf '%s'", tmp);
	if (system(path) != 0)
		tap_diag("could not remove %s", tmp);
	return tap_done();
}
