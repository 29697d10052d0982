/* sched/joblog: the --joblog file in GNU parallel's columns, written one
 * line per finished task with one write(2) each (a crash keeps what
 * finished), and read back for --resume / --resume-failed into a bitmap of
 * task numbers to skip. Called by the CLI's `run` loop in the parent. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/errmsg.h"
#include "sched/cli/joblog.h"

#define JOBLOG_HEADER \
	"Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"

/* Bits per page of the set: 65536 seqs in 8 KiB. */
#define JOBLOG_PAGE_BITS 16
#define JOBLOG_PAGE_WORDS ((1u << JOBLOG_PAGE_BITS) / 64)

struct joblog {
	int fd;
	int own_fd;
	char *path;
	int error;		/* first write error, as -errno */
};

struct joblog_set {
	uint64_t **pages;	/* NULL where no seq was added */
	size_t npages;
	uint64_t count, max;
};

/* The header line GNU parallel writes first. */
const char *joblog_header(void)
{
	return JOBLOG_HEADER;
}

/* Write all of buf to fd. Returns 0 or -errno. */
static int joblog_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Length of the command with "\n" and "\\" escaped. */
static size_t joblog_escaped_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += (*s == '\n' || *s == '\\') ? 2 : 1;
	return n;
}

/* One task as a joblog line, in one allocation. */
int joblog_format(char **line, size_t *len, const struct joblog_entry *e)
{
	static const char fmt[] = "%" PRIu64 "\t%s\t%.3f\t%10.3f\t%" PRIu64
				  "\t%" PRIu64 "\t%d\t%d\t";
	const char *cmd = e->command ? e->command : "";
	const char *host = e->host ? e->host : ":";
	int hl = snprintf(NULL, 0, fmt, e->seq, host, e->start, e->runtime,
			  e->send, e->receive, e->exitval, e->signal);
	char *p;

	if (hl < 0)
		return -EINVAL;
	p = malloc((size_t)hl + (e->gnu ? strlen(cmd) : joblog_escaped_len(cmd)) +
		   2);
	if (!p)
		return -ENOMEM;
	*line = p;
	snprintf(p, (size_t)hl + 1, fmt, e->seq, host, e->start, e->runtime,
		 e->send, e->receive, e->exitval, e->signal);
	p += hl;
	for (; *cmd; cmd++) {
		if (e->gnu) {	/* GNU: "Newlines make it hard to parse" */
			*p++ = *cmd == '\n' ? '\0' : *cmd;
		} else if (*cmd == '\n') {
			*p++ = '\\';
			*p++ = 'n';
		} else if (*cmd == '\\') {
			*p++ = '\\';
			*p++ = '\\';
		} else {
			*p++ = *cmd;
		}
	}
	*p++ = '\n';
	*p = '\0';
	*len = (size_t)(p - *line);
	return 0;
}

/* Cut a partial last line (a crash mid-write) off an existing joblog so
 * the next line starts clean. Returns the size kept, or -errno. */
static off_t joblog_cut_partial(int fd)
{
	struct stat st;
	char buf[4096];
	off_t end;

	if (fstat(fd, &st) != 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return 1;	/* a pipe or device: nothing to cut */
	end = st.st_size;
	while (end > 0) {
		size_t chunk = end > (off_t)sizeof buf ? sizeof buf : (size_t)end;
		ssize_t r = pread(fd, buf, chunk, end - (off_t)chunk);

		if (r != (ssize_t)chunk)
			return r < 0 ? -errno : -EIO;
		for (size_t i = chunk; i-- > 0;) {
			if (buf[i] == '\n') {
				off_t keep = end - (off_t)chunk + (off_t)i + 1;

				if (keep != st.st_size && ftruncate(fd, keep) != 0)
					return -errno;
				return keep;
			}
		}
		end -= (off_t)chunk;
	}
	if (st.st_size > 0 && ftruncate(fd, 0) != 0)
		return -errno;
	return 0;
}

/* Open (truncate or append to) the joblog and write the header if due. */
int joblog_open(struct joblog **out, const char *path, int append,
		char *err, size_t errlen)
{
	struct joblog *jl;
	off_t kept = 0;
	int r;

	*out = NULL;
	jl = calloc(1, sizeof *jl);
	if (!jl || !(jl->path = strdup(path))) {
		free(jl);
		errmsg_set(err, errlen, "out of memory opening joblog %s", path);
		return -ENOMEM;
	}
	if (!strcmp(path, "-")) {
		jl->fd = STDOUT_FILENO;
	} else {
		/* read-write on append: a partial last line is looked for.
		 * Never through a symlink (one planted in /tmp would make
		 * us overwrite the file it names), new files 0600; the
		 * file is truncated only once it is known to be ours. */
		struct stat st;
		jl->fd = open(path, O_CREAT | O_CLOEXEC | O_NOFOLLOW |
				    (append ? O_RDWR | O_APPEND : O_WRONLY),
			      0600);
		if (jl->fd < 0) {
			/* a symlink gives ELOOP, or EACCES in a sticky dir */
			r = -errno;
			errmsg_set(err, errlen, "cannot open joblog %s: %s",
				   path, r == -ELOOP ||
				   (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
				   ? "it is a symlink (not followed)"
				   : strerror(-r));
			goto fail;
		}
		jl->own_fd = 1;
		if (fstat(jl->fd, &st) < 0) {
			r = -errno;
			errmsg_set(err, errlen, "joblog %s: %s", path,
				   strerror(-r));
			goto fail;
		}
		if (S_ISREG(st.st_mode) && st.st_uid != geteuid()) {
			r = -EPERM;
			errmsg_set(err, errlen, "joblog %s is owned by another "
				   "user (uid %u); not writing to it", path,
				   (unsigned)st.st_uid);
			goto fail;
		}
		if (!append && S_ISREG(st.st_mode) && st.st_size > 0 &&
		    ftruncate(jl->fd, 0) < 0) {
			r = -errno;
			errmsg_set(err, errlen, "joblog %s: %s", path,
				   strerror(-r));
			goto fail;
		}
		if (append) {
			kept = joblog_cut_partial(jl->fd);
			if (kept < 0) {
				r = (int)kept;
				errmsg_set(err, errlen, "joblog %s: %s", path,
					   strerror(-r));
				goto fail;
			}
		}
	}
	if (kept == 0) {
		r = joblog_write_all(jl->fd, JOBLOG_HEADER,
				     sizeof JOBLOG_HEADER - 1);
		if (r < 0) {
			errmsg_set(err, errlen, "cannot write joblog %s: %s",
				   path, strerror(-r));
			goto fail;
		}
	}
	*out = jl;
	return 0;
fail:
	if (jl->own_fd)
		close(jl->fd);
	free(jl->path);
	free(jl);
	return r;
}

/* Write one task's line with one write(2), so it is on disk at once. */
int joblog_write(struct joblog *jl, const struct joblog_entry *e, char *err,
		 size_t errlen)
{
	char *line;
	size_t len;
	int r = joblog_format(&line, &len, e);

	if (r == 0) {
		r = joblog_write_all(jl->fd, line, len);
		free(line);
	}
	if (r < 0) {
		if (!jl->error)
			jl->error = r;
		errmsg_set(err, errlen, "cannot write joblog %s: %s", jl->path,
			   strerror(-r));
	}
	return r;
}

/* Close and free, reporting the first error seen. */
int joblog_close(struct joblog *jl, char *err, size_t errlen)
{
	int r;

	if (!jl)
		return 0;
	r = jl->error;
	if (jl->own_fd && close(jl->fd) != 0 && r == 0)
		r = -errno;
	if (r < 0)
		errmsg_set(err, errlen, "joblog %s: %s", jl->path,
			   strerror(-r));
	free(jl->path);
	free(jl);
	return r;
}

/* An empty set. */
struct joblog_set *joblog_set_new(void)
{
	return calloc(1, sizeof(struct joblog_set));
}

/* Free the set and its pages; NULL is fine. */
void joblog_set_free(struct joblog_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->npages; i++)
		free(s->pages[i]);
	free(s->pages);
	free(s);
}

/* Set seq's bit, allocating its page on first use. */
int joblog_set_add(struct joblog_set *s, uint64_t seq)
{
	uint64_t pg = seq >> JOBLOG_PAGE_BITS;
	uint64_t bit = seq & ((1u << JOBLOG_PAGE_BITS) - 1);
	uint64_t *w;

	if (seq == 0 || seq > JOBLOG_SEQ_MAX)
		return -ERANGE;

	if (pg >= s->npages) {
		size_t n = s->npages ? s->npages : 4;
		uint64_t **np;

		while (n <= pg)
			n *= 2;
		np = realloc(s->pages, n * sizeof *np);
		if (!np)
			return -ENOMEM;
		memset(np + s->npages, 0, (n - s->npages) * sizeof *np);
		s->pages = np;
		s->npages = n;
	}
	if (!s->pages[pg]) {
		s->pages[pg] = calloc(JOBLOG_PAGE_WORDS, sizeof(uint64_t));
		if (!s->pages[pg])
			return -ENOMEM;
	}
	w = &s->pages[pg][bit / 64];
	if (!(*w & (1ull << (bit % 64)))) {
		*w |= 1ull << (bit % 64);
		s->count++;
		if (seq > s->max)
			s->max = seq;
	}
	return 0;
}

/* Test seq's bit. */
int joblog_set_has(const struct joblog_set *s, uint64_t seq)
{
	uint64_t pg = seq >> JOBLOG_PAGE_BITS;
	uint64_t bit = seq & ((1u << JOBLOG_PAGE_BITS) - 1);

	if (!s || pg >= s->npages || !s->pages[pg])
		return 0;
	return (s->pages[pg][bit / 64] >> (bit % 64)) & 1;
}

/* Distinct seqs added. */
uint64_t joblog_set_count(const struct joblog_set *s)
{
	return s ? s->count : 0;
}

/* The largest seq added. */
uint64_t joblog_set_max(const struct joblog_set *s)
{
	return s ? s->max : 0;
}

/* Parse an unsigned decimal field ending at a tab; advances *p past it. */
static int joblog_field_u64(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	if (*s != '\t')
		return -1;
	*v = x;
	*p = s + 1;
	return 0;
}

/* Parse a signed decimal field ending at a tab. */
static int joblog_field_int(const char **p, long long *v)
{
	const char *s = *p;
	int neg = *s == '-';
	uint64_t x;

	if (neg)
		s++;
	if (joblog_field_u64(&s, &x) != 0 || x > INT32_MAX)
		return -1;
	*v = neg ? -(long long)x : (long long)x;
	*p = s;
	return 0;
}

/* Parse a decimal number with an optional fraction and leading blanks
 * (JobRuntime is padded to 10 columns), ending at a tab. */
static int joblog_field_num(const char **p)
{
	const char *s = *p;
	int digits = 0;

	while (*s == ' ')
		s++;
	if (*s == '-')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
		digits++;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			digits++;
	if (!digits || *s != '\t')
		return -1;
	*p = s + 1;
	return 0;
}

/* Parse one data line (without its "\n"): seq, exitval, signal. Returns
 * NULL or the name of the first bad field. */
static const char *joblog_parse_line(const char *s, uint64_t *seq,
				     long long *exitval, long long *sig)
{
	uint64_t u;

	if (joblog_field_u64(&s, seq) != 0 || *seq == 0 ||
	    *seq > JOBLOG_SEQ_MAX)
		return "Seq";
	if (*s == '\t' || !(s = strchr(s, '\t')))
		return "Host";
	s++;
	if (joblog_field_num(&s) != 0)
		return "Starttime";
	if (joblog_field_num(&s) != 0)
		return "JobRuntime";
	if (joblog_field_u64(&s, &u) != 0)
		return "Send";
	if (joblog_field_u64(&s, &u) != 0)
		return "Receive";
	if (joblog_field_int(&s, exitval) != 0)
		return "Exitval";
	if (joblog_field_int(&s, sig) != 0)
		return "Signal";
	return NULL;		/* the rest is the command, anything goes */
}

/* Read a joblog into the set of seqs to skip on resume. */
int joblog_load(const char *path, enum joblog_resume mode,
		struct joblog_set **skip, char *err, size_t errlen)
{
	struct joblog_set *set;
	char *line = NULL;
	size_t cap = 0;
	unsigned long long lineno = 0;
	ssize_t len;
	FILE *f;
	int r = 0;

	*skip = NULL;
	set = joblog_set_new();
	if (!set) {
		errmsg_set(err, errlen, "out of memory reading joblog %s", path);
		return -ENOMEM;
	}
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT) {	/* nothing ran yet */
			*skip = set;
			return 0;
		}
		r = -errno;
		errmsg_set(err, errlen, "cannot open joblog %s: %s", path,
			   strerror(-r));
		joblog_set_free(set);
		return r;
	}
	for (;;) {
		uint64_t seq;
		long long exitval, sig;
		const char *bad;

		errno = 0;
		len = getline(&line, &cap, f);
		if (len < 0) {
			if (ferror(f)) {
				r = errno ? -errno : -EIO;
				errmsg_set(err, errlen, "%s:%llu: read error: %s",
					   path, lineno + 1, strerror(-r));
			}
			break;
		}
		lineno++;
		if (len == 0 || line[len - 1] != '\n')
			break;	/* a truncated last line: that task reruns */
		line[len - 1] = '\0';
		if (!strncmp(line, JOBLOG_HEADER, (size_t)len - 1) &&
		    (size_t)len == sizeof JOBLOG_HEADER - 1)
			continue;	/* the header (again, if logs were joined) */
		bad = joblog_parse_line(line, &seq, &exitval, &sig);
		if (bad) {
			errmsg_set(err, errlen,
				   "%s:%llu: not a joblog line (bad %s field; "
				   "want Seq Host Starttime JobRuntime Send "
				   "Receive Exitval Signal Command, tab-separated)",
				   path, lineno, bad);
			r = -EINVAL;
			break;
		}
		if (mode == JOBLOG_RESUME || (exitval == 0 && sig == 0)) {
			r = joblog_set_add(set, seq);
			if (r < 0) {
				errmsg_set(err, errlen,
					   "out of memory reading joblog %s",
					   path);
				break;
			}
		}
	}
	free(line);
	fclose(f);
	if (r < 0) {
		joblog_set_free(set);
		return r;
	}
	*skip = set;
	return 0;
}
