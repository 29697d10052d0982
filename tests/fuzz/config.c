/* libFuzzer target for the config parser: the input is parsed through the
 * same reader and handler as a file, once as a system file and once as a
 * user file, then bases are resolved and every preset is resolved with
 * flags and printed back; every problem reported is put into JSON through
 * sched/jsonx.h, which must never fail. Seeds in tests/fuzz/seeds-config/ (from etc/). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <stdlib.h>

#include <jansson.h>

#include "policy/config.h"
#include "policy/presets.h"
#include "sched/jsonx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every problem goes into JSON as check-config --json puts it: it must
 * never fail, whatever bytes the message quotes (a crash once). */
static void fuzz_report(void *arg, const char *file, int line,
			const char *msg)
{
	json_t *o = json_object();
	char *s;

	(void)arg;
	if (jsonx_sets(o, "file", file) < 0 ||
	    json_object_set_new(o, "line", json_integer(line)) < 0 ||
	    jsonx_sets(o, "message", msg) < 0 ||
	    !(s = json_dumps(o, JSON_COMPACT)))
		abort();
	free(s);
	json_decref(o);
}

/* Parse data as a system and a user file; resolve and format everything. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_config *cfg;
	struct policy_preset p;
	struct policy_origin o[PRESETS_NKNOBS];
	char err[512], warn[1024], buf[256];

	if (policy_config_new(&cfg) < 0)
		return 0;
	policy_config_set_report(cfg, fuzz_report, NULL);
	policy_config_parse(cfg, "fuzz-system.conf", (const char *)data, size, 1);
	policy_config_parse(cfg, "fuzz-user.conf", (const char *)data, size, 0);
	policy_config_finish(cfg, err, sizeof err);
	for (size_t i = 0; i < policy_config_npresets(cfg); i++) {
		const char *name = policy_config_preset_name(cfg, i);
		struct policy_flags f = POLICY_FLAGS_INIT;
		if (policy_config_preset(cfg, name, &p, o) == 0)
			for (int k = 0; k < PRESETS_NKNOBS; k++) {
				presets_knob_format(&p, k, buf, sizeof buf);
				policy_origin_format(&o[k], buf, sizeof buf);
			}
		f.preset = name;
		f.insist = (int)(i & 1);
		f.nice = (int)(i % 21) - 1;
		f.jobs = (int)(i % 5);
		policy_config_resolve(cfg, &f, &p, warn, sizeof warn, err,
				      sizeof err);
	}
	policy_config_resolve(cfg, NULL, &p, warn, sizeof warn, err, sizeof err);
	policy_config_describe_limits(cfg, buf, sizeof buf);
	policy_config_free(cfg);
	return 0;
}
