/* sched/cli/cli_submit: `nicely submit` makes a batch's store (store.c),
 * copies its inputs there and starts its supervisor, `nicely run --store
 * DIR`: handed to nicely-agent when it runs (it starts the supervisor as
 * us outside our login session and keeps it), else detached in a session
 * of its own (no terminal; SIGHUP ignored); then prints the batch id and
 * returns; `--resume BATCH` starts the supervisor again on what is left.
 * `--held DIR` is what the agent runs as the user: it reads the store
 * (command line, cwd, environment) and becomes the supervisor. The
 * supervisor's side (lock, inputs, store sink, ready signal, final state)
 * is here too, called from cli_run.c. Front end called from
 * main_nicely.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "policy/config.h"
#include "sched/agent_client.h"
#include "sched/cli/cli.h"
#include "sched/cli/cli_submit.h"
#include "sched/cli/output.h"
#include "sched/cli/run_store.h"
#include "sched/cli/store.h"

#define CLI_SUBMIT_USAGE 255
#define CLI_SUBMIT_READY_ENV "NICELY_SUBMIT_READY_FD"
#define CLI_SUBMIT_AGENT_MS 10000

static const char cli_submit_help[] =
"usage: nicely submit [RUN OPTIONS] [--name NAME] [--] COMMAND ::: VALUES...\n"
"       nicely submit --resume BATCH\n"
"\n"
"Run a batch as 'nicely run' does (the same syntax and options), detached:\n"
"print its batch id and return at once. The batch runs in a session of its\n"
"own and outlives the terminal, logout and SIGHUP; with nicely-agent\n"
"running, the agent starts and keeps it outside your login session (a\n"
"supervisor killed by a signal is resumed, up to 3 times). Each task's\n"
"stdout, stderr and exit status are kept in your batch store,\n"
"$XDG_STATE_HOME/nicely/batches/ID (default ~/.local/state), written to\n"
"disk at each task's end. Read them with 'nicely results', follow the\n"
"batch with 'nicely attach', wait for it with 'nicely wait'; 'nicely\n"
"status' lists your batches; kill, reset, pause and resume work on it.\n"
"\n"
"options (besides those of nicely run, --on slurm included; --results,\n"
"--dry-run and --bar do not apply):\n"
"      --name NAME       a name to use instead of the id (1-63 letters,\n"
"                        digits, '_', '-', '.')\n"
"      --resume BATCH    run again the tasks of BATCH that have no recorded\n"
"                        result (after its supervisor was killed, or the\n"
"                        machine went down); the id, a unique start of it,\n"
"                        or the name\n"
"  -h, --help            this help\n"
"\n"
"Standard input, when it is the input, is copied into the store first.\n"
"Exit status: 0 when the batch started; 255 for a usage or config error\n"
"or a batch that could not start (its messages are printed).\n";

/* Copy src (path, or stdin when NULL or "-") to a new private file. */
static int cli_submit_copy(const char *dir, const char *name, const char *src,
			   char *err, size_t errlen)
{
	char buf[65536];
	int in = 0, out, e = 0;
	ssize_t n;

	if (src && strcmp(src, "-")) {
		in = open(src, O_RDONLY | O_CLOEXEC);
		if (in < 0) {
			e = errno;
			snprintf(err, errlen, "%s: %s", src, strerror(e));
			return -e;
		}
	} else if (isatty(0)) {
		snprintf(err, errlen, "no input values (:::, ::::, -a FILE) "
			 "and standard input is a terminal");
		return -EINVAL;
	}
	out = store_open(dir, name, O_WRONLY | O_CREAT | O_EXCL);
	if (out < 0) {
		snprintf(err, errlen, "cannot create %.900s/%s: %s", dir, name,
			 strerror(-out));
		if (in > 0)
			close(in);
		return out;
	}
	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (e = output_full_write(out, buf, (size_t)n)) < 0) {
			e = n < 0 ? -errno : e;
			snprintf(err, errlen, "copying %s into the store: %s",
				 src ? src : "standard input", strerror(-e));
			break;
		}
	}
	if (e == 0 && fsync(out) < 0) {
		e = -errno;
		snprintf(err, errlen, "%.900s/%s: %s", dir, name, strerror(-e));
	}
	close(out);
	if (in > 0)
		close(in);
	return e;
}

/* Write the batch's meta file: id, name, when, where, the command line. */
static int cli_submit_meta(const struct store_batch *b, int argc, char **argv,
			   char *err, size_t errlen)
{
	char cwd[PATH_MAX];
	struct timeval tv;
	json_t *m, *av;
	char *s;
	int fd, e = 0;

	if (!getcwd(cwd, sizeof cwd)) {
		e = -errno;
		snprintf(err, errlen, "getcwd: %s", strerror(-e));
		return e;
	}
	gettimeofday(&tv, NULL);
	av = json_array();
	for (int i = 1; i < argc; i++)
		json_array_append_new(av, json_string(argv[i]));
	m = json_pack("{s:s,s:s,s:f,s:s,s:i,s:o}", "id", b->id, "name",
		      b->name, "created",
		      (double)tv.tv_sec + (double)tv.tv_usec / 1e6, "cwd", cwd,
		      "uid", (int)geteuid(), "argv", av);
	/* the environment, for a supervisor nicely-agent starts (entries
	 * that are not UTF-8 cannot go into JSON: left out) */
	json_t *env = json_array();
	for (char **ev = environ; m && env && *ev; ev++)
		if (strncmp(*ev, CLI_SUBMIT_READY_ENV "=",
			    sizeof CLI_SUBMIT_READY_ENV))
			json_array_append_new(env, json_string(*ev));
	if (m)
		json_object_set_new(m, "env", env);
	else
		json_decref(env);
	s = m ? json_dumps(m, JSON_COMPACT) : NULL;
	json_decref(m);
	if (!s) {
		/* an argument that is not UTF-8 cannot go into JSON */
		snprintf(err, errlen, "the command line cannot be recorded "
			 "(an argument is not valid UTF-8)");
		return -EINVAL;
	}
	fd = store_open(b->dir, "meta", O_WRONLY | O_CREAT | O_EXCL);
	if (fd < 0 || (e = output_full_write(fd, s, strlen(s))) < 0 ||
	    (e = output_full_write(fd, "\n", 1)) < 0 || fsync(fd) < 0) {
		e = fd < 0 ? fd : e < 0 ? e : -errno;
		snprintf(err, errlen, "cannot write %.900s/meta: %s", b->dir,
			 strerror(-e));
	}
	if (fd >= 0)
		close(fd);
	free(s);
	return e;
}

/* Hand the batch to nicely-agent, its ready pipe's write end with it.
 * 1 when it took it; 0 when there is no agent, or one that does not keep
 * batches (the caller starts the supervisor itself); said on stderr
 * when the agent refused for another reason. */
static int cli_submit_agent(const struct store_batch *b, int resume,
			    int readyfd)
{
	struct agent_client_opts o = AGENT_CLIENT_OPTS_INIT;
	struct agent_client *c;
	char err[1024];
	pid_t pid;
	int e;

	/* the agent forks and execs before it answers: more than a lease */
	o.timeout_ms = CLI_SUBMIT_AGENT_MS;
	if (agent_client_connect(&c, &o, err, sizeof err) < 0)
		return 0;
	e = agent_client_submit(c, b->dir, b->id, resume, readyfd, &pid, err,
				sizeof err);
	agent_client_free(c);
	/* a late answer: the agent may have started it; the ready pipe
	 * says (a second supervisor of ours would race it for the lock) */
	if (e == 0 || e == -ETIMEDOUT)
		return 1;
	if (e == -EREMOTEIO && !strstr(err, "unknown command") &&
	    !strstr(err, "does not keep"))
		fprintf(stderr, "nicely submit: %s; the batch's supervisor "
			"runs in this session instead\n", err);
	return 0;
}

/* Fork the supervisor (exe, av) detached: a session of its own, and a
 * grandchild that cannot get a terminal back; nothing of ours is its
 * parent. readyfd becomes NICELY_SUBMIT_READY_FD, logfd its stdout and
 * stderr. 0, or -1 said on stderr. */
static int cli_submit_fork(const char *exe, char **av, int readyfd,
			   int logfd, const char *cwd)
{
	pid_t pid = fork();

	if (pid == 0) {
		setsid();
		if (fork() != 0)
			_exit(0);
		int nul = open("/dev/null", O_RDWR);
		char fdnum[16];
		int rfd = dup(readyfd);	/* survives exec */

		if (cwd && chdir(cwd) < 0)
			_exit(126);
		if (nul < 0 || rfd < 0 || dup2(nul, 0) < 0 ||
		    dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
			_exit(126);
		snprintf(fdnum, sizeof fdnum, "%d", rfd);
		setenv(CLI_SUBMIT_READY_ENV, fdnum, 1);
		execv(exe, av);
		dprintf(2, "nicely submit: cannot run %s: %s\n", exe,
			strerror(errno));
		_exit(127);
	}
	if (pid < 0) {
		fprintf(stderr, "nicely submit: fork: %s\n", strerror(errno));
		return -1;
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* Start the supervisor on the batch, detached (through nicely-agent when
 * it runs), and wait until it says it runs (0) or has given up (its log
 * then says why: printed, -1). */
static int cli_submit_spawn(const struct store_batch *b, char **args,
			    int nargs, int resume, const char *cwd)
{
	char exe[PATH_MAX], buf[4096];
	char **av = calloc((size_t)nargs + 6, sizeof *av);
	int ready[2], logfd, k = 0, e = 0;
	ssize_t n, got = 0;

	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0 || !av) {
		fprintf(stderr, "nicely submit: /proc/self/exe: %s\n",
			strerror(errno));
		free(av);
		return -1;
	}
	exe[n] = 0;
	av[k++] = "nicely";
	av[k++] = "run";
	av[k++] = "--store";
	av[k++] = (char *)b->dir;
	if (resume)
		av[k++] = "--store-resume";
	for (int i = 0; i < nargs; i++)
		av[k++] = args[i];
	av[k] = NULL;
	logfd = store_open(b->dir, "log", O_WRONLY | O_CREAT | O_APPEND);
	if (logfd < 0 || pipe2(ready, O_CLOEXEC) < 0) {
		fprintf(stderr, "nicely submit: cannot start the batch: %s\n",
			strerror(logfd < 0 ? -logfd : errno));
		if (logfd >= 0)
			close(logfd);
		free(av);
		return -1;
	}
	fflush(NULL);
	/* the agent starts it (as us, from the store) when it runs */
	if (!cli_submit_agent(b, resume, ready[1]))
		e = cli_submit_fork(exe, av, ready[1], logfd, cwd);
	close(ready[1]);
	close(logfd);
	free(av);
	if (e < 0) {
		close(ready[0]);
		return -1;
	}
	while ((n = read(ready[0], buf + got, sizeof buf - 1 - (size_t)got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += n;
		if ((size_t)got >= sizeof buf - 1)
			break;
	}
	close(ready[0]);
	buf[got] = 0;
	if (!strncmp(buf, "ok", 2))
		return 0;
	/* it gave up: say why, from its log */
	int fd = store_open(b->dir, "log", O_RDONLY);
	if (fd >= 0) {
		while ((n = read(fd, buf, sizeof buf)) > 0)
			if (output_full_write(2, buf, (size_t)n) < 0)
				break;
		close(fd);
	}
	fprintf(stderr, "nicely submit: the batch did not start\n");
	return -1;
}

/* Load the config for [store] keep and drop the batches it let expire.
 * 0, or an exit status after saying what is wrong. */
static int cli_submit_expire(const char *root)
{
	struct policy_config_opts copts;
	struct policy_config *cfg = NULL;
	struct policy_store ps;
	char err[1024];

	memset(&copts, 0, sizeof copts);
	if (policy_config_load(&cfg, &copts, err, sizeof err) < 0) {
		fprintf(stderr, "nicely submit: config: %s\n", err);
		return CLI_SUBMIT_USAGE;
	}
	policy_config_store(cfg, &ps);
	policy_config_free(cfg);
	store_expire(root, ps.keep_s);
	return 0;
}

/* `nicely submit --resume BATCH`. */
static int cli_submit_resume(const char *key)
{
	char root[4096], err[1024], cwd[PATH_MAX] = "";
	struct store_batch b;
	json_t *m, *av;
	int fd, rc = CLI_SUBMIT_USAGE;

	if (store_root(root, sizeof root, 0, err, sizeof err) < 0 ||
	    store_find(root, key, &b, err, sizeof err) < 0) {
		fprintf(stderr, "nicely submit: %s\n", err);
		return CLI_SUBMIT_USAGE;
	}
	if (store_running(b.dir)) {
		fprintf(stderr, "nicely submit: batch %s is running; nothing "
			"to resume\n", b.id);
		return 1;
	}
	fd = store_open(b.dir, "meta", O_RDONLY);
	m = fd >= 0 ? json_loadfd(fd, 0, NULL) : NULL;
	if (fd >= 0)
		close(fd);
	av = json_object_get(m, "argv");
	if (!json_is_array(av)) {
		fprintf(stderr, "nicely submit: %s/meta: no command line "
			"recorded\n", b.dir);
		json_decref(m);
		return CLI_SUBMIT_USAGE;
	}
	size_t n = json_array_size(av);
	char **args = calloc(n + 1, sizeof *args);
	for (size_t i = 0; args && i < n; i++)
		args[i] = (char *)json_string_value(json_array_get(av, i));
	if (json_is_string(json_object_get(m, "cwd")))
		snprintf(cwd, sizeof cwd, "%s",
			 json_string_value(json_object_get(m, "cwd")));
	fd = args ? store_state_create(b.dir) : -ENOMEM;
	if (fd >= 0) {
		close(fd);
		if (cli_submit_spawn(&b, args, (int)n, 1, cwd[0] ? cwd : NULL) == 0) {
			printf("%s\n", b.id);
			rc = fflush(stdout) == 0 ? 0 : CLI_SUBMIT_USAGE;
		}
	} else {
		fprintf(stderr, "nicely submit: %s/state: %s\n", b.dir,
			strerror(-fd));
	}
	free(args);
	json_decref(m);
	return rc;
}

/* The "held" note of a batch the agent restarted: "RESTARTS SIGNAL\n". */
static void cli_submit_held_note(const char *dir, int restarts, int sig)
{
	char line[64];
	int fd = store_open(dir, "held", O_WRONLY | O_CREAT | O_TRUNC);

	if (fd < 0)
		return;
	snprintf(line, sizeof line, "%d %d\n", restarts, sig);
	if (output_full_write(fd, line, strlen(line)) < 0 || fsync(fd) < 0) {
		/* status then shows no restart count: the log has it */
	}
	close(fd);
}

/* `nicely submit --held DIR [--resume | --restarted N --signal S |
 * --gave-up N --signal S]`: what nicely-agent runs, as the batch's user,
 * with a clean environment: check the store is ours, write to its log,
 * note a restart, take the recorded environment and cwd, and become the
 * supervisor (on what is left, but for a first start). A batch that is
 * finished, or that a supervisor runs, is left alone (exit 0). */
static int cli_submit_held(int argc, char **argv)
{
	const char *dir = argv[2], *mode = argc > 3 ? argv[3] : "";
	char exe[PATH_MAX], ready[32] = "";
	struct store_state st;
	struct stat sb;
	json_t *m, *av, *env;
	int fd, n = 0, sig = 0, resume;
	ssize_t len;

	if (argc == 7 && !strcmp(argv[5], "--signal")) {
		n = atoi(argv[4]);
		sig = atoi(argv[6]);
	} else if (argc != 3 && !(argc == 4 && !strcmp(mode, "--resume"))) {
		fprintf(stderr, "nicely submit: --held is nicely-agent's\n");
		return CLI_SUBMIT_USAGE;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0 || sb.st_uid != getuid() ||
	    (sb.st_mode & 077)) {
		/* not ours (or not there): nothing is started, nothing said
		 * in a store we may not write */
		if (fd >= 0)
			close(fd);
		return 2;
	}
	close(fd);
	fd = store_open(dir, "log", O_WRONLY | O_CREAT | O_APPEND);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		return 2;
	if (fd > 2)
		close(fd);
	resume = *mode != 0;
	if (!strcmp(mode, "--restarted") || !strcmp(mode, "--gave-up")) {
		if (store_state_read(dir, &st) == 0 &&
		    !strcmp(st.state, "finished"))
			return 0;
		if (store_running(dir))
			return 0;
		cli_submit_held_note(dir, n, sig);
		if (!strcmp(mode, "--gave-up")) {
			fprintf(stderr, "nicely: nicely-agent: the supervisor "
				"ended again (signal %d) after %d restarts; not "
				"starting it again (nicely submit --resume)\n",
				sig, n);
			return 0;
		}
		fprintf(stderr, "nicely: nicely-agent: the supervisor ended "
			"(%s %d); resuming the batch (restart %d of %d)\n",
			sig ? "signal" : "while no agent watched; status",
			sig, n, AGENT_HELD_RESTARTS);
		if ((fd = store_state_create(dir)) >= 0)
			close(fd);
	}
	fd = store_open(dir, "meta", O_RDONLY);
	m = fd >= 0 ? json_loadfd(fd, 0, NULL) : NULL;
	if (fd >= 0)
		close(fd);
	av = json_object_get(m, "argv");
	env = json_object_get(m, "env");
	if (!json_is_array(av) ||
	    !json_is_string(json_object_get(m, "cwd"))) {
		fprintf(stderr, "nicely: %s/meta: no command line recorded\n",
			dir);
		json_decref(m);
		return 2;
	}
	if (getenv(CLI_SUBMIT_READY_ENV))
		snprintf(ready, sizeof ready, "%s", getenv(CLI_SUBMIT_READY_ENV));
	/* the user's environment as it was at submit (a store of a nicely
	 * before "env": the agent's clean one, PATH, HOME, USER...) */
	if (json_is_array(env))
		clearenv();
	for (size_t i = 0; json_is_array(env) && i < json_array_size(env);
	     i++) {
		const char *e = json_string_value(json_array_get(env, i));
		if (e && strchr(e, '=') && putenv((char *)e) != 0)
			break;
	}
	if (ready[0])
		setenv(CLI_SUBMIT_READY_ENV, ready, 1);
	if (chdir(json_string_value(json_object_get(m, "cwd"))) < 0) {
		fprintf(stderr, "nicely: cannot enter %s: %s\n",
			json_string_value(json_object_get(m, "cwd")),
			strerror(errno));
		return 2;
	}
	size_t na = json_array_size(av);
	char **args = calloc(na + 6, sizeof *args);
	len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (!args || len < 0) {
		fprintf(stderr, "nicely: %s\n", strerror(errno ? errno : ENOMEM));
		return 2;
	}
	exe[len] = 0;
	int k = 0;
	args[k++] = "nicely";
	args[k++] = "run";
	args[k++] = "--store";
	args[k++] = (char *)dir;
	if (resume)
		args[k++] = "--store-resume";
	for (size_t i = 0; i < na; i++)
		if (json_is_string(json_array_get(av, i)))
			args[k++] = (char *)json_string_value(json_array_get(av, i));
	args[k] = NULL;
	execv(exe, args);
	fprintf(stderr, "nicely: cannot run %s: %s\n", exe, strerror(errno));
	return 2;
}

/* `nicely submit`. */
int cli_submit(int argc, char **argv)
{
	struct cli_run_brief br;
	struct store_batch b;
	char root[4096], err[1024], name[32];
	int rc, fd;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(cli_submit_help, stdout);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "--held"))
		return cli_submit_held(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "--resume")) {
		if (argc != 3) {
			fprintf(stderr, "nicely submit: --resume takes one "
				"BATCH and nothing else\n(try 'nicely submit "
				"--help')\n");
			return CLI_SUBMIT_USAGE;
		}
		return cli_submit_resume(argv[2]);
	}
	rc = cli_run_submit_parse(argc, argv, &br);
	if (rc >= 0)
		return rc;
	if (store_root(root, sizeof root, 1, err, sizeof err) < 0) {
		fprintf(stderr, "nicely submit: %s\n", err);
		free(br.src);
		return CLI_SUBMIT_USAGE;
	}
	if ((rc = cli_submit_expire(root)) != 0) {
		free(br.src);
		return rc;
	}
	if (store_create(root, br.name, &b, err, sizeof err) < 0) {
		fprintf(stderr, "nicely submit: %s\n", err);
		free(br.src);
		return CLI_SUBMIT_USAGE;
	}
	rc = CLI_SUBMIT_USAGE;
	/* the inputs as they are now: --resume reads the same values */
	for (size_t k = 0; k < br.nsrc; k++) {
		if (br.src[k].kind == INPUT_ARGS)
			continue;
		snprintf(name, sizeof name, "input-%zu", k);
		if (cli_submit_copy(b.dir, name, br.src[k].kind == INPUT_FILE
				    ? br.src[k].path : NULL, err,
				    sizeof err) < 0) {
			fprintf(stderr, "nicely submit: %s\n", err);
			goto fail;
		}
	}
	if (cli_submit_meta(&b, argc, argv, err, sizeof err) < 0) {
		fprintf(stderr, "nicely submit: %s\n", err);
		goto fail;
	}
	fd = store_state_create(b.dir);
	if (fd < 0) {
		fprintf(stderr, "nicely submit: %s/state: %s\n", b.dir,
			strerror(-fd));
		goto fail;
	}
	close(fd);
	if (cli_submit_spawn(&b, argv + 1, argc - 1, 0, NULL) < 0)
		goto fail;
	free(br.src);
	printf("%s\n", b.id);
	return fflush(stdout) == 0 ? 0 : CLI_SUBMIT_USAGE;
fail:
	free(br.src);
	store_rm(b.dir, err, sizeof err);
	return rc;
}

/* The supervisor: lock, inputs, sink. */
int submit_sup_begin(struct submit_sup *sv, const char *dir,
		     struct input_source *src, size_t nsrc, char *err,
		     size_t errlen)
{
	const char *rfd = getenv(CLI_SUBMIT_READY_ENV);
	int e;

	/* the ready pipe is ours alone: no task inherits it */
	if (rfd)
		fcntl(atoi(rfd), F_SETFD, FD_CLOEXEC);
	snprintf(sv->dir, sizeof sv->dir, "%s", dir);
	sv->lockfd = store_lock(dir, err, errlen);
	if (sv->lockfd < 0)
		return sv->lockfd;
	sv->inputs = calloc(nsrc + 1, sizeof *sv->inputs);
	if (!sv->inputs) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t k = 0; k < nsrc; k++) {
		if (src[k].kind == INPUT_ARGS)
			continue;
		if (asprintf(&sv->inputs[k], "%s/input-%zu", dir, k) < 0) {
			sv->inputs[k] = NULL;
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		sv->ninputs = k + 1;
		src[k].kind = INPUT_FILE;
		src[k].path = sv->inputs[k];
	}
	sv->ninputs = nsrc;
	e = run_store_open(&sv->store, dir, err, errlen);
	return e;
}

/* Tell `nicely submit` the batch runs. */
void submit_sup_ready(void)
{
	const char *rfd = getenv(CLI_SUBMIT_READY_ENV);

	if (!rfd)
		return;
	int fd = atoi(rfd);
	if (write(fd, "ok\n", 3) < 0) {
		/* submit is gone: the batch runs all the same */
	}
	close(fd);
	unsetenv(CLI_SUBMIT_READY_ENV);
}

/* The batch ended. */
void submit_sup_end(struct submit_sup *sv, int exit_status)
{
	if (sv->store) {
		run_store_finish(sv->store, exit_status);
		run_store_close(sv->store);
		sv->store = NULL;
	} else if (sv->lockfd >= 0) {
		/* it never ran: the state says so */
		int fd = store_open(sv->dir, "state", O_RDWR);
		struct store_state s = { "finished", exit_status, 0, "" };
		struct timeval tv;

		gettimeofday(&tv, NULL);
		s.finished = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
		if (fd >= 0) {
			store_state_write(fd, &s);
			close(fd);
		}
	}
	for (size_t k = 0; sv->inputs && k < sv->ninputs; k++)
		free(sv->inputs[k]);
	free(sv->inputs);
	sv->inputs = NULL;
	if (sv->lockfd >= 0)
		close(sv->lockfd);
	sv->lockfd = -1;
}
