/* Tests for sched/joblog: the exact line format (GNU parallel's columns),
 * a write/read round trip, lines on disk before close, --resume and
 * --resume-failed sets, appending without a second header, a truncated
 * last line, garbage reported as file:line, write errors, and the bitmap
 * set at 10^6 entries. Temp files are removed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched/cli/joblog.h"
#include "tests/tap.h"

static char tmpdir[] = "/tmp/nicely-joblog-XXXXXX";
static char path[600];

/* The whole content of path (malloc'd), or NULL. */
static char *slurp(const char *p)
{
	FILE *f = fopen(p, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Write text to path, replacing it. */
static void spew(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		tap_bail("cannot write a fixture");
}

/* How many times needle occurs in hay. */
static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* The exact line for known entries, and the header. */
static void test_format(void)
{
	struct joblog_entry e = {
		.seq = 12, .start = 1700000000.1234, .runtime = 1.5,
		.send = 0, .receive = 42, .exitval = 3, .signal = 0,
		.command = "printf '%s\\n' a\nb\tc",
	};
	char *line;
	size_t len;

	is_int(joblog_format(&line, &len, &e), 0, "format");
	is_str(line,
	       "12\t:\t1700000000.123\t     1.500\t0\t42\t3\t0\t"
	       "printf '%s\\\\n' a\\nb\tc\n",
	       "GNU parallel's columns; \\n and \\\\ escaped in the command");
	is_int((long long)len, (long long)strlen(line), "length returned");
	free(line);
	e.host = "node7";
	e.runtime = 12345.6789;
	e.exitval = 0;
	e.signal = 9;
	e.command = NULL;
	is_int(joblog_format(&line, &len, &e), 0, "format 2");
	is_str(line, "12\tnode7\t1700000000.123\t 12345.679\t0\t42\t0\t9\t\n",
	       "host, signal, empty command");
	free(line);
	is_str(joblog_header(),
	       "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\t"
	       "Signal\tCommand\n", "header");
}

/* Open a joblog or stop: the rest of the file needs it. */
static struct joblog *must_open(const char *p, int append)
{
	struct joblog *jl;
	char err[512];

	if (joblog_open(&jl, p, append, err, sizeof err) != 0) {
		tap_diag("%s", err);
		tap_bail("cannot open the joblog under test");
	}
	return jl;
}

/* Write entries seq 1..5: 1,3 succeed, 2 exits 1, 4 killed by 15, 5 ok. */
static void write_five(struct joblog *jl)
{
	static const int ex[] = { 0, 1, 0, 0, 0 }, sg[] = { 0, 0, 0, 15, 0 };
	char err[256], cmd[64];

	for (int i = 0; i < 5; i++) {
		struct joblog_entry e = {
			.seq = (uint64_t)i + 1, .start = 1700000000.0 + i,
			.runtime = 0.25 * i, .receive = (uint64_t)i * 10,
			.exitval = ex[i], .signal = sg[i], .command = cmd,
		};

		snprintf(cmd, sizeof cmd, "task %d", i + 1);
		if (joblog_write(jl, &e, err, sizeof err) != 0)
			tap_diag("write failed: %s", err);
	}
}

/* Write, read back, resume sets, append without a second header. */
static void test_round_trip(void)
{
	struct joblog *jl;
	struct joblog_set *set;
	char err[512];
	char *text;
	int fields = 0, lines = 0;

	jl = must_open(path, 0);
	ok(jl != NULL, "open new");
	write_five(jl);
	text = slurp(path);
	ok(text && count_of(text, "\n") == 6,
	   "all lines on disk before close (flushed per line)");
	free(text);
	is_int(joblog_close(jl, err, sizeof err), 0, "close");

	/* parse it as a script would: 9 tab-separated fields per line */
	text = slurp(path);
	for (char *l = text, *nl; l && (nl = strchr(l, '\n')); l = nl + 1) {
		int tabs = 0;

		for (char *c = l; c < nl; c++)
			tabs += *c == '\t';
		fields += tabs == 8;
		lines++;
	}
	is_int(lines, 6, "header + 5 lines");
	is_int(fields, 6, "every line has 9 fields");
	ok(text && strstr(text, "2\t:\t1700000001.000\t     0.250\t0\t10\t1"
				"\t0\ttask 2\n"),
	   "line 2 as written");
	free(text);

	is_int(joblog_load(path, JOBLOG_RESUME, &set, err, sizeof err), 0,
	       "load for --resume");
	is_int(joblog_set_count(set), 5, "--resume skips all 5");
	is_int(joblog_set_max(set), 5, "max seq 5");
	ok(joblog_set_has(set, 2) && joblog_set_has(set, 4) &&
		   !joblog_set_has(set, 6) && !joblog_set_has(set, 0),
	   "membership");
	joblog_set_free(set);

	is_int(joblog_load(path, JOBLOG_RESUME_FAILED, &set, err, sizeof err),
	       0, "load for --resume-failed");
	is_int(joblog_set_count(set), 3, "--resume-failed skips 3");
	ok(joblog_set_has(set, 1) && !joblog_set_has(set, 2) &&
		   joblog_set_has(set, 3) && !joblog_set_has(set, 4) &&
		   joblog_set_has(set, 5),
	   "exit 1 and signal 15 rerun, the rest skipped");
	joblog_set_free(set);

	/* appending a successful rerun of seq 2: no second header */
	jl = must_open(path, 1);
	ok(jl != NULL, "open append");
	{
		struct joblog_entry e = { .seq = 2, .command = "task 2" };

		is_int(joblog_write(jl, &e, err, sizeof err), 0, "write rerun");
	}
	is_int(joblog_close(jl, err, sizeof err), 0, "close");
	text = slurp(path);
	is_int(text ? count_of(text, "Seq\tHost") : -1, 1,
	       "appending keeps one header");
	free(text);
	is_int(joblog_load(path, JOBLOG_RESUME_FAILED, &set, err, sizeof err),
	       0, "reload");
	ok(joblog_set_has(set, 2) && !joblog_set_has(set, 4),
	   "a seq that failed then succeeded is skipped");
	joblog_set_free(set);

	/* append to a new file writes the header */
	unlink(path);
	jl = must_open(path, 1);
	ok(jl != NULL, "append new");
	joblog_close(jl, err, sizeof err);
	text = slurp(path);
	is_str(text, joblog_header(), "a new file gets the header on append");
	free(text);
	/* truncating open rewrites */
	spew(path, "junk\n");
	jl = must_open(path, 0);
	ok(jl != NULL, "open truncate");
	joblog_close(jl, err, sizeof err);
	text = slurp(path);
	is_str(text, joblog_header(), "truncating open starts over");
	free(text);
}

/* A crash-cut last line: tolerated on load, trimmed on append. */
static void test_truncated(void)
{
	struct joblog_set *set;
	struct joblog *jl;
	char err[512];
	char *text;

	spew(path, "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\t"
		   "Signal\tCommand\n"
		   "1\t:\t1700000000.000\t     0.100\t0\t0\t0\t0\ta\n"
		   "7\t:\t17000");
	is_int(joblog_load(path, JOBLOG_RESUME, &set, err, sizeof err), 0,
	       "a truncated last line is tolerated");
	ok(set && joblog_set_has(set, 1) && !joblog_set_has(set, 7),
	   "the truncated task is not skipped");
	joblog_set_free(set);

	jl = must_open(path, 1);
	ok(jl != NULL, "append after a crash");
	{
		struct joblog_entry e = { .seq = 7, .command = "b" };

		joblog_write(jl, &e, err, sizeof err);
	}
	joblog_close(jl, err, sizeof err);
	text = slurp(path);
	ok(text && !strstr(text, "17000\n") && !strstr(text, "170007"),
	   "the partial line was cut before appending");
	free(text);
	is_int(joblog_load(path, JOBLOG_RESUME, &set, err, sizeof err), 0,
	       "the log parses after the append");
	ok(set && joblog_set_has(set, 7) && joblog_set_count(set) == 2,
	   "both tasks now recorded");
	joblog_set_free(set);

	/* no header at all, and a partial line only */
	spew(path, "3\t:\t1.0\t1.0\t0\t0\t0\t0\tx\n");
	is_int(joblog_load(path, JOBLOG_RESUME, &set, err, sizeof err), 0,
	       "a log without header parses");
	ok(set && joblog_set_has(set, 3), "its line counts");
	joblog_set_free(set);
	spew(path, "Seq\tHo");
	jl = must_open(path, 1);
	ok(jl != NULL, "append to a cut header");
	joblog_close(jl, err, sizeof err);
	text = slurp(path);
	is_str(text, joblog_header(), "a cut header is rewritten whole");
	free(text);
}

/* Malformed lines are errors naming file:line and the field. */
static void test_garbage(void)
{
	struct joblog_set *set = (struct joblog_set *)1;
	char err[512], want[700];
	static const struct {
		const char *text;
		int line;
		const char *field;
	} cases[] = {
		{ "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\t"
		  "Signal\tCommand\n1\t:\t1.0\t1.0\t0\t0\t0\t0\ta\n"
		  "hello world\n", 3, "Seq" },
		{ "1\t:\t1.0\t1.0\t0\t0\t0\t0\ta\n2\t:\tnow\t1.0\t0\t0\t0\t0\tb\n",
		  2, "Starttime" },
		{ "1\t:\t1.0\t1.0\t0\t0\tzero\t0\ta\n", 1, "Exitval" },
		{ "1\t:\t1.0\t1.0\t0\t0\t0\n", 1, "Signal" },
		{ "\n", 1, "Seq" },
		{ "99999999999999\t:\t1.0\t1.0\t0\t0\t0\t0\ta\n", 1, "Seq" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		spew(path, cases[i].text);
		err[0] = '\0';
		is_int(joblog_load(path, JOBLOG_RESUME, &set, err, sizeof err),
		       -EINVAL, "garbage #%zu is an error", i);
		ok(set == NULL, "no set on error");
		snprintf(want, sizeof want, "%s:%d:", path, cases[i].line);
		ok(strstr(err, want) != NULL && strstr(err, cases[i].field),
		   "names file:line and the field: %s", err);
	}
}

/* Missing joblog is empty; unopenable or unwritable ones are errors. */
static void test_missing_and_errors(void)
{
	struct joblog_set *set;
	struct joblog *jl = (struct joblog *)1;
	char err[512], nodir[700];

	unlink(path);
	is_int(joblog_load(path, JOBLOG_RESUME, &set, err, sizeof err), 0,
	       "a missing joblog is not an error");
	is_int(joblog_set_count(set), 0, "and skips nothing");
	joblog_set_free(set);

	snprintf(nodir, sizeof nodir, "%s/no/such/dir/log", tmpdir);
	ok(joblog_open(&jl, nodir, 0, err, sizeof err) == -ENOENT && !jl,
	   "unopenable joblog is an error");
	ok(strstr(err, nodir) != NULL, "naming it: %s", err);
	if (access("/dev/full", W_OK) == 0) {
		ok(joblog_open(&jl, "/dev/full", 0, err, sizeof err) == -ENOSPC,
		   "a full disk fails at the header");
		ok(strstr(err, "/dev/full") != NULL, "naming it: %s", err);
	} else {
		ok(1, "# SKIP no /dev/full");
		ok(1, "# SKIP no /dev/full");
	}
	is_int(joblog_load(tmpdir, JOBLOG_RESUME, &set, err, sizeof err),
	       -EISDIR, "a directory as joblog is an error");
	ok(strstr(err, tmpdir) != NULL, "naming it: %s", err);
}

/* The bitmap set at 10^6 seqs and at its limits. */
static void test_set(void)
{
	struct joblog_set *s = joblog_set_new();
	uint64_t bad = 0, n = 1000000;

	for (uint64_t i = 1; i <= n; i += 2)
		joblog_set_add(s, i);
	joblog_set_add(s, 999999);	/* duplicate */
	is_int(joblog_set_count(s), n / 2, "count of odd seqs to 10^6");
	is_int(joblog_set_max(s), 999999, "max");
	for (uint64_t i = 1; i <= n; i++)
		bad += joblog_set_has(s, i) != (int)(i & 1);
	is_int(bad, 0, "membership of every seq to 10^6");
	is_int(joblog_set_add(s, 0), -ERANGE, "seq 0 refused");
	is_int(joblog_set_add(s, JOBLOG_SEQ_MAX + 1), -ERANGE,
	       "seq beyond the max refused");
	is_int(joblog_set_add(s, JOBLOG_SEQ_MAX), 0, "the max seq is fine");
	ok(joblog_set_has(s, JOBLOG_SEQ_MAX) &&
		   !joblog_set_has(s, JOBLOG_SEQ_MAX - 1),
	   "and is found");
	ok(!joblog_set_has(NULL, 1), "a NULL set has nothing");
	joblog_set_free(s);
}

/* Run every group of tests in a fresh temp dir. */
int main(void)
{
	if (!mkdtemp(tmpdir))
		tap_bail("mkdtemp");
	snprintf(path, sizeof path, "%s/joblog", tmpdir);
	test_format();
	test_round_trip();
	test_truncated();
	test_garbage();
	test_missing_and_errors();
	test_set();
	unlink(path);
	rmdir(tmpdir);
	return tap_done();
}
