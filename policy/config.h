/* policy/config: presets from built-ins and INI files (libinih), in the
 * documented order, with the file:line every value came from, and the
 * [limits] an admin sets in /etc. Called once at start (and on reset) by
 * the CLI and the library; never from a worker. The module's one public
 * header; its files: config.c (the object, accessors, origins),
 * config_read.c (the files in order, the line-counting reader),
 * config_sections.c (what each section's keys set), config_bases.c (base
 * chains, the limit preset, finish) and config_resolve.c (flags and
 * [limits] on a preset, the per-user limit). */
#ifndef POLICY_CONFIG_H
#define POLICY_CONFIG_H

#include <stddef.h>

#include "policy/preset.h"

struct policy_config;

/* A problem found while reading: file NULL for none, line 0 for the whole
 * file. Called for every problem (errors and warnings) as it is found. */
typedef void (*policy_config_report_fn)(void *arg, const char *file, int line,
					const char *msg);

struct policy_config_opts {
	const char *sysconfdir;	/* NULL: $NICELY_SYSCONFDIR, else /etc */
	const char *user_file;	/* NULL: $XDG_CONFIG_HOME/nicely/nicely.conf */
	const char *extra_file;	/* NULL: $NICELY_CONFIG; read last */
	int no_user;		/* skip the user's file (check-config of /etc) */
	/* Added for check-config; zero-initialised fields change nothing. */
	const char *const *files; /* nfiles > 0: read these after the system
				   * files instead of the user's and NICELY_CONFIG */
	size_t nfiles;
	int files_system;	/* treat files as system files ([limits] allowed) */
	policy_config_report_fn report; /* NULL: only the first error, in err */
	void *report_arg;
};

/* Where a value came from: file NULL means built-in. */
struct policy_origin {
	const char *file;
	int line;
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

/* Read every config file in order: built-ins, SYSCONFDIR/nicely/
 * nicely.conf, SYSCONFDIR/nicely/presets.d/ *.conf in byte order of names,
 * then the user's file (missing is fine) and NICELY_CONFIG (missing is an
 * error); or, with opts->files, the system files then those files. Every
 * problem goes to opts->report. Returns 0, or -EINVAL with the first
 * "file:line: message" in err; on error nothing is returned in *out. The
 * caller frees *out with policy_config_free. */
int policy_config_load(struct policy_config **out,
		       const struct policy_config_opts *opts, char *err,
		       size_t errlen);
void policy_config_free(struct policy_config *cfg);

/* The effective preset: the named (or default) preset with the flags and
 * the admin's [limits] applied. A clamp that is not an error is reported
 * once in warn (empty when none). Returns 0 or negative errno with err set.
 * - A preset beyond max_preset is clamped knob by knob (presets_clamp) to
 *   the limit preset as the system files define it; when flags->preset
 *   named it and flags->insist is set, that is -EPERM instead.
 * - flags->nice below min_nice (or the limit preset's nice), flags->jobs
 *   above [limits] max_pus (a per-user limit, so above it for one batch
 *   alone): -EPERM with insist, else clamped with a warning.
 * - A preset's own nice below min_nice is raised with a warning; [limits]
 *   max_pus caps every preset silently.
 * - flags->jobs caps max_pus; flags->nice replaces the preset's nice.
 * - Unknown preset: -ENOENT naming the known ones. */
int policy_config_resolve(const struct policy_config *cfg,
			  const struct policy_flags *flags,
			  struct policy_preset *out, char *warn, size_t warnlen,
			  char *err, size_t errlen);

/* The admin's per-user cap, [limits] max_pus: the PUs all of one user's
 * batches (CLI and libnicely) may hold at once. sched/lease.c shares it
 * out between the batches; it also caps each batch on its own. */
struct policy_user_limit {
	int max_pus;		/* a count, 0 = none */
	double max_pus_pct;	/* a percent of the allowed PUs, 0 = none */
	struct policy_origin origin;	/* where it was set */
};
/* The per-user limit of the system files (both 0: none). */
void policy_config_user_limit(const struct policy_config *cfg,
			      struct policy_user_limit *out);
/* The limit as a PU count on a machine where nallowed PUs are allowed (a
 * percent gives at least 1); 0 when there is no limit. */
int policy_user_limit_pus(const struct policy_user_limit *l, int nallowed);

/* The system config's [agent] section, for nicely-agent. */
struct policy_agent_conf {
	const char *admins;	/* group names ("a, b c"), "" = none; lives
				 * as long as the config */
	struct policy_origin admins_origin;
	int tick_ms;		/* 0 = the agent's default */
	/* dashboard = HOST:PORT: the web dashboard's loopback address
	 * (numeric: "127.0.0.1", "::1"), "" when off (the default) */
	const char *dashboard_host;
	int dashboard_port;
	struct policy_origin dashboard_origin;
};
void policy_config_agent(const struct policy_config *cfg,
			 struct policy_agent_conf *out);
/* The [limits] the agent enforces on a batch's group: the most demanding
 * weight class allowed (max_preset's cpu_weight; NORMAL when there is no
 * max_preset) and min_nice (-1: none; max_preset's nice counts too). */
struct policy_fence {
	enum policy_weight max_weight;
	int min_nice;
};
void policy_config_fence(const struct policy_config *cfg,
			 struct policy_fence *out);
/* [slurm]: where `nicely run --on slurm` sends a batch (any config file;
 * a later file's key replaces an earlier one's). Empty strings: not set. */
struct policy_slurm {
	char partition[128];	/* sbatch --partition */
	char account[128];	/* sbatch --account */
	char time[64];		/* sbatch --time (Slurm's formats) */
	char options[1024];	/* more sbatch options, split at blanks */
	char dir[4096];		/* batch directories go under it (shared FS) */
	struct policy_origin partition_origin, account_origin, time_origin,
		options_origin, dir_origin;
};
/* The [slurm] section as read (policy/config_slurm.c). */
void policy_config_slurm(const struct policy_config *cfg,
			 struct policy_slurm *out);

/* [store]: the batch store of `nicely submit` (any config file; a later
 * file's key replaces an earlier one's). */
struct policy_store {
	double keep_s;		/* finished batches older are deleted; 0 =
				 * kept until `nicely rm` */
	struct policy_origin keep_origin;
};
/* The [store] section as read (policy/config_store.c). */
void policy_config_store(const struct policy_config *cfg,
			 struct policy_store *out);

/* Lower-level steps of policy_config_load, used by tests and the fuzz
 * target to parse buffers through the same code as files. System buffers
 * (where [limits] is honoured) must all come before user ones. */
int policy_config_new(struct policy_config **out);
void policy_config_set_report(struct policy_config *cfg,
			      policy_config_report_fn fn, void *arg);
/* Parse one file's contents, named `name` in messages. Returns the number
 * of errors found in it (0 = fine). */
int policy_config_parse(struct policy_config *cfg, const char *name,
			const char *buf, size_t len, int system);
/* Read and parse one file; a missing file is an error unless optional. */
int policy_config_parse_file(struct policy_config *cfg, const char *path,
			     int system, int optional);
/* Resolve bases and check cross references. Returns the total number of
 * errors; the first one is copied to err. */
int policy_config_finish(struct policy_config *cfg, char *err, size_t errlen);

/* The presets known (built-ins first, then config-defined ones in the order
 * they first appear), for `nicely presets`. */
size_t policy_config_npresets(const struct policy_config *cfg);
const char *policy_config_preset_name(const struct policy_config *cfg,
				      size_t i);
/* A preset's effective values (no flags, no limits) and, when origins is
 * not NULL, where each knob came from (PRESETS_NKNOBS entries, see
 * policy/presets.h). Returns 0 or -ENOENT. */
int policy_config_preset(const struct policy_config *cfg, const char *name,
			 struct policy_preset *out,
			 struct policy_origin *origins);
/* The default preset's name and where it was chosen. */
const char *policy_config_default(const struct policy_config *cfg,
				  struct policy_origin *origin);
/* The admin's [limits] in one line ("max_preset = aggressive (FILE:LINE),
 * ..."), or "none". */
void policy_config_describe_limits(const struct policy_config *cfg,
				   char *buf, size_t len);
/* Number of files read (existing ones) and the i-th file's path. */
size_t policy_config_nfiles(const struct policy_config *cfg);
const char *policy_config_file(const struct policy_config *cfg, size_t i);
/* "file:line" or "built-in". */
void policy_origin_format(const struct policy_origin *o, char *buf,
			  size_t len);

#endif
