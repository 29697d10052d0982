/* sched/cli/run_emit: what `nicely run` writes: tasks' output captured
 * from their pipes, in submission order (or as they finish, or line by
 * line), --tag, --json objects and the --results directory. Called by the
 * engine and the task code in the loop thread. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* The values joined by spaces, plus a final tab (GNU parallel's --tag). */
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
		o[l] = i + 1 < t->nvalues ? ' ' : '\t';
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

	if (o->result_in_order && o->on_result)
		o->on_result(o->ctx, t);
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

/* GNU parallel's --results path of a task under DIR, relative: for each
 * input n, "n/VALUE" with VALUE's "\\", tab and "/" written "\\\\",
 * "\\t" and "\\_" and cut to NAME_MAX bytes; empty and "." parts
 * vanish and ".." goes up, as the path GNU's mkpath makes. Components are
 * NUL-separated in buf (*ncomp of them); -ENAMETOOLONG when it does not
 * fit. */
int run_results_rel(const char *values, size_t nvalues, char *buf,
		    size_t len, size_t *ncomp)
{
	size_t o = 0, n = 0, starts[2 * 4096 / 2];
	const char *v = values;

	*ncomp = 0;
	for (size_t i = 0; i < nvalues; i++, v += strlen(v) + 1) {
		for (int part = 0; part < 2; part++) {
			size_t s0 = o, cl = 0;

			if (n >= sizeof starts / sizeof starts[0])
				return -ENAMETOOLONG;
			if (part == 0) {
				int l = snprintf(buf + o, len - o, "%zu", i + 1);

				if (l < 0 || (size_t)l >= len - o)
					return -ENAMETOOLONG;
				o += (size_t)l;
			} else {
				for (const char *c = v; *c && cl < NAME_MAX; c++) {
					const char *rep = *c == '\\' ? "\\\\"
						: *c == '\t' ? "\\t"
						: *c == '/' ? "\\_" : NULL;
					size_t rl = rep ? 2 : 1;

					if (cl + rl > NAME_MAX)
						break;
					if (o + rl >= len)
						return -ENAMETOOLONG;
					if (rep)
						memcpy(buf + o, rep, 2);
					else
						buf[o] = *c;
					o += rl;
					cl += rl;
				}
			}
			buf[o] = '\0';
			if (o == s0 || !strcmp(buf + s0, ".")) {
				o = s0;	/* vanishes */
			} else if (!strcmp(buf + s0, "..")) {
				o = s0;
				if (n) {
					o = starts[--n];
				}
			} else {
				starts[n++] = s0;
				if (++o >= len)
					return -ENAMETOOLONG;
			}
		}
	}
	*ncomp = n;
	return 0;
}

/* The task's results directory for messages: DIR/1/a/2/b (malloc'd). */
static char *run_results_path(const char *dir, const struct queue_task *t)
{
	char rel[4096];
	size_t nc, dl = strlen(dir), o = 0;
	char *p;

	if (run_results_rel(t->values, t->nvalues, rel, sizeof rel, &nc) < 0)
		nc = 0;
	p = malloc(dl + sizeof rel + 2);
	if (!p)
		return NULL;
	memcpy(p, dir, dl);
	p[dl] = '\0';
	for (size_t i = 0; i < nc; i++) {
		size_t l = strlen(rel + o);

		strcat(p, "/");
		strcat(p, rel + o);
		o += l + 1;
	}
	return p;
}

/* Open (making each level 0700 with make) the task's directory under
 * DIR, never through a symlink, each level passing the checks. */
static int run_results_seq_dir(struct run *r, struct queue_task *t, int make)
{
	char err[1024], rel[4096], *path;
	size_t nc, o = 0;
	int dfd;

	path = run_results_path(r->o->results_dir, t);
	if (!path) {
		run_results_failed(t, "out of memory");
		return -1;
	}
	if (run_results_rel(t->values, t->nvalues, rel, sizeof rel, &nc) < 0) {
		run_results_failed(t, "%s: %s", path, strerror(ENAMETOOLONG));
		free(path);
		return -1;
	}
	dfd = run_results_dir_open(r->o->results_dir, 0, err, sizeof err);
	if (dfd < 0) {
		run_results_failed(t, "%s", err);
		free(path);
		return -1;
	}
	for (size_t i = 0; i < nc; i++) {
		const char *name = rel + o;
		int sfd;

		o += strlen(name) + 1;
		if (make && mkdirat(dfd, name, 0700) < 0 && errno != EEXIST) {
			run_results_failed(t, "cannot create %s: %s", path,
					   strerror(errno));
			close(dfd);
			free(path);
			return -1;
		}
		sfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					O_CLOEXEC);
		close(dfd);
		if (sfd < 0) {
			run_results_failed(t, "cannot open %s: %s", path,
					   errno == ELOOP ? "a symlink"
							  : strerror(errno));
			free(path);
			return -1;
		}
		if (run_results_dir_check(sfd, path, err, sizeof err) < 0) {
			run_results_failed(t, "%s", err);
			close(sfd);
			free(path);
			return -1;
		}
		dfd = sfd;
	}
	free(path);
	return dfd;
}

/* Open a file in the task's results directory: never through a symlink,
 * 0600 when new. */
static int run_results_file(struct queue_task *t, int sfd, const char *dir,
			    const char *name)
{
	int fd = openat(sfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
				   O_CLOEXEC, 0600);

	if (fd < 0) {
		int e = errno;
		char *p = run_results_path(dir, t);

		run_results_failed(t, "cannot write %s/%s: %s", p ? p : dir,
				   name, e == ELOOP ? "a symlink" : strerror(e));
		free(p);
	}
	return fd;
}

/* Create DIR/<seq>/ and open its stdout/stderr files for a starting task. */
void run_results_open(struct run *r, struct queue_task *t)
{
	int sfd = run_results_seq_dir(r, t, 1);

	if (sfd < 0)
		return;
	/* GNU's seq file: the task number, no newline */
	char num[32];
	int fd = run_results_file(t, sfd, r->o->results_dir, "seq");
	int nl = snprintf(num, sizeof num, "%llu", (unsigned long long)t->seq);

	if (fd >= 0) {
		if (output_full_write(fd, num, (size_t)nl) < 0)
			run_results_failed(t, "cannot write its seq file");
		close(fd);
	}
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
	if (we < 0 || (fd >= 0 && close(fd) < 0)) {
		char *p = run_results_path(r->o->results_dir, t);

		run_results_failed(t, "cannot write %s/exitval: %s",
				   p ? p : r->o->results_dir,
				   strerror(we < 0 ? -we : errno));
		free(p);
	}
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
		char *p = run_results_path(r->o->results_dir, t);

		run_results_failed(t, "cannot write %s/%s: %s",
				   p ? p : r->o->results_dir,
				   which ? "stderr" : "stdout", strerror(-e));
		free(p);
		close(t->res_fd[which]);
		t->res_fd[which] = -1;
	}
	/* bytes that cannot be kept are counted; run_task_losses says */
	(void)output_append(which ? &t->err : &t->out, buf, (size_t)n);
	if (r->o->line_buffer && !r->o->json)
		run_line_flush(r, t, which, r->o->ungroup);
}
