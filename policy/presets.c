/* policy/presets: the knob table, one row per knob, and what reads it:
 * parsing a config value into a preset, printing it back, copying it and
 * clamping a preset to the admin's limit all read a knob's row, never a
 * switch on knobs. Pure functions on plain data; called by config_*.c
 * while reading files and by the CLI. The built-in presets are builtins.c. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/presets.h"

/* A field of struct policy_preset, for a row of the table. */
#define KNOB_FIELD(f)                                                        \
	.offset = offsetof(struct policy_preset, f),                         \
	.size = sizeof(((struct policy_preset *)0)->f)
/* A NULL-ended list of words. */
#define KNOB_WORDS(...) (const char *const[]){ __VA_ARGS__, NULL }

/* The knobs: one row each, in enum presets_knob_id order. Parsing,
 * printing, copying, clamping to [limits] and the messages of check-config
 * read these rows; tests/manpages.t checks nicely.conf(5) against them
 * through `nicely presets --knobs`. */
static const struct presets_knob presets_knobs[PRESETS_NKNOBS] = {
	[PRESETS_DESCRIPTION] = {
		.name = "description", .type = PRESETS_TEXT,
		KNOB_FIELD(description),
		.accepts = "any text up to 159 characters",
		.help = "one line that nicely presets shows",
	},
	[PRESETS_IDLE_THRESHOLD] = {
		.name = "idle_threshold", .type = PRESETS_SHARE,
		KNOB_FIELD(idle_threshold), .lo = 0, .hi = 1,
		.politer = PRESETS_LOWER,
		.accepts = "a share 0..1 or a percent 0%..100%",
		.help = "a PU is free when others use less than this share of it",
	},
	[PRESETS_MAX_PUS] = {
		.name = "max_pus", .type = PRESETS_PUS,
		KNOB_FIELD(max_pus), .lo = 1, .hi = 100000,
		.offset2 = offsetof(struct policy_preset, max_pus_pct),
		.words = KNOB_WORDS("none", "all", "0"),
		.politer = PRESETS_CAP,
		.accepts = "a count 1..100000, a percent 1%..100% of the "
			   "allowed PUs, or none",
		.help = "at most this many PUs for one batch",
	},
	[PRESETS_RESERVE_PUS] = {
		.name = "reserve_pus", .type = PRESETS_INT,
		KNOB_FIELD(reserve_pus), .lo = 0, .hi = 100000,
		.what = "a count", .politer = PRESETS_HIGHER,
		.accepts = "a count 0..100000",
		.help = "PUs left free for others",
	},
	[PRESETS_RESERVE_MIN_PUS] = {
		.name = "reserve_min_pus", .type = PRESETS_INT,
		KNOB_FIELD(reserve_min_pus), .lo = 0, .hi = 100000,
		.what = "a count", .politer = PRESETS_LOWER,
		.only_if = "reserve_pus",
		.accepts = "a count 0..100000",
		.help = "keep reserve_pus only on machines with more allowed PUs "
			"than this",
	},
	[PRESETS_LOAD_CEILING] = {
		.name = "load_ceiling", .type = PRESETS_CEILING,
		KNOB_FIELD(load_ceiling), .lo = 0, .hi = 1000,
		.words = KNOB_WORDS("off", "no", "false"),
		.politer = PRESETS_CAP,
		.accepts = "a load per allowed PU 0..1000, or off",
		.help = "nothing new starts while the 1-minute load of others per "
			"allowed PU is above this",
	},
	[PRESETS_PRESSURE_CEILING] = {
		.name = "pressure_ceiling", .type = PRESETS_CEILING,
		KNOB_FIELD(pressure_ceiling), .lo = 0, .hi = 100, .percent = 1,
		.words = KNOB_WORDS("off", "no", "false"),
		.politer = PRESETS_CAP,
		.accepts = "a percent 0..100 (PSI cpu some avg10), or off",
		.help = "nothing new starts while CPU pressure (PSI some avg10) "
			"is above this",
	},
	[PRESETS_MEM_FLOOR] = {
		.name = "mem_floor", .type = PRESETS_SIZE,
		KNOB_FIELD(mem_floor_kb), .unit = 1024,
		.words = KNOB_WORDS("off", "none"),
		.politer = PRESETS_HIGHER,
		.accepts = "a size such as 512M or 2G (K, M, G, T), or off",
		.help = "nothing new starts while MemAvailable is below this",
	},
	[PRESETS_NICE] = {
		.name = "nice", .type = PRESETS_INT,
		KNOB_FIELD(nice), .lo = 0, .hi = 19,
		.what = "an integer", .politer = PRESETS_HIGHER,
		.accepts = "an integer 0..19",
		.help = "the workers' nice value",
	},
	[PRESETS_CPU_WEIGHT] = {
		.name = "cpu_weight", .type = PRESETS_WORD,
		KNOB_FIELD(weight),
		.words = KNOB_WORDS("idle", "low", "normal"),
		.what = "weight class", .politer = PRESETS_LOWER,
		.accepts = "idle, low or normal",
		.help = "the CPU weight class of the workers' cgroups",
	},
	[PRESETS_RAMP_UP] = {
		.name = "ramp_up", .type = PRESETS_INT,
		KNOB_FIELD(ramp_up), .lo = 0, .hi = 100000,
		.what = "a count", .politer = PRESETS_CAP,
		.accepts = "starts per tick 1..100000, or 0 for no limit",
		.help = "at most this many starts per tick",
	},
	[PRESETS_FORCE_ONE] = {
		.name = "force_one", .type = PRESETS_BOOL,
		KNOB_FIELD(force_one), .politer = PRESETS_LOWER,
		.accepts = "yes or no",
		.help = "start one task when none of ours runs, even when no PU "
			"is free",
	},
	[PRESETS_ON_RETURN] = {
		.name = "on_return", .type = PRESETS_WORD,
		KNOB_FIELD(on_return),
		.words = KNOB_WORDS("keep", "move", "pause", "stop"),
		.what = "reaction", .politer = PRESETS_HIGHER,
		.accepts = "keep, move, pause or stop",
		.help = "what a worker does when others come back to its PU",
	},
	[PRESETS_SMT_AVOID] = {
		.name = "smt_avoid", .type = PRESETS_BOOL,
		KNOB_FIELD(smt_avoid), .politer = PRESETS_HIGHER,
		.accepts = "yes or no",
		.help = "a PU whose SMT sibling is busy with others' work counts "
			"as busy",
	},
	[PRESETS_PLACEMENT] = {
		.name = "placement", .type = PRESETS_WORD,
		KNOB_FIELD(placement),
		.words = KNOB_WORDS("spread", "compact"),
		.what = "placement",
		.accepts = "spread or compact",
		.help = "across packages and L3 caches first, or fill one first",
	},
	[PRESETS_INTERVAL] = {
		.name = "interval", .type = PRESETS_DURATION,
		KNOB_FIELD(interval_ms), .lo = 10, .hi = 60000,
		.politer = PRESETS_HIGHER,
		.accepts = "a duration 10ms..60s (500ms, 1s; a bare number "
			   "is milliseconds)",
		.help = "how often the machine is sampled",
	},
	[PRESETS_HYSTERESIS] = {
		.name = "hysteresis", .type = PRESETS_DURATION,
		KNOB_FIELD(hysteresis_ms), .lo = 0, .hi = 600000,
		.accepts = "a duration 0..600s (2s, 500ms; a bare number "
			   "is milliseconds)",
		.help = "how long a PU must stay free or busy before nicely acts "
			"on it",
	},
	[PRESETS_IGNORE_OTHERS] = {
		.name = "ignore_others", .type = PRESETS_BOOL,
		KNOB_FIELD(ignore_others), .politer = PRESETS_LOWER,
		.accepts = "yes or no",
		.help = "use every allowed PU, whatever others' load, the "
			"ceilings and the reserve say",
	},
	[PRESETS_MEMORY_MAX] = {
		.name = "memory_max", .type = PRESETS_SIZE,
		KNOB_FIELD(memory_max),
		.words = KNOB_WORDS("none", "off"),
		.politer = PRESETS_CAP,
		.accepts = "a size such as 4G (K, M, G, T), or none",
		.help = "a memory limit for each task (its cgroup's)",
	},
};

/* The C type of a field, by knob type: what fields are compared and
 * copied as. */
enum presets_ctype { CTYPE_TEXT, CTYPE_INT, CTYPE_DOUBLE, CTYPE_U64 };

static const enum presets_ctype presets_ctypes[] = {
	[PRESETS_TEXT] = CTYPE_TEXT,	[PRESETS_SHARE] = CTYPE_DOUBLE,
	[PRESETS_PUS] = CTYPE_INT,	[PRESETS_INT] = CTYPE_INT,
	[PRESETS_CEILING] = CTYPE_DOUBLE, [PRESETS_SIZE] = CTYPE_U64,
	[PRESETS_BOOL] = CTYPE_INT,	[PRESETS_WORD] = CTYPE_INT,
	[PRESETS_DURATION] = CTYPE_INT,
};

static const size_t presets_csizes[] = {
	[CTYPE_TEXT] = 0, [CTYPE_INT] = sizeof(int),
	[CTYPE_DOUBLE] = sizeof(double), [CTYPE_U64] = sizeof(uint64_t),
};

/* enum fields are read and written as int */
_Static_assert(sizeof(enum policy_weight) == sizeof(int) &&
	       sizeof(enum policy_reaction) == sizeof(int) &&
	       sizeof(enum policy_placement) == sizeof(int),
	       "the enums of struct policy_preset are ints");
/* config_priv.h keeps the knobs a file set in an unsigned bit mask */
_Static_assert(PRESETS_NKNOBS <= 32, "a knob mask is an unsigned");


/* Row k of the knob table, or NULL. */
const struct presets_knob *presets_knob(int k)
{
	return k >= 0 && k < PRESETS_NKNOBS ? &presets_knobs[k] : NULL;
}

/* The word for a direction of politeness. */
const char *presets_politer_name(enum presets_politer w)
{
	switch (w) {
	case PRESETS_LOWER:
		return "lower";
	case PRESETS_CAP:
		return "lower cap";
	case PRESETS_HIGHER:
		return "higher";
	case PRESETS_FREE:
		break;
	}
	return "free";
}

/* The config-file name of knob k. */
const char *presets_knob_name(int k)
{
	return k >= 0 && k < PRESETS_NKNOBS ? presets_knobs[k].name : "?";
}

/* The knob named key, or -1. */
int presets_knob_lookup(const char *key)
{
	for (int k = 0; key && k < PRESETS_NKNOBS; k++)
		if (!strcmp(presets_knobs[k].name, key))
			return k;
	return -1;
}

/* What knob k accepts. */
const char *presets_knob_accepts(int k)
{
	return k >= 0 && k < PRESETS_NKNOBS ? presets_knobs[k].accepts : "";
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

/* The number of words in a NULL-ended list. */
static int presets_nwords(const char *const *words)
{
	int n = 0;

	while (words && words[n])
		n++;
	return n;
}

/* 1 when value is one of the row's off words (any case). */
static int presets_off_word(const struct presets_knob *kn, const char *value)
{
	return presets_enum(value, kn->words, presets_nwords(kn->words)) >= 0;
}

/* The number before value's final '%', at most 100, in *out. Returns NULL
 * or what is wrong (the lower bound is the caller's to check). */
static const char *presets_percent(const char *value, double *out)
{
	char num[64];
	size_t vlen = strlen(value);

	if (vlen >= sizeof num)
		return "not a number";
	memcpy(num, value, vlen - 1);
	num[vlen - 1] = 0;
	if (presets_number(num, out) < 0)
		return "not a number";
	if (*out > 100)
		return "percent over 100";
	return NULL;
}

/* 1 when value ends in '%'. */
static int presets_is_percent(const char *value)
{
	size_t vlen = strlen(value);

	return vlen && value[vlen - 1] == '%';
}

/* Parse value into q's field of row kn. Returns NULL, or why it is not a
 * value of that knob (written into buf when made from the row's noun). */
static const char *presets_parse_value(const struct presets_knob *kn,
				       struct policy_preset *q,
				       const char *value, char *buf, size_t len)
{
	char *f = (char *)q + kn->offset;
	double d;
	long l;
	int b;
	uint64_t sz;
	const char *why;

	switch (kn->type) {
	case PRESETS_TEXT:
		if (strlen(value) >= kn->size)
			return "too long";
		memcpy(f, value, strlen(value) + 1);
		return NULL;
	case PRESETS_SHARE:
		if (presets_is_percent(value)) {
			if ((why = presets_percent(value, &d)))
				return why;
			if (d < kn->lo * 100)
				return "negative";
			d /= 100;
		} else if (presets_number(value, &d) < 0) {
			return "not a number";
		} else if (d < kn->lo || d > kn->hi) {
			return "out of range";
		}
		memcpy(f, &d, sizeof d);
		return NULL;
	case PRESETS_PUS: {
		int count = 0;
		double pct = 0;
		if (presets_off_word(kn, value)) {
			;
		} else if (presets_is_percent(value)) {
			if ((why = presets_percent(value, &pct)))
				return why;
			if (pct <= 0)
				return "percent must be above 0";
		} else if (presets_int(value, (long)kn->lo, (long)kn->hi, &l) < 0) {
			return "not a count";
		} else {
			count = (int)l;
		}
		memcpy(f, &count, sizeof count);
		memcpy((char *)q + kn->offset2, &pct, sizeof pct);
		return NULL;
	}
	case PRESETS_INT:
		if (presets_int(value, (long)kn->lo, (long)kn->hi, &l) < 0) {
			snprintf(buf, len, "not %s in range", kn->what);
			return buf;
		}
		b = (int)l;
		memcpy(f, &b, sizeof b);
		return NULL;
	case PRESETS_CEILING:
		if (presets_off_word(kn, value))
			d = -1;
		else if (presets_number(value, &d) < 0)
			return "not a number";
		else if (d < kn->lo)
			return "negative";
		else if (d > kn->hi)
			return kn->percent ? "percent over 100" : "out of range";
		memcpy(f, &d, sizeof d);
		return NULL;
	case PRESETS_SIZE: {
		uint64_t unit = kn->unit ? kn->unit : 1;
		if (presets_off_word(kn, value))
			sz = 0;
		else if (presets_size(value, &sz) < 0)
			return "not a size";
		if (unit == 1024 && sz > 0 && sz < unit)
			/* kept in kB: rounding down would turn it off */
			return "below 1K (a bare number is bytes)";
		sz /= unit;
		memcpy(f, &sz, sizeof sz);
		return NULL;
	}
	case PRESETS_BOOL:
		if ((b = presets_bool(value)) < 0)
			return "not yes or no";
		memcpy(f, &b, sizeof b);
		return NULL;
	case PRESETS_WORD:
		b = presets_enum(value, kn->words, presets_nwords(kn->words));
		if (b < 0) {
			snprintf(buf, len, "unknown %s", kn->what);
			return buf;
		}
		memcpy(f, &b, sizeof b);
		return NULL;
	case PRESETS_DURATION:
		if (presets_duration(value, &d) < 0)
			return "not a duration";
		if (d < kn->lo || d > kn->hi)
			return "out of range";
		b = (int)d;
		memcpy(f, &b, sizeof b);
		return NULL;
	}
	return "unknown type";
}

/* Parse value into knob k of p; see presets.h. */
int presets_knob_parse(struct policy_preset *p, int k, const char *value,
		       char *err, size_t errlen)
{
	const struct presets_knob *kn = presets_knob(k);
	struct policy_preset q = *p;
	char buf[80];
	const char *why;

	if (!kn) {
		snprintf(err, errlen, "unknown knob");
		return -EINVAL;
	}
	why = presets_parse_value(kn, &q, value, buf, sizeof buf);
	if (why) {
		snprintf(err, errlen, "bad value '%.60s' for %s: %s (accepted: %s)",
			 value, kn->name, why, kn->accepts);
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

/* The int at offset off of p. */
static int presets_get_int(const struct policy_preset *p, size_t off)
{
	int v;

	memcpy(&v, (const char *)p + off, sizeof v);
	return v;
}

/* The double at offset off of p. */
static double presets_get_double(const struct policy_preset *p, size_t off)
{
	double v;

	memcpy(&v, (const char *)p + off, sizeof v);
	return v;
}

/* The uint64_t at offset off of p. */
static uint64_t presets_get_u64(const struct policy_preset *p, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)p + off, sizeof v);
	return v;
}

/* Knob k of p spelled as a config value. */
void presets_knob_format(const struct policy_preset *p, int k, char *buf,
			 size_t len)
{
	const struct presets_knob *kn = presets_knob(k);
	const char *off = kn && kn->words ? kn->words[0] : "";
	double d;
	int i;
	uint64_t u;

	if (!kn) {
		snprintf(buf, len, "?");
		return;
	}
	switch (kn->type) {
	case PRESETS_TEXT:
		snprintf(buf, len, "%s", (const char *)p + kn->offset);
		return;
	case PRESETS_SHARE:
		snprintf(buf, len, "%g%%", presets_get_double(p, kn->offset) * 100);
		return;
	case PRESETS_PUS:
		i = presets_get_int(p, kn->offset);
		d = presets_get_double(p, kn->offset2);
		if (i > 0)
			snprintf(buf, len, "%d", i);
		else if (d > 0)
			snprintf(buf, len, "%g%%", d);
		else
			snprintf(buf, len, "%s", off);
		return;
	case PRESETS_INT:
		snprintf(buf, len, "%d", presets_get_int(p, kn->offset));
		return;
	case PRESETS_CEILING:
		d = presets_get_double(p, kn->offset);
		if (d < 0)
			snprintf(buf, len, "%s", off);
		else
			snprintf(buf, len, "%g", d);
		return;
	case PRESETS_SIZE:
		u = presets_get_u64(p, kn->offset);
		if (!u)
			snprintf(buf, len, "%s", off);
		else
			presets_format_size(u * (kn->unit ? kn->unit : 1), buf, len);
		return;
	case PRESETS_BOOL:
		snprintf(buf, len, "%s", presets_get_int(p, kn->offset) ? "yes" : "no");
		return;
	case PRESETS_WORD:
		i = presets_get_int(p, kn->offset);
		snprintf(buf, len, "%s",
			 kn->words[(unsigned)i % (unsigned)presets_nwords(kn->words)]);
		return;
	case PRESETS_DURATION:
		presets_format_ms(presets_get_int(p, kn->offset), buf, len);
		return;
	}
	snprintf(buf, len, "?");
}

/* Copy knob k from src to dst. */
void presets_knob_copy(struct policy_preset *dst, const struct policy_preset *src,
		       int k)
{
	const struct presets_knob *kn = presets_knob(k);

	if (!kn)
		return;
	memcpy((char *)dst + kn->offset, (const char *)src + kn->offset, kn->size);
	if (kn->type == PRESETS_PUS)
		memcpy((char *)dst + kn->offset2, (const char *)src + kn->offset2,
		       sizeof(double));
}

/* Compare the fields of C type t at off in a and b: -1, 0 or 1. */
static int presets_cmp(const struct policy_preset *a,
		       const struct policy_preset *b, size_t off,
		       enum presets_ctype t)
{
	switch (t) {
	case CTYPE_INT: {
		int x = presets_get_int(a, off), y = presets_get_int(b, off);
		return (x > y) - (x < y);
	}
	case CTYPE_DOUBLE: {
		double x = presets_get_double(a, off), y = presets_get_double(b, off);
		return (x > y) - (x < y);
	}
	case CTYPE_U64: {
		uint64_t x = presets_get_u64(a, off), y = presets_get_u64(b, off);
		return (x > y) - (x < y);
	}
	case CTYPE_TEXT:
		break;
	}
	return 0;
}

/* 1 when the field of C type t at off of p means off: below 0 for a
 * ceiling, 0 for the rest. */
static int presets_is_off(const struct policy_preset *p, size_t off,
			  enum presets_ctype t, enum presets_type type)
{
	switch (t) {
	case CTYPE_INT:
		return presets_get_int(p, off) == 0;
	case CTYPE_DOUBLE:
		return type == PRESETS_CEILING ? presets_get_double(p, off) < 0
					       : presets_get_double(p, off) == 0;
	case CTYPE_U64:
		return presets_get_u64(p, off) == 0;
	case CTYPE_TEXT:
		break;
	}
	return 0;
}

/* Make the field at off of p (C type t) at most as bold as lim's, the way
 * the row says; 1 when it changed. */
static int presets_clamp_field(struct policy_preset *p,
			       const struct policy_preset *lim,
			       const struct presets_knob *kn, size_t off,
			       enum presets_ctype t)
{
	int cmp = presets_cmp(p, lim, off, t), bolder = 0;

	switch (kn->politer) {
	case PRESETS_LOWER:
		bolder = cmp > 0;
		break;
	case PRESETS_HIGHER:
		bolder = cmp < 0;
		break;
	case PRESETS_CAP:
		bolder = !presets_is_off(lim, off, t, kn->type) &&
			 (presets_is_off(p, off, t, kn->type) || cmp > 0);
		break;
	case PRESETS_FREE:
		break;
	}
	if (bolder)
		memcpy((char *)p + off, (const char *)lim + off, presets_csizes[t]);
	return bolder;
}

/* Make p at most as aggressive as lim; see presets.h. */
unsigned presets_clamp(struct policy_preset *p, const struct policy_preset *lim)
{
	unsigned m = 0;

	for (int k = 0; k < PRESETS_NKNOBS; k++) {
		const struct presets_knob *kn = &presets_knobs[k];
		enum presets_ctype t = presets_ctypes[kn->type];
		int changed;

		if (kn->politer == PRESETS_FREE)
			continue;
		if (kn->only_if) {
			const struct presets_knob *c =
				presets_knob(presets_knob_lookup(kn->only_if));
			if (!c || presets_is_off(lim, c->offset,
						 presets_ctypes[c->type], c->type))
				continue;
		}
		changed = presets_clamp_field(p, lim, kn, kn->offset, t);
		if (kn->type == PRESETS_PUS)
			changed |= presets_clamp_field(p, lim, kn, kn->offset2,
						       CTYPE_DOUBLE);
		if (changed)
			m |= 1u << k;
	}
	return m;
}
