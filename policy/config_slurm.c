/* policy/config_slurm: the [slurm] section, where `nicely run --on slurm`
 * sends a batch: partition, account, time, options, dir. Called by
 * config_sections.c for each key = value line of the section; read by the
 * CLI through policy_config_slurm. */
#include <stdio.h>
#include <string.h>

#include "policy/config_sections.h"

/* Store value into a field of size n, with its origin; too long is an
 * error naming the limit. */
static void config_slurm_set(struct config_parse *ps, char *field, size_t n,
			     struct policy_origin *origin, const char *key,
			     const char *value)
{
	if (strlen(value) >= n) {
		config_error(ps->cfg, ps->file, ps->line,
			     "[slurm] %s is too long (at most %zu bytes)", key,
			     n - 1);
		return;
	}
	snprintf(field, n, "%s", value);
	origin->file = ps->file;
	origin->line = ps->line;
}

/* A key = value line in [slurm]. */
void config_slurm_key(struct config_parse *ps, const char *name,
		      const char *value)
{
	struct policy_slurm *s = &ps->cfg->slurm;

	if (!strcmp(name, "partition"))
		config_slurm_set(ps, s->partition, sizeof s->partition,
				 &s->partition_origin, name, value);
	else if (!strcmp(name, "account"))
		config_slurm_set(ps, s->account, sizeof s->account,
				 &s->account_origin, name, value);
	else if (!strcmp(name, "time"))
		config_slurm_set(ps, s->time, sizeof s->time, &s->time_origin,
				 name, value);
	else if (!strcmp(name, "options"))
		config_slurm_set(ps, s->options, sizeof s->options,
				 &s->options_origin, name, value);
	else if (!strcmp(name, "dir")) {
		if (value[0] != '/') {
			config_error(ps->cfg, ps->file, ps->line,
				     "[slurm] dir '%.200s' is not an absolute "
				     "path", value);
			return;
		}
		config_slurm_set(ps, s->dir, sizeof s->dir, &s->dir_origin,
				 name, value);
	} else
		config_error(ps->cfg, ps->file, ps->line,
			     "unknown key '%.64s' in [slurm] (accepted: "
			     "partition, account, time, options, dir)", name);
}

/* The [slurm] section as read. */
void policy_config_slurm(const struct policy_config *cfg,
			 struct policy_slurm *out)
{
	*out = cfg->slurm;
}
