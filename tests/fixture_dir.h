/* Find tests/fixtures for a C test: $NICELY_SRCDIR/tests/fixtures, else
 * ./tests/fixtures (prove runs from the source tree), else walking up from
 * the test binary (build/tests/X.t or build/asan/tests/X.t). */
#ifndef NICELY_TEST_FIXTURE_DIR_H
#define NICELY_TEST_FIXTURE_DIR_H

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fill dir (PATH_MAX bytes) with the fixtures directory; 0 or -1. */
__attribute__((unused)) static int fixture_dir(const char *argv0, char *dir)
{
	char self[PATH_MAX], *d;

	if (getenv("NICELY_SRCDIR")) {
		snprintf(dir, PATH_MAX, "%s/tests/fixtures", getenv("NICELY_SRCDIR"));
		return access(dir, R_OK) == 0 ? 0 : -1;
	}
	if (realpath("tests/fixtures", dir) && access(dir, R_OK) == 0)
		return 0;
	if (!realpath(argv0, self))
		return -1;
	d = self;
	for (int up = 0; up < 4; up++) {
		d = dirname(d);
		snprintf(dir, PATH_MAX, "%s/tests/fixtures", d);
		if (access(dir, R_OK) == 0)
			return 0;
	}
	return -1;
}

#endif
