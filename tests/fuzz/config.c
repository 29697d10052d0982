/* libFuzzer target for the config parser: the input is parsed through the
 * same reader and handler as a file, once as a system file and once as a
 * user file, then bases are resolved and every preset is resolved with
 * flags and printed back. Seeds in tests/fuzz/seeds-config/ (from etc/). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy/config.h"
#include "policy/presets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse data as a system and a user file; resolve and format everything. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_config *cfg;
	struct policy_preset p;
	struct policy_origin o[PRESETS_NKNOBS];
	char err[512], warn[1024], buf[256];

	if (policy_config_new(&cfg) < 0)
		return 0;
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
