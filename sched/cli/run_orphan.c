/* sched/cli/run_orphan: nothing of a batch without cgroups outlives it
 * (see run_orphan.h). nicely is the child subreaper, so a task's setsid
 * descendants whose parents exit become our children: they are recorded,
 * reaped when they exit, and killed at the batch's end. The record file
 * ("procs-PID" in the runtime directory) holds a header line "nicely PID
 * START" and one "PID START" line per task process and orphan; it goes
 * at a clean end, and the next run of the user kills what a dead run's
 * record still names. Called by the engine in the loop thread. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sched/loop.h"
#include "sched/proctree.h"
#include "sched/rundir.h"
#include "sched/cli/run_engine.h"
#include "sched/cli/run_orphan.h"

#define RUN_ORPHAN_MAX_CHILDREN 4096
/* a record file larger than this is not ours to read */
#define RUN_ORPHAN_REC_MAX (64u << 20)
/* descendants recorded at most (a pair each) */
#define RUN_ORPHAN_SEEN_MAX 65536
/* the tasks' trees are read at most this often */
#define RUN_ORPHAN_TREE_NS 1000000000ull

/* Append a "PID START" line for pid to the record. */
static void run_orphan_record(struct run *r, pid_t pid)
{
	unsigned long long start;
	char line[64];
	int n;

	if (r->orph.rec_fd < 0 || proctree_stat(pid, NULL, NULL, &start) < 0)
		return;
	n = snprintf(line, sizeof line, "%d %llu\n", (int)pid, start);
	if (write(r->orph.rec_fd, line, (size_t)n) == n)
		r->orph.rec_lines++;
}

/* Is pid one of our running tasks' own processes? */
static int run_orphan_is_task(const struct run *r, pid_t pid)
{
	for (const struct queue_task *t = r->running; t; t = t->next)
		if (t->pid == pid)
			return 1;
	return 0;
}

/* Rewrite the record with what runs now, when dead lines dominate it. */
static void run_orphan_compact(struct run *r)
{
	char tmp[4300], line[64];
	unsigned long long start;
	int fd, n;

	if (r->orph.rec_fd < 0 || r->orph.rec_lines < 1024 ||
	    r->orph.rec_lines < 8 * (r->st.running + r->orph.nknown + 1))
		return;
	snprintf(tmp, sizeof tmp, "%s.new", r->orph.rec_path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
			       O_APPEND, 0600);
	if (fd < 0)
		return;
	proctree_stat(getpid(), NULL, NULL, &start);
	n = snprintf(line, sizeof line, "nicely %d %llu\n", (int)getpid(),
		     start);
	if (write(fd, line, (size_t)n) != n || rename(tmp, r->orph.rec_path)) {
		close(fd);
		unlink(tmp);
		return;
	}
	close(r->orph.rec_fd);
	r->orph.rec_fd = fd;
	r->orph.rec_lines = 0;
	r->orph.nseen = 0; /* the next read of the trees records them */
	r->orph.tree_ns = 0;
	for (const struct queue_task *t = r->running; t; t = t->next)
		if (t->pid > 0 && !t->exited)
			run_orphan_record(r, t->pid);
	for (size_t i = 0; i < r->orph.nknown; i++)
		run_orphan_record(r, r->orph.known[i]);
}

/* Start of the batch: stale records, subreaper, our record. */
void run_orphan_open(struct run *r)
{
	unsigned long long start;
	char name[64], line[64];
	int n;

	r->orph.rec_fd = -1;
	if (r->o->ctl_dir)
		run_orphan_clean_stale(r->o->ctl_dir);
	if (r->cg)
		return; /* the task groups hold every descendant */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == 0)
		r->orph.subreaper = 1;
	if (!r->o->ctl_dir || proctree_stat(getpid(), NULL, NULL, &start) < 0)
		return;
	snprintf(name, sizeof name, "procs-%d", (int)getpid());
	r->orph.rec_fd = rundir_create(r->o->ctl_dir, name, r->orph.rec_path,
				       sizeof r->orph.rec_path);
	if (r->orph.rec_fd < 0) {
		fprintf(stderr, "nicely: cannot keep a record of the tasks in "
			"%s/%s (%s); what they leave if nicely is killed is not "
			"cleaned up by the next run\n", r->o->ctl_dir, name,
			strerror(-r->orph.rec_fd));
		r->orph.rec_fd = -1;
		return;
	}
	n = snprintf(line, sizeof line, "nicely %d %llu\n", (int)getpid(),
		     start);
	if (write(r->orph.rec_fd, line, (size_t)n) != n) {
		close(r->orph.rec_fd);
		unlink(r->orph.rec_path);
		r->orph.rec_fd = -1;
	}
}

/* A task process started. */
void run_orphan_task_started(struct run *r, pid_t pid)
{
	run_orphan_record(r, pid);
}

/* Forget orphan pid (reaped). */
static void run_orphan_forget(struct run *r, pid_t pid)
{
	for (size_t i = 0; i < r->orph.nknown; i++)
		if (r->orph.known[i] == pid) {
			r->orph.known[i] = r->orph.known[--r->orph.nknown];
			return;
		}
}

/* Record the descendants of the running tasks and of the orphans not
 * recorded yet (pid + start time). */
static void run_orphan_record_trees(struct run *r)
{
	struct proctree pt = { 0 };
	size_t keep = 0;

	if (proctree_read(&pt) < 0) {
		proctree_free(&pt);
		return;
	}
	for (const struct queue_task *t = r->running; t; t = t->next)
		if (t->pid > 0)
			proctree_mark_tree(&pt, t->pid);
	for (size_t i = 0; i < r->orph.nknown; i++)
		proctree_mark_tree(&pt, r->orph.known[i]);
	/* forget the pairs of processes gone */
	for (size_t k = 0; k < r->orph.nseen; k++) {
		pid_t pid = (pid_t)r->orph.seen[2 * k];
		int alive = 0;

		for (size_t i = 0; i < pt.n && !alive; i++)
			alive = pt.p[i].pid == pid &&
				pt.p[i].start == r->orph.seen[2 * k + 1];
		if (alive) {
			r->orph.seen[2 * keep] = r->orph.seen[2 * k];
			r->orph.seen[2 * keep + 1] = r->orph.seen[2 * k + 1];
			keep++;
		}
	}
	r->orph.nseen = keep;
	for (size_t i = 0; i < pt.n; i++) {
		const struct proctree_proc *p = &pt.p[i];
		int seen = run_orphan_is_task(r, p->pid);
		char line[64];
		int n;

		if (!p->mark || p->uid != geteuid())
			continue;
		for (size_t k = 0; k < r->orph.nseen && !seen; k++)
			seen = (pid_t)r->orph.seen[2 * k] == p->pid &&
			       r->orph.seen[2 * k + 1] == p->start;
		if (seen || r->orph.nseen >= RUN_ORPHAN_SEEN_MAX)
			continue;
		if (r->orph.nseen == r->orph.capseen) {
			size_t c = r->orph.capseen ? r->orph.capseen * 2 : 32;
			unsigned long long *a =
				realloc(r->orph.seen, 2 * c * sizeof *a);

			if (!a)
				break;
			r->orph.seen = a;
			r->orph.capseen = c;
		}
		r->orph.seen[2 * r->orph.nseen] = (unsigned long long)p->pid;
		r->orph.seen[2 * r->orph.nseen + 1] = p->start;
		r->orph.nseen++;
		n = snprintf(line, sizeof line, "%d %llu\n", (int)p->pid,
			     p->start);
		if (write(r->orph.rec_fd, line, (size_t)n) == n)
			r->orph.rec_lines++;
	}
	proctree_free(&pt);
}

/* Reap orphans that exited, record new ones. */
void run_orphan_poll(struct run *r)
{
	pid_t kids[RUN_ORPHAN_MAX_CHILDREN];
	int n;

	if (!r->orph.subreaper)
		return;
	n = proctree_children(kids, RUN_ORPHAN_MAX_CHILDREN);
	if (n > RUN_ORPHAN_MAX_CHILDREN)
		n = RUN_ORPHAN_MAX_CHILDREN;
	for (int i = 0; i < n; i++) {
		pid_t p = kids[i], q;
		int status, known = 0;

		if (run_orphan_is_task(r, p))
			continue;
		do
			q = waitpid(p, &status, WNOHANG);
		while (q < 0 && errno == EINTR);
		if (q == p) {
			run_orphan_forget(r, p);
			continue;
		}
		for (size_t k = 0; k < r->orph.nknown; k++)
			known |= r->orph.known[k] == p;
		if (known)
			continue;
		if (r->orph.nknown == r->orph.capknown) {
			size_t c = r->orph.capknown ? r->orph.capknown * 2 : 16;
			pid_t *a = realloc(r->orph.known, c * sizeof *a);

			if (!a)
				continue;
			r->orph.known = a;
			r->orph.capknown = c;
		}
		r->orph.known[r->orph.nknown++] = p;
		run_orphan_record(r, p);
	}
	if (r->orph.rec_fd >= 0 && r->running &&
	    loop_now_ns() >= r->orph.tree_ns + RUN_ORPHAN_TREE_NS) {
		r->orph.tree_ns = loop_now_ns();
		run_orphan_record_trees(r);
	}
	run_orphan_compact(r);
}

/* Signal every orphan and its descendants. */
size_t run_orphan_signal(struct run *r, int sig)
{
	struct proctree pt = { 0 };
	pid_t kids[RUN_ORPHAN_MAX_CHILDREN];
	size_t n = 0;
	int nk;

	if (!r->orph.subreaper)
		return 0;
	nk = proctree_children(kids, RUN_ORPHAN_MAX_CHILDREN);
	if (nk <= 0 || proctree_read(&pt) < 0) {
		proctree_free(&pt);
		return 0;
	}
	if (nk > RUN_ORPHAN_MAX_CHILDREN)
		nk = RUN_ORPHAN_MAX_CHILDREN;
	for (int i = 0; i < nk; i++)
		if (!run_orphan_is_task(r, kids[i]))
			proctree_mark_tree(&pt, kids[i]);
	n = proctree_kill_marked(&pt, geteuid(), sig);
	proctree_free(&pt);
	return n;
}

/* Signal pid's whole tree. The tree is read before anything of it
 * dies (a child whose parent is gone no longer shows whose it was); the
 * process group is signalled first and at once, so that a shell does
 * not see its child stop or die before it does itself. */
void run_orphan_signal_tree(pid_t pid, int sig)
{
	struct proctree pt = { 0 };
	int e = proctree_read(&pt);

	killpg(pid, sig);
	if (e == 0) {
		proctree_mark_tree(&pt, pid);
		proctree_kill_marked(&pt, geteuid(), sig);
	}
	proctree_free(&pt);
}

/* Kill the holders of the pipes fds. */
size_t run_orphan_kill_pipe_holders(const int *fds, int nfds)
{
	struct proctree pt = { 0 };
	size_t n = 0;

	if (proctree_read(&pt) < 0) {
		proctree_free(&pt);
		return 0;
	}
	for (int i = 0; i < nfds; i++) {
		struct stat sb;

		if (fds[i] >= 0 && fstat(fds[i], &sb) == 0)
			n += proctree_mark_pipe(&pt, geteuid(),
						(unsigned long)sb.st_ino);
	}
	proctree_kill_marked(&pt, geteuid(), SIGKILL);
	proctree_free(&pt);
	return n;
}

/* Wait up to ns for the orphans to go, reaping them. 1 when none left. */
static int run_orphan_wait(struct run *r, uint64_t ns)
{
	uint64_t end = loop_now_ns() + ns;
	struct timespec ts = { 0, 20000000 };

	for (;;) {
		run_orphan_poll(r);
		if (r->orph.nknown == 0)
			return 1;
		if (loop_now_ns() >= end)
			return 0;
		nanosleep(&ts, NULL);
	}
}

/* End of the batch: nothing of it is left, the record goes. */
void run_orphan_close(struct run *r)
{
	if (r->orph.subreaper) {
		run_orphan_poll(r);
		if (r->orph.nknown > 0) {
			size_t n = r->orph.nknown;

			run_orphan_signal(r, SIGTERM);
			if (!run_orphan_wait(r, r->grace_ns)) {
				run_orphan_signal(r, SIGKILL);
				run_orphan_wait(r, 2000000000ull);
			}
			fprintf(stderr, "nicely: killed %zu process%s the tasks "
				"left running (double-forked descendants)\n",
				n, n == 1 ? "" : "es");
		}
		prctl(PR_SET_CHILD_SUBREAPER, 0);
		r->orph.subreaper = 0;
	}
	if (r->orph.rec_fd >= 0) {
		close(r->orph.rec_fd);
		unlink(r->orph.rec_path);
		r->orph.rec_fd = -1;
	}
	free(r->orph.known);
	r->orph.known = NULL;
	r->orph.nknown = r->orph.capknown = 0;
	free(r->orph.seen);
	r->orph.seen = NULL;
	r->orph.nseen = r->orph.capseen = 0;
}

/* Read a record file (ours, regular, not a symlink) into a string. */
static char *run_orphan_slurp(int dfd, const char *name)
{
	struct stat sb;
	char *buf;
	size_t got = 0;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_uid != geteuid() || (size_t)sb.st_size > RUN_ORPHAN_REC_MAX ||
	    !(buf = malloc((size_t)sb.st_size + 1))) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = 0;
	return buf;
}

/* Kill what one dead run's record names; 0 when its run still lives. */
static size_t run_orphan_clean_one(int dfd, const char *name,
				   struct proctree *pt, int *have_pt)
{
	char *buf = run_orphan_slurp(dfd, name), *line, *save = NULL;
	unsigned long long start, now;
	int owner;
	size_t n = 0;

	if (!buf)
		return 0;
	if (sscanf(buf, "nicely %d %llu", &owner, &start) != 2 ||
	    (owner > 0 && proctree_start(owner, &now) == 0 &&
	     now == start)) {
		free(buf); /* alive, or not a record: leave it */
		return 0;
	}
	if (!*have_pt) {
		if (proctree_read(pt) < 0) {
			free(buf);
			return 0;
		}
		*have_pt = 1;
	}
	for (size_t i = 0; i < pt->n; i++)
		pt->p[i].mark = 0;
	line = strtok_r(strchr(buf, '\n') ? strchr(buf, '\n') + 1 : buf + strlen(buf),
			"\n", &save);
	for (; line; line = strtok_r(NULL, "\n", &save)) {
		int pid;

		if (sscanf(line, "%d %llu", &pid, &start) != 2 || pid <= 1)
			continue;
		/* the same process only: pid and start time both match, and
		 * it is ours */
		for (size_t i = 0; i < pt->n; i++)
			if (pt->p[i].pid == pid && pt->p[i].start == start &&
			    pt->p[i].uid == geteuid()) {
				proctree_mark_tree(pt, pid);
				break;
			}
	}
	n = proctree_kill_marked(pt, geteuid(), SIGKILL);
	unlinkat(dfd, name, 0);
	if (n)
		fprintf(stderr, "nicely: killed %zu process%s left by batch %d, "
			"which ended without cleaning up\n", n,
			n == 1 ? "" : "es", owner);
	free(buf);
	return n;
}

/* Kill what dead runs recorded in dir left. */
size_t run_orphan_clean_stale(const char *dir)
{
	struct proctree pt = { 0 };
	struct dirent *de;
	int have_pt = 0, dfd;
	size_t n = 0;
	DIR *d;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0;
	if (!(d = fdopendir(dfd))) {
		close(dfd);
		return 0;
	}
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "procs-", 6) &&
		    !strchr(de->d_name, '.'))
			n += run_orphan_clean_one(dfd, de->d_name, &pt,
						  &have_pt);
	closedir(d);
	proctree_free(&pt);
	return n;
}
