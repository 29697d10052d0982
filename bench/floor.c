/* The floor of dispatch: N runs of a program (default /bin/true, one value
 * each as its argument, like `xargs -n1`) with J at a time, each started
 * with posix_spawn and reaped with waitpid, nothing else: no pipes, no
 * cgroups, no pinning, no output kept. What any batch tool pays at least;
 * bench/floor.sh times nicely against it.
 * Usage: floor [N [J [PROGRAM]]]; exits 1 when a spawn or a run failed. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000;
	long j = argc > 2 ? atol(argv[2]) : 2;
	const char *prog = argc > 3 ? argv[3] : "/bin/true";
	long started = 0, running = 0, bad = 0;
	char val[24];

	if (n < 0 || j < 1) {
		fprintf(stderr, "usage: floor [N [J [PROGRAM]]]\n");
		return 2;
	}
	while (started < n || running > 0) {
		while (started < n && running < j) {
			char *av[] = { (char *)prog, val, NULL };
			pid_t pid;
			int e;

			snprintf(val, sizeof val, "%ld", started + 1);
			e = posix_spawn(&pid, prog, NULL, NULL, av, environ);
			if (e) {
				fprintf(stderr, "floor: %s: %s\n", prog, strerror(e));
				return 1;
			}
			started++;
			running++;
		}
		int st;
		pid_t p = waitpid(-1, &st, 0);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			perror("floor: waitpid");
			return 1;
		}
		running--;
		bad += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	}
	return bad != 0;
}
