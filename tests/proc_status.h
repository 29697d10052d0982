/* For tests that watch their own memory: a field of /proc/self/status. */
#ifndef TESTS_PROC_STATUS_H
#define TESTS_PROC_STATUS_H

#include <stdio.h>
#include <string.h>

/* The value in KiB of field ("VmRSS", "RssShmem", ...) of this process,
 * or -1 when /proc/self/status does not have it. */
__attribute__((unused)) static long proc_status_kb(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, field, n) && line[n] == ':' &&
		    sscanf(line + n + 1, "%ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

#endif
