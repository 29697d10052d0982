/* sched/cli_presets: `nicely presets` (the presets with one-line
 * descriptions, one preset's effective knobs and the file:line each came
 * from, or with --knobs the knob table of policy/presets.c) and `nicely
 * check-config` (validate the config chain or given files, every problem as
 * file:line: message). Text or JSON (jansson). Runs in the CLI process;
 * reads config files only. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy/config.h"
#include "policy/presets.h"
#include "sched/cli/cli.h"
#include "sched/jsonx.h"

/* Problems collected while loading, printed or put in JSON afterwards. */
struct cli_problems {
	json_t *list;		/* array of {file, line, message} */
	size_t n;		/* problems seen (counted even when the JSON
				   could not be built) */
	FILE *echo;		/* print each as it comes, or NULL */
};

/* The report callback: keep (and maybe print) one problem. File names and
 * messages may quote bytes that are not UTF-8: printed as \xHH, in JSON as
 * sched/jsonx.h says. */
static void cli_collect(void *arg, const char *file, int line, const char *msg)
{
	struct cli_problems *p = arg;
	json_t *o = json_object();

	p->n++;
	if (p->echo) {
		char *f = file ? jsonx_visible(file, strlen(file)) : NULL;
		char *m = jsonx_visible(msg, strlen(msg));
		const char *fs = f ? f : file, *ms = m ? m : msg;

		if (file && line > 0)
			fprintf(p->echo, "%s:%d: %s\n", fs, line, ms);
		else if (file)
			fprintf(p->echo, "%s: %s\n", fs, ms);
		else
			fprintf(p->echo, "%s\n", ms);
		free(f);
		free(m);
	}
	if (jsonx_sets(o, "file", file) < 0 ||
	    json_object_set_new(o, "line", json_integer(line)) < 0 ||
	    jsonx_sets(o, "message", msg) < 0) {
		json_decref(o);
		return;
	}
	json_array_append_new(p->list, o);
}

/* Print what, then s for people (bytes that are not UTF-8 as \\xHH). */
static void cli_print_visible(const char *what, const char *s)
{
	char *v = jsonx_visible(s, strlen(s));

	printf("%s%s\n", what, v ? v : s);
	free(v);
}

/* Print a JSON document on stdout. */
static void cli_print_json(json_t *doc)
{
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s) {
		puts(s);
		free(s);
	}
}

/* The help text of `nicely presets`. */
static void presets_usage(FILE *f)
{
	fprintf(f,
		"usage: nicely presets [--json] [--knobs | NAME]\n"
		"\n"
		"Without NAME, list the presets (built-in and from config files)\n"
		"with a one-line description; '*' marks the default. With NAME,\n"
		"show every knob of that preset, its value, and the file:line it\n"
		"came from (or 'built-in'), then what the admin's [limits] change.\n"
		"\n"
		"  --knobs  list the knobs a preset has: what each does, what it\n"
		"           accepts, and which way is politer under [limits]\n"
		"  --json   print JSON\n"
		"  --help   this text\n"
		"\n"
		"Config files: $NICELY_SYSCONFDIR (default " NICELY_SYSCONFDIR
		")/nicely/nicely.conf,\n"
		"presets.d/*.conf there, $XDG_CONFIG_HOME/nicely/nicely.conf, then\n"
		"$NICELY_CONFIG. Exit status: 0 ok, 1 config error or unknown\n"
		"preset, 2 bad arguments.\n");
}

/* Parse --json/--help and, where the pointer is given, --system or
 * --knobs; returns 0, 1 after --help, 2 on a usage error. */
static int cli_parse_common(const char *cmd, int argc, char **argv, int *json,
			    int *system, int *knobs, void (*usage)(FILE *))
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "system", no_argument, NULL, 's' },
		{ "knobs", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = 1;
			break;
		case 's':
			if (!system)
				goto bad;
			*system = 1;
			break;
		case 'k':
			if (!knobs)
				goto bad;
			*knobs = 1;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			goto bad;
		}
	}
	return 0;
bad:
	fprintf(stderr, "nicely %s: unknown option '%s'\n", cmd,
		argv[optind - 1]);
	usage(stderr);
	return 2;
}

/* `nicely presets` without a name: the list. */
static int presets_list(const struct policy_config *cfg, int json)
{
	struct policy_origin dorig;
	struct policy_preset p;
	const char *def = policy_config_default(cfg, &dorig);
	char from[PATH_MAX + 16], limits[1024];

	policy_origin_format(&dorig, from, sizeof from);
	policy_config_describe_limits(cfg, limits, sizeof limits);
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < policy_config_npresets(cfg); i++) {
			const char *name = policy_config_preset_name(cfg, i);
			if (policy_config_preset(cfg, name, &p, NULL) < 0)
				continue;
			json_t *o = json_object();
			jsonx_sets(o, "name", name);
			jsonx_sets(o, "description", p.description);
			json_object_set_new(o, "default",
					    json_boolean(!strcmp(name, def)));
			json_array_append_new(arr, o);
		}
		json_t *doc = json_object();
		json_object_set_new(doc, "presets", arr);
		jsonx_sets(doc, "default", def);
		jsonx_sets(doc, "default_from", from);
		jsonx_sets(doc, "limits", limits);
		cli_print_json(doc);
		json_decref(doc);
		return 0;
	}
	for (size_t i = 0; i < policy_config_npresets(cfg); i++) {
		const char *name = policy_config_preset_name(cfg, i);
		if (policy_config_preset(cfg, name, &p, NULL) < 0)
			continue;
		printf("%-14s%c %s\n", name, strcmp(name, def) ? ' ' : '*',
		       p.description);
	}
	printf("\n* default: %s (%s)\nlimits: %s\n", def, from, limits);
	return 0;
}

/* `nicely presets NAME`: every knob, its value and origin. */
static int presets_show(const struct policy_config *cfg, const char *name,
			int json)
{
	struct policy_preset p, eff;
	struct policy_origin o[PRESETS_NKNOBS];
	struct policy_flags flags = POLICY_FLAGS_INIT;
	char val[200], from[PATH_MAX + 16], warn[1024], err[512];

	if (policy_config_preset(cfg, name, &p, o) < 0) {
		flags.preset = name;
		policy_config_resolve(cfg, &flags, &eff, warn, sizeof warn, err,
				      sizeof err);
		fprintf(stderr, "nicely presets: %s\n", err);
		return 1;
	}
	flags.preset = name;
	flags.insist = 0;
	if (policy_config_resolve(cfg, &flags, &eff, warn, sizeof warn, err,
				  sizeof err) < 0) {
		fprintf(stderr, "nicely presets: %s\n", err);
		return 1;
	}
	if (json) {
		json_t *knobs = json_object();
		for (int k = 0; k < PRESETS_NKNOBS; k++) {
			presets_knob_format(&p, k, val, sizeof val);
			policy_origin_format(&o[k], from, sizeof from);
			json_t *kv = json_object();
			jsonx_sets(kv, "value", val);
			jsonx_sets(kv, "from", from);
			presets_knob_format(&eff, k, from, sizeof from);
			if (strcmp(from, val))
				jsonx_sets(kv, "with_limits", from);
			json_object_set_new(knobs, presets_knob_name(k), kv);
		}
		json_t *doc = json_object();
		jsonx_sets(doc, "name", name);
		json_object_set_new(doc, "knobs", knobs);
		jsonx_sets(doc, "limits_warning", warn);
		cli_print_json(doc);
		json_decref(doc);
		return 0;
	}
	policy_origin_format(&o[PRESETS_DESCRIPTION], from, sizeof from);
	printf("preset %s: %s (%s)\n\n%-18s %-12s %s\n", name, p.description,
	       from, "KNOB", "VALUE", "FROM");
	for (int k = 0; k < PRESETS_NKNOBS; k++) {
		if (k == PRESETS_DESCRIPTION)
			continue;
		presets_knob_format(&p, k, val, sizeof val);
		policy_origin_format(&o[k], from, sizeof from);
		printf("%-18s %-12s %s\n", presets_knob_name(k), val, from);
	}
	if (warn[0])
		printf("\nlimits: %s\n", warn);
	return 0;
}

/* `nicely presets --knobs`: the knob table, one knob after another. */
static int presets_knobs(int json)
{
	if (json) {
		json_t *arr = json_array();
		for (int k = 0; k < PRESETS_NKNOBS; k++) {
			const struct presets_knob *kn = presets_knob(k);
			json_array_append_new(
				arr, json_pack("{s:s, s:s, s:s, s:s}", "name",
					       kn->name, "accepts", kn->accepts,
					       "politer",
					       presets_politer_name(kn->politer),
					       "help", kn->help));
		}
		json_t *doc = json_pack("{s:o}", "knobs", arr);
		cli_print_json(doc);
		json_decref(doc);
		return 0;
	}
	for (int k = 0; k < PRESETS_NKNOBS; k++) {
		const struct presets_knob *kn = presets_knob(k);
		printf("%-18s %s\n%-18s accepts: %s; politer: %s\n", kn->name,
		       kn->help, "", kn->accepts,
		       presets_politer_name(kn->politer));
	}
	return 0;
}

/* `nicely presets [--json] [--knobs | NAME]`. */
int cli_presets(int argc, char **argv)
{
	struct cli_problems pr = { .list = json_array(), .echo = stderr };
	struct policy_config_opts opts = { .report = cli_collect,
					   .report_arg = &pr };
	struct policy_config *cfg;
	char err[512];
	int json = 0, knobs = 0, r;

	r = cli_parse_common("presets", argc, argv, &json, NULL, &knobs,
			     presets_usage);
	if (r) {
		json_decref(pr.list);
		return r == 1 ? 0 : 2;
	}
	if (argc - optind > (knobs ? 0 : 1)) {
		fprintf(stderr, knobs ? "nicely presets: --knobs takes no preset "
					"name\n"
				      : "nicely presets: one preset name at most\n");
		presets_usage(stderr);
		json_decref(pr.list);
		return 2;
	}
	if (knobs) {
		json_decref(pr.list);
		return presets_knobs(json);
	}
	if (policy_config_load(&cfg, &opts, err, sizeof err) < 0) {
		if (!json_array_size(pr.list))
			fprintf(stderr, "%s\n", err);
		fprintf(stderr, "nicely presets: the configuration has errors "
				"(nicely check-config lists them)\n");
		json_decref(pr.list);
		return 1;
	}
	json_decref(pr.list);
	r = optind < argc ? presets_show(cfg, argv[optind], json)
			  : presets_list(cfg, json);
	policy_config_free(cfg);
	return r;
}

/* The help text of `nicely check-config`. */
static void check_usage(FILE *f)
{
	fprintf(f,
		"usage: nicely check-config [--json] [--system] [FILE...]\n"
		"\n"
		"Validate the configuration: the system files, the user's file and\n"
		"$NICELY_CONFIG, or, given FILEs, the system files and then those\n"
		"files. Every problem is printed as file:line: message. A FILE under\n"
		"the system config directory, or any FILE with --system, is checked\n"
		"as a system file (where [limits] is allowed).\n"
		"\n"
		"  --json     print JSON: {ok, problems: [{file, line, message}], ...}\n"
		"  --system   treat the FILEs as system files\n"
		"  --help     this text\n"
		"\n"
		"Exit status: 0 no problem, 1 problems found, 2 bad arguments.\n");
}

/* `nicely check-config [--json] [--system] [FILE...]`. */
int cli_check_config(int argc, char **argv)
{
	int json = 0, system = 0, r;
	struct cli_problems pr = { .list = json_array() };
	struct policy_config_opts opts = { .report = cli_collect,
					   .report_arg = &pr };
	struct policy_config *cfg = NULL;
	struct policy_preset p;
	char err[512], warn[1024];

	r = cli_parse_common("check-config", argc, argv, &json, &system, NULL,
			     check_usage);
	if (r) {
		json_decref(pr.list);
		return r == 1 ? 0 : 2;
	}
	if (!json)
		pr.echo = stdout;
	opts.files = (const char *const *)argv + optind;
	opts.nfiles = (size_t)(argc - optind);
	opts.files_system = system;
	warn[0] = 0;
	r = policy_config_load(&cfg, &opts, err, sizeof err);
	if (r < 0 && !pr.n)
		cli_collect(&pr, NULL, 0, err);
	if (r == 0 && policy_config_resolve(cfg, NULL, &p, warn, sizeof warn, err,
					    sizeof err) < 0)
		cli_collect(&pr, NULL, 0, err);
	/* a configuration that did not load is never "ok", whatever the
	 * problem list could hold */
	size_t nprob = pr.n ? pr.n : r < 0;
	if (json) {
		json_t *doc = json_object();
		size_t nf = cfg ? policy_config_nfiles(cfg) : 0;
		const char **fv = calloc(nf ? nf : 1, sizeof *fv);

		for (size_t i = 0; fv && i < nf; i++)
			fv[i] = policy_config_file(cfg, i);
		json_object_set_new(doc, "ok", json_boolean(nprob == 0));
		if (!fv || jsonx_set_array(doc, "files", fv, nf) < 0 ||
		    json_object_set(doc, "problems", pr.list) < 0 ||
		    jsonx_sets(doc, "default", cfg ? policy_config_default(cfg,
								      NULL)
						   : NULL) < 0 ||
		    jsonx_sets(doc, "warning", warn) < 0) {
			fprintf(stderr, "nicely check-config: out of memory\n");
			nprob = nprob ? nprob : 1;
		} else {
			cli_print_json(doc);
		}
		free(fv);
		json_decref(doc);
	} else if (nprob) {
		printf("%zu problem%s: nothing will start with this configuration\n",
		       nprob, nprob == 1 ? "" : "s");
	} else {
		for (size_t i = 0; i < policy_config_nfiles(cfg); i++)
			cli_print_visible("read ", policy_config_file(cfg, i));
		if (warn[0])
			cli_print_visible("warning: ", warn);
		char *d = jsonx_visible(policy_config_default(cfg, NULL),
					strlen(policy_config_default(cfg, NULL)));
		printf("ok: %zu file%s, %zu presets, default preset %s\n",
		       policy_config_nfiles(cfg),
		       policy_config_nfiles(cfg) == 1 ? "" : "s",
		       policy_config_npresets(cfg),
		       d ? d : policy_config_default(cfg, NULL));
		free(d);
	}
	json_decref(pr.list);
	policy_config_free(cfg);
	return nprob ? 1 : 0;
}
