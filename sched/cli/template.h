/* sched/template: GNU parallel's replacement strings ({} {.} {/} {//} {/.}
 * {#} {%} {n} and {n.} etc.) turned into one /bin/sh -c command line per
 * task, with every value shell-quoted so it reaches the task as one literal
 * word. Compiled once per batch by the CLI; expanded in the loop per task. */
#ifndef SCHED_TEMPLATE_H
#define SCHED_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

struct template;

/* Compile the command words argv[0..argc-1] (joined by spaces, as GNU
 * parallel does, so shell syntax in them works). With argc == 0 each input
 * value is a whole command, used as it is. With no replacement string in
 * the words, the values are appended, quoted, separated by spaces (unless
 * ninputs is 0: --pipe's tasks take their input on stdin). Returns
 * 0 or -EINVAL with err naming the bad string (e.g. "{7}" with 2 inputs). */
int template_compile(struct template **out, char *const *argv, int argc,
		     size_t ninputs, char *err, size_t errlen);
void template_free(struct template *t);

/* The command line for one task: values[0..n-1] are the task's values (one
 * per input source), seq the task number from 1, slot the worker slot from
 * 1. Returns a malloc'd string the caller frees, NULL on ENOMEM. */
char *template_expand(const struct template *t, const char *const *values,
		      size_t n, uint64_t seq, int slot);

/* 0 when the command needs no shell: the literal words hold no shell
 * syntax (no quotes, $, `, backslash, ;, &, |, <, >, (, ), globs,
 * newlines, assignments, or a shell builtin or keyword such as cd, exit
 * or echo as the command; the first word holds no replacement string),
 * so template_expand_argv gives the exact words /bin/sh -c would and the
 * engine may exec them directly.
 * 1 when the command must go through /bin/sh -c (always when argc == 0). */
int template_needs_shell(const struct template *t);

/* The argv form of one task's command, for a template with
 * template_needs_shell() == 0: a NULL-terminated array whose strings live
 * in the same allocation; the caller frees the array pointer alone. NULL
 * on ENOMEM, or (errno EINVAL) when the template needs a shell. */
char **template_expand_argv(const struct template *t,
			    const char *const *values, size_t n, uint64_t seq,
			    int slot);

/* Context replacement (GNU parallel's -X, and -N): when a task has more
 * than width values, each word of the command holding {} (or {.} etc.) is
 * repeated once per record of width values, as `pre{}post` becomes
 * `preapost prebpost`. Call once after template_compile. 0 or -ENOMEM. */
int template_set_context(struct template *t, size_t width);
/* The length of one task's shell command for these values (-X / -m fill
 * a command line up to a limit). */
size_t template_length(const struct template *t, const char *const *values,
		       size_t n);

/* Append the shell-quoted form of s to a malloc'd buffer (helper shared with
 * --dry-run and the joblog). Returns 0 or -ENOMEM. */
int template_quote(char **buf, size_t *len, size_t *cap, const char *s);

#endif
