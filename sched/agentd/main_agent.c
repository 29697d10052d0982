/* sched/agentd/main_agent: the nicely-agent program: options, the root
 * check, daemonizing when asked to (neither --foreground nor systemd),
 * systemd's readiness notification (Type=notify), then the server
 * (agentd.c). Exit codes: 0 stopped by SIGTERM/SIGINT, 1 could not start
 * or the loop failed, 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sched/agent_proto.h"
#include "sched/agentd/agentd.h"
#include "sched/agentd/agentd_int.h"

/* The usage text. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: nicely-agent [--foreground] [--socket PATH] "
		"[--cgroup-root DIR]\n"
		"                    [--base NAME] [--procfs DIR] [--tick MS]\n"
		"  --foreground       stay in the terminal, log to stderr "
		"(systemd runs it so)\n"
		"  --socket PATH      listen on PATH (default $%s or %s)\n"
		"  --cgroup-root DIR  the cgroup tree (default $NICELY_CGROUP_ROOT "
		"or /sys/fs/cgroup);\n"
		"                     a directory of plain files is a fake tree "
		"(tests: no root needed)\n"
		"  --base NAME        the subtree of every batch (default "
		"nicely)\n"
		"  --procfs DIR       read /proc from DIR (tests)\n"
		"  --tick MS          sample and share every MS ms (default "
		"[agent] tick_ms, else %d)\n"
		"  --state-dir DIR    keep the detached batches handed over "
		"in DIR (default\n"
		"                     %s, or <socket>%s with --socket)\n"
		"  --nicely PATH      the nicely program supervisors run "
		"(default: beside\n"
		"                     nicely-agent, or in ../bin)\n"
		"  --version, --help\n",
		AGENT_SOCK_ENV, AGENT_SOCK_DEFAULT, AGENTD_TICK_MS,
		AGENT_STATE_DEFAULT, AGENT_STATE_SUFFIX);
}

/* Tell systemd we are ready (Type=notify), when it asked. */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t n;
	int fd;

	if (!path || (*path != '/' && *path != '@') ||
	    (n = strlen(path)) >= sizeof sa.sun_path)
		return;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n);
	if (*path == '@')
		sa.sun_path[0] = 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0) {
		/* systemd will time out and say so */
	}
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

/* Leave the terminal: fork, setsid, stdio to /dev/null, log to syslog. */
static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -errno;
	if ((pid = fork()) < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return -errno;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	agentd_log_syslog();
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "cgroup-root", required_argument, NULL, 'r' },
		{ "base", required_argument, NULL, 'b' },
		{ "procfs", required_argument, NULL, 'p' },
		{ "tick", required_argument, NULL, 't' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "nicely", required_argument, NULL, 'N' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agentd_opts o = { 0 };
	struct agentd *d;
	char err[2048];
	int fg = 0, c, rc;

	while ((c = getopt_long(argc, argv, "fs:r:b:p:t:S:N:Vh", lo, NULL)) != -1) {
		switch (c) {
		case 'f': fg = 1; break;
		case 's': o.socket = optarg; break;
		case 'r': o.cgroup_root = optarg; break;
		case 'b': o.base = optarg; break;
		case 'p': o.procfs = optarg; break;
		case 'S': o.state_dir = optarg; break;
		case 'N': o.nicely = optarg; break;
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 10 || v > 60000) {
				fprintf(stderr, "nicely-agent: bad --tick '%s' "
					"(accepted: 10..60000 ms)\n", optarg);
				return 2;
			}
			o.tick_ms = (int)v;
			break;
		}
		case 'V': printf("nicely-agent %s (protocol %d)\n",
				 NICELY_VERSION, AGENT_PROTO_VERSION);
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nicely-agent: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!o.cgroup_root && getenv("NICELY_CGROUP_ROOT"))
		o.cgroup_root = getenv("NICELY_CGROUP_ROOT");
	if (geteuid() != 0 && !o.cgroup_root) {
		fprintf(stderr, "nicely-agent: must run as root (it makes the "
			"cgroups of every user's batches and moves their "
			"processes); for tests give --cgroup-root DIR, a fake "
			"tree\n");
		return 1;
	}
	/* only the system's files: nobody's NICELY_CONFIG */
	unsetenv("NICELY_CONFIG");
	/* systemd (Type=notify) runs us in the foreground */
	if (!fg && !getenv("NOTIFY_SOCKET") && !getenv("INVOCATION_ID") &&
	    daemonize() < 0) {
		fprintf(stderr, "nicely-agent: cannot daemonize: %s\n",
			strerror(errno));
		return 1;
	}
	if (agentd_new(&d, &o, err, sizeof err) < 0) {
		agentd_log(3, "%s", err);
		return 1;
	}
	notify_ready();
	rc = agentd_run(d, err, sizeof err) < 0 ? 1 : 0;
	if (rc)
		agentd_log(3, "%s", err);
	agentd_free(d);
	return rc;
}
