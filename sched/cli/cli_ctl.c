/* sched/cli_ctl: `nicely status`, `kill`, `reset`, `pause` and `resume`:
 * the whole-batch controls of running `nicely run`s, reached over their
 * control sockets in the user's runtime directory (sched/cli/ctl_client.c,
 * protocol in sched/ctl_proto.h). One function per subcommand, dispatched
 * from main_nicely.c; each prints its own messages and exit status. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "sched/cli/cli.h"
#include "sched/cli/cli_agent.h"
#include "sched/cli/cli_batch.h"
#include "sched/cli/ctl_client.h"
#include "sched/ctl_proto.h"
#include "sched/jsonx.h"
#include "sched/rundir.h"

/* Exit statuses of the control commands (nicely(1), EXIT STATUS). */
#define CLI_CTL_OK 0
#define CLI_CTL_REFUSED 1	/* the batch refused, or could not be reached */
#define CLI_CTL_NO_BATCH 2	/* unknown BATCH, none running, or several */
#define CLI_CTL_USAGE 255	/* bad command line, unusable runtime dir */

/* How long `status` waits for a batch's answer (a stopped batch does not
 * answer); the other commands wait as long as their work takes. */
#define CLI_CTL_STATUS_MS 3000

#define CLI_CTL_STR(x) #x
#define CLI_CTL_XSTR(x) CLI_CTL_STR(x)

static const char cli_status_help[] =
"usage: nicely status [--json] [BATCH | --all]\n"
"\n"
"List your running batches (nicely run), one line each: batch id, start\n"
"time, state, tasks done of the total, running, queued, failed, preset and\n"
"command. With BATCH (the id shown), that batch in detail.\n"
"\n"
"options:\n"
"      --all             every user's batches (nicely run and libnicely\n"
"                        pools), from nicely-agent: user, batch, preset,\n"
"                        PUs held and granted, CPU share, done/total,\n"
"                        command (root, or a group in [agent] admins);\n"
"                        for root also every user's detached batches,\n"
"                        finished ones too (with or without the agent)\n"
"      --json            a JSON array of batches (one object with BATCH)\n"
"  -h, --help            this help\n"
"\n"
"Exit status: 0; 1 when the batch does not answer (--all: nicely-agent\n"
"does not answer or refuses); 2 when BATCH is not running; 255 for a\n"
"usage error.\n";

static const char cli_kill_help[] =
"usage: nicely kill [BATCH | --all | --user NAME]\n"
"\n"
"Kill every process of every running task of the batch (TERM, a grace\n"
"second, then KILL; its cgroups reach double-forked grandchildren) and\n"
"start nothing more. The batch ends as on Ctrl-C, keeping what finished;\n"
"killed tasks are recorded as killed; its nicely run exits 255. Returns\n"
"when nothing of the batch runs any more (--on slurm: scancel of its\n"
"arrays, and none of them left in squeue). Without BATCH, your only\n"
"running batch.\n"
"\n"
"options:\n"
"      --all             every running batch of yours\n"
"      --user NAME       every batch of user NAME, through nicely-agent\n"
"                        (your own name, or any as root or a member of a\n"
"                        group in [agent] admins); each batch's nicely run\n"
"                        or pool learns it at its next lease and ends\n"
"  -h, --help            this help\n"
"\n"
"Exit status: 0 killed; 1 refused or not reachable; 2 no such batch, none\n"
"running, or several and none named; 255 for a usage error.\n";

static const char cli_reset_help[] =
"usage: nicely reset [BATCH]\n"
"\n"
"Read the config files again (an error, with its file:line, refuses the\n"
"reset and the batch keeps its config), then kill every running task\n"
"(recorded as killed), drop every queued task (recorded as cancelled) and\n"
"go on with the input that arrives afterwards, under the new config. A\n"
"batch whose input is all read ends. Returns when the killed tasks are\n"
"gone. Without BATCH, your only running batch.\n"
"\n"
"options:\n"
"  -h, --help            this help\n"
"\n"
"Exit status: 0 reset; 1 refused (config error, batch ending) or not\n"
"reachable; 2 no such batch, none running, or several and none named;\n"
"255 for a usage error.\n";

static const char cli_pause_help[] =
"usage: nicely pause [BATCH]\n"
"\n"
"Freeze every running task of the batch (cgroup freezer, else SIGSTOP of\n"
"each task's process group) and start nothing until 'nicely resume'.\n"
"Timeouts do not count frozen time. Without BATCH, your only running\n"
"batch. A batch run with --on slurm is held instead: its pending array\n"
"elements wait (scontrol hold), running ones go on to their end.\n"
"\n"
"options:\n"
"  -h, --help            this help\n"
"\n"
"Exit status: 0 paused; 1 refused or not reachable; 2 no such batch, none\n"
"running, or several and none named; 255 for a usage error.\n";

static const char cli_resume_help[] =
"usage: nicely resume [BATCH]\n"
"\n"
"Thaw a batch paused by 'nicely pause' (or Ctrl-Z); tasks the preset\n"
"paused itself stay paused until it resumes them. Without BATCH, your\n"
"only running batch.\n"
"\n"
"options:\n"
"  -h, --help            this help\n"
"\n"
"Exit status: 0 resumed; 1 refused or not reachable; 2 no such batch, none\n"
"running, or several and none named; 255 for a usage error.\n";

/* A usage error of subcommand name. */
__attribute__((format(printf, 2, 3))) static int cli_ctl_usage(const char *name,
							       const char *fmt,
							       ...)
{
	va_list ap;

	fprintf(stderr, "nicely %s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(try 'nicely %s --help')\n", name);
	return CLI_CTL_USAGE;
}

/* Parse [--json] [--all] [--user NAME] [-h] [BATCH] (json, all, user
 * NULL: not taken). Returns -1 to go on, else an exit status. */
static int cli_ctl_parse(const char *name, const char *help, int argc,
			 char **argv, int *json, int *all, const char **user,
			 const char **batch)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "all", no_argument, NULL, 'A' },
		{ "user", required_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	*batch = NULL;
	if (user)
		*user = NULL;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'J':
			if (!json)
				return cli_ctl_usage(name, "unknown option "
						     "'--json'");
			*json = 1;
			break;
		case 'A':
			if (!all)
				return cli_ctl_usage(name, "unknown option "
						     "'--all'");
			*all = 1;
			break;
		case 'U':
			if (!user)
				return cli_ctl_usage(name, "unknown option "
						     "'--user'");
			*user = optarg;
			break;
		case 'h':
			fputs(help, stdout);
			return 0;
		case '?':
			if (optopt == 'U')
				return cli_ctl_usage(name, "--user needs a "
						     "user name");
			/* fall through */
		default:
			return cli_ctl_usage(name, "unknown option '%s'",
					     argv[optind - 1]);
		}
	}
	if (optind < argc)
		*batch = argv[optind++];
	if (optind < argc)
		return cli_ctl_usage(name, "one BATCH at most ('%s' is one "
				     "too many)", argv[optind]);
	if (all && *all && *batch)
		return cli_ctl_usage(name, "BATCH and --all exclude each "
				     "other");
	if (user && *user && (*batch || (all && *all)))
		return cli_ctl_usage(name, "--user excludes BATCH and --all");
	if (user && *user && !**user)
		return cli_ctl_usage(name, "--user needs a user name");
	return -1;
}

/* The runtime directory, or an error message. 0 or CLI_CTL_USAGE. */
static int cli_ctl_dir(const char *name, char *dir, size_t len)
{
	char err[1024];

	if (rundir_get(dir, len, err, sizeof err) < 0) {
		fprintf(stderr, "nicely %s: %s\n", name, err);
		return CLI_CTL_USAGE;
	}
	return 0;
}

/* The batch a command acts on: BATCH, else the only one running.
 * 0, or an exit status after saying what is wrong. */
static int cli_ctl_pick(const char *name, const char *dir, const char *id,
			struct ctl_batch *b)
{
	struct ctl_batch *v = NULL;
	char err[1024];
	int n;

	if (id) {
		if (ctl_client_find(dir, id, b, err, sizeof err) < 0) {
			/* a detached batch (nicely submit): its id or name */
			char serr[1024];
			int e = cli_batch_ctl(id, b, serr, sizeof serr);
			if (e == 0)
				return 0;
			fprintf(stderr, "nicely %s: %s\n", name,
				e == -ENOENT ? err : serr);
			return CLI_CTL_NO_BATCH;
		}
		return 0;
	}
	n = ctl_client_list(dir, &v, err, sizeof err);
	if (n < 0) {
		fprintf(stderr, "nicely %s: %s\n", name, err);
		return CLI_CTL_USAGE;
	}
	n = cli_batch_ctl_all(&v, n);
	if (n == 1) {
		*b = v[0];
		free(v);
		return 0;
	}
	if (n == 0)
		fprintf(stderr, "nicely %s: no batch of yours is running\n",
			name);
	else {
		fprintf(stderr, "nicely %s: %d batches of yours are running; "
			"name one:", name, n);
		for (int i = 0; i < n; i++)
			fprintf(stderr, " %s", v[i].id);
		fprintf(stderr, "\n");
	}
	free(v);
	return CLI_CTL_NO_BATCH;
}

/* Send cmd to b; on success *reply holds the answer. 0 or an exit status
 * after printing why. */
static int cli_ctl_call(const char *name, const struct ctl_batch *b,
			const char *cmd, int timeout_ms, json_t **reply)
{
	char err[1024];
	json_t *ok;

	if (ctl_client_request(b, cmd, timeout_ms, reply, err, sizeof err) < 0) {
		fprintf(stderr, "nicely %s: %s\n", name, err);
		return CLI_CTL_REFUSED;
	}
	ok = json_object_get(*reply, "ok");
	if (!json_is_true(ok)) {
		char *m = jsonx_get_visible(*reply, "error");
		fprintf(stderr, "nicely %s: batch %s: %s\n", name, b->id,
			m && *m ? m : "refused");
		free(m);
		json_decref(*reply);
		*reply = NULL;
		return CLI_CTL_REFUSED;
	}
	return 0;
}

/* Integer field of o, -1 when missing. */
static long long cli_ctl_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* String field of o, "" when missing. */
static const char *cli_ctl_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* Local time of epoch seconds t as "YYYY-MM-DD HH:MM:SS". */
static void cli_ctl_time(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;

	if (!localtime_r(&s, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S",
					       &tm))
		snprintf(buf, len, "?");
}

/* A batch run with --on slurm: its arrays and elements, after lead. */
static void cli_ctl_slurm(const json_t *b, const char *lead)
{
	const json_t *s = json_object_get(b, "slurm"), *a;
	size_t i;

	if (!json_is_object(s))
		return;
	printf("%sarray%s", lead, json_array_size(json_object_get(s, "arrays"))
	       == 1 ? "" : "s");
	json_array_foreach(json_object_get(s, "arrays"), i, a)
		printf("%s%s", i ? "," : " ", json_string_value(a));
	printf(": elements %lld pending, %lld running, %lld done\n",
	       cli_ctl_int(s, "pending"), cli_ctl_int(s, "running"),
	       cli_ctl_int(s, "done"));
}

/* One batch in detail. */
static void cli_ctl_detail(const json_t *b)
{
	char when[64], total[32];
	long long t = cli_ctl_int(b, "total");

	cli_ctl_time(json_number_value(json_object_get(b, "start")), when,
		     sizeof when);
	if (t >= 0)
		snprintf(total, sizeof total, "%lld", t);
	else
		snprintf(total, sizeof total, "unknown (input still open)");
	printf("batch:     %s\n", cli_ctl_str(b, "id"));
	printf("pid:       %lld\n", cli_ctl_int(b, "pid"));
	printf("started:   %s\n", when);
	char *cmd = jsonx_get_visible(b, "command");
	printf("command:   %s%s\n", cmd ? cmd : "?",
	       json_is_true(json_object_get(b, "command_cut"))
		       ? " [cut: longer than " CLI_CTL_XSTR(CTL_COMMAND_MAX)
			 " bytes]" : "");
	free(cmd);
	printf("preset:    %s\n", cli_ctl_str(b, "preset"));
	printf("state:     %s\n", cli_ctl_str(b, "state"));
	printf("paused:    %s\n",
	       json_is_true(json_object_get(b, "paused")) ? "yes" : "no");
	printf("total:     %s\n", total);
	printf("queued:    %lld\n", cli_ctl_int(b, "queued"));
	printf("running:   %lld\n", cli_ctl_int(b, "running"));
	printf("done:      %lld\n", cli_ctl_int(b, "done"));
	printf("failed:    %lld\n", cli_ctl_int(b, "failed"));
	printf("cancelled: %lld\n", cli_ctl_int(b, "cancelled"));
	printf("resets:    %lld\n", cli_ctl_int(b, "resets"));
	/* why queued tasks wait (protocol 4; "" when nothing holds them) */
	char *why = jsonx_get_visible(b, "reason");
	if (why && *why)
		printf("waiting:   %s\n", why);
	free(why);
	cli_ctl_slurm(b, "slurm:     ");
}

/* One batch as a line of the list. */
static void cli_ctl_line(const json_t *b)
{
	char when[64], done[48];
	long long t = cli_ctl_int(b, "total");

	if (!strcmp(cli_ctl_str(b, "state"), "stopped")) {
		printf("%-8s %-19s %-9s (its nicely run does not answer: "
		       "stopped with Ctrl-Z?)\n", cli_ctl_str(b, "id"), "-",
		       "stopped");
		return;
	}
	cli_ctl_time(json_number_value(json_object_get(b, "start")), when,
		     sizeof when);
	if (t >= 0)
		snprintf(done, sizeof done, "%lld/%lld",
			 cli_ctl_int(b, "done"), t);
	else
		snprintf(done, sizeof done, "%lld/?", cli_ctl_int(b, "done"));
	char *cmd = jsonx_get_visible(b, "command");
	printf("%-8s %-19s %-9s %-11s %7lld %7lld %6lld  %-10s %s%s\n",
	       cli_ctl_str(b, "id"), when, cli_ctl_str(b, "state"), done,
	       cli_ctl_int(b, "running"), cli_ctl_int(b, "queued"),
	       cli_ctl_int(b, "failed"), cli_ctl_str(b, "preset"),
	       cmd ? cmd : "?",
	       json_is_true(json_object_get(b, "command_cut")) ? " [cut]" : "");
	free(cmd);
	cli_ctl_slurm(b, "         slurm ");
}

/* `nicely status --all [--json]`: every user's running batches from the
 * agent; for root also every user's detached batches, finished ones
 * included (cli_batch_all.c), with or without the agent. */
static int cli_status_all(int json)
{
	char err[1024];
	json_t *v = NULL, *det = json_array();
	int every, e, nd;

	e = cli_agent_list(1, &v, &every, err, sizeof err);
	nd = det ? cli_batch_all(det) : 0;
	/* root gets the stores when the agent is away, not when it refuses */
	if (e < 0 && (geteuid() != 0 || !det || e == -EREMOTEIO)) {
		fprintf(stderr, "nicely status --all: %s%s\n", err,
			e == -ENOENT || e == -ECONNREFUSED
				? " (only nicely-agent knows every user's "
				  "batches)"
				: "");
		json_decref(det);
		return CLI_CTL_REFUSED;
	}
	if (e < 0) {
		/* root without the agent: the stores still tell */
		fprintf(stderr, "nicely status --all: %s: running batches of "
			"nicely run and libnicely are not listed, detached "
			"ones are\n", err);
		v = json_array();
	}
	if (json) {
		json_array_extend(v, det);
		json_dumpf(v, stdout, JSON_COMPACT);
		putchar('\n');
	} else {
		if (json_array_size(v) == 0 && e == 0)
			printf("no batch is running\n");
		else if (json_array_size(v))
			cli_agent_print(stdout, v);
		if (nd > 0) {
			if (json_array_size(v) || e == 0)
				putchar('\n');
			cli_batch_print(det);
		}
	}
	json_decref(v);
	json_decref(det);
	return fflush(stdout) == 0 ? CLI_CTL_OK : CLI_CTL_USAGE;
}

/* `nicely kill --user NAME`: through the agent. */
static int cli_kill_user(const char *user)
{
	char err[1024];
	int n, e;

	e = cli_agent_kill_user(user, &n, err, sizeof err);
	if (e < 0) {
		fprintf(stderr, "nicely kill: %s\n", err);
		return CLI_CTL_REFUSED;
	}
	printf("%d batch%s of %s killed\n", n, n == 1 ? "" : "es", user);
	return fflush(stdout) == 0 ? CLI_CTL_OK : CLI_CTL_USAGE;
}

/* `nicely status [--json] [BATCH | --all]`. */
int cli_status(int argc, char **argv)
{
	char dir[4096], err[1024];
	const char *id;
	int json = 0, rc, n;
	struct ctl_batch b, *v = NULL;
	json_t *reply, *all;

	int every_user = 0;

	rc = cli_ctl_parse("status", cli_status_help, argc, argv, &json,
			   &every_user, NULL, &id);
	if (rc >= 0)
		return rc;
	if (every_user)
		return cli_status_all(json);
	if ((rc = cli_ctl_dir("status", dir, sizeof dir)))
		return rc;
	if (id && ctl_client_find(dir, id, &b, err, sizeof err) < 0) {
		/* a detached batch (nicely submit), running or not */
		json_t *o;
		char serr[1024];
		int e = cli_batch_find(id, &o, serr, sizeof serr);

		if (e < 0) {
			fprintf(stderr, "nicely status: %s\n",
				e == -ENOENT ? err : serr);
			return CLI_CTL_NO_BATCH;
		}
		if (json) {
			json_dumpf(o, stdout, JSON_COMPACT);
			putchar('\n');
		} else {
			json_t *one = json_array();
			json_array_append(one, o);
			cli_batch_print(one);
			json_decref(one);
		}
		json_decref(o);
		return fflush(stdout) == 0 ? CLI_CTL_OK : CLI_CTL_USAGE;
	}
	if (id) {
		/* b was found above */
		if ((rc = cli_ctl_call("status", &b, CTL_CMD_STATUS,
				       CLI_CTL_STATUS_MS, &reply)))
			return rc;
		json_t *bo = json_object_get(reply, "batch");
		if (!json_is_object(bo)) {
			fprintf(stderr, "nicely status: batch %s answered "
				"without its status\n", b.id);
			json_decref(reply);
			return CLI_CTL_REFUSED;
		}
		if (json) {
			json_dumpf(bo, stdout, JSON_COMPACT);
			putchar('\n');
		} else {
			cli_ctl_detail(bo);
		}
		json_decref(reply);
		return fflush(stdout) == 0 ? CLI_CTL_OK : CLI_CTL_USAGE;
	}
	n = ctl_client_list(dir, &v, err, sizeof err);
	if (n < 0) {
		fprintf(stderr, "nicely status: %s\n", err);
		return CLI_CTL_USAGE;
	}
	all = json_array();
	for (int i = 0; i < n; i++) {
		int e = ctl_client_request(&v[i], CTL_CMD_STATUS,
					   CLI_CTL_STATUS_MS, &reply, err,
					   sizeof err);
		if (e == -ETIMEDOUT) {
			/* its nicely run is stopped (Ctrl-Z) or stuck */
			json_array_append_new(all, json_pack(
				"{s:s,s:i,s:s}", "id", v[i].id, "pid",
				atoi(v[i].id), "state", "stopped"));
			continue;
		}
		if (e < 0) {
			/* it ended meanwhile: not running; else say why */
			if (e != -ECONNREFUSED && e != -ENOENT)
				fprintf(stderr, "nicely status: %s\n", err);
			continue;
		}
		json_t *bo = json_object_get(reply, "batch");
		if (json_is_true(json_object_get(reply, "ok")) &&
		    json_is_object(bo)) {
			json_array_append(all, bo);
		} else {
			char *m = jsonx_get_visible(reply, "error");
			fprintf(stderr, "nicely status: batch %s: %s\n",
				v[i].id, m && *m ? m : "answered without "
				"its status");
			free(m);
		}
		json_decref(reply);
	}
	free(v);
	size_t nattached = json_array_size(all);
	/* then the detached batches of the store, running or finished */
	if (cli_batch_list(all) < 0)
		rc = CLI_CTL_REFUSED;
	if (json) {
		json_dumpf(all, stdout, JSON_COMPACT);
		putchar('\n');
	} else if (json_array_size(all) == 0) {
		printf("no batch of yours is running\n");
	} else {
		if (nattached)
			printf("%-8s %-19s %-9s %-11s %7s %7s %6s  %-10s %s\n",
			       "BATCH", "STARTED", "STATE", "DONE/TOTAL",
			       "RUNNING", "QUEUED", "FAILED", "PRESET",
			       "COMMAND");
		for (size_t i = 0; i < nattached; i++)
			cli_ctl_line(json_array_get(all, i));
		if (nattached && json_array_size(all) > nattached)
			putchar('\n');
		cli_batch_print(all);
	}
	json_decref(all);
	return fflush(stdout) != 0 ? CLI_CTL_USAGE : rc == CLI_CTL_REFUSED ? rc : CLI_CTL_OK;
}

/* `nicely kill [BATCH | --all]`. */
int cli_kill(int argc, char **argv)
{
	char dir[4096], err[1024];
	const char *id;
	int all = 0, rc, worst = CLI_CTL_OK, n;
	struct ctl_batch b, *v = NULL;
	json_t *reply;

	const char *user;

	rc = cli_ctl_parse("kill", cli_kill_help, argc, argv, NULL, &all,
			   &user, &id);
	if (rc >= 0)
		return rc;
	if (user)
		return cli_kill_user(user);
	if ((rc = cli_ctl_dir("kill", dir, sizeof dir)))
		return rc;
	if (!all) {
		if ((rc = cli_ctl_pick("kill", dir, id, &b)))
			return rc;
		v = malloc(sizeof *v);
		if (!v)
			return CLI_CTL_USAGE;
		v[0] = b;
		n = 1;
	} else {
		n = ctl_client_list(dir, &v, err, sizeof err);
		if (n < 0) {
			fprintf(stderr, "nicely kill: %s\n", err);
			return CLI_CTL_USAGE;
		}
		if (n == 0)
			fprintf(stderr, "nicely kill: no batch of yours is "
				"running\n");
	}
	for (int i = 0; i < n; i++) {
		if ((rc = cli_ctl_call("kill", &v[i], CTL_CMD_KILL, -1,
				       &reply))) {
			worst = rc;
			continue;
		}
		printf("batch %s killed (%lld running task%s)\n", v[i].id,
		       cli_ctl_int(reply, "killed"),
		       cli_ctl_int(reply, "killed") == 1 ? "" : "s");
		json_decref(reply);
	}
	free(v);
	return worst;
}

/* `nicely reset [BATCH]`. */
int cli_reset(int argc, char **argv)
{
	char dir[4096];
	const char *id;
	struct ctl_batch b;
	json_t *reply;
	int rc;

	rc = cli_ctl_parse("reset", cli_reset_help, argc, argv, NULL, NULL,
			   NULL, &id);
	if (rc >= 0)
		return rc;
	if ((rc = cli_ctl_dir("reset", dir, sizeof dir)) ||
	    (rc = cli_ctl_pick("reset", dir, id, &b)) ||
	    (rc = cli_ctl_call("reset", &b, CTL_CMD_RESET, -1, &reply)))
		return rc;
	printf("batch %s reset: %lld running task%s killed, %lld queued "
	       "task%s cancelled, preset %s\n", b.id,
	       cli_ctl_int(reply, "killed"),
	       cli_ctl_int(reply, "killed") == 1 ? "" : "s",
	       cli_ctl_int(reply, "cancelled"),
	       cli_ctl_int(reply, "cancelled") == 1 ? "" : "s",
	       cli_ctl_str(reply, "preset"));
	json_decref(reply);
	return CLI_CTL_OK;
}

/* `nicely pause` and `nicely resume`. */
static int cli_ctl_pause(int argc, char **argv, int pause)
{
	const char *name = pause ? "pause" : "resume";
	char dir[4096];
	const char *id;
	struct ctl_batch b;
	json_t *reply;
	int rc;

	rc = cli_ctl_parse(name, pause ? cli_pause_help : cli_resume_help,
			   argc, argv, NULL, NULL, NULL, &id);
	if (rc >= 0)
		return rc;
	if ((rc = cli_ctl_dir(name, dir, sizeof dir)) ||
	    (rc = cli_ctl_pick(name, dir, id, &b)) ||
	    (rc = cli_ctl_call(name, &b, pause ? CTL_CMD_PAUSE : CTL_CMD_RESUME,
			       -1, &reply)))
		return rc;
	json_t *sl = json_object_get(reply, "slurm");
	if (json_is_object(sl) && json_is_true(json_object_get(reply,
							       "changed")))
		printf("batch %s %s: %lld pending Slurm element%s %s%s\n",
		       b.id, pause ? "paused" : "resumed",
		       cli_ctl_int(sl, pause ? "held" : "released"),
		       cli_ctl_int(sl, pause ? "held" : "released") == 1 ? ""
		       : "s", pause ? "held" : "released",
		       pause ? "; running ones go on until they end" : "");
	else if (!json_is_true(json_object_get(reply, "changed")))
		printf("batch %s was %s already\n", b.id,
		       pause ? "paused" : "running");
	else
		printf("batch %s %s (%lld task%s %s)\n", b.id,
		       pause ? "paused" : "resumed",
		       cli_ctl_int(reply, "tasks"),
		       cli_ctl_int(reply, "tasks") == 1 ? "" : "s",
		       pause ? "frozen" : "thawed");
	json_decref(reply);
	return CLI_CTL_OK;
}

/* `nicely pause [BATCH]`. */
int cli_pause(int argc, char **argv)
{
	return cli_ctl_pause(argc, argv, 1);
}

/* `nicely resume [BATCH]`. */
int cli_resume(int argc, char **argv)
{
	return cli_ctl_pause(argc, argv, 0);
}
