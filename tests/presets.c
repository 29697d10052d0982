/* Tests of the knob table: every built-in knob prints and parses back to
 * the same value, the accepted spellings (percents, sizes, durations,
 * off/none, yes/no), rejected values with their messages, and the
 * direction presets_clamp moves each knob. */
#include <errno.h>
#include <string.h>

#include "policy/presets.h"
#include "tests/tap.h"

/* Parse value into knob k of a copy of normal; returns the parse result. */
static int parse(const char *key, const char *value, struct policy_preset *p,
		 char *err, size_t errlen)
{
	*p = *presets_find("normal");
	err[0] = 0;
	return presets_knob_parse(p, presets_knob_lookup(key), value, err, errlen);
}

/* Every knob of every built-in survives format -> parse -> format. */
static void test_roundtrip(void)
{
	int bad = 0, total = 0;
	char a[200], b[200], err[300];

	for (size_t i = 0; i < presets_builtin_count(); i++) {
		const struct policy_preset *p = presets_builtin(i);
		struct policy_preset q;
		memset(&q, 0, sizeof q);
		for (int k = 0; k < PRESETS_NKNOBS; k++) {
			presets_knob_format(p, k, a, sizeof a);
			if (presets_knob_parse(&q, k, a, err, sizeof err) < 0) {
				tap_diag("%s %s '%s': %s", p->name,
					 presets_knob_name(k), a, err);
				bad++;
			}
			presets_knob_format(&q, k, b, sizeof b);
			bad += strcmp(a, b) != 0;
			total++;
		}
	}
	is_int(total, 5 * PRESETS_NKNOBS, "every knob of the five built-ins");
	is_int(bad, 0, "  prints and parses back unchanged");
	ok(presets_find("nuclear") && presets_find("generous") &&
	   !presets_find("Normal") && !presets_find(NULL), "presets_find");
	is_str(presets_builtin(0)->name, "generous", "least aggressive first");
	is_str(presets_builtin(4)->name, "nuclear", "most aggressive last");
	ok(presets_knob_lookup("nope") < 0 && presets_knob_lookup("nice") ==
	   PRESETS_NICE, "knob lookup");
}

/* Accepted spellings. */
static void test_accepted(void)
{
	struct policy_preset p;
	char err[300];

	ok(!parse("idle_threshold", "0.3", &p, err, sizeof err) &&
	   p.idle_threshold == 0.3, "idle_threshold 0.3");
	ok(!parse("idle_threshold", "30%", &p, err, sizeof err) &&
	   p.idle_threshold > 0.299 && p.idle_threshold < 0.301,
	   "idle_threshold 30%%");
	ok(!parse("max_pus", "8", &p, err, sizeof err) && p.max_pus == 8 &&
	   p.max_pus_pct == 0, "max_pus 8");
	ok(!parse("max_pus", "50%", &p, err, sizeof err) && p.max_pus == 0 &&
	   p.max_pus_pct == 50, "max_pus 50%%");
	ok(!parse("max_pus", "none", &p, err, sizeof err) && p.max_pus == 0 &&
	   p.max_pus_pct == 0, "max_pus none");
	ok(!parse("load_ceiling", "off", &p, err, sizeof err) &&
	   p.load_ceiling < 0, "load_ceiling off");
	ok(!parse("load_ceiling", "0", &p, err, sizeof err) &&
	   p.load_ceiling == 0, "load_ceiling 0 is a ceiling, not off");
	ok(!parse("pressure_ceiling", "12.5", &p, err, sizeof err) &&
	   p.pressure_ceiling == 12.5, "pressure_ceiling 12.5");
	ok(!parse("mem_floor", "1.5G", &p, err, sizeof err) &&
	   p.mem_floor_kb == 1572864, "mem_floor 1.5G");
	ok(!parse("mem_floor", "512MiB", &p, err, sizeof err) &&
	   p.mem_floor_kb == 524288, "mem_floor 512MiB");
	ok(!parse("mem_floor", "off", &p, err, sizeof err) && p.mem_floor_kb == 0,
	   "mem_floor off");
	ok(!parse("memory_max", "4g", &p, err, sizeof err) &&
	   p.memory_max == 4ULL << 30, "memory_max 4g");
	ok(!parse("nice", "0", &p, err, sizeof err) && p.nice == 0, "nice 0");
	ok(!parse("cpu_weight", "LOW", &p, err, sizeof err) &&
	   p.weight == POLICY_WEIGHT_LOW, "cpu_weight LOW");
	ok(!parse("force_one", "off", &p, err, sizeof err) && !p.force_one,
	   "force_one off");
	ok(!parse("smt_avoid", "true", &p, err, sizeof err) && p.smt_avoid,
	   "smt_avoid true");
	ok(!parse("on_return", "stop", &p, err, sizeof err) &&
	   p.on_return == POLICY_REACT_STOP, "on_return stop");
	ok(!parse("placement", "compact", &p, err, sizeof err) &&
	   p.placement == POLICY_PLACE_COMPACT, "placement compact");
	ok(!parse("interval", "1.5s", &p, err, sizeof err) &&
	   p.interval_ms == 1500, "interval 1.5s");
	ok(!parse("interval", "250", &p, err, sizeof err) && p.interval_ms == 250,
	   "interval 250 (ms)");
	ok(!parse("hysteresis", "0", &p, err, sizeof err) && p.hysteresis_ms == 0,
	   "hysteresis 0");
	ok(!parse("hysteresis", "1m", &p, err, sizeof err) &&
	   p.hysteresis_ms == 60000, "hysteresis 1m");
	ok(!parse("description", "a b c", &p, err, sizeof err) &&
	   !strcmp(p.description, "a b c"), "description");
}

/* Rejected values, and the message names the key and what is accepted. */
static void test_rejected(void)
{
	static const struct { const char *key, *value, *why; } cases[] = {
		{ "idle_threshold", "1.5", "out of range" },
		{ "idle_threshold", "101%", "percent over 100" },
		{ "idle_threshold", "-1", "out of range" },
		{ "idle_threshold", "nan", "not a number" },
		{ "idle_threshold", "0x1", "not a number" },
		{ "max_pus", "0%", "percent must be above 0" },
		{ "max_pus", "150%", "percent over 100" },
		{ "max_pus", "-3", "not a count" },
		{ "max_pus", "2.5", "not a count" },
		{ "reserve_pus", "x", "not a count in range" },
		{ "load_ceiling", "-0.5", "negative" },
		{ "load_ceiling", "inf", "not a number" },
		{ "pressure_ceiling", "100.5", "percent over 100" },
		{ "mem_floor", "12Q", "not a size" },
		{ "mem_floor", "G", "not a size" },
		{ "mem_floor", "-1G", "not a size" },
		{ "mem_floor", "512", "below 1K (a bare number is bytes)" },
		{ "nice", "20", "not an integer in range" },
		{ "nice", " 5", "not an integer in range" },
		{ "cpu_weight", "heavy", "unknown weight class" },
		{ "ramp_up", "-1", "not a count in range" },
		{ "force_one", "maybe", "not yes or no" },
		{ "on_return", "explode", "unknown reaction" },
		{ "placement", "random", "unknown placement" },
		{ "interval", "5ms", "out of range" },
		{ "interval", "2h", "not a duration" },
		{ "hysteresis", "601s", "out of range" },
	};
	struct policy_preset p;
	char err[300], want[200];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int r = parse(cases[i].key, cases[i].value, &p, err, sizeof err);
		snprintf(want, sizeof want, "bad value '%s' for %s: %s (accepted: ",
			 cases[i].value, cases[i].key, cases[i].why);
		ok(r == -EINVAL && !strncmp(err, want, strlen(want)),
		   "%s = '%s' rejected: %s", cases[i].key, cases[i].value,
		   cases[i].why);
		if (r != -EINVAL || strncmp(err, want, strlen(want)))
			tap_diag("got %d '%s'", r, err);
	}
	struct policy_preset before = *presets_find("normal");
	parse("nice", "99", &p, err, sizeof err);
	ok(!memcmp(&p, &before, sizeof p), "a rejected value leaves the preset alone");
	ok(presets_valid_name("night-2.x_y") && !presets_valid_name("") &&
	   !presets_valid_name("a b") && !presets_valid_name("a/b"),
	   "preset names");
}

/* presets_clamp moves each knob toward politeness only. */
static void test_clamp(void)
{
	struct policy_preset p = *presets_find("nuclear");
	const struct policy_preset *g = presets_find("generous");
	unsigned m = presets_clamp(&p, g);

	ok(p.idle_threshold == g->idle_threshold && !p.ignore_others &&
	   p.reserve_pus == 1 && p.load_ceiling == 0.75 &&
	   p.pressure_ceiling == 10 && p.mem_floor_kb == g->mem_floor_kb &&
	   p.nice == 19 && p.weight == POLICY_WEIGHT_IDLE && p.ramp_up == 1 &&
	   !p.force_one && p.on_return == POLICY_REACT_PAUSE && p.smt_avoid,
	   "nuclear clamped to generous is as polite as generous");
	ok((m & (1u << PRESETS_IGNORE_OTHERS)) && (m & (1u << PRESETS_NICE)) &&
	   !(m & (1u << PRESETS_PLACEMENT)) && !(m & (1u << PRESETS_MAX_PUS)),
	   "the mask names what changed");
	p = *g;
	is_int(presets_clamp(&p, presets_find("nuclear")), 0,
	       "generous under a nuclear limit: unchanged");
	p = *presets_find("normal");
	p.on_return = POLICY_REACT_STOP;
	p.max_pus = 4;
	struct policy_preset lim = *presets_find("normal");
	lim.max_pus = 8;
	m = presets_clamp(&p, &lim);
	ok(m == 0 && p.on_return == POLICY_REACT_STOP && p.max_pus == 4,
	   "politer than the limit stays (stop, max_pus 4 < 8)");
	p.max_pus = 0;
	presets_clamp(&p, &lim);
	is_int(p.max_pus, 8, "no cap under a capped limit: capped");
	p = *presets_find("normal");
	p.reserve_min_pus = 8;
	p.interval_ms = 100;
	m = presets_clamp(&p, presets_find("normal"));
	ok(p.reserve_min_pus == 2 && p.interval_ms == 500 &&
	   m == ((1u << PRESETS_RESERVE_MIN_PUS) | (1u << PRESETS_INTERVAL)),
	   "reserve only on machines above 8 PUs, sampling every 100 ms: "
	   "clamped to the limit's 2 PUs and 500 ms");
}

/* Run the preset knob tests. */
int main(void)
{
	test_roundtrip();
	test_accepted();
	test_rejected();
	test_clamp();
	return tap_done();
}
