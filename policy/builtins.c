/* policy/builtins: the five built-in presets, least to most aggressive
 * (after DummyMP's priority modes): generous, normal, aggressive, extreme,
 * nuclear. Plain data and lookups; config.c starts from them, config
 * files may redefine them, and decide's tests and benchmark use them. */
#include <stddef.h>
#include <string.h>

#include "policy/builtins.h"

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

/* Number of built-in presets. */
size_t builtins_count(void)
{
	return NBUILTIN;
}

/* The i-th built-in preset, or NULL past the end. */
const struct policy_preset *builtins_get(size_t i)
{
	return i < NBUILTIN ? &presets_builtins[i] : NULL;
}

/* A built-in preset by name. */
const struct policy_preset *builtins_find(const char *name)
{
	for (size_t i = 0; name && i < NBUILTIN; i++)
		if (!strcmp(presets_builtins[i].name, name))
			return &presets_builtins[i];
	return NULL;
}
