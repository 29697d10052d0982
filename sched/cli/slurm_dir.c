/* sched/cli/slurm_dir: the batch directory on the shared filesystem that
 * carries `nicely run --on slurm` tasks to the nodes (chunk/E) and their
 * results back (res/SEQ). Called on the submitting side (slurm_submit.c)
 * and by the element runner on a node (slurm_node.c); no threads. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched/cli/slurm_dir.h"

#define SLURM_DIR_MAGIC "nicely-slurm-result 1"

/* Write all of p to fd. */
static int slurm_dir_write_all(int fd, const char *p, size_t n)
{
	return output_full_write(fd, p, n);
}

/* Copy a buffer to fd (output_each callback). */
static int slurm_dir_copy(void *ctx, const char *p, size_t n)
{
	return slurm_dir_write_all(*(int *)ctx, p, n);
}

/* Write the whole file path from tmp + rename. */
static int slurm_dir_publish(const char *tmp, const char *path, int fd,
			     char *err, size_t errlen)
{
	if (fsync(fd) < 0 && errno != EINVAL) {
		int e = errno;
		close(fd);
		unlink(tmp);
		snprintf(err, errlen, "%s: %s", tmp, strerror(e));
		return -e;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

/* Write element e's chunk. */
int slurm_dir_chunk_write(const char *dir, uint64_t e, const uint64_t *seqs,
			  char *const *cmds, size_t n, char *err,
			  size_t errlen)
{
	char path[4200], tmp[4200], num[32];
	int fd, rc = 0;

	snprintf(path, sizeof path, "%s/chunk/%" PRIu64, dir, e);
	snprintf(tmp, sizeof tmp, "%s/chunk/.%" PRIu64 ".tmp", dir, e);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -errno;
	}
	for (size_t i = 0; !rc && i < n; i++) {
		int l = snprintf(num, sizeof num, "%" PRIu64, seqs[i]);
		rc = slurm_dir_write_all(fd, num, (size_t)l + 1);
		if (!rc)
			rc = slurm_dir_write_all(fd, cmds[i],
						 strlen(cmds[i]) + 1);
	}
	if (rc) {
		close(fd);
		unlink(tmp);
		snprintf(err, errlen, "%s: %s", tmp, strerror(-rc));
		return rc;
	}
	return slurm_dir_publish(tmp, path, fd, err, errlen);
}

/* Read a whole file into a malloc'd buffer (NUL added). */
static int slurm_dir_slurp(const char *path, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t got = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, *buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	(*buf)[got] = 0;
	*len = got;
	return 0;
}

/* Read element e's chunk. */
int slurm_dir_chunk_read(const char *dir, uint64_t e, uint64_t **seqs,
			 char ***cmds, size_t *n, char **buf, char *err,
			 size_t errlen)
{
	char path[4200];
	size_t len = 0, cnt = 0, k = 0;
	int rc;

	snprintf(path, sizeof path, "%s/chunk/%" PRIu64, dir, e);
	rc = slurm_dir_slurp(path, buf, &len);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < len; i++)
		cnt += (*buf)[i] == 0;
	cnt /= 2;
	*seqs = calloc(cnt + 1, sizeof **seqs);
	*cmds = calloc(cnt + 1, sizeof **cmds);
	if (!*seqs || !*cmds) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t off = 0; k < cnt && off < len;) {
		char *s = *buf + off, *end;
		(*seqs)[k] = strtoull(s, &end, 10);
		if (*end || end == s) {
			snprintf(err, errlen, "%s: damaged record %zu", path,
				 k + 1);
			return -EINVAL;
		}
		off += strlen(s) + 1;
		(*cmds)[k++] = *buf + off;
		off += strlen(*buf + off) + 1;
	}
	*n = k;
	return 0;
}

/* Record task seq's result. */
int slurm_dir_result_write(const char *dir, uint64_t seq,
			   const struct slurm_result *r,
			   const struct output_buf *out,
			   const struct output_buf *errb, char *err,
			   size_t errlen)
{
	char path[4200], tmp[4200], head[512];
	int fd, rc, l;

	snprintf(path, sizeof path, "%s/res/%" PRIu64, dir, seq);
	snprintf(tmp, sizeof tmp, "%s/res/.%" PRIu64 ".%d.tmp", dir, seq,
		 (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -errno;
	}
	l = snprintf(head, sizeof head,
		     SLURM_DIR_MAGIC " %d %d %d %d %.6f %.6f %" PRIu64 " %"
		     PRIu64 " %s\n", r->exitval, r->signal, r->failed,
		     r->timed_out, r->start, r->runtime, output_kept(out),
		     output_kept(errb), r->host[0] ? r->host : ":");
	rc = slurm_dir_write_all(fd, head, (size_t)l);
	if (!rc)
		rc = output_each(out, slurm_dir_copy, &fd);
	if (!rc)
		rc = output_each(errb, slurm_dir_copy, &fd);
	if (rc) {
		close(fd);
		unlink(tmp);
		snprintf(err, errlen, "%s: %s", tmp, strerror(-rc));
		return rc;
	}
	return slurm_dir_publish(tmp, path, fd, err, errlen);
}

/* Append n bytes of fd to b (NULL: skip them). */
static int slurm_dir_read_into(FILE *f, struct output_buf *b, uint64_t n)
{
	char chunk[65536];

	while (n > 0) {
		size_t want = n < sizeof chunk ? (size_t)n : sizeof chunk;
		size_t got = fread(chunk, 1, want, f);
		if (got == 0)
			return -EIO;
		if (b && output_append(b, chunk, got) < 0)
			return -EIO;
		n -= got;
	}
	return 0;
}

/* Read task seq's result. */
int slurm_dir_result_read(const char *dir, uint64_t seq,
			  struct slurm_result *r, struct output_buf *out,
			  struct output_buf *errb, char *err, size_t errlen)
{
	char path[4200], head[512];
	unsigned long long no, ne;
	FILE *f;

	snprintf(path, sizeof path, "%s/res/%" PRIu64, dir, seq);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	memset(r, 0, sizeof *r);
	if (!fgets(head, sizeof head, f) ||
	    sscanf(head, SLURM_DIR_MAGIC " %d %d %d %d %lf %lf %llu %llu %63s",
		   &r->exitval, &r->signal, &r->failed, &r->timed_out,
		   &r->start, &r->runtime, &no, &ne, r->host) != 9 ||
	    slurm_dir_read_into(f, out, no) < 0 ||
	    slurm_dir_read_into(f, errb, ne) < 0) {
		fclose(f);
		snprintf(err, errlen, "%s: damaged result record", path);
		return -EINVAL;
	}
	fclose(f);
	return 1;
}

/* Whether task seq's result is there. */
int slurm_dir_result_exists(const char *dir, uint64_t seq)
{
	char path[4200];

	snprintf(path, sizeof path, "%s/res/%" PRIu64, dir, seq);
	return access(path, F_OK) == 0;
}

/* nftw callback: remove one entry. */
static int slurm_dir_rm1(const char *p, const struct stat *sb, int flag,
			 struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

/* Remove the batch directory. */
int slurm_dir_remove(const char *dir)
{
	return nftw(dir, slurm_dir_rm1, 16, FTW_DEPTH | FTW_PHYS) < 0 ? -errno
								     : 0;
}
