/* A scripted nicely-agent for the client's tests (tests/agent_client*.c):
 * a child of the test listens on a temporary socket and answers each
 * request per a script, checking the command and, on open and adopt, that
 * a pidfd of the test process came over SCM_RIGHTS. Static functions: one
 * test program includes it once. */
#ifndef TESTS_AGENT_PEER_H
#define TESTS_AGENT_PEER_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/tap.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

static char sock[128];	/* where the peer listens */

/* One step of a peer's script: the command it expects (with "|TEXT"
 * after it: and TEXT the request must hold), whether a pidfd must come
 * with it, and its answer (NULL: keep silent for 3 s; "CLOSE": close the
 * connection without answering). */
struct step {
	const char *cmd;
	int want_fd;
	const char *reply;
};

/* The pid a pidfd refers to (from /proc/self/fdinfo), -1 when none. */
static int pidfd_pid(int fd)
{
	char path[64], line[256];
	FILE *f;
	int pid = -1;

	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	fclose(f);
	return pid;
}

/* The peer: accept one connection and play the script on it; exit with
 * the number of checks that failed. */
static void peer(int lfd, const struct step *s, int n, pid_t owner)
{
	int bad = 0, c = accept(lfd, NULL, NULL);
	char buf[8192];
	size_t len = 0;

	if (c < 0)
		_exit(100);
	for (int i = 0; i < n; i++) {
		int got_fd = -1;
		char *nl;

		while (!(nl = memchr(buf, '\n', len))) {
			struct iovec iov = { buf + len, sizeof buf - len - 1 };
			union {
				struct cmsghdr h;
				char b[CMSG_SPACE(sizeof(int))];
			} cm;
			struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
					     .msg_control = cm.b,
					     .msg_controllen = sizeof cm.b };
			ssize_t r = recvmsg(c, &mh, 0);

			if (r <= 0)
				_exit(bad + 50);
			struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
			if (h && h->cmsg_type == SCM_RIGHTS)
				memcpy(&got_fd, CMSG_DATA(h), sizeof(int));
			len += (size_t)r;
		}
		*nl = 0;
		char want[64];
		const char *has = strchr(s[i].cmd, '|');
		snprintf(want, sizeof want, "\"cmd\":\"%.*s\"",
			 has ? (int)(has - s[i].cmd) : 64, s[i].cmd);
		if (!strstr(buf, want) ||
		    !strstr(buf, "\"v\":" "1"))	/* AGENT_PROTO_VERSION */
			bad++;
		if (has && !strstr(buf, has + 1)) {
			fprintf(stderr, "# peer: step %d wants %s in %s\n", i,
				has + 1, buf);
			bad++;
		}
		if (s[i].want_fd && (got_fd < 0 || pidfd_pid(got_fd) != owner))
			bad++;
		if (!s[i].want_fd && got_fd >= 0)
			bad++;
		if (got_fd >= 0)
			close(got_fd);
		len -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, len);
		if (!s[i].reply) {
			sleep(3);
			break;
		}
		if (!strcmp(s[i].reply, "CLOSE"))
			break;
		if (write(c, s[i].reply, strlen(s[i].reply)) < 0 ||
		    write(c, "\n", 1) != 1)
			bad++;
	}
	close(c);
	_exit(bad);
}

/* Listen on sock and fork a peer playing script s. */
static pid_t peer_start(const struct step *s, int n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pid_t me = getpid(), pid;
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);

	unlink(sock);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(lfd, 4) < 0)
		tap_bail("cannot listen on a temporary socket");
	pid = fork();
	if (pid == 0)
		peer(lfd, s, n, me);
	close(lfd);
	return pid;
}

/* The peer's verdict: 0 when every check passed. */
static int peer_end(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 200;
}

#endif
