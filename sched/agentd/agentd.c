/* sched/agentd/agentd: nicely-agent's life: the system config, the cgroup
 * tree and the batches an earlier agent left, the socket (refused when
 * another agent answers on it, a stale file replaced, only our own file
 * ever removed), the loop with its tick (sample, snapshot, fair split,
 * owners gone) and signals, and the log (stderr, or syslog once
 * daemonized). Called by main_agent.c. */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <linux/magic.h>

#include "agent/errmsg.h"
#include "agent/sampler.h"
#include "agent/topology.h"
#include "sched/agent_proto.h"
#include "sched/agentd/agentd_int.h"
#include "sched/agentd/dash.h"
#include "sched/agentd/share.h"
#include "sched/cgroup_agent.h"

static int log_syslog;

/* Log a line. */
void agentd_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (log_syslog) {
		vsyslog(prio, fmt, ap);
	} else if (prio <= LOG_NOTICE || getenv("NICELY_AGENT_DEBUG")) {
		fputs("nicely-agent: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

/* From now on, log to syslog. */
void agentd_log_syslog(void)
{
	openlog("nicely-agent", LOG_PID, LOG_DAEMON);
	log_syslog = 1;
}

/* Read the system config: [limits] and [agent]. */
int agentd_config(struct agentd *d, char *err, size_t errlen)
{
	struct policy_config_opts co = { 0 };
	struct policy_config *cfg;
	struct policy_agent_conf ac;
	gid_t *gids = NULL;
	size_t n = 0;
	int e;

	co.sysconfdir = d->o.sysconfdir;
	co.no_user = 1;
	if ((e = policy_config_load(&cfg, &co, err, errlen)) < 0)
		return e;
	policy_config_fence(cfg, &d->fence);
	policy_config_user_limit(cfg, &d->ulimit);
	d->ulimit.origin.file = NULL;	/* points into cfg */
	policy_config_agent(cfg, &ac);
	d->cfg_tick_ms = ac.tick_ms;
	snprintf(d->dash_host, sizeof d->dash_host, "%s", ac.dashboard_host);
	d->dash_port = ac.dashboard_port;
	/* admins: group names to gids (a name with no group is said once) */
	char list[256], *save = NULL;
	snprintf(list, sizeof list, "%s", ac.admins ? ac.admins : "");
	for (char *g = strtok_r(list, ", \t", &save); g;
	     g = strtok_r(NULL, ", \t", &save)) {
		struct group gr, *res = NULL;
		char buf[8192];
		gid_t *ng;

		if (getgrnam_r(g, &gr, buf, sizeof buf, &res) != 0 || !res) {
			agentd_log(LOG_WARNING, "[agent] admins: no group named "
				   "'%s'", g);
			continue;
		}
		ng = realloc(gids, (n + 1) * sizeof *gids);
		if (!ng)
			break;
		gids = ng;
		gids[n++] = res->gr_gid;
	}
	free(d->admin_gids);
	d->admin_gids = gids;
	d->nadmin_gids = n;
	policy_config_free(cfg);
	return 0;
}

/* "v1", "v2", "hybrid", or "fake" when the root is no cgroup file system. */
static const char *agentd_mode(struct agentd *d)
{
	const char *root = cga_root(d->cga);
	static const char *const subs[] = { "", "/cpu", "/memory",
					    "/unified" };
	char p[4200];
	struct statfs sf;

	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		snprintf(p, sizeof p, "%s%s", root, subs[i]);
		if (statfs(p, &sf) == 0 &&
		    (sf.f_type == CGROUP2_SUPER_MAGIC ||
		     sf.f_type == CGROUP_SUPER_MAGIC))
			goto real;
	}
	return "fake";
real:
	switch (cga_mode(d->cga)) {
	case SCHED_CGROUP_V1: return "v1";
	case SCHED_CGROUP_V2: return "v2";
	case SCHED_CGROUP_HYBRID: return "hybrid";
	default: return "none";
	}
}

/* The socket's directory: made 0755 when missing; refused when someone
 * but us could replace what is in it. */
static int agentd_sock_dir(const char *sock, char *err, size_t errlen)
{
	char dir[sizeof ((struct sockaddr_un *)0)->sun_path];
	struct stat st;

	snprintf(dir, sizeof dir, "%s", sock);
	char *dn = dirname(dir);
	if (mkdir(dn, 0755) == 0)
		return 0;
	if (errno != EEXIST || lstat(dn, &st) < 0 || !S_ISDIR(st.st_mode)) {
		errmsg_set(err, errlen, "cannot make the socket's directory "
			   "%s: %s", dn, strerror(errno ? errno : ENOTDIR));
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022)) {
		errmsg_set(err, errlen, "the socket's directory %s must be "
			   "ours and writable by nobody else (it is uid %u, "
			   "mode %04o)", dn, (unsigned)st.st_uid,
			   (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* Listen on the socket: another agent answering is an error; a stale file
 * (a socket nobody answers on) is replaced. */
static int agentd_listen(struct agentd *d, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, e;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(d->sock) >= sizeof sa.sun_path) {
		errmsg_set(err, errlen, "socket path too long: %s", d->sock);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, d->sock, strlen(d->sock) + 1);
	if ((e = agentd_sock_dir(d->sock, err, errlen)) < 0)
		return e;
	if (lstat(d->sock, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errmsg_set(err, errlen, "%s exists and is not a "
				   "socket; not touching it", d->sock);
			return -EEXIST;
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa,
				       sizeof sa) == 0) {
			struct ucred cr = { 0 };
			socklen_t len = sizeof cr;
			getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len);
			close(fd);
			errmsg_set(err, errlen, "another nicely-agent (pid %d) "
				   "already answers on %s", (int)cr.pid,
				   d->sock);
			return -EADDRINUSE;
		}
		if (fd >= 0)
			close(fd);
		unlink(d->sock);	/* nobody answers: stale */
		agentd_log(LOG_NOTICE, "replaced the stale socket %s", d->sock);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = -errno;
		errmsg_set(err, errlen, "socket: %s", strerror(errno));
		return e;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		e = -errno;
		errmsg_set(err, errlen, "cannot listen on %s: %s", d->sock,
			   strerror(errno));
		close(fd);
		return e;
	}
	if (chmod(d->sock, 0666) < 0 || listen(fd, 128) < 0 ||
	    lstat(d->sock, &st) < 0) {
		e = -errno;
		errmsg_set(err, errlen, "cannot listen on %s: %s", d->sock,
			   strerror(errno));
		close(fd);
		unlink(d->sock);
		return e;
	}
	d->sock_dev = st.st_dev;
	d->sock_ino = st.st_ino;
	d->own_sock = 1;
	d->lfd = fd;
	return 0;
}

/* Take a sample; keep it when good. */
static void agentd_sample(struct agentd *d)
{
	const struct agent_snapshot *s;
	char err[512];

	if (agent_sampler_sample(d->smp, 0, &s, err, sizeof err) == 0)
		d->last = s;
	else
		agentd_log(LOG_WARNING, "sample: %s", err);
}

/* One tick: sample, snapshot, split, owners gone. */
static void agentd_tick(struct agentd *d)
{
	char err[512];
	int free_pus = 0;

	agentd_sample(d);
	d->seq++;
	if (d->last && agentd_snapshot_write(d, err, sizeof err) < 0)
		agentd_log(LOG_WARNING, "snapshot: %s", err);
	if (d->last && d->last->valid) {
		const struct agent_pu *pus = agent_topology_pus(d->topo);
		for (int i = 0; i < d->last->npus; i++)
			free_pus += pus[i].allowed && d->last->pu[i].online &&
				    d->last->pu[i].busy_others < 0.5;
	}
	agentd_batch_tick(d, free_pus, d->last ? d->last->interval_ns : 0);
	agentd_conn_tick(d);
	dash_tick(d->dash);
}

/* The tick's timerfd. */
static void agentd_on_tick(struct loop_watch *w, uint32_t ev)
{
	struct agentd *d = (struct agentd *)((char *)w -
					     offsetof(struct agentd, tw));

	(void)ev;
	loop_timer_ack(d->tickfd);
	agentd_tick(d);
}

/* Signals: TERM/INT stop, HUP reads the config again. */
static void agentd_on_signal(struct loop_watch *w, uint32_t ev)
{
	struct agentd *d = (struct agentd *)((char *)w -
					     offsetof(struct agentd, sw));
	struct signalfd_siginfo si;
	char err[1024];

	(void)ev;
	while (read(d->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP) {
			if (agentd_config(d, err, sizeof err) < 0)
				agentd_log(LOG_ERR, "config not read again: %s",
					   err);
			else {
				agentd_batch_refence(d);
				agentd_dash_apply(d);
				agentd_log(LOG_NOTICE, "config read again");
			}
		} else {
			d->stop = 1;
		}
	}
}

/* Make the server. */
int agentd_new(struct agentd **out, const struct agentd_opts *o, char *err,
	       size_t errlen)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct agentd *d = calloc(1, sizeof *d);
	struct agent_sampler_opts so = { 0 };
	struct cga_opts ca = { 0 };
	char cpu[4200];
	const char *sock;
	int e;

	*out = NULL;
	if (!d) {
		errmsg_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->o = *o;
	d->lfd = d->sigfd = d->tickfd = -1;
	d->loop.epfd = -1;
	sock = o->socket && *o->socket ? o->socket : getenv(AGENT_SOCK_ENV);
	if (!sock || !*sock)
		sock = AGENT_SOCK_DEFAULT;
	if (strlen(sock) >= sizeof d->sock ||
	    strlen(sock) + sizeof AGENT_SNAPSHOT_SUFFIX > sizeof d->snap) {
		errmsg_set(err, errlen, "socket path too long: %s", sock);
		free(d);
		return -ENAMETOOLONG;
	}
	snprintf(d->sock, sizeof d->sock, "%s", sock);
	if (!strcmp(sock, AGENT_SOCK_DEFAULT))
		snprintf(d->snap, sizeof d->snap, "%s", AGENT_SNAPSHOT_DEFAULT);
	else
		snprintf(d->snap, sizeof d->snap, "%s" AGENT_SNAPSHOT_SUFFIX,
			 sock);
	if ((e = agentd_config(d, err, errlen)) < 0)
		goto fail;
	d->tick_ms = o->tick_ms > 0 ? o->tick_ms
		     : d->cfg_tick_ms > 0 ? d->cfg_tick_ms : AGENTD_TICK_MS;
	ca.root = o->cgroup_root;
	ca.base = o->base;
	if ((e = cga_open(&d->cga, &ca, err, errlen)) < 0)
		goto fail;
	d->mode = agentd_mode(d);
	if ((e = agent_topology_load(&d->topo, NULL, err, errlen)) < 0)
		goto fail;
	so.procfs = o->procfs;
	if ((e = agent_sampler_new(&d->smp, d->topo, &so, err, errlen)) < 0)
		goto fail;
	/* every batch's CPU is in the base: "others" is everything else */
	if (cga_base_cpu_path(d->cga, cpu, sizeof cpu) &&
	    agent_sampler_set_cgroup(d->smp, cpu) < 0)
		agentd_log(LOG_INFO, "cannot charge %s as the batches' CPU "
			   "time: the snapshot counts it as others'", cpu);
	agentd_sample(d);
	if ((e = loop_init(&d->loop)) < 0) {
		errmsg_set(err, errlen, "epoll: %s", strerror(-e));
		goto fail;
	}
	if ((d->sigfd = loop_signalfd(sigs, 3)) < 0 ||
	    (d->tickfd = loop_timerfd()) < 0) {
		e = d->sigfd < 0 ? d->sigfd : d->tickfd;
		errmsg_set(err, errlen, "signalfd/timerfd: %s", strerror(-e));
		goto fail;
	}
	if ((e = loop_add(&d->loop, &d->sw, d->sigfd, EPOLLIN,
			  agentd_on_signal)) < 0 ||
	    (e = loop_add(&d->loop, &d->tw, d->tickfd, EPOLLIN,
			  agentd_on_tick)) < 0) {
		errmsg_set(err, errlen, "epoll: %s", strerror(-e));
		goto fail;
	}
	/* the socket first: a live agent on it means we must not touch its
	 * batches; peers are accepted only once the batches are known again
	 * (an adopt that comes first must find its batch) */
	if ((e = agentd_listen(d, err, errlen)) < 0)
		goto fail;
	agentd_batch_rescan(d);
	agentd_held_init(d);
	agentd_dash_apply(d);
	struct connguard_opts go = {
		.l = &d->loop, .listen_fd = d->lfd,
		.per_uid = AGENT_CONN_PER_UID, .max_total = AGENT_CONN_MAX,
		.idle_ms = AGENT_IDLE_MS, .version = AGENT_PROTO_VERSION,
		.who = "nicely-agent", .accepted = agentd_conn_accepted,
		.idle = agentd_conn_idle, .ctx = d,
	};
	if ((e = connguard_new(&d->guard, &go)) < 0) {
		errmsg_set(err, errlen, "cannot watch %s: %s", d->sock,
			   strerror(-e));
		goto fail;
	}
	uint64_t iv = (uint64_t)d->tick_ms * 1000000ull;
	loop_timer_set(d->tickfd, iv, iv);
	agentd_tick(d);	/* the snapshot is there before the first client */
	*out = d;
	return 0;
fail:
	agentd_free(d);
	return e;
}

/* Serve until told to stop. */
int agentd_run(struct agentd *d, char *err, size_t errlen)
{
	agentd_log(LOG_NOTICE, "listening on %s (cgroup tree %s, %s; tick %d "
		   "ms)", d->sock, cga_root(d->cga), d->mode, d->tick_ms);
	int wait_ms = -1;	/* until the next kill round, while killing */

	while (!d->stop) {
		int n = loop_run_once(&d->loop, wait_ms);
		if (n < 0) {
			errmsg_set(err, errlen, "epoll_wait: %s", strerror(-n));
			return n;
		}
		agentd_batch_reap(d);
		agentd_held_reap(d);
		wait_ms = agentd_batch_kill_step(d);
		agentd_conn_kill_answer(d);
		agentd_conn_reap(d);
	}
	agentd_log(LOG_NOTICE, "stopping (batches stay; the next agent finds "
		   "them again)");
	return 0;
}

/* Free everything; the groups stay. */
void agentd_free(struct agentd *d)
{
	struct stat st;

	if (!d)
		return;
	for (struct agentd_conn *c = d->conns; c; c = c->next)
		agentd_conn_close(c);
	agentd_conn_reap(d);
	dash_free(d->dash);
	connguard_free(d->guard);
	if (d->lfd >= 0)
		close(d->lfd);
	if (d->own_sock && lstat(d->sock, &st) == 0 &&
	    st.st_dev == d->sock_dev && st.st_ino == d->sock_ino)
		unlink(d->sock);
	if (d->loop.epfd >= 0) {
		agentd_batch_free_all(d);
		agentd_held_free_all(d);
	}
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->tickfd >= 0)
		close(d->tickfd);
	loop_close(&d->loop);
	agent_sampler_free(d->smp);
	agent_topology_free(d->topo);
	cga_close(d->cga);
	free(d->admin_gids);
	free(d);
}
