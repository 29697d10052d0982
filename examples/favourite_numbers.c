/* The DummyMP "favourite numbers" example in C: three calls that sleep
 * 6, 4 and 2 tenths of a second finish in the order 2, 4, 6, but their
 * returns come back in call order: 6, 4, 2. Run: build/examples/favourite_numbers */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nicely.h"

/* Sleep n tenths of a second, then return n as the favourite number. */
static int favourite(const void *arg, size_t len, nicely_out *out, void *state)
{
	int n;
	struct timespec ts;

	(void)state;
	if (len != sizeof n)
		return 1;
	memcpy(&n, arg, sizeof n);
	ts.tv_sec = n / 10;
	ts.tv_nsec = (long)(n % 10) * 100000000L;
	nanosleep(&ts, NULL);
	nicely_log(NICELY_LOG_INFO, "my favourite number is %d", n);
	return nicely_out_write(out, &n, sizeof n);
}

/* Print what finishes, as it finishes. */
static void on_log(int level, int64_t id, pid_t pid, const char *msg,
		   void *user)
{
	(void)user;
	(void)level;
	printf("  task %lld (pid %d) says: %s\n", (long long)id, (int)pid, msg);
}

int main(void)
{
	nicely_options o;
	nicely_pool *pool;
	int numbers[] = { 6, 4, 2 };
	int rc;

	nicely_options_init(&o);
	o.preset = "nuclear";	/* run all three at once whatever the load */
	o.max_workers = 3;
	o.on_log = on_log;
	if ((rc = nicely_pool_new(&pool, &o)) < 0) {
		fprintf(stderr, "nicely_pool_new: %s\n", nicely_strerror(rc));
		return 1;
	}
	for (int i = 0; i < 3; i++)
		nicely_run(pool, favourite, &numbers[i], sizeof numbers[i]);
	if ((rc = nicely_wait_all(pool)) < 0)
		fprintf(stderr, "nicely_wait_all: %s\n", nicely_strerror(rc));
	printf("returns in call order:");
	for (int i = 0; i < 3; i++) {
		const nicely_result *r = nicely_result_get(pool, i);
		int v;

		if (!r || r->status != NICELY_OK || r->len != sizeof v) {
			printf(" (task %d: %s)", i,
			       r ? nicely_status_name(r->status) : "missing");
			continue;
		}
		memcpy(&v, r->data, sizeof v);
		printf(" %d", v);
	}
	printf("\n");
	nicely_pool_free(pool);
	return 0;
}
