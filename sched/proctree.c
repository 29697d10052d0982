/* sched/proctree: /proc read as a process tree (see proctree.h): one
 * process's stat, a snapshot of all, descendants and process groups,
 * holders of a pipe, our own children. Called by the CLI's batch engine
 * in the loop thread; plain reads, no state kept. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched/proctree.h"

/* A directory entry that is a pid, else 0. */
static pid_t proctree_pid_of(const char *name)
{
	long v = 0;

	if (!*name)
		return 0;
	for (const char *s = name; *s; s++) {
		if (!isdigit((unsigned char)*s) || v > 4194304)
			return 0;
		v = v * 10 + (*s - '0');
	}
	return (pid_t)v;
}

/* Read /proc/PID/stat of pid: state, parent, process group, start time. */
static int proctree_stat_state(pid_t pid, char *state, pid_t *ppid,
			       pid_t *pgid, unsigned long long *start)
{
	char path[64], buf[1024], *s, st_c;
	long pp, pg;
	unsigned long long st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ESRCH;
	buf[n] = 0;
	/* the command may hold ')' and spaces: fields follow the last ')' */
	s = strrchr(buf, ')');
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime priority nice threads
	 * itrealvalue starttime */
	if (!s || sscanf(s + 1, " %c %ld %ld %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%*u %*u %*d %*d %*d %*d %*d %*d %llu",
			 &st_c, &pp, &pg, &st) != 4)
		return -EBADMSG;
	if (state)
		*state = st_c;
	if (ppid)
		*ppid = (pid_t)pp;
	if (pgid)
		*pgid = (pid_t)pg;
	if (start)
		*start = st;
	return 0;
}

int proctree_stat(pid_t pid, pid_t *ppid, pid_t *pgid,
		  unsigned long long *start)
{
	return proctree_stat_state(pid, NULL, ppid, pgid, start);
}

/* Start time of a live process; see proctree.h. */
int proctree_start(pid_t pid, unsigned long long *start)
{
	char state;
	int e = proctree_stat_state(pid, &state, NULL, NULL, start);

	if (e == 0 && (state == 'Z' || state == 'X'))
		return -ESRCH;
	return e;
}

/* Snapshot every process. */
int proctree_read(struct proctree *pt)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	pt->n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct proctree_proc p = { 0 };
		char path[64];
		struct stat sb;

		if (!(p.pid = proctree_pid_of(de->d_name)))
			continue;
		snprintf(path, sizeof path, "/proc/%d", (int)p.pid);
		if (stat(path, &sb) < 0 ||
		    proctree_stat(p.pid, &p.ppid, &p.pgid, &p.start) < 0)
			continue; /* gone meanwhile */
		p.uid = sb.st_uid;
		if (pt->n == pt->cap) {
			size_t c = pt->cap ? pt->cap * 2 : 256;
			struct proctree_proc *a = realloc(pt->p, c * sizeof *a);

			if (!a) {
				closedir(d);
				return -ENOMEM;
			}
			pt->p = a;
			pt->cap = c;
		}
		pt->p[pt->n++] = p;
	}
	closedir(d);
	return 0;
}

/* Free a snapshot. */
void proctree_free(struct proctree *pt)
{
	free(pt->p);
	pt->p = NULL;
	pt->n = pt->cap = 0;
}

/* Mark root, its process group when it leads one, and all descendants. */
size_t proctree_mark_tree(struct proctree *pt, pid_t root)
{
	size_t marked = 0;
	int more = 1;

	for (size_t i = 0; i < pt->n; i++)
		if (pt->p[i].pid == root || pt->p[i].pgid == root)
			pt->p[i].mark = 1;
	/* parents before children is not guaranteed: repeat until stable */
	while (more) {
		more = 0;
		for (size_t i = 0; i < pt->n; i++) {
			if (pt->p[i].mark)
				continue;
			for (size_t j = 0; j < pt->n; j++)
				if (pt->p[j].mark &&
				    pt->p[j].pid == pt->p[i].ppid) {
					pt->p[i].mark = 1;
					more = 1;
					break;
				}
		}
	}
	for (size_t i = 0; i < pt->n; i++)
		marked += pt->p[i].mark != 0;
	return marked;
}

/* Signal the marked processes of uid. */
size_t proctree_kill_marked(const struct proctree *pt, uid_t uid, int sig)
{
	pid_t self = getpid();
	size_t n = 0;

	for (size_t i = 0; i < pt->n; i++) {
		const struct proctree_proc *p = &pt->p[i];

		if (!p->mark || p->uid != uid || p->pid == self || p->pid <= 1)
			continue;
		if (kill(p->pid, sig) == 0)
			n++;
		if (sig == SIGTERM)
			kill(p->pid, SIGCONT); /* a stopped one takes it */
	}
	return n;
}

/* Mark the processes of uid holding pipe ino. */
size_t proctree_mark_pipe(struct proctree *pt, uid_t uid, unsigned long ino)
{
	char want[64], path[320], link[64];
	size_t n = 0;

	snprintf(want, sizeof want, "pipe:[%lu]", ino);
	for (size_t i = 0; i < pt->n; i++) {
		struct proctree_proc *p = &pt->p[i];
		struct dirent *de;
		DIR *d;

		if (p->uid != uid || p->pid == getpid())
			continue;
		snprintf(path, sizeof path, "/proc/%d/fd", (int)p->pid);
		if (!(d = opendir(path)))
			continue;
		while ((de = readdir(d))) {
			ssize_t l;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "/proc/%d/fd/%s",
				 (int)p->pid, de->d_name);
			l = readlink(path, link, sizeof link - 1);
			if (l <= 0)
				continue;
			link[l] = 0;
			if (!strcmp(link, want)) {
				if (!p->mark)
					n++;
				p->mark = 1;
				break;
			}
		}
		closedir(d);
	}
	return n;
}

/* Our own children, from every thread's children list. */
int proctree_children(pid_t *out, size_t max)
{
	char path[320], buf[4096];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof path, "/proc/%d/task", (int)getpid());
	if (!(d = opendir(path)))
		return -errno;
	while ((de = readdir(d))) {
		ssize_t len, got = 0;
		char *s;
		int fd;

		if (!proctree_pid_of(de->d_name))
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%s/children",
			 (int)getpid(), de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		/* a long list is read in pieces; a pid cut at a piece's end
		 * is carried into the next read */
		for (;;) {
			len = read(fd, buf + got, sizeof buf - 1 - (size_t)got);
			if (len <= 0)
				break;
			len += got;
			buf[len] = 0;
			s = buf;
			for (;;) {
				char *e;
				long v;

				while (*s == ' ')
					s++;
				e = s;
				while (isdigit((unsigned char)*e))
					e++;
				if (e == s || !*e)
					break; /* empty, or maybe cut */
				v = strtol(s, NULL, 10);
				if (n < max)
					out[n] = (pid_t)v;
				n++;
				s = e;
			}
			got = (ssize_t)strlen(s);
			memmove(buf, s, (size_t)got);
		}
		if (got > 0) {
			buf[got] = 0;
			long v = strtol(buf, NULL, 10);
			if (v > 0) {
				if (n < max)
					out[n] = (pid_t)v;
				n++;
			}
		}
		close(fd);
	}
	closedir(d);
	return (int)n;
}
