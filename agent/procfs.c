/* agent/procfs: strict parsers for /proc/stat, loadavg, pressure/cpu,
 * meminfo, PID/stat and the cgroup accounting files, plus the pread loop the
 * sampler uses on its kept fds. Called from the sampler on every tick and
 * from the fuzz target; no allocation except growing the caller's buffer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/procfs.h"

/* Record a parse failure and return -EBADMSG. */
static int procfs_fail(struct procfs_error *e, int line, const char *why)
{
	if (e) {
		e->line = line;
		e->why = why;
	}
	return -EBADMSG;
}

/* Skip blanks (spaces and tabs, not newlines). */
static const char *procfs_blank(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Parse an unsigned decimal at p; returns the end or NULL (no digit or
 * overflow). */
static const char *procfs_u64(const char *p, const char *end, uint64_t *v)
{
	uint64_t x = 0;
	const char *start = p;

	while (p < end && *p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');

		if (x > (UINT64_MAX - d) / 10)
			return NULL;
		x = x * 10 + d;
		p++;
	}
	if (p == start)
		return NULL;
	*v = x;
	return p;
}

/* Counters the parsers add up (clock ticks, kB) stay below this, so that
 * no sum of them wraps: 2^58 ticks at 100 Hz is 9e7 millennia. */
#define PROCFS_COUNTER_MAX (1ULL << 58)

/* Parse a counter that is later added to others: procfs_u64 below
 * PROCFS_COUNTER_MAX. */
static const char *procfs_counter(const char *p, const char *end, uint64_t *v)
{
	const char *q = procfs_u64(p, end, v);

	return q && *v < PROCFS_COUNTER_MAX ? q : NULL;
}

/* Parse a non-negative decimal fraction "12.34" (no exponent, no locale). */
static const char *procfs_decimal(const char *p, const char *end, double *v)
{
	uint64_t ip, fp = 0;
	double scale = 1;
	const char *q = procfs_u64(p, end, &ip);

	if (!q)
		return NULL;
	if (q < end && *q == '.') {
		q++;
		if (q >= end || *q < '0' || *q > '9')
			return NULL;
		while (q < end && *q >= '0' && *q <= '9') {
			if (scale < 1e15) {
				fp = fp * 10 + (uint64_t)(*q - '0');
				scale *= 10;
			}
			q++;
		}
	}
	*v = (double)ip + (double)fp / scale;
	return q;
}

/* End of the line starting at p (the '\n' or end). */
static const char *procfs_eol(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl : end;
}

/* The text must be non-empty and end with a newline, or it was cut short. */
static int procfs_complete(const char *buf, size_t len, struct procfs_error *e)
{
	int lines = 1;

	if (len == 0)
		return procfs_fail(e, 1, "empty file");
	if (buf[len - 1] != '\n') {
		for (size_t i = 0; i + 1 < len; i++)
			lines += buf[i] == '\n';
		return procfs_fail(e, lines, "truncated (no final newline)");
	}
	if (memchr(buf, 0, len))
		return procfs_fail(e, 1, "NUL byte in text");
	return 0;
}

/* Parse /proc/stat; see procfs.h. */
int procfs_parse_stat(const char *buf, size_t len, procfs_cpu_fn fn, void *ctx,
		      int *procs_running, struct procfs_error *e)
{
	const char *p = buf, *end = buf + len;
	int line = 0, have_total = 0, ncpu = 0, have_running = 0, rc;

	rc = procfs_complete(buf, len, e);
	if (rc < 0)
		return rc;
	while (p < end) {
		const char *eol = procfs_eol(p, end);

		line++;
		if (eol - p >= 3 && !memcmp(p, "cpu", 3)) {
			const char *q = p + 3;
			uint64_t f[10] = { 0 }, cpu = 0;
			int nf = 0, agg = 0;

			if (q < eol && (*q == ' ' || *q == '\t')) {
				agg = 1;
			} else {
				q = procfs_u64(q, eol, &cpu);
				if (!q || cpu > 1u << 20 || q >= eol || (*q != ' ' && *q != '\t'))
					return procfs_fail(e, line, "expected 'cpuN' and counters");
			}
			if (!agg && !have_total)
				return procfs_fail(e, line, "cpuN line before the aggregate 'cpu' line");
			for (;;) {
				q = procfs_blank(q, eol);
				if (q == eol)
					break;
				if (nf == 10)
					break; /* newer kernels may add fields */
				q = procfs_counter(q, eol, &f[nf]);
				if (!q || (q < eol && *q != ' ' && *q != '\t'))
					return procfs_fail(e, line, "counter is not a number (or too large)");
				nf++;
			}
			if (nf < 8)
				return procfs_fail(e, line, "fewer than 8 counters on a cpu line");
			if (agg) {
				if (have_total)
					return procfs_fail(e, line, "second aggregate 'cpu' line");
				have_total = 1;
			} else {
				uint64_t busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];

				rc = fn(ctx, (unsigned)cpu, busy, busy + f[3] + f[4]);
				if (rc < 0)
					return procfs_fail(e, line, "duplicate cpu line");
				ncpu++;
			}
		} else if (eol - p > 14 && !memcmp(p, "procs_running ", 14)) {
			uint64_t v;
			const char *q = procfs_u64(procfs_blank(p + 14, eol), eol, &v);

			if (!q || procfs_blank(q, eol) != eol || v > 1u << 30)
				return procfs_fail(e, line, "bad procs_running value");
			*procs_running = (int)v;
			have_running = 1;
		}
		p = eol + 1;
	}
	if (!have_total)
		return procfs_fail(e, 1, "no aggregate 'cpu' line");
	if (!ncpu)
		return procfs_fail(e, line, "no 'cpuN' line");
	if (!have_running)
		return procfs_fail(e, line, "no procs_running line (truncated?)");
	return 0;
}

/* Parse /proc/loadavg's three averages. */
int procfs_parse_loadavg(const char *buf, size_t len, double avg[3],
			 struct procfs_error *e)
{
	const char *p = buf, *end = buf + len;
	int rc = procfs_complete(buf, len, e);

	if (rc < 0)
		return rc;
	for (int i = 0; i < 3; i++) {
		p = procfs_decimal(procfs_blank(p, end), end, &avg[i]);
		if (!p || p >= end || (*p != ' ' && (i < 2 || *p != '\n')))
			return procfs_fail(e, 1, "expected three load averages");
	}
	return 0;
}

/* Parse the 'some' line of /proc/pressure/cpu. */
int procfs_parse_psi(const char *buf, size_t len, double *avg10,
		     uint64_t *total_us, struct procfs_error *e)
{
	const char *p = buf, *end = buf + len, *eol;
	int rc = procfs_complete(buf, len, e);

	if (rc < 0)
		return rc;
	eol = procfs_eol(p, end);
	if (eol - p < 5 || memcmp(p, "some ", 5))
		return procfs_fail(e, 1, "expected a 'some' line");
	int have_avg = 0, have_total = 0;

	p += 5;
	while (p < eol) {
		const char *q;

		p = procfs_blank(p, eol);
		if (p == eol)
			break;
		if (eol - p > 6 && !memcmp(p, "avg10=", 6)) {
			q = procfs_decimal(p + 6, eol, avg10);
			have_avg = 1;
		} else if (eol - p > 6 && !memcmp(p, "total=", 6)) {
			q = procfs_u64(p + 6, eol, total_us);
			have_total = 1;
		} else {
			q = p;
			while (q < eol && *q != ' ')
				q++;
		}
		if (!q || (q < eol && *q != ' '))
			return procfs_fail(e, 1, "bad value on the 'some' line");
		p = q;
	}
	if (!have_avg || !have_total)
		return procfs_fail(e, 1, "'some' line lacks avg10= or total=");
	return 0;
}

/* Parse MemTotal and MemAvailable (or its estimate) from /proc/meminfo. */
int procfs_parse_meminfo(const char *buf, size_t len, uint64_t *total_kb,
			 uint64_t *avail_kb, struct procfs_error *e)
{
	static const char *const keys[] = { "MemTotal:", "MemAvailable:",
					     "MemFree:", "Buffers:", "Cached:" };
	uint64_t val[5] = { 0 };
	int have[5] = { 0 }, line = 0, rc;
	const char *p = buf, *end = buf + len;

	rc = procfs_complete(buf, len, e);
	if (rc < 0)
		return rc;
	while (p < end) {
		const char *eol = procfs_eol(p, end);

		line++;
		for (int k = 0; k < 5; k++) {
			size_t kl = strlen(keys[k]);

			if ((size_t)(eol - p) > kl && !memcmp(p, keys[k], kl)) {
				const char *q = procfs_counter(procfs_blank(p + kl, eol), eol, &val[k]);

				if (!q)
					return procfs_fail(e, line, "value is not a number (or too large)");
				q = procfs_blank(q, eol);
				if (q != eol && !(eol - q == 2 && !memcmp(q, "kB", 2)))
					return procfs_fail(e, line, "value is not in kB");
				have[k] = 1;
				break;
			}
		}
		p = eol + 1;
	}
	if (!have[0])
		return procfs_fail(e, line, "no MemTotal line");
	*total_kb = val[0];
	if (have[1])
		*avail_kb = val[1];
	else if (have[2] && have[3] && have[4])
		*avail_kb = val[2] + val[3] + val[4];
	else
		return procfs_fail(e, line, "no MemAvailable (nor MemFree, Buffers, Cached)");
	return 0;
}

/* Parse utime+stime and processor from /proc/PID/stat. */
int procfs_parse_pid_stat(const char *buf, size_t len, uint64_t *ticks,
			  int *processor, struct procfs_error *e)
{
	const char *end = buf + len, *p = NULL;
	uint64_t ut = 0, st = 0, cpu = 0;
	int rc = procfs_complete(buf, len, e);

	if (rc < 0)
		return rc;
	/* The command name may hold spaces and parentheses: the fields
	 * start after the last ')'. */
	for (const char *q = end; q > buf; q--)
		if (q[-1] == ')') {
			p = q;
			break;
		}
	if (!p)
		return procfs_fail(e, 1, "no ')' after the command name");
	/* Fields after ')' are 3 (state) onwards: utime is 14, stime 15,
	 * processor 39. */
	for (int field = 3; field <= 39; field++) {
		const char *q;

		p = procfs_blank(p, end);
		if (p >= end || *p == '\n')
			return procfs_fail(e, 1, "fewer than 39 fields");
		if (field == 14 || field == 15 || field == 39) {
			uint64_t v;

			q = procfs_counter(p, end, &v);
			if (!q || (q < end && *q != ' ' && *q != '\n'))
				return procfs_fail(e, 1, "utime, stime or processor is not a number (or too large)");
			if (field == 14)
				ut = v;
			else if (field == 15)
				st = v;
			else
				cpu = v;
		} else {
			q = p;
			while (q < end && *q != ' ' && *q != '\n')
				q++;
		}
		p = q;
	}
	if (cpu > 1u << 20)
		return procfs_fail(e, 1, "processor out of range");
	*ticks = ut + st;
	*processor = (int)cpu;
	return 0;
}

/* Parse cpuacct.usage_percpu's per-CPU nanoseconds. */
int procfs_parse_percpu(const char *buf, size_t len, uint64_t *ns, size_t max,
			size_t *n, struct procfs_error *e)
{
	const char *p = buf, *end = buf + len;
	size_t k = 0;
	int rc = procfs_complete(buf, len, e);

	if (rc < 0)
		return rc;
	for (;;) {
		uint64_t v;

		p = procfs_blank(p, end);
		if (p < end && *p == '\n' && p + 1 == end)
			break;
		p = procfs_u64(p, end, &v);
		if (!p || (*p != ' ' && *p != '\n'))
			return procfs_fail(e, 1, "per-CPU usage is not a number");
		if (k < max)
			ns[k] = v;
		k++;
	}
	if (!k)
		return procfs_fail(e, 1, "no per-CPU usage");
	*n = k;
	return 0;
}

/* Parse usage_usec out of a cgroup v2 cpu.stat; see procfs.h. */
int procfs_parse_usage_usec(const char *buf, size_t len, uint64_t *usec,
			    struct procfs_error *e)
{
	static const char key[] = "usage_usec ";
	const char *p = buf, *end = buf + len;
	int line = 0, rc = procfs_complete(buf, len, e);

	if (rc < 0)
		return rc;
	while (p < end) {
		const char *eol = procfs_eol(p, end);

		line++;
		if ((size_t)(eol - p) > sizeof key - 1 &&
		    !memcmp(p, key, sizeof key - 1)) {
			const char *q = procfs_counter(p + sizeof key - 1, eol, usec);

			if (!q || q != eol)
				return procfs_fail(e, line, "usage_usec is not a number (or too large)");
			return 0;
		}
		p = eol + 1;
	}
	return procfs_fail(e, line, "no usage_usec line");
}

/* Parse a cgroup.procs list, one PID a line. */
int procfs_parse_pids(const char *buf, size_t len,
		      int (*fn)(void *ctx, int pid), void *ctx,
		      struct procfs_error *e)
{
	const char *p = buf, *end = buf + len;
	int line = 0;

	if (len == 0)
		return 0; /* an empty cgroup */
	if (buf[len - 1] != '\n')
		return procfs_fail(e, 1, "truncated (no final newline)");
	while (p < end) {
		const char *eol = procfs_eol(p, end);
		uint64_t v;
		const char *q = procfs_u64(p, eol, &v);

		line++;
		if (!q || q != eol || v == 0 || v > 1u << 30)
			return procfs_fail(e, line, "expected one PID per line");
		int rc = fn(ctx, (int)v);

		if (rc < 0)
			return rc;
		p = eol + 1;
	}
	return 0;
}

/* Read a whole kept file from offset 0, growing the buffer. */
long procfs_pread_all(int fd, char **buf, size_t *cap)
{
	size_t off = 0;

	if (!*buf || *cap < 64) {
		char *b = realloc(*buf, 4096);

		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = 4096;
	}
	for (;;) {
		size_t want = *cap - 1 - off;
		ssize_t n = pread(fd, *buf + off, want, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)n;
		if ((size_t)n < want)
			break;
		char *b = realloc(*buf, *cap * 2);

		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap *= 2;
	}
	(*buf)[off] = 0;
	return (long)off;
}
