/* Test helper: allocate and touch N MiB (argv[1]), then exit 0. Under a
 * smaller memory limit the kernel kills it; tests check that result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Touch every page of N MiB, one MiB at a time, and keep it all. */
int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0;
	long i;

	if (argc != 2 || n <= 0) {
		fprintf(stderr, "usage: memhog MIB\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		/* mmap, not malloc: kept on purpose, not a leak to report */
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			fprintf(stderr, "memhog: out of memory after %ld MiB\n", i);
			return 1;
		}
		memset(p, 0x5a, 1 << 20);
	}
	return 0;
}
