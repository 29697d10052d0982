/* A map with chunking: one call per element of an array, sent to the
 * workers chunk at a time. chunk 0 lets nicely size chunks from the
 * measured task time; a fixed chunk is also shown. Results come back in
 * element order. Run: build/examples/map_chunks [N] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nicely.h"

/* Collatz steps of one number: a small, uneven amount of work. */
static int collatz(const void *arg, size_t len, nicely_out *out, void *state)
{
	uint64_t x, steps = 0;

	(void)len;
	(void)state;
	memcpy(&x, arg, sizeof x);
	while (x > 1) {
		x = x & 1 ? 3 * x + 1 : x / 2;
		steps++;
	}
	return nicely_out_write(out, &steps, sizeof steps);
}

/* Map collatz over 1..n with the given chunk; print the longest. */
static int run(nicely_pool *pool, const uint64_t *xs, size_t n, size_t chunk)
{
	uint64_t best = 0, arg = 0;
	int64_t first;
	int rc;

	if ((rc = nicely_map(pool, collatz, xs, sizeof xs[0], n, chunk,
			     &first)) < 0 ||
	    (rc = nicely_wait_all(pool)) < 0) {
		fprintf(stderr, "map: %s\n", nicely_strerror(rc));
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		const nicely_result *r = nicely_result_get(pool, first + (int64_t)i);
		uint64_t s;

		if (!r || r->status != NICELY_OK || r->len != sizeof s)
			return 1;
		memcpy(&s, r->data, sizeof s);
		if (s > best) {
			best = s;
			arg = xs[i];
		}
	}
	printf("chunk %-5zu: %zu numbers, the longest chain starts at %llu "
	       "(%llu steps)\n",
	       chunk, n, (unsigned long long)arg, (unsigned long long)best);
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	nicely_options o;
	nicely_pool *pool;
	uint64_t *xs = malloc(n * sizeof *xs);
	int rc, bad = 0;

	if (!xs || !n)
		return 1;
	for (size_t i = 0; i < n; i++)
		xs[i] = i + 1;
	nicely_options_init(&o);
	o.preset = argc > 2 ? argv[2] : "nuclear";
	if ((rc = nicely_pool_new(&pool, &o)) < 0) {
		fprintf(stderr, "nicely_pool_new: %s\n", nicely_strerror(rc));
		return 1;
	}
	bad |= run(pool, xs, n, 0);	/* automatic */
	bad |= run(pool, xs, n, 1000);	/* fixed */
	nicely_pool_free(pool);
	free(xs);
	return bad;
}
