/* sched/agentd/agentd_peer: who a peer and a process are, from the kernel
 * and never from what the peer says: a pidfd's pid (its fdinfo), a
 * process's real and effective uid (/proc/PID/status), a peer's groups
 * (SO_PEERCRED, SO_PEERGROUPS) against [agent] admins, user names. Called
 * from the agent's loop. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/errmsg.h"
#include "sched/agentd/agentd_int.h"

/* The "Key:" line of a small /proc file, its value into val. */
static int proc_line(const char *path, const char *key, char *val,
		     size_t len)
{
	char buf[4096], *p;
	size_t klen = strlen(key);
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = 0;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, key, klen)) {
			char *e = strchr(p, '\n');
			size_t l;
			p += klen;
			while (*p == ' ' || *p == '\t')
				p++;
			l = e ? (size_t)(e - p) : strlen(p);
			if (l >= len)
				l = len - 1;
			memcpy(val, p, l);
			val[l] = 0;
			return 0;
		}
	}
	return -ENOENT;
}

/* The pid behind a pidfd. */
pid_t agentd_pidfd_pid(int pidfd, char *err, size_t errlen)
{
	char path[64], link[64], val[64];
	ssize_t n;
	long pid;

	snprintf(path, sizeof path, "/proc/self/fd/%d", pidfd);
	n = readlink(path, link, sizeof link - 1);
	if (n < 0 || (link[n] = 0, strcmp(link, "anon_inode:[pidfd]"))) {
		errmsg_set(err, errlen, "the file descriptor sent is not a "
			   "pidfd (pidfd_open the process to place)");
		return -EBADF;
	}
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pidfd);
	if (proc_line(path, "Pid:", val, sizeof val) < 0) {
		errmsg_set(err, errlen, "cannot read the pidfd's process");
		return -EBADF;
	}
	pid = strtol(val, NULL, 10);
	/* a zombie still has its pid: it has exited all the same */
	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	if (pid > 0 && proc_line(path, "State:", val, sizeof val) == 0 &&
	    (val[0] == 'Z' || val[0] == 'X'))
		pid = 0;
	if (pid <= 0) {
		errmsg_set(err, errlen, "the process of the pidfd sent has "
			   "exited");
		return -ESRCH;
	}
	return (pid_t)pid;
}

/* The process's real and effective uid are uid. */
int agentd_pid_uid_check(pid_t pid, uid_t uid, char *err, size_t errlen)
{
	char path[64], val[128];
	unsigned long r, e;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if (proc_line(path, "Uid:", val, sizeof val) < 0 ||
	    sscanf(val, "%lu %lu", &r, &e) != 2) {
		errmsg_set(err, errlen, "process %d has exited", (int)pid);
		return -ESRCH;
	}
	if (r != uid || e != uid) {
		errmsg_set(err, errlen, "process %d is not yours (its uid is "
			   "%lu, you are uid %u): only root may place another "
			   "user's process", (int)pid, e != uid ? e : r,
			   (unsigned)uid);
		return -EPERM;
	}
	return 0;
}

/* A member of an admin group, or root. */
int agentd_peer_admin(const struct agentd *d, int fd, uid_t uid, gid_t gid)
{
	gid_t groups[256];
	socklen_t len = sizeof groups;
	int n = 0;

	if (uid == 0)
		return 1;
	if (!d->nadmin_gids)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		n = (int)(len / sizeof(gid_t));
	for (size_t i = 0; i < d->nadmin_gids; i++) {
		if (d->admin_gids[i] == gid)
			return 1;
		for (int k = 0; k < n; k++)
			if (groups[k] == d->admin_gids[i])
				return 1;
	}
	return 0;
}

/* The user's name, or "uid-N". */
void agentd_user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[4096];

	if (getpwuid_r(uid, &pw, tmp, sizeof tmp, &res) == 0 && res &&
	    res->pw_name[0] && strlen(res->pw_name) < len &&
	    !strpbrk(res->pw_name, "/ \n"))
		snprintf(buf, len, "%s", res->pw_name);
	else
		snprintf(buf, len, "uid-%u", (unsigned)uid);
}

/* A user's uid by name, by "uid-N" or by number. */
long agentd_user_uid(const char *name)
{
	struct passwd pw, *res = NULL;
	char tmp[4096], *end;
	long v;

	if (!name || !*name)
		return -1;
	if (getpwnam_r(name, &pw, tmp, sizeof tmp, &res) == 0 && res)
		return (long)res->pw_uid;
	if (!strncmp(name, "uid-", 4))
		name += 4;
	v = strtol(name, &end, 10);
	return *name && !*end && v >= 0 && v < 0xffffffffL ? v : -1;
}

/* 1 while the pidfd's process has not exited. */
int agentd_pidfd_alive(int pidfd)
{
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0;
}

/* pidfd_open(pid), or -errno. */
int agentd_pidfd_open(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0)
		return -errno;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}
