/* policy/presets: the five built-in presets (after DummyMP's priority
 * modes) and the knob table: parsing a config value into a preset, printing
 * it back, and clamping a preset to the admin's limit. Pure functions on
 * plain data; called by config.c while reading files and by the CLI. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/presets.h"

#define KB_PER_MB 1024ULL

static const struct policy_preset presets_builtins[] = {
	{
		.name = "generous",
		.description = "never disturbs anyone: only PUs others leave idle, "
			       "waits when none is free, pauses when others return",
		.idle_threshold = 0.10,
		.reserve_pus = 1,
		.reserve_min_pus = 2,
		.load_ceiling = 0.75,
		.pressure_ceiling = 10,
		.mem_floor_kb = 1024 * KB_PER_MB,
		.nice = 19,
		.weight = POLICY_WEIGHT_IDLE,
		.ramp_up = 1,
		.force_one = 0,
		.on_return = POLICY_REACT_PAUSE,
		.smt_avoid = 1,
		.placement = POLICY_PLACE_SPREAD,
		.interval_ms = 1000,
		.hysteresis_ms = 3000,
	},
	{
		.name = "normal",
		.description = "the default: PUs others leave idle, one kept free "
			       "on machines with more than 2, always at least one task",
		.idle_threshold = 0.25,
		.reserve_pus = 1,
		.reserve_min_pus = 2,
		.load_ceiling = 1.0,
		.pressure_ceiling = 25,
		.mem_floor_kb = 512 * KB_PER_MB,
		.nice = 19,
		.weight = POLICY_WEIGHT_IDLE,
		.ramp_up = 2,
		.force_one = 1,
		.on_return = POLICY_REACT_MOVE,
		.smt_avoid = 1,
		.placement = POLICY_PLACE_SPREAD,
		.interval_ms = 500,
		.hysteresis_ms = 2000,
	},
	{
		.name = "aggressive",
		.description = "PUs others use less than half of, nothing kept "
			       "in reserve, stays where it runs",
		.idle_threshold = 0.50,
		.load_ceiling = 1.5,
		.pressure_ceiling = 50,
		.mem_floor_kb = 256 * KB_PER_MB,
		.nice = 10,
		.weight = POLICY_WEIGHT_LOW,
		.ramp_up = 4,
		.force_one = 1,
		.on_return = POLICY_REACT_KEEP,
		.placement = POLICY_PLACE_SPREAD,
		.interval_ms = 500,
		.hysteresis_ms = 1000,
	},
	{
		.name = "extreme",
		.description = "PUs others use less than three quarters of, no load "
			       "ceiling, no ramp-up",
		.idle_threshold = 0.75,
		.load_ceiling = -1,
		.pressure_ceiling = 80,
		.mem_floor_kb = 128 * KB_PER_MB,
		.nice = 5,
		.weight = POLICY_WEIGHT_LOW,
		.force_one = 1,
		.on_return = POLICY_REACT_KEEP,
		.placement = POLICY_PLACE_SPREAD,
		.interval_ms = 250,
		.hysteresis_ms = 500,
	},
	{
		.name = "nuclear",
		.description = "every allowed PU at once, others ignored "
			       "(admins can forbid it with [limits])",
		.idle_threshold = 1.0,
		.load_ceiling = -1,
		.pressure_ceiling = -1,
		.nice = 0,
		.weight = POLICY_WEIGHT_NORMAL,
		.force_one = 1,
		.on_return = POLICY_REACT_KEEP,
		.placement = POLICY_PLACE_SPREAD,
		.interval_ms = 1000,
		.hysteresis_ms = 0,
		.ignore_others = 1,
	},
};

#define NBUILTIN (sizeof presets_builtins / sizeof presets_builtins[0])

static const char *const presets_names[PRESETS_NKNOBS] = {
	[PRESETS_DESCRIPTION] = "description",
	[PRESETS_IDLE_THRESHOLD] = "idle_threshold",
	[PRESETS_MAX_PUS] = "max_pus",
	[PRESETS_RESERVE_PUS] = "reserve_pus",
	[PRESETS_RESERVE_MIN_PUS] = "reserve_min_pus",
	[PRESETS_LOAD_CEILING] = "load_ceiling",
	[PRESETS_PRESSURE_CEILING] = "pressure_ceiling",
	[PRESETS_MEM_FLOOR] = "mem_floor",
	[PRESETS_NICE] = "nice",
	[PRESETS_CPU_WEIGHT] = "cpu_weight",
	[PRESETS_RAMP_UP] = "ramp_up",
	[PRESETS_FORCE_ONE] = "force_one",
	[PRESETS_ON_RETURN] = "on_return",
	[PRESETS_SMT_AVOID] = "smt_avoid",
	[PRESETS_PLACEMENT] = "placement",
	[PRESETS_INTERVAL] = "interval",
	[PRESETS_HYSTERESIS] = "hysteresis",
	[PRESETS_IGNORE_OTHERS] = "ignore_others",
	[PRESETS_MEMORY_MAX] = "memory_max",
};

static const char *const presets_accepts_text[PRESETS_NKNOBS] = {
	[PRESETS_DESCRIPTION] = "any text up to 159 characters",
	[PRESETS_IDLE_THRESHOLD] = "a share 0..1 or a percent 0%..100%",
	[PRESETS_MAX_PUS] = "a count 1..100000, a percent 1%..100% of the "
			    "allowed PUs, or none",
	[PRESETS_RESERVE_PUS] = "a count 0..100000",
	[PRESETS_RESERVE_MIN_PUS] = "a count 0..100000",
	[PRESETS_LOAD_CEILING] = "a load per allowed PU 0..1000, or off",
	[PRESETS_PRESSURE_CEILING] = "a percent 0..100 (PSI cpu some avg10), or off",
	[PRESETS_MEM_FLOOR] = "a size such as 512M or 2G (K, M, G, T), or off",
	[PRESETS_NICE] = "an integer 0..19",
	[PRESETS_CPU_WEIGHT] = "idle, low or normal",
	[PRESETS_RAMP_UP] = "starts per tick 1..100000, or 0 for no limit",
	[PRESETS_FORCE_ONE] = "yes or no",
	[PRESETS_ON_RETURN] = "keep, move, pause or stop",
	[PRESETS_SMT_AVOID] = "yes or no",
	[PRESETS_PLACEMENT] = "spread or compact",
	[PRESETS_INTERVAL] = "a duration 10ms..60s (500ms, 1s; a bare number "
			     "is milliseconds)",
	[PRESETS_HYSTERESIS] = "a duration 0..600s (2s, 500ms; a bare number "
			       "is milliseconds)",
	[PRESETS_IGNORE_OTHERS] = "yes or no",
	[PRESETS_MEMORY_MAX] = "a size such as 4G (K, M, G, T), or none",
};

static const char *const presets_weights[] = { "idle", "low", "normal" };
static const char *const presets_reactions[] = { "keep", "move", "pause", "stop" };
static const char *const presets_placements[] = { "spread", "compact" };

/* Number of built-in presets. */
size_t presets_builtin_count(void)
{
	return NBUILTIN;
}

/* The i-th built-in preset, or NULL past the end. */
const struct policy_preset *presets_builtin(size_t i)
{
	return i < NBUILTIN ? &presets_builtins[i] : NULL;
}

/* A built-in preset by name. */
const struct policy_preset *presets_find(const char *name)
{
	for (size_t i = 0; name && i < NBUILTIN; i++)
		if (!strcmp(presets_builtins[i].name, name))
			return &presets_builtins[i];
	return NULL;
}

/* The config-file name of knob k. */
const char *presets_knob_name(int k)
{
	return k >= 0 && k < PRESETS_NKNOBS ? presets_names[k] : "?";
}

/* The knob named key, or -1. */
int presets_knob_lookup(const char *key)
{
	for (int k = 0; key && k < PRESETS_NKNOBS; k++)
		if (!strcmp(presets_names[k], key))
			return k;
	return -1;
}

/* What knob k accepts. */
const char *presets_knob_accepts(int k)
{
	return k >= 0 && k < PRESETS_NKNOBS ? presets_accepts_text[k] : "";
}

/* 1 when name is 1-63 characters of [A-Za-z0-9_.-]. */
int presets_valid_name(const char *name)
{
	size_t n = 0;

	if (!name || !*name)
		return 0;
	for (const char *c = name; *c; c++, n++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' &&
		    *c != '.')
			return 0;
	return n < POLICY_NAME_MAX;
}

/* Parse a finite number that fills the whole string. */
static int presets_number(const char *s, double *out)
{
	char *end;
	double v;

	if (!*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v))
		return -1;
	if (!strncasecmp(s, "0x", 2) || strpbrk(s, "nN") || strpbrk(s, "iI"))
		return -1;	/* no hex, nan, inf */
	*out = v;
	return 0;
}

/* Parse an integer in [lo, hi] that fills the whole string. */
static int presets_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Index of s in a list of names, or -1. */
static int presets_enum(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcasecmp(s, names[i]))
			return i;
	return -1;
}

/* yes/no/true/false/on/off/1/0 -> 1/0, or -1. */
static int presets_bool(const char *s)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	if (presets_enum(s, yes, 4) >= 0)
		return 1;
	if (presets_enum(s, no, 4) >= 0)
		return 0;
	return -1;
}

/* A size with an optional binary suffix K/M/G/T (and an optional B/iB),
 * in bytes. Returns 0 or -1. */
static int presets_size(const char *s, uint64_t *bytes)
{
	char num[64];
	size_t n = strlen(s), i = 0;
	double v, mult = 1;

	if (n == 0 || n >= sizeof num)
		return -1;
	while (i < n && (isdigit((unsigned char)s[i]) || s[i] == '.'))
		i++;
	memcpy(num, s, i);
	num[i] = 0;
	if (presets_number(num, &v) < 0 || v < 0)
		return -1;
	const char *suf = s + i;
	if (*suf) {
		switch (toupper((unsigned char)*suf)) {
		case 'B': mult = 1; suf--; break;
		case 'K': mult = 1024.0; break;
		case 'M': mult = 1024.0 * 1024; break;
		case 'G': mult = 1024.0 * 1024 * 1024; break;
		case 'T': mult = 1024.0 * 1024 * 1024 * 1024; break;
		default: return -1;
		}
		suf++;
		if (!strcasecmp(suf, "ib"))
			suf += 2;
		else if (!strcasecmp(suf, "b"))
			suf += 1;
		if (*suf)
			return -1;
	}
	v *= mult;
	if (v > 1e18)
		return -1;
	*bytes = (uint64_t)v;
	return 0;
}

/* A duration in milliseconds: "500", "500ms", "2s", "1.5s", "1m". */
static int presets_duration(const char *s, double *ms)
{
	char num[64];
	size_t n = strlen(s), i = 0;
	double v, mult = 1;

	if (n == 0 || n >= sizeof num)
		return -1;
	while (i < n && (isdigit((unsigned char)s[i]) || s[i] == '.'))
		i++;
	memcpy(num, s, i);
	num[i] = 0;
	if (presets_number(num, &v) < 0 || v < 0)
		return -1;
	if (!s[i] || !strcmp(s + i, "ms"))
		mult = 1;
	else if (!strcmp(s + i, "s"))
		mult = 1000;
	else if (!strcmp(s + i, "m") || !strcmp(s + i, "min"))
		mult = 60000;
	else
		return -1;
	*ms = v * mult;
	return 0;
}

/* Parse value into knob k of p; see presets.h. */
int presets_knob_parse(struct policy_preset *p, int k, const char *value,
		       char *err, size_t errlen)
{
	struct policy_preset q = *p;
	const char *why = NULL;
	double d;
	long l;
	int b;
	uint64_t sz;
	size_t vlen = strlen(value);

	switch (k) {
	case PRESETS_DESCRIPTION:
		if (vlen >= sizeof q.description)
			why = "too long";
		else
			memcpy(q.description, value, vlen + 1);
		break;
	case PRESETS_IDLE_THRESHOLD:
		if (vlen && value[vlen - 1] == '%') {
			char num[64];
			if (vlen >= sizeof num) {
				why = "not a number";
				break;
			}
			memcpy(num, value, vlen - 1);
			num[vlen - 1] = 0;
			if (presets_number(num, &d) < 0)
				why = "not a number";
			else if (d > 100)
				why = "percent over 100";
			else if (d < 0)
				why = "negative";
			else
				q.idle_threshold = d / 100;
		} else if (presets_number(value, &d) < 0) {
			why = "not a number";
		} else if (d < 0 || d > 1) {
			why = "out of range";
		} else {
			q.idle_threshold = d;
		}
		break;
	case PRESETS_MAX_PUS:
		if (!strcasecmp(value, "none") || !strcasecmp(value, "all") ||
		    !strcmp(value, "0")) {
			q.max_pus = 0;
			q.max_pus_pct = 0;
		} else if (vlen && value[vlen - 1] == '%') {
			char num[64];
			if (vlen >= sizeof num) {
				why = "not a number";
				break;
			}
			memcpy(num, value, vlen - 1);
			num[vlen - 1] = 0;
			if (presets_number(num, &d) < 0)
				why = "not a number";
			else if (d > 100)
				why = "percent over 100";
			else if (d <= 0)
				why = "percent must be above 0";
			else {
				q.max_pus_pct = d;
				q.max_pus = 0;
			}
		} else if (presets_int(value, 1, 100000, &l) < 0) {
			why = "not a count";
		} else {
			q.max_pus = (int)l;
			q.max_pus_pct = 0;
		}
		break;
	case PRESETS_RESERVE_PUS:
	case PRESETS_RESERVE_MIN_PUS:
		if (presets_int(value, 0, 100000, &l) < 0)
			why = "not a count in range";
		else if (k == PRESETS_RESERVE_PUS)
			q.reserve_pus = (int)l;
		else
			q.reserve_min_pus = (int)l;
		break;
	case PRESETS_LOAD_CEILING:
	case PRESETS_PRESSURE_CEILING: {
		double hi = k == PRESETS_LOAD_CEILING ? 1000 : 100;
		if (presets_bool(value) == 0 && strcmp(value, "0")) {
			d = -1;	/* "off", "no", "false" */
		} else if (presets_number(value, &d) < 0) {
			why = "not a number";
			break;
		} else if (d < 0) {
			why = "negative";
			break;
		} else if (d > hi) {
			why = k == PRESETS_PRESSURE_CEILING ? "percent over 100"
							     : "out of range";
			break;
		}
		if (k == PRESETS_LOAD_CEILING)
			q.load_ceiling = d;
		else
			q.pressure_ceiling = d;
		break;
	}
	case PRESETS_MEM_FLOOR:
	case PRESETS_MEMORY_MAX:
		if (!strcasecmp(value, "off") || !strcasecmp(value, "none"))
			sz = 0;
		else if (presets_size(value, &sz) < 0) {
			why = "not a size";
			break;
		}
		if (k == PRESETS_MEM_FLOOR && sz > 0 && sz < 1024) {
			/* kept in kB: rounding down would turn the floor off */
			why = "below 1K (a bare number is bytes)";
			break;
		}
		if (k == PRESETS_MEM_FLOOR)
			q.mem_floor_kb = sz / 1024;
		else
			q.memory_max = sz;
		break;
	case PRESETS_NICE:
		if (presets_int(value, 0, 19, &l) < 0)
			why = "not an integer in range";
		else
			q.nice = (int)l;
		break;
	case PRESETS_CPU_WEIGHT:
		b = presets_enum(value, presets_weights, 3);
		if (b < 0)
			why = "unknown weight class";
		else
			q.weight = (enum policy_weight)b;
		break;
	case PRESETS_RAMP_UP:
		if (presets_int(value, 0, 100000, &l) < 0)
			why = "not a count in range";
		else
			q.ramp_up = (int)l;
		break;
	case PRESETS_FORCE_ONE:
	case PRESETS_SMT_AVOID:
	case PRESETS_IGNORE_OTHERS:
		b = presets_bool(value);
		if (b < 0)
			why = "not yes or no";
		else if (k == PRESETS_FORCE_ONE)
			q.force_one = b;
		else if (k == PRESETS_SMT_AVOID)
			q.smt_avoid = b;
		else
			q.ignore_others = b;
		break;
	case PRESETS_ON_RETURN:
		b = presets_enum(value, presets_reactions, 4);
		if (b < 0)
			why = "unknown reaction";
		else
			q.on_return = (enum policy_reaction)b;
		break;
	case PRESETS_PLACEMENT:
		b = presets_enum(value, presets_placements, 2);
		if (b < 0)
			why = "unknown placement";
		else
			q.placement = (enum policy_placement)b;
		break;
	case PRESETS_INTERVAL:
	case PRESETS_HYSTERESIS:
		if (presets_duration(value, &d) < 0) {
			why = "not a duration";
		} else if (k == PRESETS_INTERVAL) {
			if (d < 10 || d > 60000)
				why = "out of range";
			else
				q.interval_ms = (int)d;
		} else {
			if (d > 600000)
				why = "out of range";
			else
				q.hysteresis_ms = (int)d;
		}
		break;
	default:
		snprintf(err, errlen, "unknown knob");
		return -EINVAL;
	}
	if (why) {
		snprintf(err, errlen, "bad value '%.60s' for %s: %s (accepted: %s)",
			 value, presets_names[k], why, presets_accepts_text[k]);
		return -EINVAL;
	}
	*p = q;
	return 0;
}

/* A size in bytes as the largest exact binary unit ("512M"). */
static void presets_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (u < 3 && bytes >= 1024 && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)bytes, units[u]);
}

/* A duration in ms, in seconds when whole. */
static void presets_format_ms(int ms, char *buf, size_t len)
{
	if (ms > 0 && ms % 1000 == 0)
		snprintf(buf, len, "%ds", ms / 1000);
	else
		snprintf(buf, len, "%dms", ms);
}

/* Knob k of p spelled as a config value. */
void presets_knob_format(const struct policy_preset *p, int k, char *buf,
			 size_t len)
{
	switch (k) {
	case PRESETS_DESCRIPTION:
		snprintf(buf, len, "%s", p->description);
		break;
	case PRESETS_IDLE_THRESHOLD:
		snprintf(buf, len, "%g%%", p->idle_threshold * 100);
		break;
	case PRESETS_MAX_PUS:
		if (p->max_pus > 0)
			snprintf(buf, len, "%d", p->max_pus);
		else if (p->max_pus_pct > 0)
			snprintf(buf, len, "%g%%", p->max_pus_pct);
		else
			snprintf(buf, len, "none");
		break;
	case PRESETS_RESERVE_PUS:
		snprintf(buf, len, "%d", p->reserve_pus);
		break;
	case PRESETS_RESERVE_MIN_PUS:
		snprintf(buf, len, "%d", p->reserve_min_pus);
		break;
	case PRESETS_LOAD_CEILING:
		if (p->load_ceiling < 0)
			snprintf(buf, len, "off");
		else
			snprintf(buf, len, "%g", p->load_ceiling);
		break;
	case PRESETS_PRESSURE_CEILING:
		if (p->pressure_ceiling < 0)
			snprintf(buf, len, "off");
		else
			snprintf(buf, len, "%g", p->pressure_ceiling);
		break;
	case PRESETS_MEM_FLOOR:
		if (!p->mem_floor_kb)
			snprintf(buf, len, "off");
		else
			presets_format_size(p->mem_floor_kb * 1024, buf, len);
		break;
	case PRESETS_NICE:
		snprintf(buf, len, "%d", p->nice);
		break;
	case PRESETS_CPU_WEIGHT:
		snprintf(buf, len, "%s", presets_weights[p->weight % 3]);
		break;
	case PRESETS_RAMP_UP:
		snprintf(buf, len, "%d", p->ramp_up);
		break;
	case PRESETS_FORCE_ONE:
		snprintf(buf, len, "%s", p->force_one ? "yes" : "no");
		break;
	case PRESETS_ON_RETURN:
		snprintf(buf, len, "%s", presets_reactions[p->on_return % 4]);
		break;
	case PRESETS_SMT_AVOID:
		snprintf(buf, len, "%s", p->smt_avoid ? "yes" : "no");
		break;
	case PRESETS_PLACEMENT:
		snprintf(buf, len, "%s", presets_placements[p->placement % 2]);
		break;
	case PRESETS_INTERVAL:
		presets_format_ms(p->interval_ms, buf, len);
		break;
	case PRESETS_HYSTERESIS:
		presets_format_ms(p->hysteresis_ms, buf, len);
		break;
	case PRESETS_IGNORE_OTHERS:
		snprintf(buf, len, "%s", p->ignore_others ? "yes" : "no");
		break;
	case PRESETS_MEMORY_MAX:
		if (!p->memory_max)
			snprintf(buf, len, "none");
		else
			presets_format_size(p->memory_max, buf, len);
		break;
	default:
		snprintf(buf, len, "?");
	}
}

/* Clamp an "upper cap where 0 = no cap" field to lim's cap. */
static int presets_clamp_cap_int(int *v, int lim)
{
	if (lim > 0 && (*v == 0 || *v > lim)) {
		*v = lim;
		return 1;
	}
	return 0;
}

/* Clamp a ceiling where < 0 = off to lim's ceiling. */
static int presets_clamp_ceiling(double *v, double lim)
{
	if (lim >= 0 && (*v < 0 || *v > lim)) {
		*v = lim;
		return 1;
	}
	return 0;
}

/* Make p at most as aggressive as lim; see presets.h. */
unsigned presets_clamp(struct policy_preset *p, const struct policy_preset *lim)
{
	unsigned m = 0;

	if (p->idle_threshold > lim->idle_threshold) {
		p->idle_threshold = lim->idle_threshold;
		m |= 1u << PRESETS_IDLE_THRESHOLD;
	}
	if (presets_clamp_cap_int(&p->max_pus, lim->max_pus))
		m |= 1u << PRESETS_MAX_PUS;
	if (lim->max_pus_pct > 0 &&
	    (p->max_pus_pct == 0 || p->max_pus_pct > lim->max_pus_pct)) {
		p->max_pus_pct = lim->max_pus_pct;
		m |= 1u << PRESETS_MAX_PUS;
	}
	if (p->reserve_pus < lim->reserve_pus) {
		p->reserve_pus = lim->reserve_pus;
		m |= 1u << PRESETS_RESERVE_PUS;
	}
	if (lim->reserve_pus > 0 && p->reserve_min_pus > lim->reserve_min_pus) {
		p->reserve_min_pus = lim->reserve_min_pus;
		m |= 1u << PRESETS_RESERVE_MIN_PUS;
	}
	if (presets_clamp_ceiling(&p->load_ceiling, lim->load_ceiling))
		m |= 1u << PRESETS_LOAD_CEILING;
	if (presets_clamp_ceiling(&p->pressure_ceiling, lim->pressure_ceiling))
		m |= 1u << PRESETS_PRESSURE_CEILING;
	if (p->mem_floor_kb < lim->mem_floor_kb) {
		p->mem_floor_kb = lim->mem_floor_kb;
		m |= 1u << PRESETS_MEM_FLOOR;
	}
	if (p->nice < lim->nice) {
		p->nice = lim->nice;
		m |= 1u << PRESETS_NICE;
	}
	if (p->weight > lim->weight) {
		p->weight = lim->weight;
		m |= 1u << PRESETS_CPU_WEIGHT;
	}
	if (presets_clamp_cap_int(&p->ramp_up, lim->ramp_up))
		m |= 1u << PRESETS_RAMP_UP;
	if (p->force_one && !lim->force_one) {
		p->force_one = 0;
		m |= 1u << PRESETS_FORCE_ONE;
	}
	/* keep < move < pause, stop: how soon others get their PU back */
	if (p->on_return < lim->on_return) {
		p->on_return = lim->on_return;
		m |= 1u << PRESETS_ON_RETURN;
	}
	if (!p->smt_avoid && lim->smt_avoid) {
		p->smt_avoid = 1;
		m |= 1u << PRESETS_SMT_AVOID;
	}
	/* sampling more often than the limit costs everyone CPU */
	if (p->interval_ms < lim->interval_ms) {
		p->interval_ms = lim->interval_ms;
		m |= 1u << PRESETS_INTERVAL;
	}
	if (p->ignore_others && !lim->ignore_others) {
		p->ignore_others = 0;
		m |= 1u << PRESETS_IGNORE_OTHERS;
	}
	if (lim->memory_max > 0 &&
	    (p->memory_max == 0 || p->memory_max > lim->memory_max)) {
		p->memory_max = lim->memory_max;
		m |= 1u << PRESETS_MEMORY_MAX;
	}
	return m;
}

/* Copy knob k from src to dst. */
void presets_knob_copy(struct policy_preset *dst, const struct policy_preset *src,
		       int k)
{
	switch (k) {
	case PRESETS_DESCRIPTION:
		memcpy(dst->description, src->description, sizeof dst->description);
		break;
	case PRESETS_IDLE_THRESHOLD: dst->idle_threshold = src->idle_threshold; break;
	case PRESETS_MAX_PUS:
		dst->max_pus = src->max_pus;
		dst->max_pus_pct = src->max_pus_pct;
		break;
	case PRESETS_RESERVE_PUS: dst->reserve_pus = src->reserve_pus; break;
	case PRESETS_RESERVE_MIN_PUS: dst->reserve_min_pus = src->reserve_min_pus; break;
	case PRESETS_LOAD_CEILING: dst->load_ceiling = src->load_ceiling; break;
	case PRESETS_PRESSURE_CEILING: dst->pressure_ceiling = src->pressure_ceiling; break;
	case PRESETS_MEM_FLOOR: dst->mem_floor_kb = src->mem_floor_kb; break;
	case PRESETS_NICE: dst->nice = src->nice; break;
	case PRESETS_CPU_WEIGHT: dst->weight = src->weight; break;
	case PRESETS_RAMP_UP: dst->ramp_up = src->ramp_up; break;
	case PRESETS_FORCE_ONE: dst->force_one = src->force_one; break;
	case PRESETS_ON_RETURN: dst->on_return = src->on_return; break;
	case PRESETS_SMT_AVOID: dst->smt_avoid = src->smt_avoid; break;
	case PRESETS_PLACEMENT: dst->placement = src->placement; break;
	case PRESETS_INTERVAL: dst->interval_ms = src->interval_ms; break;
	case PRESETS_HYSTERESIS: dst->hysteresis_ms = src->hysteresis_ms; break;
	case PRESETS_IGNORE_OTHERS: dst->ignore_others = src->ignore_others; break;
	case PRESETS_MEMORY_MAX: dst->memory_max = src->memory_max; break;
	default: break;
	}
}
