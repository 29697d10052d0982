/* ctl_peer: a test helper that speaks to a batch's control socket by hand.
 * `ctl_peer SOCKET LINE [UID]` connects to SOCKET, sends LINE and a newline,
 * and prints the one answer line. With UID (run as root), it connects with
 * that effective uid, so SO_PEERCRED names UID, while path lookups still
 * pass as root (setfsuid 0): the batch's own check is what gets tested.
 * Exit 0 with an answer, 1 without one, 2 on bad arguments. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa;
	char buf[65536];
	size_t len = 0;
	int fd;

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
