/* sched/cli/slurm_node: the element runner of `nicely run --on slurm`,
 * on the node: its chunk of commands in, one result record per finished
 * task out (sched/cli/slurm_dir.c). Called by cli_run.c around the
 * ordinary engine; the on_result hook runs in the engine's loop. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched/cli/slurm_dir.h"
#include "sched/cli/slurm_node.h"

struct slurm_node {
	char dir[4096];
	uint64_t *seqs;		/* global seq of the chunk's i-th task */
	char **cmds;
	size_t n;
	char *buf;
	char host[64];
	int failed;		/* a result could not be written */
};

/* A whole non-negative number from the environment, or -1. */
static long long slurm_node_env(const char *name)
{
	const char *s = getenv(name);
	char *end;
	long long v;

	if (!s || !*s)
		return -1;
	v = strtoll(s, &end, 10);
	return *end || v < 0 ? -1 : v;
}

/* Open the element's chunk. */
int slurm_node_open(struct slurm_node **out, const char *dir,
		    struct input_source *src, char *err, size_t errlen)
{
	struct slurm_node *n = calloc(1, sizeof *n);
	long long base = slurm_node_env("NICELY_SLURM_BASE");
	long long idx = slurm_node_env("SLURM_ARRAY_TASK_ID");
	int rc;

	if (!n) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (base < 0 || idx < 0) {
		free(n);
		snprintf(err, errlen, "--slurm-element runs inside a Slurm "
			 "array job made by `nicely run --on slurm` "
			 "(NICELY_SLURM_BASE and SLURM_ARRAY_TASK_ID unset)");
		return -EINVAL;
	}
	snprintf(n->dir, sizeof n->dir, "%s", dir);
	if (gethostname(n->host, sizeof n->host - 1) < 0)
		snprintf(n->host, sizeof n->host, ":");
	for (char *p = n->host; *p; p++)
		if (*p == ' ' || *p == '\t' || *p == '\n')
			*p = '_';
	rc = slurm_dir_chunk_read(dir, (uint64_t)(base + idx), &n->seqs,
				  &n->cmds, &n->n, &n->buf, err, errlen);
	if (rc < 0) {
		slurm_node_free(n);
		return rc;
	}
	memset(src, 0, sizeof *src);
	src->kind = INPUT_ARGS;
	src->args = n->cmds;
	src->nargs = n->n;
	*out = n;
	return 0;
}

/* Tasks on the node at once. */
int slurm_node_jobs(void)
{
	long long c = slurm_node_env("SLURM_CPUS_PER_TASK");

	return c > 0 && c < 100000 ? (int)c : 1;
}

/* A task finished: record it. */
void slurm_node_result(struct slurm_node *n, const struct queue_task *t)
{
	struct slurm_result r;
	char err[4400];

	if (t->seq < 1 || t->seq > n->n)
		return;
	/* killed because Slurm is stopping the element (scancel, time
	 * limit, node going down: SIGTERM to every process of the job, the
	 * engine's own signal either handled (halted) or still pending):
	 * not a result; the submitter finds it missing and resubmits it
	 * under --retries, or reports it lost */
	sigset_t pend;
	if (t->halted ||
	    (sigpending(&pend) == 0 &&
	     (sigismember(&pend, SIGTERM) == 1 ||
	      sigismember(&pend, SIGINT) == 1 ||
	      sigismember(&pend, SIGHUP) == 1)))
		return;
	memset(&r, 0, sizeof r);
	r.exitval = t->exitval;
	r.signal = t->signal;
	r.failed = t->failed;
	r.timed_out = t->timed_out;
	r.start = t->start_real;
	r.runtime = (double)(t->end_ns - t->start_ns) / 1e9;
	snprintf(r.host, sizeof r.host, "%s", n->host);
	if (slurm_dir_result_write(n->dir, n->seqs[t->seq - 1], &r, &t->out,
				   &t->err, err, sizeof err) < 0) {
		fprintf(stderr, "nicely: cannot record task %" PRIu64 ": %s\n",
			n->seqs[t->seq - 1], err);
		n->failed = 1;
	}
}

/* 0, or -EIO when a result could not be recorded. */
int slurm_node_status(const struct slurm_node *n)
{
	return n->failed ? -EIO : 0;
}

void slurm_node_free(struct slurm_node *n)
{
	if (!n)
		return;
	free(n->seqs);
	free(n->cmds);
	free(n->buf);
	free(n);
}
