/* ctl_peer: a test helper that speaks to a batch's control socket by hand.
 * `ctl_peer SOCKET LINE [UID]` connects to SOCKET, sends LINE and a newline,
 * and prints the one answer line. With UID (run as root), it connects with
 * that effective uid, so SO_PEERCRED names UID, while path lookups still
 * pass as root (setfsuid 0): the batch's own check is what gets tested.
 * Exit 0 with an answer, 1 without one, 2 on bad arguments.
 * `ctl_peer --hold N SECONDS SOCKET [TEXT]` opens N connections (sending
 * TEXT, without a newline, on each), prints "connected K" (those that
 * connected), holds them SECONDS, then prints "closed M": how many the
 * server closed meanwhile (EOF or an error on read). A hostile peer. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/resource.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A connected socket to path, or -1. */
static int peer_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* --hold N SECONDS SOCKET [TEXT]: see the top. */
static int peer_hold(int n, double secs, const char *path, const char *text)
{
	struct rlimit rl = { (rlim_t)n + 64, (rlim_t)n + 64 };
	int *fds = calloc((size_t)n, sizeof *fds), k = 0, closed = 0;
	struct timespec ts = { (time_t)secs,
			       (long)((secs - (double)(time_t)secs) * 1e9) };

	if (!fds)
		return 2;
	setrlimit(RLIMIT_NOFILE, &rl);
	for (int i = 0; i < n; i++) {
		fds[i] = peer_connect(path);
		if (fds[i] < 0)
			continue;
		k++;
		if (text && send(fds[i], text, strlen(text), MSG_NOSIGNAL) < 0) {
			/* closed already: counted below */
		}
	}
	printf("connected %d\n", k);
	fflush(stdout);
	nanosleep(&ts, NULL);
	for (int i = 0; i < n; i++) {
		char b[512];
		struct pollfd p = { fds[i], POLLIN, 0 };

		if (fds[i] < 0)
			continue;
		/* closed: EOF (after any refusal line) or an error */
		while (poll(&p, 1, 0) > 0) {
			ssize_t r = recv(fds[i], b, sizeof b, MSG_DONTWAIT);
			if (r <= 0) {
				closed++;
				break;
			}
		}
		close(fds[i]);
	}
	printf("closed %d\n", closed);
	free(fds);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa;
	char buf[65536];
	size_t len = 0;
	int fd;

	if (argc >= 5 && !strcmp(argv[1], "--hold"))
		return peer_hold(atoi(argv[2]), atof(argv[3]), argv[4],
				 argc > 5 ? argv[5] : NULL);
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: ctl_peer SOCKET LINE [UID]\n");
		return 2;
	}
	if (argc == 4) {
		uid_t uid = (uid_t)atol(argv[3]);
		if (seteuid(uid) < 0) {
			perror("seteuid");
			return 2;
		}
		setfsuid(0);
	}
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[1]);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("connect");
		return 1;
	}
	/* the kernel took our credentials at connect: be root again (the
	 * sanitizer's exit checks need it) */
	if (argc == 4 && seteuid(0) < 0) {
		perror("seteuid");
		return 2;
	}
	if (dprintf(fd, "%s\n", argv[2]) < 0) {
		perror("send");
		return 1;
	}
	while (len < sizeof buf - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 10000) <= 0)
			break;
		ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	close(fd);
	if (!len)
		return 1;
	return write(1, buf, len) == (ssize_t)len ? 0 : 1;
}
