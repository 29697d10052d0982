/* policy/preset: one aggression preset as plain data: the knobs that say how
 * polite a batch is. Filled from built-ins and config files (builtins.c,
 * config_*.c), read by decide.c and by sched/ when it starts a worker. */
#ifndef POLICY_PRESET_H
#define POLICY_PRESET_H

#include <stdint.h>

enum policy_weight {		/* CPU weight class of the worker cgroup */
	POLICY_WEIGHT_IDLE,	/* cpu.idle=1, else the lowest weight */
	POLICY_WEIGHT_LOW,
	POLICY_WEIGHT_NORMAL,
};

enum policy_reaction {		/* when others come back to a PU we use */
	POLICY_REACT_KEEP,
	POLICY_REACT_MOVE,	/* re-pin to a free PU, else keep */
	POLICY_REACT_PAUSE,	/* freeze until the PU is free again */
	POLICY_REACT_STOP,	/* kill and requeue the task */
};

enum policy_placement {
	POLICY_PLACE_SPREAD,	/* across packages and L3 first */
	POLICY_PLACE_COMPACT,	/* fill a package / L3 before the next */
};

#define POLICY_NAME_MAX 64

struct policy_preset {
	char name[POLICY_NAME_MAX];
	char description[160];
	double idle_threshold;	/* PU free when others use < this (0..1) */
	int max_pus;		/* absolute cap, 0 = no count cap */
	double max_pus_pct;	/* cap as % of allowed PUs, 0 = none */
	int reserve_pus;	/* PUs left free for others */
	int reserve_min_pus;	/* reserve only on machines with more PUs than this */
	double load_ceiling;	/* 1-min load per allowed PU; < 0: off */
	double pressure_ceiling; /* PSI cpu some avg10 percent; < 0: off */
	uint64_t mem_floor_kb;	/* no new start below this MemAvailable; 0 off */
	int nice;		/* worker nice, 0..19 */
	enum policy_weight weight;
	int ramp_up;		/* at most this many starts per tick, 0 = no cap */
	int force_one;		/* start one task even when nothing is free */
	enum policy_reaction on_return;
	int smt_avoid;		/* a PU whose sibling is busy by others is busy */
	enum policy_placement placement;
	int interval_ms;	/* sampling tick */
	int hysteresis_ms;	/* a PU must stay free/busy this long before we act */
	int ignore_others;	/* nuclear: every allowed PU, load ignored */
	uint64_t memory_max;	/* per-task memory limit in bytes, 0 = none */
};

#endif
