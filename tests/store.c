/* Tests for sched/cli/store: the batch store's root (made 0700, one open
 * to others refused), ids and names (valid names, a name in use refused,
 * lookup by name, whole id, unique prefix, an ambiguous prefix named),
 * the shortest unique prefix, the state record (round trip, written in
 * place in its fixed size), joblog records (escapes undone, sorted by
 * seq, the last of a seq wins, a cut last line left out, garbage named
 * file:line), the lock (running while held), size and removal, and expiry
 * by age. The scratch directory is removed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "sched/cli/store.h"
#include "tests/tap.h"

static char tmp[] = "/tmp/nicely-store-XXXXXX";

/* Write text to dir/name. */
static void put(const char *dir, const char *name, const char *text)
{
	char p[4300];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

int main(void)
{
	char root[4096], err[1024], st[4200], shortid[STORE_ID_LEN + 1];
	struct store_batch a, b, c, *v;
	struct store_state s;
	struct store_rec *r;
	struct stat sb;
	long n;
	int fd, k;

	if (!mkdtemp(tmp))
		return 1;
	setenv("XDG_STATE_HOME", tmp, 1);
	ok(store_root(root, sizeof root, 0, err, sizeof err) < 0,
	   "no store yet: store_root without make fails (%s)", err);
	ok(store_root(root, sizeof root, 1, err, sizeof err) == 0,
	   "store_root makes $XDG_STATE_HOME/nicely/batches (%s)", root);
	ok(stat(root, &sb) == 0 && (sb.st_mode & 0777) == 0700,
	   "... mode 0700");
	chmod(root, 0755);
	ok(store_root(root, sizeof root, 0, err, sizeof err) == -EPERM &&
	   strstr(err, "open to other users"),
	   "a store open to others is refused (%s)", err);
	chmod(root, 0700);

	ok(store_name_ok("sims-1.b_2") && !store_name_ok("") &&
	   !store_name_ok("-x") && !store_name_ok(".x") &&
	   !store_name_ok("a b") && !store_name_ok("a/b"),
	   "names: letters, digits, _ - . only, not starting with - or .");
	ok(store_create(root, "first", &a, err, sizeof err) == 0 &&
	   strlen(a.id) == STORE_ID_LEN, "create a named batch (%s)", a.id);
	put(a.dir, "meta", "{\"id\":\"x\",\"name\":\"first\"}\n");
	ok(store_create(root, "first", &b, err, sizeof err) == -EEXIST &&
	   strstr(err, a.id), "a name in use is refused, naming the batch");
	ok(store_create(root, "bad name", &b, err, sizeof err) == -EINVAL,
	   "a bad name is refused");
	ok(store_create(root, NULL, &b, err, sizeof err) == 0 &&
	   strcmp(a.id, b.id), "create an unnamed batch (%s)", b.id);
	put(b.dir, "meta", "{\"id\":\"y\",\"name\":\"\"}\n");
	ok(store_find(root, "first", &c, err, sizeof err) == 0 &&
	   !strcmp(c.id, a.id), "find by name");
	ok(store_find(root, b.id, &c, err, sizeof err) == 0 &&
	   !strcmp(c.id, b.id), "find by whole id");
	char pre[8];
	snprintf(pre, sizeof pre, "%.*s", 7, b.id);
	ok(strncmp(a.id, b.id, 7) && store_find(root, pre, &c, err,
						 sizeof err) == 0 &&
	   !strcmp(c.id, b.id), "find by a unique prefix");
	ok(store_find(root, "zz", &c, err, sizeof err) == -ENOENT,
	   "an unknown key: -ENOENT (%s)", err);
	/* a third batch sharing a's first 6 digits */
	char twin[4200];
	snprintf(twin, sizeof twin, "%s/%.6s%s", root, a.id,
		 a.id[6] == '0' ? "111111" : "000000");
	mkdir(twin, 0700);
	snprintf(pre, sizeof pre, "%.5s", a.id);
	ok(store_find(root, pre, &c, err, sizeof err) == -EINVAL &&
	   strstr(err, "several") && strstr(err, a.id),
	   "an ambiguous prefix is refused, naming the ids (%s)", err);
	k = store_list(root, &v, err, sizeof err);
	ok(k == 3, "store_list finds the 3 batches (%d)", k);
	store_short_id(v, k, a.id, shortid);
	ok(strlen(shortid) == 7 && !strncmp(shortid, a.id, 7),
	   "the short id of a batch sharing 6 digits is 7 long (%s)", shortid);
	store_short_id(&a, 1, a.id, shortid);
	ok(strlen(shortid) == STORE_ID_SHORT, "alone: %d digits (%s)",
	   STORE_ID_SHORT, shortid);
	free(v);
	rmdir(twin);

	/* the state record */
	fd = store_state_create(a.dir);
	ok(fd >= 0, "state record made");
	snprintf(st, sizeof st, "%s/state", a.dir);
	ok(stat(st, &sb) == 0 && sb.st_size == STORE_STATE_SIZE &&
	   (sb.st_mode & 0777) == 0600, "... %d bytes, 0600", STORE_STATE_SIZE);
	ok(store_state_read(a.dir, &s) == 0 && !strcmp(s.state, "starting") &&
	   s.exit == -1, "it starts as 'starting'");
	struct store_state w = { "paused", -1, 0, "the disk is full" };
	store_state_write(fd, &w);
	ok(store_state_read(a.dir, &s) == 0 && !strcmp(s.state, "paused") &&
	   !strcmp(s.reason, "the disk is full"), "paused, with its reason");
	struct store_state f = { "finished", 3, 1234.5, "" };
	store_state_write(fd, &f);
	ok(store_state_read(a.dir, &s) == 0 && !strcmp(s.state, "finished") &&
	   s.exit == 3 && s.finished > 1234 && !s.reason[0] &&
	   stat(st, &sb) == 0 && sb.st_size == STORE_STATE_SIZE,
	   "finished with exit 3, the reason gone, same size");
	close(fd);

	/* records */
	put(a.dir, "joblog",
	    "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"
	    "3\t:\t100.000\t     0.500\t0\t6\t1\t0\techo a\\nb\tc\\\\d\n"
	    "1\t:\t99.000\t     1.250\t0\t2\t0\t0\techo 1\n"
	    "3\t:\t101.000\t     0.100\t0\t6\t0\t0\techo again\n"
	    "2\t:\t99.5\t     0.1\t0\t0\t0\t9\tsl");
	n = store_recs(a.dir, &r, err, sizeof err);
	ok(n == 2, "records: 2 seqs (the cut last line left out): %ld", n);
	if (n == 2) {
		ok(r[0].seq == 1 && r[1].seq == 3, "sorted by seq");
		ok(r[0].runtime == 1.25 && r[0].receive == 2 &&
		   !strcmp(r[0].command, "echo 1"), "fields read");
		ok(!strcmp(r[1].command, "echo again") && r[1].exitval == 0,
		   "the last line of a seq wins");
		store_recs_free(r, n);
	}
	struct store_rec one;
	ok(store_rec_parse("7\t:\t1.0\t2.0\t0\t0\t0\t0\ta\\nb\tc\\\\d", &one) == 0 &&
	   !strcmp(one.command, "a\nb\tc\\d"), "escapes undone, tabs kept");
	free(one.command);
	ok(store_rec_parse("Seq\tHost\t...", &one) == 1, "a header line is 1");
	put(b.dir, "joblog", "1\t:\t1\t1\t0\t0\t0\t0\tok\nrubbish\n");
	ok(store_recs(b.dir, &r, err, sizeof err) == -EINVAL &&
	   strstr(err, "/joblog:2:"), "garbage is named file:line (%s)", err);

	/* the lock */
	ok(!store_running(a.dir), "not running without a lock holder");
	fd = store_lock(a.dir, err, sizeof err);
	ok(fd >= 0 && store_running(a.dir), "running while the lock is held");
	ok(store_lock(a.dir, err, sizeof err) == -EBUSY,
	   "a second supervisor is refused (%s)", err);
	close(fd);
	ok(!store_running(a.dir), "not running once released");
	ok(store_wait_unlocked(a.dir) == 0, "wait returns when none holds it");

	/* size, removal, expiry */
	ok(store_size(a.dir) >= STORE_STATE_SIZE, "size counts the files (%lld)",
	   store_size(a.dir));
	mkdir(strcat(strcpy(st, a.dir), "/tasks"), 0700);
	put(a.dir, "tasks/1.out", "x");
	ok(store_rm(a.dir, err, sizeof err) == 0 && access(a.dir, F_OK) < 0,
	   "rm removes a batch with its tasks/");
	fd = store_state_create(b.dir);
	close(fd);
	ok(store_expire(root, 3600) == 0 && access(b.dir, F_OK) == 0,
	   "expiry keeps a batch younger than keep");
	snprintf(st, sizeof st, "%s/state", b.dir);
	struct utimbuf ut = { time(NULL) - 7200, time(NULL) - 7200 };
	utime(st, &ut);
	fd = store_lock(b.dir, err, sizeof err);
	ok(store_expire(root, 3600) == 0 && access(b.dir, F_OK) == 0,
	   "... and a running one however old");
	close(fd);
	ok(store_expire(root, 3600) == 1 && access(b.dir, F_OK) < 0,
	   "... and deletes a finished one older than keep");
	ok(store_expire(root, 0) == 0, "keep 0: nothing is deleted");

	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	if (system(cmd) != 0)
		tap_diag("cannot remove %s", tmp);
	return tap_done();
}
