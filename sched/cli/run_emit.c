/* sched/cli/run_emit: what `nicely run` writes: tasks' output captured
 * from their pipes, in submission order (or as they finish, or line by
 * line), --tag, --json objects and the --results directory. Called by the
 * engine and the task code in the loop thread. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "agent/topology.h"
#include "sched/jsonx.h"
#include "sched/loop.h"
#include "sched/cli/output.h"
#include "sched/cli/run_emit.h"
#include "sched/cli/run_engine.h"
#include "sched/cli/run_store.h"
#include "sched/cli/run_task.h"

/* The values joined by tabs, plus a final tab. */
char *run_tag_of(const struct queue_task *t)
{
	size_t len = 0;
	const char *p = t->values;
	char *s, *o;

	for (size_t i = 0; i < t->nvalues; i++) {
		size_t l = strlen(p);
		len += l + 1;
		p += l + 1;
	}
	s = malloc(len + 1);
	if (!s)
		return NULL;
	o = s;
	p = t->values;
	for (size_t i = 0; i < t->nvalues; i++) {
		size_t l = strlen(p);
		memcpy(o, p, l);
		o[l] = '\t';
		o += l + 1;
		p += l + 1;
	}
	*o = 0;
	return s;
}

/* Printf into a fd through a small buffer. */
__attribute__((format(printf, 2, 3))) static int run_fdprintf(int fd,
							      const char *fmt,
							      ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	return output_full_write(fd, buf, (size_t)n < sizeof buf ? (size_t)n
							      : sizeof buf - 1);
}

/* The each function of an output buffer, for sched/jsonx.h. */
static int run_json_each(const void *src, jsonx_chunk_fn fn, void *ctx)
{
	return output_each(src, fn, ctx);
}

/* One JSON object line for a finished task. User text (command, values,
 * output, error) follows sched/jsonx.h: bytes that are not UTF-8 become
 * U+FFFD and the exact bytes go into KEY_base64 beside KEY. */
int run_write_json(int fd, const struct queue_task *t,
		   const struct agent_topology *topo)
{
	const char *cmd = t->cmd ? t->cmd : "";
	const char *p = t->values;
	int cpu = -1, e, bad = 0;

	if (topo && t->pu >= 0 && t->pu < agent_topology_npus(topo))
		cpu = agent_topology_pus(topo)[t->pu].os_index;
	e = run_fdprintf(fd, "{\"seq\":%llu,", (unsigned long long)t->seq);
	if (!e)
		e = jsonx_fd_field_mem(fd, "command", cmd, strlen(cmd));
	if (!e)
		e = output_full_write(fd, ",\"values\":[", 11);
	for (size_t i = 0; e >= 0 && i < t->nvalues; i++) {
		size_t l = strlen(p);
		e = i ? output_full_write(fd, ",", 1) : 0;
		if (!e && (e = jsonx_fd_string(fd, p, l)) > 0)
			bad = 1;
		p += l + 1;
	}
	if (e >= 0)
		e = output_full_write(fd, "]", 1);
	if (!e && bad) {	/* values_base64: null or the exact bytes */
		e = output_full_write(fd, ",\"values_base64\":[", 18);
		p = t->values;
		for (size_t i = 0; !e && i < t->nvalues; i++) {
			size_t l = strlen(p);
			e = i ? output_full_write(fd, ",", 1) : 0;
			if (!e)
				e = jsonx_valid(p, l)
					? output_full_write(fd, "null", 4)
					: jsonx_fd_base64(fd, p, l);
			p += l + 1;
		}
		if (!e)
			e = output_full_write(fd, "]", 1);
	}
	if (!e)
		e = run_fdprintf(fd, ",\"status\":\"%s\"",
				 t->cancelled ? "cancelled"
				 : t->ctl_killed ? "killed"
				 : t->timed_out ? "timeout"
				 : t->lost ? "lost"
				 : t->failed ? "failed" : "ok");
	if (!e)
		e = run_fdprintf(fd,
				 ",\"exit\":%d,\"signal\":%d,\"start\":%.3f,"
				 "\"runtime\":%.3f,",
				 t->exitval, t->signal, t->start_real,
				 (double)(t->end_ns - t->start_ns) / 1e9);
	if (!e)
		e = jsonx_fd_field(fd, "stdout", run_json_each, &t->out);
	if (!e)
		e = output_full_write(fd, ",", 1);
	if (!e)
		e = jsonx_fd_field(fd, "stderr", run_json_each, &t->err);
	if (!e)
		e = run_fdprintf(fd, ",\"pu\":%d,\"cpu\":%d", t->pu, cpu);
	/* resource figures from the task's cgroup, null without one */
	if (!e && t->cpu_ns >= 0)
		e = run_fdprintf(fd, ",\"cpu_time\":%.3f",
				 (double)t->cpu_ns / 1e9);
	else if (!e)
		e = output_full_write(fd, ",\"cpu_time\":null", 16);
	if (!e && t->mem_peak >= 0)
		e = run_fdprintf(fd, ",\"mem_peak\":%lld,\"oom_kills\":%lld",
				 (long long)t->mem_peak,
				 (long long)(t->oom_kills > 0 ? t->oom_kills : 0));
	else if (!e)
		e = output_full_write(fd, ",\"mem_peak\":null", 16);
	if (!e && t->errmsg) {
		/* why it never ran its command, without "nicely: " and "\n" */
		const char *m = t->errmsg;
		size_t l = strlen(m);
		if (!strncmp(m, "nicely: ", 8))
			m += 8, l -= 8;
		if (l && m[l - 1] == '\n')
			l--;
		e = output_full_write(fd, ",", 1);
		if (!e)
			e = jsonx_fd_field_mem(fd, "error", m, l);
	}
	if (!e)
		e = output_full_write(fd, "}\n", 2);
	return e;
}

/* Our stdout went away (EPIPE): stop like on a signal, quietly. */
static void run_output_failed(struct run *r, int e)
{
	if (r->st.signal)
		return;
	if (e != -EPIPE)
		fprintf(stderr, "nicely: cannot write output: %s\n",
			strerror(-e));
	r->st.signal = SIGPIPE;
	r->stopping = 1;
	run_kill_all(r);
}

/* Write a finished task's output (or JSON) and release it. */
void run_emit(struct run *r, struct queue_task *t)
{
	const struct run_opts *o = r->o;
	int e = 0;

	if (!r->st.signal || r->st.signal != SIGPIPE) {
		if (o->json) {
			e = run_write_json(o->out_fd, t, o->topo);
		} else {
			/* --pipe: no value to tag with (GNU: "\t") */
			char *tag = !o->tag ? NULL : o->pipe_stdin ?
				    strdup("\t") : run_tag_of(t);
			/* with --line-buffer only a last partial line is left */
			const char *otag = tag, *etag = tag;
			if (o->line_buffer) {
				otag = t->lb_start[0] ? tag : NULL;
				etag = t->lb_start[1] ? tag : NULL;
			}
			e = output_write(&t->out, o->out_fd, otag);
			if (!e)
				e = output_write(&t->err, o->err_fd, etag);
			free(tag);
		}
	}
	queue_task_event(t, QUEUE_EV_EMIT);
	queue_task_release(t);
	if (e < 0)
		run_output_failed(r, e);
}

/* Write every finished task at the head of the window, in order, and drop
 * what is written. At the end (final) skip tasks that never finished. */
void run_flush(struct run *r, int final)
{
	struct queue_task *t;

	while ((t = queue_head(&r->q))) {
		if (t->state == QUEUE_DONE)
			run_emit(r, t);
		else if (t->state != QUEUE_EMITTED && !final)
			break;
		queue_drop_head(&r->q);
	}
}

/* Add a line to the task's message (errmsg), keeping what is there. */
static void run_errmsg_add(struct queue_task *t, const char *m)
{
	size_t old = t->errmsg ? strlen(t->errmsg) : 0, l = strlen(m);
	char *s = realloc(t->errmsg, old + l + 1);

	if (!s)
		return;
	memcpy(s + old, m, l + 1);
	t->errmsg = s;
}

/* The task did not keep all it made: a failure (exit value -1 when its
 * command exited 0, as for a timeout, so --resume-failed reruns it). */
void run_task_mark_lost(struct queue_task *t)
{
	t->lost = 1;
	t->failed = 1;
	if (t->exitval == 0 && t->signal == 0)
		t->exitval = -1;
}

/* At a task's end: output that could not be kept whole (spill file not
 * made or full) or --results not written make it fail, and the message
 * says what was lost and why. */
void run_task_losses(struct queue_task *t)
{
	for (int i = 0; i < 2; i++) {
		const struct output_buf *b = i ? &t->err : &t->out;
		char m[1024];

		if (!b->lost)
			continue;
		snprintf(m, sizeof m, "nicely: task %llu: %s lost: %llu of "
			 "%llu bytes not kept (kept the first %llu; spill file "
			 "in %s: %s)\n", (unsigned long long)t->seq,
			 i ? "stderr" : "stdout", (unsigned long long)b->lost,
			 (unsigned long long)b->total,
			 (unsigned long long)output_kept(b), output_tmpdir(),
			 strerror(b->lost_err));
		run_errmsg_add(t, m);
		run_task_mark_lost(t);
	}
	if (t->res_failed)
		run_task_mark_lost(t);
}

/* An open directory results may go into: owned by us or root (a
 * directory of another user is theirs to swap under us), and not writable
 * by others unless sticky (then they cannot rename or remove our entries). */
static int run_results_dir_check(int fd, const char *path, char *err,
				 size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "cannot stat %s: %s", path,
			 strerror(errno));
		return -errno;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, errlen, "%s is owned by another user (uid %u); "
			 "not writing results there", path,
			 (unsigned)st.st_uid);
		return -EPERM;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		snprintf(err, errlen, "%s is writable by others (mode %04o, no "
			 "sticky bit); not writing results there", path,
			 (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* Open the --results directory, making it and missing parents (0700) when
 * make is set. A symlink on the way owned by someone else than us or root
 * is refused (one planted in /tmp would send our files elsewhere); so is
 * a directory run_results_dir_check refuses. Returns an O_DIRECTORY fd or
 * -errno with err saying why. */
int run_results_dir_open(const char *dir, int make, char *err, size_t errlen)
{
	char p[4096];
	size_t n = strlen(dir);
	struct stat st;
	int fd;

	if (n == 0 || n >= sizeof p) {
		snprintf(err, errlen, "'%.64s': %s", dir, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != 0)
			continue;
		char ch = p[i];
		p[i] = 0;
		if (lstat(p, &st) < 0) {
			if (errno != ENOENT || !make || mkdir(p, 0700) < 0) {
				int e = errno;
				snprintf(err, errlen, "cannot create %s: %s", p,
					 strerror(e));
				return -e;
			}
		} else if (S_ISLNK(st.st_mode) && st.st_uid != geteuid() &&
			   st.st_uid != 0) {
			snprintf(err, errlen, "%s is a symlink owned by another "
				 "user (uid %u); not following it", p,
				 (unsigned)st.st_uid);
			return -EPERM;
		}
		p[i] = ch;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open %s: %s", dir, strerror(e));
		return -e;
	}
	int e = run_results_dir_check(fd, dir, err, errlen);
	if (e == 0 && faccessat(fd, ".", W_OK | X_OK, AT_EACCESS) < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot write in %s: %s", dir,
			 strerror(-e));
	}
	if (e < 0) {
		close(fd);
		return e;
	}
	return fd;
}

/* --results of a task could not be written: say so; the task fails. */
__attribute__((format(printf, 2, 3))) static void
run_results_failed(struct queue_task *t, const char *fmt, ...)
{
	char m[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	fprintf(stderr, "nicely: task %llu: --results: %s\n",
		(unsigned long long)t->seq, m);
	t->res_failed = 1;
}

/* Open DIR/<seq> (made 0700, or an existing one that passes the checks). */
static int run_results_seq_dir(struct run *r, struct queue_task *t, int make)
{
	char err[1024], name[32], path[4200];
	int dfd, sfd;

	dfd = run_results_dir_open(r->o->results_dir, 0, err, sizeof err);
	if (dfd < 0) {
		run_results_failed(t, "%s", err);
		return -1;
	}
	snprintf(name, sizeof name, "%llu", (unsigned long long)t->seq);
	snprintf(path, sizeof path, "%s/%s", r->o->results_dir, name);
	if (make && mkdirat(dfd, name, 0700) < 0 && errno != EEXIST) {
		run_results_failed(t, "cannot create %s: %s", path,
				   strerror(errno));
		close(dfd);
		return -1;
	}
	sfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(dfd);
	if (sfd < 0) {
		run_results_failed(t, "cannot open %s: %s", path,
				   errno == ELOOP ? "a symlink" : strerror(errno));
		return -1;
	}
	if (run_results_dir_check(sfd, path, err, sizeof err) < 0) {
		run_results_failed(t, "%s", err);
		close(sfd);
		return -1;
	}
	return sfd;
}

/* Open a file in the task's results directory: never through a symlink,
 * 0600 when new. */
static int run_results_file(struct queue_task *t, int sfd, const char *dir,
			    const char *name)
{
	int fd = openat(sfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
				   O_CLOEXEC, 0600);

	if (fd < 0)
		run_results_failed(t, "cannot write %s/%llu/%s: %s", dir,
				   (unsigned long long)t->seq, name,
				   errno == ELOOP ? "a symlink" : strerror(errno));
	return fd;
}

/* Create DIR/<seq>/ and open its stdout/stderr files for a starting task. */
void run_results_open(struct run *r, struct queue_task *t)
{
	int sfd = run_results_seq_dir(r, t, 1);

	if (sfd < 0)
		return;
	for (int i = 0; i < 2; i++)
		t->res_fd[i] = run_results_file(t, sfd, r->o->results_dir,
						i ? "stderr" : "stdout");
	close(sfd);
}

/* Close the --results files and write exitval for a finished task; a
 * failure there makes the task fail (exit value -1 when it was 0). */
void run_results_close(struct run *r, struct queue_task *t, int final)
{
	if (r->o->store) {
		run_store_task_end(r, t, final);
		return;
	}
	for (int i = 0; i < 2; i++)
		if (t->res_fd[i] >= 0) {
			if (close(t->res_fd[i]) < 0 && final)
				run_results_failed(t, "cannot write %s: %s",
						   i ? "stderr" : "stdout",
						   strerror(errno));
			t->res_fd[i] = -1;
		}
	if (!final || !r->o->results_dir)
		return;
	char val[32];
	int sfd = run_results_seq_dir(r, t, 0), fd = -1;
	if (sfd >= 0) {
		if (t->res_failed || t->lost)
			run_task_mark_lost(t);
		fd = run_results_file(t, sfd, r->o->results_dir, "exitval");
		close(sfd);
	}
	int n = snprintf(val, sizeof val, "%d\n", t->exitval);
	int we = fd >= 0 ? output_full_write(fd, val, (size_t)n) : 0;
	if (we < 0)
		run_results_failed(t, "cannot write %s/%llu/exitval: %s",
				   r->o->results_dir,
				   (unsigned long long)t->seq, strerror(-we));
	if (fd >= 0 && close(fd) < 0)
		run_results_failed(t, "cannot write %s/%llu/exitval: %s",
				   r->o->results_dir,
				   (unsigned long long)t->seq, strerror(errno));
	if (t->res_failed)
		run_task_mark_lost(t);
}

/* --line-buffer: write the complete lines in buf now, keep the rest. */
static void run_line_flush(struct run *r, struct queue_task *t, int which,
			   int all)
{
	struct output_buf *b = which ? &t->err : &t->out;
	int fd = which ? r->o->err_fd : r->o->out_fd;
	char *tag = NULL;
	size_t upto = b->len;
	int e;

	if (b->fd >= 0 || b->len == 0)
		return;
	if (!all) {
		char *nl = memrchr(b->mem, '\n', b->len);
		/* a line longer than the in-memory limit goes out in parts */
		if (!nl && b->len < OUTPUT_MEM_MAX / 2)
			return;
		upto = nl ? (size_t)(nl - b->mem) + 1 : b->len;
	}
	if (r->o->tag)
		tag = r->o->pipe_stdin ? strdup("\t") : run_tag_of(t);
	struct output_buf part = OUTPUT_BUF_INIT;
	part.mem = b->mem;
	part.len = part.total = upto;
	/* output_write ends a tagged part with a newline; only tag at the
	 * start of lines, so write the tag by hand for partial lines */
	if (tag && t->lb_start[which]) {
		e = output_full_write(fd, tag, strlen(tag));
		if (e < 0)
			goto out;
	}
	if (tag) {
		/* tag every line after the first */
		size_t s = 0;
		e = 0;
		while (s < upto && e == 0) {
			char *nl = memchr(b->mem + s, '\n', upto - s);
			size_t l = nl ? (size_t)(nl - (b->mem + s)) + 1 : upto - s;
			e = output_full_write(fd, b->mem + s, l);
			s += l;
			if (!e && nl && s < upto)
				e = output_full_write(fd, tag, strlen(tag));
		}
	} else {
		e = output_full_write(fd, b->mem, upto);
	}
out:
	free(tag);
	t->lb_start[which] = upto > 0 && b->mem[upto - 1] == '\n';
	memmove(b->mem, b->mem + upto, b->len - upto);
	b->len -= upto;
	b->total = b->len + b->lost; /* lost bytes stay counted */
	if (e < 0)
		run_output_failed(r, e);
}

/* A task's stdout or stderr pipe has data or hung up. */
void run_on_pipe(struct queue_task *t, int which, struct run *r)
{
	struct loop_watch *w = which ? &t->w_err : &t->w_out;
	char buf[65536];
	ssize_t n = read(w->fd, buf, sizeof buf);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* a child between fork and exec may still hold this fd, so
		 * close() alone would leave it in the epoll set */
		loop_del(&r->loop, w);
		close(w->fd);
		w->fd = -1;
		t->open_pipes--;
		run_task_done_maybe(r, t);
		return;
	}
	if (r->o->store) {
		/* a detached batch: to the store, never into memory */
		run_store_write(r, t, which, buf, (size_t)n);
		return;
	}
	int e = t->res_fd[which] >= 0 ?
		output_full_write(t->res_fd[which], buf, (size_t)n) : 0;
	if (e < 0) {
		run_results_failed(t, "cannot write %s/%llu/%s: %s",
				   r->o->results_dir,
				   (unsigned long long)t->seq,
				   which ? "stderr" : "stdout", strerror(-e));
		close(t->res_fd[which]);
		t->res_fd[which] = -1;
	}
	/* bytes that cannot be kept are counted; run_task_losses says */
	(void)output_append(which ? &t->err : &t->out, buf, (size_t)n);
	if (r->o->line_buffer && !r->o->json)
		run_line_flush(r, t, which, 0);
}
