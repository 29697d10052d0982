/* policy/config_store: the [store] section, how long `nicely submit`'s
 * finished batches are kept: keep = N[smhd] | never. Called by
 * config_sections.c for each key = value line of the section; read by the
 * CLI through policy_config_store. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/config_sections.h"

/* A key = value line in [store]. */
void config_store_key(struct config_parse *ps, const char *name,
		      const char *value)
{
	struct policy_store *s = &ps->cfg->store;
	double v, unit = 86400;
	char *end;

	if (strcmp(name, "keep")) {
		config_error(ps->cfg, ps->file, ps->line,
			     "unknown key '%.64s' in [store] (accepted: keep)",
			     name);
		return;
	}
	if (!strcmp(value, "never") || !strcmp(value, "forever") ||
	    !strcmp(value, "0")) {
		s->keep_s = 0;
		s->keep_origin.file = ps->file;
		s->keep_origin.line = ps->line;
		return;
	}
	errno = 0;
	v = strtod(value, &end);
	if (*end == 's')
		unit = 1, end++;
	else if (*end == 'm')
		unit = 60, end++;
	else if (*end == 'h')
		unit = 3600, end++;
	else if (*end == 'd')
		unit = 86400, end++;
	if (errno || end == value || *end || !(v > 0) || v * unit > 1e10) {
		config_error(ps->cfg, ps->file, ps->line,
			     "[store] keep = '%.64s' is not an age (accepted: "
			     "a number > 0 with s, m, h or d, days when "
			     "bare, e.g. 30d; or never)", value);
		return;
	}
	s->keep_s = v * unit;
	s->keep_origin.file = ps->file;
	s->keep_origin.line = ps->line;
}

/* The [store] section as read. */
void policy_config_store(const struct policy_config *cfg,
			 struct policy_store *out)
{
	*out = cfg->store;
}
