/* agentd_client: a test client of nicely-agent (sched/agent_proto.h).
 * `agentd_client [--as UID] [--pidfd PID] [--fds N] [--notpidfd] SOCKET
 * LINE...` connects to SOCKET (with --as, as root, under effective uid
 * UID: SO_PEERCRED names UID), sends each LINE with a newline and prints
 * the answer line. A LINE naming "open" or "adopt" carries --pidfd's
 * pidfd (N copies with --fds N; with --notpidfd, /dev/null instead) as
 * SCM_RIGHTS. A LINE "sleep:MS" waits; "raw:TEXT" sends TEXT with no
 * newline and reads no answer; "hold:MS" waits and then reports "closed"
 * when the agent closed the connection meanwhile, else "open". Exit 0 when
 * every line was answered, 1 when one was not (printing "no answer"), 2 on
 * bad arguments. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Sleep ms milliseconds. */
static void nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Send line (+ "\n" unless raw) with nfd copies of fd attached. */
static int send_line(int s, const char *line, int raw, int fd, int nfd)
{
	size_t n = strlen(line);
	char *buf = malloc(n + 2);
	union {
		char b[CMSG_SPACE(16 * sizeof(int))];
		struct cmsghdr a;
	} cm;
	struct iovec iov;
	struct msghdr mh = { 0 };
	ssize_t w;

	if (!buf)
		return -1;
	memcpy(buf, line, n);
	if (!raw)
		buf[n++] = '\n';
	iov.iov_base = buf;
	iov.iov_len = n;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0 && nfd > 0) {
		int fds[16];
		struct cmsghdr *h;

		for (int i = 0; i < nfd && i < 16; i++)
			fds[i] = fd;
		memset(&cm, 0, sizeof cm);
		mh.msg_control = cm.b;
		mh.msg_controllen = CMSG_SPACE((size_t)nfd * sizeof(int));
		h = CMSG_FIRSTHDR(&mh);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN((size_t)nfd * sizeof(int));
		memcpy(CMSG_DATA(h), fds, (size_t)nfd * sizeof(int));
	}
	/* the first chunk carries the fds; the rest goes plainly */
	w = sendmsg(s, &mh, MSG_NOSIGNAL);
	for (size_t off = w > 0 ? (size_t)w : 0; w > 0 && off < n; off += (size_t)w)
		w = send(s, buf + off, n - off, MSG_NOSIGNAL);
	free(buf);
	return w < 0 ? -1 : 0;
}

/* Read one answer line into stdout; 0, or -1 when none came in 10 s. */
static int read_line(int s)
{
	char buf[70000];
	size_t len = 0;

	while (len < sizeof buf - 1) {
		struct pollfd p = { s, POLLIN, 0 };
		if (poll(&p, 1, 10000) <= 0)
			break;
		ssize_t n = recv(s, buf + len, 1, 0);
		if (n <= 0)
			break;
		len++;
		if (buf[len - 1] == '\n')
			break;
	}
	if (!len || buf[len - 1] != '\n')
		return -1;
	return fwrite(buf, 1, len, stdout) == len ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa;
	int s, pidfd = -1, nfd = 1, notpidfd = 0, i = 1, rc = 0;
	long as = -1, pid = 0;

	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--as") && i + 1 < argc)
			as = atol(argv[++i]);
		else if (!strcmp(argv[i], "--pidfd") && i + 1 < argc)
			pid = atol(argv[++i]);
		else if (!strcmp(argv[i], "--fds") && i + 1 < argc)
			nfd = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--notpidfd"))
			notpidfd = 1;
		else
			return 2;
	}
	if (i >= argc)
		return 2;
	if (pid > 0) {
		pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
		if (pidfd < 0) {
			perror("pidfd_open");
			return 2;
		}
	}
	if (notpidfd)
		pidfd = open("/dev/null", O_RDONLY);
	if (as >= 0) {
		if (seteuid((uid_t)as) < 0)
			return 2;
		setfsuid(0);
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[i++]);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("connect");
		return 1;
	}
	if (as >= 0 && seteuid(0) < 0)
		return 2;
	for (; i < argc; i++) {
		const char *l = argv[i];
		if (!strncmp(l, "sleep:", 6)) {
			nap(atol(l + 6));
			continue;
		}
		if (!strncmp(l, "hold:", 5)) {
			char b[512];
			struct pollfd p = { s, POLLIN, 0 };
			int closed = 0;

			nap(atol(l + 5));
			while (poll(&p, 1, 0) > 0) {
				ssize_t r = recv(s, b, sizeof b, MSG_DONTWAIT);
				if (r <= 0) {
					closed = 1;
					break;
				}
			}
			printf("%s\n", closed ? "closed" : "open");
			continue;
		}
		if (!strncmp(l, "raw:", 4)) {
			send_line(s, l + 4, 1, -1, 0);
			continue;
		}
		int with = strstr(l, "\"open\"") || strstr(l, "\"adopt\"");
		/* a refusal may be waiting even when the send failed */
		send_line(s, l, 0, with ? pidfd : -1, nfd);
		if (read_line(s) < 0) {
			printf("no answer\n");
			rc = 1;
		}
		fflush(stdout);
	}
	return rc;
}
