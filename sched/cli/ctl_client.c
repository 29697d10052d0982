/* sched/ctl_client: find and talk to running batches over their control
 * sockets (sched/cli/ctl_client.h). Plain blocking calls bounded by poll(); run
 * by the CLI, never inside a batch's loop. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sched/cli/ctl_client.h"
#include "sched/ctl_proto.h"

/* A whole non-negative decimal number (a pid). */
static int ctl_client_is_id(const char *s)
{
	if (!*s || strlen(s) > 10)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Connect to path; the fd or -errno. */
static int ctl_client_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

	if (fd < 0)
		return -errno;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* Fill b for id in dir. */
static int ctl_client_path(const char *dir, const char *id,
			   struct ctl_batch *b)
{
	int n = snprintf(b->path, sizeof b->path, "%s/" CTL_SOCK_PREFIX "%s"
			 CTL_SOCK_SUFFIX, dir, id);

	snprintf(b->id, sizeof b->id, "%s", id);
	return n < 0 || (size_t)n >= sizeof b->path ? -ENAMETOOLONG : 0;
}

/* Is the socket at b live? 1 yes, 0 no (a stale one is removed). */
static int ctl_client_live(const struct ctl_batch *b)
{
	int fd = ctl_client_connect(b->path);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	/* a run between bind and listen refuses too: only a dead pid's
	 * socket is stale */
	if ((fd == -ECONNREFUSED || fd == -ENOENT) &&
	    kill((pid_t)atol(b->id), 0) < 0 && errno == ESRCH)
		unlink(b->path);
	return 0;
}

/* Order batches by numeric id. */
static int ctl_client_cmp(const void *a, const void *b)
{
	long x = atol(((const struct ctl_batch *)a)->id);
	long y = atol(((const struct ctl_batch *)b)->id);

	return x < y ? -1 : x > y;
}

/* The live batches in dir. */
int ctl_client_list(const char *dir, struct ctl_batch **out, char *err,
		    size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct ctl_batch *v = NULL;
	size_t n = 0, cap = 0;
	size_t pl = strlen(CTL_SOCK_PREFIX), sl = strlen(CTL_SOCK_SUFFIX);

	*out = NULL;
	if (!d) {
		int e = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return e;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char id[32];

		if (l <= pl + sl || l - pl - sl >= sizeof id ||
		    strncmp(de->d_name, CTL_SOCK_PREFIX, pl) ||
		    strcmp(de->d_name + l - sl, CTL_SOCK_SUFFIX))
			continue;
		memcpy(id, de->d_name + pl, l - pl - sl);
		id[l - pl - sl] = 0;
		if (!ctl_client_is_id(id))
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 8;
			struct ctl_batch *nv = realloc(v, c * sizeof *v);
			if (!nv) {
				free(v);
				closedir(d);
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			v = nv;
			cap = c;
		}
		if (ctl_client_path(dir, id, &v[n]) < 0 ||
		    !ctl_client_live(&v[n]))
			continue;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof *v, ctl_client_cmp);
	*out = v;
	return (int)n;
}

/* One batch by id. */
int ctl_client_find(const char *dir, const char *id, struct ctl_batch *b,
		    char *err, size_t errlen)
{
	const char *p = id;

	/* accept the socket's name too: run-123.sock or run-123 */
	if (!strncmp(p, CTL_SOCK_PREFIX, strlen(CTL_SOCK_PREFIX)))
		p += strlen(CTL_SOCK_PREFIX);
	char buf[32];
	snprintf(buf, sizeof buf, "%s", p);
	size_t l = strlen(buf), sl = strlen(CTL_SOCK_SUFFIX);
	if (l > sl && !strcmp(buf + l - sl, CTL_SOCK_SUFFIX))
		buf[l - sl] = 0;
	if (!ctl_client_is_id(buf)) {
		snprintf(err, errlen, "'%s' is not a batch id (the number "
			 "'nicely status' shows)", id);
		return -EINVAL;
	}
	if (ctl_client_path(dir, buf, b) < 0 || !ctl_client_live(b)) {
		snprintf(err, errlen, "no running batch '%s' of yours "
			 "('nicely status' lists them)", id);
		return -ENOENT;
	}
	return 0;
}

/* Milliseconds left until deadline (monotonic ms), -1 for none. */
static int ctl_client_left(long long deadline)
{
	struct timespec ts;
	long long now;

	if (deadline < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return now >= deadline ? 0 : (int)(deadline - now);
}

/* One request, one answer. */
int ctl_client_request(const struct ctl_batch *b, const char *cmd,
		       int timeout_ms, json_t **reply, char *err,
		       size_t errlen)
{
	char line[256], *buf = NULL;
	size_t len = 0;
	long long deadline = -1;
	json_error_t je;
	json_t *o, *v;
	int fd, n, e = 0, send_errno = 0;

	*reply = NULL;
	if (timeout_ms >= 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		deadline = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
			   timeout_ms;
	}
	fd = ctl_client_connect(b->path);
	if (fd < 0) {
		snprintf(err, errlen, "batch %s: %s", b->id,
			 fd == -ECONNREFUSED || fd == -ENOENT
				 ? "it is no longer running"
				 : strerror(-fd));
		return fd;
	}
	n = snprintf(line, sizeof line, "{\"v\":%d,\"cmd\":\"%s\"}\n",
		     CTL_PROTO_VERSION, cmd);
	/* when the send fails, an answer that came first still says why */
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n)
		send_errno = errno;
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, ctl_client_left(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			snprintf(err, errlen, "batch %s does not answer "
				 "(stopped?)", b->id);
			e = -ETIMEDOUT;
			break;
		}
		char *nb = realloc(buf, len + 4097);
		if (!nb) {
			e = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			break;
		}
		buf = nb;
		ssize_t got = recv(fd, buf + len, 4096, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			buf[len] = 0;
			break;
		}
		len += (size_t)got;
		buf[len] = 0;
		if (memchr(buf, '\n', len) || len > CTL_LINE_MAX)
			break;
	}
	close(fd);
	if (e) {
		free(buf);
		return e;
	}
	if (!buf || !len) {
		free(buf);
		if (send_errno) {
			snprintf(err, errlen, "batch %s: cannot send: %s",
				 b->id, strerror(send_errno));
			return -send_errno;
		}
		snprintf(err, errlen, "batch %s closed the connection without "
			 "an answer (it ended)", b->id);
		return -ECONNREFUSED;
	}
	if (!memchr(buf, '\n', len) && len > CTL_LINE_MAX) {
		free(buf);
		snprintf(err, errlen, "batch %s: answer longer than the "
			 "protocol's %d bytes", b->id, CTL_LINE_MAX);
		return -EPROTO;
	}
	o = json_loads(buf, JSON_DISABLE_EOF_CHECK, &je);
	free(buf);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		snprintf(err, errlen, "batch %s: answer is not JSON: %s",
			 b->id, je.text);
		return -EPROTO;
	}
	v = json_object_get(o, "v");
	if (!json_is_integer(v) || json_integer_value(v) != CTL_PROTO_VERSION) {
		snprintf(err, errlen, "protocol version mismatch: batch %s "
			 "speaks version %lld, this nicely speaks version %d "
			 "(use the nicely that started the batch)", b->id,
			 json_is_integer(v) ? (long long)json_integer_value(v)
					    : -1LL, CTL_PROTO_VERSION);
		json_decref(o);
		return -EPROTO;
	}
	*reply = o;
	return 0;
}
