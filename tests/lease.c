/* lease: the per-user lease file of [limits] max_pus. Live and dead
 * holders (forked children, one killed, one a zombie), a reused PID (start
 * time not matching), concurrent takers racing under one limit, damaged
 * files rebuilt with a message, and a file private to the user. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sched/lease.h"
#include "sched/proctree.h"
#include "tests/tap.h"

static char dir[64], file[128];

/* Open a lease on the test directory. */
static struct sched_lease *open_lease(int limit)
{
	struct lease_opts o = LEASE_OPTS_INIT;
	struct sched_lease *l = NULL;
	char err[512];

	o.dir = dir;
	o.limit = limit;
	if (lease_open(&l, &o, err, sizeof err) < 0) {
		printf("# lease_open: %s\n", err);
		return NULL;
	}
	return l;
}

/* The file's contents (static buffer). */
static const char *slurp(void)
{
	static char buf[8192];
	int fd = open(file, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

/* Replace the file's contents. */
static void put(const char *s)
{
	int fd = open(file, O_WRONLY | O_TRUNC);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		tap_bail("cannot write the lease file");
	close(fd);
}

/* 1 when the file has an entry of pid. */
static int has_pid(pid_t pid)
{
	char pat[32];
	const char *s = slurp();

	snprintf(pat, sizeof pat, "\n%d ", (int)pid);
	return strstr(s, pat) != NULL;
}

/* A child that holds `pus` PUs until killed; returns its PID once its
 * entry is written. */
static pid_t holder(int limit, int pus)
{
	int p[2];
	char c = 0;
	pid_t pid;

	if (pipe(p) < 0)
		tap_bail("pipe");
	pid = fork();
	if (pid == 0) {
		struct sched_lease *l = open_lease(limit);
		char err[512];

		close(p[0]);
		c = l && lease_set(l, pus, err, sizeof err) == 0 ? 'y' : 'n';
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &c, 1) != 1 || c != 'y')
		tap_bail("holder child failed");
	close(p[0]);
	return pid;
}

/* Kill and reap a child. */
static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Live and dead holders, zombies, a reused PID. */
static void test_holders(void)
{
	struct sched_lease *l = open_lease(4);
	unsigned long long start;
	char err[512], buf[256];
	int room = -1;
	struct stat st;

	if (!l)
		tap_bail("lease_open failed");
	ok(stat(file, &st) == 0 && S_ISREG(st.st_mode) &&
	   (st.st_mode & 0777) == 0600 && st.st_uid == geteuid(),
	   "the lease file is made private to the user (0600, ours)");
	ok(lease_begin(l, &room, err, sizeof err) == 0 && room == 4,
	   "an empty file leaves the whole limit");
	ok(lease_commit(l, 1, err, sizeof err) == 0 && lease_held(l) == 1 &&
	   has_pid(getpid()), "holding 1 is recorded: %s", err);

	pid_t a = holder(4, 1), b = holder(4, 2);

	ok(lease_begin(l, &room, err, sizeof err) == 0 && room == 1 &&
	   lease_others(l) == 3 && lease_nothers(l) == 2,
	   "two live holders (1 + 2 PUs) leave 1 of 4");
	lease_commit(l, 1, err, sizeof err);

	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	ok(lease_begin(l, &room, err, sizeof err) == 0 && room == 2 &&
	   lease_nothers(l) == 1, "a SIGKILLed holder no longer counts");
	lease_commit(l, 1, err, sizeof err);
	ok(!has_pid(a) && has_pid(b), "its entry is dropped from the file");

	/* a zombie (killed, not reaped yet) is gone too */
	kill(b, SIGKILL);
	for (int i = 0; i < 200 && proctree_start(b, &start) == 0; i++)
		usleep(5000);
	ok(proctree_start(b, &start) == -ESRCH, "a zombie has no start time");
	ok(lease_set(l, 1, err, sizeof err) == 0 && lease_nothers(l) == 0 &&
	   !has_pid(b), "a zombie holder is dropped");
	waitpid(b, NULL, 0);

	/* a live PID whose start time is not the recorded one: reused */
	pid_t c = holder(4, 3);

	ok(proctree_start(c, &start) == 0, "the holder's start time is read");
	snprintf(buf, sizeof buf, "nicely-lease 1\n%d %llu 7 3\nend\n", (int)c,
		 start + 1);
	put(buf);
	ok(lease_begin(l, &room, err, sizeof err) == 0 && room == 4 &&
	   lease_nothers(l) == 0,
	   "a PID with another start time counts as dead");
	lease_commit(l, 0, err, sizeof err);
	ok(!has_pid(c), "and its entry is dropped");
	snprintf(buf, sizeof buf, "nicely-lease 1\n%d %llu 7 3\nend\n", (int)c,
		 start);
	put(buf);
	ok(lease_begin(l, &room, err, sizeof err) == 0 && room == 1,
	   "the same PID with its real start time counts");
	lease_commit(l, 0, err, sizeof err);
	reap(c);

	/* two leases of one process (two pools) see each other */
	struct sched_lease *l2 = open_lease(4);

	lease_set(l, 2, err, sizeof err);
	ok(l2 && lease_begin(l2, &room, err, sizeof err) == 0 && room == 2,
	   "a second lease in the same process sees the first");
	lease_commit(l2, 2, err, sizeof err);
	lease_close(l2);
	ok(lease_begin(l, &room, err, sizeof err) == 0 && room == 4 &&
	   lease_nothers(l) == 0, "closing it drops its entry");
	lease_commit(l, 2, err, sizeof err);

	/* a child after fork closing an inherited lease leaves ours alone */
	pid_t k = fork();

	if (k == 0) {
		lease_close(l);
		_exit(0);
	}
	waitpid(k, NULL, 0);
	ok(has_pid(getpid()), "lease_close in a forked child keeps the "
	   "parent's entry");
	lease_close(l);
	ok(!has_pid(getpid()) && strstr(slurp(), "end\n"),
	   "lease_close drops the entry, the file stays valid");
}

/* Damaged files: rebuilt from what could be read, one clear note. */
static void test_damaged(void)
{
	static const struct {
		const char *text, *what;
	} bad[] = {
		{ "nicely-lease 1\n1 2 3\nend\n", "line 2: not an entry" },
		{ "nicely-lease 1\n1 2 3 4", "line 2: cut off" },
		{ "nicely-lease 1\n", "line 2: cut off (no 'end' line)" },
		{ "hello\n", "line 1: not a nicely lease file" },
		{ "nicely-lease 1\n\0\n", "binary data" },
		{ "nicely-lease 1\n12 34 5 -2\nend\n", "line 2: not an entry" },
	};
	struct sched_lease *l = open_lease(2);
	char err[512], buf[256];
	unsigned long long start;
	int room;

	if (!l)
		tap_bail("lease_open failed");
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		const char *note;
		int fd = open(file, O_WRONLY | O_TRUNC);
		size_t len = strlen(bad[i].text);

		if (i == 4)
			len = 16;	/* the NUL byte is part of it */
		if (fd < 0 || write(fd, bad[i].text, len) != (ssize_t)len)
			tap_bail("write");
		close(fd);
		int rc = lease_begin(l, &room, err, sizeof err);

		note = lease_note(l);
		ok(rc == 0 && room == 2 && note && strstr(note, file) &&
		   strstr(note, bad[i].what) && strstr(note, "rebuilt"),
		   "damaged file %zu: whole limit left and a note: %s", i,
		   note ? note : err);
		lease_commit(l, 1, err, sizeof err);
		ok(lease_begin(l, &room, err, sizeof err) == 0 && !lease_note(l) &&
		   lease_held(l) == 1 && room == 2,
		   "... rebuilt: read cleanly next time, with our entry");
		lease_commit(l, 0, err, sizeof err);
	}
	/* the entries before the damage are kept */
	pid_t c = holder(2, 1);

	proctree_start(c, &start);
	snprintf(buf, sizeof buf, "nicely-lease 1\n%d %llu 1 1\ngarbage\n",
		 (int)c, start);
	put(buf);
	ok(lease_begin(l, &room, err, sizeof err) == 0 && room == 1 &&
	   lease_note(l), "a live entry before the damage still counts");
	lease_commit(l, 0, err, sizeof err);
	ok(has_pid(c) && !strstr(slurp(), "garbage"),
	   "the rebuilt file keeps it and drops the rest");
	reap(c);
	/* the old tail after 'end' (killed between write and truncate) */
	put("nicely-lease 1\nend\n99999999 1 1 1\n");
	ok(lease_begin(l, &room, err, sizeof err) == 0 && room == 2 &&
	   !lease_note(l), "what follows 'end' is ignored, quietly");
	lease_commit(l, 0, err, sizeof err);
	lease_close(l);
}

/* Several processes race for a limit of 2: never more than 2 together. */
static void test_race(void)
{
	enum { KIDS = 6, ROUNDS = 60, LIMIT = 2 };
	struct shared {
		int inuse, max, violations, grants, errors;
	} *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t kids[KIDS];

	if (sh == MAP_FAILED)
		tap_bail("mmap");
	memset(sh, 0, sizeof *sh);
	for (int k = 0; k < KIDS; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			struct sched_lease *l = open_lease(LIMIT);
			char err[512];
			int room;

			if (!l)
				_exit(1);
			for (int r = 0; r < ROUNDS; r++) {
				int rc = lease_begin(l, &room, err, sizeof err);

				if (rc == -EAGAIN)
					continue;
				if (rc < 0) {
					__atomic_add_fetch(&sh->errors, 1,
							   __ATOMIC_SEQ_CST);
					continue;
				}
				usleep(200);	/* as if deciding: widen the race */
				int take = room > 0 ? 1 : 0;

				lease_commit(l, take, err, sizeof err);
				if (!take) {
					usleep(300);
					continue;
				}
				int now = __atomic_add_fetch(&sh->inuse, 1,
							     __ATOMIC_SEQ_CST);
				__atomic_add_fetch(&sh->grants, 1,
						   __ATOMIC_SEQ_CST);
				if (now > LIMIT)
					__atomic_add_fetch(&sh->violations, 1,
							   __ATOMIC_SEQ_CST);
				int m = __atomic_load_n(&sh->max, __ATOMIC_SEQ_CST);
				while (now > m &&
				       !__atomic_compare_exchange_n(
					       &sh->max, &m, now, 0,
					       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
					;
				usleep(500);	/* the task runs */
				__atomic_sub_fetch(&sh->inuse, 1, __ATOMIC_SEQ_CST);
				while (lease_set(l, 0, err, sizeof err) == -EAGAIN)
					;
			}
			lease_close(l);
			_exit(0);
		}
	}
	int clean = 1;

	for (int k = 0; k < KIDS; k++) {
		int ws = 0;

		if (kids[k] < 0 || waitpid(kids[k], &ws, 0) != kids[k] ||
		    !WIFEXITED(ws) || WEXITSTATUS(ws))
			clean = 0;
	}
	tap_diag("%d takers, %d rounds each: %d grants, at most %d at once",
		 KIDS, ROUNDS, sh->grants, sh->max);
	ok(clean && !sh->errors, "every taker ended cleanly");
	ok(sh->violations == 0 && sh->max <= LIMIT,
	   "concurrent takers never held more than the limit together "
	   "(max %d of %d)", sh->max, LIMIT);
	ok(sh->grants > 0, "and they did get PUs (%d grants)", sh->grants);
	const char *f = slurp();
	int entries = 0;

	for (const char *s = f; (s = strchr(s, '\n')); s++)
		entries += s[1] >= '0' && s[1] <= '9';
	ok(!strncmp(f, "nicely-lease 1\n", 15) && strstr(f, "\nend\n") &&
	   entries == 0, "all gone: the file is valid and empty");
	munmap(sh, sizeof *sh);
}

/* Privacy: a file open to others is made private, a symlink refused. */
static void test_private(void)
{
	struct sched_lease *l;
	struct stat st;
	char err[512], other[160];
	struct lease_opts o = LEASE_OPTS_INIT;

	chmod(file, 0666);
	l = open_lease(1);
	ok(l && stat(file, &st) == 0 && (st.st_mode & 0777) == 0600,
	   "a lease file open to others is made private again");
	lease_close(l);
	snprintf(other, sizeof other, "%s/elsewhere", dir);
	rename(file, other);
	if (symlink(other, file) < 0)
		tap_bail("symlink");
	o.dir = dir;
	o.limit = 1;
	l = NULL;
	ok(lease_open(&l, &o, err, sizeof err) < 0 && !l && strstr(err, file),
	   "a symlink in its place is refused: %s", err);
	unlink(file);
	unlink(other);
	o.limit = 0;
	ok(lease_open(&l, &o, err, sizeof err) == -EINVAL &&
	   strstr(err, "limit 0"), "a limit below 1 is refused: %s", err);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/nicely-lease-XXXXXX");
	if (!mkdtemp(dir))
		tap_bail("mkdtemp");
	snprintf(file, sizeof file, "%s/%s", dir, LEASE_FILE);
	test_holders();
	test_damaged();
	test_race();
	test_private();
	unlink(file);
	ok(rmdir(dir) == 0, "the test directory is removed");
	return tap_done();
}
