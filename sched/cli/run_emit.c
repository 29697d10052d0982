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
			char *tag = o->tag ? run_tag_of(t) : NULL;
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

/* Create DIR/<seq>/ and open its stdout/stderr files for a starting task. */
void run_results_open(struct run *r, struct queue_task *t)
{
	char path[4096];
	int n;

	n = snprintf(path, sizeof path, "%s/%llu", r->o->results_dir,
		     (unsigned long long)t->seq);
	if (n < 0 || (size_t)n >= sizeof path - 16)
		return;
	if (mkdir(path, 0777) < 0 && errno != EEXIST) {
		fprintf(stderr, "nicely: task %llu: cannot create %s: %s\n",
			(unsigned long long)t->seq, path, strerror(errno));
		return;
	}
	for (int i = 0; i < 2; i++) {
		snprintf(path + n, sizeof path - (size_t)n, "/%s",
			 i ? "stderr" : "stdout");
		t->res_fd[i] = open(path, O_WRONLY | O_CREAT | O_TRUNC |
					  O_CLOEXEC, 0666);
		if (t->res_fd[i] < 0)
			fprintf(stderr,
				"nicely: task %llu: cannot write %s: %s\n",
				(unsigned long long)t->seq, path,
				strerror(errno));
	}
}

/* Close the --results files and write exitval for a finished task. */
void run_results_close(struct run *r, struct queue_task *t, int final)
{
	for (int i = 0; i < 2; i++)
		if (t->res_fd[i] >= 0) {
			close(t->res_fd[i]);
			t->res_fd[i] = -1;
		}
	if (!final || !r->o->results_dir)
		return;
	char path[4096], val[32];
	snprintf(path, sizeof path, "%s/%llu/exitval", r->o->results_dir,
		 (unsigned long long)t->seq);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	int n = snprintf(val, sizeof val, "%d\n", t->exitval);
	if (fd < 0 || output_full_write(fd, val, (size_t)n) < 0)
		fprintf(stderr, "nicely: task %llu: cannot write %s: %s\n",
			(unsigned long long)t->seq, path, strerror(errno));
	if (fd >= 0)
		close(fd);
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
		tag = run_tag_of(t);
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
	b->total = b->len;
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
	if (t->res_fd[which] >= 0 &&
	    output_full_write(t->res_fd[which], buf, (size_t)n) < 0) {
		fprintf(stderr, "nicely: task %llu: cannot write results: %s\n",
			(unsigned long long)t->seq, strerror(errno));
		close(t->res_fd[which]);
		t->res_fd[which] = -1;
	}
	int e = output_append(which ? &t->err : &t->out, buf, (size_t)n);
	if (e < 0 && !t->errmsg) {
		char m[256];
		snprintf(m, sizeof m, "nicely: task %llu: output lost: %s\n",
			 (unsigned long long)t->seq, strerror(-e));
		t->errmsg = strdup(m);
	}
	if (r->o->line_buffer && !r->o->json)
		run_line_flush(r, t, which, 0);
}
