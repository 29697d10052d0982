/* Tests for sched/template: every replacement string and modifier, values
 * appended when there is none, whole-line commands, errors naming the bad
 * string, and quoting proved by running /bin/sh -c on the expansion with
 * nasty values and reading back the words the shell passed to printf. The
 * argv form is checked against the words the shell makes of the same task. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/cli/template.h"
#include "tests/tap.h"

#define MAXW 16

/* Compile argv words; bail out on failure (the fixture is wrong). */
static struct template *compile(char *const *argv, int argc, size_t ninputs)
{
	struct template *t;
	char err[256];

	if (template_compile(&t, argv, argc, ninputs, err, sizeof err) != 0) {
		tap_diag("compile failed: %s", err);
		tap_bail("template fixture did not compile");
	}
	return t;
}

/* Expand one task and compare with the wanted text. */
static void check_expand(const char *tmpl, const char *const *values,
			 size_t n, const char *want, const char *name)
{
	char *argv[] = { (char *)tmpl };
	struct template *t = compile(argv, 1, n);
	char *got = template_expand(t, values, n, 7, 3);

	is_str(got, want, "%s: '%s'", name, tmpl);
	free(got);
	template_free(t);
}

/* Run cmd through /bin/sh -c (popen does exactly that) and split what it
 * prints on NUL bytes into words; returns how many, -1 on failure. */
static int shell_words(const char *cmd, char words[MAXW][256])
{
	char buf[8192];
	size_t len = 0, r;
	int n = 0, st;
	FILE *f = popen(cmd, "r");

	if (!f)
		return -1;
	while ((r = fread(buf + len, 1, sizeof buf - 1 - len, f)) > 0)
		len += r;
	st = pclose(f);
	if (st != 0)
		tap_diag("shell exit status %d for: %s", st, cmd);
	for (size_t i = 0; i < len && n < MAXW;) {
		size_t l = strnlen(buf + i, len - i);

		snprintf(words[n++], 256, "%.*s", (int)l, buf + i);
		i += l + 1;
	}
	return n;
}

/* The words /bin/sh makes of an expanded command line. */
static int words_of(const char *expanded, char words[MAXW][256])
{
	char cmd[8192];

	snprintf(cmd, sizeof cmd, "set -- %s\nprintf '%%s\\0' \"$@\"",
		 expanded);
	return shell_words(cmd, words);
}

/* The shell form of a value made of safe characters. */
static const char *q(const char *s)
{
	return *s ? s : "''";
}

/* Every modifier on paths with and without dirs and dots. */
static void test_modifiers(void)
{
	static const struct {
		const char *v, *noext, *base, *dir, *basenoext;
	} cases[] = {
		{ "dir/sub/file.tar.gz", "dir/sub/file.tar", "file.tar.gz",
		  "dir/sub", "file.tar" },
		{ "/abs/x", "/abs/x", "x", "/abs", "x" },
		{ "plain", "plain", "plain", ".", "plain" },
		{ "a.b/c", "a.b/c", "c", "a.b", "c" },
		{ "d/.bashrc", "d/", ".bashrc", "d", "" },
		{ "a/b/", "a/b/", "", "a", "" },
		{ "/", "/", "", "/", "" },
		{ "b//c", "b//c", "c", "b", "c" },
		{ "//a", "//a", "a", "/", "a" },
		{ "x.", "x", "x.", ".", "x" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *v[] = { cases[i].v };
		/* (after a word: in the command word no value is quoted) */
		char *argv[] = { "x {}|{.}|{/}|{//}|{/.}" };
		char *argv1[] = { "x {1}|{1.}|{1/}|{1//}|{1/.}" };
		struct template *t = compile(argv, 1, 1);
		struct template *t1 = compile(argv1, 1, 1);
		char want[1024];
		char *got, *got1;

		/* every piece is made of safe characters: bare, or '' */
		snprintf(want, sizeof want, "x %s|%s|%s|%s|%s", q(cases[i].v),
			 q(cases[i].noext), q(cases[i].base), q(cases[i].dir),
			 q(cases[i].basenoext));
		got = template_expand(t, v, 1, 1, 1);
		got1 = template_expand(t1, v, 1, 1, 1);
		is_str(got, want, "modifiers of '%s'", cases[i].v);
		is_str(got1, want, "positional modifiers of '%s'", cases[i].v);
		free(got);
		free(got1);
		template_free(t);
		template_free(t1);
	}
}

/* Every replacement string, positionals, appending, literal braces. */
static void test_strings(void)
{
	const char *one[] = { "a/b.c" };
	const char *two[] = { "x y", "z" };
	const char *three[] = { "p", "q", "r" };

	check_expand("run {} end", one, 1, "run a/b.c end", "{}");
	check_expand("{#}-{%}", one, 1, "7-3", "{#} and {%}");
	check_expand("n{#}.out", one, 1, "n7.out", "{#} inside a word");
	check_expand("e {2} {1}", two, 2, "e z 'x y'", "positional order");
	check_expand("e {}", two, 2, "e 'x y' z",
		     "{} with two sources is all values");
	check_expand("{/}", three, 3, "p q r", "{/} with three sources");
	check_expand("{3}{2}{1}", three, 3, "rqp", "glued positionals");
	check_expand("{10}x", (const char *const[]){ "a", "b", "c", "d", "e",
			"f", "g", "h", "i", "j" }, 10, "jx", "two-digit {10}");
	check_expand("echo", two, 2, "echo 'x y' z", "no replacement: appended");
	check_expand("awk '{print}' {a,b} {", one, 1,
		     "awk '{print}' {a,b} { a/b.c",
		     "braces that are no replacement string stay literal");
	check_expand("e {.}{/.}", (const char *const[]){ "" }, 1, "e ''''",
		     "empty value quoted as ''");
	/* GNU parallel's rule: a replacement string in the first word
	 * (before a blank, newline or '=') leaves every value unquoted, so
	 * the value runs as (part of) the command */
	check_expand("{}", two, 2, "x y z", "{} as the command: unquoted");
	check_expand("{2} {1}", two, 2, "z x y", "{2} first: none quoted");
	check_expand("l{} -x {2}", two, 2, "lx y z -x z",
		     "l{}: a value inside the command word");
	check_expand("V={} cmd {}", two, 2, "V='x y' z cmd 'x y' z",
		     "V={}: an assignment is no command word");
	check_expand(" {}", two, 2, " 'x y' z", "after a blank: quoted");
	check_expand("echo {}; {}", two, 2, "echo 'x y' z; 'x y' z",
		     "{} later in a line: quoted");
}

/* No command words: each value is the whole command. */
static void test_whole(void)
{
	char words[MAXW][256];
	struct template *t;
	const char *v[] = { "printf '%s\\0' a 'b c'" };
	const char *v2[] = { "printf '%s\\0' a", "z" };
	char *got;
	int n;

	if (template_compile(&t, NULL, 0, 1, NULL, 0) != 0)
		tap_bail("argc 0 did not compile");
	ok(template_needs_shell(t), "a whole-line command needs the shell");
	got = template_expand(t, v, 1, 1, 1);
	is_str(got, v[0], "argc 0: the value is the command, unquoted");
	n = shell_words(got, words);
	is_int(n, 2, "whole-line command runs as shell code");
	if (n == 2)
		is_str(words[1], "b c", "its own quoting applies");
	free(got);
	got = template_expand(t, v2, 2, 1, 1);
	is_str(got, "printf '%s\\0' a z", "argc 0, two sources: joined by a space");
	free(got);
	template_free(t);
}

/* Bad replacement strings are errors that name them. */
static void test_errors(void)
{
	struct template *t = (struct template *)1;
	char err[256] = "";
	char *a1[] = { "echo", "{1}", "{3}" };
	char *a2[] = { "echo {0}" };
	char *a3[] = { "echo {=s/a/b/=} x" };
	char *a4[] = { "echo {2/.}" };

	is_int(template_compile(&t, a1, 3, 2, err, sizeof err), -EINVAL,
	       "{3} with 2 sources is an error");
	ok(t == NULL, "no template on error");
	ok(strstr(err, "{3}") != NULL, "error names {3}: %s", err);
	is_int(template_compile(&t, a2, 1, 2, err, sizeof err), -EINVAL,
	       "{0} is an error");
	ok(strstr(err, "{0}") != NULL, "error names {0}: %s", err);
	is_int(template_compile(&t, a3, 1, 1, err, sizeof err), -EINVAL,
	       "{= =} is an error");
	ok(strstr(err, "{=s/a/b/=}") != NULL, "error names the expression: %s",
	   err);
	is_int(template_compile(&t, a4, 1, 1, err, sizeof err), -EINVAL,
	       "{2/.} with 1 source is an error");
	ok(strstr(err, "{2/.}") != NULL, "error names {2/.}: %s", err);
}

/* The nasty values: each must reach printf as exactly one literal word. */
static const char *const nasty[] = {
	"two words", "", "it's", "\"dq\"", "$HOME", "$(id)", "`id`", "a;b",
	"back\\slash", "line\nbreak", "-n", "--", "-e", "h\xc3\xa9llo \xe2\x98\x83",
	"*", "~", "{}", "a  b\tc", "'", "''", "\\", "!x", "#c", "x=1", " ",
	"&&", "|", "<in", ">out", "%s", "\r",
};

/* Nasty values reach printf through /bin/sh as one literal word each. */
static void test_quoting(void)
{
	char words[MAXW][256];
	size_t nn = sizeof nasty / sizeof nasty[0];
	char *argv[] = { "printf", "'%s\\0'", "{}", "X{1}Y", "{/}" };
	char *argv_app[] = { "printf", "'%s\\0'" };
	struct template *t = compile(argv, 5, 1);
	struct template *ta = compile(argv_app, 2, 2);
	int bad = 0;

	for (size_t i = 0; i < nn; i++) {
		const char *v[] = { nasty[i] };
		char *cmd = template_expand(t, v, 1, 1, 1);
		char want[300];
		int n = shell_words(cmd, words);

		snprintf(want, sizeof want, "X%sY", nasty[i]);
		if (!strchr(nasty[i], '/')) {
			is_int(n, 3, "value #%zu gives 3 words", i);
			if (n == 3) {
				is_str(words[0], nasty[i], "value #%zu literal", i);
				is_str(words[1], want, "value #%zu inside a word", i);
				is_str(words[2], nasty[i], "value #%zu via {/}", i);
			}
		}
		free(cmd);
	}
	/* appended, two sources, each pair of nasty values */
	for (size_t i = 0; i < nn; i++) {
		const char *v[] = { nasty[i], nasty[nn - 1 - i] };
		char *cmd = template_expand(ta, v, 2, 1, 1);
		int n = shell_words(cmd, words);

		if (n != 2 || strcmp(words[0], v[0]) || strcmp(words[1], v[1])) {
			bad++;
			tap_diag("appended pair #%zu: %s", i, cmd);
		}
		free(cmd);
	}
	is_int(bad, 0, "appended values: every pair arrives as two words");
	template_free(t);
	template_free(ta);
}

/* template_quote appends to a growing buffer. */
static void test_quote_helper(void)
{
	char *b = NULL;
	size_t l = 0, c = 0;

	is_int(template_quote(&b, &l, &c, "safe/path-1.txt"), 0, "quote ok");
	is_str(b, "safe/path-1.txt", "safe text stays bare");
	is_int(template_quote(&b, &l, &c, "it's"), 0, "quote ok");
	is_str(b, "safe/path-1.txt'it'\\''s'", "appends, quote escaped");
	is_int((long long)l, (long long)strlen(b), "length kept");
	free(b);
}

/* Compare the argv form with the words the shell makes of the same task. */
static void check_argv(char *const *argv, int argc, size_t ninputs,
		       const char *const *values, int want_shell,
		       const char *name)
{
	char words[MAXW][256];
	struct template *t = compile(argv, argc, ninputs);
	char *cmd;
	char **av;
	int n, i, same;

	is_int(template_needs_shell(t), want_shell, "needs_shell: %s", name);
	if (want_shell) {
		errno = 0;
		ok(template_expand_argv(t, values, ninputs, 5, 2) == NULL &&
			   errno == EINVAL,
		   "argv form refused when a shell is needed: %s", name);
		template_free(t);
		return;
	}
	cmd = template_expand(t, values, ninputs, 5, 2);
	av = template_expand_argv(t, values, ninputs, 5, 2);
	n = words_of(cmd, words);
	same = av != NULL;
	for (i = 0; same && i < n; i++)
		same = av[i] && !strcmp(av[i], words[i]);
	same = same && av[n] == NULL;
	ok(same, "argv form equals the shell's words: %s", name);
	if (!same)
		for (i = 0; av && av[i]; i++)
			tap_diag("argv[%d] = '%s'", i, av[i]);
	free(av);
	free(cmd);
	template_free(t);
}

/* needs_shell verdicts, and argv form equal to the shell's words. */
static void test_argv(void)
{
	const char *v1[] = { "a b'c" };
	const char *v2[] = { "", "x;y" };
	const char *v3[] = { "dir/f.txt", "$z" };

	check_argv((char *[]){ "true" }, 1, 1, v1, 0, "true + appended");
	check_argv((char *[]){ "printf", "%s.", "x{}y", "{#}", "{%}" }, 5, 1,
		   v1, 0, "value inside a word, {#}, {%}");
	check_argv((char *[]){ "/usr/bin/printf  %s", "{1}" }, 2, 2, v2, 0,
		   "empty value is one empty word; double blank");
	check_argv((char *[]){ "cat", "pre{}post" }, 2, 2, v2, 0,
		   "{} with two sources splits into two words");
	check_argv((char *[]){ "ls", "{//}", "--x={/.}" }, 3, 2, v3, 0,
		   "modifiers and --opt=value");
	check_argv((char *[]){ "printf" }, 1, 2, v2, 0, "appended two values");
	check_argv((char *[]){ "echo", "{}" }, 2, 1, v1, 1, "echo is a builtin");
	check_argv((char *[]){ "cd", "{}" }, 2, 1, v1, 1, "cd is a builtin");
	check_argv((char *[]){ "a|b" }, 1, 1, v1, 1, "pipe");
	check_argv((char *[]){ "X=1", "cmd" }, 2, 1, v1, 1, "assignment");
	check_argv((char *[]){ "{}", "x" }, 2, 1, v1, 1, "value as command");
	check_argv((char *[]){ "cmd{}" }, 1, 1, v1, 1, "value glued to command");
	check_argv((char *[]){ "cmd", "'q'" }, 2, 1, v1, 1, "quotes");
	check_argv((char *[]){ "cmd", "*.c" }, 2, 1, v1, 1, "glob");
	check_argv((char *[]){ "cmd", "$HOME" }, 2, 1, v1, 1, "variable");
	check_argv((char *[]){ "cmd;", "x" }, 2, 1, v1, 1, "semicolon");
	check_argv((char *[]){ "cmd", "#x" }, 2, 1, v1, 1, "comment");
	check_argv((char *[]){ "" }, 1, 1, v1, 1, "no command word");
}

/* Run every group of tests. */
int main(void)
{
	test_modifiers();
	test_strings();
	test_whole();
	test_errors();
	test_quoting();
	test_quote_helper();
	test_argv();
	return tap_done();
}
