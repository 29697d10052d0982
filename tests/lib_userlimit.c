/* libnicely and `nicely run` under one per-user [limits] max_pus = 1: a
 * pool started while a CLI batch holds the PU waits (one log line) and
 * runs after it, a CLI batch started while a pool holds it waits (one
 * line on stderr) until the pool is idle (its idle worker leaves, the
 * next tasks get a new one); their tasks never overlap
 * (from the joblog's and the tasks' own times); nothing is left behind. */
#include <fcntl.h>
#include <stdint.h>
#include <sys/time.h>

#include "tap.h"
#include "lib_util.h"

static char run_dir[128], lease_path[160], nicely_bin[512];
static int waits_logged, other_logs;
static char wait_line[512];

/* Count the pool's log lines: the per-user wait, and anything else. */
static void on_log(int level, int64_t id, pid_t pid, const char *msg, void *u)
{
	(void)u;
	(void)id;
	(void)pid;
	if (strstr(msg, "per-user limit: your other nicely batches hold")) {
		waits_logged++;
		snprintf(wait_line, sizeof wait_line, "%d %s", level, msg);
	} else if (level <= NICELY_LOG_WARNING) {
		other_logs++;
		tap_diag("log: %s", msg);
	}
}

/* Wall-clock seconds, as the joblog writes them. */
static double now_s(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* A task: sleep 150 ms, return its own start and end times. */
static int t_span(const void *arg, size_t len, nicely_out *out, void *st)
{
	double v[2];

	(void)arg;
	(void)len;
	(void)st;
	v[0] = now_s();
	lib_sleep_ms(150);
	v[1] = now_s();
	return nicely_out_write(out, v, sizeof v);
}

/* Start `nicely run -p nuclear --joblog JL TASK ::: 1 2 3` with stdout
 * and stderr to files; returns its PID. */
static pid_t start_cli(const char *jl, const char *outp, const char *errp)
{
	pid_t pid = fork();

	if (pid == 0) {
		int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (o < 0 || e < 0)
			_exit(126);
		dup2(o, 1);
		dup2(e, 2);
		execl(nicely_bin, "nicely", "run", "-p", "nuclear", "--joblog", jl,
		      "sleep 0.2; echo {}", ":::", "1", "2", "3", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* 1 once the lease file has an entry of pid (waits up to 5 s). */
static int wait_entry(pid_t pid)
{
	char pat[32], buf[4096];

	snprintf(pat, sizeof pat, "\n%d ", (int)pid);
	for (int i = 0; i < 500; i++) {
		int fd = open(lease_path, O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = 0;
		if (strstr(buf, pat))
			return 1;
		lib_sleep_ms(10);
	}
	return 0;
}

/* Read the joblog's [start, start + runtime] spans; returns how many. */
static int read_joblog(const char *jl, double span[][2], int max)
{
	FILE *f = fopen(jl, "r");
	char line[1024];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f) && n < max) {
		double s, r;

		if (sscanf(line, "%*d\t%*s\t%lf\t%lf", &s, &r) == 2) {
			span[n][0] = s;
			span[n][1] = s + r;
			n++;
		}
	}
	fclose(f);
	return n;
}

/* Pairs of spans of a and b that overlap by more than the joblog's 2 ms
 * resolution. */
static int overlaps(double a[][2], int na, double b[][2], int nb)
{
	int n = 0;

	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb; j++)
			if (a[i][0] < b[j][1] - 0.002 && b[j][0] < a[i][1] - 0.002) {
				tap_diag("overlap: [%.3f, %.3f] and [%.3f, %.3f]",
					 a[i][0], a[i][1], b[j][0], b[j][1]);
				n++;
			}
	return n;
}

/* The pool's tasks' spans. */
static int pool_spans(nicely_pool *pool, int64_t first, int n, double s[][2])
{
	int got = 0;

	for (int i = 0; i < n; i++) {
		const nicely_result *r = nicely_result_get(pool, first + i);

		if (r && r->status == NICELY_OK && r->len == 2 * sizeof(double)) {
			memcpy(s[got], r->data, 2 * sizeof(double));
			got++;
		}
	}
	return got;
}

/* Wait for the CLI; its exit status, or -1. */
static int wait_cli(pid_t pid)
{
	int ws;

	if (waitpid(pid, &ws, 0) != pid)
		return -1;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

/* Wait up to secs for the CLI, then kill it; its exit status, or -1. */
static int wait_cli_bounded(pid_t pid, int secs)
{
	int ws;

	for (int i = 0; i < secs * 100; i++) {
		pid_t r = waitpid(pid, &ws, WNOHANG);

		if (r == pid)
			return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
		lib_sleep_ms(10);
	}
	tap_diag("the CLI batch did not finish in %d s: killed", secs);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* The contents of a small file (static buffer). */
static const char *slurp(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

int main(void)
{
	char conf[160], jl[160], outp[160], errp[160], buf[256];
	double cli[8][2], mine[8][2];
	const char *b = getenv("NICELY_BUILD");
	nicely_options o;
	nicely_pool *pool;
	int64_t first = -1;
	pid_t cpid;

	lib_env_setup();
	snprintf(nicely_bin, sizeof nicely_bin, "%s/nicely", b && *b ? b : "build");
	if (access(nicely_bin, X_OK))
		tap_skip_all("no nicely binary (set NICELY_BUILD)");
	snprintf(run_dir, sizeof run_dir, "%s/run", lib_tmpdir);
	snprintf(lease_path, sizeof lease_path, "%s/pus.lease", run_dir);
	setenv("NICELY_RUNTIME_DIR", run_dir, 1);
	snprintf(conf, sizeof conf, "%s/etc/nicely", lib_tmpdir);
	mkdir(conf, 0755);
	snprintf(conf, sizeof conf, "%s/etc/nicely/nicely.conf", lib_tmpdir);
	FILE *f = fopen(conf, "w");

	if (!f || fputs("[limits]\nmax_pus = 1\n", f) < 0 || fclose(f))
		tap_bail("cannot write the system config");
	snprintf(jl, sizeof jl, "%s/jl", lib_tmpdir);
	snprintf(outp, sizeof outp, "%s/out", lib_tmpdir);
	snprintf(errp, sizeof errp, "%s/err", lib_tmpdir);

	/* 1: the CLI holds the PU, the pool waits for it */
	cpid = start_cli(jl, outp, errp);
	ok(wait_entry(cpid), "the CLI batch holds the PU in the lease file");
	lib_opts(&o, 1);
	o.on_log = on_log;
	is_int(nicely_pool_new(&pool, &o), 0, "a pool under the same limit");
	int rc = nicely_map(pool, t_span, "abc", 1, 3, 1, &first);

	ok(rc == 0 || rc == 3, "three tasks queued (%d)", rc);
	is_int(nicely_wait_all(pool), 0, "the pool finishes");
	int nm = pool_spans(pool, first, 3, mine);

	is_int(nm, 3, "every pool task succeeded");
	is_int(wait_cli(cpid), 0, "the CLI batch succeeded");
	ok(!strcmp(slurp(outp), "1\n2\n3\n"), "  with every result");
	int nc = read_joblog(jl, cli, 8);

	is_int(nc, 3, "  and its joblog");
	is_int(overlaps(cli, nc, mine, nm), 0,
	       "no pool task overlaps a CLI task (max_pus = 1 per user)");
	ok(mine[0][0] >= cli[nc > 0 ? nc - 1 : 0][1] - 0.002,
	   "the pool started after the CLI's last task ended");
	is_int(waits_logged, 1, "the pool said once that it waits");
	ok(strstr(wait_line, "nicely.conf:2") && wait_line[0] == '0' + NICELY_LOG_INFO,
	   "  at INFO, naming where the limit is set: %s", wait_line);

	/* 2: the pool holds the PU while it has work; the CLI waits, and
	 * runs once the pool is idle (its idle worker leaves) */
	waits_logged = 0;
	first = -1;
	nicely_map(pool, t_span, "defghi", 1, 6, 1, &first);
	nicely_wait(pool, first);	/* its worker holds the PU now */
	unlink(jl);
	cpid = start_cli(jl, outp, errp);
	ok(wait_entry(getpid()), "the pool holds the PU in the lease file");
	nicely_wait_all(pool);
	nm = pool_spans(pool, first, 6, mine);
	is_int(nm, 6, "every pool task succeeded");
	is_int(wait_cli_bounded(cpid, 20), 0,
	       "the CLI batch finishes while the idle pool is still there");
	nc = read_joblog(jl, cli, 8);
	is_int(nc, 3, "  its joblog has every task");
	ok(!strcmp(slurp(outp), "1\n2\n3\n"), "  and its output every result");
	is_int(overlaps(cli, nc, mine, nm), 0, "no CLI task overlaps a pool task");
	ok(nc > 0 && nm > 0 && cli[0][0] >= mine[nm - 1][1] - 0.002,
	   "the CLI started after the pool's last task ended");
	snprintf(buf, sizeof buf, "%s", slurp(errp));
	ok(strstr(buf, "per-user limit: your other nicely batches hold 1 of the "
		       "1 PUs") && strstr(buf, "this batch waits"),
	   "the CLI said it waits: %s", buf);
	ok(!strstr(strstr(buf, "waits") ? strstr(buf, "waits") + 5 : buf,
		   "per-user limit: your other"), "  once");

	/* 3: the idle pool takes a PU again for new tasks */
	first = -1;
	nicely_map(pool, t_span, "gh", 1, 2, 1, &first);
	is_int(nicely_wait_all(pool), 0, "the idle pool runs new tasks");
	is_int(pool_spans(pool, first, 2, mine), 2, "  both succeed");
	nicely_pool_free(pool);
	is_int(other_logs, 0, "no warning or error in the log");
	is_int(strstr(slurp(lease_path), "\nend\n") != NULL, 1,
	       "the lease file is valid at the end");
	int entries = 0;

	for (const char *s = slurp(lease_path); (s = strchr(s, '\n')); s++)
		entries += s[1] >= '0' && s[1] <= '9';
	is_int(entries, 0, "no entry left: the pool and the CLI gave theirs back");

	unlink(lease_path);
	unlink(jl);
	unlink(outp);
	unlink(errp);
	rmdir(run_dir);
	unlink(conf);
	snprintf(conf, sizeof conf, "%s/etc/nicely", lib_tmpdir);
	rmdir(conf);
	return tap_done();
}
