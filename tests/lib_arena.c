/* libnicely's map arena (arguments and nicely_map_into results in shared
 * memory instead of the pipes): returns written in place in pieces, too
 * long, too short or with an error text; the caller changing its buffer
 * after the call; elements without arguments (only their results in the
 * arena); maps too big for the arena (NICELY_MAP_ARENA_MB) next to
 * ones that fit; bad values of the variable; many maps queued at once;
 * kill_all and reset in the middle and the next map's results; the
 * arena's memory given back once it empties (RssShmem). */
#include <stdint.h>

#include "tap.h"
#include "lib_util.h"
#include "proc_status.h"

/* x*x; the element's value picks how it is returned (see below). */
static int t_shapes(const void *arg, size_t len, nicely_out *out, void *st)
{
	int64_t x, y;

	(void)len;
	(void)st;
	memcpy(&x, arg, sizeof x);
	y = x * x;
	switch (x % 100) {
	case 11:	/* two pieces that add up to the slot */
		nicely_out_write(out, &y, 4);
		return nicely_out_write(out, (char *)&y + 4, 4);
	case 22:	/* one byte too many: spills out of the slot */
		nicely_out_write(out, &y, sizeof y);
		return nicely_out_write(out, "+", 1);
	case 33:	/* too short */
		return nicely_out_write(out, &y, 4);
	case 44:	/* nothing */
		return 0;
	case 55:	/* right size, with a warning */
		nicely_out_error(out, "warning %lld", (long long)x);
		return nicely_out_write(out, &y, sizeof y);
	case 66:	/* failure after writing */
		nicely_out_write(out, &y, sizeof y);
		nicely_out_error(out, "bad %lld", (long long)x);
		return 3;
	default:
		return nicely_out_write(out, &y, sizeof y);
	}
}

/* x*x, slowly (2 ms), so that kill_all finds tasks running. */
static int t_slow_square(const void *arg, size_t len, nicely_out *out,
			 void *st)
{
	lib_sleep_ms(2);
	return lib_square(arg, len, out, st);
}

/* No argument (elem_size 0): 42 as 8 bytes, or -1 if handed one. */
static int t_noarg(const void *arg, size_t len, nicely_out *out, void *st)
{
	int64_t v = arg || len ? -1 : 42;

	(void)st;
	return nicely_out_write(out, &v, sizeof v);
}

/* A pool of 2 workers, with the arena size env set to mb ("" unsets). */
static nicely_pool *mkpool(const char *mb)
{
	nicely_options o;
	nicely_pool *p = NULL;

	if (*mb)
		setenv("NICELY_MAP_ARENA_MB", mb, 1);
	else
		unsetenv("NICELY_MAP_ARENA_MB");
	lib_opts(&o, 2);
	if (nicely_pool_new(&p, &o))
		p = NULL;
	return p;
}

/* Elements [0, n) of out that are not x*x for x = base + i. */
static long wrong(const int64_t *out, long n, int64_t base)
{
	long bad = 0;

	for (long i = 0; i < n; i++)
		bad += out[i] != (base + i) * (base + i);
	return bad;
}

/* The shapes map of n elements, checked element by element. */
static void check_shapes(const char *mb, long n)
{
	nicely_pool *p = mkpool(mb);
	int64_t *xs = malloc(sizeof *xs * (size_t)n);
	int64_t *out = malloc(sizeof *out * (size_t)n);
	uint8_t *st = malloc((size_t)n);
	int64_t first = -1;
	long bad_ok = 0, bad_odd = 0;

	for (long i = 0; i < n; i++) {
		xs[i] = i;
		out[i] = -1;
	}
	ok(p && !nicely_map_into(p, t_shapes, xs, sizeof *xs, (size_t)n, 0,
				 out, sizeof *out, st, &first) &&
		   !nicely_wait_all(p),
	   "arena %s: a map_into of %ld elements of every shape runs",
	   *mb ? mb : "default", n);
	for (long i = 0; p && i < n; i++) {
		const nicely_result *r = nicely_result_get(p, first + i);
		int64_t y = (int64_t)i * i;
		char want[64];

		switch (i % 100) {
		case 22:
		case 33:
		case 44:
			snprintf(want, sizeof want, "task %lld returned %d bytes",
				 (long long)(first + i),
				 i % 100 == 22 ? 9 : i % 100 == 33 ? 4 : 0);
			if (!r || r->status != NICELY_FAILED ||
			    st[i] != NICELY_FAILED ||
			    strncmp(r->error, want, strlen(want)) ||
			    r->len != (size_t)(i % 100 == 22 ? 9
					       : i % 100 == 33 ? 4 : 0) ||
			    (r->len && memcmp(r->data, &y, r->len < 8 ? r->len : 8)) ||
			    out[i] != -1)
				bad_odd++;
			break;
		case 55:
			snprintf(want, sizeof want, "warning %ld", i);
			if (!r || r->status != NICELY_OK || st[i] != NICELY_OK ||
			    strcmp(r->error, want) || r->len != 8 ||
			    memcmp(r->data, &y, 8) || out[i] != y)
				bad_odd++;
			break;
		case 66:
			snprintf(want, sizeof want, "bad %ld", i);
			if (!r || r->status != NICELY_FAILED || r->code != 3 ||
			    st[i] != NICELY_FAILED || strcmp(r->error, want) ||
			    r->len != 8 || out[i] != -1)
				bad_odd++;
			break;
		default:
			if (r || st[i] != NICELY_OK || out[i] != y)
				bad_ok++;
		}
	}
	ok(!bad_ok, "arena %s: clean successes (one piece or two) are in the "
		    "array with no record (%ld wrong)",
	   *mb ? mb : "default", bad_ok);
	ok(!bad_odd, "arena %s: too long, too short, empty, warned and failed "
		     "returns have their records and leave the array alone "
		     "(%ld wrong)",
	   *mb ? mb : "default", bad_odd);
	nicely_pool_free(p);
	free(xs);
	free(out);
	free(st);
}

/* Log lines, kept. */
static char logbuf[2048];

/* on_log: append. */
static void keep_log(int level, int64_t id, pid_t pid, const char *msg, void *u)
{
	(void)u;
	(void)level;
	(void)id;
	(void)pid;
	strncat(logbuf, msg, sizeof logbuf - strlen(logbuf) - 2);
	strcat(logbuf, "\n");
}

/* A bad NICELY_MAP_ARENA_MB: no pool, and a log line naming it. */
static void check_bad_env(const char *val)
{
	nicely_options o;
	nicely_pool *p = NULL;
	int rc;

	setenv("NICELY_MAP_ARENA_MB", val, 1);
	lib_opts(&o, 2);
	o.on_log = keep_log;
	logbuf[0] = 0;
	rc = nicely_pool_new(&p, &o);
	ok(rc == NICELY_ECONFIG && !p &&
		   strstr(logbuf, "NICELY_MAP_ARENA_MB") && strstr(logbuf, val),
	   "NICELY_MAP_ARENA_MB=%s is refused, naming the variable and the "
	   "value (rc %d, log: %.80s)",
	   val, rc, logbuf);
	nicely_pool_free(p);
	unsetenv("NICELY_MAP_ARENA_MB");
}

int main(void)
{
	lib_env_setup();
	tap_plan(27);

	check_shapes("", 20000);
	check_shapes("0", 20000);	/* no arena: everything through pipes */

	/* isolation: the arguments are copied when the call returns */
	{
		nicely_pool *p = mkpool("");
		long n = 50000;
		int64_t *xs = malloc(sizeof *xs * (size_t)n);
		int64_t *out = calloc((size_t)n, sizeof *out);
		int64_t first;

		for (long i = 0; i < n; i++)
			xs[i] = i;
		ok(p && !nicely_map_into(p, lib_square, xs, sizeof *xs,
					 (size_t)n, 0, out, sizeof *out, NULL,
					 &first),
		   "a map_into is queued");
		for (long i = 0; i < n; i++)
			xs[i] = -7;
		ok(p && !nicely_wait_all(p) && !wrong(out, n, 0),
		   "changing the arguments after the call changes no result");
		nicely_pool_free(p);
		free(xs);
		free(out);
	}

	/* a 1 MiB arena: a map too big for it goes through the pipes while
	 * smaller ones queued around it use the arena */
	{
		nicely_pool *p = mkpool("1");
		long big = 200000, small = 4000;
		int64_t *xs = malloc(sizeof *xs * (size_t)big);
		int64_t *ob = calloc((size_t)big, sizeof *ob);
		int64_t *o1 = calloc((size_t)small, sizeof *o1);
		int64_t *o2 = calloc((size_t)small, sizeof *o2);
		int64_t f1, f2, f3, fm;
		long badm = 0;

		for (long i = 0; i < big; i++)
			xs[i] = i;
		ok(p && !nicely_map_into(p, lib_square, xs, sizeof *xs,
					 (size_t)small, 0, o1, sizeof *o1,
					 NULL, &f1) &&
			   !nicely_map_into(p, lib_square, xs, sizeof *xs,
					    (size_t)big, 0, ob, sizeof *ob,
					    NULL, &f2) &&
			   !nicely_map(p, lib_square, xs + 10, sizeof *xs,
				       (size_t)small, 0, &fm) &&
			   !nicely_map_into(p, lib_square, xs + 5, sizeof *xs,
					    (size_t)small, 0, o2, sizeof *o2,
					    NULL, &f3) &&
			   !nicely_wait_all(p),
		   "1 MiB arena: maps of 32 KiB, 1.6 MiB, 32 KiB and 32 KiB run");
		for (long i = 0; p && i < small; i++) {
			const nicely_result *r = nicely_result_get(p, fm + i);
			int64_t v = -1;

			if (r && r->len == sizeof v)
				memcpy(&v, r->data, sizeof v);
			badm += !r || r->status != NICELY_OK ||
				v != (10 + i) * (10 + i);
		}
		ok(!wrong(ob, big, 0), "the map too big for the arena is right");
		ok(!wrong(o1, small, 0) && !wrong(o2, small, 5) && !badm,
		   "the maps around it are right (%ld wrong nicely_map results)",
		   badm);
		nicely_pool_free(p);
		free(xs);
		free(ob);
		free(o1);
		free(o2);
	}

	/* elements without arguments: only their results are in the arena */
	{
		nicely_pool *p = mkpool("");
		int64_t out[3000], first;
		long bad = 0;

		memset(out, 0, sizeof out);
		ok(p && !nicely_map_into(p, t_noarg, NULL, 0, 3000, 0, out,
					 sizeof out[0], NULL, &first) &&
			   !nicely_wait_all(p),
		   "a map_into of 3,000 elements of no bytes runs");
		for (int i = 0; i < 3000; i++)
			bad += out[i] != 42;
		ok(!bad, "each got no argument and its result is in the array "
			 "(%ld wrong)", bad);
		nicely_pool_free(p);
	}

	check_bad_env("abc");
	check_bad_env("-1");
	check_bad_env("70000");

	/* many maps at once, of many sizes, filling the arena's gaps */
	{
		nicely_pool *p = mkpool("2");
		enum { MAPS = 60 };
		long sz[MAPS], total = 0, bad = 0;
		int64_t *outs[MAPS], firsts[MAPS];
		int64_t *xs = malloc(sizeof *xs * 40000);
		int queued = 0;

		for (long i = 0; i < 40000; i++)
			xs[i] = i;
		for (int m = 0; m < MAPS; m++) {
			sz[m] = 2 + (m * 7919L) % 30000;
			total += sz[m];
			outs[m] = calloc((size_t)sz[m], sizeof *outs[m]);
			queued += p && !nicely_map_into(p, lib_square, xs + m,
							sizeof *xs,
							(size_t)sz[m], 0,
							outs[m], sizeof *outs[m],
							NULL, &firsts[m]);
			if (m % 10 == 9 && p)	/* let some finish meanwhile */
				nicely_step(p, 0);
		}
		ok(queued == MAPS && !nicely_wait_all(p),
		   "%d maps_into of 2-30,000 elements (%ld in all) queued at "
		   "once in a 2 MiB arena run",
		   MAPS, total);
		for (int m = 0; m < MAPS; m++) {
			bad += wrong(outs[m], sz[m], m);
			free(outs[m]);
		}
		ok(!bad, "every one of their results is right (%ld wrong)", bad);
		nicely_pool_free(p);
		free(xs);
	}

	/* kill_all and reset in the middle of in-place maps; the maps after
	 * them reuse the arena and must not see a dying worker's writes; the
	 * arena's memory is given back once it empties */
	{
		nicely_pool *p = mkpool("");
		long n = 3000000, m = 20000;
		int64_t *xs = malloc(sizeof *xs * (size_t)n);
		int64_t *out = calloc((size_t)n, sizeof *out);
		int64_t first;
		long kb0 = proc_status_kb("RssShmem"), kb1, kb2, done = 0;
		uint8_t *st = malloc((size_t)n);

		for (long i = 0; i < n; i++)
			xs[i] = i;
		ok(p && !nicely_map_into(p, lib_square, xs, sizeof *xs,
					 (size_t)n, 0, out, sizeof *out, st,
					 &first),
		   "a map_into of 3,000,000 elements (46 MiB in the arena)");
		kb1 = proc_status_kb("RssShmem");
		ok(p && !nicely_wait_all(p) && !wrong(out, n, 0),
		   "its results are right");
		kb2 = proc_status_kb("RssShmem");
		if (kb0 < 0)
			ok(1, "arena memory given back # SKIP no RssShmem in "
			      "/proc/self/status");
		else
			ok(kb1 - kb0 > 40 * 1024 && kb2 - kb0 < 17 * 1024,
			   "its arena memory is given back once it is done "
			   "(RssShmem +%ld KiB while queued, +%ld KiB after)",
			   kb1 - kb0, kb2 - kb0);

		/* kill_all with slow elements running */
		memset(out, 0, sizeof *out * (size_t)m);
		ok(p && !nicely_map_into(p, t_slow_square, xs, sizeof *xs,
					 (size_t)m, 0, out, sizeof *out, st,
					 &first),
		   "a slow map_into is queued");
		while (p && done < 20) {
			nicely_step(p, 50);
			done = 0;
			for (long i = 0; i < m; i++)
				done += st[i] == NICELY_OK;
		}
		ok(p && nicely_kill_all(p) >= 0, "kill_all in its middle");
		long after = 0, okn = 0;

		for (long i = 0; i < m; i++) {
			okn += st[i] == NICELY_OK;
			after += st[i] == NICELY_OK && out[i] != i * i;
		}
		ok(okn >= 20 && !after,
		   "what finished before it is kept (%ld ok, %ld wrong)", okn,
		   after);
		memset(out, 0, sizeof *out * (size_t)m);
		ok(p && !nicely_map_into(p, lib_square, xs + 1, sizeof *xs,
					 (size_t)m, 0, out, sizeof *out, NULL,
					 &first) &&
			   !nicely_wait_all(p) && !wrong(out, m, 1),
		   "the next map over the same arena is right");

		/* reset in the middle, then a map again */
		ok(p && !nicely_map_into(p, t_slow_square, xs, sizeof *xs,
					 (size_t)m, 0, out, sizeof *out, NULL,
					 &first) &&
			   nicely_step(p, 20) >= 0 && !nicely_reset(p),
		   "reset in the middle of a slow map_into");
		memset(out, 0, sizeof *out * (size_t)m);
		ok(p && !nicely_map_into(p, lib_square, xs + 2, sizeof *xs,
					 (size_t)m, 0, out, sizeof *out, NULL,
					 &first) &&
			   !nicely_wait_all(p) && !wrong(out, m, 2),
		   "a map after the reset is right");
		nicely_pool_free(p);
		free(xs);
		free(out);
		free(st);
	}
	return tap_done();
}
