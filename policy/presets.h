/* policy/presets: the table of knobs a preset has (one row each: name,
 * field, type, range, words, which way is politer, what it accepts and a
 * line of help), and the functions that parse, print, copy and clamp a
 * knob by reading its row. Used by config_*.c, decide's tests, `nicely
 * presets` and `nicely check-config`. The built-in presets: builtins.h. */
#ifndef POLICY_PRESETS_H
#define POLICY_PRESETS_H

#include <stddef.h>

#include "policy/preset.h"

/* The knobs, in the order of the table in presets.c (the order `nicely
 * presets NAME` and etc/nicely.conf list them). "description" is a knob too
 * (free text). A new knob is a name here and a row in that table. */
enum presets_knob_id {
	PRESETS_DESCRIPTION,
	PRESETS_IDLE_THRESHOLD,
	PRESETS_MAX_PUS,
	PRESETS_RESERVE_PUS,
	PRESETS_RESERVE_MIN_PUS,
	PRESETS_LOAD_CEILING,
	PRESETS_PRESSURE_CEILING,
	PRESETS_MEM_FLOOR,
	PRESETS_NICE,
	PRESETS_CPU_WEIGHT,
	PRESETS_RAMP_UP,
	PRESETS_FORCE_ONE,
	PRESETS_ON_RETURN,
	PRESETS_SMT_AVOID,
	PRESETS_PLACEMENT,
	PRESETS_INTERVAL,
	PRESETS_HYSTERESIS,
	PRESETS_IGNORE_OTHERS,
	PRESETS_MEMORY_MAX,
	PRESETS_NKNOBS
};

/* How a knob's value is written, parsed and stored: the C type of its field
 * and what lo, hi, words and unit of its row mean. */
enum presets_type {
	PRESETS_TEXT,		/* char[]: any text that fits */
	PRESETS_SHARE,		/* double lo..hi, or that as a percent ("25%") */
	PRESETS_PUS,		/* int count lo..hi, or a percent above 0 in the
				 * double at offset2, or an off word (both 0) */
	PRESETS_INT,		/* int lo..hi */
	PRESETS_CEILING,	/* double lo..hi, or an off word (-1) */
	PRESETS_SIZE,		/* uint64_t: a size in bytes / unit, or an off
				 * word (0) */
	PRESETS_BOOL,		/* int 1 or 0: yes/no, true/false, on/off, 1/0 */
	PRESETS_WORD,		/* an enum: the index of one of words */
	PRESETS_DURATION,	/* int milliseconds lo..hi ("500ms", "2s") */
};

/* Which way a knob's value is more polite, for the admin's [limits]
 * max_preset (presets_clamp). For yes/no, no is lower; for words, the
 * earlier word of the row's list. */
enum presets_politer {
	PRESETS_FREE,		/* no order: the limit leaves it alone */
	PRESETS_LOWER,		/* lower is politer */
	PRESETS_HIGHER,		/* higher is politer */
	PRESETS_CAP,		/* lower is politer, and off (0; a ceiling's
				 * -1) is no cap: the boldest */
};

/* One knob: a row of the table that parsing, printing, copying, clamping,
 * check-config's messages and `nicely presets --knobs` all read. */
struct presets_knob {
	const char *name;	/* the key in a config file */
	enum presets_type type;
	size_t offset, size;	/* its field in struct policy_preset */
	size_t offset2;		/* PRESETS_PUS: the percent (a double) */
	double lo, hi;		/* the range, in the field's unit */
	/* PRESETS_WORD: the values in enum order; other types: the words
	 * that mean off or none (the first one is printed); NULL-ended. */
	const char *const *words;
	const char *what;	/* in messages: INT "a count" ("not a count in
				 * range"), WORD "reaction" ("unknown reaction") */
	unsigned unit;		/* PRESETS_SIZE: bytes per stored unit, 0 = 1 */
	int percent;		/* PRESETS_CEILING: the number is a percent */
	enum presets_politer politer;
	const char *only_if;	/* when set, compared only when the limit's
				 * knob of this name is not off */
	const char *accepts;	/* what a value may be, for messages */
	const char *help;	/* what the knob does, in one line */
};

/* Row k of the table, or NULL when k is not a knob. */
const struct presets_knob *presets_knob(int k);
/* "free", "lower", "higher" or "lower cap". */
const char *presets_politer_name(enum presets_politer w);

/* Knob k's name as written in a config file ("idle_threshold"). */
const char *presets_knob_name(int k);
/* The knob of a config key, or -1 when there is none. */
int presets_knob_lookup(const char *key);
/* What a knob accepts, for error messages ("a share 0..1 or a percent"). */
const char *presets_knob_accepts(int k);
/* Parse value into knob k of p. Returns 0, or -EINVAL with err saying what
 * was wrong and what is accepted (without the file:line, which the caller
 * adds). p is unchanged on error. */
int presets_knob_parse(struct policy_preset *p, int k, const char *value,
		       char *err, size_t errlen);
/* Copy knob k (the field or fields behind it) from src to dst. */
void presets_knob_copy(struct policy_preset *dst, const struct policy_preset *src,
		       int k);
/* Knob k of p as a config file would spell it ("25%", "off", "512M"). */
void presets_knob_format(const struct policy_preset *p, int k, char *buf,
			 size_t len);
/* Make p at most as aggressive as lim, knob by knob, each in the direction
 * its row's politer says (reserve_min_pus only when lim reserves PUs);
 * free knobs (placement, hysteresis, description) are left alone. Returns
 * a bit mask (1 << knob) of the knobs that changed. */
unsigned presets_clamp(struct policy_preset *p, const struct policy_preset *lim);
/* 1 when name is a valid preset name: 1-63 of [A-Za-z0-9_.-]. */
int presets_valid_name(const char *name);

#endif
