/* policy/config_priv.h: the inside of struct policy_config (the presets as
 * the files describe them, the admin's [limits], the files read) and the
 * helpers config.c lends to the other config_*.c files. Included by the
 * config_*.c files only; sched/ and the tests see policy/config.h. */
#ifndef POLICY_CONFIG_PRIV_H
#define POLICY_CONFIG_PRIV_H

#include <limits.h>
#include <stddef.h>

#include "policy/config.h"
#include "policy/presets.h"

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

/* The admin's [limits], each with where it was set. */
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

/* The agent's [agent] section (system files only), each with its origin. */
struct config_agent {
	char admins[256];		/* group names as written; "" = none */
	struct policy_origin admins_origin;
	int tick_ms;			/* 0 = the agent's default */
	struct policy_origin tick_origin;
	char dash_host[48];		/* numeric loopback address; "" = off */
	int dash_port;
	struct policy_origin dash_origin;
	int set_in[3];			/* parse that set admins, tick_ms,
					 * dashboard */
};

/* What struct policy_config (opaque in config.h) holds. */
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
	struct config_agent agent;
	struct policy_slurm slurm;	/* [slurm] (config_slurm.c) */
	struct policy_store store;	/* [store] (config_store.c) */
	int sealed;			/* system files done, limit preset taken */
	char sysdir[PATH_MAX];		/* SYSCONFDIR/nicely, for messages */
	int nerrors;
	char first_err[512];
	policy_config_report_fn report;
	void *report_arg;
};

/* Record a problem at file:line (file NULL for none, line 0 for the whole
 * file), keep the first as cfg's error and pass it to the report callback. */
__attribute__((format(printf, 4, 5))) void
config_error(struct policy_config *cfg, const char *file, int line,
	     const char *fmt, ...);
/* Find a preset by name, or NULL. */
struct config_preset *config_find(const struct policy_config *cfg,
				  const char *name);
/* Append a preset named name; returns its index or -ENOMEM. */
long config_add_preset(struct policy_config *cfg, const char *name);
/* Keep a copy of a file name that origins can point to (NULL: no memory). */
const char *config_intern(struct policy_config *cfg, const char *name);
/* Append formatted text to buf at *off, truncating quietly. */
__attribute__((format(printf, 4, 5))) void
config_append(char *buf, size_t len, size_t *off, const char *fmt, ...);
/* The known preset names, comma-separated, for error messages. */
void config_known(const struct policy_config *cfg, char *buf, size_t len);

#endif
