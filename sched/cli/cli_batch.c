/* sched/cli/cli_batch: the commands on detached batches (`nicely submit`,
 * their store in sched/cli/store.h): attach (ordered output from the
 * start, then following), wait, results, rm; and what `nicely status`
 * and the controls need of them (cli_batch.h). Front ends called from
 * main_nicely.c and cli_ctl.c; files only, except the control socket of a
 * running batch for its counts. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "sched/cli/cli.h"
#include "sched/cli/cli_batch.h"
#include "sched/cli/ctl_client.h"
#include "sched/cli/output.h"
#include "sched/cli/store.h"
#include "sched/ctl_proto.h"
#include "sched/jsonx.h"

#define CLI_BATCH_OK 0
#define CLI_BATCH_REFUSED 1
#define CLI_BATCH_NONE 2
#define CLI_BATCH_USAGE 255

/* How often attach looks for new results. */
#define CLI_BATCH_POLL_US 100000

static const char cli_attach_help[] =
"usage: nicely attach BATCH\n"
"\n"
"Print a detached batch's output in submission order (each task's stdout\n"
"to stdout, its stderr to stderr), from its first task to where the batch\n"
"is, then follow it until it ends. Ctrl-C detaches: the batch goes on.\n"
"Any number of attaches may follow one batch. BATCH: its id, a unique\n"
"start of the id, or its name.\n"
"\n"
"options:\n"
"  -h, --help            this help\n"
"\n"
"Exit status: 0 (the batch ended, or Ctrl-C); 2 no such batch; 255 for a\n"
"usage error.\n";

static const char cli_wait_help[] =
"usage: nicely wait BATCH\n"
"\n"
"Wait until a detached batch ends and exit with the exit status its\n"
"nicely run had (0 all tasks succeeded, else the failed count up to 100,\n"
"101 for more, 255 after kill). A batch whose supervisor died (killed,\n"
"the machine went down) is said so, with 'nicely submit --resume', and\n"
"exits 255.\n"
"\n"
"options:\n"
"  -h, --help            this help\n"
"\n"
"Exit status: the batch's; 2 no such batch; 255 for a usage error or a\n"
"dead supervisor.\n";

static const char cli_results_help[] =
"usage: nicely results [--json | --raw] BATCH [SEQ...]\n"
"\n"
"Print the stored results of a detached batch in submission order (or\n"
"the tasks SEQ... in the order given): for each task a line '== task SEQ:\n"
"exit N, RUNTIME s, started TIME: COMMAND', then its stdout (to stdout)\n"
"and its stderr (to stderr). Tasks without a recorded result (running,\n"
"or never run) are left out.\n"
"\n"
"options:\n"
"      --json            one JSON object per task: seq, command, status\n"
"                        (ok or failed), exit, signal, start, runtime,\n"
"                        stdout, stderr\n"
"      --raw             the outputs only, without the '== task' lines\n"
"  -h, --help            this help\n"
"\n"
"Exit status: 0; 1 when a SEQ asked for has no result; 2 no such batch;\n"
"255 for a usage error.\n";

static const char cli_rm_help[] =
"usage: nicely rm BATCH...\n"
"\n"
"Delete the store of each finished detached batch: its outputs, joblog\n"
"and inputs. A running batch is refused (nicely kill it, or wait).\n"
"\n"
"options:\n"
"  -h, --help            this help\n"
"\n"
"Exit status: 0; 1 when a batch is running or cannot be deleted; 2 no such\n"
"batch; 255 for a usage error.\n";

/* Usage error of subcommand name. */
static int cli_batch_usage(const char *name, const char *what)
{
	fprintf(stderr, "nicely %s: %s\n(try 'nicely %s --help')\n", name,
		what, name);
	return CLI_BATCH_USAGE;
}

/* Parse [-h] [--json] [--raw] and the operands; -1 to go on. */
static int cli_batch_parse(const char *name, const char *help, int argc,
			   char **argv, int *json, int *raw)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "raw", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char m[300];

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(help, stdout);
			return 0;
		}
		if (c == 'J' && json) {
			*json = 1;
			continue;
		}
		if (c == 'R' && raw) {
			*raw = 1;
			continue;
		}
		snprintf(m, sizeof m, "unknown option '%.200s'",
			 argv[optind - 1]);
		return cli_batch_usage(name, m);
	}
	if (optind >= argc)
		return cli_batch_usage(name, "which BATCH? (nicely status "
				       "lists them)");
	return -1;
}

/* Find the batch key names. 0 or an exit status after saying why. */
static int cli_batch_open(const char *name, const char *key,
			  struct store_batch *b)
{
	char root[4096], err[1024];

	if (store_root(root, sizeof root, 0, err, sizeof err) < 0 ||
	    store_find(root, key, b, err, sizeof err) < 0) {
		fprintf(stderr, "nicely %s: %s\n", name, err);
		return CLI_BATCH_NONE;
	}
	return 0;
}

/* Copy a task's file to fd; a missing file is empty. 0 or -errno. */
static int cli_batch_cat(const char *dir, uint64_t seq, const char *ext,
			 int to)
{
	char name[64], buf[65536];
	ssize_t n;
	int fd, e = 0;

	snprintf(name, sizeof name, "tasks/%llu.%s", (unsigned long long)seq,
		 ext);
	fd = store_open(dir, name, O_RDONLY);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (e = output_full_write(to, buf, (size_t)n)) < 0) {
			e = n < 0 ? -errno : e;
			break;
		}
	}
	close(fd);
	return e;
}

/* Local time as "YYYY-MM-DD HH:MM:SS". */
static void cli_batch_time(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;

	if (!localtime_r(&s, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S",
					       &tm))
		snprintf(buf, len, "?");
}

/* Walk a task's file in chunks for jsonx_fd_field (src: its path). */
static int cli_batch_each(const void *src, jsonx_chunk_fn fn, void *ctx)
{
	char buf[65536];
	int fd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), e = 0;
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (e = fn(ctx, buf, (size_t)n)) < 0) {
			e = n < 0 ? -errno : e;
			break;
		}
	}
	close(fd);
	return e;
}

/* One task's result: JSON, or header and outputs. 0 or -errno. */
static int cli_batch_print_rec(const char *dir, const struct store_rec *r,
			       int json, int raw)
{
	char when[64], path[4200];
	int e;

	fflush(stdout);
	if (json) {
		char head[256];
		int n = snprintf(head, sizeof head, "{\"seq\":%llu,",
				 (unsigned long long)r->seq);
		e = output_full_write(1, head, (size_t)n);
		if (!e)
			e = jsonx_fd_field_mem(1, "command", r->command,
					       strlen(r->command));
		n = snprintf(head, sizeof head, ",\"status\":\"%s\",\"exit\":%d,"
			     "\"signal\":%d,\"start\":%.3f,\"runtime\":%.3f,",
			     r->exitval || r->signal ? "failed" : "ok",
			     r->exitval, r->signal, r->start, r->runtime);
		if (!e)
			e = output_full_write(1, head, (size_t)n);
		snprintf(path, sizeof path, "%s/tasks/%llu.out", dir,
			 (unsigned long long)r->seq);
		if (!e)
			e = jsonx_fd_field(1, "stdout", cli_batch_each, path);
		if (!e)
			e = output_full_write(1, ",", 1);
		snprintf(path, sizeof path, "%s/tasks/%llu.err", dir,
			 (unsigned long long)r->seq);
		if (!e)
			e = jsonx_fd_field(1, "stderr", cli_batch_each, path);
		if (!e)
			e = output_full_write(1, "}\n", 2);
		return e;
	}
	if (!raw) {
		cli_batch_time(r->start, when, sizeof when);
		printf("== task %llu: exit %d", (unsigned long long)r->seq,
		       r->exitval);
		if (r->signal)
			printf(" (signal %d)", r->signal);
		printf(", %.3f s, started %s: %s\n", r->runtime, when,
		       r->command);
		fflush(stdout);
	}
	e = cli_batch_cat(dir, r->seq, "out", 1);
	if (!e)
		e = cli_batch_cat(dir, r->seq, "err", 2);
	return e;
}

/* `nicely results [--json|--raw] BATCH [SEQ...]`. */
int cli_results(int argc, char **argv)
{
	struct store_batch b;
	struct store_rec *v;
	char err[1024];
	int json = 0, raw = 0, rc, worst = CLI_BATCH_OK;
	long n;

	rc = cli_batch_parse("results", cli_results_help, argc, argv, &json,
			     &raw);
	if (rc >= 0)
		return rc;
	if (json && raw)
		return cli_batch_usage("results", "--json and --raw exclude "
				       "each other");
	for (int i = optind + 1; i < argc; i++) {
		char *end;
		errno = 0;
		unsigned long long s = strtoull(argv[i], &end, 10);
		if (errno || end == argv[i] || *end || s == 0 || argv[i][0] == '-') {
			char m[200];
			snprintf(m, sizeof m, "SEQ '%.64s' is not a task number "
				 "(1 or more)", argv[i]);
			return cli_batch_usage("results", m);
		}
	}
	if ((rc = cli_batch_open("results", argv[optind], &b)))
		return rc;
	n = store_recs(b.dir, &v, err, sizeof err);
	if (n < 0) {
		fprintf(stderr, "nicely results: %s\n", err);
		return CLI_BATCH_REFUSED;
	}
	if (optind + 1 >= argc) {
		for (long i = 0; i < n; i++)
			if (cli_batch_print_rec(b.dir, &v[i], json, raw) < 0) {
				worst = CLI_BATCH_USAGE;
				break;
			}
	} else {
		for (int i = optind + 1; i < argc; i++) {
			uint64_t s = strtoull(argv[i], NULL, 10);
			long lo = 0, hi = n - 1, at = -1;
			while (lo <= hi) {
				long mid = (lo + hi) / 2;
				if (v[mid].seq == s) {
					at = mid;
					break;
				}
				if (v[mid].seq < s)
					lo = mid + 1;
				else
					hi = mid - 1;
			}
			if (at < 0) {
				fprintf(stderr, "nicely results: batch %s has no "
					"result of task %llu\n", b.id,
					(unsigned long long)s);
				worst = CLI_BATCH_REFUSED;
				continue;
			}
			if (cli_batch_print_rec(b.dir, &v[at], json, raw) < 0) {
				worst = CLI_BATCH_USAGE;
				break;
			}
		}
	}
	store_recs_free(v, n);
	return fflush(stdout) == 0 ? worst : CLI_BATCH_USAGE;
}

/* `nicely wait BATCH`. */
int cli_wait(int argc, char **argv)
{
	struct store_batch b;
	struct store_state s;
	int rc;

	rc = cli_batch_parse("wait", cli_wait_help, argc, argv, NULL, NULL);
	if (rc >= 0)
		return rc;
	if (optind + 1 < argc)
		return cli_batch_usage("wait", "one BATCH at most");
	if ((rc = cli_batch_open("wait", argv[optind], &b)))
		return rc;
	if (store_wait_unlocked(b.dir) < 0 || store_state_read(b.dir, &s) < 0) {
		fprintf(stderr, "nicely wait: cannot read the state of batch "
			"%s\n", b.id);
		return CLI_BATCH_USAGE;
	}
	if (strcmp(s.state, "finished") || s.exit < 0) {
		fprintf(stderr, "nicely wait: the supervisor of batch %s died "
			"before the batch ended ('nicely submit --resume %s' "
			"runs what is left)\n", b.id, b.id);
		return CLI_BATCH_USAGE;
	}
	return s.exit;
}

static volatile sig_atomic_t cli_batch_detach;

/* SIGINT / SIGTERM in attach: detach. */
static void cli_batch_on_int(int sig)
{
	(void)sig;
	cli_batch_detach = 1;
}

/* What attach has seen of the joblog. */
struct cli_attach {
	int fd;
	char *part;		/* a line not yet whole */
	size_t npart;
	unsigned char *have;	/* have[seq]: recorded */
	uint64_t cap, max;
};

/* Read the joblog's new whole lines into a. */
static void cli_attach_read(struct cli_attach *a)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(a->fd, buf, sizeof buf)) > 0) {
		char *p = realloc(a->part, a->npart + (size_t)n + 1);
		if (!p)
			return;
		a->part = p;
		memcpy(p + a->npart, buf, (size_t)n);
		a->npart += (size_t)n;
		char *s = p, *nl;
		while ((nl = memchr(s, '\n', a->npart - (size_t)(s - p)))) {
			struct store_rec r;
			*nl = 0;
			if (store_rec_parse(s, &r) == 0) {
				if (r.seq >= a->cap) {
					uint64_t nc = a->cap ? a->cap : 1024;
					while (nc <= r.seq)
						nc *= 2;
					unsigned char *h = realloc(a->have, nc);
					if (h) {
						memset(h + a->cap, 0, nc - a->cap);
						a->have = h;
						a->cap = nc;
					}
				}
				if (r.seq < a->cap)
					a->have[r.seq] = 1;
				if (r.seq > a->max)
					a->max = r.seq;
				free(r.command);
			}
			s = nl + 1;
		}
		a->npart -= (size_t)(s - p);
		memmove(p, s, a->npart);
	}
}

/* `nicely attach BATCH`. */
int cli_attach(int argc, char **argv)
{
	struct store_batch b;
	struct cli_attach a;
	struct sigaction sa;
	uint64_t next = 1;
	int rc;

	rc = cli_batch_parse("attach", cli_attach_help, argc, argv, NULL, NULL);
	if (rc >= 0)
		return rc;
	if (optind + 1 < argc)
		return cli_batch_usage("attach", "one BATCH at most");
	if ((rc = cli_batch_open("attach", argv[optind], &b)))
		return rc;
	memset(&a, 0, sizeof a);
	a.fd = store_open(b.dir, "joblog", O_RDONLY);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = cli_batch_on_int;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!cli_batch_detach) {
		/* asked before reading: what it wrote before it ended is
		 * all read in this round */
		int running = store_running(b.dir);

		if (a.fd < 0)
			a.fd = store_open(b.dir, "joblog", O_RDONLY);
		if (a.fd >= 0)
			cli_attach_read(&a);
		while (next <= a.max && !cli_batch_detach) {
			if (next < a.cap && a.have[next]) {
				fflush(stdout);
				if (cli_batch_cat(b.dir, next, "out", 1) < 0 ||
				    cli_batch_cat(b.dir, next, "err", 2) < 0) {
					rc = CLI_BATCH_USAGE;
					goto out;
				}
			} else if (running) {
				break;	/* its turn has not come */
			}
			next++;
		}
		if (!running)
			break;
		usleep(CLI_BATCH_POLL_US);
	}
	if (cli_batch_detach)
		fprintf(stderr, "nicely attach: detached; batch %s goes on\n",
			b.id);
out:
	if (a.fd >= 0)
		close(a.fd);
	free(a.part);
	free(a.have);
	return rc;
}

/* `nicely rm BATCH...`. */
int cli_rm(int argc, char **argv)
{
	struct store_batch b;
	char err[1024];
	int rc, worst = CLI_BATCH_OK;

	rc = cli_batch_parse("rm", cli_rm_help, argc, argv, NULL, NULL);
	if (rc >= 0)
		return rc;
	for (int i = optind; i < argc; i++) {
		if ((rc = cli_batch_open("rm", argv[i], &b))) {
			worst = worst ? worst : rc;
			continue;
		}
		if (store_running(b.dir)) {
			fprintf(stderr, "nicely rm: batch %s is running (nicely "
				"kill %s first, or nicely wait %s)\n", b.id,
				b.id, b.id);
			worst = CLI_BATCH_REFUSED;
			continue;
		}
		if (store_rm(b.dir, err, sizeof err) < 0) {
			fprintf(stderr, "nicely rm: %s\n", err);
			worst = CLI_BATCH_REFUSED;
			continue;
		}
		printf("batch %s removed\n", b.id);
	}
	return fflush(stdout) == 0 ? worst : CLI_BATCH_USAGE;
}

/* The command line of a batch from its meta file (malloc'd). */
static char *cli_batch_command(const char *dir, double *created)
{
	int fd = store_open(dir, "meta", O_RDONLY);
	json_t *m = fd >= 0 ? json_loadfd(fd, 0, NULL) : NULL;
	json_t *av = json_object_get(m, "argv");
	size_t len = sizeof "nicely submit";
	char *s;

	if (fd >= 0)
		close(fd);
	*created = json_number_value(json_object_get(m, "created"));
	for (size_t i = 0; i < json_array_size(av); i++)
		len += strlen(json_string_value(json_array_get(av, i)) ?: "") + 1;
	s = malloc(len);
	if (s) {
		strcpy(s, "nicely submit");
		for (size_t i = 0; i < json_array_size(av); i++) {
			strcat(s, " ");
			strcat(s, json_string_value(json_array_get(av, i)) ?: "");
		}
	}
	json_decref(m);
	return s;
}

/* The control socket of a running batch's supervisor. 0 or -errno. */
static int cli_batch_sock(const struct store_batch *b, struct ctl_batch *c)
{
	struct ctl_batch *v = NULL;
	char err[512];
	int n = ctl_client_list(b->dir, &v, err, sizeof err);

	if (n <= 0) {
		free(v);
		return -ESRCH;
	}
	*c = v[0];
	free(v);
	return 0;
}

/* The restarts nicely-agent made of the batch's supervisor (its "held"
 * note: "RESTARTS SIGNAL"), as "restarts" and "restart_signal". */
static void cli_batch_held(const char *dir, json_t *o)
{
	char buf[64];
	int fd = store_open(dir, "held", O_RDONLY), n, sig;
	ssize_t len = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (len <= 0)
		return;
	buf[len] = 0;
	if (sscanf(buf, "%d %d", &n, &sig) == 2 && n >= 0) {
		json_object_set_new(o, "restarts", json_integer(n));
		json_object_set_new(o, "restart_signal", json_integer(sig));
	}
}

/* One batch as a JSON object. */
json_t *cli_batch_json(const struct store_batch *v, int nv,
				const struct store_batch *b)
{
	struct store_state s;
	struct store_rec *r = NULL;
	char err[512], shortid[STORE_ID_LEN + 1];
	double created = 0;
	long n = store_recs(b->dir, &r, err, sizeof err), failed = 0;
	int running = store_running(b->dir);
	char *cmd = cli_batch_command(b->dir, &created);
	const char *state;
	json_t *o;

	for (long i = 0; i < n; i++)
		failed += r[i].exitval != 0 || r[i].signal != 0;
	store_recs_free(r, n > 0 ? n : 0);
	store_state_read(b->dir, &s);
	store_short_id(v, nv, b->id, shortid);
	if (running)
		state = !strcmp(s.state, "paused") ? "paused" : "running";
	else if (!strcmp(s.state, "finished"))
		state = "finished";
	else
		state = "died";
	o = json_pack("{s:s,s:s,s:s,s:s,s:f,s:I,s:I,s:I,s:b}", "id", b->id,
		      "short", shortid, "name", b->name, "state", state,
		      "start", created, "done", (json_int_t)(n > 0 ? n : 0),
		      "failed", (json_int_t)failed,
		      "size", (json_int_t)store_size(b->dir), "detached", 1);
	if (!o) {
		free(cmd);
		return NULL;
	}
	json_object_set_new(o, "store", json_string(b->dir));
	json_object_set_new(o, "command", json_string(cmd ? cmd : ""));
	if (!json_object_get(o, "command"))
		json_object_set_new(o, "command", json_string("?"));
	free(cmd);
	if (!strcmp(state, "finished"))
		json_object_set_new(o, "exit", json_integer(s.exit));
	if (s.reason[0] && running)
		json_object_set_new(o, "reason", json_string(s.reason));
	cli_batch_held(b->dir, o);
	if (running) {
		/* its counts as it sees them */
		struct ctl_batch c;
		json_t *reply = NULL, *bo;
		if (cli_batch_sock(b, &c) == 0 &&
		    ctl_client_request(&c, CTL_CMD_STATUS, 3000, &reply, err,
				       sizeof err) == 0 &&
		    json_is_object(bo = json_object_get(reply, "batch"))) {
			static const char *const keys[] = { "total", "queued",
				"running", "done", "failed", "cancelled",
				"resets", "pid" };
			for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
				if (json_object_get(bo, keys[i]))
					json_object_set(o, keys[i],
						json_object_get(bo, keys[i]));
			if (json_is_true(json_object_get(bo, "paused")) &&
			    !strcmp(state, "running"))
				json_object_set_new(o, "state",
						    json_string("paused"));
			json_object_set(o, "preset",
					json_object_get(bo, "preset"));
		}
		json_decref(reply);
	}
	return o;
}

/* The detached batches as JSON objects. */
int cli_batch_list(json_t *all)
{
	char root[4096] = "", err[1024];
	struct store_batch *v;
	int n;

	if (store_root(root, sizeof root, 0, err, sizeof err) < 0) {
		if (access(root, F_OK) < 0 && errno == ENOENT)
			return 0;	/* nothing was ever submitted */
		fprintf(stderr, "nicely status: %s\n", err);
		return -1;
	}
	n = store_list(root, &v, err, sizeof err);
	if (n < 0) {
		fprintf(stderr, "nicely status: %s\n", err);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		json_t *o = cli_batch_json(v, n, &v[i]);
		if (o)
			json_array_append_new(all, o);
	}
	free(v);
	return n;
}

/* A size for people. */
static void cli_batch_size(long long b, char *buf, size_t len)
{
	if (b < 10240)
		snprintf(buf, len, "%lldB", b);
	else if (b < 10240LL * 1024)
		snprintf(buf, len, "%lldK", b / 1024);
	else if (b < 10240LL * 1024 * 1024)
		snprintf(buf, len, "%lldM", b / (1024 * 1024));
	else
		snprintf(buf, len, "%lldG", b / (1024LL * 1024 * 1024));
}

/* Print the detached batches of all as a table. */
void cli_batch_print(const json_t *all)
{
	int head = 0;

	for (size_t i = 0; i < json_array_size(all); i++) {
		const json_t *o = json_array_get(all, i);
		char when[64], done[48], size[32], state[48];
		json_t *t = json_object_get(o, "total");

		if (!json_is_true(json_object_get(o, "detached")))
			continue;
		const char *user = json_string_value(json_object_get(o, "user"));

		if (!head++ && user)
			printf("%-12s ", "OWNER");
		if (head == 1)
			printf("%-12s %-12s %-19s %-13s %-11s %6s %6s  %s\n",
			       "DETACHED", "NAME", "STARTED", "STATE",
			       "DONE/TOTAL", "FAILED", "SIZE", "COMMAND");
		if (user)
			printf("%-12s ", user);
		cli_batch_time(json_number_value(json_object_get(o, "start")),
			       when, sizeof when);
		if (json_is_integer(t) && json_integer_value(t) >= 0)
			snprintf(done, sizeof done, "%lld/%lld",
				 (long long)json_integer_value(json_object_get(o, "done")),
				 (long long)json_integer_value(t));
		else
			snprintf(done, sizeof done, "%lld",
				 (long long)json_integer_value(json_object_get(o, "done")));
		cli_batch_size(json_integer_value(json_object_get(o, "size")),
			       size, sizeof size);
		if (json_object_get(o, "exit"))
			snprintf(state, sizeof state, "finished(%lld)",
				 (long long)json_integer_value(json_object_get(o, "exit")));
		else
			snprintf(state, sizeof state, "%s",
				 json_string_value(json_object_get(o, "state")));
		char *cmd = jsonx_get_visible(o, "command");
		printf("%-12s %-12s %-19s %-13s %-11s %6lld %6s  %s\n",
		       json_string_value(json_object_get(o, "short")),
		       json_string_value(json_object_get(o, "name"))[0]
			       ? json_string_value(json_object_get(o, "name"))
			       : "-",
		       when, state, done,
		       (long long)json_integer_value(json_object_get(o, "failed")),
		       size, cmd ? cmd : "?");
		free(cmd);
		if (json_object_get(o, "reason"))
			printf("%-12s   why: %s\n", "",
			       json_string_value(json_object_get(o, "reason")));
		else if (!strcmp(state, "died"))
			printf("%-12s   its supervisor died: nicely submit "
			       "--resume %s\n", "",
			       json_string_value(json_object_get(o, "short")));
		if (json_object_get(o, "restarts"))
			printf("%-12s   nicely-agent restarted its supervisor "
			       "%lld time%s (last: signal %lld)\n", "",
			       (long long)json_integer_value(json_object_get(o, "restarts")),
			       json_integer_value(json_object_get(o, "restarts")) == 1 ? "" : "s",
			       (long long)json_integer_value(json_object_get(o, "restart_signal")));
	}
}

/* One detached batch as its JSON object. */
int cli_batch_find(const char *key, json_t **out, char *err, size_t errlen)
{
	char root[4096];
	struct store_batch *v, b;
	int n, e;

	*out = NULL;
	if ((e = store_root(root, sizeof root, 0, err, errlen)) < 0)
		return e == -ENOENT ? -ENOENT : e;
	if ((e = store_find(root, key, &b, err, errlen)) < 0)
		return e;
	n = store_list(root, &v, err, errlen);
	if (n < 0)
		return n;
	*out = cli_batch_json(v, n, &b);
	free(v);
	return *out ? 0 : -ENOMEM;
}

/* The control socket of a running detached batch. */
int cli_batch_ctl(const char *key, struct ctl_batch *b, char *err,
		  size_t errlen)
{
	char root[4096];
	struct store_batch sb;
	int e;

	if ((e = store_root(root, sizeof root, 0, err, errlen)) < 0)
		return -ENOENT;
	if ((e = store_find(root, key, &sb, err, errlen)) < 0)
		return e;
	if (!store_running(sb.dir) || cli_batch_sock(&sb, b) < 0) {
		snprintf(err, errlen, "batch %s is not running", sb.id);
		return -ESRCH;
	}
	snprintf(b->id, sizeof b->id, "%s", sb.id);
	return 0;
}

/* The control sockets of every running detached batch. */
int cli_batch_ctl_all(struct ctl_batch **v, int n)
{
	char root[4096], err[512];
	struct store_batch *sv;
	int m;

	if (store_root(root, sizeof root, 0, err, sizeof err) < 0)
		return n;
	m = store_list(root, &sv, err, sizeof err);
	for (int i = 0; i < m; i++) {
		struct ctl_batch c;
		if (!store_running(sv[i].dir) || cli_batch_sock(&sv[i], &c) < 0)
			continue;
		struct ctl_batch *nv = realloc(*v, (size_t)(n + 1) * sizeof *nv);
		if (!nv)
			break;
		*v = nv;
		snprintf(c.id, sizeof c.id, "%s", sv[i].id);
		(*v)[n++] = c;
	}
	if (m > 0)
		free(sv);
	return n;
}
