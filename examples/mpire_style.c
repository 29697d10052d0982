/* MPIRE's "imap over a generator, with a progress bar and insights", in
 * C: count the primes below N by testing each number in a worker, the
 * numbers pulled from a generator as workers free up (never the whole
 * list in memory), results as they finish, a bar on stderr, each worker
 * handing back how many it tested (worker_exit results), then the
 * insights. Run: build/examples/mpire_style [N] (default 200000). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nicely.h"

/* The generator: the numbers 2 .. limit-1, one at a time. */
struct numbers {
	int64_t next, limit;
};

static int next_number(void *buf, size_t cap, size_t *len, void *user)
{
	struct numbers *g = user;

	if (g->next >= g->limit)
		return 0;	/* no more */
	if (cap < sizeof g->next)
		return -1;
	memcpy(buf, &g->next, sizeof g->next);
	*len = sizeof g->next;
	g->next++;
	return 1;
}

/* Per worker: how many numbers it tested (MPIRE's worker_state). */
static int count_init(void **state, void *arg)
{
	(void)arg;
	*state = calloc(1, sizeof(int64_t));
	return *state ? 0 : 1;
}

/* Hand the count back (MPIRE's worker_exit results). */
static void count_exit(void *state, void *arg)
{
	(void)arg;
	if (state)
		nicely_exit_write(state, sizeof(int64_t));
	free(state);
}

/* Is the number prime? Returns one byte, 1 or 0. */
static int is_prime(const void *arg, size_t len, nicely_out *out, void *state)
{
	int64_t n;
	unsigned char yes = 1;

	if (len != sizeof n)
		return 1;
	memcpy(&n, arg, sizeof n);
	for (int64_t d = 2; d * d <= n && yes; d++)
		yes = n % d != 0;
	if (state)
		++*(int64_t *)state;
	return nicely_out_write(out, &yes, 1);
}

int main(int argc, char **argv)
{
	struct numbers g = { 2, argc > 1 ? atoll(argv[1]) : 200000 };
	nicely_options o;
	nicely_pool *pool;
	nicely_imap *im;
	const nicely_result *r;
	const nicely_exit_result *ex;
	nicely_insights_t ins;
	int64_t primes = 0, tested = 0, n;
	char text[2048];
	int rc;

	nicely_options_init(&o);
	o.worker_init = count_init;
	o.worker_exit = count_exit;
	o.progress = NICELY_PROGRESS_TTY;	/* MPIRE's progress_bar=True */
	o.stop_on_failure = 1;			/* raise on the first error */
	if ((rc = nicely_pool_new(&pool, &o))) {
		fprintf(stderr, "pool: %s\n", nicely_strerror(rc));
		return 1;
	}
	/* unordered: results as they finish (MPIRE's imap_unordered) */
	if ((rc = nicely_imap_new(&im, pool, is_prime, next_number, &g,
				  sizeof(int64_t), 0, 0))) {
		fprintf(stderr, "imap: %s\n", nicely_strerror(rc));
		return 1;
	}
	while ((rc = nicely_imap_next(im, &r)) == 1) {
		if (r->status != NICELY_OK) {
			fprintf(stderr, "task %lld: %s\n", (long long)r->id,
				nicely_status_name(r->status));
			break;
		}
		primes += *(const unsigned char *)r->data;
	}
	nicely_imap_free(im);
	if (rc < 0)
		fprintf(stderr, "imap: %s\n", nicely_strerror(rc));
	printf("%lld primes below %lld\n", (long long)primes,
	       (long long)g.limit);
	n = nicely_exit_results(pool, &ex);
	for (int64_t i = 0; i < n; i++)
		if (ex[i].len == sizeof(int64_t)) {
			int64_t c;

			memcpy(&c, ex[i].data, sizeof c);
			tested += c;
		}
	printf("%lld workers tested %lld numbers\n", (long long)n,
	       (long long)tested);
	if (nicely_insights(pool, &ins) == 0) {
		nicely_insights_format(&ins, text, sizeof text);
		fputs(text, stdout);
	}
	nicely_pool_free(pool);
	return rc < 0;
}
