/* sched/cli/slurm_cmd: sbatch, scancel, squeue and scontrol run as child
 * processes with their output captured, for slurm_submit.c (the loop of
 * the submitting `nicely run --on slurm`). Blocking; no threads. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched/cli/slurm_cmd.h"

/* Append what fd has to *buf. 0 more may come, 1 EOF, -errno. */
static int slurm_cmd_drain(int fd, char **buf, size_t *len)
{
	char chunk[4096];
	ssize_t r = read(fd, chunk, sizeof chunk);
	char *nb;

	if (r < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (r == 0)
		return 1;
	nb = realloc(*buf, *len + (size_t)r + 1);
	if (!nb)
		return -ENOMEM;
	memcpy(nb + *len, chunk, (size_t)r);
	*len += (size_t)r;
	nb[*len] = 0;
	*buf = nb;
	return 0;
}

/* Run argv with its output captured. */
int slurm_cmd_run(char *const *argv, char **out, char **errs)
{
	int po[2], pe[2], ex[2], st, e = 0;
	char *b[2] = { NULL, NULL };
	size_t l[2] = { 0, 0 };
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(pe, O_CLOEXEC) < 0) {
		e = -errno;
		close(po[0]);
		close(po[1]);
		return e;
	}
	if (pipe2(ex, O_CLOEXEC) < 0) {
		e = -errno;
		close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
		return e;
	}
	pid = fork();
	if (pid < 0) {
		e = -errno;
		close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
		close(ex[0]), close(ex[1]);
		return e;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		e = errno;
		if (write(ex[1], &e, sizeof e) < 0)
			_exit(127);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	close(ex[1]);
	struct pollfd pf[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
	int open_fds = 2;
	while (open_fds > 0) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (pf[i].fd < 0 || !pf[i].revents)
				continue;
			int r = slurm_cmd_drain(pf[i].fd, &b[i], &l[i]);
			if (r != 0) {
				close(pf[i].fd);
				pf[i].fd = -1;
				open_fds--;
			}
		}
	}
	if (read(ex[0], &e, sizeof e) != sizeof e)
		e = 0;
	close(ex[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (e) {
		free(b[0]);
		free(b[1]);
		return -e;
	}
	if (out)
		*out = b[0] ? b[0] : strdup("");
	else
		free(b[0]);
	if (errs)
		*errs = b[1] ? b[1] : strdup("");
	else
		free(b[1]);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* MaxArraySize from `scontrol show config`. */
long slurm_cmd_max_array(void)
{
	char *argv[] = { "scontrol", "show", "config", NULL };
	char *out = NULL, *p;
	long v = 1001;

	if (slurm_cmd_run(argv, &out, NULL) != 0) {
		free(out);
		return v;
	}
	p = strstr(out, "MaxArraySize");
	if (p && (p = strchr(p, '=')))
		v = strtol(p + 1, NULL, 10);
	free(out);
	return v > 0 ? v : 1001;
}

/* Cancel the jobs. */
int slurm_cmd_cancel(char *const *ids, size_t n, int pending_only)
{
	char *argv[4 + 64];
	size_t k = 0, done = 0;
	int rc = 0;

	while (done < n) {
		k = 0;
		argv[k++] = "scancel";
		argv[k++] = "--quiet";
		if (pending_only)
			argv[k++] = "--state=PENDING";
		while (done < n && k < 4 + 60)
			argv[k++] = ids[done++];
		argv[k] = NULL;
		int r = slurm_cmd_run(argv, NULL, NULL);
		if (r != 0 && !rc)
			rc = r < 0 ? r : -EIO;
	}
	return rc;
}

/* Whether a squeue state (%T) is one an element ends in. */
static int slurm_cmd_final(const char *st)
{
	static const char *const fin[] = { "COMPLETED", "CANCELLED", "FAILED",
		"TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE",
		"OUT_OF_MEMORY", "SPECIAL_EXIT", "REVOKED", NULL };

	for (size_t i = 0; fin[i]; i++)
		if (!strcmp(st, fin[i]))
			return 1;
	return 0;
}

/* Copy field f (up to '|' or the end) into dst. */
static const char *slurm_cmd_field(const char *f, const char *end, char *dst,
				   size_t len)
{
	const char *bar = memchr(f, '|', (size_t)(end - f));
	size_t l = (size_t)((bar ? bar : end) - f);

	if (l >= len)
		l = len - 1;
	memcpy(dst, f, l);
	dst[l] = 0;
	return bar ? bar + 1 : end;
}

/* The elements of the jobs squeue knows. */
long slurm_cmd_queue(char *const *ids, size_t n, struct slurm_cmd_elem **out)
{
	char uid[32], *text = NULL, *p;
	struct slurm_cmd_elem *v = NULL;
	size_t nv = 0, cap = 0;
	int r;

	*out = NULL;
	if (n == 0)
		return 0;
	/* by user, not by id: finished jobs leave the controller after
	 * MinJobAge and squeue --jobs then refuses the id */
	snprintf(uid, sizeof uid, "%u", (unsigned)getuid());
	char *argv[] = { "squeue", "-h", "-r", "-t", "all", "-o",
			 "%F|%K|%T|%N|%r", "-u", uid, NULL };
	r = slurm_cmd_run(argv, &text, NULL);
	if (r != 0) {
		free(text);
		return r < 0 ? r : -EIO;
	}
	for (p = text; *p;) {
		char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
		char job[32], idx[32];
		struct slurm_cmd_elem e;
		const char *f = p;
		size_t i;

		memset(&e, 0, sizeof e);
		f = slurm_cmd_field(f, end, job, sizeof job);
		f = slurm_cmd_field(f, end, idx, sizeof idx);
		f = slurm_cmd_field(f, end, e.state, sizeof e.state);
		f = slurm_cmd_field(f, end, e.node, sizeof e.node);
		slurm_cmd_field(f, end, e.reason, sizeof e.reason);
		p = nl ? nl + 1 : end;
		for (i = 0; i < n && strcmp(ids[i], job); i++)
			;
		if (i == n || !idx[0] || idx[0] < '0' || idx[0] > '9')
			continue;
		e.id = i;
		e.index = strtol(idx, NULL, 10);
		e.active = !slurm_cmd_final(e.state);
		e.pending = !strcmp(e.state, "PENDING");
		if (nv == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct slurm_cmd_elem *nvv = realloc(v, nc * sizeof *v);
			if (!nvv) {
				free(v);
				free(text);
				return -ENOMEM;
			}
			v = nvv;
			cap = nc;
		}
		v[nv++] = e;
	}
	free(text);
	*out = v;
	return (long)nv;
}

/* Hold or release the pending elements. */
int slurm_cmd_hold(char *const *ids, size_t n, int release)
{
	int rc = 0;

	/* one id at a time: scontrol stops at the first that has left */
	for (size_t i = 0; i < n; i++) {
		char *argv[] = { "scontrol", release ? "release" : "hold",
				 ids[i], NULL };
		char *errs = NULL;
		int r = slurm_cmd_run(argv, NULL, &errs);

		if (r != 0 && !(errs && (strstr(errs, "Invalid job id") ||
					 strstr(errs, "already finished") ||
					 strstr(errs, "completed"))))
			rc = r < 0 ? r : -EIO;
		free(errs);
	}
	return rc;
}

/* How many elements of the jobs are still in the queue. */
long slurm_cmd_alive(char *const *ids, size_t n)
{
	struct slurm_cmd_elem *v;
	long nv = slurm_cmd_queue(ids, n, &v), count = 0;

	if (nv < 0)
		return nv;
	for (long i = 0; i < nv; i++)
		count += v[i].active;
	free(v);
	return count;
}
