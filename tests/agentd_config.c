/* The system config's [agent] section (policy/config_sections.c) and the
 * fence the agent reads from [limits] (policy_config_fence): admins and
 * tick_ms honoured only in system files, bad values named with file:line,
 * max_preset's weight class and nice as the fence. */
#include <stdio.h>
#include <string.h>

#include "policy/config.h"
#include "tests/tap.h"

/* Parse text as a system (or user) file and finish; returns the errors. */
static int parse(struct policy_config **cfg, const char *text, int system,
		 char *err, size_t errlen)
{
	int n;

	policy_config_new(cfg);
	n = policy_config_parse(*cfg, "f.conf", text, strlen(text), system);
	n += policy_config_finish(*cfg, err, errlen) > 0 && !n;
	return n;
}

int main(void)
{
	struct policy_config *cfg;
	struct policy_agent_conf ac;
	struct policy_fence fe;
	char err[512] = "";

	is_int(parse(&cfg, "[agent]\nadmins = wheel, staff adm\ntick_ms = 250\n",
		     1, err, sizeof err), 0, "[agent] in a system file: no error");
	policy_config_agent(cfg, &ac);
	is_str(ac.admins, "wheel, staff adm", "admins as written");
	is_int(ac.admins_origin.line, 2, "admins' origin line");
	is_int(ac.tick_ms, 250, "tick_ms");
	policy_config_fence(cfg, &fe);
	ok(fe.max_weight == POLICY_WEIGHT_NORMAL && fe.min_nice == -1,
	   "no [limits]: the fence allows NORMAL, no min_nice");
	policy_config_free(cfg);

	ok(parse(&cfg, "[agent]\nadmins = wheel\n", 0, err, sizeof err) > 0 &&
	   strstr(err, "f.conf:1: [agent] is honoured only in the system"),
	   "[agent] in a user file is an error naming file:line (%s)", err);
	policy_config_free(cfg);

	ok(parse(&cfg, "[agent]\ntick_ms = 5\n", 1, err, sizeof err) > 0 &&
	   strstr(err, "f.conf:2: bad value '5' for tick_ms"),
	   "tick_ms out of range (%s)", err);
	policy_config_free(cfg);

	ok(parse(&cfg, "[agent]\nadmins = wh;eel\n", 1, err, sizeof err) > 0 &&
	   strstr(err, "bad value 'wh;eel' for admins"),
	   "admins with a bad byte (%s)", err);
	policy_config_free(cfg);

	ok(parse(&cfg, "[agent]\nsocket = /tmp/x\n", 1, err, sizeof err) > 0 &&
	   strstr(err, "unknown key 'socket' in [agent] (accepted: admins, "
		  "tick_ms, dashboard)"), "unknown key (%s)", err);
	policy_config_free(cfg);

	ok(parse(&cfg, "[agent]\ntick_ms = 100\ntick_ms = 200\n", 1, err,
		 sizeof err) > 0 && strstr(err, "set twice"),
	   "a key twice in one file (%s)", err);
	policy_config_free(cfg);

	is_int(parse(&cfg, "[limits]\nmax_preset = aggressive\nmin_nice = 12\n",
		     1, err, sizeof err), 0, "[limits] parses (%s)", err);
	policy_config_fence(cfg, &fe);
	ok(fe.max_weight == POLICY_WEIGHT_LOW, "max_preset aggressive: the "
	   "fence caps the weight at aggressive's class (low)");
	is_int(fe.min_nice, 12, "min_nice 12 (above aggressive's nice 10)");
	policy_config_agent(cfg, &ac);
	ok(!*ac.admins && ac.tick_ms == 0, "no [agent]: no admins, default tick");
	ok(!*ac.dashboard_host && ac.dashboard_port == 0,
	   "no [agent]: the dashboard is off");
	policy_config_free(cfg);

	/* dashboard = HOST:PORT, loopback only */
	static const struct { const char *v, *host; int port; } good[] = {
		{ "127.0.0.1:8080", "127.0.0.1", 8080 },
		{ "127.1.2.3:1", "127.1.2.3", 1 },
		{ "localhost:65535", "127.0.0.1", 65535 },
		{ "[::1]:9000", "::1", 9000 },
		{ "off", "", 0 },
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char text[128];

		snprintf(text, sizeof text, "[agent]\ndashboard = %s\n",
			 good[i].v);
		is_int(parse(&cfg, text, 1, err, sizeof err), 0,
		       "dashboard = %s parses", good[i].v);
		policy_config_agent(cfg, &ac);
		ok(!strcmp(ac.dashboard_host, good[i].host) &&
		   ac.dashboard_port == good[i].port &&
		   (!good[i].port || ac.dashboard_origin.line == 2),
		   "... host '%s' port %d", ac.dashboard_host,
		   ac.dashboard_port);
		policy_config_free(cfg);
	}
	static const char *const remote[] = {
		"0.0.0.0:8080", "10.1.2.3:80", "[::]:8080", "[2001:db8::1]:80",
		"128.0.0.1:80",
	};
	for (size_t i = 0; i < sizeof remote / sizeof remote[0]; i++) {
		char text[128];

		snprintf(text, sizeof text, "[agent]\ntick_ms = 100\n"
			 "dashboard = %s\n", remote[i]);
		ok(parse(&cfg, text, 1, err, sizeof err) > 0 &&
		   strstr(err, "f.conf:3: dashboard address") &&
		   strstr(err, "is not a loopback address"),
		   "dashboard = %s refused, naming the line (%s)", remote[i],
		   err);
		policy_config_free(cfg);
	}
	static const char *const bad[] = {
		"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:80x",
		":80", "example.org:80", "[::1:80", "127.0.0.1:",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char text[128];

		snprintf(text, sizeof text, "[agent]\ndashboard = %s\n",
			 bad[i]);
		ok(parse(&cfg, text, 1, err, sizeof err) > 0 &&
		   strstr(err, "f.conf:2: bad value") &&
		   strstr(err, "for dashboard (accepted: off, or ADDRESS:PORT"),
		   "dashboard = %s: a bad value (%s)", bad[i], err);
		policy_config_free(cfg);
	}
	ok(parse(&cfg, "[agent]\ndashboard = 127.0.0.1:1\n"
		 "dashboard = 127.0.0.1:2\n", 1, err, sizeof err) > 0 &&
	   strstr(err, "f.conf:3: 'dashboard' set twice"),
	   "dashboard twice (%s)", err);
	policy_config_free(cfg);

	is_int(parse(&cfg, "[limits]\nmax_preset = generous\n", 1, err,
		     sizeof err), 0, "max_preset generous parses");
	policy_config_fence(cfg, &fe);
	policy_config_free(cfg);
	ok(fe.max_weight == POLICY_WEIGHT_IDLE && fe.min_nice == 19,
	   "max_preset generous: idle class, nice 19 at least");
	return tap_done();
}
