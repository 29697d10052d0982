/* sched/cli/slurm_submit: `nicely run --on slurm` on the submitting side.
 * Streams the input (a pipe through sched/cli/feed.c), expands each
 * task's command, writes the chunks into a new batch directory and submits
 * them a portion at a time as job arrays (split past MaxArraySize, %K from
 * -j), holding at most two portions; polls the directory and writes results
 * in order as they arrive, through the same hooks (joblog) and writers
 * (output, --tag, --json) as a local run. An element that ends without
 * its results (killed, node down) fails its tasks with squeue's word for
 * it, or goes again under --retries. Ctrl-C, `nicely kill`, --halt and
 * the end all go through scancel, so nothing of the batch is left in the
 * queue. Called by cli_run.c in place of run_batch; one thread, a polling
 * loop that serves the control socket while it waits (slurm_ctl.c; signal
 * handlers only set a flag the loop reads). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sched/cli/output.h"
#include "sched/cli/run_store.h"
#include "sched/cli/run_emit.h"
#include "sched/cli/slurm_batch.h"
#include "sched/cli/slurm_cmd.h"
#include "sched/cli/slurm_dir.h"
#include "sched/cli/slurm_submit.h"
#include "sched/cli/template.h"

#define SLURM_POLL_NS 100000000ULL	/* result directory scan */
#define SLURM_QUEUE_NS 2000000000ULL	/* squeue: is anything left? */
/* Tasks read and submitted at a time (one array's worth at most): the
 * submitting side holds at most two such portions, never the whole input. */
#define SLURM_PORTION_MAX 20000
/* Up to this many tasks out, every one's result is looked for each round;
 * past it, only those of elements not last seen pending by squeue. */
#define SLURM_SCAN_ALL 1000
/* A pipe's tasks wait this long for more before they are submitted. */
#define SLURM_GATHER_NS 1000000000ULL
/* Values the input thread reads ahead (a pipe's input, sched/cli/feed.h). */
#define SLURM_FEED_AHEAD 1024

static volatile sig_atomic_t slurm_signal;

/* Signal handler: only note it; the loop cancels the arrays. */
static void slurm_on_signal(int sig)
{
	slurm_signal = sig;
}

/* Monotonic nanoseconds. */
static uint64_t slurm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Drop the tasks written out from the front of the window (between loop
 * rounds only: no task index is held across a call). */
static void slurm_compact(struct slurm_batch *b)
{
	if (b->head == 0 || b->head < b->cap / 2)
		return;
	for (size_t i = 0; i < b->head; i++) {	/* dropped by a halt */
		free(b->t[i].cmd);
		free(b->t[i].values);
	}
	memmove(b->t, b->t + b->head, (b->n - b->head) * sizeof *b->t);
	b->n -= b->head;
	b->unsent -= b->head;
	b->head = 0;
}

/* Read values until the window holds max tasks, the input ends or (a
 * pipe) has nothing more for now; each task's values and command. 0 or
 * -errno with err. */
static int slurm_take(struct slurm_batch *b, size_t max, char *err,
		      size_t errlen)
{
	const struct run_opts *ro = b->ro;
	const char *const *vals;
	size_t nsrc = input_nsources(ro->input);
	int jobs = ro->jobs > 0 ? ro->jobs : 1, r;

	while (!b->eof && b->n - b->head < max) {
		r = b->feed ? feed_next(b->feed, &vals, err, errlen)
			    : input_next(ro->input, &vals, err, errlen);
		if (r == -EAGAIN)
			return 0;	/* nothing yet: the loop comes back */
		if (r < 0)
			return -EINVAL;
		if (r == 0) {
			b->eof = 1;
			b->st->total = (long long)b->nread;
			break;
		}
		nsrc = b->feed ? feed_nvalues(b->feed)
			       : input_nvalues(ro->input);
		uint64_t seq = ++b->nread;
		if (ro->skip && ro->skip(ro->ctx, seq)) {
			b->st->skipped++;
			continue;
		}
		if (b->n == b->cap) {
			size_t nc = b->cap ? b->cap * 2 : 256;
			struct slurm_task *nt = realloc(b->t, nc * sizeof *nt);
			if (!nt)
				goto oom;
			b->t = nt;
			b->cap = nc;
		}
		struct slurm_task *t = &b->t[b->n];
		size_t len = 0;
		memset(t, 0, sizeof *t);
		for (size_t i = 0; i < nsrc; i++)
			len += strlen(vals[i]) + 1;
		t->values = malloc(len ? len : 1);
		t->cmd = template_expand(ro->tmpl, vals, nsrc, seq,
					 (int)((seq - 1) % (uint64_t)jobs) + 1);
		if (!t->values || !t->cmd) {
			free(t->values);
			free(t->cmd);
			goto oom;
		}
		len = 0;
		for (size_t i = 0; i < nsrc; i++) {
			size_t l = strlen(vals[i]) + 1;
			memcpy(t->values + len, vals[i], l);
			len += l;
		}
		t->nvalues = nsrc;
		t->seq = seq;
		t->state = SLURM_T_UNSENT;
		if (b->unsent == b->n)
			b->unsent_since = slurm_now_ns();
		b->n++;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

/* Make the batch directory under [slurm] dir (else ~/.nicely/slurm). */
static int slurm_make_dir(struct slurm_batch *b, char *err, size_t errlen)
{
	const char *base = b->so->cfg->dir;
	char host[64] = "", buf[PATH_MAX];
	char path[PATH_MAX + 64];
	const char *sub[] = { "chunk", "res", "log" };

	if (!base || !base[0]) {
		const char *home = getenv("HOME");
		snprintf(buf, sizeof buf, "%s/.nicely/slurm",
			 home && *home ? home : "/tmp");
		base = buf;
	}
	/* mkdir -p base */
	snprintf(path, sizeof path, "%s", base);
	for (char *p = path + 1; ; p++) {
		if (*p == '/' || !*p) {
			char c = *p;
			*p = 0;
			if (mkdir(path, 0700) < 0 && errno != EEXIST) {
				snprintf(err, errlen, "[slurm] dir: cannot "
					 "make %s: %s", path, strerror(errno));
				return -errno;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	gethostname(host, sizeof host - 1);
	if (strlen(base) > sizeof b->dir - 128) {
		snprintf(err, errlen, "[slurm] dir is too long");
		return -ENAMETOOLONG;
	}
	snprintf(b->dir, sizeof b->dir, "%.3900s/%.63s-%d-%lld", base,
		 host[0] ? host : "host", (int)getpid(), (long long)time(NULL));
	if (mkdir(b->dir, 0700) < 0) {
		snprintf(err, errlen, "cannot make %s: %s", b->dir,
			 strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", b->dir, sub[i]);
		if (mkdir(path, 0700) < 0) {
			snprintf(err, errlen, "cannot make %s: %s", path,
				 strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* Append s shell-quoted (single quotes) to f. */
static void slurm_sh_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* The job script every element runs: nicely itself on the node. */
static int slurm_write_script(struct slurm_batch *b, char *err,
			      size_t errlen)
{
	const struct run_opts *ro = b->ro;
	char self[PATH_MAX];
	ssize_t l = readlink("/proc/self/exe", self, sizeof self - 1);
	FILE *f;

	if (l <= 0) {
		snprintf(err, errlen, "cannot find the nicely program: %s",
			 strerror(errno));
		return -errno;
	}
	self[l] = 0;
	snprintf(b->script, sizeof b->script, "%s/job.sh", b->dir);
	f = fopen(b->script, "we");
	if (!f) {
		snprintf(err, errlen, "%s: %s", b->script, strerror(errno));
		return -errno;
	}
	/* the array's first chunk number comes as $1 (sbatch's --export
	 * of an extra variable costs Slurm 22.05 a second per element) */
	fprintf(f, "#!/bin/sh\n# made by nicely run --on slurm: one array "
		"element runs one chunk of the batch\n"
		"NICELY_SLURM_BASE=$1\nexport NICELY_SLURM_BASE\nexec ");
	slurm_sh_quote(f, self);
	fputs(" run --slurm-element ", f);
	slurm_sh_quote(f, b->dir);
	if (b->so->preset) {
		fputs(" -p ", f);
		slurm_sh_quote(f, b->so->preset);
	}
	if (b->so->nice >= 0)
		fprintf(f, " --nice %d", b->so->nice);
	if (ro->timeout_ns)
		fprintf(f, " --timeout %.3f", (double)ro->timeout_ns / 1e9);
	if (ro->retries > 1)
		fprintf(f, " --retries %d", ro->retries);
	fputc('\n', f);
	if (fchmod(fileno(f), 0700) < 0 || fclose(f) != 0) {
		snprintf(err, errlen, "%s: %s", b->script, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Split s at blanks into argv[*k...] (s is modified). */
static void slurm_split(char *s, char **argv, size_t *k, size_t max)
{
	for (char *tok = strtok(s, " \t\n"); tok && *k < max;
	     tok = strtok(NULL, " \t\n"))
		argv[(*k)++] = tok;
}

/* Which of our sbatch options sbatch's message is about, for the error:
 * the first of partition/account/time/qos it names, with where it was
 * set. */
static void slurm_blame(const struct slurm_batch *b, const char *msg,
			char *out, size_t outlen)
{
	const struct policy_slurm *c = b->so->cfg;
	static const char *const words[] = { "partition", "account", "time",
					     "qos", NULL };
	const char *cfgval[] = { c->partition, c->account, c->time, "" };
	const struct policy_origin *org[] = { &c->partition_origin,
		&c->account_origin, &c->time_origin, NULL };
	char low[1024];
	size_t i;

	out[0] = 0;
	for (i = 0; msg[i] && i < sizeof low - 1; i++)
		low[i] = (char)((msg[i] >= 'A' && msg[i] <= 'Z')
				? msg[i] + 32 : msg[i]);
	low[i] = 0;
	for (i = 0; words[i]; i++) {
		if (!strstr(low, words[i]))
			continue;
		if (b->so->opt && strstr(b->so->opt, words[i]))
			snprintf(out, outlen, "--slurm-opt '%s'", b->so->opt);
		else if (cfgval[i][0])
			snprintf(out, outlen, "[slurm] %s = %s (%s:%d)",
				 words[i], cfgval[i],
				 org[i]->file ? org[i]->file : "?",
				 org[i]->line);
		else if (c->options[0] && strstr(c->options, words[i]))
			snprintf(out, outlen, "[slurm] options = %s (%s:%d)",
				 c->options,
				 c->options_origin.file ? c->options_origin.file
							: "?",
				 c->options_origin.line);
		else
			snprintf(out, outlen, "the cluster's default %s",
				 words[i]);
		return;
	}
	if (b->so->opt)
		snprintf(out, outlen, "--slurm-opt '%s'", b->so->opt);
	else if (c->options[0])
		snprintf(out, outlen, "[slurm] options = %s", c->options);
}

/* Submit elements [first, first+count) as one array. */
static int slurm_sbatch(struct slurm_batch *b, uint64_t first, uint64_t count,
			uint64_t tasks_per_elem, char *err, size_t errlen)
{
	const struct policy_slurm *c = b->so->cfg;
	char arr[64], env[64], out[PATH_MAX + 32], name[64], part[192],
		acct[192], tim[96];
	char *argv[160], *opts = NULL, *uopt = NULL, *sout = NULL,
		*serr = NULL;
	size_t k = 0;
	int rc, jobs = b->ro->jobs;

	if (jobs > 0)
		snprintf(arr, sizeof arr, "--array=0-%" PRIu64 "%%%d",
			 count - 1, jobs);
	else
		snprintf(arr, sizeof arr, "--array=0-%" PRIu64, count - 1);
	snprintf(env, sizeof env, "%" PRIu64, first);
	snprintf(out, sizeof out, "--output=%s/log/%%A_%%a.out", b->dir);
	snprintf(name, sizeof name, "--job-name=nicely");
	argv[k++] = "sbatch";
	argv[k++] = "--parsable";
	if (b->paused)		/* `nicely pause`: new elements wait too */
		argv[k++] = "--hold";
	argv[k++] = arr;
	argv[k++] = out;
	argv[k++] = name;
	if (c->partition[0]) {
		snprintf(part, sizeof part, "--partition=%s", c->partition);
		argv[k++] = part;
	}
	if (c->account[0]) {
		snprintf(acct, sizeof acct, "--account=%s", c->account);
		argv[k++] = acct;
	}
	if (c->time[0]) {
		snprintf(tim, sizeof tim, "--time=%s", c->time);
		argv[k++] = tim;
	} else if (b->ro->timeout_ns) {
		/* Slurm's own limit backs nicely's kill on the node: the
		 * chunk's tasks one after another, each to its timeout plus
		 * the kill's grace, and a minute for the element itself */
		double s = (double)tasks_per_elem *
			   ((double)b->ro->timeout_ns / 1e9 + 2.0) + 60.0;
		snprintf(tim, sizeof tim, "--time=%lld",
			 (long long)ceil(s / 60.0));
		argv[k++] = tim;
	}
	if (c->options[0]) {
		opts = strdup(c->options);
		if (opts)
			slurm_split(opts, argv, &k, 140);
	}
	if (b->so->opt) {
		uopt = strdup(b->so->opt);
		if (uopt)
			slurm_split(uopt, argv, &k, 150);
	}
	argv[k++] = b->script;
	argv[k++] = env;
	argv[k] = NULL;
	rc = slurm_cmd_run(argv, &sout, &serr);
	free(opts);
	free(uopt);
	if (rc != 0) {
		char blame[1400];
		size_t l;

		if (rc == -ENOENT) {
			snprintf(err, errlen, "--on slurm: sbatch is not "
				 "installed (Debian: slurm-client)");
			free(sout);
			free(serr);
			return -ENOENT;
		}
		l = serr ? strlen(serr) : 0;
		while (l && (serr[l - 1] == '\n' || serr[l - 1] == ' '))
			serr[--l] = 0;
		for (size_t i = 0; i < l; i++)	/* one line */
			if (serr[i] == '\n')
				serr[i] = ' ';
		slurm_blame(b, serr ? serr : "", blame, sizeof blame);
		snprintf(err, errlen, "--on slurm: sbatch refused the batch%s%s%s"
			 ": %s; nothing was submitted",
			 blame[0] ? " (check " : "", blame,
			 blame[0] ? ")" : "",
			 serr && serr[0] ? serr : "(no message)");
		free(sout);
		free(serr);
		return -EINVAL;
	}
	free(serr);
	/* --parsable: "JOBID" or "JOBID;CLUSTER" */
	sout[strcspn(sout, ";\n")] = 0;
	if (b->nids == b->capids) {
		size_t nc = b->capids ? b->capids * 2 : 8;
		char **ni = realloc(b->ids, nc * sizeof *ni);
		uint64_t *nf = ni ? realloc(b->firsts, nc * sizeof *nf) : NULL;
		if (ni)
			b->ids = ni;
		if (!nf) {
			/* not ours to cancel later: cancel it now */
			slurm_cmd_cancel(&sout, 1, 0);
			free(sout);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		b->firsts = nf;
		b->capids = nc;
	}
	b->firsts[b->nids] = first;
	for (uint64_t i = 0; i < count; i++) {
		struct slurm_elem *e = &b->elems[first + i];
		memset(e, 0, sizeof *e);
		e->idn = b->nids;
		e->index = (long)i;
	}
	b->ids[b->nids++] = sout;
	return 0;
}

/* Send the tasks idx[0..n-1] to Slurm: chunks of b->chunk tasks, arrays of
 * at most MaxArraySize elements. */
static int slurm_submit_tasks(struct slurm_batch *b, const size_t *idx,
			      size_t n, char *err, size_t errlen)
{
	size_t chunk = (size_t)b->chunk, nelem = (n + chunk - 1) / chunk;
	uint64_t *seqs = malloc(chunk * sizeof *seqs);
	char **cmds = malloc(chunk * sizeof *cmds);
	uint64_t first = b->next_elem;
	int rc = 0;

	if (seqs && cmds && first + nelem > b->capelems) {
		size_t nc = (size_t)(first + nelem) * 2;
		struct slurm_elem *ne = realloc(b->elems, nc * sizeof *ne);
		if (ne) {
			b->elems = ne;
			b->capelems = nc;
		}
	}
	if (!seqs || !cmds || first + nelem > b->capelems) {
		free(seqs);
		free(cmds);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t e = 0; e < nelem && !rc; e++) {
		size_t m = 0;
		for (size_t i = e * chunk; i < n && m < chunk; i++, m++) {
			seqs[m] = b->t[idx[i]].seq;
			cmds[m] = b->t[idx[i]].cmd;
			b->t[idx[i]].submits++;
			b->t[idx[i]].state = SLURM_T_QUEUED;
			b->t[idx[i]].elem = first + e;
		}
		rc = slurm_dir_chunk_write(b->dir, first + e, seqs, cmds, m,
					   err, errlen);
	}
	free(seqs);
	free(cmds);
	if (rc)
		return rc;
	b->next_elem += nelem;
	b->q_pending += (long)nelem;	/* until squeue says otherwise */
	for (size_t done = 0; done < nelem && !rc;) {
		size_t cnt = nelem - done;
		if (cnt > (size_t)b->max_array)
			cnt = (size_t)b->max_array;
		rc = slurm_sbatch(b, first + done, cnt, chunk, err, errlen);
		done += cnt;
	}
	return rc;
}

/* Submit the tasks read and not yet sent: a portion at a time, or what
 * there is once the input has ended or its oldest waited a second; the
 * next portion when half of the one before is written out. */
static int slurm_submit_unsent(struct slurm_batch *b, char *err,
			       size_t errlen)
{
	while (b->unsent < b->n) {
		size_t m = b->n - b->unsent, *idx;
		int rc;

		if (m < b->portion && !b->eof &&
		    slurm_now_ns() - b->unsent_since < SLURM_GATHER_NS)
			return 0;
		/* the next array once half of the last is written out, so
		 * that Slurm holds about one portion at a time */
		if (b->unsent - b->head > b->portion / 2)
			return 0;
		if (m > b->portion)
			m = b->portion;
		idx = malloc(m * sizeof *idx);
		if (!idx) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		for (size_t i = 0; i < m; i++)
			idx[i] = b->unsent + i;
		rc = slurm_submit_tasks(b, idx, m, err, errlen);
		free(idx);
		b->unsent += m;
		b->unsent_since = slurm_now_ns();
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* --results: GNU parallel's DIR/1/VALUE.../{seq,stdout,stderr} (and
 * nicely's exitval) for a task written out (run_results_rel's path). */
static void slurm_results(const struct slurm_batch *b,
			  const struct queue_task *qt)
{
	char p[PATH_MAX + 64], num[32], rel[4096];
	const struct output_buf *bufs[2] = { &qt->out, &qt->err };
	const char *names[4] = { "stdout", "stderr", "exitval", "seq" };
	size_t nc, o = 0, pl;

	if (run_results_rel(qt->values, qt->nvalues, rel, sizeof rel,
			    &nc) < 0) {
		errno = ENAMETOOLONG;
		snprintf(p, sizeof p, "%s", b->ro->results_dir);
		goto fail;
	}
	pl = (size_t)snprintf(p, sizeof p, "%s", b->ro->results_dir);
	for (size_t c = 0; c < nc; c++) {
		pl += (size_t)snprintf(p + pl, sizeof p - pl, "/%s", rel + o);
		o += strlen(rel + o) + 1;
		if (pl >= sizeof p - 16) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			goto fail;
	}
	for (int i = 0; i < 4; i++) {
		snprintf(p + pl, sizeof p - pl, "/%s", names[i]);
		int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
				     O_CLOEXEC, 0600);
		int rc, l;
		if (fd < 0)
			goto fail;
		if (i < 2) {
			rc = output_write(bufs[i], fd, NULL);
		} else {
			if (i == 2)
				l = snprintf(num, sizeof num, "%d\n",
					     qt->exitval);
			else
				l = snprintf(num, sizeof num, "%llu",
					     (unsigned long long)qt->seq);
			rc = output_full_write(fd, num, (size_t)l);
		}
		if (close(fd) < 0 || rc < 0)
			goto fail;
	}
	return;
fail:
	fprintf(stderr, "nicely: --results: %s: %s\n", p, strerror(errno));
}

/* Why task t has no result: its element's end as squeue showed it. */
static void slurm_lost_why(const struct slurm_batch *b,
			   const struct slurm_task *t, char *out, size_t len)
{
	const struct slurm_elem *e = &b->elems[t->elem];

	if (e->ended)
		snprintf(out, len, "lost: array element %" PRIu64 " (Slurm job "
			 "%s_%ld) ended without its result: %s; its job log "
			 "is kept in the batch directory", t->elem,
			 b->ids[e->idn], e->index, e->why);
	else
		snprintf(out, len, "lost: array element %" PRIu64 " (Slurm job "
			 "%s_%ld) ended without its result (it left squeue "
			 "before its end was seen: node failure, time limit or "
			 "cancel); its job log is kept in the batch directory",
			 t->elem, b->ids[e->idn], e->index);
}

/* Write task i out: hooks, output or JSON, --results. */
static void slurm_emit(struct slurm_batch *b, size_t i)
{
	const struct run_opts *ro = b->ro;
	struct slurm_task *t = &b->t[i];
	struct queue_task qt;
	struct slurm_result r;
	char err[PATH_MAX + 128], msg[PATH_MAX + 256];
	int rc = 0;

	memset(&qt, 0, sizeof qt);
	qt.out = (struct output_buf)OUTPUT_BUF_INIT;
	qt.err = (struct output_buf)OUTPUT_BUF_INIT;
	qt.seq = t->seq;
	qt.values = t->values;
	qt.nvalues = t->nvalues;
	qt.cmd = t->cmd;
	qt.pu = -1;
	qt.cpu_ns = qt.mem_peak = qt.oom_kills = -1;
	memset(&r, 0, sizeof r);
	if (t->state == SLURM_T_DONE)
		rc = slurm_dir_result_read(b->dir, t->seq, &r, &qt.out,
					   &qt.err, err, sizeof err);
	if (t->state == SLURM_T_LOST || rc <= 0) {
		char why[400];

		slurm_lost_why(b, t, why, sizeof why);
		snprintf(msg, sizeof msg, "nicely: task %" PRIu64 ": %s\n",
			 t->seq, rc < 0 ? err : why);
		r.exitval = -1;
		r.failed = 1;
		qt.lost = 1;
		qt.errmsg = msg;
		fputs(msg, stderr);
		b->keep_dir = 1;
	}
	qt.exitval = r.exitval;
	qt.signal = r.signal;
	qt.failed = r.failed;
	qt.timed_out = r.timed_out;
	qt.start_real = r.start;
	qt.start_ns = 0;
	qt.end_ns = (uint64_t)(r.runtime * 1e9);
	if (qt.timed_out)
		fprintf(stderr, "nicely: task %" PRIu64 ": timed out, killed: "
			"%s\n", t->seq, t->cmd);
	if (b->so->host)
		*b->so->host = r.host[0] ? r.host : ":";
	/* a detached batch (nicely submit --on slurm): its store keeps the
	 * output, before its joblog line (on_result) says it is recorded */
	if (ro->store)
		run_store_task_whole(ro->store, &qt);
	if (ro->on_result)
		ro->on_result(ro->ctx, &qt);
	if (qt.errmsg && qt.errmsg != msg)
		free(qt.errmsg);
	if (ro->json) {
		if (run_write_json(ro->out_fd, &qt, NULL) < 0)
			b->st->signal = b->st->signal ? b->st->signal : SIGPIPE;
	} else {
		char *tag = ro->tag ? run_tag_of(&qt) : NULL;
		if (output_write(&qt.out, ro->out_fd, tag) < 0)
			b->st->signal = b->st->signal ? b->st->signal : SIGPIPE;
		output_write(&qt.err, ro->err_fd, tag);
		free(tag);
	}
	if (ro->results_dir)
		slurm_results(b, &qt);
	output_reset(&qt.out);
	output_reset(&qt.err);
	t->state = SLURM_T_EMITTED;
	free(t->cmd);
	free(t->values);
	t->cmd = t->values = NULL;
}

/* A result arrived (or a task was lost for good): count it, --halt. */
static void slurm_count(struct slurm_batch *b, size_t i, int failed)
{
	(void)i;
	b->st->finished++;
	if (failed)
		b->st->failed++;
	else
		b->st->succeeded++;
	if (!b->st->halted && run_halt_reached(b->ro, b->st)) {
		b->st->halted = 1;
		b->st->halt_success = b->ro->halt_what == RUN_HALT_SUCCESS;
		/* (the task's own status is not at hand here: 1 for fail=1) */
		b->st->halt_exit = run_halt_status(b->ro, b->st, failed, 0);
		fprintf(stderr, "nicely: halting after task %" PRIu64 " %s%s\n",
			b->t[i].seq, failed ? "failed: " : "finished: ",
			b->t[i].cmd ? b->t[i].cmd : "");
		/* now: cancel every element; soon: only those not started */
		slurm_cmd_cancel(b->ids, b->nids,
				 b->ro->halt_when == RUN_HALT_SOON);
	}
}

/* Look for new results; count them; write out what order allows. */
static void slurm_scan(struct slurm_batch *b)
{
	struct slurm_result r;
	char err[PATH_MAX + 128];
	size_t queued = 0;
	int many;

	for (size_t i = b->head; i < b->n && queued <= SLURM_SCAN_ALL; i++)
		queued += b->t[i].state == SLURM_T_QUEUED;
	many = queued > SLURM_SCAN_ALL;
	for (size_t i = b->head; i < b->n; i++) {
		struct slurm_task *t = &b->t[i];
		const struct slurm_elem *e;

		if (t->state != SLURM_T_QUEUED)
			continue;
		/* many tasks out: those of elements squeue showed pending are
		 * looked for after the next squeue only (a stat each on the
		 * shared filesystem every round would be too many) */
		e = &b->elems[t->elem];
		if ((many && e->seen && !e->running && !e->ended) ||
		    !slurm_dir_result_exists(b->dir, t->seq))
			continue;
		if (slurm_dir_result_read(b->dir, t->seq, &r, NULL, NULL, err,
					  sizeof err) <= 0)
			r.failed = 1;
		t->state = SLURM_T_DONE;
		slurm_count(b, i, r.failed);
		if (b->ro->unordered)
			slurm_emit(b, i);
	}
	while (b->head < b->n && (b->t[b->head].state == SLURM_T_DONE ||
				  b->t[b->head].state == SLURM_T_LOST ||
				  b->t[b->head].state == SLURM_T_EMITTED)) {
		if (b->t[b->head].state != SLURM_T_EMITTED)
			slurm_emit(b, b->head);
		b->head++;
	}
}

/* Ask squeue about the elements: counts, and each one's state. */
long slurm_batch_poll(struct slurm_batch *b)
{
	struct slurm_cmd_elem *v;
	long nv = slurm_cmd_queue(b->ids, b->nids, &v), alive = 0;

	if (nv < 0)
		return nv;
	b->q_pending = b->q_running = 0;
	/* an element squeue no longer lists is in an unknown state */
	for (uint64_t e = 0; e < b->next_elem; e++)
		if (!b->elems[e].ended)
			b->elems[e].seen = b->elems[e].running = 0;
	for (long i = 0; i < nv; i++) {
		uint64_t e = b->firsts[v[i].id] + (uint64_t)v[i].index;
		struct slurm_elem *el;

		if (v[i].index < 0 || e >= b->next_elem)
			continue;
		el = &b->elems[e];
		el->seen = 1;
		el->running = v[i].active && !v[i].pending;
		if (v[i].active) {
			alive++;
			if (v[i].pending)
				b->q_pending++;
			else
				b->q_running++;
		} else if (!el->ended) {
			el->ended = 1;
			snprintf(el->why, sizeof el->why, "%s%s%s%s%s%s",
				 v[i].state, strcmp(v[i].reason, "None") &&
				 v[i].reason[0] ? " (" : "",
				 strcmp(v[i].reason, "None") && v[i].reason[0]
				 ? v[i].reason : "", strcmp(v[i].reason, "None")
				 && v[i].reason[0] ? ")" : "",
				 v[i].node[0] ? " on node " : "", v[i].node);
		}
	}
	free(v);
	return alive;
}

/* Tasks without a result whose element ended (every one when gone: the
 * whole batch has left the queue) are lost: resubmit those that have
 * submissions left (--retries), fail the others with the reason. Returns
 * how many were resubmitted, or -errno. */
static int slurm_lost(struct slurm_batch *b, int gone, char *err,
		      size_t errlen)
{
	size_t *idx = malloc((b->n - b->head + 1) * sizeof *idx), m = 0;
	char why[400] = "";
	int rc = 0;

	if (!idx)
		return -ENOMEM;
	for (size_t i = b->head; i < b->n; i++) {
		struct slurm_task *t = &b->t[i];
		if (t->state != SLURM_T_QUEUED ||
		    (!gone && !b->elems[t->elem].ended))
			continue;
		if (b->st->halted || b->killing) {
			t->state = SLURM_T_EMITTED;	/* dropped, as run */
			continue;
		}
		if (t->submits < b->ro->retries) {
			if (!m)
				slurm_lost_why(b, t, why, sizeof why);
			idx[m++] = i;
			continue;
		}
		t->state = SLURM_T_LOST;
		slurm_count(b, i, 1);
	}
	if (m) {
		fprintf(stderr, "nicely: %zu task(s) of the batch ended "
			"without a result (the first: %s); submitting them "
			"again\n", m, why + (strncmp(why, "lost: ", 6) ? 0 : 6));
		rc = slurm_submit_tasks(b, idx, m, err, errlen);
	}
	free(idx);
	return rc < 0 ? rc : (int)m;
}

/* Cancel everything of ours and wait (bounded) until the queue has none
 * of it left. */
static void slurm_cancel_all(struct slurm_batch *b)
{
	slurm_cmd_cancel(b->ids, b->nids, 0);
	for (int i = 0; i < 300; i++) {
		if (slurm_cmd_alive(b->ids, b->nids) <= 0)
			return;
		if (i % 20 == 19)
			slurm_cmd_cancel(b->ids, b->nids, 0);
		struct timespec ts = { 0, 100000000 };
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "nicely: some jobs of the batch are still in "
		"squeue after scancel\n");
}

/* The automatic chunk: elements enough to keep -j of them busy a few
 * times over, at most 1000 (clusters cap jobs per user; each job costs
 * seconds to start). */
static long slurm_auto_chunk(size_t n, int jobs)
{
	size_t target = jobs > 0 ? (size_t)jobs * 4 : 1000;

	if (target > 1000)
		target = 1000;
	return n ? (long)((n + target - 1) / target) : 1;
}

/* Run the batch on Slurm. */
int slurm_submit_run(const struct run_opts *ro,
		     const struct slurm_submit_opts *so, struct run_stats *st,
		     char *err, size_t errlen)
{
	struct slurm_batch b;
	struct sigaction sa, old[3];
	const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	uint64_t last_q = 0;
	int rc;

	memset(&b, 0, sizeof b);
	memset(st, 0, sizeof *st);
	st->total = -1;
	b.ro = ro;
	b.so = so;
	b.st = st;
	if (ro->input_may_block) {
		rc = feed_start(&b.feed, ro->input, SLURM_FEED_AHEAD, err,
				errlen);
		if (rc < 0)
			goto out;
	}
	b.max_array = slurm_cmd_max_array();
	/* the first portion: the whole input when it is short; its size sets
	 * the automatic chunk when the total is not known beforehand */
	uint64_t t0 = slurm_now_ns();
	do {
		rc = slurm_take(&b, SLURM_PORTION_MAX, err, errlen);
		if (rc < 0)
			goto out;
		if (b.eof || b.n >= SLURM_PORTION_MAX)
			break;
		if (b.feed) {	/* a pipe: what came within a second */
			struct timespec ts = { 0, 10000000 };
			nanosleep(&ts, NULL);
		}
	} while (b.feed && slurm_now_ns() - t0 < SLURM_GATHER_NS);
	if (so->chunk > 0) {
		b.chunk = so->chunk;
	} else {
		long long total = input_total(ro->input);
		b.chunk = slurm_auto_chunk(total > (long long)b.n ?
					   (size_t)total : b.n, ro->jobs);
	}
	b.portion = (size_t)b.chunk * (size_t)b.max_array;
	if (b.portion > SLURM_PORTION_MAX)
		b.portion = SLURM_PORTION_MAX;
	if (b.portion < (size_t)b.chunk)
		b.portion = (size_t)b.chunk;
	if (b.n == 0 && b.eof)
		goto out;
	rc = slurm_make_dir(&b, err, errlen);
	if (rc < 0)
		goto out;
	rc = slurm_write_script(&b, err, errlen);
	if (rc < 0)
		goto out_dir;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = slurm_on_signal;
	sigemptyset(&sa.sa_mask);
	slurm_signal = 0;
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	slurm_ctl_open(&b);
	while (!slurm_signal && !st->signal && !b.killing) {
		if (st->halted && !b.eof) {
			/* --halt: nothing more is read or sent */
			for (size_t i = b.unsent; i < b.n; i++)
				b.t[i].state = SLURM_T_EMITTED;
			b.unsent = b.n;
			b.eof = 1;
		}
		slurm_compact(&b);
		/* read on while the window has room: at most two portions of
		 * the input are held here */
		if (!b.eof && b.n - b.head < 2 * b.portion &&
		    slurm_take(&b, 2 * b.portion, err, errlen) < 0) {
			fprintf(stderr, "nicely: %s\n", err);
			break;
		}
		rc = slurm_submit_unsent(&b, err, errlen);
		if (rc < 0) {
			/* the first refusal: nothing of the batch is left;
			 * a later one ends the batch the same way */
			slurm_cancel_all(&b);
			goto out_sig;
		}
		slurm_scan(&b);
		if (b.eof && b.head >= b.n)
			break;
		if (slurm_signal || st->signal || b.killing)
			break;
		slurm_ctl_wait(&b, (int)(SLURM_POLL_NS / 1000000ULL));
		uint64_t now = slurm_now_ns();
		if (now - last_q < SLURM_QUEUE_NS || b.nids == 0)
			continue;
		last_q = now;
		long alive = slurm_batch_poll(&b);
		if (alive < 0)
			continue;	/* squeue failed: ask again later */
		/* results written just before an element ended */
		slurm_scan(&b);
		if (slurm_lost(&b, alive == 0, err, errlen) < 0) {
			fprintf(stderr, "nicely: %s\n", err);
			break;
		}
	}
	rc = 0;
	if (slurm_signal || st->signal || b.head < b.n || !b.eof ||
	    b.killing) {
		if (slurm_signal && !st->signal)
			st->signal = slurm_signal;
		slurm_cancel_all(&b);
		/* what finished before the cancel is recorded */
		slurm_scan(&b);
		if (st->signal && st->signal != SIGPIPE)
			fprintf(stderr, "nicely: %s: cancelled the batch's "
				"Slurm jobs\n", strsignal(st->signal));
	}
	slurm_ctl_end(&b);
	rc = 0;
out_sig:
	slurm_ctl_close(&b);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
out_dir:
	if (!b.keep_dir && !getenv("NICELY_SLURM_KEEP"))
		slurm_dir_remove(b.dir);
	else
		fprintf(stderr, "nicely: the batch directory is kept: %s\n",
			b.dir);
out:
	if (b.feed)
		feed_stop(b.feed);
	for (size_t i = 0; i < b.n; i++) {
		free(b.t[i].cmd);
		free(b.t[i].values);
	}
	free(b.t);
	for (size_t i = 0; i < b.nids; i++)
		free(b.ids[i]);
	free(b.ids);
	free(b.firsts);
	free(b.elems);
	return rc;
}
