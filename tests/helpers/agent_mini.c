/* agent_mini SOCKET BASE GRANT: the least of nicely-agent that places
 * batches for real, for the client's placement tests
 * (tests/agent_client_place.t) while the daemon is elsewhere: root, on the
 * machine's cgroup tree through sched/cgroup_agent.h with base BASE. It
 * answers hello, open and adopt (the peer from SO_PEERCRED, the owner from the pidfd
 * that came with it: must be the peer's unless the peer is root; its
 * batch group made, delegated, the owner moved in), lease (always GRANT
 * PUs, "killed" after a kill), list (its batches) and kill (keeping the
 * owner), and removes a batch when its owner's pidfd says it exited.
 * Writes nothing but its socket (mode 0666); SIGTERM: removes its batches,
 * the base's user groups and the socket, and exits 0; SIGKILLed, its
 * batches stay for the next one to adopt. */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "policy/preset.h"
#include "sched/agent_proto.h"
#include "sched/cgroup_agent.h"

#define MINI_MAX 64

struct conn {
	int fd, owner_fd;	/* owner_fd: pidfd of the batch's owner */
	uid_t uid;
	gid_t gid;
	char batch[128];
	int killed;
	char buf[AGENT_LINE_MAX];
	size_t len;
};

static struct cga *cga;
static struct conn conns[MINI_MAX];
static volatile sig_atomic_t stop;
static int grant, seq;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* The pid a pidfd refers to, -1 when none. */
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

/* The uid of process pid, (uid_t)-1 when gone. */
static uid_t pid_uid(int pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof path, "/proc/%d", pid);
	return stat(path, &st) == 0 ? st.st_uid : (uid_t)-1;
}

/* Send one answer line (v and ok added). */
static void answer(struct conn *c, json_t *a, int ok, const char *error)
{
	char *s;

	json_object_set_new(a, "v", json_integer(AGENT_PROTO_VERSION));
	json_object_set_new(a, "ok", json_boolean(ok));
	if (error)
		json_object_set_new(a, "error", json_string(error));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	if (s) {
		if (send(c->fd, s, strlen(s), MSG_NOSIGNAL) < 0 ||
		    send(c->fd, "\n", 1, MSG_NOSIGNAL) < 0)
			fprintf(stderr, "agent_mini: send: %s\n",
				strerror(errno));
		free(s);
	}
}

/* The batch of c ends: its groups go. */
static void batch_end(struct conn *c)
{
	char err[512];

	if (!c->batch[0])
		return;
	if (cga_batch_remove(cga, c->uid, c->batch, err, sizeof err) < 0)
		fprintf(stderr, "agent_mini: %s\n", err);
	cga_user_remove_if_empty(cga, c->uid);
	c->batch[0] = 0;
	if (c->owner_fd >= 0)
		close(c->owner_fd);
	c->owner_fd = -1;
}

/* open: make, delegate and place. */
static void do_open(struct conn *c, const json_t *m, int fd)
{
	const char *w = json_string_value(json_object_get(m, "weight"));
	enum policy_weight pw = POLICY_WEIGHT_NORMAL;
	struct passwd *pwd = getpwuid(c->uid);
	char err[512], group[512];
	int pid = fd >= 0 ? pidfd_pid(fd) : -1;

	if (c->batch[0] || pid <= 0 ||
	    (c->uid != 0 && pid_uid(pid) != c->uid)) {
		if (fd >= 0)
			close(fd);
		answer(c, json_object(), 0, "open: one batch per connection, "
		       "with a pidfd of a process of yours");
		return;
	}
	if (w && !strcmp(w, "idle"))
		pw = POLICY_WEIGHT_IDLE;
	else if (w && !strcmp(w, "low"))
		pw = POLICY_WEIGHT_LOW;
	snprintf(c->batch, sizeof c->batch, "%s-%d-%d",
		 pwd ? pwd->pw_name : "u", pid, ++seq);
	if (cga_user_ensure(cga, c->uid, NULL, err, sizeof err) < 0 ||
	    cga_batch_make(cga, c->uid, c->gid, c->batch, pw, 0, NULL, err,
			   sizeof err) < 0 ||
	    cga_batch_place(cga, c->uid, c->batch, pid, err, sizeof err) < 0) {
		cga_batch_remove(cga, c->uid, c->batch, NULL, 0);
		c->batch[0] = 0;
		close(fd);
		answer(c, json_object(), 0, err);
		return;
	}
	c->owner_fd = fd;
	snprintf(group, sizeof group, "%s/%s%u/%s", cga_base(cga),
		 AGENT_USER_PREFIX, (unsigned)c->uid, c->batch);
	answer(c, json_pack("{s:s,s:s,s:s}", "batch", c->batch, "group",
			    group, "weight", w ? w : "normal"), 1, NULL);
}

/* adopt: take up a batch an earlier agent made, when the pidfd's process
 * is its owner. */
static void do_adopt(struct conn *c, const json_t *m, int fd)
{
	const char *b = json_string_value(json_object_get(m, "batch"));
	int pid = fd >= 0 ? pidfd_pid(fd) : -1;
	char group[512];

	if (c->batch[0] || !b || strchr(b, '/') || pid <= 0 ||
	    strlen(b) >= sizeof c->batch ||
	    !cga_batch_owned_by(cga, c->uid, b, pid)) {
		fprintf(stderr, "agent_mini: adopt of %s by uid %u (pid %d) "
			"refused\n", b ? b : "?", (unsigned)c->uid, pid);
		if (fd >= 0)
			close(fd);
		answer(c, json_object(), 0, "adopt: no such batch of yours");
		return;
	}
	snprintf(c->batch, sizeof c->batch, "%s", b);
	c->owner_fd = fd;
	snprintf(group, sizeof group, "%s/%s%u/%s", cga_base(cga),
		 AGENT_USER_PREFIX, (unsigned)c->uid, c->batch);
	answer(c, json_pack("{s:s,s:s}", "batch", c->batch, "group", group),
	       1, NULL);
}

/* One request line. */
static void request(struct conn *c, const char *line, int fd)
{
	json_t *m = json_loads(line, 0, NULL);
	const char *cmd = json_string_value(json_object_get(m, "cmd"));

	if (!m || json_integer_value(json_object_get(m, "v")) !=
			  AGENT_PROTO_VERSION || !cmd) {
		answer(c, json_object(), 0, "bad request or version");
	} else if (!strcmp(cmd, AGENT_CMD_HELLO)) {
		answer(c, json_pack("{s:s,s:s,s:s,s:s,s:i,s:b,s:i,s:s}",
				    "agent", "mini", "mode",
				    sched_cgroup_mode_name(cga_mode(cga)),
				    "root", cga_root(cga), "base", cga_base(cga),
				    "uid", (int)c->uid, "admin", c->uid == 0,
				    "tick_ms", 250, "snapshot", ""),
		       1, NULL);
	} else if (!strcmp(cmd, AGENT_CMD_OPEN)) {
		do_open(c, m, fd);
		fd = -1;
	} else if (!strcmp(cmd, AGENT_CMD_ADOPT)) {
		do_adopt(c, m, fd);
		fd = -1;
	} else if (!strcmp(cmd, AGENT_CMD_LEASE)) {
		answer(c, json_pack("{s:i,s:i,s:b}", "grant",
				    c->killed ? 0 : grant, "users", 1,
				    "killed", c->killed), 1, NULL);
	} else if (!strcmp(cmd, AGENT_CMD_LIST)) {
		json_t *v = json_array();

		for (int i = 0; i < MINI_MAX; i++)
			if (conns[i].fd >= 0 && conns[i].batch[0] &&
			    (c->uid == 0 || conns[i].uid == c->uid))
				json_array_append_new(v, json_pack(
					"{s:i,s:s}", "uid", (int)conns[i].uid,
					"batch", conns[i].batch));
		answer(c, json_pack("{s:o}", "batches", v), 1, NULL);
	} else if (!strcmp(cmd, AGENT_CMD_KILL)) {
		const char *b = json_string_value(json_object_get(m, "batch"));
		int n = 0;

		for (int i = 0; i < MINI_MAX; i++) {
			struct conn *o = &conns[i];

			if (o->fd < 0 || !o->batch[0] || !b ||
			    strcmp(o->batch, b) ||
			    (c->uid != 0 && o->uid != c->uid))
				continue;
			cga_batch_kill(cga, o->uid, o->batch, 1, NULL, 0);
			o->killed = 1;
			n++;
		}
		answer(c, json_pack("{s:i}", "killed", n), 1, NULL);
	} else {
		answer(c, json_object(), 0, "unknown command");
	}
	if (fd >= 0)
		close(fd);
	json_decref(m);
}

/* Read from c; each whole line is a request. 0, or -1 when it closed. */
static int conn_read(struct conn *c)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { c->buf + c->len, sizeof c->buf - c->len - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cm.b,
			     .msg_controllen = sizeof cm.b };
	ssize_t r = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
	int fd = -1;
	char *nl;

	if (r <= 0)
		return -1;
	if (h && h->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(h), sizeof(int));
	c->len += (size_t)r;
	while ((nl = memchr(c->buf, '\n', c->len))) {
		*nl = 0;
		request(c, c->buf, fd);
		fd = -1;
		c->len -= (size_t)(nl + 1 - c->buf);
		memmove(c->buf, nl + 1, c->len);
	}
	if (fd >= 0)
		close(fd);
	return c->len >= sizeof c->buf - 1 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct cga_opts co = { NULL, NULL, NULL };
	struct pollfd pf[1 + 2 * MINI_MAX];
	char err[512];
	int lfd;

	if (argc != 4 || strlen(argv[1]) >= sizeof sa.sun_path) {
		fprintf(stderr, "usage: agent_mini SOCKET BASE GRANT\n");
		return 2;
	}
	grant = atoi(argv[3]);
	co.base = argv[2];
	if (cga_open(&cga, &co, err, sizeof err) < 0) {
		fprintf(stderr, "agent_mini: %s\n", err);
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGPIPE, SIG_IGN);
	memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(lfd, 16) < 0 || chmod(argv[1], 0666) < 0) {
		perror("agent_mini");
		return 2;
	}
	for (int i = 0; i < MINI_MAX; i++)
		conns[i].fd = conns[i].owner_fd = -1;
	while (!stop) {
		int n = 1, idx[2 * MINI_MAX], kind[2 * MINI_MAX];

		pf[0] = (struct pollfd){ lfd, POLLIN, 0 };
		for (int i = 0; i < MINI_MAX; i++) {
			if (conns[i].fd >= 0) {
				idx[n - 1] = i;
				kind[n - 1] = 0;
				pf[n++] = (struct pollfd){ conns[i].fd, POLLIN,
							   0 };
			}
			if (conns[i].owner_fd >= 0) {
				idx[n - 1] = i;
				kind[n - 1] = 1;
				pf[n++] = (struct pollfd){ conns[i].owner_fd,
							   POLLIN, 0 };
			}
		}
		if (poll(pf, (nfds_t)n, 200) <= 0)
			continue;
		if (pf[0].revents & POLLIN) {
			struct ucred cr;
			socklen_t l = sizeof cr;
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), i;

			for (i = 0; fd >= 0 && i < MINI_MAX; i++)
				if (conns[i].fd < 0 && conns[i].owner_fd < 0)
					break;
			if (fd >= 0 && (i == MINI_MAX ||
					getsockopt(fd, SOL_SOCKET, SO_PEERCRED,
						   &cr, &l) < 0)) {
				close(fd);
			} else if (fd >= 0) {
				conns[i] = (struct conn){ .fd = fd,
							  .owner_fd = -1,
							  .uid = cr.uid,
							  .gid = cr.gid };
			}
		}
		for (int k = 1; k < n; k++) {
			struct conn *c = &conns[idx[k - 1]];

			if (!pf[k].revents)
				continue;
			if (kind[k - 1] == 1) {	/* the owner exited */
				batch_end(c);
				continue;
			}
			if (c->fd >= 0 && conn_read(c) < 0) {
				/* the batch lives on with its owner */
				close(c->fd);
				c->fd = -1;
			}
		}
	}
	for (int i = 0; i < MINI_MAX; i++) {
		batch_end(&conns[i]);
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	}
	unlink(argv[1]);
	cga_close(cga);
	return 0;
}
