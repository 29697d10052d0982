/* policy/config_read: reading the config files in the documented order
 * (built-ins, SYSCONFDIR/nicely/nicely.conf, presets.d/ *.conf, the user's
 * file, NICELY_CONFIG, or check-config's files) and each one through
 * libinih's ini_parse_stream with a reader that counts lines, so every
 * value keeps its file:line (Debian's libinih has no INI_HANDLER_LINENO).
 * What the lines mean is config_sections.c's. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <ini.h>

#include "policy/config_bases.h"
#include "policy/config_sections.h"

#define CONFIG_MAX_FILE (1 << 20)	/* bytes: a config file is small */
#define CONFIG_LINE_MAX INI_MAX_LINE

/* The libinih reader: hands inih one line at a time from the buffer,
 * counting lines, without leading blanks (so an indented key is a key, not
 * a continuation), and checks what inih would silently mangle: NUL bytes,
 * over-long lines, lines that are neither a section nor key = value.
 * Such a line is reported here and replaced by an empty one. */
static char *config_reader(char *str, int num, void *stream)
{
	struct config_parse *ps = stream;
	const char *s, *nl, *e;
	size_t n;

	if (ps->pos >= ps->len || num < 3)
		return NULL;
	s = ps->buf + ps->pos;
	nl = memchr(s, '\n', ps->len - ps->pos);
	e = nl ? nl : ps->buf + ps->len;
	ps->pos = (size_t)(e - ps->buf) + (nl ? 1 : 0);
	ps->line++;
	str[0] = 0;
	if (ps->line == 1 && e - s >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
		s += 3;
	if (e > s && e[-1] == '\r')
		e--;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	n = (size_t)(e - s);
	if (memchr(s, 0, n)) {
		config_error(ps->cfg, ps->file, ps->line,
			     "NUL byte in the line (not a text file?)");
		ps->errors++;
		return str;
	}
	if (n > (size_t)num - 2) {
		config_error(ps->cfg, ps->file, ps->line,
			     "line too long (at most %d characters)", num - 2);
		ps->errors++;
		return str;
	}
	if (n == 0 || *s == ';' || *s == '#') {
		memcpy(str, s, n);
		str[n] = 0;
		return str;
	}
	if (*s == '[') {
		const char *close = memchr(s, ']', n);
		char sec[CONFIG_LINE_MAX];
		if (!close) {
			config_error(ps->cfg, ps->file, ps->line,
				     "section header without ']'");
			ps->errors++;
			ps->sec = SEC_BAD;
			return str;
		}
		const char *after = close + 1;
		while (after < s + n && (*after == ' ' || *after == '\t'))
			after++;
		if (after < s + n && *after != ';' && *after != '#') {
			config_error(ps->cfg, ps->file, ps->line,
				     "text after the section header's ']'");
			ps->errors++;
			ps->sec = SEC_BAD;
			return str;
		}
		memcpy(sec, s + 1, (size_t)(close - s - 1));
		sec[close - s - 1] = 0;
		int before = ps->cfg->nerrors;
		config_open_section(ps, sec);
		ps->errors += ps->cfg->nerrors - before;
		/* inih still needs to see a section line; keep it simple */
		memcpy(str, "[s]", 4);
		return str;
	}
	if (!memchr(s, '=', n) && !memchr(s, ':', n)) {
		config_error(ps->cfg, ps->file, ps->line,
			     "expected '[section]' or 'key = value'");
		ps->errors++;
		return str;
	}
	memcpy(str, s, n);
	str[n] = 0;
	return str;
}

/* Parse one buffer; see config.h. */
int policy_config_parse(struct policy_config *cfg, const char *name,
			const char *buf, size_t len, int system)
{
	struct config_parse ps = { .cfg = cfg, .buf = buf, .len = len,
				   .system = system, .sec = SEC_NONE };

	cfg->nparses++;
	ps.file = config_intern(cfg, name);
	if (!ps.file) {
		config_error(cfg, name, 0, "out of memory");
		return 1;
	}
	if (!system)
		config_seal(cfg);
	else if (cfg->sealed) {
		config_error(cfg, name, 0, "system file read after a user file");
		return 1;
	}
	config_unresolve(cfg);
	ini_parse_stream(config_reader, &ps, config_handler, &ps);
	return ps.errors;
}

/* Read a whole file into a new buffer. Returns 0 or -errno. */
static int config_slurp(const char *path, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	size_t n = 0;
	int e = 0, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		e = errno;
	else if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
		st.st_size = 0; /* /dev/null: an empty file, "no config" */
	else if (!S_ISREG(st.st_mode))
		e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
	if (e) {
		close(fd);
		return -e;
	}
	if (st.st_size > CONFIG_MAX_FILE) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			free(buf);
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > (size_t)st.st_size) {	/* grew while reading */
			free(buf);
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	*out = buf;
	*len = n;
	return 0;
}

/* Read and parse one file; see config.h. */
int policy_config_parse_file(struct policy_config *cfg, const char *path,
			     int system, int optional)
{
	char *buf = NULL;
	size_t len = 0;
	int r = config_slurp(path, &buf, &len);

	if (r == -ENOENT && optional)
		return 0;
	if (r < 0) {
		config_error(cfg, path, 0, "cannot read: %s%s", strerror(-r),
			     r == -EFBIG ? " (a config file is at most 1 MiB)" : "");
		return 1;
	}
	r = policy_config_parse(cfg, path, buf, len, system);
	free(buf);
	return r;
}

/* 1 when a .conf file name in presets.d should be read. */
static int config_conf_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 &&
	       !strcmp(d->d_name + n - 5, ".conf");
}

/* Byte order of names, whatever the locale. */
static int config_name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Read the .conf files of presets.d in name order. */
static void config_read_dir(struct policy_config *cfg, const char *dir)
{
	struct dirent **list;
	char path[PATH_MAX];
	int n = scandir(dir, &list, config_conf_name, config_name_cmp);

	if (n < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			config_error(cfg, dir, 0, "cannot read the directory: %s",
				     strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		if (snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name) <
		    (int)sizeof path)
			policy_config_parse_file(cfg, path, 1, 1);
		free(list[i]);
	}
	free(list);
}

/* 1 when path names the same file as one already read. */
static int config_already_read(const struct policy_config *cfg, const char *path)
{
	struct stat a, b;

	if (stat(path, &a) < 0)
		return 0;
	for (size_t i = 0; i < cfg->nfiles; i++)
		if (stat(cfg->files[i], &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			return 1;
	return 0;
}

/* 1 when path lies under dir/ (both made absolute). */
static int config_under(const char *path, const char *dir)
{
	char rp[PATH_MAX], rd[PATH_MAX];
	size_t n;

	if (!realpath(path, rp) || !realpath(dir, rd))
		return 0;
	n = strlen(rd);
	return !strncmp(rp, rd, n) && rp[n] == '/';
}

/* Read every config file in order; see config.h. */
int policy_config_load(struct policy_config **out,
		       const struct policy_config_opts *opts, char *err,
		       size_t errlen)
{
	static const struct policy_config_opts none;
	struct policy_config *cfg;
	char dir[PATH_MAX], path[PATH_MAX];
	const char *sysconf, *env;
	int r;

	if (!opts)
		opts = &none;
	r = policy_config_new(&cfg);
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		return r;
	}
	policy_config_set_report(cfg, opts->report, opts->report_arg);
	sysconf = opts->sysconfdir;
	if (!sysconf || !*sysconf)
		sysconf = getenv("NICELY_SYSCONFDIR");
	if (!sysconf || !*sysconf)
		sysconf = NICELY_SYSCONFDIR;
	if (snprintf(dir, sizeof dir, "%s/nicely", sysconf) >=
	    (int)sizeof dir - 16) {
		snprintf(err, errlen, "%s: path too long", sysconf);
		policy_config_free(cfg);
		return -ENAMETOOLONG;
	}
	if (snprintf(path, sizeof path, "%s/nicely.conf", dir) < (int)sizeof path)
		policy_config_parse_file(cfg, path, 1, 1);
	if (snprintf(path, sizeof path, "%s/presets.d", dir) < (int)sizeof path)
		config_read_dir(cfg, path);

	memcpy(cfg->sysdir, dir, sizeof dir);
	if (opts->nfiles) {
		/* system files first, so they stay before the user's */
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < opts->nfiles; i++) {
				const char *f = opts->files[i];
				int sys = opts->files_system || config_under(f, dir);
				if (sys != !pass || config_already_read(cfg, f))
					continue;
				policy_config_parse_file(cfg, f, sys, 0);
			}
	} else {
		if (!opts->no_user) {
			const char *uf = opts->user_file;
			if (!uf || !*uf) {
				const char *xdg = getenv("XDG_CONFIG_HOME");
				const char *home = getenv("HOME");
				int n = 0;
				if (xdg && *xdg == '/')
					n = snprintf(path, sizeof path,
						     "%s/nicely/nicely.conf", xdg);
				else if (home && *home)
					n = snprintf(path, sizeof path,
						     "%s/.config/nicely/nicely.conf",
						     home);
				if (n <= 0 || n >= (int)sizeof path)
					path[0] = 0;
				uf = path[0] ? path : NULL;
			}
			if (uf)
				policy_config_parse_file(cfg, uf, 0, 1);
		}
		env = opts->extra_file;
		if (!env || !*env)
			env = getenv("NICELY_CONFIG");
		if (env && *env)
			policy_config_parse_file(cfg, env, 0, 0);
	}
	if (policy_config_finish(cfg, err, errlen)) {
		policy_config_free(cfg);
		return -EINVAL;
	}
	*out = cfg;
	return 0;
}
