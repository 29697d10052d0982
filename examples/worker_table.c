/* Worker init loading a big table once per worker (MPIRE's worker_init
 * with worker_state): each worker builds a table of primes up to 2^22 in
 * worker_init, every task then answers from it, and worker_exit frees it.
 * Run: build/examples/worker_table */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nicely.h"

#define LIMIT (1u << 22)

/* worker_init: a sieve of LIMIT bytes, built once in each worker. */
static int load_table(void **state, void *arg)
{
	unsigned char *composite = calloc(LIMIT, 1);

	(void)arg;
	if (!composite)
		return 1;
	for (uint32_t i = 2; (uint64_t)i * i < LIMIT; i++)
		if (!composite[i])
			for (uint32_t j = i * i; j < LIMIT; j += i)
				composite[j] = 1;
	*state = composite;
	nicely_log(NICELY_LOG_INFO, "table loaded");
	return 0;
}

/* worker_exit: free the table. */
static void free_table(void *state, void *arg)
{
	(void)arg;
	free(state);
}

/* Count the primes in [lo, hi) from the worker's table. */
static int count_primes(const void *arg, size_t len, nicely_out *out,
			void *state)
{
	const unsigned char *composite = state;
	uint32_t r[2], n = 0;

	if (len != sizeof r)
		return 1;
	memcpy(r, arg, sizeof r);
	for (uint32_t i = r[0] < 2 ? 2 : r[0]; i < r[1] && i < LIMIT; i++)
		n += !composite[i];
	return nicely_out_write(out, &n, sizeof n);
}

/* Show which worker loaded a table. */
static void on_log(int level, int64_t id, pid_t pid, const char *msg,
		   void *user)
{
	(void)user;
	(void)level;
	(void)id;
	printf("worker %d: %s\n", (int)pid, msg);
}

int main(void)
{
	enum { NRANGES = 64 };
	uint32_t ranges[NRANGES][2];
	nicely_options o;
	nicely_pool *pool;
	uint64_t total = 0;
	int rc;

	for (int i = 0; i < NRANGES; i++) {
		ranges[i][0] = (uint32_t)i * (LIMIT / NRANGES);
		ranges[i][1] = (uint32_t)(i + 1) * (LIMIT / NRANGES);
	}
	nicely_options_init(&o);
	o.preset = "nuclear";
	o.worker_init = load_table;
	o.worker_exit = free_table;
	o.on_log = on_log;
	if ((rc = nicely_pool_new(&pool, &o)) < 0) {
		fprintf(stderr, "nicely_pool_new: %s\n", nicely_strerror(rc));
		return 1;
	}
	if ((rc = nicely_map(pool, count_primes, ranges, sizeof ranges[0],
			     NRANGES, 4, NULL)) < 0 ||
	    (rc = nicely_wait_all(pool)) < 0) {
		fprintf(stderr, "map: %s\n", nicely_strerror(rc));
		nicely_pool_free(pool);
		return 1;
	}
	for (int i = 0; i < NRANGES; i++) {
		const nicely_result *r = nicely_result_get(pool, i);
		uint32_t n;

		if (!r || r->status != NICELY_OK || r->len != sizeof n) {
			fprintf(stderr, "task %d: %s\n", i,
				r ? r->error : "missing");
			nicely_pool_free(pool);
			return 1;
		}
		memcpy(&n, r->data, sizeof n);
		total += n;
	}
	printf("%llu primes below %u (tables loaded once per worker, not per "
	       "task)\n",
	       (unsigned long long)total, LIMIT);
	nicely_pool_free(pool);
	return 0;
}
