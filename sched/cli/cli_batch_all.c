/* sched/cli/cli_batch_all: every user's detached batches for root's
 * `nicely status --all`, finished ones included: the stores nicely-agent
 * recorded in its state directory (root's) and each user's default store
 * (~/.local/state/nicely/batches of every passwd home). Each user's
 * stores are read by a child that became that user (groups, gid, uid, all
 * checked) and opens the store's own directories without following a
 * link; it hands the batches back as one JSON array on a pipe. Called
 * from cli_ctl.c, in the CLI process. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "sched/agent_proto.h"
#include "sched/cli/cli_batch.h"
#include "sched/cli/output.h"
#include "sched/cli/store.h"

#define ALL_GROUPS_MAX 1024

/* One user whose stores are read: the store roots to list. */
struct all_user {
	uid_t uid;
	gid_t gid;
	char name[64];
	json_t *roots;		/* array of paths */
};

/* The user of uid in v (made when missing). */
static struct all_user *all_user(struct all_user **v, size_t *n, uid_t uid)
{
	struct passwd *pw;
	struct all_user *nv;

	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].uid == uid)
			return &(*v)[i];
	if (!(pw = getpwuid(uid)) || !(nv = realloc(*v, (*n + 1) * sizeof *nv)))
		return NULL;
	*v = nv;
	nv = &(*v)[(*n)++];
	nv->uid = uid;
	nv->gid = pw->pw_gid;
	snprintf(nv->name, sizeof nv->name, "%s", pw->pw_name);
	nv->roots = json_array();
	return nv;
}

/* Add root to u's roots once. */
static void all_root(struct all_user *u, const char *root)
{
	size_t i;
	json_t *r;

	json_array_foreach(u->roots, i, r)
		if (!strcmp(json_string_value(r), root))
			return;
	json_array_append_new(u->roots, json_string(root));
}

/* The stores nicely-agent was handed: their parents, by user. */
static void all_registry(struct all_user **v, size_t *n)
{
	const char *sock = getenv(AGENT_SOCK_ENV);
	char held[4200], path[4500];
	struct dirent *de;
	DIR *d;

	if (sock && *sock)
		snprintf(held, sizeof held, "%s" AGENT_STATE_SUFFIX "/"
			 AGENT_HELD_DIR, sock);
	else
		snprintf(held, sizeof held, AGENT_STATE_DEFAULT "/"
			 AGENT_HELD_DIR);
	if (!(d = opendir(held)))
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp"))
			continue;
		snprintf(path, sizeof path, "%s/%s", held, de->d_name);
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		json_t *o = fd >= 0 ? json_loadfd(fd, 0, NULL) : NULL;
		if (fd >= 0)
			close(fd);
		const char *dir = json_string_value(json_object_get(o, "dir"));
		json_t *ju = json_object_get(o, "uid");
		struct all_user *u;
		char *slash;

		if (dir && json_is_integer(ju) && dir[0] == '/' &&
		    (u = all_user(v, n, (uid_t)json_integer_value(ju)))) {
			snprintf(path, sizeof path, "%s", dir);
			if ((slash = strrchr(path, '/')) && slash != path) {
				*slash = 0;
				all_root(u, path);
			}
		}
		json_decref(o);
	}
	closedir(d);
}

/* Every passwd home's default store. */
static void all_homes(struct all_user **v, size_t *n)
{
	struct passwd *pw;
	char path[4200];

	setpwent();
	while ((pw = getpwent())) {
		struct all_user *u;
		struct stat st;
		/* a home that is not there has no store (no child for it) */
		if (pw->pw_dir[0] != '/' || stat(pw->pw_dir, &st) < 0 ||
		    !(u = all_user(v, n, pw->pw_uid)))
			continue;
		snprintf(path, sizeof path, "%s/.local/state/nicely/batches",
			 !strcmp(pw->pw_dir, "/") ? "" : pw->pw_dir);
		all_root(u, path);
	}
	endpwent();
}

/* In the child, as the user: open root's last four components (or all
 * below "/" for a short path) without following a link, and give the
 * directory's path as the kernel resolved it. 0 or -1. */
static int all_open_root(const char *root, char *real, size_t len)
{
	char buf[4200], *comp[64], *save = NULL, link[64];
	int nc = 0, fd, nfd;
	ssize_t r;

	snprintf(buf, sizeof buf, "%s", root);
	for (char *c = strtok_r(buf, "/", &save); c && nc < 64;
	     c = strtok_r(NULL, "/", &save))
		comp[nc++] = c;
	if (nc < 4)
		return -1;
	/* the home (its path is the admin's) may pass links; the store's
	 * own .local/state/nicely/batches may not */
	char home[4200] = "";
	size_t off = 0;
	for (int i = 0; i < nc - 4; i++)
		off += (size_t)snprintf(home + off, sizeof home - off, "/%s",
					comp[i]);
	fd = open(off ? home : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (int i = nc - 4; fd >= 0 && i < nc; i++) {
		nfd = openat(fd, comp[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			     O_CLOEXEC);
		close(fd);
		fd = nfd;
	}
	if (fd < 0)
		return -1;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	r = readlink(link, real, len - 1);
	close(fd);
	if (r <= 0)
		return -1;
	real[r] = 0;
	return 0;
}

/* The child: become u, list its stores, write one JSON array to fd 1. */
static void all_child(const struct all_user *u)
{
	gid_t groups[ALL_GROUPS_MAX];
	int ng = ALL_GROUPS_MAX;
	uid_t ru, eu, su;
	json_t *out = json_array(), *seen = json_object(), *r;
	size_t i;

	if (getgrouplist(u->name, u->gid, groups, &ng) < 0)
		ng = 0;
	if (setgroups((size_t)ng, groups) < 0 ||
	    setresgid(u->gid, u->gid, u->gid) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0 ||
	    getresuid(&ru, &eu, &su) < 0 || ru != u->uid || eu != u->uid ||
	    su != u->uid || (u->uid != 0 && setuid(0) == 0))
		_exit(1);
	json_array_foreach(u->roots, i, r) {
		char real[4200], err[512];
		struct store_batch *v;
		int n;

		if (all_open_root(json_string_value(r), real, sizeof real) < 0)
			continue;
		if ((n = store_list(real, &v, err, sizeof err)) <= 0)
			continue;
		for (int k = 0; k < n; k++) {
			struct stat st;
			json_t *o;
			if (json_object_get(seen, v[k].id) ||
			    lstat(v[k].dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
			    st.st_uid != u->uid)
				continue;	/* a link, or not the user's */
			json_object_set_new(seen, v[k].id, json_true());
			if ((o = cli_batch_json(v, n, &v[k])))
				json_array_append_new(out, o);
		}
		free(v);
	}
	char *s = json_dumps(out, JSON_COMPACT);
	if (!s || output_full_write(1, s, strlen(s)) < 0)
		_exit(1);
	_exit(0);
}

/* u's batches, read by a child that is u. */
static void all_read(const struct all_user *u, json_t *all)
{
	int p[2], nul;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		nul = open("/dev/null", O_RDWR);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(p[1], 1) < 0 ||
		    dup2(nul, 2) < 0 ||
		    syscall(SYS_close_range, 3, ~0U, 0) < 0)
			_exit(1);
		all_child(u);
	}
	close(p[1]);
	while (pid > 0) {
		if (len + 65536 > cap) {
			char *nb = realloc(buf, cap = cap ? 2 * cap : 65536);
			if (!nb)
				break;
			buf = nb;
		}
		n = read(p[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(p[0]);
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	json_t *a = buf ? json_loadb(buf, len, 0, NULL) : NULL;
	size_t i;
	json_t *o;
	json_array_foreach(a, i, o) {
		json_object_set_new(o, "user", json_string(u->name));
		json_object_set_new(o, "uid", json_integer((json_int_t)u->uid));
		json_array_append(all, o);
	}
	json_decref(a);
	free(buf);
}

/* Every user's detached batches (root only). */
int cli_batch_all(json_t *all)
{
	struct all_user *v = NULL;
	size_t n = 0;
	size_t before = json_array_size(all);

	if (geteuid() != 0)
		return 0;
	all_registry(&v, &n);
	all_homes(&v, &n);
	for (size_t i = 0; i < n; i++) {
		if (json_array_size(v[i].roots))
			all_read(&v[i], all);
		json_decref(v[i].roots);
	}
	free(v);
	return (int)(json_array_size(all) - before);
}
