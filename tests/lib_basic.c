/* libnicely basics: returns in call order when tasks finish in reverse,
 * argument isolation, return bytes of 0, 1 and 10 MB, map with automatic
 * and fixed chunks, error strings, result lookup and drop, nicely_fd. */
#include <poll.h>
#include <stdint.h>

#include "tap.h"
#include "lib_util.h"

static int64_t finish_order[8];
static int nfinished;

/* Sleep the argument's milliseconds, return them. */
static int t_sleep(const void *arg, size_t len, nicely_out *out, void *st)
{
	int ms;

	(void)st;
	if (len != sizeof ms)
		return 2;
	memcpy(&ms, arg, sizeof ms);
	lib_sleep_ms(ms);
	return nicely_out_write(out, &ms, sizeof ms);
}

/* Return the argument bytes. */
static int t_echo(const void *arg, size_t len, nicely_out *out, void *st)
{
	(void)st;
	return nicely_out_write(out, arg, len);
}

/* Return n pattern bytes, written in uneven pieces. */
static int t_bytes(const void *arg, size_t len, nicely_out *out, void *st)
{
	size_t n, done = 0, piece = 1;
	static unsigned char buf[70000];

	(void)st;
	if (len != sizeof n)
		return 2;
	memcpy(&n, arg, sizeof n);
	while (done < n) {
		size_t k = n - done < piece ? n - done : piece;

		for (size_t i = 0; i < k; i++)
			buf[i] = (unsigned char)((done + i) * 31 + 7);
		if (nicely_out_write(out, buf, k))
			return 3;
		done += k;
		piece = piece * 3 + 1 > sizeof buf ? sizeof buf : piece * 3 + 1;
	}
	return 0;
}

/* Note the order tasks finish in. */
static void on_finish(int64_t id, int64_t c, int64_t r, int64_t t, void *u)
{
	(void)u;
	(void)c;
	(void)r;
	(void)t;
	if (nfinished < 8)
		finish_order[nfinished++] = id;
}

/* Check n bytes follow t_bytes' pattern. */
static int pattern_ok(const nicely_result *r, size_t n)
{
	const unsigned char *p = r->data;

	if (!r || r->len != n || (n && !p))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(i * 31 + 7))
			return 0;
	return 1;
}

int main(void)
{
	nicely_options o;
	nicely_pool *pool;
	const nicely_result *r;
	int rc;

	lib_env_setup();

	/* Reversed finishing order, ordered results. */
	lib_opts(&o, 3);
	o.on_finish = on_finish;
	rc = nicely_pool_new(&pool, &o);
	is_int(rc, 0, "pool_new with preset nuclear");
	if (rc)
		tap_bail("no pool");
	int ms[3] = { 900, 500, 100 };

	for (int i = 0; i < 3; i++)
		is_int(nicely_run(pool, t_sleep, &ms[i], sizeof ms[i]), i,
		       "run returns id %d", i);
	is_int(nicely_wait_all(pool), 0, "wait_all");
	is_int(nfinished, 3, "three finish callbacks");
	ok(finish_order[0] == 2 && finish_order[1] == 1 && finish_order[2] == 0,
	   "they finished in reverse order (%lld %lld %lld)",
	   (long long)finish_order[0], (long long)finish_order[1],
	   (long long)finish_order[2]);
	for (int i = 0; i < 3; i++) {
		int v = -1;

		r = nicely_result_get(pool, i);
		if (r && r->len == sizeof v)
			memcpy(&v, r->data, sizeof v);
		ok(r && r->status == NICELY_OK && r->id == i && v == ms[i],
		   "result %d holds %d (got %d)", i, ms[i], v);
	}
	r = nicely_result_get(pool, 2);
	ok(r && r->pid > 0 && r->wall >= 0.05 && r->wall < 30,
	   "wall time and pid recorded (%.3f s)", r ? r->wall : -1.0);
	ok(!nicely_result_get(pool, 3) && !nicely_result_get(pool, -1),
	   "no result for unknown ids");
	is_int(nicely_task_status(pool, 99), NICELY_ENOENT, "status of unknown id");

	/* Isolation: the caller's buffer changes right after run. */
	char buf[32];
	int blocker = 300;
	int64_t id;

	nicely_run(pool, t_sleep, &blocker, sizeof blocker);
	nicely_run(pool, t_sleep, &blocker, sizeof blocker);
	nicely_run(pool, t_sleep, &blocker, sizeof blocker);
	strcpy(buf, "original argument");
	id = nicely_run(pool, t_echo, buf, strlen(buf) + 1);
	ok(id > 0, "queued the echo task");
	memset(buf, 'X', sizeof buf - 1);
	buf[sizeof buf - 1] = 0;
	is_int(nicely_wait(pool, id), 0, "wait for the echo task");
	r = nicely_result_get(pool, id);
	is_str(r ? (const char *)r->data : NULL, "original argument",
	       "the task saw the argument as it was at nicely_run");

	/* Return bytes: 0, 1, 10 MB. */
	size_t sizes[3] = { 0, 1, 10u << 20 };
	int64_t ids[3];

	for (int i = 0; i < 3; i++)
		ids[i] = nicely_run(pool, t_bytes, &sizes[i], sizeof sizes[i]);
	is_int(nicely_wait_all(pool), 0, "wait for the byte tasks");
	for (int i = 0; i < 3; i++) {
		r = nicely_result_get(pool, ids[i]);
		ok(r && r->status == NICELY_OK && pattern_ok(r, sizes[i]),
		   "%zu return bytes arrive intact (got %zu)", sizes[i],
		   r ? r->len : 0);
	}
	r = nicely_result_get(pool, ids[0]);
	ok(r && r->data == NULL, "no bytes: data is NULL");
	id = nicely_run(pool, t_echo, NULL, 0);	/* writes 0 bytes from NULL */
	nicely_wait(pool, id);
	r = nicely_result_get(pool, id);
	ok(r && r->status == NICELY_OK && r->len == 0,
	   "an empty argument and an empty write");
	is_int(nicely_result_drop(pool, ids[2]), 0, "drop the 10 MB result");
	ok(!nicely_result_get(pool, ids[2]), "a dropped result is gone");
	is_int(nicely_task_status(pool, ids[2]), NICELY_OK,
	       "its status stays readable");
	nicely_pool_free(pool);

	/* Map, automatic and fixed chunks. */
	lib_opts(&o, 2);
	is_int(nicely_pool_new(&pool, &o), 0, "second pool");
	enum { N = 20000 };
	static int64_t xs[N];
	int64_t first = -1, first2 = -1;

	for (int i = 0; i < N; i++)
		xs[i] = i - 77;
	is_int(nicely_map(pool, lib_square, xs, sizeof xs[0], N, 0, &first), 0,
	       "map with automatic chunks");
	is_int(first, 0, "first id 0");
	is_int(nicely_map(pool, lib_square, xs, sizeof xs[0], 1000, 7, &first2),
	       0, "map with chunk 7");
	is_int(first2, N, "ids continue after the first map");
	memset(xs, 0, sizeof xs);
	is_int(nicely_wait_all(pool), 0, "maps done");
	int bad = 0;

	for (int i = 0; i < N + 1000; i++) {
		int64_t x = (i < N ? i : i - N) - 77, v = 0;

		r = nicely_result_get(pool, i);
		if (r && r->len == sizeof v)
			memcpy(&v, r->data, sizeof v);
		if (!r || r->status != NICELY_OK || v != x * x)
			bad++;
	}
	is_int(bad, 0, "every map element squared in place");
	nicely_stats st;

	nicely_stats_get(pool, &st);
	ok(st.total == N + 1000 && st.completed == N + 1000 && !st.running &&
		   !st.queued && !st.failed,
	   "stats: %lld total, %lld completed", (long long)st.total,
	   (long long)st.completed);
	ok(st.workers_started >= 1 && st.workers_started <= 2,
	   "persistent workers: %lld started", (long long)st.workers_started);

	/* A big return in the middle of a chunk. */
	size_t mixed[5] = { 3, 100, 3u << 20, 0, 70000 };

	is_int(nicely_map(pool, t_bytes, mixed, sizeof mixed[0], 5, 5, &first),
	       0, "map of mixed sizes in one chunk");
	is_int(nicely_wait_all(pool), 0, "done");
	bad = 0;
	for (int i = 0; i < 5; i++) {
		r = nicely_result_get(pool, first + i);
		if (!r || r->status != NICELY_OK || !pattern_ok(r, mixed[i]))
			bad++;
	}
	is_int(bad, 0, "a streamed 3 MB return between small ones, all intact");

	/* nicely_fd with the caller's own poll loop. */
	int fd = nicely_fd(pool), done = 0;

	ok(fd >= 0, "nicely_fd gives a fd");
	id = nicely_run(pool, t_echo, "x", 2);
	for (int i = 0; i < 500 && !done; i++) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int t = nicely_timeout_ms(pool);

		poll(&pfd, 1, t < 0 || t > 100 ? 100 : t);
		done = nicely_step(pool, 0) == 1;
	}
	ok(done && nicely_result_get(pool, id), "poll + step(0) finish a task");
	nicely_pool_free(pool);

	/* Errors. */
	ok(strcmp(nicely_strerror(NICELY_EAGAIN), nicely_strerror(NICELY_EINVAL)) &&
		   strstr(nicely_strerror(NICELY_EAGAIN), "queue"),
	   "strerror names the error");
	is_str(nicely_strerror(-99999), "unknown error", "unknown code");
	is_int(nicely_pool_new(NULL, &o), NICELY_EINVAL, "pool_new(NULL)");
	is_str(nicely_status_name(NICELY_TIMEOUT), "timeout", "status names");
	return tap_done();
}
