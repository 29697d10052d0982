/* agent_peer SOCKET SCRIPT LOG: a scripted nicely-agent for the CLI's
 * tests (tests/agent_client_cli.t). Listens on SOCKET (made here, removed
 * at the end), accepts connections one after the other and answers each
 * request line with the next line of SCRIPT, "CMD REPLY": CMD is the
 * command the request must carry (else "ERROR wrong command" goes to LOG
 * and the peer exits 1), REPLY the JSON line sent back. Every request is
 * appended to LOG as received, with " +FD" when a file descriptor came
 * with it. Exits 0 once the script is played, 1 on a mismatch, 2 on a
 * usage or socket error; SIGTERM ends it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *sockpath;

/* Remove the socket on SIGTERM and exit. */
static void on_term(int sig)
{
	(void)sig;
	unlink(sockpath);
	_exit(0);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[8192], buf[65536];
	FILE *script, *log;
	int lfd, c = -1, rc = 0;
	size_t len = 0;

	if (argc != 4 || strlen(argv[1]) >= sizeof sa.sun_path) {
		fprintf(stderr, "usage: agent_peer SOCKET SCRIPT LOG\n");
		return 2;
	}
	sockpath = argv[1];
	script = fopen(argv[2], "r");
	log = fopen(argv[3], "a");
	if (!script || !log)
		return 2;
	setvbuf(log, NULL, _IOLBF, 0);
	signal(SIGTERM, on_term);
	signal(SIGPIPE, SIG_IGN);
	memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(lfd, 8) < 0) {
		perror("agent_peer");
		return 2;
	}
	while (fgets(line, sizeof line, script)) {
		char *sp = strchr(line, ' '), *nl;
		int got_fd = -1;

		if (!sp)
			continue;
		*sp = 0;
		/* the next request: on this connection, or the next one */
		while (!(nl = memchr(buf, '\n', len))) {
			struct iovec iov = { buf + len, sizeof buf - len - 1 };
			union {
				struct cmsghdr h;
				char b[CMSG_SPACE(sizeof(int))];
			} cm;
			struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
					     .msg_control = cm.b,
					     .msg_controllen = sizeof cm.b };
			ssize_t r;

			if (c < 0 && (c = accept(lfd, NULL, NULL)) < 0) {
				rc = 2;
				goto out;
			}
			r = recvmsg(c, &mh, 0);
			if (r <= 0) {	/* that client is done */
				close(c);
				c = -1;
				len = 0;
				continue;
			}
			struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
			if (h && h->cmsg_type == SCM_RIGHTS)
				memcpy(&got_fd, CMSG_DATA(h), sizeof(int));
			len += (size_t)r;
		}
		*nl = 0;
		fprintf(log, "%s%s\n", buf, got_fd >= 0 ? " +FD" : "");
		if (got_fd >= 0)
			close(got_fd);
		char want[8300];
		snprintf(want, sizeof want, "\"cmd\":\"%s\"", line);
		if (!strstr(buf, want)) {
			fprintf(log, "ERROR wrong command, expected %s\n", line);
			rc = 1;
			goto out;
		}
		len -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, len);
		sp++;
		if (write(c, sp, strlen(sp)) < 0) {
			rc = 1;
			goto out;
		}
	}
	/* let the last client read its answer and hang up */
	if (c >= 0)
		while (read(c, buf, sizeof buf) > 0)
			;
out:
	unlink(argv[1]);
	return rc;
}
