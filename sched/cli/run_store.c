/* sched/cli/run_store: the engine's sink for a detached batch (see
 * run_store.h): task output files, the joblog record, the state record and
 * the pause on a full disk. Loop thread of the supervisor's engine. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "sched/loop.h"
#include "sched/cli/joblog.h"
#include "sched/cli/output.h"
#include "sched/cli/queue.h"
#include "sched/cli/run_ctl.h"
#include "sched/cli/run_emit.h"
#include "sched/cli/run_engine.h"
#include "sched/cli/run_store.h"
#include "sched/cli/store.h"

/* A joblog line not yet written whole. */
struct run_store_line {
	struct run_store_line *next;
	size_t len, off;
	char buf[];
};

struct run_store {
	char dir[4096];
	int tasksfd, jlfd, statefd;
	struct run_store_line *head, *tail;
	size_t nheld;		/* lines held */
	int full;		/* a write found the disk full */
	struct run *r;
};

/* ENOSPC or EDQUOT: wait for room instead of losing anything. */
static int run_store_nospace(int e)
{
	return e == -ENOSPC || e == -EDQUOT;
}

/* Set the state record. */
static void run_store_state(struct run_store *s, const char *state,
			    const char *reason, int exit_status)
{
	struct store_state st;
	struct timeval tv;

	memset(&st, 0, sizeof st);
	snprintf(st.state, sizeof st.state, "%s", state);
	st.exit = exit_status;
	if (!strcmp(state, "finished")) {
		gettimeofday(&tv, NULL);
		st.finished = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
	}
	snprintf(st.reason, sizeof st.reason, "%s", reason ? reason : "");
	if (s->statefd >= 0)
		store_state_write(s->statefd, &st);
}

/* The disk is full: pause the batch and say why (once). */
static void run_store_full(struct run_store *s, const char *what, int e)
{
	char why[400];

	if (!s->full) {
		s->full = 1;
		snprintf(why, sizeof why, "the batch store's disk is full "
			 "(%s: %s); make room, then nicely resume", what,
			 strerror(-e));
		run_store_state(s, "paused", why, -1);
		fprintf(stderr, "nicely: paused: %s\n", why);
	}
	/* a batch that is ending (kill, halt, signal) is not frozen */
	if (s->r && !s->r->paused && !s->r->stopping)
		run_ctl_pause(s->r);
}

/* Open the sink. */
int run_store_open(struct run_store **out, const char *dir, char *err,
		   size_t errlen)
{
	struct run_store *s = calloc(1, sizeof *s);
	struct stat st;
	int dfd = -1, e;

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->tasksfd = s->jlfd = s->statefd = -1;
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || (mkdirat(dfd, "tasks", 0700) < 0 && errno != EEXIST) ||
	    (s->tasksfd = openat(dfd, "tasks", O_RDONLY | O_DIRECTORY |
				 O_NOFOLLOW | O_CLOEXEC)) < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot open %s/tasks: %s", dir,
			 strerror(-e));
		goto fail;
	}
	s->jlfd = openat(dfd, "joblog", O_RDWR | O_CREAT | O_APPEND |
			 O_NOFOLLOW | O_CLOEXEC, 0600);
	s->statefd = openat(dfd, "state", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (s->jlfd < 0 || s->statefd < 0 || fstat(s->jlfd, &st) < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot open the joblog and state of %s: "
			 "%s", dir, strerror(-e));
		goto fail;
	}
	if (st.st_size > 0) {
		/* a crash may have cut the last line: that task reruns */
		char c;
		off_t end = st.st_size;
		while (end > 0 && pread(s->jlfd, &c, 1, end - 1) == 1 &&
		       c != '\n')
			end--;
		if (end != st.st_size && ftruncate(s->jlfd, end) < 0) {
			e = -errno;
			snprintf(err, errlen, "cannot cut %s/joblog: %s", dir,
				 strerror(-e));
			goto fail;
		}
	}
	if (st.st_size == 0) {
		const char *h = joblog_header();
		if (write(s->jlfd, h, strlen(h)) != (ssize_t)strlen(h) ||
		    fdatasync(s->jlfd) < 0) {
			e = -errno;
			snprintf(err, errlen, "cannot write %s/joblog: %s", dir,
				 strerror(-e));
			goto fail;
		}
	}
	/* the names of tasks/ and joblog, and of the batch directory in
	 * the store, must outlive a crash of the machine as the records do */
	int pfd = openat(dfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fsync(dfd) < 0 || (pfd >= 0 && fsync(pfd) < 0)) {
		e = -errno;
		snprintf(err, errlen, "cannot sync %s: %s", dir, strerror(-e));
		if (pfd >= 0)
			close(pfd);
		goto fail;
	}
	if (pfd >= 0)
		close(pfd);
	close(dfd);
	run_store_state(s, "running", NULL, -1);
	*out = s;
	return 0;
fail:
	if (dfd >= 0)
		close(dfd);
	run_store_close(s);
	return e;
}

/* The engine served. */
void run_store_attach(struct run_store *s, struct run *r)
{
	s->r = r;
}

/* The file name of a task's stream. */
static void run_store_name(const struct queue_task *t, int which, char *buf,
			   size_t len)
{
	snprintf(buf, len, "%llu.%s", (unsigned long long)t->seq,
		 which ? "err" : "out");
}

/* Write n bytes to the task's file (made on the first byte); *done says
 * how many went. 0 or -errno. */
static int run_store_put(struct run_store *s, struct queue_task *t,
			 int which, const char *buf, size_t n, size_t *done)
{
	char name[48];

	*done = 0;
	if (t->res_fd[which] < 0) {
		run_store_name(t, which, name, sizeof name);
		t->res_fd[which] = openat(s->tasksfd, name, O_WRONLY | O_CREAT |
					  O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
					  0600);
		if (t->res_fd[which] < 0)
			return -errno;
	}
	while (*done < n) {
		ssize_t w = write(t->res_fd[which], buf + *done, n - *done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		*done += (size_t)w;
	}
	return 0;
}

/* Say what of a task's output could not be kept; the task fails. */
static void run_store_lost(struct queue_task *t, const char *what, int e)
{
	char m[512];

	snprintf(m, sizeof m, "nicely: task %llu: %s not kept in the batch "
		 "store: %s\n", (unsigned long long)t->seq, what, strerror(-e));
	if (!t->errmsg)
		t->errmsg = strdup(m);
	t->res_failed = 1;
	/* at the task's end too, after its losses were counted */
	run_task_mark_lost(t);
}

/* Keep buf as held output of the stream (appended to what is held). */
static int run_store_hold(struct queue_task *t, int which, const char *buf,
			  size_t n)
{
	char *p = realloc(t->st_pend[which], t->st_npend[which] + n);

	if (!p)
		return -ENOMEM;
	memcpy(p + t->st_npend[which], buf, n);
	t->st_pend[which] = p;
	t->st_npend[which] += n;
	return 0;
}

/* Output of a task arrived. */
void run_store_write(struct run *r, struct queue_task *t, int which,
		     const char *buf, size_t n)
{
	struct run_store *s = r->o->store;
	size_t done;
	int e;

	if (t->st_pend[which]) {
		/* only the last read of a pipe whose grace ended comes here */
		if (run_store_hold(t, which, buf, n) < 0)
			run_store_lost(t, which ? "stderr" : "stdout", -ENOMEM);
		return;
	}
	e = run_store_put(s, t, which, buf, n, &done);
	t->st_bytes[which] += done;
	if (e == 0)
		return;
	if (run_store_nospace(e) && run_store_hold(t, which, buf + done,
						   n - done) == 0) {
		/* the pipe waits, full, until there is room */
		loop_del(&r->loop, which ? &t->w_err : &t->w_out);
		run_store_full(s, which ? "stderr" : "stdout", e);
		return;
	}
	if (!t->res_failed)
		run_store_lost(t, which ? "stderr" : "stdout", e);
}

/* Write what is held of a task's stream. 0 or -errno. */
static int run_store_unhold(struct run_store *s, struct queue_task *t,
			    int which)
{
	size_t done;
	int e = run_store_put(s, t, which, t->st_pend[which],
			      t->st_npend[which], &done);

	t->st_bytes[which] += done;
	memmove(t->st_pend[which], t->st_pend[which] + done,
		t->st_npend[which] - done);
	t->st_npend[which] -= done;
	if (e == 0) {
		free(t->st_pend[which]);
		t->st_pend[which] = NULL;
	}
	return e;
}

/* A task's attempt ended. */
void run_store_task_end(struct run *r, struct queue_task *t, int final)
{
	struct run_store *s = r->o->store;
	char name[48];
	int made = 0, e;

	for (int i = 0; i < 2; i++) {
		const char *what = i ? "stderr" : "stdout";

		if (final && t->st_pend[i] && (e = run_store_unhold(s, t, i)) < 0)
			run_store_lost(t, what, e);
		free(t->st_pend[i]);
		t->st_pend[i] = NULL;
		t->st_npend[i] = 0;
		if (t->res_fd[i] < 0)
			continue;
		if (final && fsync(t->res_fd[i]) < 0)
			run_store_lost(t, what, -errno);
		if (close(t->res_fd[i]) < 0 && final)
			run_store_lost(t, what, -errno);
		t->res_fd[i] = -1;
		made = 1;
		if (!final) {
			run_store_name(t, i, name, sizeof name);
			unlinkat(s->tasksfd, name, 0);
			t->st_bytes[i] = 0;
		}
	}
	/* the files' names must outlive a crash as their bytes do */
	if (final && made && fsync(s->tasksfd) < 0)
		run_store_lost(t, "output", -errno);
}

/* See run_store.h. A full disk is not waited out here (the Slurm side
 * has no engine to pause): the task is lost, saying so, and its result
 * stays in the batch directory on the shared filesystem. */
void run_store_task_whole(struct run_store *s, struct queue_task *t)
{
	char name[48];
	int made = 0;

	for (int i = 0; i < 2; i++) {
		const struct output_buf *o = i ? &t->err : &t->out;
		const char *what = i ? "stderr" : "stdout";
		int fd, e = 0;

		if (o->total == 0)
			continue;
		run_store_name(t, i, name, sizeof name);
		fd = openat(s->tasksfd, name, O_WRONLY | O_CREAT | O_TRUNC |
			    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			run_store_lost(t, what, -errno);
			continue;
		}
		if (output_write(o, fd, NULL) < 0)
			e = errno ? -errno : -EIO;
		else if (fsync(fd) < 0)
			e = -errno;
		if (close(fd) < 0 && !e)
			e = -errno;
		if (e)
			run_store_lost(t, what, e);
		else
			t->st_bytes[i] = output_kept(o);
		made = 1;
	}
	if (made && fsync(s->tasksfd) < 0)
		run_store_lost(t, "output", -errno);
}

/* Write the held joblog lines, then make them durable. 0 or -errno
 * (-ENOSPC / -EDQUOT: held; other errors drop nothing either). */
static int run_store_flush(struct run_store *s)
{
	int wrote = 0;

	while (s->head) {
		struct run_store_line *l = s->head;
		ssize_t w = write(s->jlfd, l->buf + l->off, l->len - l->off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		wrote = 1;
		l->off += (size_t)w;
		if (l->off < l->len)
			continue;
		s->head = l->next;
		if (!s->head)
			s->tail = NULL;
		s->nheld--;
		free(l);
	}
	if (wrote && fdatasync(s->jlfd) < 0)
		return -errno;
	return 0;
}

/* Record a task's result. */
void run_store_record(struct run_store *s, const struct queue_task *t)
{
	struct joblog_entry je;
	struct run_store_line *l;
	char *line;
	size_t len;
	int e;

	memset(&je, 0, sizeof je);
	je.seq = t->seq;
	je.host = ":";
	je.start = t->start_real;
	je.runtime = (double)(t->end_ns - t->start_ns) / 1e9;
	je.receive = t->st_bytes[0] + t->st_bytes[1];
	je.exitval = t->exitval;
	je.signal = t->signal;
	je.command = t->cmd ? t->cmd : "";
	if (joblog_format(&line, &len, &je) < 0 ||
	    !(l = malloc(sizeof *l + len))) {
		fprintf(stderr, "nicely: task %llu: out of memory: its result "
			"is not recorded\n", (unsigned long long)t->seq);
		return;
	}
	memcpy(l->buf, line, len);
	free(line);
	l->len = len;
	l->off = 0;
	l->next = NULL;
	if (s->tail)
		s->tail->next = l;
	else
		s->head = l;
	s->tail = l;
	s->nheld++;
	if (s->full)
		return;	/* in order, after what is held */
	e = run_store_flush(s);
	if (run_store_nospace(e))
		run_store_full(s, "joblog", e);
	else if (e < 0)
		fprintf(stderr, "nicely: cannot write %s/joblog: %s (held; "
			"tried again with the next result)\n", s->dir,
			strerror(-e));
}

/* Between loop rounds: after a resume, write what was held. */
void run_store_poll(struct run *r)
{
	struct run_store *s = r->o->store;
	int e;

	if (!s || !s->full || r->paused)
		return;
	for (struct queue_task *t = r->running; t; t = t->next)
		for (int i = 0; i < 2; i++) {
			struct loop_watch *w = i ? &t->w_err : &t->w_out;

			if (!t->st_pend[i])
				continue;
			e = run_store_unhold(s, t, i);
			if (run_store_nospace(e)) {
				s->full = 0;
				run_store_full(s, i ? "stderr" : "stdout", e);
				return;
			}
			if (e < 0) {
				run_store_lost(t, i ? "stderr" : "stdout", e);
				free(t->st_pend[i]);
				t->st_pend[i] = NULL;
				t->st_npend[i] = 0;
			}
			if (w->fd >= 0)
				loop_add(&r->loop, w, w->fd, EPOLLIN,
					 i ? run_on_err : run_on_out);
		}
	e = run_store_flush(s);
	if (run_store_nospace(e)) {
		s->full = 0;
		run_store_full(s, "joblog", e);
		return;
	}
	s->full = 0;
	run_store_state(s, "running", NULL, -1);
	fprintf(stderr, "nicely: the batch store has room again: going on\n");
}

/* After the batch. */
int run_store_finish(struct run_store *s, int exit_status)
{
	int e, said = 0;

	while ((e = run_store_flush(s)) < 0 && run_store_nospace(e)) {
		if (!said) {
			char why[400];
			snprintf(why, sizeof why, "the batch store's disk is "
				 "full (joblog: %s); %zu results wait to be "
				 "recorded, tried each second", strerror(-e),
				 s->nheld);
			run_store_state(s, "paused", why, -1);
			fprintf(stderr, "nicely: %s\n", why);
			said = 1;
		}
		sleep(1);
	}
	if (e < 0)
		fprintf(stderr, "nicely: cannot write %s/joblog: %s; %zu "
			"results are not recorded\n", s->dir, strerror(-e),
			s->nheld);
	run_store_state(s, "finished", NULL, exit_status);
	return e;
}

/* Free the sink. */
void run_store_close(struct run_store *s)
{
	if (!s)
		return;
	while (s->head) {
		struct run_store_line *l = s->head;
		s->head = l->next;
		free(l);
	}
	if (s->tasksfd >= 0)
		close(s->tasksfd);
	if (s->jlfd >= 0)
		close(s->jlfd);
	if (s->statefd >= 0)
		close(s->statefd);
	free(s);
}
