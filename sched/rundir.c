/* sched/rundir: find or make the per-user runtime directory (see
 * rundir.h). Called at start by the CLI and libnicely; plain file-system
 * calls, no state. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched/rundir.h"

/* Make dir (mode 0700) unless it exists; then check it is ours and
 * private. */
static int rundir_make(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int e = errno;

		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(e));
		return -e;
	}
	if (lstat(dir, &st) < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", dir, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", dir);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen,
			 "%s belongs to uid %u, not to you (uid %u); "
			 "set NICELY_RUNTIME_DIR to a directory of yours",
			 dir, (unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "%s is open to other users (mode %03o); "
			 "it must be 0700", dir, (unsigned)(st.st_mode & 0777));
		return -EPERM;
	}
	return 0;
}

/* The runtime directory, made when missing. */
int rundir_get(char *buf, size_t len, char *err, size_t errlen)
{
	const char *env = getenv("NICELY_RUNTIME_DIR");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (errlen)
		*err = 0;
	if (env && *env)
		n = snprintf(buf, len, "%s", env);
	else if (xdg && *xdg == '/')
		n = snprintf(buf, len, "%s/nicely", xdg);
	else
		n = snprintf(buf, len, "/tmp/nicely-%u", (unsigned)geteuid());
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "runtime directory path too long");
		return -ENAMETOOLONG;
	}
	return rundir_make(buf, err, errlen);
}

/* Create a new private file in dir. */
int rundir_create(const char *dir, const char *name, char *path,
		  size_t pathlen)
{
	int n = snprintf(path, pathlen, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= pathlen)
		return -ENAMETOOLONG;
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
					    O_CLOEXEC | O_APPEND, 0600);

		if (fd >= 0)
			return fd;
		if (errno != EEXIST || attempt)
			return -errno;
		if (unlink(path) < 0)
			return -errno;
	}
	return -EEXIST;
}
