/* policy/config: presets from the built-ins and the INI files, read with
 * libinih through a reader that counts lines (so every value keeps its
 * file:line), in the documented order; [defaults], [preset NAME] (with
 * base = OTHER) and the admin's [limits]. Called once at start and on
 * reset by the CLI and the library; never from a worker. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <ini.h>

#include "policy/config.h"
#include "policy/presets.h"

#define CONFIG_MAX_FILE (1 << 20)	/* bytes: a config file is small */
#define CONFIG_LINE_MAX INI_MAX_LINE

/* One preset as the files describe it, and its resolved values. */
struct config_preset {
	char name[POLICY_NAME_MAX];
	int builtin;			/* 1 for the five built-ins */
	struct policy_preset set;	/* knob values set by files */
	unsigned setmask;		/* which knobs (1 << k) */
	struct policy_origin origin[PRESETS_NKNOBS];
	char base[POLICY_NAME_MAX];	/* "" = none */
	struct policy_origin base_origin;
	struct policy_origin defined;	/* first [preset NAME] line */
	int set_in[PRESETS_NKNOBS + 1];	/* parse that set knob k (last: base) */
	int state;			/* 0 todo, 1 resolving, 2 done, 3 failed */
	struct policy_preset eff;
	struct policy_origin eff_origin[PRESETS_NKNOBS];
};

struct config_limits {
	char max_preset[POLICY_NAME_MAX];	/* "" = none */
	struct policy_origin max_preset_origin;
	struct policy_preset limit;	/* max_preset's values as /etc says */
	int have_limit;
	int max_pus;			/* 0 = none */
	double max_pus_pct;		/* 0 = none */
	struct policy_origin max_pus_origin;
	int min_nice;			/* -1 = none */
	struct policy_origin min_nice_origin;
	int set_in[3];			/* parse that set max_preset, max_pus, min_nice */
};

struct policy_config {
	struct config_preset *presets;
	size_t npresets, cap;
	char **files;			/* interned file names, origins point here */
	size_t nfiles;
	char default_name[POLICY_NAME_MAX];
	struct policy_origin default_origin;
	int default_set_in;		/* parse that set [defaults] preset */
	int nparses;			/* buffers parsed so far: the current one's id */
	struct config_limits lim;
	int sealed;			/* system files done, limit preset taken */
	char sysdir[PATH_MAX];		/* SYSCONFDIR/nicely, for messages */
	int nerrors;
	char first_err[512];
	policy_config_report_fn report;
	void *report_arg;
};

enum config_section { SEC_NONE, SEC_DEFAULTS, SEC_LIMITS, SEC_PRESET, SEC_BAD };

/* The state of parsing one buffer: the reader's position and line, and
 * the section the last header opened. */
struct config_parse {
	struct policy_config *cfg;
	const char *file;
	const char *buf;
	size_t len, pos;
	int line;
	int system;
	enum config_section sec;
	size_t preset;		/* index when sec == SEC_PRESET */
	int errors;
};

/* Record a problem at file:line and pass it to the report callback. */
__attribute__((format(printf, 4, 5))) static void
config_error(struct policy_config *cfg, const char *file, int line,
	     const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!cfg->nerrors) {
		if (file && line > 0)
			snprintf(cfg->first_err, sizeof cfg->first_err,
				 "%s:%d: %s", file, line, msg);
		else if (file)
			snprintf(cfg->first_err, sizeof cfg->first_err, "%s: %s",
				 file, msg);
		else
			snprintf(cfg->first_err, sizeof cfg->first_err, "%s", msg);
	}
	cfg->nerrors++;
	if (cfg->report)
		cfg->report(cfg->report_arg, file, line, msg);
}

/* Find a preset by name, or NULL. */
static struct config_preset *config_find(const struct policy_config *cfg,
					 const char *name)
{
	for (size_t i = 0; i < cfg->npresets; i++)
		if (!strcmp(cfg->presets[i].name, name))
			return &cfg->presets[i];
	return NULL;
}

/* Append a preset named name; returns its index or -ENOMEM. */
static long config_add_preset(struct policy_config *cfg, const char *name)
{
	if (cfg->npresets == cfg->cap) {
		size_t ncap = cfg->cap ? cfg->cap * 2 : 16;
		struct config_preset *np =
			realloc(cfg->presets, ncap * sizeof *np);
		if (!np)
			return -ENOMEM;
		cfg->presets = np;
		cfg->cap = ncap;
	}
	struct config_preset *p = &cfg->presets[cfg->npresets];
	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "%s", name);
	return (long)cfg->npresets++;
}

/* A new configuration holding only the built-in presets. */
int policy_config_new(struct policy_config **out)
{
	struct policy_config *cfg = calloc(1, sizeof *cfg);

	if (!cfg)
		return -ENOMEM;
	cfg->lim.min_nice = -1;
	snprintf(cfg->sysdir, sizeof cfg->sysdir, "%s/nicely", NICELY_SYSCONFDIR);
	snprintf(cfg->default_name, sizeof cfg->default_name, "%s",
		 PRESETS_DEFAULT);
	for (size_t i = 0; i < presets_builtin_count(); i++) {
		long idx = config_add_preset(cfg, presets_builtin(i)->name);
		if (idx < 0) {
			policy_config_free(cfg);
			return -ENOMEM;
		}
		cfg->presets[idx].builtin = 1;
	}
	*out = cfg;
	return 0;
}

/* Free a configuration and everything it holds. */
void policy_config_free(struct policy_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg->presets);
	free(cfg);
}

/* Send every later problem to fn. */
void policy_config_set_report(struct policy_config *cfg,
			      policy_config_report_fn fn, void *arg)
{
	cfg->report = fn;
	cfg->report_arg = arg;
}

/* Keep a copy of a file name that origins can point to. */
static const char *config_intern(struct policy_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nfiles; i++)
		if (!strcmp(cfg->files[i], name))
			return cfg->files[i];
	char **nf = realloc(cfg->files, (cfg->nfiles + 1) * sizeof *nf);
	if (!nf)
		return NULL;
	cfg->files = nf;
	nf[cfg->nfiles] = strdup(name);
	if (!nf[cfg->nfiles])
		return NULL;
	return nf[cfg->nfiles++];
}

/* Trim spaces and tabs at both ends of s in place. */
static char *config_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = 0;
	return s;
}

/* A section header "[...]" (already without its brackets): open it. */
static void config_open_section(struct config_parse *ps, char *name)
{
	struct policy_config *cfg = ps->cfg;

	name = config_trim(name);
	ps->sec = SEC_BAD;
	if (!strcmp(name, "defaults")) {
		ps->sec = SEC_DEFAULTS;
	} else if (!strcmp(name, "limits")) {
		if (!ps->system) {
			config_error(cfg, ps->file, ps->line,
				     "[limits] is honoured only in the system "
				     "files (%s/nicely.conf and presets.d/); "
				     "remove it from this file",
				     cfg->sysdir);
			return;
		}
		ps->sec = SEC_LIMITS;
	} else if (!strncmp(name, "preset", 6) &&
		   (name[6] == ' ' || name[6] == '\t')) {
		char *pname = config_trim(name + 7);
		if (!presets_valid_name(pname)) {
			config_error(cfg, ps->file, ps->line,
				     "bad preset name '%.64s' (accepted: 1-63 "
				     "letters, digits, '_', '-' or '.')",
				     pname);
			return;
		}
		struct config_preset *p = config_find(cfg, pname);
		long idx;
		if (p) {
			idx = p - cfg->presets;
		} else {
			idx = config_add_preset(cfg, pname);
			if (idx < 0) {
				config_error(cfg, ps->file, ps->line,
					     "out of memory");
				return;
			}
		}
		p = &cfg->presets[idx];
		if (!p->defined.file && !p->builtin) {
			p->defined.file = ps->file;
			p->defined.line = ps->line;
		}
		ps->sec = SEC_PRESET;
		ps->preset = (size_t)idx;
	} else {
		config_error(cfg, ps->file, ps->line,
			     "unknown section [%.64s] (accepted: [defaults], "
			     "[limits], [preset NAME])",
			     name);
	}
}

/* The libinih reader: hands inih one line at a time from the buffer,
 * counting lines, without leading blanks (so an indented key is a key, not
 * a continuation), and checks what inih would silently mangle: NUL bytes,
 * over-long lines, lines that are neither a section nor key = value.
 * Such a line is reported here and replaced by an empty one. */
static char *config_reader(char *str, int num, void *stream)
{
	struct config_parse *ps = stream;
	const char *s, *nl, *e;
	size_t n;

	if (ps->pos >= ps->len || num < 3)
		return NULL;
	s = ps->buf + ps->pos;
	nl = memchr(s, '\n', ps->len - ps->pos);
	e = nl ? nl : ps->buf + ps->len;
	ps->pos = (size_t)(e - ps->buf) + (nl ? 1 : 0);
	ps->line++;
	str[0] = 0;
	if (ps->line == 1 && e - s >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
		s += 3;
	if (e > s && e[-1] == '\r')
		e--;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	n = (size_t)(e - s);
	if (memchr(s, 0, n)) {
		config_error(ps->cfg, ps->file, ps->line,
			     "NUL byte in the line (not a text file?)");
		ps->errors++;
		return str;
	}
	if (n > (size_t)num - 2) {
		config_error(ps->cfg, ps->file, ps->line,
			     "line too long (at most %d characters)", num - 2);
		ps->errors++;
		return str;
	}
	if (n == 0 || *s == ';' || *s == '#') {
		memcpy(str, s, n);
		str[n] = 0;
		return str;
	}
	if (*s == '[') {
		const char *close = memchr(s, ']', n);
		char sec[CONFIG_LINE_MAX];
		if (!close) {
			config_error(ps->cfg, ps->file, ps->line,
				     "section header without ']'");
			ps->errors++;
			ps->sec = SEC_BAD;
			return str;
		}
		const char *after = close + 1;
		while (after < s + n && (*after == ' ' || *after == '\t'))
			after++;
		if (after < s + n && *after != ';' && *after != '#') {
			config_error(ps->cfg, ps->file, ps->line,
				     "text after the section header's ']'");
			ps->errors++;
			ps->sec = SEC_BAD;
			return str;
		}
		memcpy(sec, s + 1, (size_t)(close - s - 1));
		sec[close - s - 1] = 0;
		int before = ps->cfg->nerrors;
		config_open_section(ps, sec);
		ps->errors += ps->cfg->nerrors - before;
		/* inih still needs to see a section line; keep it simple */
		memcpy(str, "[s]", 4);
		return str;
	}
	if (!memchr(s, '=', n) && !memchr(s, ':', n)) {
		config_error(ps->cfg, ps->file, ps->line,
			     "expected '[section]' or 'key = value'");
		ps->errors++;
		return str;
	}
	memcpy(str, s, n);
	str[n] = 0;
	return str;
}

/* Append formatted text to buf at *off, truncating quietly. */
__attribute__((format(printf, 4, 5))) static void
config_append(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off + 1 >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n < len - *off ? (size_t)n : len - *off - 1;
}

/* Parse a [limits] max_pus value: a count or a percent. */
static int config_limit_max_pus(struct config_limits *lim, const char *value,
				char *why, size_t whylen)
{
	struct policy_preset tmp = { .max_pus = 0 };
	char e[200];

	if (presets_knob_parse(&tmp, PRESETS_MAX_PUS, value, e, sizeof e) < 0) {
		snprintf(why, whylen, "%s; in [limits] it counts the PUs of all "
			 "of one user's batches together", e);
		return -1;
	}
	lim->max_pus = tmp.max_pus;
	lim->max_pus_pct = tmp.max_pus_pct;
	return 0;
}

/* 1 (and an error) when this same buffer already set the key (set_in
 * holds the id of the parse that set it last): one file saying two things
 * is a mistake; a later file overriding an earlier one is not. */
static int config_twice(struct config_parse *ps, int set_in,
			const struct policy_origin *first, const char *key,
			const char *section)
{
	if (set_in != ps->cfg->nparses)
		return 0;
	config_error(ps->cfg, ps->file, ps->line,
		     "'%s' set twice in [%s] (first at line %d); keep one",
		     key, section, first->line);
	return 1;
}

/* 1 when value (of key) is a valid preset name, else 0 and an error. */
static int config_name_value(struct config_parse *ps, const char *key,
			     const char *value)
{
	if (presets_valid_name(value))
		return 1;
	config_error(ps->cfg, ps->file, ps->line,
		     "bad value '%.64s' for %s: not a preset name (accepted: "
		     "1-63 letters, digits, '_', '-' or '.')",
		     value, key);
	return 0;
}

/* A key = value line in the current section. */
static void config_key(struct config_parse *ps, const char *name,
		       const char *value)
{
	struct policy_config *cfg = ps->cfg;
	struct policy_origin here = { ps->file, ps->line };
	char why[300];

	switch (ps->sec) {
	case SEC_BAD:
		return;		/* the header was already reported */
	case SEC_NONE:
		config_error(cfg, ps->file, ps->line,
			     "key '%.64s' outside any section (accepted sections: "
			     "[defaults], [limits], [preset NAME])",
			     name);
		return;
	case SEC_DEFAULTS:
		if (strcmp(name, "preset")) {
			config_error(cfg, ps->file, ps->line,
				     "unknown key '%.64s' in [defaults] "
				     "(accepted: preset)",
				     name);
			return;
		}
		if (!config_name_value(ps, name, value))
			return;
		if (config_twice(ps, cfg->default_set_in, &cfg->default_origin,
				 name, "defaults"))
			return;
		snprintf(cfg->default_name, sizeof cfg->default_name, "%s", value);
		cfg->default_origin = here;
		cfg->default_set_in = cfg->nparses;
		return;
	case SEC_LIMITS:
		if (!strcmp(name, "max_preset")) {
			if (!config_name_value(ps, name, value))
				return;
			if (config_twice(ps, cfg->lim.set_in[0],
					 &cfg->lim.max_preset_origin, name, "limits"))
				return;
			snprintf(cfg->lim.max_preset, sizeof cfg->lim.max_preset,
				 "%s", value);
			cfg->lim.max_preset_origin = here;
			cfg->lim.set_in[0] = cfg->nparses;
		} else if (!strcmp(name, "max_pus")) {
			if (config_twice(ps, cfg->lim.set_in[1],
					 &cfg->lim.max_pus_origin, name, "limits"))
				return;
			if (config_limit_max_pus(&cfg->lim, value, why,
						 sizeof why) < 0) {
				config_error(cfg, ps->file, ps->line, "%s", why);
				return;
			}
			cfg->lim.max_pus_origin = here;
			cfg->lim.set_in[1] = cfg->nparses;
		} else if (!strcmp(name, "min_nice")) {
			struct policy_preset tmp = { .nice = 0 };

			if (config_twice(ps, cfg->lim.set_in[2],
					 &cfg->lim.min_nice_origin, name, "limits"))
				return;
			if (presets_knob_parse(&tmp, PRESETS_NICE, value, why,
					       sizeof why) < 0) {
				config_error(cfg, ps->file, ps->line,
					     "bad value '%.60s' for min_nice "
					     "(accepted: %s)",
					     value, presets_knob_accepts(PRESETS_NICE));
				return;
			}
			cfg->lim.min_nice = tmp.nice;
			cfg->lim.min_nice_origin = here;
			cfg->lim.set_in[2] = cfg->nparses;
		} else {
			config_error(cfg, ps->file, ps->line,
				     "unknown key '%.64s' in [limits] (accepted: "
				     "max_preset, max_pus, min_nice)",
				     name);
		}
		return;
	case SEC_PRESET: {
		struct config_preset *p = &cfg->presets[ps->preset];
		char sec[POLICY_NAME_MAX + 8];

		snprintf(sec, sizeof sec, "preset %s", p->name);
		if (!strcmp(name, "base")) {
			if (config_twice(ps, p->set_in[PRESETS_NKNOBS],
					 &p->base_origin, name, sec))
				return;
			if (!config_name_value(ps, name, value))
				return;
			snprintf(p->base, sizeof p->base, "%s", value);
			p->base_origin = here;
			p->set_in[PRESETS_NKNOBS] = cfg->nparses;
			return;
		}
		int k = presets_knob_lookup(name);
		if (k < 0) {
			char keys[400];
			size_t off = 0;

			config_append(keys, sizeof keys, &off, "base");
			for (k = 0; k < PRESETS_NKNOBS; k++)
				config_append(keys, sizeof keys, &off, ", %s",
					      presets_knob_name(k));
			config_error(cfg, ps->file, ps->line,
				     "unknown key '%.64s' in [preset %s] "
				     "(accepted: %s)",
				     name, p->name, keys);
			return;
		}
		if (config_twice(ps, p->set_in[k], &p->origin[k], name, sec))
			return;
		if (presets_knob_parse(&p->set, k, value, why, sizeof why) < 0) {
			config_error(cfg, ps->file, ps->line, "%s", why);
			return;
		}
		p->setmask |= 1u << k;
		p->origin[k] = here;
		p->set_in[k] = cfg->nparses;
		return;
	}
	}
}

/* The libinih handler: every key = value line, in order. */
static int config_handler(void *user, const char *section, const char *name,
			  const char *value)
{
	struct config_parse *ps = user;
	int before = ps->cfg->nerrors;

	(void)section;	/* the reader tracks sections itself */
	config_key(ps, name, value);
	ps->errors += ps->cfg->nerrors - before;
	return 1;
}

/* The known preset names, comma-separated, for error messages. */
static void config_known(const struct policy_config *cfg, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < cfg->npresets && off + 1 < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
				 cfg->presets[i].name);
		if (n < 0 || (size_t)n >= len - off) {
			if (len > 4)
				memcpy(buf + len - 4, "...", 4);
			return;
		}
		off += (size_t)n;
	}
}

/* Describe the cycle of bases through p: "a -> b -> a". */
static void config_cycle(const struct policy_config *cfg,
			 const struct config_preset *p, char *buf, size_t len)
{
	const struct config_preset *q = p;
	size_t off = 0;

	buf[0] = 0;
	for (size_t steps = 0; q && steps <= cfg->npresets; steps++) {
		int n = snprintf(buf + off, len - off, "%s%s", steps ? " -> " : "",
				 q->name);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
		if (steps && q == p)
			return;
		q = config_find(cfg, q->base[0] ? q->base
				: (q->builtin ? "" : PRESETS_DEFAULT));
	}
}

/* Resolve preset p: its base's values (for a built-in without base, its
 * built-in values; for a new preset without base, normal's), then its own
 * knobs. Returns 0, -1 when it failed (reported), -2 when p is already
 * being resolved (a cycle, reported by the caller). */
static int config_resolve(struct policy_config *cfg, struct config_preset *p)
{
	struct config_preset *b = NULL;
	char known[256], cyc[256];

	if (p->state == 2)
		return 0;
	if (p->state == 3)
		return -1;
	if (p->state == 1)
		return -2;
	p->state = 1;
	if (p->base[0] || !p->builtin) {
		const char *bname = p->base[0] ? p->base : PRESETS_DEFAULT;
		const struct policy_origin *at =
			p->base[0] ? &p->base_origin : &p->defined;
		b = config_find(cfg, bname);
		if (!b) {
			config_known(cfg, known, sizeof known);
			config_error(cfg, at->file, at->line,
				     "unknown base preset '%s' for [preset %s] "
				     "(known: %s)",
				     bname, p->name, known);
			p->state = 3;
			return -1;
		}
		int r = config_resolve(cfg, b);
		if (r == -2) {
			config_cycle(cfg, p, cyc, sizeof cyc);
			if (p->base[0])
				config_error(cfg, at->file, at->line,
					     "cycle of base presets: %s", cyc);
			else
				config_error(cfg, at->file, at->line,
					     "cycle of base presets: %s ([preset "
					     "%s] has no base, so it starts from "
					     "'%s'; give it a base)",
					     cyc, p->name, PRESETS_DEFAULT);
		}
		if (r < 0) {
			p->state = 3;
			return -1;
		}
		p->eff = b->eff;
		memcpy(p->eff_origin, b->eff_origin, sizeof p->eff_origin);
		if (!p->builtin && !(p->setmask & (1u << PRESETS_DESCRIPTION))) {
			snprintf(p->eff.description, sizeof p->eff.description,
				 "based on %s", b->name);
			p->eff_origin[PRESETS_DESCRIPTION] = *at;
		}
	} else {
		p->eff = *presets_find(p->name);
		memset(p->eff_origin, 0, sizeof p->eff_origin);
	}
	for (int k = 0; k < PRESETS_NKNOBS; k++)
		if (p->setmask & (1u << k)) {
			presets_knob_copy(&p->eff, &p->set, k);
			p->eff_origin[k] = p->origin[k];
		}
	snprintf(p->eff.name, sizeof p->eff.name, "%s", p->name);
	p->state = 2;
	return 0;
}

/* Forget resolved values (a later file may change a preset or a base). */
static void config_unresolve(struct policy_config *cfg)
{
	for (size_t i = 0; i < cfg->npresets; i++)
		cfg->presets[i].state = 0;
}

/* The system files are done: take the limit preset's values as they stand
 * now, so that a user's file redefining that preset changes nothing. */
static void config_seal(struct policy_config *cfg)
{
	struct config_limits *lim = &cfg->lim;
	char known[256];

	if (cfg->sealed)
		return;
	cfg->sealed = 1;
	/* the system's default must exist without the users' files */
	if (cfg->default_origin.file && !config_find(cfg, cfg->default_name)) {
		config_known(cfg, known, sizeof known);
		config_error(cfg, cfg->default_origin.file,
			     cfg->default_origin.line,
			     "unknown preset '%s' for preset in [defaults] "
			     "(known: %s)",
			     cfg->default_name, known);
		snprintf(cfg->default_name, sizeof cfg->default_name, "%s",
			 PRESETS_DEFAULT);
		cfg->default_origin.file = NULL;
	}
	if (!lim->max_preset[0])
		return;
	struct config_preset *p = config_find(cfg, lim->max_preset);
	if (!p) {
		config_known(cfg, known, sizeof known);
		config_error(cfg, lim->max_preset_origin.file,
			     lim->max_preset_origin.line,
			     "unknown preset '%s' for max_preset (known: %s)",
			     lim->max_preset, known);
		return;
	}
	/* errors in its definition are reported by policy_config_finish */
	policy_config_report_fn fn = cfg->report;
	int nerr = cfg->nerrors;
	char first[sizeof cfg->first_err];
	memcpy(first, cfg->first_err, sizeof first);
	cfg->report = NULL;
	int r = config_resolve(cfg, p);
	cfg->report = fn;
	cfg->nerrors = nerr;
	memcpy(cfg->first_err, first, sizeof first);
	if (r == 0) {
		lim->limit = p->eff;
		lim->have_limit = 1;
	}
	config_unresolve(cfg);
}

/* Parse one buffer; see config.h. */
int policy_config_parse(struct policy_config *cfg, const char *name,
			const char *buf, size_t len, int system)
{
	struct config_parse ps = { .cfg = cfg, .buf = buf, .len = len,
				   .system = system, .sec = SEC_NONE };

	cfg->nparses++;
	ps.file = config_intern(cfg, name);
	if (!ps.file) {
		config_error(cfg, name, 0, "out of memory");
		return 1;
	}
	if (!system)
		config_seal(cfg);
	else if (cfg->sealed) {
		config_error(cfg, name, 0, "system file read after a user file");
		return 1;
	}
	config_unresolve(cfg);
	ini_parse_stream(config_reader, &ps, config_handler, &ps);
	return ps.errors;
}

/* Read a whole file into a new buffer. Returns 0 or -errno. */
static int config_slurp(const char *path, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	size_t n = 0;
	int e = 0, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		e = errno;
	else if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
		st.st_size = 0; /* /dev/null: an empty file, "no config" */
	else if (!S_ISREG(st.st_mode))
		e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
	if (e) {
		close(fd);
		return -e;
	}
	if (st.st_size > CONFIG_MAX_FILE) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			free(buf);
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > (size_t)st.st_size) {	/* grew while reading */
			free(buf);
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	*out = buf;
	*len = n;
	return 0;
}

/* Read and parse one file; see config.h. */
int policy_config_parse_file(struct policy_config *cfg, const char *path,
			     int system, int optional)
{
	char *buf = NULL;
	size_t len = 0;
	int r = config_slurp(path, &buf, &len);

	if (r == -ENOENT && optional)
		return 0;
	if (r < 0) {
		config_error(cfg, path, 0, "cannot read: %s%s", strerror(-r),
			     r == -EFBIG ? " (a config file is at most 1 MiB)" : "");
		return 1;
	}
	r = policy_config_parse(cfg, path, buf, len, system);
	free(buf);
	return r;
}

/* Resolve everything and check cross references; see config.h. */
int policy_config_finish(struct policy_config *cfg, char *err, size_t errlen)
{
	char known[256];

	config_seal(cfg);
	config_unresolve(cfg);
	for (size_t i = 0; i < cfg->npresets; i++)
		config_resolve(cfg, &cfg->presets[i]);
	if (!config_find(cfg, cfg->default_name)) {
		config_known(cfg, known, sizeof known);
		config_error(cfg, cfg->default_origin.file,
			     cfg->default_origin.line,
			     "unknown preset '%s' for preset in [defaults] "
			     "(known: %s)",
			     cfg->default_name, known);
	}
	if (cfg->nerrors && err && errlen)
		snprintf(err, errlen, "%s", cfg->first_err);
	return cfg->nerrors;
}

/* 1 when a .conf file name in presets.d should be read. */
static int config_conf_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 &&
	       !strcmp(d->d_name + n - 5, ".conf");
}

/* Byte order of names, whatever the locale. */
static int config_name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Read the .conf files of presets.d in name order. */
static void config_read_dir(struct policy_config *cfg, const char *dir)
{
	struct dirent **list;
	char path[PATH_MAX];
	int n = scandir(dir, &list, config_conf_name, config_name_cmp);

	if (n < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			config_error(cfg, dir, 0, "cannot read the directory: %s",
				     strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		if (snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name) <
		    (int)sizeof path)
			policy_config_parse_file(cfg, path, 1, 1);
		free(list[i]);
	}
	free(list);
}

/* 1 when path names the same file as one already read. */
static int config_already_read(const struct policy_config *cfg, const char *path)
{
	struct stat a, b;

	if (stat(path, &a) < 0)
		return 0;
	for (size_t i = 0; i < cfg->nfiles; i++)
		if (stat(cfg->files[i], &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			return 1;
	return 0;
}

/* 1 when path lies under dir/ (both made absolute). */
static int config_under(const char *path, const char *dir)
{
	char rp[PATH_MAX], rd[PATH_MAX];
	size_t n;

	if (!realpath(path, rp) || !realpath(dir, rd))
		return 0;
	n = strlen(rd);
	return !strncmp(rp, rd, n) && rp[n] == '/';
}

/* Read every config file in order; see config.h. */
int policy_config_load(struct policy_config **out,
		       const struct policy_config_opts *opts, char *err,
		       size_t errlen)
{
	static const struct policy_config_opts none;
	struct policy_config *cfg;
	char dir[PATH_MAX], path[PATH_MAX];
	const char *sysconf, *env;
	int r;

	if (!opts)
		opts = &none;
	r = policy_config_new(&cfg);
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		return r;
	}
	policy_config_set_report(cfg, opts->report, opts->report_arg);
	sysconf = opts->sysconfdir;
	if (!sysconf || !*sysconf)
		sysconf = getenv("NICELY_SYSCONFDIR");
	if (!sysconf || !*sysconf)
		sysconf = NICELY_SYSCONFDIR;
	if (snprintf(dir, sizeof dir, "%s/nicely", sysconf) >=
	    (int)sizeof dir - 16) {
		snprintf(err, errlen, "%s: path too long", sysconf);
		policy_config_free(cfg);
		return -ENAMETOOLONG;
	}
	if (snprintf(path, sizeof path, "%s/nicely.conf", dir) < (int)sizeof path)
		policy_config_parse_file(cfg, path, 1, 1);
	if (snprintf(path, sizeof path, "%s/presets.d", dir) < (int)sizeof path)
		config_read_dir(cfg, path);

	memcpy(cfg->sysdir, dir, sizeof dir);
	if (opts->nfiles) {
		/* system files first, so they stay before the user's */
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < opts->nfiles; i++) {
				const char *f = opts->files[i];
				int sys = opts->files_system || config_under(f, dir);
				if (sys != !pass || config_already_read(cfg, f))
					continue;
				policy_config_parse_file(cfg, f, sys, 0);
			}
	} else {
		if (!opts->no_user) {
			const char *uf = opts->user_file;
			if (!uf || !*uf) {
				const char *xdg = getenv("XDG_CONFIG_HOME");
				const char *home = getenv("HOME");
				int n = 0;
				if (xdg && *xdg == '/')
					n = snprintf(path, sizeof path,
						     "%s/nicely/nicely.conf", xdg);
				else if (home && *home)
					n = snprintf(path, sizeof path,
						     "%s/.config/nicely/nicely.conf",
						     home);
				if (n <= 0 || n >= (int)sizeof path)
					path[0] = 0;
				uf = path[0] ? path : NULL;
			}
			if (uf)
				policy_config_parse_file(cfg, uf, 0, 1);
		}
		env = opts->extra_file;
		if (!env || !*env)
			env = getenv("NICELY_CONFIG");
		if (env && *env)
			policy_config_parse_file(cfg, env, 0, 0);
	}
	if (policy_config_finish(cfg, err, errlen)) {
		policy_config_free(cfg);
		return -EINVAL;
	}
	*out = cfg;
	return 0;
}

/* "file:line" or "built-in". */
void policy_origin_format(const struct policy_origin *o, char *buf, size_t len)
{
	if (!o || !o->file)
		snprintf(buf, len, "built-in");
	else if (o->line > 0)
		snprintf(buf, len, "%s:%d", o->file, o->line);
	else
		snprintf(buf, len, "%s", o->file);
}

/* The effective preset with flags and limits applied; see config.h. */
int policy_config_resolve(const struct policy_config *cfg,
			  const struct policy_flags *flags,
			  struct policy_preset *out, char *warn, size_t warnlen,
			  char *err, size_t errlen)
{
	static const struct policy_flags noflags = POLICY_FLAGS_INIT;
	const struct config_limits *lim = &cfg->lim;
	const char *name;
	char known[256], at[PATH_MAX + 16];
	size_t woff = 0;
	struct policy_preset p;

	if (!flags)
		flags = &noflags;
	if (warn && warnlen)
		warn[0] = 0;
	name = flags->preset && *flags->preset ? flags->preset : cfg->default_name;
	const struct config_preset *cp = config_find(cfg, name);
	if (!cp) {
		config_known(cfg, known, sizeof known);
		snprintf(err, errlen, "unknown preset '%s' (known: %s)", name,
			 known);
		return -ENOENT;
	}
	if (cp->state != 2) {
		snprintf(err, errlen,
			 "preset '%s' cannot be used: its definition has errors "
			 "(run nicely check-config)",
			 name);
		return -EINVAL;
	}
	p = cp->eff;
	const struct presets_knob *nk = presets_knob(PRESETS_NICE);
	if (flags->nice != -1 && (flags->nice < nk->lo || flags->nice > nk->hi)) {
		snprintf(err, errlen, "bad nice %d (accepted: %g..%g)", flags->nice,
			 nk->lo, nk->hi);
		return -EINVAL;
	}
	if (flags->jobs < 0) {
		snprintf(err, errlen, "bad number of jobs %d (accepted: 1 or more, "
			 "0 for the preset's)", flags->jobs);
		return -EINVAL;
	}

	/* the preset against max_preset */
	if (lim->have_limit) {
		struct policy_preset before = p;
		unsigned m = presets_clamp(&p, &lim->limit);
		policy_origin_format(&lim->max_preset_origin, at, sizeof at);
		if (m && flags->preset && flags->insist) {
			size_t eoff = 0;
			config_append(err, errlen, &eoff,
				      "preset '%s' is more aggressive than the "
				      "limit max_preset = %s set at %s (in:",
				      name, lim->max_preset, at);
			for (int k = 0; k < PRESETS_NKNOBS; k++)
				if (m & (1u << k))
					config_append(err, errlen, &eoff, " %s",
						      presets_knob_name(k));
			config_append(err, errlen, &eoff, ")");
			return -EPERM;
		}
		if (m) {
			char a[64], b[64];
			config_append(warn, warnlen, &woff,
				      "preset '%s' is more aggressive than the "
				      "limit max_preset = %s set at %s; using",
				      name, lim->max_preset, at);
			for (int k = 0, first = 1; k < PRESETS_NKNOBS; k++) {
				if (!(m & (1u << k)))
					continue;
				presets_knob_format(&p, k, a, sizeof a);
				presets_knob_format(&before, k, b, sizeof b);
				config_append(warn, warnlen, &woff,
					      "%s %s = %s (not %s)", first ? "" : ",",
					      presets_knob_name(k), a, b);
				first = 0;
			}
		}
	}
	/* the preset's nice against min_nice */
	if (lim->min_nice >= 0 && p.nice < lim->min_nice) {
		policy_origin_format(&lim->min_nice_origin, at, sizeof at);
		config_append(warn, warnlen, &woff,
			      "%spreset '%s' has nice %d, below the limit "
			      "min_nice = %d set at %s; using nice %d",
			      woff ? "; " : "", name, p.nice, lim->min_nice, at,
			      lim->min_nice);
		p.nice = lim->min_nice;
	}
	/* flags */
	if (flags->nice != -1) {
		int floor = lim->min_nice > 0 ? lim->min_nice : 0;
		const struct policy_origin *o = &lim->min_nice_origin;
		if (lim->have_limit && lim->limit.nice > floor) {
			floor = lim->limit.nice;
			o = &lim->max_preset_origin;
		}
		if (flags->nice < floor) {
			policy_origin_format(o, at, sizeof at);
			if (flags->insist) {
				snprintf(err, errlen,
					 "nice %d is below the limit of %d set "
					 "at %s",
					 flags->nice, floor, at);
				return -EPERM;
			}
			config_append(warn, warnlen, &woff,
				      "%snice %d is below the limit of %d set at "
				      "%s; using nice %d",
				      woff ? "; " : "", flags->nice, floor, at,
				      floor);
			p.nice = floor;
		} else {
			p.nice = flags->nice;
		}
	}
	if (flags->jobs > 0) {
		int jobs = flags->jobs;
		if (lim->max_pus > 0 && jobs > lim->max_pus) {
			policy_origin_format(&lim->max_pus_origin, at, sizeof at);
			if (flags->insist) {
				snprintf(err, errlen,
					 "%d jobs is above the limit max_pus = %d "
					 "(PUs per user) set at %s",
					 jobs, lim->max_pus, at);
				return -EPERM;
			}
			config_append(warn, warnlen, &woff,
				      "%s%d jobs is above the limit max_pus = %d "
				      "(PUs per user) set at %s; using %d",
				      woff ? "; " : "", jobs, lim->max_pus, at,
				      lim->max_pus);
			jobs = lim->max_pus;
		}
		if (p.max_pus == 0 || jobs < p.max_pus)
			p.max_pus = jobs;
	}
	/* the admin's caps on every preset */
	if (lim->max_pus > 0 && (p.max_pus == 0 || p.max_pus > lim->max_pus))
		p.max_pus = lim->max_pus;
	if (lim->max_pus_pct > 0 &&
	    (p.max_pus_pct == 0 || p.max_pus_pct > lim->max_pus_pct))
		p.max_pus_pct = lim->max_pus_pct;
	*out = p;
	return 0;
}

/* Number of presets known. */
size_t policy_config_npresets(const struct policy_config *cfg)
{
	return cfg->npresets;
}

/* The i-th preset's name, or NULL. */
const char *policy_config_preset_name(const struct policy_config *cfg, size_t i)
{
	return i < cfg->npresets ? cfg->presets[i].name : NULL;
}

/* A preset's effective values and origins; see config.h. */
int policy_config_preset(const struct policy_config *cfg, const char *name,
			 struct policy_preset *out,
			 struct policy_origin *origins)
{
	const struct config_preset *p = config_find(cfg, name);

	if (!p || p->state != 2)
		return -ENOENT;
	if (out)
		*out = p->eff;
	if (origins)
		memcpy(origins, p->eff_origin, sizeof p->eff_origin);
	return 0;
}

/* The default preset and where it was chosen. */
const char *policy_config_default(const struct policy_config *cfg,
				  struct policy_origin *origin)
{
	if (origin)
		*origin = cfg->default_origin;
	return cfg->default_name;
}

/* The [limits] in one line. */
void policy_config_describe_limits(const struct policy_config *cfg, char *buf,
				   size_t len)
{
	const struct config_limits *lim = &cfg->lim;
	char at[PATH_MAX + 16];
	size_t off = 0;

	buf[0] = 0;
	if (lim->max_preset[0]) {
		policy_origin_format(&lim->max_preset_origin, at, sizeof at);
		config_append(buf, len, &off, "max_preset = %s (%s)",
			      lim->max_preset, at);
	}
	if (lim->max_pus > 0 || lim->max_pus_pct > 0) {
		policy_origin_format(&lim->max_pus_origin, at, sizeof at);
		if (lim->max_pus > 0)
			config_append(buf, len, &off,
				      "%smax_pus = %d per user (%s)",
				      off ? ", " : "", lim->max_pus, at);
		else
			config_append(buf, len, &off,
				      "%smax_pus = %g%% per user (%s)",
				      off ? ", " : "", lim->max_pus_pct, at);
	}
	if (lim->min_nice >= 0) {
		policy_origin_format(&lim->min_nice_origin, at, sizeof at);
		config_append(buf, len, &off, "%smin_nice = %d (%s)",
			      off ? ", " : "", lim->min_nice, at);
	}
	if (!off)
		snprintf(buf, len, "none");
}

/* The per-user limit of the system files. */
void policy_config_user_limit(const struct policy_config *cfg,
			      struct policy_user_limit *out)
{
	out->max_pus = cfg->lim.max_pus;
	out->max_pus_pct = cfg->lim.max_pus_pct;
	out->origin = cfg->lim.max_pus_origin;
}

/* The per-user limit as a count of PUs. */
int policy_user_limit_pus(const struct policy_user_limit *l, int nallowed)
{
	if (l->max_pus > 0)
		return l->max_pus;
	if (l->max_pus_pct > 0) {
		int c = (int)(l->max_pus_pct * (nallowed > 0 ? nallowed : 1) /
			      100.0);

		return c < 1 ? 1 : c;
	}
	return 0;
}

/* Number of files read. */
size_t policy_config_nfiles(const struct policy_config *cfg)
{
	return cfg->nfiles;
}

/* The i-th file read, or NULL. */
const char *policy_config_file(const struct policy_config *cfg, size_t i)
{
	return i < cfg->nfiles ? cfg->files[i] : NULL;
}
