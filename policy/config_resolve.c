/* policy/config_resolve: the preset a batch runs with: the named (or
 * default) preset with the command line's flags and the admin's [limits]
 * applied (policy_config_resolve), and the [limits] as callers read them:
 * the per-user PU limit sched/lease.c shares out, and one line for
 * `nicely presets`. Called at start and on reset; never from a worker. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "policy/config_priv.h"

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

/* The [agent] section. */
void policy_config_agent(const struct policy_config *cfg,
			 struct policy_agent_conf *out)
{
	out->admins = cfg->agent.admins;
	out->admins_origin = cfg->agent.admins_origin;
	out->tick_ms = cfg->agent.tick_ms;
	out->dashboard_host = cfg->agent.dash_host;
	out->dashboard_port = cfg->agent.dash_port;
	out->dashboard_origin = cfg->agent.dash_origin;
}

/* What the agent fences a batch's group with. */
void policy_config_fence(const struct policy_config *cfg,
			 struct policy_fence *out)
{
	const struct config_limits *lim = &cfg->lim;

	out->max_weight = lim->have_limit ? lim->limit.weight
					  : POLICY_WEIGHT_NORMAL;
	out->min_nice = lim->min_nice;
	if (lim->have_limit && lim->limit.nice > out->min_nice)
		out->min_nice = lim->limit.nice;
}
