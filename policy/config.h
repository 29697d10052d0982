/* policy/config: presets from built-ins and INI files (libinih), in the
 * documented order, with the file:line every value came from, and the
 * [limits] an admin sets in /etc. Called once at start (and on reset) by
 * the CLI and the library; never from a worker. */
#ifndef POLICY_CONFIG_H
#define POLICY_CONFIG_H

#include <stddef.h>

#include "policy/preset.h"

struct policy_config;

struct policy_config_opts {
	const char *sysconfdir;	/* NULL: $NICELY_SYSCONFDIR, else /etc */
	const char *user_file;	/* NULL: $XDG_CONFIG_HOME/nicely/nicely.conf */
	const char *extra_file;	/* NULL: $NICELY_CONFIG; read last */
	int no_user;		/* skip the user's file (check-config of /etc) */
};

/* What the command line (or library options) asks for on top of a preset.
 * Fields left at their _INIT values change nothing. */
struct policy_flags {
	const char *preset;	/* NULL: the configured default */
	int jobs;		/* cap on workers, 0 = none */
	int nice;		/* -1 = the preset's */
	int insist;		/* 1: a flag beyond [limits] is an error, not a warning */
};
#define POLICY_FLAGS_INIT { NULL, 0, -1, 1 }

/* Read every config file in order. Returns 0, or a negative errno with
 * "file:line: message" in err; on error nothing is returned in *out. */
int policy_config_load(struct policy_config **out,
		       const struct policy_config_opts *opts, char *err,
		       size_t errlen);
void policy_config_free(struct policy_config *cfg);

/* The effective preset: the named (or default) preset with the flags and
 * the admin's [limits] applied. A clamp that is not an error is reported
 * once in warn (empty when none). Returns 0 or negative errno with err set. */
int policy_config_resolve(const struct policy_config *cfg,
			  const struct policy_flags *flags,
			  struct policy_preset *out, char *warn, size_t warnlen,
			  char *err, size_t errlen);

#endif
