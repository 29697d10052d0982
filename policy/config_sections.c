/* policy/config_sections: what each line of a config file means once the
 * reader (config_read.c) has it: a header opens [defaults], [limits] or
 * [agent] (both only in the system files) or [preset NAME]; a key = value
 * line sets the default preset, a limit, an agent setting, a preset's base
 * or one of its knobs (parsed by presets.c's knob table), each remembering
 * its file:line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "policy/config_sections.h"
#include "policy/presets.h"

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
void config_open_section(struct config_parse *ps, char *name)
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
	} else if (!strcmp(name, "agent")) {
		if (!ps->system) {
			config_error(cfg, ps->file, ps->line,
				     "[agent] is honoured only in the system "
				     "files (%s/nicely.conf and presets.d/); "
				     "remove it from this file",
				     cfg->sysdir);
			return;
		}
		ps->sec = SEC_AGENT;
	} else if (!strcmp(name, "slurm")) {
		ps->sec = SEC_SLURM;	/* `nicely run --on slurm` */
	} else if (!strcmp(name, "store")) {
		ps->sec = SEC_STORE;	/* `nicely submit`'s batch store */
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
			     "[limits], [agent], [preset NAME], [slurm], [store])",
			     name);
	}
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

/* 1 when s is a list of group names (letters, digits, '_', '-', '.',
 * separated by commas and/or blanks). */
static int config_group_list(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("_-., \t", *s)))
			return 0;
	return 1;
}

/* dashboard = HOST:PORT (or off) into ag: HOST a loopback address only
 * (127.0.0.0/8, [::1] or localhost), PORT 1..65535. 0, or -1 with an
 * error naming the line. */
static int config_dashboard(struct config_parse *ps, struct config_agent *ag,
			    const char *value)
{
	char host[48];
	const char *colon = strrchr(value, ':');
	struct in6_addr a6;
	struct in_addr a4;
	char *end;
	long port;
	size_t hl;

	if (!strcmp(value, "off") || !*value) {
		ag->dash_host[0] = 0;
		ag->dash_port = 0;
		return 0;
	}
	hl = colon ? (size_t)(colon - value) : 0;
	if (!colon || hl == 0 || hl >= sizeof host)
		goto bad;
	memcpy(host, value, hl);
	host[hl] = 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 1 || port > 65535)
		goto bad;
	if (host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = 0;
		if (inet_pton(AF_INET6, host, &a6) != 1)
			goto bad;
		if (!IN6_IS_ADDR_LOOPBACK(&a6))
			goto remote;
	} else if (!strcmp(host, "localhost")) {
		snprintf(host, sizeof host, "127.0.0.1");
	} else if (inet_pton(AF_INET, host, &a4) == 1) {
		if ((ntohl(a4.s_addr) >> 24) != 127)
			goto remote;
	} else {
		goto bad;
	}
	snprintf(ag->dash_host, sizeof ag->dash_host, "%s", host);
	ag->dash_port = (int)port;
	return 0;
bad:
	config_error(ps->cfg, ps->file, ps->line,
		     "bad value '%.64s' for dashboard (accepted: off, or "
		     "ADDRESS:PORT on the loopback: 127.0.0.1:8080, "
		     "[::1]:8080, localhost:8080; PORT 1..65535)", value);
	return -1;
remote:
	config_error(ps->cfg, ps->file, ps->line,
		     "dashboard address '%.64s' is not a loopback address: "
		     "the dashboard is served on this machine only "
		     "(127.0.0.0/8, [::1] or localhost)", value);
	return -1;
}

/* A key = value line in [agent]: admins (group names), tick_ms,
 * dashboard. */
static void config_agent_key(struct config_parse *ps, const char *name,
			     const char *value)
{
	struct policy_config *cfg = ps->cfg;
	struct config_agent *ag = &cfg->agent;
	struct policy_origin here = { ps->file, ps->line };

	if (!strcmp(name, "admins")) {
		if (config_twice(ps, ag->set_in[0], &ag->admins_origin, name,
				 "agent"))
			return;
		if (strlen(value) >= sizeof ag->admins ||
		    !config_group_list(value)) {
			config_error(cfg, ps->file, ps->line,
				     "bad value '%.64s' for admins (accepted: "
				     "group names separated by commas or "
				     "spaces, at most %zu bytes)",
				     value, sizeof ag->admins - 1);
			return;
		}
		snprintf(ag->admins, sizeof ag->admins, "%s", value);
		ag->admins_origin = here;
		ag->set_in[0] = cfg->nparses;
	} else if (!strcmp(name, "tick_ms")) {
		char *end;
		long v;

		if (config_twice(ps, ag->set_in[1], &ag->tick_origin, name,
				 "agent"))
			return;
		errno = 0;
		v = strtol(value, &end, 10);
		if (errno || end == value || *end || v < 50 || v > 10000) {
			config_error(cfg, ps->file, ps->line,
				     "bad value '%.64s' for tick_ms (accepted: "
				     "50..10000 milliseconds)", value);
			return;
		}
		ag->tick_ms = (int)v;
		ag->tick_origin = here;
		ag->set_in[1] = cfg->nparses;
	} else if (!strcmp(name, "dashboard")) {
		if (config_twice(ps, ag->set_in[2], &ag->dash_origin, name,
				 "agent"))
			return;
		if (config_dashboard(ps, ag, value) < 0)
			return;
		ag->dash_origin = here;
		ag->set_in[2] = cfg->nparses;
	} else {
		config_error(cfg, ps->file, ps->line,
			     "unknown key '%.64s' in [agent] (accepted: "
			     "admins, tick_ms, dashboard)", name);
	}
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
			     "[defaults], [limits], [agent], [preset NAME])",
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
	case SEC_AGENT:
		config_agent_key(ps, name, value);
		return;
	case SEC_SLURM:
		config_slurm_key(ps, name, value);
		return;
	case SEC_STORE:
		config_store_key(ps, name, value);
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
int config_handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct config_parse *ps = user;
	int before = ps->cfg->nerrors;

	(void)section;	/* the reader tracks sections itself */
	config_key(ps, name, value);
	ps->errors += ps->cfg->nerrors - before;
	return 1;
}
