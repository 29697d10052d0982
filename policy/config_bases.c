/* policy/config_bases: a preset's values through its chain of base =
 * presets (a built-in's own values, normal's for a new preset without a
 * base), with cycles and unknown bases reported at their file:line; the
 * limit preset sealed once the system files are read; and
 * policy_config_finish, which resolves every preset after the last file. */
#include <stdio.h>
#include <string.h>

#include "policy/builtins.h"
#include "policy/config_bases.h"

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
				: (q->builtin ? "" : BUILTINS_DEFAULT));
	}
}

/* Resolve preset p: its base's values (for a built-in without base, its
 * built-in values; for a new preset without base, normal's), then its own
 * knobs. Returns 0, -1 when it failed (reported), -2 when p is already
 * being resolved (a cycle, reported by the caller). */
static int config_bases_resolve(struct policy_config *cfg,
				struct config_preset *p)
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
		const char *bname = p->base[0] ? p->base : BUILTINS_DEFAULT;
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
		int r = config_bases_resolve(cfg, b);
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
					     cyc, p->name, BUILTINS_DEFAULT);
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
		p->eff = *builtins_find(p->name);
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
void config_unresolve(struct policy_config *cfg)
{
	for (size_t i = 0; i < cfg->npresets; i++)
		cfg->presets[i].state = 0;
}

/* The system files are done: take the limit preset's values as they stand
 * now, so that a user's file redefining that preset changes nothing. */
void config_seal(struct policy_config *cfg)
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
			 BUILTINS_DEFAULT);
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
	int r = config_bases_resolve(cfg, p);
	cfg->report = fn;
	cfg->nerrors = nerr;
	memcpy(cfg->first_err, first, sizeof first);
	if (r == 0) {
		lim->limit = p->eff;
		lim->have_limit = 1;
	}
	config_unresolve(cfg);
}

/* Resolve everything and check cross references; see config.h. */
int policy_config_finish(struct policy_config *cfg, char *err, size_t errlen)
{
	char known[256];

	config_seal(cfg);
	config_unresolve(cfg);
	for (size_t i = 0; i < cfg->npresets; i++)
		config_bases_resolve(cfg, &cfg->presets[i]);
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
