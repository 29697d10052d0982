/* Tests of the knob table: every row is whole and fits its field, every
 * built-in knob prints and parses back to the same value, the accepted
 * spellings (percents, sizes, durations, off/none, yes/no) and the rows'
 * ranges and words, rejected values with their messages, and the
 * direction presets_clamp moves each knob. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "policy/builtins.h"
#include "policy/presets.h"
#include "tests/tap.h"

/* Parse value into knob k of a copy of normal; returns the parse result. */
static int parse(const char *key, const char *value, struct policy_preset *p,
		 char *err, size_t errlen)
{
	*p = *builtins_find("normal");
	err[0] = 0;
	return presets_knob_parse(p, presets_knob_lookup(key), value, err, errlen);
}

/* Every knob of every built-in survives format -> parse -> format. */
static void test_roundtrip(void)
{
	int bad = 0, total = 0;
	char a[200], b[200], err[300];

	for (size_t i = 0; i < builtins_count(); i++) {
		const struct policy_preset *p = builtins_get(i);
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
	ok(builtins_find("nuclear") && builtins_find("generous") &&
	   !builtins_find("Normal") && !builtins_find(NULL), "builtins_find");
	is_str(builtins_get(0)->name, "generous", "least aggressive first");
	is_str(builtins_get(4)->name, "nuclear", "most aggressive last");
	ok(presets_knob_lookup("nope") < 0 && presets_knob_lookup("nice") ==
	   PRESETS_NICE, "knob lookup");
}

/* The size a field of a knob of type t has (0: any, text). */
static size_t field_size(enum presets_type t)
{
	switch (t) {
	case PRESETS_TEXT:
		return 0;
	case PRESETS_SHARE:
	case PRESETS_CEILING:
		return sizeof(double);
	case PRESETS_SIZE:
		return sizeof(uint64_t);
	case PRESETS_PUS:
	case PRESETS_INT:
	case PRESETS_BOOL:
	case PRESETS_WORD:
	case PRESETS_DURATION:
		return sizeof(int);
	}
	return 1;
}

/* Every row is whole: a name, text for messages and help, a field of the
 * size its type stores, the words and nouns its type needs; and the table
 * is the only list: rows in enum order, names unique. */
static void test_table(void)
{
	int bad = 0;

	for (int k = 0; k < PRESETS_NKNOBS; k++) {
		const struct presets_knob *kn = presets_knob(k);
		const char *why = NULL;
		size_t want = field_size(kn->type);

		if (!kn->name || !kn->accepts || !kn->help)
			why = "name, accepts or help missing";
		else if (presets_knob_lookup(kn->name) != k)
			why = "name not unique";
		else if (want ? kn->size != want
			      : kn->offset + kn->size > sizeof(struct policy_preset))
			why = "field size does not fit the type";
		else if (kn->type == PRESETS_PUS &&
			 (!kn->offset2 || kn->offset2 == kn->offset))
			why = "count or percent without a percent field";
		else if (kn->lo > kn->hi)
			why = "range upside down";
		else if ((kn->type == PRESETS_WORD && (!kn->words || !kn->what)) ||
			 (kn->type == PRESETS_INT && !kn->what))
			why = "words or noun missing";
		else if ((kn->type == PRESETS_CEILING || kn->type == PRESETS_SIZE ||
			  kn->type == PRESETS_PUS) && (!kn->words || !kn->words[0]))
			why = "no word for off";
		else if (kn->only_if && presets_knob_lookup(kn->only_if) < 0)
			why = "only_if names no knob";
		if (why) {
			tap_diag("knob %d (%s): %s", k, kn->name ? kn->name : "?", why);
			bad++;
		}
	}
	is_int(bad, 0, "every row of the knob table is whole (%d knobs)",
	       PRESETS_NKNOBS);
	ok(presets_knob(-1) == NULL && presets_knob(PRESETS_NKNOBS) == NULL &&
	   !strcmp(presets_knob_name(PRESETS_NKNOBS), "?"), "no row past the table");
	ok(presets_knob(PRESETS_NICE)->politer == PRESETS_HIGHER &&
	   !strcmp(presets_politer_name(PRESETS_HIGHER), "higher") &&
	   !strcmp(presets_politer_name(PRESETS_CAP), "lower cap") &&
	   !strcmp(presets_politer_name(PRESETS_FREE), "free"),
	   "which way is politer, in words");
}

/* Each knob takes what its row says: the ends of its range and no further,
 * each of its words (in any case, printed back as the row spells it), and
 * the accepts text names that range's top and those words. */
static void test_rows(void)
{
	struct policy_preset p;
	char v[64], out[200], err[300];
	int bad = 0, n = 0;

	for (int k = 0; k < PRESETS_NKNOBS; k++) {
		const struct presets_knob *kn = presets_knob(k);
		const char *unit = kn->type == PRESETS_DURATION ? "ms" : "";
		int ends = kn->type == PRESETS_INT || kn->type == PRESETS_DURATION ||
			   kn->type == PRESETS_PUS || kn->type == PRESETS_CEILING;

		if (ends) {
			snprintf(v, sizeof v, "%g%s", kn->lo, unit);
			bad += parse(kn->name, v, &p, err, sizeof err) != 0;
			snprintf(v, sizeof v, "%g%s", kn->hi, unit);
			bad += parse(kn->name, v, &p, err, sizeof err) != 0;
			snprintf(v, sizeof v, "%g%s", kn->hi + 1, unit);
			bad += parse(kn->name, v, &p, err, sizeof err) != -EINVAL;
			if (kn->type == PRESETS_DURATION && (int)kn->hi % 1000 == 0)
				snprintf(v, sizeof v, "..%gs", kn->hi / 1000);
			else
				snprintf(v, sizeof v, "..%g%s", kn->hi, unit);
			if (!strstr(kn->accepts, v)) {
				tap_diag("%s: accepts does not say %s", kn->name, v);
				bad++;
			}
			if (kn->lo > 0) {
				snprintf(v, sizeof v, "%g%s", kn->lo - 1, unit);
				bad += parse(kn->name, v, &p, err, sizeof err) !=
				       -EINVAL && kn->type != PRESETS_PUS;
			}
			n++;
		}
		for (int i = 0; kn->words && kn->words[i]; i++) {
			char upper[32];
			size_t j;
			for (j = 0; kn->words[i][j] && j < sizeof upper - 1; j++)
				upper[j] = (char)toupper((unsigned char)kn->words[i][j]);
			upper[j] = 0;
			if (parse(kn->name, upper, &p, err, sizeof err) != 0) {
				tap_diag("%s = %s: %s", kn->name, upper, err);
				bad++;
			}
			presets_knob_format(&p, k, out, sizeof out);
			if (strcmp(out, kn->type == PRESETS_WORD ? kn->words[i]
								  : kn->words[0]) &&
			    strcmp(kn->words[i], "0")) {
				tap_diag("%s = %s prints as %s", kn->name, upper, out);
				bad++;
			}
			if (kn->type == PRESETS_WORD && !strstr(kn->accepts, kn->words[i])) {
				tap_diag("%s: accepts does not name %s", kn->name,
					 kn->words[i]);
				bad++;
			}
			n++;
		}
	}
	is_int(bad, 0, "each knob takes the ends of its range and its words "
	       "(%d checks)", n);
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
	struct policy_preset before = *builtins_find("normal");
	parse("nice", "99", &p, err, sizeof err);
	ok(!memcmp(&p, &before, sizeof p), "a rejected value leaves the preset alone");
	ok(presets_valid_name("night-2.x_y") && !presets_valid_name("") &&
	   !presets_valid_name("a b") && !presets_valid_name("a/b"),
	   "preset names");
}

/* presets_clamp moves each knob toward politeness only. */
static void test_clamp(void)
{
	struct policy_preset p = *builtins_find("nuclear");
	const struct policy_preset *g = builtins_find("generous");
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
	is_int(presets_clamp(&p, builtins_find("nuclear")), 0,
	       "generous under a nuclear limit: unchanged");
	p = *builtins_find("normal");
	p.on_return = POLICY_REACT_STOP;
	p.max_pus = 4;
	struct policy_preset lim = *builtins_find("normal");
	lim.max_pus = 8;
	m = presets_clamp(&p, &lim);
	ok(m == 0 && p.on_return == POLICY_REACT_STOP && p.max_pus == 4,
	   "politer than the limit stays (stop, max_pus 4 < 8)");
	p.max_pus = 0;
	presets_clamp(&p, &lim);
	is_int(p.max_pus, 8, "no cap under a capped limit: capped");
	p = *builtins_find("normal");
	p.reserve_min_pus = 8;
	p.interval_ms = 100;
	m = presets_clamp(&p, builtins_find("normal"));
	ok(p.reserve_min_pus == 2 && p.interval_ms == 500 &&
	   m == ((1u << PRESETS_RESERVE_MIN_PUS) | (1u << PRESETS_INTERVAL)),
	   "reserve only on machines above 8 PUs, sampling every 100 ms: "
	   "clamped to the limit's 2 PUs and 500 ms");
	p = *builtins_find("normal");
	p.reserve_min_pus = 8;
	m = presets_clamp(&p, builtins_find("aggressive"));
	ok(p.reserve_min_pus == 8 && !(m & (1u << PRESETS_RESERVE_MIN_PUS)),
	   "reserve_min_pus is left alone under a limit that reserves nothing");
	p = *builtins_find("nuclear");
	p.placement = POLICY_PLACE_COMPACT;
	p.hysteresis_ms = 0;
	m = presets_clamp(&p, builtins_find("generous"));
	ok(p.placement == POLICY_PLACE_COMPACT && p.hysteresis_ms == 0 &&
	   !strcmp(p.description, builtins_find("nuclear")->description) &&
	   !(m & ((1u << PRESETS_PLACEMENT) | (1u << PRESETS_HYSTERESIS) |
		  (1u << PRESETS_DESCRIPTION))),
	   "free knobs (placement, hysteresis, description) are left alone");
	p = *builtins_find("normal");
	p.max_pus = 0;
	p.max_pus_pct = 80;
	lim = *builtins_find("normal");
	lim.max_pus = 4;
	lim.max_pus_pct = 50;
	lim.load_ceiling = -1;
	lim.memory_max = 1ULL << 30;
	p.memory_max = 0;
	m = presets_clamp(&p, &lim);
	ok(p.max_pus == 4 && p.max_pus_pct == 50 && p.load_ceiling == 1.0 &&
	   p.memory_max == 1ULL << 30 &&
	   m == ((1u << PRESETS_MAX_PUS) | (1u << PRESETS_MEMORY_MAX)),
	   "caps: both of max_pus's count and percent, none under a cap is "
	   "capped, a ceiling under no ceiling stays");
}

/* Run the preset knob tests. */
int main(void)
{
	test_table();
	test_rows();
	test_roundtrip();
	test_accepted();
	test_rejected();
	test_clamp();
	return tap_done();
}
