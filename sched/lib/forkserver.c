/* sched/forkserver: the fork server process of a libnicely pool. Forked by
 * nicely_pool_new(); from then on it only waits on its control socket and a
 * signalfd (SIGCHLD, SIGTERM from PR_SET_PDEATHSIG): it forks workers into
 * their own process groups (and, when the pool has cgroups, into the
 * worker's cgroup, joined in the child before anything else runs), kills
 * groups on request, reaps its children by PID and reports each exit. EOF
 * on the socket or the owner's death: kill every worker's group, reap,
 * exit. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched/lib/forkserver.h"
#include "sched/lib/wire.h"

struct fs_state {
	int sock, sigfd;
	const struct worker_cfg *cfg;
	pid_t *pids;	/* live workers, indexed by slot; 0 = none */
	int nslots;
	struct sched_cgroup *cg;	/* our copy of the pool's batch */
	int bye;	/* the pool said it cleans up its cgroups itself */
};

/* Send a message and optional fds. */
int forkserver_send(int sock, const struct forkserver_msg *m, const int *fds,
		    int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * FORKSERVER_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)m, sizeof *m };
	struct msghdr mh = { 0 };
	ssize_t n;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > FORKSERVER_MAX_FDS)
		return -EINVAL;
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof u);
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

/* Kill every live worker's process group and reap them all; unless the
 * pool said goodbye (its owner died), kill and remove its cgroups too, so
 * nothing a task double-forked away outlives the owner. Then leave. */
__attribute__((noreturn)) static void fs_shutdown(struct fs_state *fs)
{
	char err[256];

	for (int i = 0; i < fs->nslots; i++)
		if (fs->pids[i] > 0) {
			killpg(fs->pids[i], SIGKILL);
			kill(fs->pids[i], SIGKILL);
		}
	for (int i = 0; i < fs->nslots; i++)
		if (fs->pids[i] > 0)
			while (waitpid(fs->pids[i], NULL, 0) < 0 &&
			       errno == EINTR)
				;
	if (fs->cg && !fs->bye)
		sched_cgroup_batch_close(fs->cg, err, sizeof err);
	_exit(0);
}

/* In a new worker that could not join its cgroup: tell the pool why (as a
 * worker_init failure: its tasks fail with this text) and leave. The fork
 * server is single-threaded, so the child may use stdio and malloc. */
__attribute__((noreturn)) static void fs_child_nocgroup(int res_fd, int err)
{
	struct wire_buf b = { 0 };
	char msg[160];
	int n = snprintf(msg, sizeof msg, "cannot join the worker's cgroup: %s",
			 strerror(err));

	if (!wire_buf_frame(&b, WIRE_INITFAIL, msg, (size_t)n, NULL, 0))
		while (b.off < b.len) {
			ssize_t w = write(res_fd, b.p + b.off, b.len - b.off);

			if (w <= 0)
				break;
			b.off += (size_t)w;
		}
	_exit(0);
}

/* In the new worker: join its cgroup first, detach from the fork server's
 * setup, then run. */
__attribute__((noreturn)) static void
fs_child(struct fs_state *fs, const struct forkserver_msg *m, const int *fds,
	 pid_t fs_pid)
{
	sigset_t none;
	int nstd = m->nfds - m->ncg;

	if (m->ncg > 0) {
		struct sched_cgroup_task t;
		int rc;

		memset(&t, 0, sizeof t);
		t.nfd = m->ncg;
		t.trace_fd = -1;
		memcpy(t.procs_fd, fds + nstd, sizeof(int) * (size_t)m->ncg);
		rc = sched_cgroup_child_join(&t);
		for (int i = 0; i < m->ncg; i++)
			close(fds[nstd + i]);
		if (rc < 0)
			fs_child_nocgroup(fds[1], -rc);
	}
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "nicely-worker");
	if (getppid() != fs_pid)
		_exit(126);
	close(fs->sock);
	close(fs->sigfd);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (m->val >= 0)
		setpriority(PRIO_PROCESS, 0, m->val);
	if (m->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(m->cpu, &set);
		sched_setaffinity(0, sizeof set, &set);
	}
	if (nstd > 2) {
		dup2(fds[2], 2);
		close(fds[2]);
	}
	worker_main(fs->cfg, m->slot, fds[0], fds[1]);
}

/* Receive one message; returns 0 at EOF, 1 with a message, -errno. */
static int fs_recv(int sock, struct forkserver_msg *m, int *fds, int *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * FORKSERVER_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { m, sizeof *m };
	struct msghdr mh = { 0 };
	struct cmsghdr *c;
	ssize_t n;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof u.buf;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	*nfds = 0;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

			if (k > FORKSERVER_MAX_FDS) {
				for (int i = FORKSERVER_MAX_FDS; i < k; i++)
					close(((int *)CMSG_DATA(c))[i]);
				k = FORKSERVER_MAX_FDS;
			}
			memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)k);
			*nfds = k;
		}
	return (size_t)n == sizeof *m ? 1 : -EBADMSG;
}

/* Handle one request from the parent. */
static void fs_request(struct fs_state *fs, const struct forkserver_msg *m,
		       int *fds, int nfds)
{
	struct forkserver_msg r = { 0 };
	pid_t pid;

	r.slot = m->slot;
	if (m->type == FORKSERVER_BYE) {
		fs->bye = 1;
		return;
	}
	if (m->type == FORKSERVER_KILL) {
		for (int i = 0; i < fs->nslots; i++)
			if (fs->pids[i] == m->pid) {
				killpg(m->pid, SIGKILL);
				kill(m->pid, SIGKILL);
			}
		return;
	}
	if (m->type != FORKSERVER_SPAWN || m->slot < 0 ||
	    m->slot >= fs->nslots || nfds != m->nfds || m->ncg < 0 ||
	    m->ncg > SCHED_CGROUP_MAX_HIER || nfds - m->ncg < 2 ||
	    nfds - m->ncg > 3 || fs->pids[m->slot]) {
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		r.type = FORKSERVER_SPAWNFAIL;
		r.val = EINVAL;
		forkserver_send(fs->sock, &r, NULL, 0);
		return;
	}
	pid_t self = getpid();

	pid = fork();
	if (pid == 0)
		fs_child(fs, m, fds, self);
	int e = errno;

	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (pid < 0) {
		r.type = FORKSERVER_SPAWNFAIL;
		r.val = e;
	} else {
		setpgid(pid, pid);
		fs->pids[m->slot] = pid;
		r.type = FORKSERVER_SPAWNED;
		r.pid = pid;
	}
	if (forkserver_send(fs->sock, &r, NULL, 0))
		fs_shutdown(fs);
}

/* Reap workers that exited; their leftover group members are killed first. */
static void fs_reap(struct fs_state *fs)
{
	for (int i = 0; i < fs->nslots; i++) {
		siginfo_t si;
		pid_t pid = fs->pids[i];
		int status;

		if (!pid)
			continue;
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) ||
		    si.si_pid != pid)
			continue;
		/* The zombie still holds its PID, so the group id cannot be
		 * reused yet: kill what the task left behind, then reap. */
		struct rusage ru;

		killpg(pid, SIGKILL);
		memset(&ru, 0, sizeof ru);
		while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
			;
		fs->pids[i] = 0;
		struct forkserver_msg r = { FORKSERVER_EXITED, i, pid, status,
					    -1, 0, 0, 0, 0 };

		r.cpu_ns = ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) *
				   1000000000u +
			   ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) *
				   1000u;

		if (forkserver_send(fs->sock, &r, NULL, 0))
			fs_shutdown(fs);
	}
}

/* The fork server's loop. */
__attribute__((noreturn)) static void fs_main(int sock,
					      const struct worker_cfg *cfg,
					      int nslots, pid_t owner,
					      struct sched_cgroup *cg,
					      int autogroup)
{
	struct fs_state fs = { 0 };
	sigset_t set;

	fs.cg = cg;
	fs.sock = sock;
	fs.cfg = cfg;
	fs.nslots = nslots;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* the caller may ignore SIGCHLD (children would be reaped behind our
	 * back) or SIGTERM; the fork server needs both */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (autogroup >= 0) {
		/* a session of our own is an autogroup of our own: its nice
		 * ranks the workers against the caller's session without
		 * slowing the caller (setsid also makes our process group) */
		struct forkserver_msg r = { FORKSERVER_AUTOGROUP, 0, 0, 0,
					    -1, 0, 0, 0, 0 };
		int e = setsid() < 0 ? -errno
				     : sched_cgroup_autogroup_fallback(
						(enum policy_weight)autogroup);

		r.val = -e;
		forkserver_send(sock, &r, NULL, 0);
	} else {
		setpgid(0, 0);
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	prctl(PR_SET_NAME, "nicely-forksrv");
	fs.pids = calloc((size_t)nslots, sizeof *fs.pids);
	if (!fs.pids || getppid() != owner)
		_exit(0);
	if (sock > 3)
		close_range(3, (unsigned)sock - 1, 0);
	close_range((unsigned)sock + 1, ~0u, 0);
	fs.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fs.sigfd < 0)
		_exit(0);
	for (;;) {
		struct pollfd p[2] = { { sock, POLLIN, 0 }, { fs.sigfd, POLLIN, 0 } };
		int n = poll(p, 2, -1);

		if (n < 0 && errno != EINTR)
			fs_shutdown(&fs);
		if (p[1].revents) {
			struct signalfd_siginfo si;

			while (read(fs.sigfd, &si, sizeof si) == (ssize_t)sizeof si)
				if (si.ssi_signo == SIGTERM ||
				    si.ssi_signo == SIGHUP)
					fs_shutdown(&fs);
			fs_reap(&fs);
		}
		if (p[0].revents) {
			struct forkserver_msg m;
			int fds[FORKSERVER_MAX_FDS], nfds = 0;
			int r = fs_recv(sock, &m, fds, &nfds);

			if (r <= 0 && r != -EAGAIN)
				fs_shutdown(&fs);
			if (r > 0)
				fs_request(&fs, &m, fds, nfds);
		}
		if (getppid() != owner)
			fs_shutdown(&fs);
	}
}

/* Fork the fork server. */
pid_t forkserver_start(int *sock, const struct worker_cfg *cfg,
		       struct sched_cgroup *cg, int autogroup)
{
	int sv[2];
	pid_t owner = getpid(), pid;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	if (pid == 0) {
		close(sv[0]);
		fs_main(sv[1], cfg, cfg->nslots, owner, cg, autogroup);
	}
	close(sv[1]);
	*sock = sv[0];
	return pid;
}
