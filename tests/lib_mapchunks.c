/* libnicely map results read back per id: chunks whose elements return
 * different sizes (0 to 1 MiB, streamed), a chunk of equal small returns
 * broken by one that fails or returns another size, a crash inside a
 * chunk, nicely_result_drop on elements of a chunk and on queued ones,
 * reset in the middle of a map, ids of interleaved maps and runs, and a
 * map large enough that its records come from the huge-page slabs. */
#include <stdint.h>

#include "tap.h"
#include "lib_util.h"

#define BIG (1u << 20)

/* Size of element x's return in the mixed map. */
static size_t mixed_len(int64_t x)
{
	static const size_t sizes[] = { 0, 1, 7, 8, 9, 100 };

	return x == 37 ? BIG : sizes[x % 6];
}

/* Byte i of element x's return. */
static unsigned char mixed_byte(int64_t x, size_t i)
{
	return (unsigned char)(x * 31 + i * 7 + 1);
}

/* Return mixed_len(x) bytes, in pieces for the big one (streamed). */
static int t_mixed(const void *arg, size_t len, nicely_out *out, void *st)
{
	int64_t x;
	unsigned char buf[4096];
	size_t n, done = 0;

	(void)len;
	(void)st;
	memcpy(&x, arg, sizeof x);
	n = mixed_len(x);
	while (done < n) {
		size_t k = n - done < sizeof buf ? n - done : sizeof buf;

		for (size_t i = 0; i < k; i++)
			buf[i] = mixed_byte(x, done + i);
		if (nicely_out_write(out, buf, k))
			return 99;
		done += k;
	}
	return 0;
}

/* x*x as 8 bytes; element 150 fails with an error text, 160 returns 0
 * with an error text, 170 returns 3 bytes, 180 returns nothing. */
static int t_square_odd(const void *arg, size_t len, nicely_out *out,
			void *st)
{
	int64_t x;

	(void)len;
	(void)st;
	memcpy(&x, arg, sizeof x);
	if (x == 150) {
		nicely_out_write(out, "part", 4);
		nicely_out_error(out, "element %d is bad", (int)x);
		return 7;
	}
	if (x == 160)
		nicely_out_error(out, "a warning for %d", (int)x);
	if (x == 170)
		return nicely_out_write(out, "abc", 3);
	if (x == 180)
		return 0;
	x *= x;
	return nicely_out_write(out, &x, sizeof x);
}

/* x*x, but element 50 crashes its worker. */
static int t_crash50(const void *arg, size_t len, nicely_out *out, void *st)
{
	int64_t x;

	memcpy(&x, arg, sizeof x);
	if (x == 50) {
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
	}
	return lib_square(arg, len, out, st);
}

/* x + 1000 * tag, where tag (the first int64 of the argument after x)
 * says which call queued it. */
static int t_tagged(const void *arg, size_t len, nicely_out *out, void *st)
{
	int64_t v[2];

	(void)st;
	if (len != sizeof v)
		return 9;
	memcpy(v, arg, sizeof v);
	v[0] += 1000 * v[1];
	return nicely_out_write(out, &v[0], sizeof v[0]);
}

/* Sleep 2 ms, return 1 byte. */
static int t_slow(const void *arg, size_t len, nicely_out *out, void *st)
{
	(void)arg;
	(void)len;
	(void)st;
	lib_sleep_ms(2);
	return nicely_out_write(out, "s", 1);
}

/* 8-byte value of a result, or -1. */
static int64_t val8(const nicely_result *r)
{
	int64_t v = -1;

	if (r && r->status == NICELY_OK && r->len == sizeof v && r->data)
		memcpy(&v, r->data, sizeof v);
	return v;
}

/* Every element of the mixed map reads back right; count the bad ones. */
static int check_mixed(nicely_pool *pool, int64_t first, int n)
{
	int bad = 0;

	for (int x = 0; x < n; x++) {
		const nicely_result *r = nicely_result_get(pool, first + x);
		size_t want = mixed_len(x);
		const unsigned char *d;

		if (!r || r->status != NICELY_OK || r->len != want ||
		    r->id != first + x || strcmp(r->error, "") ||
		    (want && (!r->data || ((uintptr_t)r->data & 7))) ||
		    (!want && r->data)) {
			if (bad++ < 3)
				tap_diag("element %d: %s len %zu", x,
					 r ? nicely_status_name(r->status)
					   : "missing",
					 r ? r->len : 0);
			continue;
		}
		d = r->data;
		for (size_t i = 0; i < want; i++)
			if (d[i] != mixed_byte(x, i)) {
				bad++;
				break;
			}
	}
	return bad;
}

int main(void)
{
	nicely_options o;
	nicely_pool *pool;
	nicely_stats st;
	int64_t xs[200000], first, ids[6];
	int bad;

	lib_env_setup();
	for (int i = 0; i < 200000; i++)
		xs[i] = i;
	lib_opts(&o, 2);
	ok(nicely_pool_new(&pool, &o) == 0, "pool");

	/* returns of 0, 1, 7, 8, 9, 100 bytes and one of 1 MiB */
	ok(nicely_map(pool, t_mixed, xs, sizeof xs[0], 300, 0, &first) == 0 &&
		   nicely_wait_all(pool) == 0,
	   "mixed-size map (automatic chunks) ran");
	bad = check_mixed(pool, first, 300);
	ok(!bad, "every element's bytes read back per id (%d wrong)", bad);
	ok(nicely_map(pool, t_mixed, xs, sizeof xs[0], 300, 16, &first) == 0 &&
		   nicely_wait_all(pool) == 0,
	   "the same map with chunks of 16 ran");
	bad = check_mixed(pool, first, 300);
	ok(!bad, "and reads back per id (%d wrong)", bad);

	/* a chunk of equal returns broken by other kinds of result */
	ok(nicely_map(pool, t_square_odd, xs, sizeof xs[0], 200, 200,
		      &first) == 0 &&
		   nicely_wait_all(pool) == 0,
	   "one chunk of 200 with odd elements ran");
	bad = 0;
	for (int x = 0; x < 200; x++) {
		const nicely_result *r = nicely_result_get(pool, first + x);

		if (x == 150 || x == 160 || x == 170 || x == 180)
			continue;
		if (val8(r) != (int64_t)x * x || strcmp(r->error, ""))
			bad++;
	}
	ok(!bad, "the 196 ordinary elements read back (%d wrong)", bad);
	{
		const nicely_result *r = nicely_result_get(pool, first + 150);

		ok(r && r->status == NICELY_FAILED && r->code == 7 &&
			   r->len == 4 && !memcmp(r->data, "part", 4) &&
			   !strcmp(r->error, "element 150 is bad"),
		   "the failing element: FAILED, code 7, its bytes and error");
		r = nicely_result_get(pool, first + 160);
		ok(val8(r) == 160 * 160 &&
			   !strcmp(r->error, "a warning for 160"),
		   "an element that succeeded with an error text keeps it");
		r = nicely_result_get(pool, first + 170);
		ok(r && r->status == NICELY_OK && r->len == 3 &&
			   !memcmp(r->data, "abc", 3),
		   "an element of another size");
		r = nicely_result_get(pool, first + 180);
		ok(r && r->status == NICELY_OK && r->len == 0 && !r->data,
		   "an element with no return bytes");
	}

	/* nicely_result_drop on elements of a chunk */
	ok(nicely_map(pool, lib_square, xs, sizeof xs[0], 100, 100, &first) ==
			   0 &&
		   nicely_wait_all(pool) == 0,
	   "a chunk of 100");
	ok(nicely_result_drop(pool, first + 3) == 0 &&
		   nicely_result_drop(pool, first + 4) == 0,
	   "dropped two of its elements");
	ok(!nicely_result_get(pool, first + 3) &&
		   !nicely_result_get(pool, first + 4) &&
		   nicely_task_status(pool, first + 3) == NICELY_OK,
	   "they are gone, their status stays");
	bad = 0;
	for (int x = 0; x < 100; x++)
		if (x != 3 && x != 4 &&
		    val8(nicely_result_get(pool, first + x)) != (int64_t)x * x)
			bad++;
	ok(!bad, "the chunk's other elements are intact (%d wrong)", bad);

	/* a crash inside a chunk */
	ok(nicely_map(pool, t_crash50, xs, sizeof xs[0], 100, 100, &first) ==
			   0 &&
		   nicely_wait_all(pool) == 0,
	   "a chunk with a crashing element ran");
	{
		const nicely_result *r = nicely_result_get(pool, first + 50);

		ok(r && r->status == NICELY_SIGNALED && r->code == SIGSEGV,
		   "the element that crashed is SIGNALED (%s)",
		   r ? nicely_status_name(r->status) : "missing");
	}
	/* the elements before it ran in the dying worker: those whose
	 * results it had not sent are lost with a result saying so (never
	 * run twice); those after it never began and ran in the next one */
	bad = 0;
	int lost = 0;

	for (int x = 0; x < 100; x++) {
		const nicely_result *r = nicely_result_get(pool, first + x);

		if (x == 50)
			continue;
		if (x < 50 && r && r->status == NICELY_SIGNALED &&
		    r->code == SIGSEGV &&
		    strstr(r->error, "before its result reached the pool"))
			lost++;
		else if (val8(r) != (int64_t)x * x)
			bad++;
	}
	ok(!bad, "the others read back, or (before the crash) are lost with "
	   "a reason (%d wrong, %d lost)", bad, lost);

	/* ids of interleaved maps and runs */
	{
		int64_t a[2] = { 7, 1 }, m1[5][2], m2[3][2], c[2] = { 9, 3 };
		int64_t e[2] = { 11, 5 }, fm1, fm2;

		for (int i = 0; i < 5; i++) {
			m1[i][0] = i;
			m1[i][1] = 2;
		}
		for (int i = 0; i < 3; i++) {
			m2[i][0] = i;
			m2[i][1] = 4;
		}
		ids[0] = nicely_run(pool, t_tagged, a, sizeof a);
		nicely_map(pool, t_tagged, m1, sizeof m1[0], 5, 0, &fm1);
		ids[1] = nicely_run(pool, t_tagged, c, sizeof c);
		nicely_map(pool, t_tagged, m2, sizeof m2[0], 3, 2, &fm2);
		ids[2] = nicely_run(pool, t_tagged, e, sizeof e);
		ok(fm1 == ids[0] + 1 && ids[1] == fm1 + 5 &&
			   fm2 == ids[1] + 1 && ids[2] == fm2 + 3,
		   "ids continue in call order across runs and maps");
		ok(nicely_wait_all(pool) == 0, "they ran");
		bad = 0;
		bad += val8(nicely_result_get(pool, ids[0])) != 1007;
		bad += val8(nicely_result_get(pool, ids[1])) != 3009;
		bad += val8(nicely_result_get(pool, ids[2])) != 5011;
		for (int i = 0; i < 5; i++)
			bad += val8(nicely_result_get(pool, fm1 + i)) != 2000 + i;
		for (int i = 0; i < 3; i++)
			bad += val8(nicely_result_get(pool, fm2 + i)) != 4000 + i;
		ok(!bad, "each id has its own call's result (%d wrong)", bad);
	}

	/* queued tasks whose records are not written yet */
	/* (chunks of 1: at most 64 messages in flight per worker) */
	ok(nicely_map(pool, t_slow, xs, sizeof xs[0], 300, 1, &first) == 0,
	   "300 slow tasks queued");
	ok(nicely_task_status(pool, first + 299) == NICELY_QUEUED &&
		   !nicely_result_get(pool, first + 299) &&
		   nicely_result_drop(pool, first + 299) == NICELY_EBUSY,
	   "the last one is QUEUED, has no result and cannot be dropped");
	ok(nicely_wait(pool, first + 299) == 0 &&
		   nicely_result_get(pool, first + 299) &&
		   nicely_result_get(pool, first + 299)->len == 1 &&
		   nicely_result_get(pool, first + 299)->id == first + 299,
	   "nicely_wait on it returns with its result");

	/* reset in the middle of a map */
	ok(nicely_map(pool, t_slow, xs, sizeof xs[0], 500, 0, &first) == 0,
	   "500 slow tasks queued");
	nicely_step(pool, 30);
	nicely_step(pool, 30);
	ok(nicely_reset(pool) == 0, "reset in the middle of the map");
	ok(nicely_stats_get(pool, &st) == 0 && !st.total && !st.queued &&
		   !st.running && !st.completed,
	   "nothing left of it");
	ok(nicely_map(pool, lib_square, xs, sizeof xs[0], 1000, 0, &first) ==
			   0 &&
		   first == 0 && nicely_wait_all(pool) == 0,
	   "a new map after reset starts at id 0");
	bad = 0;
	for (int x = 0; x < 1000; x++)
		if (val8(nicely_result_get(pool, x)) != (int64_t)x * x)
			bad++;
	ok(!bad, "and reads back (%d wrong)", bad);

	/* a map big enough for the slabs, then reset with part of another
	 * still queued, then free with results in the slabs */
	ok(nicely_map(pool, lib_square, xs, sizeof xs[0], 200000, 0, &first) ==
			   0 &&
		   nicely_wait_all(pool) == 0,
	   "200,000 elements ran");
	bad = 0;
	for (int x = 0; x < 200000; x++)
		if (val8(nicely_result_get(pool, first + x)) != (int64_t)x * x)
			bad++;
	ok(!bad, "all 200,000 read back (%d wrong)", bad);
	ok(nicely_map(pool, lib_square, xs, sizeof xs[0], 200000, 0, &first) ==
			   0 &&
		   nicely_step(pool, 0) >= 0 && nicely_reset(pool) == 0,
	   "reset with most of a 200,000-element map queued");
	ok(nicely_map(pool, t_mixed, xs, sizeof xs[0], 50, 0, &first) == 0 &&
		   nicely_wait_all(pool) == 0 &&
		   check_mixed(pool, first, 50) == 0,
	   "the pool works afterwards");
	{
		pid_t pids[50];
		int gone = 1;

		for (int x = 0; x < 50; x++)
			pids[x] = nicely_result_get(pool, first + x)->pid;
		nicely_pool_free(pool);
		for (int x = 0; x < 50; x++)
			gone &= pids[x] > 0 && lib_wait_gone(pids[x], 5);
		ok(gone, "after nicely_pool_free its workers are gone");
	}
	return tap_done();
}
