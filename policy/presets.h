/* policy/presets: the built-in presets and the table of knobs a preset
 * has: their names in config files, how a value is parsed and printed back,
 * and which direction is "more polite" (for the admin's [limits]). Used by
 * config.c, decide's tests and `nicely presets`. */
#ifndef POLICY_PRESETS_H
#define POLICY_PRESETS_H

#include <stddef.h>

#include "policy/preset.h"

/* The knobs, in the order `nicely presets NAME` and etc/nicely.conf list
 * them. "description" is a knob too (free text). */
enum presets_knob {
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

/* The built-in presets, least to most aggressive: generous, normal,
 * aggressive, extreme, nuclear. The returned pointers are static. */
size_t presets_builtin_count(void);
const struct policy_preset *presets_builtin(size_t i);
/* A built-in preset by name, or NULL. */
const struct policy_preset *presets_find(const char *name);
/* The preset used when no config file chooses one. */
#define PRESETS_DEFAULT "normal"

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
/* Make p at most as aggressive as lim, knob by knob: idle_threshold,
 * max_pus, load/pressure ceilings and memory_max no higher, reserve,
 * mem_floor, nice and interval no lower, cpu_weight no heavier, ramp_up no
 * faster, on_return no later (keep < move < pause, stop), force_one,
 * ignore_others off and smt_avoid on when lim says so. Placement and
 * hysteresis are left alone. Returns a bit mask (1 << knob) of the
 * knobs that changed. */
unsigned presets_clamp(struct policy_preset *p, const struct policy_preset *lim);
/* 1 when name is a valid preset name: 1-63 of [A-Za-z0-9_.-]. */
int presets_valid_name(const char *name);

#endif
