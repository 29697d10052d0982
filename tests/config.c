/* Config parsing tests: temp dirs stand in for NICELY_SYSCONFDIR,
 * XDG_CONFIG_HOME and NICELY_CONFIG. Every error case names file:line;
 * precedence, bases, cycles, [limits] and where each value came from. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/config.h"
#include "policy/presets.h"
#include "tests/tap.h"

static char root[256], sysdir[300], userdir[300];

/* Remove one entry of the temp tree. */
static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove the temp tree. */
static void cleanup(void)
{
	if (root[0])
		nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write text to root/rel, making directories. Returns the full path in a
 * static buffer (one of a few, rotated). */
static const char *put(const char *rel, const char *text)
{
	static char paths[8][512];
	static int next;
	char *path = paths[next++ % 8], dir[512];

	snprintf(path, 512, "%s/%s", root, rel);
	snprintf(dir, sizeof dir, "%s", path);
	for (char *s = dir + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		mkdir(dir, 0755);
		*s = '/';
	}
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		tap_bail("cannot write a temp file");
	return path;
}

/* Start over: empty system and user dirs, no NICELY_CONFIG. */
static void reset(void)
{
	cleanup();
	if (mkdir(root, 0700) < 0)
		tap_bail("cannot make the temp dir");
	mkdir(sysdir, 0755);
	mkdir(userdir, 0755);
	unsetenv("NICELY_CONFIG");
}

/* Load with the environment's paths; returns the result code. */
static int load(struct policy_config **cfg, char *err, size_t len)
{
	err[0] = 0;
	*cfg = NULL;
	return policy_config_load(cfg, NULL, err, len);
}

/* 1 when s starts with prefix. */
static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* Load a single user file with text and expect an error at its line. */
static void expect_error(const char *what, const char *text, int line,
			 const char *needle)
{
	struct policy_config *cfg;
	char err[512], want[600];

	reset();
	const char *f = put("user/nicely/nicely.conf", text);
	int r = load(&cfg, err, sizeof err);
	snprintf(want, sizeof want, "%s:%d: ", f, line);
	ok(r == -EINVAL && !cfg && starts(err, want) && strstr(err, needle),
	   "%s: error at file:%d naming '%s'", what, line, needle);
	if (r != -EINVAL || !starts(err, want) || !strstr(err, needle))
		tap_diag("got %d: %s", r, err);
	policy_config_free(cfg);
}

/* Every error case in a user file. */
static void test_errors(void)
{
	expect_error("unknown section", "[preset a]\nnice = 3\n[foo]\n", 3,
		     "unknown section [foo]");
	expect_error("unknown key", "[preset a]\n\nfoo = 1\n", 3,
		     "unknown key 'foo'");
	expect_error("unknown key lists accepted", "[preset a]\nfoo = 1\n", 2,
		     "accepted: base, description");
	expect_error("bad number", "[preset a]\nnice = abc\n", 2,
		     "bad value 'abc' for nice");
	expect_error("nice out of range", "[preset a]\nnice = 20\n", 2,
		     "accepted: an integer 0..19");
	expect_error("percent over 100", "[preset a]\nidle_threshold = 150%\n",
		     2, "percent over 100");
	expect_error("max_pus percent over 100", "[preset a]\nmax_pus = 120%\n",
		     2, "percent over 100");
	expect_error("pressure over 100",
		     "[preset a]\npressure_ceiling = 101\n", 2, "percent over 100");
	expect_error("bad enum", "[preset a]\non_return = explode\n", 2,
		     "keep, move, pause or stop");
	expect_error("bad size", "[preset a]\nmem_floor = 12Q\n", 2,
		     "not a size");
	expect_error("bad duration", "[preset a]\nhysteresis = soon\n", 2,
		     "not a duration");
	expect_error("unknown base", "[preset a]\nbase = nosuch\n", 2,
		     "unknown base preset 'nosuch'");
	expect_error("cycle of bases",
		     "[preset a]\nbase = b\n[preset b]\nbase = a\n", 4,
		     "cycle of base presets: b -> a -> b");
	expect_error("self base", "[preset a]\nbase = a\n", 2,
		     "cycle of base presets: a -> a");
	expect_error("limits in a user file", "[limits]\nmax_pus = 3\n", 1,
		     "[limits] is honoured only in the system files");
	expect_error("key outside a section", "nice = 3\n", 1,
		     "outside any section");
	expect_error("not key = value", "[preset a]\njust words\n", 2,
		     "expected '[section]' or 'key = value'");
	expect_error("header without ]", "[preset a\nnice = 3\n", 1,
		     "without ']'");
	expect_error("bad preset name", "[preset a/b]\nnice = 3\n", 1,
		     "bad preset name 'a/b'");
	expect_error("unknown default", "[defaults]\npreset = nosuch\n", 2,
		     "unknown preset 'nosuch'");
	expect_error("bad default name", "[defaults]\npreset = a b\n", 2,
		     "bad value 'a b' for preset: not a preset name (accepted: 1-63");
	expect_error("bad base name", "[preset a]\nbase = x/y\n", 2,
		     "bad value 'x/y' for base: not a preset name (accepted: 1-63");
	expect_error("unknown key in defaults", "[defaults]\nfoo = 1\n", 2,
		     "unknown key 'foo' in [defaults]");
	expect_error("key set twice", "[preset a]\nnice = 3\n\nnice = 4\n", 4,
		     "'nice' set twice in [preset a] (first at line 2)");
	expect_error("key set twice in a reopened section",
		     "[preset a]\nbase = generous\n[preset b]\n[preset a]\n"
		     "base = normal\n", 5, "'base' set twice in [preset a]");
	expect_error("default set twice",
		     "[defaults]\npreset = normal\npreset = generous\n", 3,
		     "'preset' set twice in [defaults] (first at line 2)");
	char longline[400];
	snprintf(longline, sizeof longline, "[preset a]\ndescription = %0300d\n", 0);
	expect_error("line too long", longline, 2, "line too long");

	struct policy_config *cfg;
	char err[512], want[600];
	reset();
	const char *missing = put("x", "");
	remove(missing);
	setenv("NICELY_CONFIG", missing, 1);
	ok(load(&cfg, err, sizeof err) == -EINVAL && starts(err, missing) &&
	   strstr(err, "cannot read: No such file"),
	   "NICELY_CONFIG missing: names the file");
	setenv("NICELY_CONFIG", sysdir, 1);
	ok(load(&cfg, err, sizeof err) == -EINVAL && starts(err, sysdir) &&
	   strstr(err, "cannot read"), "NICELY_CONFIG a directory: names it");
	unsetenv("NICELY_CONFIG");

	reset();
	const char *s = put("sys/nicely/nicely.conf",
			    "[limits]\nmax_preset = nosuch\n");
	snprintf(want, sizeof want, "%s:2: ", s);
	ok(load(&cfg, err, sizeof err) == -EINVAL && starts(err, want) &&
	   strstr(err, "max_preset"), "unknown max_preset: file:line");
	reset();
	s = put("sys/nicely/nicely.conf", "[defaults]\n\npreset = mine\n");
	put("user/nicely/nicely.conf", "[preset mine]\n[defaults]\npreset = mine\n");
	snprintf(want, sizeof want, "%s:3: ", s);
	ok(load(&cfg, err, sizeof err) == -EINVAL && starts(err, want) &&
	   strstr(err, "unknown preset 'mine'"),
	   "a system default needing a user's preset: error at its line");
	reset();
	s = put("sys/nicely/nicely.conf",
		"[limits]\nmin_nice = 5\nmax_pus = 4\nmin_nice = 10\n");
	snprintf(want, sizeof want, "%s:4: ", s);
	ok(load(&cfg, err, sizeof err) == -EINVAL && starts(err, want) &&
	   strstr(err, "'min_nice' set twice in [limits] (first at line 2)"),
	   "a limit set twice in one file: error at the second");
	reset();
	put("sys/nicely/nicely.conf", "[preset a]\nnice = 3\n");
	put("sys/nicely/presets.d/10-a.conf", "[preset a]\nnice = 4\n");
	put("user/nicely/nicely.conf", "[preset a]\nnice = 5\n");
	ok(load(&cfg, err, sizeof err) == 0, "the same key in later files overrides");
	policy_config_free(cfg);
	reset();
	s = put("sys/nicely/nicely.conf", "[limits]\nmin_nice = -1\n");
	snprintf(want, sizeof want, "%s:2: ", s);
	ok(load(&cfg, err, sizeof err) == -EINVAL && starts(err, want) &&
	   strstr(err, "min_nice"), "bad min_nice: file:line");
	ok(strstr(err, "bad value '-1' for min_nice (accepted: an integer "
		  "0..19)") != NULL,
	   "  and nice's range, from the knob table");
}

/* Collects reported problems. */
struct problems {
	int n;
	int lines[16];
	char msgs[16][200];
};

/* The report callback of the tests. */
static void collect(void *arg, const char *file, int line, const char *msg)
{
	struct problems *p = arg;

	(void)file;
	if (p->n < 16) {
		p->lines[p->n] = line;
		snprintf(p->msgs[p->n], sizeof p->msgs[0], "%s", msg);
	}
	p->n++;
}

/* Several problems in one buffer are all reported, in order; blanks,
 * comments, CRLF, a BOM and indentation are fine. */
static void test_buffer(void)
{
	static const char text[] =
		"\xEF\xBB\xBF; comment\r\n"
		"# another\n"
		"[preset a]\n"
		"  nice = 3      ; inline comment\n"
		"\tidle_threshold = 40%\r\n"
		"bogus = 1\n"
		"nice = 99\n"
		"\n"
		"[preset b]\n"
		"base = a\n"
		"max_pus = 50%\n";
	struct policy_config *cfg;
	struct problems pr = { 0 };
	struct policy_preset p;
	struct policy_origin o[PRESETS_NKNOBS];
	char err[512];

	policy_config_new(&cfg);
	policy_config_set_report(cfg, collect, &pr);
	is_int(policy_config_parse(cfg, "buf", text, sizeof text - 1, 0), 2,
	       "buffer: two errors");
	is_int(policy_config_finish(cfg, err, sizeof err), 2,
	       "finish counts them");
	ok(pr.n == 2 && pr.lines[0] == 6 && pr.lines[1] == 7,
	   "reported at lines 6 and 7");
	is_str(err, "buf:6: unknown key 'bogus' in [preset a] (accepted: base, "
	       "description, idle_threshold, max_pus, reserve_pus, "
	       "reserve_min_pus, load_ceiling, pressure_ceiling, mem_floor, "
	       "nice, cpu_weight, ramp_up, force_one, on_return, smt_avoid, "
	       "placement, interval, hysteresis, ignore_others, memory_max)",
	       "first error text");
	ok(policy_config_preset(cfg, "b", &p, o) == 0 && p.nice == 3 &&
	   p.idle_threshold > 0.39 && p.idle_threshold < 0.41 &&
	   p.max_pus_pct == 50, "b inherits a's indented values");
	ok(o[PRESETS_NICE].line == 4 && o[PRESETS_IDLE_THRESHOLD].line == 5 &&
	   o[PRESETS_MAX_PUS].line == 11 && !o[PRESETS_RAMP_UP].file,
	   "origins: lines 4, 5, 11 and built-in");
	policy_config_free(cfg);

	static const char nul[] = "[preset a]\nnice = 3\0\n";
	policy_config_new(&cfg);
	is_int(policy_config_parse(cfg, "nul", nul, sizeof nul - 1, 0), 1,
	       "a NUL byte is an error");
	policy_config_finish(cfg, err, sizeof err);
	ok(starts(err, "nul:2: NUL byte"), "  at its line");
	policy_config_free(cfg);
}

/* No files: the built-ins, normal by default, everything built-in. */
static void test_builtins(void)
{
	struct policy_config *cfg;
	struct policy_preset p;
	struct policy_origin o[PRESETS_NKNOBS], d;
	char err[512], buf[64];

	reset();
	is_int(load(&cfg, err, sizeof err), 0, "no config files: loads");
	is_int(policy_config_npresets(cfg), 5, "five built-in presets");
	is_str(policy_config_default(cfg, &d), "normal", "default is normal");
	ok(!d.file, "  built-in");
	ok(policy_config_preset(cfg, "generous", &p, o) == 0 && p.nice == 19 &&
	   !p.force_one && !o[PRESETS_NICE].file, "generous, from built-in");
	policy_origin_format(&o[PRESETS_NICE], buf, sizeof buf);
	is_str(buf, "built-in", "origin format");
	ok(policy_config_resolve(cfg, NULL, &p, buf, sizeof buf, err,
				 sizeof err) == 0 && !strcmp(p.name, "normal") &&
	   !buf[0], "resolve with no flags: normal, no warning");
	ok(policy_config_resolve(cfg, &(struct policy_flags){ "nosuch", 0, -1, 1 },
				 &p, buf, sizeof buf, err, sizeof err) == -ENOENT &&
	   strstr(err, "unknown preset 'nosuch' (known: generous, normal"),
	   "unknown preset flag: error lists the known ones");
	policy_config_free(cfg);
}

/* System, presets.d in name order, user, NICELY_CONFIG: later wins. */
static void test_precedence(void)
{
	struct policy_config *cfg;
	struct policy_preset p;
	struct policy_origin o[PRESETS_NKNOBS], d;
	char err[512];

	reset();
	const char *s = put("sys/nicely/nicely.conf",
			    "[defaults]\npreset = generous\n[preset normal]\n"
			    "nice = 15\nramp_up = 3\n");
	put("sys/nicely/presets.d/20-b.conf", "[preset normal]\nnice = 17\n");
	const char *a = put("sys/nicely/presets.d/10-a.conf",
			    "[preset normal]\nnice = 16\nreserve_pus = 2\n");
	put("sys/nicely/presets.d/30-c.conf.dpkg-old", "garbage\n");
	const char *u = put("user/nicely/nicely.conf",
			    "[preset normal]\n\nnice = 18\n");
	const char *e = put("extra.conf", "[defaults]\npreset = aggressive\n"
					  "[preset normal]\nnice = 12\n");
	setenv("NICELY_CONFIG", e, 1);
	is_int(load(&cfg, err, sizeof err), 0, "full chain loads");
	if (!cfg) {
		tap_diag("%s", err);
		return;
	}
	policy_config_preset(cfg, "normal", &p, o);
	ok(p.nice == 12 && o[PRESETS_NICE].file && !strcmp(o[PRESETS_NICE].file, e) &&
	   o[PRESETS_NICE].line == 4, "NICELY_CONFIG wins, at its line");
	ok(p.ramp_up == 3 && !strcmp(o[PRESETS_RAMP_UP].file, s) &&
	   o[PRESETS_RAMP_UP].line == 5, "system file value kept where not overridden");
	ok(p.reserve_pus == 2 && !strcmp(o[PRESETS_RESERVE_PUS].file, a),
	   "presets.d value kept");
	ok(!o[PRESETS_IDLE_THRESHOLD].file, "untouched knob: built-in");
	is_str(policy_config_default(cfg, &d), "aggressive",
	       "default preset from NICELY_CONFIG");
	is_int(d.line, 2, "  at line 2");
	is_int(policy_config_nfiles(cfg), 5, "five files read (.dpkg-old skipped)");
	policy_config_free(cfg);

	unsetenv("NICELY_CONFIG");
	load(&cfg, err, sizeof err);
	policy_config_preset(cfg, "normal", &p, o);
	ok(p.nice == 18 && !strcmp(o[PRESETS_NICE].file, u) &&
	   o[PRESETS_NICE].line == 3, "without NICELY_CONFIG the user file wins");
	is_str(policy_config_default(cfg, NULL), "generous",
	       "default preset from the system file");
	policy_config_free(cfg);

	remove(u);
	load(&cfg, err, sizeof err);
	policy_config_preset(cfg, "normal", &p, NULL);
	is_int(p.nice, 17, "without the user file: presets.d 20-b after 10-a");
	policy_config_free(cfg);
}

/* New presets based on others; a chain of bases; where values come from. */
static void test_bases(void)
{
	struct policy_config *cfg;
	struct policy_preset p;
	struct policy_origin o[PRESETS_NKNOBS];
	char err[512], w[256];

	reset();
	const char *u = put("user/nicely/nicely.conf",
			    "[preset nightly]\nbase = aggressive\nnice = 15\n"
			    "description = after hours\n"
			    "[preset later]\nbase = nightly\nramp_up = 9\n"
			    "[preset plain]\nnice = 7\n");
	is_int(load(&cfg, err, sizeof err), 0, "presets with bases load");
	is_int(policy_config_npresets(cfg), 8, "5 built-in + 3 new");
	is_str(policy_config_preset_name(cfg, 5), "nightly", "listed in order");
	policy_config_preset(cfg, "later", &p, o);
	ok(p.nice == 15 && p.ramp_up == 9 && p.idle_threshold == 0.5 &&
	   !strcmp(p.name, "later"), "later: nightly's nice, its ramp, "
				     "aggressive's threshold");
	ok(!strcmp(o[PRESETS_NICE].file, u) && o[PRESETS_NICE].line == 3 &&
	   o[PRESETS_RAMP_UP].line == 7 && !o[PRESETS_IDLE_THRESHOLD].file,
	   "where-from follows the chain");
	policy_config_preset(cfg, "plain", &p, o);
	ok(p.nice == 7 && p.idle_threshold == 0.25 &&
	   !strcmp(p.description, "based on normal"),
	   "no base: starts from normal");
	ok(policy_config_resolve(cfg, &(struct policy_flags){ "nightly", 0, -1, 1 },
				 &p, w, sizeof w, err, sizeof err) == 0 &&
	   p.nice == 15 && !strcmp(p.description, "after hours"),
	   "resolve a user preset by flag");
	policy_config_free(cfg);
}

/* The admin's [limits]. */
static void test_limits(void)
{
	struct policy_config *cfg;
	struct policy_preset p;
	char err[512], w[512], want[600];

	reset();
	const char *s = put("sys/nicely/nicely.conf",
			    "[limits]\nmax_preset = aggressive\nmin_nice = 5\n"
			    "max_pus = 8\n");
	const char *u = put("user/nicely/nicely.conf",
			    "[defaults]\npreset = nuclear\n"
			    "[preset aggressive]\nidle_threshold = 1\n");
	is_int(load(&cfg, err, sizeof err), 0, "limits load");
	if (!cfg)
		return;
	snprintf(want, sizeof want, "max_preset = %s (at %s:2)", "aggressive", s);
	snprintf(want, sizeof want, "set at %s:2", s);

	struct policy_flags f = POLICY_FLAGS_INIT;
	f.preset = "extreme";
	ok(policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err) ==
		   -EPERM && strstr(err, "max_preset = aggressive") &&
	   strstr(err, want), "--preset extreme beyond the limit: error naming it");
	f.insist = 0;
	ok(policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err) == 0 &&
	   p.idle_threshold == 0.5 && p.nice == 10 && strstr(w, "idle_threshold = 50% (not 75%)"),
	   "without insisting: clamped with a warning");
	tap_diag("warning: %s", w);

	ok(policy_config_resolve(cfg, NULL, &p, w, sizeof w, err, sizeof err) == 0 &&
	   !p.ignore_others && p.nice == 10 && p.max_pus == 8 &&
	   strstr(w, "preset 'nuclear'") && strstr(w, want),
	   "a user's default beyond the limit: clamped, warned");
	(void)u;

	f = (struct policy_flags)POLICY_FLAGS_INIT;
	f.preset = "aggressive";
	f.insist = 0;
	ok(policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err) == 0 &&
	   p.idle_threshold == 0.5 && strstr(w, "idle_threshold = 50% (not 100%)"),
	   "a user redefining the limit preset does not move the limit");
	f.insist = 1;
	f.preset = "normal";
	ok(policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err) == 0 &&
	   p.max_pus == 8 && !w[0], "max_pus applies silently to a preset without cap");
	f.nice = 2;
	ok(policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err) ==
		   -EPERM && strstr(err, "nice 2 is below the limit"),
	   "--nice 2 below the limit: error");
	f.insist = 0;
	ok(policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err) == 0 &&
	   p.nice == 10 && strstr(w, "nice 2"), "  not insisting: clamped");
	f = (struct policy_flags)POLICY_FLAGS_INIT;
	f.preset = "normal";
	f.jobs = 20;
	ok(policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err) ==
		   -EPERM && strstr(err, "max_pus = 8"), "-j 20 above max_pus 8: error");
	f.jobs = 4;
	ok(policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err) == 0 &&
	   p.max_pus == 4, "-j 4: the cap");
	f.nice = 12;
	ok(policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err) == 0 &&
	   p.nice == 12, "--nice 12: allowed");
	f.nice = 20;
	ok(policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err) ==
		   -EINVAL && !strcmp(err, "bad nice 20 (accepted: 0..19)"),
	   "--nice 20: outside nice's range in the knob table");
	policy_config_describe_limits(cfg, w, sizeof w);
	ok(strstr(w, "max_preset = aggressive") && strstr(w, "min_nice = 5") &&
	   strstr(w, "max_pus = 8"), "limits described");
	policy_config_free(cfg);
}

/* What the other limits and flags do: min_nice raises a preset's own nice
 * (warned), a percent max_pus caps every preset's percent, -j only lowers
 * a preset's cap, a bad -j is refused, and a preset whose definition has
 * errors cannot be resolved. */
static void test_limits_more(void)
{
	struct policy_config *cfg;
	struct policy_preset p;
	char err[512], w[512];
	struct policy_flags f = POLICY_FLAGS_INIT;

	reset();
	put("sys/nicely/nicely.conf", "[limits]\nmin_nice = 15\nmax_pus = 50%\n"
				      "[preset wide]\nmax_pus = 75%\n"
				      "[preset narrow]\nmax_pus = 25%\n"
				      "[preset four]\nmax_pus = 4\n");
	is_int(load(&cfg, err, sizeof err), 0, "limits with a percent load");
	if (!cfg)
		return;
	f.preset = "aggressive";
	ok(policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err) == 0 &&
	   p.nice == 15 && strstr(w, "preset 'aggressive' has nice 10, below the "
			 "limit min_nice = 15"),
	   "min_nice raises a preset's own nice, with a warning");
	ok(p.max_pus_pct == 50, "max_pus = 50%% caps a preset without a cap");
	f.preset = "wide";
	policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err);
	ok(p.max_pus_pct == 50, "... and one of 75%%");
	f.preset = "narrow";
	policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err);
	ok(p.max_pus_pct == 25, "... but not one of 25%%");
	f.preset = "four";
	f.jobs = 8;
	ok(policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err) == 0 &&
	   p.max_pus == 4, "-j 8 on a preset capped at 4: the cap stays 4");
	f.jobs = -1;
	ok(policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err) ==
		   -EINVAL && strstr(err, "bad number of jobs -1"), "-j -1: refused");
	policy_config_free(cfg);

	static const char bad[] = "[preset broken]\nbase = nosuch\n";
	policy_config_new(&cfg);
	policy_config_parse(cfg, "buf", bad, sizeof bad - 1, 0);
	is_int(policy_config_finish(cfg, err, sizeof err), 1, "a broken preset");
	f = (struct policy_flags)POLICY_FLAGS_INIT;
	f.preset = "broken";
	ok(policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err) ==
		   -EINVAL && strstr(err, "its definition has errors"),
	   "resolving it anyway is refused");
	policy_config_free(cfg);
}

/* File handling: a CRLF section header, text after a header's ']', dot
 * files in presets.d, and a relative XDG_CONFIG_HOME (ignored, as the XDG
 * spec says: ~/.config is used). */
static void test_files(void)
{
	struct policy_config *cfg;
	struct policy_preset p;
	char err[512], home[400];

	reset();
	put("user/nicely/nicely.conf", "[preset a]\r\nnice = 3\r\n");
	ok(load(&cfg, err, sizeof err) == 0 &&
	   policy_config_preset(cfg, "a", &p, NULL) == 0 && p.nice == 3,
	   "CRLF line ends, section header included");
	policy_config_free(cfg);
	expect_error("text after ]", "[preset a] nice = 3\n", 1,
		     "text after the section header's ']'");

	reset();
	put("sys/nicely/presets.d/.10-hidden.conf", "garbage\n");
	put("sys/nicely/presets.d/20-b.conf", "[preset b]\n");
	ok(load(&cfg, err, sizeof err) == 0 && policy_config_nfiles(cfg) == 1,
	   "presets.d: a dot file is not read");
	policy_config_free(cfg);

	reset();
	snprintf(home, sizeof home, "%s/home", root);
	put("home/.config/nicely/nicely.conf", "[preset fromhome]\n");
	put("user/nicely/nicely.conf", "[preset fromxdg]\n");
	const char *oldhome = getenv("HOME");
	char saved[PATH_MAX];

	snprintf(saved, sizeof saved, "%s", oldhome ? oldhome : "");
	setenv("HOME", home, 1);
	setenv("XDG_CONFIG_HOME", "user", 1);
	ok(load(&cfg, err, sizeof err) == 0 &&
	   policy_config_preset(cfg, "fromhome", &p, NULL) == 0 &&
	   policy_config_preset(cfg, "fromxdg", &p, NULL) < 0,
	   "relative XDG_CONFIG_HOME: ~/.config is read instead");
	policy_config_free(cfg);
	setenv("XDG_CONFIG_HOME", userdir, 1);
	if (oldhome)
		setenv("HOME", saved, 1);
	else
		unsetenv("HOME");
}

/* check-config's mode: given files after the system ones, every problem
 * reported through the callback. */
static void test_files_mode(void)
{
	struct policy_config *cfg = NULL;
	struct problems pr = { 0 };
	char err[512];

	reset();
	put("sys/nicely/nicely.conf", "[preset site]\nbase = normal\n");
	const char *f = put("mine.conf", "[preset x]\nbase = site\nnice = 40\n"
					 "[limits]\nmax_pus = 2\n[preset y]\nbase = z\n");
	const char *files[] = { f };
	struct policy_config_opts o = { .files = files, .nfiles = 1,
					.report = collect, .report_arg = &pr };
	ok(policy_config_load(&cfg, &o, err, sizeof err) == -EINVAL && !cfg,
	   "files mode: errors fail the load");
	ok(pr.n == 3 && pr.lines[0] == 3 && pr.lines[1] == 4 && pr.lines[2] == 7,
	   "all three problems reported, at lines 3, 4, 7");
	for (int i = 0; i < pr.n && i < 16; i++)
		tap_diag("line %d: %s", pr.lines[i], pr.msgs[i]);
	pr.n = 0;
	o.files_system = 1;
	policy_config_load(&cfg, &o, err, sizeof err);
	ok(pr.n == 2, "as a system file [limits] is accepted");
	policy_config_free(cfg);
}

/* Run the config tests in temp dirs standing in for /etc and ~/.config. */
/* Load one system file with text and expect an error at its line. */
static void expect_sys_error(const char *what, const char *text, int line,
			     const char *needle)
{
	struct policy_config *cfg;
	char err[512], want[600];

	reset();
	const char *f = put("sys/nicely/nicely.conf", text);
	int r = load(&cfg, err, sizeof err);
	snprintf(want, sizeof want, "%s:%d: ", f, line);
	ok(r == -EINVAL && !cfg && starts(err, want) && strstr(err, needle),
	   "%s: error at file:%d naming '%s'", what, line, needle);
	if (r != -EINVAL || !starts(err, want) || !strstr(err, needle))
		tap_diag("got %d: %s", r, err);
	policy_config_free(cfg);
}

/* [limits] max_pus is per user: all of one user's batches together. */
static void test_user_limit(void)
{
	struct policy_config *cfg;
	struct policy_user_limit ul;
	struct policy_flags f = POLICY_FLAGS_INIT;
	struct policy_preset p;
	char err[512], w[512], at[600];

	reset();
	const char *s = put("sys/nicely/nicely.conf",
			    "[limits]\n\nmax_pus = 3\n");
	is_int(load(&cfg, err, sizeof err), 0, "per-user max_pus loads");
	if (!cfg)
		return;
	policy_config_user_limit(cfg, &ul);
	ok(ul.max_pus == 3 && ul.max_pus_pct == 0 && ul.origin.file &&
	   !strcmp(ul.origin.file, s) && ul.origin.line == 3,
	   "the per-user limit is 3 PUs, from file:3");
	is_int(policy_user_limit_pus(&ul, 16), 3, "  3 PUs whatever the machine");
	f.preset = "nuclear";
	ok(policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err) == 0 &&
	   p.max_pus == 3, "it caps one batch on its own too (max_pus 3)");
	f.jobs = 5;
	snprintf(at, sizeof at, "set at %s:3", s);
	ok(policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err) ==
		   -EPERM && strstr(err, "5 jobs is above the limit max_pus = 3 "
				    "(PUs per user)") && strstr(err, at),
	   "-j 5 insisting: an error naming the per-user limit and file:line");
	tap_diag("%s", err);
	f.insist = 0;
	ok(policy_config_resolve(cfg, &f, &p, w, sizeof w, err, sizeof err) == 0 &&
	   p.max_pus == 3 && strstr(w, "(PUs per user)") && strstr(w, "using 3"),
	   "-j 5 not insisting: 3, with a warning");
	policy_config_describe_limits(cfg, w, sizeof w);
	ok(strstr(w, "max_pus = 3 per user (") && strstr(w, s),
	   "described as per user: %s", w);
	policy_config_free(cfg);

	reset();
	put("sys/nicely/nicely.conf", "[limits]\nmax_pus = 50%\n");
	put("sys/nicely/presets.d/10-more.conf", "[limits]\nmax_pus = 25%\n");
	is_int(load(&cfg, err, sizeof err), 0, "a percent, overridden in presets.d");
	if (!cfg)
		return;
	policy_config_user_limit(cfg, &ul);
	ok(ul.max_pus == 0 && ul.max_pus_pct == 25 && ul.origin.line == 2 &&
	   strstr(ul.origin.file, "10-more.conf"), "the later system file wins");
	is_int(policy_user_limit_pus(&ul, 16), 4, "  25%% of 16 allowed PUs: 4");
	is_int(policy_user_limit_pus(&ul, 2), 1, "  25%% of 2: at least 1");
	policy_config_free(cfg);

	reset();
	put("sys/nicely/nicely.conf", "[limits]\nmax_pus = none\n");
	is_int(load(&cfg, err, sizeof err), 0, "max_pus = none loads");
	if (cfg) {
		policy_config_user_limit(cfg, &ul);
		is_int(policy_user_limit_pus(&ul, 16), 0, "  none: no per-user limit");
		policy_config_free(cfg);
	}
	reset();
	put("sys/nicely/nicely.conf", "[preset a]\nnice = 3\n");
	put("user/nicely/nicely.conf", "[preset b]\nmax_pus = 1\n");
	is_int(load(&cfg, err, sizeof err), 0, "no [limits]");
	if (cfg) {
		policy_config_user_limit(cfg, &ul);
		is_int(policy_user_limit_pus(&ul, 16), 0,
		       "  a preset's max_pus is not a per-user limit");
		policy_config_free(cfg);
	}

	expect_sys_error("per-user max_pus not a count",
			 "[limits]\nmax_pus = lots\n", 2,
			 "bad value 'lots' for max_pus: not a count (accepted: "
			 "a count 1..100000, a percent 1%..100% of the allowed "
			 "PUs, or none); in [limits] it counts the PUs of all "
			 "of one user's batches together");
	expect_sys_error("per-user max_pus negative", "[limits]\nmax_pus = -2\n",
			 2, "not a count");
	expect_sys_error("per-user max_pus over 100%",
			 "[limits]\nmax_pus = 101%\n", 2, "percent over 100");
	expect_sys_error("per-user max_pus twice",
			 "[limits]\nmax_pus = 2\nmax_pus = 3\n", 3,
			 "'max_pus' set twice in [limits] (first at line 2)");
	expect_error("per-user max_pus in a user file",
		     "[limits]\nmax_pus = 30\n", 1,
		     "[limits] is honoured only in the system files");
}

int main(void)
{
	snprintf(root, sizeof root, "/tmp/nicely-config-test.%d", (int)getpid());
	snprintf(sysdir, sizeof sysdir, "%s/sys", root);
	snprintf(userdir, sizeof userdir, "%s/user", root);
	setenv("NICELY_SYSCONFDIR", sysdir, 1);
	setenv("XDG_CONFIG_HOME", userdir, 1);
	unsetenv("NICELY_CONFIG");
	atexit(cleanup);

	test_errors();
	test_buffer();
	test_builtins();
	test_precedence();
	test_bases();
	test_limits();
	test_limits_more();
	test_files();
	test_files_mode();
	test_user_limit();
	return tap_done();
}
