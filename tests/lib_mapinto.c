/* libnicely nicely_map_into: results written to the caller's array in
 * order (automatic and fixed chunks), the status array, returns of another
 * size, failures, crashes and timeouts inside a chunk keeping their details
 * via nicely_result_get, kill_all and reset in the middle (nothing written
 * afterwards), ids interleaved with nicely_run and nicely_map, n = 0,
 * out_size 0, out_size over 64 bytes (the general frames, and streamed
 * returns), callbacks, back-pressure and nicely_result_drop. */
#include <stdint.h>

#include "tap.h"
#include "lib_util.h"

#define GUARD INT64_C(0x5a5a5a5a5a5a5a5a)

/* x*x as 8 bytes; element 50 crashes its worker, 150 fails with an error
 * text, 160 succeeds with an error text, 170 returns 3 bytes. */
static int t_odd(const void *arg, size_t len, nicely_out *out, void *st)
{
	int64_t x;

	(void)len;
	(void)st;
	memcpy(&x, arg, sizeof x);
	if (x == 50) {
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
	}
	if (x == 150) {
		nicely_out_write(out, "part", 4);
		nicely_out_error(out, "element %d is bad", (int)x);
		return 7;
	}
	if (x == 160)
		nicely_out_error(out, "a warning for %d", (int)x);
	if (x == 170)
		return nicely_out_write(out, "abc", 3);
	x *= x;
	return nicely_out_write(out, &x, sizeof x);
}

/* x*x as 8 bytes. */
static int t_square(const void *arg, size_t len, nicely_out *out, void *st)
{
	return t_odd(arg, len, out, st);
}

/* Nothing returned, except element 3 which returns a byte. */
static int t_empty(const void *arg, size_t len, nicely_out *out, void *st)
{
	int64_t x;

	(void)len;
	(void)st;
	memcpy(&x, arg, sizeof x);
	return x == 3 ? nicely_out_write(out, "z", 1) : 0;
}

#define WIDE 100
#define HUGE_RET (600u * 1024)

/* WIDE bytes derived from x (the general result frames). */
static int t_wide(const void *arg, size_t len, nicely_out *out, void *st)
{
	unsigned char b[WIDE];
	int64_t x;

	(void)len;
	(void)st;
	memcpy(&x, arg, sizeof x);
	for (int i = 0; i < WIDE; i++)
		b[i] = (unsigned char)(x * 7 + i);
	return nicely_out_write(out, b, x == 9 ? WIDE - 1 : WIDE);
}

/* HUGE_RET bytes derived from x, written in pieces (streamed). */
static int t_huge(const void *arg, size_t len, nicely_out *out, void *st)
{
	unsigned char b[4096];
	int64_t x;
	size_t done = 0;

	(void)len;
	(void)st;
	memcpy(&x, arg, sizeof x);
	while (done < HUGE_RET) {
		for (size_t i = 0; i < sizeof b; i++)
			b[i] = (unsigned char)(x + (done + i) / 4096);
		if (nicely_out_write(out, b, sizeof b))
			return 9;
		done += sizeof b;
	}
	/* element 1 returns one byte more than out_size */
	return x == 1 ? nicely_out_write(out, "+", 1) : 0;
}

/* Sleep 3 ms, return x. */
static int t_slow(const void *arg, size_t len, nicely_out *out, void *st)
{
	(void)st;
	lib_sleep_ms(3);
	return nicely_out_write(out, arg, len);
}

/* x; element 5 sleeps far past the timeout. */
static int t_sleep5(const void *arg, size_t len, nicely_out *out, void *st)
{
	int64_t x;

	(void)st;
	memcpy(&x, arg, sizeof x);
	if (x == 5)
		lib_sleep_ms(20000);
	return nicely_out_write(out, arg, len);
}

/* Count finish callbacks and keep the last counters. */
struct counts {
	int64_t finished, started, completed, running, total;
};

/* on_finish. */
static void on_fin(int64_t id, int64_t completed, int64_t running,
		   int64_t total, void *u)
{
	struct counts *c = u;

	(void)id;
	c->finished++;
	c->completed = completed;
	c->running = running;
	c->total = total;
}

/* on_start. */
static void on_sta(int64_t id, int64_t completed, int64_t running,
		   int64_t total, void *u)
{
	(void)id;
	(void)completed;
	(void)running;
	(void)total;
	((struct counts *)u)->started++;
}

/* After kill_all or reset in the middle: every element's final state is
 * consistent with out, and nothing writes to out any more. */
static void check_stopped(nicely_pool *pool, const int64_t *out,
			  const uint8_t *status, int n, int after_reset,
			  const char *what)
{
	int64_t *snap = malloc((size_t)n * sizeof *snap);
	int bad = 0, okn = 0;
	nicely_stats st;

	memcpy(snap, out, (size_t)n * sizeof *snap);
	for (int x = 0; x < n; x++) {
		if (status[x] == NICELY_OK) {
			okn++;
			bad += out[x] != x;
		} else {
			bad += status[x] != NICELY_KILLED &&
			       status[x] != NICELY_CANCELLED;
			bad += out[x] != GUARD;
		}
	}
	ok(!bad, "%s: each element is OK with its value, or killed/cancelled "
		 "with out untouched (%d wrong, %d OK)",
	   what, bad, okn);
	ok(okn < n, "%s: it stopped part-way (%d of %d done)", what, okn, n);
	if (!after_reset) {
		const nicely_result *r = NULL;

		for (int x = 0; x < n && !r; x++)
			if (status[x] == NICELY_CANCELLED)
				r = nicely_result_get(pool, x);
		ok(r && r->status == NICELY_CANCELLED &&
			   strstr(r->error, "nicely_kill_all"),
		   "%s: a cancelled element has a record saying why", what);
		ok(nicely_stats_get(pool, &st) == 0 && st.completed == st.total &&
			   !st.running && !st.queued,
		   "%s: counters say all finished", what);
	}
	/* more work through the same pool, and time for stray results */
	int64_t id = nicely_run(pool, t_slow, "x", 1);

	ok(id >= 0 && nicely_wait_all(pool) == 0, "%s: the pool still works",
	   what);
	lib_sleep_ms(50);
	nicely_step(pool, 10);
	ok(!memcmp(snap, out, (size_t)n * sizeof *snap),
	   "%s: nothing was written to out after it returned", what);
	free(snap);
}

int main(void)
{
	static int64_t xs[100000], out[100000];
	static uint8_t status[100000];
	nicely_options o;
	nicely_pool *pool;
	nicely_stats st;
	int64_t first;
	int bad;

	lib_env_setup();
	for (int i = 0; i < 100000; i++)
		xs[i] = i;
	lib_opts(&o, 2);
	ok(nicely_pool_new(&pool, &o) == 0, "pool");

	/* order, automatic and fixed chunks */
	for (int pass = 0; pass < 3; pass++) {
		size_t chunk = pass == 0 ? 0 : pass == 1 ? 7 : 1000;

		for (int i = 0; i < 100000; i++)
			out[i] = GUARD;
		memset(status, 0xff, sizeof status);
		/* (elements 50..170 are odd in t_odd: map from 200 on) */
		ok(nicely_map_into(pool, t_square, xs + 200, sizeof xs[0],
				   99800, chunk, out, sizeof out[0], status,
				   &first) == 0 &&
			   nicely_wait_all(pool) == 0,
		   "99,800 elements, chunk %zu", chunk);
		bad = 0;
		for (int x = 0; x < 99800; x++)
			bad += out[x] != (int64_t)(x + 200) * (x + 200) ||
			       status[x] != NICELY_OK;
		ok(!bad, "chunk %zu: every result in order in out, status OK "
			 "(%d wrong)",
		   chunk, bad);
		ok(out[99800] == GUARD, "chunk %zu: nothing written past n",
		   chunk);
		ok(!nicely_result_get(pool, first) &&
			   !nicely_result_get(pool, first + 99799) &&
			   nicely_task_status(pool, first + 500) == NICELY_OK,
		   "chunk %zu: clean successes have no record, status OK",
		   chunk);
	}
	nicely_stats_get(pool, &st);
	ok(st.completed == st.total && !st.failed && st.total == 3 * 99800,
	   "counters: %lld completed of %lld, %lld failed",
	   (long long)st.completed, (long long)st.total, (long long)st.failed);

	/* failing, crashing, wrong-size and warning elements in one chunk */
	{
		const nicely_result *r;
		int64_t before = st.failed;

		for (int i = 0; i < 200; i++)
			out[i] = GUARD;
		ok(nicely_map_into(pool, t_odd, xs, sizeof xs[0], 200, 200, out,
				   sizeof out[0], status, &first) == 0 &&
			   nicely_wait_all(pool) == 0,
		   "one chunk of 200 with odd elements ran");
		/* the elements before the crash ran in the dying worker:
		 * those whose results it had not sent are lost, each with a
		 * result saying so (never run twice); the ones after it never
		 * began and run in the next worker */
		int lost = 0;

		bad = 0;
		for (int x = 0; x < 200; x++) {
			if (x == 50 || x == 150 || x == 170)
				continue;
			r = x < 50 && status[x] == NICELY_SIGNALED
				    ? nicely_result_get(pool, first + x)
				    : NULL;
			if (r && r->code == SIGSEGV && out[x] == GUARD &&
			    strstr(r->error, "before its result reached the "
					     "pool"))
				lost++;
			else
				bad += status[x] != NICELY_OK ||
				       out[x] != (int64_t)x * x;
		}
		ok(!bad, "the ordinary elements are in out, OK, or (before the "
		   "crash) lost with a reason (%d wrong, %d lost)", bad, lost);
		r = nicely_result_get(pool, first + 50);
		ok(r && r->status == NICELY_SIGNALED && r->code == SIGSEGV &&
			   r->pid > 0 && r->id == first + 50 &&
			   strstr(r->error, "signal") &&
			   status[50] == NICELY_SIGNALED && out[50] == GUARD,
		   "the crash keeps its details: %s, code %d, \"%s\"",
		   r ? nicely_status_name(r->status) : "none", r ? r->code : 0,
		   r ? r->error : "");
		r = nicely_result_get(pool, first + 150);
		ok(r && r->status == NICELY_FAILED && r->code == 7 &&
			   r->len == 4 && !memcmp(r->data, "part", 4) &&
			   !strcmp(r->error, "element 150 is bad") &&
			   r->pid > 0 && status[150] == NICELY_FAILED &&
			   out[150] == GUARD,
		   "the failure keeps code, bytes and error text");
		r = nicely_result_get(pool, first + 160);
		ok(r && r->status == NICELY_OK &&
			   !strcmp(r->error, "a warning for 160") &&
			   r->len == 8 && out[160] == 160 * 160 &&
			   status[160] == NICELY_OK,
		   "a success with an error text: in out, and a record with "
		   "the text");
		r = nicely_result_get(pool, first + 170);
		{
			char want[64];

			snprintf(want, sizeof want, "task %lld returned 3 bytes",
				 (long long)(first + 170));
			ok(r && r->status == NICELY_FAILED &&
				   strstr(r->error, want) &&
				   strstr(r->error, "expects 8 (out_size)") &&
				   r->len == 3 && !memcmp(r->data, "abc", 3) &&
				   status[170] == NICELY_FAILED &&
				   out[170] == GUARD,
			   "a return of another size fails that element only "
			   "(\"%s\")",
			   r ? r->error : "");
		}
		nicely_stats_get(pool, &st);
		ok(st.failed == before + 3 + lost,
		   "three failures and the lost ones counted (%lld)",
		   (long long)(st.failed - before));
		ok(nicely_result_drop(pool, first + 150) == 0 &&
			   !nicely_result_get(pool, first + 150) &&
			   nicely_task_status(pool, first + 150) ==
				   NICELY_FAILED,
		   "dropping a failure's record keeps its status");
		ok(nicely_result_drop(pool, first + 60) == 0 &&
			   nicely_task_status(pool, first + 60) == NICELY_OK &&
			   nicely_result_drop(pool, first + 200) == NICELY_ENOENT,
		   "dropping a clean success: 0, status stays; past the end: "
		   "ENOENT");
	}

	/* NULL status; interleaved ids */
	{
		int64_t a = 7, r1, r2, fm, fi, fi2, o2[5];

		r1 = nicely_run(pool, t_square, &a, sizeof a);
		ok(nicely_map_into(pool, t_square, xs + 200, sizeof xs[0], 10, 0,
				   out, sizeof out[0], NULL, &fi) == 0,
		   "a map_into with a NULL status array");
		ok(nicely_map(pool, t_square, xs + 300, sizeof xs[0], 4, 0,
			      &fm) == 0,
		   "then a nicely_map");
		ok(nicely_map_into(pool, t_square, xs + 400, sizeof xs[0], 5, 2,
				   o2, sizeof o2[0], NULL, &fi2) == 0,
		   "then another map_into");
		r2 = nicely_run(pool, t_square, &a, sizeof a);
		ok(fi == r1 + 1 && fm == fi + 10 && fi2 == fm + 4 &&
			   r2 == fi2 + 5,
		   "ids continue in call order");
		ok(nicely_wait(pool, fi + 9) == 0 &&
			   nicely_task_status(pool, fi + 9) == NICELY_OK &&
			   out[9] == 209 * 209,
		   "nicely_wait on a map_into id");
		ok(nicely_wait_all(pool) == 0, "all ran");
		bad = 0;
		for (int i = 0; i < 10; i++)
			bad += out[i] != (int64_t)(200 + i) * (200 + i);
		for (int i = 0; i < 5; i++)
			bad += o2[i] != (int64_t)(400 + i) * (400 + i);
		for (int i = 0; i < 4; i++) {
			const nicely_result *r = nicely_result_get(pool, fm + i);

			bad += !r || r->len != 8 ||
			       *(const int64_t *)r->data != (300 + i) * (300 + i);
		}
		bad += !nicely_result_get(pool, r1) ||
		       *(const int64_t *)nicely_result_get(pool, r1)->data != 49;
		bad += !nicely_result_get(pool, r2);
		ok(!bad, "each id has its own call's result (%d wrong)", bad);
	}

	/* n = 0, out_size 0, bad arguments */
	{
		nicely_stats s0;

		nicely_stats_get(pool, &s0);
		ok(nicely_map_into(pool, t_square, xs, sizeof xs[0], 0, 0, NULL,
				   8, NULL, &first) == 0 &&
			   first == s0.total &&
			   nicely_stats_get(pool, &st) == 0 &&
			   st.total == s0.total,
		   "n = 0: nothing queued, first_id is the next id");
		ok(nicely_map_into(pool, t_square, xs, sizeof xs[0], 5, 0, NULL,
				   8, NULL, &first) == NICELY_EINVAL,
		   "out NULL with out_size 8: EINVAL");
		memset(status, 0xff, 10);
		ok(nicely_map_into(pool, t_empty, xs, sizeof xs[0], 10, 0, NULL,
				   0, status, &first) == 0 &&
			   nicely_wait_all(pool) == 0,
		   "out_size 0 with out NULL");
		bad = 0;
		for (int i = 0; i < 10; i++)
			bad += status[i] != (i == 3 ? NICELY_FAILED : NICELY_OK);
		ok(!bad && nicely_result_get(pool, first + 3) &&
			   strstr(nicely_result_get(pool, first + 3)->error,
				  "returned 1 bytes"),
		   "out_size 0: empty returns OK, the 1-byte return fails");
	}

	/* out_size over 64: general frames, and streamed returns */
	{
		static unsigned char wide[300 * WIDE];
		unsigned char *huge = malloc(4 * (size_t)HUGE_RET);

		memset(wide, 0xee, sizeof wide);
		ok(nicely_map_into(pool, t_wide, xs, sizeof xs[0], 300, 0, wide,
				   WIDE, status, &first) == 0 &&
			   nicely_wait_all(pool) == 0,
		   "300 elements of %d bytes", WIDE);
		bad = 0;
		for (int x = 0; x < 300; x++)
			for (int i = 0; i < WIDE && x != 9; i++)
				if (wide[x * WIDE + i] !=
				    (unsigned char)(x * 7 + i)) {
					bad++;
					break;
				}
		for (int i = 0; i < WIDE; i++)
			bad += wide[9 * WIDE + i] != 0xee;
		ok(!bad && status[9] == NICELY_FAILED &&
			   nicely_result_get(pool, first + 9)->len == WIDE - 1,
		   "all in out but the short one, which failed with its bytes "
		   "(%d wrong)",
		   bad);
		memset(huge, 0xee, 4 * (size_t)HUGE_RET);
		ok(nicely_map_into(pool, t_huge, xs, sizeof xs[0], 4, 0, huge,
				   HUGE_RET, status, &first) == 0 &&
			   nicely_wait_all(pool) == 0,
		   "4 elements of %u bytes (streamed)", HUGE_RET);
		bad = 0;
		for (int x = 0; x < 4; x++)
			for (size_t i = 0; i < HUGE_RET; i++)
				if (huge[(size_t)x * HUGE_RET + i] !=
				    (x == 1 ? 0xee
					    : (unsigned char)(x + i / 4096))) {
					bad++;
					break;
				}
		ok(!bad && status[0] == NICELY_OK && status[1] == NICELY_FAILED &&
			   nicely_result_get(pool, first + 1)->len ==
				   HUGE_RET + 1 &&
			   !nicely_result_get(pool, first + 2),
		   "streamed returns land in out; the one a byte too long "
		   "failed and kept all its bytes");
		free(huge);
	}

	/* kill_all in the middle */
	for (int i = 0; i < 400; i++)
		out[i] = GUARD;
	ok(nicely_reset(pool) == 0, "reset (ids from 0)");
	ok(nicely_map_into(pool, t_slow, xs, sizeof xs[0], 400, 0, out,
			   sizeof out[0], status, &first) == 0 &&
		   first == 0,
	   "400 slow elements queued");
	for (int i = 0; i < 10; i++)
		nicely_step(pool, 10);
	ok(nicely_kill_all(pool) > 0, "kill_all in the middle");
	check_stopped(pool, out, status, 400, 0, "kill_all");

	/* reset in the middle */
	for (int i = 0; i < 400; i++)
		out[i] = GUARD;
	ok(nicely_reset(pool) == 0 &&
		   nicely_map_into(pool, t_slow, xs, sizeof xs[0], 400, 0, out,
				   sizeof out[0], status, &first) == 0,
	   "400 slow elements queued again");
	for (int i = 0; i < 10; i++)
		nicely_step(pool, 10);
	ok(nicely_reset(pool) == 0, "reset in the middle");
	ok(nicely_stats_get(pool, &st) == 0 && !st.total,
	   "nothing left of it");
	check_stopped(pool, out, status, 400, 1, "reset");
	nicely_pool_free(pool);

	/* callbacks and back-pressure */
	{
		struct counts c = { 0 };

		lib_opts(&o, 2);
		o.max_queued = 50;
		o.on_finish = on_fin;
		o.on_start = on_sta;
		o.cb_user = &c;
		ok(nicely_pool_new(&pool, &o) == 0, "a pool with max_queued 50");
		ok(nicely_map_into(pool, t_square, xs + 200, sizeof xs[0], 2000,
				   0, out, sizeof out[0], status, &first) == 0,
		   "2,000 elements through a queue of 50");
		nicely_stats_get(pool, &st);
		ok(st.queued <= 50,
		   "at most 50 queued on return (%lld)", (long long)st.queued);
		ok(nicely_wait_all(pool) == 0, "they ran");
		bad = 0;
		for (int x = 0; x < 2000; x++)
			bad += out[x] != (int64_t)(x + 200) * (x + 200);
		ok(!bad, "results in out (%d wrong)", bad);
		ok(c.finished == 2000 && c.started == 2000 &&
			   c.completed == 2000 && c.running == 0 &&
			   c.total == 2000,
		   "one start and one finish callback per element, counters "
		   "%lld/%lld/%lld",
		   (long long)c.completed, (long long)c.running,
		   (long long)c.total);
		nicely_pool_free(pool);

		lib_opts(&o, 2);
		o.max_queued = 50;
		o.run_nonblock = 1;
		ok(nicely_pool_new(&pool, &o) == 0 &&
			   nicely_map_into(pool, t_square, xs, sizeof xs[0], 51,
					   0, out, sizeof out[0], status,
					   &first) == NICELY_EAGAIN &&
			   nicely_stats_get(pool, &st) == 0 && !st.total,
		   "non-blocking: more than max_queued is EAGAIN, nothing "
		   "queued");
		nicely_pool_free(pool);
	}

	/* a timeout inside a chunk */
	{
		const nicely_result *r;
		pid_t pids[2] = { 0, 0 };

		lib_opts(&o, 1);
		o.timeout_ms = 300;
		ok(nicely_pool_new(&pool, &o) == 0, "a pool with timeout 300 ms");
		for (int i = 0; i < 10; i++)
			out[i] = GUARD;
		ok(nicely_map_into(pool, t_sleep5, xs, sizeof xs[0], 10, 10, out,
				   sizeof out[0], status, &first) == 0 &&
			   nicely_wait_all(pool) == 0,
		   "a chunk of 10 whose element 5 hangs");
		r = nicely_result_get(pool, first + 5);
		ok(r && r->status == NICELY_TIMEOUT && strstr(r->error, "300") &&
			   r->wall >= 0.25 && status[5] == NICELY_TIMEOUT &&
			   out[5] == GUARD,
		   "it timed out with its details (%s, \"%s\")",
		   r ? nicely_status_name(r->status) : "none",
		   r ? r->error : "");
		/* those before it ran: unsent results are lost, each with a
		 * result saying so; those after it ran in a new worker */
		int lost = 0;

		bad = 0;
		for (int x = 0; x < 10; x++) {
			const nicely_result *e =
				x < 5 && status[x] == NICELY_FAILED
					? nicely_result_get(pool, first + x)
					: NULL;

			if (e && out[x] == GUARD &&
			    strstr(e->error, "timed out after running the task"))
				lost++;
			else
				bad += x != 5 &&
				       (out[x] != x || status[x] != NICELY_OK);
		}
		ok(!bad, "the others are in out, or (before it) lost with a "
		   "reason (%d wrong, %d lost)", bad, lost);
		if (r)
			pids[0] = r->pid;
		nicely_pool_free(pool);
		ok(lib_wait_gone(pids[0], 5), "its worker is gone after free");
	}
	return tap_done();
}
