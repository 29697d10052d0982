/* sched/cli_run: `nicely run`, GNU parallel's command line on top of the
 * batch engine (sched/cli/run.c): parses the options and the ::: / :::: / -a
 * inputs, loads config, preset, topology and sampler once, wires the joblog,
 * --resume and the progress bar into the engine's hooks, and turns the
 * result into the exit status. Called from main_nicely.c. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/sampler.h"
#include "agent/topology.h"
#include "policy/config.h"
#include "sched/cli/cli.h"
#include "sched/cli/cli_submit.h"
#include "sched/cli/input.h"
#include "sched/cli/input_shape.h"
#include "sched/cli/pipe.h"
#include "sched/cli/joblog.h"
#include "sched/cli/output.h"
#include "sched/cli/insights.h"
#include "sched/progress.h"
#include "sched/cli/run.h"
#include "sched/cli/run_emit.h"
#include "sched/cli/run_store.h"
#include "sched/rundir.h"
#include "sched/cli/slurm_node.h"
#include "sched/cli/slurm_submit.h"
#include "sched/cli/template.h"
#include "sched/cli/usershell.h"

#define CLI_RUN_USAGE_EXIT 255
/* -X / -m: the longest command line, as GNU parallel 20221122 computes it
 * on Linux ((130329 - 3000) / 2) */
#define CLI_RUN_MAX_LINE 63664
#define CLI_RUN_SHAPED_INPUTS ((size_t)1 << 20)

static const char cli_run_help[] =
"usage: nicely run [OPTIONS] [--] [COMMAND [ARG...]] [::: VALUES...] [:::: FILES...]\n"
"\n"
"Run COMMAND once per input value on the CPUs others leave idle, at a low\n"
"priority, and print each task's output whole, in submission order.\n"
"Values come from ::: groups, :::: files, -a files (several make the cross\n"
"product), else from standard input, one per line. Without COMMAND each\n"
"value is a whole command line.\n"
"\n"
"Replacement strings: {} value, {.} without extension, {/} basename,\n"
"{//} dirname, {/.} basename without extension, {#} task number,\n"
"{%} slot number, {1} {2} ... value of the n-th input. Without any, the\n"
"values are appended. Values are quoted: each reaches the task as one word\n"
"(none is when a replacement string is in the command word, as {} alone:\n"
"then the value runs as a command). Commands run under the user's shell as\n"
"in GNU parallel: $PARALLEL_SHELL, the shell nicely was started from, $SHELL.\n"
"\n"
"options:\n"
"  -p, --preset NAME     generous, normal (default), aggressive, extreme,\n"
"                        nuclear, or one from the config files\n"
"  -j, --jobs N          at most N tasks at once (on top of the preset); N%\n"
"                        or +N/-N: relative to the PUs the batch may use\n"
"      --nice N          run tasks at nice N (0-19) instead of the preset's\n"
"  -k, --keep-order      output in submission order (nicely's default)\n"
"      --group           output each task whole as soon as it finishes (GNU\n"
"                        parallel's default; also --unordered)\n"
"  -u, --ungroup         output as it comes, tasks' lines mixed\n"
"      --line-buffer     output whole lines as soon as they are printed\n"
"      --tag             prefix each output line with the values and a tab\n"
"      --joblog [+]FILE  log each finished task (GNU parallel's columns), in\n"
"                        output order; +FILE appends\n"
"      --resume          with --joblog: skip tasks already in the log\n"
"      --resume-failed   with --joblog: skip tasks that succeeded\n"
"      --retries N       run a failing task up to N times in all\n"
"      --timeout SECONDS kill a task's whole tree after SECONDS (TERM, 1 s,\n"
"                        KILL; at least 0.001); it counts as failed\n"
"      --halt WHEN,WHAT=N  WHEN: now (kill running tasks) or soon (let them\n"
"                        finish); WHAT: fail, success or done; N a count or\n"
"                        a percentage (fail=10%); also 'never' and GNU's\n"
"                        0, 1, 2, -1, -2, N%\n"
"      --bar             progress bar with ETA on stderr (a terminal)\n"
"      --insights        at the end, on stderr: run time in all, a task's\n"
"                        mean, how busy the task slots were, the longest\n"
"                        tasks\n"
"      --results DIR     write output to DIR/1/VALUE.../{seq,stdout,stderr,\n"
"                        exitval} (GNU's layout, 0600) instead of printing\n"
"      --dry-run, --dryrun  print the commands, run nothing\n"
"      --json            one JSON object per finished task instead of output\n"
"  -a, --arg-file FILE   read values from FILE (may be repeated)\n"
"  -C, --colsep REGEX    split each value into columns {1} {2} ... at REGEX\n"
"                        (POSIX extended, with Perl's \\t \\s \\d \\w);\n"
"                        columns trimmed of blanks; one input source\n"
"  -N N                  N values per command ({1}..{N}; missing ones are\n"
"                        empty; a word holding {} repeats per value); -N 0\n"
"                        reads one value and inserts none\n"
"  -n, --max-args N      as -N, a word holding {} not repeated\n"
"  -X                    as many values per command as fit in 63664 bytes,\n"
"                        a word holding {} repeated per value; a short\n"
"                        input is spread over the -j slots (GNU's -X)\n"
"  -m                    the same, {} replaced by all the values\n"
"      --pipe            cut standard input into chunks at line ends (or\n"
"                        --recend/--recstart), each on one task's stdin;\n"
"                        chunks wait in files in $TMPDIR, not in memory\n"
"      --block SIZE      chunk size for --pipe (default 1M; K M G binary,\n"
"                        k m g decimal)\n"
"      --recend S, --recstart S  where --pipe's records end and start\n"
"      --env VAR         accepted for GNU parallel's command lines: tasks\n"
"                        run here and inherit every exported variable\n"
"  {= perl =}            not supported (out of scope): refused\n"
"      --on slurm        run the batch as Slurm job arrays (see [slurm] in\n"
"                        nicely.conf(5)); -j N: at most N elements at once\n"
"      --slurm-opt 'OPTIONS'  more sbatch options, split at blanks\n"
"      --slurm-chunk N   tasks per array element (default: automatic)\n"
"  -h, --help            this help\n"
"\n"
"Exit status: 0 when every task succeeded, else the number of failed tasks\n"
"up to 100, 101 for more; after --halt, GNU parallel's (the failed task's\n"
"status for fail=1, the percentage failed for N%); 255 for a usage or config\n"
"error (nothing runs) or when interrupted by a signal.\n"
"\n"
"Differences from GNU parallel (nicely(1) has them all): output is in\n"
"submission order by default (--group for GNU's); -j is an upper bound, the\n"
"preset decides how many run on idle PUs; --results also writes exitval;\n"
"{= perl =}, remote hosts, semaphores and csh/fish shells are not supported\n"
"(csh and fish users' commands run under /bin/sh).\n"
"Config: /etc/nicely/nicely.conf, ~/.config/nicely/nicely.conf, $NICELY_CONFIG.\n";

enum {
	OPT_NICE = 256, OPT_LINE_BUFFER, OPT_TAG, OPT_JOBLOG, OPT_RESUME,
	OPT_RESUME_FAILED, OPT_RETRIES, OPT_TIMEOUT, OPT_HALT, OPT_BAR,
	OPT_INSIGHTS,
	OPT_RESULTS, OPT_DRY_RUN, OPT_JSON, OPT_ON, OPT_SLURM_OPT,
	OPT_SLURM_CHUNK, OPT_SLURM_ELEMENT, OPT_NAME, OPT_STORE,
	OPT_STORE_RESUME,
	/* GNU parallel's forms and output modes (issue 18) */
	OPT_GROUP, OPT_UNORDERED,
	/* GNU parallel's multi-value options (issue 18) */
	OPT_PIPE, OPT_BLOCK, OPT_RECSTART, OPT_RECEND, OPT_ENV,
};

/* "run", or "submit" while `nicely submit` checks its command line. */
static const char *cli_run_cmd = "run";

static const struct option cli_run_options[] = {
	{ "preset", required_argument, NULL, 'p' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "nice", required_argument, NULL, OPT_NICE },
	{ "keep-order", no_argument, NULL, 'k' },
	{ "ungroup", no_argument, NULL, 'u' },
	{ "group", no_argument, NULL, OPT_GROUP },
	{ "unordered", no_argument, NULL, OPT_UNORDERED },
	{ "line-buffer", no_argument, NULL, OPT_LINE_BUFFER },
	{ "tag", no_argument, NULL, OPT_TAG },
	{ "joblog", required_argument, NULL, OPT_JOBLOG },
	{ "resume", no_argument, NULL, OPT_RESUME },
	{ "resume-failed", no_argument, NULL, OPT_RESUME_FAILED },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "halt", required_argument, NULL, OPT_HALT },
	{ "bar", no_argument, NULL, OPT_BAR },
	{ "insights", no_argument, NULL, OPT_INSIGHTS },
	{ "results", required_argument, NULL, OPT_RESULTS },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "dryrun", no_argument, NULL, OPT_DRY_RUN },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "arg-file", required_argument, NULL, 'a' },
	{ "on", required_argument, NULL, OPT_ON },
	{ "slurm-opt", required_argument, NULL, OPT_SLURM_OPT },
	{ "slurm-chunk", required_argument, NULL, OPT_SLURM_CHUNK },
	/* hidden: one array element on its node (sched/cli/slurm_node.c) */
	{ "slurm-element", required_argument, NULL, OPT_SLURM_ELEMENT },
	/* nicely submit's; hidden: the supervisor of a detached batch in
	 * its store directory (sched/cli/cli_submit.c), --resume of it */
	{ "name", required_argument, NULL, OPT_NAME },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "store-resume", no_argument, NULL, OPT_STORE_RESUME },
	{ "colsep", required_argument, NULL, 'C' },
	{ "max-replace-args", required_argument, NULL, 'N' },
	{ "max-args", required_argument, NULL, 'n' },
	{ "pipe", no_argument, NULL, OPT_PIPE },
	{ "spreadstdin", no_argument, NULL, OPT_PIPE },
	{ "block", required_argument, NULL, OPT_BLOCK },
	{ "block-size", required_argument, NULL, OPT_BLOCK },
	{ "recstart", required_argument, NULL, OPT_RECSTART },
	{ "recend", required_argument, NULL, OPT_RECEND },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Everything `nicely run` was asked, after parsing. */
struct cli_run_args {
	struct policy_flags flags;
	struct run_opts ro;
	const char *joblog_path;
	int joblog_append;	/* --joblog +FILE */
	const char *jobs_spec;	/* -j N%, +N, -N: resolved on the topology */
	int resume, resume_failed, bar, dry_run, insights;
	char **cmd;
	int ncmd;
	struct input_source *src;
	size_t nsrc;
	/* --on slurm (sched/cli/slurm_submit.c) */
	int on_slurm;
	const char *slurm_opt;
	long slurm_chunk;
	const char *slurm_element;	/* the batch directory, on a node */
	/* nicely submit: --name; the supervisor's store directory */
	const char *name;
	const char *store_dir;
	int store_resume;
	/* --colsep, -N, -X, -m, --pipe (sched/cli/input_shape.c) */
	struct input_shape shape;
	int shaped, multi_x, multi_m, block_set, max_args_n;
};

/* What the hooks need while the batch runs. */
struct cli_run_ctx {
	struct joblog *jl;
	const char *joblog_path;
	int joblog_broken;
	struct joblog_set *skip;
	struct progress *bar;
	struct cli_insights *ins;	/* --insights */
	double t0;
	/* for a reset: the flags to resolve the preset with again, and the
	 * preset the engine reads */
	const struct policy_flags *flags;
	struct policy_preset *preset;
	struct policy_user_limit *ulimit;	/* [limits] max_pus per user */
	char ulimit_file[PATH_MAX];	/* its origin's file after a reset */
	/* --on slurm: the node the task being logged ran on (NULL: here);
	 * on a node, the element whose results to record */
	const char *host;
	struct slurm_node *node;
	/* the supervisor of a detached batch: its store sink */
	struct run_store *store;
	/* --pipe: the directory of the chunk files ("" none) */
	char spool[4096];
	int pipe;
};

/* A usage error: message naming the problem, and the exit status. */
__attribute__((format(printf, 1, 2))) static int cli_run_usage(const char *fmt,
							       ...)
{
	va_list ap;

	fprintf(stderr, "nicely %s: ", cli_run_cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(try 'nicely %s --help')\n", cli_run_cmd);
	return CLI_RUN_USAGE_EXIT;
}

/* Parse a whole non-negative integer no larger than max. */
static int cli_run_int(const char *s, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Monotonic seconds. */
static double cli_run_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 when a -j value is one of GNU's relative forms: +N, -N, N% (N may
 * have decimals with %). */
static int cli_run_jobs_form(const char *s)
{
	size_t n = strlen(s);

	if ((s[0] == '+' || s[0] == '-') && n > 1)
		return strspn(s + 1, "0123456789") == n - 1;
	return n > 1 && s[n - 1] == '%' && s[0] >= '0' && s[0] <= '9';
}

/* -j +N / -N / N% on `cpus` CPU threads, as GNU parallel: rounded up, at
 * least 1. Returns the number of jobs or -1 when s is not such a form. */
static int cli_run_jobs_resolve(const char *s, int cpus)
{
	char *end;
	double v;

	const char *num = s[0] == '+' || s[0] == '-' ? s + 1 : s;

	errno = 0;
	v = strtod(num, &end);
	if (errno || end == num || !(v >= 0) || v > 1e6)
		return -1;
	if (num != s) {
		if (*end)
			return -1;
		v = s[0] == '-' ? cpus - v : cpus + v;
	} else {
		if (strcmp(end, "%"))
			return -1;
		v = cpus * v / 100.0;
	}
	v = ceil(v);
	return v < 1 ? 1 : v > 1000000 ? 1000000 : (int)v;
}

/* Parse --halt: never | now|soon,fail|success|done=N[%] | a bare number. */
static int cli_run_halt(const char *s, struct run_opts *ro)
{
	const char *comma = strchr(s, ',');
	const char *what, *eq;
	char *end;
	size_t wl;

	if (!strcmp(s, "never") || !strcmp(s, "0")) {
		ro->halt_when = RUN_HALT_NEVER;
		return 0;
	}
	/* GNU parallel's short forms: 1 = soon,fail=1  2 = now,fail=1
	 * -1 = soon,success=1  -2 = now,success=1  N% = soon,fail=N% */
	if (!strcmp(s, "1") || !strcmp(s, "2") || !strcmp(s, "-1") ||
	    !strcmp(s, "-2")) {
		ro->halt_when = s[strlen(s) - 1] == '1' ? RUN_HALT_SOON
							: RUN_HALT_NOW;
		ro->halt_what = s[0] == '-' ? RUN_HALT_SUCCESS : RUN_HALT_FAIL;
		ro->halt_n = 1;
		ro->halt_pct = 0;
		return 0;
	}
	if (s[0] >= '0' && s[0] <= '9' && s[strlen(s) - 1] == '%') {
		char form[64];

		if (snprintf(form, sizeof form, "soon,fail=%s", s) >=
		    (int)sizeof form)
			return -1;
		return cli_run_halt(form, ro);
	}
	if (!comma)
		return -1;
	if (!strncmp(s, "now", (size_t)(comma - s)) && comma - s == 3)
		ro->halt_when = RUN_HALT_NOW;
	else if (!strncmp(s, "soon", (size_t)(comma - s)) && comma - s == 4)
		ro->halt_when = RUN_HALT_SOON;
	else
		return -1;
	what = comma + 1;
	eq = strchr(what, '=');
	if (!eq)
		return -1;
	wl = (size_t)(eq - what);
	if (wl == 4 && !strncmp(what, "fail", 4))
		ro->halt_what = RUN_HALT_FAIL;
	else if (wl == 7 && !strncmp(what, "success", 7))
		ro->halt_what = RUN_HALT_SUCCESS;
	else if (wl == 4 && !strncmp(what, "done", 4))
		ro->halt_what = RUN_HALT_DONE;
	else
		return -1;
	errno = 0;
	ro->halt_n = strtod(eq + 1, &end);
	if (errno || end == eq + 1 || !(ro->halt_n > 0))
		return -1;
	ro->halt_pct = *end == '%';
	if (ro->halt_pct)
		end++;
	if (*end || (ro->halt_pct && ro->halt_n > 100) ||
	    (!ro->halt_pct && ro->halt_n != floor(ro->halt_n)))
		return -1;
	return 0;
}

/* Check how --colsep, -N, -X, -m and --pipe combine. Returns -1 to go on,
 * else the exit status. */
static int cli_run_parse_shape(struct cli_run_args *a)
{
	struct input_shape *sh = &a->shape;

	if ((sh->recstart || sh->recend || a->block_set) && !sh->pipe)
		return cli_run_usage("--block, --recstart and --recend go with "
				     "--pipe");
	if (sh->pipe) {
		if (sh->colsep || a->multi_x || a->multi_m ||
		    sh->max_args >= 0)
			return cli_run_usage("--pipe does not go with --colsep, "
					     "-N, -n, -X or -m here (GNU's --pipe "
					     "-N counts records: not "
					     "supported)");
		if (a->nsrc != 1 || a->src[0].kind == INPUT_ARGS)
			return cli_run_usage("--pipe reads standard input (or "
					     "one -a FILE), not ::: values");
		if (a->ncmd == 0)
			return cli_run_usage("--pipe needs a COMMAND to read "
					     "the chunks");
		if (a->on_slurm)
			return cli_run_usage("--pipe does not work with --on "
					     "slurm");
		if (!sh->block)
			sh->block = 1024 * 1024;	/* GNU's 1M */
		a->src[0].raw = 1;
	}
	if (sh->colsep && a->nsrc > 1)
		return cli_run_usage("--colsep with several input sources: GNU "
				     "parallel links their columns, nicely "
				     "would cross them; give one source");
	if (a->multi_x && a->multi_m)
		return cli_run_usage("-X and -m exclude each other");
	sh->fill = a->multi_x || a->multi_m;
	return -1;
}

/* Parse options and split COMMAND from the ::: / :::: groups. Returns -1
 * to go on, else an exit status (help: 0, usage error: 255). */
static int cli_run_parse(int argc, char **argv, struct cli_run_args *a)
{
	long v;
	int c, e, nfiles = 0;
	char *end, errbuf[512];

	a->src = calloc((size_t)argc + 1, sizeof *a->src);
	if (!a->src)
		return cli_run_usage("out of memory");
	a->shape = (struct input_shape)INPUT_SHAPE_INIT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:p:j:kua:hC:N:n:Xm", cli_run_options,
				NULL)) != -1) {
		switch (c) {
		case 'C':
			if (input_colsep_check(optarg, errbuf, sizeof errbuf))
				return cli_run_usage("%s", errbuf);
			a->shape.colsep = optarg;
			a->shaped = 1;
			break;
		case 'N':
		case 'n':	/* -n: the same without context replacement */
			if (cli_run_int(optarg, 100000000, &v) < 0)
				return cli_run_usage("-%c: '%s' is not a number "
						     "of values per command (0 "
						     "or more)", c, optarg);
			a->shape.max_args = v;
			a->shaped = 1;
			a->max_args_n = c == 'n';
			break;
		case 'X':
			a->multi_x = a->shaped = 1;
			break;
		case 'm':
			a->multi_m = a->shaped = 1;
			break;
		case OPT_PIPE:
			a->shape.pipe = a->shaped = 1;
			break;
		case OPT_BLOCK:
			if (pipe_parse_size(optarg, &a->shape.block) < 0)
				return cli_run_usage("--block: '%s' is not a size "
						     "(1 byte to 1G; K M G binary, "
						     "k m g decimal)", optarg);
			a->block_set = 1;
			break;
		case OPT_RECSTART:
			a->shape.recstart = optarg;
			break;
		case OPT_RECEND:
			a->shape.recend = optarg;
			break;
		case OPT_ENV:
			/* a local task inherits every exported variable:
			 * nothing to copy (GNU's --env is for remote runs) */
			if (!strcmp(optarg, "_"))
				return cli_run_usage("--env _ needs GNU parallel's "
						     "--record-env; nicely runs "
						     "tasks here, with your "
						     "exported environment");
			if (!*optarg || strchr(optarg, '='))
				return cli_run_usage("--env: '%s' is not a "
						     "variable name", optarg);
			break;
		case 'p':
			a->flags.preset = optarg;
			break;
		case 'j':
			if (cli_run_jobs_form(optarg)) {
				a->jobs_spec = optarg;	/* after topology */
				break;
			}
			if (cli_run_int(optarg, 1000000, &v) < 0)
				return cli_run_usage("--jobs: '%s' is not a "
						     "number of tasks (0-1000000), "
						     "+N, -N or N%%", optarg);
			a->jobs_spec = NULL;
			a->flags.jobs = (int)v;
			a->ro.jobs = (int)v;
			break;
		case OPT_NICE:
			if (cli_run_int(optarg, 19, &v) < 0)
				return cli_run_usage("--nice: '%s' is not a "
						     "nice value (0-19)",
						     optarg);
			a->flags.nice = (int)v;
			break;
		case 'k':
			a->ro.unordered = a->ro.ungroup = 0;
			a->ro.line_buffer = 0;
			break;
		case 'u':	/* GNU's --ungroup: raw, as it comes */
			a->ro.ungroup = a->ro.line_buffer = 1;
			break;
		case OPT_GROUP:	/* GNU's default: whole, as tasks finish */
		case OPT_UNORDERED:
			a->ro.unordered = 1;
			a->ro.ungroup = a->ro.line_buffer = 0;
			break;
		case OPT_LINE_BUFFER:
			a->ro.line_buffer = 1;
			a->ro.ungroup = 0;
			break;
		case OPT_TAG:
			a->ro.tag = 1;
			break;
		case OPT_JOBLOG:	/* +FILE: append, as GNU's */
			a->joblog_append = optarg[0] == '+' && optarg[1];
			a->joblog_path = optarg + a->joblog_append;
			break;
		case OPT_RESUME:
			a->resume = 1;
			break;
		case OPT_RESUME_FAILED:
			a->resume_failed = 1;
			break;
		case OPT_RETRIES:
			if (cli_run_int(optarg, 1000000, &v) < 0)
				return cli_run_usage("--retries: '%s' is not a "
						     "number of attempts",
						     optarg);
			a->ro.retries = v > 0 ? (int)v : 1;
			break;
		case OPT_TIMEOUT: {
			errno = 0;
			double s = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(s > 0) ||
			    s > 1e9)
				return cli_run_usage("--timeout: '%s' is not a "
						     "number of seconds > 0",
						     optarg);
			/* a timeout that would round to none is refused */
			if (s < 0.001)
				return cli_run_usage("--timeout: '%s' is below "
						     "the smallest timeout, "
						     "0.001 s", optarg);
			a->ro.timeout_ns = (uint64_t)(s * 1e9);
			break;
		}
		case OPT_HALT:
			if (cli_run_halt(optarg, &a->ro) < 0)
				return cli_run_usage(
					"--halt: '%s' is not never, now|soon,"
					"fail|success|done=N or N%%, or one of "
					"GNU's -2, -1, 0, 1, 2, N%%", optarg);
			break;
		case OPT_BAR:
			a->bar = 1;
			break;
		case OPT_INSIGHTS:
			a->insights = 1;
			break;
		case OPT_RESULTS:
			a->ro.results_dir = optarg;
			break;
		case OPT_DRY_RUN:
			a->dry_run = 1;
			break;
		case OPT_JSON:
			a->ro.json = 1;
			break;
		case OPT_ON:
			if (!strcmp(optarg, "slurm"))
				a->on_slurm = 1;
			else if (!strcmp(optarg, "local"))
				a->on_slurm = 0;
			else
				return cli_run_usage("--on: '%s' is not slurm "
						     "or local", optarg);
			break;
		case OPT_SLURM_OPT:
			a->slurm_opt = optarg;
			break;
		case OPT_SLURM_CHUNK:
			if (cli_run_int(optarg, 100000000, &v) < 0 || v < 1)
				return cli_run_usage("--slurm-chunk: '%s' is "
						     "not a number of tasks "
						     "(1 or more)", optarg);
			a->slurm_chunk = v;
			break;
		case OPT_SLURM_ELEMENT:
			a->slurm_element = optarg;
			break;
		case OPT_NAME:
			if (strcmp(cli_run_cmd, "submit") && !a->store_dir)
				return cli_run_usage("--name names a batch of "
						     "nicely submit");
			a->name = optarg;
			break;
		case OPT_STORE:
			a->store_dir = optarg;
			break;
		case OPT_STORE_RESUME:
			a->store_resume = 1;
			break;
		case 'a':
			a->src[a->nsrc].kind = INPUT_FILE;
			a->src[a->nsrc++].path = optarg;
			nfiles++;
			break;
		case 'h':
			fputs(cli_run_help, stdout);
			return 0;
		case ':':
			return cli_run_usage("option '%s' needs a value",
					     argv[optind - 1]);
		default:
			return cli_run_usage("unknown option '%s'",
					     argv[optind - 1]);
		}
	}
	if ((a->resume || a->resume_failed) && !a->joblog_path)
		return cli_run_usage("--resume and --resume-failed need "
				     "--joblog FILE");
	if (a->resume && a->resume_failed)
		return cli_run_usage("--resume and --resume-failed exclude "
				     "each other");
	/* COMMAND words up to the first ::: or :::: */
	int i = optind;
	a->cmd = argv + i;
	while (i < argc && strcmp(argv[i], ":::") && strcmp(argv[i], "::::"))
		i++;
	a->ncmd = i - optind;
	while (i < argc) {
		int files = !strcmp(argv[i], "::::");
		int start = ++i;
		while (i < argc && strcmp(argv[i], ":::") &&
		       strcmp(argv[i], "::::"))
			i++;
		if (files) {
			if (i == start)
				return cli_run_usage(":::: needs at least one "
						     "file");
			for (int k = start; k < i; k++) {
				a->src[a->nsrc].kind = INPUT_FILE;
				a->src[a->nsrc++].path = argv[k];
			}
		} else {
			if (i == start)
				return cli_run_usage("::: needs at least one "
						     "value");
			a->src[a->nsrc].kind = INPUT_ARGS;
			a->src[a->nsrc].args = argv + start;
			a->src[a->nsrc++].nargs = (size_t)(i - start);
		}
	}
	if ((a->slurm_opt || a->slurm_chunk) && !a->on_slurm)
		return cli_run_usage("--slurm-opt and --slurm-chunk need "
				     "--on slurm");
	if (a->on_slurm && a->ro.line_buffer)
		return cli_run_usage("%s does not work with --on slurm "
				     "(results arrive whole)",
				     a->ro.ungroup ? "-u (--ungroup)"
						   : "--line-buffer");
	if (a->nsrc == 0) {
		a->src[0].kind = INPUT_STDIN;
		a->nsrc = 1;
	}
	if ((e = cli_run_parse_shape(a)) >= 0)
		return e;
	if (!strcmp(cli_run_cmd, "submit") &&
	    (a->ro.results_dir || a->dry_run || a->bar))
		return cli_run_usage("%s does not go with a detached batch (its "
				     "store keeps every result: nicely results)",
				     a->ro.results_dir ? "--results"
				     : a->dry_run ? "--dry-run" : "--bar");
	(void)nfiles;
	return -1;
}

/* `nicely submit` checks its command line as run would. */
int cli_run_submit_parse(int argc, char **argv, struct cli_run_brief *b)
{
	struct cli_run_args a;
	int e;

	memset(&a, 0, sizeof a);
	memset(b, 0, sizeof *b);
	cli_run_cmd = "submit";
	e = cli_run_parse(argc, argv, &a);
	cli_run_cmd = "run";
	if (e >= 0) {
		free(a.src);
		return e;
	}
	b->src = a.src;
	b->nsrc = a.nsrc;
	b->name = a.name;
	return -1;
}

/* --resume hook: skip the seqs the joblog says are done. */
static int cli_run_skip(void *ctx, uint64_t seq)
{
	struct cli_run_ctx *c = ctx;

	return joblog_set_has(c->skip, seq);
}

/* Result hook: one joblog line per finished task. */
static void cli_run_result(void *ctx, const struct queue_task *t)
{
	struct cli_run_ctx *c = ctx;
	struct joblog_entry e;
	char err[512];

	if (c->pipe && t->nvalues > 0)
		unlink(queue_value(t, 0));	/* its chunk is done with */
	if (c->node)
		slurm_node_result(c->node, t);
	cli_insights_add(c->ins, t);
	if (c->store)
		run_store_record(c->store, t);
	if (!c->jl || c->joblog_broken)
		return;
	memset(&e, 0, sizeof e);
	e.seq = t->seq;
	e.host = c->host ? c->host : ":";
	e.start = t->start_real;
	e.runtime = (double)(t->end_ns - t->start_ns) / 1e9;
	e.receive = t->out.total + t->err.total;
	e.exitval = t->exitval;
	e.signal = t->signal;
	e.command = t->cmd ? t->cmd : "";
	e.gnu = 1;
	if (joblog_write(c->jl, &e, err, sizeof err) < 0) {
		fprintf(stderr, "nicely: %s (the joblog stops here)\n", err);
		c->joblog_broken = 1;
	}
}

/* Progress hook: redraw the bar. */
static void cli_run_progress(void *ctx, const struct run_stats *st)
{
	struct cli_run_ctx *c = ctx;
	struct progress_state ps;

	if (!c->bar)
		return;
	ps.done = st->finished;
	ps.failed = st->failed;
	ps.running = st->running;
	ps.total = st->total >= 0 ? st->total - (long long)st->skipped : -1;
	ps.elapsed = cli_run_now() - c->t0;
	progress_update(c->bar, &ps, cli_run_now());
}

/* Reset hook: read the config files again and resolve the preset with the
 * same command-line flags, and take the admin's per-user limit anew; on
 * error the old preset and limit stay. */
static int cli_run_reload(void *ctx, char *err, size_t errlen)
{
	struct cli_run_ctx *c = ctx;
	struct policy_config_opts copts;
	struct policy_config *cfg = NULL;
	struct policy_preset p;
	char warn[512] = "";

	memset(&copts, 0, sizeof copts);
	if (policy_config_load(&cfg, &copts, err, errlen) < 0)
		return -EINVAL;
	if (policy_config_resolve(cfg, c->flags, &p, warn, sizeof warn, err,
				  errlen) < 0) {
		policy_config_free(cfg);
		return -EINVAL;
	}
	policy_config_user_limit(cfg, c->ulimit);
	/* the limit's origin names a file of cfg, which goes now */
	if (c->ulimit->origin.file) {
		snprintf(c->ulimit_file, sizeof c->ulimit_file, "%s",
			 c->ulimit->origin.file);
		c->ulimit->origin.file = c->ulimit_file;
	}
	policy_config_free(cfg);
	if (warn[0])
		fprintf(stderr, "nicely run: %s\n", warn);
	*c->preset = p;
	return 0;
}

/* The command line as `nicely status` shows it: "nicely run" and the
 * words after it, joined by spaces (malloc'd). */
static char *cli_run_cmdline(int argc, char **argv)
{
	size_t len = sizeof "nicely run";
	char *s;

	for (int i = 1; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	strcpy(s, "nicely run");
	for (int i = 1; i < argc; i++) {
		strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* -X / -m: the command's length for these values. */
static size_t cli_run_cmd_len(void *ctx, const char *const *vals, size_t n)
{
	return template_length(ctx, vals, n);
}

/* Set up --colsep, -N, -X, -m and --pipe on the input and the template;
 * --pipe's spool directory goes in c->spool. 0, or -1 after a message. */
static int cli_run_shape(struct cli_run_args *a, struct input *in,
			 struct template *tm,
			 const struct agent_topology *topo,
			 struct cli_run_ctx *c)
{
	struct input_shape *sh = &a->shape;
	char err[1024];
	int jobs = a->ro.jobs > 0 ? a->ro.jobs : agent_topology_nallowed(topo);

	/* GNU: -N and -X repeat a word holding {} per record; -m does not */
	if (((sh->max_args >= 0 && !a->max_args_n) || a->multi_x) &&
	    !sh->colsep &&
	    template_set_context(tm, a->nsrc) < 0) {
		fprintf(stderr, "nicely %s: out of memory\n", cli_run_cmd);
		return -1;
	}
	sh->len = cli_run_cmd_len;
	sh->len_ctx = tm;
	sh->max_len = CLI_RUN_MAX_LINE;
	sh->spread = jobs > 0 ? jobs : 1;
	if (sh->pipe && a->store_dir) {
		/* a detached batch's chunks live in its store: what a killed
		 * supervisor left goes at --resume, the rest with nicely rm */
		snprintf(c->spool, sizeof c->spool, "%s/pipe", a->store_dir);
		pipe_spool_remove(c->spool);
		if (mkdir(c->spool, 0700) < 0) {
			fprintf(stderr, "nicely %s: --pipe: %s: %s\n",
				cli_run_cmd, c->spool, strerror(errno));
			c->spool[0] = '\0';
			return -1;
		}
		sh->spool_dir = c->spool;
		a->ro.pipe_stdin = 1;
	} else if (sh->pipe) {
		if (pipe_spool_make(c->spool, sizeof c->spool, err,
				    sizeof err) < 0) {
			fprintf(stderr, "nicely %s: %s\n", cli_run_cmd, err);
			return -1;
		}
		sh->spool_dir = c->spool;
		a->ro.pipe_stdin = 1;
	}
	if (input_shape(in, sh, err, sizeof err) < 0) {
		fprintf(stderr, "nicely %s: %s\n", cli_run_cmd, err);
		return -1;
	}
	return 0;
}

/* --dry-run: print each command that would run, with its slot. */
static int cli_run_dry(struct cli_run_args *a, struct input *in,
		       struct template *tm, struct cli_run_ctx *c, int jobs)
{
	const char *const *vals;
	char err[512];
	uint64_t seq = 0;
	int n;

	while ((n = input_next(in, &vals, err, sizeof err)) > 0) {
		seq++;
		if (c->skip && joblog_set_has(c->skip, seq))
			continue;
		size_t nv = input_nvalues(in);
		if (a->ro.pipe_stdin) {	/* the chunk is not on the line */
			unlink(vals[0]);
			nv = 0;
		}
		char *cmd = template_expand(tm, vals, nv, seq,
					    (int)((seq - 1) % (uint64_t)jobs) + 1);
		if (!cmd)
			return cli_run_usage("out of memory");
		printf("%s\n", cmd);
		free(cmd);
	}
	if (n < 0) {
		fprintf(stderr, "nicely run: %s\n", err);
		return CLI_RUN_USAGE_EXIT;
	}
	(void)a;
	return fflush(stdout) == 0 ? 0 : CLI_RUN_USAGE_EXIT;
}

/* Whether reading a source can wait for a writer (stdin, a pipe, a tty):
 * then the engine reads it in a thread so Ctrl-C and output still work. */
static int cli_run_may_block(const struct input_source *src)
{
	struct stat st;

	if (src->kind == INPUT_ARGS)
		return 0;
	if (src->kind == INPUT_STDIN || !strcmp(src->path, "-"))
		return fstat(0, &st) < 0 || !S_ISREG(st.st_mode);
	return stat(src->path, &st) < 0 || !S_ISREG(st.st_mode);
}

/* `nicely run`. */
int cli_run(int argc, char **argv)
{
	struct cli_run_args a;
	struct cli_run_ctx c;
	struct policy_flags flags = POLICY_FLAGS_INIT;
	struct policy_config_opts copts;
	struct policy_config *cfg = NULL;
	struct policy_preset preset;
	struct policy_user_limit ulimit;
	struct policy_slurm slurm;
	struct agent_topology *topo = NULL;
	struct agent_sampler *sampler = NULL;
	struct input *in = NULL;
	struct template *tm = NULL;
	struct run_stats st;
	char err[1024] = "", warn[512] = "", rundir[4096], shell[4096];
	char *cmdline = NULL;
	int rc = CLI_RUN_USAGE_EXIT, e;
	struct submit_sup sv;

	memset(&copts, 0, sizeof copts);
	memset(&a, 0, sizeof a);
	memset(&c, 0, sizeof c);
	memset(&st, 0, sizeof st);
	a.flags = flags;
	a.ro.out_fd = 1;
	a.ro.err_fd = 2;
	a.ro.retries = 1;
	memset(&sv, 0, sizeof sv);
	sv.lockfd = -1;
	e = cli_run_parse(argc, argv, &a);
	if (e >= 0) {
		free(a.src);
		return e;
	}
	if (a.store_dir) {
		/* the supervisor of a detached batch: output and results go
		 * to its store, nowhere else */
		if (submit_sup_begin(&sv, a.store_dir, a.src, a.nsrc, err,
				     sizeof err) < 0) {
			fprintf(stderr, "nicely run: %s\n", err);
			goto out;
		}
		c.store = a.ro.store = sv.store;
		/* the store is in order by seq already: a finished task is
		 * let go at once, so a long first task keeps no window of
		 * finished ones behind it */
		a.ro.unordered = 1;
		a.ro.line_buffer = a.ro.tag = a.ro.json = 0;
		a.ro.out_fd = a.ro.err_fd = open("/dev/null",
						 O_WRONLY | O_CLOEXEC);
		if (a.ro.out_fd < 0) {
			fprintf(stderr, "nicely run: /dev/null: %s\n",
				strerror(errno));
			goto out;
		}
	}
	if (a.slurm_element) {
		/* an array element: its chunk's commands are the input, each
		 * a whole command; output goes only to the result records */
		if (slurm_node_open(&c.node, a.slurm_element, &a.src[0], err,
				    sizeof err) < 0) {
			fprintf(stderr, "nicely run: %s\n", err);
			goto out;
		}
		a.nsrc = 1;
		a.ncmd = 0;
		a.on_slurm = 0;
		a.ro.jobs = a.flags.jobs = slurm_node_jobs();
		a.ro.out_fd = a.ro.err_fd = open("/dev/null",
						 O_WRONLY | O_CLOEXEC);
		if (a.ro.out_fd < 0) {
			fprintf(stderr, "nicely run: /dev/null: %s\n",
				strerror(errno));
			goto out;
		}
	}
	if (input_open(&in, a.src, a.nsrc, err, sizeof err) < 0) {
		fprintf(stderr, "nicely run: %s\n", err);
		goto out;
	}
	/* shaped tasks hold any number of values: a {n} past them is empty */
	if (template_compile(&tm, a.cmd, a.ncmd,
			     a.shape.pipe ? 0 : a.shaped ? CLI_RUN_SHAPED_INPUTS
			     : a.nsrc, err,
			     sizeof err) < 0) {
		fprintf(stderr, "nicely run: %s\n", err);
		goto out;
	}
	if (a.joblog_path && (a.resume || a.resume_failed) &&
	    joblog_load(a.joblog_path,
			a.resume ? JOBLOG_RESUME : JOBLOG_RESUME_FAILED,
			&c.skip, err, sizeof err) < 0) {
		fprintf(stderr, "nicely run: --joblog: %s\n", err);
		goto out;
	}
	if (a.store_resume) {
		/* run only the tasks its store has no result of */
		char jp[4200];

		if (c.skip)
			joblog_set_free(c.skip);
		c.skip = NULL;
		snprintf(jp, sizeof jp, "%s/joblog", a.store_dir);
		if (joblog_load(jp, JOBLOG_RESUME, &c.skip, err,
				sizeof err) < 0) {
			fprintf(stderr, "nicely run: %s\n", err);
			goto out;
		}
	}
	if (policy_config_load(&cfg, &copts, err, sizeof err) < 0) {
		fprintf(stderr, "nicely run: config: %s\n", err);
		goto out;
	}
	if (agent_topology_load(&topo, NULL, err, sizeof err) < 0) {
		fprintf(stderr, "nicely run: topology: %s\n", err);
		goto out;
	}
	/* -j +N, -N, N%: of the CPU threads this batch may use */
	if (a.jobs_spec) {
		int j = cli_run_jobs_resolve(a.jobs_spec,
					     agent_topology_nallowed(topo));

		if (j < 0) {
			rc = cli_run_usage("--jobs: '%s' is not a number of "
					   "tasks (0-1000000), +N, -N or N%%",
					   a.jobs_spec);
			goto out;
		}
		a.flags.jobs = a.ro.jobs = j;
	}
	if (policy_config_resolve(cfg, &a.flags, &preset, warn, sizeof warn,
				  err, sizeof err) < 0) {
		fprintf(stderr, "nicely run: %s\n", err);
		goto out;
	}
	if (warn[0])
		fprintf(stderr, "nicely run: %s\n", warn);
	if (a.shaped && cli_run_shape(&a, in, tm, topo, &c) < 0)
		goto out;
	if (a.dry_run) {
		int jobs = a.ro.jobs > 0 ? a.ro.jobs
					 : agent_topology_nallowed(topo);
		rc = cli_run_dry(&a, in, tm, &c, jobs > 0 ? jobs : 1);
		goto out;
	}
	if (!a.on_slurm &&
	    agent_sampler_new(&sampler, topo, NULL, err, sizeof err) < 0) {
		fprintf(stderr, "nicely run: sampler: %s\n", err);
		goto out;
	}
	/* a results directory we may not or cannot write in is a usage
	 * error: nothing starts */
	if (a.ro.results_dir &&
	    (e = run_results_dir_open(a.ro.results_dir, 1, err,
				      sizeof err)) < 0) {
		fprintf(stderr, "nicely run: --results: %s\n", err);
		goto out;
	}
	if (a.ro.results_dir)
		close(e);
	/* GNU: with --results the output goes to the files only */
	if (a.ro.results_dir && !a.ro.json &&
	    (a.ro.out_fd = a.ro.err_fd = open("/dev/null",
					      O_WRONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "nicely run: /dev/null: %s\n",
			strerror(errno));
		goto out;
	}
	if (a.joblog_path &&
	    joblog_open(&c.jl, a.joblog_path,
			a.resume || a.resume_failed || a.joblog_append, err,
			sizeof err) < 0) {
		fprintf(stderr, "nicely run: --joblog: %s\n", err);
		goto out;
	}
	if (a.bar)
		c.bar = progress_new(2, 0);
	c.t0 = cli_run_now();
	if (a.insights && !(c.ins = cli_insights_new())) {
		fprintf(stderr, "nicely run: --insights: out of memory\n");
		goto out;
	}
	/* the user's shell, as GNU parallel picks it */
	if (usershell_find(shell, sizeof shell, NULL, getpid(), err,
			   sizeof err) < 0) {
		fprintf(stderr, "nicely run: %s\n", err);
		goto out;
	}
	a.ro.shell = shell;
	a.ro.input = in;
	a.ro.input_may_block = cli_run_may_block(&a.src[0]);
	a.ro.tmpl = tm;
	a.ro.topo = topo;
	a.ro.sampler = sampler;
	a.ro.preset = &preset;
	policy_config_user_limit(cfg, &ulimit);
	a.ro.user_limit = &ulimit;
	a.ro.skip = c.skip ? cli_run_skip : NULL;
	a.ro.on_result = cli_run_result;
	/* the joblog follows the output's order: submission order unless
	 * --group / -u / --line-buffer (GNU's joblog with -k and without) */
	a.ro.result_in_order = !a.ro.unordered && !a.ro.line_buffer &&
			       !a.ro.store && !c.node;
	a.ro.on_progress = cli_run_progress;
	a.ro.ctx = &c;
	c.pipe = a.ro.pipe_stdin;
	/* the control socket for nicely status / kill / reset / pause */
	c.flags = &a.flags;
	c.preset = &preset;
	c.ulimit = &ulimit;
	a.ro.reload = cli_run_reload;
	cmdline = cli_run_cmdline(argc, argv);
	a.ro.ctl_command = cmdline;
	if (a.slurm_element)
		;	/* an element on a node: the submitting run serves it */
	else if (a.store_dir && strlen(a.store_dir) + 24 < 108)
		a.ro.ctl_dir = a.store_dir; /* outlives the login's runtime dir */
	else if (rundir_get(rundir, sizeof rundir, err, sizeof err) == 0)
		a.ro.ctl_dir = rundir;
	else
		fprintf(stderr, "nicely run: no control socket (nicely status, "
			"kill, reset, pause and resume cannot reach this "
			"batch): %s\n", err);
	if (a.on_slurm) {
		struct slurm_submit_opts so = SLURM_SUBMIT_OPTS_INIT;

		policy_config_slurm(cfg, &slurm);
		so.cfg = &slurm;
		so.opt = a.slurm_opt;
		so.chunk = a.slurm_chunk;
		so.preset = a.flags.preset;
		so.nice = a.flags.nice;
		so.host = &c.host;
		if (a.store_dir)
			submit_sup_ready();
		e = slurm_submit_run(&a.ro, &so, &st, err, sizeof err);
	} else {
		if (a.store_dir)
			submit_sup_ready();
		e = run_batch(&a.ro, &st, err, sizeof err);
	}
	if (e < 0) {
		fprintf(stderr, "nicely run: %s\n", err);
		rc = CLI_RUN_USAGE_EXIT;
	} else {
		const char *why;

		rc = run_exit_status(&a.ro, &st);
		if (input_error(in, &why) < 0) {
			/* never a quiet 0 when values were left unread */
			fprintf(stderr, "nicely run: the input ended in an "
				"error, so not every value ran (exit 255): "
				"%s\n", why);
			rc = CLI_RUN_USAGE_EXIT;
		}
	}
	if (c.bar) {
		struct progress_state ps = { st.finished, st.failed, 0,
			st.total >= 0 ? st.total - (long long)st.skipped : -1,
			cli_run_now() - c.t0 };
		progress_finish(c.bar, &ps);
		c.bar = NULL;
	}
	cli_insights_finish(c.ins, stderr, cli_run_now() - c.t0,
			    a.ro.jobs > 0 ? a.ro.jobs
					  : agent_topology_nallowed(topo));
	c.ins = NULL;
	if (c.jl && joblog_close(c.jl, err, sizeof err) < 0)
		fprintf(stderr, "nicely run: --joblog: %s\n", err);
	c.jl = NULL;
out:
	cli_insights_finish(c.ins, NULL, 0, 0);	/* (an error: not printed) */
	if (c.jl)
		joblog_close(c.jl, err, sizeof err);
	if (c.skip)
		joblog_set_free(c.skip);
	if (sampler)
		agent_sampler_free(sampler);
	if (topo)
		agent_topology_free(topo);
	if (cfg)
		policy_config_free(cfg);
	if (tm)
		template_free(tm);
	if (in)
		input_free(in);
	if (c.node && slurm_node_status(c.node) < 0)
		rc = CLI_RUN_USAGE_EXIT;
	slurm_node_free(c.node);
	if ((a.slurm_element || a.store_dir || a.ro.results_dir) &&
	    a.ro.out_fd > 2)
		close(a.ro.out_fd);
	if (c.spool[0])
		pipe_spool_remove(c.spool);
	if (sv.lockfd >= 0)
		submit_sup_end(&sv, rc);
	free(cmdline);
	free(a.src);
	return rc;
}
