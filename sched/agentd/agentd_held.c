/* sched/agentd/agentd_held: the detached batches handed to nicely-agent
 * ("submit" in sched/agent_proto.h): their supervisors started as the
 * peer (SO_PEERCRED's uid and gid only) in a session of their own and in
 * <base>/held, watched by pidfd and started again on what is left when a
 * signal killed them (bounded), their records in the agent's state
 * directory (root's, 0700) for the next agent and root's `nicely status
 * --all`. The agent never opens the user's store: `nicely submit --held`,
 * running as the user, reads it. Called from the agent's loop. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "sched/agentd/agentd_int.h"
#include "sched/cgroup_agent.h"

#define HELD_GROUPS_MAX 1024
#define HELD_HIERS_MAX 16
#define HELD_ID_LEN 12
/* Records kept per uid: beyond, the oldest of ended batches go. */
#define HELD_KEEP 512

/* The start time of pid (field 22 of /proc/PID/stat), 0 when gone. */
static unsigned long long held_start(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	if (!(p = strrchr(buf, ')')))
		return 0;
	/* after ") ": state is field 3; starttime is field 22 */
	p++;
	for (int f = 3; f < 22 && p; f++)
		p = strchr(p + 1, ' ');
	if (p)
		v = strtoull(p + 1, NULL, 10);
	return v;
}

/* The record's path: <state>/held/<uid>-<id>. */
static void held_path(const struct agentd_held *h, char *buf, size_t len)
{
	snprintf(buf, len, "%s/" AGENT_HELD_DIR "/%u-%s", h->d->state_dir,
		 (unsigned)h->uid, h->id);
}

/* Write h's record (a temporary file renamed over it). */
static void held_save(const struct agentd_held *h, const char *state)
{
	char path[600], tmp[640];
	json_t *o;
	char *s;
	int fd;

	if (!h->d->state_dir[0])
		return;
	held_path(h, path, sizeof path);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	o = json_pack("{s:i,s:i,s:s,s:s,s:s,s:i,s:I,s:i,s:s}", "uid",
		      (int)h->uid, "gid", (int)h->gid, "user", h->user, "id",
		      h->id, "dir", h->dir, "pid", (int)h->pid, "start",
		      (json_int_t)h->start, "restarts", h->restarts, "state",
		      state);
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!s)
		return;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s) ||
	    write(fd, "\n", 1) != 1 || fsync(fd) < 0 || rename(tmp, path) < 0)
		agentd_log(LOG_WARNING, "cannot record held batch %s of %s in "
			   "%s: %s", h->id, h->user, path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(s);
}

static void held_on_exit(struct loop_watch *w, uint32_t ev);

/* Start `nicely submit --held DIR MODE...` as h's user: fork, then in the
 * child (the agent is single-threaded: what was allocated before fork is
 * used, and only system calls after it) a session of its own, <base>/held,
 * the standard fds on /dev/null and the ready pipe (readyfd >= 0) as fd 3,
 * nothing else of the agent's open, the user's groups, gid and uid (each
 * checked), a clean environment, "/" as cwd; then exec. The parent learns
 * an exec failure through a close-on-exec pipe. 0, or -errno with err. */
static int held_spawn(struct agentd_held *h, int readyfd, const char *mode,
		      int n, int sig, char *err, size_t errlen)
{
	struct agentd *d = h->d;
	struct passwd pw, *pwr = NULL;
	char pwbuf[8192], nbuf[16], sbuf[16];
	char e_home[4200], e_user[128], e_logname[128], e_shell[4200];
	char *envp[8], *argv[12];
	gid_t groups[HELD_GROUPS_MAX];
	int ngroups = HELD_GROUPS_MAX, k = 0, ep[2], cg[HELD_HIERS_MAX];
	int ncg, e = 0;
	ssize_t r;
	pid_t pid;

	if (getpwuid_r(h->uid, &pw, pwbuf, sizeof pwbuf, &pwr) != 0 || !pwr) {
		snprintf(err, errlen, "uid %u has no passwd entry",
			 (unsigned)h->uid);
		return -ENOENT;
	}
	if (getgrouplist(pw.pw_name, h->gid, groups, &ngroups) < 0) {
		snprintf(err, errlen, "user %s is in more than %d groups",
			 pw.pw_name, HELD_GROUPS_MAX);
		return -E2BIG;
	}
	snprintf(e_home, sizeof e_home, "HOME=%s", pw.pw_dir);
	snprintf(e_user, sizeof e_user, "USER=%s", pw.pw_name);
	snprintf(e_logname, sizeof e_logname, "LOGNAME=%s", pw.pw_name);
	snprintf(e_shell, sizeof e_shell, "SHELL=%s", pw.pw_shell);
	envp[k++] = "PATH=/usr/local/bin:/usr/bin:/bin";
	envp[k++] = e_home;
	envp[k++] = e_user;
	envp[k++] = e_logname;
	envp[k++] = e_shell;
	if (readyfd >= 0)
		envp[k++] = "NICELY_SUBMIT_READY_FD=3";
	envp[k] = NULL;
	k = 0;
	argv[k++] = "nicely";
	argv[k++] = "submit";
	argv[k++] = "--held";
	argv[k++] = h->dir;
	if (mode) {
		argv[k++] = (char *)mode;
		if (n >= 0) {
			snprintf(nbuf, sizeof nbuf, "%d", n);
			snprintf(sbuf, sizeof sbuf, "%d", sig);
			argv[k++] = nbuf;
			argv[k++] = "--signal";
			argv[k++] = sbuf;
		}
	}
	argv[k] = NULL;
	ncg = cga_held_procs(d->cga, cg, HELD_HIERS_MAX, err, errlen);
	if (ncg < 0)
		return ncg;
	if (pipe2(ep, O_CLOEXEC) < 0) {
		e = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(-e));
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		char num[24];
		int len = 0, nul, rfd = -1, ew;
		sigset_t none;
		uid_t ru, eu, su;
		gid_t rg, eg, sg;

		/* the pid in decimal, for cgroup.procs */
		for (pid_t p = getpid(); p > 0; p /= 10)
			num[len++] = (char)('0' + p % 10);
		for (int i = 0; i < len / 2; i++) {
			char t = num[i];
			num[i] = num[len - 1 - i];
			num[len - 1 - i] = t;
		}
		if (setsid() < 0)
			goto fail;
		for (int i = 0; i < ncg; i++)
			if (write(cg[i], num, (size_t)len) != len)
				goto fail;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP)
				signal(s, SIG_DFL);
		/* fds: 0-2 /dev/null, 3 the ready pipe, 4 the exec-error
		 * pipe (close-on-exec), nothing else */
		if (readyfd >= 0 && (rfd = fcntl(readyfd, F_DUPFD, 10)) < 0)
			goto fail;
		if ((ew = fcntl(ep[1], F_DUPFD_CLOEXEC, 10)) < 0)
			goto fail;
		ep[1] = ew;
		if ((nul = open("/dev/null", O_RDWR)) < 0 || dup2(nul, 0) < 0 ||
		    dup2(nul, 1) < 0 || dup2(nul, 2) < 0)
			goto fail;
		if (rfd >= 0 && dup2(rfd, 3) < 0)
			goto fail;
		if (dup3(ew, 4, O_CLOEXEC) < 0)
			goto fail;
		ep[1] = 4;
		if (syscall(SYS_close_range, 5, ~0U, 0) < 0)
			goto fail;
		if (rfd < 0)
			close(3);
		/* (an agent that is not root serves only its own user, a
		 * test's: it keeps its ids, which the checks below see) */
		if (geteuid() == 0 &&
		    (setgroups((size_t)ngroups, groups) < 0 ||
		     setresgid(h->gid, h->gid, h->gid) < 0 ||
		     setresuid(h->uid, h->uid, h->uid) < 0))
			goto fail;
		if (getresuid(&ru, &eu, &su) < 0 || ru != h->uid ||
		    eu != h->uid || su != h->uid ||
		    getresgid(&rg, &eg, &sg) < 0 || rg != h->gid ||
		    eg != h->gid || sg != h->gid)
			goto fail;
		if (h->uid != 0 && (setuid(0) == 0 || setgid(0) == 0))
			goto fail;
		umask(022);
		if (chdir("/") < 0)
			goto fail;
		execve(d->nicely, argv, envp);
fail:
		e = errno ? errno : EPERM;
		if (write(ep[1], &e, sizeof e) < 0) {
			/* the agent says the child failed all the same */
		}
		_exit(127);
	}
	close(ep[1]);
	if (pid < 0) {
		e = -errno;
		snprintf(err, errlen, "fork: %s", strerror(-e));
		close(ep[0]);
		goto out;
	}
	/* EOF: it exec'd; an int: why it did not */
	while ((r = read(ep[0], &e, sizeof e)) < 0 && errno == EINTR)
		;
	close(ep[0]);
	if (r == (ssize_t)sizeof e) {
		waitpid(pid, NULL, 0);
		snprintf(err, errlen, "cannot start %.900s as %s: %s", d->nicely,
			 h->user, strerror(e));
		e = -e;
		goto out;
	}
	e = 0;
	h->pid = pid;
	h->child = 1;
	h->start = held_start(pid);
	h->pidfd = agentd_pidfd_open(pid);
	if (h->pidfd < 0 ||
	    loop_add(&d->loop, &h->pw, h->pidfd, EPOLLIN, held_on_exit) < 0) {
		/* cannot happen short of running out of fds: it runs unkept */
		agentd_log(LOG_ERR, "cannot watch the supervisor (pid %d) of "
			   "batch %s of %s", (int)pid, h->id, h->user);
		if (h->pidfd >= 0)
			close(h->pidfd);
		h->pidfd = -1;
	}
	held_save(h, "running");
out:
	for (int i = 0; i < ncg; i++)
		close(cg[i]);
	return e;
}

/* Stop watching h's supervisor. */
static void held_unwatch(struct agentd_held *h)
{
	if (h->pidfd >= 0) {
		loop_del(&h->d->loop, &h->pw);
		close(h->pidfd);
	}
	h->pidfd = -1;
	h->pid = 0;
}

/* h's supervisor ended with si (si_code 0: not known, found again).
 * An exit: the batch is done. A signal, or not known: start it again on
 * what is left (the new one ends at once when the store says finished),
 * at most AGENT_HELD_RESTARTS times; beyond, say so in its store. */
static void held_ended(struct agentd_held *h, const siginfo_t *si)
{
	char err[1024];
	int sig = si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED
			  ? si->si_status : 0;

	held_unwatch(h);
	if (si->si_code == CLD_EXITED) {
		agentd_log(LOG_NOTICE, "batch %s of %s: its supervisor exited "
			   "(%d)", h->id, h->user, si->si_status);
		held_save(h, "done");
		h->done = 1;
		/* 2: `submit --held` found no store of the user's there; the
		 * record would only list nothing */
		if (si->si_status == 2 && h->restarts == 0 && h->d->state_dir[0]) {
			char path[600];
			held_path(h, path, sizeof path);
			unlink(path);
		}
		return;
	}
	if (h->restarts >= AGENT_HELD_RESTARTS) {
		agentd_log(LOG_WARNING, "batch %s of %s: its supervisor ended "
			   "(signal %d) after %d restarts; not starting it "
			   "again (nicely submit --resume %s)", h->id,
			   h->user, sig, h->restarts, h->id);
		if (held_spawn(h, -1, "--gave-up", h->restarts, sig, err,
			       sizeof err) < 0) {
			agentd_log(LOG_WARNING, "batch %s of %s: %s", h->id,
				   h->user, err);
			held_save(h, "gave-up");
			h->done = 1;
		}
		h->restarts = AGENT_HELD_RESTARTS + 1;	/* ends when it does */
		return;
	}
	h->restarts++;
	agentd_log(LOG_NOTICE, "batch %s of %s: its supervisor ended "
		   "(%s %d); resuming it (restart %d of %d)", h->id, h->user,
		   sig ? "signal" : "not a child of this agent, status",
		   sig, h->restarts, AGENT_HELD_RESTARTS);
	if (held_spawn(h, -1, "--restarted", h->restarts, sig, err,
		       sizeof err) < 0) {
		agentd_log(LOG_WARNING, "batch %s of %s: cannot resume it: %s",
			   h->id, h->user, err);
		held_save(h, "lost");
		h->done = 1;
	}
}

/* The supervisor's pidfd is readable: it ended. */
static void held_on_exit(struct loop_watch *w, uint32_t ev)
{
	struct agentd_held *h = (struct agentd_held *)((char *)w -
		offsetof(struct agentd_held, pw));
	siginfo_t si;

	(void)ev;
	memset(&si, 0, sizeof si);
	if (h->child) {
		if (waitid(P_PIDFD, (id_t)h->pidfd, &si, WEXITED | WNOHANG) < 0 ||
		    si.si_pid == 0)
			memset(&si, 0, sizeof si);
	}
	if (h->restarts > AGENT_HELD_RESTARTS) {
		/* the --gave-up note ended */
		held_unwatch(h);
		held_save(h, "gave-up");
		h->done = 1;
		return;
	}
	held_ended(h, &si);
}

/* A new held batch of uid. */
static struct agentd_held *held_new(struct agentd *d, uid_t uid, gid_t gid,
				    const char *id, const char *dir)
{
	struct agentd_held *h = calloc(1, sizeof *h);

	if (!h || !(h->dir = strdup(dir))) {
		free(h);
		return NULL;
	}
	h->d = d;
	h->uid = uid;
	h->gid = gid;
	h->pidfd = -1;
	agentd_user_name(uid, h->user, sizeof h->user);
	snprintf(h->id, sizeof h->id, "%s", id);
	h->next = d->held;
	d->held = h;
	return h;
}

/* 1 when id is HELD_ID_LEN lower-case hex digits. */
static int held_id_ok(const char *id)
{
	return strlen(id) == HELD_ID_LEN &&
	       strspn(id, "0123456789abcdef") == HELD_ID_LEN;
}

/* Keep at most HELD_KEEP records of uid: remove the oldest (by mtime)
 * of those not running. */
static void held_prune(struct agentd *d, uid_t uid)
{
	char dir[600], path[900], pre[32], oldest[300];
	struct dirent *de;
	struct stat st;
	int n;
	DIR *dp;

	snprintf(dir, sizeof dir, "%s/" AGENT_HELD_DIR, d->state_dir);
	snprintf(pre, sizeof pre, "%u-", (unsigned)uid);
	for (;;) {
		time_t t = 0;
		n = 0;
		oldest[0] = 0;
		if (!(dp = opendir(dir)))
			return;
		while ((de = readdir(dp))) {
			if (strncmp(de->d_name, pre, strlen(pre)))
				continue;
			n++;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			json_t *o = fd >= 0 ? json_loadfd(fd, 0, NULL) : NULL;
			const char *state = json_string_value(json_object_get(o,
								      "state"));
			if (fd >= 0 && fstat(fd, &st) == 0 &&
			    (!state || strcmp(state, "running")) &&
			    (!oldest[0] || st.st_mtime < t)) {
				t = st.st_mtime;
				snprintf(oldest, sizeof oldest, "%s", de->d_name);
			}
			json_decref(o);
			if (fd >= 0)
				close(fd);
		}
		closedir(dp);
		if (n < HELD_KEEP || !oldest[0])
			return;
		snprintf(path, sizeof path, "%s/%s", dir, oldest);
		unlink(path);
	}
}

/* "submit" */
void agentd_held_submit(struct agentd_conn *c, json_t *msg)
{
	struct agentd *d = c->d;
	json_t *jd = json_object_get(msg, "dir"), *ji = json_object_get(msg, "id"),
	       *jr = json_object_get(msg, "resume");
	const char *dir, *id;
	struct agentd_held *h;
	struct stat st;
	char err[1024];
	int ready = c->pidfd, live = 0, e;

	c->pidfd = -1;
	if (c->fd_error) {
		agentd_conn_error(c, 0, "submit takes at most one file "
				  "descriptor (the ready pipe)");
		goto out;
	}
	if (!d->state_dir[0] || !d->nicely[0]) {
		agentd_conn_error(c, 0, "this agent does not keep detached "
				  "batches (see its log)");
		goto out;
	}
	if (geteuid() != 0 && c->uid != geteuid()) {
		agentd_conn_error(c, 0, "this agent does not run as root: it "
				  "cannot start a batch as you");
		goto out;
	}
	if (!json_is_string(jd) || !json_is_string(ji) ||
	    (jr && !json_is_boolean(jr))) {
		agentd_conn_error(c, 0, "submit needs \"dir\" and \"id\" "
				  "(strings) and \"resume\" (true or false)");
		goto out;
	}
	dir = json_string_value(jd);
	id = json_string_value(ji);
	if (dir[0] != '/' || strlen(dir) != json_string_length(jd) ||
	    strlen(dir) >= 4096 || strchr(dir, '\n')) {
		agentd_conn_error(c, 0, "\"dir\" must be an absolute path "
				  "(one line, shorter than 4096 bytes)");
		goto out;
	}
	if (!held_id_ok(id)) {
		agentd_conn_error(c, 0, "\"id\" must be %d hex digits",
				  HELD_ID_LEN);
		goto out;
	}
	if (ready >= 0 && (fstat(ready, &st) < 0 || !S_ISFIFO(st.st_mode))) {
		agentd_conn_error(c, 0, "the fd sent with submit must be a "
				  "pipe");
		goto out;
	}
	for (h = d->held; h; h = h->next) {
		if (h->done || h->uid != c->uid)
			continue;
		live++;
		if (!strcmp(h->id, id)) {
			agentd_conn_error(c, 0, "batch %s is held already "
					  "(its supervisor is pid %d)", id,
					  (int)h->pid);
			goto out;
		}
	}
	if (c->uid != 0 && live >= AGENT_BATCHES_PER_UID) {
		agentd_conn_error(c, 0, "you have %d detached batches held "
				  "already (at most %d)", live,
				  AGENT_BATCHES_PER_UID);
		goto out;
	}
	held_prune(d, c->uid);
	if (!(h = held_new(d, c->uid, c->gid, id, dir))) {
		agentd_conn_error(c, 0, "out of memory");
		goto out;
	}
	e = held_spawn(h, ready, json_is_true(jr) ? "--resume" : NULL, -1, 0,
		       err, sizeof err);
	if (e < 0) {
		h->done = 1;
		agentd_conn_error(c, 0, "%s", err);
		goto out;
	}
	agentd_log(LOG_NOTICE, "batch %s of %s: supervisor pid %d (%s)", h->id,
		   h->user, (int)h->pid, h->dir);
	agentd_conn_answer(c, json_pack("{s:i}", "pid", (int)h->pid));
out:
	if (ready >= 0)
		close(ready);
}

/* Take up one record of an earlier agent. */
static void held_found(struct agentd *d, const char *name)
{
	char path[600], err[1024];
	json_t *o;
	const char *id, *dir, *state;
	struct agentd_held *h;
	pid_t pid;
	int fd;

	snprintf(path, sizeof path, "%s/" AGENT_HELD_DIR "/%s", d->state_dir,
		 name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	o = fd >= 0 ? json_loadfd(fd, 0, NULL) : NULL;
	if (fd >= 0)
		close(fd);
	state = json_string_value(json_object_get(o, "state"));
	id = json_string_value(json_object_get(o, "id"));
	dir = json_string_value(json_object_get(o, "dir"));
	if (!state || strcmp(state, "running") || !id || !held_id_ok(id) ||
	    !dir || dir[0] != '/' ||
	    !json_is_integer(json_object_get(o, "uid")) ||
	    !json_is_integer(json_object_get(o, "gid"))) {
		json_decref(o);
		return;
	}
	h = held_new(d, (uid_t)json_integer_value(json_object_get(o, "uid")),
		     (gid_t)json_integer_value(json_object_get(o, "gid")), id,
		     dir);
	if (!h) {
		json_decref(o);
		return;
	}
	h->restarts = (int)json_integer_value(json_object_get(o, "restarts"));
	pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
	h->start = (unsigned long long)json_integer_value(json_object_get(o,
								       "start"));
	json_decref(o);
	/* the same process (pid and start time), still the user's */
	if (pid > 0 && h->start && held_start(pid) == h->start &&
	    agentd_pid_uid_check(pid, h->uid, err, sizeof err) == 0 &&
	    (h->pidfd = agentd_pidfd_open(pid)) >= 0 &&
	    held_start(pid) == h->start) {
		h->pid = pid;
		if (loop_add(&d->loop, &h->pw, h->pidfd, EPOLLIN,
			     held_on_exit) == 0) {
			agentd_log(LOG_NOTICE, "batch %s of %s: supervisor pid "
				   "%d found again", h->id, h->user, (int)pid);
			return;
		}
		close(h->pidfd);
		h->pidfd = -1;
	}
	if (h->pidfd >= 0)
		close(h->pidfd);
	h->pidfd = -1;
	/* it died while no agent watched */
	siginfo_t si;
	memset(&si, 0, sizeof si);
	held_ended(h, &si);
}

/* A directory of root's, 0700, made when missing. 0 or -1 (logged). */
static int held_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		agentd_log(LOG_WARNING, "cannot make %s: %s (detached batches "
			   "are not kept)", path, strerror(errno));
		return -1;
	}
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077)) {
		agentd_log(LOG_WARNING, "%s must be a directory of the agent's "
			   "user open to nobody else (0700); detached batches "
			   "are not kept", path);
		return -1;
	}
	return 0;
}

/* The state directory, the nicely program, the records of before. */
void agentd_held_init(struct agentd *d)
{
	char held[600], exe[PATH_MAX];
	struct dirent *de;
	ssize_t n;
	DIR *dp;

	if (d->o.state_dir && *d->o.state_dir)
		snprintf(d->state_dir, sizeof d->state_dir, "%s",
			 d->o.state_dir);
	else if (!strcmp(d->sock, AGENT_SOCK_DEFAULT))
		snprintf(d->state_dir, sizeof d->state_dir, "%s",
			 AGENT_STATE_DEFAULT);
	else
		snprintf(d->state_dir, sizeof d->state_dir,
			 "%s" AGENT_STATE_SUFFIX, d->sock);
	snprintf(held, sizeof held, "%s/" AGENT_HELD_DIR, d->state_dir);
	if (held_dir(d->state_dir) < 0 || held_dir(held) < 0) {
		d->state_dir[0] = 0;
		return;
	}
	if (d->o.nicely && *d->o.nicely) {
		snprintf(d->nicely, sizeof d->nicely, "%s", d->o.nicely);
	} else if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = 0;
		snprintf(d->nicely, sizeof d->nicely, "%.4000s/nicely", exe);
		if (access(d->nicely, X_OK) < 0)
			snprintf(d->nicely, sizeof d->nicely,
				 "%.4000s/../bin/nicely", exe);
	}
	if (d->nicely[0] != '/' || access(d->nicely, X_OK) < 0) {
		agentd_log(LOG_WARNING, "no nicely program at '%s' (--nicely "
			   "PATH): detached batches are not kept", d->nicely);
		d->nicely[0] = 0;
		return;
	}
	if (!(dp = opendir(held)))
		return;
	while ((de = readdir(dp))) {
		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp"))
			continue;
		held_found(d, de->d_name);
	}
	closedir(dp);
}

/* Free the ended held batches. */
void agentd_held_reap(struct agentd *d)
{
	struct agentd_held **pp = &d->held, *h;

	while ((h = *pp)) {
		if (h->done) {
			*pp = h->next;
			held_unwatch(h);
			free(h->dir);
			free(h);
		} else {
			pp = &h->next;
		}
	}
}

/* Forget them all (their records stay for the next agent). */
void agentd_held_free_all(struct agentd *d)
{
	for (struct agentd_held *h = d->held; h; h = h->next)
		h->done = 1;
	agentd_held_reap(d);
}
