/* policy/config: the configuration object: the presets known (built-ins
 * first), the files read, the default preset and the [limits], with the
 * file:line each value came from; creating and freeing it, reporting a
 * problem, and what `nicely presets` reads back. Reading the files is
 * config_read.c's; called at start and on reset by the CLI and the
 * library, never from a worker. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/builtins.h"
#include "policy/config_priv.h"

/* Record a problem at file:line and pass it to the report callback. */
__attribute__((format(printf, 4, 5))) void
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
struct config_preset *config_find(const struct policy_config *cfg,
				  const char *name)
{
	for (size_t i = 0; i < cfg->npresets; i++)
		if (!strcmp(cfg->presets[i].name, name))
			return &cfg->presets[i];
	return NULL;
}

/* Append a preset named name; returns its index or -ENOMEM. */
long config_add_preset(struct policy_config *cfg, const char *name)
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
		 BUILTINS_DEFAULT);
	for (size_t i = 0; i < builtins_count(); i++) {
		long idx = config_add_preset(cfg, builtins_get(i)->name);
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
const char *config_intern(struct policy_config *cfg, const char *name)
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

/* Append formatted text to buf at *off, truncating quietly. */
__attribute__((format(printf, 4, 5))) void
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

/* The known preset names, comma-separated, for error messages. */
void config_known(const struct policy_config *cfg, char *buf, size_t len)
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
