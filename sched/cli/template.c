/* sched/template: GNU parallel's replacement strings. template_compile
 * parses the command words once per batch into literal and replacement
 * segments; template_expand (shell form) and template_expand_argv (direct
 * exec form) build one task's command with one allocation each, sizing it
 * in a first pass over the same walk that writes it. Called by the CLI's
 * `run` loop in the parent, never in a child. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/errmsg.h"
#include "sched/cli/template.h"
#include "sched/spawn.h"

enum template_kind {
	TEMPLATE_LIT,	/* text[off .. off+len) as it is */
	TEMPLATE_VAL,	/* an input value, input 0 = all of them */
	TEMPLATE_SEQ,	/* {#} */
	TEMPLATE_SLOT,	/* {%} */
	TEMPLATE_WHOLE,	/* argc == 0: the values are the command, unquoted */
};

enum template_mod {
	TEMPLATE_MOD_NONE,	/* {}   */
	TEMPLATE_MOD_NOEXT,	/* {.}  */
	TEMPLATE_MOD_BASE,	/* {/}  */
	TEMPLATE_MOD_DIR,	/* {//} */
	TEMPLATE_MOD_BASENOEXT,	/* {/.} */
};

struct template_seg {
	enum template_kind kind;
	enum template_mod mod;
	size_t input;		/* TEMPLATE_VAL: 1-based source, 0 = all */
	size_t off, len;	/* TEMPLATE_LIT: span of text */
	size_t word;		/* context replacement: the word it is in */
	int ctx;		/* ... a word holding {}: repeated per record */
};

struct template {
	char *text;		/* the command words joined by spaces */
	struct template_seg *segs;
	size_t nsegs;
	size_t ninputs;
	int needs_shell;
	int noquote;		/* a replacement string in the command word:
				   no value is quoted (GNU's rule) */
	int nsegs_lit_blank;	/* while compiling: the text so far holds a
				   blank, newline or '=' */
	size_t ctx_width;	/* values per record for context replacement */
};

/* Where one expansion goes: counting only (buf NULL) or writing. */
struct template_sink {
	char *buf;		/* NULL in the sizing pass */
	size_t len;
	int argv;		/* split into words instead of quoting */
	char **words;		/* argv form: word starts (NULL when sizing) */
	size_t nwords;
	int inword;
	int raw;		/* shell form, values as they are (noquote) */
};

/* Shell words that make /bin/sh do something an exec would not. */
static const char *const template_shell_words[] = {
	".", ":", "[[", "]]", "!", "{", "}", "alias", "bg", "break", "case",
	"cd", "command", "continue", "do", "done", "echo", "elif", "else",
	"esac", "eval", "exec", "exit", "export", "fc", "fg", "fi", "for",
	"function", "getopts", "hash", "if", "in", "jobs", "local", "read",
	"readonly", "return", "select", "set", "shift", "then", "times", "trap",
	"type", "ulimit", "umask", "unalias", "unset", "until", "wait", "while",
	/* bash's own (tasks run under the user's shell, often bash) */
	"builtin", "caller", "coproc", "declare", "dirs", "disown", "enable",
	"let", "logout", "mapfile", "popd", "pushd", "readarray", "shopt",
	"source", "suspend", "time", "typeset",
};

/* 1 when c can stand unquoted in a shell word anywhere. */
static int template_safe_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("_./,:+@%^-", c) != NULL;
}

/* 1 when s[0..n) needs no quotes at all (and is not empty). */
static int template_safe_span(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!template_safe_char((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Append raw bytes to the sink (or only count them). */
static void template_put(struct template_sink *k, const char *s, size_t n)
{
	if (k->buf && n)
		memcpy(k->buf + k->len, s, n);
	k->len += n;
}

/* Append the single-quoted shell form of s[0..n). */
static void template_put_quoted(struct template_sink *k, const char *s,
				size_t n)
{
	size_t i, start;

	if (template_safe_span(s, n)) {
		template_put(k, s, n);
		return;
	}
	template_put(k, "'", 1);
	for (i = start = 0; i < n; i++) {
		if (s[i] != '\'')
			continue;
		template_put(k, s + start, i - start);
		template_put(k, "'\\''", 4);
		start = i + 1;
	}
	template_put(k, s + start, n - start);
	template_put(k, "'", 1);
}

/* Argv form: begin a word here if none is open. */
static void template_word_open(struct template_sink *k)
{
	if (k->inword)
		return;
	if (k->words)
		k->words[k->nwords] = k->buf + k->len;
	k->inword = 1;
}

/* Argv form: close the open word with its NUL. */
static void template_word_close(struct template_sink *k)
{
	if (!k->inword)
		return;
	template_put(k, "", 1);
	k->nwords++;
	k->inword = 0;
}

/* Literal command text: raw in shell form, split at blanks in argv form. */
static void template_put_lit(struct template_sink *k, const char *s, size_t n)
{
	if (!k->argv) {
		template_put(k, s, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ' || s[i] == '\t') {
			template_word_close(k);
			continue;
		}
		template_word_open(k);
		template_put(k, s + i, 1);
	}
}

/* A replacement's text: quoted in shell form, raw inside a word in argv. */
static void template_put_value(struct template_sink *k, const char *s,
			       size_t n)
{
	if (k->argv) {
		template_word_open(k);
		template_put(k, s, n);
	} else if (k->raw) {
		template_put(k, s, n);
	} else {
		template_put_quoted(k, s, n);
	}
}

/* The span of s that {.} keeps: up to the last '.' with no '/' after it. */
static void template_noext(const char **s, size_t *n)
{
	for (size_t i = *n; i-- > 0;) {
		if ((*s)[i] == '/')
			return;
		if ((*s)[i] == '.') {
			*n = i;
			return;
		}
	}
}

/* The span of s after its last '/' ({/}, as s:.*\/:: in GNU parallel). */
static void template_base(const char **s, size_t *n)
{
	for (size_t i = *n; i-- > 0;) {
		if ((*s)[i] == '/') {
			*s += i + 1;
			*n -= i + 1;
			return;
		}
	}
}

/* Perl's File::Basename fileparse on a span: the directory part with its
 * trailing slashes cut (keeping one character); 1 when the base is empty. */
static int template_dirpart(const char **s, size_t *n)
{
	size_t i, dn;
	int base_empty = 1;

	for (i = *n; i-- > 0;)
		if ((*s)[i] == '/')
			break;
	if (i == (size_t)-1) {		/* no slash: "./" */
		base_empty = *n == 0;
		*s = "./";
		dn = 2;
	} else {
		base_empty = i + 1 == *n;
		dn = i + 1;
	}
	while (dn > 1 && (*s)[dn - 1] == '/')
		dn--;
	*n = dn;
	return base_empty;
}

/* The span {//} gives: Perl's dirname, as GNU parallel uses it. */
static void template_dir(const char **s, size_t *n)
{
	if (template_dirpart(s, n))
		template_dirpart(s, n);
}

/* Apply a modifier to s, giving a span of s (or of a constant). */
static void template_modify(enum template_mod mod, const char **s, size_t *n)
{
	switch (mod) {
	case TEMPLATE_MOD_NONE:
		break;
	case TEMPLATE_MOD_NOEXT:
		template_noext(s, n);
		break;
	case TEMPLATE_MOD_BASE:
		template_base(s, n);
		break;
	case TEMPLATE_MOD_DIR:
		template_dir(s, n);
		break;
	case TEMPLATE_MOD_BASENOEXT:
		template_base(s, n);
		template_noext(s, n);
		break;
	}
}

/* Walk segments [from, to), writing (or sizing) that part of a command. */
static void template_walk_segs(const struct template *t,
			       struct template_sink *k,
			       const char *const *values, size_t n,
			       uint64_t seq, int slot, size_t from, size_t to)
{
	char num[32];
	int nl;

	for (size_t i = from; i < to; i++) {
		const struct template_seg *g = &t->segs[i];

		switch (g->kind) {
		case TEMPLATE_LIT:
			template_put_lit(k, t->text + g->off, g->len);
			break;
		case TEMPLATE_SEQ:
		case TEMPLATE_SLOT:
			nl = g->kind == TEMPLATE_SEQ ?
				snprintf(num, sizeof num, "%llu",
					 (unsigned long long)seq) :
				snprintf(num, sizeof num, "%d", slot);
			template_put_value(k, num, (size_t)nl);
			break;
		case TEMPLATE_WHOLE:
			for (size_t v = 0; v < n; v++) {
				if (v)
					template_put(k, " ", 1);
				template_put(k, values[v], strlen(values[v]));
			}
			break;
		case TEMPLATE_VAL: {
			size_t lo = g->input ? g->input - 1 : 0;
			size_t hi = g->input ? g->input : n;

			if (g->input && g->input > n) {
				/* missing (past -N's or --colsep's values):
				 * nothing, as GNU parallel */
				break;
			}
			for (size_t v = lo; v < hi; v++) {
				const char *s = values[v];
				size_t sl = strlen(s);

				if (v > lo) {
					if (k->argv) {
						template_word_close(k);
					} else {
						template_put(k, " ", 1);
					}
				}
				template_modify(g->mod, &s, &sl);
				template_put_value(k, s, sl);
			}
			break;
		}
		}
	}
}

/* Walk the segments once, writing (or sizing) one task's command. With
 * context replacement (-X, -N) a word holding {} is repeated once per
 * record of ctx_width values, the copies separated by a space. */
static void template_walk(const struct template *t, struct template_sink *k,
			  const char *const *values, size_t n, uint64_t seq,
			  int slot)
{
	size_t i = 0, w = t->ctx_width;

	while (w && n > w && i < t->nsegs) {
		size_t j = i + 1;

		if (!t->segs[i].ctx) {
			template_walk_segs(t, k, values, n, seq, slot, i, j);
			i = j;
			continue;
		}
		while (j < t->nsegs && t->segs[j].word == t->segs[i].word)
			j++;
		for (size_t r = 0; r * w < n; r++) {
			if (r && k->argv)
				template_word_close(k);
			else if (r)
				template_put(k, " ", 1);
			template_walk_segs(t, k, values + r * w,
					   n - r * w < w ? n - r * w : w, seq,
					   slot, i, j);
		}
		i = j;
	}
	template_walk_segs(t, k, values, n, seq, slot, i, t->nsegs);
	if (k->argv)
		template_word_close(k);
}

/* Add a segment to t (the array was sized for the worst case). */
static void template_add(struct template *t, enum template_kind kind,
			 enum template_mod mod, size_t input, size_t off,
			 size_t len)
{
	struct template_seg *g;

	if (kind == TEMPLATE_LIT && len == 0)
		return;
	/* GNU parallel: when "@command" =~ /^[^ \t\n=]*\257</ (a
	 * replacement string in the first word: {}, l{}, {2}, but not
	 * V={}) it quotes no value at all, so the value runs as a command */
	if (kind != TEMPLATE_LIT && kind != TEMPLATE_WHOLE && !t->nsegs_lit_blank)
		t->noquote = 1;
	g = &t->segs[t->nsegs++];
	g->kind = kind;
	g->mod = mod;
	g->input = input;
	g->off = off;
	g->len = len;
}

/* Parse the modifier after "{" or "{N": returns its length up to and with
 * the "}", or 0 when what follows is not a replacement string. */
static size_t template_parse_mod(const char *p, enum template_mod *mod)
{
	static const struct {
		const char *s;
		enum template_mod mod;
	} mods[] = {
		{ "}", TEMPLATE_MOD_NONE },	{ ".}", TEMPLATE_MOD_NOEXT },
		{ "/}", TEMPLATE_MOD_BASE },	{ "//}", TEMPLATE_MOD_DIR },
		{ "/.}", TEMPLATE_MOD_BASENOEXT },
	};

	for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
		size_t l = strlen(mods[i].s);

		if (!strncmp(p, mods[i].s, l)) {
			*mod = mods[i].mod;
			return l;
		}
	}
	return 0;
}

/* 1 when c makes the shell do more than split words at blanks. */
static int template_shell_char(unsigned char c)
{
	return c == '\n' || c == '\r' || strchr("|&;<>()$`\\\"'*?[]~!{}#", c);
}

/* Decide whether t's literal text needs /bin/sh (see template.h): state 0
 * is before the command word, 1 inside it, 2 after it. */
static int template_compute_needs_shell(const struct template *t)
{
	size_t first = 0, first_len = 0;
	int state = 0;

	for (size_t i = 0; i < t->nsegs; i++) {
		const struct template_seg *g = &t->segs[i];

		if (g->kind == TEMPLATE_WHOLE)
			return 1;
		if (g->kind != TEMPLATE_LIT) {
			if (state != 2)
				return 1;	/* a value in the command word */
			continue;
		}
		for (size_t j = 0; j < g->len; j++) {
			size_t pos = g->off + j;
			unsigned char c = (unsigned char)t->text[pos];
			int blank = c == ' ' || c == '\t';

			if (template_shell_char(c))
				return 1;
			if (state == 0 && !blank) {
				state = 1;
				first = pos;
			}
			if (state == 1 && blank)
				state = 2;
			if (state == 1) {
				if (c == '=')
					return 1;	/* an assignment */
				first_len = pos + 1 - first;
			}
		}
	}
	if (state == 0)
		return 1;		/* no command word at all */
	for (size_t i = 0;
	     i < sizeof template_shell_words / sizeof template_shell_words[0];
	     i++) {
		const char *w = template_shell_words[i];

		if (strlen(w) == first_len && !strncmp(w, t->text + first, first_len))
			return 1;
	}
	/* a function exported from bash: only the shell knows it */
	return spawn_is_function(t->text + first, first_len);
}

/* Parse the joined command words into segments (see template.h). */
int template_compile(struct template **out, char *const *argv, int argc,
		     size_t ninputs, char *err, size_t errlen)
{
	struct template *t;
	size_t len = 0, lit = 0, i;
	int found = 0;
	char *p;

	*out = NULL;
	if (argc < 0) {
		errmsg_set(err, errlen, "negative word count %d", argc);
		return -EINVAL;
	}
	t = calloc(1, sizeof *t);
	if (!t)
		goto nomem;
	t->ninputs = ninputs;
	for (i = 0; i < (size_t)argc; i++)
		len += strlen(argv[i]) + 1;
	t->text = malloc(len + 2);
	/* worst case: every char a segment boundary, plus the appended pair */
	t->segs = calloc(len + 4, sizeof *t->segs);
	if (!t->text || !t->segs)
		goto nomem;
	p = t->text;
	for (i = 0; i < (size_t)argc; i++) {
		size_t l = strlen(argv[i]);

		if (i)
			*p++ = ' ';
		memcpy(p, argv[i], l);
		p += l;
	}
	*p = '\0';
	len = (size_t)(p - t->text);
	if (argc == 0) {
		template_add(t, TEMPLATE_WHOLE, TEMPLATE_MOD_NONE, 0, 0, 0);
		t->needs_shell = 1;
		*out = t;
		return 0;
	}
	for (i = 0; i < len;) {
		const char *s = t->text + i;
		enum template_mod mod;
		size_t ml, nd = 0, input = 0;

		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '=')
			t->nsegs_lit_blank = 1;
		if (*s != '{') {
			i++;
			continue;
		}
		if (s[1] == '=') {
			const char *e = strstr(s + 2, "=}");
			int shown = e ? (int)(e + 2 - s) : (int)strlen(s);

			errmsg_set(err, errlen,
				   "in the command '%s': %.*s is a perl "
				   "expression, which nicely does not run (out "
				   "of scope: {= =} needs GNU parallel's perl; "
				   "compute the value in the shell or the input "
				   "instead)", t->text, shown, s);
			template_free(t);
			return -EINVAL;
		}
		if (s[1] == '#' && s[2] == '}') {
			template_add(t, TEMPLATE_LIT, 0, 0, lit, i - lit);
			template_add(t, TEMPLATE_SEQ, 0, 0, 0, 0);
			i += 3;
			lit = i;
			found = 1;
			continue;
		}
		if (s[1] == '%' && s[2] == '}') {
			template_add(t, TEMPLATE_LIT, 0, 0, lit, i - lit);
			template_add(t, TEMPLATE_SLOT, 0, 0, 0, 0);
			i += 3;
			lit = i;
			found = 1;
			continue;
		}
		while (s[1 + nd] >= '0' && s[1 + nd] <= '9')
			nd++;
		ml = template_parse_mod(s + 1 + nd, &mod);
		if (!ml) {
			i++;
			continue;
		}
		if (nd) {
			int over = nd > 9;

			for (size_t d = 0; d < nd && !over; d++)
				input = input * 10 + (size_t)(s[1 + d] - '0');
			if (over || input == 0 || input > ninputs) {
				errmsg_set(err, errlen,
					   "replacement string %.*s: there %s "
					   "%zu input source%s (counted from 1)",
					   (int)(1 + nd + ml), s,
					   ninputs == 1 ? "is" : "are",
					   ninputs, ninputs == 1 ? "" : "s");
				template_free(t);
				return -EINVAL;
			}
		}
		template_add(t, TEMPLATE_LIT, 0, 0, lit, i - lit);
		template_add(t, TEMPLATE_VAL, mod, input, 0, 0);
		i += 1 + nd + ml;
		lit = i;
		found = 1;
	}
	if (!found && ninputs > 0) { /* no replacement string: append */
		t->nsegs_lit_blank = 1;	/* after a blank: quoted */
		t->text[len] = ' ';
		t->text[len + 1] = '\0';
		template_add(t, TEMPLATE_LIT, 0, 0, lit, len + 1 - lit);
		template_add(t, TEMPLATE_VAL, TEMPLATE_MOD_NONE, 0, 0, 0);
	} else {
		template_add(t, TEMPLATE_LIT, 0, 0, lit, len - lit);
	}
	t->needs_shell = template_compute_needs_shell(t);
	*out = t;
	return 0;
nomem:
	template_free(t);
	errmsg_set(err, errlen, "out of memory compiling the command");
	return -ENOMEM;
}

/* Free a compiled template; NULL is fine. */
void template_free(struct template *t)
{
	if (!t)
		return;
	free(t->text);
	free(t->segs);
	free(t);
}

/* The /bin/sh -c form of one task: size it, allocate once, write it. */
char *template_expand(const struct template *t, const char *const *values,
		      size_t n, uint64_t seq, int slot)
{
	struct template_sink k = { .raw = t->noquote };

	template_walk(t, &k, values, n, seq, slot);
	k.buf = malloc(k.len + 1);
	if (!k.buf)
		return NULL;
	k.len = 0;
	template_walk(t, &k, values, n, seq, slot);
	k.buf[k.len] = '\0';
	return k.buf;
}

/* Whether the command must go through /bin/sh (fixed at compile). */
int template_needs_shell(const struct template *t)
{
	return t->needs_shell;
}

/* The exec form of one task: pointers and strings in one block. */
char **template_expand_argv(const struct template *t,
			    const char *const *values, size_t n, uint64_t seq,
			    int slot)
{
	struct template_sink k = { .argv = 1 };
	size_t ptrs;
	char **words;

	if (t->needs_shell) {
		errno = EINVAL;
		return NULL;
	}
	template_walk(t, &k, values, n, seq, slot);
	ptrs = (k.nwords + 1) * sizeof(char *);
	words = malloc(ptrs + k.len);
	if (!words)
		return NULL;
	k = (struct template_sink){ .argv = 1, .buf = (char *)words + ptrs,
				    .words = words };
	template_walk(t, &k, values, n, seq, slot);
	words[k.nwords] = NULL;
	return words;
}

/* Append the shell-quoted s to a growing buffer. */
int template_quote(char **buf, size_t *len, size_t *cap, const char *s)
{
	struct template_sink k = { 0 };
	size_t sl = strlen(s);

	template_put_quoted(&k, s, sl);
	if (*len + k.len + 1 > *cap || !*buf) {
		size_t nc = *cap ? *cap : 64;
		char *nb;

		while (nc < *len + k.len + 1)
			nc *= 2;
		nb = realloc(*buf, nc);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = nc;
	}
	k.buf = *buf + *len;
	k.len = 0;
	template_put_quoted(&k, s, sl);
	*len += k.len;
	(*buf)[*len] = '\0';
	return 0;
}

/* Split the literal segments at blanks and number the words, marking the
 * ones that hold an all-values replacement (see template.h). */
int template_set_context(struct template *t, size_t width)
{
	struct template_seg *ns;
	size_t nn = 0, word = 1;

	if (width == 0 || t->ctx_width)
		return 0;
	for (size_t i = 0; i < t->nsegs; i++)
		nn += t->segs[i].kind == TEMPLATE_LIT ? t->segs[i].len : 1;
	ns = calloc(nn + 1, sizeof *ns);
	if (!ns)
		return -ENOMEM;
	nn = 0;
	for (size_t i = 0; i < t->nsegs; i++) {
		const struct template_seg *g = &t->segs[i];

		if (g->kind != TEMPLATE_LIT) {
			ns[nn] = *g;
			ns[nn++].word = word;
			continue;
		}
		for (size_t a = 0; a < g->len;) {
			int blank = strchr(" \t\n", t->text[g->off + a]) != NULL;
			size_t b = a;

			while (b < g->len &&
			       (strchr(" \t\n", t->text[g->off + b]) != NULL) ==
			       blank)
				b++;
			ns[nn] = *g;
			ns[nn].off = g->off + a;
			ns[nn].len = b - a;
			if (blank)
				word++;
			ns[nn++].word = blank ? 0 : word;
			if (blank)
				word++;
			a = b;
		}
	}
	for (size_t i = 0; i < nn; i++) {
		if (ns[i].kind != TEMPLATE_VAL || ns[i].input != 0)
			continue;
		for (size_t j = 0; j < nn; j++)
			if (ns[j].word == ns[i].word)
				ns[j].ctx = 1;
	}
	free(t->segs);
	t->segs = ns;
	t->nsegs = nn;
	t->ctx_width = width;
	return 0;
}

/* The length of one task's shell command (for -X / -m). */
size_t template_length(const struct template *t, const char *const *values,
		       size_t n)
{
	struct template_sink k = { 0 };

	template_walk(t, &k, values, n, 1, 1);
	return k.len;
}
