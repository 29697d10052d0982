/* policy/config_sections.h: the state of parsing one buffer, and what
 * config_sections.c does with its lines: open a section header, apply a
 * key = value line. Used by config_read.c, whose reader hands libinih the
 * lines and whose parse passes config_handler to it. */
#ifndef POLICY_CONFIG_SECTIONS_H
#define POLICY_CONFIG_SECTIONS_H

#include <stddef.h>

#include "policy/config_priv.h"

enum config_section { SEC_NONE, SEC_DEFAULTS, SEC_LIMITS, SEC_AGENT,
		      SEC_PRESET, SEC_BAD, SEC_SLURM, SEC_STORE };

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

/* A section header "[...]" (already without its brackets): open it. */
void config_open_section(struct config_parse *ps, char *name);
/* The libinih handler (user is the struct config_parse): every key = value
 * line, in order. Always returns 1; problems count in ps->errors. */
int config_handler(void *user, const char *section, const char *name,
		   const char *value);

/* A key = value line in [store] (config_store.c). */
void config_store_key(struct config_parse *ps, const char *name,
		      const char *value);
/* A key = value line in [slurm] (config_slurm.c). */
void config_slurm_key(struct config_parse *ps, const char *name,
		      const char *value);

#endif
