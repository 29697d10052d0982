/* sched/cli/store: the per-user store of detached batches (see store.h):
 * where it is, batch ids and names, the lock, the state record, the
 * recorded tasks, size and removal. Called by the CLI front ends and the
 * engine's store sink; no state of its own. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "sched/cli/store.h"

/* Make dir (0700) unless it exists; it must then be a directory. */
static int store_mkdir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(e));
		return -e;
	}
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", dir);
		return -ENOTDIR;
	}
	return 0;
}

/* The batches directory. */
int store_root(char *buf, size_t len, int make, char *err, size_t errlen)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char base[4096];
	struct stat st;
	int n, e;

	if (xdg && *xdg == '/')
		n = snprintf(base, sizeof base, "%s", xdg);
	else if (home && *home == '/')
		n = snprintf(base, sizeof base, "%s/.local/state", home);
	else {
		snprintf(err, errlen, "neither XDG_STATE_HOME nor HOME is an "
			 "absolute path: no place for the batch store");
		return -EINVAL;
	}
	if (n < 0 || (size_t)n >= sizeof base ||
	    (size_t)snprintf(buf, len, "%s/nicely/batches", base) >= len) {
		snprintf(err, errlen, "batch store path too long");
		return -ENAMETOOLONG;
	}
	if (make) {
		/* $XDG_STATE_HOME and its parents as `mkdir -p` would */
		for (char *p = base + 1; ; p++) {
			if (*p != '/' && *p)
				continue;
			char c = *p;
			*p = 0;
			if (mkdir(base, 0700) < 0 && errno != EEXIST) {
				e = errno;
				snprintf(err, errlen, "cannot create %s: %s",
					 base, strerror(e));
				return -e;
			}
			*p = c;
			if (!c)
				break;
		}
		snprintf(base + strlen(base), sizeof base - strlen(base),
			 "/nicely");
		if ((e = store_mkdir(base, err, errlen)) < 0 ||
		    (e = store_mkdir(buf, err, errlen)) < 0)
			return e;
	}
	if (lstat(buf, &st) < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", buf, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", buf);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid() && geteuid() != 0) {
		snprintf(err, errlen, "%s belongs to uid %u, not to you (uid "
			 "%u)", buf, (unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s is open to other users (mode %03o); "
			 "it must be 0700", buf, (unsigned)(st.st_mode & 0777));
		return -EPERM;
	}
	return 0;
}

/* A usable name. */
int store_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > STORE_NAME_MAX || name[0] == '-' || name[0] == '.')
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		      *p == '.'))
			return 0;
	return 1;
}

/* 1 when s is STORE_ID_LEN lowercase hex digits. */
static int store_is_id(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n == STORE_ID_LEN;
}

/* Read the batch's name from its meta file into b->name. */
static void store_read_name(struct store_batch *b)
{
	json_t *m;
	int fd = store_open(b->dir, "meta", O_RDONLY);

	b->name[0] = 0;
	if (fd < 0)
		return;
	m = json_loadfd(fd, 0, NULL);
	close(fd);
	if (m && json_is_string(json_object_get(m, "name")))
		snprintf(b->name, sizeof b->name, "%s",
			 json_string_value(json_object_get(m, "name")));
	json_decref(m);
}

/* The creation time of a batch directory, for sorting. */
static double store_ctime(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return 0;
	return (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
}

struct store_sort {
	struct store_batch b;
	double t;
};

/* Sort by creation time (the meta file's), then by id. */
static int store_cmp(const void *a, const void *b)
{
	const struct store_sort *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return strcmp(x->b.id, y->b.id);
}

/* The batches in root. */
int store_list(const char *root, struct store_batch **out, char *err,
	       size_t errlen)
{
	DIR *d = opendir(root);
	struct dirent *de;
	struct store_sort *v = NULL;
	int n = 0, cap = 0;

	*out = NULL;
	if (!d) {
		int e = errno;
		if (e == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read %s: %s", root, strerror(e));
		return -e;
	}
	while ((de = readdir(d))) {
		if (!store_is_id(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			struct store_sort *nv = realloc(v, (size_t)cap * sizeof *v);
			if (!nv) {
				free(v);
				closedir(d);
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			v = nv;
		}
		memset(&v[n], 0, sizeof v[n]);
		memcpy(v[n].b.id, de->d_name, STORE_ID_LEN);
		snprintf(v[n].b.dir, sizeof v[n].b.dir, "%s/%s", root,
			 de->d_name);
		char meta[4200];
		snprintf(meta, sizeof meta, "%s/meta", v[n].b.dir);
		v[n].t = store_ctime(meta);
		store_read_name(&v[n].b);
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, (size_t)n, sizeof *v, store_cmp);
	*out = calloc((size_t)n + 1, sizeof **out);
	if (!*out) {
		free(v);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++)
		(*out)[i] = v[i].b;
	free(v);
	return n;
}

/* Make a new batch directory. */
int store_create(const char *root, const char *name, struct store_batch *b,
		 char *err, size_t errlen)
{
	struct store_batch *v;
	unsigned char rnd[STORE_ID_LEN / 2];
	int n;

	if (name && !store_name_ok(name)) {
		snprintf(err, errlen, "--name '%.80s': a name is 1-%d letters, "
			 "digits, '_', '-' or '.', not starting with '-' or "
			 "'.'", name, STORE_NAME_MAX);
		return -EINVAL;
	}
	n = store_list(root, &v, err, errlen);
	if (n < 0)
		return n;
	for (int i = 0; name && i < n; i++)
		if (!strcmp(v[i].name, name)) {
			snprintf(err, errlen, "--name %s: batch %s has that "
				 "name already (nicely rm it, or choose "
				 "another)", name, v[i].id);
			free(v);
			return -EEXIST;
		}
	free(v);
	for (int attempt = 0; attempt < 16; attempt++) {
		if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
			snprintf(err, errlen, "getrandom: %s", strerror(errno));
			return -EIO;
		}
		for (size_t i = 0; i < sizeof rnd; i++)
			snprintf(b->id + 2 * i, 3, "%02x", rnd[i]);
		snprintf(b->dir, sizeof b->dir, "%s/%s", root, b->id);
		snprintf(b->name, sizeof b->name, "%s", name ? name : "");
		if (mkdir(b->dir, 0700) == 0)
			return 0;
		if (errno != EEXIST) {
			int e = errno;
			snprintf(err, errlen, "cannot create %s: %s", b->dir,
				 strerror(e));
			return -e;
		}
	}
	snprintf(err, errlen, "no free batch id in %s", root);
	return -EEXIST;
}

/* Find a batch by name, id or unique id prefix. */
int store_find(const char *root, const char *key, struct store_batch *b,
	       char *err, size_t errlen)
{
	struct store_batch *v;
	int n = store_list(root, &v, err, errlen), hit = -1, nhit = 0;
	size_t kl = strlen(key);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		if (v[i].name[0] && !strcmp(v[i].name, key)) {
			*b = v[i];
			free(v);
			return 0;
		}
	for (int i = 0; kl > 0 && i < n; i++)
		if (!strncmp(v[i].id, key, kl)) {
			if (kl == STORE_ID_LEN) {
				hit = i;
				nhit = 1;
				break;
			}
			hit = i;
			nhit++;
		}
	if (nhit == 1) {
		*b = v[hit];
		free(v);
		return 0;
	}
	if (nhit > 1) {
		size_t off = (size_t)snprintf(err, errlen, "'%.40s' is the "
					      "start of several batch ids:",
					      key);
		for (int i = 0; i < n && off < errlen; i++)
			if (!strncmp(v[i].id, key, kl))
				off += (size_t)snprintf(err + off, errlen - off,
							" %s", v[i].id);
		free(v);
		return -EINVAL;
	}
	free(v);
	snprintf(err, errlen, "no batch '%.64s' in %s (nicely status lists "
		 "them)", key, root);
	return -ENOENT;
}

/* The shortest unique prefix of id. */
void store_short_id(const struct store_batch *v, int n, const char *id,
		    char *out)
{
	size_t len = STORE_ID_SHORT;

	for (int i = 0; i < n; i++) {
		size_t k = 0;
		if (!strcmp(v[i].id, id))
			continue;
		while (k < STORE_ID_LEN && v[i].id[k] == id[k])
			k++;
		if (k + 1 > len)
			len = k + 1;
	}
	if (len > STORE_ID_LEN)
		len = STORE_ID_LEN;
	memcpy(out, id, len);
	out[len] = 0;
}

/* Open a file of the batch. */
int store_open(const char *dir, const char *name, int flags)
{
	char p[4200];

	if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, name) >= sizeof p)
		return -ENAMETOOLONG;
	int fd = open(p, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

/* Is a supervisor holding the lock? */
int store_running(const char *dir)
{
	int fd = store_open(dir, "lock", O_RDONLY), r = 0;

	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		r = 1;
	close(fd);
	return r;
}

/* Take the lock as the supervisor. */
int store_lock(const char *dir, char *err, size_t errlen)
{
	int fd = store_open(dir, "lock", O_RDWR | O_CREAT);

	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s/lock: %s", dir,
			 strerror(-fd));
		return fd;
	}
	/* a reader's probe holds it shared for a moment */
	for (int i = 0; i < 200; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK)
			break;
		usleep(10000);
	}
	snprintf(err, errlen, "batch in %s is running already", dir);
	close(fd);
	return -EBUSY;
}

/* Wait until no supervisor holds the lock. */
int store_wait_unlocked(const char *dir)
{
	int fd = store_open(dir, "lock", O_RDONLY), e = 0;

	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	while (flock(fd, LOCK_SH) < 0)
		if (errno != EINTR) {
			e = -errno;
			break;
		}
	close(fd);
	return e;
}

/* Read the state record. */
int store_state_read(const char *dir, struct store_state *s)
{
	char buf[STORE_STATE_SIZE + 1], *nl;
	int fd = store_open(dir, "state", O_RDONLY);
	ssize_t n;

	memset(s, 0, sizeof *s);
	s->exit = -1;
	if (fd < 0)
		return fd;
	n = pread(fd, buf, STORE_STATE_SIZE, 0);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	if (sscanf(buf, "%15s %d %lf", s->state, &s->exit, &s->finished) < 1)
		return -EINVAL;
	nl = strchr(buf, '\n');
	if (nl) {
		snprintf(s->reason, sizeof s->reason, "%s", nl + 1);
		size_t l = strlen(s->reason);
		while (l && (s->reason[l - 1] == ' ' || s->reason[l - 1] == '\n'))
			s->reason[--l] = 0;
	}
	return 0;
}

/* Write the state record in place. */
int store_state_write(int fd, const struct store_state *s)
{
	char buf[STORE_STATE_SIZE];
	int n = snprintf(buf, sizeof buf, "%s %d %.3f\n%s\n", s->state, s->exit,
			 s->finished, s->reason);

	if (n < 0)
		return -EINVAL;
	if ((size_t)n > sizeof buf)
		n = sizeof buf;
	memset(buf + n, ' ', sizeof buf - (size_t)n);
	buf[sizeof buf - 1] = '\n';
	if (pwrite(fd, buf, sizeof buf, 0) != (ssize_t)sizeof buf)
		return -errno;
	return fdatasync(fd) < 0 ? -errno : 0;
}

/* Make the state record file with its space. */
int store_state_create(const char *dir)
{
	struct store_state s = { "starting", -1, 0, "" };
	int fd = store_open(dir, "state", O_RDWR | O_CREAT), e;

	if (fd < 0)
		return fd;
	if ((e = posix_fallocate(fd, 0, STORE_STATE_SIZE)) != 0 ||
	    (e = -store_state_write(fd, &s)) != 0) {
		close(fd);
		return -e;
	}
	return fd;
}

/* Parse one joblog line. */
int store_rec_parse(const char *line, struct store_rec *r)
{
	unsigned long long seq, send, recv;
	char host[256];
	int off = 0;

	memset(r, 0, sizeof *r);
	if (!strncmp(line, "Seq\t", 4))
		return 1;
	if (sscanf(line, "%llu\t%255[^\t]\t%lf\t%lf\t%llu\t%llu\t%d\t%d\t%n",
		   &seq, host, &r->start, &r->runtime, &send, &recv,
		   &r->exitval, &r->signal, &off) < 8 || off == 0)
		return -EINVAL;
	r->seq = seq;
	r->receive = recv;
	const char *c = line + off;
	char *o = malloc(strlen(c) + 1);
	if (!o)
		return -ENOMEM;
	r->command = o;
	for (; *c; c++) {
		if (*c == '\\' && c[1] == 'n') {
			*o++ = '\n';
			c++;
		} else if (*c == '\\' && c[1] == '\\') {
			*o++ = '\\';
			c++;
		} else {
			*o++ = *c;
		}
	}
	*o = 0;
	return 0;
}

/* By seq. */
static int store_rec_cmp(const void *a, const void *b)
{
	const struct store_rec *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Free what store_recs made. */
void store_recs_free(struct store_rec *v, long n)
{
	for (long i = 0; i < n; i++)
		free(v[i].command);
	free(v);
}

/* The recorded tasks, sorted. */
long store_recs(const char *dir, struct store_rec **out, char *err,
		size_t errlen)
{
	int fd = store_open(dir, "joblog", O_RDONLY);
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	struct store_rec *v = NULL;
	long n = 0, vcap = 0, lineno = 0;

	*out = NULL;
	if (fd == -ENOENT)
		return 0;
	if (fd < 0 || !(f = fdopen(fd, "r"))) {
		snprintf(err, errlen, "cannot read %s/joblog: %s", dir,
			 strerror(fd < 0 ? -fd : errno));
		if (fd >= 0)
			close(fd);
		return fd < 0 ? fd : -errno;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		struct store_rec r;
		lineno++;
		if (line[len - 1] != '\n')
			break;	/* cut by a crash: not recorded */
		line[len - 1] = 0;
		int e = store_rec_parse(line, &r);
		if (e == 1)
			continue;
		if (e < 0) {
			snprintf(err, errlen, "%s/joblog:%ld: not a joblog "
				 "line", dir, lineno);
			store_recs_free(v, n);
			free(line);
			fclose(f);
			return e;
		}
		if (n == vcap) {
			vcap = vcap ? 2 * vcap : 64;
			struct store_rec *nv = realloc(v, (size_t)vcap * sizeof *v);
			if (!nv) {
				free(r.command);
				store_recs_free(v, n);
				free(line);
				fclose(f);
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = r;
	}
	free(line);
	fclose(f);
	if (n)
		qsort(v, (size_t)n, sizeof *v, store_rec_cmp);
	/* one per seq: the last one recorded wins */
	long k = 0;
	for (long i = 0; i < n; i++) {
		if (k && v[k - 1].seq == v[i].seq) {
			free(v[k - 1].command);
			v[k - 1] = v[i];
		} else {
			v[k++] = v[i];
		}
	}
	*out = v;
	return k;
}

/* Disk bytes of the files in dir fd, recursing once into tasks/. */
static long long store_size_at(int dfd, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	struct stat st;
	long long sum = 0;

	if (!d) {
		close(dfd);
		return 0;
	}
	if (fstat(dfd, &st) == 0)
		sum += (long long)st.st_blocks * 512;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth == 0) {
			int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY |
					 O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				sum += store_size_at(sub, 1);
		} else {
			sum += (long long)st.st_blocks * 512;
		}
	}
	closedir(d);
	return sum;
}

/* Bytes the batch takes on disk. */
long long store_size(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? 0 : store_size_at(fd, 0);
}

/* Remove everything in dir fd (and tasks/ once). */
static int store_rm_at(int dfd, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int e = 0;

	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type == DT_DIR && depth == 0) {
			int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY |
					 O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				store_rm_at(sub, 1);
			if (unlinkat(dfd, de->d_name, AT_REMOVEDIR) < 0 && !e)
				e = -errno;
		} else if (unlinkat(dfd, de->d_name, 0) < 0 && !e) {
			e = -errno;
		}
	}
	closedir(d);
	return e;
}

/* Delete a batch's directory. */
int store_rm(const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), e;

	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot open %s: %s", dir, strerror(e));
		return -e;
	}
	e = store_rm_at(fd, 0);
	if (e == 0 && rmdir(dir) < 0)
		e = -errno;
	if (e < 0)
		snprintf(err, errlen, "cannot remove %s: %s", dir, strerror(-e));
	return e;
}

/* Delete old finished batches. */
int store_expire(const char *root, double keep_s)
{
	struct store_batch *v;
	char err[512], p[4200];
	struct stat st;
	int n, gone = 0;

	if (keep_s <= 0)
		return 0;
	n = store_list(root, &v, err, sizeof err);
	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof p, "%s/state", v[i].dir);
		if (lstat(p, &st) < 0 || store_running(v[i].dir) ||
		    (double)(time(NULL) - st.st_mtime) < keep_s)
			continue;
		if (store_rm(v[i].dir, err, sizeof err) == 0)
			gone++;
	}
	free(v);
	return gone;
}
