/* Minimal TAP producer for nicely's C tests. One test program per file;
 * include this header once, call the macros, end main with
 * `return tap_done();`. Output goes to stdout, diagnostics to stderr. */
#ifndef NICELY_TAP_H
#define NICELY_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed, tap_planned = -1;

/* Print "ok N - name" or "not ok N - name"; returns the condition. */
__attribute__((format(printf, 4, 5), unused)) static int
tap_ok_at(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   Failed at %s line %d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

/* A diagnostic line, "# ..." on stdout so prove -v shows it in order. */
__attribute__((format(printf, 1, 2), unused)) static void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

__attribute__((unused)) static void tap_plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

/* Skip the whole file: prints a plan of 0 with the reason and exits 0. */
__attribute__((unused, noreturn)) static void tap_skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	fflush(stdout);
	exit(0);
}

/* Stop now: a fixture or precondition broke and nothing after can be valid. */
__attribute__((unused, noreturn)) static void tap_bail(const char *why)
{
	printf("Bail out! %s\n", why);
	fflush(stdout);
	exit(255);
}

/* Print the plan if none was given; the exit status counts the failures. */
__attribute__((unused)) static int tap_done(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_n);
	fflush(stdout);
	return tap_failed > 254 ? 254 : tap_failed;
}

#define ok(cond, ...) tap_ok_at(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                                 \
	do {                                                                   \
		long long g_ = (long long)(got), w_ = (long long)(want);       \
		if (!tap_ok_at(g_ == w_, __FILE__, __LINE__, __VA_ARGS__))     \
			printf("#   got %lld, want %lld\n", g_, w_);           \
	} while (0)

#define is_str(got, want, ...)                                                 \
	do {                                                                   \
		const char *g_ = (got), *w_ = (want);                          \
		int c_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;          \
		if (!tap_ok_at(c_, __FILE__, __LINE__, __VA_ARGS__))           \
			printf("#   got \"%s\", want \"%s\"\n",                    \
			       g_ ? g_ : "(null)", w_ ? w_ : "(null)");        \
	} while (0)

#define is_near(got, want, eps, ...)                                           \
	do {                                                                   \
		double g_ = (got), w_ = (want);                                \
		double d_ = g_ > w_ ? g_ - w_ : w_ - g_;                       \
		if (!tap_ok_at(d_ <= (eps), __FILE__, __LINE__, __VA_ARGS__))  \
			printf("#   got %g, want %g (+-%g)\n", g_, w_,         \
			       (double)(eps));                                 \
	} while (0)

#endif
